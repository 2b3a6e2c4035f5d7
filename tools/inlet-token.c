/*
 * inlet-token - the operator's tool for device credentials.
 *
 *   inlet-token new [--device D]      a random opaque token and the tenant-file lines for it
 *   inlet-token hash <token> | -      SHA-256 of a token (from stdin with -)
 *   inlet-token jwt -c DIR --tenant T --device D [--kid K] [--ttl 1h] [--aud A]
 *                                     a JWT signed with a key of tenant T, checked against the
 *                                     configuration the way inletd would check it
 *
 * Exit status: 0 ok, 1 usage, 2 error.
 */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "config/confdir.h"
#include "config/config.h"
#include "identity/device_id.h"
#include "identity/jwt.h"
#include "identity/tenant.h"

#define EXIT_USAGE     1
#define EXIT_ERROR     2
#define TOKEN_BYTES    32
#define TOKEN_MAX      8192
#define DEFAULT_TTL_MS (3600 * 1000LL)

static void usage(FILE *out)
{
    fputs("usage: inlet-token new [--device D]\n"
          "       inlet-token hash <token> | -\n"
          "       inlet-token jwt -c <config-dir> --tenant T --device D [--kid K] [--ttl 1h]\n"
          "                       [--aud A]\n"
          "\n"
          "new   prints a random 32-byte token (base64url) on the first line, then the YAML\n"
          "      lines to paste under \"tokens:\" in the tenant file. Only the hash is stored.\n"
          "hash  prints the SHA-256 (hex) of a token; \"-\" reads it from stdin.\n"
          "jwt   loads <config-dir>/conf.d/*.yaml and <config-dir>/tenants/*.yaml (and the\n"
          "      tenants_dir of inletd.yaml), signs a token with tenant T's key (--kid, or the\n"
          "      first key that can sign: secret_file or private_key_file), with iss, aud, the\n"
          "      device claim, iat and exp (now + --ttl, default 1h), verifies it as inletd\n"
          "      would and prints it.\n"
          "\n"
          "exit status: 0 ok, 1 usage, 2 error\n",
          out);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("inlet-token: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(inlet-token --help shows the usage)\n", stderr);
    return EXIT_USAGE;
}

static int cmd_new(int argc, char **argv)
{
    unsigned char raw[TOKEN_BYTES];
    char token[INLET_BASE64URL_LEN(TOKEN_BYTES) + 1], hex[65];
    const char *device = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            device = argv[++i];
        else if (strncmp(argv[i], "--device=", 9) == 0)
            device = argv[i] + 9;
        else
            return usage_error("new: unexpected argument \"%s\"", argv[i]);
    }
    if (device && inlet_device_id_check(device, strlen(device))) {
        fprintf(stderr, "inlet-token: device id \"%s\" %s\n", device,
                inlet_device_id_check(device, strlen(device)));
        return EXIT_ERROR;
    }
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        fputs("inlet-token: no randomness available\n", stderr);
        return EXIT_ERROR;
    }
    inlet_base64url_encode(raw, sizeof(raw), token, sizeof(token));
    OPENSSL_cleanse(raw, sizeof(raw));
    inlet_token_hash_hex(token, strlen(token), hex);
    printf("%s\n", token);
    printf("# paste under \"tokens:\" in the tenant file; give the token above to the device\n");
    printf("- sha256: %s\n", hex);
    if (device) {
        /* A JSON string is a valid YAML double-quoted scalar, escapes included. */
        json_t *s = json_string(device);
        char *quoted = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
        printf("  device: %s\n", quoted ? quoted : "\"\"");
        free(quoted);
        json_decref(s);
    } else {
        printf("#  device: <device id>\n");
    }
    OPENSSL_cleanse(token, sizeof(token));
    return 0;
}

static int cmd_hash(int argc, char **argv)
{
    char buf[TOKEN_MAX + 2], hex[65];
    const char *token;
    size_t len;

    if (argc != 2)
        return usage_error("hash: expected one token or \"-\"");
    if (strcmp(argv[1], "-") == 0) {
        len = fread(buf, 1, sizeof(buf) - 1, stdin);
        if (len > TOKEN_MAX) {
            fprintf(stderr, "inlet-token: token longer than %d bytes\n", TOKEN_MAX);
            return EXIT_ERROR;
        }
        /* One trailing line end is the shell's, not the token's. */
        if (len && buf[len - 1] == '\n')
            len--;
        if (len && buf[len - 1] == '\r')
            len--;
        buf[len] = '\0';
        token = buf;
    } else {
        token = argv[1];
        len = strlen(token);
    }
    if (len == 0) {
        fputs("inlet-token: empty token\n", stderr);
        return EXIT_ERROR;
    }
    inlet_token_hash_hex(token, len, hex);
    OPENSSL_cleanse(buf, sizeof(buf));
    printf("%s\n", hex);
    return 0;
}

/* Every tenant file of a configuration directory, applied to inlet_tenant_options. */
typedef struct tenant_files {
    inlet_tenant_conf **confs;
    char **origins;
    size_t n;
} tenant_files;

static void tenant_files_free(tenant_files *tf)
{
    for (size_t i = 0; i < tf->n; i++) {
        inlet_conf_release(inlet_tenant_options, tf->confs[i]);
        free(tf->confs[i]);
        free(tf->origins[i]);
    }
    free(tf->confs);
    free(tf->origins);
}

static int tenant_file_add(tenant_files *tf, const char *path, char *err, size_t err_len)
{
    inlet_conf_file *f = NULL;
    const inlet_conf_node *root, *name;
    inlet_tenant_conf *conf = NULL;
    char *origin = NULL;
    int rc = -1;

    if (inlet_conf_load(path, &f, err, err_len))
        return -1;
    root = inlet_conf_root(f);
    name = root ? inlet_conf_get(f, root, "tenant") : NULL;
    if (!name) {
        rc = 0; /* a module's file */
        goto done;
    }
    inlet_tenant_conf **confs = realloc(tf->confs, (tf->n + 1) * sizeof(*confs));
    if (confs)
        tf->confs = confs;
    char **origins = realloc(tf->origins, (tf->n + 1) * sizeof(*origins));
    if (origins)
        tf->origins = origins;
    conf = calloc(1, sizeof(*conf));
    if (!confs || !origins || !conf ||
        asprintf(&origin, "%s:%d", path, inlet_conf_line(f, name)) < 0) {
        origin = NULL;
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    if (inlet_conf_apply(f, root, inlet_tenant_options, conf, NULL, err, err_len))
        goto done;
    tf->confs[tf->n] = conf;
    tf->origins[tf->n] = origin;
    tf->n++;
    conf = NULL;
    origin = NULL;
    rc = 0;
done:
    free(conf);
    free(origin);
    inlet_conf_file_free(f);
    return rc;
}

static int tenant_dir_add(tenant_files *tf, const char *dir, char *err, size_t err_len)
{
    char **paths = NULL;
    size_t n = 0;
    int rc = 0;

    if (inlet_confdir_list(dir, 1, &paths, &n, err, err_len))
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = tenant_file_add(tf, paths[i], err, err_len);
    inlet_confdir_free(paths, n);
    return rc;
}

/* inletd.yaml may name a further tenants_dir, relative to the configuration directory. */
static int tenants_dir_of(const char *config_dir, char *out, size_t out_len, char *err,
                          size_t err_len)
{
    char path[PATH_MAX];
    inlet_conf_file *f = NULL;
    FILE *probe;
    const char *dir;

    out[0] = '\0';
    snprintf(path, sizeof(path), "%s/inletd.yaml", config_dir);
    probe = fopen(path, "r");
    if (!probe)
        return 0;
    fclose(probe);
    if (inlet_conf_load(path, &f, err, err_len))
        return -1;
    const inlet_conf_node *root = inlet_conf_root(f);
    dir = root ? inlet_conf_scalar(f, inlet_conf_get(f, root, "tenants_dir")) : NULL;
    if (dir && dir[0])
        snprintf(out, out_len, "%s%s%s", dir[0] == '/' ? "" : config_dir, dir[0] == '/' ? "" : "/",
                 dir);
    inlet_conf_file_free(f);
    return 0;
}

static int same_dir(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

static int tenant_files_load(tenant_files *tf, const char *config_dir, char *err, size_t err_len)
{
    char confd[PATH_MAX], tenants[PATH_MAX], extra[PATH_MAX];

    snprintf(confd, sizeof(confd), "%s/conf.d", config_dir);
    snprintf(tenants, sizeof(tenants), "%s/tenants", config_dir);
    if (tenants_dir_of(config_dir, extra, sizeof(extra), err, err_len) ||
        tenant_dir_add(tf, confd, err, err_len) || tenant_dir_add(tf, tenants, err, err_len))
        return -1;
    if (extra[0] && !same_dir(extra, tenants) && !same_dir(extra, confd))
        return tenant_dir_add(tf, extra, err, err_len);
    return 0;
}

static const inlet_jwt_key_conf *key_pick(const inlet_tenant_conf *t, const char *kid)
{
    const inlet_jwt_key_conf *keys = t->jwt.items;

    for (size_t i = 0; i < t->jwt.count; i++) {
        const inlet_jwt_key_conf *k = &keys[i];
        if (kid) {
            if (k->kid && strcmp(k->kid, kid) == 0)
                return k;
        } else if (k->alg == INLET_JWT_HS256 ? k->secret_file != NULL
                                             : k->private_key_file != NULL) {
            return k;
        }
    }
    return NULL;
}

static char *claims_make(const inlet_jwt_key_conf *k, const char *device, const char *aud,
                         int64_t now, int64_t ttl_s)
{
    json_t *c = json_object();
    const char *claim = k->device_claim && k->device_claim[0] ? k->device_claim : "sub";
    char *text = NULL;

    if (!c)
        return NULL;
    if (!aud && k->audience.count)
        aud = k->audience.items[0];
    if ((k->issuer && json_object_set_new(c, "iss", json_string(k->issuer))) ||
        (aud && json_object_set_new(c, "aud", json_string(aud))) ||
        json_object_set_new(c, "sub", json_string(device)) ||
        json_object_set_new(c, claim, json_string(device)) ||
        json_object_set_new(c, "iat", json_integer(now)) ||
        json_object_set_new(c, "exp", json_integer(now + ttl_s)))
        goto done;
    text = json_dumps(c, JSON_COMPACT);
done:
    json_decref(c);
    return text;
}

static int cmd_jwt(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"tenant", required_argument, NULL, 't'},
        {"device", required_argument, NULL, 'd'}, {"kid", required_argument, NULL, 'k'},
        {"ttl", required_argument, NULL, 'l'},    {"aud", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *config_dir = NULL, *tenant = NULL, *device = NULL, *kid = NULL, *aud = NULL;
    const char *ttl_text = NULL;
    int64_t ttl_ms = DEFAULT_TTL_MS;
    tenant_files tf = {0};
    const inlet_tenant_conf *t = NULL;
    const inlet_jwt_key_conf *key;
    inlet_tenants *ts = NULL;
    inlet_identity *id = NULL;
    char err[1024], *claims = NULL, *token = NULL;
    int opt, rc = EXIT_ERROR;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_dir = optarg;
            break;
        case 't':
            tenant = optarg;
            break;
        case 'd':
            device = optarg;
            break;
        case 'k':
            kid = optarg;
            break;
        case 'l':
            ttl_text = optarg;
            break;
        case 'a':
            aud = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc)
        return usage_error("jwt: unexpected argument \"%s\"", argv[optind]);
    if (!config_dir || !tenant || !device)
        return usage_error("jwt: -c, --tenant and --device are required");
    if (ttl_text && (inlet_conf_parse_duration_ms(ttl_text, &ttl_ms) || ttl_ms < 1000))
        return usage_error("jwt: --ttl \"%s\" is not a duration of at least 1s", ttl_text);

    if (tenant_files_load(&tf, config_dir, err, sizeof(err))) {
        fprintf(stderr, "inlet-token: %s\n", err);
        goto done;
    }
    for (size_t i = 0; i < tf.n; i++) {
        if (strcmp(tf.confs[i]->name, tenant) == 0)
            t = tf.confs[i];
    }
    if (!t) {
        fprintf(stderr, "inlet-token: no tenant \"%s\" in %s/conf.d or %s/tenants\n", tenant,
                config_dir, config_dir);
        goto done;
    }
    key = key_pick(t, kid);
    if (!key) {
        if (kid)
            fprintf(stderr, "inlet-token: tenant %s has no jwt key with kid \"%s\"\n", tenant, kid);
        else
            fprintf(stderr,
                    "inlet-token: tenant %s has no jwt key that can sign (HS256 with secret_file, "
                    "RS256/ES256 with private_key_file)\n",
                    tenant);
        goto done;
    }
    if (key->max_lifetime_ms > 0 && ttl_ms > key->max_lifetime_ms) {
        if (ttl_text) {
            fprintf(stderr, "inlet-token: --ttl exceeds the key's max_lifetime\n");
            goto done;
        }
        ttl_ms = key->max_lifetime_ms;
    }

    int64_t now = (int64_t)time(NULL);
    claims = claims_make(key, device, aud, now, ttl_ms / 1000);
    if (!claims) {
        fputs("inlet-token: out of memory\n", stderr);
        goto done;
    }
    if (inlet_jwt_sign(key, claims, &token, err, sizeof(err))) {
        fprintf(stderr, "inlet-token: tenant %s: %s\n", tenant, err);
        goto done;
    }
    /* Check the token the way inletd will: a key pair that does not match, a bad device id or
     * an audience the key does not accept is found here rather than by the device. */
    if (inlet_tenants_build((const inlet_tenant_conf *const *)tf.confs,
                            (const char *const *)tf.origins, tf.n, &ts, err, sizeof(err))) {
        fprintf(stderr, "inlet-token: %s\n", err);
        goto done;
    }
    if (inlet_tenants_auth_bearer(ts, token, strlen(token), now, &id, err, sizeof(err)) !=
        INLET_OK) {
        fprintf(stderr, "inlet-token: inletd would refuse this token: %s\n", err);
        goto done;
    }
    if (strcmp(id->tenant, tenant) != 0) {
        fprintf(stderr, "inlet-token: the token would authenticate tenant %s, not %s\n", id->tenant,
                tenant);
        goto done;
    }
    printf("%s\n", token);
    rc = 0;
done:
    inlet_identity_release(id);
    inlet_tenants_release(ts);
    free(token);
    free(claims);
    tenant_files_free(&tf);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "new") == 0)
        return cmd_new(argc - 1, argv + 1);
    if (strcmp(argv[1], "hash") == 0)
        return cmd_hash(argc - 1, argv + 1);
    if (strcmp(argv[1], "jwt") == 0)
        return cmd_jwt(argc - 1, argv + 1);
    return usage_error("unknown command \"%s\"", argv[1]);
}

/* test_config_check.c - the whole-file check: every error of a file in one apply, each at its
 * key's line; the ABI 1.5 per-option checks of a tiny fake module descriptor, called once per
 * occurrence and reported with the key's own line; and the line of a key by its dotted path. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check/module_conf.h"
#include "config/config.h"

typedef struct fake_topic {
    char *name;
    int64_t partitions;
} fake_topic;

typedef struct fake_tls {
    char *cert;
} fake_tls;

typedef struct fake_conf {
    char *listen;
    int64_t threads;
    fake_tls tls;
    inlet_section_list topics;
} fake_conf;

static const inlet_option tls_options[] = {
    {.name = "cert", .type = INLET_OPT_STRING, .offset = offsetof(fake_tls, cert)},
    INLET_OPTIONS_END,
};

static const inlet_option topic_options[] = {
    {.name = "name", .type = INLET_OPT_STRING, .offset = offsetof(fake_topic, name)},
    {.name = "partitions",
     .type = INLET_OPT_INT,
     .offset = offsetof(fake_topic, partitions),
     .default_value = "1",
     .min = 1,
     .max = 100},
    INLET_OPTIONS_END,
};

static const inlet_option fake_options[] = {
    {.name = "listen", .type = INLET_OPT_STRING, .offset = offsetof(fake_conf, listen)},
    {.name = "threads",
     .type = INLET_OPT_INT,
     .offset = offsetof(fake_conf, threads),
     .default_value = "2",
     .min = 1,
     .max = 64},
    {.name = "tls",
     .type = INLET_OPT_SECTION,
     .offset = offsetof(fake_conf, tls),
     .section = tls_options},
    {.name = "topics",
     .type = INLET_OPT_SECTION_LIST,
     .offset = offsetof(fake_conf, topics),
     .section = topic_options,
     .section_size = sizeof(fake_topic)},
    INLET_OPTIONS_END,
};

static int calls_name, calls_threads;

static int check_listen(const void *value, const void *item, char *err, size_t err_len)
{
    const char *s = *(char *const *)value;
    (void)item;
    if (s && strchr(s, ':'))
        return 0;
    snprintf(err, err_len, "expected host:port, got \"%s\"", s ? s : "");
    return -1;
}

static int check_threads(const void *value, const void *item, char *err, size_t err_len)
{
    const fake_conf *c = item;
    calls_threads++;
    if (*(const int64_t *)value % 2 == 0 && c->threads == *(const int64_t *)value)
        return 0;
    snprintf(err, err_len, "must be even");
    return -1;
}

static int check_topic_name(const void *value, const void *item, char *err, size_t err_len)
{
    const fake_topic *t = item;
    calls_name++;
    if (t->name == *(char *const *)value && t->name && strncmp(t->name, "ok.", 3) == 0)
        return 0;
    snprintf(err, err_len, "must start with ok.");
    return -1;
}

static int check_cert(const void *value, const void *item, char *err, size_t err_len)
{
    (void)item;
    if (*(char *const *)value)
        return 0;
    snprintf(err, err_len, "unreachable: tls.cert was not given and has no default");
    return -1;
}

static const inlet_option_check fake_checks[] = {
    {"listen", check_listen}, {"threads", check_threads}, {"topics.name", check_topic_name},
    {"tls.cert", check_cert}, INLET_OPTION_CHECKS_END,
};

static const inlet_module_desc fake_desc = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = INLET_ABI_MINOR,
    .size = sizeof(inlet_module_desc),
    .name = "fake",
    .options = fake_options,
    .config_size = sizeof(fake_conf),
    .option_checks = fake_checks,
};

static inlet_conf_file *load(const char *text)
{
    inlet_conf_file *f = NULL;
    char err[256];
    if (inlet_conf_load_string("fake.yaml", text, strlen(text), &f, err, sizeof(err)) != 0)
        fprintf(stderr, "%s\n", err);
    return f;
}

static void test_every_error_of_a_file(void)
{
    /* three bad keys, one bad item key, one missing required key: all reported */
    inlet_conf_file *f = load("listen: a\n"
                              "threads: 0\n"
                              "colour: red\n"
                              "topics:\n"
                              "  - name: ok.a\n"
                              "    partitions: 500\n"
                              "  - nmae: x\n");
    inlet_conf_errors *errs = inlet_conf_errors_new();
    fake_conf c;
    memset(&c, 0, sizeof(c));
    CHECK(f != NULL);
    CHECK(inlet_conf_apply_all(f, inlet_conf_root(f), fake_options, &c, NULL, NULL, errs) == 4);
    CHECK(inlet_conf_errors_count(errs) == 4);
    CHECK_CONTAINS(inlet_conf_errors_get(errs, 0), "fake.yaml:2: threads: ");
    CHECK_CONTAINS(inlet_conf_errors_get(errs, 1), "fake.yaml:3: colour: unknown option");
    CHECK_CONTAINS(inlet_conf_errors_get(errs, 2), "fake.yaml:6: topics[0].partitions: ");
    CHECK_CONTAINS(inlet_conf_errors_get(errs, 3), "fake.yaml:7: topics[1].nmae: unknown option");
    CHECK(c.listen == NULL && c.topics.items == NULL); /* released */
    inlet_conf_errors_free(errs);
    inlet_conf_file_free(f);
}

static void test_option_checks_each_occurrence_with_its_line(void)
{
    inlet_conf_file *f = load("# a comment\n"
                              "listen: nowhere\n"
                              "topics:\n"
                              "  - name: ok.a\n"
                              "  - partitions: 3\n"
                              "    name: bad.b\n"
                              "  - name: ok.c\n");
    inlet_conf_errors *errs = inlet_conf_errors_new();
    inlet_conf_marks *marks = inlet_conf_marks_new("fake.yaml");
    fake_conf c;
    memset(&c, 0, sizeof(c));
    calls_name = calls_threads = 0;
    CHECK(inlet_module_option_checks(&fake_desc) == fake_checks);
    /* listen fails at line 2; threads (default 2, absent) is checked once and passes; topics[1]
     * fails at its own name line 6; tls.cert is absent without a default: not called */
    CHECK(inlet_module_conf_apply(f, &fake_desc, &c, NULL, marks, errs) == 2);
    CHECK(calls_name == 3);
    CHECK(calls_threads == 1);
    CHECK(inlet_conf_errors_count(errs) == 2);
    CHECK_STR(inlet_conf_errors_get(errs, 0),
              "fake.yaml:2: listen: expected host:port, got \"nowhere\"");
    CHECK_STR(inlet_conf_errors_get(errs, 1), "fake.yaml:6: topics[1].name: must start with ok.");
    CHECK(inlet_conf_path_line(fake_options, &c, marks, "topics[2].name", 14) == 7);
    CHECK(inlet_conf_path_line(fake_options, &c, marks, "topics[1]", 9) == 5);
    CHECK(inlet_conf_path_line(fake_options, &c, marks, "listen", 6) == 2);
    CHECK(inlet_conf_path_line(fake_options, &c, marks, "threads", 7) == 0);
    inlet_conf_release(fake_options, &c);
    inlet_conf_errors_free(errs);
    inlet_conf_marks_free(marks);
    inlet_conf_file_free(f);
}

static void test_create_error_moves_to_its_key(void)
{
    inlet_conf_file *f = load("module: fake\nlisten: a:1\ntls:\n  cert: /nope\n");
    inlet_conf_errors *errs = inlet_conf_errors_new();
    inlet_conf_marks *marks = inlet_conf_marks_new("fake.yaml");
    fake_conf c;
    const char *const skip[] = {"module", NULL};
    memset(&c, 0, sizeof(c));
    CHECK(inlet_module_conf_apply(f, &fake_desc, &c, skip, marks, errs) == 0);
    inlet_module_conf_error(&fake_desc, &c, marks, 1, "tls.cert: cannot read /nope", errs);
    inlet_module_conf_error(&fake_desc, &c, marks, 1, "out of memory", errs);
    CHECK_STR(inlet_conf_errors_get(errs, 0),
              "fake.yaml:4: module fake: tls.cert: cannot read /nope");
    CHECK_STR(inlet_conf_errors_get(errs, 1), "fake.yaml:1: module fake: out of memory");
    inlet_conf_release(fake_options, &c);
    inlet_conf_errors_free(errs);
    inlet_conf_marks_free(marks);
    inlet_conf_file_free(f);
}

static void test_older_descriptor_has_no_checks(void)
{
    inlet_module_desc old = fake_desc;
    old.abi_minor = 4;
    CHECK(inlet_module_option_checks(&old) == NULL);
    old.abi_minor = INLET_ABI_MINOR;
    old.size = (uint32_t)offsetof(inlet_module_desc, option_checks);
    CHECK(inlet_module_option_checks(&old) == NULL);
}

int main(void)
{
    test_every_error_of_a_file();
    test_option_checks_each_occurrence_with_its_line();
    test_create_error_moves_to_its_key();
    test_older_descriptor_has_no_checks();
    return check_done();
}

/* rejected.c - see rejected.h. */
#include "rejected.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define REJECTED_DIR "rejected"

int inlet_spool_rejected_open(inlet_spool_rejected *r, int spool_dirfd, uint64_t max_bytes)
{
    r->dirfd = -1;
    r->bytes = 0;
    r->max_bytes = max_bytes;
    if (mkdirat(spool_dirfd, REJECTED_DIR, 0700) != 0 && errno != EEXIST)
        return -1;
    int fd = openat(spool_dirfd, REJECTED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int scan = dup(fd);
    DIR *d = scan >= 0 ? fdopendir(scan) : NULL;
    if (!d) {
        if (scan >= 0)
            close(scan);
        close(fd);
        return -1;
    }
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && fstatat(fd, e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
            r->bytes += (uint64_t)st.st_size;
    closedir(d);
    r->dirfd = fd;
    return 0;
}

void inlet_spool_rejected_close(inlet_spool_rejected *r)
{
    if (r->dirfd >= 0)
        close(r->dirfd);
    r->dirfd = -1;
}

/* A JSON string of p[0..n), or, when it is not UTF-8, its hex digits under name_hex. */
static void set_text(json_t *o, const char *name, const char *p, size_t n)
{
    json_t *s = json_stringn(p, n);
    if (s) {
        json_object_set_new(o, name, s);
        return;
    }
    char key[128];
    char *hex = malloc(2 * n + 1);
    if (!hex)
        return;
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)p[i]);
    snprintf(key, sizeof(key), "%s_hex", name);
    json_object_set_new(o, key, json_stringn(hex, 2 * n));
    free(hex);
}

/* Write and fsync one file of rejected/; 0, or -1 with errno. */
static int write_file(int dirfd, const char *name, const void *p, size_t n)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            errno = e;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return close(fd);
}

static char *describe(uint64_t seq, const inlet_spool_record *rec, const char *why,
                      const char *value_file)
{
    json_t *o = json_object(), *h = json_object();
    if (!o || !h) {
        json_decref(o);
        json_decref(h);
        return NULL;
    }
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    set_text(o, "topic", rec->topic, rec->topic_len);
    set_text(o, "key", rec->key, rec->key_len);
    json_object_set_new(o, "spooled_at_us", json_integer((json_int_t)rec->spooled_at_us));
    json_object_set_new(o, "error", json_string(why ? why : "refused by Kafka"));
    json_object_set_new(o, "value_file", json_string(value_file));
    json_object_set_new(o, "value_bytes", json_integer((json_int_t)rec->value_len));
    inlet_spool_header_iter it;
    inlet_spool_header hd;
    inlet_spool_header_iter_init(&it, rec);
    while (inlet_spool_header_next(&it, &hd)) {
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)hd.name_len, hd.name);
        if (hd.value)
            set_text(h, name, hd.value, hd.value_len);
        else
            json_object_set_new(h, name, json_null());
    }
    json_object_set_new(o, "headers", h);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(o);
    return text;
}

inlet_rejected_status inlet_spool_rejected_keep(inlet_spool_rejected *r, uint64_t seq,
                                                const inlet_spool_record *rec, const char *why)
{
    char value_name[48], meta_name[48];
    inlet_rejected_status st = INLET_REJECTED_IOERR;
    if (r->dirfd < 0) {
        errno = EBADF;
        return INLET_REJECTED_IOERR;
    }
    snprintf(value_name, sizeof(value_name), "%020" PRIu64 ".value", seq);
    snprintf(meta_name, sizeof(meta_name), "%020" PRIu64 ".json", seq);
    char *meta = describe(seq, rec, why, value_name);
    if (!meta) {
        errno = ENOMEM;
        return INLET_REJECTED_IOERR;
    }
    size_t meta_len = strlen(meta);
    if (r->bytes + rec->value_len + meta_len > r->max_bytes) {
        st = INLET_REJECTED_FULL;
        goto out;
    }
    /* The value first: a .json names a complete .value. */
    if (write_file(r->dirfd, value_name, rec->value ? rec->value : "", rec->value_len) != 0 ||
        write_file(r->dirfd, meta_name, meta, meta_len) != 0 || fsync(r->dirfd) != 0) {
        int e = errno;
        unlinkat(r->dirfd, meta_name, 0);
        unlinkat(r->dirfd, value_name, 0);
        errno = e;
        goto out;
    }
    r->bytes += rec->value_len + meta_len;
    st = INLET_REJECTED_KEPT;
out:
    free(meta);
    return st;
}

/*
 * file_read.c - reading a whole file of bounded size into memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_read.h"
#include "ident_error.h"

int inlet_file_read(const char *path, size_t max, unsigned char **out, size_t *out_len, char *err,
                    size_t err_len)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");

    *out = NULL;
    *out_len = 0;
    if (!f)
        return inlet_ident_errf(err, err_len, "%s: %s", path, strerror(errno));
    buf = malloc(max + 2);
    if (!buf)
        goto fail_oom;
    /* One byte more than allowed tells "exactly max" from "too large". */
    len = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        inlet_ident_errf(err, err_len, "%s: read error", path);
        goto fail;
    }
    if (len > max) {
        inlet_ident_errf(err, err_len, "%s: larger than %zu bytes", path, max);
        goto fail;
    }
    fclose(f);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;

fail_oom:
    inlet_ident_errf(err, err_len, "%s: out of memory", path);
fail:
    free(buf);
    fclose(f);
    return -1;
}

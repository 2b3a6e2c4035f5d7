/*
 * psk_key.c - a device's DTLS pre-shared key from its psk_file: permissions checked, hex or raw.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "file_read.h"
#include "ident_error.h"
#include "psk_key.h"

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex when every byte (before one optional trailing newline) is a hex digit, in pairs. */
static size_t hex_digits(const unsigned char *b, size_t n)
{
    if (n > 0 && b[n - 1] == '\n')
        n--;
    if (n == 0 || n % 2 != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (hex_value(b[i]) < 0)
            return 0;
    return n;
}

int inlet_psk_key_load(const char *path, unsigned char **key, size_t *len, char *err,
                       size_t err_len)
{
    struct stat st;
    unsigned char *raw = NULL;
    size_t raw_len = 0;

    *key = NULL;
    *len = 0;
    if (stat(path, &st) != 0)
        return inlet_ident_errf(err, err_len, "%s: %s", path, strerror(errno));
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return inlet_ident_errf(err, err_len,
                                "%s: mode %04o lets group or others read the key (chmod 600)", path,
                                (unsigned)(st.st_mode & 07777));
    /* Hex doubles the size, plus a newline. */
    if (inlet_file_read(path, INLET_PSK_MAX * 2 + 1, &raw, &raw_len, err, err_len))
        return -1;
    size_t digits = hex_digits(raw, raw_len);
    if (digits > 0) {
        for (size_t i = 0; i < digits / 2; i++)
            raw[i] = (unsigned char)(hex_value(raw[2 * i]) << 4 | hex_value(raw[2 * i + 1]));
        OPENSSL_cleanse(raw + digits / 2, raw_len - digits / 2);
        raw_len = digits / 2;
    }
    if (raw_len == 0 || raw_len > INLET_PSK_MAX) {
        OPENSSL_cleanse(raw, raw_len);
        free(raw);
        return inlet_ident_errf(err, err_len, "%s: a key is 1..%d bytes", path, INLET_PSK_MAX);
    }
    *key = raw;
    *len = raw_len;
    return 0;
}

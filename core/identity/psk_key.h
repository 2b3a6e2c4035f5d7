/*
 * psk_key.h - loading a device's DTLS pre-shared key from its psk_file. Private to identity/.
 */
#ifndef INLET_PSK_KEY_H
#define INLET_PSK_KEY_H

#include <stddef.h>

/* Longest key accepted: DTLS 1.2 PSKs are at most 64 bytes in OpenSSL (PSK_MAX_PSK_LEN is 512,
 * but libcoap 4.3.1 copies the key into a 64-byte buffer on some paths; keep the smaller). */
#define INLET_PSK_MAX 64

/*
 * Read the key at path: a file of hex digits (even count, one trailing newline allowed) is
 * decoded, anything else is the key as stored. Refused when group or others may read it (a
 * shared secret in a world-readable file is not secret), when it is empty or longer than
 * INLET_PSK_MAX. On success *key is malloc'd (the caller cleanses and frees it).
 */
int inlet_psk_key_load(const char *path, unsigned char **key, size_t *len, char *err,
                       size_t err_len);

#endif

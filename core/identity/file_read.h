/*
 * file_read.h - reading a whole, bounded file: key material, secrets and CA bundles named in
 * tenant files.
 */
#ifndef INLET_FILE_READ_H
#define INLET_FILE_READ_H

#include <stddef.h>

/*
 * Read all of path, refusing more than max bytes. On success *out is malloc'd, NUL-terminated
 * (the NUL is not counted in *out_len) and owned by the caller; a caller reading a secret
 * cleanses it before free. On failure *out is NULL and err says why, naming the path.
 */
int inlet_file_read(const char *path, size_t max, unsigned char **out, size_t *out_len, char *err,
                    size_t err_len);

#endif

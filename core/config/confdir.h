/* confdir.h - list the configuration files of a directory in name order. */
#ifndef INLET_CONFDIR_H
#define INLET_CONFDIR_H

#include <stddef.h>

/* *paths receives n malloc'd "dir/name" strings (free with inlet_confdir_free); a missing
 * directory is an empty list when optional, an error otherwise. */
int inlet_confdir_list(const char *dir, int optional, char ***paths, size_t *n, char *err,
                       size_t err_len);
/* The same for files ending in ext (e.g. ".so"). */
int inlet_confdir_list_ext(const char *dir, const char *ext, int optional, char ***paths, size_t *n,
                           char *err, size_t err_len);
void inlet_confdir_free(char **paths, size_t n);

#endif

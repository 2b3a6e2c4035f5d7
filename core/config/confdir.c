/* confdir.c - see confdir.h. */
#include "confdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return name[0] != '.' && n > e && strcmp(name + n - e, ext) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int inlet_confdir_list(const char *dir, int optional, char ***paths, size_t *n, char *err,
                       size_t err_len)
{
    return inlet_confdir_list_ext(dir, NULL, optional, paths, n, err, err_len);
}

int inlet_confdir_list_ext(const char *dir, const char *ext, int optional, char ***paths, size_t *n,
                           char *err, size_t err_len)
{
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (optional && errno == ENOENT)
            return 0;
        snprintf(err, err_len, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char **list = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (ext ? !has_ext(e->d_name, ext)
                : !has_ext(e->d_name, ".yaml") && !has_ext(e->d_name, ".yml"))
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            char **nl = realloc(list, cap * sizeof(*nl));
            if (!nl)
                goto oom;
            list = nl;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        list[count] = malloc(len);
        if (!list[count])
            goto oom;
        snprintf(list[count], len, "%s/%s", dir, e->d_name);
        count++;
    }
    closedir(d);
    if (count)
        qsort(list, count, sizeof(*list), cmp_str);
    *paths = list;
    *n = count;
    return 0;
oom:
    closedir(d);
    inlet_confdir_free(list, count);
    snprintf(err, err_len, "out of memory");
    return -1;
}

void inlet_confdir_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

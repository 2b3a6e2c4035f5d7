/* confdir.c - see confdir.h. */
#include "confdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_config_name(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.')
        return 0;
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int inlet_confdir_list(const char *dir, int optional, char ***paths, size_t *n, char *err,
                       size_t err_len)
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
        if (!is_config_name(e->d_name))
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

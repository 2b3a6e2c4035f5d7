/* module_dir.c - see module_dir.h. */
#include "module_dir.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef INLET_DEFAULT_MODULE_DIR
#define INLET_DEFAULT_MODULE_DIR "/usr/lib/inlet/modules"
#endif

/* 1 when the running executable sits in build_dir (both resolved), else 0. */
static int running_from(const char *build_dir)
{
    char exe[PATH_MAX], dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    if (!realpath(build_dir, dir))
        return 0;
    return strcmp(exe, dir) == 0;
}

const char *inlet_module_dir_default(void)
{
    const char *env = getenv("INLET_MODULE_DIR");
    if (env && *env)
        return env;
#if defined(INLET_BUILD_DIR) && defined(INLET_BUILD_MODULE_DIR)
    if (running_from(INLET_BUILD_DIR))
        return INLET_BUILD_MODULE_DIR;
#endif
    return INLET_DEFAULT_MODULE_DIR;
}

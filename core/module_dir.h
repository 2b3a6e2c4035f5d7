/* module_dir.h - where inletd looks for its modules when the configuration names no
 * module_dir. */
#ifndef INLET_MODULE_DIR_H
#define INLET_MODULE_DIR_H

/* $INLET_MODULE_DIR if set and not empty; else, for a binary that runs from its build tree
 * (the directory of /proc/self/exe is the build directory it was compiled for), the build
 * tree's modules/; else the install location (<prefix>/lib/inlet/modules, fixed at configure
 * time). The string is static or the environment's: do not free it. */
const char *inlet_module_dir_default(void);

#endif

/*
 * module_conf.h - a module instance's file for a whole-directory check: applied with every
 * error reported, the module's ABI 1.5 option checks run, and a create() error moved to the line
 * of the key it names ("tls.cert: cannot read ..."), instead of the module: line.
 */
#ifndef INLET_MODULE_CONF_H
#define INLET_MODULE_CONF_H

#include "config/config.h"
#include "inlet/module.h"

/* The module's option checks, or NULL when it has none or predates ABI 1.5. */
const inlet_option_check *inlet_module_option_checks(const inlet_module_desc *desc);

/* Apply f's root to config with desc's table and run its checks; marks (may be NULL) receives
 * the lines. Every error is added to errs; returns their number. */
int inlet_module_conf_apply(const inlet_conf_file *f, const inlet_module_desc *desc, void *config,
                            const char *const *skip, inlet_conf_marks *marks,
                            inlet_conf_errors *errs);

/* Add "path:line: module NAME: msg" to errs, line being that of the key msg starts with (when
 * the file set it), else module_line. */
void inlet_module_conf_error(const inlet_module_desc *desc, const void *config,
                             const inlet_conf_marks *marks, int module_line, const char *msg,
                             inlet_conf_errors *errs);

#endif

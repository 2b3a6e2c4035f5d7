/* module_conf.c - see module_conf.h. */
#include "check/module_conf.h"

#include <stddef.h>
#include <string.h>

const inlet_option_check *inlet_module_option_checks(const inlet_module_desc *desc)
{
    size_t need = offsetof(inlet_module_desc, option_checks) + sizeof(desc->option_checks);
    if (!desc || desc->abi_minor < 5 || desc->size < need)
        return NULL;
    return desc->option_checks;
}

int inlet_module_conf_apply(const inlet_conf_file *f, const inlet_module_desc *desc, void *config,
                            const char *const *skip, inlet_conf_marks *marks,
                            inlet_conf_errors *errs)
{
    const inlet_conf_node *root = inlet_conf_root(f);
    int found;

    if (!desc->options)
        return 0;
    found = inlet_conf_apply_all(f, root, desc->options, config, skip, marks, errs);
    if (found)
        return found;
    return inlet_conf_run_checks(desc->options, config, inlet_module_option_checks(desc), marks,
                                 root ? inlet_conf_line(f, root) : 1, errs);
}

void inlet_module_conf_error(const inlet_module_desc *desc, const void *config,
                             const inlet_conf_marks *marks, int module_line, const char *msg,
                             inlet_conf_errors *errs)
{
    const char *end = strstr(msg, ": ");
    int line = 0;

    if (end && desc->options && memchr(msg, ' ', (size_t)(end - msg)) == NULL)
        line = inlet_conf_path_line(desc->options, config, marks, msg, (size_t)(end - msg));
    inlet_conf_errors_add(errs, "%s:%d: module %s: %s", inlet_conf_marks_path(marks),
                          line > 0 ? line : module_line, desc->name, msg);
}

/* observe.h - the settings that say how inletd reports (log level and format, the refusal log
 * and the recent-refusals list) and the build information metric. Unlike the rest of
 * inletd.yaml, these apply again on SIGHUP. */
#ifndef INLET_OBSERVE_H
#define INLET_OBSERVE_H

#include <stddef.h>

#include "config/settings.h"

void inlet_observe_apply(const inlet_settings *s);
/* Re-read main_path (inletd.yaml) and apply its observability settings; -1 with err if the
 * file does not parse (nothing changes then). */
int inlet_observe_reload(const char *main_path, char *err, size_t err_len);
/* Free the refusal list and the labelled-metric cache (at exit, before the metrics). */
void inlet_observe_shutdown(void);

#endif

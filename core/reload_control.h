/*
 * reload_control.h - reloads an operator can observe: the metrics of every reload, the systemd
 * notifications around it, and `inletd reload`, the command a unit's ExecReload runs, which
 * waits for the daemon's verdict and exits non-zero when it refused the new configuration.
 *
 * The command sends SIGHUP with sigqueue() and a marker value; the daemon answers that sender
 * (and only a sender that asked so: a plain `kill -HUP` gets no signal back) with SIGUSR1
 * carrying the number of errors. The errors themselves are the same check run by the command on
 * the same directory, so it prints them too.
 */
#ifndef INLET_RELOAD_CONTROL_H
#define INLET_RELOAD_CONTROL_H

#include <signal.h>

#include "config/config.h"

#define INLET_RELOAD_MARKER 0x1e7e0 /* sigqueue value of a SIGHUP that wants an answer */

/* The daemon is about to reload (sd_notify RELOADING=1). */
void inlet_reload_begin(void);
/* The reload found errors (0 = applied): metrics, READY=1 again, the answer to a waiting
 * `inletd reload` (from, the SIGHUP's siginfo). */
void inlet_reload_end(const siginfo_t *from, int errors);
/* After the first load: the last-success timestamp starts there. */
void inlet_reload_started(void);

/* `inletd reload`: signal pid (or the pid in pid_file) and wait up to timeout_s for the verdict;
 * dir (may be NULL) is checked to print the errors of a refused configuration. Returns the exit
 * status: 0 applied, 1 refused, 2 no answer or no such process. */
int inlet_reload_command(const char *pid_file, long pid, const char *dir, int timeout_s);

/* Write getpid() to path (the daemon's --pid-file); -1 with errno on failure. */
int inlet_pid_file_write(const char *path);

#endif

/* reload_control.c - see reload_control.h. */
#include "reload_control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "metrics.h"
#include "sd_notify.h"

static inlet_metric *reloads(const char *result)
{
    char labels[32];
    snprintf(labels, sizeof(labels), "result=\"%s\"", result);
    return inlet_metric_counter("inlet_config_reloads_total",
                                "Configuration reloads (SIGHUP), by whether they were applied.",
                                labels);
}

static void stamp_success(void)
{
    inlet_metric_set(inlet_metric_gauge("inlet_config_last_reload_success_timestamp_seconds",
                                        "Wall clock of the last configuration load that was "
                                        "applied (the start counts).",
                                        ""),
                     (int64_t)time(NULL));
}

void inlet_reload_started(void)
{
    /* Both series exist from the start, so a rate() over them needs no "absent" case. */
    reloads("success");
    reloads("failure");
    stamp_success();
}

void inlet_reload_begin(void)
{
    inlet_sd_notify_reloading();
}

void inlet_reload_end(const siginfo_t *from, int errors)
{
    inlet_metric_add(reloads(errors ? "failure" : "success"), 1);
    if (!errors)
        stamp_success();
    inlet_sd_notify(errors ? "READY=1\nSTATUS=reload refused, running the previous configuration"
                           : "READY=1\nSTATUS=running");
    if (from && from->si_code == SI_QUEUE && from->si_value.sival_int == INLET_RELOAD_MARKER &&
        from->si_pid > 0) {
        union sigval v = {.sival_int = errors > 0 ? errors : 0};
        sigqueue(from->si_pid, SIGUSR1, v);
    }
}

int inlet_pid_file_write(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f) == 0 ? 0 : -1;
}

static long pid_from_file(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = -1;
    fclose(f);
    return pid;
}

static void print_errors(const char *dir)
{
    inlet_daemon d;
    inlet_conf_errors *errs = inlet_conf_errors_new();
    if (!errs)
        return;
    if (inlet_daemon_load_ex(&d, dir, INLET_LOAD_NO_MODULES, NULL, errs) != 0)
        for (size_t i = 0; i < inlet_conf_errors_count(errs); i++)
            fprintf(stderr, "inletd: %s\n", inlet_conf_errors_get(errs, i));
    else
        fprintf(stderr, "inletd: %s checks clean here; the daemon's log says why it refused\n",
                dir);
    inlet_daemon_free(&d);
    inlet_conf_errors_free(errs);
}

int inlet_reload_command(const char *pid_file, long pid, const char *dir, int timeout_s)
{
    sigset_t set;
    siginfo_t info;
    struct timespec deadline, now, left;

    if (pid_file && (pid = pid_from_file(pid_file)) <= 0) {
        fprintf(stderr, "inletd reload: %s: no process id in it\n", pid_file);
        return 2;
    }
    if (pid <= 0) {
        fprintf(stderr, "inletd reload: give --pid or --pid-file\n");
        return 2;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    /* Blocked before asking, so an answer that comes back at once waits for sigtimedwait. */
    sigprocmask(SIG_BLOCK, &set, NULL);
    union sigval v = {.sival_int = INLET_RELOAD_MARKER};
    if (sigqueue((pid_t)pid, SIGHUP, v) != 0) {
        fprintf(stderr, "inletd reload: process %ld: %s\n", pid, strerror(errno));
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_s;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        left.tv_sec = deadline.tv_sec - now.tv_sec;
        left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
        if (left.tv_nsec < 0) {
            left.tv_sec--;
            left.tv_nsec += 1000000000L;
        }
        if (left.tv_sec < 0) {
            fprintf(stderr, "inletd reload: process %ld did not answer within %d s\n", pid,
                    timeout_s);
            return 2;
        }
        if (sigtimedwait(&set, &info, &left) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return 2;
        }
        if (info.si_pid != (pid_t)pid || info.si_code != SI_QUEUE)
            continue; /* not the daemon's answer */
        break;
    }
    if (info.si_value.sival_int == 0) {
        printf("inletd: process %ld reloaded its configuration\n", pid);
        return 0;
    }
    fprintf(stderr,
            "inletd: process %ld refused the new configuration (%d errors) and keeps running the "
            "previous one\n",
            pid, info.si_value.sival_int);
    if (dir)
        print_errors(dir);
    return 1;
}

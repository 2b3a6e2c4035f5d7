/* main.c - inletd's command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "explain.h"
#include "kafka/topics.h"
#include "log.h"
#include "reload_control.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: inletd -c <config-dir> [--check-config] [--print-options] [--pid-file F]\n"
        "       inletd explain -c <config-dir> --tenant T --device D --schema NAME@vN ...\n"
        "       inletd reload [-c <config-dir>] (--pid PID | --pid-file F) [--timeout S]\n"
        "       inletd topics -c <config-dir> [--partitions N] [--replication-factor N]\n"
        "       inletd --version\n"
        "\n"
        "  -c, --config DIR     read DIR/inletd.yaml and DIR/conf.d/*.yaml\n"
        "  -t, --check-config   validate the configuration, print every error, exit (0 = valid)\n"
        "      --pid-file F     write the daemon's process id to F\n"
        "      --print-options  print the reference of every option (without -c: of every\n"
        "                       module in the module directory)\n"
        "  -V, --version        print the version and the module ABI\n"
        "  -h, --help           this text\n"
        "\n"
        "  topics               print the kafka-topics.sh --create command of every topic the\n"
        "                       configuration produces to, with the partitions and replication\n"
        "                       its schemas declare (x-inlet-topic-partitions/-replication;\n"
        "                       --partitions and --replication-factor for the others,\n"
        "                       default 12 and 3)\n");
}

/* `inletd topics`: offline, from the configuration directory. */
static int topics_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"partitions", required_argument, NULL, 'p'},
        {"replication-factor", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int partitions = 12, replication = 3, c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            dir = optarg;
            break;
        case 'p':
        case 'r': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000) {
                fprintf(stderr, "inletd topics: --%s: expected a positive integer\n",
                        c == 'p' ? "partitions" : "replication-factor");
                return 2;
            }
            if (c == 'p')
                partitions = (int)v;
            else
                replication = (int)v;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !dir) {
        usage(stderr);
        return 2;
    }
    inlet_daemon d;
    char err[4096];
    if (inlet_daemon_load(&d, dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "inletd: %s\n", err);
        inlet_daemon_free(&d);
        return 1;
    }
    inlet_topics_print_create(stdout, d.tenants, d.schemas, d.settings.kafka.bootstrap_servers,
                              partitions, replication);
    inlet_daemon_free(&d);
    return 0;
}

/* `inletd reload`: ExecReload= of the systemd unit. */
static int reload_main(int argc, char **argv)
{
    enum { O_PID = 1000, O_PID_FILE, O_TIMEOUT };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"pid", required_argument, NULL, O_PID},
        {"pid-file", required_argument, NULL, O_PID_FILE},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *pid_file = NULL;
    long pid = 0;
    int timeout = 30, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
        if (c == 'c')
            dir = optarg;
        else if (c == O_PID)
            pid = strtol(optarg, NULL, 10);
        else if (c == O_PID_FILE)
            pid_file = optarg;
        else if (c == O_TIMEOUT)
            timeout = atoi(optarg);
        else {
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || (!pid && !pid_file) || timeout <= 0) {
        usage(stderr);
        return 2;
    }
    return inlet_reload_command(pid_file, pid, dir, timeout);
}

int main(int argc, char **argv)
{
    enum { OPT_PRINT = 1000, OPT_PID_FILE };
    if (argc > 1 && strcmp(argv[1], "explain") == 0)
        return inlet_explain_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "reload") == 0)
        return reload_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "topics") == 0)
        return topics_main(argc - 1, argv + 1);
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 't'},
        {"print-options", no_argument, NULL, OPT_PRINT},
        {"pid-file", required_argument, NULL, OPT_PID_FILE},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *pid_file = NULL;
    int check = 0, print = 0, c;
    while ((c = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            dir = optarg;
            break;
        case 't':
            check = 1;
            break;
        case OPT_PRINT:
            print = 1;
            break;
        case OPT_PID_FILE:
            pid_file = optarg;
            break;
        case 'V':
            printf("inletd %s (module ABI %d.%d)\n", INLET_VERSION, INLET_ABI_MAJOR,
                   INLET_ABI_MINOR);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || (!dir && !print)) {
        usage(stderr);
        return 2;
    }
    if (print && !dir)
        return inlet_daemon_print_all_modules(NULL, stdout) == 0 ? 0 : 1;

    inlet_daemon d;
    inlet_conf_errors *errs = inlet_conf_errors_new();
    if (!errs || inlet_daemon_load_ex(&d, dir, 0, NULL, errs) != 0) {
        /* every error, one per line; the count last so a long list still says how long */
        for (size_t i = 0; i < inlet_conf_errors_count(errs); i++)
            fprintf(stderr, "inletd: %s\n", inlet_conf_errors_get(errs, i));
        fprintf(stderr, "inletd: %zu error%s in %s\n", inlet_conf_errors_count(errs),
                inlet_conf_errors_count(errs) == 1 ? "" : "s", dir);
        inlet_conf_errors_free(errs);
        inlet_daemon_free(&d);
        return 1;
    }
    inlet_conf_errors_free(errs);
    int rc = 0;
    if (print) {
        inlet_daemon_print_reference(&d, stdout);
    } else if (check) {
        printf("inletd: configuration in %s is valid (%zu modules)\n", d.dir, d.n_modules);
    } else {
        if (pid_file && inlet_pid_file_write(pid_file) != 0) {
            fprintf(stderr, "inletd: %s: cannot write the pid file\n", pid_file);
            inlet_daemon_free(&d);
            return 1;
        }
        rc = inlet_daemon_run(&d);
    }
    inlet_daemon_free(&d);
    return rc;
}

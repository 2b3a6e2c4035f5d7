/* main.c - inletd's command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "kafka/topics.h"
#include "log.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: inletd -c <config-dir> [--check-config] [--print-options]\n"
        "       inletd topics -c <config-dir> [--partitions N] [--replication-factor N]\n"
        "       inletd --version\n"
        "\n"
        "  -c, --config DIR     read DIR/inletd.yaml and DIR/conf.d/*.yaml\n"
        "  -t, --check-config   validate the configuration and exit (0 = valid)\n"
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

/* Load dir into d, or say why not on stderr (d is then freed). */
static int load_config(inlet_daemon *d, const char *dir)
{
    char err[4096];
    if (inlet_daemon_load(d, dir, err, sizeof(err)) == 0)
        return 0;
    fprintf(stderr, "inletd: %s\n", err);
    inlet_daemon_free(d);
    return -1;
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
    if (load_config(&d, dir) != 0)
        return 1;
    inlet_topics_print_create(stdout, d.tenants, d.schemas, d.settings.kafka.bootstrap_servers,
                              partitions, replication);
    inlet_daemon_free(&d);
    return 0;
}

int main(int argc, char **argv)
{
    enum { OPT_PRINT = 1000 };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 't'},
        {"print-options", no_argument, NULL, OPT_PRINT},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc > 1 && strcmp(argv[1], "topics") == 0)
        return topics_main(argc - 1, argv + 1);
    const char *dir = NULL;
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
    if (load_config(&d, dir) != 0)
        return 1;
    int rc = 0;
    if (print) {
        inlet_daemon_print_reference(&d, stdout);
    } else if (check) {
        printf("inletd: configuration in %s is valid (%zu modules)\n", d.dir, d.n_modules);
    } else {
        rc = inlet_daemon_run(&d);
    }
    inlet_daemon_free(&d);
    return rc;
}

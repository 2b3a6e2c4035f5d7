/* main.c - inletd's command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: inletd -c <config-dir> [--check-config] [--print-options]\n"
            "       inletd --version\n"
            "\n"
            "  -c, --config DIR     read DIR/inletd.yaml and DIR/conf.d/*.yaml\n"
            "  -t, --check-config   validate the configuration and exit (0 = valid)\n"
            "      --print-options  print the reference of every option (without -c: of every\n"
            "                       module in the module directory)\n"
            "  -V, --version        print the version and the module ABI\n"
            "  -h, --help           this text\n");
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
    char err[4096];
    if (inlet_daemon_load(&d, dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "inletd: %s\n", err);
        inlet_daemon_free(&d);
        return 1;
    }
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

/*
 * explain.h - `inletd explain`: why a device's event would be accepted or refused, answered
 * offline from a configuration directory with the daemon's own functions (the same load and
 * check, inlet_tenants_auth_*, inlet_normalize, the ACL): the credential that matched, the ACL
 * rule that decided (index and file:line), the Kafka topic and the validation errors.
 */
#ifndef INLET_EXPLAIN_H
#define INLET_EXPLAIN_H

/* argv[0] is "explain". Exit status: 0 accepted, 1 refused, 2 usage, 3 configuration errors. */
int inlet_explain_main(int argc, char **argv);

#endif

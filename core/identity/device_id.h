/*
 * device_id.h - what a device id may be, wherever one comes from: configuration, an opaque
 * token's entry, a JWT claim, a client certificate, or the inlet-token CLI.
 */
#ifndef INLET_DEVICE_ID_H
#define INLET_DEVICE_ID_H

#include <stddef.h>

#define INLET_DEVICE_ID_MAX 128

/* NULL if the len bytes at s are an acceptable device id, else why not ("is empty", ...). */
const char *inlet_device_id_check(const char *s, size_t len);

#endif

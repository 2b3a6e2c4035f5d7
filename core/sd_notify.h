/*
 * sd_notify.h - the systemd notification protocol (sd_notify(3)) without libsystemd: one
 * datagram to the AF_UNIX socket $NOTIFY_SOCKET names ('@' = Linux abstract namespace). Without
 * NOTIFY_SOCKET (not started by systemd with Type=notify) nothing is sent.
 */
#ifndef INLET_SD_NOTIFY_H
#define INLET_SD_NOTIFY_H

/* Send state ("READY=1", "STOPPING=1", ...: newline-separated assignments). Returns 1 if sent,
 * 0 if there is no NOTIFY_SOCKET, -1 on error. */
int inlet_sd_notify(const char *state);
/* "RELOADING=1" with MONOTONIC_USEC=<CLOCK_MONOTONIC now>, as systemd 253 and later want. */
int inlet_sd_notify_reloading(void);

#endif

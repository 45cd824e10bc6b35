/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_notify: readiness and shutdown notices to the service manager.
 *
 * Both daemons run as systemd Type=notify services: systemd starts what is
 * ordered after them (sipguard-ctrl after sipguard) only once they say
 * READY=1, which each says when it can do its job (the dataplane: ports
 * started and workers polling; the control plane: attached and its API
 * socket listening). Outside systemd ($NOTIFY_SOCKET unset), and in builds
 * without libsystemd, every call does nothing.
 *
 * Call from the main thread only, never from a worker lcore.
 */
#ifndef SG_NOTIFY_H
#define SG_NOTIFY_H

/*
 * READY=1 with a one-line STATUS= (printf format). Returns what sd_notify
 * returns: > 0 sent, 0 no service manager (or no libsystemd), < 0 -errno.
 */
int sg_notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* STOPPING=1 with a one-line STATUS=; same returns. */
int sg_notify_stopping(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 when the build can talk to systemd, 0 when every call is a no-op. */
int sg_notify_supported(void);

#endif /* SG_NOTIFY_H */

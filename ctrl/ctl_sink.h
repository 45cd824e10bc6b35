/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Directive sinks: deliver every rate-limit directive to each configured
 * consumer, from inside the control plane's single-threaded loop. Sinks are
 * a JSON-lines file, unix datagram subscribers, an exec hook, and adapters
 * that drive SIPp dialers (remote-control port) and Kamailio pipelimit pipes
 * (JSON-RPC over UDP). Nothing here blocks: every descriptor is
 * non-blocking, children are reaped with WNOHANG, queues are bounded and
 * every failure, retry and drop is counted (ctl_sinks_stats_json()).
 */
#ifndef CTL_SINK_H
#define CTL_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cfg.h"
#include "ctl_directive.h"

#define CTL_SINK_LINE_MAX 2048	     /* one JSON line, newline included */
#define CTL_SINK_MAX_TRIES 5	     /* attempts per directive, then dropped */
#define CTL_SINK_FILE_QUEUE 64	     /* lines waiting for the file */
#define CTL_SINK_MAX_SUBSCRIBERS 16  /* datagram subscribers */
#define CTL_SINK_EXEC_RUNNING 4	     /* hooks running at once */
#define CTL_SINK_EXEC_QUEUE 64	     /* hooks waiting to run (or to retry) */
#define CTL_SINK_RPC_TIMEOUT_MS 2000 /* Kamailio reply deadline */

struct ctl_sinks;

/*
 * Open every sink the configuration names: the file, the subscriber
 * socket (replacing a stale socket file), the adapters' UDP sockets.
 * Returns NULL with one line in err naming the sink and why, e.g.
 * `sipp[0] (carrier-a).trunk: "carrier-x": no such trunk`.
 */
struct ctl_sinks *ctl_sinks_create(const struct sg_config *cfg, char *err, size_t errlen);

/* Close everything; hooks still running are killed and reaped. */
void ctl_sinks_free(struct ctl_sinks *s);

/*
 * Hand one directive to every sink. First attempts happen here (a write,
 * a sendto, a posix_spawn); whatever fails or has to wait is left to
 * ctl_sinks_poll(). Never blocks. now_ms is the caller's monotonic clock.
 */
void ctl_sinks_emit(struct ctl_sinks *s, const struct ctl_directive *d, uint64_t now_ms);

/*
 * Call every ~10 ms: serve (un)subscribe requests, reap and time out
 * hooks, read Kamailio's replies, run retries that are due. Never blocks.
 */
void ctl_sinks_poll(struct ctl_sinks *s, uint64_t now_ms);

/*
 * [ { "sink", "target", "sent", "failed", "retried", "dropped", "pending",
 *     "state", ... }, ... ], one object per sink (new reference).
 */
json_t *ctl_sinks_stats_json(const struct ctl_sinks *s);

#endif /* CTL_SINK_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offline replay of the rate-limit policy: a worker reading a capture
 * publishes its counters and events through real rings at every second of
 * packet time, and the control plane's own engine (ctrl/ctl_engine.c)
 * drains them and decides, exactly as sipguard-ctrl does live. The
 * directives it would have emitted are printed as a timeline.
 */
#ifndef DP_REPLAY_H
#define DP_REPLAY_H

#include <stdio.h>

#include "cfg.h"
#include "dp_worker.h"

struct dp_replay;

/* Hooks itself into w; prints to out (JSON lines when json). */
struct dp_replay *dp_replay_create(const struct sg_config *cfg, struct dp_worker *w, int json,
	FILE *out, char *err, size_t errlen);

/* After the last packet: close the last second (and the one after). */
void dp_replay_finish(struct dp_replay *r);

/* Directives printed so far. */
unsigned long dp_replay_count(const struct dp_replay *r);

void dp_replay_free(struct dp_replay *r);

#endif /* DP_REPLAY_H */

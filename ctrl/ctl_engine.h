/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The decision engine: per-trunk state (ctl_state) feeding the rate-limit
 * policy (ctl_policy) once a second, and the recent directives. Pure C,
 * driven by explicit time, so the live control plane (wall clock) and the
 * dataplane's offline replay (packet time) run the very same code.
 */
#ifndef CTL_ENGINE_H
#define CTL_ENGINE_H

#include <stdint.h>

#include <jansson.h>

#include "cfg.h"
#include "ctl_directive.h"
#include "ctl_policy.h"
#include "ctl_state.h"

#define CTL_ENGINE_RECENT 1024	   /* directives kept for the CLI */
#define CTL_ENGINE_SLOT_CATCHUP 50 /* 100 ms slots one call may close */

struct ctl_engine;

/* st is borrowed (the caller creates and frees it). NULL when out of memory. */
struct ctl_engine *ctl_engine_create(const struct sg_config *cfg, struct ctl_state *st);
void ctl_engine_free(struct ctl_engine *e);

void ctl_engine_pub(struct ctl_engine *e, const struct sg_pub *pub);
void ctl_engine_event(struct ctl_engine *e, const struct sg_event *ev);

/*
 * Close every second before now_s: the state's series, then the policy
 * for each closed second. Directives go to out (at most max) and into the
 * recent list; returns how many.
 */
unsigned int ctl_engine_tick(
	struct ctl_engine *e, uint64_t now_s, struct ctl_directive *out, unsigned int max);

/*
 * The same at 100 ms: close every second before now_ms / 1000 (as
 * ctl_engine_tick), then every 100 ms slot ending at or before now_ms
 * (ctl_policy_tick), with the attempts counted since the previous slot.
 * Call it with the time up to which publications and events are in:
 * packet time offline, wall time minus a little grace live.
 */
unsigned int ctl_engine_tick_ms(
	struct ctl_engine *e, uint64_t now_ms, struct ctl_directive *out, unsigned int max);

/* Operator override of a trunk's agreed CPS. 0 ok, -1 unknown trunk. */
int ctl_engine_set_cps(struct ctl_engine *e, const char *trunk, uint32_t cps, uint64_t now_ms,
	struct ctl_directive *out, unsigned int *n_out);

/* {"directives":[...]} with seq > since, oldest first, at most limit (0: all kept). */
json_t *ctl_engine_directives_json(const struct ctl_engine *e, uint64_t since, unsigned int limit);

struct ctl_policy *ctl_engine_policy(const struct ctl_engine *e);

#endif /* CTL_ENGINE_H */

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
#include "ctl_fleet.h"
#include "ctl_policy.h"
#include "ctl_state.h"

#define CTL_ENGINE_RECENT 1024	   /* directives kept for the CLI */
#define CTL_ENGINE_SLOT_CATCHUP 50 /* 100 ms slots one call may close */

struct ctl_engine;

/* st is borrowed (the caller creates and frees it). NULL when out of memory. */
struct ctl_engine *ctl_engine_create(const struct sg_config *cfg, struct ctl_state *st);
void ctl_engine_free(struct ctl_engine *e);

/*
 * After the state's trunks were reloaded (ctl_state_set_trunks): a new
 * policy with these parameters and the state's trunks and agreed rates,
 * every slot carrying on its trunk's policy state. Returns 0, or -1 (out
 * of memory: the old policy stays).
 */
int ctl_engine_reconfigure(struct ctl_engine *e, const struct cfg_policy *conf);

/*
 * The diagnosis rules' names (cfg's `diagnosis` list), by which the
 * directives' evidence names the rule behind a class: at create, and
 * after a reload that may have edited the rules.
 */
void ctl_engine_set_rules(struct ctl_engine *e, const struct sg_config *cfg);

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

/*
 * Share trunks' budgets with a fleet (ctl_fleet.h; borrowed, attach
 * before the first tick). Each closed second of a shared trunk then goes
 * to the fleet, and the policy judges the account's fleet-wide sums
 * against the account's limit (and is told, each second and 100 ms slot,
 * this edge's share, the budget and the other edges' rate: struct
 * ctl_policy_fleet); what the policy emits for the trunk is cut
 * to this edge's part: a throttle to share * limit / account limit, a
 * resume to the share, and a change of share alone is a throttle of its
 * own (cause fleet-share; a share of 0 is a 1 s pause). Losing and
 * regaining the fleet raises and clears one alert per shared trunk
 * (cause fleet-fallback). With a fleet every directive is numbered by the
 * engine, so the sequence stays one.
 */
void ctl_engine_set_fleet(struct ctl_engine *e, struct ctl_fleet *f);

/*
 * After a fleet answer: a shared trunk whose share moved is told at once,
 * not at the next tick. A grant is ours once the claim returned, so a
 * rise is safe now; a fall must reach the dialers before another edge,
 * whose claim came later, uses what this one gave up. Returns the
 * directives written to out.
 */
unsigned int ctl_engine_fleet_apply(
	struct ctl_engine *e, uint64_t now_ms, struct ctl_directive *out, unsigned int max);

/* The limit this edge last gave a shared trunk's dialers (0: paused or none yet). */
uint32_t ctl_engine_fleet_limit(const struct ctl_engine *e, uint32_t trunk);

#endif /* CTL_ENGINE_H */

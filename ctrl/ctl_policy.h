/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rate-limit policy: turns what a carrier answers into directives for the
 * dialers behind a trunk. A cluster of 503s that comes with a rising or
 * high attempt rate means a limit was crossed: it is acted on within the
 * 100 ms slot its 503s complete (ctl_policy_tick), not when the second
 * closes: pause, then throttle to just under what the carrier was learned
 * to take (ctl_ceiling), probing above it rarely. 503s that line up with
 * the calls up rather than the rate mean a concurrency cap: throttle by
 * concurrency. 503s at a low, steady rate mean the carrier is in trouble:
 * alert, leave the rate alone. Retry-After and RFC 7339/7415 overload
 * control are honoured; a rate above the agreed CPS or concurrency is
 * throttled before any 503.
 *
 * Pure C: no I/O, no clock, no threads, no randomness. Time is whatever
 * the caller says (packet time in the offline replay, wall time live), so
 * the same samples and events always give the same directives.
 *
 * Per trunk the state is normal, paused or throttled, plus an alerting
 * flag. Every change emits exactly one directive (ctl_directive.h):
 *
 *   normal --over-limit burst--> paused --pause over--> throttled
 *   normal --concurrency cap--> throttled (no pause)
 *   throttled --additive increase reaches agreed--> normal (resume)
 *   throttled --new burst--> paused (longer backoff, lower limit after)
 *   throttled --503s answering a raised limit or a probe--> throttled
 *       (one step back, no pause)
 *   normal --oc / proactive--> throttled
 *   alerting: set by carrier trouble (alert), cleared after quiet (clear);
 *   or by route-down / maintenance 503s (ctl_diagpol.h: alert, no throttle);
 *   a ceiling alert while the learned ceiling is well under the contract
 */
#ifndef CTL_POLICY_H
#define CTL_POLICY_H

#include <stdint.h>

#include <jansson.h>

#include "cfg.h"
#include "ctl_directive.h"
#include "sg_shared.h"

/*
 * Directives one trunk can emit in one second or one tick (a state
 * change, a carrier-trouble alert or clear, a ceiling alert or clear).
 */
#define CTL_POLICY_MAX_PER_TRUNK 3
/* Retry-After values above this (seconds) are taken as this. */
#define CTL_POLICY_RETRY_AFTER_MAX 3600
/* oc-validity when the parameter is absent (RFC 7339's default), ms. */
#define CTL_POLICY_OC_VALIDITY_DEFAULT_MS 500
/* Seconds in a row above the agreed CPS or concurrency before a proactive throttle. */
#define CTL_POLICY_PROACTIVE_RUN 2

/* One trunk, one closed second. */
/* The policy also decides between closed seconds, on slots this long. */
#define CTL_POLICY_SLOT_MS 100

/* One trunk, one closed 100 ms slot. */
struct ctl_policy_slot {
	uint64_t attempts;  /* new INVITEs toward the trunk in the slot */
	int64_t concurrent; /* active dialogs at its end, -1 unknown */
};

struct ctl_policy_input {
	uint64_t attempts;     /* new INVITEs toward the trunk that second (CPS) */
	uint64_t finals;       /* final answers to INVITE that second */
	uint64_t final_503;    /* of which 503 */
	uint64_t final_2xx;    /* of which 2xx */
	uint64_t calls_ended;  /* calls ended by a BYE that second */
	uint64_t call_seconds; /* their summed length, seconds */
	int64_t concurrent;    /* active dialogs at the end of the second, -1 unknown */
	int32_t retry_after;   /* largest Retry-After in a 503 that second, -1 none */
};

enum ctl_policy_state {
	CTL_POLICY_NORMAL,
	CTL_POLICY_PAUSED,
	CTL_POLICY_THROTTLED,
};

struct ctl_policy_stats {
	uint64_t seconds;	 /* ctl_policy_second() calls taken */
	uint64_t stale_seconds;	 /* calls for a second not after the last one */
	uint64_t ticks;		 /* ctl_policy_tick() calls taken */
	uint64_t stale_ticks;	 /* calls for a slot not after the last one */
	uint64_t events;	 /* events taken */
	uint64_t invalid_events; /* trunk out of range */
	uint64_t stale_oc;	 /* oc with an oc-seq older than the one held */
	uint64_t directives;	 /* written to the caller */
	uint64_t dropped;	 /* state changes whose directive found no room */
};

struct ctl_policy; /* opaque */

/*
 * conf: the policy section (copied). n_trunks: 1..SG_MAX_TRUNKS; names[i]
 * (cut to SG_TRUNK_NAME_MAX - 1 bytes), agreed_cps[i] (0 is taken as 1) and
 * max_concurrent[i] (0: no concurrency limit; the array may be NULL).
 * Returns NULL on bad arguments or allocation failure.
 */
struct ctl_policy *ctl_policy_create(const struct cfg_policy *conf, uint32_t n_trunks,
	const char *const names[], const uint32_t agreed_cps[], const uint32_t max_concurrent[]);

/*
 * A policy for a reloaded config: new parameters and trunks, where trunk
 * i carries on the whole state of old's trunk from[i] (its state, limit,
 * backoff, alert, history) when from[i] < old's trunk count, and starts
 * afresh otherwise. The agreed rates are the new ones. old is left as it
 * was (the caller frees it).
 */
struct ctl_policy *ctl_policy_rebuild(const struct ctl_policy *old, const struct cfg_policy *conf,
	uint32_t n_trunks, const char *const names[], const uint32_t agreed_cps[],
	const uint32_t max_concurrent[], const uint32_t from[]);

void ctl_policy_free(struct ctl_policy *p);

/*
 * Take one 5xx/6xx event: a 503 into its 100 ms slot by packet time (for
 * ctl_policy_tick), its Retry-After (folded into the next closed second),
 * oc parameters (acted on at the next closed second), the Call-ID of a
 * 503 as evidence. Events of unknown trunks are counted and
 * ignored.
 */
void ctl_policy_event(struct ctl_policy *p, const struct sg_event *e);

/*
 * Close second `second` (epoch seconds) for every trunk: in[] holds
 * n_trunks samples. Decisions are timed at the end of that second,
 * (second + 1) * 1000 ms. Writes at most `max` directives to out (pass
 * CTL_POLICY_MAX_PER_TRUNK * n_trunks to never lose one; a state change
 * whose directive finds no room still happens and is counted as dropped)
 * and returns how many. A second not after the previous one is ignored;
 * skipped seconds count as seconds without traffic.
 */
unsigned int ctl_policy_second(struct ctl_policy *p, uint64_t second,
	const struct ctl_policy_input *in, struct ctl_directive *out, unsigned int max);

/*
 * Close the 100 ms slot ending at now_ms (epoch ms, rounded down to a
 * slot boundary) for every trunk: in[] holds n_trunks slots (NULL: not
 * known; 503s still count, they come as events). Acts on a cluster of
 * 503s without waiting for the second to close: burst_min_503 503s
 * within the last second (by their packet time, so live and offline
 * agree), judged over-limit, carrier trouble or a concurrency cap from
 * the closed seconds before; and ends pauses on time. Decisions are
 * timed now_ms. Returns how many directives were written to out (at
 * most max). A slot not after the previous one is ignored. Call it
 * after ctl_policy_second() when both fall on a second boundary.
 */
unsigned int ctl_policy_tick(struct ctl_policy *p, uint64_t now_ms,
	const struct ctl_policy_slot *in, struct ctl_directive *out, unsigned int max);

/*
 * An operator sets a trunk's agreed CPS at run time. A throttle above the
 * new value is lowered to it at once, a trunk in normal state is told the
 * new rate with a resume; a paused trunk keeps its pause. Returns 1 when a
 * directive was written to out, 0 when none was needed, -1 for a bad trunk
 * or cps 0.
 */
int ctl_policy_set_cps(struct ctl_policy *p, uint32_t trunk, uint32_t cps, uint64_t now_ms,
	struct ctl_directive *out);

/*
 * A trunk whose carrier account several edges share (ctl_fleet.h): its
 * agreed CPS and closed seconds are the account's, while its 100 ms
 * slots and 503 events are this edge's own. What the policy needs to
 * judge the account from those, as the engine last said it. For such a
 * trunk the policy (ctl_policy_fleet.c):
 *  - takes the carrier's refused rate of a 100 ms cluster as this edge's
 *    attempts plus the other edges' rate;
 *  - learns no ceiling from a first refusal burst while this edge kept
 *    to its share and the account to its limit (the carrier's counting
 *    window, not a lower ceiling: the shares sum to less than the
 *    limit), and comes back at the share after the pause; a burst that
 *    follows before the trunk was calm for a peak window is learned from
 *    as usual, at the account's rate;
 *  - counts a second above the agreed CPS toward a proactive throttle
 *    only when most of the detection window's seconds are above it too:
 *    counts that reach the control plane late pile calls of several
 *    seconds into one, a fleet really above the limit is so every second.
 */
struct ctl_policy_fleet {
	int member;	   /* 0: the trunk has its own budget, none of the above */
	uint32_t share;	   /* this edge's share of the account, CPS */
	uint32_t budget;   /* what the edges' shares sum to, CPS */
	double others_cps; /* the other edges' attempt rates, summed */
	double self_cps;   /* this edge's own attempts in its last closed second */
};

/* Say what trunk's account looks like now; a NULL f (or member 0) ends it. */
void ctl_policy_set_fleet(struct ctl_policy *p, uint32_t trunk, const struct ctl_policy_fleet *f);

/*
 * {"state":"normal|paused|throttled|alerting", "alerting":bool, "diag_alert":S|null,
 *  "limit_cps":N|null, "agreed_cps":N, "max_concurrent":N|null,
 *  "pause_until":epoch|null, "bursts":N, "ceiling_cps":F|null,
 *  "target_cps":N, "ceiling_concurrent":N|null, "probing":bool, "onsets":N,
 *  "backoff_s":N, "cause":S|null,
 *  "oc":{"oc":N,"algo":"loss"|"rate","limit_cps":N,"valid_until":epoch}|null}
 * "state" is "alerting" only for a normal trunk with the alerting flag
 * (a carrier-trouble alert, or a route-down or maintenance one: then
 * diag_alert names the class).
 * ceiling_cps: what the carrier was learned to take (null: nothing
 * learned), target_cps: where the climb after a backoff stops.
 * NULL for a bad trunk or on allocation failure.
 */
json_t *ctl_policy_trunk_json(const struct ctl_policy *p, uint32_t trunk);

/* For tests and the CLI: the current state and limit (0: none) of a trunk. */
enum ctl_policy_state ctl_policy_trunk_state(const struct ctl_policy *p, uint32_t trunk);
uint32_t ctl_policy_trunk_limit(const struct ctl_policy *p, uint32_t trunk);
int ctl_policy_trunk_alerting(const struct ctl_policy *p, uint32_t trunk);

void ctl_policy_get_stats(const struct ctl_policy *p, struct ctl_policy_stats *out);

#endif /* CTL_POLICY_H */

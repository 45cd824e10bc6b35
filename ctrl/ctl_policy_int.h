/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rate-limit policy's own state and the functions its two halves
 * share: ctl_policy.c (history, the state machine's plumbing, events,
 * JSON), ctl_policy_view.c (what the history says: windows, rates, the
 * view of a second) and ctl_limit.c (what it does about 503s: bursts, the
 * learned ceiling, probes, concurrency caps, recovery). Not for other
 * modules.
 */
#ifndef CTL_POLICY_INT_H
#define CTL_POLICY_INT_H

#include <stdint.h>

#include "ctl_ceiling.h"
#include "ctl_cluster.h"
#include "ctl_diagpol.h"
#include "ctl_policy.h"

#define CTL_POLICY_NO_SECOND UINT64_MAX
#define CTL_POLICY_MAX_LEVEL 30	 /* backoff doublings; the cap bites long before */
#define CTL_POLICY_SETTLE_MS 500 /* a new limit's own answers start this much later */
#define CTL_POLICY_CONC_MIN 5	 /* calls up under which no concurrency cap is inferred */
#define CTL_POLICY_HOLD_CALLS 5	 /* ended calls a measured holding time needs */

struct ctl_policy_sample {
	uint64_t second; /* the second this slot holds, CTL_POLICY_NO_SECOND none */
	uint64_t attempts;
	uint64_t finals;
	uint64_t r503;
	uint64_t ok; /* 2xx finals */
	uint64_t calls_ended;
	uint64_t call_seconds;
	int64_t concurrent;
	int32_t retry_after;
};

struct ctl_policy_trunk {
	char name[SG_TRUNK_NAME_MAX];
	uint32_t agreed_cps;
	uint32_t max_concurrent; /* 0: no limit */

	enum ctl_policy_state state;
	enum ctl_cause cause;	/* of the last state change */
	uint32_t limit;		/* throttled: the limit; 0 otherwise */
	uint32_t pending_limit; /* paused: the throttle that follows */
	uint64_t pause_until_ms;
	uint64_t state_from; /* first second under the current state */
	uint64_t limit_from; /* first second under the current limit */
	uint64_t last_change_ms;
	uint64_t normal_since_ms; /* when the trunk last became normal */

	int had_burst;	    /* level below means something */
	uint32_t level;	    /* backoff doublings so far */
	uint32_t backoff_s; /* backoff of the last pause */
	uint64_t bursts;    /* over-limit bursts acted on */

	int alerting;
	uint32_t quiet_s;	/* seconds without a burst while alerting */
	uint32_t over_cps_run;	/* seconds in a row above agreed CPS */
	uint32_t over_conc_run; /* seconds in a row above max concurrency */
	int64_t concurrent;	/* last known, -1 unknown */
	uint64_t active_from;	/* first second with attempts; NO_SECOND before */

	/* RFC 7339/7415 overload control from the carrier's top Via */
	int oc_active;
	int oc_changed; /* new value since the last closed second */
	int oc_have_seq;
	int oc_have_base;
	int32_t oc;
	uint8_t oc_algo; /* DP_OC_ALGO_LOSS or DP_OC_ALGO_RATE */
	int32_t oc_validity_ms;
	uint64_t oc_until_ms;
	uint64_t oc_seq;
	uint32_t oc_base; /* rate the loss percentage applies to */
	uint32_t oc_limit;

	int32_t pending_ra; /* from events since the last closed second */
	uint32_t n_call_ids;
	uint32_t call_id_next; /* ring of the newest 503 Call-IDs */
	char call_ids[CTL_DIRECTIVE_CALL_IDS][SG_CALL_ID_MAX + 1];

	struct ctl_policy_sample *hist; /* hist_len slots, by second modulo */

	/* between closed seconds: 503s and attempts in 100 ms slots */
	struct ctl_cluster cl;
	uint64_t first_503_ms; /* evidence of the next directive: the cluster's */
	uint32_t cluster_503;
	int64_t slot_concurrent;	 /* at the last slot close, -1 unknown */
	enum ctl_duration_from dur_from; /* of the last pause */

	/* what the carrier really takes, and the probes that find it again */
	struct ctl_ceiling ceil;
	int probing;
	uint32_t probe_base;	/* the limit before the probe */
	uint64_t probe_ms;	/* when the probe began */
	uint64_t next_probe_ms; /* no probe before this */
	uint32_t probe_fails;	/* in a row: the next waits longer */
	int raised;		/* the limit last changed upward (a step is a probe too) */
	uint32_t conc_limit;	/* learned concurrency throttle, 0 none */
	int ceiling_alert;	/* a `ceiling` alert is out */

	struct ctl_diagpol dg; /* 503s by diagnosis class (ctl_diagpol.c) */
	/* a shared account (ctl_policy_fleet.c) */
	struct ctl_policy_fleet fleet;
	int fleet_spared; /* the pause running is for a burst no ceiling was learned from */
};

struct ctl_policy {
	struct cfg_policy conf;
	uint32_t n_trunks;
	uint32_t hist_len;
	uint64_t seq;
	uint64_t first_second;
	uint64_t last_second;  /* CTL_POLICY_NO_SECOND before the first */
	uint64_t last_tick_ms; /* end of the last 100 ms slot, 0 before the first */
	struct ctl_policy_stats stats;
	struct ctl_policy_trunk trunks[];
};

/* What one closed second looks like for one trunk. */
struct ctl_policy_view {
	uint64_t second;
	uint32_t n; /* seconds in the detection window */
	uint64_t attempts, finals, r503;
	int32_t retry_after; /* largest in the window, -1 none */
	int burst;
	double rate_now;  /* mean attempts of the last few seconds */
	double rate_prev; /* the same just before them */
	double peak;	  /* largest one-second rate in the peak window */
	double early;	  /* mean of the first seconds of the peak window */
	int rising;
};

struct ctl_policy_out {
	struct ctl_directive *out;
	unsigned int max;
	unsigned int n;
};

static inline uint32_t
ctl_policy_clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static inline uint64_t
ctl_policy_back(uint64_t s, uint64_t n)
{
	return s + 1 >= n ? s + 1 - n : 0;
}

/* "the last few seconds": half the detection window, at least one */
static inline uint32_t
ctl_policy_recent(const struct ctl_policy *p)
{
	return (p->conf.window_s + 1) / 2;
}

/* Calls up now: at the last 100 ms slot if known, else at the last closed second. */
static inline int64_t
ctl_policy_conc_now(const struct ctl_policy_trunk *tr)
{
	return tr->slot_concurrent >= 0 ? tr->slot_concurrent : tr->concurrent;
}

/*
 * Calls up from which a learned concurrency cap's own 503s are expected:
 * 80 % of it. The carrier also counts calls being set up or torn down,
 * more than the confirmed dialogs seen here. INT64_MAX without a cap.
 */
static inline int64_t
ctl_policy_conc_near(const struct ctl_policy_trunk *tr)
{
	return tr->conc_limit > 0 ? ((int64_t)tr->conc_limit * 8 + 9) / 10 : INT64_MAX;
}

/* The concurrency cap in force: the contract's or the learned one, the lower. */
static inline uint32_t
ctl_policy_conc_cap(const struct ctl_policy_trunk *tr)
{
	if (tr->conc_limit > 0 && (tr->max_concurrent == 0 || tr->conc_limit < tr->max_concurrent))
		return tr->conc_limit;
	return tr->max_concurrent;
}

/* ctl_policy_view.c */
const struct ctl_policy_sample *ctl_policy_sample_at(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t second);
double ctl_policy_mean(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t from, uint64_t to);
uint64_t ctl_policy_window(const struct ctl_policy *p, const struct ctl_policy_trunk *tr,
	uint64_t from, uint64_t to, struct ctl_policy_view *v);
void ctl_policy_view(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s,
	struct ctl_policy_view *v);
int ctl_policy_over_limit(const struct ctl_policy *p, const struct ctl_policy_trunk *tr,
	const struct ctl_policy_view *v);

/* ctl_policy.c */
void ctl_policy_emit(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, enum ctl_action a, enum ctl_cause cause, uint32_t cps_limit,
	uint32_t duration_s, struct ctl_policy_out *o);
void ctl_policy_throttle(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, uint32_t limit, enum ctl_cause cause, struct ctl_policy_out *o);
void ctl_policy_resume(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, enum ctl_cause cause, struct ctl_policy_out *o);

/* ctl_limit.c */
uint32_t ctl_policy_target(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t now_ms);
double ctl_policy_hold_time(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s, int longer);
double ctl_policy_hold_measured(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s);
uint32_t ctl_policy_conc_rate(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s);
void ctl_policy_oc_update(struct ctl_policy_trunk *tr, const struct ctl_policy_view *v);
void ctl_policy_increase(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, struct ctl_policy_out *o);
int ctl_policy_concurrency(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, struct ctl_policy_out *o);
int ctl_policy_503s(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, int window_burst, struct ctl_policy_out *o);
void ctl_policy_ceiling_alert(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, struct ctl_policy_out *o);
void ctl_policy_pause_over(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, struct ctl_policy_out *o);

/*
 * ctl_diagpol.c: the diagnosis class decides before the rates. Called
 * where the 503s are judged (every slot, every closed second) for a
 * trunk not paused. Returns 1 when the class decided (a throttle, or
 * route-down/maintenance 503s that no throttle fixes: the rate-based
 * rules must not act on them), 0 to leave it to the rates.
 */
int ctl_diagpol_503s(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, struct ctl_policy_out *o);

/* ctl_policy_fleet.c */
double ctl_policy_fleet_others(const struct ctl_policy_trunk *tr);
int ctl_policy_fleet_over_cps(const struct ctl_policy *p, const struct ctl_policy_trunk *tr,
	uint64_t s, uint64_t attempts);
int ctl_policy_fleet_spared(const struct ctl_policy *p, struct ctl_policy_trunk *tr,
	uint64_t now_ms, double account_cps);
void ctl_policy_fleet_pause_over(struct ctl_policy_trunk *tr);

#endif /* CTL_POLICY_INT_H */

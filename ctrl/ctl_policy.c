/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rate-limit policy: per trunk, a short history of one-second samples and
 * a small state machine that decides when dialers pause, throttle, resume
 * and when a human is alerted (see ctl_policy.h for the states and
 * config/README.md for every parameter). Deterministic by construction:
 * integer arithmetic where a threshold is compared, no clock, no
 * randomness, the same samples and events give the same directives.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ceiling.h"
#include "ctl_cluster.h"
#include "ctl_policy.h"
#include "dp_sip.h"

#define CTL_POLICY_NO_SECOND UINT64_MAX
#define CTL_POLICY_MAX_LEVEL 30 /* backoff doublings; the cap bites long before */
#define CTL_POLICY_CONC_MIN 5	/* calls up under which no concurrency cap is inferred */

struct ctl_policy_sample {
	uint64_t second; /* the second this slot holds, CTL_POLICY_NO_SECOND none */
	uint64_t attempts;
	uint64_t finals;
	uint64_t r503;
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

static uint32_t
ctl_policy_clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * A zeroed or hand-made struct must not divide by zero or loop forever:
 * bring every value into the loader's range.
 */
static void
ctl_policy_sanitize(struct cfg_policy *c)
{
	c->window_s = ctl_policy_clamp(c->window_s, 1, 60);
	c->burst_min_503 = ctl_policy_clamp(c->burst_min_503, 1, 100000);
	c->burst_min_share = ctl_policy_clamp(c->burst_min_share, 1, 100);
	c->peak_window_s = ctl_policy_clamp(c->peak_window_s, 1, 600);
	c->near_peak_pct = ctl_policy_clamp(c->near_peak_pct, 1, 100);
	c->low_rate_pct = ctl_policy_clamp(c->low_rate_pct, 1, 100);
	c->backoff_base_s = ctl_policy_clamp(c->backoff_base_s, 1, 600);
	c->backoff_max_s = ctl_policy_clamp(c->backoff_max_s, c->backoff_base_s, 3600);
	c->beta_pct = ctl_policy_clamp(c->beta_pct, 1, 100);
	c->alpha_cps = ctl_policy_clamp(c->alpha_cps, 1, 10000);
	c->increase_interval_s = ctl_policy_clamp(c->increase_interval_s, 1, 600);
	c->abate_share = ctl_policy_clamp(c->abate_share, 0, 100);
	c->hold_s = ctl_policy_clamp(c->hold_s, 0, 600);
	c->clear_after_s = ctl_policy_clamp(c->clear_after_s, 1, 3600);
	c->proactive = c->proactive != 0;
	c->honor_oc = c->honor_oc != 0;
	c->ceiling_halflife_s = ctl_policy_clamp(c->ceiling_halflife_s, 0, 86400);
	c->probe_interval_s = ctl_policy_clamp(c->probe_interval_s, 5, 3600);
	c->probe_hold_s = ctl_policy_clamp(c->probe_hold_s, 1, 600);
	c->ceiling_alert_pct = ctl_policy_clamp(c->ceiling_alert_pct, 1, 100);
}

static size_t
ctl_policy_printable(char *dst, size_t cap, const char *s, size_t len)
{
	size_t i;

	if (len >= cap)
		len = cap - 1;
	for (i = 0; i < len && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
	return i;
}

struct ctl_policy *
ctl_policy_create(const struct cfg_policy *conf, uint32_t n_trunks, const char *const names[],
	const uint32_t agreed_cps[], const uint32_t max_concurrent[])
{
	struct ctl_policy *p;
	uint32_t i, j;

	/* no trunks is a valid config (everything unmatched): nothing to decide */
	if (conf == NULL || n_trunks > SG_MAX_TRUNKS || (n_trunks > 0 && agreed_cps == NULL))
		return NULL;
	p = calloc(1, sizeof(*p) + n_trunks * sizeof(p->trunks[0]));
	if (p == NULL)
		return NULL;
	p->conf = *conf;
	ctl_policy_sanitize(&p->conf);
	p->n_trunks = n_trunks;
	/* room for the peak window and for two detection windows back to back */
	p->hist_len = p->conf.peak_window_s > 2 * p->conf.window_s ? p->conf.peak_window_s
								   : 2 * p->conf.window_s;
	p->hist_len += 1;
	p->last_second = CTL_POLICY_NO_SECOND;
	for (i = 0; i < n_trunks; i++) {
		struct ctl_policy_trunk *tr = &p->trunks[i];
		const char *name = names != NULL && names[i] != NULL ? names[i] : "";

		ctl_policy_printable(tr->name, sizeof(tr->name), name, strlen(name));
		tr->agreed_cps = agreed_cps[i] > 0 ? agreed_cps[i] : 1;
		tr->max_concurrent = max_concurrent != NULL ? max_concurrent[i] : 0;
		tr->state = CTL_POLICY_NORMAL;
		tr->cause = CTL_CAUSE_RECOVERED;
		tr->concurrent = -1;
		tr->active_from = CTL_POLICY_NO_SECOND;
		tr->pending_ra = -1;
		tr->oc = -1;
		tr->oc_validity_ms = -1;
		tr->slot_concurrent = -1;
		ctl_cluster_init(&tr->cl);
		ctl_ceiling_init(&tr->ceil, p->conf.ceiling_halflife_s);
		tr->hist = calloc(p->hist_len, sizeof(tr->hist[0]));
		if (tr->hist == NULL) {
			ctl_policy_free(p);
			return NULL;
		}
		for (j = 0; j < p->hist_len; j++)
			tr->hist[j].second = CTL_POLICY_NO_SECOND;
	}
	return p;
}

void
ctl_policy_free(struct ctl_policy *p)
{
	uint32_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_trunks; i++)
		free(p->trunks[i].hist);
	free(p);
}

static const struct ctl_policy_sample *
ctl_policy_sample_at(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t second)
{
	const struct ctl_policy_sample *sm = &tr->hist[second % p->hist_len];

	/* a slot not written for that second is a second without traffic */
	return sm->second == second ? sm : NULL;
}

/* Seconds [from, to] clipped to what history holds; returns how many. */
static uint32_t
ctl_policy_clip(const struct ctl_policy *p, uint64_t *from, uint64_t to)
{
	if (p->last_second == CTL_POLICY_NO_SECOND || to < p->first_second)
		return 0;
	if (*from < p->first_second)
		*from = p->first_second;
	if (to + 1 > p->hist_len && *from < to + 1 - p->hist_len)
		*from = to + 1 - p->hist_len;
	if (*from > to)
		return 0;
	return (uint32_t)(to - *from + 1);
}

/* Mean attempts over [from, to]; 0 when the range is empty. */
static double
ctl_policy_mean(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t from, uint64_t to)
{
	uint32_t n = ctl_policy_clip(p, &from, to);
	uint64_t s, sum = 0;

	if (n == 0)
		return 0.0;
	for (s = from; s <= to; s++) {
		const struct ctl_policy_sample *sm = ctl_policy_sample_at(p, tr, s);

		if (sm != NULL)
			sum += sm->attempts;
	}
	return (double)sum / n;
}

/* Sum the window [from, to] into v; returns the largest one-second rate. */
static uint64_t
ctl_policy_window(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t from,
	uint64_t to, struct ctl_policy_view *v)
{
	uint64_t s, top = 0;

	v->n = ctl_policy_clip(p, &from, to);
	v->attempts = v->finals = v->r503 = 0;
	v->retry_after = -1;
	if (v->n == 0)
		return 0;
	for (s = from; s <= to; s++) {
		const struct ctl_policy_sample *sm = ctl_policy_sample_at(p, tr, s);

		if (sm == NULL)
			continue;
		v->attempts += sm->attempts;
		v->finals += sm->finals;
		v->r503 += sm->r503;
		if (sm->retry_after > v->retry_after)
			v->retry_after = sm->retry_after;
		if (sm->attempts > top)
			top = sm->attempts;
	}
	return top;
}

static uint64_t
ctl_policy_back(uint64_t s, uint64_t n)
{
	return s + 1 >= n ? s + 1 - n : 0;
}

/* "the last few seconds": half the detection window, at least one */
static uint32_t
ctl_policy_recent(const struct ctl_policy *p)
{
	return (p->conf.window_s + 1) / 2;
}

/*
 * Look at trunk tr as of second s: the detection window (never reaching
 * back before the current state began, so what led to a state change is
 * not counted twice), whether it holds a burst, and the attempt rates
 * the cause is judged by.
 */
static void
ctl_policy_view(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s,
	struct ctl_policy_view *v)
{
	const struct cfg_policy *c = &p->conf;
	uint32_t r = ctl_policy_recent(p);
	uint64_t from, avail, finals;
	uint32_t n_peak, n_early;
	struct ctl_policy_view pk;

	memset(v, 0, sizeof(*v));
	v->second = s;
	v->retry_after = -1;
	if (p->last_second == CTL_POLICY_NO_SECOND)
		return;
	from = ctl_policy_back(s, c->window_s);
	if (from < tr->state_from)
		from = tr->state_from;
	ctl_policy_window(p, tr, from, s, v);
	/* inconsistent input (more 503s than finals) must not hide a burst */
	finals = v->finals > v->r503 ? v->finals : v->r503;
	v->burst = v->r503 >= c->burst_min_503 && v->r503 * 100 >= c->burst_min_share * finals;

	/*
	 * The rate is judged from when the trunk began sending: idle seconds
	 * before the dialer started must not make a fresh ramp look low. A
	 * trunk sending for less than two rate windows is starting up, which
	 * is a ramp: a burst then is over-limit, never carrier trouble.
	 */
	avail = tr->active_from == CTL_POLICY_NO_SECOND || tr->active_from > s
		? 0
		: s - tr->active_from + 1;
	from = ctl_policy_back(s, r);
	if (avail > 0 && from < tr->active_from)
		from = tr->active_from;
	v->rate_now = ctl_policy_mean(p, tr, from, s);
	if (avail >= 2ull * r) {
		v->rate_prev = ctl_policy_mean(p, tr, ctl_policy_back(s, 2ull * r), s - r);
		/* 10 % and a whole call above: noise on a steady rate is not a ramp */
		v->rising = v->rate_now >= v->rate_prev * 1.1 && v->rate_now >= v->rate_prev + 1.0;
	} else {
		v->rising = avail > 0;
	}
	from = ctl_policy_back(s, c->peak_window_s);
	v->peak = (double)ctl_policy_window(p, tr, from, s, &pk);
	n_peak = ctl_policy_clip(p, &from, s);
	n_early = n_peak < r ? n_peak : r;
	if (n_early > 0)
		v->early = ctl_policy_mean(p, tr, from, from + n_early - 1);
}

/*
 * Over-limit or carrier trouble, for a burst in normal state. Over-limit
 * when any of: the rate is above the agreed CPS, the concurrency at or
 * above the agreed maximum, the rate rising, the rate above low_rate_pct
 * of agreed, or the rate near its recent peak when that peak was reached
 * by climbing within the peak window. Otherwise (a low, steady rate):
 * carrier trouble.
 */
static int
ctl_policy_over_limit(const struct ctl_policy *p, const struct ctl_policy_trunk *tr,
	const struct ctl_policy_view *v)
{
	const struct cfg_policy *c = &p->conf;
	double near = v->peak * c->near_peak_pct / 100.0;

	if (v->rate_now > tr->agreed_cps)
		return 1;
	if (tr->max_concurrent > 0 && tr->concurrent >= (int64_t)tr->max_concurrent)
		return 1;
	if (v->rising)
		return 1;
	if (v->rate_now * 100.0 > (double)c->low_rate_pct * tr->agreed_cps)
		return 1;
	if (v->peak > 0 && v->rate_now >= near && v->early < near)
		return 1;
	return 0;
}

static double ctl_policy_hold_time(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s, int longer);

/* Calls up now: at the last 100 ms slot if known, else at the last closed second. */
static int64_t
ctl_policy_conc_now(const struct ctl_policy_trunk *tr)
{
	return tr->slot_concurrent >= 0 ? tr->slot_concurrent : tr->concurrent;
}

/* The concurrency cap in force: the contract's or the learned one, the lower. */
static uint32_t
ctl_policy_conc_cap(const struct ctl_policy_trunk *tr)
{
	if (tr->conc_limit > 0 && (tr->max_concurrent == 0 || tr->conc_limit < tr->max_concurrent))
		return tr->conc_limit;
	return tr->max_concurrent;
}

static void
ctl_policy_evidence(const struct ctl_policy *p, const struct ctl_policy_trunk *tr,
	const struct ctl_policy_view *v, uint64_t now_ms, struct ctl_evidence *ev)
{
	uint32_t i;

	memset(ev, 0, sizeof(*ev));
	ev->first_503_ms = tr->first_503_ms;
	ev->cluster_503 = tr->cluster_503;
	ev->concurrent = ctl_policy_conc_now(tr);
	ev->agreed_cps = tr->agreed_cps;
	ev->ceiling_cps = ctl_ceiling_cps(&tr->ceil, now_ms, tr->agreed_cps);
	ev->ceiling_concurrent = tr->conc_limit;
	ev->hold_s = ctl_policy_hold_time(p, tr, v->second, 1);
	ev->window_s = v->n;
	ev->attempts = v->attempts;
	ev->finals = v->finals;
	ev->r503 = v->r503;
	ev->share_503 = v->finals > 0 ? (double)v->r503 / (double)v->finals : 0.0;
	if (ev->share_503 > 1.0)
		ev->share_503 = 1.0;
	ev->cps = v->rate_now;
	ev->peak_cps = v->peak;
	ev->retry_after = v->retry_after;
	ev->oc = tr->oc_active ? tr->oc : -1;
	ev->oc_algo = tr->oc_active ? tr->oc_algo : DP_OC_ALGO_NONE;
	ev->oc_validity_ms = tr->oc_active ? tr->oc_validity_ms : -1;
	/* newest first */
	for (i = 0; i < tr->n_call_ids; i++) {
		uint32_t k = (tr->call_id_next + CTL_DIRECTIVE_CALL_IDS - 1 - i) %
			CTL_DIRECTIVE_CALL_IDS;

		memcpy(ev->call_ids[i], tr->call_ids[k], sizeof(ev->call_ids[i]));
	}
	ev->n_call_ids = tr->n_call_ids;
}

static void
ctl_policy_emit(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v, uint64_t now_ms,
	enum ctl_action a, enum ctl_cause cause, uint32_t cps_limit, uint32_t duration_s,
	struct ctl_policy_out *o)
{
	const struct ctl_policy_trunk *tr = &p->trunks[t];
	struct ctl_directive *d;

	if (o == NULL || o->out == NULL || o->n >= o->max) {
		p->stats.dropped++;
		return;
	}
	d = &o->out[o->n++];
	memset(d, 0, sizeof(*d));
	d->seq = ++p->seq;
	d->time_ms = now_ms;
	d->trunk = t;
	memcpy(d->trunk_name, tr->name, sizeof(d->trunk_name));
	d->action = a;
	d->cps_limit = cps_limit;
	d->duration_s = duration_s;
	d->cause = cause;
	d->duration_from = a == CTL_ACT_PAUSE ? tr->dur_from : CTL_FROM_NONE;
	if (a == CTL_ACT_THROTTLE && tr->conc_limit > 0)
		d->max_concurrent = ctl_policy_conc_cap(tr);
	else if (a == CTL_ACT_THROTTLE && cause == CTL_CAUSE_PROACTIVE_CONCURRENCY)
		d->max_concurrent = tr->max_concurrent;
	ctl_policy_evidence(p, tr, v, now_ms, &d->ev);
	p->stats.directives++;
}

static void
ctl_policy_throttle(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, uint32_t limit, enum ctl_cause cause, struct ctl_policy_out *o)
{
	struct ctl_policy_trunk *tr = &p->trunks[t];

	limit = ctl_policy_clamp(limit, 1, tr->agreed_cps);
	tr->raised = tr->state == CTL_POLICY_THROTTLED && limit > tr->limit;
	if (tr->state != CTL_POLICY_THROTTLED)
		tr->state_from = v->second + 1;
	tr->state = CTL_POLICY_THROTTLED;
	tr->limit = limit;
	tr->limit_from = v->second + 1;
	tr->cause = cause;
	tr->last_change_ms = now_ms;
	ctl_policy_emit(p, t, v, now_ms, CTL_ACT_THROTTLE, cause, limit, 0, o);
}

static void
ctl_policy_resume(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, enum ctl_cause cause, struct ctl_policy_out *o)
{
	struct ctl_policy_trunk *tr = &p->trunks[t];

	tr->state = CTL_POLICY_NORMAL;
	tr->limit = 0;
	tr->raised = 0;
	tr->probing = 0;
	tr->state_from = v->second + 1;
	tr->cause = cause;
	tr->last_change_ms = now_ms;
	tr->normal_since_ms = now_ms;
	tr->over_cps_run = tr->over_conc_run = 0;
	ctl_policy_emit(p, t, v, now_ms, CTL_ACT_RESUME, cause, tr->agreed_cps, 0, o);
}

/*
 * The rate a throttled trunk settles at: one step under what the carrier
 * was learned to take, never above the agreed CPS. The agreed CPS when
 * nothing was learned.
 */
static uint32_t
ctl_policy_target(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t now_ms)
{
	double e = ctl_ceiling_cps(&tr->ceil, now_ms, tr->agreed_cps);
	uint32_t t;

	if (e <= 0.0 || e >= tr->agreed_cps)
		return tr->agreed_cps;
	t = (uint32_t)floor(e);
	t = t > p->conf.alpha_cps ? t - p->conf.alpha_cps : 1;
	return ctl_policy_clamp(t, 1, tr->agreed_cps);
}

/*
 * What the carrier refused at: the attempt rate of the last second of
 * 100 ms slots. Without slots (a policy fed closed seconds only), one
 * step above what the carrier took in the last closed second with 503s
 * (attempts minus 503s), else the recent rate.
 */
static double
ctl_policy_refused_rate(const struct ctl_policy *p, const struct ctl_policy_trunk *tr,
	const struct ctl_policy_view *v, uint64_t now_ms)
{
	const struct ctl_policy_sample *sm;
	struct ctl_cluster_sum sum;

	ctl_cluster_sum(&tr->cl, now_ms >= 1000 ? now_ms - 1000 : 0, now_ms, &sum);
	if (sum.closed >= 5)
		return (double)sum.attempts * 10.0 / sum.closed;
	sm = ctl_policy_sample_at(p, tr, v->second);
	if (sm != NULL && sm->r503 > 0 && sm->attempts > sm->r503)
		return (double)(sm->attempts - sm->r503 + p->conf.alpha_cps);
	return v->rate_now;
}

/*
 * An over-limit burst: pause for the backoff (doubling while bursts
 * follow one another, back to the base once the trunk stayed normal for a
 * peak window) or the carrier's Retry-After if longer. The onset is one
 * observation of the ceiling (the carrier takes one step less than what
 * it refused); the throttle after the pause is one step under it.
 */
static void
ctl_policy_burst(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v, uint64_t now_ms,
	struct ctl_policy_out *o)
{
	const struct cfg_policy *c = &p->conf;
	struct ctl_policy_trunk *tr = &p->trunks[t];
	uint64_t backoff, calm_ms = (uint64_t)c->peak_window_s * 1000;
	double onset = v->rate_now, refused = ctl_policy_refused_rate(p, tr, v, now_ms);
	uint32_t dur, pending, target;

	if (tr->had_burst &&
		!(tr->state == CTL_POLICY_NORMAL && now_ms - tr->normal_since_ms >= calm_ms)) {
		if (tr->level < CTL_POLICY_MAX_LEVEL)
			tr->level++;
	} else {
		tr->level = 0;
	}
	tr->had_burst = 1;
	backoff = (uint64_t)c->backoff_base_s << tr->level;
	if (backoff > c->backoff_max_s)
		backoff = c->backoff_max_s;
	dur = (uint32_t)backoff;
	tr->dur_from = CTL_FROM_BACKOFF;
	/* the closed seconds' Retry-After, and that of the 503s since */
	if (v->retry_after > (int32_t)dur || tr->pending_ra > (int32_t)dur) {
		dur = (uint32_t)(v->retry_after > tr->pending_ra ? v->retry_after : tr->pending_ra);
		tr->dur_from = CTL_FROM_RETRY_AFTER;
	}
	if (tr->state == CTL_POLICY_THROTTLED) {
		/* the rate since the throttle began, which is what the carrier refused */
		uint64_t from = ctl_policy_back(v->second, ctl_policy_recent(p));

		if (from < tr->limit_from)
			from = tr->limit_from;
		onset = ctl_policy_mean(p, tr, from, v->second);
		if (onset > tr->limit)
			onset = tr->limit;
		if (refused > tr->limit)
			refused = tr->limit;
	}
	ctl_ceiling_onset(&tr->ceil, now_ms, tr->agreed_cps,
		refused > c->alpha_cps ? refused - c->alpha_cps : 1.0,
		tr->slot_concurrent >= 0 ? tr->slot_concurrent : tr->concurrent);
	target = ctl_policy_target(p, tr, now_ms);
	/*
	 * Back to just under what the carrier takes; beta % of the onset rate
	 * only when nothing was learned (the estimate drifted back to the
	 * contract).
	 */
	pending = target < tr->agreed_cps ? target : (uint32_t)floor(onset * c->beta_pct / 100.0);
	if (tr->state == CTL_POLICY_THROTTLED && pending >= tr->limit)
		pending = tr->limit > 1 ? tr->limit - 1 : 1;
	tr->pending_limit = ctl_policy_clamp(pending, 1, tr->agreed_cps);
	/* the estimate is fresh: no probe above it for a while */
	tr->next_probe_ms = now_ms + (uint64_t)c->probe_interval_s * 1000;
	tr->backoff_s = (uint32_t)backoff;
	tr->bursts++;
	tr->state = CTL_POLICY_PAUSED;
	tr->limit = 0;
	tr->probing = 0;
	tr->raised = 0;
	tr->state_from = v->second + 1;
	tr->pause_until_ms = now_ms + (uint64_t)dur * 1000;
	tr->cause = CTL_CAUSE_OVER_LIMIT;
	tr->last_change_ms = now_ms;
	ctl_policy_emit(p, t, v, now_ms, CTL_ACT_PAUSE, CTL_CAUSE_OVER_LIMIT, 0, dur, o);
}

/*
 * A few 503s right after the limit was raised (a probe, or a step of the
 * climb): the carrier takes less than the new limit. Step back without a
 * pause and remember where the carrier refused.
 */
static void
ctl_policy_step_back(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, struct ctl_policy_out *o)
{
	const struct cfg_policy *c = &p->conf;
	struct ctl_policy_trunk *tr = &p->trunks[t];
	uint32_t back = tr->probing ? tr->probe_base
				    : (tr->limit > c->alpha_cps ? tr->limit - c->alpha_cps : 1);
	uint32_t shift;

	ctl_ceiling_onset(&tr->ceil, now_ms, tr->agreed_cps,
		tr->limit > c->alpha_cps ? (double)(tr->limit - c->alpha_cps) : 1.0,
		tr->slot_concurrent >= 0 ? tr->slot_concurrent : tr->concurrent);
	if (tr->probing) {
		if (tr->probe_fails < 3)
			tr->probe_fails++;
	}
	shift = tr->probe_fails;
	tr->next_probe_ms = now_ms + ((uint64_t)c->probe_interval_s * 1000 << shift);
	tr->probing = 0;
	if (back > ctl_policy_target(p, tr, now_ms))
		back = ctl_policy_target(p, tr, now_ms);
	ctl_policy_throttle(p, t, v, now_ms, back, CTL_CAUSE_OVER_LIMIT, o);
	/* one step back may not be enough: this limit is on trial too */
	tr->raised = 1;
}

/* The limit an active oc allows, from the rate it applies to. */
static void
ctl_policy_oc_update(struct ctl_policy_trunk *tr, const struct ctl_policy_view *v)
{
	uint32_t base, lim;

	if (!tr->oc_active)
		return;
	if (!tr->oc_have_base) {
		/* the rate we would send without the carrier's request */
		double r = v->rate_now;

		if (tr->state == CTL_POLICY_THROTTLED && r > tr->limit)
			r = tr->limit;
		else if (tr->state == CTL_POLICY_PAUSED)
			r = tr->pending_limit;
		base = r < 1.0 ? 1 : r > UINT32_MAX ? UINT32_MAX : (uint32_t)ceil(r);
		tr->oc_base = base;
		tr->oc_have_base = 1;
	}
	if (tr->oc_algo == DP_OC_ALGO_RATE) {
		lim = (uint32_t)tr->oc;
	} else {
		uint32_t loss = tr->oc > 100 ? 100 : (uint32_t)tr->oc;

		lim = (uint32_t)((uint64_t)tr->oc_base * (100 - loss) / 100);
	}
	tr->oc_limit = ctl_policy_clamp(lim, 1, tr->agreed_cps);
}

/*
 * The holding time of a call, by Little's law: concurrency over the
 * attempt rate. Which rate made the concurrency is not known (it lags the
 * rate by the holding time itself), so there are two estimates, over the
 * last few seconds and over the peak window: `longer` picks the longer
 * holding time (to decide whether raising is safe), else the shorter (to
 * decide how far to cut). 0 when unknown.
 */
static double
ctl_policy_hold_time(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s, int longer)
{
	double slow = ctl_policy_mean(p, tr, ctl_policy_back(s, p->conf.peak_window_s), s);
	double fast = ctl_policy_mean(p, tr, ctl_policy_back(s, ctl_policy_recent(p)), s);
	double rate = longer ? (fast < slow ? fast : slow) : (fast > slow ? fast : slow);

	if (tr->concurrent <= 0 || rate <= 0.0)
		return 0.0;
	return (double)tr->concurrent / rate;
}

/* The rate that keeps concurrency at the maximum, at least 1; 0 unknown. */
static uint32_t
ctl_policy_conc_rate(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s)
{
	double h = ctl_policy_hold_time(p, tr, s, 0);
	double r;

	if (h <= 0.0 || ctl_policy_conc_cap(tr) == 0)
		return 0;
	r = floor(ctl_policy_conc_cap(tr) / h);
	return r < 1.0 ? 1 : r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/*
 * Raise the limit of a throttled trunk by alpha when the carrier allows,
 * up to one step under the learned ceiling; there, after probe_interval,
 * one step above it (a probe). A probe that holds probe_hold without
 * 503s raises the ceiling; 503s answering it are handled by
 * ctl_policy_raised_503s.
 */
static void
ctl_policy_increase(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, struct ctl_policy_out *o)
{
	const struct cfg_policy *c = &p->conf;
	struct ctl_policy_trunk *tr = &p->trunks[t];
	uint64_t gap = (uint64_t)(c->hold_s > c->increase_interval_s ? c->hold_s
								     : c->increase_interval_s) *
		1000;
	struct ctl_policy_view aw;
	uint64_t from, top, next;
	uint32_t target, cap = ctl_policy_conc_cap(tr);

	if (tr->probing) {
		if (now_ms - tr->probe_ms < (uint64_t)c->probe_hold_s * 1000)
			return;
		/* the probe held: the carrier takes at least the probed rate */
		ctl_ceiling_confirm(&tr->ceil, now_ms, tr->agreed_cps, (double)tr->limit);
		tr->probing = 0;
		tr->probe_fails = 0;
		tr->next_probe_ms = now_ms + (uint64_t)c->probe_interval_s * 1000;
	}
	/* a limit that held probe_hold without 503s is proven */
	if (tr->raised && now_ms - tr->last_change_ms >= (uint64_t)c->probe_hold_s * 1000)
		tr->raised = 0;
	if (now_ms - tr->last_change_ms < gap)
		return;
	/* the 503 share since the limit last changed: it is the current limit's doing */
	from = ctl_policy_back(v->second, c->window_s);
	if (from < tr->limit_from)
		from = tr->limit_from;
	top = ctl_policy_window(p, tr, from, v->second, &aw);
	if (aw.r503 > 0 && aw.r503 * 100 >= (uint64_t)c->abate_share * aw.finals)
		return;
	target = ctl_policy_target(p, tr, now_ms);
	next = (uint64_t)tr->limit + c->alpha_cps;
	if (tr->oc_active && next > tr->oc_limit)
		next = tr->oc_limit;
	/*
	 * Concurrency follows the rate (Little's law): a step that would
	 * carry it past the maximum is not taken.
	 */
	if (cap > 0 && ctl_policy_hold_time(p, tr, v->second, 1) * (double)next > cap)
		return;
	/* at a learned concurrency cap the calls up are what limits: the rate stays */
	if (tr->conc_limit > 0 && ctl_policy_conc_now(tr) * 10 >= (int64_t)tr->conc_limit * 9)
		return;
	if (target < tr->agreed_cps && next > target) {
		if (tr->limit < target) {
			ctl_policy_throttle(p, t, v, now_ms, target, CTL_CAUSE_RECOVERED, o);
			return;
		}
		/* at the learned ceiling: probe one step above it, rarely */
		if (now_ms < tr->next_probe_ms || next <= tr->limit)
			return;
		tr->probe_base = tr->limit;
		ctl_policy_throttle(p, t, v, now_ms, (uint32_t)next, CTL_CAUSE_RECOVERED, o);
		tr->probing = 1;
		tr->probe_ms = now_ms;
		return;
	}
	if (next >= tr->agreed_cps) {
		/*
		 * Lifting our limit hands the dialer back the agreed rate; a
		 * dialer still pressing against it would be throttled again by
		 * the proactive rule, so at the agreed rate hold until it
		 * falls below. A learned concurrency cap stays: no resume.
		 */
		if (top < tr->agreed_cps && tr->conc_limit == 0)
			ctl_policy_resume(p, t, v, now_ms, CTL_CAUSE_RECOVERED, o);
		else if (tr->limit < tr->agreed_cps)
			ctl_policy_throttle(
				p, t, v, now_ms, tr->agreed_cps, CTL_CAUSE_RECOVERED, o);
		return;
	}
	if (next > tr->limit)
		ctl_policy_throttle(p, t, v, now_ms, (uint32_t)next, CTL_CAUSE_RECOVERED, o);
}

/*
 * A throttled trunk still above its concurrency: lower the limit to the
 * rate the holding time allows, but not while the concurrency is falling:
 * it lags the rate by the holding time, and cutting again while it drains
 * would cut too deep. Returns 1 when the limit was lowered.
 */
static int
ctl_policy_concurrency(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, struct ctl_policy_out *o)
{
	const struct cfg_policy *c = &p->conf;
	struct ctl_policy_trunk *tr = &p->trunks[t];
	uint32_t back = c->hold_s > 0 ? c->hold_s : 1;
	const struct ctl_policy_sample *then;
	uint32_t next;

	if (!c->proactive || tr->over_conc_run < CTL_POLICY_PROACTIVE_RUN ||
		now_ms - tr->last_change_ms < (uint64_t)c->hold_s * 1000 || v->second < back)
		return 0;
	then = ctl_policy_sample_at(p, tr, v->second - back);
	if (then == NULL || then->concurrent < 0 || tr->concurrent < then->concurrent)
		return 0;
	next = ctl_policy_conc_rate(p, tr, v->second);
	if (next == 0 || next >= tr->limit)
		return 0;
	ctl_policy_throttle(p, t, v, now_ms, next, CTL_CAUSE_PROACTIVE_CONCURRENCY, o);
	return 1;
}

/*
 * Do the 503s line up with concurrency rather than with the rate? Yes
 * when earlier onsets came at the same concurrency and different rates
 * (ctl_ceiling), or when the carrier refuses most new calls (`most`: at
 * least half of a second's attempts) at a steady rate under any learned
 * CPS ceiling while the concurrency climbed over the detection window
 * (calls accumulating up to the carrier's cap). Random 503s at a steady
 * rate refuse a few calls, not most. *conc: the cap seen.
 */
static int
ctl_policy_conc_bound(const struct ctl_policy *p, const struct ctl_policy_trunk *tr,
	const struct ctl_policy_view *v, uint64_t now_ms, int most, int64_t *conc)
{
	const struct ctl_policy_sample *then;
	int64_t now = ctl_policy_conc_now(tr), grow;
	double e = ctl_ceiling_cps(&tr->ceil, now_ms, tr->agreed_cps);

	if (now <= 0)
		return 0;
	if (ctl_ceiling_by_concurrency(&tr->ceil, conc)) {
		if (now < *conc)
			*conc = now;
		return 1;
	}
	if (!most || now < CTL_POLICY_CONC_MIN || v->rising || (e > 0.0 && v->rate_now >= e) ||
		v->second < p->conf.window_s)
		return 0;
	then = ctl_policy_sample_at(p, tr, v->second - p->conf.window_s);
	if (then == NULL || then->concurrent < 0)
		return 0;
	grow = then->concurrent / 10 > 2 ? then->concurrent / 10 : 2;
	if (now < then->concurrent + grow)
		return 0;
	*conc = now;
	return 1;
}

/*
 * The carrier caps concurrent calls at about conc: throttle to one call
 * under it and to the rate that keeps under it at the observed holding
 * time (Little's law). No pause: calls end by themselves, a pause would
 * only lose the ones that fit.
 */
static void
ctl_policy_conc_throttle(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, int64_t conc, struct ctl_policy_out *o)
{
	struct ctl_policy_trunk *tr = &p->trunks[t];
	double h = ctl_policy_hold_time(p, tr, v->second, 1);
	uint32_t lim;

	ctl_ceiling_note(&tr->ceil, now_ms, v->rate_now, conc);
	tr->conc_limit = conc > 1 ? (conc - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(conc - 1)) : 1;
	if (h > 0.0)
		lim = (uint32_t)ctl_policy_clamp(
			(uint32_t)floor(tr->conc_limit / h), 1, UINT32_MAX);
	else
		lim = (uint32_t)floor(v->rate_now * p->conf.beta_pct / 100.0);
	if (tr->state == CTL_POLICY_THROTTLED && lim > tr->limit)
		lim = tr->limit;
	tr->probing = 0;
	ctl_policy_throttle(p, t, v, now_ms, lim, CTL_CAUSE_OVER_LIMIT, o);
	tr->raised = 0;
}

/*
 * 503s since the state last changed, at now_ms (a slot or a second
 * boundary), in a normal or throttled trunk. In order:
 *  - a throttled trunk whose calls drain under a learned concurrency cap
 *    still gets 503s until they have: nothing new;
 *  - two 503s answering a raised limit (a probe or a climbing step): step
 *    back, no pause;
 *  - a cluster (burst_min_503 503s within a second, making at least half
 *    of burst_min_share % of the last closed second's attempts; for a
 *    concurrency cap a quarter of the rate if fewer) or a
 *    burst of the detection window: concurrency cap, over-limit (pause),
 *    or, in a normal trunk at a low steady rate, nothing here (the closed
 *    second's rule alerts).
 * Returns 1 when it acted.
 */
static int
ctl_policy_503s(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v, uint64_t now_ms,
	int window_burst, struct ctl_policy_out *o)
{
	const struct cfg_policy *c = &p->conf;
	struct ctl_policy_trunk *tr = &p->trunks[t];
	const struct ctl_policy_sample *last;
	struct ctl_cluster_sum since, cl;
	uint64_t from = now_ms >= 1000 ? now_ms - 1000 : 0, ref, need;
	int64_t conc;
	int cluster, low, share, acted = 1;

	if (tr->state == CTL_POLICY_PAUSED)
		return 0;
	if (tr->state == CTL_POLICY_THROTTLED && tr->conc_limit > 0 &&
		ctl_policy_conc_now(tr) >= (int64_t)tr->conc_limit)
		return 0;
	ctl_cluster_sum(&tr->cl, tr->last_change_ms, now_ms, &since);
	if (from < tr->last_change_ms)
		from = tr->last_change_ms;
	ctl_cluster_sum(&tr->cl, from, now_ms, &cl);
	last = p->last_second != CTL_POLICY_NO_SECOND ? ctl_policy_sample_at(p, tr, p->last_second)
						      : NULL;
	ref = last != NULL ? last->attempts : 0;
	/*
	 * A concurrency cap at a low rate refuses fewer than burst_min_503
	 * calls a second: there a quarter of the rate (at least two) is a
	 * cluster if the 503s line up with concurrency and refuse most calls.
	 */
	need = ref / 4 > 2 ? ref / 4 : 2;
	if (need > c->burst_min_503)
		need = c->burst_min_503;
	share = cl.r503 * 200 >= (uint64_t)c->burst_min_share * ref;
	low = cl.r503 >= need && share;
	cluster = cl.r503 >= c->burst_min_503 && share;
	tr->first_503_ms = cl.r503 > 0 ? cl.first_ms : since.first_ms;
	tr->cluster_503 = low || cluster ? cl.r503 : 0;
	if (tr->state == CTL_POLICY_THROTTLED && (tr->raised || tr->probing) && since.r503 >= 2) {
		tr->first_503_ms = since.first_ms;
		ctl_policy_step_back(p, t, v, now_ms, o);
	} else if (!low && !cluster && !window_burst) {
		acted = 0;
	} else if (ctl_policy_conc_bound(
			   p, tr, v, now_ms, cl.r503 >= 2 && cl.r503 * 2 >= ref, &conc)) {
		ctl_policy_conc_throttle(p, t, v, now_ms, conc, o);
	} else if (!cluster && !window_burst) {
		acted = 0;
	} else if (tr->state == CTL_POLICY_THROTTLED || ctl_policy_over_limit(p, tr, v)) {
		ctl_policy_burst(p, t, v, now_ms, o);
	} else {
		acted = 0;
	}
	tr->first_503_ms = 0;
	tr->cluster_503 = 0;
	return acted;
}

/*
 * The learned ceiling well under the contract is worth a human's look:
 * one `alert` (cause over-limit) while it stays under ceiling_alert_pct
 * of the agreed CPS, a `clear` once it drifted or was probed back above.
 */
static void
ctl_policy_ceiling_alert(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, struct ctl_policy_out *o)
{
	struct ctl_policy_trunk *tr = &p->trunks[t];
	double e = ctl_ceiling_cps(&tr->ceil, now_ms, tr->agreed_cps);
	int low = e > 0.0 && e * 100.0 < (double)p->conf.ceiling_alert_pct * tr->agreed_cps;

	if (low && !tr->ceiling_alert) {
		tr->ceiling_alert = 1;
		ctl_policy_emit(p, t, v, now_ms, CTL_ACT_ALERT, CTL_CAUSE_OVER_LIMIT, 0, 0, o);
	} else if (!low && tr->ceiling_alert) {
		tr->ceiling_alert = 0;
		ctl_policy_emit(p, t, v, now_ms, CTL_ACT_CLEAR, CTL_CAUSE_RECOVERED, 0, 0, o);
	}
}

/* 503s during a pause answer calls placed before it: not a new burst. */
static void
ctl_policy_pause_over(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, struct ctl_policy_out *o)
{
	struct ctl_policy_trunk *tr = &p->trunks[t];
	uint32_t lim = tr->pending_limit;
	enum ctl_cause cause = CTL_CAUSE_OVER_LIMIT;

	if (now_ms < tr->pause_until_ms)
		return;
	if (tr->oc_active && tr->oc_limit < lim) {
		lim = tr->oc_limit;
		cause = CTL_CAUSE_OVERLOAD_CONTROL;
	}
	ctl_policy_throttle(p, t, v, now_ms, lim, cause, o);
	/* the first rate after a pause tries the estimate: its 503s step it back */
	tr->raised = 1;
}

static void
ctl_policy_trunk_second(struct ctl_policy *p, uint32_t t, uint64_t s,
	const struct ctl_policy_input *in, int consecutive, struct ctl_policy_out *o)
{
	const struct cfg_policy *c = &p->conf;
	struct ctl_policy_trunk *tr = &p->trunks[t];
	struct ctl_policy_sample *sm = &tr->hist[s % p->hist_len];
	uint64_t now_ms = (s + 1) * 1000;
	struct ctl_policy_view v;
	int32_t ra;

	ra = in->retry_after > tr->pending_ra ? in->retry_after : tr->pending_ra;
	if (ra > CTL_POLICY_RETRY_AFTER_MAX)
		ra = CTL_POLICY_RETRY_AFTER_MAX;
	tr->pending_ra = -1;
	sm->second = s;
	if (tr->active_from == CTL_POLICY_NO_SECOND && in->attempts > 0)
		tr->active_from = s;
	sm->attempts = in->attempts;
	sm->finals = in->finals;
	sm->r503 = in->final_503;
	sm->retry_after = ra < 0 ? -1 : ra;
	sm->concurrent = in->concurrent;
	tr->concurrent = in->concurrent;

	if (!consecutive)
		tr->over_cps_run = tr->over_conc_run = 0;
	/*
	 * A dialer at exactly the agreed rate counts one call more in some
	 * seconds (calls straddle the second boundary): 5 % (at least one
	 * call) of slack keeps that from reading as "above agreed".
	 */
	tr->over_cps_run =
		in->attempts > tr->agreed_cps + (tr->agreed_cps / 20 > 1 ? tr->agreed_cps / 20 : 1)
		? tr->over_cps_run + 1
		: 0;
	tr->over_conc_run =
		ctl_policy_conc_cap(tr) > 0 && in->concurrent > (int64_t)ctl_policy_conc_cap(tr)
		? tr->over_conc_run + 1
		: 0;

	if (tr->oc_active && now_ms >= tr->oc_until_ms) {
		tr->oc_active = 0;
		tr->oc_have_base = 0;
	}

	ctl_policy_view(p, tr, s, &v);
	if (tr->oc_changed)
		ctl_policy_oc_update(tr, &v);

	if (tr->alerting)
		tr->quiet_s = v.burst ? 0 : tr->quiet_s + 1;

	switch (tr->state) {
	case CTL_POLICY_PAUSED:
		ctl_policy_pause_over(p, t, &v, now_ms, o);
		break;
	case CTL_POLICY_THROTTLED:
		if (ctl_policy_503s(p, t, &v, now_ms, v.burst, o))
			break;
		else if (tr->oc_changed && tr->oc_active && tr->oc_limit < tr->limit)
			ctl_policy_throttle(
				p, t, &v, now_ms, tr->oc_limit, CTL_CAUSE_OVERLOAD_CONTROL, o);
		else if (!ctl_policy_concurrency(p, t, &v, now_ms, o))
			ctl_policy_increase(p, t, &v, now_ms, o);
		break;
	case CTL_POLICY_NORMAL:
		if (ctl_policy_503s(p, t, &v, now_ms, v.burst, o))
			break;
		if (v.burst && !tr->alerting) {
			tr->alerting = 1;
			tr->quiet_s = 0;
			ctl_policy_emit(p, t, &v, now_ms, CTL_ACT_ALERT, CTL_CAUSE_CARRIER_TROUBLE,
				0, 0, o);
		}
		if (tr->oc_changed && tr->oc_active &&
			(tr->oc_algo == DP_OC_ALGO_RATE ? tr->oc_limit < tr->agreed_cps
							: tr->oc > 0)) {
			ctl_policy_throttle(
				p, t, &v, now_ms, tr->oc_limit, CTL_CAUSE_OVERLOAD_CONTROL, o);
		} else if (c->proactive && tr->over_cps_run >= CTL_POLICY_PROACTIVE_RUN) {
			ctl_policy_throttle(
				p, t, &v, now_ms, tr->agreed_cps, CTL_CAUSE_PROACTIVE_CPS, o);
		} else if (c->proactive && tr->over_conc_run >= CTL_POLICY_PROACTIVE_RUN) {
			uint32_t r = ctl_policy_conc_rate(p, tr, s);

			ctl_policy_throttle(p, t, &v, now_ms, r > 0 ? r : 1,
				CTL_CAUSE_PROACTIVE_CONCURRENCY, o);
		}
		break;
	}
	tr->oc_changed = 0;
	ctl_policy_ceiling_alert(p, t, &v, now_ms, o);

	if (tr->alerting && tr->quiet_s >= c->clear_after_s) {
		tr->alerting = 0;
		ctl_policy_emit(p, t, &v, now_ms, CTL_ACT_CLEAR, CTL_CAUSE_RECOVERED, 0, 0, o);
	}
}

unsigned int
ctl_policy_second(struct ctl_policy *p, uint64_t second, const struct ctl_policy_input *in,
	struct ctl_directive *out, unsigned int max)
{
	struct ctl_policy_out o = { .out = out, .max = out != NULL ? max : 0, .n = 0 };
	uint32_t t;
	int consecutive;

	if (p == NULL || in == NULL || second >= UINT64_MAX / 1000 - 1)
		return 0;
	if (p->last_second != CTL_POLICY_NO_SECOND && second <= p->last_second) {
		p->stats.stale_seconds++;
		return 0;
	}
	if (p->last_second == CTL_POLICY_NO_SECOND)
		p->first_second = second;
	consecutive = p->last_second != CTL_POLICY_NO_SECOND && second == p->last_second + 1;
	p->last_second = second;
	p->stats.seconds++;
	for (t = 0; t < p->n_trunks; t++)
		ctl_policy_trunk_second(p, t, second, &in[t], consecutive, &o);
	return o.n;
}

unsigned int
ctl_policy_tick(struct ctl_policy *p, uint64_t now_ms, const struct ctl_policy_slot *in,
	struct ctl_directive *out, unsigned int max)
{
	struct ctl_policy_out o = { .out = out, .max = out != NULL ? max : 0, .n = 0 };
	struct ctl_policy_view v;
	uint32_t t;

	if (p == NULL || now_ms >= UINT64_MAX / 2)
		return 0;
	now_ms -= now_ms % CTL_POLICY_SLOT_MS;
	if (now_ms <= p->last_tick_ms) {
		p->stats.stale_ticks++;
		return 0;
	}
	p->last_tick_ms = now_ms;
	p->stats.ticks++;
	for (t = 0; t < p->n_trunks; t++) {
		struct ctl_policy_trunk *tr = &p->trunks[t];

		if (in != NULL) {
			ctl_cluster_close(&tr->cl, now_ms - CTL_POLICY_SLOT_MS, in[t].attempts,
				in[t].concurrent);
			tr->slot_concurrent = in[t].concurrent;
		}
		/* what the closed seconds say, as of the last one */
		ctl_policy_view(p, tr,
			p->last_second != CTL_POLICY_NO_SECOND ? p->last_second : now_ms / 1000 - 1,
			&v);
		if (tr->state == CTL_POLICY_PAUSED)
			ctl_policy_pause_over(p, t, &v, now_ms, &o);
		else
			ctl_policy_503s(p, t, &v, now_ms, 0, &o);
	}
	return o.n;
}

/*
 * Overload control from one answer. The newest oc-seq wins (an answer
 * without oc-seq counts as newest: there is nothing to order it by),
 * oc-validity runs from the answer's own time, 0 ends overload control.
 */
static void
ctl_policy_event_oc(struct ctl_policy *p, struct ctl_policy_trunk *tr, const struct sg_event *e)
{
	uint64_t at_ms = e->time_ns / 1000000;
	int32_t validity;

	if (e->oc_algo != DP_OC_ALGO_NONE && e->oc_algo != DP_OC_ALGO_LOSS &&
		e->oc_algo != DP_OC_ALGO_RATE)
		return; /* an algorithm we do not implement: RFC 7339 says ignore */
	if (e->oc_seq_us != 0) {
		if (tr->oc_have_seq && e->oc_seq_us <= tr->oc_seq) {
			if (e->oc_seq_us < tr->oc_seq)
				p->stats.stale_oc++;
			return;
		}
		tr->oc_seq = e->oc_seq_us;
		tr->oc_have_seq = 1;
	}
	validity = e->oc_validity < 0 ? CTL_POLICY_OC_VALIDITY_DEFAULT_MS : e->oc_validity;
	if (validity == 0) {
		tr->oc_active = 0;
		tr->oc_have_base = 0;
		return;
	}
	if (!tr->oc_active)
		tr->oc_have_base = 0;
	tr->oc_active = 1;
	tr->oc_changed = 1;
	tr->oc = e->oc;
	tr->oc_algo = e->oc_algo == DP_OC_ALGO_RATE ? DP_OC_ALGO_RATE : DP_OC_ALGO_LOSS;
	tr->oc_validity_ms = validity;
	tr->oc_until_ms = at_ms + (uint64_t)validity;
}

void
ctl_policy_event(struct ctl_policy *p, const struct sg_event *e)
{
	struct ctl_policy_trunk *tr;

	if (p == NULL || e == NULL)
		return;
	if (e->trunk >= p->n_trunks) {
		p->stats.invalid_events++;
		return;
	}
	p->stats.events++;
	tr = &p->trunks[e->trunk];
	if (e->status == 503) {
		ctl_cluster_503(&tr->cl, e->time_ns / 1000000);
	}
	if (e->status == 503) {
		size_t len = e->call_id_len < SG_CALL_ID_MAX ? e->call_id_len : SG_CALL_ID_MAX;
		int32_t ra = e->retry_after > CTL_POLICY_RETRY_AFTER_MAX
			? CTL_POLICY_RETRY_AFTER_MAX
			: e->retry_after;

		if (ra > tr->pending_ra)
			tr->pending_ra = ra;
		if (len > 0) {
			ctl_policy_printable(tr->call_ids[tr->call_id_next],
				sizeof(tr->call_ids[0]), e->call_id, len);
			tr->call_id_next = (tr->call_id_next + 1) % CTL_DIRECTIVE_CALL_IDS;
			if (tr->n_call_ids < CTL_DIRECTIVE_CALL_IDS)
				tr->n_call_ids++;
		}
	}
	if (p->conf.honor_oc && e->oc >= 0)
		ctl_policy_event_oc(p, tr, e);
}

int
ctl_policy_set_cps(struct ctl_policy *p, uint32_t trunk, uint32_t cps, uint64_t now_ms,
	struct ctl_directive *out)
{
	struct ctl_policy_out o = { .out = out, .max = out != NULL ? 1 : 0, .n = 0 };
	struct ctl_policy_trunk *tr;
	struct ctl_policy_view v;
	uint64_t s;

	if (p == NULL || trunk >= p->n_trunks || cps == 0)
		return -1;
	tr = &p->trunks[trunk];
	s = p->last_second != CTL_POLICY_NO_SECOND ? p->last_second : 0;
	ctl_policy_view(p, tr, s, &v);
	/* changes take effect from the next closed second */
	v.second = s;
	tr->agreed_cps = cps;
	if (tr->oc_active)
		tr->oc_limit = ctl_policy_clamp(tr->oc_limit, 1, cps);
	switch (tr->state) {
	case CTL_POLICY_NORMAL:
		/* tell the dialers the new rate */
		tr->cause = CTL_CAUSE_MANUAL;
		tr->last_change_ms = now_ms;
		ctl_policy_emit(p, trunk, &v, now_ms, CTL_ACT_RESUME, CTL_CAUSE_MANUAL, cps, 0, &o);
		break;
	case CTL_POLICY_THROTTLED:
		if (tr->limit > cps)
			ctl_policy_throttle(p, trunk, &v, now_ms, cps, CTL_CAUSE_MANUAL, &o);
		break;
	case CTL_POLICY_PAUSED:
		tr->pending_limit = ctl_policy_clamp(tr->pending_limit, 1, cps);
		break;
	}
	return o.n > 0 ? 1 : 0;
}

static const char *
ctl_policy_state_name(const struct ctl_policy_trunk *tr)
{
	switch (tr->state) {
	case CTL_POLICY_PAUSED:
		return "paused";
	case CTL_POLICY_THROTTLED:
		return "throttled";
	default:
		return tr->alerting ? "alerting" : "normal";
	}
}

static void
ctl_policy_set(json_t *o, const char *key, json_t *v, int *err)
{
	if (v == NULL || o == NULL || json_object_set_new(o, key, v) != 0)
		*err = 1;
}

json_t *
ctl_policy_trunk_json(const struct ctl_policy *p, uint32_t trunk)
{
	const struct ctl_policy_trunk *tr;
	json_t *o, *oc = NULL;
	int err = 0;

	if (p == NULL || trunk >= p->n_trunks)
		return NULL;
	tr = &p->trunks[trunk];
	o = json_object();
	if (o == NULL)
		return NULL;
	ctl_policy_set(o, "state", json_string(ctl_policy_state_name(tr)), &err);
	ctl_policy_set(o, "alerting", json_boolean(tr->alerting), &err);
	ctl_policy_set(o, "limit_cps",
		tr->state == CTL_POLICY_THROTTLED ? json_integer(tr->limit) : json_null(), &err);
	ctl_policy_set(o, "agreed_cps", json_integer(tr->agreed_cps), &err);
	ctl_policy_set(o, "max_concurrent",
		tr->max_concurrent > 0 ? json_integer(tr->max_concurrent) : json_null(), &err);
	ctl_policy_set(o, "pause_until",
		tr->state == CTL_POLICY_PAUSED ? json_real((double)tr->pause_until_ms / 1000.0)
					       : json_null(),
		&err);
	ctl_policy_set(o, "bursts", json_integer((json_int_t)tr->bursts), &err);
	{
		double e = ctl_ceiling_cps(&tr->ceil, p->last_tick_ms, tr->agreed_cps);

		ctl_policy_set(o, "ceiling_cps",
			e > 0.0 ? json_real(round(e * 10.0) / 10.0) : json_null(), &err);
		ctl_policy_set(o, "target_cps",
			json_integer(ctl_policy_target(p, tr, p->last_tick_ms)), &err);
	}
	ctl_policy_set(o, "ceiling_concurrent",
		tr->conc_limit > 0 ? json_integer(tr->conc_limit) : json_null(), &err);
	ctl_policy_set(o, "probing", json_boolean(tr->probing), &err);
	ctl_policy_set(o, "onsets", json_integer((json_int_t)tr->ceil.onsets), &err);
	ctl_policy_set(o, "backoff_s", json_integer(tr->backoff_s), &err);
	ctl_policy_set(o, "cause",
		tr->state != CTL_POLICY_NORMAL || tr->last_change_ms != 0
			? json_string(ctl_cause_name(tr->cause))
			: json_null(),
		&err);
	if (tr->oc_active) {
		oc = json_object();
		ctl_policy_set(oc, "oc", json_integer(tr->oc), &err);
		ctl_policy_set(oc, "algo",
			json_string(tr->oc_algo == DP_OC_ALGO_RATE ? "rate" : "loss"), &err);
		ctl_policy_set(oc, "limit_cps",
			tr->oc_have_base || tr->oc_algo == DP_OC_ALGO_RATE
				? json_integer(tr->oc_limit)
				: json_null(),
			&err);
		ctl_policy_set(
			oc, "valid_until", json_real((double)tr->oc_until_ms / 1000.0), &err);
	} else {
		oc = json_null();
	}
	ctl_policy_set(o, "oc", oc, &err);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

enum ctl_policy_state
ctl_policy_trunk_state(const struct ctl_policy *p, uint32_t trunk)
{
	if (p == NULL || trunk >= p->n_trunks)
		return CTL_POLICY_NORMAL;
	return p->trunks[trunk].state;
}

uint32_t
ctl_policy_trunk_limit(const struct ctl_policy *p, uint32_t trunk)
{
	if (p == NULL || trunk >= p->n_trunks)
		return 0;
	return p->trunks[trunk].limit;
}

int
ctl_policy_trunk_alerting(const struct ctl_policy *p, uint32_t trunk)
{
	if (p == NULL || trunk >= p->n_trunks)
		return 0;
	return p->trunks[trunk].alerting;
}

void
ctl_policy_get_stats(const struct ctl_policy *p, struct ctl_policy_stats *out)
{
	if (p == NULL || out == NULL)
		return;
	*out = p->stats;
}

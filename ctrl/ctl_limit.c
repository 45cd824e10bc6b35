/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the rate-limit policy does about 503s (see ctl_policy.h): pause on
 * an over-limit burst, learn what the carrier really takes (ctl_ceiling),
 * come back to just under it and probe above it rarely, tell a
 * concurrency cap from a rate limit, and climb back when the carrier
 * allows. Deterministic like the rest of the policy: explicit time only.
 */
#include <math.h>
#include <string.h>

#include "ctl_policy_int.h"
#include "dp_sip.h"

/*
 * The rate a throttled trunk settles at: one step under what the carrier
 * was learned to take, never above the agreed CPS. The agreed CPS when
 * nothing was learned.
 */
uint32_t
ctl_policy_target(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t now_ms)
{
	double e = ctl_ceiling_cps(&tr->ceil, now_ms, tr->agreed_cps);
	uint32_t t;

	if (e <= 0.0)
		return tr->agreed_cps;
	t = (uint32_t)floor(e);
	t = t > p->conf.alpha_cps ? t - p->conf.alpha_cps : 1;
	return ctl_policy_clamp(t, 1, tr->agreed_cps);
}

/*
 * What the carrier refused at: the attempt rate of the last second of
 * 100 ms slots (for a shared account, this edge's slots plus the other
 * edges' rate: the carrier counts the account). Without slots (a policy
 * fed closed seconds only), one step above what the carrier took in the
 * last closed second with 503s (attempts minus 503s), else the recent
 * rate.
 */
static double
ctl_policy_refused_rate(const struct ctl_policy *p, const struct ctl_policy_trunk *tr,
	const struct ctl_policy_view *v, uint64_t now_ms)
{
	const struct ctl_policy_sample *sm;
	struct ctl_cluster_sum sum;

	ctl_cluster_sum(&tr->cl, now_ms >= 1000 ? now_ms - 1000 : 0, now_ms, &sum);
	if (sum.closed >= 5)
		return (double)sum.attempts * 10.0 / sum.closed + ctl_policy_fleet_others(tr);
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
	double onset = v->rate_now, refused = ctl_policy_refused_rate(p, tr, v, now_ms), prev;
	uint32_t dur, pending, target;
	int spared;

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
	/*
	 * The 100 ms attempts come a publication late, and later still when
	 * the dataplane falls behind: under a throttle never take less than
	 * the closed seconds' rate since it began, and never let one onset cut
	 * the estimate below beta % of what it was (a real drop shows again
	 * at the next onsets).
	 */
	if (tr->state == CTL_POLICY_THROTTLED && refused < onset)
		refused = onset;
	if (tr->state == CTL_POLICY_NORMAL) {
		/* the closed seconds: the recent rate, at most what the last one took */
		const struct ctl_policy_sample *sm = ctl_policy_sample_at(p, tr, v->second);
		double floor_rate = onset;

		if (sm != NULL && sm->attempts >= sm->r503 &&
			(double)(sm->attempts - sm->r503 + c->alpha_cps) < floor_rate)
			floor_rate = (double)(sm->attempts - sm->r503 + c->alpha_cps);
		if (refused < floor_rate)
			refused = floor_rate;
	}
	prev = ctl_ceiling_cps(&tr->ceil, now_ms, tr->agreed_cps);
	if (prev > 0.0 && refused < prev * c->beta_pct / 100.0 + c->alpha_cps)
		refused = prev * c->beta_pct / 100.0 + c->alpha_cps;
	/* a shared account's refusals under its limit are no ceiling (ctl_policy_fleet.c) */
	spared = ctl_policy_fleet_spared(p, tr, now_ms, refused);
	if (spared)
		ctl_ceiling_note(&tr->ceil, now_ms, refused,
			tr->slot_concurrent >= 0 ? tr->slot_concurrent : tr->concurrent);
	else
		ctl_ceiling_onset(&tr->ceil, now_ms, tr->agreed_cps,
			refused > c->alpha_cps ? refused - c->alpha_cps : 1.0,
			tr->slot_concurrent >= 0 ? tr->slot_concurrent : tr->concurrent);
	target = ctl_policy_target(p, tr, now_ms);
	/*
	 * Back to just under what the carrier takes; beta % of the onset rate
	 * only when nothing was learned (the estimate drifted back to the
	 * contract).
	 */
	pending = ctl_ceiling_cps(&tr->ceil, now_ms, tr->agreed_cps) > 0.0
		? target
		: (uint32_t)floor(onset * c->beta_pct / 100.0);
	if (tr->state == CTL_POLICY_THROTTLED && pending >= tr->limit)
		pending = tr->limit > 1 ? tr->limit - 1 : 1;
	if (spared)
		pending = tr->agreed_cps; /* back to the shares */
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
	ctl_policy_throttle(p, t, v, now_ms, back, CTL_CAUSE_OVER_LIMIT, o);
	/* one step back may not be enough: this limit is on trial too */
	tr->raised = 1;
}

/* The limit an active oc allows, from the rate it applies to. */
void
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
 * The holding time of the calls that ended by a BYE over the history the
 * policy keeps, from their measured lengths (the dataplane's dialogs,
 * 2xx to BYE). 0 until CTL_POLICY_HOLD_CALLS have ended: before that only
 * a lower bound is known.
 */
double
ctl_policy_hold_measured(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s)
{
	uint64_t from = ctl_policy_back(s, p->hist_len), t, n = 0, secs = 0;

	for (t = from; t <= s; t++) {
		const struct ctl_policy_sample *sm = ctl_policy_sample_at(p, tr, t);

		if (sm != NULL) {
			n += sm->calls_ended;
			secs += sm->call_seconds;
		}
	}
	if (n < CTL_POLICY_HOLD_CALLS || secs == 0)
		return 0.0;
	return (double)secs / (double)n;
}

/* Mean answered (2xx) calls a second over [from, to]; 0 when none. */
static double
ctl_policy_mean_ok(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t from, uint64_t to)
{
	uint64_t t, n = 0, sum = 0;

	if (p->last_second == CTL_POLICY_NO_SECOND || to < p->first_second)
		return 0.0;
	if (from < p->first_second)
		from = p->first_second;
	if (to + 1 > p->hist_len && from < to + 1 - p->hist_len)
		from = to + 1 - p->hist_len;
	for (t = from; t <= to; t++, n++) {
		const struct ctl_policy_sample *sm = ctl_policy_sample_at(p, tr, t);

		if (sm != NULL)
			sum += sm->ok;
	}
	return n > 0 ? (double)sum / (double)n : 0.0;
}

/*
 * The holding time of a call: measured from the calls that ended
 * (ctl_policy_hold_measured) once enough have; before that by Little's
 * law, the calls up over the rate of answered calls (refused attempts
 * hold no line; the attempt rate when no answer is known). Which rate
 * made the calls up is not known (they lag the rate by the holding time
 * itself), so there are two estimates, over the last few seconds and
 * over the peak window: `longer` picks the longer holding time (to decide
 * whether raising is safe), else the shorter (to decide how far to cut).
 * Before the first calls end, Little's law gives at most the time since
 * calls began: a lower bound. 0 when unknown.
 */
double
ctl_policy_hold_time(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s, int longer)
{
	double m = ctl_policy_hold_measured(p, tr, s);
	uint64_t from_slow = ctl_policy_back(s, p->conf.peak_window_s);
	uint64_t from_fast = ctl_policy_back(s, ctl_policy_recent(p));
	double slow = ctl_policy_mean_ok(p, tr, from_slow, s);
	double fast = ctl_policy_mean_ok(p, tr, from_fast, s);
	double rate;

	if (m > 0.0)
		return m;
	if (slow <= 0.0 || fast <= 0.0) {
		slow = ctl_policy_mean(p, tr, from_slow, s);
		fast = ctl_policy_mean(p, tr, from_fast, s);
	}
	rate = longer ? (fast < slow ? fast : slow) : (fast > slow ? fast : slow);
	if (tr->concurrent <= 0 || rate <= 0.0)
		return 0.0;
	return (double)tr->concurrent / rate;
}

/*
 * The rate a learned concurrency cap allows: the cap over the holding
 * time (Little's law). With a measured holding time, rounded to the
 * nearest call a second: the throttle carries the cap as a limit of
 * calls up too, which trims the rest at the dialer, and rounding down
 * would leave up to a third of a small cap unused (44 calls of 15 s: 2
 * CPS holds 30, 3 CPS fills it). With only the lower bound, rounded down.
 * 0 when unknown.
 */
static uint32_t
ctl_policy_conc_cps(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s)
{
	double m = ctl_policy_hold_measured(p, tr, s);
	double h = m > 0.0 ? m : ctl_policy_hold_time(p, tr, s, 1);
	double r;

	if (h <= 0.0 || tr->conc_limit == 0)
		return 0;
	r = m > 0.0 ? floor(tr->conc_limit / h + 0.5) : floor(tr->conc_limit / h);
	return r < 1.0 ? 1 : r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/* The rate that keeps concurrency at the maximum, at least 1; 0 unknown. */
uint32_t
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
 * A trunk throttled by a learned concurrency cap keeps the rate that
 * fills the cap at the measured holding time: the first throttle's rate
 * came from a lower bound of it (no call had ended yet), and the calls'
 * real length is known once they end. No additive climb and no probes:
 * the calls up, not the rate, are what the carrier limits. A change needs
 * the exact rate more than 0.6 of a call a second from the limit, so a
 * holding time at a rounding edge does not make the limit flap.
 */
static void
ctl_policy_conc_follow(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, uint64_t gap_ms, struct ctl_policy_out *o)
{
	struct ctl_policy_trunk *tr = &p->trunks[t];
	double m = ctl_policy_hold_measured(p, tr, v->second), exact;
	uint32_t want;

	if (m <= 0.0 || now_ms - tr->last_change_ms < gap_ms)
		return;
	exact = tr->conc_limit / m;
	want = ctl_policy_conc_cps(p, tr, v->second);
	if (tr->oc_active && want > tr->oc_limit)
		want = tr->oc_limit;
	want = ctl_policy_clamp(want, 1, tr->agreed_cps);
	if (want == tr->limit || fabs(exact - (double)tr->limit) < 0.6)
		return;
	/* calls up at the cap: a higher rate would only meet the dialer's call limit */
	if (want > tr->limit && ctl_policy_conc_now(tr) >= (int64_t)tr->conc_limit)
		return;
	ctl_policy_throttle(p, t, v, now_ms, want,
		want > tr->limit ? CTL_CAUSE_RECOVERED : CTL_CAUSE_OVER_LIMIT, o);
	/* not on trial: at the cap the throttle's own call limit keeps it */
	tr->raised = 0;
}

/*
 * Raise the limit of a throttled trunk by alpha when the carrier allows,
 * up to one step under the learned ceiling; there, after probe_interval,
 * one step above it (a probe). A probe that holds probe_hold without
 * 503s raises the ceiling; 503s answering it are handled by
 * ctl_policy_503s. A learned concurrency cap sets the rate instead
 * (ctl_policy_conc_follow), and stays: no resume.
 */
void
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
	if (tr->conc_limit > 0) {
		ctl_policy_conc_follow(p, t, v, now_ms, gap, o);
		return;
	}
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
	if (next >= tr->agreed_cps) {
		/*
		 * One step from the contract. A dialer that no longer presses
		 * against our limit is handed the agreed rate back (resume); one
		 * still at it would only be throttled again by the proactive
		 * rule, or meet the carrier's 503s, so it stays throttled: at the
		 * contract when nothing was learned under it, else just under the
		 * learned ceiling with the contract as its rare probe.
		 */
		if (top < tr->limit) {
			ctl_policy_resume(p, t, v, now_ms, CTL_CAUSE_RECOVERED, o);
			return;
		}
		if (tr->limit >= tr->agreed_cps)
			return;
		if (target < tr->agreed_cps && tr->limit < target) {
			ctl_policy_throttle(p, t, v, now_ms, target, CTL_CAUSE_RECOVERED, o);
			return;
		}
		if (target < tr->agreed_cps && now_ms < tr->next_probe_ms)
			return;
		tr->probe_base = tr->limit;
		ctl_policy_throttle(p, t, v, now_ms, tr->agreed_cps, CTL_CAUSE_RECOVERED, o);
		if (target < tr->agreed_cps) {
			tr->probing = 1;
			tr->probe_ms = now_ms;
		}
		return;
	}
	if (next > target) {
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
	if (next > tr->limit)
		ctl_policy_throttle(p, t, v, now_ms, (uint32_t)next, CTL_CAUSE_RECOVERED, o);
}

/*
 * A throttled trunk still above its concurrency: lower the limit to the
 * rate the holding time allows, but not while the concurrency is falling:
 * it lags the rate by the holding time, and cutting again while it drains
 * would cut too deep. Returns 1 when the limit was lowered.
 */
int
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
 * Do the 503s line up with concurrency rather than with the rate? Not by
 * comparing onsets: behind a CPS limit the calls up at each onset are the
 * same too (the accepted rate times the holding time) while the offered
 * rate differs. Yes when the carrier refuses most new calls (`most`: at
 * least half of a second's attempts) at a steady rate under the agreed
 * CPS and any learned CPS ceiling while the concurrency climbed by a
 * quarter over the detection window (calls accumulating up to the
 * carrier's cap). Random 503s at a steady
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
	if (!most || now < CTL_POLICY_CONC_MIN || v->rising || (e > 0.0 && v->rate_now >= e) ||
		v->rate_now > tr->agreed_cps || v->second < p->conf.window_s)
		return 0;
	then = ctl_policy_sample_at(p, tr, v->second - p->conf.window_s);
	if (then == NULL || then->concurrent < 0)
		return 0;
	/* a quarter more, five calls at least: a flat level jitters by a few */
	grow = then->concurrent / 4 > 5 ? then->concurrent / 4 : 5;
	if (now < then->concurrent + grow)
		return 0;
	*conc = now;
	return 1;
}

/*
 * The carrier caps concurrent calls at about conc: throttle to one call
 * under it and to the rate that keeps under it at the holding time
 * (Little's law, ctl_policy_conc_cps). No pause: calls end by themselves,
 * a pause would only lose the ones that fit.
 */
static void
ctl_policy_conc_throttle(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v,
	uint64_t now_ms, int64_t conc, struct ctl_policy_out *o)
{
	struct ctl_policy_trunk *tr = &p->trunks[t];
	uint32_t lim;

	ctl_ceiling_note(&tr->ceil, now_ms, v->rate_now, conc);
	tr->conc_limit = conc > 1 ? (conc - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(conc - 1)) : 1;
	lim = ctl_policy_conc_cps(p, tr, v->second);
	if (lim == 0)
		lim = (uint32_t)floor(v->rate_now * p->conf.beta_pct / 100.0);
	if (tr->state == CTL_POLICY_THROTTLED && lim > tr->limit)
		lim = tr->limit;
	tr->probing = 0;
	ctl_policy_throttle(p, t, v, now_ms, lim, CTL_CAUSE_OVER_LIMIT, o);
	tr->raised = 0;
}

/*
 * The closed seconds' window of v counting only the 503s of seconds that
 * ended with the calls up under `near` (and began so: the second before
 * too): is it still a burst? *r503 gets those 503s.
 */
static int
ctl_policy_unexplained(const struct ctl_policy *p, const struct ctl_policy_trunk *tr,
	const struct ctl_policy_view *v, int64_t near, uint64_t *r503)
{
	const struct cfg_policy *c = &p->conf;
	uint64_t from = ctl_policy_back(v->second, v->n > 0 ? v->n : 1), s, finals;
	const struct ctl_policy_sample *sm, *prev;

	*r503 = 0;
	for (s = from; s <= v->second; s++) {
		sm = ctl_policy_sample_at(p, tr, s);
		prev = s > 0 ? ctl_policy_sample_at(p, tr, s - 1) : NULL;
		if (sm == NULL || sm->r503 == 0 || sm->concurrent >= near ||
			(prev != NULL && prev->concurrent >= near))
			continue;
		*r503 += sm->r503;
	}
	finals = v->finals > *r503 ? v->finals : *r503;
	return *r503 >= c->burst_min_503 && *r503 * 100 >= c->burst_min_share * finals;
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
int
ctl_policy_503s(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v, uint64_t now_ms,
	int window_burst, struct ctl_policy_out *o)
{
	const struct cfg_policy *c = &p->conf;
	struct ctl_policy_trunk *tr = &p->trunks[t];
	const struct ctl_policy_sample *last;
	struct ctl_cluster_sum since, cl, two;
	uint64_t from = now_ms >= 1000 ? now_ms - 1000 : 0, ref, need, wr503 = v->r503;
	int64_t conc, near = ctl_policy_conc_near(tr);
	int cluster, low, share, most, acted = 1;

	if (tr->state == CTL_POLICY_PAUSED)
		return 0;
	/*
	 * Calls draining under a learned concurrency cap still meet 503s until
	 * they have: the carrier also counts calls being set up or torn down,
	 * more than the confirmed dialogs seen here, and the closed seconds
	 * count 503s a publication late. Within 80 % of the cap they are
	 * expected; the rate is already the one that keeps under it.
	 */
	if (tr->state == CTL_POLICY_THROTTLED && tr->conc_limit > 0 &&
		ctl_policy_conc_now(tr) * 10 >= (int64_t)tr->conc_limit * 8)
		return 0;
	/*
	 * What answered the current limit: from half a second after it was
	 * set (answers to calls placed before it, and a dataplane a little
	 * behind, still come in that half second).
	 */
	ctl_cluster_sum_below(
		&tr->cl, tr->last_change_ms + CTL_POLICY_SETTLE_MS, now_ms, near, &since);
	if (from < tr->last_change_ms)
		from = tr->last_change_ms;
	ctl_cluster_sum_below(&tr->cl, from, now_ms, near, &cl);
	/*
	 * Under a learned concurrency cap, only 503s the cap does not explain
	 * count (above, near: those answered while the calls up were under
	 * 80 % of it); the closed seconds' burst likewise. A 503 answered at
	 * the cap and judged later, once calls have ended, is still the cap's.
	 */
	if (tr->conc_limit > 0 && window_burst)
		window_burst = ctl_policy_unexplained(p, tr, v, near, &wr503);
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
	/*
	 * Most new calls refused, as a capped carrier refuses every call
	 * while at its cap: in the last two seconds (four 503s at least, half
	 * the attempts), or over the detection window. Random 503s refuse a
	 * few calls, not most, not for seconds.
	 */
	ctl_cluster_sum_below(&tr->cl, now_ms >= 2000 ? now_ms - 2000 : 0, now_ms, near, &two);
	if (two.closed < 10)
		two.attempts = 2 * ref;
	most = (two.r503 >= 4 && two.r503 * 2 >= two.attempts) ||
		(window_burst && wr503 >= 4 && wr503 * 2 >= v->attempts);
	tr->first_503_ms = cl.r503 > 0 ? cl.first_ms : since.first_ms;
	tr->cluster_503 = low || cluster ? cl.r503 : 0;
	/*
	 * A limit on trial fails on two 503s that are not a stray few: at
	 * least abate_share % of the attempts since it was set.
	 */
	if (tr->state == CTL_POLICY_THROTTLED && (tr->raised || tr->probing) && since.r503 >= 2 &&
		(since.closed == 0 ||
			since.r503 * 100 >= (uint64_t)c->abate_share * since.attempts)) {
		tr->first_503_ms = since.first_ms;
		ctl_policy_step_back(p, t, v, now_ms, o);
	} else if (!low && !cluster && !window_burst) {
		acted = 0;
	} else if (ctl_policy_conc_bound(p, tr, v, now_ms, most, &conc)) {
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
void
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
void
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
	ctl_policy_fleet_pause_over(tr);
}

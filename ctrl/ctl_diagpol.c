/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy's use of the diagnosis class (see ctl_diagpol.h): counting
 * 503s by class, and the class rules that decide before the rate-based
 * ones of ctl_limit.c. Deterministic like the rest of the policy.
 */
#include <math.h>
#include <string.h>

#include "ctl_diagpol.h"
#include "ctl_policy_int.h"

void
ctl_diagpol_init(struct ctl_diagpol *dg)
{
	memset(dg, 0, sizeof(*dg));
}

void
ctl_diagpol_event(struct ctl_diagpol *dg, const struct sg_event *e)
{
	uint64_t ms = e->time_ns / 1000000, slot = ms / CTL_POLICY_SLOT_MS + 1, sec = ms / 1000 + 1;
	uint32_t k = e->diag_class < SG_DIAG_COUNT ? e->diag_class : SG_DIAG_UNCLASSIFIED;
	uint32_t i;

	if (e->status != 503)
		return;
	/* tags are slot + 1 so that 0 means empty; a slot older than the ring is dropped */
	i = (uint32_t)(slot % CTL_DIAGPOL_SLOTS);
	if (dg->slot_tag[i] < slot) {
		dg->slot_tag[i] = slot;
		memset(dg->slot_n[i], 0, sizeof(dg->slot_n[i]));
		memset(dg->slot_first[i], 0, sizeof(dg->slot_first[i]));
	}
	if (dg->slot_tag[i] == slot && dg->slot_n[i][k] < UINT16_MAX) {
		if (dg->slot_n[i][k] == 0 || ms < dg->slot_first[i][k])
			dg->slot_first[i][k] = ms;
		dg->slot_n[i][k]++;
	}
	i = (uint32_t)(sec % CTL_DIAGPOL_SECS);
	if (dg->sec_tag[i] < sec) {
		dg->sec_tag[i] = sec;
		memset(dg->sec_n[i], 0, sizeof(dg->sec_n[i]));
	}
	if (dg->sec_tag[i] == sec)
		dg->sec_n[i][k]++;
	if (e->diag_rule != 0)
		dg->rule[k] = e->diag_rule;
	if ((k == SG_DIAG_ROUTE_DOWN || k == SG_DIAG_MAINTENANCE) && ms > dg->dead_ms)
		dg->dead_ms = ms;
}

static void
ctl_diagpol_lead(struct ctl_diagpol_view *v)
{
	uint32_t k;

	v->total = 0;
	v->leading = SG_DIAG_UNCLASSIFIED;
	for (k = 0; k < SG_DIAG_COUNT; k++) {
		v->total += v->n[k];
		if (v->n[k] > v->n[v->leading])
			v->leading = (uint8_t)k;
	}
}

void
ctl_diagpol_recent(
	const struct ctl_diagpol *dg, uint64_t from_ms, uint64_t to_ms, struct ctl_diagpol_view *v)
{
	uint32_t i, k;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < CTL_DIAGPOL_SLOTS; i++) {
		uint64_t start;

		if (dg->slot_tag[i] == 0)
			continue;
		start = (dg->slot_tag[i] - 1) * CTL_POLICY_SLOT_MS;
		if (start < from_ms - from_ms % CTL_POLICY_SLOT_MS || start >= to_ms)
			continue;
		for (k = 0; k < SG_DIAG_COUNT; k++)
			v->n[k] += dg->slot_n[i][k];
	}
	ctl_diagpol_lead(v);
}

void
ctl_diagpol_window(
	const struct ctl_diagpol *dg, uint64_t from_s, uint64_t to_s, struct ctl_diagpol_view *v)
{
	uint32_t i, k;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < CTL_DIAGPOL_SECS; i++) {
		uint64_t s;

		if (dg->sec_tag[i] == 0)
			continue;
		s = dg->sec_tag[i] - 1;
		if (s < from_s || s > to_s)
			continue;
		for (k = 0; k < SG_DIAG_COUNT; k++)
			v->n[k] += dg->sec_n[i][k];
	}
	ctl_diagpol_lead(v);
}

void
ctl_diagpol_evidence(
	const struct ctl_diagpol *dg, uint64_t now_ms, uint32_t window_s, struct ctl_evidence *ev)
{
	struct ctl_diagpol_view w;
	uint64_t now_s = now_ms / 1000;
	uint32_t k;

	ctl_diagpol_window(dg, now_s >= window_s ? now_s - window_s : 0, now_s, &w);
	ev->diag_decided = dg->decided;
	if (dg->decided != 0)
		k = dg->decided;
	else if (w.total > 0)
		k = w.leading;
	else
		return; /* no 503 lately: no class */
	ev->diag_has = 1;
	ev->diag_class = (uint8_t)k;
	ev->diag_rule = dg->rule[k];
	ev->class_503 = w.n[k];
}

/*
 * A directive decided by class: the evidence names it. emit copies the
 * trunk's cluster fields; they are set for this one directive.
 */
static void
ctl_diagpol_emit_with(struct ctl_policy_trunk *tr, uint8_t cls, uint64_t first_ms, uint32_t n503)
{
	tr->dg.decided = cls;
	tr->first_503_ms = first_ms;
	tr->cluster_503 = n503;
}

static void
ctl_diagpol_emit_done(struct ctl_policy_trunk *tr)
{
	tr->dg.decided = 0;
	tr->first_503_ms = 0;
	tr->cluster_503 = 0;
}

/* Packet time of the first 503 of class k in the slots of [from_ms, to_ms); 0 none. */
static uint64_t
ctl_diagpol_first(const struct ctl_diagpol *dg, uint32_t k, uint64_t from_ms, uint64_t to_ms)
{
	uint64_t best = 0;
	uint32_t i;

	for (i = 0; i < CTL_DIAGPOL_SLOTS; i++) {
		uint64_t start;

		if (dg->slot_tag[i] == 0 || dg->slot_n[i][k] == 0)
			continue;
		start = (dg->slot_tag[i] - 1) * CTL_POLICY_SLOT_MS;
		if (start + CTL_POLICY_SLOT_MS <= from_ms || start >= to_ms)
			continue;
		if (best == 0 || dg->slot_first[i][k] < best)
			best = dg->slot_first[i][k];
	}
	return best;
}

/*
 * What the carrier took just now: the attempts of the last second of
 * slots less its 503s (the recent rate less them without slots).
 */
static double
ctl_diagpol_taken(
	const struct ctl_policy_trunk *tr, const struct ctl_policy_view *v, uint64_t now_ms)
{
	struct ctl_cluster_sum sum;
	double rate;

	ctl_cluster_sum(&tr->cl, now_ms >= 1000 ? now_ms - 1000 : 0, now_ms, &sum);
	rate = sum.closed >= 5 ? (double)sum.attempts * 10.0 / sum.closed : v->rate_now;
	return rate > sum.r503 + 1.0 ? rate - sum.r503 : 1.0;
}

/*
 * The carrier said "CPS limit": throttle, no pause, one step under what
 * it took while refusing the rest (an onset of the learned ceiling).
 * Further 503s step the limit back (it is on trial, as after a pause).
 */
static void
ctl_diagpol_cps(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v, uint64_t now_ms,
	uint64_t first_ms, uint32_t n503, struct ctl_policy_out *o)
{
	const struct cfg_policy *c = &p->conf;
	struct ctl_policy_trunk *tr = &p->trunks[t];
	double taken = ctl_diagpol_taken(tr, v, now_ms);
	uint32_t lim;

	ctl_ceiling_onset(&tr->ceil, now_ms, tr->agreed_cps, taken, ctl_policy_conc_now(tr));
	lim = ctl_policy_target(p, tr, now_ms);
	/* never above what it took */
	if (lim > taken)
		lim = taken > 1.0 ? (uint32_t)floor(taken) : 1;
	tr->next_probe_ms = now_ms + (uint64_t)c->probe_interval_s * 1000;
	tr->bursts++;
	tr->probing = 0;
	ctl_diagpol_emit_with(tr, SG_DIAG_CPS_LIMIT, first_ms, n503);
	ctl_policy_throttle(p, t, v, now_ms, lim, CTL_CAUSE_OVER_LIMIT, o);
	ctl_diagpol_emit_done(tr);
	tr->raised = 1;
}

/*
 * The carrier said "concurrent calls": one call under the calls up now,
 * and the rate that keeps under it at the holding time (Little's law).
 * 0 when the calls up are not known: the rate-based rules decide.
 */
static int
ctl_diagpol_conc(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v, uint64_t now_ms,
	uint64_t first_ms, uint32_t n503, struct ctl_policy_out *o)
{
	struct ctl_policy_trunk *tr = &p->trunks[t];
	int64_t conc = ctl_policy_conc_now(tr);
	double h = ctl_policy_hold_time(p, tr, v->second, 1);
	uint32_t lim;

	if (conc < 1)
		return 0;
	ctl_ceiling_note(&tr->ceil, now_ms, v->rate_now, conc);
	tr->conc_limit = conc > 1 ? (conc - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(conc - 1)) : 1;
	if (h > 0.0)
		lim = (uint32_t)floor(tr->conc_limit / h);
	else
		lim = (uint32_t)floor(v->rate_now * p->conf.beta_pct / 100.0);
	if (lim < 1)
		lim = 1;
	if (tr->state == CTL_POLICY_THROTTLED && lim > tr->limit)
		lim = tr->limit;
	tr->probing = 0;
	ctl_diagpol_emit_with(tr, SG_DIAG_CONCURRENCY_LIMIT, first_ms, n503);
	ctl_policy_throttle(p, t, v, now_ms, lim, CTL_CAUSE_OVER_LIMIT, o);
	ctl_diagpol_emit_done(tr);
	tr->raised = 0;
	return 1;
}

/* route-down or maintenance: one alert per class, a clear after clear_after quiet seconds. */
static void
ctl_diagpol_dead(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v, uint64_t now_ms,
	const struct ctl_diagpol_view *w, struct ctl_policy_out *o)
{
	struct ctl_policy_trunk *tr = &p->trunks[t];
	uint32_t need = p->conf.burst_min_503 < CTL_DIAGPOL_MIN_503 ? p->conf.burst_min_503
								    : CTL_DIAGPOL_MIN_503;
	uint8_t cls = w->n[SG_DIAG_MAINTENANCE] > w->n[SG_DIAG_ROUTE_DOWN] ? SG_DIAG_MAINTENANCE
									   : SG_DIAG_ROUTE_DOWN;

	if (w->n[cls] < need || tr->dg.alert_class == cls)
		return;
	tr->dg.alert_class = cls;
	ctl_diagpol_emit_with(tr, cls,
		ctl_diagpol_first(&tr->dg, cls,
			now_ms >= CTL_DIAGPOL_SLOTS * CTL_POLICY_SLOT_MS
				? now_ms - CTL_DIAGPOL_SLOTS * CTL_POLICY_SLOT_MS
				: 0,
			now_ms),
		w->n[cls]);
	ctl_policy_emit(p, t, v, now_ms, CTL_ACT_ALERT,
		cls == SG_DIAG_MAINTENANCE ? CTL_CAUSE_MAINTENANCE : CTL_CAUSE_ROUTE_DOWN, 0, 0, o);
	ctl_diagpol_emit_done(tr);
}

int
ctl_diagpol_503s(struct ctl_policy *p, uint32_t t, const struct ctl_policy_view *v, uint64_t now_ms,
	struct ctl_policy_out *o)
{
	const struct cfg_policy *c = &p->conf;
	struct ctl_policy_trunk *tr = &p->trunks[t];
	struct ctl_diagpol *dg = &tr->dg;
	uint32_t need =
		c->burst_min_503 < CTL_DIAGPOL_MIN_503 ? c->burst_min_503 : CTL_DIAGPOL_MIN_503;
	uint64_t now_s = now_ms / 1000, from, back;
	struct ctl_diagpol_view w, r;
	uint32_t dead;

	ctl_diagpol_window(dg, now_s >= c->window_s ? now_s - c->window_s : 0, now_s, &w);
	dead = w.n[SG_DIAG_ROUTE_DOWN] + w.n[SG_DIAG_MAINTENANCE];
	if (dg->alert_class != 0 && now_ms >= dg->dead_ms + (uint64_t)c->clear_after_s * 1000) {
		uint8_t cls = dg->alert_class;

		dg->alert_class = 0;
		ctl_diagpol_emit_with(tr, cls, 0, 0);
		ctl_policy_emit(p, t, v, now_ms, CTL_ACT_CLEAR, CTL_CAUSE_RECOVERED, 0, 0, o);
		ctl_diagpol_emit_done(tr);
	}
	/* most 503s say the route is down: not a limit, nothing to throttle */
	if (dead > 0 && dead * 2 >= w.total) {
		ctl_diagpol_dead(p, t, v, now_ms, &w, o);
		return 1;
	}
	if (tr->state == CTL_POLICY_PAUSED)
		return 0;
	/*
	 * What answered the current state: from when it was set (and settled),
	 * over the detection window at most; 503s count by packet time
	 * whenever their events arrive.
	 */
	back = (uint64_t)(c->window_s < CTL_DIAGPOL_SLOTS / 10 ? c->window_s
							       : CTL_DIAGPOL_SLOTS / 10) *
		1000;
	from = now_ms >= back ? now_ms - back : 0;
	if (tr->last_change_ms > 0 && from < tr->last_change_ms + CTL_POLICY_SETTLE_MS)
		from = tr->last_change_ms + CTL_POLICY_SETTLE_MS;
	if (from >= now_ms)
		return 0;
	ctl_diagpol_recent(dg, from, now_ms, &r);
	if (tr->state == CTL_POLICY_NORMAL && r.n[SG_DIAG_CPS_LIMIT] >= need &&
		r.n[SG_DIAG_CPS_LIMIT] * 2 >= r.total) {
		ctl_diagpol_cps(p, t, v, now_ms,
			ctl_diagpol_first(dg, SG_DIAG_CPS_LIMIT, from, now_ms),
			r.n[SG_DIAG_CPS_LIMIT], o);
		return 1;
	}
	if ((tr->state == CTL_POLICY_NORMAL || tr->conc_limit == 0) &&
		r.n[SG_DIAG_CONCURRENCY_LIMIT] >= need &&
		r.n[SG_DIAG_CONCURRENCY_LIMIT] * 2 >= r.total)
		return ctl_diagpol_conc(p, t, v, now_ms,
			ctl_diagpol_first(dg, SG_DIAG_CONCURRENCY_LIMIT, from, now_ms),
			r.n[SG_DIAG_CONCURRENCY_LIMIT], o);
	return 0;
}

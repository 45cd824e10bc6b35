/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rate-limit policy: per trunk, a short history of one-second samples,
 * 100 ms slots of 503s and attempts, and a small state machine that
 * decides when dialers pause, throttle, resume and when a human is
 * alerted (see ctl_policy.h for the states and config/README.md for every
 * parameter). This file keeps the history and the plumbing; what the
 * history says (windows, rates, the view of a second) is read in
 * ctl_policy_view.c, and the rules about 503s and recovery are in
 * ctl_limit.c. Deterministic by construction:
 * integer arithmetic where a threshold is compared, no clock, no
 * randomness, the same samples and events give the same directives.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_policy_int.h"
#include "dp_sip.h"

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
		ctl_diagpol_init(&tr->dg);
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

struct ctl_policy *
ctl_policy_rebuild(const struct ctl_policy *old, const struct cfg_policy *conf, uint32_t n_trunks,
	const char *const names[], const uint32_t agreed_cps[], const uint32_t max_concurrent[],
	const uint32_t from[])
{
	struct ctl_policy *p = ctl_policy_create(conf, n_trunks, names, agreed_cps, max_concurrent);
	uint32_t i, j;

	if (p == NULL || old == NULL)
		return p;
	p->seq = old->seq;
	p->first_second = old->first_second;
	p->last_second = old->last_second;
	p->stats = old->stats;
	for (i = 0; i < n_trunks; i++) {
		struct ctl_policy_trunk *tr = &p->trunks[i];
		struct ctl_policy_sample *hist = tr->hist;
		char name[SG_TRUNK_NAME_MAX];
		uint32_t cps = tr->agreed_cps, maxc = tr->max_concurrent;

		if (from == NULL || from[i] >= old->n_trunks)
			continue;
		/* the trunk's whole state goes on; the config's values are new */
		memcpy(name, tr->name, sizeof(name));
		*tr = old->trunks[from[i]];
		memcpy(tr->name, name, sizeof(name));
		tr->agreed_cps = cps;
		tr->max_concurrent = maxc;
		tr->hist = hist;
		/* history is kept by second: each sample to its place in the new ring */
		for (j = 0; j < old->hist_len; j++) {
			const struct ctl_policy_sample *sm = &old->trunks[from[i]].hist[j];
			struct ctl_policy_sample *dst;

			if (sm->second == CTL_POLICY_NO_SECOND)
				continue;
			dst = &hist[sm->second % p->hist_len];
			if (dst->second == CTL_POLICY_NO_SECOND || dst->second < sm->second)
				*dst = *sm;
		}
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
	ctl_diagpol_evidence(&tr->dg, now_ms, p->conf.window_s, ev);
	/* newest first */
	for (i = 0; i < tr->n_call_ids; i++) {
		uint32_t k = (tr->call_id_next + CTL_DIRECTIVE_CALL_IDS - 1 - i) %
			CTL_DIRECTIVE_CALL_IDS;

		memcpy(ev->call_ids[i], tr->call_ids[k], sizeof(ev->call_ids[i]));
	}
	ev->n_call_ids = tr->n_call_ids;
}

void
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

void
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

void
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
	int held;

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
	sm->ok = in->final_2xx;
	sm->calls_ended = in->calls_ended;
	sm->call_seconds = in->call_seconds;
	sm->retry_after = ra < 0 ? -1 : ra;
	sm->concurrent = in->concurrent;
	tr->concurrent = in->concurrent;

	if (!consecutive)
		tr->over_cps_run = tr->over_conc_run = 0;
	/*
	 * A dialer at exactly the agreed rate counts one call more in some
	 * seconds (calls straddle the second boundary): 5 % (at least one
	 * call) of slack keeps that from reading as "above agreed". For a shared
	 * account most of the detection window must be above it too
	 * (ctl_policy_fleet.c).
	 */
	tr->over_cps_run =
		ctl_policy_fleet_over_cps(p, tr, s, in->attempts) ? tr->over_cps_run + 1 : 0;
	/*
	 * A learned cap is one call under the calls up the carrier refused
	 * at: that level itself, the calls placed before the throttle, is
	 * not over it.
	 */
	tr->over_conc_run = ctl_policy_conc_cap(tr) > 0 &&
			in->concurrent > (int64_t)ctl_policy_conc_cap(tr) +
					(tr->conc_limit > 0 &&
						tr->conc_limit == ctl_policy_conc_cap(tr))
		? tr->over_conc_run + 1
		: 0;

	if (tr->oc_active && now_ms >= tr->oc_until_ms) {
		tr->oc_active = 0;
		tr->oc_have_base = 0;
	}

	/* read from the policy section each second, so a reloaded value applies */
	tr->ceil.halflife_s = p->conf.ceiling_halflife_s;
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
		held = ctl_diagpol_503s(p, t, &v, now_ms, o);
		if (!held && ctl_policy_503s(p, t, &v, now_ms, v.burst, o))
			break;
		else if (tr->oc_changed && tr->oc_active && tr->oc_limit < tr->limit)
			ctl_policy_throttle(
				p, t, &v, now_ms, tr->oc_limit, CTL_CAUSE_OVERLOAD_CONTROL, o);
		else if (!ctl_policy_concurrency(p, t, &v, now_ms, o))
			ctl_policy_increase(p, t, &v, now_ms, o);
		break;
	case CTL_POLICY_NORMAL:
		held = ctl_diagpol_503s(p, t, &v, now_ms, o);
		if (held && tr->state != CTL_POLICY_NORMAL)
			break;
		if (!held && ctl_policy_503s(p, t, &v, now_ms, v.burst, o))
			break;
		if (v.burst && !tr->alerting && !held) {
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
		else if (!ctl_diagpol_503s(p, t, &v, now_ms, &o))
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
		ctl_diagpol_event(&tr->dg, e);
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
		return tr->alerting || tr->dg.alert_class != 0 ? "alerting" : "normal";
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
	ctl_policy_set(o, "alerting", json_boolean(tr->alerting || tr->dg.alert_class != 0), &err);
	ctl_policy_set(o, "diag_alert",
		tr->dg.alert_class != 0 ? json_string(sg_diag_class_names[tr->dg.alert_class])
					: json_null(),
		&err);
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
	/* carrier trouble, or the carrier's words: route down, maintenance */
	return p->trunks[trunk].alerting || p->trunks[trunk].dg.alert_class != 0;
}

void
ctl_policy_get_stats(const struct ctl_policy *p, struct ctl_policy_stats *out)
{
	if (p == NULL || out == NULL)
		return;
	*out = p->stats;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Decision engine (see ctl_engine.h). The state closes seconds; this file
 * turns each closed second of each trunk into the policy's input and
 * keeps the directives that came out, in a ring, for the CLI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_engine.h"
#include "ctl_series.h"

struct ctl_engine {
	struct ctl_state *st;
	struct ctl_policy *pol;
	uint32_t n_trunks;
	uint64_t next_second;  /* first second not yet given to the policy */
	uint64_t ticked_s;     /* now_s of the last ctl_engine_tick() */
	uint64_t next_slot_ms; /* end of the next 100 ms slot to close, 0 before the first */
	uint64_t slot_attempts[SG_MAX_TRUNKS]; /* totals at the last slot close */
	struct ctl_policy_slot slot[SG_MAX_TRUNKS];
	uint64_t n_recent; /* directives ever kept */
	struct ctl_directive recent[CTL_ENGINE_RECENT];
	struct ctl_policy_input in[SG_MAX_TRUNKS];
	/* fleet: the account's limit and what this edge's dialers were told */
	struct ctl_fleet *fleet;
	uint64_t seq;
	uint32_t account_cps[SG_MAX_TRUNKS];
	uint32_t told[SG_MAX_TRUNKS];
	uint8_t told_set[SG_MAX_TRUNKS];
	/* the diagnosis rules' names, for the directives' evidence */
	uint32_t n_rules;
	char rule_names[CFG_MAX_DIAG_RULES][sizeof(((struct ctl_evidence *)0)->diag_rule_name)];
	double self_cps[SG_MAX_TRUNKS]; /* this edge's own attempts, last closed second */
};

struct ctl_engine *
ctl_engine_create(const struct sg_config *cfg, struct ctl_state *st)
{
	const char *names[SG_MAX_TRUNKS];
	uint32_t cps[SG_MAX_TRUNKS], maxc[SG_MAX_TRUNKS];
	struct ctl_engine *e = calloc(1, sizeof(*e));
	uint32_t i;

	if (e == NULL)
		return NULL;
	e->st = st;
	e->n_trunks = ctl_state_n_trunks(st);
	/* the state's slots are the trunks (after a reload, not the file's order) */
	for (i = 0; i < e->n_trunks; i++) {
		names[i] = ctl_state_trunk_name(st, i);
		cps[i] = ctl_state_trunk_cps(st, i);
		e->account_cps[i] = cps[i];
		maxc[i] = ctl_state_trunk_max_concurrent(st, i);
	}
	e->pol = ctl_policy_create(&cfg->policy, e->n_trunks, names, cps, maxc);
	if (e->pol == NULL) {
		free(e);
		return NULL;
	}
	ctl_engine_set_rules(e, cfg);
	return e;
}

void
ctl_engine_set_rules(struct ctl_engine *e, const struct sg_config *cfg)
{
	uint32_t i;

	e->n_rules = cfg->n_diag < CFG_MAX_DIAG_RULES ? cfg->n_diag : CFG_MAX_DIAG_RULES;
	for (i = 0; i < e->n_rules; i++)
		snprintf(e->rule_names[i], sizeof(e->rule_names[i]), "%s", cfg->diag[i].name);
}

int
ctl_engine_reconfigure(struct ctl_engine *e, const struct cfg_policy *conf)
{
	const char *names[SG_MAX_TRUNKS];
	uint32_t cps[SG_MAX_TRUNKS], maxc[SG_MAX_TRUNKS], from[SG_MAX_TRUNKS];
	uint32_t i, n = ctl_state_n_trunks(e->st);
	struct ctl_policy *p;

	for (i = 0; i < n; i++) {
		names[i] = ctl_state_trunk_name(e->st, i);
		cps[i] = ctl_state_trunk_cps(e->st, i);
		maxc[i] = ctl_state_trunk_max_concurrent(e->st, i);
		/* a slot is one trunk's for good: its policy state carries on */
		from[i] = i < e->n_trunks ? i : UINT32_MAX;
	}
	p = ctl_policy_rebuild(e->pol, conf, n, names, cps, maxc, from);
	if (p == NULL)
		return -1;
	ctl_policy_free(e->pol);
	e->pol = p;
	e->n_trunks = n;
	return 0;
}

void
ctl_engine_free(struct ctl_engine *e)
{
	if (e == NULL)
		return;
	ctl_policy_free(e->pol);
	free(e);
}

void
ctl_engine_pub(struct ctl_engine *e, const struct sg_pub *pub)
{
	ctl_state_ingest_pub(e->st, pub);
}

void
ctl_engine_event(struct ctl_engine *e, const struct sg_event *ev)
{
	ctl_state_ingest_event(e->st, ev);
	if (ev->trunk < e->n_trunks)
		ctl_policy_event(e->pol, ev);
}

static int64_t
series_at(const struct ctl_series *s, enum ctl_series_field f, uint64_t second)
{
	int64_t v = 0;

	ctl_series_get(s, f, second, 1, &v);
	return v;
}

static void
keep(struct ctl_engine *e, struct ctl_directive *d)
{
	/* the evidence's rule by name: the policy knows rules by index only */
	if (d->ev.diag_rule > 0 && d->ev.diag_rule <= e->n_rules)
		memcpy(d->ev.diag_rule_name, e->rule_names[d->ev.diag_rule - 1],
			sizeof(d->ev.diag_rule_name));
	if (e->fleet != NULL)
		d->seq = ++e->seq;
	e->recent[e->n_recent % CTL_ENGINE_RECENT] = *d;
	e->n_recent++;
}

/* This edge's part of the policy's limit for a shared trunk; 0 pauses. */
static uint32_t
fleet_limit(const struct ctl_engine *e, uint32_t t)
{
	uint32_t share = ctl_fleet_share(e->fleet, t), acct = e->account_cps[t];
	uint32_t plim = ctl_policy_trunk_limit(e->pol, t);

	if (plim == 0 || plim >= acct || acct == 0)
		return share;
	/* the account throttled to plim: every edge in proportion, never above plim */
	return (uint32_t)((uint64_t)share * plim / acct);
}

static void
fleet_directive(struct ctl_engine *e, uint32_t t, uint64_t time_ms, enum ctl_action act,
	enum ctl_cause cause, uint32_t cps, struct ctl_directive *d)
{
	memset(d, 0, sizeof(*d));
	d->time_ms = time_ms;
	d->trunk = t;
	snprintf(d->trunk_name, sizeof(d->trunk_name), "%s", ctl_state_trunk_name(e->st, t));
	d->action = act;
	d->cps_limit = act == CTL_ACT_PAUSE ? 0 : cps;
	d->duration_s = act == CTL_ACT_PAUSE ? 1 : 0;
	d->cause = cause;
	d->ev.window_s = 1;
	d->ev.attempts = e->in[t].attempts;
	d->ev.finals = e->in[t].finals;
	d->ev.r503 = e->in[t].final_503;
	d->ev.share_503 =
		e->in[t].finals > 0 ? (double)e->in[t].final_503 / (double)e->in[t].finals : 0.0;
	d->ev.cps = (double)e->in[t].attempts;
	d->ev.retry_after = -1;
	d->ev.oc = -1;
	d->ev.oc_validity_ms = -1;
}

/*
 * What the policy needs to judge shared trunk t's account now (struct
 * ctl_policy_fleet): this edge's share, the budget, the other edges'
 * rate that its own 100 ms slots lack.
 */
static void
fleet_policy(struct ctl_engine *e, uint32_t t, uint64_t now_s)
{
	struct ctl_policy_fleet pf = {
		.member = 1,
		.share = ctl_fleet_share(e->fleet, t),
		.budget = ctl_fleet_account_budget(e->fleet, t),
		.others_cps = ctl_fleet_others_cps(e->fleet, t, now_s),
		.self_cps = e->self_cps[t],
	};

	ctl_policy_set_fleet(e->pol, t, &pf);
}

/*
 * Second s of the shared trunks: this edge's counts to the fleet, the
 * account's sums to the policy.
 */
static void
fleet_input(struct ctl_engine *e, uint64_t s)
{
	struct ctl_fleet_counts c;
	uint32_t i;

	for (i = 0; i < e->n_trunks; i++) {
		struct ctl_policy_input *in = &e->in[i];

		if (!ctl_fleet_shared(e->fleet, i))
			continue;
		c.attempts = in->attempts;
		c.finals = in->finals;
		c.r503 = in->final_503;
		c.concurrent = in->concurrent;
		e->self_cps[i] = (double)in->attempts;
		ctl_fleet_local(e->fleet, i, s, &c, e->told_set[i] ? e->told[i] : 0,
			(uint32_t)ctl_policy_trunk_state(e->pol, i));
		ctl_fleet_sums(e->fleet, i, s, &c);
		in->attempts = c.attempts;
		in->finals = c.finals;
		in->final_503 = c.r503;
		in->concurrent = c.concurrent;
		fleet_policy(e, i, s);
	}
}

/*
 * The policy's directives of second s cut to this edge's share, then a
 * directive for every shared trunk whose share moved on its own. Returns
 * the new count in out.
 */
/*
 * The policy's directives for shared trunks, turned into this edge's
 * part: a throttle or resume to the share the account's limit gives, a
 * share of 0 as a short pause. seen[t] set for each trunk told something.
 */
static void
fleet_map(struct ctl_engine *e, struct ctl_directive *out, unsigned int n, uint8_t *seen)
{
	unsigned int k;
	uint32_t t, lim;

	for (k = 0; k < n; k++) {
		struct ctl_directive *d = &out[k];

		t = d->trunk;
		if (t >= e->n_trunks || !ctl_fleet_shared(e->fleet, t))
			continue;
		if (d->action == CTL_ACT_PAUSE) {
			seen[t] = 1;
			e->told[t] = 0;
			e->told_set[t] = 1;
		}
		if (d->action != CTL_ACT_THROTTLE && d->action != CTL_ACT_RESUME)
			continue;
		seen[t] = 1;
		lim = fleet_limit(e, t);
		d->cps_limit = lim;
		if (lim == 0) {
			d->action = CTL_ACT_PAUSE;
			d->duration_s = 1;
		}
		e->told[t] = lim;
		e->told_set[t] = 1;
	}
}

static unsigned int
fleet_output(struct ctl_engine *e, uint64_t s, struct ctl_directive *out, unsigned int n,
	unsigned int max)
{
	uint8_t seen[SG_MAX_TRUNKS] = { 0 };
	uint32_t t, lim;

	fleet_map(e, out, n, seen);
	for (t = 0; t < e->n_trunks && n < max; t++) {
		if (!ctl_fleet_shared(e->fleet, t) || seen[t] ||
			ctl_policy_trunk_state(e->pol, t) == CTL_POLICY_PAUSED)
			continue;
		lim = fleet_limit(e, t);
		if (e->told_set[t] && e->told[t] == lim)
			continue;
		fleet_directive(e, t, (s + 1) * 1000, lim > 0 ? CTL_ACT_THROTTLE : CTL_ACT_PAUSE,
			CTL_CAUSE_FLEET_SHARE, lim, &out[n++]);
		e->told[t] = lim;
		e->told_set[t] = 1;
	}
	return n;
}

/* Entering or leaving fallback: one alert or clear per shared trunk. */
static unsigned int
fleet_alerts(struct ctl_engine *e, uint64_t now_s, struct ctl_directive *out, unsigned int max)
{
	enum ctl_fleet_change ch = ctl_fleet_tick(e->fleet, now_s);
	unsigned int n = 0;
	uint32_t t;

	if (ch == CTL_FLEET_NO_CHANGE)
		return 0;
	for (t = 0; t < e->n_trunks && n < max; t++) {
		if (!ctl_fleet_shared(e->fleet, t))
			continue;
		fleet_directive(e, t, now_s * 1000,
			ch == CTL_FLEET_ENTERED_FALLBACK ? CTL_ACT_ALERT : CTL_ACT_CLEAR,
			CTL_CAUSE_FLEET_FALLBACK, ctl_fleet_share(e->fleet, t), &out[n++]);
	}
	return n;
}

unsigned int
ctl_engine_tick(struct ctl_engine *e, uint64_t now_s, struct ctl_directive *out, unsigned int max)
{
	unsigned int n = 0, k, i;
	uint64_t s;

	e->ticked_s = now_s;
	ctl_state_tick(e->st, now_s);
	if (e->next_second == 0 || now_s - e->next_second > CTL_SERIES_SLOTS)
		e->next_second = now_s - 1;
	if (e->fleet != NULL)
		n = fleet_alerts(e, now_s, out, max);
	for (s = e->next_second; s < now_s && n < max; s++) {
		unsigned int first = n;

		for (i = 0; i < e->n_trunks; i++) {
			const struct ctl_series *ser = ctl_state_series(e->st, i);
			struct ctl_policy_input *in = &e->in[i];

			in->attempts = (uint64_t)series_at(ser, CTL_SF_ATTEMPTS, s);
			in->final_503 = (uint64_t)series_at(ser, CTL_SF_503, s);
			in->final_2xx = (uint64_t)series_at(ser, CTL_SF_2XX, s);
			in->calls_ended = (uint64_t)series_at(ser, CTL_SF_CALLS_ENDED, s);
			in->call_seconds = (uint64_t)series_at(ser, CTL_SF_CALL_SECONDS, s);
			in->finals = in->final_503 + in->final_2xx +
				(uint64_t)series_at(ser, CTL_SF_3XX, s) +
				(uint64_t)series_at(ser, CTL_SF_4XX, s) +
				(uint64_t)series_at(ser, CTL_SF_5XX_OTHER, s) +
				(uint64_t)series_at(ser, CTL_SF_6XX, s);
			in->concurrent =
				ctl_series_has(ser, s) ? series_at(ser, CTL_SF_CONCURRENT, s) : -1;
			in->retry_after = ctl_series_has(ser, s)
				? (int32_t)series_at(ser, CTL_SF_RETRY_AFTER, s)
				: -1;
		}
		if (e->fleet != NULL)
			fleet_input(e, s);
		k = ctl_policy_second(e->pol, s, e->in, out + n, max - n);
		n += k;
		if (e->fleet != NULL)
			n = fleet_output(e, s, out + first, n - first, max - first) + first;
	}
	for (i = 0; i < n; i++)
		keep(e, &out[i]);
	e->next_second = s;
	return n;
}

/* Totals now, for the slot that ends: attempts since the last slot, calls up. */
static void
ctl_engine_slot_inputs(struct ctl_engine *e, int record)
{
	uint32_t i;

	for (i = 0; i < e->n_trunks; i++) {
		const struct sg_trunk_counters *c = ctl_state_total(e->st, i);
		uint64_t att = c != NULL ? c->invite_attempts : 0;

		e->slot[i].attempts =
			record && att >= e->slot_attempts[i] ? att - e->slot_attempts[i] : 0;
		e->slot[i].concurrent = c != NULL && c->dialogs_opened >= c->dialogs_closed
			? (int64_t)(c->dialogs_opened - c->dialogs_closed)
			: -1;
		e->slot_attempts[i] = att;
	}
}

unsigned int
ctl_engine_tick_ms(
	struct ctl_engine *e, uint64_t now_ms, struct ctl_directive *out, unsigned int max)
{
	uint64_t end = now_ms - now_ms % CTL_POLICY_SLOT_MS, t, base_s;
	unsigned int n = 0, k, i;

	if (now_ms / 1000 != e->ticked_s)
		n = ctl_engine_tick(e, now_ms / 1000, out, max);
	/*
	 * Totals are history until the state took its baseline and the
	 * workers' republished counters are in (ctl_state_warmup): a
	 * control plane attaching to a running dataplane must not read the
	 * totals so far as one slot's attempts. The offline replay starts
	 * from zero: no warm-up, its first slots decide like any other.
	 */
	if (ctl_state_baseline(e->st, &base_s) < 0 ||
		now_ms / 1000 <= base_s + ctl_state_warmup(e->st))
		e->next_slot_ms = 0;
	if (e->next_slot_ms == 0 || end < e->next_slot_ms ||
		end - e->next_slot_ms > CTL_ENGINE_SLOT_CATCHUP * CTL_POLICY_SLOT_MS) {
		/* the first slot, a stall or a clock step: totals so far are history */
		ctl_engine_slot_inputs(e, 0);
		e->next_slot_ms = end + CTL_POLICY_SLOT_MS;
		return n;
	}
	for (t = e->next_slot_ms; t <= end && n < max; t += CTL_POLICY_SLOT_MS) {
		/* slots passed at once (a gap in the capture): the first one takes the change */
		ctl_engine_slot_inputs(e, 1);
		for (i = 0; e->fleet != NULL && i < e->n_trunks; i++) {
			if (ctl_fleet_shared(e->fleet, i))
				fleet_policy(e, i, t / 1000);
		}
		k = ctl_policy_tick(e->pol, t, e->slot, out + n, max - n);
		if (e->fleet != NULL) {
			uint8_t seen[SG_MAX_TRUNKS] = { 0 };

			/* a shared trunk's 100 ms decision, too, is this edge's part */
			fleet_map(e, out + n, k, seen);
		}
		for (i = 0; i < k; i++)
			keep(e, &out[n + i]);
		n += k;
	}
	e->next_slot_ms = t;
	return n;
}

int
ctl_engine_set_cps(struct ctl_engine *e, const char *trunk, uint32_t cps, uint64_t now_ms,
	struct ctl_directive *out, unsigned int *n_out)
{
	int t = ctl_state_trunk_index(e->st, trunk);

	*n_out = 0;
	if (t < 0 || (uint32_t)t >= e->n_trunks)
		return -1;
	if (ctl_policy_set_cps(e->pol, (uint32_t)t, cps, now_ms, out) > 0) {
		if (e->fleet != NULL && ctl_fleet_shared(e->fleet, (uint32_t)t) &&
			(out->action == CTL_ACT_THROTTLE || out->action == CTL_ACT_RESUME)) {
			/* the operator set the account's CPS; this edge keeps to its part */
			e->account_cps[t] = cps;
			ctl_fleet_set_limit(e->fleet, (uint32_t)t, cps);
			out->cps_limit = fleet_limit(e, (uint32_t)t);
			e->told[t] = out->cps_limit;
			e->told_set[t] = 1;
		}
		keep(e, out);
		*n_out = 1;
	}
	return 0;
}

json_t *
ctl_engine_directives_json(const struct ctl_engine *e, uint64_t since, unsigned int limit)
{
	json_t *arr = json_array();
	uint64_t first = e->n_recent > CTL_ENGINE_RECENT ? e->n_recent - CTL_ENGINE_RECENT : 0;
	uint64_t i;

	for (i = first; i < e->n_recent; i++) {
		const struct ctl_directive *d = &e->recent[i % CTL_ENGINE_RECENT];

		if (d->seq <= since)
			continue;
		json_array_append_new(arr, ctl_directive_json(d));
	}
	/* keep the newest `limit` */
	while (limit > 0 && json_array_size(arr) > limit)
		json_array_remove(arr, 0);
	return json_pack("{s:o, s:I}", "directives", arr, "last_seq",
		(json_int_t)(e->n_recent ? e->recent[(e->n_recent - 1) % CTL_ENGINE_RECENT].seq
					 : 0));
}

struct ctl_policy *
ctl_engine_policy(const struct ctl_engine *e)
{
	return e->pol;
}

void
ctl_engine_set_fleet(struct ctl_engine *e, struct ctl_fleet *f)
{
	e->fleet = f;
}

uint32_t
ctl_engine_fleet_limit(const struct ctl_engine *e, uint32_t trunk)
{
	return trunk < e->n_trunks && e->told_set[trunk] ? e->told[trunk] : 0;
}

unsigned int
ctl_engine_fleet_apply(
	struct ctl_engine *e, uint64_t now_ms, struct ctl_directive *out, unsigned int max)
{
	unsigned int n = 0, i;
	uint32_t t, lim;

	if (e->fleet == NULL)
		return 0;
	for (t = 0; t < e->n_trunks && n < max; t++) {
		if (!ctl_fleet_shared(e->fleet, t) || !e->told_set[t] ||
			ctl_policy_trunk_state(e->pol, t) == CTL_POLICY_PAUSED)
			continue;
		lim = fleet_limit(e, t);
		if (lim == e->told[t])
			continue;
		fleet_directive(e, t, now_ms, lim > 0 ? CTL_ACT_THROTTLE : CTL_ACT_PAUSE,
			CTL_CAUSE_FLEET_SHARE, lim, &out[n++]);
		e->told[t] = lim;
	}
	for (i = 0; i < n; i++)
		keep(e, &out[i]);
	return n;
}

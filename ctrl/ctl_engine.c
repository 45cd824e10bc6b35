/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Decision engine (see ctl_engine.h). The state closes seconds; this file
 * turns each closed second of each trunk into the policy's input and
 * keeps the directives that came out, in a ring, for the CLI.
 */
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
	for (i = 0; i < e->n_trunks; i++) {
		names[i] = ctl_state_trunk_name(st, i);
		cps[i] = cfg->trunks[i].cps;
		maxc[i] = cfg->trunks[i].max_concurrent;
	}
	e->pol = ctl_policy_create(&cfg->policy, e->n_trunks, names, cps, maxc);
	if (e->pol == NULL) {
		free(e);
		return NULL;
	}
	return e;
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
keep(struct ctl_engine *e, const struct ctl_directive *d)
{
	e->recent[e->n_recent % CTL_ENGINE_RECENT] = *d;
	e->n_recent++;
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
	for (s = e->next_second; s < now_s && n < max; s++) {
		for (i = 0; i < e->n_trunks; i++) {
			const struct ctl_series *ser = ctl_state_series(e->st, i);
			struct ctl_policy_input *in = &e->in[i];

			in->attempts = (uint64_t)series_at(ser, CTL_SF_ATTEMPTS, s);
			in->final_503 = (uint64_t)series_at(ser, CTL_SF_503, s);
			in->final_2xx = (uint64_t)series_at(ser, CTL_SF_2XX, s);
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
		k = ctl_policy_second(e->pol, s, e->in, out + n, max - n);
		for (i = 0; i < k; i++)
			keep(e, &out[n + i]);
		n += k;
	}
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
	 * workers' republished counters are in (CTL_STATE_WARMUP_S): a
	 * control plane attaching to a running dataplane must not read the
	 * totals so far as one slot's attempts.
	 */
	if (ctl_state_baseline(e->st, &base_s) < 0 || now_ms / 1000 <= base_s + CTL_STATE_WARMUP_S)
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
		k = ctl_policy_tick(e->pol, t, e->slot, out + n, max - n);
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

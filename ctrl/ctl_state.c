/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane state. Totals are maintained incrementally: when a newer
 * publication replaces a worker's counters for a trunk, the trunk's total
 * moves by (new - old) field by field. All arithmetic is modulo 2^64, so
 * the total is always exactly the sum of the held counters, whatever order
 * publications arrive in. Ticks difference the totals against the values
 * at the previous tick (the base) to get each second's sample.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_state_int.h"
#include "dp_sip.h"

/* JSON strings must be UTF-8: keep printable ASCII, replace the rest. */
size_t
ctl_state_printable(char *dst, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	return len;
}

static int
ctl_state_slot_ok(const struct ctl_state *st, uint32_t t)
{
	return t < st->n_trunks || t == SG_UNMATCHED;
}

int
ctl_state_has_traffic(const struct sg_trunk_counters *c)
{
	const uint64_t *w = (const uint64_t *)c;
	size_t i;

	for (i = 0; i < CTL_WORDS; i++) {
		if (w[i] != 0)
			return 1;
	}
	return 0;
}

struct ctl_state *
ctl_state_create(uint32_t n_trunks, const char *const names[], const uint32_t cps[],
	const uint32_t max_concurrent[])
{
	struct ctl_state *st;
	uint32_t t;
	size_t len;

	if (n_trunks > SG_MAX_TRUNKS || (n_trunks > 0 && names == NULL))
		return NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->n_trunks = n_trunks;
	st->warmup_s = CTL_STATE_WARMUP_S;
	for (t = 0; t < SG_TRUNK_SLOTS; t++) {
		st->trunk[t].ra_pending = -1;
		ctl_series_init(&st->trunk[t].series);
	}
	for (t = 0; t < n_trunks; t++) {
		const char *n = names[t] != NULL ? names[t] : "";

		len = strnlen(n, SG_TRUNK_NAME_MAX - 1);
		ctl_state_printable(st->trunk[t].name, n, len);
		st->trunk[t].cps = cps != NULL ? cps[t] : 0;
		st->trunk[t].max_concurrent = max_concurrent != NULL ? max_concurrent[t] : 0;
	}
	snprintf(st->trunk[SG_UNMATCHED].name, SG_TRUNK_NAME_MAX, "%s", CTL_STATE_UNMATCHED_NAME);
	return st;
}

struct ctl_state *
ctl_state_create_shm(const struct sg_shm *shm)
{
	const char *names[SG_MAX_TRUNKS];
	uint32_t t, n;

	if (shm == NULL || shm->n_trunks > SG_MAX_TRUNKS)
		return NULL;
	n = shm->n_trunks;
	/* the memzone's names need not be terminated; create() cuts them */
	for (t = 0; t < n; t++)
		names[t] = shm->trunk_name[t];
	return ctl_state_create(n, names, shm->trunk_cps, shm->trunk_max_concurrent);
}

int
ctl_state_set_trunks(struct ctl_state *st, uint32_t n_trunks, const char *const names[],
	const uint32_t cps[], const uint32_t max_concurrent[], const uint8_t removed[])
{
	uint32_t t;
	size_t len;

	/* slots only grow: counts in a slot stay with it */
	if (n_trunks > SG_MAX_TRUNKS || n_trunks < st->n_trunks || names == NULL)
		return -1;
	for (t = 0; t < n_trunks; t++) {
		struct ctl_state_trunk *tr = &st->trunk[t];
		const char *n = names[t] != NULL ? names[t] : "";

		memset(tr->name, 0, sizeof(tr->name));
		len = strnlen(n, SG_TRUNK_NAME_MAX - 1);
		ctl_state_printable(tr->name, n, len);
		tr->cps = cps != NULL ? cps[t] : 0;
		tr->max_concurrent = max_concurrent != NULL ? max_concurrent[t] : 0;
		tr->removed = removed != NULL && removed[t];
		/* a new slot's series starts from what it holds now */
		if (t >= st->n_trunks)
			memcpy(&tr->base, &tr->total, sizeof(tr->base));
	}
	st->n_trunks = n_trunks;
	return 0;
}

uint32_t
ctl_state_trunk_cps(const struct ctl_state *st, uint32_t trunk)
{
	return trunk < st->n_trunks ? st->trunk[trunk].cps : 0;
}

uint32_t
ctl_state_trunk_max_concurrent(const struct ctl_state *st, uint32_t trunk)
{
	return trunk < st->n_trunks ? st->trunk[trunk].max_concurrent : 0;
}

int
ctl_state_trunk_removed(const struct ctl_state *st, uint32_t trunk)
{
	return trunk < st->n_trunks && st->trunk[trunk].removed;
}

void
ctl_state_free(struct ctl_state *st)
{
	free(st);
}

static void
ctl_state_counters_move(struct sg_trunk_counters *dst, const struct sg_trunk_counters *add,
	const struct sg_trunk_counters *sub)
{
	const uint64_t *a = (const uint64_t *)add;
	const uint64_t *s = (const uint64_t *)sub;
	uint64_t *d = (uint64_t *)dst;
	size_t i;

	for (i = 0; i < CTL_WORDS; i++)
		d[i] += a[i] - s[i];
}

void
ctl_state_expect_republish(struct ctl_state *st, uint32_t n_workers)
{
	uint32_t w;

	for (w = 0; w < n_workers && w < SG_MAX_WORKERS; w++)
		st->republish_wait[w] = 1;
}

/* A worker's republish-all ends with the last slot: its history is in. */
static void
ctl_state_republish_seen(struct ctl_state *st, const struct sg_pub *pub)
{
	if (pub->worker < SG_MAX_WORKERS && pub->trunk == SG_TRUNK_SLOTS - 1)
		st->republish_wait[pub->worker] = 0;
}

static int
ctl_state_ingest_pub_one(struct ctl_state *st, const struct sg_pub *pub)
{
	struct ctl_state_trunk *tr;
	struct ctl_state_held *h;
	static const struct sg_trunk_counters zero;

	if (pub->worker < SG_MAX_WORKERS && pub->trunk < SG_MAX_TRUNKS &&
		!ctl_state_slot_ok(st, pub->trunk) && !ctl_state_has_traffic(&pub->c)) {
		/* a worker republishing everything sends empty unconfigured slots */
		st->stats.pubs++;
		return 0;
	}
	if (pub->worker >= SG_MAX_WORKERS || !ctl_state_slot_ok(st, pub->trunk)) {
		st->stats.invalid_pubs++;
		return -1;
	}
	h = &st->held[pub->worker][pub->trunk];
	/*
	 * seq grows per worker across all its trunks, and each trunk's
	 * counters only grow, so a higher seq for the same pair is never
	 * older data. Comparing per pair (not per worker) keeps an
	 * out-of-order pub for another trunk from being thrown away.
	 */
	if (h->have && pub->seq <= h->seq) {
		st->stats.stale_pubs++;
		return 1;
	}
	tr = &st->trunk[pub->trunk];
	if (!h->have && st->based &&
		(st->last_closed + 1 < st->warmup_end || st->republish_wait[pub->worker])) {
		/* republished history: into the baseline, not into a second */
		ctl_state_counters_move(&tr->base, &pub->c, &zero);
	}
	ctl_state_counters_move(&tr->total, &pub->c, h->have ? &h->c : &zero);
	memcpy(&h->c, &pub->c, sizeof(h->c));
	h->seq = pub->seq;
	h->have = 1;
	st->stats.pubs++;
	return 0;
}

int
ctl_state_ingest_pub(struct ctl_state *st, const struct sg_pub *pub)
{
	int rc = ctl_state_ingest_pub_one(st, pub);

	ctl_state_republish_seen(st, pub);
	return rc;
}

void
ctl_state_from_zero(struct ctl_state *st)
{
	st->warmup_s = 0;
}

uint32_t
ctl_state_warmup(const struct ctl_state *st)
{
	return st->warmup_s;
}

int
ctl_state_ingest_event(struct ctl_state *st, const struct sg_event *ev)
{
	struct ctl_state_trunk *tr;
	struct sg_event *e;

	if (!ctl_state_slot_ok(st, ev->trunk)) {
		st->stats.invalid_events++;
		return -1;
	}
	tr = &st->trunk[ev->trunk];
	e = &st->events[st->n_events++ % CTL_STATE_EVENTS];
	memcpy(e, ev, sizeof(*e));
	if (e->call_id_len > SG_CALL_ID_MAX)
		e->call_id_len = SG_CALL_ID_MAX;
	memcpy(&tr->events[tr->n_events++ % CTL_STATE_TRUNK_EVENTS], e, sizeof(*e));
	if (ev->retry_after > tr->ra_pending)
		tr->ra_pending = ev->retry_after;
	st->stats.events++;
	return 0;
}

int64_t
ctl_state_concurrent(const struct sg_trunk_counters *c)
{
	int64_t n = (int64_t)(c->dialogs_opened - c->dialogs_closed);

	/* a BYE counted on one worker before its 200 on another */
	return n < 0 ? 0 : n;
}

/* Change of the totals since the base, as one (multi-second) sample. */
static void
ctl_state_delta(const struct sg_trunk_counters *now, const struct sg_trunk_counters *base,
	struct ctl_sample *smp)
{
	uint64_t d;
	int code;

	ctl_sample_init(smp);
	smp->attempts = now->invite_attempts - base->invite_attempts;
	for (code = 200; code <= SG_STATUS_MAX; code++) {
		d = now->invite_final[code - SG_STATUS_MIN] -
			base->invite_final[code - SG_STATUS_MIN];
		if (code == 503)
			smp->final_503 += d;
		else if (code >= 600)
			smp->final_6xx += d;
		else if (code >= 500)
			smp->final_5xx_other += d;
		else if (code >= 400)
			smp->final_4xx += d;
		else if (code >= 300)
			smp->final_3xx += d;
		else
			smp->final_2xx += d;
	}
	for (code = 0; code < SG_DIAG_COUNT; code++)
		smp->diag[code] = now->diagnosis[code] - base->diagnosis[code];
	smp->calls_ended = now->calls_ended - base->calls_ended;
	smp->call_seconds = now->call_seconds - base->call_seconds;
	smp->concurrent = ctl_state_concurrent(now);
}

/* Share i (0 oldest) of d spread over k seconds; the shares sum to d. */
static uint64_t
ctl_state_share(uint64_t d, uint64_t k, uint64_t i)
{
	return d / k + (i >= k - d % k ? 1 : 0);
}

static void
ctl_state_baseline_take(struct ctl_state *st, uint64_t now_s)
{
	struct ctl_state_trunk *tr;
	struct ctl_sample smp;
	uint32_t t;

	st->based = 1;
	st->baseline_s = now_s - 1;
	st->last_closed = now_s - 1;
	st->warmup_end = now_s + st->warmup_s;
	st->stats.baselines++;
	for (t = 0; t < SG_TRUNK_SLOTS; t++) {
		if (!ctl_state_slot_ok(st, t))
			continue;
		tr = &st->trunk[t];
		memcpy(&tr->base, &tr->total, sizeof(tr->base));
		ctl_sample_init(&smp);
		smp.flags = CTL_SAMPLE_BASELINE;
		smp.concurrent = ctl_state_concurrent(&tr->total);
		smp.retry_after = tr->ra_pending;
		tr->ra_pending = -1;
		ctl_series_add_sample(&tr->series, now_s - 1, &smp);
	}
}

unsigned int
ctl_state_tick(struct ctl_state *st, uint64_t now_s)
{
	struct ctl_sample all, smp;
	struct ctl_state_trunk *tr;
	uint64_t k, i;
	uint32_t t;

	if (now_s == 0)
		return 0;
	if (st->based && now_s - 1 == st->last_closed)
		return 0;
	if (st->based && now_s - 1 < st->last_closed) {
		/* the clock stepped back: the ring's seconds mean nothing now */
		for (t = 0; t < SG_TRUNK_SLOTS; t++)
			ctl_series_init(&st->trunk[t].series);
		st->based = 0;
	}
	if (!st->based || now_s - 1 - st->last_closed > CTL_STATE_CATCHUP_MAX) {
		ctl_state_baseline_take(st, now_s);
		return 1;
	}
	k = now_s - 1 - st->last_closed;
	for (t = 0; t < SG_TRUNK_SLOTS; t++) {
		if (!ctl_state_slot_ok(st, t))
			continue;
		tr = &st->trunk[t];
		ctl_state_delta(&tr->total, &tr->base, &all);
		memcpy(&tr->base, &tr->total, sizeof(tr->base));
		for (i = 0; i < k; i++) {
			ctl_sample_init(&smp);
			smp.attempts = ctl_state_share(all.attempts, k, i);
			smp.final_503 = ctl_state_share(all.final_503, k, i);
			smp.final_5xx_other = ctl_state_share(all.final_5xx_other, k, i);
			smp.final_6xx = ctl_state_share(all.final_6xx, k, i);
			smp.final_4xx = ctl_state_share(all.final_4xx, k, i);
			smp.final_3xx = ctl_state_share(all.final_3xx, k, i);
			smp.final_2xx = ctl_state_share(all.final_2xx, k, i);
			for (int c = 0; c < SG_DIAG_COUNT; c++)
				smp.diag[c] = ctl_state_share(all.diag[c], k, i);
			smp.calls_ended = ctl_state_share(all.calls_ended, k, i);
			smp.call_seconds = ctl_state_share(all.call_seconds, k, i);
			/* only the level at the end is known: hold it */
			smp.concurrent = all.concurrent;
			if (i == k - 1)
				smp.retry_after = tr->ra_pending;
			ctl_series_add_sample(&tr->series, st->last_closed + 1 + i, &smp);
		}
		tr->ra_pending = -1;
	}
	st->last_closed = now_s - 1;
	return (unsigned int)k;
}

uint32_t
ctl_state_n_trunks(const struct ctl_state *st)
{
	return st->n_trunks;
}

int
ctl_state_trunk_index(const struct ctl_state *st, const char *name)
{
	uint32_t t;

	if (name == NULL)
		return -1;
	for (t = 0; t < st->n_trunks; t++) {
		if (strcmp(st->trunk[t].name, name) == 0)
			return (int)t;
	}
	if (strcmp(name, CTL_STATE_UNMATCHED_NAME) == 0 || strcmp(name, "unmatched") == 0)
		return SG_UNMATCHED;
	return -1;
}

const char *
ctl_state_trunk_name(const struct ctl_state *st, uint32_t trunk)
{
	return ctl_state_slot_ok(st, trunk) ? st->trunk[trunk].name : NULL;
}

const struct sg_trunk_counters *
ctl_state_total(const struct ctl_state *st, uint32_t trunk)
{
	return ctl_state_slot_ok(st, trunk) ? &st->trunk[trunk].total : NULL;
}

const struct sg_trunk_counters *
ctl_state_worker_counters(const struct ctl_state *st, uint32_t worker, uint32_t trunk)
{
	if (worker >= SG_MAX_WORKERS || !ctl_state_slot_ok(st, trunk) ||
		!st->held[worker][trunk].have)
		return NULL;
	return &st->held[worker][trunk].c;
}

const struct ctl_series *
ctl_state_series(const struct ctl_state *st, uint32_t trunk)
{
	return ctl_state_slot_ok(st, trunk) ? &st->trunk[trunk].series : NULL;
}

int
ctl_state_baseline(const struct ctl_state *st, uint64_t *second)
{
	if (!st->based)
		return -1;
	*second = st->baseline_s;
	return 0;
}

void
ctl_state_get_stats(const struct ctl_state *st, struct ctl_state_stats *out)
{
	uint32_t t;

	*out = st->stats;
	out->late_samples = 0;
	out->late_merged = 0;
	for (t = 0; t < SG_TRUNK_SLOTS; t++) {
		out->late_samples += st->trunk[t].series.late_dropped;
		out->late_merged += st->trunk[t].series.late_merged;
	}
}

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

#include "ctl_state.h"
#include "dp_sip.h"

/* Counters are walked as arrays of uint64_t (see sg_trunk_counters_add). */
#define CTL_WORDS (sizeof(struct sg_trunk_counters) / sizeof(uint64_t))

struct ctl_state_trunk {
	char name[SG_TRUNK_NAME_MAX];
	int removed; /* removed by a reload: totals only */
	uint32_t cps;
	uint32_t max_concurrent;
	struct sg_trunk_counters total;
	struct sg_trunk_counters base; /* totals at the previous tick */
	int32_t ra_pending;	       /* max Retry-After since last tick */
	uint64_t n_events;	       /* events ever taken */
	struct sg_event events[CTL_STATE_TRUNK_EVENTS];
	struct ctl_series series;
};

struct ctl_state_held {
	uint64_t seq;
	int have;
	struct sg_trunk_counters c;
};

struct ctl_state {
	uint32_t n_trunks;
	int based;	      /* a baseline was taken */
	uint64_t baseline_s;  /* its second */
	uint64_t last_closed; /* newest second closed by a tick */
	uint64_t warmup_end;  /* first pubs absorbed until then */
	uint32_t warmup_s;    /* CTL_STATE_WARMUP_S, 0 from zero */
	/* 1: that worker's republish-all (ctl_state_expect_republish) is not in yet */
	uint8_t republish_wait[SG_MAX_WORKERS];
	struct ctl_state_stats stats;
	uint64_t n_events;
	struct sg_event events[CTL_STATE_EVENTS];
	struct ctl_state_trunk trunk[SG_TRUNK_SLOTS];
	struct ctl_state_held held[SG_MAX_WORKERS][SG_TRUNK_SLOTS];
};

/* JSON strings must be UTF-8: keep printable ASCII, replace the rest. */
static size_t
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

static int
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

static int64_t
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

/*
 * JSON. Builders below never stop half-way on an allocation failure: they
 * note it in *err and the caller frees the whole document, so a partial
 * document is never returned.
 */
static void
ctl_json_set(json_t *o, const char *key, json_t *v, int *err)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*err = 1;
}

static void
ctl_json_append(json_t *a, json_t *v, int *err)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		*err = 1;
}

static json_t *
ctl_json_done(json_t *o, int err)
{
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
ctl_json_u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *
ctl_json_text(const char *s, size_t len)
{
	char buf[256];

	if (len > sizeof(buf))
		len = sizeof(buf);
	return json_stringn(buf, ctl_state_printable(buf, s, len));
}

static json_t *
ctl_json_codes(const uint64_t *codes, int *err)
{
	json_t *o = json_object();
	char key[8];
	int i;

	if (o == NULL)
		*err = 1;
	for (i = 0; i < SG_STATUS_COUNT; i++) {
		if (codes[i] == 0)
			continue;
		snprintf(key, sizeof(key), "%d", i + SG_STATUS_MIN);
		ctl_json_set(o, key, ctl_json_u64(codes[i]), err);
	}
	return o;
}

/* Final 4xx-6xx answers to INVITE by class, every class (dp_report.c). */
static json_t *
ctl_json_diagnosis(const struct sg_trunk_counters *c)
{
	json_t *o = json_object();
	int k, err = o == NULL;

	for (k = 0; k < SG_DIAG_COUNT; k++)
		ctl_json_set(o, sg_diag_class_names[k], ctl_json_u64(c->diagnosis[k]), &err);
	return ctl_json_done(o, err);
}

/*
 * The class most of a trunk's classified answers fell in over the series'
 * ten minutes (ties: the one listed first); NULL when no rule matched any.
 */
static const char *
ctl_state_leading_class(const struct ctl_series *s, uint64_t end)
{
	int64_t n, best_n = 0;
	int k, best = SG_DIAG_UNCLASSIFIED;

	for (k = SG_DIAG_UNCLASSIFIED + 1; k < SG_DIAG_COUNT; k++) {
		n = ctl_series_sum(
			s, (enum ctl_series_field)(CTL_SF_DIAG + k), end, CTL_SERIES_SLOTS);
		if (n > best_n) {
			best = k;
			best_n = n;
		}
	}
	return best == SG_DIAG_UNCLASSIFIED ? NULL : sg_diag_class_names[best];
}

/* The offline report's per-trunk object (dp_report.c), field for field. */
static json_t *
ctl_json_counters(const struct sg_trunk_counters *c)
{
	json_t *o = json_object();
	json_t *req = json_object();
	int m, err = o == NULL || req == NULL;

	for (m = 0; m < SG_M_COUNT; m++) {
		if (c->requests[m] != 0)
			ctl_json_set(req, sg_method_names[m], ctl_json_u64(c->requests[m]), &err);
	}
	ctl_json_set(o, "requests", req, &err);
	ctl_json_set(o, "responses", ctl_json_codes(c->responses, &err), &err);
	ctl_json_set(o, "retransmissions", ctl_json_u64(c->retransmissions), &err);
	ctl_json_set(o, "invite_attempts", ctl_json_u64(c->invite_attempts), &err);
	ctl_json_set(o, "invite_final", ctl_json_codes(c->invite_final, &err), &err);
	ctl_json_set(o, "malformed", ctl_json_u64(c->malformed), &err);
	ctl_json_set(o, "diagnosis", ctl_json_diagnosis(c), &err);
	return ctl_json_done(o, err);
}

static json_t *
ctl_json_reason(const struct sg_event *e)
{
	const char *proto;
	char buf[48];

	switch (e->reason_proto) {
	case DP_REASON_SIP:
		proto = "SIP";
		break;
	case DP_REASON_Q850:
		proto = "Q.850";
		break;
	case DP_REASON_OTHER:
		proto = "other";
		break;
	default:
		return json_null();
	}
	if (e->reason_cause >= 0)
		snprintf(buf, sizeof(buf), "%s;cause=%d", proto, (int)e->reason_cause);
	else
		snprintf(buf, sizeof(buf), "%s", proto);
	return json_string(buf);
}

static json_t *
ctl_json_oc_algo(const struct sg_event *e)
{
	switch (e->oc_algo) {
	case DP_OC_ALGO_LOSS:
		return json_string("loss");
	case DP_OC_ALGO_RATE:
		return json_string("rate");
	case DP_OC_ALGO_OTHER:
		return json_string("other");
	default:
		return json_null();
	}
}

static json_t *
ctl_json_event(const struct ctl_state *st, const struct sg_event *e, int with_trunk)
{
	json_t *o = json_object();
	int err = o == NULL;
	size_t len = e->call_id_len < SG_CALL_ID_MAX ? e->call_id_len : SG_CALL_ID_MAX;

	ctl_json_set(o, "time", json_real((double)e->time_ns / 1e9), &err);
	ctl_json_set(o, "call_id", ctl_json_text(e->call_id, len), &err);
	ctl_json_set(o, "status", json_integer(e->status), &err);
	ctl_json_set(o, "retry_after",
		e->retry_after >= 0 ? json_integer(e->retry_after) : json_null(), &err);
	ctl_json_set(o, "reason", ctl_json_reason(e), &err);
	ctl_json_set(o, "oc", e->oc >= 0 ? json_integer(e->oc) : json_null(), &err);
	ctl_json_set(o, "oc_algo", ctl_json_oc_algo(e), &err);
	ctl_json_set(o, "class",
		json_string(
			sg_diag_class_names[e->diag_class < SG_DIAG_COUNT ? e->diag_class
									  : SG_DIAG_UNCLASSIFIED]),
		&err);
	ctl_json_set(
		o, "rule", e->diag_rule != 0 ? json_integer(e->diag_rule - 1) : json_null(), &err);
	if (with_trunk) {
		const char *n = ctl_state_trunk_name(st, e->trunk);

		ctl_json_set(o, "trunk", json_string(n != NULL ? n : "?"), &err);
	}
	return ctl_json_done(o, err);
}

static uint64_t
ctl_state_finals_total(const struct sg_trunk_counters *c)
{
	uint64_t n = 0;
	int code;

	for (code = 200; code <= SG_STATUS_MAX; code++)
		n += c->invite_final[code - SG_STATUS_MIN];
	return n;
}

/*
 * Seconds an average over the last `want` closed seconds may divide by:
 * none before the baseline exist, so right after start the average is
 * over what was seen rather than diluted by seconds never observed.
 */
static unsigned int
ctl_state_avg_span(const struct ctl_state *st, uint64_t end, unsigned int want)
{
	if (!st->based || end <= st->baseline_s)
		return 0;
	return end - st->baseline_s < want ? (unsigned int)(end - st->baseline_s) : want;
}

static json_t *
ctl_json_row(const struct ctl_state *st, uint32_t t, uint64_t now_s)
{
	const struct ctl_state_trunk *tr = &st->trunk[t];
	const struct ctl_series *s = &tr->series;
	uint64_t end = now_s > 0 ? now_s - 1 : 0;
	unsigned int span = ctl_state_avg_span(st, end, 10);
	double ratio = ctl_series_answer_ratio(s, end, 60);
	json_t *o = json_object();
	int err = o == NULL;

	ctl_json_set(o, "name", json_string(tr->name), &err);
	if (tr->removed)
		ctl_json_set(o, "removed", json_true(), &err);
	ctl_json_set(o, "cps", json_integer(ctl_series_sum(s, CTL_SF_ATTEMPTS, end, 1)), &err);
	ctl_json_set(o, "cps_avg10",
		json_real(
			span ? (double)ctl_series_sum(s, CTL_SF_ATTEMPTS, end, span) / span : 0.0),
		&err);
	ctl_json_set(o, "cps_agreed", json_integer(tr->cps), &err);
	ctl_json_set(o, "concurrent", json_integer(ctl_state_concurrent(&tr->total)), &err);
	ctl_json_set(o, "max_concurrent", json_integer(tr->max_concurrent), &err);
	ctl_json_set(o, "r503_per_s",
		json_real(span ? (double)ctl_series_sum(s, CTL_SF_503, end, span) / span : 0.0),
		&err);
	ctl_json_set(o, "share_503_pct", json_real(100.0 * ctl_series_share_503(s, end, 60)), &err);
	ctl_json_set(o, "answer_ratio", ratio >= 0 ? json_real(ratio) : json_null(), &err);
	ctl_json_set(o, "attempts_total", ctl_json_u64(tr->total.invite_attempts), &err);
	ctl_json_set(o, "finals_total", ctl_json_u64(ctl_state_finals_total(&tr->total)), &err);
	ctl_json_set(o, "final_503_total",
		ctl_json_u64(tr->total.invite_final[503 - SG_STATUS_MIN]), &err);
	{
		const char *lead = ctl_state_leading_class(s, end);

		ctl_json_set(
			o, "leading_class", lead != NULL ? json_string(lead) : json_null(), &err);
	}
	ctl_json_set(o, "diagnosis", ctl_json_diagnosis(&tr->total), &err);
	return ctl_json_done(o, err);
}

json_t *
ctl_state_trunks_json(const struct ctl_state *st, uint64_t now_s)
{
	json_t *a = json_array();
	int err = a == NULL;
	uint32_t t;

	for (t = 0; t < st->n_trunks; t++) {
		if (!st->trunk[t].removed)
			ctl_json_append(a, ctl_json_row(st, t, now_s), &err);
	}
	if (ctl_state_has_traffic(&st->trunk[SG_UNMATCHED].total))
		ctl_json_append(a, ctl_json_row(st, SG_UNMATCHED, now_s), &err);
	if (err) {
		json_decref(a);
		return NULL;
	}
	return json_pack("{s:o}", "trunks", a);
}

static json_t *
ctl_json_series(const struct ctl_series *s, enum ctl_series_field f, uint64_t end)
{
	int64_t v[CTL_STATE_SERIES_JSON];
	json_t *a = json_array();
	int err = a == NULL;
	unsigned int i;

	ctl_series_get(s, f, end, CTL_STATE_SERIES_JSON, v);
	for (i = 0; i < CTL_STATE_SERIES_JSON; i++)
		ctl_json_append(a, json_integer(v[i]), &err);
	return ctl_json_done(a, err);
}

json_t *
ctl_state_trunk_json(const struct ctl_state *st, const char *name, uint64_t now_s)
{
	const struct ctl_state_trunk *tr;
	uint64_t end = now_s > 0 ? now_s - 1 : 0;
	json_t *o, *series, *events;
	int idx, err = 0;
	uint64_t i, n;

	idx = ctl_state_trunk_index(st, name);
	if (idx < 0)
		return NULL;
	tr = &st->trunk[idx];
	o = ctl_json_row(st, (uint32_t)idx, now_s);
	if (o == NULL)
		return NULL;
	series = json_object();
	events = json_array();
	if (series == NULL || events == NULL)
		err = 1;
	ctl_json_set(series, "cps", ctl_json_series(&tr->series, CTL_SF_ATTEMPTS, end), &err);
	ctl_json_set(series, "r503", ctl_json_series(&tr->series, CTL_SF_503, end), &err);
	ctl_json_set(
		series, "concurrent", ctl_json_series(&tr->series, CTL_SF_CONCURRENT, end), &err);
	ctl_json_set(o, "series", series, &err);
	ctl_json_set(o, "totals", ctl_json_counters(&tr->total), &err);
	n = tr->n_events < CTL_STATE_TRUNK_EVENTS ? tr->n_events : CTL_STATE_TRUNK_EVENTS;
	for (i = 0; i < n; i++) {
		const struct sg_event *e =
			&tr->events[(tr->n_events - 1 - i) % CTL_STATE_TRUNK_EVENTS];

		ctl_json_append(events, ctl_json_event(st, e, 0), &err);
	}
	ctl_json_set(o, "events", events, &err);
	return ctl_json_done(o, err);
}

json_t *
ctl_state_events_json(const struct ctl_state *st, unsigned int limit)
{
	json_t *a = json_array();
	int err = a == NULL;
	uint64_t i, n;

	n = st->n_events < CTL_STATE_EVENTS ? st->n_events : CTL_STATE_EVENTS;
	if (limit > 0 && limit < n)
		n = limit;
	for (i = 0; i < n; i++) {
		const struct sg_event *e = &st->events[(st->n_events - 1 - i) % CTL_STATE_EVENTS];

		ctl_json_append(a, ctl_json_event(st, e, 1), &err);
	}
	if (err) {
		json_decref(a);
		return NULL;
	}
	return json_pack("{s:o}", "events", a);
}

/*
 * A trunk a reload removed keeps its totals here, under its name, and is
 * listed in "removed": nothing counted is lost from the totals.
 */
json_t *
ctl_state_totals_json(const struct ctl_state *st)
{
	json_t *trunks = json_object(), *removed = json_array();
	int err = trunks == NULL || removed == NULL;
	uint32_t t;

	for (t = 0; t < st->n_trunks; t++) {
		ctl_json_set(
			trunks, st->trunk[t].name, ctl_json_counters(&st->trunk[t].total), &err);
		if (st->trunk[t].removed)
			ctl_json_append(removed, json_string(st->trunk[t].name), &err);
	}
	if (err) {
		json_decref(trunks);
		json_decref(removed);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o}", "trunks", trunks, "unmatched",
		ctl_json_counters(&st->trunk[SG_UNMATCHED].total), "removed", removed);
}

json_t *
ctl_state_stats_json(const struct ctl_state *st)
{
	struct ctl_state_stats s;

	ctl_state_get_stats(st, &s);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "pubs", (json_int_t)s.pubs,
		"stale_pubs", (json_int_t)s.stale_pubs, "events", (json_int_t)s.events,
		"late_samples", (json_int_t)s.late_samples, "invalid_pubs",
		(json_int_t)s.invalid_pubs, "invalid_events", (json_int_t)s.invalid_events,
		"late_merged", (json_int_t)s.late_merged, "baselines", (json_int_t)s.baselines);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane state: totals stay exact under interleaved, duplicated and
 * stale publications and across a restart; ticks turn totals into
 * per-second samples that add up exactly, with no spike at the baseline;
 * the event rings keep the newest; the JSON documents have the agreed
 * shapes and stay valid whatever bytes a Call-ID or a name holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_state.h"
#include "ctl_state_json.h"
#include "dp_sip.h"

#define NT 3
#define NW 4
#define F(code) ((code)-SG_STATUS_MIN)

static const char *const names[NT] = { "carrier-a", "carrier-b", "carrier-c" };
static const uint32_t agreed_cps[NT] = { 30, 50, 10 };
static const uint32_t agreed_max[NT] = { 100, 200, 0 };

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct ctl_state *
state_new(void)
{
	struct ctl_state *st = ctl_state_create(NT, names, agreed_cps, agreed_max);

	assert_non_null(st);
	return st;
}

/* The test's own record of what the workers counted. */
struct model {
	struct sg_trunk_counters c[NW][SG_TRUNK_SLOTS];
	uint64_t seq[NW];
};

static struct model *
model_new(void)
{
	struct model *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	return m;
}

static uint32_t
slot_of(unsigned int i)
{
	return i < NT ? i : SG_UNMATCHED;
}

/* Traffic on one worker and trunk: what a worker's counters do. */
static void
traffic(struct sg_trunk_counters *c, uint64_t attempts, uint64_t f503, uint64_t f200, uint64_t f486,
	uint64_t f603, uint64_t closed)
{
	c->requests[SG_M_INVITE] += attempts + 1; /* one retransmitted */
	c->requests[SG_M_ACK] += f503 + f200 + f486 + f603;
	c->retransmissions += 1;
	c->invite_attempts += attempts;
	c->responses[F(100)] += attempts;
	c->responses[F(503)] += f503;
	c->responses[F(200)] += f200;
	c->responses[F(486)] += f486;
	c->responses[F(603)] += f603;
	c->invite_final[F(503)] += f503;
	c->invite_final[F(200)] += f200;
	c->invite_final[F(486)] += f486;
	c->invite_final[F(603)] += f603;
	c->dialogs_opened += f200;
	c->dialogs_closed += closed;
}

static void
random_traffic(struct sg_trunk_counters *c)
{
	uint64_t open = c->dialogs_opened - c->dialogs_closed;

	traffic(c, rng() % 20, rng() % 5, rng() % 5, rng() % 3, rng() % 2,
		open > 0 ? rng() % (open + 1) : 0);
	c->malformed += rng() % 2;
	c->requests[SG_M_OTHER] += rng() % 2;
}

static void
make_pub(struct sg_pub *p, struct model *m, uint32_t w, uint32_t t)
{
	memset(p, 0, sizeof(*p));
	p->worker = w;
	p->trunk = t;
	p->seq = ++m->seq[w];
	memcpy(&p->c, &m->c[w][t], sizeof(p->c));
}

/* Sum over workers, computed here independently of the state. */
static void
model_total(const struct model *m, uint32_t t, struct sg_trunk_counters *out)
{
	unsigned int w;

	memset(out, 0, sizeof(*out));
	for (w = 0; w < NW; w++)
		sg_trunk_counters_add(out, &m->c[w][t]);
}

static void
assert_counters_equal(const struct sg_trunk_counters *a, const struct sg_trunk_counters *b)
{
	const uint64_t *x = (const uint64_t *)a, *y = (const uint64_t *)b;
	size_t i;

	assert_non_null(a);
	for (i = 0; i < sizeof(*a) / sizeof(uint64_t); i++) {
		if (x[i] != y[i])
			fail_msg("counter word %zu: %llu != %llu", i, (unsigned long long)x[i],
				(unsigned long long)y[i]);
	}
}

static void
pub_traffic(struct ctl_state *st, struct model *m, uint32_t w, uint32_t t)
{
	struct sg_pub p;

	random_traffic(&m->c[w][t]);
	make_pub(&p, m, w, t);
	assert_int_equal(ctl_state_ingest_pub(st, &p), 0);
}

static void
test_totals_exact(void **state)
{
	enum { N = 400 };
	struct sg_pub *pubs = calloc(N, sizeof(*pubs));
	struct sg_trunk_counters want;
	struct ctl_state_stats stats;
	struct ctl_state *st = state_new(), *fresh = state_new();
	struct model *m = model_new();
	uint64_t held[NW][SG_TRUNK_SLOTS] = { { 0 } };
	unsigned int order[N], i, j, k, stale = 0, sent = 0;
	json_t *a, *b;

	(void)state;
	assert_non_null(pubs);
	for (i = 0; i < N; i++) {
		uint32_t w = (uint32_t)(rng() % NW), t = slot_of((unsigned int)(rng() % (NT + 1)));

		random_traffic(&m->c[w][t]);
		make_pub(&pubs[i], m, w, t);
	}
	/* deliver out of order: shuffle within windows of 8 */
	for (i = 0; i < N; i++)
		order[i] = i;
	for (i = 0; i < N; i += 8) {
		for (j = i; j < i + 8 && j < N; j++) {
			k = i + (unsigned int)(rng() % 8);
			if (k >= N)
				continue;
			unsigned int tmp = order[j];

			order[j] = order[k];
			order[k] = tmp;
		}
	}
	for (i = 0; i < N; i++) {
		const struct sg_pub *p = &pubs[order[i]];
		unsigned int copies = rng() % 5 == 0 ? 2 : 1; /* some delivered twice */

		for (j = 0; j < copies; j++) {
			int expect_stale = held[p->worker][p->trunk] >= p->seq;

			assert_int_equal(ctl_state_ingest_pub(st, p), expect_stale ? 1 : 0);
			if (expect_stale)
				stale++;
			else
				held[p->worker][p->trunk] = p->seq;
			sent++;
		}
	}
	/* the whole history again, oldest first: all stale now */
	for (i = 0; i < N; i++) {
		assert_int_equal(ctl_state_ingest_pub(st, &pubs[i]), 1);
		stale++;
		sent++;
	}
	for (i = 0; i <= NT; i++) {
		model_total(m, slot_of(i), &want);
		assert_counters_equal(ctl_state_total(st, slot_of(i)), &want);
	}
	for (i = 0; i < NW; i++) {
		const struct sg_trunk_counters *c = ctl_state_worker_counters(st, i, 0);

		if (c != NULL)
			assert_counters_equal(c, &m->c[i][0]);
	}
	ctl_state_get_stats(st, &stats);
	assert_int_equal(stats.stale_pubs, stale);
	assert_int_equal(stats.pubs + stats.stale_pubs, sent);
	assert_true(stats.stale_pubs > N); /* the test really exercised it */

	/* restart: an empty state fed only the latest pub of each pair */
	for (i = N; i-- > 0;) {
		const struct sg_pub *p = &pubs[i];

		if (held[p->worker][p->trunk] == p->seq)
			assert_int_equal(ctl_state_ingest_pub(fresh, p), 0);
	}
	for (i = 0; i <= NT; i++)
		assert_counters_equal(
			ctl_state_total(fresh, slot_of(i)), ctl_state_total(st, slot_of(i)));
	a = ctl_state_totals_json(st);
	b = ctl_state_totals_json(fresh);
	assert_non_null(a);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	ctl_state_free(fresh);
	ctl_state_free(st);
	free(m);
	free(pubs);
}

static void
test_invalid_input(void **state)
{
	const char *many[SG_MAX_TRUNKS + 1] = { NULL };
	struct ctl_state *st = state_new();
	struct ctl_state_stats stats;
	struct sg_event ev;
	struct sg_pub p;

	(void)state;
	assert_null(ctl_state_create(SG_MAX_TRUNKS + 1, many, NULL, NULL));
	memset(&p, 0, sizeof(p));
	p.seq = 1;
	p.worker = SG_MAX_WORKERS;
	assert_int_equal(ctl_state_ingest_pub(st, &p), -1);
	p.worker = 0;
	p.trunk = NT; /* not configured: fine while empty, invalid with counts */
	assert_int_equal(ctl_state_ingest_pub(st, &p), 0);
	assert_null(ctl_state_worker_counters(st, 0, NT));
	p.seq = 2;
	p.c.malformed = 1;
	assert_int_equal(ctl_state_ingest_pub(st, &p), -1);
	p.c.malformed = 0;
	p.trunk = SG_TRUNK_SLOTS;
	assert_int_equal(ctl_state_ingest_pub(st, &p), -1);
	p.trunk = SG_UNMATCHED;
	assert_int_equal(ctl_state_ingest_pub(st, &p), 0);
	memset(&ev, 0, sizeof(ev));
	ev.trunk = 1000;
	assert_int_equal(ctl_state_ingest_event(st, &ev), -1);
	ctl_state_get_stats(st, &stats);
	assert_int_equal(stats.invalid_pubs, 3);
	assert_int_equal(stats.invalid_events, 1);
	assert_int_equal(stats.pubs, 2);
	assert_null(ctl_state_total(st, NT));
	assert_null(ctl_state_series(st, NT + 5));
	assert_int_equal(ctl_state_trunk_index(st, "carrier-c"), 2);
	assert_int_equal(ctl_state_trunk_index(st, "(unmatched)"), SG_UNMATCHED);
	assert_int_equal(ctl_state_trunk_index(st, "carrier"), -1);
	ctl_state_free(st);
}

static int64_t
series_at(const struct ctl_state *st, uint32_t t, enum ctl_series_field f, uint64_t second)
{
	int64_t v[1];

	ctl_series_get(ctl_state_series(st, t), f, second, 1, v);
	return v[0];
}

static json_t *
row_of(json_t *doc, size_t i)
{
	json_t *row = json_array_get(json_object_get(doc, "trunks"), i);

	assert_non_null(row);
	return row;
}

static void
test_first_tick_no_spike(void **state)
{
	struct ctl_state *st = state_new();
	struct model *m = model_new();
	uint64_t base_s;
	struct sg_pub p;
	json_t *doc;

	(void)state;
	/* an hour of history already counted by worker 0 */
	traffic(&m->c[0][0], 50000, 900, 30000, 100, 10, 29000);
	make_pub(&p, m, 0, 0);
	ctl_state_ingest_pub(st, &p);
	assert_int_equal(ctl_state_baseline(st, &base_s), -1);
	assert_int_equal(ctl_state_tick(st, 1000), 1);
	assert_int_equal(ctl_state_baseline(st, &base_s), 0);
	assert_int_equal(base_s, 999);
	assert_int_equal(series_at(st, 0, CTL_SF_ATTEMPTS, 999), 0);
	assert_int_equal(series_at(st, 0, CTL_SF_503, 999), 0);
	/* the level is real, so the baseline second shows it */
	assert_int_equal(series_at(st, 0, CTL_SF_CONCURRENT, 999), 1000);
	doc = ctl_state_trunks_json(st, 1000);
	assert_int_equal(json_integer_value(json_object_get(row_of(doc, 0), "cps")), 0);
	assert_true(json_real_value(json_object_get(row_of(doc, 0), "cps_avg10")) == 0.0);
	assert_int_equal(
		json_integer_value(json_object_get(row_of(doc, 0), "attempts_total")), 50000);
	json_decref(doc);
	/* the same tick again closes nothing */
	assert_int_equal(ctl_state_tick(st, 1000), 0);

	/* real traffic in second 1000 */
	traffic(&m->c[0][0], 7, 2, 1, 0, 0, 0);
	make_pub(&p, m, 0, 0);
	ctl_state_ingest_pub(st, &p);
	/*
	 * Worker 1 republishes its history after the baseline (a restart of
	 * the control plane): history, not traffic of second 1000.
	 */
	traffic(&m->c[1][0], 40000, 500, 20000, 0, 0, 19990);
	make_pub(&p, m, 1, 0);
	ctl_state_ingest_pub(st, &p);
	assert_int_equal(ctl_state_tick(st, 1001), 1);
	assert_int_equal(series_at(st, 0, CTL_SF_ATTEMPTS, 1000), 7);
	assert_int_equal(series_at(st, 0, CTL_SF_503, 1000), 2);
	assert_int_equal(series_at(st, 0, CTL_SF_2XX, 1000), 1);
	assert_int_equal(series_at(st, 0, CTL_SF_CONCURRENT, 1000), 1001 + 10);
	doc = ctl_state_trunks_json(st, 1001);
	assert_int_equal(json_integer_value(json_object_get(row_of(doc, 0), "cps")), 7);
	/* one second since the baseline: the average is over that second */
	assert_true(json_real_value(json_object_get(row_of(doc, 0), "cps_avg10")) == 7.0);
	assert_true(json_real_value(json_object_get(row_of(doc, 0), "r503_per_s")) == 2.0);
	assert_int_equal(
		json_integer_value(json_object_get(row_of(doc, 0), "attempts_total")), 90007);
	json_decref(doc);

	/* past the warm-up a first publication is traffic */
	assert_int_equal(ctl_state_tick(st, 1002), 1);
	traffic(&m->c[2][0], 3, 0, 0, 0, 0, 0);
	make_pub(&p, m, 2, 0);
	ctl_state_ingest_pub(st, &p);
	assert_int_equal(ctl_state_tick(st, 1003), 1);
	assert_int_equal(series_at(st, 0, CTL_SF_ATTEMPTS, 1001), 0);
	assert_int_equal(series_at(st, 0, CTL_SF_ATTEMPTS, 1002), 3);
	ctl_state_free(st);
	free(m);
}

/*
 * The offline replay starts from zero: a trunk's first publication right
 * after the baseline is traffic, and so are the calls it ended and their
 * length.
 */
static void
test_from_zero(void **state)
{
	struct ctl_state *st = state_new();
	struct model *m = model_new();
	struct sg_pub p;

	(void)state;
	ctl_state_from_zero(st);
	assert_int_equal(ctl_state_warmup(st), 0);
	assert_int_equal(ctl_state_tick(st, 1000), 1);
	traffic(&m->c[0][0], 9, 1, 4, 0, 0, 2);
	m->c[0][0].calls_ended += 2;
	m->c[0][0].call_seconds += 31;
	make_pub(&p, m, 0, 0);
	ctl_state_ingest_pub(st, &p);
	assert_int_equal(ctl_state_tick(st, 1001), 1);
	assert_int_equal(series_at(st, 0, CTL_SF_ATTEMPTS, 1000), 9);
	assert_int_equal(series_at(st, 0, CTL_SF_CALLS_ENDED, 1000), 2);
	assert_int_equal(series_at(st, 0, CTL_SF_CALL_SECONDS, 1000), 31);
	ctl_state_free(st);
	free(m);

	/* attached to a running dataplane, the same publication is history */
	st = state_new();
	m = model_new();
	assert_int_equal(ctl_state_warmup(st), CTL_STATE_WARMUP_S);
	assert_int_equal(ctl_state_tick(st, 1000), 1);
	traffic(&m->c[0][0], 9, 1, 4, 0, 0, 2);
	make_pub(&p, m, 0, 0);
	ctl_state_ingest_pub(st, &p);
	assert_int_equal(ctl_state_tick(st, 1001), 1);
	assert_int_equal(series_at(st, 0, CTL_SF_ATTEMPTS, 1000), 0);
	ctl_state_free(st);
	free(m);
}

/*
 * A control plane that asked for a republish-all takes a worker's first
 * publications as history until that worker's last slot came, even past
 * the warm-up (a worker lcore starved for seconds).
 */
static void
test_late_republish(void **state)
{
	struct ctl_state *st = state_new();
	struct model *m = model_new();
	struct sg_pub p;

	(void)state;
	ctl_state_expect_republish(st, 2);
	assert_int_equal(ctl_state_tick(st, 1000), 1);
	assert_int_equal(ctl_state_tick(st, 1005), 5);
	/* worker 0's history, 5 s after the baseline: still history */
	traffic(&m->c[0][0], 40000, 500, 20000, 0, 0, 19990);
	make_pub(&p, m, 0, 0);
	ctl_state_ingest_pub(st, &p);
	make_pub(&p, m, 0, SG_TRUNK_SLOTS - 1);
	ctl_state_ingest_pub(st, &p);
	/* worker 0 is done; its next counts are traffic */
	traffic(&m->c[0][0], 6, 1, 2, 0, 0, 0);
	make_pub(&p, m, 0, 0);
	ctl_state_ingest_pub(st, &p);
	assert_int_equal(ctl_state_tick(st, 1006), 1);
	assert_int_equal(series_at(st, 0, CTL_SF_ATTEMPTS, 1005), 6);
	ctl_state_free(st);
	free(m);
}

static void
test_samples_add_up(void **state)
{
	struct ctl_state *st = state_new();
	struct model *m = model_new();
	uint64_t want[NT + 1][CTL_SF_COUNT] = { { 0 } };
	uint64_t before[NT + 1], now = 5000, start;
	struct sg_trunk_counters tot;
	unsigned int i, w, s, skipped = 0;
	const struct ctl_series *ser;

	(void)state;
	for (w = 0; w < NW; w++) {
		for (i = 0; i <= NT; i++)
			pub_traffic(st, m, w, slot_of(i));
	}
	ctl_state_tick(st, now);
	start = now;
	for (i = 0; i <= NT; i++)
		before[i] = ctl_state_total(st, slot_of(i))->invite_attempts;
	for (s = 0; s < 400; s++) {
		uint64_t sec_attempts[NT + 1] = { 0 };
		unsigned int n = (unsigned int)(rng() % 6), step;

		for (; n > 0; n--) {
			w = (unsigned int)(rng() % NW);
			i = (unsigned int)(rng() % (NT + 1));
			uint64_t a0 = m->c[w][slot_of(i)].invite_attempts;
			uint64_t r0 = m->c[w][slot_of(i)].invite_final[F(503)];
			uint64_t o0 = m->c[w][slot_of(i)].invite_final[F(200)];

			pub_traffic(st, m, w, slot_of(i));
			sec_attempts[i] += m->c[w][slot_of(i)].invite_attempts - a0;
			want[i][CTL_SF_ATTEMPTS] += m->c[w][slot_of(i)].invite_attempts - a0;
			want[i][CTL_SF_503] += m->c[w][slot_of(i)].invite_final[F(503)] - r0;
			want[i][CTL_SF_2XX] += m->c[w][slot_of(i)].invite_final[F(200)] - o0;
		}
		/* now and then the loop misses a second or two */
		step = rng() % 10 == 0 ? 1 + (unsigned int)(rng() % 3) : 1;
		if (step > 1)
			skipped++;
		now += step;
		assert_int_equal(ctl_state_tick(st, now), step);
		for (i = 0; i <= NT; i++) {
			ser = ctl_state_series(st, slot_of(i));
			/* a one-second tick shows exactly that second's traffic */
			if (step == 1)
				assert_int_equal(
					series_at(st, slot_of(i), CTL_SF_ATTEMPTS, now - 1),
					sec_attempts[i]);
			assert_int_equal(ctl_series_sum(ser, CTL_SF_ATTEMPTS, now - 1, step),
				sec_attempts[i]);
			model_total(m, slot_of(i), &tot);
			assert_int_equal(series_at(st, slot_of(i), CTL_SF_CONCURRENT, now - 1),
				tot.dialogs_opened - tot.dialogs_closed);
		}
	}
	assert_true(skipped > 0);
	assert_true(now - start < CTL_SERIES_SLOTS);
	for (i = 0; i <= NT; i++) {
		ser = ctl_state_series(st, slot_of(i));
		assert_int_equal(ctl_series_sum(ser, CTL_SF_ATTEMPTS, now - 1, CTL_SERIES_SLOTS),
			ctl_state_total(st, slot_of(i))->invite_attempts - before[i]);
		assert_int_equal(ctl_series_sum(ser, CTL_SF_ATTEMPTS, now - 1, CTL_SERIES_SLOTS),
			want[i][CTL_SF_ATTEMPTS]);
		assert_int_equal(ctl_series_sum(ser, CTL_SF_503, now - 1, CTL_SERIES_SLOTS),
			want[i][CTL_SF_503]);
		assert_int_equal(ctl_series_sum(ser, CTL_SF_2XX, now - 1, CTL_SERIES_SLOTS),
			want[i][CTL_SF_2XX]);
	}
	ctl_state_free(st);
	free(m);
}

static void
test_catch_up_and_clock_steps(void **state)
{
	struct ctl_state *st = state_new();
	struct model *m = model_new();
	struct ctl_state_stats stats;
	uint64_t base_s;
	struct sg_pub p;

	(void)state;
	make_pub(&p, m, 0, 1); /* known before the baseline: not history */
	ctl_state_ingest_pub(st, &p);
	ctl_state_tick(st, 100);
	/* 10 attempts over a tick that closes 3 seconds: 3, 3, 4 */
	traffic(&m->c[0][1], 10, 0, 0, 0, 0, 0);
	make_pub(&p, m, 0, 1);
	ctl_state_ingest_pub(st, &p);
	assert_int_equal(ctl_state_tick(st, 103), 3);
	assert_int_equal(series_at(st, 1, CTL_SF_ATTEMPTS, 100), 3);
	assert_int_equal(series_at(st, 1, CTL_SF_ATTEMPTS, 101), 3);
	assert_int_equal(series_at(st, 1, CTL_SF_ATTEMPTS, 102), 4);

	/* a stall longer than the catch-up limit: a new baseline, no spike */
	traffic(&m->c[0][1], 5000, 0, 0, 0, 0, 0);
	make_pub(&p, m, 0, 1);
	ctl_state_ingest_pub(st, &p);
	assert_int_equal(ctl_state_tick(st, 103 + CTL_STATE_CATCHUP_MAX + 1), 1);
	assert_int_equal(ctl_state_baseline(st, &base_s), 0);
	assert_int_equal(base_s, 102 + CTL_STATE_CATCHUP_MAX + 1);
	assert_int_equal(ctl_series_sum(ctl_state_series(st, 1), CTL_SF_ATTEMPTS, base_s,
				 CTL_STATE_CATCHUP_MAX + 1),
		0);
	assert_int_equal(ctl_state_total(st, 1)->invite_attempts, 5010);

	/* the clock steps back: the series restart, totals do not */
	assert_int_equal(ctl_state_tick(st, 50), 1);
	assert_false(ctl_series_has(ctl_state_series(st, 1), 102));
	assert_true(ctl_series_has(ctl_state_series(st, 1), 49));
	traffic(&m->c[0][1], 2, 0, 0, 0, 0, 0);
	make_pub(&p, m, 0, 1);
	ctl_state_ingest_pub(st, &p);
	assert_int_equal(ctl_state_tick(st, 51), 1);
	assert_int_equal(series_at(st, 1, CTL_SF_ATTEMPTS, 50), 2);
	ctl_state_get_stats(st, &stats);
	assert_int_equal(stats.baselines, 3);
	assert_int_equal(ctl_state_total(st, 1)->invite_attempts, 5012);
	ctl_state_free(st);
	free(m);
}

static void
event_fill(struct sg_event *ev, uint32_t trunk, unsigned int i)
{
	memset(ev, 0, sizeof(*ev));
	ev->time_ns = (1700000000ull + i) * 1000000000ull + 250000000ull;
	ev->trunk = trunk;
	ev->status = 503;
	ev->retry_after = -1;
	ev->reason_cause = -1;
	ev->oc = -1;
	ev->oc_validity = -1;
	ev->call_id_len = (uint16_t)snprintf(ev->call_id, sizeof(ev->call_id), "call-%u", i);
}

static const char *
str_at(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	assert_non_null(s);
	return s;
}

static void
test_events_rings(void **state)
{
	struct ctl_state *st = state_new();
	struct sg_event ev;
	json_t *doc, *a;
	unsigned int i;
	char want[32];

	(void)state;
	for (i = 0; i < 300; i++) {
		event_fill(&ev, i % 2, i);
		assert_int_equal(ctl_state_ingest_event(st, &ev), 0);
	}
	doc = ctl_state_events_json(st, 0);
	a = json_object_get(doc, "events");
	assert_int_equal(json_array_size(a), CTL_STATE_EVENTS);
	for (i = 0; i < CTL_STATE_EVENTS; i++) {
		snprintf(want, sizeof(want), "call-%u", 299 - i);
		assert_string_equal(str_at(json_array_get(a, i), "call_id"), want);
		assert_string_equal(str_at(json_array_get(a, i), "trunk"), names[(299 - i) % 2]);
	}
	json_decref(doc);
	doc = ctl_state_events_json(st, 5);
	a = json_object_get(doc, "events");
	assert_int_equal(json_array_size(a), 5);
	assert_string_equal(str_at(json_array_get(a, 4), "call_id"), "call-295");
	json_decref(doc);
	/* per trunk: carrier-a had the even ones, newest first */
	doc = ctl_state_trunk_json(st, "carrier-a", 2000);
	a = json_object_get(doc, "events");
	assert_int_equal(json_array_size(a), CTL_STATE_TRUNK_EVENTS);
	for (i = 0; i < CTL_STATE_TRUNK_EVENTS; i++) {
		snprintf(want, sizeof(want), "call-%u", 298 - 2 * i);
		assert_string_equal(str_at(json_array_get(a, i), "call_id"), want);
		assert_null(json_object_get(json_array_get(a, i), "trunk"));
	}
	json_decref(doc);
	/* a trunk with fewer than 16 */
	ctl_state_free(st);
	st = state_new();
	event_fill(&ev, 2, 1);
	ctl_state_ingest_event(st, &ev);
	doc = ctl_state_trunk_json(st, "carrier-c", 2000);
	assert_int_equal(json_array_size(json_object_get(doc, "events")), 1);
	json_decref(doc);
	doc = ctl_state_trunk_json(st, "carrier-b", 2000);
	assert_int_equal(json_array_size(json_object_get(doc, "events")), 0);
	json_decref(doc);
	ctl_state_free(st);
}

static void
test_retry_after_per_second(void **state)
{
	struct ctl_state *st = state_new();
	struct sg_event ev;

	(void)state;
	ctl_state_tick(st, 10);
	event_fill(&ev, 0, 1);
	ev.retry_after = 30;
	ctl_state_ingest_event(st, &ev);
	ev.retry_after = 120;
	ctl_state_ingest_event(st, &ev);
	ev.retry_after = -1;
	ctl_state_ingest_event(st, &ev);
	ctl_state_tick(st, 11);
	ctl_state_tick(st, 12);
	assert_int_equal(series_at(st, 0, CTL_SF_RETRY_AFTER, 10), 120);
	assert_int_equal(series_at(st, 0, CTL_SF_RETRY_AFTER, 11), -1);
	assert_int_equal(series_at(st, 1, CTL_SF_RETRY_AFTER, 10), -1);
	ctl_state_free(st);
}

static void
assert_keys(json_t *o, const char *const *keys, size_t n)
{
	size_t i;

	assert_true(json_is_object(o));
	for (i = 0; i < n; i++) {
		if (json_object_get(o, keys[i]) == NULL)
			fail_msg("missing key %s", keys[i]);
	}
	assert_int_equal(json_object_size(o), n);
}

static const char *const row_keys[] = {
	"name",
	"cps",
	"cps_avg10",
	"cps_agreed",
	"concurrent",
	"max_concurrent",
	"r503_per_s",
	"share_503_pct",
	"answer_ratio",
	"attempts_total",
	"finals_total",
	"final_503_total",
	"leading_class",
	"diagnosis",
};
static const char *const counter_keys[] = {
	"requests",
	"responses",
	"retransmissions",
	"invite_attempts",
	"invite_final",
	"malformed",
	"diagnosis",
};

static json_int_t
int_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("%s is not an integer", key);
	return json_integer_value(v);
}

static double
real_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_real(v))
		fail_msg("%s is not a real", key);
	return json_real_value(v);
}

static void
test_json_shapes(void **state)
{
	struct ctl_state *st = state_new();
	struct model *m = model_new();
	json_t *doc, *row, *o, *ser, *tot, *ev;
	struct sg_event e;
	struct sg_pub p;
	size_t i, n;

	(void)state;
	traffic(&m->c[0][0], 10, 5, 4, 0, 0, 1);
	make_pub(&p, m, 0, 0);
	ctl_state_ingest_pub(st, &p);
	ctl_state_tick(st, 100);
	traffic(&m->c[0][0], 4, 2, 1, 1, 0, 0);
	/* what the diagnosis rules said of the 4xx-6xx finals (after the baseline) */
	m->c[0][0].diagnosis[SG_DIAG_OVERLOAD] = 3;
	m->c[0][0].diagnosis[SG_DIAG_ROUTE_DOWN] = 1;
	m->c[0][0].diagnosis[SG_DIAG_UNCLASSIFIED] = 4;
	make_pub(&p, m, 0, 0);
	ctl_state_ingest_pub(st, &p);
	ctl_state_tick(st, 101);
	/* the classes are series too (the policy reads them per second) */
	assert_int_equal(series_at(st, 0, CTL_SF_DIAG + SG_DIAG_OVERLOAD, 100), 3);
	assert_int_equal(series_at(st, 0, CTL_SF_DIAG + SG_DIAG_ROUTE_DOWN, 100), 1);
	assert_int_equal(series_at(st, 0, CTL_SF_DIAG + SG_DIAG_CPS_LIMIT, 100), 0);
	assert_int_equal(series_at(st, 0, CTL_SF_DIAG + SG_DIAG_UNCLASSIFIED, 100), 4);

	doc = ctl_state_trunks_json(st, 101);
	assert_int_equal(json_object_size(doc), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "trunks")), NT);
	for (i = 0; i < NT; i++) {
		row = row_of(doc, i);
		assert_keys(row, row_keys, sizeof(row_keys) / sizeof(row_keys[0]));
		assert_string_equal(str_at(row, "name"), names[i]);
		assert_int_equal(int_at(row, "cps_agreed"), agreed_cps[i]);
		assert_int_equal(int_at(row, "max_concurrent"), agreed_max[i]);
	}
	row = row_of(doc, 0);
	assert_int_equal(int_at(row, "cps"), 4);
	assert_true(real_at(row, "cps_avg10") == 4.0);
	assert_true(real_at(row, "r503_per_s") == 2.0);
	assert_true(real_at(row, "share_503_pct") == 50.0); /* 2 of 4 finals */
	assert_true(real_at(row, "answer_ratio") == 0.25);
	assert_int_equal(int_at(row, "concurrent"), 4);
	assert_int_equal(int_at(row, "attempts_total"), 14);
	assert_int_equal(int_at(row, "finals_total"), 13);
	assert_int_equal(int_at(row, "final_503_total"), 7);
	assert_string_equal(str_at(row, "leading_class"), "overload");
	assert_int_equal(int_at(json_object_get(row, "diagnosis"), "overload"), 3);
	assert_int_equal(int_at(json_object_get(row, "diagnosis"), "route-down"), 1);
	assert_int_equal(int_at(json_object_get(row, "diagnosis"), "unclassified"), 4);
	assert_int_equal(int_at(json_object_get(row, "diagnosis"), "cps-limit"), 0);
	assert_int_equal(json_object_size(json_object_get(row, "diagnosis")), SG_DIAG_COUNT);
	row = row_of(doc, 1);
	/* no classified answer: no leading class, though some are unclassified */
	assert_true(json_is_null(json_object_get(row, "leading_class")));
	assert_true(json_is_null(json_object_get(row, "answer_ratio")));
	assert_true(real_at(row, "share_503_pct") == 0.0);
	assert_int_equal(int_at(row, "attempts_total"), 0);
	json_decref(doc);

	/* unmatched appears once it has traffic, last */
	traffic(&m->c[1][SG_UNMATCHED], 1, 0, 0, 0, 0, 0);
	make_pub(&p, m, 1, SG_UNMATCHED);
	ctl_state_ingest_pub(st, &p);
	doc = ctl_state_trunks_json(st, 101);
	assert_int_equal(json_array_size(json_object_get(doc, "trunks")), NT + 1);
	assert_string_equal(str_at(row_of(doc, NT), "name"), "(unmatched)");
	assert_int_equal(int_at(row_of(doc, NT), "attempts_total"), 1);
	json_decref(doc);

	assert_null(ctl_state_trunk_json(st, "no-such-trunk", 101));
	assert_null(ctl_state_trunk_json(st, NULL, 101));
	event_fill(&e, 0, 7);
	e.retry_after = 60;
	e.reason_proto = DP_REASON_Q850;
	e.reason_cause = 34;
	e.oc = 20;
	e.oc_algo = DP_OC_ALGO_LOSS;
	e.diag_class = SG_DIAG_CPS_LIMIT;
	e.diag_rule = 5; /* diagnosis[4] */
	ctl_state_ingest_event(st, &e);
	event_fill(&e, 0, 8);
	e.status = 603;
	ctl_state_ingest_event(st, &e);
	doc = ctl_state_trunk_json(st, "carrier-a", 101);
	assert_non_null(doc);
	n = sizeof(row_keys) / sizeof(row_keys[0]);
	assert_int_equal(json_object_size(doc), n + 3);
	assert_int_equal(int_at(doc, "cps"), 4);
	ser = json_object_get(doc, "series");
	assert_int_equal(json_object_size(ser), 3);
	assert_int_equal(json_array_size(json_object_get(ser, "cps")), CTL_STATE_SERIES_JSON);
	assert_int_equal(json_array_size(json_object_get(ser, "r503")), CTL_STATE_SERIES_JSON);
	assert_int_equal(
		json_array_size(json_object_get(ser, "concurrent")), CTL_STATE_SERIES_JSON);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ser, "cps"), 59)), 4);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ser, "cps"), 58)), 0);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ser, "r503"), 59)), 2);
	assert_int_equal(
		json_integer_value(json_array_get(json_object_get(ser, "concurrent"), 59)), 4);
	assert_int_equal(
		json_integer_value(json_array_get(json_object_get(ser, "concurrent"), 58)), 3);
	tot = json_object_get(doc, "totals");
	assert_keys(tot, counter_keys, sizeof(counter_keys) / sizeof(counter_keys[0]));
	assert_int_equal(int_at(json_object_get(tot, "requests"), "INVITE"), 16);
	assert_int_equal(int_at(json_object_get(tot, "requests"), "ACK"), 13);
	assert_null(json_object_get(json_object_get(tot, "requests"), "BYE"));
	assert_int_equal(int_at(json_object_get(tot, "responses"), "100"), 14);
	assert_int_equal(int_at(json_object_get(tot, "responses"), "503"), 7);
	assert_null(json_object_get(json_object_get(tot, "responses"), "603"));
	assert_int_equal(int_at(json_object_get(tot, "invite_final"), "200"), 5);
	assert_int_equal(int_at(json_object_get(tot, "invite_final"), "486"), 1);
	assert_null(json_object_get(json_object_get(tot, "invite_final"), "100"));
	assert_int_equal(int_at(tot, "retransmissions"), 2);
	assert_int_equal(int_at(tot, "invite_attempts"), 14);
	assert_int_equal(int_at(tot, "malformed"), 0);

	ev = json_object_get(doc, "events");
	assert_int_equal(json_array_size(ev), 2);
	o = json_array_get(ev, 0); /* newest: the bare 603 */
	assert_int_equal(json_object_size(o), 9);
	assert_int_equal(int_at(o, "status"), 603);
	assert_string_equal(str_at(o, "class"), "unclassified");
	assert_true(json_is_null(json_object_get(o, "rule")));
	assert_true(json_is_null(json_object_get(o, "retry_after")));
	assert_true(json_is_null(json_object_get(o, "reason")));
	assert_true(json_is_null(json_object_get(o, "oc")));
	assert_true(json_is_null(json_object_get(o, "oc_algo")));
	o = json_array_get(ev, 1);
	assert_int_equal(int_at(o, "status"), 503);
	assert_int_equal(int_at(o, "retry_after"), 60);
	assert_string_equal(str_at(o, "reason"), "Q.850;cause=34");
	assert_int_equal(int_at(o, "oc"), 20);
	assert_string_equal(str_at(o, "oc_algo"), "loss");
	assert_string_equal(str_at(o, "call_id"), "call-7");
	assert_string_equal(str_at(o, "class"), "cps-limit");
	assert_int_equal(int_at(o, "rule"), 4);
	assert_true(real_at(o, "time") > 1700000007.2 && real_at(o, "time") < 1700000007.3);
	json_decref(doc);

	doc = ctl_state_totals_json(st);
	assert_int_equal(json_object_size(doc), 3);
	assert_int_equal(json_array_size(json_object_get(doc, "removed")), 0);
	o = json_object_get(doc, "trunks");
	assert_int_equal(json_object_size(o), NT);
	for (i = 0; i < NT; i++)
		assert_keys(json_object_get(o, names[i]), counter_keys,
			sizeof(counter_keys) / sizeof(counter_keys[0]));
	assert_int_equal(int_at(json_object_get(o, "carrier-a"), "invite_attempts"), 14);
	assert_keys(json_object_get(doc, "unmatched"), counter_keys,
		sizeof(counter_keys) / sizeof(counter_keys[0]));
	assert_int_equal(int_at(json_object_get(doc, "unmatched"), "invite_attempts"), 1);
	json_decref(doc);

	ctl_state_ingest_pub(st, &p); /* a duplicate */
	doc = ctl_state_stats_json(st);
	assert_int_equal(int_at(doc, "pubs"), 3);
	assert_int_equal(int_at(doc, "stale_pubs"), 1);
	assert_int_equal(int_at(doc, "events"), 2);
	assert_int_equal(int_at(doc, "late_samples"), 0);
	json_decref(doc);
	ctl_state_free(st);
	free(m);
}

/* Dump and parse back: what a client would do with the document. */
static json_t *
round_trip(json_t *doc)
{
	json_error_t jerr;
	json_t *back;
	char *text;

	assert_non_null(doc);
	text = json_dumps(doc, JSON_COMPACT);
	assert_non_null(text);
	back = json_loads(text, 0, &jerr);
	if (back == NULL)
		fail_msg("invalid JSON: %s", jerr.text);
	free(text);
	json_decref(doc);
	return back;
}

/*
 * A reload's slot table: counts stay with their slot, a removed trunk
 * keeps its totals (listed as removed, out of the trunks view), a new
 * slot counts from its first publication, slots never shrink.
 */
static void
reload_pub(struct ctl_state *st, uint32_t t, uint64_t seq, uint64_t attempts)
{
	struct sg_pub p;

	memset(&p, 0, sizeof(p));
	p.worker = 0;
	p.trunk = t;
	p.seq = seq;
	p.c.invite_attempts = attempts;
	assert_int_equal(ctl_state_ingest_pub(st, &p), 0);
}

static void
test_reload_slots(void **state)
{
	const char *n2[] = { "a", "b" }, *n3[] = { "a", "b", "c" }, *n3r[] = { "a", "b2", "c" };
	const uint32_t cps[] = { 10, 20, 30 }, maxc[] = { 1, 2, 3 };
	const uint8_t rm[] = { 0, 1, 0 }, none[] = { 0, 0, 0 };
	struct ctl_state *st = ctl_state_create(2, n2, cps, maxc);
	json_t *doc, *rows;

	(void)state;
	assert_non_null(st);
	reload_pub(st, 0, 1, 5);
	reload_pub(st, 1, 2, 7);
	assert_int_equal(ctl_state_set_trunks(st, 3, n3, cps, maxc, rm), 0);
	assert_int_equal(ctl_state_n_trunks(st), 3);
	assert_true(ctl_state_trunk_removed(st, 1));
	assert_false(ctl_state_trunk_removed(st, 2));
	assert_int_equal(ctl_state_trunk_cps(st, 2), 30);
	reload_pub(st, 2, 3, 3);
	reload_pub(st, 1, 4, 9); /* a dialog of the removed trunk closing */
	doc = ctl_state_trunks_json(st, 1700000000);
	rows = json_object_get(doc, "trunks");
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(rows, 0), "name")), "a");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(rows, 1), "name")), "c");
	json_decref(doc);
	doc = ctl_state_totals_json(st);
	assert_int_equal(
		int_at(json_object_get(json_object_get(doc, "trunks"), "a"), "invite_attempts"), 5);
	assert_int_equal(
		int_at(json_object_get(json_object_get(doc, "trunks"), "b"), "invite_attempts"), 9);
	assert_int_equal(
		int_at(json_object_get(json_object_get(doc, "trunks"), "c"), "invite_attempts"), 3);
	assert_int_equal(json_array_size(json_object_get(doc, "removed")), 1);
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(doc, "removed"), 0)), "b");
	json_decref(doc);
	/* a rename keeps the slot's counts under the new name */
	assert_int_equal(ctl_state_set_trunks(st, 3, n3r, cps, maxc, none), 0);
	assert_int_equal(ctl_state_trunk_index(st, "b2"), 1);
	assert_int_equal(ctl_state_total(st, 1)->invite_attempts, 9);
	/* slots never shrink */
	assert_int_equal(ctl_state_set_trunks(st, 2, n2, cps, maxc, NULL), -1);
	ctl_state_free(st);
}

static void
test_hostile_strings(void **state)
{
	static const char head[] = { 'a', '"', '\0', (char)0xff, '\\', '\n', (char)0x80, 'z' };
	struct sg_shm *shm = calloc(1, sizeof(*shm));
	struct ctl_state *st;
	const char *cid, *name;
	struct sg_event ev;
	struct sg_pub p;
	json_t *doc, *o;

	(void)state;
	assert_non_null(shm);
	shm->n_trunks = 2;
	memset(shm->trunk_name[0], 0xff, SG_TRUNK_NAME_MAX); /* no NUL at all */
	snprintf(shm->trunk_name[1], SG_TRUNK_NAME_MAX, "b\"\\x");
	shm->trunk_cps[1] = 7;
	st = ctl_state_create_shm(shm);
	assert_non_null(st);

	event_fill(&ev, 0, 0);
	memset(ev.call_id, 0xfe, sizeof(ev.call_id));
	memcpy(ev.call_id, head, sizeof(head));
	ev.call_id_len = 0xffff; /* longer than the buffer */
	ev.reason_proto = 200;	 /* unknown enum values */
	ev.oc_algo = 99;
	assert_int_equal(ctl_state_ingest_event(st, &ev), 0);
	event_fill(&ev, 1, 1);
	ev.call_id_len = 0;
	ctl_state_ingest_event(st, &ev);

	doc = round_trip(ctl_state_events_json(st, 0));
	o = json_array_get(json_object_get(doc, "events"), 1);
	cid = str_at(o, "call_id");
	assert_int_equal(strlen(cid), SG_CALL_ID_MAX);
	assert_memory_equal(cid, "a\"?\?\\??z", 8);
	assert_int_equal(cid[SG_CALL_ID_MAX - 1], '?');
	assert_true(json_is_null(json_object_get(o, "reason")));
	assert_true(json_is_null(json_object_get(o, "oc_algo")));
	name = str_at(o, "trunk");
	assert_int_equal(strlen(name), SG_TRUNK_NAME_MAX - 1);
	assert_int_equal(strspn(name, "?"), SG_TRUNK_NAME_MAX - 1);
	o = json_array_get(json_object_get(doc, "events"), 0);
	assert_string_equal(str_at(o, "call_id"), "");
	assert_string_equal(str_at(o, "trunk"), "b\"\\x");
	json_decref(doc);

	memset(&p, 0, sizeof(p));
	p.seq = 1;
	p.c.invite_attempts = 1;
	ctl_state_ingest_pub(st, &p);
	json_decref(round_trip(ctl_state_trunks_json(st, 5)));
	json_decref(round_trip(ctl_state_totals_json(st)));
	doc = round_trip(ctl_state_trunk_json(st, "b\"\\x", 5));
	assert_int_equal(int_at(doc, "cps_agreed"), 7);
	json_decref(doc);
	ctl_state_free(st);
	free(shm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totals_exact),
		cmocka_unit_test(test_invalid_input),
		cmocka_unit_test(test_first_tick_no_spike),
		cmocka_unit_test(test_late_republish),
		cmocka_unit_test(test_from_zero),
		cmocka_unit_test(test_samples_add_up),
		cmocka_unit_test(test_catch_up_and_clock_steps),
		cmocka_unit_test(test_events_rings),
		cmocka_unit_test(test_retry_after_per_second),
		cmocka_unit_test(test_json_shapes),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_reload_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

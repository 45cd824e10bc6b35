/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fleet shares on simulated time: the split, the claim, samples as text,
 * and whole fleets of edges around a simulated store that does what the
 * Redis script does (latest samples of the last two seconds, grants with
 * the second they were made, the claim). Dialers send what they want up
 * to the limit their edge gives them.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_fleet.h"

#define LIMIT 30
#define TTL 5
#define MAX_SIM 4

struct sim_slot {
	char name[CTL_FLEET_NAME_MAX];
	struct ctl_fleet_edge sample;
	uint32_t grant;
	uint64_t grant_s;
	int has_sample, has_grant;
};

struct sim_store {
	struct sim_slot s[MAX_SIM];
	uint32_t n;
	int down;
	uint32_t cap; /* what the dialers' limits may sum to; 0: LIMIT */
};

struct sim_edge {
	struct ctl_fleet *f;
	uint32_t demand; /* what its dialer wants, CPS */
	uint32_t told;	 /* the limit it gives its dialer */
	int dead;	 /* no rounds, no counts */
	int noisy;	 /* two seconds in five count 40 % (a busy box) */
	int cut;	 /* its rounds fail (store unreachable from it) */
};

static struct sim_slot *
slot(struct sim_store *st, const char *name)
{
	uint32_t i;

	for (i = 0; i < st->n; i++) {
		if (strcmp(st->s[i].name, name) == 0)
			return &st->s[i];
	}
	assert_true(st->n < MAX_SIM);
	snprintf(st->s[st->n].name, sizeof(st->s[st->n].name), "%s", name);
	return &st->s[st->n++];
}

/* One account per round in these tests: the store's script, in C. */
static void
sim_round(struct sim_store *st, const struct ctl_fleet_round *r, struct ctl_fleet_result *res)
{
	const struct ctl_fleet_ask *k = &r->ask[0];
	struct sim_slot *me;
	uint64_t others = 0;
	uint32_t i;

	memset(res, 0, sizeof(*res));
	res->seq = r->seq;
	res->second = r->second;
	if (st->down || r->n != 1)
		return;
	me = slot(st, k->self.name);
	me->sample = k->self;
	me->has_sample = 1;
	for (i = 0; i < st->n; i++) {
		struct sim_slot *o = &st->s[i];

		if (o == me || !o->has_grant)
			continue;
		if (r->second - o->grant_s > r->ttl_s)
			o->has_grant = 0; /* aged out */
		else
			others += o->grant;
	}
	me->grant = ctl_fleet_claim(k->limit, k->want, others);
	me->grant_s = r->second;
	me->has_grant = 1;
	res->ok = 1;
	res->n = 1;
	res->view[0].grant = me->grant;
	for (i = 0; i < st->n; i++) {
		struct sim_slot *o = &st->s[i];
		struct ctl_fleet_edge *e;

		/* the script reads the keys of the sample's second and the one before */
		if (o == me || !o->has_sample || o->sample.second + 1 < k->self.second)
			continue;
		e = &res->view[0].edges[res->view[0].n++];
		*e = o->sample;
		snprintf(e->name, sizeof(e->name), "%s", o->name);
		e->grant = o->grant;
		e->has_grant = o->has_grant;
	}
}

static struct ctl_fleet *
new_edge_headroom(const char *name, uint32_t expected, uint32_t headroom)
{
	static const char *const acct[] = { "acme" };
	static const uint32_t lim[] = { LIMIT };
	struct ctl_fleet_conf c = {
		.ttl_s = TTL, .min_share = 1, .expected_edges = expected, .headroom_pct = headroom
	};
	struct ctl_fleet *f;

	snprintf(c.edge, sizeof(c.edge), "%s", name);
	f = ctl_fleet_create(&c, 1, acct, lim);
	assert_non_null(f);
	return f;
}

static struct ctl_fleet *
new_edge(const char *name, uint32_t expected)
{
	return new_edge_headroom(name, expected, 0);
}

static uint64_t
store_granted(const struct sim_store *st, uint64_t now)
{
	uint64_t g = 0;
	uint32_t i;

	for (i = 0; i < st->n; i++) {
		if (st->s[i].has_grant && now - st->s[i].grant_s <= TTL)
			g += st->s[i].grant;
	}
	return g;
}

/*
 * One second of the fleet: each live edge closes the last second (its
 * dialer sent min(demand, limit)), checks its mode, makes a round and
 * takes the answer, then gives its dialer its share. The limits the
 * dialers have never sum above the account's.
 */
static void
sim_second(struct sim_store *st, struct sim_edge *e, uint32_t n, uint64_t now)
{
	static struct ctl_fleet_round r;
	static struct ctl_fleet_result res;
	uint64_t told = 0;
	uint32_t i, j, cap = st->cap > 0 ? st->cap : LIMIT;

	for (i = 0; i < n; i++) {
		struct ctl_fleet_counts c = { .concurrent = 0 };

		if (e[i].dead)
			continue;
		c.attempts = e[i].demand < e[i].told ? e[i].demand : e[i].told;
		if (e[i].noisy && (now + i) % 5 < 2)
			c.attempts = c.attempts * 4 / 10;
		c.finals = c.attempts;
		ctl_fleet_local(e[i].f, 0, now - 1, &c, e[i].told, 0);
		ctl_fleet_tick(e[i].f, now);
		ctl_fleet_round(e[i].f, now, &r);
		sim_round(st, &r, &res);
		if (e[i].cut)
			res.ok = 0;
		ctl_fleet_result(e[i].f, &res);
		e[i].told = ctl_fleet_share(e[i].f, 0);
		/*
		 * After every edge's change, not only at the end of the
		 * second: the edges act one after the other. A cut-off edge
		 * is the one case that may overrun (after the TTL).
		 */
		for (j = 0, told = 0; j < n; j++) {
			if (!e[j].dead && !e[j].cut)
				told += e[j].told;
		}
		if (told > cap)
			fail_msg("second %" PRIu64
				 ", after edge %u: the edges' limits sum to %" PRIu64,
				now, i, told);
	}
	if (!st->down)
		assert_true(store_granted(st, now) <= cap);
}

static void
test_split(void **state)
{
	uint32_t out[8], i, sum;

	(void)state;
	/* everyone wants everything: even */
	{
		const uint32_t ask[] = { 30000, 30000, 30000 };

		ctl_fleet_split(30, 1, 3, ask, out);
		assert_int_equal(out[0], 10);
		assert_int_equal(out[1], 10);
		assert_int_equal(out[2], 10);
	}
	/* a small demand is met, the others share the rest */
	{
		const uint32_t ask[] = { 30000, 6750, 30000 };

		ctl_fleet_split(30, 1, 3, ask, out);
		assert_true(out[1] >= 6 && out[1] <= 7);
		assert_int_equal(out[0] + out[1] + out[2], 30);
		assert_true(out[0] >= 11 && out[2] >= 11);
	}
	/* nobody wants much: the spare is spread, the limit used */
	{
		const uint32_t ask[] = { 2000, 3000 };

		ctl_fleet_split(30, 1, 2, ask, out);
		assert_int_equal(out[0] + out[1], 30);
		assert_true(out[0] >= 2 && out[1] >= 3);
	}
	/* the minimum share, even at no demand */
	{
		const uint32_t ask[] = { 0, 30000, 30000 };

		ctl_fleet_split(30, 2, 3, ask, out);
		assert_true(out[0] >= 2);
		assert_int_equal(out[0] + out[1] + out[2], 30);
	}
	/* more edges than CPS: never above the limit */
	{
		const uint32_t ask[] = { 5000, 5000, 5000, 5000, 5000 };

		ctl_fleet_split(3, 1, 5, ask, out);
		for (i = 0, sum = 0; i < 5; i++)
			sum += out[i];
		assert_int_equal(sum, 3);
	}
	/* uneven: floors plus the remainder to the largest fractions */
	{
		const uint32_t ask[] = { 30000, 30000, 30000, 30000, 30000, 30000, 30000 };

		ctl_fleet_split(30, 0, 7, ask, out);
		for (i = 0, sum = 0; i < 7; i++) {
			assert_true(out[i] == 4 || out[i] == 5);
			sum += out[i];
		}
		assert_int_equal(sum, 30);
	}
}

static void
test_claim(void **state)
{
	(void)state;
	assert_int_equal(ctl_fleet_claim(30, 10, 0), 10);
	assert_int_equal(ctl_fleet_claim(30, 10, 25), 5);
	assert_int_equal(ctl_fleet_claim(30, 10, 30), 0);
	assert_int_equal(ctl_fleet_claim(30, 10, 99), 0);
}

static void
test_sample_text(void **state)
{
	struct ctl_fleet_edge a = { .second = 1765080000,
		.c = { .attempts = 12, .finals = 11, .r503 = 1, .concurrent = -1 },
		.demand_milli = 11500,
		.request_milli = 30000,
		.limit = 10,
		.state = 2 };
	struct ctl_fleet_edge b;
	char buf[CTL_FLEET_SAMPLE_MAX];
	static const char *const bad[] = { "", "1 2 3", "1 2 3 4 5 6 7 8 9 10",
		"1 2 3 4 -2 6 7 8 9", "1  2 3 4 5 6 7 8 9", "1 2 3 4 5 6 7 8 x",
		"-1 2 3 4 5 6 7 8 9", "1 2 3 4 5 6 7 8 4294967296",
		"99999999999999999999 2 3 4 5 6 7 8 9", "1 2 3 4 5 6 7 8 9 " };
	int n;
	size_t i;

	(void)state;
	n = ctl_fleet_sample_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "1765080000 12 11 1 -1 11500 30000 10 2");
	memset(&b, 0, sizeof(b));
	assert_int_equal(ctl_fleet_sample_parse(buf, (size_t)n, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ctl_fleet_sample_parse(bad[i], strlen(bad[i]), &b) == 0)
			fail_msg("parsed [%s]", bad[i]);
	}
	assert_int_equal(ctl_fleet_sample_format(&a, buf, 8), -1);
}

/* Three edges wanting 20 each share 30 evenly; one stops, the others take its part. */
static void
test_shares_follow_demand(void **state)
{
	static struct sim_store st;
	struct sim_edge e[3] = {
		{ .f = new_edge("a", 3), .demand = 20 },
		{ .f = new_edge("b", 3), .demand = 20 },
		{ .f = new_edge("c", 3), .demand = 20 },
	};
	uint64_t now = 1000;
	uint32_t i;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 3; i++)
		e[i].told = ctl_fleet_share(e[i].f, 0);
	assert_int_equal(e[0].told, 0); /* nothing before the first claim */
	for (; now < 1010; now++)
		sim_second(&st, e, 3, now);
	for (i = 0; i < 3; i++)
		assert_int_equal(e[i].told, 10);
	/* c's dialer stops: within a few seconds a and b hold (nearly) all */
	e[2].demand = 0;
	for (; now < 1015; now++)
		sim_second(&st, e, 3, now);
	assert_true(e[2].told <= 2);
	assert_true(e[0].told >= 14 && e[1].told >= 14);
	assert_int_equal(e[0].told + e[1].told + e[2].told, 30);
	/* and it stays so while c is idle */
	for (; now < 1030; now++) {
		sim_second(&st, e, 3, now);
		assert_true(e[2].told <= 2);
		assert_true(e[0].told >= 14 && e[1].told >= 14);
	}
	/* c dials again: back to even within a few seconds */
	e[2].demand = 20;
	for (; now < 1035; now++)
		sim_second(&st, e, 3, now);
	for (i = 0; i < 3; i++)
		assert_int_equal(e[i].told, 10);
	/* uneven demand: a small dialer gets what it uses, the rest split the remainder */
	e[0].demand = 5;
	for (; now < 1045; now++)
		sim_second(&st, e, 3, now);
	assert_true(e[0].told >= 5 && e[0].told <= 8);
	assert_true(e[1].told >= 11 && e[2].told >= 11);
	for (i = 0; i < 3; i++)
		ctl_fleet_free(e[i].f);
}

/* Counts that dip now and then (pacing, late publications) do not move the shares. */
static void
test_noisy_counts(void **state)
{
	static struct sim_store st;
	struct sim_edge e[3] = {
		{ .f = new_edge("a", 3), .demand = 20, .noisy = 1 },
		{ .f = new_edge("b", 3), .demand = 20, .noisy = 1 },
		{ .f = new_edge("c", 3), .demand = 20, .noisy = 1 },
	};
	uint64_t now = 3000;
	uint32_t i, low = 30;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (; now < 3010; now++)
		sim_second(&st, e, 3, now);
	for (; now < 3040; now++) {
		sim_second(&st, e, 3, now);
		for (i = 0; i < 3; i++)
			low = e[i].told < low ? e[i].told : low;
	}
	assert_int_equal(low, 10);
	for (i = 0; i < 3; i++)
		ctl_fleet_free(e[i].f);
}

/* Edges that start a few seconds apart: the first does not take all meanwhile. */
static void
test_staggered_start(void **state)
{
	static struct sim_store st;
	struct sim_edge e[3] = {
		{ .f = new_edge("a", 3), .demand = 20 },
		{ .f = new_edge("b", 3), .demand = 20, .dead = 1 },
		{ .f = new_edge("c", 3), .demand = 20, .dead = 1 },
	};
	uint64_t now = 7000;
	uint32_t i;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (i = 0; i < TTL; i++, now++) {
		if (i == 2)
			e[1].dead = 0;
		if (i == 4)
			e[2].dead = 0;
		sim_second(&st, e, 3, now);
		assert_true(e[0].told <= 10);
	}
	for (i = 0; i < 5; i++, now++)
		sim_second(&st, e, 3, now);
	for (i = 0; i < 3; i++) {
		assert_int_equal(e[i].told, 10);
		ctl_fleet_free(e[i].f);
	}
}

/* An edge joins a running fleet, another dies and ages out. */
static void
test_join_and_age_out(void **state)
{
	static struct sim_store st;
	struct sim_edge e[3] = {
		{ .f = new_edge("a", 1), .demand = 40 },
		{ .f = new_edge("b", 1), .demand = 40 },
		{ .f = new_edge("c", 1), .demand = 40, .dead = 1 },
	};
	struct ctl_fleet_counts sum;
	uint64_t now = 5000;
	uint32_t i;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (; now < 5010; now++)
		sim_second(&st, e, 3, now);
	assert_int_equal(e[0].told, 15);
	assert_int_equal(e[1].told, 15);
	/* the fleet-wide sums: both edges' last seconds */
	assert_int_equal(ctl_fleet_sums(e[0].f, 0, now - 2, &sum), 2);
	assert_int_equal(sum.attempts, 30);
	/* the same view for the next second (a loop closing two at once): b's calls once only */
	assert_int_equal(ctl_fleet_sums(e[0].f, 0, now - 1, &sum), 2);
	assert_int_equal(sum.attempts, 15);
	assert_int_equal(sum.concurrent, 0);
	/* c starts: min share at once or the next second, even within 4 */
	e[2].dead = 0;
	e[2].told = ctl_fleet_share(e[2].f, 0);
	for (i = 0; i < 4; i++, now++)
		sim_second(&st, e, 3, now);
	assert_int_equal(e[0].told, 10);
	assert_int_equal(e[1].told, 10);
	assert_int_equal(e[2].told, 10);
	assert_int_equal(ctl_fleet_sums(e[0].f, 0, now - 1, &sum), 3);
	/* b dies: its grant holds until the TTL, then a and c take it */
	e[1].dead = 1;
	for (i = 0; i < TTL + 3; i++, now++)
		sim_second(&st, e, 3, now);
	assert_int_equal(e[0].told, 15);
	assert_int_equal(e[2].told, 15);
	for (i = 0; i < 3; i++)
		ctl_fleet_free(e[i].f);
}

/* Store gone: one alert, the static share from the edges last seen; back: one clear. */
static void
test_fallback_and_rejoin(void **state)
{
	static struct sim_store st;
	struct sim_edge e[3] = {
		{ .f = new_edge("a", 1), .demand = 20 },
		{ .f = new_edge("b", 1), .demand = 20 },
		{ .f = new_edge("c", 1), .demand = 20 },
	};
	static struct ctl_fleet_round r;
	static struct ctl_fleet_result res;
	struct ctl_fleet_counts c = { .attempts = 7, .finals = 7, .concurrent = 3 }, sum;
	uint64_t now = 9000;
	unsigned int entered = 0, left = 0, i;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (; now < 9010; now++)
		sim_second(&st, e, 3, now);
	assert_int_equal(e[0].told, 10);
	/* the store goes away for a: rounds fail */
	for (i = 0; i < 10; i++, now++) {
		enum ctl_fleet_change ch;

		ctl_fleet_local(e[0].f, 0, now - 1, &c, e[0].told, 0);
		ch = ctl_fleet_tick(e[0].f, now);
		entered += ch == CTL_FLEET_ENTERED_FALLBACK;
		left += ch == CTL_FLEET_LEFT_FALLBACK;
		ctl_fleet_round(e[0].f, now, &r);
		memset(&res, 0, sizeof(res));
		res.seq = r.seq;
		res.second = now;
		ctl_fleet_result(e[0].f, &res);
		e[0].told = ctl_fleet_share(e[0].f, 0);
		if (i > CTL_FLEET_STALE_S) {
			assert_int_equal(ctl_fleet_mode(e[0].f), CTL_FLEET_FALLBACK);
			assert_int_equal(e[0].told, LIMIT / 3);
			/* local counts only, never lost */
			assert_int_equal(ctl_fleet_sums(e[0].f, 0, now - 1, &sum), 1);
			assert_int_equal(sum.attempts, 7);
			assert_int_equal(sum.concurrent, 3);
		}
	}
	assert_int_equal(entered, 1);
	assert_int_equal(left, 0);
	/* a stale answer to an old round changes nothing */
	res.seq = 1;
	res.ok = 1;
	ctl_fleet_result(e[0].f, &res);
	assert_int_equal(ctl_fleet_mode(e[0].f), CTL_FLEET_FALLBACK);
	/* the store is back: joined at the next good round, one clear */
	for (i = 0; i < 5; i++, now++) {
		enum ctl_fleet_change ch;

		ctl_fleet_local(e[0].f, 0, now - 1, &c, e[0].told, 0);
		ch = ctl_fleet_tick(e[0].f, now);
		entered += ch == CTL_FLEET_ENTERED_FALLBACK;
		left += ch == CTL_FLEET_LEFT_FALLBACK;
		ctl_fleet_round(e[0].f, now, &r);
		sim_round(&st, &r, &res);
		ctl_fleet_result(e[0].f, &res);
		e[0].told = ctl_fleet_share(e[0].f, 0);
		assert_int_equal(ctl_fleet_mode(e[0].f), CTL_FLEET_JOINED);
	}
	assert_int_equal(entered, 1);
	assert_int_equal(left, 1);
	for (i = 0; i < 3; i++)
		ctl_fleet_free(e[i].f);
}

/* A control loop that stalls (a starved box) makes no rounds: no fallback for that. */
static void
test_stalled_loop(void **state)
{
	static struct sim_store st;
	struct sim_edge e[1] = { { .f = new_edge("a", 1), .demand = 20 } };
	static struct ctl_fleet_round r;
	static struct ctl_fleet_result res;
	uint64_t now = 400;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (; now < 405; now++)
		sim_second(&st, e, 1, now);
	assert_int_equal(ctl_fleet_mode(e[0].f), CTL_FLEET_JOINED);
	now += 6; /* six seconds without a turn of the loop */
	assert_int_equal(ctl_fleet_tick(e[0].f, now), CTL_FLEET_NO_CHANGE);
	ctl_fleet_round(e[0].f, now, &r);
	sim_round(&st, &r, &res);
	ctl_fleet_result(e[0].f, &res);
	assert_int_equal(ctl_fleet_tick(e[0].f, now + 1), CTL_FLEET_NO_CHANGE);
	assert_int_equal(ctl_fleet_mode(e[0].f), CTL_FLEET_JOINED);
	ctl_fleet_free(e[0].f);
}

/* An edge that lags (missing from the last views) still counts for the static share. */
static void
test_lagging_edge_counts(void **state)
{
	static struct sim_store st;
	struct sim_edge e[3] = {
		{ .f = new_edge("a", 1), .demand = 20 },
		{ .f = new_edge("b", 1), .demand = 20 },
		{ .f = new_edge("c", 1), .demand = 20 },
	};
	uint64_t now = 600;
	uint32_t i;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (; now < 610; now++)
		sim_second(&st, e, 3, now);
	/* b and c lag two seconds (their samples fall out of a's view), then the store goes */
	e[1].dead = e[2].dead = 1;
	for (i = 0; i < 2; i++, now++)
		sim_second(&st, e, 3, now);
	st.down = 1;
	for (i = 0; i < 10; i++, now++)
		sim_second(&st, e, 3, now);
	assert_int_equal(ctl_fleet_mode(e[0].f), CTL_FLEET_FALLBACK);
	assert_int_equal(e[0].told, 10);
	for (i = 0; i < 3; i++)
		ctl_fleet_free(e[i].f);
}

/* Redis down from the start: the static share from expected_edges, then one alert. */
static void
test_never_joined(void **state)
{
	static struct ctl_fleet_round r;
	struct ctl_fleet *f = new_edge("a", 4);
	unsigned int entered = 0, i;

	(void)state;
	assert_int_equal(ctl_fleet_mode(f), CTL_FLEET_JOINING);
	assert_int_equal(ctl_fleet_share(f, 0), 0);
	for (i = 0; i < 10; i++) {
		entered += ctl_fleet_tick(f, 100 + i) == CTL_FLEET_ENTERED_FALLBACK;
		ctl_fleet_round(f, 100 + i, &r); /* never answered */
	}
	/* the static share: 30 over the 4 edges expected */
	assert_int_equal(entered, 1);
	assert_int_equal(ctl_fleet_share(f, 0), 7);
	ctl_fleet_free(f);
}

/* A whole fallback: every edge's static share together stays within the limit. */
static void
test_store_down_for_all(void **state)
{
	static struct sim_store st;
	struct sim_edge e[3] = {
		{ .f = new_edge("a", 1), .demand = 20 },
		{ .f = new_edge("b", 1), .demand = 20 },
		{ .f = new_edge("c", 1), .demand = 20 },
	};
	uint64_t now = 100;
	uint32_t i;

	(void)state;
	memset(&st, 0, sizeof(st));
	/* uneven shares: a small dialer on a, the others share the rest */
	e[0].demand = 5;
	for (; now < 115; now++)
		sim_second(&st, e, 3, now);
	assert_true(e[0].told < 10 && e[1].told > 10 && e[2].told > 10);
	/*
	 * The store goes; the edges lose it one after the other within the
	 * second (sim_second's order): a, under its static share, must not
	 * rise before b and c fell (sim_second checks the sum every second).
	 */
	st.down = 1;
	for (; now < 125; now++)
		sim_second(&st, e, 3, now);
	for (i = 0; i < 3; i++) {
		assert_int_equal(ctl_fleet_mode(e[i].f), CTL_FLEET_FALLBACK);
		assert_int_equal(e[i].told, 10);
	}
	/* back, empty (a restarted Redis keeps nothing): the first to claim may not take all */
	memset(&st, 0, sizeof(st));
	e[0].demand = 20;
	for (; now < 128; now++)
		sim_second(&st, e, 3, now);
	for (i = 0; i < 3; i++)
		assert_int_equal(ctl_fleet_mode(e[i].f), CTL_FLEET_JOINED);
	for (; now < 140; now++)
		sim_second(&st, e, 3, now);
	for (i = 0; i < 3; i++) {
		assert_int_equal(e[i].told, 10);
		ctl_fleet_free(e[i].f);
	}
}

/* The budget: the limit less the headroom, never 0 for an account that has CPS. */
static void
test_budget(void **state)
{
	static const struct {
		uint32_t limit, pct, budget;
	} cases[] = {
		{ 30, 0, 30 },
		{ 30, 3, 29 },
		{ 30, 5, 28 },
		{ 30, 10, 27 },
		{ 100, 5, 95 },
		{ 1000, 3, 970 },
		{ 1, 5, 1 },
		{ 1, 50, 1 },
		{ 2, 50, 1 },
		{ 0, 5, 0 },
		{ 30, 100, 0 },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (ctl_fleet_budget(cases[i].limit, cases[i].pct) != cases[i].budget)
			fail_msg("budget(%u, %u) = %u, want %u", cases[i].limit, cases[i].pct,
				ctl_fleet_budget(cases[i].limit, cases[i].pct), cases[i].budget);
	}
}

/*
 * With headroom the shares sum to the budget, never to the limit: while
 * three dialers want more than their part, when one stops, through a
 * whole fallback (static shares of the budget) and a rejoin. sim_second
 * checks the dialers' limits after every edge's change, and the grants.
 */
static void
test_headroom(void **state)
{
	static struct sim_store st;
	struct sim_edge e[3] = {
		{ .f = new_edge_headroom("a", 3, 5), .demand = 20 },
		{ .f = new_edge_headroom("b", 3, 5), .demand = 20 },
		{ .f = new_edge_headroom("c", 3, 5), .demand = 20 },
	};
	static struct ctl_fleet_round r;
	const uint32_t budget = ctl_fleet_budget(LIMIT, 5);
	uint64_t now = 5000;
	uint32_t i, sum;
	json_t *j;

	(void)state;
	assert_int_equal(budget, 28);
	memset(&st, 0, sizeof(st));
	st.cap = budget;
	for (; now < 5010; now++)
		sim_second(&st, e, 3, now);
	for (i = 0, sum = 0; i < 3; i++) {
		assert_true(e[i].told >= 9 && e[i].told <= 10);
		sum += e[i].told;
	}
	assert_int_equal(sum, budget);
	/* the claim itself is capped by the budget, whatever the edge wants */
	ctl_fleet_round(e[0].f, now, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ask[0].limit, budget);
	assert_true(r.ask[0].want <= budget);
	j = ctl_fleet_json(e[0].f, now);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(j, "accounts"), 0), "budget_cps")),
		budget);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(j, "accounts"), 0), "limit_cps")),
		LIMIT);
	json_decref(j);
	/* c stops: a and b take its part of the budget, not of the limit */
	e[2].demand = 0;
	for (; now < 5020; now++)
		sim_second(&st, e, 3, now);
	assert_true(e[2].told <= 2);
	assert_true(e[0].told >= 13 && e[1].told >= 13);
	assert_int_equal(e[0].told + e[1].told + e[2].told, budget);
	/* the store goes for all: static shares of the budget */
	e[2].demand = 20;
	st.down = 1;
	for (; now < 5030; now++)
		sim_second(&st, e, 3, now);
	for (i = 0; i < 3; i++) {
		assert_int_equal(ctl_fleet_mode(e[i].f), CTL_FLEET_FALLBACK);
		assert_int_equal(e[i].told, budget / 3);
	}
	/* back, empty: within the budget all along, then even again */
	memset(&st, 0, sizeof(st));
	st.cap = budget;
	for (; now < 5045; now++)
		sim_second(&st, e, 3, now);
	for (i = 0, sum = 0; i < 3; i++) {
		assert_int_equal(ctl_fleet_mode(e[i].f), CTL_FLEET_JOINED);
		assert_true(e[i].told >= 9 && e[i].told <= 10);
		sum += e[i].told;
		ctl_fleet_free(e[i].f);
	}
	assert_int_equal(sum, budget);
}

static void
test_json_and_args(void **state)
{
	static const char *const acct[] = { "", "acme" };
	static const uint32_t lim[] = { 10, 30 };
	struct ctl_fleet_conf c = { .edge = "e1", .ttl_s = 5, .min_share = 1, .expected_edges = 2 };
	struct ctl_fleet *f;
	json_t *j;

	(void)state;
	assert_null(ctl_fleet_create(NULL, 1, acct, lim));
	assert_null(ctl_fleet_create(&c, SG_MAX_TRUNKS + 1, acct, lim));
	c.headroom_pct = 100; /* nothing left to share */
	assert_null(ctl_fleet_create(&c, 2, acct, lim));
	c.headroom_pct = 0;
	f = ctl_fleet_create(&c, 2, acct, lim);
	assert_non_null(f);
	assert_false(ctl_fleet_shared(f, 0));
	assert_true(ctl_fleet_shared(f, 1));
	assert_false(ctl_fleet_shared(f, 2));
	assert_int_equal(ctl_fleet_n_shared(f), 1);
	assert_int_equal(ctl_fleet_share(f, 0), 10);
	assert_int_equal(ctl_fleet_share(f, 1), 0); /* not claimed yet */
	j = ctl_fleet_json(f, 100);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "mode")), "joining");
	assert_int_equal(json_array_size(json_object_get(j, "accounts")), 1);
	json_decref(j);
	ctl_fleet_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_claim),
		cmocka_unit_test(test_sample_text),
		cmocka_unit_test(test_shares_follow_demand),
		cmocka_unit_test(test_noisy_counts),
		cmocka_unit_test(test_staggered_start),
		cmocka_unit_test(test_join_and_age_out),
		cmocka_unit_test(test_fallback_and_rejoin),
		cmocka_unit_test(test_never_joined),
		cmocka_unit_test(test_stalled_loop),
		cmocka_unit_test(test_lagging_edge_counts),
		cmocka_unit_test(test_store_down_for_all),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_headroom),
		cmocka_unit_test(test_json_and_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

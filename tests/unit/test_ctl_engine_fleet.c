/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine with a fleet attached, on simulated time: a shared trunk's
 * dialers get this edge's share (static before the store answered, the
 * claimed grant after), the policy judges the account's fleet-wide sums,
 * its throttles are cut to this edge's part, losing the store raises one
 * alert and regaining it one clear, a trunk with its own budget is left
 * alone, and a refusal burst of an account within its limit teaches no
 * ceiling (the policy is told the other edges' rates and this edge's
 * share).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg.h"
#include "ctl_engine.h"
#include "ctl_fleet.h"
#include "ctl_state.h"

#define T0 1765000000ull

struct bed {
	struct sg_config cfg;
	struct ctl_state *st;
	struct ctl_engine *eng;
	struct ctl_fleet *fleet;
	struct sg_trunk_counters tot[2];
	uint64_t pub_seq;
	uint64_t last_seq; /* of directives */
	struct ctl_directive d[64];
};

static struct bed *
bed_new(void)
{
	static const char *const names[] = { "shared", "own" };
	const char *accounts[] = { "acme", "" };
	const uint32_t cps[] = { 30, 10 }, maxc[] = { 300, 100 };
	struct ctl_fleet_conf fc = { .edge = "a", .ttl_s = 5, .min_share = 1, .expected_edges = 3 };
	struct bed *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	cfg_defaults(&b->cfg);
	b->cfg.n_trunks = 2;
	snprintf(b->cfg.trunks[0].name, sizeof(b->cfg.trunks[0].name), "shared");
	snprintf(b->cfg.trunks[0].account, sizeof(b->cfg.trunks[0].account), "acme");
	b->cfg.trunks[0].cps = 30;
	b->cfg.trunks[0].max_concurrent = 300;
	snprintf(b->cfg.trunks[1].name, sizeof(b->cfg.trunks[1].name), "own");
	b->cfg.trunks[1].cps = 10;
	b->cfg.trunks[1].max_concurrent = 100;
	b->st = ctl_state_create(2, names, cps, maxc);
	assert_non_null(b->st);
	b->eng = ctl_engine_create(&b->cfg, b->st);
	assert_non_null(b->eng);
	b->fleet = ctl_fleet_create(&fc, 2, accounts, cps);
	assert_non_null(b->fleet);
	ctl_engine_set_fleet(b->eng, b->fleet);
	return b;
}

static void
bed_free(struct bed *b)
{
	ctl_engine_free(b->eng);
	ctl_fleet_free(b->fleet);
	ctl_state_free(b->st);
	free(b);
}

/* One second of local traffic on trunk t: attempts INVITEs, r503 refused, the rest answered. */
static void
traffic_503(struct bed *b, uint32_t t, uint64_t second, uint64_t attempts, uint64_t r503)
{
	struct sg_pub p = { .worker = 0, .trunk = t };

	b->tot[t].invite_attempts += attempts;
	b->tot[t].invite_final[200 - 100] += attempts - r503;
	b->tot[t].invite_final[503 - 100] += r503;
	p.seq = ++b->pub_seq;
	p.time_ns = second * 1000000000ull + 500000000ull;
	p.c = b->tot[t];
	ctl_engine_pub(b->eng, &p);
}

static void
traffic(struct bed *b, uint32_t t, uint64_t second, uint64_t attempts)
{
	traffic_503(b, t, second, attempts, 0);
}

/* Tick at now; every directive is checked for a rising seq. */
static unsigned int
tick(struct bed *b, uint64_t now)
{
	unsigned int n = ctl_engine_tick(b->eng, now, b->d, 64), i;

	for (i = 0; i < n; i++) {
		assert_true(b->d[i].seq > b->last_seq);
		b->last_seq = b->d[i].seq;
	}
	return n;
}

static const struct ctl_directive *
find(const struct bed *b, unsigned int n, uint32_t trunk, enum ctl_action a, enum ctl_cause c)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (b->d[i].trunk == trunk && b->d[i].action == a && b->d[i].cause == c)
			return &b->d[i];
	}
	return NULL;
}

/*
 * The store's answer: two other edges, each with `each` attempts last
 * second (r503 of them refused, `each` CPS its smoothed rate), and a grant.
 */
static void
answer_503(struct bed *b, uint64_t now, uint32_t grant, uint64_t each, uint64_t r503)
{
	static struct ctl_fleet_round r;
	static struct ctl_fleet_result res;
	uint32_t k;

	ctl_fleet_round(b->fleet, now, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ask[0].account, "acme");
	memset(&res, 0, sizeof(res));
	res.seq = r.seq;
	res.second = now;
	res.ok = 1;
	res.n = 1;
	res.view[0].grant = grant;
	res.view[0].n = 2;
	for (k = 0; k < 2; k++) {
		struct ctl_fleet_edge *e = &res.view[0].edges[k];

		snprintf(e->name, sizeof(e->name), "%c", 'b' + k);
		e->second = now - 1;
		e->c.attempts = each;
		e->c.finals = each;
		e->c.r503 = r503;
		e->demand_milli = (uint32_t)(each * 1000);
		e->c.concurrent = 5;
		e->request_milli = 30000;
		e->limit = 10;
	}
	ctl_fleet_result(b->fleet, &res);
}

static void
answer(struct bed *b, uint64_t now, uint32_t grant, uint64_t each)
{
	answer_503(b, now, grant, each, 0);
}

static void
test_static_then_claimed_share(void **state)
{
	struct bed *b = bed_new();
	const struct ctl_directive *d;
	uint64_t now = T0;
	unsigned int n;

	(void)state;
	n = tick(b, now++);
	/* before the store answered nothing is this edge's: its dialers wait */
	d = find(b, n, 0, CTL_ACT_PAUSE, CTL_CAUSE_FLEET_SHARE);
	assert_non_null(d);
	assert_int_equal(d->duration_s, 1);
	assert_string_equal(d->trunk_name, "shared");
	assert_int_equal(ctl_engine_fleet_limit(b->eng, 0), 0);
	answer(b, now - 1, 10, 5);
	traffic(b, 0, now - 1, 0);
	n = tick(b, now++);
	d = find(b, n, 0, CTL_ACT_THROTTLE, CTL_CAUSE_FLEET_SHARE);
	assert_non_null(d);
	assert_int_equal(d->cps_limit, 10);
	assert_int_equal(ctl_engine_fleet_limit(b->eng, 0), 10);
	/* the trunk with its own budget gets nothing from the fleet */
	assert_null(find(b, n, 1, CTL_ACT_THROTTLE, CTL_CAUSE_FLEET_SHARE));
	/* the same share again: no directive */
	answer(b, now - 1, 10, 5);
	traffic(b, 0, now - 1, 5);
	n = tick(b, now++);
	assert_null(find(b, n, 0, CTL_ACT_THROTTLE, CTL_CAUSE_FLEET_SHARE));
	/* the claim gave 12: the dialers are told */
	answer(b, now - 1, 12, 5);
	traffic(b, 0, now - 1, 5);
	n = tick(b, now++);
	d = find(b, n, 0, CTL_ACT_THROTTLE, CTL_CAUSE_FLEET_SHARE);
	assert_non_null(d);
	assert_int_equal(d->cps_limit, 12);
	/* a new grant is told as soon as the answer is in, not at the next tick */
	answer(b, now - 1, 9, 5);
	n = ctl_engine_fleet_apply(b->eng, (now - 1) * 1000 + 300, b->d, 64);
	assert_int_equal(n, 1);
	assert_int_equal(b->d[0].action, CTL_ACT_THROTTLE);
	assert_int_equal(b->d[0].cps_limit, 9);
	assert_int_equal(b->d[0].time_ms, (now - 1) * 1000 + 300);
	assert_true(b->d[0].seq > b->last_seq);
	b->last_seq = b->d[0].seq;
	/* a larger one too, and the tick then has nothing to add */
	answer(b, now - 1, 11, 5);
	n = ctl_engine_fleet_apply(b->eng, (now - 1) * 1000 + 400, b->d, 64);
	assert_int_equal(n, 1);
	assert_int_equal(b->d[0].cps_limit, 11);
	assert_true(b->d[0].seq > b->last_seq);
	b->last_seq = b->d[0].seq;
	traffic(b, 0, now - 1, 5);
	n = tick(b, now++);
	assert_null(find(b, n, 0, CTL_ACT_THROTTLE, CTL_CAUSE_FLEET_SHARE));
	assert_int_equal(ctl_engine_fleet_limit(b->eng, 0), 11);
	bed_free(b);
}

/*
 * Each edge alone is under 30 CPS, the account is not: the policy sees
 * the fleet's sum and throttles proactively; this edge's throttle is its
 * part of the account's limit.
 */
static void
test_policy_judges_the_account(void **state)
{
	struct bed *b = bed_new();
	const struct ctl_directive *d = NULL;
	uint64_t now = T0;
	unsigned int n, i;

	(void)state;
	tick(b, now++);
	for (i = 0; i < 6 && d == NULL; i++) {
		answer(b, now - 1, 10, 14);
		traffic(b, 0, now - 1, 14);
		n = tick(b, now++);
		d = find(b, n, 0, CTL_ACT_THROTTLE, CTL_CAUSE_PROACTIVE_CPS);
	}
	assert_non_null(d);
	/* 14 here + 2 x 14 elsewhere, judged against the account's 30 */
	print_message(
		"proactive throttle at %.1f CPS, this edge's part %u\n", d->ev.cps, d->cps_limit);
	assert_true(d->ev.cps > 30.0);
	assert_true(d->cps_limit <= 10);
	assert_true(d->cps_limit >= 1);
	bed_free(b);
}

static void
test_fallback_alert_and_clear(void **state)
{
	struct bed *b = bed_new();
	unsigned int n, i, alerts = 0, clears = 0;
	uint64_t now = T0;

	(void)state;
	tick(b, now++);
	for (i = 0; i < 3; i++) {
		answer(b, now - 1, 14, 10);
		traffic(b, 0, now - 1, 10);
		n = tick(b, now++);
		assert_null(find(b, n, 0, CTL_ACT_ALERT, CTL_CAUSE_FLEET_FALLBACK));
	}
	assert_int_equal(ctl_engine_fleet_limit(b->eng, 0), 14);
	/* the store is gone: rounds, no answers */
	for (i = 0; i < 8; i++) {
		static struct ctl_fleet_round r;

		traffic(b, 0, now - 1, 10);
		n = tick(b, now);
		ctl_fleet_round(b->fleet, now++, &r);
		alerts += find(b, n, 0, CTL_ACT_ALERT, CTL_CAUSE_FLEET_FALLBACK) != NULL;
		assert_null(find(b, n, 1, CTL_ACT_ALERT, CTL_CAUSE_FLEET_FALLBACK));
	}
	assert_int_equal(alerts, 1);
	/* static share: 30 over the 3 edges last seen */
	assert_int_equal(ctl_engine_fleet_limit(b->eng, 0), 10);
	/* back */
	for (i = 0; i < 4; i++) {
		answer(b, now - 1, 10, 10);
		traffic(b, 0, now - 1, 10);
		n = tick(b, now++);
		clears += find(b, n, 0, CTL_ACT_CLEAR, CTL_CAUSE_FLEET_FALLBACK) != NULL;
		alerts += find(b, n, 0, CTL_ACT_ALERT, CTL_CAUSE_FLEET_FALLBACK) != NULL;
	}
	assert_int_equal(alerts, 1);
	assert_int_equal(clears, 1);
	bed_free(b);
}

/* The learned ceiling of trunk t, 0 when none. */
static double
ceiling(const struct bed *b, uint32_t t)
{
	json_t *j = ctl_policy_trunk_json(ctl_engine_policy(b->eng), t);
	json_t *c;
	double v;

	assert_non_null(j);
	c = json_object_get(j, "ceiling_cps");
	v = json_is_number(c) ? json_number_value(c) : 0.0;
	json_decref(j);
	return v;
}

/*
 * The three edges at their shares (9 each) and two seconds in which the
 * carrier refused 6 calls of each: the account's burst pauses this edge,
 * no ceiling is learned under the budget (the account stayed under its
 * limit, this edge at its share), and the dialers get their share back
 * when the pause is over. The policy hears the other edges' rate.
 */
static void
test_refusal_burst_keeps_the_share(void **state)
{
	struct bed *b = bed_new();
	const struct ctl_directive *d;
	uint64_t now = T0, paused_at = 0, back_at = 0;
	unsigned int n, i;

	(void)state;
	tick(b, now++);
	for (i = 0; i < 5; i++) {
		answer(b, now - 1, 9, 9);
		traffic(b, 0, now - 1, 9);
		n = tick(b, now++);
		assert_null(find(b, n, 0, CTL_ACT_PAUSE, CTL_CAUSE_OVER_LIMIT));
	}
	assert_int_equal(ctl_engine_fleet_limit(b->eng, 0), 9);
	/* the other edges' smoothed rates, as they published them */
	assert_true(ctl_fleet_others_cps(b->fleet, 0, now - 1) > 17.9);
	assert_true(ctl_fleet_others_cps(b->fleet, 0, now - 1) < 18.1);
	assert_true(ctl_fleet_others_cps(b->fleet, 1, now - 1) == 0.0);
	assert_int_equal(ctl_fleet_account_budget(b->fleet, 0), 30);
	/* two seconds in which the carrier refused 6 of each edge's 9 */
	answer_503(b, now - 1, 9, 9, 6);
	traffic_503(b, 0, now - 1, 9, 6);
	n = tick(b, now++);
	assert_null(find(b, n, 0, CTL_ACT_PAUSE, CTL_CAUSE_OVER_LIMIT));
	answer_503(b, now - 1, 9, 9, 6);
	traffic_503(b, 0, now - 1, 9, 6);
	n = tick(b, now++);
	d = find(b, n, 0, CTL_ACT_PAUSE, CTL_CAUSE_OVER_LIMIT);
	assert_non_null(d);
	paused_at = now - 1;
	assert_true(ceiling(b, 0) == 0.0);
	for (i = 0; i < 8 && back_at == 0; i++) {
		answer(b, now - 1, 9, 9);
		traffic(b, 0, now - 1, ctl_engine_fleet_limit(b->eng, 0));
		n = tick(b, now++);
		if (ctl_engine_fleet_limit(b->eng, 0) == 9)
			back_at = now - 1;
	}
	print_message("paused at +%llu s, back at the share +%llu s later, ceiling %.1f\n",
		(unsigned long long)(paused_at - T0), (unsigned long long)(back_at - paused_at),
		ceiling(b, 0));
	assert_true(back_at != 0);
	assert_true(back_at - paused_at <= 4);
	assert_true(ceiling(b, 0) == 0.0 || ceiling(b, 0) >= 30.0);
	bed_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_then_claimed_share),
		cmocka_unit_test(test_policy_judges_the_account),
		cmocka_unit_test(test_fallback_alert_and_clear),
		cmocka_unit_test(test_refusal_burst_keeps_the_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rate-limit policy under simulated time: a dialer model that obeys the
 * directives and a carrier model that answers its calls, second by
 * second, for hundreds of seconds. Checked: a ramp past the carrier's
 * limit is paused, throttled, raised back and resumed without flapping;
 * Retry-After lengthens the pause; RFC 7339 oc halves the rate while
 * valid; random 503s at a low rate alert instead of throttling; the
 * proactive rules; the backoff doubling to its cap and resetting; the
 * operator's override; the directive JSON; determinism and bad input.
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
#include "ctl_policy.h"
#include "dp_sip.h"

#define T0 1700000000ull /* epoch second the simulations start at */
#define LOG_MAX 4096

static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The defaults of config/cfg.c, as an empty file gives them. */
static struct cfg_policy
policy_defaults(void)
{
	struct cfg_policy c = {
		.window_s = 5,
		.burst_min_503 = 5,
		.burst_min_share = 20,
		.peak_window_s = 60,
		.near_peak_pct = 80,
		.low_rate_pct = 50,
		.backoff_base_s = 2,
		.backoff_max_s = 60,
		.beta_pct = 70,
		.alpha_cps = 1,
		.increase_interval_s = 2,
		.abate_share = 2,
		.hold_s = 3,
		.clear_after_s = 30,
		.proactive = 1,
		.honor_oc = 1,
	};
	return c;
}

/*
 * One trunk, its dialer and what happened. The dialer obeys each
 * directive from the next second on: pause stops it, throttle caps it,
 * resume lifts the cap.
 */
struct sim {
	struct ctl_policy *p;
	uint32_t agreed;
	int paused;
	uint32_t cap; /* 0: none */
	struct ctl_directive log[LOG_MAX];
	unsigned int n;
	uint64_t calls[LOG_MAX]; /* attempts per simulated second, for concurrency */
};

static struct sim *
sim_new(const struct cfg_policy *c, uint32_t agreed, uint32_t max_conc)
{
	static const char *const names[1] = { "carrier-a" };
	struct sim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->agreed = agreed;
	s->p = ctl_policy_create(c, 1, names, &agreed, &max_conc);
	assert_non_null(s->p);
	return s;
}

static void
sim_free(struct sim *s)
{
	ctl_policy_free(s->p);
	free(s);
}

/* What the dialer sends when it would like to send `offered`. */
static uint64_t
sim_attempts(const struct sim *s, uint64_t offered)
{
	if (s->paused)
		return 0;
	if (s->cap > 0 && offered > s->cap)
		return s->cap;
	return offered;
}

/* Close simulated second t (0-based); returns the directives it produced. */
static unsigned int
sim_second(struct sim *s, uint64_t t, const struct ctl_policy_input *in)
{
	struct ctl_directive out[CTL_POLICY_MAX_PER_TRUNK];
	unsigned int i, n;

	if (t < LOG_MAX)
		s->calls[t] = in->attempts;
	n = ctl_policy_second(s->p, T0 + t, in, out, CTL_POLICY_MAX_PER_TRUNK);
	assert_true(n <= CTL_POLICY_MAX_PER_TRUNK);
	for (i = 0; i < n; i++) {
		const struct ctl_directive *d = &out[i];

		assert_true(s->n < LOG_MAX);
		if (getenv("CTL_POLICY_TRACE") != NULL)
			fprintf(stderr, "t=%llu %s %s limit=%u dur=%u cps=%.1f r503=%llu/%llu\n",
				(unsigned long long)t, ctl_action_name(d->action),
				ctl_cause_name(d->cause), d->cps_limit, d->duration_s, d->ev.cps,
				(unsigned long long)d->ev.r503, (unsigned long long)d->ev.finals);
		/* decided at the end of the closed second */
		assert_int_equal(d->time_ms, (T0 + t + 1) * 1000);
		assert_int_equal(d->seq, s->n + 1);
		assert_string_equal(d->trunk_name, "carrier-a");
		s->log[s->n++] = *d;
		switch (d->action) {
		case CTL_ACT_PAUSE:
			s->paused = 1;
			break;
		case CTL_ACT_THROTTLE:
			s->paused = 0;
			s->cap = d->cps_limit;
			break;
		case CTL_ACT_RESUME:
			s->paused = 0;
			s->cap = 0;
			break;
		default:
			break;
		}
	}
	return n;
}

/* A carrier that takes `limit` calls a second and answers the rest 503. */
static struct ctl_policy_input
carrier_cps(uint64_t attempts, uint64_t limit, int32_t retry_after)
{
	struct ctl_policy_input in = { .attempts = attempts, .concurrent = -1, .retry_after = -1 };

	in.finals = attempts;
	in.final_503 = attempts > limit ? attempts - limit : 0;
	in.final_2xx = attempts - in.final_503;
	if (in.final_503 > 0)
		in.retry_after = retry_after;
	return in;
}

static unsigned int
count_action(const struct sim *s, enum ctl_action a)
{
	unsigned int i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->log[i].action == a;
	return n;
}

static uint64_t
dir_second(const struct ctl_directive *d)
{
	return d->time_ms / 1000 - 1 - T0;
}

/* Offered rate of the ramp: 10 -> 100 CPS in 30 s, hold, then 20 CPS. */
static uint64_t
ramp_offered(uint64_t t)
{
	if (t < 30)
		return 10 + 3 * t;
	if (t < 150)
		return 100;
	return 20;
}

static void
run_ramp(struct sim *s, const struct cfg_policy *c, uint64_t *onset, uint64_t *r503_steady,
	uint64_t *finals_steady)
{
	uint64_t t;

	*onset = UINT64_MAX;
	*r503_steady = *finals_steady = 0;
	for (t = 0; t < 300; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, ramp_offered(t)), 30, -1);

		/* onset: the first second that is a burst on its own */
		if (*onset == UINT64_MAX && in.final_503 >= c->burst_min_503 &&
			in.final_503 * 100 >= c->burst_min_share * in.finals)
			*onset = t;
		if (t >= 60 && t < 150) {
			*r503_steady += in.final_503;
			*finals_steady += in.finals;
		}
		sim_second(s, t, &in);
	}
}

static void
test_ramp(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s = sim_new(&c, 50, 0);
	uint64_t onset, r503, finals, last_change = 0;
	uint32_t limit = 0;
	unsigned int i, steady_changes = 0;

	(void)state;
	run_ramp(s, &c, &onset, &r503, &finals);
	assert_true(onset < 30);
	assert_true(s->n >= 3);

	/* first the pause, within 2 s of the onset, nothing before */
	assert_int_equal(s->log[0].action, CTL_ACT_PAUSE);
	assert_int_equal(s->log[0].cause, CTL_CAUSE_OVER_LIMIT);
	assert_true(dir_second(&s->log[0]) >= onset);
	assert_true(dir_second(&s->log[0]) <= onset + 2);
	assert_int_equal(s->log[0].duration_s, c.backoff_base_s);
	assert_true(s->log[0].ev.r503 >= c.burst_min_503);
	assert_true(s->log[0].ev.share_503 * 100 >= c.burst_min_share);

	/* then a throttle one step under what the carrier was learned to take */
	assert_int_equal(s->log[1].action, CTL_ACT_THROTTLE);
	assert_true(s->log[1].time_ms - s->log[0].time_ms >= s->log[0].duration_s * 1000ull);
	assert_true(s->log[1].cps_limit <= 50);
	assert_true(s->log[0].ev.ceiling_cps > 0.0);
	assert_true(s->log[1].cps_limit + c.alpha_cps <= s->log[1].ev.ceiling_cps + 1e-9);
	assert_true(s->log[1].cps_limit >= 10);

	/* one pause only; the limit only climbs, alpha at a time, hold_s apart */
	assert_int_equal(count_action(s, CTL_ACT_PAUSE), 1);
	for (i = 1; i < s->n; i++) {
		const struct ctl_directive *d = &s->log[i];

		if (d->action == CTL_ACT_RESUME)
			break;
		assert_int_equal(d->action, CTL_ACT_THROTTLE);
		if (i > 1) {
			assert_int_equal(d->cause, CTL_CAUSE_RECOVERED);
			assert_int_equal(d->cps_limit, limit + c.alpha_cps);
			assert_true(d->time_ms - last_change >= c.hold_s * 1000ull);
		}
		if (dir_second(d) >= 60 && dir_second(d) < 150)
			steady_changes++;
		limit = d->cps_limit;
		last_change = d->time_ms;
	}
	/* stable while the dialer pushes 100: no change, a trickle of 503s */
	assert_int_equal(steady_changes, 0);
	assert_true(r503 * 100 < finals * c.abate_share * 2);
	assert_true(r503 * 100 < finals * c.burst_min_share);

	/* calm once the dialer drops to 20: resumed, and nothing after */
	assert_int_equal(count_action(s, CTL_ACT_RESUME), 1);
	assert_int_equal(s->log[s->n - 1].action, CTL_ACT_RESUME);
	assert_int_equal(s->log[s->n - 1].cause, CTL_CAUSE_RECOVERED);
	assert_int_equal(s->log[s->n - 1].cps_limit, 50);
	assert_true(dir_second(&s->log[s->n - 1]) > 150);
	assert_int_equal(ctl_policy_trunk_state(s->p, 0), CTL_POLICY_NORMAL);
	assert_int_equal(count_action(s, CTL_ACT_ALERT), 0);
	/* 1 pause + 1 throttle + a few steps to ~31 + steps to 50 + resume */
	assert_true(s->n <= 2 + 10 + 25 + 1);
	sim_free(s);
}

static void
test_deterministic(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *a = sim_new(&c, 50, 0);
	struct sim *b = sim_new(&c, 50, 0);
	uint64_t o1, o2, x, y;

	(void)state;
	run_ramp(a, &c, &o1, &x, &y);
	run_ramp(b, &c, &o2, &x, &y);
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->log, b->log, a->n * sizeof(a->log[0]));
	sim_free(a);
	sim_free(b);
}

/* 503s that say Retry-After: 10, through events (with Call-IDs) */
static void
test_retry_after(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s = sim_new(&c, 50, 0);
	uint64_t t, paused_seconds = 0;
	unsigned int k;

	(void)state;
	for (t = 0; t < 120; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, ramp_offered(t)), 30, -1);

		for (k = 0; k < in.final_503 && k < 4; k++) {
			struct sg_event e = { .time_ns = (T0 + t) * 1000000000ull + k,
				.trunk = 0,
				.status = 503,
				.retry_after = 10,
				.reason_cause = -1,
				.oc = -1,
				.oc_validity = -1 };

			e.call_id_len = (uint16_t)snprintf(e.call_id, sizeof(e.call_id),
				"call-%llu-%u@dialer", (unsigned long long)t, k);
			ctl_policy_event(s->p, &e);
		}
		if (s->n > 0 && s->log[s->n - 1].action == CTL_ACT_PAUSE)
			paused_seconds++;
		sim_second(s, t, &in);
	}
	assert_true(s->n >= 2);
	assert_int_equal(s->log[0].action, CTL_ACT_PAUSE);
	assert_int_equal(s->log[0].cause, CTL_CAUSE_OVER_LIMIT);
	assert_int_equal(s->log[0].duration_from, CTL_FROM_RETRY_AFTER);
	assert_true(s->log[0].duration_s >= 10);
	assert_int_equal(s->log[0].ev.retry_after, 10);
	assert_int_equal(s->log[0].ev.n_call_ids, 3);
	assert_true(strncmp(s->log[0].ev.call_ids[0], "call-", 5) == 0);
	assert_int_equal(s->log[1].action, CTL_ACT_THROTTLE);
	assert_true(s->log[1].time_ms - s->log[0].time_ms >= 10000);
	/* the dialer really stayed away that long */
	assert_true(paused_seconds >= 10);
	sim_free(s);
}

static void
oc_event(struct ctl_policy *p, uint64_t t, int32_t oc, uint8_t algo, int32_t validity_ms,
	uint64_t seq)
{
	struct sg_event e = { .time_ns = (T0 + t) * 1000000000ull + 500000000ull,
		.trunk = 0,
		.status = 503,
		.retry_after = -1,
		.reason_cause = -1,
		.oc = oc,
		.oc_algo = algo,
		.oc_validity = validity_ms,
		.oc_seq_us = seq };

	memcpy(e.call_id, "oc-call", 7);
	e.call_id_len = 7;
	ctl_policy_event(p, &e);
}

/* oc=50 (loss) at 40 CPS: 20 while valid, back up once it expires. */
static void
test_oc_loss(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s = sim_new(&c, 60, 0);
	struct ctl_policy_stats st;
	uint64_t t, lifted = UINT64_MAX;

	(void)state;
	c.alpha_cps = 5;
	sim_free(s);
	s = sim_new(&c, 60, 0);
	for (t = 0; t < 200; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 40), 1000, -1);

		if (t == 50) {
			/* two 503s carry it: too few for a burst */
			oc_event(s->p, t, 50, DP_OC_ALGO_LOSS, 20000, 1000);
			oc_event(s->p, t, 50, DP_OC_ALGO_LOSS, 20000, 1000);
			in.final_503 = 2;
			in.final_2xx -= 2;
		}
		if (t == 55) /* older oc-seq: ignored */
			oc_event(s->p, t, 90, DP_OC_ALGO_LOSS, 60000, 500);
		sim_second(s, t, &in);
		if (t < 50)
			assert_int_equal(s->n, 0);
		if (t >= 50 && t < 70) {
			/* valid until 70.5 */
			assert_int_equal(ctl_policy_trunk_state(s->p, 0), CTL_POLICY_THROTTLED);
			assert_int_equal(ctl_policy_trunk_limit(s->p, 0), 20);
		}
		if (lifted == UINT64_MAX && t > 50 && ctl_policy_trunk_limit(s->p, 0) > 20)
			lifted = t;
	}
	assert_int_equal(s->log[0].action, CTL_ACT_THROTTLE);
	assert_int_equal(s->log[0].cause, CTL_CAUSE_OVERLOAD_CONTROL);
	assert_int_equal(s->log[0].cps_limit, 20);
	assert_int_equal(dir_second(&s->log[0]), 50);
	assert_int_equal(s->log[0].ev.oc, 50);
	assert_int_equal(s->log[0].ev.oc_validity_ms, 20000);
	/* lifted after validity, not long after */
	assert_true(lifted >= 70 && lifted <= 70 + c.hold_s + c.increase_interval_s);
	assert_int_equal(s->log[s->n - 1].action, CTL_ACT_RESUME);
	assert_int_equal(count_action(s, CTL_ACT_PAUSE), 0);
	ctl_policy_get_stats(s->p, &st);
	assert_int_equal(st.stale_oc, 1);
	sim_free(s);
}

/* oc-validity=0 ends overload control early; rate algorithm caps at oc. */
static void
test_oc_cancel_and_rate(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s = sim_new(&c, 60, 0);
	uint64_t t, lifted = UINT64_MAX;

	(void)state;
	for (t = 0; t < 40; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 40), 1000, -1);

		if (t == 10)
			oc_event(s->p, t, 50, DP_OC_ALGO_LOSS, 60000, 1000);
		if (t == 20)
			oc_event(s->p, t, 0, DP_OC_ALGO_LOSS, 0, 2000);
		sim_second(s, t, &in);
		if (lifted == UINT64_MAX && t > 10 && ctl_policy_trunk_limit(s->p, 0) > 20)
			lifted = t;
	}
	assert_int_equal(s->log[0].cps_limit, 20);
	assert_true(lifted >= 20 && lifted <= 20 + c.hold_s);
	sim_free(s);

	c.honor_oc = 0;
	s = sim_new(&c, 60, 0);
	for (t = 0; t < 20; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 40), 1000, -1);

		if (t == 10)
			oc_event(s->p, t, 50, DP_OC_ALGO_LOSS, 60000, 1000);
		sim_second(s, t, &in);
	}
	assert_int_equal(s->n, 0);
	sim_free(s);

	c.honor_oc = 1;
	s = sim_new(&c, 60, 0);
	for (t = 0; t < 20; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 40), 1000, -1);

		if (t == 10)
			oc_event(s->p, t, 12, DP_OC_ALGO_RATE, 30000, 1);
		sim_second(s, t, &in);
	}
	assert_int_equal(s->n, 1);
	assert_int_equal(s->log[0].cps_limit, 12);
	assert_int_equal(s->log[0].cause, CTL_CAUSE_OVERLOAD_CONTROL);
	sim_free(s);
}

/* 5 CPS on agreed 30, ~5 % random 503s: carrier trouble, not a limit. */
static void
test_carrier_trouble(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s;
	uint64_t t, total_503 = 0, total = 0, last_burst = 0;
	uint64_t w503[LOG_MAX] = { 0 }, wfin[LOG_MAX] = { 0 };
	unsigned int i;
	int alerting = 0;

	(void)state;
	c.burst_min_503 = 2;
	c.burst_min_share = 5;
	s = sim_new(&c, 30, 0);
	rng_state = 0x9e3779b97f4a7c15ull;
	for (t = 0; t < 350; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 5), 1000, -1);
		uint64_t k;

		for (k = 0; t < 200 && k < in.attempts; k++) {
			if (rng() % 100 < 5)
				in.final_503++;
		}
		in.final_2xx = in.finals - in.final_503;
		total_503 += in.final_503;
		total += in.finals;
		/* the burst rule of config/README.md, over the trailing window */
		w503[t] = in.final_503 + (t > 0 ? w503[t - 1] : 0);
		wfin[t] = in.finals + (t > 0 ? wfin[t - 1] : 0);
		if (t >= c.window_s) {
			uint64_t r = w503[t] - w503[t - c.window_s];
			uint64_t f = wfin[t] - wfin[t - c.window_s];

			if (r >= c.burst_min_503 && r * 100 >= f * c.burst_min_share)
				last_burst = t;
		}
		sim_second(s, t, &in);
	}
	assert_true(total_503 * 100 >= total * 2 && total_503 * 100 <= total * 9);
	assert_int_equal(count_action(s, CTL_ACT_PAUSE), 0);
	assert_int_equal(count_action(s, CTL_ACT_THROTTLE), 0);
	assert_true(count_action(s, CTL_ACT_ALERT) >= 1);
	assert_int_equal(s->log[0].action, CTL_ACT_ALERT);
	assert_int_equal(s->log[0].cause, CTL_CAUSE_CARRIER_TROUBLE);
	/* alert and clear alternate: never re-emitted while in that state */
	for (i = 0; i < s->n; i++) {
		assert_int_equal(s->log[i].action, alerting ? CTL_ACT_CLEAR : CTL_ACT_ALERT);
		alerting = !alerting;
	}
	/* cleared after clear_after_s quiet seconds once the 503s stopped */
	assert_int_equal(s->log[s->n - 1].action, CTL_ACT_CLEAR);
	assert_int_equal(s->log[s->n - 1].cause, CTL_CAUSE_RECOVERED);
	assert_true(last_burst > 100 && last_burst < 200);
	assert_int_equal(dir_second(&s->log[s->n - 1]), last_burst + c.clear_after_s);
	assert_false(ctl_policy_trunk_alerting(s->p, 0));
	sim_free(s);
}

/*
 * A dialer that starts after idle seconds and meets 503s at once is
 * ramping into a limit, not meeting a carrier in trouble: the idle time
 * before it must not make its rate look low and steady.
 */
static void
test_startup_burst_is_over_limit(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s;
	uint64_t t;

	(void)state;
	s = sim_new(&c, 30, 0);
	for (t = 0; t < 40; t++) {
		/* just after start-up, idle, then 40 CPS into a carrier that takes 30 */
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, t < 2 ? 0 : 40), 30, -1);

		sim_second(s, t, &in);
		if (s->n > 0)
			break;
	}
	assert_true(s->n > 0);
	assert_int_equal(s->log[0].action, CTL_ACT_PAUSE);
	assert_int_equal(s->log[0].cause, CTL_CAUSE_OVER_LIMIT);
	assert_int_equal(count_action(s, CTL_ACT_ALERT), 0);
	sim_free(s);
}

/*
 * A reload rebuilds the policy with new parameters and rates: a paused
 * trunk stays paused with its backoff and history, directive numbers go
 * on, and a trunk that starts afresh starts normal.
 */
static void
test_rebuild_carries_state(void **state)
{
	static const char *const names[2] = { "carrier-alpha", "carrier-new" };
	struct cfg_policy c = policy_defaults(), c2;
	struct ctl_directive out[CTL_POLICY_MAX_PER_TRUNK];
	uint32_t cps[2] = { 45, 10 }, maxc[2] = { 0, 0 }, from[2] = { 0, UINT32_MAX };
	struct ctl_policy *p2;
	struct sim *s;
	json_t *j;
	uint64_t t;

	(void)state;
	s = sim_new(&c, 30, 0);
	for (t = 0; t < 40 && s->n == 0; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, t < 2 ? 0 : 40), 30, -1);

		sim_second(s, t, &in);
	}
	assert_int_equal(s->n, 1);
	assert_int_equal(ctl_policy_trunk_state(s->p, 0), CTL_POLICY_PAUSED);
	c2 = c;
	c2.window_s = c.window_s + 2;
	c2.peak_window_s = c.peak_window_s + 7; /* another history length */
	p2 = ctl_policy_rebuild(s->p, &c2, 2, names, cps, maxc, from);
	assert_non_null(p2);
	assert_int_equal(ctl_policy_trunk_state(p2, 0), CTL_POLICY_PAUSED);
	assert_int_equal(ctl_policy_trunk_state(p2, 1), CTL_POLICY_NORMAL);
	j = ctl_policy_trunk_json(p2, 0);
	assert_non_null(j);
	/* the new agreed rate, the old state */
	assert_int_equal(json_integer_value(json_object_get(j, "agreed_cps")), 45);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "paused");
	json_decref(j);
	/* the paused trunk resumes in time under the new policy; numbering goes on */
	for (; t < 120; t++) {
		struct ctl_policy_input in = carrier_cps(0, 30, -1),
					idle = { .concurrent = -1, .retry_after = -1 };
		struct ctl_policy_input both[2] = { in, idle };
		unsigned int n = ctl_policy_second(p2, T0 + t, both, out, CTL_POLICY_MAX_PER_TRUNK);

		if (n > 0) {
			assert_int_equal(out[0].seq, 2);
			assert_string_equal(out[0].trunk_name, "carrier-alpha");
			break;
		}
	}
	assert_true(t < 120);
	ctl_policy_free(p2);
	sim_free(s);
}

/* A dialer at the agreed rate, jittering by a call across seconds, is fine. */
static void
test_agreed_rate_jitter(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s;
	uint64_t t;

	(void)state;
	s = sim_new(&c, 30, 0);
	for (t = 0; t < 120; t++) {
		struct ctl_policy_input in =
			carrier_cps(sim_attempts(s, t % 3 == 2 ? 28 : 31), 1000, -1);

		sim_second(s, t, &in);
	}
	assert_int_equal(s->n, 0);
	sim_free(s);
}

static void
test_proactive_cps(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s = sim_new(&c, 30, 0);
	uint64_t t;

	(void)state;
	for (t = 0; t < 200; t++) {
		struct ctl_policy_input in =
			carrier_cps(sim_attempts(s, t < 120 ? 40 : 20), 1000, -1);

		sim_second(s, t, &in);
	}
	assert_int_equal(s->n, 2);
	assert_int_equal(s->log[0].action, CTL_ACT_THROTTLE);
	assert_int_equal(s->log[0].cause, CTL_CAUSE_PROACTIVE_CPS);
	assert_int_equal(s->log[0].cps_limit, 30);
	assert_true(dir_second(&s->log[0]) <= CTL_POLICY_PROACTIVE_RUN);
	/* held while the dialer presses against it, lifted when it falls below */
	assert_int_equal(s->log[1].action, CTL_ACT_RESUME);
	assert_true(dir_second(&s->log[1]) > 120);
	sim_free(s);

	c.proactive = 0;
	s = sim_new(&c, 30, 0);
	for (t = 0; t < 50; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 40), 1000, -1);

		sim_second(s, t, &in);
	}
	assert_int_equal(s->n, 0);
	sim_free(s);
}

/* 20 CPS of 10-second calls against max_concurrent 150. */
static void
test_proactive_concurrency(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s = sim_new(&c, 100, 150);
	uint64_t t, first_over = UINT64_MAX;
	int64_t conc = 0;
	unsigned int i;

	(void)state;
	for (t = 0; t < 300; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 20), 1000, -1);
		uint64_t k;

		s->calls[t] = in.attempts;
		for (conc = 0, k = t >= 9 ? t - 9 : 0; k <= t; k++)
			conc += (int64_t)s->calls[k];
		in.concurrent = conc;
		if (first_over == UINT64_MAX && conc > 150)
			first_over = t;
		sim_second(s, t, &in);
	}
	assert_true(s->n >= 1 && s->n <= 4);
	assert_int_equal(s->log[0].action, CTL_ACT_THROTTLE);
	assert_int_equal(s->log[0].cause, CTL_CAUSE_PROACTIVE_CONCURRENCY);
	assert_true(dir_second(&s->log[0]) <= first_over + CTL_POLICY_PROACTIVE_RUN);
	for (i = 0; i < s->n; i++) {
		assert_int_equal(s->log[i].action, CTL_ACT_THROTTLE);
		assert_true(s->log[i].cps_limit < 20);
		if (i > 0)
			assert_true(s->log[i].cps_limit < s->log[i - 1].cps_limit);
	}
	/* settled at or under the maximum, not cut below what it allows */
	assert_true(conc <= 150);
	assert_true(ctl_policy_trunk_limit(s->p, 0) >= 13);
	sim_free(s);
}

/* A carrier refusing everything: the pause doubles up to the cap. */
static void
test_backoff_growth(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s;
	uint64_t t;
	uint32_t prev_dur = 0, prev_limit = UINT32_MAX;
	unsigned int i, pauses = 0, last;

	(void)state;
	c.backoff_max_s = 16;
	c.proactive = 0;
	s = sim_new(&c, 30, 0);
	for (t = 0; t < 400; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 40), 0, -1);

		sim_second(s, t, &in);
	}
	for (i = 0; i < s->n; i++) {
		const struct ctl_directive *d = &s->log[i];

		if (d->action == CTL_ACT_PAUSE) {
			uint32_t want = prev_dur == 0 ? c.backoff_base_s : prev_dur * 2;

			assert_int_equal(d->duration_s, want > 16 ? 16 : want);
			prev_dur = d->duration_s;
			pauses++;
		} else {
			assert_int_equal(d->action, CTL_ACT_THROTTLE);
			assert_int_equal(d->cause, CTL_CAUSE_OVER_LIMIT);
			/* each burst throttles lower, down to one call a second */
			assert_true(d->cps_limit < prev_limit || d->cps_limit == 1);
			assert_true(d->cps_limit >= 1);
			prev_limit = d->cps_limit;
			/* the pause lasted what it said */
			assert_true(d->time_ms - s->log[i - 1].time_ms >=
				s->log[i - 1].duration_s * 1000ull);
		}
	}
	assert_true(pauses >= 6);
	assert_int_equal(prev_dur, 16);

	/* the carrier heals: back up to agreed, resume, then calm for a while */
	for (; t < 700; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 25), 1000, -1);

		sim_second(s, t, &in);
	}
	assert_int_equal(s->log[s->n - 1].action, CTL_ACT_RESUME);
	/* a fresh burst after the calm starts again from the base */
	last = s->n;
	for (; t < 720; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 40), 0, -1);

		sim_second(s, t, &in);
	}
	assert_true(s->n > last);
	assert_int_equal(s->log[last].action, CTL_ACT_PAUSE);
	assert_int_equal(s->log[last].duration_s, c.backoff_base_s);
	sim_free(s);
}

static void
test_set_cps(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s = sim_new(&c, 30, 0);
	struct ctl_directive d;
	uint64_t t;

	(void)state;
	assert_int_equal(ctl_policy_set_cps(s->p, 1, 10, 0, &d), -1);
	assert_int_equal(ctl_policy_set_cps(s->p, 0, 0, 0, &d), -1);

	/* normal: the dialers are told the new rate */
	for (t = 0; t < 10; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 25), 1000, -1);

		sim_second(s, t, &in);
	}
	assert_int_equal(s->n, 0);
	assert_int_equal(ctl_policy_set_cps(s->p, 0, 20, (T0 + 10) * 1000, &d), 1);
	assert_int_equal(d.action, CTL_ACT_RESUME);
	assert_int_equal(d.cause, CTL_CAUSE_MANUAL);
	assert_int_equal(d.cps_limit, 20);
	assert_int_equal(d.seq, 1);
	s->n = 1;

	/* the new agreed rate is what the proactive rule holds to */
	for (; t < 20; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, 25), 1000, -1);

		sim_second(s, t, &in);
	}
	assert_int_equal(s->n, 2);
	assert_int_equal(s->log[1].cause, CTL_CAUSE_PROACTIVE_CPS);
	assert_int_equal(s->log[1].cps_limit, 20);
	assert_int_equal(s->log[1].seq, 2);

	/* throttled above the new value: lowered at once; below it: nothing */
	assert_int_equal(ctl_policy_set_cps(s->p, 0, 8, (T0 + 20) * 1000, &d), 1);
	assert_int_equal(d.action, CTL_ACT_THROTTLE);
	assert_int_equal(d.cps_limit, 8);
	assert_int_equal(d.cause, CTL_CAUSE_MANUAL);
	assert_int_equal(ctl_policy_trunk_limit(s->p, 0), 8);
	assert_int_equal(ctl_policy_set_cps(s->p, 0, 40, (T0 + 20) * 1000, &d), 0);
	assert_int_equal(ctl_policy_trunk_limit(s->p, 0), 8);
	sim_free(s);
}

static void
check_keys(json_t *o, const char *const keys[], size_t n)
{
	size_t i;

	assert_true(json_is_object(o));
	for (i = 0; i < n; i++) {
		if (json_object_get(o, keys[i]) == NULL)
			fail_msg("key %s missing", keys[i]);
	}
	assert_int_equal(json_object_size(o), n);
}

static void
test_directive_json(void **state)
{
	static const char *const top[] = { "seq", "time", "trunk", "action", "cps_limit",
		"duration_s", "duration_from", "max_concurrent", "cause", "class", "advice",
		"evidence" };
	static const char *const evk[] = { "window_s", "attempts", "finals", "r503", "share_503",
		"cps", "peak_cps", "retry_after", "oc", "oc_algo", "oc_validity_ms", "first_503",
		"cluster_503", "concurrent", "agreed_cps", "ceiling_cps", "ceiling_concurrent",
		"hold_s", "class", "rule", "rule_index", "class_503", "call_ids" };
	struct ctl_directive d;
	char line[4096];
	json_error_t jerr;
	json_t *o, *back, *ev, *ids;
	const char *id;
	int n, a;
	size_t i;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.seq = 7;
	d.time_ms = 1700000123456ull;
	d.trunk = 0;
	strcpy(d.trunk_name, "carrier-a");
	d.action = CTL_ACT_PAUSE;
	d.duration_s = 4;
	d.cause = CTL_CAUSE_OVER_LIMIT;
	d.ev.window_s = 5;
	d.ev.attempts = 200;
	d.ev.finals = 190;
	d.ev.r503 = 40;
	d.ev.share_503 = 40.0 / 190.0;
	d.ev.cps = 39.5;
	d.ev.peak_cps = 42;
	d.ev.retry_after = -1;
	d.ev.oc = -1;
	d.ev.oc_validity_ms = -1;
	d.ev.n_call_ids = 2;
	strcpy(d.ev.call_ids[0], "a\"b\\c@host");
	memcpy(d.ev.call_ids[1], "\x01\xff\x7f\n-x", 7);

	o = ctl_directive_json(&d);
	assert_non_null(o);
	check_keys(o, top, sizeof(top) / sizeof(top[0]));
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 7);
	assert_true(json_is_real(json_object_get(o, "time")));
	assert_true(json_real_value(json_object_get(o, "time")) > 1700000123.45);
	assert_true(json_real_value(json_object_get(o, "time")) < 1700000123.46);
	assert_string_equal(json_string_value(json_object_get(o, "action")), "pause");
	assert_string_equal(json_string_value(json_object_get(o, "cause")), "over-limit");
	assert_true(json_is_null(json_object_get(o, "cps_limit")));
	assert_int_equal(json_integer_value(json_object_get(o, "duration_s")), 4);
	ev = json_object_get(o, "evidence");
	check_keys(ev, evk, sizeof(evk) / sizeof(evk[0]));
	assert_true(json_is_null(json_object_get(ev, "retry_after")));
	assert_true(json_is_null(json_object_get(ev, "oc")));
	assert_true(json_is_null(json_object_get(ev, "oc_algo")));
	assert_int_equal(json_integer_value(json_object_get(ev, "r503")), 40);
	assert_true(json_is_real(json_object_get(ev, "share_503")));
	ids = json_object_get(ev, "call_ids");
	assert_int_equal(json_array_size(ids), 2);
	assert_string_equal(json_string_value(json_array_get(ids, 0)), "a\"b\\c@host");
	id = json_string_value(json_array_get(ids, 1));
	assert_int_equal(strlen(id), 6);
	for (i = 0; id[i] != '\0'; i++)
		assert_true(id[i] >= 0x20 && id[i] < 0x7f);

	/* one compact line that parses back to the same object */
	n = ctl_directive_line(&d, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(line));
	assert_null(strchr(line, '\n'));
	back = json_loads(line, 0, &jerr);
	assert_non_null(back);
	assert_true(json_equal(o, back));
	json_decref(back);
	json_decref(o);
	assert_int_equal(ctl_directive_line(&d, line, 16), -1);

	/* a throttle carries its limit, not a duration; oc shows up */
	d.action = CTL_ACT_THROTTLE;
	d.cps_limit = 21;
	d.duration_s = 0;
	d.cause = CTL_CAUSE_OVERLOAD_CONTROL;
	d.ev.oc = 50;
	d.ev.oc_algo = DP_OC_ALGO_LOSS;
	d.ev.oc_validity_ms = 20000;
	d.ev.retry_after = 10;
	o = ctl_directive_json(&d);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "cps_limit")), 21);
	assert_true(json_is_null(json_object_get(o, "duration_s")));
	ev = json_object_get(o, "evidence");
	assert_int_equal(json_integer_value(json_object_get(ev, "oc")), 50);
	assert_string_equal(json_string_value(json_object_get(ev, "oc_algo")), "loss");
	assert_int_equal(json_integer_value(json_object_get(ev, "oc_validity_ms")), 20000);
	assert_int_equal(json_integer_value(json_object_get(ev, "retry_after")), 10);
	/* no 503 lately: no class, no rule */
	assert_true(json_is_null(json_object_get(o, "class")));
	assert_true(json_is_null(json_object_get(ev, "class")));
	assert_true(json_is_null(json_object_get(ev, "rule")));
	json_decref(o);

	/* a route-down alert decided by class names the class and the rule */
	d.action = CTL_ACT_ALERT;
	d.cause = CTL_CAUSE_ROUTE_DOWN;
	d.ev.diag_has = 1;
	d.ev.diag_class = SG_DIAG_ROUTE_DOWN;
	d.ev.diag_decided = SG_DIAG_ROUTE_DOWN;
	d.ev.diag_rule = 5;
	d.ev.class_503 = 3;
	strcpy(d.ev.diag_rule_name, "no-route-status");
	o = ctl_directive_json(&d);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "cause")), "route-down");
	assert_string_equal(json_string_value(json_object_get(o, "class")), "route-down");
	assert_true(json_is_string(json_object_get(o, "advice")));
	ev = json_object_get(o, "evidence");
	assert_string_equal(json_string_value(json_object_get(ev, "class")), "route-down");
	assert_string_equal(json_string_value(json_object_get(ev, "rule")), "no-route-status");
	assert_int_equal(json_integer_value(json_object_get(ev, "rule_index")), 4);
	assert_int_equal(json_integer_value(json_object_get(ev, "class_503")), 3);
	json_decref(o);
	/* a rate-decided directive still names the 503s' leading class */
	d.ev.diag_decided = 0;
	d.ev.diag_rule_name[0] = '\0';
	o = ctl_directive_json(&d);
	assert_true(json_is_null(json_object_get(o, "class")));
	ev = json_object_get(o, "evidence");
	assert_string_equal(json_string_value(json_object_get(ev, "class")), "route-down");
	assert_true(json_is_null(json_object_get(ev, "rule")));
	json_decref(o);
	assert_string_equal(ctl_cause_name(CTL_CAUSE_MAINTENANCE), "maintenance");

	for (a = 0; a < CTL_ACT_COUNT; a++)
		assert_string_not_equal(ctl_action_name((enum ctl_action)a), "unknown");
	for (a = 0; a < CTL_CAUSE_COUNT; a++)
		assert_string_not_equal(ctl_cause_name((enum ctl_cause)a), "unknown");
	assert_string_equal(ctl_action_name(CTL_ACT_COUNT), "unknown");
	assert_string_equal(ctl_cause_name((enum ctl_cause) - 1), "unknown");
	assert_string_equal(
		ctl_cause_name(CTL_CAUSE_PROACTIVE_CONCURRENCY), "proactive-concurrency");
	assert_string_equal(ctl_action_name(CTL_ACT_RESUME), "resume");
	assert_null(ctl_directive_json(NULL));
}

static void
test_trunk_json(void **state)
{
	struct cfg_policy c = policy_defaults();
	struct sim *s = sim_new(&c, 50, 0);
	json_t *o;
	uint64_t t;

	(void)state;
	o = ctl_policy_trunk_json(s->p, 0);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "normal");
	assert_true(json_is_null(json_object_get(o, "limit_cps")));
	assert_true(json_is_null(json_object_get(o, "pause_until")));
	assert_true(json_is_null(json_object_get(o, "cause")));
	assert_true(json_is_null(json_object_get(o, "oc")));
	assert_int_equal(json_integer_value(json_object_get(o, "agreed_cps")), 50);
	json_decref(o);

	for (t = 0; s->n == 0 && t < 60; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, ramp_offered(t)), 30, -1);

		sim_second(s, t, &in);
	}
	o = ctl_policy_trunk_json(s->p, 0);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "paused");
	assert_true(json_real_value(json_object_get(o, "pause_until")) * 1000 >=
		(double)(s->log[0].time_ms + 1000ull * s->log[0].duration_s) - 1);
	assert_int_equal(json_integer_value(json_object_get(o, "bursts")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "cause")), "over-limit");
	json_decref(o);
	for (; s->n < 2 && t < 60; t++) {
		struct ctl_policy_input in = carrier_cps(sim_attempts(s, ramp_offered(t)), 30, -1);

		sim_second(s, t, &in);
	}
	o = ctl_policy_trunk_json(s->p, 0);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "throttled");
	assert_int_equal(json_integer_value(json_object_get(o, "limit_cps")), s->log[1].cps_limit);
	json_decref(o);
	assert_null(ctl_policy_trunk_json(s->p, 1));
	sim_free(s);
}

static void
test_bad_input(void **state)
{
	static const char *const names[2] = { "a\x01\xff-very-long-name-beyond-the-limit-of-names",
		NULL };
	const uint32_t cps[2] = { 0, 10 };
	struct cfg_policy zero, c = policy_defaults();
	struct ctl_policy_input in[2];
	struct ctl_directive out[1];
	struct ctl_policy_stats st;
	struct ctl_policy *p;
	struct sg_event e;
	json_t *o;
	uint64_t t;
	unsigned int n = 0;

	(void)state;
	assert_null(ctl_policy_create(NULL, 1, names, cps, NULL));
	/* no trunks is valid (everything unmatched): a policy that decides nothing */
	p = ctl_policy_create(&c, 0, names, NULL, NULL);
	assert_non_null(p);
	{
		struct ctl_policy_input none[1];
		struct ctl_directive d[2];

		memset(none, 0, sizeof(none));
		assert_int_equal(ctl_policy_second(p, 1000, none, d, 2), 0);
	}
	ctl_policy_free(p);
	assert_null(ctl_policy_create(&c, SG_MAX_TRUNKS + 1, names, cps, NULL));
	assert_null(ctl_policy_create(&c, 1, names, NULL, NULL));
	ctl_policy_free(NULL);

	/* an all-zero policy is brought into range, not divided by */
	memset(&zero, 0, sizeof(zero));
	p = ctl_policy_create(&zero, 2, names, cps, NULL);
	assert_non_null(p);
	o = ctl_policy_trunk_json(p, 0);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "agreed_cps")), 1);
	json_decref(o);

	memset(&e, 0, sizeof(e));
	e.trunk = 99;
	ctl_policy_event(p, &e);
	e.trunk = 0;
	e.status = 503;
	e.call_id_len = 60000; /* longer than the buffer: cut, not overread */
	memset(e.call_id, 0xff, sizeof(e.call_id));
	e.retry_after = INT32_MAX;
	e.oc = INT32_MAX;
	e.oc_algo = 200;
	ctl_policy_event(p, &e);
	e.oc_algo = DP_OC_ALGO_LOSS;
	e.oc_validity = INT32_MAX;
	e.time_ns = UINT64_MAX;
	ctl_policy_event(p, &e);
	ctl_policy_event(NULL, &e);
	ctl_policy_event(p, NULL);

	/* inconsistent samples: more 503s than finals, negative concurrency */
	memset(in, 0, sizeof(in));
	for (t = 0; t < 100; t++) {
		in[0].attempts = UINT32_MAX;
		in[0].finals = 1;
		in[0].final_503 = 1000;
		in[0].concurrent = INT64_MAX;
		in[0].retry_after = INT32_MAX;
		in[1].concurrent = -5;
		in[1].retry_after = -7;
		/* room for one directive only: the rest are counted, not written */
		n += ctl_policy_second(p, T0 + t * 3, in, out, 1);
	}
	assert_int_equal(ctl_policy_second(p, T0, in, out, 1), 0);
	assert_int_equal(ctl_policy_second(p, UINT64_MAX, in, out, 1), 0);
	assert_int_equal(ctl_policy_second(NULL, T0 + 1000, in, out, 1), 0);
	assert_int_equal(ctl_policy_second(p, T0 + 1000, NULL, out, 1), 0);
	ctl_policy_get_stats(p, &st);
	assert_int_equal(st.invalid_events, 1);
	assert_int_equal(st.stale_seconds, 1);
	assert_int_equal(st.directives, n);
	assert_true(n > 0);
	assert_true(ctl_policy_trunk_state(p, 0) != CTL_POLICY_NORMAL);
	o = ctl_policy_trunk_json(p, 0);
	assert_non_null(o);
	json_decref(o);
	ctl_policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ramp),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_oc_loss),
		cmocka_unit_test(test_oc_cancel_and_rate),
		cmocka_unit_test(test_carrier_trouble),
		cmocka_unit_test(test_startup_burst_is_over_limit),
		cmocka_unit_test(test_rebuild_carries_state),
		cmocka_unit_test(test_agreed_rate_jitter),
		cmocka_unit_test(test_proactive_cps),
		cmocka_unit_test(test_proactive_concurrency),
		cmocka_unit_test(test_backoff_growth),
		cmocka_unit_test(test_set_cps),
		cmocka_unit_test(test_directive_json),
		cmocka_unit_test(test_trunk_json),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

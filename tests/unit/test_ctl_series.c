/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One-second series: gaps read as zero, the ring wraps past its size
 * without stale seconds showing through, windows sum what was stored, and
 * samples for past seconds are merged or dropped and counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ctl_series.h"

static struct ctl_series *
series_new(void)
{
	struct ctl_series *s = malloc(sizeof(*s));

	assert_non_null(s);
	ctl_series_init(s);
	return s;
}

static void
add_attempts(struct ctl_series *s, uint64_t second, uint64_t attempts)
{
	struct ctl_sample smp;

	ctl_sample_init(&smp);
	smp.attempts = attempts;
	ctl_series_add_sample(s, second, &smp);
}

static void
test_gaps_zero_filled(void **state)
{
	struct ctl_series *s = series_new();
	int64_t v[6], ra[6];
	unsigned int n;

	(void)state;
	add_attempts(s, 1000, 7);
	add_attempts(s, 1003, 9);
	n = ctl_series_get(s, CTL_SF_ATTEMPTS, 1004, 6, v);
	assert_int_equal(n, 2);
	assert_int_equal(v[0], 0); /* 999: before anything */
	assert_int_equal(v[1], 7);
	assert_int_equal(v[2], 0);
	assert_int_equal(v[3], 0);
	assert_int_equal(v[4], 9);
	assert_int_equal(v[5], 0); /* 1004: not yet */
	assert_true(ctl_series_has(s, 1000));
	assert_false(ctl_series_has(s, 1001));
	assert_false(ctl_series_has(s, 1004));
	/* Retry-After's empty value is -1, not 0 (which is a real value) */
	ctl_series_get(s, CTL_SF_RETRY_AFTER, 1004, 6, ra);
	assert_int_equal(ra[0], -1);
	assert_int_equal(ra[1], -1);
	assert_int_equal(ra[2], -1);
	free(s);
}

static void
test_wrap_around(void **state)
{
	struct ctl_series *s = series_new();
	int64_t *v = malloc(sizeof(*v) * CTL_SERIES_SLOTS);
	int64_t want = 0;
	uint64_t t;
	unsigned int i;

	(void)state;
	assert_non_null(v);
	/* two full turns and then some: 1300 seconds, value = second */
	for (t = 5000; t < 6300; t++)
		add_attempts(s, t, t);
	assert_int_equal(
		ctl_series_get(s, CTL_SF_ATTEMPTS, 6299, CTL_SERIES_SLOTS, v), CTL_SERIES_SLOTS);
	for (i = 0; i < CTL_SERIES_SLOTS; i++)
		assert_int_equal(v[i], 6299 - CTL_SERIES_SLOTS + 1 + i);
	for (t = 6300 - CTL_SERIES_SLOTS; t < 6300; t++)
		want += (int64_t)t;
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 6299, CTL_SERIES_SLOTS), want);
	/* the slot of 6299 - 600 now holds 6299: the old second is a gap */
	assert_false(ctl_series_has(s, 6299 - CTL_SERIES_SLOTS));
	assert_true(ctl_series_has(s, 6300 - CTL_SERIES_SLOTS));
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 6299 - CTL_SERIES_SLOTS, 10), 0);
	/* a window longer than the ring only sees the ring */
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 6299, 2 * CTL_SERIES_SLOTS), want);

	/* jump an hour ahead: nothing of the old ring may show through */
	add_attempts(s, 6299 + 3600, 1);
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 6299 + 3600, CTL_SERIES_SLOTS), 1);
	assert_int_equal(ctl_series_get(s, CTL_SF_ATTEMPTS, 6299 + 3599, CTL_SERIES_SLOTS, v), 0);
	for (i = 0; i < CTL_SERIES_SLOTS; i++)
		assert_int_equal(v[i], 0);
	free(v);
	free(s);
}

static void
test_window_sums_and_ratios(void **state)
{
	struct ctl_series *s = series_new();
	struct ctl_sample smp;
	uint64_t t;

	(void)state;
	assert_int_equal(ctl_series_finals(s, 100, 60), 0);
	assert_true(ctl_series_answer_ratio(s, 100, 60) < 0);
	assert_true(ctl_series_share_503(s, 100, 60) == 0.0);
	for (t = 100; t < 160; t++) {
		ctl_sample_init(&smp);
		smp.attempts = 10;
		smp.final_2xx = 3;
		smp.final_503 = t >= 150 ? 4 : 0; /* the last 10 s: 503 burst */
		smp.final_5xx_other = 1;
		smp.final_4xx = 1;
		smp.final_6xx = t == 159 ? 1 : 0;
		smp.concurrent = (int64_t)t;
		ctl_series_add_sample(s, t, &smp);
	}
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 159, 10), 100);
	assert_int_equal(ctl_series_sum(s, CTL_SF_503, 159, 10), 40);
	assert_int_equal(ctl_series_sum(s, CTL_SF_503, 149, 10), 0);
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 159, 1), 10);
	/* 60 s: 2xx 180, 503 40, other 5xx 60, 4xx 60, 6xx 1 */
	assert_int_equal(ctl_series_finals(s, 159, 60), 341);
	assert_true(ctl_series_share_503(s, 159, 60) > 40.0 / 341 - 1e-9);
	assert_true(ctl_series_share_503(s, 159, 60) < 40.0 / 341 + 1e-9);
	assert_true(ctl_series_answer_ratio(s, 159, 60) > 180.0 / 341 - 1e-9);
	assert_true(ctl_series_answer_ratio(s, 159, 60) < 180.0 / 341 + 1e-9);
	/* a window partly in the future counts only stored seconds */
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 164, 10), 50);
	/* windows reaching before second 0 are padded, not wrapped */
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 3, 10), 0);
	free(s);
}

static void
test_late_samples(void **state)
{
	struct ctl_series *s = series_new();
	struct ctl_sample smp;

	(void)state;
	add_attempts(s, 2000, 5);
	/* a past second that is a gap: stored, counted as late */
	ctl_sample_init(&smp);
	smp.attempts = 3;
	assert_int_equal(ctl_series_add_sample(s, 1990, &smp), CTL_SERIES_STORED);
	assert_int_equal(ctl_series_add_sample(s, 1990, &smp), CTL_SERIES_MERGED);
	assert_int_equal(s->late_merged, 2);
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 1990, 1), 6);
	/* the oldest second still in the ring, and the first one out of it */
	assert_int_equal(
		ctl_series_add_sample(s, 2000 - CTL_SERIES_SLOTS + 1, &smp), CTL_SERIES_STORED);
	assert_int_equal(
		ctl_series_add_sample(s, 2000 - CTL_SERIES_SLOTS, &smp), CTL_SERIES_DROPPED);
	assert_int_equal(ctl_series_add_sample(s, 3, &smp), CTL_SERIES_DROPPED);
	assert_int_equal(s->late_dropped, 2);
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 2000, CTL_SERIES_SLOTS), 5 + 6 + 3);
	/* the head did not move back */
	assert_int_equal(s->head, 2000);
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 2000, 1), 5);
	free(s);
}

static void
test_merge_rules(void **state)
{
	struct ctl_series *s = series_new();
	struct ctl_sample smp;
	int64_t v[1];

	(void)state;
	ctl_sample_init(&smp);
	smp.concurrent = 40;
	smp.retry_after = 30;
	ctl_series_add_sample(s, 10, &smp);
	/* unknown level and a shorter Retry-After change neither */
	ctl_sample_init(&smp);
	smp.retry_after = 5;
	smp.attempts = 2;
	assert_int_equal(ctl_series_add_sample(s, 10, &smp), CTL_SERIES_MERGED);
	ctl_series_get(s, CTL_SF_CONCURRENT, 10, 1, v);
	assert_int_equal(v[0], 40);
	ctl_series_get(s, CTL_SF_RETRY_AFTER, 10, 1, v);
	assert_int_equal(v[0], 30);
	/* a known level replaces, a longer Retry-After wins */
	ctl_sample_init(&smp);
	smp.concurrent = 0;
	smp.retry_after = 120;
	ctl_series_add_sample(s, 10, &smp);
	ctl_series_get(s, CTL_SF_CONCURRENT, 10, 1, v);
	assert_int_equal(v[0], 0);
	assert_int_equal(ctl_series_sum(s, CTL_SF_RETRY_AFTER, 10, 5), 120);
	assert_int_equal(ctl_series_sum(s, CTL_SF_RETRY_AFTER, 9, 5), -1);
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 10, 1), 2);
	free(s);
}

static void
test_baseline_slot(void **state)
{
	struct ctl_series *s = series_new();
	struct ctl_sample smp;
	int64_t v[1];

	(void)state;
	ctl_sample_init(&smp);
	smp.flags = CTL_SAMPLE_BASELINE;
	smp.attempts = 999; /* whatever a baseline carries is not a count */
	smp.concurrent = 12;
	ctl_series_add_sample(s, 50, &smp);
	assert_true(ctl_series_has(s, 50));
	assert_int_equal(ctl_series_sum(s, CTL_SF_ATTEMPTS, 50, 1), 0);
	ctl_series_get(s, CTL_SF_CONCURRENT, 50, 1, v);
	assert_int_equal(v[0], 12);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gaps_zero_filled),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_window_sums_and_ratios),
		cmocka_unit_test(test_late_samples),
		cmocka_unit_test(test_merge_rules),
		cmocka_unit_test(test_baseline_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

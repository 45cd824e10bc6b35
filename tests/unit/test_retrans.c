/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Retransmission table: identity (every field of the key matters), the
 * packet-time window, aging, bounded eviction under a flood, and the
 * vector lookup against a way-by-way reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dp_retrans.h"
#include "sg_test_eal.h"

static void
msg(struct dp_sip_msg *m, const char *call_id, uint32_t cseq, int method, int status)
{
	memset(m, 0, sizeof(*m));
	m->call_id.p = call_id;
	m->call_id.len = (uint32_t)strlen(call_id);
	m->cseq = cseq;
	m->cseq_method = SG_M_INVITE;
	m->is_request = status == 0;
	m->method = (uint8_t)method;
	m->status = (uint16_t)status;
}

static int
check(struct dp_retrans *rt, const struct dp_sip_msg *m, enum dp_dir dir, uint64_t t)
{
	struct dp_retrans_key k;

	dp_retrans_key(m, dir, 0, &k);
	return dp_retrans_check(rt, &k, t);
}

static void
test_identity(void **state)
{
	struct dp_retrans *rt = dp_retrans_create(1024, 32000, 0);
	struct dp_sip_msg a, b;

	(void)state;
	assert_non_null(rt);
	msg(&a, "abc@host", 1, SG_M_INVITE, 0);
	assert_int_equal(check(rt, &a, DP_DIR_TO_TRUNK, 1000), 0);
	assert_int_equal(check(rt, &a, DP_DIR_TO_TRUNK, 1500), 1);
	/* the other direction is another message */
	assert_int_equal(check(rt, &a, DP_DIR_FROM_TRUNK, 1500), 0);
	/* another CSeq number, Call-ID, or status: another message */
	msg(&b, "abc@host", 2, SG_M_INVITE, 0);
	assert_int_equal(check(rt, &b, DP_DIR_TO_TRUNK, 1600), 0);
	msg(&b, "abd@host", 1, SG_M_INVITE, 0);
	assert_int_equal(check(rt, &b, DP_DIR_TO_TRUNK, 1600), 0);
	msg(&b, "abc@host", 1, 0, 503);
	assert_int_equal(check(rt, &b, DP_DIR_FROM_TRUNK, 1600), 0);
	assert_int_equal(check(rt, &b, DP_DIR_FROM_TRUNK, 2100), 1);
	msg(&b, "abc@host", 1, 0, 100);
	assert_int_equal(check(rt, &b, DP_DIR_FROM_TRUNK, 2100), 0);
	/* CSeq method is part of the identity: CANCEL 1 is not INVITE 1 */
	msg(&b, "abc@host", 1, SG_M_CANCEL, 0);
	b.cseq_method = SG_M_CANCEL;
	assert_int_equal(check(rt, &b, DP_DIR_TO_TRUNK, 2100), 0);
	assert_int_equal(dp_retrans_stats(rt)->hits, 2);
	assert_int_equal(dp_retrans_stats(rt)->evictions, 0);
	dp_retrans_free(rt);
}

static void
test_window_and_refresh(void **state)
{
	struct dp_retrans *rt = dp_retrans_create(1024, 32000, 0);
	struct dp_sip_msg a;

	(void)state;
	msg(&a, "win@host", 7, 0, 503);
	assert_int_equal(check(rt, &a, DP_DIR_FROM_TRUNK, 100000), 0);
	assert_int_equal(check(rt, &a, DP_DIR_FROM_TRUNK, 132000), 1); /* 32 s: inside */
	/* the repeat refreshed the entry: 60 s after the first is still inside */
	assert_int_equal(check(rt, &a, DP_DIR_FROM_TRUNK, 160000), 1);
	/* more than the window after the last sighting: new again */
	assert_int_equal(check(rt, &a, DP_DIR_FROM_TRUNK, 192001), 0);
	dp_retrans_free(rt);
}

static void
test_wraparound(void **state)
{
	struct dp_retrans *rt = dp_retrans_create(64, 32000, 0);
	struct dp_sip_msg a;
	uint64_t t0 = (1ull << 32) - 1000; /* truncated ms time wraps here */

	(void)state;
	msg(&a, "wrap@host", 1, SG_M_BYE, 0);
	assert_int_equal(check(rt, &a, DP_DIR_TO_TRUNK, t0), 0);
	assert_int_equal(check(rt, &a, DP_DIR_TO_TRUNK, t0 + 2000), 1);
	dp_retrans_free(rt);
}

static void
test_flood_bounded(void **state)
{
	const uint32_t cap = 4096, n = 100000;
	struct dp_retrans *rt = dp_retrans_create(cap, 32000, 0);
	const struct dp_retrans_stats *st;
	struct dp_sip_msg a;
	char id[32];
	uint32_t i, recent_hits = 0;

	(void)state;
	assert_int_equal(dp_retrans_capacity(rt), cap);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "flood-%u", i);
		msg(&a, id, 1, SG_M_INVITE, 0);
		assert_int_equal(check(rt, &a, DP_DIR_TO_TRUNK, 1000 + i / 100), 0);
	}
	st = dp_retrans_stats(rt);
	assert_int_equal(st->inserts, n);
	/* everything beyond what fits went out, and was counted */
	assert_true(st->evictions >= n - cap);
	assert_true(st->evictions <= n);
	/* the newest entries survive: most of the last quarter-table is found */
	for (i = n - cap / 4; i < n; i++) {
		snprintf(id, sizeof(id), "flood-%u", i);
		msg(&a, id, 1, SG_M_INVITE, 0);
		recent_hits += (uint32_t)check(rt, &a, DP_DIR_TO_TRUNK, 1000 + n / 100);
	}
	assert_true(recent_hits > cap / 4 * 9 / 10);
	dp_retrans_free(rt);
}

static void
test_expired_reused_without_eviction(void **state)
{
	struct dp_retrans *rt = dp_retrans_create(64, 1000, 0);
	struct dp_sip_msg a;
	char id[32];
	uint32_t i;

	(void)state;
	/* 8 at a time, each batch after the last aged out: never a full set */
	for (i = 0; i < 640; i++) {
		snprintf(id, sizeof(id), "age-%u", i);
		msg(&a, id, 1, SG_M_INVITE, 0);
		check(rt, &a, DP_DIR_TO_TRUNK, (uint64_t)(i / 8) * 1500);
	}
	assert_int_equal(dp_retrans_stats(rt)->evictions, 0);
	dp_retrans_free(rt);
}

/*
 * The way-by-way walk the table's vector compare replaces, written out
 * as the reference: same hits, same victims, same used bits.
 */
struct ref_set {
	uint64_t tag[DP_RETRANS_WAYS];
	uint32_t seen_ms[DP_RETRANS_WAYS];
	uint8_t used;
};

static int
ref_check(struct ref_set *s, uint64_t h, uint32_t now, uint32_t window, uint64_t *evictions)
{
	uint32_t oldest_age = 0;
	int free_way = -1, oldest = -1;
	unsigned int w;

	for (w = 0; w < DP_RETRANS_WAYS; w++) {
		uint32_t age;

		if (!(s->used & (1u << w))) {
			if (free_way < 0)
				free_way = (int)w;
			continue;
		}
		age = now - s->seen_ms[w];
		if (age > window) {
			s->used &= (uint8_t) ~(1u << w);
			if (free_way < 0)
				free_way = (int)w;
			continue;
		}
		if (s->tag[w] == h) {
			s->seen_ms[w] = now;
			return 1;
		}
		if (oldest < 0 || age >= oldest_age) {
			oldest = (int)w;
			oldest_age = age;
		}
	}
	if (free_way < 0) {
		free_way = oldest;
		(*evictions)++;
	}
	s->tag[free_way] = h;
	s->seen_ms[free_way] = now;
	s->used |= (uint8_t)(1u << free_way);
	return 0;
}

static void
test_matches_way_by_way(void **state)
{
	/* one set: every key lands in it; 12 keys for 8 ways */
	struct dp_retrans *rt = dp_retrans_create(DP_RETRANS_WAYS, 1000, 0);
	struct ref_set ref;
	uint64_t ref_evictions = 0, hits = 0, rnd = 88172645463325252ull;
	uint32_t now = 4000000000u, i;

	(void)state;
	assert_non_null(rt);
	assert_int_equal(rt->set_mask, 0);
	memset(&ref, 0, sizeof(ref));
	for (i = 0; i < 200000; i++) {
		struct dp_retrans_key k;
		unsigned int w;
		int r;

		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		/* time mostly forward (across the 32-bit wrap), sometimes back */
		now += (uint32_t)(rnd >> 40) % 60;
		if ((rnd & 0xff) == 0)
			now -= 3000;
		k.h = (rnd >> 8) % 12 * 0x9e3779b97f4a7c15ull;
		r = dp_retrans_check(rt, &k, now);
		assert_int_equal(r, ref_check(&ref, k.h, now, 1000, &ref_evictions));
		hits += (uint64_t)r;
		assert_int_equal(rt->sets[0].used, ref.used);
		for (w = 0; w < DP_RETRANS_WAYS; w++) {
			if (!(ref.used & (1u << w)))
				continue;
			assert_true(rt->sets[0].tag[w] == ref.tag[w]);
			assert_int_equal(rt->sets[0].seen_ms[w], ref.seen_ms[w]);
		}
	}
	assert_true(dp_retrans_stats(rt)->evictions == ref_evictions);
	/* all three paths taken often: hit, free way, eviction */
	assert_true(ref_evictions > 1000);
	assert_true(hits > 1000);
	dp_retrans_free(rt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_window_and_refresh),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_flood_bounded),
		cmocka_unit_test(test_expired_reused_without_eviction),
		cmocka_unit_test(test_matches_way_by_way),
	};

	if (sg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flight recorder: the Call-ID index across a wrapping arena (every frame
 * of a Call-ID, oldest first, none of another, none overwritten), the
 * per-trunk sample rate, the all-or-nothing hand-over to a full ring,
 * late frames of a sampled call lingering into the same call, and the
 * frames of messages made whole from TCP segments and IP fragments
 * claimed by the messages they carry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_trace.h"
#include "sg_test_eal.h"

static struct dp_trace_cfg
cfg_of(uint32_t frames, uint32_t sample)
{
	struct dp_trace_cfg c = {
		.frames = frames,
		.frame_bytes = 256,
		.sample_per_s = sample,
		.linger_ms = 1000,
		.linktype = 1,
		.worker = 3,
	};

	return c;
}

static char cids[64][32];

/* A message of call c (its Call-ID) and a frame naming it and n. */
static void
msg_of(struct dp_sip_msg *m, struct dp_pkt *p, uint8_t *frame, uint32_t *len, unsigned int c,
	unsigned int n, int status)
{
	memset(m, 0, sizeof(*m));
	memset(p, 0, sizeof(*p));
	snprintf(cids[c % 64], sizeof(cids[0]), "call-%u@example.net", c);
	m->call_id.p = cids[c % 64];
	m->call_id.len = (uint32_t)strlen(cids[c % 64]);
	m->is_request = status == 0;
	m->method = SG_M_INVITE;
	m->cseq_method = SG_M_INVITE;
	m->status = (uint16_t)status;
	m->cseq = 1;
	m->retry_after = status == 503 ? 7 : -1;
	m->reason_cause = -1;
	p->family = 4;
	p->src[0] = 192;
	p->dst[0] = 198;
	p->sport = 5060;
	p->dport = 5060;
	*len = (uint32_t)snprintf((char *)frame, 300, "frame %u of %s", n, cids[c % 64]) + 1;
}

static void
test_index_across_wrap(void **state)
{
	struct dp_trace_cfg cfg = cfg_of(64, 5);
	const struct dp_trace_slot *out[DP_TRACE_CALL_FRAMES];
	struct dp_trace *t;
	struct dp_sip_msg m;
	struct dp_pkt p;
	uint8_t frame[300];
	uint32_t len;
	unsigned int i, n, c, written[8] = { 0 };
	char err[128];

	(void)state;
	t = dp_trace_create(&cfg, SOCKET_ID_ANY, err, sizeof(err));
	assert_non_null(t);
	/* 8 calls interleaved, 200 frames: the arena of 64 wraps three times */
	for (i = 0; i < 200; i++) {
		c = (i * 5) % 8;
		msg_of(&m, &p, frame, &len, c, written[c]++, 0);
		dp_trace_record(t, frame, len, &p, &m, 0, 1000 + i, (1000 + i) * 1000);
	}
	assert_int_equal(t->own.recorded, 200);
	assert_int_equal(t->own.overwritten, 200 - 64);
	for (c = 0; c < 8; c++) {
		msg_of(&m, &p, frame, &len, c, 0, 0);
		n = dp_trace_lookup(t, dp_trace_digest(&m), out, DP_TRACE_CALL_FRAMES);
		/* exactly its frames still in the arena: 64 / 8 of each */
		assert_int_equal(n, 8);
		for (i = 0; i < n; i++) {
			char want[300];

			snprintf(want, sizeof(want), "frame %u of %s", written[c] - n + i, cids[c]);
			assert_string_equal((const char *)dp_trace_slot_data(out[i]), want);
			if (i > 0)
				assert_true(out[i]->seq > out[i - 1]->seq);
		}
	}
	/* a Call-ID never seen has no frame */
	msg_of(&m, &p, frame, &len, 40, 0, 0);
	assert_int_equal(dp_trace_lookup(t, dp_trace_digest(&m), out, DP_TRACE_CALL_FRAMES), 0);
	assert_int_equal(t->own.index_evicted, 0);
	dp_trace_free(t);
}

static void
test_index_set_full(void **state)
{
	/* 2 slots: an index of one set of 4 ways */
	struct dp_trace_cfg cfg = cfg_of(2, 5);
	const struct dp_trace_slot *out[DP_TRACE_CALL_FRAMES];
	struct dp_trace *t;
	struct dp_sip_msg m;
	struct dp_pkt p;
	uint8_t frame[300];
	uint32_t len;
	unsigned int c;
	char err[128];

	(void)state;
	t = dp_trace_create(&cfg, SOCKET_ID_ANY, err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(t->set_mask, 0);
	/* four Call-IDs share the set; the newest frames stay found */
	for (c = 0; c < 4; c++) {
		msg_of(&m, &p, frame, &len, c, 0, 0);
		dp_trace_record(t, frame, len, &p, &m, 0, 10 + c, (10 + c) * 1000);
	}
	assert_int_equal(t->own.index_evicted, 0);
	for (c = 2; c < 4; c++) {
		msg_of(&m, &p, frame, &len, c, 0, 0);
		assert_int_equal(dp_trace_lookup(t, dp_trace_digest(&m), out, 8), 1);
	}
	/* a fifth takes the way touched longest ago (call 0's), counted */
	msg_of(&m, &p, frame, &len, 0, 1, 0);
	dp_trace_record(t, frame, len, &p, &m, 0, 20, 20 * 1000); /* call 0 touched again */
	msg_of(&m, &p, frame, &len, 4, 0, 0);
	dp_trace_record(t, frame, len, &p, &m, 0, 21, 21 * 1000);
	assert_int_equal(t->own.index_evicted, 1);
	/* call 1 lost its entry, calls 0 and 4 (the arena's two) are found */
	msg_of(&m, &p, frame, &len, 0, 0, 0);
	assert_int_equal(dp_trace_lookup(t, dp_trace_digest(&m), out, 8), 1);
	msg_of(&m, &p, frame, &len, 4, 0, 0);
	assert_int_equal(dp_trace_lookup(t, dp_trace_digest(&m), out, 8), 1);
	dp_trace_free(t);
}

static struct rte_ring *ring;
static struct rte_mempool *pool;

static void
drain(unsigned int *n_frames, struct sg_trace_frame **keep, unsigned int max)
{
	void *obj;

	*n_frames = 0;
	while (rte_ring_sc_dequeue(ring, &obj) == 0) {
		if (*n_frames < max)
			memcpy(keep[*n_frames], obj, dp_trace_elt_size(256));
		(*n_frames)++;
		rte_mempool_put(pool, obj);
	}
}

static void
test_sample_handover_linger(void **state)
{
	struct dp_trace_cfg cfg = cfg_of(1024, 2);
	struct sg_trace_frame *got[16];
	struct dp_trace *t;
	struct dp_sip_msg m;
	struct dp_pkt p;
	uint8_t frame[300];
	uint32_t len;
	unsigned int c, i, n;
	char err[128];

	(void)state;
	for (i = 0; i < 16; i++) {
		got[i] = malloc(dp_trace_elt_size(256));
		assert_non_null(got[i]);
	}
	ring = rte_ring_create("t_trc", 16, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	pool = rte_mempool_create("t_trc_pool", 64, dp_trace_elt_size(256), 0, 0, NULL, NULL, NULL,
		NULL, SOCKET_ID_ANY, 0);
	assert_non_null(ring);
	assert_non_null(pool);
	t = dp_trace_create(&cfg, SOCKET_ID_ANY, err, sizeof(err));
	assert_non_null(t);
	t->ring = ring;
	t->pool = pool;
	/* five calls in one second: INVITE, 100, 503 each */
	for (c = 0; c < 5; c++) {
		msg_of(&m, &p, frame, &len, c, 0, 0);
		dp_trace_record(t, frame, len, &p, &m, 1, 5000 + c, (5000 + c) * 1000);
		msg_of(&m, &p, frame, &len, c, 1, 100);
		dp_trace_record(t, frame, len, &p, &m, 1, 5000 + c, (5000 + c) * 1000);
		msg_of(&m, &p, frame, &len, c, 2, 503);
		dp_trace_record(t, frame, len, &p, &m, 1, 5000 + c, (5000 + c) * 1000);
		dp_trace_failed(t, &m, 1, 5000 + c);
	}
	/* the first two of the second are handed over, three frames each */
	assert_int_equal(t->own.sampled, 2);
	assert_int_equal(t->own.suppressed, 3);
	drain(&n, got, 16);
	assert_int_equal(n, 6);
	assert_true(got[0]->flags & SG_TRACE_FIRST);
	assert_false(got[1]->flags & SG_TRACE_FIRST);
	assert_int_equal(got[0]->call, got[2]->call);
	assert_true(got[0]->call != got[3]->call);
	assert_int_equal(got[0]->call >> 48, 3);
	assert_int_equal(got[0]->trunk, 1);
	assert_int_equal(got[0]->failed_ms, 5000);
	assert_memory_equal(got[0]->call_id, "call-0@example.net", 18);
	assert_string_equal((const char *)got[2]->data, "frame 2 of call-0@example.net");
	assert_int_equal(got[2]->meta.status, 503);
	assert_int_equal(got[2]->meta.retry_after, 7);
	assert_int_equal(got[0]->meta.is_request, 1);
	/* the ACK of call 0 within the linger window joins it */
	msg_of(&m, &p, frame, &len, 0, 3, 0);
	m.method = SG_M_ACK;
	dp_trace_record(t, frame, len, &p, &m, 1, 5900, 5900 * 1000);
	/* call 2's was suppressed: its ACK goes nowhere */
	msg_of(&m, &p, frame, &len, 2, 3, 0);
	dp_trace_record(t, frame, len, &p, &m, 1, 5900, 5900 * 1000);
	/* a second failure of call 0 is not a second call */
	msg_of(&m, &p, frame, &len, 0, 4, 503);
	dp_trace_record(t, frame, len, &p, &m, 1, 5950, 5950 * 1000);
	assert_int_equal(dp_trace_failed(t, &m, 1, 5950), 0);
	drain(&n, got, 16);
	assert_int_equal(n, 2);
	assert_int_equal(got[0]->flags, SG_TRACE_LINGER);
	assert_int_equal(got[0]->meta.method, SG_M_ACK);
	assert_int_equal(got[0]->failed_ms, 5000);
	assert_int_equal(t->own.linger_frames, 2);
	/* past the window, no longer */
	msg_of(&m, &p, frame, &len, 0, 5, 0);
	dp_trace_record(t, frame, len, &p, &m, 1, 7000, 7000 * 1000);
	drain(&n, got, 16);
	assert_int_equal(n, 0);

	/* the next second samples again; a call that does not fit the ring is counted */
	for (c = 10; c < 16; c++) {
		for (i = 0; i < 5; i++) {
			msg_of(&m, &p, frame, &len, c, i, i == 4 ? 503 : 0);
			dp_trace_record(t, frame, len, &p, &m, 1, 8000, 8000 * 1000);
		}
	}
	t->cfg.sample_per_s = 100;
	for (c = 10; c < 16; c++) {
		msg_of(&m, &p, frame, &len, c, 4, 503);
		dp_trace_failed(t, &m, 1, 8000);
	}
	/* 16 ring slots (15 usable): three calls of five frames, then full */
	assert_int_equal(t->own.sampled, 5);
	assert_int_equal(t->own.ring_full, 3);
	drain(&n, got, 16);
	assert_int_equal(n, 15);
	/* nothing taken from the pool was kept back */
	assert_int_equal(rte_mempool_avail_count(pool), 64);
	/* a failure whose frames were never recorded (a TCP call) */
	msg_of(&m, &p, frame, &len, 50, 0, 503);
	assert_int_equal(dp_trace_failed(t, &m, 1, 9000), 0);
	assert_int_equal(t->own.empty, 1);
	dp_trace_free(t);
	rte_ring_free(ring);
	rte_mempool_free(pool);
	for (i = 0; i < 16; i++)
		free(got[i]);
}

/*
 * More sampled calls than the linger table holds: a full set gives up a
 * call (counted), and exactly the calls still lingering get their late
 * frames handed over.
 */
static void
test_linger_full(void **state)
{
	enum { CALLS = 1300 };
	struct dp_trace_cfg cfg = cfg_of(8192, 100000);
	struct dp_trace *t;
	struct dp_sip_msg m;
	struct dp_pkt p;
	uint8_t frame[300];
	char cid[48], err[128];
	uint32_t len;
	unsigned int c;
	void *obj;

	(void)state;
	cfg.linger_ms = 60000;
	ring = rte_ring_create("t_trc2", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	pool = rte_mempool_create("t_trc_pool2", 128, dp_trace_elt_size(256), 0, 0, NULL, NULL,
		NULL, NULL, SOCKET_ID_ANY, 0);
	t = dp_trace_create(&cfg, SOCKET_ID_ANY, err, sizeof(err));
	assert_non_null(ring);
	assert_non_null(pool);
	assert_non_null(t);
	t->ring = ring;
	t->pool = pool;
	for (c = 0; c < 2 * CALLS; c++) {
		/* second round: each call's late ACK */
		msg_of(&m, &p, frame, &len, 0, 0, c < CALLS ? 503 : 0);
		snprintf(cid, sizeof(cid), "linger-%u@example.net", c % CALLS);
		m.call_id.p = cid;
		m.call_id.len = (uint32_t)strlen(cid);
		dp_trace_record(t, frame, len, &p, &m, 0, 1000 + c, (1000 + c) * 1000);
		if (c < CALLS)
			assert_int_equal(dp_trace_failed(t, &m, 0, 1000 + c), 1);
		while (rte_ring_sc_dequeue(ring, &obj) == 0)
			rte_mempool_put(pool, obj);
	}
	assert_int_equal(t->own.sampled, CALLS);
	assert_true(t->own.linger_evicted >= CALLS - DP_TRACE_LINGER);
	assert_int_equal(t->own.linger_frames, CALLS - t->own.linger_evicted);
	assert_int_equal(t->own.linger_lost, 0);
	assert_true(t->n_linger <= DP_TRACE_LINGER);
	dp_trace_free(t);
	rte_ring_free(ring);
	rte_mempool_free(pool);
}

/* A segment's frame: its name, so a lookup says which frames it found. */
static uint32_t
seg_frame(uint8_t *frame, const char *name)
{
	return (uint32_t)snprintf((char *)frame, 300, "segment %s", name) + 1;
}

/* The frames of call c, oldest first, as "name[*]" ('*': SG_TRACE_PART). */
static void
expect_frames(const struct dp_trace *t, unsigned int c, const char *want)
{
	const struct dp_trace_slot *out[DP_TRACE_CALL_FRAMES];
	struct dp_sip_msg m;
	struct dp_pkt p;
	uint8_t frame[300];
	uint32_t len;
	char got[256] = "";
	unsigned int i, n;

	msg_of(&m, &p, frame, &len, c, 0, 0);
	n = dp_trace_lookup(t, dp_trace_digest(&m), out, DP_TRACE_CALL_FRAMES);
	for (i = 0; i < n; i++) {
		const char *d = (const char *)dp_trace_slot_data(out[i]);

		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s%s", i ? " " : "",
			d + strlen("segment "), (out[i]->flags & SG_TRACE_PART) ? "*" : "");
		assert_false(out[i]->held);
	}
	assert_string_equal(got, want);
}

static void
claim(struct dp_trace *t, uint64_t flow, uint32_t lo, uint32_t hi, int all, unsigned int c,
	uint64_t now, unsigned int want)
{
	struct dp_trace_span sp = { .flow = flow, .lo = lo, .hi = hi, .all = (uint8_t)all };
	struct dp_sip_msg m;
	struct dp_pkt p;
	uint8_t frame[300];
	uint32_t len;

	msg_of(&m, &p, frame, &len, c, 0, 0);
	assert_int_equal(dp_trace_claim(t, &sp, &p, &m, 1, now), want);
}

static void
test_tcp_segments_claimed(void **state)
{
	static const uint8_t a[16] = { 192, 0, 2, 10 }, b[16] = { 198, 51, 100, 31 };
	struct dp_trace_cfg cfg = cfg_of(64, 5);
	uint64_t fwd = dp_trace_flow_tcp(4, a, b, 40000, 5060);
	uint64_t rev = dp_trace_flow_tcp(4, b, a, 5060, 40000);
	uint32_t base = 0xfffffe00u; /* the stream's numbers wrap at 2^32 */
	struct dp_trace *t;
	uint8_t frame[300];
	char err[128];

	(void)state;
	assert_true(fwd != rev);
	t = dp_trace_create(&cfg, SOCKET_ID_ANY, err, sizeof(err));
	assert_non_null(t);
	/*
	 * Messages 1 [0, 600), 2 [600, 900), 3 [900, 1500) of one direction:
	 * s1 [0, 400); s2 [400, 1000) ends 1, holds 2 whole, starts 3; a
	 * retransmission of s1 after 1 is whole; s3 [1000, 1500) ends 3.
	 */
	dp_trace_hold(t, frame, seg_frame(frame, "s1"), fwd, base, base + 400, 10);
	/* a segment of the other direction in between: not these messages' */
	dp_trace_hold(t, frame, seg_frame(frame, "r1"), rev, 7000, 7300, 11);
	dp_trace_hold(t, frame, seg_frame(frame, "s2"), fwd, base + 400, base + 1000, 12);
	claim(t, fwd, base, base + 600, 0, 1, 12, 2);
	claim(t, fwd, base + 600, base + 900, 0, 2, 12, 1);
	dp_trace_hold(t, frame, seg_frame(frame, "s1-again"), fwd, base, base + 400, 13);
	dp_trace_hold(t, frame, seg_frame(frame, "s3"), fwd, base + 1000, base + 1500, 14);
	claim(t, fwd, base + 900, base + 1500, 0, 3, 14, 2);
	/* the other direction's message, whole in its one segment */
	claim(t, rev, 7000, 7300, 0, 4, 14, 1);
	expect_frames(t, 1, "s1* s2");
	expect_frames(t, 2, "s2");
	expect_frames(t, 3, "s2* s3");
	expect_frames(t, 4, "r1");
	assert_int_equal(t->own.held, 5);
	assert_int_equal(t->own.claimed, 6); /* s2 three times, once in place */
	assert_int_equal(t->own.copied, 2);
	assert_int_equal(t->own.unframed, 0);
	/* nothing held for these bytes: counted, nothing claimed */
	claim(t, fwd, base + 1500, base + 1600, 0, 5, 15, 0);
	assert_int_equal(t->own.unframed, 1);
	/* the retransmission no message claimed is counted when it goes */
	assert_int_equal(t->own.unclaimed, 0);
	for (unsigned int i = 0; i < 64; i++) {
		struct dp_sip_msg m;
		struct dp_pkt p;
		uint32_t len;

		msg_of(&m, &p, frame, &len, 9, i, 0);
		dp_trace_record(t, frame, len, &p, &m, 0, 20 + i, (20 + i) * 1000);
	}
	assert_int_equal(t->own.unclaimed, 1);
	dp_trace_free(t);
}

static void
test_fragments_claimed(void **state)
{
	struct dp_trace_cfg cfg = cfg_of(64, 5);
	uint8_t ip[2][40], frame[300];
	uint64_t k1, k2;
	struct dp_trace *t;
	char err[128];

	(void)state;
	/* two IPv4 datagrams between the same hosts: only the ident differs */
	memset(ip, 0, sizeof(ip));
	ip[0][0] = ip[1][0] = 0x45;
	ip[0][9] = ip[1][9] = 17;
	ip[0][12] = ip[1][12] = 192;
	ip[0][16] = ip[1][16] = 198;
	ip[0][5] = 1;
	ip[1][5] = 2;
	k1 = dp_trace_flow_frag(ip[0], 20, 4, 0);
	k2 = dp_trace_flow_frag(ip[1], 20, 4, 0);
	assert_true(k1 != k2);
	/* the fragment offset is not part of the key */
	ip[0][7] = 0xb9;
	assert_true(dp_trace_flow_frag(ip[0], 20, 4, 0) == k1);
	t = dp_trace_create(&cfg, SOCKET_ID_ANY, err, sizeof(err));
	assert_non_null(t);
	/* interleaved and out of order, as fragments arrive */
	dp_trace_hold(t, frame, seg_frame(frame, "b2"), k2, 0, 0, 10);
	dp_trace_hold(t, frame, seg_frame(frame, "a2"), k1, 0, 0, 10);
	dp_trace_hold(t, frame, seg_frame(frame, "b1"), k2, 0, 0, 11);
	dp_trace_hold(t, frame, seg_frame(frame, "a1"), k1, 0, 0, 11);
	dp_trace_hold(t, frame, seg_frame(frame, "a3"), k1, 0, 0, 12);
	claim(t, k1, 0, 0, 1, 1, 12, 3);
	claim(t, k2, 0, 0, 1, 2, 12, 2);
	expect_frames(t, 1, "a2* a1* a3");
	expect_frames(t, 2, "b2* b1");
	/* the ident used again later: the old datagram's frames are gone */
	dp_trace_hold(t, frame, seg_frame(frame, "a1-next"), k1, 0, 0, 13);
	claim(t, k1, 0, 0, 1, 3, 13, 1);
	expect_frames(t, 3, "a1-next");
	assert_int_equal(t->own.copied, 0);
	dp_trace_free(t);
}

static void
test_bad_sizes(void **state)
{
	struct dp_trace_cfg cfg = cfg_of(0, 1);
	char err[128];

	(void)state;
	assert_null(dp_trace_create(&cfg, SOCKET_ID_ANY, err, sizeof(err)));
	assert_non_null(strstr(err, "out of range"));
	/* the figures config/cfg.c's help gives */
	assert_int_equal(sizeof(struct dp_trace_slot), 120);
	assert_int_equal(sizeof(struct dp_trace_bucket), 16);
	cfg = cfg_of(16384, 1);
	cfg.frame_bytes = 1536;
	assert_true(dp_trace_memory(&cfg) - sizeof(struct dp_trace) == 16384ull * (1664 + 32));
	cfg = cfg_of(1000, 1);
	/* rounded up to a power of two, with the index at twice that */
	assert_true(dp_trace_memory(&cfg) >= 1024ull * (256 + sizeof(struct dp_trace_slot)) +
			2048ull * sizeof(struct dp_trace_bucket));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_across_wrap),
		cmocka_unit_test(test_index_set_full),
		cmocka_unit_test(test_sample_handover_linger),
		cmocka_unit_test(test_linger_full),
		cmocka_unit_test(test_tcp_segments_claimed),
		cmocka_unit_test(test_fragments_claimed),
		cmocka_unit_test(test_bad_sizes),
	};

	if (sg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

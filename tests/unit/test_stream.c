/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP stream reassembly: SIP framing on its own, then real-looking SIP
 * (a 2 KB INVITE with SDP, a 200 OK with SDP, a 503 with Retry-After) and
 * HEPv3 packets over every segmentation that matters: whole, several per
 * segment with keep-alives, cut at every byte, tiny segments, out of
 * order in every order, retransmitted and overlapping, holes never filled,
 * picked up mid-message, both directions, sequence wrap, FIN/RST, idle
 * expiry, a full flow table, an empty pool and oversize messages. Every
 * test checks the exact list of messages handed on and every counter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp_sipframe.h"
#include "dp_stream.h"
#include "sg_test_eal.h"

#define T_MAX_MSGS 64
#define T_MAX_LEN 8192

/* What the deliver callback saw, in order. */
struct t_rec {
	unsigned int n;
	struct {
		uint8_t buf[T_MAX_LEN];
		uint32_t len;
		struct dp_stream_tuple t;
		uint64_t now;
		uint32_t seq; /* of the message's first byte */
		int in_pool;  /* handed on from a buffer, not from the segment */
	} m[T_MAX_MSGS];
};

static struct t_rec t_rec;
static struct dp_streams *t_cur;

static void
t_deliver(void *arg, const struct dp_stream_tuple *t, const uint8_t *msg, uint32_t len,
	uint32_t seq, uint64_t now_ms)
{
	struct t_rec *r = arg;

	assert_true(r->n < T_MAX_MSGS);
	assert_true(len <= T_MAX_LEN);
	memcpy(r->m[r->n].buf, msg, len);
	r->m[r->n].len = len;
	r->m[r->n].t = *t;
	r->m[r->n].now = now_ms;
	r->m[r->n].seq = seq;
	r->m[r->n].in_pool = dp_streams_owns(t_cur, msg, len);
	r->n++;
}

/* ---- messages ---- */

static char t_invite[4096], t_ok[2048], t_503[1024], t_invite2[4096];
static uint32_t t_invite_len, t_ok_len, t_503_len, t_invite2_len;

static uint32_t
t_build(char *out, size_t cap, const char *start, const char *hdrs, const char *body)
{
	int n = snprintf(
		out, cap, "%s\r\n%sContent-Length: %zu\r\n\r\n%s", start, hdrs, strlen(body), body);

	assert_true(n > 0 && (size_t)n < cap);
	return (uint32_t)n;
}

static void
t_messages(void)
{
	static const char hdrs[] =
		"Via: SIP/2.0/TCP 198.51.100.10:5060;branch=z9hG4bK-524287-1---c3ff1b5a\r\n"
		"Max-Forwards: 70\r\n"
		"Contact: <sip:dialer01@198.51.100.10:5060;transport=tcp>\r\n"
		"To: <sip:+14155550123@carrier-a.example.net>\r\n"
		"From: \"Dialer 01\" <sip:+14155550100@dialers.example.com>;tag=3b0f2c1e\r\n"
		"Call-ID: 7f3e9c21-44b1-4c55-9a0e-5d2f6b7c8d90@198.51.100.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REFER, NOTIFY\r\n"
		"Supported: replaces, timer, 100rel\r\n"
		"Session-Expires: 1800;refresher=uac\r\n"
		"Min-SE: 90\r\n"
		"P-Asserted-Identity: <sip:+14155550100@dialers.example.com>\r\n"
		"User-Agent: dialer-fleet/4.2.1\r\n"
		"Content-Type: application/sdp\r\n";
	char body[2048];
	size_t n;
	int i;

	n = (size_t)snprintf(body, sizeof(body),
		"v=0\r\no=dialer 2890844526 2890844526 IN IP4 198.51.100.10\r\ns=call\r\n"
		"c=IN IP4 198.51.100.10\r\nt=0 0\r\n"
		"m=audio 49170 RTP/AVP 0 8 9 18 101\r\n");
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(
			body + n, sizeof(body) - n, "a=rtpmap:%d codec-%02d/8000\r\n", 96 + i, i);
	snprintf(body + n, sizeof(body) - n, "a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n");
	t_invite_len = t_build(t_invite, sizeof(t_invite),
		"INVITE sip:+14155550123@carrier-a.example.net:5060;transport=tcp SIP/2.0", hdrs,
		body);
	t_invite2_len = t_build(t_invite2, sizeof(t_invite2),
		"INVITE sip:+14155550199@carrier-a.example.net:5060;transport=tcp SIP/2.0", hdrs,
		body);
	t_ok_len = t_build(t_ok, sizeof(t_ok), "SIP/2.0 200 OK",
		"Via: SIP/2.0/TCP 198.51.100.10:5060;branch=z9hG4bK-524287-1---c3ff1b5a\r\n"
		"To: <sip:+14155550123@carrier-a.example.net>;tag=as5f2a1c\r\n"
		"From: \"Dialer 01\" <sip:+14155550100@dialers.example.com>;tag=3b0f2c1e\r\n"
		"Call-ID: 7f3e9c21-44b1-4c55-9a0e-5d2f6b7c8d90@198.51.100.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:carrier@203.0.113.5:5060;transport=tcp>\r\n"
		"Content-Type: application/sdp\r\n",
		"v=0\r\no=carrier 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\n"
		"t=0 0\r\nm=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n");
	t_503_len = t_build(t_503, sizeof(t_503), "SIP/2.0 503 Service Unavailable",
		"Via: SIP/2.0/TCP 198.51.100.10:5060;branch=z9hG4bK-524287-2---aa01\r\n"
		"To: <sip:+14155550124@carrier-a.example.net>;tag=99x\r\n"
		"From: <sip:+14155550100@dialers.example.com>;tag=77y\r\n"
		"Call-ID: 0a1b2c3d@198.51.100.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"Retry-After: 30\r\n"
		"Reason: Q.850;cause=34;text=\"No circuit available\"\r\n",
		"");
	assert_true(t_invite_len > 1900 && t_invite_len < 2300);
}

/* ---- harness ---- */

static const struct dp_streams_cfg t_cfg = {
	.flows = 64,
	.buffers = 16,
	.buffer_size = 4096,
	.idle_ms = 30000,
	.gap_ms = 1000,
};

static struct dp_streams *
t_create(const struct dp_streams_cfg *cfg)
{
	char err[128];
	struct dp_streams *s = dp_streams_create(cfg != NULL ? cfg : &t_cfg, 0, err, sizeof(err));

	assert_non_null(s);
	memset(&t_rec, 0, sizeof(t_rec));
	t_cur = s;
	return s;
}

/* client 198.51.100.10:port <-> carrier 203.0.113.5:5060; dir 0 client to carrier */
static struct dp_stream_tuple
t_tuple(int dir, uint16_t port)
{
	struct dp_stream_tuple t = { .family = 4 };
	static const uint8_t a[4] = { 198, 51, 100, 10 }, b[4] = { 203, 0, 113, 5 };

	memcpy(dir == 0 ? t.src : t.dst, a, 4);
	memcpy(dir == 0 ? t.dst : t.src, b, 4);
	t.sport = dir == 0 ? port : 5060;
	t.dport = dir == 0 ? 5060 : port;
	return t;
}

static void
t_seg(struct dp_streams *s, int dir, uint16_t port, uint32_t seq, uint8_t flags, const void *p,
	uint32_t len, uint64_t now)
{
	struct dp_stream_tuple t = t_tuple(dir, port);

	dp_streams_segment(s, &t, seq, flags, p, len, DP_STREAM_SIP, now, t_deliver, &t_rec);
}

static void
t_expect_msg(unsigned int i, const void *p, uint32_t len)
{
	assert_true(i < t_rec.n);
	assert_int_equal(t_rec.m[i].len, len);
	assert_memory_equal(t_rec.m[i].buf, p, len);
}

static void
t_expect_msgs(unsigned int n, ...)
{
	va_list ap;
	unsigned int i;

	assert_int_equal(t_rec.n, n);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		const void *p = va_arg(ap, const void *);
		uint32_t len = va_arg(ap, uint32_t);

		t_expect_msg(i, p, len);
	}
	va_end(ap);
}

/* Every counter, by name, so a mismatch says which. */
static void
t_expect_stats(const struct dp_streams *s, const struct dp_streams_stats *e)
{
	const struct dp_streams_stats *g = dp_streams_stats(s);
	int bad = 0;

#define T_F(f)                                                                                  \
	do {                                                                                    \
		if (g->f != e->f) {                                                             \
			print_error(                                                            \
				"%s: got %" PRIu64 ", expected %" PRIu64 "\n", #f, g->f, e->f); \
			bad = 1;                                                                \
		}                                                                               \
	} while (0)
	T_F(segments);
	T_F(flows_opened);
	T_F(flows_closed);
	T_F(flows_expired);
	T_F(flows_evicted);
	T_F(out_of_order);
	T_F(retransmitted);
	T_F(gaps);
	T_F(gap_bytes);
	T_F(resyncs);
	T_F(resync_bytes);
	T_F(no_buffer);
	T_F(out_of_window);
	T_F(oversize);
	T_F(messages);
	T_F(truncated);
#undef T_F
	assert_false(bad);
}

/* the three messages back to back, as one stream */
static uint8_t t_stream[8192];
static uint32_t t_stream_len;

static void
t_stream3(void)
{
	t_stream_len = 0;
	memcpy(t_stream, t_invite, t_invite_len);
	t_stream_len += t_invite_len;
	memcpy(t_stream + t_stream_len, t_ok, t_ok_len);
	t_stream_len += t_ok_len;
	memcpy(t_stream + t_stream_len, t_503, t_503_len);
	t_stream_len += t_503_len;
}

static void
t_expect3(void)
{
	t_expect_msgs(3, t_invite, t_invite_len, t_ok, t_ok_len, t_503, t_503_len);
}

/* ---- framing ---- */

static void
test_sip_frame(void **state)
{
	static const char *const good[] = {
		"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n",
		"OPTIONS sip:a@b SIP/2.0\nCall-ID: x\n\n",
		"SIP/2.0 200 OK\r\nl: 3\r\n\r\nabc",
		"SIP/2.0 180\r\nL :3\r\n\r\nabc",
		"SIP/2.0 200 OK\r\ncontent-length:\r\n  3 \r\nX: y\r\n\r\nabc",
		"BYE sip:x SIP/2.0\r\nContent-Length  :   0\r\n\r\n",
		"REGISTER sip:x SIP/2.0\r\nContent-Lengthy: 5\r\n\r\n",
		"MESSAGE sip:x SIP/2.0\r\nContent-Length: 3\r\nContent-Length: 9\r\n\r\nabc",
	};
	static const uint32_t good_body[] = { 0, 0, 3, 3, 3, 0, 0, 3 };
	static const char *const bad[] = {
		"Via: SIP/2.0/TCP x\r\n\r\n",
		"INVITE  sip:x SIP/2.0\r\n\r\n",
		"INVITE sip:x SIP/3.0\r\n\r\n",
		"INVITE sip:x SIP/2.0 \r\n\r\n",
		"SIP/2.0 20 OK\r\n\r\n",
		"SIP/2.0 2000 OK\r\n\r\n",
		"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n",
		"SIP/2.0 200 OK\r\nContent-Length: 1 2\r\n\r\n",
		"SIP/2.0 200 OK\r\nContent-Length:\r\n\r\n",
		"SIP/2.0 200 OK\r\nl: 99999999999\r\n\r\n",
		"\r\nSIP/2.0 200 OK\r\n\r\n",
		"v=0\r\n",
	};
	uint32_t i, k, n, m;
	int r;

	(void)state;
	for (i = 0; i < RTE_DIM(good); i++) {
		uint32_t len = (uint32_t)strlen(good[i]);

		r = dp_sipframe_len((const uint8_t *)good[i], len, &n);
		assert_int_equal(r, 1);
		assert_int_equal(n, len);
		/* every prefix: more needed, or the same length once the headers end */
		for (k = 0; k < len; k++) {
			m = 0;
			r = dp_sipframe_len((const uint8_t *)good[i], k, &m);
			assert_true(r == 0 || (r == 1 && m == len));
			if (r == 1)
				assert_true(k >= len - good_body[i]);
		}
	}
	for (i = 0; i < RTE_DIM(bad); i++) {
		r = dp_sipframe_len((const uint8_t *)bad[i], (uint32_t)strlen(bad[i]), &n);
		assert_int_equal(r, -1);
	}
	/* the test messages frame whole */
	assert_int_equal(dp_sipframe_len((const uint8_t *)t_invite, t_invite_len, &n), 1);
	assert_int_equal(n, t_invite_len);
	assert_int_equal(dp_sipframe_len((const uint8_t *)t_503, t_503_len, &n), 1);
	assert_int_equal(n, t_503_len);
}

/* ---- SIP over TCP ---- */

static void
test_one_segment_each(void **state)
{
	struct dp_streams *s = t_create(NULL);
	struct dp_stream_tuple a = t_tuple(0, 40000), b = t_tuple(1, 40000);

	(void)state;
	t_seg(s, 0, 40000, 1000, DP_TCP_SYN, NULL, 0, 1);
	t_seg(s, 1, 40000, 5000, DP_TCP_SYN | DP_TCP_ACK, NULL, 0, 2);
	t_seg(s, 0, 40000, 1001, DP_TCP_ACK, t_invite, t_invite_len, 3);
	t_seg(s, 1, 40000, 5001, DP_TCP_ACK, t_ok, t_ok_len, 4);
	t_seg(s, 1, 40000, 5001 + t_ok_len, DP_TCP_ACK, t_503, t_503_len, 5);
	t_expect3();
	assert_memory_equal(&t_rec.m[0].t, &a, sizeof(a));
	assert_memory_equal(&t_rec.m[1].t, &b, sizeof(b));
	assert_int_equal(t_rec.m[2].now, 5);
	/* each message's first byte, past the SYN */
	assert_int_equal(t_rec.m[0].seq, 1001);
	assert_int_equal(t_rec.m[1].seq, 5001);
	assert_int_equal(t_rec.m[2].seq, 5001 + t_ok_len);
	/* whole messages come straight from the segment */
	assert_false(t_rec.m[0].in_pool || t_rec.m[1].in_pool || t_rec.m[2].in_pool);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	assert_int_equal(dp_streams_flows_active(s), 1);
	t_expect_stats(
		s, &(struct dp_streams_stats){ .segments = 3, .flows_opened = 1, .messages = 3 });
	dp_streams_free(s);
}

static void
test_many_in_one_with_keepalives(void **state)
{
	struct dp_streams *s = t_create(NULL);
	uint8_t buf[8192];
	uint32_t n = 0;

	(void)state;
#define T_PUT(p, l)                        \
	do {                               \
		memcpy(buf + n, (p), (l)); \
		n += (l);                  \
	} while (0)
	T_PUT("\r\n\r\n", 4);
	T_PUT(t_invite, t_invite_len);
	T_PUT("\r\n", 2);
	T_PUT(t_ok, t_ok_len);
	T_PUT("\r\n\r\n", 4);
	T_PUT(t_503, t_503_len);
	T_PUT("\r\n\r\n", 4);
#undef T_PUT
	t_seg(s, 0, 40000, 7, DP_TCP_ACK, buf, n, 1);
	t_expect3();
	/* keep-alives before a message are not part of it */
	assert_int_equal(t_rec.m[0].seq, 7 + 4);
	assert_int_equal(t_rec.m[1].seq, 7 + 4 + t_invite_len + 2);
	/* a keep-alive alone */
	t_seg(s, 0, 40000, 7 + n, DP_TCP_ACK, "\r\n\r\n", 4, 2);
	t_seg(s, 0, 40000, 11 + n, DP_TCP_ACK, t_503, t_503_len, 3);
	assert_int_equal(t_rec.n, 4);
	t_expect_msg(3, t_503, t_503_len);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	t_expect_stats(
		s, &(struct dp_streams_stats){ .segments = 3, .flows_opened = 1, .messages = 4 });
	dp_streams_free(s);
}

static void
test_split_every_offset(void **state)
{
	struct dp_streams *s;
	uint32_t k, seq = 0xfffff000u;

	(void)state;
	t_stream3();
	for (k = 1; k < t_stream_len; k++) {
		s = t_create(NULL);
		t_seg(s, 0, 40000, seq - 1, DP_TCP_SYN, NULL, 0, 1);
		t_seg(s, 0, 40000, seq, DP_TCP_ACK, t_stream, k, 2);
		t_seg(s, 0, 40000, seq + k, DP_TCP_ACK, t_stream + k, t_stream_len - k, 3);
		t_expect3();
		/* from the buffer or from the segment, across the wrap at 2^32 */
		assert_int_equal(t_rec.m[0].seq, seq);
		assert_int_equal(t_rec.m[1].seq, seq + t_invite_len);
		assert_int_equal(t_rec.m[2].seq, (uint32_t)(seq + t_invite_len + t_ok_len));
		assert_int_equal(dp_streams_buffers_in_use(s), 0);
		t_expect_stats(s,
			&(struct dp_streams_stats){
				.segments = 2, .flows_opened = 1, .messages = 3 });
		dp_streams_free(s);
	}
}

static void
test_tiny_segments(void **state)
{
	struct dp_streams *s = t_create(NULL);
	uint32_t off, k, nseg = 0;

	(void)state;
	t_stream3();
	for (off = 0; off < t_stream_len; off += k, nseg++) {
		k = RTE_MIN(100u, t_stream_len - off);
		t_seg(s, 0, 40000, 100 + off, DP_TCP_ACK, t_stream + off, k, 1 + nseg);
		/* messages come out as soon as their last byte is in */
		assert_int_equal(t_rec.n,
			(off + k >= t_invite_len) + (off + k >= t_invite_len + t_ok_len) +
				(off + k >= t_stream_len));
	}
	t_expect3();
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = nseg, .flows_opened = 1, .messages = 3 });
	dp_streams_free(s);
}

static void
test_segment_ends_one_starts_next(void **state)
{
	struct dp_streams *s = t_create(NULL);
	uint32_t a = t_invite_len - 100, b = t_invite_len + 50;

	(void)state;
	t_stream3();
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, t_stream, a, 1);
	assert_int_equal(t_rec.n, 0);
	assert_int_equal(dp_streams_buffers_in_use(s), 1);
	t_seg(s, 0, 40000, a, DP_TCP_ACK, t_stream + a, b - a, 2);
	assert_int_equal(t_rec.n, 1);
	assert_int_equal(dp_streams_buffers_in_use(s), 1);
	t_seg(s, 0, 40000, b, DP_TCP_ACK, t_stream + b, t_stream_len - b, 3);
	t_expect3();
	assert_int_equal(t_rec.m[0].now, 2);
	assert_int_equal(t_rec.m[2].now, 3);
	/* the cut ones from the buffer, the 503 straight from its segment */
	assert_true(t_rec.m[0].in_pool && t_rec.m[1].in_pool);
	assert_false(t_rec.m[2].in_pool);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	t_expect_stats(
		s, &(struct dp_streams_stats){ .segments = 3, .flows_opened = 1, .messages = 3 });
	dp_streams_free(s);
}

static void
test_out_of_order_permutations(void **state)
{
	static const int perms[24][4] = {
		{ 0, 1, 2, 3 },
		{ 0, 1, 3, 2 },
		{ 0, 2, 1, 3 },
		{ 0, 2, 3, 1 },
		{ 0, 3, 1, 2 },
		{ 0, 3, 2, 1 },
		{ 1, 0, 2, 3 },
		{ 1, 0, 3, 2 },
		{ 1, 2, 0, 3 },
		{ 1, 2, 3, 0 },
		{ 1, 3, 0, 2 },
		{ 1, 3, 2, 0 },
		{ 2, 0, 1, 3 },
		{ 2, 0, 3, 1 },
		{ 2, 1, 0, 3 },
		{ 2, 1, 3, 0 },
		{ 2, 3, 0, 1 },
		{ 2, 3, 1, 0 },
		{ 3, 0, 1, 2 },
		{ 3, 0, 2, 1 },
		{ 3, 1, 0, 2 },
		{ 3, 1, 2, 0 },
		{ 3, 2, 0, 1 },
		{ 3, 2, 1, 0 },
	};
	uint32_t cut[5], p, i, j, ooo, isn = 0xfffffc00u;
	struct dp_streams *s;
	int have[4];

	(void)state;
	t_stream3();
	/* four segments, none on a message boundary */
	cut[0] = 0;
	cut[1] = 700;
	cut[2] = t_invite_len + 300;
	cut[3] = t_invite_len + t_ok_len + 20;
	cut[4] = t_stream_len;
	for (p = 0; p < 24; p++) {
		s = t_create(NULL);
		t_seg(s, 0, 40000, isn - 1, DP_TCP_SYN, NULL, 0, 1);
		memset(have, 0, sizeof(have));
		ooo = 0;
		for (i = 0; i < 4; i++) {
			int k = perms[p][i];

			/* ahead of a hole when an earlier segment is missing */
			for (j = 0; j < (uint32_t)k; j++) {
				if (!have[j]) {
					ooo++;
					break;
				}
			}
			have[k] = 1;
			t_seg(s, 0, 40000, isn + cut[k], DP_TCP_ACK, t_stream + cut[k],
				cut[k + 1] - cut[k], 2 + i);
		}
		t_expect3();
		assert_int_equal(dp_streams_buffers_in_use(s), 0);
		t_expect_stats(s,
			&(struct dp_streams_stats){ .segments = 4,
				.flows_opened = 1,
				.out_of_order = ooo,
				.messages = 3 });
		dp_streams_free(s);
	}
}

static void
test_retransmissions(void **state)
{
	struct dp_streams *s = t_create(NULL);
	uint8_t junk[4096];
	uint32_t a = 1000, b = t_invite_len + 200;

	(void)state;
	t_stream3();
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, t_stream, a, 1);
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, t_stream, a, 2);		 /* exact */
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, t_stream, 500, 3);		 /* part of it */
	t_seg(s, 0, 40000, 500, DP_TCP_ACK, t_stream + 500, b - 500, 4); /* overlapping */
	assert_int_equal(t_rec.n, 1);
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, t_stream, b, 5); /* everything again */
	t_seg(s, 0, 40000, t_invite_len, DP_TCP_ACK, t_ok, t_ok_len, 6);
	assert_int_equal(t_rec.n, 2);
	t_expect_msg(1, t_ok, t_ok_len);
	t_seg(s, 0, 40000, t_invite_len + t_ok_len, DP_TCP_ACK, t_503, t_503_len, 7);
	t_seg(s, 0, 40000, t_invite_len + t_ok_len, DP_TCP_ACK, t_503, t_503_len, 8);
	t_expect3();
	t_expect_stats(s,
		&(struct dp_streams_stats){
			.segments = 8, .flows_opened = 1, .retransmitted = 4, .messages = 3 });
	dp_streams_free(s);

	/* overlaps with bytes held ahead of a hole: the first copy wins */
	memset(junk, 'X', sizeof(junk));
	s = t_create(NULL);
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, t_stream, 100, 1);
	t_seg(s, 0, 40000, 800, DP_TCP_ACK, t_stream + 800, 400, 2);
	memcpy(junk + 800, "XXXX", 4);
	memcpy(junk + 600, t_stream + 600, 200);
	memcpy(junk + 1200, t_stream + 1200, 300);
	/* 600..1500: right around the held 800..1200, junk inside it */
	t_seg(s, 0, 40000, 600, DP_TCP_ACK, junk + 600, 900, 3);
	t_seg(s, 0, 40000, 100, DP_TCP_ACK, t_stream + 100, 500, 4);
	t_seg(s, 0, 40000, 1500, DP_TCP_ACK, t_stream + 1500, t_stream_len - 1500, 5);
	t_expect3();
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	t_expect_stats(s,
		&(struct dp_streams_stats){
			.segments = 5, .flows_opened = 1, .out_of_order = 2, .messages = 3 });
	dp_streams_free(s);
}

static void
test_hole_never_filled(void **state)
{
	struct dp_streams *s = t_create(NULL);
	uint32_t m1 = t_invite_len, m2 = t_ok_len, m3 = t_503_len, half = m2 / 2;
	uint8_t st[8192];
	uint32_t n = 0, gapstart, gapend;

	(void)state;
	/* INVITE, 200 (its second half lost), 503, INVITE */
	memcpy(st, t_invite, m1);
	n = m1;
	memcpy(st + n, t_ok, m2);
	n += m2;
	memcpy(st + n, t_503, m3);
	n += m3;
	memcpy(st + n, t_invite2, t_invite2_len);
	n += t_invite2_len;
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, st, m1 + half, 1000);
	t_seg(s, 0, 40000, m1 + m2, DP_TCP_ACK, st + m1 + m2, m3, 1100);
	t_seg(s, 0, 40000, m1 + m2 + m3, DP_TCP_ACK, st + m1 + m2 + m3, t_invite2_len, 1200);
	assert_int_equal(t_rec.n, 1);
	assert_int_equal(dp_streams_buffers_in_use(s), 1);
	dp_streams_tick(s, 2000, t_deliver, &t_rec); /* not yet gap_ms */
	assert_int_equal(t_rec.n, 1);
	dp_streams_tick(s, 2101, t_deliver, &t_rec);
	t_expect_msgs(3, t_invite, m1, t_503, m3, t_invite2, t_invite2_len);
	assert_int_equal(t_rec.m[1].now, 2101);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = 3,
			.flows_opened = 1,
			.out_of_order = 2,
			.gaps = 1,
			.gap_bytes = m2 - half,
			.resyncs = 1,
			.resync_bytes = half,
			.messages = 3 });
	dp_streams_free(s);

	/* the lost segment ends inside the 503: the rest of it is skipped */
	s = t_create(NULL);
	gapstart = m1 + half;
	gapend = m1 + m2 + 100;
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, st, gapstart, 1000);
	t_seg(s, 0, 40000, gapend, DP_TCP_ACK, st + gapend, n - gapend, 1100);
	/* a later segment after gap_ms skips the hole too */
	t_seg(s, 0, 40000, n, DP_TCP_ACK, t_503, t_503_len, 2200);
	t_expect_msgs(3, t_invite, m1, t_invite2, t_invite2_len, t_503, m3);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = 3,
			.flows_opened = 1,
			.out_of_order = 1,
			.gaps = 1,
			.gap_bytes = gapend - gapstart,
			.resyncs = 1,
			.resync_bytes = half + (m3 - 100),
			.messages = 3 });
	dp_streams_free(s);
}

static void
test_midstream_pickup(void **state)
{
	struct dp_streams *s = t_create(NULL);
	uint32_t k;

	(void)state;
	t_stream3();
	/* the capture starts 300 bytes into the INVITE's body */
	k = t_invite_len - 300;
	t_seg(s, 0, 40000, 77777, DP_TCP_ACK, t_stream + k, t_stream_len - k, 1);
	t_expect_msgs(2, t_ok, t_ok_len, t_503, t_503_len);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = 1,
			.flows_opened = 1,
			.resyncs = 1,
			.resync_bytes = 300,
			.messages = 2 });
	dp_streams_free(s);

	/* in the headers, cut mid-line and mid-segment */
	s = t_create(NULL);
	k = 37;
	t_seg(s, 0, 40000, 5, DP_TCP_ACK, t_stream + k, 100, 1);
	t_seg(s, 0, 40000, 105, DP_TCP_ACK, t_stream + k + 100, t_stream_len - k - 100, 2);
	t_expect_msgs(2, t_ok, t_ok_len, t_503, t_503_len);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = 2,
			.flows_opened = 1,
			.resyncs = 1,
			.resync_bytes = t_invite_len - k,
			.messages = 2 });
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	dp_streams_free(s);
}

static void
test_both_directions(void **state)
{
	struct dp_streams *s = t_create(NULL);
	struct dp_stream_tuple a = t_tuple(0, 40001), b = t_tuple(1, 40001);
	uint32_t ca = 0x10, cb = 0xffffff00u, i;

	(void)state;
	t_seg(s, 0, 40001, ca - 1, DP_TCP_SYN, NULL, 0, 1);
	t_seg(s, 1, 40001, cb - 1, DP_TCP_SYN | DP_TCP_ACK, NULL, 0, 1);
	/* INVITE in three pieces and 200 then 503 in pieces, interleaved */
	for (i = 0; i < 3; i++) {
		uint32_t a0 = i * 700, a1 = i == 2 ? t_invite_len : (i + 1) * 700;
		uint32_t b0 = i * 200, b1 = i == 2 ? t_ok_len : (i + 1) * 200;

		t_seg(s, 0, 40001, ca + a0, DP_TCP_ACK, t_invite + a0, a1 - a0, 2 + i);
		t_seg(s, 1, 40001, cb + b0, DP_TCP_ACK, t_ok + b0, b1 - b0, 2 + i);
	}
	t_seg(s, 1, 40001, cb + t_ok_len, DP_TCP_ACK, t_503, t_503_len, 9);
	t_expect_msgs(3, t_invite, t_invite_len, t_ok, t_ok_len, t_503, t_503_len);
	assert_memory_equal(&t_rec.m[0].t, &a, sizeof(a));
	assert_memory_equal(&t_rec.m[1].t, &b, sizeof(b));
	assert_memory_equal(&t_rec.m[2].t, &b, sizeof(b));
	assert_int_equal(dp_streams_flows_active(s), 1);
	t_expect_stats(
		s, &(struct dp_streams_stats){ .segments = 7, .flows_opened = 1, .messages = 3 });
	dp_streams_free(s);
}

static void
test_sequence_wrap(void **state)
{
	struct dp_streams *s;
	uint32_t isn, k;

	(void)state;
	t_stream3();
	/* the wrap at every place in the stream, in order and out of order */
	for (k = 0; k < t_stream_len; k += 97) {
		s = t_create(NULL);
		isn = 0u - k;
		t_seg(s, 0, 40000, isn - 1, DP_TCP_SYN, NULL, 0, 1);
		t_seg(s, 0, 40000, isn + 1500, DP_TCP_ACK, t_stream + 1500, t_stream_len - 1500, 2);
		t_seg(s, 0, 40000, isn + 0, DP_TCP_ACK, t_stream, 1000, 3);
		t_seg(s, 0, 40000, isn + 1000, DP_TCP_ACK, t_stream + 1000, 500, 4);
		t_seg(s, 0, 40000, isn + 0, DP_TCP_ACK, t_stream, 1000, 5);
		t_expect3();
		t_expect_stats(s,
			&(struct dp_streams_stats){ .segments = 4,
				.flows_opened = 1,
				.out_of_order = 1,
				.retransmitted = 1,
				.messages = 3 });
		assert_int_equal(dp_streams_buffers_in_use(s), 0);
		dp_streams_free(s);
	}
}

static void
test_fin_rst(void **state)
{
	struct dp_streams *s = t_create(NULL);

	(void)state;
	/* FIN from both sides after the data: closed */
	t_seg(s, 0, 40000, 99, DP_TCP_SYN, NULL, 0, 1);
	t_seg(s, 1, 40000, 499, DP_TCP_SYN | DP_TCP_ACK, NULL, 0, 1);
	t_seg(s, 0, 40000, 100, DP_TCP_ACK | DP_TCP_FIN, t_invite, t_invite_len, 2);
	assert_int_equal(dp_streams_flows_active(s), 1);
	t_seg(s, 1, 40000, 500, DP_TCP_ACK, t_ok, t_ok_len, 3);
	t_seg(s, 1, 40000, 500 + t_ok_len, DP_TCP_ACK | DP_TCP_FIN, NULL, 0, 4);
	assert_int_equal(dp_streams_flows_active(s), 0);
	/* the last ACK does not open it again */
	t_seg(s, 0, 40000, 101 + t_invite_len, DP_TCP_ACK, NULL, 0, 5);
	assert_int_equal(dp_streams_flows_active(s), 0);
	t_expect_msgs(2, t_invite, t_invite_len, t_ok, t_ok_len);

	/* RST with a message cut: it is lost, the buffer comes back */
	t_seg(s, 0, 40002, 0, DP_TCP_ACK, t_503, 100, 6);
	assert_int_equal(dp_streams_buffers_in_use(s), 1);
	t_seg(s, 1, 40002, 0, DP_TCP_RST, NULL, 0, 7);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	assert_int_equal(dp_streams_flows_active(s), 0);

	/* FIN from both sides while a hole is open: skipped after gap_ms */
	t_seg(s, 0, 40003, 0, DP_TCP_ACK, t_ok, 100, 10);
	t_seg(s, 0, 40003, 200, DP_TCP_ACK, t_ok + 200, t_ok_len - 200, 10);
	t_seg(s, 0, 40003, t_ok_len, DP_TCP_ACK, t_503, t_503_len, 10);
	t_seg(s, 0, 40003, t_ok_len + t_503_len, DP_TCP_FIN, NULL, 0, 11);
	t_seg(s, 1, 40003, 0, DP_TCP_FIN, NULL, 0, 11);
	assert_int_equal(dp_streams_flows_active(s), 1);
	dp_streams_tick(s, 1012, t_deliver, &t_rec);
	assert_int_equal(dp_streams_flows_active(s), 0);
	t_expect_msgs(3, t_invite, t_invite_len, t_ok, t_ok_len, t_503, t_503_len);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	/* the 200 the hole cut is lost: its held head and its tail are skipped */
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = 6,
			.flows_opened = 3,
			.flows_closed = 3,
			.out_of_order = 2,
			.gaps = 1,
			.gap_bytes = 100,
			.resyncs = 1,
			.resync_bytes = 100 + (t_ok_len - 200),
			.messages = 3,
			.truncated = 1 });
	dp_streams_free(s);
}

static void
test_idle_expiry(void **state)
{
	struct dp_streams *s = t_create(NULL);
	uint64_t now;

	(void)state;
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, t_invite, 1000, 1000);
	t_seg(s, 0, 40001, 0, DP_TCP_ACK, t_ok, t_ok_len, 20000);
	assert_int_equal(dp_streams_flows_active(s), 2);
	/* ticks look at a bounded slice: a full turn of this small table */
	dp_streams_tick(s, 31000, t_deliver, &t_rec);
	assert_int_equal(dp_streams_flows_active(s), 2);
	dp_streams_tick(s, 31001, t_deliver, &t_rec);
	assert_int_equal(dp_streams_flows_active(s), 1);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	/* the other one is kept alive by an ACK */
	t_seg(s, 1, 40001, 0, DP_TCP_ACK, NULL, 0, 45000);
	for (now = 50001; now < 75001; now += 1000)
		dp_streams_tick(s, now, t_deliver, &t_rec);
	assert_int_equal(dp_streams_flows_active(s), 1);
	dp_streams_tick(s, 75001, t_deliver, &t_rec);
	assert_int_equal(dp_streams_flows_active(s), 0);
	t_expect_msgs(1, t_ok, t_ok_len);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = 2,
			.flows_opened = 2,
			.flows_expired = 2,
			.messages = 1,
			.truncated = 1 });
	dp_streams_free(s);
}

static void
test_table_full(void **state)
{
	struct dp_streams_cfg cfg = t_cfg;
	struct dp_streams *s;
	uint16_t port;

	(void)state;
	cfg.flows = 8; /* one set */
	s = t_create(&cfg);
	for (port = 0; port < 8; port++)
		t_seg(s, 0, (uint16_t)(41000 + port), 0, DP_TCP_ACK, t_invite, 1000, 100 + port);
	assert_int_equal(dp_streams_flows_active(s), 8);
	assert_int_equal(dp_streams_buffers_in_use(s), 8);
	/* flow 41000 is the oldest but was seen again: 41001 goes */
	t_seg(s, 0, 41000, 1000, DP_TCP_ACK, t_invite + 1000, t_invite_len - 1000, 200);
	t_seg(s, 0, 42000, 0, DP_TCP_ACK, t_ok, t_ok_len, 300);
	assert_int_equal(dp_streams_flows_active(s), 8);
	assert_int_equal(dp_streams_buffers_in_use(s), 6);
	/* the evicted flow comes back as a new one, picked up mid-message */
	t_seg(s, 0, 41001, 1000, DP_TCP_ACK, t_invite + 1000, t_invite_len - 1000, 400);
	t_seg(s, 0, 41001, t_invite_len, DP_TCP_ACK, t_503, t_503_len, 401);
	t_expect_msgs(3, t_invite, t_invite_len, t_ok, t_ok_len, t_503, t_503_len);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = 12,
			.flows_opened = 10,
			.flows_evicted = 2,
			.resyncs = 1,
			.resync_bytes = t_invite_len - 1000,
			.messages = 3,
			.truncated = 2 });
	dp_streams_free(s);
}

static void
test_pool_exhausted(void **state)
{
	struct dp_streams_cfg cfg = t_cfg;
	struct dp_streams *s;
	uint16_t port;

	(void)state;
	cfg.buffers = 2;
	s = t_create(&cfg);
	for (port = 0; port < 3; port++)
		t_seg(s, 0, (uint16_t)(41000 + port), 0, DP_TCP_ACK, t_invite, 1000, 1);
	assert_int_equal(dp_streams_buffers_in_use(s), 2);
	/* the third flow lost its cut message: it finds the next one */
	t_seg(s, 0, 41002, 1000, DP_TCP_ACK, t_invite + 1000, t_invite_len - 1000, 2);
	t_seg(s, 0, 41002, t_invite_len, DP_TCP_ACK, t_ok, t_ok_len, 3);
	t_expect_msgs(1, t_ok, t_ok_len);
	/* an out-of-order segment cannot be held either */
	t_seg(s, 0, 41002, t_invite_len + t_ok_len + 10, DP_TCP_ACK, t_503 + 10, t_503_len - 10, 3);
	/* the first two complete; their buffers come back */
	t_seg(s, 0, 41000, 1000, DP_TCP_ACK, t_invite + 1000, t_invite_len - 1000, 4);
	t_seg(s, 0, 41001, 1000, DP_TCP_ACK, t_invite + 1000, t_invite_len - 1000, 4);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	t_seg(s, 0, 41003, 0, DP_TCP_ACK, t_invite, 1000, 5);
	t_seg(s, 0, 41003, 1000, DP_TCP_ACK, t_invite + 1000, t_invite_len - 1000, 6);
	t_expect_msgs(4, t_ok, t_ok_len, t_invite, t_invite_len, t_invite, t_invite_len, t_invite,
		t_invite_len);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = 10,
			.flows_opened = 4,
			.out_of_order = 1,
			.resyncs = 1,
			.resync_bytes = t_invite_len,
			.no_buffer = 2,
			.messages = 4 });
	dp_streams_free(s);
}

static void
test_oversize(void **state)
{
	struct dp_streams_cfg cfg = t_cfg;
	struct dp_streams *s;
	uint8_t big[6000];
	uint32_t n, k;

	(void)state;
	cfg.buffer_size = 1024;
	t_stream3();
	/* by Content-Length: skipped exactly, no resync */
	s = t_create(&cfg);
	for (k = 0; k < t_stream_len; k += 500)
		t_seg(s, 0, 40000, k, DP_TCP_ACK, t_stream + k, RTE_MIN(500u, t_stream_len - k), 1);
	t_expect_msgs(2, t_ok, t_ok_len, t_503, t_503_len);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = (t_stream_len + 499) / 500,
			.flows_opened = 1,
			.oversize = 1,
			.messages = 2 });
	dp_streams_free(s);

	/* whole in one segment: skipped all the same */
	s = t_create(&cfg);
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, t_stream, t_stream_len, 1);
	t_expect_msgs(2, t_ok, t_ok_len, t_503, t_503_len);
	t_expect_stats(s,
		&(struct dp_streams_stats){
			.segments = 1, .flows_opened = 1, .oversize = 1, .messages = 2 });
	dp_streams_free(s);

	/* a header section longer than a buffer: skipped, then re-synchronised */
	s = t_create(&cfg);
	n = (uint32_t)snprintf((char *)big, sizeof(big), "MESSAGE sip:x SIP/2.0\r\n");
	while (n < 3000)
		n += (uint32_t)snprintf((char *)big + n, sizeof(big) - n, "X-Pad: %u\r\n", n);
	n += (uint32_t)snprintf((char *)big + n, sizeof(big) - n, "\r\n");
	memcpy(big + n, t_503, t_503_len);
	for (k = 0; k < n + t_503_len; k += 300)
		t_seg(s, 0, 40000, k, DP_TCP_ACK, big + k, RTE_MIN(300u, n + t_503_len - k), 1);
	t_expect_msgs(1, t_503, t_503_len);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = (n + t_503_len + 299) / 300,
			.flows_opened = 1,
			.resyncs = 1,
			.resync_bytes = n,
			.oversize = 1,
			.messages = 1 });
	dp_streams_free(s);
}

static void
test_flush(void **state)
{
	struct dp_streams *s = t_create(NULL);

	(void)state;
	t_stream3();
	/* a hole before the 503, then the capture ends */
	t_seg(s, 0, 40000, 0, DP_TCP_ACK, t_stream, t_invite_len + 100, 1);
	t_seg(s, 0, 40000, t_invite_len + t_ok_len, DP_TCP_ACK, t_503, t_503_len, 2);
	dp_streams_flush(s, 3, t_deliver, &t_rec);
	t_expect_msgs(2, t_invite, t_invite_len, t_503, t_503_len);
	assert_int_equal(dp_streams_buffers_in_use(s), 0);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = 2,
			.flows_opened = 1,
			.out_of_order = 1,
			.gaps = 1,
			.gap_bytes = t_ok_len - 100,
			.resyncs = 1,
			.resync_bytes = 100,
			.messages = 2 });
	dp_streams_free(s);
}

/* ---- HEP ---- */

/* A HEPv3 packet with the chunks a sender writes and `sip` as payload. */
static uint32_t
t_hep(uint8_t *out, const char *sip, uint32_t siplen)
{
	uint32_t n = 6;

#define T_CHUNK(type, data, len)                          \
	do {                                              \
		out[n] = 0;                               \
		out[n + 1] = 0;                           \
		out[n + 2] = 0;                           \
		out[n + 3] = (type);                      \
		out[n + 4] = (uint8_t)(((len) + 6) >> 8); \
		out[n + 5] = (uint8_t)((len) + 6);        \
		memcpy(out + n + 6, (data), (len));       \
		n += 6 + (len);                           \
	} while (0)
	T_CHUNK(1, "\x02", 1);
	T_CHUNK(2, "\x06", 1);
	T_CHUNK(3, "\xc6\x33\x64\x0a", 4);
	T_CHUNK(4, "\xcb\x00\x71\x05", 4);
	T_CHUNK(7, "\x9c\x40", 2);
	T_CHUNK(8, "\x13\xc4", 2);
	T_CHUNK(9, "\x65\x00\x00\x00", 4);
	T_CHUNK(10, "\x00\x00\x00\x01", 4);
	T_CHUNK(11, "\x01", 1);
	T_CHUNK(12, "\x00\x00\x00\x65", 4);
	T_CHUNK(15, sip, siplen);
#undef T_CHUNK
	memcpy(out, "HEP3", 4);
	out[4] = (uint8_t)(n >> 8);
	out[5] = (uint8_t)n;
	return n;
}

static void
test_hep(void **state)
{
	uint8_t st[8192];
	uint32_t len[3], off[4], n = 0, k, i;
	struct dp_stream_tuple t = t_tuple(0, 9060);
	struct dp_streams *s;

	(void)state;
	off[0] = 0;
	len[0] = t_hep(st, t_invite, t_invite_len);
	len[1] = t_hep(st + len[0], t_ok, t_ok_len);
	len[2] = t_hep(st + len[0] + len[1], t_503, t_503_len);
	for (i = 0; i < 3; i++) {
		off[i + 1] = off[i] + len[i];
		n += len[i];
	}
	/* back to back in one segment, then cut at every byte */
	for (k = 0; k < n; k++) {
		s = t_create(NULL);
		dp_streams_segment(s, &t, 1, DP_TCP_ACK, st, k == 0 ? n : k, DP_STREAM_HEP, 1,
			t_deliver, &t_rec);
		if (k != 0)
			dp_streams_segment(s, &t, 1 + k, DP_TCP_ACK, st + k, n - k, DP_STREAM_HEP,
				2, t_deliver, &t_rec);
		t_expect_msgs(3, st, len[0], st + off[1], len[1], st + off[2], len[2]);
		assert_int_equal(dp_streams_buffers_in_use(s), 0);
		t_expect_stats(s,
			&(struct dp_streams_stats){
				.segments = k == 0 ? 1 : 2, .flows_opened = 1, .messages = 3 });
		dp_streams_free(s);
	}
	/* picked up inside the first: re-synchronised at the next "HEP3" */
	s = t_create(NULL);
	dp_streams_segment(
		s, &t, 1, DP_TCP_ACK, st + 100, n - 100, DP_STREAM_HEP, 1, t_deliver, &t_rec);
	t_expect_msgs(2, st + off[1], len[1], st + off[2], len[2]);
	t_expect_stats(s,
		&(struct dp_streams_stats){ .segments = 1,
			.flows_opened = 1,
			.resyncs = 1,
			.resync_bytes = len[0] - 100,
			.messages = 2 });
	dp_streams_free(s);
}

static void
test_create_bounds(void **state)
{
	struct dp_streams_cfg cfg = t_cfg;
	char err[128];

	(void)state;
	cfg.buffer_size = 10;
	assert_null(dp_streams_create(&cfg, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "buffer_size 10"));
	cfg = t_cfg;
	cfg.flows = 0;
	assert_null(dp_streams_create(&cfg, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "flows 0"));
}

static int
t_setup(void **state)
{
	(void)state;
	t_messages();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sip_frame),
		cmocka_unit_test(test_one_segment_each),
		cmocka_unit_test(test_many_in_one_with_keepalives),
		cmocka_unit_test(test_split_every_offset),
		cmocka_unit_test(test_tiny_segments),
		cmocka_unit_test(test_segment_ends_one_starts_next),
		cmocka_unit_test(test_out_of_order_permutations),
		cmocka_unit_test(test_retransmissions),
		cmocka_unit_test(test_hole_never_filled),
		cmocka_unit_test(test_midstream_pickup),
		cmocka_unit_test(test_both_directions),
		cmocka_unit_test(test_sequence_wrap),
		cmocka_unit_test(test_fin_rst),
		cmocka_unit_test(test_idle_expiry),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_pool_exhausted),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_hep),
		cmocka_unit_test(test_create_bounds),
	};

	if (sg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, t_setup, NULL);
}

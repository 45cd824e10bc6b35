/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for TCP stream reassembly (dp_streams_*) under an EAL
 * without hugepages or devices, on a small table (one or two sets, so
 * evictions happen) and a small pool (so it runs dry).
 *
 * Input: one byte of setup (bit 0: HEP instead of SIP, bits 1-2: buffer
 * size 256/1024/4096/1024, bit 3: 2 or 8 buffers, bit 4: 8 or 16 flows),
 * then segment records of 5 bytes and a payload:
 *   flags  bits 0-1 flow, 2 direction, 3 SYN, 4 FIN, 5 RST, 6 payload
 *          from the template stream, 7 time step in units of 64 ms
 *   delta  int16 little-endian: seq = the end of the direction's last
 *          segment + delta (0 in order, < 0 old, > 0 ahead)
 *   step   packet time advance
 *   len    payload bytes taken from the input (template: len * 8 bytes of
 *          the template stream at the segment's position, ISN + 1 being
 *          its byte 0, so that every copy of a byte is the same byte, as
 *          on a real wire)
 * dp_streams_tick runs after every record; the input ends with
 * dp_streams_flush and ticks past idle_ms.
 *
 * Checked: every message handed on frames exactly (dp_sipframe_len or
 * dp_hep_frame gives 1 with n == len, len <= buffer_size) and lies inside
 * the segment being handed in or inside the pool; a direction fed only
 * template bytes hands on only template messages (whole, or a tail after
 * a pick-up inside a start line); counters add up
 * (flows opened = active + closed + expired + evicted, messages = calls,
 * buffers in use within the pool); after the flush no buffer is in use,
 * and after the ticks no flow is left.
 */
#include <string.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "dp_hep.h"
#include "dp_sipframe.h"
#include "dp_stream.h"
#include "fuzz_common.h"
#include "sg_test_eal.h"

#define FUZZ_TMPL_LEN 2048 /* a power of two: positions wrap with seq */
#define FUZZ_TMPL_MSGS 4

static uint8_t fuzz_tmpl[FUZZ_TMPL_LEN];
static uint32_t fuzz_tmpl_off[FUZZ_TMPL_MSGS], fuzz_tmpl_len[FUZZ_TMPL_MSGS];

static const char *const fuzz_msgs[FUZZ_TMPL_MSGS] = {
	"INVITE sip:+14155550123@carrier.example.net SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 10.0.0.1:5000;branch=z9hG4bK-1\r\n"
	"From: <sip:+14155550100@dialer.example.com>;tag=a1\r\n"
	"To: <sip:+14155550123@carrier.example.net>\r\n"
	"Call-ID: 1-fuzz@10.0.0.1\r\nCSeq: 1 INVITE\r\n"
	"Content-Type: application/sdp\r\nContent-Length: 119\r\n\r\n"
	"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
	"m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
	"\r\n\r\nSIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/TCP 10.0.0.1:5000;branch=z9hG4bK-1\r\n"
	"From: <sip:+14155550100@dialer.example.com>;tag=a1\r\n"
	"To: <sip:+14155550123@carrier.example.net>;tag=b2\r\n"
	"Call-ID: 1-fuzz@10.0.0.1\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n",
	"SIP/2.0 503 Service Unavailable\n"
	"Via: SIP/2.0/TCP 10.0.0.1:5000;branch=z9hG4bK-2\n"
	"Call-ID: 2-fuzz@10.0.0.1\nCSeq: 1 INVITE\nRetry-After: 30\n\n",
	"OPTIONS sip:carrier.example.net SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 10.0.0.1:5000;branch=z9hG4bK-3\r\n"
	"Call-ID: 3-fuzz@10.0.0.1\r\nCSeq: 7 OPTIONS\r\n"
	"Content-Length :\r\n 4\r\n\r\nping",
};

static struct dp_streams *fuzz_s[4][2][2]; /* by buffer size, buffers, flows */
static uint32_t fuzz_bsize;

/* The segment being handed in, and what came out. */
static const uint8_t *fuzz_seg;
static uint32_t fuzz_seg_len;
static uint32_t fuzz_seg_seq; /* of the segment's first payload byte */
static struct dp_streams *fuzz_cur;
static int fuzz_hep;
static uint64_t fuzz_calls;
static uint8_t fuzz_impure[4][2];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint32_t i, n = 0, k;

	(void)argc;
	(void)argv;
	if (sg_test_eal_init() != 0)
		abort();
	/* the messages, padded with keep-alives to the template's length */
	for (i = 0; i < FUZZ_TMPL_MSGS; i++) {
		k = (uint32_t)strlen(fuzz_msgs[i]);
		memcpy(fuzz_tmpl + n, fuzz_msgs[i], k);
		fuzz_tmpl_off[i] = n;
		fuzz_tmpl_len[i] = k;
		n += k;
	}
	FUZZ_CHECK(n <= FUZZ_TMPL_LEN);
	/* each message of the template frames whole */
	for (i = 0; i < FUZZ_TMPL_MSGS; i++) {
		uint32_t m = 0;

		FUZZ_CHECK(dp_sipframe_len(fuzz_tmpl + fuzz_tmpl_off[i] + (i == 1 ? 4 : 0),
				   fuzz_tmpl_len[i] - (i == 1 ? 4 : 0), &m) == 1 &&
			m == fuzz_tmpl_len[i] - (i == 1 ? 4 : 0));
	}
	for (; n < FUZZ_TMPL_LEN; n++)
		fuzz_tmpl[n] = (n & 1) ? '\n' : '\r';
	/* the 200 begins with keep-alives: the message itself starts after them */
	fuzz_tmpl_off[1] += 4;
	fuzz_tmpl_len[1] -= 4;
	return 0;
}

static struct dp_streams *
fuzz_streams(uint8_t setup)
{
	static const uint32_t bsizes[4] = { 256, 1024, 4096, 1024 };
	uint32_t b = (setup >> 1) & 3, nb = (setup >> 3) & 1, nf = (setup >> 4) & 1;
	struct dp_streams **sp = &fuzz_s[b][nb][nf];
	struct dp_streams_cfg cfg = {
		.flows = nf ? 16 : 8,
		.buffers = nb ? 8 : 2,
		.buffer_size = bsizes[b],
		.idle_ms = 5000,
		.gap_ms = 300,
	};
	char err[256];

	/* one table per shape, reused: every input leaves it empty */
	if (*sp == NULL) {
		*sp = dp_streams_create(&cfg, 0, err, sizeof(err));
		if (*sp == NULL) {
			fprintf(stderr, "fuzz_stream: %s\n", err);
			abort();
		}
	}
	fuzz_bsize = cfg.buffer_size;
	return *sp;
}

static void
fuzz_deliver(void *arg, const struct dp_stream_tuple *t, const uint8_t *msg, uint32_t len,
	uint32_t seq, uint64_t now_ms)
{
	uint32_t n = 0, i;
	int r, flow, dir;

	(void)arg;
	(void)now_ms;
	fuzz_calls++;
	FUZZ_CHECK(len > 0 && len <= fuzz_bsize);
	/* handed on from the segment: seq names its place in the segment */
	if (fuzz_seg != NULL && fuzz_inside(fuzz_seg, fuzz_seg_len, msg, len))
		FUZZ_CHECK(seq == fuzz_seg_seq + (uint32_t)(msg - fuzz_seg));
	FUZZ_CHECK((fuzz_seg != NULL && fuzz_inside(fuzz_seg, fuzz_seg_len, msg, len)) ||
		dp_streams_owns(fuzz_cur, msg, len));
	r = fuzz_hep ? dp_hep_frame(msg, len, &n) : dp_sipframe_len(msg, len, &n);
	FUZZ_CHECK(r == 1 && n == len);
	/* which harness flow and direction sent it */
	FUZZ_CHECK(t->family == 4);
	dir = t->src[3] == 2;
	flow = (dir ? t->dport : t->sport) - 5000;
	FUZZ_CHECK(flow >= 0 && flow < 4 && (dir ? t->sport : t->dport) == 5060);
	if (fuzz_hep || fuzz_impure[flow][dir])
		return;
	/*
	 * A whole template message, or the tail of one: a stream picked up
	 * (or re-synchronised after a hole) inside a start line may find a
	 * shorter start line there ("VITE sip:... SIP/2.0").
	 */
	for (i = 0; i < FUZZ_TMPL_MSGS; i++) {
		if (len <= fuzz_tmpl_len[i] &&
			memcmp(msg, fuzz_tmpl + fuzz_tmpl_off[i] + fuzz_tmpl_len[i] - len, len) ==
				0)
			return;
	}
	FUZZ_CHECK(!"a template direction handed on a message not in the template");
}

static void
fuzz_check_counters(struct dp_streams *s)
{
	const struct dp_streams_stats *st = dp_streams_stats(s);

	FUZZ_CHECK(st->messages == fuzz_calls);
	FUZZ_CHECK(st->flows_opened ==
		dp_streams_flows_active(s) + st->flows_closed + st->flows_expired +
			st->flows_evicted);
	FUZZ_CHECK(dp_streams_buffers_in_use(s) <= 8);
	FUZZ_CHECK(dp_streams_flows_active(s) <= 16);
	FUZZ_CHECK(st->out_of_order <= st->segments && st->retransmitted <= st->segments);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_streams_stats before;
	uint32_t cur[4][2], isn[4][2], seq, len, x, i, k;
	const struct dp_streams_stats *st;
	struct dp_stream_tuple t;
	struct dp_streams *s;
	uint64_t now = 1000;
	size_t pos = 1;
	uint8_t *copy;
	int flow, dir;

	if (size < 1)
		return 0;
	s = fuzz_streams(data[0]);
	fuzz_cur = s;
	fuzz_hep = data[0] & 1;
	fuzz_calls = 0;
	memset(fuzz_impure, 0, sizeof(fuzz_impure));
	/* counters are cumulative over inputs on a reused table: check deltas */
	before = *dp_streams_stats(s);
	fuzz_calls = before.messages;
	for (flow = 0; flow < 4; flow++) {
		for (dir = 0; dir < 2; dir++) {
			isn[flow][dir] =
				0xfffff800u + (uint32_t)flow * 0x40000000u + (uint32_t)dir * 977;
			cur[flow][dir] = isn[flow][dir];
		}
	}
	while (pos + 5 <= size) {
		uint8_t f = data[pos];
		int16_t delta = (int16_t)(data[pos + 1] | data[pos + 2] << 8);
		uint8_t flags = 0;

		flow = f & 3;
		dir = (f >> 2) & 1;
		now += (uint64_t)data[pos + 3] * ((f & 0x80) ? 64 : 1);
		len = data[pos + 4];
		pos += 5;
		flags = (uint8_t)(DP_TCP_ACK | ((f & 0x08) ? DP_TCP_SYN : 0) |
			((f & 0x10) ? DP_TCP_FIN : 0) | ((f & 0x20) ? DP_TCP_RST : 0));
		seq = cur[flow][dir] + (uint32_t)(int32_t)delta;
		if ((f & 0x40) && !fuzz_hep) {
			len *= 8;
			copy = malloc(len ? len : 1);
			FUZZ_CHECK(copy != NULL);
			x = seq + ((flags & DP_TCP_SYN) ? 1 : 0) - isn[flow][dir] - 1;
			for (i = 0; i < len; i++)
				copy[i] = fuzz_tmpl[(x + i) & (FUZZ_TMPL_LEN - 1)];
		} else {
			len = (uint32_t)RTE_MIN((size_t)len, size - pos);
			copy = malloc(len ? len : 1);
			FUZZ_CHECK(copy != NULL);
			memcpy(copy, data + pos, len);
			pos += len;
			if (len != 0)
				fuzz_impure[flow][dir] = 1;
		}
		memset(&t, 0, sizeof(t));
		t.family = 4;
		t.src[0] = t.dst[0] = 10;
		t.src[3] = (uint8_t)(dir ? 2 : 1);
		t.dst[3] = (uint8_t)(dir ? 1 : 2);
		t.sport = (uint16_t)(dir ? 5060 : 5000 + flow);
		t.dport = (uint16_t)(dir ? 5000 + flow : 5060);
		fuzz_seg = copy;
		fuzz_seg_len = len;
		fuzz_seg_seq = seq + ((flags & DP_TCP_SYN) ? 1 : 0);
		dp_streams_segment(s, &t, seq, flags, len ? copy : NULL, len,
			fuzz_hep ? DP_STREAM_HEP : DP_STREAM_SIP, now, fuzz_deliver, NULL);
		fuzz_seg = NULL;
		free(copy);
		cur[flow][dir] = seq + ((flags & DP_TCP_SYN) ? 1 : 0) + len;
		dp_streams_tick(s, now, fuzz_deliver, NULL);
		fuzz_check_counters(s);
	}
	dp_streams_flush(s, now, fuzz_deliver, NULL);
	fuzz_check_counters(s);
	FUZZ_CHECK(dp_streams_buffers_in_use(s) == 0);
	for (k = 0; k < 4; k++)
		dp_streams_tick(s, now + 5001 + k, fuzz_deliver, NULL);
	FUZZ_CHECK(dp_streams_flows_active(s) == 0);
	FUZZ_CHECK(dp_streams_buffers_in_use(s) == 0);
	fuzz_check_counters(s);
	st = dp_streams_stats(s);
	/* a hole skipped is a range given up, and ranges come from segments ahead */
	FUZZ_CHECK(st->gaps - before.gaps <= st->out_of_order - before.out_of_order);
	return 0;
}

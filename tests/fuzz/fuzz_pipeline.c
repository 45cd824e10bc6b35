/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for a worker's whole per-packet path: dp_worker_frame
 * (decode, trunk lookup, SIP parse of every message of a segment,
 * retransmission and dialog tables, counters) on a real struct dp_worker
 * under an EAL without hugepages or devices.
 *
 * Input: one byte (bit 0: Linux cooked instead of Ethernet), then frames,
 * each a 2-byte big-endian length and that many bytes (the last one takes
 * what is left), fed at packet times 10 ms apart to a fresh worker, so a
 * crash reproduces from its input alone.
 *
 * Checked for every frame, from the counters: every unit (a frame, a
 * datagram rebuilt from fragments, a message cut from a TCP stream) lands
 * in exactly one place (a drop reason, a malformed message or a message),
 * so after each frame the outcomes equal packets + reassembled + stream
 * messages; the per-trunk counters add up to the source counters; and for
 * a plain UDP datagram the number of messages equals what
 * dp_decode_cfg and dp_sip_parse give when walked over the payload the
 * way the worker does, each message also passing the dp_sip_parse
 * invariants. Fragments, TCP streams, tunnels and HEP (from 10/8, on
 * 9060) are all reachable: the tables are small so they fill and evict.
 *
 * The worker keeps a small flight recorder (dp_trace.h) and hands failed
 * calls over to a ring, drained after every frame: each frame handed over
 * must be the head of one of the input's frames (a recorded frame, never
 * another slot's leftovers), within its sizes, and no held fragment or
 * segment is claimed in place twice.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "cfg.h"
#include "dp_decode.h"
#include "dp_sip.h"
#include "dp_trunk.h"
#include "dp_worker.h"
#include "fuzz_sip_check.h"
#include "sg_test_eal.h"

#define FUZZ_MAX_FRAMES 16

/* Trunks by prefix, one bound to a port, IPv4 and IPv6, like a carrier edge. */
static const char fuzz_conf[] =
	"dataplane = { sip_ports = [ 5060, 5080 ]; retrans_entries = 1024;\n"
	"  dialog_entries = 1024; dialog_timeout = 10; retrans_window = 1; };\n"
	"fragments = { entries = 64; timeout = 50; };\n"
	"streams = { flows = 64; buffers = 16; buffer_size = 2048; idle_timeout = 1;\n"
	"  gap_timeout = 30; };\n"
	"hep = { port = 9060; allow = [ \"10.0.0.0/8\", \"fd00::/8\" ]; };\n"
	"traces = { recorder_frames = 64; frame_bytes = 256; sample_per_second = 4;\n"
	"  linger = 100; };\n"
	"trunks = (\n"
	"  { name = \"a\"; prefixes = [ \"10.0.0.0/8\", \"192.0.2.0/24\" ]; cps = 10;\n"
	"    max_concurrent = 10; },\n"
	"  { name = \"b\"; prefixes = [ \"10.1.0.0/16\" ]; port = 5060; cps = 10;\n"
	"    max_concurrent = 10; },\n"
	"  { name = \"c\"; prefixes = [ \"2001:db8::/32\", \"fd00::/8\" ]; cps = 10;\n"
	"    max_concurrent = 10; }\n"
	");\n";

static struct sg_config fuzz_cfg;
static struct dp_sip_db *fuzz_db;
static hs_scratch_t *fuzz_proto;
static hs_scratch_t *fuzz_scratch;
static struct dp_trunks *fuzz_trunks;
static struct dp_worker_shared fuzz_sh[2];
static struct rte_ring *fuzz_trc_ring;
static struct rte_mempool *fuzz_trc_pool;

/* The input's frames so far: what a handed-over frame must come from. */
static const uint8_t *fuzz_in[FUZZ_MAX_FRAMES];
static uint32_t fuzz_in_len[FUZZ_MAX_FRAMES];
static unsigned int fuzz_n_in;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];
	int i;

	(void)argc;
	(void)argv;
	if (sg_test_eal_init() != 0)
		abort();
	if (cfg_load_buffer(fuzz_conf, strlen(fuzz_conf), "fuzz_pipeline", &fuzz_cfg, err,
		    sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	fuzz_db = dp_sip_db_create(err, sizeof(err));
	if (fuzz_db == NULL || dp_sip_scratch_alloc(fuzz_db, &fuzz_proto) != 0 ||
		dp_sip_scratch_alloc(fuzz_db, &fuzz_scratch) != 0) {
		fprintf(stderr, "fuzz_pipeline: Hyperscan: %s\n", err);
		abort();
	}
	fuzz_trunks = dp_trunks_create(&fuzz_cfg, "fuzz_trunks", 0, err, sizeof(err));
	if (fuzz_trunks == NULL) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	for (i = 0; i < 2; i++) {
		dp_worker_shared_init(&fuzz_sh[i], &fuzz_cfg);
		fuzz_sh[i].db = fuzz_db;
		fuzz_sh[i].trunks = fuzz_trunks;
		fuzz_sh[i].link = i ? DP_LINK_SLL : DP_LINK_ETHER;
		fuzz_sh[i].record = 1;
	}
	fuzz_trc_ring =
		rte_ring_create("fuzz_trc", 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	fuzz_trc_pool = rte_mempool_create("fuzz_trc_pool", 255,
		dp_trace_elt_size(fuzz_cfg.traces.frame_bytes), 0, 0, NULL, NULL, NULL, NULL,
		SOCKET_ID_ANY, 0);
	if (fuzz_trc_ring == NULL || fuzz_trc_pool == NULL) {
		fprintf(stderr, "fuzz_pipeline: trace ring or pool\n");
		abort();
	}
	return 0;
}

/* Every frame handed over is the head of one of the input's frames. */
static void
fuzz_drain_traces(const struct dp_worker *w)
{
	const struct sg_trace_stats *st = &w->trace->own;
	void *obj;
	unsigned int i;

	while (rte_ring_sc_dequeue(fuzz_trc_ring, &obj) == 0) {
		const struct sg_trace_frame *f = obj;
		int found = 0;

		FUZZ_CHECK(f->cap_len <= fuzz_cfg.traces.frame_bytes && f->cap_len <= f->orig_len);
		FUZZ_CHECK(f->call_id_len <= SG_CALL_ID_MAX);
		for (i = 0; i < fuzz_n_in && !found; i++)
			found = fuzz_in_len[i] == f->orig_len &&
				memcmp(fuzz_in[i], f->data, f->cap_len) == 0;
		FUZZ_CHECK(found);
		rte_mempool_put(fuzz_trc_pool, obj);
	}
	/* a held frame is claimed in place once; copies beyond that */
	FUZZ_CHECK(st->claimed - st->copied <= st->held);
	FUZZ_CHECK(st->frames_out >= st->linger_frames);
}

static uint32_t
fuzz_skip(const uint8_t *p, uint32_t off, uint32_t len, int blank)
{
	while (off < len &&
		(p[off] == '\r' || p[off] == '\n' ||
			(blank && (p[off] == ' ' || p[off] == '\t' || p[off] == '\0'))))
		off++;
	return off;
}

/*
 * SIP messages in a frame as the worker walks them: a datagram is one
 * message after leading blanks; a segment is messages back to back,
 * CRLFs between them, up to the first one that does not parse.
 */
static uint64_t
fuzz_expected_messages(const struct dp_worker *w, const uint8_t *frame, uint32_t len, int *is_udp)
{
	struct dp_sip_msg m;
	enum dp_sip_res res;
	struct dp_pkt pkt;
	uint64_t n = 0;
	uint32_t off;

	*is_udp = 0;
	if (dp_decode_cfg(frame, len, &w->dec, &pkt) != DP_DEC_OK || pkt.proto != IPPROTO_UDP ||
		pkt.dport == w->sh->hep_port)
		return 0;
	*is_udp = 1;
	off = fuzz_skip(pkt.payload, 0, pkt.payload_len, *is_udp);
	while (off < pkt.payload_len) {
		res = dp_sip_parse(pkt.payload + off, pkt.payload_len - off, &m);
		fuzz_sip_check(
			fuzz_db, fuzz_scratch, pkt.payload + off, pkt.payload_len - off, res, &m);
		if (res != DP_SIP_OK)
			break;
		n++;
		if (*is_udp)
			break;
		FUZZ_CHECK(m.msg_len > 0);
		off = fuzz_skip(pkt.payload, off + m.msg_len, pkt.payload_len, 0);
	}
	return n;
}

static uint64_t
fuzz_sum(const uint64_t *v, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* Source totals as seen through the per-trunk counters. */
static void
fuzz_trunk_totals(const struct dp_worker *w, uint64_t *msgs, uint64_t *mal)
{
	uint32_t t;

	*msgs = 0;
	*mal = 0;
	for (t = 0; t < SG_TRUNK_SLOTS; t++) {
		*msgs += fuzz_sum(w->trunk[t].requests, SG_M_COUNT) +
			fuzz_sum(w->trunk[t].responses, SG_STATUS_COUNT);
		*mal += w->trunk[t].malformed;
		FUZZ_CHECK(w->trunk[t].invite_attempts <= w->trunk[t].requests[SG_M_INVITE]);
		FUZZ_CHECK(
			w->trunk[t].retransmissions <= fuzz_sum(w->trunk[t].requests, SG_M_COUNT) +
				fuzz_sum(w->trunk[t].responses, SG_STATUS_COUNT));
	}
}

/* Units so far: frames, rebuilt datagrams, messages cut from streams. */
static uint64_t
fuzz_units(const struct dp_worker *w)
{
	return w->src.packets + dp_frag_stats(w->frag)->reassembled +
		dp_streams_stats(w->streams)->messages;
}

static void
fuzz_frame(struct dp_worker *w, const uint8_t *frame, uint32_t len, uint64_t now_ms)
{
	struct sg_source_counters before = w->src;
	uint64_t d_drops, d_mal, d_msg, expected, tmsg, tmal, units;
	int is_udp;

	expected = fuzz_expected_messages(w, frame, len, &is_udp);
	units = fuzz_units(w);
	dp_worker_frame(w, frame, len, now_ms);

	FUZZ_CHECK(w->src.packets == before.packets + 1);
	FUZZ_CHECK(w->src.bytes == before.bytes + len);
	d_drops = fuzz_sum(w->src.drops, SG_DROP_COUNT) - fuzz_sum(before.drops, SG_DROP_COUNT);
	d_mal = w->src.sip_malformed - before.sip_malformed;
	d_msg = w->src.sip_messages - before.sip_messages;
	/* every unit in exactly one place */
	FUZZ_CHECK(d_drops + d_mal + d_msg == fuzz_units(w) - units);
	if (is_udp && fuzz_units(w) - units == 1) {
		FUZZ_CHECK(d_drops + d_mal + d_msg == 1);
		/* not a candidate (no trunk, no SIP port): no message counted at all */
		FUZZ_CHECK(d_msg == 0 || d_msg == expected);
		if (d_msg == 0 && expected > 0)
			FUZZ_CHECK(w->src.drops[SG_DROP_NOT_CANDIDATE] ==
				before.drops[SG_DROP_NOT_CANDIDATE] + 1);
	}
	fuzz_trunk_totals(w, &tmsg, &tmal);
	FUZZ_CHECK(tmsg == w->src.sip_messages);
	FUZZ_CHECK(tmal == w->src.sip_malformed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_worker *w;
	char err[256];
	size_t off = 1;
	uint64_t now_ms = 1700000000000ull;
	unsigned int n = 0;

	if (size < 1 || size > 262144)
		return 0;
	w = dp_worker_create(&fuzz_sh[data[0] & 1], &fuzz_cfg, fuzz_proto, 0, err, sizeof(err));
	if (w == NULL || w->trace == NULL) {
		fprintf(stderr, "fuzz_pipeline: %s\n", err);
		abort();
	}
	w->trace->ring = fuzz_trc_ring;
	w->trace->pool = fuzz_trc_pool;
	fuzz_n_in = 0;
	while (off < size && n < FUZZ_MAX_FRAMES) {
		size_t flen = size - off;
		uint8_t *frame;

		if (flen >= 2) {
			size_t want = ((size_t)data[off] << 8) | data[off + 1];

			off += 2;
			flen = want < size - off ? want : size - off;
		} else {
			off = size;
			break;
		}
		/* exact size: a read past the frame hits the red zone */
		frame = malloc(flen > 0 ? flen : 1);
		if (frame == NULL)
			break;
		memcpy(frame, data + off, flen);
		fuzz_in[fuzz_n_in] = data + off;
		fuzz_in_len[fuzz_n_in++] = (uint32_t)flen;
		fuzz_frame(w, frame, (uint32_t)flen, now_ms);
		fuzz_drain_traces(w);
		free(frame);
		off += flen;
		now_ms += 10;
		n++;
	}
	{
		/* the end of a capture hands on what the streams hold: still one place each */
		uint64_t units = fuzz_units(w);
		uint64_t out = fuzz_sum(w->src.drops, SG_DROP_COUNT) + w->src.sip_messages +
			w->src.sip_malformed;

		FUZZ_CHECK(out == units);
		dp_worker_finish(w);
		FUZZ_CHECK(fuzz_sum(w->src.drops, SG_DROP_COUNT) + w->src.sip_messages +
				w->src.sip_malformed ==
			fuzz_units(w));
		fuzz_drain_traces(w);
	}
	dp_worker_free(w);
	return 0;
}

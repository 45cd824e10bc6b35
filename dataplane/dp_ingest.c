/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ingest paths of a worker (see dp_ingest.h): fragments, TCP streams and
 * HEP, between the decoder and the worker's counting.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include "dp_ingest.h"
#include "dp_worker.h"

/*
 * Is `addr` inside one of the HEP agents' prefixes? A short list walked
 * per HEP packet: the agents are a handful of SBCs and proxies.
 */
static int
hep_agent_allowed(const struct dp_worker_shared *sh, uint8_t family, const uint8_t *addr)
{
	uint32_t i;

	for (i = 0; i < sh->n_hep_allow; i++) {
		const struct cfg_prefix *p = &sh->hep_allow[i];
		unsigned int full = p->depth / 8, rest = p->depth % 8;

		if (p->family != family || memcmp(p->addr, addr, full) != 0)
			continue;
		if (rest == 0 || ((addr[full] ^ p->addr[full]) & (uint8_t)(0xff00 >> rest)) == 0)
			return 1;
	}
	return 0;
}

/*
 * One HEP packet from an agent: decoded, its key checked, and its SIP
 * classified as a datagram seen on the wire between the inner addresses
 * at the capture time it carries. Returns 1 when the SIP was classified.
 * HEP is a way into the policy (a forged 503 could pause a trunk), so
 * anything not from an allowed agent with the right key is counted and
 * dropped before it is parsed.
 */
static int
worker_hep(struct dp_worker *w, uint8_t family, const uint8_t *agent, const uint8_t *p,
	uint32_t len, int datagram, uint64_t now_ms)
{
	const struct dp_worker_shared *sh = w->sh;
	enum dp_hep_res res;
	struct dp_pkt in;
	struct dp_hep h;
	enum dp_dir dir;
	uint32_t trunk;
	int sip_port;

	if (!hep_agent_allowed(sh, family, agent)) {
		w->src.hep_refused_agent++;
		return -1;
	}
	res = dp_hep_parse(p, len, &h);
	/* a UDP datagram is one HEPv3 packet: bytes after it are not ours */
	if (res == DP_HEP_OK && datagram && h.version == 3 && h.hep_len != len)
		res = DP_HEP_BAD;
	if (res != DP_HEP_OK && res != DP_HEP_NOT_SIP && res != DP_HEP_COMPRESSED) {
		w->src.hep_bad++;
		return 0;
	}
	/* the key first: an outsider learns nothing from what is counted */
	if (sh->hep_auth_len != 0 &&
		(h.auth == NULL || h.auth_len != sh->hep_auth_len ||
			memcmp(h.auth, sh->hep_auth, sh->hep_auth_len) != 0)) {
		w->src.hep_refused_auth++;
		return -1;
	}
	if (res == DP_HEP_NOT_SIP) {
		w->src.hep_not_sip++;
		return 0;
	}
	if (res == DP_HEP_COMPRESSED) {
		/* inflating is not a packet-path job: counted, not read */
		w->src.hep_compressed++;
		return 0;
	}
	w->src.hep_accepted++;
	memset(&in, 0, sizeof(in));
	in.family = h.family;
	in.proto = IPPROTO_UDP; /* one whole message, whatever carried it */
	memcpy(in.src, h.src, sizeof(in.src));
	memcpy(in.dst, h.dst, sizeof(in.dst));
	in.sport = h.sport;
	in.dport = h.dport;
	in.payload = h.payload;
	in.payload_len = h.payload_len;
	if (h.time_us != 0)
		now_ms = h.time_us / 1000;
	trunk = dp_trunks_lookup(w->trunks, &in, &dir);
	sip_port = dp_worker_sip_port(w, in.sport) || dp_worker_sip_port(w, in.dport);
	if (trunk == SG_UNMATCHED && !sip_port) {
		w->src.drops[SG_DROP_NOT_CANDIDATE]++;
		return 1;
	}
	dp_worker_datagram(w, &in, trunk, dir, sip_port, now_ms);
	return 1;
}

/*
 * A whole message cut from a TCP stream (dp_stream): SIP, or a HEP
 * packet when the stream is to the HEP port. Counted at once, in stream
 * order, at the packet time of the segment that completed it.
 */
void
dp_ingest_deliver(void *arg, const struct dp_stream_tuple *t, const uint8_t *msg, uint32_t len,
	uint32_t seq, uint64_t now_ms)
{
	struct dp_worker *w = arg;
	struct dp_trace_span span;
	struct dp_pkt pkt;
	enum dp_dir dir;
	uint32_t trunk;

	if (w->sh->hep_port != 0 && t->dport == w->sh->hep_port) {
		/* a HEP packet is a unit too: it lands in one place */
		int r = worker_hep(w, t->family, t->src, msg, len, 0, now_ms);

		if (r < 0)
			w->src.drops[SG_DROP_HEP_REFUSED]++;
		else if (r == 0)
			w->src.drops[SG_DROP_HEP_BAD]++;
		return;
	}
	memset(&pkt, 0, sizeof(pkt));
	pkt.family = t->family;
	pkt.proto = IPPROTO_TCP;
	memcpy(pkt.src, t->src, sizeof(pkt.src));
	memcpy(pkt.dst, t->dst, sizeof(pkt.dst));
	pkt.sport = t->sport;
	pkt.dport = t->dport;
	trunk = dp_trunks_lookup(w->trunks, &pkt, &dir);
	span.flow = w->trace != NULL
		? dp_trace_flow_tcp(t->family, t->src, t->dst, t->sport, t->dport)
		: 0;
	span.lo = seq;
	span.hi = seq + len;
	span.all = 0;
	dp_worker_message(w, &pkt, msg, len, trunk, dir, &span, now_ms);
}

/*
 * A TCP segment of a SIP (or HEP) flow goes to the worker's stream
 * reassembler, which hands on whole messages in stream order, once each,
 * whatever the segmentation, loss or reordering on the wire.
 */
void
dp_ingest_tcp(
	struct dp_worker *w, const struct dp_pkt *pkt, enum dp_stream_kind kind, uint64_t now_ms)
{
	struct dp_stream_tuple t;

	dp_worker_flush(w);
	t.family = pkt->family;
	memcpy(t.src, pkt->src, sizeof(t.src));
	memcpy(t.dst, pkt->dst, sizeof(t.dst));
	t.sport = pkt->sport;
	t.dport = pkt->dport;
	if (pkt->payload_len == 0)
		w->src.drops[SG_DROP_NO_PAYLOAD]++;
	else
		w->src.drops[SG_DROP_TCP_STREAMED]++;
	/*
	 * A segment with SIP bytes is held for the messages it carries
	 * (the stream's sequence numbers say which); one rebuilt from
	 * fragments is not a frame of its own.
	 */
	if (w->trace != NULL && kind == DP_STREAM_SIP && pkt->payload_len != 0 &&
		pkt->payload >= w->tr_frame && pkt->payload < w->tr_frame + w->tr_len) {
		uint32_t lo = pkt->tcp_seq + ((pkt->tcp_flags & DP_TCP_SYN) ? 1 : 0);

		dp_trace_hold(w->trace, w->tr_frame, w->tr_len,
			dp_trace_flow_tcp(t.family, t.src, t.dst, t.sport, t.dport), lo,
			lo + pkt->payload_len, w->tr_us);
	}
	dp_streams_segment(w->streams, &t, pkt->tcp_seq, pkt->tcp_flags, pkt->payload,
		pkt->payload_len, kind, now_ms, dp_ingest_deliver, w);
}

/*
 * An IP fragment (of the frame's own IP packet, or of one inside an
 * encapsulation) goes to the worker's reassembly table. The datagram it
 * completes is decoded from its IP header and counted at once, at this
 * fragment's packet time.
 */
void
dp_ingest_fragment(
	struct dp_worker *w, const uint8_t *buf, const struct dp_pkt *pkt, uint64_t now_ms)
{
	struct dp_trace_span span = { .all = 1 };
	enum dp_decode_res res;
	struct dp_pkt in;
	uint32_t n;

	w->src.drops[SG_DROP_FRAGMENT]++;
	dp_worker_flush(w);
	/* every fragment is held, under its datagram's key, for its message */
	if (w->trace != NULL && buf == w->tr_frame) {
		span.flow = dp_trace_flow_frag(
			buf + pkt->l3_off, pkt->l3_len, pkt->family, pkt->v6_frag_off);
		dp_trace_hold(w->trace, w->tr_frame, w->tr_len, span.flow, 0, 0, w->tr_us);
	}
	n = dp_frag_input(w->frag, buf + pkt->l3_off, pkt->l3_len, pkt->family, pkt->l3_hlen,
		pkt->v6_frag_off, now_ms, w->frag_buf, sizeof(w->frag_buf));
	if (n == 0)
		return;
	res = dp_decode_ip(w->frag_buf, n, &w->dec, pkt->depth, &in);
	w->tr_span = span.flow != 0 ? &span : NULL;
	dp_worker_decoded(w, w->frag_buf, res, &in, now_ms, 0);
	w->tr_span = NULL;
}

/*
 * A UDP datagram or TCP segment to the HEP port. UDP: one HEP packet,
 * which lands in one place (its message, or a drop). TCP: the agent is
 * checked before its bytes may take a stream buffer; the stream then
 * hands on whole HEP packets (dp_ingest_deliver).
 */
void
dp_ingest_hep(struct dp_worker *w, const struct dp_pkt *pkt, uint64_t now_ms)
{
	if (pkt->proto == IPPROTO_TCP) {
		if (!hep_agent_allowed(w->sh, pkt->family, pkt->src)) {
			w->src.hep_refused_agent++;
			w->src.drops[SG_DROP_HEP_REFUSED]++;
			return;
		}
		dp_ingest_tcp(w, pkt, DP_STREAM_HEP, now_ms);
		return;
	}
	dp_worker_flush(w);
	switch (worker_hep(w, pkt->family, pkt->src, pkt->payload, pkt->payload_len, 1, now_ms)) {
	case 1:
		return; /* its message landed */
	case 0:
		w->src.drops[SG_DROP_HEP_BAD]++;
		return;
	default:
		w->src.drops[SG_DROP_HEP_REFUSED]++;
		return;
	}
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker pipeline (see dp_worker.h). The per-message path is
 * dp_sip_parse -> dp_retrans_check -> a handful of increments; the rest of
 * this file is mapping results to the counter that explains them, so that
 * every packet is accounted for exactly once.
 *
 * A burst is taken in two passes: the first decodes, parses and hashes
 * each datagram's message and prefetches its retransmission set; the
 * second checks and counts them, by which time the sets are in cache.
 * The table is far larger than the cache, so without this every message
 * waited for a memory load. Anything that must be counted in order with
 * what came before (a TCP segment, a frame copied to the bounce buffer,
 * a new second offline) first counts what is pending.
 *
 * The live loop, the slots of packet time and publication to the control
 * plane are in dp_worker_loop.c.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <time.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "dp_ingest.h"
#include "dp_worker.h"
#include "dp_worker_loop.h"

void
dp_worker_shared_init(struct dp_worker_shared *sh, const struct sg_config *cfg)
{
	uint32_t i;

	memset(sh->sip_port, 0, sizeof(sh->sip_port));
	for (i = 0; i < cfg->dp.n_sip_ports; i++) {
		uint16_t p = cfg->dp.sip_ports[i];

		sh->sip_port[p / 8] |= (uint8_t)(1u << (p % 8));
	}
	sh->ts_dynfield = -1;
	sh->ts_dynflag = 0;
	sh->parser = (enum sg_parser)cfg->dp.parser;
	sh->dec.max_depth = (uint8_t)cfg->decap.max_depth;
	sh->dec.vxlan_port = cfg->decap.vxlan_port;
	sh->hep_port = cfg->hep.port;
	sh->n_hep_allow = cfg->hep.n_allow;
	memcpy(sh->hep_allow, cfg->hep.allow, sizeof(sh->hep_allow));
	snprintf(sh->hep_auth, sizeof(sh->hep_auth), "%s", cfg->hep.auth_key);
	sh->hep_auth_len = (uint16_t)strlen(sh->hep_auth);
}

static int worker_sip_frame(void *arg, const uint8_t *p, uint32_t len, uint32_t *n);

struct dp_worker *
dp_worker_create(const struct dp_worker_shared *sh, const struct sg_config *cfg,
	hs_scratch_t *proto_scratch, int socket_id, char *err, size_t errlen)
{
	struct dp_worker *w;

	w = rte_zmalloc_socket("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket_id);
	if (w == NULL) {
		snprintf(err, errlen, "worker: out of memory (%zu bytes)", sizeof(*w));
		return NULL;
	}
	w->sh = sh;
	w->trunks = sh->trunks;
	w->diag = sh->diag;
	w->rt = dp_retrans_create(
		cfg->dp.retrans_entries, cfg->dp.retrans_window_s * 1000, socket_id);
	if (w->rt == NULL) {
		snprintf(err, errlen, "worker: cannot allocate %u retransmission entries",
			cfg->dp.retrans_entries);
		goto fail;
	}
	w->dlg = dp_dialogs_create(cfg->dp.dialog_entries, cfg->dp.dialog_timeout_s, socket_id);
	if (w->dlg == NULL) {
		snprintf(err, errlen, "worker: cannot allocate %u dialog entries",
			cfg->dp.dialog_entries);
		goto fail;
	}
	w->frag = dp_frag_create(cfg->frag.entries, cfg->frag.timeout_ms, socket_id, err, errlen);
	if (w->frag == NULL)
		goto fail;
	{
		struct dp_streams_cfg sc = {
			.flows = cfg->streams.flows,
			.buffers = cfg->streams.buffers,
			.buffer_size = cfg->streams.buffer_size,
			.idle_ms = cfg->streams.idle_timeout_s * 1000,
			.gap_ms = cfg->streams.gap_timeout_ms,
			.sip_frame = worker_sip_frame,
		};

		w->streams = dp_streams_create(&sc, socket_id, err, errlen);
		if (w->streams == NULL)
			goto fail;
	}
	w->dec = sh->dec;
	w->dec.link = sh->link;
	if (sh->record && cfg->traces.recorder_frames > 0) {
		struct dp_trace_cfg tc = {
			.frames = cfg->traces.recorder_frames,
			.frame_bytes = cfg->traces.frame_bytes,
			.sample_per_s = cfg->traces.sample_per_s,
			.linger_ms = cfg->traces.linger_ms,
			.linktype = (uint16_t)sh->link,
		};

		w->trace = dp_trace_create(&tc, socket_id, err, errlen);
		if (w->trace == NULL)
			goto fail;
	}
	if (hs_clone_scratch(proto_scratch, &w->scratch) != HS_SUCCESS) {
		snprintf(err, errlen, "worker: cannot clone Hyperscan scratch");
		goto fail;
	}
	if (sh->diag_proto != NULL &&
		hs_clone_scratch(sh->diag_proto, &w->diag_scratch) != HS_SUCCESS) {
		snprintf(err, errlen, "worker: cannot clone the diagnosis scratch");
		goto fail;
	}
	w->tsc_hz = rte_get_tsc_hz();
	w->tsc_base = rte_rdtsc();
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		w->wall_base_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	}
	w->tsc_start = w->tsc_base;
	w->wall_start_ms = w->wall_base_ms;
	w->next_tick_ms = UINT64_MAX;
	return w;
fail:
	dp_worker_free(w);
	return NULL;
}

void
dp_worker_free(struct dp_worker *w)
{
	if (w == NULL)
		return;
	if (w->scratch != NULL)
		hs_free_scratch(w->scratch);
	if (w->diag_scratch != NULL)
		hs_free_scratch(w->diag_scratch);
	dp_retrans_free(w->rt);
	dp_dialogs_free(w->dlg);
	dp_frag_free(w->frag);
	dp_streams_free(w->streams);
	dp_trace_free(w->trace);
	rte_free(w);
}

static inline int
is_sip_port(const struct dp_worker_shared *sh, uint16_t port)
{
	return (sh->sip_port[port / 8] >> (port % 8)) & 1;
}

/* Hand a 5xx/6xx answer to an INVITE to the control plane; drops counted. */
static void
emit_event(struct dp_worker *w, uint32_t trunk, const struct dp_sip_msg *m, uint64_t now_ms,
	enum sg_diag_class cls, uint16_t rule)
{
	struct sg_event *e;
	void *obj;

	if (rte_mempool_get(w->ln.evt_pool, &obj) != 0) {
		w->ln.stats->evt_pool_empty++;
		return;
	}
	e = obj;
	e->time_ns = now_ms * 1000000;
	e->trunk = trunk;
	e->status = m->status;
	e->reason_proto = m->reason_proto;
	e->reason_cause = m->reason_cause;
	e->retry_after = m->retry_after;
	e->oc = m->oc;
	e->oc_algo = m->oc_algo;
	e->oc_validity = m->oc_validity;
	e->oc_seq_us = m->oc_seq_us;
	e->call_id_len = (uint16_t)RTE_MIN(m->call_id.len, (uint32_t)SG_CALL_ID_MAX);
	memcpy(e->call_id, m->call_id.p, e->call_id_len);
	e->diag_class = (uint8_t)cls;
	e->diag_rule = rule == SG_DIAG_NO_RULE ? 0 : (uint16_t)(rule + 1);
	if (rte_ring_sp_enqueue(w->ln.evt_ring, e) != 0) {
		rte_mempool_put(w->ln.evt_pool, e);
		w->ln.stats->evt_ring_full++;
		return;
	}
	w->ln.stats->events++;
}

/* Count one classified message, whose identity is `key`, against its trunk. */
static inline void
count_keyed(struct dp_worker *w, uint32_t trunk, enum dp_dir dir, const struct dp_sip_msg *m,
	const struct dp_retrans_key *key, const struct dp_dialog_key *dkey, uint64_t now_ms)
{
	struct sg_trunk_counters *tc = &w->trunk[trunk];
	int retrans;

	w->src.sip_messages++;
	w->dirty[trunk / 64] |= 1ull << (trunk % 64);
	retrans = dp_retrans_check(w->rt, key, now_ms);
	tc->retransmissions += (uint64_t)retrans;
	if (!retrans)
		dp_dialogs_message_key(w->dlg, dkey, trunk, now_ms, w->trunk);
	/*
	 * Unmatched traffic has no trunk to be "toward" or "from", so its
	 * attempts and finals are counted whatever the direction.
	 */
	if (m->is_request) {
		tc->requests[m->method]++;
		if (!retrans && m->method == SG_M_INVITE &&
			(dir == DP_DIR_TO_TRUNK || trunk == SG_UNMATCHED))
			tc->invite_attempts++;
	} else {
		tc->responses[m->status - SG_STATUS_MIN]++;
		if (!retrans && m->status >= 200 && m->cseq_method == SG_M_INVITE &&
			(dir == DP_DIR_FROM_TRUNK || trunk == SG_UNMATCHED)) {
			tc->invite_final[m->status - SG_STATUS_MIN]++;
			if (m->status >= 400) {
				/* the rare answers that say why a call failed: one scan */
				uint16_t rule;
				/* rules compiled by a reload bring a scratch per worker */
				hs_scratch_t *scr = dp_diag_worker_scratch(w->diag, w->index);
				enum sg_diag_class cls = dp_diag_classify(w->diag,
					scr != NULL ? scr : w->diag_scratch, &w->diag_scan, trunk,
					m->base, m->hdr_len, &rule);

				tc->diagnosis[cls]++;
				if (m->status >= 500 && w->trace != NULL)
					dp_trace_failed(w->trace, m, trunk, now_ms);
				if (m->status >= 500 && w->ln.evt_ring != NULL) {
					emit_event(w, trunk, m, now_ms, cls, rule);
					return;
				}
			}
		}
		/*
		 * RFC 7339 lets any response carry overload control: a carrier
		 * may signal it in its 180s and 200s. Those become events only
		 * when the parameters change, so a carrier that repeats them in
		 * every answer costs a compare, not an event per call.
		 */
		if (unlikely(m->oc >= 0) && !retrans && dir == DP_DIR_FROM_TRUNK &&
			w->ln.evt_ring != NULL) {
			uint64_t oc_key = ((uint64_t)(uint32_t)m->oc << 40) ^ m->oc_seq_us ^
				((uint64_t)m->oc_algo << 32) ^ (uint64_t)(uint32_t)m->oc_validity;

			if (oc_key != w->last_oc[trunk]) {
				w->last_oc[trunk] = oc_key;
				emit_event(
					w, trunk, m, now_ms, SG_DIAG_UNCLASSIFIED, SG_DIAG_NO_RULE);
			}
		}
	}
}

static inline void
count_message(struct dp_worker *w, uint32_t trunk, enum dp_dir dir, const struct dp_sip_msg *m,
	uint64_t now_ms)
{
	struct dp_retrans_key key;
	struct dp_dialog_key dkey;

	dp_retrans_key(m, dir, trunk, &key);
	dp_dialogs_key(m, &dkey);
	count_keyed(w, trunk, dir, m, &key, &dkey, now_ms);
}

/* The second pass: count what the first pass parsed, in arrival order. */
static void
flush_pending(struct dp_worker *w)
{
	uint32_t i;

	for (i = 0; i < w->n_pending; i++) {
		const struct dp_worker_pending *p = &w->pending[i];

		count_keyed(w, p->trunk, (enum dp_dir)p->dir, &p->m, &p->key, &p->dkey, p->now_ms);
	}
	w->n_pending = 0;
}

static inline void
count_malformed(struct dp_worker *w, uint32_t trunk)
{
	w->dirty[trunk / 64] |= 1ull << (trunk % 64);
	w->src.sip_malformed++;
	w->trunk[trunk].malformed++;
}

/*
 * The smallest valid SIP message (a start line and the mandatory
 * headers) is well over this; UDP datagrams below it that are not SIP are
 * the keep-alive pings real user agents send ("hello", a few spaces, NULs).
 */
#define DP_KEEPALIVE_MAX 32

static inline uint32_t
skip_blank(const uint8_t *p, uint32_t off, uint32_t len)
{
	while (off < len &&
		(p[off] == '\r' || p[off] == '\n' || p[off] == ' ' || p[off] == '\t' ||
			p[off] == '\0'))
		off++;
	return off;
}

/*
 * Off the SIP ports, a trunk peer's packets are mostly media: only what
 * starts like SIP is SIP there, and the rest is not malformed SIP.
 */
static inline void
count_not_sip(struct dp_worker *w, uint32_t trunk, int on_sip_port)
{
	if (on_sip_port)
		count_malformed(w, trunk);
	else
		w->src.drops[SG_DROP_PEER_NOT_SIP]++;
}

/* The configured engine; both give the same result (dp_sip.h). */
static inline enum dp_sip_res
worker_parse(struct dp_worker *w, const uint8_t *p, uint32_t len, struct dp_sip_msg *m)
{
	if (likely(w->sh->parser == SG_PARSER_LINEWALK))
		return dp_sip_parse(p, len, m);
	return dp_sip_parse_hs(w->sh->db, w->scratch, p, len, m);
}

/*
 * Into the flight recorder, in arrival order: the frame being worked, if
 * the message is its own datagram; a datagram rebuilt from fragments
 * claims the fragments held for it.
 */
static inline void
trace_record(struct dp_worker *w, const struct dp_pkt *pkt, const struct dp_sip_msg *m,
	uint32_t trunk, uint64_t now_ms)
{
	if (likely(pkt->payload >= w->tr_frame && pkt->payload < w->tr_frame + w->tr_len))
		dp_trace_record(w->trace, w->tr_frame, w->tr_len, pkt, m, trunk, now_ms, w->tr_us);
	else if (w->tr_span != NULL)
		dp_trace_claim(w->trace, w->tr_span, pkt, m, trunk, now_ms);
	else
		w->trace->stats->unframed++;
}

/*
 * Deferred (the first pass of a burst): the message is parsed into the
 * next pending slot and counted by flush_pending. Malformed and non-SIP
 * datagrams are counted at once: they touch no table, so their order
 * against pending messages changes no counter.
 */
static void
classify_udp(struct dp_worker *w, const struct dp_pkt *pkt, uint32_t trunk, enum dp_dir dir,
	int on_sip_port, uint64_t now_ms, int defer)
{
	uint32_t off = skip_blank(pkt->payload, 0, pkt->payload_len);
	struct dp_worker_pending *p = NULL;
	enum dp_sip_res res;
	struct dp_sip_msg one;
	struct dp_sip_msg *m = &one;

	if (off == pkt->payload_len) {
		w->src.drops[SG_DROP_NO_PAYLOAD]++;
		return;
	}
	if (defer) {
		if (w->n_pending == DP_WORKER_PENDING)
			flush_pending(w);
		p = &w->pending[w->n_pending];
		m = &p->m;
	}
	/* a datagram is one message: Content-Length does not split it */
	res = worker_parse(w, pkt->payload + off, pkt->payload_len - off, m);
	if (res == DP_SIP_OK && w->trace != NULL)
		trace_record(w, pkt, m, trunk, now_ms);
	if (res == DP_SIP_OK && defer) {
		dp_retrans_key(m, dir, trunk, &p->key);
		dp_retrans_prefetch(w->rt, &p->key);
		dp_dialogs_key(m, &p->dkey);
		dp_dialogs_prefetch(w->dlg, &p->dkey);
		p->now_ms = now_ms;
		p->trunk = trunk;
		p->dir = dir;
		w->n_pending++;
	} else if (res == DP_SIP_OK)
		count_message(w, trunk, dir, m, now_ms);
	else if (pkt->payload_len - off < DP_KEEPALIVE_MAX)
		w->src.drops[SG_DROP_NO_PAYLOAD]++;
	else if (res == DP_SIP_NO_START_LINE)
		count_not_sip(w, trunk, on_sip_port);
	else
		count_malformed(w, trunk);
}

/*
 * What the ingest paths (dp_ingest.c: fragments, TCP streams, HEP) call
 * back into: the same counting the datagram path uses, out of line.
 */
void
dp_worker_flush(struct dp_worker *w)
{
	flush_pending(w);
}

void
dp_worker_datagram(struct dp_worker *w, const struct dp_pkt *pkt, uint32_t trunk, enum dp_dir dir,
	int on_sip_port, uint64_t now_ms)
{
	classify_udp(w, pkt, trunk, dir, on_sip_port, now_ms, 0);
}

void
dp_worker_message(struct dp_worker *w, const struct dp_pkt *pkt, const uint8_t *msg, uint32_t len,
	uint32_t trunk, enum dp_dir dir, const struct dp_trace_span *span, uint64_t now_ms)
{
	const struct dp_sip_msg *m = &w->framed;
	struct dp_sip_msg one;

	if (msg == w->framed_p && len == w->framed_len) {
		/* parsed when the stream framed it (dp_worker_sip_frame) */
		w->framed_p = NULL;
	} else if (worker_parse(w, msg, len, &one) == DP_SIP_OK) {
		m = &one;
	} else {
		count_malformed(w, trunk);
		return;
	}
	/* the segments it came in join its call before it is counted */
	if (w->trace != NULL)
		dp_trace_claim(w->trace, span, pkt, m, trunk, now_ms);
	count_message(w, trunk, dir, m, now_ms);
}

/*
 * The stream reassembler's SIP framer (struct dp_streams_cfg): the
 * worker's own parser finds the end of the header section and reads
 * Content-Length with the same vector walk it runs on datagrams, and the
 * parsed message is kept for its delivery, which follows at once. What it
 * does not accept as a message (not a start line, no Call-ID, ...) it
 * leaves to the module's framer, which frames it or re-synchronises.
 */
static int
worker_sip_frame(void *arg, const uint8_t *p, uint32_t len, uint32_t *n)
{
	struct dp_worker *w = arg;

	switch (worker_parse(w, p, len, &w->framed)) {
	case DP_SIP_OK:
		*n = w->framed.hdr_len +
			(w->framed.content_length > 0 ? (uint32_t)w->framed.content_length : 0);
		w->framed_p = *n <= len ? p : NULL;
		w->framed_len = *n;
		return 1;
	case DP_SIP_TRUNCATED:
		return 0;
	default:
		w->framed_p = NULL;
		return -1;
	}
}

int
dp_worker_sip_port(const struct dp_worker *w, uint16_t port)
{
	return is_sip_port(w->sh, port);
}

static inline void
count_decap(struct dp_worker *w, uint8_t mask)
{
	w->src.decap_vxlan += (mask & DP_ENCAP_VXLAN) != 0;
	w->src.decap_gre += (mask & DP_ENCAP_GRE) != 0;
	w->src.decap_erspan += (mask & DP_ENCAP_ERSPAN) != 0;
	w->src.decap_ipip += (mask & DP_ENCAP_IPIP) != 0;
	w->src.decap_pptp += (mask & DP_ENCAP_PPTP) != 0;
}

/*
 * One unit decoded: a frame, or a datagram rebuilt from fragments
 * (`buf` is what was decoded; pkt's offsets are relative to it). It
 * lands in exactly one place (sg_drop or a message).
 */
void
dp_worker_decoded(struct dp_worker *w, const uint8_t *buf, enum dp_decode_res res,
	const struct dp_pkt *pkt, uint64_t now_ms, int defer)
{
	const struct dp_worker_shared *sh = w->sh;
	enum dp_dir dir;
	uint32_t trunk;
	int sip_port;

	if (unlikely(pkt->encap_mask != 0))
		count_decap(w, pkt->encap_mask);
	switch (res) {
	case DP_DEC_OK:
		break;
	case DP_DEC_NOT_IP:
		w->src.drops[SG_DROP_NOT_IP]++;
		return;
	case DP_DEC_L2_UNSUPPORTED:
		w->src.drops[SG_DROP_L2_UNSUPPORTED]++;
		return;
	case DP_DEC_L4_UNSUPPORTED:
		w->src.drops[SG_DROP_L4_UNSUPPORTED]++;
		return;
	case DP_DEC_FRAGMENT:
		dp_ingest_fragment(w, buf, pkt, now_ms);
		return;
	case DP_DEC_TRUNCATED:
		w->src.drops[SG_DROP_TRUNCATED]++;
		return;
	case DP_DEC_TOO_DEEP:
		w->src.drops[SG_DROP_TOO_DEEP]++;
		return;
	default:
		w->src.drops[SG_DROP_BAD_HEADER]++;
		return;
	}
	if (unlikely(pkt->dport == sh->hep_port) && sh->hep_port != 0) {
		dp_ingest_hep(w, pkt, now_ms);
		return;
	}
	trunk = dp_trunks_lookup(w->trunks, pkt, &dir);
	sip_port = is_sip_port(sh, pkt->sport) || is_sip_port(sh, pkt->dport);
	if (trunk == SG_UNMATCHED && !sip_port) {
		w->src.drops[SG_DROP_NOT_CANDIDATE]++;
		return;
	}
	if (pkt->proto == IPPROTO_UDP)
		classify_udp(w, pkt, trunk, dir, sip_port, now_ms, defer);
	else
		dp_ingest_tcp(w, pkt, DP_STREAM_SIP, now_ms);
}

static inline void
worker_frame(struct dp_worker *w, const uint8_t *frame, uint32_t len, uint64_t now_ms, int defer)
{
	struct dp_pkt pkt;
	enum dp_decode_res res;

	w->src.packets++;
	w->src.bytes += len;
	w->last_ms = now_ms;
	w->tr_frame = frame;
	w->tr_len = len;
	w->tr_us = now_ms * 1000;
	res = dp_decode_cfg(frame, len, &w->dec, &pkt);
	dp_worker_decoded(w, frame, res, &pkt, now_ms, defer);
}

void
dp_worker_frame(struct dp_worker *w, const uint8_t *frame, uint32_t len, uint64_t now_ms)
{
	flush_pending(w);
	worker_frame(w, frame, len, now_ms, 0);
	dp_worker_tick(w, now_ms);
}

void
dp_worker_tick(struct dp_worker *w, uint64_t now_ms)
{
	flush_pending(w);
	dp_frag_tick(w->frag, now_ms);
	dp_streams_tick(w->streams, now_ms, dp_ingest_deliver, w);
	w->last_tick_ms = now_ms;
}

void
dp_worker_finish(struct dp_worker *w)
{
	flush_pending(w);
	dp_streams_flush(w->streams, w->last_ms, dp_ingest_deliver, w);
	dp_worker_sync_stats(w);
}

void
dp_worker_sync_stats(struct dp_worker *w)
{
	const struct dp_frag_stats *f = dp_frag_stats(w->frag);
	const struct dp_streams_stats *t = dp_streams_stats(w->streams);
	struct sg_source_counters *s = &w->src;

	s->frag_reassembled = f->reassembled;
	s->frag_timed_out = f->timed_out;
	s->frag_no_space = f->no_space;
	s->frag_bad = f->bad;
	s->frag_duplicates = f->duplicates;
	s->frag_no_mbuf = f->no_mbuf;
	s->frag_too_big = f->too_big;
	s->tcp_flows = t->flows_opened;
	s->tcp_flows_evicted = t->flows_evicted;
	s->tcp_flows_expired = t->flows_expired;
	s->tcp_flows_reused = t->flows_reused;
	s->tcp_out_of_order = t->out_of_order;
	s->tcp_retransmitted = t->retransmitted;
	s->tcp_gaps = t->gaps;
	s->tcp_gap_bytes = t->gap_bytes;
	s->tcp_resyncs = t->resyncs;
	s->tcp_resync_bytes = t->resync_bytes;
	s->tcp_no_buffer = t->no_buffer;
	s->tcp_out_of_window = t->out_of_window;
	s->tcp_oversize = t->oversize;
}

/*
 * Packet time in wall-clock ms: offline, the capture's own time (so tables
 * age by the capture's clock); live, the port's timestamp if it gives one,
 * else the TSC read once per burst.
 */
static inline uint64_t
packet_us(const struct dp_worker *w, const struct rte_mbuf *m, uint64_t tsc_us)
{
	if (w->pkt_times != NULL) {
		uint64_t i = w->src.packets;

		return w->pkt_times[i < w->n_pkt_times ? i : w->n_pkt_times - 1];
	}
	/* the pcap PMD's (and a NIC's) receive time, µs */
	if (w->sh->ts_dynfield >= 0 && (m->ol_flags & w->sh->ts_dynflag))
		return *RTE_MBUF_DYNFIELD(m, w->sh->ts_dynfield, rte_mbuf_timestamp_t *);
	return tsc_us;
}

/*
 * A NIC leaves a frame in L3 at best (DMA with DDIO), and the worker
 * reads most of its first 600 bytes: the SIP header section. Its first
 * 8 lines are prefetched three frames ahead (the hardware's streamer
 * follows on). Measured on the ring port of scripts/bench, which hands
 * out frames as a NIC does: 420 -> 360 cycles per packet (1 line 1
 * ahead -> 10 lines 3 ahead), and 8 lines about 6 better than 10 or 6;
 * 4-6 frames ahead, prefetching into L2 only, or a second nearer pass
 * did no better. All 8 are prefetched whatever the frame's length (a
 * prefetch never faults, and the mbuf's buffer is longer): the length
 * checks cost more, about 5 cycles. The first frames of a burst are
 * prefetched by the tail of the one before (`next`), about 10 cycles.
 * On the pcap port, whose replay has just copied the frame into L1, the
 * prefetches cost a few cycles.
 */
#define DP_PREFETCH_AHEAD 3
#define DP_PREFETCH_LINES 8

static inline void
prefetch_frame(const struct rte_mbuf *m)
{
	const char *p = rte_pktmbuf_mtod(m, const char *);
	unsigned int i;

	for (i = 0; i < DP_PREFETCH_LINES; i++)
		rte_prefetch0(p + i * RTE_CACHE_LINE_SIZE);
}

/*
 * A tunnelled frame whose inner address pair another worker owns goes to
 * that worker's ring (dp_steer.h); it is counted there. Returns 1 when
 * handed over.
 */
static inline int
steer_away(
	struct dp_worker *w, struct rte_mbuf *m, const struct dp_pkt *pkt, enum dp_decode_res res)
{
	struct dp_steer *st = w->steer;
	uint32_t to;

	if (st == NULL || (res != DP_DEC_OK && res != DP_DEC_FRAGMENT))
		return 0;
	to = dp_steer_owner(pkt, st->n_workers);
	if (to == w->index)
		return 0;
	if (unlikely(rte_ring_sp_enqueue(st->ring[w->index][to], m) != 0)) {
		w->src.steer_full++;
		return 0;
	}
	w->src.steered_out++;
	return 1;
}

/*
 * The burst's frames, in order; `steered`: they came from the other
 * workers' steering rings (counted as steered in, never steered again).
 * Steered-away mbufs leave the array (NULL): the ring owns them now.
 */
static inline void
worker_burst(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n, struct rte_mbuf *const *next,
	uint16_t n_next, int steered)
{
	/* no receive time from the port: the poll's, one per burst */
	uint64_t tsc_us =
		w->wall_base_ms * 1000 + (rte_rdtsc() - w->tsc_base) * 1000000 / w->tsc_hz;
	uint64_t now, us;
	uint16_t i;

	for (i = w->ahead; i < n && i < DP_PREFETCH_AHEAD; i++)
		prefetch_frame(pkts[i]);
	/* what the tail of this burst prefetches of the next */
	w->ahead = n >= DP_PREFETCH_AHEAD ? RTE_MIN(n_next, (uint16_t)DP_PREFETCH_AHEAD) : 0;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const uint8_t *data;
		uint32_t a = (uint32_t)i + DP_PREFETCH_AHEAD;
		struct dp_pkt pkt;
		enum dp_decode_res res;

		if (a < n)
			prefetch_frame(pkts[a]);
		else if (a - n < n_next)
			prefetch_frame(next[a - n]);
		if (unlikely(m->pkt_len > DP_WORKER_BOUNCE)) {
			w->src.packets++;
			w->src.bytes += m->pkt_len;
			w->src.drops[SG_DROP_MULTISEG]++;
			continue;
		}
		/* contiguous: a pointer into the mbuf; chained: copied once */
		data = rte_pktmbuf_read(m, 0, m->pkt_len, w->bounce);
		us = packet_us(w, m, tsc_us);
		now = us / 1000;
		if (unlikely(now >= w->next_tick_ms))
			dp_worker_slot(w, now);
		res = dp_decode_cfg(data, m->pkt_len, &w->dec, &pkt);
		if (steered)
			w->src.steered_in++;
		else if (unlikely(pkt.encap_mask != 0) && steer_away(w, m, &pkt, res)) {
			pkts[i] = NULL;
			continue;
		}
		w->src.packets++;
		w->src.bytes += m->pkt_len;
		w->last_ms = now;
		w->tr_frame = data;
		w->tr_len = m->pkt_len;
		w->tr_us = us;
		dp_worker_decoded(w, data, res, &pkt, now, 1);
		/* the next chained frame reuses the bounce buffer */
		if (unlikely(data == w->bounce))
			flush_pending(w);
	}
	flush_pending(w);
	/* NULL entries (steered away) are skipped */
	rte_pktmbuf_free_bulk(pkts, n);
	dp_worker_tick(w, w->last_ms);
}

void
dp_worker_burst(struct dp_worker *w, struct rte_mbuf **pkts, uint16_t n,
	struct rte_mbuf *const *next, uint16_t n_next)
{
	worker_burst(w, pkts, n, next, n_next, 0);
}

unsigned int
dp_worker_steered(struct dp_worker *w)
{
	struct dp_steer *st = w->steer;
	struct rte_mbuf *pkts[64];
	unsigned int from, n, total = 0;

	for (from = 0; from < st->n_workers; from++) {
		if (from == w->index)
			continue;
		n = rte_ring_sc_dequeue_burst(
			st->ring[from][w->index], (void **)pkts, RTE_DIM(pkts), NULL);
		if (n == 0)
			continue;
		w->ahead = 0;
		worker_burst(w, pkts, (uint16_t)n, NULL, 0, 1);
		total += n;
	}
	return total;
}

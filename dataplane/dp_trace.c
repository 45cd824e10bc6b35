/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flight recorder of a worker (see dp_trace.h): the arena of frame slots,
 * its Call-ID index, sampling and the hand-over to sipguard-ctrl.
 */
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

/* xxHash's header-only build: the hash is inlined. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dp_trace.h"

static uint32_t
pow2_ceil(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static uint32_t
slot_stride(uint32_t frame_bytes)
{
	return RTE_ALIGN_CEIL(
		(uint32_t)sizeof(struct dp_trace_slot) + frame_bytes, RTE_CACHE_LINE_SIZE);
}

/* Twice as many index entries as slots, in whole sets. */
static uint64_t
index_buckets(uint32_t slots)
{
	return RTE_MAX(2ull * slots, (uint64_t)DP_TRACE_WAYS);
}

/* The newest slot of digest d, 0 when the index has none. */
static inline uint64_t
index_head(const struct dp_trace *t, uint64_t d)
{
	const struct dp_trace_bucket *b = &t->buckets[(d & t->set_mask) * DP_TRACE_WAYS];
	unsigned int w;

	for (w = 0; w < DP_TRACE_WAYS; w++)
		if (b[w].digest == d && b[w].seq != 0)
			return b[w].seq;
	return 0;
}

/*
 * Make seq the newest slot of d; returns the one it follows (0: none).
 * A digest new to its set takes a free way, else the way touched
 * longest ago (its head the oldest), whose chain is lost.
 */
static inline uint64_t
index_push(struct dp_trace *t, uint64_t d, uint64_t seq)
{
	struct dp_trace_bucket *b = &t->buckets[(d & t->set_mask) * DP_TRACE_WAYS];
	unsigned int w, victim = 0;
	uint64_t prev;

	for (w = 0; w < DP_TRACE_WAYS; w++) {
		if (b[w].digest == d && b[w].seq != 0) {
			prev = b[w].seq;
			b[w].seq = seq;
			return prev;
		}
		if (b[w].seq < b[victim].seq)
			victim = w;
	}
	t->stats->index_evicted += b[victim].seq != 0;
	b[victim].digest = d;
	b[victim].seq = seq;
	return 0;
}

uint64_t
dp_trace_memory(const struct dp_trace_cfg *cfg)
{
	uint64_t n = pow2_ceil(cfg->frames);

	return n * slot_stride(cfg->frame_bytes) +
		index_buckets(n) * sizeof(struct dp_trace_bucket) + sizeof(struct dp_trace);
}

struct dp_trace *
dp_trace_create(const struct dp_trace_cfg *cfg, int socket_id, char *err, size_t errlen)
{
	struct dp_trace *t;
	uint32_t n;

	if (cfg->frames == 0 || cfg->frame_bytes == 0 || cfg->frames > (1u << 24)) {
		snprintf(err, errlen, "trace recorder: %u frames of %u bytes: out of range",
			cfg->frames, cfg->frame_bytes);
		return NULL;
	}
	n = pow2_ceil(cfg->frames);
	t = rte_zmalloc_socket("dp_trace", sizeof(*t), RTE_CACHE_LINE_SIZE, socket_id);
	if (t == NULL)
		goto nomem;
	t->cfg = *cfg;
	t->stats = &t->own;
	t->slot_mask = n - 1;
	/* n >= 1: at least one set of DP_TRACE_WAYS */
	t->set_mask = RTE_MAX(2 * n / DP_TRACE_WAYS, 1u) - 1;
	t->stride = slot_stride(cfg->frame_bytes);
	t->arena = rte_zmalloc_socket(
		"dp_trace_arena", (size_t)n * t->stride, RTE_CACHE_LINE_SIZE, socket_id);
	t->buckets = rte_zmalloc_socket("dp_trace_index",
		(size_t)index_buckets(n) * sizeof(struct dp_trace_bucket), RTE_CACHE_LINE_SIZE,
		socket_id);
	if (t->arena == NULL || t->buckets == NULL)
		goto nomem;
	return t;
nomem:
	snprintf(err, errlen,
		"trace recorder: cannot allocate %u frames of %u bytes (%" PRIu64 " bytes)", n,
		cfg->frame_bytes, dp_trace_memory(cfg));
	dp_trace_free(t);
	return NULL;
}

void
dp_trace_free(struct dp_trace *t)
{
	if (t == NULL)
		return;
	rte_free(t->arena);
	rte_free(t->buckets);
	rte_free(t);
}

static inline struct dp_trace_slot *
slot_of(const struct dp_trace *t, uint64_t seq)
{
	return (struct dp_trace_slot *)(t->arena + (size_t)(seq & t->slot_mask) * t->stride);
}

uint64_t
dp_trace_digest(const struct dp_sip_msg *m)
{
	return XXH3_64bits(m->call_id.p, m->call_id.len);
}

static void
fill_frame(const struct dp_trace *t, struct sg_trace_frame *f, const struct dp_trace_slot *s,
	uint64_t call, uint64_t failed_ms, uint32_t trunk, const char *call_id,
	uint16_t call_id_len, uint8_t flags)
{
	f->call = call;
	f->time_us = s->time_us;
	f->failed_ms = failed_ms;
	f->trunk = trunk;
	f->orig_len = s->orig_len;
	f->cap_len = s->cap_len;
	f->linktype = t->cfg.linktype;
	f->flags = flags | s->flags;
	f->pad = 0;
	f->call_id_len = call_id_len;
	f->pad2 = 0;
	f->meta = s->meta;
	memcpy(f->call_id, call_id, call_id_len);
	memcpy(f->data, dp_trace_slot_data(s), s->cap_len);
}

/* A frame of a sampled call seen after its hand-over: on its own. */
static void
hand_linger(struct dp_trace *t, const struct dp_trace_linger *l, const struct dp_trace_slot *s)
{
	void *obj;

	if (rte_mempool_get(t->pool, &obj) != 0) {
		t->stats->linger_lost++;
		return;
	}
	fill_frame(t, obj, s, l->call, l->failed_ms, l->trunk, l->call_id, l->call_id_len,
		SG_TRACE_LINGER);
	if (rte_ring_sp_enqueue(t->ring, obj) != 0) {
		rte_mempool_put(t->pool, obj);
		t->stats->linger_lost++;
		return;
	}
	t->stats->frames_out++;
	t->stats->linger_frames++;
}

/*
 * The lingering call of digest d at now_ms, or NULL. One found past its
 * deadline is freed on the way.
 */
static inline struct dp_trace_linger *
linger_find(struct dp_trace *t, uint64_t d, uint64_t now_ms)
{
	struct dp_trace_lset *ls = &t->lset[d & (DP_TRACE_LINGER_SETS - 1)];
	unsigned int w;

	for (w = 0; w < DP_TRACE_LINGER_WAYS; w++) {
		if (ls->digest[w] != d || ls->until_ms[w] == 0)
			continue;
		if (now_ms <= ls->until_ms[w])
			return &t->linger[(d & (DP_TRACE_LINGER_SETS - 1)) * DP_TRACE_LINGER_WAYS +
				w];
		ls->until_ms[w] = 0;
		t->n_linger--;
		return NULL;
	}
	return NULL;
}

/* A way for a newly sampled call: a free or expired one, else the nearest its end. */
static struct dp_trace_linger *
linger_take(struct dp_trace *t, uint64_t d, uint64_t now_ms)
{
	struct dp_trace_lset *ls = &t->lset[d & (DP_TRACE_LINGER_SETS - 1)];
	unsigned int w, best = 0;

	for (w = 0; w < DP_TRACE_LINGER_WAYS; w++) {
		if (ls->until_ms[w] == 0 || ls->until_ms[w] < now_ms) {
			best = w;
			break;
		}
		if (ls->until_ms[w] < ls->until_ms[best])
			best = w;
	}
	if (w == DP_TRACE_LINGER_WAYS)
		t->stats->linger_evicted++;
	else if (ls->until_ms[best] == 0)
		t->n_linger++;
	ls->digest[best] = d;
	ls->until_ms[best] = now_ms + (t->cfg.linger_ms > 0 ? t->cfg.linger_ms : 1);
	return &t->linger[(d & (DP_TRACE_LINGER_SETS - 1)) * DP_TRACE_LINGER_WAYS + best];
}

/* Write a frame into the next slot, chained under digest d. */
static struct dp_trace_slot *
slot_put(struct dp_trace *t, const uint8_t *frame, uint32_t len, uint64_t d, uint64_t time_us)
{
	uint64_t seq = ++t->seq;
	struct dp_trace_slot *s = slot_of(t, seq);

	t->stats->overwritten += s->seq != 0;
	t->stats->unclaimed += s->held;
	s->prev = index_push(t, d, seq);
	s->seq = seq;
	s->order = seq;
	s->digest = d;
	s->time_us = time_us;
	s->orig_len = len;
	s->cap_len = RTE_MIN(len, t->cfg.frame_bytes);
	s->held = 0;
	s->flags = 0;
	memcpy(s + 1, frame, s->cap_len);
	t->stats->recorded++;
	return s;
}

/* What the ladder shows of a frame: its message's addresses and lines. */
static void
slot_meta(struct dp_trace_slot *s, const struct dp_pkt *pkt, const struct dp_sip_msg *m)
{
	struct sg_trace_meta *mt = &s->meta;

	memcpy(mt->src, pkt->src, sizeof(mt->src));
	memcpy(mt->dst, pkt->dst, sizeof(mt->dst));
	mt->sport = pkt->sport;
	mt->dport = pkt->dport;
	mt->family = pkt->family;
	mt->is_request = m->is_request;
	mt->method = m->method;
	mt->cseq_method = m->cseq_method;
	mt->status = m->status;
	mt->reason_proto = m->reason_proto;
	mt->pad = 0;
	mt->cseq = m->cseq;
	mt->retry_after = m->retry_after;
	mt->reason_cause = m->reason_cause;
}

/*
 * Slot s, recorded or claimed: a frame of message m on trunk; a frame of
 * a lingering sampled call is handed over.
 */
static void
slot_finish(struct dp_trace *t, struct dp_trace_slot *s, uint64_t d, const struct dp_pkt *pkt,
	const struct dp_sip_msg *m, uint32_t trunk, uint8_t flags, uint64_t now_ms)
{
	s->held = 0;
	s->flags = flags;
	s->trunk = trunk;
	slot_meta(s, pkt, m);
	if (unlikely(t->n_linger != 0)) {
		const struct dp_trace_linger *l = linger_find(t, d, now_ms);

		if (l != NULL)
			hand_linger(t, l, s);
	}
}

uint64_t
dp_trace_record(struct dp_trace *t, const uint8_t *frame, uint32_t len, const struct dp_pkt *pkt,
	const struct dp_sip_msg *m, uint32_t trunk, uint64_t now_ms, uint64_t time_us)
{
	uint64_t d = XXH3_64bits(m->call_id.p, m->call_id.len);

	slot_finish(t, slot_put(t, frame, len, d, time_us), d, pkt, m, trunk, 0, now_ms);
	return d;
}

unsigned int
dp_trace_lookup(const struct dp_trace *t, uint64_t digest, const struct dp_trace_slot **out,
	unsigned int max)
{
	uint64_t seq = index_head(t, digest);
	unsigned int n = 0, i;

	/* newest first along the chain */
	while (seq != 0 && n < max) {
		const struct dp_trace_slot *s = slot_of(t, seq);

		if (s->seq != seq || s->digest != digest || s->held)
			break; /* overwritten: the chain ends here */
		out[n++] = s;
		seq = s->prev;
	}
	/*
	 * Then in arrival order: a message made whole joins its call when
	 * it completes, so frames claimed from a flow may be older than
	 * frames already in the chain. A copy keeps its original's place.
	 */
	for (i = 1; i < n; i++) {
		const struct dp_trace_slot *x = out[i];
		unsigned int j = i;

		while (j > 0 && out[j - 1]->order > x->order) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = x;
	}
	return n;
}

/* ---- messages of several frames ---- */

/* The digests' tags: a flow's never equals a Call-ID's by construction. */
#define DP_TRACE_SEED_TCP 0x7463702d666c6f77ull
#define DP_TRACE_SEED_FRAG 0x667261672d6b6579ull

uint64_t
dp_trace_flow_tcp(
	uint8_t family, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	uint8_t k[37];

	/* packed by hand: a struct's padding would make the digest vary */
	k[0] = family;
	memcpy(k + 1, src, 16);
	memcpy(k + 17, dst, 16);
	memcpy(k + 33, &sport, 2);
	memcpy(k + 35, &dport, 2);
	return XXH3_64bits_withSeed(k, sizeof(k), DP_TRACE_SEED_TCP);
}

uint64_t
dp_trace_flow_frag(const uint8_t *l3, uint32_t l3_len, uint8_t family, uint16_t v6_frag_off)
{
	uint8_t k[1 + 32 + 4 + 1];

	memset(k, 0, sizeof(k));
	k[0] = family;
	if (family == 4 && l3_len >= 20) {
		/* RFC 791: source, destination, protocol and identification */
		memcpy(k + 1, l3 + 12, 8);
		memcpy(k + 33, l3 + 4, 2);
		k[37] = l3[9];
	} else if (family == 6 && l3_len >= 40 && (uint32_t)v6_frag_off + 8 <= l3_len) {
		/* RFC 8200: source, destination and the fragment header's id */
		memcpy(k + 1, l3 + 8, 32);
		memcpy(k + 33, l3 + v6_frag_off + 4, 4);
	}
	return XXH3_64bits_withSeed(k, sizeof(k), DP_TRACE_SEED_FRAG);
}

void
dp_trace_hold(struct dp_trace *t, const uint8_t *frame, uint32_t len, uint64_t flow, uint32_t lo,
	uint32_t hi, uint64_t time_us)
{
	struct dp_trace_slot *s = slot_put(t, frame, len, flow, time_us);

	s->held = 1;
	s->lo = lo;
	s->hi = hi;
	s->trunk = SG_UNMATCHED;
	memset(&s->meta, 0, sizeof(s->meta));
	t->stats->held++;
}

/* Does a held slot carry bytes of the span? (serial arithmetic: seq wraps) */
static inline int
span_has(const struct dp_trace_span *sp, const struct dp_trace_slot *s)
{
	return sp->all || ((int32_t)(s->lo - sp->hi) < 0 && (int32_t)(s->hi - sp->lo) > 0);
}

unsigned int
dp_trace_claim(struct dp_trace *t, const struct dp_trace_span *sp, const struct dp_pkt *pkt,
	const struct dp_sip_msg *m, uint32_t trunk, uint64_t now_ms)
{
	struct dp_trace_slot *got[DP_TRACE_CALL_FRAMES];
	uint64_t seq = index_head(t, sp->flow), d, newest = 0;
	unsigned int n = 0, steps = 0, i, j;

	/*
	 * Newest first along the flow's chain, which holds only frames no
	 * message has claimed whole (a claimed one ends it). Bounded: a
	 * frame that carries none of these bytes (a retransmission of
	 * bytes already claimed) is stepped over, at most a call's worth.
	 */
	while (seq != 0 && n < DP_TRACE_CALL_FRAMES && steps++ < 2 * DP_TRACE_CALL_FRAMES) {
		struct dp_trace_slot *s = slot_of(t, seq);

		if (s->seq != seq || s->digest != sp->flow || !s->held)
			break;
		if (span_has(sp, s))
			got[n++] = s;
		seq = s->prev;
	}
	if (n == 0) {
		t->stats->unframed++;
		return 0;
	}
	d = dp_trace_digest(m);
	for (i = 0; i < n; i++)
		newest = RTE_MAX(newest, got[i]->seq);
	/* oldest first, so the call's chain keeps arrival order */
	for (i = n; i-- > 0;) {
		struct dp_trace_slot *s = got[i], *c;
		uint8_t flags;

		if (s == NULL)
			continue; /* overwritten by a copy below */
		flags = s->seq == newest ? 0 : SG_TRACE_PART;
		if (sp->all || (int32_t)(s->hi - sp->hi) <= 0) {
			/* relinked in place: the flow's chain ends at it */
			t->stats->claimed++;
			s->prev = index_push(t, d, s->seq);
			s->digest = d;
			slot_finish(t, s, d, pkt, m, trunk, flags, now_ms);
			continue;
		}
		/*
		 * It also carries the next message's first bytes: that one
		 * claims it later, so this message gets a copy. The copy
		 * takes the oldest slot, which may be a frame still to be
		 * claimed here (a recorder this full of one flow): then that
		 * frame is lost, as the recorder loses its oldest anyway.
		 */
		c = slot_of(t, t->seq + 1);
		if (c == s)
			continue; /* still held, for the next message */
		for (j = 0; j < i; j++)
			if (got[j] == c)
				got[j] = NULL;
		c = slot_put(t, dp_trace_slot_data(s), s->orig_len, d, s->time_us);
		c->order = s->order;
		t->stats->claimed++;
		t->stats->copied++;
		slot_finish(t, c, d, pkt, m, trunk, flags, now_ms);
	}
	return n;
}

int
dp_trace_failed(struct dp_trace *t, const struct dp_sip_msg *m, uint32_t trunk, uint64_t now_ms)
{
	const struct dp_trace_slot *slots[DP_TRACE_CALL_FRAMES];
	void *objs[DP_TRACE_CALL_FRAMES];
	struct dp_trace_linger *l;
	uint16_t cid_len;
	uint64_t d, sec;
	unsigned int n, i;

	if (t->ring == NULL)
		return 0;
	d = dp_trace_digest(m);
	/* sampled already (a second failure of one INVITE): its frames linger */
	if (linger_find(t, d, now_ms) != NULL)
		return 0;
	sec = now_ms / 1000;
	if (t->rate[trunk].sec != sec) {
		t->rate[trunk].sec = sec;
		t->rate[trunk].n = 0;
	}
	if (t->rate[trunk].n >= t->cfg.sample_per_s) {
		t->stats->suppressed++;
		return 0;
	}
	n = dp_trace_lookup(t, d, slots, DP_TRACE_CALL_FRAMES);
	if (n == 0) {
		t->stats->empty++;
		return 0;
	}
	/* all or nothing: a call is never handed over in part */
	if (rte_mempool_get_bulk(t->pool, objs, n) != 0) {
		t->stats->ring_full++;
		return 0;
	}
	t->calls++;
	cid_len = (uint16_t)RTE_MIN(m->call_id.len, (uint32_t)SG_CALL_ID_MAX);
	for (i = 0; i < n; i++)
		fill_frame(t, objs[i], slots[i], ((uint64_t)t->cfg.worker << 48) | t->calls, now_ms,
			trunk, m->call_id.p, cid_len, i == 0 ? SG_TRACE_FIRST : 0);
	if (rte_ring_sp_enqueue_bulk(t->ring, objs, n, NULL) != n) {
		rte_mempool_put_bulk(t->pool, objs, n);
		t->stats->ring_full++;
		return 0;
	}
	t->rate[trunk].n++;
	t->stats->sampled++;
	t->stats->frames_out += n;
	l = linger_take(t, d, now_ms);
	l->call = ((uint64_t)t->cfg.worker << 48) | t->calls;
	l->failed_ms = now_ms;
	l->trunk = trunk;
	l->call_id_len = cid_len;
	memcpy(l->call_id, m->call_id.p, cid_len);
	return 1;
}

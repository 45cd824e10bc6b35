/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flight recorder: each worker keeps its recent SIP frames, so that when a
 * call fails (a final 5xx/6xx to an INVITE) every frame of that Call-ID
 * (the INVITE, its retransmissions, the 100, the failure) can be handed
 * to sipguard-ctrl, which writes it to a pcapng trace (ctrl/ctl_trace.h).
 *
 * Bounded by construction: one arena of fixed-size frame slots allocated
 * at start-up, written round-robin (the oldest frame is overwritten and
 * counted), and an index of Call-ID digests, each naming the newest slot
 * of its Call-ID; every slot names the previous one of the same Call-ID.
 * A link is valid while the slot still holds the frame it named (its
 * sequence number matches), so an overwritten frame ends a chain without
 * any clean-up. The index has twice as many entries as slots, in sets of
 * DP_TRACE_WAYS (one cache line): a Call-ID loses its chain only when
 * four digests live in its set at once and it was touched longest ago
 * (counted, `index_evicted`), which costs a trace, never a wrong frame
 * (every slot's digest is compared).
 *
 * Sampling: the first `sample_per_s` failed calls per trunk per second
 * (packet time) of this worker are handed over; the rest are counted. A
 * hand-over is all or nothing: it takes every frame's buffer from the pool
 * and enqueues them in one bulk operation, or counts the call as lost to a
 * full ring and moves on, never waiting.
 *
 * Linger: an ACK and the carrier's retransmissions of the failure follow
 * the final answer. A sampled Call-ID stays in a small table for
 * `linger_ms` of packet time; frames of it recorded meanwhile are handed
 * over one by one, flagged SG_TRACE_LINGER, and join the same call.
 *
 * Messages of more than one frame (IP fragments, TCP segments): each
 * frame is held in its slot as it comes, indexed by the digest of what it
 * belongs to (its datagram's fragment key, its TCP direction) with the
 * stream bytes it carries. When a message is made whole, the frames held
 * that carry any of its bytes are claimed: relinked in place to the
 * message's Call-ID, or copied when the frame also starts the next
 * message (a segment that ends one message and starts another belongs to
 * both, as in tshark's reassembly). Every frame but the one that
 * completed the message is flagged SG_TRACE_PART: it is in the trace, so
 * tshark reassembles the message from it, but the ladder draws the
 * message once. A held frame no message claims (bytes skipped, a
 * datagram never whole) is counted when it is overwritten.
 *
 * Per packet: one 64-bit XXH3 of the Call-ID, one copy of the frame into
 * its slot, one index bucket and one linger entry touched. No lock,
 * syscall or allocation; written by its worker only.
 */
#ifndef DP_TRACE_H
#define DP_TRACE_H

#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_decode.h"
#include "dp_sip.h"
#include "sg_shared.h"

/*
 * Sampled Call-IDs whose late frames are still handed over: sets of
 * ways, one cache line of tags and deadlines per set, so the check every
 * frame makes is one line. A full set gives up its call closest to its
 * end (counted, `linger_evicted`).
 */
#define DP_TRACE_LINGER_SETS 256
#define DP_TRACE_LINGER_WAYS 4
#define DP_TRACE_LINGER (DP_TRACE_LINGER_SETS * DP_TRACE_LINGER_WAYS)
/* Frames of one call handed over at most (the newest kept). */
#define DP_TRACE_CALL_FRAMES 64

struct dp_trace_cfg {
	uint32_t frames;       /* slots; rounded up to a power of two */
	uint32_t frame_bytes;  /* bytes kept of a frame (snap length) */
	uint32_t sample_per_s; /* failed calls handed over per trunk per second */
	uint32_t linger_ms;    /* packet time late frames still join a call */
	uint16_t linktype;     /* pcap LINKTYPE_* of the frames recorded */
	uint16_t worker;       /* names this worker's calls */
};

/* The slot header; the frame's bytes follow it in the arena. */
struct dp_trace_slot {
	uint64_t seq;	  /* 1.. when written, 0 never */
	uint64_t prev;	  /* seq of the previous frame of this digest, 0 none */
	uint64_t digest;  /* its Call-ID's, or (held) its flow's */
	uint64_t order;	  /* arrival: seq, or the original's for a copy */
	uint64_t time_us; /* the frame's time (see dp_trace_record) */
	uint32_t orig_len;
	uint32_t cap_len;
	uint32_t trunk;
	uint32_t lo; /* held: the stream bytes [lo, hi) it carries */
	uint32_t hi;
	uint8_t held;  /* a frame of a message not yet whole */
	uint8_t flags; /* SG_TRACE_PART once claimed as part of a message */
	struct sg_trace_meta meta;
};

/*
 * Where a message made whole from several frames came from: the frames
 * held under `flow` that carry any of stream bytes [lo, hi) (TCP), or
 * every frame held under it (`all`: the fragments of one datagram).
 */
struct dp_trace_span {
	uint64_t flow;
	uint32_t lo;
	uint32_t hi;
	uint8_t all;
};

/* Ways of an index set: 4 entries of 16 bytes, one cache line. */
#define DP_TRACE_WAYS 4

struct dp_trace_bucket {
	uint64_t digest;
	uint64_t seq; /* newest frame of the digest */
};

struct dp_trace_lset {
	uint64_t digest[DP_TRACE_LINGER_WAYS];
	uint64_t until_ms[DP_TRACE_LINGER_WAYS]; /* 0: free */
} __rte_cache_aligned;

/* What a lingering frame is handed over with: its call. */
struct dp_trace_linger {
	uint64_t call;
	uint64_t failed_ms;
	uint32_t trunk;
	uint16_t call_id_len;
	char call_id[SG_CALL_ID_MAX];
};

struct dp_trace {
	/* where hand-overs go; NULL ring: recorder only, nothing sampled */
	struct rte_ring *ring;
	struct rte_mempool *pool;
	struct sg_trace_stats *stats; /* the worker's shared slot, or own */
	struct sg_trace_stats own;
	uint64_t seq; /* last written */
	uint64_t calls;
	uint32_t slot_mask;
	uint32_t set_mask; /* index sets - 1 */
	uint32_t stride;   /* bytes per slot: header and frame, cache-aligned */
	uint32_t n_linger; /* entries with until_ms set (some may have expired) */
	struct dp_trace_cfg cfg;
	struct {
		uint64_t sec;
		uint32_t n;
	} rate[SG_TRUNK_SLOTS];
	struct dp_trace_lset lset[DP_TRACE_LINGER_SETS];
	struct dp_trace_linger linger[DP_TRACE_LINGER];
	struct dp_trace_bucket *buckets;
	uint8_t *arena;
};

/* Bytes of recorder memory one worker takes for cfg (arena and index). */
uint64_t dp_trace_memory(const struct dp_trace_cfg *cfg);

/*
 * Allocate the recorder on socket_id. ring/pool may be NULL (set later,
 * or never: nothing is handed over). Returns NULL with one line in err.
 */
struct dp_trace *dp_trace_create(
	const struct dp_trace_cfg *cfg, int socket_id, char *err, size_t errlen);
void dp_trace_free(struct dp_trace *t);

/* The Call-ID digest the recorder is indexed by. */
uint64_t dp_trace_digest(const struct dp_sip_msg *m);

/*
 * Record one frame carrying message m (pkt: its addresses), seen at
 * packet time now_ms on trunk; time_us is the frame's own time, written
 * to the trace (a capture's timestamp offline, the poll that received it
 * live). A frame of a lingering sampled call is handed over too. Returns
 * the digest.
 */
uint64_t dp_trace_record(struct dp_trace *t, const uint8_t *frame, uint32_t len,
	const struct dp_pkt *pkt, const struct dp_sip_msg *m, uint32_t trunk, uint64_t now_ms,
	uint64_t time_us);

/*
 * The flow digests frames are held under: one direction of a TCP
 * connection (addresses network order, ports host order), and the
 * fragments of one IP datagram (from a fragment's own IP header; l3_len
 * bytes of it, v6_frag_off as dp_pkt gives it). Tagged so that neither
 * meets a Call-ID's digest.
 */
uint64_t dp_trace_flow_tcp(
	uint8_t family, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport);
uint64_t dp_trace_flow_frag(
	const uint8_t *l3, uint32_t l3_len, uint8_t family, uint16_t v6_frag_off);

/*
 * Hold one frame of a message not yet whole (a fragment, a TCP segment
 * carrying stream bytes [lo, hi)) of time time_us, under flow.
 */
void dp_trace_hold(struct dp_trace *t, const uint8_t *frame, uint32_t len, uint64_t flow,
	uint32_t lo, uint32_t hi, uint64_t time_us);

/*
 * Message m (pkt: its addresses) was made whole from the frames span
 * names: they become frames of its Call-ID, the newest the message's own
 * and the others SG_TRACE_PART. A lingering sampled call's frames are
 * handed over too. Returns how many frames were claimed (0: none held,
 * counted unframed).
 */
unsigned int dp_trace_claim(struct dp_trace *t, const struct dp_trace_span *span,
	const struct dp_pkt *pkt, const struct dp_sip_msg *m, uint32_t trunk, uint64_t now_ms);

/*
 * A final 5xx/6xx to an INVITE (not a retransmission) on trunk: sample
 * it, and hand over every recorded frame of its Call-ID. Returns 1 when
 * handed over, 0 otherwise (counted by why).
 */
int dp_trace_failed(
	struct dp_trace *t, const struct dp_sip_msg *m, uint32_t trunk, uint64_t now_ms);

/*
 * Frames of digest in the recorder, oldest first (by arrival), at most
 * max: their slots. For the hand-over and the tests. Returns how many.
 */
unsigned int dp_trace_lookup(const struct dp_trace *t, uint64_t digest,
	const struct dp_trace_slot **out, unsigned int max);

static inline const uint8_t *
dp_trace_slot_data(const struct dp_trace_slot *s)
{
	return (const uint8_t *)(s + 1);
}

/* Element size of the hand-over pool for frames of frame_bytes. */
static inline uint32_t
dp_trace_elt_size(uint32_t frame_bytes)
{
	return (uint32_t)sizeof(struct sg_trace_frame) + frame_bytes;
}

#endif /* DP_TRACE_H */

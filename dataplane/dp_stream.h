/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP stream reassembly for one worker: SIP (or HEP) over TCP cut back
 * into whole messages, whatever the segmentation.
 *
 * One fixed table of flows, each holding both directions. A direction
 * takes a buffer from a fixed per-worker pool only while it has bytes it
 * cannot hand on yet (a message cut by a segment end, or segments that
 * arrived ahead of a hole); the common case, whole messages in order,
 * is handed on straight from the segment with no copy. Memory is bounded
 * three ways, as Suricata's stream.reassembly.memcap and depth and
 * libnids do: flows in the table, buffers in the pool, bytes per buffer.
 * What cannot be kept is counted, and the direction re-synchronises at
 * the next start line.
 *
 * Plain C over buffers: no mbufs, no EAL calls on the packet path; the
 * tables come from rte_zmalloc_socket at creation only.
 */
#ifndef DP_STREAM_H
#define DP_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* Addresses network order (IPv4 in the first 4 bytes), ports host order. */
struct dp_stream_tuple {
	uint8_t family; /* 4 or 6 */
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
};

/* How a stream is cut into messages. */
enum dp_stream_kind {
	DP_STREAM_SIP, /* start line, headers, Content-Length body */
	DP_STREAM_HEP, /* HEPv3 packets (dp_hep_frame) */
};

/* TCP flags as on the wire. */
#define DP_TCP_FIN 0x01
#define DP_TCP_SYN 0x02
#define DP_TCP_RST 0x04
#define DP_TCP_ACK 0x10

struct dp_streams_cfg {
	uint32_t flows;	      /* flows in the table (both directions each) */
	uint32_t buffers;     /* direction buffers in the pool */
	uint32_t buffer_size; /* bytes per buffer: the largest message kept */
	uint32_t idle_ms;     /* a flow with no segment this long is freed */
	uint32_t gap_ms;      /* a hole not filled this long is skipped */
	/*
	 * Optional: a SIP framer tried before the module's own, called with
	 * the deliver callback's `arg`. The worker passes its SIP parser
	 * here, so a message cut from a stream is parsed once (for its
	 * length, and again for nothing when it is handed on). Returns 1
	 * with *n (the message's whole length, which may exceed len), 0 when
	 * more bytes are needed, -1 to let dp_sipframe_len_skip (dp_sipframe.h) decide.
	 */
	int (*sip_frame)(void *arg, const uint8_t *p, uint32_t len, uint32_t *n);
};

struct dp_streams_stats {
	uint64_t segments; /* segments with payload handed in */
	uint64_t flows_opened;
	uint64_t flows_closed;	/* FIN from both sides, or RST */
	uint64_t flows_expired; /* idle timeout */
	uint64_t flows_evicted; /* table full: the oldest flow made room */
	uint64_t flows_reused;	/* a new SYN on a flow under way: the old one ended */
	uint64_t out_of_order;	/* segments held ahead of a hole */
	uint64_t retransmitted; /* segments wholly seen before (partly old: trimmed) */
	uint64_t gaps;		/* holes skipped (gap_ms, buffer full, end): the cut message lost */
	uint64_t gap_bytes;	/* bytes never seen, skipped over */
	uint64_t resyncs;	/* re-synchronised at a start line */
	uint64_t resync_bytes;	/* bytes skipped looking for one */
	uint64_t no_buffer;	/* pool empty: bytes could not be kept */
	uint64_t out_of_window; /* segments (or their tails) beyond what a buffer can hold */
	uint64_t oversize;	/* messages larger than a buffer: skipped */
	uint64_t messages;	/* whole messages handed on */
	uint64_t truncated;	/* messages cut by a flow's end (or a flush): lost */
};

/*
 * Called for every whole message in stream order. `t` is the sender's
 * view (src is the side that sent it); msg is valid only during the call.
 * seq is the TCP sequence number of its first byte, so the segments that
 * carried it can be told (the flight recorder, dp_trace.h). now_ms is the
 * packet time of the segment that completed the message.
 */
typedef void (*dp_stream_deliver_fn)(void *arg, const struct dp_stream_tuple *t, const uint8_t *msg,
	uint32_t len, uint32_t seq, uint64_t now_ms);

struct dp_streams;

/* Returns NULL with one line in err (sizes out of range, no memory). */
struct dp_streams *dp_streams_create(
	const struct dp_streams_cfg *cfg, int socket_id, char *err, size_t errlen);
void dp_streams_free(struct dp_streams *s);

/*
 * One TCP segment (payload may be empty: SYN, FIN, RST and pure ACKs
 * still open and close flows). Whole messages go to fn before it returns.
 * A flow is opened by a SYN or by a segment with payload (a capture that
 * starts mid-stream); a pure ACK, FIN or RST of an unknown flow is
 * ignored. The kind is fixed when the flow opens.
 */
void dp_streams_segment(struct dp_streams *s, const struct dp_stream_tuple *t, uint32_t seq,
	uint8_t flags, const uint8_t *payload, uint32_t len, enum dp_stream_kind kind,
	uint64_t now_ms, dp_stream_deliver_fn fn, void *arg);

/*
 * Housekeeping at packet time now_ms: expire idle flows, skip holes
 * older than gap_ms (handing on what then becomes whole), and end flows
 * closed by FIN from both sides whose last bytes never came. Looks at 64
 * sets of 8 flows per call (a table of 16384 flows in 32 calls); call it
 * once per burst. A segment arriving for a direction whose hole is older
 * than gap_ms skips it too, without waiting for the tick.
 */
void dp_streams_tick(struct dp_streams *s, uint64_t now_ms, dp_stream_deliver_fn fn, void *arg);

/*
 * At the end of a capture: skip every hole and hand on what is whole; a
 * message still cut is dropped (truncated) and every buffer goes back to
 * the pool. Flows stay in the table until they expire.
 */
void dp_streams_flush(struct dp_streams *s, uint64_t now_ms, dp_stream_deliver_fn fn, void *arg);

const struct dp_streams_stats *dp_streams_stats(const struct dp_streams *s);

/* Flows in the table and buffers taken from the pool, now. */
uint32_t dp_streams_flows_active(const struct dp_streams *s);
uint32_t dp_streams_buffers_in_use(const struct dp_streams *s);

/* Is [p, p + n) inside the pool's buffers? (for tests and fuzzing) */
int dp_streams_owns(const struct dp_streams *s, const void *p, size_t n);

#endif /* DP_STREAM_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ingest: the ways SIP reaches a worker other than as one whole datagram
 * on the wire. An IP fragment goes to the worker's reassembly table
 * (dp_frag) and the datagram it completes is decoded and counted; a TCP
 * segment goes to the worker's stream reassembler (dp_stream), which
 * hands on whole messages; a HEP packet from an allowed agent (dp_hep)
 * is classified as the datagram it describes. Each ends in the worker's
 * own counting (dp_worker_datagram, dp_worker_message), so a message is
 * counted the same way whichever door it came through.
 *
 * These paths are off the common one: they count what is pending first
 * (order is kept) and then count at once.
 */
#ifndef DP_INGEST_H
#define DP_INGEST_H

#include <stdint.h>

#include "dp_decode.h"
#include "dp_stream.h"

struct dp_worker;

/* An IP fragment found in `buf` (pkt's offsets are relative to it). */
void dp_ingest_fragment(
	struct dp_worker *w, const uint8_t *buf, const struct dp_pkt *pkt, uint64_t now_ms);

/* A TCP segment of a SIP flow (kind SIP) or of a HEP agent's flow (HEP). */
void dp_ingest_tcp(
	struct dp_worker *w, const struct dp_pkt *pkt, enum dp_stream_kind kind, uint64_t now_ms);

/* A datagram or segment to the HEP port. */
void dp_ingest_hep(struct dp_worker *w, const struct dp_pkt *pkt, uint64_t now_ms);

/* The stream reassembler's callback: one whole message (arg: the worker). */
void dp_ingest_deliver(void *arg, const struct dp_stream_tuple *t, const uint8_t *msg, uint32_t len,
	uint32_t seq, uint64_t now_ms);

#endif /* DP_INGEST_H */

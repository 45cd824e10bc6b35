/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inner-flow steering between workers. A port's RSS (or af_packet's
 * fanout) hashes the outer headers it can read. In a mirror feed those are
 * the tunnel's: VXLAN's outer UDP source port is the encapsulator's hash
 * of the inner packet, which for a local TCP socket differs per direction
 * and changes when a retransmission timeout rehashes it; ERSPAN and GRE
 * feeds are often one outer flow. One inner TCP stream, or the two
 * directions of one dialog, then reach different workers, and neither
 * sees a whole stream: holes, lost messages, retransmissions and dialogs
 * counted wrong.
 *
 * So a worker that decapsulates a frame hands it to the worker that owns
 * the inner address pair (a symmetric hash of the innermost IP addresses:
 * both directions, every port and every fragment of a host pair meet on
 * one worker) through a single-producer, single-consumer rte_ring per
 * ordered pair of workers. Frames that came in no tunnel are never
 * steered: the port's symmetric RSS already keeps their flows together.
 * The receiving worker counts the frame (packets, bytes) as its own, so
 * the workers' packets still add up to what the ports received. A full
 * ring is counted (`steer_full`) and the frame worked where it is, never
 * waited on and never lost.
 */
#ifndef DP_STEER_H
#define DP_STEER_H

#include <stdint.h>

#include <rte_ring.h>

#include "dp_decode.h"
#include "sg_shared.h"

struct dp_steer {
	uint32_t n_workers;
	/* ring[from][to]; NULL on the diagonal */
	struct rte_ring *ring[SG_MAX_WORKERS][SG_MAX_WORKERS];
	/*
	 * Workers that have stopped receiving (and so stopped steering):
	 * once all have, a worker that has emptied its inbound rings is
	 * done, and no frame is left in a ring.
	 */
	uint32_t stopped;
};

/*
 * Rings of `slots` entries for n_workers (2..SG_MAX_WORKERS) workers, on
 * socket_id, named by `tag` (unique within the process). Returns 0, or -1
 * with one line in err (and nothing left allocated).
 */
int dp_steer_create(struct dp_steer *s, uint32_t n_workers, uint32_t slots, int socket_id,
	char *err, size_t errlen);
/* Frees the rings (mbufs still in them are freed too). */
void dp_steer_free(struct dp_steer *s);

/*
 * The worker that owns a decoded packet's innermost address pair: the
 * same for both directions. Only family and addresses are read.
 */
static inline uint32_t
dp_steer_owner(const struct dp_pkt *pkt, uint32_t n_workers)
{
	uint32_t a[4], b[4], h;
	unsigned int i, words = pkt->family == 6 ? 4 : 1;

	h = 0;
	for (i = 0; i < words; i++) {
		__builtin_memcpy(&a[i], pkt->src + 4 * i, 4);
		__builtin_memcpy(&b[i], pkt->dst + 4 * i, 4);
		/* XOR is symmetric: src/dst swapped give the same value */
		h ^= a[i] ^ b[i];
	}
	/* Fibonacci hashing spreads the bits; the top half picks the worker */
	h *= 0x9e3779b1u;
	return (uint32_t)(((uint64_t)(h >> 16) * n_workers) >> 16);
}

#endif /* DP_STEER_H */

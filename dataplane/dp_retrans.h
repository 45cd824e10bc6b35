/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Retransmission table: remembers each message's identity (direction,
 * Call-ID, CSeq number and method, method or status code) for a window of
 * packet time, so a repeat within the window is a retransmission.
 *
 * Bounded and aged by construction: a set-associative table of fixed size.
 * A key hashes to one set of DP_RETRANS_WAYS entries; an insert takes an
 * expired way if there is one, else evicts the oldest way of the set (and
 * counts the eviction). Lookups and inserts are O(ways), never allocate,
 * never fail. One table per lcore: no sharing, no atomics.
 */
#ifndef DP_RETRANS_H
#define DP_RETRANS_H

#include <stddef.h>
#include <stdint.h>

#include "dp_sip.h"
#include "dp_trunk.h"

#define DP_RETRANS_WAYS 8

struct dp_retrans;

struct dp_retrans_stats {
	uint64_t inserts;
	uint64_t hits;	    /* retransmissions seen */
	uint64_t evictions; /* unexpired entries pushed out */
};

/* entries is rounded up to a multiple of DP_RETRANS_WAYS * power of two. */
struct dp_retrans *dp_retrans_create(uint32_t entries, uint32_t window_ms, int socket_id);
void dp_retrans_free(struct dp_retrans *rt);

/* Digest of a message's identity: what makes two messages "equal". */
struct dp_retrans_key {
	uint64_t hi;
	uint64_t lo;
};

void dp_retrans_key(
	const struct dp_sip_msg *m, enum dp_dir dir, uint32_t trunk, struct dp_retrans_key *key);

/*
 * Look the key up at packet time now_ms. Returns 1 if the same key was
 * seen within the window (a retransmission; its time is refreshed, since
 * the rule is "equal to any message seen in the window"),
 * else records it and returns 0.
 */
int dp_retrans_check(struct dp_retrans *rt, const struct dp_retrans_key *key, uint64_t now_ms);

/* Forget every entry (statistics are kept). Not for the packet path. */
void dp_retrans_reset(struct dp_retrans *rt);

/* Bytes of table per entry, the set's bookkeeping and padding included. */
size_t dp_retrans_entry_bytes(void);

const struct dp_retrans_stats *dp_retrans_stats(const struct dp_retrans *rt);
uint32_t dp_retrans_capacity(const struct dp_retrans *rt);

#endif /* DP_RETRANS_H */

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

#include <rte_common.h>
#include <rte_prefetch.h>

#include "dp_sip.h"
#include "dp_trunk.h"

#define DP_RETRANS_WAYS 8 /* DP_WAYS, dp_ways.h */

/*
 * A set is two cache lines: the tags, then the times and the bitmap of
 * ways in use. Visible here only so dp_retrans_prefetch can be inline.
 */
struct dp_retrans_set {
	uint64_t tag[DP_RETRANS_WAYS];
	uint32_t seen_ms[DP_RETRANS_WAYS]; /* truncated packet time */
	uint8_t used;			   /* bitmap of valid ways */
} __rte_cache_aligned;

/* entries is rounded up to a multiple of DP_RETRANS_WAYS * power of two. */
struct dp_retrans *dp_retrans_create(uint32_t entries, uint32_t window_ms, int socket_id);
void dp_retrans_free(struct dp_retrans *rt);

/*
 * Digest of a message's identity: what makes two messages "equal". One
 * 64-bit XXH3 value: its low bits pick the set, all 64 bits are the tag,
 * so a false "retransmission" needs two identities of one set with the
 * same 64-bit hash.
 */
struct dp_retrans_key {
	uint64_t h;
};

struct dp_retrans_stats {
	uint64_t inserts;
	uint64_t hits;	    /* retransmissions seen */
	uint64_t evictions; /* unexpired entries pushed out */
};

struct dp_retrans {
	uint32_t set_mask;
	uint32_t window_ms;
	struct dp_retrans_stats stats;
	struct dp_retrans_set sets[];
};

/*
 * Start loading the key's set: the worker computes every key of a burst
 * first and checks them after, so the table's cache misses overlap.
 */
static inline void
dp_retrans_prefetch(const struct dp_retrans *rt, const struct dp_retrans_key *key)
{
	const struct dp_retrans_set *s = &rt->sets[key->h & rt->set_mask];

	rte_prefetch0(s);
	rte_prefetch0((const char *)s + RTE_CACHE_LINE_SIZE);
}

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

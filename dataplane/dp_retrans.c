/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Retransmission table (see dp_retrans.h for the contract).
 *
 * Layout: 2^k sets of DP_RETRANS_WAYS ways. A way holds a 64-bit tag (the
 * whole XXH3 digest whose low bits picked the set, so a false
 * "retransmission" needs a 64-bit collision within one set) and the
 * packet time it was last seen, in ms. A set is two cache lines, so a
 * lookup touches at most two lines whatever the table size.
 *
 * Why set-associative rather than a hash plus a global age list: it is
 * bounded by construction, needs no deletions, no pointer chasing and no
 * free list, and "oldest in the set" is the classic cache approximation
 * of "oldest overall" (a set is full long before the table is, but only
 * under a load where the table as a whole is about to be full anyway).
 */
#include <stddef.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

/* xxHash's own header-only build: the hash is inlined into the key. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dp_retrans.h"
#include "dp_ways.h"

struct dp_retrans *
dp_retrans_create(uint32_t entries, uint32_t window_ms, int socket_id)
{
	struct dp_retrans *rt;
	uint32_t nsets;

	RTE_BUILD_BUG_ON(
		DP_RETRANS_WAYS != DP_WAYS || offsetof(struct dp_retrans_set, seen_ms) % 16 != 0);
	nsets = rte_align32pow2(RTE_MAX(entries / DP_RETRANS_WAYS, 1u));
	rt = rte_zmalloc_socket("dp_retrans",
		sizeof(*rt) + (size_t)nsets * sizeof(struct dp_retrans_set), RTE_CACHE_LINE_SIZE,
		socket_id);
	if (rt == NULL)
		return NULL;
	rt->set_mask = nsets - 1;
	rt->window_ms = window_ms;
	return rt;
}

void
dp_retrans_free(struct dp_retrans *rt)
{
	rte_free(rt);
}

void
dp_retrans_key(
	const struct dp_sip_msg *m, enum dp_dir dir, uint32_t trunk, struct dp_retrans_key *key)
{
	/*
	 * The fixed-size part of the identity, packed without loss into 64
	 * bits (CSeq 32, method or status 10, CSeq method 5, trunk 8,
	 * direction 1, request 1), seeds the hash of the Call-ID (the
	 * variable-length part): one one-shot XXH3 call, no streaming state.
	 */
	uint64_t seed = (uint64_t)m->cseq |
		(uint64_t)(m->is_request ? m->method : m->status) << 32 |
		(uint64_t)m->cseq_method << 42 | (uint64_t)(trunk & 0xff) << 47 |
		(uint64_t)(dir & 1) << 55 | (uint64_t)(m->is_request & 1) << 56;

	RTE_BUILD_BUG_ON(SG_M_COUNT > 32 || SG_TRUNK_SLOTS > 256 || SG_STATUS_MAX >= 1024);
	key->h = XXH3_64bits_withSeed(m->call_id.p, m->call_id.len, seed);
}

/*
 * All ways are compared at once (dp_ways.h). What a way-by-way
 * walk would leave behind is kept exactly: expired ways before the hit
 * (all of them on a miss) lose their used bit, a miss takes the first
 * unused or expired way, and only a full set evicts its oldest way.
 */
int
dp_retrans_check(struct dp_retrans *rt, const struct dp_retrans_key *key, uint64_t now_ms)
{
	struct dp_retrans_set *s = &rt->sets[key->h & rt->set_mask];
	uint32_t now = (uint32_t)now_ms;
	unsigned int used = s->used, expired, live, hit, free_ways, w;

	expired = used & dp_ways_older(s->seen_ms, now, rt->window_ms);
	live = used & ~expired;
	hit = live & dp_ways_match(s->tag, key->h);
	if (hit != 0) {
		w = (unsigned int)__builtin_ctz(hit);
		s->used = (uint8_t)(used & ~(expired & ((1u << w) - 1)));
		s->seen_ms[w] = now;
		rt->stats.hits++;
		return 1;
	}
	free_ways = ~live & ((1u << DP_RETRANS_WAYS) - 1);
	if (free_ways != 0) {
		w = (unsigned int)__builtin_ctz(free_ways);
	} else {
		/* full: the oldest way goes, the last of equals */
		uint32_t oldest_age = 0, age;
		unsigned int i;

		w = 0;
		for (i = 0; i < DP_RETRANS_WAYS; i++) {
			age = now - s->seen_ms[i];
			if (age >= oldest_age) {
				w = i;
				oldest_age = age;
			}
		}
		rt->stats.evictions++;
	}
	s->tag[w] = key->h;
	s->seen_ms[w] = now;
	s->used = (uint8_t)(live | 1u << w);
	rt->stats.inserts++;
	return 0;
}

const struct dp_retrans_stats *
dp_retrans_stats(const struct dp_retrans *rt)
{
	return &rt->stats;
}

uint32_t
dp_retrans_capacity(const struct dp_retrans *rt)
{
	return (rt->set_mask + 1) * DP_RETRANS_WAYS;
}

void
dp_retrans_reset(struct dp_retrans *rt)
{
	memset(rt->sets, 0, (size_t)(rt->set_mask + 1) * sizeof(rt->sets[0]));
}

size_t
dp_retrans_entry_bytes(void)
{
	return sizeof(struct dp_retrans_set) / DP_RETRANS_WAYS;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Eight-way sets, compared at once. The retransmission table is 2^k sets
 * of 8 ways, each way a 64-bit tag and a 32-bit time; a lookup asks
 * "which ways hold this tag" and "which ways are older than a limit". A
 * vector compare answers each for all 8 ways without a branch per way:
 * with a loop, the branches on every way's used bit, age and tag cost
 * about 25 cycles per message more (scripts/bench, the mix).
 *
 * The dialog table has the same shape but keeps its loop: most of its
 * sets are empty, the loop then stops at the used bits without reading
 * the tags' cache line, and the vector form measured 4-8 cycles slower.
 *
 * Both return a bitmap, bit w for way w; used bits are the caller's.
 * The arrays must be 16-byte aligned (the sets are cache aligned with
 * the tags first and the times next).
 */
#ifndef DP_WAYS_H
#define DP_WAYS_H

#include <stdint.h>

#ifdef __SSE4_1__
#include <smmintrin.h>
#endif

#define DP_WAYS 8

/* Ways whose tag is h. */
static inline unsigned int
dp_ways_match(const uint64_t tag[DP_WAYS], uint64_t h)
{
	unsigned int m = 0, i;
#ifdef __SSE4_1__
	const __m128i hv = _mm_set1_epi64x((long long)h);

	for (i = 0; i < DP_WAYS; i += 2) {
		__m128i t = _mm_load_si128((const __m128i *)(const void *)&tag[i]);

		m |= (unsigned int)_mm_movemask_pd(_mm_castsi128_pd(_mm_cmpeq_epi64(t, hv))) << i;
	}
#else
	for (i = 0; i < DP_WAYS; i++)
		m |= (unsigned int)(tag[i] == h) << i;
#endif
	return m;
}

/*
 * Ways with now - t[w] > limit, the difference unsigned (so a clock
 * that wraps, or a time from the future, reads as old).
 */
static inline unsigned int
dp_ways_older(const uint32_t t[DP_WAYS], uint32_t now, uint32_t limit)
{
	unsigned int m = 0, i;
#ifdef __SSE4_1__
	/* no unsigned compare before AVX-512: flip the sign bits */
	const __m128i bias = _mm_set1_epi32((int)0x80000000u);
	const __m128i nv = _mm_set1_epi32((int)now);
	const __m128i lv = _mm_xor_si128(_mm_set1_epi32((int)limit), bias);

	for (i = 0; i < DP_WAYS; i += 4) {
		__m128i tv = _mm_load_si128((const __m128i *)(const void *)&t[i]);
		__m128i age = _mm_xor_si128(_mm_sub_epi32(nv, tv), bias);

		m |= (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(age, lv))) << i;
	}
#else
	for (i = 0; i < DP_WAYS; i++)
		m |= (unsigned int)(now - t[i] > limit) << i;
#endif
	return m;
}

#endif /* DP_WAYS_H */

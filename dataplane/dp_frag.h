/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP reassembly for one worker: DPDK's rte_ip_frag with a fragment table
 * per lcore, as examples/ip_reassembly does, plus what the library leaves
 * to its caller: a private mbuf pool the fragments are copied into (so a
 * fragment found inside a tunnel, a HEP capture or an offline buffer
 * reassembles the same way as one at the start of a NIC frame, and the
 * RX mbufs are freed with their burst), exact duplicates filtered before
 * the table sees them (the library fails a datagram on a duplicate), the
 * death row freed every burst, and every fragment that cannot be
 * reassembled counted by reason.
 *
 * Time is the caller's packet time in ms (the table ages by it, so an
 * offline capture expires fragments by its own clock).
 *
 * Accounting: every fragment handed in ends in exactly one place, so at
 * any time
 *   fragments == reassembled_fragments + timed_out + no_space + bad
 *                + duplicates + no_mbuf + too_big + held
 * (every counter but `reassembled` and `held_mbufs` is in fragments).
 *
 * Memory: fragments are copied into mbufs of the standard 2 KiB data
 * room (2.3 KiB each with the mbuf header and headroom), a larger
 * fragment (a jumbo frame's, up to the 64 KiB IP allows) into a chain of
 * them. The pool is sized for typical traffic, not for the worst case: 2
 * mbufs per table entry (a typical datagram is 2 fragments of 1 mbuf
 * each), plus the death row's length (288, freed every burst), plus one
 * largest fragment (33). At 4096 entries that is 8,513 mbufs, 19.3 MiB,
 * and 22 MiB per worker with the table (2 MiB) and the duplicate filter
 * (0.5 MiB); room for the worst case (7 jumbo fragments per entry) would
 * take over 300 MiB. A flood of incomplete datagrams holds one mbuf per
 * table entry, so the table fills first and what it refuses is no_space;
 * a flood of many-fragment or jumbo datagrams runs the pool dry first,
 * and what it cannot take is no_mbuf, nothing else: the datagrams
 * already held stay, and the pool refills as they complete or expire.
 */
#ifndef DP_FRAG_H
#define DP_FRAG_H

#include <stddef.h>
#include <stdint.h>

struct dp_frag;

struct dp_frag_stats {
	uint64_t fragments;		/* fragments handed in */
	uint64_t reassembled;		/* datagrams rebuilt and handed back */
	uint64_t reassembled_fragments; /* fragments inside those datagrams */
	uint64_t timed_out;		/* fragments freed: datagram incomplete in time */
	uint64_t no_space;		/* fragments refused: table full, bucket collision */
	uint64_t bad;			/* fragments freed: overlap, bad offsets, too many,
				malformed header */
	uint64_t duplicates;		/* exact copies of a fragment seen within the timeout */
	uint64_t no_mbuf;		/* fragments refused: private pool empty */
	uint64_t too_big;		/* fragments of a datagram larger than the out buffer */
	uint64_t held;			/* fragments in the table now (a gauge) */
	uint64_t held_mbufs;		/* mbufs those fragments take (a gauge) */
};

/*
 * Create a worker's reassembly state on socket_id: a table of `entries`
 * datagrams in flight (rounded up to a power of two, at least 8) that
 * expire after timeout_ms, and the pool and duplicate filter sized to
 * match (the pool: entries x 2 + 321 mbufs, see above). Returns NULL
 * with one line in err.
 */
struct dp_frag *dp_frag_create(
	uint32_t entries, uint32_t timeout_ms, int socket_id, char *err, size_t errlen);
void dp_frag_free(struct dp_frag *f);

/*
 * Hand in one fragment: `ip` is its IP packet (IPv4 or IPv6 header
 * first), `len` its length by the IP header (what follows is not copied),
 * l3_hlen the bytes before the fragment's payload excluding, for IPv6,
 * the fragment header itself (v6_frag_off is the offset of that header
 * from `ip`, so it equals l3_hlen; 0 for IPv4). When this fragment
 * completes a datagram, the whole datagram is copied to out (cap bytes)
 * and its length returned; otherwise 0 (held, or dropped and counted).
 *
 * The datagram handed back is the unfragmented packet: for IPv4 the first
 * fragment's header (options included) with total length set, MF and
 * offset cleared (DF kept) and the checksum recomputed; for IPv6 the
 * first fragment's header and the extension headers that preceded its
 * fragment header (up to 120 bytes of them), the fragment header removed,
 * the next-header chain and payload length fixed. A fragment of offset 0
 * without more-fragments (an IPv6 atomic fragment) is handed back at once.
 */
uint32_t dp_frag_input(struct dp_frag *f, const uint8_t *ip, uint32_t len, uint8_t family,
	uint16_t l3_hlen, uint16_t v6_frag_off, uint64_t now_ms, uint8_t *out, uint32_t cap);

/*
 * Once per burst: free the death row and expire datagrams older than the
 * timeout at now_ms. Cheap when nothing is pending.
 */
void dp_frag_tick(struct dp_frag *f, uint64_t now_ms);

/*
 * Start afresh: free every datagram in flight (counted timed out) and
 * empty the duplicate filter. For a replay that runs a capture again
 * (the benchmark): its fragments would otherwise be duplicates of the
 * last pass's.
 */
void dp_frag_forget(struct dp_frag *f);

const struct dp_frag_stats *dp_frag_stats(const struct dp_frag *f);

/*
 * Mbufs (not fragments) taken from the private pool: after dp_frag_tick
 * this equals stats->held_mbufs (tests and the fuzzer check that nothing
 * leaks).
 */
uint32_t dp_frag_mbufs_in_use(const struct dp_frag *f);

/* Mbufs in the private pool. */
uint32_t dp_frag_pool_size(const struct dp_frag *f);

#endif /* DP_FRAG_H */

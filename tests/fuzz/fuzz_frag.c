/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for IP reassembly (dp_frag) under an EAL without hugepages:
 * a small table (8 datagrams, 500 ms) fed a sequence of fragments, each
 * record of the input turned into a well-formed IPv4 or IPv6 fragment
 * whose offsets, flags, lengths, headers and timing the fuzzer chooses,
 * or patched.
 *
 * Record: 8 bytes
 *   b0  bit 0 IPv6, bit 1 more fragments, bits 2-3 header class (IPv4:
 *       0/4/8/40 option bytes; IPv6: 0/8/16/24 bytes of hop-by-hop,
 *       routing and destination options before the fragment header),
 *       bit 4 second address pair, bit 5 patched, bit 6 small out
 *       buffer, bit 7 tick before this fragment
 *   b1  IP identification
 *   b2  b3  fragment offset in 8-byte units (13 bits)
 *   b4  b5  payload bytes (14 bits: chains of up to 8 mbufs of 2 KiB)
 *   b6  packet time step, 4 ms units
 *   b7  bit 0 DF (IPv4)
 * A patched record goes on with a control byte: bits 0-2 how many
 * patches, bits 3, 4, 5, 6 followed by a byte that replaces l3_hlen,
 * v6_frag_off, the family, or shortens the length; then the patches, 2
 * bytes each (position in the first 80 bytes, value).
 * Generated payload bytes are a function of (family, pair, id, offset),
 * so a rebuilt datagram can be checked byte by byte.
 *
 * Checked after every call: every fragment is counted exactly once
 * (fragments = reassembled + timed out + no space + bad + duplicates +
 * no mbuf + too big + held); a datagram handed back fits the buffer,
 * has a valid IPv4 header (version, length, no fragment bits, checksum)
 * or IPv6 header (version, payload length, a next-header chain without a
 * fragment header ending in UDP), the payload each generated fragment
 * carried at its offset; the fragments held take at least one mbuf each
 * and no more than are out of the pool; after every tick the pool holds
 * exactly the mbufs of the fragments held; after the input a tick far in
 * the future leaves nothing held and every mbuf back in the pool. The
 * pool (8 entries: 337 mbufs) runs dry on large fragments, so no_mbuf is
 * reached too.
 */
#include <string.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "dp_frag.h"
#include "fuzz_common.h"
#include "sg_test_eal.h"

#define FUZZ_TIMEOUT 500
#define FUZZ_REC 8
#define FUZZ_SMALL_CAP 1500
#define FUZZ_PKT (128 + 16384)

static struct dp_frag *fuzz_f;
static uint64_t fuzz_now;
static int fuzz_verbose;
static uint8_t fuzz_pkt[FUZZ_PKT];
static uint8_t fuzz_out[70000];

static const uint8_t fuzz_v4_addr[3][8] = {
	{ 192, 0, 2, 1, 10, 0, 0, 5 },
	{ 192, 0, 2, 2, 10, 0, 0, 5 },
	{ 198, 51, 100, 9, 10, 0, 0, 9 },
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (sg_test_eal_init() != 0)
		abort();
	fuzz_f = dp_frag_create(8, FUZZ_TIMEOUT, 0, err, sizeof(err));
	if (fuzz_f == NULL) {
		fprintf(stderr, "fuzz_frag: %s\n", err);
		abort();
	}
	fuzz_now = 1000;
	fuzz_verbose = getenv("FUZZ_FRAG_VERBOSE") != NULL;
	return 0;
}

static uint16_t
fuzz_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
fuzz_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint8_t
fuzz_pat(uint32_t family, uint32_t pair, uint32_t id, uint32_t o)
{
	return (uint8_t)(o * 13 + (o >> 8) + id * 7 + pair * 3 + family);
}

static uint16_t
fuzz_cksum(const uint8_t *h, uint32_t hlen)
{
	uint32_t s = 0;
	uint32_t i;

	for (i = 0; i + 1 < hlen; i += 2)
		s += fuzz_be16(h + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* FUZZ_FRAG_VERBOSE=1: the counters after each input, to see what a seed does. */
static void
fuzz_print(void)
{
	const struct dp_frag_stats *s = dp_frag_stats(fuzz_f);

	fprintf(stderr,
		"fragments %lu reassembled %lu (%lu fragments) timed_out %lu no_space %lu bad %lu "
		"duplicates %lu no_mbuf %lu too_big %lu held %lu (%lu mbufs)\n",
		(unsigned long)s->fragments, (unsigned long)s->reassembled,
		(unsigned long)s->reassembled_fragments, (unsigned long)s->timed_out,
		(unsigned long)s->no_space, (unsigned long)s->bad, (unsigned long)s->duplicates,
		(unsigned long)s->no_mbuf, (unsigned long)s->too_big, (unsigned long)s->held,
		(unsigned long)s->held_mbufs);
}

static void
fuzz_invariant(void)
{
	const struct dp_frag_stats *s = dp_frag_stats(fuzz_f);

	FUZZ_CHECK(s->fragments ==
		s->reassembled_fragments + s->timed_out + s->no_space + s->bad + s->duplicates +
			s->no_mbuf + s->too_big + s->held);
	FUZZ_CHECK(s->reassembled <= s->reassembled_fragments);
	FUZZ_CHECK(s->held_mbufs >= s->held);
	FUZZ_CHECK(s->held_mbufs <= dp_frag_mbufs_in_use(fuzz_f));
}

static void
fuzz_tick(uint64_t now)
{
	dp_frag_tick(fuzz_f, now);
	fuzz_invariant();
	FUZZ_CHECK(dp_frag_mbufs_in_use(fuzz_f) == dp_frag_stats(fuzz_f)->held_mbufs);
}

/* IPv6 extension headers before the fragment header, by class. */
static uint32_t
fuzz_v6_ext(uint8_t *ip, uint32_t cls)
{
	static const uint8_t hbh[8] = { 0, 0, 5, 2, 0, 0, 1, 0 };
	static const uint8_t rt[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t dst[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
	uint32_t e = 0;

	ip[6] = 44;
	if (cls == 0)
		return 0;
	if (cls >= 2) {
		ip[6] = 0;
		memcpy(ip + 40, hbh, 8);
		e = 8;
		if (cls == 3) {
			ip[40] = 43;
			memcpy(ip + 48, rt, 8);
			e = 16;
		}
		ip[40 + e - 8] = 60;
	} else {
		ip[6] = 60;
	}
	memcpy(ip + 40 + e, dst, 8);
	ip[40 + e] = 44;
	return e + 8;
}

/* The rebuilt datagram: a valid header, and generated bytes where they belong. */
static void
fuzz_check_out(const uint8_t *o, uint32_t n, uint32_t cap)
{
	uint32_t hl, next, pair, id, i, ah;

	FUZZ_CHECK(n <= cap);
	FUZZ_CHECK(n >= 20);
	if ((o[0] >> 4) == 4) {
		hl = (uint32_t)(o[0] & 0x0f) * 4;
		FUZZ_CHECK(hl >= 20 && hl < n);
		FUZZ_CHECK(fuzz_be16(o + 2) == n);
		FUZZ_CHECK((fuzz_be16(o + 6) & 0x3fff) == 0);
		FUZZ_CHECK(fuzz_cksum(o, hl) == 0);
		if (memcmp(o + 12, fuzz_v4_addr[2], 8) == 0)
			return;
		pair = memcmp(o + 12, fuzz_v4_addr[1], 8) == 0;
		FUZZ_CHECK(pair || memcmp(o + 12, fuzz_v4_addr[0], 8) == 0);
		FUZZ_CHECK(o[9] == 17);
		id = fuzz_be16(o + 4);
		for (i = hl; i < n; i++)
			FUZZ_CHECK(o[i] == fuzz_pat(4, pair, id, i - hl));
		return;
	}
	FUZZ_CHECK((o[0] >> 4) == 6);
	FUZZ_CHECK(n >= 40 && (uint32_t)fuzz_be16(o + 4) + 40 == n);
	if (o[23] == 3)
		return; /* raw */
	pair = o[23] == 1;
	FUZZ_CHECK(pair || o[23] == 0);
	/* the generator keeps the identification in the flow label */
	id = o[3];
	next = o[6];
	hl = 40;
	while (next != 17) {
		FUZZ_CHECK(next == 0 || next == 43 || next == 60);
		FUZZ_CHECK(hl + 8 <= n);
		ah = ((uint32_t)o[hl + 1] + 1) * 8;
		next = o[hl];
		hl += ah;
	}
	FUZZ_CHECK(hl <= n);
	for (i = hl; i < n; i++)
		FUZZ_CHECK(o[i] == fuzz_pat(6, pair, id, i - hl));
}

/* Build one generated fragment in fuzz_pkt; returns its length. */
static uint32_t
fuzz_build(const uint8_t *r, uint16_t *l3_hlen, uint16_t *v6_off)
{
	uint32_t v6 = r[0] & 1, mf = (r[0] >> 1) & 1, cls = (r[0] >> 2) & 3;
	uint32_t pair = (r[0] >> 4) & 1, id = r[1];
	uint32_t off = (fuzz_be16(r + 2) & 0x1fff) * 8, len = fuzz_be16(r + 4) & 0x3fff;
	static const uint8_t optlen[4] = { 0, 4, 8, 40 };
	uint32_t hl, i, e;
	uint8_t *ip = fuzz_pkt;

	memset(ip, 0, 120);
	if (!v6) {
		hl = 20 + optlen[cls];
		ip[0] = (uint8_t)(0x40 | hl / 4);
		fuzz_put16(ip + 2, hl + len);
		fuzz_put16(ip + 4, id);
		fuzz_put16(ip + 6, off / 8 | mf << 13 | (r[7] & 1) << 14);
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, fuzz_v4_addr[pair], 8);
		if (cls > 0)
			memcpy(ip + 20, "\x94\x04\x00\x00", 4);
		for (i = 24; i < hl; i++)
			ip[i] = 1;
		fuzz_put16(ip + 10, fuzz_cksum(ip, hl));
		*l3_hlen = (uint16_t)hl;
		*v6_off = 0;
	} else {
		ip[0] = 0x60;
		ip[3] = (uint8_t)id;
		ip[7] = 64;
		ip[8] = 0x20;
		ip[9] = 0x01;
		ip[23] = (uint8_t)pair;
		ip[24] = 0xfd;
		ip[39] = 5;
		e = fuzz_v6_ext(ip, cls);
		hl = 40 + e;
		ip[hl] = 17;
		fuzz_put16(ip + hl + 2, off | mf);
		ip[hl + 7] = (uint8_t)id;
		fuzz_put16(ip + 4, e + 8 + len);
		*l3_hlen = (uint16_t)hl;
		*v6_off = (uint16_t)hl;
		hl += 8;
	}
	for (i = 0; i < len; i++)
		ip[hl + i] = fuzz_pat(v6 ? 6 : 4, pair, id, off + i);
	return hl + len;
}

/*
 * A patched record: the fragment built, then header bytes overwritten and
 * what the caller says about it (lengths, family) changed, so every check
 * of the input is reached with packets that are almost right. Its
 * addresses are then forced to a pair of its own, so that it never joins
 * (and spoils the payload check of) a datagram of unpatched fragments.
 */
static int
fuzz_patch(const uint8_t *data, size_t size, size_t *pos, uint32_t *len, uint8_t *family,
	uint16_t *l3_hlen, uint16_t *v6_off)
{
	uint32_t ctl, k;

	if (size - *pos < 1)
		return -1;
	ctl = data[(*pos)++];
	if (size - *pos < 2 * (ctl & 7) + (uint32_t)__builtin_popcount(ctl & 0x78))
		return -1;
	if (ctl & 0x08)
		*l3_hlen = data[(*pos)++];
	if (ctl & 0x10)
		*v6_off = data[(*pos)++];
	if (ctl & 0x20)
		*family = data[(*pos)++];
	if (ctl & 0x40) {
		k = data[(*pos)++];
		*len = *len > k ? *len - k : 0;
	}
	for (k = 0; k < (ctl & 7); k++, *pos += 2)
		fuzz_pkt[data[*pos] % 80] = data[*pos + 1];
	if (*len >= 20 && (fuzz_pkt[0] >> 4) == 4)
		memcpy(fuzz_pkt + 12, fuzz_v4_addr[2], 8);
	if (*len >= 40 && (fuzz_pkt[0] >> 4) == 6)
		fuzz_pkt[23] = 3;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *r;
	uint16_t l3_hlen, v6_off;
	uint32_t len, cap, n;
	uint8_t family;
	size_t pos = 0;

	while (size - pos >= FUZZ_REC) {
		r = data + pos;
		pos += FUZZ_REC;
		fuzz_now += (uint64_t)r[6] * 4;
		if (r[0] & 0x80)
			fuzz_tick(fuzz_now);
		cap = (r[0] & 0x40) ? FUZZ_SMALL_CAP : (uint32_t)sizeof(fuzz_out);
		family = (r[0] & 1) ? 6 : 4;
		len = fuzz_build(r, &l3_hlen, &v6_off);
		if ((r[0] & 0x20) &&
			fuzz_patch(data, size, &pos, &len, &family, &l3_hlen, &v6_off) != 0)
			break;
		n = dp_frag_input(
			fuzz_f, fuzz_pkt, len, family, l3_hlen, v6_off, fuzz_now, fuzz_out, cap);
		fuzz_invariant();
		if (n > 0)
			fuzz_check_out(fuzz_out, n, cap);
	}
	/* far in the future: everything expires and every mbuf is back */
	fuzz_now += 10 * FUZZ_TIMEOUT;
	fuzz_tick(fuzz_now);
	FUZZ_CHECK(dp_frag_stats(fuzz_f)->held == 0);
	FUZZ_CHECK(dp_frag_mbufs_in_use(fuzz_f) == 0);
	if (fuzz_verbose)
		fuzz_print();
	return 0;
}

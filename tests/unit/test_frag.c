/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP reassembly: real IPv4 and IPv6 fragments of UDP datagrams carrying a
 * SIP INVITE (2 KB in 3 fragments, 9 KB in 7, 24 KB in 3 jumbo fragments
 * of 8000 bytes, 60 KB in 2), fed in every order, with duplicates,
 * overlaps, too many pieces, missing pieces, a full table, a pool run dry,
 * interleaved datagrams of both families, IPv4 options and IPv6 extension
 * headers before the fragment header. A rebuilt datagram must equal the
 * unfragmented original byte for byte (the IPv4 header checksum is
 * recomputed, so it is compared too), and after every step every fragment
 * must be accounted for exactly once (a fragment larger than one mbuf is
 * a chain, and still one fragment), the pool holding no more mbufs than
 * the table's fragments take. The default table (4096 entries) must fit
 * several times in the unit-test EAL's 256 MiB, as workers do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_malloc.h>

#include "dp_frag.h"
#include "sg_test_eal.h"

#define T_TIMEOUT 2000
#define T_MAX_FRAGS 12
#define T_BUF 66000
#define T_OUT 70000

/* One IP packet: an unfragmented datagram or one of its fragments. */
struct t_pkt {
	uint8_t b[T_BUF];
	uint32_t len;
	uint8_t family;
	uint16_t l3_hlen;     /* IPv6: up to the fragment header */
	uint16_t v6_frag_off; /* IPv6: where the fragment header is */
};

struct t_set {
	struct t_pkt orig;
	struct t_pkt frag[T_MAX_FRAGS];
	unsigned int n;
};

static uint8_t t_out[T_OUT];

static void
t_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
t_cksum(const uint8_t *h, uint32_t hlen)
{
	uint32_t s = 0;
	uint32_t i;

	for (i = 0; i < hlen; i += 2)
		if (i != 10)
			s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A UDP datagram carrying an INVITE of exactly `size` bytes of SIP. */
static uint32_t
t_udp_invite(uint8_t *p, uint32_t size, uint32_t seq)
{
	char head[512];
	int hl, cl;
	uint32_t i;

	cl = 0;
	for (;;) {
		hl = snprintf(head, sizeof(head),
			"INVITE sip:+15551230000@carrier.example.net SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-%u\r\n"
			"From: <sip:alice@example.com>;tag=a%u\r\n"
			"To: <sip:+15551230000@carrier.example.net>\r\n"
			"Call-ID: frag-%u@192.0.2.1\r\n"
			"CSeq: 1 INVITE\r\n"
			"Content-Type: application/sdp\r\n"
			"Content-Length: %d\r\n\r\n",
			seq, seq, seq, cl);
		if ((uint32_t)hl + (uint32_t)cl == size)
			break;
		cl = (int)size - hl;
	}
	t_be16(p, 5060);
	t_be16(p + 2, 5060);
	t_be16(p + 4, 8 + size);
	t_be16(p + 6, 0);
	memcpy(p + 8, head, (size_t)hl);
	for (i = 0; i < (uint32_t)cl; i++)
		p[8 + hl + i] = (uint8_t)("v=0 o=- s=- c=IN IP4 192.0.2.1 m=audio "[i % 38]);
	return 8 + size;
}

/*
 * IPv4: the datagram with `opt` option bytes (a multiple of 4: Router
 * Alert, copied into every fragment, then NOPs ending in a timestamp-like
 * option that is not copied), cut into pieces of `chunk` payload bytes.
 * Non-first fragments keep `opt_rest` option bytes.
 */
static void
t_v4(struct t_set *s, uint32_t sip, uint16_t id, uint32_t opt, uint32_t opt_rest, uint32_t chunk)
{
	uint8_t *o = s->orig.b;
	uint32_t hl = 20 + opt, pl, off, n, fhl;
	struct t_pkt *fr;

	memset(s, 0, sizeof(*s));
	o[0] = (uint8_t)(0x40 | hl / 4);
	o[1] = 0xb8; /* EF, as signalling often is */
	t_be16(o + 4, id);
	o[8] = 64;
	o[9] = 17;
	memcpy(o + 12, "\xc0\x00\x02\x01", 4);
	memcpy(o + 16, "\x0a\x00\x00\x05", 4);
	if (opt >= 4)
		memcpy(o + 20, "\x94\x04\x00\x00", 4);
	for (off = 24; off < hl; off++)
		o[off] = 1; /* NOP */
	if (opt >= 8)
		memcpy(o + hl - 4, "\x44\x04\x05\x00", 4);
	pl = t_udp_invite(o + hl, sip, id);
	s->orig.len = hl + pl;
	t_be16(o + 2, s->orig.len);
	t_be16(o + 10, t_cksum(o, hl));
	s->orig.family = 4;
	s->orig.l3_hlen = (uint16_t)hl;

	for (off = 0; off < pl; off += n) {
		fr = &s->frag[s->n++];
		n = pl - off < chunk ? pl - off : chunk;
		fhl = off == 0 ? hl : 20 + opt_rest;
		memcpy(fr->b, o, fhl);
		fr->b[0] = (uint8_t)(0x40 | fhl / 4);
		t_be16(fr->b + 2, fhl + n);
		t_be16(fr->b + 6, off / 8 | (off + n < pl ? 0x2000 : 0));
		t_be16(fr->b + 10, t_cksum(fr->b, fhl));
		memcpy(fr->b + fhl, o + hl + off, n);
		fr->len = fhl + n;
		fr->family = 4;
		fr->l3_hlen = (uint16_t)fhl;
	}
}

/*
 * IPv6: the datagram with `ext` bytes of hop-by-hop and destination
 * options before the point where the fragment header goes (0, 8 or 16),
 * cut into pieces of `chunk` bytes.
 */
static void
t_v6(struct t_set *s, uint32_t sip, uint32_t id, uint32_t ext, uint32_t chunk)
{
	uint8_t *o = s->orig.b;
	uint32_t hl = 40 + ext, pl, off, n, last_nh;
	struct t_pkt *fr;

	memset(s, 0, sizeof(*s));
	o[0] = 0x6b; /* traffic class 0xb8, flow label 0x12345 */
	o[1] = 0x81;
	o[2] = 0x23;
	o[3] = 0x45;
	o[7] = 64;
	memcpy(o + 8, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	memcpy(o + 24, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x05", 16);
	last_nh = 6;
	if (ext == 0) {
		o[6] = 17;
	} else if (ext == 8) {
		o[6] = 60; /* destination options: PadN */
		memcpy(o + 40, "\x11\x00\x01\x04\0\0\0\0", 8);
		last_nh = 40;
	} else {
		o[6] = 0; /* hop-by-hop: Router Alert, then destination options */
		memcpy(o + 40, "\x3c\x00\x05\x02\x00\x00\x01\x00", 8);
		memcpy(o + 48, "\x11\x00\x01\x04\0\0\0\0", 8);
		last_nh = 48;
	}
	pl = t_udp_invite(o + hl, sip, id);
	s->orig.len = hl + pl;
	t_be16(o + 4, s->orig.len - 40);
	s->orig.family = 6;
	s->orig.l3_hlen = (uint16_t)hl;

	for (off = 0; off < pl; off += n) {
		fr = &s->frag[s->n++];
		n = pl - off < chunk ? pl - off : chunk;
		memcpy(fr->b, o, hl);
		fr->b[last_nh] = 44;
		fr->b[hl] = 17;
		t_be16(fr->b + hl + 2, off | (off + n < pl ? 1 : 0));
		fr->b[hl + 4] = (uint8_t)(id >> 24);
		fr->b[hl + 5] = (uint8_t)(id >> 16);
		fr->b[hl + 6] = (uint8_t)(id >> 8);
		fr->b[hl + 7] = (uint8_t)id;
		memcpy(fr->b + hl + 8, o + hl + off, n);
		fr->len = hl + 8 + n;
		t_be16(fr->b + 4, fr->len - 40);
		fr->family = 6;
		fr->l3_hlen = (uint16_t)hl;
		fr->v6_frag_off = (uint16_t)hl;
	}
}

static uint32_t
t_feed(struct dp_frag *f, const struct t_pkt *p, uint64_t now)
{
	return dp_frag_input(
		f, p->b, p->len, p->family, p->l3_hlen, p->v6_frag_off, now, t_out, sizeof(t_out));
}

/* Every fragment handed in is in exactly one place. */
static void
t_check(const struct dp_frag *f)
{
	const struct dp_frag_stats *s = dp_frag_stats(f);

	assert_int_equal(s->fragments,
		s->reassembled_fragments + s->timed_out + s->no_space + s->bad + s->duplicates +
			s->no_mbuf + s->too_big + s->held);
	assert_true(s->held_mbufs >= s->held);
	assert_true(s->held_mbufs <= dp_frag_mbufs_in_use(f));
}

/* Tick at `now`; then the pool holds exactly the mbufs of the fragments held. */
static void
t_settle(struct dp_frag *f, uint64_t now)
{
	dp_frag_tick(f, now);
	t_check(f);
	assert_int_equal(dp_frag_mbufs_in_use(f), dp_frag_stats(f)->held_mbufs);
}

static void
t_expect_orig(uint32_t n, const struct t_set *s)
{
	assert_int_equal(n, s->orig.len);
	assert_memory_equal(t_out, s->orig.b, s->orig.len);
}

/* Feed fragments in `order`; only the last one completes the datagram. */
static void
t_run(struct dp_frag *f, const struct t_set *s, const unsigned int *order, uint64_t now)
{
	unsigned int i;
	uint32_t n;

	for (i = 0; i < s->n; i++) {
		n = t_feed(f, &s->frag[order[i]], now);
		t_check(f);
		if (i + 1 < s->n)
			assert_int_equal(n, 0);
		else
			t_expect_orig(n, s);
	}
}

static struct dp_frag *
t_create(uint32_t entries)
{
	char err[256] = "";
	struct dp_frag *f = dp_frag_create(entries, T_TIMEOUT, 0, err, sizeof(err));

	if (f == NULL)
		fail_msg("%s", err);
	return f;
}

static struct t_set t_a, t_b, t_c, t_d;

static void
t_permute(unsigned int *v, unsigned int n, unsigned int k, struct dp_frag *f, struct t_set *s,
	int family, unsigned int *id, unsigned int *runs)
{
	unsigned int i, t;

	if (k == n) {
		if (family == 4)
			t_v4(s, 2000, (uint16_t)++ * id, 0, 0, 800);
		else
			t_v6(s, 2000, ++*id, 0, 800);
		assert_int_equal(s->n, 3);
		t_run(f, s, v, 1000 + *id);
		++*runs;
		return;
	}
	for (i = k; i < n; i++) {
		t = v[k];
		v[k] = v[i];
		v[i] = t;
		t_permute(v, n, k + 1, f, s, family, id, runs);
		t = v[k];
		v[k] = v[i];
		v[i] = t;
	}
}

/* 2 KB INVITE in 3 fragments, every order, both families. */
static void
test_all_orders(void **state)
{
	struct dp_frag *f = t_create(64);
	unsigned int v[3] = { 0, 1, 2 };
	unsigned int id = 0, runs = 0;

	(void)state;
	t_permute(v, 3, 0, f, &t_a, 4, &id, &runs);
	t_permute(v, 3, 0, f, &t_a, 6, &id, &runs);
	assert_int_equal(runs, 12);
	assert_int_equal(dp_frag_stats(f)->reassembled, 12);
	assert_int_equal(dp_frag_stats(f)->reassembled_fragments, 36);
	assert_int_equal(dp_frag_stats(f)->held, 0);
	t_settle(f, 2000);
	assert_int_equal(dp_frag_mbufs_in_use(f), 0);
	dp_frag_free(f);
}

/* 9 KB INVITE in 7 fragments: in order, reversed, shuffled. */
static void
test_jumbo(void **state)
{
	struct dp_frag *f = t_create(64);
	unsigned int order[T_MAX_FRAGS], i, j, t, round, fam;
	uint32_t rnd = 12345;

	(void)state;
	for (fam = 0; fam < 2; fam++)
		for (round = 0; round < 6; round++) {
			if (fam == 0)
				t_v4(&t_a, 9000, (uint16_t)(100 + round), 0, 0, 1400);
			else
				t_v6(&t_a, 9000, 100 + round, 0, 1400);
			assert_int_equal(t_a.n, 7);
			for (i = 0; i < t_a.n; i++)
				order[i] = round == 1 ? t_a.n - 1 - i : i;
			if (round >= 2)
				for (i = t_a.n - 1; i > 0; i--) {
					rnd = rnd * 1103515245u + 12345u;
					j = (rnd >> 16) % (i + 1);
					t = order[i];
					order[i] = order[j];
					order[j] = t;
				}
			t_run(f, &t_a, order, 5000);
		}
	assert_int_equal(dp_frag_stats(f)->reassembled, 12);
	assert_int_equal(dp_frag_stats(f)->reassembled_fragments, 84);
	t_settle(f, 5000);
	dp_frag_free(f);
}

/* Every fragment twice, and again after completion: rebuilt once. */
static void
test_duplicates(void **state)
{
	struct dp_frag *f = t_create(64);
	const struct dp_frag_stats *s = dp_frag_stats(f);
	unsigned int fam, i, got;
	uint32_t n;

	(void)state;
	for (fam = 0; fam < 2; fam++) {
		if (fam == 0)
			t_v4(&t_a, 2000, 7, 0, 0, 800);
		else
			t_v6(&t_a, 2000, 7, 0, 800);
		got = 0;
		/* 0 0 1 1 2 2 0 1 2: the second 2 and everything after: duplicates */
		for (i = 0; i < 9; i++) {
			n = t_feed(f, &t_a.frag[i < 6 ? i / 2 : i - 6], 100 + i);
			t_check(f);
			if (n != 0) {
				t_expect_orig(n, &t_a);
				got++;
			}
		}
		assert_int_equal(got, 1);
	}
	assert_int_equal(s->reassembled, 2);
	assert_int_equal(s->duplicates, 12);
	assert_int_equal(s->bad, 0);
	t_settle(f, 200);
	/* past the timeout the same fragment is news again */
	assert_int_equal(t_feed(f, &t_a.frag[0], 200 + T_TIMEOUT + 200), 0);
	assert_int_equal(s->duplicates, 12);
	assert_int_equal(s->held, 1);
	t_settle(f, 200 + 2 * T_TIMEOUT + 300);
	assert_int_equal(s->held, 0);
	assert_int_equal(s->timed_out, 1);
	dp_frag_free(f);
}

/* Replace fragment i's payload range: offset and length in bytes. */
static void
t_v4_piece(struct t_pkt *fr, const struct t_set *s, uint32_t off, uint32_t n, int mf)
{
	uint32_t hl = s->orig.l3_hlen;

	memcpy(fr->b, s->orig.b, hl);
	t_be16(fr->b + 2, hl + n);
	t_be16(fr->b + 6, off / 8 | (mf ? 0x2000 : 0));
	t_be16(fr->b + 10, t_cksum(fr->b, hl));
	memcpy(fr->b + hl, s->orig.b + hl + off, n);
	fr->len = hl + n;
	fr->family = 4;
	fr->l3_hlen = (uint16_t)hl;
	fr->v6_frag_off = 0;
}

/* Overlaps: the datagram fails whole, counted bad, and its slot is free. */
static void
test_overlap(void **state)
{
	struct dp_frag *f = t_create(8);
	const struct dp_frag_stats *s = dp_frag_stats(f);
	struct t_pkt *p = t_b.frag;
	unsigned int i;

	(void)state;
	/* fill the table but one entry with incomplete datagrams */
	for (i = 0; i < 7; i++) {
		t_v4(&t_a, 2000, (uint16_t)(50 + i), 0, 0, 800);
		assert_int_equal(t_feed(f, &t_a.frag[1], 10), 0);
	}
	/* more data than the datagram: fails when the last piece sets its size */
	t_v4(&t_b, 2000, 1, 0, 0, 800);
	t_v4_piece(&p[0], &t_b, 0, 800, 1);
	t_v4_piece(&p[1], &t_b, 400, 800, 1);
	t_v4_piece(&p[2], &t_b, 1200, 808, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(t_feed(f, &p[i], 20), 0);
		t_check(f);
	}
	assert_int_equal(s->bad, 3);
	assert_int_equal(s->held, 7);
	/*
	 * Sizes that add up but leave a hole: the library chains the last
	 * pieces before it finds the hole, and frees chains.
	 */
	t_v4(&t_b, 2000, 2, 0, 0, 800);
	t_v4_piece(&p[0], &t_b, 0, 800, 1);
	t_v4_piece(&p[1], &t_b, 1000, 600, 1);
	t_v4_piece(&p[2], &t_b, 1600, 408, 0);
	t_v4_piece(&p[3], &t_b, 600, 200, 1);
	for (i = 0; i < 4; i++) {
		assert_int_equal(t_feed(f, &p[i], 30), 0);
		t_check(f);
	}
	assert_int_equal(s->bad, 7);
	assert_int_equal(s->held, 7);
	t_settle(f, 30);
	/* the slot is free again: a good datagram reassembles in it */
	t_v4(&t_b, 2000, 3, 0, 0, 800);
	t_run(f, &t_b, (const unsigned int[]){ 2, 0, 1 }, 40);
	/* and the table is full again with one more incomplete datagram */
	t_v4(&t_a, 2000, 60, 0, 0, 800);
	assert_int_equal(t_feed(f, &t_a.frag[1], 50), 0);
	t_v4(&t_a, 2000, 61, 0, 0, 800);
	assert_int_equal(t_feed(f, &t_a.frag[1], 50), 0);
	assert_int_equal(s->held, 8);
	assert_int_equal(s->no_space, 1);
	t_settle(f, 50);
	dp_frag_free(f);
}

/* Nine pieces: the library takes eight per datagram, the ninth fails it. */
static void
test_too_many(void **state)
{
	struct dp_frag *f = t_create(64);
	const struct dp_frag_stats *s = dp_frag_stats(f);
	unsigned int i, fam;

	(void)state;
	for (fam = 0; fam < 2; fam++) {
		if (fam == 0)
			t_v4(&t_a, 2000, 9, 0, 0, 232);
		else
			t_v6(&t_a, 2000, 9, 0, 232);
		assert_int_equal(t_a.n, 9);
		/* first, last, then the seven in between: the seventh fails all */
		assert_int_equal(t_feed(f, &t_a.frag[0], 10), 0);
		assert_int_equal(t_feed(f, &t_a.frag[8], 10), 0);
		for (i = 1; i < 8; i++) {
			assert_int_equal(t_feed(f, &t_a.frag[i], 10), 0);
			t_check(f);
		}
		assert_int_equal(s->bad, 9 * (fam + 1));
		assert_int_equal(s->held, 0);
	}
	/* eight pieces is the most that works */
	t_v4(&t_a, 1800, 10, 0, 0, 232);
	assert_int_equal(t_a.n, 8);
	t_run(f, &t_a, (const unsigned int[]){ 7, 0, 1, 2, 3, 4, 5, 6 }, 20);
	t_settle(f, 20);
	dp_frag_free(f);
}

/* A datagram never completed expires after the timeout, not before. */
static void
test_timeout(void **state)
{
	struct dp_frag *f = t_create(64);
	const struct dp_frag_stats *s = dp_frag_stats(f);

	(void)state;
	t_v4(&t_a, 2000, 20, 0, 0, 800);
	t_v6(&t_b, 2000, 20, 0, 800);
	assert_int_equal(t_feed(f, &t_a.frag[0], 1000), 0);
	assert_int_equal(t_feed(f, &t_a.frag[2], 1500), 0);
	assert_int_equal(t_feed(f, &t_b.frag[1], 1000), 0);
	t_settle(f, 1000 + T_TIMEOUT);
	assert_int_equal(s->held, 3);
	assert_int_equal(s->timed_out, 0);
	/* the entry's age counts from its first fragment */
	t_settle(f, 1000 + T_TIMEOUT + 1);
	assert_int_equal(s->held, 0);
	assert_int_equal(s->timed_out, 3);
	assert_int_equal(dp_frag_mbufs_in_use(f), 0);

	/* a late piece of an expired datagram restarts it (no tick between) */
	t_v4(&t_a, 2000, 21, 0, 0, 800);
	assert_int_equal(t_feed(f, &t_a.frag[0], 10000), 0);
	assert_int_equal(t_feed(f, &t_a.frag[1], 10000 + T_TIMEOUT + 1), 0);
	t_check(f);
	assert_int_equal(s->timed_out, 4);
	assert_int_equal(s->held, 1);
	assert_int_equal(t_feed(f, &t_a.frag[2], 10000 + T_TIMEOUT + 2), 0);
	assert_int_equal(s->held, 2);
	t_settle(f, 10000 + 2 * T_TIMEOUT + 2);
	assert_int_equal(s->held, 0);
	assert_int_equal(s->timed_out, 6);
	assert_int_equal(s->reassembled, 0);
	dp_frag_free(f);
}

/* More datagrams in flight than entries: refused, then room again. */
static void
test_table_full(void **state)
{
	struct dp_frag *f = t_create(64);
	const struct dp_frag_stats *s = dp_frag_stats(f);
	unsigned int i, round;
	uint64_t t0;

	(void)state;
	for (round = 0; round < 3; round++) {
		t0 = 1000 + (uint64_t)round * 10 * T_TIMEOUT;
		for (i = 0; i < 80; i++) {
			if (i & 1)
				t_v6(&t_a, 2000, 1000 * round + i, 0, 800);
			else
				t_v4(&t_a, 2000, (uint16_t)(1000 * round + i), 0, 0, 800);
			assert_int_equal(t_feed(f, &t_a.frag[0], t0 + i), 0);
			t_check(f);
		}
		/* collisions may refuse a few before the table is full */
		assert_true(s->held <= 64);
		assert_true(s->held >= 56);
		assert_int_equal(s->no_space, (round + 1) * 80 - (s->timed_out + s->held));
		t_settle(f, t0 + 80);
		/* expired: every fragment back in the pool */
		t_settle(f, t0 + 80 + T_TIMEOUT);
		assert_int_equal(s->held, 0);
		assert_int_equal(dp_frag_mbufs_in_use(f), 0);
		/* and whole datagrams go through again */
		for (i = 0; i < 80; i++) {
			t_v4(&t_b, 2000, (uint16_t)(30000 + 1000 * round + i), 0, 0, 800);
			t_run(f, &t_b, (const unsigned int[]){ 1, 2, 0 }, t0 + 5 * T_TIMEOUT);
		}
	}
	assert_int_equal(s->reassembled, 240);
	t_settle(f, 100 * T_TIMEOUT);
	dp_frag_free(f);
}

/* Four datagrams at once, same addresses, both families, round-robin. */
static void
test_interleaved(void **state)
{
	struct dp_frag *f = t_create(64);
	struct t_set *sets[4] = { &t_a, &t_b, &t_c, &t_d };
	unsigned int i, k, done = 0;
	uint32_t n;

	(void)state;
	t_v4(&t_a, 2000, 77, 0, 0, 800);
	t_v4(&t_b, 2100, 78, 4, 4, 800);
	t_v6(&t_c, 2000, 77, 0, 800);
	t_v6(&t_d, 2100, 78, 8, 800);
	for (i = 0; i < 3; i++)
		for (k = 0; k < 4; k++) {
			n = t_feed(f, &sets[k]->frag[(i + k) % 3], 100 + i);
			t_check(f);
			if (i < 2) {
				assert_int_equal(n, 0);
			} else {
				t_expect_orig(n, sets[k]);
				done++;
			}
		}
	assert_int_equal(done, 4);
	t_settle(f, 200);
	dp_frag_free(f);
}

/* IPv4 options: 24 and 40 bytes in the first piece, fewer after. */
static void
test_v4_options(void **state)
{
	struct dp_frag *f = t_create(64);
	unsigned int order[2][4] = { { 0, 1, 2 }, { 2, 1, 0 } };
	unsigned int r;

	(void)state;
	for (r = 0; r < 2; r++) {
		t_v4(&t_a, 2000, (uint16_t)(200 + r), 4, 4, 800);
		assert_int_equal(t_a.frag[0].l3_hlen, 24);
		t_run(f, &t_a, order[r], 10);
		t_v4(&t_a, 2000, (uint16_t)(300 + r), 20, 4, 800);
		assert_int_equal(t_a.frag[0].l3_hlen, 40);
		assert_int_equal(t_a.frag[1].l3_hlen, 24);
		t_run(f, &t_a, order[r], 10);
		t_v4(&t_a, 2000, (uint16_t)(400 + r), 40, 0, 800);
		assert_int_equal(t_a.frag[0].l3_hlen, 60);
		t_run(f, &t_a, order[r], 10);
	}
	t_settle(f, 10);
	dp_frag_free(f);
}

/* IPv6 extension headers before the fragment header, and atomic fragments. */
static void
test_v6_ext(void **state)
{
	struct dp_frag *f = t_create(64);
	const struct dp_frag_stats *s = dp_frag_stats(f);
	unsigned int order[2][3] = { { 0, 1, 2 }, { 1, 2, 0 } };
	struct t_pkt *p;
	unsigned int r;

	(void)state;
	for (r = 0; r < 2; r++) {
		t_v6(&t_a, 2000, 500 + r, 8, 800);
		assert_int_equal(t_a.frag[0].l3_hlen, 48);
		assert_int_equal(t_a.orig.b[6], 60);
		t_run(f, &t_a, order[r], 10);
		t_v6(&t_a, 2000, 600 + r, 16, 800);
		assert_int_equal(t_a.orig.b[6], 0);
		t_run(f, &t_a, order[r], 10);
	}
	/* an atomic fragment (offset 0, no more) is the datagram at once */
	t_v6(&t_a, 2000, 700, 8, 4000);
	assert_int_equal(t_a.n, 1);
	t_expect_orig(t_feed(f, &t_a.frag[0], 10), &t_a);
	t_v6(&t_a, 2000, 701, 0, 4000);
	t_expect_orig(t_feed(f, &t_a.frag[0], 10), &t_a);
	assert_int_equal(s->reassembled, 6);
	/* a chain that does not end in the fragment header: bad */
	t_v6(&t_a, 2000, 702, 8, 800);
	p = &t_a.frag[0];
	p->b[40] = 17;
	assert_int_equal(t_feed(f, p, 10), 0);
	assert_int_equal(s->bad, 1);
	t_settle(f, 10);
	dp_frag_free(f);
}

/* Malformed or oversized input is counted, never reassembled. */
static void
test_bad_input(void **state)
{
	struct dp_frag *f = t_create(64);
	const struct dp_frag_stats *s = dp_frag_stats(f);
	struct t_pkt *p = &t_b.frag[0];
	uint64_t bad = 0;
	uint32_t n;

	(void)state;
	t_v4(&t_a, 2000, 900, 0, 0, 800);
	*p = t_a.frag[1];
	p->l3_hlen = 24; /* not the header's */
	assert_int_equal(t_feed(f, p, 10), 0);
	assert_int_equal(s->bad, ++bad);
	*p = t_a.frag[1];
	p->len -= 1; /* not the header's total length */
	assert_int_equal(t_feed(f, p, 10), 0);
	assert_int_equal(s->bad, ++bad);
	*p = t_a.frag[0];
	t_be16(p->b + 2, p->len - 4); /* a more-fragments piece not of 8s */
	p->len -= 4;
	assert_int_equal(t_feed(f, p, 10), 0);
	assert_int_equal(s->bad, ++bad);
	*p = t_a.frag[1];
	t_be16(p->b + 6, 0x2000 | 8190); /* ends past 65535 */
	assert_int_equal(t_feed(f, p, 10), 0);
	assert_int_equal(s->bad, ++bad);
	*p = t_a.frag[1];
	p->len = 20; /* no payload */
	t_be16(p->b + 2, 20);
	assert_int_equal(t_feed(f, p, 10), 0);
	assert_int_equal(s->bad, ++bad);
	*p = t_a.frag[1];
	p->family = 5;
	assert_int_equal(t_feed(f, p, 10), 0);
	assert_int_equal(s->bad, ++bad);
	assert_int_equal(dp_frag_input(f, NULL, 100, 4, 20, 0, 10, t_out, sizeof(t_out)), 0);
	assert_int_equal(s->bad, ++bad);
	t_v6(&t_a, 2000, 900, 0, 800);
	*p = t_a.frag[1];
	p->v6_frag_off = 48; /* not where it is */
	assert_int_equal(t_feed(f, p, 10), 0);
	assert_int_equal(s->bad, ++bad);
	*p = t_a.frag[1];
	p->b[0] = 0x40; /* not version 6 */
	assert_int_equal(t_feed(f, p, 10), 0);
	assert_int_equal(s->bad, ++bad);
	t_check(f);
	assert_int_equal(s->held, 0);

	/*
	 * A datagram bigger than the caller's buffer: all its fragments,
	 * counted as fragments when they are chains of mbufs (9620 bytes:
	 * 5 mbufs each).
	 */
	t_v4(&t_a, 20000, 901, 0, 0, 9600);
	assert_int_equal(t_a.n, 3);
	assert_int_equal(t_feed(f, &t_a.frag[0], 10), 0);
	assert_int_equal(t_feed(f, &t_a.frag[1], 10), 0);
	assert_int_equal(s->held, 2);
	assert_int_equal(s->held_mbufs, 10);
	n = dp_frag_input(f, t_a.frag[2].b, t_a.frag[2].len, 4, 20, 0, 10, t_out, 15000);
	assert_int_equal(n, 0);
	assert_int_equal(s->too_big, 3);
	assert_int_equal(s->held_mbufs, 0);
	t_v4(&t_a, 2000, 902, 0, 0, 800);
	assert_int_equal(t_feed(f, &t_a.frag[0], 10), 0);
	assert_int_equal(t_feed(f, &t_a.frag[1], 10), 0);
	n = dp_frag_input(f, t_a.frag[2].b, t_a.frag[2].len, 4, 20, 0, 10, t_out, 1000);
	assert_int_equal(n, 0);
	assert_int_equal(s->too_big, 6);
	assert_int_equal(s->reassembled, 0);
	t_settle(f, 10);
	assert_int_equal(dp_frag_mbufs_in_use(f), 0);
	dp_frag_free(f);
}

/*
 * Jumbo fragments: a 24 KB datagram in 3 fragments of 8000 bytes (4 mbufs
 * each), IPv4 (with and without options) and IPv6 (with and without
 * extension headers before the fragment header), in every order; and a
 * 60 KB datagram in 2 fragments of 30 KB (15 mbufs each).
 */
static void
test_jumbo_chained(void **state)
{
	static const unsigned int order[6][3] = {
		{ 0, 1, 2 },
		{ 0, 2, 1 },
		{ 1, 0, 2 },
		{ 1, 2, 0 },
		{ 2, 0, 1 },
		{ 2, 1, 0 },
	};
	struct dp_frag *f = t_create(64);
	const struct dp_frag_stats *s = dp_frag_stats(f);
	unsigned int o, v, runs = 0;

	(void)state;
	for (v = 0; v < 4; v++)
		for (o = 0; o < 6; o++) {
			/* UDP of 24000 bytes: 3 x 8000 */
			if (v == 0)
				t_v4(&t_a, 23992, (uint16_t)(1100 + o), 0, 0, 8000);
			else if (v == 1)
				t_v4(&t_a, 23992, (uint16_t)(1200 + o), 40, 0, 8000);
			else if (v == 2)
				t_v6(&t_a, 23992, 1300 + o, 0, 8000);
			else
				t_v6(&t_a, 23992, 1400 + o, 16, 8000);
			assert_int_equal(t_a.n, 3);
			assert_int_equal(t_feed(f, &t_a.frag[order[o][0]], 10), 0);
			assert_int_equal(s->held, 1);
			assert_int_equal(s->held_mbufs, 4);
			t_run(f, &t_a, order[o], 10);
			assert_int_equal(s->held_mbufs, 0);
			runs++;
		}
	assert_int_equal(s->reassembled, runs);
	assert_int_equal(s->reassembled_fragments, 3 * runs);
	/* nearly the largest datagram IP allows, in two halves */
	t_v4(&t_a, 59992, 1500, 0, 0, 30000);
	assert_int_equal(t_a.n, 2);
	t_run(f, &t_a, (const unsigned int[]){ 1, 0 }, 20);
	t_v6(&t_a, 59992, 1501, 8, 30000);
	t_run(f, &t_a, (const unsigned int[]){ 0, 1 }, 20);
	assert_int_equal(s->reassembled_fragments, 3 * runs + 4);
	assert_int_equal(s->bad + s->too_big + s->no_mbuf, 0);
	t_settle(f, 20);
	assert_int_equal(dp_frag_mbufs_in_use(f), 0);
	dp_frag_free(f);
}

/*
 * Jumbo pieces that leave a hole: the library chains the last two
 * (chains of mbufs) before it finds the hole and frees several chains of
 * chains; then one that expires and one refused for lack of room. Each
 * is counted once per fragment, never per mbuf.
 */
static void
test_jumbo_failures(void **state)
{
	struct dp_frag *f = t_create(8);
	const struct dp_frag_stats *s = dp_frag_stats(f);
	struct t_pkt *p = t_b.frag;
	unsigned int i;

	(void)state;
	t_v4(&t_b, 23992, 1600, 0, 0, 8000);
	t_v4_piece(&p[0], &t_b, 0, 8000, 1);
	t_v4_piece(&p[1], &t_b, 10000, 6000, 1);
	t_v4_piece(&p[2], &t_b, 16000, 8000, 0);
	t_v4_piece(&p[3], &t_b, 6000, 2000, 1);
	for (i = 0; i < 4; i++) {
		assert_int_equal(t_feed(f, &p[i], 10), 0);
		t_check(f);
	}
	/* 4 + 3 + 4 + 1 mbufs, 4 fragments */
	assert_int_equal(s->bad, 4);
	assert_int_equal(s->held, 0);
	assert_int_equal(s->held_mbufs, 0);
	t_settle(f, 10);
	assert_int_equal(dp_frag_mbufs_in_use(f), 0);

	/* two jumbo pieces of a datagram that never completes: timed out, 2 */
	t_v6(&t_a, 23992, 1601, 16, 8000);
	assert_int_equal(t_feed(f, &t_a.frag[2], 20), 0);
	assert_int_equal(t_feed(f, &t_a.frag[0], 20), 0);
	assert_int_equal(s->held_mbufs, 8);
	t_settle(f, 20 + T_TIMEOUT + 1);
	assert_int_equal(s->timed_out, 2);
	assert_int_equal(s->held_mbufs, 0);

	/* a late jumbo piece of an expired datagram restarts it, no tick */
	t_v4(&t_a, 23992, 1602, 0, 0, 8000);
	assert_int_equal(t_feed(f, &t_a.frag[0], 10000), 0);
	assert_int_equal(t_feed(f, &t_a.frag[2], 10000), 0);
	assert_int_equal(t_feed(f, &t_a.frag[1], 10000 + T_TIMEOUT + 1), 0);
	t_check(f);
	assert_int_equal(s->timed_out, 4);
	assert_int_equal(s->held, 1);
	assert_int_equal(s->held_mbufs, 4);
	t_settle(f, 10000 + 2 * T_TIMEOUT + 2);
	assert_int_equal(s->timed_out, 5);

	/* a full table refuses a jumbo piece: one fragment, no space */
	for (i = 0; i < 8; i++) {
		t_v4(&t_a, 23992, (uint16_t)(1700 + i), 0, 0, 8000);
		assert_int_equal(t_feed(f, &t_a.frag[1], 20000), 0);
	}
	t_v6(&t_a, 23992, 1710, 0, 8000);
	assert_int_equal(t_feed(f, &t_a.frag[1], 20000), 0);
	t_check(f);
	assert_int_equal(s->held + s->no_space, 9);
	assert_true(s->no_space >= 1);
	assert_int_equal(s->held_mbufs, 4 * s->held);
	t_settle(f, 20000 + T_TIMEOUT + 1);
	assert_int_equal(dp_frag_mbufs_in_use(f), 0);
	dp_frag_free(f);
}

/*
 * A flood of many-fragment datagrams (9 KB in 8 pieces of 1200 bytes,
 * the last never sent) runs the pool dry before the table is full: what
 * it cannot take is no_mbuf and nothing else changes; after expiry the
 * pool is whole again and datagrams go through.
 */
static void
test_pool_dry(void **state)
{
	struct dp_frag *f = t_create(256);
	const struct dp_frag_stats *s = dp_frag_stats(f);
	uint64_t held, held_mbufs, no_mbuf, no_space;
	unsigned int i, k, dry = 0;

	(void)state;
	/* 2 per entry, the death row (288) and one largest fragment (33) */
	assert_int_equal(dp_frag_pool_size(f), 256 * 2 + 288 + 33);
	for (i = 0; i < 200; i++) {
		if (i & 1)
			t_v6(&t_a, 9000, 2000 + i, 0, 1200);
		else
			t_v4(&t_a, 9000, (uint16_t)(2000 + i), 0, 0, 1200);
		assert_int_equal(t_a.n, 8);
		for (k = 0; k < 7; k++) {
			no_mbuf = s->no_mbuf;
			held = s->held;
			no_space = s->no_space;
			assert_int_equal(t_feed(f, &t_a.frag[k], 100), 0);
			t_check(f);
			if (s->no_mbuf == no_mbuf)
				continue;
			/* refused, and nothing else moved */
			assert_int_equal(s->no_mbuf, no_mbuf + 1);
			assert_int_equal(s->held, held);
			assert_int_equal(s->no_space, no_space);
			if (dry++ == 0)
				assert_int_equal(dp_frag_mbufs_in_use(f), dp_frag_pool_size(f));
		}
	}
	assert_true(dry > 0);
	assert_int_equal(s->no_mbuf, dry);
	assert_int_equal(s->bad + s->timed_out, 0);
	/* the pool, not the table, filled first */
	assert_true(s->no_space < 50);
	assert_true(s->held < 7 * 256);
	/* a dry pool keeps what it holds */
	held = s->held;
	held_mbufs = s->held_mbufs;
	t_settle(f, 100 + T_TIMEOUT);
	assert_int_equal(s->held, held);
	assert_int_equal(s->held_mbufs, held_mbufs);
	/* expired: every mbuf back, and whole datagrams go through again */
	t_settle(f, 100 + T_TIMEOUT + 1);
	assert_int_equal(s->held, 0);
	assert_int_equal(dp_frag_mbufs_in_use(f), 0);
	assert_int_equal(s->timed_out, held);
	for (i = 0; i < 200; i++) {
		if (i & 1)
			t_v6(&t_a, 9000, 3000 + i, 0, 1200);
		else
			t_v4(&t_a, 9000, (uint16_t)(3000 + i), 0, 0, 1200);
		t_run(f, &t_a, (const unsigned int[]){ 7, 0, 1, 2, 3, 4, 5, 6 }, 10000);
	}
	assert_int_equal(s->reassembled, 200);
	assert_int_equal(s->no_mbuf, dry);
	t_settle(f, 10000);
	dp_frag_free(f);
}

/*
 * The default table (4096 entries) fits the unit-test EAL (256 MiB, no
 * hugepages) three times over, as several workers do, twice in a row;
 * and what each takes from the DPDK heap is printed.
 */
static void
test_create_default(void **state)
{
	struct rte_malloc_socket_stats before, after;
	struct dp_frag *f[3];
	char err[256] = "";
	unsigned int round, i;
	size_t used;

	(void)state;
	for (round = 0; round < 2; round++) {
		assert_int_equal(rte_malloc_get_socket_stats(0, &before), 0);
		for (i = 0; i < 3; i++) {
			f[i] = dp_frag_create(4096, T_TIMEOUT, 0, err, sizeof(err));
			if (f[i] == NULL)
				fail_msg("worker %u: %s", i, err);
			assert_int_equal(dp_frag_pool_size(f[i]), 4096 * 2 + 288 + 33);
		}
		assert_int_equal(rte_malloc_get_socket_stats(0, &after), 0);
		used = (after.heap_allocsz_bytes - before.heap_allocsz_bytes) / 3;
		print_message("dp_frag at 4096 entries: %zu bytes (%.1f MiB) of DPDK heap per "
			      "worker, pool of %u mbufs\n",
			used, (double)used / (1 << 20), dp_frag_pool_size(f[0]));
		assert_true(used < 24u << 20);
		/* and it works: a jumbo datagram through each */
		t_v6(&t_a, 23992, 1800 + round, 16, 8000);
		for (i = 0; i < 3; i++) {
			t_run(f[i], &t_a, (const unsigned int[]){ 2, 1, 0 }, 10);
			t_settle(f[i], 10);
			dp_frag_free(f[i]);
		}
		assert_int_equal(rte_malloc_get_socket_stats(0, &after), 0);
		assert_int_equal(after.heap_allocsz_bytes, before.heap_allocsz_bytes);
	}
}

/* Creation bounds and geometry. */
static void
test_create(void **state)
{
	char err[256] = "";
	struct dp_frag *f;

	(void)state;
	assert_null(dp_frag_create(0, 1000, 0, err, sizeof(err)));
	assert_true(strstr(err, "fragments") != NULL);
	assert_null(dp_frag_create(64, 0, 0, err, sizeof(err)));
	/* tiny: rounded up to 8 entries */
	f = dp_frag_create(1, 1000, 0, err, sizeof(err));
	assert_non_null(f);
	dp_frag_free(f);
	dp_frag_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_all_orders),
		cmocka_unit_test(test_jumbo),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_v4_options),
		cmocka_unit_test(test_v6_ext),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_jumbo_chained),
		cmocka_unit_test(test_jumbo_failures),
		cmocka_unit_test(test_pool_dry),
		cmocka_unit_test(test_create_default),
	};

	if (sg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

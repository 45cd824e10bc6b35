/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP reassembly for one worker over DPDK's rte_ip_frag. Each fragment is
 * checked, filtered for exact duplicates, copied into an mbuf of a
 * private pool and handed to the library's table; a completed datagram is
 * copied out of its mbuf chain into the caller's buffer and the chain is
 * freed at once, so the pool only ever holds fragments still waiting.
 *
 * The library reports nothing but "datagram" or "not yet": what it
 * dropped, and why, is read from its death row. A call adds to the row
 * (a) the fragments of an expired entry it freed to make room, or of an
 * expired entry of the same datagram it restarted; (b) our fragment alone
 * when no entry could be had; (c) our fragment with every fragment of its
 * datagram when they did not fit together. (a) always leaves our fragment
 * first in a fresh entry, where one fragment can never fail, so (a) never
 * meets (b) or (c) in one call: our fragment absent from the new entries
 * means they are all (a), timed out; present alone, (b), no space;
 * present with others, (c), bad.
 *
 * Mbufs have the standard 2 KiB data room: a larger fragment (a jumbo
 * frame's, up to the 64 KiB IP allows) is copied into a chain of them.
 * The library handles that: it only moves the start of a fragment's
 * first mbuf (past l2_len + l3_len, which always fit in it) and chains
 * fragments after their last mbuf. A row entry or a rebuilt datagram is
 * therefore a chain of fragments that are chains of mbufs (a datagram
 * that failed half-way through being chained comes back as several
 * chains), and fragments are counted by their first mbuf, the only one
 * with l3_len set: rte_pktmbuf_alloc clears it, the library reads it
 * there and never writes it.
 *
 * IPv6: the library assumes the fragment header follows the fixed
 * header. Extension headers before it (hop-by-hop, routing, destination
 * options) are therefore moved in front of the IPv6 header in the mbuf,
 * where the library sees them as link-layer bytes (l2_len, at most 127)
 * that it keeps on the first fragment and strips from the others; the
 * next-header chain is pre-patched so that the header the library writes
 * back is the right one, and the copy out puts them back after the IPv6
 * header.
 */
#define ALLOW_EXPERIMENTAL_API

#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dp_frag.h"

#define DP_FRAG_MIN_ENTRIES 8
#define DP_FRAG_BUCKET_WAYS 8 /* per bucket; each key has two buckets */
#define DP_FRAG_MAX_FRAGS RTE_LIBRTE_IP_FRAG_MAX_FRAG
/* row entries (chains) one library call may add: 8 of a datagram + ours */
#define DP_FRAG_DR_PER_CALL (DP_FRAG_MAX_FRAGS + 1)
#define DP_FRAG_V4_MF 0x2000
#define DP_FRAG_V4_OFFSET 0x1fff
#define DP_FRAG_V6_HLEN 40
/* bytes one mbuf of the pool carries */
#define DP_FRAG_SEG_ROOM ((uint32_t)RTE_MBUF_DEFAULT_DATAROOM)
/* mbufs one fragment may take: an IPv6 packet is up to 40 + 65535 bytes */
#define DP_FRAG_SEGS_MAX ((DP_FRAG_V6_HLEN + UINT16_MAX + DP_FRAG_SEG_ROOM - 1) / DP_FRAG_SEG_ROOM)
/* mbufs in the pool per table entry: a typical datagram, 2 fragments of 1 */
#define DP_FRAG_POOL_PER_ENTRY 2
#define DP_FRAG_V6_FHLEN 8
/* extension headers before the fragment header: carried in l2_len (7 bits) */
#define DP_FRAG_V6_MAX_UNFRAG 120
#define DP_FRAG_DUP_WAYS 4
/* a slot that matches nothing (digests are odd) and goes first; 0 ends a set */
#define DP_FRAG_DUP_FORGOTTEN 2
#define DP_FRAG_PROTO_HOPOPTS 0
#define DP_FRAG_PROTO_ROUTING 43
#define DP_FRAG_PROTO_FRAGMENT 44
#define DP_FRAG_PROTO_AH 51
#define DP_FRAG_PROTO_DSTOPTS 60

/* One fragment seen: digest of its identity and when (ms); key 0 is empty. */
struct dp_frag_dup {
	uint64_t key;
	uint64_t t;
};

/* What makes two fragments the same fragment; hashed, never stored. */
struct dp_frag_dupkey {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint16_t off;
	uint16_t len;
	uint8_t family;
	uint8_t proto;
	uint8_t mf;
	uint8_t pad;
};

/* A fragment as checked by dp_frag_check. */
struct dp_frag_desc {
	uint32_t dlen;	 /* payload bytes */
	uint32_t off;	 /* payload offset in the datagram */
	uint32_t unfrag; /* IPv6: extension header bytes before the fragment header */
	uint32_t nh_pos; /* IPv6: byte holding "next header = fragment" */
	uint8_t mf;	 /* more fragments */
	uint8_t proto;	 /* IPv4 protocol; IPv6 fragment header's next header */
	uint32_t id;
};

struct dp_frag {
	struct rte_ip_frag_tbl *tbl;
	struct rte_mempool *pool;
	struct dp_frag_dup *dup;
	uint32_t dup_mask; /* sets - 1 */
	uint32_t timeout_ms;
	uint32_t pool_size; /* mbufs */
	struct dp_frag_stats st;
	struct rte_ip_frag_death_row dr;
};

static uint32_t dp_frag_seq;

static inline uint16_t
dp_frag_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
dp_frag_put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Header checksum over bytes: `h` need not be aligned. */
static uint16_t
dp_frag_ipv4_cksum(const uint8_t *h, uint32_t hlen)
{
	uint32_t s = 0;
	uint32_t i;

	for (i = 0; i + 1 < hlen; i += 2)
		if (i != 10)
			s += dp_frag_be16(h + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * The private pool: rte_pktmbuf_pool_create's, with two differences.
 * Only its worker takes and returns its mbufs, so a single-producer,
 * single-consumer ring without a per-lcore cache (whose array alone,
 * for every possible lcore, would be 1 MiB); and no device reads it, so
 * objects need not be IOVA-contiguous: on 4 KiB pages (an EAL without
 * hugepages) that would leave one 2.3 KiB mbuf per page.
 */
static struct rte_mempool *
dp_frag_pool_create(const char *name, uint32_t n, int socket_id)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = RTE_MBUF_DEFAULT_BUF_SIZE,
		.mbuf_priv_size = 0,
	};
	struct rte_mempool *mp;
	int rc;

	mp = rte_mempool_create_empty(name, n, sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE,
		0, sizeof(priv), socket_id, RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (mp == NULL)
		return NULL;
	rc = rte_mempool_set_ops_byname(mp, "ring_sp_sc", NULL);
	if (rc == 0) {
		rte_pktmbuf_pool_init(mp, &priv);
		rc = rte_mempool_populate_default(mp);
		rc = rc < 0 ? rc : 0;
	}
	if (rc != 0) {
		rte_mempool_free(mp);
		rte_errno = -rc;
		return NULL;
	}
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
}

struct dp_frag *
dp_frag_create(uint32_t entries, uint32_t timeout_ms, int socket_id, char *err, size_t errlen)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct dp_frag *f;
	uint32_t n, mbufs, sets;

	if (entries == 0 || entries > (1u << 24) || timeout_ms == 0) {
		snprintf(err, errlen, "fragments: entries %u or timeout %u ms out of range",
			entries, timeout_ms);
		return NULL;
	}
	n = rte_align32pow2(RTE_MAX(entries, (uint32_t)DP_FRAG_MIN_ENTRIES));
	f = rte_zmalloc_socket("dp_frag", sizeof(*f), RTE_CACHE_LINE_SIZE, socket_id);
	if (f == NULL) {
		snprintf(err, errlen, "fragments: out of memory on socket %d", socket_id);
		return NULL;
	}
	f->timeout_ms = timeout_ms;
	/* the table's clock is packet time in ms: its "cycles" are ms */
	f->tbl = rte_ip_frag_table_create(
		n / DP_FRAG_BUCKET_WAYS, DP_FRAG_BUCKET_WAYS, n, timeout_ms, socket_id);
	if (f->tbl == NULL) {
		snprintf(err, errlen, "fragments: cannot create a table of %u datagrams", n);
		goto fail;
	}
	/*
	 * Sized for typical traffic, not for the worst case (see dp_frag.h):
	 * 2 mbufs per entry, the death row's length (freed every burst), and
	 * the largest fragment in flight. A pool run dry is counted (no_mbuf).
	 */
	mbufs = n * DP_FRAG_POOL_PER_ENTRY + RTE_IP_FRAG_DEATH_ROW_MBUF_LEN + DP_FRAG_SEGS_MAX;
	snprintf(name, sizeof(name), "dp_frag_%u",
		__atomic_fetch_add(&dp_frag_seq, 1, __ATOMIC_RELAXED));
	f->pool = dp_frag_pool_create(name, mbufs, socket_id);
	if (f->pool == NULL) {
		snprintf(err, errlen, "fragments: cannot create a pool of %u mbufs of %u bytes: %s",
			mbufs, (unsigned int)RTE_MBUF_DEFAULT_BUF_SIZE, rte_strerror(rte_errno));
		goto fail;
	}
	f->pool_size = mbufs;
	/* room for every fragment the table can hold */
	sets = n * DP_FRAG_MAX_FRAGS / DP_FRAG_DUP_WAYS;
	f->dup = rte_zmalloc_socket("dp_frag_dup",
		(size_t)sets * DP_FRAG_DUP_WAYS * sizeof(f->dup[0]), RTE_CACHE_LINE_SIZE,
		socket_id);
	if (f->dup == NULL) {
		snprintf(err, errlen, "fragments: out of memory for the duplicate filter");
		goto fail;
	}
	f->dup_mask = sets - 1;
	return f;
fail:
	dp_frag_free(f);
	return NULL;
}

void
dp_frag_free(struct dp_frag *f)
{
	if (f == NULL)
		return;
	/* the table frees the fragments it holds into the pool: pool last */
	if (f->tbl != NULL)
		rte_ip_frag_table_destroy(f->tbl);
	rte_ip_frag_free_death_row(&f->dr, 0);
	rte_mempool_free(f->pool);
	rte_free(f->dup);
	rte_free(f);
}

/*
 * Check one fragment's headers against what the caller says and what the
 * library needs, so that nothing the library would reject, truncate or
 * misread reaches it. Returns 0 or -1 (bad).
 */
static int
dp_frag_check(const uint8_t *ip, uint32_t len, uint8_t family, uint16_t l3_hlen,
	uint16_t v6_frag_off, struct dp_frag_desc *d)
{
	const uint8_t *fh;
	uint32_t off, hlen, next, fo;

	memset(d, 0, sizeof(*d));
	if (family == 4) {
		if (len < 20 || (ip[0] >> 4) != 4 || (uint32_t)(ip[0] & 0x0f) * 4 != l3_hlen ||
			l3_hlen < 20 || len <= l3_hlen || dp_frag_be16(ip + 2) != len)
			return -1;
		fo = dp_frag_be16(ip + 6);
		d->dlen = len - l3_hlen;
		d->off = (fo & DP_FRAG_V4_OFFSET) * 8;
		d->mf = (fo & DP_FRAG_V4_MF) != 0;
		d->proto = ip[9];
		d->id = dp_frag_be16(ip + 4);
		/* the rebuilt total length must fit its 16 bits */
		if (d->off + d->dlen + l3_hlen > UINT16_MAX)
			return -1;
	} else if (family == 6) {
		if (len < DP_FRAG_V6_HLEN + DP_FRAG_V6_FHLEN || (ip[0] >> 4) != 6 ||
			v6_frag_off != l3_hlen || l3_hlen < DP_FRAG_V6_HLEN ||
			(uint32_t)l3_hlen + DP_FRAG_V6_FHLEN >= len ||
			(uint32_t)dp_frag_be16(ip + 4) + DP_FRAG_V6_HLEN != len)
			return -1;
		d->unfrag = l3_hlen - DP_FRAG_V6_HLEN;
		if (d->unfrag > DP_FRAG_V6_MAX_UNFRAG)
			return -1;
		/* walk the chain to the fragment header, which must end it exactly */
		d->nh_pos = 6;
		next = ip[6];
		off = DP_FRAG_V6_HLEN;
		while (off < l3_hlen) {
			if (next != DP_FRAG_PROTO_HOPOPTS && next != DP_FRAG_PROTO_ROUTING &&
				next != DP_FRAG_PROTO_DSTOPTS && next != DP_FRAG_PROTO_AH)
				return -1;
			if (off + 2 > l3_hlen)
				return -1;
			if (next == DP_FRAG_PROTO_AH)
				hlen = ((uint32_t)ip[off + 1] + 2) * 4;
			else
				hlen = ((uint32_t)ip[off + 1] + 1) * 8;
			if (hlen > l3_hlen - off)
				return -1;
			d->nh_pos = off;
			next = ip[off];
			off += hlen;
		}
		if (next != DP_FRAG_PROTO_FRAGMENT)
			return -1;
		fh = ip + l3_hlen;
		fo = dp_frag_be16(fh + 2);
		d->dlen = len - l3_hlen - DP_FRAG_V6_FHLEN;
		d->off = fo & 0xfff8;
		d->mf = fo & 1;
		d->proto = fh[0];
		memcpy(&d->id, fh + 4, sizeof(d->id));
		/* the rebuilt payload length (extension headers too) must fit */
		if (d->off + d->dlen + d->unfrag > UINT16_MAX)
			return -1;
	} else {
		return -1;
	}
	/* all but the last carry a multiple of 8 bytes, or offsets cannot meet */
	if (d->mf && (d->dlen & 7) != 0)
		return -1;
	return 0;
}

/*
 * Has this very fragment been seen within the timeout? Remembers it if
 * not, in *slot (so that a fragment the pool had no room for can be
 * forgotten again). A full set forgets its oldest: a duplicate missed
 * that way reaches the library and fails its datagram (counted bad),
 * nothing worse.
 */
static int
dp_frag_dup_seen(struct dp_frag *f, const uint8_t *ip, uint8_t family, const struct dp_frag_desc *d,
	uint64_t now, struct dp_frag_dup **slot)
{
	struct dp_frag_dupkey k;
	struct dp_frag_dup *set, *victim;
	uint64_t h;
	unsigned int i;

	memset(&k, 0, sizeof(k));
	if (family == 4) {
		memcpy(k.src, ip + 12, 4);
		memcpy(k.dst, ip + 16, 4);
	} else {
		memcpy(k.src, ip + 8, 16);
		memcpy(k.dst, ip + 24, 16);
	}
	k.id = d->id;
	k.off = (uint16_t)d->off;
	k.len = (uint16_t)d->dlen;
	k.family = family;
	k.proto = d->proto;
	k.mf = d->mf;
	h = XXH3_64bits(&k, sizeof(k)) | 1;
	set = &f->dup[(size_t)((h >> 32) & f->dup_mask) * DP_FRAG_DUP_WAYS];
	victim = &set[0];
	for (i = 0; i < DP_FRAG_DUP_WAYS; i++) {
		if (set[i].key == h) {
			/* the same age rule as the table: stale after start + timeout */
			if (set[i].t + f->timeout_ms >= now)
				return 1;
			set[i].t = now;
			*slot = &set[i];
			return 0;
		}
		if (set[i].key == 0 || set[i].t < victim->t)
			victim = &set[i];
		if (victim->key == 0)
			break;
	}
	victim->key = h;
	victim->t = now;
	*slot = victim;
	return 0;
}

/* Bytes [off, off + n) of a chain into dst. */
static void
dp_frag_read(const struct rte_mbuf *m, uint32_t off, uint32_t n, uint8_t *dst)
{
	const void *p = rte_pktmbuf_read(m, off, n, dst);

	if (p != NULL && p != dst)
		memcpy(dst, p, n);
}

/* A fragment that is a whole datagram: drop the fragment header if any. */
static uint32_t
dp_frag_atomic(struct dp_frag *f, const uint8_t *ip, uint32_t len, uint8_t family, uint16_t l3_hlen,
	const struct dp_frag_desc *d, uint8_t *out, uint32_t cap)
{
	uint32_t n = family == 4 ? len : len - DP_FRAG_V6_FHLEN;

	if (n > cap) {
		f->st.too_big++;
		return 0;
	}
	if (family == 4) {
		memcpy(out, ip, len);
		dp_frag_put_be16(out + 10, dp_frag_ipv4_cksum(out, l3_hlen));
	} else {
		memcpy(out, ip, l3_hlen);
		memcpy(out + l3_hlen, ip + l3_hlen + DP_FRAG_V6_FHLEN, d->dlen);
		out[d->nh_pos] = d->proto;
		dp_frag_put_be16(out + 4, n - DP_FRAG_V6_HLEN);
	}
	f->st.reassembled++;
	f->st.reassembled_fragments++;
	return n;
}

/* Bytes [at, at + n) of a fresh chain (every mbuf DP_FRAG_SEG_ROOM) from src. */
static void
dp_frag_put(struct rte_mbuf *const *seg, uint32_t at, const uint8_t *src, uint32_t n)
{
	uint32_t o, c;

	while (n > 0) {
		o = at % DP_FRAG_SEG_ROOM;
		c = RTE_MIN(n, DP_FRAG_SEG_ROOM - o);
		memcpy(rte_pktmbuf_mtod_offset(seg[at / DP_FRAG_SEG_ROOM], uint8_t *, o), src, c);
		at += c;
		src += c;
		n -= c;
	}
}

/*
 * Copy a fragment into the k mbufs of seg, chained, in the layout the
 * library expects (see top). Its headers (at most 168 bytes) lie in the
 * first mbuf, as the library needs; so do l2_len and l3_len. Returns a
 * pointer to the fragment's first byte.
 */
static uint8_t *
dp_frag_fill(struct rte_mbuf *const *seg, uint32_t k, const uint8_t *ip, uint32_t len,
	uint8_t family, uint16_t l3_hlen, const struct dp_frag_desc *d)
{
	struct rte_mbuf *m = seg[0];
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *h;
	uint32_t i;

	for (i = 0; i < k; i++) {
		seg[i]->data_len = (uint16_t)RTE_MIN(len - i * DP_FRAG_SEG_ROOM, DP_FRAG_SEG_ROOM);
		seg[i]->next = i + 1 < k ? seg[i + 1] : NULL;
	}
	m->nb_segs = (uint16_t)k;
	m->pkt_len = len;
	if (family == 4) {
		dp_frag_put(seg, 0, ip, len);
		m->l2_len = 0;
		m->l3_len = l3_hlen;
		return p;
	}
	/* [unfragmentable extension headers][IPv6][fragment header][payload] */
	dp_frag_put(seg, 0, ip + DP_FRAG_V6_HLEN, d->unfrag);
	dp_frag_put(seg, d->unfrag, ip, DP_FRAG_V6_HLEN);
	dp_frag_put(seg, d->unfrag + DP_FRAG_V6_HLEN, ip + l3_hlen, len - l3_hlen);
	h = p + d->unfrag;
	/* what the library reads: payload length is fragment header + data */
	dp_frag_put_be16(h + 4, DP_FRAG_V6_FHLEN + d->dlen);
	h[6] = DP_FRAG_PROTO_FRAGMENT;
	if (d->unfrag > 0) {
		/*
		 * The library writes the fragment header's next header into
		 * the IPv6 header: give it the first extension header's type,
		 * and let the last extension header name the upper layer.
		 */
		p[d->nh_pos - DP_FRAG_V6_HLEN] = d->proto;
		h[DP_FRAG_V6_HLEN] = ip[6];
	}
	m->l2_len = d->unfrag;
	m->l3_len = DP_FRAG_V6_HLEN + DP_FRAG_V6_FHLEN;
	return p;
}

/* Fragments in a chain (by their first mbufs, see top), and its mbufs in *segs. */
static inline uint32_t
dp_frag_count(const struct rte_mbuf *m, uint32_t *segs)
{
	uint32_t frags = 0;

	for (; m != NULL; m = m->next) {
		frags += m->l3_len != 0;
		++*segs;
	}
	return frags;
}

/* Copy a rebuilt datagram of `frags` fragments out of its chain; returns its length or 0. */
static uint32_t
dp_frag_out(struct dp_frag *f, struct rte_mbuf *r, uint32_t frags, uint8_t family, uint8_t *out,
	uint32_t cap)
{
	uint32_t n = r->pkt_len;
	uint32_t e = r->l2_len;
	uint32_t hlen;

	if (n > cap || n < e + (family == 4 ? 20u : DP_FRAG_V6_HLEN)) {
		f->st.too_big += frags;
		return 0;
	}
	if (family == 4) {
		dp_frag_read(r, 0, n, out);
		hlen = (uint32_t)(out[0] & 0x0f) * 4;
		dp_frag_put_be16(out + 10, dp_frag_ipv4_cksum(out, hlen));
	} else {
		/* [ext][IPv6][payload] back to [IPv6][ext][payload] */
		dp_frag_read(r, e, DP_FRAG_V6_HLEN, out);
		if (e > 0)
			dp_frag_read(r, 0, e, out + DP_FRAG_V6_HLEN);
		dp_frag_read(
			r, e + DP_FRAG_V6_HLEN, n - e - DP_FRAG_V6_HLEN, out + DP_FRAG_V6_HLEN + e);
		dp_frag_put_be16(out + 4, n - DP_FRAG_V6_HLEN);
	}
	f->st.reassembled++;
	f->st.reassembled_fragments += frags;
	return n;
}

/*
 * k mbufs for one fragment, all or none. A dry pool first gets back what
 * the death row holds (already counted, only not yet freed).
 */
static int
dp_frag_alloc(struct dp_frag *f, struct rte_mbuf **seg, uint32_t k)
{
	if (likely(rte_pktmbuf_alloc_bulk(f->pool, seg, k) == 0))
		return 0;
	if (f->dr.cnt == 0)
		return -1;
	rte_ip_frag_free_death_row(&f->dr, 0);
	return rte_pktmbuf_alloc_bulk(f->pool, seg, k);
}

uint32_t
dp_frag_input(struct dp_frag *f, const uint8_t *ip, uint32_t len, uint8_t family, uint16_t l3_hlen,
	uint16_t v6_frag_off, uint64_t now_ms, uint8_t *out, uint32_t cap)
{
	struct rte_mbuf *seg[DP_FRAG_SEGS_MAX];
	struct rte_mbuf *m, *r, *s;
	struct dp_frag_desc d;
	struct dp_frag_dup *slot = NULL;
	uint32_t before, i, k, frags, segs;
	uint32_t n = 0;
	int own = 0;
	uint8_t *p;

	f->st.fragments++;
	if (ip == NULL || dp_frag_check(ip, len, family, l3_hlen, v6_frag_off, &d) != 0) {
		f->st.bad++;
		return 0;
	}
	if (d.off == 0 && !d.mf)
		return dp_frag_atomic(f, ip, len, family, l3_hlen, &d, out, cap);
	if (dp_frag_dup_seen(f, ip, family, &d, now_ms, &slot)) {
		f->st.duplicates++;
		return 0;
	}
	/* dp_frag_check bounds len by the IP length fields: k <= DP_FRAG_SEGS_MAX */
	k = (len + DP_FRAG_SEG_ROOM - 1) / DP_FRAG_SEG_ROOM;
	if (unlikely(dp_frag_alloc(f, seg, k) != 0)) {
		/* not taken: a copy of it later is news, not a duplicate */
		slot->key = DP_FRAG_DUP_FORGOTTEN;
		slot->t = 0;
		f->st.no_mbuf++;
		return 0;
	}
	m = seg[0];
	p = dp_frag_fill(seg, k, ip, len, family, l3_hlen, &d);
	f->st.held++;
	f->st.held_mbufs += k;

	/* a long burst without a tick must not overflow the row */
	if (f->dr.cnt > RTE_IP_FRAG_DEATH_ROW_MBUF_LEN - DP_FRAG_DR_PER_CALL)
		rte_ip_frag_free_death_row(&f->dr, 0);
	before = f->dr.cnt;
	if (family == 4)
		r = rte_ipv4_frag_reassemble_packet(
			f->tbl, &f->dr, m, now_ms, (struct rte_ipv4_hdr *)p);
	else
		r = rte_ipv6_frag_reassemble_packet(f->tbl, &f->dr, m, now_ms,
			(struct rte_ipv6_hdr *)(p + d.unfrag),
			(struct rte_ipv6_fragment_ext *)(p + d.unfrag + DP_FRAG_V6_HLEN));

	/* what the call put on the death row, and whether ours is among it */
	frags = 0;
	segs = 0;
	for (i = before; i < f->dr.cnt; i++) {
		frags += dp_frag_count(f->dr.row[i], &segs);
		for (s = f->dr.row[i]; s != NULL; s = s->next)
			own |= s == m;
	}
	f->st.held -= frags;
	f->st.held_mbufs -= segs;
	if (!own) {
		/* ours is held, or part of r; whatever was freed had expired */
		f->st.timed_out += frags;
	} else if (frags == 1) {
		f->st.no_space++;
	} else {
		/* ours and the others of its datagram */
		f->st.bad += frags;
	}
	if (r != NULL) {
		segs = 0;
		frags = dp_frag_count(r, &segs);
		f->st.held -= frags;
		f->st.held_mbufs -= segs;
		n = dp_frag_out(f, r, frags, family, out, cap);
		rte_pktmbuf_free(r);
	}
	return n;
}

void
dp_frag_tick(struct dp_frag *f, uint64_t now_ms)
{
	uint32_t i, added, frags, segs;

	rte_ip_frag_free_death_row(&f->dr, 0);
	/* the library stops when the row is full: go on until nothing expires */
	do {
		rte_ip_frag_table_del_expired_entries(f->tbl, &f->dr, now_ms);
		added = f->dr.cnt;
		frags = 0;
		segs = 0;
		for (i = 0; i < added; i++)
			frags += dp_frag_count(f->dr.row[i], &segs);
		f->st.timed_out += frags;
		f->st.held -= frags;
		f->st.held_mbufs -= segs;
		rte_ip_frag_free_death_row(&f->dr, 0);
	} while (added > 0);
}

void
dp_frag_forget(struct dp_frag *f)
{
	/* every datagram in flight expires (counted timed out), then the filter empties */
	dp_frag_tick(f, UINT64_MAX / 2);
	memset(f->dup, 0, (size_t)(f->dup_mask + 1) * DP_FRAG_DUP_WAYS * sizeof(f->dup[0]));
}

const struct dp_frag_stats *
dp_frag_stats(const struct dp_frag *f)
{
	return &f->st;
}

uint32_t
dp_frag_mbufs_in_use(const struct dp_frag *f)
{
	return rte_mempool_in_use_count(f->pool);
}

uint32_t
dp_frag_pool_size(const struct dp_frag *f)
{
	return f->pool_size;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP stream reassembly (see dp_stream.h for the contract).
 *
 * Why this shape. Suricata keeps a list of segments per direction under a
 * global memcap and a per-flow depth, Zeek and libnids give each flow its
 * own growing buffer: both pay per segment (a list node, a copy, an
 * allocation) and per flow, even when every message sits whole in its
 * segment, which is what SIP over TCP nearly always looks like. Here the
 * flow table is fixed (sets of 8 ways, the oldest way makes room), a
 * direction holds a buffer from a fixed pool only while it has bytes it
 * cannot hand on yet, and whole messages are handed on straight from the
 * segment: the common case copies nothing and allocates nothing, and all
 * memory is sized once at start-up, so a flood of flows or of holes costs
 * counted losses, never memory.
 *
 * Layout of a direction: `base` is the sequence number of buffer byte 0
 * (of the next byte expected when there is no buffer), `held` the in-order
 * bytes at the start of the buffer (a message still cut, or a start-line
 * candidate), then up to DP_STREAM_RANGES ranges of bytes that came ahead
 * of a hole, at their offsets from `base`. The next byte expected is
 * base + held. Sequence numbers are compared by serial arithmetic (signed
 * 32-bit differences), so they wrap at 2^32.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dp_hep.h"
#include "dp_sipframe.h"
#include "dp_stream.h"
#include "dp_ways.h"

#define DP_STREAM_WAYS DP_WAYS
#define DP_STREAM_RANGES 8
#define DP_STREAM_NOBUF UINT32_MAX
/* sets looked at per dp_streams_tick call: bounded work per burst */
#define DP_STREAM_TICK_SETS 64

#define DP_STREAM_SEEN 0x01	/* base is set (SYN, or the first segment) */
#define DP_STREAM_RESYNC 0x02	/* looking for a start line */
#define DP_STREAM_MID_LINE 0x04 /* resync: the next byte is not a line start */
#define DP_STREAM_FIN 0x08	/* FIN seen at fin_seq */
#define DP_STREAM_SYN 0x10	/* base came from a SYN whose sequence is isn */

struct dp_stream_range {
	uint32_t off; /* from base */
	uint32_t end;
};

/* Kept with the buffer, not the flow: only directions with a buffer have ranges. */
struct dp_stream_bufhdr {
	uint32_t nranges;
	struct dp_stream_range r[DP_STREAM_RANGES];
};

struct dp_stream_dir {
	uint32_t base;
	uint32_t held;
	uint32_t skip;	  /* bytes of an oversize message still to drop */
	uint32_t want;	  /* length of the message cut at buffer byte 0, 0 unknown */
	uint32_t buf;	  /* pool index or DP_STREAM_NOBUF */
	uint32_t hole_ms; /* packet time the first hole started waiting */
	uint32_t fin_seq;
	uint32_t isn; /* the SYN's sequence number (DP_STREAM_SYN) */
	uint8_t state;
};

/* Both sides in a canonical order (lower address, then port, first). */
struct dp_stream_key {
	uint8_t lo[16];
	uint8_t hi[16];
	uint16_t lport;
	uint16_t hport;
	uint8_t family;
	uint8_t pad[3];
};

struct dp_stream_flow {
	struct dp_stream_key key;
	struct dp_stream_dir dir[2]; /* 0: sent by the lo side */
	uint8_t kind;
};

/* tags then times, each 16-byte aligned, for dp_ways.h */
struct dp_stream_set {
	uint64_t tag[DP_STREAM_WAYS];
	uint32_t seen_ms[DP_STREAM_WAYS];
	uint8_t used;
} __rte_cache_aligned;

struct dp_streams {
	struct dp_streams_cfg cfg;
	uint32_t set_mask;
	uint32_t tick_cursor;
	uint32_t nfree;
	uint32_t active;
	uint32_t *free_idx;
	struct dp_stream_bufhdr *hdr;
	uint8_t *data;
	struct dp_stream_set *sets;
	struct dp_stream_flow *flows;
	struct dp_streams_stats stats;
};

/* What a delivery needs; one per call into the module. */
struct dp_stream_ctx {
	struct dp_streams *s;
	dp_stream_deliver_fn fn;
	void *arg;
	uint64_t now;
	uint8_t kind;
	struct dp_stream_tuple t; /* the sender's view */
};

/* ---- buffers ---- */

static inline uint8_t *
dp_stream_data(struct dp_streams *s, const struct dp_stream_dir *d)
{
	return s->data + (size_t)d->buf * s->cfg.buffer_size;
}

static inline struct dp_stream_bufhdr *
dp_stream_hdr(struct dp_streams *s, const struct dp_stream_dir *d)
{
	return &s->hdr[d->buf];
}

static int
dp_stream_buf_get(struct dp_streams *s, struct dp_stream_dir *d)
{
	if (s->nfree == 0) {
		s->stats.no_buffer++;
		return -1;
	}
	d->buf = s->free_idx[--s->nfree];
	s->hdr[d->buf].nranges = 0;
	return 0;
}

/* Give the buffer back once it holds nothing. */
static void
dp_stream_buf_release(struct dp_streams *s, struct dp_stream_dir *d)
{
	if (d->buf == DP_STREAM_NOBUF || d->held != 0 || dp_stream_hdr(s, d)->nranges != 0)
		return;
	s->free_idx[s->nfree++] = d->buf;
	d->buf = DP_STREAM_NOBUF;
	d->want = 0;
}

/* Drop c bytes from the front of the buffer (c may pass held: a hole). */
static void
dp_stream_buf_consume(struct dp_streams *s, struct dp_stream_dir *d, uint32_t c)
{
	struct dp_stream_bufhdr *h = dp_stream_hdr(s, d);
	uint32_t ext = h->nranges != 0 ? h->r[h->nranges - 1].end : d->held, i;
	uint8_t *data = dp_stream_data(s, d);

	if (c == 0)
		return;
	if (ext > c)
		memmove(data, data + c, ext - c);
	for (i = 0; i < h->nranges; i++) {
		h->r[i].off -= c;
		h->r[i].end -= c;
	}
	d->held = d->held > c ? d->held - c : 0;
	d->base += c;
}

/* ---- framing a run of in-order bytes ---- */

static inline int
dp_stream_frame(const struct dp_stream_ctx *c, const uint8_t *p, uint32_t len, uint32_t *n)
{
	int r;

	if (c->kind == DP_STREAM_HEP) {
		*n = 0;
		return dp_hep_frame(p, len, n);
	}
	if (c->s->cfg.sip_frame != NULL) {
		r = c->s->cfg.sip_frame(c->arg, p, len, n);
		if (r >= 0)
			return r;
	}
	return dp_sipframe_len_skip(p, len, n);
}

/*
 * Frame and hand on p[0, len), the next bytes of the direction's stream.
 * Returns the bytes used up (delivered, skipped); what is left, [ret, len),
 * starts a message (or a start-line candidate) that needs more bytes.
 * Every byte is looked at a bounded number of times: CR/LF runs once,
 * resync scans by line feed (HEP: by 'H'), and a failed candidate skips
 * at least its start line. Framing stops early once it has used up `stop`
 * bytes (the caller goes on from its own copy of the rest).
 */
static uint32_t
dp_stream_frame_run(struct dp_stream_ctx *c, struct dp_stream_dir *d, const uint8_t *p,
	uint32_t len, uint32_t stop)
{
	struct dp_streams *s = c->s;
	uint32_t bsize = s->cfg.buffer_size, pos = 0, avail, n, k;
	const uint8_t *q;
	int r;

	d->want = 0;
	while (pos < len && pos < stop) {
		avail = len - pos;
		if (d->skip != 0) {
			k = RTE_MIN(d->skip, avail);
			d->skip -= k;
			pos += k;
			continue;
		}
		if (d->state & DP_STREAM_MID_LINE) {
			q = memchr(p + pos, '\n', avail);
			k = q == NULL ? avail : (uint32_t)(q - (p + pos)) + 1;
			s->stats.resync_bytes += k;
			pos += k;
			if (q != NULL)
				d->state &= ~DP_STREAM_MID_LINE;
			continue;
		}
		if (c->kind == DP_STREAM_SIP && !(d->state & DP_STREAM_RESYNC) &&
			(p[pos] == '\r' || p[pos] == '\n')) {
			/* keep-alives between messages (RFC 5626 CRLF and CRLFCRLF) */
			pos++;
			continue;
		}
		r = dp_stream_frame(c, p + pos, RTE_MIN(avail, bsize), &n);
		if (r > 0) {
			if (d->state & DP_STREAM_RESYNC) {
				d->state &= ~DP_STREAM_RESYNC;
				s->stats.resyncs++;
			}
			if (n > bsize) {
				s->stats.oversize++;
				k = RTE_MIN(n, avail);
				d->skip = n - k;
				pos += k;
				continue;
			}
			if (n <= avail) {
				s->stats.messages++;
				/* p[0] is the stream's byte at base (see the layout) */
				c->fn(c->arg, &c->t, p + pos, n, d->base + pos, c->now);
				pos += n;
				continue;
			}
			d->want = n;
			break;
		}
		if (r == 0) {
			if (avail < bsize)
				break;
			/* no end of header section within a buffer */
			if (!(d->state & DP_STREAM_RESYNC))
				s->stats.oversize++;
			n = bsize;
		}
		/* not a message start here: look for the next one */
		d->state |= DP_STREAM_RESYNC;
		if (c->kind == DP_STREAM_HEP) {
			q = memchr(p + pos + 1, 'H', avail - 1);
			k = q == NULL ? avail : (uint32_t)(q - (p + pos));
		} else if (n > 0) {
			/* a whole (bad) header section, or a buffer without one */
			k = RTE_MIN(n, avail);
			if (p[pos + k - 1] != '\n')
				d->state |= DP_STREAM_MID_LINE;
		} else {
			q = memchr(p + pos, '\n', avail);
			k = q == NULL ? avail : (uint32_t)(q - (p + pos)) + 1;
			if (q == NULL)
				d->state |= DP_STREAM_MID_LINE;
		}
		s->stats.resync_bytes += k;
		pos += k;
	}
	return pos;
}

/* Frame what the buffer holds in order, then drop what was used. */
static void
dp_stream_buf_run(struct dp_stream_ctx *c, struct dp_stream_dir *d)
{
	uint32_t used;

	if (d->buf == DP_STREAM_NOBUF)
		return;
	used = dp_stream_frame_run(c, d, dp_stream_data(c->s, d), d->held, UINT32_MAX);
	dp_stream_buf_consume(c->s, d, used);
	dp_stream_buf_release(c->s, d);
}

/* Ranges that now touch the in-order bytes join them. */
static void
dp_stream_absorb(struct dp_streams *s, struct dp_stream_dir *d)
{
	struct dp_stream_bufhdr *h = dp_stream_hdr(s, d);

	while (h->nranges != 0 && h->r[0].off <= d->held) {
		d->held = RTE_MAX(d->held, h->r[0].end);
		h->nranges--;
		memmove(&h->r[0], &h->r[1], h->nranges * sizeof(h->r[0]));
	}
}

/*
 * Keep p[0, len) at buffer offset rel (>= held): bytes already held stay
 * as they are (the first copy wins), the rest is copied and the ranges
 * merged. What does not fit (past the buffer, or a ninth range) is
 * dropped and counted.
 */
static void
dp_stream_store(
	struct dp_streams *s, struct dp_stream_dir *d, uint32_t rel, const uint8_t *p, uint32_t len)
{
	struct dp_stream_bufhdr *h = dp_stream_hdr(s, d);
	uint8_t *data = dp_stream_data(s, d);
	uint32_t a = rel, b, cur, i, first, last, nr;

	if (len > s->cfg.buffer_size - rel) {
		len = s->cfg.buffer_size - rel;
		s->stats.out_of_window++;
	}
	if (len == 0)
		return;
	b = a + len;
	/* ranges that overlap or touch [a, b): first .. last-1 */
	for (first = 0; first < h->nranges && h->r[first].end < a; first++)
		;
	for (last = first; last < h->nranges && h->r[last].off <= b; last++)
		;
	nr = h->nranges - (last - first) + 1;
	if (nr > DP_STREAM_RANGES) {
		s->stats.out_of_window++;
		return;
	}
	for (cur = a, i = first; i < last; i++) {
		if (h->r[i].off > cur)
			memcpy(data + cur, p + (cur - rel), h->r[i].off - cur);
		cur = RTE_MAX(cur, h->r[i].end);
	}
	if (cur < b)
		memcpy(data + cur, p + (cur - rel), b - cur);
	if (last > first) {
		a = RTE_MIN(a, h->r[first].off);
		b = RTE_MAX(b, h->r[last - 1].end);
	}
	memmove(&h->r[first + 1], &h->r[last], (h->nranges - last) * sizeof(h->r[0]));
	h->r[first].off = a;
	h->r[first].end = b;
	h->nranges = nr;
}

/*
 * Give up on the first hole: its bytes never come. The bytes held before
 * it belong to a message the hole cut (lost, counted as skipped), and the
 * bytes after it are framed from a start line again, unless an oversize
 * message being skipped covers the hole.
 */
static void
dp_stream_skip_hole(struct dp_stream_ctx *c, struct dp_stream_dir *d)
{
	struct dp_streams *s = c->s;
	struct dp_stream_bufhdr *h = dp_stream_hdr(s, d);
	uint32_t gap = h->r[0].off - d->held;

	s->stats.gaps++;
	s->stats.gap_bytes += gap;
	if (d->skip >= gap && d->skip != 0) {
		d->skip -= gap;
	} else {
		d->skip = 0;
		s->stats.resync_bytes += d->held;
		d->state = (uint8_t)((d->state | DP_STREAM_RESYNC) & ~DP_STREAM_MID_LINE);
	}
	dp_stream_buf_consume(s, d, h->r[0].off);
	d->want = 0;
	dp_stream_absorb(s, d);
	d->hole_ms = (uint32_t)c->now;
	dp_stream_buf_run(c, d);
}

/* In-order bytes (p is at base + held). */
static void
dp_stream_feed(struct dp_stream_ctx *c, struct dp_stream_dir *d, const uint8_t *p, uint32_t len)
{
	struct dp_streams *s = c->s;
	uint32_t bsize = s->cfg.buffer_size, used, tail, h0, k;
	uint8_t *data;

	while (len > 0) {
		if (d->buf == DP_STREAM_NOBUF) {
			/* the common case: frame straight from the segment */
			used = dp_stream_frame_run(c, d, p, len, UINT32_MAX);
			d->base += used;
			tail = len - used;
			if (tail == 0)
				return;
			if (dp_stream_buf_get(s, d) != 0) {
				/* the cut message is lost: find the next start */
				s->stats.resync_bytes += tail;
				d->base += tail;
				d->want = 0;
				d->state |= DP_STREAM_RESYNC;
				if (c->kind == DP_STREAM_SIP && p[len - 1] != '\n')
					d->state |= DP_STREAM_MID_LINE;
				return;
			}
			memcpy(dp_stream_data(s, d), p + used, tail);
			d->held = tail;
			return;
		}
		data = dp_stream_data(s, d);
		if (dp_stream_hdr(s, d)->nranges != 0) {
			k = RTE_MIN(len, bsize - d->held);
			if (k != 0) {
				dp_stream_store(s, d, d->held, p, k);
				dp_stream_absorb(s, d);
				p += k;
				len -= k;
			}
			dp_stream_buf_run(c, d);
			continue;
		}
		/*
		 * A cut message is held: copy what completes it (all of the
		 * segment that fits when its length is not known yet), frame,
		 * and once framing passes the held bytes go back to framing
		 * from the segment itself: only the cut message is copied.
		 */
		h0 = d->held;
		k = RTE_MIN(len, bsize - h0);
		if (d->want > h0)
			k = RTE_MIN(k, d->want - h0);
		memcpy(data + h0, p, k);
		d->held += k;
		if (d->want > d->held) {
			return; /* k == len: still incomplete */
		}
		used = dp_stream_frame_run(c, d, data, d->held, h0);
		if (used >= h0) {
			d->base += used;
			d->held = 0;
			dp_stream_buf_release(s, d);
			p += used - h0;
			len -= used - h0;
			continue;
		}
		dp_stream_buf_consume(s, d, used);
		p += k;
		len -= k;
	}
}

/* Bytes ahead of a hole: off bytes past base + held. */
static void
dp_stream_ahead(struct dp_stream_ctx *c, struct dp_stream_dir *d, uint32_t off, const uint8_t *p,
	uint32_t len)
{
	struct dp_streams *s = c->s;
	struct dp_stream_bufhdr *h;
	uint64_t rel = (uint64_t)d->held + off;

	s->stats.out_of_order++;
	if (rel >= s->cfg.buffer_size) {
		s->stats.out_of_window++;
		return;
	}
	if (d->buf == DP_STREAM_NOBUF && dp_stream_buf_get(s, d) != 0)
		return;
	h = dp_stream_hdr(s, d);
	if (h->nranges == 0)
		d->hole_ms = (uint32_t)c->now;
	dp_stream_store(s, d, (uint32_t)rel, p, len);
	if (h->nranges != 0 && h->r[h->nranges - 1].end >= s->cfg.buffer_size)
		dp_stream_skip_hole(c, d); /* full of data ahead of the hole */
	dp_stream_buf_release(s, d);
}

static void
dp_stream_gap_check(struct dp_stream_ctx *c, struct dp_stream_dir *d)
{
	if (d->buf != DP_STREAM_NOBUF && dp_stream_hdr(c->s, d)->nranges != 0 &&
		(uint32_t)c->now - d->hole_ms > c->s->cfg.gap_ms)
		dp_stream_skip_hole(c, d);
}

/* End of the stream in this direction: skip every hole, drop the cut message. */
static void
dp_stream_dir_flush(struct dp_stream_ctx *c, struct dp_stream_dir *d)
{
	struct dp_streams *s = c->s;

	while (d->buf != DP_STREAM_NOBUF && dp_stream_hdr(s, d)->nranges != 0)
		dp_stream_skip_hole(c, d);
	if (d->buf == DP_STREAM_NOBUF)
		return;
	if (d->held != 0) {
		if (d->state & DP_STREAM_RESYNC)
			s->stats.resync_bytes += d->held;
		else
			s->stats.truncated++;
		d->state |= DP_STREAM_RESYNC;
	}
	d->base += d->held;
	d->held = 0;
	dp_stream_buf_release(s, d);
}

/* ---- flows ---- */

static void
dp_stream_sender(const struct dp_stream_flow *f, int di, struct dp_stream_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = f->key.family;
	memcpy(t->src, di == 0 ? f->key.lo : f->key.hi, 16);
	memcpy(t->dst, di == 0 ? f->key.hi : f->key.lo, 16);
	t->sport = di == 0 ? f->key.lport : f->key.hport;
	t->dport = di == 0 ? f->key.hport : f->key.lport;
}

static void
dp_stream_flow_end(struct dp_stream_ctx *c, uint32_t idx, uint64_t *counter)
{
	struct dp_streams *s = c->s;
	struct dp_stream_flow *f = &s->flows[idx];
	int di;

	c->kind = f->kind;
	for (di = 0; di < 2; di++) {
		dp_stream_sender(f, di, &c->t);
		dp_stream_dir_flush(c, &f->dir[di]);
	}
	s->sets[idx / DP_STREAM_WAYS].used &= (uint8_t) ~(1u << (idx % DP_STREAM_WAYS));
	s->active--;
	(*counter)++;
}

/* FIN seen and every byte before it in (a message it cut is lost). */
static bool
dp_stream_dir_done(struct dp_streams *s, const struct dp_stream_dir *d)
{
	return (d->state & DP_STREAM_FIN) &&
		(d->buf == DP_STREAM_NOBUF || dp_stream_hdr(s, d)->nranges == 0) &&
		(int32_t)(d->base + d->held - d->fin_seq) >= 0;
}

/* Canonical key; returns the index of the sender's direction. */
static int
dp_stream_key_of(const struct dp_stream_tuple *t, struct dp_stream_key *k)
{
	uint32_t alen = t->family == 6 ? 16 : 4;
	int cmp;

	memset(k, 0, sizeof(*k));
	k->family = t->family;
	cmp = memcmp(t->src, t->dst, alen);
	if (cmp == 0)
		cmp = (t->sport > t->dport) - (t->sport < t->dport);
	if (cmp <= 0) {
		memcpy(k->lo, t->src, alen);
		memcpy(k->hi, t->dst, alen);
		k->lport = t->sport;
		k->hport = t->dport;
		return 0;
	}
	memcpy(k->lo, t->dst, alen);
	memcpy(k->hi, t->src, alen);
	k->lport = t->dport;
	k->hport = t->sport;
	return 1;
}

/*
 * The flow's index, or UINT32_MAX. With `create`, a miss takes a free way
 * or evicts the set's least recently seen flow.
 */
static uint32_t
dp_stream_lookup(struct dp_stream_ctx *c, const struct dp_stream_key *k, bool create, uint8_t kind)
{
	struct dp_streams *s = c->s;
	uint64_t h = XXH3_64bits(k, sizeof(*k));
	uint32_t si = (uint32_t)h & s->set_mask, now = (uint32_t)c->now, age, oldest = 0, idx;
	struct dp_stream_set *set = &s->sets[si];
	unsigned int hit = set->used & dp_ways_match(set->tag, h), w, i;
	struct dp_stream_flow *f;

	while (hit != 0) {
		w = (unsigned int)__builtin_ctz(hit);
		idx = si * DP_STREAM_WAYS + w;
		if (memcmp(&s->flows[idx].key, k, sizeof(*k)) == 0) {
			set->seen_ms[w] = now;
			return idx;
		}
		hit &= hit - 1;
	}
	if (!create)
		return UINT32_MAX;
	if (set->used != (1u << DP_STREAM_WAYS) - 1) {
		w = (unsigned int)__builtin_ctz(~(unsigned int)set->used);
	} else {
		for (w = 0, i = 0; i < DP_STREAM_WAYS; i++) {
			age = now - set->seen_ms[i];
			if (age >= oldest) {
				oldest = age;
				w = i;
			}
		}
		dp_stream_flow_end(c, si * DP_STREAM_WAYS + w, &s->stats.flows_evicted);
	}
	idx = si * DP_STREAM_WAYS + w;
	f = &s->flows[idx];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->kind = kind;
	f->dir[0].buf = DP_STREAM_NOBUF;
	f->dir[1].buf = DP_STREAM_NOBUF;
	set->tag[w] = h;
	set->seen_ms[w] = now;
	set->used |= (uint8_t)(1u << w);
	s->active++;
	s->stats.flows_opened++;
	return idx;
}

void
dp_streams_segment(struct dp_streams *s, const struct dp_stream_tuple *t, uint32_t seq,
	uint8_t flags, const uint8_t *payload, uint32_t len, enum dp_stream_kind kind,
	uint64_t now_ms, dp_stream_deliver_fn fn, void *arg)
{
	struct dp_stream_ctx c = { .s = s, .fn = fn, .arg = arg, .now = now_ms };
	struct dp_stream_key k;
	struct dp_stream_flow *f;
	struct dp_stream_dir *d;
	uint32_t idx, end = seq + len;
	int32_t diff;
	int di;

	if (len != 0)
		s->stats.segments++;
	else if (!(flags & (DP_TCP_SYN | DP_TCP_FIN | DP_TCP_RST)))
		payload = NULL; /* a pure ACK only keeps a known flow alive */
	di = dp_stream_key_of(t, &k);
	idx = dp_stream_lookup(&c, &k,
		len != 0 || (flags & (DP_TCP_SYN | DP_TCP_RST)) == DP_TCP_SYN, (uint8_t)kind);
	if (idx == UINT32_MAX)
		return;
	f = &s->flows[idx];
	c.kind = f->kind;
	dp_stream_sender(f, di, &c.t);
	d = &f->dir[di];
	if (flags & DP_TCP_SYN) {
		/*
		 * A SYN on a direction already under way, other than a copy
		 * of the one that opened it, is a new connection on the same
		 * addresses and ports (an SBC that fails over and reconnects,
		 * a dialer reusing its port; Suricata's "session reuse"): the
		 * old connection ends here, what it made whole is handed on,
		 * and the new one starts from this SYN.
		 */
		if ((d->state & DP_STREAM_SEEN) && (!(d->state & DP_STREAM_SYN) || d->isn != seq)) {
			dp_stream_flow_end(&c, idx, &s->stats.flows_closed);
			s->stats.flows_reused++;
			idx = dp_stream_lookup(&c, &k, true, (uint8_t)kind);
			f = &s->flows[idx];
			c.kind = f->kind;
			dp_stream_sender(f, di, &c.t);
			d = &f->dir[di];
		}
		if (!(d->state & DP_STREAM_SEEN)) {
			d->base = seq + 1;
			d->isn = seq;
			d->state |= DP_STREAM_SEEN | DP_STREAM_SYN;
		}
		seq++;
		end++;
	}
	if (!(d->state & DP_STREAM_SEEN)) {
		/* picked up mid-stream: framing re-synchronises if need be */
		d->base = seq;
		d->state |= DP_STREAM_SEEN;
	}
	dp_stream_gap_check(&c, d);
	if (len != 0) {
		diff = (int32_t)(seq - (d->base + d->held));
		if (diff < 0) {
			if ((int64_t)diff + len <= 0) {
				s->stats.retransmitted++;
				len = 0;
			} else {
				payload += -(int64_t)diff;
				len -= (uint32_t)-diff;
				diff = 0;
			}
		}
		if (len != 0 && diff == 0)
			dp_stream_feed(&c, d, payload, len);
		else if (len != 0)
			dp_stream_ahead(&c, d, (uint32_t)diff, payload, len);
	}
	if (flags & DP_TCP_FIN) {
		if (!(d->state & DP_STREAM_FIN))
			d->fin_seq = end;
		d->state |= DP_STREAM_FIN;
	}
	if (flags & DP_TCP_RST)
		dp_stream_flow_end(&c, idx, &s->stats.flows_closed);
	else if (dp_stream_dir_done(s, &f->dir[0]) && dp_stream_dir_done(s, &f->dir[1]))
		dp_stream_flow_end(&c, idx, &s->stats.flows_closed);
}

/*
 * A bounded slice of the table per call: idle flows end, holes older
 * than gap_ms are skipped, and flows closed by FIN from both sides whose
 * last bytes never came end gap_ms after their last segment.
 */
void
dp_streams_tick(struct dp_streams *s, uint64_t now_ms, dp_stream_deliver_fn fn, void *arg)
{
	struct dp_stream_ctx c = { .s = s, .fn = fn, .arg = arg, .now = now_ms };
	uint32_t nsets = s->set_mask + 1, n = RTE_MIN(nsets, (uint32_t)DP_STREAM_TICK_SETS);
	uint32_t now = (uint32_t)now_ms, si, idx;
	unsigned int used, idle, w;
	struct dp_stream_set *set;
	struct dp_stream_flow *f;
	int di;

	while (n-- > 0) {
		si = s->tick_cursor++ & s->set_mask;
		set = &s->sets[si];
		used = set->used;
		if (used == 0)
			continue;
		idle = used & dp_ways_older(set->seen_ms, now, s->cfg.idle_ms);
		for (; used != 0; used &= used - 1) {
			w = (unsigned int)__builtin_ctz(used);
			idx = si * DP_STREAM_WAYS + w;
			if (idle & (1u << w)) {
				dp_stream_flow_end(&c, idx, &s->stats.flows_expired);
				continue;
			}
			f = &s->flows[idx];
			c.kind = f->kind;
			for (di = 0; di < 2; di++) {
				dp_stream_sender(f, di, &c.t);
				dp_stream_gap_check(&c, &f->dir[di]);
			}
			if ((f->dir[0].state & f->dir[1].state & DP_STREAM_FIN) &&
				((dp_stream_dir_done(s, &f->dir[0]) &&
					 dp_stream_dir_done(s, &f->dir[1])) ||
					now - set->seen_ms[w] > s->cfg.gap_ms))
				dp_stream_flow_end(&c, idx, &s->stats.flows_closed);
		}
	}
}

void
dp_streams_flush(struct dp_streams *s, uint64_t now_ms, dp_stream_deliver_fn fn, void *arg)
{
	struct dp_stream_ctx c = { .s = s, .fn = fn, .arg = arg, .now = now_ms };
	uint32_t si, idx;
	unsigned int used;
	struct dp_stream_flow *f;
	int di;

	for (si = 0; si <= s->set_mask; si++) {
		for (used = s->sets[si].used; used != 0; used &= used - 1) {
			idx = si * DP_STREAM_WAYS + (uint32_t)__builtin_ctz(used);
			f = &s->flows[idx];
			c.kind = f->kind;
			for (di = 0; di < 2; di++) {
				dp_stream_sender(f, di, &c.t);
				dp_stream_dir_flush(&c, &f->dir[di]);
			}
		}
	}
}

const struct dp_streams_stats *
dp_streams_stats(const struct dp_streams *s)
{
	return &s->stats;
}

uint32_t
dp_streams_flows_active(const struct dp_streams *s)
{
	return s->active;
}

uint32_t
dp_streams_buffers_in_use(const struct dp_streams *s)
{
	return s->cfg.buffers - s->nfree;
}

int
dp_streams_owns(const struct dp_streams *s, const void *p, size_t n)
{
	const uint8_t *q = p;
	size_t total = (size_t)s->cfg.buffers * s->cfg.buffer_size;

	return q >= s->data && q <= s->data + total && n <= (size_t)(s->data + total - q);
}

void
dp_streams_free(struct dp_streams *s)
{
	if (s == NULL)
		return;
	rte_free(s->data);
	rte_free(s->hdr);
	rte_free(s->free_idx);
	rte_free(s->flows);
	rte_free(s->sets);
	rte_free(s);
}

struct dp_streams *
dp_streams_create(const struct dp_streams_cfg *cfg, int socket_id, char *err, size_t errlen)
{
	struct dp_streams *s;
	uint32_t nsets, i;

	if (cfg->flows < 1 || cfg->flows > (1u << 24)) {
		snprintf(err, errlen, "stream flows %u out of range 1..%u", cfg->flows, 1u << 24);
		return NULL;
	}
	if (cfg->buffers < 1 || cfg->buffers > (1u << 20)) {
		snprintf(err, errlen, "stream buffers %u out of range 1..%u", cfg->buffers,
			1u << 20);
		return NULL;
	}
	if (cfg->buffer_size < 64 || cfg->buffer_size > (1u << 20)) {
		snprintf(err, errlen, "stream buffer_size %u out of range 64..%u", cfg->buffer_size,
			1u << 20);
		return NULL;
	}
	if (cfg->idle_ms < 1 || cfg->idle_ms > INT32_MAX || cfg->gap_ms > INT32_MAX) {
		snprintf(err, errlen, "stream idle_ms %u or gap_ms %u out of range", cfg->idle_ms,
			cfg->gap_ms);
		return NULL;
	}
	RTE_BUILD_BUG_ON(offsetof(struct dp_stream_set, seen_ms) % 16 != 0);
	nsets = rte_align32pow2(RTE_MAX((cfg->flows + DP_STREAM_WAYS - 1) / DP_STREAM_WAYS, 1u));
	s = rte_zmalloc_socket("dp_streams", sizeof(*s), RTE_CACHE_LINE_SIZE, socket_id);
	if (s == NULL)
		goto nomem;
	s->cfg = *cfg;
	s->set_mask = nsets - 1;
	s->sets = rte_zmalloc_socket("dp_stream_sets", (size_t)nsets * sizeof(s->sets[0]),
		RTE_CACHE_LINE_SIZE, socket_id);
	s->flows = rte_zmalloc_socket("dp_stream_flows",
		(size_t)nsets * DP_STREAM_WAYS * sizeof(s->flows[0]), RTE_CACHE_LINE_SIZE,
		socket_id);
	s->free_idx = rte_zmalloc_socket("dp_stream_free", (size_t)cfg->buffers * sizeof(uint32_t),
		RTE_CACHE_LINE_SIZE, socket_id);
	s->hdr = rte_zmalloc_socket("dp_stream_hdr", (size_t)cfg->buffers * sizeof(s->hdr[0]),
		RTE_CACHE_LINE_SIZE, socket_id);
	s->data = rte_malloc_socket("dp_stream_data", (size_t)cfg->buffers * cfg->buffer_size,
		RTE_CACHE_LINE_SIZE, socket_id);
	if (s->sets == NULL || s->flows == NULL || s->free_idx == NULL || s->hdr == NULL ||
		s->data == NULL)
		goto nomem;
	for (i = 0; i < cfg->buffers; i++)
		s->free_idx[i] = cfg->buffers - 1 - i;
	s->nfree = cfg->buffers;
	return s;
nomem:
	snprintf(err, errlen, "stream tables: no memory for %u flows and %u buffers of %u bytes",
		cfg->flows, cfg->buffers, cfg->buffer_size);
	dp_streams_free(s);
	return NULL;
}

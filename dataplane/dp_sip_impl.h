/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal to the SIP extractor, included only by its three files:
 * dp_sip.c (the line walk and the start line), dp_sip_hdr.c (the header
 * value readers both engines share) and dp_sip_hs.c (the Hyperscan
 * engine). It holds what they share: where each engine found the wanted
 * headers (struct dp_sip_hdrs), the character classes, the word and
 * vector helpers the line walk and its Via reader both use, and the
 * prototypes of the functions one file calls in another. The helpers are
 * static inline so the packet path inlines them in every file; the rest
 * of the sipguard build sees only dp_sip.h.
 */
#ifndef DP_SIP_IMPL_H
#define DP_SIP_IMPL_H

#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

#include "dp_sip.h"

#define DP_SIP_DIM(a) (sizeof(a) / sizeof((a)[0]))
#define DP_SIP_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Header names whose first occurrence is read. */
enum dp_sip_hdr {
	DP_SIP_H_CALL_ID,
	DP_SIP_H_CSEQ,
	DP_SIP_H_VIA,
	DP_SIP_H_RETRY_AFTER,
	DP_SIP_H_REASON,
	DP_SIP_H_CONTENT_LENGTH,
	DP_SIP_H_COUNT
};

/*
 * Where each wanted header's value lies, as either engine found it:
 * [vs, ve) untrimmed, from just past the colon to the line feed that
 * ends the (possibly folded) value; vs == 0 when the header is absent.
 */
struct dp_sip_hdrs {
	uint32_t vs[DP_SIP_H_COUNT];
	uint32_t ve[DP_SIP_H_COUNT + 1]; /* + a slot for lines not wanted */
};

/*
 * Character classes of RFC 3261 by table: one load per byte where the
 * compare chains cost a branch or several.
 */
#define DP_SIP_CC_TOKEN 0x1  /* token character */
#define DP_SIP_CC_METHOD 0x2 /* allowed in a start line's method (upper case) */
#define DP_SIP_CC_WS 0x4     /* SP, HT, CR, LF (CR and LF only as folding) */
#define DP_SIP_CC_DIGIT 0x8

#define DP_SIP_CC_MARK (DP_SIP_CC_TOKEN | DP_SIP_CC_METHOD)
static const uint8_t dp_sip_cc[256] = {
	['a' ... 'z'] = DP_SIP_CC_TOKEN,
	['A' ... 'Z'] = DP_SIP_CC_TOKEN | DP_SIP_CC_METHOD,
	['0' ... '9'] = DP_SIP_CC_TOKEN | DP_SIP_CC_METHOD | DP_SIP_CC_DIGIT,
	['-'] = DP_SIP_CC_MARK,
	['.'] = DP_SIP_CC_MARK,
	['!'] = DP_SIP_CC_MARK,
	['%'] = DP_SIP_CC_MARK,
	['*'] = DP_SIP_CC_MARK,
	['_'] = DP_SIP_CC_MARK,
	['+'] = DP_SIP_CC_MARK,
	['`'] = DP_SIP_CC_MARK,
	['\''] = DP_SIP_CC_MARK,
	['~'] = DP_SIP_CC_MARK,
	[' '] = DP_SIP_CC_WS,
	['\t'] = DP_SIP_CC_WS,
	['\r'] = DP_SIP_CC_WS,
	['\n'] = DP_SIP_CC_WS,
};

static inline int
dp_sip_is_ws(uint8_t c)
{
	return dp_sip_cc[c] & DP_SIP_CC_WS;
}

static inline int
dp_sip_is_digit(uint8_t c)
{
	return dp_sip_cc[c] & DP_SIP_CC_DIGIT;
}

static inline int
dp_sip_is_token(uint8_t c)
{
	return dp_sip_cc[c] & DP_SIP_CC_TOKEN;
}

/*
 * ASCII-only caseless compare of n bytes with a lower-case literal of the
 * same length (DP_SIP_IEQ checks the length).
 */
static inline int
dp_sip_ieq(const uint8_t *p, uint32_t n, const char *lit)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		if (c != (uint8_t)lit[i])
			return 0;
	}
	return 1;
}

/* Caseless compare with a lower-case string literal, length first. */
#define DP_SIP_IEQ(p, n, lit) ((n) == sizeof(lit) - 1 && dp_sip_ieq((p), (n), (lit)))

/*
 * Eight bytes of a lower-case literal from `off` as a little-endian word,
 * with the case bit of its letters in `fold` and the bytes it has in
 * `keep`. Inlined with a string constant, all three fold to constants.
 */
static inline __attribute__((always_inline)) void
dp_sip_lit_word(
	const char *lit, uint32_t n, uint32_t off, uint64_t *word, uint64_t *fold, uint64_t *keep)
{
	uint32_t i;

	*word = *fold = *keep = 0;
	for (i = 0; i < 8 && off + i < n; i++) {
		uint64_t c = (uint8_t)lit[off + i];

		*word |= c << (8 * i);
		*keep |= (uint64_t)0xff << (8 * i);
		if (c >= 'a' && c <= 'z')
			*fold |= (uint64_t)0x20 << (8 * i);
	}
}

/*
 * b[l..l+n) caseless equals the lower-case literal `lit` (n <= 16): one
 * or two word compares where 16 bytes can be read, else byte by byte.
 * Only letters are folded, so '-' never matches '\r' (0x0d | 0x20).
 */
static inline __attribute__((always_inline)) int
dp_sip_lit(const uint8_t *b, uint32_t l, uint32_t len, const char *lit, uint32_t n)
{
	uint64_t x, word, fold, keep;

	if (l + 16 > len || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		return l + n <= len && dp_sip_ieq(b + l, n, lit);
	memcpy(&x, b + l, 8);
	dp_sip_lit_word(lit, n, 0, &word, &fold, &keep);
	if (((x | fold) & keep) != word)
		return 0;
	if (n <= 8)
		return 1;
	memcpy(&x, b + l + 8, 8);
	dp_sip_lit_word(lit, n, 8, &word, &fold, &keep);
	return ((x | fold) & keep) == word;
}

#define DP_SIP_LIT(b, l, len, lit) dp_sip_lit((b), (l), (len), (lit), sizeof(lit) - 1)

/* Eight bytes at p as a little-endian word; p[0..8) must be readable. */
static inline uint64_t
dp_sip_load8(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

/* The first (up to) eight bytes of a literal as a word, exact case. */
static inline __attribute__((always_inline)) uint64_t
dp_sip_w(const char *lit, uint32_t n)
{
	uint64_t word, fold, keep;

	dp_sip_lit_word(lit, n, 0, &word, &fold, &keep);
	return word;
}

#define DP_SIP_W(lit) dp_sip_w((lit), sizeof(lit) - 1)

/*
 * Method token to enum sg_method, case-sensitive; unknown is OTHER
 * (dp_sip.c).
 */
uint8_t dp_sip_method(const uint8_t *p, uint32_t n);

/*
 * dp_sip_method where p[0..16) is readable: the token, masked to its
 * length, is one word compared with the names of that length. Gives
 * what dp_sip_method gives (the engines are compared on every name).
 */
static inline uint8_t
dp_sip_method_word(const uint8_t *p, uint32_t n)
{
	uint64_t w = dp_sip_load8(p);

	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		return dp_sip_method(p, n);
	if (n < 8)
		w &= ((uint64_t)1 << (8 * n)) - 1;
	switch (n) {
	case 3:
		if (w == DP_SIP_W("ACK"))
			return SG_M_ACK;
		if (w == DP_SIP_W("BYE"))
			return SG_M_BYE;
		break;
	case 4:
		if (w == DP_SIP_W("INFO"))
			return SG_M_INFO;
		break;
	case 5:
		if (w == DP_SIP_W("PRACK"))
			return SG_M_PRACK;
		if (w == DP_SIP_W("REFER"))
			return SG_M_REFER;
		break;
	case 6:
		if (w == DP_SIP_W("INVITE"))
			return SG_M_INVITE;
		if (w == DP_SIP_W("CANCEL"))
			return SG_M_CANCEL;
		if (w == DP_SIP_W("NOTIFY"))
			return SG_M_NOTIFY;
		if (w == DP_SIP_W("UPDATE"))
			return SG_M_UPDATE;
		break;
	case 7:
		if (w == DP_SIP_W("OPTIONS"))
			return SG_M_OPTIONS;
		if (w == DP_SIP_W("PUBLISH"))
			return SG_M_PUBLISH;
		if (w == DP_SIP_W("MESSAGE"))
			return SG_M_MESSAGE;
		break;
	case 8:
		if (w == DP_SIP_W("REGISTER"))
			return SG_M_REGISTER;
		break;
	case 9:
		if (w == DP_SIP_W("SUBSCRIBE") && p[8] == 'E')
			return SG_M_SUBSCRIBE;
		break;
	default:
		break;
	}
	return SG_M_OTHER;
}

#ifdef __SSSE3__
/*
 * Bytes of v in a small set whose members all differ in their low
 * nibble: one shuffle looks up, for every byte, the member with that low
 * nibble, and one compare keeps the bytes equal to it (three to seven
 * compares and ORs in one). Slot i of a table holds the member whose low
 * nibble is i, or i ^ 1, which no byte with low nibble i can equal; a
 * byte with its high bit set looks up 0, which it does not equal.
 */
static inline __m128i
dp_sip_in_set(__m128i v, __m128i table)
{
	return _mm_cmpeq_epi8(_mm_shuffle_epi8(table, v), v);
}

/* ; , " and whitespace */
#define DP_SIP_SET_PVALUE_END \
	_mm_setr_epi8(' ', 0, '"', 2, 5, 4, 7, 6, 9, '\t', '\n', ';', ',', '\r', 15, 14)
#endif

/* What a vector pass marks. */
enum dp_sip_mark {
	DP_SIP_MARK_LF,	   /* line feeds */
	DP_SIP_MARK_PARAM, /* ';', ',', '"' and whitespace of a header value */
};

static inline int
dp_sip_marked(uint8_t c, enum dp_sip_mark kind)
{
	if (kind == DP_SIP_MARK_LF)
		return c == '\n';
	return c == ';' || c == ',' || c == '"' || dp_sip_is_ws(c);
}

#ifdef __SSE2__
/* Bit i set when p[i] ends an unquoted parameter value (see below). */
static inline unsigned int
dp_sip_pvalue_end16(const uint8_t *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
#ifdef __SSSE3__
	__m128i hit = dp_sip_in_set(v, DP_SIP_SET_PVALUE_END);
#else
	__m128i hit = _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(';')),
							_mm_cmpeq_epi8(v, _mm_set1_epi8(','))),
					   _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
						   _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')))),
		_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')),
				     _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))),
			_mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
#endif

	return (unsigned int)_mm_movemask_epi8(hit);
}
#endif

#ifdef __SSE2__
static inline unsigned int
dp_sip_marks16(const uint8_t *p, enum dp_sip_mark kind)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

	if (kind == DP_SIP_MARK_LF)
		return (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
	return dp_sip_pvalue_end16(p);
}
#endif

/*
 * Bit i set when b[base + i] is marked, for base + i < end and i < 64.
 * Never reads outside b[0..end): a short tail is covered by one load
 * that ends exactly at `end` (its leading bytes, already seen, shifted
 * out), and only a buffer shorter than one vector is read a byte at a
 * time. No copy to a padded block: that cost more than the scan.
 */
static inline uint64_t
dp_sip_marks64(const uint8_t *b, uint32_t base, uint32_t end, enum dp_sip_mark kind)
{
	uint32_t avail = end - base, i = 0;
	uint64_t m = 0;

#ifdef __SSE2__
	if (avail >= 64)
		return (uint64_t)dp_sip_marks16(b + base, kind) |
			(uint64_t)dp_sip_marks16(b + base + 16, kind) << 16 |
			(uint64_t)dp_sip_marks16(b + base + 32, kind) << 32 |
			(uint64_t)dp_sip_marks16(b + base + 48, kind) << 48;
	for (; i + 16 <= avail; i += 16)
		m |= (uint64_t)dp_sip_marks16(b + base + i, kind) << i;
	if (i < avail && end >= 16)
		return m |
			(uint64_t)(dp_sip_marks16(b + end - 16, kind) >> (16 - (avail - i))) << i;
#endif
	if (avail > 64)
		avail = 64;
	for (; i < avail; i++)
		m |= (uint64_t)dp_sip_marked(b[base + i], kind) << i;
	return m;
}

/*
 * A message with nothing found yet, field by field: a memset (or a copy
 * of a constant, which the compiler turns into one) became `rep stos`,
 * whose start-up cost showed per message.
 */
static inline void
dp_sip_msg_init(struct dp_sip_msg *m)
{
	m->is_request = 0;
	m->method = 0;
	m->status = 0;
	m->call_id.p = NULL;
	m->call_id.len = 0;
	m->cseq = 0;
	m->cseq_method = 0;
	m->branch.p = NULL;
	m->branch.len = 0;
	m->retry_after = -1;
	m->reason_proto = DP_REASON_NONE;
	m->reason_cause = -1;
	m->oc = -1;
	m->oc_algo = DP_OC_ALGO_NONE;
	m->oc_validity = -1;
	m->oc_seq_us = 0;
	m->content_length = -1;
	m->base = NULL;
	m->hdr_len = 0;
	m->msg_len = 0;
}

/*
 * The start line at buf[0], either a status line or a request line
 * ending at the first line feed, checked by the exact readers: 0 and
 * the method or status set in `m` when it is one, -1 when not
 * (dp_sip.c; the Hyperscan engine's check).
 */
int dp_sip_start_line(const uint8_t *buf, uint32_t len, struct dp_sip_msg *m);

/*
 * Values from the spans either engine found, the header section ending
 * at buf[eoh]; `walk` says the spans are the line walk's (dp_sip_hdr.c).
 */
enum dp_sip_res dp_sip_finish(const uint8_t *buf, uint32_t len, uint32_t eoh,
	const struct dp_sip_hdrs *h, int walk, struct dp_sip_msg *m);

#endif /* DP_SIP_IMPL_H */

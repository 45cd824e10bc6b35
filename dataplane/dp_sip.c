/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message extractor, two engines over one set of value parsers.
 *
 * The line walk (dp_sip_parse, the packet path): one vector pass marks
 * every line feed of the header section 64 bytes at a time; each line
 * start is then looked at once, and only a line whose first letter can
 * begin a wanted header name has its name compared. The value of a
 * header ends at the next line start that is not a folded continuation,
 * which the same pass already found, so a value is never searched for
 * its end and a body (SDP) is never looked at past the block holding the
 * empty line.
 *
 * The Hyperscan engine (dp_sip_parse_hs): one block scan of the header
 * section with the header names as caseless literals anchored to a line
 * feed; values are then cut from the offsets the scan reports. It is the
 * reference the line walk is checked against (unit tests, the SIP fuzz
 * harness compares the two on every input) and can be chosen in the
 * configuration. Why the line walk carries the packets: a block scan of
 * a 600-byte header section costs about 300 cycles before any value is
 * read, the whole per-packet budget; the walk finds the same headers in
 * well under half of that (figures in the README's benchmark section).
 *
 * Both: the start line sits at a known place and is checked by hand;
 * values are always bounded by the header section, which itself lies
 * inside `len`. Duplicate headers: the first Call-ID, CSeq, Via,
 * Retry-After, Reason and Content-Length win; later ones are ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

#include <hs.h>

#include "dp_sip.h"

#define DP_SIP_DIM(a) (sizeof(a) / sizeof((a)[0]))
#define DP_SIP_UNLIKELY(x) __builtin_expect(!!(x), 0)

struct dp_sip_db {
	hs_database_t *hs;
};

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
 * Callbacks so far on this thread: one add per message, thread-local so
 * each lcore counts its own without sharing a line (initial-exec: no
 * __tls_get_addr call from a position-independent archive).
 */
static __thread uint64_t dp_sip_matches __attribute__((tls_model("initial-exec")));

uint64_t
dp_sip_match_count(void)
{
	return dp_sip_matches;
}

/*
 * Header names are plain caseless literals at a line start; the
 * `[ \t]*:` that must follow is checked in the callback. Literals keep the
 * scan on Hyperscan's literal matcher: with the `[ \t]*:` tails and
 * anchored start-line patterns in the database the scan of a typical
 * INVITE took several times longer. "\nv" covers both Via and its compact
 * form v; the callback skips an "ia". No HS_FLAG_SINGLEMATCH: the first
 * "\ni" may well be In-Reply-To, and only the callback can tell.
 */
/* Pattern ids: the header names (id == enum dp_sip_hdr). */
#define DP_SIP_ID_COUNT DP_SIP_H_COUNT

static const char *const dp_sip_patterns[DP_SIP_ID_COUNT] = {
	[DP_SIP_H_CALL_ID] = "\\n(call-id|i)",
	[DP_SIP_H_CSEQ] = "\\ncseq",
	[DP_SIP_H_VIA] = "\\nv",
	[DP_SIP_H_RETRY_AFTER] = "\\nretry-after",
	[DP_SIP_H_REASON] = "\\nreason",
	[DP_SIP_H_CONTENT_LENGTH] = "\\n(content-length|l)",
};

/* What the scan saw; lives on the parser's stack. */
struct dp_sip_scan {
	const uint8_t *buf;
	uint32_t len;
	uint32_t eoh;		      /* end of the empty line, 0 none */
	uint32_t matches;	      /* callbacks, for dp_sip_match_count */
	uint32_t hdr[DP_SIP_H_COUNT]; /* just past the colon, 0 none */
};

struct dp_sip_db *
dp_sip_db_create(char *err, size_t errlen)
{
	unsigned int flags[DP_SIP_ID_COUNT];
	unsigned int ids[DP_SIP_ID_COUNT];
	hs_compile_error_t *cerr = NULL;
	hs_platform_info_t plat;
	struct dp_sip_db *db;
	hs_database_t *hs = NULL;
	unsigned int i;

	for (i = 0; i < DP_SIP_ID_COUNT; i++) {
		ids[i] = i;
		flags[i] = HS_FLAG_CASELESS;
	}

	dp_sip_platform(&plat);
	if (hs_compile_multi(dp_sip_patterns, flags, ids, DP_SIP_ID_COUNT, HS_MODE_BLOCK, &plat,
		    &hs, &cerr) != HS_SUCCESS) {
		if (err != NULL && errlen > 0) {
			if (cerr != NULL && cerr->expression >= 0 &&
				cerr->expression < DP_SIP_ID_COUNT)
				snprintf(err, errlen, "sip: pattern %d '%s': %s", cerr->expression,
					dp_sip_patterns[cerr->expression], cerr->message);
			else
				snprintf(err, errlen, "sip: compile: %s",
					cerr != NULL ? cerr->message : "unknown error");
		}
		hs_free_compile_error(cerr);
		return NULL;
	}

	db = malloc(sizeof(*db));
	if (db == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "sip: out of memory");
		hs_free_database(hs);
		return NULL;
	}
	db->hs = hs;
	return db;
}

void
dp_sip_db_free(struct dp_sip_db *db)
{
	if (db == NULL)
		return;
	hs_free_database(db->hs);
	free(db);
}

int
dp_sip_scratch_alloc(const struct dp_sip_db *db, hs_scratch_t **scratch)
{
	hs_error_t rc;

	if (db == NULL || scratch == NULL)
		return -EINVAL;
	rc = hs_alloc_scratch(db->hs, scratch);
	if (rc == HS_NOMEM)
		return -ENOMEM;
	return rc == HS_SUCCESS ? 0 : -EINVAL;
}

/*
 * Kept small: it runs a handful of times per message. A name match counts
 * only when `[ \t]*:` follows, so "Via-Foo:" or "In-Reply-To:" are not
 * taken for Via or Call-ID.
 */
static int
dp_sip_on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	void *ctx)
{
	struct dp_sip_scan *st = ctx;
	const uint8_t *b = st->buf;
	uint32_t pos = (uint32_t)to;

	(void)from;
	(void)flags;
	st->matches++;
	if (st->hdr[id] != 0)
		return 0;
	/* Only 'I' and 'i' give 'i' when or'ed with 0x20. */
	if (id == DP_SIP_H_VIA && pos + 1 < st->len && (b[pos] | 0x20) == 'i' &&
		(b[pos + 1] | 0x20) == 'a')
		pos += 2;
	while (pos < st->len && (b[pos] == ' ' || b[pos] == '\t'))
		pos++;
	if (pos < st->len && b[pos] == ':')
		st->hdr[id] = pos + 1;
	return 0;
}

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
 * Methods are case-sensitive and every registered one is upper case, so
 * a start line's method must be: "invite" is a broken peer, not an
 * extension method, and must not disappear into the OTHER counter.
 */
static inline int
dp_sip_is_method_char(uint8_t c)
{
	return dp_sip_cc[c] & DP_SIP_CC_METHOD;
}

/*
 * Method token to enum sg_method, case-sensitive; unknown is OTHER. The
 * names grouped by length keep it to a compare or two per message
 * (test_sip checks every name maps to itself).
 */
static uint8_t
dp_sip_method(const uint8_t *p, uint32_t n)
{
	/* enum sg_method + 1 by name length; 0 ends a row */
	static const uint8_t by_len[10][5] = {
		[3] = { SG_M_ACK + 1, SG_M_BYE + 1 },
		[4] = { SG_M_INFO + 1 },
		[5] = { SG_M_PRACK + 1, SG_M_REFER + 1 },
		[6] = { SG_M_INVITE + 1, SG_M_CANCEL + 1, SG_M_NOTIFY + 1, SG_M_UPDATE + 1 },
		[7] = { SG_M_OPTIONS + 1, SG_M_PUBLISH + 1, SG_M_MESSAGE + 1 },
		[8] = { SG_M_REGISTER + 1 },
		[9] = { SG_M_SUBSCRIBE + 1 },
	};
	unsigned int i;

	if (n >= DP_SIP_DIM(by_len))
		return SG_M_OTHER;
	for (i = 0; by_len[n][i] != 0; i++) {
		const char *name = sg_method_names[by_len[n][i] - 1];

		uint32_t j;

		/* n <= 9: a byte loop beats a call to memcmp */
		for (j = 0; j < n && (uint8_t)name[j] == p[j]; j++)
			;
		if (j == n)
			return (uint8_t)(by_len[n][i] - 1);
	}
	return SG_M_OTHER;
}

static const char dp_sip_ver[] = "SIP/2.0";
#define DP_SIP_VER_LEN (sizeof(dp_sip_ver) - 1)

/*
 * Status line at buf[0]: `SIP/2.0 SP 3DIGIT (SP|CR|LF)` (the code only:
 * real overload answers carry any reason phrase, "Limiting", "CPS Limit
 * reached", or none). Returns 1 and sets the status when it is one.
 */
static inline int
dp_sip_status_line(const uint8_t *b, uint32_t len, struct dp_sip_msg *m)
{
	const uint8_t *c = b + DP_SIP_VER_LEN + 1;

	if (len < DP_SIP_VER_LEN + 5 || memcmp(b, dp_sip_ver, DP_SIP_VER_LEN) != 0 ||
		b[DP_SIP_VER_LEN] != ' ')
		return 0;
	if (c[0] < '1' || c[0] > '6' || !dp_sip_is_digit(c[1]) || !dp_sip_is_digit(c[2]) ||
		(c[3] != ' ' && c[3] != '\r' && c[3] != '\n'))
		return -1;
	m->status = (uint16_t)((c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0'));
	return 1;
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

/* SP HT CR */
#define DP_SIP_SET_BLANK _mm_setr_epi8(' ', 0, 3, 2, 5, 4, 7, 6, 9, '\t', 11, 10, 13, '\r', 15, 14)
/* ; , " and whitespace */
#define DP_SIP_SET_PVALUE_END \
	_mm_setr_epi8(' ', 0, '"', 2, 5, 4, 7, 6, 9, '\t', '\n', ';', ',', '\r', 15, 14)
#endif

/* Any of SP, HT, CR in b[0..n): a request URI must have none. */
static inline int
dp_sip_has_blank(const uint8_t *b, uint32_t n)
{
	uint32_t i = 0;

#ifdef __SSE2__
#ifndef __SSSE3__
	const __m128i sp = _mm_set1_epi8(' '), ht = _mm_set1_epi8('\t'), cr = _mm_set1_epi8('\r');
#endif

	/* whole vectors, the last one ending at b[n] (its overlap is clean) */
	if (n >= 16) {
		for (;; i += 16) {
			__m128i v;

			if (i + 16 > n)
				i = n - 16;
			v = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
#ifdef __SSSE3__
			if (_mm_movemask_epi8(dp_sip_in_set(v, DP_SIP_SET_BLANK)) != 0)
				return 1;
#else
			if (_mm_movemask_epi8(_mm_or_si128(
				    _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, ht)),
				    _mm_cmpeq_epi8(v, cr))) != 0)
				return 1;
#endif
			if (i + 16 == n)
				return 0;
		}
	}
#endif
	for (; i < n; i++) {
		if (b[i] == ' ' || b[i] == '\t' || b[i] == '\r')
			return 1;
	}
	return 0;
}

/*
 * Request line b[0..nl) where nl is the first line feed:
 * `Method SP Request-URI SP SIP/2.0 CRLF` (bare LF accepted). Methods
 * are case-sensitive and every registered one is upper case, so a start
 * line's method must be: "invite" is a broken peer, not an extension
 * method, and must not disappear into the OTHER counter.
 */
static int
dp_sip_request_line(const uint8_t *b, uint32_t nl, struct dp_sip_msg *m)
{
	const uint32_t vlen = DP_SIP_VER_LEN;
	uint32_t i, eol = nl, uri;

	for (i = 0; i < nl && dp_sip_is_method_char(b[i]); i++)
		;
	if (i == 0 || i == nl || b[i] != ' ')
		return -1;
	if (eol > 0 && b[eol - 1] == '\r')
		eol--;
	/* Method SP at least one URI byte, then SP SIP/2.0 */
	if (eol < i + 2 + vlen + 1 || b[eol - vlen - 1] != ' ' ||
		memcmp(b + eol - vlen, dp_sip_ver, vlen) != 0)
		return -1;
	uri = i + 1;
	if (dp_sip_has_blank(b + uri, eol - vlen - 1 - uri))
		return -1;
	m->is_request = 1;
	m->method = dp_sip_method(b, i);
	return 0;
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

/*
 * dp_sip_request_line for the line walk, where b[0..len) is the buffer:
 * the method is the token up to the first SP of the first 16 bytes, one
 * word compare when it is a registered one, and the version one word.
 * Anything else (an extension method, a short buffer) is read by the
 * exact reader, so both give the same result.
 */
static int
dp_sip_request_line_fast(const uint8_t *b, uint32_t nl, uint32_t len, struct dp_sip_msg *m)
{
#ifdef __SSE2__
	uint32_t i, eol, uri;
	unsigned int sp;
	uint8_t method;

	if (len < 16 || nl < 16 || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		return dp_sip_request_line(b, nl, m);
	sp = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(
		_mm_loadu_si128((const __m128i *)(const void *)b), _mm_set1_epi8(' ')));
	if (sp == 0)
		return dp_sip_request_line(b, nl, m);
	i = (uint32_t)__builtin_ctz(sp);
	method = dp_sip_method_word(b, i);
	if (method == SG_M_OTHER)
		return dp_sip_request_line(b, nl, m);
	/* a registered name: i > 0, all method characters, b[i] == ' ' */
	eol = nl - (b[nl - 1] == '\r');
	if (eol < i + 2 + DP_SIP_VER_LEN + 1 ||
		dp_sip_load8(b + eol - DP_SIP_VER_LEN - 1) != DP_SIP_W(" SIP/2.0"))
		return -1;
	uri = i + 1;
	if (dp_sip_has_blank(b + uri, eol - DP_SIP_VER_LEN - 1 - uri))
		return -1;
	m->is_request = 1;
	m->method = method;
	return 0;
#else
	(void)len;
	return dp_sip_request_line(b, nl, m);
#endif
}

/*
 * Value span of a header whose name match ended at `pos` (just past the
 * colon). The value runs across folded lines (a line end followed by SP
 * or HT) and stops at the first line end that is not; leading and
 * trailing whitespace is trimmed. `end` is the end of the header section,
 * so the span never leaves it.
 */
static void
dp_sip_value(const uint8_t *b, uint32_t pos, uint32_t end, uint32_t *vs, uint32_t *ve)
{
	const uint8_t *nl;
	uint32_t e = pos;

	while (e < end) {
		nl = memchr(b + e, '\n', end - e);
		if (nl == NULL) {
			e = end;
			break;
		}
		e = (uint32_t)(nl - b);
		if (e + 1 < end && (b[e + 1] == ' ' || b[e + 1] == '\t')) {
			e += 2;
			continue;
		}
		break;
	}
	while (pos < e && dp_sip_is_ws(b[pos]))
		pos++;
	while (e > pos && dp_sip_is_ws(b[e - 1]))
		e--;
	*vs = pos;
	*ve = e;
}

/*
 * Leading decimal digits at b[*pos..end), saturating just above `max`.
 * Returns how many digits there were; *pos is moved past them.
 */
static uint32_t
dp_sip_digits(const uint8_t *b, uint32_t *pos, uint32_t end, uint64_t max, uint64_t *val)
{
	uint32_t n = 0;
	uint64_t v = 0;

	while (*pos < end && dp_sip_is_digit(b[*pos])) {
		v = v * 10 + (uint64_t)(b[*pos] - '0');
		if (v > max)
			v = max + 1;
		(*pos)++;
		n++;
	}
	*val = v;
	return n;
}

/* A whole span that is one non-negative integer, clamped to INT32_MAX. */
static int32_t
dp_sip_int_span(const uint8_t *b, uint32_t s, uint32_t e)
{
	uint64_t v;

	if (dp_sip_digits(b, &s, e, INT32_MAX, &v) == 0 || s != e)
		return -1;
	return v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

/* "seconds[.fraction]" as integer microseconds; 0 when unparsable. */
static uint64_t
dp_sip_oc_seq(const uint8_t *b, uint32_t s, uint32_t e)
{
	const uint64_t max_sec = (UINT64_MAX - 999999) / 1000000;
	uint64_t sec, us = 0, scale = 100000;

	if (dp_sip_digits(b, &s, e, max_sec, &sec) == 0 || sec > max_sec)
		return 0;
	if (s < e && b[s] == '.') {
		/* Digits past microseconds are dropped, not rounded. */
		for (s++; s < e && dp_sip_is_digit(b[s]); s++) {
			us += (uint64_t)(b[s] - '0') * scale;
			scale /= 10;
		}
	}
	if (s != e)
		return 0;
	return sec * 1000000 + us;
}

static inline uint32_t
dp_sip_skip_ws(const uint8_t *b, uint32_t p, uint32_t e)
{
	while (p < e && dp_sip_is_ws(b[p]))
		p++;
	return p;
}

/* Caseless compare with a lower-case string literal, length first. */
#define DP_SIP_IEQ(p, n, lit) ((n) == sizeof(lit) - 1 && dp_sip_ieq((p), (n), (lit)))

/*
 * One pass over `;name[=value]` parameters of a header value b[..e).
 * *pos is at a ';'; on return 0 the name and value spans are set (quotes
 * around a value removed, value empty when there is no '=') and *pos is at
 * the next ';', or at the ',' (outside quotes) that ends this header
 * value, or at e. Returns -1 when *pos is not at a ';'.
 */
static int
dp_sip_next_param(const uint8_t *b, uint32_t *pos, uint32_t e, uint32_t *ns, uint32_t *ne,
	uint32_t *vs, uint32_t *ve)
{
	uint32_t p = *pos;
	int quoted = 0;

	if (p >= e || b[p] != ';')
		return -1;
	p = dp_sip_skip_ws(b, p + 1, e);
	*ns = p;
	while (p < e && dp_sip_is_token(b[p]))
		p++;
	*ne = p;
	p = dp_sip_skip_ws(b, p, e);
	*vs = *ve = p;
	if (p < e && b[p] == '=') {
		p = dp_sip_skip_ws(b, p + 1, e);
		if (p < e && b[p] == '"') {
			*vs = ++p;
			while (p < e && b[p] != '"')
				p += (b[p] == '\\' && p + 1 < e) ? 2 : 1;
			*ve = p;
			if (p < e)
				p++;
		} else {
			*vs = p;
			while (p < e && !dp_sip_is_ws(b[p]) && b[p] != ';' && b[p] != ',')
				p++;
			*ve = p;
		}
		p = dp_sip_skip_ws(b, p, e);
	}
	/* Anything unexpected: resynchronise at the next ';' or ','. */
	for (; p < e && b[p] != ';' && b[p] != ','; p++) {
		if (quoted && b[p] == '\\' && p + 1 < e)
			p++;
		else if (b[p] == '"')
			quoted = !quoted;
	}
	if (quoted)
		p = e;
	*pos = p;
	return 0;
}

/* End of the part before the first parameter: a ';', ',' or e. */
static inline uint32_t
dp_sip_params_start(const uint8_t *b, uint32_t p, uint32_t e)
{
	const uint8_t *semi = memchr(b + p, ';', e - p);
	uint32_t stop = semi != NULL ? (uint32_t)(semi - b) : e;
	const uint8_t *comma = memchr(b + p, ',', stop - p);

	return comma != NULL ? (uint32_t)(comma - b) : stop;
}

/* One parameter of the top Via; the first branch wins. */
static void
dp_sip_via_param(
	const uint8_t *b, uint32_t ns, uint32_t ne, uint32_t vs, uint32_t ve, struct dp_sip_msg *m)
{
	uint32_t n = ne - ns, vn = ve - vs;

	if (DP_SIP_IEQ(b + ns, n, "branch")) {
		if (m->branch.len == 0) {
			m->branch.p = (const char *)b + vs;
			m->branch.len = vn;
		}
	} else if (n < 2 || (b[ns] | 0x20) != 'o') {
		return; /* not an RFC 7339 parameter */
	} else if (DP_SIP_IEQ(b + ns, n, "oc")) {
		/* A bare `oc` only says the client supports it. */
		m->oc = dp_sip_int_span(b, vs, ve);
	} else if (DP_SIP_IEQ(b + ns, n, "oc-algo")) {
		if (DP_SIP_IEQ(b + vs, vn, "loss"))
			m->oc_algo = DP_OC_ALGO_LOSS;
		else if (DP_SIP_IEQ(b + vs, vn, "rate"))
			m->oc_algo = DP_OC_ALGO_RATE;
		else
			m->oc_algo = DP_OC_ALGO_OTHER;
	} else if (DP_SIP_IEQ(b + ns, n, "oc-validity")) {
		m->oc_validity = dp_sip_int_span(b, vs, ve);
	} else if (DP_SIP_IEQ(b + ns, n, "oc-seq")) {
		m->oc_seq_us = dp_sip_oc_seq(b, vs, ve);
	}
}

/* The parameters from the one at the ';' at b[p] to the end of the via-parm. */
static void
dp_sip_via_from(const uint8_t *b, uint32_t p, uint32_t e, struct dp_sip_msg *m)
{
	uint32_t ns, ne, vs, ve;

	while (dp_sip_next_param(b, &p, e, &ns, &ne, &vs, &ve) == 0)
		dp_sip_via_param(b, ns, ne, vs, ve, m);
}

/*
 * Top Via, the exact reading (the Hyperscan engine's): the parameters
 * of the first via-parm of the first Via header (a ',' outside quotes
 * starts the next via-parm).
 */
static void
dp_sip_via(const uint8_t *b, uint32_t s, uint32_t e, struct dp_sip_msg *m)
{
	dp_sip_via_from(b, dp_sip_params_start(b, s, e), e, m);
}

/* First Reason value: protocol token, then its cause parameter. */
static void
dp_sip_reason(const uint8_t *b, uint32_t s, uint32_t e, struct dp_sip_msg *m)
{
	uint32_t ps = s, pe, ns, ne, vs, ve;

	s = pe = dp_sip_params_start(b, s, e);
	while (pe > ps && dp_sip_is_ws(b[pe - 1]))
		pe--;
	if (DP_SIP_IEQ(b + ps, pe - ps, "sip"))
		m->reason_proto = DP_REASON_SIP;
	else if (DP_SIP_IEQ(b + ps, pe - ps, "q.850"))
		m->reason_proto = DP_REASON_Q850;
	else
		m->reason_proto = DP_REASON_OTHER;
	while (dp_sip_next_param(b, &s, e, &ns, &ne, &vs, &ve) == 0) {
		if (DP_SIP_IEQ(b + ns, ne - ns, "cause") && m->reason_cause < 0)
			m->reason_cause = dp_sip_int_span(b, vs, ve);
	}
}

/* CSeq: 1*DIGIT LWS Method, number at most 2^31 - 1. */
static int
dp_sip_cseq(const uint8_t *b, uint32_t s, uint32_t e, struct dp_sip_msg *m)
{
	uint32_t ms;
	uint64_t v;

	if (dp_sip_digits(b, &s, e, INT32_MAX, &v) == 0 || v > INT32_MAX)
		return -1;
	if (s == e || !dp_sip_is_ws(b[s]))
		return -1;
	while (s < e && dp_sip_is_ws(b[s]))
		s++;
	ms = s;
	while (s < e && dp_sip_is_token(b[s]))
		s++;
	if (s == ms || s != e)
		return -1;
	m->cseq = (uint32_t)v;
	m->cseq_method = dp_sip_method(b + ms, s - ms);
	return 0;
}

/*
 * dp_sip_cseq for the line walk, b[0..len) the buffer: a registered
 * method that runs to the end of the value is one word compare and
 * needs no token loop; anything else goes to the exact reader.
 */
static inline int
dp_sip_cseq_fast(const uint8_t *b, uint32_t s, uint32_t e, uint32_t len, struct dp_sip_msg *m)
{
	uint32_t d = s;
	uint64_t v;
	uint8_t method;

	if (dp_sip_digits(b, &d, e, INT32_MAX, &v) == 0 || v > INT32_MAX || d + 1 >= e ||
		b[d] != ' ' || d + 17 > len)
		return dp_sip_cseq(b, s, e, m);
	method = dp_sip_method_word(b + d + 1, e - d - 1);
	if (method == SG_M_OTHER)
		return dp_sip_cseq(b, s, e, m);
	m->cseq = (uint32_t)v;
	m->cseq_method = method;
	return 0;
}

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
 * End of an unquoted parameter value starting at b[p]: the first byte in
 * [p, e) that is ';', ',', '"' or whitespace, or e. Branch values run
 * to 30-50 bytes and usually end the header: whole vectors, then one
 * that ends at e (the bytes before p shifted out), not a byte loop.
 */
static inline uint32_t
dp_sip_pvalue_end(const uint8_t *b, uint32_t p, uint32_t e)
{
#ifdef __SSE2__
	unsigned int bits;

	for (; p + 16 <= e; p += 16) {
		bits = dp_sip_pvalue_end16(b + p);
		if (bits != 0)
			return p + (uint32_t)__builtin_ctz(bits);
	}
	if (p < e && e >= 16) {
		bits = dp_sip_pvalue_end16(b + e - 16) >> (16 - (e - p));
		return bits != 0 ? p + (uint32_t)__builtin_ctz(bits) : e;
	}
#endif
	for (; p < e; p++) {
		if (b[p] == ';' || b[p] == ',' || b[p] == '"' || dp_sip_is_ws(b[p]))
			break;
	}
	return p;
}

/*
 * Top Via, the line walk's reading: the same result as dp_sip_via, but
 * only the parameters that can matter (branch, oc*) are read; the
 * others (rport, received, ...) are stepped over from one ';' to the
 * next as the vector pass marked them (it marks whitespace too, so a
 * branch value ends at the next mark). Up to the first '"' inside the
 * parameters, ';' and ',' are exactly where the exact reader would find
 * them; from a quote on, the exact reader takes over at the parameter
 * that holds it. The common `;branch=token` is cut without a byte loop;
 * anything else about a branch or oc parameter goes to the exact reader.
 */
static void
dp_sip_via_walk(const uint8_t *b, uint32_t s, uint32_t e, uint32_t len, struct dp_sip_msg *m)
{
	uint32_t base, p, q, last = 0;
	uint64_t ev;

	for (base = s; base < e; base += 64) {
		ev = dp_sip_marks64(b, base, e, DP_SIP_MARK_PARAM);
		while (ev != 0) {
			uint32_t ns, ne, vs, ve, at;

			p = base + (uint32_t)__builtin_ctzll(ev);
			ev &= ev - 1;
			if (b[p] == ',')
				return; /* the next via-parm */
			if (b[p] == '"') {
				/* before the first ';' a quote does not matter */
				if (last != 0) {
					dp_sip_via_from(b, last, e, m);
					return;
				}
				continue;
			}
			if (b[p] != ';')
				continue; /* whitespace */
			last = p;
			q = dp_sip_skip_ws(b, p + 1, e);
			if (q >= e || ((b[q] | 0x20) != 'b' && (b[q] | 0x20) != 'o'))
				continue;
			if (q + 7 < e && DP_SIP_LIT(b, q, len, "branch=") && b[q + 7] != '"' &&
				!dp_sip_is_ws(b[q + 7])) {
				vs = q + 7;
				/* it ends at the next mark, in this block or past it */
				if (vs - base < 64 && (ev & (~0ull << (vs - base))) != 0)
					ve = base +
						(uint32_t)__builtin_ctzll(
							ev & (~0ull << (vs - base)));
				else if (base + 64 >= e)
					ve = e;
				else
					ve = dp_sip_pvalue_end(b, vs, e);
				if (ve == e || b[ve] == ';' || b[ve] == ',') {
					/* what dp_sip_via_param does with a branch */
					if (m->branch.len == 0) {
						m->branch.p = (const char *)b + vs;
						m->branch.len = ve - vs;
					}
					continue;
				}
			}
			at = p;
			if (dp_sip_next_param(b, &at, e, &ns, &ne, &vs, &ve) == 0)
				dp_sip_via_param(b, ns, ne, vs, ve, m);
		}
	}
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

/* Trimmed value of header `id`; 0 when the header is absent. */
static inline int
dp_sip_span(
	const uint8_t *b, const struct dp_sip_hdrs *h, unsigned int id, uint32_t *s, uint32_t *e)
{
	uint32_t vs = h->vs[id], ve = h->ve[id];

	if (vs == 0)
		return 0;
	while (vs < ve && dp_sip_is_ws(b[vs]))
		vs++;
	while (ve > vs && dp_sip_is_ws(b[ve - 1]))
		ve--;
	*s = vs;
	*e = ve;
	return 1;
}

/*
 * dp_sip_span for the line walk, whose value ends are line feeds: the
 * usual `: value CRLF` loses one SP and one CR without a loop; only a
 * value that still starts or ends with whitespace takes the loops.
 * An empty value may end up at another offset than dp_sip_span puts
 * it, which no reader of an empty span can tell.
 */
static inline int
dp_sip_span_walk(
	const uint8_t *b, const struct dp_sip_hdrs *h, unsigned int id, uint32_t *s, uint32_t *e)
{
	uint32_t vs = h->vs[id], ve = h->ve[id];

	if (vs == 0)
		return 0;
	vs += b[vs] == ' ';
	ve -= ve > vs && b[ve - 1] == '\r';
	if (DP_SIP_UNLIKELY(vs < ve && (dp_sip_is_ws(b[vs]) || dp_sip_is_ws(b[ve - 1])))) {
		while (vs < ve && dp_sip_is_ws(b[vs]))
			vs++;
		while (ve > vs && dp_sip_is_ws(b[ve - 1]))
			ve--;
	}
	*s = vs;
	*e = ve;
	return 1;
}

/*
 * The engine-independent half: values from the spans either engine
 * found. `walk` picks the Via reader (both give the same result; the
 * walk's skips what cannot matter).
 */
static enum dp_sip_res
dp_sip_finish(const uint8_t *buf, uint32_t len, uint32_t eoh, const struct dp_sip_hdrs *h, int walk,
	struct dp_sip_msg *m)
{
	uint32_t s, e;
	uint64_t total;

	/* the walk's spans end at line feeds, the reference engine's trimmed */
#define DP_SIP_SPAN(id) \
	(walk ? dp_sip_span_walk(buf, h, (id), &s, &e) : dp_sip_span(buf, h, (id), &s, &e))
	m->base = buf;
	m->hdr_len = eoh;
	if (!DP_SIP_SPAN(DP_SIP_H_CALL_ID) || s == e)
		return DP_SIP_BAD_CALL_ID;
	m->call_id.p = (const char *)buf + s;
	m->call_id.len = e - s;

	if (!DP_SIP_SPAN(DP_SIP_H_CSEQ) ||
		(walk ? dp_sip_cseq_fast(buf, s, e, len, m) : dp_sip_cseq(buf, s, e, m)) != 0)
		return DP_SIP_BAD_CSEQ;

	if (DP_SIP_SPAN(DP_SIP_H_VIA)) {
		if (walk)
			dp_sip_via_walk(buf, s, e, len, m);
		else
			dp_sip_via(buf, s, e, m);
	}

	if (DP_SIP_UNLIKELY(DP_SIP_SPAN(DP_SIP_H_RETRY_AFTER))) {
		uint64_t v;

		/* delta-seconds, maybe followed by a comment and params */
		if (dp_sip_digits(buf, &s, e, INT32_MAX, &v) > 0)
			m->retry_after = v > INT32_MAX ? INT32_MAX : (int32_t)v;
	}

	if (DP_SIP_UNLIKELY(DP_SIP_SPAN(DP_SIP_H_REASON)))
		dp_sip_reason(buf, s, e, m);

	if (DP_SIP_SPAN(DP_SIP_H_CONTENT_LENGTH))
		m->content_length = dp_sip_int_span(buf, s, e);

	total = (uint64_t)m->hdr_len + (uint64_t)(m->content_length > 0 ? m->content_length : 0);
	m->msg_len = total > len ? len : (uint32_t)total;
	return DP_SIP_OK;
#undef DP_SIP_SPAN
}

/*
 * What the first byte of a line says, one table load instead of a chain
 * of compares and an indirect jump per line: most lines (From, To,
 * Contact, Max-Forwards, ...) stop at DP_SIP_L_OTHER.
 */
enum dp_sip_line {
	DP_SIP_L_OTHER, /* no wanted header starts with it */
	DP_SIP_L_FOLD,	/* SP or HT: continues the previous value */
	DP_SIP_L_CR,	/* maybe the empty line */
	DP_SIP_L_LF,	/* the empty line (bare LF) */
	DP_SIP_L_C,	/* Call-ID, CSeq, Content-Length */
	DP_SIP_L_I,	/* i (Call-ID) */
	DP_SIP_L_L,	/* l (Content-Length) */
	DP_SIP_L_V,	/* Via, v */
	DP_SIP_L_R,	/* Retry-After, Reason */
};

static const uint8_t dp_sip_line_class[256] = {
	[' '] = DP_SIP_L_FOLD,
	['\t'] = DP_SIP_L_FOLD,
	['\r'] = DP_SIP_L_CR,
	['\n'] = DP_SIP_L_LF,
	['C'] = DP_SIP_L_C,
	['c'] = DP_SIP_L_C,
	['I'] = DP_SIP_L_I,
	['i'] = DP_SIP_L_I,
	['L'] = DP_SIP_L_L,
	['l'] = DP_SIP_L_L,
	['V'] = DP_SIP_L_V,
	['v'] = DP_SIP_L_V,
	['R'] = DP_SIP_L_R,
	['r'] = DP_SIP_L_R,
};

/*
 * The header line starting at b[l], whose first byte is of class `cls`:
 * if its name is a wanted one followed by `[ \t]*:` and the first of its
 * kind, record where its value starts and return its id, else
 * DP_SIP_H_COUNT (the slot that collects values nobody reads).
 */
static inline unsigned int
dp_sip_name(const uint8_t *b, uint32_t l, uint32_t len, unsigned int cls, struct dp_sip_hdrs *h)
{
	unsigned int id;
	uint32_t p;

	if (cls == DP_SIP_L_C) {
		if (DP_SIP_LIT(b, l, len, "call-id")) {
			id = DP_SIP_H_CALL_ID;
			p = l + 7;
		} else if (DP_SIP_LIT(b, l, len, "cseq")) {
			id = DP_SIP_H_CSEQ;
			p = l + 4;
		} else if (DP_SIP_LIT(b, l, len, "content-length")) {
			id = DP_SIP_H_CONTENT_LENGTH;
			p = l + 14;
		} else {
			return DP_SIP_H_COUNT;
		}
	} else if (cls == DP_SIP_L_V) {
		id = DP_SIP_H_VIA;
		p = l + 1;
		if (p + 1 < len && (b[p] | 0x20) == 'i' && (b[p + 1] | 0x20) == 'a')
			p += 2;
	} else if (cls == DP_SIP_L_I) {
		id = DP_SIP_H_CALL_ID;
		p = l + 1;
	} else if (cls == DP_SIP_L_L) {
		id = DP_SIP_H_CONTENT_LENGTH;
		p = l + 1;
	} else if (DP_SIP_LIT(b, l, len, "retry-after")) {
		id = DP_SIP_H_RETRY_AFTER;
		p = l + 11;
	} else if (DP_SIP_LIT(b, l, len, "reason")) {
		id = DP_SIP_H_REASON;
		p = l + 6;
	} else {
		return DP_SIP_H_COUNT;
	}
	if (DP_SIP_UNLIKELY(p >= len || b[p] != ':')) {
		/* `name SP :` is allowed, and rare */
		while (p < len && (b[p] == ' ' || b[p] == '\t'))
			p++;
		if (p >= len || b[p] != ':')
			return DP_SIP_H_COUNT;
	}
	if (h->vs[id] != 0)
		return DP_SIP_H_COUNT;
	h->vs[id] = p + 1;
	return id;
}

/* Line feeds of b[base..min(base + 64, end)), see dp_sip_marks64. */
static inline uint64_t
dp_sip_lf64(const uint8_t *b, uint32_t base, uint32_t end)
{
	return dp_sip_marks64(b, base, end, DP_SIP_MARK_LF);
}

enum dp_sip_res
dp_sip_parse(const uint8_t *buf, uint32_t len, struct dp_sip_msg *m)
{
	struct dp_sip_hdrs h;
	uint32_t base = 0, q, l, end;
	unsigned int cls, open = DP_SIP_H_COUNT;
	uint64_t nl;
	int status;

	dp_sip_msg_init(m);
	if (buf == NULL || len == 0)
		return DP_SIP_NO_START_LINE;
	status = dp_sip_status_line(buf, len, m);
	if (status < 0)
		return DP_SIP_NO_START_LINE;
	memset(h.vs, 0, sizeof(h.vs));

	/*
	 * Line feeds are marked in buf[0..len - 1): one in the last byte has
	 * no line after it, so every marked one starts a line inside the
	 * buffer and the walk needs no bounds check per line.
	 */
	end = len - 1;
	nl = dp_sip_lf64(buf, 0, end);
	while (nl == 0) {
		base += 64;
		if (base >= end) {
			/* the start line, if any, ends in the last byte */
			if (!status && buf[end] == '\n' &&
				dp_sip_request_line_fast(buf, end, len, m) == 0)
				return DP_SIP_TRUNCATED;
			return status ? DP_SIP_TRUNCATED : DP_SIP_NO_START_LINE;
		}
		nl = dp_sip_lf64(buf, base, end);
	}
	q = base + (uint32_t)__builtin_ctzll(nl);
	nl &= nl - 1;
	if (!status && dp_sip_request_line_fast(buf, q, len, m) != 0)
		return DP_SIP_NO_START_LINE;

	/* q is a line feed; look at the line after it. */
	for (;;) {
		l = q + 1;
		cls = dp_sip_line_class[buf[l]];
		if (cls == DP_SIP_L_OTHER) {
			/* most lines: the open value ends at q */
			h.ve[open] = q;
			open = DP_SIP_H_COUNT;
		} else if (cls != DP_SIP_L_FOLD) {
			h.ve[open] = q;
			open = DP_SIP_H_COUNT;
			if (cls >= DP_SIP_L_C) {
				open = dp_sip_name(buf, l, len, cls, &h);
			} else if (cls == DP_SIP_L_LF) {
				return dp_sip_finish(buf, len, l + 1, &h, 1, m);
			} else if (cls == DP_SIP_L_CR && l + 1 < len && buf[l + 1] == '\n') {
				return dp_sip_finish(buf, len, l + 2, &h, 1, m);
			}
		}
		while (nl == 0) {
			base += 64;
			if (base >= end)
				return DP_SIP_TRUNCATED;
			nl = dp_sip_lf64(buf, base, end);
		}
		q = base + (uint32_t)__builtin_ctzll(nl);
		nl &= nl - 1;
	}
}

/*
 * End of the header section: just past the first `\n\r?\n`, 0 when the
 * buffer has none. Found before the scan so the scan covers exactly the
 * header section: Hyperscan's cost grows with the buffer it is given, not
 * with where a callback stops it, and an end-of-headers pattern fires
 * (and costs a confirm) at every line end.
 */
static uint32_t
dp_sip_eoh(const uint8_t *b, uint32_t len)
{
	const uint8_t *p = b, *end = b + len;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (p + 1 < end && p[1] == '\n')
			return (uint32_t)(p + 2 - b);
		if (p + 2 < end && p[1] == '\r' && p[2] == '\n')
			return (uint32_t)(p + 3 - b);
		p++;
	}
	return 0;
}

void
dp_sip_platform(hs_platform_info_t *plat)
{
	/*
	 * Target this CPU, but without the AVX-512 literal matchers: with
	 * them, Hyperscan 5.4.0 (Debian 12) was seen reading past the end of
	 * a scanned buffer (a fault at a page boundary while fuzzing). AVX2
	 * keeps the vector paths and never faulted.
	 */
	if (hs_populate_platform(plat) != HS_SUCCESS)
		memset(plat, 0, sizeof(*plat));
	plat->cpu_features &= HS_CPU_FEATURES_AVX2;
}

enum dp_sip_res
dp_sip_parse_hs(const struct dp_sip_db *db, hs_scratch_t *scratch, const uint8_t *buf, uint32_t len,
	struct dp_sip_msg *m)
{
	struct dp_sip_hdrs h;
	struct dp_sip_scan st;
	const uint8_t *nl;
	unsigned int id;
	int status;
	hs_error_t rc;

	dp_sip_msg_init(m);
	if (db == NULL || scratch == NULL)
		return DP_SIP_SCAN_ERROR;
	if (buf == NULL || len == 0)
		return DP_SIP_NO_START_LINE;
	status = dp_sip_status_line(buf, len, m);
	if (status < 0)
		return DP_SIP_NO_START_LINE;
	if (status == 0) {
		nl = memchr(buf, '\n', len);
		if (nl == NULL || dp_sip_request_line(buf, (uint32_t)(nl - buf), m) != 0)
			return DP_SIP_NO_START_LINE;
	}

	memset(&st, 0, sizeof(st));
	st.eoh = dp_sip_eoh(buf, len);
	if (st.eoh == 0)
		return DP_SIP_TRUNCATED;
	st.buf = buf;
	st.len = st.eoh;
	rc = hs_scan(db->hs, (const char *)buf, st.eoh, 0, scratch, dp_sip_on_match, &st);
	dp_sip_matches += st.matches;
	if (rc != HS_SUCCESS)
		return DP_SIP_SCAN_ERROR;

	/*
	 * A header-name match ending past the empty line came from the
	 * body; matches arrive in end-offset order so none should be
	 * recorded, but the check keeps every value inside the headers.
	 */
	memset(h.vs, 0, sizeof(h.vs));
	for (id = 0; id < DP_SIP_H_COUNT; id++) {
		if (st.hdr[id] != 0 && st.hdr[id] < st.eoh)
			dp_sip_value(buf, st.hdr[id], st.eoh, &h.vs[id], &h.ve[id]);
	}
	return dp_sip_finish(buf, len, st.eoh, &h, 0, m);
}

const char *
dp_sip_res_name(enum dp_sip_res res)
{
	static const char *const names[DP_SIP_RES_COUNT] = {
		[DP_SIP_OK] = "ok",
		[DP_SIP_NO_START_LINE] = "no_start_line",
		[DP_SIP_TRUNCATED] = "truncated",
		[DP_SIP_BAD_CALL_ID] = "bad_call_id",
		[DP_SIP_BAD_CSEQ] = "bad_cseq",
		[DP_SIP_SCAN_ERROR] = "scan_error",
	};

	if ((unsigned int)res >= DP_SIP_RES_COUNT)
		return "unknown";
	return names[res];
}

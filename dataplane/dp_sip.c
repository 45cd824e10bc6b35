/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message extractor: the line walk (dp_sip_parse, the packet path)
 * and the start-line checks both engines use.
 *
 * The line walk: one vector pass marks every line feed of the header
 * section 64 bytes at a time; each line start is then looked at once,
 * and only a line whose first letter can begin a wanted header name has
 * its name compared. The value of a header ends at the next line start
 * that is not a folded continuation, which the same pass already found,
 * so a value is never searched for its end and a body (SDP) is never
 * looked at past the block holding the empty line.
 *
 * The start line sits at a known place and is checked by hand. The
 * values of the headers found are read in dp_sip_hdr.c; the Hyperscan
 * engine, the reference the line walk is checked against, is
 * dp_sip_hs.c.
 */
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dp_sip.h"
#include "dp_sip_impl.h"

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
uint8_t
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
/* SP HT CR */
#define DP_SIP_SET_BLANK _mm_setr_epi8(' ', 0, 3, 2, 5, 4, 7, 6, 9, '\t', 11, 10, 13, '\r', 15, 14)
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

int
dp_sip_start_line(const uint8_t *buf, uint32_t len, struct dp_sip_msg *m)
{
	const uint8_t *nl;
	int status;

	status = dp_sip_status_line(buf, len, m);
	if (status < 0)
		return -1;
	if (status == 0) {
		nl = memchr(buf, '\n', len);
		if (nl == NULL || dp_sip_request_line(buf, (uint32_t)(nl - buf), m) != 0)
			return -1;
	}
	return 0;
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

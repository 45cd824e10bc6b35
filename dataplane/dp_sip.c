/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message extractor. The start line sits at a known place and is
 * checked by hand, and so is the empty line that ends the header section
 * (a memchr walk over line ends); one Hyperscan block scan per message
 * then covers exactly the header section and finds the header names whose
 * position is unknown, so a body (SDP) is never looked at. Values are parsed by hand
 * from the offsets the scan reported, always bounded by the header
 * section, which itself lies inside `len`. Duplicate headers: the first
 * Call-ID, CSeq, Via, Retry-After, Reason and Content-Length win; later
 * ones are ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "dp_sip.h"

struct dp_sip_db {
	hs_database_t *hs;
};

/* Header names whose first occurrence the scan records. */
enum dp_sip_hdr {
	DP_SIP_H_CALL_ID,
	DP_SIP_H_CSEQ,
	DP_SIP_H_VIA,
	DP_SIP_H_RETRY_AFTER,
	DP_SIP_H_REASON,
	DP_SIP_H_CONTENT_LENGTH,
	DP_SIP_H_COUNT
};

/* Pattern ids: the header names (id == enum dp_sip_hdr). */
#define DP_SIP_ID_COUNT DP_SIP_H_COUNT

/*
 * Header names are plain caseless literals at a line start; the
 * `[ \t]*:` that must follow is checked in the callback. Literals keep the
 * scan on Hyperscan's literal matcher: with the `[ \t]*:` tails and
 * anchored start-line patterns in the database the scan of a typical
 * INVITE took several times longer. "\nv" covers both Via and its compact
 * form v; the callback skips an "ia". No HS_FLAG_SINGLEMATCH: the first
 * "\ni" may well be In-Reply-To, and only the callback can tell.
 */
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

static inline int
dp_sip_is_ws(uint8_t c)
{
	/* CR and LF inside a value span only occur as line folding. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline int
dp_sip_is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3261 token characters other than letters and digits. */
static inline int
dp_sip_is_token_mark(uint8_t c)
{
	switch (c) {
	case '-':
	case '.':
	case '!':
	case '%':
	case '*':
	case '_':
	case '+':
	case '`':
	case '\'':
	case '~':
		return 1;
	default:
		return 0;
	}
}

static inline int
dp_sip_is_token(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || dp_sip_is_digit(c) ||
		dp_sip_is_token_mark(c);
}

/*
 * Methods are case-sensitive and every registered one is upper case, so
 * a start line's method must be: "invite" is a broken peer, not an
 * extension method, and must not disappear into the OTHER counter.
 */
static inline int
dp_sip_is_method_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || dp_sip_is_digit(c) || dp_sip_is_token_mark(c);
}

/* Method token to enum sg_method, case-sensitive; unknown is OTHER. */
static uint8_t
dp_sip_method(const uint8_t *p, uint32_t n)
{
	unsigned int i;

	for (i = 0; i < SG_M_OTHER; i++) {
		const char *name = sg_method_names[i];

		/* The first byte rules out almost every name cheaply. */
		if ((uint8_t)name[0] == p[0] && strlen(name) == n && memcmp(name, p, n) == 0)
			return (uint8_t)i;
	}
	return SG_M_OTHER;
}

/*
 * Start line at buf[0]: `SIP/2.0 SP 3DIGIT (SP|CR|LF)` (the code only:
 * real overload answers carry any reason phrase, "Limiting", "CPS Limit
 * reached", or none), or `Method SP Request-URI SP SIP/2.0 CRLF` (bare
 * LF accepted). It is at a known place, so it is checked by hand before
 * the scan; garbage is then never scanned at all.
 */
static int
dp_sip_start_line(const uint8_t *b, uint32_t len, struct dp_sip_msg *m)
{
	static const char ver[] = "SIP/2.0";
	const uint32_t vlen = sizeof(ver) - 1;
	const uint8_t *nl;
	uint32_t i, eol, uri, n;

	if (len >= vlen + 5 && memcmp(b, ver, vlen) == 0 && b[vlen] == ' ') {
		const uint8_t *c = b + vlen + 1;

		if (c[0] < '1' || c[0] > '6' || !dp_sip_is_digit(c[1]) || !dp_sip_is_digit(c[2]) ||
			(c[3] != ' ' && c[3] != '\r' && c[3] != '\n'))
			return -1;
		m->status = (uint16_t)((c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0'));
		return 0;
	}

	for (i = 0; i < len && dp_sip_is_method_char(b[i]); i++)
		;
	if (i == 0 || i == len || b[i] != ' ')
		return -1;
	nl = memchr(b, '\n', len);
	if (nl == NULL)
		return -1;
	eol = (uint32_t)(nl - b);
	if (eol > 0 && b[eol - 1] == '\r')
		eol--;
	/* Method SP at least one URI byte, then SP SIP/2.0 */
	if (eol < i + 2 + vlen + 1 || b[eol - vlen - 1] != ' ' ||
		memcmp(b + eol - vlen, ver, vlen) != 0)
		return -1;
	/* memchr is vectorised; a byte loop here cost more than the rest. */
	uri = i + 1;
	n = eol - vlen - 1 - uri;
	if (memchr(b + uri, ' ', n) != NULL || memchr(b + uri, '\t', n) != NULL ||
		memchr(b + uri, '\r', n) != NULL)
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

/*
 * Top Via: the parameters of the first via-parm of the first Via header
 * (a ',' outside quotes starts the next via-parm). The first branch wins.
 */
static void
dp_sip_via(const uint8_t *b, uint32_t s, uint32_t e, struct dp_sip_msg *m)
{
	uint32_t ns, ne, vs, ve, n, vn;

	s = dp_sip_params_start(b, s, e);
	while (dp_sip_next_param(b, &s, e, &ns, &ne, &vs, &ve) == 0) {
		n = ne - ns;
		vn = ve - vs;
		if (DP_SIP_IEQ(b + ns, n, "branch")) {
			if (m->branch.len == 0) {
				m->branch.p = (const char *)b + vs;
				m->branch.len = vn;
			}
		} else if (n < 2 || (b[ns] | 0x20) != 'o') {
			continue; /* not an RFC 7339 parameter */
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
dp_sip_parse(const struct dp_sip_db *db, hs_scratch_t *scratch, const uint8_t *buf, uint32_t len,
	struct dp_sip_msg *m)
{
	struct dp_sip_scan st;
	uint32_t off, s, e;
	uint64_t total;
	hs_error_t rc;

	memset(m, 0, sizeof(*m));
	m->retry_after = -1;
	m->reason_cause = -1;
	m->oc = -1;
	m->oc_validity = -1;
	m->content_length = -1;
	if (db == NULL || scratch == NULL)
		return DP_SIP_SCAN_ERROR;
	if (buf == NULL || len == 0 || dp_sip_start_line(buf, len, m) != 0)
		return DP_SIP_NO_START_LINE;

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
	m->hdr_len = st.eoh;

	/*
	 * A header-name match ending past the empty line came from the
	 * body; matches arrive in end-offset order so none should be
	 * recorded, but the check keeps every value inside the headers.
	 */
	off = st.hdr[DP_SIP_H_CALL_ID];
	if (off == 0 || off >= st.eoh)
		return DP_SIP_BAD_CALL_ID;
	dp_sip_value(buf, off, st.eoh, &s, &e);
	if (s == e)
		return DP_SIP_BAD_CALL_ID;
	m->call_id.p = (const char *)buf + s;
	m->call_id.len = e - s;

	off = st.hdr[DP_SIP_H_CSEQ];
	if (off == 0 || off >= st.eoh)
		return DP_SIP_BAD_CSEQ;
	dp_sip_value(buf, off, st.eoh, &s, &e);
	if (dp_sip_cseq(buf, s, e, m) != 0)
		return DP_SIP_BAD_CSEQ;

	off = st.hdr[DP_SIP_H_VIA];
	if (off != 0 && off < st.eoh) {
		dp_sip_value(buf, off, st.eoh, &s, &e);
		dp_sip_via(buf, s, e, m);
	}

	off = st.hdr[DP_SIP_H_RETRY_AFTER];
	if (off != 0 && off < st.eoh) {
		uint64_t v;

		/* delta-seconds, maybe followed by a comment and params */
		dp_sip_value(buf, off, st.eoh, &s, &e);
		if (dp_sip_digits(buf, &s, e, INT32_MAX, &v) > 0)
			m->retry_after = v > INT32_MAX ? INT32_MAX : (int32_t)v;
	}

	off = st.hdr[DP_SIP_H_REASON];
	if (off != 0 && off < st.eoh) {
		dp_sip_value(buf, off, st.eoh, &s, &e);
		dp_sip_reason(buf, s, e, m);
	}

	off = st.hdr[DP_SIP_H_CONTENT_LENGTH];
	if (off != 0 && off < st.eoh) {
		dp_sip_value(buf, off, st.eoh, &s, &e);
		m->content_length = dp_sip_int_span(buf, s, e);
	}

	total = (uint64_t)m->hdr_len + (uint64_t)(m->content_length > 0 ? m->content_length : 0);
	m->msg_len = total > len ? len : (uint32_t)total;
	return DP_SIP_OK;
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

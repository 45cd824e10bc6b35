/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message extractor. A single Hyperscan block scan per message finds
 * the start line and the end offsets of the few header names the
 * classifier needs; the scan stops at the empty line so a body (SDP) is
 * never looked at. The values are then parsed by hand from those offsets,
 * always bounded by the header section, which itself lies inside `len`.
 * Duplicate headers: the first Call-ID, CSeq, Via, Retry-After, Reason and
 * Content-Length win; later ones are ignored.
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

/*
 * Pattern ids: one per known request method (id == enum sg_method), then
 * the generic request line, the status line, the header names and the
 * empty line.
 */
#define DP_SIP_ID_REQ_OTHER SG_M_OTHER
#define DP_SIP_ID_STATUS (SG_M_OTHER + 1)
#define DP_SIP_ID_HDR (DP_SIP_ID_STATUS + 1)
#define DP_SIP_ID_EOH (DP_SIP_ID_HDR + DP_SIP_H_COUNT)
#define DP_SIP_ID_COUNT (DP_SIP_ID_EOH + 1)

/* Request-URI: anything up to the single SP before the version. */
#define DP_SIP_REQ(m) "^" m " [^ \\t\\r\\n]+ SIP/2\\.0\\r?\\n"
#define DP_SIP_HDR_FLAGS (HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH)

/*
 * The known methods have their own pattern so the method needs no string
 * compare after the scan. The generic request line takes extension
 * methods; it only accepts upper case because methods are case-sensitive
 * and every registered one is upper case: "invite" is a broken peer, not
 * an extension method, and must not disappear into the OTHER counter.
 * Status lines are matched on the code alone: real overload answers carry
 * any reason phrase ("Limiting", "CPS Limit reached") or none.
 */
static const char *const dp_sip_patterns[DP_SIP_ID_COUNT] = {
	[SG_M_INVITE] = DP_SIP_REQ("INVITE"),
	[SG_M_ACK] = DP_SIP_REQ("ACK"),
	[SG_M_BYE] = DP_SIP_REQ("BYE"),
	[SG_M_CANCEL] = DP_SIP_REQ("CANCEL"),
	[SG_M_REGISTER] = DP_SIP_REQ("REGISTER"),
	[SG_M_OPTIONS] = DP_SIP_REQ("OPTIONS"),
	[SG_M_PRACK] = DP_SIP_REQ("PRACK"),
	[SG_M_SUBSCRIBE] = DP_SIP_REQ("SUBSCRIBE"),
	[SG_M_NOTIFY] = DP_SIP_REQ("NOTIFY"),
	[SG_M_PUBLISH] = DP_SIP_REQ("PUBLISH"),
	[SG_M_INFO] = DP_SIP_REQ("INFO"),
	[SG_M_REFER] = DP_SIP_REQ("REFER"),
	[SG_M_MESSAGE] = DP_SIP_REQ("MESSAGE"),
	[SG_M_UPDATE] = DP_SIP_REQ("UPDATE"),
	[DP_SIP_ID_REQ_OTHER] = DP_SIP_REQ("[A-Z0-9.!%*_+`'~-]+"),
	[DP_SIP_ID_STATUS] = "^SIP/2\\.0 [1-6][0-9][0-9][ \\r\\n]",
	[DP_SIP_ID_HDR + DP_SIP_H_CALL_ID] = "\\n(call-id|i)[ \\t]*:",
	[DP_SIP_ID_HDR + DP_SIP_H_CSEQ] = "\\ncseq[ \\t]*:",
	[DP_SIP_ID_HDR + DP_SIP_H_VIA] = "\\n(via|v)[ \\t]*:",
	[DP_SIP_ID_HDR + DP_SIP_H_RETRY_AFTER] = "\\nretry-after[ \\t]*:",
	[DP_SIP_ID_HDR + DP_SIP_H_REASON] = "\\nreason[ \\t]*:",
	[DP_SIP_ID_HDR + DP_SIP_H_CONTENT_LENGTH] =
		"\\n(content-length|l)[ \\t]*:",
	[DP_SIP_ID_EOH] = "\\r?\\n\\r?\\n",
};

/* What the scan saw; lives on the parser's stack. Offsets 0 = not seen. */
struct dp_sip_scan {
	uint32_t start_end;          /* end of the start-line match */
	uint8_t start_id;            /* method id or DP_SIP_ID_STATUS */
	uint32_t hdr[DP_SIP_H_COUNT];
	uint32_t eoh;                /* end of the empty line */
};

struct dp_sip_db *
dp_sip_db_create(char *err, size_t errlen)
{
	unsigned int flags[DP_SIP_ID_COUNT];
	unsigned int ids[DP_SIP_ID_COUNT];
	hs_compile_error_t *cerr = NULL;
	struct dp_sip_db *db;
	hs_database_t *hs = NULL;
	unsigned int i;

	for (i = 0; i < DP_SIP_ID_COUNT; i++) {
		ids[i] = i;
		if (i < DP_SIP_ID_HDR)
			flags[i] = HS_FLAG_SINGLEMATCH;
		else if (i < DP_SIP_ID_EOH)
			flags[i] = DP_SIP_HDR_FLAGS;
		else
			flags[i] = 0; /* the callback stops the scan here */
	}

	if (hs_compile_multi(dp_sip_patterns, flags, ids, DP_SIP_ID_COUNT,
			     HS_MODE_BLOCK, NULL, &hs, &cerr) != HS_SUCCESS) {
		if (err != NULL && errlen > 0) {
			if (cerr != NULL && cerr->expression >= 0 &&
			    cerr->expression < DP_SIP_ID_COUNT)
				snprintf(err, errlen,
					 "sip: pattern %d '%s': %s",
					 cerr->expression,
					 dp_sip_patterns[cerr->expression],
					 cerr->message);
			else
				snprintf(err, errlen, "sip: compile: %s",
					 cerr != NULL ? cerr->message :
							"unknown error");
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

/* Kept tiny: it runs a handful of times per message. */
static int
dp_sip_on_match(unsigned int id, unsigned long long from,
		unsigned long long to, unsigned int flags, void *ctx)
{
	struct dp_sip_scan *st = ctx;

	(void)from;
	(void)flags;
	if (id == DP_SIP_ID_EOH) {
		st->eoh = (uint32_t)to;
		return 1; /* the body is none of our business */
	}
	if (id >= DP_SIP_ID_HDR) {
		if (st->hdr[id - DP_SIP_ID_HDR] == 0)
			st->hdr[id - DP_SIP_ID_HDR] = (uint32_t)to;
		return 0;
	}
	/*
	 * A known method matches both its own and the generic pattern, in
	 * either order; the specific one must win.
	 */
	if (id == DP_SIP_ID_REQ_OTHER && st->start_end != 0)
		return 0;
	st->start_end = (uint32_t)to;
	st->start_id = (uint8_t)id;
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

static int
dp_sip_is_token(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    dp_sip_is_digit(c))
		return 1;
	return c != '\0' && strchr("-.!%*_+`'~", c) != NULL;
}

/* ASCII-only caseless compare of a span with a literal. */
static int
dp_sip_ieq(const uint8_t *p, uint32_t n, const char *lit)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint8_t a = p[i], b = (uint8_t)lit[i];

		if (b == '\0')
			return 0;
		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 'a' - 'A');
		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + 'a' - 'A');
		if (a != b)
			return 0;
	}
	return lit[n] == '\0';
}

/*
 * Value span of a header whose name match ended at `pos` (just past the
 * colon). The value runs across folded lines (a line end followed by SP
 * or HT) and stops at the first line end that is not; leading and
 * trailing whitespace is trimmed. `end` is the end of the header section,
 * so the span never leaves it.
 */
static void
dp_sip_value(const uint8_t *b, uint32_t pos, uint32_t end, uint32_t *vs,
	     uint32_t *ve)
{
	uint32_t e = pos;

	while (e < end) {
		if (b[e] == '\n') {
			if (e + 1 < end && (b[e + 1] == ' ' || b[e + 1] == '\t')) {
				e += 2;
				continue;
			}
			break;
		}
		e++;
	}
	while (pos < e && dp_sip_is_ws(b[pos]))
		pos++;
	while (e > pos && dp_sip_is_ws(b[e - 1]))
		e--;
	*vs = pos;
	*ve = e;
}

static void
dp_sip_trim(const uint8_t *b, uint32_t *s, uint32_t *e)
{
	while (*s < *e && dp_sip_is_ws(b[*s]))
		(*s)++;
	while (*e > *s && dp_sip_is_ws(b[*e - 1]))
		(*e)--;
}

/* First `c` at or after pos that is outside a quoted string, else end. */
static uint32_t
dp_sip_find_unquoted(const uint8_t *b, uint32_t pos, uint32_t end, uint8_t c)
{
	int quoted = 0;

	for (; pos < end; pos++) {
		if (quoted) {
			if (b[pos] == '\\')
				pos++; /* quoted-pair; loop bound still holds */
			else if (b[pos] == '"')
				quoted = 0;
		} else if (b[pos] == '"') {
			quoted = 1;
		} else if (b[pos] == c) {
			return pos;
		}
	}
	return end;
}

/*
 * Leading decimal digits at b[*pos..end), saturating just above `max`.
 * Returns how many digits there were; *pos is moved past them.
 */
static uint32_t
dp_sip_digits(const uint8_t *b, uint32_t *pos, uint32_t end, uint64_t max,
	      uint64_t *val)
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

/*
 * One `;name[=value]` parameter in b[s..e) (the span between two
 * semicolons). Quotes around the value are removed.
 */
static void
dp_sip_param(const uint8_t *b, uint32_t s, uint32_t e, uint32_t *ns,
	     uint32_t *ne, uint32_t *vs, uint32_t *ve)
{
	dp_sip_trim(b, &s, &e);
	*ns = s;
	while (s < e && dp_sip_is_token(b[s]))
		s++;
	*ne = s;
	while (s < e && dp_sip_is_ws(b[s]))
		s++;
	if (s < e && b[s] == '=') {
		s++;
		dp_sip_trim(b, &s, &e);
		if (e - s >= 2 && b[s] == '"' && b[e - 1] == '"') {
			s++;
			e--;
		}
	} else {
		s = e;
	}
	*vs = s;
	*ve = e;
}

/* Top Via: first via-parm of the first Via header, then its params. */
static void
dp_sip_via(const uint8_t *b, uint32_t s, uint32_t e, struct dp_sip_msg *m)
{
	uint32_t ns, ne, vs, ve, next;

	e = dp_sip_find_unquoted(b, s, e, ',');
	s = dp_sip_find_unquoted(b, s, e, ';');
	while (s < e) {
		s++; /* past ';' */
		next = dp_sip_find_unquoted(b, s, e, ';');
		dp_sip_param(b, s, next, &ns, &ne, &vs, &ve);
		if (dp_sip_ieq(b + ns, ne - ns, "branch")) {
			if (m->branch.len == 0) {
				m->branch.p = (const char *)b + vs;
				m->branch.len = ve - vs;
			}
		} else if (dp_sip_ieq(b + ns, ne - ns, "oc")) {
			/* A bare `oc` only says the client supports it. */
			m->oc = dp_sip_int_span(b, vs, ve);
		} else if (dp_sip_ieq(b + ns, ne - ns, "oc-algo")) {
			if (dp_sip_ieq(b + vs, ve - vs, "loss"))
				m->oc_algo = DP_OC_ALGO_LOSS;
			else if (dp_sip_ieq(b + vs, ve - vs, "rate"))
				m->oc_algo = DP_OC_ALGO_RATE;
			else
				m->oc_algo = DP_OC_ALGO_OTHER;
		} else if (dp_sip_ieq(b + ns, ne - ns, "oc-validity")) {
			m->oc_validity = dp_sip_int_span(b, vs, ve);
		} else if (dp_sip_ieq(b + ns, ne - ns, "oc-seq")) {
			m->oc_seq_us = dp_sip_oc_seq(b, vs, ve);
		}
		s = next;
	}
}

/* First Reason value: protocol token, then its cause parameter. */
static void
dp_sip_reason(const uint8_t *b, uint32_t s, uint32_t e, struct dp_sip_msg *m)
{
	uint32_t ps, pe, ns, ne, vs, ve, next;

	e = dp_sip_find_unquoted(b, s, e, ',');
	ps = s;
	pe = s = dp_sip_find_unquoted(b, s, e, ';');
	dp_sip_trim(b, &ps, &pe);
	if (dp_sip_ieq(b + ps, pe - ps, "SIP"))
		m->reason_proto = DP_REASON_SIP;
	else if (dp_sip_ieq(b + ps, pe - ps, "Q.850"))
		m->reason_proto = DP_REASON_Q850;
	else
		m->reason_proto = DP_REASON_OTHER;
	while (s < e) {
		s++;
		next = dp_sip_find_unquoted(b, s, e, ';');
		dp_sip_param(b, s, next, &ns, &ne, &vs, &ve);
		if (dp_sip_ieq(b + ns, ne - ns, "cause") && m->reason_cause < 0)
			m->reason_cause = dp_sip_int_span(b, vs, ve);
		s = next;
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
	m->cseq_method =
		(uint8_t)sg_method_from_token((const char *)b + ms, s - ms);
	return 0;
}

enum dp_sip_res
dp_sip_parse(const struct dp_sip_db *db, hs_scratch_t *scratch,
	     const uint8_t *buf, uint32_t len, struct dp_sip_msg *m)
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
	if (buf == NULL || len == 0)
		return DP_SIP_NO_START_LINE;

	memset(&st, 0, sizeof(st));
	rc = hs_scan(db->hs, (const char *)buf, len, 0, scratch,
		     dp_sip_on_match, &st);
	if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
		return DP_SIP_SCAN_ERROR;

	if (st.start_end == 0)
		return DP_SIP_NO_START_LINE;
	if (st.eoh == 0)
		return DP_SIP_TRUNCATED;
	if (st.start_id == DP_SIP_ID_STATUS) {
		m->status = (uint16_t)((buf[8] - '0') * 100 +
				       (buf[9] - '0') * 10 + (buf[10] - '0'));
	} else {
		m->is_request = 1;
		m->method = st.start_id;
	}
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

	total = (uint64_t)m->hdr_len +
		(uint64_t)(m->content_length > 0 ? m->content_length : 0);
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

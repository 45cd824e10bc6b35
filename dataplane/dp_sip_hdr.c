/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP header values, read the same way whichever engine found the
 * headers: Call-ID, CSeq, the top Via and its parameters (branch and the
 * RFC 7339 oc parameters), Retry-After, Reason and Content-Length, from
 * the spans in struct dp_sip_hdrs (dp_sip_finish). The line walk's spans
 * end at line feeds and get its faster readers for the trimming, CSeq
 * and the top Via; each gives the exact reader's result and hands it
 * anything unusual.
 *
 * Values are always bounded by the header section, which itself lies
 * inside `len`. Duplicate headers: the first Call-ID, CSeq, Via,
 * Retry-After, Reason and Content-Length win; later ones are ignored.
 */
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dp_sip.h"
#include "dp_sip_impl.h"

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
enum dp_sip_res
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

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Naive baseline classifier (see dp_naive.h). Written the way a first
 * attempt reads the Hyperscan manual: one pattern per field, value
 * included, unanchored, start of match wanted, the whole buffer scanned.
 * Each pattern with a repeat at its end reports a match at every byte the
 * repeat extends over, and each of those reports is a callback; that is
 * the cost this baseline exists to show.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dp_hsbuf.h"
#include "dp_naive.h"
#include "dp_sip.h"

enum dp_naive_id {
	DP_NAIVE_REQ,
	DP_NAIVE_STATUS,
	DP_NAIVE_CALL_ID,
	DP_NAIVE_CSEQ,
	DP_NAIVE_BRANCH,
	DP_NAIVE_RETRY_AFTER,
	DP_NAIVE_REASON,
	DP_NAIVE_CAUSE,
	DP_NAIVE_CONTENT_LENGTH,
	DP_NAIVE_OC,
	DP_NAIVE_OC_ALGO,
	DP_NAIVE_OC_VALIDITY,
	DP_NAIVE_OC_SEQ,
	DP_NAIVE_EOH,
	DP_NAIVE_COUNT
};

static const char *const dp_naive_patterns[DP_NAIVE_COUNT] = {
	[DP_NAIVE_REQ] = "(INVITE|ACK|BYE|CANCEL|REGISTER|OPTIONS|PRACK|SUBSCRIBE|NOTIFY|"
			 "PUBLISH|INFO|REFER|MESSAGE|UPDATE|[A-Z][A-Z0-9._!%*+`'~-]*) "
			 "[^ \\t\\r\\n]+ SIP/2\\.0\\r?\\n",
	[DP_NAIVE_STATUS] = "SIP/2\\.0 [1-6][0-9][0-9][ \\r\\n]",
	[DP_NAIVE_CALL_ID] = "\\n(Call-ID|i)[ \\t]*:[ \\t]*[^ \\t\\r\\n]+",
	[DP_NAIVE_CSEQ] = "\\nCSeq[ \\t]*:[ \\t]*[0-9]+[ \\t]+[A-Za-z]+",
	[DP_NAIVE_BRANCH] = ";[ \\t]*branch[ \\t]*=[ \\t]*[^; ,\\t\\r\\n]+",
	[DP_NAIVE_RETRY_AFTER] = "\\nRetry-After[ \\t]*:[ \\t]*[0-9]+",
	[DP_NAIVE_REASON] = "\\nReason[ \\t]*:[ \\t]*[A-Za-z0-9.]+",
	[DP_NAIVE_CAUSE] = ";[ \\t]*cause[ \\t]*=[ \\t]*[0-9]+",
	[DP_NAIVE_CONTENT_LENGTH] = "\\n(Content-Length|l)[ \\t]*:[ \\t]*[0-9]+",
	[DP_NAIVE_OC] = ";[ \\t]*oc[ \\t]*=[ \\t]*[0-9]+",
	[DP_NAIVE_OC_ALGO] = ";[ \\t]*oc-algo[ \\t]*=[ \\t]*\"?[A-Za-z]+",
	[DP_NAIVE_OC_VALIDITY] = ";[ \\t]*oc-validity[ \\t]*=[ \\t]*[0-9]+",
	[DP_NAIVE_OC_SEQ] = ";[ \\t]*oc-seq[ \\t]*=[ \\t]*[0-9]+(\\.[0-9]+)?",
	[DP_NAIVE_EOH] = "\\r?\\n\\r?\\n",
};

struct dp_naive {
	hs_database_t *hs;
};

/* Leftmost start, and the longest match from it. */
struct dp_naive_span {
	uint32_t from;
	uint32_t to;
	uint8_t set;
};

struct dp_naive_scan {
	struct dp_naive_span f[DP_NAIVE_COUNT];
	uint64_t matches;
};

struct dp_naive *
dp_naive_create(char *err, size_t errlen)
{
	unsigned int flags[DP_NAIVE_COUNT], ids[DP_NAIVE_COUNT], i;
	hs_compile_error_t *cerr = NULL;
	hs_platform_info_t plat;
	hs_database_t *hs = NULL;
	struct dp_naive *nv;

	for (i = 0; i < DP_NAIVE_COUNT; i++) {
		ids[i] = i;
		flags[i] = HS_FLAG_SOM_LEFTMOST;
		if (i != DP_NAIVE_REQ && i != DP_NAIVE_STATUS && i != DP_NAIVE_EOH)
			flags[i] |= HS_FLAG_CASELESS;
	}
	dp_sip_platform(&plat);
	if (hs_compile_multi(dp_naive_patterns, flags, ids, DP_NAIVE_COUNT, HS_MODE_BLOCK, &plat,
		    &hs, &cerr) != HS_SUCCESS) {
		snprintf(err, errlen, "naive: pattern %d: %s", cerr != NULL ? cerr->expression : -1,
			cerr != NULL ? cerr->message : "unknown error");
		hs_free_compile_error(cerr);
		return NULL;
	}
	nv = malloc(sizeof(*nv));
	if (nv == NULL) {
		snprintf(err, errlen, "naive: out of memory");
		hs_free_database(hs);
		return NULL;
	}
	nv->hs = hs;
	return nv;
}

void
dp_naive_free(struct dp_naive *nv)
{
	if (nv == NULL)
		return;
	hs_free_database(nv->hs);
	free(nv);
}

int
dp_naive_scratch_alloc(const struct dp_naive *nv, hs_scratch_t **scratch)
{
	return hs_alloc_scratch(nv->hs, scratch) == HS_SUCCESS ? 0 : -1;
}

static int
dp_naive_on_match(unsigned int id, unsigned long long from, unsigned long long to,
	unsigned int flags, void *ctx)
{
	struct dp_naive_scan *st = ctx;
	struct dp_naive_span *s = &st->f[id];

	(void)flags;
	st->matches++;
	if (!s->set) {
		s->set = 1;
		s->from = (uint32_t)from;
		s->to = (uint32_t)to;
	} else if (s->from == from && to > s->to) {
		s->to = (uint32_t)to;
	}
	return 0;
}

/* Span of field id inside the header section, value after the `sep`. */
static int
dp_naive_value(const struct dp_naive_scan *st, const uint8_t *b, unsigned int id, uint8_t sep,
	uint32_t eoh, uint32_t *vs, uint32_t *ve)
{
	const struct dp_naive_span *s = &st->f[id];
	uint32_t p;

	if (!s->set || s->from >= eoh)
		return -1;
	for (p = s->from; p < s->to && b[p] != sep; p++)
		;
	for (p++; p < s->to && (b[p] == ' ' || b[p] == '\t' || b[p] == '"'); p++)
		;
	*vs = p;
	*ve = s->to;
	return p < s->to ? 0 : -1;
}

static int32_t
dp_naive_int(const uint8_t *b, uint32_t s, uint32_t e)
{
	uint64_t v = 0;

	for (; s < e && b[s] >= '0' && b[s] <= '9'; s++)
		if (v <= INT32_MAX)
			v = v * 10 + (uint64_t)(b[s] - '0');
	return v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

enum dp_sip_res
dp_naive_parse(const struct dp_naive *nv, hs_scratch_t *scratch, const uint8_t *buf, uint32_t len,
	struct dp_sip_msg *m, uint64_t *matches)
{
	struct dp_naive_scan st;
	const char *scan;
	uint32_t eoh, s, e, p;
	uint64_t total;

	memset(m, 0, sizeof(*m));
	m->retry_after = -1;
	m->reason_cause = -1;
	m->oc = -1;
	m->oc_validity = -1;
	m->content_length = -1;
	memset(&st, 0, sizeof(st));
	scan = dp_hsbuf_safe(buf, len);
	if (scan == NULL ||
		hs_scan(nv->hs, scan, len, 0, scratch, dp_naive_on_match, &st) != HS_SUCCESS)
		return DP_SIP_SCAN_ERROR;
	*matches += st.matches;
	if (st.f[DP_NAIVE_STATUS].set && st.f[DP_NAIVE_STATUS].from == 0) {
		m->status =
			(uint16_t)((buf[8] - '0') * 100 + (buf[9] - '0') * 10 + (buf[10] - '0'));
	} else if (st.f[DP_NAIVE_REQ].set && st.f[DP_NAIVE_REQ].from == 0) {
		for (p = 0; buf[p] != ' '; p++)
			;
		m->is_request = 1;
		m->method = (uint8_t)sg_method_from_token((const char *)buf, p);
	} else {
		return DP_SIP_NO_START_LINE;
	}
	if (!st.f[DP_NAIVE_EOH].set)
		return DP_SIP_TRUNCATED;
	eoh = st.f[DP_NAIVE_EOH].to;
	m->hdr_len = eoh;
	if (dp_naive_value(&st, buf, DP_NAIVE_CALL_ID, ':', eoh, &s, &e) != 0)
		return DP_SIP_BAD_CALL_ID;
	m->call_id.p = (const char *)buf + s;
	m->call_id.len = e - s;
	if (dp_naive_value(&st, buf, DP_NAIVE_CSEQ, ':', eoh, &s, &e) != 0)
		return DP_SIP_BAD_CSEQ;
	m->cseq = (uint32_t)dp_naive_int(buf, s, e);
	while (s < e && buf[s] >= '0' && buf[s] <= '9')
		s++;
	while (s < e && (buf[s] == ' ' || buf[s] == '\t'))
		s++;
	m->cseq_method = (uint8_t)sg_method_from_token((const char *)buf + s, e - s);
	if (dp_naive_value(&st, buf, DP_NAIVE_BRANCH, '=', eoh, &s, &e) == 0) {
		m->branch.p = (const char *)buf + s;
		m->branch.len = e - s;
	}
	if (dp_naive_value(&st, buf, DP_NAIVE_RETRY_AFTER, ':', eoh, &s, &e) == 0)
		m->retry_after = dp_naive_int(buf, s, e);
	if (dp_naive_value(&st, buf, DP_NAIVE_REASON, ':', eoh, &s, &e) == 0) {
		if (e - s == 3 && strncasecmp((const char *)buf + s, "sip", 3) == 0)
			m->reason_proto = DP_REASON_SIP;
		else if (e - s == 5 && strncasecmp((const char *)buf + s, "q.850", 5) == 0)
			m->reason_proto = DP_REASON_Q850;
		else
			m->reason_proto = DP_REASON_OTHER;
		if (dp_naive_value(&st, buf, DP_NAIVE_CAUSE, '=', eoh, &s, &e) == 0)
			m->reason_cause = dp_naive_int(buf, s, e);
	}
	if (dp_naive_value(&st, buf, DP_NAIVE_OC, '=', eoh, &s, &e) == 0)
		m->oc = dp_naive_int(buf, s, e);
	if (dp_naive_value(&st, buf, DP_NAIVE_OC_ALGO, '=', eoh, &s, &e) == 0) {
		if (e - s == 4 && strncasecmp((const char *)buf + s, "loss", 4) == 0)
			m->oc_algo = DP_OC_ALGO_LOSS;
		else if (e - s == 4 && strncasecmp((const char *)buf + s, "rate", 4) == 0)
			m->oc_algo = DP_OC_ALGO_RATE;
		else
			m->oc_algo = DP_OC_ALGO_OTHER;
	}
	if (dp_naive_value(&st, buf, DP_NAIVE_OC_VALIDITY, '=', eoh, &s, &e) == 0)
		m->oc_validity = dp_naive_int(buf, s, e);
	if (dp_naive_value(&st, buf, DP_NAIVE_OC_SEQ, '=', eoh, &s, &e) == 0)
		m->oc_seq_us = (uint64_t)dp_naive_int(buf, s, e) * 1000000;
	if (dp_naive_value(&st, buf, DP_NAIVE_CONTENT_LENGTH, ':', eoh, &s, &e) == 0)
		m->content_length = dp_naive_int(buf, s, e);
	total = (uint64_t)eoh + (uint64_t)(m->content_length > 0 ? m->content_length : 0);
	m->msg_len = total > len ? len : (uint32_t)total;
	return DP_SIP_OK;
}

/* The worker's accounting of one message, on the naive parse. */
static void
dp_naive_count(struct dp_worker *w, uint32_t trunk, enum dp_dir dir, const struct dp_sip_msg *m,
	uint64_t now_ms)
{
	struct sg_trunk_counters *tc = &w->trunk[trunk];
	struct dp_retrans_key key;
	int retrans;

	w->src.sip_messages++;
	dp_retrans_key(m, dir, trunk, &key);
	retrans = dp_retrans_check(w->rt, &key, now_ms);
	tc->retransmissions += (uint64_t)retrans;
	if (!retrans)
		dp_dialogs_message(w->dlg, m, trunk, now_ms, w->trunk);
	if (m->is_request) {
		tc->requests[m->method]++;
		if (!retrans && m->method == SG_M_INVITE)
			tc->invite_attempts++;
	} else {
		tc->responses[m->status - SG_STATUS_MIN]++;
		if (!retrans && m->status >= 200 && m->cseq_method == SG_M_INVITE)
			tc->invite_final[m->status - SG_STATUS_MIN]++;
	}
}

void
dp_naive_burst(struct dp_worker *w, const struct dp_naive *nv, hs_scratch_t *scratch,
	struct rte_mbuf **pkts, uint16_t n, uint64_t *matches)
{
	uint64_t now_ms = w->wall_base_ms + (rte_rdtsc() - w->tsc_base) * 1000 / w->tsc_hz;
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *mb = pkts[i];
		const uint8_t *data;
		struct dp_pkt pkt;
		enum dp_dir dir;
		uint32_t trunk, off = 0;

		w->src.packets++;
		w->src.bytes += mb->pkt_len;
		if (mb->pkt_len > DP_WORKER_BOUNCE) {
			w->src.drops[SG_DROP_MULTISEG]++;
			continue;
		}
		data = rte_pktmbuf_read(mb, 0, mb->pkt_len, w->bounce);
		if (dp_decode(data, mb->pkt_len, w->sh->link, &pkt) != DP_DEC_OK) {
			w->src.drops[SG_DROP_BAD_HEADER]++;
			continue;
		}
		trunk = dp_trunks_lookup(w->trunks, &pkt, &dir);
		while (off < pkt.payload_len) {
			struct dp_sip_msg m;

			if (dp_naive_parse(nv, scratch, pkt.payload + off, pkt.payload_len - off,
				    &m, matches) != DP_SIP_OK) {
				w->src.sip_malformed++;
				break;
			}
			dp_naive_count(w, trunk, dir, &m, now_ms);
			if (pkt.proto == IPPROTO_UDP)
				break;
			off += m.msg_len;
			while (off < pkt.payload_len &&
				(pkt.payload[off] == '\r' || pkt.payload[off] == '\n'))
				off++;
		}
	}
	rte_pktmbuf_free_bulk(pkts, n);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Invariants of dp_sip_parse, shared by the SIP and pipeline harnesses.
 * On DP_SIP_OK: every pointer and length lies inside the header section,
 * which lies inside the buffer; msg_len is at least the header section
 * and at most the buffer; a status is 100..699 and enums are in range;
 * the same buffer parses the same way twice; and the header section
 * alone parses to the same message, because on TCP the bytes after a
 * message must not change the message before them. And the two engines
 * agree: the Hyperscan engine gives the same result and the same message
 * on every input, so the line walk is checked against an independent
 * reading at every step of the fuzzer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_sip_check.h"

static int
fuzz_str_ok(const uint8_t *buf, uint32_t hdr_len, const struct dp_sip_str *s)
{
	if (s->len == 0)
		return 1;
	return fuzz_inside(buf, hdr_len, s->p, s->len);
}

static int
fuzz_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Everything but msg_len, which depends on how much follows. */
static void
fuzz_same_msg(const struct dp_sip_msg *a, const struct dp_sip_msg *b)
{
	FUZZ_CHECK(a->is_request == b->is_request && a->method == b->method);
	FUZZ_CHECK(a->status == b->status && a->cseq == b->cseq);
	FUZZ_CHECK(a->cseq_method == b->cseq_method);
	FUZZ_CHECK(a->call_id.p == b->call_id.p && a->call_id.len == b->call_id.len);
	FUZZ_CHECK(a->branch.len == b->branch.len);
	FUZZ_CHECK(a->branch.len == 0 || a->branch.p == b->branch.p);
	FUZZ_CHECK(a->retry_after == b->retry_after);
	FUZZ_CHECK(a->reason_proto == b->reason_proto && a->reason_cause == b->reason_cause);
	FUZZ_CHECK(a->oc == b->oc && a->oc_algo == b->oc_algo);
	FUZZ_CHECK(a->oc_validity == b->oc_validity && a->oc_seq_us == b->oc_seq_us);
	FUZZ_CHECK(a->content_length == b->content_length && a->hdr_len == b->hdr_len);
}

void
fuzz_sip_check(const struct dp_sip_db *db, hs_scratch_t *scratch, const uint8_t *buf, uint32_t len,
	enum dp_sip_res res, const struct dp_sip_msg *m)
{
	struct dp_sip_msg m2;
	enum dp_sip_res res2;
	uint8_t *copy;
	uint64_t total;

	FUZZ_CHECK(res >= DP_SIP_OK && res < DP_SIP_RES_COUNT);
	FUZZ_CHECK(res != DP_SIP_SCAN_ERROR);
	res2 = dp_sip_parse_hs(db, scratch, buf, len, &m2);
	if (res2 != res) {
		fprintf(stderr, "fuzz: line walk says %s, Hyperscan engine %s\n",
			dp_sip_res_name(res), dp_sip_res_name(res2));
		abort();
	}
	if (res != DP_SIP_OK)
		return;
	fuzz_same_msg(m, &m2);
	FUZZ_CHECK(m2.msg_len == m->msg_len);
	FUZZ_CHECK(m->hdr_len >= 2 && m->hdr_len <= len);
	FUZZ_CHECK(buf[m->hdr_len - 1] == '\n');
	FUZZ_CHECK(m->msg_len >= m->hdr_len && m->msg_len <= len);
	total = (uint64_t)m->hdr_len + (m->content_length > 0 ? (uint64_t)m->content_length : 0);
	FUZZ_CHECK(m->msg_len == (total < len ? total : len));
	if (m->is_request) {
		FUZZ_CHECK(m->method < SG_M_COUNT);
		FUZZ_CHECK(m->status == 0);
		if (m->method != SG_M_OTHER) {
			size_t n = strlen(sg_method_names[m->method]);

			FUZZ_CHECK(n < len && memcmp(buf, sg_method_names[m->method], n) == 0);
		}
	} else {
		FUZZ_CHECK(m->is_request == 0);
		FUZZ_CHECK(m->status >= SG_STATUS_MIN && m->status <= SG_STATUS_MAX);
	}
	FUZZ_CHECK(m->call_id.len > 0 && fuzz_str_ok(buf, m->hdr_len, &m->call_id));
	FUZZ_CHECK(!fuzz_is_blank(m->call_id.p[0]));
	FUZZ_CHECK(!fuzz_is_blank(m->call_id.p[m->call_id.len - 1]));
	FUZZ_CHECK(fuzz_str_ok(buf, m->hdr_len, &m->branch));
	FUZZ_CHECK(m->cseq <= INT32_MAX && m->cseq_method < SG_M_COUNT);
	FUZZ_CHECK(m->retry_after >= -1);
	FUZZ_CHECK(m->reason_proto <= DP_REASON_OTHER && m->reason_cause >= -1);
	FUZZ_CHECK(m->oc >= -1 && m->oc_algo <= DP_OC_ALGO_OTHER && m->oc_validity >= -1);
	FUZZ_CHECK(m->content_length >= -1);

	res2 = dp_sip_parse(buf, len, &m2);
	FUZZ_CHECK(res2 == DP_SIP_OK);
	fuzz_same_msg(m, &m2);
	FUZZ_CHECK(m2.msg_len == m->msg_len);

	/*
	 * The header section on its own, copied to a buffer of its exact
	 * size so a read past it is caught.
	 */
	copy = malloc(m->hdr_len);
	if (copy == NULL)
		return;
	memcpy(copy, buf, m->hdr_len);
	res2 = dp_sip_parse(copy, m->hdr_len, &m2);
	FUZZ_CHECK(res2 == DP_SIP_OK);
	FUZZ_CHECK(m2.call_id.p - (const char *)copy == m->call_id.p - (const char *)buf);
	m2.call_id.p = m->call_id.p;
	if (m2.branch.len > 0)
		m2.branch.p = (const char *)buf + (m2.branch.p - (const char *)copy);
	fuzz_same_msg(m, &m2);
	FUZZ_CHECK(m2.msg_len == m->hdr_len);
	free(copy);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the SIP message extractor: start lines, the header
 * values it pulls out, framing, and bad or cut-short input. Every message
 * is copied into an exactly-sized heap buffer so a sanitizer build catches
 * any read past `len`, and parsed by both engines: every assertion on the
 * line walk's result holds for the Hyperscan engine's, which must be the
 * same result and the same message field by field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dp_hsbuf.h"
#include "dp_sip.h"

static struct dp_sip_db *test_db;
static hs_scratch_t *test_scratch;
static uint8_t *test_buf; /* copy of the message under test */

static int
test_setup(void **state)
{
	char err[256] = "";

	(void)state;
	test_db = dp_sip_db_create(err, sizeof(err));
	if (test_db == NULL) {
		print_error("dp_sip_db_create: %s\n", err);
		return -1;
	}
	if (dp_sip_scratch_alloc(test_db, &test_scratch) != 0)
		return -1;
	return 0;
}

static int
test_teardown(void **state)
{
	(void)state;
	free(test_buf);
	test_buf = NULL;
	hs_free_scratch(test_scratch);
	dp_sip_db_free(test_db);
	return 0;
}

/* Both engines over buf: the same result, the same message. */
static enum dp_sip_res
test_parse_both(const uint8_t *buf, uint32_t len, struct dp_sip_msg *m)
{
	struct dp_sip_msg h;
	enum dp_sip_res res, res_hs;

	res = dp_sip_parse(buf, len, m);
	res_hs = dp_sip_parse_hs(test_db, test_scratch, buf, len, &h);
	assert_string_equal(dp_sip_res_name(res), dp_sip_res_name(res_hs));
	if (res != DP_SIP_OK)
		return res;
	assert_int_equal(m->is_request, h.is_request);
	assert_int_equal(m->method, h.method);
	assert_int_equal(m->status, h.status);
	assert_ptr_equal(m->call_id.p, h.call_id.p);
	assert_int_equal(m->call_id.len, h.call_id.len);
	assert_int_equal(m->cseq, h.cseq);
	assert_int_equal(m->cseq_method, h.cseq_method);
	assert_int_equal(m->branch.len, h.branch.len);
	if (m->branch.len > 0)
		assert_ptr_equal(m->branch.p, h.branch.p);
	assert_int_equal(m->retry_after, h.retry_after);
	assert_int_equal(m->reason_proto, h.reason_proto);
	assert_int_equal(m->reason_cause, h.reason_cause);
	assert_int_equal(m->oc, h.oc);
	assert_int_equal(m->oc_algo, h.oc_algo);
	assert_int_equal(m->oc_validity, h.oc_validity);
	assert_int_equal(m->oc_seq_us, h.oc_seq_us);
	assert_int_equal(m->content_length, h.content_length);
	assert_int_equal(m->hdr_len, h.hdr_len);
	assert_int_equal(m->msg_len, h.msg_len);
	return res;
}

/* Parse `len` bytes of `s` from an exactly-sized copy kept until next call. */
static enum dp_sip_res
test_parse_n(const char *s, uint32_t len, struct dp_sip_msg *m)
{
	free(test_buf);
	test_buf = malloc(len > 0 ? len : 1);
	assert_non_null(test_buf);
	memcpy(test_buf, s, len);
	return test_parse_both(test_buf, len, m);
}

static enum dp_sip_res
test_parse(const char *s, struct dp_sip_msg *m)
{
	return test_parse_n(s, (uint32_t)strlen(s), m);
}

static void
assert_str(struct dp_sip_str got, const char *want)
{
	assert_non_null(got.p);
	assert_int_equal(got.len, strlen(want));
	assert_memory_equal(got.p, want, got.len);
}

#define INVITE_SDP_BODY                                   \
	"v=0\r\n"                                         \
	"o=- 3724394400 3724394400 IN IP4 192.0.2.10\r\n" \
	"s=-\r\n"                                         \
	"Call-ID: fake-from-body@example.com\r\n"         \
	"c=IN IP4 192.0.2.10\r\n"                         \
	"t=0 0\r\n"                                       \
	"m=audio 49170 RTP/AVP 0 8\r\n"                   \
	"a=rtpmap:0 PCMU/8000\r\n"

static const char invite_hdrs[] =
	"INVITE sip:+4930123456@carrier.example.net;user=phone SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:+4930123456@carrier.example.net;user=phone>\r\n"
	"From: \"Alice\" <sip:+4940111@pbx.example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pbx.example.com\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@192.0.2.10:5060>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: %u\r\n"
	"\r\n";

/* Builds the INVITE with its SDP body; returns a heap string. */
static char *
test_invite(uint32_t *hdr_len)
{
	const char *body = INVITE_SDP_BODY;
	char *msg;
	int n;

	n = asprintf(&msg, invite_hdrs, (unsigned int)strlen(body));
	assert_true(n > 0);
	*hdr_len = (uint32_t)n;
	msg = realloc(msg, (size_t)n + strlen(body) + 1);
	assert_non_null(msg);
	strcat(msg, body);
	return msg;
}

static void
test_invite_with_sdp(void **state)
{
	struct dp_sip_msg m;
	uint32_t hdr_len;
	char *msg = test_invite(&hdr_len);

	(void)state;
	assert_int_equal(test_parse(msg, &m), DP_SIP_OK);
	assert_int_equal(m.is_request, 1);
	assert_int_equal(m.method, SG_M_INVITE);
	assert_str(m.call_id, "a84b4c76e66710@pbx.example.com");
	assert_int_equal(m.cseq, 314159);
	assert_int_equal(m.cseq_method, SG_M_INVITE);
	assert_str(m.branch, "z9hG4bK776asdhds");
	assert_int_equal(m.retry_after, -1);
	assert_int_equal(m.reason_proto, DP_REASON_NONE);
	assert_int_equal(m.reason_cause, -1);
	assert_int_equal(m.oc, -1);
	assert_int_equal(m.oc_algo, DP_OC_ALGO_NONE);
	assert_int_equal(m.oc_validity, -1);
	assert_int_equal(m.oc_seq_us, 0);
	assert_int_equal(m.content_length, strlen(INVITE_SDP_BODY));
	assert_int_equal(m.hdr_len, hdr_len);
	assert_int_equal(m.msg_len, strlen(msg));
	free(msg);
}

/* A Call-ID line in the body must not stand in for a missing header. */
static void
test_body_not_scanned(void **state)
{
	struct dp_sip_msg m;

	(void)state;
	assert_int_equal(test_parse("INVITE sip:b@example.com SIP/2.0\r\n"
				    "CSeq: 1 INVITE\r\n"
				    "Content-Length: 170\r\n"
				    "\r\n" INVITE_SDP_BODY,
				 &m),
		DP_SIP_BAD_CALL_ID);
	/* Nor a CSeq, nor a Via, Retry-After or Reason. */
	assert_int_equal(test_parse("SIP/2.0 503 Service Unavailable\r\n"
				    "Call-ID: x@y\r\n"
				    "\r\n"
				    "CSeq: 9 INVITE\r\n",
				 &m),
		DP_SIP_BAD_CSEQ);
	assert_int_equal(test_parse("SIP/2.0 503 Service Unavailable\r\n"
				    "Call-ID: x@y\r\n"
				    "CSeq: 9 INVITE\r\n"
				    "\r\n"
				    "Via: SIP/2.0/UDP h;branch=z9hG4bK-body\r\n"
				    "Retry-After: 5\r\n"
				    "Reason: SIP;cause=500\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.branch.len, 0);
	assert_int_equal(m.retry_after, -1);
	assert_int_equal(m.reason_proto, DP_REASON_NONE);
}

static void
test_responses(void **state)
{
	static const struct {
		const char *line;
		uint16_t status;
	} cases[] = {
		{ "SIP/2.0 100 Trying\r\n", 100 }, { "SIP/2.0 180 Ringing\r\n", 180 },
		{ "SIP/2.0 200 OK\r\n", 200 }, { "SIP/2.0 503 Service Unavailable\r\n", 503 },
		{ "SIP/2.0 503 Limiting\r\n", 503 }, { "SIP/2.0 503 CPS Limit reached\r\n", 503 },
		{ "SIP/2.0 503 \r\n", 503 }, /* empty reason phrase */
		{ "SIP/2.0 503\r\n", 503 },  /* and no SP before it */
		{ "SIP/2.0 699 x\r\n", 699 }, { "SIP/2.0 486 Busy Here\n", 486 }, /* bare LF */
	};
	const char *rest = "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKr\r\n"
			   "Call-ID: resp-1@example.com\r\n"
			   "CSeq: 2 INVITE\r\n"
			   "Content-Length: 0\r\n"
			   "\r\n";
	struct dp_sip_msg m;
	char msg[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(msg, sizeof(msg), "%s%s", cases[i].line, rest);
		assert_int_equal(test_parse(msg, &m), DP_SIP_OK);
		assert_int_equal(m.is_request, 0);
		assert_int_equal(m.status, cases[i].status);
		assert_str(m.call_id, "resp-1@example.com");
		assert_int_equal(m.cseq, 2);
		assert_int_equal(m.cseq_method, SG_M_INVITE);
		assert_str(m.branch, "z9hG4bKr");
		assert_int_equal(m.content_length, 0);
		assert_int_equal(m.hdr_len, strlen(msg));
		assert_int_equal(m.msg_len, strlen(msg));
	}
}

static void
test_bad_status_lines(void **state)
{
	static const char *const lines[] = {
		"SIP/2.0 099 Low\r\n",
		"SIP/2.0 700 High\r\n",
		"SIP/2.0 20 Short\r\n",
		"SIP/2.0 2000 Long\r\n",
		"SIP/2.0 200OK\r\n",
		"SIP/1.0 200 OK\r\n",
		"HTTP/1.1 200 OK\r\n",
		" SIP/2.0 200 OK\r\n",
	};
	struct dp_sip_msg m;
	char msg[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(msg, sizeof(msg), "%sCall-ID: a\r\nCSeq: 1 BYE\r\n\r\n", lines[i]);
		assert_int_equal(test_parse(msg, &m), DP_SIP_NO_START_LINE);
	}
}

static void
test_overload_503(void **state)
{
	struct dp_sip_msg m;

	(void)state;
	assert_int_equal(test_parse("SIP/2.0 503 Service Unavailable\r\n"
				    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n"
				    "Call-ID: ov@example.com\r\n"
				    "CSeq: 10 INVITE\r\n"
				    "Retry-After: 10 (overload);duration=3600\r\n"
				    "Reason: Q.850;cause=34;text=\"No circuit\"\r\n"
				    "Content-Length: 0\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.status, 503);
	assert_int_equal(m.retry_after, 10);
	assert_int_equal(m.reason_proto, DP_REASON_Q850);
	assert_int_equal(m.reason_cause, 34);

	/* SIP reason; only the first Reason header counts. */
	assert_int_equal(test_parse("SIP/2.0 480 Temporarily Unavailable\r\n"
				    "Call-ID: ov2@example.com\r\n"
				    "CSeq: 11 INVITE\r\n"
				    "Reason: SIP ;cause=503 ;text=Overloaded\r\n"
				    "Reason: Q.850;cause=41\r\n"
				    "Retry-After: 99999999999\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.reason_proto, DP_REASON_SIP);
	assert_int_equal(m.reason_cause, 503);
	assert_int_equal(m.retry_after, INT32_MAX);
	assert_int_equal(m.content_length, -1);

	/* First Reason value only; a quoted comma does not split it. */
	assert_int_equal(test_parse("SIP/2.0 500 Error\r\n"
				    "Call-ID: ov3@example.com\r\n"
				    "CSeq: 12 BYE\r\n"
				    "Reason: X.99;text=\"a,b\";cause=7, Q.850;cause=16\r\n"
				    "Retry-After: soon\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.reason_proto, DP_REASON_OTHER);
	assert_int_equal(m.reason_cause, 7);
	assert_int_equal(m.retry_after, -1);
	assert_int_equal(m.cseq_method, SG_M_BYE);
}

static void
test_via_oc(void **state)
{
	struct dp_sip_msg m;

	(void)state;
	assert_int_equal(test_parse("SIP/2.0 200 OK\r\n"
				    "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-1;oc=50;"
				    "oc-algo=\"loss\";oc-validity=5000;oc-seq=1282321615.782, "
				    "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK-2;oc=20\r\n"
				    "Via: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK-3\r\n"
				    "Call-ID: oc@example.com\r\n"
				    "CSeq: 1 OPTIONS\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_str(m.branch, "z9hG4bK-1");
	assert_int_equal(m.oc, 50);
	assert_int_equal(m.oc_algo, DP_OC_ALGO_LOSS);
	assert_int_equal(m.oc_validity, 5000);
	assert_int_equal(m.oc_seq_us, 1282321615782000ULL);
	assert_int_equal(m.cseq_method, SG_M_OPTIONS);

	/* Caseless names, unquoted rate, spaces around '=' and ';'. */
	assert_int_equal(test_parse("SIP/2.0 200 OK\r\n"
				    "Via: SIP/2.0/TCP h.example.com ; BRANCH = z9hG4bK-u ;"
				    "OC=7; Oc-Algo=rate ;OC-VALIDITY=0;oc-seq=12\r\n"
				    "Call-ID: oc2@example.com\r\n"
				    "CSeq: 2 OPTIONS\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_str(m.branch, "z9hG4bK-u");
	assert_int_equal(m.oc, 7);
	assert_int_equal(m.oc_algo, DP_OC_ALGO_RATE);
	assert_int_equal(m.oc_validity, 0);
	assert_int_equal(m.oc_seq_us, 12000000ULL);

	/* A bare `oc` (client support) carries no value; lists are OTHER. */
	assert_int_equal(test_parse("INVITE sip:x@example.com SIP/2.0\r\n"
				    "Via: SIP/2.0/UDP h;branch=z9hG4bK-c;oc;branch=z9hG4bK-d;"
				    "oc-algo=\"loss,A\";oc-seq=1.1234567\r\n"
				    "Call-ID: oc3@example.com\r\n"
				    "CSeq: 3 INVITE\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_str(m.branch, "z9hG4bK-c");
	assert_int_equal(m.oc, -1);
	assert_int_equal(m.oc_algo, DP_OC_ALGO_OTHER);
	assert_int_equal(m.oc_seq_us, 1123456ULL);

	/* No Via at all is fine. */
	assert_int_equal(test_parse("SIP/2.0 200 OK\r\n"
				    "Call-ID: novia@example.com\r\n"
				    "CSeq: 3 INVITE\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.branch.len, 0);
	assert_int_equal(m.oc, -1);
}

static void
test_compact_and_case(void **state)
{
	struct dp_sip_msg m;

	(void)state;
	assert_int_equal(test_parse("BYE sip:b@example.com SIP/2.0\r\n"
				    "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc\r\n"
				    "i: compact@example.com\r\n"
				    "CSeq: 5 BYE\r\n"
				    "l: 4\r\n"
				    "\r\n"
				    "abcd",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.method, SG_M_BYE);
	assert_str(m.call_id, "compact@example.com");
	assert_str(m.branch, "z9hG4bKc");
	assert_int_equal(m.content_length, 4);
	assert_int_equal(m.msg_len, m.hdr_len + 4);

	assert_int_equal(test_parse("CANCEL sip:b@example.com SIP/2.0\r\n"
				    "VIA: SIP/2.0/UDP 192.0.2.1;Branch=z9hG4bKm\r\n"
				    "CALL-ID: upper@example.com\r\n"
				    "cSeQ: 6 CANCEL\r\n"
				    "content-LENGTH: 0\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.method, SG_M_CANCEL);
	assert_str(m.call_id, "upper@example.com");
	assert_int_equal(m.cseq, 6);
	assert_int_equal(m.cseq_method, SG_M_CANCEL);
	assert_str(m.branch, "z9hG4bKm");
	assert_int_equal(m.content_length, 0);

	/* Header names that merely start like ours are not ours. */
	assert_int_equal(test_parse("BYE sip:b@example.com SIP/2.0\r\n"
				    "Call-Info: <http://x>\r\n"
				    "In-Reply-To: 1@x\r\n"
				    "CSeq: 5 BYE\r\n"
				    "\r\n",
				 &m),
		DP_SIP_BAD_CALL_ID);
	/* ... and do not hide the real ones that follow. */
	assert_int_equal(test_parse("BYE sip:b@example.com SIP/2.0\r\n"
				    "In-Reply-To: 1@x\r\n"
				    "Vian: SIP/2.0/UDP h;branch=z9hG4bK-no\r\n"
				    "Via-X: SIP/2.0/UDP h;branch=z9hG4bK-no\r\n"
				    "Via: SIP/2.0/UDP h;branch=z9hG4bK-yes\r\n"
				    "Identity: abc\r\n"
				    "i : real@example.com\r\n"
				    "Lines: 7\r\n"
				    "CSeq: 5 BYE\r\n"
				    "L: 0\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_str(m.call_id, "real@example.com");
	assert_str(m.branch, "z9hG4bK-yes");
	assert_int_equal(m.content_length, 0);
}

static void
test_whitespace_and_folding(void **state)
{
	struct dp_sip_msg m;

	(void)state;
	assert_int_equal(test_parse("ACK sip:b@example.com SIP/2.0\r\n"
				    "Call-ID   :  x  \t\r\n"
				    "CSeq\t:\t 5  \t ACK \r\n"
				    "Content-Length :\t12 \r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.method, SG_M_ACK);
	assert_str(m.call_id, "x");
	assert_int_equal(m.cseq, 5);
	assert_int_equal(m.cseq_method, SG_M_ACK);
	assert_int_equal(m.content_length, 12);

	assert_int_equal(test_parse("SIP/2.0 503 Service Unavailable\r\n"
				    "Call-ID:\r\n  abc@host\r\n"
				    "CSeq: 7\r\n INVITE\r\n"
				    "Via: SIP/2.0/UDP h\r\n\t;branch=z9hG4bK-f\r\n"
				    " ;oc=30\r\n"
				    "Retry-After:\r\n\t20\r\n"
				    "Reason:\r\n Q.850\r\n ;cause=\r\n 17\r\n"
				    "Content-Length:\r\n 0\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_str(m.call_id, "abc@host");
	assert_int_equal(m.cseq, 7);
	assert_int_equal(m.cseq_method, SG_M_INVITE);
	assert_str(m.branch, "z9hG4bK-f");
	assert_int_equal(m.oc, 30);
	assert_int_equal(m.retry_after, 20);
	assert_int_equal(m.reason_proto, DP_REASON_Q850);
	assert_int_equal(m.reason_cause, 17);
	assert_int_equal(m.content_length, 0);

	/* Bare LF line endings throughout. */
	assert_int_equal(test_parse("OPTIONS sip:b@example.com SIP/2.0\n"
				    "Call-ID: lf@example.com\n"
				    "CSeq: 8 OPTIONS\n"
				    "l: 2\n"
				    "\n"
				    "xy",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.method, SG_M_OPTIONS);
	assert_str(m.call_id, "lf@example.com");
	assert_int_equal(m.hdr_len,
		strlen("OPTIONS sip:b@example.com SIP/2.0\n"
		       "Call-ID: lf@example.com\n"
		       "CSeq: 8 OPTIONS\n"
		       "l: 2\n"
		       "\n"));
	assert_int_equal(m.msg_len, m.hdr_len + 2);
}

static void
test_missing_and_duplicate(void **state)
{
	static const char *const bad_cseq[] = {
		"CSeq: INVITE\r\n",
		"CSeq: 1\r\n",
		"CSeq: 1INVITE\r\n",
		"CSeq: -1 INVITE\r\n",
		"CSeq: 2147483648 INVITE\r\n",
		"CSeq: 99999999999999999999999 INVITE\r\n",
		"CSeq: 1 INVITE extra\r\n",
		"CSeq:\r\n",
	};
	struct dp_sip_msg m;
	char msg[256];
	size_t i;

	(void)state;
	assert_int_equal(test_parse("SIP/2.0 200 OK\r\n"
				    "CSeq: 1 INVITE\r\n"
				    "\r\n",
				 &m),
		DP_SIP_BAD_CALL_ID);
	assert_int_equal(test_parse("SIP/2.0 200 OK\r\n"
				    "Call-ID: \t \r\n"
				    "CSeq: 1 INVITE\r\n"
				    "\r\n",
				 &m),
		DP_SIP_BAD_CALL_ID);
	assert_int_equal(test_parse("SIP/2.0 200 OK\r\n"
				    "Call-ID: c@example.com\r\n"
				    "\r\n",
				 &m),
		DP_SIP_BAD_CSEQ);
	for (i = 0; i < sizeof(bad_cseq) / sizeof(bad_cseq[0]); i++) {
		snprintf(msg, sizeof(msg), "SIP/2.0 200 OK\r\nCall-ID: c@example.com\r\n%s\r\n",
			bad_cseq[i]);
		assert_int_equal(test_parse(msg, &m), DP_SIP_BAD_CSEQ);
	}
	assert_int_equal(test_parse("SIP/2.0 200 OK\r\n"
				    "Call-ID: c@example.com\r\n"
				    "CSeq: 2147483647 NEWMETHOD\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.cseq, 2147483647U);
	assert_int_equal(m.cseq_method, SG_M_OTHER);

	/* The first Call-ID and the first CSeq win. */
	assert_int_equal(test_parse("SIP/2.0 200 OK\r\n"
				    "Call-ID: first@example.com\r\n"
				    "CSeq: 3 PRACK\r\n"
				    "i: second@example.com\r\n"
				    "CSeq: 4 UPDATE\r\n"
				    "Call-ID: third@example.com\r\n"
				    "\r\n",
				 &m),
		DP_SIP_OK);
	assert_str(m.call_id, "first@example.com");
	assert_int_equal(m.cseq, 3);
	assert_int_equal(m.cseq_method, SG_M_PRACK);
}

static void
test_garbage(void **state)
{
	static const char with_nul[] = "SIP/2.0 200 OK\r\nCall-ID: a\0b\r\n"
				       "CSeq: 1 BYE\r\n\r\n";
	struct dp_sip_msg m;
	uint8_t one = 'x';

	(void)state;
	assert_int_equal(test_parse("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", &m),
		DP_SIP_NO_START_LINE);
	assert_int_equal(test_parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &m), DP_SIP_NO_START_LINE);
	assert_int_equal(test_parse_n("", 0, &m), DP_SIP_NO_START_LINE);
	assert_int_equal(test_parse_both(&one, 0, &m), DP_SIP_NO_START_LINE);
	assert_int_equal(test_parse_both(NULL, 0, &m), DP_SIP_NO_START_LINE);
	assert_int_equal(test_parse("\r\n\r\n", &m), DP_SIP_NO_START_LINE);
	assert_int_equal(test_parse("\r\n\r\n\r\n\r\n\r\n\r\n", &m), DP_SIP_NO_START_LINE);
	assert_int_equal(test_parse("\r\n", &m), DP_SIP_NO_START_LINE);
	/* A start line later in the buffer is not a start line. */
	assert_int_equal(test_parse("\r\nSIP/2.0 200 OK\r\n"
				    "Call-ID: a\r\nCSeq: 1 BYE\r\n\r\n",
				 &m),
		DP_SIP_NO_START_LINE);
	/* NUL bytes do not stop the parser or fool it. */
	assert_int_equal(test_parse_n(with_nul, sizeof(with_nul) - 1, &m), DP_SIP_OK);
	assert_int_equal(m.call_id.len, 3);
	/* Start line but never an empty line. */
	assert_int_equal(test_parse("SIP/2.0 200 OK\r\nCall-ID: a\r\nCSeq: 1 BYE\r\n", &m),
		DP_SIP_TRUNCATED);
	/* No database or scratch is a scan error, not a crash. */
	assert_int_equal(dp_sip_parse_hs(NULL, test_scratch, &one, 1, &m), DP_SIP_SCAN_ERROR);
	assert_int_equal(dp_sip_parse_hs(test_db, NULL, &one, 1, &m), DP_SIP_SCAN_ERROR);
}

static void
test_methods(void **state)
{
	static const char *const bad_lines[] = {
		"invite sip:b@example.com SIP/2.0\r\n",
		"Invite sip:b@example.com SIP/2.0\r\n",
		"INVITE sip:b@example.com SIP/2.1\r\n",
		"INVITE sip:b@example.com\r\n",
		"INVITE  SIP/2.0\r\n",
		"INVITE sip:b@example.com SIP/2.0 \r\n",
		"INVITE sip:b@example.com sip/2.0\r\n",
		"INV(TE sip:b@example.com SIP/2.0\r\n",
		"INVITE sip:b@exa mple.com SIP/2.0\r\n",
		"INVITE sip:b@exa\tmple.com SIP/2.0\r\n",
		"INVITE sip:b@exa\rmple.com SIP/2.0\r\n",
		"INVITE sip:b@example.com SIP/2.0\r\r\n",
		"INVITE\tsip:b@example.com SIP/2.0\r\n",
	};
	struct dp_sip_msg m;
	char msg[256];
	unsigned int i;

	(void)state;
	for (i = 0; i < SG_M_OTHER; i++) {
		snprintf(msg, sizeof(msg),
			"%s sip:b@example.com SIP/2.0\r\n"
			"Call-ID: m@example.com\r\nCSeq: 1 %s\r\n\r\n",
			sg_method_names[i], sg_method_names[i]);
		assert_int_equal(test_parse(msg, &m), DP_SIP_OK);
		assert_int_equal(m.is_request, 1);
		assert_int_equal(m.method, i);
		assert_int_equal(m.cseq_method, i);
		assert_int_equal(m.status, 0);
	}
	/* Unknown methods, including ones that start like known ones. */
	assert_int_equal(test_parse("FOO sip:b@example.com SIP/2.0\r\n"
				    "Call-ID: m@example.com\r\nCSeq: 1 FOO\r\n\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.method, SG_M_OTHER);
	assert_int_equal(m.cseq_method, SG_M_OTHER);
	assert_int_equal(test_parse("INVITEX sip:b@example.com SIP/2.0\r\n"
				    "Call-ID: m@example.com\r\nCSeq: 1 INVITEX\r\n\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.method, SG_M_OTHER);
	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		snprintf(msg, sizeof(msg), "%sCall-ID: m@example.com\r\nCSeq: 1 INVITE\r\n\r\n",
			bad_lines[i]);
		assert_int_equal(test_parse(msg, &m), DP_SIP_NO_START_LINE);
	}
}

/*
 * The top Via's branch wherever it falls against the vector pass's
 * 64-byte blocks (the host padded 0..80 bytes), with what may follow it:
 * the end of the value, more parameters, whitespace, a fold, the next
 * via-parm. Both engines must agree (test_parse_both) and the branch
 * must be the one written.
 */
static void
test_via_shapes(void **state)
{
	static const struct {
		const char *tail;
		const char *branch; /* NULL: whatever both engines agree on */
	} tails[] = {
		{ "", "z9hG4bK-0123456789abcdef0123456789" },
		{ ";received=192.0.2.1", "z9hG4bK-0123456789abcdef0123456789" },
		{ " ;rport", NULL },
		{ "\r\n ;oc=20", NULL },
		{ ",SIP/2.0/UDP h2;branch=z9hG4bK-other", "z9hG4bK-0123456789abcdef0123456789" },
		{ "\t", "z9hG4bK-0123456789abcdef0123456789" },
		{ "\"q\"", NULL },
	};
	char host[96], msg[512];
	struct dp_sip_msg m;
	unsigned int pad, t;

	(void)state;
	for (pad = 0; pad <= 80; pad++) {
		memset(host, 'h', pad);
		host[pad] = '\0';
		for (t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
			snprintf(msg, sizeof(msg),
				"SIP/2.0 200 OK\r\n"
				"Via: SIP/2.0/UDP x%s ;rport; branch=z9hG4bK-0123456789abcdef"
				"0123456789%s\r\n"
				"Call-ID: v@example.com\r\nCSeq: 1 INVITE\r\n\r\n",
				host, tails[t].tail);
			assert_int_equal(test_parse(msg, &m), DP_SIP_OK);
			if (tails[t].branch != NULL)
				assert_str(m.branch, tails[t].branch);
		}
	}
}

static void
test_back_to_back(void **state)
{
	const char stream[] = "MESSAGE sip:b@example.com SIP/2.0\r\n"
			      "Call-ID: one@example.com\r\n"
			      "CSeq: 1 MESSAGE\r\n"
			      "Content-Length: 5\r\n"
			      "\r\n"
			      "hello"
			      "SIP/2.0 200 OK\r\n"
			      "Call-ID: two@example.com\r\n"
			      "CSeq: 1 MESSAGE\r\n"
			      "Content-Length: 0\r\n"
			      "\r\n";
	const uint32_t len = sizeof(stream) - 1;
	struct dp_sip_msg m;
	uint8_t *buf = malloc(len);
	uint32_t first;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, stream, len);
	assert_int_equal(test_parse_both(buf, len, &m), DP_SIP_OK);
	assert_int_equal(m.method, SG_M_MESSAGE);
	assert_str(m.call_id, "one@example.com");
	first = m.msg_len;
	assert_int_equal(first, strstr(stream, "SIP/2.0 200") - stream);
	assert_int_equal(test_parse_both(buf + first, len - first, &m), DP_SIP_OK);
	assert_int_equal(m.status, 200);
	assert_str(m.call_id, "two@example.com");
	assert_int_equal(m.msg_len, len - first);

	/* A Content-Length beyond the buffer is clamped to it. */
	assert_int_equal(test_parse("SIP/2.0 200 OK\r\n"
				    "Call-ID: big@example.com\r\n"
				    "CSeq: 1 INVITE\r\n"
				    "Content-Length: 4294967296\r\n"
				    "\r\nv=0\r\n",
				 &m),
		DP_SIP_OK);
	assert_int_equal(m.content_length, INT32_MAX);
	assert_int_equal(m.msg_len, m.hdr_len + 5);
	free(buf);
}

/*
 * Every prefix of a full INVITE: before the start line is complete there
 * is no start line, before the empty line the headers are truncated, and
 * from there on the message parses with everything inside the prefix.
 */
static void
test_truncation(void **state)
{
	struct dp_sip_msg m;
	uint32_t hdr_len, start_len, len, plen;
	char *msg = test_invite(&hdr_len);

	(void)state;
	len = (uint32_t)strlen(msg);
	start_len = (uint32_t)(strchr(msg, '\n') - msg) + 1;
	for (plen = 0; plen <= len; plen++) {
		enum dp_sip_res res = test_parse_n(msg, plen, &m);
		const char *lo = (const char *)test_buf;

		if (plen < start_len) {
			assert_int_equal(res, DP_SIP_NO_START_LINE);
			continue;
		}
		if (plen < hdr_len) {
			assert_int_equal(res, DP_SIP_TRUNCATED);
			continue;
		}
		assert_int_equal(res, DP_SIP_OK);
		assert_int_equal(m.hdr_len, hdr_len);
		assert_int_equal(m.msg_len, plen);
		assert_true(m.call_id.p >= lo && m.call_id.p + m.call_id.len <= lo + plen);
		assert_true(m.branch.p >= lo && m.branch.p + m.branch.len <= lo + plen);
		assert_str(m.call_id, "a84b4c76e66710@pbx.example.com");
	}
	free(msg);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(dp_sip_res_name(DP_SIP_OK), "ok");
	assert_string_equal(dp_sip_res_name(DP_SIP_NO_START_LINE), "no_start_line");
	assert_string_equal(dp_sip_res_name(DP_SIP_TRUNCATED), "truncated");
	assert_string_equal(dp_sip_res_name(DP_SIP_BAD_CALL_ID), "bad_call_id");
	assert_string_equal(dp_sip_res_name(DP_SIP_BAD_CSEQ), "bad_cseq");
	assert_string_equal(dp_sip_res_name(DP_SIP_SCAN_ERROR), "scan_error");
	assert_string_equal(dp_sip_res_name(DP_SIP_RES_COUNT), "unknown");
	assert_int_equal(dp_sip_scratch_alloc(NULL, &test_scratch), -EINVAL);
}

/*
 * A message that ends where the mapping ends: Hyperscan's vector engines
 * may read past a buffer (dp_hsbuf.h), so the scan must not touch the
 * unmapped page behind it. Each length ends the message on the page's
 * last byte; the engines must agree, and the copy is taken only there.
 */
static void
test_buffer_at_page_end(void **state)
{
	static const char *const msgs[] = {
		/* what a fuzzer found reading past the end (AVX512VBMI) */
		"SIP/2.0 503 Service ,Unavailable\r\nVia: SIP/2.0/U9hG4bK;oc=Retry-"
		"After:\r\nCall-ID:\r\n\xe5 folded-1\n\r\n",
		"SIP/2.0 503 Service Unavailable\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
		"Call-ID: a@b\r\nCSeq: 1 INVITE\r\nRetry-After: 5\r\n\r\n",
	};
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *map;
	unsigned int i;

	(void)state;
	assert_true(page >= (long)DP_HSBUF_PAGE);
	map = mmap(
		NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		uint32_t len = (uint32_t)strlen(msgs[i]);
		uint8_t *at = map + page - len;
		struct dp_sip_msg m;
		uint64_t copies = dp_hsbuf_copies();

		memcpy(at, msgs[i], len);
		assert_false(dp_hsbuf_tail_ok(at, len));
		(void)test_parse_both(at, len, &m);
		assert_true(dp_hsbuf_copies() > copies);
		/* one page earlier there is room behind it: no copy */
		assert_true(dp_hsbuf_tail_ok(map, 64));
		assert_ptr_equal(dp_hsbuf_safe(map, 64), map);
	}
	assert_null(dp_hsbuf_safe(map + page - 1, DP_HSBUF_COPY + 1));
	munmap(map, (size_t)page * 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invite_with_sdp),
		cmocka_unit_test(test_body_not_scanned),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_bad_status_lines),
		cmocka_unit_test(test_overload_503),
		cmocka_unit_test(test_via_oc),
		cmocka_unit_test(test_compact_and_case),
		cmocka_unit_test(test_whitespace_and_folding),
		cmocka_unit_test(test_missing_and_duplicate),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_buffer_at_page_end),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_via_shapes),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, test_setup, test_teardown);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diagnosis rules (dataplane/dp_diag.c): every rule of the shipped default
 * set classifies the phrase it was written for, and is the rule that
 * decides; the field a rule names is the only place it looks; a match
 * never spans two values; a trunk's own set comes before the default set;
 * a pattern Hyperscan refuses is a config error naming file, line and rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg.h"
#include "dp_diag.h"
#include "dp_sip.h"
#include "sg_test_source.h"

static struct sg_config cfg;
static char err[512];

/* A final answer to an INVITE with the given reason phrase and headers. */
static size_t
answer(char *buf, size_t len, const char *status_line, const char *headers)
{
	int n = snprintf(buf, len,
		"%s\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
		"From: <sip:dialer@192.0.2.1>;tag=a\r\n"
		"To: <sip:+15551234@198.51.100.10>;tag=b\r\n"
		"Call-ID: diag-1@192.0.2.1\r\n"
		"CSeq: 1 INVITE\r\n"
		"%s"
		"Content-Length: 0\r\n"
		"\r\n",
		status_line, headers);

	assert_true(n > 0 && (size_t)n < len);
	return (size_t)n;
}

struct classified {
	enum sg_diag_class cls;
	uint16_t rule;
};

/* Parse like the dataplane does, then classify for trunk `trunk`. */
static struct classified
classify(const struct dp_diag *d, hs_scratch_t *s, uint32_t trunk, const char *status_line,
	const char *headers)
{
	static struct dp_diag_scan sc;
	struct classified c;
	struct dp_sip_msg m;
	char buf[4096];
	size_t n = answer(buf, sizeof(buf), status_line, headers);

	assert_int_equal(dp_sip_parse((const uint8_t *)buf, (uint32_t)n, &m), DP_SIP_OK);
	assert_ptr_equal(m.base, (const uint8_t *)buf);
	c.cls = dp_diag_classify(d, s, &sc, trunk, m.base, m.hdr_len, &c.rule);
	return c;
}

/*
 * The shipped default set, each rule with the words it was written for:
 * reason phrases, Warning and vendor headers, Reason causes as carriers
 * and SBCs send them.
 */
static const struct {
	const char *rule;
	const char *status_line;
	const char *headers;
	enum sg_diag_class cls;
} phrases[] = {
	{ "cps-status", "SIP/2.0 503 CPS Limit Exceeded", "", SG_DIAG_CPS_LIMIT },
	{ "cps-status", "SIP/2.0 503 Exceeded CPS", "", SG_DIAG_CPS_LIMIT },
	{ "call-rate-status", "SIP/2.0 503 Call Rate Limit Exceeded", "", SG_DIAG_CPS_LIMIT },
	{ "call-rate-status", "SIP/2.0 503 Too many calls per second", "", SG_DIAG_CPS_LIMIT },
	{ "channel-limit-status", "SIP/2.0 503 Channel limit reached", "",
		SG_DIAG_CONCURRENCY_LIMIT },
	{ "channel-limit-status", "SIP/2.0 503 No available channels", "",
		SG_DIAG_CONCURRENCY_LIMIT },
	{ "concurrent-status", "SIP/2.0 503 Maximum concurrent calls", "",
		SG_DIAG_CONCURRENCY_LIMIT },
	{ "concurrent-status", "SIP/2.0 486 Max simultaneous calls reached", "",
		SG_DIAG_CONCURRENCY_LIMIT },
	{ "no-route-status", "SIP/2.0 503 No route available", "", SG_DIAG_ROUTE_DOWN },
	{ "no-route-status", "SIP/2.0 502 All gateways are down", "", SG_DIAG_ROUTE_DOWN },
	{ "out-of-order-status", "SIP/2.0 502 Network out of order", "", SG_DIAG_ROUTE_DOWN },
	{ "maintenance-status", "SIP/2.0 503 Maintenance", "", SG_DIAG_MAINTENANCE },
	{ "maintenance-status", "SIP/2.0 503 Service Unavailable - Planned Outage", "",
		SG_DIAG_MAINTENANCE },
	{ "overload-status", "SIP/2.0 503 Server Overloaded", "", SG_DIAG_OVERLOAD },
	{ "overload-status", "SIP/2.0 503 Network Congestion", "", SG_DIAG_OVERLOAD },
	{ "busy-status", "SIP/2.0 503 Server Too Busy", "", SG_DIAG_OVERLOAD },
	{ "funds-status", "SIP/2.0 402 Insufficient funds", "", SG_DIAG_OTHER },
	{ "funds-status", "SIP/2.0 403 Account suspended", "", SG_DIAG_OTHER },
	{ "cps-warning", "SIP/2.0 503 Service Unavailable",
		"Warning: 399 sbc.carrier.example \"CPS limit reached\"\r\n", SG_DIAG_CPS_LIMIT },
	{ "concurrency-warning", "SIP/2.0 503 Service Unavailable",
		"Warning: 399 sbc.carrier.example \"Maximum concurrent calls exceeded\"\r\n",
		SG_DIAG_CONCURRENCY_LIMIT },
	{ "route-warning", "SIP/2.0 503 Service Unavailable",
		"Warning: 399 gw1.example \"Destination unreachable\"\r\n", SG_DIAG_ROUTE_DOWN },
	{ "maintenance-warning", "SIP/2.0 503 Service Unavailable",
		"Warning: 399 core.example \"Scheduled maintenance\"\r\n", SG_DIAG_MAINTENANCE },
	{ "overload-warning", "SIP/2.0 503 Service Unavailable",
		"Warning: 399 core.example \"Overload control active\"\r\n", SG_DIAG_OVERLOAD },
	{ "cps-x-reason", "SIP/2.0 503 Service Unavailable",
		"X-Reason: CPS limit exceeded for account\r\n", SG_DIAG_CPS_LIMIT },
	{ "q850-no-circuit", "SIP/2.0 503 Service Unavailable",
		"Reason: Q.850;cause=34;text=\"No circuit/channel available\"\r\n",
		SG_DIAG_CONCURRENCY_LIMIT },
	{ "q850-congestion", "SIP/2.0 503 Service Unavailable",
		"Reason: Q.850;cause=41;text=\"Temporary failure\"\r\n", SG_DIAG_OVERLOAD },
	{ "q850-congestion", "SIP/2.0 503 Service Unavailable", "Reason: Q.850 ; cause = 42\r\n",
		SG_DIAG_OVERLOAD },
	{ "q850-congestion", "SIP/2.0 503 Service Unavailable",
		"Reason: Q.850;cause=47;text=\"Resource unavailable, unspecified\"\r\n",
		SG_DIAG_OVERLOAD },
	{ "q850-no-route", "SIP/2.0 503 Service Unavailable",
		"Reason: Q.850;cause=38;text=\"Network out of order\"\r\n", SG_DIAG_ROUTE_DOWN },
	{ "q850-no-route", "SIP/2.0 404 Not Found", "Reason: Q.850;cause=3\r\n",
		SG_DIAG_ROUTE_DOWN },
	{ "reason-text-maintenance", "SIP/2.0 503 Service Unavailable",
		"Reason: SIP;cause=503;text=\"Maintenance window\"\r\n", SG_DIAG_MAINTENANCE },
};

#define N_PHRASES (sizeof(phrases) / sizeof(phrases[0]))

static void
load_example(void)
{
	char *text = read_source("config/sipguard.conf");

	if (text == NULL)
		fail_msg("config/sipguard.conf: cannot read (is MESON_SOURCE_ROOT set?)");
	if (cfg_load_buffer(text, strlen(text), "config/sipguard.conf", &cfg, err, sizeof(err)) !=
		0)
		fail_msg("%s", err);
	free(text);
}

static void
test_default_rules(void **state)
{
	struct dp_diag *d;
	hs_scratch_t *s = NULL;
	uint8_t covered[CFG_MAX_DIAG_RULES] = { 0 };
	uint32_t i;

	(void)state;
	load_example();
	assert_true(cfg.n_diag >= 20);
	d = dp_diag_create(&cfg, "config/sipguard.conf", err, sizeof(err));
	if (d == NULL)
		fail_msg("%s", err);
	assert_int_equal(dp_diag_n_rules(d), cfg.n_diag);
	assert_int_equal(dp_diag_scratch_alloc(d, &s), 0);
	for (i = 0; i < N_PHRASES; i++) {
		struct classified c = classify(d, s, 0, phrases[i].status_line, phrases[i].headers);

		if (c.rule == SG_DIAG_NO_RULE)
			fail_msg("%s: \"%s\" %s: no rule matched", phrases[i].rule,
				phrases[i].status_line, phrases[i].headers);
		if (strcmp(cfg.diag[c.rule].name, phrases[i].rule) != 0)
			fail_msg("\"%s\" %s: decided by %s, written for %s", phrases[i].status_line,
				phrases[i].headers, cfg.diag[c.rule].name, phrases[i].rule);
		assert_int_equal(c.cls, phrases[i].cls);
		covered[c.rule] = 1;
	}
	/* every shipped rule has its phrase here */
	for (i = 0; i < cfg.n_diag; i++) {
		if (!covered[i])
			fail_msg("default rule %s has no phrase in this test", cfg.diag[i].name);
	}
	/* the words that say nothing of the cause */
	static const char *const plain[][2] = {
		{ "SIP/2.0 503 Service Unavailable", "" },
		{ "SIP/2.0 486 Busy Here", "" },
		{ "SIP/2.0 480 Temporarily Unavailable", "Reason: Q.850;cause=18\r\n" },
		{ "SIP/2.0 503 Service Unavailable", "Reason: Q.850;cause=340\r\n" },
		{ "SIP/2.0 503 Service Unavailable", "Reason: SIP;cause=503;text=\"CPS\"\r\n" },
		{ "SIP/2.0 603 Decline", "Warning: 399 x.example \"Declined by user\"\r\n" },
		/* a header the rules do not name: its words are not read */
		{ "SIP/2.0 503 Service Unavailable", "Subject: CPS limit maintenance\r\n" },
	};
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		struct classified c = classify(d, s, 0, plain[i][0], plain[i][1]);

		if (c.cls != SG_DIAG_UNCLASSIFIED)
			fail_msg("\"%s\" %s: classified by %s", plain[i][0], plain[i][1],
				cfg.diag[c.rule].name);
		assert_int_equal(c.rule, SG_DIAG_NO_RULE);
	}
	/* the unmatched slot reads with the default set */
	assert_int_equal(classify(d, s, SG_UNMATCHED, "SIP/2.0 503 CPS Limit Exceeded", "").cls,
		SG_DIAG_CPS_LIMIT);
	hs_free_scratch(s);
	dp_diag_free(d);
}

static struct dp_diag *
load_rules(const char *text, hs_scratch_t **s)
{
	struct dp_diag *d;

	if (cfg_load_buffer(text, strlen(text), "t.conf", &cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	d = dp_diag_create(&cfg, "t.conf", err, sizeof(err));
	if (d == NULL)
		fail_msg("%s", err);
	assert_int_equal(dp_diag_scratch_alloc(d, s), 0);
	return d;
}

/* A match lies in one value of the rule's own field, never across two. */
static void
test_fields_and_values(void **state)
{
	static const char text[] =
		"diagnosis = (\n"
		"  { name = \"w\"; class = \"overload\"; field = \"Warning\";\n"
		"    pattern = \"limit\\\\s+reached\"; },\n"
		"  { name = \"s\"; class = \"maintenance\"; pattern = \"^SIP/2\\\\.0 503 M$\";\n"
		"    caseless = 0; },\n"
		"  { name = \"x\"; class = \"route-down\"; field = \"x-carrier-cause\";\n"
		"    pattern = \"down\"; }\n"
		");\n";
	hs_scratch_t *s = NULL;
	struct dp_diag *d = load_rules(text, &s);
	static struct dp_diag_scan sc;
	struct classified c;

	(void)state;
	c = classify(d, s, 0, "SIP/2.0 503 Busy", "Warning: 399 a \"limit reached\"\r\n");
	assert_int_equal(c.cls, SG_DIAG_OVERLOAD);
	assert_int_equal(c.rule, 0);
	/* "limit" ends one Warning, "reached" starts the next: two values */
	c = classify(d, s, 0, "SIP/2.0 503 Busy",
		"Warning: 399 a \"over the limit\r\nWarning: reached\"\r\n");
	assert_int_equal(c.cls, SG_DIAG_UNCLASSIFIED);
	/* a folded Warning is one value, its lines joined by a space */
	c = classify(d, s, 0, "SIP/2.0 503 Busy", "Warning: 399 a \"limit\r\n  reached\"\r\n");
	assert_int_equal(c.cls, SG_DIAG_OVERLOAD);
	dp_diag_fields(d, NULL, 0, &sc);
	assert_int_equal(sc.n_segs, 0);
	/* the status line is anchored on its own ends; caseless = 0 holds */
	assert_int_equal(classify(d, s, 0, "SIP/2.0 503 M", "").cls, SG_DIAG_MAINTENANCE);
	assert_int_equal(classify(d, s, 0, "SIP/2.0 503 m", "").cls, SG_DIAG_UNCLASSIFIED);
	assert_int_equal(classify(d, s, 0, "SIP/2.0 503 Ma", "").cls, SG_DIAG_UNCLASSIFIED);
	/* a rule's words in another field do not count */
	assert_int_equal(
		classify(d, s, 0, "SIP/2.0 503 limit reached", "").cls, SG_DIAG_UNCLASSIFIED);
	assert_int_equal(classify(d, s, 0, "SIP/2.0 503 down", "").cls, SG_DIAG_UNCLASSIFIED);
	/* header names are caseless, blanks before the colon allowed */
	assert_int_equal(classify(d, s, 0, "SIP/2.0 503 x", "X-Carrier-Cause : link down\r\n").cls,
		SG_DIAG_ROUTE_DOWN);
	/* the second value of a header is read too */
	assert_int_equal(classify(d, s, 0, "SIP/2.0 503 x",
				 "X-Carrier-Cause: fine\r\nX-Carrier-Cause: trunk down\r\n")
				 .cls,
		SG_DIAG_ROUTE_DOWN);
	/* the body is never read */
	{
		char buf[1024];
		struct dp_sip_msg m;
		uint16_t rule;
		int n = snprintf(buf, sizeof(buf),
			"SIP/2.0 503 x\r\nCall-ID: b@x\r\nCSeq: 1 INVITE\r\nContent-Length: 29\r\n"
			"\r\nX-Carrier-Cause: link down\r\n");

		assert_int_equal(dp_sip_parse((const uint8_t *)buf, (uint32_t)n, &m), DP_SIP_OK);
		assert_int_equal(dp_diag_classify(d, s, &sc, 0, m.base, m.hdr_len, &rule),
			SG_DIAG_UNCLASSIFIED);
	}
	hs_free_scratch(s);
	dp_diag_free(d);
}

/* A trunk's own set is read before the default set, whatever the file order. */
static void
test_trunk_sets(void **state)
{
	static const char text[] =
		"diagnosis = (\n"
		"  { name = \"cps\"; class = \"cps-limit\"; pattern = \"limit\"; },\n"
		"  { name = \"own\"; set = \"carrier-b\"; class = \"concurrency-limit\";\n"
		"    pattern = \"limit\"; },\n"
		"  { name = \"other-set\"; set = \"carrier-c\"; class = \"other\"; pattern = "
		"\"x\"; }\n"
		");\n"
		"trunks = (\n"
		"  { name = \"carrier-a\"; prefixes = [ \"10.0.0.1\" ]; cps = 1; max_concurrent = "
		"1; },\n"
		"  { name = \"carrier-b\"; prefixes = [ \"10.0.0.2\" ]; cps = 1; max_concurrent = "
		"1;\n"
		"    diagnosis = \"carrier-b\"; }\n"
		");\n";
	hs_scratch_t *s = NULL;
	struct dp_diag *d = load_rules(text, &s);
	struct classified c;

	(void)state;
	c = classify(d, s, 0, "SIP/2.0 503 limit", "");
	assert_int_equal(c.cls, SG_DIAG_CPS_LIMIT);
	assert_int_equal(c.rule, 0);
	c = classify(d, s, 1, "SIP/2.0 503 limit", "");
	assert_int_equal(c.cls, SG_DIAG_CONCURRENCY_LIMIT);
	assert_int_equal(c.rule, 1);
	/* a set no trunk names is read by none */
	assert_int_equal(classify(d, s, 0, "SIP/2.0 503 x", "").cls, SG_DIAG_UNCLASSIFIED);
	assert_int_equal(classify(d, s, 1, "SIP/2.0 503 x", "").cls, SG_DIAG_UNCLASSIFIED);
	hs_free_scratch(s);
	dp_diag_free(d);

	/* no rules: everything unclassified, no database */
	d = load_rules("", &s);
	assert_null(s);
	assert_int_equal(classify(d, NULL, 0, "SIP/2.0 503 limit", "").cls, SG_DIAG_UNCLASSIFIED);
	dp_diag_free(d);
	assert_int_equal(
		classify(NULL, NULL, 0, "SIP/2.0 503 limit", "").cls, SG_DIAG_UNCLASSIFIED);
}

static void
expect_err(const char *text, const char *want)
{
	if (cfg_load_buffer(text, strlen(text), "t.conf", &cfg, err, sizeof(err)) == 0)
		fail_msg("loaded, wanted error [%s]", want);
	if (strstr(err, want) == NULL)
		fail_msg("got [%s], want [%s]", err, want);
}

/* Bad rules are config errors naming the file, the line and the rule. */
static void
test_bad_rules(void **state)
{
	(void)state;
	expect_err("diagnosis = (\n  { name = \"r1\"; class = \"overload\";\n"
		   "    pattern = \"(unclosed\"; }\n);\n",
		"t.conf:3: diagnosis[0] (r1).pattern: \"(unclosed\": Hyperscan: ");
	expect_err("diagnosis = (\n  { name = \"r1\"; class = \"overload\"; pattern = \"a\"; },\n"
		   "  { name = \"r2\"; class = \"overload\"; pattern = \"(a)\\\\1\"; }\n);\n",
		"t.conf:3: diagnosis[1] (r2).pattern: \"(a)\\\\1\": Hyperscan: ");
	expect_err(
		"diagnosis = (\n  { name = \"r1\"; class = \"overload\"; pattern = \"a*\"; }\n);\n",
		"t.conf:2: diagnosis[0] (r1).pattern: \"a*\": matches the empty string");
	expect_err("diagnosis = (\n  { name = \"r1\"; class = \"overload\"; pattern = \"a\"; },\n"
		   "  { name = \"r1\"; class = \"other\"; pattern = \"b\"; }\n);\n",
		"t.conf:3: diagnosis[1] (r1).name: \"r1\": duplicate name, also diagnosis[0]");
	expect_err("diagnosis = (\n  { name = \"r1\"; class = \"slow\"; pattern = \"a\"; }\n);\n",
		"t.conf:2: diagnosis[0] (r1).class: \"slow\": must be one of");
	expect_err("diagnosis = (\n  { name = \"r1\"; class = \"other\"; pattern = \"a\"; }\n);\n"
		   "trunks = (\n  { name = \"t\"; prefixes = [ \"10.0.0.1\" ]; cps = 1;\n"
		   "    max_concurrent = 1; diagnosis = \"nope\"; }\n);\n",
		"t.conf:6: trunks[0] (t).diagnosis: \"nope\": no diagnosis rule has this set");
	expect_err(
		"diagnosis = (\n  { name = \"r1\"; class = \"other\"; pattern = \"a\tb\"; }\n);\n",
		"t.conf:2: diagnosis[0] (r1).pattern: \"a\\tb\": bad character 0x09");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_rules),
		cmocka_unit_test(test_fields_and_values),
		cmocka_unit_test(test_trunk_sets),
		cmocka_unit_test(test_bad_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

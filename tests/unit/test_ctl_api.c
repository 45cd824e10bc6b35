/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control API protocol and rendering: the request parser against hostile
 * input (every input is copied to a heap buffer of its exact length, so a
 * sanitizer build catches any read past it), response encode/decode round
 * trips, text sanitising, and the human renderers checked against the
 * JSON they render.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctl_api.h"
#include "ctl_render.h"

#define SPARK_LOW "\u2581"
#define SPARK_FULL "\u2588"

/* Parse exactly len bytes from a private heap copy. */
static int
parse_n(const char *s, size_t len, struct ctl_request *req)
{
	char err[CTL_API_ERR_MAX];
	char *copy;
	int rc;

	copy = malloc(len > 0 ? len : 1);
	assert_non_null(copy);
	memcpy(copy, s, len);
	err[0] = '\0';
	rc = ctl_api_parse_request(copy, len, req, err, sizeof(err));
	free(copy);
	if (rc != 0) {
		/* every failure explains itself on one line */
		assert_true(strlen(err) > 0);
		assert_null(strchr(err, '\n'));
		assert_null(req->args);
	}
	return rc;
}

static int
parse(const char *s)
{
	struct ctl_request req;
	int rc;

	rc = parse_n(s, strlen(s), &req);
	ctl_api_request_clear(&req);
	return rc;
}

static void
test_parse_good(void **state)
{
	const char *good = "{\"v\":1,\"id\":42,\"cmd\":\"trunk\",\"args\":{\"name\":\"a\"}}";
	const char *minimal = "{\"cmd\":\"trunks\",\"v\":1}\n";
	struct ctl_request req;

	(void)state;
	assert_int_equal(parse_n(good, strlen(good), &req), 0);
	assert_int_equal(req.id, 42);
	assert_string_equal(req.cmd, "trunk");
	assert_string_equal(json_string_value(json_object_get(req.args, "name")), "a");
	ctl_api_request_clear(&req);

	/* id and args are optional; args then is an empty object */
	assert_int_equal(parse_n(minimal, strlen(minimal), &req), 0);
	assert_int_equal(req.id, 0);
	assert_string_equal(req.cmd, "trunks");
	assert_true(json_is_object(req.args));
	assert_int_equal(json_object_size(req.args), 0);
	ctl_api_request_clear(&req);

	assert_int_equal(parse("{\"v\":1,\"cmd\":\"status\"}\r\n"), 0);
	assert_int_equal(parse("  {\"v\":1,\"cmd\":\"status\"}  "), 0);
	assert_int_equal(parse("{\"v\":1,\"id\":-3,\"cmd\":\"a_b\",\"args\":{}}"), 0);
}

static void
test_parse_not_an_object(void **state)
{
	struct ctl_request req;

	(void)state;
	assert_int_equal(parse_n("", 0, &req), EINVAL);
	assert_int_equal(ctl_api_parse_request(NULL, 10, &req, NULL, 0), EINVAL);
	assert_int_equal(parse("\n"), EINVAL);
	assert_int_equal(parse("   "), EINVAL);
	assert_int_equal(parse("hello"), EINVAL);
	assert_int_equal(parse("{"), EINVAL);
	assert_int_equal(parse("}"), EINVAL);
	assert_int_equal(parse("[1,2]"), EINVAL);
	assert_int_equal(parse("[{\"v\":1,\"cmd\":\"status\"}]"), EINVAL);
	assert_int_equal(parse("\"status\""), EINVAL);
	assert_int_equal(parse("1"), EINVAL);
	assert_int_equal(parse("null"), EINVAL);
	/* two objects on one line, or trailing garbage */
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\"}{\"v\":1,\"cmd\":\"b\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\"} x"), EINVAL);
	/* a newline inside means two lines were passed as one */
	assert_int_equal(parse("{\"v\":1,\n\"cmd\":\"a\"}"), EINVAL);
	/* duplicate members and unknown members */
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\",\"cmd\":\"b\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\",\"extra\":0}"), EINVAL);
}

static void
test_parse_deep_nesting(void **state)
{
	const size_t depth = 4000;
	char *buf;
	size_t i;

	(void)state;
	/* 4000 open brackets: deeper than the JSON parser allows */
	buf = calloc(1, depth * 2 + 1);
	assert_non_null(buf);
	for (i = 0; i < depth; i++)
		buf[i] = '[';
	assert_int_equal(parse(buf), EINVAL);
	for (i = 0; i < depth; i++)
		buf[depth + i] = ']';
	assert_int_equal(parse_n(buf, depth * 2, &(struct ctl_request){ 0 }), EMSGSIZE);
	free(buf);

	/* deep but valid and within the size limit: accepted, args kept whole */
	{
		const char *head = "{\"v\":1,\"cmd\":\"x\",\"args\":";
		const size_t levels = 600;
		struct ctl_request req;
		char *p;
		json_t *a;

		buf = calloc(1, 4096 + 1);
		assert_non_null(buf);
		p = buf + sprintf(buf, "%s", head);
		for (i = 0; i < levels; i++)
			p += sprintf(p, "{\"a\":");
		p += sprintf(p, "1");
		for (i = 0; i < levels + 1; i++)
			*p++ = '}';
		assert_true((size_t)(p - buf) <= CTL_API_MAX_REQ);
		assert_int_equal(parse_n(buf, (size_t)(p - buf), &req), 0);
		a = req.args;
		for (i = 0; i < levels - 1; i++)
			a = json_object_get(a, "a");
		assert_int_equal(json_integer_value(json_object_get(a, "a")), 1);
		ctl_api_request_clear(&req);
		free(buf);
	}
}

static void
test_parse_numbers(void **state)
{
	struct ctl_request req;
	const char *s;

	(void)state;
	assert_int_equal(parse("{\"v\":1e400,\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":99999999999999999999999,\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":-99999999999999999999999,\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"id\":1e300,\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"id\":9223372036854775808,\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\",\"args\":{\"n\":1e999}}"), EINVAL);
	s = "{\"v\":1,\"id\":9223372036854775807,\"cmd\":\"a\"}";
	assert_int_equal(parse_n(s, strlen(s), &req), 0);
	assert_true(req.id == INT64_MAX);
	ctl_api_request_clear(&req);
}

static void
test_parse_wrong_types(void **state)
{
	char cmd33[80], cmd32[80];

	(void)state;
	/* v */
	assert_int_equal(parse("{\"v\":\"1\",\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1.0,\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":true,\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":null,\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":[1],\"cmd\":\"a\"}"), EINVAL);
	/* id */
	assert_int_equal(parse("{\"v\":1,\"id\":\"3\",\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"id\":1.5,\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"id\":null,\"cmd\":\"a\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"id\":{},\"cmd\":\"a\"}"), EINVAL);
	/* cmd */
	assert_int_equal(parse("{\"v\":1}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":5}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":null}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":[\"a\"]}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"Trunks\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a-b\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a b\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a1\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\\u0000b\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"\\u00e9\"}"), EINVAL);
	snprintf(cmd32, sizeof(cmd32), "{\"v\":1,\"cmd\":\"%s\"}",
		"abcdefghijklmnopqrstuvwxyz_abcde");
	snprintf(cmd33, sizeof(cmd33), "{\"v\":1,\"cmd\":\"%s\"}",
		"abcdefghijklmnopqrstuvwxyz_abcdef");
	assert_int_equal(parse(cmd32), 0);
	assert_int_equal(parse(cmd33), EINVAL);
	/* args */
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\",\"args\":[]}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\",\"args\":\"x\"}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\",\"args\":null}"), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\",\"args\":0}"), EINVAL);
}

static void
test_parse_version(void **state)
{
	struct ctl_request req;
	const char *s;

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"a\"}"), EPROTO);
	assert_int_equal(parse("{\"v\":0,\"cmd\":\"a\"}"), EPROTO);
	assert_int_equal(parse("{\"v\":-1,\"cmd\":\"a\"}"), EPROTO);
	/* a newer request may look different in every other way */
	assert_int_equal(parse("{\"v\":2,\"command\":[\"a\"]}"), EPROTO);
	/* the id is still echoed */
	s = "{\"v\":2,\"id\":7,\"cmd\":\"a\"}";
	assert_int_equal(parse_n(s, strlen(s), &req), EPROTO);
	assert_int_equal(req.id, 7);
}

/* A valid request padded with blanks inside the object to exactly len bytes. */
static char *
padded_request(size_t len)
{
	const char *head = "{\"v\":1,\"cmd\":\"trunks\",";
	const char *tail = "\"id\":1}";
	char *buf;

	buf = malloc(len + 2);
	assert_non_null(buf);
	assert_true(len > strlen(head) + strlen(tail));
	memcpy(buf, head, strlen(head));
	memset(buf + strlen(head), ' ', len - strlen(head) - strlen(tail));
	memcpy(buf + len - strlen(tail), tail, strlen(tail));
	buf[len] = '\0';
	return buf;
}

static void
test_parse_size_limit(void **state)
{
	struct ctl_request req;
	char *buf;

	(void)state;
	buf = padded_request(CTL_API_MAX_REQ);
	assert_int_equal(parse_n(buf, CTL_API_MAX_REQ, &req), 0);
	ctl_api_request_clear(&req);
	/* the line terminator does not count */
	buf[CTL_API_MAX_REQ] = '\n';
	assert_int_equal(parse_n(buf, CTL_API_MAX_REQ + 1, &req), 0);
	ctl_api_request_clear(&req);
	free(buf);

	buf = padded_request(CTL_API_MAX_REQ + 1);
	assert_int_equal(parse_n(buf, CTL_API_MAX_REQ + 1, &req), EMSGSIZE);
	free(buf);
	buf = padded_request(1 << 20);
	assert_int_equal(parse_n(buf, 1 << 20, &req), EMSGSIZE);
	free(buf);
}

static void
test_parse_nul_and_utf8(void **state)
{
	static const char nul1[] = "{\"v\":1,\0\"cmd\":\"a\"}";
	static const char nul2[] = "{\"v\":1,\"cmd\":\"a\0b\"}";
	static const char nul3[] = "{\"v\":1,\"cmd\":\"a\"}\0";
	static const char *const bad_utf8[] = {
		"{\"v\":1,\"cmd\":\"trunk\",\"args\":{\"name\":\"\xff\"}}",
		"{\"v\":1,\"cmd\":\"trunk\",\"args\":{\"name\":"
		"\"\xc0\xaf\"}}", /* overlong */
		"{\"v\":1,\"cmd\":\"trunk\",\"args\":{\"name\":"
		"\"\xed\xa0\x80\"}}", /* surrogate */
		"{\"v\":1,\"cmd\":\"trunk\",\"args\":{\"name\":"
		"\"\xe2\x82\"}}", /* truncated */
		"{\"v\":1,\"cmd\":\"trunk\",\"args\":{\"\xfe\":1}}",
		"{\"v\":1,\"cmd\":\"trunk\",\"args\":{\"name\":\"\\ud800\"}"
		"}", /* lone surrogate escape */
	};
	struct ctl_request req;
	size_t i;

	(void)state;
	assert_int_equal(parse_n(nul1, sizeof(nul1) - 1, &req), EINVAL);
	assert_int_equal(parse_n(nul2, sizeof(nul2) - 1, &req), EINVAL);
	assert_int_equal(parse_n(nul3, sizeof(nul3) - 1, &req), EINVAL);
	assert_int_equal(parse("{\"v\":1,\"cmd\":\"a\",\"args\":{\"n\":\"a\\u0000b\"}}"), EINVAL);
	for (i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++)
		assert_int_equal(parse(bad_utf8[i]), EINVAL);
	/* valid UTF-8 in arguments is fine */
	assert_int_equal(
		parse("{\"v\":1,\"cmd\":\"trunk\",\"args\":{\"name\":\"caf\xc3\xa9\"}}"), 0);
}

static void
test_parse_truncated(void **state)
{
	static const char *const good[] = {
		"{\"v\":1,\"id\":7,\"cmd\":\"trunk\",\"args\":{\"name\":\"carrier-a\"}}",
		"{\"args\":{\"limit\":10,\"x\":[1,2.5,null,true]},\"cmd\":\"events\",\"v\":1}",
	};
	struct ctl_request req;
	size_t g, i, len;

	(void)state;
	for (g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		len = strlen(good[g]);
		assert_int_equal(parse_n(good[g], len, &req), 0);
		ctl_api_request_clear(&req);
		/* every strict prefix is an incomplete object */
		for (i = 0; i < len; i++)
			assert_int_not_equal(parse_n(good[g], i, &req), 0);
	}
}

/* Random single- and multi-byte damage: never a crash, never a bogus accept. */
static void
test_parse_mutations(void **state)
{
	const char *good =
		"{\"v\":1,\"id\":12,\"cmd\":\"trunk\",\"args\":{\"name\":\"carrier-a\"}}";
	struct ctl_request req;
	size_t len = strlen(good), k, j, n;
	char buf[128];
	uint32_t seed = 12345;
	int rc;

	(void)state;
	for (k = 0; k < 20000; k++) {
		memcpy(buf, good, len);
		n = 1 + k % 4;
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] = (char)(seed >> 20);
		}
		rc = parse_n(buf, len, &req);
		if (rc == 0) {
			assert_true(strlen(req.cmd) >= 1 &&
				strspn(req.cmd, "abcdefghijklmnopqrstuvwxyz_") == strlen(req.cmd));
			assert_true(json_is_object(req.args));
			ctl_api_request_clear(&req);
		} else {
			assert_true(rc == EINVAL || rc == EPROTO);
		}
	}
}

static void
assert_one_line(const char *line)
{
	size_t len = strlen(line);

	assert_true(len > 0);
	assert_int_equal(line[len - 1], '\n');
	assert_ptr_equal(strchr(line, '\n'), line + len - 1);
}

static void
test_response_round_trip(void **state)
{
	struct ctl_response resp;
	char err[CTL_API_ERR_MAX];
	json_t *data;
	char *line;
	size_t i;

	(void)state;
	data = json_pack("{s:[{s:s, s:i, s:f, s:n}], s:s}", "trunks", "name", "carrier-a\n\x1b",
		"cps", 12, "r503_per_s", 2.5, "answer_ratio", "note", "caf\xc3\xa9");
	assert_non_null(data);
	line = ctl_api_response_ok(99, data);
	assert_non_null(line);
	assert_one_line(line);
	assert_int_equal(ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.id, 99);
	assert_int_equal(resp.status, 0);
	assert_true(json_equal(resp.data, data));
	ctl_api_response_clear(&resp);
	/* every strict prefix of a response is rejected */
	for (i = 0; i + 1 < strlen(line); i++)
		assert_int_not_equal(ctl_api_parse_response(line, i, &resp, err, sizeof(err)), 0);
	free(line);
	json_decref(data);

	/* NULL data is an empty object */
	line = ctl_api_response_ok(1, NULL);
	assert_int_equal(ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
	assert_true(json_is_object(resp.data) && json_object_size(resp.data) == 0);
	ctl_api_response_clear(&resp);
	free(line);

	/* errors: the message comes back as one sanitised line */
	line = ctl_api_response_err(5, ENOENT, "unknown trunk \"foo\"\nsecond line\x1b[2J");
	assert_non_null(line);
	assert_one_line(line);
	assert_int_equal(ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.id, 5);
	assert_int_equal(resp.status, ENOENT);
	assert_null(resp.data);
	assert_string_equal(resp.error, "unknown trunk \"foo\"?second line?[2J");
	free(line);

	/* invalid UTF-8 in a message cannot break the encoding */
	line = ctl_api_response_err(6, EINVAL, "bad \xff\xfe byte");
	assert_non_null(line);
	assert_int_equal(ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
	assert_string_equal(resp.error, "bad ?? byte");
	free(line);

	/* status 0 is not an error: it becomes EIO; no message uses strerror */
	line = ctl_api_response_err(7, 0, NULL);
	assert_int_equal(ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.status, EIO);
	assert_string_equal(resp.error, strerror(EIO));
	free(line);
}

static void
test_response_oversized(void **state)
{
	struct ctl_response resp;
	char err[CTL_API_ERR_MAX];
	json_t *data;
	char *big, *line;

	(void)state;
	big = malloc(CTL_API_MAX_RESP + 1);
	assert_non_null(big);
	memset(big, 'x', CTL_API_MAX_RESP);
	big[CTL_API_MAX_RESP] = '\0';
	data = json_pack("{s:s}", "blob", big);
	line = ctl_api_response_ok(3, data);
	assert_non_null(line);
	assert_true(strlen(line) < 1000);
	assert_int_equal(ctl_api_parse_response(line, strlen(line), &resp, err, sizeof(err)), 0);
	assert_int_equal(resp.status, EMSGSIZE);
	assert_int_equal(resp.id, 3);
	free(line);
	json_decref(data);
	free(big);
}

static void
test_response_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"x",
		"[]",
		"{}",
		"{\"v\":2,\"id\":1,\"status\":0,\"data\":{}}",
		"{\"v\":1,\"status\":0,\"data\":{}}",
		"{\"v\":1,\"id\":1,\"data\":{}}",
		"{\"v\":1,\"id\":1,\"status\":-1,\"error\":\"x\"}",
		"{\"v\":1,\"id\":1,\"status\":\"0\",\"data\":{}}",
		"{\"v\":1,\"id\":1,\"status\":0}",
		"{\"v\":1,\"id\":1.5,\"status\":0,\"data\":{}}",
	};
	const char *no_text = "{\"v\":1,\"id\":1,\"status\":2,\"new\":1}";
	struct ctl_response resp;
	char err[CTL_API_ERR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			ctl_api_parse_response(bad[i], strlen(bad[i]), &resp, err, sizeof(err)),
			EPROTO);
		assert_null(resp.data);
	}
	/* an error without text still gets one; unknown members are ignored */
	assert_int_equal(
		ctl_api_parse_response(no_text, strlen(no_text), &resp, err, sizeof(err)), 0);
	assert_string_equal(resp.error, strerror(ENOENT));
}

static void
test_request_encode(void **state)
{
	struct ctl_request req;
	json_t *args;
	char *line;

	(void)state;
	args = json_pack("{s:s}", "name", "carrier-b");
	line = ctl_api_request_encode(17, "trunk", args);
	assert_non_null(line);
	assert_one_line(line);
	assert_int_equal(parse_n(line, strlen(line), &req), 0);
	assert_int_equal(req.id, 17);
	assert_string_equal(req.cmd, "trunk");
	assert_true(json_equal(req.args, args));
	ctl_api_request_clear(&req);
	free(line);
	json_decref(args);
	assert_null(ctl_api_request_encode(1, "Bad-Name", NULL));
	assert_null(ctl_api_request_encode(1, "", NULL));
	assert_null(ctl_api_request_encode(1, NULL, NULL));
}

static void
test_sanitize(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(ctl_api_sanitize(out, sizeof(out), "abc", 3), 3);
	assert_string_equal(out, "abc");
	ctl_api_sanitize(out, sizeof(out), "a\nb\rc\x1b[31md\x7f", 12);
	assert_string_equal(out, "a?b?c?[31md?");
	ctl_api_sanitize(out, sizeof(out), "tab\there", 8);
	assert_string_equal(out, "tab here");
	/* valid UTF-8 is kept, C1 controls and invalid bytes are not */
	ctl_api_sanitize(out, sizeof(out), "caf\xc3\xa9 \xc2\x9b \xff \xe2\x80\xa8.", 15);
	assert_string_equal(out, "caf\xc3\xa9 ? ? ?.");
	/* an embedded NUL does not end the copy early */
	ctl_api_sanitize(out, sizeof(out), "a\0b", 3);
	assert_string_equal(out, "a?b");
	/* truncation never splits a character */
	assert_int_equal(ctl_api_sanitize(out, 5, "ab\xc3\xa9\xc3\xa9", 6), 4);
	assert_string_equal(out, "ab\xc3\xa9");
	assert_int_equal(ctl_api_sanitize(out, 4, "ab\xc3\xa9", 4), 2);
	assert_string_equal(out, "ab");
}

/* Sparklines */

static json_t *
series_of(const long *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

static void
test_sparkline(void **state)
{
	static const long ramp[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const long ramp10[] = { 0, 10, 20, 30, 40, 50, 60, 70 };
	static const long spike[] = { 0, 1, 1000, 0, -5 };
	static const long thirds[] = { 1, 2, 3 };
	char out[60 * 3 + 1], out2[sizeof(out)], want[sizeof(out)];
	long zeros[60];
	json_t *s;
	size_t i;

	(void)state;
	memset(zeros, 0, sizeof(zeros));
	s = series_of(zeros, 60);
	assert_int_equal(ctl_render_sparkline(out, sizeof(out), s), 60);
	want[0] = '\0';
	for (i = 0; i < 60; i++)
		strcat(want, SPARK_LOW);
	assert_string_equal(out, want);
	json_decref(s);

	s = series_of(ramp, 8);
	assert_int_equal(ctl_render_sparkline(out, sizeof(out), s), 8);
	assert_string_equal(out, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588");
	json_decref(s);
	/* scaled to the series maximum: ten times the values, the same line */
	s = series_of(ramp10, 8);
	ctl_render_sparkline(out2, sizeof(out2), s);
	assert_string_equal(out, out2);
	json_decref(s);

	/* values between levels round up */
	s = series_of(thirds, 3);
	ctl_render_sparkline(out, sizeof(out), s);
	assert_string_equal(out, "\u2584\u2586" SPARK_FULL);
	json_decref(s);

	/* max is full, small positives stay visible, zero and below are lowest */
	s = series_of(spike, 5);
	ctl_render_sparkline(out, sizeof(out), s);
	assert_string_equal(out, SPARK_LOW "\u2582" SPARK_FULL SPARK_LOW SPARK_LOW);
	/* a short buffer gets whole characters only */
	assert_int_equal(ctl_render_sparkline(out, 8, s), 2);
	assert_int_equal(strlen(out), 6);
	json_decref(s);

	assert_int_equal(ctl_render_sparkline(out, sizeof(out), NULL), 0);
	assert_string_equal(out, "");
	s = json_pack("[s, n, f]", "x", 2.0);
	ctl_render_sparkline(out, sizeof(out), s);
	assert_string_equal(out, SPARK_LOW SPARK_LOW SPARK_FULL);
	json_decref(s);
}

/* Renderers */

static char *
render(int (*fn)(FILE *, json_t *), json_t *data, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	assert_non_null(f);
	*rc = fn(f, data);
	fclose(f);
	return text;
}

static json_t *
trunk_row(const char *name, int cps, int agreed, int conc, int maxc, double r503, double share,
	json_t *answer)
{
	return json_pack("{s:s, s:i, s:f, s:i, s:i, s:i, s:f, s:f, s:o, s:i, s:i, s:i}", "name",
		name, "cps", cps, "cps_avg10", cps * 0.9, "cps_agreed", agreed, "concurrent", conc,
		"max_concurrent", maxc, "r503_per_s", r503, "share_503_pct", share, "answer_ratio",
		answer, "attempts_total", cps * 100, "finals_total", cps * 90, "final_503_total",
		7);
}

static json_t *
trunks_doc(void)
{
	json_t *a = json_array();

	json_t *ra = trunk_row("carrier-a", 12, 30, 140, 400, 2.5, 12.5, json_real(0.875));

	/* the policy's columns: state (+alert) and the current limit */
	json_object_set_new(ra, "state", json_string("throttled"));
	json_object_set_new(ra, "limit_cps", json_integer(21));
	json_object_set_new(ra, "alerting", json_true());
	json_object_set_new(ra, "leading_class", json_string("cps-limit"));
	json_array_append_new(a, ra);
	json_array_append_new(a, trunk_row("b", 0, 5, 0, 10, 0, 0, json_null()));
	json_array_append_new(a,
		trunk_row("long-carrier-name-c", 123456, 200000, 98765, 100000, 1234.5, 99.5,
			json_real(0.0625)));
	return json_pack("{s:o}", "trunks", a);
}

static void
test_render_trunks_numbers(void **state)
{
	char *text, *line, *save = NULL, *tok, *slash;
	size_t head_end[9], end, col, row = 0;
	json_t *doc, *tr, *v;
	int rc;

	(void)state;
	doc = trunks_doc();
	text = render(ctl_render_trunks, doc, &rc);
	assert_int_equal(rc, 0);
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *p = line, *lsave = NULL;

		if (row == 0) {
			/* header: right edges of the right-aligned columns */
			assert_non_null(strstr(line, "NAME"));
			assert_non_null(strstr(line, "ANSWER %"));
			head_end[0] = 0;
			head_end[1] = (size_t)(strstr(line, "CPS/AGREED") - line) + 10;
			head_end[2] = (size_t)(strstr(line, "CALLS/MAX") - line) + 9;
			head_end[3] = (size_t)(strstr(line, "503/S") - line) + 5;
			head_end[4] = (size_t)(strstr(line, "503 %") - line) + 5;
			head_end[5] = (size_t)(strstr(line, "ANSWER %") - line) + 8;
			head_end[6] = 0; /* left-aligned */
			head_end[7] = (size_t)(strstr(line, "LIMIT") - line) + 5;
			head_end[8] = 0; /* left-aligned */
			assert_non_null(strstr(line, "CAUSE"));
			row++;
			continue;
		}
		tr = json_array_get(json_object_get(doc, "trunks"), row - 1);
		assert_non_null(tr);
		for (col = 0, tok = strtok_r(p, " ", &lsave); tok != NULL;
			tok = strtok_r(NULL, " ", &lsave), col++) {
			end = (size_t)(tok - line) + strlen(tok);
			if (col > 0 && col != 6 && col != 8) /* numbers right-aligned */
				assert_int_equal(end, head_end[col]);
			switch (col) {
			case 0:
				assert_string_equal(
					tok, json_string_value(json_object_get(tr, "name")));
				break;
			case 1:
			case 2:
				slash = strchr(tok, '/');
				assert_non_null(slash);
				assert_int_equal(strtoll(tok, NULL, 10),
					json_integer_value(json_object_get(
						tr, col == 1 ? "cps" : "concurrent")));
				assert_int_equal(strtoll(slash + 1, NULL, 10),
					json_integer_value(json_object_get(
						tr, col == 1 ? "cps_agreed" : "max_concurrent")));
				break;
			case 3:
				assert_float_equal(strtod(tok, NULL),
					json_real_value(json_object_get(tr, "r503_per_s")), 0.051);
				break;
			case 4:
				assert_float_equal(strtod(tok, NULL),
					json_real_value(json_object_get(tr, "share_503_pct")),
					0.051);
				break;
			case 5:
				v = json_object_get(tr, "answer_ratio");
				if (json_is_null(v))
					assert_string_equal(tok, "-");
				else
					assert_float_equal(
						strtod(tok, NULL), json_real_value(v) * 100, 0.051);
				break;
			case 6:
				v = json_object_get(tr, "state");
				if (json_is_string(v))
					assert_string_equal(tok,
						json_is_true(json_object_get(tr, "alerting"))
							? "throttled+alert"
							: json_string_value(v));
				else
					assert_string_equal(tok, "-");
				break;
			case 7:
				v = json_object_get(tr, "limit_cps");
				if (json_is_integer(v))
					assert_int_equal(
						strtoll(tok, NULL, 10), json_integer_value(v));
				else
					assert_string_equal(tok, "-");
				break;
			case 8:
				v = json_object_get(tr, "leading_class");
				assert_string_equal(
					tok, json_is_string(v) ? json_string_value(v) : "-");
				break;
			default:
				fail_msg("extra column \"%s\"", tok);
			}
		}
		assert_int_equal(col, 9);
		row++;
	}
	assert_int_equal(row, 1 + json_array_size(json_object_get(doc, "trunks")));
	free(text);
	json_decref(doc);

	/* not a trunks document */
	doc = json_pack("{s:i}", "trunks", 1);
	text = render(ctl_render_trunks, doc, &rc);
	assert_int_equal(rc, -1);
	free(text);
	json_decref(doc);
}

static void
test_render_trunks_hostile_names(void **state)
{
	json_t *a = json_array(), *doc;
	char *text;
	int rc;

	(void)state;
	json_array_append_new(
		a, trunk_row("evil\x1b[2J\x1b]0;pwned\x07", 1, 1, 1, 1, 0, 0, json_null()));
	json_array_append_new(a, json_pack("{s:i}", "cps", 3)); /* fields missing */
	json_array_append_new(a, json_string("not an object"));
	doc = json_pack("{s:o}", "trunks", a);
	text = render(ctl_render_trunks, doc, &rc);
	assert_int_equal(rc, 0);
	assert_null(strchr(text, '\x1b'));
	assert_null(strchr(text, '\x07'));
	assert_non_null(strstr(text, "evil?[2J?]0;pwned?"));
	assert_non_null(strstr(text, "3/-"));
	free(text);
	json_decref(doc);
}

static json_t *
event(double t, const char *call_id, int status, json_t *retry, const char *reason)
{
	return json_pack("{s:f, s:s, s:i, s:o, s:s?, s:n, s:n}", "time", t, "call_id", call_id,
		"status", status, "retry_after", retry, "reason", reason, "oc", "oc_algo");
}

static int
render_trunk10(FILE *f, json_t *data)
{
	return ctl_render_trunk(f, data, 10);
}

static void
test_render_trunk_detail(void **state)
{
	long cps[60], r503[60], conc[60];
	char spark[60 * 3 + 1], want[256];
	json_t *doc, *events;
	char *text;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < 60; i++) {
		cps[i] = (long)(i % 20);
		r503[i] = 0;
		conc[i] = 100 + (long)i;
	}
	cps[59] = 13;
	doc = trunk_row("carrier-a", 13, 30, 159, 400, 0, 0, json_real(0.5));
	events = json_array();
	json_array_append_new(events,
		event(1700000000.25, "abc@10.0.0.1", 503, json_integer(30), "Q.850;cause=34"));
	json_object_set_new(json_array_get(events, 0), "class", json_string("concurrency-limit"));
	json_array_append_new(events, event(1699999990.0, "def\x1b@host", 503, json_null(), NULL));
	json_object_set_new(doc, "series",
		json_pack("{s:o, s:o, s:o}", "cps", series_of(cps, 60), "r503", series_of(r503, 60),
			"concurrent", series_of(conc, 60)));
	json_object_set_new(doc, "events", events);
	json_object_set_new(doc, "leading_class", json_string("concurrency-limit"));
	json_object_set_new(doc, "diagnosis",
		json_pack("{s:i, s:i, s:i, s:i}", "unclassified", 40, "cps-limit", 0,
			"concurrency-limit", 12, "route-down", 3));
	setenv("TZ", "UTC", 1);
	tzset();
	text = render(render_trunk10, doc, &rc);
	assert_int_equal(rc, 0);
	/* the sparklines are the ones for the series, with their figures */
	ctl_render_sparkline(
		spark, sizeof(spark), json_object_get(json_object_get(doc, "series"), "cps"));
	assert_non_null(strstr(text, spark));
	assert_non_null(strstr(text, "min 0  max 19  now 13"));
	ctl_render_sparkline(
		spark, sizeof(spark), json_object_get(json_object_get(doc, "series"), "r503"));
	snprintf(want, sizeof(want), "%s  min 0  max 0  now 0", spark);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "min 100  max 159  now 159"));
	/* events, newest first, with their fields; hostile text neutralised */
	assert_non_null(strstr(text, "2023-11-14 22:13:20.250"));
	assert_non_null(strstr(text, "abc@10.0.0.1"));
	assert_non_null(strstr(text, "Q.850;cause=34  concurrency-limit\n"));
	assert_non_null(strstr(text, "def?@host"));
	assert_true(strstr(text, "abc@10.0.0.1") < strstr(text, "def?@host"));
	/* the causes: the leading one, then every class with answers, unclassified last */
	assert_non_null(strstr(text,
		"cause        concurrency-limit (4xx-6xx finals: "
		"concurrency-limit 12, route-down 3, unclassified 40)\n"));
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "13 now"));
	assert_non_null(strstr(text, "30 agreed"));
	assert_non_null(strstr(text, "50.0 %"));
	free(text);
	json_decref(doc);
}

static int
render_events2(FILE *f, json_t *data)
{
	return ctl_render_events(f, data, 2);
}

static void
test_render_events(void **state)
{
	json_t *events, *doc, *e;
	char *text, *p;
	size_t lines = 0;
	int rc;

	(void)state;
	events = json_array();
	e = event(1700000000.0, "one@x", 503, json_integer(5), "overload");
	json_object_set_new(e, "trunk", json_string("carrier-a"));
	json_object_set_new(e, "oc", json_integer(20));
	json_object_set_new(e, "oc_algo", json_string("loss"));
	json_array_append_new(events, e);
	e = event(1699999999.0, "two@x", 503, json_null(), NULL);
	json_object_set_new(e, "trunk", json_string("carrier-b"));
	json_array_append_new(events, e);
	e = event(1699999998.0, "three@x", 503, json_null(), NULL);
	json_array_append_new(events, e);
	doc = json_pack("{s:o}", "events", events);
	text = render(render_events2, doc, &rc);
	assert_int_equal(rc, 0);
	for (p = text; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3); /* heading and two events: -n is honoured */
	assert_non_null(strstr(text, "carrier-a"));
	assert_non_null(strstr(text, "20 loss"));
	assert_non_null(strstr(text, "overload"));
	assert_null(strstr(text, "three@x"));
	free(text);
	json_decref(doc);
}

static void
test_render_status_totals(void **state)
{
	json_t *doc;
	char *text;
	int rc;

	(void)state;
	doc = json_loads(
		"{\"version\":\"0.1.0\",\"uptime_s\":93784,\"ports\":[{\"name\":\"0000:00:08.0\","
		"\"rx\":123456789,\"missed\":17,\"errors\":0,\"rx_pps\":1500.5}],"
		"\"lcores\":[{\"lcore\":2,\"packets\":99,\"pps\":10.25,\"busy_pct\":3.5}],"
		"\"rings\":{\"pub_ring_full\":1,\"pub_pool_empty\":2,\"evt_ring_full\":3,"
		"\"evt_pool_empty\":4},\"dataplane\":\"running\"}",
		0, NULL);
	assert_non_null(doc);
	text = render(ctl_render_status, doc, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "sipguard 0.1.0, up 1d 02:03:04, dataplane running"));
	assert_non_null(strstr(text, "123456789"));
	assert_non_null(strstr(text, "1500.5"));
	assert_non_null(strstr(text, "evt_pool_empty 4"));
	free(text);
	json_decref(doc);

	doc = json_loads("{\"trunks\":{\"carrier-a\":{\"requests\":{\"INVITE\":120,\"ACK\":100},"
			 "\"responses\":{\"503\":7},\"retransmissions\":4,\"invite_attempts\":120,"
			 "\"invite_final\":{\"2xx\":90},\"malformed\":0}},"
			 "\"unmatched\":{\"requests\":{\"OPTIONS\":3}}}",
		0, NULL);
	assert_non_null(doc);
	text = render(ctl_render_totals, doc, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "trunk carrier-a\n"));
	assert_non_null(strstr(text, "INVITE 120  ACK 100"));
	assert_non_null(strstr(text, "retransmissions  4"));
	assert_non_null(strstr(text, "unmatched"));
	assert_non_null(strstr(text, "OPTIONS 3"));
	free(text);
	json_decref(doc);

	text = render(ctl_render_status, NULL, &rc);
	assert_int_equal(rc, -1);
	free(text);
}

/* `fleet`: every edge of every shared account on a row; off without a fleet. */
static void
test_render_fleet(void **state)
{
	json_t *data;
	char *text;
	int rc;

	(void)state;
	data = json_loads(
		"{\"edge\":\"paris-1\",\"mode\":\"fallback\",\"rounds_ok\":10,"
		"\"rounds_failed\":4,\"last_ok_age_s\":6,\"redis\":{\"address\":"
		"\"/run/r.sock\",\"connected\":false,\"connects\":1,"
		"\"connect_failures\":3,\"last_round_us\":120,\"last_error\":"
		"\"connect: No such file\"},\"accounts\":[{\"account\":\"acme\","
		"\"trunk\":\"carrier-a\",\"limit_cps\":30,\"budget_cps\":29,\"share_cps\":10,"
		"\"known_edges\":3,\"edges\":[{\"edge\":\"paris-1\",\"self\":true,"
		"\"rate_cps\":9.5,\"ask_cps\":30.0,\"share_cps\":10,\"limit_cps\":10,"
		"\"state\":\"normal\",\"age_s\":0},{\"edge\":\"lyon\",\"self\":false,"
		"\"rate_cps\":4.0,\"ask_cps\":6.0,\"share_cps\":null,\"limit_cps\":6,"
		"\"state\":\"throttled\",\"age_s\":7}]}]}",
		0, NULL);
	assert_non_null(data);
	text = render(ctl_render_fleet, data, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text,
		"fleet edge paris-1: fallback, rounds 10 ok 4 failed, last "
		"good 6 s ago"));
	assert_non_null(strstr(text, "redis /run/r.sock: not connected"));
	assert_non_null(strstr(text, "last error: connect: No such file"));
	assert_non_null(strstr(text,
		"account acme (trunk carrier-a): limit 30 CPS, shares up to 29, "
		"this edge's share 10, 3 edge(s)"));
	assert_non_null(strstr(text, "paris-1 *"));
	assert_non_null(strstr(text, "throttled"));
	assert_non_null(strstr(text, "     -      6 throttled"));
	free(text);
	json_decref(data);
	data = json_loads("{\"edge\":null,\"mode\":\"off\",\"accounts\":[]}", 0, NULL);
	text = render(ctl_render_fleet, data, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "fleet: off"));
	free(text);
	json_decref(data);
	text = render(ctl_render_fleet, NULL, &rc);
	assert_int_equal(rc, -1);
	free(text);
}

/* A directive decided by class says so, with its rule; advice on its own line. */
static void
test_render_directive_class(void **state)
{
	json_t *d;
	char *text;
	int rc;

	(void)state;
	d = json_pack("{s:i, s:f, s:s, s:s, s:n, s:n, s:s, s:s, s:s, s:{s:i, s:i, s:f, s:f, s:s, "
		      "s:s, s:i}}",
		"seq", 3, "time", 1700000010.4, "trunk", "carrier-nr", "action", "alert",
		"cps_limit", "duration_s", "cause", "route-down", "class", "route-down", "advice",
		"ask the carrier", "evidence", "r503", 4, "finals", 50, "share_503", 0.08,
		"first_503", 1700000009.9, "class", "route-down", "rule", "no-route-status",
		"class_503", 4);
	assert_non_null(d);
	text = render(ctl_render_directive, d, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "route-down"));
	assert_non_null(strstr(text, ", said route-down (rule no-route-status)"));
	assert_non_null(strstr(text, "\n         ask the carrier\n"));
	free(text);
	/* decided by the rates: the 503s' leading class, no rule */
	json_object_set_new(d, "class", json_null());
	json_object_set_new(json_object_get(d, "evidence"), "rule", json_null());
	text = render(ctl_render_directive, d, &rc);
	assert_non_null(strstr(text, ", 503s route-down"));
	assert_null(strstr(text, "(rule"));
	free(text);
	json_decref(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_fleet),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_not_an_object),
		cmocka_unit_test(test_parse_deep_nesting),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_wrong_types),
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_parse_size_limit),
		cmocka_unit_test(test_parse_nul_and_utf8),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_mutations),
		cmocka_unit_test(test_response_round_trip),
		cmocka_unit_test(test_response_oversized),
		cmocka_unit_test(test_response_parse_hostile),
		cmocka_unit_test(test_request_encode),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_sparkline),
		cmocka_unit_test(test_render_trunks_numbers),
		cmocka_unit_test(test_render_trunks_hostile_names),
		cmocka_unit_test(test_render_trunk_detail),
		cmocka_unit_test(test_render_events),
		cmocka_unit_test(test_render_directive_class),
		cmocka_unit_test(test_render_status_totals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

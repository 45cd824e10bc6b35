/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The call-flow ladder of `sipguardctl trace`, drawn like sngrep's call
 * flow: one column per party, one arrow per message with its method or
 * status, the time since the first message on the left, Retry-After and
 * Reason on the right. A plain function over the trace document
 * (ctl_trace_call_json's shape), apart from all I/O, so a test compares
 * the text with the document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_api.h"
#include "ctl_render.h"

#define CTL_LADDER_WIDTH 40 /* columns between the two bars */

/* Reason phrases of the answers a trunk commonly gives. */
static const char *
status_phrase(long code)
{
	static const struct {
		long code;
		const char *phrase;
	} t[] = {
		{ 100, "Trying" },
		{ 180, "Ringing" },
		{ 181, "Forwarded" },
		{ 182, "Queued" },
		{ 183, "Session Progress" },
		{ 200, "OK" },
		{ 202, "Accepted" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 407, "Proxy Auth Required" },
		{ 408, "Request Timeout" },
		{ 480, "Temporarily Unavailable" },
		{ 486, "Busy Here" },
		{ 487, "Request Terminated" },
		{ 488, "Not Acceptable Here" },
		{ 500, "Server Internal Error" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Server Time-out" },
		{ 600, "Busy Everywhere" },
		{ 603, "Decline" },
		{ 604, "Does Not Exist Anywhere" },
		{ 606, "Not Acceptable" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].code == code)
			return t[i].phrase;
	}
	return NULL;
}

static const char *
str_of(json_t *o, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		snprintf(buf, len, "-");
	else
		ctl_api_sanitize(buf, len, s, strlen(s));
	return buf;
}

/* One arrow of CTL_LADDER_WIDTH - 1 columns with text in its middle. */
static void
arrow(char *out, const char *text, int rightward)
{
	char t[CTL_LADDER_WIDTH];
	size_t w = CTL_LADDER_WIDTH - 1, tl, ld, i, o = 0;

	snprintf(t, sizeof(t), " %.*s ", (int)(CTL_LADDER_WIDTH - 6), text);
	tl = strlen(t);
	ld = (w - 1 - tl) / 2;
	if (!rightward)
		out[o++] = '<';
	for (i = 0; i < ld; i++)
		out[o++] = '-';
	memcpy(out + o, t, tl);
	o += tl;
	while (o < w - (rightward ? 1 : 0))
		out[o++] = '-';
	if (rightward)
		out[o++] = '>';
	out[o] = '\0';
}

/* A message's time, µs: "time_us", or "time_ms" from an older sipguard-ctrl. */
static json_int_t
msg_time_us(json_t *m)
{
	json_t *v = json_object_get(m, "time_us");

	if (json_is_integer(v))
		return json_integer_value(v);
	return json_integer_value(json_object_get(m, "time_ms")) * 1000;
}

int
ctl_render_trace(FILE *f, json_t *data)
{
	json_t *msgs = json_object_get(data, "messages"), *files = json_object_get(data, "files");
	json_t *parties = json_object_get(data, "parties"), *m, *v;
	char trunk[64], cid[160], a[80], b[80], from[80], text[64], line[CTL_LADDER_WIDTH + 1];
	char ts[32], path[600];
	double t0 = 0;
	size_t i;

	if (!json_is_object(data) || !json_is_array(msgs))
		return -1;
	str_of(data, "trunk", trunk, sizeof(trunk));
	str_of(data, "call_id", cid, sizeof(cid));
	v = json_array_get(parties, 0);
	ctl_api_sanitize(a, sizeof(a), json_string_value(v) ? json_string_value(v) : "-",
		json_string_value(v) ? strlen(json_string_value(v)) : 1);
	v = json_array_get(parties, 1);
	ctl_api_sanitize(b, sizeof(b), json_string_value(v) ? json_string_value(v) : "-",
		json_string_value(v) ? strlen(json_string_value(v)) : 1);
	fprintf(f, "trunk %s  Call-ID %s\n", trunk, cid);
	if (json_array_size(files) == 0)
		fprintf(f, "pcapng: - (rotated away)\n");
	json_array_foreach(files, i, v)
	{
		const char *p = json_string_value(v);

		ctl_api_sanitize(path, sizeof(path), p ? p : "-", p ? strlen(p) : 1);
		fprintf(f, "pcapng: %s\n", path);
	}
	m = json_array_get(msgs, 0);
	if (m != NULL) {
		json_int_t us = msg_time_us(m);
		time_t sec = (time_t)(us / 1000000);
		struct tm tm;

		t0 = (double)us / 1e6;
		if (gmtime_r(&sec, &tm) != NULL) {
			strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
			fprintf(f, "first message %s.%06d UTC\n", ts, (int)(us % 1000000));
		}
	}
	fprintf(f, "\n%-10s %-*s%s\n", "TIME", CTL_LADDER_WIDTH, a, b);
	json_array_foreach(msgs, i, m)
	{
		const char *label = json_string_value(json_object_get(m, "label"));
		double t = (double)msg_time_us(m) / 1e6;
		int right, n;

		str_of(m, "from", from, sizeof(from));
		right = strcmp(from, b) != 0;
		if (json_is_true(json_object_get(m, "request"))) {
			snprintf(text, sizeof(text), "%s", label != NULL ? label : "?");
		} else {
			long code = label != NULL ? strtol(label, NULL, 10) : 0;
			const char *ph = status_phrase(code);

			snprintf(text, sizeof(text), "%ld%s%s", code, ph ? " " : "", ph ? ph : "");
		}
		arrow(line, text, right);
		n = fprintf(f, "%-10.6f |%s|", t - t0, line);
		if (n < 0)
			return -1;
		v = json_object_get(m, "retry_after");
		if (json_is_integer(v))
			fprintf(f, "  Retry-After: %lld", (long long)json_integer_value(v));
		v = json_object_get(m, "reason");
		if (json_is_string(v)) {
			ctl_api_sanitize(text, sizeof(text), json_string_value(v),
				strlen(json_string_value(v)));
			fprintf(f, "  Reason: %s", text);
		}
		fputc('\n', f);
	}
	if (json_is_true(json_object_get(data, "truncated")))
		fprintf(f, "(more messages than a ladder keeps; the pcapng has them all)\n");
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The human rendering of control API answers for sipguardctl: sparklines
 * and the per-command layouts of status, trunks, trunk, events, totals,
 * directives and fleet (the trace ladder is drawn in ctl_ladder.c; cells
 * and aligned tables come from ctl_table.c).
 *
 * Kept apart from the wire protocol (ctl_api.c) because it is a different
 * job with a different reader: the protocol is what the daemon and every
 * client share, the rendering only what a terminal shows. Each renderer is
 * a plain function from a response's "data" document to a FILE, without
 * I/O of its own, so a test compares the text with the document and the
 * control-API fuzz harness runs arbitrary documents through it. Response
 * documents carry text taken from SIP packets, so every string is
 * sanitised (ctl_api_sanitize) before it reaches a terminal.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl_api.h"
#include "ctl_render.h"
#include "ctl_table.h"
#include "sg_shared.h"

static const char *const ctl_spark_blocks[8] = {
	"\u2581",
	"\u2582",
	"\u2583",
	"\u2584",
	"\u2585",
	"\u2586",
	"\u2587",
	"\u2588",
};

size_t
ctl_render_sparkline(char *dst, size_t dstlen, json_t *series)
{
	double max = 0, x, q;
	size_t i, o = 0, drawn = 0;
	json_t *v;
	int idx;

	if (dst == NULL || dstlen == 0)
		return 0;
	dst[0] = '\0';
	if (!json_is_array(series))
		return 0;
	json_array_foreach(series, i, v)
	{
		x = json_is_number(v) ? json_number_value(v) : 0;
		if (x > max)
			max = x;
	}
	json_array_foreach(series, i, v)
	{
		x = json_is_number(v) ? json_number_value(v) : 0;
		idx = 0;
		if (x > 0 && max > 0) {
			/*
			 * rounded up, so any positive value rises above zero;
			 * x / max <= 1 first, so a huge x cannot overflow
			 */
			q = x / max * 7;
			idx = (int)q;
			if ((double)idx < q)
				idx++;
			idx = idx < 1 ? 1 : idx > 7 ? 7 : idx;
		}
		if (o + 3 >= dstlen)
			break;
		memcpy(dst + o, ctl_spark_blocks[idx], 3);
		o += 3;
		drawn++;
	}
	dst[o] = '\0';
	return drawn;
}

int
ctl_render_trunks(FILE *f, json_t *data)
{
	static const char *const heads[] = { "NAME", "CPS/AGREED", "CALLS/MAX", "503/S", "503 %",
		"ANSWER %", "STATE", "LIMIT", "CAUSE" };
	char a[32], b[32];
	char(*row)[CTL_CELL_MAX];
	struct ctl_table t;
	json_t *trunks, *tr;
	size_t i;

	trunks = json_object_get(data, "trunks");
	if (!json_is_array(trunks))
		return -1;
	if (ctl_table_init(&t, 9, "lrrrrrlrl", heads) < 0)
		return -1;
	json_array_foreach(trunks, i, tr)
	{
		row = ctl_table_row(&t);
		if (row == NULL)
			break;
		ctl_fmt_str(row[0], CTL_CELL_MAX, json_object_get(tr, "name"));
		snprintf(row[1], CTL_CELL_MAX, "%s/%s",
			ctl_fmt_int(a, sizeof(a), json_object_get(tr, "cps")),
			ctl_fmt_int(b, sizeof(b), json_object_get(tr, "cps_agreed")));
		snprintf(row[2], CTL_CELL_MAX, "%s/%s",
			ctl_fmt_int(a, sizeof(a), json_object_get(tr, "concurrent")),
			ctl_fmt_int(b, sizeof(b), json_object_get(tr, "max_concurrent")));
		ctl_fmt_real(row[3], CTL_CELL_MAX, json_object_get(tr, "r503_per_s"), 1, 1);
		ctl_fmt_real(row[4], CTL_CELL_MAX, json_object_get(tr, "share_503_pct"), 1, 1);
		ctl_fmt_real(row[5], CTL_CELL_MAX, json_object_get(tr, "answer_ratio"), 100, 1);
		/* policy columns: absent for rows the policy does not govern */
		ctl_fmt_str(a, sizeof(a), json_object_get(tr, "state"));
		snprintf(row[6], CTL_CELL_MAX, "%s%s",
			json_is_string(json_object_get(tr, "state")) ? a : "-",
			json_is_true(json_object_get(tr, "alerting")) ? "+alert" : "");
		if (json_is_integer(json_object_get(tr, "limit_cps")))
			ctl_fmt_int(row[7], CTL_CELL_MAX, json_object_get(tr, "limit_cps"));
		else
			snprintf(row[7], CTL_CELL_MAX, "-");
		/* what the carrier's own words said most (diagnosis rules) */
		if (json_is_string(json_object_get(tr, "leading_class")))
			ctl_fmt_str(row[8], CTL_CELL_MAX, json_object_get(tr, "leading_class"));
		else
			snprintf(row[8], CTL_CELL_MAX, "-");
	}
	ctl_table_print(f, &t, "");
	ctl_table_free(&t);
	return 0;
}

static int
ctl_render_events_table(FILE *f, json_t *events, bool with_trunk, size_t max, const char *indent)
{
	static const char *const heads_t[] = { "TIME", "TRUNK", "STATUS", "RETRY-AFTER", "OC",
		"CALL-ID", "REASON", "CAUSE" };
	static const char *const heads[] = { "TIME", "STATUS", "RETRY-AFTER", "OC", "CALL-ID",
		"REASON", "CAUSE" };
	char(*row)[CTL_CELL_MAX];
	char a[64], b[64];
	struct ctl_table t;
	size_t i, c;
	json_t *ev;

	if (!json_is_array(events))
		return -1;
	if (ctl_table_init(&t, with_trunk ? 8 : 7, with_trunk ? "llrrrlll" : "lrrrlll",
		    with_trunk ? heads_t : heads) < 0)
		return -1;
	json_array_foreach(events, i, ev)
	{
		if (i >= max)
			break;
		row = ctl_table_row(&t);
		if (row == NULL)
			break;
		c = 0;
		ctl_fmt_time(row[c++], CTL_CELL_MAX, json_object_get(ev, "time"));
		if (with_trunk)
			ctl_fmt_str(row[c++], CTL_CELL_MAX, json_object_get(ev, "trunk"));
		ctl_fmt_int(row[c++], CTL_CELL_MAX, json_object_get(ev, "status"));
		ctl_fmt_int(row[c++], CTL_CELL_MAX, json_object_get(ev, "retry_after"));
		if (json_is_number(json_object_get(ev, "oc")) &&
			json_is_string(json_object_get(ev, "oc_algo")))
			snprintf(row[c++], CTL_CELL_MAX, "%s %s",
				ctl_fmt_int(a, sizeof(a), json_object_get(ev, "oc")),
				ctl_fmt_str(b, sizeof(b), json_object_get(ev, "oc_algo")));
		else
			ctl_fmt_int(row[c++], CTL_CELL_MAX, json_object_get(ev, "oc"));
		ctl_fmt_str(row[c++], CTL_CELL_MAX, json_object_get(ev, "call_id"));
		ctl_fmt_str(row[c++], CTL_CELL_MAX, json_object_get(ev, "reason"));
		/* the diagnosis of the carrier's words */
		ctl_fmt_str(row[c++], CTL_CELL_MAX, json_object_get(ev, "class"));
	}
	ctl_table_print(f, &t, indent);
	ctl_table_free(&t);
	return 0;
}

int
ctl_render_events(FILE *f, json_t *data, size_t max_events)
{
	return ctl_render_events_table(f, json_object_get(data, "events"), true, max_events, "");
}

/* min, max and last of a numeric series; false when it has no numbers. */
static bool
ctl_series_stats(json_t *series, double *min, double *max, double *now)
{
	bool any = false;
	json_t *v;
	size_t i;
	double x;

	json_array_foreach(series, i, v)
	{
		if (!json_is_number(v))
			continue;
		x = json_number_value(v);
		if (!any || x < *min)
			*min = x;
		if (!any || x > *max)
			*max = x;
		*now = x;
		any = true;
	}
	return any;
}

static void
ctl_render_series(FILE *f, const char *label, json_t *series)
{
	char spark[3 * 120 + 1];
	double min = 0, max = 0, now = 0;

	if (!json_is_array(series))
		return;
	ctl_render_sparkline(spark, sizeof(spark), series);
	if (ctl_series_stats(series, &min, &max, &now))
		fprintf(f, "  %-12s %s  min %g  max %g  now %g\n", label, spark, min, max, now);
	else
		fprintf(f, "  %-12s %s\n", label, spark);
}

/* What the policy learned the carrier really takes, beside the contract. */
static void
ctl_render_ceiling(FILE *f, json_t *pol)
{
	json_t *cps = json_object_get(pol, "ceiling_cps");
	json_t *conc = json_object_get(pol, "ceiling_concurrent");
	char a[32], b[32];

	if (json_is_number(cps))
		fprintf(f, "  %-12s carrier takes ~%.0f CPS (agreed %s), settles at %s\n",
			"ceiling", json_number_value(cps),
			ctl_fmt_int(a, sizeof(a), json_object_get(pol, "agreed_cps")),
			ctl_fmt_int(b, sizeof(b), json_object_get(pol, "target_cps")));
	if (json_is_integer(conc))
		fprintf(f, "  %-12s carrier takes ~%s calls up at once\n", "ceiling",
			ctl_fmt_int(a, sizeof(a), conc));
}

/* "cause  overload (leading): overload 12, route-down 3, unclassified 40" */
static void
ctl_render_diagnosis(FILE *f, json_t *data)
{
	json_t *d = json_object_get(data, "diagnosis"), *v;
	char a[64];
	int k, any = 0;

	if (!json_is_object(d))
		return;
	fprintf(f, "  %-12s %s", "cause",
		json_is_string(json_object_get(data, "leading_class"))
			? ctl_fmt_str(a, sizeof(a), json_object_get(data, "leading_class"))
			: "-");
	/* classes first, unclassified last */
	for (k = 1; k <= SG_DIAG_COUNT; k++) {
		const char *name = sg_diag_class_names[k % SG_DIAG_COUNT];

		v = json_object_get(d, name);
		if (!json_is_integer(v) || json_integer_value(v) == 0)
			continue;
		fprintf(f, "%s%s %s", any ? ", " : " (4xx-6xx finals: ", name,
			ctl_fmt_int(a, sizeof(a), v));
		any = 1;
	}
	fprintf(f, "%s\n", any ? ")" : "");
}

int
ctl_render_trunk(FILE *f, json_t *data, size_t max_events)
{
	char a[64], b[64], c[64];
	json_t *series;

	if (!json_is_object(data))
		return -1;
	fprintf(f, "trunk %s\n", ctl_fmt_str(a, sizeof(a), json_object_get(data, "name")));
	fprintf(f, "  %-12s %s now, %s avg over 10 s, %s agreed\n", "cps",
		ctl_fmt_int(a, sizeof(a), json_object_get(data, "cps")),
		ctl_fmt_real(b, sizeof(b), json_object_get(data, "cps_avg10"), 1, 1),
		ctl_fmt_int(c, sizeof(c), json_object_get(data, "cps_agreed")));
	fprintf(f, "  %-12s %s now, %s max\n", "concurrent",
		ctl_fmt_int(a, sizeof(a), json_object_get(data, "concurrent")),
		ctl_fmt_int(b, sizeof(b), json_object_get(data, "max_concurrent")));
	fprintf(f, "  %-12s %s/s, %s %% of finals\n", "503",
		ctl_fmt_real(a, sizeof(a), json_object_get(data, "r503_per_s"), 1, 1),
		ctl_fmt_real(b, sizeof(b), json_object_get(data, "share_503_pct"), 1, 1));
	fprintf(f, "  %-12s %s %%\n", "answer",
		ctl_fmt_real(a, sizeof(a), json_object_get(data, "answer_ratio"), 100, 1));
	fprintf(f, "  %-12s %s attempts, %s finals, %s final 503\n", "invites",
		ctl_fmt_int(a, sizeof(a), json_object_get(data, "attempts_total")),
		ctl_fmt_int(b, sizeof(b), json_object_get(data, "finals_total")),
		ctl_fmt_int(c, sizeof(c), json_object_get(data, "final_503_total")));
	ctl_render_diagnosis(f, data);
	if (json_is_string(json_object_get(data, "state"))) {
		/* the rate-limit policy's view of this trunk */
		int lim = json_is_integer(json_object_get(data, "limit_cps"));

		fprintf(f, "  %-12s %s%s, %s%s%s\n", "policy",
			ctl_fmt_str(a, sizeof(a), json_object_get(data, "state")),
			json_is_true(json_object_get(data, "alerting")) ? ", alerting" : "",
			lim ? "limit " : "no limit of ours",
			lim ? ctl_fmt_int(b, sizeof(b), json_object_get(data, "limit_cps")) : "",
			lim ? " cps" : "");
		ctl_render_ceiling(f, json_object_get(data, "policy"));
	}
	series = json_object_get(data, "series");
	if (json_is_object(series)) {
		fprintf(f, "last 60 s (oldest first)\n");
		ctl_render_series(f, "cps", json_object_get(series, "cps"));
		ctl_render_series(f, "503/s", json_object_get(series, "r503"));
		ctl_render_series(f, "concurrent", json_object_get(series, "concurrent"));
	}
	if (json_is_array(json_object_get(data, "events"))) {
		if (json_array_size(json_object_get(data, "events")) == 0) {
			fprintf(f, "no recent events\n");
		} else {
			fprintf(f, "last events (newest first)\n");
			ctl_render_events_table(
				f, json_object_get(data, "events"), false, max_events, "  ");
		}
	}
	return 0;
}

static const char *
ctl_fmt_uptime(char *buf, size_t len, json_t *v)
{
	json_int_t s;

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	s = json_integer_value(v);
	if (s >= 86400)
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT "d %02d:%02d:%02d", s / 86400,
			(int)(s % 86400 / 3600), (int)(s % 3600 / 60), (int)(s % 60));
	else
		snprintf(buf, len, "%02d:%02d:%02d", (int)(s / 3600), (int)(s % 3600 / 60),
			(int)(s % 60));
	return buf;
}

/* `status`: the flight recorders and the trace writer, one line each. */
static void
ctl_render_traces(FILE *f, json_t *r)
{
	static const char *const rec[] = { "recorded", "overwritten", "sampled", "suppressed",
		"ring_full", "empty" };
	static const char *const wr[] = { "calls", "frames", "files_rotated", "bytes",
		"write_errors" };
	json_t *w = json_object_get(r, "writer");
	char a[CTL_CELL_MAX], dir[300];
	size_t i;

	fprintf(f, "\ntraces");
	for (i = 0; i < sizeof(rec) / sizeof(rec[0]); i++)
		fprintf(f, "  %s %s", rec[i],
			ctl_fmt_int(a, sizeof(a), json_object_get(r, rec[i])));
	fputc('\n', f);
	if (!json_is_object(w))
		return;
	fprintf(f, "  written to %s:", ctl_fmt_str(dir, sizeof(dir), json_object_get(w, "dir")));
	for (i = 0; i < sizeof(wr) / sizeof(wr[0]); i++)
		fprintf(f, "  %s %s", wr[i], ctl_fmt_int(a, sizeof(a), json_object_get(w, wr[i])));
	fputc('\n', f);
}

int
ctl_render_status(FILE *f, json_t *data)
{
	static const char *const port_heads[] = { "PORT", "RX", "MISSED", "ERRORS", "RX PPS" };
	static const char *const lcore_heads[] = { "LCORE", "PACKETS", "PPS", "BUSY %" };
	static const char *const rings[] = { "pub_ring_full", "pub_pool_empty", "evt_ring_full",
		"evt_pool_empty" };
	char a[64], b[64], c[64];
	char(*row)[CTL_CELL_MAX];
	struct ctl_table t;
	json_t *arr, *e, *r;
	size_t i;

	if (!json_is_object(data))
		return -1;
	fprintf(f, "sipguard %s, up %s, dataplane %s\n",
		ctl_fmt_str(a, sizeof(a), json_object_get(data, "version")),
		ctl_fmt_uptime(b, sizeof(b), json_object_get(data, "uptime_s")),
		ctl_fmt_str(c, sizeof(c), json_object_get(data, "dataplane")));
	arr = json_object_get(data, "ports");
	if (json_is_array(arr) && ctl_table_init(&t, 5, "lrrrr", port_heads) == 0) {
		json_array_foreach(arr, i, e)
		{
			row = ctl_table_row(&t);
			if (row == NULL)
				break;
			ctl_fmt_str(row[0], CTL_CELL_MAX, json_object_get(e, "name"));
			ctl_fmt_int(row[1], CTL_CELL_MAX, json_object_get(e, "rx"));
			ctl_fmt_int(row[2], CTL_CELL_MAX, json_object_get(e, "missed"));
			ctl_fmt_int(row[3], CTL_CELL_MAX, json_object_get(e, "errors"));
			ctl_fmt_real(row[4], CTL_CELL_MAX, json_object_get(e, "rx_pps"), 1, 1);
		}
		fputc('\n', f);
		ctl_table_print(f, &t, "");
		ctl_table_free(&t);
	}
	arr = json_object_get(data, "lcores");
	if (json_is_array(arr) && ctl_table_init(&t, 4, "lrrr", lcore_heads) == 0) {
		json_array_foreach(arr, i, e)
		{
			row = ctl_table_row(&t);
			if (row == NULL)
				break;
			ctl_fmt_int(row[0], CTL_CELL_MAX, json_object_get(e, "lcore"));
			ctl_fmt_int(row[1], CTL_CELL_MAX, json_object_get(e, "packets"));
			ctl_fmt_real(row[2], CTL_CELL_MAX, json_object_get(e, "pps"), 1, 1);
			ctl_fmt_real(row[3], CTL_CELL_MAX, json_object_get(e, "busy_pct"), 1, 1);
		}
		fputc('\n', f);
		ctl_table_print(f, &t, "");
		ctl_table_free(&t);
	}
	r = json_object_get(data, "source");
	if (json_is_object(r)) {
		/* only what happened: a quiet box shows one line */
		fprintf(f, "\nsource  sip_messages %s\n",
			ctl_fmt_int(a, sizeof(a), json_object_get(r, "sip_messages")));
		for (i = 0; i < SG_SOURCE_FIELDS; i++) {
			e = json_object_get(r, sg_source_fields[i].name);
			if (json_is_integer(e) && json_integer_value(e) != 0)
				fprintf(f, "  %-40s %s\n", sg_source_fields[i].help,
					ctl_fmt_int(a, sizeof(a), e));
		}
	}
	r = json_object_get(data, "rings");
	if (json_is_object(r)) {
		fprintf(f, "\nrings");
		for (i = 0; i < sizeof(rings) / sizeof(rings[0]); i++)
			fprintf(f, "  %s %s", rings[i],
				ctl_fmt_int(a, sizeof(a), json_object_get(r, rings[i])));
		fputc('\n', f);
	}
	r = json_object_get(data, "traces");
	if (json_is_true(json_object_get(r, "on")))
		ctl_render_traces(f, r);
	return 0;
}

/* One value of a totals block: scalars as text, objects as "k v" pairs. */
static void
ctl_render_value(FILE *f, json_t *v)
{
	char k[CTL_CELL_MAX], s[CTL_CELL_MAX];
	const char *key;
	json_t *e;
	char *dump;
	bool first = true;

	if (!json_is_object(v)) {
		if (json_is_array(v) || json_is_object(v)) {
			dump = json_dumps(v, JSON_COMPACT);
			fputs(dump != NULL ? dump : "-", f);
			free(dump);
		} else {
			fputs(ctl_fmt_str(s, sizeof(s), v), f);
		}
		return;
	}
	if (json_object_size(v) == 0)
		fputs("-", f);
	json_object_foreach(v, key, e)
	{
		ctl_api_sanitize(k, sizeof(k), key, strlen(key));
		fprintf(f, "%s%s ", first ? "" : "  ", k);
		if (json_is_object(e) || json_is_array(e)) {
			dump = json_dumps(e, JSON_COMPACT);
			ctl_api_sanitize(s, sizeof(s), dump != NULL ? dump : "-",
				dump != NULL ? strlen(dump) : 1);
			free(dump);
			fputs(s, f);
		} else {
			fputs(ctl_fmt_str(s, sizeof(s), e), f);
		}
		first = false;
	}
}

static void
ctl_render_block(FILE *f, const char *title, json_t *obj)
{
	char k[CTL_CELL_MAX];
	const char *key;
	json_t *v;

	fprintf(f, "%s\n", title);
	json_object_foreach(obj, key, v)
	{
		ctl_api_sanitize(k, sizeof(k), key, strlen(key));
		fprintf(f, "  %-16s ", k);
		ctl_render_value(f, v);
		fputc('\n', f);
	}
}

int
ctl_render_totals(FILE *f, json_t *data)
{
	char name[CTL_CELL_MAX], title[CTL_CELL_MAX + 8];
	json_t *trunks, *v;
	const char *key;

	if (!json_is_object(data))
		return -1;
	trunks = json_object_get(data, "trunks");
	json_object_foreach(trunks, key, v)
	{
		ctl_api_sanitize(name, sizeof(name), key, strlen(key));
		snprintf(title, sizeof(title), "trunk %s", name);
		ctl_render_block(f, title, v);
	}
	v = json_object_get(data, "unmatched");
	if (json_is_object(v))
		ctl_render_block(f, "unmatched (no trunk)", v);
	return 0;
}

int
ctl_render_directive(FILE *f, json_t *d)
{
	char trunk[64], cause[64], when[32];
	json_t *ev = json_object_get(d, "evidence");
	double t = json_number_value(json_object_get(d, "time"));
	time_t secs = (time_t)t;
	struct tm tm;

	if (!json_is_object(d))
		return -1;
	ctl_fmt_str(trunk, sizeof(trunk), json_object_get(d, "trunk"));
	ctl_fmt_str(cause, sizeof(cause), json_object_get(d, "cause"));
	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(f, "%s #%-5" JSON_INTEGER_FORMAT " %-16s %-8s", when,
		json_integer_value(json_object_get(d, "seq")), trunk,
		json_string_value(json_object_get(d, "action"))
			? json_string_value(json_object_get(d, "action"))
			: "?");
	if (json_is_integer(json_object_get(d, "cps_limit")))
		fprintf(f, " %5" JSON_INTEGER_FORMAT " cps",
			json_integer_value(json_object_get(d, "cps_limit")));
	else if (json_is_integer(json_object_get(d, "duration_s")))
		fprintf(f, " %5" JSON_INTEGER_FORMAT " s  ",
			json_integer_value(json_object_get(d, "duration_s")));
	else
		fprintf(f, "          ");
	fprintf(f, "  %-22s 503 %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " (%.0f%%)", cause,
		json_integer_value(json_object_get(ev, "r503")),
		json_integer_value(json_object_get(ev, "finals")),
		100.0 * json_number_value(json_object_get(ev, "share_503")));
	if (json_is_integer(json_object_get(ev, "retry_after")))
		fprintf(f, " Retry-After %" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(ev, "retry_after")));
	if (json_is_string(json_object_get(d, "duration_from")))
		fprintf(f, ", length from %s",
			json_string_value(json_object_get(d, "duration_from")));
	if (json_is_integer(json_object_get(d, "max_concurrent")))
		fprintf(f, ", at most %" JSON_INTEGER_FORMAT " calls up",
			json_integer_value(json_object_get(d, "max_concurrent")));
	if (json_is_number(json_object_get(ev, "first_503")))
		fprintf(f, ", %.1f s after the first 503",
			t - json_number_value(json_object_get(ev, "first_503")));
	/* the carrier's words: the class that decided, else the 503s' leading one */
	if (json_is_string(json_object_get(ev, "class")))
		fprintf(f, ", %s %s%s%s%s",
			json_is_string(json_object_get(d, "class")) ? "said" : "503s",
			json_string_value(json_object_get(ev, "class")),
			json_is_string(json_object_get(ev, "rule")) ? " (rule " : "",
			json_is_string(json_object_get(ev, "rule"))
				? json_string_value(json_object_get(ev, "rule"))
				: "",
			json_is_string(json_object_get(ev, "rule")) ? ")" : "");
	if (json_is_number(json_object_get(ev, "ceiling_cps")))
		fprintf(f, ", carrier takes ~%.0f CPS (agreed %" JSON_INTEGER_FORMAT ")",
			json_number_value(json_object_get(ev, "ceiling_cps")),
			json_integer_value(json_object_get(ev, "agreed_cps")));
	fputc('\n', f);
	if (json_is_string(json_object_get(d, "advice")))
		fprintf(f, "         %s\n", json_string_value(json_object_get(d, "advice")));
	return 0;
}

int
ctl_render_fleet(FILE *f, json_t *data)
{
	json_t *redis, *accts, *a, *e;
	char edge[CTL_CELL_MAX], v[CTL_CELL_MAX], st[CTL_CELL_MAX];
	size_t i, k;

	if (!json_is_object(data))
		return -1;
	ctl_fmt_str(v, sizeof(v), json_object_get(data, "mode"));
	if (strcmp(v, "off") == 0) {
		fprintf(f, "fleet: off (no fleet.redis in the configuration)\n");
		return 0;
	}
	ctl_fmt_str(edge, sizeof(edge), json_object_get(data, "edge"));
	fprintf(f,
		"fleet edge %s: %s, rounds %" JSON_INTEGER_FORMAT " ok %" JSON_INTEGER_FORMAT
		" failed",
		edge, v, json_integer_value(json_object_get(data, "rounds_ok")),
		json_integer_value(json_object_get(data, "rounds_failed")));
	if (json_is_integer(json_object_get(data, "last_ok_age_s")))
		fprintf(f, ", last good %" JSON_INTEGER_FORMAT " s ago",
			json_integer_value(json_object_get(data, "last_ok_age_s")));
	fputc('\n', f);
	redis = json_object_get(data, "redis");
	if (json_is_object(redis)) {
		ctl_fmt_str(v, sizeof(v), json_object_get(redis, "address"));
		ctl_fmt_str(st, sizeof(st), json_object_get(redis, "last_error"));
		fprintf(f,
			"redis %s: %s, %" JSON_INTEGER_FORMAT " connects, %" JSON_INTEGER_FORMAT
			" failed, last round %" JSON_INTEGER_FORMAT " us%s%s\n",
			v,
			json_is_true(json_object_get(redis, "connected")) ? "connected"
									  : "not connected",
			json_integer_value(json_object_get(redis, "connects")),
			json_integer_value(json_object_get(redis, "connect_failures")),
			json_integer_value(json_object_get(redis, "last_round_us")),
			st[0] != '\0' && strcmp(st, "-") != 0 ? "; last error: " : "",
			st[0] != '\0' && strcmp(st, "-") != 0 ? st : "");
	}
	accts = json_object_get(data, "accounts");
	json_array_foreach(accts, i, a)
	{
		ctl_fmt_str(v, sizeof(v), json_object_get(a, "account"));
		ctl_fmt_str(st, sizeof(st), json_object_get(a, "trunk"));
		fprintf(f,
			"\naccount %s (trunk %s): limit %" JSON_INTEGER_FORMAT
			" CPS, shares up to %" JSON_INTEGER_FORMAT
			", this edge's share %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
			" edge(s)\n",
			v, st, json_integer_value(json_object_get(a, "limit_cps")),
			json_integer_value(json_object_get(a, "budget_cps")),
			json_integer_value(json_object_get(a, "share_cps")),
			json_integer_value(json_object_get(a, "known_edges")));
		fprintf(f, "  %-24s %8s %8s %6s %6s %-10s %5s\n", "EDGE", "RATE", "ASK", "SHARE",
			"LIMIT", "STATE", "AGE");
		json_array_foreach(json_object_get(a, "edges"), k, e)
		{
			char name[CTL_CELL_MAX + 2], share[16];

			ctl_fmt_str(edge, sizeof(edge), json_object_get(e, "edge"));
			snprintf(name, sizeof(name), "%s%s", edge,
				json_is_true(json_object_get(e, "self")) ? " *" : "");
			ctl_fmt_str(st, sizeof(st), json_object_get(e, "state"));
			if (json_is_integer(json_object_get(e, "share_cps")))
				snprintf(share, sizeof(share), "%" JSON_INTEGER_FORMAT,
					json_integer_value(json_object_get(e, "share_cps")));
			else
				snprintf(share, sizeof(share), "-");
			fprintf(f,
				"  %-24s %8.1f %8.1f %6s %6" JSON_INTEGER_FORMAT
				" %-10s %5" JSON_INTEGER_FORMAT "\n",
				name, json_number_value(json_object_get(e, "rate_cps")),
				json_number_value(json_object_get(e, "ask_cps")), share,
				json_integer_value(json_object_get(e, "limit_cps")), st,
				json_integer_value(json_object_get(e, "age_s")));
		}
	}
	return 0;
}

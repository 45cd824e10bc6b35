/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control API's documents built from the state (see ctl_state_json.h):
 * the trunk rows, one trunk with its series and events, the latest
 * events, the totals and the state's own counters.
 *
 * Separate from ctl_state.c, which takes publications and events in and
 * closes seconds: this side only reads the state, when a command asks,
 * and is all formatting (jansson), none of it on the path that sums the
 * workers' counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_state_int.h"
#include "ctl_state_json.h"
#include "dp_sip.h"

/*
 * JSON. Builders below never stop half-way on an allocation failure: they
 * note it in *err and the caller frees the whole document, so a partial
 * document is never returned.
 */
static void
ctl_json_set(json_t *o, const char *key, json_t *v, int *err)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*err = 1;
}

static void
ctl_json_append(json_t *a, json_t *v, int *err)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		*err = 1;
}

static json_t *
ctl_json_done(json_t *o, int err)
{
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
ctl_json_u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *
ctl_json_text(const char *s, size_t len)
{
	char buf[256];

	if (len > sizeof(buf))
		len = sizeof(buf);
	return json_stringn(buf, ctl_state_printable(buf, s, len));
}

static json_t *
ctl_json_codes(const uint64_t *codes, int *err)
{
	json_t *o = json_object();
	char key[8];
	int i;

	if (o == NULL)
		*err = 1;
	for (i = 0; i < SG_STATUS_COUNT; i++) {
		if (codes[i] == 0)
			continue;
		snprintf(key, sizeof(key), "%d", i + SG_STATUS_MIN);
		ctl_json_set(o, key, ctl_json_u64(codes[i]), err);
	}
	return o;
}

/* Final 4xx-6xx answers to INVITE by class, every class (dp_report.c). */
static json_t *
ctl_json_diagnosis(const struct sg_trunk_counters *c)
{
	json_t *o = json_object();
	int k, err = o == NULL;

	for (k = 0; k < SG_DIAG_COUNT; k++)
		ctl_json_set(o, sg_diag_class_names[k], ctl_json_u64(c->diagnosis[k]), &err);
	return ctl_json_done(o, err);
}

/*
 * The class most of a trunk's classified answers fell in over the series'
 * ten minutes (ties: the one listed first); NULL when no rule matched any.
 */
static const char *
ctl_state_leading_class(const struct ctl_series *s, uint64_t end)
{
	int64_t n, best_n = 0;
	int k, best = SG_DIAG_UNCLASSIFIED;

	for (k = SG_DIAG_UNCLASSIFIED + 1; k < SG_DIAG_COUNT; k++) {
		n = ctl_series_sum(
			s, (enum ctl_series_field)(CTL_SF_DIAG + k), end, CTL_SERIES_SLOTS);
		if (n > best_n) {
			best = k;
			best_n = n;
		}
	}
	return best == SG_DIAG_UNCLASSIFIED ? NULL : sg_diag_class_names[best];
}

/* The offline report's per-trunk object (dp_report.c), field for field. */
static json_t *
ctl_json_counters(const struct sg_trunk_counters *c)
{
	json_t *o = json_object();
	json_t *req = json_object();
	int m, err = o == NULL || req == NULL;

	for (m = 0; m < SG_M_COUNT; m++) {
		if (c->requests[m] != 0)
			ctl_json_set(req, sg_method_names[m], ctl_json_u64(c->requests[m]), &err);
	}
	ctl_json_set(o, "requests", req, &err);
	ctl_json_set(o, "responses", ctl_json_codes(c->responses, &err), &err);
	ctl_json_set(o, "retransmissions", ctl_json_u64(c->retransmissions), &err);
	ctl_json_set(o, "invite_attempts", ctl_json_u64(c->invite_attempts), &err);
	ctl_json_set(o, "invite_final", ctl_json_codes(c->invite_final, &err), &err);
	ctl_json_set(o, "malformed", ctl_json_u64(c->malformed), &err);
	ctl_json_set(o, "diagnosis", ctl_json_diagnosis(c), &err);
	return ctl_json_done(o, err);
}

static json_t *
ctl_json_reason(const struct sg_event *e)
{
	const char *proto;
	char buf[48];

	switch (e->reason_proto) {
	case DP_REASON_SIP:
		proto = "SIP";
		break;
	case DP_REASON_Q850:
		proto = "Q.850";
		break;
	case DP_REASON_OTHER:
		proto = "other";
		break;
	default:
		return json_null();
	}
	if (e->reason_cause >= 0)
		snprintf(buf, sizeof(buf), "%s;cause=%d", proto, (int)e->reason_cause);
	else
		snprintf(buf, sizeof(buf), "%s", proto);
	return json_string(buf);
}

static json_t *
ctl_json_oc_algo(const struct sg_event *e)
{
	switch (e->oc_algo) {
	case DP_OC_ALGO_LOSS:
		return json_string("loss");
	case DP_OC_ALGO_RATE:
		return json_string("rate");
	case DP_OC_ALGO_OTHER:
		return json_string("other");
	default:
		return json_null();
	}
}

static json_t *
ctl_json_event(const struct ctl_state *st, const struct sg_event *e, int with_trunk)
{
	json_t *o = json_object();
	int err = o == NULL;
	size_t len = e->call_id_len < SG_CALL_ID_MAX ? e->call_id_len : SG_CALL_ID_MAX;

	ctl_json_set(o, "time", json_real((double)e->time_ns / 1e9), &err);
	ctl_json_set(o, "call_id", ctl_json_text(e->call_id, len), &err);
	ctl_json_set(o, "status", json_integer(e->status), &err);
	ctl_json_set(o, "retry_after",
		e->retry_after >= 0 ? json_integer(e->retry_after) : json_null(), &err);
	ctl_json_set(o, "reason", ctl_json_reason(e), &err);
	ctl_json_set(o, "oc", e->oc >= 0 ? json_integer(e->oc) : json_null(), &err);
	ctl_json_set(o, "oc_algo", ctl_json_oc_algo(e), &err);
	ctl_json_set(o, "class",
		json_string(
			sg_diag_class_names[e->diag_class < SG_DIAG_COUNT ? e->diag_class
									  : SG_DIAG_UNCLASSIFIED]),
		&err);
	ctl_json_set(
		o, "rule", e->diag_rule != 0 ? json_integer(e->diag_rule - 1) : json_null(), &err);
	if (with_trunk) {
		const char *n = ctl_state_trunk_name(st, e->trunk);

		ctl_json_set(o, "trunk", json_string(n != NULL ? n : "?"), &err);
	}
	return ctl_json_done(o, err);
}

static uint64_t
ctl_state_finals_total(const struct sg_trunk_counters *c)
{
	uint64_t n = 0;
	int code;

	for (code = 200; code <= SG_STATUS_MAX; code++)
		n += c->invite_final[code - SG_STATUS_MIN];
	return n;
}

/*
 * Seconds an average over the last `want` closed seconds may divide by:
 * none before the baseline exist, so right after start the average is
 * over what was seen rather than diluted by seconds never observed.
 */
static unsigned int
ctl_state_avg_span(const struct ctl_state *st, uint64_t end, unsigned int want)
{
	if (!st->based || end <= st->baseline_s)
		return 0;
	return end - st->baseline_s < want ? (unsigned int)(end - st->baseline_s) : want;
}

static json_t *
ctl_json_row(const struct ctl_state *st, uint32_t t, uint64_t now_s)
{
	const struct ctl_state_trunk *tr = &st->trunk[t];
	const struct ctl_series *s = &tr->series;
	uint64_t end = now_s > 0 ? now_s - 1 : 0;
	unsigned int span = ctl_state_avg_span(st, end, 10);
	double ratio = ctl_series_answer_ratio(s, end, 60);
	json_t *o = json_object();
	int err = o == NULL;

	ctl_json_set(o, "name", json_string(tr->name), &err);
	if (tr->removed)
		ctl_json_set(o, "removed", json_true(), &err);
	ctl_json_set(o, "cps", json_integer(ctl_series_sum(s, CTL_SF_ATTEMPTS, end, 1)), &err);
	ctl_json_set(o, "cps_avg10",
		json_real(
			span ? (double)ctl_series_sum(s, CTL_SF_ATTEMPTS, end, span) / span : 0.0),
		&err);
	ctl_json_set(o, "cps_agreed", json_integer(tr->cps), &err);
	ctl_json_set(o, "concurrent", json_integer(ctl_state_concurrent(&tr->total)), &err);
	ctl_json_set(o, "max_concurrent", json_integer(tr->max_concurrent), &err);
	ctl_json_set(o, "r503_per_s",
		json_real(span ? (double)ctl_series_sum(s, CTL_SF_503, end, span) / span : 0.0),
		&err);
	ctl_json_set(o, "share_503_pct", json_real(100.0 * ctl_series_share_503(s, end, 60)), &err);
	ctl_json_set(o, "answer_ratio", ratio >= 0 ? json_real(ratio) : json_null(), &err);
	ctl_json_set(o, "attempts_total", ctl_json_u64(tr->total.invite_attempts), &err);
	ctl_json_set(o, "finals_total", ctl_json_u64(ctl_state_finals_total(&tr->total)), &err);
	ctl_json_set(o, "final_503_total",
		ctl_json_u64(tr->total.invite_final[503 - SG_STATUS_MIN]), &err);
	{
		const char *lead = ctl_state_leading_class(s, end);

		ctl_json_set(
			o, "leading_class", lead != NULL ? json_string(lead) : json_null(), &err);
	}
	ctl_json_set(o, "diagnosis", ctl_json_diagnosis(&tr->total), &err);
	return ctl_json_done(o, err);
}

json_t *
ctl_state_trunks_json(const struct ctl_state *st, uint64_t now_s)
{
	json_t *a = json_array();
	int err = a == NULL;
	uint32_t t;

	for (t = 0; t < st->n_trunks; t++) {
		if (!st->trunk[t].removed)
			ctl_json_append(a, ctl_json_row(st, t, now_s), &err);
	}
	if (ctl_state_has_traffic(&st->trunk[SG_UNMATCHED].total))
		ctl_json_append(a, ctl_json_row(st, SG_UNMATCHED, now_s), &err);
	if (err) {
		json_decref(a);
		return NULL;
	}
	return json_pack("{s:o}", "trunks", a);
}

static json_t *
ctl_json_series(const struct ctl_series *s, enum ctl_series_field f, uint64_t end)
{
	int64_t v[CTL_STATE_SERIES_JSON];
	json_t *a = json_array();
	int err = a == NULL;
	unsigned int i;

	ctl_series_get(s, f, end, CTL_STATE_SERIES_JSON, v);
	for (i = 0; i < CTL_STATE_SERIES_JSON; i++)
		ctl_json_append(a, json_integer(v[i]), &err);
	return ctl_json_done(a, err);
}

json_t *
ctl_state_trunk_json(const struct ctl_state *st, const char *name, uint64_t now_s)
{
	const struct ctl_state_trunk *tr;
	uint64_t end = now_s > 0 ? now_s - 1 : 0;
	json_t *o, *series, *events;
	int idx, err = 0;
	uint64_t i, n;

	idx = ctl_state_trunk_index(st, name);
	if (idx < 0)
		return NULL;
	tr = &st->trunk[idx];
	o = ctl_json_row(st, (uint32_t)idx, now_s);
	if (o == NULL)
		return NULL;
	series = json_object();
	events = json_array();
	if (series == NULL || events == NULL)
		err = 1;
	ctl_json_set(series, "cps", ctl_json_series(&tr->series, CTL_SF_ATTEMPTS, end), &err);
	ctl_json_set(series, "r503", ctl_json_series(&tr->series, CTL_SF_503, end), &err);
	ctl_json_set(
		series, "concurrent", ctl_json_series(&tr->series, CTL_SF_CONCURRENT, end), &err);
	ctl_json_set(o, "series", series, &err);
	ctl_json_set(o, "totals", ctl_json_counters(&tr->total), &err);
	n = tr->n_events < CTL_STATE_TRUNK_EVENTS ? tr->n_events : CTL_STATE_TRUNK_EVENTS;
	for (i = 0; i < n; i++) {
		const struct sg_event *e =
			&tr->events[(tr->n_events - 1 - i) % CTL_STATE_TRUNK_EVENTS];

		ctl_json_append(events, ctl_json_event(st, e, 0), &err);
	}
	ctl_json_set(o, "events", events, &err);
	return ctl_json_done(o, err);
}

json_t *
ctl_state_events_json(const struct ctl_state *st, unsigned int limit)
{
	json_t *a = json_array();
	int err = a == NULL;
	uint64_t i, n;

	n = st->n_events < CTL_STATE_EVENTS ? st->n_events : CTL_STATE_EVENTS;
	if (limit > 0 && limit < n)
		n = limit;
	for (i = 0; i < n; i++) {
		const struct sg_event *e = &st->events[(st->n_events - 1 - i) % CTL_STATE_EVENTS];

		ctl_json_append(a, ctl_json_event(st, e, 1), &err);
	}
	if (err) {
		json_decref(a);
		return NULL;
	}
	return json_pack("{s:o}", "events", a);
}

/*
 * A trunk a reload removed keeps its totals here, under its name, and is
 * listed in "removed": nothing counted is lost from the totals.
 */
json_t *
ctl_state_totals_json(const struct ctl_state *st)
{
	json_t *trunks = json_object(), *removed = json_array();
	int err = trunks == NULL || removed == NULL;
	uint32_t t;

	for (t = 0; t < st->n_trunks; t++) {
		ctl_json_set(
			trunks, st->trunk[t].name, ctl_json_counters(&st->trunk[t].total), &err);
		if (st->trunk[t].removed)
			ctl_json_append(removed, json_string(st->trunk[t].name), &err);
	}
	if (err) {
		json_decref(trunks);
		json_decref(removed);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o}", "trunks", trunks, "unmatched",
		ctl_json_counters(&st->trunk[SG_UNMATCHED].total), "removed", removed);
}

json_t *
ctl_state_stats_json(const struct ctl_state *st)
{
	struct ctl_state_stats s;

	ctl_state_get_stats(st, &s);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "pubs", (json_int_t)s.pubs,
		"stale_pubs", (json_int_t)s.stale_pubs, "events", (json_int_t)s.events,
		"late_samples", (json_int_t)s.late_samples, "invalid_pubs",
		(json_int_t)s.invalid_pubs, "invalid_events", (json_int_t)s.invalid_events,
		"late_merged", (json_int_t)s.late_merged, "baselines", (json_int_t)s.baselines);
}

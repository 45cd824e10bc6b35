/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Directive names and JSON: the one place that says how a directive looks
 * on the wire, so the sinks, the API and the CLI cannot disagree. Strings
 * that came from the network (Call-IDs) are cut to printable ASCII here:
 * the JSON stays valid and a terminal stays sane whatever a carrier sent.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_directive.h"
#include "dp_sip.h"

static const char *const ctl_action_names[CTL_ACT_COUNT] = {
	[CTL_ACT_PAUSE] = "pause",
	[CTL_ACT_THROTTLE] = "throttle",
	[CTL_ACT_RESUME] = "resume",
	[CTL_ACT_ALERT] = "alert",
	[CTL_ACT_CLEAR] = "clear",
};

static const char *const ctl_cause_names[CTL_CAUSE_COUNT] = {
	[CTL_CAUSE_OVER_LIMIT] = "over-limit",
	[CTL_CAUSE_CARRIER_TROUBLE] = "carrier-trouble",
	[CTL_CAUSE_OVERLOAD_CONTROL] = "overload-control",
	[CTL_CAUSE_PROACTIVE_CPS] = "proactive-cps",
	[CTL_CAUSE_PROACTIVE_CONCURRENCY] = "proactive-concurrency",
	[CTL_CAUSE_RECOVERED] = "recovered",
	[CTL_CAUSE_MANUAL] = "manual",
	[CTL_CAUSE_FLEET_SHARE] = "fleet-share",
	[CTL_CAUSE_FLEET_FALLBACK] = "fleet-fallback",
	[CTL_CAUSE_ROUTE_DOWN] = "route-down",
	[CTL_CAUSE_MAINTENANCE] = "maintenance",
};

static const char *const ctl_from_names[CTL_FROM_COUNT] = {
	[CTL_FROM_NONE] = "none",
	[CTL_FROM_BACKOFF] = "backoff",
	[CTL_FROM_RETRY_AFTER] = "retry-after",
};

const char *
ctl_duration_from_name(enum ctl_duration_from f)
{
	if ((unsigned int)f >= CTL_FROM_COUNT)
		return "unknown";
	return ctl_from_names[f];
}

const char *
ctl_action_name(enum ctl_action a)
{
	if ((unsigned int)a >= CTL_ACT_COUNT)
		return "unknown";
	return ctl_action_names[a];
}

const char *
ctl_cause_name(enum ctl_cause c)
{
	if ((unsigned int)c >= CTL_CAUSE_COUNT)
		return "unknown";
	return ctl_cause_names[c];
}

/* Copy at most len bytes of s, stopping at a NUL, non-printables as '?'. */
static size_t
ctl_directive_printable(char *dst, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	return i;
}

static json_t *
ctl_directive_text(const char *s, size_t max)
{
	char buf[SG_CALL_ID_MAX + SG_TRUNK_NAME_MAX + 1];

	if (max > sizeof(buf))
		max = sizeof(buf);
	return json_stringn(buf, ctl_directive_printable(buf, s, max));
}

static void
ctl_directive_set(json_t *o, const char *key, json_t *v, int *err)
{
	/* json_object_set_new steals v even on failure; NULL marks an error */
	if (v == NULL || o == NULL || json_object_set_new(o, key, v) != 0)
		*err = 1;
}

static json_t *
ctl_directive_u64(uint64_t v)
{
	/* json_int_t is signed 64-bit: counts beyond it cannot occur in practice */
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/*
 * Rates and shares rounded to what a reader needs: lines stay short, and
 * a value printed with 15 digits parses back to the very same double.
 */
static double
ctl_directive_round(double v, double scale)
{
	if (!isfinite(v))
		return 0.0;
	return round(v * scale) / scale;
}

static json_t *
ctl_directive_oc_algo(const struct ctl_evidence *ev)
{
	if (ev->oc < 0)
		return json_null();
	switch (ev->oc_algo) {
	case DP_OC_ALGO_NONE: /* loss is the default algorithm of RFC 7339 */
	case DP_OC_ALGO_LOSS:
		return json_string("loss");
	case DP_OC_ALGO_RATE:
		return json_string("rate");
	default:
		return json_string("other");
	}
}

static json_t *
ctl_directive_evidence(const struct ctl_evidence *ev, int *err)
{
	json_t *o = json_object();
	json_t *ids = json_array();
	uint32_t i, n;

	if (o == NULL || ids == NULL)
		*err = 1;
	n = ev->n_call_ids < CTL_DIRECTIVE_CALL_IDS ? ev->n_call_ids : CTL_DIRECTIVE_CALL_IDS;
	for (i = 0; i < n && ids != NULL; i++) {
		if (json_array_append_new(
			    ids, ctl_directive_text(ev->call_ids[i], sizeof(ev->call_ids[i]))) != 0)
			*err = 1;
	}
	ctl_directive_set(o, "window_s", json_integer(ev->window_s), err);
	ctl_directive_set(o, "attempts", ctl_directive_u64(ev->attempts), err);
	ctl_directive_set(o, "finals", ctl_directive_u64(ev->finals), err);
	ctl_directive_set(o, "r503", ctl_directive_u64(ev->r503), err);
	ctl_directive_set(o, "share_503", json_real(ctl_directive_round(ev->share_503, 1e4)), err);
	ctl_directive_set(o, "cps", json_real(ctl_directive_round(ev->cps, 1e2)), err);
	ctl_directive_set(o, "peak_cps", json_real(ctl_directive_round(ev->peak_cps, 1e2)), err);
	ctl_directive_set(o, "retry_after",
		ev->retry_after >= 0 ? json_integer(ev->retry_after) : json_null(), err);
	ctl_directive_set(o, "oc", ev->oc >= 0 ? json_integer(ev->oc) : json_null(), err);
	ctl_directive_set(o, "oc_algo", ctl_directive_oc_algo(ev), err);
	ctl_directive_set(o, "oc_validity_ms",
		ev->oc >= 0 && ev->oc_validity_ms >= 0 ? json_integer(ev->oc_validity_ms)
						       : json_null(),
		err);
	ctl_directive_set(o, "first_503",
		ev->first_503_ms > 0 ? json_real((double)ev->first_503_ms / 1000.0) : json_null(),
		err);
	ctl_directive_set(o, "cluster_503", json_integer(ev->cluster_503), err);
	ctl_directive_set(o, "concurrent",
		ev->concurrent >= 0 ? json_integer(ev->concurrent) : json_null(), err);
	ctl_directive_set(o, "agreed_cps", json_integer(ev->agreed_cps), err);
	ctl_directive_set(o, "ceiling_cps",
		ev->ceiling_cps > 0.0 ? json_real(ctl_directive_round(ev->ceiling_cps, 1e1))
				      : json_null(),
		err);
	ctl_directive_set(o, "ceiling_concurrent",
		ev->ceiling_concurrent > 0 ? json_integer(ev->ceiling_concurrent) : json_null(),
		err);
	ctl_directive_set(o, "hold_s",
		ev->hold_s > 0.0 ? json_real(ctl_directive_round(ev->hold_s, 1e1)) : json_null(),
		err);
	ctl_directive_set(o, "class",
		ev->diag_has && ev->diag_class < SG_DIAG_COUNT
			? json_string(sg_diag_class_names[ev->diag_class])
			: json_null(),
		err);
	ctl_directive_set(o, "rule",
		ev->diag_has && ev->diag_rule > 0 && ev->diag_rule_name[0] != '\0'
			? ctl_directive_text(ev->diag_rule_name, sizeof(ev->diag_rule_name))
			: json_null(),
		err);
	ctl_directive_set(o, "rule_index",
		ev->diag_has && ev->diag_rule > 0 ? json_integer(ev->diag_rule - 1) : json_null(),
		err);
	ctl_directive_set(o, "class_503", json_integer(ev->diag_has ? ev->class_503 : 0), err);
	ctl_directive_set(o, "call_ids", ids, err);
	return o;
}

/* What a human is asked to do about an alert, in plain words; null otherwise. */
static json_t *
ctl_directive_advice(const struct ctl_directive *d)
{
	char buf[192];

	if (d->action != CTL_ACT_ALERT)
		return json_null();
	if (d->cause == CTL_CAUSE_OVER_LIMIT && d->ev.ceiling_cps > 0.0) {
		snprintf(buf, sizeof(buf),
			"carrier takes ~%.0f CPS (agreed %u): ask the carrier to raise your "
			"capacity, or stop dialing above it",
			d->ev.ceiling_cps, d->ev.agreed_cps);
		return json_string(buf);
	}
	if (d->cause == CTL_CAUSE_ROUTE_DOWN)
		return json_string("the carrier's 503s say the route is down: throttling will not "
				   "fix it; ask the carrier, or fail over");
	if (d->cause == CTL_CAUSE_MAINTENANCE)
		return json_string("the carrier's 503s say it is in maintenance: route around it "
				   "until it is over");
	if (d->cause == CTL_CAUSE_CARRIER_TROUBLE)
		return json_string("503s at random at a low, steady rate: the carrier is in "
				   "trouble; ask it, or fail over");
	return json_null();
}

json_t *
ctl_directive_json(const struct ctl_directive *d)
{
	json_t *o;
	int err = 0;

	if (d == NULL)
		return NULL;
	o = json_object();
	if (o == NULL)
		return NULL;
	ctl_directive_set(o, "seq", ctl_directive_u64(d->seq), &err);
	ctl_directive_set(o, "time", json_real((double)d->time_ms / 1000.0), &err);
	ctl_directive_set(
		o, "trunk", ctl_directive_text(d->trunk_name, sizeof(d->trunk_name)), &err);
	ctl_directive_set(o, "action", json_string(ctl_action_name(d->action)), &err);
	/* a resume carries the agreed rate it returns to */
	ctl_directive_set(o, "cps_limit",
		(d->action == CTL_ACT_THROTTLE || d->action == CTL_ACT_RESUME) && d->cps_limit > 0
			? json_integer(d->cps_limit)
			: json_null(),
		&err);
	ctl_directive_set(o, "duration_s",
		d->action == CTL_ACT_PAUSE ? json_integer(d->duration_s) : json_null(), &err);
	ctl_directive_set(o, "duration_from",
		d->action == CTL_ACT_PAUSE && d->duration_from != CTL_FROM_NONE
			? json_string(ctl_duration_from_name(d->duration_from))
			: json_null(),
		&err);
	ctl_directive_set(o, "max_concurrent",
		d->action == CTL_ACT_THROTTLE && d->max_concurrent > 0
			? json_integer(d->max_concurrent)
			: json_null(),
		&err);
	ctl_directive_set(o, "cause", json_string(ctl_cause_name(d->cause)), &err);
	/* the diagnosis class that decided this directive; null: the rates did */
	ctl_directive_set(o, "class",
		d->ev.diag_decided > 0 && d->ev.diag_decided < SG_DIAG_COUNT
			? json_string(sg_diag_class_names[d->ev.diag_decided])
			: json_null(),
		&err);
	ctl_directive_set(o, "advice", ctl_directive_advice(d), &err);
	ctl_directive_set(o, "evidence", ctl_directive_evidence(&d->ev, &err), &err);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
ctl_directive_line(const struct ctl_directive *d, char *buf, size_t len)
{
	json_t *o;
	char *s;
	size_t n;

	if (buf == NULL || len == 0)
		return -1;
	o = ctl_directive_json(d);
	if (o == NULL)
		return -1;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(o);
	if (s == NULL)
		return -1;
	n = strlen(s);
	if (n >= len || n > INT32_MAX) {
		free(s);
		return -1;
	}
	memcpy(buf, s, n + 1);
	free(s);
	return (int)n;
}

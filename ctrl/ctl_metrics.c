/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus exposition (see ctl_metrics.h). Family-major: each family's
 * HELP and TYPE come once, followed by all its samples, as the text format
 * requires. Counters read from the dataplane's shared memory are loaded
 * with 64-bit atomic loads: the workers write them while we read.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_metrics.h"

#define CTL_METRICS_CHUNK 65536

void
ctl_metrics_count_directive(struct ctl_metrics_directives *c, const struct ctl_directive *d)
{
	if (d->trunk >= SG_MAX_TRUNKS || (unsigned int)d->action >= CTL_ACT_COUNT ||
		(unsigned int)d->cause >= CTL_CAUSE_COUNT)
		return;
	c->n[d->trunk][d->action][d->cause]++;
}

void
ctl_metrics_buf_free(struct ctl_metrics_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int
buf_reserve(struct ctl_metrics_buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + more + 1 <= b->cap)
		return 0;
	cap = b->cap > 0 ? b->cap : CTL_METRICS_CHUNK;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void __attribute__((format(printf, 2, 3)))
put(struct ctl_metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (buf_reserve(b, 256) != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		if (buf_reserve(b, (size_t)n) != 0)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* A label value: backslash, double quote and line feed escaped. */
static void
put_value(struct ctl_metrics_buf *b, const char *s)
{
	size_t n = strlen(s), i;

	if (buf_reserve(b, 2 * n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '"') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = s[i];
		} else if (s[i] == '\n') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = 'n';
		} else {
			b->p[b->len++] = s[i];
		}
	}
	b->p[b->len] = '\0';
}

static void
family(struct ctl_metrics_buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{trunk="T"} v, with an optional second label (key NULL: none). */
static void
sample_trunk(struct ctl_metrics_buf *b, const char *name, const char *trunk, const char *key,
	const char *val, uint64_t v)
{
	put(b, "%s{trunk=\"", name);
	put_value(b, trunk);
	if (key != NULL) {
		put(b, "\",%s=\"", key);
		put_value(b, val);
	}
	put(b, "\"} %" PRIu64 "\n", v);
}

static uint64_t
ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* The trunk slots shown: the configured ones, then unmatched. */
static unsigned int
trunk_slots(const struct ctl_state *st, uint32_t *slots)
{
	uint32_t n = ctl_state_n_trunks(st), i;

	for (i = 0; i < n; i++)
		slots[i] = i;
	slots[n] = SG_UNMATCHED;
	return n + 1;
}

enum trunk_scalar {
	TS_ATTEMPTS,
	TS_RETRANS,
	TS_MALFORMED,
	TS_OPENED,
	TS_CLOSED,
	TS_ENDED,
	TS_SECONDS,
	TS_COUNT
};

static const struct {
	const char *name;
	const char *help;
} trunk_scalars[TS_COUNT] = {
	[TS_ATTEMPTS] = { "sipguard_trunk_invite_attempts_total",
		"New INVITE transactions toward the trunk." },
	[TS_RETRANS] = { "sipguard_trunk_retransmissions_total",
		"SIP messages seen again within the retransmission window." },
	[TS_MALFORMED] = { "sipguard_trunk_malformed_total",
		"Messages on the trunk without a valid start line, Call-ID or CSeq." },
	[TS_OPENED] = { "sipguard_trunk_dialogs_opened_total",
		"Calls established: INVITEs answered 2xx." },
	[TS_CLOSED] = { "sipguard_trunk_dialogs_closed_total",
		"Calls ended: BYE answered, timed out or evicted." },
	/* their ratio is the mean holding time a concurrency cap is kept with */
	[TS_ENDED] = { "sipguard_trunk_calls_ended_by_bye_total",
		"Calls ended by a BYE, whose length is known." },
	[TS_SECONDS] = { "sipguard_trunk_call_seconds_total",
		"Summed length of the calls ended by a BYE (2xx to BYE, whole seconds)." },
};

static uint64_t
trunk_scalar(const struct sg_trunk_counters *c, enum trunk_scalar s)
{
	switch (s) {
	case TS_ATTEMPTS:
		return c->invite_attempts;
	case TS_RETRANS:
		return c->retransmissions;
	case TS_MALFORMED:
		return c->malformed;
	case TS_OPENED:
		return c->dialogs_opened;
	case TS_CLOSED:
		return c->dialogs_closed;
	case TS_ENDED:
		return c->calls_ended;
	case TS_SECONDS:
		return c->call_seconds;
	default:
		return 0;
	}
}

static void
render_codes(struct ctl_metrics_buf *b, const struct ctl_state *st, const uint32_t *slots,
	unsigned int n, const char *name, const char *help, int finals)
{
	unsigned int i, k;
	char code[8];

	family(b, name, "counter", help);
	for (i = 0; i < n; i++) {
		const struct sg_trunk_counters *c = ctl_state_total(st, slots[i]);
		const uint64_t *a = finals ? c->invite_final : c->responses;

		for (k = 0; k < SG_STATUS_COUNT; k++) {
			if (a[k] == 0)
				continue;
			snprintf(code, sizeof(code), "%u", k + SG_STATUS_MIN);
			sample_trunk(
				b, name, ctl_state_trunk_name(st, slots[i]), "code", code, a[k]);
		}
	}
}

static void
render_trunks(const struct ctl_metrics_view *v, struct ctl_metrics_buf *b)
{
	static const char *const states[] = {
		[CTL_POLICY_NORMAL] = "normal",
		[CTL_POLICY_PAUSED] = "paused",
		[CTL_POLICY_THROTTLED] = "throttled",
	};
	const struct ctl_state *st = v->st;
	uint32_t slots[SG_TRUNK_SLOTS], nt = ctl_state_n_trunks(st);
	unsigned int n = trunk_slots(st, slots), i, m, s, a, k;
	const char *name;

	name = "sipguard_trunk_requests_total";
	family(b, name, "counter", "SIP requests on the trunk, by method.");
	for (i = 0; i < n; i++) {
		const struct sg_trunk_counters *c = ctl_state_total(st, slots[i]);

		for (m = 0; m < SG_M_COUNT; m++) {
			if (c->requests[m] != 0)
				sample_trunk(b, name, ctl_state_trunk_name(st, slots[i]), "method",
					sg_method_names[m], c->requests[m]);
		}
	}
	render_codes(b, st, slots, n, "sipguard_trunk_responses_total",
		"SIP responses on the trunk, by status code (codes that occurred).", 0);
	render_codes(b, st, slots, n, "sipguard_trunk_invite_final_responses_total",
		"Final responses to INVITE from the trunk, by status code (codes that occurred).",
		1);
	for (s = 0; s < TS_COUNT; s++) {
		family(b, trunk_scalars[s].name, "counter", trunk_scalars[s].help);
		for (i = 0; i < n; i++)
			sample_trunk(b, trunk_scalars[s].name, ctl_state_trunk_name(st, slots[i]),
				NULL, NULL, trunk_scalar(ctl_state_total(st, slots[i]), s));
	}
	name = "sipguard_trunk_concurrent_calls";
	family(b, name, "gauge", "Calls established and not yet ended.");
	for (i = 0; i < n; i++) {
		const struct sg_trunk_counters *c = ctl_state_total(st, slots[i]);
		uint64_t open = c->dialogs_opened > c->dialogs_closed
			? c->dialogs_opened - c->dialogs_closed
			: 0;

		sample_trunk(b, name, ctl_state_trunk_name(st, slots[i]), NULL, NULL, open);
	}
	if (v->pol != NULL) {
		name = "sipguard_trunk_policy_state";
		family(b, name, "gauge",
			"Rate-limit policy state of the trunk: 1 for the current state.");
		for (i = 0; i < nt; i++) {
			enum ctl_policy_state cur = ctl_policy_trunk_state(v->pol, i);

			for (k = 0; k < sizeof(states) / sizeof(states[0]); k++)
				sample_trunk(b, name, ctl_state_trunk_name(st, i), "state",
					states[k], cur == (enum ctl_policy_state)k);
		}
		name = "sipguard_trunk_alerting";
		family(b, name, "gauge", "1 while the policy holds a carrier-trouble alert.");
		for (i = 0; i < nt; i++)
			sample_trunk(b, name, ctl_state_trunk_name(st, i), NULL, NULL,
				ctl_policy_trunk_alerting(v->pol, i) != 0);
		name = "sipguard_trunk_limit_cps";
		family(b, name, "gauge",
			"New calls per second the dialers may make now: the throttle, 0 while "
			"paused, the agreed rate otherwise.");
		for (i = 0; i < nt; i++) {
			json_t *pj = ctl_policy_trunk_json(v->pol, i);
			uint64_t agreed =
				(uint64_t)json_integer_value(json_object_get(pj, "agreed_cps"));
			enum ctl_policy_state cur = ctl_policy_trunk_state(v->pol, i);
			uint64_t lim = cur == CTL_POLICY_PAUSED ? 0
				: cur == CTL_POLICY_THROTTLED	? ctl_policy_trunk_limit(v->pol, i)
								: agreed;

			sample_trunk(b, name, ctl_state_trunk_name(st, i), NULL, NULL, lim);
			json_decref(pj);
		}
		name = "sipguard_trunk_agreed_cps";
		family(b, name, "gauge", "Calls per second agreed with the carrier.");
		for (i = 0; i < nt; i++) {
			json_t *pj = ctl_policy_trunk_json(v->pol, i);

			sample_trunk(b, name, ctl_state_trunk_name(st, i), NULL, NULL,
				(uint64_t)json_integer_value(json_object_get(pj, "agreed_cps")));
			json_decref(pj);
		}
	}
	if (v->dirs != NULL) {
		name = "sipguard_trunk_directives_total";
		family(b, name, "counter",
			"Rate-limit directives emitted, by action and cause (pairs that "
			"occurred).");
		for (i = 0; i < nt && i < SG_MAX_TRUNKS; i++) {
			for (a = 0; a < CTL_ACT_COUNT; a++) {
				for (k = 0; k < CTL_CAUSE_COUNT; k++) {
					uint64_t c = v->dirs->n[i][a][k];

					if (c == 0)
						continue;
					put(b, "%s{trunk=\"", name);
					put_value(b, ctl_state_trunk_name(st, i));
					put(b, "\",action=\"");
					put_value(b, ctl_action_name((enum ctl_action)a));
					put(b, "\",cause=\"");
					put_value(b, ctl_cause_name((enum ctl_cause)k));
					put(b, "\"} %" PRIu64 "\n", c);
				}
			}
		}
	}
}

static void
render_source(const struct sg_shm *shm, struct ctl_metrics_buf *b)
{
	struct sg_source_counters src;
	const uint64_t *w;
	uint64_t *d = (uint64_t *)&src;
	unsigned int i, k, nw = shm->n_workers < SG_MAX_WORKERS ? shm->n_workers : SG_MAX_WORKERS;
	char name[128];

	memset(&src, 0, sizeof(src));
	for (i = 0; i < nw; i++) {
		w = (const uint64_t *)&shm->workers[i].src;
		for (k = 0; k < sizeof(src) / sizeof(uint64_t); k++)
			d[k] += ld(&w[k]);
	}
	family(b, "sipguard_source_packets_total", "counter", "Frames received by the workers.");
	put(b, "sipguard_source_packets_total %" PRIu64 "\n", src.packets);
	family(b, "sipguard_source_bytes_total", "counter", "Bytes of the frames received.");
	put(b, "sipguard_source_bytes_total %" PRIu64 "\n", src.bytes);
	family(b, "sipguard_source_sip_messages_total", "counter",
		"SIP messages with a valid start line, Call-ID and CSeq.");
	put(b, "sipguard_source_sip_messages_total %" PRIu64 "\n", src.sip_messages);
	family(b, "sipguard_source_sip_malformed_total", "counter",
		"SIP messages counted malformed.");
	put(b, "sipguard_source_sip_malformed_total %" PRIu64 "\n", src.sip_malformed);
	family(b, "sipguard_source_drops_total", "counter",
		"Frames that did not become a message of their own, by reason.");
	for (k = 0; k < SG_DROP_COUNT; k++)
		put(b, "sipguard_source_drops_total{reason=\"%s\"} %" PRIu64 "\n", sg_drop_keys[k],
			src.drops[k]);
	/* reassembly, decapsulation and HEP: the table every view prints from */
	for (k = 0; k < SG_SOURCE_FIELDS; k++) {
		snprintf(name, sizeof(name), "sipguard_source_%s_total", sg_source_fields[k].name);
		family(b, name, "counter", sg_source_fields[k].help);
		put(b, "%s %" PRIu64 "\n", name, sg_source_field_get(&src, k));
	}
}

enum worker_scalar {
	WS_PACKETS,
	WS_BYTES,
	WS_PUBS,
	WS_EVENTS,
	WS_RETRANS_EVICT,
	WS_DIALOG_EVICT,
	WS_COUNT
};

static const struct {
	const char *name;
	const char *help;
	size_t off;
} worker_scalars[WS_COUNT] = {
	[WS_PACKETS] = { "sipguard_worker_packets_total", "Frames the worker received.",
		offsetof(struct sg_worker_stats, packets) },
	[WS_BYTES] = { "sipguard_worker_bytes_total", "Bytes the worker received.",
		offsetof(struct sg_worker_stats, bytes) },
	[WS_PUBS] = { "sipguard_worker_publications_total",
		"Counter publications sent to the control plane.",
		offsetof(struct sg_worker_stats, pubs) },
	[WS_EVENTS] = { "sipguard_worker_events_total",
		"5xx/6xx answer events sent to the control plane.",
		offsetof(struct sg_worker_stats, events) },
	[WS_RETRANS_EVICT] = { "sipguard_worker_retrans_evictions_total",
		"Retransmission entries pushed out before they expired.",
		offsetof(struct sg_worker_stats, retrans_evictions) },
	[WS_DIALOG_EVICT] = { "sipguard_worker_dialog_evictions_total",
		"Dialogs pushed out of a full dialog table.",
		offsetof(struct sg_worker_stats, dialog_evictions) },
};

/* The flight recorders' counters (sg_trace_stats), one family each. */
static const struct {
	const char *name, *help;
	size_t off;
} trace_scalars[] = {
#define SG_TRACE_METRIC(f, h)                                     \
	{                                                         \
		"sipguard_trace_" #f "_total", h,                 \
			offsetof(struct sg_worker_stats, trace) + \
			offsetof(struct sg_trace_stats, f)        \
	}
	SG_TRACE_METRIC(recorded, "Frames written into the worker's flight recorder."),
	SG_TRACE_METRIC(overwritten, "Recorded frames pushed out by newer ones."),
	SG_TRACE_METRIC(unframed,
		"SIP messages whose frames were not held (TCP in IP fragments): not recorded."),
	SG_TRACE_METRIC(held, "Fragments and TCP segments recorded for the message they carry."),
	SG_TRACE_METRIC(claimed, "Held frames claimed by the message they carry."),
	SG_TRACE_METRIC(copied, "Held frames that end one message and start the next: copied."),
	SG_TRACE_METRIC(unclaimed, "Held frames overwritten before any message claimed them."),
	SG_TRACE_METRIC(index_evicted, "Chains dropped from a full set of the Call-ID index."),
	SG_TRACE_METRIC(sampled, "Failed calls handed over to be traced."),
	SG_TRACE_METRIC(suppressed, "Failed calls over the per-trunk sample rate: not traced."),
	SG_TRACE_METRIC(ring_full, "Failed calls not traced: hand-over ring or pool full."),
	SG_TRACE_METRIC(frames_out, "Frames handed over for traces, late ones included."),
	SG_TRACE_METRIC(linger_frames, "Frames of a traced call seen after its failure."),
	SG_TRACE_METRIC(linger_lost, "Late frames of a traced call lost: ring or pool full."),
	SG_TRACE_METRIC(
		linger_evicted, "Traced calls whose late frames stopped early: table full."),
	SG_TRACE_METRIC(empty, "Failed calls with no frame in the recorder."),
#undef SG_TRACE_METRIC
};

static void
render_traces(const struct sg_shm *shm, unsigned int nw, struct ctl_metrics_buf *b)
{
	unsigned int i, k;

	for (k = 0; k < sizeof(trace_scalars) / sizeof(trace_scalars[0]); k++) {
		family(b, trace_scalars[k].name, "counter", trace_scalars[k].help);
		for (i = 0; i < nw; i++)
			put(b, "%s{worker=\"%u\"} %" PRIu64 "\n", trace_scalars[k].name, i,
				ld((const uint64_t *)((const char *)&shm->workers[i] +
					trace_scalars[k].off)));
	}
}

static void
render_workers(const struct ctl_metrics_view *v, struct ctl_metrics_buf *b)
{
	static const struct {
		const char *ring, *reason;
		size_t off;
	} drops[] = {
		{ "counters", "ring_full", offsetof(struct sg_worker_stats, pub_ring_full) },
		{ "counters", "pool_empty", offsetof(struct sg_worker_stats, pub_pool_empty) },
		{ "events", "ring_full", offsetof(struct sg_worker_stats, evt_ring_full) },
		{ "events", "pool_empty", offsetof(struct sg_worker_stats, evt_pool_empty) },
	};
	const struct sg_shm *shm = v->shm;
	unsigned int i, k, nw = shm->n_workers < SG_MAX_WORKERS ? shm->n_workers : SG_MAX_WORKERS;
	double hz = shm->tsc_hz > 0 ? (double)shm->tsc_hz : 1.0;

	family(b, "sipguard_worker_info", "gauge", "Worker lcore, port and queue; always 1.");
	for (i = 0; i < nw; i++)
		put(b,
			"sipguard_worker_info{worker=\"%u\",lcore=\"%u\",port=\"%u\",queue=\"%u\"} "
			"1\n",
			i, shm->worker_lcore[i], shm->worker_port[i], shm->worker_queue[i]);
	for (k = 0; k < WS_COUNT; k++) {
		family(b, worker_scalars[k].name, "counter", worker_scalars[k].help);
		for (i = 0; i < nw; i++)
			put(b, "%s{worker=\"%u\"} %" PRIu64 "\n", worker_scalars[k].name, i,
				ld((const uint64_t *)((const char *)&shm->workers[i] +
					worker_scalars[k].off)));
	}
	family(b, "sipguard_worker_busy_seconds_total", "counter",
		"Time the worker spent on non-empty bursts.");
	for (i = 0; i < nw; i++)
		put(b, "sipguard_worker_busy_seconds_total{worker=\"%u\"} %.9g\n", i,
			(double)ld(&shm->workers[i].busy_cycles) / hz);
	family(b, "sipguard_worker_seconds_total", "counter",
		"Time the worker has been polling (busy or not).");
	for (i = 0; i < nw; i++)
		put(b, "sipguard_worker_seconds_total{worker=\"%u\"} %.9g\n", i,
			(double)ld(&shm->workers[i].total_cycles) / hz);
	if (v->worker_busy != NULL) {
		family(b, "sipguard_worker_busy_ratio", "gauge",
			"Share of the last second the worker spent on packets, 0 to 1.");
		for (i = 0; i < nw; i++)
			put(b, "sipguard_worker_busy_ratio{worker=\"%u\"} %.6f\n", i,
				v->worker_busy[i]);
	}
	family(b, "sipguard_worker_ring_drops_total", "counter",
		"Publications (ring counters) and events (ring events) that found no room.");
	for (i = 0; i < nw; i++) {
		for (k = 0; k < sizeof(drops) / sizeof(drops[0]); k++)
			put(b,
				"sipguard_worker_ring_drops_total{worker=\"%u\",ring=\"%s\","
				"reason=\"%s\"} %" PRIu64 "\n",
				i, drops[k].ring, drops[k].reason,
				ld((const uint64_t *)((const char *)&shm->workers[i] +
					drops[k].off)));
	}
	render_traces(shm, nw, b);
}

static void
render_ports(const struct sg_shm *shm, struct ctl_metrics_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} f[] = {
		{ "sipguard_port_rx_packets_total", "Frames the port received.",
			offsetof(struct sg_port_stats, rx_packets) },
		{ "sipguard_port_rx_bytes_total", "Bytes the port received.",
			offsetof(struct sg_port_stats, rx_bytes) },
		{ "sipguard_port_rx_missed_total",
			"Frames the port dropped for want of room (NIC or kernel ring full).",
			offsetof(struct sg_port_stats, rx_missed) },
		{ "sipguard_port_rx_errors_total", "Erroneous frames received.",
			offsetof(struct sg_port_stats, rx_errors) },
		{ "sipguard_port_rx_nombuf_total", "Receive failures: mbuf pool empty.",
			offsetof(struct sg_port_stats, rx_nombuf) },
	};
	unsigned int i, k, np = shm->n_ports < SG_MAX_PORTS ? shm->n_ports : SG_MAX_PORTS;
	char pname[sizeof(shm->ports[0].name)];

	for (k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		family(b, f[k].name, "counter", f[k].help);
		for (i = 0; i < np; i++) {
			snprintf(pname, sizeof(pname), "%s", shm->ports[i].name);
			put(b, "%s{port=\"", f[k].name);
			put_value(b, pname);
			put(b, "\"} %" PRIu64 "\n",
				ld((const uint64_t *)((const char *)&shm->ports[i] + f[k].off)));
		}
	}
}

static void
render_sinks(const json_t *sinks, struct ctl_metrics_buf *b)
{
	static const struct {
		const char *key, *name, *type, *help;
	} f[] = {
		{ "sent", "sipguard_sink_sent_total", "counter", "Directives delivered." },
		{ "failed", "sipguard_sink_failed_total", "counter",
			"Delivery attempts that failed." },
		{ "retried", "sipguard_sink_retried_total", "counter", "Deliveries retried." },
		{ "dropped", "sipguard_sink_dropped_total", "counter",
			"Directives given up on (queue full or out of tries)." },
		{ "pending", "sipguard_sink_pending", "gauge", "Directives waiting for delivery." },
	};
	unsigned int k;
	size_t i;
	json_t *s;

	for (k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		family(b, f[k].name, f[k].type, f[k].help);
		json_array_foreach((json_t *)sinks, i, s)
		{
			const char *sink = json_string_value(json_object_get(s, "sink"));
			const char *target = json_string_value(json_object_get(s, "target"));
			json_int_t n = json_integer_value(json_object_get(s, f[k].key));

			put(b, "%s{sink=\"", f[k].name);
			put_value(b, sink != NULL ? sink : "");
			put(b, "\",target=\"");
			put_value(b, target != NULL ? target : "");
			put(b, "\"} %" PRIu64 "\n", n > 0 ? (uint64_t)n : 0);
		}
	}
}

int
ctl_metrics_render(const struct ctl_metrics_view *v, struct ctl_metrics_buf *b)
{
	family(b, "sipguard_build_info", "gauge", "sipguard's version; always 1.");
	put(b, "sipguard_build_info{version=\"");
	put_value(b, v->version != NULL ? v->version : "");
	put(b, "\"} 1\n");
	family(b, "sipguard_dataplane_up", "gauge",
		"1 while the dataplane runs and the control plane reads it.");
	put(b, "sipguard_dataplane_up %d\n", v->dataplane_up ? 1 : 0);
	if (v->ctrl_start_ns != 0) {
		family(b, "sipguard_ctrl_start_time_seconds", "gauge",
			"When the control plane started, seconds since the epoch.");
		put(b, "sipguard_ctrl_start_time_seconds %.3f\n", (double)v->ctrl_start_ns / 1e9);
	}
	if (v->st != NULL)
		render_trunks(v, b);
	if (v->shm != NULL) {
		family(b, "sipguard_dataplane_start_time_seconds", "gauge",
			"When the dataplane started, seconds since the epoch.");
		put(b, "sipguard_dataplane_start_time_seconds %.3f\n",
			(double)v->shm->start_time_ns / 1e9);
		render_source(v->shm, b);
		render_workers(v, b);
		render_ports(v->shm, b);
	}
	if (v->sinks != NULL)
		render_sinks(v->sinks, b);
	if (b->p == NULL && buf_reserve(b, 0) == 0)
		b->p[0] = '\0';
	return b->oom ? -1 : 0;
}

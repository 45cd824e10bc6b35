/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipguard-ctrl's control API commands (see ctl_cmds.h): each returns a
 * new reference or NULL with *status. Text a request brings (a trunk
 * name, a Call-ID) is sanitised before it goes back in an error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl_api.h"
#include "ctl_cmds.h"
#include "ctl_ctx.h"
#include "ctl_engine.h"
#include "ctl_fleet.h"
#include "ctl_redis.h"
#include "ctl_reload.h"
#include "ctl_server.h"
#include "ctl_sink.h"
#include "ctl_state.h"
#include "ctl_state_json.h"
#include "ctl_trace.h"
#include "sg_shared.h"

/*
 * The recorders' and the writer's counters: what was recorded, sampled,
 * suppressed and lost on the way, and what reached the disk.
 */
static json_t *
traces_json(const struct ctl_ctx *c)
{
	struct sg_trace_stats sum;
	json_t *o;
	unsigned int i;

	memset(&sum, 0, sizeof(sum));
	for (i = 0; i < c->shm->n_workers; i++) {
		const struct sg_trace_stats *t = &c->shm->workers[i].trace;

		sum.recorded += t->recorded;
		sum.overwritten += t->overwritten;
		sum.unframed += t->unframed;
		sum.sampled += t->sampled;
		sum.suppressed += t->suppressed;
		sum.ring_full += t->ring_full;
		sum.frames_out += t->frames_out;
		sum.linger_frames += t->linger_frames;
		sum.linger_lost += t->linger_lost;
		sum.empty += t->empty;
		sum.linger_evicted += t->linger_evicted;
		sum.held += t->held;
		sum.claimed += t->claimed;
		sum.copied += t->copied;
		sum.unclaimed += t->unclaimed;
		sum.index_evicted += t->index_evicted;
	}
	o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "on",
		c->shm->traces && c->trace != NULL, "recorded", (json_int_t)sum.recorded,
		"overwritten", (json_int_t)sum.overwritten, "unframed", (json_int_t)sum.unframed,
		"sampled", (json_int_t)sum.sampled, "suppressed", (json_int_t)sum.suppressed,
		"ring_full", (json_int_t)sum.ring_full, "frames_out", (json_int_t)sum.frames_out,
		"linger_frames", (json_int_t)sum.linger_frames, "linger_lost",
		(json_int_t)sum.linger_lost, "empty", (json_int_t)sum.empty, "linger_evicted",
		(json_int_t)sum.linger_evicted);
	if (o != NULL)
		json_object_update_new(o,
			json_pack("{s:I, s:I, s:I, s:I, s:I}", "held", (json_int_t)sum.held,
				"claimed", (json_int_t)sum.claimed, "copied",
				(json_int_t)sum.copied, "unclaimed", (json_int_t)sum.unclaimed,
				"index_evicted", (json_int_t)sum.index_evicted));
	if (o != NULL && c->trace != NULL)
		json_object_set_new(o, "writer", ctl_trace_stats_json(c->trace));
	return o;
}

static json_t *
cmd_status(void *arg, json_t *args, int *status, char *err, size_t errlen)
{
	json_t *doc;
	struct ctl_ctx *c = arg;
	const struct sg_shm *shm = c->shm;
	json_t *ports = json_array(), *lcores = json_array(), *source = json_object();
	uint64_t pub_full = 0, pub_empty = 0, evt_full = 0, evt_empty = 0;
	struct sg_source_counters src;
	unsigned int i;

	(void)args;
	(void)status;
	(void)err;
	(void)errlen;
	for (i = 0; i < shm->n_ports; i++) {
		const struct sg_port_stats *p = &shm->ports[i];

		json_array_append_new(ports,
			json_pack("{s:s, s:I, s:I, s:I, s:I, s:f}", "name", p->name, "rx",
				(json_int_t)p->rx_packets, "missed", (json_int_t)p->rx_missed,
				"errors", (json_int_t)p->rx_errors, "nombuf",
				(json_int_t)p->rx_nombuf, "rx_pps", c->port_pps[i]));
	}
	memset(&src, 0, sizeof(src));
	for (i = 0; i < shm->n_workers; i++) {
		const struct sg_worker_stats *w = &shm->workers[i];

		sg_source_counters_add(&src, &w->src);
		json_array_append_new(lcores,
			json_pack("{s:i, s:i, s:i, s:I, s:f, s:f, s:I, s:I, s:I, s:I}", "lcore",
				(int)shm->worker_lcore[i], "port", (int)shm->worker_port[i],
				"queue", (int)shm->worker_queue[i], "packets",
				(json_int_t)w->packets, "pps", c->w_pps[i], "busy_pct",
				c->w_busy[i], "retrans_evictions", (json_int_t)w->retrans_evictions,
				"dialog_evictions", (json_int_t)w->dialog_evictions, "trunks_gen",
				(json_int_t)__atomic_load_n(&w->trunks_gen, __ATOMIC_ACQUIRE),
				"trunks_from_packet", (json_int_t)w->trunks_from_packet));
		pub_full += w->pub_ring_full;
		pub_empty += w->pub_pool_empty;
		evt_full += w->evt_ring_full;
		evt_empty += w->evt_pool_empty;
	}
	/* reassembly, decapsulation and HEP, summed over the workers */
	json_object_set_new(source, "sip_messages", json_integer((json_int_t)src.sip_messages));
	for (i = 0; i < SG_SOURCE_FIELDS; i++)
		json_object_set_new(source, sg_source_fields[i].name,
			json_integer((json_int_t)sg_source_field_get(&src, i)));
	doc = json_pack("{s:s, s:I, s:I, s:s, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:o, "
			"s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}}",
		"version", SG_VERSION, "uptime_s",
		(json_int_t)((ctl_wall_ns() - shm->start_time_ns) / 1000000000ull), "ctrl_uptime_s",
		(json_int_t)((ctl_wall_ns() - c->start_ns) / 1000000000ull), "dataplane",
		c->dataplane_alive ? "running" : "stopped", "ports", ports, "lcores", lcores,
		"source", source, "rings", "pub_ring_full", (json_int_t)pub_full, "pub_pool_empty",
		(json_int_t)pub_empty, "evt_ring_full", (json_int_t)evt_full, "evt_pool_empty",
		(json_int_t)evt_empty, "ctrl", ctl_state_stats_json(c->st), "sinks",
		ctl_sinks_stats_json(c->sinks), "reload", "generation", (json_int_t)shm->trunks_gen,
		"applied", (json_int_t)c->rl.applied, "refused", (json_int_t)c->rl.refused, "clock",
		"slots", (json_int_t)c->clock_slots, "slots_on_wall_clock",
		(json_int_t)c->clock_wall, "lag_max_ms", (json_int_t)c->clock_lag_max_ms);
	if (doc != NULL)
		json_object_set_new(doc, "traces", traces_json(c));
	return doc;
}

/* A trunk row gets the policy's view: state, current limit, alerting. */
static void
add_policy(struct ctl_ctx *c, json_t *row)
{
	const char *name = json_string_value(json_object_get(row, "name"));
	int t = name != NULL ? ctl_state_trunk_index(c->st, name) : -1;
	json_t *p;

	if (t < 0 || (uint32_t)t >= c->shm->n_trunks)
		return;
	p = ctl_policy_trunk_json(ctl_engine_policy(c->eng), (uint32_t)t);
	if (p == NULL)
		return;
	json_object_set(row, "state", json_object_get(p, "state"));
	json_object_set(row, "limit_cps", json_object_get(p, "limit_cps"));
	json_object_set(row, "alerting", json_object_get(p, "alerting"));
	json_object_set_new(row, "policy", p);
}

static json_t *
cmd_trunks(void *arg, json_t *args, int *status, char *err, size_t errlen)
{
	struct ctl_ctx *c = arg;
	json_t *doc, *row;
	size_t i;

	(void)args;
	(void)status;
	(void)err;
	(void)errlen;
	doc = ctl_state_trunks_json(c->st, ctl_wall_ns() / 1000000000ull);
	json_array_foreach(json_object_get(doc, "trunks"), i, row) add_policy(c, row);
	return doc;
}

static json_t *
cmd_trunk(void *arg, json_t *args, int *status, char *err, size_t errlen)
{
	struct ctl_ctx *c = arg;
	const char *name = json_string_value(json_object_get(args, "name"));
	json_t *doc;

	if (name == NULL) {
		*status = EINVAL;
		snprintf(err, errlen, "trunk: missing \"name\"");
		return NULL;
	}
	doc = ctl_state_trunk_json(c->st, name, ctl_wall_ns() / 1000000000ull);
	if (doc != NULL)
		add_policy(c, doc);
	if (doc == NULL) {
		char safe[64];

		ctl_api_sanitize(safe, sizeof(safe), name, strlen(name));
		*status = ENOENT;
		snprintf(err, errlen, "unknown trunk \"%s\"", safe);
	}
	return doc;
}

static json_t *
cmd_events(void *arg, json_t *args, int *status, char *err, size_t errlen)
{
	struct ctl_ctx *c = arg;
	json_t *n = json_object_get(args, "limit");
	json_int_t limit = 50;

	if (n != NULL) {
		if (!json_is_integer(n) || json_integer_value(n) < 0 ||
			json_integer_value(n) > CTL_STATE_EVENTS) {
			*status = EINVAL;
			snprintf(err, errlen, "events: \"limit\" must be 0..%d", CTL_STATE_EVENTS);
			return NULL;
		}
		limit = json_integer_value(n);
	}
	return ctl_state_events_json(c->st, (unsigned int)limit);
}

static json_t *
cmd_totals(void *arg, json_t *args, int *status, char *err, size_t errlen)
{
	struct ctl_ctx *c = arg;

	(void)args;
	(void)status;
	(void)err;
	(void)errlen;
	return ctl_state_totals_json(c->st);
}

/* A directive's evidence names the trace files of its Call-IDs. */
static void
add_trace_files(struct ctl_ctx *c, json_t *dirs)
{
	json_t *d, *id;
	size_t i, j;

	json_array_foreach(dirs, i, d)
	{
		json_t *ev = json_object_get(d, "evidence"), *files = json_object();

		if (ev == NULL || files == NULL) {
			json_decref(files);
			continue;
		}
		json_array_foreach(json_object_get(ev, "call_ids"), j, id)
		{
			if (json_is_string(id))
				json_object_set_new(files, json_string_value(id),
					ctl_trace_files_json(c->trace, json_string_value(id)));
		}
		json_object_set_new(ev, "trace_files", files);
	}
}

static json_t *
cmd_directives(void *arg, json_t *args, int *status, char *err, size_t errlen)
{
	struct ctl_ctx *c = arg;
	json_t *doc;
	json_t *since = json_object_get(args, "since"), *limit = json_object_get(args, "limit");

	if ((since != NULL && (!json_is_integer(since) || json_integer_value(since) < 0)) ||
		(limit != NULL &&
			(!json_is_integer(limit) || json_integer_value(limit) < 0 ||
				json_integer_value(limit) > CTL_ENGINE_RECENT))) {
		*status = EINVAL;
		snprintf(err, errlen, "directives: \"since\" >= 0, \"limit\" 0..%d",
			CTL_ENGINE_RECENT);
		return NULL;
	}
	doc = ctl_engine_directives_json(c->eng, since ? (uint64_t)json_integer_value(since) : 0,
		limit ? (unsigned int)json_integer_value(limit) : 0);
	if (doc != NULL && c->trace != NULL)
		add_trace_files(c, json_object_get(doc, "directives"));
	return doc;
}

static json_t *
cmd_set(void *arg, json_t *args, int *status, char *err, size_t errlen)
{
	struct ctl_ctx *c = arg;
	const char *name = json_string_value(json_object_get(args, "name"));
	json_t *cps = json_object_get(args, "cps");
	struct ctl_directive d;
	unsigned int n;
	char safe[64];

	if (name == NULL || !json_is_integer(cps) || json_integer_value(cps) < 1 ||
		json_integer_value(cps) > 100000) {
		*status = EINVAL;
		snprintf(err, errlen, "set: needs \"name\" and \"cps\" 1..100000");
		return NULL;
	}
	if (ctl_engine_set_cps(c->eng, name, (uint32_t)json_integer_value(cps),
		    ctl_wall_ns() / 1000000, &d, &n) != 0) {
		ctl_api_sanitize(safe, sizeof(safe), name, strlen(name));
		*status = ENOENT;
		snprintf(err, errlen, "unknown trunk \"%s\"", safe);
		return NULL;
	}
	ctl_emit(c, &d, n);
	return json_pack("{s:s, s:I, s:i}", "trunk", name, "cps", json_integer_value(cps),
		"directives", (int)n);
}

static json_t *
cmd_reload(void *arg, json_t *args, int *status, char *err, size_t errlen)
{
	struct ctl_ctx *c = arg;

	(void)args;
	return ctl_reload_run(&c->rl, status, err, errlen);
}

static json_t *
cmd_fleet(void *arg, json_t *args, int *status, char *err, size_t errlen)
{
	struct ctl_ctx *c = arg;
	json_t *doc, *a;
	size_t i;

	(void)args;
	(void)status;
	(void)err;
	(void)errlen;
	if (c->fleet == NULL)
		return json_pack("{s:n, s:s, s:[]}", "edge", "mode", "off", "accounts");
	doc = ctl_fleet_json(c->fleet, ctl_wall_ns() / 1000000000ull);
	if (doc == NULL)
		return NULL;
	json_array_foreach(json_object_get(doc, "accounts"), i, a)
	{
		json_int_t t = json_integer_value(json_object_get(a, "trunk"));
		const char *name = ctl_state_trunk_name(c->st, (uint32_t)t);

		json_object_set_new(a, "trunk", json_string(name != NULL ? name : "?"));
	}
	json_object_set_new(doc, "redis", ctl_redis_stats_json(c->redis));
	return doc;
}

/* `trace`: one sampled failed call's ladder and its pcapng files. */
static json_t *
cmd_trace(void *arg, json_t *args, int *status, char *err, size_t errlen)
{
	struct ctl_ctx *c = arg;
	const char *trunk = json_string_value(json_object_get(args, "trunk"));
	json_t *cid = json_object_get(args, "call_id");
	char safe[64], safe_cid[SG_CALL_ID_MAX + 1];
	json_t *doc;

	if (trunk == NULL || (cid != NULL && !json_is_string(cid))) {
		*status = EINVAL;
		snprintf(err, errlen, "trace: needs \"trunk\" (and a string \"call_id\")");
		return NULL;
	}
	ctl_api_sanitize(safe, sizeof(safe), trunk, strlen(trunk));
	if (ctl_state_trunk_index(c->st, trunk) < 0 && strcmp(trunk, "unmatched") != 0) {
		*status = ENOENT;
		snprintf(err, errlen, "unknown trunk \"%s\"", safe);
		return NULL;
	}
	if (c->trace == NULL || !c->shm->traces) {
		*status = ENOENT;
		snprintf(err, errlen,
			"traces are off (traces.dir, traces.recorder_frames, "
			"traces.sample_per_second)");
		return NULL;
	}
	doc = ctl_trace_call_json(c->trace, trunk, json_string_value(cid));
	if (doc == NULL) {
		*status = ENOENT;
		if (cid != NULL) {
			ctl_api_sanitize(safe_cid, sizeof(safe_cid), json_string_value(cid),
				json_string_length(cid));
			snprintf(err, errlen, "no trace of Call-ID \"%s\" on trunk \"%s\" is kept",
				safe_cid, safe);
		} else {
			snprintf(err, errlen, "no trace on trunk \"%s\" yet", safe);
		}
	}
	return doc;
}

const struct ctl_cmd ctl_commands[] = {
	{ "status", cmd_status, "dataplane, ports, lcores and ring health" },
	{ "trunks", cmd_trunks, "one row per trunk: CPS, concurrent calls, 503s" },
	{ "trunk", cmd_trunk, "one trunk in detail (args: name)" },
	{ "events", cmd_events, "recent 5xx/6xx answers to INVITE (args: limit)" },
	{ "totals", cmd_totals, "cumulative counters per trunk" },
	{ "directives", cmd_directives, "rate-limit directives (args: since, limit)" },
	{ "set", cmd_set, "override a trunk's agreed CPS (args: name, cps)" },
	{ "reload", cmd_reload, "apply the config file again, without a restart" },
	{ "fleet", cmd_fleet, "shared accounts: every edge's rate, share, state, age" },
	{ "trace", cmd_trace, "a traced failed call's ladder and files (args: trunk, call_id)" },
	{ NULL, NULL, NULL },
};

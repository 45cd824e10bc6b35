/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipguard-ctrl: the control plane, a DPDK secondary process.
 *
 * It attaches to the dataplane's rings by name (dataplane/sg_shared.h),
 * drains counter publications and 503 events into ctl_state, closes a
 * per-trunk time series every second, and serves the control API on a
 * unix socket. It holds no state the dataplane needs: killed and started
 * again, it asks the workers to republish (ctrl_generation) and its totals
 * are exact once every worker has answered.
 *
 * Duties of the main loop, in order each turn: drain rings, take the
 * fleet's newest Redis answer, tick the second (and hand the fleet's
 * round to its Redis thread), refresh rates and the Prometheus document,
 * serve API clients (the poll is the only wait; Redis is never waited
 * for). /metrics is answered by libmicrohttpd's own thread from the last
 * published document (ctl_http.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include <jansson.h>

#include "cfg.h"
#include "ctl_api.h"
#include "ctl_engine.h"
#include "ctl_http.h"
#include "ctl_metrics.h"
#include "ctl_reload.h"
#include "ctl_fleet.h"
#include "ctl_redis.h"
#include "ctl_server.h"
#include "ctl_sink.h"
#include "ctl_state.h"
#include "ctl_trace.h"
#include "sg_notify.h"
#include "sg_shared.h"

#define CTL_EXIT_USAGE 2
#define CTL_EXIT_NO_DATAPLANE 3
#define CTL_EXIT_RUNTIME 1
#define CTL_STOP_GRACE_S 2 /* answering after the dataplane stopped */
/*
 * The policy decides on 100 ms slots of packet time, closed once every
 * worker's clock has passed them (packet_clock). A worker clock this far
 * behind the wall clock holds no slot back.
 */
#define CTL_CLOCK_MAX_LAG_MS 1000
#define CTL_SLOT_CATCHUP 50 /* slots closed one by one after a stall; more are skipped */

struct ctl_ctx {
	struct sg_config *cfg;
	struct ctl_reload rl;
	struct sg_shm *shm;
	struct ctl_state *st;
	struct ctl_engine *eng;
	struct ctl_sinks *sinks;
	struct ctl_fleet *fleet;       /* NULL: no shared trunk */
	struct ctl_redis *redis;       /* the fleet's Redis thread */
	struct ctl_fleet_round *round; /* the next round, built each second */
	struct ctl_fleet_result *result;
	struct ctl_directive dirs[256];
	struct rte_ring *pub[SG_MAX_WORKERS];
	struct rte_ring *evt[SG_MAX_WORKERS];
	struct rte_mempool *pub_pool;
	struct rte_mempool *evt_pool;
	/* traces of failed calls (ctl_trace.h): NULL rings when the dataplane hands none */
	struct rte_ring *trc[SG_MAX_WORKERS];
	struct rte_mempool *trc_pool;
	struct ctl_trace *trace; /* NULL: traces.dir empty, frames are discarded */
	/* taken from a worker's ring, stamped after the next slot to close */
	void *held_pub[SG_MAX_WORKERS];
	void *held_evt[SG_MAX_WORKERS];
	uint64_t next_slot_ms;	   /* end of the next slot to close, 0 before the first */
	uint64_t clock_slots;	   /* slots closed */
	uint64_t clock_wall;	   /* of which on the wall clock: a worker clock lagged */
	uint64_t clock_lag_max_ms; /* the most a slot was closed after the wall clock passed it */
	uint64_t start_ns;
	/* rates, refreshed once a second */
	uint64_t rate_ns;
	uint64_t prev_port_rx[SG_MAX_PORTS];
	uint64_t prev_w_packets[SG_MAX_WORKERS];
	uint64_t prev_w_busy[SG_MAX_WORKERS];
	uint64_t prev_w_total[SG_MAX_WORKERS];
	double port_pps[SG_MAX_PORTS];
	double w_pps[SG_MAX_WORKERS];
	double w_busy[SG_MAX_WORKERS];
	int dataplane_alive;
	/* Prometheus: directive counts, the endpoint, the next document */
	struct ctl_metrics_directives dir_counts;
	struct ctl_http *http;
	struct ctl_metrics_buf mdoc;
	double w_busy_ratio[SG_MAX_WORKERS];
};

static volatile int ctl_quit;
static volatile int ctl_hup;

static void
on_signal(int sig)
{
	(void)sig;
	ctl_quit = 1;
}

/* SIGHUP: the main loop reloads the config (ctl_reload.h). */
static void
on_hup(int sig)
{
	(void)sig;
	ctl_hup = 1;
}

static uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: sipguard-ctrl -c CONFIG [--wait] [-- EAL-ARGS...]\n"
		"\n"
		"  -c, --config FILE  the dataplane's configuration (file_prefix, ctrl)\n"
		"  -w, --wait         wait for the dataplane instead of exiting\n"
		"  -h, --help         this text\n");
}

/* A file in the runtime directory DPDK uses for a file prefix. */
static void
runtime_file(const char *prefix, const char *name, char *buf, size_t len)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");

	if (getuid() == 0 || dir == NULL)
		snprintf(buf, len, "/var/run/dpdk/%s/%s", prefix, name);
	else
		snprintf(buf, len, "%s/dpdk/%s/%s", dir, prefix, name);
}

/* ---- API commands: each returns a new reference or NULL with *status ---- */

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
		(json_int_t)((wall_ns() - shm->start_time_ns) / 1000000000ull), "ctrl_uptime_s",
		(json_int_t)((wall_ns() - c->start_ns) / 1000000000ull), "dataplane",
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
	doc = ctl_state_trunks_json(c->st, wall_ns() / 1000000000ull);
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
	doc = ctl_state_trunk_json(c->st, name, wall_ns() / 1000000000ull);
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

static void emit(struct ctl_ctx *c, const struct ctl_directive *d, unsigned int n);

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
	if (ctl_engine_set_cps(c->eng, name, (uint32_t)json_integer_value(cps), wall_ns() / 1000000,
		    &d, &n) != 0) {
		ctl_api_sanitize(safe, sizeof(safe), name, strlen(name));
		*status = ENOENT;
		snprintf(err, errlen, "unknown trunk \"%s\"", safe);
		return NULL;
	}
	emit(c, &d, n);
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
	doc = ctl_fleet_json(c->fleet, wall_ns() / 1000000000ull);
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

static const struct ctl_cmd ctl_commands[] = {
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

/* ---- the loop ---- */

/* A publication for a slot the state does not hold yet. */
static int
slot_unknown(const struct ctl_ctx *c, uint32_t trunk)
{
	return trunk != SG_UNMATCHED && trunk >= ctl_state_n_trunks(c->st);
}

/*
 * Frames of sampled failed calls into their trunks' pcapng files; a
 * bounded number per pass, so a flood of them cannot starve the loop
 * (the ring fills and the dataplane counts what it could not hand over).
 */
#define CTL_TRACE_BURST 32 /* trace frames per dequeue */

static unsigned int
drain_traces(struct ctl_ctx *c, unsigned int w)
{
	void *objs[CTL_TRACE_BURST];
	unsigned int i, n, total = 0, rounds;

	if (c->trc[w] == NULL)
		return 0;
	for (rounds = 0; rounds < 64; rounds++) {
		n = rte_ring_sc_dequeue_burst(c->trc[w], objs, CTL_TRACE_BURST, NULL);
		if (n == 0)
			break;
		for (i = 0; i < n && c->trace != NULL; i++) {
			const struct sg_trace_frame *f = objs[i];
			const char *name = f->trunk == SG_UNMATCHED
				? "unmatched"
				: ctl_state_trunk_name(c->st, f->trunk);

			ctl_trace_frame(c->trace, f, name);
		}
		rte_mempool_put_bulk(c->trc_pool, objs, n);
		total += n;
	}
	return total;
}

/*
 * Publications stamped at or before upto_ms and events of packets before
 * it, in each worker's order; a later one is held (one per ring) until its
 * slot is closed, so a slot's counts are exactly its packets'.
 */
static unsigned int
drain_upto(struct ctl_ctx *c, uint64_t upto_ms)
{
	unsigned int w, total = 0;
	void *obj;

	/* a reload's new slots are known before their first publication */
	ctl_reload_follow(&c->rl);
	for (w = 0; w < c->shm->n_workers; w++) {
		for (;;) {
			const struct sg_pub *p;

			obj = c->held_pub[w];
			if (obj == NULL && rte_ring_sc_dequeue(c->pub[w], &obj) != 0)
				break;
			p = obj;
			c->held_pub[w] = NULL;
			if (p->time_ns / 1000000 > upto_ms) {
				c->held_pub[w] = obj;
				break;
			}
			if (slot_unknown(c, p->trunk))
				ctl_reload_follow(&c->rl);
			ctl_engine_pub(c->eng, p);
			rte_mempool_put(c->pub_pool, obj);
			total++;
		}
		for (;;) {
			const struct sg_event *e;

			obj = c->held_evt[w];
			if (obj == NULL && rte_ring_sc_dequeue(c->evt[w], &obj) != 0)
				break;
			e = obj;
			c->held_evt[w] = NULL;
			if (e->time_ns / 1000000 >= upto_ms) {
				c->held_evt[w] = obj;
				break;
			}
			ctl_engine_event(c->eng, e);
			rte_mempool_put(c->evt_pool, obj);
			total++;
		}
		total += drain_traces(c, w);
	}
	if (c->trace != NULL)
		ctl_trace_flush(c->trace);
	return total;
}

static unsigned int
drain(struct ctl_ctx *c)
{
	return drain_upto(c, UINT64_MAX);
}

/*
 * The packet time up to which every worker's counts and events are in
 * the rings: the lowest worker clock (sg_worker_stats.clock_ms). A worker
 * that has not stamped a slot yet, or whose clock lags the wall clock by
 * more than CTL_CLOCK_MAX_LAG_MS (a lcore that stopped running), no
 * longer holds the others back: then the wall clock less that lag
 * decides, and what comes late counts in the slot it reaches.
 */
static uint64_t
packet_clock(const struct ctl_ctx *c, uint64_t wall_ms, int *on_wall)
{
	uint64_t low = UINT64_MAX, v;
	unsigned int w;

	for (w = 0; w < c->shm->n_workers; w++) {
		v = __atomic_load_n(&c->shm->workers[w].clock_ms, __ATOMIC_ACQUIRE);
		if (v < low)
			low = v;
	}
	*on_wall = low == 0 || low == UINT64_MAX || low + CTL_CLOCK_MAX_LAG_MS < wall_ms;
	return *on_wall ? wall_ms - CTL_CLOCK_MAX_LAG_MS : low;
}

static void
ctl_sinks_emit_all(struct ctl_ctx *c, const struct ctl_directive *d, unsigned int n)
{
	uint64_t now_ms = wall_ns() / 1000000;
	unsigned int i;

	for (i = 0; i < n; i++)
		ctl_sinks_emit(c->sinks, &d[i], now_ms);
}

/* Directives out: to every sink (never blocking), and a line on stderr. */
static void
emit(struct ctl_ctx *c, const struct ctl_directive *d, unsigned int n)
{
	char line[2048];
	unsigned int i;

	if (n > 0)
		ctl_sinks_emit_all(c, d, n);
	for (i = 0; i < n; i++) {
		ctl_metrics_count_directive(&c->dir_counts, &d[i]);
		if (ctl_directive_line(&d[i], line, sizeof(line)) >= 0)
			fprintf(stderr, "sipguard-ctrl: directive %s\n", line);
	}
}

static void
rates(struct ctl_ctx *c, uint64_t now)
{
	const struct sg_shm *shm = c->shm;
	double dt = (double)(now - c->rate_ns) / 1e9;
	unsigned int i;

	for (i = 0; i < shm->n_ports; i++) {
		c->port_pps[i] = (double)(shm->ports[i].rx_packets - c->prev_port_rx[i]) / dt;
		c->prev_port_rx[i] = shm->ports[i].rx_packets;
	}
	for (i = 0; i < shm->n_workers; i++) {
		const struct sg_worker_stats *w = &shm->workers[i];
		uint64_t dtot = w->total_cycles - c->prev_w_total[i];

		c->w_pps[i] = (double)(w->packets - c->prev_w_packets[i]) / dt;
		c->w_busy[i] = dtot
			? 100.0 * (double)(w->busy_cycles - c->prev_w_busy[i]) / (double)dtot
			: 0.0;
		c->w_busy_ratio[i] = c->w_busy[i] / 100.0;
		c->prev_w_packets[i] = w->packets;
		c->prev_w_busy[i] = w->busy_cycles;
		c->prev_w_total[i] = w->total_cycles;
	}
	c->rate_ns = now;
}

/* Render the exposition on the loop thread and hand it to the endpoint. */
static void
metrics_publish(struct ctl_ctx *c)
{
	json_t *sinks;
	struct ctl_metrics_view v;

	if (c->http == NULL)
		return;
	sinks = ctl_sinks_stats_json(c->sinks);
	v = (struct ctl_metrics_view){
		.version = SG_VERSION,
		.st = c->st,
		.pol = ctl_engine_policy(c->eng),
		.shm = c->shm,
		.worker_busy = c->w_busy_ratio,
		.sinks = sinks,
		.dirs = &c->dir_counts,
		.dataplane_up = c->dataplane_alive,
		.ctrl_start_ns = c->start_ns,
	};
	c->mdoc.len = 0;
	c->mdoc.oom = 0;
	if (ctl_metrics_render(&v, &c->mdoc) == 0)
		ctl_http_publish(c->http, &c->mdoc);
	else
		fprintf(stderr, "sipguard-ctrl: out of memory rendering /metrics\n");
	json_decref(sinks);
}

/* Start the rate counters from what the dataplane has now, not from 0. */
static void
rates_seed(struct ctl_ctx *c, uint64_t now)
{
	const struct sg_shm *shm = c->shm;
	unsigned int i;

	for (i = 0; i < shm->n_ports; i++)
		c->prev_port_rx[i] = shm->ports[i].rx_packets;
	for (i = 0; i < shm->n_workers; i++) {
		c->prev_w_packets[i] = shm->workers[i].packets;
		c->prev_w_busy[i] = shm->workers[i].busy_cycles;
		c->prev_w_total[i] = shm->workers[i].total_cycles;
	}
	c->rate_ns = now;
}

static void
drain_arg(void *arg)
{
	drain(arg);
}

/*
 * Our config must hold the trunks the dataplane counts now (its active
 * slots; after reloads, not in the file's order).
 */
static int
check_trunks(const struct ctl_ctx *c, const char *config)
{
	const struct sg_shm *shm = c->shm;
	uint32_t t, i, active = 0;

	for (t = 0; t < shm->n_trunks && t < SG_MAX_TRUNKS; t++) {
		if (shm->trunk_state[t] != SG_SLOT_ACTIVE)
			continue;
		active++;
		for (i = 0; i < c->cfg->n_trunks; i++) {
			if (strncmp(c->cfg->trunks[i].name, shm->trunk_name[t],
				    SG_TRUNK_NAME_MAX) == 0)
				break;
		}
		if (i == c->cfg->n_trunks) {
			fprintf(stderr,
				"sipguard-ctrl: %s: no trunk \"%.*s\", which the running "
				"dataplane has: use the dataplane's config\n",
				config, SG_TRUNK_NAME_MAX, shm->trunk_name[t]);
			return -1;
		}
	}
	if (active != c->cfg->n_trunks) {
		fprintf(stderr,
			"sipguard-ctrl: %s: %u trunks, the running dataplane has %u: use the "
			"dataplane's config\n",
			config, c->cfg->n_trunks, active);
		return -1;
	}
	return 0;
}

/* The host name cut to a plain edge name ([A-Za-z0-9_.-]). */
static void
host_edge(char *buf, size_t len)
{
	char host[256];
	size_t i, n = 0;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "edge");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0' && n + 1 < len; i++) {
		char ch = host[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-')
			buf[n++] = ch;
	}
	if (n == 0)
		n = (size_t)snprintf(buf, len, "edge");
	buf[n] = '\0';
}

/*
 * The fleet, when a trunk shares an account and Redis is configured: the
 * shares and its Redis thread. 0 (also for no fleet), -1 with err.
 */
static int
fleet_open(struct ctl_ctx *c, char *err, size_t errlen)
{
	const struct sg_config *cfg = c->cfg;
	const char *accounts[SG_MAX_TRUNKS];
	uint32_t limits[SG_MAX_TRUNKS], i, shared = 0;
	struct ctl_fleet_conf fc = { .ttl_s = cfg->fleet.ttl_s,
		.min_share = cfg->fleet.min_share,
		.expected_edges = cfg->fleet.expected_edges,
		.headroom_pct = cfg->fleet.headroom_pct };
	struct ctl_redis_conf rc = { .timeout_ms = cfg->fleet.round_timeout_ms };

	for (i = 0; i < cfg->n_trunks; i++) {
		accounts[i] = cfg->fleet.redis[0] != '\0' ? cfg->trunks[i].account : "";
		limits[i] = cfg->trunks[i].cps;
		shared += accounts[i][0] != '\0';
		if (cfg->fleet.redis[0] == '\0' && cfg->trunks[i].account[0] != '\0')
			fprintf(stderr,
				"sipguard-ctrl: trunk \"%s\": account \"%s\" not shared: no "
				"fleet.redis\n",
				cfg->trunks[i].name, cfg->trunks[i].account);
	}
	if (shared == 0)
		return 0;
	if (cfg->fleet.edge[0] != '\0')
		snprintf(fc.edge, sizeof(fc.edge), "%s", cfg->fleet.edge);
	else
		host_edge(fc.edge, sizeof(fc.edge));
	c->fleet = ctl_fleet_create(&fc, cfg->n_trunks, accounts, limits);
	c->round = calloc(1, sizeof(*c->round));
	c->result = calloc(1, sizeof(*c->result));
	if (c->fleet == NULL || c->round == NULL || c->result == NULL) {
		snprintf(err, errlen, "out of memory for the fleet");
		return -1;
	}
	snprintf(rc.address, sizeof(rc.address), "%s", cfg->fleet.redis);
	snprintf(rc.user, sizeof(rc.user), "%s", cfg->fleet.user);
	snprintf(rc.password, sizeof(rc.password), "%s", cfg->fleet.password);
	snprintf(rc.fleet, sizeof(rc.fleet), "%s",
		cfg->fleet.name[0] != '\0' ? cfg->fleet.name : "sipguard");
	snprintf(rc.edge, sizeof(rc.edge), "%s", fc.edge);
	c->redis = ctl_redis_start(&rc, err, errlen);
	if (c->redis == NULL)
		return -1;
	fprintf(stderr, "sipguard-ctrl: fleet edge \"%s\": %u shared trunk(s) through Redis %s\n",
		fc.edge, shared, cfg->fleet.redis);
	return 0;
}

static void
fleet_close(struct ctl_ctx *c)
{
	ctl_redis_stop(c->redis);
	ctl_fleet_free(c->fleet);
	free(c->round);
	free(c->result);
}

static int
attach(struct ctl_ctx *c)
{
	const struct rte_memzone *mz = rte_memzone_lookup(SG_SHM_NAME);
	char name[RTE_RING_NAMESIZE];
	unsigned int i;

	if (mz == NULL) {
		fprintf(stderr,
			"sipguard-ctrl: no %s memzone: is the dataplane (sipguard) running "
			"with file_prefix \"%s\"?\n",
			SG_SHM_NAME, c->cfg->dp.file_prefix);
		return -1;
	}
	c->shm = mz->addr;
	if (c->shm->magic != SG_SHM_MAGIC || c->shm->version != SG_SHM_VERSION) {
		fprintf(stderr,
			"sipguard-ctrl: dataplane shared memory is version %u, this is %u: "
			"run matching versions\n",
			c->shm->version, SG_SHM_VERSION);
		return -1;
	}
	c->pub_pool = rte_mempool_lookup(SG_POOL_PUB);
	c->evt_pool = rte_mempool_lookup(SG_POOL_EVT);
	for (i = 0; i < c->shm->n_workers; i++) {
		snprintf(name, sizeof(name), SG_RING_PUB_FMT, i);
		c->pub[i] = rte_ring_lookup(name);
		snprintf(name, sizeof(name), SG_RING_EVT_FMT, i);
		c->evt[i] = rte_ring_lookup(name);
		if (c->pub[i] == NULL || c->evt[i] == NULL)
			break;
		if (c->shm->traces) {
			snprintf(name, sizeof(name), SG_RING_TRC_FMT, i);
			c->trc[i] = rte_ring_lookup(name);
			if (c->trc[i] == NULL)
				break;
		}
	}
	if (c->shm->traces) {
		c->trc_pool = rte_mempool_lookup(SG_POOL_TRC);
		if (c->trc_pool == NULL)
			i = 0;
	}
	if (c->pub_pool == NULL || c->evt_pool == NULL || i < c->shm->n_workers) {
		fprintf(stderr,
			"sipguard-ctrl: dataplane rings or pools missing (still starting?)\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "wait", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sg_config cfg;
	static struct ctl_ctx c;
	const char *config = NULL;
	char err[512], lcores[64], prefix[96], cfile[256], rfile[256];
	char *eargs[16];
	struct ctl_server *srv = NULL;
	uint64_t last_s = 0, last_slot = 0, fleet_s = 0, stopped_ns = 0;
	int opt, wait = 0, n = 0, ret = CTL_EXIT_RUNTIME;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+c:wh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'w':
			wait = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "sipguard-ctrl: bad argument \"%s\" (try --help)\n",
				argv[optind - 1]);
			return CTL_EXIT_USAGE;
		}
	}
	if (config == NULL) {
		fprintf(stderr, "sipguard-ctrl: missing -c CONFIG (try --help)\n");
		return CTL_EXIT_USAGE;
	}
	if (cfg_load(config, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sipguard-ctrl: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_hup);
	c.cfg = &cfg;
	/* sinks before EAL: a bad sink is a config error, reported at once */
	c.sinks = ctl_sinks_create(&cfg, err, sizeof(err));
	if (c.sinks == NULL) {
		fprintf(stderr, "sipguard-ctrl: %s: %s\n", config, err);
		return CTL_EXIT_USAGE;
	}

	/*
	 * A secondary cannot retry EAL init, and one that attaches while the
	 * primary is still probing its ports fails inside EAL: wait for a
	 * live primary that has said it is ready.
	 */
	runtime_file(cfg.dp.file_prefix, "config", cfile, sizeof(cfile));
	runtime_file(cfg.dp.file_prefix, SG_READY_FILE, rfile, sizeof(rfile));
	while (!rte_eal_primary_proc_alive(cfile) || access(rfile, F_OK) != 0) {
		if (!wait) {
			fprintf(stderr,
				"sipguard-ctrl: the dataplane is not running%s (no live, "
				"ready primary at %s); start sipguard first or use --wait\n",
				rte_eal_primary_proc_alive(cfile) ? " yet" : "", cfile);
			ctl_sinks_free(c.sinks);
			return CTL_EXIT_NO_DATAPLANE;
		}
		if (ctl_quit) {
			ctl_sinks_free(c.sinks);
			return 0;
		}
		usleep(200000);
	}
	snprintf(lcores, sizeof(lcores), "--lcores=0@%u", cfg.ctrl.cpu);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", cfg.dp.file_prefix);
	eargs[n++] = argv[0];
	eargs[n++] = lcores;
	eargs[n++] = prefix;
	eargs[n++] = (char *)"--proc-type=secondary";
	eargs[n++] = (char *)"--no-telemetry";
	eargs[n++] = (char *)"--no-pci";
	eargs[n++] = (char *)"--log-level=*:error";
	rte_openlog_stream(stderr);
	if (rte_eal_init(n, eargs) < 0) {
		fprintf(stderr, "sipguard-ctrl: cannot attach to the dataplane: %s\n",
			rte_strerror(rte_errno));
		ctl_sinks_free(c.sinks);
		return CTL_EXIT_NO_DATAPLANE;
	}
	/* the primary may still be creating its rings */
	while (attach(&c) != 0) {
		if (!wait || ctl_quit) {
			ret = CTL_EXIT_NO_DATAPLANE;
			goto out;
		}
		sleep(1);
	}
	if (check_trunks(&c, config) != 0) {
		ret = CTL_EXIT_USAGE;
		goto out;
	}
	c.st = ctl_state_create_shm(c.shm);
	if (c.st != NULL) {
		/* the slot table as the dataplane has it now, removed trunks too */
		c.rl = (struct ctl_reload){
			.cfg = &cfg,
			.path = config,
			.shm = c.shm,
			.st = c.st,
			.sinks = &c.sinks,
			.wait_fn = drain_arg,
			.wait_arg = &c,
			.requesting = 1,
		};
		ctl_reload_follow(&c.rl);
		c.rl.requesting = 0;
	}
	c.eng = c.st != NULL ? ctl_engine_create(&cfg, c.st) : NULL;
	c.rl.eng = c.eng;
	if (c.eng == NULL) {
		fprintf(stderr, "sipguard-ctrl: out of memory for the control state\n");
		goto out;
	}
	if (cfg.traces.dir[0] != '\0') {
		struct ctl_trace_cfg tc = {
			.dir = cfg.traces.dir,
			.file_size = cfg.traces.file_size,
			.files = cfg.traces.files,
			.sample_per_s = cfg.traces.sample_per_s,
		};

		c.trace = ctl_trace_create(&tc, err, sizeof(err));
		if (c.trace == NULL) {
			fprintf(stderr, "sipguard-ctrl: %s: %s\n", config, err);
			ret = CTL_EXIT_USAGE;
			goto out;
		}
	}
	if (fleet_open(&c, err, sizeof(err)) != 0) {
		fprintf(stderr, "sipguard-ctrl: %s: fleet: %s\n", config, err);
		ret = CTL_EXIT_USAGE;
		goto out;
	}
	if (c.fleet != NULL)
		ctl_engine_set_fleet(c.eng, c.fleet);
	{
		char dir[sizeof(cfg.ctrl.socket)];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", cfg.ctrl.socket);
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			mkdir(dir, 0750);
		}
	}
	srv = ctl_server_open(cfg.ctrl.socket, 0660, ctl_commands, &c, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "sipguard-ctrl: %s\n", err);
		goto out;
	}
	c.start_ns = wall_ns();
	rates_seed(&c, c.start_ns);
	c.dataplane_alive = 1;
	if (cfg_parse_listen(cfg.metrics.listen, &(struct sockaddr_storage){ 0 }) == 1) {
		c.http = ctl_http_start(cfg.metrics.listen, err, sizeof(err));
		if (c.http == NULL) {
			fprintf(stderr, "sipguard-ctrl: %s: %s\n", config, err);
			ret = CTL_EXIT_USAGE;
			goto out;
		}
		metrics_publish(&c);
	}
	/* ask every worker to republish all its trunks: we start empty */
	ctl_state_expect_republish(c.st, c.shm->n_workers);
	__atomic_fetch_add(&c.shm->ctrl_generation, 1, __ATOMIC_RELEASE);
	fprintf(stderr, "sipguard-ctrl: attached: %u worker(s), %u trunk(s); API on %s%s%s\n",
		c.shm->n_workers, c.shm->n_trunks, cfg.ctrl.socket,
		c.http != NULL ? "; metrics on http://" : "",
		c.http != NULL ? cfg.metrics.listen : "");
	sg_notify_ready("attached: %u worker(s), %u trunk(s); API on %s", c.shm->n_workers,
		c.shm->n_trunks, cfg.ctrl.socket);

	while (!ctl_quit) {
		uint64_t now = wall_ns(), upto;
		int on_wall;

		drain_upto(&c, c.next_slot_ms != 0 ? c.next_slot_ms : UINT64_MAX);
		if (stopped_ns == 0 && __atomic_load_n(&c.shm->stopped, __ATOMIC_ACQUIRE)) {
			/*
			 * Its last publications are in: take them, and keep
			 * answering a little while so the final totals can be
			 * read, then leave.
			 */
			drain(&c);
			c.dataplane_alive = 0;
			stopped_ns = now;
			metrics_publish(&c);
			fprintf(stderr, "sipguard-ctrl: the dataplane stopped; exiting in %d s\n",
				CTL_STOP_GRACE_S);
		}
		if (stopped_ns != 0) {
			if (now - stopped_ns > CTL_STOP_GRACE_S * 1000000000ull) {
				ret = CTL_EXIT_NO_DATAPLANE;
				goto out;
			}
			ctl_server_poll(srv, 10);
			continue;
		}
		if (c.fleet != NULL && ctl_redis_take(c.redis, c.result)) {
			ctl_fleet_result(c.fleet, c.result);
			emit(&c, c.dirs,
				ctl_engine_fleet_apply(
					c.eng, now / 1000000, c.dirs, RTE_DIM(c.dirs)));
		}
		upto = packet_clock(&c, now / 1000000, &on_wall);
		if (upto / CTL_POLICY_SLOT_MS != last_slot) {
			uint64_t end = upto - upto % CTL_POLICY_SLOT_MS, t = c.next_slot_ms;

			last_slot = upto / CTL_POLICY_SLOT_MS;
			/* the first slot, a clock step or a long stall: the latest only */
			if (t == 0 || t > end || end - t > CTL_SLOT_CATCHUP * CTL_POLICY_SLOT_MS)
				t = end;
			for (; t <= end; t += CTL_POLICY_SLOT_MS) {
				c.clock_slots++;
				c.clock_wall += (uint64_t)on_wall;
				if (now / 1000000 > t && now / 1000000 - t > c.clock_lag_max_ms)
					c.clock_lag_max_ms = now / 1000000 - t;
				drain_upto(&c, t);
				emit(&c, c.dirs,
					ctl_engine_tick_ms(c.eng, t, c.dirs, RTE_DIM(c.dirs)));
			}
			c.next_slot_ms = end + CTL_POLICY_SLOT_MS;
			/*
			 * The fleet's round once the engine has closed the
			 * second before: a busy mailbox skips this second's
			 * round, never waits.
			 */
			if (c.fleet != NULL && end / 1000 != fleet_s) {
				fleet_s = end / 1000;
				ctl_fleet_round(c.fleet, fleet_s, c.round);
				ctl_redis_submit(c.redis, c.round);
			}
		}
		if (now / 1000000000ull != last_s) {
			last_s = now / 1000000000ull;
			rates(&c, now);
			metrics_publish(&c);
			if (!rte_eal_primary_proc_alive(cfile)) {
				c.dataplane_alive = 0;
				fprintf(stderr, "sipguard-ctrl: the dataplane stopped; exiting\n");
				drain(&c);
				ret = CTL_EXIT_NO_DATAPLANE;
				goto out;
			}
		}
		if (ctl_hup) {
			int st;

			ctl_hup = 0;
			json_decref(ctl_reload_run(&c.rl, &st, err, sizeof(err)));
		}
		ctl_sinks_poll(c.sinks, now / 1000000);
		ctl_server_poll(srv, 10);
	}
	ret = 0;
out:
	if (srv != NULL)
		sg_notify_stopping("stopping");
	ctl_http_stop(c.http);
	ctl_metrics_buf_free(&c.mdoc);
	ctl_server_close(srv);
	fleet_close(&c);
	ctl_engine_free(c.eng);
	ctl_state_free(c.st);
	ctl_sinks_free(c.sinks);
	ctl_trace_free(c.trace);
	rte_eal_cleanup();
	return ret;
}

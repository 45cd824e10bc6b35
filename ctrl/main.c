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
 *
 * This file is the start-up, the loop and the shutdown; what they share
 * is in ctl_ctx.h, the API commands the server dispatches in ctl_cmds.c,
 * and finding the dataplane's memory, rings and pools in ctl_attach.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <jansson.h>

#include "cfg.h"
#include "ctl_attach.h"
#include "ctl_cmds.h"
#include "ctl_ctx.h"
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
	ctl_attach_runtime_file(cfg.dp.file_prefix, "config", cfile, sizeof(cfile));
	ctl_attach_runtime_file(cfg.dp.file_prefix, SG_READY_FILE, rfile, sizeof(rfile));
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
	while (ctl_attach(&c) != 0) {
		if (!wait || ctl_quit) {
			ret = CTL_EXIT_NO_DATAPLANE;
			goto out;
		}
		sleep(1);
	}
	if (ctl_attach_check_trunks(&c, config) != 0) {
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
	c.start_ns = ctl_wall_ns();
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
		uint64_t now = ctl_wall_ns(), upto;
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
			ctl_emit(&c, c.dirs,
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
				ctl_emit(&c, c.dirs,
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

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dataplane runtime (see dp_app.h). Objects are created in one order by
 * app_init and released in the reverse order by app_fini, whatever failed
 * in between.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_pdump.h>
#include <rte_ring.h>

#include <jansson.h>

#include "ctl_trace.h"
#include "dp_app.h"
#include "dp_diag.h"
#include "dp_port.h"
#include "dp_reload.h"
#include "dp_replay.h"
#include "dp_report.h"
#include "dp_sip.h"
#include "dp_telemetry.h"
#include "dp_trunk.h"
#include "dp_worker.h"
#include "dp_worker_loop.h"
#include "sg_notify.h"

#define SG_EXIT_RUNTIME 1
#define SG_EXIT_USAGE 2

struct dp_app {
	struct dp_sip_db *db;
	hs_scratch_t *proto;
	struct dp_diag *diag;
	hs_scratch_t *diag_proto;
	struct dp_trunks *trunks;
	struct dp_worker_shared *sh;
	struct rte_mempool *mp;
	struct dp_worker *workers[SG_MAX_WORKERS];
	unsigned int n_workers;
	int ports[SG_MAX_PORTS];
	unsigned int n_ports;
	struct dp_steer steer; /* live, 2 or more workers (dp_steer.h) */
};

static int
app_init(struct dp_app *a, const struct sg_config *cfg, const char *config_path, uint32_t mbufs)
{
	int socket = (int)rte_socket_id();
	char err[512];

	memset(a, 0, sizeof(*a));
	a->db = dp_sip_db_create(err, sizeof(err));
	if (a->db == NULL) {
		fprintf(stderr, "sipguard: %s\n", err);
		return SG_EXIT_RUNTIME;
	}
	if (dp_sip_scratch_alloc(a->db, &a->proto) != 0) {
		fprintf(stderr, "sipguard: cannot allocate Hyperscan scratch\n");
		return SG_EXIT_RUNTIME;
	}
	/* a pattern the compiler refuses is the config's fault: exit 2 */
	a->diag = dp_diag_create(cfg, config_path, err, sizeof(err));
	if (a->diag == NULL) {
		fprintf(stderr, "sipguard: %s\n", err);
		return SG_EXIT_USAGE;
	}
	if (dp_diag_scratch_alloc(a->diag, &a->diag_proto) != 0) {
		fprintf(stderr, "sipguard: cannot allocate the diagnosis scratch\n");
		return SG_EXIT_RUNTIME;
	}
	a->trunks = dp_trunks_create(cfg, "sg_trunks", socket, err, sizeof(err));
	if (a->trunks == NULL) {
		fprintf(stderr, "sipguard: %s: %s\n", config_path, err);
		/* out of memory is the machine's problem, not the config's */
		return rte_errno == ENOMEM ? SG_EXIT_RUNTIME : SG_EXIT_USAGE;
	}
	a->sh = rte_zmalloc_socket("dp_shared", sizeof(*a->sh), RTE_CACHE_LINE_SIZE, socket);
	a->mp = rte_pktmbuf_pool_create("sg_mbuf", mbufs, 256, 0,
		(uint16_t)(RTE_PKTMBUF_HEADROOM + cfg->dp.mbuf_size), socket);
	if (a->sh == NULL || a->mp == NULL) {
		fprintf(stderr, "sipguard: out of memory (mbuf pool of %u): %s\n", mbufs,
			rte_strerror(rte_errno));
		return SG_EXIT_RUNTIME;
	}
	dp_worker_shared_init(a->sh, cfg);
	a->sh->db = a->db;
	a->sh->trunks = a->trunks;
	a->sh->diag = a->diag;
	a->sh->diag_proto = a->diag_proto;
	return 0;
}

static void
app_fini(struct dp_app *a)
{
	unsigned int i;

	for (i = 0; i < a->n_workers; i++)
		dp_worker_free(a->workers[i]);
	/* before the pool: frames still in a ring go back to it */
	dp_steer_free(&a->steer);
	for (i = 0; i < a->n_ports; i++)
		dp_port_stop((uint16_t)a->ports[i]);
	rte_mempool_free(a->mp);
	/* after a reload the table in use is the one the workers last read */
	if (a->sh != NULL && a->sh->trunks != NULL)
		a->trunks = (struct dp_trunks *)(uintptr_t)a->sh->trunks;
	rte_free(a->sh);
	dp_trunks_free(a->trunks);
	if (a->diag_proto != NULL)
		hs_free_scratch(a->diag_proto);
	dp_diag_free(a->diag);
	if (a->proto != NULL)
		hs_free_scratch(a->proto);
	dp_sip_db_free(a->db);
}

static void
app_totals(const struct dp_app *a, struct dp_totals *tot)
{
	unsigned int i;
	int t;

	memset(tot, 0, sizeof(*tot));
	for (i = 0; i < a->n_workers; i++) {
		struct dp_worker *w = a->workers[i];

		dp_worker_sync_stats(w);
		sg_source_counters_add(&tot->src, &w->src);
		tot->src.retrans_evictions += dp_retrans_stats(w->rt)->evictions;
		for (t = 0; t < SG_TRUNK_SLOTS; t++)
			sg_trunk_counters_add(&tot->trunk[t], &w->trunk[t]);
	}
}

/* The name a trunk slot's trace files carry. */
static const char *
trace_trunk_name(const struct sg_config *cfg, uint32_t trunk)
{
	return trunk < cfg->n_trunks ? cfg->trunks[trunk].name : "unmatched";
}

/*
 * Offline traces (--traces DIR): the worker's recorder hands over to a
 * ring as it does live, and the ring is drained after every burst into
 * the writer sipguard-ctrl runs, so both write the same files.
 */
struct offline_traces {
	struct rte_ring *ring;
	struct rte_mempool *pool;
	struct ctl_trace *wr;
};

static int
offline_traces_start(struct offline_traces *ot, const struct sg_config *cfg, struct dp_worker *w,
	const char *dir)
{
	struct ctl_trace_cfg tc = {
		.dir = dir,
		.file_size = cfg->traces.file_size,
		.files = cfg->traces.files,
		.sample_per_s = cfg->traces.sample_per_s,
	};
	char err[512];

	if (w->trace == NULL) {
		fprintf(stderr, "sipguard: --traces: traces.recorder_frames is 0: no recorder\n");
		return SG_EXIT_USAGE;
	}
	ot->wr = ctl_trace_create(&tc, err, sizeof(err));
	if (ot->wr == NULL) {
		fprintf(stderr, "sipguard: --traces: %s\n", err);
		return SG_EXIT_USAGE;
	}
	ot->ring = rte_ring_create("sg_off_trc", cfg->traces.ring, (int)rte_socket_id(),
		RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	ot->pool = rte_mempool_create("sg_off_trc_pool", cfg->traces.ring + 1,
		dp_trace_elt_size(cfg->traces.frame_bytes), 0, 0, NULL, NULL, NULL, NULL,
		(int)rte_socket_id(), 0);
	if (ot->ring == NULL || ot->pool == NULL) {
		fprintf(stderr, "sipguard: --traces: cannot create the hand-over ring: %s\n",
			rte_strerror(rte_errno));
		return SG_EXIT_RUNTIME;
	}
	w->trace->ring = ot->ring;
	w->trace->pool = ot->pool;
	return 0;
}

static void
offline_traces_drain(struct offline_traces *ot, const struct sg_config *cfg)
{
	void *objs[64];
	unsigned int n, i;

	if (ot->ring == NULL)
		return;
	while ((n = rte_ring_sc_dequeue_burst(ot->ring, objs, RTE_DIM(objs), NULL)) > 0) {
		for (i = 0; i < n; i++) {
			const struct sg_trace_frame *f = objs[i];

			ctl_trace_frame(ot->wr, f, trace_trunk_name(cfg, f->trunk));
		}
		rte_mempool_put_bulk(ot->pool, objs, n);
	}
}

static void
offline_traces_stop(struct offline_traces *ot, const struct sg_config *cfg, struct dp_worker *w,
	const char *dir)
{
	if (ot->wr != NULL && ot->ring != NULL) {
		const struct ctl_trace_stats *s = ctl_trace_stats(ot->wr);
		const struct sg_trace_stats *r = &w->trace->own;

		offline_traces_drain(ot, cfg);
		ctl_trace_flush(ot->wr);
		fprintf(stderr,
			"sipguard: traces: %" PRIu64 " failed call(s) traced, %" PRIu64
			" frame(s) in %s (%" PRIu64 " over the sample rate, %" PRIu64
			" lost to a full ring, %" PRIu64 " with no frame recorded)\n",
			s->calls, s->frames, dir, r->suppressed + s->suppressed, r->ring_full,
			r->empty);
	}
	if (w != NULL && w->trace != NULL) {
		w->trace->ring = NULL;
		w->trace->pool = NULL;
	}
	ctl_trace_free(ot->wr);
	rte_ring_free(ot->ring);
	rte_mempool_free(ot->pool);
	memset(ot, 0, sizeof(*ot));
}

int
dp_run_offline(const struct sg_config *cfg, const struct dp_offline_opts *o)
{
	struct offline_traces ot = { 0 };
	struct dp_replay *replay = NULL;
	struct dp_totals *tot = NULL;
	struct rte_mbuf *pkts[512];
	struct rte_eth_stats st;
	struct dp_port_conf pc;
	struct dp_worker *w;
	struct dp_app a;
	char devargs[4096], err[512];
	int port, ret;

	ret = app_init(&a, cfg, o->config_path, cfg->dp.mbufs);
	if (ret != 0)
		goto out;
	ret = SG_EXIT_RUNTIME;
	a.sh->link = o->link;
	a.sh->record = o->traces != NULL;
	snprintf(devargs, sizeof(devargs), "net_pcap_sg0,rx_pcap=%s", o->pcap);
	pc = (struct dp_port_conf){ .devargs = devargs, .n_rxq = 1, .rx_desc = 1024 };
	port = dp_port_start(&pc, a.mp, &a.sh->ts_dynfield, &a.sh->ts_dynflag, err, sizeof(err));
	if (port < 0) {
		fprintf(stderr, "sipguard: %s: %s\n", o->pcap, err);
		ret = SG_EXIT_USAGE;
		goto out;
	}
	a.ports[a.n_ports++] = port;
	w = dp_worker_create(a.sh, cfg, a.proto, (int)rte_socket_id(), err, sizeof(err));
	if (w == NULL) {
		fprintf(stderr, "sipguard: %s\n", err);
		goto out;
	}
	a.workers[a.n_workers++] = w;
	w->port_id = (uint16_t)port;
	w->pkt_times = o->n_pkt_times > 0 ? o->pkt_times : NULL;
	w->n_pkt_times = o->n_pkt_times;
	if (o->traces != NULL) {
		ret = offline_traces_start(&ot, cfg, w, o->traces);
		if (ret != 0)
			goto out;
		ret = SG_EXIT_RUNTIME;
	}
	if (o->directives) {
		replay = dp_replay_create(cfg, w, o->json, stdout, err, sizeof(err));
		if (replay == NULL) {
			fprintf(stderr, "sipguard: %s\n", err);
			goto out;
		}
	}

	/*
	 * A file never runs dry before its end, and the pool cannot run out
	 * (each burst is freed before the next), so an empty burst is EOF.
	 */
	for (;;) {
		uint16_t n = rte_eth_rx_burst(
			(uint16_t)port, 0, pkts, (uint16_t)RTE_MIN(cfg->dp.burst, RTE_DIM(pkts)));

		if (n == 0)
			break;
		dp_worker_burst(w, pkts, n, NULL, 0);
		offline_traces_drain(&ot, cfg);
	}
	/* what the streams still hold behind holes is counted now */
	dp_worker_finish(w);
	if (o->traces != NULL)
		offline_traces_stop(&ot, cfg, w, o->traces);
	if (rte_eth_stats_get((uint16_t)port, &st) == 0 &&
		(st.imissed || st.ierrors || st.rx_nombuf))
		fprintf(stderr,
			"sipguard: warning: port dropped packets: missed %" PRIu64
			" errors %" PRIu64 " no-mbuf %" PRIu64 "\n",
			st.imissed, st.ierrors, st.rx_nombuf);
	if (w->src.packets != o->n_pkt_times)
		fprintf(stderr,
			"sipguard: warning: %s: the port delivered %" PRIu64 " frames, the file "
			"holds %" PRIu64 "; packet times may be off\n",
			o->pcap, w->src.packets, o->n_pkt_times);

	if (replay != NULL) {
		dp_replay_finish(replay);
		if (!o->json)
			fprintf(stdout, "%lu directive(s)\n", dp_replay_count(replay));
		ret = 0;
		goto out;
	}
	tot = calloc(1, sizeof(*tot));
	if (tot == NULL) {
		fprintf(stderr, "sipguard: out of memory\n");
		goto out;
	}
	app_totals(&a, tot);
	if (o->json) {
		json_t *doc = dp_report_json(cfg, tot);

		if (doc == NULL || json_dumpf(doc, stdout, JSON_COMPACT) != 0) {
			fprintf(stderr, "sipguard: cannot write the JSON report\n");
			json_decref(doc);
			goto out;
		}
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		dp_report_table(stdout, cfg, tot);
	}
	ret = 0;
out:
	offline_traces_stop(&ot, cfg, a.n_workers > 0 ? a.workers[0] : NULL, o->traces);
	dp_replay_free(replay);
	free(tot);
	app_fini(&a);
	return ret;
}

static uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Live, failed calls are handed over only when sipguard-ctrl writes them:
 * a recorder, a sample rate and a directory. sg_shm.traces says so.
 */
static int
live_traces_on(const struct sg_config *cfg)
{
	return cfg->traces.recorder_frames > 0 && cfg->traces.sample_per_s > 0 &&
		cfg->traces.dir[0] != '\0';
}

/* Create the shared memzone, rings and pools the control plane attaches to. */
static struct sg_shm *
live_shared(const struct sg_config *cfg, struct dp_app *a, struct rte_ring **pub,
	struct rte_ring **evt, struct rte_mempool **pub_pool, struct rte_mempool **evt_pool,
	struct rte_ring **trc, struct rte_mempool **trc_pool)
{
	const struct rte_memzone *mz;
	struct sg_shm *shm;
	char name[RTE_RING_NAMESIZE];
	unsigned int i;
	int socket = (int)rte_socket_id();

	mz = rte_memzone_reserve(SG_SHM_NAME, sizeof(*shm), socket, 0);
	if (mz == NULL) {
		fprintf(stderr,
			"sipguard: cannot create memzone %s: %s (is another sipguard "
			"running with the same file_prefix?)\n",
			SG_SHM_NAME, rte_strerror(rte_errno));
		return NULL;
	}
	shm = mz->addr;
	memset(shm, 0, sizeof(*shm));
	shm->magic = SG_SHM_MAGIC;
	shm->version = SG_SHM_VERSION;
	shm->start_time_ns = wall_ns();
	shm->tsc_hz = rte_get_tsc_hz();
	shm->traces = (uint32_t)live_traces_on(cfg);
	shm->n_trunks = cfg->n_trunks;
	for (i = 0; i < cfg->n_trunks; i++) {
		snprintf(shm->trunk_name[i], SG_TRUNK_NAME_MAX, "%s", cfg->trunks[i].name);
		shm->trunk_cps[i] = cfg->trunks[i].cps;
		shm->trunk_max_concurrent[i] = cfg->trunks[i].max_concurrent;
	}
	/*
	 * Pools sized so every ring can be full and every worker hold a
	 * full publication round besides, with the per-lcore caches off:
	 * the producer and the consumer are different processes' lcores.
	 */
	*pub_pool = rte_mempool_create(SG_POOL_PUB,
		a->n_workers * (cfg->dp.ring_size + SG_TRUNK_SLOTS) + 1, sizeof(struct sg_pub), 0,
		0, NULL, NULL, NULL, NULL, socket, 0);
	*evt_pool = rte_mempool_create(SG_POOL_EVT, a->n_workers * (cfg->dp.ring_size * 2) + 1,
		sizeof(struct sg_event), 0, 0, NULL, NULL, NULL, NULL, socket, 0);
	if (*pub_pool == NULL || *evt_pool == NULL) {
		fprintf(stderr, "sipguard: cannot create publication pools: %s\n",
			rte_strerror(rte_errno));
		return NULL;
	}
	if (live_traces_on(cfg)) {
		/* every ring full at once, and a call in hand per worker */
		*trc_pool = rte_mempool_create(SG_POOL_TRC,
			a->n_workers * (cfg->traces.ring + DP_TRACE_CALL_FRAMES) + 1,
			dp_trace_elt_size(cfg->traces.frame_bytes), 0, 0, NULL, NULL, NULL, NULL,
			socket, 0);
		if (*trc_pool == NULL) {
			fprintf(stderr, "sipguard: cannot create the trace pool: %s\n",
				rte_strerror(rte_errno));
			return NULL;
		}
	}
	for (i = 0; i < a->n_workers; i++) {
		if (*trc_pool != NULL) {
			snprintf(name, sizeof(name), SG_RING_TRC_FMT, i);
			trc[i] = rte_ring_create(name, cfg->traces.ring, socket,
				RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
			if (trc[i] == NULL) {
				fprintf(stderr, "sipguard: cannot create ring %s: %s\n", name,
					rte_strerror(rte_errno));
				return NULL;
			}
		}
		snprintf(name, sizeof(name), SG_RING_PUB_FMT, i);
		pub[i] = rte_ring_create(name, cfg->dp.ring_size, socket,
			RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		snprintf(name, sizeof(name), SG_RING_EVT_FMT, i);
		evt[i] = rte_ring_create(name, cfg->dp.ring_size, socket,
			RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (pub[i] == NULL || evt[i] == NULL) {
			fprintf(stderr, "sipguard: cannot create ring %s: %s\n", name,
				rte_strerror(rte_errno));
			return NULL;
		}
	}
	return shm;
}

/*
 * Frames the kernel passed over an interface, both directions: what a
 * packet socket on it is offered. The af_packet PMD of this DPDK does not
 * report the frames its kernel ring dropped, so for such ports the drops
 * are what the kernel offered minus what the port received.
 */
static int
kernel_frames(const char *devargs, uint64_t *frames)
{
	const char *p = strstr(devargs, "iface=");
	char ifname[64], path[160];
	uint64_t v, sum = 0;
	const char *dir[2] = { "rx_packets", "tx_packets" };
	unsigned int i;
	size_t n;
	FILE *f;

	if (strncmp(devargs, "net_af_packet", 13) != 0 || p == NULL)
		return -1;
	p += 6;
	n = strcspn(p, ",");
	if (n == 0 || n >= sizeof(ifname))
		return -1;
	memcpy(ifname, p, n);
	ifname[n] = '\0';
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, dir[i]);
		f = fopen(path, "r");
		if (f == NULL)
			return -1;
		if (fscanf(f, "%" SCNu64, &v) != 1) {
			fclose(f);
			return -1;
		}
		fclose(f);
		sum += v;
	}
	*frames = sum;
	return 0;
}

static void
live_port_stats(const struct dp_app *a, const struct sg_config *cfg, struct sg_shm *shm,
	const uint64_t *kernel_base)
{
	struct rte_eth_stats st;
	uint64_t kf;
	unsigned int i;

	for (i = 0; i < a->n_ports; i++) {
		struct sg_port_stats *ps = &shm->ports[i];

		if (rte_eth_stats_get((uint16_t)a->ports[i], &st) != 0)
			continue;
		ps->rx_packets = st.ipackets;
		ps->rx_bytes = st.ibytes;
		ps->rx_missed = st.imissed;
		if (kernel_base[i] != UINT64_MAX &&
			kernel_frames(cfg->ports[i].devargs, &kf) == 0 &&
			kf - kernel_base[i] > st.ipackets + st.imissed)
			ps->rx_missed = kf - kernel_base[i] - st.ipackets;
		ps->rx_errors = st.ierrors;
		ps->rx_nombuf = st.rx_nombuf;
	}
	shm->housekeeping_ns = wall_ns();
}

int
dp_run_live(
	const struct sg_config *cfg, const char *config_path, volatile int *quit, volatile int *hup)
{
	struct dp_reload *reload = NULL;
	struct rte_ring *pub[SG_MAX_WORKERS] = { 0 }, *evt[SG_MAX_WORKERS] = { 0 };
	struct rte_ring *trc[SG_MAX_WORKERS] = { 0 };
	struct dp_worker_run runs[SG_MAX_WORKERS];
	struct rte_mempool *pub_pool = NULL, *evt_pool = NULL, *trc_pool = NULL;
	struct sg_shm *shm;
	struct dp_app a;
	const struct rte_memzone *mz;
	unsigned int lcore, i, q, n_queues = 0, launched = 0;
	char ready[PATH_MAX] = "";
	uint64_t kernel_base[SG_MAX_PORTS];
	int shared_kept = 0;
	FILE *rf;
	char err[512];
	int ret;

	for (i = 0; i < cfg->n_ports; i++)
		n_queues += cfg->ports[i].rxq;
	if (n_queues != rte_lcore_count() - 1) {
		fprintf(stderr,
			"sipguard: %s: %u RX queues need %u worker lcores, EAL has %u "
			"(dataplane.lcores: the first lcore is the main one)\n",
			config_path, n_queues, n_queues, rte_lcore_count() - 1);
		return SG_EXIT_USAGE;
	}
	/* a ready file left by a dataplane that crashed must not invite ctrl in */
	snprintf(ready, sizeof(ready), "%s/%s", rte_eal_get_runtime_dir(), SG_READY_FILE);
	unlink(ready);
	ret = app_init(&a, cfg, config_path, cfg->dp.mbufs);
	if (ret != 0)
		goto out;
	ret = SG_EXIT_RUNTIME;
	a.sh->link = DP_LINK_ETHER;
	a.sh->record = live_traces_on(cfg);
	if (rte_pdump_init() != 0)
		fprintf(stderr, "sipguard: warning: packet capture (pdump) unavailable: %s\n",
			rte_strerror(rte_errno));
	for (i = 0; i < cfg->n_ports; i++) {
		struct dp_port_conf pc = {
			.devargs = cfg->ports[i].devargs,
			.n_rxq = (uint16_t)cfg->ports[i].rxq,
			.rx_desc = (uint16_t)cfg->dp.rx_desc,
			.promisc = 1,
		};
		int fld;
		uint64_t flag;
		int port = dp_port_start(&pc, a.mp, &fld, &flag, err, sizeof(err));

		if (port < 0) {
			fprintf(stderr, "sipguard: %s: %s\n", config_path, err);
			ret = SG_EXIT_USAGE;
			goto out;
		}
		kernel_base[a.n_ports] = UINT64_MAX;
		kernel_frames(cfg->ports[i].devargs, &kernel_base[a.n_ports]);
		a.ports[a.n_ports++] = port;
		/* live: the TSC is the clock (ports' timestamps are not wall time) */
	}
	i = 0;
	lcore = rte_get_next_lcore(-1, 1, 0);
	for (unsigned int p = 0; p < a.n_ports; p++) {
		for (q = 0; q < cfg->ports[p].rxq; q++) {
			struct dp_worker *w = dp_worker_create(a.sh, cfg, a.proto,
				(int)rte_lcore_to_socket_id(lcore), err, sizeof(err));

			if (w == NULL) {
				fprintf(stderr, "sipguard: %s\n", err);
				goto out;
			}
			w->index = i;
			w->lcore_id = lcore;
			w->port_id = (uint16_t)a.ports[p];
			w->queue_id = (uint16_t)q;
			w->burst = (uint16_t)cfg->dp.burst;
			a.workers[a.n_workers++] = w;
			lcore = rte_get_next_lcore(lcore, 1, 0);
			i++;
		}
	}
	if (a.n_workers > 1 && cfg->dp.steer_ring > 0) {
		if (dp_steer_create(&a.steer, a.n_workers, cfg->dp.steer_ring, (int)rte_socket_id(),
			    err, sizeof(err)) != 0) {
			fprintf(stderr, "sipguard: %s: %s\n", config_path, err);
			goto out;
		}
		for (i = 0; i < a.n_workers; i++)
			a.workers[i]->steer = &a.steer;
	}
	shm = live_shared(cfg, &a, pub, evt, &pub_pool, &evt_pool, trc, &trc_pool);
	if (shm == NULL)
		goto out;
	reload = dp_reload_create(
		cfg, config_path, a.sh, a.n_workers, (int)rte_socket_id(), err, sizeof(err));
	if (reload == NULL) {
		fprintf(stderr, "sipguard: %s\n", err);
		goto out;
	}
	dp_reload_attach(reload, shm);
	shm->n_workers = a.n_workers;
	shm->n_ports = a.n_ports;
	for (i = 0; i < a.n_ports; i++)
		rte_eth_dev_get_name_by_port((uint16_t)a.ports[i], shm->ports[i].name);
	for (i = 0; i < a.n_workers; i++) {
		struct dp_worker *w = a.workers[i];

		shm->worker_lcore[i] = w->lcore_id;
		shm->worker_port[i] = w->port_id;
		shm->worker_queue[i] = w->queue_id;
		w->ln = (struct dp_worker_link){
			.pub_ring = pub[i],
			.evt_ring = evt[i],
			.pub_pool = pub_pool,
			.evt_pool = evt_pool,
			.stats = &shm->workers[i],
			.ctrl_generation = &shm->ctrl_generation,
			.publish_cycles = rte_get_tsc_hz() * cfg->dp.publish_ms / 1000,
			.qsbr = dp_reload_qsbr(reload),
		};
		if (w->trace != NULL) {
			w->trace->cfg.worker = (uint16_t)i;
			w->trace->ring = trc[i];
			w->trace->pool = trc_pool;
		}
		runs[i] = (struct dp_worker_run){ .w = w, .quit = quit };
		if (rte_eal_remote_launch(dp_worker_main, &runs[i], w->lcore_id) != 0) {
			fprintf(stderr, "sipguard: cannot launch worker on lcore %u\n",
				w->lcore_id);
			goto out;
		}
		launched++;
	}
	/* a live view for dpdk-telemetry clients; counting does not need it */
	if (dp_telemetry_start(a.workers, a.n_workers, shm, err, sizeof(err)) != 0)
		fprintf(stderr, "sipguard: warning: %s\n", err);
	snprintf(ready, sizeof(ready), "%s/%s", rte_eal_get_runtime_dir(), SG_READY_FILE);
	rf = fopen(ready, "w");
	if (rf != NULL) {
		fprintf(rf, "%ld\n", (long)getpid());
		fclose(rf);
	}
	fprintf(stderr, "sipguard: running: %u port(s), %u worker(s), %u trunk(s)\n", a.n_ports,
		a.n_workers, cfg->n_trunks);
	/* after the ready file: sipguard-ctrl, started on READY=1, finds it */
	sg_notify_ready("running: %u port(s), %u worker(s), %u trunk(s)", a.n_ports, a.n_workers,
		cfg->n_trunks);

	/* main lcore: housekeeping only */
	while (!*quit) {
		live_port_stats(&a, cfg, shm, kernel_base);
		dp_reload_poll(reload, hup);
		rte_delay_us_sleep(100000);
	}
	sg_notify_stopping("stopping: workers publish their last counters");
	unlink(ready);
	rte_eal_mp_wait_lcore();
	live_port_stats(&a, cfg, shm, kernel_base);
	/* after the workers' last publications: ctrl drains, then leaves */
	__atomic_store_n(&shm->stopped, 1, __ATOMIC_RELEASE);
	{
		uint64_t rx = 0, missed = 0;

		for (i = 0; i < a.n_ports; i++) {
			rx += shm->ports[i].rx_packets;
			missed += shm->ports[i].rx_missed;
		}
		fprintf(stderr, "sipguard: stopped: rx %" PRIu64 " missed %" PRIu64 "\n", rx,
			missed);
	}
	ret = 0;
	shared_kept = 1;
out:
	if (ready[0] != '\0')
		unlink(ready);
	if (ret != 0 && launched > 0) {
		*quit = 1;
		rte_eal_mp_wait_lcore();
	}
	dp_telemetry_stop(); /* before the workers it reads are freed */
	app_fini(&a);
	dp_reload_free(reload);
	/*
	 * After a run, the shared objects stay: freeing them would unmap
	 * their pages in a control plane still reading them. They go with
	 * the process. A failed start frees them (no control plane came).
	 */
	if (shared_kept)
		return ret;
	for (i = 0; i < SG_MAX_WORKERS; i++) {
		rte_ring_free(pub[i]);
		rte_ring_free(evt[i]);
		rte_ring_free(trc[i]);
	}
	rte_mempool_free(pub_pool);
	rte_mempool_free(evt_pool);
	rte_mempool_free(trc_pool);
	mz = rte_memzone_lookup(SG_SHM_NAME);
	if (mz != NULL)
		rte_memzone_free(mz);
	return ret;
}

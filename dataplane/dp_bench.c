/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark mode (see dp_bench.h). Each worker lcore owns one port that
 * replays the same capture for ever, in memory, so the figures are the
 * pipeline's own, with no disk or kernel in them. Two kinds of port:
 * - pcap: net_pcap with infinite_rx. The PMD holds the file in mbufs and
 *   hands out a fresh copy of each frame: a memcpy per packet that no NIC
 *   costs the CPU (a NIC writes by DMA), and that leaves every frame in
 *   L1 just before the worker reads it.
 * - ring: net_ring, fed like a NIC's descriptor ring. The file is read
 *   once through net_pcap into a store of frames. Before each receive,
 *   inside the timed region, the bench does what a driver's receive does:
 *   it takes mbufs from a mempool (recycled, so their headers are warm, as
 *   a driver's are), points each at the next stored frame and writes its
 *   lengths, and puts them on the ring. The frame data is what a NIC
 *   writes by DMA: not copied, not touched, found wherever the last pass
 *   over the file left it (L3 or memory: the file is larger than L2).
 * Cycles are counted with the TSC
 * around non-empty bursts only (the receive call included, as in
 * dp_worker_main), so an idle poll never dilutes the per-packet figure.
 *
 * Every time a worker has been handed the whole file once, its
 * retransmission and dialog tables are emptied (outside the timed
 * region): otherwise every message after the first pass would be a
 * retransmission of itself, a path the live traffic rarely takes.
 *
 * One JSON line on stdout; scripts/bench reads it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <jansson.h>

#include "dp_bench.h"
#include "dp_naive.h"
#include "dp_port.h"
#include "dp_sip.h"
#include "dp_trunk.h"
#include "dp_worker.h"

enum dp_bench_mode {
	DP_BENCH_FULL,
	DP_BENCH_IO,
	DP_BENCH_NAIVE,
	DP_BENCH_HS, /* full, with the Hyperscan engine */
};

/* A stored frame as a driver would know it: where DMA put it. */
struct bench_frame {
	void *buf_addr;
	rte_iova_t buf_iova;
	uint16_t buf_len;
	uint16_t data_off;
	uint16_t len;
};

struct dp_bench_worker {
	struct dp_worker *w;
	struct rte_rcu_qsbr *qsbr; /* as live: trunk table readers */
	uint32_t index;
	hs_scratch_t *naive_scratch;
	const struct dp_naive *nv;
	const struct sg_config *cfg;
	enum dp_bench_mode mode;
	/* ring port: the file's frames, and where the port's mbufs come from */
	struct rte_mbuf **store;   /* the frames, held for the whole run */
	struct bench_frame *frame; /* where each one's data is */
	uint32_t store_n;
	uint32_t store_next;
	struct rte_mempool *feed_pool;
	struct rte_ring *feed;
	uint16_t port;
	uint16_t burst;
	unsigned int lcore;
	uint64_t deadline;    /* TSC */
	uint64_t file_frames; /* frames per pass over the capture */
	/* results */
	uint64_t busy_cycles;
	uint64_t wall_cycles;
	uint64_t packets;
	uint64_t bytes;
	uint64_t bursts;
	uint64_t passes;
	uint64_t hs_matches;
	uint64_t retrans_evictions;
	uint64_t dialog_evictions;
	int failed;
} __rte_cache_aligned;

/* Empty the per-worker tables between passes over the capture. */
static int
bench_reset_tables(struct dp_bench_worker *bw)
{
	struct dp_worker *w = bw->w;
	int socket = (int)rte_socket_id();

	bw->dialog_evictions += dp_dialogs_stats(w->dlg)->evicted;
	dp_dialogs_free(w->dlg);
	w->dlg =
		dp_dialogs_create(bw->cfg->dp.dialog_entries, bw->cfg->dp.dialog_timeout_s, socket);
	if (w->dlg == NULL)
		return -1;
	dp_retrans_reset(w->rt);
	/* the next pass's fragments are new datagrams, not duplicates */
	dp_frag_forget(w->frag);
	return 0;
}

/*
 * The driver's half of a receive on the ring port: `burst` mbufs from
 * the pool, each pointed at the next stored frame, onto the ring. The
 * worker frees them back to the pool; the stored frames stay.
 */
static inline void
bench_feed(struct dp_bench_worker *bw, uint16_t burst)
{
	struct rte_mbuf *ms[512];
	uint32_t k;

	if (rte_pktmbuf_alloc_bulk(bw->feed_pool, ms, burst) != 0)
		return;
	for (k = 0; k < burst; k++) {
		const struct bench_frame *f = &bw->frame[bw->store_next];
		struct rte_mbuf *m = ms[k];

		m->buf_addr = f->buf_addr;
		rte_mbuf_iova_set(m, f->buf_iova);
		m->buf_len = f->buf_len;
		m->data_off = f->data_off;
		m->data_len = f->len;
		m->pkt_len = f->len;
		m->port = bw->port;
		bw->store_next = bw->store_next + 1 == bw->store_n ? 0 : bw->store_next + 1;
	}
	k = rte_ring_sp_enqueue_burst(bw->feed, (void **)ms, burst, NULL);
	if (k < burst)
		rte_pktmbuf_free_bulk(ms + k, burst - k);
}

static int
bench_lcore(void *arg)
{
	struct dp_bench_worker *bw = arg;
	struct dp_worker *w = bw->w;
	struct rte_mbuf *bufs[2][512];
	struct rte_mbuf **pkts = bufs[0], **next = bufs[1], **tmp;
	uint64_t matches0 = dp_sip_match_count(), naive_matches = 0;
	uint64_t busy = 0, packets = 0, bytes = 0, bursts = 0, in_pass = 0;
	uint64_t start = rte_rdtsc(), t0, t1;
	uint16_t burst = RTE_MIN(bw->burst, (uint16_t)RTE_DIM(bufs[0]));
	uint16_t n = 0, n_next = 0;

	/*
	 * The worker's own loop (dp_worker_main): a full burst takes the
	 * next one before it is worked, inside the timed region, and so do
	 * its reload duties (take the trunk table, report quiescence).
	 */
	rte_rcu_qsbr_thread_register(bw->qsbr, bw->index);
	rte_rcu_qsbr_thread_online(bw->qsbr, bw->index);
	while ((t0 = rte_rdtsc()) < bw->deadline || n > 0) {
		uint16_t i;

		if (n == 0) {
			if (bw->feed != NULL)
				bench_feed(bw, burst);
			n = rte_eth_rx_burst(bw->port, 0, pkts, burst);
		}
		if (n == 0)
			continue;
		switch (bw->mode) {
		case DP_BENCH_FULL:
		case DP_BENCH_HS:
			if (n == burst && t0 < bw->deadline) {
				if (bw->feed != NULL)
					bench_feed(bw, burst);
				n_next = rte_eth_rx_burst(bw->port, 0, next, burst);
			}
			dp_worker_trunks_refresh(w);
			dp_worker_burst(w, pkts, n, next, n_next);
			rte_rcu_qsbr_quiescent(bw->qsbr, bw->index);
			break;
		case DP_BENCH_NAIVE:
			dp_naive_burst(w, bw->nv, bw->naive_scratch, pkts, n, &naive_matches);
			break;
		case DP_BENCH_IO:
			for (i = 0; i < n; i++)
				bytes += pkts[i]->pkt_len;
			rte_pktmbuf_free_bulk(pkts, n);
			break;
		}
		t1 = rte_rdtsc();
		busy += t1 - t0;
		packets += n;
		bursts++;
		in_pass += n;
		tmp = pkts;
		pkts = next;
		next = tmp;
		n = n_next;
		n_next = 0;
		if (in_pass >= bw->file_frames) {
			in_pass -= bw->file_frames;
			bw->passes++;
			if (bw->mode != DP_BENCH_IO && bench_reset_tables(bw) != 0) {
				bw->failed = 1;
				break;
			}
		}
	}
	if (n > 0)
		rte_pktmbuf_free_bulk(pkts, n);
	bw->wall_cycles = rte_rdtsc() - start;
	rte_rcu_qsbr_thread_offline(bw->qsbr, bw->index);
	rte_rcu_qsbr_thread_unregister(bw->qsbr, bw->index);
	bw->busy_cycles = busy;
	bw->packets = packets;
	bw->bursts = bursts;
	bw->bytes = bw->mode == DP_BENCH_IO ? bytes : w->src.bytes;
	bw->hs_matches =
		bw->mode == DP_BENCH_NAIVE ? naive_matches : dp_sip_match_count() - matches0;
	return 0;
}

/* One "Key: N kB" line of /proc/self/status, in bytes; 0 when absent. */
static uint64_t
bench_proc_status(const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	uint64_t v = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = strtoull(line + kl + 1, NULL, 10) * 1024;
			break;
		}
	}
	fclose(f);
	return v;
}

/* Bytes the DPDK heaps hand out right now, every socket. */
static uint64_t
bench_heap_in_use(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t sum = 0;
	unsigned int s;

	for (s = 0; s < rte_socket_count(); s++) {
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0)
			sum += st.heap_allocsz_bytes;
	}
	return sum;
}

/*
 * Measured, not computed: the heap growth for one table of the
 * configured size, divided by its capacity.
 */
static void
bench_table_bytes(const struct sg_config *cfg, json_t *mem)
{
	int socket = (int)rte_socket_id();
	uint64_t h0 = bench_heap_in_use(), h1;
	struct dp_retrans *rt =
		dp_retrans_create(cfg->dp.retrans_entries, cfg->dp.retrans_window_s * 1000, socket);
	struct dp_dialogs *d;

	h1 = bench_heap_in_use();
	if (rt != NULL) {
		json_object_set_new(mem, "retrans_entries", json_integer(dp_retrans_capacity(rt)));
		json_object_set_new(
			mem, "retrans_table_bytes", json_integer((json_int_t)(h1 - h0)));
		json_object_set_new(mem, "bytes_per_transaction",
			json_real((double)(h1 - h0) / dp_retrans_capacity(rt)));
		dp_retrans_free(rt);
	}
	h0 = bench_heap_in_use();
	d = dp_dialogs_create(cfg->dp.dialog_entries, cfg->dp.dialog_timeout_s, socket);
	h1 = bench_heap_in_use();
	if (d != NULL) {
		json_object_set_new(mem, "dialog_entries", json_integer(dp_dialogs_capacity(d)));
		json_object_set_new(mem, "dialog_table_bytes", json_integer((json_int_t)(h1 - h0)));
		json_object_set_new(mem, "bytes_per_dialog",
			json_real((double)(h1 - h0) / dp_dialogs_capacity(d)));
		dp_dialogs_free(d);
	}
}

/*
 * The ring port of worker i: one pass over the capture read through the
 * pcap port into the store, and a net_ring port over a ring that
 * bench_feed fills. Returns the ring port, or -1 with err.
 */
static int
bench_ring_port(struct dp_bench_worker *bw, unsigned int i, uint16_t pcap_port,
	struct rte_mempool *mp, char *err, size_t errlen)
{
	struct dp_port_conf pc;
	char name[RTE_RING_NAMESIZE], dev[RTE_ETH_NAME_MAX_LEN], pool[RTE_MEMPOOL_NAMESIZE];
	uint32_t k;
	int socket = (int)rte_socket_id(), port, fld;
	uint64_t flag;
	uint16_t n;

	bw->store = rte_malloc_socket(
		"dp_bench_store", sizeof(bw->store[0]) * bw->file_frames, 0, socket);
	bw->frame = rte_malloc_socket(
		"dp_bench_frames", sizeof(bw->frame[0]) * bw->file_frames, 0, socket);
	snprintf(name, sizeof(name), "net_ring_bench%u", i);
	/* a NIC-sized ring and the mbufs for it: headers only, no data room */
	bw->feed = rte_ring_create(name, 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(pool, sizeof(pool), "sg_bench_feed%u", i);
	bw->feed_pool = rte_pktmbuf_pool_create(pool, 2047, 256, 0, 0, socket);
	if (bw->store == NULL || bw->frame == NULL || bw->feed == NULL || bw->feed_pool == NULL) {
		snprintf(err, errlen, "ring port: out of memory for %" PRIu64 " frames: %s",
			bw->file_frames, rte_strerror(rte_errno));
		return -1;
	}
	while (bw->store_n < bw->file_frames) {
		n = rte_eth_rx_burst(pcap_port, 0, bw->store + bw->store_n,
			(uint16_t)RTE_MIN((uint64_t)64, bw->file_frames - bw->store_n));
		bw->store_n += n;
	}
	for (k = 0; k < bw->store_n; k++) {
		const struct rte_mbuf *m = bw->store[k];

		if (m->nb_segs != 1) {
			snprintf(err, errlen, "ring port: frame %u is chained", k);
			return -1;
		}
		bw->frame[k] = (struct bench_frame){ .buf_addr = m->buf_addr,
			.buf_iova = rte_mbuf_iova_get(m),
			.buf_len = m->buf_len,
			.data_off = m->data_off,
			.len = m->data_len };
	}
	port = rte_eth_from_rings(name, &bw->feed, 1, &bw->feed, 1, (unsigned int)socket);
	/* started by the name the PMD gave it, which is not quite `name` */
	if (port < 0 || rte_eth_dev_get_name_by_port((uint16_t)port, dev) != 0) {
		snprintf(err, errlen, "ring port: cannot create %s: %s", name,
			rte_strerror(rte_errno));
		return -1;
	}
	pc = (struct dp_port_conf){ .devargs = dev, .n_rxq = 1, .rx_desc = 1024 };
	return dp_port_start(&pc, mp, &fld, &flag, err, errlen);
}

static json_t *
bench_worker_json(const struct dp_bench_worker *bw, uint64_t hz)
{
	double busy_s = (double)bw->busy_cycles / (double)hz;
	double pk = bw->packets > 0 ? (double)bw->packets : 1.0;
	uint64_t msgs = bw->mode == DP_BENCH_IO ? 0 : bw->w->src.sip_messages;
	uint64_t retrans = 0;
	unsigned int t;

	for (t = 0; bw->mode != DP_BENCH_IO && t < SG_TRUNK_SLOTS; t++)
		retrans += bw->w->trunk[t].retransmissions;
	return json_pack("{s:i, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I}",
		"lcore", (int)bw->lcore, "packets", (json_int_t)bw->packets, "bytes",
		(json_int_t)bw->bytes, "busy_cycles", (json_int_t)bw->busy_cycles, "wall_cycles",
		(json_int_t)bw->wall_cycles, "bursts", (json_int_t)bw->bursts, "cycles_per_packet",
		(double)bw->busy_cycles / pk, "mpps",
		busy_s > 0 ? (double)bw->packets / busy_s / 1e6 : 0.0, "gbps",
		busy_s > 0 ? (double)bw->bytes * 8 / busy_s / 1e9 : 0.0, "busy_share",
		bw->wall_cycles > 0 ? (double)bw->busy_cycles / (double)bw->wall_cycles : 0.0,
		"hs_matches_per_packet", (double)bw->hs_matches / pk, "sip_messages_per_packet",
		(double)msgs / pk, "retrans_share", msgs > 0 ? (double)retrans / (double)msgs : 0.0,
		"passes", (json_int_t)bw->passes);
}

int
dp_run_bench(const struct sg_config *cfg, const struct dp_offline_opts *o, unsigned int seconds,
	const char *mode, const char *port_kind)
{
	int ring = port_kind != NULL && strcmp(port_kind, "ring") == 0;
	struct dp_bench_worker *bws = NULL;
	struct dp_worker_shared *sh = NULL;
	struct rte_rcu_qsbr *qsbr = NULL;
	struct dp_trunks *trunks = NULL;
	struct dp_sip_db *db = NULL;
	struct dp_naive *nv = NULL;
	struct dp_diag *diag = NULL;
	hs_scratch_t *diag_proto = NULL;
	uint64_t tot_diag = 0;
	struct rte_mempool *mp = NULL;
	hs_scratch_t *proto = NULL;
	json_t *doc = NULL, *arr, *mem;
	int ports[SG_MAX_WORKERS];
	unsigned int nw = rte_lcore_count(), i, lcore, n_ports = 0;
	int socket = (int)rte_socket_id(), ret = 1;
	uint64_t hz = rte_get_tsc_hz(), heap0, pool_bytes, tables0, tables_bytes = 0;
	uint64_t tot_pk = 0, tot_busy = 0, tot_bytes = 0, max_wall = 0, tot_matches = 0;
	uint32_t nmbufs;
	enum dp_bench_mode bm;
	char err[512];
	size_t scratch_size = 0;

	if (strcmp(mode, "io") == 0)
		bm = DP_BENCH_IO;
	else if (strcmp(mode, "naive") == 0)
		bm = DP_BENCH_NAIVE;
	else if (strcmp(mode, "hyperscan") == 0)
		bm = DP_BENCH_HS;
	else
		bm = DP_BENCH_FULL;
	if (o->n_pkt_times == 0) {
		fprintf(stderr, "sipguard: %s: no frames to replay\n", o->pcap);
		return 2;
	}
	heap0 = bench_heap_in_use();
	db = dp_sip_db_create(err, sizeof(err));
	if (db == NULL || dp_sip_scratch_alloc(db, &proto) != 0) {
		fprintf(stderr, "sipguard: %s\n", db == NULL ? err : "cannot allocate scratch");
		goto out;
	}
	if (bm == DP_BENCH_NAIVE) {
		nv = dp_naive_create(err, sizeof(err));
		if (nv == NULL) {
			fprintf(stderr, "sipguard: %s\n", err);
			goto out;
		}
	}
	/* the config's diagnosis rules, as the dataplane runs them */
	diag = dp_diag_create(cfg, o->config_path, err, sizeof(err));
	if (diag == NULL || dp_diag_scratch_alloc(diag, &diag_proto) != 0) {
		fprintf(stderr, "sipguard: %s\n",
			diag == NULL ? err : "cannot allocate the diagnosis scratch");
		goto out;
	}
	trunks = dp_trunks_create(cfg, "sg_bench_trunks", socket, err, sizeof(err));
	sh = rte_zmalloc_socket("dp_bench_shared", sizeof(*sh), RTE_CACHE_LINE_SIZE, socket);
	bws = rte_zmalloc_socket("dp_bench", sizeof(*bws) * nw, RTE_CACHE_LINE_SIZE, socket);
	qsbr = rte_zmalloc_socket(
		"dp_bench_qsbr", rte_rcu_qsbr_get_memsize(nw), RTE_CACHE_LINE_SIZE, socket);
	if (qsbr != NULL && rte_rcu_qsbr_init(qsbr, nw) != 0) {
		rte_free(qsbr);
		qsbr = NULL;
	}
	if (trunks == NULL || sh == NULL || bws == NULL || qsbr == NULL) {
		fprintf(stderr, "sipguard: %s\n", trunks == NULL ? err : "out of memory");
		goto out;
	}
	dp_worker_shared_init(sh, cfg);
	if (bm == DP_BENCH_HS)
		sh->parser = SG_PARSER_HYPERSCAN;
	else if (bm == DP_BENCH_FULL)
		sh->parser = SG_PARSER_LINEWALK;
	sh->db = db;
	sh->trunks = trunks;
	sh->link = o->link;
	sh->diag = diag;
	sh->diag_proto = diag_proto;

	/*
	 * The file once per port (net_pcap keeps it in mbufs; a ring port
	 * lends a second copy), plus what the bursts and caches hold.
	 */
	nmbufs = (uint32_t)(nw * (o->n_pkt_times * (ring ? 2 : 1) + 1024 + 512));
	pool_bytes = bench_heap_in_use();
	mp = rte_pktmbuf_pool_create(
		"sg_bench_mbuf", nmbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (mp == NULL) {
		fprintf(stderr, "sipguard: out of memory (mbuf pool of %u for the replay): %s\n",
			nmbufs, rte_strerror(rte_errno));
		goto out;
	}
	pool_bytes = bench_heap_in_use() - pool_bytes;

	lcore = rte_get_main_lcore();
	tables0 = bench_heap_in_use();
	for (i = 0; i < nw; i++) {
		struct dp_bench_worker *bw = &bws[i];
		char devargs[4096];
		struct dp_port_conf pc;
		int fld, port;
		uint64_t flag;

		snprintf(devargs, sizeof(devargs), "net_pcap_bench%u,rx_pcap=%s,infinite_rx=1", i,
			o->pcap);
		pc = (struct dp_port_conf){ .devargs = devargs, .n_rxq = 1, .rx_desc = 1024 };
		port = dp_port_start(&pc, mp, &fld, &flag, err, sizeof(err));
		if (port < 0) {
			fprintf(stderr, "sipguard: %s: %s\n", o->pcap, err);
			goto out;
		}
		ports[n_ports++] = port;
		bw->file_frames = o->n_pkt_times;
		if (ring) {
			port = bench_ring_port(bw, i, (uint16_t)port, mp, err, sizeof(err));
			if (port < 0) {
				fprintf(stderr, "sipguard: %s: %s\n", o->pcap, err);
				goto out;
			}
			ports[n_ports++] = port;
		}
		bw->w = dp_worker_create(sh, cfg, proto, socket, err, sizeof(err));
		if (bw->w == NULL) {
			fprintf(stderr, "sipguard: %s\n", err);
			goto out;
		}
		if (nv != NULL && dp_naive_scratch_alloc(nv, &bw->naive_scratch) != 0) {
			fprintf(stderr, "sipguard: naive: cannot allocate scratch\n");
			goto out;
		}
		bw->nv = nv;
		bw->cfg = cfg;
		bw->qsbr = qsbr;
		bw->index = i;
		bw->mode = bm;
		bw->port = (uint16_t)port;
		bw->burst = (uint16_t)cfg->dp.burst;
		bw->lcore = lcore;
		bw->w->index = i;
		bw->w->lcore_id = lcore;
		bw->w->port_id = (uint16_t)port;
		lcore = rte_get_next_lcore(lcore, 1, 0);
	}
	/* the workers' tables and scratch, without the replay ports' mbufs */
	tables_bytes = bench_heap_in_use() - tables0;
	/* the TSC is the packet clock here: the file's times repeat */
	sh->ts_dynfield = -1;
	sh->ts_dynflag = 0;
	if (hs_scratch_size(proto, &scratch_size) != HS_SUCCESS)
		scratch_size = 0;

	{
		uint64_t deadline = rte_rdtsc() + (uint64_t)seconds * hz;

		for (i = 0; i < nw; i++)
			bws[i].deadline = deadline;
		for (i = 1; i < nw; i++) {
			if (rte_eal_remote_launch(bench_lcore, &bws[i], bws[i].lcore) != 0) {
				fprintf(stderr, "sipguard: cannot launch worker on lcore %u\n",
					bws[i].lcore);
				bws[i].failed = 1;
			}
		}
		bench_lcore(&bws[0]);
		rte_eal_mp_wait_lcore();
	}

	arr = json_array();
	for (i = 0; i < nw; i++) {
		if (bws[i].failed) {
			fprintf(stderr, "sipguard: bench worker %u failed\n", i);
			json_decref(arr);
			goto out;
		}
		json_array_append_new(arr, bench_worker_json(&bws[i], hz));
		tot_pk += bws[i].packets;
		tot_busy += bws[i].busy_cycles;
		tot_bytes += bws[i].bytes;
		tot_matches += bws[i].hs_matches;
		for (int t = 0; bws[i].w != NULL && t < SG_TRUNK_SLOTS; t++) {
			for (int k = 0; k < SG_DIAG_COUNT; k++)
				tot_diag += bws[i].w->trunk[t].diagnosis[k];
		}
		max_wall = RTE_MAX(max_wall, bws[i].wall_cycles);
	}
	mem = json_object();
	bench_table_bytes(cfg, mem);
	json_object_set_new(mem, "vm_rss", json_integer((json_int_t)bench_proc_status("VmRSS")));
	json_object_set_new(mem, "vm_hwm", json_integer((json_int_t)bench_proc_status("VmHWM")));
	json_object_set_new(
		mem, "hugetlb", json_integer((json_int_t)bench_proc_status("HugetlbPages")));
	json_object_set_new(mem, "heap_in_use", json_integer((json_int_t)bench_heap_in_use()));
	json_object_set_new(mem, "heap_at_start", json_integer((json_int_t)heap0));
	json_object_set_new(mem, "replay_pool_bytes", json_integer((json_int_t)pool_bytes));
	json_object_set_new(mem, "worker_bytes", json_integer((json_int_t)(tables_bytes / nw)));
	json_object_set_new(mem, "hs_scratch_bytes", json_integer((json_int_t)scratch_size));
	doc = json_pack(
		"{s:s, s:s, s:i, s:i, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:o}",
		"mode", mode, "port", ring ? "ring" : "pcap", "workers", (int)nw, "seconds",
		(int)seconds, "pcap", o->pcap, "file_frames", (json_int_t)o->n_pkt_times, "tsc_hz",
		(json_int_t)hz, "cycles_per_packet",
		tot_pk > 0 ? (double)tot_busy / (double)tot_pk : 0.0, "mpps",
		max_wall > 0 ? (double)tot_pk / ((double)max_wall / (double)hz) / 1e6 : 0.0, "gbps",
		max_wall > 0 ? (double)tot_bytes * 8 / ((double)max_wall / (double)hz) / 1e9 : 0.0,
		"mpps_busy",
		tot_busy > 0 ? (double)tot_pk / ((double)tot_busy / (double)hz) / 1e6 * nw : 0.0,
		"hs_matches_per_packet", tot_pk > 0 ? (double)tot_matches / (double)tot_pk : 0.0,
		"mean_frame_bytes", tot_pk > 0 ? (double)tot_bytes / (double)tot_pk : 0.0,
		"per_worker", arr, "memory", mem);
	if (doc != NULL) {
		/* what the diagnosis rules cost is paid per answer they scan */
		json_object_set_new(doc, "diag_rules", json_integer(dp_diag_n_rules(diag)));
		json_object_set_new(doc, "diag_answers_per_packet",
			json_real(tot_pk > 0 ? (double)tot_diag / (double)tot_pk : 0.0));
	}
	if (doc == NULL || json_dumpf(doc, stdout, JSON_COMPACT) != 0) {
		fprintf(stderr, "sipguard: cannot write the bench report\n");
		goto out;
	}
	fputc('\n', stdout);
	ret = 0;
out:
	json_decref(doc);
	for (i = 0; bws != NULL && i < nw; i++) {
		if (bws[i].naive_scratch != NULL)
			hs_free_scratch(bws[i].naive_scratch);
		dp_worker_free(bws[i].w);
	}
	for (i = 0; i < n_ports; i++)
		dp_port_stop((uint16_t)ports[i]);
	for (i = 0; bws != NULL && i < nw; i++) {
		uint32_t k;

		for (k = 0; k < bws[i].store_n; k++)
			rte_pktmbuf_free(bws[i].store[k]);
		rte_free(bws[i].store);
		rte_free(bws[i].frame);
		rte_ring_free(bws[i].feed);
		rte_mempool_free(bws[i].feed_pool);
	}
	rte_mempool_free(mp);
	rte_free(bws);
	rte_free(qsbr);
	rte_free(sh);
	dp_trunks_free(trunks);
	if (proto != NULL)
		hs_free_scratch(proto);
	dp_naive_free(nv);
	if (diag_proto != NULL)
		hs_free_scratch(diag_proto);
	dp_diag_free(diag);
	dp_sip_db_free(db);
	return ret;
}

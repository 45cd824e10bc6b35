/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counter publication from a worker to the control plane: cumulative
 * counters through a single-producer ring, a full ring skipped and
 * counted without losing anything, a control-plane restart answered by a
 * full republication, 503 events with their fields, and the dialog table
 * behind concurrent calls, and bursts worked with the next one received
 * ahead counted as bursts worked alone.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "cfg.h"
#include "dp_worker.h"
#include "dp_worker_loop.h"
#include "sg_test_eal.h"

static struct sg_config cfg;
static struct dp_worker_shared sh;
static struct sg_shm shm;
static struct dp_sip_db *db;
static hs_scratch_t *proto;
static struct dp_trunks *trunks;

/* Build an Ethernet/IPv4/UDP frame around a SIP message. */
static uint32_t
frame(uint8_t *buf, const char *src, const char *dst, const char *sip)
{
	uint32_t plen = (uint32_t)strlen(sip), ulen = plen + 8, tlen = ulen + 20;

	memset(buf, 0, 42);
	buf[12] = 0x08;
	buf[14] = 0x45;
	buf[16] = (uint8_t)(tlen >> 8);
	buf[17] = (uint8_t)tlen;
	buf[22] = 64;
	buf[23] = 17;
	inet_pton(AF_INET, src, buf + 26);
	inet_pton(AF_INET, dst, buf + 30);
	buf[34] = 0x13;
	buf[35] = 0xc4; /* 5060 */
	buf[36] = 0x13;
	buf[37] = 0xc4;
	buf[38] = (uint8_t)(ulen >> 8);
	buf[39] = (uint8_t)ulen;
	memcpy(buf + 42, sip, plen);
	return 42 + plen;
}

/* The frame of a message with the usual headers, `extra` ones before the last. */
static uint32_t
msg_frame(uint8_t *buf, const char *src, const char *dst, const char *first_line,
	const char *call_id, const char *cseq, const char *extra)
{
	char sip[1024];

	snprintf(sip, sizeof(sip),
		"%s\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK%s%s\r\nCall-ID: %s\r\n"
		"CSeq: %s\r\n%sContent-Length: 0\r\n\r\n",
		first_line, call_id, cseq, call_id, cseq, extra);
	return frame(buf, src, dst, sip);
}

static void
send_msg(struct dp_worker *w, const char *src, const char *dst, const char *first_line,
	const char *call_id, const char *cseq, const char *extra, uint64_t now_ms)
{
	uint8_t buf[1200];

	dp_worker_frame(w, buf, msg_frame(buf, src, dst, first_line, call_id, cseq, extra), now_ms);
}

static void
invite_call(struct dp_worker *w, const char *call_id, int status, uint64_t t)
{
	char line[64];

	send_msg(w, "192.0.2.1", "198.51.100.10", "INVITE sip:1@198.51.100.10 SIP/2.0", call_id,
		"1 INVITE", "", t);
	snprintf(line, sizeof(line), "SIP/2.0 %d X", status);
	send_msg(w, "198.51.100.10", "192.0.2.1", line, call_id, "1 INVITE",
		status == 503 ? "Retry-After: 10\r\nReason: Q.850;cause=34\r\n" : "", t + 5);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	cfg_defaults(&cfg);
	/* two workers at once in the tests' 256 MiB: a small flight recorder */
	cfg.traces.recorder_frames = 1024;
	cfg.n_trunks = 2;
	snprintf(cfg.trunks[0].name, SG_TRUNK_NAME_MAX, "a");
	snprintf(cfg.trunks[1].name, SG_TRUNK_NAME_MAX, "b");
	cfg_parse_prefix("198.51.100.10/32", &cfg.trunks[0].prefixes[0]);
	cfg_parse_prefix("198.51.100.20/32", &cfg.trunks[1].prefixes[0]);
	cfg.trunks[0].n_prefixes = cfg.trunks[1].n_prefixes = 1;
	cfg.dp.dialog_timeout_s = 60;
	db = dp_sip_db_create(err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(dp_sip_scratch_alloc(db, &proto), 0);
	trunks = dp_trunks_create(&cfg, "pub_trunks", 0, err, sizeof(err));
	assert_non_null(trunks);
	dp_worker_shared_init(&sh, &cfg);
	sh.db = db;
	sh.trunks = trunks;
	sh.link = DP_LINK_ETHER;
	return 0;
}

static struct dp_worker *
worker(const char *tag, unsigned int ring_size, struct rte_ring **pub, struct rte_ring **evt,
	struct rte_mempool **pp, struct rte_mempool **ep)
{
	char err[256], name[64];
	struct dp_worker *w = dp_worker_create(&sh, &cfg, proto, 0, err, sizeof(err));

	assert_non_null(w);
	snprintf(name, sizeof(name), "%s_pub", tag);
	*pub = rte_ring_create(name, ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	snprintf(name, sizeof(name), "%s_evt", tag);
	*evt = rte_ring_create(name, ring_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	snprintf(name, sizeof(name), "%s_pp", tag);
	*pp = rte_mempool_create(
		name, 255, sizeof(struct sg_pub), 0, 0, NULL, NULL, NULL, NULL, 0, 0);
	snprintf(name, sizeof(name), "%s_ep", tag);
	*ep = rte_mempool_create(
		name, 255, sizeof(struct sg_event), 0, 0, NULL, NULL, NULL, NULL, 0, 0);
	assert_non_null(*pub);
	assert_non_null(*evt);
	assert_non_null(*pp);
	assert_non_null(*ep);
	memset(&shm, 0, sizeof(shm));
	w->ln = (struct dp_worker_link){ .pub_ring = *pub,
		.evt_ring = *evt,
		.pub_pool = *pp,
		.evt_pool = *ep,
		.stats = &shm.workers[0],
		.ctrl_generation = &shm.ctrl_generation,
		.publish_cycles = 1 };
	return w;
}

/* Drain a ring into "last seen per trunk", as the control plane does. */
static unsigned int
drain(struct rte_ring *r, struct rte_mempool *mp, struct sg_trunk_counters *last, uint64_t *seq)
{
	void *obj;
	unsigned int n = 0;

	while (rte_ring_sc_dequeue(r, &obj) == 0) {
		const struct sg_pub *p = obj;

		assert_true(p->seq > *seq);
		*seq = p->seq;
		assert_true(p->trunk < SG_TRUNK_SLOTS);
		last[p->trunk] = p->c;
		rte_mempool_put(mp, obj);
		n++;
	}
	return n;
}

static void
test_publish_ring_full_and_restart(void **state)
{
	static struct sg_trunk_counters last[SG_TRUNK_SLOTS];
	struct rte_ring *pub, *evt;
	struct rte_mempool *pp, *ep;
	struct dp_worker *w = worker("p1", 1, &pub, &evt, &pp, &ep);
	uint64_t seq = 0;
	unsigned int i;
	char id[32];

	(void)state;
	/* only changed trunks are published */
	invite_call(w, "c1@x", 200, 1000);
	assert_int_equal(dp_worker_publish(w, 0), 0);
	assert_int_equal(drain(pub, pp, last, &seq), 1);
	assert_int_equal(last[0].invite_attempts, 1);
	assert_int_equal(last[0].invite_final[200 - SG_STATUS_MIN], 1);
	assert_int_equal(last[0].dialogs_opened, 1);
	assert_int_equal(dp_worker_publish(w, 0), 0);
	assert_int_equal(drain(pub, pp, last, &seq), 0);

	/* ring of one: the second trunk's publication is skipped, counted, kept */
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "c%u@x", 10 + i);
		invite_call(w, id, 503, 2000 + i * 10);
	}
	send_msg(w, "192.0.2.1", "198.51.100.20", "OPTIONS sip:b SIP/2.0", "o1@x", "1 OPTIONS", "",
		2100);
	assert_int_equal(dp_worker_publish(w, 0), 1);
	assert_int_equal(shm.workers[0].pub_ring_full, 1);
	assert_int_equal(drain(pub, pp, last, &seq), 1);
	assert_int_equal(dp_worker_publish(w, 0), 0);
	assert_int_equal(drain(pub, pp, last, &seq), 1);
	assert_int_equal(last[0].invite_attempts, 6);
	assert_int_equal(last[0].invite_final[503 - SG_STATUS_MIN], 5);
	assert_int_equal(last[1].requests[SG_M_OPTIONS], 1);
	/* what was received equals what the worker counted */
	assert_memory_equal(&last[0], &w->trunk[0], sizeof(last[0]));
	assert_memory_equal(&last[1], &w->trunk[1], sizeof(last[1]));

	/* a restarted control plane starts empty and bumps the generation */
	memset(last, 0, sizeof(last));
	shm.ctrl_generation++;
	for (i = 0; i < SG_TRUNK_SLOTS * 2; i++) {
		if (dp_worker_publish(w, 0) == 0 && rte_ring_count(pub) == 0)
			break;
		drain(pub, pp, last, &seq);
	}
	drain(pub, pp, last, &seq);
	assert_memory_equal(&last[0], &w->trunk[0], sizeof(last[0]));
	assert_memory_equal(&last[1], &w->trunk[1], sizeof(last[1]));
	assert_memory_equal(&last[SG_UNMATCHED], &w->trunk[SG_UNMATCHED], sizeof(last[0]));
	dp_worker_free(w);
	rte_ring_free(pub);
	rte_ring_free(evt);
	rte_mempool_free(pp);
	rte_mempool_free(ep);
}

static void
test_events(void **state)
{
	struct rte_ring *pub, *evt;
	struct rte_mempool *pp, *ep;
	struct dp_worker *w = worker("p2", 2, &pub, &evt, &pp, &ep);
	void *obj = NULL;
	const struct sg_event *e;

	(void)state;
	invite_call(w, "e1@x", 503, 5000);
	invite_call(w, "e2@x", 486, 5100); /* 4xx: no event */
	invite_call(w, "e3@x", 603, 5200);
	invite_call(w, "e4@x", 500, 5300); /* ring of two is full: dropped, counted */
	assert_int_equal(shm.workers[0].events, 2);
	assert_int_equal(shm.workers[0].evt_ring_full, 1);
	assert_int_equal(rte_ring_sc_dequeue(evt, &obj), 0);
	e = obj;
	assert_int_equal(e->status, 503);
	assert_int_equal(e->trunk, 0);
	assert_int_equal(e->retry_after, 10);
	assert_int_equal(e->reason_proto, DP_REASON_Q850);
	assert_int_equal(e->reason_cause, 34);
	assert_int_equal(e->call_id_len, 4);
	assert_memory_equal(e->call_id, "e1@x", 4);
	assert_int_equal(e->time_ns, 5005ull * 1000000);
	rte_mempool_put(ep, obj);
	assert_int_equal(rte_ring_sc_dequeue(evt, &obj), 0);
	assert_int_equal(((const struct sg_event *)obj)->status, 603);
	rte_mempool_put(ep, obj);
	/* a retransmitted 503 is not a new event */
	send_msg(w, "198.51.100.10", "192.0.2.1", "SIP/2.0 503 X", "e1@x", "1 INVITE", "", 5500);
	assert_int_equal(rte_ring_count(evt), 0);
	dp_worker_free(w);
	rte_ring_free(pub);
	rte_ring_free(evt);
	rte_mempool_free(pp);
	rte_mempool_free(ep);
}

static void
test_oc_events(void **state)
{
	struct rte_ring *pub, *evt;
	struct rte_mempool *pp, *ep;
	struct dp_worker *w = worker("p4", 8, &pub, &evt, &pp, &ep);
	const char *fmt = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK%s;oc=%d;"
			  "oc-algo=\"loss\";oc-validity=5000;oc-seq=%s\r\nCall-ID: %s\r\n"
			  "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	const struct sg_event *e;
	char sip[512];
	uint8_t buf[700];
	void *obj = NULL;

	(void)state;
	/* a 200 carrying oc is an event; the same oc again is not */
	snprintf(sip, sizeof(sip), fmt, "o1", 50, "100.5", "o1@x");
	dp_worker_frame(w, buf, frame(buf, "198.51.100.10", "192.0.2.1", sip), 7000);
	snprintf(sip, sizeof(sip), fmt, "o2", 50, "100.5", "o2@x");
	dp_worker_frame(w, buf, frame(buf, "198.51.100.10", "192.0.2.1", sip), 7100);
	assert_int_equal(rte_ring_count(evt), 1);
	/* a new oc-seq is */
	snprintf(sip, sizeof(sip), fmt, "o3", 30, "101.0", "o3@x");
	dp_worker_frame(w, buf, frame(buf, "198.51.100.10", "192.0.2.1", sip), 7200);
	assert_int_equal(rte_ring_count(evt), 2);
	assert_int_equal(rte_ring_sc_dequeue(evt, &obj), 0);
	e = obj;
	assert_int_equal(e->status, 200);
	assert_int_equal(e->oc, 50);
	assert_int_equal(e->oc_algo, DP_OC_ALGO_LOSS);
	assert_int_equal(e->oc_validity, 5000);
	rte_mempool_put(ep, obj);
	assert_int_equal(rte_ring_sc_dequeue(evt, &obj), 0);
	assert_int_equal(((const struct sg_event *)obj)->oc, 30);
	rte_mempool_put(ep, obj);
	dp_worker_free(w);
	rte_ring_free(pub);
	rte_ring_free(evt);
	rte_mempool_free(pp);
	rte_mempool_free(ep);
}

static void
test_dialogs(void **state)
{
	struct rte_ring *pub, *evt;
	struct rte_mempool *pp, *ep;
	struct dp_worker *w = worker("p3", 64, &pub, &evt, &pp, &ep);
	const struct sg_trunk_counters *c = &w->trunk[0];

	(void)state;
	invite_call(w, "d1@x", 200, 10000);
	invite_call(w, "d2@x", 200, 10000);
	invite_call(w, "d3@x", 503, 10000); /* not answered: no dialog */
	assert_int_equal(c->dialogs_opened - c->dialogs_closed, 2);
	/* a late retransmitted 200 does not open it twice */
	send_msg(w, "198.51.100.10", "192.0.2.1", "SIP/2.0 200 OK", "d1@x", "1 INVITE", "", 20000);
	assert_int_equal(c->dialogs_opened, 2);
	send_msg(w, "192.0.2.1", "198.51.100.10", "BYE sip:1@198.51.100.10 SIP/2.0", "d1@x",
		"2 BYE", "", 30000);
	assert_int_equal(c->dialogs_opened - c->dialogs_closed, 1);
	/* a BYE ends the call with a known length: 10 s to 30 s of packet time */
	assert_int_equal(c->calls_ended, 1);
	assert_int_equal(c->call_seconds, 20);
	/* the other one times out (60 s): found by the sweep, its length unknown */
	dp_dialogs_sweep(w->dlg, 1u << 20, 80000, w->trunk);
	assert_int_equal(c->dialogs_opened - c->dialogs_closed, 0);
	assert_int_equal(c->calls_ended, 1);
	assert_int_equal(c->call_seconds, 20);
	assert_int_equal(dp_dialogs_stats(w->dlg)->timed_out, 1);
	assert_int_equal(dp_dialogs_active(w->dlg), 0);
	dp_worker_free(w);
	rte_ring_free(pub);
	rte_ring_free(evt);
	rte_mempool_free(pp);
	rte_mempool_free(ep);
}

static void
test_dialog_table_bounded(void **state)
{
	struct sg_trunk_counters *counters = calloc(SG_TRUNK_SLOTS, sizeof(*counters));
	struct dp_dialogs *d = dp_dialogs_create(1024, 3600, 0);
	struct dp_sip_msg m;
	char id[32];
	uint32_t i;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.status = 200;
	m.cseq_method = SG_M_INVITE;
	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "flood-%u", i);
		m.call_id.p = id;
		m.call_id.len = (uint32_t)strlen(id);
		dp_dialogs_message(d, &m, 0, 1000 + i, counters);
	}
	assert_true(dp_dialogs_active(d) <= dp_dialogs_capacity(d));
	assert_int_equal(dp_dialogs_stats(d)->opened, 20000);
	assert_true(dp_dialogs_stats(d)->evicted >= 20000 - 1024);
	/* the active count the counters give is the table's own */
	assert_int_equal(
		counters[0].dialogs_opened - counters[0].dialogs_closed, dp_dialogs_active(d));
	dp_dialogs_free(d);
	free(counters);
}

/* One SIP message in a fresh mbuf, as a port would deliver it. */
static struct rte_mbuf *
mbuf_msg(struct rte_mempool *pool, const char *src, const char *dst, const char *first_line,
	const char *call_id, const char *cseq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t buf[1200];
	uint32_t len = msg_frame(buf, src, dst, first_line, call_id, cseq, "");
	char *data;

	assert_non_null(m);
	data = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(data);
	memcpy(data, buf, len);
	return m;
}

/*
 * dp_worker_main receives the next burst before it works a full one and
 * hands it over for prefetching: the same frames in the same bursts must
 * give the same counts as bursts worked alone, bursts of every size
 * (full, short, one frame) and a last one with nothing after it, and
 * every mbuf must come back to its pool.
 */
static void
test_burst_ahead(void **state)
{
	enum { CALLS = 60, MAX = 4 * CALLS };
	static const uint16_t sizes[] = { 32, 32, 5, 1, 32, 2, 3, 64, 17 };
	struct rte_mempool *pool =
		rte_pktmbuf_pool_create("ahead_pool", 2 * MAX, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	struct rte_mbuf *pkts[2][MAX];
	struct dp_worker *w[2];
	char err[256], id[32], line[32];
	uint32_t n, i, k, pos, c;

	(void)state;
	assert_non_null(pool);
	for (k = 0; k < 2; k++) {
		w[k] = dp_worker_create(&sh, &cfg, proto, 0, err, sizeof(err));
		assert_non_null(w[k]);
		n = 0;
		for (c = 0; c < CALLS; c++) {
			snprintf(id, sizeof(id), "ahead-%u", c);
			snprintf(line, sizeof(line), "SIP/2.0 %d X", c % 3 == 0 ? 503 : 200);
			pkts[k][n++] = mbuf_msg(pool, "192.0.2.1", "198.51.100.10",
				"INVITE sip:1@198.51.100.10 SIP/2.0", id, "1 INVITE");
			if (c % 4 == 0) /* a retransmission */
				pkts[k][n++] = mbuf_msg(pool, "192.0.2.1", "198.51.100.10",
					"INVITE sip:1@198.51.100.10 SIP/2.0", id, "1 INVITE");
			pkts[k][n++] =
				mbuf_msg(pool, "198.51.100.10", "192.0.2.1", line, id, "1 INVITE");
		}
		/* the same bursts: worker 0 sees each next one, worker 1 none */
		for (pos = 0, i = 0; pos < n; i++) {
			uint32_t len = RTE_MIN((uint32_t)sizes[i % RTE_DIM(sizes)], n - pos);
			uint32_t next_len =
				RTE_MIN((uint32_t)sizes[(i + 1) % RTE_DIM(sizes)], n - pos - len);

			if (k == 0)
				dp_worker_burst(w[k], &pkts[k][pos], (uint16_t)len,
					&pkts[k][pos + len], (uint16_t)next_len);
			else
				dp_worker_burst(w[k], &pkts[k][pos], (uint16_t)len, NULL, 0);
			pos += len;
		}
	}
	assert_int_equal(w[0]->src.packets, n);
	assert_int_equal(w[1]->src.packets, n);
	assert_int_equal(w[0]->trunk[0].invite_attempts, CALLS);
	assert_int_equal(w[0]->trunk[0].retransmissions, (CALLS + 3) / 4);
	assert_int_equal(w[0]->trunk[0].invite_final[503 - SG_STATUS_MIN], CALLS / 3);
	assert_memory_equal(w[0]->trunk, w[1]->trunk, sizeof(w[0]->trunk));
	assert_memory_equal(&w[0]->src, &w[1]->src, sizeof(w[0]->src));
	assert_int_equal(rte_mempool_avail_count(pool), 2 * MAX);
	dp_worker_free(w[0]);
	dp_worker_free(w[1]);
	rte_mempool_free(pool);
}

/*
 * Live, the worker publishes when its packet time enters a new 100 ms
 * slot, before counting that slot's first packet, stamped with the
 * slot's start, and then moves its clock there: the control plane closes
 * a slot with exactly the packets before it, as the offline replay does.
 * (Packet times, µs, come from pkt_times here, so the slots are exact.)
 */
static void
test_live_slots(void **state)
{
	static const uint64_t times[] = { 10050000, 10080000, 10130000, 10250000,
		10260000 }; /* µs */
	struct rte_mempool *pool =
		rte_pktmbuf_pool_create("slots_pool", 64, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	struct rte_ring *pub, *evt;
	struct rte_mempool *pp, *ep;
	struct dp_worker *w = worker("p5", 256, &pub, &evt, &pp, &ep);
	struct rte_mbuf *pkts[5];
	const struct sg_pub *p;
	const struct sg_event *e;
	char id[32];
	void *obj = NULL;
	unsigned int i;

	(void)state;
	assert_non_null(pool);
	for (i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "slot-%u", i);
		pkts[i] = mbuf_msg(pool, "192.0.2.1", "198.51.100.10",
			"INVITE sip:1@198.51.100.10 SIP/2.0", id, "1 INVITE");
	}
	pkts[4] =
		mbuf_msg(pool, "198.51.100.10", "192.0.2.1", "SIP/2.0 503 X", "slot-3", "1 INVITE");
	w->pkt_times = times;
	w->n_pkt_times = RTE_DIM(times);
	dp_worker_set_tick(w, NULL, NULL, 1);
	/* the control plane has its first (republish-all) publication */
	dp_worker_publish(w, 1);
	while (rte_ring_sc_dequeue(pub, &obj) == 0)
		rte_mempool_put(pp, obj);
	dp_worker_burst(w, pkts, 5, NULL, 0);
	/* 10000: nothing counted yet, nothing to send, the clock moves */
	assert_int_equal(rte_ring_sc_dequeue(pub, &obj), 0);
	p = obj;
	assert_int_equal(p->trunk, 0);
	assert_int_equal(p->time_ns, 10100ull * 1000000);
	assert_int_equal(p->c.invite_attempts, 2);
	rte_mempool_put(pp, obj);
	assert_int_equal(rte_ring_sc_dequeue(pub, &obj), 0);
	p = obj;
	assert_int_equal(p->time_ns, 10200ull * 1000000);
	assert_int_equal(p->c.invite_attempts, 3);
	rte_mempool_put(pp, obj);
	assert_int_not_equal(rte_ring_sc_dequeue(pub, &obj), 0);
	assert_int_equal(shm.workers[0].clock_ms, 10200);
	/* the 503 of the slot not closed yet: an event at its packet time */
	assert_int_equal(rte_ring_sc_dequeue(evt, &obj), 0);
	e = obj;
	assert_int_equal(e->time_ns, 10260ull * 1000000);
	rte_mempool_put(ep, obj);
	/* the counts since go out with the next publication, stamped after them */
	assert_int_equal(dp_worker_publish(w, 0), 0);
	assert_int_equal(rte_ring_sc_dequeue(pub, &obj), 0);
	p = obj;
	assert_int_equal(p->c.invite_attempts, 4);
	rte_mempool_put(pp, obj);
	dp_worker_free(w);
	rte_ring_free(pub);
	rte_ring_free(evt);
	rte_mempool_free(pp);
	rte_mempool_free(ep);
	rte_mempool_free(pool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_ring_full_and_restart),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_oc_events),
		cmocka_unit_test(test_dialogs),
		cmocka_unit_test(test_dialog_table_bounded),
		cmocka_unit_test(test_live_slots),
		cmocka_unit_test(test_burst_ahead),
	};

	if (sg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, NULL);
}

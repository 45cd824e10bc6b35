/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inner-flow steering (dataplane/dp_steer.h): the owner of an address
 * pair is the same both ways; tunnelled frames spread over two workers as
 * a mirror feed's outer hash spreads them are counted, once steered, as
 * one worker counts them all (retransmissions and answers of one call
 * meet on one worker); the workers' packets add up to the frames
 * received; a full ring is counted and its frame worked where it came in,
 * never lost; every mbuf comes back to its pool.
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

#include "cfg.h"
#include "dp_steer.h"
#include "dp_worker.h"
#include "sg_test_eal.h"

static struct sg_config cfg;
static struct dp_worker_shared sh;
static struct dp_sip_db *db;
static hs_scratch_t *proto;
static struct dp_trunks *trunks;
static struct rte_mempool *pool;

#define CALLS 90
#define MAX_FRAMES (3 * CALLS)
#define POOL_SIZE 1023

/* Ethernet/IPv4/UDP header at buf; returns its length (42). */
static uint32_t
udp4(uint8_t *buf, const char *src, const char *dst, uint16_t sport, uint16_t dport,
	uint32_t payload)
{
	uint32_t ulen = payload + 8, tlen = ulen + 20;

	memset(buf, 0, 42);
	buf[12] = 0x08;
	buf[14] = 0x45;
	buf[16] = (uint8_t)(tlen >> 8);
	buf[17] = (uint8_t)tlen;
	buf[22] = 64;
	buf[23] = 17;
	inet_pton(AF_INET, src, buf + 26);
	inet_pton(AF_INET, dst, buf + 30);
	buf[34] = (uint8_t)(sport >> 8);
	buf[35] = (uint8_t)sport;
	buf[36] = (uint8_t)(dport >> 8);
	buf[37] = (uint8_t)dport;
	buf[38] = (uint8_t)(ulen >> 8);
	buf[39] = (uint8_t)ulen;
	return 42;
}

/*
 * A SIP message from src to dst (port 5060 both) inside VXLAN between two
 * collectors, the outer UDP source port `outer_sport` (the encapsulator's
 * per-flow hash).
 */
static struct rte_mbuf *
vxlan_msg(const char *src, const char *dst, uint16_t outer_sport, const char *first_line,
	const char *call_id)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t buf[1400];
	char sip[800];
	uint32_t plen, inner, off;
	char *data;

	assert_non_null(m);
	plen = (uint32_t)snprintf(sip, sizeof(sip),
		"%s\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s\r\nCall-ID: %s\r\n"
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		first_line, src, call_id, call_id);
	inner = 42 + plen;
	off = udp4(buf, "10.9.0.1", "10.9.0.2", outer_sport, 4789, 8 + inner);
	memset(buf + off, 0, 8);
	buf[off] = 0x08; /* VNI present */
	buf[off + 6] = 1;
	off += 8;
	off += udp4(buf + off, src, dst, 5060, 5060, plen);
	memcpy(buf + off, sip, plen);
	off += plen;
	data = rte_pktmbuf_append(m, (uint16_t)off);
	assert_non_null(data);
	memcpy(data, buf, off);
	return m;
}

/*
 * A feed of CALLS calls from three dialers to one carrier (INVITE, every
 * fourth retransmitted, a 503 or 200 answer), each frame in VXLAN with
 * an outer source port that differs per direction. rxq[i]: the worker
 * the outer hash would give frame i.
 */
static uint32_t
feed(struct rte_mbuf **pkts, uint32_t *rxq)
{
	static const char *const dialers[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3" };
	uint32_t n = 0, c;
	char id[32], line[32];

	for (c = 0; c < CALLS; c++) {
		const char *d = dialers[c % 3];

		snprintf(id, sizeof(id), "steer-%u", c);
		snprintf(line, sizeof(line), "SIP/2.0 %d X", c % 3 == 0 ? 503 : 200);
		rxq[n] = c & 1;
		pkts[n++] = vxlan_msg(d, "198.51.100.10", (uint16_t)(40000 + c % 7),
			"INVITE sip:1@198.51.100.10 SIP/2.0", id);
		if (c % 4 == 0) {
			/* retransmitted after a rehash: another outer port, another queue */
			rxq[n] = !(c & 1);
			pkts[n++] = vxlan_msg(d, "198.51.100.10", (uint16_t)(41000 + c % 5),
				"INVITE sip:1@198.51.100.10 SIP/2.0", id);
		}
		rxq[n] = !(c & 1);
		pkts[n++] = vxlan_msg("198.51.100.10", d, (uint16_t)(42000 + c % 3), line, id);
	}
	return n;
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	cfg_defaults(&cfg);
	cfg.n_trunks = 1;
	snprintf(cfg.trunks[0].name, SG_TRUNK_NAME_MAX, "a");
	cfg_parse_prefix("198.51.100.10/32", &cfg.trunks[0].prefixes[0]);
	cfg.trunks[0].n_prefixes = 1;
	cfg.dp.dialog_timeout_s = 60;
	/* three workers at once in the unit tests' 256 MiB: small tables */
	cfg.dp.retrans_entries = 1024;
	cfg.dp.dialog_entries = 1024;
	cfg.frag.entries = 64;
	cfg.streams.flows = 64;
	cfg.streams.buffers = 16;
	db = dp_sip_db_create(err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(dp_sip_scratch_alloc(db, &proto), 0);
	trunks = dp_trunks_create(&cfg, "steer_trunks", 0, err, sizeof(err));
	assert_non_null(trunks);
	dp_worker_shared_init(&sh, &cfg);
	sh.db = db;
	sh.trunks = trunks;
	sh.link = DP_LINK_ETHER;
	pool = rte_pktmbuf_pool_create("steer_pool", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	assert_non_null(pool);
	return 0;
}

static struct dp_worker *
worker(uint32_t index, struct dp_steer *st)
{
	char err[256];
	struct dp_worker *w = dp_worker_create(&sh, &cfg, proto, 0, err, sizeof(err));

	assert_non_null(w);
	w->index = index;
	w->steer = st;
	return w;
}

/* Sum of every trunk counter of trunk 0 over n workers, field by field. */
static void
sum_trunk(struct dp_worker *const *w, unsigned int n, struct sg_trunk_counters *out)
{
	uint64_t *o = (uint64_t *)out;
	size_t f, words = sizeof(*out) / sizeof(uint64_t);
	unsigned int k;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < n; k++) {
		const uint64_t *c = (const uint64_t *)&w[k]->trunk[0];

		for (f = 0; f < words; f++)
			o[f] += c[f];
	}
}

static void
test_owner_symmetric(void **state)
{
	struct dp_pkt a, b;
	unsigned int i, on[2] = { 0, 0 };
	uint32_t x = 12345;

	(void)state;
	for (i = 0; i < 2000; i++) {
		unsigned int k;

		memset(&a, 0, sizeof(a));
		a.family = i & 1 ? 6 : 4;
		for (k = 0; k < 16; k++) {
			x = x * 1103515245u + 12345u;
			a.src[k] = (uint8_t)(x >> 16);
			x = x * 1103515245u + 12345u;
			a.dst[k] = (uint8_t)(x >> 16);
		}
		b = a;
		memcpy(b.src, a.dst, 16);
		memcpy(b.dst, a.src, 16);
		assert_int_equal(dp_steer_owner(&a, 2), dp_steer_owner(&b, 2));
		assert_true(dp_steer_owner(&a, 5) < 5);
		on[dp_steer_owner(&a, 2)]++;
	}
	/* both workers own a fair part of random pairs */
	assert_true(on[0] > 700 && on[1] > 700);
}

/*
 * Frames given to the worker the outer hash picks, one at a time, each
 * worker then working what was steered to it: the counts are those of
 * one worker that saw everything, and each inner pair stays on its owner.
 */
static void
test_steered_counts_as_one(void **state)
{
	struct rte_mbuf *pkts[MAX_FRAMES], *ref_pkts[MAX_FRAMES];
	uint32_t rxq[MAX_FRAMES], ref_rxq[MAX_FRAMES], n, i;
	struct sg_trunk_counters sum, ref_sum;
	struct dp_worker *w[2], *ref;
	struct dp_steer st;
	char err[256];
	uint64_t owned[2] = { 0, 0 };

	(void)state;
	assert_int_equal(dp_steer_create(&st, 2, 64, 0, err, sizeof(err)), 0);
	w[0] = worker(0, &st);
	w[1] = worker(1, &st);
	ref = worker(0, NULL);
	n = feed(pkts, rxq);
	assert_int_equal(feed(ref_pkts, ref_rxq), n);
	for (i = 0; i < n; i++) {
		struct dp_pkt pkt;

		/* the inner pair's owner, from the frame's own decode */
		dp_decode_cfg(rte_pktmbuf_mtod(pkts[i], const uint8_t *), pkts[i]->pkt_len,
			&w[0]->dec, &pkt);
		owned[dp_steer_owner(&pkt, 2)]++;
		dp_worker_burst(w[rxq[i]], &pkts[i], 1, NULL, 0);
		dp_worker_steered(w[0]);
		dp_worker_steered(w[1]);
		dp_worker_burst(ref, &ref_pkts[i], 1, NULL, 0);
	}
	assert_true(owned[0] > 0 && owned[1] > 0);
	assert_int_equal(w[0]->src.packets + w[1]->src.packets, n);
	assert_int_equal(w[0]->src.packets, owned[0]);
	assert_int_equal(w[1]->src.packets, owned[1]);
	assert_true(w[0]->src.steered_out + w[1]->src.steered_out > 0);
	assert_int_equal(w[0]->src.steered_out, w[1]->src.steered_in);
	assert_int_equal(w[1]->src.steered_out, w[0]->src.steered_in);
	assert_int_equal(w[0]->src.steer_full + w[1]->src.steer_full, 0);
	assert_int_equal(w[0]->src.sip_messages + w[1]->src.sip_messages, ref->src.sip_messages);
	assert_int_equal(w[0]->src.decap_vxlan + w[1]->src.decap_vxlan, n);
	sum_trunk(w, 2, &sum);
	sum_trunk(&ref, 1, &ref_sum);
	assert_int_equal(ref_sum.invite_attempts, CALLS);
	assert_int_equal(ref_sum.retransmissions, (CALLS + 3) / 4);
	assert_int_equal(ref_sum.invite_final[503 - SG_STATUS_MIN], CALLS / 3);
	assert_memory_equal(&sum, &ref_sum, sizeof(sum));
	dp_worker_free(w[0]);
	dp_worker_free(w[1]);
	dp_worker_free(ref);
	dp_steer_free(&st);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_SIZE);
}

/*
 * One big burst into a ring of 2 slots: the rest is counted as
 * steer_full and worked where it came in; nothing is lost and every mbuf
 * returns, also those still in a ring when it is freed.
 */
static void
test_full_ring_counted(void **state)
{
	struct rte_mbuf *pkts[MAX_FRAMES];
	uint32_t rxq[MAX_FRAMES], n;
	struct dp_worker *w[2];
	struct dp_steer st;
	char err[256];

	(void)state;
	assert_int_equal(dp_steer_create(&st, 2, 2, 0, err, sizeof(err)), 0);
	w[0] = worker(0, &st);
	w[1] = worker(1, &st);
	n = feed(pkts, rxq);
	dp_worker_burst(w[0], pkts, (uint16_t)n, NULL, 0);
	assert_int_equal(w[0]->src.steered_out, 2);
	assert_true(w[0]->src.steer_full > 0);
	assert_int_equal(w[0]->src.packets + w[0]->src.steered_out, n);
	/* two frames wait in the ring: freeing it returns them */
	dp_steer_free(&st);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_SIZE);
	/* again, and this time the owner works them */
	assert_int_equal(dp_steer_create(&st, 2, 2, 0, err, sizeof(err)), 0);
	w[0]->steer = w[1]->steer = &st;
	n = feed(pkts, rxq);
	dp_worker_burst(w[0], pkts, (uint16_t)n, NULL, 0);
	assert_int_equal(dp_worker_steered(w[1]), 2);
	assert_int_equal(w[0]->src.packets + w[1]->src.packets, 2 * n - 2);
	dp_worker_free(w[0]);
	dp_worker_free(w[1]);
	dp_steer_free(&st);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_SIZE);
}

static void
test_bad_arguments(void **state)
{
	struct dp_steer st;
	char err[256];

	(void)state;
	assert_int_equal(dp_steer_create(&st, 1, 64, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "steering"));
	assert_int_equal(dp_steer_create(&st, SG_MAX_WORKERS + 1, 64, 0, err, sizeof(err)), -1);
	assert_int_equal(dp_steer_create(&st, 2, 0, 0, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_symmetric),
		cmocka_unit_test(test_steered_counts_as_one),
		cmocka_unit_test(test_full_ring_counted),
		cmocka_unit_test(test_bad_arguments),
	};

	if (sg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, NULL);
}

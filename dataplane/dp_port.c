/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port set-up (see dp_port.h). Runs once at start-up on the main lcore.
 */
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>

#include "dp_port.h"

/*
 * Symmetric Toeplitz key (0x6d5a repeated): hashing (a,b) and (b,a) gives
 * the same value, so both directions of a dialog land on one queue and
 * one lcore's tables see the whole transaction.
 */
static uint8_t dp_port_rss_key[40];

static void
rss_key_init(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(dp_port_rss_key); i++)
		dp_port_rss_key[i] = i % 2 ? 0x5a : 0x6d;
}

static int
port_find(const char *devargs, uint16_t *port_id)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n = strcspn(devargs, ",");

	if (n >= sizeof(name))
		return -1;
	memcpy(name, devargs, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	if (rte_dev_probe(devargs) != 0)
		return -1;
	return rte_eth_dev_get_port_by_name(name, port_id);
}

int
dp_port_start(const struct dp_port_conf *pc, struct rte_mempool *mp, int *ts_dynfield,
	uint64_t *ts_dynflag, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t port_id, q, n_txq, nb_rxd = pc->rx_desc, nb_txd = 0;
	int ret, flag;

	*ts_dynfield = -1;
	*ts_dynflag = 0;
	if (port_find(pc->devargs, &port_id) != 0) {
		snprintf(err, errlen, "port \"%s\": cannot probe device: %s", pc->devargs,
			rte_strerror(rte_errno));
		return -1;
	}
	ret = rte_eth_dev_info_get(port_id, &info);
	if (ret != 0) {
		snprintf(err, errlen, "port \"%s\": no device info: %s", pc->devargs,
			rte_strerror(-ret));
		return -1;
	}
	if (pc->n_rxq > info.max_rx_queues) {
		snprintf(err, errlen, "port \"%s\": %u RX queues asked, device has %u", pc->devargs,
			pc->n_rxq, info.max_rx_queues);
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	if (pc->n_rxq > 1) {
		rss_key_init();
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = dp_port_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(dp_port_rss_key);
		/*
		 * RTE_ETH_RSS_IP holds the FRAG types: a NIC hashes every
		 * fragment, first or not, on its addresses alone (only the first
		 * has ports), so all of a datagram's fragments reach the queue
		 * whose worker reassembles them.
		 */
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) &
			info.flow_type_rss_offloads;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	/*
	 * sipguard only listens, but one TX queue is set up (and never
	 * used): rte_pdump, which dpdk-dumpcap drives, captures both
	 * directions and refuses a port without a TX queue.
	 */
	n_txq = info.max_tx_queues > 0 ? 1 : 0;
	ret = rte_eth_dev_configure(port_id, pc->n_rxq, n_txq, &conf);
	if (ret != 0) {
		snprintf(err, errlen, "port \"%s\": configure failed: %s", pc->devargs,
			rte_strerror(-ret));
		return -1;
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (ret != 0)
		nb_rxd = pc->rx_desc;
	for (q = 0; q < pc->n_rxq; q++) {
		ret = rte_eth_rx_queue_setup(
			port_id, q, nb_rxd, rte_eth_dev_socket_id(port_id), NULL, mp);
		if (ret != 0) {
			snprintf(err, errlen, "port \"%s\": RX queue %u setup failed: %s",
				pc->devargs, q, rte_strerror(-ret));
			return -1;
		}
	}
	if (n_txq > 0) {
		ret = rte_eth_tx_queue_setup(
			port_id, 0, nb_txd, rte_eth_dev_socket_id(port_id), NULL);
		if (ret != 0) {
			snprintf(err, errlen, "port \"%s\": TX queue setup failed: %s", pc->devargs,
				rte_strerror(-ret));
			return -1;
		}
	}
	ret = rte_eth_dev_start(port_id);
	if (ret != 0) {
		snprintf(err, errlen, "port \"%s\": start failed: %s", pc->devargs,
			rte_strerror(-ret));
		return -1;
	}
	if (pc->promisc)
		rte_eth_promiscuous_enable(port_id);
	if (conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TIMESTAMP) {
		*ts_dynfield = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
		flag = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
		if (*ts_dynfield >= 0 && flag >= 0)
			*ts_dynflag = RTE_BIT64(flag);
		else
			*ts_dynfield = -1;
	}
	return port_id;
}

void
dp_port_stop(uint16_t port_id)
{
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
}

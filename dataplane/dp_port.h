/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: probe a DPDK device from its devargs, configure its RX queues
 * (symmetric RSS where there are several), ask for RX timestamps where
 * the driver gives them, and start it.
 */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

struct dp_port_conf {
	const char *devargs; /* e.g. "net_pcap0,rx_pcap=x.pcap" or a PCI id */
	uint16_t n_rxq;
	uint16_t rx_desc;
	int promisc;
};

/*
 * Probe (if needed), configure and start a port. Returns the port id, or
 * -1 with one line in err. *ts_dynfield / *ts_dynflag say where the
 * driver's RX timestamp is (-1 / 0 when it has none).
 */
int dp_port_start(const struct dp_port_conf *pc, struct rte_mempool *mp, int *ts_dynfield,
	uint64_t *ts_dynflag, char *err, size_t errlen);

void dp_port_stop(uint16_t port_id);

#endif /* DP_PORT_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark mode: the capture replayed in memory (net_pcap infinite_rx,
 * or net_ring lending the frames by reference) through the real worker
 * pipeline for a fixed time, with per-lcore cycle
 * accounting. scripts/bench drives it.
 */
#ifndef DP_BENCH_H
#define DP_BENCH_H

#include "cfg.h"
#include "dp_app.h"

/*
 * mode: "full", "hyperscan", "io" or "naive"; port_kind: "pcap" (NULL)
 * or "ring" (see dp_bench.c). Returns the process exit status.
 */
int dp_run_bench(const struct sg_config *cfg, const struct dp_offline_opts *o, unsigned int seconds,
	const char *mode, const char *port_kind);

#endif /* DP_BENCH_H */

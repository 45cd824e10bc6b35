/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's runtime objects and its two ways to run: offline over a
 * capture (one lcore, to the end of the file, then a report) and live
 * (poll-mode workers on every configured RX queue, counters and events
 * published to the control plane through rte_rings, until SIGINT/SIGTERM).
 */
#ifndef DP_APP_H
#define DP_APP_H

#include "cfg.h"
#include "dp_decode.h"

struct dp_offline_opts {
	const char *config_path;
	const char *pcap;
	enum dp_link link;
	int json;
	int directives;
	const char *traces;	   /* write traces of failed calls here (NULL: none) */
	const uint64_t *pkt_times; /* each frame's capture time, µs */
	uint64_t n_pkt_times;
};

/* Returns the process exit status (0, 1 runtime, 2 bad input). */
int dp_run_offline(const struct sg_config *cfg, const struct dp_offline_opts *o);

/*
 * Live mode; *quit is set by the signal handler (and by dp_run_live itself
 * to stop workers it launched when start-up fails); *hup by SIGHUP, to
 * reload config_path (dp_reload.h). Returns the exit status.
 */
int dp_run_live(const struct sg_config *cfg, const char *config_path, volatile int *quit,
	volatile int *hup);

#endif /* DP_APP_H */

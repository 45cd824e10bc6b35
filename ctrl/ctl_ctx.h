/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipguard-ctrl's context: everything the daemon holds while it runs (the
 * config, the dataplane's shared memory, rings and pools, the state, the
 * engine, the sinks, the fleet, the traces, the rates and the /metrics
 * document), and the two things more than one part of it does with it:
 * read the wall clock and send directives out.
 *
 * Its own pair because three modules share it: the start-up and the loop
 * (main.c), the API commands that answer from it (ctl_cmds.c) and the
 * attachment to the dataplane that fills its rings (ctl_attach.c). Only
 * the loop's thread touches it.
 */
#ifndef CTL_CTX_H
#define CTL_CTX_H

#include <stdint.h>

#include "cfg.h"
#include "ctl_directive.h"
#include "ctl_engine.h"
#include "ctl_fleet.h"
#include "ctl_http.h"
#include "ctl_metrics.h"
#include "ctl_redis.h"
#include "ctl_reload.h"
#include "ctl_sink.h"
#include "ctl_state.h"
#include "ctl_trace.h"
#include "sg_shared.h"

struct rte_mempool;
struct rte_ring;

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

/* The wall clock (CLOCK_REALTIME), ns since the epoch. */
uint64_t ctl_wall_ns(void);

/* Directives out: to every sink (never blocking), and a line on stderr. */
void ctl_emit(struct ctl_ctx *c, const struct ctl_directive *d, unsigned int n);

#endif /* CTL_CTX_H */

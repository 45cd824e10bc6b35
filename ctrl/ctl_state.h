/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane state: what the dataplane workers have published, summed
 * per trunk, turned into one-second series, plus the latest 5xx/6xx events
 * (the JSON documents the API serves from it are in ctl_state_json.h).
 * Pure C over the structs of sg_shared.h: no EAL, no I/O, no threads; the
 * caller drains the rings, feeds publications and events in, and calls
 * ctl_state_tick() once the wall-clock second changes.
 *
 * Totals are exact: a trunk's total is the sum over workers of the last
 * cumulative counters each worker published for it, so missed publications
 * and a control-plane restart (a fresh state fed the next cumulative
 * publications) give the same numbers.
 *
 * Baseline: the first tick does not report history as traffic. It records
 * the totals as the baseline and stores its second as a baseline slot (the
 * concurrent level, no counts). During the warm-up that follows
 * (CTL_STATE_WARMUP_S), the first publication of a (worker, trunk) pair is
 * history too (a worker republishing after a restart) and is added to the
 * baseline, not to the second it arrived in. Later first publications are
 * traffic (a worker publishing a trunk once it has some).
 */
#ifndef CTL_STATE_H
#define CTL_STATE_H

#include <stdint.h>

#include <jansson.h>

#include "ctl_series.h"
#include "sg_shared.h"

#define CTL_STATE_EVENTS 256	  /* latest events kept overall */
#define CTL_STATE_TRUNK_EVENTS 16 /* latest events kept per trunk */
#define CTL_STATE_WARMUP_S 2	  /* see the baseline note above */
#define CTL_STATE_CATCHUP_MAX 10  /* seconds one tick may spread over */
#define CTL_STATE_SERIES_JSON 60  /* points per series in trunk JSON */
#define CTL_STATE_UNMATCHED_NAME "(unmatched)"

struct ctl_state; /* opaque, about 15 MB: allocate with ctl_state_create() */

struct ctl_state_stats {
	uint64_t pubs;		 /* publications accepted */
	uint64_t stale_pubs;	 /* older than or equal to what is held */
	uint64_t invalid_pubs;	 /* worker or trunk out of range */
	uint64_t events;	 /* events accepted */
	uint64_t invalid_events; /* trunk out of range */
	uint64_t late_samples;	 /* series samples dropped: too old */
	uint64_t late_merged;	 /* series samples merged into a past second */
	uint64_t baselines;	 /* baselines taken (first tick, clock steps) */
};

/*
 * n_trunks configured trunks (at most SG_MAX_TRUNKS), names[i] their names
 * (cut to SG_TRUNK_NAME_MAX - 1 bytes, non-printable bytes replaced), cps
 * and max_concurrent the agreed limits (either may be NULL: 0). Returns
 * NULL on allocation failure or n_trunks out of range.
 */
struct ctl_state *ctl_state_create(uint32_t n_trunks, const char *const names[],
	const uint32_t cps[], const uint32_t max_concurrent[]);

/* The same from the dataplane's memzone (trunk_name, trunk_cps, ...). */
struct ctl_state *ctl_state_create_shm(const struct sg_shm *shm);

void ctl_state_free(struct ctl_state *st);

/*
 * A reload's slot table (dataplane/dp_reload.h): n_trunks slots (never
 * fewer than before), their names and agreed rates, and which are
 * removed trunks (kept for their totals, left out of the trunks view).
 * Counts stay with their slot. Returns 0, or -1 for a bad table.
 */
int ctl_state_set_trunks(struct ctl_state *st, uint32_t n_trunks, const char *const names[],
	const uint32_t cps[], const uint32_t max_concurrent[], const uint8_t removed[]);

/* 1 when slot `trunk` holds a removed trunk. */
int ctl_state_trunk_removed(const struct ctl_state *st, uint32_t trunk);

/* Agreed CPS and concurrency of a trunk (0 for unknown slots). */
uint32_t ctl_state_trunk_cps(const struct ctl_state *st, uint32_t trunk);
uint32_t ctl_state_trunk_max_concurrent(const struct ctl_state *st, uint32_t trunk);

/*
 * Take one publication. Returns 0 when accepted, 1 when stale (its seq is
 * not newer than the one held for that worker and trunk), -1 when its
 * worker or trunk is out of range. An all-zero publication for an
 * unconfigured slot (a worker republishing every slot) is accepted and
 * ignored. Never keeps the pointer.
 */
int ctl_state_ingest_pub(struct ctl_state *st, const struct sg_pub *pub);

/*
 * A control plane that just asked the n_workers workers to republish all
 * their trunks (a new ctrl_generation): until a worker's republish-all is
 * in (its publication of the last slot, SG_TRUNK_SLOTS - 1), that
 * worker's first publication of each trunk is history, however long after
 * the warm-up it comes (a starved worker lcore). The offline replay never
 * calls it: there a first publication after the warm-up is traffic.
 */
void ctl_state_expect_republish(struct ctl_state *st, uint32_t n_workers);

/*
 * The counters start at zero with the first packet (the offline replay):
 * nothing before the baseline is history, so there is no warm-up, and a
 * first publication is always traffic. Call before the first tick.
 */
void ctl_state_from_zero(struct ctl_state *st);

/* Seconds after the baseline during which first publications are history. */
uint32_t ctl_state_warmup(const struct ctl_state *st);

/* Take one event (copied). Returns 0, or -1 when its trunk is out of range. */
int ctl_state_ingest_event(struct ctl_state *st, const struct sg_event *ev);

/*
 * Close every second before now_s (the current wall-clock second). The
 * change of the totals since the previous tick becomes the sample of
 * second now_s - 1; when several seconds passed (up to
 * CTL_STATE_CATCHUP_MAX) the change is spread evenly over them so sums
 * stay exact without a spike. The first tick, a longer stall, or a clock
 * stepping back takes a new baseline instead (a clock step back also
 * clears the series). Retry-After values seen since the previous tick go
 * to second now_s - 1. Returns the number of seconds closed.
 */
unsigned int ctl_state_tick(struct ctl_state *st, uint64_t now_s);

uint32_t ctl_state_n_trunks(const struct ctl_state *st);

/* Slot of a trunk name: 0..n-1, SG_UNMATCHED for "(unmatched)", or -1. */
int ctl_state_trunk_index(const struct ctl_state *st, const char *name);

/* Name of a slot ("(unmatched)" for SG_UNMATCHED), NULL if out of range. */
const char *ctl_state_trunk_name(const struct ctl_state *st, uint32_t trunk);

/* Sum over workers of their last counters; NULL if trunk out of range. */
const struct sg_trunk_counters *ctl_state_total(const struct ctl_state *st, uint32_t trunk);

/* The last counters held for one worker and trunk, NULL if none yet. */
const struct sg_trunk_counters *ctl_state_worker_counters(
	const struct ctl_state *st, uint32_t worker, uint32_t trunk);

const struct ctl_series *ctl_state_series(const struct ctl_state *st, uint32_t trunk);

/* Second of the current baseline; returns -1 before the first tick. */
int ctl_state_baseline(const struct ctl_state *st, uint64_t *second);

void ctl_state_get_stats(const struct ctl_state *st, struct ctl_state_stats *out);

#endif /* CTL_STATE_H */

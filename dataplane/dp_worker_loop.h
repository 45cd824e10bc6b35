/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker between frames: the live poll-mode loop, the 100 ms slots of
 * packet time, publication of the counters to the control plane, and the
 * clock they are stamped with.
 *
 * Kept apart from the per-packet pipeline (dp_worker.h), which classifies
 * and counts each frame: these run per burst, per slot or per
 * publication, and the offline replay and the benchmark drive the
 * pipeline without the loop.
 */
#ifndef DP_WORKER_LOOP_H
#define DP_WORKER_LOOP_H

#include <stdint.h>

#include "dp_worker.h"

/*
 * Packet time now (ms) entered a new slot: count what is pending, then
 * hand the slot's start to on_tick, or publish the counts stamped with
 * it (live). dp_worker_burst calls it before the slot's first packet.
 */
void dp_worker_slot(struct dp_worker *w, uint64_t now);

/*
 * Publish the cumulative counters of every trunk that changed (all of
 * them when `all` or when the control plane re-attached). Returns the
 * number of trunks still waiting (ring full or pool empty: retried on the
 * next call, nothing is lost). Each publication is stamped (time_ns) with
 * a packet time that every packet it counts came before: the worker's
 * clock now, plus a millisecond.
 */
unsigned int dp_worker_publish(struct dp_worker *w, int all);

/*
 * The same stamped stamp_ms: the caller knows every packet counted came
 * before it (a slot's start, reached before that slot's first packet).
 */
unsigned int dp_worker_publish_at(struct dp_worker *w, int all, uint64_t stamp_ms);

/*
 * Slots of packet time from now on: on_tick, or live stamped publications
 * when fn is NULL and live is set; neither: none (the benchmark).
 */
void dp_worker_set_tick(struct dp_worker *w, void (*fn)(void *, uint64_t), void *arg, int live);

/*
 * Poll-mode loop of a live worker lcore (rte_eal_remote_launch entry):
 * receive, classify, publish at the interval, until *quit is set; then a
 * last publication of everything.
 */
struct dp_worker_run {
	struct dp_worker *w;
	const volatile int *quit;
};
int dp_worker_main(void *arg);

#endif /* DP_WORKER_LOOP_H */

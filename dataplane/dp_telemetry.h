/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands of the live dataplane, under /sipguard/:
 *
 *   /sipguard/trunks        a table of trunks (and "(unmatched)") as a dict
 *                           of columns: "name" holds the names, each
 *                           figure an array in the same order
 *   /sipguard/trunk,NAME    one trunk in detail: requests by method,
 *                           responses and INVITE finals by code
 *   /sipguard/workers       the same for workers: lcore, queue, packets,
 *                           busy and total cycles, ring drops
 *   /sipguard/source        the source counters summed over workers:
 *                           packets, each drop reason, reassembly fields
 *
 * Dict keys are limited to [A-Za-z0-9_/], so trunk names are values, never
 * keys. The callbacks run on telemetry's own thread while the workers
 * count: every counter is read with a 64-bit atomic load (each is written
 * by one worker with aligned 64-bit stores, so a read never sees half of
 * one), trunk counters in the workers' own tables, worker and source
 * counters in what the workers publish to shared memory.
 */
#ifndef DP_TELEMETRY_H
#define DP_TELEMETRY_H

#include <stddef.h>

#include "dp_worker.h"
#include "sg_shared.h"

/*
 * Serve the commands from these workers and this shared memory (both must
 * outlive dp_telemetry_stop()). Registers the commands on the first call.
 * Returns 0, or -1 with one line in err (a command refused by telemetry).
 */
int dp_telemetry_start(struct dp_worker *const *workers, unsigned int n_workers,
	const struct sg_shm *shm, char *err, size_t errlen);

/* Stop serving before the workers are freed: commands then answer null. */
void dp_telemetry_stop(void);

#endif /* DP_TELEMETRY_H */

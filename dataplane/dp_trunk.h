/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trunk lookup: which configured trunk a packet belongs to, by longest
 * prefix match on its source or destination address (rte_lpm, rte_lpm6),
 * then by port where a trunk names one.
 *
 * A table is built once and only read afterwards, so all worker lcores
 * share one instance without locks. A reload builds a new table and
 * swaps it in under RCU (dp_reload.h): the workers never wait.
 */
#ifndef DP_TRUNK_H
#define DP_TRUNK_H

#include <stdint.h>

#include "cfg.h"
#include "dp_decode.h"

struct dp_trunks;

/* Direction of a message relative to the trunk it belongs to. */
enum dp_dir {
	DP_DIR_TO_TRUNK = 0,   /* destination is the trunk peer */
	DP_DIR_FROM_TRUNK = 1, /* source is the trunk peer */
};

/*
 * Build the lookup tables. Returns NULL with one line in err (and
 * rte_errno set) on failure. `name` makes the DPDK object names unique.
 */
struct dp_trunks *dp_trunks_create(
	const struct sg_config *cfg, const char *name, int socket_id, char *err, size_t errlen);
void dp_trunks_free(struct dp_trunks *t);

/*
 * The same, with trunk i of cfg answering slot[i] (a counter slot that
 * follows the trunk across reloads, cfg_reload.h), and the generation
 * the table is published under.
 */
struct dp_trunks *dp_trunks_create_slots(const struct sg_config *cfg, const uint32_t *slot,
	uint64_t gen, const char *name, int socket_id, char *err, size_t errlen);

/*
 * Fill an existing table (not in use by any reader) from cfg again, as
 * dp_trunks_create_slots would, without allocating: a reload fills the
 * spare of two tables allocated at start. Returns 0, or -1 with one line
 * in err (the table is then unusable until filled again).
 */
int dp_trunks_refill(struct dp_trunks *t, const struct sg_config *cfg, const uint32_t *slot,
	uint64_t gen, char *err, size_t errlen);

/* Generation a table was created with (0 at start). */
uint64_t dp_trunks_gen(const struct dp_trunks *t);

/*
 * Trunk id (0..n_trunks-1) of a decoded packet, or SG_UNMATCHED. The
 * longer of the source and destination matches wins; on a tie the
 * destination wins (a request toward the trunk).
 */
uint32_t dp_trunks_lookup(const struct dp_trunks *t, const struct dp_pkt *pkt, enum dp_dir *dir);

#endif /* DP_TRUNK_H */

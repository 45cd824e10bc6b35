/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hot reload of the live dataplane: a new config file's trunks applied
 * while the workers run, without a restart and without losing a count.
 *
 * The main lcore does all of it, between its housekeeping rounds: load
 * and check the file (config/cfg_reload.h: what may change, which slot
 * each trunk counts in), build the new trunk table, publish the slot
 * table to the control plane (sg_shm), swap the table pointer the
 * workers read, wait with rte_rcu_qsbr until every worker has passed a
 * quiescent state (they report one per burst and per empty poll), then
 * free the old table. Edited diagnosis rules are compiled into a new
 * Hyperscan database (with a scratch per worker) before the swap, handed
 * over with the table, and the old database freed after the same grace
 * period. Workers never wait, take no lock, and switch
 * between two bursts, so every frame is counted with exactly one table.
 *
 * A reload comes from SIGHUP (the dataplane's own config file) or from
 * the control plane through sg_shm (reload_req with the file it has
 * checked); the answer to the latter goes back the same way.
 */
#ifndef DP_RELOAD_H
#define DP_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "cfg.h"
#include "cfg_reload.h"
#include "dp_diag.h"
#include "dp_trunk.h"
#include "dp_worker.h"
#include "sg_shared.h"

struct dp_reload;

/*
 * Reload state for a running dataplane started with cfg (copied) from
 * config_path, whose n_workers workers read sh->trunks. Returns NULL
 * with one line in err.
 */
struct dp_reload *dp_reload_create(const struct sg_config *cfg, const char *config_path,
	struct dp_worker_shared *sh, unsigned int n_workers, int socket_id, char *err,
	size_t errlen);
void dp_reload_free(struct dp_reload *r);

/* The RCU variable the workers report to (dp_worker_link.qsbr). */
struct rte_rcu_qsbr *dp_reload_qsbr(struct dp_reload *r);

/* Publish the slot table to the control plane (once sg_shm exists). */
void dp_reload_attach(struct dp_reload *r, struct sg_shm *shm);

/*
 * Apply the file at path. Returns 0, or an errno with one line in err
 * (the running config then stays as it was).
 */
int dp_reload_apply(struct dp_reload *r, const char *path, char *err, size_t errlen);

/*
 * Housekeeping: a pending SIGHUP (*hup, cleared here) reloads the
 * dataplane's own file; a control-plane request its file. Each outcome is
 * one line on stderr.
 */
void dp_reload_poll(struct dp_reload *r, volatile int *hup);

/*
 * Swap the table the workers read and wait until none can still hold
 * the old one (v: NULL when no worker runs). Returns the old table, now
 * the caller's to free.
 */
const struct dp_trunks *dp_reload_swap(
	struct dp_worker_shared *sh, const struct dp_trunks *t, struct rte_rcu_qsbr *v);

#endif /* DP_RELOAD_H */

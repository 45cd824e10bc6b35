/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dataplane hot reload (see dp_reload.h). Everything here runs on the
 * main lcore; the workers' side is two lines of dp_worker_main (load the
 * table pointer before a burst, report quiescence after it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "dp_reload.h"

struct dp_reload {
	struct sg_config *cfg;	 /* the running config */
	struct dp_trunks *spare; /* the table a reload fills; the old one after it */
	struct cfg_slots slots;
	struct dp_worker_shared *sh;
	struct rte_rcu_qsbr *qsbr;
	struct sg_shm *shm;
	uint64_t gen;
	int socket_id;
	char path[SG_RELOAD_PATH_MAX];
};

struct dp_reload *
dp_reload_create(const struct sg_config *cfg, const char *config_path, struct dp_worker_shared *sh,
	unsigned int n_workers, int socket_id, char *err, size_t errlen)
{
	struct dp_reload *r = calloc(1, sizeof(*r));
	char why[256];
	size_t sz;

	if (r == NULL || (r->cfg = malloc(sizeof(*r->cfg))) == NULL) {
		free(r);
		snprintf(err, errlen, "reload: out of memory");
		return NULL;
	}
	*r->cfg = *cfg;
	cfg_slots_init(&r->slots, cfg);
	r->sh = sh;
	r->socket_id = socket_id;
	snprintf(r->path, sizeof(r->path), "%s", config_path);
	sz = rte_rcu_qsbr_get_memsize(n_workers > 0 ? n_workers : 1);
	r->qsbr = rte_zmalloc_socket("dp_reload_qsbr", sz, RTE_CACHE_LINE_SIZE, socket_id);
	if (r->qsbr == NULL || rte_rcu_qsbr_init(r->qsbr, n_workers > 0 ? n_workers : 1) != 0) {
		snprintf(err, errlen, "reload: cannot set up RCU for %u workers", n_workers);
		dp_reload_free(r);
		return NULL;
	}
	/*
	 * The second table is allocated now, at start: a reload only fills
	 * it. Allocating at reload time would grow the hugepage heap under a
	 * running control plane (a DPDK secondary), which must then map the
	 * new memory in step; that takes seconds under load, and fails when
	 * the secondary does not answer in time.
	 */
	r->spare = dp_trunks_create_slots(cfg, NULL, 0, "sg_trunks_b", socket_id, why, sizeof(why));
	if (r->spare == NULL) {
		snprintf(err, errlen, "reload: cannot allocate the spare trunk table: %s", why);
		dp_reload_free(r);
		return NULL;
	}
	return r;
}

void
dp_reload_free(struct dp_reload *r)
{
	if (r == NULL)
		return;
	dp_trunks_free(r->spare);
	rte_free(r->qsbr);
	free(r->cfg);
	free(r);
}

struct rte_rcu_qsbr *
dp_reload_qsbr(struct dp_reload *r)
{
	return r->qsbr;
}

/* Write the slot table for the control plane, under its sequence. */
static void
dp_reload_publish(struct dp_reload *r, const struct sg_config *cfg, const uint32_t *slot)
{
	struct sg_shm *shm = r->shm;
	uint32_t s, i;

	if (shm == NULL)
		return;
	__atomic_store_n(&shm->trunks_seq, shm->trunks_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (s = 0; s < SG_MAX_TRUNKS; s++) {
		shm->trunk_state[s] = r->slots.state[s];
		if (r->slots.state[s] != SG_SLOT_FREE)
			snprintf(shm->trunk_name[s], SG_TRUNK_NAME_MAX, "%s", r->slots.name[s]);
	}
	for (i = 0; i < cfg->n_trunks; i++) {
		s = slot != NULL ? slot[i] : i;
		shm->trunk_cps[s] = cfg->trunks[i].cps;
		shm->trunk_max_concurrent[s] = cfg->trunks[i].max_concurrent;
	}
	shm->n_trunks = r->slots.n;
	shm->trunks_gen = r->gen;
	__atomic_store_n(&shm->trunks_seq, shm->trunks_seq + 1, __ATOMIC_RELEASE);
}

void
dp_reload_attach(struct dp_reload *r, struct sg_shm *shm)
{
	r->shm = shm;
	dp_reload_publish(r, r->cfg, NULL);
}

const struct dp_trunks *
dp_reload_swap(struct dp_worker_shared *sh, const struct dp_trunks *t, struct rte_rcu_qsbr *v)
{
	const struct dp_trunks *old = sh->trunks;

	__atomic_store_n(&sh->trunks, t, __ATOMIC_RELEASE);
	/*
	 * Returns once every online worker has reported a quiescent state
	 * begun after the store: none can still hold `old`.
	 */
	if (v != NULL)
		rte_rcu_qsbr_synchronize(v, RTE_QSBR_THRID_INVALID);
	return old;
}

int
dp_reload_apply(struct dp_reload *r, const char *path, char *err, size_t errlen)
{
	struct cfg_reload_plan *plan = NULL;
	struct sg_config *nc = NULL;
	const struct dp_trunks *old;
	struct dp_trunks *t = r->spare;
	char why[256];
	uint64_t t0, t1, t2;
	int ret = EINVAL;

	nc = malloc(sizeof(*nc));
	plan = malloc(sizeof(*plan));
	if (nc == NULL || plan == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		ret = ENOMEM;
		goto out;
	}
	if (cfg_load(path, nc, err, errlen) != 0)
		goto out;
	if (cfg_reload_check(r->cfg, nc, path, err, errlen) != 0 ||
		cfg_reload_plan(&r->slots, r->cfg, nc, path, plan, err, errlen) != 0)
		goto out;
	t0 = rte_rdtsc();
	if (dp_trunks_refill(t, nc, plan->slot, r->gen + 1, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto out;
	}
	/*
	 * The control plane learns the new slots before any worker counts
	 * in them, so no publication arrives for a slot it does not know.
	 */
	r->gen++;
	r->slots = plan->next;
	dp_reload_publish(r, nc, plan->slot);
	t1 = rte_rdtsc();
	old = dp_reload_swap(r->sh, t, r->qsbr);
	t2 = rte_rdtsc();
	/* no worker can read it now: the next reload fills it */
	r->spare = (struct dp_trunks *)(uintptr_t)old;
	*r->cfg = *nc;
	snprintf(err, errlen,
		"%s: %u trunk(s): %u added, %u removed, %u renamed, %u changed (generation %lu; "
		"table filled in %lu us, workers past it in %lu us)",
		path, nc->n_trunks, plan->n_added, plan->n_removed, plan->n_renamed,
		plan->n_changed, (unsigned long)r->gen,
		(unsigned long)((t1 - t0) * 1000000 / rte_get_tsc_hz()),
		(unsigned long)((t2 - t1) * 1000000 / rte_get_tsc_hz()));
	ret = 0;
out:
	free(plan);
	free(nc);
	return ret;
}

void
dp_reload_poll(struct dp_reload *r, volatile int *hup)
{
	char msg[SG_RELOAD_ERROR_MAX], path[SG_RELOAD_PATH_MAX];
	struct sg_shm *shm = r->shm;
	uint64_t req;
	int ret;

	if (hup != NULL && *hup) {
		*hup = 0;
		ret = dp_reload_apply(r, r->path, msg, sizeof(msg));
		fprintf(stderr, "sipguard: reload (SIGHUP) %s: %s\n",
			ret == 0 ? "applied" : "refused", msg);
	}
	if (shm == NULL)
		return;
	req = __atomic_load_n(&shm->reload_req, __ATOMIC_ACQUIRE);
	if (req == shm->reload_done)
		return;
	memcpy(path, shm->reload_path, sizeof(path));
	path[sizeof(path) - 1] = '\0';
	ret = dp_reload_apply(r, path, msg, sizeof(msg));
	fprintf(stderr, "sipguard: reload (sipguard-ctrl) %s: %s\n",
		ret == 0 ? "applied" : "refused", msg);
	shm->reload_status = ret;
	snprintf(shm->reload_error, sizeof(shm->reload_error), "%s", msg);
	__atomic_store_n(&shm->reload_done, req, __ATOMIC_RELEASE);
}

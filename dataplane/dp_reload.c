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
	unsigned int n_workers;
	struct dp_diag *diag; /* rules a reload compiled, in use; NULL: the start-up ones */
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
	r->n_workers = n_workers;
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
	dp_diag_free(r->diag);
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

/*
 * New rules are compiled when the rules changed, or when any trunk's
 * slot or rule set may have: the database maps counter slots to sets.
 */
static int
dp_reload_diag_needed(
	const struct sg_config *old, const struct sg_config *nc, const struct cfg_reload_plan *plan)
{
	uint32_t i;

	if (old->n_diag != nc->n_diag ||
		memcmp(old->diag, nc->diag, nc->n_diag * sizeof(nc->diag[0])) != 0)
		return 1;
	if (nc->n_diag == 0)
		return 0;
	for (i = 0; i < nc->n_trunks; i++) {
		if (plan->change[i] != CFG_TRUNK_SAME)
			return 1;
	}
	return 0;
}

int
dp_reload_apply(struct dp_reload *r, const char *path, char *err, size_t errlen)
{
	struct cfg_reload_plan *plan = NULL;
	struct sg_config *nc = NULL;
	const struct dp_trunks *old;
	const struct dp_diag *old_diag = NULL;
	struct dp_trunks *t = r->spare;
	struct dp_diag *nd = NULL;
	char why[256], diag_msg[96] = "";
	uint64_t t0, t1, t2, td;
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
	/*
	 * Diagnosis rules: compiled here, on the main lcore, while the
	 * workers go on with the old ones. A pattern Hyperscan refuses is
	 * refused with its file, line and rule, and nothing changes.
	 */
	if (dp_reload_diag_needed(r->cfg, nc, plan)) {
		td = rte_rdtsc();
		nd = dp_diag_create_slots(nc, plan->slot, path, err, errlen);
		if (nd == NULL)
			goto out;
		if (dp_diag_workers(nd, r->n_workers) != 0) {
			snprintf(err, errlen,
				"%s: diagnosis: cannot allocate scratch for %u workers", path,
				r->n_workers);
			ret = ENOMEM;
			goto out;
		}
		snprintf(diag_msg, sizeof(diag_msg), "; %u diagnosis rule(s) compiled in %lu us",
			nc->n_diag,
			(unsigned long)((rte_rdtsc() - td) * 1000000 / rte_get_tsc_hz()));
	}
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
	if (nd != NULL) {
		/* before the table: a worker that takes the table takes these rules */
		old_diag = r->sh->diag;
		__atomic_store_n(&r->sh->diag, nd, __ATOMIC_RELEASE);
	}
	old = dp_reload_swap(r->sh, t, r->qsbr);
	t2 = rte_rdtsc();
	/* no worker can read it now: the next reload fills it */
	r->spare = (struct dp_trunks *)(uintptr_t)old;
	if (nd != NULL) {
		/* past the grace period too; the start-up rules are the app's to free */
		if (old_diag == r->diag)
			dp_diag_free(r->diag);
		r->diag = nd;
		nd = NULL;
	}
	*r->cfg = *nc;
	snprintf(err, errlen,
		"%s: %u trunk(s): %u added, %u removed, %u renamed, %u changed (generation %lu; "
		"table filled in %lu us, workers past it in %lu us)%s",
		path, nc->n_trunks, plan->n_added, plan->n_removed, plan->n_renamed,
		plan->n_changed, (unsigned long)r->gen,
		(unsigned long)((t1 - t0) * 1000000 / rte_get_tsc_hz()),
		(unsigned long)((t2 - t1) * 1000000 / rte_get_tsc_hz()), diag_msg);
	ret = 0;
out:
	dp_diag_free(nd);
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

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane hot reload (see ctl_reload.h). No EAL call here: the
 * dataplane is reached through the shared struct only.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_reload.h"

static uint64_t
ctl_reload_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
ctl_reload_slots(const struct sg_shm *shm, struct cfg_slots *out, uint32_t cps[], uint32_t maxc[],
	uint32_t *seq)
{
	unsigned int tries;
	uint32_t s1, s2, s;

	for (tries = 0; tries < 1000; tries++) {
		s1 = __atomic_load_n(&shm->trunks_seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		memset(out, 0, sizeof(*out));
		out->n = shm->n_trunks <= SG_MAX_TRUNKS ? shm->n_trunks : SG_MAX_TRUNKS;
		for (s = 0; s < out->n; s++) {
			out->state[s] = shm->trunk_state[s];
			memcpy(out->name[s], shm->trunk_name[s], SG_TRUNK_NAME_MAX);
			out->name[s][SG_TRUNK_NAME_MAX - 1] = '\0';
			cps[s] = shm->trunk_cps[s];
			maxc[s] = shm->trunk_max_concurrent[s];
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&shm->trunks_seq, __ATOMIC_RELAXED);
		if (s1 == s2) {
			*seq = s1;
			return 0;
		}
	}
	return -1;
}

/* The state's trunks and the policy's from the dataplane's slot table. */
static int
ctl_reload_apply_slots(struct ctl_reload *r)
{
	uint32_t cps[SG_MAX_TRUNKS], maxc[SG_MAX_TRUNKS], seq, s;
	uint8_t removed[SG_MAX_TRUNKS];
	const char *names[SG_MAX_TRUNKS];
	struct cfg_slots slots;

	if (ctl_reload_slots(r->shm, &slots, cps, maxc, &seq) != 0)
		return -1;
	for (s = 0; s < slots.n; s++) {
		names[s] = slots.name[s];
		removed[s] = slots.state[s] == SG_SLOT_REMOVED;
	}
	if (ctl_state_set_trunks(r->st, slots.n, names, cps, maxc, removed) != 0)
		return -1;
	r->seen_seq = seq;
	return 0;
}

/* 1 when the sinks' or adapters' sections differ. */
static int
ctl_reload_sinks_changed(const struct sg_config *a, const struct sg_config *b)
{
	return memcmp(&a->directives, &b->directives, sizeof(a->directives)) != 0 ||
		a->n_sipp != b->n_sipp ||
		memcmp(a->sipp, b->sipp, a->n_sipp * sizeof(a->sipp[0])) != 0 ||
		a->n_kamailio != b->n_kamailio ||
		memcmp(a->kamailio, b->kamailio, a->n_kamailio * sizeof(a->kamailio[0])) != 0;
}

/*
 * Reopen the sinks for cfg. The old ones go first (a datagram socket
 * path kept across the reload is bound by them); if the new ones cannot
 * open, the old config's are opened again and -1 returned.
 */
static int
ctl_reload_sinks(struct ctl_reload *r, const struct sg_config *cfg, const struct sg_config *back,
	char *err, size_t errlen)
{
	char again[256];

	ctl_sinks_free(*r->sinks);
	*r->sinks = ctl_sinks_create(cfg, err, errlen);
	if (*r->sinks != NULL)
		return 0;
	*r->sinks = ctl_sinks_create(back, again, sizeof(again));
	if (*r->sinks == NULL)
		fprintf(stderr, "sipguard-ctrl: the running sinks cannot reopen either: %s\n",
			again);
	return -1;
}

int
ctl_reload_follow(struct ctl_reload *r)
{
	struct sg_config *nc;
	char err[512];

	if (__atomic_load_n(&r->shm->trunks_seq, __ATOMIC_ACQUIRE) == r->seen_seq)
		return 0;
	if (ctl_reload_apply_slots(r) != 0)
		return 0;
	if (r->requesting) {
		/* ctl_reload_run reconfigures with its own file */
		return 1;
	}
	/*
	 * The dataplane reloaded on its own (SIGHUP): its trunks are
	 * followed; the policy and sinks come from our own file, if it
	 * loads and changes nothing structural.
	 */
	nc = malloc(sizeof(*nc));
	if (nc != NULL && cfg_load(r->path, nc, err, sizeof(err)) == 0 &&
		cfg_reload_check(r->cfg, nc, r->path, err, sizeof(err)) == 0 &&
		(!ctl_reload_sinks_changed(r->cfg, nc) ||
			ctl_reload_sinks(r, nc, r->cfg, err, sizeof(err)) == 0)) {
		/* the file the dataplane read: the next plan starts from its trunks */
		*r->cfg = *nc;
		fprintf(stderr, "sipguard-ctrl: the dataplane reloaded; %s reloaded too\n",
			r->path);
	} else {
		fprintf(stderr,
			"sipguard-ctrl: the dataplane reloaded; policy and sinks kept: %s\n",
			nc == NULL ? "out of memory" : err);
	}
	free(nc);
	if (ctl_engine_reconfigure(r->eng, &r->cfg->policy) != 0)
		fprintf(stderr, "sipguard-ctrl: out of memory for the reloaded policy\n");
	ctl_engine_set_rules(r->eng, r->cfg);
	r->applied++;
	return 1;
}

static const char *const ctl_reload_change_names[] = {
	[CFG_TRUNK_SAME] = "same",
	[CFG_TRUNK_CHANGED] = "changed",
	[CFG_TRUNK_ADDED] = "added",
	[CFG_TRUNK_RENAMED] = "renamed",
	[CFG_TRUNK_BACK] = "added",
};

/* What the reload did, trunk by trunk, for the operator. */
static json_t *
ctl_reload_summary(const struct sg_config *nc, const struct cfg_slots *cur,
	const struct cfg_reload_plan *plan, int policy, int sinks, uint64_t gen, const char *dp)
{
	json_t *trunks = json_array(), *removed = json_array();
	uint32_t i, s;

	for (i = 0; i < nc->n_trunks; i++) {
		json_t *t = json_pack("{s:s, s:i, s:s}", "name", nc->trunks[i].name, "slot",
			(int)plan->slot[i], "change", ctl_reload_change_names[plan->change[i]]);

		if (plan->change[i] == CFG_TRUNK_RENAMED)
			json_object_set_new(t, "was", json_string(plan->was[i]));
		json_array_append_new(trunks, t);
	}
	for (s = 0; s < cur->n; s++) {
		if (plan->removed[s])
			json_array_append_new(removed, json_string(cur->name[s]));
	}
	return json_pack("{s:I, s:o, s:o, s:b, s:b, s:s}", "generation", (json_int_t)gen, "trunks",
		trunks, "removed", removed, "policy_changed", policy, "sinks_reopened", sinks,
		"dataplane", dp);
}

json_t *
ctl_reload_run(struct ctl_reload *r, int *status, char *err, size_t errlen)
{
	uint32_t cps[SG_MAX_TRUNKS], maxc[SG_MAX_TRUNKS], seq;
	struct cfg_reload_plan *plan = NULL;
	struct sg_config *nc = NULL;
	struct cfg_slots cur;
	char path[PATH_MAX];
	uint64_t req, start;
	int sinks = 0, policy;
	json_t *out = NULL;

	*status = EINVAL;
	nc = malloc(sizeof(*nc));
	plan = malloc(sizeof(*plan));
	if (nc == NULL || plan == NULL) {
		*status = ENOMEM;
		snprintf(err, errlen, "reload: out of memory");
		goto out;
	}
	/* the dataplane reads the same file: give it a path that does not depend on cwd */
	if (realpath(r->path, path) == NULL)
		snprintf(path, sizeof(path), "%s", r->path);
	if (strlen(path) >= SG_RELOAD_PATH_MAX) {
		snprintf(err, errlen, "%s: path too long for a reload request", r->path);
		goto out;
	}
	ctl_reload_follow(r);
	if (cfg_load(r->path, nc, err, errlen) != 0 ||
		cfg_reload_check(r->cfg, nc, r->path, err, errlen) != 0)
		goto out;
	if (ctl_reload_slots(r->shm, &cur, cps, maxc, &seq) != 0) {
		*status = EAGAIN;
		snprintf(err, errlen, "reload: the dataplane's trunk table is changing; try again");
		goto out;
	}
	if (cfg_reload_plan(&cur, r->cfg, nc, r->path, plan, err, errlen) != 0)
		goto out;
	if (ctl_reload_sinks_changed(r->cfg, nc)) {
		if (ctl_reload_sinks(r, nc, r->cfg, err, errlen) != 0) {
			char why[512];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "%s: %s", r->path, why);
			goto out;
		}
		sinks = 1;
	}

	/* the dataplane: its verdict, and its new slot table */
	if (__atomic_load_n(&r->shm->stopped, __ATOMIC_ACQUIRE)) {
		*status = ESRCH;
		snprintf(err, errlen, "reload: the dataplane has stopped");
		goto undo;
	}
	r->requesting = 1;
	memcpy(r->shm->reload_path, path, strlen(path) + 1);
	req = r->shm->reload_req + 1;
	__atomic_store_n(&r->shm->reload_req, req, __ATOMIC_RELEASE);
	start = ctl_reload_ms();
	while (__atomic_load_n(&r->shm->reload_done, __ATOMIC_ACQUIRE) != req) {
		if (ctl_reload_ms() - start > CTL_RELOAD_WAIT_MS) {
			r->requesting = 0;
			*status = ETIMEDOUT;
			snprintf(err, errlen, "reload: no answer from the dataplane in %d s",
				CTL_RELOAD_WAIT_MS / 1000);
			/* it may still apply it: follow_slots will catch up */
			goto undo;
		}
		if (r->wait_fn != NULL)
			r->wait_fn(r->wait_arg);
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	if (r->shm->reload_status != 0) {
		r->requesting = 0;
		*status = r->shm->reload_status;
		snprintf(err, errlen, "%.*s", (int)SG_RELOAD_ERROR_MAX, r->shm->reload_error);
		goto undo;
	}
	ctl_reload_follow(r);
	r->requesting = 0;
	policy = memcmp(&r->cfg->policy, &nc->policy, sizeof(nc->policy)) != 0;
	*r->cfg = *nc;
	if (ctl_engine_reconfigure(r->eng, &r->cfg->policy) != 0)
		fprintf(stderr, "sipguard-ctrl: out of memory for the reloaded policy\n");
	ctl_engine_set_rules(r->eng, r->cfg);
	r->applied++;
	out = ctl_reload_summary(
		nc, &cur, plan, policy, sinks, r->shm->trunks_gen, r->shm->reload_error);
	fprintf(stderr, "sipguard-ctrl: reload applied: %s%s%s\n", r->shm->reload_error,
		policy ? "; policy changed" : "", sinks ? "; sinks reopened" : "");
	*status = 0;
	goto out;
undo:
	if (sinks) {
		char again[256];

		ctl_sinks_free(*r->sinks);
		*r->sinks = ctl_sinks_create(r->cfg, again, sizeof(again));
		if (*r->sinks == NULL)
			fprintf(stderr, "sipguard-ctrl: the running sinks cannot reopen: %s\n",
				again);
	}
out:
	if (out == NULL) {
		r->refused++;
		fprintf(stderr, "sipguard-ctrl: reload refused: %s\n", err);
	}
	free(plan);
	free(nc);
	return out;
}

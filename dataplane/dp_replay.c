/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offline replay (see dp_replay.h). The rings and pools are the live
 * ones' kind (single producer, single consumer); both ends just happen to
 * run on one lcore here, one after the other.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "ctl_engine.h"
#include "ctl_state.h"
#include "dp_replay.h"
#include "dp_worker_loop.h"

#define DP_REPLAY_RING 4096
#define DP_REPLAY_MAX_DIRECTIVES 256

struct dp_replay {
	struct dp_worker *w;
	struct rte_ring *pub, *evt;
	struct rte_mempool *pub_pool, *evt_pool;
	struct sg_worker_stats stats;
	uint64_t generation;
	struct ctl_state *st;
	struct ctl_engine *eng;
	FILE *out;
	int json;
	unsigned long printed;
	uint64_t last_ms; /* the last slot closed */
	struct ctl_directive dirs[DP_REPLAY_MAX_DIRECTIVES];
};

static void
drain(struct dp_replay *r)
{
	void *objs[64];
	unsigned int i, n;

	while ((n = rte_ring_sc_dequeue_burst(r->pub, objs, RTE_DIM(objs), NULL)) > 0) {
		for (i = 0; i < n; i++)
			ctl_engine_pub(r->eng, objs[i]);
		rte_mempool_put_bulk(r->pub_pool, objs, n);
	}
	while ((n = rte_ring_sc_dequeue_burst(r->evt, objs, RTE_DIM(objs), NULL)) > 0) {
		for (i = 0; i < n; i++)
			ctl_engine_event(r->eng, objs[i]);
		rte_mempool_put_bulk(r->evt_pool, objs, n);
	}
}

static void
print_directive(struct dp_replay *r, const struct ctl_directive *d)
{
	char line[4096], when[32];
	time_t t = (time_t)(d->time_ms / 1000);
	struct tm tm;

	if (r->json) {
		if (ctl_directive_line(d, line, sizeof(line)) >= 0)
			fprintf(r->out, "%s\n", line);
		r->printed++;
		return;
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(r->out, "%s.%03uZ  #%-4" PRIu64 " %-16s %-8s", when,
		(unsigned int)(d->time_ms % 1000), d->seq, d->trunk_name,
		ctl_action_name(d->action));
	if (d->action == CTL_ACT_THROTTLE)
		fprintf(r->out, " %4u cps     ", d->cps_limit);
	else if (d->action == CTL_ACT_PAUSE)
		fprintf(r->out, " %4u s       ", d->duration_s);
	else
		fprintf(r->out, "              ");
	fprintf(r->out, " %-22s 503 %" PRIu64 "/%" PRIu64 " finals (%.0f%%) at %.1f cps",
		ctl_cause_name(d->cause), d->ev.r503, d->ev.finals, 100.0 * d->ev.share_503,
		d->ev.cps);
	if (d->action == CTL_ACT_PAUSE)
		fprintf(r->out, ", length from %s", ctl_duration_from_name(d->duration_from));
	if (d->max_concurrent > 0)
		fprintf(r->out, ", at most %u calls up", d->max_concurrent);
	if (d->ev.first_503_ms > 0)
		fprintf(r->out, ", %.1f s after the first 503",
			(double)(d->time_ms - d->ev.first_503_ms) / 1000.0);
	if (d->ev.ceiling_cps > 0.0)
		fprintf(r->out, ", carrier takes ~%.0f CPS (agreed %u)", d->ev.ceiling_cps,
			d->ev.agreed_cps);
	if (d->ev.retry_after >= 0)
		fprintf(r->out, ", Retry-After %d", d->ev.retry_after);
	if (d->ev.oc >= 0)
		fprintf(r->out, ", oc %d", d->ev.oc);
	if (d->ev.diag_has && d->ev.diag_class < SG_DIAG_COUNT)
		fprintf(r->out, ", %s %s%s%s%s", d->ev.diag_decided ? "said" : "503s",
			sg_diag_class_names[d->ev.diag_class],
			d->ev.diag_rule_name[0] != '\0' ? " (rule " : "", d->ev.diag_rule_name,
			d->ev.diag_rule_name[0] != '\0' ? ")" : "");
	fputc('\n', r->out);
	r->printed++;
}

/* Everything before slot_ms is in: counters out, then decide as live does. */
static void
close_slot(struct dp_replay *r, uint64_t slot_ms)
{
	unsigned int i, n;

	while (dp_worker_publish(r->w, 0) > 0)
		drain(r);
	drain(r);
	n = ctl_engine_tick_ms(r->eng, slot_ms, r->dirs, RTE_DIM(r->dirs));
	for (i = 0; i < n; i++)
		print_directive(r, &r->dirs[i]);
	r->last_ms = slot_ms;
}

static void
on_tick(void *arg, uint64_t slot_ms)
{
	close_slot(arg, slot_ms);
}

struct dp_replay *
dp_replay_create(const struct sg_config *cfg, struct dp_worker *w, int json, FILE *out, char *err,
	size_t errlen)
{
	const char *names[SG_MAX_TRUNKS];
	uint32_t cps[SG_MAX_TRUNKS], maxc[SG_MAX_TRUNKS], i;
	struct dp_replay *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		snprintf(err, errlen, "replay: out of memory");
		return NULL;
	}
	r->w = w;
	r->out = out;
	r->json = json;
	r->pub = rte_ring_create(
		"sg_replay_pub", DP_REPLAY_RING, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->evt = rte_ring_create(
		"sg_replay_evt", DP_REPLAY_RING, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->pub_pool = rte_mempool_create("sg_replay_pp", DP_REPLAY_RING + SG_TRUNK_SLOTS,
		sizeof(struct sg_pub), 0, 0, NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0);
	r->evt_pool = rte_mempool_create("sg_replay_ep", DP_REPLAY_RING * 2,
		sizeof(struct sg_event), 0, 0, NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0);
	if (r->pub == NULL || r->evt == NULL || r->pub_pool == NULL || r->evt_pool == NULL) {
		snprintf(err, errlen, "replay: cannot create rings: %s", rte_strerror(rte_errno));
		goto fail;
	}
	for (i = 0; i < cfg->n_trunks; i++) {
		names[i] = cfg->trunks[i].name;
		cps[i] = cfg->trunks[i].cps;
		maxc[i] = cfg->trunks[i].max_concurrent;
	}
	r->st = ctl_state_create(cfg->n_trunks, names, cps, maxc);
	if (r->st != NULL)
		ctl_state_from_zero(r->st); /* the capture's first packet is the first count */
	r->eng = r->st != NULL ? ctl_engine_create(cfg, r->st) : NULL;
	if (r->eng == NULL) {
		snprintf(err, errlen, "replay: out of memory for the policy engine");
		goto fail;
	}
	w->ln = (struct dp_worker_link){
		.pub_ring = r->pub,
		.evt_ring = r->evt,
		.pub_pool = r->pub_pool,
		.evt_pool = r->evt_pool,
		.stats = &r->stats,
		.ctrl_generation = &r->generation,
	};
	dp_worker_set_tick(w, on_tick, r, 0);
	return r;
fail:
	dp_replay_free(r);
	return NULL;
}

void
dp_replay_finish(struct dp_replay *r)
{
	if (r->last_ms == 0)
		return;
	/* the last slot and second of the capture, then one more second to settle */
	close_slot(r, r->last_ms + CTL_POLICY_SLOT_MS);
	close_slot(r, (r->last_ms / 1000 + 1) * 1000);
	close_slot(r, (r->last_ms / 1000 + 1) * 1000);
}

unsigned long
dp_replay_count(const struct dp_replay *r)
{
	return r->printed;
}

void
dp_replay_free(struct dp_replay *r)
{
	if (r == NULL)
		return;
	if (r->w != NULL) {
		dp_worker_set_tick(r->w, NULL, NULL, 0);
		memset(&r->w->ln, 0, sizeof(r->w->ln));
	}
	ctl_engine_free(r->eng);
	ctl_state_free(r->st);
	/* objects still in the rings go with their pools */
	rte_ring_free(r->pub);
	rte_ring_free(r->evt);
	rte_mempool_free(r->pub_pool);
	rte_mempool_free(r->evt_pool);
	free(r);
}

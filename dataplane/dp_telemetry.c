/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands (see dp_telemetry.h). Telemetry's callbacks take
 * no argument, so what they read is module state, guarded by a mutex that
 * only telemetry's thread and start/stop take: the workers never touch it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "dp_telemetry.h"

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dp_worker *const *tel_workers; /* NULL: not serving */
static unsigned int tel_n_workers;
static const struct sg_shm *tel_shm;
static int tel_registered;

static uint64_t
ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* A trunk slot summed over the workers, read in place. */
static void
trunk_sum(uint32_t slot, struct sg_trunk_counters *out)
{
	uint64_t *d = (uint64_t *)out;
	unsigned int i, k;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < tel_n_workers; i++) {
		const uint64_t *s = (const uint64_t *)&tel_workers[i]->trunk[slot];

		for (k = 0; k < sizeof(*out) / sizeof(uint64_t); k++)
			d[k] += ld(&s[k]);
	}
}

static const char *
slot_name(uint32_t slot)
{
	return slot == SG_UNMATCHED ? "(unmatched)" : tel_shm->trunk_name[slot];
}

static uint64_t
sum_codes(const uint64_t *a, unsigned int lo, unsigned int hi)
{
	uint64_t n = 0;
	unsigned int c;

	for (c = lo; c <= hi; c++)
		n += a[c - SG_STATUS_MIN];
	return n;
}

/* The scalars every trunk view shows, in the order of the table below. */
enum tel_col {
	TC_REQUESTS,
	TC_RESPONSES,
	TC_ATTEMPTS,
	TC_FINALS,
	TC_FINAL_2XX,
	TC_FINAL_503,
	TC_RETRANS,
	TC_MALFORMED,
	TC_CONCURRENT,
	TC_COUNT
};

static const char *const tel_col_names[TC_COUNT] = {
	[TC_REQUESTS] = "requests",
	[TC_RESPONSES] = "responses",
	[TC_ATTEMPTS] = "invite_attempts",
	[TC_FINALS] = "invite_finals",
	[TC_FINAL_2XX] = "invite_final_2xx",
	[TC_FINAL_503] = "invite_final_503",
	[TC_RETRANS] = "retransmissions",
	[TC_MALFORMED] = "malformed",
	[TC_CONCURRENT] = "concurrent_calls",
};

static void
trunk_cols(const struct sg_trunk_counters *c, uint64_t *v)
{
	unsigned int m;

	v[TC_REQUESTS] = 0;
	for (m = 0; m < SG_M_COUNT; m++)
		v[TC_REQUESTS] += c->requests[m];
	v[TC_RESPONSES] = sum_codes(c->responses, SG_STATUS_MIN, SG_STATUS_MAX);
	v[TC_ATTEMPTS] = c->invite_attempts;
	v[TC_FINALS] = sum_codes(c->invite_final, 200, SG_STATUS_MAX);
	v[TC_FINAL_2XX] = sum_codes(c->invite_final, 200, 299);
	v[TC_FINAL_503] = sum_codes(c->invite_final, 503, 503);
	v[TC_RETRANS] = c->retransmissions;
	v[TC_MALFORMED] = c->malformed;
	v[TC_CONCURRENT] =
		c->dialogs_opened > c->dialogs_closed ? c->dialogs_opened - c->dialogs_closed : 0;
}

/*
 * Telemetry in this DPDK nests only arrays in arrays, so the table is a
 * dict of columns: "name" (strings) and one array per figure, row i of
 * each being the same trunk.
 */
static int
cmd_trunks(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *cols[TC_COUNT + 1] = { NULL };
	struct sg_trunk_counters c;
	uint64_t v[TC_COUNT];
	uint32_t t, n;
	unsigned int k;
	int ret = 0;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&tel_lock);
	if (tel_workers == NULL) {
		ret = -EAGAIN;
		goto out;
	}
	for (k = 0; k <= TC_COUNT; k++) {
		cols[k] = rte_tel_data_alloc();
		if (cols[k] == NULL) {
			ret = -ENOMEM;
			goto out;
		}
		rte_tel_data_start_array(
			cols[k], k < TC_COUNT ? RTE_TEL_U64_VAL : RTE_TEL_STRING_VAL);
	}
	n = tel_shm->n_trunks;
	for (t = 0; t <= n; t++) {
		uint32_t slot = t < n ? t : SG_UNMATCHED;

		trunk_sum(slot, &c);
		trunk_cols(&c, v);
		rte_tel_data_add_array_string(cols[TC_COUNT], slot_name(slot));
		for (k = 0; k < TC_COUNT; k++)
			rte_tel_data_add_array_u64(cols[k], v[k]);
	}
	rte_tel_data_start_dict(d);
	if (rte_tel_data_add_dict_container(d, "name", cols[TC_COUNT], 0) == 0)
		cols[TC_COUNT] = NULL;
	for (k = 0; k < TC_COUNT; k++) {
		if (rte_tel_data_add_dict_container(d, tel_col_names[k], cols[k], 0) == 0)
			cols[k] = NULL;
	}
out:
	pthread_mutex_unlock(&tel_lock);
	for (k = 0; k <= TC_COUNT; k++)
		rte_tel_data_free(cols[k]);
	return ret;
}

/* A dict of non-zero codes ("503": N), or NULL when out of memory. */
static struct rte_tel_data *
codes_dict(const uint64_t *a)
{
	struct rte_tel_data *d = rte_tel_data_alloc();
	unsigned int k;
	char key[8];

	if (d == NULL)
		return NULL;
	rte_tel_data_start_dict(d);
	for (k = 0; k < SG_STATUS_COUNT; k++) {
		if (a[k] == 0)
			continue;
		snprintf(key, sizeof(key), "%u", k + SG_STATUS_MIN);
		rte_tel_data_add_dict_u64(d, key, a[k]);
	}
	return d;
}

static int
cmd_trunk(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *req = NULL, *resp = NULL, *fin = NULL;
	struct sg_trunk_counters c;
	uint64_t v[TC_COUNT];
	uint32_t t, slot = UINT32_MAX;
	unsigned int m, k;
	int ret = 0;

	(void)cmd;
	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	pthread_mutex_lock(&tel_lock);
	if (tel_workers == NULL) {
		ret = -EAGAIN;
		goto out;
	}
	for (t = 0; t < tel_shm->n_trunks; t++) {
		if (strcmp(params, tel_shm->trunk_name[t]) == 0)
			slot = t;
	}
	if (strcmp(params, "(unmatched)") == 0)
		slot = SG_UNMATCHED;
	if (slot == UINT32_MAX) {
		ret = -ENOENT;
		goto out;
	}
	trunk_sum(slot, &c);
	trunk_cols(&c, v);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", slot_name(slot));
	for (k = 0; k < TC_COUNT; k++)
		rte_tel_data_add_dict_u64(d, tel_col_names[k], v[k]);
	rte_tel_data_add_dict_u64(d, "dialogs_opened", c.dialogs_opened);
	rte_tel_data_add_dict_u64(d, "dialogs_closed", c.dialogs_closed);
	if (slot != SG_UNMATCHED) {
		rte_tel_data_add_dict_u64(d, "agreed_cps", tel_shm->trunk_cps[slot]);
		rte_tel_data_add_dict_u64(
			d, "agreed_concurrent", tel_shm->trunk_max_concurrent[slot]);
	}
	req = rte_tel_data_alloc();
	resp = codes_dict(c.responses);
	fin = codes_dict(c.invite_final);
	if (req == NULL || resp == NULL || fin == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	rte_tel_data_start_dict(req);
	for (m = 0; m < SG_M_COUNT; m++) {
		if (c.requests[m] != 0)
			rte_tel_data_add_dict_u64(req, sg_method_names[m], c.requests[m]);
	}
	/* keep = 0: telemetry frees each container with the reply */
	if (rte_tel_data_add_dict_container(d, "by_method", req, 0) == 0)
		req = NULL;
	if (rte_tel_data_add_dict_container(d, "by_code", resp, 0) == 0)
		resp = NULL;
	if (rte_tel_data_add_dict_container(d, "invite_final_by_code", fin, 0) == 0)
		fin = NULL;
out:
	pthread_mutex_unlock(&tel_lock);
	rte_tel_data_free(req);
	rte_tel_data_free(resp);
	rte_tel_data_free(fin);
	return ret;
}

/* Like /sipguard/trunks, a dict of columns, row i being worker i. */
static int
cmd_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const struct {
		const char *key;
		size_t off;
	} f[] = {
		{ "packets", offsetof(struct sg_worker_stats, packets) },
		{ "bytes", offsetof(struct sg_worker_stats, bytes) },
		{ "busy_cycles", offsetof(struct sg_worker_stats, busy_cycles) },
		{ "total_cycles", offsetof(struct sg_worker_stats, total_cycles) },
		{ "pubs", offsetof(struct sg_worker_stats, pubs) },
		{ "pub_ring_full", offsetof(struct sg_worker_stats, pub_ring_full) },
		{ "pub_pool_empty", offsetof(struct sg_worker_stats, pub_pool_empty) },
		{ "events", offsetof(struct sg_worker_stats, events) },
		{ "evt_ring_full", offsetof(struct sg_worker_stats, evt_ring_full) },
		{ "evt_pool_empty", offsetof(struct sg_worker_stats, evt_pool_empty) },
		{ "retrans_evictions", offsetof(struct sg_worker_stats, retrans_evictions) },
		{ "dialog_evictions", offsetof(struct sg_worker_stats, dialog_evictions) },
	};
	enum { NF = sizeof(f) / sizeof(f[0]), NCOL = NF + 3 };
	static const char *const ids[3] = { "lcore", "port", "queue" };
	struct rte_tel_data *cols[NCOL] = { NULL };
	unsigned int i, k;
	int ret = 0;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&tel_lock);
	if (tel_workers == NULL) {
		ret = -EAGAIN;
		goto out;
	}
	for (k = 0; k < NCOL; k++) {
		cols[k] = rte_tel_data_alloc();
		if (cols[k] == NULL) {
			ret = -ENOMEM;
			goto out;
		}
		rte_tel_data_start_array(cols[k], RTE_TEL_U64_VAL);
	}
	for (i = 0; i < tel_shm->n_workers; i++) {
		const struct sg_worker_stats *w = &tel_shm->workers[i];

		rte_tel_data_add_array_u64(cols[NF], tel_shm->worker_lcore[i]);
		rte_tel_data_add_array_u64(cols[NF + 1], tel_shm->worker_port[i]);
		rte_tel_data_add_array_u64(cols[NF + 2], tel_shm->worker_queue[i]);
		for (k = 0; k < NF; k++)
			rte_tel_data_add_array_u64(
				cols[k], ld((const uint64_t *)((const char *)w + f[k].off)));
	}
	rte_tel_data_start_dict(d);
	for (k = 0; k < NCOL; k++) {
		if (rte_tel_data_add_dict_container(
			    d, k < NF ? f[k].key : ids[k - NF], cols[k], 0) == 0)
			cols[k] = NULL;
	}
out:
	pthread_mutex_unlock(&tel_lock);
	for (k = 0; k < NCOL; k++)
		rte_tel_data_free(cols[k]);
	return ret;
}

static int
cmd_source(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sg_source_counters src;
	uint64_t *s = (uint64_t *)&src;
	unsigned int i, k;
	char key[64];
	int ret = 0;

	(void)cmd;
	(void)params;
	pthread_mutex_lock(&tel_lock);
	if (tel_workers == NULL) {
		ret = -EAGAIN;
		goto out;
	}
	memset(&src, 0, sizeof(src));
	for (i = 0; i < tel_shm->n_workers; i++) {
		const uint64_t *w = (const uint64_t *)&tel_shm->workers[i].src;

		for (k = 0; k < sizeof(src) / sizeof(uint64_t); k++)
			s[k] += ld(&w[k]);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "packets", src.packets);
	rte_tel_data_add_dict_u64(d, "bytes", src.bytes);
	rte_tel_data_add_dict_u64(d, "sip_messages", src.sip_messages);
	rte_tel_data_add_dict_u64(d, "sip_malformed", src.sip_malformed);
	for (k = 0; k < SG_DROP_COUNT; k++) {
		snprintf(key, sizeof(key), "drop_%s", sg_drop_keys[k]);
		rte_tel_data_add_dict_u64(d, key, src.drops[k]);
	}
	for (k = 0; k < SG_SOURCE_FIELDS; k++)
		rte_tel_data_add_dict_u64(
			d, sg_source_fields[k].name, sg_source_field_get(&src, k));
out:
	pthread_mutex_unlock(&tel_lock);
	return ret;
}

static const struct {
	const char *name;
	telemetry_cb fn;
	const char *help;
} tel_cmds[] = {
	{ "/sipguard/trunks", cmd_trunks,
		"Per-trunk totals: a column per figure, \"name\" the trunks. No parameters" },
	{ "/sipguard/trunk", cmd_trunk,
		"One trunk in detail, by method and status code. Parameter: trunk name" },
	{ "/sipguard/workers", cmd_workers,
		"Per-worker packets, cycles and ring drops, a column each. No parameters" },
	{ "/sipguard/source", cmd_source,
		"Source counters: packets, drops by reason, reassembly. Takes no parameters" },
};

int
dp_telemetry_start(struct dp_worker *const *workers, unsigned int n_workers,
	const struct sg_shm *shm, char *err, size_t errlen)
{
	unsigned int i;
	int rc;

	pthread_mutex_lock(&tel_lock);
	tel_workers = workers;
	tel_n_workers = n_workers;
	tel_shm = shm;
	pthread_mutex_unlock(&tel_lock);
	if (tel_registered)
		return 0;
	for (i = 0; i < sizeof(tel_cmds) / sizeof(tel_cmds[0]); i++) {
		rc = rte_telemetry_register_cmd(tel_cmds[i].name, tel_cmds[i].fn, tel_cmds[i].help);
		if (rc != 0) {
			snprintf(err, errlen, "telemetry refused %s: %s", tel_cmds[i].name,
				strerror(-rc));
			return -1;
		}
	}
	tel_registered = 1;
	return 0;
}

void
dp_telemetry_stop(void)
{
	pthread_mutex_lock(&tel_lock);
	tel_workers = NULL;
	tel_n_workers = 0;
	tel_shm = NULL;
	pthread_mutex_unlock(&tel_lock);
}

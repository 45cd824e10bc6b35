/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipguard-ctrl's attachment to the dataplane (see ctl_attach.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "ctl_attach.h"
#include "ctl_ctx.h"
#include "sg_shared.h"

/* A file in the runtime directory DPDK uses for a file prefix. */
void
ctl_attach_runtime_file(const char *prefix, const char *name, char *buf, size_t len)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");

	if (getuid() == 0 || dir == NULL)
		snprintf(buf, len, "/var/run/dpdk/%s/%s", prefix, name);
	else
		snprintf(buf, len, "%s/dpdk/%s/%s", dir, prefix, name);
}

/*
 * Our config must hold the trunks the dataplane counts now (its active
 * slots; after reloads, not in the file's order).
 */
int
ctl_attach_check_trunks(const struct ctl_ctx *c, const char *config)
{
	const struct sg_shm *shm = c->shm;
	uint32_t t, i, active = 0;

	for (t = 0; t < shm->n_trunks && t < SG_MAX_TRUNKS; t++) {
		if (shm->trunk_state[t] != SG_SLOT_ACTIVE)
			continue;
		active++;
		for (i = 0; i < c->cfg->n_trunks; i++) {
			if (strncmp(c->cfg->trunks[i].name, shm->trunk_name[t],
				    SG_TRUNK_NAME_MAX) == 0)
				break;
		}
		if (i == c->cfg->n_trunks) {
			fprintf(stderr,
				"sipguard-ctrl: %s: no trunk \"%.*s\", which the running "
				"dataplane has: use the dataplane's config\n",
				config, SG_TRUNK_NAME_MAX, shm->trunk_name[t]);
			return -1;
		}
	}
	if (active != c->cfg->n_trunks) {
		fprintf(stderr,
			"sipguard-ctrl: %s: %u trunks, the running dataplane has %u: use the "
			"dataplane's config\n",
			config, c->cfg->n_trunks, active);
		return -1;
	}
	return 0;
}

int
ctl_attach(struct ctl_ctx *c)
{
	const struct rte_memzone *mz = rte_memzone_lookup(SG_SHM_NAME);
	char name[RTE_RING_NAMESIZE];
	unsigned int i;

	if (mz == NULL) {
		fprintf(stderr,
			"sipguard-ctrl: no %s memzone: is the dataplane (sipguard) running "
			"with file_prefix \"%s\"?\n",
			SG_SHM_NAME, c->cfg->dp.file_prefix);
		return -1;
	}
	c->shm = mz->addr;
	if (c->shm->magic != SG_SHM_MAGIC || c->shm->version != SG_SHM_VERSION) {
		fprintf(stderr,
			"sipguard-ctrl: dataplane shared memory is version %u, this is %u: "
			"run matching versions\n",
			c->shm->version, SG_SHM_VERSION);
		return -1;
	}
	c->pub_pool = rte_mempool_lookup(SG_POOL_PUB);
	c->evt_pool = rte_mempool_lookup(SG_POOL_EVT);
	for (i = 0; i < c->shm->n_workers; i++) {
		snprintf(name, sizeof(name), SG_RING_PUB_FMT, i);
		c->pub[i] = rte_ring_lookup(name);
		snprintf(name, sizeof(name), SG_RING_EVT_FMT, i);
		c->evt[i] = rte_ring_lookup(name);
		if (c->pub[i] == NULL || c->evt[i] == NULL)
			break;
		if (c->shm->traces) {
			snprintf(name, sizeof(name), SG_RING_TRC_FMT, i);
			c->trc[i] = rte_ring_lookup(name);
			if (c->trc[i] == NULL)
				break;
		}
	}
	if (c->shm->traces) {
		c->trc_pool = rte_mempool_lookup(SG_POOL_TRC);
		if (c->trc_pool == NULL)
			i = 0;
	}
	if (c->pub_pool == NULL || c->evt_pool == NULL || i < c->shm->n_workers) {
		fprintf(stderr,
			"sipguard-ctrl: dataplane rings or pools missing (still starting?)\n");
		return -1;
	}
	return 0;
}

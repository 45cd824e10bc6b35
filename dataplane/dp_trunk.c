/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trunk lookup over rte_lpm (IPv4) and rte_lpm6 (IPv6).
 *
 * LPM answers "which most specific prefix covers this address" but not how
 * long that prefix is, and a trunk may also be bound to a port. So the
 * next hop stored in the LPM is an index into our own table of distinct
 * prefixes; each entry knows its depth, the trunks bound to it by port,
 * and the trunk that owns it for any port. An entry whose owner is
 * port-bound only inherits, at build time, the any-port owner of the
 * deepest prefix that covers it, so a packet on another port still falls
 * back to the broader trunk, exactly as if LPM had skipped the entry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>

#include "dp_trunk.h"

#define DP_TRUNK_MAX_ENTRIES (SG_MAX_TRUNKS * SG_MAX_PREFIXES)
#define DP_TRUNK_NONE UINT32_MAX

struct dp_trunk_port {
	uint16_t port;
	uint32_t trunk;
};

struct dp_trunk_entry {
	struct cfg_prefix prefix;
	uint32_t any_trunk; /* owner for any port, or NONE */
	uint8_t any_depth;  /* depth of the prefix that gave any_trunk */
	uint8_t n_ports;
	struct dp_trunk_port ports[SG_MAX_TRUNKS];
};

struct dp_trunks {
	uint64_t gen;
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
	uint32_t n_entries;
	struct dp_trunk_entry entries[DP_TRUNK_MAX_ENTRIES];
};

static int
prefix_covers(const struct cfg_prefix *outer, const struct cfg_prefix *inner)
{
	unsigned int full, rest;

	if (outer->family != inner->family || outer->depth > inner->depth)
		return 0;
	full = outer->depth / 8;
	rest = outer->depth % 8;
	if (memcmp(outer->addr, inner->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((outer->addr[full] ^ inner->addr[full]) & (0xff00 >> rest)) == 0;
}

static struct dp_trunk_entry *
entry_get(struct dp_trunks *t, const struct cfg_prefix *p)
{
	struct dp_trunk_entry *e;
	uint32_t i;

	for (i = 0; i < t->n_entries; i++) {
		e = &t->entries[i];
		if (e->prefix.family == p->family && e->prefix.depth == p->depth &&
			memcmp(e->prefix.addr, p->addr, 16) == 0)
			return e;
	}
	e = &t->entries[t->n_entries++];
	memset(e, 0, sizeof(*e));
	e->prefix = *p;
	e->any_trunk = DP_TRUNK_NONE;
	return e;
}

/* Give port-only entries the any-port owner of their deepest cover. */
static void
entries_inherit(struct dp_trunks *t)
{
	uint32_t i, j;

	for (i = 0; i < t->n_entries; i++) {
		struct dp_trunk_entry *e = &t->entries[i];
		int best = -1;

		if (e->any_trunk != DP_TRUNK_NONE)
			continue;
		for (j = 0; j < t->n_entries; j++) {
			const struct dp_trunk_entry *o = &t->entries[j];

			if (j == i || !prefix_covers(&o->prefix, &e->prefix))
				continue;
			/* only entries that own any port by themselves */
			if (o->any_trunk == DP_TRUNK_NONE || o->any_depth != o->prefix.depth)
				continue;
			if (best < 0 || o->prefix.depth > t->entries[best].prefix.depth)
				best = (int)j;
		}
		if (best >= 0) {
			e->any_trunk = t->entries[best].any_trunk;
			e->any_depth = t->entries[best].prefix.depth;
		}
	}
}

/* Name of the trunk that answers id (a slot when slots are given). */
static const char *
trunk_name(const struct sg_config *cfg, const uint32_t *slot, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < cfg->n_trunks; i++) {
		if ((slot != NULL ? slot[i] : i) == id)
			return cfg->trunks[i].name;
	}
	return "?";
}

struct dp_trunks *
dp_trunks_create(
	const struct sg_config *cfg, const char *name, int socket_id, char *err, size_t errlen)
{
	return dp_trunks_create_slots(cfg, NULL, 0, name, socket_id, err, errlen);
}

uint64_t
dp_trunks_gen(const struct dp_trunks *t)
{
	return t->gen;
}

/*
 * Build t's entries from cfg (checked before any LPM is touched or
 * allocated). Returns 0, or -1 with one line in err and rte_errno set.
 */
static int
trunks_entries(struct dp_trunks *t, const struct sg_config *cfg, const uint32_t *slot, uint64_t gen,
	char *err, size_t errlen)
{
	uint32_t i, k;

	t->n_entries = 0;
	t->gen = gen;
	for (i = 0; i < cfg->n_trunks; i++) {
		const struct cfg_trunk *ct = &cfg->trunks[i];
		uint32_t id = slot != NULL ? slot[i] : i;

		for (k = 0; k < ct->n_prefixes; k++) {
			struct dp_trunk_entry *e = entry_get(t, &ct->prefixes[k]);

			if (ct->port == 0) {
				if (e->any_trunk != DP_TRUNK_NONE) {
					snprintf(err, errlen,
						"trunk %s: prefix #%u is already owned by trunk %s",
						ct->name, k + 1,
						trunk_name(cfg, slot, e->any_trunk));
					rte_errno = EINVAL;
					return -1;
				}
				e->any_trunk = id;
				e->any_depth = e->prefix.depth;
			} else {
				e->ports[e->n_ports].port = ct->port;
				e->ports[e->n_ports].trunk = id;
				e->n_ports++;
			}
		}
	}
	entries_inherit(t);
	return 0;
}

/* The LPM rules of t's entries (any old ones deleted first). */
static int
trunks_lpm(struct dp_trunks *t, char *err, size_t errlen)
{
	uint32_t i;
	int ret;

	rte_lpm_delete_all(t->lpm4);
	rte_lpm6_delete_all(t->lpm6);
	for (i = 0; i < t->n_entries; i++) {
		const struct cfg_prefix *p = &t->entries[i].prefix;
		unsigned int half;

		/*
		 * LPM takes depths from 1: a default route (/0) goes in as its
		 * two halves, both pointing at the same entry (of depth 0).
		 */
		for (half = 0; half < (p->depth == 0 ? 2u : 1u); half++) {
			uint8_t depth = p->depth == 0 ? 1 : p->depth;
			uint8_t addr[16];

			memcpy(addr, p->addr, sizeof(addr));
			if (p->depth == 0)
				addr[0] = half ? 0x80 : 0;
			if (p->family == 4) {
				uint32_t ip = ((uint32_t)addr[0] << 24) |
					((uint32_t)addr[1] << 16) | ((uint32_t)addr[2] << 8) |
					addr[3];

				ret = rte_lpm_add(t->lpm4, ip, depth, i);
			} else {
				ret = rte_lpm6_add(t->lpm6, addr, depth, i);
			}
			if (ret < 0) {
				snprintf(err, errlen, "trunk table: cannot add prefix #%u: %s", i,
					rte_strerror(-ret));
				rte_errno = EINVAL;
				return -1;
			}
		}
	}
	return 0;
}

struct dp_trunks *
dp_trunks_create_slots(const struct sg_config *cfg, const uint32_t *slot, uint64_t gen,
	const char *name, int socket_id, char *err, size_t errlen)
{
	struct rte_lpm_config c4 = { .max_rules = DP_TRUNK_MAX_ENTRIES, .number_tbl8s = 256 };
	struct rte_lpm6_config c6 = { .max_rules = DP_TRUNK_MAX_ENTRIES, .number_tbl8s = 1024 };
	char lname[RTE_LPM_NAMESIZE];
	struct dp_trunks *t;

	t = rte_zmalloc_socket("dp_trunks", sizeof(*t), RTE_CACHE_LINE_SIZE, socket_id);
	if (t == NULL) {
		snprintf(err, errlen, "trunk table: out of memory");
		rte_errno = ENOMEM;
		return NULL;
	}
	if (trunks_entries(t, cfg, slot, gen, err, errlen) != 0) {
		dp_trunks_free(t);
		rte_errno = EINVAL;
		return NULL;
	}
	snprintf(lname, sizeof(lname), "%s_v4", name);
	t->lpm4 = rte_lpm_create(lname, socket_id, &c4);
	snprintf(lname, sizeof(lname), "%s_v6", name);
	t->lpm6 = rte_lpm6_create(lname, socket_id, &c6);
	if (t->lpm4 == NULL || t->lpm6 == NULL) {
		snprintf(
			err, errlen, "trunk table: cannot create LPM: %s", rte_strerror(rte_errno));
		dp_trunks_free(t);
		rte_errno = ENOMEM;
		return NULL;
	}
	if (trunks_lpm(t, err, errlen) != 0) {
		dp_trunks_free(t);
		rte_errno = EINVAL;
		return NULL;
	}
	return t;
}

int
dp_trunks_refill(struct dp_trunks *t, const struct sg_config *cfg, const uint32_t *slot,
	uint64_t gen, char *err, size_t errlen)
{
	if (trunks_entries(t, cfg, slot, gen, err, errlen) != 0)
		return -1;
	return trunks_lpm(t, err, errlen);
}

void
dp_trunks_free(struct dp_trunks *t)
{
	if (t == NULL)
		return;
	rte_lpm_free(t->lpm4);
	rte_lpm6_free(t->lpm6);
	rte_free(t);
}

/* Trunk owning addr:port, and the depth that decided it; NONE if none. */
static uint32_t
side_lookup(
	const struct dp_trunks *t, uint8_t family, const uint8_t *addr, uint16_t port, int *depth)
{
	const struct dp_trunk_entry *e;
	uint32_t hop;
	unsigned int i;
	int ret;

	if (family == 4) {
		uint32_t ip;

		memcpy(&ip, addr, 4);
		ret = rte_lpm_lookup(t->lpm4, rte_be_to_cpu_32(ip), &hop);
	} else {
		ret = rte_lpm6_lookup(t->lpm6, addr, &hop);
	}
	if (ret != 0)
		return DP_TRUNK_NONE;
	e = &t->entries[hop];
	for (i = 0; i < e->n_ports; i++) {
		if (e->ports[i].port == port) {
			*depth = e->prefix.depth;
			return e->ports[i].trunk;
		}
	}
	*depth = e->any_depth;
	return e->any_trunk;
}

uint32_t
dp_trunks_lookup(const struct dp_trunks *t, const struct dp_pkt *pkt, enum dp_dir *dir)
{
	int sdepth = -1, ddepth = -1;
	uint32_t st, dt;

	dt = side_lookup(t, pkt->family, pkt->dst, pkt->dport, &ddepth);
	st = side_lookup(t, pkt->family, pkt->src, pkt->sport, &sdepth);
	if (dt == DP_TRUNK_NONE && st == DP_TRUNK_NONE) {
		*dir = DP_DIR_TO_TRUNK;
		return SG_UNMATCHED;
	}
	if (st != DP_TRUNK_NONE && (dt == DP_TRUNK_NONE || sdepth > ddepth)) {
		*dir = DP_DIR_FROM_TRUNK;
		return st;
	}
	*dir = DP_DIR_TO_TRUNK;
	return dt;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reload rules (see cfg_reload.h). The structural check walks the
 * loader's own key table, so a key added to the loader is covered the
 * day it is added: it is structural unless its section is one of the
 * few a reload applies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cfg_reload.h"

/* Sections whose keys a reload applies; every other one is structural. */
static const char *const cfg_reload_live[] = {
	"trunks",
	"policy",
	"directives",
	"sipp",
	"kamailio",
	"diagnosis",
	NULL,
};

int
cfg_reload_live_section(const char *section)
{
	unsigned int i;

	for (i = 0; cfg_reload_live[i] != NULL; i++) {
		if (strcmp(cfg_reload_live[i], section) == 0)
			return 1;
	}
	return 0;
}

void
cfg_slots_init(struct cfg_slots *s, const struct sg_config *cfg)
{
	uint32_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < cfg->n_trunks && i < SG_MAX_TRUNKS; i++) {
		snprintf(s->name[i], SG_TRUNK_NAME_MAX, "%s", cfg->trunks[i].name);
		s->state[i] = SG_SLOT_ACTIVE;
	}
	s->n = i;
}

int
cfg_slots_find(const struct cfg_slots *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		if (s->state[i] != SG_SLOT_FREE &&
			strncmp(s->name[i], name, SG_TRUNK_NAME_MAX) == 0)
			return (int)i;
	}
	return -1;
}

/* Describe the old and new value of a scalar or string key; "" for lists. */
static void
cfg_reload_values(const struct cfg_key *k, const char *a, const char *b, char *buf, size_t len)
{
	uint32_t va, vb;

	buf[0] = '\0';
	/* a secret (hep.auth_key) is named, never shown */
	if (strstr(k->name, "key") != NULL)
		return;
	switch (k->type) {
	case CFG_T_U16:
		snprintf(buf, len, " (was %u, now %u)", *(const uint16_t *)(const void *)a,
			*(const uint16_t *)(const void *)b);
		break;
	case CFG_T_U32:
		snprintf(buf, len, " (was %" PRIu32 ", now %" PRIu32 ")",
			*(const uint32_t *)(const void *)a, *(const uint32_t *)(const void *)b);
		break;
	case CFG_T_ENUM:
		va = *(const uint32_t *)(const void *)a;
		vb = *(const uint32_t *)(const void *)b;
		snprintf(buf, len, " (was %s, now %s)", k->choices[va], k->choices[vb]);
		break;
	case CFG_T_NAME:
	case CFG_T_STRING:
	case CFG_T_TEXT:
		snprintf(buf, len, " (was \"%.*s\", now \"%.*s\")", (int)k->max, a, (int)k->max, b);
		break;
	default:
		break;
	}
}

/* 1 when key k differs between two copies of its group (bases a and b). */
static int
cfg_reload_key_differs(const struct cfg_key *k, const char *a, const char *b)
{
	const char *fa = a + k->off, *fb = b + k->off;
	uint32_t na, nb;

	switch (k->type) {
	case CFG_T_U16:
		return memcmp(fa, fb, sizeof(uint16_t)) != 0;
	case CFG_T_U32:
	case CFG_T_ENUM:
		return memcmp(fa, fb, sizeof(uint32_t)) != 0;
	case CFG_T_NAME:
	case CFG_T_STRING:
	case CFG_T_TEXT:
		return strncmp(fa, fb, (size_t)k->max + 1) != 0;
	case CFG_T_U16_LIST:
	case CFG_T_PREFIX_LIST:
		memcpy(&na, a + k->count_off, sizeof(na));
		memcpy(&nb, b + k->count_off, sizeof(nb));
		return na != nb ||
			memcmp(fa, fb,
				na *
					(k->type == CFG_T_U16_LIST ? sizeof(uint16_t)
								   : sizeof(struct cfg_prefix))) !=
			0;
	}
	return 0;
}

/* First key of a group that differs, or NULL. */
static const struct cfg_key *
cfg_reload_group_diff(const struct cfg_key *keys, const char *a, const char *b)
{
	const struct cfg_key *k;

	for (k = keys; k->name != NULL; k++) {
		if (cfg_reload_key_differs(k, a, b))
			return k;
	}
	return NULL;
}

int
cfg_reload_check(const struct sg_config *old, const struct sg_config *new, const char *file,
	char *err, size_t errlen)
{
	const struct cfg_section *sec;
	const struct cfg_key *k;
	char vals[300];
	uint32_t i, na, nb;

	for (sec = cfg_sections; sec->name != NULL; sec++) {
		const char *a = (const char *)old + sec->off, *b = (const char *)new + sec->off;

		if (cfg_reload_live_section(sec->name))
			continue;
		if (sec->max_n == 0) {
			k = cfg_reload_group_diff(sec->keys, a, b);
			if (k == NULL)
				continue;
			cfg_reload_values(k, a + k->off, b + k->off, vals, sizeof(vals));
			snprintf(err, errlen,
				"%s: %s.%s: cannot change while running%s; restart to apply it",
				file, sec->name, k->name, vals);
			return -1;
		}
		memcpy(&na, (const char *)old + sec->count_off, sizeof(na));
		memcpy(&nb, (const char *)new + sec->count_off, sizeof(nb));
		if (na != nb) {
			snprintf(err, errlen,
				"%s: %s: cannot change while running (was %" PRIu32
				" entries, now %" PRIu32 "); restart to apply it",
				file, sec->name, na, nb);
			return -1;
		}
		for (i = 0; i < na; i++) {
			const char *ea = a + i * sec->size, *eb = b + i * sec->size;

			k = cfg_reload_group_diff(sec->keys, ea, eb);
			if (k == NULL)
				continue;
			cfg_reload_values(k, ea + k->off, eb + k->off, vals, sizeof(vals));
			snprintf(err, errlen,
				"%s: %s[%" PRIu32 "].%s: cannot change while running%s; restart to "
				"apply it",
				file, sec->name, i, k->name, vals);
			return -1;
		}
	}
	return 0;
}

/* The same prefixes (in any order) and the same port. */
static int
cfg_reload_same_match(const struct cfg_trunk *a, const struct cfg_trunk *b)
{
	uint32_t i, j;

	if (a->port != b->port || a->n_prefixes != b->n_prefixes)
		return 0;
	for (i = 0; i < a->n_prefixes; i++) {
		for (j = 0; j < b->n_prefixes; j++) {
			if (memcmp(&a->prefixes[i], &b->prefixes[j], sizeof(a->prefixes[i])) == 0)
				break;
		}
		if (j == b->n_prefixes)
			return 0;
	}
	return 1;
}

static const struct cfg_trunk *
cfg_reload_trunk(const struct sg_config *cfg, const char *name)
{
	uint32_t i;

	for (i = 0; i < cfg->n_trunks; i++) {
		if (strncmp(cfg->trunks[i].name, name, SG_TRUNK_NAME_MAX) == 0)
			return &cfg->trunks[i];
	}
	return NULL;
}

static int
cfg_reload_trunk_changed(const struct cfg_trunk *a, const struct cfg_trunk *b)
{
	/* the rule set counts too: the dataplane compiles the rules again for it */
	return !cfg_reload_same_match(a, b) || a->cps != b->cps ||
		a->max_concurrent != b->max_concurrent ||
		strncmp(a->diagnosis, b->diagnosis, SG_TRUNK_NAME_MAX) != 0;
}

int
cfg_reload_plan(const struct cfg_slots *cur, const struct sg_config *old,
	const struct sg_config *new, const char *file, struct cfg_reload_plan *plan, char *err,
	size_t errlen)
{
	uint8_t claimed[SG_MAX_TRUNKS] = { 0 };
	uint32_t i, s;
	int found;

	memset(plan, 0, sizeof(*plan));
	plan->next = *cur;
	/* 1. by name: the trunk's own slot, active or removed */
	for (i = 0; i < new->n_trunks; i++) {
		const struct cfg_trunk *nt = &new->trunks[i];
		const struct cfg_trunk *ot;

		plan->slot[i] = UINT32_MAX;
		found = cfg_slots_find(cur, nt->name);
		if (found < 0)
			continue;
		s = (uint32_t)found;
		plan->slot[i] = s;
		claimed[s] = 1;
		ot = cur->state[s] == SG_SLOT_ACTIVE ? cfg_reload_trunk(old, nt->name) : NULL;
		if (cur->state[s] == SG_SLOT_REMOVED || ot == NULL)
			plan->change[i] = CFG_TRUNK_BACK;
		else if (cfg_reload_trunk_changed(ot, nt))
			plan->change[i] = CFG_TRUNK_CHANGED;
		else
			plan->change[i] = CFG_TRUNK_SAME;
	}
	/*
	 * 2. renamed: a trunk that left the file and matched exactly the
	 * same traffic (prefixes and port); only when one such trunk left,
	 * so the slot cannot go to the wrong one.
	 */
	for (i = 0; i < new->n_trunks; i++) {
		const struct cfg_trunk *nt = &new->trunks[i];
		uint32_t cand = UINT32_MAX, n_cand = 0;

		if (plan->slot[i] != UINT32_MAX)
			continue;
		for (s = 0; s < cur->n; s++) {
			const struct cfg_trunk *ot;

			if (cur->state[s] != SG_SLOT_ACTIVE || claimed[s])
				continue;
			ot = cfg_reload_trunk(old, cur->name[s]);
			if (ot != NULL && cfg_reload_same_match(ot, nt)) {
				cand = s;
				n_cand++;
			}
		}
		if (n_cand != 1)
			continue;
		plan->slot[i] = cand;
		claimed[cand] = 1;
		plan->change[i] = CFG_TRUNK_RENAMED;
		snprintf(plan->was[i], SG_TRUNK_NAME_MAX, "%s", cur->name[cand]);
	}
	/* 3. added: the lowest slot never used */
	for (i = 0; i < new->n_trunks; i++) {
		if (plan->slot[i] != UINT32_MAX)
			continue;
		for (s = 0; s < SG_MAX_TRUNKS; s++) {
			if (!claimed[s] && (s >= cur->n || cur->state[s] == SG_SLOT_FREE))
				break;
		}
		if (s == SG_MAX_TRUNKS) {
			snprintf(err, errlen,
				"%s: trunks[%" PRIu32 "] (%s): no counter slot left (%d trunks "
				"configured or removed since start); restart to add it",
				file, i, new->trunks[i].name, SG_MAX_TRUNKS);
			return -1;
		}
		plan->slot[i] = s;
		claimed[s] = 1;
		plan->change[i] = CFG_TRUNK_ADDED;
	}
	/* the slot table after the reload */
	for (s = 0; s < cur->n; s++) {
		if (cur->state[s] == SG_SLOT_ACTIVE && !claimed[s]) {
			plan->next.state[s] = SG_SLOT_REMOVED;
			plan->removed[s] = 1;
			plan->n_removed++;
		}
	}
	for (i = 0; i < new->n_trunks; i++) {
		s = plan->slot[i];
		plan->next.state[s] = SG_SLOT_ACTIVE;
		snprintf(plan->next.name[s], SG_TRUNK_NAME_MAX, "%s", new->trunks[i].name);
		if (s + 1 > plan->next.n)
			plan->next.n = s + 1;
		plan->n_added +=
			plan->change[i] == CFG_TRUNK_ADDED || plan->change[i] == CFG_TRUNK_BACK;
		plan->n_renamed += plan->change[i] == CFG_TRUNK_RENAMED;
		plan->n_changed += plan->change[i] == CFG_TRUNK_CHANGED;
	}
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a reload may change, and where each trunk's counts go.
 *
 * A running sipguard applies a new config file without a restart: the
 * trunks (added, removed, renamed, prefixes, port, agreed rates), the
 * policy, the diagnosis rules, the directive sinks and the adapters.
 * Everything else sizes or wires the running processes (ports, lcores,
 * table sizes, the control socket, ...): a new file that changes any of
 * it is refused, naming the key. Both processes use these plain functions (no EAL), so the rules
 * are one piece of code, unit-tested.
 *
 * Counters are kept per slot. A trunk keeps its slot across reloads:
 *   - by name;
 *   - renamed: a new name whose prefixes and port are exactly those of
 *     one trunk that left the file keeps that trunk's slot, so its counts
 *     continue under the new name;
 *   - added: the lowest slot never used;
 *   - removed: its slot keeps its totals (shown as removed) and is never
 *     given to another trunk; the same name coming back takes it again.
 * A slot is never reused for other counts, so no count moves between
 * trunks and none is lost; with every slot used, a reload that adds a
 * trunk is refused (a restart starts the slots afresh).
 */
#ifndef CFG_RELOAD_H
#define CFG_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "sg_shared.h"

/* The slot table: which name each counter slot holds, and its state. */
struct cfg_slots {
	uint32_t n;		      /* slots used: 0..n-1 */
	uint8_t state[SG_MAX_TRUNKS]; /* enum sg_slot_state */
	char name[SG_MAX_TRUNKS][SG_TRUNK_NAME_MAX];
};

/* What a reload does to one trunk of the new file. */
enum cfg_trunk_change {
	CFG_TRUNK_SAME,	   /* same slot, nothing changed */
	CFG_TRUNK_CHANGED, /* same slot, prefixes, port, rates or rule set changed */
	CFG_TRUNK_ADDED,   /* a new slot */
	CFG_TRUNK_RENAMED, /* the slot of a trunk that left under another name */
	CFG_TRUNK_BACK,	   /* a removed trunk's slot, taken again */
};

struct cfg_reload_plan {
	uint32_t slot[SG_MAX_TRUNKS];		    /* new trunk i counts in this slot */
	uint8_t change[SG_MAX_TRUNKS];		    /* enum cfg_trunk_change of trunk i */
	uint8_t removed[SG_MAX_TRUNKS];		    /* slot s removed by this reload */
	char was[SG_MAX_TRUNKS][SG_TRUNK_NAME_MAX]; /* renamed: the old name */
	struct cfg_slots next;			    /* the slot table after the reload */
	uint32_t n_added, n_removed, n_renamed, n_changed;
};

/* Slots of a config at start: trunk i in slot i. */
void cfg_slots_init(struct cfg_slots *s, const struct sg_config *cfg);

/* Slot of an active or removed trunk by name, or -1. */
int cfg_slots_find(const struct cfg_slots *s, const char *name);

/*
 * Refuse what cannot change while running. Returns 0, or -1 with one
 * line in err: "FILE: KEY: cannot change while running (...)", naming the
 * first such key of the new file (`file` names it).
 */
int cfg_reload_check(const struct sg_config *old, const struct sg_config *new, const char *file,
	char *err, size_t errlen);

/*
 * Where each trunk of `new` counts, given the running slots and config
 * (`old`, whose trunks are the active slots). Returns 0, or -1 with one
 * line in err (no free slot for an added trunk).
 */
int cfg_reload_plan(const struct cfg_slots *cur, const struct sg_config *old,
	const struct sg_config *new, const char *file, struct cfg_reload_plan *plan, char *err,
	size_t errlen);

/* The sections a reload applies (0: structural, refused when changed). */
int cfg_reload_live_section(const char *section);

#endif /* CFG_RELOAD_H */

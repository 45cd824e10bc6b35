/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 503s and attempts of one trunk in 100 ms slots over the last few
 * seconds: what the policy looks at between closed seconds, so that a
 * cluster of 503s is acted on within a second of its first 503. 503s are
 * placed by their packet time (the same live and offline); attempts and
 * concurrency by the slot the caller closes. Fixed memory, a ring indexed
 * by absolute slot; a slot is valid only for the slot it is tagged with.
 * Pure C, no clock.
 */
#ifndef CTL_CLUSTER_H
#define CTL_CLUSTER_H

#include <stdint.h>

#define CTL_CLUSTER_SLOT_MS 100
#define CTL_CLUSTER_SLOTS 40 /* four seconds */
#define CTL_CLUSTER_NO_SLOT UINT64_MAX

struct ctl_cluster_slot {
	uint64_t slot;	    /* absolute slot (ms / CTL_CLUSTER_SLOT_MS) held */
	uint32_t r503;	    /* 503s answered in the slot */
	uint64_t first_ms;  /* packet time of its first 503 */
	uint64_t attempts;  /* new INVITEs the slot's close counted */
	int64_t concurrent; /* calls up at its close, -1 unknown */
	int closed;	    /* attempts and concurrent are set */
};

struct ctl_cluster {
	struct ctl_cluster_slot s[CTL_CLUSTER_SLOTS];
	uint64_t newest; /* newest slot written */
};

/* What a window of slots holds. */
struct ctl_cluster_sum {
	uint32_t r503;
	uint64_t first_ms; /* first 503 of the window, 0 none */
	uint64_t attempts; /* over the closed slots */
	uint32_t closed;   /* slots with attempts known */
};

void ctl_cluster_init(struct ctl_cluster *c);

/* A 503 answered at packet time at_ms. */
void ctl_cluster_503(struct ctl_cluster *c, uint64_t at_ms);

/* The slot starting at slot_ms closed: attempts in it, concurrency at its end. */
void ctl_cluster_close(
	struct ctl_cluster *c, uint64_t slot_ms, uint64_t attempts, int64_t concurrent);

/* Sum of the slots starting in [from_ms, to_ms). */
void ctl_cluster_sum(
	const struct ctl_cluster *c, uint64_t from_ms, uint64_t to_ms, struct ctl_cluster_sum *out);

/*
 * The same, counting only the 503s of slots where the calls up stayed
 * under conc_min (at the slot's close and the one before; a level not
 * known counts as under): the 503s a concurrency cap does not explain.
 */
void ctl_cluster_sum_below(const struct ctl_cluster *c, uint64_t from_ms, uint64_t to_ms,
	int64_t conc_min, struct ctl_cluster_sum *out);

#endif /* CTL_CLUSTER_H */

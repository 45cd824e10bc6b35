/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the state modules share: the layout of struct ctl_state, which
 * ctl_state.c keeps (publications, events, ticks) and ctl_state_json.c
 * reads to build the API's documents, and the small helpers both use.
 * Not for other modules: they see struct ctl_state as opaque
 * (ctl_state.h).
 */
#ifndef CTL_STATE_INT_H
#define CTL_STATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_state.h"

/* Counters are walked as arrays of uint64_t (see sg_trunk_counters_add). */
#define CTL_WORDS (sizeof(struct sg_trunk_counters) / sizeof(uint64_t))

struct ctl_state_trunk {
	char name[SG_TRUNK_NAME_MAX];
	int removed; /* removed by a reload: totals only */
	uint32_t cps;
	uint32_t max_concurrent;
	struct sg_trunk_counters total;
	struct sg_trunk_counters base; /* totals at the previous tick */
	int32_t ra_pending;	       /* max Retry-After since last tick */
	uint64_t n_events;	       /* events ever taken */
	struct sg_event events[CTL_STATE_TRUNK_EVENTS];
	struct ctl_series series;
};

struct ctl_state_held {
	uint64_t seq;
	int have;
	struct sg_trunk_counters c;
};

struct ctl_state {
	uint32_t n_trunks;
	int based;	      /* a baseline was taken */
	uint64_t baseline_s;  /* its second */
	uint64_t last_closed; /* newest second closed by a tick */
	uint64_t warmup_end;  /* first pubs absorbed until then */
	uint32_t warmup_s;    /* CTL_STATE_WARMUP_S, 0 from zero */
	/* 1: that worker's republish-all (ctl_state_expect_republish) is not in yet */
	uint8_t republish_wait[SG_MAX_WORKERS];
	struct ctl_state_stats stats;
	uint64_t n_events;
	struct sg_event events[CTL_STATE_EVENTS];
	struct ctl_state_trunk trunk[SG_TRUNK_SLOTS];
	struct ctl_state_held held[SG_MAX_WORKERS][SG_TRUNK_SLOTS];
};

/* Copy len bytes of src to dst, printable ASCII kept, the rest '?'; returns len. */
size_t ctl_state_printable(char *dst, const char *src, size_t len);

/* Whether any counter of c is not zero. */
int ctl_state_has_traffic(const struct sg_trunk_counters *c);

/* Dialogs open by the counters c (never negative). */
int64_t ctl_state_concurrent(const struct sg_trunk_counters *c);

#endif /* CTL_STATE_INT_H */

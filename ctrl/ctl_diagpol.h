/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the policy does with the carrier's own words (the diagnosis class
 * of each 503, dataplane/dp_diag.h). The rate-based rules of ctl_limit.c
 * tell a limit from trouble by the attempt rate; the class says it
 * outright, so it decides first:
 *
 *  - route-down or maintenance 503s (most of a trunk's 503s over the
 *    detection window): one `alert` with cause route-down or maintenance,
 *    and no pause or throttle from those 503s: throttling does not fix a
 *    dead route. A `clear` once clear_after seconds passed without them.
 *  - cps-limit 503s: a throttle (no pause) on the first few, to what the
 *    carrier took, without waiting for a cluster.
 *  - concurrency-limit 503s: the concurrency throttle (max_concurrent one
 *    under the calls up, the rate that keeps under it), no pause, without
 *    waiting for the calls up to be seen climbing.
 *
 * Other classes (overload, other, unclassified) leave the decision to the
 * rate-based rules. Every directive's evidence names the leading class of
 * the trunk's recent 503s and the newest rule that said it.
 *
 * Per trunk: the 503s of each class in 100 ms slots over ten seconds and
 * in one-second slots over the last minute, by packet time, so the
 * offline replay and the live control plane decide alike. Fixed memory,
 * pure C, no clock.
 */
#ifndef CTL_DIAGPOL_H
#define CTL_DIAGPOL_H

#include <stdint.h>

#include "ctl_directive.h"
#include "sg_shared.h"

/*
 * 100 ms slots: ten seconds. The limit rules look back over the detection
 * window (at most this long) since the trunk's state last changed, not
 * just the last second: live, events reach the control plane late when
 * the machine is loaded, and a class rule must still see them when they
 * come.
 */
#define CTL_DIAGPOL_SLOTS 100
#define CTL_DIAGPOL_SECS 64 /* one-second slots: at least the longest detection window */
/* classified 503s that act (at most burst_min_503) */
#define CTL_DIAGPOL_MIN_503 2

struct ctl_diagpol {
	uint64_t slot_tag[CTL_DIAGPOL_SLOTS]; /* absolute 100 ms slot held, 0 none */
	uint16_t slot_n[CTL_DIAGPOL_SLOTS][SG_DIAG_COUNT];
	uint64_t slot_first[CTL_DIAGPOL_SLOTS][SG_DIAG_COUNT]; /* packet time of the first, ms */
	uint64_t sec_tag[CTL_DIAGPOL_SECS];		       /* absolute second held, 0 none */
	uint32_t sec_n[CTL_DIAGPOL_SECS][SG_DIAG_COUNT];
	uint16_t rule[SG_DIAG_COUNT]; /* newest deciding rule per class, 1 + index; 0 none */
	uint64_t dead_ms;	      /* packet time of the newest route-down/maintenance 503 */
	uint8_t alert_class;	      /* route-down or maintenance alert out; 0 none */
	uint8_t decided;	      /* class deciding the directive being emitted; 0 none */
};

/* What the recent 503s of one trunk say, for a directive's evidence. */
struct ctl_diagpol_view {
	uint32_t n[SG_DIAG_COUNT]; /* 503s by class */
	uint32_t total;
	uint8_t leading; /* the class most of them fell in, ties to the lower */
};

void ctl_diagpol_init(struct ctl_diagpol *dg);

/* One 5xx/6xx event of the trunk: its 503s are counted by class. */
void ctl_diagpol_event(struct ctl_diagpol *dg, const struct sg_event *e);

/* 503s by class with packet time in [from_ms, to_ms), from the 100 ms slots. */
void ctl_diagpol_recent(
	const struct ctl_diagpol *dg, uint64_t from_ms, uint64_t to_ms, struct ctl_diagpol_view *v);

/* 503s by class in the seconds [from_s, to_s], from the one-second slots. */
void ctl_diagpol_window(
	const struct ctl_diagpol *dg, uint64_t from_s, uint64_t to_s, struct ctl_diagpol_view *v);

/*
 * The class and rule for a directive's evidence, as of now_ms over the
 * last window_s seconds: the deciding class if a class rule decided, else
 * the leading class of the 503s (unclassified when none).
 */
void ctl_diagpol_evidence(
	const struct ctl_diagpol *dg, uint64_t now_ms, uint32_t window_s, struct ctl_evidence *ev);

#endif /* CTL_DIAGPOL_H */

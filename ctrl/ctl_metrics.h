/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus exposition of the control plane's view: the text format
 * (version 0.0.4) rendered from the state, the policy, the dataplane's
 * shared statistics and the sinks' counts into a growing buffer. A plain
 * function over structs: no HTTP, no threads, no clock, so the unit test
 * (and promtool) check exactly what /metrics serves. ctl_http.h serves it.
 *
 * Naming follows Prometheus: a `sipguard_` prefix, `_total` on counters,
 * base units (seconds, bytes), HELP and TYPE for every family. Label
 * values are bounded: trunks come from the config (plus "(unmatched)"),
 * status codes only once they occurred, methods, actions, causes and drop
 * reasons from fixed tables.
 */
#ifndef CTL_METRICS_H
#define CTL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_directive.h"
#include "ctl_policy.h"
#include "ctl_state.h"
#include "sg_shared.h"

/* A growing text buffer; p is NUL-terminated once anything was written. */
struct ctl_metrics_buf {
	char *p;
	size_t len;
	size_t cap;
	int oom; /* an allocation failed: the text is cut */
};

/* Directives the control plane emitted, per trunk, action and cause. */
struct ctl_metrics_directives {
	uint64_t n[SG_MAX_TRUNKS][CTL_ACT_COUNT][CTL_CAUSE_COUNT];
};

/*
 * Everything one rendering reads. Any pointer but st may be NULL: its
 * families are then left out (shm NULL: no dataplane figures).
 */
struct ctl_metrics_view {
	const char *version;	      /* sipguard_build_info{version} */
	const struct ctl_state *st;   /* per-trunk totals */
	const struct ctl_policy *pol; /* state and limit per trunk */
	const struct sg_shm *shm;     /* dataplane: workers, ports, source */
	const double *worker_busy;    /* busy share of the last second, 0..1 */
	const json_t *sinks;	      /* ctl_sinks_stats_json() array */
	const struct ctl_metrics_directives *dirs;
	int dataplane_up;	/* sipguard_dataplane_up */
	uint64_t ctrl_start_ns; /* wall clock, 0: left out */
};

/* Count one emitted directive (trunks out of range are ignored). */
void ctl_metrics_count_directive(struct ctl_metrics_directives *c, const struct ctl_directive *d);

/*
 * Render the exposition into b (appended; start with a zeroed buffer or
 * reset len to 0 to reuse it). Returns 0, or -1 when memory ran out (b->oom).
 */
int ctl_metrics_render(const struct ctl_metrics_view *v, struct ctl_metrics_buf *b);

void ctl_metrics_buf_free(struct ctl_metrics_buf *b);

#endif /* CTL_METRICS_H */

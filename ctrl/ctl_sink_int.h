/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the sink modules share: the set of sinks (ctl_sink.c), the sinks
 * that carry the JSON line (ctl_sink_line.c) and the adapters
 * (ctl_adapter.c). Every sink counts its deliveries the same way and
 * retries on the set's one backoff schedule (directives.retry_base and
 * retry_max). Not for other modules.
 */
#ifndef CTL_SINK_INT_H
#define CTL_SINK_INT_H

#include <stdint.h>

#include "ctl_sink.h"

struct ctl_sink_count {
	uint64_t sent;
	uint64_t failed;
	uint64_t retried;
	uint64_t dropped;
};

/* Delay before attempt tries + 1, tries >= 1: base, 2 base, ... max. */
uint64_t ctl_sink_backoff(const struct ctl_sinks *s, uint32_t tries);

#endif /* CTL_SINK_INT_H */

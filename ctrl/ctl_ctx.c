/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipguard-ctrl's context (see ctl_ctx.h): the wall clock and the
 * directives' way out, which the loop (main.c) and the API commands
 * (ctl_cmds.c, `set`) both use.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ctl_ctx.h"
#include "ctl_directive.h"
#include "ctl_metrics.h"
#include "ctl_sink.h"

uint64_t
ctl_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
ctl_sinks_emit_all(struct ctl_ctx *c, const struct ctl_directive *d, unsigned int n)
{
	uint64_t now_ms = ctl_wall_ns() / 1000000;
	unsigned int i;

	for (i = 0; i < n; i++)
		ctl_sinks_emit(c->sinks, &d[i], now_ms);
}

/* Directives out: to every sink (never blocking), and a line on stderr. */
void
ctl_emit(struct ctl_ctx *c, const struct ctl_directive *d, unsigned int n)
{
	char line[2048];
	unsigned int i;

	if (n > 0)
		ctl_sinks_emit_all(c, d, n);
	for (i = 0; i < n; i++) {
		ctl_metrics_count_directive(&c->dir_counts, &d[i]);
		if (ctl_directive_line(&d[i], line, sizeof(line)) >= 0)
			fprintf(stderr, "sipguard-ctrl: directive %s\n", line);
	}
}

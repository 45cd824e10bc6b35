/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The human rendering of control API answers (ctl_render.c, and the trace
 * ladder in ctl_ladder.c): what sipguardctl prints when it is not asked
 * for JSON.
 *
 * Separate from the wire protocol (ctl_api.h), which the daemon, the CLI
 * and scripts share: only the CLI draws tables, and the renderers change
 * with what an operator wants to see, not with the protocol.
 */
#ifndef CTL_RENDER_H
#define CTL_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Human rendering of response data, kept apart from all I/O so tests can
 * compare the text with the document. Each takes the "data" member of a
 * response, tolerates missing members (printed as "-"), and returns 0, or
 * -1 if data is not the expected kind of document. Strings from the
 * network are sanitised.
 */
int ctl_render_status(FILE *f, json_t *data);
int ctl_render_trunks(FILE *f, json_t *data);
int ctl_render_trunk(FILE *f, json_t *data, size_t max_events);
int ctl_render_events(FILE *f, json_t *data, size_t max_events);
int ctl_render_totals(FILE *f, json_t *data);

/*
 * `trace`: one call's ladder (ctl_trace_call_json's shape), like sngrep's
 * call flow (ctl_ladder.c).
 */
int ctl_render_trace(FILE *f, json_t *data);

/* One directive (ctl_directive_json's shape) as one human line. */
int ctl_render_directive(FILE *f, json_t *d);

/* `fleet`: this edge's mode and Redis, then per shared account every edge's row. */
int ctl_render_fleet(FILE *f, json_t *data);

/*
 * Sparkline of a JSON array of numbers with the blocks ▁▂▃▄▅▆▇█: 0 (and
 * anything below) is ▁, the series maximum is █, any positive value is at
 * least ▂. Writes at most dstlen bytes including the NUL (3 bytes per
 * point). Returns the number of points drawn.
 */
size_t ctl_render_sparkline(char *dst, size_t dstlen, json_t *series);

#endif /* CTL_RENDER_H */

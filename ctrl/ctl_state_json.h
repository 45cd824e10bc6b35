/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON documents the control API serves from the state (ctl_state.h):
 * the answers of its `trunks`, `trunk`, `events` and `totals` commands,
 * and the state's own counters in `status`.
 *
 * Kept apart from the state, which sums publications and closes seconds
 * with no formatting at all: these only read it, when a command asks.
 */
#ifndef CTL_STATE_JSON_H
#define CTL_STATE_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "ctl_state.h"

/*
 * JSON documents, each a new reference (NULL on allocation failure). now_s
 * is the current wall-clock second: "the last full second" is now_s - 1.
 *
 * ctl_state_trunks_json: {"trunks":[ROW, ...]}, configured trunks in config
 * order, then "(unmatched)" if it has any traffic. ROW:
 *   {"name":S, "cps":N, "cps_avg10":F, "cps_agreed":N, "concurrent":N,
 *    "max_concurrent":N, "r503_per_s":F, "share_503_pct":F,
 *    "answer_ratio":F|null, "attempts_total":N, "finals_total":N,
 *    "final_503_total":N, "leading_class":S|null, "diagnosis":{CLASS:N}}
 * cps: attempts in second now_s - 1. cps_avg10, r503_per_s: per-second
 * averages over the last 10 closed seconds (fewer right after a baseline).
 * share_503_pct: 0..100 over the last 60 s, 0 with no finals.
 * answer_ratio: 2xx / finals over the last 60 s, null with no finals.
 * concurrent: dialogs open now. Finals are final answers to INVITE
 * (2xx..6xx). "(unmatched)" has cps_agreed and max_concurrent 0.
 * diagnosis: final 4xx-6xx answers to INVITE by class (every class of
 * sg_diag_class_names, "unclassified" included) since the dataplane
 * started; leading_class: the class most of them fell in over the last
 * ten minutes (the series), null when no rule matched any there.
 */
json_t *ctl_state_trunks_json(const struct ctl_state *st, uint64_t now_s);

/*
 * ROW plus "series":{"cps":[60],"r503":[60],"concurrent":[60]} (ints,
 * oldest first, ending at now_s - 1), "totals":COUNTERS and "events":[the
 * trunk's latest 16, newest first, each EVENT]. NULL for an unknown name.
 * COUNTERS: {"requests":{METHOD:N}, "responses":{"CODE":N},
 * "retransmissions":N, "invite_attempts":N, "invite_final":{"CODE":N},
 * "malformed":N, "diagnosis":{CLASS:N}}, zero entries of the maps omitted
 * (diagnosis lists every class).
 * EVENT: {"time":F (epoch seconds), "call_id":S, "status":N,
 * "retry_after":N|null, "reason":S|null ("Q.850;cause=34", "SIP;cause=503",
 * "other"), "oc":N|null, "oc_algo":"loss"|"rate"|"other"|null,
 * "class":S (the diagnosis, "unclassified" when no rule matched),
 * "rule":N|null (index of the deciding rule in the config's list)}.
 */
json_t *ctl_state_trunk_json(const struct ctl_state *st, const char *name, uint64_t now_s);

/* {"events":[EVENT + "trunk":S, ...]} newest first; limit 0: all kept. */
json_t *ctl_state_events_json(const struct ctl_state *st, unsigned int limit);

/* {"trunks":{NAME:COUNTERS, ...}, "unmatched":COUNTERS}: the offline report's parts. */
json_t *ctl_state_totals_json(const struct ctl_state *st);

/*
 * {"pubs":N, "stale_pubs":N, "events":N, "late_samples":N,
 *  "invalid_pubs":N, "invalid_events":N, "late_merged":N, "baselines":N}
 */
json_t *ctl_state_stats_json(const struct ctl_state *st);

#endif /* CTL_STATE_JSON_H */

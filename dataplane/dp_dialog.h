/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dialog table: concurrent calls per trunk. An INVITE answered 2xx opens a
 * dialog; a BYE (or its 200), or the dialog timeout, closes it. Counted as
 * monotonic opened/closed counters, so the active count (opened - closed)
 * survives any transport that may skip a publication.
 *
 * Same construction as the retransmission table: fixed-size and
 * set-associative, one per lcore. A full set evicts its oldest dialog,
 * counting it as evicted and closed so the active count stays the table's
 * truth. Timeouts are found lazily in the sets a lookup touches and by an
 * incremental sweep, so no pass over the whole table ever stalls a worker.
 */
#ifndef DP_DIALOG_H
#define DP_DIALOG_H

#include <stdint.h>

#include "dp_sip.h"
#include "sg_shared.h"

#define DP_DIALOG_WAYS 8

struct dp_dialogs;

struct dp_dialog_stats {
	uint64_t opened;
	uint64_t closed; /* by BYE */
	uint64_t timed_out;
	uint64_t evicted;
};

struct dp_dialogs *dp_dialogs_create(uint32_t entries, uint32_t timeout_s, int socket_id);
void dp_dialogs_free(struct dp_dialogs *d);

/*
 * Feed one new (not retransmitted) message of trunk `trunk`. Updates the
 * trunk's dialogs_opened / dialogs_closed in counters[] (indexed by trunk
 * slot), for this trunk or, on eviction or timeout, another one.
 */
void dp_dialogs_message(struct dp_dialogs *d, const struct dp_sip_msg *m, uint32_t trunk,
	uint64_t now_ms, struct sg_trunk_counters *counters);

/* Close timed-out dialogs in the next `sets` sets (incremental sweep). */
void dp_dialogs_sweep(
	struct dp_dialogs *d, uint32_t sets, uint64_t now_ms, struct sg_trunk_counters *counters);

const struct dp_dialog_stats *dp_dialogs_stats(const struct dp_dialogs *d);
uint32_t dp_dialogs_capacity(const struct dp_dialogs *d);
uint32_t dp_dialogs_active(const struct dp_dialogs *d);

#endif /* DP_DIALOG_H */

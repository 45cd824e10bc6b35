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

/*
 * What a message means to the table, worked out before the table is
 * touched (so a burst's first pass can prefetch the set): whether it
 * opens or closes a dialog, and the Call-ID's digest.
 */
struct dp_dialog_key {
	uint64_t set_h; /* picks the set */
	uint64_t tag;	/* identifies the dialog in it */
	uint8_t kind;	/* enum dp_dialog_kind */
};

enum dp_dialog_kind {
	DP_DIALOG_NONE, /* neither: the table is not touched */
	DP_DIALOG_OPENS,
	DP_DIALOG_CLOSES,
};

void dp_dialogs_key(const struct dp_sip_msg *m, struct dp_dialog_key *k);

/* Bring the set of a key that touches the table into cache. */
void dp_dialogs_prefetch(const struct dp_dialogs *d, const struct dp_dialog_key *k);

/* dp_dialogs_message with the key already worked out. */
void dp_dialogs_message_key(struct dp_dialogs *d, const struct dp_dialog_key *k, uint32_t trunk,
	uint64_t now_ms, struct sg_trunk_counters *counters);

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
 * slot), for this trunk or, on eviction or timeout, another one; a BYE
 * also adds the call to calls_ended and its length to call_seconds.
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

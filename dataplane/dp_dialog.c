/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dialog table (see dp_dialog.h). A way holds the 64-bit tag of the
 * Call-ID's XXH3 digest (the set comes from the other half), the trunk
 * slot and the time the dialog was opened.
 */
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

/* xxHash's header-only build: the hash is inlined. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dp_dialog.h"

struct dp_dialog_set {
	uint64_t tag[DP_DIALOG_WAYS];
	uint32_t opened_s[DP_DIALOG_WAYS]; /* packet time, seconds */
	uint8_t trunk[DP_DIALOG_WAYS];
	uint8_t used;
} __rte_cache_aligned;

struct dp_dialogs {
	uint32_t set_mask;
	uint32_t timeout_s;
	uint32_t sweep_next;
	uint32_t active;
	struct dp_dialog_stats stats;
	struct dp_dialog_set sets[];
};

struct dp_dialogs *
dp_dialogs_create(uint32_t entries, uint32_t timeout_s, int socket_id)
{
	struct dp_dialogs *d;
	uint32_t nsets = rte_align32pow2(RTE_MAX(entries / DP_DIALOG_WAYS, 1u));

	RTE_BUILD_BUG_ON(SG_TRUNK_SLOTS > 256);
	d = rte_zmalloc_socket("dp_dialogs",
		sizeof(*d) + (size_t)nsets * sizeof(struct dp_dialog_set), RTE_CACHE_LINE_SIZE,
		socket_id);
	if (d == NULL)
		return NULL;
	d->set_mask = nsets - 1;
	d->timeout_s = timeout_s;
	return d;
}

void
dp_dialogs_free(struct dp_dialogs *d)
{
	rte_free(d);
}

static inline void
way_close(struct dp_dialogs *d, struct dp_dialog_set *s, unsigned int w,
	struct sg_trunk_counters *counters)
{
	counters[s->trunk[w]].dialogs_closed++;
	s->used &= (uint8_t) ~(1u << w);
	d->active--;
}

/* Close expired ways of a set; returns the bitmap of ways left in use. */
static inline void
set_expire(struct dp_dialogs *d, struct dp_dialog_set *s, uint32_t now_s,
	struct sg_trunk_counters *counters)
{
	unsigned int w;

	for (w = 0; w < DP_DIALOG_WAYS; w++) {
		if ((s->used & (1u << w)) && now_s - s->opened_s[w] > d->timeout_s) {
			way_close(d, s, w, counters);
			d->stats.timed_out++;
		}
	}
}

static inline int
set_find(const struct dp_dialog_set *s, uint64_t tag)
{
	unsigned int w;

	for (w = 0; w < DP_DIALOG_WAYS; w++) {
		if ((s->used & (1u << w)) && s->tag[w] == tag)
			return (int)w;
	}
	return -1;
}

static void
dialog_open(struct dp_dialogs *d, struct dp_dialog_set *s, uint64_t tag, uint32_t trunk,
	uint32_t now_s, struct sg_trunk_counters *counters)
{
	unsigned int w, pick = DP_DIALOG_WAYS;

	for (w = 0; w < DP_DIALOG_WAYS; w++) {
		if (!(s->used & (1u << w))) {
			pick = w;
			break;
		}
	}
	if (pick == DP_DIALOG_WAYS) {
		/* set full: the oldest dialog goes, counted */
		pick = 0;
		for (w = 1; w < DP_DIALOG_WAYS; w++) {
			if (now_s - s->opened_s[w] > now_s - s->opened_s[pick])
				pick = w;
		}
		way_close(d, s, pick, counters);
		d->stats.evicted++;
	}
	s->tag[pick] = tag;
	s->opened_s[pick] = now_s;
	s->trunk[pick] = (uint8_t)trunk;
	s->used |= (uint8_t)(1u << pick);
	d->active++;
	d->stats.opened++;
	counters[trunk].dialogs_opened++;
}

void
dp_dialogs_key(const struct dp_sip_msg *m, struct dp_dialog_key *k)
{
	XXH128_hash_t h;

	/* only two kinds of message matter; everything else costs a compare */
	if (!m->is_request && m->cseq_method == SG_M_INVITE && m->status >= 200 && m->status < 300)
		k->kind = DP_DIALOG_OPENS;
	else if (m->is_request && m->method == SG_M_BYE)
		k->kind = DP_DIALOG_CLOSES;
	else {
		k->kind = DP_DIALOG_NONE;
		return;
	}
	h = XXH3_128bits(m->call_id.p, m->call_id.len);
	k->set_h = h.low64;
	k->tag = h.high64;
}

void
dp_dialogs_prefetch(const struct dp_dialogs *d, const struct dp_dialog_key *k)
{
	const struct dp_dialog_set *s;

	if (k->kind == DP_DIALOG_NONE)
		return;
	s = &d->sets[k->set_h & d->set_mask];
	rte_prefetch0(s);
	rte_prefetch0((const char *)s + RTE_CACHE_LINE_SIZE);
}

void
dp_dialogs_message_key(struct dp_dialogs *d, const struct dp_dialog_key *k, uint32_t trunk,
	uint64_t now_ms, struct sg_trunk_counters *counters)
{
	struct dp_dialog_set *s;
	uint32_t now_s = (uint32_t)(now_ms / 1000);
	int w;

	if (k->kind == DP_DIALOG_NONE)
		return;
	s = &d->sets[k->set_h & d->set_mask];
	set_expire(d, s, now_s, counters);
	w = set_find(s, k->tag);
	if (k->kind == DP_DIALOG_OPENS) {
		/* a 200 retransmitted late or to a re-INVITE: already open */
		if (w < 0)
			dialog_open(d, s, k->tag, trunk, now_s, counters);
	} else if (w >= 0) {
		/* a call's length is known only when a BYE ends it */
		counters[s->trunk[w]].calls_ended++;
		counters[s->trunk[w]].call_seconds += now_s - s->opened_s[w];
		way_close(d, s, (unsigned int)w, counters);
		d->stats.closed++;
	}
}

void
dp_dialogs_message(struct dp_dialogs *d, const struct dp_sip_msg *m, uint32_t trunk,
	uint64_t now_ms, struct sg_trunk_counters *counters)
{
	struct dp_dialog_key k;

	dp_dialogs_key(m, &k);
	dp_dialogs_message_key(d, &k, trunk, now_ms, counters);
}

void
dp_dialogs_sweep(
	struct dp_dialogs *d, uint32_t sets, uint64_t now_ms, struct sg_trunk_counters *counters)
{
	uint32_t now_s = (uint32_t)(now_ms / 1000);
	uint32_t i;

	for (i = 0; i < sets && i <= d->set_mask; i++) {
		set_expire(d, &d->sets[d->sweep_next], now_s, counters);
		d->sweep_next = (d->sweep_next + 1) & d->set_mask;
	}
}

const struct dp_dialog_stats *
dp_dialogs_stats(const struct dp_dialogs *d)
{
	return &d->stats;
}

uint32_t
dp_dialogs_capacity(const struct dp_dialogs *d)
{
	return (d->set_mask + 1) * DP_DIALOG_WAYS;
}

uint32_t
dp_dialogs_active(const struct dp_dialogs *d)
{
	return d->active;
}

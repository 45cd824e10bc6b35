/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 100 ms slots of 503s and attempts (see ctl_cluster.h).
 */
#include <stdint.h>
#include <string.h>

#include "ctl_cluster.h"

void
ctl_cluster_init(struct ctl_cluster *c)
{
	uint32_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < CTL_CLUSTER_SLOTS; i++) {
		c->s[i].slot = CTL_CLUSTER_NO_SLOT;
		c->s[i].concurrent = -1;
	}
}

/* The slot for absolute slot n, cleared if it held an older one. */
static struct ctl_cluster_slot *
ctl_cluster_at(struct ctl_cluster *c, uint64_t n)
{
	struct ctl_cluster_slot *sl = &c->s[n % CTL_CLUSTER_SLOTS];

	/* older than the ring: nothing to learn from it */
	if (n + CTL_CLUSTER_SLOTS <= c->newest)
		return NULL;
	if (n > c->newest)
		c->newest = n;
	if (sl->slot != n) {
		memset(sl, 0, sizeof(*sl));
		sl->slot = n;
		sl->concurrent = -1;
	}
	return sl;
}

void
ctl_cluster_503(struct ctl_cluster *c, uint64_t at_ms)
{
	struct ctl_cluster_slot *sl = ctl_cluster_at(c, at_ms / CTL_CLUSTER_SLOT_MS);

	if (sl == NULL)
		return;
	if (sl->r503 == 0 || at_ms < sl->first_ms)
		sl->first_ms = at_ms;
	sl->r503++;
}

void
ctl_cluster_close(struct ctl_cluster *c, uint64_t slot_ms, uint64_t attempts, int64_t concurrent)
{
	struct ctl_cluster_slot *sl = ctl_cluster_at(c, slot_ms / CTL_CLUSTER_SLOT_MS);

	if (sl == NULL)
		return;
	sl->attempts = attempts;
	sl->concurrent = concurrent;
	sl->closed = 1;
}

/* Calls up at the close of absolute slot n, -1 when not known. */
static int64_t
ctl_cluster_conc(const struct ctl_cluster *c, uint64_t n)
{
	const struct ctl_cluster_slot *sl = &c->s[n % CTL_CLUSTER_SLOTS];

	return sl->slot == n && sl->closed ? sl->concurrent : -1;
}

void
ctl_cluster_sum(
	const struct ctl_cluster *c, uint64_t from_ms, uint64_t to_ms, struct ctl_cluster_sum *out)
{
	ctl_cluster_sum_below(c, from_ms, to_ms, INT64_MAX, out);
}

void
ctl_cluster_sum_below(const struct ctl_cluster *c, uint64_t from_ms, uint64_t to_ms,
	int64_t conc_min, struct ctl_cluster_sum *out)
{
	uint64_t n, first = from_ms / CTL_CLUSTER_SLOT_MS, last;

	memset(out, 0, sizeof(*out));
	if (to_ms <= from_ms)
		return;
	/* slots starting in [from_ms, to_ms) */
	if (first * CTL_CLUSTER_SLOT_MS < from_ms)
		first++;
	last = (to_ms - 1) / CTL_CLUSTER_SLOT_MS;
	if (last >= CTL_CLUSTER_SLOTS && first < last + 1 - CTL_CLUSTER_SLOTS)
		first = last + 1 - CTL_CLUSTER_SLOTS;
	for (n = first; n <= last; n++) {
		const struct ctl_cluster_slot *sl = &c->s[n % CTL_CLUSTER_SLOTS];

		if (sl->slot != n)
			continue;
		if (sl->r503 > 0 && ctl_cluster_conc(c, n) < conc_min &&
			(n == 0 || ctl_cluster_conc(c, n - 1) < conc_min)) {
			if (out->r503 == 0 || sl->first_ms < out->first_ms)
				out->first_ms = sl->first_ms;
			out->r503 += sl->r503;
		}
		if (sl->closed) {
			out->attempts += sl->attempts;
			out->closed++;
		}
	}
}

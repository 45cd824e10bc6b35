/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Learned carrier ceiling (see ctl_ceiling.h). The drift is exponential:
 * after one half-life, half the gap to the contract is given back. It is
 * computed on read from the time the estimate was set, so nothing has to
 * run while nothing happens.
 */
#include <math.h>
#include <string.h>

#include "ctl_ceiling.h"

void
ctl_ceiling_init(struct ctl_ceiling *c, uint32_t halflife_s)
{
	memset(c, 0, sizeof(*c));
	c->halflife_s = halflife_s;
}

double
ctl_ceiling_cps(const struct ctl_ceiling *c, uint64_t now_ms, uint32_t agreed)
{
	double gap, age_s, e;

	if (c->cps <= 0.0)
		return 0.0;
	e = c->cps;
	if (e >= agreed)
		return agreed;
	if (c->halflife_s > 0 && now_ms > c->set_ms) {
		age_s = (double)(now_ms - c->set_ms) / 1000.0;
		gap = (double)agreed - e;
		e = agreed - gap * exp2(-age_s / c->halflife_s);
	}
	return e;
}

void
ctl_ceiling_note(struct ctl_ceiling *c, uint64_t now_ms, double cps, int64_t concurrent)
{
	struct ctl_ceiling_onset *on = &c->ring[c->next];

	on->at_ms = now_ms;
	on->cps = cps < 1.0 ? 1.0 : cps;
	on->concurrent = concurrent;
	c->next = (c->next + 1) % CTL_CEILING_ONSETS;
	if (c->n < CTL_CEILING_ONSETS)
		c->n++;
	c->onsets++;
}

void
ctl_ceiling_onset(
	struct ctl_ceiling *c, uint64_t now_ms, uint32_t agreed, double cps, int64_t concurrent)
{
	double cur = ctl_ceiling_cps(c, now_ms, agreed);

	if (cps < 1.0)
		cps = 1.0;
	ctl_ceiling_note(c, now_ms, cps, concurrent);
	c->cps = cur > 0.0 && cur < cps ? cur : cps;
	c->set_ms = now_ms;
}

void
ctl_ceiling_confirm(struct ctl_ceiling *c, uint64_t now_ms, uint32_t agreed, double cps)
{
	double cur = ctl_ceiling_cps(c, now_ms, agreed);

	if (c->cps <= 0.0)
		return; /* nothing learned: the contract stands */
	c->cps = cur > cps ? cur : cps;
	c->set_ms = now_ms;
}

int
ctl_ceiling_by_concurrency(const struct ctl_ceiling *c, int64_t *conc)
{
	double rlo = 0.0, rhi = 0.0;
	int64_t clo = -1, chi = -1;
	uint32_t i, n = 0;

	for (i = 0; i < c->n; i++) {
		const struct ctl_ceiling_onset *on = &c->ring[i];

		if (on->concurrent <= 0)
			continue;
		if (n == 0 || on->cps < rlo)
			rlo = on->cps;
		if (n == 0 || on->cps > rhi)
			rhi = on->cps;
		if (n == 0 || on->concurrent < clo)
			clo = on->concurrent;
		if (n == 0 || on->concurrent > chi)
			chi = on->concurrent;
		n++;
	}
	if (n < 2 || (chi - clo) * 10 > clo || rhi <= rlo * 1.2)
		return 0;
	*conc = clo;
	return 1;
}

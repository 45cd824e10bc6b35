/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a trunk's history of one-second samples says (see
 * ctl_policy_int.h): a sample by second, windows clipped to what the
 * history holds, mean and largest rates, the view of one second that
 * every decision reads (the detection window, whether it holds a burst,
 * the rates now, before and at the peak), and the over-limit judgement
 * made from it.
 *
 * Separate from ctl_policy.c, which writes the history and drives the
 * state machine, and from ctl_limit.c, which acts on 503s: these only
 * read the history, never change the policy, so the same samples always
 * give the same view.
 */
#include <stdint.h>
#include <string.h>

#include "ctl_policy_int.h"

const struct ctl_policy_sample *
ctl_policy_sample_at(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t second)
{
	const struct ctl_policy_sample *sm = &tr->hist[second % p->hist_len];

	/* a slot not written for that second is a second without traffic */
	return sm->second == second ? sm : NULL;
}

/* Seconds [from, to] clipped to what history holds; returns how many. */
static uint32_t
ctl_policy_clip(const struct ctl_policy *p, uint64_t *from, uint64_t to)
{
	if (p->last_second == CTL_POLICY_NO_SECOND || to < p->first_second)
		return 0;
	if (*from < p->first_second)
		*from = p->first_second;
	if (to + 1 > p->hist_len && *from < to + 1 - p->hist_len)
		*from = to + 1 - p->hist_len;
	if (*from > to)
		return 0;
	return (uint32_t)(to - *from + 1);
}

/* Mean attempts over [from, to]; 0 when the range is empty. */
double
ctl_policy_mean(
	const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t from, uint64_t to)
{
	uint32_t n = ctl_policy_clip(p, &from, to);
	uint64_t s, sum = 0;

	if (n == 0)
		return 0.0;
	for (s = from; s <= to; s++) {
		const struct ctl_policy_sample *sm = ctl_policy_sample_at(p, tr, s);

		if (sm != NULL)
			sum += sm->attempts;
	}
	return (double)sum / n;
}

/* Sum the window [from, to] into v; returns the largest one-second rate. */
uint64_t
ctl_policy_window(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t from,
	uint64_t to, struct ctl_policy_view *v)
{
	uint64_t s, top = 0;

	v->n = ctl_policy_clip(p, &from, to);
	v->attempts = v->finals = v->r503 = 0;
	v->retry_after = -1;
	if (v->n == 0)
		return 0;
	for (s = from; s <= to; s++) {
		const struct ctl_policy_sample *sm = ctl_policy_sample_at(p, tr, s);

		if (sm == NULL)
			continue;
		v->attempts += sm->attempts;
		v->finals += sm->finals;
		v->r503 += sm->r503;
		if (sm->retry_after > v->retry_after)
			v->retry_after = sm->retry_after;
		if (sm->attempts > top)
			top = sm->attempts;
	}
	return top;
}

/*
 * Look at trunk tr as of second s: the detection window (never reaching
 * back before the current state began, so what led to a state change is
 * not counted twice), whether it holds a burst, and the attempt rates
 * the cause is judged by.
 */
void
ctl_policy_view(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s,
	struct ctl_policy_view *v)
{
	const struct cfg_policy *c = &p->conf;
	uint32_t r = ctl_policy_recent(p);
	uint64_t from, avail, finals;
	uint32_t n_peak, n_early;
	struct ctl_policy_view pk;

	memset(v, 0, sizeof(*v));
	v->second = s;
	v->retry_after = -1;
	if (p->last_second == CTL_POLICY_NO_SECOND)
		return;
	from = ctl_policy_back(s, c->window_s);
	if (from < tr->state_from)
		from = tr->state_from;
	ctl_policy_window(p, tr, from, s, v);
	/* inconsistent input (more 503s than finals) must not hide a burst */
	finals = v->finals > v->r503 ? v->finals : v->r503;
	v->burst = v->r503 >= c->burst_min_503 && v->r503 * 100 >= c->burst_min_share * finals;

	/*
	 * The rate is judged from when the trunk began sending: idle seconds
	 * before the dialer started must not make a fresh ramp look low. A
	 * trunk sending for less than two rate windows is starting up, which
	 * is a ramp: a burst then is over-limit, never carrier trouble.
	 */
	avail = tr->active_from == CTL_POLICY_NO_SECOND || tr->active_from > s
		? 0
		: s - tr->active_from + 1;
	from = ctl_policy_back(s, r);
	if (avail > 0 && from < tr->active_from)
		from = tr->active_from;
	v->rate_now = ctl_policy_mean(p, tr, from, s);
	if (avail >= 2ull * r) {
		v->rate_prev = ctl_policy_mean(p, tr, ctl_policy_back(s, 2ull * r), s - r);
		/*
		 * 10 % and two whole calls above: noise on a steady rate is not a
		 * ramp (live, a publication late by a few ms moves calls into the
		 * next second, and a dialer starved of CPU catches up in bursts)
		 */
		v->rising = v->rate_now >= v->rate_prev * 1.1 && v->rate_now >= v->rate_prev + 2.0;
	} else {
		v->rising = avail > 0;
	}
	from = ctl_policy_back(s, c->peak_window_s);
	v->peak = (double)ctl_policy_window(p, tr, from, s, &pk);
	n_peak = ctl_policy_clip(p, &from, s);
	n_early = n_peak < r ? n_peak : r;
	if (n_early > 0)
		v->early = ctl_policy_mean(p, tr, from, from + n_early - 1);
}

/*
 * Over-limit or carrier trouble, for a burst in normal state. Over-limit
 * when any of: the rate is above the agreed CPS, the concurrency at or
 * above the agreed maximum, the rate rising, the rate above low_rate_pct
 * of agreed, or the rate near its recent peak when that peak was reached
 * by climbing within the peak window. Otherwise (a low, steady rate):
 * carrier trouble.
 */
int
ctl_policy_over_limit(const struct ctl_policy *p, const struct ctl_policy_trunk *tr,
	const struct ctl_policy_view *v)
{
	const struct cfg_policy *c = &p->conf;
	double near = v->peak * c->near_peak_pct / 100.0;

	if (v->rate_now > tr->agreed_cps)
		return 1;
	if (tr->max_concurrent > 0 && tr->concurrent >= (int64_t)tr->max_concurrent)
		return 1;
	if (v->rising)
		return 1;
	if (v->rate_now * 100.0 > (double)c->low_rate_pct * tr->agreed_cps)
		return 1;
	if (v->peak > 0 && v->rate_now >= near && v->early < near)
		return 1;
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rate-limit policy for a trunk whose carrier account several edges
 * share (struct ctl_policy_fleet in ctl_policy.h). The policy's rules
 * are the same; what changes is whose traffic they are judged on: the
 * carrier limits the account, so its refusals say something about the
 * account's rate, not about this edge's part of it.
 */
#include <string.h>

#include "ctl_policy_int.h"

void
ctl_policy_set_fleet(struct ctl_policy *p, uint32_t trunk, const struct ctl_policy_fleet *f)
{
	struct ctl_policy_trunk *tr;

	if (p == NULL || trunk >= p->n_trunks)
		return;
	tr = &p->trunks[trunk];
	if (f == NULL || !f->member) {
		memset(&tr->fleet, 0, sizeof(tr->fleet));
		tr->fleet_spared = 0;
		return;
	}
	tr->fleet = *f;
	if (!(tr->fleet.others_cps >= 0.0))
		tr->fleet.others_cps = 0.0; /* NaN or negative: nothing known */
	if (!(tr->fleet.self_cps >= 0.0))
		tr->fleet.self_cps = 0.0;
}

/*
 * What the other edges add to this edge's 100 ms attempts: the carrier
 * counts the account's calls. 0 for a trunk with its own budget.
 */
double
ctl_policy_fleet_others(const struct ctl_policy_trunk *tr)
{
	return tr->fleet.member ? tr->fleet.others_cps : 0.0;
}

/* A dialer at exactly a rate counts a call more in some seconds: 5 %, one call at least. */
static uint64_t
slack(uint64_t cps)
{
	return cps / 20 > 1 ? cps / 20 : 1;
}

/*
 * Second s (already in the history) counts toward a proactive CPS
 * throttle: its attempts are above the agreed CPS. For a shared account,
 * so must be most of the detection window's seconds: a second that
 * reached the control plane late on one edge reads as two seconds' calls
 * there, and summed with the others' as more than the account's limit
 * (and a control plane that stalled reads many seconds' calls as one),
 * while a fleet really above the limit is so second after second.
 */
int
ctl_policy_fleet_over_cps(const struct ctl_policy *p, const struct ctl_policy_trunk *tr, uint64_t s,
	uint64_t attempts)
{
	uint64_t lim = (uint64_t)tr->agreed_cps + slack(tr->agreed_cps);
	uint64_t from = ctl_policy_back(s, p->conf.window_s), t;
	uint32_t n = 0, over = 0;

	if (attempts <= lim)
		return 0;
	if (!tr->fleet.member)
		return 1;
	if (from < p->first_second)
		from = p->first_second;
	for (t = from; t <= s; t++) {
		const struct ctl_policy_sample *sm = ctl_policy_sample_at(p, tr, t);

		n++;
		over += sm != NULL && sm->attempts > lim;
	}
	return over * 2 > n;
}

/*
 * An over-limit burst on a shared account: is it one to learn no ceiling
 * from? Yes when all of:
 *  - the trunk was normal and calm (the burst's backoff level is 0): a
 *    burst that follows another before the trunk was calm for a peak
 *    window is the carrier's limit found again, and is learned from;
 *  - no ceiling under the budget is learned already (the carrier was
 *    found to take less than the shares: refusals near it are that);
 *  - this edge kept to its share over the last second (20 % and a call
 *    of slack for pacing): an edge above it caused the refusals itself;
 *  - the account's attempt rate at the onset (account_cps) was not above
 *    the agreed CPS: the shares sum to less than it, so refusals then are
 *    the carrier's counting window running long (a starved carrier's
 *    timer resetting late), not a ceiling under the limit. Learning one
 *    from the rate of a fleet still ramping, or from this edge's part of
 *    the account, would hold every edge under its share until a probe.
 * The pause still happens (the carrier's window is given time to turn);
 * the caller records the onset for the concurrency comparison only and
 * comes back at the account's limit, that is at the shares.
 */
int
ctl_policy_fleet_spared(const struct ctl_policy *p, struct ctl_policy_trunk *tr, uint64_t now_ms,
	double account_cps)
{
	const struct ctl_policy_fleet *f = &tr->fleet;
	struct ctl_cluster_sum sum;
	double self, e;

	(void)p;
	tr->fleet_spared = 0;
	if (!f->member || tr->state != CTL_POLICY_NORMAL || tr->level > 0)
		return 0;
	e = ctl_ceiling_cps(&tr->ceil, now_ms, tr->agreed_cps);
	if (e > 0.0 && e < (double)f->budget)
		return 0;
	/* this edge's own attempts: its 100 ms slots, else its last closed second */
	ctl_cluster_sum(&tr->cl, now_ms >= 1000 ? now_ms - 1000 : 0, now_ms, &sum);
	self = sum.closed >= 5 ? (double)sum.attempts * 10.0 / sum.closed : f->self_cps;
	if (self > (double)f->share + f->share / 5 + 1)
		return 0;
	if (account_cps > (double)(tr->agreed_cps + slack(tr->agreed_cps)))
		return 0;
	tr->fleet_spared = 1;
	return 1;
}

/*
 * The pause of a spared burst is over and the trunk is throttled at the
 * account's limit: that limit is not on trial (nothing was estimated),
 * so stray 503s after it do not step it back and learn a ceiling; a new
 * cluster of them is a burst, and is learned from.
 */
void
ctl_policy_fleet_pause_over(struct ctl_policy_trunk *tr)
{
	if (!tr->fleet_spared)
		return;
	tr->fleet_spared = 0;
	tr->raised = 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a carrier really takes: a learned ceiling per trunk, beside the
 * agreed (contract) figures. Contracts are often above what a carrier's
 * border lets through; the carrier's 503s are the only measurement of
 * the real limit. Each over-limit onset is one observation: the rate the
 * carrier accepted (attempts minus 503s around the onset) and the
 * concurrency at that moment. The estimate is the lowest recent accepted
 * rate, and it drifts back toward the contract with a half-life, so a
 * carrier that raised its limit is found again by the policy's probes.
 *
 * Onsets are also compared with each other: when the concurrency at the
 * onsets is the same while the rates differ, the carrier caps concurrent
 * calls, not the rate.
 *
 * Pure C over explicit time, like ctl_policy.
 */
#ifndef CTL_CEILING_H
#define CTL_CEILING_H

#include <stdint.h>

#define CTL_CEILING_ONSETS 8 /* onsets kept for the concurrency comparison */

struct ctl_ceiling_onset {
	uint64_t at_ms;
	double cps;	    /* the rate the carrier accepted at the onset */
	int64_t concurrent; /* -1 unknown */
};

struct ctl_ceiling {
	double cps;	     /* estimate at set_ms, 0: none yet */
	uint64_t set_ms;     /* when the estimate was last set */
	uint32_t halflife_s; /* drift toward the contract, 0: none */
	uint64_t onsets;     /* ever recorded */
	uint32_t n, next;    /* ring of the latest onsets */
	struct ctl_ceiling_onset ring[CTL_CEILING_ONSETS];
};

void ctl_ceiling_init(struct ctl_ceiling *c, uint32_t halflife_s);

/*
 * An over-limit onset at now_ms: the carrier accepted `cps` and refused
 * the rest, with `concurrent` calls up (-1 unknown). The estimate becomes
 * the lower of its value drifted toward `agreed` and cps.
 */
void ctl_ceiling_onset(
	struct ctl_ceiling *c, uint64_t now_ms, uint32_t agreed, double cps, int64_t concurrent);

/*
 * An onset recorded for the concurrency comparison only: the carrier
 * refused on concurrency, the rate estimate stays as it is.
 */
void ctl_ceiling_note(struct ctl_ceiling *c, uint64_t now_ms, double cps, int64_t concurrent);

/*
 * The carrier took `cps` without 503s for a while (a probe held): the
 * estimate rises to cps if it was lower.
 */
void ctl_ceiling_confirm(struct ctl_ceiling *c, uint64_t now_ms, uint32_t agreed, double cps);

/*
 * The estimate at now_ms (CPS), drifted toward `agreed` by the half-life
 * since it was set; 0 when there is none. Never above agreed.
 */
double ctl_ceiling_cps(const struct ctl_ceiling *c, uint64_t now_ms, uint32_t agreed);

/*
 * 1 when the recorded onsets line up with concurrency rather than with
 * the rate: at least two onsets, their concurrency within 10 % of each
 * other while their rates differ by more than 20 %. *conc gets the lowest
 * concurrency of those onsets.
 */
int ctl_ceiling_by_concurrency(const struct ctl_ceiling *c, int64_t *conc);

#endif /* CTL_CEILING_H */

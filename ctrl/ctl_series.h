/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-trunk time series at one-second resolution: what a trunk did in each
 * of the last CTL_SERIES_SLOTS wall-clock seconds (INVITE attempts, final
 * answers by class, concurrent calls, the longest Retry-After). Fixed
 * memory, a ring indexed by absolute second; a slot is valid only for the
 * second it is tagged with, so seconds with no sample read as gaps (zero)
 * without any clearing. Pure C, no EAL, no I/O.
 */
#ifndef CTL_SERIES_H
#define CTL_SERIES_H

#include <stdint.h>

#include "sg_shared.h"

#define CTL_SERIES_SLOTS 600 /* ten minutes */

/* What a slot holds; also the selector for reads. */
enum ctl_series_field {
	CTL_SF_ATTEMPTS,   /* new INVITE transactions (that second's CPS) */
	CTL_SF_CONCURRENT, /* dialogs open at the end of the second */
	CTL_SF_503,	   /* 503 finals to INVITE */
	CTL_SF_5XX_OTHER,  /* other 5xx finals */
	CTL_SF_6XX,
	CTL_SF_4XX,
	CTL_SF_3XX,
	CTL_SF_2XX,
	CTL_SF_RETRY_AFTER,  /* longest Retry-After seen, -1 none */
	CTL_SF_CALLS_ENDED,  /* calls ended by a BYE */
	CTL_SF_CALL_SECONDS, /* their summed length, seconds */
	/*
	 * Final 4xx-6xx answers to INVITE by what the diagnosis rules said:
	 * CTL_SF_DIAG + enum sg_diag_class (CTL_SF_DIAG + SG_DIAG_CPS_LIMIT,
	 * ...); they add up to the 4xx, 503, other 5xx and 6xx counts.
	 */
	CTL_SF_DIAG,
	CTL_SF_COUNT = CTL_SF_DIAG + SG_DIAG_COUNT
};

/*
 * One second's worth of deltas. Counts are per-second increments, never
 * cumulative values. concurrent is a level: -1 means "not known in this
 * sample", so merging such a sample keeps the slot's level. Initialise
 * with ctl_sample_init() so the two -1 defaults are right.
 */
struct ctl_sample {
	uint64_t attempts;
	uint64_t final_503;
	uint64_t final_5xx_other;
	uint64_t final_6xx;
	uint64_t final_4xx;
	uint64_t final_3xx;
	uint64_t final_2xx;
	uint64_t diag[SG_DIAG_COUNT]; /* 4xx-6xx finals by enum sg_diag_class */
	uint64_t calls_ended;	      /* calls ended by a BYE */
	uint64_t call_seconds;	      /* their summed length */
	int64_t concurrent;	      /* -1 unknown */
	int32_t retry_after;	      /* seconds, -1 none */
	uint32_t flags;		      /* CTL_SAMPLE_* */
};

/* A baseline second: a level (concurrent) but no deltas to show. */
#define CTL_SAMPLE_BASELINE 0x1u

/* Slot flags. */
#define CTL_SLOT_DATA 0x1u     /* a sample was stored for this second */
#define CTL_SLOT_BASELINE 0x2u /* only baseline samples so far */

struct ctl_series_slot {
	uint64_t second; /* absolute second this slot holds */
	uint32_t flags;	 /* CTL_SLOT_* */
	int64_t v[CTL_SF_COUNT];
};

/* Fields are read through the functions below; embed by value. */
struct ctl_series {
	struct ctl_series_slot slot[CTL_SERIES_SLOTS];
	uint64_t head; /* newest second stored */
	int has_head;
	uint64_t samples;      /* samples stored or merged */
	uint64_t late_merged;  /* samples for a past second, merged */
	uint64_t late_dropped; /* samples for a second out of the ring */
};

/* Result of ctl_series_add_sample(). */
enum ctl_series_add {
	CTL_SERIES_STORED,  /* a new second (the ring moved or filled a gap) */
	CTL_SERIES_MERGED,  /* merged into a second already holding data */
	CTL_SERIES_DROPPED, /* too old for the ring: counted, not stored */
};

void ctl_sample_init(struct ctl_sample *smp);

void ctl_series_init(struct ctl_series *s);

/*
 * Store the sample for absolute second `second`. A second newer than the
 * head moves the head (the seconds in between become gaps). A second at
 * or before the head is merged into its slot if still in the ring (counts
 * add, Retry-After keeps the maximum, a known concurrent level replaces
 * the slot's); older than the ring it is dropped and counted.
 */
enum ctl_series_add ctl_series_add_sample(
	struct ctl_series *s, uint64_t second, const struct ctl_sample *smp);

/*
 * Read `field` for the `last_n` seconds ending at `end_s` (inclusive),
 * oldest first, into out[0..last_n-1]. Seconds without data read as the
 * field's empty value: 0, or -1 for CTL_SF_RETRY_AFTER; baseline-only
 * seconds read 0 for every count. Returns how many of those seconds hold
 * data (baseline seconds included).
 */
unsigned int ctl_series_get(const struct ctl_series *s, enum ctl_series_field field, uint64_t end_s,
	unsigned int last_n, int64_t *out);

/* Sum of `field` over the window; gaps count 0 (CTL_SF_RETRY_AFTER: max). */
int64_t ctl_series_sum(const struct ctl_series *s, enum ctl_series_field field, uint64_t end_s,
	unsigned int last_n);

/* INVITE finals (2xx..6xx) over the window. */
uint64_t ctl_series_finals(const struct ctl_series *s, uint64_t end_s, unsigned int last_n);

/* 503 share of INVITE finals over the window, 0..1; 0 when no finals. */
double ctl_series_share_503(const struct ctl_series *s, uint64_t end_s, unsigned int last_n);

/* 2xx / INVITE finals over the window, 0..1; -1 when no finals. */
double ctl_series_answer_ratio(const struct ctl_series *s, uint64_t end_s, unsigned int last_n);

/* 1 if second `second` holds data (a sample or a baseline). */
int ctl_series_has(const struct ctl_series *s, uint64_t second);

#endif /* CTL_SERIES_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One-second time series in a fixed ring. Slot i holds second t when
 * t % CTL_SERIES_SLOTS == i and its tag says t; any other tag means the
 * second is a gap. Moving the head therefore never has to clear slots,
 * and a jump of hours costs nothing.
 */
#include <string.h>

#include "ctl_series.h"

void
ctl_sample_init(struct ctl_sample *smp)
{
	memset(smp, 0, sizeof(*smp));
	smp->concurrent = -1;
	smp->retry_after = -1;
}

void
ctl_series_init(struct ctl_series *s)
{
	memset(s, 0, sizeof(*s));
}

static struct ctl_series_slot *
ctl_series_slot_of(struct ctl_series *s, uint64_t second)
{
	return &s->slot[second % CTL_SERIES_SLOTS];
}

static const struct ctl_series_slot *
ctl_series_slot_get(const struct ctl_series *s, uint64_t second)
{
	const struct ctl_series_slot *sl = &s->slot[second % CTL_SERIES_SLOTS];

	if (!s->has_head || second > s->head || s->head - second >= CTL_SERIES_SLOTS)
		return NULL;
	if (!(sl->flags & CTL_SLOT_DATA) || sl->second != second)
		return NULL;
	return sl;
}

static void
ctl_series_slot_reset(struct ctl_series_slot *sl, uint64_t second)
{
	memset(sl, 0, sizeof(*sl));
	sl->second = second;
	sl->v[CTL_SF_RETRY_AFTER] = -1;
}

enum ctl_series_add
ctl_series_add_sample(struct ctl_series *s, uint64_t second, const struct ctl_sample *smp)
{
	struct ctl_series_slot *sl;
	enum ctl_series_add res;

	if (s->has_head && second <= s->head) {
		if (s->head - second >= CTL_SERIES_SLOTS) {
			s->late_dropped++;
			return CTL_SERIES_DROPPED;
		}
		if (second < s->head)
			s->late_merged++;
	} else {
		s->head = second;
		s->has_head = 1;
	}
	sl = ctl_series_slot_of(s, second);
	if (!(sl->flags & CTL_SLOT_DATA) || sl->second != second) {
		ctl_series_slot_reset(sl, second);
		sl->flags = CTL_SLOT_DATA | CTL_SLOT_BASELINE;
		res = CTL_SERIES_STORED;
	} else {
		res = CTL_SERIES_MERGED;
	}
	/* A real sample anywhere in the second makes its counts meaningful. */
	if (!(smp->flags & CTL_SAMPLE_BASELINE))
		sl->flags &= ~CTL_SLOT_BASELINE;
	sl->v[CTL_SF_ATTEMPTS] += (int64_t)smp->attempts;
	sl->v[CTL_SF_503] += (int64_t)smp->final_503;
	sl->v[CTL_SF_5XX_OTHER] += (int64_t)smp->final_5xx_other;
	sl->v[CTL_SF_6XX] += (int64_t)smp->final_6xx;
	sl->v[CTL_SF_4XX] += (int64_t)smp->final_4xx;
	sl->v[CTL_SF_3XX] += (int64_t)smp->final_3xx;
	sl->v[CTL_SF_2XX] += (int64_t)smp->final_2xx;
	for (int k = 0; k < SG_DIAG_COUNT; k++)
		sl->v[CTL_SF_DIAG + k] += (int64_t)smp->diag[k];
	sl->v[CTL_SF_CALLS_ENDED] += (int64_t)smp->calls_ended;
	sl->v[CTL_SF_CALL_SECONDS] += (int64_t)smp->call_seconds;
	if (smp->concurrent >= 0)
		sl->v[CTL_SF_CONCURRENT] = smp->concurrent;
	if (smp->retry_after > sl->v[CTL_SF_RETRY_AFTER])
		sl->v[CTL_SF_RETRY_AFTER] = smp->retry_after;
	s->samples++;
	return res;
}

/* A slot's value as reads see it: baseline-only seconds have no counts. */
static int64_t
ctl_series_value(const struct ctl_series_slot *sl, enum ctl_series_field field)
{
	if (sl == NULL)
		return field == CTL_SF_RETRY_AFTER ? -1 : 0;
	if ((sl->flags & CTL_SLOT_BASELINE) && field != CTL_SF_CONCURRENT &&
		field != CTL_SF_RETRY_AFTER)
		return 0;
	return sl->v[field];
}

/*
 * Windows are walked from end_s backwards by count, so no second
 * arithmetic can overflow; offsets that would reach before second 0 are
 * gaps.
 */
unsigned int
ctl_series_get(const struct ctl_series *s, enum ctl_series_field field, uint64_t end_s,
	unsigned int last_n, int64_t *out)
{
	const struct ctl_series_slot *sl;
	unsigned int i, back, n = 0;

	for (i = 0; i < last_n; i++) {
		back = last_n - 1 - i;
		sl = NULL;
		if ((unsigned int)field < CTL_SF_COUNT && back <= end_s)
			sl = ctl_series_slot_get(s, end_s - back);
		if (sl != NULL)
			n++;
		out[i] = (unsigned int)field < CTL_SF_COUNT ? ctl_series_value(sl, field) : 0;
	}
	return n;
}

int64_t
ctl_series_sum(const struct ctl_series *s, enum ctl_series_field field, uint64_t end_s,
	unsigned int last_n)
{
	unsigned int back;
	int64_t acc, v;

	if ((unsigned int)field >= CTL_SF_COUNT)
		return 0;
	acc = field == CTL_SF_RETRY_AFTER ? -1 : 0;
	for (back = 0; back < last_n && back <= end_s; back++) {
		v = ctl_series_value(ctl_series_slot_get(s, end_s - back), field);
		if (field == CTL_SF_RETRY_AFTER)
			acc = v > acc ? v : acc;
		else
			acc += v;
	}
	return acc;
}

uint64_t
ctl_series_finals(const struct ctl_series *s, uint64_t end_s, unsigned int last_n)
{
	static const enum ctl_series_field finals[] = {
		CTL_SF_2XX,
		CTL_SF_3XX,
		CTL_SF_4XX,
		CTL_SF_503,
		CTL_SF_5XX_OTHER,
		CTL_SF_6XX,
	};
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < sizeof(finals) / sizeof(finals[0]); i++)
		n += (uint64_t)ctl_series_sum(s, finals[i], end_s, last_n);
	return n;
}

double
ctl_series_share_503(const struct ctl_series *s, uint64_t end_s, unsigned int last_n)
{
	uint64_t finals = ctl_series_finals(s, end_s, last_n);

	if (finals == 0)
		return 0.0;
	return (double)ctl_series_sum(s, CTL_SF_503, end_s, last_n) / (double)finals;
}

double
ctl_series_answer_ratio(const struct ctl_series *s, uint64_t end_s, unsigned int last_n)
{
	uint64_t finals = ctl_series_finals(s, end_s, last_n);

	if (finals == 0)
		return -1.0;
	return (double)ctl_series_sum(s, CTL_SF_2XX, end_s, last_n) / (double)finals;
}

int
ctl_series_has(const struct ctl_series *s, uint64_t second)
{
	return ctl_series_slot_get(s, second) != NULL;
}

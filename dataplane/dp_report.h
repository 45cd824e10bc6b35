/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reports of counter totals: the JSON document that tests and tools rely
 * on (schema in README.md) and the table an operator reads.
 */
#ifndef DP_REPORT_H
#define DP_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "cfg.h"
#include "sg_shared.h"

/* Counters summed over every worker lcore. */
struct dp_totals {
	struct sg_source_counters src;
	struct sg_trunk_counters trunk[SG_TRUNK_SLOTS];
};

/* The source fields of the JSON schema, folded from the drop reasons. */
uint64_t dp_report_non_sip(const struct sg_source_counters *src);
uint64_t dp_report_malformed(const struct sg_source_counters *src);

/* New reference to the report document; NULL only when out of memory. */
json_t *dp_report_json(const struct sg_config *cfg, const struct dp_totals *t);

void dp_report_table(FILE *f, const struct sg_config *cfg, const struct dp_totals *t);

#endif /* DP_REPORT_H */

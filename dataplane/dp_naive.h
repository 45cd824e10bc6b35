/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Naive classifier: the baseline the benchmark measures sipguard against.
 * It is the straightforward first design of a Hyperscan SIP classifier:
 * every field is an unanchored regex with start-of-match reporting
 * (HS_FLAG_SOM_LEFTMOST), the whole message is scanned, body included,
 * and every match callback is handled. It fills the same struct
 * dp_sip_msg as dp_sip_parse, so the rest of the pipeline (trunk lookup,
 * retransmission and dialog tables, counters) is the real one.
 *
 * Benchmark use only: it is not on any path of the live dataplane.
 */
#ifndef DP_NAIVE_H
#define DP_NAIVE_H

#include <stddef.h>
#include <stdint.h>

#include <hs.h>

#include <rte_mbuf.h>

#include "dp_sip.h"
#include "dp_worker.h"

struct dp_naive;

/* Compile the baseline's database. NULL with one line in err on failure. */
struct dp_naive *dp_naive_create(char *err, size_t errlen);
void dp_naive_free(struct dp_naive *nv);
int dp_naive_scratch_alloc(const struct dp_naive *nv, hs_scratch_t **scratch);

/*
 * Parse one message the naive way. Same contract as dp_sip_parse; adds
 * the number of match callbacks to *matches.
 */
enum dp_sip_res dp_naive_parse(const struct dp_naive *nv, hs_scratch_t *scratch, const uint8_t *buf,
	uint32_t len, struct dp_sip_msg *m, uint64_t *matches);

/*
 * dp_worker_burst with dp_naive_parse for the classifier: decode, trunk,
 * parse, retransmission and dialog tables, request/response counters.
 * Frees the burst.
 */
void dp_naive_burst(struct dp_worker *w, const struct dp_naive *nv, hs_scratch_t *scratch,
	struct rte_mbuf **pkts, uint16_t n, uint64_t *matches);

#endif /* DP_NAIVE_H */

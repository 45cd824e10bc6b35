/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diagnosis: what a carrier's final 4xx-6xx answer to an INVITE says
 * about its cause, in the carrier's own words. A 503 can mean a call-rate
 * ceiling, a concurrent-call ceiling, an overloaded far end, a dead route
 * or planned maintenance, and carriers say which in the reason phrase
 * ("CPS Limit Exceeded"), a Reason header (Q.850 cause 34) or a Warning.
 * The operator's rules (config section `diagnosis`) name a class, where
 * to look and a Hyperscan pattern; each trunk reads its answers with its
 * own rule set first, then the `default` set, and the first rule in file
 * order that matches decides.
 *
 * Every rule is compiled once at start-up into one Hyperscan database
 * with the rule's index as its id. An answer is scanned once: the fields
 * any rule looks at (the status line, then each value of each header a
 * rule names) are copied into the caller's buffer, one line each, and
 * one block scan runs over them. Each match reports its start (leftmost
 * SOM) and end, so a match counts only when it lies inside one value of
 * its own rule's field. Nothing is allocated per answer: the buffer is
 * the caller's (one per lcore, like the scratch).
 *
 * Plain functions over buffers, no EAL: cmocka and fuzzers call them.
 */
#ifndef DP_DIAG_H
#define DP_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include <hs.h>

#include "cfg.h"
#include "dp_hsbuf.h"
#include "sg_shared.h"

#define DP_DIAG_TEXT 2048	/* bytes of field values scanned per answer */
#define DP_DIAG_SEGS 32		/* values scanned per answer */
#define DP_DIAG_FIELDS 16	/* the status line and up to 15 header names */
#define DP_DIAG_NAME_MAX 48	/* a header name, with the NUL */
#define DP_DIAG_MAX_WORKERS 128 /* per-worker scratches a reloaded database carries */

struct dp_diag; /* compiled rules, read-only after create */

/* One value copied for the scan: text[start, end) holds it. */
struct dp_diag_seg {
	uint16_t start;
	uint16_t end;
	uint8_t field; /* 0: the status line; else a header a rule names */
};

/* Per-lcore work area of one classification (about 2.3 KiB). */
struct dp_diag_scan {
	uint32_t len;
	uint32_t n_segs;
	uint32_t truncated; /* values cut or left out: over DP_DIAG_TEXT/SEGS */
	struct dp_diag_seg seg[DP_DIAG_SEGS];
	char text[DP_DIAG_TEXT];
	char slack[DP_HSBUF_SLACK]; /* what a scan of text may read past it (dp_hsbuf.h) */
};

/*
 * Compile cfg's rules (none: every answer is unclassified). `name` is
 * the config file as errors name it. Returns NULL with one line in err,
 * "FILE:LINE: diagnosis[N] (RULE).pattern: "...": Hyperscan: why" for a
 * pattern the compiler refuses.
 */
struct dp_diag *dp_diag_create(
	const struct sg_config *cfg, const char *name, char *err, size_t errlen);

/*
 * The same for a reload: trunk i of cfg reads with its set in counter
 * slot slot[i] (the reload plan's slots; NULL: slot i). Slots are what
 * dp_diag_classify is given, and a trunk keeps its slot across reloads
 * whatever its place in the file.
 */
struct dp_diag *dp_diag_create_slots(const struct sg_config *cfg, const uint32_t *slot,
	const char *name, char *err, size_t errlen);
void dp_diag_free(struct dp_diag *d);

uint32_t dp_diag_n_rules(const struct dp_diag *d);

/*
 * A scratch for the database (NULL when there are no rules); allocate one
 * at start-up and clone it per lcore. Returns 0 or -1.
 */
int dp_diag_scratch_alloc(const struct dp_diag *d, hs_scratch_t **scratch);

/*
 * A scratch of its own for each of n workers (at most
 * DP_DIAG_MAX_WORKERS), carried and freed with the database: a database
 * compiled at reload time is handed to running workers together with
 * the scratches it needs. Returns 0 (also without rules) or -1.
 */
int dp_diag_workers(struct dp_diag *d, unsigned int n);

/* Worker i's scratch from dp_diag_workers; NULL when it has none. */
hs_scratch_t *dp_diag_worker_scratch(const struct dp_diag *d, unsigned int i);

/*
 * Copy the values the rules look at out of a message's header section
 * (msg[0, hdr_len): start line to the empty line) into sc.
 */
void dp_diag_fields(
	const struct dp_diag *d, const uint8_t *msg, uint32_t hdr_len, struct dp_diag_scan *sc);

/*
 * Classify one answer of trunk `trunk` (0..SG_MAX_TRUNKS-1, or
 * SG_UNMATCHED: the default set only). Returns enum sg_diag_class, and
 * the deciding rule's index in *rule (SG_DIAG_NO_RULE when none). A
 * NULL d, no rules, or a scan error gives SG_DIAG_UNCLASSIFIED.
 */
enum sg_diag_class dp_diag_classify(const struct dp_diag *d, hs_scratch_t *scratch,
	struct dp_diag_scan *sc, uint32_t trunk, const uint8_t *msg, uint32_t hdr_len,
	uint16_t *rule);

#endif /* DP_DIAG_H */

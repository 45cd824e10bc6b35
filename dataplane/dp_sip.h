/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP message extractor. Plain functions over buffers, usable without
 * EAL. Two engines give the same result on every input:
 * - dp_sip_parse, the line walk: a vector pass over the line feeds of
 *   the header section, header names compared by hand; the packet path.
 * - dp_sip_parse_hs: one Hyperscan block scan of the header section for
 *   the header names; the reference the line walk is tested against, and
 *   a configuration choice (dataplane.parser = "hyperscan").
 * Both check the start line by hand and find the empty line ending the
 * header section; values are parsed by hand.
 *
 * When a header appears more than once, the first Call-ID, CSeq, Via,
 * Retry-After, Reason and Content-Length count and later ones are
 * ignored; of a Via or Reason header only the first value (up to a ','
 * outside quotes) is read.
 *
 * Pointers in struct dp_sip_msg point into the caller's buffer and are
 * valid only as long as it is.
 */
#ifndef DP_SIP_H
#define DP_SIP_H

#include <stddef.h>
#include <stdint.h>

#include <hs.h>

#include "sg_shared.h"

struct dp_sip_db; /* compiled Hyperscan database, read-only after create */

enum dp_sip_res {
	DP_SIP_OK,
	DP_SIP_NO_START_LINE, /* not a SIP request or status line */
	DP_SIP_TRUNCATED,     /* no empty line ends the header section */
	DP_SIP_BAD_CALL_ID,   /* missing or empty Call-ID */
	DP_SIP_BAD_CSEQ,      /* missing or unparsable CSeq */
	DP_SIP_SCAN_ERROR,    /* Hyperscan reported an error */
	DP_SIP_RES_COUNT
};

enum dp_oc_algo {
	DP_OC_ALGO_NONE, /* no oc-algo parameter */
	DP_OC_ALGO_LOSS,
	DP_OC_ALGO_RATE,
	DP_OC_ALGO_OTHER,
};

enum dp_reason_proto {
	DP_REASON_NONE,
	DP_REASON_SIP,
	DP_REASON_Q850,
	DP_REASON_OTHER,
};

struct dp_sip_str {
	const char *p;
	uint32_t len;
};

struct dp_sip_msg {
	uint8_t is_request;
	uint8_t method;		   /* enum sg_method (requests) */
	uint16_t status;	   /* 100..699 (responses) */
	struct dp_sip_str call_id; /* trimmed value */
	uint32_t cseq;
	uint8_t cseq_method;	  /* enum sg_method */
	struct dp_sip_str branch; /* top Via branch, may be empty */
	int32_t retry_after;	  /* seconds, -1 when absent */
	uint8_t reason_proto;	  /* enum dp_reason_proto */
	int32_t reason_cause;	  /* -1 when absent */
	/* RFC 7339 parameters of the top Via; oc = -1 when absent */
	int32_t oc;		/* loss percentage or rate */
	uint8_t oc_algo;	/* enum dp_oc_algo */
	int32_t oc_validity;	/* ms, -1 when absent */
	uint64_t oc_seq_us;	/* oc-seq as integer microseconds, 0 absent */
	int32_t content_length; /* -1 when absent */
	const uint8_t *base;	/* the message's first byte (DP_SIP_OK) */
	uint32_t hdr_len;	/* bytes up to and including empty line */
	uint32_t msg_len;	/* hdr_len + body (for TCP splitting) */
};

/*
 * Compile the pattern database once at start-up. On failure returns NULL
 * and writes one line naming the failing pattern to err.
 */
struct dp_sip_db *dp_sip_db_create(char *err, size_t errlen);
void dp_sip_db_free(struct dp_sip_db *db);

/* The platform every sipguard database is compiled for (see dp_sip_hs.c). */
void dp_sip_platform(hs_platform_info_t *plat);

/* A scratch per lcore; allocate at start-up, never on the hot path. */
int dp_sip_scratch_alloc(const struct dp_sip_db *db, hs_scratch_t **scratch);

/*
 * Parse the message starting at buf[0]. `len` is what is available; on
 * TCP several messages may follow and msg_len says where the next begins.
 * Returns enum dp_sip_res; `m` is fully written on DP_SIP_OK.
 */
enum dp_sip_res dp_sip_parse(const uint8_t *buf, uint32_t len, struct dp_sip_msg *m);

/*
 * The same with the Hyperscan engine; DP_SIP_SCAN_ERROR when db or
 * scratch is missing or the scan fails.
 */
enum dp_sip_res dp_sip_parse_hs(const struct dp_sip_db *db, hs_scratch_t *scratch,
	const uint8_t *buf, uint32_t len, struct dp_sip_msg *m);

const char *dp_sip_res_name(enum dp_sip_res res);

/*
 * Hyperscan match callbacks run by dp_sip_parse_hs on the calling thread
 * since it started (a cost figure for the benchmark).
 */
uint64_t dp_sip_match_count(void);

#endif /* DP_SIP_H */

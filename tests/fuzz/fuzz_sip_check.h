/* SPDX-License-Identifier: BSD-3-Clause */
/* Invariants of dp_sip_parse, checked by the SIP and pipeline harnesses. */
#ifndef FUZZ_SIP_CHECK_H
#define FUZZ_SIP_CHECK_H

#include "dp_sip.h"
#include "fuzz_common.h"

/* Abort unless (res, m) from parsing buf[0..len) is consistent. */
void fuzz_sip_check(const struct dp_sip_db *db, hs_scratch_t *scratch, const uint8_t *buf,
	uint32_t len, enum dp_sip_res res, const struct dp_sip_msg *m);

#endif /* FUZZ_SIP_CHECK_H */

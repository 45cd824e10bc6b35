/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for dp_sip_parse (and, through fuzz_sip_check, for
 * dp_sip_parse_hs against it). The input is one buffer as a worker
 * hands it over (a datagram's payload, or what is left of a TCP
 * segment); fuzz_sip_check.c holds the invariants checked on the result.
 */
#include "fuzz_sip_check.h"

static struct dp_sip_db *fuzz_db;
static hs_scratch_t *fuzz_scratch;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	fuzz_db = dp_sip_db_create(err, sizeof(err));
	if (fuzz_db == NULL || dp_sip_scratch_alloc(fuzz_db, &fuzz_scratch) != 0) {
		fprintf(stderr, "fuzz_sip: %s\n", fuzz_db == NULL ? err : "scratch");
		abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_sip_msg m;
	enum dp_sip_res res;

	if (size > 262144)
		return 0;
	res = dp_sip_parse(data, (uint32_t)size, &m);
	fuzz_sip_check(fuzz_db, fuzz_scratch, data, (uint32_t)size, res, &m);
	return 0;
}

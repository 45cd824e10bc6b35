/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for what the fleet reads from Redis and computes from it:
 * another edge's sample as text (byte 0 even), and the split of a limit
 * over the asks (byte 0 odd: the limit, the minimum share and up to 33
 * asks from the rest). Checked beyond "no crash": a sample that parses
 * formats back to the same text, one that does not leaves the edge
 * untouched; a split sums to the limit exactly and gives every edge at
 * least the minimum share (or the limit's even part when that is less).
 */
#include <string.h>

#include "ctl_fleet.h"
#include "fuzz_common.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static uint32_t
take32(const uint8_t **p, size_t *n)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < 4 && *n > 0; i++, (*p)++, (*n)--)
		v = v << 8 | **p;
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		struct ctl_fleet_edge e, before;
		char buf[CTL_FLEET_SAMPLE_MAX];
		int n;

		memset(&e, 0x5a, sizeof(e));
		before = e;
		if (ctl_fleet_sample_parse((const char *)data + 1, size - 1, &e) != 0) {
			FUZZ_CHECK(memcmp(&e, &before, sizeof(e)) == 0);
			return 0;
		}
		n = ctl_fleet_sample_format(&e, buf, sizeof(buf));
		FUZZ_CHECK(n > 0);
		/* leading zeros are the one spelling that parses but does not come back */
		if ((size_t)n == size - 1)
			FUZZ_CHECK(memcmp(buf, data + 1, size - 1) == 0 ||
				memchr(data + 1, '0', size - 1) != NULL);
		FUZZ_CHECK(ctl_fleet_sample_parse(buf, (size_t)n, &before) == 0);
		before.has_grant = e.has_grant;
		before.grant = e.grant;
		memcpy(before.name, e.name, sizeof(e.name));
		FUZZ_CHECK(memcmp(&e, &before, sizeof(e)) == 0);
	} else {
		uint32_t ask[CTL_FLEET_MAX_EDGES + 1], out[CTL_FLEET_MAX_EDGES + 1];
		const uint8_t *p = data + 1;
		size_t left = size - 1;
		uint32_t limit, min_share, n = 0, i, floor_share;
		uint64_t sum = 0;

		limit = take32(&p, &left) % 200001;
		min_share = take32(&p, &left) % 1001;
		while (left > 0 && n < CTL_FLEET_MAX_EDGES + 1)
			ask[n++] = take32(&p, &left) % (limit * 1000 + 1);
		if (n == 0)
			return 0;
		ctl_fleet_split(limit, min_share, n, ask, out);
		floor_share = min_share < limit / n ? min_share : limit / n;
		for (i = 0; i < n; i++) {
			sum += out[i];
			FUZZ_CHECK(out[i] >= floor_share);
		}
		FUZZ_CHECK(sum == limit);
	}
	return 0;
}

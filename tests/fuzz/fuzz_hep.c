/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for dp_hep_parse and dp_hep_frame. Input: the bytes of one
 * datagram or the head of a TCP stream. Beyond "no crash, no read past
 * len" it checks what the worker relies on: a valid result; on a decoded
 * packet (OK, NOT_SIP, COMPRESSED) family 4 or 6, version 1 to 3, hep_len
 * within the input, payload and auth key inside the packet, IPv4 addresses
 * zero-padded; the same answer twice; and that framing and parsing agree:
 * what frame calls a HEPv3 packet of n bytes parses the same from an exact
 * n-byte copy as from the whole input, and is TRUNCATED when n exceeds it.
 */
#include <string.h>

#include "dp_hep.h"
#include "fuzz_common.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int
fuzz_hep_decoded(enum dp_hep_res res)
{
	return res == DP_HEP_OK || res == DP_HEP_NOT_SIP || res == DP_HEP_COMPRESSED;
}

/* b parsed a copy of what a parsed: same fields, pointers at the same offsets */
static void
fuzz_hep_same(const struct dp_hep *a, const uint8_t *pa, const struct dp_hep *b, const uint8_t *pb)
{
	FUZZ_CHECK(a->version == b->version && a->family == b->family && a->proto == b->proto);
	FUZZ_CHECK(memcmp(a->src, b->src, sizeof(a->src)) == 0);
	FUZZ_CHECK(memcmp(a->dst, b->dst, sizeof(a->dst)) == 0);
	FUZZ_CHECK(a->sport == b->sport && a->dport == b->dport);
	FUZZ_CHECK(a->time_us == b->time_us && a->agent_id == b->agent_id);
	FUZZ_CHECK((a->auth == NULL) == (b->auth == NULL) && a->auth_len == b->auth_len);
	if (a->auth != NULL)
		FUZZ_CHECK(a->auth - pa == b->auth - pb);
	FUZZ_CHECK((a->payload == NULL) == (b->payload == NULL));
	if (a->payload != NULL)
		FUZZ_CHECK(a->payload - pa == b->payload - pb);
	FUZZ_CHECK(a->payload_len == b->payload_len && a->hep_len == b->hep_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum dp_hep_res res, res2;
	struct dp_hep h, h2;
	uint32_t len, n = 0;
	uint8_t *copy;
	int fr;
	size_t i;

	if (size > 131072)
		return 0;
	len = (uint32_t)size;

	memset(&h, 0xa5, sizeof(h));
	res = dp_hep_parse(data, len, &h);
	FUZZ_CHECK(res >= DP_HEP_OK && res <= DP_HEP_COMPRESSED);
	FUZZ_CHECK(strcmp(dp_hep_res_name(res), "unknown") != 0);

	if (fuzz_hep_decoded(res)) {
		FUZZ_CHECK(h.family == 4 || h.family == 6);
		FUZZ_CHECK(h.version >= 1 && h.version <= 3);
		FUZZ_CHECK(h.hep_len <= len);
		FUZZ_CHECK(h.version == 3 ? h.hep_len >= 6 : h.hep_len == len);
		FUZZ_CHECK(h.payload != NULL &&
			fuzz_inside(data, h.hep_len, h.payload, h.payload_len));
		if (h.auth != NULL)
			FUZZ_CHECK(fuzz_inside(data, h.hep_len, h.auth, h.auth_len));
		else
			FUZZ_CHECK(h.auth_len == 0);
		if (h.family == 4) {
			for (i = 4; i < 16; i++)
				FUZZ_CHECK(h.src[i] == 0 && h.dst[i] == 0);
		}
		if (h.version != 3)
			FUZZ_CHECK(res == DP_HEP_OK && h.payload_len > 0);
	}

	memset(&h2, 0x5a, sizeof(h2));
	res2 = dp_hep_parse(data, len, &h2);
	FUZZ_CHECK(res2 == res);
	if (fuzz_hep_decoded(res))
		fuzz_hep_same(&h, data, &h2, data);

	fr = dp_hep_frame(data, len, &n);
	FUZZ_CHECK(fr >= -1 && fr <= 1);
	if (fr == 0) {
		/* a prefix of "HEP3" and its length: parse cannot tell either */
		FUZZ_CHECK(len < 6 && res == DP_HEP_TRUNCATED);
	} else if (fr == 1) {
		FUZZ_CHECK(n >= 6 && n <= 65535);
		if (n > len) {
			FUZZ_CHECK(res == DP_HEP_TRUNCATED);
		} else {
			FUZZ_CHECK(res != DP_HEP_TRUNCATED && res != DP_HEP_NOT_HEP);
			if (fuzz_hep_decoded(res))
				FUZZ_CHECK(h.version == 3 && h.hep_len == n);
			/* the packet alone, exactly sized: same answer, bytes after it ignored */
			copy = malloc(n);
			if (copy == NULL)
				return 0;
			memcpy(copy, data, n);
			memset(&h2, 0x5a, sizeof(h2));
			res2 = dp_hep_parse(copy, n, &h2);
			FUZZ_CHECK(res2 == res);
			if (fuzz_hep_decoded(res))
				fuzz_hep_same(&h, data, &h2, copy);
			free(copy);
		}
	} else {
		/* not HEPv3, or HEPv3 with a total length under its header */
		if (len >= 4 && memcmp(data, "HEP3", 4) == 0)
			FUZZ_CHECK(len >= 6 && res == DP_HEP_BAD);
		else if (fuzz_hep_decoded(res))
			FUZZ_CHECK(h.version == 1 || h.version == 2);
	}
	return 0;
}

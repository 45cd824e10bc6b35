/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for dp_decode. Input: one byte choosing the link type
 * (even: Ethernet, odd: Linux cooked), then the frame. Beyond "no crash,
 * no read past the frame" it checks what the workers rely on: a valid
 * result; on DP_DEC_OK a UDP or TCP packet of family 4 or 6 whose
 * payload lies inside the frame; the same answer twice; and the same
 * answer when bytes follow the frame (Ethernet padding), because the
 * payload is bounded by the IP and UDP lengths, not by the capture.
 */
#include <netinet/in.h>
#include <string.h>

#include "dp_decode.h"
#include "fuzz_common.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
fuzz_same_pkt(const struct dp_pkt *a, const struct dp_pkt *b, const uint8_t *fa, const uint8_t *fb)
{
	FUZZ_CHECK(a->family == b->family && a->proto == b->proto && a->vlans == b->vlans);
	FUZZ_CHECK(memcmp(a->src, b->src, sizeof(a->src)) == 0);
	FUZZ_CHECK(memcmp(a->dst, b->dst, sizeof(a->dst)) == 0);
	FUZZ_CHECK(a->sport == b->sport && a->dport == b->dport);
	FUZZ_CHECK(a->payload_len == b->payload_len);
	FUZZ_CHECK(a->payload - fa == b->payload - fb);
	if (a->proto == IPPROTO_TCP)
		FUZZ_CHECK(a->tcp_seq == b->tcp_seq && a->tcp_flags == b->tcp_flags);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum dp_link link;
	enum dp_decode_res res, res2;
	struct dp_pkt pkt, pkt2;
	const uint8_t *frame;
	uint8_t *padded;
	uint32_t len;

	if (size < 1 || size > 262144)
		return 0;
	link = (data[0] & 1) ? DP_LINK_SLL : DP_LINK_ETHER;
	frame = data + 1;
	len = (uint32_t)(size - 1);

	memset(&pkt, 0xa5, sizeof(pkt));
	res = dp_decode(frame, len, link, &pkt);
	FUZZ_CHECK(res >= DP_DEC_OK && res <= DP_DEC_BAD_HEADER);
	FUZZ_CHECK(strcmp(dp_decode_res_name(res), "") != 0);
	if (res != DP_DEC_OK)
		return 0;

	FUZZ_CHECK(pkt.family == 4 || pkt.family == 6);
	FUZZ_CHECK(pkt.proto == IPPROTO_UDP || pkt.proto == IPPROTO_TCP);
	FUZZ_CHECK(pkt.vlans <= 2);
	FUZZ_CHECK(fuzz_inside(frame, len, pkt.payload, pkt.payload_len));
	/* at least an Ethernet/SLL header and the minimal IP and L4 headers */
	FUZZ_CHECK(pkt.payload - frame >= 14 + 20 + 8);

	memset(&pkt2, 0x5a, sizeof(pkt2));
	res2 = dp_decode(frame, len, link, &pkt2);
	FUZZ_CHECK(res2 == res);
	fuzz_same_pkt(&pkt, &pkt2, frame, frame);

	/* trailing bytes (padding, FCS) must not change the packet */
	padded = malloc((size_t)len + 64);
	if (padded == NULL)
		return 0;
	memcpy(padded, frame, len);
	memset(padded + len, 0xff, 64);
	res2 = dp_decode(padded, len + 64, link, &pkt2);
	FUZZ_CHECK(res2 == DP_DEC_OK);
	fuzz_same_pkt(&pkt, &pkt2, frame, padded);
	free(padded);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness for dp_decode_cfg. Input: one byte of settings, then the
 * frame. Byte 0: bit 0 the link type (0 Ethernet, 1 Linux cooked); bits
 * 1-3 max_depth XOR 4, so that the seeds' 0 and 1 strip four layers;
 * bits 4-5 the VXLAN port (4789, off, 8472, 5060). Beyond "no crash, no
 * read past the frame" it checks what the workers and the reassembly rely
 * on: a valid result; depth within max_depth, no encapsulation named at
 * depth 0, only known ones named and no more kinds than layers; on
 * DP_DEC_OK a UDP or TCP packet of family 4 or 6 whose payload lies
 * inside its innermost IP packet, itself inside the frame;
 * on DP_DEC_FRAGMENT the whole fragment inside the frame; the same answer
 * twice, and with bytes after the frame (Ethernet padding), because every
 * layer is bounded by the lengths of the one around it, not by the
 * capture; with no decapsulation, dp_decode's answer; an OK at depth d
 * refused as too deep with d - 1 layers allowed (d > 1); and the innermost
 * IP packet, decoded alone by dp_decode_ip, gives the same packet.
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
	FUZZ_CHECK(a->depth == b->depth && a->encap_mask == b->encap_mask);
	FUZZ_CHECK(memcmp(a->src, b->src, sizeof(a->src)) == 0);
	FUZZ_CHECK(memcmp(a->dst, b->dst, sizeof(a->dst)) == 0);
	FUZZ_CHECK(a->sport == b->sport && a->dport == b->dport);
	FUZZ_CHECK(a->payload_len == b->payload_len);
	/* no payload on DP_DEC_FRAGMENT */
	FUZZ_CHECK((a->payload == NULL) == (b->payload == NULL));
	if (a->payload != NULL)
		FUZZ_CHECK(a->payload - fa == b->payload - fb);
	FUZZ_CHECK(a->l3_off == b->l3_off && a->l3_hlen == b->l3_hlen && a->l3_len == b->l3_len);
	FUZZ_CHECK(a->v6_frag_off == b->v6_frag_off);
	if (a->proto == IPPROTO_TCP)
		FUZZ_CHECK(a->tcp_seq == b->tcp_seq && a->tcp_flags == b->tcp_flags);
}

/* The innermost IP packet decoded alone, from an exactly-sized copy. */
static void
fuzz_inner_alone(const uint8_t *frame, const struct dp_decode_cfg *cfg, const struct dp_pkt *pkt)
{
	struct dp_decode_cfg icfg = *cfg;
	enum dp_decode_res res;
	struct dp_pkt in;
	uint8_t *ip;

	ip = malloc(pkt->l3_len > 0 ? pkt->l3_len : 1);
	if (ip == NULL)
		return;
	memcpy(ip, frame + pkt->l3_off, pkt->l3_len);
	/* No further layer: the VXLAN port test must not find another. */
	icfg.max_depth = pkt->depth;
	res = dp_decode_ip(ip, pkt->l3_len, &icfg, pkt->depth, &in);
	FUZZ_CHECK(res == DP_DEC_OK);
	FUZZ_CHECK(in.depth == pkt->depth && in.encap_mask == 0 && in.l3_off == 0);
	FUZZ_CHECK(in.family == pkt->family && in.proto == pkt->proto);
	FUZZ_CHECK(memcmp(in.src, pkt->src, sizeof(in.src)) == 0);
	FUZZ_CHECK(memcmp(in.dst, pkt->dst, sizeof(in.dst)) == 0);
	FUZZ_CHECK(in.sport == pkt->sport && in.dport == pkt->dport);
	FUZZ_CHECK(in.l3_hlen == pkt->l3_hlen && in.l3_len == pkt->l3_len);
	FUZZ_CHECK(in.payload_len == pkt->payload_len);
	FUZZ_CHECK(in.payload - ip == pkt->payload - (frame + pkt->l3_off));
	free(ip);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[4] = { 4789, 0, 8472, 5060 };
	enum dp_decode_res res, res2;
	struct dp_decode_cfg cfg;
	struct dp_pkt pkt, pkt2;
	const uint8_t *frame;
	uint8_t *padded;
	uint32_t len;

	if (size < 1 || size > 262144)
		return 0;
	cfg.link = (data[0] & 1) ? DP_LINK_SLL : DP_LINK_ETHER;
	cfg.max_depth = (uint8_t)(((data[0] >> 1) & 7) ^ 4);
	cfg.vxlan_port = ports[(data[0] >> 4) & 3];
	frame = data + 1;
	len = (uint32_t)(size - 1);

	memset(&pkt, 0xa5, sizeof(pkt));
	res = dp_decode_cfg(frame, len, &cfg, &pkt);
	FUZZ_CHECK(res >= DP_DEC_OK && res <= DP_DEC_TOO_DEEP);
	FUZZ_CHECK(strcmp(dp_decode_res_name(res), "unknown") != 0);
	FUZZ_CHECK(pkt.depth <= cfg.max_depth);
	FUZZ_CHECK(pkt.depth > 0 || pkt.encap_mask == 0);
	FUZZ_CHECK((pkt.encap_mask & ~DP_ENCAP_ALL) == 0);
	FUZZ_CHECK((unsigned int)__builtin_popcount(pkt.encap_mask) <= pkt.depth);
	FUZZ_CHECK(pkt.vlans <= 2);
	if (cfg.max_depth == 0) {
		res2 = dp_decode(frame, len, cfg.link, &pkt2);
		FUZZ_CHECK(res2 == res);
		if (res == DP_DEC_OK || res == DP_DEC_FRAGMENT)
			fuzz_same_pkt(&pkt, &pkt2, frame, frame);
	}
	if (res == DP_DEC_FRAGMENT) {
		FUZZ_CHECK(pkt.family == 4 || pkt.family == 6);
		FUZZ_CHECK(pkt.l3_off <= len && pkt.l3_len <= len - pkt.l3_off);
		FUZZ_CHECK(pkt.l3_hlen <= pkt.l3_len);
		if (pkt.family == 4)
			FUZZ_CHECK(pkt.l3_hlen >= 20 && pkt.v6_frag_off == 0);
		else
			FUZZ_CHECK(
				pkt.v6_frag_off == pkt.l3_hlen && pkt.l3_hlen + 8u <= pkt.l3_len);
	}
	if (res != DP_DEC_OK && res != DP_DEC_FRAGMENT)
		return 0;

	if (res == DP_DEC_OK) {
		FUZZ_CHECK(pkt.family == 4 || pkt.family == 6);
		FUZZ_CHECK(pkt.proto == IPPROTO_UDP || pkt.proto == IPPROTO_TCP);
		FUZZ_CHECK(fuzz_inside(frame, len, pkt.payload, pkt.payload_len));
		/* at least an Ethernet/SLL header and the minimal IP and L4 headers */
		FUZZ_CHECK(pkt.payload - frame >= 14 + 20 + 8);
		FUZZ_CHECK(pkt.l3_off <= len && pkt.l3_len <= len - pkt.l3_off);
		FUZZ_CHECK(pkt.l3_hlen <= pkt.l3_len);
		FUZZ_CHECK(fuzz_inside(frame + pkt.l3_off + pkt.l3_hlen, pkt.l3_len - pkt.l3_hlen,
			pkt.payload, pkt.payload_len));
		if (pkt.depth > 1) {
			cfg.max_depth = (uint8_t)(pkt.depth - 1);
			FUZZ_CHECK(dp_decode_cfg(frame, len, &cfg, &pkt2) == DP_DEC_TOO_DEEP);
			cfg.max_depth = (uint8_t)(((data[0] >> 1) & 7) ^ 4);
		}
		fuzz_inner_alone(frame, &cfg, &pkt);
	}

	memset(&pkt2, 0x5a, sizeof(pkt2));
	res2 = dp_decode_cfg(frame, len, &cfg, &pkt2);
	FUZZ_CHECK(res2 == res);
	fuzz_same_pkt(&pkt, &pkt2, frame, frame);

	/* trailing bytes (padding, FCS) must not change the packet */
	padded = malloc((size_t)len + 64);
	if (padded == NULL)
		return 0;
	memcpy(padded, frame, len);
	memset(padded + len, 0xff, 64);
	res2 = dp_decode_cfg(padded, len + 64, &cfg, &pkt2);
	FUZZ_CHECK(res2 == res);
	fuzz_same_pkt(&pkt, &pkt2, frame, padded);
	free(padded);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet decoder: link layer to L4 payload, as a plain function over a
 * buffer so unit tests and the fuzzer drive it without EAL.
 *
 * It never reads past `len`, never writes outside `out`, and classifies
 * every frame into exactly one result; the caller maps results to
 * counters.
 */
#ifndef DP_DECODE_H
#define DP_DECODE_H

#include <stdint.h>

#include "sg_shared.h"

/* Link types we decode (values are libpcap's DLT_ numbers). */
enum dp_link {
	DP_LINK_ETHER = 1, /* DLT_EN10MB */
	DP_LINK_SLL = 113, /* DLT_LINUX_SLL (Linux cooked v1) */
};

enum dp_decode_res {
	DP_DEC_OK,	       /* UDP or TCP; payload may be empty */
	DP_DEC_NOT_IP,	       /* ethertype not IPv4/IPv6 */
	DP_DEC_L2_UNSUPPORTED, /* more than two VLAN tags, PPPoE, ... */
	DP_DEC_L4_UNSUPPORTED, /* not UDP/TCP: ICMP, GRE, IPIP, ESP, SCTP */
	DP_DEC_FRAGMENT,       /* any IPv4 or IPv6 fragment */
	DP_DEC_TRUNCATED,      /* a header runs past the captured bytes */
	DP_DEC_BAD_HEADER,     /* lengths or fields inconsistent */
};

struct dp_pkt {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;	/* IPPROTO_UDP or IPPROTO_TCP */
	uint8_t vlans;	/* tags stripped, 0..2 */
	uint8_t tcp_flags;
	uint8_t src[16]; /* network order; IPv4 in the first 4 */
	uint8_t dst[16];
	uint16_t sport; /* host order */
	uint16_t dport;
	uint32_t tcp_seq;	/* host order, TCP only */
	const uint8_t *payload; /* points into the frame */
	uint32_t payload_len;	/* trimmed to the IP/UDP length fields */
};

/*
 * Decode one frame. Returns a dp_decode_res; `out` is filled for
 * DP_DEC_OK and partly (family, addresses when known) otherwise.
 */
enum dp_decode_res dp_decode(
	const uint8_t *frame, uint32_t len, enum dp_link link, struct dp_pkt *out);

/* Short text for a result, for tables and error lines. */
const char *dp_decode_res_name(enum dp_decode_res res);

#endif /* DP_DECODE_H */

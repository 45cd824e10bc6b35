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
	DP_DEC_L2_UNSUPPORTED, /* 3+ VLAN tags, MPLS, PPPoE discovery or not IP */
	DP_DEC_L4_UNSUPPORTED, /* not UDP/TCP, nor a tunnel stripped: ICMP, ESP, SCTP */
	DP_DEC_FRAGMENT,       /* an IPv4 or IPv6 fragment, captured whole */
	DP_DEC_TRUNCATED,      /* a header runs past the captured bytes */
	DP_DEC_BAD_HEADER,     /* lengths or fields inconsistent */
	DP_DEC_TOO_DEEP,       /* more nested encapsulations than allowed */
};

/* Encapsulations stripped on the way in (struct dp_pkt encap_mask). */
#define DP_ENCAP_VXLAN 0x01
#define DP_ENCAP_GRE 0x02    /* GRE carrying Ethernet (0x6558) or IP */
#define DP_ENCAP_ERSPAN 0x04 /* ERSPAN type I, II or III over GRE */
#define DP_ENCAP_IPIP 0x08   /* IPv4 or IPv6 directly in IPv4 or IPv6 */
#define DP_ENCAP_PPTP 0x10   /* GRE carrying PPP: PPTP's version 1, or 0 */
#define DP_ENCAP_ALL 0x1f    /* every bit above */

/* What the decoder may strip; filled from config, read-only after. */
struct dp_decode_cfg {
	enum dp_link link;
	uint8_t max_depth;   /* nested encapsulations allowed, 0 = none */
	uint16_t vxlan_port; /* UDP destination port of VXLAN, 0 = off */
};

struct dp_pkt {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;	/* IPPROTO_UDP or IPPROTO_TCP */
	uint8_t vlans;	/* tags stripped, 0..2 (of the innermost frame) */
	uint8_t tcp_flags;
	uint8_t depth;	    /* encapsulations stripped (GRE + ERSPAN is one) */
	uint8_t encap_mask; /* DP_ENCAP_* of every layer stripped */
	/*
	 * The innermost IP header: its offset in the buffer decoded, its
	 * header bytes (IPv4 with options; IPv6 with the extension headers
	 * before a fragment header, or before the UDP/TCP header on
	 * DP_DEC_OK) and the packet length by its own length field. For
	 * DP_DEC_FRAGMENT, v6_frag_off is the offset of the IPv6 fragment
	 * header from the IP header (0 for IPv4), and the whole fragment is
	 * known to be captured: l3_off + l3_len <= the length decoded. The
	 * fragment is the outer packet (a fragmented VXLAN datagram) or an
	 * inner one (a fragment inside GRE); either way these fields and the
	 * addresses describe it, and depth/encap_mask what lies outside it.
	 */
	uint32_t l3_off;
	uint16_t l3_hlen;
	uint16_t v6_frag_off;
	uint32_t l3_len;
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
 * DP_DEC_OK, the l3 fields and addresses for DP_DEC_FRAGMENT, and partly
 * (family, addresses when known) otherwise. A PPPoE session header
 * (after the VLAN tags, once per Ethernet header) carrying IPv4 or IPv6
 * is part of the link layer, like a tag: it is stripped at any depth and
 * is no encapsulation; its length, when captured, bounds the IP packet
 * inside.
 */
enum dp_decode_res dp_decode(
	const uint8_t *frame, uint32_t len, enum dp_link link, struct dp_pkt *out);

/*
 * The same with encapsulations stripped as cfg allows (VXLAN, GRE,
 * ERSPAN, PPTP, IP in IP, each nesting inside VLAN tags): the inner
 * frame's addresses and ports are what `out` holds. dp_decode is this with
 * no encapsulation allowed. Each layer counts one against max_depth; one
 * more is DP_DEC_TOO_DEEP. With max_depth 0 GRE (PPTP included) and IP in
 * IP are DP_DEC_L4_UNSUPPORTED and the VXLAN port is plain UDP, as without
 * decapsulation; a tunnel header that is not one we decode (GRE routing or
 * versions 2 to 7, another protocol, PPP carrying LCP, CCP or compressed
 * data) is DP_DEC_L4_UNSUPPORTED at any depth.
 */
enum dp_decode_res dp_decode_cfg(
	const uint8_t *frame, uint32_t len, const struct dp_decode_cfg *cfg, struct dp_pkt *out);

/*
 * Decode from an IP header (a datagram rebuilt from fragments): `depth`
 * encapsulations were already stripped before it, and count against
 * cfg->max_depth. l3_off in `out` is relative to `ip`; out->depth counts
 * them all, out->encap_mask only the layers stripped here (the caller
 * knows the outer ones). cfg->link is not used.
 */
enum dp_decode_res dp_decode_ip(const uint8_t *ip, uint32_t len, const struct dp_decode_cfg *cfg,
	uint8_t depth, struct dp_pkt *out);

/* Short text for a result, for tables and error lines. */
const char *dp_decode_res_name(enum dp_decode_res res);

#endif /* DP_DECODE_H */

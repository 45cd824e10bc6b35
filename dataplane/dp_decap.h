/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel headers of mirror feeds: VXLAN, GRE (carrying Ethernet or IP),
 * ERSPAN types I, II and III over GRE, and IP in IP; and of the PPP links
 * a capture may hold: PPTP (enhanced GRE carrying PPP) and the PPP
 * protocol field shared with PPPoE sessions. Each parser looks at
 * one tunnel header and says how long it is and what follows it (an
 * Ethernet frame or an IP packet); the decoder (dp_decode.c) calls them
 * only when a packet's protocol or port names a tunnel, so plain frames
 * never pay for them. Plain functions over a buffer, like the decoder.
 *
 * `n` is what the outer packet declares for the tunnel (its IP payload or
 * UDP payload), already known to be captured: a tunnel header that does
 * not fit in it is DP_DEC_BAD_HEADER, a tunnel or version we do not
 * decode is DP_DEC_L4_UNSUPPORTED.
 */
#ifndef DP_DECAP_H
#define DP_DECAP_H

#include <stdint.h>
#include <netinet/in.h>

#include "dp_decode.h"

#define DP_DECAP_VXLAN_HLEN 8
#define DP_DECAP_GRE_HLEN 4	 /* flags and protocol; options follow */
#define DP_DECAP_ERSPAN2_HLEN 8	 /* type II header after GRE */
#define DP_DECAP_ERSPAN3_HLEN 12 /* type III header after GRE */
#define DP_DECAP_ERSPAN3_SUB 8	 /* type III platform-specific subheader */

/* PPP protocol numbers (RFC 1661 protocol field) of the packets we decode. */
#define DP_DECAP_PPP_IPV4 0x0021
#define DP_DECAP_PPP_IPV6 0x0057

/* What follows a tunnel header. */
enum dp_decap_next {
	DP_DECAP_ETHER = 1,
	DP_DECAP_IPV4,
	DP_DECAP_IPV6,
};

struct dp_decap_hdr {
	uint32_t hlen; /* tunnel header bytes before the inner frame or packet */
	uint8_t next;  /* enum dp_decap_next */
	uint8_t encap; /* DP_ENCAP_* of this layer */
};

/* VXLAN header (the UDP payload of a datagram to the VXLAN port). */
enum dp_decode_res dp_decap_vxlan(const uint8_t *p, uint32_t n, struct dp_decap_hdr *h);

/*
 * GRE (IP protocol 47), version 0 or 1 (PPTP, RFC 2637), and the ERSPAN
 * or PPP header it may carry; after PPP h->hlen covers the PPP address,
 * control and protocol fields too.
 */
enum dp_decode_res dp_decap_gre(const uint8_t *p, uint32_t n, struct dp_decap_hdr *h);

/*
 * The IP payload of protocol `proto`: GRE, IPv4 in IP (4) or IPv6 in IP
 * (41); anything else is DP_DEC_L4_UNSUPPORTED.
 */
enum dp_decode_res dp_decap_ip(uint8_t proto, const uint8_t *p, uint32_t n, struct dp_decap_hdr *h);

/*
 * The PPP protocol field at `p` (`n` bytes available): two bytes, or one
 * when protocol-field compression is on (RFC 1661: a protocol's first byte
 * is even, its last odd, so an odd first byte is a compressed field).
 * Returns DP_DECAP_IPV4 or DP_DECAP_IPV6 and sets *lenp to the field's
 * length; 0 for any other protocol (LCP, CCP, compressed data, ...);
 * -1 when the field does not fit in `n`.
 */
static inline int
dp_decap_ppp_proto(const uint8_t *p, uint32_t n, uint32_t *lenp)
{
	unsigned int proto;

	if (n == 0)
		return -1;
	if ((p[0] & 1) != 0) {
		proto = p[0];
		*lenp = 1;
	} else {
		if (n < 2)
			return -1;
		proto = ((unsigned int)p[0] << 8) | p[1];
		*lenp = 2;
	}
	if (proto == DP_DECAP_PPP_IPV4)
		return DP_DECAP_IPV4;
	if (proto == DP_DECAP_PPP_IPV6)
		return DP_DECAP_IPV6;
	return 0;
}

/* Does IP protocol `proto` name a tunnel dp_decap_ip may strip? */
static inline int
dp_decap_is_tunnel(unsigned int proto)
{
	return proto == IPPROTO_GRE || proto == IPPROTO_IPIP || proto == IPPROTO_IPV6;
}

#endif /* DP_DECAP_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel headers of mirror feeds: VXLAN, GRE (carrying Ethernet or IP),
 * ERSPAN types I, II and III over GRE, and IP in IP. Each parser looks at
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

/* GRE version 0, and the ERSPAN header it may carry (IP protocol 47). */
enum dp_decode_res dp_decap_gre(const uint8_t *p, uint32_t n, struct dp_decap_hdr *h);

/*
 * The IP payload of protocol `proto`: GRE, IPv4 in IP (4) or IPv6 in IP
 * (41); anything else is DP_DEC_L4_UNSUPPORTED.
 */
enum dp_decode_res dp_decap_ip(uint8_t proto, const uint8_t *p, uint32_t n, struct dp_decap_hdr *h);

/* Does IP protocol `proto` name a tunnel dp_decap_ip may strip? */
static inline int
dp_decap_is_tunnel(unsigned int proto)
{
	return proto == IPPROTO_GRE || proto == IPPROTO_IPIP || proto == IPPROTO_IPV6;
}

#endif /* DP_DECAP_H */

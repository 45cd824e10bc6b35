/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tunnel header parsers for mirror feeds (VXLAN, GRE, ERSPAN, IP in IP)
 * and for PPTP. Switches and taps deliver copies of SIP traffic wrapped in
 * these: a remote SPAN session as ERSPAN over GRE, a cloud traffic mirror
 * as VXLAN, a router's tunnel as GRE or IP in IP; a tap on an access
 * network sees the calls of VPN users inside PPTP. Each function reads one
 * header with byte loads checked against `n` and tells the decoder where
 * the inner frame or packet starts; the decoder owns the depth limit and
 * everything inside.
 *
 * Checksums (GRE's like IPv4's) are not checked: a mirror copy is a
 * witness of what crossed the wire, not a packet to deliver.
 */
#include <stdint.h>
#include <netinet/in.h>

#include "dp_decap.h"

/* GRE flags and version (RFC 2784, RFC 2890). */
#define DP_DECAP_GRE_C 0x8000 /* checksum and reserved1 present */
#define DP_DECAP_GRE_R 0x4000 /* routing present (RFC 1701): not decoded */
#define DP_DECAP_GRE_K 0x2000 /* key present */
#define DP_DECAP_GRE_S 0x1000 /* sequence number present */
#define DP_DECAP_GRE_A 0x0080 /* acknowledgment present (version 1 only) */
#define DP_DECAP_GRE_VER 0x0007
#define DP_DECAP_GRE_VER_PPTP 1 /* enhanced GRE (RFC 2637): the A bit */

/* GRE protocol types we strip. */
#define DP_DECAP_PROTO_TEB 0x6558 /* transparent Ethernet bridging */
#define DP_DECAP_PROTO_IPV4 0x0800
#define DP_DECAP_PROTO_IPV6 0x86dd
#define DP_DECAP_PROTO_ERSPAN 0x88be  /* ERSPAN type I and II */
#define DP_DECAP_PROTO_ERSPAN3 0x22eb /* ERSPAN type III */
#define DP_DECAP_PROTO_PPP 0x880b     /* PPP: PPTP's payload */

/* PPP address field (RFC 1662; then control 0x03), absent under ACFC. */
#define DP_DECAP_PPP_ADDR 0xff

#define DP_DECAP_VXLAN_I 0x08 /* valid VNI: must be set (RFC 7348) */

static inline uint16_t
dp_decap_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

enum dp_decode_res
dp_decap_vxlan(const uint8_t *p, uint32_t n, struct dp_decap_hdr *h)
{
	if (n < DP_DECAP_VXLAN_HLEN)
		return DP_DEC_BAD_HEADER;
	/* A datagram to the VXLAN port without a VNI is not a VXLAN frame. */
	if ((p[0] & DP_DECAP_VXLAN_I) == 0)
		return DP_DEC_BAD_HEADER;
	h->hlen = DP_DECAP_VXLAN_HLEN;
	h->next = DP_DECAP_ETHER;
	h->encap = DP_ENCAP_VXLAN;
	return DP_DEC_OK;
}

/*
 * ERSPAN type II (version 1) is 8 bytes: version, VLAN, CoS, encapsulation
 * type, truncated bit, session, index. The mirrored frame follows; it may
 * be cut short by the session (the T bit), which the decoder then reports
 * as truncated when the inner IP packet runs past it.
 */
static enum dp_decode_res
dp_decap_erspan2(const uint8_t *p, uint32_t n, uint32_t off, struct dp_decap_hdr *h)
{
	if (n - off < DP_DECAP_ERSPAN2_HLEN)
		return DP_DEC_BAD_HEADER;
	if ((p[off] >> 4) != 1)
		return DP_DEC_L4_UNSUPPORTED;
	h->hlen = off + DP_DECAP_ERSPAN2_HLEN;
	return DP_DEC_OK;
}

/*
 * ERSPAN type III (version 2) is 12 bytes: version, VLAN, CoS, BSO, T,
 * session, a 32-bit timestamp, SGT, then P, frame type (5 bits), hardware
 * id, direction, granularity and O, the last bit, which announces an
 * 8-byte platform-specific subheader. Frame type 0 is Ethernet; type 2
 * (a bare IP packet) is not produced by the platforms we know of and is
 * left undecoded rather than guessed at.
 */
static enum dp_decode_res
dp_decap_erspan3(const uint8_t *p, uint32_t n, uint32_t off, struct dp_decap_hdr *h)
{
	uint32_t hlen = DP_DECAP_ERSPAN3_HLEN;

	if (n - off < DP_DECAP_ERSPAN3_HLEN)
		return DP_DEC_BAD_HEADER;
	if ((p[off] >> 4) != 2 || ((p[off + 10] >> 2) & 0x1f) != 0)
		return DP_DEC_L4_UNSUPPORTED;
	if ((p[off + 11] & 0x01) != 0)
		hlen += DP_DECAP_ERSPAN3_SUB;
	if (n - off < hlen)
		return DP_DEC_BAD_HEADER;
	h->hlen = off + hlen;
	return DP_DEC_OK;
}

/*
 * The PPP frame GRE carries (protocol 0x880b): PPTP's, or PPP over plain
 * GRE. Address and control (0xff 0x03) unless compressed away (ACFC),
 * then the protocol field, one byte under PFC. Only IPv4 and IPv6 are
 * decoded: LCP, IPCP, CCP and compressed (MPPE) frames are counted as
 * unsupported. The control byte is not checked, as tshark does not: it
 * changes nothing of the layout. `off` is where the frame starts, after
 * the GRE header.
 */
static enum dp_decode_res
dp_decap_gre_ppp(const uint8_t *p, uint32_t n, uint32_t off, uint16_t flags, struct dp_decap_hdr *h)
{
	uint32_t plen;
	int next;

	/* An acknowledgment alone: no S bit, no PPP frame; a sane packet, not IP. */
	if (off == n && (flags & DP_DECAP_GRE_S) == 0)
		return DP_DEC_L4_UNSUPPORTED;
	if (off < n && p[off] == DP_DECAP_PPP_ADDR) {
		if (n - off < 2)
			return DP_DEC_BAD_HEADER;
		off += 2;
	}
	next = dp_decap_ppp_proto(p + off, n - off, &plen);
	if (next < 0)
		return DP_DEC_BAD_HEADER;
	if (next == 0)
		return DP_DEC_L4_UNSUPPORTED;
	h->hlen = off + plen;
	h->next = (uint8_t)next;
	h->encap = DP_ENCAP_PPTP;
	return DP_DEC_OK;
}

/*
 * GRE version 0 (RFC 2784, RFC 2890) with its optional checksum, key and
 * sequence fields, or version 1 (PPTP's enhanced GRE, RFC 2637), which
 * adds an acknowledgment number and uses the key for payload length and
 * call id. PPTP always sets the key bit and carries PPP; neither is
 * required here, as tshark requires neither: the flags alone say where the
 * payload starts. The routing bit (RFC 1701 source routes) and versions 2
 * to 7 are other layouts and stay undecoded. PPTP's payload length is not
 * trusted beyond the outer packet, which bounds the inner one.
 */
enum dp_decode_res
dp_decap_gre(const uint8_t *p, uint32_t n, struct dp_decap_hdr *h)
{
	uint16_t flags;
	uint32_t off;

	if (n < DP_DECAP_GRE_HLEN)
		return DP_DEC_BAD_HEADER;
	flags = dp_decap_be16(p);
	if ((flags & DP_DECAP_GRE_R) != 0 || (flags & DP_DECAP_GRE_VER) > DP_DECAP_GRE_VER_PPTP)
		return DP_DEC_L4_UNSUPPORTED;
	off = DP_DECAP_GRE_HLEN;
	if ((flags & DP_DECAP_GRE_C) != 0)
		off += 4;
	if ((flags & DP_DECAP_GRE_K) != 0)
		off += 4;
	if ((flags & DP_DECAP_GRE_S) != 0)
		off += 4;
	if ((flags & (DP_DECAP_GRE_A | DP_DECAP_GRE_VER)) ==
		(DP_DECAP_GRE_A | DP_DECAP_GRE_VER_PPTP))
		off += 4;
	if (off > n)
		return DP_DEC_BAD_HEADER;

	h->hlen = off;
	h->encap = DP_ENCAP_GRE;
	switch (dp_decap_be16(p + 2)) {
	case DP_DECAP_PROTO_TEB:
		h->next = DP_DECAP_ETHER;
		return DP_DEC_OK;
	case DP_DECAP_PROTO_IPV4:
		h->next = DP_DECAP_IPV4;
		return DP_DEC_OK;
	case DP_DECAP_PROTO_IPV6:
		h->next = DP_DECAP_IPV6;
		return DP_DEC_OK;
	case DP_DECAP_PROTO_PPP:
		return dp_decap_gre_ppp(p, n, off, flags, h);
	case DP_DECAP_PROTO_ERSPAN:
		h->next = DP_DECAP_ETHER;
		h->encap = DP_ENCAP_ERSPAN;
		/* Type II carries a sequence number; type I has neither it nor a header. */
		if ((flags & DP_DECAP_GRE_S) == 0)
			return DP_DEC_OK;
		return dp_decap_erspan2(p, n, off, h);
	case DP_DECAP_PROTO_ERSPAN3:
		h->next = DP_DECAP_ETHER;
		h->encap = DP_ENCAP_ERSPAN;
		return dp_decap_erspan3(p, n, off, h);
	default:
		/* MPLS, NSH, WCCP, ...: counted, never misread. */
		return DP_DEC_L4_UNSUPPORTED;
	}
}

enum dp_decode_res
dp_decap_ip(uint8_t proto, const uint8_t *p, uint32_t n, struct dp_decap_hdr *h)
{
	switch (proto) {
	case IPPROTO_GRE:
		return dp_decap_gre(p, n, h);
	case IPPROTO_IPIP:
		h->next = DP_DECAP_IPV4;
		break;
	case IPPROTO_IPV6:
		h->next = DP_DECAP_IPV6;
		break;
	default:
		return DP_DEC_L4_UNSUPPORTED;
	}
	/* The inner header checks its own version and lengths. */
	h->hlen = 0;
	h->encap = DP_ENCAP_IPIP;
	return DP_DEC_OK;
}

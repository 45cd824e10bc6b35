/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet decoder: walks one captured frame from the link header down to the
 * UDP or TCP payload and sorts every frame into exactly one dp_decode_res.
 * It is a plain function over a buffer (no EAL, no mbuf) so the unit tests
 * and a fuzzer drive the same code the workers run. Every load is a byte
 * load checked against the captured length first, so frames from any
 * source, however malformed, cannot make it read out of bounds or trip
 * alignment rules.
 *
 * Mirror feeds wrap the traffic in tunnels (VXLAN, GRE, ERSPAN, IP in IP),
 * and taps on access networks see it inside PPTP: when the config allows
 * it, the decoder strips them and goes on with the inner frame, as many
 * layers deep as max_depth. The tunnel headers are parsed in dp_decap.c
 * and reached only when a protocol or port names a tunnel, so plain frames
 * take the same path as without them. A PPPoE session header is link
 * layer, stripped like a VLAN tag wherever an Ethernet header is, and
 * looked at only when the ethertype names it.
 */
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include "dp_decap.h"
#include "dp_decode.h"

/* Ethertypes; local so the decoder builds without DPDK headers. */
#define DP_DEC_ETYPE_IPV4 0x0800
#define DP_DEC_ETYPE_IPV6 0x86dd
#define DP_DEC_ETYPE_VLAN 0x8100     /* 802.1Q */
#define DP_DEC_ETYPE_QINQ 0x88a8     /* 802.1ad */
#define DP_DEC_ETYPE_QINQ_OLD 0x9100 /* pre-802.1ad outer tag */
#define DP_DEC_ETYPE_PPPOE_DISC 0x8863
#define DP_DEC_ETYPE_PPPOE_SESS 0x8864
#define DP_DEC_ETYPE_MPLS 0x8847
#define DP_DEC_ETYPE_MPLS_MC 0x8848

#define DP_DEC_ETH_HLEN 14
#define DP_DEC_SLL_HLEN 16
#define DP_DEC_VLAN_HLEN 4
#define DP_DEC_MAX_VLANS 2
#define DP_DEC_PPPOE_HLEN 6	  /* version/type, code, session id, length */
#define DP_DEC_PPPOE_VERTYPE 0x11 /* version 1, type 1 (RFC 2516) */

#define DP_DEC_IPV4_HLEN 20
#define DP_DEC_IPV4_MF 0x2000
#define DP_DEC_IPV4_OFFSET 0x1fff
#define DP_DEC_IPV6_HLEN 40
#define DP_DEC_IPV6_FRAG_HLEN 8
/*
 * Real traffic carries one or two extension headers; the bound keeps a
 * crafted chain of tiny headers from costing a worker more than a few
 * dozen loads.
 */
#define DP_DEC_IPV6_MAX_EXT 8

#define DP_DEC_UDP_HLEN 8
#define DP_DEC_TCP_HLEN 20

/* The decoder builds without DPDK headers: its own hints. */
#define dp_dec_likely(x) __builtin_expect(!!(x), 1)
#define DP_DEC_INLINE inline __attribute__((always_inline))
#define DP_DEC_NOINLINE __attribute__((noinline))

static inline uint16_t
dp_dec_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
dp_dec_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
		(uint32_t)p[3];
}

/*
 * Returned by dp_dec_l2, never by the decoder: the ethertype is a PPPoE
 * session and *offp the offset of its header. The caller strips it with
 * dp_dec_pppoe, out of the plain path.
 */
#define DP_DEC_PPPOE ((enum dp_decode_res)0x7e)

/*
 * A PPPoE session header at *offp and the PPP protocol field after it
 * (RFC 2516). Its length field delimits the PPP frame: what follows is
 * Ethernet padding. A length beyond the capture is taken to end with it,
 * as tshark takes it; the IP packet's own length then decides whether it
 * is cut. Another version or type may lay out otherwise and is not
 * decoded; the code is not checked (tshark does not, and it changes no
 * offset). PPP frames that are not IP (LCP, IPCP, CCP, ...) are link
 * layers we do not decode. On DP_DEC_OK, *offp, *typep and *endp say where
 * the IP packet starts, which ethertype it stands for and where the PPP
 * frame ends.
 */
static inline enum dp_decode_res
dp_dec_pppoe(const uint8_t *frame, uint32_t len, uint32_t *offp, uint16_t *typep, uint32_t *endp)
{
	uint32_t off = *offp;
	const uint8_t *h = frame + off;
	uint32_t plen;
	uint32_t n;
	int next;

	if (len - off < DP_DEC_PPPOE_HLEN)
		return DP_DEC_TRUNCATED;
	if (h[0] != DP_DEC_PPPOE_VERTYPE)
		return DP_DEC_L2_UNSUPPORTED;
	next = dp_decap_ppp_proto(h + DP_DEC_PPPOE_HLEN, len - off - DP_DEC_PPPOE_HLEN, &plen);
	if (next < 0)
		return DP_DEC_TRUNCATED;
	if (next == 0)
		return DP_DEC_L2_UNSUPPORTED;
	n = dp_dec_be16(h + 4);
	if (n < plen)
		return DP_DEC_BAD_HEADER;
	*offp = off + DP_DEC_PPPOE_HLEN + plen;
	*typep = next == DP_DECAP_IPV4 ? DP_DEC_ETYPE_IPV4 : DP_DEC_ETYPE_IPV6;
	*endp = n < len - off - DP_DEC_PPPOE_HLEN ? off + DP_DEC_PPPOE_HLEN + n : len;
	return DP_DEC_OK;
}

/*
 * Strip the link header and up to two VLAN tags. On DP_DEC_OK, *offp is the
 * offset of the network header and *typep its ethertype; on DP_DEC_PPPOE,
 * *offp is the offset of a PPPoE session header.
 */
static DP_DEC_INLINE enum dp_decode_res
dp_dec_l2(const uint8_t *frame, uint32_t len, enum dp_link link, struct dp_pkt *out, uint32_t *offp,
	uint16_t *typep)
{
	uint32_t off;
	uint16_t type;

	switch (link) {
	case DP_LINK_ETHER:
		if (len < DP_DEC_ETH_HLEN)
			return DP_DEC_TRUNCATED;
		type = dp_dec_be16(frame + 12);
		off = DP_DEC_ETH_HLEN;
		break;
	case DP_LINK_SLL:
		/* Cooked v1: packet type, hatype, addr len, 8 addr bytes, protocol. */
		if (len < DP_DEC_SLL_HLEN)
			return DP_DEC_TRUNCATED;
		type = dp_dec_be16(frame + 14);
		off = DP_DEC_SLL_HLEN;
		break;
	default:
		return DP_DEC_L2_UNSUPPORTED;
	}

	while (type == DP_DEC_ETYPE_VLAN || type == DP_DEC_ETYPE_QINQ ||
		type == DP_DEC_ETYPE_QINQ_OLD) {
		/* A third tag is already a layout we do not decode, cut or not. */
		if (out->vlans == DP_DEC_MAX_VLANS)
			return DP_DEC_L2_UNSUPPORTED;
		if (len - off < DP_DEC_VLAN_HLEN)
			return DP_DEC_TRUNCATED;
		type = dp_dec_be16(frame + off + 2);
		off += DP_DEC_VLAN_HLEN;
		out->vlans++;
	}

	/* IP first: the compiler's search tree over the cases would cost more. */
	if (dp_dec_likely(type == DP_DEC_ETYPE_IPV4 || type == DP_DEC_ETYPE_IPV6)) {
		*offp = off;
		*typep = type;
		return DP_DEC_OK;
	}
	switch (type) {
	case DP_DEC_ETYPE_PPPOE_SESS:
		/* Stripped out of line, by the caller. */
		*offp = off;
		return DP_DEC_PPPOE;
	case DP_DEC_ETYPE_PPPOE_DISC:
	case DP_DEC_ETYPE_MPLS:
	case DP_DEC_ETYPE_MPLS_MC:
		/* Discovery carries no IP; MPLS may, but we do not look inside it. */
		return DP_DEC_L2_UNSUPPORTED;
	default:
		return DP_DEC_NOT_IP;
	}
}

/*
 * Decode UDP or TCP over `plen` bytes that the caller has already checked
 * are captured and delimited by the IP length fields, so any shortfall here
 * is an inconsistency between headers, not a short capture.
 */
static DP_DEC_INLINE enum dp_decode_res
dp_dec_l4(uint8_t proto, const uint8_t *l4, uint32_t plen, struct dp_pkt *out)
{
	uint32_t hlen;
	uint16_t ulen;

	switch (proto) {
	case IPPROTO_UDP:
		out->proto = IPPROTO_UDP;
		if (plen < DP_DEC_UDP_HLEN)
			return DP_DEC_BAD_HEADER;
		ulen = dp_dec_be16(l4 + 4);
		if (ulen < DP_DEC_UDP_HLEN || ulen > plen)
			return DP_DEC_BAD_HEADER;
		out->sport = dp_dec_be16(l4);
		out->dport = dp_dec_be16(l4 + 2);
		out->payload = l4 + DP_DEC_UDP_HLEN;
		out->payload_len = ulen - DP_DEC_UDP_HLEN;
		return DP_DEC_OK;
	case IPPROTO_TCP:
		out->proto = IPPROTO_TCP;
		if (plen < DP_DEC_TCP_HLEN)
			return DP_DEC_BAD_HEADER;
		hlen = (uint32_t)(l4[12] >> 4) * 4;
		if (hlen < DP_DEC_TCP_HLEN || hlen > plen)
			return DP_DEC_BAD_HEADER;
		out->sport = dp_dec_be16(l4);
		out->dport = dp_dec_be16(l4 + 2);
		out->tcp_seq = dp_dec_be32(l4 + 4);
		out->tcp_flags = l4[13];
		out->payload = l4 + hlen;
		out->payload_len = plen - hlen;
		return DP_DEC_OK;
	default:
		return DP_DEC_L4_UNSUPPORTED;
	}
}

/*
 * IPv4, options allowed. The checksum is not checked: captures taken on a
 * host with checksum offload carry wrong ones on every sent packet. On
 * DP_DEC_OK the whole packet is captured, *hlenp is where its payload
 * starts and *protop what it is.
 */
static DP_DEC_INLINE enum dp_decode_res
dp_dec_ipv4(const uint8_t *ip, uint32_t cap, struct dp_pkt *out, uint32_t *hlenp, uint8_t *protop)
{
	uint32_t hlen;
	uint32_t tot;

	if (cap < DP_DEC_IPV4_HLEN)
		return DP_DEC_TRUNCATED;
	if ((ip[0] >> 4) != 4)
		return DP_DEC_BAD_HEADER;
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = dp_dec_be16(ip + 2);
	if (hlen < DP_DEC_IPV4_HLEN || tot < hlen)
		return DP_DEC_BAD_HEADER;
	out->family = 4;
	memcpy(out->src, ip + 12, 4);
	memcpy(out->dst, ip + 16, 4);
	out->l3_hlen = (uint16_t)hlen;
	out->l3_len = tot;
	/*
	 * Checked before the fragment bits: a fragment goes to reassembly,
	 * which needs all of it.
	 */
	if (tot > cap)
		return DP_DEC_TRUNCATED;
	if ((dp_dec_be16(ip + 6) & (DP_DEC_IPV4_MF | DP_DEC_IPV4_OFFSET)) != 0)
		return DP_DEC_FRAGMENT;
	*hlenp = hlen;
	*protop = ip[9];
	return DP_DEC_OK;
}

/*
 * Check that `n` bytes at `off` lie inside both the IPv6 packet as its
 * payload length declares it (`end`) and the capture (`cap`). The caller
 * keeps off <= end and off <= cap.
 */
static enum dp_decode_res
dp_dec_ipv6_need(uint32_t off, uint32_t n, uint32_t end, uint32_t cap)
{
	if (n > end - off)
		return DP_DEC_BAD_HEADER;
	if (n > cap - off)
		return DP_DEC_TRUNCATED;
	return DP_DEC_OK;
}

/*
 * IPv6 and its extension headers. A jumbogram (payload length 0 with a
 * jumbo option) fails the first bounds check and is counted as a bad
 * header; nothing we classify sends those. On DP_DEC_OK the whole packet
 * is captured, *hlenp is where the upper-layer header starts and *protop
 * what it is: UDP, TCP, or (only when `tunnels` is set) a tunnel.
 */
static DP_DEC_INLINE enum dp_decode_res
dp_dec_ipv6(const uint8_t *ip, uint32_t cap, int tunnels, struct dp_pkt *out, uint32_t *hlenp,
	uint8_t *protop)
{
	enum dp_decode_res res;
	unsigned int next;
	unsigned int n;
	uint32_t end;
	uint32_t off;
	uint32_t hlen;

	if (cap < DP_DEC_IPV6_HLEN)
		return DP_DEC_TRUNCATED;
	if ((ip[0] >> 4) != 6)
		return DP_DEC_BAD_HEADER;
	out->family = 6;
	memcpy(out->src, ip + 8, 16);
	memcpy(out->dst, ip + 24, 16);
	end = DP_DEC_IPV6_HLEN + (uint32_t)dp_dec_be16(ip + 4);
	out->l3_len = end;
	next = ip[6];
	off = DP_DEC_IPV6_HLEN;

	for (n = 0;; n++) {
		switch (next) {
		case IPPROTO_UDP:
		case IPPROTO_TCP:
			goto l4;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			break;
		case IPPROTO_FRAGMENT:
			/* Reassembly needs the header in place and all of the fragment. */
			out->l3_hlen = (uint16_t)off;
			out->v6_frag_off = (uint16_t)off;
			res = dp_dec_ipv6_need(off, DP_DEC_IPV6_FRAG_HLEN, end, cap);
			if (res != DP_DEC_OK)
				return res;
			if (end > cap)
				return DP_DEC_TRUNCATED;
			return DP_DEC_FRAGMENT;
		default:
			if (tunnels && dp_decap_is_tunnel(next))
				goto l4;
			/* ESP, no next header, ICMPv6, tunnels not stripped, ... */
			return DP_DEC_L4_UNSUPPORTED;
		}
		if (n == DP_DEC_IPV6_MAX_EXT)
			return DP_DEC_BAD_HEADER;
		res = dp_dec_ipv6_need(off, 2, end, cap);
		if (res != DP_DEC_OK)
			return res;
		/* AH counts its length in 4-octet units, the others in 8. */
		if (next == IPPROTO_AH)
			hlen = ((uint32_t)ip[off + 1] + 2) * 4;
		else
			hlen = ((uint32_t)ip[off + 1] + 1) * 8;
		res = dp_dec_ipv6_need(off, hlen, end, cap);
		if (res != DP_DEC_OK)
			return res;
		next = ip[off];
		off += hlen;
	}
l4:
	out->l3_hlen = (uint16_t)off;
	if (end > cap)
		return DP_DEC_TRUNCATED;
	*hlenp = off;
	*protop = (uint8_t)next;
	return DP_DEC_OK;
}

/*
 * A tunnel was found: the layer counts against the depth limit, and what
 * the outer packet said about ports and payload no longer applies.
 * `inner` and `inner_len` are the tunnel's bytes (header included) as the
 * outer packet delimits them. Returns the result and, on DP_DEC_OK, the
 * offset and family of the inner IP header; an inner Ethernet frame is
 * stripped here, tags and all.
 */
static enum dp_decode_res
dp_dec_tunnel(const uint8_t *buf, uint32_t inner, uint32_t inner_len, const struct dp_decap_hdr *h,
	const struct dp_decode_cfg *cfg, struct dp_pkt *out, uint32_t *offp, uint32_t *endp,
	int *v6p)
{
	enum dp_decode_res res;
	uint32_t l2end;
	uint32_t off;
	uint32_t l2;
	uint16_t type;

	if (out->depth >= cfg->max_depth)
		return DP_DEC_TOO_DEEP;
	out->depth++;
	out->encap_mask |= h->encap;
	out->proto = 0;
	out->tcp_flags = 0;
	out->sport = 0;
	out->dport = 0;
	out->tcp_seq = 0;
	out->payload = NULL;
	out->payload_len = 0;
	/* An inner IPv4 header must not leave outer IPv6 bytes behind. */
	memset(out->src, 0, sizeof(out->src));
	memset(out->dst, 0, sizeof(out->dst));

	off = inner + h->hlen;
	/* What follows the outer packet (padding, FCS) is not the inner one's. */
	*endp = inner + inner_len;
	switch (h->next) {
	case DP_DECAP_ETHER:
		/* The tag limit is per Ethernet header, and so is PPPoE. */
		out->vlans = 0;
		l2end = *endp - off;
		res = dp_dec_l2(buf + off, l2end, DP_LINK_ETHER, out, &l2, &type);
		if (res == DP_DEC_PPPOE)
			res = dp_dec_pppoe(buf + off, l2end, &l2, &type, &l2end);
		if (res != DP_DEC_OK)
			return res;
		*offp = off + l2;
		*endp = off + l2end;
		*v6p = type == DP_DEC_ETYPE_IPV6;
		return DP_DEC_OK;
	case DP_DECAP_IPV4:
		*offp = off;
		*v6p = 0;
		return DP_DEC_OK;
	default:
		*offp = off;
		*v6p = 1;
		return DP_DEC_OK;
	}
}

/*
 * Returned by dp_dec_ip, never by the decoder: what the IP header carries
 * is a tunnel cfg lets us strip (UDP to the VXLAN port, or a protocol
 * that is neither UDP nor TCP). The IP payload starts at l3_off + l3_hlen
 * and out->proto says what it is.
 */
#define DP_DEC_TUNNEL ((enum dp_decode_res)0x7f)

/*
 * One IP header and what it carries, from `off` in `buf` (captured up to
 * `end`). Inlined and without out-parameters, so that the path of a plain
 * frame is one straight run in few registers: the tunnel tests cost it
 * two predictable branches.
 */
static DP_DEC_INLINE enum dp_decode_res
dp_dec_ip(const uint8_t *buf, uint32_t off, uint32_t end, int v6, const struct dp_decode_cfg *cfg,
	struct dp_pkt *out)
{
	enum dp_decode_res res;
	uint32_t hlen;
	uint8_t proto;

	out->l3_off = off;
	if (!v6)
		res = dp_dec_ipv4(buf + off, end - off, out, &hlen, &proto);
	else
		res = dp_dec_ipv6(buf + off, end - off, cfg->max_depth != 0, out, &hlen, &proto);
	if (res != DP_DEC_OK)
		return res;
	res = dp_dec_l4(proto, buf + off + hlen, out->l3_len - hlen, out);
	if (dp_dec_likely(res == DP_DEC_OK)) {
		if (dp_dec_likely(out->dport != cfg->vxlan_port) || proto != IPPROTO_UDP ||
			cfg->vxlan_port == 0 || cfg->max_depth == 0)
			return DP_DEC_OK;
	} else if (res != DP_DEC_L4_UNSUPPORTED || cfg->max_depth == 0) {
		return res;
	}
	out->proto = proto;
	return DP_DEC_TUNNEL;
}

/*
 * The tunnel path, out of line: strip the tunnel dp_dec_ip found, decode
 * what it carries, and again while that is a tunnel. The loop ends: every
 * layer consumes at least an IP header and counts against max_depth.
 */
static DP_DEC_NOINLINE enum dp_decode_res
dp_dec_encap(const uint8_t *buf, const struct dp_decode_cfg *cfg, struct dp_pkt *out)
{
	struct dp_decap_hdr h;
	enum dp_decode_res res;
	uint32_t inner_len;
	uint32_t inner;
	uint32_t off;
	uint32_t end;
	int v6;

	do {
		if (out->proto == IPPROTO_UDP) {
			inner = (uint32_t)(out->payload - buf);
			inner_len = out->payload_len;
			res = dp_decap_vxlan(out->payload, inner_len, &h);
		} else {
			inner = out->l3_off + out->l3_hlen;
			inner_len = out->l3_len - out->l3_hlen;
			res = dp_decap_ip(out->proto, buf + inner, inner_len, &h);
		}
		if (res != DP_DEC_OK)
			return res;
		res = dp_dec_tunnel(buf, inner, inner_len, &h, cfg, out, &off, &end, &v6);
		if (res != DP_DEC_OK)
			return res;
		res = dp_dec_ip(buf, off, end, v6, cfg, out);
	} while (res == DP_DEC_TUNNEL);
	return res;
}

/*
 * The rest of a frame whose link layer ends in a PPPoE session header at
 * `off`; out of line, so that the plain path does not keep its state.
 */
static DP_DEC_NOINLINE enum dp_decode_res
dp_dec_frame_pppoe(const uint8_t *frame, uint32_t len, uint32_t off,
	const struct dp_decode_cfg *cfg, struct dp_pkt *out)
{
	enum dp_decode_res res;
	uint32_t end;
	uint16_t type;

	res = dp_dec_pppoe(frame, len, &off, &type, &end);
	if (res != DP_DEC_OK)
		return res;
	res = dp_dec_ip(frame, off, end, type == DP_DEC_ETYPE_IPV6, cfg, out);
	if (res != DP_DEC_TUNNEL)
		return res;
	return dp_dec_encap(frame, cfg, out);
}

/*
 * A frame from its link header; inlined into dp_decode with no tunnels.
 * The link type is apart from cfg so that dp_decode's cfg is a constant
 * and its tunnel tests fold away.
 */
static DP_DEC_INLINE enum dp_decode_res
dp_dec_frame(const uint8_t *frame, uint32_t len, enum dp_link link, const struct dp_decode_cfg *cfg,
	struct dp_pkt *out)
{
	enum dp_decode_res res;
	uint32_t off;
	uint16_t type;

	memset(out, 0, sizeof(*out));
	res = dp_dec_l2(frame, len, link, out, &off, &type);
	if (res != DP_DEC_OK) {
		if (res != DP_DEC_PPPOE)
			return res;
		return dp_dec_frame_pppoe(frame, len, off, cfg, out);
	}
	res = dp_dec_ip(frame, off, len, type == DP_DEC_ETYPE_IPV6, cfg, out);
	if (dp_dec_likely(res != DP_DEC_TUNNEL))
		return res;
	return dp_dec_encap(frame, cfg, out);
}

enum dp_decode_res
dp_decode_cfg(
	const uint8_t *frame, uint32_t len, const struct dp_decode_cfg *cfg, struct dp_pkt *out)
{
	return dp_dec_frame(frame, len, cfg->link, cfg, out);
}

enum dp_decode_res
dp_decode(const uint8_t *frame, uint32_t len, enum dp_link link, struct dp_pkt *out)
{
	/* No encapsulation; its link field is not read. */
	static const struct dp_decode_cfg none;

	return dp_dec_frame(frame, len, link, &none, out);
}

enum dp_decode_res
dp_decode_ip(const uint8_t *ip, uint32_t len, const struct dp_decode_cfg *cfg, uint8_t depth,
	struct dp_pkt *out)
{
	enum dp_decode_res res;

	memset(out, 0, sizeof(*out));
	out->depth = depth;
	if (len == 0)
		return DP_DEC_TRUNCATED;
	if ((ip[0] >> 4) != 4 && (ip[0] >> 4) != 6)
		return DP_DEC_BAD_HEADER;
	res = dp_dec_ip(ip, 0, len, (ip[0] >> 4) == 6, cfg, out);
	if (res != DP_DEC_TUNNEL)
		return res;
	return dp_dec_encap(ip, cfg, out);
}

const char *
dp_decode_res_name(enum dp_decode_res res)
{
	switch (res) {
	case DP_DEC_OK:
		return "ok";
	case DP_DEC_NOT_IP:
		return "not_ip";
	case DP_DEC_L2_UNSUPPORTED:
		return "l2_unsupported";
	case DP_DEC_L4_UNSUPPORTED:
		return "l4_unsupported";
	case DP_DEC_FRAGMENT:
		return "fragment";
	case DP_DEC_TRUNCATED:
		return "truncated";
	case DP_DEC_BAD_HEADER:
		return "bad_header";
	case DP_DEC_TOO_DEEP:
		return "too_deep";
	}
	return "unknown";
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HEP decoder: turns one HEP packet (HEPv3 chunks, or the fixed HEPv1/v2
 * header) into the inner addresses, ports, protocol, capture time and the
 * captured SIP message, so the worker can classify a mirrored message as
 * if it had crossed the wire. It runs on the packet path: no allocation,
 * every length checked before the bytes it covers are read, and every
 * multi-byte field loaded a byte at a time (chunks sit at any offset).
 *
 * Wire facts, from Kamailio's sipcapture/hep.h, hep.c and siptrace_hep.c,
 * sngrep's capture_eep.c, heplify-server's decoder/hep.go, and datagrams
 * Kamailio 5.6 siptrace sent with hep_version 1, 2 and 3:
 *
 * HEPv3: "HEP3", u16 total length (header included), then chunks of u16
 * vendor id, u16 type, u16 length (its 6 bytes included) and the data. All
 * big-endian, addresses in network order.
 *
 * HEPv1/v2: u8 version (1 or 2), u8 length, u8 family (AF_INET 2,
 * AF_INET6 10), u8 protocol, u16 source and destination port in network
 * order; then source and destination address (4 + 4 or 16 + 16 bytes,
 * network order); then, for v2 only, struct hep_timehdr { u32 tv_sec;
 * u32 tv_usec; u16 captid; } which C senders copy whole: 12 bytes with the
 * 2 bytes of padding. The payload runs to the end of the datagram. The
 * length byte is not used: Kamailio writes the header length without the
 * time header (16 or 40), sngrep the low byte of htons(total), and
 * Kamailio's own receiver ignores it. The time header is in the sender's
 * byte order: Kamailio converts to little-endian (to_le), sngrep copies
 * the host's, so on x86 both are little-endian, while heplify-server reads
 * it as big-endian (and without the padding). The decoder takes the
 * little-endian reading unless only the big-endian one gives
 * microseconds under a second.
 */
#include <stdint.h>
#include <string.h>

#include "dp_hep.h"

#define DP_HEP3_HLEN 6	    /* "HEP3" + u16 total length */
#define DP_HEP_CHUNK_HLEN 6 /* vendor, type, length */
#define DP_HEP2_HLEN 8	    /* version, length, family, proto, ports */
#define DP_HEP2_TIME_LEN 12 /* tv_sec, tv_usec, captid, 2 bytes padding */

/* Address families as senders write them: Linux's AF_INET, AF_INET6. */
#define DP_HEP_AF_INET 2
#define DP_HEP_AF_INET6 10

#define DP_HEP_PTYPE_SIP 1
#define DP_HEP_USEC_MAX 1000000u

/* HEPv3 generic chunk types (vendor id 0). */
enum dp_hep_chunk {
	DP_HEP_CH_FAMILY = 0x01,
	DP_HEP_CH_PROTO = 0x02,
	DP_HEP_CH_SRC4 = 0x03,
	DP_HEP_CH_DST4 = 0x04,
	DP_HEP_CH_SRC6 = 0x05,
	DP_HEP_CH_DST6 = 0x06,
	DP_HEP_CH_SPORT = 0x07,
	DP_HEP_CH_DPORT = 0x08,
	DP_HEP_CH_TSEC = 0x09,
	DP_HEP_CH_TUSEC = 0x0a,
	DP_HEP_CH_PTYPE = 0x0b,
	DP_HEP_CH_AGENT = 0x0c,
	DP_HEP_CH_AUTH = 0x0e,
	DP_HEP_CH_PAYLOAD = 0x0f,
	DP_HEP_CH_ZPAYLOAD = 0x10,
};

/* Which chunks a HEPv3 packet had, for the checks after the walk. */
#define DP_HEP_SEEN_FAMILY (1u << 0)
#define DP_HEP_SEEN_SPORT (1u << 1)
#define DP_HEP_SEEN_DPORT (1u << 2)
#define DP_HEP_SEEN_TSEC (1u << 3)
#define DP_HEP_SEEN_TUSEC (1u << 4)

static const uint8_t dp_hep3_magic[4] = { 'H', 'E', 'P', '3' };

static inline uint16_t
dp_hep_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
dp_hep_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t
dp_hep_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Do the first min(len, 4) bytes match "HEP3"? */
static inline int
dp_hep3_prefix(const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len && i < sizeof(dp_hep3_magic); i++) {
		if (p[i] != dp_hep3_magic[i])
			return 0;
	}
	return 1;
}

/*
 * A fixed-size chunk of another size is malformed, as heplify-server
 * holds too: reading a prefix of it would guess at the sender's meaning.
 * A chunk that comes twice counts as its last copy, as in Kamailio's
 * receiver. The walk stays inside the total length, which is inside `len`.
 */
static enum dp_hep_res
dp_hep_parse_v3(const uint8_t *p, uint32_t len, struct dp_hep *out)
{
	const uint8_t *src4 = NULL, *dst4 = NULL, *src6 = NULL, *dst6 = NULL;
	const uint8_t *zpayload = NULL;
	uint32_t total, off, clen, dlen, zpayload_len = 0;
	uint32_t tsec = 0, tusec = 0, seen = 0;
	uint8_t family = 0, ptype = DP_HEP_PTYPE_SIP;

	total = dp_hep_be16(p + 4);
	if (total < DP_HEP3_HLEN)
		return DP_HEP_BAD;
	if (total > len)
		return DP_HEP_TRUNCATED;
	out->version = 3;
	out->hep_len = total;

	for (off = DP_HEP3_HLEN; off < total; off += clen) {
		const uint8_t *c = p + off, *d = c + DP_HEP_CHUNK_HLEN;

		/* the packet is all there: a chunk past its end is a lie */
		if (total - off < DP_HEP_CHUNK_HLEN)
			return DP_HEP_BAD;
		clen = dp_hep_be16(c + 4);
		if (clen < DP_HEP_CHUNK_HLEN || clen > total - off)
			return DP_HEP_BAD;
		/* vendor chunks mean what their vendor says: skipped */
		if (dp_hep_be16(c) != 0)
			continue;
		dlen = clen - DP_HEP_CHUNK_HLEN;
		switch (dp_hep_be16(c + 2)) {
		case DP_HEP_CH_FAMILY:
			if (dlen != 1)
				return DP_HEP_BAD;
			family = d[0];
			seen |= DP_HEP_SEEN_FAMILY;
			break;
		case DP_HEP_CH_PROTO:
			if (dlen != 1)
				return DP_HEP_BAD;
			out->proto = d[0];
			break;
		case DP_HEP_CH_SRC4:
		case DP_HEP_CH_DST4:
			if (dlen != 4)
				return DP_HEP_BAD;
			if (dp_hep_be16(c + 2) == DP_HEP_CH_SRC4)
				src4 = d;
			else
				dst4 = d;
			break;
		case DP_HEP_CH_SRC6:
		case DP_HEP_CH_DST6:
			if (dlen != 16)
				return DP_HEP_BAD;
			if (dp_hep_be16(c + 2) == DP_HEP_CH_SRC6)
				src6 = d;
			else
				dst6 = d;
			break;
		case DP_HEP_CH_SPORT:
			if (dlen != 2)
				return DP_HEP_BAD;
			out->sport = dp_hep_be16(d);
			seen |= DP_HEP_SEEN_SPORT;
			break;
		case DP_HEP_CH_DPORT:
			if (dlen != 2)
				return DP_HEP_BAD;
			out->dport = dp_hep_be16(d);
			seen |= DP_HEP_SEEN_DPORT;
			break;
		case DP_HEP_CH_TSEC:
			if (dlen != 4)
				return DP_HEP_BAD;
			tsec = dp_hep_be32(d);
			seen |= DP_HEP_SEEN_TSEC;
			break;
		case DP_HEP_CH_TUSEC:
			if (dlen != 4)
				return DP_HEP_BAD;
			tusec = dp_hep_be32(d);
			seen |= DP_HEP_SEEN_TUSEC;
			break;
		case DP_HEP_CH_PTYPE:
			if (dlen != 1)
				return DP_HEP_BAD;
			ptype = d[0];
			break;
		case DP_HEP_CH_AGENT:
			if (dlen != 4)
				return DP_HEP_BAD;
			out->agent_id = dp_hep_be32(d);
			break;
		case DP_HEP_CH_AUTH:
			out->auth = d;
			out->auth_len = (uint16_t)dlen;
			break;
		case DP_HEP_CH_PAYLOAD:
			out->payload = d;
			out->payload_len = dlen;
			break;
		case DP_HEP_CH_ZPAYLOAD:
			zpayload = d;
			zpayload_len = dlen;
			break;
		default:
			/* keep-alive, correlation id, VLAN, node name, newer types */
			break;
		}
	}

	if (!(seen & DP_HEP_SEEN_FAMILY))
		return DP_HEP_BAD;
	/* addresses of the other family, if any, are ignored */
	if (family == DP_HEP_AF_INET) {
		if (src4 == NULL || dst4 == NULL)
			return DP_HEP_BAD;
		out->family = 4;
		memcpy(out->src, src4, 4);
		memcpy(out->dst, dst4, 4);
	} else if (family == DP_HEP_AF_INET6) {
		if (src6 == NULL || dst6 == NULL)
			return DP_HEP_BAD;
		out->family = 6;
		memcpy(out->src, src6, 16);
		memcpy(out->dst, dst6, 16);
	} else {
		return DP_HEP_BAD;
	}
	if ((seen & (DP_HEP_SEEN_SPORT | DP_HEP_SEEN_DPORT)) !=
		(DP_HEP_SEEN_SPORT | DP_HEP_SEEN_DPORT))
		return DP_HEP_BAD;
	if (out->payload == NULL && zpayload == NULL)
		return DP_HEP_BAD;
	/* microseconds alone do not make a time */
	if (seen & DP_HEP_SEEN_TSEC)
		out->time_us = (uint64_t)tsec * DP_HEP_USEC_MAX + tusec;

	if (out->payload == NULL) {
		out->payload = zpayload;
		out->payload_len = zpayload_len;
		if (ptype == DP_HEP_PTYPE_SIP)
			return DP_HEP_COMPRESSED;
	}
	return ptype == DP_HEP_PTYPE_SIP ? DP_HEP_OK : DP_HEP_NOT_SIP;
}

/*
 * HEPv1/v2 have no payload type: the payload is SIP. Nor a total length:
 * the packet is the whole datagram, and an empty payload is missing.
 */
static enum dp_hep_res
dp_hep_parse_v2(const uint8_t *p, uint32_t len, struct dp_hep *out)
{
	uint32_t alen, hlen;

	if (len < DP_HEP2_HLEN)
		return DP_HEP_TRUNCATED;
	if (p[2] == DP_HEP_AF_INET)
		alen = 4;
	else if (p[2] == DP_HEP_AF_INET6)
		alen = 16;
	else
		return DP_HEP_BAD;
	hlen = DP_HEP2_HLEN + 2 * alen + (p[0] == 2 ? DP_HEP2_TIME_LEN : 0);
	if (len < hlen)
		return DP_HEP_TRUNCATED;
	if (len == hlen)
		return DP_HEP_BAD;

	out->version = p[0];
	out->family = alen == 4 ? 4 : 6;
	out->proto = p[3];
	out->sport = dp_hep_be16(p + 4);
	out->dport = dp_hep_be16(p + 6);
	memcpy(out->src, p + DP_HEP2_HLEN, alen);
	memcpy(out->dst, p + DP_HEP2_HLEN + alen, alen);
	if (p[0] == 2) {
		const uint8_t *t = p + DP_HEP2_HLEN + 2 * alen;
		uint32_t sec = dp_hep_le32(t), usec = dp_hep_le32(t + 4);

		out->agent_id = (uint32_t)t[9] << 8 | t[8];
		if (usec >= DP_HEP_USEC_MAX && dp_hep_be32(t + 4) < DP_HEP_USEC_MAX) {
			sec = dp_hep_be32(t);
			usec = dp_hep_be32(t + 4);
			out->agent_id = dp_hep_be16(t + 8);
		}
		out->time_us = (uint64_t)sec * DP_HEP_USEC_MAX + usec;
	}
	out->payload = p + hlen;
	out->payload_len = len - hlen;
	out->hep_len = len;
	return DP_HEP_OK;
}

enum dp_hep_res
dp_hep_parse(const uint8_t *p, uint32_t len, struct dp_hep *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return DP_HEP_TRUNCATED;
	if (p[0] == 1 || p[0] == 2)
		return dp_hep_parse_v2(p, len, out);
	if (!dp_hep3_prefix(p, len))
		return DP_HEP_NOT_HEP;
	if (len < DP_HEP3_HLEN)
		return DP_HEP_TRUNCATED;
	return dp_hep_parse_v3(p, len, out);
}

int
dp_hep_frame(const uint8_t *p, uint32_t len, uint32_t *n)
{
	uint32_t total;

	if (!dp_hep3_prefix(p, len))
		return -1;
	if (len < DP_HEP3_HLEN)
		return 0;
	total = dp_hep_be16(p + 4);
	if (total < DP_HEP3_HLEN)
		return -1;
	*n = total;
	return 1;
}

const char *
dp_hep_res_name(enum dp_hep_res res)
{
	switch (res) {
	case DP_HEP_OK:
		return "ok";
	case DP_HEP_NOT_HEP:
		return "not_hep";
	case DP_HEP_TRUNCATED:
		return "truncated";
	case DP_HEP_BAD:
		return "bad";
	case DP_HEP_NOT_SIP:
		return "not_sip";
	case DP_HEP_COMPRESSED:
		return "compressed";
	}
	return "unknown";
}

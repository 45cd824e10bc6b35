/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HEP (Homer Encapsulation Protocol) decoder: HEPv1, HEPv2 and HEPv3 as
 * SBCs and proxies (Kamailio siptrace, OpenSIPS proto_hep, heplify) send them. A
 * plain function over a buffer: the worker hands it the payload of a UDP
 * datagram or a TCP stream on the HEP port, the unit tests and a fuzzer
 * hand it anything. It never reads past `len` and never allocates.
 *
 * The decoded capture gives the inner addresses, ports, transport and
 * capture time; the payload (the SIP message) is then classified as if it
 * had been seen on the wire at that time.
 */
#ifndef DP_HEP_H
#define DP_HEP_H

#include <stdint.h>

enum dp_hep_res {
	DP_HEP_OK,
	DP_HEP_NOT_HEP,	  /* neither "HEP3" nor a HEPv1/v2 header */
	DP_HEP_TRUNCATED, /* a header or chunk runs past `len` */
	DP_HEP_BAD,	  /* inconsistent lengths, missing chunks, bad family */
	DP_HEP_NOT_SIP,	  /* well formed, payload type not SIP (RTCP, logs, ...) */
	/* well formed SIP, but only as a gzip payload (chunk 16): not inflated here */
	DP_HEP_COMPRESSED,
};

#define DP_HEP_AUTH_MAX 64

struct dp_hep {
	uint8_t version; /* 1, 2 or 3 */
	uint8_t family;	 /* 4 or 6 */
	/*
	 * Inner IPPROTO_UDP, IPPROTO_TCP, 132 SCTP, ... as the sender wrote
	 * it; 0 when a HEPv3 packet has no protocol chunk. Kamailio writes 22
	 * (IPPROTO_IDP) for TLS, WS and WSS, other senders 6 for TLS.
	 */
	uint8_t proto;
	uint8_t src[16]; /* inner addresses, network order; IPv4 in the first 4 */
	uint8_t dst[16];
	uint16_t sport; /* host order */
	uint16_t dport;
	uint64_t time_us;    /* capture time, microseconds since the epoch; 0 absent */
	uint32_t agent_id;   /* HEPv3 chunk 12, HEPv2 captid; 0 absent */
	const uint8_t *auth; /* HEPv3 chunk 14 (auth key), NULL absent */
	uint16_t auth_len;
	/*
	 * The captured message, inside the buffer; on DP_HEP_COMPRESSED the
	 * gzip bytes of chunk 16.
	 */
	const uint8_t *payload;
	uint32_t payload_len;
	/*
	 * Bytes of this HEP packet: HEPv3's total length (framing on TCP),
	 * `len` for HEPv1/v2, whose payload runs to the end of the datagram.
	 */
	uint32_t hep_len;
};

/*
 * Decode one HEP packet at the start of `p`. Returns enum dp_hep_res; `out`
 * is zeroed first, and fully written on DP_HEP_OK, DP_HEP_NOT_SIP and
 * DP_HEP_COMPRESSED. A HEPv3 packet whose length field is larger than
 * `len` is DP_HEP_TRUNCATED; bytes after it are not looked at, so on UDP,
 * where a datagram holds exactly one packet, the caller compares hep_len
 * with the datagram's length. DP_HEP_OK needs the family, both addresses of
 * that family, both ports and a payload; the capture time, protocol, agent
 * id and auth key are optional (absent: 0 or NULL) and a missing payload
 * type means SIP. Vendor chunks (vendor id not 0) and generic chunks not
 * listed above are skipped.
 */
enum dp_hep_res dp_hep_parse(const uint8_t *p, uint32_t len, struct dp_hep *out);

/*
 * Framing on a TCP stream: how long the HEP packet that starts at `p` is.
 * Returns 1 with *n set (6 or more; it may exceed `len`), 0 when more bytes
 * are needed to tell (fewer than 6, all matching "HEP3"), -1 when `p` does
 * not start a HEPv3 packet (the stream must re-synchronise). HEPv1/v2 carry
 * no total length and cannot be framed on a stream: -1.
 */
int dp_hep_frame(const uint8_t *p, uint32_t len, uint32_t *n);

const char *dp_hep_res_name(enum dp_hep_res res);

#endif /* DP_HEP_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HEP (Homer Encapsulation Protocol) decoder: HEPv2 and HEPv3 as SBCs and
 * proxies (Kamailio siptrace, OpenSIPS proto_hep, heplify) send them. A
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
	DP_HEP_NOT_HEP,	      /* neither "HEP3" nor a HEPv1/v2 header */
	DP_HEP_TRUNCATED,     /* a header or chunk runs past `len` */
	DP_HEP_BAD,	      /* inconsistent lengths, missing chunks, bad family */
	DP_HEP_NOT_SIP,	      /* well formed, payload type not SIP (RTCP, logs, ...) */
};

#define DP_HEP_AUTH_MAX 64

struct dp_hep {
	uint8_t version;   /* 2 or 3 */
	uint8_t family;	   /* 4 or 6 */
	uint8_t proto;	   /* inner IPPROTO_UDP, IPPROTO_TCP, ... (TLS is 6 too) */
	uint8_t src[16];   /* inner addresses, network order; IPv4 in the first 4 */
	uint8_t dst[16];
	uint16_t sport;	   /* host order */
	uint16_t dport;
	uint64_t time_us;  /* capture time, microseconds since the epoch; 0 absent */
	uint32_t agent_id; /* HEPv3 chunk 12; 0 absent */
	const uint8_t *auth; /* HEPv3 chunk 14 (auth key), NULL absent */
	uint16_t auth_len;
	const uint8_t *payload; /* the captured message, inside the buffer */
	uint32_t payload_len;
	uint32_t hep_len; /* bytes of this HEP packet (framing on TCP) */
};

/*
 * Decode one HEP packet at the start of `p`. Returns enum dp_hep_res; `out`
 * is fully written on DP_HEP_OK and on DP_HEP_NOT_SIP (hep_len valid).
 */
enum dp_hep_res dp_hep_parse(const uint8_t *p, uint32_t len, struct dp_hep *out);

/*
 * Framing on a TCP stream: how long the HEP packet that starts at `p` is.
 * Returns 1 with *n set, 0 when more bytes are needed to tell, -1 when `p`
 * does not start a HEP packet (the stream must re-synchronise).
 */
int dp_hep_frame(const uint8_t *p, uint32_t len, uint32_t *n);

const char *dp_hep_res_name(enum dp_hep_res res);

#endif /* DP_HEP_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Names and structs shared by every sipguard process and module.
 *
 * The dataplane (DPDK primary) creates every shared object named here and
 * the control plane (DPDK secondary) looks them up; both include this one
 * header so a name or a layout cannot drift between them. Nothing in here
 * may hold a pointer to code or to process-private memory.
 */
#ifndef SG_SHARED_H
#define SG_SHARED_H

#include <stdint.h>
#include <string.h>

/* Limits that size shared and per-lcore tables. */
#define SG_MAX_TRUNKS 64                /* configured trunks */
#define SG_UNMATCHED SG_MAX_TRUNKS      /* counter slot for no trunk */
#define SG_TRUNK_SLOTS (SG_MAX_TRUNKS + 1)
#define SG_TRUNK_NAME_MAX 32            /* including the NUL */
#define SG_MAX_PREFIXES 16              /* per trunk */
#define SG_MAX_SIP_PORTS 16

/* Status codes 100..699 are each counted exactly. */
#define SG_STATUS_MIN 100
#define SG_STATUS_MAX 699
#define SG_STATUS_COUNT (SG_STATUS_MAX - SG_STATUS_MIN + 1)

/*
 * Request methods that get their own counter. Anything else that is a valid
 * token is counted under SG_M_OTHER (and reported as "OTHER").
 */
enum sg_method {
	SG_M_INVITE,
	SG_M_ACK,
	SG_M_BYE,
	SG_M_CANCEL,
	SG_M_REGISTER,
	SG_M_OPTIONS,
	SG_M_PRACK,
	SG_M_SUBSCRIBE,
	SG_M_NOTIFY,
	SG_M_PUBLISH,
	SG_M_INFO,
	SG_M_REFER,
	SG_M_MESSAGE,
	SG_M_UPDATE,
	SG_M_OTHER,
	SG_M_COUNT
};

static const char *const sg_method_names[SG_M_COUNT] = {
	[SG_M_INVITE] = "INVITE",	[SG_M_ACK] = "ACK",
	[SG_M_BYE] = "BYE",		[SG_M_CANCEL] = "CANCEL",
	[SG_M_REGISTER] = "REGISTER",	[SG_M_OPTIONS] = "OPTIONS",
	[SG_M_PRACK] = "PRACK",		[SG_M_SUBSCRIBE] = "SUBSCRIBE",
	[SG_M_NOTIFY] = "NOTIFY",	[SG_M_PUBLISH] = "PUBLISH",
	[SG_M_INFO] = "INFO",		[SG_M_REFER] = "REFER",
	[SG_M_MESSAGE] = "MESSAGE",	[SG_M_UPDATE] = "UPDATE",
	[SG_M_OTHER] = "OTHER",
};

/* Map a method token to its enum; unknown tokens are SG_M_OTHER. */
static inline enum sg_method
sg_method_from_token(const char *tok, size_t len)
{
	unsigned int m;

	for (m = 0; m < SG_M_OTHER; m++) {
		if (strlen(sg_method_names[m]) == len &&
		    memcmp(sg_method_names[m], tok, len) == 0)
			return (enum sg_method)m;
	}
	return SG_M_OTHER;
}

/*
 * Per-trunk counters. Every field is monotonic (never reset) so readers in
 * other processes can difference two snapshots without coordination.
 */
struct sg_trunk_counters {
	uint64_t requests[SG_M_COUNT];
	uint64_t responses[SG_STATUS_COUNT];     /* index: code - 100 */
	uint64_t invite_final[SG_STATUS_COUNT];  /* final answers to INVITE */
	uint64_t retransmissions;
	uint64_t invite_attempts;  /* new INVITE transactions toward trunk */
	uint64_t malformed;
};

/*
 * Why a packet or message was not (fully) classified. Every packet lands
 * in exactly one of the packet-level reasons; SIP-level reasons count
 * messages. The JSON report folds these into the source fields;
 * the table shows them all.
 */
enum sg_drop {
	SG_DROP_NOT_IP,          /* ARP, LLDP, ...: non_sip */
	SG_DROP_L2_UNSUPPORTED,  /* >2 VLAN tags, PPPoE, unknown link */
	SG_DROP_L4_UNSUPPORTED,  /* ICMP, GRE, IP-in-IP, ESP, SCTP */
	SG_DROP_NOT_CANDIDATE,   /* UDP/TCP, not on a SIP port or trunk */
	SG_DROP_NO_PAYLOAD,      /* TCP without data, CRLF keep-alives */
	SG_DROP_TCP_MIDSTREAM,   /* TCP data not starting a SIP message */
	SG_DROP_TRUNCATED,       /* headers cut short by the capture */
	SG_DROP_BAD_HEADER,      /* inconsistent lengths, bad IHL, ... */
	SG_DROP_FRAGMENT,        /* IPv4/IPv6 fragment, no reassembly yet */
	SG_DROP_MULTISEG,        /* frame larger than the bounce buffer */
	SG_DROP_COUNT
};

struct sg_source_counters {
	uint64_t packets;
	uint64_t bytes;
	uint64_t sip_messages;   /* messages with a valid start line */
	uint64_t sip_malformed;  /* messages counted malformed */
	uint64_t drops[SG_DROP_COUNT];
	uint64_t retrans_evictions; /* unexpired entries pushed out */
};

/* Accumulate one set of counters into another (readers summing lcores). */
static inline void
sg_trunk_counters_add(struct sg_trunk_counters *dst, const struct sg_trunk_counters *src)
{
	const uint64_t *s = (const uint64_t *)src;
	uint64_t *d = (uint64_t *)dst;
	size_t i;

	/* the struct is made of uint64_t only, so walk it as an array */
	for (i = 0; i < sizeof(*src) / sizeof(uint64_t); i++)
		d[i] += s[i];
}

static inline void
sg_source_counters_add(struct sg_source_counters *dst, const struct sg_source_counters *src)
{
	const uint64_t *s = (const uint64_t *)src;
	uint64_t *d = (uint64_t *)dst;
	size_t i;

	for (i = 0; i < sizeof(*src) / sizeof(uint64_t); i++)
		d[i] += s[i];
}

#endif /* SG_SHARED_H */

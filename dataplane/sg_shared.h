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

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Limits that size shared and per-lcore tables. */
#define SG_MAX_TRUNKS 64	   /* configured trunks */
#define SG_UNMATCHED SG_MAX_TRUNKS /* counter slot for no trunk */
#define SG_TRUNK_SLOTS (SG_MAX_TRUNKS + 1)
#define SG_TRUNK_NAME_MAX 32 /* including the NUL */
#define SG_MAX_PREFIXES 16   /* per trunk */
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
	[SG_M_INVITE] = "INVITE",
	[SG_M_ACK] = "ACK",
	[SG_M_BYE] = "BYE",
	[SG_M_CANCEL] = "CANCEL",
	[SG_M_REGISTER] = "REGISTER",
	[SG_M_OPTIONS] = "OPTIONS",
	[SG_M_PRACK] = "PRACK",
	[SG_M_SUBSCRIBE] = "SUBSCRIBE",
	[SG_M_NOTIFY] = "NOTIFY",
	[SG_M_PUBLISH] = "PUBLISH",
	[SG_M_INFO] = "INFO",
	[SG_M_REFER] = "REFER",
	[SG_M_MESSAGE] = "MESSAGE",
	[SG_M_UPDATE] = "UPDATE",
	[SG_M_OTHER] = "OTHER",
};

/*
 * SIP extractor engines (dataplane.parser): both give the same result on
 * every input (dataplane/dp_sip.h); they differ in cost.
 */
enum sg_parser {
	SG_PARSER_LINEWALK,  /* vector line walk, names compared by hand */
	SG_PARSER_HYPERSCAN, /* one Hyperscan block scan per header section */
	SG_PARSER_COUNT
};

static const char *const sg_parser_names[SG_PARSER_COUNT + 1] = {
	[SG_PARSER_LINEWALK] = "linewalk",
	[SG_PARSER_HYPERSCAN] = "hyperscan",
	[SG_PARSER_COUNT] = NULL,
};

/*
 * What a carrier's final 4xx-6xx answer to an INVITE says about its
 * cause, from its own words (status line, Reason, Warning, other
 * headers) as the diagnosis rules read them (dataplane/dp_diag.h). An
 * answer no rule matches is SG_DIAG_UNCLASSIFIED, which is 0 so a zeroed
 * event or counter means "no rule said".
 */
enum sg_diag_class {
	SG_DIAG_UNCLASSIFIED,
	SG_DIAG_CPS_LIMIT,	   /* call rate ceiling */
	SG_DIAG_CONCURRENCY_LIMIT, /* channel / concurrent call ceiling */
	SG_DIAG_OVERLOAD,	   /* far end congested */
	SG_DIAG_ROUTE_DOWN,	   /* no route, circuit or network out of order */
	SG_DIAG_MAINTENANCE,	   /* planned downtime */
	SG_DIAG_OTHER,		   /* a rule matched; a cause of its own */
	SG_DIAG_COUNT
};

static const char *const sg_diag_class_names[SG_DIAG_COUNT] = {
	[SG_DIAG_UNCLASSIFIED] = "unclassified",
	[SG_DIAG_CPS_LIMIT] = "cps-limit",
	[SG_DIAG_CONCURRENCY_LIMIT] = "concurrency-limit",
	[SG_DIAG_OVERLOAD] = "overload",
	[SG_DIAG_ROUTE_DOWN] = "route-down",
	[SG_DIAG_MAINTENANCE] = "maintenance",
	[SG_DIAG_OTHER] = "other",
};

/* A rule's class in config: every class but unclassified (index + 1). */
static const char *const sg_diag_rule_class_names[SG_DIAG_COUNT] = {
	"cps-limit",
	"concurrency-limit",
	"overload",
	"route-down",
	"maintenance",
	"other",
	NULL,
};

/* Map a method token to its enum; unknown tokens are SG_M_OTHER. */
static inline enum sg_method
sg_method_from_token(const char *tok, size_t len)
{
	unsigned int m;

	for (m = 0; m < SG_M_OTHER; m++) {
		if (strlen(sg_method_names[m]) == len && memcmp(sg_method_names[m], tok, len) == 0)
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
	uint64_t responses[SG_STATUS_COUNT];	/* index: code - 100 */
	uint64_t invite_final[SG_STATUS_COUNT]; /* final answers to INVITE */
	uint64_t retransmissions;
	uint64_t invite_attempts; /* new INVITE transactions toward trunk */
	uint64_t malformed;
	uint64_t dialogs_opened; /* INVITE answered 2xx */
	uint64_t dialogs_closed; /* BYE/200, timeout or eviction */
	/* final 4xx-6xx answers to INVITE by enum sg_diag_class */
	uint64_t diagnosis[SG_DIAG_COUNT];
	/*
	 * Calls ended by a BYE and their summed length (packet time, whole
	 * seconds from the 2xx to the BYE): the holding time the policy keeps
	 * a concurrency cap with. Timed-out and evicted dialogs have no known
	 * length and are left out.
	 */
	uint64_t calls_ended;
	uint64_t call_seconds;
};

/*
 * Where a frame went when it did not become a message of its own. Every
 * frame lands in exactly one place: one of these, or a UDP datagram's
 * message (sip_messages or sip_malformed). A datagram rebuilt from
 * fragments, and every message cut from a TCP or HEP stream, is then
 * counted once more in the same way, as a unit of its own. The JSON
 * report folds these into the source fields; the table shows
 * them all.
 */
enum sg_drop {
	SG_DROP_NOT_IP,		/* ARP, LLDP, ...: non_sip */
	SG_DROP_L2_UNSUPPORTED, /* >2 VLAN tags, PPPoE, unknown link */
	SG_DROP_L4_UNSUPPORTED, /* ICMP, ESP, SCTP, GRE we do not strip */
	SG_DROP_NOT_CANDIDATE,	/* UDP/TCP, not on a SIP port or trunk */
	SG_DROP_PEER_NOT_SIP,	/* trunk peer, off the SIP ports, not SIP (RTP) */
	SG_DROP_NO_PAYLOAD,	/* TCP without data, CRLF keep-alives */
	SG_DROP_TCP_STREAMED,	/* TCP segment handed to the stream reassembler */
	SG_DROP_TRUNCATED,	/* headers cut short by the capture */
	SG_DROP_BAD_HEADER,	/* inconsistent lengths, bad IHL, ... */
	SG_DROP_FRAGMENT,	/* IP fragment handed to reassembly */
	SG_DROP_MULTISEG,	/* frame larger than the bounce buffer */
	SG_DROP_TOO_DEEP,	/* more nested encapsulations than decap.max_depth */
	SG_DROP_HEP_REFUSED,	/* HEP from an agent not allowed, or a wrong key */
	SG_DROP_HEP_BAD,	/* HEP malformed, compressed or not carrying SIP */
	SG_DROP_COUNT
};

/* Machine names of the drop reasons: metric labels and telemetry keys. */
static const char *const sg_drop_keys[SG_DROP_COUNT] = {
	[SG_DROP_NOT_IP] = "not_ip",
	[SG_DROP_L2_UNSUPPORTED] = "l2_unsupported",
	[SG_DROP_L4_UNSUPPORTED] = "l4_unsupported",
	[SG_DROP_NOT_CANDIDATE] = "not_candidate",
	[SG_DROP_PEER_NOT_SIP] = "peer_not_sip",
	[SG_DROP_NO_PAYLOAD] = "no_payload",
	[SG_DROP_TCP_STREAMED] = "tcp_streamed",
	[SG_DROP_TRUNCATED] = "truncated",
	[SG_DROP_BAD_HEADER] = "bad_header",
	[SG_DROP_FRAGMENT] = "fragment",
	[SG_DROP_MULTISEG] = "multiseg",
	[SG_DROP_TOO_DEEP] = "too_deep",
	[SG_DROP_HEP_REFUSED] = "hep_refused",
	[SG_DROP_HEP_BAD] = "hep_bad",
};

struct sg_source_counters {
	uint64_t packets;
	uint64_t bytes;
	uint64_t sip_messages;	/* messages with a valid start line */
	uint64_t sip_malformed; /* messages counted malformed */
	uint64_t drops[SG_DROP_COUNT];
	uint64_t retrans_evictions; /* unexpired entries pushed out */
	/* IP reassembly (dataplane/dp_frag.h); losses are in fragments */
	uint64_t frag_reassembled; /* datagrams rebuilt */
	uint64_t frag_timed_out;
	uint64_t frag_no_space;
	uint64_t frag_bad;
	uint64_t frag_duplicates;
	uint64_t frag_no_mbuf;
	uint64_t frag_too_big;
	/* TCP streams (dataplane/dp_stream.h) */
	uint64_t tcp_flows;
	uint64_t tcp_flows_evicted;
	uint64_t tcp_flows_expired;
	uint64_t tcp_flows_reused;
	uint64_t tcp_out_of_order;
	uint64_t tcp_retransmitted;
	uint64_t tcp_gaps;
	uint64_t tcp_gap_bytes;
	uint64_t tcp_resyncs;
	uint64_t tcp_resync_bytes;
	uint64_t tcp_no_buffer;
	uint64_t tcp_out_of_window;
	uint64_t tcp_oversize;
	/* frames whose SIP came out of an encapsulation, by its kind */
	uint64_t decap_vxlan;
	uint64_t decap_gre;
	uint64_t decap_erspan;
	uint64_t decap_ipip;
	uint64_t decap_pptp;
	/* inner-flow steering between workers (dataplane/dp_steer.h) */
	uint64_t steered_out; /* tunnelled frames handed to the inner flow's worker */
	uint64_t steered_in;  /* such frames taken from the other workers */
	uint64_t steer_full;  /* worked where they came in: the ring was full */
	/* HEP (dataplane/dp_hep.h): HEP packets */
	uint64_t hep_accepted;
	uint64_t hep_refused_agent;
	uint64_t hep_refused_auth;
	uint64_t hep_bad;
	uint64_t hep_not_sip;
	uint64_t hep_compressed;
};

/*
 * The source counters that the report, the table and `sipguardctl status`
 * name one by one, beyond packets, bytes, messages and the folded drops:
 * one table, so every view shows the same names.
 */
struct sg_source_field {
	const char *name; /* JSON key */
	uint32_t off;	  /* offsetof in struct sg_source_counters */
	const char *help; /* table label */
};

#define SG_SRC_FIELD(key, member, text)                                \
	{                                                              \
		key, offsetof(struct sg_source_counters, member), text \
	}
static const struct sg_source_field sg_source_fields[] = {
	SG_SRC_FIELD("fragments", drops[SG_DROP_FRAGMENT], "IP fragments received"),
	SG_SRC_FIELD("reassembled", frag_reassembled, "datagrams reassembled"),
	SG_SRC_FIELD("frag_timed_out", frag_timed_out, "fragments lost: datagram timed out"),
	SG_SRC_FIELD("frag_no_space", frag_no_space, "fragments lost: reassembly table full"),
	SG_SRC_FIELD("frag_bad", frag_bad, "fragments lost: overlapping or bad offsets"),
	SG_SRC_FIELD("frag_duplicates", frag_duplicates, "fragments duplicated (dropped)"),
	SG_SRC_FIELD("frag_no_mbuf", frag_no_mbuf, "fragments lost: reassembly pool empty"),
	SG_SRC_FIELD("frag_too_big", frag_too_big, "datagrams lost: over 64 KiB"),
	SG_SRC_FIELD("tcp_segments", drops[SG_DROP_TCP_STREAMED], "TCP segments with data"),
	SG_SRC_FIELD("tcp_flows", tcp_flows, "TCP flows opened"),
	SG_SRC_FIELD("tcp_flows_evicted", tcp_flows_evicted, "TCP flows evicted (table full)"),
	SG_SRC_FIELD("tcp_flows_expired", tcp_flows_expired, "TCP flows expired (idle)"),
	SG_SRC_FIELD("tcp_flows_reused", tcp_flows_reused, "TCP flows ended by a new SYN"),
	SG_SRC_FIELD("tcp_out_of_order", tcp_out_of_order, "TCP segments held out of order"),
	SG_SRC_FIELD("tcp_retransmitted", tcp_retransmitted, "TCP segments already seen"),
	SG_SRC_FIELD("tcp_gaps", tcp_gaps, "TCP holes skipped"),
	SG_SRC_FIELD("tcp_gap_bytes", tcp_gap_bytes, "TCP bytes never seen"),
	SG_SRC_FIELD("tcp_resyncs", tcp_resyncs, "TCP re-synchronisations"),
	SG_SRC_FIELD("tcp_resync_bytes", tcp_resync_bytes, "TCP bytes skipped to a start line"),
	SG_SRC_FIELD("tcp_no_buffer", tcp_no_buffer, "TCP data lost: stream buffers empty"),
	SG_SRC_FIELD("tcp_out_of_window", tcp_out_of_window, "TCP segments beyond a buffer"),
	SG_SRC_FIELD("tcp_oversize", tcp_oversize, "SIP messages over a stream buffer"),
	SG_SRC_FIELD("decap_vxlan", decap_vxlan, "frames out of VXLAN"),
	SG_SRC_FIELD("decap_gre", decap_gre, "frames out of GRE"),
	SG_SRC_FIELD("decap_erspan", decap_erspan, "frames out of ERSPAN"),
	SG_SRC_FIELD("decap_ipip", decap_ipip, "frames out of IP in IP"),
	SG_SRC_FIELD("decap_pptp", decap_pptp, "frames out of PPTP (GRE v1, PPP)"),
	SG_SRC_FIELD("decap_too_deep", drops[SG_DROP_TOO_DEEP], "frames nested too deep"),
	SG_SRC_FIELD("steered_out", steered_out, "tunnelled frames steered to another worker"),
	SG_SRC_FIELD("steered_in", steered_in, "tunnelled frames steered from another worker"),
	SG_SRC_FIELD("steer_full", steer_full, "frames not steered: steering ring full"),
	SG_SRC_FIELD("hep_accepted", hep_accepted, "HEP packets accepted"),
	SG_SRC_FIELD("hep_refused_agent", hep_refused_agent, "HEP refused: agent not allowed"),
	SG_SRC_FIELD("hep_refused_auth", hep_refused_auth, "HEP refused: wrong auth key"),
	SG_SRC_FIELD("hep_bad", hep_bad, "HEP malformed"),
	SG_SRC_FIELD("hep_not_sip", hep_not_sip, "HEP not carrying SIP"),
	SG_SRC_FIELD("hep_compressed", hep_compressed, "HEP compressed (not inflated)"),
};
#undef SG_SRC_FIELD
#define SG_SOURCE_FIELDS (sizeof(sg_source_fields) / sizeof(sg_source_fields[0]))

static inline uint64_t
sg_source_field_get(const struct sg_source_counters *s, unsigned int i)
{
	uint64_t v;

	memcpy(&v, (const char *)s + sg_source_fields[i].off, sizeof(v));
	return v;
}

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

/*
 * Multi-process objects. The dataplane (primary) creates them; the control
 * plane (secondary) looks them up by these names. A lookup failure means
 * the dataplane is not running (or runs with another --file-prefix).
 */
#define SG_SHM_NAME "sg_shm" /* memzone: struct sg_shm */
/*
 * File in the EAL runtime directory (/var/run/dpdk/PREFIX/) that exists
 * while the dataplane is up and serving: a secondary that attaches before
 * the primary's ports exist would fail inside EAL, so ctrl waits for it.
 */
#define SG_READY_FILE "sipguard.ready"
#define SG_RING_PUB_FMT "sg_pub_%u" /* per worker, SP/SC: struct sg_pub * */
#define SG_RING_EVT_FMT "sg_evt_%u" /* per worker, SP/SC: struct sg_event * */
#define SG_POOL_PUB "sg_pub_pool"   /* mempool of struct sg_pub */
#define SG_POOL_EVT "sg_evt_pool"   /* mempool of struct sg_event */
#define SG_MAX_WORKERS 16
#define SG_MAX_PORTS 8
#define SG_SHM_MAGIC 0x53475348u /* "SGSH" */
#define SG_SHM_VERSION 8
#define SG_CALL_ID_MAX 96 /* Call-ID bytes kept in an event */

/*
 * One publication: a worker's cumulative counters for one trunk. Counters
 * never reset, so a reader that missed publications (ring full, a control
 * plane restart) is exact again with the next one.
 */
struct sg_pub {
	uint32_t worker;  /* 0..n_workers-1 */
	uint32_t trunk;	  /* 0..SG_MAX_TRUNKS (SG_UNMATCHED) */
	uint64_t seq;	  /* per worker, strictly increasing */
	uint64_t time_ns; /* packet time every packet counted came before (wall clock) */
	struct sg_trunk_counters c;
};

/* A final 5xx/6xx answer to an INVITE, with what the carrier said. */
struct sg_event {
	uint64_t time_ns; /* packet time, wall clock */
	uint32_t trunk;
	uint16_t status;
	uint8_t reason_proto; /* enum dp_reason_proto */
	uint8_t oc_algo;      /* enum dp_oc_algo */
	int32_t retry_after;  /* seconds, -1 absent */
	int32_t reason_cause; /* -1 absent */
	int32_t oc;	      /* -1 absent */
	int32_t oc_validity;  /* ms, -1 absent */
	uint64_t oc_seq_us;
	uint16_t call_id_len;
	char call_id[SG_CALL_ID_MAX];
	/*
	 * What the carrier's words say (5xx/6xx answers; an oc-only event
	 * from a 1xx/2xx is unclassified): enum sg_diag_class, and 1 + the
	 * index of the deciding rule in the config's `diagnosis` list (0
	 * when none matched, so a zeroed event says "no rule").
	 */
	uint8_t diag_class;
	uint16_t diag_rule;
};

/* dp_diag_classify's rule index when no rule matched */
#define SG_DIAG_NO_RULE 0xffff

/* ---- traces of failed calls (dataplane/dp_trace.h, ctrl/ctl_trace.h) ---- */
#define SG_RING_TRC_FMT "sg_trc_%u" /* per worker, SP/SC: struct sg_trace_frame * */
#define SG_POOL_TRC "sg_trc_pool"   /* mempool of struct sg_trace_frame + frame bytes */

/* What the worker read from a recorded message: the ladder needs no parser. */
struct sg_trace_meta {
	uint8_t src[16]; /* network order; IPv4 in the first 4 */
	uint8_t dst[16];
	uint16_t sport; /* host order */
	uint16_t dport;
	uint8_t family; /* 4 or 6 */
	uint8_t is_request;
	uint8_t method; /* enum sg_method (requests) */
	uint8_t cseq_method;
	uint16_t status;      /* responses */
	uint8_t reason_proto; /* enum dp_reason_proto */
	uint8_t pad;
	uint32_t cseq;
	int32_t retry_after;  /* seconds, -1 absent */
	int32_t reason_cause; /* -1 absent */
};

#define SG_TRACE_FIRST 0x1  /* the first frame of a call handed over */
#define SG_TRACE_LINGER 0x2 /* seen after the hand-over (ACK, retransmissions) */
/*
 * A fragment or TCP segment carrying part of a message that another frame
 * completed: written to the trace (tshark reassembles from it) but not
 * drawn on the ladder, which shows the message at the frame completing it.
 */
#define SG_TRACE_PART 0x4

/*
 * One recorded frame of a sampled failed call, handed to sipguard-ctrl.
 * `call` names the call across its frames (worker << 48 | number), so
 * frames that linger after the hand-over join it; cap_len bytes of the
 * frame follow the struct (the pool's element size bounds them).
 */
struct sg_trace_frame {
	uint64_t call;
	uint64_t time_us;   /* the frame's time, wall clock: a capture's own, or its poll's */
	uint64_t failed_ms; /* packet time of the failure the call was sampled at */
	uint32_t trunk;
	uint32_t orig_len;
	uint32_t cap_len;
	uint16_t linktype; /* pcap LINKTYPE_* of data */
	uint8_t flags;	   /* SG_TRACE_* */
	uint8_t pad;
	uint16_t call_id_len;
	uint16_t pad2;
	struct sg_trace_meta meta;
	char call_id[SG_CALL_ID_MAX];
	uint8_t data[];
};

/* Flight recorder and hand-over counters of one worker. */
struct sg_trace_stats {
	uint64_t recorded;    /* frames written into the recorder */
	uint64_t overwritten; /* frames pushed out by newer ones */
	uint64_t unframed;    /* messages whose frames are not held (a TCP segment in fragments) */
	uint64_t sampled;     /* failed calls handed over */
	uint64_t suppressed;  /* failed calls over the per-trunk sample rate */
	uint64_t ring_full;   /* failed calls not handed over: ring or pool full */
	uint64_t frames_out;  /* frames handed over, lingering ones included */
	uint64_t linger_frames;	 /* of which seen after the hand-over */
	uint64_t linger_lost;	 /* lingering frames dropped: ring or pool full */
	uint64_t linger_evicted; /* sampled calls that stopped lingering early: table full */
	uint64_t empty;		 /* failed calls with no frame recorded (wrapped) */
	uint64_t held;		 /* fragments and TCP segments recorded for their message */
	uint64_t claimed;	 /* of which claimed by the message they carry */
	uint64_t copied; /* frames ending one message and starting the next: copied for the first */
	uint64_t unclaimed;	/* held frames overwritten before any message claimed them */
	uint64_t index_evicted; /* Call-IDs (or flows) whose chain a full index set dropped */
};

/* Written by one worker only; read by anyone. */
struct sg_worker_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t busy_cycles; /* cycles spent on non-empty bursts */
	uint64_t total_cycles;
	uint64_t pubs;		/* publications sent */
	uint64_t pub_ring_full; /* skipped: ring full (next one catches up) */
	uint64_t pub_pool_empty;
	uint64_t events;
	uint64_t evt_ring_full; /* events dropped */
	uint64_t evt_pool_empty;
	uint64_t retrans_evictions;
	uint64_t dialog_evictions;
	/*
	 * The trunk table this worker counts with (sg_shm.trunks_gen) and
	 * how many frames it had taken when it first used it: the frame
	 * where a reload took effect on this worker's queue.
	 */
	uint64_t trunks_gen;
	uint64_t trunks_from_packet;
	/*
	 * The worker's packet-time clock (epoch ms, 0 before the first
	 * slot): every packet before it is counted, and its publications and
	 * events are in the rings. Written with release order after them.
	 */
	uint64_t clock_ms;
	struct sg_source_counters src; /* the worker's source counters */
	struct sg_trace_stats trace;   /* flight recorder (dp_trace.h) */
} __attribute__((aligned(64)));

struct sg_port_stats {
	char name[64];
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_missed;
	uint64_t rx_errors;
	uint64_t rx_nombuf;
};

/*
 * A counter slot's state. Counters are indexed by slot; a trunk keeps its
 * slot across reloads (by name), a removed trunk's slot keeps its totals
 * and is not given to another trunk (dataplane/dp_reload.h).
 */
enum sg_slot_state {
	SG_SLOT_FREE = 0,    /* never used */
	SG_SLOT_ACTIVE = 1,  /* a configured trunk */
	SG_SLOT_REMOVED = 2, /* a trunk a reload removed: totals only */
};

#define SG_RELOAD_PATH_MAX 512
#define SG_RELOAD_ERROR_MAX 512

struct sg_shm {
	uint32_t magic;
	uint32_t version;
	uint64_t start_time_ns; /* wall clock at dataplane start */
	uint64_t tsc_hz;
	volatile uint64_t ctrl_generation; /* bumped by ctrl: republish all */
	volatile uint64_t housekeeping_ns; /* last port stats update */
	volatile uint32_t stopped;	   /* set after the last publication */
	uint32_t n_workers;
	uint32_t n_ports;
	uint32_t n_trunks; /* counter slots in use (configured and removed) */
	uint32_t traces;   /* 1: failed calls are handed over (SG_RING_TRC_FMT) */
	uint32_t worker_lcore[SG_MAX_WORKERS];
	uint16_t worker_port[SG_MAX_WORKERS];
	uint16_t worker_queue[SG_MAX_WORKERS];
	char trunk_name[SG_MAX_TRUNKS][SG_TRUNK_NAME_MAX];
	uint32_t trunk_cps[SG_MAX_TRUNKS];
	uint32_t trunk_max_concurrent[SG_MAX_TRUNKS];
	uint8_t trunk_state[SG_MAX_TRUNKS]; /* enum sg_slot_state */
	/*
	 * The slot table above is rewritten by a reload under this sequence
	 * (odd while writing); trunks_gen counts the reloads applied.
	 */
	volatile uint32_t trunks_seq;
	volatile uint64_t trunks_gen;
	/*
	 * Reload requests from the control plane: it writes reload_path and
	 * bumps reload_req; the dataplane answers with reload_status (0 or an
	 * errno), reload_error, then sets reload_done to the request.
	 */
	volatile uint64_t reload_req;
	volatile uint64_t reload_done;
	volatile int32_t reload_status;
	char reload_path[SG_RELOAD_PATH_MAX];
	char reload_error[SG_RELOAD_ERROR_MAX];
	struct sg_port_stats ports[SG_MAX_PORTS];
	struct sg_worker_stats workers[SG_MAX_WORKERS];
};

#endif /* SG_SHARED_H */

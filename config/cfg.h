/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader: reads a libconfig file into a plain struct, checking every
 * key for type and range. Unknown keys and sections are errors. Errors are
 * one line: "FILE:LINE: KEY: BAD VALUE: why". No EAL: unit tests and the
 * fuzzer call it directly.
 */
#ifndef CFG_H
#define CFG_H

#include <stddef.h>
#include <stdint.h>

#include "sg_shared.h"

struct cfg_prefix {
	uint8_t family;	  /* 4 or 6 */
	uint8_t depth;	  /* prefix length */
	uint8_t addr[16]; /* network order, host bits zero */
};

struct cfg_trunk {
	char name[SG_TRUNK_NAME_MAX];
	struct cfg_prefix prefixes[SG_MAX_PREFIXES];
	uint32_t n_prefixes;
	uint16_t port;			   /* 0: any port */
	uint32_t cps;			   /* agreed calls per second */
	uint32_t max_concurrent;	   /* agreed concurrent calls */
	char account[SG_TRUNK_NAME_MAX];   /* fleet account sharing the budget, "": own budget */
	char diagnosis[SG_TRUNK_NAME_MAX]; /* rule set; "": "default" */
};

/*
 * Diagnosis rules (dataplane/dp_diag.h): what a carrier's own words in a
 * final 4xx-6xx answer to an INVITE say about its cause.
 */
#define CFG_MAX_DIAG_RULES 256
#define CFG_DIAG_DEFAULT_SET "default"
#define CFG_DIAG_STATUS_FIELD "status"

struct cfg_diag_rule {
	char name[48];
	char set[SG_TRUNK_NAME_MAX]; /* rule set the rule belongs to */
	uint32_t cls;		     /* index in sg_diag_rule_class_names */
	char field[48];		     /* "" or "status": status line; else a header name */
	char pattern[256];	     /* Hyperscan (PCRE subset) expression */
	uint32_t caseless;	     /* HS_FLAG_CASELESS */
	uint32_t dotall;	     /* HS_FLAG_DOTALL */
	uint32_t line;		     /* line of `pattern` in the file */
};

struct cfg_dataplane {
	uint16_t sip_ports[SG_MAX_SIP_PORTS];
	uint32_t n_sip_ports;
	uint32_t retrans_entries;  /* retransmission table size per lcore */
	uint32_t retrans_window_s; /* how long a message is remembered */
	uint32_t mbufs;		   /* mbuf pool size */
	uint32_t mbuf_size;	   /* data room of each mbuf */
	uint32_t burst;		   /* rx burst size */
	uint32_t rx_desc;	   /* RX descriptors per queue */
	uint32_t ring_size;	   /* publication/event ring slots per worker */
	uint32_t steer_ring;	   /* inner-flow steering ring slots, 0 off */
	uint32_t publish_ms;	   /* counter publication interval */
	uint32_t dialog_entries;   /* dialog table size per lcore */
	uint32_t dialog_timeout_s; /* a dialog with no BYE closes after this */
	uint32_t parser;	   /* enum sg_parser: SIP extractor engine */
	char lcores[128];	   /* EAL --lcores map; the first is the main lcore */
	char file_prefix[64];	   /* EAL --file-prefix shared with sipguard-ctrl */
};

/* A port of the live dataplane: any DPDK device, PCI or virtual. */
struct cfg_port {
	char devargs[256]; /* "net_af_packet0,iface=eth1", "0000:03:00.0" */
	uint32_t rxq;	   /* RX queues, one worker lcore each */
};

/* The control plane process (sipguard-ctrl). */
struct cfg_ctrl {
	char socket[108]; /* unix socket of the control API */
	uint32_t cpu;	  /* CPU the control plane runs on */
};

/* Prometheus exposition of sipguard-ctrl (ctrl/ctl_metrics.h). */
struct cfg_metrics {
	char listen[64]; /* "ADDR:PORT", "[V6]:PORT"; "" or "off": none */
};

/*
 * Rate-limit policy (ctrl/ctl_policy.c); every value has a default and is
 * documented in config/README.md.
 */
struct cfg_policy {
	uint32_t window_s;	  /* burst detection window */
	uint32_t burst_min_503;	  /* at least this many 503s in the window */
	uint32_t burst_min_share; /* and at least this % of INVITE finals */
	uint32_t peak_window_s;	  /* "recent peak" of the attempt rate */
	uint32_t near_peak_pct;	  /* rate >= this % of the recent peak: over-limit */
	uint32_t low_rate_pct;	  /* rate <= this % of agreed, not rising: trouble */
	uint32_t backoff_base_s;  /* first pause */
	uint32_t backoff_max_s;	  /* cap of the doubling pause */
	uint32_t beta_pct;	  /* throttle to this % of the onset rate */
	uint32_t alpha_cps;	  /* additive increase per step */
	uint32_t increase_interval_s;
	uint32_t abate_share;	     /* % 503 share under which the rate may rise */
	uint32_t hold_s;	     /* minimum time between changes (hysteresis) */
	uint32_t clear_after_s;	     /* quiet time before an alert is cleared */
	uint32_t proactive;	     /* 1: throttle above agreed CPS/concurrency */
	uint32_t honor_oc;	     /* 1: honour RFC 7339/7415 oc parameters */
	uint32_t ceiling_halflife_s; /* learned ceiling drifts back to agreed, 0 never */
	uint32_t probe_interval_s;   /* at the learned ceiling before one probe above */
	uint32_t probe_hold_s;	     /* a probe this long without 503s raises the ceiling */
	uint32_t ceiling_alert_pct;  /* alert while the ceiling is under this % of agreed */
};

/* Where directives go (ctrl/ctl_sink.c); empty strings disable a sink. */
struct cfg_directives {
	char file[256];	  /* JSON-lines file */
	char socket[108]; /* unix datagram socket subscribers register on */
	char exec[256];	  /* command run per directive (fields in env) */
	uint32_t exec_timeout_s;
	uint32_t retry_base_ms; /* first retry of a failed sink */
	uint32_t retry_max_ms;	/* backoff cap */
};

/* SIPp's remote control (-cp PORT): "cset rate N", "p" to pause/resume. */
struct cfg_sipp {
	char trunk[SG_TRUNK_NAME_MAX];
	char address[64];
	uint16_t port;
};

/* Kamailio pipelimit through JSON-RPC (jsonrpcs datagram transport). */
struct cfg_kamailio {
	char trunk[SG_TRUNK_NAME_MAX];
	char address[64];
	uint16_t port;
	char pipe[SG_TRUNK_NAME_MAX];
	char algorithm[16];
	uint32_t timer_interval; /* pipelimit's modparam: limits are per interval */
};

/* Mirror feeds: what the decoder may strip (dataplane/dp_decap.h). */
struct cfg_decap {
	uint32_t max_depth;  /* nested encapsulations, 0: none */
	uint16_t vxlan_port; /* 0: VXLAN off */
};

/* IP reassembly per worker (dataplane/dp_frag.h). */
struct cfg_fragments {
	uint32_t entries;    /* datagrams in reassembly */
	uint32_t timeout_ms; /* packet time a datagram may take */
};

/* TCP stream reassembly per worker (dataplane/dp_stream.h). */
struct cfg_streams {
	uint32_t flows;
	uint32_t buffers;
	uint32_t buffer_size;
	uint32_t idle_timeout_s;
	uint32_t gap_timeout_ms;
};

#define CFG_MAX_HEP_ALLOW 32

/* HEP collector (dataplane/dp_hep.h): who may feed the policy. */
struct cfg_hep {
	uint16_t port; /* UDP and TCP, 0: off */
	struct cfg_prefix allow[CFG_MAX_HEP_ALLOW];
	uint32_t n_allow;
	char auth_key[64]; /* "": no key required */
};

/* Fleet: edges sharing carrier budgets through Redis (ctrl/ctl_fleet.h). */
struct cfg_fleet {
	char redis[108];	      /* "host:port" or "/unix/socket", "": off */
	char user[64];		      /* ACL user, "": default user */
	char password[128];	      /* "": no AUTH */
	char name[SG_TRUNK_NAME_MAX]; /* key prefix, "" taken as "sipguard" */
	char edge[SG_TRUNK_NAME_MAX]; /* this edge's name */
	uint32_t ttl_s;		      /* an edge silent this long ages out */
	uint32_t round_timeout_ms;    /* bound of one Redis round */
	uint32_t min_share;	      /* CPS every live edge keeps */
	uint32_t expected_edges;      /* edges assumed before Redis ever answered */
	uint32_t headroom_pct;	      /* % of an account's CPS the shares leave unused */
};

/*
 * Traces of failed calls: the workers' flight recorders
 * (dataplane/dp_trace.h) and the pcapng files sipguard-ctrl writes
 * (ctrl/ctl_trace.h).
 */
struct cfg_traces {
	uint32_t recorder_frames; /* frame slots per worker, 0: off */
	uint32_t frame_bytes;	  /* bytes kept of a frame */
	uint32_t sample_per_s;	  /* failed calls traced per trunk per second */
	uint32_t linger_ms;	  /* late frames (ACK, retransmissions) still join */
	uint32_t ring;		  /* hand-over ring slots per worker */
	char dir[256];		  /* "": no trace files (live) */
	uint32_t file_size;	  /* bytes per file before it rotates */
	uint32_t files;		  /* files kept per trunk */
};

#define CFG_MAX_ADAPTERS 16

struct sg_config {
	struct cfg_dataplane dp;
	struct cfg_decap decap;
	struct cfg_fragments frag;
	struct cfg_streams streams;
	struct cfg_hep hep;
	struct cfg_ctrl ctrl;
	struct cfg_metrics metrics;
	struct cfg_policy policy;
	struct cfg_directives directives;
	struct cfg_fleet fleet;
	struct cfg_traces traces;
	struct cfg_sipp sipp[CFG_MAX_ADAPTERS];
	uint32_t n_sipp;
	struct cfg_kamailio kamailio[CFG_MAX_ADAPTERS];
	uint32_t n_kamailio;
	struct cfg_port ports[SG_MAX_PORTS];
	uint32_t n_ports;
	struct cfg_trunk trunks[SG_MAX_TRUNKS];
	uint32_t n_trunks;
	struct cfg_diag_rule diag[CFG_MAX_DIAG_RULES];
	uint32_t n_diag;
};

/*
 * Hyperscan flags of a diagnosis rule as the dataplane compiles it: the
 * rule's own (caseless, dot-all), plus multi-line so `^` and `$` anchor
 * at the ends of the field's value, and leftmost start of match so a
 * match is known to lie inside one value.
 */
unsigned int cfg_diag_hs_flags(const struct cfg_diag_rule *r);

/* Fill cfg with every default (what an empty file gives). */
void cfg_defaults(struct sg_config *cfg);

/*
 * Load and check a file. Returns 0, or -1 with one line (no newline) in
 * err. On error cfg is left with defaults only: never half-loaded.
 */
int cfg_load(const char *path, struct sg_config *cfg, char *err, size_t errlen);

/* Same, over a buffer; `name` stands for the file name in errors. */
int cfg_load_buffer(const char *text, size_t len, const char *name, struct sg_config *cfg,
	char *err, size_t errlen);

/* Parse "10.0.0.0/8" or "2001:db8::/32" (no prefix: a host route). */
int cfg_parse_prefix(const char *s, struct cfg_prefix *out);

struct sockaddr_storage;

/*
 * Parse a listen address: "127.0.0.1:9471" or "[::1]:9471" (numeric
 * address, port 1..65535) into *ss. Returns 1, 0 for "" or "off" (nothing
 * to listen on), or -1 when it is neither.
 */
int cfg_parse_listen(const char *s, struct sockaddr_storage *ss);

/*
 * Write a prefix as "10.0.0.0/8" or "2001:db8::/32". Returns the length
 * snprintf would have written, or -1 for a prefix of no known family.
 */
int cfg_format_prefix(const struct cfg_prefix *p, char *buf, size_t len);

/*
 * The loader is driven by the tables below: one row per key, one row per
 * section. A generic loop walks the settings of each group, rejects keys
 * not in the table, checks type and range and stores at `off`. Adding a
 * section is a struct in sg_config, a key table and a row in
 * cfg_sections[]. The reference (config/README.md, sipguard.conf(5),
 * `sipguard --config-reference`) is rendered from these rows by
 * config/cfg_ref.c: they are the one place a key is described.
 */
enum cfg_type {
	CFG_T_U16,	   /* integer min..max, stored as uint16_t */
	CFG_T_U32,	   /* integer min..max, stored as uint32_t */
	CFG_T_U16_LIST,	   /* [ integer, ... ], elements min..max, uint16_t[] */
	CFG_T_NAME,	   /* string of min..max chars of [A-Za-z0-9_.-] */
	CFG_T_PREFIX_LIST, /* [ "CIDR", ... ], struct cfg_prefix[] */
	CFG_T_STRING,	   /* string of min..max printable chars, no blanks or quotes */
	CFG_T_ENUM,	   /* one of the strings in choices, stored as its uint32_t index */
	CFG_T_TEXT,	   /* string of min..max printable ASCII chars, blanks allowed */
};

#define CFG_F_REQUIRED 0x1 /* no default: the key must be present */
#define CFG_F_UNIQUE 0x2   /* lists: no element may appear twice */
#define CFG_F_LISTEN 0x4   /* strings: a listen address (cfg_parse_listen) */

struct cfg_key {
	const char *name;
	enum cfg_type type;
	unsigned int flags;	    /* CFG_F_* */
	int64_t min, max;	    /* value range; for names, the length */
	int64_t def;		    /* default of a scalar */
	size_t off;		    /* offsetof the field in the section struct */
	size_t count_off;	    /* lists: offsetof the uint32_t count */
	uint32_t min_n, max_n;	    /* lists: how many elements */
	const uint32_t *def_list;   /* lists: default elements (n_def of them) */
	const char *def_str;	    /* default of a string */
	const char *const *choices; /* enums: the names, NULL-terminated */
	uint32_t n_def;
	/*
	 * What the key means, as the operator reads it in the reference:
	 * whole sentences allowed, `backquotes` around literals.
	 */
	const char *help;
};

struct cfg_ctx;
struct config_setting_t;

struct cfg_section {
	const char *name;
	const struct cfg_key *keys; /* ends with a NULL name; at most 64 */
	size_t off;		    /* offsetof the struct (or array) in sg_config */
	size_t size;		    /* size of that struct (of one element) */
	uint32_t max_n;		    /* 0: one group; else a list of <= max_n groups */
	size_t count_off;	    /* lists: offsetof the uint32_t count */
	const char *label_key;	    /* lists: key that names an element in errors */
	/*
	 * Checks across keys or elements, run after each group is stored;
	 * `idx` is the element index (0 for a plain group), `label` names
	 * the group in errors. Returns 0, or -1 with the error in ctx.
	 */
	int (*check)(struct cfg_ctx *ctx, const struct config_setting_t *setting,
		struct sg_config *cfg, uint32_t idx, const char *label);
	const char *help;
};

/* Every section, ending with a NULL name. */
extern const struct cfg_section cfg_sections[];

#endif /* CFG_H */

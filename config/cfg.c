/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader: turns a libconfig file into struct sg_config, or into one
 * line saying what is wrong and where. Every key lives in a table row with
 * its type, range, default and place in the struct; one generic loop walks
 * each group against its table, so a key cannot be parsed in one place and
 * documented or range-checked in another. Checks that span keys or trunks
 * (duplicate names, ambiguous prefixes) run per group through the section's
 * check hook. Nothing here touches EAL: tests and fuzzers call it directly.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>
#include <libconfig.h>

#include "cfg.h"

/* A config file is a few kilobytes; anything this big is a wrong path. */
#define CFG_FILE_MAX (1024 * 1024)
#define CFG_LABEL_MAX 192
#define CFG_VALUE_MAX 80  /* a bad value as text, before quoting */
#define CFG_VALUE_SHOW 64 /* bytes of it quoted in an error */
#define CFG_BIG_MAX 8
#define CFG_KEYS_MAX 64 /* keys per section: one bit each in a mask */

/*
 * libconfig 1.5 stores a decimal integer that does not fit an int with
 * atoi-like wrap-around (4295032832 loads as 65536) and wraps hex 64-bit
 * values too. So integers are screened before libconfig sees them: those
 * beyond int get an L suffix (libconfig then reads a 64-bit value), those
 * beyond 64 bits are replaced by the nearest 64-bit bound and remembered
 * here, so an error can still quote them as written.
 */
struct cfg_big {
	unsigned int line;
	char text[40];
};

struct cfg_ctx {
	const char *name; /* file name used in errors */
	char *err;
	size_t errlen;
	struct cfg_big big[CFG_BIG_MAX];
	unsigned int n_big;
	unsigned int *str_lines; /* line of each string value, in order */
	size_t n_str;
	size_t cap_str;
};

/* Bounded appender over the caller's error buffer. */
struct cfg_out {
	char *p;
	size_t len;
	size_t off;
};

/* Growing text buffer for the screened copy of the input. */
struct cfg_text {
	char *p;
	size_t len;
	size_t cap;
};

enum cfg_prefix_err {
	CFG_PFX_OK,
	CFG_PFX_EADDR, /* not an address */
	CFG_PFX_ENUM,  /* prefix length not a number */
	CFG_PFX_ELEN,  /* prefix length beyond the address */
	CFG_PFX_EHOST, /* bits set beyond the prefix length */
};

static int cfg_check_trunk(struct cfg_ctx *ctx, const config_setting_t *s, struct sg_config *cfg,
	uint32_t idx, const char *label);
static int cfg_check_diag(struct cfg_ctx *ctx, const config_setting_t *s, struct sg_config *cfg,
	uint32_t idx, const char *label);

/*
 * Row builders. Each checks at compile time that the field has the width
 * the type stores, and lists take their capacity from the array itself.
 */
#define CFG_FIELD_IS(st, field, size) \
	(0 * sizeof(char[sizeof(((st *)0)->field) == (size) ? 1 : -1]))
#define CFG_DIM(st, field) (sizeof(((st *)0)->field) / sizeof(((st *)0)->field[0]))

#define CFG_U16(st, key, field, lo, hi, dflt, fl, h)                                            \
	{                                                                                       \
		.name = key, .type = CFG_T_U16, .flags = fl, .min = lo, .max = hi, .def = dflt, \
		.off = offsetof(st, field) + CFG_FIELD_IS(st, field, 2), .help = h              \
	}
#define CFG_U32(st, key, field, lo, hi, dflt, fl, h)                                            \
	{                                                                                       \
		.name = key, .type = CFG_T_U32, .flags = fl, .min = lo, .max = hi, .def = dflt, \
		.off = offsetof(st, field) + CFG_FIELD_IS(st, field, 4), .help = h              \
	}
#define CFG_U16_LIST(st, key, field, count, lo, hi, min_elems, fl, dflt, h)                        \
	{                                                                                          \
		.name = key, .type = CFG_T_U16_LIST, .flags = fl, .min = lo, .max = hi,            \
		.off = offsetof(st, field) + CFG_FIELD_IS(st, field[0], 2),                        \
		.count_off = offsetof(st, count) + CFG_FIELD_IS(st, count, 4), .min_n = min_elems, \
		.max_n = CFG_DIM(st, field), .def_list = dflt,                                     \
		.n_def = sizeof(dflt) / sizeof((dflt)[0]), .help = h                               \
	}
#define CFG_NAME(st, key, field, fl, h)                                                    \
	{                                                                                  \
		.name = key, .type = CFG_T_NAME, .flags = fl, .min = 1,                    \
		.max = sizeof(((st *)0)->field) - 1, .off = offsetof(st, field), .help = h \
	}
#define CFG_STRING(st, key, field, lo, dflt, fl, h)                                               \
	{                                                                                         \
		.name = key, .type = CFG_T_STRING, .flags = fl, .min = lo,                        \
		.max = sizeof(((st *)0)->field) - 1, .off = offsetof(st, field), .def_str = dflt, \
		.help = h                                                                         \
	}
#define CFG_PREFIX_LIST(st, key, field, count, min_elems, fl, h)                                   \
	{                                                                                          \
		.name = key, .type = CFG_T_PREFIX_LIST, .flags = fl,                               \
		.off = offsetof(st, field) +                                                       \
			CFG_FIELD_IS(st, field[0], sizeof(struct cfg_prefix)),                     \
		.count_off = offsetof(st, count) + CFG_FIELD_IS(st, count, 4), .min_n = min_elems, \
		.max_n = CFG_DIM(st, field), .help = h                                             \
	}

#define CFG_TEXT(st, key, field, lo, fl, h)                                                \
	{                                                                                  \
		.name = key, .type = CFG_T_TEXT, .flags = fl, .min = lo,                   \
		.max = sizeof(((st *)0)->field) - 1, .off = offsetof(st, field), .help = h \
	}

#define CFG_ENUM(st, key, field, names, dflt, fl, h)                                       \
	{                                                                                  \
		.name = key, .type = CFG_T_ENUM, .flags = fl, .def = dflt,                 \
		.off = offsetof(st, field) + CFG_FIELD_IS(st, field, 4), .choices = names, \
		.help = h                                                                  \
	}

/*
 * `help` is the key's whole documentation: config/cfg_ref.c renders it into
 * config/README.md, sipguard.conf(5) and `sipguard --config-reference`.
 * Text in backquotes is a literal (a value, a key, a counter, a command).
 */
static const uint32_t cfg_default_sip_ports[] = { 5060, 5080 };

static const struct cfg_key cfg_dataplane_keys[] = {
	CFG_U16_LIST(struct cfg_dataplane, "sip_ports", sip_ports, n_sip_ports, 1, 65535, 1,
		CFG_F_UNIQUE, cfg_default_sip_ports, "UDP/TCP ports that carry SIP"),
	CFG_U32(struct cfg_dataplane, "retrans_entries", retrans_entries, 1024, 16777216, 65536, 0,
		"retransmission table entries per lcore"),
	CFG_U32(struct cfg_dataplane, "retrans_window", retrans_window_s, 1, 3600, 32, 0,
		"seconds a message is remembered to detect its retransmissions"),
	CFG_U32(struct cfg_dataplane, "mbufs", mbufs, 1023, 1048575, 8191, 0,
		"mbuf pool size (2^n - 1 is the most memory-efficient)"),
	CFG_U32(struct cfg_dataplane, "mbuf_size", mbuf_size, 2048, 65000, 2048, 0,
		"data room of each mbuf, bytes: the largest frame a port delivers in one mbuf. "
		"A NIC with a 1500-byte MTU needs no more. `net_af_packet` with several queues "
		"reassembles IPv4 in the kernel before its fanout (PACKET_FANOUT_FLAG_DEFRAG) "
		"and cuts frames longer than its `framesz` (at most this + 32), so there set "
		"e.g. 4096 with `framesz=4096` and a `blocksz` that is a multiple of it; a cut "
		"frame is counted as truncated"),
	CFG_U32(struct cfg_dataplane, "burst", burst, 1, 512, 64, 0, "packets per rx burst"),
	CFG_U32(struct cfg_dataplane, "rx_desc", rx_desc, 64, 16384, 1024, 0,
		"RX descriptors per queue (live)"),
	CFG_U32(struct cfg_dataplane, "ring_size", ring_size, 64, 1048576, 4096, 0,
		"slots of each worker's publication and event rings (live)"),
	CFG_U32(struct cfg_dataplane, "steer_ring", steer_ring, 0, 65536, 1024, 0,
		"slots of each ring that hands a tunnelled frame (VXLAN, GRE, ERSPAN, IP in IP) "
		"to the worker owning its inner address pair, one ring per pair of workers "
		"(live, 2 or more workers). RSS hashes a mirror feed's outer headers, which "
		"split one inner TCP stream or dialog over workers; steering joins them again. "
		"A full ring is counted (`steer_full`) and the frame worked where it came in; "
		"0: no steering"),
	CFG_U32(struct cfg_dataplane, "publish_interval", publish_ms, 10, 10000, 100, 0,
		"milliseconds between counter publications to sipguard-ctrl (live)"),
	CFG_U32(struct cfg_dataplane, "dialog_entries", dialog_entries, 1024, 16777216, 65536, 0,
		"dialog (concurrent call) table entries per lcore"),
	CFG_U32(struct cfg_dataplane, "dialog_timeout", dialog_timeout_s, 10, 86400, 7200, 0,
		"seconds after which a dialog without BYE is closed"),
	CFG_STRING(struct cfg_dataplane, "lcores", lcores, 1, "0@0,1@1", 0,
		"EAL `--lcores` map of the live dataplane: the first lcore is the main one "
		"(housekeeping), then one worker lcore per RX queue of all ports, in port order"),
	CFG_STRING(struct cfg_dataplane, "file_prefix", file_prefix, 1, "sipguard", 0,
		"EAL `--file-prefix`; sipguard-ctrl attaches with the same one"),
	CFG_ENUM(struct cfg_dataplane, "parser", parser, sg_parser_names, SG_PARSER_LINEWALK, 0,
		"SIP extractor engine: the vector line walk, or one Hyperscan scan per header "
		"section; both give the same counts, the line walk at about half the cost per "
		"packet"),
	{ .name = NULL },
};

static const struct cfg_key cfg_decap_keys[] = {
	CFG_U32(struct cfg_decap, "max_depth", max_depth, 0, 8, 2, 0,
		"nested encapsulations stripped (VXLAN, GRE carrying Ethernet or IP, ERSPAN "
		"I/II/III, IPv4/IPv6 in IPv4/IPv6), each inside VLAN tags or not; a frame nested "
		"deeper is counted (`decap_too_deep`) and skipped; 0: none stripped (GRE and IP "
		"in IP are then not UDP/TCP)"),
	CFG_U16(struct cfg_decap, "vxlan_port", vxlan_port, 0, 65535, 4789, 0,
		"UDP destination port of VXLAN; 0: VXLAN off"),
	{ .name = NULL },
};

static const struct cfg_key cfg_fragments_keys[] = {
	CFG_U32(struct cfg_fragments, "entries", entries, 64, 262144, 4096, 0,
		"datagrams in reassembly per worker at once; a full table refuses new ones "
		"(`frag_no_space`). Memory: about 5.6 KiB per entry (2 mbufs of 2 KiB, the "
		"table, the duplicate filter), 22 MiB at 4096"),
	CFG_U32(struct cfg_fragments, "timeout", timeout_ms, 10, 60000, 2000, 0,
		"milliseconds of packet time a datagram may take to complete; then its "
		"fragments are freed (`frag_timed_out`)"),
	{ .name = NULL },
};

static const struct cfg_key cfg_streams_keys[] = {
	CFG_U32(struct cfg_streams, "flows", flows, 64, 4194304, 16384, 0,
		"TCP flows tracked per worker (both directions each); a full table evicts the "
		"least recently used (`tcp_flows_evicted`)"),
	CFG_U32(struct cfg_streams, "buffers", buffers, 16, 1048576, 1024, 0,
		"stream buffers per worker; a direction holds one only while it has bytes it "
		"cannot hand on yet (a message cut by a segment end, or segments ahead of a "
		"hole)"),
	CFG_U32(struct cfg_streams, "buffer_size", buffer_size, 2048, 262144, 16384, 0,
		"bytes per buffer: the largest message kept, and how far ahead of a hole "
		"segments are held"),
	CFG_U32(struct cfg_streams, "idle_timeout", idle_timeout_s, 1, 86400, 300, 0,
		"seconds without a segment before a flow is freed"),
	CFG_U32(struct cfg_streams, "gap_timeout", gap_timeout_ms, 10, 600000, 1000, 0,
		"milliseconds of packet time a hole is waited for (a segment lost before the "
		"tap is retransmitted later) before it is skipped and the stream "
		"re-synchronises at the next start line"),
	{ .name = NULL },
};

static const struct cfg_key cfg_hep_keys[] = {
	CFG_U16(struct cfg_hep, "port", port, 0, 65535, 9060, 0,
		"UDP and TCP destination port HEP arrives on; 0: off"),
	CFG_PREFIX_LIST(struct cfg_hep, "allow", allow, n_allow, 0, CFG_F_UNIQUE,
		"agents (source addresses of the HEP packets) whose HEP is accepted; empty: "
		"none (everything on the port is counted as refused)"),
	CFG_STRING(struct cfg_hep, "auth_key", auth_key, 0, "", 0,
		"if set, a HEPv3 packet must carry it in chunk 14 (HEPv2 cannot: refused); "
		"empty: no key required"),
	{ .name = NULL },
};

static const struct cfg_key cfg_ctrl_keys[] = {
	CFG_STRING(struct cfg_ctrl, "socket", socket, 1, "/run/sipguard/ctrl.sock", 0,
		"unix socket of the control API (mode 0660; the directory is created)"),
	CFG_U32(struct cfg_ctrl, "cpu", cpu, 0, 1023, 0, 0,
		"CPU sipguard-ctrl runs on: keep it off the workers' CPUs"),
	{ .name = NULL },
};

static const struct cfg_key cfg_metrics_keys[] = {
	CFG_STRING(struct cfg_metrics, "listen", listen, 0, "127.0.0.1:9471", CFG_F_LISTEN,
		"address and port sipguard-ctrl serves Prometheus `/metrics` on over HTTP "
		"(`ADDR:PORT` or `[IPV6]:PORT`, a numeric address); empty or `off`: no "
		"metrics"),
	{ .name = NULL },
};

#define P(key, field, lo, hi, dflt, h) CFG_U32(struct cfg_policy, key, field, lo, hi, dflt, 0, h)
static const struct cfg_key cfg_policy_keys[] = {
	P("window", window_s, 1, 60, 5, "seconds over which a 503 burst is judged"),
	P("burst_min_503", burst_min_503, 1, 100000, 5, "503s in the window that make a burst"),
	P("burst_min_share", burst_min_share, 1, 100, 20,
		"% of INVITE final answers in the window that must be 503 for a burst"),
	P("peak_window", peak_window_s, 5, 600, 60,
		"seconds of the recent attempt-rate peak; also how long a trunk must stay normal "
		"before the backoff starts again from `backoff_base`"),
	P("near_peak_pct", near_peak_pct, 1, 100, 80,
		"a burst at >= this % of the recent peak rate, reached by climbing within the "
		"peak window, is over-limit"),
	P("low_rate_pct", low_rate_pct, 1, 100, 50,
		"a burst at <= this % of the agreed CPS, not rising, is carrier trouble"),
	P("backoff_base", backoff_base_s, 1, 600, 2, "first pause, seconds"),
	P("backoff_max", backoff_max_s, 1, 3600, 60,
		"longest pause, seconds (the pause doubles per repeated burst)"),
	P("beta", beta_pct, 1, 100, 70,
		"after a pause, throttle to this % of the attempt rate at the burst's onset"),
	P("alpha", alpha_cps, 1, 10000, 1, "CPS added per increase step"),
	P("increase_interval", increase_interval_s, 1, 600, 2, "seconds between increase steps"),
	P("abate_share", abate_share, 0, 100, 2,
		"% 503 share under which the limit may rise (0: only with no 503 at all)"),
	P("hold", hold_s, 0, 600, 3,
		"seconds a limit holds before it may rise or be lowered by concurrency (bursts "
		"and `oc` act at once)"),
	P("clear_after", clear_after_s, 1, 3600, 30,
		"seconds without a burst before an alert is cleared"),
	P("proactive", proactive, 0, 1, 1,
		"1: throttle above the agreed CPS or concurrency before any 503"),
	P("honor_oc", honor_oc, 0, 1, 1,
		"1: honour RFC 7339/7415 `oc` in the top Via of the carrier's answers"),
	P("ceiling_halflife", ceiling_halflife_s, 0, 86400, 900,
		"seconds in which the learned carrier ceiling gives back half its distance to the "
		"agreed CPS (0: never), so a raised limit is found again"),
	P("probe_interval", probe_interval_s, 5, 3600, 60,
		"seconds at the rate just under the learned ceiling before one step above it is "
		"tried"),
	P("probe_hold", probe_hold_s, 1, 600, 10,
		"seconds a probe must run without 503s before the learned ceiling rises to it"),
	P("ceiling_alert_pct", ceiling_alert_pct, 1, 100, 90,
		"a `ceiling` alert while the learned ceiling stays under this % of the agreed CPS"),
	{ .name = NULL },
};
#undef P

static const struct cfg_key cfg_directives_keys[] = {
	CFG_STRING(struct cfg_directives, "file", file, 0, "", 0,
		"JSON-lines file: one directive per line, appended; empty: none"),
	CFG_STRING(struct cfg_directives, "socket", socket, 0, "", 0,
		"unix datagram socket that subscribers register on; empty: none"),
	CFG_STRING(struct cfg_directives, "exec", exec, 0, "", 0,
		"program run once per directive (a path; no shell), the directive's fields in "
		"its `SG_*` environment; empty: none"),
	CFG_U32(struct cfg_directives, "exec_timeout", exec_timeout_s, 1, 300, 5, 0,
		"seconds before a running `exec` is killed (SIGKILL)"),
	CFG_U32(struct cfg_directives, "retry_base", retry_base_ms, 10, 60000, 200, 0,
		"ms before a failed delivery is retried; doubles each time"),
	CFG_U32(struct cfg_directives, "retry_max", retry_max_ms, 10, 600000, 10000, 0,
		"longest wait between retries, ms"),
	{ .name = NULL },
};

static const struct cfg_key cfg_fleet_keys[] = {
	CFG_STRING(struct cfg_fleet, "redis", redis, 0, "", 0,
		"Redis server the edges share budgets through: `host:port` (numeric IPv4, "
		"`[IPv6]:port`, or a host name) or the absolute path of a unix socket; empty: "
		"no fleet, every trunk keeps its own budget. No TLS: Debian 12's hiredis (0.14) "
		"has none, so keep Redis on a unix socket or a private network"),
	CFG_STRING(struct cfg_fleet, "user", user, 0, "", 0,
		"Redis ACL user (`AUTH user password`); empty: the default user"),
	CFG_STRING(struct cfg_fleet, "password", password, 0, "", 0,
		"Redis password (`requirepass` or the ACL user's); empty: no `AUTH`"),
	CFG_NAME(struct cfg_fleet, "name", name, 0,
		"the fleet: first part of every key, so several fleets can share one Redis; "
		"absent: `sipguard`"),
	CFG_NAME(struct cfg_fleet, "edge", edge, 0,
		"this edge's name, unique in the fleet; absent: the host name"),
	CFG_U32(struct cfg_fleet, "ttl", ttl_s, 2, 300, 5, 0,
		"seconds after its last write before an edge is aged out and its share goes to "
		"the others (also the TTL of its keys)"),
	CFG_U32(struct cfg_fleet, "round_timeout", round_timeout_ms, 50, 5000, 300, 0,
		"milliseconds one Redis round (connect, or write and read) may take; the control "
		"loop never waits for it, a round that overruns counts as failed"),
	CFG_U32(struct cfg_fleet, "min_share", min_share, 0, 100000, 1, 0,
		"CPS of an account every live edge keeps whatever its demand, so an edge that "
		"starts can ramp (less when the limit cannot give it to every edge)"),
	CFG_U32(struct cfg_fleet, "expected_edges", expected_edges, 1, 64, 1, 0,
		"edges assumed before Redis has ever answered: the static share until then is "
		"the account's budget (its `cps` less `headroom`) divided by this"),
	CFG_U32(struct cfg_fleet, "headroom", headroom_pct, 0, 50, 5, 0,
		"percent of an account's CPS the edges' shares leave unused (rounded so that at "
		"least this much is left, yet at least 1 CPS given out), so that the jitter of "
		"dialers and of the carrier's counting window does not meet the limit; the same "
		"on every edge. 0 shares out the whole limit"),
	{ .name = NULL },
};

static const struct cfg_key cfg_sipp_keys[] = {
	CFG_NAME(struct cfg_sipp, "trunk", trunk, CFG_F_REQUIRED,
		"trunk whose dialer this is; must be in `trunks`"),
	CFG_STRING(struct cfg_sipp, "address", address, 1, "127.0.0.1", 0,
		"numeric IPv4 or IPv6 address of SIPp's control socket (`-ci`)"),
	CFG_U16(struct cfg_sipp, "port", port, 1, 65535, 8888, 0, "SIPp's `-cp` port"),
	{ .name = NULL },
};

static const struct cfg_key cfg_kamailio_keys[] = {
	CFG_NAME(struct cfg_kamailio, "trunk", trunk, CFG_F_REQUIRED,
		"trunk the pipe limits; must be in `trunks`"),
	CFG_STRING(struct cfg_kamailio, "address", address, 1, "127.0.0.1", 0,
		"numeric IPv4 or IPv6 address of the `jsonrpcs` datagram socket"),
	CFG_U16(struct cfg_kamailio, "port", port, 1, 65535, 8090, 0, "its UDP port"),
	CFG_NAME(struct cfg_kamailio, "pipe", pipe, CFG_F_REQUIRED, "pipelimit pipe name"),
	CFG_STRING(struct cfg_kamailio, "algorithm", algorithm, 1, "TAILDROP", 0,
		"algorithm passed to `pl.set_pipe`; `TAILDROP` or `RED` take a rate as limit"),
	CFG_U32(struct cfg_kamailio, "timer_interval", timer_interval, 1, 3600, 10, 0,
		"that Kamailio's pipelimit `timer_interval` modparam, seconds (Kamailio's default "
		"is 10): a pipe's limit counts requests per interval, so the adapter sets the "
		"directive's CPS times this"),
	{ .name = NULL },
};

static const struct cfg_key cfg_port_keys[] = {
	CFG_STRING(struct cfg_port, "devargs", devargs, 1, "", CFG_F_REQUIRED,
		"a DPDK device: a PCI address (`0000:03:00.0`, only those are probed) or a vdev "
		"with its arguments (`net_af_packet0,iface=eth1,qpairs=2`, "
		"`net_af_xdp0,iface=eth1`, `net_pcap0,rx_iface=eth1`, `net_ring0`)"),
	CFG_U32(struct cfg_port, "rx_queues", rxq, 1, SG_MAX_WORKERS, 1, 0,
		"RX queues with symmetric RSS (both directions of a dialog on one queue), each "
		"polled by its own worker lcore"),
	{ .name = NULL },
};

static const struct cfg_key cfg_trunk_keys[] = {
	CFG_NAME(struct cfg_trunk, "name", name, CFG_F_REQUIRED,
		"unique across trunks: the trunk's name in counters, reports and the CLI"),
	CFG_PREFIX_LIST(struct cfg_trunk, "prefixes", prefixes, n_prefixes, 1,
		CFG_F_REQUIRED | CFG_F_UNIQUE, "peer addresses of the carrier"),
	CFG_U16(struct cfg_trunk, "port", port, 1, 65535, 0, 0,
		"the carrier's SIP port; absent: any port"),
	CFG_U32(struct cfg_trunk, "cps", cps, 1, 100000, 0, CFG_F_REQUIRED,
		"agreed calls per second"),
	CFG_U32(struct cfg_trunk, "max_concurrent", max_concurrent, 1, 10000000, 0, CFG_F_REQUIRED,
		"agreed concurrent calls"),
	CFG_NAME(struct cfg_trunk, "account", account, 0,
		"fleet account whose `cps` and `max_concurrent` this trunk shares with the other "
		"edges (same values on every edge); without `fleet.redis`, or absent, the "
		"trunk's budget is its own"),
	CFG_NAME(struct cfg_trunk, "diagnosis", diagnosis, 0,
		"rule set (a `set` of the `diagnosis` rules) that reads this trunk's answers, "
		"tried before the `default` set; absent: the `default` set alone"),
	{ .name = NULL },
};

static const struct cfg_key cfg_diag_keys[] = {
	CFG_NAME(struct cfg_diag_rule, "name", name, CFG_F_REQUIRED,
		"unique across rules: names the rule in errors and events"),
	CFG_NAME(struct cfg_diag_rule, "set", set, 0,
		"rule set the rule belongs to; trunks name their set with `diagnosis`; absent: "
		"`default`, which every trunk uses after its own set"),
	CFG_ENUM(struct cfg_diag_rule, "class", cls, sg_diag_rule_class_names, 0, CFG_F_REQUIRED,
		"what a match says: a call-rate ceiling, a concurrent-call ceiling, the far end "
		"overloaded, no route (or circuit, or network) to the destination, planned "
		"maintenance, or another cause"),
	CFG_NAME(struct cfg_diag_rule, "field", field, 0,
		"where the rule looks: `status`, the status line (`SIP/2.0 503 CPS Limit "
		"Exceeded`); any other value names a header (caseless: `Reason`, `Warning`, "
		"`X-Reason`) and the rule reads each of its values, folded lines joined with a "
		"space; absent: `status`"),
	CFG_TEXT(struct cfg_diag_rule, "pattern", pattern, 1, CFG_F_REQUIRED,
		"Hyperscan expression (the PCRE subset Hyperscan takes; no back-references or "
		"look-arounds) searched in the field's value; `^` and `$` anchor at the value's "
		"ends, and a match never spans two values. Checked when the config loads"),
	CFG_U32(struct cfg_diag_rule, "caseless", caseless, 0, 1, 1, 0,
		"1: letters match in either case (`HS_FLAG_CASELESS`)"),
	CFG_U32(struct cfg_diag_rule, "dotall", dotall, 0, 1, 0, 0,
		"1: `.` matches any byte (`HS_FLAG_DOTALL`)"),
	{ .name = NULL },
};

static const struct cfg_key cfg_traces_keys[] = {
	CFG_U32(struct cfg_traces, "recorder_frames", recorder_frames, 0, 4194304, 16384, 0,
		"frames each worker keeps in its flight recorder (a ring of fixed slots indexed "
		"by Call-ID); the oldest is overwritten (`overwritten`). A failed call is traced "
		"only while its INVITE is still in it. Memory per worker, the frames rounded up "
		"to a power of two: each takes `frame_bytes` + 104 rounded up to 64, plus 32 of "
		"index (26.5 MiB at the defaults); 0: no recorder, no traces"),
	CFG_U32(struct cfg_traces, "frame_bytes", frame_bytes, 128, 16384, 1536, 0,
		"bytes kept of each frame (the snap length); longer frames are cut and the "
		"trace says so (captured shorter than on the wire)"),
	CFG_U32(struct cfg_traces, "sample_per_second", sample_per_s, 0, 100000, 5, 0,
		"failed calls (final 5xx/6xx to an INVITE) traced per trunk per second of "
		"packet time, the first ones of each second, by each worker; the rest are "
		"counted (`suppressed`). 0: none"),
	CFG_U32(struct cfg_traces, "linger", linger_ms, 0, 60000, 4000, 0,
		"milliseconds of packet time after a traced failure during which further "
		"frames of its Call-ID (the ACK, retransmissions of the failure) still join "
		"its trace"),
	CFG_U32(struct cfg_traces, "ring", ring, 64, 1048576, 2048, 0,
		"frames each worker's hand-over ring to sipguard-ctrl holds (live); a call "
		"that does not fit is counted (`ring_full`), never waited for"),
	CFG_STRING(struct cfg_traces, "dir", dir, 0, "", 0,
		"directory sipguard-ctrl writes the pcapng traces to, one series of files per "
		"trunk (`TRUNK-NNNNNN.pcapng`, created if missing); empty: no traces (live). "
		"The offline mode writes to `--traces DIR` instead"),
	CFG_U32(struct cfg_traces, "file_size", file_size, 65536, 1073741824, 16777216, 0,
		"bytes a trace file grows to before the next one is started"),
	CFG_U32(struct cfg_traces, "files", files, 1, 10000, 8, 0,
		"trace files kept per trunk; the oldest is deleted first, so a trunk's traces "
		"take at most `files` x `file_size` bytes of disk"),
	{ .name = NULL },
};

const struct cfg_section cfg_sections[] = {
	{
		.name = "dataplane",
		.keys = cfg_dataplane_keys,
		.off = offsetof(struct sg_config, dp),
		.size = sizeof(struct cfg_dataplane),
		.help = "packet path sizing and the SIP ports",
	},
	{
		.name = "decap",
		.keys = cfg_decap_keys,
		.off = offsetof(struct sg_config, decap),
		.size = sizeof(struct cfg_decap),
		.help = "mirror feeds: encapsulations stripped to the inner frame",
	},
	{
		.name = "fragments",
		.keys = cfg_fragments_keys,
		.off = offsetof(struct sg_config, frag),
		.size = sizeof(struct cfg_fragments),
		.help = "IP reassembly per worker",
	},
	{
		.name = "streams",
		.keys = cfg_streams_keys,
		.off = offsetof(struct sg_config, streams),
		.size = sizeof(struct cfg_streams),
		.help = "TCP stream reassembly per worker",
	},
	{
		.name = "hep",
		.keys = cfg_hep_keys,
		.off = offsetof(struct sg_config, hep),
		.size = sizeof(struct cfg_hep),
		.help = "HEP collector: which agents may feed captures in",
	},
	{
		.name = "ctrl",
		.keys = cfg_ctrl_keys,
		.off = offsetof(struct sg_config, ctrl),
		.size = sizeof(struct cfg_ctrl),
		.help = "the control plane process and its API socket",
	},
	{
		.name = "metrics",
		.keys = cfg_metrics_keys,
		.off = offsetof(struct sg_config, metrics),
		.size = sizeof(struct cfg_metrics),
		.help = "Prometheus metrics of the control plane",
	},
	{
		.name = "policy",
		.keys = cfg_policy_keys,
		.off = offsetof(struct sg_config, policy),
		.size = sizeof(struct cfg_policy),
		.help = "when 503s back a trunk's dialers off, and how",
	},
	{
		.name = "directives",
		.keys = cfg_directives_keys,
		.off = offsetof(struct sg_config, directives),
		.size = sizeof(struct cfg_directives),
		.help = "where rate-limit directives go",
	},
	{
		.name = "fleet",
		.keys = cfg_fleet_keys,
		.off = offsetof(struct sg_config, fleet),
		.size = sizeof(struct cfg_fleet),
		.help = "edges that share carrier budgets through Redis",
	},
	{
		.name = "traces",
		.keys = cfg_traces_keys,
		.off = offsetof(struct sg_config, traces),
		.size = sizeof(struct cfg_traces),
		.help = "pcapng traces of sampled failed calls, from each worker's flight recorder",
	},
	{
		.name = "sipp",
		.keys = cfg_sipp_keys,
		.off = offsetof(struct sg_config, sipp),
		.size = sizeof(struct cfg_sipp),
		.max_n = CFG_DIM(struct sg_config, sipp),
		.count_off = offsetof(struct sg_config, n_sipp),
		.label_key = "trunk",
		.help = "SIPp dialers driven through their remote-control port",
	},
	{
		.name = "kamailio",
		.keys = cfg_kamailio_keys,
		.off = offsetof(struct sg_config, kamailio),
		.size = sizeof(struct cfg_kamailio),
		.max_n = CFG_DIM(struct sg_config, kamailio),
		.count_off = offsetof(struct sg_config, n_kamailio),
		.label_key = "trunk",
		.help = "Kamailio pipelimit pipes driven through JSON-RPC",
	},
	{
		.name = "ports",
		.keys = cfg_port_keys,
		.off = offsetof(struct sg_config, ports),
		.size = sizeof(struct cfg_port),
		.max_n = CFG_DIM(struct sg_config, ports),
		.count_off = offsetof(struct sg_config, n_ports),
		.label_key = "devargs",
		.help = "live mode's ports; none for offline (--pcap) use",
	},
	{
		.name = "diagnosis",
		.keys = cfg_diag_keys,
		.off = offsetof(struct sg_config, diag),
		.size = sizeof(struct cfg_diag_rule),
		.max_n = CFG_DIM(struct sg_config, diag),
		.count_off = offsetof(struct sg_config, n_diag),
		.label_key = "name",
		.check = cfg_check_diag,
		.help = "rules that read the carrier's words in its final 4xx-6xx answers to an "
			"INVITE (status line, `Reason`, `Warning`, other headers) and say what "
			"the answer means; a trunk's own `set` first, then `default`; the first "
			"rule in file order that matches decides; a reload compiles edited rules "
			"again",
	},
	{
		.name = "trunks",
		.keys = cfg_trunk_keys,
		.off = offsetof(struct sg_config, trunks),
		.size = sizeof(struct cfg_trunk),
		.max_n = CFG_DIM(struct sg_config, trunks),
		.count_off = offsetof(struct sg_config, n_trunks),
		.label_key = "name",
		.check = cfg_check_trunk,
		.help = "carrier trunks: which packets belong to whom",
	},
	{ .name = NULL },
};

static void
cfg_out_vprintf(struct cfg_out *o, const char *fmt, va_list ap)
{
	int n;

	if (o->p == NULL || o->off + 1 >= o->len)
		return;
	n = vsnprintf(o->p + o->off, o->len - o->off, fmt, ap);
	if (n < 0)
		return;
	o->off += (size_t)n;
	if (o->off >= o->len)
		o->off = o->len - 1;
}

static void __attribute__((format(printf, 2, 3)))
cfg_out_printf(struct cfg_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_out_vprintf(o, fmt, ap);
	va_end(ap);
}

/* Quote a value so that whatever it holds, the error stays one line. */
static void
cfg_out_quoted(struct cfg_out *o, const char *v)
{
	size_t i;

	cfg_out_printf(o, "\"");
	for (i = 0; v[i] != '\0'; i++) {
		unsigned char c = (unsigned char)v[i];

		if (i == CFG_VALUE_SHOW) {
			cfg_out_printf(o, "...");
			break;
		}
		if (c == '"' || c == '\\')
			cfg_out_printf(o, "\\%c", c);
		else if (c == '\n')
			cfg_out_printf(o, "\\n");
		else if (c == '\t')
			cfg_out_printf(o, "\\t");
		else if (c < 0x20 || c == 0x7f)
			cfg_out_printf(o, "\\x%02x", c);
		else
			cfg_out_printf(o, "%c", c);
	}
	cfg_out_printf(o, "\"");
}

/*
 * Write the one error line "NAME:LINE: KEY: "VALUE": why". line 0, key
 * NULL and value NULL each drop their part. Always returns -1.
 */
static int __attribute__((format(printf, 5, 6))) cfg_error(struct cfg_ctx *ctx, unsigned int line,
	const char *key, const char *value, const char *fmt, ...)
{
	struct cfg_out o = { .p = ctx->err, .len = ctx->err == NULL ? 0 : ctx->errlen };
	va_list ap;

	if (o.len > 0)
		o.p[0] = '\0';
	cfg_out_printf(&o, "%s:", ctx->name);
	if (line > 0)
		cfg_out_printf(&o, "%u:", line);
	if (key != NULL)
		cfg_out_printf(&o, " %s:", key);
	if (value != NULL) {
		cfg_out_printf(&o, " ");
		cfg_out_quoted(&o, value);
		cfg_out_printf(&o, ":");
	}
	cfg_out_printf(&o, " ");
	va_start(ap, fmt);
	cfg_out_vprintf(&o, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Labels name a key in errors ("trunks[1] (carrier-b).cps"); one that does
 * not fit is cut short, which still points at the key.
 */
static void __attribute__((format(printf, 3, 4)))
cfg_label(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static const char *
cfg_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

/* A setting's value as written, near enough to find it in the file. */
static void
cfg_value_text(const struct cfg_ctx *ctx, const config_setting_t *s, char *buf, size_t len)
{
	long long v;
	unsigned int i;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		snprintf(buf, len, "%d", config_setting_get_int(s));
		return;
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		if (v == LLONG_MAX || v == LLONG_MIN) {
			for (i = 0; i < ctx->n_big; i++) {
				if (ctx->big[i].line == config_setting_source_line(s)) {
					snprintf(buf, len, "%s", ctx->big[i].text);
					return;
				}
			}
		}
		snprintf(buf, len, "%lld", v);
		return;
	case CONFIG_TYPE_FLOAT:
		snprintf(buf, len, "%g", config_setting_get_float(s));
		return;
	case CONFIG_TYPE_STRING:
		snprintf(buf, len, "%s", config_setting_get_string(s));
		return;
	case CONFIG_TYPE_BOOL:
		snprintf(buf, len, "%s", config_setting_get_bool(s) ? "true" : "false");
		return;
	case CONFIG_TYPE_GROUP:
		snprintf(buf, len, "{...}");
		return;
	case CONFIG_TYPE_ARRAY:
		snprintf(buf, len, "[...]");
		return;
	case CONFIG_TYPE_LIST:
		snprintf(buf, len, "(...)");
		return;
	}
	snprintf(buf, len, "?");
}

static int
cfg_type_error(
	struct cfg_ctx *ctx, const config_setting_t *s, const char *label, const char *expected)
{
	char v[CFG_VALUE_MAX];

	cfg_value_text(ctx, s, v, sizeof(v));
	return cfg_error(ctx, config_setting_source_line(s), label, v, "expected %s, got %s",
		expected, cfg_type_name(config_setting_type(s)));
}

static int
cfg_get_int(struct cfg_ctx *ctx, const config_setting_t *s, const char *label, int64_t min,
	int64_t max, int64_t *out)
{
	char v[CFG_VALUE_MAX];
	int64_t x;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		x = config_setting_get_int(s);
		break;
	case CONFIG_TYPE_INT64:
		x = config_setting_get_int64(s);
		break;
	default:
		return cfg_type_error(ctx, s, label, "an integer");
	}
	if (x < min || x > max) {
		cfg_value_text(ctx, s, v, sizeof(v));
		return cfg_error(ctx, config_setting_source_line(s), label, v,
			"out of range %" PRId64 "..%" PRId64, min, max);
	}
	*out = x;
	return 0;
}

/* Accept [ ... ] and ( ... ) alike, with min_n..max_n elements. */
static int
cfg_get_list(struct cfg_ctx *ctx, const config_setting_t *s, const char *label, uint32_t min_n,
	uint32_t max_n, uint32_t *n)
{
	int type = config_setting_type(s);
	char v[CFG_VALUE_MAX];
	unsigned int len;

	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
		return cfg_type_error(ctx, s, label, "a list");
	len = (unsigned int)config_setting_length(s);
	snprintf(v, sizeof(v), "%u entries", len);
	if (len > max_n)
		return cfg_error(ctx, config_setting_source_line(config_setting_get_elem(s, max_n)),
			label, v, "too many, at most %" PRIu32, max_n);
	if (len < min_n)
		return cfg_error(ctx, config_setting_source_line(s), label, v,
			"needs at least %" PRIu32, min_n);
	*n = len;
	return 0;
}

/* Spelled out: isalnum() would follow the locale. */
static bool
cfg_is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '.' || c == '-';
}

/*
 * Names appear in counters, JSON and the CLI, so they stay plain: returns
 * 0, 1 for a bad length, 2 for a bad character (its index in *bad).
 */
static int
cfg_name_check(const char *s, const struct cfg_key *k, size_t *bad)
{
	size_t len = strlen(s), i;

	if ((int64_t)len < k->min || (int64_t)len > k->max)
		return 1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (k->type == CFG_T_TEXT ? (c < 0x20 || c >= 0x7f)
				: k->type == CFG_T_STRING
				? (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
				: !cfg_is_name_char(c)) {
			*bad = i;
			return 2;
		}
	}
	return 0;
}

static enum cfg_prefix_err
cfg_prefix_parse(const char *s, struct cfg_prefix *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned int max, depth, i;
	bool host = false;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		return CFG_PFX_EADDR;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (memchr(addr, ':', alen) != NULL) {
		if (inet_pton(AF_INET6, addr, out->addr) != 1)
			return CFG_PFX_EADDR;
		out->family = 6;
		max = 128;
	} else {
		if (inet_pton(AF_INET, addr, out->addr) != 1)
			return CFG_PFX_EADDR;
		out->family = 4;
		max = 32;
	}
	depth = max;
	if (slash != NULL) {
		const char *d = slash + 1;
		size_t dlen = strlen(d);

		/* Digits only: strtoul alone would take " 8", "+8" and "8x". */
		if (dlen == 0 || strspn(d, "0123456789") != dlen)
			return CFG_PFX_ENUM;
		if (dlen > 3)
			return CFG_PFX_ELEN;
		depth = (unsigned int)strtoul(d, NULL, 10);
		if (depth > max)
			return CFG_PFX_ELEN;
	}
	out->depth = (uint8_t)depth;
	for (i = 0; i < max / 8; i++) {
		int keep = (int)depth - (int)i * 8;
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff00 >> keep);

		if ((out->addr[i] & ~mask) != 0)
			host = true;
		out->addr[i] &= mask;
	}
	return host ? CFG_PFX_EHOST : CFG_PFX_OK;
}

/*
 * On error returns -1; for host bits set, out still holds the network the
 * user probably meant.
 */
int
cfg_parse_prefix(const char *s, struct cfg_prefix *out)
{
	if (s == NULL || out == NULL)
		return -1;
	return cfg_prefix_parse(s, out) == CFG_PFX_OK ? 0 : -1;
}

int
cfg_format_prefix(const struct cfg_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int af;

	if (p->family == 4)
		af = AF_INET;
	else if (p->family == 6)
		af = AF_INET6;
	else
		return -1;
	if (inet_ntop(af, p->addr, a, sizeof(a)) == NULL)
		return -1;
	return snprintf(buf, len, "%s/%u", a, p->depth);
}

static bool
cfg_prefix_equal(const struct cfg_prefix *a, const struct cfg_prefix *b)
{
	return a->family == b->family && a->depth == b->depth &&
		memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static int
cfg_load_prefix(
	struct cfg_ctx *ctx, const config_setting_t *e, const char *label, struct cfg_prefix *out)
{
	unsigned int line = config_setting_source_line(e);
	char net[INET6_ADDRSTRLEN + 8];
	const char *s;

	if (config_setting_type(e) != CONFIG_TYPE_STRING)
		return cfg_type_error(ctx, e, label, "a string");
	s = config_setting_get_string(e);
	switch (cfg_prefix_parse(s, out)) {
	case CFG_PFX_OK:
		return 0;
	case CFG_PFX_EADDR:
		return cfg_error(ctx, line, label, s, "not an IPv4 or IPv6 prefix");
	case CFG_PFX_ENUM:
		return cfg_error(ctx, line, label, s, "prefix length not a number 0..%u",
			out->family == 4 ? 32 : 128);
	case CFG_PFX_ELEN:
		return cfg_error(ctx, line, label, s, "prefix length out of range 0..%u",
			out->family == 4 ? 32 : 128);
	case CFG_PFX_EHOST:
		if (cfg_format_prefix(out, net, sizeof(net)) < 0)
			snprintf(net, sizeof(net), "?");
		return cfg_error(ctx, line, label, s, "host bits set, did you mean %s", net);
	}
	return cfg_error(ctx, line, label, s, "not an IPv4 or IPv6 prefix");
}

/* Check one setting against its row and store it in base. */
static int
cfg_load_key(struct cfg_ctx *ctx, const config_setting_t *s, const struct cfg_key *k, void *base,
	const char *label)
{
	char *field = (char *)base + k->off;
	char elabel[CFG_LABEL_MAX];
	char vtext[CFG_VALUE_MAX];
	const config_setting_t *e;
	uint32_t n, i, j;
	const char *str;
	unsigned char c;
	size_t bad = 0;
	struct sockaddr_storage ss;
	int64_t v;

	switch (k->type) {
	case CFG_T_U16:
	case CFG_T_U32:
		if (cfg_get_int(ctx, s, label, k->min, k->max, &v) < 0)
			return -1;
		if (k->type == CFG_T_U16)
			*(uint16_t *)field = (uint16_t)v;
		else
			*(uint32_t *)field = (uint32_t)v;
		return 0;
	case CFG_T_U16_LIST: {
		uint16_t *a = (uint16_t *)field;

		if (cfg_get_list(ctx, s, label, k->min_n, k->max_n, &n) < 0)
			return -1;
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(s, i);
			cfg_label(elabel, sizeof(elabel), "%s[%" PRIu32 "]", label, i);
			if (cfg_get_int(ctx, e, elabel, k->min, k->max, &v) < 0)
				return -1;
			a[i] = (uint16_t)v;
			for (j = 0; (k->flags & CFG_F_UNIQUE) && j < i; j++) {
				if (a[j] != a[i])
					continue;
				snprintf(vtext, sizeof(vtext), "%" PRIu16, a[i]);
				return cfg_error(ctx, config_setting_source_line(e), elabel, vtext,
					"duplicate of %s[%" PRIu32 "]", label, j);
			}
		}
		*(uint32_t *)((char *)base + k->count_off) = n;
		return 0;
	}
	case CFG_T_NAME:
	case CFG_T_STRING:
	case CFG_T_TEXT:
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return cfg_type_error(ctx, s, label, "a string");
		str = config_setting_get_string(s);
		switch (cfg_name_check(str, k, &bad)) {
		case 1:
			return cfg_error(ctx, config_setting_source_line(s), label, str,
				"must be %" PRId64 "..%" PRId64 " characters", k->min, k->max);
		case 2:
			c = (unsigned char)str[bad];
			return cfg_error(ctx, config_setting_source_line(s), label, str,
				k->type == CFG_T_TEXT
					? "bad character 0x%02x at %zu (printable ASCII only)"
					: k->type == CFG_T_STRING
					? (c > 0x20 && c < 0x7f ? "bad character '%c' at %zu (no "
								  "blanks or quotes)"
								: "bad character 0x%02x at %zu (no "
								  "blanks or quotes)")
					: c >= 0x20 && c < 0x7f
					? "bad character '%c' at %zu, use [A-Za-z0-9_.-]"
					: "bad character 0x%02x at %zu, use [A-Za-z0-9_.-]",
				c, bad + 1);
		}
		if ((k->flags & CFG_F_LISTEN) && cfg_parse_listen(str, &ss) < 0)
			return cfg_error(ctx, config_setting_source_line(s), label, str,
				"not ADDR:PORT or [IPV6]:PORT (numeric address, port 1..65535), "
				"nor \"off\"");
		memcpy(field, str, strlen(str) + 1);
		return 0;
	case CFG_T_ENUM: {
		char list[160];
		size_t off = 0;

		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return cfg_type_error(ctx, s, label, "a string");
		str = config_setting_get_string(s);
		for (i = 0; k->choices[i] != NULL; i++) {
			if (strcmp(str, k->choices[i]) == 0) {
				*(uint32_t *)field = i;
				return 0;
			}
			off += (size_t)snprintf(list + off,
				off < sizeof(list) ? sizeof(list) - off : 0, "%s\"%s\"",
				i == 0 ? "" : ", ", k->choices[i]);
			if (off >= sizeof(list))
				off = sizeof(list) - 1;
		}
		return cfg_error(
			ctx, config_setting_source_line(s), label, str, "must be one of %s", list);
	}
	case CFG_T_PREFIX_LIST: {
		struct cfg_prefix *a = (struct cfg_prefix *)field;

		if (cfg_get_list(ctx, s, label, k->min_n, k->max_n, &n) < 0)
			return -1;
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(s, i);
			cfg_label(elabel, sizeof(elabel), "%s[%" PRIu32 "]", label, i);
			if (cfg_load_prefix(ctx, e, elabel, &a[i]) < 0)
				return -1;
			for (j = 0; (k->flags & CFG_F_UNIQUE) && j < i; j++) {
				if (cfg_prefix_equal(&a[j], &a[i]))
					return cfg_error(ctx, config_setting_source_line(e), elabel,
						config_setting_get_string(e),
						"duplicate of %s[%" PRIu32 "]", label, j);
			}
		}
		*(uint32_t *)((char *)base + k->count_off) = n;
		return 0;
	}
	}
	return cfg_error(ctx, config_setting_source_line(s), label, NULL, "unsupported key type");
}

static const struct cfg_key *
cfg_key_find(const struct cfg_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++) {
		if (strcmp(keys->name, name) == 0)
			return keys;
	}
	return NULL;
}

static void
cfg_key_defaults(const struct cfg_key *keys, void *base)
{
	const struct cfg_key *k;
	uint32_t i;

	for (k = keys; k->name != NULL; k++) {
		char *field = (char *)base + k->off;

		switch (k->type) {
		case CFG_T_U16:
			*(uint16_t *)field = (uint16_t)k->def;
			break;
		case CFG_T_U32:
		case CFG_T_ENUM:
			*(uint32_t *)field = (uint32_t)k->def;
			break;
		case CFG_T_U16_LIST:
			for (i = 0; i < k->n_def && i < k->max_n; i++)
				((uint16_t *)field)[i] = (uint16_t)k->def_list[i];
			*(uint32_t *)((char *)base + k->count_off) = i;
			break;
		case CFG_T_STRING:
			snprintf(field, (size_t)k->max + 1, "%s", k->def_str);
			break;
		case CFG_T_NAME:
		case CFG_T_TEXT:
		case CFG_T_PREFIX_LIST:
			/* Empty: the caller zeroed the struct. */
			break;
		}
	}
}

/*
 * The generic loop: every setting of grp must be a row of keys; each is
 * checked and stored; then every required row must have been seen.
 */
static int
cfg_load_group(struct cfg_ctx *ctx, const config_setting_t *grp, const struct cfg_key *keys,
	void *base, const char *label)
{
	char klabel[CFG_LABEL_MAX];
	const struct cfg_key *k;
	const config_setting_t *s;
	uint64_t seen = 0;
	unsigned int i, n;

	n = (unsigned int)config_setting_length(grp);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(grp, i);
		cfg_label(klabel, sizeof(klabel), "%s.%s", label, config_setting_name(s));
		k = cfg_key_find(keys, config_setting_name(s));
		if (k == NULL)
			return cfg_error(
				ctx, config_setting_source_line(s), klabel, NULL, "unknown key");
		seen |= UINT64_C(1) << (k - keys);
		if (cfg_load_key(ctx, s, k, base, klabel) < 0)
			return -1;
	}
	for (k = keys; k->name != NULL; k++) {
		if ((k->flags & CFG_F_REQUIRED) && !(seen & (UINT64_C(1) << (k - keys)))) {
			cfg_label(klabel, sizeof(klabel), "%s.%s", label, k->name);
			return cfg_error(ctx, config_setting_source_line(grp), klabel, NULL,
				"required key missing");
		}
	}
	return 0;
}

/* "trunks[3]", or "trunks[3] (carrier-a)" once the element has a valid name. */
static void
cfg_elem_label(const struct cfg_section *sec, const config_setting_t *e, uint32_t idx, char *buf,
	size_t len)
{
	const config_setting_t *m = NULL;
	const struct cfg_key *k = NULL;
	size_t bad;

	if (sec->label_key != NULL && config_setting_type(e) == CONFIG_TYPE_GROUP) {
		m = config_setting_get_member(e, sec->label_key);
		k = cfg_key_find(sec->keys, sec->label_key);
	}
	if (m != NULL && k != NULL && config_setting_type(m) == CONFIG_TYPE_STRING &&
		cfg_name_check(config_setting_get_string(m), k, &bad) == 0)
		cfg_label(buf, len, "%s[%" PRIu32 "] (%s)", sec->name, idx,
			config_setting_get_string(m));
	else
		cfg_label(buf, len, "%s[%" PRIu32 "]", sec->name, idx);
}

static int
cfg_load_section(struct cfg_ctx *ctx, const config_setting_t *s, const struct cfg_section *sec,
	struct sg_config *cfg)
{
	char label[CFG_LABEL_MAX];
	const config_setting_t *e;
	uint32_t *count;
	uint32_t n, i;
	char *base;

	if (sec->max_n == 0) {
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			return cfg_type_error(ctx, s, sec->name, "a group");
		base = (char *)cfg + sec->off;
		if (cfg_load_group(ctx, s, sec->keys, base, sec->name) < 0)
			return -1;
		return sec->check != NULL ? sec->check(ctx, s, cfg, 0, sec->name) : 0;
	}
	if (cfg_get_list(ctx, s, sec->name, 0, sec->max_n, &n) < 0)
		return -1;
	count = (uint32_t *)((char *)cfg + sec->count_off);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		cfg_elem_label(sec, e, i, label, sizeof(label));
		if (config_setting_type(e) != CONFIG_TYPE_GROUP)
			return cfg_type_error(ctx, e, label, "a group");
		base = (char *)cfg + sec->off + (size_t)i * sec->size;
		memset(base, 0, sec->size);
		cfg_key_defaults(sec->keys, base);
		if (cfg_load_group(ctx, e, sec->keys, base, label) < 0)
			return -1;
		/* Counted before the check, which compares with earlier elements. */
		*count = i + 1;
		if (sec->check != NULL && sec->check(ctx, e, cfg, i, label) < 0)
			return -1;
	}
	return 0;
}

/*
 * Two trunks with one name cannot be told apart in reports; two trunks
 * claiming the same prefix on the same port leave the lookup to chance.
 */
static int
cfg_check_trunk(struct cfg_ctx *ctx, const config_setting_t *s, struct sg_config *cfg, uint32_t idx,
	const char *label)
{
	const struct cfg_trunk *t = &cfg->trunks[idx], *o;
	const config_setting_t *m, *e;
	char klabel[CFG_LABEL_MAX];
	uint32_t j, p, q;

	for (j = 0; j < idx; j++) {
		if (strcmp(cfg->trunks[j].name, t->name) != 0)
			continue;
		m = config_setting_get_member(s, "name");
		cfg_label(klabel, sizeof(klabel), "%s.name", label);
		return cfg_error(ctx, config_setting_source_line(m), klabel, t->name,
			"duplicate name, also trunks[%" PRIu32 "]", j);
	}
	for (p = 0; p < t->n_prefixes; p++) {
		for (j = 0; j < idx; j++) {
			o = &cfg->trunks[j];
			if (o->port != t->port)
				continue;
			for (q = 0; q < o->n_prefixes; q++) {
				if (!cfg_prefix_equal(&o->prefixes[q], &t->prefixes[p]))
					continue;
				m = config_setting_get_member(s, "prefixes");
				e = config_setting_get_elem(m, p);
				cfg_label(klabel, sizeof(klabel), "%s.prefixes[%" PRIu32 "]", label,
					p);
				return cfg_error(ctx, config_setting_source_line(e), klabel,
					config_setting_get_string(e),
					"same prefix and port as trunks[%" PRIu32
					"] (%s), ambiguous",
					j, o->name);
			}
		}
	}
	return 0;
}

int
cfg_parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '\0' || strcmp(s, "off") == 0)
		return 0;
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return -1;
		h = s + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host) || !isdigit((unsigned char)colon[1]))
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (h == s) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
	}
	return 1;
}

/*
 * The fleet spans trunks: one edge holds one trunk per account (its
 * share is per account).
 */
static int
cfg_check_fleet(struct cfg_ctx *ctx, const config_setting_t *root, struct sg_config *cfg)
{
	const config_setting_t *tl = config_setting_get_member(root, "trunks");
	char klabel[CFG_LABEL_MAX];
	uint32_t i, j;

	for (i = 0; i < cfg->n_trunks; i++) {
		const struct cfg_trunk *t = &cfg->trunks[i];
		const config_setting_t *e = tl != NULL ? config_setting_get_elem(tl, i) : NULL;
		unsigned int line = e != NULL ? config_setting_source_line(e) : 0;

		if (t->account[0] == '\0')
			continue;
		cfg_label(klabel, sizeof(klabel), "trunks[%" PRIu32 "] (%s).account", i, t->name);
		for (j = 0; j < i; j++) {
			if (strcmp(cfg->trunks[j].account, t->account) == 0)
				return cfg_error(ctx, line, klabel, t->account,
					"also the account of trunks[%" PRIu32
					"] (%s): one trunk per account on an edge",
					j, cfg->trunks[j].name);
		}
	}
	return 0;
}

unsigned int
cfg_diag_hs_flags(const struct cfg_diag_rule *r)
{
	unsigned int f = HS_FLAG_MULTILINE | HS_FLAG_SOM_LEFTMOST;

	if (r->caseless)
		f |= HS_FLAG_CASELESS;
	if (r->dotall)
		f |= HS_FLAG_DOTALL;
	return f;
}

/*
 * A rule's pattern is checked here, with the flags the dataplane compiles
 * it with, so a bad one is a config error with its file and line; the
 * dataplane's compile of the whole set names the rule and line too.
 */
static int
cfg_check_diag(struct cfg_ctx *ctx, const config_setting_t *s, struct sg_config *cfg, uint32_t idx,
	const char *label)
{
	struct cfg_diag_rule *r = &cfg->diag[idx];
	const config_setting_t *m;
	char klabel[CFG_LABEL_MAX];
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *cerr = NULL;
	unsigned int line;
	uint32_t j;
	int bad;

	for (j = 0; j < idx; j++) {
		if (strcmp(cfg->diag[j].name, r->name) != 0)
			continue;
		m = config_setting_get_member(s, "name");
		cfg_label(klabel, sizeof(klabel), "%s.name", label);
		return cfg_error(ctx, config_setting_source_line(m), klabel, r->name,
			"duplicate name, also diagnosis[%" PRIu32 "]", j);
	}
	if (r->set[0] == '\0')
		snprintf(r->set, sizeof(r->set), "%s", CFG_DIAG_DEFAULT_SET);
	if (r->field[0] == '\0')
		snprintf(r->field, sizeof(r->field), "%s", CFG_DIAG_STATUS_FIELD);
	m = config_setting_get_member(s, "pattern");
	line = config_setting_source_line(m);
	r->line = line;
	cfg_label(klabel, sizeof(klabel), "%s.pattern", label);
	if (hs_expression_info(r->pattern, cfg_diag_hs_flags(r), &info, &cerr) != HS_SUCCESS) {
		char msg[160];

		snprintf(msg, sizeof(msg), "%s",
			cerr != NULL && cerr->message != NULL ? cerr->message : "not valid");
		hs_free_compile_error(cerr);
		return cfg_error(ctx, line, klabel, r->pattern, "Hyperscan: %s", msg);
	}
	bad = info->min_width == 0;
	free(info);
	if (bad)
		return cfg_error(ctx, line, klabel, r->pattern, "matches the empty string");
	return 0;
}

/* A trunk's rule set must have rules: a typo would leave it unread. */
static int
cfg_check_diag_sets(struct cfg_ctx *ctx, const config_setting_t *root, const struct sg_config *cfg)
{
	const config_setting_t *ts, *e, *m;
	char klabel[CFG_LABEL_MAX];
	uint32_t i, j;

	for (i = 0; i < cfg->n_trunks; i++) {
		const char *set = cfg->trunks[i].diagnosis;

		if (set[0] == '\0')
			continue;
		for (j = 0; j < cfg->n_diag; j++) {
			if (strcmp(cfg->diag[j].set, set) == 0)
				break;
		}
		if (j < cfg->n_diag)
			continue;
		ts = config_setting_get_member(root, "trunks");
		e = ts != NULL ? config_setting_get_elem(ts, i) : NULL;
		m = e != NULL ? config_setting_get_member(e, "diagnosis") : NULL;
		cfg_label(klabel, sizeof(klabel), "trunks[%" PRIu32 "] (%s).diagnosis", i,
			cfg->trunks[i].name);
		return cfg_error(ctx, m != NULL ? config_setting_source_line(m) : 0, klabel, set,
			"no diagnosis rule has this set");
	}
	return 0;
}

static int
cfg_load_root(struct cfg_ctx *ctx, const config_setting_t *root, struct sg_config *cfg)
{
	const struct cfg_section *sec;
	const config_setting_t *s;
	unsigned int i, n;

	n = (unsigned int)config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, i);
		for (sec = cfg_sections; sec->name != NULL; sec++) {
			if (strcmp(sec->name, config_setting_name(s)) == 0)
				break;
		}
		if (sec->name == NULL)
			return cfg_error(ctx, config_setting_source_line(s), config_setting_name(s),
				NULL, "unknown section");
		if (cfg_load_section(ctx, s, sec, cfg) < 0)
			return -1;
	}
	if (cfg_check_fleet(ctx, root, cfg) < 0)
		return -1;
	return cfg_check_diag_sets(ctx, root, cfg);
}

void
cfg_defaults(struct sg_config *cfg)
{
	const struct cfg_section *sec;

	memset(cfg, 0, sizeof(*cfg));
	for (sec = cfg_sections; sec->name != NULL; sec++) {
		if (sec->max_n == 0)
			cfg_key_defaults(sec->keys, (char *)cfg + sec->off);
	}
}

static int
cfg_text_put(struct cfg_text *t, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (t->cap - t->len < n + 1) {
		cap = t->cap == 0 ? 256 : t->cap;
		while (cap - t->len < n + 1)
			cap *= 2;
		p = realloc(t->p, cap);
		if (p == NULL)
			return -1;
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
	return 0;
}

/* libconfig's scanner is ASCII; so is the screening. */
static bool
cfg_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
cfg_number_start(const char *text, size_t i, size_t len)
{
	unsigned char c = (unsigned char)text[i];
	unsigned char d = i + 1 < len ? (unsigned char)text[i + 1] : '\0';

	if (isdigit(c))
		return true;
	if (c == '.')
		return isdigit(d);
	if (c == '-' || c == '+')
		return isdigit(d) || d == '.';
	return false;
}

/*
 * Copy one numeric literal starting at *i, widening or clamping integers
 * that libconfig would wrap (see struct cfg_big). Inside [ ] every integer
 * is widened, as libconfig refuses an array that mixes int and int64.
 */
static int
cfg_number(struct cfg_ctx *ctx, const char *text, size_t *ip, size_t len, unsigned int line,
	bool in_array, struct cfg_text *out)
{
	size_t i = *ip, start = i, body, end, k;
	bool neg = false, hex, digits = true, over = false;
	uint64_t v = 0, limit;
	unsigned int suffix = 0, d;
	const char *str;

	if (text[i] == '-' || text[i] == '+')
		neg = text[i++] == '-';
	body = i;
	hex = i + 1 < len && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X');
	while (i < len) {
		unsigned char c = (unsigned char)text[i];

		if (cfg_is_alpha(c) || isdigit(c) || c == '.')
			i++;
		else if ((c == '-' || c == '+') && !hex &&
			(text[i - 1] == 'e' || text[i - 1] == 'E'))
			i++;
		else
			break;
	}
	*ip = i;
	end = i;
	while (end > body && text[end - 1] == 'L' && suffix < 2) {
		end--;
		suffix++;
	}
	k = hex ? body + 2 : body;
	/* A signed hex literal is a libconfig syntax error: leave it be. */
	if (k == end || (hex && start != body))
		digits = false;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; digits && k < end; k++) {
		unsigned char c = (unsigned char)text[k];

		if (hex && isxdigit(c))
			d = isdigit(c) ? (unsigned int)(c - '0')
				       : (unsigned int)(tolower(c) - 'a' + 10);
		else if (!hex && isdigit(c))
			d = (unsigned int)(c - '0');
		else {
			digits = false;
			break;
		}
		if (!over && v > (limit - d) / (hex ? 16 : 10))
			over = true;
		if (!over)
			v = v * (hex ? 16 : 10) + d;
	}
	if (!digits)
		return cfg_text_put(out, text + start, i - start);
	if (over) {
		if (ctx->n_big < CFG_BIG_MAX) {
			struct cfg_big *b = &ctx->big[ctx->n_big++];
			size_t n = i - start;

			b->line = line;
			if (n >= sizeof(b->text)) {
				memcpy(b->text, text + start, sizeof(b->text) - 4);
				memcpy(b->text + sizeof(b->text) - 4, "...", 4);
			} else {
				memcpy(b->text, text + start, n);
				b->text[n] = '\0';
			}
		}
		str = neg ? "-9223372036854775808L" : "9223372036854775807L";
		return cfg_text_put(out, str, strlen(str));
	}
	if (cfg_text_put(out, text + start, i - start) < 0)
		return -1;
	/* An array holds one type: widen all its integers or none. */
	if (suffix == 0 &&
		(in_array || (neg ? v > (uint64_t)INT32_MAX + 1 : v > (uint64_t)INT32_MAX)))
		return cfg_text_put(out, "L", 1);
	return 0;
}

static int
cfg_str_run(struct cfg_ctx *ctx, unsigned int line)
{
	unsigned int *p;
	size_t cap;

	if (ctx->n_str == ctx->cap_str) {
		cap = ctx->cap_str == 0 ? 64 : ctx->cap_str * 2;
		p = realloc(ctx->str_lines, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		ctx->str_lines = p;
		ctx->cap_str = cap;
	}
	ctx->str_lines[ctx->n_str++] = line;
	return 0;
}

/*
 * Copy text for libconfig, token by token as its scanner would see them:
 * comments and strings verbatim, integers screened by cfg_number(). On the
 * way, note the line where each string value starts (see cfg_fix_lines).
 * @include is refused: the loader reads one file, and a buffer from a
 * fuzzer or a socket must not reach the file system.
 */
static int
cfg_prepare(struct cfg_ctx *ctx, const char *text, size_t len, struct cfg_text *out)
{
	const char *nul = len > 0 ? memchr(text, '\0', len) : NULL;
	bool in_array = false, after_string = false, eof_comment = false;
	unsigned int line = 1, opened;
	size_t i = 0, start;

	if (nul != NULL) {
		for (i = 0; text + i < nul; i++)
			line += text[i] == '\n';
		return cfg_error(ctx, line, NULL, NULL, "NUL byte in text");
	}
	if (cfg_text_put(out, "", 0) < 0)
		return cfg_error(ctx, 0, NULL, NULL, "out of memory");
	while (i < len) {
		char c = text[i];

		start = i;
		if (c == '#' || (c == '/' && i + 1 < len && text[i + 1] == '/')) {
			while (i < len && text[i] != '\n')
				i++;
			eof_comment = i == len;
		} else if (c == '/' && i + 1 < len && text[i + 1] == '*') {
			/* libconfig would drop the rest of the file without a word. */
			opened = line;
			for (i += 2;
				i < len && !(text[i] == '*' && i + 1 < len && text[i + 1] == '/');
				i++)
				line += text[i] == '\n';
			if (i == len)
				return cfg_error(ctx, opened, NULL, NULL, "unterminated comment");
			i += 2;
		} else if (c == '"') {
			/* Adjacent strings are one value to libconfig. */
			if (!after_string && cfg_str_run(ctx, line) < 0)
				return cfg_error(ctx, 0, NULL, NULL, "out of memory");
			opened = line;
			for (i++; i < len && text[i] != '"'; i++) {
				if (text[i] == '\\' && i + 1 < len)
					i++;
				line += text[i] == '\n';
			}
			if (i == len)
				return cfg_error(ctx, opened, NULL, NULL, "unterminated string");
			i++;
		} else if (c == '@' && len - i >= 8 && memcmp(text + i, "@include", 8) == 0) {
			return cfg_error(ctx, line, "@include", NULL, "not supported");
		} else if (cfg_is_alpha((unsigned char)c) || c == '*') {
			while (i < len &&
				(cfg_is_alpha((unsigned char)text[i]) ||
					isdigit((unsigned char)text[i]) || text[i] == '-' ||
					text[i] == '_' || text[i] == '*'))
				i++;
		} else if (cfg_number_start(text, i, len)) {
			if (cfg_number(ctx, text, &i, len, line, in_array, out) < 0)
				return cfg_error(ctx, 0, NULL, NULL, "out of memory");
			after_string = false;
			continue;
		} else {
			line += c == '\n';
			in_array = c == '[' ? true : c == ']' ? false : in_array;
			i++;
		}
		if (c == '"')
			after_string = true;
		else if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '#' && c != '/')
			after_string = false;
		if (cfg_text_put(out, text + start, i - start) < 0)
			return cfg_error(ctx, 0, NULL, NULL, "out of memory");
	}
	/* libconfig 1.5 refuses a line comment that ends the text. */
	if (eof_comment && cfg_text_put(out, "\n", 1) < 0)
		return cfg_error(ctx, 0, NULL, NULL, "out of memory");
	return 0;
}

/*
 * libconfig dates a list element when the parser reduces it, which for a
 * string is after it has looked past it for another string to join: the
 * last string of a multi-line list gets the line of the "]". Settings are
 * parsed in document order, so the n-th string value in the tree is the
 * n-th run of strings in the text, whose line cfg_prepare() noted. Valid
 * configs nest 4 deep; deeper lists are refused before anything in them
 * is reported, so they need no fixing.
 */
static void
cfg_fix_lines(struct cfg_ctx *ctx, config_setting_t *s, size_t *k, unsigned int depth)
{
	unsigned int i, n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (*k < ctx->n_str)
			s->line = ctx->str_lines[*k];
		(*k)++;
		return;
	}
	if (!config_setting_is_aggregate(s) || depth > 8)
		return;
	n = (unsigned int)config_setting_length(s);
	for (i = 0; i < n; i++)
		cfg_fix_lines(ctx, config_setting_get_elem(s, i), k, depth + 1);
}

int
cfg_load_buffer(const char *text, size_t len, const char *name, struct sg_config *cfg, char *err,
	size_t errlen)
{
	struct cfg_ctx ctx = {
		.name = name != NULL ? name : "(config)",
		.err = err,
		.errlen = errlen,
	};
	struct cfg_text t = { 0 };
	size_t nstr = 0;
	config_t lc;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	cfg_defaults(cfg);
	if (text == NULL)
		len = 0;
	r = cfg_prepare(&ctx, text, len, &t);
	if (r == 0) {
		config_init(&lc);
		if (config_read_string(&lc, t.p) != CONFIG_TRUE)
			r = cfg_error(&ctx, (unsigned int)config_error_line(&lc), NULL, NULL, "%s",
				config_error_text(&lc) != NULL ? config_error_text(&lc)
							       : "syntax error");
		else {
			cfg_fix_lines(&ctx, config_root_setting(&lc), &nstr, 0);
			r = cfg_load_root(&ctx, config_root_setting(&lc), cfg);
		}
		config_destroy(&lc);
	}
	free(ctx.str_lines);
	free(t.p);
	if (r < 0)
		cfg_defaults(cfg);
	return r;
}

int
cfg_load(const char *path, struct sg_config *cfg, char *err, size_t errlen)
{
	struct cfg_ctx ctx = { .name = path, .err = err, .errlen = errlen };
	size_t len = 0, cap = 0, n;
	char *buf = NULL, *p;
	char ebuf[128];
	FILE *f;
	int r, e;

	cfg_defaults(cfg);
	f = fopen(path, "re");
	if (f == NULL) {
		e = errno;
		return cfg_error(
			&ctx, 0, NULL, NULL, "cannot open: %s", strerror_r(e, ebuf, sizeof(ebuf)));
	}
	for (;;) {
		if (len == cap) {
			if (cap > CFG_FILE_MAX) {
				fclose(f);
				free(buf);
				return cfg_error(&ctx, 0, NULL, NULL,
					"cannot read: larger than %d bytes", CFG_FILE_MAX);
			}
			cap = cap == 0 ? 4096 : cap * 2;
			if (cap > CFG_FILE_MAX + 1)
				cap = CFG_FILE_MAX + 1;
			p = realloc(buf, cap);
			if (p == NULL) {
				fclose(f);
				free(buf);
				return cfg_error(&ctx, 0, NULL, NULL, "out of memory");
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		e = errno;
		fclose(f);
		free(buf);
		return cfg_error(
			&ctx, 0, NULL, NULL, "cannot read: %s", strerror_r(e, ebuf, sizeof(ebuf)));
	}
	fclose(f);
	r = cfg_load_buffer(buf, len, path, cfg, err, errlen);
	free(buf);
	return r;
}

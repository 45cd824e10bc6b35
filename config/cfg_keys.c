/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config schema: every section and key, with its type, range,
 * default, place in struct sg_config and help text. The loader (cfg.c)
 * walks these rows, the reference renderer (cfg_ref.c) documents them and
 * hot reload (cfg_reload.c) compares by them, so a key is declared once
 * here and nowhere else. Checks that span keys are the loader's, named
 * by the sections' check hooks (cfg_int.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "cfg_int.h"

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
		"to a power of two: each takes `frame_bytes` + 120 rounded up to 64, plus 32 of "
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

#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live appliance fed mirror feeds, against the tshark oracle: a
# recording of the edge test bed (scripts/record-edge: 2 KB INVITEs as IPv4
# and IPv6 fragments, SIP over TCP in 536 byte segments with losses, the
# same frames mirrored through VXLAN, GRE, ERSPAN type II and III) is
# replayed feed by feed into the replay bed of scripts/lib/flood.sh (one
# veth pair in a namespace), where sipguard (DPDK primary, the receiving
# end as an af_packet port of two RX queues read by two worker lcores),
# sipguard-ctrl and sipguardctl run as on a collector.
#
# One sipguard per feed: each feed's counts stand alone, nothing carries
# over from the feed before (retransmission and dialog tables, TCP flows).
# tcpreplay sends at a fixed rate (MIRROR_PPS, 2,000 frames/s: the feed's
# ~11,000 frames in about 6 s), never at top speed: the test is about what
# arrives, not about how much the bed can take. The veth pair carries an MTU
# of 9000, as the bed's collector link did: a feed's outer frames (a full
# inner frame plus 50 bytes of VXLAN, 42 of ERSPAN III) are longer than
# 1500 bytes. They are whole (record-edge's collector never fragments
# them), so af_packet's fanout defragmentation (PACKET_FANOUT_FLAG_DEFRAG)
# leaves them alone and the inner IP fragments reach the workers' own
# reassembly.
#
# Live, a packet's time is its arrival, not the capture's: the replay
# squeezes 30 s into 6 s. The retransmission window (32 s) is longer than
# the whole recording and the replay keeps the order, so the counts must
# be the capture's exactly.
#
# Asserted per feed: the receiving end got every frame tcpreplay sent, the
# port received them all (rx = tcpreplay's count, missed 0) and the workers
# took them all (lcore packets add up to port rx); both workers worked
# traffic, and every frame steered from one worker to the other arrived
# (steered_out = steered_in, steer_full 0), with frames steered when the
# feed is one outer flow the fanout does not look into (ERSPAN: it lands on
# one queue, and the inner address pairs are spread by steering; the
# fanout follows GRE carrying Ethernet to the inner headers, and VXLAN's
# outer source port splits one inner TCP stream over both queues, which
# steering joins again: dataplane/dp_steer.h); the status `source` shows as
# many decapsulations of the feed's kind as sipguard counts offline on the
# same feed (`--pcap --json`), datagrams reassembled from fragments, and no
# reassembly loss (frag_timed_out, frag_no_space, frag_bad 0) and no TCP
# gap; and `sipguardctl -j totals` equals the oracle (tshark_counts.py on
# the feed) on every trunk and unmatched (compare.py).
#
# Environment:
#   SIPGUARD            sipguard binary (default build/dataplane/sipguard);
#                       sipguard-ctrl and sipguardctl from the same build
#                       unless SIPGUARD_CTRL / SIPGUARDCTL say otherwise
#   CAPTURE             a recording's OUT.pcapng (OUT.conf and
#                       OUT-FEED.pcapng beside it) instead of recording
#   RECORD_SECONDS      length of the recording (default 30)
#   MIRROR_FEEDS        feeds to replay (default "vxlan gre erspan2 erspan3")
#   MIRROR_PPS          tcpreplay's rate (default 2000, 200..20000)
#   LIVE_FRAMESZ        af_packet framesz devarg (default 4096 =
#                       dataplane.mbuf_size); blocksz is the least common
#                       multiple of it and 4096
#   MIRROR_TIME_LIMIT   watchdog, seconds (default 240)
#   KEEP=1              keep the work directory (also kept on failure)
# Exit: 0 pass, 1 fail, 77 skip (not root, no hugepages, binaries or tools
# missing).

# Checks are functions run through check.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
FL_SIPGUARD=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$FL_SIPGUARD")")
FL_CTRL=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
FL_CTL=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
secs=${RECORD_SECONDS:-30}
feeds=${MIRROR_FEEDS:-vxlan gre erspan2 erspan3}
pps=${MIRROR_PPS:-2000}
framesz=${LIVE_FRAMESZ:-4096}
time_limit=${MIRROR_TIME_LIMIT:-240}
lcores="0@0,1@0,2@1"

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"
# shellcheck source=scripts/lib/flood.sh
. "$root/scripts/lib/flood.sh"

live_needs "$FL_SIPGUARD" "$FL_CTRL" "$FL_CTL" -- tcpreplay ip jq python3 taskset tshark capinfos
if [ -z "${CAPTURE:-}" ]; then
	for t in sipp kamailio dumpcap nft tc ethtool clang; do
		command -v "$t" >/dev/null || skip "$t missing (to record): run scripts/setup"
	done
fi
live_preflight 14
case "$pps$framesz$time_limit" in
*[!0-9]*) skip "MIRROR_PPS, LIVE_FRAMESZ and MIRROR_TIME_LIMIT are numbers" ;;
esac
if [ "$pps" -lt 200 ] || [ "$pps" -gt 20000 ]; then
	skip "MIRROR_PPS must be 200..20000"
fi
for f in $feeds; do
	case "$f" in
	vxlan | gre | erspan2 | erspan3) ;;
	*) skip "unknown feed $f in MIRROR_FEEDS" ;;
	esac
done
# The PMD addresses ring frame i at i * framesz, the kernel puts frames only
# whole into blocks: blocksz must be a multiple of framesz (and of the page
# size), or the queues receive nothing (test_edge_live.sh).
gcd() {
	local a=$1 b=$2 t
	while [ "$b" -ne 0 ]; do
		t=$((a % b))
		a=$b
		b=$t
	done
	echo "$a"
}
blocksz=$((framesz * 4096 / $(gcd "$framesz" 4096)))

fl_init
t_start=$SECONDS
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "${FL_WATCHDOG:-}" ] && kill "$FL_WATCHDOG" 2>/dev/null && wait "$FL_WATCHDOG" 2>/dev/null
	fl_down
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
		echo "mirror_live: logs in $FL_DIR" >&2
	else
		rm -rf "$FL_DIR"
	fi
	exit "$rc"
}
finish() {
	echo "mirror_live: $((SECONDS - t_start)) s"
	echo "mirror_live: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "FAIL time limit of $time_limit s reached"; failed=$((failed + 1)); finish' TERM
fl_watchdog "$time_limit"

# --- the recording -------------------------------------------------------------
if [ -n "${CAPTURE:-}" ]; then
	cap=$CAPTURE
else
	cap=$FL_DIR/edge.pcapng
	echo "mirror_live: recording ${secs}s of the edge test bed"
	"$root/scripts/record-edge" "$cap" "$secs" >"$FL_DIR/record.log" 2>&1 || {
		tail -n 5 "$FL_DIR/record.log"
		abort "scripts/record-edge failed"
	}
	note "recorded in $((SECONDS - t_start)) s"
fi
base=${cap%.*}
conf_rec=$base.conf
if [ ! -r "$cap" ] || [ ! -r "$conf_rec" ]; then
	abort "capture $cap or its config $conf_rec missing"
fi
for f in $feeds; do
	[ -r "$base-$f.pcapng" ] || abort "feed $base-$f.pcapng missing"
done

# The live config: the recording's trunks and sections, with the live
# dataplane keys added to its dataplane group, and the control socket and
# the port of this bed.
live_conf() {
	python3 - "$conf_rec" "$1" "$lcores" "$FL_ID" "$FL_SOCK" \
		"net_af_packet0,iface=$FL_IF_RX,qpairs=2,framecnt=16384,framesz=$framesz,blocksz=$blocksz" \
		<<'PY'
import re, sys
src, dst, lcores, prefix, sock, devargs = sys.argv[1:7]
text = open(src, encoding="utf-8").read()
if re.search(r"^\s*(ctrl|ports)\s*=", text, re.M):
    sys.exit("%s already has ctrl or ports" % src)
live = ('lcores = "%s"; file_prefix = "%s"; mbuf_size = 4096; publish_interval = 100; '
        % (lcores, prefix))
text, n = re.subn(r"^(\s*dataplane\s*=\s*\{)", r"\1 " + live, text, count=1, flags=re.M)
if n != 1:
    sys.exit("%s: no dataplane group" % src)
text += ('\n# live parts (tests/integration/test_mirror_live.sh)\n'
         'ctrl = { socket = "%s"; cpu = 0; };\n'
         'metrics = { listen = "off"; };\n'
         'ports = ( { devargs = "%s"; rx_queues = 2; } );\n' % (sock, devargs))
open(dst, "w", encoding="utf-8").write(text)
PY
}
conf=$FL_DIR/live.conf
live_conf "$conf" || abort "could not make the live config from $conf_rec"

# --- per feed: the expectations, offline ------------------------------------------
frames() {
	capinfos -c -M "$1" 2>/dev/null | awk '/Number of packets/ {print $NF}'
}
decap_key() {
	case "$1" in
	vxlan) echo decap_vxlan ;;
	gre) echo decap_gre ;;
	erspan2 | erspan3) echo decap_erspan ;;
	esac
}
# Outer flows as the fanout's symmetric hash could tell them apart: the
# outer address pair, and the outer UDP ports for VXLAN.
outer_flows() {
	local fields=(-e ip.src -e ip.dst)
	[ "$1" = vxlan ] && fields+=(-e udp.srcport -e udp.dstport)
	tshark -r "$2" -n -T fields -E occurrence=f "${fields[@]}" 2>/dev/null |
		awk '{a = $1 " " $3; b = $2 " " $4; print (a < b) ? a "|" b : b "|" a}' |
		sort -u | wc -l
}
# VXLAN's outer UDP source port is the encapsulating kernel's hash of the
# inner packet: for a local TCP socket that is its random txhash, which
# differs per direction and changes when a retransmission timeout rehashes
# it. The fanout hashes the outer headers, so one inner TCP flow may be
# spread over both workers: how many inner TCP flows (both directions) rode
# on more than one outer flow, and on how many in all.
vxlan_split() {
	tshark -r "$1" -n -Y "tcp && vxlan" -T fields -E occurrence=l -e udp.srcport \
		-e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e tcp.srcport -e tcp.dstport \
		2>/dev/null | awk -F'\t' '{
			a = $2 $4 "." $6; b = $3 $5 "." $7
			k = (a < b) ? a "/" b : b "/" a
			if (!((k, $1) in seen)) { seen[k, $1] = 1; n[k]++ }
		} END {
			split_ = 0; outer = 0
			for (k in n) { outer += n[k]; if (n[k] > 1) split_++ }
			printf "%d of %d inner TCP flows on more than one outer flow (%d outer flows)",
				split_, length(n), outer
		}'
}
echo "mirror_live: the oracle and sipguard offline on every feed"
for f in $feeds; do
	file=$base-$f.pcapng
	python3 "$here/tshark_counts.py" "$conf_rec" "$file" >"$FL_DIR/$f.expected.json" ||
		abort "the oracle failed on $file"
	"$FL_SIPGUARD" -c "$conf_rec" --pcap "$file" --json >"$FL_DIR/$f.offline.json" \
		2>"$FL_DIR/$f.offline.err" || abort "sipguard offline failed on $file"
	echo "$(frames "$file") $(outer_flows "$f" "$file")" >"$FL_DIR/$f.feed.txt"
	note "$f: $(awk '{print $1 " frames, " $2 " outer flows"}' "$FL_DIR/$f.feed.txt");" \
		"offline $(jq -c --arg k "$(decap_key "$f")" '.source | {packets, decap: .[$k],
		reassembled, sip_messages}' "$FL_DIR/$f.offline.json")"
	[ "$f" = vxlan ] && note "vxlan: $(vxlan_split "$file")"
done

# --- the bed ------------------------------------------------------------------
fl_up || abort "the veth pair did not come up"
# The collector link's MTU: a mirrored full-size frame plus its tunnel
# headers is longer than 1500 bytes, and a veth drops what exceeds the
# receiving end's MTU.
if ! ip -n "$FL_NS" link set "$FL_IF_TX" mtu 9000 ||
	! ip -n "$FL_NS" link set "$FL_IF_RX" mtu 9000; then
	abort "could not set the MTU"
fi

# --- per feed: sipguard live, replay, counts ----------------------------------------
# holds FILE FILTER [jq options...]: the filter is true of the JSON file.
holds() {
	local file=$1 filter=$2
	shift 2
	jq -e "$@" "$filter" "$file" >/dev/null 2>&1
}
live_feed() {
	local f=$1 file st tot v0 v1 sent rx missed dk want_decap nflows
	file=$base-$f.pcapng
	st=$FL_DIR/$f.status.json
	tot=$FL_DIR/$f.totals.json
	echo "--- $f"
	fl_dpdk_clean "$FL_ID"
	rm -f "$FL_SOCK"
	fl_start_dataplane "$conf" || {
		cp "$FL_DIR/sipguard.log" "$FL_DIR/$f.sipguard.log"
		check "$f: sipguard started" false
		return
	}
	fl_start_ctrl "$conf"
	fl_ctl_ready 30 || {
		tail -n 5 "$FL_DIR/ctrl.log"
		check "$f: sipguard-ctrl answers" false
		fl_stop ctrl
		fl_stop sipguard
		return
	}
	fl_quiet 1 5 || note "the link was not quiet before the replay"
	v0=$(fl_rx_frames)
	fl_replay "replay-$f" 0 --pps="$pps" "$file"
	fl_wait "replay-$f" 120 || note "tcpreplay did not finish"
	fl_quiet 1 20 || note "the link did not fall quiet after the replay"
	sleep 0.5 # a publication (100 ms) and then some
	if ! fl_ctl -j status >"$st" || ! fl_ctl -j totals >"$tot"; then
		note "sipguardctl did not answer"
	fi
	v1=$(fl_rx_frames)
	check "$f: sipguard still runs after the replay" fl_alive sipguard
	fl_stop ctrl
	fl_stop sipguard
	cp "$FL_DIR/sipguard.log" "$FL_DIR/$f.sipguard.log"
	cp "$FL_DIR/ctrl.log" "$FL_DIR/$f.ctrl.log"
	cp "$FL_DIR/replay-$f.log" "$FL_DIR/$f.replay.log" 2>/dev/null

	sent=$(fl_replay_sent "replay-$f")
	rx=$(jq '[.ports[].rx] | add' "$st" 2>/dev/null)
	missed=$(jq '[.ports[].missed] | add' "$st" 2>/dev/null)
	nflows=$(awk '{print $2}' "$FL_DIR/$f.feed.txt")
	echo "mirror_live: $f: tcpreplay $sent of $(awk '{print $1}' "$FL_DIR/$f.feed.txt") frames" \
		"in $(fl_replay_secs "replay-$f") s ($(fl_replay_pps "replay-$f") pps); veth" \
		"$((v1 - v0)); port rx $rx, missed $missed; per worker" \
		"$(jq -c '[.lcores[].packets]' "$st" 2>/dev/null)"
	check "$f: the receiving end got every frame tcpreplay sent ($sent)" \
		test "$((v1 - v0))" = "${sent:-x}"
	check "$f: port rx = frames sent, none missed" \
		test "${rx:-x}" = "${sent:-y}" -a "${missed:-x}" = 0
	check "$f: the workers' packets add up to port rx" \
		holds "$st" '([.lcores[].packets] | add) == ([.ports[].rx] | add) and
			(.lcores | length) == 2'
	# The fanout's hash is the kernel's flow dissector's: it follows GRE
	# carrying Ethernet (0x6558) to the inner headers, so the GRE feed,
	# one outer flow, spreads like the traffic inside; it stops at ERSPAN,
	# so an ERSPAN feed of one outer flow lands on one queue, and the
	# other worker gets its inner address pairs by steering.
	note "steering: $(jq -c '.source | {steered_out, steered_in, steer_full}' "$st")"
	check "$f: both workers worked traffic ($nflows outer flows)" \
		holds "$st" 'all(.lcores[]; .packets > 0)'
	check "$f: every steered frame arrived, none found a full ring" \
		holds "$st" '.source | .steered_out == .steered_in and .steer_full == 0'
	if [ "${nflows:-0}" -eq 1 ] && [ "$f" != gre ]; then
		check "$f: one outer flow on one queue: inner pairs steered to the other worker" \
			holds "$st" '.source.steered_out > 0'
	fi
	dk=$(decap_key "$f")
	want_decap=$(jq --arg k "$dk" '.source[$k]' "$FL_DIR/$f.offline.json")
	note "live source: $(jq -c --arg k "$dk" '.source | {sip_messages, fragments, reassembled,
		frag_timed_out, frag_no_space, frag_bad, frag_duplicates, frag_no_mbuf,
		tcp_segments, tcp_flows, tcp_out_of_order, tcp_retransmitted, tcp_gaps,
		decap: .[$k]}' "$st")"
	check "$f: $dk live = offline ($want_decap)" \
		holds "$st" '.source[$k] == $w and $w > 0' --arg k "$dk" \
		--argjson w "${want_decap:-null}"
	check "$f: datagrams reassembled from fragments, none lost (timed out, no space, bad), no TCP gap" \
		holds "$st" '.source | .reassembled > 0 and .frag_timed_out == 0 and
			.frag_no_space == 0 and .frag_bad == 0 and .tcp_gaps == 0'
	note "reassembled live $(jq .source.reassembled "$st"), offline" \
		"$(jq .source.reassembled "$FL_DIR/$f.offline.json"); SIP messages live" \
		"$(jq .source.sip_messages "$st"), offline $(jq .source.sip_messages \
			"$FL_DIR/$f.offline.json")"
	python3 "$here/compare.py" "$FL_DIR/$f.expected.json" "$tot" >"$FL_DIR/$f.compare.txt"
	check "$f: sipguardctl -j totals equals the oracle on every trunk and unmatched" \
		test "$?" -eq 0
	sed 's/^/     /' "$FL_DIR/$f.compare.txt"
}

for f in $feeds; do
	live_feed "$f"
done
finish

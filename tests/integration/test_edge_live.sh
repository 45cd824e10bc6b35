#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live appliance on the hard cases, against the tshark oracle: sipguard
# (DPDK primary, the carrier's veth as an af_packet port of two RX queues
# read by two worker lcores), sipguard-ctrl and sipguardctl on the edge test
# bed (scripts/lib/edgebed.sh), while dumpcap records the same interface.
# The dialers send 2 KB INVITEs that the kernel fragments (UDP over IPv4 and
# IPv6) and SIP over TCP in 536 byte segments with losses on both sides of
# the capture point.
#
# How net_af_packet (DPDK 22.11) spreads a port over its queues: one
# AF_PACKET socket per queue, all in one fanout group of mode
# PACKET_FANOUT_HASH with PACKET_FANOUT_FLAG_DEFRAG and
# PACKET_FANOUT_FLAG_ROLLOVER (rte_pmd_init_internals). The kernel hashes
# each frame symmetrically (addresses and ports) to pick a socket, so:
#  - IPv4 fragments are reassembled by the kernel before the fanout
#    (DEFRAG): the sockets receive one whole datagram, larger than the MTU,
#    where dumpcap's own socket sees the fragments. The PMD copies
#    tp_snaplen bytes into one mbuf and never looks at tp_len: a datagram
#    longer than the ring frame (framesz less the 66 bytes of TPACKET2
#    header and sockaddr_ll before the MAC header) is truncated silently,
#    and framesz cannot exceed the mbuf data room plus 32 (2080 with
#    RTE_MBUF_DEFAULT_BUF_SIZE) or the queue set-up fails.
#  - IPv6 fragments are not reassembled (DEFRAG is IPv4 only); every
#    fragment, first or not, hashes on the addresses alone (the dissector
#    stops at the Fragment header), so all fragments of a datagram reach
#    the same queue.
#  - frame i of the ring is at i * framesz for the PMD, while the kernel
#    never splits a frame across blocks: blocksz must be a multiple of
#    framesz (and of the page size), or the queues receive nothing.
#  - ROLLOVER moves frames to another socket only when the chosen one's
#    ring is full: framecnt is large enough here that it never is.
#
# Asserted: the capture holds the hard cases (eb_figures); the port received
# the frames dumpcap saw, with every IPv4 fragment train counted once (the
# kernel's reassembly); both workers saw traffic and no worker's fragment
# reassembly failed (timed out, bad, no space) or left a TCP gap; and
# `sipguardctl -j totals` equals the oracle over dumpcap's capture (run with
# out-of-order TCP reassembly, see tshark_counts.py).
#
# Environment:
#   SIPGUARD            sipguard binary (default build/dataplane/sipguard);
#                       sipguard-ctrl and sipguardctl from the same build
#                       unless SIPGUARD_CTRL / SIPGUARDCTL say otherwise
#   LIVE_DIAL_SECONDS   seconds of new calls (default 14, 8..20)
#   LIVE_FRAMESZ        af_packet framesz devarg (default 4096: the config
#                       sets dataplane.mbuf_size = 4096, and framesz may be
#                       at most that + 32)
#   LIVE_BLOCKSZ        af_packet blocksz devarg (default: the least common
#                       multiple of framesz and 4096)
#   KEEP=1              keep the work directory (also kept on failure)
# Exit: 0 pass, 1 fail, 77 skip (not root, no hugepages, binaries or tools
# missing).

# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$sipguard")")
ctrl=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
ctl=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
dial=${LIVE_DIAL_SECONDS:-14}
framesz=${LIVE_FRAMESZ:-4096}
# The PMD addresses ring frame i at i * framesz, the kernel puts frames only
# whole into blocks: unless blocksz is a multiple of framesz the two
# disagree and the queue receives nothing (every frame is "missed"). The
# smallest block that is a multiple of both framesz and the page size:
gcd() {
	local a=$1 b=$2 t
	while [ "$b" -ne 0 ]; do
		t=$((a % b))
		a=$b
		b=$t
	done
	echo "$a"
}
case "$framesz" in
'' | *[!0-9]*) framesz=4096 ;;
esac
blocksz=${LIVE_BLOCKSZ:-$((framesz * 4096 / $(gcd "$framesz" 4096)))}
time_limit=${LIVE_TIME_LIMIT:-200}

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"

live_needs "$sipguard" "$ctrl" "$ctl" -- sipp kamailio dumpcap capinfos tshark nft ip ethtool clang jq python3
live_preflight "$dial"

# shellcheck source=scripts/lib/testbed.sh
. "$root/scripts/lib/testbed.sh"
# shellcheck source=scripts/lib/live.sh
. "$root/scripts/lib/live.sh"
# shellcheck source=scripts/lib/edgebed.sh
. "$root/scripts/lib/edgebed.sh"

eb_init
conf=$TB_DIR/live.conf
sock=$TB_DIR/ctrl.sock
cap=$TB_DIR/capture.pcapng
t_start=$SECONDS
watchdog=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null && wait "$watchdog" 2>/dev/null
	tb_stop ctrl
	eb_down
	lv_dpdk_clean "$TB_ID"
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
		echo "edge_live: logs and capture in $TB_DIR" >&2
	else
		rm -rf "$TB_DIR"
	fi
	exit "$rc"
}
finish() {
	echo "edge_live: $((SECONDS - t_start)) s"
	echo "edge_live: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "FAIL time limit of $time_limit s reached"; failed=$((failed + 1));
	echo "edge_live: $passed passed, $failed failed"; exit 1' TERM
(
	trap 'kill "$nap" 2>/dev/null; exit 0' TERM
	sleep "$time_limit" &
	nap=$!
	wait "$nap" && kill -TERM $$ 2>/dev/null
) &
watchdog=$!


# --- test bed, sipguard, observers -------------------------------------------
eb_up || abort "test bed did not come up"
eb_carriers_up $((dial + 90)) || abort "carriers did not start"
eb_conf "$conf" "net_af_packet0,iface=$TB_IF_C,qpairs=2,framecnt=4096,framesz=$framesz,blocksz=$blocksz"
eb_link_quiet 2 10 || note "the veth did not fall quiet before the start"
tb_spawn c sipguard "$sipguard" -c "$conf"
for ((i = 0; i < 150; i++)); do
	grep -q "^sipguard: running" "$TB_DIR/sipguard.log" && break
	tb_alive sipguard || break
	sleep 0.2
done
lv_spawn ctrl "$ctrl" -c "$conf" --wait
ctl_ready 30 || {
	tail -n 5 "$TB_DIR/sipguard.log" "$TB_DIR/ctrl.log"
	abort "sipguard or sipguard-ctrl did not start"
}
eb_capture capture c "$TB_IF_C" "$cap" || abort "dumpcap did not start"

# --- calls ------------------------------------------------------------------
echo "edge_live: ${dial}s of calls with 2 KB INVITEs (udp4, udp6, tcp4, tcp6)"
eb_dial_start 1 "$dial" 5062
eb_dial_wait 1 $((dial + 25)) || note "dialers had to be stopped"
tb_stop carrier-a
tb_stop carrier-b
tb_stop uas
eb_link_quiet 2 20 || note "the veth did not fall quiet after the traffic"
tb_stop capture INT
sleep 1.2 # a publication (100 ms) and then some
ctl_ -j status >"$TB_DIR/status.json"
ctl_ -j totals >"$TB_DIR/totals.json"

# --- the capture ----------------------------------------------------------------
eb_figures "$cap" "$conf" >"$TB_DIR/figures.txt"
fig() {
	awk -v k="$1" '$1 == k {print $2}' "$TB_DIR/figures.txt"
}
note "$(awk '{printf "%s=%s ", $1, $2}' "$TB_DIR/figures.txt")"
hard_cases() {
	[ "$(fig ip4_invites)" -ge 10 ] && [ "$(fig ip6_invites)" -ge 5 ] &&
		[ "$(fig tcp_multi)" -ge 10 ] && [ "$(fig tcp_retrans)" -ge 1 ] &&
		[ "$(fig sip_503)" -ge 5 ]
}
check "capture: fragmented INVITEs (IPv4 and IPv6), multi-segment TCP messages, retransmissions, 503s" \
	hard_cases

# --- what the port and the workers received ------------------------------------
frames=$(capinfos -c -M "$cap" 2>/dev/null | awk '/Number of packets/ {print $NF}')
rx=$(jq '[.ports[].rx] | add' "$TB_DIR/status.json")
lc=$(jq -c '[.lcores[].packets]' "$TB_DIR/status.json")
# With PACKET_FANOUT_FLAG_DEFRAG the port receives each IPv4 fragment train
# as one datagram.
want_rx=$((frames - $(fig ip4_fragments) + $(fig ip4_datagrams)))
echo "edge_live: dumpcap $frames frames ($(fig ip4_fragments) IPv4 fragments of" \
	"$(fig ip4_datagrams) datagrams, $(fig ip6_fragments) IPv6 fragments of" \
	"$(fig ip6_datagrams)); port rx $rx; per worker $lc"
check "port rx = dumpcap's frames with each IPv4 fragment train as one datagram ($want_rx)" \
	test "${rx:-x}" = "$want_rx"
both_workers() {
	jq -e '(.lcores | length) == 2 and all(.lcores[]; .packets > 0)' "$TB_DIR/status.json" \
		>/dev/null
}
check "both workers (queues) received traffic" both_workers
jq -c '.lcores' "$TB_DIR/status.json" >"$TB_DIR/lcores.json"
note "lcores: $(cat "$TB_DIR/lcores.json")"
keys='^(frag_timed_out|frag_bad|frag_no_space|frag_no_mbuf|frag_too_big|tcp_gaps)$'
nkeys=$(jq -s --arg k "$keys" '[.[] | .. | objects | to_entries[] | select(.key | test($k))] |
	length' "$TB_DIR/status.json" "$TB_DIR/totals.json")
if [ "${nkeys:-0}" -gt 0 ]; then
	no_failure() {
		jq -e -s --arg k "$keys" '[.[] | .. | objects | to_entries[] |
			select(.key | test($k)) | .value] | all(. == 0)' \
			"$TB_DIR/status.json" "$TB_DIR/totals.json" >/dev/null
	}
	check "no fragment reassembly failed and no TCP gap, on any worker" no_failure
else
	note "sipguardctl status and totals show no reassembly counters: the totals alone" \
		"prove that fragments met (carrier-a6 below)"
fi
# What the kernel hands the PMD after DEFRAG: datagrams longer than the
# ring frame has room for lose their tail.
room=$((framesz - 66))
long4=$(tshark -r "$cap" -n -Y "ip.reassembled.length > $((room - 14))" -T fields \
	-e frame.number 2>/dev/null | wc -l)
note "IPv4 datagrams longer than a ring frame's $room bytes (truncated by the kernel): $long4"

# --- totals against the oracle ---------------------------------------------------
if python3 "$here/tshark_counts.py" "$conf" "$cap" \
	>"$TB_DIR/expected.json"; then
	python3 "$here/tshark_counts.py" "$conf" "$cap" >"$TB_DIR/expected-defaults.json" || true
	echo "--- per trunk: oracle vs sipguardctl -j totals"
	python3 "$here/compare.py" "$TB_DIR/expected.json" "$TB_DIR/totals.json" |
		tee "$TB_DIR/compare.txt"
	check "sipguardctl -j totals equals the oracle on every trunk and unmatched" \
		test "${PIPESTATUS[0]}" -eq 0
	# carrier-a6 is UDP over IPv6 alone: every INVITE there came in
	# fragments the workers reassembled.
	check "carrier-a6 (IPv6 fragments, reassembled by the workers) equals the oracle" \
		grep -q "^ok   carrier-a6$" "$TB_DIR/compare.txt"
	for t in carrier-a carrier-a6 carrier-b; do
		echo "edge_live: $t: $(jq -c --arg t "$t" '.trunks[$t] | {invite_attempts,
			invite_final, retransmissions, requests: (.requests | add),
			responses: (.responses | add)}' "$TB_DIR/totals.json")"
	done
else
	check "tshark oracle ran" false
fi
finish

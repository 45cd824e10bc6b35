#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Traces of failed calls, against the recordings they came from.
#
# 1. Offline: trace_gen.py writes whole calls as a carrier answers them
#    (INVITE and its retransmission, 100, 503 with Retry-After and Reason,
#    ACK, the 503 retransmitted after the ACK and ACKed again, 200 OK
#    calls among them); `sipguard --pcap --traces DIR` must trace exactly
#    the first N failed calls per trunk per second, tshark (default
#    preferences) must read every file, and the frames each file names
#    for a call (every frame's comment gives its Call-ID) must be byte
#    for byte, at the recording's own microsecond, the recording's frames
#    of that Call-ID (trace_check.py).
#    Twice: calls in datagrams, which tshark reading the traces alone must
#    also find whole; and calls over UDP, TCP (segments that end one
#    message and start the next) and IPv4 and IPv6 fragments, where the
#    recording's frames of a Call-ID are what tshark's reassembly says.
# 2. Live (scripts/lib/flood.sh: tcpreplay into af_packet, sipguard,
#    sipguard-ctrl): 160 calls over UDP, TCP and IPv6 fragments replayed
#    at their own pace, fewer failures per second than traced: every
#    failed call must be traced, with exactly its recorded frames, across
#    more than one file; and `sipguardctl trace` as a ladder and as JSON
#    (a TCP call's and a fragmented call's messages drawn once each), its
#    error paths, and the trace files named in `status`. (IPv4 fragments
#    stay offline: af_packet hands them to the kernel's reassembly.)
# 3. A flood of failed calls at top speed (flood_gen.py, looped) into
#    trunks whose series keep 4 files of 64 KiB, 200 traced per trunk per
#    second:
#    every trunk's files stay within 4 x 64 KiB, tshark reads them all,
#    the calls not traced are counted (over the sample rate, ring full),
#    files are rotated, and the memory of both processes stays flat.
#
# Environment: SIPGUARD (sipguard-ctrl and sipguardctl from the same
# build), TRACES_FLOOD_SECONDS (default 6), KEEP=1 keeps the work
# directory. Exit: 0 pass, 1 fail, 77 skip.

# Checks are functions run through fl_check.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
FL_SIPGUARD=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$FL_SIPGUARD")")
FL_CTRL=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
FL_CTL=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
flood_s=${TRACES_FLOOD_SECONDS:-6}
gen=$here/trace_gen.py
fgen=$here/flood_gen.py
check=$here/trace_check.py
file_size=65536
files=4
rate=200

# shellcheck source=scripts/lib/flood.sh
. "$root/scripts/lib/flood.sh"

fl_preflight 128
for t in tshark capinfos; do
	command -v "$t" >/dev/null || fl_skip "$t missing: run scripts/setup"
done
case "$flood_s" in
'' | *[!0-9]*) fl_skip "TRACES_FLOOD_SECONDS is a number" ;;
esac

fl_init
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "${FL_WATCHDOG:-}" ] && kill "$FL_WATCHDOG" 2>/dev/null && wait "$FL_WATCHDOG" 2>/dev/null
	fl_down
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
		echo "traces: logs in $FL_DIR" >&2
	else
		rm -rf "$FL_DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "FAIL time limit reached"; FL_FAILED=$((FL_FAILED + 1)); fl_finish' TERM
fl_watchdog $((flood_s + 170))
t_start=$SECONDS

calls=$FL_DIR/calls.pcap
mixed=$FL_DIR/calls-mixed.pcap
mix=udp,tcp,frag4,frag6
live_calls=$FL_DIR/calls-live.pcap
live_mix=udp,tcp,frag6
python3 "$gen" write "$calls" || fl_abort "trace_gen.py failed"
python3 "$gen" write "$mixed" --mix "$mix" || fl_abort "trace_gen.py failed"
# live, fewer: every one is traced, and they fill more than one file but
# fewer than a trunk keeps
python3 "$gen" write "$live_calls" --calls 160 --seed 8 --mix "$live_mix" ||
	fl_abort "trace_gen.py failed"
python3 "$fgen" write "$FL_DIR/flood.pcap" "$FL_DIR/flood.json" --trunks 4 --calls 30000 \
	--ok-every 1000000 --seed 11 >/dev/null || fl_abort "flood_gen.py failed"

# --- 1. offline ---------------------------------------------------------------
echo "traces: offline"
{
	echo 'dataplane = { sip_ports = [ 5060 ]; };'
	echo 'traces = { sample_per_second = 3; };'
	python3 "$gen" conf
} >"$FL_DIR/offline.conf"
python3 "$gen" expect "$calls" 3 >"$FL_DIR/expect.txt"
"$FL_SIPGUARD" -c "$FL_DIR/offline.conf" --pcap "$calls" --traces "$FL_DIR/offline" \
	>"$FL_DIR/offline.out" 2>"$FL_DIR/offline.err"
fl_check "sipguard --pcap --traces exits 0" test "$?" = 0
fl_check "it says what it traced" grep -q "^sipguard: traces: $(wc -l <"$FL_DIR/expect.txt") failed call" \
	"$FL_DIR/offline.err"
python3 "$check" "$calls" "$FL_DIR/offline" --expect "$FL_DIR/expect.txt" --framed --times |
	sed 's/^/     /'
fl_check "offline traces: tshark reads them, exactly the recording's frames, exactly the sampled calls" \
	test "${PIPESTATUS[0]}" = 0

python3 "$gen" expect "$mixed" 3 --mix "$mix" >"$FL_DIR/expect-mixed.txt"
"$FL_SIPGUARD" -c "$FL_DIR/offline.conf" --pcap "$mixed" --traces "$FL_DIR/offline-mixed" \
	>"$FL_DIR/offline-mixed.json" 2>"$FL_DIR/offline-mixed.err"
fl_check "sipguard --pcap --traces exits 0 (UDP, TCP, fragments)" test "$?" = 0
fl_note "the mixed recording: $(python3 "$gen" stats "$mixed" --mix "$mix")"
python3 "$check" "$mixed" "$FL_DIR/offline-mixed" --expect "$FL_DIR/expect-mixed.txt" --times |
	sed 's/^/     /'
fl_check "offline traces over TCP and in fragments: exactly the recording's frames of each call, by tshark's reassembly" \
	test "${PIPESTATUS[0]}" = 0

# --- 2. live --------------------------------------------------------------------
echo "traces: live"
fl_up || fl_abort "the veth pair did not come up"
conf=$FL_DIR/live.conf
tdir=$FL_DIR/traces
{
	cat <<EOF
# test_traces.sh, run $FL_ID
dataplane = { sip_ports = [ 5060 ]; lcores = "0@0,1@1"; file_prefix = "$FL_ID";
  publish_interval = 100; };
ctrl = { socket = "$FL_SOCK"; cpu = 0; };
metrics = { listen = "off"; };
ports = ( { devargs = "net_af_packet0,iface=$FL_IF_RX,qpairs=1,framecnt=16384";
  rx_queues = 1; } );
traces = { dir = "$tdir"; sample_per_second = $rate; ring = 1024;
  file_size = $file_size; files = $files; linger = 15000; };
trunks = (
EOF
	python3 "$gen" conf | sed -n 's/^\(  {.*}\),\{0,1\}$/\1,/p'
	python3 "$fgen" conf --trunks 4 | sed -n 's/^\(  {.*}\),\{0,1\}$/\1,/p' | sed '$ s/,$//'
	echo ');'
} >"$conf"
fl_start_dataplane "$conf" || fl_abort "sipguard did not start"
fl_start_ctrl "$conf"
fl_ctl_ready 30 || {
	tail -n 5 "$FL_DIR/ctrl.log"
	fl_abort "sipguard-ctrl did not answer"
}
# linger is packet time, the poll's: long enough that a worker held off
# its core for seconds (a shared host) still joins every late frame
fl_replay calls 0 "$live_calls"
fl_wait calls 30 || fl_abort "tcpreplay did not finish"
fl_quiet 1 20 || fl_note "the link did not fall quiet"
# the last calls' late frames: the ACK and retransmissions come within 1.3 s
sleep 2
fl_ctl -j status >"$FL_DIR/status-a.json"
jq -c '.traces' "$FL_DIR/status-a.json" | sed 's/^/     /'
python3 "$gen" expect "$live_calls" "$rate" --calls 160 --seed 8 --mix "$live_mix" \
	>"$FL_DIR/expect-live.txt"
python3 "$check" "$live_calls" "$tdir" --glob 'trace-*.pcapng' --expect "$FL_DIR/expect-live.txt" |
	sed 's/^/     /'
fl_check "live traces: tshark reads them, exactly the recording's frames of each Call-ID, every failed call" \
	test "${PIPESTATUS[0]}" = 0
fl_check "the live calls took more than one file of a trunk" \
	test -f "$tdir/trace-1-000002.pcapng"

fl_ctl -j trace trace-1 >"$FL_DIR/trace.json"
fl_check "sipguardctl -j trace TRUNK exits 0" test "$?" = 0
cid=$(jq -r .call_id "$FL_DIR/trace.json")
ladder_ok() {
	jq -e --arg d "$tdir/" '(.files | length) >= 1 and (.files[0] | startswith($d)) and
		([.messages[].label] | index("INVITE") != null and index("100") != null and
		 index("503") != null and index("ACK") != null) and
		([.messages[] | select(.label == "503")][0] | .retry_after == 6 and
		 .reason == "Q.850;cause=34") and .parties[1] == "198.51.100.31:5060"' \
		"$FL_DIR/trace.json" >/dev/null && test -f "$(jq -r '.files[0]' "$FL_DIR/trace.json")"
}
fl_check "its JSON: the call's messages, Retry-After and Reason, a file that exists" ladder_ok
fl_ctl trace trace-1 "$cid" >"$FL_DIR/trace.txt"
fl_check "sipguardctl trace TRUNK CALL-ID exits 0" test "$?" = 0
sed 's/^/     | /' "$FL_DIR/trace.txt"
text_ok() {
	grep -q "^trunk trace-1  Call-ID $cid\$" "$FL_DIR/trace.txt" &&
		grep -q "^pcapng: $(jq -r '.files[0]' "$FL_DIR/trace.json")\$" "$FL_DIR/trace.txt" &&
		grep -q '|<------ 503 Service Unavailable -------|  Retry-After: 6  Reason: Q.850;cause=34$' \
			"$FL_DIR/trace.txt" &&
		grep -q '|--------------- INVITE --------------->|$' "$FL_DIR/trace.txt" &&
		grep -q '|---------------- ACK ----------------->|$' "$FL_DIR/trace.txt" &&
		[ "$(grep -c '^[0-9.]* *|' "$FL_DIR/trace.txt")" = "$(jq '.messages | length' "$FL_DIR/trace.json")" ]
}
fl_check "the ladder: header, pcapng path, an arrow per message with status and Retry-After/Reason" text_ok
# calls 3 and 5 of trunk trace-1 came over TCP and in IPv6 fragments
one_each() {
	local cid=$1 party=$2
	fl_ctl -j trace trace-1 "$cid" >"$FL_DIR/trace-$cid.json" &&
		jq -e --arg p "$party" '[.messages[].label] == ["INVITE", "100", "503", "ACK"] and
			.parties[1] == $p' "$FL_DIR/trace-$cid.json" >/dev/null
}
fl_check "a call over TCP: its ladder draws each message once, whatever its segments" \
	one_each tr000003-8@192.0.2.10 198.51.100.31:5060
fl_check "a call in IPv6 fragments: each message once, between IPv6 parties" \
	one_each tr000005-8@192.0.2.10 '[2001:db8:1::31]:5060'
fl_ctl trace trace-1 tr000003-8@192.0.2.10 | sed 's/^/     | /'
fl_ctl status >"$FL_DIR/status-a.txt"
fl_check "sipguardctl status shows the recorders and the writer" \
	grep -q "^  written to $tdir:  calls $(jq .traces.writer.calls "$FL_DIR/status-a.json") " \
	"$FL_DIR/status-a.txt"
fl_ctl -j directives >"$FL_DIR/directives.json"
evidence_files() {
	local f n=0
	for f in $(jq -r '[.directives[] | select(.trunk | startswith("trace-")) |
		.evidence.trace_files // {} | to_entries[] | .value[]] | unique | .[]' \
		"$FL_DIR/directives.json"); do
		[ -f "$f" ] || return 1
		n=$((n + 1))
	done
	echo "     $n trace file(s) named in the directives' evidence"
	[ "$n" -ge 1 ]
}
fl_check "a directive's evidence names the trace files of its Call-IDs, and they exist" evidence_files
fl_ctl trace trace-1 no-such-call@x >/dev/null 2>"$FL_DIR/err1.txt"
fl_check "an unknown Call-ID: exit 1, one line" test "$?" = 1 -a "$(wc -l <"$FL_DIR/err1.txt")" = 1
fl_ctl trace no-such-trunk >/dev/null 2>&1
fl_check "an unknown trunk: exit 1" test "$?" = 1
fl_ctl trace >/dev/null 2>&1
fl_check "no trunk: usage, exit 2" test "$?" = 2

# --- 3. flood ---------------------------------------------------------------------
echo "traces: flood for ${flood_s}s at top speed"
sg=$(fl_pid sipguard)
ctrl_pid=$(fl_pid ctrl)
fl_ctl -j status >"$FL_DIR/status-0.json"
hwm0_sg=$(fl_hwm "$sg")
hwm0_ctrl=$(fl_hwm "$ctrl_pid")
fl_replay flood 0 --topspeed -K --loop=0 --duration="$flood_s" "$FL_DIR/flood.pcap"
maxdisk=0
while fl_alive flood; do
	d=$(du -sb "$tdir" | cut -f1)
	[ "$d" -gt "$maxdisk" ] && maxdisk=$d
	sleep 0.5
done
fl_wait flood 30
fl_quiet 1 30 || fl_note "the link did not fall quiet"
sleep 1
fl_ctl -j status >"$FL_DIR/status-1.json"
hwm1_sg=$(fl_hwm "$sg")
hwm1_ctrl=$(fl_hwm "$ctrl_pid")
jq -c '.traces' "$FL_DIR/status-1.json" | sed 's/^/     /'
fl_note "tcpreplay $(fl_replay_sent flood) frames at $(fl_replay_pps flood) pps;" \
	"trace dir at most $maxdisk bytes while flooded"
series_bounded() {
	local t n big total
	for t in flood-0 flood-1 flood-2 flood-3; do
		n=$(find "$tdir" -name "$t-*.pcapng" | wc -l)
		big=$(find "$tdir" -name "$t-*.pcapng" -printf '%s\n' | sort -n | tail -n 1)
		total=$(find "$tdir" -name "$t-*.pcapng" -printf '%s\n' | awk '{s += $1} END {print s + 0}')
		echo "     $t: $n file(s), $total bytes, the largest $big"
		[ "$n" -ge 1 ] && [ "$n" -le "$files" ] && [ "${big:-0}" -le "$file_size" ] &&
			[ "$total" -le $((files * file_size)) ] || return 1
	done
}
fl_check "every flooded trunk keeps at most $files files of at most $file_size bytes" series_bounded
fl_check "the whole trace dir stayed within its bound while flooded ($maxdisk bytes)" \
	test "$maxdisk" -le $((6 * files * file_size))
python3 "$check" "$FL_DIR/flood.pcap" "$tdir" --glob 'flood-*.pcapng' --read-only --min-calls 100 \
	>"$FL_DIR/flood-check.txt"
head -n 1 "$FL_DIR/flood-check.txt" | sed 's/^/     /'
fl_check "tshark reads every flooded trunk's file" grep -q '^ok   tshark reads all' "$FL_DIR/flood-check.txt"
drops_counted() {
	jq -e -s '(.[1].traces.suppressed + .[1].traces.ring_full) > (.[0].traces.suppressed + .[0].traces.ring_full)
		and .[1].traces.writer.files_rotated > 0 and .[1].traces.writer.write_errors == 0
		and .[1].traces.sampled > .[0].traces.sampled' \
		"$FL_DIR/status-0.json" "$FL_DIR/status-1.json" >/dev/null
}
fl_check "the calls not traced are counted (over the rate or ring full), files rotated" drops_counted
fl_note "VmHWM sipguard $hwm0_sg -> $hwm1_sg KiB, sipguard-ctrl $hwm0_ctrl -> $hwm1_ctrl KiB"
fl_check "memory stays flat through the flood (VmHWM growth under 8 MiB each)" \
	test $((hwm1_sg - hwm0_sg)) -lt 8192 -a $((hwm1_ctrl - hwm0_ctrl)) -lt 8192
fl_check "sipguard and sipguard-ctrl still run" fl_alive sipguard
fl_note "$((SECONDS - t_start)) s"
fl_finish

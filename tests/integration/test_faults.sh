#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Faults under load on the replay bed (scripts/lib/flood.sh): a steady
# tcpreplay loop of calls with unique Call-IDs (flood_gen.py) into the
# live dataplane, whose counts the generator knows for any number of frames.
#
# A. Two worker lcores. sipguard-ctrl is killed with -9 at three random
#    moments under load and started again each time. Once the load has
#    stopped and the last publication landed, `sipguardctl -j totals` must
#    equal the generator's counts for the frames sent, exactly.
# B1. The load stopped, the dataplane gets SIGTERM: it exits 0 within 5 s
#    and says "stopped"; sipguard-ctrl, which notices once a second, still
#    answers just after and its totals are unchanged (exact); then it exits
#    3 by itself. The af_packet socket is gone.
# B2. The dataplane started again with the same file prefix and one worker:
#    every hugepage file of the prefix is one it maps (the first run's were
#    removed or reused, none left over). SIGTERM comes under load. What it
#    received cannot be known from outside once it has gone (its shared
#    statistics go with it), so the check is what is exactly checkable:
#    one worker reads the stream in order, so its final totals, taken from
#    sipguard-ctrl just after the dataplane exited, must be exactly the
#    generator's counts of the first N frames, N being the messages they
#    hold (a coherent snapshot of every trunk, nothing counted twice or
#    torn), with N at least the packets counted before the SIGTERM and at
#    most the frames that crossed the link.
#
# Environment: SIPGUARD (sipguard-ctrl and sipguardctl from the same
# build), FAULTS_SECONDS (load in A, default 24, 15..90), FAULTS_PPS
# (default 20000), KEEP=1 to keep the work directory.
# Exit: 0 pass, 1 fail, 77 skip.

# Checks are functions run through fl_check.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
FL_SIPGUARD=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$FL_SIPGUARD")")
FL_CTRL=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
FL_CTL=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
load=${FAULTS_SECONDS:-24}
pps=${FAULTS_PPS:-20000}
gen=$here/flood_gen.py
gen_args=(--trunks 4 --calls 100000 --seed 7)
tables="retrans_entries = 4096; dialog_entries = 4096;"

# shellcheck source=scripts/lib/flood.sh
. "$root/scripts/lib/flood.sh"

fl_preflight 128
case "$load$pps" in
*[!0-9]*) fl_skip "FAULTS_SECONDS and FAULTS_PPS are numbers" ;;
esac
if [ "$load" -lt 15 ] || [ "$load" -gt 90 ]; then
	fl_skip "FAULTS_SECONDS must be 15..90"
fi
if [ "$pps" -lt 1000 ] || [ "$pps" -gt 200000 ]; then
	fl_skip "FAULTS_PPS must be 1000..200000"
fi

fl_init
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "${FL_WATCHDOG:-}" ] && kill "$FL_WATCHDOG" 2>/dev/null && wait "$FL_WATCHDOG" 2>/dev/null
	fl_down
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
		echo "faults: logs in $FL_DIR" >&2
	else
		rm -rf "$FL_DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "FAIL time limit reached"; FL_FAILED=$((FL_FAILED + 1)); fl_finish' TERM
fl_watchdog $((load + 120))

python3 "$gen" write "$FL_DIR/load.pcap" "$FL_DIR/load.json" "${gen_args[@]}" ||
	fl_abort "the generator failed"
fl_up || fl_abort "the veth pair did not come up"
rx_ifindex=$(ip -n "$FL_NS" -j link show dev "$FL_IF_RX" | jq '.[0].ifindex')

# The counts of the first N frames, compared with a totals file.
exact() {
	python3 "$gen" count "$1" "${gen_args[@]}" >"$FL_DIR/expected-$3.json" &&
		python3 "$here/compare.py" "$FL_DIR/expected-$3.json" "$2" >"$FL_DIR/compare-$3.txt"
	local rc=$?
	grep -v '^ok' "$FL_DIR/compare-$3.txt" | sed 's/^/     /'
	return "$rc"
}
messages() {
	jq '[.trunks[], .unmatched | (.requests | add // 0) + (.responses | add // 0)] | add' "$1"
}
# Packet sockets bound to the receiving end (/proc/net/packet, column 5).
# shellcheck disable=SC2016
rx_sockets() {
	ip netns exec "$FL_NS" awk -v i="$rx_ifindex" 'NR > 1 && $5 == i' /proc/net/packet | wc -l
}
# Sleep to a tenth of a second past a wall-clock second: sipguard-ctrl
# looks for the dataplane on whole seconds, so it answers for most of the
# second after a stop sent now.
to_second() {
	python3 -c 'import time; time.sleep((1.1 - time.time() % 1) % 1)'
}
# stop_dataplane: SIGTERM, then sipguardctl as soon as the process is gone.
# Sets sg_rc, sg_secs; writes status-after.json / totals-after.json if
# sipguard-ctrl still answered.
stop_dataplane() {
	local pid i
	pid=$(fl_pid sipguard)
	rm -f "$FL_DIR/status-after.json" "$FL_DIR/totals-after.json"
	kill -TERM "$pid"
	sg_rc=timeout
	for ((i = 0; i < 500; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	sg_secs=$((i / 100)).$((i % 100 / 10))
	if ! kill -0 "$pid" 2>/dev/null; then
		if ! fl_ctl -j totals >"$FL_DIR/totals-after.json" 2>/dev/null ||
			! fl_ctl -j status >"$FL_DIR/status-after.json" 2>/dev/null; then
			rm -f "$FL_DIR/totals-after.json" "$FL_DIR/status-after.json"
		fi
		fl_wait sipguard 1
		sg_rc=$FL_RC
	fi
}

# --- A. sipguard-ctrl killed three times under load --------------------------
confa=$FL_DIR/a.conf
fl_conf "$confa" "0@0,1@0,2@1" 2 "$tables" "${gen_args[@]}"
fl_start_dataplane "$confa" || fl_abort "sipguard did not start"
fl_start_ctrl "$confa" ctrl1
fl_ctl_ready 30 || fl_abort "sipguard-ctrl did not answer: $(tail -n 2 "$FL_DIR/ctrl1.log")"
fl_check "the dataplane holds one packet socket per queue on the receiving end" \
	test "$(rx_sockets)" = 2
hp_running=$(fl_hugefiles "$FL_ID")

r0=$(fl_rx_frames)
fl_replay load 0 --pps="$pps" -K --loop=0 --duration="$load" "$FL_DIR/load.pcap"
# three moments in [3, load - 4] s, at least 3 s apart
mapfile -t moments < <(python3 -c 'import random, sys
n = int(sys.argv[1])
while True:
    m = sorted(random.uniform(3, n - 4) for _ in range(3))
    if m[1] - m[0] >= 3 and m[2] - m[1] >= 3:
        break
print("\n".join("%.1f" % x for x in m))' "$load")
echo "faults: ${load}s at $pps pps; sipguard-ctrl killed at ${moments[*]} s"
t0=$(date +%s.%N)
k=1
for m in "${moments[@]}"; do
	python3 -c 'import sys, time
time.sleep(max(0, float(sys.argv[1]) + float(sys.argv[2]) - time.time()))' "$t0" "$m"
	before=$(fl_rx_frames)
	pid=$(fl_pid "ctrl$k")
	kill -KILL "$pid"
	# The kernel tears a killed DPDK secondary down (its threads, its
	# hugepage mappings of the primary's memory) before the socket frees;
	# on a loaded machine that has taken over 5 s.
	t_kill=$(date +%s.%N)
	fl_wait "ctrl$k" 20
	killed_rc=$FL_RC
	echo "faults: kill -9: sipguard-ctrl gone after $(python3 -c 'import sys, time
print("%.2f" % (time.time() - float(sys.argv[1])))' "$t_kill") s"
	k=$((k + 1))
	fl_start_ctrl "$confa" "ctrl$k"
	fl_check "kill -9 at ${m}s: sipguard-ctrl died ($killed_rc) and answers again after a restart" \
		test "$killed_rc" = 137 -a "$(fl_ctl_ready 10 && echo y)" = y
	fl_check "  ... with the load running (frames on the link $before -> $(fl_rx_frames))" \
		test "$(fl_rx_frames)" -gt "$before" -a "$(fl_alive load && echo y)" = y
done
fl_wait load $((load + 20)) || fl_abort "tcpreplay did not finish"
fl_quiet 1 20 || fl_note "the link did not fall quiet"
sleep 0.5
if ! fl_ctl -j totals >"$FL_DIR/totals-a.json" || ! fl_ctl -j status >"$FL_DIR/status-a.json"; then
	fl_abort "sipguardctl did not answer after the load"
fi
sent=$(fl_replay_sent load)
link=$(($(fl_rx_frames) - r0))
rx=$(jq '[.ports[].rx] | add' "$FL_DIR/status-a.json")
echo "faults: sent $sent at $(fl_replay_pps load) pps, link $link, port rx $rx," \
	"missed $(jq '[.ports[].missed] | add' "$FL_DIR/status-a.json")," \
	"lcores $(jq -c '[.lcores[].packets]' "$FL_DIR/status-a.json")"
fl_check "every frame sent was received (port rx $rx = link $link = sent $sent)" \
	test "$rx" = "$link" -a "$link" = "${sent:-x}"
fl_check "both workers had traffic" \
	jq -e '[.lcores[].packets > 0] == [true, true]' "$FL_DIR/status-a.json" >/dev/null
fl_check "after 3 kills and restarts, totals equal the generator's counts exactly" \
	exact "${sent:-0}" "$FL_DIR/totals-a.json" a
fl_check "no publication lost: ring counters clean" \
	jq -e '.rings.pub_ring_full == 0 and .rings.pub_pool_empty == 0' \
	"$FL_DIR/status-a.json" >/dev/null

# --- B1. SIGTERM with the load stopped -----------------------------------------
ctrl_name=ctrl$k
to_second
stop_dataplane
echo "faults: SIGTERM, load stopped: sipguard exit $sg_rc after $sg_secs s"
fl_check "sipguard exits 0 within 5 s of SIGTERM" test "$sg_rc" = 0
fl_check "sipguard says it stopped" grep -q "stopped" "$FL_DIR/sipguard.log"
fl_check "sipguard-ctrl answered just after the dataplane exited" \
	test -s "$FL_DIR/totals-after.json"
[ -s "$FL_DIR/totals-after.json" ] &&
	fl_check "... and its totals are unchanged" exact "${sent:-0}" "$FL_DIR/totals-after.json" b1
fl_wait "$ctrl_name" 5
fl_check "sipguard-ctrl then exits 3 by itself ($FL_RC)" test "$FL_RC" = 3
fl_check "sipguard-ctrl says the dataplane stopped" \
	grep -q "dataplane stopped" "$FL_DIR/$ctrl_name.log"
fl_check "no packet socket left on the receiving end" test "$(rx_sockets)" = 0
hp_left=$(fl_hugefiles "$FL_ID")
echo "faults: hugepage files of the prefix: $hp_running while running, $hp_left after the stop"
mv "$FL_DIR/sipguard.log" "$FL_DIR/sipguard-a.log"

# --- B2. the same prefix again, SIGTERM under load -------------------------------
confb=$FL_DIR/b.conf
fl_conf "$confb" "0@0,1@1" 1 "$tables" "${gen_args[@]}"
fl_start_dataplane "$confb" || fl_abort "sipguard did not start again"
# every hugepage file of the prefix must be one the new dataplane maps
stale_files() {
	local pid mnt fstype f n=0
	pid=$(fl_pid sipguard)
	while read -r _ mnt fstype _; do
		[ "$fstype" = hugetlbfs ] || continue
		for f in "$mnt/${FL_ID}map_"*; do
			[ -e "$f" ] || continue
			grep -qF " $f" "/proc/$pid/maps" || n=$((n + 1))
		done
	done </proc/mounts
	echo "     $(fl_hugefiles "$FL_ID") files, $n not mapped by the new dataplane"
	[ "$n" = 0 ]
}
fl_check "restarted on the same prefix: no hugepage file left over from the first run" \
	stale_files
fl_start_ctrl "$confb" ctrlb
fl_ctl_ready 30 || fl_abort "sipguard-ctrl did not answer: $(tail -n 2 "$FL_DIR/ctrlb.log")"
r0=$(fl_rx_frames)
fl_replay load2 0 --pps="$pps" -K --loop=0 --duration=30 "$FL_DIR/load.pcap"
sleep 4
to_second
fl_ctl -j status >"$FL_DIR/status-before.json"
stop_dataplane
link=$(($(fl_rx_frames) - r0))
fl_stop load2
before=$(jq '[.lcores[].packets] | add' "$FL_DIR/status-before.json")
echo "faults: SIGTERM under load: sipguard exit $sg_rc after $sg_secs s; packets before" \
	"$before, frames on the link by the exit $link"
fl_check "sipguard exits 0 within 5 s of SIGTERM under load" test "$sg_rc" = 0
fl_check "sipguard says it stopped" grep -q "stopped" "$FL_DIR/sipguard.log"
if [ -s "$FL_DIR/totals-after.json" ]; then
	n=$(messages "$FL_DIR/totals-after.json")
	echo "faults: sipguard-ctrl after the exit: $n messages;" \
		"status then: $(jq -c '{dataplane, ports: (.ports | length), lcores: (.lcores | length)}' \
			"$FL_DIR/status-after.json")"
	fl_check "final totals are exactly the counts of the first $n frames" \
		exact "$n" "$FL_DIR/totals-after.json" b2
	fl_check "... and hold every packet counted before the SIGTERM ($before <= $n <= $link)" \
		test "$n" -ge "${before:-x}" -a "$n" -le "$link"
else
	fl_check "sipguard-ctrl answered just after the dataplane exited" false
fi
fl_wait ctrlb 5
fl_check "sipguard-ctrl exits 3 by itself ($FL_RC)" test "$FL_RC" = 3
fl_check "no packet socket left on the receiving end" test "$(rx_sockets)" = 0
fl_finish

#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hot reload under load on the live test bed (scripts/lib/live.sh): the
# dataplane (one worker on the carrier veth's af_packet port),
# sipguard-ctrl and dumpcap on the same interface, the dialers ramping
# into both carriers while the config changes under them:
#
#   1. `sipguardctl reload`: carrier-b's IPv6 prefix moves to a new trunk
#      carrier-b6, carrier-a's agreed CPS goes from 30 to 45;
#   2. a file with a syntax error: refused with the loader's file:line
#      line, nothing changes, counting goes on;
#   3. a structural change (dataplane.lcores): refused, naming the key;
#   4. SIGHUP to the dataplane: carrier-b6 removed (its prefix back to
#      carrier-b, its totals kept) and carrier-a renamed carrier-alpha
#      (same prefixes and port: its counts go on under the new name);
#      sipguard-ctrl follows by itself;
#   5. SIGHUP to sipguard-ctrl: a policy parameter and a directive sink
#      (a JSON-lines file) added, a rule's class changed; the trunks as
#      they were.
#
# The diagnosis rules change with them: the carriers' "503 Service
# Unavailable" reads as overload (v1), then as cps-limit, carrier-a's
# Q.850 cause 34 as concurrency-limit before it (reload 1), then as
# route-down (reload 2), then as maintenance (reload 3); a rule whose
# pattern Hyperscan refuses (2b) is refused with file, line and rule, and
# counting goes on with the rules in force. diag_oracle.py switches rules
# at the same frames, and the per-trunk diagnosis counts must equal it.
# When the carriers' 503s begin depends on the machine's speed; at least
# two rule versions must have read some.
#
# At each applied reload the worker says from which frame it counted
# with the new trunk table (status: lcores[].trunks_from_packet); the
# oracle (tshark_counts.py --reload FRAMES:CONFIG) switches configs at
# the same frames of dumpcap's capture. `sipguardctl -j totals` at the
# end must equal it on every trunk (removed and renamed ones included)
# and unmatched: nothing lost, and each change in the counts from the
# frame of its reload.
#
# Environment: SIPGUARD (sipguard binary; sipguard-ctrl and sipguardctl
# from the same build unless SIPGUARD_CTRL / SIPGUARDCTL say otherwise),
# LIVE_DIAL_SECONDS (default 18, 8..20), KEEP=1 keeps the work directory.
# Exit: 0 pass, 1 fail, 77 skip.

# Checks are functions run through check(), not unreachable code.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$sipguard")")
ctrl=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
ctl=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
dial=${LIVE_DIAL_SECONDS:-18}
time_limit=${LIVE_TIME_LIMIT:-200}

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"

live_needs "$sipguard" "$ctrl" "$ctl" -- sipp kamailio dumpcap capinfos tshark nft ip ethtool jq python3
live_preflight "$dial"

# shellcheck source=scripts/lib/testbed.sh
. "$root/scripts/lib/testbed.sh"
# shellcheck source=scripts/lib/live.sh
. "$root/scripts/lib/live.sh"

# shellcheck disable=SC2119
tb_init
conf=$TB_DIR/live.conf # the file both processes were started with
sock=$TB_DIR/ctrl.sock
cap=$TB_DIR/capture.pcapng
t_start=$SECONDS
watchdog=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null && wait "$watchdog" 2>/dev/null
	tb_stop ctrl
	tb_down
	lv_dpdk_clean "$TB_ID"
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
		echo "reload: logs and capture in $TB_DIR" >&2
	else
		rm -rf "$TB_DIR"
	fi
	exit "$rc"
}
check_run reload "$time_limit"



# --- the configs ----------------------------------------------------------
# One RX queue, one worker: the frame a reload takes effect at is one
# number, the same in dumpcap's capture.
tb_up || abort "test bed did not come up"
lv_conf "$TB_DIR/base.conf" "0@0,1@1"
sed -i -e 's/qpairs=2/qpairs=1/' -e 's/rx_queues = 2/rx_queues = 1/' "$TB_DIR/base.conf"
grep -q "rx_queues = 1" "$TB_DIR/base.conf" || abort "could not write a one-queue config"
# with_trunks NAME: the base config with the trunks read from stdin
with_trunks() {
	sed '/^trunks = (/,$d' "$TB_DIR/base.conf" >"$TB_DIR/$1.conf"
	cat >>"$TB_DIR/$1.conf"
}
with_trunks v1 <<EOF
trunks = (
  { name = "carrier-a"; prefixes = [ "$TB_ADDR_A4/32" ]; cps = $LV_CPS_A; max_concurrent = 300; },
  { name = "carrier-b"; prefixes = [ "$TB_ADDR_B4/32", "2001:db8:b::/48" ]; port = $LV_PORT_B; cps = $LV_CPS_B; max_concurrent = 100; }
);
EOF
with_trunks v2 <<EOF
trunks = (
  { name = "carrier-b6"; prefixes = [ "2001:db8:b::/48" ]; port = $LV_PORT_B; cps = 12; max_concurrent = 50; },
  { name = "carrier-a"; prefixes = [ "$TB_ADDR_A4/32" ]; cps = 45; max_concurrent = 300; },
  { name = "carrier-b"; prefixes = [ "$TB_ADDR_B4/32" ]; port = $LV_PORT_B; cps = $LV_CPS_B; max_concurrent = 100; }
);
EOF
with_trunks v3 <<EOF
trunks = (
  { name = "carrier-alpha"; prefixes = [ "$TB_ADDR_A4/32" ]; cps = 45; max_concurrent = 300; },
  { name = "carrier-b"; prefixes = [ "$TB_ADDR_B4/32", "2001:db8:b::/48" ]; port = $LV_PORT_B; cps = $LV_CPS_B; max_concurrent = 100; }
);
EOF
# The diagnosis rules of each version (the base's shipped ones are cut
# with its trunks): one rule edited and one added at reload 1, the class
# changed at reload 2.
rules() {
	echo "diagnosis = ("
	[ "$1" = v2 ] && printf '%s\n' '  { name = "q850-34"; class = "concurrency-limit"; field = "Reason"; pattern = "cause\\s*=\\s*34\\b"; },'
	case $1 in
	v1) echo '  { name = "svc"; class = "overload"; pattern = "Service Unavailable"; }' ;;
	v2) echo '  { name = "svc"; class = "cps-limit"; pattern = "Service Unavailable$"; }' ;;
	v3) echo '  { name = "svc"; class = "route-down"; pattern = "Service Unavailable"; }' ;;
	bad) echo '  { name = "svc"; class = "cps-limit";'
		echo '    pattern = "Service (Unavailable"; }' ;;
	esac
	echo ");"
}
for v in v1 v2 v3; do
	rules $v >>"$TB_DIR/$v.conf"
done
# v4: v3 with one policy parameter changed and a directive file
{
	sed '/^trunks = (/,$d' "$TB_DIR/v3.conf"
	echo 'policy = { window = 7; };'
	echo "directives = { file = \"$TB_DIR/directives.jsonl\"; };"
	sed -n '/^trunks = (/,$p' "$TB_DIR/v3.conf" |
		sed 's/class = "route-down"; pattern = "Service Unavailable"/class = "maintenance"; pattern = "Service Unavailable"/'
} >"$TB_DIR/v4.conf"
grep -q 'class = "maintenance"' "$TB_DIR/v4.conf" || abort "could not write v4's rules"
# bad: a syntax error on a known line of v2
cp "$TB_DIR/v2.conf" "$TB_DIR/bad.conf"
echo 'policy = { window = ; };' >>"$TB_DIR/bad.conf"
bad_line=$(wc -l <"$TB_DIR/bad.conf")
# badre: v2's trunks with a pattern Hyperscan refuses, on a known line
sed '/^diagnosis = (/,$d' "$TB_DIR/v2.conf" >"$TB_DIR/badre.conf"
rules bad >>"$TB_DIR/badre.conf"
badre_line=$(grep -n 'pattern = "Service (Unavailable"' "$TB_DIR/badre.conf" | cut -d: -f1)
# structural: v2 with the worker on another CPU
sed 's/lcores = "0@0,1@1"/lcores = "0@0,1@0"/' "$TB_DIR/v2.conf" >"$TB_DIR/lcores.conf"
cp "$TB_DIR/v1.conf" "$conf"

# --- the appliance and the observer ----------------------------------------
lv_carriers_up 150 || abort "carriers did not start"
lv_link_quiet 1 10 || note "the veth did not fall quiet before the start"
k_before=$(lv_link_frames)
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
tb_spawn c capture dumpcap -q -i "$TB_IF_C" -w "$cap"
for ((i = 0; i < 50; i++)); do
	grep -q "Capturing on" "$TB_DIR/capture.log" 2>/dev/null && [ -s "$cap" ] && break
	sleep 0.1
done
[ -s "$cap" ] || abort "dumpcap did not start: $(head -n 3 "$TB_DIR/capture.log")"
k_start=$(lv_link_frames)
# A frame that crossed before sipguard's port was up is in neither count;
# one between the two starts would break the frame numbers the reloads are
# matched by, and the check that the worker took exactly dumpcap's frames
# (at the end) fails then.
[ "$k_start" -eq "$k_before" ] ||
	note "$((k_start - k_before)) frame(s) crossed the veth while sipguard and dumpcap started"

# wait_gen N: the worker counts with trunk table N; prints the frames it
# had taken before it did.
wait_gen() {
	local want=$1 i st
	for ((i = 0; i < 50; i++)); do
		st=$(ctl_ -j status 2>/dev/null) || st=
		if [ -n "$st" ] && jq -e --argjson g "$want" \
			'.reload.generation == $g and .lcores[0].trunks_gen == $g' \
			<<<"$st" >/dev/null; then
			jq '.lcores[0].trunks_from_packet' <<<"$st"
			return 0
		fi
		sleep 0.1
	done
	return 1
}
attempts() {
	ctl_ -j totals | jq '[.trunks[].invite_attempts] | add'
}
# attempts_after A0: the attempts once they are past A0 (the dialers go
# on; a worker starved of CPU by a loaded machine may take seconds), at
# most 10 s; A0 itself if they never were.
attempts_after() {
	local a i
	for ((i = 0; i < 50; i++)); do
		a=$(attempts)
		[ "${a:-0}" -gt "$1" ] && break
		sleep 0.2
	done
	echo "${a:-$1}"
}

# --- reloads while the dialers ramp ------------------------------------------
echo "reload: ${dial}s of calls"
lv_dial_start 1 "$dial" 5062
sleep 5

# 1. sipguardctl reload
cp "$TB_DIR/v2.conf" "$conf"
ctl_ -j reload >"$TB_DIR/reload1.json" 2>"$TB_DIR/reload1.err"
rc=$?
check "sipguardctl reload: exit 0 ($(head -c 200 "$TB_DIR/reload1.err"))" test "$rc" -eq 0
reload1_ok() {
	jq -e '.generation == 1 and .removed == [] and
		([.trunks[] | {(.name): .change}] | add) ==
		{"carrier-b6": "added", "carrier-a": "changed", "carrier-b": "changed"}' \
		"$TB_DIR/reload1.json" >/dev/null
}
check "reload 1 says: carrier-b6 added, carrier-a and carrier-b changed" reload1_ok
f1=$(wait_gen 1) || abort "the worker did not take trunk table 1"
note "reload 1 took effect after frame $f1"
ctl_ -j trunks >"$TB_DIR/trunks1.json"
trunks1_ok() {
	jq -e '[.trunks[] | select(.name != "(unmatched)") | [.name, .cps_agreed]] | sort ==
		[["carrier-a", 45], ["carrier-b", 20], ["carrier-b6", 12]]' \
		"$TB_DIR/trunks1.json" >/dev/null
}
check "trunks: carrier-b6 is there and carrier-a's agreed CPS is 45 at once" trunks1_ok
sleep 2

# 2. a bad file
a0=$(attempts)
cp "$TB_DIR/bad.conf" "$conf"
ctl_ reload >"$TB_DIR/reload2.out" 2>"$TB_DIR/reload2.err"
rc=$?
note "$(cat "$TB_DIR/reload2.err")"
bad_refused() {
	[ "$rc" -eq 1 ] && [ ! -s "$TB_DIR/reload2.out" ] &&
		[ "$(wc -l <"$TB_DIR/reload2.err")" -eq 1 ] &&
		grep -q "$conf:$bad_line: " "$TB_DIR/reload2.err"
}
check "a bad file: exit 1, one line naming $(basename "$conf"):$bad_line" bad_refused
a1=$(attempts_after "$a0")
counting_goes_on() {
	ctl_ -j status | jq -e '.reload.generation == 1 and .reload.refused == 1' >/dev/null &&
		[ "$a1" -gt "$a0" ]
}
check "after the bad file: generation 1 still, attempts counted on ($a0 -> $a1)" \
	counting_goes_on

# 2b. a pattern Hyperscan refuses: refused by the dataplane, naming it
a0=$(attempts)
cp "$TB_DIR/badre.conf" "$conf"
ctl_ reload >"$TB_DIR/reload2b.out" 2>"$TB_DIR/reload2b.err"
rc=$?
note "$(cat "$TB_DIR/reload2b.err")"
badre_refused() {
	[ "$rc" -eq 1 ] && [ "$(wc -l <"$TB_DIR/reload2b.err")" -eq 1 ] &&
		grep -qF "$conf:$badre_line: diagnosis[0] (svc).pattern: \"Service (Unavailable\": Hyperscan:" \
			"$TB_DIR/reload2b.err"
}
check "a bad pattern: exit 1, one line naming $(basename "$conf"):$badre_line, the rule and Hyperscan's reason" \
	badre_refused
a1=$(attempts_after "$a0")
old_rules_count() {
	ctl_ -j status | jq -e '.reload.generation == 1 and .reload.refused == 2' >/dev/null &&
		[ "$a1" -gt "$a0" ]
}
check "after the bad pattern: generation 1 still, attempts counted on ($a0 -> $a1)" \
	old_rules_count

# 3. a structural change
cp "$TB_DIR/lcores.conf" "$conf"
ctl_ reload >"$TB_DIR/reload3.out" 2>"$TB_DIR/reload3.err"
rc=$?
note "$(cat "$TB_DIR/reload3.err")"
structural_refused() {
	[ "$rc" -eq 1 ] && [ "$(wc -l <"$TB_DIR/reload3.err")" -eq 1 ] &&
		grep -q "dataplane.lcores: cannot change while running" "$TB_DIR/reload3.err" &&
		ctl_ -j status | jq -e '.reload.generation == 1' >/dev/null
}
check "a structural change: refused, naming dataplane.lcores" structural_refused
sleep 1

# 4. SIGHUP to the dataplane
cp "$TB_DIR/v3.conf" "$conf"
kill -HUP "$(tb_pid sipguard)"
f2=$(wait_gen 2) || abort "the worker did not take trunk table 2 after SIGHUP"
note "reload 2 (SIGHUP to sipguard) took effect after frame $f2"
followed() {
	local i
	for ((i = 0; i < 20; i++)); do
		ctl_ -j trunks >"$TB_DIR/trunks2.json"
		ctl_ -j totals >"$TB_DIR/totals2.json"
		jq -e '[.trunks[].name | select(. != "(unmatched)")] | sort ==
			["carrier-alpha", "carrier-b"]' \
			"$TB_DIR/trunks2.json" >/dev/null &&
			jq -e '.removed == ["carrier-b6"] and
				(.trunks | has("carrier-b6") and has("carrier-alpha") and
				(has("carrier-a") | not))' "$TB_DIR/totals2.json" >/dev/null &&
			return 0
		sleep 0.2
	done
	return 1
}
check "sipguard-ctrl follows: carrier-alpha (renamed), carrier-b6 removed, its totals kept" \
	followed
grep -q "the dataplane reloaded; .* reloaded too" "$TB_DIR/ctrl.log"
check "sipguard-ctrl reloaded its own file after the dataplane's SIGHUP" test $? -eq 0
sleep 1.5

# 5. SIGHUP to sipguard-ctrl: policy and sinks (the dataplane swaps an equal table)
cp "$TB_DIR/v4.conf" "$conf"
kill -HUP "$(cat "$TB_DIR/ctrl.pid")"
f3=$(wait_gen 3) || abort "SIGHUP to sipguard-ctrl did not reload"
note "reload 3 (SIGHUP to sipguard-ctrl) took effect after frame $f3"
check "SIGHUP to sipguard-ctrl: applied, trunks as they were, policy changed, sinks reopened" \
	grep -q "reload applied: .*0 added, 0 removed, 0 renamed, 0 changed .*; policy changed; sinks reopened" \
	"$TB_DIR/ctrl.log"
check "the new directive file sink is open" test -e "$TB_DIR/directives.jsonl"

lv_dial_wait 1 $((dial + 25)) || note "dialers had to be stopped"

# --- traffic ceased --------------------------------------------------------------
tb_stop carrier-a
tb_stop carrier-b
tb_stop uas
lv_link_quiet 2 20 || note "the veth did not fall quiet after the traffic"
k_end=$(lv_link_frames)
tb_stop capture INT
sleep 1.2
ctl_ -j status >"$TB_DIR/status.json"
ctl_ -j totals >"$TB_DIR/totals.json"
frames=$(capinfos -c -M "$cap" 2>/dev/null | awk '/Number of packets/ {print $NF}')
lc=$(jq '[.lcores[].packets] | add' "$TB_DIR/status.json")
echo "reload: frames: dumpcap $frames, sipguard $lc, veth $((k_end - k_start))"
check "dumpcap saw every frame of the veth" test "${frames:-x}" = "$((k_end - k_start))"
check "the worker took the frames dumpcap saw" test "${lc:-x}" = "${frames:-y}"
clean_run() {
	jq -e '.rings.pub_ring_full == 0 and .rings.pub_pool_empty == 0 and
		.rings.evt_ring_full == 0 and ([.ports[].missed] | add) == 0 and
		.ctrl.invalid_pubs == 0 and .reload.applied == 3 and .reload.refused == 3' \
		"$TB_DIR/status.json" >/dev/null
}
check "status: no ring drops, no missed frames, no publication refused; 3 applied, 3 refused" \
	clean_run

# --- the oracle, switching trunks at the same frames ----------------------------
if python3 "$here/tshark_counts.py" --reload "$f1:$TB_DIR/v2.conf" \
	--reload "$f2:$TB_DIR/v3.conf" --reload "$f3:$TB_DIR/v4.conf" \
	"$TB_DIR/v1.conf" "$cap" >"$TB_DIR/expected.json"; then
	meaningful() {
		jq -e '.trunks["carrier-b6"].invite_attempts > 0 and
			.trunks["carrier-alpha"].invite_attempts > 0 and
			([.trunks[].invite_final["503"] // 0] | add) > 0 and
			.trunks["carrier-b"].invite_attempts > 0 and
			([.trunks[].retransmissions] | add) > 0' \
			"$TB_DIR/expected.json" >/dev/null
	}
	check "the capture has calls on every trunk of every config, 503s and retransmissions" \
		meaningful
	# each change shows in the counts: the oracle without the reloads differs
	python3 "$here/tshark_counts.py" "$TB_DIR/v1.conf" "$cap" >"$TB_DIR/expected-noreload.json"
	python3 "$here/compare.py" "$TB_DIR/expected-noreload.json" "$TB_DIR/totals.json" \
		>"$TB_DIR/compare-noreload.txt"
	check "the counts differ from a run without reloads" test $? -ne 0
	echo "--- per trunk: oracle with the reloads at their frames vs sipguardctl -j totals"
	python3 "$here/compare.py" "$TB_DIR/expected.json" "$TB_DIR/totals.json" |
		tee "$TB_DIR/compare.txt"
	check "totals equal the oracle on every trunk (removed and renamed too) and unmatched" \
		test "${PIPESTATUS[0]}" -eq 0
	# the diagnosis, rules switched at the same frames
	python3 "$here/diag_oracle.py" --reload "$f1:$TB_DIR/v2.conf" \
		--reload "$f2:$TB_DIR/v3.conf" --reload "$f3:$TB_DIR/v4.conf" \
		"$TB_DIR/v1.conf" "$cap" >"$TB_DIR/diag-expected.json" 2>"$TB_DIR/diag-oracle.err"
	check "diagnosis oracle ran ($(head -c 200 "$TB_DIR/diag-oracle.err"))" test $? -eq 0
	python3 "$here/diag_oracle.py" "$TB_DIR/v1.conf" "$cap" >"$TB_DIR/diag-noreload.json"
	# sipguardctl's diagnosis per trunk, in the oracle's shape
	jq '{trunks: (.trunks | map_values(.diagnosis)), unmatched: .unmatched.diagnosis}' \
		"$TB_DIR/totals.json" >"$TB_DIR/diag-actual.json"
	diag_shape='{trunks, unmatched}'
	echo "--- diagnosis per trunk: oracle (rules switched at the reload frames) vs totals"
	jq -c "$diag_shape" "$TB_DIR/diag-expected.json" | tee "$TB_DIR/diag-compare.txt"
	jq -c '.' "$TB_DIR/diag-actual.json" | tee -a "$TB_DIR/diag-compare.txt"
	diag_equal() {
		jq -e --slurpfile a "$TB_DIR/diag-actual.json" "$diag_shape == \$a[0]" \
			"$TB_DIR/diag-expected.json" >/dev/null
	}
	check "diagnosis counts equal the oracle on every trunk and unmatched" diag_equal
	# when the 503s begin depends on the machine: two versions at least
	diag_meaningful() {
		jq -e '[.trunks[] | to_entries[] | select(.value > 0) | .key] | unique |
			length >= 2' "$TB_DIR/diag-expected.json" >/dev/null
	}
	check "503s read by at least two rule versions: $(jq -c '[.trunks[] | to_entries[] |
		select(.value > 0) | .key] | unique' "$TB_DIR/diag-expected.json")" diag_meaningful
	diag_differs() {
		! jq -e --slurpfile a "$TB_DIR/diag-actual.json" "$diag_shape == \$a[0]" \
			"$TB_DIR/diag-noreload.json" >/dev/null
	}
	check "the diagnosis differs from the capture read with the first rules throughout" \
		diag_differs
	for t in carrier-alpha carrier-b carrier-b6; do
		note "$t: $(jq -c --arg t "$t" '.trunks[$t] | {invite_attempts, invite_final,
			retransmissions}' "$TB_DIR/totals.json")"
	done
else
	check "tshark oracle ran" false
fi

# --- the dataplane stops cleanly after its reloads ---------------------------------
sg_pid=$(tb_pid sipguard)
kill -TERM "$sg_pid"
for ((i = 0; i < 50; i++)); do
	kill -0 "$sg_pid" 2>/dev/null || break
	sleep 0.1
done
check "sipguard exits within 5 s of SIGTERM" test "$i" -lt 50
finish

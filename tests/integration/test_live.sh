#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live appliance against the tshark oracle: sipguard (DPDK primary, the
# carrier's veth as an af_packet port with two RX queues and two worker
# lcores), sipguard-ctrl and sipguardctl, on the namespace test bed of
# scripts/record, while dumpcap records the same interface.
#
# Two dialing phases with a quiet gap between them. Late in the first, with
# calls and 503s in flight, sipguard-ctrl is killed with -9 and started
# again: its totals must still end up exact. At the end, `sipguardctl -j totals` must equal the
# oracle's counts over dumpcap's capture, and the dataplane must have
# received exactly the frames dumpcap saw (both start before any traffic
# and stop after it has ceased, and the kernel's own counters on the veth
# show that nothing crossed while only one of them was listening).
#
# The 1 s time series are checked against the totals across the second
# phase: a restarted control plane takes what the workers republish as its
# baseline, not as traffic, so only attempts made after the restart has
# settled are exactly what the series must hold.
#
# Then the CLI (table against JSON, status, events), its error paths, and
# a clean SIGTERM of the dataplane, after which sipguard-ctrl exits alone.
#
# Environment:
#   SIPGUARD            sipguard binary (default build/dataplane/sipguard);
#                       sipguard-ctrl and sipguardctl are taken from the same
#                       build unless SIPGUARD_CTRL / SIPGUARDCTL say otherwise
#   LIVE_DIAL_SECONDS   seconds of new calls per phase (default 14, 8..20)
#   KEEP=1              keep the work directory (also kept on failure)
# Exit: 0 pass, 1 fail, 77 skip (not root, no hugepages, binaries or tools
# missing).

# Checks are functions run through check(), not unreachable code.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$sipguard")")
ctrl=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
ctl=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
dial=${LIVE_DIAL_SECONDS:-14}
time_limit=${LIVE_TIME_LIMIT:-230}

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
conf=$TB_DIR/live.conf
sock=$TB_DIR/ctrl.sock
cap=$TB_DIR/capture.pcapng
t_start=$SECONDS
watchdog=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null && wait "$watchdog" 2>/dev/null
	# ctrl (root namespace) and everything in the namespaces, sipguard too
	tb_stop ctrl
	tb_down
	lv_dpdk_clean "$TB_ID"
	lv_dpdk_clean "${TB_ID}x"
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
		echo "live: logs and capture in $TB_DIR" >&2
	else
		rm -rf "$TB_DIR"
	fi
	exit "$rc"
}
check_run live "$time_limit"



# --- test bed, observers --------------------------------------------------
tb_up || abort "test bed did not come up"
lv_conf "$conf"
lv_carriers_up 180 || abort "carriers did not start"

# Both observers must hold the same window: nothing may cross the veth
# between the first starting and the second being ready.
lv_link_quiet 1 10 || note "the veth did not fall quiet before the start"
k_before=$(lv_link_frames)
tb_spawn c sipguard "$sipguard" -c "$conf"
# sipguard-ctrl only once the dataplane's ports are up: a secondary that
# attaches while the primary is still probing its af_packet port panics in
# EAL init ("Cannot allocate ethdev shared data"), --wait or not.
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
check "no frame crossed the veth while sipguard and dumpcap were starting" \
	test "$k_start" -eq "$k_before"

# --- phase 1, with sipguard-ctrl killed and started again in the middle ---
echo "live: phase 1: ${dial}s of calls"
lv_dial_start 1 "$dial" 5062
# late enough that both carriers are answering 503 (and retransmitting)
sleep $((dial - 4))
ctl_ -j totals >"$TB_DIR/totals-before-kill.json" 2>/dev/null
kill -KILL "$(tb_pid ctrl)"
wait "$(tb_pid ctrl)" 2>/dev/null
rm -f "$TB_DIR/ctrl.pid"
mv "$TB_DIR/ctrl.log" "$TB_DIR/ctrl-killed.log"
lv_spawn ctrl "$ctrl" -c "$conf" --wait
check "sipguard-ctrl answers again after kill -9 and a restart" ctl_ready 10
lv_dial_wait 1 $((dial + 20)) || note "phase 1 dialers had to be stopped"

# The gap: no new INVITE for a few seconds on either side of T0.
sleep 2
s0=$(date +%s)
ctl_ -j totals >"$TB_DIR/totals-t0.json"
ctl_ -j status >"$TB_DIR/status-t0.json"
[ "$(date +%s)" -eq "$s0" ] || {
	s0=$(date +%s)
	ctl_ -j totals >"$TB_DIR/totals-t0.json"
	ctl_ -j status >"$TB_DIR/status-t0.json"
}
# The kill must have hit traffic in flight: calls and 503s before it, more
# after it.
mid_traffic() {
	jq -e -s '[.[0].trunks[] | .invite_attempts] as $b |
		[.[1].trunks[] | .invite_attempts] as $a |
		($b | add) > 0 and ([.[0].trunks[] | .invite_final["503"] // 0] | add) > 0 and
		([range($a | length) | $a[.] > $b[.]] | all)' \
		"$TB_DIR/totals-before-kill.json" "$TB_DIR/totals-t0.json" >/dev/null
}
check "sipguard-ctrl was killed with calls and 503s in flight" mid_traffic
sleep 2

# --- phase 2 --------------------------------------------------------------
echo "live: phase 2: ${dial}s of calls"
lv_dial_start 2 "$dial" 5072
lv_dial_wait 2 $((dial + 20)) || note "phase 2 dialers had to be stopped"

# --- traffic ceased: the same window for the dataplane and dumpcap ---------
# The carriers go first (a tm transaction whose ACKs were lost may
# retransmit its 503 for up to 32 s), then the link must be quiet.
tb_stop carrier-a
tb_stop carrier-b
tb_stop uas
lv_link_quiet 2 20 || note "the veth did not fall quiet after the traffic"
k_end=$(lv_link_frames)
tb_stop capture INT
sleep 1.2 # a publication (100 ms) and a closed second of the series
ctl_ -j status >"$TB_DIR/status.json"
ctl_ -j totals >"$TB_DIR/totals.json"
# The 60 s series, fetched now (the window moves on) with the second the
# server answered in: the same before and after the call.
for t in carrier-a carrier-b; do
	: >"$TB_DIR/trunk-$t.second"
	for ((i = 0; i < 5; i++)); do
		before=$(date +%s)
		ctl_ -j trunk "$t" >"$TB_DIR/trunk-$t.json"
		[ "$(date +%s)" -eq "$before" ] && echo "$before" >"$TB_DIR/trunk-$t.second" && break
	done
done
check "nothing crossed the veth after the quiet point" test "$(lv_link_frames)" -eq "$k_end"
frames=$(capinfos -c -M "$cap" 2>/dev/null | awk '/Number of packets/ {print $NF}')
rx=$(jq '[.ports[].rx] | add' "$TB_DIR/status.json")
lc=$(jq '[.lcores[].packets] | add' "$TB_DIR/status.json")
echo "live: frames: dumpcap $frames, sipguard ports rx $rx, lcores $lc," \
	"veth counters $((k_end - k_start))"
check "dumpcap saw every frame of the veth ($((k_end - k_start)))" \
	test "${frames:-x}" = "$((k_end - k_start))"
check "sipguard port rx equals the frames dumpcap saw" test "${rx:-x}" = "${frames:-y}"
check "sipguard lcores' packets add up to the frames dumpcap saw" test "${lc:-x}" = "${frames:-y}"

# --- totals against the oracle ---------------------------------------------
if python3 "$here/tshark_counts.py" "$conf" "$cap" >"$TB_DIR/expected.json"; then
	meaningful() {
		jq -e '.trunks["carrier-a"].invite_final["503"] > 0 and
			.trunks["carrier-b"].invite_final["503"] > 0 and
			.trunks["carrier-a"].invite_final["200"] > 0 and
			.trunks["carrier-b"].invite_final["200"] > 0 and
			([.trunks[].invite_attempts] | add) >= 200 and
			([.trunks[].retransmissions] | add) > 0' \
			"$TB_DIR/expected.json" >/dev/null
	}
	check "the capture has attempts, 200s, 503s and retransmissions on both carriers" meaningful
	check "oracle counted every frame" \
		test "$(jq '.source.packets' "$TB_DIR/expected.json")" = "${frames:-x}"
	echo "--- per trunk: tshark oracle (expected) vs sipguardctl -j totals (actual)"
	python3 "$here/compare.py" "$TB_DIR/expected.json" "$TB_DIR/totals.json" |
		tee "$TB_DIR/compare.txt"
	check "sipguardctl -j totals equals the oracle on every trunk and unmatched" \
		test "${PIPESTATUS[0]}" -eq 0
	for t in carrier-a carrier-b; do
		echo "live: $t: $(jq -c --arg t "$t" '.trunks[$t] | {invite_attempts,
			invite_final, retransmissions, requests: (.requests | add),
			responses: (.responses | add)}' "$TB_DIR/totals.json")"
	done
else
	check "tshark oracle ran" false
fi

# --- status ------------------------------------------------------------------
status_ok() {
	jq -e '.dataplane == "running" and (.lcores | length) == 2 and
		([.lcores[].lcore] | sort) == [1, 2] and
		.rings.pub_ring_full == 0 and .rings.pub_pool_empty == 0 and
		.rings.evt_ring_full == 0 and .rings.evt_pool_empty == 0 and
		([.ports[].missed] | add) == 0 and ([.ports[].errors] | add) == 0' \
		"$TB_DIR/status.json" >/dev/null
}
check "status: dataplane running, 2 lcores, no ring drops, no missed frames" status_ok
status_text() {
	local out
	out=$(ctl_ status) || return 1
	grep -q "dataplane running" <<<"$out" &&
		grep -q "pub_ring_full 0  pub_pool_empty 0  evt_ring_full 0  evt_pool_empty 0" \
			<<<"$out"
}
check "status (table) says dataplane running and no ring drops" status_text

# --- trunks: the table shows the JSON's numbers -------------------------------
# Rates move with the clock: a table is only compared with a JSON answer
# that did not change around it.
trunks_table() {
	local i
	for ((i = 0; i < 5; i++)); do
		ctl_ -j trunks >"$TB_DIR/trunks-a.json" || return 1
		ctl_ trunks >"$TB_DIR/trunks.txt" || return 1
		ctl_ -j trunks >"$TB_DIR/trunks-b.json" || return 1
		cmp -s "$TB_DIR/trunks-a.json" "$TB_DIR/trunks-b.json" && break
	done
	python3 - "$TB_DIR/trunks-a.json" "$TB_DIR/trunks.txt" <<'PY'
import json, re, sys
rows = json.load(open(sys.argv[1]))["trunks"]
lines = open(sys.argv[2]).read().splitlines()
# Columns are two or more blanks apart; a heading may hold one ("503 %"),
# a cell none.
heads = re.split(r"\s{2,}", lines[0].strip()) if lines else []
def r(v, scale=1):
    return "-" if v is None else "%.1f" % (v * scale)
def state(t):
    s = t.get("state") if isinstance(t.get("state"), str) else "-"
    return s + ("+alert" if t.get("alerting") is True else "")
def limit(t):
    v = t.get("limit_cps")
    return "%d" % v if isinstance(v, int) and not isinstance(v, bool) else "-"
want_cols = {
    "NAME": lambda t: t["name"],
    "CPS/AGREED": lambda t: "%d/%d" % (t["cps"], t["cps_agreed"]),
    "CALLS/MAX": lambda t: "%d/%d" % (t["concurrent"], t["max_concurrent"]),
    "503/S": lambda t: r(t["r503_per_s"]),
    "503 %": lambda t: r(t["share_503_pct"]),
    "ANSWER %": lambda t: r(t["answer_ratio"], 100),
    "STATE": state,
    "LIMIT": limit,
    "CAUSE": lambda t: t["leading_class"] or "-",
}
core = ["NAME", "CPS/AGREED", "CALLS/MAX", "503/S", "503 %", "ANSWER %"]
if heads[:6] != core:
    print("     table header %r" % heads)
    sys.exit(1)
other = [h for h in heads if h not in want_cols]
if other:
    print("     columns not checked: %s" % ", ".join(other))
table = {}
for ln in lines[1:]:
    f = ln.split()
    if len(f) != len(heads):
        print("     row does not fit the header %r: %r" % (heads, ln))
        sys.exit(1)
    table[f[0]] = dict(zip(heads, f))
bad = 0
if set(table) != {t["name"] for t in rows}:
    print("     names: table %s, json %s" % (sorted(table), sorted(t["name"] for t in rows)))
    bad += 1
for t in rows:
    got = table.get(t["name"], {})
    for h in heads:
        if h in want_cols and got.get(h) != want_cols[h](t):
            print("     %s %s: table %r, json %r" % (t["name"], h, got.get(h), want_cols[h](t)))
            bad += 1
sys.exit(1 if bad else 0)
PY
}
check "trunks: the table's numbers are the JSON's" trunks_table
# carrier-a's 503s carry Q.850 cause 34: the shipped rules call it a
# concurrency limit; carrier-b's cause 63 no rule reads
leading() {
	ctl_ -j trunks >"$TB_DIR/trunks-lead.json" || return 1
	jq -e '[.trunks[] | {(.name): .leading_class}] | add |
		.["carrier-a"] == "concurrency-limit" and .["carrier-b"] == null' \
		"$TB_DIR/trunks-lead.json" >/dev/null
}
check "trunks: the leading cause of each carrier's refusals" leading
agreed() {
	jq -e '[.trunks[] | select(.name == "carrier-a" or .name == "carrier-b") |
		[.name, .cps_agreed, .max_concurrent]] ==
		[["carrier-a", 30, 300], ["carrier-b", 20, 100]]' \
		"$TB_DIR/trunks-a.json" >/dev/null
}
check "trunks: agreed CPS and concurrency are the config's" agreed
share_503() {
	jq -e '[.trunks[] | select(.name == "carrier-a" or .name == "carrier-b") |
		.share_503_pct > 0 and .final_503_total > 0] == [true, true]' \
		"$TB_DIR/trunks-a.json" >/dev/null
}
check "trunks: both carriers show a 503 share" share_503

watch_json() {
	ctl_ -j watch -n 2 -i 0.2 >"$TB_DIR/watch.txt" || return 1
	[ "$(wc -l <"$TB_DIR/watch.txt")" -eq 2 ] &&
		jq -e -s 'length == 2 and all(.[]; (.trunks | map(.name) |
			index("carrier-a") != null and index("carrier-b") != null))' \
			"$TB_DIR/watch.txt" >/dev/null
}
check "watch -j -n 2: two refreshes of the trunks, one JSON line each" watch_json

# --- trunk NAME: the 1 s series against the totals ------------------------------
# A restarted control plane takes what the workers republish as its
# baseline, so the seconds around a restart under traffic hold an amount
# that cannot be known from outside. From T0 on (quiet, the restart long
# settled) every new attempt lands in exactly one second: the series after
# T0 must add up to the attempts since T0, and T0's own second must be 0.
series_check() {
	local t=$1 now
	now=$(cat "$TB_DIR/trunk-$t.second" 2>/dev/null) || return 1
	[ -n "$now" ] || {
		note "could not pin the server's second"
		return 1
	}
	python3 - "$t" "$TB_DIR/trunk-$t.json" "$TB_DIR/totals-t0.json" "$TB_DIR/totals.json" \
		"$s0" "$now" <<'PY'
import json, sys
name, doc, t0, t1 = sys.argv[1], json.load(open(sys.argv[2])), \
    json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
s0, now = int(sys.argv[5]), int(sys.argv[6])
cps = doc["series"]["cps"]
end = now - 1                      # the newest closed second
first = end - len(cps) + 1
if len(cps) != 60 or s0 < first:
    print("     %d points, T0 second %d, window from %d" % (len(cps), s0, first))
    sys.exit(1)
a0 = t0["trunks"][name]["invite_attempts"]
a1 = t1["trunks"][name]["invite_attempts"]
at_s0 = cps[s0 - first]
since = sum(cps[s0 - first + 1:])
print("     %s: series after T0 %d, totals %d - %d = %d, at T0 %d, window %d" %
      (name, since, a1, a0, a1 - a0, at_s0, sum(cps)))
ok = since == a1 - a0 and at_s0 == 0 and min(cps) >= 0 and a1 > a0
# the trunk's own totals are the totals
ok = ok and doc["totals"] == t1["trunks"][name] and doc["attempts_total"] == a1
sys.exit(0 if ok else 1)
PY
}
for t in carrier-a carrier-b; do
	check "trunk $t: series.cps after T0 sums to the attempts since T0" series_check "$t"
done

# --- events ---------------------------------------------------------------------
events_ok() {
	ctl_ -j events -n 256 >"$TB_DIR/events.json" || return 1
	python3 - "$TB_DIR/events.json" "$conf" <<'PY'
import json, re, sys
ev = json.load(open(sys.argv[1]))["events"]
# the shipped diagnosis rules (scripts/lib/live.sh): carrier-a's cause 34
# is "no circuit/channel available", carrier-b's 63 no rule reads
want = {"carrier-a": (2, "Q.850;cause=34", "concurrency-limit", "q850-no-circuit"),
        "carrier-b": (5, "Q.850;cause=63", "unclassified", None)}
rules = re.findall(r'\{ name = "([^"]+)"', open(sys.argv[2]).read().split("diagnosis = (", 1)[1])
seen = {k: 0 for k in want}
bad = 0
for e in ev:
    if e["status"] != 503 or e["trunk"] not in want:
        continue
    ra, reason, cls, rule = want[e["trunk"]]
    if (e["retry_after"] != ra or e["reason"] != reason or not e["call_id"]
            or e["class"] != cls or e["rule"] != (rules.index(rule) if rule else None)):
        bad += 1
        if bad < 4:
            print("     unexpected event %s" % json.dumps(e))
    seen[e["trunk"]] += 1
print("     %d events; 503 per carrier %s" % (len(ev), seen))
sys.exit(1 if bad or min(seen.values()) == 0 else 0)
PY
}
check "events: 503s with the carriers' Retry-After, Q.850 Reason and diagnosis" events_ok
# Every new 5xx/6xx answer to an INVITE is one event, none lost.
events_count() {
	python3 - "$TB_DIR/status-t0.json" "$TB_DIR/status.json" "$TB_DIR/totals-t0.json" \
		"$TB_DIR/totals.json" <<'PY'
import json, sys
s0, s1, t0, t1 = (json.load(open(p)) for p in sys.argv[1:5])
def finals(t):
    units = list(t["trunks"].values()) + [t["unmatched"]]
    return sum(n for u in units for c, n in u["invite_final"].items() if int(c) >= 500)
ev = s1["ctrl"]["events"] - s0["ctrl"]["events"]
fin = finals(t1) - finals(t0)
print("     events since T0 %d, new 5xx/6xx finals since T0 %d" % (ev, fin))
sys.exit(0 if ev == fin and fin > 0 else 1)
PY
}
check "events: one per new 5xx/6xx final since T0" events_count

# --- error paths ------------------------------------------------------------------
one_line() {
	[ "$(wc -l <"$1")" -eq 1 ]
}
# expect CODE PATTERN NAME cmd...: exit CODE, nothing on stdout, one line
# on stderr matching PATTERN.
expect() {
	local code=$1 pattern=$2 name=$3 rc
	shift 3
	"$@" >"$TB_DIR/$name.out" 2>"$TB_DIR/$name.err"
	rc=$?
	if [ "$rc" -eq "$code" ] && [ ! -s "$TB_DIR/$name.out" ] && one_line "$TB_DIR/$name.err" &&
		grep -q -- "$pattern" "$TB_DIR/$name.err"; then
		note "$(cat "$TB_DIR/$name.err")"
		return 0
	fi
	note "exit $rc: $(cat "$TB_DIR/$name.out" "$TB_DIR/$name.err")"
	return 1
}
check "sipguardctl on a missing socket: exit 3, one line" \
	expect 3 "/nonexistent.sock" nosock "$ctl" -s /nonexistent.sock trunks
check "sipguardctl trunk nosuch: exit 1, unknown trunk" \
	expect 1 "unknown trunk" notrunk ctl_ trunk nosuch
# Another file prefix, where no dataplane runs.
sed -e "s|file_prefix = \"$TB_ID\"|file_prefix = \"${TB_ID}x\"|" \
	-e "s|$sock|$TB_DIR/other.sock|" "$conf" >"$TB_DIR/other.conf"
grep -q "\"${TB_ID}x\"" "$TB_DIR/other.conf" || abort "could not write other.conf"
check "sipguard-ctrl without a dataplane: exit 3, one line naming it" \
	expect 3 "${TB_ID}x.*not running\|not running.*${TB_ID}x" nodp \
	timeout 20 "$ctrl" -c "$TB_DIR/other.conf"

# --- SIGTERM: the dataplane stops cleanly, the control plane follows -----------
sg_pid=$(tb_pid sipguard)
ctrl_pid=$(tb_pid ctrl)
kill -TERM "$sg_pid"
sg_rc=timeout
for ((i = 0; i < 50; i++)); do
	if ! kill -0 "$sg_pid" 2>/dev/null; then
		wait "$sg_pid"
		sg_rc=$?
		break
	fi
	sleep 0.1
done
rm -f "$TB_DIR/sipguard.pid"
echo "live: sipguard after SIGTERM: exit $sg_rc in $((i / 10)).$((i % 10)) s"
check "sipguard exits 0 within 5 s of SIGTERM" test "$sg_rc" = 0
check "sipguard says it stopped" grep -q "stopped" "$TB_DIR/sipguard.log"
ctrl_rc=timeout
for ((i = 0; i < 50; i++)); do
	if ! kill -0 "$ctrl_pid" 2>/dev/null; then
		wait "$ctrl_pid"
		ctrl_rc=$?
		break
	fi
	sleep 0.1
done
rm -f "$TB_DIR/ctrl.pid"
check "sipguard-ctrl then exits 3 by itself ($ctrl_rc)" test "$ctrl_rc" = 3
check "sipguard-ctrl says the dataplane stopped" \
	grep -q "dataplane stopped" "$TB_DIR/ctrl.log"
finish

#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The diagnosis class in the closed loop, live (scripts/lib/loop.sh, the
# shipped diagnosis rules): real SIPp dialers, Kamailio carriers that say
# why they refuse, sipguard on the carrier's veth, sipguard-ctrl driving
# the dialers through its SIPp adapter.
#
# Route down: a 5 CPS dialer into a carrier that answers a random 10 % of
#   INVITEs "503 No route available" (rule no-route-status): one alert
#   with cause route-down naming the class and the rule, and neither a
#   pause nor a throttle (throttling does not fix a dead route), nor a
#   carrier-trouble alert.
# CPS limit: a dialer ramping 15 -> 100 CPS (+10 every 3 s, yielding to
#   the first directive) into a carrier that takes 30 CPS and answers
#   "503 CPS limit exceeded" above it (rule cps-status): its first
#   directive is a throttle (no pause) decided by the class cps-limit.
#   The time from the first 503 on the wire to that directive and the
#   503s on the wire before it are measured and reported, not asserted.
# Then the offline replay of the capture (`sipguard --pcap --directives`)
# must give both trunks the same first directives (action, cause, class).
#
# Environment: SIPGUARD (sipguard binary; sipguard-ctrl and sipguardctl
# from the same build unless SIPGUARD_CTRL / SIPGUARDCTL say otherwise),
# DIAG_LOOP_SECONDS (dialing, default 30, 20..60), KEEP=1 keeps the work
# directory (also kept on failure).
# Exit: 0 pass, 1 fail, 77 skip.

# Checks are functions run through check(), not unreachable code.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LP_SIPGUARD=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$LP_SIPGUARD")")
LP_CTRL=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
LP_CTL=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
dial=${DIAG_LOOP_SECONDS:-30}
time_limit=${DIAG_LOOP_TIME_LIMIT:-180}

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"

live_needs "$LP_SIPGUARD" "$LP_CTRL" "$LP_CTL" -- sipp kamailio dumpcap tshark nft ip ethtool jq python3
grep -qs ' hugetlbfs ' /proc/mounts || skip "no hugetlbfs mounted: run scripts/setup"
hp_free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
[ "${hp_free:-0}" -ge 48 ] ||
	skip "live mode needs hugepages: ${hp_free:-0} free, 48 wanted (scripts/setup)"
case "$dial" in
'' | *[!0-9]*) skip "DIAG_LOOP_SECONDS must be a number of seconds" ;;
esac
if [ "$dial" -lt 20 ] || [ "$dial" -gt 60 ]; then
	skip "DIAG_LOOP_SECONDS must be 20..60"
fi

# shellcheck source=scripts/lib/testbed.sh
. "$root/scripts/lib/testbed.sh"
# shellcheck source=scripts/lib/loop.sh
. "$root/scripts/lib/loop.sh"

NO_ROUTE_PCT=10
# shellcheck disable=SC2119
tb_init
t_start=$SECONDS
watchdog=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null && wait "$watchdog" 2>/dev/null
	tb_down
	lp_dpdk_clean "$TB_ID"
	lp_dpdk_clean "${TB_ID}o"
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
		echo "diag-loop: logs and capture in $TB_DIR"
	else
		rm -rf "$TB_DIR"
	fi
	exit "$rc"
}
check_run diag-loop "$time_limit"

# --- test bed, carriers, dataplane, control plane ----------------------------
tb_up || abort "test bed did not come up"
lp_init
conf=$TB_DIR/d.conf
dfile=$TB_DIR/d.jsonl
lp_conf "$conf" "$dfile" 1
# the shipped diagnosis rules: what the carriers' words mean
sed -n '/^diagnosis = (/,/^);/p' "$root/config/sipguard.conf" >>"$conf"
grep -q 'name = "no-route-status"' "$conf" || abort "no shipped diagnosis rules in $conf"
t0=$(($(date +%s) + 8))
# "loop": 30 CPS, "503 CPS limit exceeded" (with Retry-After: 2) above;
# "trouble": a random NO_ROUTE_PCT % of INVITEs "503 No route available"
lp_kamailio loop "$LP_ADDR_LOOP" "$LP_CPS" "$LP_RA_LOOP" 0 0 "CPS limit exceeded" ||
	abort "the CPS-limit carrier did not start"
lp_kamailio trouble "$LP_ADDR_TROUBLE" "$LP_CPS" 0 "$NO_ROUTE_PCT" "$t0" "No route available" ||
	abort "the no-route carrier did not start"
tb_spawn c uas sipp -sn uas -i "$TB_ADDR_UAS" -p "$LP_UAS_PORT" -nostdin -timeout $((dial + 90))
lp_wait_listening carrier-loop carrier-trouble uas "$LP_ADDR_LOOP" "$LP_ADDR_TROUBLE" ||
	abort "carriers did not start"
grep -q '"CPS limit exceeded"' "$TB_DIR/carrier-loop.cfg" ||
	abort "the carrier config does not say CPS limit exceeded"
lp_sipguard_up "$conf" || abort "sipguard did not start"
lp_ctrl_up ctrl "$conf" || abort "sipguard-ctrl did not start"
lp_capture_start capture "$TB_DIR/d.pcapng" || abort "dumpcap did not start"

# --- dialing ------------------------------------------------------------------
echo "diag-loop: ${dial}s of dialing from $t0"
lp_sleep_until "$t0"
lp_dial dial-loop "$LP_ADDR_LOOP" 5062 "$LP_CP_LOOP" "$LP_RAMP_FROM" "$dial"
sleep 0.3
lp_ramp ramp "$LP_CP_LOOP" "$LP_RAMP_FROM" "$LP_RAMP_STEP" "$LP_RAMP_EVERY" 100 "$dial" \
	"$dfile" loop
lp_dial dial-trouble "$LP_ADDR_TROUBLE" 5064 "$LP_CP_TROUBLE" 5 "$dial"
lp_sleep_until $((t0 + dial))
t_end=$(date +%s)
tb_stop ramp
lp_dialers_stop dial-loop dial-trouble
sleep 1
lp_capture_stop capture
"$LP_CTL" -s "$TB_DIR/ctrl.sock" -j status >"$TB_DIR/status.json" 2>/dev/null || true
"$LP_CTL" -s "$TB_DIR/ctrl.sock" directives >"$TB_DIR/directives.txt" 2>/dev/null || true
tb_stop ctrl
lp_measure "$TB_DIR/d.pcapng" "$dfile" "$t0" "$t_end" "$TB_DIR/d.json" ||
	abort "could not measure the run"

jqb() {
	jq -e "$2" "$1" >/dev/null
}
m=$TB_DIR/d.json

# --- route down ---------------------------------------------------------------
note "no route: $(jq -c '.trunks.trouble | {new_invites: .totals.inv, r503: .totals["503"],
	directives: [.directives[] | "\(.action) \(.cause) class=\(.class) rule=\(.evidence.rule)"]}' "$m")"
check "route down: the carrier answered some INVITEs 503 No route" \
	jqb "$m" '.trunks.trouble.totals["503"] >= 2'
check "route down: one alert with cause route-down, class route-down, rule no-route-status" \
	jqb "$m" '[.trunks.trouble.directives[] | select(.action == "alert")] |
		length == 1 and .[0].cause == "route-down" and .[0].class == "route-down" and
		.[0].evidence.class == "route-down" and .[0].evidence.rule == "no-route-status" and
		.[0].advice != null'
check "route down: neither a pause nor a throttle, nor a carrier-trouble alert" \
	jqb "$m" '[.trunks.trouble.directives[] | select(.action == "pause" or
		.action == "throttle" or .cause == "carrier-trouble")] | length == 0'
grep -q "route-down" "$TB_DIR/directives.txt"
check "sipguardctl directives shows the route-down alert" test $? -eq 0

# --- CPS limit ----------------------------------------------------------------
# 503s toward the dialer before the first directive, on the wire
before_503=$(python3 - "$m.tsv" "$m" "$LP_ADDR_LOOP" <<'PY'
import json, sys
m = json.load(open(sys.argv[2]))["trunks"]["loop"]
first = m.get("first_action")
seen, n = set(), 0
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) < 6 or not f[0] or f[1] != sys.argv[3] or not f[4]:
        continue
    if int(f[4].split(",")[0]) == 503 and f[5] not in seen and (
            first is None or float(f[0]) <= first["time"]):
        seen.add(f[5])
        n += 1
print(n)
PY
)
note "cps limit: $(jq -c '.trunks.loop | {new_invites: .totals.inv, r503: .totals["503"],
	first: (.first_action | if . then {action, cause, class, cps_limit,
	rule: .evidence.rule, class_503: .evidence.class_503} else null end),
	wire503_to_directive_s, cluster503_to_directive_s, rate_before, rate_after}' "$m")"
echo "diag-loop: CPS limit: first 503 on the wire -> first directive $(jq -r \
	'.trunks.loop.wire503_to_directive_s // "-"' "$m") s, ${before_503:-?} 503(s) before it"
check "cps limit: the carrier answered 503 CPS limit exceeded" \
	jqb "$m" '.trunks.loop.totals["503"] > 0'
check "cps limit: the first directive is a throttle (no pause first) decided by class cps-limit, rule cps-status" \
	jqb "$m" '.trunks.loop.first_action | .action == "throttle" and .cause == "over-limit" and
		.class == "cps-limit" and .evidence.rule == "cps-status" and .cps_limit > 0'
check "cps limit: the adapter's throttle reached the dialer (its rate after <= 110 % of the carrier's $LP_CPS)" \
	jqb "$m" ".trunks.loop | .rate_after <= $LP_CPS * 1.1"

# --- offline replay -------------------------------------------------------------
lp_conf_offline "$conf" "$TB_DIR/offline.conf"
replay_same() {
	python3 - "$dfile" "$TB_DIR/replay.jsonl" <<'PY'
import json, sys
def load(p):
    out = {}
    for l in open(p):
        l = l.strip()
        if l.startswith("{"):
            d = json.loads(l)
            if "action" in d:
                out.setdefault(d["trunk"], []).append(d)
    return out
live, rep = load(sys.argv[1]), load(sys.argv[2])
bad = 0
for t in ("loop", "trouble"):
    def first(ds):
        d = next((d for d in ds if d["action"] in ("pause", "throttle", "alert")), None)
        return None if d is None else (d["action"], d["cause"], d["class"])
    fl, fr = first(live.get(t, [])), first(rep.get(t, []))
    dt = None
    if fl and fr:
        dt = next(d for d in rep[t] if d["action"] == fr[0])["time"] - \
            next(d for d in live[t] if d["action"] == fl[0])["time"]
    print("     %-8s live %s | replay %s | replay - live %s s"
          % (t, fl, fr, "-" if dt is None else "%+.1f" % dt))
    bad += fl is None or fl != fr
sys.exit(1 if bad else 0)
PY
}
if "$LP_SIPGUARD" -c "$TB_DIR/offline.conf" --pcap "$TB_DIR/d.pcapng" --directives --json \
	>"$TB_DIR/replay.jsonl" 2>"$TB_DIR/replay.err"; then
	check "offline replay: both trunks' first directive (action, cause, class) is the live one" \
		replay_same
else
	check "offline replay ran ($(head -n 1 "$TB_DIR/replay.err"))" false
fi
finish

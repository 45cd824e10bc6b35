#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The closed loop, live: sipguard (DPDK primary on the carrier's veth),
# sipguard-ctrl (in the dialer namespace, its SIPp adapter on the dialers'
# control ports) and real carriers (scripts/lib/loop.sh).
#
# Case 1, in two runs: a dialer ramping 15 -> 100 CPS into a carrier that
#   takes 30 and answers 503 (Retry-After: 2) above it. Run A, open loop:
#   sipguard decides but nothing applies it. Run B, closed loop: the
#   adapter drives the dialer. Checked: in B sipguard paused or throttled
#   with cause over-limit, the dialer's rate on the wire stayed near the
#   carrier's limit after it, and B's 503 share is lower than A's.
# Case 2 (run B): a 5 CPS dialer into a carrier that, from 12 s in, turns
#   a random 8 % of INVITEs away with 503: an alert with cause
#   carrier-trouble, and no pause or throttle.
# Case 3 (run B): a 40 CPS dialer into a 30 CPS carrier whose 503s say
#   Retry-After: 10: an over-limit pause of at least 10 s whose length
#   came from the Retry-After; the dialer stops within 3 s (SIPp on a
#   loaded machine reads its control port late) and places no new INVITE
#   on the wire until at least 9 s after it. A 20 CPS dialer into a carrier whose
#   answers carry oc=50 (loss) in the top Via from its 200th call on
#   (oc-uas.xml): a throttle with cause
#   overload-control to about half the rate, and the rate on the wire
#   falls to it.
# Case 4 (run B): a 4 CPS dialer of 15 s calls into a Kamailio that takes
#   45 calls up at once (dialog profile) and answers 503 above: the 503s
#   line up with concurrency, so a throttle with cause over-limit and a
#   maximum of concurrent calls at or under 45, and no pause ever after,
#   not even once calls end and the calls up dip under the cap with the
#   cap's 503s still in the detection window; the SIPp adapter sets the
#   dialer's open-call limit.
# Then the offline replay of each run's capture (`sipguard --pcap
# --directives --json`) must give each trunk the same first pause or
# throttle (action and cause) as the live run, at the same 100 ms slot
# within what the measured difference of the two clocks allows; the other
# kinds and the counts are reported.
#
# Timings (onset to directive, steady 503 share, capacity used) are
# measured and reported, never asserted: they go to closed-loop.md in
# LOOP_OUT (default: the work directory), with the PNG of case 1.
#
# Environment:
#   SIPGUARD            sipguard binary (default build/dataplane/sipguard);
#                       sipguard-ctrl and sipguardctl from the same build
#   LOOP_DIAL_SECONDS   dialing per run (default 50, 40..90)
#   LOOP_OUT            where the figures and the PNG go
#   LOOP_LCORES         dataplane.lcores (default 0@0,1@1)
#   KEEP=1              keep the work directory (also kept on failure)
# Exit: 0 pass, 1 fail, 77 skip (not root, no hugepages, binaries or
# tools missing).

# Checks are functions run through check(), not unreachable code.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LP_SIPGUARD=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$LP_SIPGUARD")")
LP_CTRL=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
LP_CTL=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
dial=${LOOP_DIAL_SECONDS:-50}
time_limit=${LOOP_TIME_LIMIT:-330}

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"

live_needs "$LP_SIPGUARD" "$LP_CTRL" "$LP_CTL" -- sipp kamailio dumpcap tshark gnuplot nft ip ethtool jq python3
grep -qs ' hugetlbfs ' /proc/mounts || skip "no hugetlbfs mounted: run scripts/setup"
hp_free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
[ "${hp_free:-0}" -ge 48 ] ||
	skip "live mode needs hugepages: ${hp_free:-0} free, 48 wanted (scripts/setup)"
case "$dial" in
'' | *[!0-9]*) skip "LOOP_DIAL_SECONDS must be a number of seconds" ;;
esac
if [ "$dial" -lt 40 ] || [ "$dial" -gt 90 ]; then
	skip "LOOP_DIAL_SECONDS must be 40..90"
fi

# shellcheck source=scripts/lib/testbed.sh
. "$root/scripts/lib/testbed.sh"
# shellcheck source=scripts/lib/loop.sh
. "$root/scripts/lib/loop.sh"


# shellcheck disable=SC2119
tb_init
out=${LOOP_OUT:-$TB_DIR}
mkdir -p "$out"
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
		echo "loop: logs and captures in $TB_DIR"
	else
		rm -rf "$TB_DIR"
	fi
	exit "$rc"
}
check_run loop "$time_limit"

# --- test bed, carriers, dataplane -------------------------------------------
tb_up || abort "test bed did not come up"
lp_init
lp_conf "$TB_DIR/a.conf" "$TB_DIR/a.jsonl" 0
lp_conf "$TB_DIR/b.conf" "$TB_DIR/b.jsonl" 1
lp_carriers_up $((3 * dial + 120)) || abort "carriers did not start"
lp_sipguard_up "$TB_DIR/b.conf" || abort "sipguard did not start"

# --- run A: open loop; run B: closed loop, with cases 2 and 3 ----------------
echo "loop: run A (open loop), ${dial}s"
lp_run a "$TB_DIR/a.conf" "$dial" 0 || abort "run A did not complete"
sleep 3
echo "loop: run B (closed loop; trouble, Retry-After and oc dialers), ${dial}s"
lp_run b "$TB_DIR/b.conf" "$dial" 1 || abort "run B did not complete"
# shellcheck disable=SC2154 # set by lp_run through printf -v
lp_measure "$TB_DIR/a.pcapng" "$TB_DIR/a.jsonl" "$LP_T0_a" "$LP_TEND_a" "$TB_DIR/a.json" ||
	abort "could not measure run A"
# shellcheck disable=SC2154
lp_measure "$TB_DIR/b.pcapng" "$TB_DIR/b.jsonl" "$LP_T0_b" "$LP_TEND_b" "$TB_DIR/b.json" ||
	abort "could not measure run B"

# The live directives, as the control API kept them, are the file's.
same_as_api() {
	local r=$1
	python3 - "$TB_DIR/$r.jsonl" "$TB_DIR/$r.directives.json" <<'PY'
import json, sys
f = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
a = json.load(open(sys.argv[2]))["directives"]
key = lambda d: (d["seq"], d["trunk"], d["action"], d["cause"], d["cps_limit"], d["duration_s"])
# the control plane decides on until it is stopped, a little after the
# API was asked: the file's later directives are not in the answer
last = max([d["seq"] for d in a] or [0])
later = [d for d in f if d["seq"] > last]
f = [d for d in f if d["seq"] <= last]
print("     %d directives in the file, %d from the API (and %d decided after it was asked)"
      % (len(f), len(a), len(later)))
sys.exit(0 if f and [key(d) for d in f] == [key(d) for d in a] else 1)
PY
}
check "run A: the directives file holds what sipguardctl directives -j shows" same_as_api a
check "run B: the directives file holds what sipguardctl directives -j shows" same_as_api b

# jqb FILE EXPR: jq -e on a measurement, silently.
jqb() {
	jq -e "$2" "$1" >/dev/null
}

# --- case 1 ------------------------------------------------------------------
for r in a b; do
	note "run $r: $(jq -c '.trunks.loop | {new_invites: .totals.inv, r503: .totals["503"],
		answered: .totals["2xx"], onset, first: (.first_action |
		if . then {action, cause, cps_limit, duration_s} else null end),
		rate_before, rate_after}' "$TB_DIR/$r.json")"
done
both_503() {
	jqb "$TB_DIR/a.json" '.trunks.loop.totals["503"] > 0' &&
		jqb "$TB_DIR/b.json" '.trunks.loop.totals["503"] > 0'
}
check "case 1: both runs met the carrier's limit (503s in the capture)" both_503
check "case 1 B: sipguard paused or throttled the trunk with cause over-limit" \
	jqb "$TB_DIR/b.json" '[.trunks.loop.directives[] |
		select((.action == "pause" or .action == "throttle") and .cause == "over-limit")] |
		length > 0'
check "case 1 B: after the first directive the dialer's new INVITEs/s on the wire stay near the carrier's $LP_CPS (<= 110 %)" \
	jqb "$TB_DIR/b.json" ".trunks.loop | .rate_after <= $LP_CPS * 1.1"
# The adapter's commands reached SIPp: its own statistics show the
# target rate set below the ramp's last step after the first directive.
sipp_obeyed() {
	python3 - "$TB_DIR/dial-loop-b.stat.csv" "$TB_DIR/b.json" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
if len(rows) < 3:
    sys.exit(1)
h = rows[0]
ti, ri = h.index("CurrentTime"), h.index("TargetRate")
first = json.load(open(sys.argv[2]))["trunks"]["loop"]["first_action"]
ft = first["time"]
pts = [(float(r[ti].split("\t")[-1]), float(r[ri])) for r in rows[1:] if len(r) > ri]
before = max([v for t, v in pts if t < ft] or [0])
after = [v for t, v in pts if ft + 3 <= t <= ft + 15]
print("     sipp TargetRate: up to %g before the first directive, %s in the 3..15 s after"
      % (before, sorted(set(after))))
sys.exit(0 if after and max(after) < before else 1)
PY
}
check "case 1 B: SIPp's TargetRate (-trace_stat) went down on the adapter's command" sipp_obeyed
check "case 1: run B's 503 share is lower than run A's" \
	python3 -c 'import json, sys
a, b = (json.load(open(p))["trunks"]["loop"]["share_503"] for p in sys.argv[1:3])
print("     503 share: A %.1f %%, B %.1f %%" % (100 * a, 100 * b))
sys.exit(0 if b < a else 1)' "$TB_DIR/a.json" "$TB_DIR/b.json"
check "case 1 A: no directive reached the dialer (it ramped on past 60 CPS)" \
	jqb "$TB_DIR/a.json" '[.trunks.loop.series[] | .[1]] | max > 60'

# --- case 2 ------------------------------------------------------------------
note "trouble: $(jq -c '.trunks.trouble | {new_invites: .totals.inv, r503: .totals["503"],
	directives: [.directives[] | "\(.action) \(.cause)"]}' "$TB_DIR/b.json")"
check "case 2: the trouble carrier answered some INVITEs with 503" \
	jqb "$TB_DIR/b.json" '.trunks.trouble.totals["503"] >= 2'
check "case 2: sipguard raised an alert with cause carrier-trouble" \
	jqb "$TB_DIR/b.json" '[.trunks.trouble.directives[] |
		select(.action == "alert" and .cause == "carrier-trouble")] | length > 0'
check "case 2: and neither paused nor throttled that trunk" \
	jqb "$TB_DIR/b.json" '[.trunks.trouble.directives[] |
		select(.action == "pause" or .action == "throttle")] | length == 0'

# --- case 3: Retry-After -----------------------------------------------------
note "retry: $(jq -c '.trunks.retry | {first: (.first_action | if . then {action, cause,
	duration_s} else null end), gap_after_first}' "$TB_DIR/b.json")"
check "case 3: the Retry-After carrier's first directive: an over-limit pause of >= 10 s, its length from Retry-After" \
	jqb "$TB_DIR/b.json" '.trunks.retry.first_action | .action == "pause" and
		.duration_s >= 10 and .cause == "over-limit" and .duration_from == "retry-after"'
# The dialer must stop (a starved SIPp reads its control socket late: it
# may take a few seconds) and place no new call until 9 s after the pause.
check "case 3: the dialer stopped within 3 s and placed no new INVITE toward it until >= 9 s after that pause" \
	jqb "$TB_DIR/b.json" '.trunks.retry.gap_after_first | .from <= 3 and .from + .seconds >= 9'

# --- case 3: RFC 7339 overload control ---------------------------------------
note "oc: $(jq -c '.trunks.oc | {first: (.first_action | if . then {action, cause, cps_limit,
	ev_cps: .evidence.cps, oc: .evidence.oc} else null end), rate_before, rate_after}' \
	"$TB_DIR/b.json")"
check "case 3: the oc carrier's first directive is a throttle with cause overload-control" \
	jqb "$TB_DIR/b.json" '.trunks.oc.first_action | .action == "throttle" and
		.cause == "overload-control" and .evidence.oc == 50'
check "case 3: to about half the rate it had (oc=50, loss): 35..65 % of 20 CPS" \
	jqb "$TB_DIR/b.json" '.trunks.oc.first_action.cps_limit | . >= 7 and . <= 13'
check "case 3: and the dialer's rate on the wire fell below 70 % of what it was" \
	jqb "$TB_DIR/b.json" '.trunks.oc | .rate_after < 0.7 * .rate_before'

# --- case 4: a concurrency cap -----------------------------------------------
note "conc: $(jq -c '.trunks.conc | {r503: .totals["503"], first: (.first_action | if . then
	{action, cause, cps_limit, max_concurrent, hold_s: .evidence.hold_s,
	concurrent: .evidence.concurrent} else null end), steady}' "$TB_DIR/b.json")"
check "case 4: the concurrency-capped carrier answered 503s" \
	jqb "$TB_DIR/b.json" '.trunks.conc.totals["503"] > 0'
check "case 4: its first directive is an over-limit throttle with a concurrent-call maximum <= $LP_CONC_CALLS" \
	jqb "$TB_DIR/b.json" ".trunks.conc.first_action | .action == \"throttle\" and
		.cause == \"over-limit\" and .max_concurrent > 0 and
		.max_concurrent <= $LP_CONC_CALLS"
check "case 4: and no pause for it" \
	jqb "$TB_DIR/b.json" '[.trunks.conc.directives[] | select(.action == "pause")] | length == 0'
sipp_limit() {
	python3 - "$TB_DIR/b.status.json" "$LP_CONC_CALLS" <<'PY'
import json, sys
s = [x for x in json.load(open(sys.argv[1]))["sinks"] if x["sink"] == "sipp"]
c = [x for x in s if x.get("trunk") == "conc"]
print("     conc dialer's adapter: %s" % [{k: x.get(k) for k in ("sent", "failed", "rate",
      "open_calls")} for x in c])
sys.exit(0 if c and c[0].get("failed") == 0 and c[0].get("open_calls") is not None
         and 0 < c[0]["open_calls"] <= int(sys.argv[2]) else 1)
PY
}
check "case 4: the SIPp adapter set the dialer's open-call limit (cset limit) under the cap" \
	sipp_limit

# --- offline replay of both runs ----------------------------------------------
# `sipguard --pcap --directives` on each run's capture, with that run's
# trunks and policy: every trunk's first pause or throttle must be the
# live one, in action and cause, and at the same 100 ms slot give or take
# what the two clocks allow. Live, the dataplane stamps a packet with its
# worker's clock when it reads it and the control plane closes a slot once
# every worker's clock has passed it; the replay uses dumpcap's kernel
# timestamps. The same 503 stamped δ apart can fall in the next slot, so
# the first directive may move by one slot (0.1 s), and by one more for
# every further 0.1 s of δ. δ is measured on this run: the live events'
# packet times (sipguardctl events, the last 256 503s) against the
# capture's timestamps of the same answers (by Call-ID), and each first
# directive's first 503 (evidence.first_503) live and replayed; the
# largest decides. A worker starved of CPU reads late and stamps late. The other kinds,
# the counts and the time apart are reported (once the first directive
# changed the dialer the two histories may part).
replay_same() {
	python3 - "$TB_DIR/$1.jsonl" "$TB_DIR/replay-$1.jsonl" "$TB_DIR/$1.json.tsv" \
		"$TB_DIR/$1.events.json" <<'PY'
import json, math, sys
# The live control plane goes on deciding after the dialing ends (a
# resume once the dialers stopped), and the replay goes on to the end of
# the capture (the long calls' BYEs): both are cut at the last INVITE
# transaction on the wire.
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[3]) if l[:1].isdigit()]
end = max(float(r[0]) for r in rows)
# capture time of each Call-ID's first 503
cap503 = {}
for r in rows:
    if len(r) >= 6 and r[4].split(",")[0] == "503" and r[5] not in cap503:
        cap503[r[5]] = float(r[0])
try:
    evs = json.load(open(sys.argv[4]))["events"]
except (OSError, ValueError, KeyError):
    evs = []
deltas = sorted(e["time"] - cap503[e["call_id"]] for e in evs
                if e.get("status") == 503 and e.get("call_id") in cap503)
if not deltas:
    print("     no live 503 event matched the capture: clock difference unknown")
    sys.exit(1)
def load(p, upto):
    out = {}
    for l in open(p):
        l = l.strip()
        if l.startswith("{"):
            d = json.loads(l)
            if "action" in d and d["time"] <= upto:
                out.setdefault(d["trunk"], []).append(d)
    return out
live, rep = load(sys.argv[1], int(end)), load(sys.argv[2], int(end))
RATE = ("pause", "throttle", "resume")
# The same cluster's first 503 as the live worker stamped it and as the
# capture has it, at each trunk's first rate directive.
firsts = []
for t in live:
    rl = [d for d in live[t] if d["action"] in RATE]
    rr = [d for d in rep.get(t, []) if d["action"] in RATE]
    if rl and rr and rl[0]["evidence"].get("first_503") and rr[0]["evidence"].get("first_503"):
        firsts.append(rl[0]["evidence"]["first_503"] - rr[0]["evidence"]["first_503"])
worst = max(abs(d) for d in deltas + firsts)
slots = max(1, math.ceil(round(worst / 0.1, 6)))
allowed = 0.1 * slots
print("     live packet time - capture time over %d 503s: median %+.1f ms, min %+.1f ms, "
      "max %+.1f ms; at the first directives' first 503s: %s; first directives may differ "
      "by %.1f s" % (len(deltas), 1000 * deltas[len(deltas) // 2], 1000 * deltas[0],
                     1000 * deltas[-1], ", ".join("%+.1f ms" % (1000 * d) for d in firsts) or "-",
                     allowed))
bad = 0
for t in sorted(set(live) | set(rep)):
    lv, rp = live.get(t, []), rep.get(t, [])
    kl = sorted({(d["action"], d["cause"]) for d in lv})
    kr = sorted({(d["action"], d["cause"]) for d in rp})
    rl = [d for d in lv if d["action"] in RATE]
    rr = [d for d in rp if d["action"] in RATE]
    fl = (rl[0]["action"], rl[0]["cause"]) if rl else None
    fr = (rr[0]["action"], rr[0]["cause"]) if rr else None
    dt = rr[0]["time"] - rl[0]["time"] if rl and rr else None
    same = [(a["action"], a["cause"]) for a in lv] == [(b["action"], b["cause"]) for b in rp]
    print("     %-8s live %d %s | replay %d %s | %s | first rate directive %s / %s, "
          "replay - live %s s" % (t, len(lv), kl, len(rp), kr,
                                  "same list" if same else "lists differ", fl, fr,
                                  "-" if dt is None else "%+.1f" % dt))
    if fl != fr or (dt is not None and abs(dt) > allowed + 1e-6):
        bad += 1
sys.exit(1 if bad or not live else 0)
PY
}
for r in a b; do
	lp_conf_offline "$TB_DIR/$r.conf" "$TB_DIR/offline-$r.conf"
	if "$LP_SIPGUARD" -c "$TB_DIR/offline-$r.conf" --pcap "$TB_DIR/$r.pcapng" --directives \
		--json >"$TB_DIR/replay-$r.jsonl" 2>"$TB_DIR/replay-$r.err"; then
		check "offline replay of run $r: every trunk's first pause or throttle is the live one, to the 100 ms slot and the clocks' difference" \
			replay_same "$r"
	else
		check "offline replay of run $r ran ($(head -n 1 "$TB_DIR/replay-$r.err"))" false
	fi
done

# --- figures -------------------------------------------------------------------
{
	echo "Case 1: a dialer ramping 15 -> 100 CPS (+10 every 3 s, ${dial} s) into a"
	echo "carrier that takes $LP_CPS CPS (Kamailio pipelimit; 503 with Retry-After: $LP_RA_LOOP above)."
	echo "Measured from dumpcap captures of the carrier's link; seconds since the dialer started."
	echo
	lp_table "$TB_DIR/a.json" "$TB_DIR/b.json"
	echo
	echo "Every case (run B but the first row):"
	echo
	lp_cases "$TB_DIR/a.json" "$TB_DIR/b.json"
} >"$out/closed-loop.md"
cp "$TB_DIR/a.json" "$out/closed-loop-a.json"
cp "$TB_DIR/b.json" "$out/closed-loop-b.json"
if lp_plot "$TB_DIR/a.json" "$TB_DIR/b.json" "$out/closed-loop.png" "$dial"; then
	note "figures: $out/closed-loop.md, $out/closed-loop.png"
else
	note "gnuplot failed; figures in $out/closed-loop.md"
fi
cat "$out/closed-loop.md"
finish

#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# DPDK telemetry and live capture on the running appliance: sipguard
# (af_packet on the carrier veth, two workers) and sipguard-ctrl on the
# namespace test bed of scripts/record, through a ramp of calls.
#
# - dpdk-dumpcap (a DPDK secondary, through the rte_pdump the dataplane
#   initialises) captures the live port from before the calls until after
#   they ceased; tshark reads the file it wrote: as many frames as the port
#   received in that window (less what dumpcap says it dropped), and the
#   SIP in them (INVITEs to carrier-a, 503s from both carriers).
# - A telemetry client of our own (sg_telemetry.py, the v2 socket) reads
#   /sipguard/trunks, /sipguard/trunk,NAME, /sipguard/workers and
#   /sipguard/source once the traffic has ceased: every figure equals what
#   `sipguardctl -j totals` and `-j status` say; an unknown trunk answers
#   null; the commands are listed with their help.
#
# Environment:
#   SIPGUARD            sipguard binary (default build/dataplane/sipguard)
#   LIVE_DIAL_SECONDS   seconds of new calls (default 12, 8..20)
#   KEEP=1              keep the work directory (also kept on failure)
# Exit: 0 pass, 1 fail, 77 skip (not root, no hugepages, tools missing).

# Checks are functions run through check(), not unreachable code.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$sipguard")")
ctrl=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
ctl=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
dial=${LIVE_DIAL_SECONDS:-12}
time_limit=${LIVE_TIME_LIMIT:-200}

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"

live_needs "$sipguard" "$ctrl" "$ctl" -- sipp kamailio dpdk-dumpcap tshark nft ip jq python3
live_preflight "$dial"

# shellcheck source=scripts/lib/testbed.sh
. "$root/scripts/lib/testbed.sh"
# shellcheck source=scripts/lib/live.sh
. "$root/scripts/lib/live.sh"

# shellcheck disable=SC2119
tb_init
conf=$TB_DIR/live.conf
sock=$TB_DIR/ctrl.sock
cap=$TB_DIR/dpdk-dumpcap.pcapng
t_start=$SECONDS
watchdog=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null && wait "$watchdog" 2>/dev/null
	tb_stop dumpcap INT
	tb_stop ctrl
	tb_down
	lv_dpdk_clean "$TB_ID"
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
		echo "telemetry: logs in $TB_DIR" >&2
	else
		rm -rf "$TB_DIR"
	fi
	exit "$rc"
}
check_run telemetry "$time_limit"


tel() {
	python3 "$here/sg_telemetry.py" "$TB_ID" "$@"
}

# --- the appliance -------------------------------------------------------------
tb_up || abort "test bed did not come up"
lv_conf "$conf"
lv_carriers_up 120 || abort "carriers did not start"
tb_spawn c sipguard "$sipguard" -c "$conf"
for ((i = 0; i < 150; i++)); do
	grep -q "^sipguard: running" "$TB_DIR/sipguard.log" && break
	tb_alive sipguard || break
	sleep 0.2
done
lv_spawn ctrl "$ctrl" -c "$conf" --wait
for ((i = 0; i < 150; i++)); do
	ctl_ status >/dev/null 2>&1 && break
	sleep 0.2
done
ctl_ status >/dev/null 2>&1 || {
	tail -n 5 "$TB_DIR/sipguard.log" "$TB_DIR/ctrl.log"
	abort "sipguard or sipguard-ctrl did not start"
}
no_warning() {
	[ -s "$TB_DIR/sipguard.log" ] && ! grep -q "telemetry\|pdump" "$TB_DIR/sipguard.log"
}
check "sipguard registered its telemetry commands and pdump (no warning)" no_warning

# --- dpdk-dumpcap on the live port ------------------------------------------------
lv_link_quiet 1 10 || note "the veth did not fall quiet before the capture"
lv_spawn dumpcap dpdk-dumpcap --file-prefix="$TB_ID" -i net_af_packet0 -w "$cap"
for ((i = 0; i < 100; i++)); do
	grep -qi "capturing" "$TB_DIR/dumpcap.log" 2>/dev/null && [ -s "$cap" ] && break
	tb_alive dumpcap || break
	sleep 0.2
done
[ -s "$cap" ] || {
	cat "$TB_DIR/dumpcap.log"
	abort "dpdk-dumpcap did not start"
}
ctl_ -j status >"$TB_DIR/status-0.json"

echo "telemetry: ${dial}s of calls"
lv_dial_start 1 "$dial" 5062
sleep 3
tel /sipguard/trunks >"$TB_DIR/tel-during.json"
lv_dial_wait 1 $((dial + 20)) || note "dialers had to be stopped"
tb_stop carrier-a
tb_stop carrier-b
tb_stop uas
lv_link_quiet 2 20 || note "the veth did not fall quiet after the traffic"
tb_stop dumpcap INT
sleep 1.2 # a publication (100 ms)
ctl_ -j status >"$TB_DIR/status.json"
ctl_ -j totals >"$TB_DIR/totals.json"
tel / /help,/sipguard/trunk /sipguard/trunks /sipguard/trunk,carrier-a \
	/sipguard/trunk,carrier-b "/sipguard/trunk,(unmatched)" /sipguard/trunk,nosuch \
	/sipguard/workers /sipguard/source >"$TB_DIR/tel.json" || abort "telemetry client failed"

# --- live capture ------------------------------------------------------------------
capture() {
	local frames rx0 rx1 received dropped invites r503
	frames=$(tshark -r "$cap" 2>/dev/null | wc -l)
	rx0=$(jq '[.ports[].rx] | add' "$TB_DIR/status-0.json")
	rx1=$(jq '[.ports[].rx] | add' "$TB_DIR/status.json")
	# at exit: "Packets received/dropped on interface 'net_af_packet0': N/M (...)"
	received=$(sed -n "s|^Packets received/dropped on interface .*: \([0-9]*\)/\([0-9]*\).*|\1|p" \
		"$TB_DIR/dumpcap.log")
	dropped=$(sed -n "s|^Packets received/dropped on interface .*: \([0-9]*\)/\([0-9]*\).*|\2|p" \
		"$TB_DIR/dumpcap.log")
	if [ -z "$received" ] || [ -z "$dropped" ]; then
		note "dpdk-dumpcap did not report its counts: $(tail -n 3 "$TB_DIR/dumpcap.log")"
		return 1
	fi
	invites=$(tshark -r "$cap" -Y 'sip.Method == "INVITE" && ip.dst == '"$TB_ADDR_A4" \
		2>/dev/null | wc -l)
	r503=$(tshark -r "$cap" -Y 'sip.Status-Code == 503' 2>/dev/null | wc -l)
	note "dpdk-dumpcap: tshark reads $frames frames ($invites INVITEs to carrier-a," \
		"$r503 503s); the port received $((rx1 - rx0)) meanwhile; dumpcap received" \
		"$received, dropped $dropped"
	[ "$frames" -gt 0 ] && [ "$invites" -gt 0 ] && [ "$r503" -gt 0 ] &&
		[ "$received" -eq $((rx1 - rx0)) ] && [ $((frames + dropped)) -eq "$received" ]
}
check "dpdk-dumpcap captured the live port: tshark reads every frame the port took" capture

# --- telemetry ------------------------------------------------------------------------
python3 - "$TB_DIR/tel.json" "$TB_DIR/totals.json" "$TB_DIR/status.json" \
	"$TB_DIR/tel-during.json" >"$TB_DIR/tel-check.txt" <<'PY'
import json, sys
tel, tot, st, during = (json.load(open(p)) for p in sys.argv[1:5])
ok = []
def check(name, cond, detail=""):
    ok.append(bool(cond))
    print("%s %s%s" % ("ok  " if cond else "FAIL", name, (": " + detail) if detail and not cond else ""))
units = dict(tot["trunks"])
units["(unmatched)"] = tot["unmatched"]
def codes_sum(d, lo=100, hi=699):
    return sum(v for k, v in (d or {}).items() if lo <= int(k) <= hi)
cmds = tel["/"] or []
check("/ lists the four /sipguard/ commands",
      all(c in cmds for c in ("/sipguard/trunks", "/sipguard/trunk", "/sipguard/workers", "/sipguard/source")))
check("/help,/sipguard/trunk gives its help", "trunk name" in str(tel["/help,/sipguard/trunk"]))
def table(cols):
    """The column form (a dict of arrays, "name" first) as rows by name."""
    cols = cols or {}
    return {n: {k: v[i] for k, v in cols.items() if k != "name"}
            for i, n in enumerate(cols.get("name", []))}
rows = table(tel["/sipguard/trunks"])
check("/sipguard/trunks names carrier-a, carrier-b and (unmatched) as values",
      list(rows) == ["carrier-a", "carrier-b", "(unmatched)"], str(list(rows)))
check("/sipguard/trunks answered during the ramp",
      list(table(during["/sipguard/trunks"])) == list(rows))
for name, c in units.items():
    r = rows.get(name, {})
    want = {"requests": sum(c.get("requests", {}).values()),
            "responses": sum(c.get("responses", {}).values()),
            "invite_attempts": c["invite_attempts"],
            "invite_finals": codes_sum(c.get("invite_final"), 200),
            "invite_final_2xx": codes_sum(c.get("invite_final"), 200, 299),
            "invite_final_503": c.get("invite_final", {}).get("503", 0),
            "retransmissions": c["retransmissions"],
            "malformed": c["malformed"]}
    got = {k: r.get(k) for k in want}
    check("/sipguard/trunks %s equals sipguardctl totals" % name, got == want,
          "telemetry %s, totals %s" % (got, want))
    d = tel["/sipguard/trunk," + name] or {}
    got = (d.get("by_method"), d.get("by_code"), d.get("invite_final_by_code"),
           d.get("invite_attempts"), d.get("retransmissions"))
    want = (c.get("requests", {}), c.get("responses", {}), c.get("invite_final", {}),
            c["invite_attempts"], c["retransmissions"])
    check("/sipguard/trunk,%s: by method, by code, INVITE finals equal totals" % name,
          got == want, "telemetry %s, totals %s" % (got, want))
check("/sipguard/trunk,carrier-a has the config's agreed rates",
      (tel["/sipguard/trunk,carrier-a"] or {}).get("agreed_cps") == 30 and
      (tel["/sipguard/trunk,carrier-a"] or {}).get("agreed_concurrent") == 300)
check("/sipguard/trunk,nosuch answers null", tel["/sipguard/trunk,nosuch"] is None)
check("the ramp reached 503s on both carriers",
      all(units[t].get("invite_final", {}).get("503", 0) > 0 for t in ("carrier-a", "carrier-b")))
wc = tel["/sipguard/workers"] or {}
ws = [{k: v[i] for k, v in wc.items()} for i in range(len(wc.get("lcore", [])))]
check("/sipguard/workers: two workers on lcores 1 and 2, as status says",
      [w["lcore"] for w in ws] == [l["lcore"] for l in st["lcores"]] and
      sorted(w["lcore"] for w in ws) == [1, 2])
check("/sipguard/workers packets equal status lcores packets",
      [w["packets"] for w in ws] == [l["packets"] for l in st["lcores"]],
      "%s vs %s" % ([w["packets"] for w in ws], [l["packets"] for l in st["lcores"]]))
check("/sipguard/workers: cycles counted, no ring drops",
      ws and all(w["total_cycles"] >= w["busy_cycles"] > 0 and w["pub_ring_full"] == 0 and
                 w["evt_ring_full"] == 0 for w in ws))
src = tel["/sipguard/source"] or {}
diff = {k: (src.get(k), v) for k, v in st["source"].items() if src.get(k) != v}
check("/sipguard/source equals sipguardctl status source (%d fields)" % len(st["source"]),
      not diff, str(diff))
check("/sipguard/source packets equal the workers' packets",
      src.get("packets") == sum(l["packets"] for l in st["lcores"]) > 0)
check("/sipguard/source: every drop reason has its key",
      sum(1 for k in src if k.startswith("drop_")) == 14)
sys.exit(0 if all(ok) else 1)
PY
tel_rc=$?
while read -r line; do
	case "$line" in
	ok*) passed=$((passed + 1)); echo "ok   ${line#ok   }" ;;
	FAIL*) failed=$((failed + 1)); echo "$line" ;;
	esac
done <"$TB_DIR/tel-check.txt"
[ "$tel_rc" -eq 0 ] || [ "$failed" -gt 0 ] || abort "telemetry check crashed"
finish

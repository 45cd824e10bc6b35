#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Diagnosis rules against an independent oracle. On the namespace test bed
# (scripts/lib/testbed.sh), two Kamailio carriers (diag-carrier.cfg.in)
# refuse every INVITE with the words real carriers use: reason phrases,
# Q.850 causes in one or two Reason headers, Warning headers, and plain
# answers that say nothing. dumpcap records the link; sipguard counts the
# capture offline (`--pcap --json`) with the shipped default rule set plus
# a set of carrier-b's own; diag_oracle.py applies the same rules with
# Python's `re` to tshark's sip.Status-Line, sip.Reason and sip.Warning.
# Every trunk's "diagnosis" must equal the oracle's, class by class, add up
# to the trunk's 4xx-6xx finals, and the capture must exercise every class
# the carriers' words stand for (so the test cannot pass on nothing).
#
# Environment:
#   SIPGUARD   sipguard binary (default build/dataplane/sipguard)
#   CALLS      calls per carrier (default 450)
#   KEEP=1     keep the work directory (also kept on failure)
# Exit: 0 pass, 1 fail, 77 skip (not root, binaries or tools missing).

# Checks are functions run through check(), not unreachable code.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
calls=${CALLS:-450}

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"
# shellcheck source=scripts/lib/testbed.sh
. "$root/scripts/lib/testbed.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
[ -x "$sipguard" ] || skip "sipguard not built ($sipguard)"
for t in sipp kamailio dumpcap tshark jq python3 ip ethtool; do
	command -v "$t" >/dev/null || skip "$t missing: run scripts/setup"
done

tb_init
out=$TB_DIR
finish() {
	local rc=$?
	tb_down
	echo "diagnosis: $passed passed, $failed failed"
	if [ "$failed" -eq 0 ] && [ "$rc" -eq 0 ] && [ "${KEEP:-0}" != 1 ]; then
		rm -rf "$out"
	else
		echo "artifacts in $out"
	fi
	[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	exit 1
}
trap finish EXIT
trap 'exit 130' INT TERM

tb_up || exit 1

sed -e "s|@IP_A@|$TB_ADDR_A4|g" -e "s|@IP_B@|$TB_ADDR_B4|g" \
	"$here/diag-carrier.cfg.in" >"$out/carrier.cfg"
tb_exec c kamailio -c -f "$out/carrier.cfg" >"$out/carrier.check" 2>&1 || {
	cat "$out/carrier.check"
	exit 1
}
mkdir -p "$out/run"
tb_spawn c carrier kamailio -f "$out/carrier.cfg" -DD -E -m 64 -M 8 -Y "$out/run" \
	-P "$out/run/kamailio.pid" -w "$out"

listening() {
	local s
	s=$(tb_exec c ss -Hlnu)
	grep -q "$TB_ADDR_A4:5060" <<<"$s" && grep -q "$TB_ADDR_B4:5080" <<<"$s"
}
for ((i = 0; i < 50; i++)); do
	listening && break
	tb_alive carrier || {
		tail -n 20 "$out/carrier.log"
		exit 1
	}
	sleep 0.2
done
listening || {
	echo "carrier not listening after 10 s"
	exit 1
}

cap=$out/diag.pcapng
tb_spawn c capture dumpcap -q -i "$TB_IF_C" -w "$cap"
for ((i = 0; i < 50; i++)); do
	grep -q "Capturing on" "$out/capture.log" 2>/dev/null && [ -s "$cap" ] && break
	sleep 0.1
done
[ -s "$cap" ] || {
	cat "$out/capture.log"
	exit 1
}

common=(-sf "$here/uac-diag.xml" -s carrier -nostdin -r 50 -m "$calls" -t u1
	-timeout 60 -timeout_error)
tb_spawn d dial-a sipp "${common[@]}" -i "$TB_ADDR_D4" -p 5062 "$TB_ADDR_A4:5060"
tb_spawn d dial-b sipp "${common[@]}" -i "$TB_ADDR_D4" -p 5064 "$TB_ADDR_B4:5080"
for p in dial-a dial-b; do
	tb_wait "$p" 60 || echo "     $p still running after 60 s"
done
sleep 1
tb_stop capture INT
tb_stop dial-a
tb_stop dial-b

# The shipped default set, plus carrier-b's own rules: "Limiting" means its
# CPS ceiling, and its Warnings about maintenance mean something else.
python3 - "$root/config/sipguard.conf" "$out/diag.conf" "$TB_ADDR_A4" "$TB_ADDR_B4" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"(?ms)^diagnosis = \(\n(.*?)^\);\n", text)
rules = m.group(1).rstrip()
rules += """,
  { name = "b-limiting"; set = "carrier-b"; class = "cps-limit"; pattern = "^SIP/2\\\\.0 503 Limiting$"; },
  { name = "b-warning"; set = "carrier-b"; class = "other"; field = "Warning"; pattern = "maintenance of trunk group"; }
"""
open(sys.argv[2], "w").write("""# made by test_diagnosis.sh
dataplane = { sip_ports = [ 5060, 5080 ]; };
diagnosis = (
%s);
trunks = (
  { name = "carrier-a"; prefixes = [ "%s/32" ]; cps = 100; max_concurrent = 100; },
  { name = "carrier-b"; prefixes = [ "%s/32" ]; cps = 100; max_concurrent = 100; diagnosis = "carrier-b"; }
);
""" % (rules, sys.argv[3], sys.argv[4]))
PY

ran() {
	"$sipguard" -c "$out/diag.conf" --pcap "$cap" --json >"$out/report.json" 2>"$out/report.err"
}
check "sipguard counts the capture" ran
oracle() {
	python3 "$here/diag_oracle.py" "$out/diag.conf" "$cap" >"$out/oracle.json" 2>"$out/oracle.err"
}
check "the oracle reads the capture" oracle

for t in carrier-a carrier-b; do
	note "$t: sipguard $(jq -c --arg t "$t" '.trunks[$t].diagnosis' "$out/report.json" 2>/dev/null)"
	note "$t: oracle   $(jq -c --arg t "$t" '.trunks[$t]' "$out/oracle.json" 2>/dev/null)"
done

same() {
	jq -e -n --slurpfile r "$out/report.json" --slurpfile o "$out/oracle.json" --arg t "$1" \
		'$r[0].trunks[$t].diagnosis == $o[0].trunks[$t]' >/dev/null
}
adds_up() {
	# every 4xx-6xx final to INVITE is in exactly one class, on both sides
	jq -e -n --slurpfile r "$out/report.json" --slurpfile o "$out/oracle.json" --arg t "$1" \
		'($r[0].trunks[$t].diagnosis | add) as $n |
		 $n == ($r[0].trunks[$t].invite_final | to_entries |
			map(select(.key | tonumber >= 400) | .value) | add) and
		 $n == $o[0].finals_4xx_6xx[$t] and $n > 0' >/dev/null
}
has() {
	# the capture exercises class $2 on trunk $1 (at least $3 answers)
	jq -e --arg t "$1" --arg c "$2" --argjson n "$3" '.trunks[$t][$c] >= $n' \
		"$out/oracle.json" >/dev/null
}
min=$((calls / 40))
for c in cps-limit concurrency-limit overload route-down maintenance other unclassified; do
	check "capture has carrier-a answers of class $c" has carrier-a "$c" "$min"
done
for c in cps-limit other unclassified; do
	check "capture has carrier-b answers of class $c" has carrier-b "$c" "$min"
done
own_first() {
	jq -e '.trunks["carrier-b"].maintenance == 0' "$out/oracle.json" >/dev/null
}
check "carrier-b's own set decides before the default set (no maintenance)" own_first
for t in carrier-a carrier-b; do
	check "$t: diagnosis equals the oracle, class by class" same "$t"
	check "$t: classes add up to the 4xx-6xx finals" adds_up "$t"
done
nothing_unmatched() {
	jq -e '[.unmatched.diagnosis[]] | add == 0' "$out/report.json" >/dev/null
}
check "nothing unmatched" nothing_unmatched

#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Offline mode against an independent oracle: record a fresh capture on the
# namespace test bed (scripts/record), count it with sipguard
# (`--pcap --json`) and with tshark's SIP dissector (tshark_counts.py), and
# compare the two trunk by trunk.
#
# Before comparing, the capture itself is checked for what makes the test
# meaningful (503s with Retry-After and Reason, 200/ACK/BYE, retransmitted
# 503s, UDP and TCP, IPv4 and IPv6), so it cannot pass on a capture that
# exercises nothing.
#
# Environment:
#   SIPGUARD        sipguard binary (default build/dataplane/sipguard)
#   CAPTURE         use this capture (and its .conf) instead of recording
#   RECORD_SECONDS  length of the recording (default 30)
#   OUTDIR          where to keep capture and reports (default: a temp dir,
#                   removed on success)
# Exit: 0 pass, 1 fail, 77 skip (not root, or sipguard not built).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
secs=${RECORD_SECONDS:-30}

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"
finish() {
	echo "offline_tshark: $passed passed, $failed failed"
	if [ "$failed" -eq 0 ] && [ -z "${OUTDIR:-}" ]; then
		rm -rf "$out"
	else
		echo "artifacts in $out"
	fi
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

if [ -n "${OUTDIR:-}" ]; then
	out=$OUTDIR
	mkdir -p "$out"
else
	out=$(mktemp -d /tmp/sgt-offline.XXXXXX)
fi

if [ -n "${CAPTURE:-}" ]; then
	cap=$CAPTURE
	conf="${cap%.*}.conf"
else
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: recording needs root (network namespaces)"
		exit 77
	fi
	cap="$out/capture.pcapng"
	conf="$out/capture.conf"
	if ! "$root/scripts/record" "$cap" "$secs"; then
		echo "FAIL recording"
		failed=$((failed + 1))
		finish
	fi
fi
[ -r "$cap" ] && [ -r "$conf" ] || {
	echo "FAIL capture $cap or config $conf missing"
	failed=$((failed + 1))
	finish
}

# --- the capture must exercise what the comparison is about --------------
ports=$(python3 -c '
import sys; sys.path.insert(0, sys.argv[1])
import tshark_counts as t
print(" ".join(str(p) for p in t.load_config(sys.argv[2])["sip_ports"]))' "$here" "$conf")
decode=()
for p in $ports; do
	decode+=(-d "udp.port==$p,sip" -d "tcp.port==$p,sip")
done
frames() {
	tshark -r "$cap" -n "${decode[@]}" -Y "$1" -T fields -e frame.number 2>/dev/null | wc -l
}
at_least() {
	local n
	n=$(frames "$2")
	[ "$n" -ge "$1" ] || {
		echo "     only $n frames match '$2'"
		return 1
	}
}
check "capture has 503 with Retry-After and Q.850 Reason" \
	at_least 10 'sip.Status-Code == 503 && sip.Retry-After && sip.Reason contains "Q.850"'
check "capture has completed calls (200 to INVITE, ACK, BYE)" \
	at_least 10 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE"'
check "capture has ACK and BYE" \
	at_least 20 'sip.Method == "ACK" || sip.Method == "BYE"'
check "capture has SIP over UDP and IPv4" at_least 10 'sip && udp && ip'
check "capture has SIP over TCP and IPv6" at_least 10 'sip && tcp && ipv6'

# The same 503 (Call-ID) sent more than once: the carrier retransmitted it.
retrans_503() {
	tshark -r "$cap" -n "${decode[@]}" -Y 'sip.Status-Code == 503' \
		-T fields -e sip.Call-ID 2>/dev/null | sort | uniq -d | grep -c .
}
check "capture has retransmitted 503s" test "$(retrans_503)" -ge 1

# --- the oracle ----------------------------------------------------------
if ! python3 "$here/tshark_counts.py" "$conf" "$cap" >"$out/expected.json"; then
	echo "FAIL oracle"
	failed=$((failed + 1))
	finish
fi
# Every SIP frame of the bed is a candidate, so the oracle's per-trunk
# counts must add up to tshark's own SIP statistics.
sip_stat_agrees() {
	tshark -r "$cap" -n "${decode[@]}" -q -z sip,stat 2>/dev/null >"$out/sip_stat.txt"
	python3 - "$out/sip_stat.txt" "$out/expected.json" <<'PY'
import json, re, sys
stat = open(sys.argv[1]).read()
rep = json.load(open(sys.argv[2]))
want = {}
for m, n in re.findall(r"^\s+([A-Z]+)\s+:\s+(\d+) Packets", stat, re.M):
    want["requests." + m] = int(n)
for c, n in re.findall(r"^\s+SIP (\d{3}) .*:\s+(\d+) Packets", stat, re.M):
    want["responses." + c] = int(n)
got = {}
for c in list(rep["trunks"].values()) + [rep["unmatched"]]:
    for kind in ("requests", "responses"):
        for k, v in c[kind].items():
            got[kind + "." + k] = got.get(kind + "." + k, 0) + v
bad = [(k, want.get(k, 0), got.get(k, 0)) for k in sorted(set(want) | set(got))
       if want.get(k, 0) != got.get(k, 0)]
for k, w, g in bad:
    print("     %s: sip,stat %d, oracle %d" % (k, w, g))
sys.exit(1 if bad or not want else 0)
PY
}
check "oracle totals equal tshark's sip,stat" sip_stat_agrees
retrans_total=$(jq '[.trunks[].retransmissions] | add' "$out/expected.json")
check "oracle counts retransmissions ($retrans_total)" test "${retrans_total:-0}" -ge 1
frags=$(jq '.source.fragments' "$out/expected.json")
check "capture has no IP fragments" test "${frags:-1}" -eq 0
attempts=$(jq '[.trunks[].invite_attempts] | add' "$out/expected.json")
check "oracle counts INVITE attempts on the trunks ($attempts)" test "${attempts:-0}" -ge 100

# --- sipguard ------------------------------------------------------------
if [ ! -x "$sipguard" ]; then
	echo "SKIP: $sipguard not built (set SIPGUARD); oracle report in $out/expected.json"
	echo "offline_tshark: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 77
	exit 1
fi
if ! "$sipguard" -c "$conf" --pcap "$cap" --json >"$out/actual.json" 2>"$out/sipguard.err"; then
	echo "FAIL sipguard exited non-zero:"
	tail -n 20 "$out/sipguard.err"
	failed=$((failed + 1))
	finish
fi
has_trunks() {
	jq -e '.trunks | type == "object"' "$out/actual.json" >/dev/null 2>&1
}
check "sipguard report is JSON with trunks" has_trunks
check "sipguard saw every packet of the capture" test \
	"$(jq '.source.packets' "$out/actual.json")" -eq "$(jq '.source.packets' "$out/expected.json")"

echo "--- per trunk: tshark oracle (expected) vs sipguard (actual)"
python3 "$here/compare.py" "$out/expected.json" "$out/actual.json" | tee "$out/compare.txt"
cmp_rc=${PIPESTATUS[0]}
check "sipguard matches the oracle on every trunk" test "$cmp_rc" -eq 0
finish

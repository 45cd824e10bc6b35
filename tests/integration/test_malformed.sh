#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Malformed captures through the offline pipeline: every proper prefix of
# an INVITE (as datagrams, as TCP segments, and cut by the capture),
# 60 KiB header lines, NUL bytes, empty header values, a 64 KiB datagram,
# CRLF storms, garbage on port 5060, bogus IP/UDP/TCP lengths and
# fragments (gen_malformed.py). sipguard --pcap --json must exit 0 and
# count every group exactly as the generator derived from the counting
# rules: source.packets, sip_messages, non_sip, malformed, fragments and
# tcp_segments, and non_sip + malformed + fragments + tcp_segments +
# datagrams carrying SIP == packets.
# Runs the normal build and, when built, the ASan/UBSan one (build-asan),
# where any sanitizer report fails the group.
#
# Environment:
#   SIPGUARD        sipguard binary (default build/dataplane/sipguard)
#   SIPGUARD_ASAN   ASan build (default build-asan/dataplane/sipguard; "" skips)
# Exit: 0 pass, 1 fail, 77 skip (sipguard not built).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
asan=${SIPGUARD_ASAN-$root/build-asan/dataplane/sipguard}

if [ ! -x "$sipguard" ]; then
	echo "SKIP: $sipguard not built (set SIPGUARD)"
	exit 77
fi
for t in python3 jq; do
	command -v "$t" >/dev/null || {
		echo "SKIP: $t missing"
		exit 77
	}
done

tmp=$(mktemp -d /tmp/sgt-malformed.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/gen_malformed.py" "$tmp" || {
	echo "FAIL: generator"
	echo "malformed: 0 passed, 1 failed"
	exit 1
}
conf="$tmp/malformed.conf"
exp="$tmp/expected.json"

# the ASan build needs no DPDK-specific options: see test_asan.sh
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# EAL without hugepages (replacing sipguard's offline defaults after
# "--"): ASan's shadow memory and DPDK's legacy no-huge memory get on, and
# the run does not depend on how many hugepages other DPDK processes on the
# machine hold (with a few free, sipguard's own choice tries them and its
# LPM tables do not fit).
eal=(-- -l 0 --no-pci --no-telemetry --no-huge --no-shconf -m 512
	--log-level='*:warning' --log-level=lib.eal:error)

passed=0
failed=0

# check BIN LABEL GROUP PCAP EXPECTED-JQ-PATH
check() {
	local bin=$1 label=$2 group=$3 pcap=$4 path=$5 out="$tmp/out.json" err="$tmp/err"
	local rc f e a sip_frames bad=""

	"$bin" -c "$conf" --pcap "$pcap" --json "${eal[@]}" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $label $group: exit $rc: $(grep -m 1 -E 'ERROR|runtime error|.' "$err")"
		failed=$((failed + 1))
		return
	fi
	if grep -qE 'Sanitizer|runtime error|LeakSanitizer' "$err"; then
		echo "FAIL $label $group: sanitizer report:"
		grep -m 5 -E 'ERROR|SUMMARY|runtime error|#[0-4] ' "$err" | sed 's/^/     /'
		failed=$((failed + 1))
		return
	fi
	for f in packets sip_messages non_sip malformed fragments tcp_segments; do
		e=$(jq ".$path.$f" "$exp")
		a=$(jq ".source.$f" "$out")
		[ "$e" = "$a" ] || bad="$bad $f expected $e got $a;"
	done
	# every frame in exactly one bucket: datagrams carrying SIP make up the rest
	sip_frames=$(jq ".source.packets - .source.non_sip - .source.malformed - .source.fragments -
		.source.tcp_segments" "$out")
	if [ "$sip_frames" -lt 0 ] || [ "$sip_frames" -gt "$(jq .source.sip_messages "$out")" ]; then
		bad="$bad buckets overlap ($sip_frames frames left for SIP);"
	fi
	if [ -n "$bad" ]; then
		echo "FAIL $label $group:$bad"
		failed=$((failed + 1))
	else
		echo "ok   $label $group ($(jq -c ".$path" "$exp"))"
		passed=$((passed + 1))
	fi
}

run_build() {
	local bin=$1 label=$2 g

	for g in $(jq -r '.groups | keys[]' "$exp"); do
		check "$bin" "$label" "$g" "$tmp/$g.pcap" "groups.$g"
	done
	check "$bin" "$label" all "$tmp/all.pcap" total
}

run_build "$sipguard" plain
if [ -n "$asan" ] && [ -x "$asan" ]; then
	run_build "$asan" asan
else
	echo "note: no ASan build at ${asan:-(disabled)}; tests/integration/test_asan.sh builds it"
fi
echo "malformed: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Everything under AddressSanitizer and UndefinedBehaviorSanitizer: builds
# build-asan (-Db_sanitize=address,undefined -Db_lundef=false) unless it
# exists, runs the unit tests and fuzz regression replays there (meson
# test), then the offline pipeline (sipguard --pcap --json) over every
# capture of the shared corpus and over the malformed-capture corpus
# (gen_malformed.py). A sanitizer report, a leak at exit or a non-zero
# exit fails the case.
#
# DPDK under ASan: the unit tests' EAL runs with --no-huge, and sipguard
# is given --no-huge here too (below); with that, no ASAN_OPTIONS tweak is
# needed, detect_leaks=1 included (EAL's memory is mapped, not malloc'd,
# so LSan does not see it, and sipguard frees what it mallocs).
#
# Environment:
#   SG_ASAN_BUILD  build directory (default build-asan)
#   SG_CORPUS      capture directory (default: shared/corpus beside the repo)
# Exit: 0 pass, 1 fail, 77 skip (cannot build: dependencies missing).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bdir=${SG_ASAN_BUILD:-$root/build-asan}
corpus=${SG_CORPUS:-$root/../shared/corpus}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# EAL without hugepages (replacing sipguard's offline defaults after
# "--"): ASan's shadow memory and DPDK's legacy no-huge memory get on, and
# the run does not depend on how many hugepages other DPDK processes on the
# machine hold (with a few free, sipguard's own choice tries them and its
# LPM tables do not fit).
eal=(-- -l 0 --no-pci --no-telemetry --no-huge --no-shconf -m 512
	--log-level='*:warning' --log-level=lib.eal:error)

passed=0
failed=0
tmp=$(mktemp -d /tmp/sgt-asan.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$bdir/build.ninja" ]; then
	if ! meson setup "$bdir" -Db_sanitize=address,undefined -Db_lundef=false \
		>"$tmp/setup.log" 2>&1; then
		echo "SKIP: meson setup $bdir failed (run scripts/setup):"
		tail -n 3 "$tmp/setup.log"
		exit 77
	fi
fi
if ! ninja -C "$bdir" >"$tmp/build.log" 2>&1; then
	echo "FAIL build: ninja -C $bdir"
	grep -m 5 -E 'error|FAILED' "$tmp/build.log" | sed 's/^/     /'
	echo "asan: 0 passed, 1 failed"
	exit 1
fi

# unit tests and fuzz replays, one line each
meson test -C "$bdir" --no-rebuild --print-errorlogs >"$tmp/test.log" 2>&1
while read -r name result; do
	case "$result" in
	OK | EXPECTEDFAIL) passed=$((passed + 1)) ;;
	SKIP) ;;
	*)
		echo "FAIL meson test $name: $result"
		failed=$((failed + 1))
		;;
	esac
done < <(sed -n 's|^ *[0-9]*/[0-9]* [^ ]* / \([^ ]*\) *\([A-Z]*\).*|\1 \2|p' "$tmp/test.log" |
	sort -u)
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' "$tmp/test.log" | sort -u | head -n 5 |
	sed 's/^/     /'
echo "meson test under ASan/UBSan: $passed passed, $failed failed"

# run_offline LABEL CONF PCAP
run_offline() {
	local label=$1 conf=$2 pcap=$3 rc

	"$bdir/dataplane/sipguard" -c "$conf" --pcap "$pcap" --json "${eal[@]}" \
		>"$tmp/out.json" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ] || grep -qE 'Sanitizer|runtime error' "$tmp/err" ||
		! jq -e '.source.packets > 0' "$tmp/out.json" >/dev/null 2>&1; then
		echo "FAIL offline $label: exit $rc"
		if grep -qE 'Sanitizer|runtime error' "$tmp/err"; then
			grep -m 8 -E 'ERROR|SUMMARY|runtime error|#[0-5] |leak' "$tmp/err"
		else
			tail -n 2 "$tmp/err"
		fi | sed 's/^/     /'
		failed=$((failed + 1))
	else
		echo "ok   offline $label ($(jq .source.packets "$tmp/out.json") packets)"
		passed=$((passed + 1))
	fi
}

if [ -d "$corpus" ]; then
	for cap in "$corpus"/*.pcap "$corpus"/*.pcapng; do
		[ -e "$cap" ] || continue
		run_offline "$(basename "$cap")" "$here/corpus.conf" "$cap"
	done
else
	echo "note: no capture corpus at $corpus (set SG_CORPUS); malformed corpus only"
fi
if python3 "$here/gen_malformed.py" "$tmp/mal" >/dev/null; then
	run_offline malformed-corpus "$tmp/mal/malformed.conf" "$tmp/mal/all.pcap"
else
	echo "FAIL gen_malformed.py"
	failed=$((failed + 1))
fi

echo "asan: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

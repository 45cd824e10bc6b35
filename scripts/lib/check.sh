# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# The integration tests' verdict helpers: one line per check, a final
# "N passed, N failed" line, exit 77 for a test that cannot run here.
#
#   skip WHY              say why and exit 77
#   check WHAT cmd...     run cmd; "ok   WHAT" or "FAIL WHAT"
#   note TEXT             an indented line of figures
#   check_watchdog SECS   SIGTERM this shell after SECS s (the caller's
#                         TERM trap reports the time limit); its pid in
#                         WATCHDOG, for the caller to kill at exit
#   live_needs BIN... -- TOOL...
#                         skip unless root, every BIN built and every TOOL
#                         on PATH
#   live_preflight DIAL   skip unless the live appliance can run here
#                         (hugepages, CPUs 0 and 1) and DIAL is 8..20 s
#   check_run NAME SECS   for a test with a `cleanup` function and t_start
#                         set: cleanup on exit, 130 on INT, a time limit
#                         of SECS s (the watchdog's pid in `watchdog`)
#   finish                "NAME: N s", the verdict line; exit 0 or 1
#   abort WHY             a failed check that ends the test: finish
#   ctl_ ARGS...          sipguardctl ($ctl) on the test's socket ($sock)
#   ctl_ready SECS [ALIVE]
#                         wait up to SECS s for sipguardctl to answer (the
#                         dataplane runs, the control plane is attached);
#                         fails at once when `ALIVE sipguard` says the
#                         dataplane died (default tb_alive)

passed=0
failed=0

skip() {
	echo "SKIP: $*"
	exit 77
}

check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
		passed=$((passed + 1))
	else
		echo "FAIL $what"
		failed=$((failed + 1))
	fi
}

note() {
	echo "     $*"
}

check_watchdog() {
	local me=$$
	(
		trap 'kill "$nap" 2>/dev/null; exit 0' TERM
		sleep "$1" &
		nap=$!
		wait "$nap" && kill -TERM "$me" 2>/dev/null
	) &
	# shellcheck disable=SC2034 # the caller kills it at exit
	WATCHDOG=$!
}

# A live test's programs: root (namespaces, hugepages), sipguard's own
# binaries built, the peers' and the oracle's tools installed.
live_needs() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, hugepages)"
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		[ -x "$1" ] || skip "$1 not built (set SIPGUARD)"
		shift
	done
	[ $# -gt 0 ] && shift
	for t in "$@"; do
		command -v "$t" >/dev/null || skip "$t missing: run scripts/setup"
	done
}

# The live tests' common preconditions: hugepages for the DPDK primary and
# secondary, the two CPUs dataplane.lcores maps onto, a sane dial length.
live_preflight() {
	local dial=$1 hp_free
	hp_free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	grep -qs ' hugetlbfs ' /proc/mounts || skip "no hugetlbfs mounted: run scripts/setup"
	[ "${hp_free:-0}" -ge 128 ] ||
		skip "live mode needs hugepages: ${hp_free:-0} free, 128 (256 MB) wanted (scripts/setup)"
	python3 -c 'import os, sys; sys.exit(0 if {0, 1} <= os.sched_getaffinity(0) else 1)' ||
		skip "dataplane.lcores maps onto CPUs 0 and 1: both must be available"
	case "$dial" in
	'' | *[!0-9]*) skip "LIVE_DIAL_SECONDS must be a number of seconds" ;;
	esac
	if [ "$dial" -lt 8 ] || [ "$dial" -gt 20 ]; then
		skip "LIVE_DIAL_SECONDS must be 8..20"
	fi
}

check_run() {
	CHECK_NAME=$1
	CHECK_LIMIT=$2
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'echo "FAIL time limit of $CHECK_LIMIT s reached"; failed=$((failed + 1));
		echo "$passed passed, $failed failed"; exit 1' TERM
	check_watchdog "$CHECK_LIMIT"
	# shellcheck disable=SC2034 # the caller's cleanup kills it
	watchdog=$WATCHDOG
}

finish() {
	echo "$CHECK_NAME: $((SECONDS - ${t_start:-0})) s"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

abort() {
	echo "FAIL $*"
	failed=$((failed + 1))
	finish
}

# shellcheck disable=SC2154 # ctl and sock are the calling test's
ctl_() {
	"$ctl" -s "$sock" "$@"
}

ctl_ready() {
	local secs=$1 alive=${2:-tb_alive} i
	for ((i = 0; i < secs * 5; i++)); do
		ctl_ status >/dev/null 2>&1 && return 0
		"$alive" sipguard || return 1
		sleep 0.2
	done
	return 1
}

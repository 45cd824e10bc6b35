# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# A replay test bed for the live dataplane: one network namespace holding
# one veth pair. tcpreplay writes a capture into one end ($FL_IF_TX) and
# sipguard reads the other end ($FL_IF_RX) through net_af_packet, with
# sipguard-ctrl and sipguardctl beside it. Nothing else speaks on the link:
# the ends have no addresses and IPv6 is off in the namespace, so every
# frame the receiving end counts is one tcpreplay sent.
#
# Names carry a per-run prefix (sgf + 5 hex digits): parallel runs, and the
# other test beds (sgt...), never collide. The work directory holds pid
# files, logs and the control socket.
#
# Usage:
#   . scripts/lib/flood.sh
#   fl_init; trap '...; fl_down' EXIT; fl_up
#   fl_conf FILE LCORES QUEUES GEN_ARGS...   # sipguard config for this bed
#   fl_start_dataplane CONF / fl_start_ctrl CONF / fl_ctl_ready SECONDS
#   fl_replay NAME tcpreplay-args...       # tcpreplay on $FL_IF_TX, background
#   fl_rx_frames                           # frames the receiving end got
#   fl_quiet SECONDS MAX                   # wait until nothing arrives
#   fl_stop NAME [SIGNAL]                  # signal, wait, forget
#   fl_down                                # idempotent teardown

# shellcheck source=scripts/lib/still.sh
. "$(dirname "${BASH_SOURCE[0]}")/still.sh"

fl_log() {
	echo "flood: $*" >&2
}

fl_init() {
	local id
	id=$(printf '%05x' $(((($$ * 7919) + RANDOM * 31 + RANDOM) % 1048576)))
	FL_ID="sgf${id}"
	FL_NS="${FL_ID}n"
	FL_IF_TX="${FL_ID}a"
	FL_IF_RX="${FL_ID}b"
	FL_DIR=$(mktemp -d "/tmp/${FL_ID}.XXXXXX")
	FL_SOCK="$FL_DIR/ctrl.sock"
	FL_UP=0
	FL_NAMES=()
}

fl_up() {
	FL_UP=1
	ip netns add "$FL_NS" || return 1
	ip netns exec "$FL_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return 1
	ip -n "$FL_NS" link set lo up
	ip -n "$FL_NS" link add "$FL_IF_TX" type veth peer name "$FL_IF_RX" || return 1
	ip -n "$FL_NS" link set "$FL_IF_TX" up || return 1
	ip -n "$FL_NS" link set "$FL_IF_RX" up || return 1
}

fl_down() {
	local i
	# last started first: load, then the control plane, then the dataplane
	for ((i = ${#FL_NAMES[@]} - 1; i >= 0; i--)); do
		fl_stop "${FL_NAMES[i]}"
	done
	if [ "$FL_UP" = 1 ]; then
		ip netns del "$FL_NS" 2>/dev/null
		FL_UP=0
	fi
	fl_dpdk_clean "$FL_ID"
}

# fl_spawn NAME [ns] cmd...: background process, log to $FL_DIR/NAME.log;
# with "ns" first it runs inside the namespace.
fl_spawn() {
	local name=$1
	shift
	if [ "$1" = ns ]; then
		shift
		set -- ip netns exec "$FL_NS" "$@"
	fi
	"$@" </dev/null >"$FL_DIR/$name.log" 2>&1 &
	echo $! >"$FL_DIR/$name.pid"
	FL_NAMES+=("$name")
}

fl_pid() {
	cat "$FL_DIR/$1.pid" 2>/dev/null
}

fl_alive() {
	local pid
	pid=$(fl_pid "$1") || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# fl_wait NAME SECONDS: wait for NAME to exit; its status in FL_RC
# ("timeout" if it did not).
fl_wait() {
	local pid i
	FL_RC=timeout
	pid=$(fl_pid "$1") || return 1
	for ((i = 0; i < $2 * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			# shellcheck disable=SC2034 # read by the caller
			FL_RC=$?
			rm -f "$FL_DIR/$1.pid"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# fl_stop NAME [SIGNAL]: signal (TERM), wait up to 10 s, then KILL.
fl_stop() {
	local pid
	pid=$(fl_pid "$1") || return 0
	[ -n "$pid" ] || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	fl_wait "$1" 10 || {
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	}
	rm -f "$FL_DIR/$1.pid"
}

# fl_dpdk_clean PREFIX: hugepage files and runtime directory of a prefix.
fl_dpdk_clean() {
	local prefix=$1 mnt fstype
	[ -n "$prefix" ] || return 0
	while read -r _ mnt fstype _; do
		[ "$fstype" = hugetlbfs ] || continue
		rm -f "$mnt/${prefix}map_"* 2>/dev/null
	done </proc/mounts
	rm -rf "/var/run/dpdk/$prefix"
}

# Hugepage files a prefix holds now.
fl_hugefiles() {
	local mnt fstype n=0 f
	while read -r _ mnt fstype _; do
		[ "$fstype" = hugetlbfs ] || continue
		for f in "$mnt/$1map_"*; do
			[ -e "$f" ] && n=$((n + 1))
		done
	done </proc/mounts
	echo "$n"
}

# fl_conf FILE LCORES QUEUES EXTRA GEN_ARGS...: the config, with EXTRA
# (more dataplane keys) and the generator's trunks.
fl_conf() {
	local file=$1 lcores=$2 q=$3 extra=$4 gen
	shift 4
	gen=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration" && pwd)/flood_gen.py
	{
		cat <<EOF
# sipguard replay-bed config, run $FL_ID (scripts/lib/flood.sh).
dataplane = {
  sip_ports = [ 5060 ];
  lcores = "$lcores";
  file_prefix = "$FL_ID";
  publish_interval = 100;
  $extra
};
ctrl = { socket = "$FL_SOCK"; cpu = 0; };
metrics = { listen = "off"; };
ports = ( { devargs = "net_af_packet0,iface=$FL_IF_RX,qpairs=$q,framecnt=16384";
  rx_queues = $q; } );
EOF
		python3 "$gen" conf "$@"
	} >"$file"
}

fl_ctl() {
	"$FL_CTL" -s "$FL_SOCK" "$@"
}

# fl_start_dataplane CONF: sipguard in the namespace; returns once its
# ports run (a secondary attaching earlier fails in EAL init).
fl_start_dataplane() {
	local i
	fl_spawn sipguard ns "$FL_SIPGUARD" -c "$1"
	for ((i = 0; i < 150; i++)); do
		grep -q "^sipguard: running" "$FL_DIR/sipguard.log" && return 0
		fl_alive sipguard || break
		sleep 0.2
	done
	tail -n 5 "$FL_DIR/sipguard.log" >&2
	return 1
}

# fl_start_ctrl CONF [NAME]: sipguard-ctrl (root namespace).
fl_start_ctrl() {
	fl_spawn "${2:-ctrl}" "$FL_CTRL" -c "$1" --wait
}

# fl_ctl_ready SECONDS: sipguardctl gets an answer.
fl_ctl_ready() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		fl_ctl status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# Frames the receiving end got: what its packet sockets are offered.
fl_rx_frames() {
	ip -n "$FL_NS" -s -j link show dev "$FL_IF_RX" | jq '.[0].stats64.rx.packets'
}

# fl_quiet SECONDS MAX: no frame arrived for SECONDS (0.5 s steps), at
# most MAX seconds; 1 on timeout.
fl_quiet() {
	sg_still "$1" "$2" fl_rx_frames
}

# fl_replay NAME CPU tcpreplay-args...: tcpreplay into the sending end,
# pinned to CPU, in the background.
fl_replay() {
	local name=$1 cpu=$2
	shift 2
	fl_spawn "$name" ns taskset -c "$cpu" tcpreplay -q -i "$FL_IF_TX" "$@"
}

# Packets tcpreplay says it sent, and its rate, from its closing lines.
fl_replay_sent() {
	sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$FL_DIR/$1.log" | tail -n 1
}
fl_replay_pps() {
	sed -n 's/.*Rated: .*, \([0-9.]*\) pps.*/\1/p' "$FL_DIR/$1.log" | tail -n 1
}
fl_replay_secs() {
	sed -n 's/.*Actual: .* sent in \([0-9.]*\) seconds.*/\1/p' "$FL_DIR/$1.log" | tail -n 1
}

# sipguard's memory: VmRSS and VmHWM in KiB.
fl_rss() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null
}
fl_hwm() {
	awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null
}

# --- test helpers shared by test_flood.sh and test_faults.sh -------------

FL_PASSED=0
FL_FAILED=0

# fl_check WHAT cmd...: one assertion, "ok" or "FAIL".
fl_check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
		FL_PASSED=$((FL_PASSED + 1))
	else
		echo "FAIL $what"
		FL_FAILED=$((FL_FAILED + 1))
	fi
}

fl_note() {
	echo "     $*"
}

fl_finish() {
	echo "$FL_PASSED passed, $FL_FAILED failed"
	[ "$FL_FAILED" -eq 0 ] && exit 0
	exit 1
}

fl_abort() {
	echo "FAIL $*"
	FL_FAILED=$((FL_FAILED + 1))
	fl_finish
}

fl_skip() {
	echo "SKIP: $*"
	exit 77
}

# fl_preflight HUGEPAGES: skip (77) unless this machine can run the bed.
fl_preflight() {
	local b t hp_free
	[ "$(id -u)" -eq 0 ] || fl_skip "needs root (network namespaces, hugepages)"
	for b in "$FL_SIPGUARD" "$FL_CTRL" "$FL_CTL"; do
		[ -x "$b" ] || fl_skip "$b not built (set SIPGUARD)"
	done
	for t in tcpreplay ip jq python3 taskset; do
		command -v "$t" >/dev/null || fl_skip "$t missing: run scripts/setup"
	done
	grep -qs ' hugetlbfs ' /proc/mounts || fl_skip "no hugetlbfs mounted: run scripts/setup"
	hp_free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	[ "${hp_free:-0}" -ge "$1" ] ||
		fl_skip "needs $1 free 2 MB hugepages, ${hp_free:-0} free (scripts/setup; other runs?)"
	python3 -c 'import os, sys; sys.exit(0 if {0, 1} <= os.sched_getaffinity(0) else 1)' ||
		fl_skip "the lcores map onto CPUs 0 and 1: both must be available"
}

# fl_watchdog SECONDS: TERM this shell when the time is up.
fl_watchdog() {
	local me=$$
	(
		trap 'kill "$nap" 2>/dev/null; exit 0' TERM
		sleep "$1" &
		nap=$!
		wait "$nap" && kill -TERM "$me" 2>/dev/null
	) &
	# shellcheck disable=SC2034 # the caller kills it at exit
	FL_WATCHDOG=$!
}

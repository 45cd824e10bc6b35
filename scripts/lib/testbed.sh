# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Integration test bed: two network namespaces joined by one veth pair.
#
#   dialer ns (sipp UACs)                 carrier ns (Kamailio + sipp UAS)
#   ${TB_NS_D}                            ${TB_NS_C}
#   ${TB_IF_D} ----------- veth ----------- ${TB_IF_C}   <- capture point
#   192.0.2.10/24                         198.51.100.10/24  carrier-a
#   2001:db8:d::10/64                     198.51.100.20/24  carrier-b
#                                         2001:db8:b::20/64 carrier-b
#                                         198.51.100.30/24  unmatched peer
#                                         lo: 198.51.100.200/32 sipp UAS
#
# Every name carries a per-run prefix (sgt + 5 characters) so parallel runs
# never collide, and every address is a documentation range that exists
# only inside these namespaces. Offloads are off on both ends of the veth so
# a capture sees the frames a real wire would carry.
#
# Usage:
#   . scripts/lib/testbed.sh
#   tb_init [WORKDIR]      # names, addresses, work dir; sets TB_* variables
#   trap tb_down EXIT      # teardown is idempotent and trap-safe
#   tb_up
#   tb_spawn c NAME cmd... # background process inside a namespace (d or c)
#   tb_stop NAME           # SIGTERM one spawned process, wait for it
#   tb_down

TB_ADDR_D4=192.0.2.10
TB_ADDR_D6=2001:db8:d::10
TB_ADDR_A4=198.51.100.10
TB_ADDR_B4=198.51.100.20
TB_ADDR_B6=2001:db8:b::20
TB_ADDR_U4=198.51.100.30
TB_ADDR_UAS=198.51.100.200

tb_log() {
	echo "testbed: $*" >&2
}

# Pick unique names for this run. WORKDIR holds pid files and logs.
tb_init() {
	local id
	id=$(printf '%05x' $(( ($$ * 7919 + RANDOM) % 1048576 )))
	TB_ID="sgt${id}"
	TB_NS_D="${TB_ID}d"
	TB_NS_C="${TB_ID}c"
	TB_IF_D="${TB_ID}d0"
	TB_IF_C="${TB_ID}c0"
	TB_DIR="${1:-$(mktemp -d "/tmp/${TB_ID}.XXXXXX")}"
	mkdir -p "$TB_DIR"
	TB_UP=0
	export TB_ID TB_NS_D TB_NS_C TB_IF_D TB_IF_C TB_DIR
}

tb_ns() {
	case "$1" in
	d) echo "$TB_NS_D" ;;
	c) echo "$TB_NS_C" ;;
	*) tb_log "unknown namespace '$1'"; return 1 ;;
	esac
}

# Run a command inside namespace d or c.
tb_exec() {
	local ns
	ns=$(tb_ns "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

tb_offloads_off() {
	local ns=$1 dev=$2
	# Not every feature exists on every kernel; the ones that do must go.
	ip netns exec "$ns" ethtool -K "$dev" rx off tx off gro off gso off tso off \
		>/dev/null 2>&1 ||
		ip netns exec "$ns" ethtool -K "$dev" gro off gso off tso off >/dev/null 2>&1 ||
		tb_log "warning: could not turn offloads off on $dev"
}

tb_up() {
	local n
	if [ -z "${TB_ID:-}" ]; then
		tb_log "tb_init first"
		return 1
	fi
	for n in ip ethtool; do
		command -v "$n" >/dev/null || { tb_log "$n missing: run scripts/setup"; return 1; }
	done
	TB_UP=1
	ip netns add "$TB_NS_D" || return 1
	ip netns add "$TB_NS_C" || return 1
	for n in "$TB_NS_D" "$TB_NS_C"; do
		ip -n "$n" link set lo up
		# No duplicate address detection: addresses are usable at once.
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0
		ip netns exec "$n" sysctl -qw net.ipv6.conf.default.accept_dad=0
		ip netns exec "$n" sysctl -qw net.ipv6.conf.default.router_solicitations=0
	done
	ip link add "$TB_IF_D" netns "$TB_NS_D" type veth peer name "$TB_IF_C" netns "$TB_NS_C" ||
		return 1

	ip -n "$TB_NS_D" addr add "$TB_ADDR_D4/24" dev "$TB_IF_D"
	ip -n "$TB_NS_D" -6 addr add "$TB_ADDR_D6/64" dev "$TB_IF_D" nodad
	ip -n "$TB_NS_C" addr add "$TB_ADDR_A4/24" dev "$TB_IF_C"
	ip -n "$TB_NS_C" addr add "$TB_ADDR_B4/24" dev "$TB_IF_C"
	ip -n "$TB_NS_C" addr add "$TB_ADDR_U4/24" dev "$TB_IF_C"
	ip -n "$TB_NS_C" -6 addr add "$TB_ADDR_B6/64" dev "$TB_IF_C" nodad
	ip -n "$TB_NS_C" addr add "$TB_ADDR_UAS/32" dev lo
	tb_offloads_off "$TB_NS_D" "$TB_IF_D"
	tb_offloads_off "$TB_NS_C" "$TB_IF_C"
	ip -n "$TB_NS_D" link set "$TB_IF_D" up
	ip -n "$TB_NS_C" link set "$TB_IF_C" up
	# The two sides sit in different subnets on one link: on-link routes.
	ip -n "$TB_NS_D" route add 198.51.100.0/24 dev "$TB_IF_D"
	ip -n "$TB_NS_D" -6 route add 2001:db8:b::/48 dev "$TB_IF_D"
	ip -n "$TB_NS_C" route add 192.0.2.0/24 dev "$TB_IF_C"
	ip -n "$TB_NS_C" -6 route add 2001:db8:d::/48 dev "$TB_IF_C"

	# Both families must pass before anyone relies on the link.
	for n in 1 2 3 4 5 6 7 8 9 10; do
		if ip netns exec "$TB_NS_D" ping -c1 -W1 "$TB_ADDR_A4" >/dev/null 2>&1 &&
			ip netns exec "$TB_NS_D" ping -6 -c1 -W1 "$TB_ADDR_B6" >/dev/null 2>&1; then
			tb_neigh_pin || {
				tb_log "could not pin the neighbours of $TB_NS_D and $TB_NS_C"
				return 1
			}
			tb_log "up: $TB_NS_D <-> $TB_NS_C (work dir $TB_DIR)"
			return 0
		fi
		sleep 0.5
	done
	tb_log "link between $TB_NS_D and $TB_NS_C does not pass traffic"
	return 1
}

# tb_neigh_pin: every address of each side (the veth's and the carrier's
# loopback ones) as a permanent neighbour of the other side. The link then
# carries the test's traffic and nothing the kernel would send on its own
# (ARP, neighbour solicitations, the probes of a stale entry after the
# traffic), so a port's frame count can be compared with a capture's.
tb_neigh_pin() {
	local from to ifn peer mac a
	for from in d c; do
		if [ "$from" = d ]; then
			to=$TB_NS_C ifn=$TB_IF_D peer=$TB_IF_C
		else
			to=$TB_NS_D ifn=$TB_IF_C peer=$TB_IF_D
		fi
		mac=$(ip -n "$to" -o link show dev "$peer" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
		[ -n "$mac" ] || return 1
		for a in $(ip -n "$to" -o addr show scope global | awk '{sub("/.*", "", $4); print $4}'); do
			ip -n "$(tb_ns "$from")" neigh replace "$a" lladdr "$mac" dev "$ifn" nud permanent ||
				return 1
		done
	done
}

# tb_spawn d|c NAME cmd...: start cmd in the background inside a namespace,
# stdout and stderr to $TB_DIR/NAME.log, pid to $TB_DIR/NAME.pid.
tb_spawn() {
	local ns name pid
	ns=$(tb_ns "$1") || return 1
	name=$2
	shift 2
	ip netns exec "$ns" "$@" </dev/null >"$TB_DIR/$name.log" 2>&1 &
	pid=$!
	echo "$pid" >"$TB_DIR/$name.pid"
}

tb_pid() {
	cat "$TB_DIR/$1.pid" 2>/dev/null
}

# Is the spawned process NAME still running?
tb_alive() {
	local pid
	pid=$(tb_pid "$1") || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# Wait up to SECONDS for NAME to exit by itself; 0 if it did.
tb_wait() {
	local name=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		tb_alive "$name" || return 0
		sleep 0.1
	done
	return 1
}

# Stop one spawned process: SIGNAL (default TERM), then KILL after 5 s.
tb_stop() {
	local name=$1 sig=${2:-TERM} pid
	pid=$(tb_pid "$name") || return 0
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -s "$sig" "$pid" 2>/dev/null || true
		tb_wait "$name" 5 || kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	rm -f "$TB_DIR/$name.pid"
}

# Tear everything down. Safe to call twice, from a trap, or after a
# half-built bed.
tb_down() {
	local f n pids
	[ -n "${TB_ID:-}" ] || return 0
	[ "${TB_UP:-0}" = 1 ] || return 0
	for f in "$TB_DIR"/*.pid; do
		[ -e "$f" ] || continue
		tb_stop "$(basename "$f" .pid)"
	done
	# Whatever still runs inside our own namespaces was started by us
	# (kamailio children, for instance).
	for n in "$TB_NS_D" "$TB_NS_C"; do
		pids=$(ip netns pids "$n" 2>/dev/null || true)
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086
			kill -TERM $pids 2>/dev/null || true
			sleep 0.5
			pids=$(ip netns pids "$n" 2>/dev/null || true)
			# shellcheck disable=SC2086
			[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
		fi
	done
	ip netns del "$TB_NS_D" 2>/dev/null || true
	ip netns del "$TB_NS_C" 2>/dev/null || true
	TB_UP=0
	tb_log "down: $TB_ID"
}

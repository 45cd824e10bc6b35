# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# HEP test bed: three network namespaces, two veth links.
#
#   dialer ns (sipp UACs, edge proxy)    carrier ns (2 Kamailio + sipp UAS)
#   ${HB_NS_D}                           ${HB_NS_C}
#   ${HB_IF_D} ------------ veth ------------ ${HB_IF_C}  <- wire capture
#   192.0.2.10/24 dialers                198.51.100.10/24  carrier-tls (TLS 5061)
#   192.0.2.1/24  edge proxy             198.51.100.20/24  carrier-udp (UDP 5080)
#                                        lo: 198.51.100.200/32 sipp UAS
#   ${HB_IF_DH}
#   203.0.113.1/24 HEP agent (edge)
#        |
#        +---- veth, MTU 1500 ---- ${HB_IF_H}  203.0.113.9/24   <- HEP capture
#                                  collector ns ${HB_NS_H}
#
# The edge proxy mirrors every SIP message it sends and receives (the TLS
# leg in clear) as HEPv3 to the collector; a HEP datagram larger than the
# collector link's MTU leaves the agent as IP fragments, as on a real
# network. Every name carries a per-run prefix (sgh + 5 characters) so
# parallel runs never collide; every address is a documentation range that
# exists only inside these namespaces. Offloads are off on every veth end so
# captures hold the frames a real wire would carry.
#
# Usage:
#   . scripts/lib/hepbed.sh
#   hb_init [WORKDIR]       # names, addresses, work dir; sets HB_* variables
#   trap hb_down EXIT       # teardown is idempotent and trap-safe
#   hb_up
#   hb_spawn d|c|h NAME cmd...
#   hb_stop NAME [SIGNAL]
#   hb_down

HB_ADDR_DIAL=192.0.2.10
HB_ADDR_EDGE=192.0.2.1
HB_ADDR_T=198.51.100.10
HB_ADDR_U=198.51.100.20
HB_ADDR_UAS=198.51.100.200
HB_ADDR_AGENT=203.0.113.1
HB_ADDR_COLL=203.0.113.9
HB_MTU=1500

hb_log() {
	echo "hepbed: $*" >&2
}

hb_init() {
	local id
	id=$(printf '%05x' $(((($$ * 7919) + RANDOM * 31 + RANDOM) % 1048576)))
	HB_ID="sgh${id}"
	HB_NS_D="${HB_ID}d"
	HB_NS_C="${HB_ID}c"
	HB_NS_H="${HB_ID}h"
	HB_IF_D="${HB_ID}d0"
	HB_IF_C="${HB_ID}c0"
	HB_IF_DH="${HB_ID}d1"
	HB_IF_H="${HB_ID}h0"
	HB_DIR="${1:-$(mktemp -d "/tmp/${HB_ID}.XXXXXX")}"
	mkdir -p "$HB_DIR"
	HB_UP=0
	export HB_ID HB_NS_D HB_NS_C HB_NS_H HB_IF_D HB_IF_C HB_IF_DH HB_IF_H HB_DIR
}

hb_ns() {
	case "$1" in
	d) echo "$HB_NS_D" ;;
	c) echo "$HB_NS_C" ;;
	h) echo "$HB_NS_H" ;;
	*)
		hb_log "unknown namespace '$1'"
		return 1
		;;
	esac
}

hb_exec() {
	local ns
	ns=$(hb_ns "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

hb_offloads_off() {
	local ns=$1 dev=$2
	ip netns exec "$ns" ethtool -K "$dev" rx off tx off gro off gso off tso off \
		>/dev/null 2>&1 ||
		ip netns exec "$ns" ethtool -K "$dev" gro off gso off tso off >/dev/null 2>&1 ||
		hb_log "warning: could not turn offloads off on $dev"
}

hb_up() {
	local n
	if [ -z "${HB_ID:-}" ]; then
		hb_log "hb_init first"
		return 1
	fi
	for n in ip ethtool; do
		command -v "$n" >/dev/null || {
			hb_log "$n missing: run scripts/setup"
			return 1
		}
	done
	HB_UP=1
	for n in "$HB_NS_D" "$HB_NS_C" "$HB_NS_H"; do
		ip netns add "$n" || return 1
		ip -n "$n" link set lo up
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	done
	ip link add "$HB_IF_D" netns "$HB_NS_D" type veth peer name "$HB_IF_C" netns "$HB_NS_C" ||
		return 1
	ip link add "$HB_IF_DH" netns "$HB_NS_D" mtu "$HB_MTU" type veth \
		peer name "$HB_IF_H" netns "$HB_NS_H" mtu "$HB_MTU" || return 1

	# The edge's address first: it is the source the kernel picks for
	# the edge's TLS connections, whose sockets are not bound.
	ip -n "$HB_NS_D" addr add "$HB_ADDR_EDGE/24" dev "$HB_IF_D"
	ip -n "$HB_NS_D" addr add "$HB_ADDR_DIAL/24" dev "$HB_IF_D"
	ip -n "$HB_NS_D" addr add "$HB_ADDR_AGENT/24" dev "$HB_IF_DH"
	ip -n "$HB_NS_C" addr add "$HB_ADDR_T/24" dev "$HB_IF_C"
	ip -n "$HB_NS_C" addr add "$HB_ADDR_U/24" dev "$HB_IF_C"
	ip -n "$HB_NS_C" addr add "$HB_ADDR_UAS/32" dev lo
	ip -n "$HB_NS_H" addr add "$HB_ADDR_COLL/24" dev "$HB_IF_H"
	for n in "d $HB_IF_D" "c $HB_IF_C" "d $HB_IF_DH" "h $HB_IF_H"; do
		# shellcheck disable=SC2086
		set -- $n
		hb_offloads_off "$(hb_ns "$1")" "$2"
		ip -n "$(hb_ns "$1")" link set "$2" up
	done
	ip -n "$HB_NS_D" route add 198.51.100.0/24 dev "$HB_IF_D"
	ip -n "$HB_NS_C" route add 192.0.2.0/24 dev "$HB_IF_C"

	for n in 1 2 3 4 5 6 7 8 9 10; do
		if ip netns exec "$HB_NS_D" ping -c1 -W1 "$HB_ADDR_T" >/dev/null 2>&1 &&
			ip netns exec "$HB_NS_D" ping -c1 -W1 "$HB_ADDR_COLL" >/dev/null 2>&1; then
			hb_log "up: $HB_NS_D <-> $HB_NS_C, $HB_NS_D <-> $HB_NS_H (work dir $HB_DIR)"
			return 0
		fi
		sleep 0.5
	done
	hb_log "links of $HB_NS_D do not pass traffic"
	return 1
}

# hb_spawn d|c|h NAME cmd...: background process inside a namespace, output
# to $HB_DIR/NAME.log, pid to $HB_DIR/NAME.pid.
hb_spawn() {
	local ns name
	ns=$(hb_ns "$1") || return 1
	name=$2
	shift 2
	ip netns exec "$ns" "$@" </dev/null >"$HB_DIR/$name.log" 2>&1 &
	echo "$!" >"$HB_DIR/$name.pid"
}

hb_alive() {
	local pid
	pid=$(cat "$HB_DIR/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# Wait up to SECONDS for NAME to exit by itself; 0 if it did.
hb_wait() {
	local name=$1 secs=$2 i
	for ((i = 0; i < secs * 10; i++)); do
		hb_alive "$name" || return 0
		sleep 0.1
	done
	return 1
}

# Stop one spawned process: SIGNAL (default TERM), then KILL after 5 s.
hb_stop() {
	local name=$1 sig=${2:-TERM} pid
	pid=$(cat "$HB_DIR/$name.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -s "$sig" "$pid" 2>/dev/null || true
		hb_wait "$name" 5 || kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	rm -f "$HB_DIR/$name.pid"
}

# Tear everything down; safe twice, from a trap, or on a half-built bed.
hb_down() {
	local f n pids
	[ -n "${HB_ID:-}" ] || return 0
	[ "${HB_UP:-0}" = 1 ] || return 0
	for f in "$HB_DIR"/*.pid; do
		[ -e "$f" ] || continue
		hb_stop "$(basename "$f" .pid)"
	done
	# Whatever still runs inside our own namespaces was started by us
	# (Kamailio's children, for instance).
	for n in "$HB_NS_D" "$HB_NS_C" "$HB_NS_H"; do
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
	for n in "$HB_NS_D" "$HB_NS_C" "$HB_NS_H"; do
		ip netns del "$n" 2>/dev/null || true
	done
	HB_UP=0
	hb_log "down: $HB_ID"
}

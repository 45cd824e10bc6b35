#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The live appliance as a HEP collector, against the tshark oracle: the HEP
# test bed (scripts/lib/hepbed.sh, set up as scripts/record-hep does: sipp
# dialers, Kamailio edge proxies relaying one trunk over TLS and one over
# UDP, siptrace mirroring both legs as HEPv3 with an auth key to a
# collector namespace behind a 1500-byte MTU link) with sipguard in the
# collector namespace (DPDK primary, the collector's veth as an af_packet
# port of two RX queues read by two worker lcores), sipguard-ctrl and
# sipguardctl beside it, while dumpcap records the same interface.
#
# The HEP copies of the ~2 KB INVITEs leave the agent as IP fragments.
# net_af_packet puts its queue sockets in one fanout group with
# PACKET_FANOUT_FLAG_DEFRAG (see test_edge_live.sh for the details): the
# kernel reassembles each IPv4 fragment train before the fanout, so the
# port receives one whole datagram where dumpcap sees the fragments, and a
# datagram longer than a ring frame (framesz less 66 bytes) would lose its
# tail. The config sets dataplane.mbuf_size = 4096 and the devargs
# framesz=4096 with blocksz a multiple of it.
#
# One agent sends all its HEP from one socket: a single flow, which the
# fanout hash (symmetric over addresses and ports) puts on one queue for
# good. So the bed here has two edge proxies, as a collector usually hears
# several agents: the first relays carrier-tls, a second one (192.0.2.2,
# same template) relays carrier-udp, each mirroring from its own port of
# the agent address. The ports are chosen by probing a fanout group of the
# test's own on the collector's veth (the hash seed is per boot), so the
# two flows land on different queues.
#
# The TLS trunk is only visible through HEP: no SIP of it crosses any link
# in clear. The trunks are the carriers by the inner addresses the HEP
# chunks carry, as the oracle (tshark_counts.py with hep_unwrap.py) reads
# them too.
#
# Asserted: the capture holds HEP datagrams, some in fragments; the port
# received the frames dumpcap saw, with every IPv4 fragment train counted
# once; both workers saw traffic; every HEP datagram was accepted (none
# refused for its agent or key, as many accepted as the oracle accepts)
# and no reassembly lost anything; `sipguardctl -j totals` equals the
# oracle over dumpcap's capture on every trunk and unmatched; the TLS trunk
# has INVITEs and 503s counted.
#
# Environment:
#   SIPGUARD            sipguard binary (default build/dataplane/sipguard);
#                       sipguard-ctrl and sipguardctl from the same build
#                       unless SIPGUARD_CTRL / SIPGUARDCTL say otherwise
#   LIVE_DIAL_SECONDS   seconds of new calls (default 14, 8..20)
#   LIVE_FRAMESZ        af_packet framesz devarg (default 4096)
#   LIVE_BLOCKSZ        af_packet blocksz devarg (default: the least common
#                       multiple of framesz and 4096)
#   LIVE_TIME_LIMIT     seconds before the watchdog ends the run (default 240)
#   KEEP=1              keep the work directory (also kept on failure)
# Exit: 0 pass, 1 fail, 77 skip (not root, no hugepages, binaries or tools
# missing).

# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$sipguard")")
ctrl=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
ctl=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
dial=${LIVE_DIAL_SECONDS:-14}
framesz=${LIVE_FRAMESZ:-4096}
case "$framesz" in
'' | *[!0-9]*) framesz=4096 ;;
esac
gcd() {
	local a=$1 b=$2 t
	while [ "$b" -ne 0 ]; do
		t=$((a % b))
		a=$b
		b=$t
	done
	echo "$a"
}
# Ring frame i is at i * framesz for the PMD, the kernel never splits a
# frame across blocks: blocksz must be a multiple of framesz and the page.
blocksz=${LIVE_BLOCKSZ:-$((framesz * 4096 / $(gcd "$framesz" 4096)))}
time_limit=${LIVE_TIME_LIMIT:-240}

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"

live_needs "$sipguard" "$ctrl" "$ctl" -- sipp kamailio dumpcap capinfos tshark nft ip ethtool jq python3 openssl
find /usr/lib -path '*kamailio/modules/tls.so' 2>/dev/null | grep -q . ||
	skip "Kamailio's tls module missing (kamailio-tls-modules)"
live_preflight "$dial"

# shellcheck source=scripts/lib/hepbed.sh
. "$root/scripts/lib/hepbed.sh"
# shellcheck source=scripts/lib/still.sh
. "$root/scripts/lib/still.sh"
# shellcheck source=scripts/lib/live.sh
. "$root/scripts/lib/live.sh"

# The bed's plan, as scripts/record-hep has it: carrier-tls (stateful, TLS
# only) and carrier-udp (stateless, UDP), each with a dialer ramping past
# its rate every RATE_STEP seconds and a slow dialer of ~2 KB INVITEs.
CPS_T=15
CPS_U=20
PORT_T=5061
PORT_U=5080
UAS_PORT=5090
HEP_PORT=9060
AGENT_PORT=9062
HEP_ID=2001
RATE_STEP=2
CALL_MS=1000
INVITE_DROP_U=4
# A second edge proxy, so the collector hears two agents' flows (see above).
HL_ADDR_EDGE2=192.0.2.2

hb_init ""
conf=$HB_DIR/live.conf
sock=$HB_DIR/ctrl.sock
cap=$HB_DIR/capture.pcapng
auth_key="hepbed-$(openssl rand -hex 6)"
t_start=$SECONDS
watchdog=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null && wait "$watchdog" 2>/dev/null
	hb_stop ctrl
	hb_down
	lv_dpdk_clean "$HB_ID"
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
		echo "hep_live: logs and capture in $HB_DIR" >&2
	else
		rm -rf "$HB_DIR"
	fi
	exit "$rc"
}
finish() {
	echo "hep_live: $((SECONDS - t_start)) s"
	echo "hep_live: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "FAIL time limit of $time_limit s reached"; failed=$((failed + 1));
	echo "hep_live: $passed passed, $failed failed"; exit 1' TERM
(
	trap 'kill "$nap" 2>/dev/null; exit 0' TERM
	sleep "$time_limit" &
	nap=$!
	wait "$nap" && kill -TERM $$ 2>/dev/null
) &
watchdog=$!

# A process in the root namespace (sipguard-ctrl reaches the dataplane
# through hugepage files, not through the network), known to hb_stop.
root_spawn() {
	local name=$1
	shift
	"$@" </dev/null >"$HB_DIR/$name.log" 2>&1 &
	echo $! >"$HB_DIR/$name.pid"
}

# --- the bed's pieces, as scripts/record-hep builds them ------------------
# A throwaway CA and one server certificate for both TLS ends.
hl_pki() {
	local pki=$HB_DIR/pki
	mkdir -p "$pki"
	(
		cd "$pki" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
			-subj "/CN=hepbed CA $HB_ID" -keyout ca.key -out ca.pem &&
			openssl req -newkey rsa:2048 -nodes -subj "/CN=hepbed $HB_ID" \
				-keyout server.key -out server.csr &&
			printf 'subjectAltName=IP:%s,IP:%s\nbasicConstraints=CA:FALSE\n' \
				"$HB_ADDR_T" "$HB_ADDR_EDGE" >server.ext &&
			openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
				-CAcreateserial -days 2 -extfile server.ext -out server.pem
	) >"$HB_DIR/pki.log" 2>&1 || return 1
	cat >"$HB_DIR/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $pki/server.key
certificate = $pki/server.pem
ca_list = $pki/ca.pem

[client:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
ca_list = $pki/ca.pem
EOF
}

# hl_fill TEMPLATE LISTEN_IP LISTEN_PORT CPS OUT [EDGE_IP AGENT_PORT]
hl_fill() {
	sed -e "s|@EDGE_IP@|${6:-$HB_ADDR_EDGE}|g" -e "s|@AGENT_IP@|$HB_ADDR_AGENT|g" \
		-e "s|@AGENT_PORT@|${7:-$AGENT_PORT}|g" -e "s|@COLL_IP@|$HB_ADDR_COLL|g" \
		-e "s|@HEP_PORT@|$HEP_PORT|g" -e "s|@HEP_ID@|$HEP_ID|g" \
		-e "s|@AUTH_KEY@|$auth_key|g" -e "s|@TLS_CFG@|$HB_DIR/tls.cfg|g" \
		-e "s|@T_IP@|$HB_ADDR_T|g" -e "s|@T_PORT@|$PORT_T|g" \
		-e "s|@U_IP@|$HB_ADDR_U|g" -e "s|@U_PORT@|$PORT_U|g" \
		-e "s|@UAS_IP@|$HB_ADDR_UAS|g" -e "s|@UAS_PORT@|$UAS_PORT|g" \
		-e "s|@LISTEN_IP@|$2|g" -e "s|@LISTEN_PORT@|$3|g" -e "s|@CPS@|$4|g" \
		"$1" >"$5"
}

hl_kam() { # NS NAME
	local ns=$1 name=$2
	mkdir -p "$HB_DIR/run-$name"
	hb_exec "$ns" kamailio -c -f "$HB_DIR/$name.cfg" >"$HB_DIR/$name.check" 2>&1 || {
		tail -n 5 "$HB_DIR/$name.check" >&2
		return 1
	}
	hb_spawn "$ns" "$name" kamailio -f "$HB_DIR/$name.cfg" -DD -E --atexit=no \
		-m 64 -M 8 -Y "$HB_DIR/run-$name" -P "$HB_DIR/run-$name/kamailio.pid" -w "$HB_DIR"
}

# The carriers, the UAS, INVITE losses toward carrier-udp (so the edge
# retransmits and HEP holds retransmissions) and the collector's socket
# (so the agent never sees an ICMP port unreachable); returns once all
# of them listen.
hl_carriers_up() {
	local secs=$1 i p c
	hl_kam c carrier-tls || return 1
	hl_kam c carrier-udp || return 1
	hb_spawn c uas sipp -sn uas -i "$HB_ADDR_UAS" -p "$UAS_PORT" -nostdin -timeout "$secs"
	hb_spawn h sink python3 -c '
import signal, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((sys.argv[1], int(sys.argv[2])))
n = 0
def done(*_):
    print("datagrams %d" % n, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
signal.signal(signal.SIGINT, done)
print("listening", flush=True)
while True:
    s.recv(65535)
    n += 1
' "$HB_ADDR_COLL" "$HEP_PORT"
	hb_exec c nft -f - <<EOF || return 1
table inet ${HB_ID} {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "$HB_IF_C" udp dport $PORT_U @th,64,32 0x494e5649 \
			numgen random mod 100 < $INVITE_DROP_U counter drop
	}
}
EOF
	for ((i = 0; i < 50; i++)); do
		c=$(hb_exec c ss -Hlnu; hb_exec c ss -Hlnt)
		grep -q "$HB_ADDR_T:$PORT_T" <<<"$c" && grep -q "$HB_ADDR_U:$PORT_U" <<<"$c" &&
			grep -q "$HB_ADDR_UAS:$UAS_PORT" <<<"$c" &&
			grep -q listening "$HB_DIR/sink.log" 2>/dev/null && return 0
		for p in carrier-tls carrier-udp uas sink; do
			hb_alive "$p" || {
				hb_log "$p exited early: $(tail -n 5 "$HB_DIR/$p.log")"
				return 1
			}
		done
		sleep 0.2
	done
	hb_log "carriers or collector not listening after 10 s"
	return 1
}

# hl_edges_up: the two edge proxies (agents), each mirroring from its own
# port of the agent address.
hl_edges_up() {
	local i e ss_out
	hl_kam d edge || return 1
	hl_kam d edge2 || return 1
	for ((i = 0; i < 50; i++)); do
		for e in edge edge2; do
			hb_alive "$e" || {
				hb_log "$e exited early: $(tail -n 5 "$HB_DIR/$e.log")"
				return 1
			}
		done
		ss_out=$(hb_exec d ss -Hlnu; hb_exec d ss -Hlnt)
		grep -q "$HB_ADDR_EDGE:5060" <<<"$ss_out" &&
			grep -q "$HB_ADDR_EDGE:$PORT_T" <<<"$ss_out" &&
			grep -q "$HL_ADDR_EDGE2:5060" <<<"$ss_out" && return 0
		sleep 0.2
	done
	hb_log "edges not listening after 10 s"
	return 1
}

# hl_agent_ports N: two source ports of the agent address whose HEP flows
# the kernel's fanout hash (PACKET_FANOUT_HASH, symmetric over addresses
# and ports, with a seed of this boot) sends to different members of a
# two-socket group, so to different RX queues of the port: probe datagrams
# from N candidate ports to a fanout group of this test's own on the
# collector's veth. Prints "PORT0 PORT1", or nothing if every candidate
# fell on the same member.
hl_agent_ports() {
	local n=$1 i
	hb_spawn h probe python3 -c '
import select, socket, struct, sys, time
ifname, hep_port = sys.argv[1], int(sys.argv[2])
SOL_PACKET, PACKET_FANOUT = 263, 18
FANOUT_HASH, FLAG_DEFRAG = 0, 0x8000
group = int(sys.argv[3])
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind((ifname, 0x0800))
    s.setsockopt(SOL_PACKET, PACKET_FANOUT,
                 struct.pack("I", group | ((FANOUT_HASH | FLAG_DEFRAG) << 16)))
    socks.append(s)
print("ready", flush=True)
member = {}
end, last = time.time() + 8, None
while time.time() < end and (last is None or time.time() - last < 1):
    r, _, _ = select.select(socks, [], [], 0.2)
    for s in r:
        last = time.time()
        d = s.recv(65535)
        ip = d[14:]
        if len(ip) < 28 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        sport, dport = struct.unpack_from("!HH", ip, ihl)
        if dport == hep_port:
            member.setdefault(sport, set()).add(socks.index(s))
for p, m in sorted(member.items()):
    print("port", p, " ".join(str(x) for x in sorted(m)), flush=True)
' "$HB_IF_H" "$HEP_PORT" $((RANDOM + 1))
	for ((i = 0; i < 30; i++)); do
		grep -q ready "$HB_DIR/probe.log" 2>/dev/null && break
		sleep 0.1
	done
	hb_exec d python3 -c '
import socket, sys, time
agent, coll, hep_port, first, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
for k in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((agent, first + 2 * k))
    for _ in range(3):
        s.sendto(b"sipguard fanout probe", (coll, hep_port))
        time.sleep(0.01)
    s.close()
' "$HB_ADDR_AGENT" "$HB_ADDR_COLL" "$HEP_PORT" "$AGENT_PORT" "$n"
	hb_wait probe 10 || hb_stop probe
	# a port whose probes all went to one member, first of each member
	awk '$1 == "port" && NF == 3 && !($3 in first) {first[$3] = $2}
		END {if (("0" in first) && ("1" in first)) print first["0"], first["1"]}' \
		"$HB_DIR/probe.log"
}

# Calls a dialer makes in `dial` seconds at rate r0, +inc every step,
# capped at rmax (what sipp's -rate_increase does).
hl_calls_for() {
	local r0=$1 inc=$2 rmax=$3 t r n=0
	for ((t = 0; t < dial; t++)); do
		r=$((r0 + inc * (t / RATE_STEP)))
		[ "$r" -le "$rmax" ] || r=$rmax
		n=$((n + r))
	done
	echo "$n"
}

# carrier-tls through the edge, carrier-udp through edge2.
HL_DIALERS="dial-t dial-u dial-tb dial-ub"
hl_dial_start() {
	local common edge="$HB_ADDR_EDGE:5060" edge2="$HL_ADDR_EDGE2:5060"
	# A rejected call lingers 4 s for repeated 503s; calls last 1 s.
	common=(-nostdin -t u1 -d "$CALL_MS" -fd "$RATE_STEP" -no_rate_quit
		-timeout "$((dial + 12))" -timeout_error)
	hb_spawn d dial-t sipp "${common[@]}" -sf "$here/uac.xml" -s carrier-tls \
		-i "$HB_ADDR_DIAL" -p 5062 -r 6 -rate_increase 3 -rate_max 30 \
		-m "$(hl_calls_for 6 3 30)" "$edge"
	hb_spawn d dial-u sipp "${common[@]}" -sf "$here/uac.xml" -s carrier-udp \
		-i "$HB_ADDR_DIAL" -p 5064 -r 8 -rate_increase 4 -rate_max 40 \
		-m "$(hl_calls_for 8 4 40)" "$edge2"
	hb_spawn d dial-tb sipp "${common[@]}" -sf "$here/uac-big.xml" -s carrier-tls \
		-i "$HB_ADDR_DIAL" -p 5066 -r 2 -m $((dial * 2)) "$edge"
	hb_spawn d dial-ub sipp "${common[@]}" -sf "$here/uac-big.xml" -s carrier-udp \
		-i "$HB_ADDR_DIAL" -p 5068 -r 2 -m $((dial * 2)) "$edge2"
}

hl_dial_wait() {
	local secs=$1 start=$SECONDS left p rc=0
	for p in $HL_DIALERS; do
		left=$((secs - (SECONDS - start)))
		[ "$left" -gt 0 ] || left=1
		if ! hb_wait "$p" "$left"; then
			hb_log "$p still running at the deadline"
			rc=1
		fi
		hb_stop "$p"
	done
	return $rc
}

# Frames over the collector's veth so far, both directions.
hl_link_frames() {
	ip -n "$HB_NS_H" -s -j link show dev "$HB_IF_H" |
		jq '.[0].stats64.rx.packets + .[0].stats64.tx.packets'
}

hl_capture() { # NAME FILE
	local name=$1 file=$2 i
	hb_spawn h "$name" dumpcap -q -i "$HB_IF_H" -w "$file"
	for ((i = 0; i < 50; i++)); do
		grep -q "Capturing on" "$HB_DIR/$name.log" 2>/dev/null && [ -s "$file" ] && return 0
		sleep 0.1
	done
	hb_log "dumpcap did not start: $(head -n 3 "$HB_DIR/$name.log")"
	return 1
}

hl_conf() { # FILE DEVARGS
	cat >"$1" <<EOF
# sipguard live config for the HEP test bed $HB_ID (scripts/lib/hepbed.sh):
# the collector's veth as an af_packet port of two RX queues. Trunks are
# the carriers by the inner addresses the HEP chunks carry; the edge proxy
# (agent $HB_ADDR_AGENT) is the only HEP source accepted, with its key.
# Whole IPv4 datagrams come up from the kernel (af_packet's fanout
# defragments): mbufs large enough for the HEP copy of a 2 KB INVITE.
dataplane = { sip_ports = [ 5060, $PORT_T, $PORT_U ]; retrans_window = 32;
  lcores = "0@0,1@0,2@1"; file_prefix = "$HB_ID"; mbuf_size = 4096; };
ctrl = { socket = "$sock"; cpu = 0; };
metrics = { listen = "off"; };
ports = ( { devargs = "$2"; rx_queues = 2; } );
decap = { max_depth = 2; vxlan_port = 4789; };
fragments = { entries = 1024; timeout = 2000; };
streams = { flows = 1024; buffers = 256; buffer_size = 16384; idle_timeout = 300; gap_timeout = 3000; };
hep = { port = $HEP_PORT; allow = [ "$HB_ADDR_AGENT/32" ]; auth_key = "$auth_key"; };
trunks = (
  { name = "carrier-tls"; prefixes = [ "$HB_ADDR_T/32" ]; cps = $CPS_T; max_concurrent = 100; },
  { name = "carrier-udp"; prefixes = [ "$HB_ADDR_U/32" ]; port = $PORT_U; cps = $CPS_U; max_concurrent = 100; }
);
EOF
}

# hl_figures CAP: what the collector's capture holds, "key value" lines:
# frames, ip4_fragments (frames holding an IPv4 fragment), ip4_datagrams
# (fragment trains tshark completed), hep (datagrams to the HEP port),
# hep_fragmented, hep_max_len (longest HEP datagram, IP header included).
hl_figures() {
	python3 - "$1" "$HEP_PORT" <<'PY'
import subprocess, sys
cap, hep_port = sys.argv[1], sys.argv[2]
out = subprocess.run(["tshark", "-r", cap, "-n", "-T", "fields", "-E", "separator=|",
                      "-E", "occurrence=f", "-e", "ip.flags.mf", "-e", "ip.frag_offset",
                      "-e", "ip.fragment.count", "-e", "udp.dstport", "-e", "ip.len",
                      "-e", "ip.reassembled.length"],
                     capture_output=True, text=True, check=True).stdout
fig = dict.fromkeys(("frames", "ip4_fragments", "ip4_datagrams", "hep", "hep_fragmented",
                     "hep_max_len"), 0)
for line in out.splitlines():
    mf, off, nfrag, dport, iplen, rlen = (line.split("|") + [""] * 6)[:6]
    fig["frames"] += 1
    if mf in ("1", "True") or (off and int(off) > 0):
        fig["ip4_fragments"] += 1
    whole = nfrag and int(nfrag) >= 2
    if whole:
        fig["ip4_datagrams"] += 1
    if dport == hep_port:
        fig["hep"] += 1
        fig["hep_fragmented"] += bool(whole)
        # the reassembled length is the payload's: add the 20 byte header
        n = int(rlen) + 20 if whole and rlen else int(iplen or 0)
        fig["hep_max_len"] = max(fig["hep_max_len"], n)
for k, v in fig.items():
    print(k, v)
PY
}

# --- test bed, sipguard, observers -------------------------------------------
hl_pki || abort "could not make the bed's certificates: $(tail -n 3 "$HB_DIR/pki.log")"
hl_fill "$here/hep-carrier-tls.cfg.in" "$HB_ADDR_T" "$PORT_T" "$CPS_T" "$HB_DIR/carrier-tls.cfg"
hl_fill "$here/hep-carrier-udp.cfg.in" "$HB_ADDR_U" "$PORT_U" "$CPS_U" "$HB_DIR/carrier-udp.cfg"
hb_up || abort "test bed did not come up"
# The second edge's address comes after the first: the first stays the
# source of the edge's TLS connections.
ip -n "$HB_NS_D" addr add "$HL_ADDR_EDGE2/24" dev "$HB_IF_D" ||
	abort "could not add the second edge's address"
# Kamailio writes relative paths under its working directory.
cd "$HB_DIR" || abort "no work directory"
hl_carriers_up $((dial + 90)) || abort "carriers or collector did not start"
ports=$(hl_agent_ports 8)
if [ -n "$ports" ]; then
	read -r agent_port agent_port2 <<<"$ports"
	note "agent ports $agent_port and $agent_port2: one HEP flow for each RX queue"
else
	agent_port=$AGENT_PORT
	agent_port2=$((AGENT_PORT + 2))
	note "the fanout probe found no two agent ports on different queues:" \
		"$(grep -c '^port' "$HB_DIR/probe.log") probed"
fi
hl_fill "$here/hep-edge.cfg.in" "" "" "" "$HB_DIR/edge.cfg" "$HB_ADDR_EDGE" "$agent_port"
hl_fill "$here/hep-edge.cfg.in" "" "" "" "$HB_DIR/edge2.cfg" "$HL_ADDR_EDGE2" "$agent_port2"
hl_conf "$conf" "net_af_packet0,iface=$HB_IF_H,qpairs=2,framecnt=4096,framesz=$framesz,blocksz=$blocksz"
sg_still 2 10 hl_link_frames || note "the collector's veth did not fall quiet before the start"
hb_spawn h sipguard "$sipguard" -c "$conf"
for ((i = 0; i < 150; i++)); do
	grep -q "^sipguard: running" "$HB_DIR/sipguard.log" && break
	hb_alive sipguard || break
	sleep 0.2
done
root_spawn ctrl "$ctrl" -c "$conf" --wait
ctl_ready 30 hb_alive || {
	tail -n 5 "$HB_DIR/sipguard.log" "$HB_DIR/ctrl.log"
	abort "sipguard or sipguard-ctrl did not start"
}
hl_capture capture "$cap" || abort "dumpcap did not start"
# The edges start last, with sipguard and the capture running: their first
# HEP datagram is seen by both.
hl_edges_up || abort "the edge proxies did not start"

# --- calls ------------------------------------------------------------------
echo "hep_live: ${dial}s of calls through the edges (carrier-tls over TLS, carrier-udp" \
	"over UDP, ~2 KB INVITEs on both), mirrored as HEPv3 to the collector"
hl_dial_start
hl_dial_wait $((dial + 25)) || note "dialers had to be stopped"
# Nothing may reach the collector once the capture stops.
hb_stop edge
hb_stop edge2
hb_stop carrier-tls
hb_stop carrier-udp
hb_stop uas
sg_still 2 20 hl_link_frames || note "the collector's veth did not fall quiet after the traffic"
hb_stop capture INT
sleep 1.2 # a publication (100 ms) and then some
ctl_ -j status >"$HB_DIR/status.json"
ctl_ -j totals >"$HB_DIR/totals.json"
for p in $HL_DIALERS; do
	grep -h -E 'Successful call|Failed call' "$HB_DIR/$p.log" 2>/dev/null | tail -n 2 |
		tr -s ' |' ' ' | sed "s/^/$p/" | paste -sd' ' | sed 's/^/     /'
done
if ! jq -e . "$HB_DIR/status.json" >/dev/null 2>&1 ||
	! jq -e . "$HB_DIR/totals.json" >/dev/null 2>&1; then
	abort "sipguardctl -j status / totals gave no JSON"
fi

# --- the capture ----------------------------------------------------------------
hl_figures "$cap" >"$HB_DIR/figures.txt" 2>"$HB_DIR/figures.err" ||
	abort "reading the capture: $(tail -n 2 "$HB_DIR/figures.err")"
fig() {
	awk -v k="$1" '$1 == k {print $2}' "$HB_DIR/figures.txt"
}
note "$(awk '{printf "%s=%s ", $1, $2}' "$HB_DIR/figures.txt")"
ge() { # MIN VALUE
	[ "${2:-0}" -ge "$1" ] 2>/dev/null || {
		note "got ${2:-nothing}, want >= $1"
		return 1
	}
}
check "capture: HEP datagrams to the collector" ge 100 "$(fig hep)"
check "capture: HEP datagrams in IPv4 fragments" ge 5 "$(fig hep_fragmented)"
# What the kernel hands the PMD after DEFRAG: a datagram longer than a ring
# frame has room for (framesz less 66, the Ethernet header comes on top)
# loses its tail, and then no count can match.
room=$((framesz - 66 - 14))
check "every HEP datagram fits a ring frame ($(fig hep_max_len) <= $room bytes)" \
	test "$(fig hep_max_len)" -le "$room"

# --- what the port and the workers received ------------------------------------
frames=$(capinfos -c -M "$cap" 2>/dev/null | awk '/Number of packets/ {print $NF}')
rx=$(jq '[.ports[].rx] | add' "$HB_DIR/status.json")
lc=$(jq -c '[.lcores[].packets]' "$HB_DIR/status.json")
# With PACKET_FANOUT_FLAG_DEFRAG the port receives each IPv4 fragment train
# as one datagram.
want_rx=$((frames - $(fig ip4_fragments) + $(fig ip4_datagrams)))
echo "hep_live: dumpcap $frames frames ($(fig hep) HEP datagrams, $(fig ip4_fragments)" \
	"IPv4 fragments of $(fig ip4_datagrams) datagrams); port rx $rx" \
	"(missed $(jq '[.ports[].missed] | add' "$HB_DIR/status.json")); per worker $lc"
check "port rx = dumpcap's frames with each IPv4 fragment train as one datagram ($want_rx)" \
	test "${rx:-x}" = "$want_rx"
# sipguard takes an af_packet port's losses to be the frames the kernel
# passed over the interface less the frames the port received; the
# kernel's reassembly makes that the fragments less their datagrams.
note "port missed: the interface's frames less rx, $(fig ip4_fragments) fragments" \
	"less $(fig ip4_datagrams) datagrams here, not a loss"
both_workers() {
	jq -e '(.lcores | length) == 2 and all(.lcores[]; .packets > 0)' "$HB_DIR/status.json" \
		>/dev/null
}
check "both workers (queues) received traffic" both_workers

# --- HEP and reassembly, summed over the workers ----------------------------------
src() {
	jq -r ".source.$1 // \"absent\"" "$HB_DIR/status.json"
}
note "status source: hep_accepted $(src hep_accepted), hep_refused_agent" \
	"$(src hep_refused_agent), hep_refused_auth $(src hep_refused_auth), hep_bad" \
	"$(src hep_bad), hep_not_sip $(src hep_not_sip), sip_messages $(src sip_messages)," \
	"fragments $(src fragments), reassembled $(src reassembled)"
check "status: HEP accepted" ge 1 "$(src hep_accepted)"
no_refusal() {
	jq -e '.source.hep_refused_agent == 0 and .source.hep_refused_auth == 0' \
		"$HB_DIR/status.json" >/dev/null
}
check "status: no HEP refused (agent, auth key)" no_refusal
no_frag_loss() {
	jq -e '.source | [.frag_timed_out, .frag_no_space, .frag_bad, .frag_no_mbuf,
		.frag_too_big] | all(. == 0)' "$HB_DIR/status.json" >/dev/null
}
check "status: no reassembly loss (timed out, no space, bad, no mbuf, too big)" no_frag_loss

# --- totals against the oracle ---------------------------------------------------
if python3 "$here/tshark_counts.py" "$conf" "$cap" >"$HB_DIR/expected.json" \
	2>"$HB_DIR/oracle.err"; then
	ex() {
		jq -r ".source.$1 // \"absent\"" "$HB_DIR/expected.json"
	}
	note "oracle source: hep_packets $(ex hep_packets), hep_accepted $(ex hep_accepted)," \
		"hep_refused $(ex hep_refused), hep_malformed $(ex hep_malformed), hep_sip $(ex hep_sip)," \
		"sip_messages $(ex sip_messages)"
	check "status: every HEP datagram accepted, as the oracle accepts them ($(ex hep_accepted))" \
		test "$(src hep_accepted)" = "$(ex hep_accepted)"
	echo "--- per trunk: oracle vs sipguardctl -j totals"
	python3 "$here/compare.py" "$HB_DIR/expected.json" "$HB_DIR/totals.json" |
		tee "$HB_DIR/compare.txt"
	check "sipguardctl -j totals equals the oracle on every trunk and unmatched" \
		test "${PIPESTATUS[0]}" -eq 0
else
	tail -n 3 "$HB_DIR/oracle.err"
	check "tshark oracle ran" false
fi
for t in carrier-tls carrier-udp; do
	echo "hep_live: $t: $(jq -c --arg t "$t" '.trunks[$t] | {invite_attempts,
		invite_final, retransmissions, requests: (.requests | add),
		responses: (.responses | add), "503": .responses["503"]}' "$HB_DIR/totals.json")"
done
echo "hep_live: unmatched: $(jq -c '.unmatched | {requests: (.requests | add),
	responses: (.responses | add)}' "$HB_DIR/totals.json")"
tls_counted() {
	jq -e '.trunks["carrier-tls"] | (.requests.INVITE // 0) > 0 and
		(.responses["503"] // 0) > 0' "$HB_DIR/totals.json" >/dev/null
}
check "the TLS trunk (seen only through HEP) has INVITEs and 503s counted" tls_counted
finish

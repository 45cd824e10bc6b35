# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Edge-case test bed: the namespace test bed of scripts/lib/testbed.sh with
# what makes SIP hard to follow on the wire: STIR/SHAKEN-size INVITEs
# (about 2 KB, tests/integration/uac-big.xml) that the kernel fragments on
# the 1500 byte link, IPv4 and IPv6; SIP over TCP with a 536 byte MSS and
# segments lost on either side of the capture point; and mirror feeds of the
# carrier's link through VXLAN, GRE (gretap) and ERSPAN type II and III to a
# collector namespace.
#
#   dialer ns <ID>d            carrier ns <ID>c                collector ns <ID>x
#   sipp (uac-big.xml)         Kamailio carrier-a, carrier-b    dumpcap per feed
#                              sipp UAS
#   <ID>d0 ====== veth ====== <ID>c0  <- capture point, tc mirror
#   192.0.2.10/24              198.51.100.10, 2001:db8:a::10   carrier-a udp/5060
#   2001:db8:d::10/64          198.51.100.20, 2001:db8:b::20   carrier-b udp+tcp/5080
#                              198.51.100.30                   unmatched peer
#                              <ID>m0 ==== veth, MTU 9000 ==== <ID>x0
#                              203.0.113.1/24                  203.0.113.2/24
#
# Mirror: a clsact qdisc on <ID>c0 with one u32 match-all filter per
# direction whose actions mirror every frame, ingress and egress, to two
# devices: <ID>vx, a VXLAN device (VNI 4242, UDP 4789) whose remote is the
# collector, and <ID>mt, a tap read by a small encapsulator (eb_encap_write)
# that sends each frame on to the collector over GRE three times: gretap
# (transparent Ethernet bridging), ERSPAN type II (session 102) and ERSPAN
# type III (session 103). The GRE-based feeds are encapsulated in user space
# because the kernel this bed was built on has no ip_gre/erspan drivers (and
# no matchall classifier: u32 matching 0/0 does the same); the frames they
# carry are the same tc mirror's. The collector link has an MTU of 9000 (the
# tunnel devices 8900), so a mirrored 1514 byte frame plus at most 54 bytes
# of encapsulation is never fragmented again: each feed holds the carrier
# link's frames, one outer packet each. The collector answers nothing (its
# output is dropped), so the feeds carry no ICMP back.
#
# TCP: the routes between dialer and carrier advertise an MSS of 536, so a
# 2 KB INVITE spans four or five segments. nftables drops EB_TCP_LOSS % of
# data segments (never SYN, FIN or a bare ACK) on port 5080 at three places:
# the dialer's output and the carrier's output (before the capture point:
# the tap sees the later segments first, then the retransmission: out of
# order), and the carrier's input (after the capture point: the tap sees the
# segment twice). A share of UDP ACKs to carrier-b is dropped after the
# capture point too, so its tm retransmits 503s.
#
# Usage:
#   . scripts/lib/testbed.sh; . scripts/lib/edgebed.sh
#   eb_init [WORKDIR]       # tb_init plus the collector's names
#   trap eb_down EXIT
#   eb_up [mirror]          # bed (and the mirror feeds with "mirror")
#   eb_carriers_up SECONDS  # carriers, UAS, losses; waits until listening
#   eb_dial_start TAG SECONDS PORT; eb_dial_wait TAG SECONDS
#   eb_conf FILE [DEVARGS LCORES]   # sipguard config (live with DEVARGS)
#   eb_figures CAP CONF     # what the capture holds, "key value" lines
#   eb_down

EB_ADDR_A6=2001:db8:a::10
EB_ADDR_CM=203.0.113.1
EB_ADDR_XM=203.0.113.2
EB_PORT_A=5060
EB_PORT_B=5080
EB_UAS_PORT=5090
EB_CPS_A=30
EB_CPS_B=20
EB_MSS=536
EB_TCP_LOSS=3
EB_ACK_DROP_B=10
EB_VNI=4242

# shellcheck source=scripts/lib/still.sh
. "$(dirname "${BASH_SOURCE[0]}")/still.sh"
# shellcheck source=scripts/lib/live.sh
. "$(dirname "${BASH_SOURCE[0]}")/live.sh"
# the rate steps and call length of the live bed (lv_calls_for)
EB_RATE_STEP=$LV_RATE_STEP
EB_CALL_MS=$LV_CALL_MS

eb_log() {
	echo "edgebed: $*" >&2
}

eb_init() {
	# shellcheck disable=SC2119
	tb_init "$@"
	EB_NS_X="${TB_ID}x"
	EB_IF_CM="${TB_ID}m0"
	EB_IF_X="${TB_ID}x0"
	EB_TUN_VX="${TB_ID}vx"
	EB_TUN_TAP="${TB_ID}mt"
	EB_MIRROR=0
	export EB_NS_X EB_IF_CM EB_IF_X
}

eb_x() {
	ip netns exec "$EB_NS_X" "$@"
}

# eb_spawn_x NAME cmd...: tb_spawn for the collector namespace (the pid file
# in TB_DIR makes tb_down stop it).
eb_spawn_x() {
	local name=$1
	shift
	ip netns exec "$EB_NS_X" "$@" </dev/null >"$TB_DIR/$name.log" 2>&1 &
	echo $! >"$TB_DIR/$name.pid"
}

# eb_up [mirror]: the test bed of testbed.sh, carrier-a's IPv6 address, the
# small-MSS routes, and with "mirror" the collector and the mirror feeds.
eb_up() {
	local n
	tb_up || return 1
	tb_exec c ip -6 addr add "$EB_ADDR_A6/64" dev "$TB_IF_C" nodad && tb_neigh_pin || return 1
	# Every route between the two sides advertises a small MSS: each side
	# sends the other segments of at most EB_MSS bytes.
	tb_exec d ip route replace 198.51.100.0/24 dev "$TB_IF_D" advmss "$EB_MSS" &&
		tb_exec d ip -6 route replace 2001:db8:b::/48 dev "$TB_IF_D" advmss "$EB_MSS" &&
		tb_exec d ip -6 route replace 2001:db8:a::/48 dev "$TB_IF_D" advmss "$EB_MSS" &&
		tb_exec c ip route replace 192.0.2.0/24 dev "$TB_IF_C" advmss "$EB_MSS" &&
		tb_exec c ip -6 route replace 2001:db8:d::/48 dev "$TB_IF_C" advmss "$EB_MSS" ||
		return 1
	for n in 1 2 3 4 5 6 7 8 9 10; do
		tb_exec d ping -6 -c1 -W1 "$EB_ADDR_A6" >/dev/null 2>&1 && break
		sleep 0.3
	done
	[ "${1:-}" = mirror ] || return 0

	EB_MIRROR=1
	ip netns add "$EB_NS_X" || return 1
	ip -n "$EB_NS_X" link set lo up
	ip link add "$EB_IF_CM" netns "$TB_NS_C" type veth peer name "$EB_IF_X" netns "$EB_NS_X" ||
		return 1
	ip -n "$TB_NS_C" link set "$EB_IF_CM" mtu 9000
	ip -n "$EB_NS_X" link set "$EB_IF_X" mtu 9000
	ip -n "$TB_NS_C" addr add "$EB_ADDR_CM/24" dev "$EB_IF_CM"
	ip -n "$EB_NS_X" addr add "$EB_ADDR_XM/24" dev "$EB_IF_X"
	tb_offloads_off "$TB_NS_C" "$EB_IF_CM"
	tb_offloads_off "$EB_NS_X" "$EB_IF_X"
	ip -n "$TB_NS_C" link set "$EB_IF_CM" up
	ip -n "$EB_NS_X" link set "$EB_IF_X" up
	# The collector is a sink: nothing it could say (ICMP unreachable for
	# the tunnels it does not terminate) goes back into the feeds.
	eb_x nft -f - <<EOF || return 1
table inet ${TB_ID} {
	chain output {
		type filter hook output priority filter; policy drop;
	}
}
EOF
	tb_exec c ip link add "$EB_TUN_VX" type vxlan id "$EB_VNI" local "$EB_ADDR_CM" \
		remote "$EB_ADDR_XM" dstport 4789 nolearning || {
		eb_log "could not create the VXLAN device"
		return 1
	}
	tb_exec c ip tuntap add dev "$EB_TUN_TAP" mode tap || return 1
	for n in "$EB_TUN_VX" "$EB_TUN_TAP"; do
		# No link-local address: the feeds carry only mirrored frames,
		# never the devices' own neighbour discovery.
		tb_exec c ip link set "$n" addrgenmode none mtu 8900 || return 1
		tb_offloads_off "$TB_NS_C" "$n"
	done
	# The encapsulator holds the tap open before the mirror sends to it.
	eb_encap_write "$TB_DIR/eb_encap.py"
	tb_spawn c encap python3 "$TB_DIR/eb_encap.py" "$EB_TUN_TAP" "$EB_ADDR_XM"
	for ((n = 0; n < 50; n++)); do
		grep -q "^encap: ready" "$TB_DIR/encap.log" 2>/dev/null && break
		tb_alive encap || break
		sleep 0.1
	done
	grep -q "^encap: ready" "$TB_DIR/encap.log" 2>/dev/null || {
		eb_log "GRE/ERSPAN encapsulator did not start: $(tail -n 3 "$TB_DIR/encap.log")"
		return 1
	}
	tb_exec c ip link set "$EB_TUN_VX" up && tb_exec c ip link set "$EB_TUN_TAP" up ||
		return 1
	tb_exec c tc qdisc add dev "$TB_IF_C" clsact || return 1
	for n in ingress egress; do
		tb_exec c tc filter add dev "$TB_IF_C" "$n" protocol all u32 match u32 0 0 \
			action mirred egress mirror dev "$EB_TUN_VX" pipe \
			action mirred egress mirror dev "$EB_TUN_TAP" || {
			eb_log "could not add the $n mirror filter"
			return 1
		}
	done
	eb_log "mirror: $TB_IF_C -> vxlan, gretap, erspan II, erspan III -> $EB_NS_X"
}

# eb_encap_write FILE: the GRE/ERSPAN encapsulator (this kernel may lack
# ip_gre and erspan devices, so the GRE-based feeds are built in user
# space from the same tc mirror): reads each mirrored frame from the tap
# and sends it to the collector three times over a raw IP socket of
# protocol 47: transparent Ethernet bridging (gretap), ERSPAN type II
# (session 102) and ERSPAN type III (session 103), the last two with GRE
# sequence numbers, as a switch's SPAN session would.
eb_encap_write() {
	cat >"$1" <<'PY'
import fcntl, os, socket, struct, sys, time
tap, collector = sys.argv[1], sys.argv[2]
TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454CA, 0x0002, 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", tap.encode(), IFF_TAP | IFF_NO_PI))
out = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
print("encap: ready on", tap, flush=True)
seq = 0
n = 0
while True:
    try:
        frame = os.read(fd, 65536)
    except OSError:
        break
    if not frame:
        break
    # gretap: GRE without options, protocol 0x6558
    gre = struct.pack("!HH", 0, 0x6558) + frame
    # ERSPAN type II: GRE with S, protocol 0x88be; ver 1, vlan 0,
    # cos 0, en 0, t 0, session 102; index 0
    e2 = struct.pack("!HHI", 0x1000, 0x88BE, seq) + \
        struct.pack("!HHI", (1 << 12) | 0, 102, 0) + frame
    # ERSPAN type III: GRE with S, protocol 0x22eb; ver 2, session 103,
    # timestamp in 100 us units (gra 00), hw id 7, no platform subheader
    ts = int(time.time() * 10000) & 0xFFFFFFFF
    e3 = struct.pack("!HHI", 0x1000, 0x22EB, seq) + \
        struct.pack("!HHIHH", (2 << 12) | 0, 103, ts, 0, 7 << 4) + frame
    for pkt in (gre, e2, e3):
        out.sendto(pkt, (collector, 0))
    seq = (seq + 1) & 0xFFFFFFFF
    n += 1
print("encap: %d frames" % n, flush=True)
PY
}

eb_down() {
	[ -n "${TB_ID:-}" ] || return 0
	local was_up=${TB_UP:-0}
	tb_down
	if [ "$was_up" = 1 ] && [ "${EB_MIRROR:-0}" = 1 ]; then
		local pids
		pids=$(ip netns pids "$EB_NS_X" 2>/dev/null || true)
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
		ip netns del "$EB_NS_X" 2>/dev/null || true
		EB_MIRROR=0
	fi
}

eb_fill() {
	sed -e "s|@LISTEN_IP@|$2|g" -e "s|@LISTEN_IP6@|${3:-}|g" \
		-e "s|@LISTEN_PORT@|$4|g" -e "s|@CPS@|$5|g" \
		-e "s|@UNMATCHED_IP@|$TB_ADDR_U4|g" \
		-e "s|@UAS_IP@|$TB_ADDR_UAS|g" -e "s|@UAS_PORT@|$EB_UAS_PORT|g" \
		"$1" >"$6"
}

eb_listening() {
	local ss_out
	ss_out=$(tb_exec c ss -Hlnu; tb_exec c ss -Hlnt)
	grep -q "$TB_ADDR_A4:$EB_PORT_A" <<<"$ss_out" &&
		grep -q "\[$EB_ADDR_A6\]:$EB_PORT_A" <<<"$ss_out" &&
		grep -q "$TB_ADDR_B4:$EB_PORT_B" <<<"$ss_out" &&
		grep -q "\[$TB_ADDR_B6\]:$EB_PORT_B" <<<"$ss_out" &&
		grep -q "$TB_ADDR_UAS:$EB_UAS_PORT" <<<"$ss_out"
}

# eb_carriers_up SECONDS: carrier-a (stateless, UDP over IPv4 and IPv6),
# carrier-b (stateful, UDP and TCP over IPv4 and IPv6), the sipp UAS (alive
# for SECONDS) and the losses; returns once everything listens.
eb_carriers_up() {
	local secs=$1 itest c i p
	itest=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration" && pwd)
	eb_fill "$itest/edge-carrier-a.cfg.in" "$TB_ADDR_A4" "$EB_ADDR_A6" "$EB_PORT_A" \
		"$EB_CPS_A" "$TB_DIR/carrier-a.cfg"
	eb_fill "$itest/carrier-b.cfg.in" "$TB_ADDR_B4" "$TB_ADDR_B6" "$EB_PORT_B" "$EB_CPS_B" \
		"$TB_DIR/carrier-b.cfg"
	for c in a b; do
		mkdir -p "$TB_DIR/run-$c"
		tb_exec c kamailio -c -f "$TB_DIR/carrier-$c.cfg" >"$TB_DIR/carrier-$c.check" 2>&1 || {
			cat "$TB_DIR/carrier-$c.check" >&2
			return 1
		}
		tb_spawn c "carrier-$c" kamailio -f "$TB_DIR/carrier-$c.cfg" -DD -E \
			-m 64 -M 8 -Y "$TB_DIR/run-$c" -P "$TB_DIR/run-$c/kamailio.pid" -w "$TB_DIR"
	done
	tb_spawn c uas sipp -sn uas -i "$TB_ADDR_UAS" -p "$EB_UAS_PORT" -nostdin -timeout "$secs"
	eb_xdp_loss || return 1
	# Data segments only (longer than any SYN, FIN or bare ACK with
	# options): a lost handshake would only stall a dialer for a second.
	tb_exec c nft -f - <<EOF || return 1
table inet ${TB_ID} {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "$TB_IF_C" tcp dport $EB_PORT_B meta length > 100 \
			numgen random mod 100 < $EB_TCP_LOSS counter drop
		iifname "$TB_IF_C" udp dport $EB_PORT_B @th,64,32 0x41434b20 \
			numgen random mod 100 < $EB_ACK_DROP_B counter drop
	}
}
EOF
	for ((i = 0; i < 50; i++)); do
		eb_listening && return 0
		for p in carrier-a carrier-b uas; do
			tb_alive "$p" || {
				eb_log "$p exited early:"
				tail -n 20 "$TB_DIR/$p.log" >&2
				return 1
			}
		done
		sleep 0.2
	done
	eb_log "carriers not listening after 10 s"
	return 1
}

# Drop counters of the nftables rules after the capture point: "TCP data
# segments to carrier-b, UDP ACKs to carrier-b". (The XDP drops show in the
# capture as holes filled late and as segments seen twice.)
eb_losses() {
	tb_exec c nft list table inet "$TB_ID" 2>/dev/null |
		grep -o 'packets [0-9]*' | awk '{print $2}' | paste -sd' '
}

# eb_xdp_loss: EB_TCP_LOSS % of TCP data segments on carrier-b's port lost
# where no local stack notices: an XDP program on the receiving veth drops
# them before the packet taps see them. (A drop in a netfilter or tc hook
# of the sender is reported back to its TCP, which sends the segment again
# in order: no hole ever reaches the wire.) On the carrier's veth, segments
# toward the carrier vanish before the capture point: the tap sees the later
# ones first and the retransmission afterwards. On the dialer's veth,
# segments from the carrier vanish after the capture point: the tap sees
# them twice.
eb_xdp_loss() {
	local src=$TB_DIR/eb_xdp_loss.c dir
	cat >"$src" <<'EOF'
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* EB_DPORT: match the destination port (else the source port). */
SEC("xdp")
int
eb_xdp_loss(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *th;
	int payload;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP || ip->ihl != 5)
			return XDP_PASS;
		th = (void *)(ip + 1);
		if ((void *)(th + 1) > end)
			return XDP_PASS;
		payload = bpf_ntohs(ip->tot_len) - 20 - th->doff * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return XDP_PASS;
		th = (void *)(ip6 + 1);
		if ((void *)(th + 1) > end)
			return XDP_PASS;
		payload = bpf_ntohs(ip6->payload_len) - th->doff * 4;
	} else {
		return XDP_PASS;
	}
#ifdef EB_DPORT
	if (th->dest != bpf_htons(EB_PORT))
#else
	if (th->source != bpf_htons(EB_PORT))
#endif
		return XDP_PASS;
	if (payload <= 0 || th->syn || th->fin || th->rst)
		return XDP_PASS;
	return bpf_get_prandom_u32() % 100 < EB_LOSS ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
EOF
	for dir in in out; do
		clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu -DEB_PORT="$EB_PORT_B" \
			-DEB_LOSS="$EB_TCP_LOSS" $([ "$dir" = in ] && echo -DEB_DPORT) \
			-c "$src" -o "$TB_DIR/eb_xdp_$dir.o" 2>"$TB_DIR/eb_xdp_$dir.err" || {
			eb_log "cannot build the XDP loss program: $(head -n 3 "$TB_DIR/eb_xdp_$dir.err")"
			return 1
		}
	done
	tb_exec c ip link set dev "$TB_IF_C" xdpdrv obj "$TB_DIR/eb_xdp_in.o" sec xdp &&
		tb_exec d ip link set dev "$TB_IF_D" xdpdrv obj "$TB_DIR/eb_xdp_out.o" sec xdp || {
		eb_log "cannot attach the XDP loss program to the veths"
		return 1
	}
}

# Frames over the carrier's veth so far, both directions.
eb_link_frames() {
	ip -n "$TB_NS_C" -s -j link show dev "$TB_IF_C" |
		jq '.[0].stats64.rx.packets + .[0].stats64.tx.packets'
}

# eb_link_quiet SECONDS MAX: wait until no frame crossed the carrier's veth
# for SECONDS, at most MAX seconds; 1 on timeout.
eb_link_quiet() {
	sg_still "$1" "$2" eb_link_frames
}

# eb_dial_start TAG SECONDS PORT: SECONDS of new calls with 2 KB INVITEs:
# UDP over IPv4 and IPv6 to carrier-a (fragmented, above its 30 cps from
# the middle on), UDP over IPv4 and TCP over IPv4 and IPv6 to carrier-b
# (above its 20 cps together), OPTIONS pings to the unmatched peer. Local
# ports PORT .. PORT+10.
eb_dial_start() {
	local tag=$1 dial=$2 base=$3 itest common
	itest=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration" && pwd)
	common=(-sf "$itest/uac-big.xml" -s carrier -nostdin -d "$EB_CALL_MS" -fd "$EB_RATE_STEP"
		-no_rate_quit -timeout "$((dial + 12))" -timeout_error)
	tb_spawn d "dial-a4$tag" sipp "${common[@]}" -t u1 -i "$TB_ADDR_D4" -p "$base" \
		-r 8 -rate_increase 4 -rate_max 40 -m "$(lv_calls_for 8 4 40 "$dial")" \
		"$TB_ADDR_A4:$EB_PORT_A"
	tb_spawn d "dial-a6$tag" sipp "${common[@]}" -t u1 -i "$TB_ADDR_D6" -p $((base + 2)) \
		-r 2 -rate_increase 1 -rate_max 10 -m "$(lv_calls_for 2 1 10 "$dial")" \
		"[$EB_ADDR_A6]:$EB_PORT_A"
	tb_spawn d "dial-b4$tag" sipp "${common[@]}" -t u1 -i "$TB_ADDR_D4" -p $((base + 4)) \
		-r 4 -rate_increase 2 -rate_max 14 -m "$(lv_calls_for 4 2 14 "$dial")" \
		"$TB_ADDR_B4:$EB_PORT_B"
	tb_spawn d "dial-b4t$tag" sipp "${common[@]}" -t t1 -i "$TB_ADDR_D4" -p $((base + 6)) \
		-r 2 -rate_increase 1 -rate_max 9 -m "$(lv_calls_for 2 1 9 "$dial")" \
		"$TB_ADDR_B4:$EB_PORT_B"
	tb_spawn d "dial-b6t$tag" sipp "${common[@]}" -t t1 -i "$TB_ADDR_D6" -p $((base + 8)) \
		-r 2 -rate_increase 1 -rate_max 9 -m "$(lv_calls_for 2 1 9 "$dial")" \
		"[$TB_ADDR_B6]:$EB_PORT_B"
	tb_spawn d "ping$tag" sipp -sf "$itest/options.xml" -nostdin -t u1 -i "$TB_ADDR_D4" \
		-p $((base + 10)) -r 2 -m $((2 * dial)) -timeout "$((dial + 12))" \
		"$TB_ADDR_U4:$EB_PORT_A"
}

EB_DIALERS="dial-a4 dial-a6 dial-b4 dial-b4t dial-b6t ping"

# eb_dial_wait TAG SECONDS: wait up to SECONDS for the phase's sipps; 1 if
# one had to be stopped.
eb_dial_wait() {
	local tag=$1 secs=$2 start=$SECONDS left p rc=0
	for p in $EB_DIALERS; do
		left=$((secs - (SECONDS - start)))
		[ "$left" -gt 0 ] || left=1
		if ! tb_wait "$p$tag" "$left"; then
			eb_log "$p$tag still running at the deadline"
			rc=1
		fi
		tb_stop "$p$tag"
	done
	return $rc
}

# eb_conf FILE [DEVARGS LCORES]: the sipguard config for this bed's
# carriers, carrier-a's IPv6 side as a trunk of its own (carrier-a6: UDP
# over IPv6 only, so its counts are those of IPv6 fragments alone); with DEVARGS, a live config reading that port with two RX
# queues on LCORES, this run's file prefix and control socket.
eb_conf() {
	local file=$1 devargs=${2:-} lcores=${3:-0@0,1@0,2@1} dp live=""
	dp="sip_ports = [ $EB_PORT_A, $EB_PORT_B ]; retrans_window = 32;"
	if [ -n "$devargs" ]; then
		# whole IPv4 datagrams come up from the kernel (af_packet's
		# fanout defragments): mbufs large enough for a 2 KB INVITE
		dp="$dp lcores = \"$lcores\"; file_prefix = \"$TB_ID\"; mbuf_size = 4096;"
		live="ctrl = { socket = \"$TB_DIR/ctrl.sock\"; cpu = 0; };
metrics = { listen = \"off\"; };
ports = ( { devargs = \"$devargs\"; rx_queues = 2; } );"
	fi
	cat >"$file" <<EOF
# sipguard config for the edge test bed $TB_ID (scripts/lib/edgebed.sh).
# Trunks are its carriers; fragments, TCP streams and mirror feeds
# (VXLAN, GRE, ERSPAN) are what this bed is about.
dataplane = { $dp };
$live
decap = { max_depth = 2; vxlan_port = 4789; };
fragments = { entries = 1024; timeout = 2000; };
streams = { flows = 1024; buffers = 256; buffer_size = 16384; idle_timeout = 300; gap_timeout = 3000; };
hep = { port = 0; allow = [ ]; auth_key = ""; };
trunks = (
  { name = "carrier-a"; prefixes = [ "$TB_ADDR_A4/32" ]; cps = $EB_CPS_A; max_concurrent = 300; },
  { name = "carrier-a6"; prefixes = [ "2001:db8:a::/48" ]; cps = 10; max_concurrent = 100; },
  { name = "carrier-b"; prefixes = [ "$TB_ADDR_B4/32", "2001:db8:b::/48" ]; port = $EB_PORT_B; cps = $EB_CPS_B; max_concurrent = 100; }
);
EOF
}

# eb_capture NAME NS IFACE FILE [BPF]: dumpcap in namespace c or x; returns
# once it writes.
eb_capture() {
	local name=$1 ns=$2 dev=$3 file=$4 i
	shift 4
	if [ "$ns" = x ]; then
		eb_spawn_x "$name" dumpcap -q -i "$dev" ${1:+-f "$1"} -w "$file"
	else
		tb_spawn "$ns" "$name" dumpcap -q -i "$dev" ${1:+-f "$1"} -w "$file"
	fi
	for ((i = 0; i < 50; i++)); do
		grep -q "Capturing on" "$TB_DIR/$name.log" 2>/dev/null && [ -s "$file" ] && return 0
		sleep 0.1
	done
	eb_log "dumpcap $name did not start: $(head -n 3 "$TB_DIR/$name.log")"
	return 1
}

# Capture filters of the mirror feeds on the collector link: the GRE
# protocol field sits 2 bytes into the GRE header (a 20 byte IPv4 header,
# the only kind the tunnels send).
EB_FEEDS="vxlan gre erspan2 erspan3"
eb_feed_bpf() {
	case "$1" in
	vxlan) echo "udp dst port 4789" ;;
	gre) echo "ip proto 47 and ip[22:2] = 0x6558" ;;
	erspan2) echo "ip proto 47 and ip[22:2] = 0x88be" ;;
	erspan3) echo "ip proto 47 and ip[22:2] = 0x22eb" ;;
	esac
}

# eb_figures CAP CONF: what the capture holds, one "key value" line each,
# from tshark with its default preferences (IP defragmentation, TCP
# reassembly and sequence analysis on) and the config's SIP ports:
#   frames, ip4_fragments, ip4_datagrams, ip4_invites (INVITEs reassembled
#   from IPv4 fragments), and the same for ip6; tcp_data (segments with
#   payload on the SIP ports), tcp_multi (SIP messages from more than one
#   segment), tcp_boundary (segments that end one message and start the
#   next), tcp_retrans / tcp_ooo / tcp_lost (tshark's analysis flags),
#   tap_ooo (segments filling a hole after later data was seen) and tap_dup
#   (segments whose bytes were all seen before), sip_503 (503s with
#   Retry-After and Reason), sip_messages (tshark's sip,stat total).
eb_figures() {
	local cap=$1 conf=$2
	python3 - "$cap" "$conf" <<'PY'
import re, subprocess, sys
cap, conf = sys.argv[1], sys.argv[2]
text = open(conf).read()
m = re.search(r"sip_ports\s*=\s*\[([^\]]*)\]", text)
ports = [int(p) for p in re.findall(r"\d+", m.group(1))] if m else [5060, 5080]
dec = []
for p in ports:
    dec += ["-d", "udp.port==%d,sip" % p, "-d", "tcp.port==%d,sip" % p]

def count(flt):
    out = subprocess.run(["tshark", "-r", cap, "-n"] + dec + ["-Y", flt, "-T", "fields",
                          "-e", "frame.number"], capture_output=True, text=True).stdout
    return len(out.split())

fig = {}
fig["frames"] = count("frame")
fig["ip4_fragments"] = count("ip.flags.mf == 1 || ip.frag_offset > 0")
fig["ip4_datagrams"] = count("ip.fragment.count >= 2")
fig["ip4_invites"] = count('ip.fragment.count >= 2 && sip.Method == "INVITE"')
fig["ip6_fragments"] = count("ipv6.fraghdr")
fig["ip6_datagrams"] = count("ipv6.fragment.count >= 2")
fig["ip6_invites"] = count('ipv6.fragment.count >= 2 && sip.Method == "INVITE"')
tcp_ports = " || ".join("tcp.port == %d" % p for p in ports)
fig["tcp_data"] = count("(%s) && tcp.len > 0" % tcp_ports)
fig["tcp_multi"] = count("sip && tcp.segment.count >= 2")
fig["tcp_retrans"] = count("tcp.analysis.retransmission || tcp.analysis.fast_retransmission")
fig["tcp_ooo"] = count("tcp.analysis.out_of_order")
fig["tcp_lost"] = count("tcp.analysis.lost_segment")
fig["sip_503"] = count('sip.Status-Code == 503 && sip.Retry-After && sip.Reason contains "Q.850"')
stat = subprocess.run(["tshark", "-r", cap, "-n", "-q"] + dec + ["-z", "sip,stat"],
                      capture_output=True, text=True).stdout
fig["sip_messages"] = sum(int(n) for n in
                          re.findall(r"^\s+[A-Z]+\s+:\s+(\d+) Packets", stat, re.M))
fig["sip_messages"] += sum(int(n) for n in
                           re.findall(r"^\s+SIP \d{3} .*:\s+(\d+) Packets", stat, re.M))

# Our own view of each TCP direction, from the raw segments in capture
# order: holes filled late (out of order at the tap), bytes seen twice,
# and message boundaries strictly inside a segment.
out = subprocess.run(["tshark", "-r", cap, "-n", "-Y", "(%s) && tcp.len > 0" % tcp_ports,
                      "-T", "fields", "-E", "separator=|", "-e", "tcp.stream", "-e", "tcp.srcport",
                      "-e", "tcp.seq", "-e", "tcp.len", "-e", "tcp.payload"],
                     capture_output=True, text=True).stdout
dirs = {}
for line in out.splitlines():
    f = line.split("|")
    if len(f) < 5 or not f[4]:
        continue
    seq, n = int(f[2]), int(f[3])
    data = bytes.fromhex(f[4].replace(":", ""))
    dirs.setdefault((f[0], f[1]), []).append((seq, n, data))
ooo = dup = boundary = 0
CL = re.compile(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)", re.I)
for segs in dirs.values():
    seen = set()
    top = 0
    stream = {}
    for seq, n, data in segs:
        rng = set(range(seq, seq + n))
        if rng <= seen:
            dup += 1
        elif seq < top:
            ooo += 1
        seen |= rng
        top = max(top, seq + n)
        for i, b in enumerate(data):
            stream.setdefault(seq + i, b)
    # the stream from relative sequence number 1, up to the first hole
    buf = bytearray()
    i = 1
    while i in stream:
        buf.append(stream[i])
        i += 1
    ends = set()
    off = 0
    buf = bytes(buf)
    while off < len(buf):
        while buf.startswith(b"\r\n", off):
            off += 2
        e = buf.find(b"\r\n\r\n", off)
        if e < 0:
            break
        m = CL.search(buf, off, e + 2)
        off = e + 4 + (int(m.group(1)) if m else 0)
        if off <= len(buf):
            ends.add(off + 1)  # sequence number of the next message's first byte
    for seq, n, _ in segs:
        if any(seq < b < seq + n for b in ends):
            boundary += 1
fig["tap_ooo"] = ooo
fig["tap_dup"] = dup
fig["tcp_boundary"] = boundary
for k, v in fig.items():
    print(k, v)
PY
}

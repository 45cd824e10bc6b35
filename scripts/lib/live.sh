# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# The live appliance on the integration test bed (scripts/lib/testbed.sh):
# the carriers, ACK losses and dialers of scripts/record, plus sipguard
# (DPDK primary, reading the carrier's veth through net_af_packet inside
# the carrier namespace), sipguard-ctrl and dumpcap on the same interface.
#
# The carrier side (Kamailio carrier-a and carrier-b, sipp UAS, nftables
# dropping a share of ACKs after the capture point) is what scripts/record
# builds; see tests/integration/README.md for why each piece is there.
# Unlike scripts/record, dialing is split into phases (lv_dial_start /
# lv_dial_wait) so a test can hold traffic still between them.
#
# Usage:
#   . scripts/lib/testbed.sh; . scripts/lib/live.sh
#   tb_init; trap '...; tb_down' EXIT; tb_up
#   lv_conf FILE                  # sipguard config for this bed
#   lv_carriers_up SECONDS        # carriers, UAS, ACK drops; waits until listening
#   lv_dial_start TAG SECONDS PORT  # one phase of ramping dialers
#   lv_dial_wait TAG SECONDS      # wait for that phase to finish
#   lv_spawn NAME cmd...          # like tb_spawn, in the root namespace
#   lv_link_frames                # frames over the carrier veth so far
#   lv_link_quiet SECONDS MAX     # wait for SECONDS without a frame
#   lv_dpdk_clean PREFIX          # hugepage files and runtime dir of a prefix

LV_CPS_A=30
LV_CPS_B=20
LV_PORT_A=5060
LV_PORT_B=5080
LV_UAS_PORT=5090
LV_RATE_STEP=2
LV_ACK_DROP_A=5
LV_ACK_DROP_B=10
LV_CALL_MS=1000
LV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# shellcheck source=scripts/lib/still.sh
. "$(dirname "${BASH_SOURCE[0]}")/still.sh"

lv_log() {
	echo "live: $*" >&2
}

# lv_conf FILE [LCORES]: the sipguard config for this bed's carriers, with
# the carrier veth as an af_packet port of two RX queues, a file prefix
# and a control socket of this run only. sipguard-ctrl's /metrics stays
# off unless LV_METRICS names an address (ADDR:PORT) for it.
lv_conf() {
	local file=$1 lcores=${2:-0@0,1@0,2@1}
	cat >"$file" <<EOF
# sipguard live config for test bed $TB_ID (scripts/lib/live.sh).
dataplane = {
  sip_ports = [ $LV_PORT_A, $LV_PORT_B ];
  retrans_window = 32;
  lcores = "$lcores";
  file_prefix = "$TB_ID";
};
ctrl = { socket = "$TB_DIR/ctrl.sock"; cpu = 0; };
metrics = { listen = "${LV_METRICS:-off}"; };
ports = ( { devargs = "net_af_packet0,iface=$TB_IF_C,qpairs=2,framecnt=4096"; rx_queues = 2; } );
trunks = (
  { name = "carrier-a"; prefixes = [ "$TB_ADDR_A4/32" ]; cps = $LV_CPS_A; max_concurrent = 300; },
  { name = "carrier-b"; prefixes = [ "$TB_ADDR_B4/32", "2001:db8:b::/48" ]; port = $LV_PORT_B; cps = $LV_CPS_B; max_concurrent = 100; }
);
EOF
	# the shipped diagnosis rules: what the carriers' 503s say
	sed -n '/^diagnosis = (/,/^);/p' "$LV_ROOT/config/sipguard.conf" >>"$file"
}

lv_fill() {
	sed -e "s|@LISTEN_IP@|$2|g" -e "s|@LISTEN_IP6@|${3:-}|g" \
		-e "s|@LISTEN_PORT@|$4|g" -e "s|@CPS@|$5|g" \
		-e "s|@UNMATCHED_IP@|$TB_ADDR_U4|g" \
		-e "s|@UAS_IP@|$TB_ADDR_UAS|g" -e "s|@UAS_PORT@|$LV_UAS_PORT|g" \
		"$1" >"$6"
}

lv_listening() {
	local ss_out
	ss_out=$(tb_exec c ss -Hlnu; tb_exec c ss -Hlnt)
	grep -q "$TB_ADDR_A4:$LV_PORT_A" <<<"$ss_out" &&
		grep -q "$TB_ADDR_B4:$LV_PORT_B" <<<"$ss_out" &&
		grep -q "\[$TB_ADDR_B6\]:$LV_PORT_B" <<<"$ss_out" &&
		grep -q "$TB_ADDR_UAS:$LV_UAS_PORT" <<<"$ss_out"
}

# lv_carriers_up SECONDS: Kamailio carrier-a and carrier-b, the sipp UAS
# (alive for SECONDS), the ACK drops; returns once all of them listen.
lv_carriers_up() {
	local secs=$1 itest c i p
	itest=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration" && pwd)
	lv_fill "$itest/carrier-a.cfg.in" "$TB_ADDR_A4" "" "$LV_PORT_A" "$LV_CPS_A" \
		"$TB_DIR/carrier-a.cfg"
	lv_fill "$itest/carrier-b.cfg.in" "$TB_ADDR_B4" "$TB_ADDR_B6" "$LV_PORT_B" "$LV_CPS_B" \
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
	tb_spawn c uas sipp -sn uas -i "$TB_ADDR_UAS" -p "$LV_UAS_PORT" -nostdin -timeout "$secs"
	# ACKs lost after the capture point (see scripts/record).
	tb_exec c nft -f - <<EOF || return 1
table inet ${TB_ID} {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "$TB_IF_C" udp dport $LV_PORT_A @th,64,32 0x41434b20 \
			numgen random mod 100 < $LV_ACK_DROP_A counter drop
		iifname "$TB_IF_C" udp dport $LV_PORT_B @th,64,32 0x41434b20 \
			numgen random mod 100 < $LV_ACK_DROP_B counter drop
	}
}
EOF
	for ((i = 0; i < 50; i++)); do
		lv_listening && return 0
		for p in carrier-a carrier-b uas; do
			tb_alive "$p" || {
				lv_log "$p exited early:"
				tail -n 20 "$TB_DIR/$p.log" >&2
				return 1
			}
		done
		sleep 0.2
	done
	lv_log "carriers not listening after 10 s"
	return 1
}

# Calls a dialer makes in `dial` seconds at rate r0, +inc every step,
# capped at rmax (what sipp's -rate_increase does).
lv_calls_for() {
	local r0=$1 inc=$2 rmax=$3 dial=$4 t r n=0
	for ((t = 0; t < dial; t++)); do
		r=$((r0 + inc * (t / LV_RATE_STEP)))
		[ "$r" -le "$rmax" ] || r=$rmax
		n=$((n + r))
	done
	echo "$n"
}

# lv_dial_start TAG SECONDS PORT: one phase of dialing, SECONDS of new calls:
# udp4 to carrier-a, udp4 and tcp6 to carrier-b, OPTIONS pings to the
# unmatched peer. The dialers' local ports are PORT, PORT+2, +4, +6: give
# each phase its own, so a phase never meets the sockets of the one before.
lv_dial_start() {
	local tag=$1 dial=$2 base=$3 itest common
	itest=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration" && pwd)
	# A rejected call lingers 4 s for repeated 503s; calls last 1 s.
	common=(-sf "$itest/uac.xml" -s carrier -nostdin -d "$LV_CALL_MS" -fd "$LV_RATE_STEP"
		-no_rate_quit -timeout "$((dial + 12))" -timeout_error)
	tb_spawn d "dial-a$tag" sipp "${common[@]}" -t u1 -i "$TB_ADDR_D4" -p "$base" \
		-r 10 -rate_increase 5 -rate_max 60 -m "$(lv_calls_for 10 5 60 "$dial")" \
		"$TB_ADDR_A4:$LV_PORT_A"
	tb_spawn d "dial-b4$tag" sipp "${common[@]}" -t u1 -i "$TB_ADDR_D4" -p $((base + 2)) \
		-r 4 -rate_increase 3 -rate_max 30 -m "$(lv_calls_for 4 3 30 "$dial")" \
		"$TB_ADDR_B4:$LV_PORT_B"
	tb_spawn d "dial-b6$tag" sipp "${common[@]}" -t t1 -i "$TB_ADDR_D6" -p $((base + 4)) \
		-r 2 -rate_increase 1 -rate_max 12 -m "$(lv_calls_for 2 1 12 "$dial")" \
		"[$TB_ADDR_B6]:$LV_PORT_B"
	tb_spawn d "ping$tag" sipp -sf "$itest/options.xml" -nostdin -t u1 -i "$TB_ADDR_D4" \
		-p $((base + 6)) -r 2 -m $((2 * dial)) -timeout "$((dial + 12))" \
		"$TB_ADDR_U4:$LV_PORT_A"
}

# lv_dial_wait TAG SECONDS: wait up to SECONDS for the phase's sipps to
# finish; 1 if one had to be stopped.
lv_dial_wait() {
	local tag=$1 secs=$2 start=$SECONDS left p rc=0
	for p in "dial-a$tag" "dial-b4$tag" "dial-b6$tag" "ping$tag"; do
		left=$((secs - (SECONDS - start)))
		[ "$left" -gt 0 ] || left=1
		if ! tb_wait "$p" "$left"; then
			lv_log "$p still running at the deadline"
			rc=1
		fi
		tb_stop "$p"
	done
	return $rc
}

# lv_spawn NAME cmd...: like tb_spawn, in the root namespace (sipguard-ctrl
# reaches the dataplane through files, not through the network).
lv_spawn() {
	local name=$1
	shift
	"$@" </dev/null >"$TB_DIR/$name.log" 2>&1 &
	echo $! >"$TB_DIR/$name.pid"
}

# Frames the kernel passed over the carrier's veth, both directions: what
# a packet socket on it (dumpcap, net_af_packet) is offered.
lv_link_frames() {
	ip -n "$TB_NS_C" -s -j link show dev "$TB_IF_C" |
		jq '.[0].stats64.rx.packets + .[0].stats64.tx.packets'
}

# lv_link_quiet SECONDS MAX: wait until no frame crossed the veth for
# SECONDS (checked every 0.5 s), at most MAX seconds; 1 on timeout.
lv_link_quiet() {
	sg_still "$1" "$2" lv_link_frames
}

# lv_dpdk_clean PREFIX: what a DPDK primary of that file prefix leaves
# behind (hugepage files, runtime directory), once no process uses it.
lv_dpdk_clean() {
	local prefix=$1 mnt
	[ -n "$prefix" ] || return 0
	while read -r _ mnt fstype _; do
		[ "$fstype" = hugetlbfs ] || continue
		rm -f "$mnt/${prefix}map_"* 2>/dev/null
	done </proc/mounts
	rm -rf "/var/run/dpdk/$prefix"
}

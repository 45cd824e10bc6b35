# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# The closed loop on the integration test bed (scripts/lib/testbed.sh):
# sipguard watching the carrier's veth, sipguard-ctrl turning 503s into
# directives, and its SIPp adapter driving the dialers' remote-control
# ports, against carriers that limit, fail, name a Retry-After or send
# RFC 7339 overload control.
#
#   dialer ns: sipp UACs (control ports on 127.0.0.1), sipguard-ctrl
#   carrier ns: Kamailio carriers (carrier-loop.cfg.in), sipp UASs,
#               sipguard (net_af_packet on the veth), dumpcap
#
# sipguard-ctrl runs inside the dialer namespace: SIPp binds its control
# socket to the loopback there, and the adapter's numeric address is
# then just 127.0.0.1, as on a dialer host with the control plane next to
# it; a refused datagram comes back at once on loopback. The DPDK
# secondary reaches the primary through files only (hugepages,
# /var/run/dpdk, the control socket), which every namespace shares.
#
# Carriers, one address each on the carrier side, all on port 5060:
#   loop     LP_ADDR_LOOP     Kamailio, 30 CPS, 503 + Retry-After: 2 above
#   trouble  LP_ADDR_TROUBLE  Kamailio, random LP_TROUBLE_PCT % 503s after a start
#   retry    LP_ADDR_RETRY    Kamailio, 30 CPS, 503 + Retry-After: 10 above
#   oc       LP_ADDR_OC       sipp (oc-uas.xml), oc=50 loss in the top Via
#   conc     LP_ADDR_CONC     Kamailio (carrier-conc.cfg.in), at most
#                             LP_CONC_CALLS calls up (dialog profile), 503 above
# and the called party behind the Kamailio ones: sipp -sn uas on
# TB_ADDR_UAS:LP_UAS_PORT.
#
# Usage:
#   . scripts/lib/testbed.sh; . scripts/lib/loop.sh
#   tb_init; trap '...; lp_down; tb_down' EXIT; tb_up; lp_init
#   lp_conf FILE DIRECTIVES_FILE ADAPTERS(0|1)
#   lp_carriers_up SECONDS TROUBLE_FROM   # every carrier and the UAS
#   lp_sipguard_up CONF; lp_ctrl_up NAME CONF
#   lp_capture_start NAME FILE ... lp_capture_stop NAME
#   lp_dial NAME ADDR LOCAL_PORT CONTROL_PORT RATE SECONDS
#   lp_ramp NAME CONTROL_PORT R0 STEP EVERY RMAX SECONDS [YIELD_FILE TRUNK]
#   lp_measure CAPTURE DIRECTIVES T0 T_END OUT.json
#   lp_plot A.json B.json OUT.png

LP_CPS=30
# Case 1's contract says 40 CPS while the carrier takes 30 today: its 503s,
# not the contract, reveal the limit, so the policy meets a 503 burst as
# the dialer ramps (over-limit) rather than a rate above the agreed one.
LP_AGREED_LOOP=${LOOP_AGREED:-40}
LP_PORT=5060
LP_UAS_PORT=5090
LP_CALL_MS=500
# The campaign ramp of case 1: 15, 25, 35 ... 100 CPS, a step every 3 s.
# 35 is the first step above the carrier's 30, far enough above it that
# the carrier answers 503 in its first second there (a step to exactly 30
# plus a call of jitter would only meet the proactive rule).
LP_RAMP_FROM=15
LP_RAMP_STEP=10
LP_RAMP_EVERY=3
LP_TROUBLE_PCT=8
LP_RA_LOOP=2
LP_RA_RETRY=10
LP_CP_LOOP=8870
LP_CP_TROUBLE=8872
LP_CP_RETRY=8874
LP_CP_OC=8876
LP_CP_CONC=8878
LP_ADDR_OC=198.51.100.40
LP_ADDR_CONC=198.51.100.41
# The concurrency case: 4 CPS of 15 s calls would hold 60 calls up; the
# carrier takes 45 at once (3 CPS at that length). The cap is met 11 s in,
# after the dialer's start-up, at a steady rate.
LP_CONC_CALLS=45
LP_CONC_RATE=4
LP_CONC_CALL_MS=15000

lp_log() {
	echo "loop: $*" >&2
}

lp_init() {
	LP_ITEST=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration" && pwd)
	LP_ADDR_LOOP=$TB_ADDR_A4
	LP_ADDR_TROUBLE=$TB_ADDR_B4
	LP_ADDR_RETRY=$TB_ADDR_U4
	# One more carrier address, on the same veth as the others.
	ip -n "$TB_NS_C" addr add "$LP_ADDR_OC/24" dev "$TB_IF_C" 2>/dev/null || true
	ip -n "$TB_NS_C" addr add "$LP_ADDR_CONC/24" dev "$TB_IF_C" 2>/dev/null || true
	LP_LCORES=${LOOP_LCORES:-0@0,1@1}
}

# lp_conf FILE DIRECTIVES_FILE ADAPTERS: the sipguard config of this bed.
# ADAPTERS 1 adds the SIPp adapter of every dialer (the closed loop); 0
# leaves the directives in the file only (the open loop). The policy keys
# that differ from the defaults are there for the trouble case (a 5 CPS
# dialer meeting an 8 % 503 share): a 10 s window, 2 503s and 5 % make a
# burst, and a 10 s peak window, so that a dialer that started at its
# steady rate a few seconds before is not taken for one that just climbed.
lp_conf() {
	local file=$1 dfile=$2 adapters=$3 sipp=""
	if [ "$adapters" = 1 ]; then
		sipp="sipp = (
  { trunk = \"loop\"; address = \"127.0.0.1\"; port = $LP_CP_LOOP; },
  { trunk = \"trouble\"; address = \"127.0.0.1\"; port = $LP_CP_TROUBLE; },
  { trunk = \"retry\"; address = \"127.0.0.1\"; port = $LP_CP_RETRY; },
  { trunk = \"oc\"; address = \"127.0.0.1\"; port = $LP_CP_OC; },
  { trunk = \"conc\"; address = \"127.0.0.1\"; port = $LP_CP_CONC; }
);"
	fi
	cat >"$file" <<EOF
# sipguard closed-loop config for test bed $TB_ID (scripts/lib/loop.sh).
dataplane = {
  sip_ports = [ $LP_PORT ];
  lcores = "$LP_LCORES";
  file_prefix = "$TB_ID";
  mbufs = 4095;
  retrans_entries = 16384;
  dialog_entries = 16384;
  ring_size = 1024;
};
ctrl = { socket = "$TB_DIR/ctrl.sock"; cpu = 0; };
metrics = { listen = "off"; };
ports = ( { devargs = "net_af_packet0,iface=$TB_IF_C,qpairs=1,framecnt=4096"; rx_queues = 1; } );
policy = {
  window = 10;
  burst_min_503 = 2;
  burst_min_share = 5;
  peak_window = 10;
};
directives = { file = "$dfile"; };
$sipp
trunks = (
  { name = "loop"; prefixes = [ "$LP_ADDR_LOOP/32" ]; cps = $LP_AGREED_LOOP; max_concurrent = 2000; },
  { name = "trouble"; prefixes = [ "$LP_ADDR_TROUBLE/32" ]; cps = $LP_CPS; max_concurrent = 2000; },
  { name = "retry"; prefixes = [ "$LP_ADDR_RETRY/32" ]; cps = $LP_CPS; max_concurrent = 2000; },
  { name = "oc"; prefixes = [ "$LP_ADDR_OC/32" ]; cps = $LP_CPS; max_concurrent = 2000; },
  { name = "conc"; prefixes = [ "$LP_ADDR_CONC/32" ]; cps = $LP_CPS; max_concurrent = 2000; }
);
EOF
}

# The same trunks and policy for the offline replay (no ports, its own
# file prefix, no sinks).
lp_conf_offline() {
	local live=$1 file=$2
	sed -e "s|file_prefix = \"$TB_ID\"|file_prefix = \"${TB_ID}o\"|" \
		-e '/^ports = /d' -e '/^directives = /d' -e '/^sipp = (/,/^);/d' \
		"$live" >"$file"
}

# lp_kamailio NAME ADDR CPS RETRY_AFTER TROUBLE_PCT TROUBLE_FROM [PHRASE]:
# PHRASE is the reason phrase of its 503s (default "Service Unavailable"),
# the words the diagnosis rules read.
lp_kamailio() {
	local name=$1 addr=$2 phrase=${7:-Service Unavailable}
	sed -e "s|@NAME@|$name|g" -e "s|@LISTEN_IP@|$addr|g" -e "s|@LISTEN_PORT@|$LP_PORT|g" \
		-e "s|sl_send_reply(\"503\", \"Service Unavailable\")|sl_send_reply(\"503\", \"$phrase\")|" \
		-e "s|@CPS@|$3|g" -e "s|@RETRY_AFTER@|$4|g" -e "s|@TROUBLE_PCT@|$5|g" \
		-e "s|@TROUBLE_FROM@|$6|g" \
		-e "s|@UAS_IP@|$TB_ADDR_UAS|g" -e "s|@UAS_PORT@|$LP_UAS_PORT|g" \
		"$LP_ITEST/carrier-loop.cfg.in" >"$TB_DIR/carrier-$name.cfg"
	mkdir -p "$TB_DIR/run-$name"
	tb_exec c kamailio -c -f "$TB_DIR/carrier-$name.cfg" >"$TB_DIR/carrier-$name.check" 2>&1 || {
		cat "$TB_DIR/carrier-$name.check" >&2
		return 1
	}
	tb_spawn c "carrier-$name" kamailio -f "$TB_DIR/carrier-$name.cfg" -DD -E \
		-m 64 -M 8 -Y "$TB_DIR/run-$name" -P "$TB_DIR/run-$name/kamailio.pid" -w "$TB_DIR"
}

lp_listening() {
	local ss_out a
	ss_out=$(tb_exec c ss -Hlnu)
	for a in "$@"; do
		grep -q "$a:$LP_PORT" <<<"$ss_out" || return 1
	done
	grep -q "$TB_ADDR_UAS:$LP_UAS_PORT" <<<"$ss_out"
}

# lp_wait_listening NAME... ADDR...: until every ADDR listens on the
# carrier port (and the UAS on its own); 1 when one of the NAMEd
# processes died or after 10 s.
lp_wait_listening() {
	local names=() addrs=() x i p
	for x in "$@"; do
		case "$x" in
		[0-9]*) addrs+=("$x") ;;
		*) names+=("$x") ;;
		esac
	done
	for ((i = 0; i < 50; i++)); do
		lp_listening "${addrs[@]}" && return 0
		for p in "${names[@]}"; do
			tb_alive "$p" || {
				lp_log "$p exited early:"
				tail -n 20 "$TB_DIR/$p.log" >&2
				return 1
			}
		done
		sleep 0.2
	done
	lp_log "carriers not listening after 10 s"
	return 1
}

# lp_kamailio_conc NAME ADDR MAX_CALLS: the carrier capping calls up.
lp_kamailio_conc() {
	local name=$1 addr=$2
	sed -e "s|@NAME@|$name|g" -e "s|@LISTEN_IP@|$addr|g" -e "s|@LISTEN_PORT@|$LP_PORT|g" \
		-e "s|@MAX_CALLS@|$3|g" -e "s|@UAS_IP@|$TB_ADDR_UAS|g" -e "s|@UAS_PORT@|$LP_UAS_PORT|g" \
		"$LP_ITEST/carrier-conc.cfg.in" >"$TB_DIR/carrier-$name.cfg"
	mkdir -p "$TB_DIR/run-$name"
	tb_spawn c "carrier-$name" kamailio -f "$TB_DIR/carrier-$name.cfg" -DD -E \
		-m 64 -M 8 -Y "$TB_DIR/run-$name" -P "$TB_DIR/run-$name/kamailio.pid" -w "$TB_DIR"
}

# lp_carriers_up SECONDS: the loop, retry, oc and conc carriers and the
# UAS, alive for SECONDS (the sipp ones; Kamailio until stopped).
lp_carriers_up() {
	local secs=$1
	lp_kamailio loop "$LP_ADDR_LOOP" "$LP_CPS" "$LP_RA_LOOP" 0 0 || return 1
	lp_kamailio retry "$LP_ADDR_RETRY" "$LP_CPS" "$LP_RA_RETRY" 0 0 || return 1
	lp_kamailio_conc conc "$LP_ADDR_CONC" "$LP_CONC_CALLS" || return 1
	tb_spawn c uas sipp -sn uas -i "$TB_ADDR_UAS" -p "$LP_UAS_PORT" -nostdin -timeout "$secs"
	tb_spawn c carrier-oc sipp -sf "$LP_ITEST/oc-uas.xml" -i "$LP_ADDR_OC" -p "$LP_PORT" \
		-nostdin -timeout "$secs"
	lp_wait_listening carrier-loop carrier-retry carrier-oc carrier-conc uas \
		"$LP_ADDR_LOOP" "$LP_ADDR_RETRY" "$LP_ADDR_OC" "$LP_ADDR_CONC"
}

# lp_trouble_up FROM: the trouble carrier, failing from the epoch second FROM.
lp_trouble_up() {
	lp_kamailio trouble "$LP_ADDR_TROUBLE" "$LP_CPS" 0 "$LP_TROUBLE_PCT" "$1" || return 1
	lp_wait_listening carrier-trouble "$LP_ADDR_TROUBLE"
}

# lp_sipguard_up CONF: the dataplane in the carrier namespace, up once it
# says it runs (a secondary attaching earlier panics in EAL init).
lp_sipguard_up() {
	local conf=$1 i
	tb_spawn c sipguard "$LP_SIPGUARD" -c "$conf"
	for ((i = 0; i < 150; i++)); do
		grep -q "^sipguard: running" "$TB_DIR/sipguard.log" && return 0
		tb_alive sipguard || break
		sleep 0.2
	done
	lp_log "sipguard did not start:"
	tail -n 5 "$TB_DIR/sipguard.log" >&2
	return 1
}

# lp_ctrl_up NAME CONF: sipguard-ctrl in the dialer namespace, up once the
# control API answers.
lp_ctrl_up() {
	local name=$1 conf=$2 i
	tb_spawn d "$name" "$LP_CTRL" -c "$conf" --wait
	for ((i = 0; i < 100; i++)); do
		"$LP_CTL" -s "$TB_DIR/ctrl.sock" status >/dev/null 2>&1 && return 0
		tb_alive "$name" || break
		sleep 0.2
	done
	lp_log "$name did not start:"
	tail -n 5 "$TB_DIR/$name.log" >&2
	return 1
}

lp_capture_start() {
	local name=$1 file=$2 i
	rm -f "$file"
	tb_spawn c "$name" dumpcap -q -i "$TB_IF_C" -w "$file"
	for ((i = 0; i < 50; i++)); do
		grep -q "Capturing on" "$TB_DIR/$name.log" 2>/dev/null && [ -s "$file" ] && return 0
		sleep 0.1
	done
	lp_log "dumpcap did not start: $(head -n 3 "$TB_DIR/$name.log")"
	return 1
}

lp_capture_stop() {
	tb_stop "$1" INT
}

# lp_dial NAME ADDR LOCAL_PORT CONTROL_PORT RATE SECONDS [CALL_MS]: a
# dialer at RATE calls a second toward ADDR, each call CALL_MS long
# (default LP_CALL_MS), its rate under remote control on
# 127.0.0.1:CONTROL_PORT. It is asked to stop placing calls after SECONDS
# (lp_dial_stop); -timeout bounds it whatever happens.
lp_dial() {
	local name=$1 addr=$2 lport=$3 cp=$4 rate=$5 secs=$6 call_ms=${7:-$LP_CALL_MS}
	tb_spawn d "$name" sipp -sf "$LP_ITEST/uac.xml" -s carrier -nostdin -t u1 \
		-i "$TB_ADDR_D4" -p "$lport" -ci 127.0.0.1 -cp "$cp" \
		-r "$rate" -l 5000 -m 1000000 -d "$call_ms" \
		-timeout "$((secs + 20 + call_ms / 1000))" -timeout_error \
		-trace_stat -stf "$TB_DIR/$name.stat.csv" -fd 1 "$addr:$LP_PORT"
}

# SIGUSR1: place no new call, finish the ones in flight, then exit.
lp_dial_stop() {
	local pid
	pid=$(tb_pid "$1") || return 0
	[ -n "$pid" ] && kill -USR1 "$pid" 2>/dev/null
	return 0
}

# A campaign's ramp, run in the dialer namespace: `cset rate` R0, +STEP
# every EVERY seconds up to RMAX, for SECONDS. With YIELD_FILE, the ramp
# hands the rate over as soon as that JSON-lines file holds a pause or
# throttle for TRUNK (a dialer that obeys its governor). SIPp's own
# -rate_increase cannot do this: it keeps adding to whatever rate a
# `cset rate` set, even while paused.
lp_ramp_run() {
	local cp=$1 r=$2 step=$3 every=$4 rmax=$5 secs=$6 yfile=${7:-} trunk=${8:-}
	local pat="\"trunk\":\"$trunk\",\"action\":\"\\(pause\\|throttle\\)\""
	local start=${EPOCHREALTIME/./} k=0 now next
	while :; do
		if [ -n "$yfile" ] && grep -qs "$pat" "$yfile"; then
			echo "ramp: yielded at rate $r after $((k * every))s"
			return 0
		fi
		echo "cset rate $r" >"/dev/udp/127.0.0.1/$cp"
		echo "ramp: $EPOCHREALTIME rate $r"
		k=$((k + 1))
		[ $((k * every)) -lt "$secs" ] || break
		r=$((r + step))
		[ "$r" -le "$rmax" ] || r=$rmax
		# On a fixed schedule, watching for the yield every 50 ms.
		next=$((start + k * every * 1000000))
		while now=${EPOCHREALTIME/./}; [ "$now" -lt "$next" ]; do
			if [ -n "$yfile" ] && grep -qs "$pat" "$yfile"; then
				echo "ramp: yielded at rate $((r - step)) after $(((now - start) / 1000000))s"
				return 0
			fi
			sleep 0.05
		done
	done
	echo "ramp: done at rate $r"
}

lp_ramp() {
	local name=$1
	shift
	tb_spawn d "$name" bash -c "$(declare -f lp_ramp_run); lp_ramp_run $*"
}

# lp_measure CAPTURE DIRECTIVES T0 T_END OUT.json: per trunk and per
# second (epoch), from the capture: new INVITEs toward the carrier (first
# INVITE of a Call-ID), and the first final answer of each Call-ID (503,
# 2xx); the directives of the JSON-lines file; and the figures derived
# from them. T0..T_END (epoch seconds) is the dialing span.
lp_measure() {
	local cap=$1 dfile=$2 t0=$3 tend=$4 out=$5
	tshark -r "$cap" -n -Y 'sip.CSeq.method == "INVITE" || sip.Method == "BYE"' \
		-T fields -E separator=/t \
		-e frame.time_epoch -e ip.src -e ip.dst -e sip.Method -e sip.Status-Code \
		-e sip.Call-ID >"$out.tsv" 2>"$out.tshark.err" || {
		lp_log "tshark failed on $cap: $(head -n 2 "$out.tshark.err")"
		return 1
	}
	# the real limit of each carrier: in CPS the pipes' 30 and oc=50
	# (loss) of the oc dialer's 20; in calls up the conc carrier's cap
	LP_LIMITS="loop=$LP_CPS retry=$LP_CPS oc=10" LP_CAPS="conc=$LP_CONC_CALLS" \
		python3 - "$out.tsv" "$dfile" "$t0" "$tend" "$LP_CPS" "$out" \
		"loop=$LP_ADDR_LOOP" "trouble=$LP_ADDR_TROUBLE" "retry=$LP_ADDR_RETRY" \
		"oc=$LP_ADDR_OC" "conc=$LP_ADDR_CONC" <<'PY'
import json, os, sys

tsv, dfile, t0, tend, limit, out = sys.argv[1:7]
limits = {k: float(v) for k, v in (x.split("=") for x in os.environ["LP_LIMITS"].split())}
caps = {k: float(v) for k, v in (x.split("=") for x in os.environ["LP_CAPS"].split())}
t0, tend, limit = int(t0), int(tend), int(limit)
addr = dict(a.split("=", 1) for a in sys.argv[7:])
by_addr = {v: k for k, v in addr.items()}

seen_inv, seen_fin = set(), set()
ev = {k: [] for k in addr}          # (time, kind) kind: inv / 503 / 2xx / oth
for line in open(tsv):
    f = line.rstrip("\n").split("\t")
    if len(f) < 6 or not f[0]:
        continue
    t, src, dst, method, status, cid = float(f[0]), f[1], f[2], f[3], f[4], f[5]
    if method == "BYE" and dst in by_addr:
        if (by_addr[dst], cid, "bye") not in seen_fin:
            seen_fin.add((by_addr[dst], cid, "bye"))
            ev[by_addr[dst]].append((t, "bye"))
    elif method == "INVITE" and dst in by_addr:
        trunk = by_addr[dst]
        if (trunk, cid) not in seen_inv:
            seen_inv.add((trunk, cid))
            ev[trunk].append((t, "inv"))
    elif status and src in by_addr:
        code = int(status.split(",")[0])
        trunk = by_addr[src]
        if code >= 200 and (trunk, cid) not in seen_fin:
            seen_fin.add((trunk, cid))
            kind = "503" if code == 503 else "2xx" if code < 300 else "oth"
            ev[trunk].append((t, kind))

dirs = []
try:
    for line in open(dfile):
        line = line.strip()
        if line:
            dirs.append(json.loads(line))
except FileNotFoundError:
    pass

res = {"t0": t0, "t_end": tend, "limit": limit, "trunks": {}}
for trunk, evs in ev.items():
    last = max([int(t) for t, _ in evs] + [tend])
    secs = list(range(t0, last + 1))
    ser = {s: {"inv": 0, "503": 0, "2xx": 0, "oth": 0, "bye": 0} for s in secs}
    for t, k in evs:
        s = int(t)
        if s in ser:
            ser[s][k] += 1
    inv_times = sorted(t for t, k in evs if k == "inv")
    d = [x for x in dirs if x.get("trunk") == trunk]
    # The limit a directive sets, step by step: pause 0, throttle its
    # limit, resume the agreed rate.
    steps = []
    for x in d:
        if x["action"] == "pause":
            steps.append((x["time"], 0, x.get("duration_s")))
        elif x["action"] == "throttle":
            steps.append((x["time"], x["cps_limit"], None))
        elif x["action"] == "resume":
            steps.append((x["time"], x["cps_limit"], None))
    tr = {"series": [[s - t0, ser[s]["inv"], ser[s]["503"], ser[s]["2xx"], ser[s]["oth"]]
                     for s in secs],
          "directives": d, "limit_steps": [[t - t0, l, dur] for t, l, dur in steps]}
    tot = {k: sum(ser[s][k] for s in secs) for k in ("inv", "503", "2xx", "oth")}
    fin = tot["503"] + tot["2xx"] + tot["oth"]
    tr["totals"] = tot
    tr["share_503"] = tot["503"] / fin if fin else None
    # Onset: the first second with at least 3 503s making 10 % of its finals.
    onset = None
    for s in secs:
        f = ser[s]["503"] + ser[s]["2xx"] + ser[s]["oth"]
        if ser[s]["503"] >= 3 and ser[s]["503"] * 10 >= f:
            onset = s
            break
    tr["onset"] = onset - t0 if onset is not None else None
    act = [x for x in d if x["action"] in ("pause", "throttle")]
    first = act[0] if act else None
    tr["first_action"] = first
    pause = next((x for x in d if x["action"] == "pause"), None)
    tr["first_pause"] = pause
    if pause is not None and onset is not None:
        tr["onset_to_pause_s"] = round(pause["time"] - onset, 3)
    if first is not None and onset is not None:
        tr["onset_to_directive_s"] = round(first["time"] - onset, 3)
        # first 503 of the onset second: what a dialer could have seen
        f503 = min(t for t, k in evs if k == "503" and int(t) == onset)
        tr["first503_to_directive_s"] = round(first["time"] - f503, 3)
    # From the first 503 on the wire, and from the first 503 of the
    # cluster the policy acted on (its evidence), to the first directive.
    if first is not None:
        w503 = [t for t, k in evs if k == "503" and t <= first["time"]]
        if w503:
            tr["wire503_to_directive_s"] = round(first["time"] - min(w503), 3)
        c503 = first.get("evidence", {}).get("first_503")
        if c503:
            tr["cluster503_to_directive_s"] = round(first["time"] - c503, 3)
    tr["real_limit_cps"] = limits.get(trunk)
    # Steady state: from 20 s after the first directive (the loop's
    # start; the onset in the open loop) to the end of dialing.
    ref = first["time"] if first is not None else onset
    if ref is not None:
        a, b = int(ref) + 20, tend
        win = [s for s in secs if a <= s < b]
        if win:
            w = {k: sum(ser[s][k] for s in win) for k in ("inv", "503", "2xx", "oth")}
            wf = w["503"] + w["2xx"] + w["oth"]
            # calls up at the end of each second: answered minus hung up
            up, conc = 0, {}
            for s in secs:
                up += ser[s]["2xx"] - ser[s]["bye"]
                conc[s] = up
            mean_up = sum(conc[s] for s in win) / len(win)
            tr["steady"] = {"from": a - t0, "to": b - t0, "seconds": len(win),
                            "mean_calls_up": mean_up,
                            "attempt_cps": w["inv"] / len(win),
                            "share_503": w["503"] / wf if wf else None,
                            "answered_cps": w["2xx"] / len(win),
                            "used_of_limit": w["2xx"] / len(win) / limits[trunk]
                            if trunk in limits else
                            mean_up / caps[trunk] if trunk in caps else None}
    # The dialer's rate around the first action: the 5 s before it, and
    # 3..12 s after it (past a pause of a few seconds).
    if first is not None:
        ft = first["time"]
        before = sum(1 for t in inv_times if ft - 5 <= t < ft) / 5.0
        after = sum(1 for t in inv_times if ft + 3 <= t < ft + 12) / 9.0
        tr["rate_before"], tr["rate_after"] = before, after
        # Longest gap between new INVITEs from 1 s before to 20 s after it.
        near = [t for t in inv_times if ft - 1 <= t <= ft + 20]
        gaps = [(b - a, a) for a, b in zip(near, near[1:])]
        if gaps:
            g, at = max(gaps)
            tr["gap_after_first"] = {"seconds": round(g, 3), "from": round(at - ft, 3)}
    res["trunks"][trunk] = tr
json.dump(res, open(out, "w"), indent=1)
PY
}

# lp_plot A.json B.json OUT.png SECONDS: case 1 with and without the
# loop, two panels over the SECONDS of dialing: attempted CPS, 503/s,
# answered/s and the directive limit.
lp_plot() {
	local a=$1 b=$2 png=$3 d
	d=$(mktemp -d "$TB_DIR/plot.XXXXXX")
	python3 - "$a" "$b" "$d" <<'PY' || return 1
import json, sys
a, b, d = sys.argv[1:4]
for tag, path in (("a", a), ("b", b)):
    tr = json.load(open(path))["trunks"]["loop"]
    with open("%s/%s.dat" % (d, tag), "w") as f:
        for s, inv, r503, ok, oth in tr["series"]:
            f.write("%d %d %d %d\n" % (s, inv, r503, ok))
    last = tr["series"][-1][0] if tr["series"] else 0
    with open("%s/%s.lim" % (d, tag), "w") as f:
        steps = tr["limit_steps"]
        for i, (t, lim, dur) in enumerate(steps):
            f.write("%.3f %d\n" % (t, lim))
            nxt = steps[i + 1][0] if i + 1 < len(steps) else last
            f.write("%.3f %d\n" % (nxt, lim))
        if not steps:
            f.write("0 NaN\n")
PY
	gnuplot <<EOF || return 1
set terminal pngcairo size 1000,720 font "sans,10"
set output "$png"
set multiplot layout 2,1
set grid
set key top left opaque box
set xrange [0:$4]
set xlabel "seconds since the dialer started"
set ylabel "per second"
set yrange [0:*]
set title "Open loop: the dialer ramps 15 -> 100 CPS into a carrier that takes 30 (directives not applied)"
plot "$d/a.dat" u 1:2 w steps lw 2 lc rgb "#1f77b4" t "new INVITEs/s", \
     "$d/a.dat" u 1:3 w steps lw 2 lc rgb "#d62728" t "503/s", \
     "$d/a.dat" u 1:4 w steps lw 1 lc rgb "#2ca02c" t "answered/s", \
     "$d/a.lim" u 1:2 w lines lw 2 dt 2 lc rgb "#555555" t "sipguard directive (not applied)", \
     $LP_CPS w lines lw 1 dt 3 lc rgb "black" t "carrier limit"
set key bottom right opaque box
set title "Closed loop: sipguard-ctrl drives the dialer through its SIPp control port"
plot "$d/b.dat" u 1:2 w steps lw 2 lc rgb "#1f77b4" t "new INVITEs/s", \
     "$d/b.dat" u 1:3 w steps lw 2 lc rgb "#d62728" t "503/s", \
     "$d/b.dat" u 1:4 w steps lw 1 lc rgb "#2ca02c" t "answered/s", \
     "$d/b.lim" u 1:2 w lines lw 2 lc rgb "#ff7f0e" t "directive limit (pause = 0)", \
     $LP_CPS w lines lw 1 dt 3 lc rgb "black" t "carrier limit"
unset multiplot
EOF
}

# lp_table A.json B.json: the figures of case 1 as a markdown table.
lp_table() {
	python3 - "$1" "$2" <<'PY'
import json, sys
rows = []
def pct(v):
    return "-" if v is None else "%.1f %%" % (100 * v)
def num(v, f="%.2f"):
    return "-" if v is None else f % v
for name, path in (("A: open loop", sys.argv[1]), ("B: closed loop", sys.argv[2])):
    r = json.load(open(path))
    tr = r["trunks"]["loop"]
    st = tr.get("steady", {})
    fa = tr.get("first_action")
    rows.append([name,
                 str(tr["totals"]["inv"]),
                 pct(tr["share_503"]),
                 num(tr["onset"], "%d s"),
                 "-" if fa is None else "%s %s" % (fa["action"], fa["cause"]),
                 num(tr.get("onset_to_directive_s"), "%.2f s"),
                 num(tr.get("onset_to_pause_s"), "%.2f s"),
                 "-" if not st else "%d..%d s" % (st["from"], st["to"]),
                 num(st.get("attempt_cps"), "%.1f"),
                 pct(st.get("share_503")),
                 num(st.get("answered_cps"), "%.1f"),
                 pct(st.get("used_of_limit")),
                 str(len(tr["directives"]))])
hdr = ["run", "new INVITEs", "503 share (all)", "onset", "first directive",
       "onset -> directive", "onset -> pause", "steady window", "steady attempts/s", "steady 503 share",
       "steady answered/s", "of the 30 CPS limit", "directives"]
print("| " + " | ".join(hdr) + " |")
print("|" + "|".join("---" for _ in hdr) + "|")
for r in rows:
    print("| " + " | ".join(r) + " |")
print()
print("Onset: the first second with at least 3 503s making 10 % of its final answers.")
print("Onset -> directive / pause: the directive's `time` (the end of the 100 ms slot it was")
print("decided in) minus the start of the onset second; the first directive may be a proactive")
print("throttle to the agreed CPS, before the burst. Steady window: from 20 s after the first")
print("directive (run A: the directives it would have applied) to the end of dialing.")
PY
}

# lp_cases A.json B.json: one row per case (run A's open loop, then every
# trunk of run B), as a markdown table.
lp_cases() {
	python3 - "$1" "$2" "$LP_AGREED_LOOP" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
agreed = int(sys.argv[3])
def pct(v):
    return "-" if v is None else "%.1f %%" % (100 * v)
def sec(v):
    return "-" if v is None else "%.2f s" % v
cases = [("ramp into 30 CPS, contract %d, open loop" % agreed, a, "loop"),
         ("ramp into 30 CPS, contract %d" % agreed, b, "loop"),
         ("carrier trouble (5 CPS, 8 % random 503)", b, "trouble"),
         ("Retry-After: 10 (40 CPS into 30)", b, "retry"),
         ("oc=50 loss (20 CPS)", b, "oc"),
         ("concurrency cap 45 calls (4 CPS of 15 s calls)", b, "conc")]
hdr = ["case", "first directive", "first 503 -> directive", "cluster's first 503 -> directive",
       "steady 503 share", "of the real limit used", "directives"]
print("| " + " | ".join(hdr) + " |")
print("|" + "|".join("---" for _ in hdr) + "|")
for name, r, t in cases:
    tr = r["trunks"].get(t)
    if tr is None or tr["totals"]["inv"] == 0:
        continue
    fa = tr.get("first_action")
    if fa is None:
        fa = next((x for x in tr["directives"] if x["action"] == "alert"), None)
    st = tr.get("steady", {})
    print("| " + " | ".join([
        name,
        "-" if fa is None else "%s %s%s" % (fa["action"], fa["cause"],
            ", %s from %s" % (fa.get("duration_s"), fa["duration_from"])
            if fa.get("duration_from") else
            ", %s cps" % fa["cps_limit"] if fa.get("cps_limit") else "") +
            (", <= %d calls" % fa["max_concurrent"] if fa.get("max_concurrent") else ""),
        sec(tr.get("wire503_to_directive_s")),
        sec(tr.get("cluster503_to_directive_s")),
        pct(st.get("share_503")),
        pct(st.get("used_of_limit")),
        str(len(tr["directives"]))]) + " |")
PY
}

# The DPDK runtime files of a prefix, once nothing uses them.
lp_dpdk_clean() {
	local prefix=$1 mnt
	[ -n "$prefix" ] || return 0
	while read -r _ mnt fstype _; do
		[ "$fstype" = hugetlbfs ] || continue
		rm -f "$mnt/${prefix}map_"* 2>/dev/null
	done </proc/mounts
	rm -rf "/var/run/dpdk/$prefix"
}

# Wait until the epoch second S has begun.
lp_sleep_until() {
	local s=$1
	while [ "$(date +%s)" -lt "$s" ]; do
		sleep 0.1
	done
}

# lp_dialers_stop NAME...: stop placing calls, let the calls in flight end
# (a rejected call lingers 4 s for repeated 503s), then make sure.
lp_dialers_stop() {
	local n
	for n in "$@"; do
		lp_dial_stop "$n"
	done
	for n in "$@"; do
		tb_wait "$n" 15 || lp_log "$n did not finish its calls in 15 s"
		tb_stop "$n"
	done
}

# lp_ctl_json OUT CMD...: sipguardctl -j CMD into OUT; a control plane
# starved of CPU may miss the client's deadline, so up to 5 tries.
lp_ctl_json() {
	local out=$1 i
	shift
	for ((i = 0; i < 5; i++)); do
		"$LP_CTL" -s "$TB_DIR/ctrl.sock" -j "$@" >"$out" 2>"$out.err" &&
			jq -e . "$out" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	lp_log "sipguardctl $*: $(head -n 1 "$out.err")"
	return 0
}

# lp_run RUN CONF DIAL CASES: one run of case 1 with sipguard-ctrl on CONF
# (RUN a: open loop, the ramp never yields; RUN b: closed loop, the ramp
# yields to the first directive), captured to $TB_DIR/RUN.pcapng with
# directives in $TB_DIR/RUN.jsonl (the file CONF names). CASES 1 adds, in
# the same run, the trouble, Retry-After and oc dialers. Leaves
# LP_T0_RUN / LP_TEND_RUN (epoch seconds of the dialing span).
lp_run() {
	local run=$1 conf=$2 dial=$3 cases=$4 t0 t yfile="" dialers ramp_args
	dialers=("dial-loop-$run")
	lp_ctrl_up "ctrl-$run" "$conf" || return 1
	lp_capture_start "capture-$run" "$TB_DIR/$run.pcapng" || return 1
	t0=$(($(date +%s) + 3))
	if [ "$cases" = 1 ]; then
		# The trouble carrier fails from 12 s into the run on.
		lp_trouble_up $((t0 + 12)) || return 1
	fi
	lp_sleep_until "$t0"
	[ "$run" = b ] && yfile="$TB_DIR/$run.jsonl"
	lp_dial "dial-loop-$run" "$LP_ADDR_LOOP" 5062 "$LP_CP_LOOP" "$LP_RAMP_FROM" "$dial"
	ramp_args=("$LP_CP_LOOP" "$LP_RAMP_FROM" "$LP_RAMP_STEP" "$LP_RAMP_EVERY" 100 "$dial")
	[ -n "$yfile" ] && ramp_args+=("$yfile" loop)
	# Let sipp bind its control port before the first command.
	sleep 0.3
	lp_ramp "ramp-$run" "${ramp_args[@]}"
	if [ "$cases" = 1 ]; then
		lp_dial "dial-trouble-$run" "$LP_ADDR_TROUBLE" 5064 "$LP_CP_TROUBLE" 5 "$dial"
		lp_dial "dial-retry-$run" "$LP_ADDR_RETRY" 5066 "$LP_CP_RETRY" 40 "$dial"
		lp_dial "dial-oc-$run" "$LP_ADDR_OC" 5068 "$LP_CP_OC" 20 "$dial"
		lp_dial "dial-conc-$run" "$LP_ADDR_CONC" 5070 "$LP_CP_CONC" "$LP_CONC_RATE" "$dial" \
			"$LP_CONC_CALL_MS"
		dialers+=("dial-trouble-$run" "dial-retry-$run" "dial-oc-$run" "dial-conc-$run")
	fi
	lp_log "run $run: ${dial}s of dialing from $t0"
	lp_sleep_until $((t0 + dial))
	LP_TEND=$(date +%s)
	tb_stop "ramp-$run"
	lp_dialers_stop "${dialers[@]}"
	sleep 1
	lp_capture_stop "capture-$run"
	lp_ctl_json "$TB_DIR/$run.directives.json" directives -n 256
	lp_ctl_json "$TB_DIR/$run.status.json" status
	# The last 503 events with the dataplane's packet times, to set
	# beside the capture's timestamps of the same answers.
	lp_ctl_json "$TB_DIR/$run.events.json" events -n 256
	# The control plane's own 1 s series, to set beside the capture's.
	for t in loop trouble retry oc conc; do
		lp_ctl_json "$TB_DIR/$run.trunk-$t.json" trunk "$t"
	done
	tb_stop "ctrl-$run"
	[ "$cases" = 1 ] && tb_stop carrier-trouble
	printf -v "LP_T0_$run" '%s' "$t0"
	printf -v "LP_TEND_$run" '%s' "$LP_TEND"
	return 0
}

#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Fleet, live: three edges share one carrier account through one Redis.
#
#   edge ns 1..3: a SIPp dialer, sipguard (net_af_packet on the edge's
#                 veth) and sipguard-ctrl, whose SIPp adapter drives the
#                 dialer and whose fleet section points at Redis
#   carrier ns:   one Kamailio carrier on 198.51.100.10 taking 30 CPS
#                 (pipelimit; 503 above), the called party (sipp UAS),
#                 dumpcap on the three veths
#   root ns:      redis-server (Debian package) on a unix socket only, an
#                 ACL user for the edges, the default user off
#
# The account's limit is 30 CPS on every edge. Phases: the three dialers
# run (A), dialer 3 stops (B), Redis is killed (C) and started again (D).
#
# Checked: every edge joins; the sum of the limits the three edges give
# their dialers (from their directives files) is never above the budget
# they report (30 less `fleet.headroom`), let alone 30; the
# shares of edges 1 and 2 grow and edge 3's shrinks after dialer 3 stops
# (how fast is a figure, not a check);
# with Redis gone every edge raises exactly one fleet-fallback alert (any
# other, from rounds that overran on a starved box, is reported) and
# keeps within its static share (budget / 3), nothing crashes; each edge
# clears its alert within 5 s of Redis coming back; each edge's count of
# new INVITEs equals tshark's of the capture (no local count lost); the
# steady 503 share of the three dialers is under 25 % (a fleet that did
# not share would see two thirds refused; the figure itself is printed).
# Figures (steady 503 share of the fleet and how its 503s fall per
# second, share of the 30 CPS used, the dialers' pacing on the wire, how
# fast the shares moved) are printed and go to fleet.md in the work
# directory; the use and the exact 503 share are not checked (a starved
# box stalls the dialers and the carrier's one-second timer themselves).
#
# Environment:
#   SIPGUARD   sipguard binary (default build/dataplane/sipguard);
#              sipguard-ctrl and sipguardctl from the same build
#   HEADROOM   fleet.headroom on every edge, to measure another value
#              (default: the key left out, the product's default)
#   CARRIER_NICE  run the carrier's Kamailio at this nice value (e.g. -10),
#              to tell the carrier's own lateness from the fleet's
#              (default: not reniced)
#   KEEP=1     keep the work directory (also kept on failure)
# Exit: 0 pass, 1 fail, 77 skip.

# Checks are functions run through check(), not unreachable code.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SG=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$SG")")
CTRL=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
CTL=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
time_limit=300
LIMIT=30
PW=fleet-test-pw
# phase lengths, seconds
PH_A=30
PH_B=15
PH_C=12
PH_D=12

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"

live_needs "$SG" "$CTRL" "$CTL" -- sipp kamailio dumpcap tshark redis-server redis-cli jq python3 ip ethtool
grep -qs ' hugetlbfs ' /proc/mounts || skip "no hugetlbfs mounted: run scripts/setup"
hp_free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
[ "${hp_free:-0}" -ge 384 ] ||
	skip "three dataplanes need hugepages: ${hp_free:-0} free, 384 wanted (scripts/setup)"
python3 -c 'import os, sys; sys.exit(0 if {0, 1} <= os.sched_getaffinity(0) else 1)' ||
	skip "dataplane.lcores maps onto CPUs 0 and 1: both must be available"

ID="sgf$(printf '%05x' $(((($$ * 7919) + RANDOM) % 1048576)))"
DIR=$(mktemp -d "/tmp/$ID.XXXXXX")
NS_C="${ID}c"
CARRIER=198.51.100.10
UAS=198.51.100.200
t_start=$SECONDS
watchdog=

log() {
	echo "fleet: $*" >&2
}

ns_edge() {
	echo "${ID}e$1"
}

# spawn NS NAME cmd...: in the background, output to $DIR/NAME.log.
spawn() {
	local ns=$1 name=$2
	shift 2
	if [ "$ns" = - ]; then
		"$@" </dev/null >"$DIR/$name.log" 2>&1 &
	else
		ip netns exec "$ns" "$@" </dev/null >"$DIR/$name.log" 2>&1 &
	fi
	echo $! >"$DIR/$name.pid"
}

pid_of() {
	cat "$DIR/$1.pid" 2>/dev/null
}

alive() {
	local p
	p=$(pid_of "$1") || return 1
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null
}

stop() {
	local name=$1 sig=${2:-TERM} p i
	p=$(pid_of "$name") || return 0
	[ -n "$p" ] || return 0
	if kill -0 "$p" 2>/dev/null; then
		kill -s "$sig" "$p" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	fi
	wait "$p" 2>/dev/null || true
	rm -f "$DIR/$name.pid"
}

dpdk_clean() {
	local prefix=$1 mnt
	while read -r _ mnt fstype _; do
		[ "$fstype" = hugetlbfs ] || continue
		rm -f "$mnt/${prefix}map_"* 2>/dev/null
	done </proc/mounts
	rm -rf "/var/run/dpdk/$prefix"
}

cleanup() {
	local rc=$? f n pids i
	trap - EXIT INT TERM
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null && wait "$watchdog" 2>/dev/null
	for f in "$DIR"/*.pid; do
		[ -e "$f" ] || continue
		stop "$(basename "$f" .pid)"
	done
	for n in "$NS_C" "$(ns_edge 1)" "$(ns_edge 2)" "$(ns_edge 3)"; do
		pids=$(ip netns pids "$n" 2>/dev/null || true)
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
		ip netns del "$n" 2>/dev/null || true
	done
	for i in 1 2 3; do
		dpdk_clean "${ID}e$i"
	done
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
		echo "fleet: logs and captures in $DIR"
	else
		rm -rf "$DIR"
	fi
	exit "$rc"
}
check_run fleet "$time_limit"

# --- namespaces: edge i on 192.0.2.(16i+2)/28, the carrier's end .(16i+1) ---
bed_up() {
	local i e a c
	ip netns add "$NS_C" || return 1
	ip -n "$NS_C" link set lo up
	ip -n "$NS_C" addr add "$CARRIER/32" dev lo
	ip -n "$NS_C" addr add "$UAS/32" dev lo
	for i in 1 2 3; do
		e=$(ns_edge "$i")
		a=192.0.2.$((16 * i + 2))
		c=192.0.2.$((16 * i + 1))
		ip netns add "$e" || return 1
		ip -n "$e" link set lo up
		ip link add "${ID}e${i}0" netns "$e" type veth peer name "${ID}c${i}" netns "$NS_C" ||
			return 1
		ip -n "$e" addr add "$a/28" dev "${ID}e${i}0"
		ip -n "$NS_C" addr add "$c/28" dev "${ID}c${i}"
		for n in "$e:${ID}e${i}0" "$NS_C:${ID}c${i}"; do
			ip netns exec "${n%%:*}" ethtool -K "${n#*:}" rx off tx off gro off gso off \
				tso off >/dev/null 2>&1 || true
		done
		ip -n "$e" link set "${ID}e${i}0" up
		ip -n "$NS_C" link set "${ID}c${i}" up
		ip -n "$e" route add 198.51.100.0/24 via "$c"
	done
	for i in 1 2 3; do
		for n in 1 2 3 4 5 6 7 8 9 10; do
			ip netns exec "$(ns_edge "$i")" ping -c1 -W1 "$CARRIER" >/dev/null 2>&1 && break
			[ "$n" = 10 ] && return 1
			sleep 0.5
		done
	done
	log "up: $NS_C and three edges (work dir $DIR)"
}

redis_up() {
	local i
	rm -f "$DIR/redis.sock"
	spawn - redis redis-server --port 0 --unixsocket "$DIR/redis.sock" --unixsocketperm 700 \
		--save "" --appendonly no --dir "$DIR" --protected-mode yes \
		--user default off \
		--user sipguard on ">$PW" "~sipguard:*" +hset +hgetall +hdel +expire +evalsha \
		"+script|load"
	for ((i = 0; i < 100; i++)); do
		[ -S "$DIR/redis.sock" ] && return 0
		alive redis || break
		sleep 0.1
	done
	log "redis-server did not start: $(tail -n 3 "$DIR/redis.log")"
	return 1
}

carrier_up() {
	sed -e "s|@NAME@|acme|g" -e "s|@LISTEN_IP@|$CARRIER|g" -e "s|@LISTEN_PORT@|5060|g" \
		-e "s|@CPS@|$LIMIT|g" -e "s|@RETRY_AFTER@|0|g" -e "s|@TROUBLE_PCT@|0|g" \
		-e "s|@TROUBLE_FROM@|0|g" -e "s|@UAS_IP@|$UAS|g" -e "s|@UAS_PORT@|5090|g" \
		"$here/carrier-loop.cfg.in" >"$DIR/carrier.cfg"
	mkdir -p "$DIR/run-carrier"
	spawn "$NS_C" carrier ${CARRIER_NICE:+nice -n "$CARRIER_NICE"} kamailio -f "$DIR/carrier.cfg" -DD -E -m 64 -M 8 \
		-Y "$DIR/run-carrier" -P "$DIR/run-carrier/kamailio.pid" -w "$DIR"
	spawn "$NS_C" uas sipp -sn uas -i "$UAS" -p 5090 -nostdin -timeout 400
	for ((i = 0; i < 50; i++)); do
		ss_out=$(ip netns exec "$NS_C" ss -Hlnu)
		grep -q "$CARRIER:5060" <<<"$ss_out" && grep -q "$UAS:5090" <<<"$ss_out" && return 0
		sleep 0.2
	done
	log "carrier not listening: $(tail -n 5 "$DIR/carrier.log")"
	return 1
}

# edge_conf I: the edge's config; trunk "acme-trunk" shares account "acme".
edge_conf() {
	local i=$1
	cat >"$DIR/edge$i.conf" <<EOF
# fleet test edge $i ($ID)
dataplane = {
  sip_ports = [ 5060 ];
  lcores = "0@0,1@1";
  file_prefix = "${ID}e$i";
  mbufs = 4095;
  retrans_entries = 16384;
  dialog_entries = 16384;
  ring_size = 1024;
};
ctrl = { socket = "$DIR/ctrl$i.sock"; cpu = 0; };
ports = ( { devargs = "net_af_packet0,iface=${ID}e${i}0,qpairs=1,framecnt=4096"; rx_queues = 1; } );
directives = { file = "$DIR/edge$i.jsonl"; };
fleet = {
  redis = "$DIR/redis.sock";
  user = "sipguard";
  password = "$PW";
  edge = "edge$i";
  ttl = 5;
  expected_edges = 3;${HEADROOM:+
  headroom = $HEADROOM;}
};
sipp = ( { trunk = "acme-trunk"; address = "127.0.0.1"; port = 8870; } );
trunks = (
  { name = "acme-trunk"; prefixes = [ "$CARRIER/32" ]; cps = $LIMIT; max_concurrent = 2000;
    account = "acme"; }
);
EOF
}

dataplane_up() {
	local i=$1 n
	spawn "$(ns_edge "$i")" "sipguard$i" "$SG" -c "$DIR/edge$i.conf"
	for ((n = 0; n < 150; n++)); do
		grep -q "^sipguard: running" "$DIR/sipguard$i.log" && return 0
		alive "sipguard$i" || break
		sleep 0.2
	done
	log "sipguard $i did not start: $(tail -n 5 "$DIR/sipguard$i.log")"
	return 1
}

ctrl_up() {
	local i=$1 n
	spawn "$(ns_edge "$i")" "ctrl$i" "$CTRL" -c "$DIR/edge$i.conf" --wait
	for ((n = 0; n < 100; n++)); do
		"$CTL" -s "$DIR/ctrl$i.sock" status >/dev/null 2>&1 && return 0
		alive "ctrl$i" || break
		sleep 0.2
	done
	log "sipguard-ctrl $i did not start: $(tail -n 5 "$DIR/ctrl$i.log")"
	return 1
}

# A dialer at 1 CPS until its edge's adapter sets the rate.
dial() {
	local i=$1
	spawn "$(ns_edge "$i")" "dial$i" sipp -sf "$here/uac.xml" -s carrier -nostdin -t u1 \
		-i "192.0.2.$((16 * i + 2))" -p 5062 -ci 127.0.0.1 -cp 8870 -r 1 -l 5000 \
		-m 1000000 -d 500 -timeout 300 -timeout_error "$CARRIER:5060"
}

# Every 0.5 s, each edge's `sipguardctl -j fleet` as one line: "EPOCH I JSON".
sampler() {
	local i
	while :; do
		for i in 1 2 3; do
			printf '%s %s %s\n' "$EPOCHREALTIME" "$i" \
				"$("$CTL" -s "$DIR/ctrl$i.sock" -j fleet 2>/dev/null | jq -c . 2>/dev/null)"
		done
		sleep 0.5
	done
}

mark() {
	printf '%s %s\n' "$1" "$EPOCHREALTIME" >>"$DIR/phases"
	log "$1"
}

# --- run ---------------------------------------------------------------------
bed_up || abort "test bed did not come up"
redis_up || abort "redis-server did not start"
carrier_up || abort "carrier did not start"
for i in 1 2 3; do
	edge_conf "$i"
	dataplane_up "$i" || abort "sipguard $i did not start"
done
spawn "$NS_C" capture dumpcap -q -i "${ID}c1" -i "${ID}c2" -i "${ID}c3" -w "$DIR/fleet.pcapng"
for ((n = 0; n < 50; n++)); do
	grep -q "Capturing on" "$DIR/capture.log" 2>/dev/null && [ -s "$DIR/fleet.pcapng" ] && break
	sleep 0.1
done
for i in 1 2 3; do
	dial "$i"
done
sleep 0.5
for i in 1 2 3; do
	ctrl_up "$i" || abort "sipguard-ctrl $i did not start"
done
# its lines go to sampler.log
spawn - sampler bash -c "$(declare -f sampler); CTL='$CTL' DIR='$DIR' sampler"
mark A
sleep "$PH_A"
mark B
kill -USR1 "$(pid_of dial3)" 2>/dev/null
sleep "$PH_B"
mark C
stop redis KILL
sleep "$PH_C"
mark D
redis_up || abort "redis-server did not start again"
sleep "$PH_D"
mark END
for i in 1 2; do
	kill -USR1 "$(pid_of "dial$i")" 2>/dev/null
done
sleep 6
stop sampler
for i in 1 2 3; do
	stop "dial$i"
done
sleep 2
stop capture INT
alive_all=1
for i in 1 2 3; do
	alive "ctrl$i" || alive_all=0
	alive "sipguard$i" || alive_all=0
	"$CTL" -s "$DIR/ctrl$i.sock" -j totals >"$DIR/totals$i.json" 2>/dev/null
	"$CTL" -s "$DIR/ctrl$i.sock" fleet >"$DIR/fleet$i.txt" 2>/dev/null
done
check "no sipguard or sipguard-ctrl exited during the run" [ "$alive_all" = 1 ]

# --- measure -------------------------------------------------------------------
tshark -r "$DIR/fleet.pcapng" -n -Y 'sip.CSeq.method == "INVITE"' -T fields -E separator=/t \
	-e frame.time_epoch -e ip.src -e ip.dst -e sip.Method -e sip.Status-Code -e sip.Call-ID \
	>"$DIR/fleet.tsv" 2>"$DIR/tshark.err" || abort "tshark failed: $(head -n 2 "$DIR/tshark.err")"

python3 - "$DIR" "$LIMIT" <<'PY' >"$DIR/fleet.json" || abort "could not measure"
import json, sys, glob
d, limit = sys.argv[1], int(sys.argv[2])
ph = {}
for line in open(d + "/phases"):
    k, t = line.split()
    ph[k] = float(t)
edge_of = {"192.0.2.%d" % (16 * i + 2): i for i in (1, 2, 3)}
inv, fin = {}, {}
r503_ids = set()
per = {}   # (edge, second) -> [inv, 503, 2xx, other]
for line in open(d + "/fleet.tsv"):
    f = line.rstrip("\n").split("\t")
    if len(f) < 6 or not f[0]:
        continue
    t, src, dst, m, st, cid = float(f[0]), f[1], f[2], f[3], f[4], f[5]
    if m == "INVITE" and src in edge_of:
        e = edge_of[src]
        if (e, cid) not in inv:
            inv[(e, cid)] = t
            per.setdefault((e, int(t)), [0, 0, 0, 0])[0] += 1
    elif st and dst in edge_of:
        e = edge_of[dst]
        code = int(st.split(",")[0])
        if code >= 200 and (e, cid) not in fin:
            fin[(e, cid)] = t
            k = 1 if code == 503 else 2 if code < 300 else 3
            if code == 503:
                r503_ids.add(cid)
            per.setdefault((e, int(t)), [0, 0, 0, 0])[k] += 1
res = {"phases": ph, "limit": limit}
res["invites"] = {str(e): sum(1 for (x, _) in inv if x == e) for e in (1, 2, 3)}

def window(a, b, edges=(1, 2, 3)):
    secs = [s for s in range(int(a), int(b))]
    tot = [0, 0, 0, 0]
    for e in edges:
        for s in secs:
            for k, v in enumerate(per.get((e, s), [0, 0, 0, 0])):
                tot[k] += v
    n = len(secs)
    fins = tot[1] + tot[2] + tot[3]
    return {"seconds": n, "attempt_cps": tot[0] / n if n else None,
            "share_503": tot[1] / fins if fins else None,
            "answered_cps": tot[2] / n if n else None,
            "used_of_limit": tot[2] / n / limit if n else None}
# steady: from 10 s into phase A to its end
res["steady_A"] = window(ph["A"] + 10, ph["B"])
# where the steady 503s fall: seconds that hold any, the most in one
secs_A = range(int(ph["A"] + 10), int(ph["B"]))
r503_A = [sum(per.get((e, s), [0, 0])[1] for e in (1, 2, 3)) for s in secs_A]
res["steady_A_503_seconds"] = sum(1 for x in r503_A if x > 0)
res["steady_A_503_max_per_s"] = max(r503_A or [0])
# the dialers' pacing on the wire: the most new INVITEs of the three in
# any 1 s (sliding), against the sum of their limits
ts_A = sorted(t for t in inv.values() if ph["A"] + 10 <= t < ph["B"])
most, j = 0, 0
for i, t in enumerate(ts_A):
    while ts_A[j] < t - 1.0:
        j += 1
    most = max(most, i - j + 1)
res["steady_A_most_in_1s"] = most
# Each steady 503 by what the wire held in the second before it: more
# new INVITEs of the three than the limit means the dialers overran it;
# at most the limit means the carrier's one-second window ran long (its
# timer late on a starved box), which no share can prevent.
all_inv = sorted(inv.values())
over = late = 0
for (e, cid), t in fin.items():
    if not (ph["A"] + 10 <= t < ph["B"]):
        continue
    if cid not in r503_ids:
        continue
    n = sum(1 for u in all_inv if t - 1.0 <= u <= t)
    if n > limit:
        over += 1
    else:
        late += 1
res["steady_A_503_over_limit_on_wire"] = over
res["steady_A_503_within_limit_on_wire"] = late
res["steady_B"] = window(ph["B"] + 6, ph["C"])
res["answered_A"] = {str(e): window(ph["A"] + 10, ph["B"], (e,))["answered_cps"] for e in (1, 2, 3)}

# the limit each edge gave its dialer over time, from its directives file
ev = []
dirs = {}
for e in (1, 2, 3):
    dirs[e] = [json.loads(l) for l in open("%s/edge%d.jsonl" % (d, e)) if l.strip()]
    for x in dirs[e]:
        if x["action"] in ("throttle", "resume"):
            ev.append((x["time"], e, x["cps_limit"]))
        elif x["action"] == "pause":
            ev.append((x["time"], e, 0))
ev.sort()
# From each edge's first directive: before it the dialer is not the edge's
# yet. A fall and a rise stamped within 50 ms of each other count as
# simultaneous: the claims in Redis ordered them, the stamps (taken when
# each edge read its answer) may not.
def value(e, t):
    v = 0
    for u, x, l in ev:
        if u > t + 0.05:
            break
        if x != e:
            continue
        if u <= t or l < v:
            v = l
    return v
worst, worst_at = 0, None
for t, e, l in ev:
    s = sum(value(x, t) for x in (1, 2, 3))
    if s > worst:
        worst, worst_at = s, t
res["limit_sum_max"] = worst
res["limit_sum_max_at"] = worst_at
res["directives"] = {str(e): len(dirs[e]) for e in dirs}
def fleet_dirs(e, action):
    return [x["time"] for x in dirs[e] if x["action"] == action and x["cause"] == "fleet-fallback"]
res["alerts"] = {str(e): fleet_dirs(e, "alert") for e in dirs}
# the outage's: from Redis killed to 5 s after it is back; others are a
# starved box's rounds overrunning round_timeout, reported
res["alerts_outage"] = {e: [t for t in a if ph["C"] <= t <= ph["D"] + 5] for e, a in res["alerts"].items()}
res["alerts_elsewhere"] = {e: [t for t in a if not ph["C"] <= t <= ph["D"] + 5]
                           for e, a in res["alerts"].items()}
res["clears"] = {str(e): fleet_dirs(e, "clear") for e in dirs}
# in fallback: from the second after the last edge's alert to Redis' return
al = [t for e in dirs for t in fleet_dirs(e, "alert") if ph["C"] <= t < ph["D"]]
fb0 = int(max(al)) + 2 if al else int(ph["C"]) + 3
res["fallback_C"] = window(fb0, ph["D"])
res["rate_C_max"] = {str(e): max([per.get((e, s), [0])[0] for s in range(fb0, int(ph["D"]))] or [0])
                     for e in (1, 2, 3)}
res["clear_after_restart_s"] = {str(e): (min(c) - ph["D"] if c else None)
                                for e, c in ((e, [t for t in fleet_dirs(e, "clear") if t >= ph["D"] - 1]) for e in dirs)}

# the sampler: mode and share per edge over time
samples = []
budgets = set()
for line in open(d + "/sampler.log"):
    p = line.split(" ", 2)
    if len(p) < 3 or not p[2].strip() or p[2].strip() == "null":
        continue
    try:
        j = json.loads(p[2])
    except ValueError:
        continue
    if not j.get("accounts"):
        continue
    samples.append((float(p[0]), int(p[1]), j["mode"], j["accounts"][0]["share_cps"],
                    j["accounts"][0]["known_edges"]))
    budgets.add(j["accounts"][0].get("budget_cps", limit))
res["joined"] = {str(e): any(m == "joined" and t < ph["B"] for t, x, m, _, _ in samples if x == e)
                 for e in (1, 2, 3)}
def share_at(e, a, b):
    v = [s for t, x, m, s, _ in samples if x == e and a <= t < b]
    return v
res["share_A_end"] = {str(e): share_at(e, ph["B"] - 3, ph["B"]) for e in (1, 2, 3)}
res["share_B_end"] = {str(e): share_at(e, ph["C"] - 3, ph["C"]) for e in (1, 2, 3)}
# how long after dialer 3 stopped until edges 1 and 2 held >= 13 each and edge 3 <= 3
moved = None
last = {}
for t, x, m, s, _ in samples:
    last[x] = s
    if t >= ph["B"] and len(last) == 3 and last[1] >= 13 and last[2] >= 13 and last[3] <= 3:
        moved = t - ph["B"]
        break
res["shares_moved_s"] = moved
res["fallback_share_max"] = {
    str(e): max([s for t, x, m, s, _ in samples if x == e and m == "fallback"] or [-1])
    for e in (1, 2, 3)}
res["fallback_seen"] = {str(e): any(m == "fallback" for t, x, m, s, _ in samples if x == e) for e in (1, 2, 3)}
res["joined_after_D"] = {str(e): any(m == "joined" and t > ph["D"] for t, x, m, s, _ in samples if x == e)
                         for e in (1, 2, 3)}
# the budget every edge reported (one value: the same config everywhere)
res["budget"] = min(budgets) if budgets else None
res["budgets_seen"] = sorted(budgets)
# policy directives besides the shares and the fallback alerts
res["policy_directives"] = {str(e): [[x["time"], x["action"], x["cause"]] for x in dirs[e]
                                     if x["cause"] not in ("fleet-share", "fleet-fallback")]
                            for e in dirs}
json.dump(res, sys.stdout, indent=1)
PY

f="$DIR/fleet.json"
jqb() {
	jq -e "$1" "$f" >/dev/null
}
note "invites (tshark): $(jq -c .invites "$f")"
note "steady A (3 dialers): $(jq -c .steady_A "$f")"
note "steady A: 503s in $(jq .steady_A_503_seconds "$f") of $(jq .steady_A.seconds "$f") s, at most $(jq .steady_A_503_max_per_s "$f") in one; at most $(jq .steady_A_most_in_1s "$f") new INVITEs in any 1 s on the wire; budget $(jq -c .budgets_seen "$f") CPS"
note "steady A 503s with more than $LIMIT new INVITEs on the wire in the second before: $(jq .steady_A_503_over_limit_on_wire "$f"), with at most $LIMIT (the carrier's window ran long): $(jq .steady_A_503_within_limit_on_wire "$f")"
note "policy directives besides shares and fallback: $(jq -c .policy_directives "$f")"
note "steady B (dialer 3 stopped): $(jq -c .steady_B "$f")"
note "fallback C: $(jq -c .fallback_C "$f"), max new INVITEs/s per edge $(jq -c .rate_C_max "$f")"
note "shares at the end of A $(jq -c .share_A_end "$f"), of B $(jq -c .share_B_end "$f")"
note "sum of the edges' limits at most $(jq .limit_sum_max "$f"); shares moved in $(jq .shares_moved_s "$f") s"
note "alerts $(jq -c .alerts "$f"); clears $(jq -c .clears "$f"); clear after restart $(jq -c .clear_after_restart_s "$f") s"

check "every edge joined the fleet" jqb '[.joined[]] | all'
check "every edge reported one budget, at most $LIMIT CPS" \
	jqb ".budgets_seen | length == 1 and .[0] <= $LIMIT and .[0] > 0"
check "the sum of the limits the three edges gave their dialers was never above the budget" \
	jqb ".limit_sum_max <= .budget"
# The use of the 30 CPS and the exact 503 share are figures, as in
# test_closed_loop.sh: on a starved box the dialers and the carrier's
# timer themselves stall. The bound is what no working fleet comes near:
# without shares the three dialers would see two thirds refused.
check "phase A: the carrier answered calls of all three edges" \
	jqb '.steady_A.answered_cps > 0 and ([.answered_A[] | . > 0] | all)'
check "phase A: steady 503 share of the three dialers under 25 %" \
	jqb '.steady_A.share_503 != null and .steady_A.share_503 < 0.25'
# How fast and how steadily is reported, not held to a time: a starved
# box stalls the dialers themselves now and then, and the shares follow.
check "dialer 3 stopped: the shares followed (edges 1 and 2 >= 13 CPS each, edge 3 <= 3)" \
	jqb '.shares_moved_s != null'
check "Redis killed: every edge went to fallback" jqb '[.fallback_seen[]] | all'
check "Redis killed: exactly one fleet-fallback alert per edge during the outage" \
	jqb '[.alerts_outage[] | length == 1] | all'
# $s is jq's, not the shell's
# shellcheck disable=SC2016
check "fallback: every edge's share at most the budget / 3" \
	jqb '(.budget / 3 | floor) as $s | [.fallback_share_max[] | . <= $s] | all'
# A starved SIPp catching up moves a call or two into the next second.
# shellcheck disable=SC2016
check "fallback: no edge dialed above its static share (+2 calls of jitter)" \
	jqb '(.budget / 3 | floor) as $s | [.rate_C_max[] | . <= $s + 2] | all'
check "Redis restarted: every edge cleared its alert within 5 s and joined again" \
	jqb '([.clear_after_restart_s[] | . != null and . <= 5] | all) and ([.joined_after_D[]] | all)'

# No local count lost: each edge's new INVITEs as sipguard-ctrl counts them
# are tshark's on the edge's link.
counts_exact() {
	local i ok=0 s t
	for i in 1 2 3; do
		s=$(jq '.trunks["acme-trunk"].invite_attempts' "$DIR/totals$i.json")
		t=$(jq ".invites[\"$i\"]" "$f")
		note "edge $i: sipguard $s new INVITEs, tshark $t"
		[ "$s" = "$t" ] || ok=1
	done
	return "$ok"
}
check "every edge's new INVITE count equals tshark's (nothing lost through the outage)" counts_exact

{
	echo "# Fleet test figures ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
	echo
	echo '```'
	jq . "$f"
	echo '```'
} >"$DIR/fleet.md"
finish

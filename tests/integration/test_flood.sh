#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A flood of calls with unique Call-IDs into the live dataplane, with tables
# far too small for it (scripts/lib/flood.sh, flood_gen.py): 4,096
# retransmission and 4,096 dialog entries against 200,000 new identities a
# pass. tcpreplay writes the capture into one end of a veth pair, sipguard
# reads the other end through net_af_packet (one worker lcore), and
# sipguard-ctrl publishes every 100 ms.
#
# 1. Top speed (tcpreplay --topspeed, FLOOD_TOP_SECONDS): the rate the bed
#    reaches. Every frame must be received or counted as missed; what was
#    received must add up (messages per trunk = packets per lcore), and a
#    1 s stall of the dataplane in the middle must show up as missed frames.
# 2. Sustained (a second capture with other Call-IDs at half the rate the
#    dataplane absorbed at top speed, FLOOD_SECONDS): no frame missed,
#    and the per-trunk totals are exactly the generator's counts for the
#    frames sent.
# 3. Hostile reassembly traffic (hostile_gen.py: tiny, never completed and
#    overlapping IPv4/IPv6 fragments, TCP flows that never finish a
#    message, segments far beyond the window) at a quarter of that rate,
#    alongside new calls at another quarter (FLOOD_HOSTILE_SECONDS): no
#    frame missed but the IPv4 fragments af_packet's fanout hands to the
#    kernel's reassembly (exactly those), the calls' per-trunk totals
#    exactly the generator's,
#    not one message out of the hostile traffic, and its losses counted
#    by reason while the tables stay at their size.
# Throughout, VmRSS and VmHWM of both processes are sampled every second
# and must stay flat after warm-up, the tables must stay at their size
# (one eviction per new identity, exactly; concurrent calls =
# dialog capacity), and every 5xx final must be an event or a counted drop.
#
# Environment: SIPGUARD (sipguard-ctrl and sipguardctl from the same
# build), FLOOD_SECONDS (sustained, default 45, 20..120), FLOOD_TOP_SECONDS
# (default 12, 6..60), FLOOD_RSS_KIB (growth bound, default 4096),
# FLOOD_STALL=0 to leave out the stall, KEEP=1 to keep the work directory.
# Exit: 0 pass, 1 fail, 77 skip.

# Checks are functions run through fl_check.
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
FL_SIPGUARD=${SIPGUARD:-$root/build/dataplane/sipguard}
bin=$(dirname "$(dirname "$FL_SIPGUARD")")
FL_CTRL=${SIPGUARD_CTRL:-$bin/ctrl/sipguard-ctrl}
FL_CTL=${SIPGUARDCTL:-$bin/ctrl/sipguardctl}
sustain=${FLOOD_SECONDS:-45}
hostile=${FLOOD_HOSTILE_SECONDS:-20}
top=${FLOOD_TOP_SECONDS:-12}
rss_bound=${FLOOD_RSS_KIB:-4096}
stall=${FLOOD_STALL:-1}
gen=$here/flood_gen.py
capacity=4096
warmup=5

# shellcheck source=scripts/lib/flood.sh
. "$root/scripts/lib/flood.sh"

fl_preflight 128
case "$sustain$top$rss_bound" in
*[!0-9]*) fl_skip "FLOOD_SECONDS, FLOOD_TOP_SECONDS and FLOOD_RSS_KIB are numbers" ;;
esac
if [ "$sustain" -lt 20 ] || [ "$sustain" -gt 120 ]; then
	fl_skip "FLOOD_SECONDS must be 20..120"
fi
if [ "$top" -lt 6 ] || [ "$top" -gt 60 ]; then
	fl_skip "FLOOD_TOP_SECONDS must be 6..60"
fi

fl_init
sampler=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null
	[ -n "${FL_WATCHDOG:-}" ] && kill "$FL_WATCHDOG" 2>/dev/null && wait "$FL_WATCHDOG" 2>/dev/null
	fl_down
	if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
		echo "flood: logs in $FL_DIR" >&2
	else
		rm -rf "$FL_DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "FAIL time limit reached"; FL_FAILED=$((FL_FAILED + 1)); fl_finish' TERM
fl_watchdog $((2 * sustain + top + hostile + 150))
t_start=$SECONDS

# The top-speed capture; the sustained one, with other Call-IDs, is made
# once its rate is known (below).
gen_args=(--trunks 4)
python3 "$gen" write "$FL_DIR/top.pcap" "$FL_DIR/top.json" "${gen_args[@]}" --calls 100000 \
	--seed 1 || fl_abort "the generator failed"

fl_up || fl_abort "the veth pair did not come up"
conf=$FL_DIR/flood.conf
fl_conf "$conf" "0@0,1@1" 1 "retrans_entries = $capacity; retrans_window = 3600;
  dialog_entries = $capacity; dialog_timeout = 86400;" "${gen_args[@]}"
fl_start_dataplane "$conf" || fl_abort "sipguard did not start"
fl_start_ctrl "$conf"
fl_ctl_ready 30 || {
	tail -n 5 "$FL_DIR/ctrl.log"
	fl_abort "sipguard-ctrl did not answer"
}
sg=$(fl_pid sipguard)
ctrl_pid=$(fl_pid ctrl)

# One line a second: seconds, RSS and HWM of both, then the status.
sample() {
	local t0=$SECONDS
	while :; do
		echo "$((SECONDS - t0)) $(fl_rss "$sg") $(fl_hwm "$sg") $(fl_rss "$ctrl_pid")" \
			"$(fl_hwm "$ctrl_pid") $(fl_hugefiles "$FL_ID")" >>"$FL_DIR/mem.txt"
		fl_ctl -j status 2>/dev/null | jq -c . >>"$FL_DIR/status.jsonl" 2>/dev/null
		sleep 1
	done
}
sample &
sampler=$!

# The per-trunk totals gained between two `sipguardctl -j totals` files.
totals_delta() {
	python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def sub(x, y):
    out = {}
    for k, v in x.items():
        if isinstance(v, dict):
            m = {c: n - y.get(k, {}).get(c, 0) for c, n in v.items()}
            out[k] = {c: n for c, n in m.items() if n != 0}
        else:
            out[k] = v - y.get(k, 0)
    return out
units = {t: sub(b["trunks"][t], a["trunks"].get(t, {})) for t in b["trunks"]}
json.dump({"trunks": units, "unmatched": sub(b["unmatched"], a["unmatched"])}, sys.stdout)
PY
}

# The counters once the link is quiet and the last publication has landed.
settle() {
	fl_quiet 1 20 || fl_note "the link did not fall quiet"
	sleep 0.5
	fl_ctl -j status >"$FL_DIR/status-$1.json" &&
		fl_ctl -j totals >"$FL_DIR/totals-$1.json" &&
		fl_ctl -j trunks >"$FL_DIR/trunks-$1.json"
}

# --- 1. top speed ---------------------------------------------------------
echo "flood: top speed for ${top}s"
r0=$(fl_rx_frames)
fl_replay top 0 --topspeed -K --loop=0 --duration="$top" "$FL_DIR/top.pcap"
if [ "$stall" = 1 ]; then
	sleep $((top / 2))
	# The dataplane stops reading for a second: its af_packet ring
	# overflows and the kernel drops what does not fit.
	kill -STOP "$sg" && sleep 1 && kill -CONT "$sg"
fi
fl_wait top $((top + 30)) || fl_abort "tcpreplay did not finish"
settle top || fl_abort "sipguardctl did not answer after the top-speed phase"
r1=$(fl_rx_frames)
top_sent=$(fl_replay_sent top)
top_pps=$(fl_replay_pps top)
top_secs=$(fl_replay_secs top)
top_rx=$(jq '[.ports[].rx] | add' "$FL_DIR/status-top.json")
top_missed=$(jq '[.ports[].missed] | add' "$FL_DIR/status-top.json")
echo "flood: top speed: tcpreplay $top_sent frames in $top_secs s ($top_pps pps);" \
	"veth $((r1 - r0)); port rx $top_rx, missed $top_missed;" \
	"lost in the kernel $((r1 - r0 - top_rx - top_missed))"
fl_check "sipguard runs after the top-speed flood" fl_alive sipguard
fl_check "the receiving end got every frame tcpreplay sent ($top_sent)" \
	test "$((r1 - r0))" = "${top_sent:-x}"
fl_check "port rx + missed = frames on the link (rx $top_rx + missed $top_missed)" \
	test "$((top_rx + top_missed))" = "$((r1 - r0))"
# Whatever was lost, what was received is accounted for: each frame is one
# SIP message on a trunk.
received_adds_up() {
	jq -e -s '([.[0].trunks[] | ((.requests | add // 0) + (.responses | add // 0))] | add)
		== ([.[1].lcores[].packets] | add) and
		([.[1].lcores[].packets] | add) == ([.[1].ports[].rx] | add) and
		(.[0].unmatched.requests | length) == 0' \
		"$FL_DIR/totals-top.json" "$FL_DIR/status-top.json" >/dev/null
}
fl_check "messages on the trunks = lcore packets = port rx" received_adds_up

# --- 2. sustained -----------------------------------------------------------
# Half of what the dataplane took in per second at top speed (less the
# stall), at most half tcpreplay's top rate. The bed shares two CPUs with
# whatever else runs: if frames are lost all the same, the rate is halved
# once more and the phase run again with new Call-IDs; the run that counts
# must lose nothing.
pps=$(python3 -c 'import sys
rx, stall = int(sys.argv[1]), int(sys.argv[3])
secs, pps = float(sys.argv[2] or 0), float(sys.argv[4] or 0)
r = rx / max(secs - stall, 1) * 0.5
print(int(max(min(r, pps * 0.5), 1000)))' "$top_rx" "$top_secs" "$stall" "$top_pps")
base=top
r1_base=$r1
for attempt in 1 2; do
	# A Call-ID comes back one pass of the capture later. The dialog
	# table tells old from new by the second a dialog opened, so a pass
	# must last more than 2 s: otherwise a dialog opened in the same
	# second as the others of its set is still there when its Call-ID
	# returns, and its 200 rightly opens nothing. Hence as many calls as
	# 2.5 s at this rate.
	calls=$(((pps * 250 / 205 + 999) / 1000 * 1000))
	[ "$calls" -ge 100000 ] || calls=100000
	seed=$((attempt + 1))
	python3 "$gen" write "$FL_DIR/sus.pcap" "$FL_DIR/sus.json" "${gen_args[@]}" \
		--calls "$calls" --seed "$seed" || fl_abort "the generator failed"
	per_file=$(jq .frames_per_file "$FL_DIR/sus.json")
	echo "flood: sustained for ${sustain}s at $pps pps, $per_file frames a pass"
	mark=$SECONDS
	fl_replay sus 0 --pps="$pps" --pps-multi=16 -K --loop=0 --duration="$sustain" \
		"$FL_DIR/sus.pcap"
	fl_wait sus $((sustain + 30)) || fl_abort "tcpreplay did not finish"
	settle sus || fl_abort "sipguardctl did not answer after the sustained phase"
	r2=$(fl_rx_frames)
	sus_sent=$(fl_replay_sent sus)
	sus_pps=$(fl_replay_pps sus)
	sus_secs=$(fl_replay_secs sus)
	sus_rx=$(($(jq '[.ports[].rx] | add' "$FL_DIR/status-sus.json") -
		$(jq '[.ports[].rx] | add' "$FL_DIR/status-$base.json")))
	sus_missed=$(($(jq '[.ports[].missed] | add' "$FL_DIR/status-sus.json") -
		$(jq '[.ports[].missed] | add' "$FL_DIR/status-$base.json")))
	echo "flood: sustained: $sus_sent frames in $sus_secs s ($sus_pps pps," \
		"$((sus_sent / per_file)) passes of $per_file); port rx $sus_rx, missed" \
		"$sus_missed, lost in the kernel $((r2 - r1_base - sus_rx - sus_missed))"
	[ "$sus_rx" = "${sus_sent:-x}" ] && [ "$sus_missed" = 0 ] && break
	[ "$attempt" = 2 ] && break
	fl_note "frames lost at $pps pps on this machine now: again at half the rate"
	for f in status totals trunks; do
		cp "$FL_DIR/$f-sus.json" "$FL_DIR/$f-pre2.json"
	done
	base=pre2
	r1_base=$r2
	pps=$((pps / 2))
done
fl_check "sipguard runs after the sustained flood" fl_alive sipguard
fl_check "the receiving end got every frame tcpreplay sent ($sus_sent)" \
	test "$((r2 - r1_base))" = "${sus_sent:-x}"
fl_check "at $sus_pps pps for $sus_secs s no frame was lost" \
	test "$sus_rx" = "${sus_sent:-x}" -a "$sus_missed" = 0

# Exact totals: the sustained phase's counts are the totals now less the
# totals before it, and the generator knows the counts of
# any number of frames of the looped capture.
python3 "$gen" count "${sus_sent:-0}" "${gen_args[@]}" --calls "$calls" --seed "$seed" \
	>"$FL_DIR/expected-sus.json"
totals_delta "$FL_DIR/totals-$base.json" "$FL_DIR/totals-sus.json" >"$FL_DIR/delta-sus.json"
echo "--- sustained phase per trunk: generator (expected) vs sipguardctl -j totals (actual)"
python3 "$here/compare.py" "$FL_DIR/expected-sus.json" "$FL_DIR/delta-sus.json" |
	tee "$FL_DIR/compare.txt" | tail -n 6
fl_check "sustained: every trunk's totals equal the generator's counts" \
	test "${PIPESTATUS[0]}" -eq 0
for t in flood-0 flood-3; do
	echo "flood: $t: $(jq -c --arg t "$t" '.trunks[$t] | {invite_attempts, invite_final,
		retransmissions}' "$FL_DIR/delta-sus.json")"
done

# --- tables, events, memory ---------------------------------------------------
# Nothing expires (window and timeout far beyond the run), and the tables
# were full when the sustained phase began, so each new identity evicted
# exactly one entry: over that phase, retransmission evictions = new
# messages and dialog evictions = 2xx answers; the dialog table holds
# exactly its capacity.
tables_bounded() {
	python3 - "$FL_DIR/totals-$base.json" "$FL_DIR/status-$base.json" "$FL_DIR/totals-sus.json" \
		"$FL_DIR/status-sus.json" "$FL_DIR/trunks-sus.json" "$capacity" <<'PY'
import json, sys
t0, s0, t1, s1, tr = (json.load(open(p)) for p in sys.argv[1:6])
cap = int(sys.argv[6])
def figures(tot, st):
    units = list(tot["trunks"].values()) + [tot["unmatched"]]
    msgs = sum(sum(u["requests"].values()) + sum(u["responses"].values()) for u in units)
    retr = sum(u["retransmissions"] for u in units)
    ok2xx = sum(n for u in units for c, n in u["invite_final"].items() if 200 <= int(c) < 300)
    rev = sum(l["retrans_evictions"] for l in st["lcores"])
    dev = sum(l["dialog_evictions"] for l in st["lcores"])
    return msgs - retr, ok2xx, rev, dev
a, b = figures(t0, s0), figures(t1, s1)
new, ok2xx, rev, dev = (y - x for x, y in zip(a, b))
conc = sum(t["concurrent"] for t in tr["trunks"])
print("     sustained: %d new messages, %d retransmission evictions; %d 2xx, %d dialog"
      " evictions; concurrent calls %d of %d" % (new, rev, ok2xx, dev, conc, cap))
print("     in all: retransmission evictions %d, dialog evictions %d" % (b[2], b[3]))
sys.exit(0 if rev == new and dev == ok2xx and new > 0 and conc == cap
         and len(s1["lcores"]) == 1 else 1)
PY
}
fl_check "tables stay at their size: one eviction per new identity, $capacity calls" \
	tables_bounded
# The evictions grew with the flood and the concurrent count never
# exceeded the table in any sample.
evictions_grew() {
	jq -e -s '[.[] | select(.lcores | length > 0) | .lcores[0]] as $l |
		($l | length) >= 10 and
		([range(1; $l | length) | $l[.].retrans_evictions >= $l[. - 1].retrans_evictions and
			$l[.].dialog_evictions >= $l[. - 1].dialog_evictions] | all) and
		$l[-1].retrans_evictions > $l[0].retrans_evictions' \
		"$FL_DIR/status.jsonl" >/dev/null
}
fl_check "evictions counted every second, never going back" evictions_grew
events_accounted() {
	jq -e -s '([.[0].trunks[], .[0].unmatched | .invite_final | to_entries[] |
			select((.key | tonumber) >= 500) | .value] | add) as $fin |
		(.[1].ctrl.events + .[1].rings.evt_ring_full + .[1].rings.evt_pool_empty) as $ev |
		($fin == $ev) and $fin > 0' "$FL_DIR/totals-sus.json" "$FL_DIR/status-sus.json" \
		>/dev/null
}
fl_check "every 5xx final is an event or a counted ring drop" events_accounted
jq -c '.rings' "$FL_DIR/status-sus.json" | sed 's/^/     rings: /'

# --- 3. hostile reassembly traffic alongside calls ---------------------------
echo "flood: hostile fragments and TCP for ${hostile}s alongside calls, $((pps / 4)) pps each"
python3 "$here/hostile_gen.py" "$FL_DIR/hostile.pcap" --frames 60000 >"$FL_DIR/hostile.json" ||
	fl_abort "the hostile generator failed"
calm_calls=100000
python3 "$gen" write "$FL_DIR/calm.pcap" "$FL_DIR/calm.json" "${gen_args[@]}" \
	--calls "$calm_calls" --seed 9 || fl_abort "the generator failed"
fl_replay hostile 0 --pps="$((pps / 4))" --pps-multi=16 -K --loop=0 --duration="$hostile" \
	"$FL_DIR/hostile.pcap"
fl_replay calm 0 --pps="$((pps / 4))" --pps-multi=16 -K --loop=0 --duration="$hostile" \
	"$FL_DIR/calm.pcap"
fl_wait hostile $((hostile + 30)) && fl_wait calm $((hostile + 30)) ||
	fl_abort "tcpreplay did not finish"
settle hostile || fl_abort "sipguardctl did not answer after the hostile phase"
h_sent=$(fl_replay_sent hostile)
calm_sent=$(fl_replay_sent calm)
h_rx=$(($(jq '[.ports[].rx] | add' "$FL_DIR/status-hostile.json") -
	$(jq '[.ports[].rx] | add' "$FL_DIR/status-sus.json")))
h_missed=$(($(jq '[.ports[].missed] | add' "$FL_DIR/status-hostile.json") -
	$(jq '[.ports[].missed] | add' "$FL_DIR/status-sus.json")))
echo "flood: hostile phase: $h_sent hostile and $calm_sent call frames; port rx $h_rx," \
	"missed $h_missed"
jq -c '.source | with_entries(select(.key | test("^(frag|tcp|reassembled)")))' \
	"$FL_DIR/status-hostile.json" | sed 's/^/     source: /'
fl_check "sipguard runs after the hostile phase" fl_alive sipguard
# af_packet's fanout hands IPv4 fragments to the kernel's reassembly
# (PACKET_FANOUT_FLAG_DEFRAG) before any socket sees them: a train that
# never completes stays there (bounded by net.ipv4.ipfrag_high_thresh and
# ipfrag_time), so the port never receives it and the link's frames less
# the port's rx count it as missed. Exactly those, and nothing else, may
# be missing; IPv6 fragments and TCP reach the workers' own tables.
h_v4frags=$(python3 "$here/hostile_gen.py" --count-ipv4-fragments "${h_sent:-0}" --frames 60000)
fl_check "every frame of the hostile phase received ($((h_sent + calm_sent))) but the $h_v4frags IPv4 fragments the kernel's reassembly took" \
	test "$((h_rx + h_missed))" = "$((h_sent + calm_sent))" -a "$h_missed" = "$h_v4frags"
python3 "$gen" count "${calm_sent:-0}" "${gen_args[@]}" --calls "$calm_calls" --seed 9 \
	>"$FL_DIR/expected-calm.json"
totals_delta "$FL_DIR/totals-sus.json" "$FL_DIR/totals-hostile.json" >"$FL_DIR/delta-calm.json"
python3 "$here/compare.py" "$FL_DIR/expected-calm.json" "$FL_DIR/delta-calm.json" \
	>"$FL_DIR/compare-calm.txt"
fl_check "calls beside the hostile traffic: every trunk's totals equal the generator's" \
	test "$?" -eq 0
no_hostile_message() {
	jq -e '(.unmatched.requests | add // 0) + (.unmatched.responses | add // 0) == 0' \
		"$FL_DIR/delta-calm.json" >/dev/null
}
fl_check "not one message came out of the hostile traffic" no_hostile_message
hostile_counted() {
	jq -e -s '.[1].source as $s |
		($s.frag_timed_out + $s.frag_no_space) > (.[0].source.frag_timed_out +
			.[0].source.frag_no_space) and
		$s.frag_bad > .[0].source.frag_bad and
		$s.tcp_out_of_window > .[0].source.tcp_out_of_window and
		($s.tcp_flows_evicted + $s.tcp_flows_expired + $s.tcp_no_buffer) >
			(.[0].source.tcp_flows_evicted + .[0].source.tcp_flows_expired +
			 .[0].source.tcp_no_buffer)' \
		"$FL_DIR/status-sus.json" "$FL_DIR/status-hostile.json" >/dev/null
}
fl_check "fragment and TCP losses counted by reason (timed out or no space, bad, out of
	window, flows evicted or buffers exhausted)" hostile_counted

kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
sampler=
memory_flat() {
	python3 - "$FL_DIR/mem.txt" "$warmup" "$rss_bound" <<'PY'
import sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 6]
warm, bound = int(sys.argv[2]), int(sys.argv[3])
after = [r for r in rows if r[0] >= warm]
if len(after) < 10:
    print("     only %d samples after warm-up" % len(after))
    sys.exit(1)
ok = True
for name, rss, hwm in (("sipguard", 1, 2), ("sipguard-ctrl", 3, 4)):
    base = after[0][rss]
    top = max(r[rss] for r in after)
    grow_hwm = after[-1][hwm] - after[0][hwm]
    print("     %s: VmRSS %d KiB at %d s, max %d KiB (+%d), VmHWM +%d KiB over %d s" %
          (name, base, after[0][0], top, top - base, grow_hwm, after[-1][0] - after[0][0]))
    ok = ok and top - base < bound and grow_hwm < bound
hp = {r[5] for r in after}
print("     hugepage files of the prefix: %s" % sorted(hp))
sys.exit(0 if ok and len(hp) == 1 else 1)
PY
}
fl_check "memory flat after ${warmup}s: VmRSS/VmHWM grow < $rss_bound KiB, hugepages unchanged" \
	memory_flat
echo "flood: ${SECONDS}s in all; sustained phase began at $((mark - t_start))s"
fl_finish

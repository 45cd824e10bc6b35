#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# HEP against the oracle: record a HEPv3 capture on the HEP test bed
# (scripts/record-hep: a Kamailio edge proxy mirroring, with siptrace, one
# trunk carried over TLS and one over UDP to a collector behind a 1500-byte
# MTU link), count it with sipguard (`--pcap --json`, the `hep` section of
# the recorded config) and with the tshark oracle (tshark_counts.py, which
# unwraps HEP with its own decoder), and compare the two trunk by trunk.
#
# Before comparing, the capture itself is checked for what makes the test
# meaningful, with a HEP reader of this test's own: HEPv3 datagrams from the
# agent with its authentication key, some arriving as IP fragments, SIP on
# the TLS trunk (in clear) and on the UDP trunk in both directions, 503s
# with Retry-After and Reason from both carriers, and, where the wire
# capture of the UDP trunk is there, the same messages on the wire as in
# HEP. After comparing, the same capture is run with an `allow` that leaves
# the agent out and with a wrong auth_key: no SIP may come out of HEP then,
# and the refusals must be counted.
#
# Environment:
#   SIPGUARD        sipguard binary (default build/dataplane/sipguard)
#   CAPTURE         use this capture (and its .conf, -wire.pcapng) instead
#                   of recording
#   RECORD_SECONDS  length of the recording (default 30)
#   OUTDIR          where to keep capture and reports (default: a temp dir,
#                   removed on success)
# Exit: 0 pass, 1 fail, 77 skip (not root, or sipguard not built).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipguard=${SIPGUARD:-$root/build/dataplane/sipguard}
secs=${RECORD_SECONDS:-30}

# shellcheck source=scripts/lib/check.sh
. "$root/scripts/lib/check.sh"
finish() {
	echo "hep: $passed passed, $failed failed"
	if [ "$failed" -eq 0 ] && [ -z "${OUTDIR:-}" ]; then
		rm -rf "$out"
	else
		echo "artifacts in $out"
	fi
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

command -v tshark >/dev/null || skip "tshark missing: run scripts/setup"
command -v jq >/dev/null || skip "jq missing: run scripts/setup"

if [ -n "${OUTDIR:-}" ]; then
	out=$OUTDIR
	mkdir -p "$out"
else
	out=$(mktemp -d /tmp/sgt-hep.XXXXXX)
fi

if [ -n "${CAPTURE:-}" ]; then
	cap=$CAPTURE
	conf="${cap%.*}.conf"
	wire="${cap%.*}-wire.pcapng"
else
	if [ "$(id -u)" -ne 0 ]; then
		rm -rf "$out"
		skip "recording needs root (network namespaces)"
	fi
	command -v kamailio >/dev/null || skip "kamailio missing: run scripts/setup"
	find /usr/lib -path '*kamailio/modules/tls.so' 2>/dev/null | grep -q . ||
		skip "Kamailio's tls module missing (kamailio-tls-modules)"
	cap="$out/hep.pcapng"
	conf="$out/hep.conf"
	wire="$out/hep-wire.pcapng"
	if ! "$root/scripts/record-hep" "$cap" "$secs"; then
		echo "FAIL recording"
		failed=$((failed + 1))
		finish
	fi
fi
[ -r "$cap" ] && [ -r "$conf" ] || {
	echo "FAIL capture $cap or config $conf missing"
	failed=$((failed + 1))
	finish
}

# --- what the capture holds, read with this test's own HEP reader ------
# Trunk addresses, HEP port, agents and key come from the recorded config.
figures() {
	python3 - "$conf" "$cap" "$wire" <<'PY'
import ipaddress, json, re, struct, subprocess, sys

conf_text = open(sys.argv[1]).read()
cap, wire = sys.argv[2], sys.argv[3]

def section(name):
    m = re.search(r"\b%s\s*=\s*\{(.*?)\};" % name, conf_text, re.S)
    return m.group(1) if m else ""

hep = section("hep")
hep_port = int(re.search(r"port\s*=\s*(\d+)", hep).group(1))
allow = [ipaddress.ip_network(a) for a in
         re.findall(r'"([^"]+)"', re.search(r"allow\s*=\s*\[(.*?)\]", hep, re.S).group(1))]
m = re.search(r'auth_key\s*=\s*"([^"]*)"', hep)
auth_key = m.group(1).encode() if m else b""
trunks = {}
for t in re.finditer(r'name\s*=\s*"([^"]+)"\s*;\s*prefixes\s*=\s*\[\s*"([^"/]+)/32"', conf_text):
    trunks[t.group(2)] = t.group(1)

def tshark(path, filt, fields, extra=()):
    cmd = ["tshark", "-r", path, "-n", *extra, "-Y", filt, "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return [l.split("\t") for l in res.stdout.splitlines() if l]

def hep_chunks(d):
    """(ok, dict of type -> bytes) for one HEPv3 datagram."""
    if len(d) < 6 or d[:4] != b"HEP3":
        return False, {}
    (total,) = struct.unpack_from("!H", d, 4)
    if total != len(d):
        return False, {}
    ch, off = {}, 6
    while off < total:
        if off + 6 > total:
            return False, ch
        vendor, typ, ln = struct.unpack_from("!HHH", d, off)
        if ln < 6 or off + ln > total:
            return False, ch
        ch.setdefault(typ, d[off + 6:off + ln])
        off += ln
    return True, ch

def sip_start(p):
    line = p.split(b"\r\n", 1)[0].decode("latin-1")
    if line.startswith("SIP/2.0 "):
        return "response", line[8:11]
    return "request", line.split(" ", 1)[0]

fig = {"hep_port": hep_port, "udp_to_hep_port": 0, "hep3": 0, "hep_bad": 0,
       "agents": {}, "auth_ok": 0, "auth_other": 0, "capture_ids": {},
       "over_mtu": 0, "inner_proto": {}, "trunks": {}, "other_sip": 0,
       "wire": None}

# Fragments as they arrived (each frame's own IP header says so, with
# tshark's defragmentation on as well), then the datagrams.
frag_rows = tshark(cap, "ip.flags.mf == 1 || ip.frag_offset > 0", ["frame.number"], [])
fig["fragment_frames"] = len(frag_rows)
rows = tshark(cap, "udp.dstport == %d" % hep_port,
              ["ip.src", "ip.len", "ip.fragment.count", "udp.payload"])
for src, iplen, nfrag, payload in rows:
    fig["udp_to_hep_port"] += 1
    d = bytes.fromhex(payload.replace(":", ""))
    if d[:4] != b"HEP3":
        continue
    fig["hep3"] += 1
    fig["agents"][src] = fig["agents"].get(src, 0) + 1
    if nfrag:
        fig["over_mtu"] += 1
    ok, ch = hep_chunks(d)
    if not ok or 0x0f not in ch:
        fig["hep_bad"] += 1
        continue
    if auth_key and ch.get(0x0e, b"").rstrip(b"\0") == auth_key:
        fig["auth_ok"] += 1
    else:
        fig["auth_other"] += 1
    cid = str(struct.unpack("!I", ch[0x0c])[0]) if len(ch.get(0x0c, b"")) == 4 else "-"
    fig["capture_ids"][cid] = fig["capture_ids"].get(cid, 0) + 1
    if ch.get(0x01) != b"\x02":
        fig["hep_bad"] += 1
        continue
    isrc = str(ipaddress.ip_address(ch[0x03]))
    idst = str(ipaddress.ip_address(ch[0x04]))
    sport = struct.unpack("!H", ch[0x07])[0]
    dport = struct.unpack("!H", ch[0x08])[0]
    proto = ch[0x02][0]
    kind, what = sip_start(ch[0x0f])
    trunk = trunks.get(idst) or trunks.get(isrc)
    if trunk is None:
        fig["other_sip"] += 1
        continue
    t = fig["trunks"].setdefault(trunk, {"to": 0, "from": 0, "ports": {},
                                         "requests": {}, "responses": {},
                                         "lines": {}, "503_retry_after_reason": 0})
    way = "to" if trunks.get(idst) == trunk else "from"
    t[way] += 1
    k = "%s %s" % (way, what)
    t["lines"][k] = t["lines"].get(k, 0) + 1
    port = dport if way == "to" else sport
    t["ports"][str(port)] = t["ports"].get(str(port), 0) + 1
    key = "%s/%d" % (trunk, proto)
    fig["inner_proto"][key] = fig["inner_proto"].get(key, 0) + 1
    t[kind + "s"][what] = t[kind + "s"].get(what, 0) + 1
    body = ch[0x0f].split(b"\r\n\r\n", 1)[0].lower()
    if what == "503" and b"\nretry-after:" in body and b"\nreason: q.850" in body:
        t["503_retry_after_reason"] += 1
fig["agents_allowed"] = all(any(ipaddress.ip_address(a) in n for n in allow)
                            for a in fig["agents"])

# The plain UDP trunk as the wire carried it, message by message, against
# what HEP says the edge sent and received on it.
udp_trunk = [a for a, n in trunks.items() if n == "carrier-udp"]
try:
    wire_rows = tshark(wire, "udp && ip.addr == %s" % udp_trunk[0],
                       ["ip.src", "ip.dst", "udp.payload"]) if udp_trunk else None
except (OSError, subprocess.CalledProcessError):
    wire_rows = None
if wire_rows is not None:
    w = {}
    for src, dst, payload in wire_rows:
        d = bytes.fromhex(payload.replace(":", ""))
        if not d or not (d.startswith(b"SIP/2.0 ") or re.match(rb"[A-Z]+ \S+ SIP/2\.0", d)):
            continue
        kind, what = sip_start(d)
        way = "to" if dst == udp_trunk[0] else "from"
        k = "%s %s" % (way, what)
        w[k] = w.get(k, 0) + 1
    fig["wire"] = w
json.dump(fig, sys.stdout, indent=1, sort_keys=True)
PY
}

if ! figures >"$out/figures.json" 2>"$out/figures.err"; then
	echo "FAIL reading the capture"
	tail -n 5 "$out/figures.err"
	failed=$((failed + 1))
	finish
fi
f() { jq -r "$1" "$out/figures.json"; }
note "HEPv3 datagrams $(f .hep3) (of $(f .udp_to_hep_port) to port $(f .hep_port)), malformed $(f .hep_bad)," \
	"agents $(f '.agents | to_entries | map("\(.key) \(.value)") | join(", ")')," \
	"capture ids $(f '.capture_ids | to_entries | map("\(.key) \(.value)") | join(", ")')"
note "IP fragments $(f .fragment_frames) frames, HEP datagrams over the MTU $(f .over_mtu)," \
	"auth key right $(f .auth_ok), other $(f .auth_other)"
for t in $(f '.trunks | keys[]'); do
	note "$t: to $(f ".trunks[\"$t\"].to") from $(f ".trunks[\"$t\"].from")," \
		"carrier ports $(f ".trunks[\"$t\"].ports | to_entries | map(\"\(.key) \(.value)\") | join(\", \")")," \
		"requests $(f ".trunks[\"$t\"].requests | to_entries | map(\"\(.key) \(.value)\") | join(\" \")")," \
		"responses $(f ".trunks[\"$t\"].responses | to_entries | map(\"\(.key) \(.value)\") | join(\" \")")"
done
note "inner IP protocol by trunk: $(f '.inner_proto | to_entries | map("\(.key) \(.value)") | join(", ")')," \
	"SIP off the trunks (dialer leg) $(f .other_sip)"

ge() { [ "${2:-0}" -ge "$1" ] 2>/dev/null || { note "got ${2:-nothing}, want >= $1"; return 1; }; }
eq() { [ "${1:-x}" = "${2:-y}" ] || { note "got $1, want $2"; return 1; }; }
check "capture holds HEPv3 datagrams" ge 500 "$(f .hep3)"
check "every HEP datagram is well formed" eq "$(f .hep_bad)" 0
check "every HEP datagram comes from an allowed agent" eq "$(f .agents_allowed)" true
if grep -Eq 'auth_key *= *"[^"]+"' "$conf"; then
	check "every HEP datagram carries the auth key (chunk 14)" eq "$(f .auth_other)" 0
fi
check "some HEP datagrams arrived as IP fragments" ge 10 "$(f .fragment_frames)"
check "some HEP datagrams exceed the MTU" ge 5 "$(f .over_mtu)"
check "SIP to the TLS trunk" ge 100 "$(f '.trunks["carrier-tls"].to')"
check "SIP from the TLS trunk" ge 100 "$(f '.trunks["carrier-tls"].from')"
check "the TLS trunk is on its TLS port (5061)" \
	eq "$(f '.trunks["carrier-tls"].ports | keys | join(",")')" 5061
check "SIP to the UDP trunk" ge 100 "$(f '.trunks["carrier-udp"].to')"
check "SIP from the UDP trunk" ge 100 "$(f '.trunks["carrier-udp"].from')"
check "503 with Retry-After and Reason from the TLS trunk" \
	ge 5 "$(f '.trunks["carrier-tls"]["503_retry_after_reason"]')"
check "503 with Retry-After and Reason from the UDP trunk" \
	ge 5 "$(f '.trunks["carrier-udp"]["503_retry_after_reason"]')"
if [ "$(f '.wire')" != null ]; then
	wire_agrees() {
		python3 - "$out/figures.json" <<'PY'
import json, sys
fig = json.load(open(sys.argv[1]))
# By direction and start line (method or status code).
h = fig["trunks"].get("carrier-udp", {}).get("lines", {})
w = fig["wire"]
print("     UDP trunk: %d SIP messages on the wire, %d in HEP"
      % (sum(w.values()), sum(h.values())))
bad = sorted(k for k in set(h) | set(w) if h.get(k, 0) != w.get(k, 0))
for k in bad:
    print("     %-12s wire %d, HEP %d" % (k, w.get(k, 0), h.get(k, 0)))
sys.exit(0 if not bad and w else 1)
PY
	}
	check "the UDP trunk's messages on the wire are the ones in HEP" wire_agrees
fi

# --- the oracle ----------------------------------------------------------
if ! python3 "$here/tshark_counts.py" "$conf" "$cap" >"$out/expected.json" 2>"$out/oracle.err"; then
	echo "FAIL oracle"
	tail -n 5 "$out/oracle.err"
	failed=$((failed + 1))
	finish
fi
oracle_sees_hep() {
	jq -e '([.trunks[] | (.requests, .responses) | add // 0] | add // 0) > 0' \
		"$out/expected.json" >/dev/null
}
check "oracle counts SIP carried in HEP" oracle_sees_hep
retrans_u=$(jq '.trunks["carrier-udp"].retransmissions // 0' "$out/expected.json")
check "oracle counts retransmitted INVITEs on the UDP trunk ($retrans_u)" test "$retrans_u" -ge 1

# --- sipguard ------------------------------------------------------------
if [ ! -x "$sipguard" ]; then
	echo "SKIP: $sipguard not built (set SIPGUARD); oracle report in $out/expected.json"
	echo "hep: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 77
	exit 1
fi
run_sipguard() { # CONF REPORT
	"$sipguard" -c "$1" --pcap "$cap" --json >"$2" 2>"$2.err" || {
		echo "     sipguard -c $1 exited non-zero:"
		tail -n 5 "$2.err" | sed 's/^/     /'
		return 1
	}
}
if ! run_sipguard "$conf" "$out/actual.json"; then
	echo "FAIL sipguard on the HEP capture"
	failed=$((failed + 1))
	finish
fi
src() { jq -r ".source.$1 // \"absent\"" "$2"; }
note "sipguard: packets $(src packets "$out/actual.json"), sip_messages $(src sip_messages "$out/actual.json")," \
	"fragments $(src fragments "$out/actual.json"), reassembled $(src reassembled "$out/actual.json")," \
	"hep_accepted $(src hep_accepted "$out/actual.json"), hep_refused_agent $(src hep_refused_agent "$out/actual.json")," \
	"hep_refused_auth $(src hep_refused_auth "$out/actual.json"), hep_bad $(src hep_bad "$out/actual.json")"
check "sipguard saw every packet of the capture" eq \
	"$(src packets "$out/actual.json")" "$(src packets "$out/expected.json")"
check "sipguard accepted every HEP datagram" eq "$(src hep_accepted "$out/actual.json")" "$(f .hep3)"
check "sipguard received every fragment" eq "$(src fragments "$out/actual.json")" "$(f .fragment_frames)"

echo "--- per trunk: oracle (expected) vs sipguard (actual)"
python3 "$here/compare.py" "$out/expected.json" "$out/actual.json" | tee "$out/compare.txt"
cmp_rc=${PIPESTATUS[0]}
check "sipguard matches the oracle on every trunk" test "$cmp_rc" -eq 0

# The plain trunk seen on the wire must count as it counts from HEP: the
# same messages, timed by the wire instead of the agent.
if [ -r "$wire" ]; then
	same_udp_trunk() {
		"$sipguard" -c "$conf" --pcap "$wire" --json >"$out/wire.json" 2>"$out/wire.json.err" ||
			return 1
		python3 - "$out/actual.json" "$out/wire.json" <<'PY'
import json, sys
keys = ("requests", "responses", "retransmissions", "invite_attempts", "invite_final")
h, w = (json.load(open(p))["trunks"].get("carrier-udp", {}) for p in sys.argv[1:3])
bad = [k for k in keys if h.get(k) != w.get(k)]
for k in bad:
    print("     %s: HEP %s, wire %s" % (k, h.get(k), w.get(k)))
sys.exit(1 if bad or not h.get("requests") else 0)
PY
	}
	check "sipguard counts the UDP trunk on the wire as from HEP" same_udp_trunk
fi

# --- refused HEP: nothing classified, every datagram counted ------------
nothing_from_hep() { # REPORT REFUSAL_COUNTER
	jq -e --arg c "$2" --argjson n "$(f .hep3)" '
		.source.sip_messages == 0 and (.source.hep_accepted // 0) == 0
		and (.source[$c] // 0) == $n
		and ([(.trunks[], .unmatched) | (.requests, .responses) | add // 0] | add // 0) == 0' \
		"$1" >/dev/null || {
		note "sip_messages $(src sip_messages "$1"), hep_accepted $(src hep_accepted "$1")," \
			"$2 $(src "$2" "$1"), want $(f .hep3) refused"
		return 1
	}
}
sed -E 's|(allow *= *\[)[^]]*\]|\1 "203.0.113.200/32" ]|' "$conf" >"$out/stranger.conf"
if run_sipguard "$out/stranger.conf" "$out/stranger.json"; then
	check "agent outside allow: no SIP from HEP, all refused" \
		nothing_from_hep "$out/stranger.json" hep_refused_agent
else
	check "agent outside allow: sipguard runs" false
fi
if grep -Eq 'auth_key *= *"[^"]+"' "$conf"; then
	sed -E 's|(auth_key *= *")[^"]*"|\1not-the-key"|' "$conf" >"$out/wrongkey.conf"
	if run_sipguard "$out/wrongkey.conf" "$out/wrongkey.json"; then
		check "wrong auth_key: no SIP from HEP, all refused" \
			nothing_from_hep "$out/wrongkey.json" hep_refused_auth
	else
		check "wrong auth_key: sipguard runs" false
	fi
fi
finish

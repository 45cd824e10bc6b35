#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent oracle for sipguard's offline report.

Reads a capture with tshark and counts, from tshark's own SIP dissector
fields, what sipguard's `--pcap FILE --json` report must say for each trunk
and for unmatched traffic. Nothing here shares code or logic with sipguard:
the trunk mapping, the candidate rule and the retransmission rule are
implemented again from their definitions.

    tshark_counts.py [--tshark PATH] CONFIG CAPTURE

CONFIG is the sipguard libconfig file itself (only `sip_ports`,
`retrans_window` and the `trunks` list are read, with a small regex reader
that is good enough for the files scripts/record writes), or a JSON file
{"sip_ports": [...], "retrans_window": S, "trunks": [{"name": ..,
"prefixes": [..], "port": N}, ...]}.

Rules, as sipguard defines them:
- A frame is a SIP candidate when it is UDP or TCP with either port in
  sip_ports, or when either address belongs to a trunk. IP fragments are
  never reassembled: they are counted under source.fragments and skipped.
  Frames with more than one IP header (tunnels) are skipped too.
- Trunk of an address:port: among the (trunk, prefix) pairs whose prefix
  holds the address and whose trunk has no port or the same port, the
  longest prefix wins (a port-bound trunk beats an any-port one of the same
  length). The message belongs to the trunk of the longer match of source
  and destination, the destination on a tie; the direction is "to" when
  the destination decided, "from" when the source did. Unmatched traffic
  has no trunk and so no direction: its identity uses "to", and every
  INVITE counts as an attempt and every final answer to INVITE as final.
- A retransmission is a message whose identity (trunk, direction, Call-ID,
  CSeq number, CSeq method, request method or status code) was last seen
  at most retrans_window seconds earlier (packet time, milliseconds); every
  sighting refreshes that time. Retransmissions count in requests/responses
  and retransmissions, never in invite_attempts/invite_final.
- invite_attempts: INVITE requests toward the trunk, not retransmissions.
- invite_final: final responses (>= 200) to CSeq method INVITE coming from
  the trunk, not retransmissions, by status code.
- TCP segments are not reassembled (tshark runs with TCP desegmentation
  and sequence analysis off): every SIP message tshark finds in a segment
  counts when its header block is complete inside the segment (its body
  may be cut off), a segment the peer's TCP sent twice included. A segment
  that does not start with a SIP message (the rest of an earlier one)
  holds none; traffic to or from a trunk peer is SIP on any port.

Output: JSON on stdout, {"source": {...}, "trunks": {NAME: {...}},
"unmatched": {...}}, each counter set holding requests, responses,
retransmissions, invite_attempts and invite_final. `malformed` is not
reported: tshark's idea of a malformed message is not sipguard's.
"""

import argparse
import ipaddress
import json
import re
import subprocess
import sys
import tempfile

METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK",
           "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE",
           "UPDATE")
DEFAULT_PORTS = [5060, 5080]
DEFAULT_WINDOW = 32


class ConfigError(Exception):
    pass


def strip_comments(text):
    """Drop #, // and /* */ comments outside of strings."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif c == "#" or text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def balanced(text, start, open_ch, close_ch):
    """Text between text[start] == open_ch and its matching close_ch."""
    depth = 0
    i = start
    in_str = False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == open_ch:
            depth += 1
        elif c == close_ch:
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    raise ConfigError("unbalanced %s%s" % (open_ch, close_ch))


def parse_libconfig(text):
    text = strip_comments(text)
    cfg = {"sip_ports": DEFAULT_PORTS, "retrans_window": DEFAULT_WINDOW,
           "trunks": []}
    m = re.search(r"\bsip_ports\s*[=:]\s*\[([^\]]*)\]", text)
    if m:
        cfg["sip_ports"] = [int(x) for x in re.findall(r"\d+", m.group(1))]
    m = re.search(r"\bretrans_window\s*[=:]\s*(\d+)", text)
    if m:
        cfg["retrans_window"] = int(m.group(1))
    m = re.search(r"\btrunks\s*[=:]\s*\(", text)
    if not m:
        return cfg
    body = balanced(text, m.end() - 1, "(", ")")
    i = 0
    while True:
        i = body.find("{", i)
        if i < 0:
            break
        group = balanced(body, i, "{", "}")
        i += len(group) + 2
        name = re.search(r'\bname\s*[=:]\s*"([^"]*)"', group)
        prefixes = re.search(r"\bprefixes\s*[=:]\s*\[([^\]]*)\]", group)
        port = re.search(r"\bport\s*[=:]\s*(\d+)", group)
        if not name or not prefixes:
            raise ConfigError("trunk without name or prefixes: {%s}" % group.strip())
        cfg["trunks"].append({
            "name": name.group(1),
            "prefixes": re.findall(r'"([^"]*)"', prefixes.group(1)),
            "port": int(port.group(1)) if port else 0,
        })
    return cfg


def load_config(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        cfg = json.loads(text)
    except ValueError:
        return parse_libconfig(text)
    cfg.setdefault("sip_ports", DEFAULT_PORTS)
    cfg.setdefault("retrans_window", DEFAULT_WINDOW)
    for t in cfg.setdefault("trunks", []):
        t.setdefault("port", 0)
    return cfg


class Trunks:
    """Longest-prefix trunk lookup with the optional per-trunk port."""

    def __init__(self, trunks):
        self.entries = []  # (network, trunk index, port)
        for idx, t in enumerate(trunks):
            for p in t["prefixes"]:
                net = ipaddress.ip_network(p, strict=False)
                self.entries.append((net, idx, int(t.get("port") or 0)))

    def side(self, addr, port):
        """(trunk index, depth) owning addr:port, or (None, -1)."""
        best, best_key = None, None
        for net, idx, tport in self.entries:
            if net.version != addr.version or addr not in net:
                continue
            if tport and tport != port:
                continue
            key = (net.prefixlen, 1 if tport else 0)
            if best_key is None or key > best_key:
                best, best_key = idx, key
        return (best, best_key[0]) if best is not None else (None, -1)

    def lookup(self, src, sport, dst, dport):
        """(trunk index or None, direction 'to'|'from')."""
        dt, ddepth = self.side(dst, dport)
        st, sdepth = self.side(src, sport)
        if st is not None and (dt is None or sdepth > ddepth):
            return st, "from"
        return dt, "to"


def new_counters():
    return {"requests": {}, "responses": {}, "retransmissions": 0,
            "invite_attempts": 0, "invite_final": {}}


def bump(d, key):
    d[key] = d.get(key, 0) + 1


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def find(obj, key):
    """First value of key anywhere inside a tshark JSON subtree."""
    if isinstance(obj, dict):
        if key in obj:
            v = obj[key]
            return v[0] if isinstance(v, list) else v
        for v in obj.values():
            r = find(v, key)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find(v, key)
            if r is not None:
                return r
    return None


CONTENT_LENGTH = re.compile(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)",
                            re.IGNORECASE)


def tcp_complete_messages(payload):
    """How many SIP messages a TCP segment holds in full, from its start.

    A message counts when its whole header block (up to CRLFCRLF) is inside
    the segment: that is all there is to classify. Its body, Content-Length
    bytes (0 if absent), may run past the end of the segment, but then no
    further message can start in it. CRLF keep-alives between messages are
    skipped.
    """
    n = off = 0
    while off < len(payload):
        while payload.startswith(b"\r\n", off):
            off += 2
        if off >= len(payload):
            break
        end = payload.find(b"\r\n\r\n", off)
        if end < 0:
            break
        m = CONTENT_LENGTH.search(payload, off, end + 2)
        n += 1
        off = end + 4 + (int(m.group(1)) if m else 0)
    return n


def epoch_ms(s):
    sec, _, frac = s.partition(".")
    return int(sec) * 1000 + int((frac + "000")[:3])


def tshark_frames(tshark, capture, ports):
    """Yield each frame's layers dict, streaming tshark's JSON output."""
    cmd = [tshark, "-r", capture, "-n", "-T", "json", "--no-duplicate-keys",
           "-o", "tcp.desegment_tcp_streams:FALSE",
           # With sequence analysis on, tshark hides retransmitted segments
           # from the SIP dissector; sipguard keeps no TCP state and counts
           # them, as the rule says.
           "-o", "tcp.analyze_sequence_numbers:FALSE",
           # Traffic to or from a trunk peer is SIP on any port: let the
           # SIP heuristic (a SIP start line) win over port-based guesses.
           "-o", "tcp.try_heuristic_first:TRUE",
           "-o", "udp.try_heuristic_first:TRUE",
           "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-j", "frame ip ip.flags ipv6 udp tcp sip sip.Request-Line "
                 "sip.Status-Line sip.msg_hdr sip.CSeq"]
    for p in ports:
        cmd += ["-d", "udp.port==%d,sip" % p, "-d", "tcp.port==%d,sip" % p]
    # stderr goes to a file: a pipe nobody reads could fill and stall tshark.
    errf = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf,
                            text=True, encoding="utf-8", errors="replace")
    # tshark pretty-prints one object per packet, opening with a line "  {"
    # and closing with "  }" or "  },": parse packet by packet so memory
    # stays flat however long the capture is.
    chunk = None
    for line in proc.stdout:
        s = line.rstrip("\n")
        if chunk is None:
            if s == "  {":
                chunk = [s]
            continue
        chunk.append(s)
        if s in ("  }", "  },"):
            text = "\n".join(chunk).rstrip(",")
            chunk = None
            yield json.loads(text)["_source"]["layers"]
    proc.stdout.close()
    rc = proc.wait()
    errf.seek(0)
    err = errf.read()
    errf.close()
    if rc != 0:
        raise RuntimeError("tshark failed: %s" % err.strip())


def count(cfg, capture, tshark="tshark"):
    trunks = Trunks(cfg["trunks"])
    ports = set(int(p) for p in cfg["sip_ports"])
    window_ms = int(cfg["retrans_window"]) * 1000
    names = [t["name"] for t in cfg["trunks"]]
    per_trunk = [new_counters() for _ in names]
    unmatched = new_counters()
    source = {"packets": 0, "bytes": 0, "sip_messages": 0, "fragments": 0}
    last_seen = {}

    for layers in tshark_frames(tshark, capture, sorted(ports)):
        frame = layers.get("frame", {})
        source["packets"] += 1
        source["bytes"] += int(frame.get("frame.len", 0))
        ips = as_list(layers.get("ip"))
        ip6s = as_list(layers.get("ipv6"))
        if len(ips) + len(ip6s) != 1:
            continue
        if ips:
            ip = ips[0]
            mf = find(ip, "ip.flags.mf")
            if mf == "1" or int(ip.get("ip.frag_offset", "0") or 0) != 0:
                source["fragments"] += 1
                continue
            src, dst = ip.get("ip.src"), ip.get("ip.dst")
        else:
            ip = ip6s[0]
            if any(k.startswith("ipv6.frag") for k in ip):
                source["fragments"] += 1
                continue
            src, dst = ip.get("ipv6.src"), ip.get("ipv6.dst")
        l4 = layers.get("udp") or layers.get("tcp")
        if isinstance(l4, list) or l4 is None or src is None:
            continue
        proto = "udp" if "udp" in layers else "tcp"
        sport = int(l4.get(proto + ".srcport", 0))
        dport = int(l4.get(proto + ".dstport", 0))
        src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
        tidx, direction = trunks.lookup(src, sport, dst, dport)
        if tidx is None and sport not in ports and dport not in ports:
            continue
        c = unmatched if tidx is None else per_trunk[tidx]
        now = epoch_ms(frame["frame.time_epoch"])

        msgs = as_list(layers.get("sip"))
        if proto == "tcp":
            # tshark also shows the start of a message cut off by the end
            # of the segment; only complete ones count.
            payload = l4.get("tcp.payload", "")
            msgs = msgs[:tcp_complete_messages(
                bytes.fromhex(payload.replace(":", "")))]
        for msg in msgs:
            if not isinstance(msg, dict):
                continue
            method = find(msg, "sip.Method")
            status = find(msg, "sip.Status-Code")
            call_id = find(msg, "sip.Call-ID")
            cseq_seq = find(msg, "sip.CSeq.seq")
            cseq_method = find(msg, "sip.CSeq.method")
            if method is None and status is None:
                continue
            if status is not None:
                code = int(status)
                if not 100 <= code <= 699:
                    continue
            source["sip_messages"] += 1
            what = ("req", method) if method is not None else ("rsp", code)
            key = (tidx, direction, call_id, cseq_seq, cseq_method) + what
            seen = last_seen.get(key)
            retrans = seen is not None and now - seen <= window_ms
            last_seen[key] = now
            if retrans:
                c["retransmissions"] += 1
            if method is not None:
                bump(c["requests"], method if method in METHODS else "OTHER")
                if (method == "INVITE" and (direction == "to" or tidx is None)
                        and not retrans):
                    c["invite_attempts"] += 1
            else:
                bump(c["responses"], str(code))
                if (code >= 200 and cseq_method == "INVITE"
                        and (direction == "from" or tidx is None)
                        and not retrans):
                    bump(c["invite_final"], str(code))

    return {"source": source,
            "trunks": dict(zip(names, per_trunk)),
            "unmatched": unmatched}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tshark", default="tshark", help="tshark binary")
    ap.add_argument("config", help="sipguard libconfig file or JSON sidecar")
    ap.add_argument("capture", help="pcap or pcapng file")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config)
        report = count(cfg, args.capture, args.tshark)
    except (OSError, ConfigError, RuntimeError, ValueError) as e:
        print("tshark_counts: %s" % e, file=sys.stderr)
        return 2
    json.dump(report, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

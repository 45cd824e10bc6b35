#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent oracle for sipguard's offline report.

Reads a capture with tshark and counts, from tshark's own SIP dissector
fields, what sipguard's `--pcap FILE --json` report must say for each trunk
and for unmatched traffic. Nothing here shares code or logic with sipguard:
the trunk mapping, the candidate rule, the retransmission rule and the HEP
decoder (hep_unwrap.py) are implemented again from their definitions.

    tshark_counts.py [--tshark PATH] [--reload FRAMES:CONFIG ...] CONFIG CAPTURE

CONFIG is the sipguard libconfig file itself (read with a small regex
reader that is good enough for the files this project writes:
`sip_ports`, `retrans_window`, the `trunks` list, `decap.max_depth`,
`decap.vxlan_port`, `hep.port`, `hep.allow`, `hep.auth_key`), or a JSON
file {"sip_ports": [...], "retrans_window": S, "trunks": [{"name": ..,
"prefixes": [..], "port": N}, ...], "decap": {"max_depth": N,
"vxlan_port": N}, "hep": {"port": N, "allow": [..], "auth_key": ".."}}.

tshark runs with its default preferences, and with an empty personal
configuration directory so that a user's preferences do not apply: IP
defragmentation (IPv4 and IPv6), TCP desegmentation with sequence
analysis, SIP header and body desegmentation and the VXLAN (udp/4789),
GRE, ERSPAN and IP-in-IP dissectors are on, as shipped. The command line
adds configuration only: decode-as of every SIP port as SIP (`-d
udp.port==N,sip -d tcp.port==N,sip`); the VXLAN port when the config
moves it (`-d udp.port==N,vxlan`, the default port then `data`;
`--disable-protocol vxlan` when it is 0); heuristic dissectors first on
UDP and TCP, so that SIP to or from a trunk peer on a port registered to
something else (X11 on 6060, SNMP on 161) is read as SIP. tshark 4.0 has
no HEP dissector (`tshark -G protocols`; it calls UDP 9060 HCRT), so no
HEP-borne message is dissected by tshark and counted a second time.

What tshark 4.0 does by default, and so what this oracle expects:
- An IP datagram in fragments is dissected once, in the frame whose
  fragment completed it (in whatever order the fragments came), at that
  frame's time. Fragments that never complete a datagram carry nothing.
- A SIP message over TCP is dissected once, in the frame whose segment
  completed it, at that frame's time; each of several messages in a
  segment is dissected; a message the capture never completes is not.
  A retransmitted segment (bytes seen before) is not dissected again, so
  its messages count once.
- One preference is changed, and it only adds reassembly:
  tcp.reassemble_out_of_order is TRUE here (tshark 4.0 ships it FALSE).
  With it off, a segment that fills a hole after later data came is not
  put back in order, so the message with the hole in it is not dissected
  (the later segment shows as a continuation, the late one as
  out-of-order), nor is anything in a retransmission that carries new
  bytes after the old ones: a TCP receiver gets those messages, and so
  does sipguard, so an oracle without them would fail sipguard for being
  right. `--shipped-ooo` leaves it as shipped, to see what tshark says
  then; test_oracle.py pins the cases
  apart. Still lost with it on, by the SIP dissector: a message whose
  start line is cut by the end of a segment after another message (a
  segment that starts with a cut start line is fine), and a message
  after a CRLF or CRLFCRLF keep-alive inside the same segment (a
  keep-alive alone in its segment, or at the end of one, is fine).
  sipguard counts these; none of the test beds' peers sends them.

Rules, as sipguard defines them:
- Tunnels: a frame's encapsulation depth is its number of IP/IPv6 headers
  (frame.protocols) less one: VXLAN, GRE, ERSPAN I/II/III and IP in IP
  each add one. The innermost IP header and the innermost UDP/TCP header
  after it give the addresses and ports (tshark lists repeated layers
  outer first: the last one is taken). A frame deeper than
  decap.max_depth (default 2) counts no message. ICMP errors quoting a
  datagram are not SIP.
- A message counts when SIP is dissected directly on that innermost UDP
  or TCP (SIP inside HTTP/WebSocket is not counted) and the frame is a
  SIP candidate: UDP or TCP with either port in sip_ports, or either
  address belonging to a trunk; and neither port is hep.port (HEP frames
  are never SIP themselves).
- source.fragments counts the frames that hold an IP fragment at any
  depth (an IPv4 header with MF set or a fragment offset, an IPv6
  Fragment header); they are dissected like any other frame, so the one
  completing a datagram carries its messages.
- HEP (hep_unwrap.py): HEP packets to hep.port from an agent inside
  hep.allow (with chunk 14 equal to hep.auth_key when one is set) that
  carry SIP are counted as one whole message each, at the HEP capture
  time, with the HEP chunk's inner addresses and ports deciding trunk and
  candidacy, in the order of the frames that carried them (the frame
  that completed the datagram or the stream bytes). source.hep_accepted,
  hep_refused, hep_malformed and hep_sip say what came of them.
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
  at most retrans_window seconds earlier (message time, milliseconds);
  every sighting refreshes that time. Retransmissions count in
  requests/responses and retransmissions, never in
  invite_attempts/invite_final.
- invite_attempts: INVITE requests toward the trunk, not retransmissions.
- invite_final: final responses (>= 200) to CSeq method INVITE coming from
  the trunk, not retransmissions, by status code.

A live reload (--reload FRAMES:CONFIG, repeatable, in frame order): from
frame FRAMES+1 on, the trunks are CONFIG's, as sipguard's reload rules
say (README, Reload): a trunk's counts and its retransmission memory go
on under the same name; a new name whose prefixes and port are exactly
those of one trunk that left is that trunk renamed (reported under the
new name); a trunk that left keeps what it counted, and takes it up
again if its name comes back. HEP-borne messages take the first
CONFIG's trunks. Only the trunks change; every other setting stays the
first CONFIG's.

Output: JSON on stdout, {"source": {...}, "trunks": {NAME: {...}},
"unmatched": {...}}, each counter set holding requests, responses,
retransmissions, invite_attempts and invite_final. `source` holds
packets, bytes, sip_messages (messages counted, HEP-borne included),
fragments, decapsulated (frames with 1..max_depth encapsulations),
too_deep, unexamined (frames whose tshark layers do not match their
frame.protocols: none expected) and the HEP figures. `malformed` is not reported: tshark's idea
of a malformed message is not sipguard's.
"""

import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hep_unwrap  # noqa: E402

METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK",
           "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE",
           "UPDATE")
DEFAULT_PORTS = [5060, 5080]
DEFAULT_WINDOW = 32
DEFAULT_DECAP = {"max_depth": 2, "vxlan_port": 4789}
DEFAULT_HEP = {"port": 9060, "allow": [], "auth_key": ""}
VXLAN_PORT = 4789  # tshark's own VXLAN port


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


def group(text, name):
    """Body of the top-level group `name = { ... }`, or None."""
    m = re.search(r"\b%s\s*[=:]\s*\{" % re.escape(name), text)
    return balanced(text, m.end() - 1, "{", "}") if m else None


def unescape(s):
    """A libconfig string literal with its escapes (backslash, quote, n r t f, xNN) undone."""
    simple = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t", "f": "\f"}
    return re.sub(r'\\(x[0-9a-fA-F]{2}|.)',
                  lambda m: (chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "x"
                             else simple.get(m.group(1), m.group(1))), s)


STRING = r'"((?:[^"\\]|\\.)*)"'


def parse_libconfig(text):
    text = strip_comments(text)
    cfg = {"sip_ports": DEFAULT_PORTS, "retrans_window": DEFAULT_WINDOW,
           "trunks": [], "decap": dict(DEFAULT_DECAP), "hep": dict(DEFAULT_HEP)}
    m = re.search(r"\bsip_ports\s*[=:]\s*\[([^\]]*)\]", text)
    if m:
        cfg["sip_ports"] = [int(x) for x in re.findall(r"\d+", m.group(1))]
    m = re.search(r"\bretrans_window\s*[=:]\s*(\d+)", text)
    if m:
        cfg["retrans_window"] = int(m.group(1))
    body = group(text, "decap")
    for key in ("max_depth", "vxlan_port"):
        m = body and re.search(r"\b%s\s*[=:]\s*(\d+)" % key, body)
        if m:
            cfg["decap"][key] = int(m.group(1))
    body = group(text, "hep")
    if body is not None:
        m = re.search(r"\bport\s*[=:]\s*(\d+)", body)
        if m:
            cfg["hep"]["port"] = int(m.group(1))
        m = re.search(r"\ballow\s*[=:]\s*\[([^\]]*)\]", body)
        if m:
            cfg["hep"]["allow"] = [unescape(x) for x in re.findall(STRING, m.group(1))]
        m = re.search(r"\bauth_key\s*[=:]\s*" + STRING, body)
        if m:
            cfg["hep"]["auth_key"] = unescape(m.group(1))
    m = re.search(r"\btrunks\s*[=:]\s*\(", text)
    if not m:
        return cfg
    body = balanced(text, m.end() - 1, "(", ")")
    i = 0
    while True:
        i = body.find("{", i)
        if i < 0:
            break
        grp = balanced(body, i, "{", "}")
        i += len(grp) + 2
        name = re.search(r'\bname\s*[=:]\s*"([^"]*)"', grp)
        prefixes = re.search(r"\bprefixes\s*[=:]\s*\[([^\]]*)\]", grp)
        port = re.search(r"\bport\s*[=:]\s*(\d+)", grp)
        if not name or not prefixes:
            raise ConfigError("trunk without name or prefixes: {%s}" % grp.strip())
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
    cfg["decap"] = dict(DEFAULT_DECAP, **(cfg.get("decap") or {}))
    cfg["hep"] = dict(DEFAULT_HEP, **(cfg.get("hep") or {}))
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


def epoch_ms(s):
    sec, _, frac = s.partition(".")
    return int(sec) * 1000 + int((frac + "000")[:3])


_CONFIG_DIR = None


SHIPPED_OOO = False


def tshark_env():
    """The environment tshark runs in: an empty personal configuration
    directory, so that no preferences, decode-as entries or disabled
    protocols of whoever runs the oracle change tshark's defaults."""
    global _CONFIG_DIR
    if _CONFIG_DIR is None:
        _CONFIG_DIR = tempfile.TemporaryDirectory(prefix="sgt-wireshark.")
    return dict(os.environ, WIRESHARK_CONFIG_DIR=_CONFIG_DIR.name)


def tshark_options(cfg):
    """What the oracle adds to tshark's defaults: configuration only."""
    opts = [
        # Traffic to or from a trunk peer is SIP on any port: let the SIP
        # heuristic (a SIP start line) win over port-based guesses.
        "-o", "tcp.try_heuristic_first:TRUE",
        "-o", "udp.try_heuristic_first:TRUE"]
    if not SHIPPED_OOO:
        # Out-of-order segments put back in order, as a TCP receiver
        # does (see the docstring): more reassembly, never less.
        opts += ["-o", "tcp.reassemble_out_of_order:TRUE"]
    for p in sorted(set(int(x) for x in cfg["sip_ports"])):
        opts += ["-d", "udp.port==%d,sip" % p, "-d", "tcp.port==%d,sip" % p]
    vxlan = int(cfg["decap"]["vxlan_port"])
    if vxlan == 0:
        opts += ["--disable-protocol", "vxlan"]
    elif vxlan != VXLAN_PORT:
        opts += ["-d", "udp.port==%d,vxlan" % vxlan, "-d", "udp.port==%d,data" % VXLAN_PORT]
    return opts


def tshark_frames(tshark, capture, options):
    """Yield each frame's layers dict, streaming tshark's JSON output."""
    cmd = [tshark, "-r", capture, "-n", "-T", "json", "--no-duplicate-keys",
           "-j", "frame ip ip.flags ipv6 udp tcp sip sip.Request-Line "
                 "sip.Status-Line sip.msg_hdr sip.CSeq"] + options
    # stderr goes to a file: a pipe nobody reads could fill and stall tshark.
    errf = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, env=tshark_env(),
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


def is_fragment(layers):
    """Whether any IP header of the frame, at any depth, is a fragment."""
    for ip in as_list(layers.get("ip")):
        if find(ip, "ip.flags.mf") == "1" or int(ip.get("ip.frag_offset", "0") or 0):
            return True
    return any("ipv6.fraghdr" in ip6 for ip6 in as_list(layers.get("ipv6")))


class LayerMismatch(Exception):
    pass


def innermost(layers, protos, names):
    """(index in frame.protocols, name, layer dict) of the last layer
    whose name is in names, or None. tshark lists repeated layers outer
    first, one per occurrence in frame.protocols."""
    idx = [i for i, p in enumerate(protos) if p in names]
    if not idx:
        return None
    name = protos[idx[-1]]
    found = as_list(layers.get(name))
    if len(found) != protos.count(name) or not isinstance(found[-1], dict):
        raise LayerMismatch(name)
    return idx[-1], name, found[-1]


def frame_view(layers):
    """What the rules need from one frame: a dict with depth (number of
    encapsulations), and when SIP is dissected directly on the innermost
    UDP/TCP after the innermost IP header: src, sport, dst, dport, msgs.
    unexamined is set when tshark's layers do not match frame.protocols
    (never seen; counted so that it would not go unnoticed)."""
    protos = layers["frame"]["frame.protocols"].split(":")
    # An ICMP error quotes the start of a datagram: not a tunnel, not SIP.
    quoted = [i for i, p in enumerate(protos) if p in ("icmp", "icmpv6")]
    view = {"depth": max(0, sum(p in ("ip", "ipv6") for p in protos[:(quoted or [None])[0]]) - 1)}
    if quoted:
        return view
    try:
        ip = innermost(layers, protos, ("ip", "ipv6"))
        l4 = innermost(layers, protos, ("udp", "tcp"))
    except LayerMismatch:
        view["unexamined"] = True
        return view
    if ip is None or l4 is None or l4[0] < ip[0]:
        return view
    fam, l4name = ip[1], l4[1]
    view.update(
        src=ipaddress.ip_address(ip[2][fam + ".src"]),
        dst=ipaddress.ip_address(ip[2][fam + ".dst"]),
        sport=int(l4[2].get(l4name + ".srcport", 0)),
        dport=int(l4[2].get(l4name + ".dstport", 0)),
        msgs=[])
    if l4[0] + 1 < len(protos) and protos[l4[0] + 1] == "sip":
        view["msgs"] = [m for m in as_list(layers.get("sip")) if isinstance(m, dict)]
    return view


def sip_fields(msg):
    """(method, status, call_id, cseq_seq, cseq_method) of a tshark SIP
    message, or None when it has no start line (a continuation) or a
    status code outside 100..699."""
    method = find(msg, "sip.Method")
    status = find(msg, "sip.Status-Code")
    if method is None and status is None:
        return None
    if status is not None:
        status = int(status)
        if not 100 <= status <= 699:
            return None
    return (method, status, find(msg, "sip.Call-ID"), find(msg, "sip.CSeq.seq"),
            find(msg, "sip.CSeq.method"))


class Counter:
    """Trunk mapping, candidate rule, retransmission window and counters."""

    def __init__(self, cfg):
        self.ports = set(int(p) for p in cfg["sip_ports"])
        self.window_ms = int(cfg["retrans_window"]) * 1000
        self.ident = {}       # trunk name -> identity (a number), every name held
        self.per_ident = {}   # identity -> counters
        self.ident_name = {}  # identity -> its name now
        self.current = []
        self.use(cfg["trunks"])
        self.unmatched = new_counters()
        self.last_seen = {}
        self.sip_messages = 0

    @staticmethod
    def match(t):
        return (frozenset(str(ipaddress.ip_network(p, strict=False)) for p in t["prefixes"]),
                int(t.get("port") or 0))

    def use(self, trunks):
        """The trunks from now on (at start, and at each reload)."""
        names = [t["name"] for t in trunks]
        gone = [t for t in self.current if t["name"] not in names]
        for t in trunks:
            n = t["name"]
            if n in self.ident:
                continue
            same = [g for g in gone if self.match(g) == self.match(t)]
            if len(same) == 1:
                ident = self.ident.pop(same[0]["name"])
                gone.remove(same[0])
            else:
                ident = len(self.per_ident)
                self.per_ident[ident] = new_counters()
            self.ident[n] = ident
            self.ident_name[ident] = n
        self.current = list(trunks)
        self.trunks = Trunks(trunks)
        self.names = names

    @property
    def per_name(self):
        return {self.ident_name[i]: c for i, c in self.per_ident.items()}

    def candidate(self, src, sport, dst, dport):
        """(counters, trunk identity, direction) of a SIP candidate, or None."""
        tidx, direction = self.trunks.lookup(src, sport, dst, dport)
        if tidx is None and sport not in self.ports and dport not in self.ports:
            return None
        if tidx is None:
            return self.unmatched, None, direction
        ident = self.ident[self.names[tidx]]
        return self.per_ident[ident], ident, direction

    def message(self, now, cand, fields):
        c, tidx, direction = cand
        method, code, call_id, cseq_seq, cseq_method = fields
        self.sip_messages += 1
        what = ("req", method) if method is not None else ("rsp", code)
        key = (tidx, direction, call_id, cseq_seq, cseq_method) + what
        seen = self.last_seen.get(key)
        retrans = seen is not None and now - seen <= self.window_ms
        self.last_seen[key] = now
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
                    and (direction == "from" or tidx is None) and not retrans):
                bump(c["invite_final"], str(code))


def hep_messages(cfg, capture, tshark, options, counter):
    """HEP-borne SIP: (carrier frame number, time ms, candidate, fields)
    in carrier order, and the HEP figures."""
    with tempfile.TemporaryDirectory(prefix="sgt-hep.") as tmp:
        out = os.path.join(tmp, "hep.pcap")
        stats, carriers = hep_unwrap.unwrap(cfg, capture, out, tshark, tshark_env(), options)
        msgs = []
        if carriers:
            for i, layers in enumerate(tshark_frames(tshark, out, options)):
                view = frame_view(layers)
                if not view.get("msgs"):
                    continue
                cand = counter.candidate(view["src"], view["sport"], view["dst"], view["dport"])
                if cand is None:
                    continue
                now = epoch_ms(layers["frame"]["frame.time_epoch"])
                for msg in view["msgs"]:
                    fields = sip_fields(msg)
                    if fields is not None:
                        msgs.append((carriers[i], now, cand, fields))
    msgs.sort(key=lambda m: m[0])  # stable: one carrier's messages keep their order
    return msgs, stats


def count(cfg, capture, tshark="tshark", reloads=()):
    options = tshark_options(cfg)
    counter = Counter(cfg)
    reloads = list(reloads)  # (frames, trunks), in frame order
    max_depth = int(cfg["decap"]["max_depth"])
    hep_port = int(cfg["hep"]["port"])
    source = {"packets": 0, "bytes": 0, "sip_messages": 0, "fragments": 0,
              "decapsulated": 0, "too_deep": 0, "unexamined": 0}
    hep, hep_stats = [], {}
    if hep_port:
        hep, hep_stats = hep_messages(cfg, capture, tshark, options, counter)
    h = 0

    for layers in tshark_frames(tshark, capture, options):
        frame = layers.get("frame", {})
        number = int(frame.get("frame.number", 0))
        while reloads and number > reloads[0][0]:
            counter.use(reloads.pop(0)[1])
        # HEP-borne messages count where their carrier frame was.
        while h < len(hep) and hep[h][0] < number:
            counter.message(*hep[h][1:])
            h += 1
        source["packets"] += 1
        source["bytes"] += int(frame.get("frame.len", 0))
        if is_fragment(layers):
            source["fragments"] += 1
        view = frame_view(layers)
        if view.get("unexamined"):
            source["unexamined"] += 1
        if view["depth"] > max_depth:
            source["too_deep"] += 1
            continue
        if view["depth"]:
            source["decapsulated"] += 1
        if not view.get("msgs"):
            continue
        if hep_port and hep_port in (view["sport"], view["dport"]):
            continue
        cand = counter.candidate(view["src"], view["sport"], view["dst"], view["dport"])
        if cand is None:
            continue
        now = epoch_ms(frame["frame.time_epoch"])
        for msg in view["msgs"]:
            fields = sip_fields(msg)
            if fields is not None:
                counter.message(now, cand, fields)
    for m in hep[h:]:
        counter.message(*m[1:])

    source["sip_messages"] = counter.sip_messages
    source.update(hep_stats)
    return {"source": source,
            "trunks": counter.per_name,
            "unmatched": counter.unmatched}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tshark", default="tshark", help="tshark binary")
    ap.add_argument("--shipped-ooo", action="store_true",
                    help="leave tcp.reassemble_out_of_order at tshark's shipped FALSE")
    ap.add_argument("--reload", action="append", default=[], metavar="FRAMES:CONFIG",
                    help="from frame FRAMES+1 on, the trunks of CONFIG")
    ap.add_argument("config", help="sipguard libconfig file or JSON sidecar")
    ap.add_argument("capture", help="pcap or pcapng file")
    args = ap.parse_args(argv)
    global SHIPPED_OOO
    SHIPPED_OOO = args.shipped_ooo
    try:
        cfg = load_config(args.config)
        reloads = []
        for r in args.reload:
            frames, _, path = r.partition(":")
            if not frames.isdigit() or not path:
                raise ValueError("--reload %r: expected FRAMES:CONFIG" % r)
            reloads.append((int(frames), load_config(path)["trunks"]))
        if [f for f, _ in reloads] != sorted(f for f, _ in reloads):
            raise ValueError("--reload: give them in frame order")
        report = count(cfg, args.capture, args.tshark, reloads)
    except (OSError, ConfigError, RuntimeError, ValueError) as e:
        print("tshark_counts: %s" % e, file=sys.stderr)
        return 2
    json.dump(report, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

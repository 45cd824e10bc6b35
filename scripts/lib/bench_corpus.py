#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn a recording made by scripts/record into the benchmark mix.

Input: the pcapng (Ethernet) of a recording. Output: a classic pcap that
net_pcap reads, and the sipguard config whose trunks match it.

What the rewriter does, call by call (a call is one Call-ID):
  * keeps only the frames that carry SIP;
  * makes several generations of the recording, each with its Call-IDs
    changed (same length) and its time shifted, so the mix is larger than
    one recording without repeating a transaction;
  * moves the carrier side of each IPv4 call onto one of several trunks
    (10.K.0.0/16, K = 1..N) and picks its encapsulation: plain, 802.1Q,
    QinQ (802.1ad + 802.1Q) or IPv6 (2001:db8:K::/48, UDP checksum
    computed: IPv6 forbids a zero one);
  * grows each UDP message by the headers a real carrier path adds (a
    second Via, Record-Route, Allow, Supported, User-Agent or Server,
    P-Asserted-Identity on INVITEs), after the top Via so the transaction
    identity is untouched;
  * turns a few answered calls into 183 Session Progress (with the SDP of
    the 200) and a few into CANCEL / 200 / 487 / ACK, because sipp's
    scenario makes neither.

Standard library only. Prints a one-line JSON summary (frames, mean SIP
payload, message mix) on stdout.
"""
import argparse
import json
import re
import struct
import sys
import zlib

ETH_IP4 = 0x0800
ETH_IP6 = 0x86DD
ETH_VLAN = 0x8100
ETH_QINQ = 0x88A8

DIALER_NET = bytes([192, 0, 2])
UNMATCHED_PEER = bytes([198, 51, 100, 30])

SIP_START = re.compile(rb"^(SIP/2\.0 [1-6][0-9][0-9]|[A-Z]+ \S+ SIP/2\.0\r?\n)")


def read_frames(path):
    """Yield (ts_sec_float, frame bytes) from a pcapng or pcap file."""
    data = open(path, "rb").read()
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        off = 0
        endian = "<"
        tsres = [1e-6]
        while off + 12 <= len(data):
            bt, bl = struct.unpack_from(endian + "II", data, off)
            if bt == 0x0A0D0D0A:
                magic = data[off + 8:off + 12]
                endian = "<" if magic == b"\x4d\x3c\x2b\x1a" else ">"
                bt, bl = struct.unpack_from(endian + "II", data, off)
                tsres = []
            elif bt == 1:
                linktype = struct.unpack_from(endian + "H", data, off + 8)[0]
                if linktype != 1:
                    raise SystemExit("bench_corpus: %s: link type %d, want Ethernet" %
                                     (path, linktype))
                res = 1e-6
                o = off + 16
                while o + 4 <= off + bl - 4:
                    code, ln = struct.unpack_from(endian + "HH", data, o)
                    if code == 0:
                        break
                    if code == 9:
                        v = data[o + 4]
                        res = 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
                    o += 4 + ((ln + 3) & ~3)
                tsres.append(res)
            elif bt == 6:
                iface, th, tl, cl = struct.unpack_from(endian + "IIII", data, off + 8)
                ts = ((th << 32) | tl) * tsres[iface]
                yield ts, data[off + 28:off + 28 + cl]
            if bl < 12:
                break
            off += bl
        return
    magic = struct.unpack_from("<I", data, 0)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = struct.unpack_from(endian + "I", data, 0)[0] == 0xA1B23C4D
    off = 24
    while off + 16 <= len(data):
        s, us, cl, _ = struct.unpack_from(endian + "IIII", data, off)
        yield s + us * (1e-9 if nano else 1e-6), data[off + 16:off + 16 + cl]
        off += 16 + cl


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4_csum(pseudo, seg, off):
    seg = bytearray(seg)
    seg[off:off + 2] = b"\0\0"
    c = csum(pseudo + bytes(seg))
    if c == 0 and off == 6:
        c = 0xFFFF  # UDP: zero means "none"
    seg[off:off + 2] = struct.pack("!H", c)
    return bytes(seg)


def ip4(src, dst, proto, payload, ident):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64,
                      proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ip6(src, dst, proto, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), proto, 64, src, dst) + payload


def udp_seg(sport, dport, payload, pseudo_fn):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return l4_csum(pseudo_fn(len(seg), 17), seg, 6)


class Pkt:
    """A decoded Ethernet/IPv4|IPv6/UDP|TCP SIP frame of the recording."""

    def __init__(self, ts, frame):
        self.ts = ts
        self.mac = frame[:12]
        et = struct.unpack_from("!H", frame, 12)[0]
        off = 14
        self.ok = False
        if et == ETH_IP4:
            ihl = (frame[off] & 0x0F) * 4
            tot = struct.unpack_from("!H", frame, off + 2)[0]
            self.family = 4
            self.proto = frame[off + 9]
            self.src, self.dst = frame[off + 12:off + 16], frame[off + 16:off + 20]
            l4 = frame[off + ihl:off + tot]
        elif et == ETH_IP6:
            plen = struct.unpack_from("!H", frame, off + 4)[0]
            self.family = 6
            self.proto = frame[off + 6]
            self.src, self.dst = frame[off + 8:off + 24], frame[off + 24:off + 40]
            l4 = frame[off + 40:off + 40 + plen]
        else:
            return
        if self.proto == 17:
            self.sport, self.dport = struct.unpack_from("!HH", l4, 0)
            self.l4hdr = l4[:8]
            self.payload = l4[8:]
        elif self.proto == 6:
            self.sport, self.dport = struct.unpack_from("!HH", l4, 0)
            doff = (l4[12] >> 4) * 4
            self.l4hdr = l4[:doff]
            self.payload = l4[doff:]
        else:
            return
        self.ok = bool(self.payload) and SIP_START.match(self.payload) is not None

    def reversed(self):
        """The same frame sent the other way."""
        r = Pkt.__new__(Pkt)
        r.__dict__.update(self.__dict__)
        r.mac = self.mac[6:12] + self.mac[:6]
        r.src, r.dst = self.dst, self.src
        r.sport, r.dport = self.dport, self.sport
        return r


def call_id(payload):
    m = re.search(rb"\r\n(?:Call-ID|i)[ \t]*:[ \t]*([^\r\n]+)", payload, re.I)
    return m.group(1) if m else None


def split_msg(p):
    i = p.find(b"\r\n\r\n")
    return p[:i + 2], p[i + 4:]


def set_header(head, name, value):
    """Replace (or append) a header line in a header block ending in CRLF."""
    pat = re.compile(rb"^" + re.escape(name) + rb"[ \t]*:.*?\r\n", re.I | re.M)
    line = name + b": " + value + b"\r\n"
    if pat.search(head):
        return pat.sub(lambda _m: line, head, count=1)
    return head + line


def drop_header(head, name):
    return re.sub(rb"^" + re.escape(name) + rb"[ \t]*:.*?\r\n", b"", head, flags=re.I | re.M)


def build(head, body):
    head = set_header(head, b"Content-Length", str(len(body)).encode())
    return head + b"\r\n" + body


def first_line(p):
    return p.split(b"\r\n", 1)[0]


def with_start(p, line):
    return line + p[p.find(b"\r\n"):]


def cseq_of(p):
    m = re.search(rb"\r\nCSeq[ \t]*:[ \t]*(\d+)[ \t]+(\w+)", p, re.I)
    return (int(m.group(1)), m.group(2)) if m else (None, None)


def enrich(p, carrier_side, k, n):
    """Headers a real carrier path adds; inserted after the top Via."""
    head, body = split_msg(p)
    is_req = not p.startswith(b"SIP/2.0")
    lines = head.split(b"\r\n")
    vi = next((i for i, ln in enumerate(lines) if ln.lower().startswith(b"via:")), None)
    if vi is None:
        return p
    extra = [b"Via: SIP/2.0/UDP 172.16.%d.%d:5060;received=172.16.%d.%d;rport=5060;"
             b"branch=z9hG4bK%08x.1" % (k, 1 + n % 200, k, 1 + n % 200, n * 2654435761 & 0xFFFFFFFF)]
    # the top Via of a real UA carries rport
    if b";rport" not in lines[vi]:
        lines[vi] = lines[vi].replace(b";branch=", b";rport;branch=", 1)
    extra.append(b"Record-Route: <sip:10.%d.0.1;lr;ftag=%08x;did=%x.a1>" % (k, n & 0xFFFFFFFF, n))
    method = first_line(p).split(b" ")[0]
    if is_req and method in (b"INVITE", b"OPTIONS"):
        extra.append(b"Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, INFO, REFER")
        extra.append(b"Supported: 100rel, timer, replaces, norefersub")
    if is_req and method == b"INVITE":
        extra.append(b"P-Asserted-Identity: <sip:+4930%07d@10.%d.0.1;user=phone>" % (n % 10000000, k))
        extra.append(b"Session-Expires: 1800;refresher=uac")
    extra.append((b"Server: " if not is_req else b"User-Agent: ") +
                 (b"carrier-sbc 4.2.1" if carrier_side else b"pbx-edge 7.0.3"))
    lines[vi + 1:vi + 1] = extra
    return b"\r\n".join(lines) + b"\r\n" + body


def synth_183(p180, p200):
    """A 183 with early media: the 180's headers, the 200's SDP."""
    head, _ = split_msg(with_start(p180, b"SIP/2.0 183 Session Progress"))
    _, sdp = split_msg(p200)
    head = set_header(head, b"Content-Type", b"application/sdp")
    return build(head, sdp)


def synth_cancel(inv, p180):
    """CANCEL, its 200, the INVITE's 487 and the ACK for it."""
    n, _ = cseq_of(inv)
    uri = first_line(inv).split(b" ")[1]
    ihead, _ = split_msg(inv)
    for h in (b"Content-Type", b"Subject"):
        ihead = drop_header(ihead, h)
    cancel = build(set_header(with_start(ihead, b"CANCEL " + uri + b" SIP/2.0"), b"CSeq",
                              b"%d CANCEL" % n), b"")
    rhead, _ = split_msg(p180)
    rhead = drop_header(drop_header(rhead, b"Content-Type"), b"Contact")
    ok = build(set_header(with_start(rhead, b"SIP/2.0 200 OK"), b"CSeq", b"%d CANCEL" % n), b"")
    r487 = build(with_start(rhead, b"SIP/2.0 487 Request Terminated"), b"")
    # the ACK to a non-2xx final is hop-by-hop: the INVITE's branch, its To tag
    to = re.search(rb"\r\n(To[ \t]*:[^\r\n]*)", p180, re.I).group(1)
    ahead = set_header(with_start(ihead, b"ACK " + uri + b" SIP/2.0"), b"CSeq", b"%d ACK" % n)
    ahead = re.sub(rb"\r\nTo[ \t]*:[^\r\n]*", lambda _m: b"\r\n" + to, ahead, count=1, flags=re.I)
    ack = build(ahead, b"")
    return cancel, ok, r487, ack


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("recording")
    ap.add_argument("out_pcap")
    ap.add_argument("out_conf")
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--trunks", type=int, default=5)
    args = ap.parse_args()

    pkts = [Pkt(ts, fr) for ts, fr in read_frames(args.recording)]
    pkts = [p for p in pkts if p.ok]
    if not pkts:
        raise SystemExit("bench_corpus: %s: no SIP frames" % args.recording)
    t0 = pkts[0].ts
    span = pkts[-1].ts - t0

    # Carrier addresses: the IPv4 peers on a SIP port that answer INVITEs.
    carriers = set()
    for p in pkts:
        if p.family == 4 and p.proto == 17 and p.payload.startswith(b"SIP/2.0"):
            carriers.add(p.src)
    # calls: UDP IPv4 frames grouped by Call-ID, in time order
    calls = {}
    for i, p in enumerate(pkts):
        if p.family == 4 and p.proto == 17:
            calls.setdefault(call_id(p.payload), []).append(i)

    out = []  # (ts, frame)
    mix = {}
    n_msg = 0
    pay_bytes = 0
    for g in range(args.generations):
        tag = b"%02x" % (0xA0 + g)
        shift = g * 0.371
        replaced = {}  # index -> list of payloads (empty: drop)
        for cid, idx in calls.items():
            if cid is None:
                continue
            h = zlib.crc32(cid + tag)
            ps = [pkts[i].payload for i in idx]
            starts = [first_line(x) for x in ps]
            i180 = next((j for j, s in enumerate(starts) if s.startswith(b"SIP/2.0 180")), None)
            i200 = next((j for j, s in enumerate(starts) if s.startswith(b"SIP/2.0 200") and
                         cseq_of(ps[j])[1] == b"INVITE"), None)
            if i180 is None or i200 is None or not starts[0].startswith(b"INVITE"):
                continue
            if h % 100 < 12:
                # early media: 183 with the 200's SDP, right after the 180
                replaced[idx[i180]] = [ps[i180], (synth_183(ps[i180], ps[i200]), False)]
            elif h % 100 < 20:
                # caller hangs up while ringing: everything after the 180 goes
                c, ok, r487, ack = synth_cancel(ps[0], ps[i180])
                after = idx[i180 + 1:]
                # (payload, sent by the dialer?) in the slots of the frames gone
                seq = [[(c, True)], [(ok, False)], [(r487, False)], [(ack, True)]]
                for j, fi in enumerate(after):
                    replaced[fi] = seq[j] if j < len(seq) else []
                if len(after) < len(seq):
                    replaced[idx[i180]] = [ps[i180]] + sum(seq[len(after):], [])
        for i, p in enumerate(pkts):
            payloads = replaced.get(i, [p.payload])
            cid = call_id(p.payload) or b""
            h = zlib.crc32(cid + tag)
            k = 1 + h % args.trunks
            for pl in payloads:
                q = p
                if isinstance(pl, tuple):
                    pl, by_dialer = pl
                    if by_dialer != (p.src[:3] == DIALER_NET):
                        q = p.reversed()
                if cid:
                    # same length (TCP segments keep their sequence numbers)
                    pl = pl.replace(cid, cid[:-2] + tag)
                if p.proto == 17:
                    pl = enrich(pl, q.src in carriers, k, h)
                out.append((p.ts + shift, frame_for(q, pl, k, h, g)))
                start = first_line(pl)
                key = start.split(b" ")[1] if start.startswith(b"SIP/2.0") else start.split(b" ")[0]
                mix[key.decode()] = mix.get(key.decode(), 0) + 1
                n_msg += 1
                pay_bytes += len(pl)
    out.sort(key=lambda x: x[0])

    with open(args.out_pcap, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, fr in out:
            s = int(ts)
            f.write(struct.pack("<IIII", s, int((ts - s) * 1e6), len(fr), len(fr)))
            f.write(fr)

    with open(args.out_conf, "w") as f:
        f.write("# sipguard config for the benchmark mix, made by scripts/lib/bench_corpus.py.\n")
        f.write("dataplane = { sip_ports = [ 5060, 5080 ]; retrans_window = 32; };\n")
        f.write("trunks = (\n")
        rows = []
        for k in range(1, args.trunks + 1):
            rows.append('  { name = "trunk-%d"; prefixes = [ "10.%d.0.0/16", "2001:db8:%x::/48" ]; '
                        "cps = %d; max_concurrent = %d; }" % (k, k, k, 10 * k, 100 * k))
        rows.append('  { name = "trunk-tcp6"; prefixes = [ "2001:db8:b::/48" ]; port = 5080; '
                    "cps = 20; max_concurrent = 100; }")
        f.write(",\n".join(rows) + "\n);\n")

    print(json.dumps({"frames": len(out), "messages": n_msg,
                      "mean_sip_payload": round(pay_bytes / max(n_msg, 1), 1),
                      "span_s": round(span + 0.371 * (args.generations - 1), 3),
                      "mix": dict(sorted(mix.items()))}))


def frame_for(p, payload, k, h, g):
    """Re-encapsulate one message: trunk address, then plain/VLAN/QinQ/IPv6."""
    if p.proto == 6:
        # TCP over IPv6 (carrier-b's own prefix): payload as recorded, one
        # connection per generation (else a later one reads as a resend)
        sport, dport = p.sport, p.dport
        if sport != 5080:
            sport += 100 * g
        if dport != 5080:
            dport += 100 * g
        seg = struct.pack("!HH", sport, dport) + p.l4hdr[4:] + payload
        pseudo = p.src + p.dst + struct.pack("!IxxxB", len(seg), 6)
        seg = l4_csum(pseudo, seg, 16)
        return p.mac + struct.pack("!H", ETH_IP6) + ip6(p.src, p.dst, 6, seg)
    src, dst = p.src, p.dst
    trunk4 = bytes([10, k, 0, 1 + (h >> 8) % 200])
    # The carrier is the end that is neither the dialer (192.0.2.0/24) nor
    # the keep-alive target outside every trunk, which stays unmatched.
    pinged = UNMATCHED_PEER in (src, dst)
    if not pinged:
        if src[:3] != DIALER_NET:
            src = trunk4
        if dst[:3] != DIALER_NET:
            dst = trunk4
    enc = (h >> 16) % 100
    if enc < 14 and not pinged:
        def v6(a):
            if a[0] == 10:
                return bytes.fromhex("20010db8%04x00000000000000%02x%02x" % (k, g, a[3]))
            return bytes.fromhex("20010db8ff00000000000000000000%02x" % a[3])
        s6, d6 = v6(src), v6(dst)
        seg = udp_seg(p.sport, p.dport, payload,
                      lambda ln, pr: s6 + d6 + struct.pack("!IxxxB", ln, pr))
        return p.mac + struct.pack("!H", ETH_IP6) + ip6(s6, d6, 17, seg)
    seg = udp_seg(p.sport, p.dport, payload,
                  lambda ln, pr: src + dst + struct.pack("!BBH", 0, pr, ln))
    l3 = ip4(src, dst, 17, seg, h)
    vid = 100 + k
    if enc < 30:
        return p.mac + struct.pack("!HHH", ETH_VLAN, vid, ETH_IP4) + l3
    if enc < 35:
        return p.mac + struct.pack("!HHHHH", ETH_QINQ, 2000 + g, ETH_VLAN, vid, ETH_IP4) + l3
    return p.mac + struct.pack("!H", ETH_IP4) + l3


if __name__ == "__main__":
    sys.exit(main())

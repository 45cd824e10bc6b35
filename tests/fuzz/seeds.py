#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Build the seed corpora of the fuzz harnesses from real messages.

Frames and payloads come from captures (the shared corpus, a capture made
by scripts/record, any named on the command line); configs from config/
and tests/integration/; control API lines from the documented commands;
plus hand-made forms the captures lack (compact headers, folding, 503 with
Retry-After/Reason/oc, IPv6, VLAN/QinQ, SLL, TCP with several messages).
Seeds are generated on every run, never checked in.

usage: seeds.py OUTDIR [CAPTURE...]   (SG_CORPUS: capture directory)
"""
import glob
import hashlib
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
sys.path.insert(0, os.path.join(root, "tests", "integration"))
import sgpcap as P  # noqa: E402

PER_CAPTURE = 300  # frames kept per capture: enough variety, small corpus


def put(outdir, harness, data):
    d = os.path.join(outdir, harness)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def link_byte(link):
    return b"\x01" if link == P.LINK_SLL else b"\x00"


def records(frames):
    return b"".join(struct.pack("!H", len(f) & 0xFFFF) + f[:65535] for f in frames)


def synthetic_frames():
    inv = P.sip_invite(body=P.SDP)
    r503 = P.sip_response(extra="Retry-After: 30\r\nReason: SIP;cause=503;text=\"busy\"\r\n")
    r200 = P.sip_response(200, "OK")
    frames = [
        P.udp4("192.0.2.1", "10.0.0.5", 5060, 5060, inv),
        P.udp4("10.0.0.5", "192.0.2.1", 5060, 5060, r503),
        P.udp4("192.0.2.1", "10.1.0.9", 5080, 5060, P.COMPACT, vlans=(100,)),
        P.udp4("10.1.0.9", "192.0.2.1", 5060, 5080, P.FOLDED, vlans=(10, 20)),
        P.udp6("2001:db8::1", "fd00::5", 5060, 5060, inv),
        P.udp6("fd00::5", "2001:db8::1", 5060, 5060, r200),
        P.tcp4("192.0.2.1", "10.0.0.5", 40000, 5060, inv + b"\r\n\r\n" + P.sip_invite(cseq=2)),
        P.tcp4("10.0.0.5", "192.0.2.1", 5060, 40000, P.sip_response(100, "Trying") + r200 + r503),
        P.tcp4("192.0.2.1", "10.0.0.5", 40000, 5060, b"\r\n" * 64),
        P.udp4("192.0.2.1", "10.0.0.5", 5060, 5060, b"\r\n\r\n"),
        P.ether(P.ipv4("192.0.2.1", "10.0.0.5", 17, P.udp(5060, 5060, inv), flags_frag=0x2000)),
        P.ether(P.ipv4("192.0.2.1", "10.0.0.5", 17, P.udp(5060, 5060, inv), ihl=7)),
        P.ether(P.ipv6("2001:db8::1", "fd00::5", 17, P.udp(5060, 5060, inv),
                       ext=bytes([17, 0]) + b"\0" * 6, ext_proto=0), v6=True),
        P.ether(P.ipv4("192.0.2.1", "10.0.0.5", 47, b"\0\0\x08\x00" + b"x" * 40)),
        P.ether(b"\0" * 28, etype=0x0806),
    ]
    # mirror feeds: the same call inside each encapsulation
    inner = P.udp4("192.0.2.1", "10.0.0.5", 5060, 5060, inv)
    inner_ip = inner[14:]
    frames += [
        P.ether(P.ipv4("172.16.0.1", "172.16.0.2", 47, P.gre(0x6558, inner, key=7, seq=3))),
        P.ether(P.ipv4("172.16.0.1", "172.16.0.2", 47, P.gre(0x0800, inner_ip))),
        P.ether(P.ipv4("172.16.0.1", "172.16.0.2", 47, P.erspan1(inner))),
        P.ether(P.ipv4("172.16.0.1", "172.16.0.2", 47, P.erspan2(inner)), vlans=(5,)),
        P.ether(P.ipv4("172.16.0.1", "172.16.0.2", 47, P.erspan3(inner))),
        P.udp4("172.16.0.1", "172.16.0.2", 40000, 4789, P.vxlan(42, inner)),
        P.ether(P.ipv4("172.16.0.1", "172.16.0.2", 4, inner_ip)),
        P.ether(P.ipv6("2001:db8::a", "2001:db8::b", 4, inner_ip), v6=True),
    ]
    # IP fragments of a big INVITE, in order and reversed, IPv4 and IPv6
    big = P.sip_invite(body=P.SDP, extra="X-Pad: %s\r\n" % ("y" * 1500))
    l4 = P.udp(5060, 5060, big)
    f4 = [P.ether(f) for f in P.ipv4_fragments("192.0.2.1", "10.0.0.5", 17, l4, 1000, ident=9)]
    f6 = [P.ether(f, v6=True) for f in P.ipv6_fragments("2001:db8::1", "fd00::5", 17, l4, 1000,
                                                        ident=9)]
    frames += f4 + f6 + f4[::-1]
    # HEPv3 from an agent in 10/8 carrying the INVITE
    frames.append(P.udp4("10.9.9.9", "10.0.0.1", 40000, 9060, hep3(inv)))
    return frames


def hep3(payload, src=b"\xc0\x00\x02\x01", dst=b"\x0a\x00\x00\x05"):
    """A HEPv3 packet (generic chunks) around one SIP message over UDP/IPv4."""
    def chunk(t, data):
        return struct.pack("!HHH", 0, t, 6 + len(data)) + data
    body = (chunk(1, b"\x02") + chunk(2, b"\x11") + chunk(3, src) + chunk(4, dst)
            + chunk(7, struct.pack("!H", 5060)) + chunk(8, struct.pack("!H", 5060))
            + chunk(9, struct.pack("!I", 1700000000)) + chunk(10, struct.pack("!I", 5))
            + chunk(11, b"\x01") + chunk(12, struct.pack("!I", 101)) + chunk(15, payload))
    return b"HEP3" + struct.pack("!H", 6 + len(body)) + body


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    corpus = os.environ.get("SG_CORPUS", os.path.join(root, "..", "shared", "corpus"))
    caps = sorted(glob.glob(os.path.join(corpus, "*.pcap")) +
                  glob.glob(os.path.join(corpus, "*.pcapng"))) + sys.argv[2:]
    seen = set()
    payloads = []
    sequences = []
    for cap in caps:
        kept = []
        try:
            for link, frame in P.read_capture(cap):
                if link not in (P.LINK_ETHER, P.LINK_SLL):
                    continue
                lp = P.l4_payload(link, frame)
                key = hashlib.sha1(frame).digest()
                if key in seen:
                    continue
                seen.add(key)
                # SIP-looking frames first; a few others for the decoder
                sip = lp is not None and b"SIP/2.0" in lp[1][:200]
                if not sip and len(kept) >= PER_CAPTURE // 4:
                    continue
                if len(kept) >= PER_CAPTURE:
                    break
                kept.append((link, frame))
                if lp is not None and lp[1]:
                    payloads.append(lp[1])
        except OSError as e:
            print("seeds: %s: %s" % (cap, e), file=sys.stderr)
            continue
        for link, frame in kept:
            put(out, "decode", link_byte(link) + frame)
            put(out, "pipeline", link_byte(link) + records([frame]))
        # runs of consecutive frames: dialogs and retransmissions
        for i in range(0, min(len(kept), 64), 8):
            run = [f for lk, f in kept[i:i + 8] if lk == kept[i][0]]
            sequences.append(link_byte(kept[i][0]) + records(run))
    syn = synthetic_frames()
    for fr in syn:
        put(out, "decode", b"\x00" + fr)
        put(out, "pipeline", b"\x00" + records([fr]))
        lp = P.l4_payload(P.LINK_ETHER, fr)
        if lp is not None and lp[1]:
            payloads.append(lp[1])
    put(out, "decode", b"\x01" + P.sll(P.ipv4("192.0.2.1", "10.0.0.5", 17,
                                                P.udp(5060, 5060, P.sip_invite()))))
    put(out, "pipeline", b"\x00" + records(syn[:2] + syn[:2] + syn[5:8]))
    for s in sequences:
        put(out, "pipeline", s)
    for p in payloads + [P.COMPACT, P.FOLDED, P.sip_invite(body=P.SDP)]:
        put(out, "sip", p[:65536])
    # the diagnosis rules read final answers: the captures' own, and the
    # saved reproducers (answers with Reason, Warning, folded headers)
    for p in payloads:
        if p.startswith(b"SIP/2.0 "):
            put(out, "diag", p[:65536])
    for f in sorted(glob.glob(os.path.join(here, "regress", "diag", "*"))):
        with open(f, "rb") as fh:
            put(out, "diag", fh.read())

    confs = glob.glob(os.path.join(root, "config", "*.conf")) + \
        glob.glob(os.path.join(root, "tests", "integration", "*.conf")) + \
        [c[:-len(".pcapng")] + ".conf" for c in sys.argv[2:] if c.endswith(".pcapng")]
    for c in confs:
        if os.path.exists(c):
            with open(c, "rb") as f:
                put(out, "cfg", f.read())
    put(out, "cfg", b"trunks = ({ name = \"x\"; prefixes = [\"10.0.0.0/8\"]; cps = 1; "
                    b"max_concurrent = 1; });\n")
    put(out, "cfg", b"dataplane = { sip_ports = [5060]; };\nctrl = { socket = \"/tmp/s\"; };\n")

    reqs = [b'{"v":1,"id":1,"cmd":"status"}', b'{"v":1,"id":2,"cmd":"trunks","args":{}}',
            b'{"v":1,"id":3,"cmd":"trunk","args":{"name":"carrier-a"}}',
            b'{"v":1,"cmd":"events","args":{"max":10}}', b'{"v":1,"id":5,"cmd":"totals"}\r\n',
            b'{"v":2,"id":6,"cmd":"status"}', b'{"v":1,"id":"x","cmd":"Bad"}']
    resps = [b'{"v":1,"id":1,"status":0,"data":{"uptime_s":12,"workers":2,"trunks":3}}',
             b'{"v":1,"id":2,"status":0,"data":{"trunks":[{"name":"a","cps":3.5,'
             b'"cps_agreed":10,"calls":4,"rate_503":0.5,"share_503":12.5}]}}',
             b'{"v":1,"id":3,"status":0,"data":{"name":"a","series":{"attempts":[0,1,2,5]},'
             b'"events":[{"time_ns":1,"status":503,"call_id":"x\\u001b[2J","retry_after":30}]}}',
             b'{"v":1,"id":4,"status":0,"data":[1,2,3,0,7]}',
             b'{"v":1,"id":5,"status":2,"error":"no such trunk \\"zz\\""}',
             b'{"v":1,"id":6,"status":0,"data":{"totals":{"packets":1,"sip_messages":1}}}']
    for r in reqs:
        put(out, "ctl_api", b"\x00" + r)
    for r in resps:
        put(out, "ctl_api", b"\x01" + r)
    for s in [b"caf\xc3\xa9 \x1b[31m", b"\xc2\x85\xed\xa0\x80\xf4\x90\x80\x80", b"x" * 300]:
        put(out, "ctl_api", b"\x02" + s)
    for p in payloads[:200]:
        put(out, "hep", hep3(p[:60000]))
    # saved reproducers of every harness are seeds too (their inputs'
    # formats are each harness's own: frag and stream records, HEP packets)
    for h in ("hep", "frag", "stream", "fleet", "pcapng"):
        for f in sorted(glob.glob(os.path.join(here, "regress", h, "*"))):
            with open(f, "rb") as fh:
                put(out, h, fh.read())
    for h in ("decode", "sip", "cfg", "ctl_api", "pipeline", "hep", "frag", "stream", "fleet", "diag",
              "pcapng"):
        d = os.path.join(out, h)
        print("seeds: %-8s %d" % (h, len(os.listdir(d)) if os.path.isdir(d) else 0))


if __name__ == "__main__":
    main()

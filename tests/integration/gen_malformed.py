#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the malformed-capture corpus for test_malformed.sh.

One pcap per group of frames (OUTDIR/GROUP.pcap) and all of them in one
file (OUTDIR/all.pcap), plus OUTDIR/expected.json: for every group, how
many frames it holds and how the worker must count them, derived from the
rules in dataplane/dp_worker.c and dp_report.c, not from a run:

  sip_messages  messages with a valid start line, Call-ID and CSeq, from a
                datagram or cut whole from a TCP stream
  non_sip       not IP, not a candidate, empty/CRLF/blank payloads, UDP
                payloads under 32 bytes that do not parse (keep-alives),
                TCP segments without data
  malformed     headers cut short by the capture or inconsistent lengths,
                and SIP-port datagrams of 32 bytes or more that do not parse
  fragments     IPv4/IPv6 fragments (these never complete a datagram here)
  tcp_segments  TCP segments with data, handed to the stream reassembler;
                their messages count in sip_messages when the stream makes
                them whole (each tcp() frame here is a flow of its own, so
                a cut one never is: the end of the capture drops it)

Every frame lands in exactly one of non_sip, malformed, fragments,
tcp_segments or "a datagram carrying SIP", so per group non_sip +
malformed + fragments + tcp_segments + sip_frames == frames. The
keep-alive bound is on what is left after leading blanks.

usage: gen_malformed.py OUTDIR
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgpcap as P  # noqa: E402

KEEPALIVE_MAX = 32
UA, CARRIER = "192.0.2.1", "198.51.100.10"

CONF = """# sipguard config for the malformed-capture test (test_malformed.sh)
dataplane = { sip_ports = [ 5060 ]; };
trunks = (
  { name = "carrier"; prefixes = [ "198.51.100.0/24" ]; cps = 10; max_concurrent = 100; }
);
"""


class Group:
    def __init__(self, name):
        self.name = name
        self.frames = []
        self.exp = {"sip_messages": 0, "non_sip": 0, "malformed": 0, "fragments": 0,
                    "tcp_segments": 0}

    def add(self, frame, bucket, messages=0):
        """bucket: non_sip, malformed, fragments, sip (a datagram with
        `messages` or 1) or tcp_segments (a segment whose stream gives
        `messages`)."""
        self.frames.append(frame)
        if bucket == "sip":
            self.exp["sip_messages"] += messages or 1
        else:
            self.exp[bucket] += 1
            self.exp["sip_messages"] += messages


def udp(payload, sport=5060, dport=5060):
    return P.udp4(UA, CARRIER, sport, dport, payload)


_tcp_port = [40000]


def tcp(payload, seq=1):
    """A segment on a flow of its own (a new source port each time)."""
    _tcp_port[0] += 1
    return P.tcp4(UA, CARRIER, _tcp_port[0], 5060, payload, seq=seq)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(5060)
    invite = P.sip_invite()
    groups = []

    # a valid INVITE, then every proper prefix of it as a datagram: never
    # SIP (the empty line is its last byte); short ones are keep-alives
    g = Group("udp_truncated_invite")
    g.add(udp(invite), "sip")
    for k in range(len(invite)):
        g.add(udp(invite[:k]), "non_sip" if k < KEEPALIVE_MAX else "malformed")
    groups.append(g)

    # the same prefixes as TCP segments, each the whole of its stream: a
    # message cut short never becomes one (an empty segment is no data)
    g = Group("tcp_truncated_invite")
    g.add(tcp(invite), "tcp_segments", 1)
    g.add(tcp(invite[:0]), "non_sip")
    for k in range(1, len(invite)):
        g.add(tcp(invite[:k]), "tcp_segments")
    groups.append(g)

    # the frame itself cut at every byte by the capture (caplen < len):
    # the IP length says more than was captured
    g = Group("capture_truncated")
    full = udp(invite)
    for k in range(len(full)):
        g.add((full[:k], len(full)), "malformed")
    groups.append(g)

    g = Group("overlong_headers")
    big = "X-Long: " + "a" * (60 * 1024) + "\r\n"
    g.add(udp(P.sip_invite(extra=big)), "sip")
    # over TCP a message is kept up to streams.buffer_size (16 KiB): this
    # one is skipped whole and counted (tcp_oversize)
    g.add(tcp(P.sip_invite(extra=big)), "tcp_segments")
    # a 60 KiB line that never ends: the header section is cut short
    g.add(udp(invite.split(b"Content-Type")[0] + b"X-Long: " + b"b" * (60 * 1024)), "malformed")
    g.add(udp(b"INVITE sip:" + b"c" * (60 * 1024) + b" SIP/2.0\r\n\r\n"), "malformed")
    groups.append(g)

    g = Group("nul_bytes")
    g.add(udp(P.sip_invite(extra="Subject: a\0b\r\n")), "sip")
    g.add(udp(P.sip_invite(extra="X-\0Nul: yes\r\n")), "sip")
    g.add(udp(b"\0" * 16), "non_sip")            # blank-only keep-alive
    g.add(udp(b"\0" * 200), "non_sip")           # all blanks
    g.add(udp(b"\0" * 8 + invite), "sip")        # blanks before a message
    g.add(udp(b"INV\0TE" + invite[6:]), "malformed")
    groups.append(g)

    g = Group("empty_values")
    g.add(udp(invite.replace(b"Call-ID: a84b4c76e66710@pc33.example.com", b"Call-ID:")),
          "malformed")
    g.add(udp(invite.replace(b"Call-ID: a84b4c76e66710@pc33.example.com", b"Call-ID:   ")),
          "malformed")
    g.add(udp(invite.replace(b"CSeq: 314159 INVITE", b"CSeq:")), "malformed")
    g.add(udp(invite.replace(b"CSeq: 314159 INVITE", b"CSeq: 314159")), "malformed")
    g.add(udp(invite.replace(b"CSeq: 314159 INVITE", b"CSeq: 99999999999 INVITE")), "malformed")
    g.add(udp(invite.replace(b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds",
                             b"Via:")), "sip")
    g.add(udp(invite.replace(b"Content-Length: 0", b"Content-Length:")), "sip")
    g.add(udp(P.sip_response(extra="Retry-After:\r\nReason:\r\n")), "sip")
    g.add(udp(invite.replace(b"Call-ID: a84b4c76e66710@pc33.example.com\r\n", b"")),
          "malformed")
    groups.append(g)

    # a 64 KiB datagram: IPv4 total length 65535, one SIP message whose
    # body fills it (Content-Length says so)
    g = Group("udp_64k")
    body = b"v=0\r\n" + b"a=x\r\n" * ((65535 - 20 - 8 - 400) // 5)
    msg = P.sip_invite(body=body)
    pad = 65535 - 20 - 8 - len(msg)
    msg = P.sip_invite(body=body + b"a" * (pad - 1) + b"\n") if pad > 0 else msg
    fr = udp(msg)
    assert len(fr) == 14 + 65535, len(fr)
    g.add(fr, "sip")
    groups.append(g)

    g = Group("crlf_storms")
    g.add(tcp(b"\r\n" * 5120), "tcp_segments")
    g.add(udp(b"\r\n" * 5120), "non_sip")
    g.add(tcp(b"\r\n\r\n"), "tcp_segments")
    g.add(tcp(b"\r\n" * 5120 + invite + b"\r\n" * 100 + P.sip_invite(cseq=2)), "tcp_segments", 2)
    g.add(tcp(invite + b"\r\n" * 5120), "tcp_segments", 1)
    groups.append(g)

    g = Group("garbage_5060")
    for n in (1, 8, 31, 32, 33, 100, 1400, 9000):
        data = b"x" + bytes(rnd.randrange(256) for _ in range(n - 1))
        g.add(udp(data), "non_sip" if n < KEEPALIVE_MAX else "malformed")
        g.add(tcp(data), "tcp_segments")
    g.add(P.udp4(UA, "203.0.113.9", 7000, 7001, b"y" * 300), "non_sip")  # not a candidate
    g.add(P.ether(b"\0" * 28, etype=0x0806), "non_sip")                  # ARP
    groups.append(g)

    g = Group("bogus_lengths")
    l4 = P.udp(5060, 5060, invite)
    for tl in (0, 19, 20, 27):                      # shorter than IP (+UDP) header
        g.add(P.ether(P.ipv4(UA, CARRIER, 17, l4, total_len=tl)), "malformed")
    g.add(P.ether(P.ipv4(UA, CARRIER, 17, l4, total_len=len(l4) + 21)), "malformed")
    g.add(P.ether(P.ipv4(UA, CARRIER, 17, l4, total_len=65535)), "malformed")
    g.add(P.ether(P.ipv4(UA, CARRIER, 17, P.udp(5060, 5060, invite, length=7))), "malformed")
    g.add(P.ether(P.ipv4(UA, CARRIER, 17, P.udp(5060, 5060, invite, length=len(invite) + 9))),
          "malformed")
    g.add(P.ether(P.ipv4(UA, CARRIER, 17, P.udp(5060, 5060, invite, length=65535))), "malformed")
    hdr = P.ipv4(UA, CARRIER, 17, l4)
    g.add(P.ether(bytes([0x44]) + hdr[1:]), "malformed")          # IHL 4
    g.add(P.ether(bytes([0x4f]) + hdr[1:40]), "malformed")        # IHL past the frame
    g.add(P.ether(bytes([0x75]) + hdr[1:]), "malformed")          # version 7
    # IP shorter than the frame (Ethernet padding): the message is intact
    g.add(P.ether(P.ipv4(UA, CARRIER, 17, l4)) + b"\0" * 18, "sip")
    v6 = P.ipv6("2001:db8::1", "2001:db8::2", 17, P.udp(5060, 5060, invite))
    g.add(P.ether(v6[:4] + b"\xff\xff" + v6[6:], v6=True), "malformed")   # plen > capture
    g.add(P.ether(v6[:60], v6=True), "malformed")
    g.add(P.ether(P.ipv4(UA, CARRIER, 6, P.tcp(40000, 5060, invite, doff=3))), "malformed")
    g.add(P.ether(P.ipv4(UA, CARRIER, 6, P.tcp(40000, 5060, invite, doff=15)[:40])),
          "malformed")
    groups.append(g)

    g = Group("fragments")
    g.add(P.ether(P.ipv4(UA, CARRIER, 17, l4, flags_frag=0x2000)), "fragments")
    g.add(P.ether(P.ipv4(UA, CARRIER, 17, l4[:200], flags_frag=0x0010)), "fragments")
    groups.append(g)

    allframes = []
    exp = {"groups": {}, "total": {"packets": 0, "sip_messages": 0, "non_sip": 0,
                                   "malformed": 0, "fragments": 0, "tcp_segments": 0}}
    for g in groups:
        P.write_pcap(os.path.join(out, g.name + ".pcap"), g.frames)
        allframes += g.frames
        e = dict(g.exp, packets=len(g.frames))
        exp["groups"][g.name] = e
        for k in exp["total"]:
            exp["total"][k] += e[k]
    P.write_pcap(os.path.join(out, "all.pcap"), allframes)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1)
    with open(os.path.join(out, "malformed.conf"), "w") as f:
        f.write(CONF)
    print("gen_malformed: %d frames in %d groups" % (len(allframes), len(groups)))


if __name__ == "__main__":
    main()

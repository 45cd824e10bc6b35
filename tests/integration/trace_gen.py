#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Whole failed calls, for the trace tests (test_traces.sh).

Each call is a dialer's INVITE to a trunk and the trunk's answers, as a
carrier gives them: 100 Trying, then 503 (Retry-After, Q.850 Reason) and
the dialer's ACK; every third call's INVITE is retransmitted before the
100, every third call's 503 is retransmitted after the ACK (and ACKed again),
as when the first ACK is lost; every fifth call is answered 200 OK and
ACKed instead. Calls start every GAP ms and overlap, so frames of
different calls interleave. Call-IDs never repeat.

usage:
  trace_gen.py write OUT.pcap [--calls N] [--trunks K] [--gap MS] [--seed S]
  trace_gen.py expect PCAP_UNUSED N [same options]
      the Call-IDs a single worker traces with sample_per_second N:
      the first N failed calls per trunk per second of packet time (the
      503's), one per line
  trace_gen.py conf [--trunks K]
      the trunks section of a sipguard config for these trunks
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgpcap as P  # noqa: E402

SIP_PORT = 5060
DIALER = "192.0.2.10"
START_S = 1760000000


def trunk_peer(t):
    return "198.51.100.%d" % (30 + t)


def call_id(a, c):
    return "tr%06d-%d@%s" % (c, a.seed, DIALER)


def msg_request(a, c, t, method, branch):
    peer = trunk_peer(t)
    return ("%s sip:%d@%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:dialer@%s>;tag=f%06d\r\n"
            "To: <sip:%d@%s>%s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 %s\r\n"
            "Contact: <sip:dialer@%s:5060>\r\n"
            "Content-Length: 0\r\n\r\n") % (
        method, c, peer, DIALER, branch, DIALER, c, c, peer,
        ";tag=t%06d" % c if method == "ACK" else "", call_id(a, c), method, DIALER)


def msg_response(a, c, t, status, branch):
    peer = trunk_peer(t)
    extra = ""
    if status.startswith("503"):
        extra = "Retry-After: %d\r\nReason: Q.850;cause=34\r\n" % (5 + t)
    return ("SIP/2.0 %s\r\n"
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s\r\n"
            "From: <sip:dialer@%s>;tag=f%06d\r\n"
            "To: <sip:%d@%s>%s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "%s"
            "Content-Length: 0\r\n\r\n") % (
        status, DIALER, branch, DIALER, c, c, peer,
        "" if status.startswith("100") else ";tag=t%06d" % c, call_id(a, c), extra)


def plan(a):
    """(time_us, frame bytes, call, is the final 503) of every frame, in time order."""
    out = []
    seq = 0
    for c in range(a.calls):
        t = c % a.trunks
        peer = trunk_peer(t)
        t0 = START_S * 1000000 + c * a.gap * 1000
        inv = "%06dinv" % c
        ack = "%06dack" % c

        def to(us, text, final=False):
            nonlocal seq
            seq += 1
            # the IP ident tells byte-equal retransmissions apart, as on a wire
            out.append((us, seq, P.ether(P.ipv4(DIALER, peer, 17, P.udp(5060, SIP_PORT,
                        text.encode()), ident=seq & 0xFFFF)), c, final))

        def fro(us, text, final=False):
            nonlocal seq
            seq += 1
            out.append((us, seq, P.ether(P.ipv4(peer, DIALER, 17, P.udp(SIP_PORT, 5060,
                        text.encode()), ident=seq & 0xFFFF)), c, final))

        to(t0, msg_request(a, c, t, "INVITE", inv))
        if c % 3 == 0:
            to(t0 + 500000, msg_request(a, c, t, "INVITE", inv))
        fro(t0 + 510000 if c % 3 == 0 else t0 + 20000, msg_response(a, c, t, "100 Trying", inv))
        ok = c % 5 == 4
        final = "200 OK" if ok else "503 Service Unavailable"
        fro(t0 + 800000, msg_response(a, c, t, final, inv), final=not ok)
        to(t0 + 810000, msg_request(a, c, t, "ACK", ack if ok else inv))
        if not ok and c % 3 == 1:
            fro(t0 + 1300000, msg_response(a, c, t, final, inv))
            to(t0 + 1310000, msg_request(a, c, t, "ACK", inv))
    out.sort(key=lambda x: (x[0], x[1]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["write", "expect", "conf"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--trunks", type=int, default=2)
    ap.add_argument("--gap", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    if a.what == "conf":
        print("trunks = (")
        print(",\n".join(
            '  { name = "trace-%d"; prefixes = [ "%s/32" ]; cps = 1000; max_concurrent = 10000; }'
            % (t, trunk_peer(t)) for t in range(a.trunks)))
        print(");")
        return 0
    frames = plan(a)
    if a.what == "write":
        P.write_pcap(a.args[0], [f[2] for f in frames],
                     times=[(us // 1000000, us % 1000000) for us, _, _, _, _ in frames])
        return 0
    n = int(a.args[1])
    seen = {}
    for us, _, _, c, final in frames:
        if not final:
            continue
        key = (c % a.trunks, us // 1000 // 1000)
        if seen.get(key, 0) < n:
            seen[key] = seen.get(key, 0) + 1
            print(call_id(a, c))
    return 0


if __name__ == "__main__":
    sys.exit(main())

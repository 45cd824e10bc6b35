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

--mix picks each call's transport in turn: udp (a datagram a message),
tcp (one connection per trunk; each direction's byte stream cut into
segments of 200 to 700 bytes, and every third message's tail held back
and sent with the next message of that direction, so segments end one
message and start another; no SIP retransmissions over TCP), frag4 and
frag6 (UDP over IPv4 or IPv6, a message larger than its fragments: the
datagram cut into 256-byte fragments, every other one sent last first).
A message over TCP or in fragments is whole at the frame that completes
it, which is its time for sampling.

usage:
  trace_gen.py write OUT.pcap [--calls N] [--trunks K] [--gap MS] [--seed S] [--mix M,..]
  trace_gen.py expect PCAP_UNUSED N [same options]
      the Call-IDs a single worker traces with sample_per_second N:
      the first N failed calls per trunk per second of packet time (the
      503's), one per line
  trace_gen.py stats PCAP_UNUSED [same options]
      what the recording holds: calls and frames by transport, TCP
      segments that end one message and start the next, fragments
  trace_gen.py conf [--trunks K]
      the trunks section of a sipguard config for these trunks
"""
import argparse
import collections
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgpcap as P  # noqa: E402

SIP_PORT = 5060
DIALER = "192.0.2.10"
DIALER6 = "2001:db8::10"
START_S = 1760000000
FRAG = 256  # fragment payload bytes: every message is larger


def trunk_peer(t):
    return "198.51.100.%d" % (30 + t)


def trunk_peer6(t):
    return "2001:db8:1::%d" % (30 + t)


def call_id(a, c):
    return "tr%06d-%d@%s" % (c, a.seed, DIALER)


def msg_request(a, c, t, method, branch, proto="UDP"):
    peer = trunk_peer(t)
    return ("%s sip:%d@%s SIP/2.0\r\n"
            "Via: SIP/2.0/" + proto + " %s:5060;branch=z9hG4bK%s\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:dialer@%s>;tag=f%06d\r\n"
            "To: <sip:%d@%s>%s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 %s\r\n"
            "Contact: <sip:dialer@%s:5060>\r\n"
            "Content-Length: 0\r\n\r\n") % (
        method, c, peer, DIALER, branch, DIALER, c, c, peer,
        ";tag=t%06d" % c if method == "ACK" else "", call_id(a, c), method, DIALER)


def msg_response(a, c, t, status, branch, proto="UDP"):
    peer = trunk_peer(t)
    extra = ""
    if status.startswith("503"):
        extra = "Retry-After: %d\r\nReason: Q.850;cause=34\r\n" % (5 + t)
    return ("SIP/2.0 %s\r\n"
            "Via: SIP/2.0/" + proto + " %s:5060;branch=z9hG4bK%s\r\n"
            "From: <sip:dialer@%s>;tag=f%06d\r\n"
            "To: <sip:%d@%s>%s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "%s"
            "Content-Length: 0\r\n\r\n") % (
        status, DIALER, branch, DIALER, c, c, peer,
        "" if status.startswith("100") else ";tag=t%06d" % c, call_id(a, c), extra)


def transport(a, c):
    mix = a.mix.split(",")
    return mix[(c // a.trunks) % len(mix)]


def plan(a):
    """[(time_us, order, frame bytes)] in time order, and [(time_us, order,
    call)] of every final 503, at the frame that completes it."""
    frames = []
    finals = []
    st = a.stats = collections.Counter()
    msgs = []  # TCP messages: (time_us, trunk, to_peer, text, call, final)
    seq = 0

    def put(us, frame):
        nonlocal seq
        seq += 1
        frames.append((us, seq, frame))
        return seq

    def datagram(us, c, t, kind, to_peer, text, final):
        """One UDP message, whole or in fragments."""
        v6 = kind == "frag6"
        me, peer = (DIALER6, trunk_peer6(t)) if v6 else (DIALER, trunk_peer(t))
        src, dst = (me, peer) if to_peer else (peer, me)
        sport, dport = (5060, SIP_PORT) if to_peer else (SIP_PORT, 5060)
        body = text.encode()
        if kind == "udp":
            # the IP ident tells byte-equal retransmissions apart, as on a wire
            o = put(us, P.ether(P.ipv4(src, dst, 17, P.udp(sport, dport, body),
                                       ident=(seq + 1) & 0xFFFF)))
        else:
            l4 = P.udp_cs(src, dst, sport, dport, body)
            ident = seq + 1
            if v6:
                parts = [P.ether(x, v6=True)
                         for x in P.ipv6_fragments(src, dst, 17, l4, FRAG, ident=ident)]
            else:
                parts = [P.ether(x) for x in P.ipv4_fragments(src, dst, 17, l4, FRAG,
                                                             ident=ident & 0xFFFF)]
            if ident % 2 == 0:
                parts.reverse()
            st[kind + " fragments"] += len(parts)
            for k, fr in enumerate(parts):
                o = put(us + k, fr)
            us += len(parts) - 1
        if final:
            finals.append((us, o, c))

    for c in range(a.calls):
        t = c % a.trunks
        kind = transport(a, c)
        st[kind + " calls"] += 1
        t0 = START_S * 1000000 + c * a.gap * 1000
        inv = "%06dinv" % c
        ack = "%06dack" % c
        ok = c % 5 == 4
        final = "200 OK" if ok else "503 Service Unavailable"
        if kind == "tcp":
            msgs.append((t0, t, True, msg_request(a, c, t, "INVITE", inv, "TCP"), c, False))
            msgs.append((t0 + 20000, t, False,
                         msg_response(a, c, t, "100 Trying", inv, "TCP"), c, False))
            msgs.append((t0 + 800000, t, False, msg_response(a, c, t, final, inv, "TCP"), c,
                         not ok))
            msgs.append((t0 + 810000, t, True,
                         msg_request(a, c, t, "ACK", ack if ok else inv, "TCP"), c, False))
            continue

        def to(us, text, fin=False):
            datagram(us, c, t, kind, True, text, fin)

        def fro(us, text, fin=False):
            datagram(us, c, t, kind, False, text, fin)

        to(t0, msg_request(a, c, t, "INVITE", inv))
        if c % 3 == 0:
            to(t0 + 500000, msg_request(a, c, t, "INVITE", inv))
        fro(t0 + 510000 if c % 3 == 0 else t0 + 20000, msg_response(a, c, t, "100 Trying", inv))
        fro(t0 + 800000, msg_response(a, c, t, final, inv), fin=not ok)
        to(t0 + 810000, msg_request(a, c, t, "ACK", ack if ok else inv))
        if not ok and c % 3 == 1:
            fro(t0 + 1300000, msg_response(a, c, t, final, inv))
            to(t0 + 1310000, msg_request(a, c, t, "ACK", inv))
    tcp_streams(a, msgs, put, finals)
    frames.sort(key=lambda x: (x[0], x[1]))
    finals.sort()
    return frames, finals


def tcp_streams(a, msgs, put, finals):
    """Each trunk's connection: a handshake, then each direction's messages
    as a byte stream in segments (see the module's text)."""
    rnd = random.Random(a.seed)
    st = a.stats
    for t in sorted(set(m[1] for m in msgs)):
        peer = trunk_peer(t)
        dport = 40000 + t
        start = min(m[0] for m in msgs if m[1] == t) - 1000
        isn = {True: 1000000 * (t + 1), False: 7000000 * (t + 1)}
        put(start, P.ether(P.ipv4(DIALER, peer, 6, P.tcp_cs(DIALER, peer, dport, SIP_PORT, b"",
                                                             seq=isn[True], flags=0x02))))
        put(start + 100, P.ether(P.ipv4(peer, DIALER, 6, P.tcp_cs(
            peer, DIALER, SIP_PORT, dport, b"", seq=isn[False], flags=0x12))))
        for to_peer in (True, False):
            src, dst = (DIALER, peer) if to_peer else (peer, DIALER)
            sp, dp = (dport, SIP_PORT) if to_peer else (SIP_PORT, dport)
            nxt = isn[to_peer] + 1
            mine = sorted((m for m in msgs if m[1] == t and m[2] == to_peer),
                          key=lambda m: m[0])
            carry = b""
            pending = []  # (end offset in the stream, call, final) not yet sent whole
            sent = 0  # stream bytes sent
            total = 0  # stream bytes written by the sender
            for k, (us, _, _, text, c, fin) in enumerate(mine):
                body = text.encode()
                total += len(body)
                pending.append((total, c, fin))
                data = carry + body
                # every third message's tail waits for the next one, if it is near
                near = k + 1 < len(mine) and mine[k + 1][0] - us < 100000
                keep = rnd.randint(1, len(body) - 1) if k % 3 == 1 and near else 0
                now, carry = data[:len(data) - keep], data[len(data) - keep:]
                off = 0
                while off < len(now):
                    n = min(rnd.randint(200, 700), len(now) - off)
                    seg = now[off:off + n]
                    o = put(us + off // 100, P.ether(P.ipv4(src, dst, 6, P.tcp_cs(
                        src, dst, sp, dp, seg, seq=nxt, flags=0x18))))
                    nxt += n
                    off += n
                    st["tcp segments"] += 1
                    # a message ends inside it, and more bytes follow
                    if any(sent < e < sent + n for e, _, _ in pending):
                        st["tcp segments ending one message and starting the next"] += 1
                    sent += n
                    while pending and pending[0][0] <= sent:
                        if pending[0][2]:
                            finals.append((us + (off - 1) // 100, o, pending[0][1]))
                        pending.pop(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["write", "expect", "conf", "stats"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--trunks", type=int, default=2)
    ap.add_argument("--gap", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--mix", default="udp")
    a = ap.parse_args()
    if set(a.mix.split(",")) - {"udp", "tcp", "frag4", "frag6"}:
        ap.error("--mix: udp, tcp, frag4, frag6")
    if a.what == "conf":
        print("trunks = (")
        print(",\n".join(
            '  { name = "trace-%d"; prefixes = [ "%s/32", "%s/128" ]; cps = 1000; '
            'max_concurrent = 10000; }' % (t, trunk_peer(t), trunk_peer6(t))
            for t in range(a.trunks)))
        print(");")
        return 0
    frames, finals = plan(a)
    if a.what == "stats":
        print(", ".join("%d %s" % (v, k) for k, v in sorted(a.stats.items())))
        return 0
    if a.what == "write":
        P.write_pcap(a.args[0], [f[2] for f in frames],
                     times=[(us // 1000000, us % 1000000) for us, _, _ in frames])
        return 0
    n = int(a.args[1])
    seen = {}
    for us, _, c in finals:
        key = (c % a.trunks, us // 1000 // 1000)
        if seen.get(key, 0) < n:
            seen[key] = seen.get(key, 0) + 1
            print(call_id(a, c))
    return 0


if __name__ == "__main__":
    sys.exit(main())

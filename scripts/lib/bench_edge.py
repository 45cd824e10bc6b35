#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The benchmark's second mix: what a carrier edge sees today.

Calls on three kinds of trunk, in equal numbers:
  * UDP over IPv4 with STIR/SHAKEN-size INVITEs (an Identity header of
    about 800 bytes, P-Asserted-Identity, Diversion, an SDP offer of a
    dozen codecs: about 2.2 KB), which leave as two IP fragments;
  * the same over IPv6 (the sender fragments: two fragments);
  * TCP trunks: each connection opens (SYN, SYN-ACK, ACK), carries a few
    calls whose INVITEs span two segments (MSS 1460) and whose answers
    share segments (a 100 Trying and the 503 back to back, one segment
    ending one message and starting the next), and closes (FIN both ways).
Answers: 503 with Retry-After and Reason for most, 200 OK for every fifth.

The file is replayed in a loop. IP IDs and Call-IDs never repeat within
it, and every connection opens and closes inside it, so each pass through
the file counts the same as the first (a SYN starts a flow afresh).

usage: bench_edge.py OUT.pcap OUT.conf [--calls N]
Prints a one-line JSON summary (frames, fragments, TCP segments, calls).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
import sgpcap as P  # noqa: E402

DIALER4 = "192.0.2.10"
DIALER6 = "2001:db8:d::10"
TRUNK_UDP4 = "198.51.100.10"
TRUNK_UDP6 = "2001:db8:b::20"
TRUNK_TCP = "198.51.100.20"
MSS = 1460

IDENTITY = ("Identity: eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1Ijoi"
            + "aHR0cHM6Ly9jZXJ0LmV4YW1wbGUuY29tL3NoYWtlbi5wZW0ifQ." + "A" * 560
            + ".sig" + "B" * 86 + ";info=<https://cert.example.com/shaken.pem>;alg=ES256;"
            "ppt=shaken\r\n")
EXTRA = (IDENTITY
         + "P-Asserted-Identity: \"Call Center 12\" <sip:+15550100123@192.0.2.10;user=phone>\r\n"
         + "Diversion: <sip:+15550100999@192.0.2.10;user=phone>;reason=unconditional;"
         "counter=1;privacy=off\r\n"
         + "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY\r\n"
         + "Supported: 100rel, timer, replaces\r\nSession-Expires: 1800;refresher=uac\r\n"
         + "User-Agent: dialer-pool/7.2\r\n")
CODECS = [(0, "PCMU/8000"), (8, "PCMA/8000"), (9, "G722/8000"), (18, "G729/8000"),
          (3, "GSM/8000"), (4, "G723/8000"), (96, "opus/48000/2"), (97, "AMR/8000"),
          (98, "AMR-WB/16000"), (99, "iLBC/8000"), (100, "speex/16000"),
          (101, "telephone-event/8000")]


def sdp(host):
    lines = ["v=0", "o=dialer 2890844526 2890844526 IN IP4 %s" % host, "s=-",
             "c=IN IP4 %s" % host, "t=0 0",
             "m=audio 49170 RTP/AVP %s" % " ".join(str(p) for p, _ in CODECS)]
    lines += ["a=rtpmap:%d %s" % c for c in CODECS]
    lines += ["a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode()


def invite(call_id, branch):
    return P.sip_invite(call_id=call_id, cseq=1, branch=branch, body=sdp(DIALER4), extra=EXTRA)


def answer(code, call_id):
    if code == 503:
        return P.sip_response(503, "Service Unavailable", call_id=call_id, cseq=1,
                              extra="Retry-After: 2\r\nReason: Q.850;cause=34\r\n")
    if code == 100:
        return P.sip_response(100, "Trying", call_id=call_id, cseq=1)
    return P.sip_response(200, "OK", call_id=call_id, cseq=1)


def seg(src, dst, sp, dp, payload, seq, flags):
    return P.ether(P.ip(src, dst, 6, P.tcp_cs(src, dst, sp, dp, payload, seq=seq, flags=flags)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("conf")
    ap.add_argument("--calls", type=int, default=6000)
    a = ap.parse_args()

    frames = []
    nfrag = nseg = 0
    ident = 1
    sport = 20000
    calls_per_conn = 4
    for c in range(a.calls):
        kind = c % 3
        cid = "edge-%d-%x@192.0.2.10" % (c, c * 2654435761 & 0xFFFFFFFF)
        code = 200 if c % 5 == 0 else 503
        if kind == 0:
            l4 = P.udp_cs(DIALER4, TRUNK_UDP4, 5060, 5060, invite(cid, "z9hG4bKe%d" % c))
            for f in P.ipv4_fragments(DIALER4, TRUNK_UDP4, 17, l4, 1480, ident=ident & 0xFFFF):
                frames.append(P.ether(f))
                nfrag += 1
            ident += 1
            frames.append(P.ether(P.ip(TRUNK_UDP4, DIALER4, 17,
                                       P.udp_cs(TRUNK_UDP4, DIALER4, 5060, 5060,
                                                answer(code, cid)), ident=ident & 0xFFFF)))
            ident += 1
        elif kind == 1:
            l4 = P.udp_cs(DIALER6, TRUNK_UDP6, 5060, 5060, invite(cid, "z9hG4bKe%d" % c))
            for f in P.ipv6_fragments(DIALER6, TRUNK_UDP6, 17, l4, 1448, ident=ident):
                frames.append(P.ether(f, v6=True))
                nfrag += 1
            ident += 1
            frames.append(P.ether(P.ipv6(TRUNK_UDP6, DIALER6, 17,
                                         P.udp_cs(TRUNK_UDP6, DIALER6, 5060, 5060,
                                                  answer(code, cid))), v6=True))
        else:
            n = (c // 3) % calls_per_conn
            if n == 0:
                sport += 1
                if sport > 60000:
                    sport = 20001
                cseq, sseq = 1000, 5000
                frames.append(seg(DIALER4, TRUNK_TCP, sport, 5060, b"", cseq - 1, 0x02))
                frames.append(seg(TRUNK_TCP, DIALER4, 5060, sport, b"", sseq - 1, 0x12))
            msg = invite(cid, "z9hG4bKt%d" % c)
            for off in range(0, len(msg), MSS):
                frames.append(seg(DIALER4, TRUNK_TCP, sport, 5060, msg[off:off + MSS], cseq,
                                  0x18))
                cseq += len(msg[off:off + MSS])
                nseg += 1
            rsp = answer(100, cid) + answer(code, cid)
            frames.append(seg(TRUNK_TCP, DIALER4, 5060, sport, rsp, sseq, 0x18))
            sseq += len(rsp)
            nseg += 1
            if n == calls_per_conn - 1:
                frames.append(seg(DIALER4, TRUNK_TCP, sport, 5060, b"", cseq, 0x11))
                frames.append(seg(TRUNK_TCP, DIALER4, 5060, sport, b"", sseq, 0x11))
    P.write_pcap(a.out, frames)
    with open(a.conf, "w") as f:
        f.write("""# the benchmark's edge mix (scripts/lib/bench_edge.py)
dataplane = { sip_ports = [ 5060 ]; };
trunks = (
  { name = "udp4-frag"; prefixes = [ "%s/32" ]; cps = 100000; max_concurrent = 100000; },
  { name = "udp6-frag"; prefixes = [ "2001:db8:b::/48" ]; cps = 100000; max_concurrent = 100000; },
  { name = "tcp"; prefixes = [ "%s/32" ]; cps = 100000; max_concurrent = 100000; }
);
""" % (TRUNK_UDP4, TRUNK_TCP))
    print(json.dumps({"frames": len(frames), "fragments": nfrag, "tcp_segments": nseg,
                      "calls": a.calls, "invite_bytes": len(invite("x" * 30, "z9hG4bKe1"))}))


if __name__ == "__main__":
    main()

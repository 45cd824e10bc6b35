#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Hostile reassembly traffic for the flood test: nothing in it is SIP.

Every frame comes from 203.0.113.0/24 or 2001:db8:bad::/48 (no trunk) to
an address of no trunk, so none of it may ever become a counted message:
  * tiny IPv4 first fragments (8 bytes of payload, MF set), each a new
    datagram that never completes;
  * full-size IPv4 first fragments that never complete;
  * overlapping IPv4 fragments: a first fragment and a second whose offset
    reaches back into it;
  * tiny IPv6 first fragments that never complete;
  * TCP to port 5060 from ever new source ports: one segment each holding
    the start of a SIP request whose header section never ends, so each
    flow takes a stream buffer and keeps it;
  * TCP segments far beyond the window of those flows.
The kinds are interleaved in equal shares. With --frames N the file has N
frames; replayed in a loop, the IP IDs and ports repeat only after a whole
file, long after the reassembly timeout and the flow table's turnover.

usage: hostile_gen.py OUT.pcap [--frames N]
Prints a one-line JSON summary of the frames per kind.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgpcap as P  # noqa: E402

VICTIM4 = "198.51.100.250"
VICTIM6 = "2001:db8:bad::1"
PARTIAL = (b"INVITE sip:x@198.51.100.250 SIP/2.0\r\n"
           b"Via: SIP/2.0/TCP 203.0.113.9:5060;branch=z9hG4bKhostile\r\n"
           b"X-Pad: " + b"x" * 600 + b"\r\n")


def src4(i):
    return "203.0.113.%d" % (1 + i % 250)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=60000)
    a = ap.parse_args()

    frames = []
    kinds = {"tiny4": 0, "big4": 0, "overlap4": 0, "tiny6": 0, "tcp_flow": 0, "tcp_ahead": 0}
    i = 0
    while len(frames) < a.frames:
        k = i % 6
        ident = (i * 7 + 1) & 0xFFFF
        if k == 0:
            frames.append(P.ether(P.ipv4(src4(i), VICTIM4, 17, b"\x13\xc4\x13\xc4\x00\x40\x00\x00",
                                         flags_frag=0x2000, ident=ident)))
            kinds["tiny4"] += 1
        elif k == 1:
            frames.append(P.ether(P.ipv4(src4(i), VICTIM4, 17, b"\x13\xc4\x13\xc4\x07\xd0\x00\x00"
                                         + b"z" * 1472, flags_frag=0x2000, ident=ident)))
            kinds["big4"] += 1
        elif k == 2:
            frames.append(P.ether(P.ipv4(src4(i), VICTIM4, 17, b"\x13\xc4\x13\xc4\x04\x00\x00\x00"
                                         + b"o" * 1000, flags_frag=0x2000, ident=ident)))
            frames.append(P.ether(P.ipv4(src4(i), VICTIM4, 17, b"p" * 600,
                                         flags_frag=0x0000 | (504 // 8), ident=ident)))
            kinds["overlap4"] += 2
        elif k == 3:
            fh = bytes([17, 0, 0, 1]) + (i & 0xFFFFFFFF).to_bytes(4, "big")
            frames.append(P.ether(P.ipv6("2001:db8:bad::%x" % (1 + i % 4000), VICTIM6, 17,
                                         b"\x13\xc4\x13\xc4\x00\x40\x00\x00", ext=fh,
                                         ext_proto=44), v6=True))
            kinds["tiny6"] += 1
        elif k == 4:
            sport = 1024 + (i // 6) % 60000
            frames.append(P.ether(P.ip(src4(i), VICTIM4, 6,
                                       P.tcp_cs(src4(i), VICTIM4, sport, 5060, PARTIAL,
                                                seq=1000, flags=0x18))))
            kinds["tcp_flow"] += 1
        else:
            sport = 1024 + (i // 6) % 60000
            frames.append(P.ether(P.ip(src4(i - 1), VICTIM4, 6,
                                       P.tcp_cs(src4(i - 1), VICTIM4, sport, 5060,
                                                b"SIP/2.0 200 OK\r\n", seq=1000 + (1 << 30),
                                                flags=0x18))))
            kinds["tcp_ahead"] += 1
        i += 1
    P.write_pcap(a.out, frames[:a.frames])
    kinds["frames"] = min(len(frames), a.frames)
    print(json.dumps(kinds))


if __name__ == "__main__":
    main()

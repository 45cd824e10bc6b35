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
  * tiny IPv6 first fragments that never complete, and overlapping IPv6
    fragments (af_packet's fanout hands IPv4 fragments to the kernel's
    reassembly, which drops overlaps itself: only IPv6 ones reach
    sipguard's own);
  * TCP to port 5060 from ever new source ports: one segment each holding
    the start of a SIP request whose header section never ends, so each
    flow takes a stream buffer and keeps it;
  * TCP segments far beyond the window of those flows.
The kinds are interleaved in equal shares. With --frames N the file has N
frames; replayed in a loop, the IP IDs and ports repeat only after a whole
file, long after the reassembly timeout and the flow table's turnover.

usage: hostile_gen.py OUT.pcap [--frames N]
       hostile_gen.py --count-ipv4-fragments SENT [--frames N]
The first prints a one-line JSON summary of the frames per kind; the
second, how many of the first SENT frames of the looped file are IPv4
fragments (what af_packet's fanout hands to the kernel's reassembly
instead of to the port: see test_flood.sh).
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
    ap.add_argument("out", nargs="?")
    ap.add_argument("--frames", type=int, default=60000)
    ap.add_argument("--count-ipv4-fragments", type=int, metavar="SENT")
    a = ap.parse_args()
    if a.count_ipv4_fragments is not None:
        print(count_ipv4_fragments(a.count_ipv4_fragments, a.frames))
        return
    if a.out is None:
        ap.error("OUT.pcap is required")
    frames = build(a.frames, None)
    P.write_pcap(a.out, frames)


def kind_sequence(nframes):
    """The kind of every frame of the file, in order."""
    kinds = []
    build(nframes, kinds)
    return kinds


def count_ipv4_fragments(sent, nframes):
    kinds = kind_sequence(nframes)
    per_file = sum(1 for k in kinds if k in IPV4_FRAGMENTS)
    full, rest = divmod(sent, len(kinds))
    return full * per_file + sum(1 for k in kinds[:rest] if k in IPV4_FRAGMENTS)


IPV4_FRAGMENTS = ("tiny4", "big4", "overlap4")


def build(nframes, seq):
    """The frames of the file; with seq a list, their kinds are appended."""
    frames = []
    kinds = {"tiny4": 0, "big4": 0, "overlap4": 0, "tiny6": 0, "overlap6": 0, "tcp_flow": 0, "tcp_ahead": 0}
    i = 0

    def add(kind, frame):
        frames.append(frame)
        kinds[kind] += 1
        if seq is not None:
            seq.append(kind)
    while len(frames) < nframes:
        k = i % 6
        ident = (i * 7 + 1) & 0xFFFF
        if k == 0:
            add("tiny4", P.ether(P.ipv4(src4(i), VICTIM4, 17, b"\x13\xc4\x13\xc4\x00\x40\x00\x00",
                                        flags_frag=0x2000, ident=ident)))
        elif k == 1:
            add("big4", P.ether(P.ipv4(src4(i), VICTIM4, 17, b"\x13\xc4\x13\xc4\x07\xd0\x00\x00"
                                       + b"z" * 1472, flags_frag=0x2000, ident=ident)))
        elif k == 2:
            add("overlap4", P.ether(P.ipv4(src4(i), VICTIM4, 17, b"\x13\xc4\x13\xc4\x04\x00\x00\x00"
                                           + b"o" * 1000, flags_frag=0x2000, ident=ident)))
            add("overlap4", P.ether(P.ipv4(src4(i), VICTIM4, 17, b"p" * 600,
                                           flags_frag=0x0000 | (504 // 8), ident=ident)))
        elif k == 3:
            fh = bytes([17, 0, 0, 1]) + (i & 0xFFFFFFFF).to_bytes(4, "big")
            add("tiny6", P.ether(P.ipv6("2001:db8:bad::%x" % (1 + i % 4000), VICTIM6, 17,
                                        b"\x13\xc4\x13\xc4\x00\x40\x00\x00", ext=fh,
                                        ext_proto=44), v6=True))
            if (i // 6) % 4 == 0:
                # a first fragment and a last one whose offset reaches back into it
                ident6 = (0x80000000 | i) & 0xFFFFFFFF
                src6 = "2001:db8:bad::%x" % (1 + i % 4000)
                first = bytes([17, 0, 0, 1]) + ident6.to_bytes(4, "big")
                last = bytes([17, 0]) + ((504 // 8) << 3).to_bytes(2, "big") + \
                    ident6.to_bytes(4, "big")
                add("overlap6", P.ether(P.ipv6(src6, VICTIM6, 17, b"\x13\xc4\x13\xc4\x04\x00\x00\x00"
                                               + b"o" * 1000, ext=first, ext_proto=44), v6=True))
                add("overlap6", P.ether(P.ipv6(src6, VICTIM6, 17, b"p" * 600, ext=last,
                                               ext_proto=44), v6=True))
        elif k == 4:
            sport = 1024 + (i // 6) % 60000
            add("tcp_flow", P.ether(P.ip(src4(i), VICTIM4, 6,
                                         P.tcp_cs(src4(i), VICTIM4, sport, 5060, PARTIAL,
                                                  seq=1000, flags=0x18))))
        else:
            sport = 1024 + (i // 6) % 60000
            add("tcp_ahead", P.ether(P.ip(src4(i - 1), VICTIM4, 6,
                                          P.tcp_cs(src4(i - 1), VICTIM4, sport, 5060,
                                                   b"SIP/2.0 200 OK\r\n", seq=1000 + (1 << 30),
                                                   flags=0x18))))
        i += 1
    del frames[nframes:]
    if seq is not None:
        del seq[nframes:]
    else:
        kinds["frames"] = len(frames)
        print(json.dumps(kinds))
    return frames


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Self-test of the tshark oracle on a small hand-built capture.

The oracle is what sipguard is judged against, so it is checked on its
own: this writes a pcap frame by frame (Ethernet, IPv4/IPv6, UDP/TCP, SIP
text), runs tshark_counts.count() over it and asserts counts worked out by
hand from the rules: longest prefix, destination on a tie, the per-trunk
port, the 32 s retransmission window refreshed on each sighting, several
SIP messages in one TCP segment and messages cut by its end, trunk peers
on other ports, fragments skipped, non-candidates ignored. Needs tshark,
not root.

`test_oracle.py --write DIR` writes the capture and its config as
DIR/synthetic.pcap and DIR/synthetic.conf instead (test_synthetic_tshark.sh).
"""

import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tshark_counts  # noqa: E402

CONFIG = """
# comment with a "quoted" trunks = ( { name = "bogus"; } )
dataplane = { sip_ports = [ 5060, 5080 ]; retrans_window = 32; };
trunks = (
  { name = "wide"; prefixes = [ "198.51.100.0/24" ]; cps = 10; max_concurrent = 10; },
  /* narrow sits inside wide */
  { name = "narrow"; prefixes = [ "198.51.100.10/32" ]; cps = 10; max_concurrent = 10; },
  { name = "v6"; prefixes = [ "203.0.113.20/32", "2001:db8:b::/48" ];
    port = 5080; cps = 10; max_concurrent = 10; },
  { name = "peer"; prefixes = [ "192.0.2.0/24" ]; cps = 10; max_concurrent = 10; }
);
"""


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def l4(proto, src, dst, sport, dport, payload, pseudo):
    if proto == "udp":
        hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
        c = csum(pseudo(17, 8 + len(payload)) + hdr + payload)
        return 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), c or 0xFFFF) + payload
    hdr = struct.pack("!HHIIBBHHH", sport, dport, 1000, 1, 5 << 4, 0x18, 65535, 0, 0)
    c = csum(pseudo(6, 20 + len(payload)) + hdr + payload)
    hdr = hdr[:16] + struct.pack("!H", c) + hdr[18:]
    return 6, hdr + payload


def frame(proto, src, dst, sport, dport, payload, frag=False):
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
    if ":" in src:
        s, d = ip6(src), ip6(dst)
        nxt, seg = l4(proto, s, d, sport, dport, payload,
                      lambda p, n: s + d + struct.pack("!IxxxB", n, p))
        return eth + b"\x86\xdd" + struct.pack("!IHBB", 6 << 28, len(seg), nxt, 64) + s + d + seg
    s, d = ip4(src), ip4(dst)
    nxt, seg = l4(proto, s, d, sport, dport, payload,
                  lambda p, n: s + d + struct.pack("!xBH", p, n))
    flags = 0x2000 if frag else 0x4000  # MF, or DF
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 1, flags, 64, nxt, 0, s, d)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return eth + b"\x08\x00" + hdr + seg


def request(method, call_id, cseq, cseq_method=None):
    return ("%s sip:x@example.invalid SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-%s-%d\r\n"
            "From: <sip:a@example.invalid>;tag=1\r\n"
            "To: <sip:x@example.invalid>\r\n"
            "Call-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n"
            % (method, call_id, cseq, call_id, cseq, cseq_method or method)).encode()


def with_body(msg, body, content_length):
    """msg with a body; Content-Length may claim more than is there."""
    head = msg.replace(b"Content-Length: 0\r\n",
                       b"Content-Length: %d\r\n" % content_length)
    return head + body


def response(code, reason, call_id, cseq, cseq_method):
    return ("SIP/2.0 %d %s\r\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-%s-%d\r\n"
            "From: <sip:a@example.invalid>;tag=1\r\n"
            "To: <sip:x@example.invalid>;tag=2\r\n"
            "Call-ID: %s\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n"
            % (code, reason, call_id, cseq, call_id, cseq, cseq_method)).encode()


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, data in frames:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", 1700000000 + sec, usec, len(data), len(data)))
            f.write(data)


D4 = "192.0.2.1"        # dialer, in trunk "peer"
X4 = "192.0.2.99"
W4 = "198.51.100.99"    # in "wide" only
N4 = "198.51.100.10"    # in "narrow" (and wide)
B4 = "203.0.113.20"     # "v6" trunk, port 5080 only
D6 = "2001:db8:d::1"
B6 = "2001:db8:b::20"

FRAMES = [
    # Toward narrow: /32 beats peer's /24 on the other side.
    (0.0, frame("udp", D4, N4, 5060, 5060, request("INVITE", "c1", 1))),
    (0.5, frame("udp", D4, N4, 5060, 5060, request("INVITE", "c1", 1))),   # retrans
    # exactly 32 s after the last sighting: still within the window.
    (32.5, frame("udp", D4, N4, 5060, 5060, request("INVITE", "c1", 1))),  # retrans
    # 63 s after the first, 30.5 s after the last: each sighting refreshes.
    (63.0, frame("udp", D4, N4, 5060, 5060, request("INVITE", "c1", 1))),  # retrans
    # 32.5 s after the last: outside the window, a new attempt.
    (95.5, frame("udp", D4, N4, 5060, 5060, request("INVITE", "c1", 1))),
    # From narrow: final answers.
    (104.7, frame("udp", N4, D4, 5060, 5060, response(503, "Service Unavailable", "c1", 1, "INVITE"))),
    (105.2, frame("udp", N4, D4, 5060, 5060, response(503, "Service Unavailable", "c1", 1, "INVITE"))),  # retrans
    (105.3, frame("udp", D4, N4, 5060, 5060, request("ACK", "c1", 1))),
    # Same Call-ID/CSeq, other direction: not a retransmission of the INVITE.
    (105.4, frame("udp", N4, D4, 5060, 5060, request("INVITE", "c1", 1))),
    # Tie: /24 peer vs /24 wide, the destination wins, toward wide.
    (106.0, frame("udp", D4, W4, 5060, 5060, request("INVITE", "c2", 1))),
    (106.1, frame("udp", W4, D4, 5060, 5060, response(200, "OK", "c2", 1, "INVITE"))),  # to peer
    # Port-bound trunk: B4:5080 is "v6"; B4:5060 belongs to no trunk.
    (107.0, frame("udp", X4, B4, 5070, 5080, request("OPTIONS", "c3", 1))),
    (107.1, frame("udp", X4, B4, 5070, 5060, request("OPTIONS", "c4", 1))),  # peer (src)
    # Two messages in one TCP segment, IPv6, toward v6.
    (108.0, frame("tcp", D6, B6, 40000, 5080,
                 request("INVITE", "c5", 1) + request("BYE", "c6", 7))),
    (108.1, frame("tcp", B6, D6, 5080, 40000,
                 response(100, "Trying", "c5", 1, "INVITE")
                 + response(486, "Busy Here", "c5", 1, "INVITE")
                 + response(200, "OK", "c6", 7, "BYE"))),
    # Unmatched (no trunk), on a SIP port; and a method counted as OTHER.
    (109.0, frame("udp", "2001:db8:e::1", "2001:db8:e::2", 5060, 5060, request("FOO", "c7", 1))),
    (109.1, frame("udp", "2001:db8:e::1", "2001:db8:e::2", 5060, 5060, request("INVITE", "c8", 1))),
    # No trunk, no direction: a final answer to INVITE counts either way.
    (109.2, frame("udp", "2001:db8:e::2", "2001:db8:e::1", 5060, 5060,
                  response(486, "Busy Here", "c8", 1, "INVITE"))),
    (109.3, frame("udp", "2001:db8:e::2", "2001:db8:e::1", 5060, 5060,
                  response(486, "Busy Here", "c8", 1, "INVITE"))),  # retrans
    # Not a candidate: no trunk address and no SIP port.
    (110.0, frame("udp", "2001:db8:e::1", "2001:db8:e::2", 4000, 4001, request("INVITE", "c9", 1))),
    # TCP segment ending inside a header block: only the first counts.
    (112.0, frame("tcp", D6, B6, 40000, 5080,
                  request("MESSAGE", "c11", 1) + request("INVITE", "c12", 1)[:60])),
    # Header block whole, body cut by the end of the segment: counts.
    (112.1, frame("tcp", D6, B6, 40000, 5080,
                  with_body(request("INVITE", "c13", 1), b"v=0\r\no=x", 120))),
    # The rest of an earlier message, then a new one: nothing counts.
    (112.2, frame("tcp", D6, B6, 40000, 5080,
                  b"a=rtpmap:0 PCMU/8000\r\n" + request("BYE", "c13", 2))),
    # A body is skipped by its Content-Length, blank line and all.
    (112.3, frame("tcp", D6, B6, 40000, 5080,
                  with_body(request("INFO", "c15", 1), b"abc\r\n\r\ndef!", 12)
                  + request("INFO", "c16", 1)[:50])),
    # A trunk peer on a port that is not a SIP port is SIP (tshark would
    # say X11, SNMP).
    (113.0, frame("tcp", D4, W4, 5999, 6060, request("INVITE", "c14", 1))),
    (113.1, frame("udp", D4, W4, 5999, 161, request("INVITE", "c17", 1))),
    # A fragment is not reassembled.
    (111.0, frame("udp", D4, N4, 5060, 5060, request("INVITE", "c10", 1), frag=True)),
]


class OracleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cap = os.path.join(cls.tmp.name, "oracle.pcap")
        conf = os.path.join(cls.tmp.name, "oracle.conf")
        write_pcap(cap, FRAMES)
        with open(conf, "w") as f:
            f.write(CONFIG)
        cls.cfg = tshark_counts.load_config(conf)
        cls.r = tshark_counts.count(cls.cfg, cap)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def t(self, name):
        return self.r["trunks"][name]

    def test_config_reader(self):
        self.assertEqual(self.cfg["sip_ports"], [5060, 5080])
        self.assertEqual(self.cfg["retrans_window"], 32)
        self.assertEqual([t["name"] for t in self.cfg["trunks"]],
                         ["wide", "narrow", "v6", "peer"])
        self.assertEqual(self.cfg["trunks"][2]["port"], 5080)
        self.assertEqual(self.cfg["trunks"][2]["prefixes"],
                         ["203.0.113.20/32", "2001:db8:b::/48"])

    def test_window_refreshed_on_each_sighting(self):
        n = self.t("narrow")
        self.assertEqual(n["requests"]["INVITE"], 6)
        self.assertEqual(n["invite_attempts"], 2)
        # three INVITE repeats, one 503 repeat
        self.assertEqual(n["retransmissions"], 4)

    def test_invite_final_from_trunk_only_once(self):
        n = self.t("narrow")
        self.assertEqual(n["responses"], {"503": 2})
        self.assertEqual(n["invite_final"], {"503": 1})
        self.assertEqual(n["requests"]["ACK"], 1)

    def test_tie_goes_to_destination(self):
        self.assertEqual(self.t("wide")["requests"], {"INVITE": 3})
        self.assertEqual(self.t("wide")["invite_attempts"], 3)
        # The 200 from W4 to D4 is a tie too: toward peer, not from wide.
        self.assertEqual(self.t("wide")["responses"], {})
        self.assertEqual(self.t("peer")["responses"], {"200": 1})
        self.assertEqual(self.t("peer")["invite_final"], {})

    def test_port_bound_trunk(self):
        self.assertEqual(self.t("v6")["requests"].get("OPTIONS"), 1)
        self.assertEqual(self.t("peer")["requests"].get("OPTIONS"), 1)

    def test_tcp_segments(self):
        v6 = self.t("v6")
        self.assertEqual(v6["requests"], {"INVITE": 2, "BYE": 1, "OPTIONS": 1, "MESSAGE": 1,
                                         "INFO": 1})
        self.assertEqual(v6["responses"], {"100": 1, "486": 1, "200": 1})
        self.assertEqual(v6["invite_attempts"], 2)
        self.assertEqual(v6["invite_final"], {"486": 1})

    def test_unmatched_and_other(self):
        u = self.r["unmatched"]
        self.assertEqual(u["requests"], {"OTHER": 1, "INVITE": 1})
        self.assertEqual(u["invite_attempts"], 1)
        self.assertEqual(u["responses"], {"486": 2})
        self.assertEqual(u["invite_final"], {"486": 1})
        self.assertEqual(u["retransmissions"], 1)

    def test_source(self):
        s = self.r["source"]
        self.assertEqual(s["packets"], len(FRAMES))
        self.assertEqual(s["fragments"], 1)
        self.assertEqual(s["bytes"], sum(len(f) for _, f in FRAMES))


def write_case(directory):
    """Write the hand-built capture and its config (for sipguard too)."""
    write_pcap(os.path.join(directory, "synthetic.pcap"), FRAMES)
    with open(os.path.join(directory, "synthetic.conf"), "w") as f:
        f.write(CONFIG)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        write_case(sys.argv[2])
        sys.exit(0)
    result = unittest.main(exit=False, verbosity=1).result
    failed = len(result.failures) + len(result.errors)
    print("oracle: %d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed or not result.wasSuccessful() else 0)

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""HEP for the tshark oracle: the SIP that HEP agents sent, as a capture.

tshark 4.0 has no HEP dissector, so the oracle decodes HEP here, from the
HEPv3 wire format alone (Python standard library), and hands tshark a
capture of what the HEP packets carried: one synthetic Ethernet/IP/UDP
frame per accepted HEP packet whose payload type is SIP, with the HEP
chunks' inner addresses and ports and the HEP capture time as frame time.
The SIP payload goes in UDP even when the inner transport was TCP or TLS:
each HEP packet carries exactly one whole message.

    hep_unwrap.py [--tshark PATH] CONFIG CAPTURE OUT.pcap

prints the HEP figures as JSON. tshark_counts.py calls unwrap() and counts
OUT.pcap like any capture.

Which packets are HEP: UDP datagrams, and the client-to-server bytes of TCP
streams, whose innermost destination port is hep.port (0: none), in frames
with at most decap.max_depth encapsulations. tshark supplies UDP payloads
after its own IP defragmentation (a datagram in fragments is one payload,
in the frame that completed it) and TCP segments with their sequence
numbers; a stream's bytes are put in order here (duplicate bytes dropped,
early segments held until the hole before them is filled) and cut into
HEP packets by the HEPv3 length field.

Rules:
- refused: the packet's source address (the innermost IP header carrying
  the UDP/TCP, not the addresses inside HEP) is in no prefix of hep.allow
  (empty: every packet is refused); or hep.auth_key is set and the
  packet has no generic chunk 14, or one whose value, less trailing NUL
  bytes, differs from the key.
- malformed (from an allowed agent): not "HEP3" (HEPv1/v2 are not
  decoded), a length field that differs from the datagram's size or is
  under 6, a chunk length under 6 or past the end; a SIP packet without
  IP family (chunk 1: 2 or 10), the inner addresses of that family
  (chunks 3/4 or 5/6, of 4 or 16 bytes), ports (chunks 7/8) or a payload
  (chunk 15, or 16 gzip-compressed), or too big for one UDP datagram. On
  TCP, a stream whose bytes stop being HEP is malformed once and then
  ignored.
- accepted: every other packet. hep_sip counts those whose payload type
  (chunk 11) is 1 (SIP): each becomes one frame. The capture time is
  chunks 9 and 10 (seconds, microseconds); without chunk 9 it is the time
  of the frame that carried the packet.
- Only chunks with vendor id 0 (generic) are read; other vendors' chunks
  are skipped.
"""

import argparse
import gzip
import ipaddress
import json
import os
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgpcap  # noqa: E402

FIELDS = ("frame.number", "frame.time_epoch", "frame.protocols", "ip.src", "ipv6.src",
          "udp.dstport", "udp.payload", "tcp.dstport", "tcp.stream", "tcp.seq",
          "tcp.flags.syn", "tcp.payload")
UDP_MAX = 65535 - 8 - 40


class HepError(Exception):
    pass


def parse_hep3(data):
    """The generic chunks of one HEPv3 packet: {type: [values]}."""
    if len(data) < 6 or data[:4] != b"HEP3":
        raise HepError("not HEPv3")
    if struct.unpack("!H", data[4:6])[0] != len(data):
        raise HepError("length field is not the packet's size")
    chunks = {}
    off = 6
    while off < len(data):
        if off + 6 > len(data):
            raise HepError("chunk header cut short")
        vendor, ctype, clen = struct.unpack("!HHH", data[off:off + 6])
        if clen < 6 or off + clen > len(data):
            raise HepError("chunk length %d at %d" % (clen, off))
        if vendor == 0:
            chunks.setdefault(ctype, []).append(bytes(data[off + 6:off + clen]))
        off += clen
    return chunks


def chunk(chunks, ctype, size=None, required=True):
    v = chunks.get(ctype)
    if not v:
        if required:
            raise HepError("no chunk %d" % ctype)
        return None
    if size is not None and len(v[0]) != size:
        raise HepError("chunk %d of %d bytes" % (ctype, len(v[0])))
    return v[0]


def uint(b):
    return int.from_bytes(b, "big")


def sip_of(chunks, fallback_time):
    """(frame bytes, (sec, usec)) of a SIP-carrying packet's message."""
    family = uint(chunk(chunks, 1, 1))
    if family == 2:
        src = ipaddress.IPv4Address(chunk(chunks, 3, 4))
        dst = ipaddress.IPv4Address(chunk(chunks, 4, 4))
    elif family == 10:
        src = ipaddress.IPv6Address(chunk(chunks, 5, 16))
        dst = ipaddress.IPv6Address(chunk(chunks, 6, 16))
    else:
        raise HepError("IP family %d" % family)
    sport = uint(chunk(chunks, 7, 2))
    dport = uint(chunk(chunks, 8, 2))
    payload = chunk(chunks, 15, required=False)
    if payload is None:
        packed = chunk(chunks, 16)
        try:
            payload = gzip.decompress(packed)
        except (OSError, EOFError, zlib.error) as e:
            raise HepError("compressed payload: %s" % e)
    if len(payload) > UDP_MAX:
        raise HepError("payload of %d bytes" % len(payload))
    sec = chunk(chunks, 9, 4, required=False)
    if sec is None:
        when = fallback_time
    else:
        usec = chunk(chunks, 10, 4, required=False)
        usec = uint(usec) if usec is not None else 0
        when = (uint(sec) + usec // 1000000, usec % 1000000)
    s, d = str(src), str(dst)
    l4 = sgpcap.udp_cs(s, d, sport, dport, payload)
    return sgpcap.ether(sgpcap.ip(s, d, 17, l4), v6=family == 10), when


class Unwrapper:
    def __init__(self, hep_cfg):
        self.allow = [ipaddress.ip_network(p, strict=False) for p in hep_cfg.get("allow") or []]
        key = hep_cfg.get("auth_key") or ""
        self.key = key.encode("utf-8") if key else None
        self.stats = {"hep_packets": 0, "hep_accepted": 0, "hep_refused": 0,
                      "hep_malformed": 0, "hep_sip": 0}
        self.frames, self.times, self.carriers = [], [], []

    def allowed(self, agent):
        return any(agent.version == n.version and agent in n for n in self.allow)

    def packet(self, agent, data, carrier, carrier_time):
        """One HEP packet (a datagram, or a length-framed piece of a stream)."""
        st = self.stats
        st["hep_packets"] += 1
        if not self.allowed(agent):
            st["hep_refused"] += 1
            return
        try:
            chunks = parse_hep3(data)
        except HepError:
            st["hep_malformed"] += 1
            return
        if self.key is not None:
            got = chunks.get(14)
            if not got or got[0].rstrip(b"\0") != self.key:
                st["hep_refused"] += 1
                return
        ptype = chunk(chunks, 11, 1, required=False)
        if ptype is None or uint(ptype) != 1:
            st["hep_accepted"] += 1
            return
        try:
            frame, when = sip_of(chunks, carrier_time)
        except HepError:
            st["hep_malformed"] += 1
            return
        st["hep_accepted"] += 1
        st["hep_sip"] += 1
        self.frames.append(frame)
        self.times.append(when)
        self.carriers.append(carrier)


class Stream:
    """One TCP stream's client-to-server bytes, in order, cut into HEP packets."""

    def __init__(self):
        self.next = None
        self.held = {}  # seq -> bytes that came before the hole ahead of them
        self.buf = bytearray()
        self.dead = False

    def segment(self, seq, data, syn):
        if syn and self.next is None:
            self.next = seq + 1
        if not data:
            return
        if self.next is None:
            self.next = seq
        if seq > self.next:
            if len(data) > len(self.held.get(seq, b"")):
                self.held[seq] = data
            return
        self._take(seq, data)
        while True:
            ready = [s for s in self.held if s <= self.next]
            if not ready:
                break
            for s in ready:
                self._take(s, self.held.pop(s))

    def _take(self, seq, data):
        skip = self.next - seq
        if skip < len(data):
            self.buf += data[skip:]
            self.next = seq + len(data)

    def packets(self):
        """Whole HEP packets now in the buffer; None marks bytes that are
        not HEP (the stream is then given up)."""
        while not self.dead and len(self.buf) >= 6:
            total = struct.unpack("!H", self.buf[4:6])[0]
            if self.buf[:4] != b"HEP3" or total < 6:
                self.dead = True
                yield None
                return
            if len(self.buf) < total:
                return
            pkt = bytes(self.buf[:total])
            del self.buf[:total]
            yield pkt


def time_pair(epoch):
    sec, _, frac = epoch.partition(".")
    return int(sec), int((frac + "000000")[:6])


def tshark_rows(tshark, capture, port, env, options):
    cmd = [tshark, "-r", capture, "-n"] + options + ["-T", "fields", "-E", "separator=/t",
           "-E", "occurrence=a", "-E", "aggregator=,",
           "-Y", "udp.port == %d || tcp.port == %d" % (port, port)]
    for f in FIELDS:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8",
                          errors="replace", env=env)
    if proc.returncode != 0:
        raise RuntimeError("tshark failed: %s" % proc.stderr.strip())
    for line in proc.stdout.splitlines():
        cols = line.split("\t")
        yield dict(zip(FIELDS, cols + [""] * (len(FIELDS) - len(cols))))


def last(value):
    return value.split(",")[-1] if value else ""


def unwrap(cfg, capture, out, tshark="tshark", env=None, options=()):
    """Write out (a pcap of the accepted HEP packets' SIP) and return
    (HEP figures, carrier frame number of each frame written). env and
    options: tshark's environment and the options the oracle adds
    (tshark_counts.tshark_env(), tshark_options())."""
    hep_cfg = cfg.get("hep") or {}
    port = int(hep_cfg.get("port") or 0)
    max_depth = int((cfg.get("decap") or {}).get("max_depth", 2))
    u = Unwrapper(hep_cfg)
    streams = {}
    if port:
        for row in tshark_rows(tshark, capture, port, env, list(options)):
            protos = row["frame.protocols"].split(":")
            ips = [i for i, p in enumerate(protos) if p in ("ip", "ipv6")]
            l4s = [i for i, p in enumerate(protos) if p in ("udp", "tcp")]
            if (not ips or not l4s or l4s[-1] < ips[-1] or len(ips) - 1 > max_depth
                    or "icmp" in protos or "icmpv6" in protos):
                continue
            fam, proto = protos[ips[-1]], protos[l4s[-1]]
            if last(row[proto + ".dstport"]) != str(port):
                continue
            agent = ipaddress.ip_address(last(row[fam + ".src"]))
            number = int(row["frame.number"])
            when = time_pair(row["frame.time_epoch"])
            if proto == "udp":
                u.packet(agent, bytes.fromhex(last(row["udp.payload"])), number, when)
                continue
            st = streams.setdefault(last(row["tcp.stream"]), Stream())
            st.segment(int(last(row["tcp.seq"])), bytes.fromhex(last(row["tcp.payload"])),
                       last(row["tcp.flags.syn"]) in ("1", "True"))
            for pkt in st.packets():
                if pkt is None:
                    u.stats["hep_packets"] += 1
                    if u.allowed(agent):
                        u.stats["hep_malformed"] += 1
                    else:
                        u.stats["hep_refused"] += 1
                else:
                    u.packet(agent, pkt, number, when)
    sgpcap.write_pcap(out, u.frames, times=u.times)
    return u.stats, u.carriers


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tshark", default="tshark", help="tshark binary")
    ap.add_argument("config", help="sipguard libconfig file or JSON sidecar")
    ap.add_argument("capture", help="pcap or pcapng file")
    ap.add_argument("out", help="pcap to write")
    args = ap.parse_args(argv)
    import tshark_counts
    try:
        cfg = tshark_counts.load_config(args.config)
        stats, _ = unwrap(cfg, args.capture, args.out, args.tshark, tshark_counts.tshark_env(),
                          tshark_counts.tshark_options(cfg))
    except (OSError, tshark_counts.ConfigError, RuntimeError, ValueError) as e:
        print("hep_unwrap: %s" % e, file=sys.stderr)
        return 2
    json.dump(stats, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

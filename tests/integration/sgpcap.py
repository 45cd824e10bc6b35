# SPDX-License-Identifier: BSD-3-Clause
"""Frames and capture files with the standard library only.

Builds Ethernet/SLL frames (VLAN tags, IPv4/IPv6, UDP/TCP) around a
payload, IP fragments of a datagram and the encapsulations mirror feeds
use (GRE, ERSPAN I/II/III, VXLAN, IP in IP), writes classic pcap files
(any snaplen, caplen < len allowed, packet times given or made up) and
reads pcap and pcapng files back as (linktype, frame) pairs. Used by the
malformed-capture generator, the fuzz seed builder, the oracle's own test
and the HEP unwrapper.
"""
import struct

LINK_ETHER = 1
LINK_SLL = 113

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(src, dst, proto, l4, total_len=None, ihl=5, flags_frag=0x4000, ident=1):
    """An IPv4 header and l4; total_len overrides the length field."""
    tl = 20 + len(l4) if total_len is None else total_len
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tl & 0xFFFF, ident, flags_frag, 64,
                      proto, 0, bytes(map(int, src.split("."))),
                      bytes(map(int, dst.split("."))))
    hdr += b"\0" * (ihl * 4 - 20) if ihl > 5 else b""
    hdr = hdr[:10] + struct.pack("!H", _csum(hdr[:20])) + hdr[12:]
    return hdr + l4


def _v6(addr):
    import ipaddress
    return ipaddress.IPv6Address(addr).packed


def ipv6(src, dst, proto, l4, plen=None, ext=b"", ext_proto=None):
    """An IPv6 header, optional extension headers (ext, first next header
    ext_proto) and l4."""
    body = ext + l4
    nh = proto if not ext else ext_proto
    pl = len(body) if plen is None else plen
    return struct.pack("!IHBB16s16s", 0x60000000, pl & 0xFFFF, nh, 64, _v6(src),
                       _v6(dst)) + body


def udp(sport, dport, payload, length=None):
    ln = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", sport, dport, ln & 0xFFFF, 0) + payload


def tcp(sport, dport, payload, seq=1, flags=0x18, doff=5):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 1, doff << 4, flags, 65535, 0,
                       0) + b"\0" * (doff * 4 - 20) + payload


def ether(l3, etype=None, vlans=(), v6=False):
    et = etype if etype is not None else (0x86DD if v6 else 0x0800)
    hdr = MAC_B + MAC_A
    tags = list(vlans)
    for i, vid in enumerate(tags):
        tpid = 0x88A8 if (len(tags) > 1 and i == 0) else 0x8100
        hdr += struct.pack("!HH", tpid, vid)
    return hdr + struct.pack("!H", et) + l3


def sll(l3, v6=False):
    return struct.pack("!HHH8sH", 0, 1, 6, MAC_A + b"\0\0", 0x86DD if v6 else 0x0800) + l3


def udp4(src, dst, sport, dport, payload, vlans=()):
    return ether(ipv4(src, dst, 17, udp(sport, dport, payload)), vlans=vlans)


def tcp4(src, dst, sport, dport, payload, seq=1, vlans=()):
    return ether(ipv4(src, dst, 6, tcp(sport, dport, payload, seq)), vlans=vlans)


def udp6(src, dst, sport, dport, payload):
    return ether(ipv6(src, dst, 17, udp(sport, dport, payload)), v6=True)


def write_pcap(path, frames, link=LINK_ETHER, snaplen=262144, times=None):
    """frames: bytes, or (bytes, orig_len) to record caplen < len.

    times: one (seconds, microseconds) pair per frame; without it frame i
    is stamped 1700000000 s + i ms.
    """
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, link))
        for i, fr in enumerate(frames):
            data, orig = (fr if isinstance(fr, tuple) else (fr, len(fr)))
            if times is None:
                sec, usec = 1700000000 + i // 1000, (i % 1000) * 1000
            else:
                sec, usec = times[i]
            f.write(struct.pack("<IIII", sec, usec, len(data), orig))
            f.write(data)


def _pseudo(src, dst, proto, length):
    if ":" in src:
        return _v6(src) + _v6(dst) + struct.pack("!IxxxB", length, proto)
    return (bytes(map(int, src.split("."))) + bytes(map(int, dst.split(".")))
            + struct.pack("!xBH", proto, length))


def udp_cs(src, dst, sport, dport, payload):
    """A UDP header with its checksum over src/dst (IPv4 or IPv6), and payload."""
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    c = _csum(_pseudo(src, dst, 17, 8 + len(payload)) + hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + payload


def tcp_cs(src, dst, sport, dport, payload, seq=1, flags=0x18):
    """A TCP header (ack 1, window 65535) with its checksum, and payload."""
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, 1, 5 << 4, flags,
                      65535, 0, 0)
    c = _csum(_pseudo(src, dst, 6, 20 + len(payload)) + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


def ip(src, dst, proto, l4, ident=1):
    """IPv4 or IPv6 header (by the form of src) around l4."""
    if ":" in src:
        return ipv6(src, dst, proto, l4)
    return ipv4(src, dst, proto, l4, ident=ident)


def ipv4_fragments(src, dst, proto, l4, size, ident=1, df=False):
    """The IPv4 fragments of one datagram, in order: size payload bytes
    (a multiple of 8) in each but the last."""
    out = []
    for off in range(0, len(l4), size):
        more = 0x2000 if off + size < len(l4) else 0
        out.append(ipv4(src, dst, proto, l4[off:off + size],
                        flags_frag=more | (0x4000 if df else 0) | (off // 8), ident=ident))
    return out


def ipv6_fragments(src, dst, proto, l4, size, ident=1):
    """The IPv6 fragments of one datagram (Fragment header, next header
    44), in order: size payload bytes (a multiple of 8) in each but the
    last."""
    out = []
    for off in range(0, len(l4), size):
        more = 1 if off + size < len(l4) else 0
        fh = struct.pack("!BBHI", proto, 0, off | more, ident)
        out.append(ipv6(src, dst, proto, l4[off:off + size], ext=fh, ext_proto=44))
    return out


def gre(ptype, payload, seq=None, key=None):
    """A GRE header (RFC 2890 key and sequence number optional)."""
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    hdr = struct.pack("!HH", flags, ptype)
    if key is not None:
        hdr += struct.pack("!I", key)
    if seq is not None:
        hdr += struct.pack("!I", seq)
    return hdr + payload


def erspan1(inner):
    """ERSPAN type I: GRE 0x88BE without a sequence number, no ERSPAN header."""
    return gre(0x88BE, inner)


def erspan2(inner, session=1, seq=1, vlan=0):
    """ERSPAN type II: GRE 0x88BE with sequence number, 8-byte header."""
    return gre(0x88BE, struct.pack("!HHI", 0x1000 | vlan, session & 0x3FF, 0) + inner, seq=seq)


def erspan3(inner, session=1, seq=1, timestamp=0):
    """ERSPAN type III: GRE 0x22EB with sequence number, 12-byte header
    without the platform-specific subheader."""
    return gre(0x22EB, struct.pack("!HHIHH", 0x2000, session & 0x3FF, timestamp, 0, 0)
               + inner, seq=seq)


def vxlan(vni, inner):
    """A VXLAN header (I flag, VNI) and the inner Ethernet frame."""
    return struct.pack("!II", 0x08000000, (vni & 0xFFFFFF) << 8) + inner


def read_capture(path):
    """Yield (linktype, frame) from a pcap or pcapng file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    elif magic == b"\x0a\x0d\x0d\x0a":
        yield from _read_pcapng(data)
        return
    else:
        return
    link = struct.unpack(end + "I", data[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        yield link, data[off:off + caplen]
        off += caplen


def _read_pcapng(data):
    off = 0
    end = "<"
    links = []
    while off + 12 <= len(data):
        btype = struct.unpack(end + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            bom = data[off + 8:off + 12]
            end = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        blen = struct.unpack(end + "I", data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            return
        body = data[off + 8:off + blen - 4]
        if btype == 1:
            links.append(struct.unpack(end + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            iface, _, _, caplen, _ = struct.unpack(end + "IIIII", body[:20])
            if iface < len(links):
                yield links[iface], body[20:20 + caplen]
        elif btype == 3 and links:
            yield links[0], body[4:]
        off += blen


def l4_payload(link, frame):
    """(proto, payload) of a plain UDP/TCP frame, or None."""
    if link == LINK_ETHER:
        if len(frame) < 14:
            return None
        et, off = struct.unpack("!H", frame[12:14])[0], 14
    elif link == LINK_SLL:
        if len(frame) < 16:
            return None
        et, off = struct.unpack("!H", frame[14:16])[0], 16
    else:
        return None
    while et in (0x8100, 0x88A8, 0x9100) and len(frame) >= off + 4:
        et, off = struct.unpack("!H", frame[off + 2:off + 4])[0], off + 4
    if et == 0x0800 and len(frame) >= off + 20:
        ihl = (frame[off] & 15) * 4
        tl = struct.unpack("!H", frame[off + 2:off + 4])[0]
        proto = frame[off + 9]
        l4, end = off + ihl, min(len(frame), off + tl)
    elif et == 0x86DD and len(frame) >= off + 40:
        proto = frame[off + 6]
        l4 = off + 40
        end = min(len(frame), l4 + struct.unpack("!H", frame[off + 4:off + 6])[0])
    else:
        return None
    if proto == 17 and end >= l4 + 8:
        return "udp", frame[l4 + 8:end]
    if proto == 6 and end >= l4 + 20:
        return "tcp", frame[l4 + (frame[l4 + 12] >> 4) * 4:end]
    return None


def sip_invite(call_id="a84b4c76e66710@pc33.example.com", cseq=314159, branch="z9hG4bK776asdhds",
               body=b"", extra=""):
    """A complete RFC 3261-style INVITE."""
    hdr = ("INVITE sip:bob@198.51.100.10 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=%s\r\n"
           "Max-Forwards: 70\r\n"
           "To: Bob <sip:bob@198.51.100.10>\r\n"
           "From: Alice <sip:alice@192.0.2.1>;tag=1928301774\r\n"
           "Call-ID: %s\r\n"
           "CSeq: %d INVITE\r\n"
           "Contact: <sip:alice@192.0.2.1>\r\n"
           "%s"
           "Content-Type: application/sdp\r\n"
           "Content-Length: %d\r\n\r\n") % (branch, call_id, cseq, extra, len(body))
    return hdr.encode() + body


def sip_response(code=503, reason="Service Unavailable", call_id="a84b4c76e66710@pc33.example.com",
                 cseq=314159, method="INVITE", extra=""):
    return ("SIP/2.0 %d %s\r\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
            "To: Bob <sip:bob@198.51.100.10>;tag=a6c85cf\r\n"
            "From: Alice <sip:alice@192.0.2.1>;tag=1928301774\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d %s\r\n"
            "%s"
            "Content-Length: 0\r\n\r\n" % (code, reason, call_id, cseq, method, extra)).encode()


SDP = (b"v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\ns=-\r\n"
       b"c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

COMPACT = (b"INVITE sip:bob@198.51.100.10 SIP/2.0\r\n"
           b"v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc0mp4ct;oc=20;oc-algo=\"loss\";"
           b"oc-validity=500;oc-seq=1282321615.782\r\n"
           b"t: <sip:bob@198.51.100.10>\r\nf: <sip:alice@192.0.2.1>;tag=88\r\n"
           b"i: compact-1@192.0.2.1\r\nCSeq:7 INVITE\r\nm: <sip:alice@192.0.2.1>\r\n"
           b"l: 0\r\n\r\n")

FOLDED = (b"SIP/2.0 503 Service Unavailable\r\n"
          b"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKf0ld\r\n"
          b"Call-ID:\r\n  folded-1@192.0.2.1\r\n"
          b"CSeq  :  9\r\n\tINVITE\r\n"
          b"Retry-After: 120 (overloaded);duration=3600\r\n"
          b"Reason: Q.850;cause=34;text=\"No circuit\", SIP;cause=503\r\n"
          b"Content-Length: 0\r\n\r\n")

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A stream of calls with unique Call-IDs, and what sipguard must count.

Each call is an INVITE from a dialer to one of several trunks and its
final answer from that trunk: 503 (Retry-After, Q.850 Reason) for most,
200 OK for every OK_EVERY-th call, so both invite_final and the dialog
table see traffic. Every RETRANS_EVERY-th 503 is sent twice in a row: the
copy is a retransmission (its original is the newest entry of its set, so
no eviction can remove it in between). Call-IDs, branches and tags never
repeat within a file, so every other message is a new identity: with small
tables the retransmission and dialog tables fill and evict.

The file is replayed in a loop (tcpreplay --loop). A repeated Call-ID comes
back only after a whole file of other identities, far more than the small
tables hold, so it is new again and the counts of L loops are L times the
counts of one. `count` gives the counts of any prefix of the looped
stream, so a run stopped anywhere can still be checked exactly.

Trunks are flood-0 .. flood-(K-1): IPv4 198.51.100.(10+i)/32, the last one
IPv6 2001:db8:f::/48. They get calls in the ratio 1 : 2 : ... : K, so a
count landing on the wrong trunk shows.

usage:
  flood_gen.py write OUT.pcap OUT.json [options]
      the capture, and OUT.json: frames per file, per-trunk counts of one
      file in the report's shape, the trunk table, 200 OKs per file
  flood_gen.py count FRAMES [options]
      per-trunk counts of the first FRAMES frames of the looped stream
  flood_gen.py conf [options]
      the trunks section of a sipguard config for these trunks
options: --calls N (default 100000) --trunks K (4) --ok-every M (5)
         --retrans-every R (16) --seed S (5060)
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgpcap as P  # noqa: E402

SIP_PORT = 5060
DIALERS4 = ["192.0.2.%d" % i for i in range(10, 26)]
DIALER6 = "2001:db8:d::10"
KIND_INVITE, KIND_503, KIND_200, KIND_503_COPY = range(4)


def trunks(k):
    out = []
    for i in range(k):
        if i == k - 1 and k > 1:
            out.append(("flood-%d" % i, "2001:db8:f::/48", "2001:db8:f::%x" % (i + 16)))
        else:
            addr = "198.51.100.%d" % (10 + i)
            out.append(("flood-%d" % i, addr + "/32", addr))
    return out


def plan(a):
    """The stream as (trunk index, kind, call number) per frame."""
    rnd = random.Random(a.seed)
    idx = list(range(a.trunks))
    weights = [i + 1 for i in idx]
    frames = []
    n503 = 0
    for c in range(a.calls):
        t = rnd.choices(idx, weights)[0]
        frames.append((t, KIND_INVITE, c))
        if (c + 1) % a.ok_every == 0:
            frames.append((t, KIND_200, c))
        else:
            frames.append((t, KIND_503, c))
            n503 += 1
            if n503 % a.retrans_every == 0:
                frames.append((t, KIND_503_COPY, c))
    return frames


def empty_counters():
    return {"requests": {}, "responses": {}, "retransmissions": 0, "invite_attempts": 0,
            "invite_final": {}, "malformed": 0}


def bump(d, k, n=1):
    d[k] = d.get(k, 0) + n


def count_frames(a, frames, n):
    """Counts of the first n frames of the looped stream."""
    names = [t[0] for t in trunks(a.trunks)]
    per = [[0, 0, 0, 0] for _ in names]  # kinds per trunk, one file
    part = [[0, 0, 0, 0] for _ in names]
    loops, rest = divmod(n, len(frames))
    for i, (t, kind, _) in enumerate(frames):
        per[t][kind] += 1
        if i < rest:
            part[t][kind] += 1
    out = {"trunks": {}, "unmatched": empty_counters(), "frames": n, "dialogs_opened": 0}
    for t, name in enumerate(names):
        k = [loops * per[t][j] + part[t][j] for j in range(4)]
        c = empty_counters()
        if k[KIND_INVITE]:
            c["requests"]["INVITE"] = k[KIND_INVITE]
        if k[KIND_503] + k[KIND_503_COPY]:
            c["responses"]["503"] = k[KIND_503] + k[KIND_503_COPY]
        if k[KIND_200]:
            c["responses"]["200"] = k[KIND_200]
        c["retransmissions"] = k[KIND_503_COPY]
        c["invite_attempts"] = k[KIND_INVITE]
        if k[KIND_503]:
            c["invite_final"]["503"] = k[KIND_503]
        if k[KIND_200]:
            c["invite_final"]["200"] = k[KIND_200]
        out["trunks"][name] = c
        out["dialogs_opened"] += k[KIND_200]
    return out


def frame(a, tlist, t, kind, c):
    _, _, peer = tlist[t]
    v6 = ":" in peer
    dialer = DIALER6 if v6 else DIALERS4[c % len(DIALERS4)]
    dport = 20000 + (c % 20000)
    cid = "fl%08x-%d@%s" % (c, a.seed, dialer if not v6 else "dialer6")
    host = "[%s]" % peer if v6 else peer
    via = "[%s]" % dialer if v6 else dialer
    if kind == KIND_INVITE:
        msg = ("INVITE sip:%d@%s SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%08xf%d\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:dialer@%s>;tag=f%08x\r\n"
               "To: <sip:%d@%s>\r\n"
               "Call-ID: %s\r\n"
               "CSeq: 1 INVITE\r\n"
               "Contact: <sip:dialer@%s:%d>\r\n"
               "Content-Length: 0\r\n\r\n") % (
            c, host, via, dport, c, a.seed, via, c, c, host, cid, via, dport)
        src, dst, sport, dp = dialer, peer, dport, SIP_PORT
    else:
        if kind == KIND_200:
            status = "200 OK"
            extra = "Contact: <sip:%d@%s>\r\n" % (c, host)
        else:
            status = "503 Service Unavailable"
            extra = "Retry-After: %d\r\nReason: Q.850;cause=34\r\n" % (1 + t)
        msg = ("SIP/2.0 %s\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%08xf%d\r\n"
               "From: <sip:dialer@%s>;tag=f%08x\r\n"
               "To: <sip:%d@%s>;tag=t%08x\r\n"
               "Call-ID: %s\r\n"
               "CSeq: 1 INVITE\r\n"
               "%s"
               "Content-Length: 0\r\n\r\n") % (
            status, via, dport, c, a.seed, via, c, c, host, c, cid, extra)
        src, dst, sport, dp = peer, dialer, SIP_PORT, dport
    if v6:
        return P.udp6(src, dst, sport, dp, msg.encode())
    return P.udp4(src, dst, sport, dp, msg.encode())


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("usage:")[1].split("options:")[0])
    ap.add_argument("what", choices=["write", "count", "conf"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--calls", type=int, default=100000)
    ap.add_argument("--trunks", type=int, default=4)
    ap.add_argument("--ok-every", type=int, default=5)
    ap.add_argument("--retrans-every", type=int, default=16)
    ap.add_argument("--seed", type=int, default=5060)
    a = ap.parse_args()
    if a.calls < 1 or not 1 <= a.trunks <= 16 or a.ok_every < 1 or a.retrans_every < 1:
        ap.error("out of range")
    tlist = trunks(a.trunks)
    if a.what == "conf":
        print("trunks = (")
        print(",\n".join('  { name = "%s"; prefixes = [ "%s" ]; cps = 100000; '
                         'max_concurrent = 10000000; }' % (n, p) for n, p, _ in tlist))
        print(");")
        return 0
    frames = plan(a)
    if a.what == "count":
        if len(a.args) != 1 or not a.args[0].isdigit():
            ap.error("count FRAMES")
        json.dump(count_frames(a, frames, int(a.args[0])), sys.stdout, sort_keys=True)
        print()
        return 0
    if len(a.args) != 2:
        ap.error("write OUT.pcap OUT.json")
    P.write_pcap(a.args[0], (frame(a, tlist, t, k, c) for t, k, c in frames))
    exp = count_frames(a, frames, len(frames))
    exp["frames_per_file"] = len(frames)
    exp["trunk_table"] = [{"name": n, "prefix": p} for n, p, _ in tlist]
    with open(a.args[1], "w", encoding="utf-8") as f:
        json.dump(exp, f, sort_keys=True, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check sipguard's pcapng traces against the recording they came from.

usage: trace_check.py RECORDING TRACE_DIR [--expect FILE] [--sample N] [--glob G]
                      [--min-calls N] [--times] [--framed] [--read-only]

tshark (default preferences: an empty configuration directory) must read
every *.pcapng in TRACE_DIR without an error. Every frame of a trace names
its call in a comment ("Call-ID: <id>"); the traced calls are those named.
In the recording, tshark names each frame's Call-IDs (and, by its
reassembly, the Call-ID of each fragment's and TCP segment's message);
for every traced call (or N of them, spread evenly) the frames named for
it must be exactly, byte for byte and as many times, the frames of that
Call-ID in the recording (with --times, at the recording's own time
too). With --expect, the traced Call-IDs must be
exactly those listed (one a line). The figure of calls tshark finds whole
reading the traces alone is printed; --framed requires all of them
(datagrams and fragments: a TCP segment that starts with another call's
bytes cannot be framed without that call's segments). --glob picks the
files (default *.pcapng); --min-calls fails when fewer calls are traced.
Prints one line per finding; exit 0 when all hold, 1 otherwise.
"""
import argparse
import collections
import glob
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sgpcap as P  # noqa: E402

CONF = tempfile.TemporaryDirectory(prefix="sgt-wireshark.")


AGG = "\x1f"  # between a field's occurrences: no Call-ID holds it


def tshark_fields(path, fields):
    """One list of field values per frame (every occurrence, AGG between);
    raises on any tshark complaint."""
    cmd = ["tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=" + AGG]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                       env=dict(os.environ, WIRESHARK_CONFIG_DIR=CONF.name))
    err = "\n".join(line for line in p.stderr.splitlines()
                    if "Running as user" not in line and "could be dangerous" not in line)
    if p.returncode != 0 or err.strip():
        raise RuntimeError("tshark -r %s: exit %d: %s" % (path, p.returncode, err.strip()))
    return [(line.split("\t") + [""] * len(fields))[:len(fields)]
            for line in p.stdout.splitlines()]


def frames_by_call(path, want=None, times=False):
    """({Call-ID: [frame bytes...]} by tshark, {Call-ID: [frame bytes...]}
    by comment), in file order. By tshark: a frame belongs to every
    Call-ID tshark dissects in it, and the fragments and TCP segments a
    message was reassembled from (ip.fragment, ipv6.fragment, tcp.segment
    in the frame that completes it, which names the frame's first
    message) belong to that message's Call-ID too: they are on the wire
    for it. By comment: the frames whose comment is "Call-ID: <id>"."""
    fields = ["frame.number", "sip.Call-ID", "frame.comment", "tcp.segment", "ip.fragment",
              "ipv6.fragment", "frame.time_epoch"]
    rows = tshark_fields(path, fields)
    raw = [fr for _, fr in P.read_capture(path)]
    if times and len(raw) == len(rows):
        # a frame is its time and its bytes
        raw = [(r[6], fr) for r, fr in zip(rows, raw)]
    if len(raw) != len(rows):
        raise RuntimeError("%s: tshark sees %d frames, the file holds %d"
                           % (path, len(rows), len(raw)))
    owners = collections.defaultdict(set)  # frame index: its Call-IDs
    for i, r in enumerate(rows):
        cids = [c for c in r[1].split(AGG) if c]
        for c in cids:
            owners[i].add(c)
        if not cids:
            continue
        for col in (3, 4, 5):
            for n in r[col].split(AGG):
                if n.isdigit() and 1 <= int(n) <= len(rows):
                    owners[int(n) - 1].add(cids[0])
    by_tshark = collections.defaultdict(list)
    by_comment = collections.defaultdict(list)
    for i in range(len(rows)):
        for c in sorted(owners.get(i, ())):
            if want is None or c in want:
                by_tshark[c].append(raw[i])
        if rows[i][2].startswith("Call-ID: "):
            by_comment[rows[i][2][len("Call-ID: "):]].append(raw[i])
    return by_tshark, by_comment


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recording")
    ap.add_argument("dir")
    ap.add_argument("--expect")
    ap.add_argument("--sample", type=int, default=0)
    ap.add_argument("--glob", default="*.pcapng")
    ap.add_argument("--min-calls", type=int, default=1)
    ap.add_argument("--times", action="store_true",
                    help="each frame's time must be the recording's own too")
    ap.add_argument("--framed", action="store_true",
                    help="tshark reading the traces alone must find every call whole")
    ap.add_argument("--read-only", action="store_true",
                    help="only tshark's reading of the traces, no comparison")
    a = ap.parse_args()
    bad = 0
    files = sorted(glob.glob(os.path.join(a.dir, a.glob)))
    if not files:
        print("FAIL no trace file in %s" % a.dir)
        return 1
    traced = collections.defaultdict(list)  # by comment: what the files say
    seen = collections.defaultdict(list)  # what tshark frames reading them alone
    for f in files:
        try:
            by_tshark, by_comment = frames_by_call(f, times=a.times)
        except RuntimeError as e:
            print("FAIL %s" % e)
            bad += 1
            continue
        for cid, frames in by_comment.items():
            traced[cid] += frames
        for cid, frames in by_tshark.items():
            seen[cid] += frames
    print("ok   tshark reads all %d trace file(s): %d call(s), %d frame(s) named"
          % (len(files), len(traced), sum(len(v) for v in traced.values())))
    if len(traced) < a.min_calls:
        print("FAIL %d call(s) traced, fewer than %d" % (len(traced), a.min_calls))
        bad += 1
    if a.read_only:
        return 1 if bad else 0
    ids = sorted(traced)
    if a.sample and len(ids) > a.sample:
        step = len(ids) / a.sample
        ids = [ids[int(i * step)] for i in range(a.sample)]
    rec, _ = frames_by_call(a.recording, set(ids), times=a.times)
    mism = 0
    alone = 0
    for cid in ids:
        want = collections.Counter(rec.get(cid, []))
        got = collections.Counter(traced[cid])
        if want != got:
            mism += 1
            if mism <= 5:
                print("FAIL %s: trace has %d frame(s), the recording %d (%d missing, %d extra)"
                      % (cid, sum(got.values()), sum(want.values()),
                         sum((want - got).values()), sum((got - want).values())))
        if collections.Counter(seen.get(cid, [])) == want:
            alone += 1
    if mism:
        bad += 1
    else:
        print("ok   %d call(s): the frames named for each are exactly, byte for byte%s, "
              "the recording's frames of its Call-ID"
              % (len(ids), " and to the microsecond" if a.times else ""))
    # a TCP segment that starts with another call's bytes cannot be framed
    # without that call's segments: tshark alone may not see such a call whole
    print("%s tshark reading the traces alone finds every frame of %d of the %d call(s)"
          % ("ok  " if alone == len(ids) or not a.framed else "FAIL", alone, len(ids)))
    if a.framed and alone != len(ids):
        bad += 1
    if a.expect:
        with open(a.expect) as f:
            exp = set(line.strip() for line in f if line.strip())
        got = set(traced)
        if exp != got:
            bad += 1
            print("FAIL traced Call-IDs: %d expected, %d traced, %d missing (e.g. %s), "
                  "%d unexpected (e.g. %s)" % (len(exp), len(got), len(exp - got),
                                               sorted(exp - got)[:2], len(got - exp),
                                               sorted(got - exp)[:2]))
        else:
            print("ok   the traced calls are exactly the first N failed calls per trunk "
                  "per second (%d)" % len(exp))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

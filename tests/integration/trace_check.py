#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check sipguard's pcapng traces against the recording they came from.

usage: trace_check.py RECORDING TRACE_DIR [--expect FILE] [--sample N] [--glob G]
                      [--min-calls N] [--read-only]

tshark (default preferences: an empty configuration directory) must read
every *.pcapng in TRACE_DIR without an error. tshark names each frame's
Call-ID in the traces and in the recording; for every traced Call-ID (or
N of them, spread evenly) the frames of the traces must be exactly, byte
for byte and as many times, the frames of that Call-ID in the recording,
and the first of them must carry the comment "Call-ID: <id>". With
--expect, the traced Call-IDs must be exactly those listed (one a line).
--glob picks the files (default *.pcapng); --min-calls fails when fewer
Call-IDs are traced. Prints one line per finding; exit 0 when all hold, 1
otherwise.
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


def tshark_fields(path, fields):
    """One list of field values per frame; raises on any tshark complaint."""
    cmd = ["tshark", "-r", path, "-n", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                       env=dict(os.environ, WIRESHARK_CONFIG_DIR=CONF.name))
    err = "\n".join(line for line in p.stderr.splitlines()
                    if "Running as user" not in line and "could be dangerous" not in line)
    if p.returncode != 0 or err.strip():
        raise RuntimeError("tshark -r %s: exit %d: %s" % (path, p.returncode, err.strip()))
    return [line.split("\t") for line in p.stdout.splitlines()]


def frames_by_call(path, want=None):
    """{Call-ID: [frame bytes...]} in file order, and [(Call-ID, comment)] per frame."""
    rows = tshark_fields(path, ["frame.number", "sip.Call-ID", "frame.comment"])
    raw = [fr for _, fr in P.read_capture(path)]
    if len(raw) != len(rows):
        raise RuntimeError("%s: tshark sees %d frames, the file holds %d"
                           % (path, len(rows), len(raw)))
    out = collections.defaultdict(list)
    seq = []
    for i, r in enumerate(rows):
        cid = r[1] if len(r) > 1 else ""
        comment = r[2] if len(r) > 2 else ""
        seq.append((cid, comment))
        if cid and (want is None or cid in want):
            out[cid].append(raw[i])
    return out, seq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recording")
    ap.add_argument("dir")
    ap.add_argument("--expect")
    ap.add_argument("--sample", type=int, default=0)
    ap.add_argument("--glob", default="*.pcapng")
    ap.add_argument("--min-calls", type=int, default=1)
    ap.add_argument("--read-only", action="store_true",
                    help="only tshark's reading of the traces, no comparison")
    a = ap.parse_args()
    bad = 0
    files = sorted(glob.glob(os.path.join(a.dir, a.glob)))
    if not files:
        print("FAIL no trace file in %s" % a.dir)
        return 1
    traced = collections.defaultdict(list)
    first_comment = {}
    for f in files:
        try:
            calls, seq = frames_by_call(f)
        except RuntimeError as e:
            print("FAIL %s" % e)
            bad += 1
            continue
        for cid, frames in calls.items():
            traced[cid] += frames
        for cid, comment in seq:
            if cid and cid not in first_comment:
                first_comment[cid] = comment
    print("ok   tshark reads all %d trace file(s): %d Call-ID(s), %d frame(s)"
          % (len(files), len(traced), sum(len(v) for v in traced.values())))
    if len(traced) < a.min_calls:
        print("FAIL %d Call-ID(s) traced, fewer than %d" % (len(traced), a.min_calls))
        bad += 1
    if a.read_only:
        return 1 if bad else 0
    ids = sorted(traced)
    if a.sample and len(ids) > a.sample:
        step = len(ids) / a.sample
        ids = [ids[int(i * step)] for i in range(a.sample)]
    rec, _ = frames_by_call(a.recording, set(ids))
    mism = 0
    for cid in ids:
        want = collections.Counter(rec.get(cid, []))
        got = collections.Counter(traced[cid])
        if want != got:
            mism += 1
            if mism <= 5:
                print("FAIL %s: trace has %d frame(s), the recording %d (%d missing, %d extra)"
                      % (cid, sum(got.values()), sum(want.values()),
                         sum((want - got).values()), sum((got - want).values())))
        if first_comment.get(cid) != "Call-ID: " + cid:
            mism += 1
            print("FAIL %s: its first traced frame's comment is %r"
                  % (cid, first_comment.get(cid)))
    if mism:
        bad += 1
    else:
        print("ok   %d Call-ID(s): the traces hold exactly the recording's frames of each, "
              "the first with its Call-ID as comment" % len(ids))
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

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare two sipguard-style reports, trunk by trunk.

    compare.py EXPECTED.json ACTUAL.json

For every trunk named in either report, and for "unmatched", compares each
request method, each response code, retransmissions, invite_attempts and
each invite_final code; a missing key counts as 0. `source` and `malformed`
are not compared (the two sides need not agree on what is malformed).
Prints one line per difference, then "N passed, N failed" counting the
compared trunks (unmatched included). Exits 1 on any difference.
"""

import json
import sys

MAPS = ("requests", "responses", "invite_final")
SCALARS = ("retransmissions", "invite_attempts")


def load(path):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    if not isinstance(report, dict):
        raise ValueError("%s: not a JSON object" % path)
    return report


def num(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def diff_counters(exp, act):
    """List of (field, expected, actual) that differ."""
    out = []
    exp = exp or {}
    act = act or {}
    for m in MAPS:
        e = exp.get(m) or {}
        a = act.get(m) or {}
        for k in sorted(set(e) | set(a), key=lambda s: (len(s), s)):
            ev, av = e.get(k, 0), a.get(k, 0)
            if num(ev) is None or num(av) is None or ev != av:
                out.append(("%s.%s" % (m, k), ev, av))
    for s in SCALARS:
        ev, av = exp.get(s, 0), act.get(s, 0)
        if num(ev) is None or num(av) is None or ev != av:
            out.append((s, ev, av))
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    try:
        exp, act = load(argv[0]), load(argv[1])
    except (OSError, ValueError) as e:
        print("compare: %s" % e, file=sys.stderr)
        return 2
    et = exp.get("trunks") or {}
    at = act.get("trunks") or {}
    units = [(n, et.get(n), at.get(n)) for n in sorted(set(et) | set(at))]
    units.append(("(unmatched)", exp.get("unmatched"), act.get("unmatched")))

    passed = failed = 0
    for name, e, a in units:
        problems = diff_counters(e, a)
        if e is None:
            problems.insert(0, ("trunk", "absent", "present"))
        elif a is None and any(v for _, v, _ in problems):
            problems.insert(0, ("trunk", "present", "absent"))
        if problems:
            failed += 1
            print("FAIL %s" % name)
            for field, ev, av in problems:
                print("  %-28s expected %-8s actual %s" % (field, ev, av))
        else:
            passed += 1
            print("ok   %s" % name)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

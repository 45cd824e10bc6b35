#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Per-trunk totals as a Prometheus server holds them.

    prom_totals.py URL                     print them (sipguardctl -j totals shape)
    prom_totals.py URL TOTALS.json [SECS]  wait up to SECS (default 30) until
                                           they equal TOTALS.json; exit 1 if not

URL is the server's base (http://127.0.0.1:PORT). Reads the instant values of
sipguard_trunk_{requests,responses,invite_final_responses}_total by label and
of sipguard_trunk_{invite_attempts,retransmissions,malformed}_total through
the HTTP query API (/api/v1/query), and builds {"trunks": {NAME: COUNTERS},
"unmatched": COUNTERS} with zero map entries left out, as sipguardctl does.
"""

import json
import sys
import time
import urllib.parse
import urllib.request

MAPS = {
    "requests": ("sipguard_trunk_requests_total", "method"),
    "responses": ("sipguard_trunk_responses_total", "code"),
    "invite_final": ("sipguard_trunk_invite_final_responses_total", "code"),
}
SCALARS = {
    "invite_attempts": "sipguard_trunk_invite_attempts_total",
    "retransmissions": "sipguard_trunk_retransmissions_total",
    "malformed": "sipguard_trunk_malformed_total",
}
UNMATCHED = "(unmatched)"


def query(base, expr):
    url = "%s/api/v1/query?%s" % (base, urllib.parse.urlencode({"query": expr}))
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        raise RuntimeError("%s: %s" % (expr, doc))
    return doc["data"]["result"]


def unit(report, trunk):
    if trunk == UNMATCHED:
        return report.setdefault("unmatched", {})
    return report["trunks"].setdefault(trunk, {})


def fetch(base):
    report = {"trunks": {}}
    for field, (metric, label) in MAPS.items():
        for s in query(base, metric):
            v = int(float(s["value"][1]))
            if v:
                u = unit(report, s["metric"]["trunk"])
                u.setdefault(field, {})[s["metric"][label]] = v
    for field, metric in SCALARS.items():
        for s in query(base, metric):
            unit(report, s["metric"]["trunk"])[field] = int(float(s["value"][1]))
    return report


def normal(report):
    """Only the compared fields, zero map entries and empty maps dropped."""
    def one(c):
        out = {k: c.get(k, 0) for k in SCALARS}
        for m in MAPS:
            kept = {k: v for k, v in (c.get(m) or {}).items() if v}
            if kept:
                out[m] = kept
        return out
    units = {t: one(c) for t, c in report.get("trunks", {}).items()}
    units[UNMATCHED] = one(report.get("unmatched") or {})
    return units


def diff(want, got):
    lines = []
    for t in sorted(set(want) | set(got)):
        w, g = want.get(t, {}), got.get(t, {})
        for k in sorted(set(w) | set(g)):
            if w.get(k) != g.get(k):
                lines.append("%s %s: sipguardctl %s, prometheus %s" %
                             (t, k, json.dumps(w.get(k)), json.dumps(g.get(k))))
    return lines


def main(argv):
    if len(argv) not in (1, 2, 3):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    base = argv[0].rstrip("/")
    if len(argv) == 1:
        json.dump(fetch(base), sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    with open(argv[1], encoding="utf-8") as f:
        want = normal(json.load(f))
    deadline = time.monotonic() + (float(argv[2]) if len(argv) > 2 else 30.0)
    while True:
        got = normal(fetch(base))
        lines = diff(want, got)
        if not lines:
            n = sum(c["invite_attempts"] for c in got.values())
            print("     %d units equal, %d INVITE attempts in all" % (len(got), n))
            return 0
        if time.monotonic() > deadline:
            for ln in lines[:20]:
                print("     " + ln)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent oracle for the `diagnosis` counts of sipguard's offline report.

    diag_oracle.py [--reload FRAMES:CONFIG ...] CONFIG CAPTURE

Reads the capture with tshark (default preferences, through tshark_counts.py's
frame reader, trunk mapping, candidate and retransmission rules) and applies
the config's diagnosis rules with Python's `re` to tshark's own fields of each
final 4xx-6xx answer to an INVITE from a trunk (not a retransmission):
`sip.Status-Line` for rules on the status line, every `sip.Reason` and every
`sip.Warning` for rules on those headers. A trunk reads with the set its
`diagnosis` key names, then with the `default` set; within a set the first
rule in file order that matches decides; no match is "unclassified".

Prints {"trunks": {NAME: {CLASS: N, ...}}, "unmatched": {...}, "finals_4xx_6xx":
{NAME: N}} with every class. Rules on other headers cannot be read from
tshark's fields: the oracle refuses a capture in which such a header appears
(it would then be guessing).

A live reload (--reload FRAMES:CONFIG, repeatable, in frame order): from
frame FRAMES+1 on, the trunks (as tshark_counts.py follows them: by name,
renames, removals) and the diagnosis rules are CONFIG's, as a running
sipguard switches both at the frame its worker reports.

The rules are read from the sipguard config with a small reader of its own
(libconfig strings, integers, one group per rule); Python's `re` stands in
for Hyperscan, which is exact for the patterns shipped (literals, classes,
alternations, `\\b`, `\\s`, optional groups).
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tshark_counts as tc  # noqa: E402

CLASSES = ["unclassified", "cps-limit", "concurrency-limit", "overload", "route-down",
           "maintenance", "other"]
FIELDS = {"status": "sip.Status-Line", "reason": "sip.Reason", "warning": "sip.Warning"}


def unescape(s):
    """A libconfig string literal's body, escapes resolved."""
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t", "r": "\r", "f": "\f"}.get(
        m.group(1), m.group(1)), s)


def groups(text, section):
    m = re.search(r"(?m)^\s*%s\s*[=:]\s*\(" % re.escape(section), text)
    if not m:
        return []
    body = tc.balanced(text, m.end() - 1, "(", ")")
    out, i = [], 0
    while True:
        i = body.find("{", i)
        if i < 0:
            return out
        grp = tc.balanced(body, i, "{", "}")
        i += len(grp) + 2
        out.append(grp)


def value(grp, key):
    m = re.search(r'\b%s\s*[=:]\s*"((?:[^"\\]|\\.)*)"' % re.escape(key), grp)
    if m:
        return unescape(m.group(1))
    m = re.search(r"\b%s\s*[=:]\s*(\d+)" % re.escape(key), grp)
    return int(m.group(1)) if m else None


def load_rules(path):
    text = tc.strip_comments(open(path, encoding="utf-8").read())
    rules = []
    for grp in groups(text, "diagnosis"):
        field = (value(grp, "field") or "status").lower()
        caseless = value(grp, "caseless")
        dotall = value(grp, "dotall")
        flags = (re.I if caseless is None or caseless else 0) | (re.S if dotall else 0)
        rules.append({
            "name": value(grp, "name"),
            "set": value(grp, "set") or "default",
            "class": value(grp, "class"),
            "field": field,
            "re": re.compile(value(grp, "pattern"), flags),
        })
    sets = {}
    for grp in groups(text, "trunks"):
        sets[value(grp, "name")] = value(grp, "diagnosis")
    return rules, sets


def all_values(obj, key):
    """Every value of `key` anywhere in tshark's JSON for one message."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                out.extend(v if isinstance(v, list) else [v])
            else:
                out.extend(all_values(v, key))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(all_values(v, key))
    return [v for v in out if isinstance(v, str)]


def header_names(msg):
    """Header names of a message, from tshark's sip.msg_hdr lines."""
    names = set()
    for line in all_values(msg, "sip.msg_hdr"):
        for h in re.split(r"\r?\n", line):
            m = re.match(r"([A-Za-z0-9!%*_+`'~.-]+)\s*:", h)
            if m:
                names.add(m.group(1).lower())
    return names


def classify(rules, own_set, msg):
    order = [r for r in rules if own_set and r["set"] == own_set]
    order += [r for r in rules if r["set"] == "default" and r["set"] != own_set]
    for r in order:
        if r["field"] not in FIELDS:
            continue  # its header is never present (main checks)
        for v in all_values(msg, FIELDS[r["field"]]):
            if r["re"].search(v):
                return r["class"]
    return "unclassified"


def main(argv):
    reloads = []
    while len(argv) >= 2 and argv[0] == "--reload":
        frames, _, path = argv[1].partition(":")
        if not frames.isdigit() or not path:
            print("diag_oracle: --reload %r: expected FRAMES:CONFIG" % argv[1], file=sys.stderr)
            return 2
        reloads.append((int(frames), path))
        argv = argv[2:]
    if len(argv) != 2 or [f for f, _ in reloads] != sorted(f for f, _ in reloads):
        print("usage: diag_oracle.py [--reload FRAMES:CONFIG ...] CONFIG CAPTURE "
              "(reloads in frame order)", file=sys.stderr)
        return 2
    conf, capture = argv
    cfg = tc.load_config(conf)
    rules, sets = load_rules(conf)
    counter = tc.Counter(cfg)
    diag = {}  # trunk identity -> {CLASS: N}
    finals = {}
    diag_unmatched = dict.fromkeys(CLASSES, 0)
    options = tc.tshark_options(cfg)
    for layers in tc.tshark_frames("tshark", capture, options):
        number = int(layers.get("frame", {}).get("frame.number", 0))
        while reloads and number > reloads[0][0]:
            path = reloads.pop(0)[1]
            counter.use(tc.load_config(path)["trunks"])
            rules, sets = load_rules(path)
        other = set(r["field"] for r in rules) - set(FIELDS)
        view = tc.frame_view(layers)
        if not view.get("msgs"):
            continue
        cand = counter.candidate(view["src"], view["sport"], view["dst"], view["dport"])
        if cand is None:
            continue
        now = tc.epoch_ms(layers["frame"]["frame.time_epoch"])
        c, ident, _ = cand
        for msg in view["msgs"]:
            fields = tc.sip_fields(msg)
            if fields is None:
                continue
            before = sum(c["invite_final"].values())
            counter.message(now, cand, fields)
            code = fields[1]
            # a new final answer to an INVITE from the trunk: counted once
            if code is None or code < 400 or sum(c["invite_final"].values()) == before:
                continue
            hit = header_names(msg) & other
            if hit:
                raise SystemExit("diag_oracle: %s in a final answer: a rule reads it and "
                                 "tshark has no field for it" % ", ".join(sorted(hit)))
            if ident is None:
                diag_unmatched[classify(rules, None, msg)] += 1
            else:
                d = diag.setdefault(ident, dict.fromkeys(CLASSES, 0))
                d[classify(rules, sets.get(counter.ident_name[ident]), msg)] += 1
                finals[ident] = finals.get(ident, 0) + 1
    # every trunk ever held, under its name now (a renamed one under the new)
    names = {i: counter.ident_name[i] for i in counter.per_ident}
    json.dump({"trunks": {n: diag.get(i, dict.fromkeys(CLASSES, 0)) for i, n in names.items()},
               "unmatched": diag_unmatched,
               "finals_4xx_6xx": {n: finals.get(i, 0) for i, n in names.items()}},
              sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

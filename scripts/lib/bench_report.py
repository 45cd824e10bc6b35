#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Markdown report of scripts/bench: medians of the sipguard --bench JSON
lines, tshark's rate, callgrind's instructions per packet, memory, and
each target next to the measured figure. Standard library only."""
import argparse
import json
import os
import platform
import statistics
import subprocess


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def machine(tsc_hz):
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    virt = ""
    try:
        out = subprocess.run(["systemd-detect-virt"], capture_output=True, text=True).stdout.strip()
        if out and out != "none":
            virt = ", virtualised (%s)" % out
    except OSError:
        pass
    return "%s, %d cores, TSC %.2f GHz%s, Linux %s" % (model, os.cpu_count() or 0, tsc_hz / 1e9,
                                                   virt, platform.release())


def fmt(v, nd=1):
    if v != v:  # nan
        return "n/a"
    return "%.*f" % (nd, v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tshark", required=True)
    ap.add_argument("--callgrind", required=True)
    ap.add_argument("--frames", type=int, required=True)
    ap.add_argument("--quick", type=int, default=0)
    ap.add_argument("--pgo", type=int, default=1)
    ap.add_argument("--edge-results")
    ap.add_argument("--edge-corpus")
    a = ap.parse_args()

    runs = [json.loads(x) for x in open(a.results) if x.strip()]
    corpus = json.load(open(a.corpus))
    groups = {}
    for r in runs:
        groups.setdefault((r["mode"], r["workers"], r.get("port", "pcap")), []).append(r)

    def stat(mode, w, key, per_worker=False, port="pcap"):
        rs = groups.get((mode, w, port), [])
        if per_worker:
            return median([statistics.mean(p[key] for p in r["per_worker"]) for r in rs])
        return median([r[key] for r in rs])

    tsc_hz = runs[0]["tsc_hz"] if runs else 0
    out = []
    out.append("## Benchmark%s" % (" (--quick: smoke run, not a measurement)" if a.quick else ""))
    out.append("")
    out.append("Machine: %s." % machine(tsc_hz))
    out.append("Build: %s." % ("release, LTO, profile-guided (scripts/build-release: trained on a "
                                "synthetic flood and the public corpus, not on this mix)" if a.pgo else
                                "release, LTO, no profile (SG_PGO=0)"))
    mix = corpus.get("mix", {})
    out.append("Capture: %d frames, mean SIP payload %.1f bytes, mean frame %.1f bytes; mix %s." % (
        corpus["frames"], corpus["mean_sip_payload"], stat("full", 1, "mean_frame_bytes"),
        ", ".join("%s %d" % kv for kv in mix.items())))
    nruns = len(groups.get(("full", 1, "pcap"), []))
    secs = runs[0]["seconds"] if runs else 0
    out.append("Each figure: median of %d run(s) of %d s; cycles counted with the TSC around "
               "non-empty bursts (receive included)." % (nruns, secs))
    out.append("Ports: pcap = net_pcap with infinite_rx, which copies every frame into a fresh "
               "mbuf (the copy is in the I/O floor and leaves the frame in L1); ring = net_ring "
               "fed as a NIC's descriptor ring is (warm mbufs pointed at the stored frames, "
               "lengths written; the frame data, as after DMA, is not touched: it comes from L3).")
    out.append("")
    out.append("| port | mode | workers | cycles/packet | Mpps per lcore | Mpps total | Gbit/s total "
               "| HS matches/packet | SIP msgs/packet | retrans share |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    if a.edge_results:
        for r in (json.loads(x) for x in open(a.edge_results) if x.strip()):
            groups.setdefault((r["mode"], r["workers"], "edge-" + r.get("port", "pcap")),
                              []).append(r)
    for port in ("pcap", "ring", "edge-pcap", "edge-ring"):
        for mode in ("io", "full", "hyperscan", "naive"):
            for w in (1, 2):
                if (mode, w, port) not in groups:
                    continue

                def st(key, pw=False):
                    return stat(mode, w, key, pw, port)
                out.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                    port, mode, w, fmt(st("cycles_per_packet")),
                    fmt(st("mpps", True), 2), fmt(st("mpps"), 2), fmt(st("gbps"), 2),
                    fmt(st("hs_matches_per_packet"), 2) if mode != "io" else "-",
                    fmt(st("sip_messages_per_packet", True), 3) if mode != "io" else "-",
                    fmt(100 * st("retrans_share", True), 2) + "%" if mode != "io" else "-"))
    out.append("")

    tsh = [float(x) for x in open(a.tshark) if x.strip()]
    tshark_pps = a.frames / median(tsh) if tsh else float("nan")
    cg = {}
    for line in open(a.callgrind):
        k, _, v = line.partition(" ")
        if v.strip():
            cg[k] = int(v)
    ipp = float("nan")
    if "cg-n" in cg and "cg-1" in cg and cg.get("frames", 0) > 1:
        ipp = (cg["cg-n"] - cg["cg-1"]) / (cg["frames"] - 1)

    full1 = stat("full", 1, "cycles_per_packet")
    io1 = stat("io", 1, "cycles_per_packet")
    naive1 = stat("naive", 1, "cycles_per_packet")
    mpps1 = stat("full", 1, "mpps")
    mpps2 = stat("full", 2, "mpps")
    io2 = stat("io", 2, "mpps")
    io1m = stat("io", 1, "mpps")
    ring_full1 = stat("full", 1, "cycles_per_packet", port="ring")
    ring_io1 = stat("io", 1, "cycles_per_packet", port="ring")
    out.append("| figure | measured | target |")
    out.append("| --- | ---: | --- |")
    out.append("| cycles per packet, full pipeline, 1 worker, pcap port | %s | <= 300 |" % fmt(full1))
    out.append("| cycles per packet, full pipeline, 1 worker, ring port | %s | <= 300 |" %
               fmt(ring_full1))
    out.append("| full / I/O floor (cycles), pcap port | %sx | <= 3.5x |" % fmt(full1 / io1, 2))
    out.append("| full / I/O floor (cycles), ring port | %sx | |" % fmt(ring_full1 / ring_io1, 2))
    out.append("| naive / full (cycles) | %sx | >= 3x |" % fmt(naive1 / full1, 2))
    out.append("| Hyperscan engine / line walk (cycles, full pipeline) | %sx | |" %
               fmt(stat("hyperscan", 1, "cycles_per_packet") / full1, 2))
    out.append("| tshark -z sip,stat | %s packets/s | |" % fmt(tshark_pps, 0))
    out.append("| sipguard (1 worker) / tshark | %sx | >= 100x |" % fmt(mpps1 * 1e6 / tshark_pps, 0))
    out.append("| 2 workers / 1 worker (Mpps, full) | %sx | >= 1.8x |" % fmt(mpps2 / mpps1, 2))
    out.append("| 2 workers / 1 worker (Mpps, I/O floor) | %sx | (what the machine allows) |" %
               fmt(io2 / io1m, 2))
    out.append("| 2 workers / 1 worker (Mpps, full, ring port) | %sx | |" %
               fmt(stat("full", 2, "mpps", port="ring") / stat("full", 1, "mpps", port="ring"), 2))
    out.append("| instructions per packet (callgrind, %d frames, start-up subtracted) | %s | |" %
               (cg.get("frames", 0), fmt(ipp, 0)))
    mem = groups.get(("full", 1, "pcap"), [{}])[-1].get("memory", {})
    if mem:
        out.append("| bytes per tracked transaction (retransmission entry, set included) | %s | |" %
                   fmt(mem.get("bytes_per_transaction", float("nan"))))
        out.append("| bytes per tracked dialog | %s | |" % fmt(mem.get("bytes_per_dialog",
                                                                 float("nan"))))
        out.append("| per worker: tables, scratch, counters (%d transactions, %d dialogs) | %.1f MiB | |" %
                   (mem.get("retrans_entries", 0), mem.get("dialog_entries", 0),
                    mem.get("worker_bytes", 0) / 2**20))
        heap_ex = mem.get("heap_in_use", 0) - mem.get("replay_pool_bytes", 0)
        out.append("| process: VmHWM %.1f MiB, VmRSS %.1f MiB, hugepages mapped %.1f MiB, DPDK heap in "
                   "use %.1f MiB (of which the bench's replay pool %.1f MiB) | | |" % (
                       mem.get("vm_hwm", 0) / 2**20, mem.get("vm_rss", 0) / 2**20,
                       mem.get("hugetlb", 0) / 2**20, mem.get("heap_in_use", 0) / 2**20,
                       mem.get("replay_pool_bytes", 0) / 2**20))
        out.append("| footprint at the configured sizes, 1 worker, without the replay pool | "
                   "%.1f MiB | |" % ((mem.get("vm_rss", 0) + (heap_ex if mem.get("hugetlb", 0) else 0))
                                     / 2**20))
    out.append("")
    if a.edge_results and a.edge_corpus:
        ec = json.load(open(a.edge_corpus))
        e_full = stat("full", 1, "cycles_per_packet", port="edge-pcap")
        e_io = stat("full", 1, "cycles_per_packet", port="edge-pcap") and \
            stat("io", 1, "cycles_per_packet", port="edge-pcap")
        e_ring = stat("full", 1, "cycles_per_packet", port="edge-ring")
        e_msgs = stat("full", 1, "sip_messages_per_packet", True, port="edge-pcap")
        out.append("Edge mix (scripts/lib/bench_edge.py): %d frames, %d of them IP fragments "
                   "(2 per %d-byte INVITE, IPv4 and IPv6), %d TCP segments with data "
                   "(INVITEs across 2 segments, 100 and 503 sharing one), %d calls." % (
                       ec["frames"], ec["fragments"], ec["invite_bytes"], ec["tcp_segments"],
                       ec["calls"]))
        out.append("")
        out.append("| figure | pcap port | ring port |")
        out.append("| --- | ---: | ---: |")
        out.append("| cycles per packet, full pipeline, 1 worker | %s | %s |" % (
            fmt(e_full), fmt(e_ring)))
        out.append("| cycles per SIP message | %s | %s |" % (
            fmt(e_full / e_msgs if e_msgs else float("nan")),
            fmt(e_ring / e_msgs if e_msgs else float("nan"))))
        out.append("| full / I/O floor | %sx | %sx |" % (
            fmt(e_full / e_io, 2),
            fmt(e_ring / stat("io", 1, "cycles_per_packet", port="edge-ring"), 2)))
        out.append("| SIP messages per packet | %s | |" % fmt(e_msgs, 3))
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()

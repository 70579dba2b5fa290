#!/usr/bin/env python3
"""Summarize fdbench trace files (.csv or .csv.gz): the numbers in datasets/README.md.

Usage: python3 datasets/summarize.py FILE...   (standard library only)
"""
import gzip
import sys


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[i]


def summarize(path):
    opener = gzip.open if path.endswith(".gz") else open
    interval = None
    rows = []
    with opener(path, "rt") as f:
        header = None
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                if line.startswith("# interval_ns="):
                    interval = int(line.split("=", 1)[1])
                continue
            if header is None:
                header = line.split(",")
                continue
            rec = dict(zip(header, line.split(",")))
            if rec.get("recv_ns", "") == "":
                continue
            send = rec.get("send_ns")
            rows.append((int(rec["seq"]), int(send) if send else None, int(rec["recv_ns"])))
    eta = interval / 1e6
    seqs = [r[0] for r in rows]
    lost = (seqs[-1] - seqs[0] + 1) - len(rows)
    arrivals = sorted((r[2], r[0]) for r in rows)
    gaps, stale, top = [], 0, -1
    prev = None
    for recv, seq in arrivals:
        if seq <= top:
            stale += 1
            continue
        top = seq
        if prev is not None:
            gaps.append((recv - prev) / 1e6)
        prev = recv
    gaps.sort()
    out = [
        f"{path}",
        f"  heartbeats received: {len(rows)}  (seq {seqs[0]}..{seqs[-1]}, lost {lost}, stale/reordered {stale})",
        f"  interval: {eta:g} ms; span {(arrivals[-1][0] - arrivals[0][0]) / 1e9:.1f} s",
        "  inter-arrival ms: p50 {:.3f} p99 {:.3f} p99.9 {:.3f} max {:.3f}; gaps > 2η: {}, > 5η: {}, > 10η: {}".format(
            pct(gaps, 50), pct(gaps, 99), pct(gaps, 99.9), gaps[-1],
            sum(g > 2 * eta for g in gaps), sum(g > 5 * eta for g in gaps), sum(g > 10 * eta for g in gaps)),
    ]
    if rows[0][1] is not None:
        delays = sorted((r[2] - r[1]) / 1e6 for r in rows)
        sends = [r[1] for r in rows]
        sgaps = sorted((b - a) / 1e6 for a, b in zip(sends, sends[1:]))
        out.append("  one-way delay ms: p50 {:.3f} p99 {:.3f} p99.9 {:.3f} max {:.3f}".format(
            pct(delays, 50), pct(delays, 99), pct(delays, 99.9), delays[-1]))
        out.append("  send gaps ms (sender stalls): p50 {:.3f} p99.9 {:.3f} max {:.3f}; > 2η: {}".format(
            pct(sgaps, 50), pct(sgaps, 99.9), sgaps[-1], sum(g > 2 * eta for g in sgaps)))
    return "\n".join(out)


if __name__ == "__main__":
    for p in sys.argv[1:]:
        print(summarize(p))

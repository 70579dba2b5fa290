#!/usr/bin/env python3
"""The fixed-timeout sweep as a researcher writes it by hand in NumPy: every timeout
at once, with `searchsorted` on the sorted gaps and delays.

    /usr/bin/python3 scripts/numpy_sweep.py TRACE.csv [--warmup 1000] [--deadline-ms 1000]
        [--timeouts-ms 10..2000:10] [--check RESULTS.csv]

It reads an fdbench trace (`seq,send_ns,recv_ns`, `#` comment lines, an empty field for
a lost heartbeat), keeps the accepted receipts (evaluation.md §2: in order of
(recv, seq), a receipt whose seq is not above every earlier one is stale), and for each
timeout T computes, over the evaluated gaps and crash points (§3, §4):

- mistakes: the gaps longer than T (for T > 0 every suspected gap is a new mistake);
- suspect time: the sum of (gap - T) over those gaps;
- detection time from the send (or the receipt without send times): delay + T, whose
  mean, nearest-rank p50/p99, maximum and completeness within D follow from the sorted
  delays.

It prints one CSV row per timeout. With `--check`, it compares mistakes, suspect time
(through query accuracy), detection mean and completeness with an fdbench results file of
`fixed` rows (e.g. `fdbench sweep TRACE -d 'fixed:timeout=10ms..2s:10ms' -o RESULTS.csv`)
and exits 1 on a difference.
"""

import argparse
import csv
import sys

import numpy as np


def read_trace(path):
    """The trace's columns as int64 arrays (-1 for an empty field) and whether it has
    send times."""
    with open(path, "rb") as f:
        text = f.read()
    lines = text.split(b"\n")
    body = [ln for ln in lines if ln and not ln.startswith(b"#")]
    header, rows = body[0].decode().strip().split(","), b"\n".join(body[1:]) + b"\n"
    # Empty fields become -1, then the numbers are parsed by NumPy's C reader.
    rows = rows.replace(b",\n", b",-1\n").replace(b",,", b",-1,").replace(b"\n,", b"\n-1,")
    flat = np.fromstring(rows.replace(b",", b" ").decode(), dtype=np.int64, sep=" ")
    table = flat.reshape(-1, len(header))
    col = {name: table[:, i] for i, name in enumerate(header)}
    send = col.get("send_ns")
    has_send = send is not None and bool(np.all(send[col["recv_ns"] >= 0] >= 0))
    return col["seq"], (send if has_send else None), col["recv_ns"]


def accepted(seq, send, recv):
    """The accepted receipts (recv, send-or-None), in order of (recv, seq)."""
    got = recv >= 0
    seq, recv = seq[got], recv[got]
    send = send[got] if send is not None else None
    order = np.lexsort((seq, recv))
    seq, recv = seq[order], recv[order]
    best = np.maximum.accumulate(seq)
    keep = np.ones(len(seq), dtype=bool)
    keep[1:] = seq[1:] > best[:-1]
    return recv[keep], (send[order][keep] if send is not None else None)


def parse_range(text):
    start, rest = text.split("..")
    end, step = rest.split(":")
    start, end, step = float(start), float(end), float(step)
    n = int(round((end - start) / step))
    return np.array([start + i * step for i in range(n + 1)])


def sweep(a, send, timeouts_ns, warmup, deadline_ns):
    """Every metric of every timeout, vectorized over the timeouts."""
    m = len(a)
    gaps = np.diff(a[warmup:])  # evaluated gaps j = w .. m-2
    length = a[m - 1] - a[warmup]
    sorted_gaps = np.sort(gaps)
    # Sum of the gaps above each point, from the top.
    above = np.concatenate((np.cumsum(sorted_gaps[::-1])[::-1], [0]))
    first_over = np.searchsorted(sorted_gaps, timeouts_ns, side="right")
    over = len(gaps) - first_over
    suspect = above[first_over] - over * timeouts_ns
    origin = send[warmup:] if send is not None else a[warmup:]
    delays = np.sort(a[warmup:] - origin)
    n = len(delays)
    rank = lambda p: int(np.ceil(p * n)) - 1  # nearest rank, 0-based
    within = np.searchsorted(delays, deadline_ns - timeouts_ns, side="right")
    return {
        "mistakes": over,
        "suspect_ns": suspect,
        "mistake_rate_per_h": over / (length / 1e9) * 3600.0,
        "query_accuracy": 1.0 - suspect / length,
        "detection_mean_ms": (delays.mean() + timeouts_ns) / 1e6,
        "detection_p50_ms": (delays[rank(0.5)] + timeouts_ns) / 1e6,
        "detection_p99_ms": (delays[rank(0.99)] + timeouts_ns) / 1e6,
        "detection_max_ms": (delays[-1] + timeouts_ns) / 1e6,
        "completeness": within / n,
    }


def check(path, timeouts_ms, out):
    """Compares with fdbench's `fixed` rows; returns the number of differences."""
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r["detector"] == "fixed":
                rows[round(float(r["value"]), 6)] = r
    bad = 0
    for i, t in enumerate(timeouts_ms):
        r = rows.get(round(t, 6))
        if r is None:
            print(f"timeout {t} ms: no fixed row in {path}", file=sys.stderr)
            bad += 1
            continue
        same = (
            int(r["mistakes"]) == out["mistakes"][i]
            and np.isclose(float(r["query_accuracy"]), out["query_accuracy"][i], rtol=0, atol=1e-12)
            and np.isclose(float(r["detection_mean_ms"]), out["detection_mean_ms"][i], rtol=1e-12)
            and np.isclose(float(r["completeness"]), out["completeness"][i], rtol=0, atol=1e-12)
        )
        if not same:
            print(f"timeout {t} ms differs: fdbench {r}", file=sys.stderr)
            bad += 1
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--deadline-ms", type=float, default=1000.0)
    ap.add_argument("--timeouts-ms", default="10..2000:10")
    ap.add_argument("--check", metavar="RESULTS.csv")
    args = ap.parse_args()
    timeouts_ms = parse_range(args.timeouts_ms)
    if np.any(timeouts_ms <= 0):
        sys.exit("every timeout must be above 0 ms")
    a, send = accepted(*read_trace(args.trace))
    if len(a) < args.warmup + 2:
        sys.exit(f"{args.trace}: {len(a)} accepted receipts, fewer than the warm-up {args.warmup} + 2")
    timeouts_ns = np.round(timeouts_ms * 1e6).astype(np.int64)
    out = sweep(a, send, timeouts_ns, args.warmup, int(round(args.deadline_ms * 1e6)))
    w = csv.writer(sys.stdout, lineterminator="\n")
    names = list(out)
    w.writerow(["timeout_ms"] + names)
    for i, t in enumerate(timeouts_ms):
        w.writerow([repr(float(t))] + [repr(out[k][i].item()) for k in names])
    if args.check and check(args.check, timeouts_ms, out):
        sys.exit(1)


if __name__ == "__main__":
    main()

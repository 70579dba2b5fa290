//! Descriptive statistics of a trace (`fdbench stats`): counts, loss, inter-arrival
//! times and delays, and the longest silence.
//!
//! Means, standard deviations (population, `n` in the denominator), minima and maxima
//! are exact. Percentiles come from an HDR histogram of nanosecond values with 3
//! significant digits: each is the highest value equivalent to the true percentile
//! within 0.1 %, clamped to the exact minimum and maximum (never a p99 above the max).
//!
//! Inter-arrival times are between consecutive **accepted** receipts ([evaluation.md](crate::docs::evaluation)
//! §2), the gaps a detector sees. Delays (`recv - send`) are over every received
//! heartbeat, stale ones included, and only when the trace has send times.

use std::fmt;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::{IntervalSource, Trace};

/// Statistics of one trace. Times are in the unit named by the field (`_ms`, `_s`);
/// fields that need data the trace lacks (send times, two accepted receipts) are `None`
/// (`null` in JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceStats {
    /// Rows in the trace, received or lost.
    pub heartbeats: u64,
    /// Sequence number of the first row.
    pub first_seq: u64,
    /// Sequence number of the last row.
    pub last_seq: u64,
    /// Rows with a receipt time.
    pub received: u64,
    /// Rows whose receipt time is empty.
    pub lost_rows: u64,
    /// Sequence numbers absent from the file between the first and the last row.
    pub lost_missing_seq: u64,
    /// `lost_rows + lost_missing_seq`.
    pub lost: u64,
    /// `lost / (last_seq - first_seq + 1)`: the fraction of heartbeats sent in the span
    /// of the trace that never arrived.
    pub loss_fraction: f64,
    /// Receipts not accepted because a later heartbeat arrived first (or a duplicate).
    pub stale: u64,
    /// Accepted receipts: what detectors see.
    pub accepted: u64,
    /// Time from the first to the last receipt, in seconds.
    pub duration_s: f64,
    /// The nominal interval `η`, in milliseconds.
    pub interval_ms: f64,
    /// Where `η` came from.
    pub interval_source: IntervalSource,
    /// The sender's period ([`Receipts::period`](crate::trace::Receipts::period)), ms.
    pub period_ms: Option<f64>,
    /// Set when the period differs from `η` by more than 5 %: what that does to the
    /// detectors and what to pass instead.
    pub period_warning: Option<String>,
    /// Number of inter-arrival times (accepted receipts minus one).
    pub interarrival_count: u64,
    /// Mean inter-arrival time, ms.
    pub interarrival_mean_ms: Option<f64>,
    /// Standard deviation of the inter-arrival times, ms.
    pub interarrival_std_ms: Option<f64>,
    /// Shortest inter-arrival time, ms.
    pub interarrival_min_ms: Option<f64>,
    /// Longest inter-arrival time, ms.
    pub interarrival_max_ms: Option<f64>,
    /// Median inter-arrival time (histogram), ms.
    pub interarrival_p50_ms: Option<f64>,
    /// 90th percentile (histogram), ms.
    pub interarrival_p90_ms: Option<f64>,
    /// 99th percentile (histogram), ms.
    pub interarrival_p99_ms: Option<f64>,
    /// 99.9th percentile (histogram), ms.
    pub interarrival_p99_9_ms: Option<f64>,
    /// 99.99th percentile (histogram), ms.
    pub interarrival_p99_99_ms: Option<f64>,
    /// Number of delays measured (received rows with a send time).
    pub delay_count: u64,
    /// Mean delay `recv - send`, ms.
    pub delay_mean_ms: Option<f64>,
    /// Standard deviation of the delay, ms.
    pub delay_std_ms: Option<f64>,
    /// Smallest delay, ms.
    pub delay_min_ms: Option<f64>,
    /// Largest delay, ms.
    pub delay_max_ms: Option<f64>,
    /// Median delay (histogram), ms.
    pub delay_p50_ms: Option<f64>,
    /// 90th percentile of the delay (histogram), ms.
    pub delay_p90_ms: Option<f64>,
    /// 99th percentile of the delay (histogram), ms.
    pub delay_p99_ms: Option<f64>,
    /// 99.9th percentile of the delay (histogram), ms.
    pub delay_p99_9_ms: Option<f64>,
    /// 99.99th percentile of the delay (histogram), ms.
    pub delay_p99_99_ms: Option<f64>,
    /// The longest time between consecutive accepted receipts, ms.
    pub longest_gap_ms: Option<f64>,
    /// Sequence number of the accepted receipt that starts the longest gap.
    pub longest_gap_after_seq: Option<u64>,
    /// Sequence number of the accepted receipt that ends it.
    pub longest_gap_before_seq: Option<u64>,
    /// When the longest gap starts, in seconds after the first receipt.
    pub longest_gap_start_s: Option<f64>,
}

/// The percentiles reported, as quantiles.
const QUANTILES: [f64; 5] = [0.5, 0.9, 0.99, 0.999, 0.9999];

/// Exact moments and extremes plus a histogram for percentiles, of nanosecond values.
struct Summary {
    count: u64,
    mean: f64,
    m2: f64,
    min: i64,
    max: i64,
    hist: Histogram<u64>,
}

impl Summary {
    fn new() -> Summary {
        Summary {
            count: 0,
            mean: 0.0,
            m2: 0.0,
            min: i64::MAX,
            max: i64::MIN,
            hist: Histogram::new(3).expect("3 significant digits is a valid histogram precision"),
        }
    }

    #[inline]
    fn add(&mut self, v: i64) {
        self.count += 1;
        let x = v as f64;
        let d = x - self.mean;
        self.mean += d / self.count as f64;
        self.m2 += d * (x - self.mean);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        // The histogram grows as needed; only values beyond its 2^62 limit are clamped.
        let v = v.max(0) as u64;
        if self.hist.record(v).is_err() {
            self.hist.saturating_record(v);
        }
    }

    /// `[mean, std, min, max, p50, p90, p99, p99.9, p99.99]` in ms, or all `None`.
    fn millis(&self) -> [Option<f64>; 9] {
        if self.count == 0 {
            return [None; 9];
        }
        let ms = |ns: f64| Some(ns / 1e6);
        // A histogram bucket's highest value may pass the exact extremes: clamp to them.
        let p = QUANTILES.map(|q| {
            ms(self
                .hist
                .value_at_quantile(q)
                .clamp(self.min.max(0) as u64, self.max.max(0) as u64) as f64)
        });
        [
            ms(self.mean),
            ms((self.m2 / self.count as f64).sqrt()),
            ms(self.min as f64),
            ms(self.max as f64),
            p[0],
            p[1],
            p[2],
            p[3],
            p[4],
        ]
    }
}

/// Computes the statistics of a trace in two passes over it (one over its rows, one
/// over its accepted receipts).
pub fn compute(trace: &Trace) -> TraceStats {
    let n = trace.len();
    let first_seq = trace.seq(0);
    let last_seq = trace.seq(n - 1);
    let mut received = 0u64;
    let mut missing = 0u64;
    let mut first_recv = i64::MAX;
    let mut last_recv = i64::MIN;
    let mut delay = Summary::new();
    let mut prev_seq: Option<u64> = None;
    for (seq, send, recv) in trace.rows() {
        if let Some(p) = prev_seq {
            missing = missing.saturating_add(seq - p - 1);
        }
        prev_seq = Some(seq);
        if let Some(r) = recv {
            received += 1;
            first_recv = first_recv.min(r.0);
            last_recv = last_recv.max(r.0);
            if let Some(s) = send {
                delay.add(r.0 - s.0);
            }
        }
    }
    let lost_rows = n as u64 - received;
    let lost = lost_rows.saturating_add(missing);
    let span = (last_seq - first_seq) as f64 + 1.0;

    let acc = trace.accepted();
    let mut gaps = Summary::new();
    let mut longest: Option<(i64, usize)> = None;
    for j in 1..acc.len() {
        let g = (acc.recv[j] - acc.recv[j - 1]).0;
        gaps.add(g);
        if longest.is_none_or(|(l, _)| g > l) {
            longest = Some((g, j));
        }
    }
    let [
        ia_mean,
        ia_std,
        ia_min,
        ia_max,
        ia_p50,
        ia_p90,
        ia_p99,
        ia_p999,
        ia_p9999,
    ] = gaps.millis();
    let [d_mean, d_std, d_min, d_max, d_p50, d_p90, d_p99, d_p999, d_p9999] = delay.millis();
    TraceStats {
        heartbeats: n as u64,
        first_seq,
        last_seq,
        received,
        lost_rows,
        lost_missing_seq: missing,
        lost,
        loss_fraction: lost as f64 / span,
        stale: acc.stale as u64,
        accepted: acc.len() as u64,
        duration_s: (last_recv - first_recv) as f64 / 1e9,
        interval_ms: trace.interval().as_millis_f64(),
        interval_source: trace.interval_source(),
        period_ms: acc.period().map(|p| p / 1e6),
        period_warning: acc.period_warning(),
        interarrival_count: gaps.count,
        interarrival_mean_ms: ia_mean,
        interarrival_std_ms: ia_std,
        interarrival_min_ms: ia_min,
        interarrival_max_ms: ia_max,
        interarrival_p50_ms: ia_p50,
        interarrival_p90_ms: ia_p90,
        interarrival_p99_ms: ia_p99,
        interarrival_p99_9_ms: ia_p999,
        interarrival_p99_99_ms: ia_p9999,
        delay_count: delay.count,
        delay_mean_ms: d_mean,
        delay_std_ms: d_std,
        delay_min_ms: d_min,
        delay_max_ms: d_max,
        delay_p50_ms: d_p50,
        delay_p90_ms: d_p90,
        delay_p99_ms: d_p99,
        delay_p99_9_ms: d_p999,
        delay_p99_99_ms: d_p9999,
        longest_gap_ms: longest.map(|(g, _)| g as f64 / 1e6),
        longest_gap_after_seq: longest.map(|(_, j)| acc.seq[j - 1]),
        longest_gap_before_seq: longest.map(|(_, j)| acc.seq[j]),
        longest_gap_start_s: longest.map(|(_, j)| (acc.recv[j - 1].0 - acc.recv[0].0) as f64 / 1e9),
    }
}

/// Writes a value in ms with 3 decimals, or `-`.
fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.3} ms"))
}

/// A human-readable report, one quantity per line.
impl fmt::Display for TraceStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |n: u64| 100.0 * n as f64 / self.heartbeats.max(1) as f64;
        writeln!(
            f,
            "heartbeats      {} rows (seq {} to {})",
            self.heartbeats, self.first_seq, self.last_seq
        )?;
        writeln!(
            f,
            "received        {} ({:.3} % of rows)",
            self.received,
            pct(self.received)
        )?;
        writeln!(
            f,
            "lost            {} ({:.4} % of seq {}..{}): {} rows with empty recv_ns, {} seq numbers missing",
            self.lost,
            100.0 * self.loss_fraction,
            self.first_seq,
            self.last_seq,
            self.lost_rows,
            self.lost_missing_seq
        )?;
        writeln!(
            f,
            "stale           {} (arrived after a later heartbeat; not shown to detectors)",
            self.stale
        )?;
        writeln!(f, "accepted        {}", self.accepted)?;
        writeln!(f, "duration        {:.3} s (first to last receipt)", self.duration_s)?;
        let source = match self.interval_source {
            IntervalSource::Metadata => "from the trace's metadata",
            IntervalSource::Given => "given by --interval",
            IntervalSource::Inferred => "inferred: median receipt spacing per seq step",
        };
        writeln!(f, "interval        {:.3} ms ({source})", self.interval_ms)?;
        if let Some(p) = self.period_ms {
            writeln!(
                f,
                "period          {p:.3} ms per sequence number (first to last accepted heartbeat)"
            )?;
        }
        if let Some(w) = &self.period_warning {
            writeln!(f, "warning         {w}")?;
        }
        writeln!(
            f,
            "inter-arrival   {} gaps between accepted receipts",
            self.interarrival_count
        )?;
        writeln!(
            f,
            "                mean {}  std {}  min {}  max {}",
            ms(self.interarrival_mean_ms),
            ms(self.interarrival_std_ms),
            ms(self.interarrival_min_ms),
            ms(self.interarrival_max_ms)
        )?;
        writeln!(
            f,
            "                p50 {}  p90 {}  p99 {}  p99.9 {}  p99.99 {}",
            ms(self.interarrival_p50_ms),
            ms(self.interarrival_p90_ms),
            ms(self.interarrival_p99_ms),
            ms(self.interarrival_p99_9_ms),
            ms(self.interarrival_p99_99_ms)
        )?;
        if self.delay_count > 0 {
            writeln!(
                f,
                "delay           {} received heartbeats, recv_ns - send_ns",
                self.delay_count
            )?;
            writeln!(
                f,
                "                mean {}  std {}  min {}  max {}",
                ms(self.delay_mean_ms),
                ms(self.delay_std_ms),
                ms(self.delay_min_ms),
                ms(self.delay_max_ms)
            )?;
            writeln!(
                f,
                "                p50 {}  p90 {}  p99 {}  p99.9 {}  p99.99 {}",
                ms(self.delay_p50_ms),
                ms(self.delay_p90_ms),
                ms(self.delay_p99_ms),
                ms(self.delay_p99_9_ms),
                ms(self.delay_p99_99_ms)
            )?;
        } else {
            writeln!(f, "delay           - (the trace has no send times)")?;
        }
        match (
            self.longest_gap_ms,
            self.longest_gap_after_seq,
            self.longest_gap_before_seq,
            self.longest_gap_start_s,
        ) {
            (Some(g), Some(a), Some(b), Some(s)) => writeln!(
                f,
                "longest gap     {g:.3} ms, from seq {a} to seq {b}, starting {s:.3} s after the first receipt"
            )?,
            _ => writeln!(f, "longest gap     - (fewer than two accepted receipts)")?,
        }
        write!(
            f,
            "(percentiles from an HDR histogram with 3 significant digits; means and extremes exact)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Nanos;
    use crate::trace::TraceBuilder;

    fn trace(rows: &[(u64, Option<i64>, Option<i64>)], with_send: bool) -> Trace {
        let mut b = TraceBuilder::new(with_send);
        for &(s, se, r) in rows {
            b.push(s, se.map(Nanos), r.map(Nanos)).unwrap();
        }
        b.finish(Some((Nanos::from_millis(100), IntervalSource::Metadata)))
            .unwrap()
    }

    const MS: i64 = 1_000_000;

    #[test]
    fn counts_losses_both_ways_and_finds_the_longest_gap() {
        // seq 3 lost (empty recv), seq 5 and 6 absent from the file.
        let t = trace(
            &[
                (1, Some(0), Some(10 * MS)),
                (2, Some(100 * MS), Some(110 * MS)),
                (3, Some(200 * MS), None),
                (4, Some(300 * MS), Some(330 * MS)),
                (7, Some(600 * MS), Some(610 * MS)),
                (8, Some(700 * MS), Some(760 * MS)),
                (9, Some(800 * MS), Some(800 * MS)),
            ],
            true,
        );
        let s = compute(&t);
        assert_eq!(s.heartbeats, 7);
        assert_eq!(s.received, 6);
        assert_eq!(s.lost_rows, 1);
        assert_eq!(s.lost_missing_seq, 2);
        assert_eq!(s.lost, 3);
        assert!((s.loss_fraction - 3.0 / 9.0).abs() < 1e-12);
        assert_eq!(s.stale, 0);
        assert_eq!(s.accepted, 6);
        assert!((s.duration_s - 0.79).abs() < 1e-12);
        // Gaps: 100, 220, 280, 150, 40 ms.
        assert_eq!(s.interarrival_count, 5);
        assert!((s.interarrival_mean_ms.unwrap() - 158.0).abs() < 1e-9);
        let var = [100.0f64, 220.0, 280.0, 150.0, 40.0]
            .iter()
            .map(|g| (g - 158.0).powi(2))
            .sum::<f64>()
            / 5.0;
        assert!((s.interarrival_std_ms.unwrap() - var.sqrt()).abs() < 1e-9);
        assert_eq!(s.interarrival_min_ms, Some(40.0));
        assert_eq!(s.interarrival_max_ms, Some(280.0));
        assert_eq!(s.longest_gap_ms, Some(280.0));
        assert_eq!(s.longest_gap_after_seq, Some(4));
        assert_eq!(s.longest_gap_before_seq, Some(7));
        assert!((s.longest_gap_start_s.unwrap() - 0.32).abs() < 1e-12);
        // Delays: 10, 10, 30, 10, 60, 0 ms.
        assert_eq!(s.delay_count, 6);
        assert!((s.delay_mean_ms.unwrap() - 20.0).abs() < 1e-9);
        assert_eq!(s.delay_min_ms, Some(0.0));
        assert_eq!(s.delay_max_ms, Some(60.0));
        // The median of 0, 10, 10, 10, 30, 60 is 10 ms, within the histogram's precision.
        assert!((s.delay_p50_ms.unwrap() - 10.0).abs() <= 0.01);
    }

    #[test]
    fn stale_receipts_are_counted_and_skipped() {
        // seq 2 arrives after seq 3: stale.
        let t = trace(
            &[
                (1, None, Some(100 * MS)),
                (2, None, Some(350 * MS)),
                (3, None, Some(300 * MS)),
            ],
            false,
        );
        let s = compute(&t);
        assert_eq!(s.stale, 1);
        assert_eq!(s.accepted, 2);
        assert_eq!(s.interarrival_count, 1);
        assert_eq!(s.interarrival_mean_ms, Some(200.0));
        assert_eq!(s.interarrival_std_ms, Some(0.0));
        assert_eq!(s.duration_s, 0.25);
        assert_eq!(s.delay_count, 0);
        assert_eq!(s.delay_mean_ms, None);
        assert_eq!((s.longest_gap_after_seq, s.longest_gap_before_seq), (Some(1), Some(3)));
        let text = s.to_string();
        assert!(text.contains("no send times"), "{text}");
        assert!(text.contains("from seq 1 to seq 3"), "{text}");
    }

    #[test]
    fn percentiles_track_the_distribution() {
        // Gaps 1..=1000 ms: p50 ≈ 500 ms, p99 ≈ 990 ms, within 3 significant digits.
        let mut b = TraceBuilder::new(false);
        let mut t = 0;
        b.push(0, None, Some(Nanos(0))).unwrap();
        for k in 1..=1000i64 {
            t += k * MS;
            b.push(k as u64, None, Some(Nanos(t))).unwrap();
        }
        let s = compute(&b.finish(None).unwrap());
        let close = |x: Option<f64>, want: f64| (x.unwrap() - want).abs() <= want * 1e-3 + 1e-9;
        assert!(close(s.interarrival_p50_ms, 500.0), "{:?}", s.interarrival_p50_ms);
        assert!(close(s.interarrival_p90_ms, 900.0), "{:?}", s.interarrival_p90_ms);
        assert!(close(s.interarrival_p99_ms, 990.0), "{:?}", s.interarrival_p99_ms);
        assert!(
            close(s.interarrival_p99_99_ms, 1000.0),
            "{:?}",
            s.interarrival_p99_99_ms
        );
        assert_eq!(s.interval_source, IntervalSource::Inferred);
        assert_eq!(s.longest_gap_before_seq, Some(1000));
    }

    #[test]
    fn no_percentile_passes_the_exact_extremes() {
        // Every gap is 100.001 ms, whose histogram bucket's highest value is above it.
        let gap = 100_001_000;
        let mut b = TraceBuilder::new(false);
        for k in 0..100i64 {
            b.push(k as u64, None, Some(Nanos(k * gap))).unwrap();
        }
        let s = compute(&b.finish(None).unwrap());
        assert_eq!(s.interarrival_max_ms, Some(100.001));
        for p in [
            s.interarrival_p50_ms,
            s.interarrival_p90_ms,
            s.interarrival_p99_ms,
            s.interarrival_p99_9_ms,
            s.interarrival_p99_99_ms,
        ] {
            assert_eq!(p, Some(100.001));
        }
    }

    #[test]
    fn json_has_units_in_every_time_field() {
        let t = trace(&[(1, Some(0), Some(5 * MS)), (2, Some(100 * MS), Some(104 * MS))], true);
        let v: serde_json::Value = serde_json::to_value(compute(&t)).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj["interval_source"], "metadata");
        assert_eq!(
            obj["interarrival_p99_ms"].as_f64().map(|x| (x - 99.0).abs() < 0.1),
            Some(true)
        );
        for key in obj.keys() {
            let time = key.contains("interarrival_") && !key.ends_with("_count")
                || key.contains("delay_") && !key.ends_with("_count")
                || key.contains("duration")
                || key == "longest_gap_ms"
                || key == "longest_gap_start_s";
            if time {
                assert!(key.ends_with("_ms") || key.ends_with("_s"), "{key}");
            }
        }
    }
}

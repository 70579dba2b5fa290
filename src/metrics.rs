//! QoS metrics from deadlines (evaluation.md §3–§4).
//!
//! Given the accepted receipts `a_j` and the detector's deadline `τ_j` after each of
//! them, the output of the detector is known exactly: trust on `[a_j, max(a_j, τ_j))`,
//! suspect on `[max(a_j, τ_j), a_{j+1})` when `τ_j < a_{j+1}`. [`Accumulator`] folds the
//! gaps and crash points into the accuracy metrics of Chen, Toueg and Aguilera and the
//! detection-time statistics, in one streaming pass per knob value.

use serde::Serialize;

use crate::time::Nanos;

/// Where detection time is measured from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// From the send time of the last heartbeat (the trace has send times).
    Send,
    /// From the receipt of the last heartbeat (no send times: network delay left out).
    Receipt,
}

impl Origin {
    /// `send` or `receipt`.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Send => "send",
            Origin::Receipt => "receipt",
        }
    }
}

/// Detection-time statistics over all crash points (evaluation.md §4). Times in
/// nanoseconds; [`Nanos::MAX`] stands for `+∞` (some crash is never detected).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Detection {
    /// Mean `T_D` in nanoseconds (`+inf` if any crash point is never detected).
    pub mean_ns: f64,
    /// Median `T_D` (nearest rank).
    pub p50: Nanos,
    /// 99th percentile `T_D` (nearest rank).
    pub p99: Nanos,
    /// Largest `T_D`.
    pub max: Nanos,
    /// Fraction of crash points with `T_D <= deadline`.
    pub completeness: f64,
    /// The completeness deadline `D`.
    pub deadline: Nanos,
    /// What `T_D` is measured from.
    pub origin: Origin,
}

/// The metrics of one detector at one knob value on one trace.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Metrics {
    /// Evaluated accepted receipts (crash points), `m - w`.
    pub heartbeats: u64,
    /// Evaluated length `L = a_{m-1} - a_w`.
    pub evaluated: Nanos,
    /// Number of S-transitions (wrong suspicions).
    pub mistakes: u64,
    /// Total time spent suspecting, `S_time`.
    pub suspect_time: Nanos,
    /// Detection time statistics.
    pub detection: Detection,
}

impl Metrics {
    /// Mistake rate `λ_M`, per hour.
    pub fn mistake_rate_per_h(&self) -> f64 {
        self.mistakes as f64 / self.evaluated.as_secs_f64() * 3600.0
    }

    /// Mean mistake duration `T_M`; `None` without mistakes.
    pub fn mistake_duration_mean(&self) -> Option<f64> {
        (self.mistakes > 0).then(|| self.suspect_time.0 as f64 / self.mistakes as f64)
    }

    /// Mean mistake recurrence time `T_MR` in nanoseconds; `None` without mistakes.
    pub fn mistake_recurrence_mean(&self) -> Option<f64> {
        (self.mistakes > 0).then(|| self.evaluated.0 as f64 / self.mistakes as f64)
    }

    /// Mean good period `T_G = T_MR - T_M` in nanoseconds; `None` without mistakes.
    pub fn good_period_mean(&self) -> Option<f64> {
        Some(self.mistake_recurrence_mean()? - self.mistake_duration_mean()?)
    }

    /// Query accuracy probability `P_A = 1 - S_time / L`.
    pub fn query_accuracy(&self) -> f64 {
        1.0 - self.suspect_time.0 as f64 / self.evaluated.0 as f64
    }
}

/// Number of histogram buckets used to locate percentiles (see [`bucket`]).
pub const BUCKETS: usize = (1 << SUB_BITS) + (63 - SUB_BITS as usize) * (1 << MANTISSA_BITS);

const MANTISSA_BITS: u32 = 10;
const SUB_BITS: u32 = MANTISSA_BITS + 1;

/// The histogram bucket of a non-negative duration: exact below 2048 ns, then 1024
/// buckets per power of two (relative width under 0.1 %). Monotone: `a <= b` implies
/// `bucket(a) <= bucket(b)`.
#[inline]
pub fn bucket(v: i64) -> usize {
    let v = v.max(0) as u64;
    if v < (1 << SUB_BITS) {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= SUB_BITS
    let mantissa = (v >> (e - MANTISSA_BITS)) as usize & ((1 << MANTISSA_BITS) - 1);
    (1 << SUB_BITS) + ((e - SUB_BITS) as usize) * (1 << MANTISSA_BITS) + mantissa
}

/// Streams the gaps and crash points of one replay at one knob value (the first of two
/// passes).
///
/// Call [`crash_point`](Accumulator::crash_point) for each evaluated receipt
/// `j = w .. m-1` and [`gap`](Accumulator::gap) for each evaluated gap `j = w .. m-2`.
/// Detection times are not stored: a histogram locates the bucket of each percentile,
/// and a second pass ([`Collector`]) keeps only the detection times in those buckets, so
/// the percentiles are exact with memory independent of the trace length.
#[derive(Clone, Debug)]
pub struct Accumulator {
    mistakes: u64,
    suspect_time: i64,
    sum: i128,
    crash_points: u64,
    within: u64,
    infinite: u64,
    max: i64,
    hist: Vec<u32>,
}

impl Default for Accumulator {
    fn default() -> Self {
        Accumulator {
            mistakes: 0,
            suspect_time: 0,
            sum: 0,
            crash_points: 0,
            within: 0,
            infinite: 0,
            max: 0,
            hist: vec![0; BUCKETS],
        }
    }
}

impl Accumulator {
    /// Gap `j`: receipt `a_j` with deadline `tau`, next receipt `next`; `prev_tau` is
    /// the deadline after receipt `j-1` (`None` before the first receipt, which counts as
    /// trust).
    #[inline]
    pub fn gap(&mut self, a: Nanos, tau: Nanos, next: Nanos, prev_tau: Option<Nanos>) {
        if tau < next {
            let start = a.max(tau);
            self.suspect_time += (next - start).0;
            if tau > a || prev_tau.is_none_or(|p| p >= a) {
                self.mistakes += 1;
            }
        }
    }

    /// Crash point `j`: receipt `a`, deadline `tau`, origin `origin` (send time or
    /// receipt), completeness deadline `d`.
    #[inline]
    pub fn crash_point(&mut self, a: Nanos, tau: Nanos, origin: Nanos, d: Nanos) {
        self.crash_points += 1;
        if tau == Nanos::MAX {
            self.infinite += 1;
            return;
        }
        let t = detection_time(a, tau, origin);
        self.sum += i128::from(t);
        self.within += u64::from(t <= d.0);
        self.max = self.max.max(t);
        self.hist[bucket(t)] += 1;
    }

    /// What the second pass must collect to find the exact percentiles.
    pub fn collector(&self) -> Collector {
        let n = self.crash_points as usize;
        let finite = n - self.infinite as usize;
        let locate = |p: f64| -> Target {
            let rank = nearest_rank(p, n);
            if rank > finite {
                return Target::Infinite;
            }
            let mut below = 0usize;
            for (b, &c) in self.hist.iter().enumerate() {
                if below + c as usize >= rank {
                    return Target::Bucket {
                        bucket: b,
                        index: rank - below - 1,
                        count: c as usize,
                    };
                }
                below += c as usize;
            }
            Target::Infinite
        };
        let targets = [locate(0.5), locate(0.99)];
        let values = [Vec::new(), Vec::new()];
        Collector { targets, values }
    }

    /// The metrics, with the percentiles found by `collector` in the second pass.
    pub fn finish(&self, collector: Collector, evaluated: Nanos, d: Nanos, origin: Origin) -> Metrics {
        let n = self.crash_points;
        let [p50, p99] = collector.result();
        Metrics {
            heartbeats: n,
            evaluated,
            mistakes: self.mistakes,
            suspect_time: Nanos(self.suspect_time),
            detection: Detection {
                mean_ns: if self.infinite > 0 || n == 0 {
                    f64::INFINITY
                } else {
                    self.sum as f64 / n as f64
                },
                p50: Nanos(p50),
                p99: Nanos(p99),
                max: Nanos(if self.infinite > 0 || n == 0 {
                    i64::MAX
                } else {
                    self.max
                }),
                completeness: if n == 0 { 0.0 } else { self.within as f64 / n as f64 },
                deadline: d,
                origin,
            },
        }
    }
}

/// `T_D = max(a, τ) - origin` for a finite deadline.
#[inline]
pub fn detection_time(a: Nanos, tau: Nanos, origin: Nanos) -> i64 {
    a.max(tau).0 - origin.0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Infinite,
    Bucket { bucket: usize, index: usize, count: usize },
}

/// The second pass of the percentile search: keeps the detection times that fall in the
/// buckets holding the p50 and p99 ranks, then selects within them.
#[derive(Clone, Debug)]
pub struct Collector {
    targets: [Target; 2],
    values: [Vec<i64>; 2],
}

impl Collector {
    /// How many detection times the second pass will keep.
    pub fn expected(&self) -> usize {
        self.targets
            .iter()
            .map(|t| {
                if let Target::Bucket { count, .. } = *t {
                    count
                } else {
                    0
                }
            })
            .sum()
    }

    /// Makes room for the detection times the second pass will keep (done just before it,
    /// so that only the knob values of one group hold memory at a time).
    pub fn reserve(&mut self) {
        for (t, v) in self.targets.iter().zip(self.values.iter_mut()) {
            if let Target::Bucket { count, .. } = *t {
                v.reserve_exact(count);
            }
        }
    }

    /// Offers the detection time of the next crash point (`None` = never detected).
    #[inline]
    pub fn offer(&mut self, a: Nanos, tau: Nanos, origin: Nanos) {
        if tau == Nanos::MAX {
            return;
        }
        let t = detection_time(a, tau, origin);
        let b = bucket(t);
        for (target, values) in self.targets.iter().zip(self.values.iter_mut()) {
            if let Target::Bucket { bucket, .. } = *target
                && bucket == b
            {
                values.push(t);
            }
        }
    }

    fn result(mut self) -> [i64; 2] {
        let mut out = [i64::MAX; 2];
        for (k, target) in self.targets.iter().enumerate() {
            if let Target::Bucket { index, .. } = *target {
                let v = &mut self.values[k];
                if index < v.len() {
                    out[k] = *v.select_nth_unstable(index).1;
                }
            }
        }
        out
    }
}

/// The nearest-rank 1-based index of percentile `p` among `n` values: `ceil(p·n)`.
pub fn nearest_rank(p: f64, n: usize) -> usize {
    ((p * n as f64).ceil() as usize).clamp(1, n.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotone_and_fine() {
        let mut values: Vec<i64> = (0..5000).collect();
        for e in 1..63 {
            values.extend([(1i64 << e) - 1, 1 << e, (1 << e) + 1, (3i64 << e) >> 1]);
        }
        values.sort_unstable();
        for w in values.windows(2) {
            assert!(bucket(w[0]) <= bucket(w[1]), "{} {}", w[0], w[1]);
            assert!(bucket(w[1]) < BUCKETS);
        }
        assert_eq!(bucket(i64::MAX), BUCKETS - 1);
        assert_eq!(bucket(255), 255);
        // Relative width under 1 %.
        for v in [1_000i64, 123_456, 98_765_432_100] {
            let mut hi = v;
            while bucket(hi + 1) == bucket(v) {
                hi += 1;
            }
            assert!(((hi - v) as f64) < 0.01 * v as f64);
        }
    }

    fn exact(values: &[Option<i64>]) -> Metrics {
        let mut acc = Accumulator::default();
        for &v in values {
            acc.crash_point(Nanos(0), v.map_or(Nanos::MAX, Nanos), Nanos(0), Nanos(100));
        }
        let mut c = acc.collector();
        for &v in values {
            c.offer(Nanos(0), v.map_or(Nanos::MAX, Nanos), Nanos(0));
        }
        acc.finish(c, Nanos(1), Nanos(100), Origin::Receipt)
    }

    #[test]
    fn percentiles_are_exact_nearest_rank() {
        let m = exact(&(1..=100).rev().map(Some).collect::<Vec<_>>());
        assert_eq!(
            (m.detection.p50, m.detection.p99, m.detection.max),
            (Nanos(50), Nanos(99), Nanos(100))
        );
        assert_eq!(m.detection.mean_ns, 50.5);
        assert_eq!(m.detection.completeness, 1.0);
        let m = exact(&[Some(3), Some(1), Some(2)]);
        assert_eq!((m.detection.p50, m.detection.p99), (Nanos(2), Nanos(3)));
        // Values that share a bucket are told apart by the selection.
        let vals: Vec<_> = (0..1000).map(|i| Some(1_000_000_000 + (i * 7919) % 1000)).collect();
        let m = exact(&vals);
        assert_eq!(m.detection.p50, Nanos(1_000_000_499));
        assert_eq!(m.detection.p99, Nanos(1_000_000_989));
        let m = exact(&[Some(5), None, None]);
        assert_eq!(
            (m.detection.p50, m.detection.p99, m.detection.max),
            (Nanos::MAX, Nanos::MAX, Nanos::MAX)
        );
        assert_eq!(m.detection.completeness, 1.0 / 3.0);
        assert_eq!(nearest_rank(0.99, 1000), 990);
    }
}

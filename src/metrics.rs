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

    /// The search for the exact percentiles that the next passes carry out.
    pub fn collector(&self) -> Collector {
        let n = self.crash_points as usize;
        let finite = n - self.infinite as usize;
        let locate = |p: f64| -> Search {
            let rank = nearest_rank(p, n);
            if rank > finite {
                return Search::Found(i64::MAX);
            }
            let mut below = 0usize;
            for (b, &c) in self.hist.iter().enumerate() {
                if below + c as usize >= rank {
                    let (lo, hi) = bucket_range(b);
                    return Search::Plan {
                        lo,
                        hi,
                        index: rank - below - 1,
                        count: c as usize,
                    };
                }
                below += c as usize;
            }
            Search::Found(i64::MAX)
        };
        Collector {
            searches: [locate(0.5), locate(0.99)],
        }
    }

    /// The metrics, with the percentiles found by `collector` in the later passes.
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

/// The values `[lo, hi)` that fall in histogram bucket `b` (the inverse of [`bucket`]).
fn bucket_range(b: usize) -> (i64, i64) {
    if b < (1 << SUB_BITS) {
        return (b as i64, b as i64 + 1);
    }
    let k = b - (1 << SUB_BITS);
    let e = (k >> MANTISSA_BITS) as u32 + SUB_BITS;
    let mantissa = (k & ((1 << MANTISSA_BITS) - 1)) as u64;
    let lo = ((1u64 << MANTISSA_BITS) | mantissa) << (e - MANTISSA_BITS);
    let hi = lo.saturating_add(1u64 << (e - MANTISSA_BITS)).min(i64::MAX as u64);
    (lo as i64, hi as i64)
}

/// At most this many detection times are gathered for one percentile in one pass; a
/// range holding more is narrowed first.
const GATHER_LIMIT: usize = 1 << 16;

/// Slots of the histogram that narrows a range.
const NARROW_SLOTS: u32 = 12;

/// One percentile's search: the value of 0-based rank `index` among the detection times
/// in `[lo, hi)`, which hold `count` of them.
#[derive(Clone, Debug)]
enum Search {
    Found(i64),
    Plan {
        lo: i64,
        hi: i64,
        index: usize,
        count: usize,
    },
    Gather {
        lo: i64,
        hi: i64,
        index: usize,
        values: Vec<i64>,
    },
    Narrow {
        lo: i64,
        hi: i64,
        index: usize,
        shift: u32,
        counts: Vec<u32>,
    },
}

impl Search {
    fn start(&mut self) -> bool {
        if let Search::Plan { lo, hi, index, count } = *self {
            *self = if hi - lo <= 1 {
                Search::Found(lo)
            } else if count <= GATHER_LIMIT {
                Search::Gather {
                    lo,
                    hi,
                    index,
                    values: Vec::with_capacity(count),
                }
            } else {
                let width = (hi - lo) as u64;
                let shift = (64 - (width - 1).leading_zeros()).saturating_sub(NARROW_SLOTS);
                let slots = (((width - 1) >> shift) + 1) as usize;
                Search::Narrow {
                    lo,
                    hi,
                    index,
                    shift,
                    counts: vec![0; slots],
                }
            };
        }
        !matches!(self, Search::Found(_))
    }

    #[inline]
    fn offer(&mut self, t: i64) {
        match self {
            Search::Gather { lo, hi, values, .. } if *lo <= t && t < *hi => values.push(t),
            Search::Narrow {
                lo, hi, shift, counts, ..
            } if *lo <= t && t < *hi => {
                counts[((t - *lo) as u64 >> *shift) as usize] += 1;
            }
            _ => {}
        }
    }

    fn end(&mut self) {
        match self {
            Search::Gather { index, values, .. } => {
                let v = if *index < values.len() {
                    *values.select_nth_unstable(*index).1
                } else {
                    i64::MAX
                };
                *self = Search::Found(v);
            }
            Search::Narrow {
                lo,
                hi,
                index,
                shift,
                counts,
            } => {
                let mut below = 0usize;
                let mut next = Search::Found(i64::MAX);
                for (slot, &c) in counts.iter().enumerate() {
                    if below + c as usize > *index {
                        let start = *lo + ((slot as i64) << *shift);
                        let end = (start + (1i64 << *shift)).min(*hi);
                        next = Search::Plan {
                            lo: start,
                            hi: end,
                            index: *index - below,
                            count: c as usize,
                        };
                        break;
                    }
                    below += c as usize;
                }
                *self = next;
            }
            _ => {}
        }
    }
}

/// The later passes of the percentile search. Pass 1's histogram gives the bucket that
/// holds each rank; every further pass either gathers the detection times of that range
/// and selects the rank among them, or, when the range holds more than a few tens of
/// thousands, counts them into finer slots to narrow it. Memory stays bounded whatever
/// the trace's length, and a pass or two usually suffices.
#[derive(Clone, Debug)]
pub struct Collector {
    searches: [Search; 2],
}

/// Where a percentile's search starts: its value, or the 0-based rank `index` among the
/// `count` finite detection times in `[lo, hi)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Already known.
    Found(i64),
    /// To be found in `[lo, hi)`.
    Range {
        /// Smallest value of the range.
        lo: i64,
        /// End of the range (excluded).
        hi: i64,
        /// 0-based rank of the value among those in the range.
        index: usize,
        /// How many detection times lie in the range.
        count: usize,
    },
}

impl Collector {
    /// The search for the p50 and p99 from where they are known to lie.
    pub fn new(starts: [Start; 2]) -> Collector {
        Collector {
            searches: starts.map(|s| match s {
                Start::Found(v) => Search::Found(v),
                Start::Range { lo, hi, index, count } => Search::Plan { lo, hi, index, count },
            }),
        }
    }

    /// The p50 and p99, once [`start_pass`](Collector::start_pass) has returned `false`.
    pub fn values(self) -> [i64; 2] {
        self.result()
    }

    /// Prepares the next pass; `false` when both percentiles are known.
    pub fn start_pass(&mut self) -> bool {
        let a = self.searches[0].start();
        let b = self.searches[1].start();
        a || b
    }

    /// Offers the detection time of the next crash point.
    #[inline]
    pub fn offer(&mut self, a: Nanos, tau: Nanos, origin: Nanos) {
        if tau == Nanos::MAX {
            return;
        }
        let t = detection_time(a, tau, origin);
        self.searches[0].offer(t);
        self.searches[1].offer(t);
    }

    /// Ends a pass.
    pub fn end_pass(&mut self) {
        self.searches[0].end();
        self.searches[1].end();
    }

    fn result(self) -> [i64; 2] {
        self.searches
            .map(|s| if let Search::Found(v) = s { v } else { i64::MAX })
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
        while c.start_pass() {
            for &v in values {
                c.offer(Nanos(0), v.map_or(Nanos::MAX, Nanos), Nanos(0));
            }
            c.end_pass();
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

    #[test]
    fn crowded_buckets_are_narrowed_to_the_exact_rank() {
        // 300,000 detection times within 0.05 % of 1.3 s: one bucket holds them all.
        let mut x: u64 = 7;
        let vals: Vec<Option<i64>> = (0..300_000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                Some(1_300_000_000 + (x >> 33) as i64 % 650_000)
            })
            .collect();
        let m = exact(&vals);
        let mut sorted: Vec<i64> = vals.iter().map(|v| v.unwrap()).collect();
        sorted.sort_unstable();
        assert_eq!(m.detection.p50, Nanos(sorted[nearest_rank(0.5, sorted.len()) - 1]));
        assert_eq!(m.detection.p99, Nanos(sorted[nearest_rank(0.99, sorted.len()) - 1]));
        // All equal: no gathering at all.
        let m = exact(&vec![Some(123_456_789); 100_000]);
        assert_eq!(
            (m.detection.p50, m.detection.p99),
            (Nanos(123_456_789), Nanos(123_456_789))
        );
    }

    #[test]
    fn bucket_ranges_invert_buckets() {
        for b in [0usize, 1, 2047, 2048, 2049, 5000, 30_000, BUCKETS - 1] {
            let (lo, hi) = bucket_range(b);
            assert!(lo < hi);
            assert_eq!(bucket(lo), b);
            assert_eq!(bucket(hi - 1), b);
            if hi < i64::MAX {
                assert_eq!(bucket(hi), b + 1);
            }
        }
    }
}

//! QoS metrics from deadlines ([evaluation.md](crate::docs::evaluation) §3–§4).
//!
//! Given the accepted receipts `a_j` and the detector's deadline `τ_j` after each of
//! them, the output of the detector is known exactly: trust on `[a_j, max(a_j, τ_j))`,
//! suspect on `[max(a_j, τ_j), a_{j+1})` when `τ_j < a_{j+1}`. This module defines the
//! metrics of Chen, Toueg and Aguilera and the detection-time statistics ([`Metrics`])
//! and the exact percentile search ([`Collector`]); the replay engine
//! ([`crate::replay`]) folds gaps and crash points into them.

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

/// Detection-time statistics over all crash points ([evaluation.md](crate::docs::evaluation) §4). Times in
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

/// Mistake rate `λ_M` per hour of `mistakes` over the evaluated length `evaluated`
/// ([evaluation.md](crate::docs::evaluation) §3), as [`Metrics::mistake_rate_per_h`] gives it.
pub fn mistake_rate_per_h(mistakes: u64, evaluated: Nanos) -> f64 {
    mistakes as f64 / evaluated.as_secs_f64() * 3600.0
}

/// Query accuracy `P_A = 1 - S_time / L` of suspect time `suspect` over `evaluated`, as
/// [`Metrics::query_accuracy`] gives it.
pub fn query_accuracy(suspect: Nanos, evaluated: Nanos) -> f64 {
    1.0 - suspect.0 as f64 / evaluated.0 as f64
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
        mistake_rate_per_h(self.mistakes, self.evaluated)
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
        query_accuracy(self.suspect_time, self.evaluated)
    }

    /// The exact (Garwood) two-sided 95 % confidence interval of the mistake rate, per
    /// hour, from `mistakes` in `L` ([evaluation.md](crate::docs::evaluation) §6).
    pub fn mistake_rate_interval_per_h(&self) -> (f64, f64) {
        let (lo, hi) = poisson_interval(self.mistakes, 0.95);
        let hours = self.evaluated.as_secs_f64() / 3600.0;
        (lo / hours, hi / hours)
    }
}

/// The exact (Garwood 1936) two-sided confidence interval, at `level` (e.g. 0.95), for
/// the mean of a Poisson count observed as `k`:
/// `[χ²(α/2; 2k)/2, χ²(1-α/2; 2k+2)/2]` with `α = 1 - level`; the lower end is 0 when
/// `k = 0`.
pub fn poisson_interval(k: u64, level: f64) -> (f64, f64) {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    let alpha = 1.0 - level;
    let quantile = |df: f64, p: f64| {
        ChiSquared::new(df)
            .expect("degrees of freedom are positive")
            .inverse_cdf(p)
    };
    let k = k as f64;
    let lo = if k == 0.0 {
        0.0
    } else {
        quantile(2.0 * k, alpha / 2.0) / 2.0
    };
    (lo, quantile(2.0 * k + 2.0, 1.0 - alpha / 2.0) / 2.0)
}

/// `T_D = max(0, P - origin)` for the start `P` of the suspicion that never ends;
/// `i64::MAX` (never detected) when the deadline `tau` is infinite.
#[inline]
pub fn detection_time(tau: Nanos, start: Nanos, origin: Nanos) -> i64 {
    if tau == Nanos::MAX {
        i64::MAX
    } else {
        (start.0 - origin.0).max(0)
    }
}

/// The start `P_j` of the suspicion that never ends after each receipt ([evaluation.md](crate::docs::evaluation)
/// §4), for many knob values at once: `τ_j` when it is after `a_j`; when it is not and
/// gap `j-1` ended in suspicion, `P_{j-1}`; otherwise `a_j`. Fed every accepted receipt
/// from the first, warm-up included, since a chain of late receipts may begin there.
#[derive(Clone, Debug)]
pub struct Chains {
    start: Vec<Nanos>,
    prev: Vec<Nanos>,
    first: bool,
}

impl Chains {
    /// Chains for `width` knob values, before the first receipt.
    pub fn new(width: usize) -> Chains {
        Chains {
            start: vec![Nanos::ZERO; width],
            prev: vec![Nanos::MAX; width],
            first: true,
        }
    }

    /// The next receipt `a` with its deadlines `tau` (one per knob value): returns `P`
    /// for each knob value.
    pub fn step(&mut self, a: Nanos, tau: &[Nanos]) -> &[Nanos] {
        for ((p, prev), &t) in self.start.iter_mut().zip(self.prev.iter_mut()).zip(tau) {
            let continues = !self.first && *prev < a;
            *p = if t > a {
                t
            } else if continues {
                *p
            } else {
                a
            };
            *prev = t;
        }
        self.first = false;
        &self.start
    }
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

/// The passes of a percentile search that starts from a known range ([`Start`]): every
/// pass either gathers the detection times of the range and selects the rank among
/// them, or, when the range holds more than a few tens of thousands, counts them into
/// finer slots to narrow it. Memory stays bounded whatever the trace's length.
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
        self.searches
            .map(|s| if let Search::Found(v) = s { v } else { i64::MAX })
    }

    /// Prepares the next pass; `false` when both percentiles are known.
    pub fn start_pass(&mut self) -> bool {
        let a = self.searches[0].start();
        let b = self.searches[1].start();
        a || b
    }

    /// Offers the detection time of the next crash point (`i64::MAX`: never detected).
    #[inline]
    pub fn offer(&mut self, t: i64) {
        if t == i64::MAX {
            return;
        }
        self.searches[0].offer(t);
        self.searches[1].offer(t);
    }

    /// Ends a pass.
    pub fn end_pass(&mut self) {
        self.searches[0].end();
        self.searches[1].end();
    }
}

/// The nearest-rank 1-based index of percentile `p` among `n` values: `ceil(p·n)`.
pub fn nearest_rank(p: f64, n: usize) -> usize {
    ((p * n as f64).ceil() as usize).clamp(1, n.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The p50 and p99 of `values` (`None` = never detected), searched from the whole
    /// range.
    fn percentiles(values: &[Option<i64>]) -> [i64; 2] {
        let n = values.len();
        let finite = values.iter().flatten().count();
        let start = |p: f64| {
            let r = nearest_rank(p, n);
            if r > finite {
                Start::Found(i64::MAX)
            } else {
                Start::Range {
                    lo: 0,
                    hi: i64::MAX,
                    index: r - 1,
                    count: finite,
                }
            }
        };
        let mut c = Collector::new([start(0.5), start(0.99)]);
        while c.start_pass() {
            for &v in values {
                c.offer(v.unwrap_or(i64::MAX));
            }
            c.end_pass();
        }
        c.values()
    }

    #[test]
    fn garwood_intervals_match_the_closed_forms_and_tables() {
        // k = 0: χ²(0.975; 2)/2 = -ln(0.025); k = 1: low χ²(0.025; 2)/2 = -ln(0.975).
        let (lo, hi) = poisson_interval(0, 0.95);
        assert_eq!(lo, 0.0);
        assert!((hi - -(0.025f64).ln()).abs() < 1e-9, "{hi}");
        let (lo, hi) = poisson_interval(1, 0.95);
        assert!((lo - -(0.975f64).ln()).abs() < 1e-9, "{lo}");
        // χ²(0.975; 4)/2 solves e^-x (1 + x) = 0.025: 5.571643.
        assert!((hi - 5.571643).abs() < 1e-5, "{hi}");
        // Garwood's table: k = 10 gives [4.7954, 18.3904].
        let (lo, hi) = poisson_interval(10, 0.95);
        assert!(
            (lo - 4.795389).abs() < 1e-5 && (hi - 18.390356).abs() < 1e-5,
            "{lo} {hi}"
        );
        // Per hour: 2 mistakes in half an hour.
        let m = Metrics {
            heartbeats: 10,
            evaluated: Nanos::from_secs(1800),
            mistakes: 2,
            suspect_time: Nanos::ZERO,
            detection: Detection {
                mean_ns: 0.0,
                p50: Nanos::ZERO,
                p99: Nanos::ZERO,
                max: Nanos::ZERO,
                completeness: 1.0,
                deadline: Nanos::SECOND,
                origin: Origin::Send,
            },
        };
        let (lo, hi) = m.mistake_rate_interval_per_h();
        let (plo, phi) = poisson_interval(2, 0.95);
        assert!((lo - 2.0 * plo).abs() < 1e-12 && (hi - 2.0 * phi).abs() < 1e-12);
        assert!(
            (plo - 0.242209).abs() < 1e-5 && (phi - 7.224687).abs() < 1e-5,
            "{plo} {phi}"
        );
    }

    #[test]
    fn a_chain_of_late_receipts_keeps_its_start_and_a_receipt_in_trust_restarts_it() {
        // Two knob values of `fixed`: timeout 0 (`τ_j = a_j`, never after the receipt)
        // and 150 ms (`τ_j = a_j + 150 ms`). evaluation.md §4: `P_j = τ_j` when
        // `τ_j > a_j`; otherwise `P_{j-1}` when `τ_{j-1} < a_j`; otherwise `a_j`.
        let ms = Nanos::from_millis;
        let mut c = Chains::new(2);
        // a_1 = 100: timeout 0 has `τ_1 = a_1`, not after it, and no gap before: P = 100;
        // 150 ms: `τ_1 = 250 > a_1`, P = 250.
        assert_eq!(c.step(ms(100), &[ms(100), ms(250)]), &[ms(100), ms(250)]);
        // a_2 = 200: `τ_2 = 200 = a_2` is not after it and gap 1 ended in suspicion
        // (`τ_1 = 100 < 200`): P_2 = P_1 = 100.
        assert_eq!(c.step(ms(200), &[ms(200), ms(350)]), &[ms(100), ms(350)]);
        // a_3 = 200 again: `τ_2 = 200` is not before a_3, so gap 2 (empty) ended in
        // trust: P_3 = a_3 = 200.
        assert_eq!(c.step(ms(200), &[ms(200), ms(350)]), &[ms(200), ms(350)]);
        // a_4 = 300: `τ_3 = 200 < 300`: P_4 = P_3 = 200.
        assert_eq!(c.step(ms(300), &[ms(300), ms(450)]), &[ms(200), ms(450)]);
    }

    #[test]
    fn percentiles_are_exact_nearest_rank() {
        assert_eq!(percentiles(&(1..=100).rev().map(Some).collect::<Vec<_>>()), [50, 99]);
        assert_eq!(percentiles(&[Some(3), Some(1), Some(2)]), [2, 3]);
        let vals: Vec<_> = (0..1000).map(|i| Some(1_000_000_000 + (i * 7919) % 1000)).collect();
        assert_eq!(percentiles(&vals), [1_000_000_499, 1_000_000_989]);
        assert_eq!(percentiles(&[Some(5), None, None]), [i64::MAX, i64::MAX]);
        assert_eq!(nearest_rank(0.99, 1000), 990);
    }

    #[test]
    fn the_percentile_found_first_waits_for_the_other() {
        // 70 000 distinct values 0, 1e9, 2e9, … and 70 000 equal to 1e14. The p50, rank
        // ⌈0.5 · 140 000⌉ = 70 000, is the largest distinct one, 69 999e9: its range
        // thins out to a few hundred values and is gathered. The p99, rank 138 600, lies
        // among the 70 000 equal values, more than GATHER_LIMIT in any range holding
        // them: it is narrowed to that single value, in more passes.
        let vals: Vec<Option<i64>> = (0..70_000)
            .map(|i| Some(i * 1_000_000_000))
            .chain(std::iter::repeat_n(Some(100_000_000_000_000), 70_000))
            .collect();
        assert_eq!(percentiles(&vals), [69_999_000_000_000, 100_000_000_000_000]);
    }

    #[test]
    fn crowded_ranges_are_narrowed_to_the_exact_rank() {
        // 300,000 detection times within 0.05 % of 1.3 s: more than one pass gathers.
        let mut x: u64 = 7;
        let vals: Vec<Option<i64>> = (0..300_000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                Some(1_300_000_000 + (x >> 33) as i64 % 650_000)
            })
            .collect();
        let mut sorted: Vec<i64> = vals.iter().map(|v| v.unwrap()).collect();
        sorted.sort_unstable();
        let want = [0.5, 0.99].map(|p| sorted[nearest_rank(p, sorted.len()) - 1]);
        assert_eq!(percentiles(&vals), want);
        // A crowded range whose values reach its top: the histogram's last slot holds the
        // largest (its count of slots is exact, not one short), a value at the range's end
        // is no slot's, and the p99 and the maximum are found in the top slots.
        let top = 1i64 << 20;
        let spread: Vec<i64> = (0..200_000i64).map(|i| (i * 7919) % top).chain([top - 1]).collect();
        let mut sorted = spread.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        let start = |index: usize| Start::Range {
            lo: 0,
            hi: top,
            index,
            count: n,
        };
        let p99 = nearest_rank(0.99, n) - 1;
        let mut c = Collector::new([start(p99), start(n - 1)]);
        while c.start_pass() {
            // Values at and beyond the range's end (exclusive) are offered too, and left out.
            spread.iter().chain(&[top, top, top + 5]).for_each(|&v| c.offer(v));
            c.end_pass();
        }
        assert_eq!(c.values(), [sorted[p99], top - 1]);
        // 64 values a slot of the histogram (0 .. 2^17, slots 64 wide): a rank that is
        // the first value of a slot is looked for in that slot, not the one before.
        let even: Vec<i64> = (0..1i64 << 17).collect();
        let start = |index: usize| Start::Range {
            lo: 0,
            hi: 1 << 17,
            index,
            count: even.len(),
        };
        let mut c = Collector::new([start(64 * 1000), start(64 * 1000 - 1)]);
        while c.start_pass() {
            even.iter().for_each(|&v| c.offer(v));
            c.end_pass();
        }
        assert_eq!(c.values(), [64_000, 63_999]);
        // All equal: narrowed to a single value without gathering.
        assert_eq!(
            percentiles(&vec![Some(123_456_789); 100_000]),
            [123_456_789, 123_456_789]
        );
    }
}

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

/// Streams the gaps and crash points of one replay at one knob value.
///
/// Call [`crash_point`](Accumulator::crash_point) for each evaluated receipt
/// `j = w .. m-1` and [`gap`](Accumulator::gap) for each evaluated gap `j = w .. m-2`,
/// then [`finish`](Accumulator::finish).
#[derive(Clone, Debug, Default)]
pub struct Accumulator {
    mistakes: u64,
    suspect_time: i64,
    detection: Vec<i64>,
    detected_within: u64,
    infinite: bool,
    sum: i128,
}

impl Accumulator {
    /// An accumulator with room for `crash_points` detection times.
    pub fn with_capacity(crash_points: usize) -> Self {
        Accumulator {
            detection: Vec::with_capacity(crash_points),
            ..Default::default()
        }
    }

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
        if tau == Nanos::MAX {
            self.infinite = true;
            self.detection.push(i64::MAX);
            return;
        }
        let t = a.max(tau).0 - origin.0;
        self.sum += i128::from(t);
        if t <= d.0 {
            self.detected_within += 1;
        }
        self.detection.push(t);
    }

    /// The metrics, for evaluated length `evaluated`, deadline `d` and origin `origin`.
    /// Reuses the accumulator's buffer for the percentile selection.
    pub fn finish(&mut self, evaluated: Nanos, d: Nanos, origin: Origin) -> Metrics {
        let n = self.detection.len();
        let (p50, p99, max) = percentiles(&mut self.detection);
        let mean_ns = if self.infinite || n == 0 {
            f64::INFINITY
        } else {
            self.sum as f64 / n as f64
        };
        Metrics {
            heartbeats: n as u64,
            evaluated,
            mistakes: self.mistakes,
            suspect_time: Nanos(self.suspect_time),
            detection: Detection {
                mean_ns,
                p50: Nanos(p50),
                p99: Nanos(p99),
                max: Nanos(max),
                completeness: if n == 0 {
                    0.0
                } else {
                    self.detected_within as f64 / n as f64
                },
                deadline: d,
                origin,
            },
        }
    }
}

/// The nearest-rank 1-based index of percentile `p` among `n` values: `ceil(p·n)`.
pub fn nearest_rank(p: f64, n: usize) -> usize {
    ((p * n as f64).ceil() as usize).clamp(1, n.max(1))
}

/// p50, p99 (nearest rank) and max of `v`, which is reordered. `i64::MAX` for empty input.
fn percentiles(v: &mut [i64]) -> (i64, i64, i64) {
    let n = v.len();
    if n == 0 {
        return (i64::MAX, i64::MAX, i64::MAX);
    }
    let max = *v.iter().max().expect("non-empty");
    let r99 = nearest_rank(0.99, n) - 1;
    let r50 = nearest_rank(0.50, n) - 1;
    let (left, &mut p99, _) = v.select_nth_unstable(r99);
    let p50 = if r50 < r99 {
        *left.select_nth_unstable(r50).1
    } else {
        p99
    };
    (p50, p99, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<i64> = (1..=100).rev().collect();
        assert_eq!(percentiles(&mut v), (50, 99, 100));
        let mut v = vec![7];
        assert_eq!(percentiles(&mut v), (7, 7, 7));
        let mut v = vec![3, 1, 2];
        // ceil(0.5*3)=2 -> 2; ceil(0.99*3)=3 -> 3
        assert_eq!(percentiles(&mut v), (2, 3, 3));
        assert_eq!(nearest_rank(0.99, 1000), 990);
    }
}

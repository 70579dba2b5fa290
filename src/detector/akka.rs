//! `akka` — φ as Akka computes it (knob `threshold`).
//!
//! Source: Akka's `akka.remote.PhiAccrualFailureDetector` (used by Akka Cluster), which
//! differs from the published φ detector ([`phi`](super::phi)):
//!
//! 1. With `m = mean + pause` and `s = max(std, min_std)` over the recorded intervals,
//!    `y = (Δ - m) / s`, `e = exp(-y·(1.5976 + 0.070566·y²))` and
//!    `φ = -log10(e / (1 + e))` when `Δ > m`, `φ = -log10(1 - 1/(1 + e))` otherwise: a
//!    logistic approximation of the normal CDF with a heavier tail (4.7367 at `y = 4`
//!    where the normal gives 4.4993). An overflowing `exp` gives `φ = 0`, an underflow
//!    `φ = +∞`; never NaN.
//! 2. The first heartbeat seeds the history with two intervals,
//!    `first_estimate ∓ first_estimate/4`, evicted oldest-first like any sample.
//! 3. A later heartbeat's interval is recorded only if the detector still trusted at
//!    its arrival (φ with the old history `< threshold`); the last-heartbeat time moves
//!    either way. So the history depends on the threshold: `akka` is a [`Detector`], not
//!    an [`Estimator`](super::Estimator). A sweep runs an [`AkkaFamily`], in which the
//!    thresholds share one history for as long as they record the same intervals.
//! 4. The deadline is the exact root of `φ(Δ) = threshold`: `φ = log10(1 + 1/e)`, so
//!    `0.070566·y³ + 1.5976·y = ln(10^threshold - 1)`, a cubic with positive
//!    coefficients and a single real root, solved in closed form (Cardano). The root
//!    depends on the threshold alone and is computed once.
//!
//! Whether the detector trusted at an arrival is decided by comparing the arrival with
//! the deadline, which is the first nanosecond at which φ reaches the threshold.

pub mod family;
pub mod tuning;

pub use family::AkkaFamily;

use crate::detector::Detector;
use crate::detector::registry::{Config, Definition, Param, Range, THRESHOLD};
use crate::detector::window::Stats;
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// Akka's fixed parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AkkaParams {
    /// Number of intervals kept (`max-sample-size`).
    pub window: usize,
    /// Floor on the standard deviation (`min-std-deviation`).
    pub min_std: Nanos,
    /// Added to the mean (`acceptable-heartbeat-pause`).
    pub pause: Nanos,
    /// Seeds the history on the first heartbeat (`heartbeat-interval`'s first estimate).
    pub first_estimate: Nanos,
}

impl Default for AkkaParams {
    /// Akka Cluster's defaults: window 1000, min_std 100 ms, pause 3 s, first_estimate 1 s.
    fn default() -> Self {
        AkkaParams {
            window: 1000,
            min_std: Nanos::from_millis(100),
            pause: Nanos::from_secs(3),
            first_estimate: Nanos::from_secs(1),
        }
    }
}

/// Akka's φ of a standard deviate `y` (rule 1), never NaN.
pub fn akka_phi(y: f64) -> f64 {
    let e = (-y * (1.5976 + 0.070566 * y * y)).exp();
    let phi = if y > 0.0 {
        -(e / (1.0 + e)).log10()
    } else {
        -(1.0 - 1.0 / (1.0 + e)).log10()
    };
    if phi.is_nan() { 0.0 } else { phi + 0.0 }
}

/// The `y` at which [`akka_phi`] equals `threshold` (rule 4): the real root of
/// `0.070566·y³ + 1.5976·y - ln(10^threshold - 1) = 0`, by Cardano's formula in a form
/// free of cancellation. `-∞` for `threshold <= 0`, `+∞` for `threshold = +∞`.
pub fn akka_root(threshold: f64) -> f64 {
    if threshold.is_nan() || threshold <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if threshold == f64::INFINITY {
        return f64::INFINITY;
    }
    let x = threshold * std::f64::consts::LN_10;
    // ln(10^t - 1) = x + ln(1 - 10^-t), accurate for small and huge t alike.
    let l = x + (-libm::expm1(-x)).ln();
    // Depressed cubic y³ + p·y + q = 0.
    let p: f64 = 1.5976 / 0.070566;
    let q = -l / 0.070566;
    let half = -q / 2.0;
    let disc = (half * half + (p / 3.0).powi(3)).sqrt();
    // u³ = -q/2 ± sqrt(D), the sign of -q/2 (no cancellation); v = -p/(3u).
    let u = (half + disc.copysign(half)).cbrt();
    u - p / (3.0 * u)
}

/// Akka's φ accrual detector with its threshold set.
#[derive(Clone, Debug)]
pub struct Akka {
    params: AkkaParams,
    threshold: f64,
    root: f64,
    stats: Stats,
    last: Option<Nanos>,
    /// `m = mean + pause` and `s = max(std, min_std)`, in nanoseconds.
    m: f64,
    s: f64,
    deadline: Option<Nanos>,
}

impl Akka {
    /// Akka's detector with parameters `params` and threshold `threshold`.
    pub fn new(params: AkkaParams, threshold: f64) -> Self {
        Akka {
            params,
            threshold,
            root: akka_root(threshold),
            stats: Stats::new(params.window),
            last: None,
            m: 0.0,
            s: 0.0,
            deadline: None,
        }
    }

    /// The recorded intervals, oldest first, in nanoseconds.
    pub fn history(&self) -> impl Iterator<Item = i64> + '_ {
        self.stats.iter()
    }

    /// φ after `delta` nanoseconds without a heartbeat, with the current history.
    pub fn phi(&self, delta: f64) -> f64 {
        if self.s > 0.0 {
            akka_phi((delta - self.m) / self.s)
        } else if delta > self.m {
            f64::INFINITY
        } else {
            0.0
        }
    }

    fn update(&mut self, last: Nanos) {
        (self.m, self.s) = moments(&self.stats, &self.params);
        self.deadline = deadline_at(self.m, self.s, self.root, last);
    }
}

/// `m = mean + pause` and `s = max(std, min_std)` of a history, in nanoseconds.
#[inline]
pub(crate) fn moments(stats: &Stats, params: &AkkaParams) -> (f64, f64) {
    let (mean, std) = stats.mean_std();
    (mean + params.pause.0 as f64, std.max(params.min_std.0 as f64))
}

/// The first-heartbeat seeds of the history (rule 2).
pub(crate) fn seed(stats: &mut Stats, params: &AkkaParams) {
    let fe = params.first_estimate.0;
    stats.push(fe - fe / 4);
    stats.push(fe + fe / 4);
}

/// The deadline after the last heartbeat at `last` with moments `m`, `s` for the
/// threshold whose [`akka_root`] is `root`: `last + ceil(m + s·root)`, `None` for never.
/// Non-decreasing in `root`, which is what lets thresholds share a history
/// ([`AkkaFamily`]).
#[inline]
pub(crate) fn deadline_at(m: f64, s: f64, root: f64, last: Nanos) -> Option<Nanos> {
    if root == f64::NEG_INFINITY {
        Some(last)
    } else if root == f64::INFINITY {
        None
    } else if s > 0.0 {
        let x = m + s * root;
        if x.is_nan() || x >= (i64::MAX - last.0.max(0)) as f64 {
            None
        } else {
            Some(last.saturating_add(Nanos::ceil_f64(x)))
        }
    } else {
        // φ jumps from 0 to +∞ just after m.
        last.checked_add(Nanos(m.floor() as i64 + 1))
    }
}

/// Whether a detector with deadline `deadline` still trusts at `recv` (rule 3).
#[inline]
pub(crate) fn trusts(deadline: Option<Nanos>, recv: Nanos) -> bool {
    deadline.is_none_or(|d| recv < d)
}

impl Detector for Akka {
    fn observe(&mut self, hb: &Heartbeat) {
        match self.last {
            None => seed(&mut self.stats, &self.params),
            Some(last) => {
                if trusts(self.deadline, hb.recv) {
                    self.stats.push(hb.recv.0.wrapping_sub(last.0));
                }
            }
        }
        self.last = Some(hb.recv);
        self.update(hb.recv);
    }

    fn deadline(&self) -> Option<Nanos> {
        self.deadline
    }

    fn level(&self, now: Nanos) -> f64 {
        match self.last {
            None => 0.0,
            Some(last) => self.phi(now.0.wrapping_sub(last.0) as f64),
        }
    }

    fn threshold(&self) -> f64 {
        self.threshold
    }

    fn state(&self) -> Vec<(&'static str, f64)> {
        if self.stats.is_empty() {
            return Vec::new();
        }
        vec![
            ("mean_ns", self.stats.mean()),
            ("std_ns", self.stats.std()),
            ("window", self.stats.len() as f64),
        ]
    }
}

/// `akka` in the registry.
pub const DEFINITION: Definition = Definition {
    name: "akka",
    summary: "phi as Akka computes it: logistic approximation, pause, seeded history, records only while trusting",
    source: "Akka's PhiAccrualFailureDetector (akka.remote), after Hayashibara et al. 2004",
    params: &[
        Param::window("window", 1000, "intervals kept (max-sample-size)"),
        Param::duration("min_std", 100e6, "floor on the standard deviation"),
        Param::duration("pause", 3e9, "acceptable heartbeat pause, added to the mean"),
        Param::duration(
            "first_estimate",
            1e9,
            "seeds the history with first_estimate -/+ first_estimate/4",
        )
        .in_range(Range::above(0.0)),
    ],
    knob: Some(THRESHOLD),
    knob_independent: false,
    needs_send_times: false,
    weight: 4,
    window: Definition::window_param,
    detector: |c, _, knob| Box::new(Akka::new(params(c), knob)),
    family: |c, _, knobs| Box::new(AkkaFamily::new(params(c), knobs)),
};

fn params(c: &Config) -> AkkaParams {
    AkkaParams {
        window: c.count("window"),
        min_std: c.nanos("min_std"),
        pause: c.nanos("pause"),
        first_estimate: c.nanos("first_estimate"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::testutil::random_heartbeats;

    fn close(a: f64, b: f64, digits: f64) -> bool {
        (a - b).abs() <= 0.5 * 10f64.powf(-digits) * b.abs().max(1.0)
    }

    /// φ far below the mean is +0, not the -0 that `-log10(1)` gives (it is printed);
    /// a threshold at or below 0, or NaN, has the root -∞ (a deadline at the receipt).
    #[test]
    fn phi_far_below_the_mean_is_plus_zero_and_roots_of_no_threshold_are_minus_infinity() {
        for y in [-40.0, -1e3, f64::NEG_INFINITY] {
            let phi = akka_phi(y);
            assert!(phi == 0.0 && phi.is_sign_positive(), "{y}: {phi}");
        }
        for t in [0.0, -0.0, -1.0, f64::NEG_INFINITY, f64::NAN] {
            assert_eq!(akka_root(t), f64::NEG_INFINITY, "{t}");
        }
    }

    /// Akka's own test vectors, with m = 1000 ms, s = 100 ms (here in ms), to the
    /// digits the spec prints.
    #[test]
    #[allow(clippy::approx_constant)]
    fn akka_phi_vectors() {
        let phi = |t: f64, m: f64, s: f64| akka_phi((t - m) / s);
        assert_eq!(phi(0.0, 1000.0, 100.0), 0.0);
        for (t, want) in [
            (1000.0, 0.301030),
            (1200.0, 1.64283),
            (1400.0, 4.73669),
            (1600.0, 10.7826),
            (1700.0, 15.3685),
        ] {
            let got = phi(t, 1000.0, 100.0);
            assert!(close(got, want, 5.0), "φ({t}) = {got}, want {want}");
        }
        assert!(close(phi(10.0, 0.0, 1.0), 37.5847, 5.0));
        assert_eq!(phi(-25.0, 0.0, 1.0), 0.0);
    }

    #[test]
    fn never_nan() {
        for y in [
            f64::NEG_INFINITY,
            -1e300,
            -28.0,
            -1e-300,
            0.0,
            1e-300,
            28.0,
            1e10,
            1e300,
            f64::INFINITY,
        ] {
            let p = akka_phi(y);
            assert!(!p.is_nan() && p >= 0.0, "{y}: {p}");
        }
        assert_eq!(akka_phi(-28.0), 0.0, "exp overflows: φ = 0");
        assert_eq!(akka_phi(1e10), f64::INFINITY, "exp underflows: φ = +∞");
    }

    /// Rule 3 at its boundary: a heartbeat that arrives at the deadline itself comes when
    /// φ has reached the threshold, so it is not recorded; one a nanosecond earlier is.
    #[test]
    fn a_heartbeat_at_the_deadline_is_not_recorded() {
        let seeds = [750_000_000, 1_250_000_000];
        for (early, recorded) in [(0, false), (1, true)] {
            let mut d = Akka::new(AkkaParams::default(), 8.0);
            let hb = |seq, recv| Heartbeat { seq, recv, send: None };
            d.observe(&hb(1, Nanos(0)));
            let tau = d.deadline().unwrap();
            let at = tau.0 - early;
            d.observe(&hb(2, Nanos(at)));
            let history: Vec<i64> = d.history().collect();
            let expected: Vec<i64> = if recorded {
                vec![seeds[0], seeds[1], at]
            } else {
                seeds.to_vec()
            };
            assert_eq!(history, expected, "heartbeat {early} ns before the deadline {tau:?}");
        }
    }

    /// A deadline past the end of time, or of no number, is never (`None`), not the
    /// last nanosecond: the first `t` with `φ(t) >= threshold` does not exist in time.
    #[test]
    fn a_deadline_past_the_end_of_time_is_never() {
        let last = Nanos(1_000_000_000_000_000_000);
        assert_eq!(deadline_at(9.0e18, 1.0, 1.0, last), None, "past i64::MAX - last");
        assert_eq!(
            deadline_at(9.0e18, 1.0, -1.0e18, last),
            Some(Nanos(9_000_000_000_000_000_000))
        );
        assert_eq!(deadline_at(0.0, f64::INFINITY, 0.0, last), None, "∞·0");
        assert_eq!(
            deadline_at(5.5, 0.0, 2.0, last),
            Some(Nanos(last.0 + 6)),
            "s = 0: just after m"
        );
    }

    #[test]
    fn root_inverts_phi() {
        for t in [0.01, 0.1, 0.5, 1.0, 3.0, 8.0, 16.0, 30.0, 100.0, 300.0] {
            let y = akka_root(t);
            let back = akka_phi(y);
            assert!(((back - t) / t).abs() < 1e-9, "threshold {t}: y {y}, φ {back}");
        }
        assert!(akka_root(std::f64::consts::LOG10_2).abs() < 1e-12);
        // Past φ ≈ 308 Akka's `exp` underflows and φ is +∞, which still reaches the
        // threshold at the root.
        assert_eq!(akka_phi(akka_root(1000.0)), f64::INFINITY);
        assert!(akka_root(1000.0).is_finite());
        assert_eq!(akka_root(f64::INFINITY), f64::INFINITY);
    }

    /// The root solves Akka's cubic to a few ulps, also where Cardano's formula in its
    /// plain form cancels (large thresholds: `-q/2` and `sqrt(D)` nearly equal). The
    /// residual of a root within `k` ulps is at most about `3k·ε` times the sum of the
    /// terms' magnitudes (the derivative times the error), plus the evaluation's own
    /// rounding (`3ε` of that sum) and `ln(10^t - 1)`'s (here by `powf`, within `2ε`):
    /// `16ε` allows about four ulps.
    #[test]
    fn root_solves_the_cubic_to_a_few_ulps() {
        for t in [1.0, 2.0, 5.0, 8.0, 16.0, 30.0, 50.0, 100.0, 200.0, 300.0] {
            let y = akka_root(t);
            let l = (10f64.powf(t) - 1.0).ln();
            let terms = [0.070566 * y * y * y, 1.5976 * y, -l];
            let residual: f64 = terms.iter().sum();
            let scale: f64 = terms.iter().map(|x| x.abs()).sum();
            assert!(
                residual.abs() <= 16.0 * f64::EPSILON * scale,
                "threshold {t}: y {y}, residual {residual:e}"
            );
        }
    }

    fn at(d: &Akka, secs: f64) -> f64 {
        d.level(Nanos((secs * 1e9) as i64))
    }

    #[test]
    #[allow(clippy::approx_constant)]
    fn end_to_end_from_the_first_heartbeat() {
        let p = AkkaParams {
            pause: Nanos::ZERO,
            ..AkkaParams::default()
        };
        let mut d = Akka::new(p, 8.0);
        assert_eq!(d.deadline(), None);
        d.observe(&Heartbeat {
            seq: 1,
            recv: Nanos::ZERO,
            send: None,
        });
        assert_eq!(d.history().collect::<Vec<_>>(), vec![750_000_000, 1_250_000_000]);
        assert!(close(at(&d, 1.0), 0.30103, 5.0));
        assert!(close(at(&d, 2.0), 4.73669, 5.0));
        assert!(close(at(&d, 3.0), 21.2416, 4.0));
        let dl = d.deadline().unwrap();
        assert!(d.level(dl) >= 8.0 - 1e-9 && d.level(dl - Nanos(1)) < 8.0 + 1e-9);
    }

    #[test]
    fn pause_and_overflow() {
        let mut d = Akka::new(AkkaParams::default(), 8.0);
        for s in 0..=6u64 {
            d.observe(&Heartbeat {
                seq: s,
                recv: Nanos::from_secs(s as i64),
                send: None,
            });
        }
        assert_eq!(at(&d, 6.5), 0.0);
        assert!(close(at(&d, 11.0), 21.2416, 4.0));
        let mut h: Vec<i64> = d.history().collect();
        h.sort();
        assert_eq!(
            h,
            [vec![750_000_000], vec![1_000_000_000; 6], vec![1_250_000_000]].concat()
        );
    }

    #[test]
    fn records_only_while_trusting() {
        let p = AkkaParams {
            pause: Nanos::ZERO,
            ..AkkaParams::default()
        };
        let mut d = Akka::new(p, 2.0);
        let beat = |d: &mut Akka, s: u64, ms: i64| {
            d.observe(&Heartbeat {
                seq: s,
                recv: Nanos::from_millis(ms),
                send: None,
            })
        };
        beat(&mut d, 1, 0);
        // Deadline with {750, 1250}: m = 1000, s = 250, y(2) ≈ 2.3227: ≈ 1.5807 s.
        let dl = d.deadline().unwrap();
        assert!(dl > Nanos::from_millis(1580) && dl < Nanos::from_millis(1581), "{dl:?}");
        // A heartbeat after the deadline is not recorded; the last time moves.
        beat(&mut d, 2, 5000);
        assert_eq!(d.history().count(), 2);
        assert_eq!(at(&d, 5.0), akka_phi(-4.0));
        // One before the deadline is.
        beat(&mut d, 3, 6000);
        assert_eq!(d.history().count(), 3);
    }

    #[test]
    fn deadline_consistent_with_level_and_monotone_in_threshold() {
        let thresholds = [0.5, 1.0, 2.0, 4.0, 8.0, 12.0, 16.0];
        let params = AkkaParams {
            window: 20,
            min_std: Nanos::from_millis(1),
            pause: Nanos::ZERO,
            first_estimate: Nanos::from_millis(100),
        };
        let mut ds: Vec<Akka> = thresholds.iter().map(|&t| Akka::new(params, t)).collect();
        for hb in random_heartbeats(3, 500, Nanos::from_millis(100), Nanos(1_000_000_000_000_000_000)) {
            for d in &mut ds {
                d.observe(&hb);
                let t = d.threshold();
                if let Some(dl) = d.deadline().filter(|&dl| dl > hb.recv) {
                    assert!(d.level(dl) >= t * (1.0 - 1e-9), "{} < {t}", d.level(dl));
                    assert!(d.level(dl - Nanos(1)) < t * (1.0 + 1e-9));
                }
            }
        }
    }

    #[test]
    fn edge_cases_never_panic_or_nan() {
        let beat = |d: &mut Akka, s: u64, ns: i64| {
            d.observe(&Heartbeat {
                seq: s,
                recv: Nanos(ns),
                send: None,
            })
        };
        // Window 1: the second seed evicts the first.
        let p = AkkaParams {
            window: 1,
            min_std: Nanos::ZERO,
            pause: Nanos::ZERO,
            first_estimate: Nanos::from_secs(1),
        };
        let mut d = Akka::new(p, 8.0);
        beat(&mut d, 1, 0);
        assert_eq!(d.history().collect::<Vec<_>>(), vec![1_250_000_000]);
        // σ = 0 and min_std = 0: φ is 0 up to m and +∞ after it.
        assert_eq!(d.deadline(), Some(Nanos(1_250_000_001)));
        assert_eq!(d.level(Nanos(1_250_000_000)), 0.0);
        assert_eq!(d.level(Nanos(1_250_000_001)), f64::INFINITY);
        // Zero intervals, huge gaps, a tiny and an infinite threshold.
        for t in [1e-9, 0.5, 8.0, 1e6, f64::INFINITY] {
            let mut d = Akka::new(p, t);
            for (s, at) in [(1, 0), (2, 0), (3, 0), (4, i64::MAX / 2), (5, i64::MAX / 2 + 1)] {
                beat(&mut d, s, at);
                for now in [at, at.saturating_add(1), at.saturating_add(1 << 40), i64::MAX] {
                    assert!(!d.level(Nanos(now)).is_nan(), "threshold {t} at {now}");
                }
            }
            if t == f64::INFINITY {
                assert_eq!(d.deadline(), None);
            }
        }
        // The first-heartbeat seeds with an odd first estimate use integer quarters.
        let p = AkkaParams {
            first_estimate: Nanos(7),
            ..AkkaParams::default()
        };
        let mut d = Akka::new(p, 8.0);
        beat(&mut d, 1, 0);
        assert_eq!(d.history().collect::<Vec<_>>(), vec![6, 8]);
    }
}

//! `phi` — the φ accrual failure detector as published (knob `threshold`).
//!
//! Source: N. Hayashibara, X. Défago, R. Yared, T. Katayama, "The φ Accrual Failure
//! Detector", SRDS 2004.
//!
//! With `μ` the mean and `σ = max(std, min_std)` the (population) standard deviation of
//! the last `n` intervals between accepted receipts, and `Δ` the time since the last
//! receipt, the suspicion level is
//!
//! `φ(Δ) = -log10(1 - F(Δ))`, `F` the normal CDF of mean `μ` and deviation `σ`,
//!
//! and the detector suspects iff `φ >= threshold`, so its deadline is
//! `τ = a + μ + σ·z` with `z = Φ⁻¹(1 - 10^-threshold)` (see [`normal`](super::normal),
//! accurate far into the tail). Before the first interval exists, `μ = η` and
//! `σ = η/4`. With `σ = 0`, φ is 0 before `μ` and `+∞` from `μ` on.

use crate::detector::normal::{neg_log10_tail, tail_quantile};
use crate::detector::registry::{Definition, Param, THRESHOLD};
use crate::detector::window::Stats;
use crate::detector::{Estimator, Form};
use crate::detector::{EstimatorFamily, Tuned};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// The φ accrual detector's state.
#[derive(Clone, Debug)]
pub struct Phi {
    stats: Stats,
    min_std: f64,
    last: Option<Nanos>,
    mu: f64,
    sigma: f64,
}

impl Phi {
    /// φ over the last `window` intervals with deviation floor `min_std`, for nominal
    /// interval `eta` (the prior before the first interval).
    pub fn new(eta: Nanos, window: usize, min_std: Nanos) -> Self {
        let eta = eta.0 as f64;
        Phi {
            stats: Stats::new(window),
            min_std: min_std.0 as f64,
            last: None,
            mu: eta,
            sigma: eta / 4.0,
        }
    }

    /// The current mean `μ` and deviation `σ` of the intervals, in nanoseconds.
    pub fn distribution(&self) -> (f64, f64) {
        (self.mu, self.sigma)
    }
}

impl Estimator for Phi {
    /// `z = Φ⁻¹(1 - 10^-threshold)`.
    type Knob = f64;

    fn prepare(&self, threshold: f64) -> f64 {
        tail_quantile(threshold)
    }

    #[inline]
    fn observe(&mut self, hb: &Heartbeat) {
        if let Some(last) = self.last {
            self.stats.push(hb.recv.0.wrapping_sub(last.0));
            let (mu, std) = self.stats.mean_std();
            self.mu = mu;
            self.sigma = std.max(self.min_std);
        }
        self.last = Some(hb.recv);
    }

    fn state(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("mean_ns", self.mu),
            ("std_ns", self.sigma),
            ("window", self.stats.len() as f64),
        ]
    }

    #[inline]
    fn level(&self, now: Nanos) -> f64 {
        let Some(last) = self.last else { return 0.0 };
        let delta = now.0.wrapping_sub(last.0) as f64;
        if self.sigma > 0.0 {
            neg_log10_tail((delta - self.mu) / self.sigma)
        } else if delta >= self.mu {
            f64::INFINITY
        } else {
            0.0
        }
    }

    #[inline]
    fn deadline(&self, z: &f64) -> Option<Nanos> {
        self.form().deadline(*z)
    }

    fn form(&self) -> Form<'_> {
        Form::Normal {
            last: self.last,
            mu: self.mu,
            sigma: self.sigma,
        }
    }
}

/// `phi` in the registry.
pub const DEFINITION: Definition = Definition {
    name: "phi",
    summary: "the phi accrual detector as published: normal distribution of intervals",
    source: "Hayashibara, Defago, Yared, Katayama, SRDS 2004",
    params: &[
        Param::window("window", 1000, "intervals kept"),
        Param::duration("min_std", 0.0, "floor on the standard deviation"),
    ],
    knob: Some(THRESHOLD),
    knob_independent: true,
    needs_send_times: false,
    weight: 1,
    window: Definition::window_param,
    detector: |c, eta, knob| Box::new(Tuned::new(Phi::new(eta, c.count("window"), c.nanos("min_std")), knob)),
    family: |c, eta, knobs| {
        Box::new(EstimatorFamily::new(
            Phi::new(eta, c.count("window"), c.nanos("min_std")),
            knobs,
        ))
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::testutil::{check_deadlines, hb};
    use crate::detector::{Detector, Tuned};

    #[test]
    fn prior_before_the_first_interval() {
        let mut d = Tuned::new(Phi::new(Nanos::from_millis(100), 1000, Nanos::ZERO), 1.0);
        assert_eq!(d.deadline(), None);
        d.observe(&hb(1, 1000.0));
        // μ = 100 ms, σ = 25 ms, z(1) = 1.2815515655446004.
        let want: f64 = 1000e6 + 100e6 + 25e6 * 1.281_551_565_544_600_4;
        assert_eq!(d.deadline(), Some(Nanos(want.ceil() as i64)));
        assert!((d.level(Nanos::from_millis(1100)) - std::f64::consts::LOG10_2).abs() < 1e-15);
    }

    #[test]
    fn deadline_is_mean_plus_z_sigma() {
        let mut d = Tuned::new(Phi::new(Nanos::from_millis(100), 4, Nanos::ZERO), 8.0);
        for (s, a) in [(1, 0.0), (2, 90.0), (3, 200.0), (4, 290.0), (5, 400.0), (6, 490.0)] {
            d.observe(&hb(s, a));
        }
        // Last 4 intervals 110, 90, 110, 90: μ = 100 ms, σ = 10 ms.
        let (mu, sigma) = d.estimator().distribution();
        assert!((mu - 100e6).abs() < 1e-6 && (sigma - 10e6).abs() < 1e-6);
        let want: f64 = 490e6 + 100e6 + 10e6 * 5.612_001_244_174_789;
        assert_eq!(d.deadline(), Some(Nanos(want.ceil() as i64)));
        let at = d.level(d.deadline().unwrap());
        assert!((at - 8.0).abs() < 1e-6, "{at}");
    }

    #[test]
    fn min_std_floors_sigma_and_zero_sigma_is_a_step() {
        let mut p = Phi::new(Nanos::from_millis(100), 10, Nanos::from_millis(5));
        let mut q = Phi::new(Nanos::from_millis(100), 10, Nanos::ZERO);
        for s in 0..5u64 {
            p.observe(&hb(s, s as f64 * 100.0));
            q.observe(&hb(s, s as f64 * 100.0));
        }
        assert_eq!(p.distribution().1, 5e6);
        assert_eq!(q.distribution().1, 0.0);
        let z = q.prepare(8.0);
        assert_eq!(q.deadline(&z), Some(Nanos::from_millis(500)));
        assert_eq!(q.level(Nanos::from_millis(500)), f64::INFINITY);
        assert_eq!(q.level(Nanos::from_millis(500) - Nanos(1)), 0.0);
        assert_eq!(q.deadline(&q.prepare(f64::INFINITY)), None);
    }

    #[test]
    fn far_tail_level_is_finite_and_growing() {
        let mut p = Phi::new(Nanos::from_millis(100), 10, Nanos::ZERO);
        for (s, a) in [(1, 0.0), (2, 100.0), (3, 201.0), (4, 300.0)] {
            p.observe(&hb(s, a));
        }
        let mut prev = 0.0;
        for secs in [1, 10, 100, 1000, 100_000] {
            let l = p.level(Nanos::from_secs(secs));
            assert!(l.is_finite() && l > prev, "{secs}s: {l}");
            prev = l;
        }
    }

    #[test]
    fn deadline_consistent_with_level() {
        let knobs: Vec<f64> = (1..=60).map(|i| i as f64 * 0.5).collect();
        let eta = Nanos::from_millis(100);
        check_deadlines(Phi::new(eta, 30, Nanos::ZERO), &knobs, eta, 1e-9);
        check_deadlines(Phi::new(eta, 30, Nanos::from_millis(100)), &knobs, eta, 1e-9);
    }
}

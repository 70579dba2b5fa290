//! `exp-phi` — the exponential φ of Cassandra's failure detector (knob `threshold`).
//!
//! Source: Apache Cassandra, `org.apache.cassandra.gms.FailureDetector` and its
//! `ArrivalWindow` (φ accrual with an exponential distribution of intervals).
//!
//! With `mean` the mean of the last `n` recorded intervals and `Δ` the time since the
//! last receipt, `φ(Δ) = Δ / (mean · ln 10)` (Cassandra's `PHI_FACTOR = 1/ln 10`), and
//! the detector suspects iff `φ >= threshold`, so `τ = a + threshold·ln(10)·mean`.
//! Like Cassandra, the first heartbeat records `initial` as if it were an interval, and
//! an interval larger than `max_interval` is not recorded (the last-heartbeat time
//! moves all the same). Cassandra convicts at `threshold = 8`, a deadline of about
//! `18.42 × mean`.

use std::f64::consts::LN_10;

use crate::detector::registry::{Config, Definition, Param, Range, THRESHOLD};
use crate::detector::window::{Ring, to_f64};
use crate::detector::{Estimator, Form};
use crate::detector::{EstimatorFamily, Tuned};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// Cassandra's arrival window.
#[derive(Clone, Debug)]
pub struct ExpPhi {
    ring: Ring<i64>,
    sum: i128,
    initial: i64,
    max_interval: i64,
    last: Option<Nanos>,
    /// `mean · ln 10`, in nanoseconds.
    scale: f64,
}

impl ExpPhi {
    /// Cassandra's detector over the last `window` intervals, seeded with `initial` and
    /// ignoring intervals above `max_interval`.
    pub fn new(window: usize, initial: Nanos, max_interval: Nanos) -> Self {
        ExpPhi {
            ring: Ring::new(window),
            sum: 0,
            initial: initial.0,
            max_interval: max_interval.0,
            last: None,
            scale: f64::NAN,
        }
    }

    fn record(&mut self, x: i64) {
        if let Some(old) = self.ring.push(x) {
            self.sum -= i128::from(old);
        }
        self.sum += i128::from(x);
        self.scale = self.mean() * LN_10;
    }

    /// The mean recorded interval, in nanoseconds (0 before the first heartbeat).
    pub fn mean(&self) -> f64 {
        if self.ring.is_empty() {
            0.0
        } else {
            to_f64(self.sum) / self.ring.len() as f64
        }
    }

    /// φ after `delta` nanoseconds without a heartbeat.
    #[inline]
    fn phi(&self, delta: f64) -> f64 {
        if self.scale > 0.0 {
            delta / self.scale
        } else if delta > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    }
}

impl Estimator for ExpPhi {
    /// The threshold.
    type Knob = f64;

    fn prepare(&self, threshold: f64) -> f64 {
        threshold
    }

    #[inline]
    fn observe(&mut self, hb: &Heartbeat) {
        match self.last {
            None => self.record(self.initial),
            Some(last) => {
                let interval = hb.recv.0.wrapping_sub(last.0);
                if interval <= self.max_interval {
                    self.record(interval);
                }
            }
        }
        self.last = Some(hb.recv);
    }

    fn state(&self) -> Vec<(&'static str, f64)> {
        vec![("mean_ns", self.mean()), ("window", self.ring.len() as f64)]
    }

    #[inline]
    fn level(&self, now: Nanos) -> f64 {
        match self.last {
            None => 0.0,
            Some(last) => self.phi(now.0.wrapping_sub(last.0) as f64),
        }
    }

    #[inline]
    fn deadline(&self, threshold: &f64) -> Option<Nanos> {
        self.form().deadline(*threshold)
    }

    fn form(&self) -> Form<'_> {
        Form::Ratio {
            last: self.last,
            scale: self.scale,
        }
    }
}

/// `exp-phi` in the registry.
pub const DEFINITION: Definition = Definition {
    name: "exp-phi",
    summary: "exponential phi (Cassandra): phi = elapsed / (mean * ln 10)",
    source: "Apache Cassandra's FailureDetector / ArrivalWindow",
    params: &[
        Param::window("window", 1000, "intervals kept"),
        Param::duration("initial", 2e9, "interval recorded on the first heartbeat").in_range(Range::above(0.0)),
        Param::duration("max_interval", 2e9, "longer intervals are not recorded"),
    ],
    knob: Some(THRESHOLD),
    knob_independent: true,
    needs_send_times: false,
    weight: 1,
    window: Definition::window_param,
    detector: |c, _, knob| Box::new(Tuned::new(build(c), knob)),
    family: |c, _, knobs| Box::new(EstimatorFamily::new(build(c), knobs)),
};

fn build(c: &Config) -> ExpPhi {
    ExpPhi::new(c.count("window"), c.nanos("initial"), c.nanos("max_interval"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::testutil::{check_deadlines, hb};

    /// Cassandra's ArrivalWindowTest, to the digits the spec prints.
    #[test]
    #[allow(clippy::approx_constant)]
    fn cassandra_arrival_window_vectors() {
        let mut d = ExpPhi::new(4, Nanos::from_secs(2), Nanos::from_secs(2));
        for (s, a) in [(1, 111.0), (2, 222.0), (3, 333.0), (4, 444.0), (5, 555.0)] {
            d.observe(&hb(s, a));
        }
        assert!((d.mean() - 111e6).abs() < 1e-6, "the 2000 ms seed is evicted");
        let raw = |ms: i64| d.level(Nanos::from_millis(ms)) * LN_10;
        assert!((raw(666) - 1.0).abs() < 1e-12);
        assert!((d.level(Nanos::from_millis(666)) - 0.4342945).abs() < 1e-7);
        assert!((raw(3000) - 22.027).abs() < 1e-3);
        assert!((d.level(Nanos::from_millis(3000)) - 9.566).abs() < 1e-3);
        assert!(d.level(Nanos::from_millis(3000)) >= 8.0, "convicted at 8");
        assert!((d.level(Nanos::from_millis(555 + 333)) - 1.302_883_4).abs() < 1e-7);
    }

    #[test]
    fn seed_and_max_interval() {
        let mut d = ExpPhi::new(1000, Nanos::from_secs(2), Nanos::from_secs(2));
        assert_eq!(d.deadline(&8.0), None);
        d.observe(&hb(1, 0.0));
        assert_eq!(d.mean(), 2e9);
        // τ = a + 8·ln10·2 s ≈ 36.84 s.
        let tau = d.deadline(&8.0).unwrap();
        assert_eq!(tau, Nanos((8.0 * LN_10 * 2e9).ceil() as i64));
        // The knob as prepared is the threshold itself.
        assert_eq!(d.deadline(&d.prepare(8.0)), Some(tau));
        d.observe(&hb(2, 1000.0));
        assert_eq!(d.mean(), 1.5e9);
        // An interval of 2001 ms is not recorded, but the last-heartbeat time moves.
        d.observe(&hb(3, 3001.0));
        assert_eq!(d.mean(), 1.5e9);
        assert_eq!(d.level(Nanos::from_millis(3001)), 0.0);
        // Exactly max_interval is recorded (Cassandra's `<=`).
        d.observe(&hb(4, 5001.0));
        assert!((d.mean() - 5e9 / 3.0).abs() < 1e-3);
    }

    #[test]
    fn deadline_consistent_with_level() {
        let knobs: Vec<f64> = (1..=40).map(|i| i as f64 * 0.4).collect();
        let eta = Nanos::from_millis(100);
        check_deadlines(
            ExpPhi::new(20, Nanos::from_secs(2), Nanos::from_secs(2)),
            &knobs,
            eta,
            0.0,
        );
        check_deadlines(
            ExpPhi::new(3, Nanos::from_millis(100), Nanos::from_millis(500)),
            &knobs,
            eta,
            0.0,
        );
    }
}

/// A window whose intervals are all zero: the mean and the scale are 0.
#[cfg(test)]
mod zero_mean_tests {
    use super::*;
    use crate::detector::testutil::hb;

    #[test]
    fn at_a_zero_mean_phi_is_zero_until_the_last_receipt_and_infinite_after_it() {
        let mut d = ExpPhi::new(1, Nanos::ZERO, Nanos::SECOND);
        d.observe(&hb(1, 100.0));
        assert_eq!(d.mean(), 0.0);
        let last = Nanos::from_millis(100);
        assert_eq!(d.level(last - Nanos(1)), 0.0);
        assert_eq!(d.level(last), 0.0);
        assert_eq!(d.level(last + Nanos(1)), f64::INFINITY);
        // Suspected one nanosecond after the receipt at any positive threshold.
        assert_eq!(d.deadline(&8.0), Some(last + Nanos(1)));
    }
}

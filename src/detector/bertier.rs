//! `bertier` — Chen's estimate plus Jacobson's dynamic safety margin (no knob).
//!
//! Source: M. Bertier, O. Marin, P. Sens, "Implementation and performance evaluation of
//! an adaptable failure detector", DSN 2002. The constants (`gamma = 0.1`, `beta = 1`,
//! `phi = 4`) are those used in later comparisons; the paper's own constants could not
//! be checked.
//!
//! On each accepted receipt `k`, with `EA_k` the expected arrival of heartbeat `s_k`
//! estimated by Chen's formula from the window before it (see [`chen`](super::chen);
//! without losses this is the estimate the detector was waiting on), and `delay`, `var`
//! starting at 0:
//!
//! ```text
//! error  = a_k - EA_k - delay
//! delay += gamma·error
//! var   += gamma·(|error| - var)
//! margin = beta·delay + phi·var
//! τ_k    = EA_{k+1} + margin
//! ```
//!
//! The first receipt has no `EA_k` and leaves `delay` and `var` at 0. The detector has
//! no knob: its level is `now - (EA_{k+1} + margin)` in nanoseconds and it suspects
//! when the level reaches 0; the knob value passed to [`Estimator::prepare`] is ignored.

use crate::detector::chen::{ChenWindow, ceil_base};
use crate::detector::registry::{Config, Definition, Param, Range};
use crate::detector::{Check, Estimator, Form, shifted_deadline};
use crate::detector::{EstimatorFamily, Tuned};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// Bertier's estimator.
#[derive(Clone, Debug)]
pub struct Bertier {
    window: ChenWindow,
    gamma: f64,
    beta: f64,
    phi: f64,
    delay: f64,
    var: f64,
    last: Nanos,
    /// `EA_{k+1} + margin - last`, in nanoseconds.
    offset: f64,
}

impl Bertier {
    /// Bertier's detector over a window of `window` receipts, for nominal interval
    /// `eta`, with Jacobson's constants `gamma`, `beta`, `phi`.
    pub fn new(eta: Nanos, window: usize, gamma: f64, beta: f64, phi: f64) -> Self {
        Bertier {
            window: ChenWindow::new(eta, window),
            gamma,
            beta,
            phi,
            delay: 0.0,
            var: 0.0,
            last: Nanos::ZERO,
            offset: f64::NAN,
        }
    }

    /// The current safety margin `beta·delay + phi·var`, in nanoseconds.
    pub fn margin(&self) -> f64 {
        self.beta * self.delay + self.phi * self.var
    }
}

impl Estimator for Bertier {
    /// No knob.
    type Knob = ();

    fn prepare(&self, _knob: f64) {}

    #[inline]
    fn observe(&mut self, hb: &Heartbeat) {
        if !self.window.is_empty() {
            // a_k - EA_k, exact up to the division.
            let late = -self.window.expected_minus(hb.seq, hb.recv);
            let error = late - self.delay;
            self.delay += self.gamma * error;
            self.var += self.gamma * (error.abs() - self.var);
        }
        self.window.push(hb);
        self.last = hb.recv;
        self.offset = self.window.expected_minus(hb.seq.wrapping_add(1), hb.recv) + self.margin();
    }

    fn state(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("expected_after_ns", self.offset),
            ("margin_ns", self.margin()),
            ("delay_ns", self.delay),
            ("var_ns", self.var),
            ("window", self.window.len() as f64),
        ]
    }

    #[inline]
    fn level(&self, now: Nanos) -> f64 {
        if self.window.is_empty() {
            return f64::NEG_INFINITY;
        }
        (now.0.wrapping_sub(self.last.0)) as f64 - self.offset
    }

    #[inline]
    fn deadline(&self, _knob: &()) -> Option<Nanos> {
        shifted_deadline(self.base()?, 0)
    }

    fn form(&self) -> Form<'_> {
        Form::Shifted {
            base: self.base(),
            check: Check::default(),
        }
    }
}

impl Bertier {
    /// `ceil(EA_{k+1} + margin)`: the deadline (the level reaches 0 there).
    #[inline]
    fn base(&self) -> Option<i64> {
        (!self.window.is_empty()).then(|| ceil_base(self.last, self.offset))
    }
}

/// `bertier` in the registry.
pub const DEFINITION: Definition = Definition {
    name: "bertier",
    summary: "Chen's expected arrival plus Jacobson's dynamic margin (no knob)",
    source: "Bertier, Marin, Sens, DSN 2002 (constants from later comparisons)",
    params: &[
        Param::window("window", 1000, "receipts kept"),
        Param::fraction("gamma", 0.1, "gain of the delay and variation estimates"),
        Param::number("beta", 1.0, Range::at_least(0.0), "weight of the delay in the margin"),
        Param::number(
            "phi",
            4.0,
            Range::at_least(0.0),
            "weight of the variation in the margin",
        ),
    ],
    knob: None,
    knob_independent: true,
    needs_send_times: false,
    weight: 1,
    window: Definition::window_param,
    detector: |c, eta, _| Box::new(Tuned::new(build(c, eta), 0.0)),
    family: |c, eta, knobs| Box::new(EstimatorFamily::new(build(c, eta), knobs)),
};

fn build(c: &Config, eta: Nanos) -> Bertier {
    Bertier::new(eta, c.count("window"), c.get("gamma"), c.get("beta"), c.get("phi"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::testutil::{check_deadlines, hb};

    #[test]
    fn spec_vector() {
        let mut b = Bertier::new(Nanos::from_millis(100), 3, 0.1, 1.0, 4.0);
        // The spec's vector starts from a filled window with delay = var = 0.
        for (s, a) in [(1, 150.0), (2, 260.0), (3, 345.0)] {
            b.window.push(&hb(s, a));
        }
        b.observe(&hb(4, 445.0));
        // error = 445 - 451.6667 = -6.6667 ms; delay = -0.66667; var = 0.66667.
        assert!((b.delay / 1e6 + 0.666_666_67).abs() < 1e-6, "{}", b.delay);
        assert!((b.var / 1e6 - 0.666_666_67).abs() < 1e-6, "{}", b.var);
        assert!((b.margin() / 1e6 - 2.0).abs() < 1e-6);
        // EA_5 = 550, τ = 552 ms.
        assert_eq!(b.deadline(&()), Some(Nanos::from_millis(552)));
        assert_eq!(b.level(Nanos::from_millis(552)), 0.0);
    }

    #[test]
    fn margin_follows_the_recursion_from_the_second_receipt() {
        let mut b = Bertier::new(Nanos::from_millis(100), 3, 0.1, 1.0, 4.0);
        b.observe(&hb(1, 150.0));
        // EA_2 = 250; error = 10 ms; delay = 1 ms; var = 1 ms; margin = 5 ms.
        b.observe(&hb(2, 260.0));
        assert!((b.margin() / 1e6 - 5.0).abs() < 1e-9);
        // Window (1,150) (2,260): EA_3 = 205 + 150 = 355 ms; τ = 360 ms.
        assert_eq!(b.deadline(&()), Some(Nanos::from_millis(360)));
    }

    #[test]
    fn first_receipt_leaves_the_margin_at_zero() {
        let mut b = Bertier::new(Nanos::from_millis(100), 3, 0.1, 1.0, 4.0);
        assert_eq!(b.deadline(&()), None);
        b.observe(&hb(1, 150.0));
        assert_eq!(b.margin(), 0.0);
        assert_eq!(b.deadline(&()), Some(Nanos::from_millis(250)));
    }

    #[test]
    fn deadline_consistent_with_level() {
        check_deadlines(
            Bertier::new(Nanos::from_millis(100), 30, 0.1, 1.0, 4.0),
            &[0.0],
            Nanos::from_millis(100),
            0.0,
        );
    }
}

//! `2w` — 2W-FD, Chen's estimator over two windows (knob `alpha`).
//!
//! Source: A. Tomsic, P. Sens, J. Garcia, L. Arantes, J. Sopena, "2W-FD: A Failure
//! Detector Algorithm with QoS", IPDPS 2015. The default window sizes (`n1 = 1000`,
//! `n2 = 1`) are those reported in later work; the paper's own choice could not be
//! checked.
//!
//! Two Chen estimates of the next arrival (see [`chen`](super::chen)) are kept, one over
//! a long window `n1` and one over a short window `n2`, and the detector suspects from
//! `τ = max(EA_{n1}, EA_{n2}) + alpha` on: the long window is stable, the short one
//! reacts at once to a sudden rise in delay. The level is `now - max(EA1, EA2)` in
//! nanoseconds; `alpha` is in whole nanoseconds, and the deadline is
//! `ceil(max(EA1, EA2)) + alpha`.
//!
//! With `check = Δc > 0` the monitor looks only at the integer multiples of `Δc` on its
//! clock: the deadline is rounded up to the next tick, `⌈τ / Δc⌉·Δc`, and the level is
//! the one at the last tick (detectors.md, `check`).

use crate::detector::chen::{ChenWindow, ceil_base};
use crate::detector::registry::{ALPHA, CHECK, Definition, Param};
use crate::detector::{Check, Estimator, Form, shifted_deadline};
use crate::detector::{EstimatorFamily, Tuned};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// The 2W-FD estimator: two Chen windows.
#[derive(Clone, Debug)]
pub struct TwoWindows {
    long: ChenWindow,
    short: ChenWindow,
    last: Nanos,
    /// `max(EA1, EA2) - last` in nanoseconds.
    offset: f64,
    /// `ceil(max(EA1, EA2))`, saturated to the range of `i64`.
    base: i64,
    check: Check,
}

impl TwoWindows {
    /// 2W-FD with windows of `n1` and `n2` receipts, for nominal interval `eta`.
    pub fn new(eta: Nanos, n1: usize, n2: usize) -> Self {
        TwoWindows {
            long: ChenWindow::new(eta, n1),
            short: ChenWindow::new(eta, n2),
            last: Nanos::ZERO,
            offset: f64::NAN,
            base: 0,
            check: Check::default(),
        }
    }

    /// The same estimator on a monitor that checks at the ticks of `check`.
    pub fn checked(self, check: Check) -> Self {
        TwoWindows { check, ..self }
    }
}

impl Estimator for TwoWindows {
    /// `alpha` in whole nanoseconds (rounded up).
    type Knob = Nanos;

    fn prepare(&self, knob: f64) -> Nanos {
        Nanos::ceil_f64(knob)
    }

    #[inline]
    fn observe(&mut self, hb: &Heartbeat) {
        self.long.push(hb);
        self.short.push(hb);
        self.last = hb.recv;
        let next = hb.seq.wrapping_add(1);
        let e1 = self.long.expected_minus(next, hb.recv);
        let e2 = self.short.expected_minus(next, hb.recv);
        self.offset = e1.max(e2);
        self.base = ceil_base(self.last, self.offset);
    }

    fn state(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("expected_after_ns", self.offset),
            ("window", self.long.len() as f64),
            ("short_window", self.short.len() as f64),
        ]
    }

    #[inline]
    fn level(&self, now: Nanos) -> f64 {
        if self.long.is_empty() {
            return f64::NEG_INFINITY;
        }
        (self.check.floor(now).0.wrapping_sub(self.last.0)) as f64 - self.offset
    }

    #[inline]
    fn deadline(&self, alpha: &Nanos) -> Option<Nanos> {
        self.check.deadline(shifted_deadline(self.base()?, alpha.0))
    }

    fn form(&self) -> Form<'_> {
        Form::Shifted {
            base: self.base(),
            check: self.check,
        }
    }
}

impl TwoWindows {
    /// `ceil(EA)` after the last heartbeat (`None` before the first one).
    #[inline]
    fn base(&self) -> Option<i64> {
        (!self.long.is_empty()).then_some(self.base)
    }
}

/// `2w` in the registry.
pub const DEFINITION: Definition = Definition {
    name: "2w",
    summary: "2W-FD: Chen's estimate over a long and a short window, the later of the two plus alpha",
    source: "Tomsic, Sens, Garcia, Arantes, Sopena, IPDPS 2015 (window sizes from later work)",
    params: &[
        Param::window("n1", 1000, "receipts in the long window"),
        Param::window("n2", 1, "receipts in the short window"),
        CHECK,
    ],
    knob: Some(ALPHA),
    knob_independent: true,
    needs_send_times: false,
    weight: 1,
    window: |c| c.count("n1").max(c.count("n2")),
    detector: |c, eta, knob| {
        Box::new(Tuned::new(
            TwoWindows::new(eta, c.count("n1"), c.count("n2")).checked(c.check()),
            knob,
        ))
    },
    family: |c, eta, knobs| {
        Box::new(EstimatorFamily::new(
            TwoWindows::new(eta, c.count("n1"), c.count("n2")).checked(c.check()),
            knobs,
        ))
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::chen::Chen;
    use crate::detector::testutil::{check_deadlines, hb};

    #[test]
    fn follows_a_delay_step_at_once() {
        let eta = Nanos::from_millis(100);
        let mut w = TwoWindows::new(eta, 1000, 1);
        let mut c = Chen::new(eta, 1000);
        // 500 heartbeats with a 10 ms delay, then the delay jumps to 60 ms.
        for s in 1..=500u64 {
            let h = hb(s, s as f64 * 100.0 + 10.0);
            w.observe(&h);
            c.observe(&h);
        }
        assert_eq!(w.deadline(&Nanos::ZERO), c.deadline(&Nanos::ZERO));
        assert_eq!(w.deadline(&Nanos::ZERO), Some(Nanos::from_millis(501 * 100 + 10)));
        let h = hb(501, 501.0 * 100.0 + 60.0);
        w.observe(&h);
        c.observe(&h);
        // The short window expects the next one 100 ms after this receipt; the long one
        // barely moved (50 ms / 501 ≈ 0.1 ms).
        assert_eq!(w.deadline(&Nanos::ZERO), Some(Nanos::from_millis(502 * 100 + 60)));
        let long = c.deadline(&Nanos::ZERO).unwrap();
        assert!(long < Nanos::from_millis(502 * 100 + 11), "{long:?}");
        // A delay drop: the long window keeps the max.
        let h = hb(502, 502.0 * 100.0 + 5.0);
        w.observe(&h);
        c.observe(&h);
        assert_eq!(w.deadline(&Nanos::ZERO), c.deadline(&Nanos::ZERO));
    }

    #[test]
    fn deadline_consistent_with_level() {
        let knobs: Vec<f64> = (0..30).map(|i| i as f64 * 33.3e6).collect();
        check_deadlines(
            TwoWindows::new(Nanos::from_millis(100), 50, 1),
            &knobs,
            Nanos::from_millis(100),
            0.0,
        );
        check_deadlines(
            TwoWindows::new(Nanos::from_millis(100), 20, 3),
            &knobs,
            Nanos::from_millis(100),
            0.0,
        );
        check_deadlines(
            TwoWindows::new(Nanos::from_millis(100), 20, 3).checked(Check::every(Nanos::from_millis(45))),
            &knobs,
            Nanos::from_millis(100),
            0.0,
        );
    }
}

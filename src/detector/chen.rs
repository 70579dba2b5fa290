//! `chen` — Chen's adaptive estimator NFD-E (knob `alpha`).
//!
//! Source: W. Chen, S. Toueg, M. K. Aguilera, "On the Quality of Service of Failure
//! Detectors", IEEE Transactions on Computers 51(5), 2002.
//!
//! Over the last `n` accepted receipts `(s_i, a_i)` (fewer at the start), with `ℓ` the
//! largest sequence number accepted and `η` the nominal interval, the expected arrival of
//! the next heartbeat is
//!
//! `EA = (1/n) Σ (a_i - η·s_i) + (ℓ + 1)·η`
//!
//! and the detector suspects from `τ = EA + alpha` on. Lost heartbeats inside the window
//! are accounted for by the sequence numbers (the shortcut `mean(a) + η(n+1)/2` is only
//! right without losses and is not used). With one receipt, `EA = a + η`.
//!
//! The level is `now - EA` in nanoseconds; the knob `alpha` is in whole nanoseconds, so
//! the deadline, the first integer nanosecond with `now - EA >= alpha`, is
//! `ceil(EA) + alpha`: a base time plus the knob.
//! The windowed sum of `a_i - η·s_i` is kept exactly in `i128`.
//!
//! With `check = Δc > 0` the monitor looks only at the integer multiples of `Δc` on its
//! clock: the deadline is rounded up to the next tick, `⌈τ / Δc⌉·Δc`, and the level is
//! the one at the last tick (detectors.md, `check`).

use crate::detector::registry::{ALPHA, CHECK, Definition, Param};
use crate::detector::window::{Ring, to_f64};
use crate::detector::{Check, Estimator, Form, shifted_deadline};
use crate::detector::{EstimatorFamily, Tuned};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// The windowed part of Chen's estimator, shared with `bertier` and `2w`: the exact sum
/// of `v_i = a_i - η·s_i` over the last `n` accepted receipts, each taken relative to
/// the first receipt's `v` (the same sums, and small enough to convert to `f64` fast).
#[derive(Clone, Debug)]
pub struct ChenWindow {
    eta: i128,
    ring: Ring<i128>,
    sum: i128,
    reference: Option<i128>,
}

impl ChenWindow {
    /// An empty window of `n` receipts for nominal interval `eta`.
    pub fn new(eta: Nanos, n: usize) -> Self {
        ChenWindow {
            eta: i128::from(eta.0),
            ring: Ring::new(n),
            sum: 0,
            reference: None,
        }
    }

    /// `a - η·s` for a receipt, relative to the reference.
    #[inline]
    fn relative(&self, recv: Nanos, seq: u64) -> i128 {
        i128::from(recv.0)
            .wrapping_sub(self.eta.wrapping_mul(i128::from(seq)))
            .wrapping_sub(self.reference.unwrap_or(0))
    }

    /// Adds an accepted receipt.
    #[inline]
    pub fn push(&mut self, hb: &Heartbeat) {
        if self.reference.is_none() {
            self.reference = Some(i128::from(hb.recv.0).wrapping_sub(self.eta.wrapping_mul(i128::from(hb.seq))));
        }
        let v = self.relative(hb.recv, hb.seq);
        if let Some(old) = self.ring.push(v) {
            self.sum = self.sum.wrapping_sub(old);
        }
        self.sum = self.sum.wrapping_add(v);
    }

    /// Number of receipts in the window.
    #[inline]
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether the window is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// `EA(seq) - recv`: the expected arrival of heartbeat `seq` estimated from the
    /// window, relative to `recv`, in nanoseconds (exact up to the final division).
    /// The window must not be empty.
    #[inline]
    pub fn expected_minus(&self, seq: u64, recv: Nanos) -> f64 {
        let n = self.ring.len() as i128;
        let v = self.relative(recv, seq);
        // EA(seq) - recv = (Σ v_i - n·v) / n, with v = recv - η·seq.
        let d = to_f64(self.sum.wrapping_sub(n.wrapping_mul(v)));
        // A window of one (2W-FD's short window) needs no division.
        if n == 1 { d } else { d / n as f64 }
    }
}

/// Chen's estimator: the window and the last receipt.
#[derive(Clone, Debug)]
pub struct Chen {
    window: ChenWindow,
    last: Nanos,
    /// `EA - last`, in nanoseconds (NaN before the first heartbeat).
    offset: f64,
    /// `ceil(EA)`, saturated to the range of `i64`.
    base: i64,
    check: Check,
}

impl Chen {
    /// Chen's estimator over the last `window` receipts, for nominal interval `eta`.
    pub fn new(eta: Nanos, window: usize) -> Self {
        Chen {
            window: ChenWindow::new(eta, window),
            last: Nanos::ZERO,
            offset: f64::NAN,
            base: 0,
            check: Check::default(),
        }
    }

    /// The same estimator on a monitor that checks at the ticks of `check`.
    pub fn checked(self, check: Check) -> Self {
        Chen { check, ..self }
    }

    /// The expected arrival `EA` of the next heartbeat, as an offset from the last
    /// receipt, and that receipt; `None` before the first heartbeat.
    pub fn expected(&self) -> Option<(Nanos, f64)> {
        (!self.window.is_empty()).then_some((self.last, self.offset))
    }
}

/// `ceil(last + offset)` for an expected arrival `offset` after `last`, saturated to the
/// range of `i64`: the base of a timeout-style deadline.
#[inline]
pub fn ceil_base(last: Nanos, offset: f64) -> i64 {
    last.0.saturating_add(Nanos::ceil_f64(offset).0)
}

impl Estimator for Chen {
    /// `alpha` in whole nanoseconds (rounded up).
    type Knob = Nanos;

    fn prepare(&self, knob: f64) -> Nanos {
        Nanos::ceil_f64(knob)
    }

    #[inline]
    fn observe(&mut self, hb: &Heartbeat) {
        self.window.push(hb);
        self.last = hb.recv;
        self.offset = self.window.expected_minus(hb.seq.wrapping_add(1), hb.recv);
        self.base = ceil_base(self.last, self.offset);
    }

    fn state(&self) -> Vec<(&'static str, f64)> {
        vec![("expected_after_ns", self.offset), ("window", self.window.len() as f64)]
    }

    #[inline]
    fn level(&self, now: Nanos) -> f64 {
        if self.window.is_empty() {
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

impl Chen {
    /// `ceil(EA)` after the last heartbeat (`None` before the first one).
    #[inline]
    fn base(&self) -> Option<i64> {
        (!self.window.is_empty()).then_some(self.base)
    }
}

/// `chen` in the registry.
pub const DEFINITION: Definition = Definition {
    name: "chen",
    summary: "Chen's NFD-E: expected arrival from the last n receipts (loss-aware) plus alpha",
    source: "Chen, Toueg, Aguilera, On the QoS of failure detectors, IEEE ToC 51(5), 2002",
    params: &[Param::window("window", 1000, "receipts kept"), CHECK],
    knob: Some(ALPHA),
    knob_independent: true,
    needs_send_times: false,
    weight: 1,
    window: Definition::window_param,
    detector: |c, eta, knob| Box::new(Tuned::new(Chen::new(eta, c.count("window")).checked(c.check()), knob)),
    family: |c, eta, knobs| {
        Box::new(EstimatorFamily::new(
            Chen::new(eta, c.count("window")).checked(c.check()),
            knobs,
        ))
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's test vector, `τ = 601.6667 ms`, on monitors checking every 100 ms, 50 ms
    /// and 1 ms: the next multiples, 700, 650 and 602 ms.
    #[test]
    fn check_rounds_the_deadline_up_to_the_next_tick() {
        for (check_ms, want_ms) in [(100, 700), (50, 650), (1, 602)] {
            let mut c = Chen::new(Nanos::from_millis(100), 3).checked(Check::every(Nanos::from_millis(check_ms)));
            for (s, ms) in [(1, 150.0), (2, 260.0), (4, 445.0)] {
                c.observe(&hb(s, ms));
            }
            let alpha = c.prepare(50e6);
            assert_eq!(
                c.deadline(&alpha),
                Some(Nanos::from_millis(want_ms)),
                "check {check_ms} ms"
            );
            assert_eq!(
                c.form(),
                Form::Shifted {
                    base: Some(551_666_667),
                    check: Check::every(Nanos::from_millis(check_ms))
                }
            );
        }
    }
    use crate::detector::testutil::{check_deadlines, hb};
    use crate::detector::{Detector, Tuned};

    fn ea_ms(c: &Chen) -> f64 {
        let (a, e) = c.expected().unwrap();
        (a.0 as f64 + e) / 1e6
    }

    #[test]
    fn spec_vector_with_a_loss() {
        let mut d = Tuned::new(Chen::new(Nanos::from_millis(100), 3), 50e6);
        for (s, a) in [(1, 150.0), (2, 260.0), (4, 445.0)] {
            d.observe(&hb(s, a));
        }
        assert!((ea_ms(d.estimator()) - 551.666_666_7).abs() < 1e-6);
        // τ = 601.6667 ms: the first integer nanosecond at or after it.
        assert_eq!(d.deadline(), Some(Nanos(601_666_667)));
    }

    #[test]
    fn spec_vector_without_loss() {
        let mut c = Chen::new(Nanos::from_millis(100), 3);
        for (s, a) in [(1, 150.0), (2, 260.0), (3, 345.0)] {
            c.observe(&hb(s, a));
        }
        assert!((ea_ms(&c) - 451.666_666_7).abs() < 1e-6);
        // The shortcut mean(a) + η(n+1)/2 agrees only here, without loss.
        assert!((ea_ms(&c) - ((150.0 + 260.0 + 345.0) / 3.0 + 200.0)).abs() < 1e-6);
    }

    #[test]
    fn window_slides_and_one_receipt_expects_one_interval() {
        let mut c = Chen::new(Nanos::from_millis(100), 3);
        assert_eq!(c.deadline(&Nanos::ZERO), None);
        c.observe(&hb(7, 1000.0));
        assert!((ea_ms(&c) - 1100.0).abs() < 1e-9);
        for (s, a) in [(8, 1100.0), (9, 1200.0), (10, 1400.0)] {
            c.observe(&hb(s, a));
        }
        // Window (8,1100) (9,1200) (10,1400): mean(a - ηs) = 1233.33 - 900 = 333.33; + 1100.
        assert!((ea_ms(&c) - 1_433.333_333_3).abs() < 1e-6);
    }

    #[test]
    fn exact_with_huge_timestamps() {
        let mut c = Chen::new(Nanos::from_millis(100), 1000);
        let base = 1_000_000_000_000_000_000i64;
        for s in 1..=5000u64 {
            c.observe(&Heartbeat {
                seq: s,
                recv: Nanos(base + s as i64 * 100_000_000 + 7),
                send: None,
            });
        }
        assert_eq!(c.deadline(&Nanos::ZERO), Some(Nanos(base + 5001 * 100_000_000 + 7)));
    }

    #[test]
    fn deadline_consistent_with_level() {
        let knobs: Vec<f64> = (0..30).map(|i| i as f64 * 33.3e6).collect();
        check_deadlines(
            Chen::new(Nanos::from_millis(100), 50),
            &knobs,
            Nanos::from_millis(100),
            0.0,
        );
        check_deadlines(
            Chen::new(Nanos::from_millis(100), 50).checked(Check::every(Nanos::from_millis(30))),
            &knobs,
            Nanos::from_millis(100),
            0.0,
        );
        check_deadlines(
            Chen::new(Nanos::from_millis(100), 1),
            &knobs,
            Nanos::from_millis(100),
            0.0,
        );
    }
}

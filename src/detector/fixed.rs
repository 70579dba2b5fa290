//! `fixed` — the fixed-timeout detector (knob `timeout`).
//!
//! Suspect once the time since the last accepted receipt reaches the timeout:
//! `τ_j = a_j + timeout`. The level is the elapsed time `Δ = now - a_j` in nanoseconds.
//! This is the detector of Figure 1.3 in "Distributed Systems for Practitioners".

use crate::detector::registry::{Definition, Param};
use crate::detector::{Estimator, shifted_deadline};
use crate::detector::{EstimatorFamily, Tuned};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// The fixed-timeout detector's state: the last receipt.
#[derive(Clone, Debug, Default)]
pub struct Fixed {
    last: Option<Nanos>,
}

impl Fixed {
    /// A detector that has seen no heartbeat.
    pub fn new() -> Self {
        Fixed { last: None }
    }
}

impl Estimator for Fixed {
    /// The timeout in whole nanoseconds.
    type Knob = Nanos;

    fn prepare(&self, knob: f64) -> Nanos {
        Nanos::ceil_f64(knob)
    }

    fn observe(&mut self, hb: &Heartbeat) {
        self.last = Some(hb.recv);
    }

    fn level(&self, now: Nanos) -> f64 {
        match self.last {
            Some(a) => (now - a).0 as f64,
            None => 0.0,
        }
    }

    fn deadline(&self, timeout: &Nanos) -> Option<Nanos> {
        shifted_deadline(self.last?.0, timeout.0)
    }

    fn shift(&self, timeout: &Nanos) -> Option<i64> {
        Some(timeout.0)
    }

    fn base(&self) -> Option<i64> {
        self.last.map(|a| a.0)
    }
}

/// `fixed` in the registry.
pub const DEFINITION: Definition = Definition {
    name: "fixed",
    summary: "fixed timeout: suspect once the time since the last heartbeat reaches the timeout",
    source: "Distributed Systems for Practitioners (Raptis), Figure 1.3",
    params: &[],
    knob: Some(
        Param::duration("timeout", 1e9, "time since the last receipt at which to suspect").swept(10e6, 2e9, 10e6),
    ),
    knob_independent: true,
    needs_send_times: false,
    weight: 1,
    window: |_| 1,
    detector: |_, _, knob| Box::new(Tuned::new(Fixed::new(), knob)),
    family: |_, _, knobs| Box::new(EstimatorFamily::new(Fixed::new(), knobs)),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::{Detector, Tuned};

    #[test]
    fn deadline_is_last_receipt_plus_timeout() {
        let mut d = Tuned::new(Fixed::new(), 250e6);
        assert_eq!(d.deadline(), None);
        d.observe(&Heartbeat {
            seq: 1,
            recv: Nanos::from_millis(1000),
            send: None,
        });
        assert_eq!(d.deadline(), Some(Nanos::from_millis(1250)));
        assert_eq!(d.level(Nanos::from_millis(1100)), 100e6);
        assert!(d.level(Nanos::from_millis(1250)) >= d.threshold());
        assert!(d.level(Nanos::from_millis(1250) - Nanos(1)) < d.threshold());
    }

    #[test]
    fn deadline_consistent_with_level() {
        let knobs: Vec<f64> = (0..20).map(|i| i as f64 * 50e6 + 0.5).collect();
        let eta = Nanos::from_millis(100);
        crate::detector::testutil::check_deadlines(Fixed::new(), &knobs, eta, 0.0);
    }
}

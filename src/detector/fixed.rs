//! `fixed` — the fixed-timeout detector (knob `timeout`).
//!
//! Suspect once the time since the last accepted receipt reaches the timeout:
//! `τ_j = a_j + timeout`. The level is the elapsed time `Δ = now - a_j` in nanoseconds.
//! This is the detector of Figure 1.3 in "Distributed Systems for Practitioners".
//!
//! With `check = Δc > 0` the monitor looks only at the integer multiples of `Δc` on its
//! clock and notices the timeout at its next tick: `τ_j = ⌈(a_j + timeout) / Δc⌉·Δc`,
//! the level being the elapsed time at the last tick.

use crate::detector::registry::{CHECK, Definition, Param};
use crate::detector::{Check, Estimator, Form, shifted_deadline};
use crate::detector::{EstimatorFamily, Tuned};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// The fixed-timeout detector's state: the last receipt, and the monitor's check tick.
#[derive(Clone, Debug, Default)]
pub struct Fixed {
    last: Option<Nanos>,
    check: Check,
}

impl Fixed {
    /// A detector that has seen no heartbeat, looking continuously.
    pub fn new() -> Self {
        Fixed {
            last: None,
            check: Check::default(),
        }
    }

    /// The same detector on a monitor that checks at the ticks of `check`.
    pub fn checked(self, check: Check) -> Self {
        Fixed { check, ..self }
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
            Some(a) => (self.check.floor(now) - a).0 as f64,
            None => 0.0,
        }
    }

    fn deadline(&self, timeout: &Nanos) -> Option<Nanos> {
        self.check.deadline(shifted_deadline(self.last?.0, timeout.0))
    }

    fn form(&self) -> Form<'_> {
        Form::Shifted {
            base: self.last.map(|a| a.0),
            check: self.check,
        }
    }
}

/// `fixed` in the registry.
pub const DEFINITION: Definition = Definition {
    name: "fixed",
    summary: "fixed timeout: suspect once the time since the last heartbeat reaches the timeout",
    source: "Distributed Systems for Practitioners (Raptis), Figure 1.3",
    params: &[CHECK],
    knob: Some(
        Param::duration("timeout", 1e9, "time since the last receipt at which to suspect").swept(10e6, 2e9, 10e6),
    ),
    knob_independent: true,
    needs_send_times: false,
    weight: 1,
    window: |_| 1,
    detector: |c, _, knob| Box::new(Tuned::new(Fixed::new().checked(c.check()), knob)),
    family: |c, _, knobs| Box::new(EstimatorFamily::new(Fixed::new().checked(c.check()), knobs)),
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
        for check in [1, 7_000_000, 30_000_000, 1_000_000_000] {
            let checked = Fixed::new().checked(Check::every(Nanos(check)));
            crate::detector::testutil::check_deadlines(checked, &knobs, eta, 0.0);
        }
    }

    fn at_ms(seq: u64, ms: i64) -> Heartbeat {
        Heartbeat {
            seq,
            recv: Nanos::from_millis(ms),
            send: None,
        }
    }

    #[test]
    fn a_checking_monitor_suspects_at_its_next_tick() {
        let check = Check::every(Nanos::from_millis(100));
        let mut d = Tuned::new(Fixed::new().checked(check), 250e6);
        // 1000 + 250 = 1250 ms, just after the tick at 1200 ms: noticed at 1300 ms.
        d.observe(&at_ms(1, 1000));
        assert_eq!(d.deadline(), Some(Nanos::from_millis(1300)));
        // At 1299 ms the monitor last looked at 1200 ms (200 ms elapsed); at 1300 ms, 300.
        assert_eq!(d.level(Nanos::from_millis(1300) - Nanos(1)), 200e6);
        assert_eq!(d.level(Nanos::from_millis(1300)), 300e6);
        // 1050 + 250 = 1300 ms, on a tick: noticed then.
        d.observe(&at_ms(2, 1050));
        assert_eq!(d.deadline(), Some(Nanos::from_millis(1300)));
        // One nanosecond after a tick waits for the whole next one.
        d.observe(&Heartbeat {
            seq: 3,
            recv: Nanos::from_millis(1050) + Nanos(1),
            send: None,
        });
        assert_eq!(d.deadline(), Some(Nanos::from_millis(1400)));
        // check 0 is the continuous monitor.
        let mut c = Tuned::new(Fixed::new().checked(Check::every(Nanos::ZERO)), 250e6);
        c.observe(&at_ms(1, 1000));
        assert_eq!(c.deadline(), Some(Nanos::from_millis(1250)));
    }

    /// Receipts at 0, 1000, 2300, 3350 and 4600 ms, timeout 1 s, checks every 500 ms:
    /// deadlines 1000 (on a tick; the receipt at 1000 ms is at the deadline, no
    /// mistake), 2000 (mistake, 300 ms), 3300 → 3500 (the receipt at 3350 ms is in
    /// time), 4350 → 4500 (mistake, 100 ms), 5600 → 6000. Continuously: 3 mistakes and
    /// 600 ms.
    #[test]
    fn check_in_a_replay_by_hand() {
        use crate::replay::{Options, replay_detector, replay_family};
        let mut b = crate::trace::TraceBuilder::new(false);
        for (i, ms) in [0, 1000, 2300, 3350, 4600].into_iter().enumerate() {
            b.push(i as u64 + 1, None, Some(Nanos::from_millis(ms))).unwrap();
        }
        let r = b
            .finish(Some((Nanos::from_millis(1000), crate::trace::IntervalSource::Given)))
            .unwrap()
            .accepted();
        let opts = Options {
            warmup: 0,
            deadline: Nanos::SECOND,
        };
        let checked = Fixed::new().checked(Check::every(Nanos::from_millis(500)));
        let m = replay_detector(&r, &mut Tuned::new(checked.clone(), 1e9), &opts).unwrap();
        assert_eq!(m.mistakes, 2);
        assert_eq!(m.suspect_time, Nanos::from_millis(400));
        // T_D = τ_j - a_j: 1000, 1000, 1200, 1150, 1400 ms.
        assert_eq!(m.detection.mean_ns, 1150e6);
        assert_eq!(m.detection.p50, Nanos::from_millis(1150));
        assert_eq!(m.detection.max, Nanos::from_millis(1400));
        assert_eq!(m.detection.completeness, 0.4);
        let family = replay_family(
            &r,
            &|| Box::new(EstimatorFamily::new(checked.clone(), &[1e9, 0.0])),
            &opts,
        )
        .unwrap();
        assert_eq!(family[0], m);
        let continuous = replay_detector(&r, &mut Tuned::new(Fixed::new(), 1e9), &opts).unwrap();
        assert_eq!(continuous.mistakes, 3);
        assert_eq!(continuous.suspect_time, Nanos::from_millis(600));
    }
}

//! `nfd-s` — Chen's NFD-S, for synchronized clocks (knob `delta`).
//!
//! The monitor knows when each heartbeat was sent: heartbeat `i` is sent at `σ_i` (the
//! trace's `send_ns`, the sender's timestamp carried in the heartbeat, on a clock
//! synchronized with the monitor's). Its **freshness point** is `τ_i = σ_i + δ`. At
//! time `t` in `[τ_i, τ_{i+1})` the monitor trusts the process iff it has received a
//! heartbeat with sequence number `>= i`. With exactly periodic sends,
//! `σ_{i+1} = σ_i + η`, so after accepted receipt `j` the monitor trusts until the
//! freshness point of the next heartbeat:
//!
//! `τ_j = send(s_j) + η + δ`,
//!
//! a timeout-style deadline (base `send(s_j) + η`, shift `δ`), which may lie at or
//! before the receipt when heartbeat `s_j` took longer than `η + δ`. The level is the
//! time past `send(s_j) + η`, in nanoseconds; the detector suspects once it reaches `δ`.
//!
//! Its QoS has closed forms for i.i.d. delays and independent losses (Chen, Toueg,
//! Aguilera, "On the Quality of Service of Failure Detectors", IEEE Transactions on
//! Computers 51(5), 2002, §4: Theorem 5 and its corollaries), among them the bound
//! `T_D <= δ + η` on every crash; `tests/it/nfd_s.rs` holds the engine to them.
//!
//! On a trace without send times the detector cannot run: the commands say so before
//! replaying (a heartbeat without a send time leaves it without a deadline).
//!
//! With `check = Δc > 0` the monitor looks only at the integer multiples of `Δc` on its
//! clock: the deadline is rounded up to the next tick, `⌈τ / Δc⌉·Δc`, and the level is
//! the one at the last tick (detectors.md, `check`).

use crate::detector::registry::{CHECK, Definition, Param};
use crate::detector::{Check, Estimator, EstimatorFamily, Form, Tuned, shifted_deadline};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// NFD-S's state: the send time of the last accepted heartbeat and the nominal interval.
#[derive(Clone, Debug)]
pub struct NfdS {
    eta: Nanos,
    last_send: Option<Nanos>,
    check: Check,
}

impl NfdS {
    /// A detector for heartbeats sent every `eta`, that has seen none.
    pub fn new(eta: Nanos) -> Self {
        NfdS {
            eta,
            last_send: None,
            check: Check::default(),
        }
    }

    /// The same detector on a monitor that checks at the ticks of `check`.
    pub fn checked(self, check: Check) -> Self {
        NfdS { check, ..self }
    }

    fn base_time(&self) -> Option<i64> {
        self.last_send.map(|s| s.0.saturating_add(self.eta.0))
    }
}

impl Estimator for NfdS {
    /// `δ` in whole nanoseconds.
    type Knob = Nanos;

    fn prepare(&self, knob: f64) -> Nanos {
        Nanos::ceil_f64(knob)
    }

    fn observe(&mut self, hb: &Heartbeat) {
        self.last_send = hb.send;
    }

    fn level(&self, now: Nanos) -> f64 {
        match self.base_time() {
            Some(b) => (i128::from(self.check.floor(now).0) - i128::from(b)) as f64,
            None => f64::NEG_INFINITY,
        }
    }

    fn deadline(&self, delta: &Nanos) -> Option<Nanos> {
        self.check.deadline(shifted_deadline(self.base_time()?, delta.0))
    }

    fn form(&self) -> Form<'_> {
        Form::Shifted {
            base: self.base_time(),
            check: self.check,
        }
    }
}

/// `nfd-s` in the registry.
pub const DEFINITION: Definition = Definition {
    name: "nfd-s",
    summary: "Chen's NFD-S (synchronized clocks): trust until the next heartbeat's send time + eta + delta; needs send times",
    source: "Chen, Toueg, Aguilera, On the QoS of failure detectors, IEEE ToC 51(5), 2002",
    params: &[CHECK],
    knob: Some(
        Param::duration(
            "delta",
            100e6,
            "time past the next heartbeat's send time + eta at which to suspect",
        )
        .swept(0.0, 2e9, 10e6),
    ),
    knob_independent: true,
    needs_send_times: true,
    weight: 1,
    window: |_| 1,
    detector: |c, eta, knob| Box::new(Tuned::new(NfdS::new(eta).checked(c.check()), knob)),
    family: |c, eta, knobs| Box::new(EstimatorFamily::new(NfdS::new(eta).checked(c.check()), knobs)),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::{Detector, Tuned};

    fn hb(seq: u64, send_ms: i64, recv_ms: i64) -> Heartbeat {
        Heartbeat {
            seq,
            recv: Nanos::from_millis(recv_ms),
            send: Some(Nanos::from_millis(send_ms)),
        }
    }

    #[test]
    fn a_checking_monitor_notices_the_freshness_point_at_its_next_tick() {
        // Freshness point 1000 + 100 + 30 = 1130 ms; ticks every 50 ms: 1150 ms.
        let check = Check::every(Nanos::from_millis(50));
        let mut d = Tuned::new(NfdS::new(Nanos::from_millis(100)).checked(check), 30e6);
        d.observe(&hb(1, 1000, 1012));
        assert_eq!(d.deadline(), Some(Nanos::from_millis(1150)));
        assert!(d.level(Nanos::from_millis(1150) - Nanos(1)) < d.threshold());
        assert!(d.level(Nanos::from_millis(1150)) >= d.threshold());
        // δ = 20 ms puts the freshness point, 1120 ms, on a tick of 40 ms.
        let check = Check::every(Nanos::from_millis(40));
        let mut d = Tuned::new(NfdS::new(Nanos::from_millis(100)).checked(check), 20e6);
        d.observe(&hb(1, 1000, 1012));
        assert_eq!(d.deadline(), Some(Nanos::from_millis(1120)));
    }

    #[test]
    fn deadline_is_the_next_freshness_point() {
        // η = 100 ms, δ = 30 ms: heartbeat 1 sent at 1000 is fresh until 1000 + 100 + 30.
        let mut d = Tuned::new(NfdS::new(Nanos::from_millis(100)), 30e6);
        assert_eq!(d.deadline(), None);
        d.observe(&hb(1, 1000, 1012));
        assert_eq!(d.deadline(), Some(Nanos::from_millis(1130)));
        assert_eq!(d.level(Nanos::from_millis(1120)), 20e6);
        assert!(d.level(Nanos::from_millis(1130)) >= d.threshold());
        assert!(d.level(Nanos::from_millis(1130) - Nanos(1)) < d.threshold());
        // A heartbeat delayed by more than η + δ arrives after its own deadline.
        d.observe(&hb(2, 1100, 1240));
        assert_eq!(d.deadline(), Some(Nanos::from_millis(1230)));
        // Without a send time there is no deadline.
        d.observe(&Heartbeat {
            seq: 3,
            recv: Nanos::from_millis(1300),
            send: None,
        });
        assert_eq!(d.deadline(), None);
    }
}

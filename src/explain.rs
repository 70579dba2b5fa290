//! Why a detector suspected: each mistake of one detector setting on a trace, with what
//! the detector knew at the receipt before it.
//!
//! A mistake is an S-transition of the evaluated span exactly as [evaluation.md](crate::docs::evaluation) §3 counts
//! them: gap `j` (between accepted receipts `a_j` and `a_{j+1}`) is suspected when
//! `τ_j < a_{j+1}`, from `max(a_j, τ_j)`; it starts a new mistake when `τ_j > a_j`, when
//! it is the first evaluated gap (the evaluated span starts in trust), or when the gap
//! before it ended in trust (`τ_{j-1} >= a_j`); otherwise the late receipt `a_j` did not
//! restore trust and the suspicion goes on as the same mistake. Each [`Mistake`] carries
//! the receipt after which it began, the deadline then, the gap, the heartbeats missing
//! in it, the detector's state after that receipt ([`Detector::state`]) and its level
//! when the next heartbeat came.

use crate::detector::Detector;
use crate::replay::{ReplayError, evaluated_length};
use crate::time::Nanos;
use crate::trace::Receipts;

/// One mistake of a detector on a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Mistake {
    /// Index `j` of the accepted receipt after which the suspicion began.
    pub index: usize,
    /// Its sequence number `s_j`.
    pub seq: u64,
    /// Its receipt time `a_j`.
    pub receipt: Nanos,
    /// The deadline `τ_j` set after it.
    pub deadline: Nanos,
    /// The next accepted receipt `a_{j+1}`: the gap is `a_{j+1} - a_j`.
    pub next_receipt: Nanos,
    /// Its sequence number `s_{j+1}`.
    pub next_seq: u64,
    /// The detector's level at `a_{j+1}` with the state after `a_j` (how far past its
    /// threshold the late heartbeat found it), in the knob's unit.
    pub level_at_next: f64,
    /// First instant of suspicion, `max(a_j, τ_j)`.
    pub start: Nanos,
    /// The receipt that restored trust (or the end of the evaluated span).
    pub end: Nanos,
    /// Late receipts during the suspicion that did not restore trust.
    pub late_receipts: usize,
    /// The detector's state after `a_j` ([`Detector::state`]).
    pub state: Vec<(&'static str, f64)>,
}

impl Mistake {
    /// The gap `a_{j+1} - a_j`.
    pub fn gap(&self) -> Nanos {
        self.next_receipt - self.receipt
    }

    /// Heartbeats not received (lost, or stale) between `s_j` and `s_{j+1}`.
    pub fn missing(&self) -> u64 {
        self.next_seq - self.seq - 1
    }

    /// How long the suspicion lasted, `end - start`.
    pub fn duration(&self) -> Nanos {
        self.end - self.start
    }
}

/// The mistakes of `detector` on `receipts` after `warmup` training receipts, in order.
pub fn mistakes(receipts: &Receipts, detector: &mut dyn Detector, warmup: usize) -> Result<Vec<Mistake>, ReplayError> {
    evaluated_length(receipts, warmup)?;
    let a = &receipts.recv;
    let m = a.len();
    let mut out: Vec<Mistake> = Vec::new();
    // Whether the gap before the current one ended in trust.
    let mut prev_trust = true;
    for j in 0..m - 1 {
        detector.observe(&receipts.heartbeat(j));
        if j < warmup {
            continue;
        }
        let tau = detector.deadline().unwrap_or(Nanos::MAX);
        let next = a[j + 1];
        let suspected = tau < next;
        if suspected {
            if tau > a[j] || j == warmup || prev_trust {
                out.push(Mistake {
                    index: j,
                    seq: receipts.seq[j],
                    receipt: a[j],
                    deadline: tau,
                    next_receipt: next,
                    next_seq: receipts.seq[j + 1],
                    level_at_next: detector.level(next),
                    start: a[j].max(tau),
                    end: next,
                    late_receipts: 0,
                    state: detector.state(),
                });
            } else if let Some(last) = out.last_mut() {
                last.end = next;
                last.late_receipts += 1;
            }
        }
        prev_trust = !suspected;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::fixed::Fixed;
    use crate::detector::phi::Phi;
    use crate::detector::{Detector, Tuned};
    use crate::replay::{Options, replay_detector};
    use crate::trace::{IntervalSource, TraceBuilder};

    fn receipts(rows: &[(u64, i64)]) -> Receipts {
        let mut b = TraceBuilder::new(false);
        for &(s, r) in rows {
            b.push(s, None, Some(Nanos(r))).unwrap();
        }
        b.finish(Some((Nanos(100), IntervalSource::Metadata)))
            .unwrap()
            .accepted()
    }

    fn fixed(timeout: f64) -> Tuned<Fixed> {
        Tuned::new(Fixed::new(), timeout)
    }

    #[test]
    fn each_late_gap_of_a_fixed_timeout_is_one_mistake() {
        // Gaps 100, 250 (seq 3 lost), 100, 180, 100 with timeout 150: mistakes in the
        // 250 and the 180 gaps.
        let r = receipts(&[(1, 0), (2, 100), (4, 350), (5, 450), (6, 630), (7, 730)]);
        let ms = mistakes(&r, &mut fixed(150.0), 1).unwrap();
        assert_eq!(ms.len(), 2);
        let m = &ms[0];
        assert_eq!((m.index, m.seq, m.next_seq, m.missing()), (1, 2, 4, 1));
        assert_eq!(
            (m.receipt, m.deadline, m.start, m.end),
            (Nanos(100), Nanos(250), Nanos(250), Nanos(350))
        );
        assert_eq!((m.gap(), m.duration(), m.late_receipts), (Nanos(250), Nanos(100), 0));
        // fixed's level is the time since the last receipt.
        assert_eq!(m.level_at_next, 250.0);
        assert!(m.state.is_empty());
        let m = &ms[1];
        assert_eq!(
            (m.seq, m.receipt, m.deadline, m.end, m.missing()),
            (5, Nanos(450), Nanos(600), Nanos(630), 0)
        );
        // The warm-up hides the first gap; the count agrees with the replay engine.
        let metrics = replay_detector(
            &r,
            &mut fixed(150.0),
            &Options {
                warmup: 1,
                deadline: Nanos(1000),
            },
        )
        .unwrap();
        assert_eq!(metrics.mistakes, 2);
        assert_eq!(mistakes(&r, &mut fixed(150.0), 2).unwrap().len(), 1);
    }

    #[test]
    fn a_late_receipt_that_does_not_restore_trust_extends_the_same_mistake() {
        // A detector whose deadline is at or before each receipt after the first: once it
        // suspects it never trusts again, one mistake to the end.
        struct Stubborn {
            last: Nanos,
            first: bool,
        }
        impl Detector for Stubborn {
            fn observe(&mut self, hb: &crate::trace::Heartbeat) {
                self.first = self.last == Nanos::ZERO;
                self.last = hb.recv;
            }
            fn deadline(&self) -> Option<Nanos> {
                Some(if self.first { self.last + Nanos(50) } else { self.last })
            }
            fn level(&self, _now: Nanos) -> f64 {
                1.0
            }
            fn threshold(&self) -> f64 {
                1.0
            }
        }
        let r = receipts(&[(1, 10), (2, 110), (3, 210), (4, 310)]);
        // (warm-up, expected (start, end, late receipts)). With warm-up 1 the evaluation
        // starts inside the suspicion: the span starts in trust, so the suspicion in
        // progress at a_1 is one mistake starting at a_1.
        for (warmup, expected) in [(0, (Nanos(60), Nanos(310), 2)), (1, (Nanos(110), Nanos(310), 1))] {
            let mut d = Stubborn {
                last: Nanos::ZERO,
                first: false,
            };
            let ms = mistakes(&r, &mut d, warmup).unwrap();
            assert_eq!(ms.len(), 1);
            assert_eq!((ms[0].start, ms[0].end, ms[0].late_receipts), expected);
        }
    }

    #[test]
    fn phi_reports_its_distribution_at_the_receipt_before_the_mistake() {
        // Intervals 100, 100, 100, 100 then a 400 gap: mean 100, std 0 floored to 10.
        let r = receipts(&[(1, 0), (2, 100), (3, 200), (4, 300), (5, 400), (9, 800)]);
        let mut d = Tuned::new(Phi::new(Nanos(100), 10, Nanos(10)), 8.0);
        let ms = mistakes(&r, &mut d, 1).unwrap();
        assert_eq!(ms.len(), 1);
        let m = &ms[0];
        assert_eq!((m.seq, m.next_seq, m.missing()), (5, 9, 3));
        assert_eq!(m.state, vec![("mean_ns", 100.0), ("std_ns", 10.0), ("window", 4.0)]);
        // z(8) = 5.612: the deadline is 400 + 100 + 10 * 5.612 rounded up.
        assert_eq!(m.deadline, Nanos(557));
        // At 800, y = (400 - 100) / 10 = 30 deviations: -log10 of the normal tail
        // φ(30)/30 · (1 - 1/30² + 3/30⁴ - 15/30⁶) = 195.832 + 1.477 + 0.000481 = 197.30921.
        assert!((m.level_at_next - 197.30921).abs() < 1e-5, "{}", m.level_at_next);
    }

    #[test]
    fn a_too_short_trace_is_an_error() {
        let r = receipts(&[(1, 0), (2, 100)]);
        assert!(mistakes(&r, &mut fixed(10.0), 1).is_err());
    }
}

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
//! in it, the detector's state after that receipt ([`Detector::state`]), its level
//! when the next heartbeat came (φ for the accrual detectors), and the mean and standard
//! deviation of the trace's intervals the detector saw last ([`Intervals`]: as many as
//! its window holds, or the warm-up's for a detector without a window), so that every
//! detector shows the same figures whether or not its estimator keeps them.

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
    /// The last intervals between accepted receipts up to `a_j`.
    pub intervals: Intervals,
}

/// The mean and population standard deviation of the last `count` intervals between
/// accepted receipts (`count` the detector's window fill, its `window` state, or the
/// warm-up's length for a detector without one; fewer at the start of the trace).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Intervals {
    /// How many intervals.
    pub count: usize,
    /// Their mean, in nanoseconds (0 when there are none).
    pub mean_ns: f64,
    /// Their population standard deviation, in nanoseconds.
    pub std_ns: f64,
}

/// Exact running sums of the intervals between accepted receipts and of their squares:
/// entry `j` covers the intervals up to receipt `j`.
struct IntervalSums {
    s1: Vec<i128>,
    s2: Vec<i128>,
}

impl IntervalSums {
    fn new(a: &[Nanos]) -> Self {
        let (mut s1, mut s2) = (Vec::with_capacity(a.len()), Vec::with_capacity(a.len()));
        let (mut t1, mut t2) = (0i128, 0i128);
        for j in 0..a.len() {
            if j > 0 {
                let x = i128::from(a[j].0) - i128::from(a[j - 1].0);
                t1 += x;
                t2 += x * x;
            }
            s1.push(t1);
            s2.push(t2);
        }
        IntervalSums { s1, s2 }
    }

    /// The last `count` intervals up to receipt `j` (at most `j`).
    fn last(&self, j: usize, count: usize) -> Intervals {
        let n = count.min(j);
        if n == 0 {
            return Intervals {
                count: 0,
                mean_ns: 0.0,
                std_ns: 0.0,
            };
        }
        let (s1, s2) = (self.s1[j] - self.s1[j - n], self.s2[j] - self.s2[j - n]);
        let n128 = n as i128;
        // n² var = n·Σx² - (Σx)², exact.
        let scaled = (n128 * s2 - s1 * s1).max(0) as f64;
        Intervals {
            count: n,
            mean_ns: s1 as f64 / n as f64,
            std_ns: scaled.sqrt() / n as f64,
        }
    }
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
    let sums = IntervalSums::new(a);
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
                let state = detector.state();
                let fill = state.iter().find(|(k, _)| *k == "window").map(|&(_, v)| v as usize);
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
                    intervals: sums.last(j, fill.unwrap_or(warmup.max(1))),
                    state,
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

    /// Receipts every `unit`·(0.9, 1.1, ...) from `10·unit` (seq 1 to 7, each sent
    /// 0.2·unit before), then a gap of 300 units to seq 307.
    fn alternating(unit: i64) -> Receipts {
        let mut b = TraceBuilder::new(true);
        let at = [0, 9, 20, 29, 40, 49, 60];
        for (i, &t) in at.iter().enumerate() {
            let seq = i as u64 + 1;
            b.push(
                seq,
                Some(Nanos(unit * (8 + 10 * i as i64))),
                Some(Nanos(unit * (10 + t))),
            )
            .unwrap();
        }
        b.push(307, Some(Nanos(unit * 3068)), Some(Nanos(unit * 3070))).unwrap();
        b.finish(Some((Nanos(unit * 10), IntervalSource::Metadata)))
            .unwrap()
            .accepted()
    }

    /// The mistake after receipt 6 (the long gap) of `spec` with warm-up 5.
    fn long_gap(spec: &str, unit: i64) -> Mistake {
        let s = crate::detector::spec::tests::one(spec);
        let r = alternating(unit);
        let mut d = s.config.detector(r.interval, s.knob_values[0]);
        let ms = mistakes(&r, d.as_mut(), 5).unwrap();
        ms.into_iter()
            .find(|m| m.index == 6)
            .unwrap_or_else(|| panic!("{spec}: no mistake after receipt 6"))
    }

    fn state(m: &Mistake, name: &str) -> Option<f64> {
        m.state.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }

    #[test]
    fn every_family_shows_the_mean_and_deviation_of_the_intervals_it_saw() {
        const MS: f64 = 1e6;
        // Up to receipt 6 the intervals are 90, 110, 90, 110, 90, 110 ms. A window of 4
        // holds 90, 110, 90, 110: mean 100 ms and, exactly, n²·var = 4·40400 - 400² =
        // 1600 ms², std 10 ms. Without a window, the warm-up's 5: 110, 90, 110, 90, 110,
        // mean 102 ms, n²·var = 5·52500 - 510² = 2400 ms², std √96 ms.
        let windowed = Intervals {
            count: 4,
            mean_ns: 100.0 * MS,
            std_ns: 10.0 * MS,
        };
        let unwindowed = Intervals {
            count: 5,
            mean_ns: 102.0 * MS,
            std_ns: 2400f64.sqrt() * MS / 5.0,
        };
        for (spec, expected) in [
            ("fixed", unwindowed),
            ("nfd-s", unwindowed),
            ("etcd", unwindowed),
            ("chen:window=4", windowed),
            ("bertier:window=4", windowed),
            ("2w:n1=4", windowed),
            ("phi:window=4", windowed),
            ("akka:window=4,pause=0s,min_std=1ms,first_estimate=100ms", windowed),
            ("exp-phi:window=4", windowed),
            ("satzger:window=4", windowed),
        ] {
            let m = long_gap(spec, 10_000_000);
            assert_eq!(m.intervals, expected, "{spec}");
            assert_eq!(
                (m.receipt, m.next_receipt),
                (Nanos(700_000_000), Nanos(30_700_000_000)),
                "{spec}"
            );
            if expected.count == 4 {
                assert_eq!(state(&m, "window"), Some(4.0), "{spec}");
            }
        }
        // phi and exp-phi hold the same intervals: their own mean agrees, and phi's
        // deviation (population, as here).
        for spec in ["phi:window=4", "exp-phi:window=4"] {
            assert_eq!(
                state(&long_gap(spec, 10_000_000), "mean_ns"),
                Some(100.0 * MS),
                "{spec}"
            );
        }
        let std = state(&long_gap("phi:window=4", 10_000_000), "std_ns").unwrap();
        assert!((std - 10.0 * MS).abs() < 1e-6, "{std}");
        // The presets of the 1 s heartbeat on the same trace at 10x: cassandra (exp-phi,
        // window 1000) and akka-cluster (akka, window 1000) have seen 6 intervals, 0.9 s
        // and 1.1 s alternating: mean 1 s, n²·var = 6·6.06 - 6² = 0.36 s², std 100 ms.
        // Their own windows hold more: cassandra's starts with its initial 2 s (7
        // samples, mean 8/7 s), akka-cluster's with first_estimate -/+ a quarter (750 and
        // 1250 ms: 8 samples, mean 1 s).
        for (spec, window, mean) in [("cassandra", 7.0, 8e9 / 7.0), ("akka-cluster", 8.0, 1e9)] {
            let m = long_gap(spec, 100_000_000);
            assert_eq!((m.intervals.count, m.intervals.mean_ns), (6, 1000.0 * MS), "{spec}");
            assert!(
                (m.intervals.std_ns - 100.0 * MS).abs() < 1e-3,
                "{spec}: {:?}",
                m.intervals
            );
            assert_eq!(state(&m, "window"), Some(window), "{spec}");
            assert_eq!(state(&m, "mean_ns"), Some(mean), "{spec}");
        }
    }

    #[test]
    fn a_too_short_trace_is_an_error() {
        let r = receipts(&[(1, 0), (2, 100)]);
        assert!(mistakes(&r, &mut fixed(10.0), 1).is_err());
    }
}

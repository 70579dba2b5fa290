//! Hand-computed golden cases for the exact replay engine: tiny traces whose every
//! metric is worked out by hand below, one per edge case of evaluation.md §2–§4.

use fdbench::Nanos;
use fdbench::detector::{Detector, Family, IndependentFamily};
use fdbench::metrics::{Metrics, Origin};
use fdbench::replay::{self, Options, ReplayError};
use fdbench::trace::{Heartbeat, Receipts, TraceBuilder};

const MS: i64 = 1_000_000;

/// A detector whose deadlines are given in advance, one per heartbeat.
struct Scripted {
    deadlines: Vec<Option<i64>>,
    next: usize,
    current: Option<Nanos>,
    last: Nanos,
}

impl Scripted {
    fn new(deadlines_ms: &[Option<i64>]) -> Self {
        Scripted {
            deadlines: deadlines_ms.iter().map(|d| d.map(|x| x * MS)).collect(),
            next: 0,
            current: None,
            last: Nanos::ZERO,
        }
    }
}

impl Detector for Scripted {
    fn observe(&mut self, hb: &Heartbeat) {
        self.current = self.deadlines[self.next].map(Nanos);
        self.next += 1;
        self.last = hb.recv;
    }
    fn deadline(&self) -> Option<Nanos> {
        self.current
    }
    fn level(&self, now: Nanos) -> f64 {
        match self.current {
            Some(d) if now >= d => 1.0,
            _ => 0.0,
        }
    }
    fn threshold(&self) -> f64 {
        1.0
    }
}

/// Receipts from `(seq, send_ms, recv_ms)` rows (send optional for the whole trace).
fn receipts(rows: &[(u64, Option<i64>, Option<i64>)]) -> Receipts {
    let with_send = rows.iter().any(|r| r.1.is_some());
    let mut b = TraceBuilder::new(with_send);
    for &(s, se, r) in rows {
        b.push(s, se.map(|x| Nanos(x * MS)), r.map(|x| Nanos(x * MS))).unwrap();
    }
    b.finish(Some((Nanos(100 * MS), fdbench::trace::IntervalSource::Given)))
        .unwrap()
        .accepted()
}

fn fixed(timeout_ms: i64) -> Box<dyn Detector> {
    fdbench::detector::Config::named("fixed")
        .unwrap()
        .detector(Nanos(100 * MS), (timeout_ms * MS) as f64)
}

fn both(r: &Receipts, make: impl Fn() -> Box<dyn Detector>, opts: &Options) -> Metrics {
    let single = replay::replay_detector(r, make().as_mut(), opts).unwrap();
    let multi = replay::replay_family(
        r,
        &|| Box::new(IndependentFamily::new(vec![make()])) as Box<dyn Family>,
        opts,
    )
    .unwrap();
    assert_eq!(multi, vec![single], "family path and single path disagree");
    single
}

fn ms(x: f64) -> f64 {
    x * MS as f64
}

#[test]
fn fixed_timeout_with_two_late_heartbeats() {
    // Receipts at 0,100,200,350,400,700,800,810,900,1000 ms; timeout 120 ms; warm-up 1.
    // Gaps 1..8: gap 2 (200 -> 350) suspects on [320,350): 30 ms; gap 4 (400 -> 700)
    // on [520,700): 180 ms. Mistakes 2, S_time 210 ms, L = 900 ms.
    let recv = [0, 100, 200, 350, 400, 700, 800, 810, 900, 1000];
    let rows: Vec<_> = recv
        .iter()
        .enumerate()
        .map(|(i, &r)| (i as u64 + 1, None, Some(r)))
        .collect();
    let r = receipts(&rows);
    let opts = Options {
        warmup: 1,
        deadline: Nanos(100 * MS),
    };
    let m = both(&r, || fixed(120), &opts);
    assert_eq!(m.heartbeats, 9);
    assert_eq!(m.evaluated, Nanos(900 * MS));
    assert_eq!(m.mistakes, 2);
    assert_eq!(m.suspect_time, Nanos(210 * MS));
    assert!((m.query_accuracy() - (1.0 - 210.0 / 900.0)).abs() < 1e-15);
    assert!((m.mistake_rate_per_h() - 2.0 / 0.9 * 3600.0).abs() < 1e-9);
    assert_eq!(m.mistake_duration_mean(), Some(ms(105.0)));
    assert_eq!(m.mistake_recurrence_mean(), Some(ms(450.0)));
    assert_eq!(m.good_period_mean(), Some(ms(345.0)));
    // Without send times, T_D = max(a_j, τ_j) - a_j = 120 ms for every crash point.
    assert_eq!(m.detection.origin, Origin::Receipt);
    assert_eq!(m.detection.mean_ns, ms(120.0));
    assert_eq!(
        (m.detection.p50, m.detection.p99, m.detection.max),
        (Nanos(120 * MS), Nanos(120 * MS), Nanos(120 * MS))
    );
    assert_eq!(m.detection.completeness, 0.0, "no crash detected within 100 ms");
    let m = both(
        &r,
        || fixed(120),
        &Options {
            warmup: 1,
            deadline: Nanos(120 * MS),
        },
    );
    assert_eq!(m.detection.completeness, 1.0, "T_D <= D counts");
}

#[test]
fn every_edge_case_of_the_deadline() {
    // Receipts every 100 ms from 0 to 900, sent 10 ms earlier; warm-up 1.
    // τ (ms) after each receipt and what gap j = 1..8 does:
    //  j=0: 150  (warm-up; gap 0 ends in trust)
    //  j=1: 180  suspect [180,200) 20 ms, a mistake
    //  j=2: 200  deadline at the receipt: trust not restored, suspect [200,300) 100 ms,
    //            merged with gap 1 (gap 1 ended in suspicion): no new mistake
    //  j=3: 400  the next receipt arrives exactly at the deadline: not a mistake
    //  j=4: 390  deadline before the receipt, but gap 3 ended in trust: a mistake, [400,500)
    //  j=5: never
    //  j=6,7,8: 650, 750, 850: 50 ms each, three mistakes
    //  j=9: never (crash point only)
    let tau = [
        Some(150),
        Some(180),
        Some(200),
        Some(400),
        Some(390),
        None,
        Some(650),
        Some(750),
        Some(850),
        None,
    ];
    let rows: Vec<_> = (0..10)
        .map(|i| (i as u64 + 1, Some(i * 100 - 10 + 10 * i64::from(i == 0)), Some(i * 100)))
        .collect();
    let r = receipts(&rows);
    let opts = Options {
        warmup: 1,
        deadline: Nanos(60 * MS),
    };
    let m = both(&r, || Box::new(Scripted::new(&tau)), &opts);
    assert_eq!(m.mistakes, 5);
    assert_eq!(m.suspect_time, Nanos(370 * MS));
    assert_eq!(m.evaluated, Nanos(800 * MS));
    // T_D = max(a_j, τ_j) - send_j for j = 1..9: 90, 10, 110, 10, inf, 60, 60, 60, inf.
    assert_eq!(m.detection.origin, Origin::Send);
    assert_eq!(m.detection.mean_ns, f64::INFINITY);
    assert_eq!(m.detection.p50, Nanos(60 * MS), "5th of 9 sorted");
    assert_eq!(m.detection.p99, Nanos::MAX, "9th of 9 is infinite");
    assert_eq!(m.detection.max, Nanos::MAX);
    assert_eq!(m.detection.completeness, 5.0 / 9.0);
    let susp = replay::suspicions(&r, &replay::deadlines(&r, &mut Scripted::new(&tau)));
    let spans: Vec<(i64, i64)> = susp.iter().map(|s| (s.start.0 / MS, s.end.0 / MS)).collect();
    assert_eq!(spans, vec![(180, 300), (400, 500), (650, 700), (750, 800), (850, 900)]);
}

#[test]
fn zero_timeout_suspects_from_every_receipt_without_new_mistakes() {
    // τ_j = a_j: trust is never restored. Gap 0 (warm-up) ended in suspicion, so the
    // evaluated gaps continue one suspicion period: no S-transition at all, P_A = 0.
    let rows: Vec<_> = (0..10).map(|i| (i as u64 + 1, None, Some(i * 100))).collect();
    let r = receipts(&rows);
    let m = both(
        &r,
        || fixed(0),
        &Options {
            warmup: 1,
            deadline: Nanos::SECOND,
        },
    );
    assert_eq!(m.mistakes, 0);
    assert_eq!(m.suspect_time, Nanos(800 * MS));
    assert_eq!(m.query_accuracy(), 0.0);
    assert_eq!(m.mistake_duration_mean(), None);
    assert_eq!(m.detection.max, Nanos::ZERO);
    // With warm-up 0 the first gap starts from trust: exactly one mistake.
    let m = both(
        &r,
        || fixed(0),
        &Options {
            warmup: 0,
            deadline: Nanos::SECOND,
        },
    );
    assert_eq!(m.mistakes, 1);
    assert_eq!(m.suspect_time, Nanos(900 * MS));
}

#[test]
fn reordered_receipts_are_stale_and_skipped() {
    // seq 3 arrives at 250 after seq 4 at 220: stale. seq 6 is lost.
    // Accepted: 0(1) 100(2) 220(4) 300(5) 500(7) 600(8) 700(9); timeout 150, warm-up 1.
    // Gaps 1..5: 100->220 no; 220->300 no; 300->500 suspect [450,500) 50 ms; 500->600 no; 600->700 no.
    let rows = [
        (1, None, Some(0)),
        (2, None, Some(100)),
        (3, None, Some(250)),
        (4, None, Some(220)),
        (5, None, Some(300)),
        (6, None, None),
        (7, None, Some(500)),
        (8, None, Some(600)),
        (9, None, Some(700)),
    ];
    let r = receipts(&rows);
    assert_eq!(r.stale, 1);
    assert_eq!(r.seq, vec![1, 2, 4, 5, 7, 8, 9]);
    let m = both(
        &r,
        || fixed(150),
        &Options {
            warmup: 1,
            deadline: Nanos::SECOND,
        },
    );
    assert_eq!(m.heartbeats, 6);
    assert_eq!(m.mistakes, 1);
    assert_eq!(m.suspect_time, Nanos(50 * MS));
    assert_eq!(m.evaluated, Nanos(600 * MS));
}

#[test]
fn simultaneous_receipts_make_empty_gaps() {
    // Two receipts at the same instant: the gap between them has no length.
    let rows = [
        (1, None, Some(0)),
        (2, None, Some(100)),
        (3, None, Some(100)),
        (4, None, Some(300)),
        (5, None, Some(400)),
    ];
    let r = receipts(&rows);
    let m = both(
        &r,
        || fixed(150),
        &Options {
            warmup: 1,
            deadline: Nanos::SECOND,
        },
    );
    // Gaps: 100->100 none; 100->300 suspect [250,300) 50; 300->400 none.
    assert_eq!(m.mistakes, 1);
    assert_eq!(m.suspect_time, Nanos(50 * MS));
}

#[test]
fn a_trace_shorter_than_the_warmup_is_a_clear_error() {
    let rows: Vec<_> = (0..10).map(|i| (i as u64 + 1, None, Some(i * 100))).collect();
    let r = receipts(&rows);
    let e = replay::replay_detector(
        &r,
        fixed(100).as_mut(),
        &Options {
            warmup: 9,
            deadline: Nanos::SECOND,
        },
    )
    .unwrap_err();
    assert_eq!(
        e,
        ReplayError::TooShort {
            receipts: 10,
            warmup: 9
        }
    );
    assert!(e.to_string().contains("smaller --warmup"), "{e}");
    assert!(
        replay::replay_detector(
            &r,
            fixed(100).as_mut(),
            &Options {
                warmup: 8,
                deadline: Nanos::SECOND
            }
        )
        .is_ok()
    );
}

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
        Self::from_ns(deadlines_ms.iter().map(|d| d.map(|x| x * MS)).collect())
    }

    /// Deadlines given in nanoseconds.
    fn from_ns(deadlines: Vec<Option<i64>>) -> Self {
        Scripted {
            deadlines,
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
    // The same trace from time 0, and from just past 2^53 ns (9 007 199 255 ms), where
    // the replay takes its integer pass: the same metrics.
    for off in [0, 9_007_199_255] {
        let rows: Vec<_> = (0..10)
            .map(|i| {
                let send = i * 100 - 10 + 10 * i64::from(i == 0);
                (i as u64 + 1, Some(off + send), Some(off + i * 100))
            })
            .collect();
        let tau: Vec<Option<i64>> = tau.iter().map(|t| t.map(|t| off + t)).collect();
        let r = receipts(&rows);
        let opts = Options {
            warmup: 1,
            deadline: Nanos(60 * MS),
        };
        let m = both(&r, || Box::new(Scripted::new(&tau)), &opts);
        assert_eq!(m.mistakes, 5, "{off} ms");
        assert_eq!(m.suspect_time, Nanos(370 * MS));
        assert_eq!(m.evaluated, Nanos(800 * MS));
        // T_D = max(0, P_j - send_j) for j = 1..9: 90; 0 (receipt 2 is late and gap 1 ended
        // in suspicion: P_2 = P_1 = 180, before the send at 190); 110; 10 (late, but gap 3
        // ended in trust: P_4 = a_4); inf, 60, 60, 60, inf.
        assert_eq!(m.detection.origin, Origin::Send);
        assert_eq!(m.detection.mean_ns, f64::INFINITY);
        assert_eq!(m.detection.p50, Nanos(60 * MS), "5th of 9 sorted");
        assert_eq!(m.detection.p99, Nanos::MAX, "9th of 9 is infinite");
        assert_eq!(m.detection.max, Nanos::MAX);
        assert_eq!(m.detection.completeness, 5.0 / 9.0);
        let susp = replay::suspicions(&r, &replay::deadlines(&r, &mut Scripted::new(&tau)));
        let spans: Vec<(i64, i64)> = susp
            .iter()
            .map(|s| (s.start.0 / MS - off, s.end.0 / MS - off))
            .collect();
        assert_eq!(
            spans,
            vec![(180, 300), (400, 500), (650, 700), (750, 800), (850, 900)],
            "{off}"
        );
    }
}

#[test]
fn zero_timeout_suspects_from_every_receipt_with_one_mistake() {
    // τ_j = a_j: trust is never restored. Gap 0 (warm-up) ended in suspicion, but the
    // evaluated span starts in trust: the suspicion in progress at a_1 is one mistake,
    // starting at a_1, and the evaluated gaps continue it. P_A = 0.
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
    assert_eq!(m.mistakes, 1);
    assert_eq!(m.suspect_time, Nanos(800 * MS));
    assert_eq!(m.query_accuracy(), 0.0);
    assert_eq!(m.mistake_duration_mean(), Some(ms(800.0)));
    assert_eq!(m.detection.max, Nanos::ZERO);
    // With warm-up 0 the same: one mistake, over the whole trace.
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

#[test]
fn a_suspicion_in_progress_at_the_end_of_the_warmup_is_a_mistake() {
    // Receipts at 0, 100, 200, 300, 400 ms, no send times; warm-up 2.
    //  j=0: τ 150 (trust through a_1 = 100)
    //  j=1: τ 150: warm-up gap 1 suspects from 150
    //  j=2: τ 180 <= a_2 = 200: the suspicion goes on through gap 2, which is evaluated:
    //       the span starts in trust, so it is a mistake starting at a_2; 100 ms
    //  j=3: τ 350: suspect [350, 400), a mistake; 50 ms
    //  j=4: τ 500 (crash point only)
    // L = 200 ms: 2 mistakes, S_time 150 ms, P_A 0.25, T_M 75 ms.
    // T_D (origin receipt): P_2 = P_1 = 150, so max(0, 150 - 200) = 0; 50; 100.
    let rows: Vec<_> = (0..5).map(|i| (i as u64 + 1, None, Some(i * 100))).collect();
    let r = receipts(&rows);
    let tau = [Some(150), Some(150), Some(180), Some(350), Some(500)];
    let opts = Options {
        warmup: 2,
        deadline: Nanos(60 * MS),
    };
    let m = both(&r, || Box::new(Scripted::new(&tau)), &opts);
    assert_eq!(m.evaluated, Nanos(200 * MS));
    assert_eq!(m.mistakes, 2);
    assert_eq!(m.suspect_time, Nanos(150 * MS));
    assert_eq!(m.query_accuracy(), 0.25);
    assert_eq!(m.mistake_duration_mean(), Some(ms(75.0)));
    assert_eq!(m.detection.origin, Origin::Receipt);
    assert_eq!(m.detection.mean_ns, ms(50.0));
    assert_eq!(
        (m.detection.p50, m.detection.p99, m.detection.max),
        (Nanos(50 * MS), Nanos(100 * MS), Nanos(100 * MS))
    );
    assert_eq!(m.detection.completeness, 2.0 / 3.0);
}

/// The detection statistics: origin, mean, `[p50, p99, max]` in ms, completeness.
fn assert_detection(m: &Metrics, origin: Origin, mean_ms: i64, ranks_ms: [i64; 3], completeness: f64) {
    assert_eq!(m.detection.origin, origin);
    assert_eq!(m.detection.mean_ns, ms(mean_ms as f64));
    assert_eq!(
        [m.detection.p50, m.detection.p99, m.detection.max],
        ranks_ms.map(|x| Nanos(x * MS))
    );
    assert_eq!(m.detection.completeness, completeness);
}

/// A chain of late receipts: `(seq, send, recv)` and the deadline after each, ms.
fn chain_rows(with_send: bool) -> (Receipts, [Option<i64>; 7]) {
    let rows = [
        (0, 10),
        (100, 110),
        (200, 215),
        (300, 420),
        (400, 430),
        (500, 650),
        (600, 700),
    ];
    let rows: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, &(s, r))| (i as u64 + 1, with_send.then_some(s), Some(r)))
        .collect();
    let tau = [
        Some(120),
        Some(220),
        Some(320),
        Some(410),
        Some(425),
        Some(700),
        Some(800),
    ];
    (receipts(&rows), tau)
}

#[test]
fn detection_is_measured_to_the_start_of_the_suspicion_that_never_ends() {
    // Warm-up 2. Gaps: 2 (215 -> 420) suspects from 320, a mistake, 100 ms; receipt 3 at
    // 420 is late (τ 410) and so is receipt 4 at 430 (τ 425): gaps 3 and 4 continue the
    // suspicion, 10 + 220 ms, no new mistake; gap 5 (650 -> 700) ends exactly at its
    // deadline: trust. L = 485 ms, 1 mistake, S_time 330 ms.
    // Crash points: P_2 = 320; P_3 = P_2 = 320 (late, gap 2 ended in suspicion);
    // P_4 = P_3 = 320; P_5 = 700; P_6 = 800.
    let opts = Options {
        warmup: 2,
        deadline: Nanos(100 * MS),
    };
    let (r, tau) = chain_rows(true);
    let m = both(&r, || Box::new(Scripted::new(&tau)), &opts);
    assert_eq!(m.evaluated, Nanos(485 * MS));
    assert_eq!(m.mistakes, 1);
    assert_eq!(m.suspect_time, Nanos(330 * MS));
    // With send times: T_D = max(0, P_j - send_j) = 120, 20, 0 (the suspicion began at
    // 320, before heartbeat 5 was sent at 400: detected at once), 200, 200.
    assert_detection(&m, Origin::Send, 108, [120, 200, 200], 0.4);
    // Without: T_D = max(0, P_j - a_j) = 105, 0, 0, 50, 100.
    let (r, tau) = chain_rows(false);
    let m = both(&r, || Box::new(Scripted::new(&tau)), &opts);
    assert_eq!((m.mistakes, m.suspect_time), (1, Nanos(330 * MS)));
    assert_detection(&m, Origin::Receipt, 51, [50, 105, 105], 0.8);
    let starts = replay::permanent_starts(&r.recv, &replay::deadlines(&r, &mut Scripted::new(&tau)));
    let starts: Vec<i64> = starts.iter().map(|p| p.0 / MS).collect();
    assert_eq!(starts, vec![120, 220, 320, 320, 320, 700, 800]);
}

#[test]
fn a_chain_of_late_receipts_from_the_warm_up_reaches_into_the_evaluated_span() {
    // Receipts every 100 ms from 0 to 500, sent at 0, 10, ..., 50 (long delays); warm-up
    // 3. τ after each receipt: 50 (gap 0 suspected from 50), 100 and 150 (at or before
    // their receipts: the suspicion from 50 goes on), 250 (receipt 3, the first evaluated
    // crash point, late too: P_3 = 50), 440, 620 (after their receipts).
    // T_D = max(0, P_j - send_j): 50 - 30 = 20, 440 - 40 = 400, 620 - 50 = 570.
    let m = slow_chain(&[50, 100, 150, 250, 440, 620], 3);
    assert_detection(&m, Origin::Send, 330, [400, 570, 570], 1.0);
}

/// `n` receipts every 100 ms from 0, sent at 0, 10, 20, ... ms (ever longer delays).
fn slow_receipts(n: usize) -> Receipts {
    let rows: Vec<_> = (0..n as i64)
        .map(|i| (i as u64 + 1, Some(i * 10), Some(i * 100)))
        .collect();
    receipts(&rows)
}

/// [`slow_receipts`] with the deadlines `tau_ms`, warm-up `warmup` and D = 1 s, by both
/// paths.
fn slow_chain(tau_ms: &[i64], warmup: usize) -> Metrics {
    let tau: Vec<Option<i64>> = tau_ms.iter().copied().map(Some).collect();
    let opts = Options {
        warmup,
        deadline: Nanos::SECOND,
    };
    both(&slow_receipts(tau.len()), || Box::new(Scripted::new(&tau)), &opts)
}

#[test]
fn a_warm_up_chain_starts_at_a_receipt_after_trust_and_goes_on_through_deadlines_at_receipts() {
    // Receipts every 100 ms from 0 to 700, sent at 0, 10, ..., 70; warm-up 5. τ after each
    // receipt: 150 (gap 0 ends in trust), 100 (at receipt 1, after trust: the suspicion
    // starts at the receipt, P = 100), 200 (at receipt 2, the gap before ended in
    // suspicion: it goes on, P stays 100), 250 and 400 (at or before their receipts: it
    // goes on), 480 (receipt 5, the first evaluated crash point: P_5 = 100), 700 and 910
    // (after their receipts).
    // T_D = max(0, P_j - send_j): 100 - 50 = 50, 700 - 60 = 640, 910 - 70 = 840.
    let m = slow_chain(&[150, 100, 200, 250, 400, 480, 700, 910], 5);
    assert_detection(&m, Origin::Send, 510, [640, 840, 840], 1.0);
}

/// A family that breaks the offsets' contract: its offsets are NaN, not whole nanoseconds,
/// after each of its first `bad` receipts (the true ones after that).
struct NanOffsets {
    inner: IndependentFamily<Box<dyn Detector>>,
    bad: usize,
    seen: usize,
}

impl Family for NanOffsets {
    fn width(&self) -> usize {
        self.inner.width()
    }
    fn observe(&mut self, hb: &Heartbeat) {
        self.seen += 1;
        self.inner.observe(hb)
    }
    fn deadlines(&self, out: &mut [Nanos]) {
        self.inner.deadlines(out)
    }
    fn offsets(&self, last: Nanos, scratch: &mut [Nanos], out: &mut [f64]) {
        self.inner.offsets(last, scratch, out);
        if self.seen <= self.bad {
            out.fill(f64::NAN)
        }
    }
}

#[test]
fn offsets_that_are_not_whole_nanoseconds_leave_the_metrics_to_the_deadlines() {
    // The warm-up chain above, from a family whose offsets are NaN after every receipt, or
    // after those of the warm-up only: the engine's passes in f64 check every offset and
    // give way to the integer pass, which reads the deadlines; the metrics are those of
    // the detector replayed alone.
    let tau = [150, 100, 200, 250, 400, 480, 700, 910].map(Some);
    let r = slow_receipts(tau.len());
    for (warmup, bad) in [(1, 8), (5, 8), (5, 5)] {
        let opts = Options {
            warmup,
            deadline: Nanos::SECOND,
        };
        let single = replay::replay_detector(&r, &mut Scripted::new(&tau), &opts).unwrap();
        let make = || {
            Box::new(NanOffsets {
                inner: IndependentFamily::new(vec![Box::new(Scripted::new(&tau))]),
                bad,
                seen: 0,
            }) as Box<dyn Family>
        };
        let got = replay::replay_family(&r, &make, &opts).unwrap();
        assert_eq!(
            got,
            vec![single],
            "warm-up {warmup}, NaN after the first {bad} receipts"
        );
    }
}

#[test]
fn receipts_far_before_time_0_take_the_integer_pass() {
    // The warm-up chain above, every receipt a few ns off the 100 ms grid, replayed from 0
    // and from about -2^60 ns, where times are 128 ns apart in f64: receipts built by hand
    // (a trace file cannot hold negative times, a library caller can). The metrics are
    // the same, the single path's and the family's.
    let tau_ms = [150, 100, 200, 250, 400, 480, 700, 910];
    let run = |off: i64| {
        let recv: Vec<Nanos> = (0..8).map(|i| Nanos(off + i * 100 * MS + 7 * i)).collect();
        let send: Vec<Nanos> = (0..8).map(|i| Nanos(off + i * 10 * MS + 3 * i)).collect();
        let r = Receipts {
            seq: (1..=8).collect(),
            recv,
            send: Some(send),
            stale: 0,
            interval: Nanos(100 * MS),
        };
        let tau: Vec<Option<i64>> = tau_ms
            .iter()
            .enumerate()
            .map(|(i, &t)| Some(off + t * MS + 7 * i as i64))
            .collect();
        let scripted = || Scripted::from_ns(tau.clone());
        let opts = Options {
            warmup: 5,
            deadline: Nanos::SECOND,
        };
        both(&r, || Box::new(scripted()), &opts)
    };
    let at_0 = run(0);
    assert_eq!(
        at_0.detection.p50,
        Nanos(640 * MS + 24),
        "700 ms + 42 ns - (60 ms + 18 ns)"
    );
    assert_eq!(run(-(1 << 60) - 12_345), at_0);
}

#[test]
fn long_detection_times_over_many_crash_points_sum_exactly() {
    // 6000 receipts every 100 ms, no send times, deadlines 2^42 - 3 - 4j ns after receipt
    // j (1 more than a multiple of 4, just under the size the f64 pass accepts): every
    // gap trusted, and the detection times sum to about 2.6·10^16 ns, past 2^54, where an
    // f64 sum is a multiple of 4 and each of them would be rounded down by 1; the
    // partial sums must go to integers often enough to stay exact.
    let n = 6000i64;
    let rows: Vec<_> = (0..n).map(|i| (i as u64 + 1, None, Some(i * 100))).collect();
    let r = receipts(&rows);
    let late = |j: i64| (1i64 << 42) - 3 - 4 * j;
    let deadlines: Vec<Option<i64>> = (0..n).map(|j| Some(j * 100 * MS + late(j))).collect();
    let make = || Box::new(Scripted::from_ns(deadlines.clone())) as Box<dyn Detector>;
    let opts = Options {
        warmup: 1,
        deadline: Nanos::SECOND,
    };
    let m = both(&r, make, &opts);
    let sum: i128 = (1..n).map(|j| i128::from(late(j))).sum();
    assert!(sum > 1i128 << 54);
    assert_eq!(m.detection.mean_ns, sum as f64 / (n - 1) as f64);
    assert_eq!((m.mistakes, m.detection.max), (0, Nanos(late(1))));
}

#[test]
fn a_long_trace_without_warm_up_samples_its_crash_points_sparsely() {
    // 20 000 receipts every 100 ms (more than the engine samples whole), no warm-up;
    // deadlines never after every 50th receipt (400 infinite detection times, 2 %), else
    // 50 ms after every 7th (its gap suspected for 50 ms) and 150 ms after the rest.
    // Mistakes: the 2857 multiples of 7 below 19 999 less the 58 of 350: 2799. Crash
    // points: 400 infinite, 2858 - 58 = 2800 at 50 ms, 16 800 at 150 ms: p50 (rank
    // 10 000) 150 ms, p99 (rank 19 800, past the 19 600 finite ones) infinite.
    let n = 20_000i64;
    let rows: Vec<_> = (0..n).map(|i| (i as u64 + 1, None, Some(i * 100))).collect();
    let r = receipts(&rows);
    let tau: Vec<Option<i64>> = (0..n)
        .map(|j| match (j % 50, j % 7) {
            (0, _) => None,
            (_, 0) => Some(j * 100 + 50),
            _ => Some(j * 100 + 150),
        })
        .collect();
    let opts = Options {
        warmup: 0,
        deadline: Nanos::SECOND,
    };
    let m = both(&r, || Box::new(Scripted::new(&tau)), &opts);
    assert_eq!((m.mistakes, m.suspect_time), (2799, Nanos(2799 * 50 * MS)));
    assert_eq!(m.detection.mean_ns, f64::INFINITY);
    assert_eq!(
        [m.detection.p50, m.detection.p99, m.detection.max],
        [Nanos(150 * MS), Nanos::MAX, Nanos::MAX]
    );
    assert_eq!(m.detection.completeness, 19_600.0 / 20_000.0);
}

#[test]
fn deadlines_near_the_end_of_time_or_before_time_0_leave_the_timeout_engine() {
    // A timeout of about 2^63 ns (deadlines past the last instant: never) on a continuous
    // monitor and on one that checks every 30 ms (the last deadlines within a tick of the
    // last instant), and a negative one (deadlines before time 0, which a ticking monitor
    // notices at its tick 0): the timeout-style engine gives way to the general one where
    // it must, and the family's metrics are the detector's.
    let rows: Vec<_> = (0..40)
        .map(|i| (i as u64 + 1, None, Some(i * 100 + if i % 9 == 4 { 170 } else { 0 })))
        .collect();
    let r = receipts(&rows);
    let opts = Options {
        warmup: 2,
        deadline: Nanos::SECOND,
    };
    for (spec, knobs) in [
        ("fixed", [i64::MAX as f64 - 2e9, 150e6]),
        ("fixed:check=30ms", [-250e6, 150e6]),
        ("fixed:check=30ms", [i64::MAX as f64 - 3.915e9, 150e6]),
        ("chen:window=5,check=30ms", [-500e6, 20e6]),
    ] {
        family_is_its_detectors(&r, spec, &knobs, &opts);
    }
}

/// Replays the family of `spec` at `knobs` and each knob value's detector alone, asserts
/// that their metrics agree, and returns them.
fn family_is_its_detectors(r: &Receipts, spec: &str, knobs: &[f64], opts: &Options) -> Vec<Metrics> {
    let config = fdbench::detector::spec::parse(spec).unwrap().remove(0).config;
    let all = replay::replay_family(r, &|| config.family(r.interval, knobs), opts).unwrap();
    for (k, m) in knobs.iter().zip(&all) {
        let one = replay::replay_detector(r, config.detector(r.interval, *k).as_mut(), opts).unwrap();
        assert_eq!(&one, m, "{spec} at {k}");
    }
    all
}

#[test]
fn akka_near_the_end_of_time_is_one_detector_per_threshold() {
    // Receipts every 100 ms (one 700 ms late) ending about 33 s before the last instant
    // (built by hand; past 2^62 the family's offsets come from its deadlines): with a
    // pause of 3 s every deadline is in time, with 32 s the high thresholds' are past
    // the end (never), with 60 s all are. The family of thresholds gives the metrics of
    // one detector per threshold.
    let start = i64::MAX - 37 * 1_000 * MS;
    let recv: Vec<Nanos> = (0..40)
        .map(|i| Nanos(start + i * 100 * MS + if i >= 20 { 600 * MS } else { 0 }))
        .collect();
    let r = Receipts {
        seq: (1..=40).collect(),
        recv,
        send: None,
        stale: 0,
        interval: Nanos(100 * MS),
    };
    let opts = Options {
        warmup: 2,
        deadline: Nanos::SECOND,
    };
    let knobs = [0.5, 1.0, 8.0, 300.0];
    let mut never = Vec::new();
    for pause in ["3s", "32s", "60s"] {
        let spec = format!("akka:pause={pause},min_std=10ms,first_estimate=100ms");
        let all = family_is_its_detectors(&r, &spec, &knobs, &opts);
        never.extend(all.iter().map(|m| m.detection.max == Nanos::MAX));
    }
    // At 32 s the low thresholds' deadlines are in time (32.1–32.2 s after the last
    // receipt, 32.5 s before the end) and the high ones' past it.
    assert_eq!(never[..4], [false; 4], "3 s: every deadline in time");
    assert_eq!(never[8..], [true; 4], "60 s: none");
    assert!(
        never[4..8].contains(&true) && never[4..8].contains(&false),
        "32 s: {never:?}"
    );
}

//! Properties of the exact engine on generated traces, for every detector:
//! one pass over many knob values equals one replay per value (and a family of that one
//! value alone), the exact engine agrees
//! with the sampled reference as the step shrinks, and a larger knob never adds
//! suspicion time or shortens detection.

use fdbench::Nanos;
use fdbench::detector::{Config, DetectorSpec};
use fdbench::metrics::Metrics;
use fdbench::replay::{self, Options};
use fdbench::sampled;
use fdbench::trace::{Receipts, TraceBuilder};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

const MS: i64 = 1_000_000;
const WARMUP: usize = 20;

/// Every detector, with windows small enough for short traces, and the timeout-style
/// ones also on monitors that check on a tick.
const SPECS: [&str; 13] = [
    "fixed",
    "fixed:check=30ms",
    "nfd-s",
    "nfd-s:check=25ms",
    "chen:window=20",
    "chen:window=20,check=70ms",
    "2w:n1=20,check=50ms",
    "bertier:window=20",
    "phi:window=20",
    "akka:window=20,pause=0s,min_std=10ms,first_estimate=100ms",
    "exp-phi:window=20",
    "satzger:window=20",
    "2w:n1=20",
];

/// The detectors that run on `r` (`nfd-s` needs send times).
fn specs(r: &Receipts) -> Vec<DetectorSpec> {
    SPECS
        .iter()
        .flat_map(|s| fdbench::detector::spec::parse(s).unwrap())
        .filter(|s| fdbench::sweep::runs_on(&s.config, r))
        .collect()
}

/// A few knob values across the detector's default range.
fn knobs(config: &Config) -> Vec<f64> {
    match config.knob() {
        None => vec![0.0],
        Some(k) => {
            let (lo, hi, _) = k.sweep_bounds();
            (0..8).map(|i| lo + (hi - lo) * f64::from(i) / 7.0).collect()
        }
    }
}

/// A trace of `n` heartbeats every 100 ms: delays of 5–40 ms with occasional spikes and
/// stalls, 2 % loss, some reordering; all from `seed`.
fn trace(seed: u64, n: u64, with_send: bool) -> Receipts {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut b = TraceBuilder::new(with_send);
    let mut stall_until = 0i64;
    for i in 1..=n {
        let mut send = i as i64 * 100 * MS;
        if rng.random::<f64>() < 0.01 {
            stall_until = send + rng.random_range(100..2000) * MS;
        }
        if send < stall_until {
            send = stall_until;
        }
        if rng.random::<f64>() < 0.02 {
            b.push(i, Some(Nanos(send)), None).unwrap();
            continue;
        }
        let mut delay = rng.random_range(5 * MS..40 * MS);
        if rng.random::<f64>() < 0.03 {
            delay += rng.random_range(50 * MS..600 * MS);
        }
        b.push(i, Some(Nanos(send)), Some(Nanos(send + delay))).unwrap();
    }
    b.finish(Some((Nanos(100 * MS), fdbench::trace::IntervalSource::Given)))
        .unwrap()
        .accepted()
}

fn opts() -> Options {
    Options {
        warmup: WARMUP,
        deadline: Nanos(500 * MS),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn one_pass_equals_one_replay_per_value(seed in any::<u64>(), n in 60u64..400, with_send in any::<bool>()) {
        let r = trace(seed, n, with_send);
        for s in specs(&r) {
            let ks = knobs(&s.config);
            let all = replay::replay_family(&r, &|| s.config.family(r.interval, &ks), &opts()).unwrap();
            for (k, m) in ks.iter().zip(&all) {
                let mut d = s.config.detector(r.interval, *k);
                let one = replay::replay_detector(&r, d.as_mut(), &opts()).unwrap();
                prop_assert_eq!(&one, m, "{} at {}", s.config.name(), k);
                let single = replay::replay_values(&r, &|| s.config.family(r.interval, &[*k]), &opts()).unwrap();
                prop_assert_eq!(&single[..], std::slice::from_ref(m), "{} at {}, alone", s.config.name(), k);
                prop_assert!((0.0..=1.0).contains(&m.query_accuracy()));
                prop_assert!(m.mistake_rate_per_h().is_finite());
            }
        }
    }

    #[test]
    fn a_larger_knob_never_adds_suspicion_or_shortens_detection(seed in any::<u64>(), n in 60u64..400) {
        let r = trace(seed, n, true);
        for s in specs(&r).into_iter().filter(|s| s.config.knob_independent() && s.config.knob().is_some()) {
            let ks = knobs(&s.config);
            let all = replay::replay_family(&r, &|| s.config.family(r.interval, &ks), &opts()).unwrap();
            let taus: Vec<Vec<Nanos>> = ks.iter().map(|&k| replay::deadlines(&r, s.config.detector(r.interval, k).as_mut())).collect();
            for i in 1..ks.len() {
                let (a, b) = (&all[i - 1], &all[i]);
                let name = s.config.name();
                prop_assert!(b.suspect_time <= a.suspect_time, "{name}: S_time grew from {} to {}", ks[i - 1], ks[i]);
                for (j, (hi, lo)) in taus[i].iter().zip(&taus[i - 1]).enumerate() {
                    prop_assert!(hi >= lo, "{name}: deadline {j} moved earlier");
                }
                prop_assert!(b.detection.mean_ns >= a.detection.mean_ns);
                prop_assert!(b.detection.p50 >= a.detection.p50 && b.detection.p99 >= a.detection.p99 && b.detection.max >= a.detection.max);
                prop_assert!(b.detection.completeness <= a.detection.completeness);
                // Mistakes are monotone unless the smaller knob has a deadline at or
                // before its own receipt (those suspicion periods merge).
                let merges = (WARMUP..r.len() - 1).any(|j| taus[i - 1][j] <= r.recv[j]);
                if !merges {
                    prop_assert!(b.mistakes <= a.mistakes, "{name}: mistakes grew from {} to {}", ks[i - 1], ks[i]);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Knob values in any order, repeated, zero or tiny (deadlines at or before the
    /// receipt, which the timeout-style engine handles apart) or far out (offsets beyond
    /// the `f64` pass's exact range), and longer traces (where the percentiles come from
    /// brackets around a sample): the family's metrics are still those of one replay
    /// per value.
    #[test]
    fn any_knob_values_in_any_order(seed in any::<u64>(), n in 300u64..2500, with_send in any::<bool>(), picks in prop::collection::vec(0usize..10, 1..7)) {
        let r = trace(seed, n, with_send);
        for s in specs(&r) {
            let k = s.config.knob();
            let grid: Vec<f64> = match k.map(|k| k.name) {
                None => vec![0.0],
                Some("threshold") if s.config.name() == "satzger" => vec![1e-9, 0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99, 1.0],
                Some("threshold") => vec![0.01, 0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 16.0, 300.0],
                Some(_) => vec![0.0, 1.0, 1e3, 1e6, 5e6, 20e6, 50e6, 100e6, 400e6, 2e9, 9e15],
            };
            let ks: Vec<f64> = picks.iter().map(|&p| grid[p % grid.len()]).collect();
            let all = replay::replay_family(&r, &|| s.config.family(r.interval, &ks), &opts()).unwrap();
            for (k, m) in ks.iter().zip(&all) {
                let mut d = s.config.detector(r.interval, *k);
                let one = replay::replay_detector(&r, d.as_mut(), &opts()).unwrap();
                prop_assert_eq!(&one, m, "{} at {}", s.config.name(), k);
            }
        }
    }
}

/// Raising the knob can split a merged suspicion period: timeout 0 never restores trust
/// (one S-transition, at the start of the evaluated span, which starts in trust),
/// timeout 50 ms makes a mistake in nearly every gap.
#[test]
fn the_merge_exception_to_monotone_mistakes_is_real() {
    let r = trace(7, 300, true);
    let fixed = Config::named("fixed").unwrap();
    let m = fdbench::sweep::evaluate(&r, &fixed, &[0.0, 50e6], &opts()).unwrap();
    assert_eq!(m[0].mistakes, 1);
    assert_eq!(m[0].query_accuracy(), 0.0);
    assert_eq!(m[0].suspect_time, m[0].evaluated);
    // With a 50 ms timeout, trust comes back at every receipt: each evaluated gap longer
    // than 50 ms is one mistake of `gap - 50 ms` (evaluation.md §2), counted here from the
    // receipts themselves.
    let gaps = r.recv[WARMUP..].windows(2).map(|w| w[1].0 - w[0].0);
    let over: Vec<i64> = gaps.filter(|&g| g > 50 * MS).map(|g| g - 50 * MS).collect();
    assert!(over.len() > 100, "the trace has {} gaps over 50 ms", over.len());
    assert_eq!(m[1].mistakes, over.len() as u64);
    assert_eq!(m[1].suspect_time, Nanos(over.iter().sum()));
}

fn check_sampled(r: &Receipts, s: &DetectorSpec, k: f64, exact: &Metrics, q: Nanos) {
    let name = s.config.name();
    let tau = replay::deadlines(r, s.config.detector(r.interval, k).as_mut());
    let mut d = s.config.detector(r.interval, k);
    let smp = sampled::replay_sampled(r, d.as_mut(), WARMUP, q, Nanos::from_secs(30));
    // Detection: the first sample of the suspicion that never ends is within q after
    // its exact start.
    let origin = |j: usize| r.send.as_ref().map_or(r.recv[j], |s| s[j]);
    let starts = replay::permanent_starts(&r.recv, &tau);
    for (i, j) in (WARMUP..r.len()).enumerate() {
        let exact_td = if tau[j] == Nanos::MAX {
            None
        } else {
            Some((starts[j] - origin(j)).max(Nanos::ZERO))
        };
        match (exact_td, smp.detection[i]) {
            (Some(e), Some(got)) => assert!(
                got >= e && got - e < q,
                "{name}@{k} crash {j}: exact {e:?} sampled {got:?}"
            ),
            (None, None) => {}
            (e, got) if e.is_some_and(|e| e > Nanos::from_secs(29)) && got.is_none() => {}
            (e, got) => panic!("{name}@{k} crash {j}: exact {e:?} sampled {got:?}"),
        }
    }
    // Accuracy: within q per transition; mistakes differ only through periods shorter than q.
    let periods = replay::suspicions(r, &tau);
    let eval_start = r.recv[WARMUP];
    let inside: Vec<_> = periods.iter().filter(|p| p.end > eval_start).collect();
    let slack = q.0 * (2 * inside.len() as i64 + 2);
    assert!(
        (smp.suspect_time.0 - exact.suspect_time.0).abs() <= slack,
        "{name}@{k}: S_time exact {} sampled {} (q {})",
        exact.suspect_time.0,
        smp.suspect_time.0,
        q.0
    );
    let short = inside.iter().filter(|p| p.end - p.start <= q).count()
        + inside.windows(2).filter(|w| w[1].start - w[0].end <= q).count()
        + 1;
    assert!(
        (smp.mistakes as i64 - exact.mistakes as i64).unsigned_abs() as usize <= short,
        "{name}@{k}: mistakes exact {} sampled {}",
        exact.mistakes,
        smp.mistakes
    );
}

#[test]
fn the_exact_engine_agrees_with_the_sampled_reference() {
    for seed in [1, 2, 3] {
        let r = trace(seed, 150, seed % 2 == 0);
        for s in specs(&r) {
            let ks = knobs(&s.config);
            let all = replay::replay_family(&r, &|| s.config.family(r.interval, &ks), &opts()).unwrap();
            for (k, m) in ks.iter().zip(&all).step_by(3) {
                for q in [Nanos(5 * MS), Nanos(MS), Nanos(100_000)] {
                    check_sampled(&r, &s, *k, m, q);
                }
            }
        }
    }
}

/// A detector defined outside the crate that gives only its deadline: suspect once twice
/// the last interval has passed since the last receipt, plus a margin (its knob).
struct TwiceTheLast {
    margin: i64,
    last: Option<Nanos>,
    interval: i64,
}

impl fdbench::detector::Detector for TwiceTheLast {
    fn observe(&mut self, hb: &fdbench::trace::Heartbeat) {
        if let Some(last) = self.last {
            self.interval = hb.recv.0 - last.0;
        }
        self.last = Some(hb.recv);
    }
    fn deadline(&self) -> Option<Nanos> {
        self.last.map(|l| Nanos(l.0 + 2 * self.interval + self.margin))
    }
    fn level(&self, now: Nanos) -> f64 {
        self.last.map_or(0.0, |l| (now.0 - l.0 - 2 * self.interval) as f64)
    }
    fn threshold(&self) -> f64 {
        self.margin as f64
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// A detector with no form, one instance per knob value, takes the general path and
    /// gives the same metrics as one replay per value.
    #[test]
    fn a_detector_that_only_gives_its_deadline_works_on_the_general_path(seed in any::<u64>(), n in 100u64..1500, picks in prop::collection::vec(0usize..6, 1..6)) {
        let r = trace(seed, n, seed % 2 == 0);
        let grid = [0, -150 * MS, 10 * MS, 80 * MS, 400 * MS, 1 << 60];
        let margins: Vec<i64> = picks.iter().map(|&p| grid[p]).collect();
        let make = |m: i64| TwiceTheLast { margin: m, last: None, interval: 100 * MS };
        let all = replay::replay_family(
            &r,
            &|| Box::new(fdbench::detector::IndependentFamily::new(margins.iter().map(|&m| make(m)).collect())),
            &opts(),
        )
        .unwrap();
        for (&m, got) in margins.iter().zip(&all) {
            let one = replay::replay_detector(&r, &mut make(m), &opts()).unwrap();
            prop_assert_eq!(got, &one, "margin {}", m);
        }
    }
}

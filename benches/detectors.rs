//! Per-heartbeat cost of every detector: `observe` then `deadline` on each accepted
//! receipt of a 100,000-heartbeat `wan` trace, window 1000, through the concrete
//! (monomorphized) types. Throughput is in heartbeats, so criterion reports the time
//! per heartbeat.

mod common;

use std::hint::black_box;
use std::sync::OnceLock;

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fdbench::Nanos;
use fdbench::detector::akka::{Akka, AkkaParams};
use fdbench::detector::bertier::Bertier;
use fdbench::detector::chen::Chen;
use fdbench::detector::exp_phi::ExpPhi;
use fdbench::detector::fixed::Fixed;
use fdbench::detector::phi::Phi;
use fdbench::detector::satzger::Satzger;
use fdbench::detector::two_windows::TwoWindows;
use fdbench::detector::{Detector, Tuned};
use fdbench::trace::Heartbeat;

const WINDOW: usize = 1000;

/// The accepted receipts of the input trace, as heartbeats, and its nominal interval.
fn input() -> &'static (Vec<Heartbeat>, Nanos) {
    static INPUT: OnceLock<(Vec<Heartbeat>, Nanos)> = OnceLock::new();
    INPUT.get_or_init(|| {
        let r = common::wan(common::size(100_000)).accepted();
        (r.heartbeats().collect(), r.interval)
    })
}

/// Feeds every heartbeat to a fresh detector and folds its deadlines.
fn run<D: Detector>(d: &mut D, hbs: &[Heartbeat]) -> i64 {
    let mut acc = 0i64;
    for hb in hbs {
        d.observe(hb);
        acc = acc.wrapping_add(d.deadline().map_or(0, |t| t.0));
    }
    acc
}

fn bench_one<D: Detector>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, make: impl Fn(Nanos) -> D) {
    let (hbs, eta) = input();
    g.bench_function(BenchmarkId::from_parameter(name), |b| {
        b.iter_batched_ref(|| make(*eta), |d| black_box(run(d, hbs)), BatchSize::LargeInput);
    });
}

fn detectors(c: &mut Criterion) {
    let (hbs, _) = input();
    let mut g = c.benchmark_group("detector_update");
    g.throughput(Throughput::Elements(hbs.len() as u64));
    let akka = AkkaParams {
        window: WINDOW,
        ..AkkaParams::default()
    };
    bench_one(&mut g, "fixed", |_| Tuned::new(Fixed::new(), 1e9));
    bench_one(&mut g, "chen", |eta| Tuned::new(Chen::new(eta, WINDOW), 100e6));
    bench_one(&mut g, "bertier", |eta| {
        Tuned::new(Bertier::new(eta, WINDOW, 0.1, 1.0, 4.0), 0.0)
    });
    bench_one(&mut g, "phi", |eta| Tuned::new(Phi::new(eta, WINDOW, Nanos::ZERO), 8.0));
    bench_one(&mut g, "akka", |_| Akka::new(akka, 8.0));
    bench_one(&mut g, "exp-phi", |_| {
        Tuned::new(ExpPhi::new(WINDOW, Nanos::from_secs(2), Nanos::from_secs(2)), 8.0)
    });
    bench_one(&mut g, "satzger", |eta| {
        Tuned::new(Satzger::new(eta, WINDOW, 1.0), 0.99)
    });
    bench_one(&mut g, "2w", |eta| Tuned::new(TwoWindows::new(eta, WINDOW, 1), 100e6));
    g.finish();
}

criterion_group!(benches, detectors);
criterion_main!(benches);

//! The exact replay engine: [`fdbench::sweep::evaluate`] of one knob value for every
//! detector over 1,000,000 heartbeats, and 200 knob values in one pass of the family
//! against 200 evaluations of one value each (over 100,000 heartbeats, so that the
//! separate evaluations stay affordable), for a timeout-style family (`fixed`, `chen`:
//! critical values and prefix sums) and the others (`phi`, `exp-phi`, `satzger`: one
//! deadline per heartbeat and value).

mod common;

use std::hint::black_box;
use std::sync::OnceLock;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use fdbench::Nanos;
use fdbench::detector::{Config, spec};
use fdbench::replay::Options;
use fdbench::sweep::evaluate;
use fdbench::trace::Receipts;

const OPTS: Options = Options {
    warmup: 1000,
    deadline: Nanos::SECOND,
};

/// Knob values in each multi-value comparison.
const VALUES: usize = 200;

fn receipts(full: u64) -> Receipts {
    common::wan(common::size(full)).accepted()
}

fn large() -> &'static Receipts {
    static R: OnceLock<Receipts> = OnceLock::new();
    R.get_or_init(|| receipts(1_000_000))
}

fn small() -> &'static Receipts {
    static R: OnceLock<Receipts> = OnceLock::new();
    R.get_or_init(|| receipts(100_000))
}

/// The one-value specs: every detector at its default knob value, window 1000.
fn defaults() -> Vec<(Config, f64)> {
    Config::all_defaults()
        .into_iter()
        .map(|c| {
            let k = c.knob().map_or(0.0, |k| k.default);
            (c, k)
        })
        .collect()
}

/// A detector with a range of exactly [`VALUES`] knob values.
fn ranged(text: &str) -> (Config, Vec<f64>) {
    let s = spec::parse(text).expect("the bench's specs are valid").remove(0);
    assert_eq!(s.knob_values.len(), VALUES, "{text}");
    (s.config, s.knob_values)
}

fn one_value(c: &mut Criterion) {
    let r = large();
    let mut g = c.benchmark_group("engine_one_value");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(r.len() as u64));
    for (config, knob) in defaults() {
        g.bench_function(BenchmarkId::new(config.name(), r.len()), |b| {
            b.iter(|| evaluate(r, &config, &[knob], &OPTS).expect("the trace is long enough"))
        });
    }
    g.finish();
}

fn one_pass_vs_separate(c: &mut Criterion) {
    let r = small();
    let mut g = c.benchmark_group("engine_200_values");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    // Per (heartbeat, knob value): both variants do the same amount of useful work.
    g.throughput(Throughput::Elements((r.len() * VALUES) as u64));
    for text in [
        "fixed:timeout=10ms..2s:10ms",
        "chen:alpha=10ms..2s:10ms",
        "phi:threshold=0.1..20:0.1",
        "exp-phi:threshold=0.1..20:0.1",
        "satzger:threshold=0.005..1:0.005",
    ] {
        let (config, knobs) = ranged(text);
        g.bench_function(BenchmarkId::new("one_pass", config.name()), |b| {
            b.iter(|| evaluate(r, &config, &knobs, &OPTS).expect("the trace is long enough"))
        });
        g.bench_function(BenchmarkId::new("separate", config.name()), |b| {
            b.iter(|| {
                for k in &knobs {
                    black_box(evaluate(r, &config, std::slice::from_ref(k), &OPTS).expect("long enough"));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, one_value, one_pass_vs_separate);
criterion_main!(benches);

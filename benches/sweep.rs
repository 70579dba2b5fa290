//! A full sweep on the default rayon pool over 1,000,000 heartbeats: every detector but
//! `akka` at 200 knob values each (`bertier` has no knob: one value), and `akka` over
//! its range of 196 thresholds on its own (thresholds sharing their histories). Group
//! `sweep`: the trace already loaded, throughput in rows (detector, knob value) ×
//! heartbeats. Group `vs_stats`: what the command line does from the file's bytes —
//! `stats` (read and summarize) against the same two sweeps (read, accept, sweep) —
//! throughput in heartbeats, so that their ratios come from one run.

mod common;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use fdbench::Nanos;
use fdbench::detector::{DetectorSpec, spec};
use fdbench::replay::Options;
use fdbench::sweep::{Plan, SweepTrace};
use fdbench::trace::{csv, stats};

const OPTS: Options = Options {
    warmup: 1000,
    deadline: Nanos::SECOND,
};

/// Every detector but akka, 200 knob values each (bertier: 1).
const ALL_BUT_AKKA: [(&str, usize); 7] = [
    ("fixed:timeout=10ms..2s:10ms", 200),
    ("chen:alpha=10ms..2s:10ms", 200),
    ("bertier", 1),
    ("phi:threshold=0.1..20:0.1", 200),
    ("exp-phi:threshold=0.1..20:0.1", 200),
    ("satzger:threshold=0.005..1:0.005", 200),
    ("2w:alpha=10ms..2s:10ms", 200),
];

const AKKA: [(&str, usize); 1] = [("akka:threshold=0.5..20:0.1", 196)];

fn specs(list: &[(&str, usize)]) -> Vec<DetectorSpec> {
    list.iter()
        .map(|&(text, count)| {
            let mut v = spec::parse(text).expect("the bench's specs are valid");
            assert_eq!(v.len(), 1, "{text}");
            assert_eq!(v[0].knob_values.len(), count, "{text}");
            v.remove(0)
        })
        .collect()
}

fn sweep(c: &mut Criterion) {
    let trace = common::wan(common::size(1_000_000));
    let traces = [SweepTrace {
        name: "wan".to_string(),
        receipts: trace.accepted(),
    }];
    let heartbeats = traces[0].receipts.len();
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    for (name, list) in [("all_but_akka", &ALL_BUT_AKKA[..]), ("akka", &AKKA[..])] {
        let specs = specs(list);
        let plan = Plan::new(&traces, &specs, OPTS, None, true).expect("the sweep is valid");
        g.throughput(Throughput::Elements((plan.rows() * heartbeats) as u64));
        g.bench_function(BenchmarkId::new(name, format!("{}_rows", plan.rows())), |b| {
            b.iter(|| plan.run(&|| {}))
        });
    }
    g.finish();
}

fn vs_stats(c: &mut Criterion) {
    let trace = common::wan(common::size(1_000_000));
    let mut bytes = Vec::new();
    csv::write(&trace, &mut bytes).expect("writing to memory cannot fail");
    let read = || csv::read(black_box(bytes.as_slice()), "bench", None).expect("the trace reads back");
    let mut g = c.benchmark_group("vs_stats");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(trace.len() as u64));
    g.bench_function("stats", |b| b.iter(|| stats::compute(&read())));
    for (name, list) in [("all_but_akka", &ALL_BUT_AKKA[..]), ("akka", &AKKA[..])] {
        let specs = specs(list);
        g.bench_function(name, |b| {
            b.iter(|| {
                let traces = [SweepTrace {
                    name: "wan".to_string(),
                    receipts: read().accepted(),
                }];
                let plan = Plan::new(&traces, &specs, OPTS, None, true).expect("the sweep is valid");
                plan.run(&|| {})
            })
        });
    }
    g.finish();
}

criterion_group!(benches, sweep, vs_stats);
criterion_main!(benches);

//! Exact tuning of `akka` over 1,000,000 heartbeats of `wan` (one target, `--max-mistakes
//! 1/h`): the critical threshold by bisection on shared histories, then the replay of the
//! setting reported, at Akka's default pause and with no pause (where low thresholds
//! suspect and histories split). Throughput in heartbeats.

mod common;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use fdbench::Nanos;
use fdbench::detector::spec;
use fdbench::replay::Options;
use fdbench::tune::{self, Goal};

const OPTS: Options = Options {
    warmup: 1000,
    deadline: Nanos::SECOND,
};

fn tune_akka(c: &mut Criterion) {
    let receipts = common::wan(common::size(1_000_000)).accepted();
    let mut g = c.benchmark_group("tune");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(receipts.len() as u64));
    for pause in ["3s", "0s"] {
        let config = spec::parse(&format!("akka:pause={pause}"))
            .expect("the bench's spec is valid")
            .remove(0)
            .config;
        g.bench_function(BenchmarkId::new("akka_exact", format!("pause={pause}")), |b| {
            b.iter(|| tune::tune(&receipts, &config, (0.5, 16.0), &Goal::rate(1.0), &OPTS).expect("the trace tunes"))
        });
    }
    g.finish();
}

criterion_group!(benches, tune_akka);
criterion_main!(benches);

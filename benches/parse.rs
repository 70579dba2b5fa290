//! Trace CSV parsing of an in-memory file of 1,000,000 rows (throughput in bytes), and
//! the extraction of the accepted receipts from the parsed trace (throughput in rows).

mod common;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use fdbench::trace::csv;

fn parse(c: &mut Criterion) {
    let n = common::size(1_000_000);
    let trace = common::wan(n);
    let mut bytes = Vec::new();
    csv::write(&trace, &mut bytes).expect("writing to memory cannot fail");

    let mut g = c.benchmark_group("csv_read");
    g.sample_size(20).sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function(BenchmarkId::from_parameter(format!("{n}_rows")), |b| {
        b.iter(|| csv::read(black_box(bytes.as_slice()), "bench", None).expect("the trace reads back"))
    });
    g.finish();

    let mut g = c.benchmark_group("trace_accepted");
    g.sample_size(20).sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(trace.len() as u64));
    g.bench_function(BenchmarkId::from_parameter(format!("{n}_rows")), |b| {
        b.iter(|| black_box(&trace).accepted())
    });
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);

//! Replays a heartbeat trace through one detector and prints its QoS metrics.
//!
//! Run: `cargo run --release --example replay_trace [TRACE.csv] [SPEC]`, e.g.
//! `cargo run --release --example replay_trace trace.csv akka-cluster:pause=2s`.
//! Without a trace it replays a generated LAN trace.

use fdbench::detector::spec;
use fdbench::results::Row;
use fdbench::trace::{csv, resample, synth};
use fdbench::{Nanos, replay};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let trace = match args.next() {
        Some(path) => csv::read_path(path.as_ref(), None)?,
        None => synth::generate(&synth::preset("lan").expect("a built-in preset"), 7)?,
    };
    let text = args.next().unwrap_or_else(|| "chen:window=100,alpha=0..1s:250ms".to_string());
    for s in spec::parse(&text)? {
        // A production preset runs at its system's heartbeat: thin a finer trace to it,
        // one heartbeat in k, with the warm-up over the same span of time and D over the
        // same number of heartbeats.
        let k = match s.config.preset() {
            Some(p) if p.heartbeat != trace.interval() => resample::factor(trace.interval(), p.heartbeat)?,
            _ => 1,
        };
        let receipts = if k > 1 { resample::thin(&trace, k)?.accepted() } else { trace.accepted() };
        let opts = replay::Options { warmup: 1000, deadline: Nanos::from_secs(1) }.thinned(k);
        // One pass over the trace evaluates every knob value of the spec.
        let metrics = replay::replay_family(&receipts, &|| s.config.family(receipts.interval, &s.knob_values), &opts)?;
        for (&knob, m) in s.knob_values.iter().zip(&metrics) {
            let row = Row::new(None, &s.config, knob, m);
            println!(
                "{} {} {}={:?}: {} mistakes, {:.3}/h, query accuracy {:.6}, detection mean {:.1} ms",
                s.config.label(knob),
                row.params,
                row.knob,
                row.value,
                row.mistakes,
                row.mistake_rate_per_h,
                row.query_accuracy,
                row.detection_mean_ms
            );
        }
    }
    Ok(())
}

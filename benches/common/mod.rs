//! Inputs shared by the benchmarks: fixed-seed synthetic traces, sized down when the
//! benchmarks only run as tests (`cargo bench -- --test`, `cargo test --benches`).

use fdbench::trace::Trace;
use fdbench::trace::synth::{self, Length, Preset};

/// The seed of every generated input.
pub const SEED: u64 = 20_240_601;

/// Whether criterion runs each benchmark once as a test rather than measuring it: with
/// `--test`, or without `--bench` (criterion's own rule).
pub fn quick() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}

/// `full` heartbeats when measuring, at most 20,000 when only testing.
pub fn size(full: u64) -> u64 {
    if quick() { full.min(20_000) } else { full }
}

/// A `wan` trace of `n` heartbeats from the fixed seed.
pub fn wan(n: u64) -> Trace {
    let mut cfg = Preset::Wan.config();
    cfg.length = Length::Count(n);
    synth::generate(&cfg, SEED).expect("the wan preset is valid")
}

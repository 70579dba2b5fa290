//! Generates a synthetic heartbeat trace from code and writes it as CSV.
//!
//! Run: `cargo run --release --example generate_trace [OUT.csv]` (default: stdout).

use fdbench::Nanos;
use fdbench::trace::{csv, synth};

fn main() -> anyhow::Result<()> {
    // A WAN-like link at a 50 ms interval, for 10 minutes, with the preset's delays,
    // loss and stalls.
    let mut cfg = synth::preset("wan").expect("a built-in preset");
    cfg.interval = Nanos::from_millis(50);
    cfg.length = synth::Length::Duration(Nanos::from_secs(600));
    cfg.validate()?;
    let trace = synth::generate(&cfg, 42)?;
    eprintln!("{} heartbeats, {} received; regenerate with: {}", trace.len(), trace.receipts(), cfg.command_line(42));
    match std::env::args().nth(1) {
        Some(path) => csv::write_path(&trace, path.as_ref())?,
        None => csv::write(&trace, std::io::stdout().lock())?,
    }
    Ok(())
}

//! `fdbench sweep`: evaluate a grid of detectors and knob values on one or more traces,
//! in parallel, into the results schema.

use std::path::PathBuf;

use anyhow::Context;

use fdbench::replay::Options;
use fdbench::results::{self, Format, Provenance};
use fdbench::sweep::{self, Shard, SweepTrace};
use sha2::{Digest, Sha256};

use super::common::{self, EvalArgs};

/// Sweep knob values of detectors over traces: completeness against accuracy.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    fdbench sweep trace.csv -o results.csv                      # the default grid of every detector
    fdbench sweep trace.csv --detector 'fixed:timeout=50ms..2s:10ms' --detector 'phi:threshold=0.5..16:0.1'
    fdbench sweep a.csv b.csv.gz --detector 'chen:alpha=0..1s:10ms' --format json -o results.json
    fdbench sweep big.csv --shard 3/8 -o part-3.csv             # one slice of the grid; see `fdbench merge`")]
pub struct Args {
    /// Trace files (CSV, or .csv.gz); with several, rows carry a leading `trace` column
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,
    /// A detector spec NAME[:key=value,...] whose values may be ranges START..END:STEP
    /// (END inclusive); repeatable [default: every detector over its default range, and
    /// the akka-cluster and cassandra presets]
    #[arg(short, long = "detector", value_name = "SPEC")]
    pub detectors: Vec<String>,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Worker threads [default: all cores; at most 4 per core without --force-threads]
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
    /// Allow more than 4 threads per core
    #[arg(long)]
    pub force_threads: bool,
    /// Write results here (atomically) instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Run only slice I of N of the grid (1-based), for spreading a grid over machines
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Run grids larger than the safety limit
    #[arg(long)]
    pub force: bool,
    /// No progress bar
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let specs = if args.detectors.is_empty() {
        sweep::default_grid()
    } else {
        common::parse_specs(&args.detectors)?
    };
    common::check_inputs(&args.traces)?;
    let out = args.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    common::check_not_input(&out, &args.traces)?;
    let threads = common::thread_count(args.threads, args.force_threads)?;
    let warmup = sweep::warmup_for(&specs, args.eval.warmup)?;
    let mut traces = Vec::with_capacity(args.traces.len());
    for p in &args.traces {
        let t = common::load_trace(p, args.eval.interval)?;
        traces.push(SweepTrace {
            name: common::trace_name(p),
            receipts: t.accepted(),
        });
    }
    let opts = Options {
        warmup,
        deadline: args.eval.deadline,
    };
    let plan = sweep::Plan::new(&traces, &specs, opts, args.shard, args.force)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting worker threads")?;
    let bar = super::progress::bar(plan.cells() as u64, "cells", args.quiet);
    let rows = pool.install(|| plan.run(&|| bar.inc(1)));
    bar.finish_and_clear();
    let written = match args.shard {
        Some(shard) => {
            let provenance = provenance(shard, &specs, &opts, &traces);
            results::write_shard_path(&rows, &provenance, args.format, &out)
        }
        None => results::write_path(&rows, args.format, &out),
    };
    written.with_context(|| format!("writing {}", out.display()))?;
    if !args.quiet && out.as_os_str() != "-" {
        eprintln!("wrote {} rows to {}", rows.len(), out.display());
    }
    Ok(())
}

/// What `merge` checks of a shard: its place, the grid's and the traces' fingerprints and
/// the version.
fn provenance(
    shard: Shard,
    specs: &[fdbench::detector::DetectorSpec],
    opts: &Options,
    traces: &[SweepTrace],
) -> Provenance {
    let mut grid = Sha256::new();
    grid.update(format!("{specs:?}|warmup={}|deadline={}", opts.warmup, opts.deadline.0).as_bytes());
    let traces_sha256 = traces
        .iter()
        .map(|t| {
            let r = &t.receipts;
            let mut h = Sha256::new();
            h.update(t.name.as_bytes());
            h.update(r.interval.0.to_le_bytes());
            for (j, (seq, recv)) in r.seq.iter().zip(&r.recv).enumerate() {
                h.update(seq.to_le_bytes());
                h.update(recv.0.to_le_bytes());
                if let Some(send) = &r.send {
                    h.update(send[j].0.to_le_bytes());
                }
            }
            hex(&h.finalize())
        })
        .collect();
    Provenance {
        shard_index: shard.index,
        shard_count: shard.count,
        grid_sha256: hex(&grid.finalize()),
        traces_sha256,
        fdbench_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

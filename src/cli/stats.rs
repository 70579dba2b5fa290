//! `fdbench stats`: describe a trace.

use std::path::PathBuf;

use anyhow::Context;
use fdbench::time::Nanos;
use fdbench::trace::{csv, stats};

const AFTER_HELP: &str = "\
Inter-arrival times are between consecutive accepted receipts (what a detector
sees); delays are recv_ns - send_ns of every received heartbeat. Percentiles come
from an HDR histogram with 3 significant digits.

EXAMPLES:
    fdbench stats trace.csv
    fdbench stats trace.csv.gz --format json > stats.json
    fdbench stats recorded.csv --interval 1s
    fdbench stats datasets/cluster-netns-4                  # every (monitor, target) pair
    fdbench generate --preset gc | fdbench stats -";

/// Output formats of `fdbench stats`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object; every time field names its unit.
    Json,
}

/// Arguments of `fdbench stats`.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Trace file (CSV, optionally .gz; `-` = stdin), or a cluster folder (each pair).
    #[arg(value_name = "TRACE")]
    trace: PathBuf,
    /// Nominal interval, overriding the file's metadata or the inferred one, e.g. 100ms.
    #[arg(long, value_name = "DURATION", value_parser = super::common::parse_interval)]
    interval: Option<Nanos>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Output file (`-` = stdout).
    #[arg(short, long, default_value = "-", value_name = "FILE")]
    output: PathBuf,
}

/// Runs `fdbench stats`.
pub fn run(args: Args) -> anyhow::Result<()> {
    super::common::check_not_input(&args.output, std::slice::from_ref(&args.trace))?;
    if args.trace.is_dir() {
        let text = super::cluster::stats(&args.trace, args.interval, args.format == Format::Json)?;
        return fdbench::output::write_atomic(&args.output, |w| w.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write {}", args.output.display()));
    }
    let trace = csv::read_path(&args.trace, args.interval)?;
    let s = stats::compute(&trace);
    let text = match args.format {
        Format::Text => format!("trace           {}\n{s}\n", args.trace.display()),
        Format::Json => serde_json::to_string_pretty(&s)? + "\n",
    };
    fdbench::output::write_atomic(&args.output, |w| w.write_all(text.as_bytes()))
        .with_context(|| format!("cannot write {}", args.output.display()))
}

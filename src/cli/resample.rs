//! `fdbench resample`: thin a trace to a coarser heartbeat interval.

use std::path::PathBuf;

use anyhow::Context;
use fdbench::time::Nanos;
use fdbench::trace::{IntervalSource, csv, resample};

const AFTER_HELP: &str = "\
Keeps the heartbeats whose seq is first + i*K (first = the trace's first seq) and
renumbers them first + i; send and receipt times are unchanged, a kept heartbeat
that was lost stays lost, and the header's interval_ns becomes K times the trace's.
Use it to evaluate a system that heartbeats every second on a 100 ms recording.

EXAMPLES:
    fdbench resample trace-100ms.csv --interval 1s -o trace-1s.csv
    fdbench resample trace.csv --every 10 -o thinned.csv.gz
    fdbench generate --preset lan --duration 1h | fdbench resample - --interval 3s | fdbench stats -";

/// Arguments of `fdbench resample`.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
#[command(group = clap::ArgGroup::new("factor").required(true).multiple(true).args(["every", "interval"]))]
pub struct Args {
    /// Trace file (CSV, optionally .gz; `-` = stdin)
    #[arg(value_name = "TRACE")]
    trace: PathBuf,
    /// Keep every K-th heartbeat by seq (an integer >= 1)
    #[arg(long, value_name = "K", value_parser = parse_factor)]
    every: Option<u64>,
    /// The interval to thin to; must be an integer multiple of the trace's interval (e.g. 1s)
    #[arg(long, value_name = "DURATION", value_parser = super::common::parse_interval)]
    interval: Option<Nanos>,
    /// The trace's nominal interval, overriding its `# interval_ns` metadata or the inferred value
    #[arg(long, value_name = "DURATION", value_parser = super::common::parse_interval)]
    trace_interval: Option<Nanos>,
    /// Output file (`-` = stdout; a name ending in .gz is compressed)
    #[arg(short, long, default_value = "-", value_name = "FILE")]
    output: PathBuf,
    /// Do not print the summary line on stderr
    #[arg(short, long)]
    quiet: bool,
}

/// Runs `fdbench resample`.
pub fn run(args: Args) -> anyhow::Result<()> {
    super::common::check_not_input(&args.output, std::slice::from_ref(&args.trace))?;
    let trace = csv::read_path(&args.trace, args.trace_interval)?;
    let name = args.trace.display();
    let every = match (args.every, args.interval) {
        (Some(k), None) => k,
        (k, Some(target)) => {
            let from_interval = resample::factor(trace.interval(), target).with_context(|| {
                format!(
                    "{name}: --interval {target} (the trace's interval {} is {})",
                    trace.interval(),
                    source(trace.interval_source())
                )
            })?;
            if let Some(k) = k
                && k != from_interval
            {
                return Err(super::common::usage(format!(
                    "{name}: --every {k} and --interval {target} disagree: {target} is {from_interval} times the trace's interval {}; give one of them",
                    trace.interval()
                )));
            }
            from_interval
        }
        (None, None) => unreachable!("clap requires --every or --interval"),
    };
    let thinned = resample::thin(&trace, every).with_context(|| format!("{name}: --every {every}"))?;
    csv::write_path(&thinned, &args.output).with_context(|| format!("cannot write {}", args.output.display()))?;
    if !args.quiet {
        eprintln!(
            "resample: kept {} of {} rows ({} receipts), interval {} -> {}",
            thinned.len(),
            trace.len(),
            thinned.receipts(),
            trace.interval(),
            thinned.interval()
        );
    }
    Ok(())
}

/// clap value parser for `--every`: a whole number of heartbeats.
fn parse_factor(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err("0 keeps nothing; give a whole number of heartbeats of at least 1 (e.g. 10)".to_string()),
        Ok(k) => Ok(k),
        Err(_) => Err(format!(
            "'{s}' is not an integer; give a whole number of heartbeats of at least 1 (e.g. 10)"
        )),
    }
}

/// Where the trace's interval came from, for messages.
fn source(s: IntervalSource) -> &'static str {
    match s {
        IntervalSource::Metadata => "from its interval_ns comment",
        IntervalSource::Given => "from --trace-interval",
        IntervalSource::Inferred => "inferred from the receipts; give the exact one with --trace-interval",
    }
}

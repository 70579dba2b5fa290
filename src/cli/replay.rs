//! `fdbench replay`: evaluate detectors on one trace with the exact engine.

use std::path::PathBuf;

use anyhow::Context;
use fdbench::detector::DetectorSpec;
use fdbench::replay::{self, Options};
use fdbench::results::{self, Format};
use fdbench::sweep;

use super::common::{self, EvalArgs};

/// Evaluate detectors on a trace: the exact QoS metrics of each.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    fdbench replay trace.csv --detector 'phi:threshold=8' --detector 'fixed:timeout=250ms'
    fdbench replay trace.csv --detector exp-phi --deadline 5s --format json
    fdbench replay trace.csv --detector 'chen:alpha=100ms' --timeline chen.csv
    fdbench replay trace.csv --detector 'phi:threshold=8|10|12' --format markdown")]
pub struct Args {
    /// The trace (CSV, or .csv.gz)
    pub trace: PathBuf,
    /// A detector spec NAME[:key=value,...], repeatable (see `fdbench list`) [default: every
    /// detector at its default knob value; akka's and exp-phi's defaults are the
    /// akka-cluster and cassandra presets]
    #[arg(short, long = "detector", value_name = "SPEC")]
    pub detectors: Vec<String>,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Output format: a table for people (aligned, or Markdown), or the results schema as csv or json
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutFormat,
    /// Write the output here instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the deadline and suspicion interval after every accepted receipt of the
    /// (single) detector to this CSV file
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
}

/// Output formats of `replay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutFormat {
    /// An aligned table.
    Table,
    /// The same table in Markdown (GitHub tables).
    Markdown,
    /// The results schema, CSV.
    Csv,
    /// The results schema, JSON.
    Json,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let specs: Vec<DetectorSpec> = if args.detectors.is_empty() {
        sweep::detector_names()
            .filter_map(|n| fdbench::detector::spec::parse(n).ok())
            .flatten()
            .collect()
    } else {
        common::parse_specs(&args.detectors)?
    };
    if args.timeline.is_some() && (specs.len() != 1 || specs[0].knob_values.len() != 1) {
        return Err(common::usage(
            "--timeline needs exactly one detector with one knob value; give a single --detector without a range",
        ));
    }
    let out = args.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    let inputs = std::slice::from_ref(&args.trace);
    common::check_not_input(&out, inputs)?;
    if let Some(t) = &args.timeline {
        common::check_not_input(t, inputs)?;
        if out.as_os_str() != "-" && fdbench::output::same_file(t, &out) {
            return Err(common::usage(format!(
                "--timeline {} and -o {} are the same file; give two paths",
                t.display(),
                out.display()
            )));
        }
    }
    let trace = common::load_trace(&args.trace, args.eval.interval)?;
    let receipts = trace.accepted();
    let specs = if args.detectors.is_empty() {
        sweep::runnable(specs, &[&receipts])
    } else {
        specs
    };
    common::check_runs(&specs, &receipts, &args.trace)?;
    let warmup = sweep::warmup_for(&specs, args.eval.warmup)?;
    let opts = Options {
        warmup,
        deadline: args.eval.deadline,
    };
    let traces = [sweep::SweepTrace {
        name: common::trace_name(&args.trace),
        receipts,
    }];
    // The plan's errors name the trace.
    let plan = sweep::Plan::new(&traces, &specs, opts, None, true)?;
    let rows = plan.run(&|| {});
    if let Some(path) = &args.timeline {
        let spec = &specs[0];
        let mut det = spec.config.detector(traces[0].receipts.interval, spec.knob_values[0]);
        write_timeline(&traces[0].receipts, det.as_mut(), path)
            .with_context(|| format!("writing the timeline {}", path.display()))?;
    }
    let written = match args.format {
        OutFormat::Table | OutFormat::Markdown => {
            let text = common::table(&rows, args.format == OutFormat::Markdown);
            fdbench::output::write_atomic(&out, |w| w.write_all(text.as_bytes()))
        }
        OutFormat::Csv => results::write_path(&rows, Format::Csv, &out),
        OutFormat::Json => results::write_path(&rows, Format::Json, &out),
    };
    written.with_context(|| format!("writing {}", out.display()))
}

/// Writes one line per accepted receipt: its seq and time, the deadline after it
/// (empty = never), and the suspicion interval that follows it (empty when trusted
/// until the next receipt).
fn write_timeline(
    receipts: &fdbench::trace::Receipts,
    det: &mut dyn fdbench::detector::Detector,
    path: &std::path::Path,
) -> std::io::Result<()> {
    let tau = replay::deadlines(receipts, det);
    fdbench::output::write_atomic(path, |w| {
        writeln!(w, "seq,recv_ns,deadline_ns,suspect_from_ns,suspect_to_ns")?;
        for (j, &t) in tau.iter().enumerate() {
            let a = receipts.recv[j];
            let d = if t == fdbench::Nanos::MAX {
                String::new()
            } else {
                t.0.to_string()
            };
            let (from, to) = match receipts.recv.get(j + 1) {
                Some(&next) if t < next => (a.max(t).0.to_string(), next.0.to_string()),
                _ => (String::new(), String::new()),
            };
            writeln!(w, "{},{},{},{},{}", receipts.seq[j], a.0, d, from, to)?;
        }
        Ok(())
    })
}

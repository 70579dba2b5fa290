//! `fdbench tune`: for every detector, the most aggressive setting within a target
//! mistake rate, and where the production presets stand.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use fdbench::detector::DetectorSpec;
use fdbench::replay::Options;
use fdbench::results::{self, Format};
use fdbench::sweep;
use fdbench::tune::{self, Line, Status, Target};

use super::common::{self, EvalArgs};

/// Tune every detector to a target mistake rate: the fastest detection that stays
/// within it, compared at equal accuracy.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    fdbench tune trace.csv --max-mistakes 1/day
    fdbench tune trace.csv --max-mistakes 10/h --detector 'phi:window=100' --detector 'chen:alpha=0..5s:1ms'
    fdbench tune trace.csv --max-mistakes 0.5/min --format csv -o tuned.csv")]
pub struct Args {
    /// The trace (CSV, or .csv.gz)
    pub trace: PathBuf,
    /// Target mistake rate: COUNT/UNIT with UNIT s, min, h, day or week
    #[arg(long, value_name = "RATE", default_value = "1/day", value_parser = tune::parse_rate)]
    pub max_mistakes: f64,
    /// Detector specs to tune; a range on the knob sets the searched range [default: every
    /// detector over its default range]
    #[arg(short, long = "detector", value_name = "SPEC")]
    pub detectors: Vec<String>,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Output format: a table for people, or the tuned rows in the results schema
    #[arg(long, value_enum, default_value = "table")]
    pub format: super::replay::OutFormat,
    /// Write the output here instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn targets(texts: &[String]) -> anyhow::Result<Vec<Target>> {
    if texts.is_empty() {
        return Ok(tune::default_targets());
    }
    let specs = common::parse_specs(texts)?;
    Ok(specs
        .into_iter()
        .map(|spec| {
            let range = match (spec.config.knob(), spec.knob_values.len()) {
                (Some(_), n) if n > 1 => (spec.knob_values[0], spec.knob_values[n - 1]),
                (Some(k), _) => (k.sweep.0, k.sweep.1),
                (None, _) => (0.0, 0.0),
            };
            Target {
                spec,
                range: Some(range),
            }
        })
        .collect())
}

/// Renders tuned lines as a table.
pub fn table(lines: &[Line], target_per_h: f64) -> String {
    let mut rows: Vec<fdbench::results::Row> = Vec::new();
    let mut notes = Vec::new();
    for l in lines {
        let t = &l.tuned;
        let mut r = sweep::row(None, &t.config, t.value.unwrap_or(0.0), &t.metrics);
        match (l.preset, t.status) {
            (Some(p), _) => r.detector = format!("{p} (preset)"),
            (None, Status::NotReached) => {
                r.detector = format!("{}*", r.detector);
                notes.push(format!(
                    "* {}: the target is not met even at the end of the searched range",
                    t.config.name()
                ));
            }
            (None, Status::RangeStart) => {
                r.detector = format!("{}+", r.detector);
                notes.push(format!(
                    "+ {}: the start of the searched range already meets the target",
                    t.config.name()
                ));
            }
            _ => {}
        }
        rows.push(r);
    }
    let mut out = format!("Most aggressive setting with at most {target_per_h:.4} mistakes per hour:\n\n");
    out.push_str(&common::table(&rows));
    for n in notes {
        let _ = writeln!(out, "{n}");
    }
    out
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let targets = targets(&args.detectors)?;
    let out = args.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    common::check_not_input(&out, std::slice::from_ref(&args.trace))?;
    let trace = common::load_trace(&args.trace, args.eval.interval)?;
    let receipts = trace.accepted();
    let specs: Vec<DetectorSpec> = targets.iter().map(|t| t.spec.clone()).collect();
    let warmup = sweep::warmup_for(&specs, args.eval.warmup)?;
    let opts = Options {
        warmup,
        deadline: args.eval.deadline,
    };
    let lines = tune::tune_all(&receipts, &targets, args.max_mistakes, &opts)
        .with_context(|| format!("{}", args.trace.display()))?;
    let rows: Vec<_> = lines
        .iter()
        .map(|l| sweep::row(None, &l.tuned.config, l.tuned.value.unwrap_or(0.0), &l.tuned.metrics))
        .collect();
    let written = match args.format {
        super::replay::OutFormat::Table => {
            fdbench::output::write_bytes(&out, table(&lines, args.max_mistakes).as_bytes())
        }
        super::replay::OutFormat::Csv => results::write_path(&rows, Format::Csv, &out),
        super::replay::OutFormat::Json => results::write_path(&rows, Format::Json, &out),
    };
    written.with_context(|| format!("writing {}", out.display()))
}

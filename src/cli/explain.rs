//! `fdbench explain`: each mistake of one detector setting on a trace, and why.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use fdbench::Nanos;
use fdbench::detector::registry::Unit;
use fdbench::explain::{self, Mistake};
use fdbench::sweep;

use super::common;

const AFTER_HELP: &str = "\
One line per mistake (evaluation.md's S-transitions): the receipt after which the
detector gave up (its seq and time), the gap to the next receipt and the heartbeats
missing in it, the deadline it had set (ms after that receipt), how long it
suspected, late receipts that did not restore trust, its level when the next
heartbeat came (phi_at_next for the phi detectors, ns past the deadline's base for the
timeout ones), and its estimator's state after that receipt: mean and standard
deviation of the intervals, the expected arrival, the window fill. A detector whose
estimator keeps no mean or standard deviation (fixed, chen, 2w, nfd-s, bertier,
exp-phi's deviation, satzger) also gets interval_mean_ms and interval_std_ms: those of
the trace's last intervals, as many as its window holds (intervals), or the warm-up's
for one without a window. The CSV has all three for every detector.

EXAMPLES:
    fdbench explain trace.csv -d akka
    fdbench explain trace.csv -d 'fixed:timeout=250ms' --format csv -o mistakes.csv
    fdbench explain trace.csv -d 'phi:threshold=8,window=100' --warmup 100 --limit 20";

/// Output formats of `explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table, times in ms.
    Table,
    /// One row per mistake, times in integer ns, state values as the detector gives them.
    Csv,
}

/// Arguments of `fdbench explain`.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The trace (CSV, or .csv.gz; `-` = stdin)
    #[arg(value_name = "TRACE")]
    trace: PathBuf,
    /// One detector setting NAME[:key=value,...] without ranges (see `fdbench list`)
    #[arg(short, long = "detector", value_name = "SPEC")]
    detector: String,
    /// Accepted receipts that train the detector before evaluation [default: 1000, raised
    /// to the detector's window]
    #[arg(long, value_name = "N")]
    warmup: Option<usize>,
    /// Nominal heartbeat interval, overriding the trace's metadata or inferred value
    #[arg(long, value_name = "DURATION", value_parser = super::common::parse_interval)]
    interval: Option<Nanos>,
    /// Show at most N mistakes (the first ones); the count still covers all
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Output file (`-` = stdout)
    #[arg(short, long, default_value = "-", value_name = "FILE")]
    output: PathBuf,
}

/// Runs `fdbench explain`.
pub fn run(args: Args) -> anyhow::Result<()> {
    common::check_not_input(&args.output, std::slice::from_ref(&args.trace))?;
    let specs = common::parse_specs(std::slice::from_ref(&args.detector))?;
    let [spec] = specs.as_slice() else {
        return Err(common::usage(format!(
            "--detector '{}' expands to {} detectors; explain takes one setting (no ranges or lists)",
            args.detector,
            specs.len()
        )));
    };
    let [knob] = spec.knob_values.as_slice() else {
        return Err(common::usage(format!(
            "--detector '{}' has {} knob values; explain takes one (write e.g. threshold=8, not a range)",
            args.detector,
            spec.knob_values.len()
        )));
    };
    let trace = common::load_trace(&args.trace, args.interval)?;
    let receipts = trace.accepted();
    common::check_runs(std::slice::from_ref(spec), &receipts, &args.trace)?;
    let warmup = sweep::warmup_for(std::slice::from_ref(spec), args.warmup)?;
    let mut det = spec.config.detector(receipts.interval, *knob);
    let all =
        explain::mistakes(&receipts, det.as_mut(), warmup).with_context(|| format!("{}", args.trace.display()))?;
    let shown = &all[..args.limit.unwrap_or(all.len()).min(all.len())];
    let text = match args.format {
        Format::Table => {
            let l = receipts.recv[receipts.len() - 1] - receipts.recv[warmup];
            let mut s = format!(
                "{} on {}: {} mistake(s) in {:.3} h evaluated (warm-up {} receipts, interval {})\n",
                args.detector,
                args.trace.display(),
                all.len(),
                l.as_secs_f64() / 3600.0,
                warmup,
                receipts.interval
            );
            if shown.len() < all.len() {
                let _ = writeln!(s, "showing the first {}", shown.len());
            }
            let level_in_ns = spec.config.knob().is_none_or(|k| k.unit == Unit::Duration);
            let phi = PHI_DETECTORS.contains(&spec.config.definition().name);
            s + &table(shown, level_in_ns, phi)
        }
        Format::Csv => csv(shown),
    };
    fdbench::output::write_atomic(&args.output, |w| w.write_all(text.as_bytes()))
        .with_context(|| format!("cannot write {}", args.output.display()))
}

/// The detectors whose level is φ.
const PHI_DETECTORS: [&str; 3] = ["phi", "akka", "exp-phi"];

/// The state's names and values for display: `_ns` values in milliseconds as `_ms`;
/// then the trace's intervals when the state has no mean or no standard deviation.
fn state_columns(m: &Mistake) -> Vec<(String, String)> {
    let has = |name: &str| m.state.iter().any(|&(n, _)| n == name);
    let mut state = m.state.clone();
    if !(has("mean_ns") && has("std_ns")) {
        state.extend([
            ("interval_mean_ns", m.intervals.mean_ns),
            ("interval_std_ns", m.intervals.std_ns),
            ("intervals", m.intervals.count as f64),
        ]);
    }
    state
        .iter()
        .map(|&(name, v)| match name.strip_suffix("_ns") {
            Some(stem) => (format!("{stem}_ms"), format!("{:.3}", v / 1e6)),
            None => (name.to_string(), common::fmt_g(v)),
        })
        .collect()
}

fn ms(t: Nanos) -> String {
    format!("{:.3}", t.as_millis_f64())
}

/// The mistakes as an aligned table; `level_in_ns`: the level is a duration (shown in
/// ms); `phi`: it is φ.
fn table(ms_: &[Mistake], level_in_ns: bool, phi: bool) -> String {
    let mut header: Vec<String> = [
        "#",
        "at_s",
        "after_seq",
        "gap_ms",
        "missing",
        "deadline_after_ms",
        "suspected_ms",
        "late",
        if level_in_ns {
            "level_at_next_ms"
        } else if phi {
            "phi_at_next"
        } else {
            "level_at_next"
        },
    ]
    .map(String::from)
    .to_vec();
    if let Some(first) = ms_.first() {
        header.extend(state_columns(first).into_iter().map(|(n, _)| n));
    }
    let mut rows = vec![header];
    for (i, m) in ms_.iter().enumerate() {
        let mut r = vec![
            (i + 1).to_string(),
            format!("{:.3}", m.start.as_secs_f64()),
            m.seq.to_string(),
            ms(m.gap()),
            m.missing().to_string(),
            ms(m.deadline - m.receipt),
            ms(m.duration()),
            m.late_receipts.to_string(),
            if level_in_ns {
                format!("{:.3}", m.level_at_next / 1e6)
            } else {
                format!("{:.4}", m.level_at_next)
            },
        ];
        r.extend(state_columns(m).into_iter().map(|(_, v)| v));
        rows.push(r);
    }
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(String::len).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(v, &w)| format!("{v:>w$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

/// The mistakes as CSV, times in integer nanoseconds.
fn csv(ms_: &[Mistake]) -> String {
    let mut out = String::from(
        "seq,recv_ns,deadline_ns,next_seq,next_recv_ns,gap_ns,missing,suspect_from_ns,suspect_to_ns,late_receipts,level_at_next",
    );
    if let Some(first) = ms_.first() {
        for (name, _) in &first.state {
            out.push(',');
            out.push_str(name);
        }
    }
    out.push_str(",interval_mean_ns,interval_std_ns,intervals\n");
    for m in ms_ {
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            m.seq,
            m.receipt.0,
            m.deadline.0,
            m.next_seq,
            m.next_receipt.0,
            m.gap().0,
            m.missing(),
            m.start.0,
            m.end.0,
            m.late_receipts,
            m.level_at_next
        );
        for (_, v) in &m.state {
            let _ = write!(out, ",{v}");
        }
        let i = &m.intervals;
        let _ = writeln!(out, ",{},{},{}", i.mean_ns, i.std_ns, i.count);
    }
    out
}

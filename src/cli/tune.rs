//! `fdbench tune`: for every detector, the most aggressive setting within a target
//! mistake rate, and where the production presets stand.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use fdbench::detector::DetectorSpec;
use fdbench::replay::Options;
use fdbench::results::{self, Format};
use fdbench::sweep;
use fdbench::tune::{self, Goal, Line, Status, Target};

use super::common::{self, EvalArgs};

/// Tune every detector to a target mistake rate: the fastest detection that stays
/// within it, compared at equal accuracy.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    fdbench tune trace.csv --max-mistakes 1/day
    fdbench tune trace.csv --max-mistakes 10/h -d 'phi:window=100' -d 'chen:alpha=0..5s:1ms'
    fdbench tune trace.csv --max-mistakes 0.5/min --format csv -o tuned.csv
    fdbench tune trace.csv --max-mistakes 10/h --holdout 0.3
    fdbench tune trace.csv --max-mistakes 1/h -d 'akka:pause=0s..5s:250ms' --plot figures
    fdbench tune trace.csv --max-mistakes 10/h --validate-on other.csv --min-accuracy 0.9999
    fdbench tune datasets/cluster-netns-4 --max-mistakes 1/day --objective worst-pair

A setting is feasible when its mistake rate is within the target and its query accuracy
is at least --min-accuracy. The knob is searched on a grid refined to 0.1 ms for
durations and 0.001 for plain numbers. When the evaluated span allows fewer than 3
mistakes at the target, the output says so, with the rate's 95 % upper bound.")]
pub struct Args {
    /// The trace (CSV, or .csv.gz), or a cluster folder: one setting for all its pairs
    pub trace: PathBuf,
    /// Target mistake rate: COUNT/UNIT with UNIT s, min, h, day or week
    #[arg(long, value_name = "RATE", default_value = "1/h", value_parser = tune::parse_rate)]
    pub max_mistakes: f64,
    /// Detector specs to tune; a range on the knob sets the searched range; a range on
    /// one fixed parameter (e.g. 'akka:pause=0s..5s:250ms') tunes the knob at each value
    /// and reports the frontier and the fastest feasible pair [default: every detector
    /// over its default range, akka as the pair (threshold, pause) with pause 0s..5s:500ms]
    #[arg(short, long = "detector", value_name = "SPEC")]
    pub detectors: Vec<String>,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Smallest query accuracy P_A a recommended setting may have
    #[arg(long, value_name = "P", default_value_t = tune::DEFAULT_MIN_ACCURACY, value_parser = parse_accuracy)]
    pub min_accuracy: f64,
    /// Keep the last fraction F of the evaluated span out of the search, and show the
    /// chosen settings replayed on it beside the in-sample numbers
    #[arg(long, value_name = "F", value_parser = parse_fraction, conflicts_with = "validate_on")]
    pub holdout: Option<f64>,
    /// Replay the chosen settings on another trace and show them beside the in-sample
    /// numbers
    #[arg(long, value_name = "TRACE")]
    pub validate_on: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: super::cluster::TuneArgs,
    /// Output format: a table for people, or the tuned rows in the results schema
    /// (with a leading `trace` column, `in-sample` or `out-of-sample`, when validating)
    #[arg(long, value_enum, default_value = "table")]
    pub format: super::replay::OutFormat,
    /// Write the output here instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Draw the frontier of each two-parameter tuning into this folder (created if
    /// missing), as frontier-DETECTOR-PARAM.svg and .png: the tuned knob's detection
    /// time and value at each value of the second parameter, infeasible ones hollow
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
}

pub(super) fn parse_accuracy(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("'{s}': give a query accuracy between 0 and 1, e.g. 0.999")),
    }
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x < 1.0 => Ok(x),
        _ => Err(format!("'{s}': give a fraction strictly between 0 and 1, e.g. 0.3")),
    }
}

pub(super) fn targets(texts: &[String]) -> anyhow::Result<Vec<Target>> {
    if texts.is_empty() {
        return Ok(tune::default_targets());
    }
    let specs = common::parse_specs(texts)?;
    Ok(specs
        .into_iter()
        .map(|spec| {
            let range = match (spec.config.knob(), spec.knob_values.len()) {
                (Some(_), n) if n > 1 => (spec.knob_values[0], spec.knob_values[n - 1]),
                (Some(k), _) => (k.sweep_bounds().0, k.sweep_bounds().1),
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
pub fn table(lines: &[Line], goal: &Goal, markdown: bool) -> String {
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
    notes.dedup();
    let mut out = format!(
        "Most aggressive setting with at most {:.4} mistakes per hour and query accuracy at least {} (the exact critical knob value, rounded up to 1 µs for durations and to 4 significant digits otherwise):\n\n",
        goal.max_mistakes_per_h, goal.min_accuracy
    );
    out.push_str(&common::table(&rows, markdown));
    for n in notes {
        let _ = writeln!(out, "{n}");
    }
    for f in tune::frontiers(lines, goal) {
        let _ = writeln!(
            out,
            "\n{} tuned over {} values of {} (the frontier is the rows above):",
            f.detector,
            f.lines.len(),
            f.param
        );
        match f.best {
            Some(b) => {
                let r = &rows[b];
                let _ = writeln!(
                    out,
                    "  fastest feasible pair: {} with {}={} (T_D mean {:.1} ms, p99 {:.1} ms)",
                    r.params,
                    r.knob,
                    common::fmt_g(r.value.unwrap_or(0.0)),
                    r.detection_mean_ms,
                    r.detection_p99_ms
                );
            }
            None => {
                let _ = writeln!(out, "  no value of {} gives a feasible setting", f.param);
            }
        }
    }
    if let Some(w) = lines.iter().find_map(|l| goal.resolution_warning(&l.tuned.metrics)) {
        let _ = writeln!(out, "\nwarning: {w}");
        for l in lines {
            let (_, hi) = l.tuned.metrics.mistake_rate_interval_per_h();
            let _ = writeln!(
                out,
                "  {}: {} mistakes, at most {hi:.4} per hour",
                l.preset.unwrap_or(l.tuned.config.name()),
                l.tuned.metrics.mistakes
            );
        }
    }
    out
}

/// For each preset among the lines, the configuration line of the cheapest change of
/// its system's setting that meets the goal (as `fdbench verdict` prints it).
fn preset_changes(
    receipts: &fdbench::trace::Receipts,
    lines: &[Line],
    goal: &Goal,
    opts: &Options,
) -> anyhow::Result<String> {
    let mut out = String::new();
    for l in lines
        .iter()
        .filter(|l| l.tuned.config.preset().is_some_and(|p| p.lever.is_some()))
    {
        let t = &l.tuned;
        let v =
            fdbench::verdict::verdict_given(receipts, &t.config, t.value.unwrap_or(0.0), Some(t.metrics), goal, opts)?;
        let what = match v.outcome {
            fdbench::verdict::Outcome::Raise => "cheapest change that meets the target",
            fdbench::verdict::Outcome::Lower => "most aggressive setting that still meets the target",
            fdbench::verdict::Outcome::Keep => "already the cheapest setting that meets the target",
            fdbench::verdict::Outcome::Unreachable => "no setting meets the target",
        };
        let _ = writeln!(
            out,
            "
{} ({what}):",
            t.config.label(t.value.unwrap_or(0.0))
        );
        if let Some(c) = &v.change {
            for line in &c.lines {
                let _ = writeln!(out, "    {line}");
            }
            for n in &c.notes {
                let _ = writeln!(out, "  note: {n}");
            }
        }
        if let Some(why) = &v.beyond_limits {
            let _ = writeln!(out, "  note: {why}");
        }
    }
    Ok(out)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut targets = targets(&args.detectors)?;
    let out = args.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    common::check_not_input(&out, std::slice::from_ref(&args.trace))?;
    if let Some(dir) = &args.plot {
        common::check_not_input(dir, std::slice::from_ref(&args.trace))?;
        fdbench::output::check_folder(dir, fdbench::plot::FIGURE_FOLDER)?;
    }
    if let Some(dir) = super::cluster::folder(std::slice::from_ref(&args.trace))? {
        if args.plot.is_some() {
            return Err(common::usage(
                "--plot draws the frontier of one trace; it does not apply to a cluster folder",
            ));
        }
        let markdown = args.format == super::replay::OutFormat::Markdown;
        let (text, rows) = super::cluster::tune(dir, &targets, args.max_mistakes, &args.eval, &args.cluster, markdown)?;
        return super::cluster::write_tuned(&text, &rows, args.format, &out);
    }
    super::cluster::reject_without_folder(&args.cluster.cluster)?;
    let trace = common::load_trace(&args.trace, args.eval.interval)?;
    let receipts = trace.accepted();
    let period_warning = receipts.period_warning();
    if args.detectors.is_empty() {
        targets = tune::with_default_pairs(tune::default_targets_for(&receipts));
    } else {
        let specs: Vec<DetectorSpec> = targets.iter().map(|t| t.spec.clone()).collect();
        common::check_runs(&specs, &receipts, &args.trace)?;
    }
    let specs: Vec<DetectorSpec> = targets.iter().map(|t| t.spec.clone()).collect();
    let warmup = sweep::warmup_for(&specs, args.eval.warmup)?;
    let opts = Options {
        warmup,
        deadline: args.eval.deadline,
    };
    let goal = Goal {
        max_mistakes_per_h: args.max_mistakes,
        min_accuracy: args.min_accuracy,
    };
    // The search data, and the out-of-sample data with what it is.
    let (search, held, held_name) = match (&args.holdout, &args.validate_on) {
        (Some(f), _) => {
            let Some((a, b)) = tune::split(&receipts, warmup, *f) else {
                anyhow::bail!(
                    "--holdout {f}: {} cannot be cut into two parts of at least 2 evaluated receipts each after a warm-up of {warmup}; use a longer trace or a smaller --warmup",
                    args.trace.display()
                );
            };
            (a, Some(b), format!("the last {:.0} % of the evaluated span", f * 100.0))
        }
        (None, Some(p)) => {
            let t = common::load_trace(p, args.eval.interval)?;
            (receipts, Some(t.accepted()), p.display().to_string())
        }
        (None, None) => (receipts, None, String::new()),
    };
    let lines = tune::tune_all(&search, &targets, &goal, &opts).with_context(|| format!("{}", args.trace.display()))?;
    if let Some(dir) = &args.plot {
        plot_frontiers(&lines, &goal, dir, &args.trace)?;
    }
    let outside = match &held {
        Some(h) => Some(tune::replay_lines(h, &lines, &opts).with_context(|| held_name.clone())?),
        None => None,
    };
    let to_rows = |lines: &[Line], name: Option<&str>| -> Vec<fdbench::results::Row> {
        lines
            .iter()
            .map(|l| sweep::row(name, &l.tuned.config, l.tuned.value.unwrap_or(0.0), &l.tuned.metrics))
            .collect()
    };
    let rows = match &outside {
        Some(o) => {
            let mut rows = to_rows(&lines, Some("in-sample"));
            rows.extend(to_rows(o, Some("out-of-sample")));
            rows
        }
        None => to_rows(&lines, None),
    };
    let markdown = args.format == super::replay::OutFormat::Markdown;
    let mut text = table(&lines, &goal, markdown);
    text.push_str(&preset_changes(&search, &lines, &goal, &opts)?);
    if let Some(w) = &period_warning {
        let _ = writeln!(text, "\nwarning: {}: {w}", args.trace.display());
    }
    if let Some(o) = &outside {
        let what = if args.holdout.is_some() {
            "the first part of the evaluated span"
        } else {
            "the whole trace"
        };
        let _ = write!(
            text,
            "\nIn sample: the settings above were chosen on {what}. Out of sample: the same settings replayed on {held_name}:\n\n{}",
            common::table(&to_rows(o, None), markdown)
        );
        let missed: Vec<&str> = lines
            .iter()
            .zip(o)
            .filter(|(i, x)| goal.feasible(&i.tuned.metrics) && !goal.feasible(&x.tuned.metrics))
            .map(|(i, _)| i.preset.unwrap_or(i.tuned.config.name()))
            .collect();
        if !missed.is_empty() {
            let _ = writeln!(text, "not feasible out of sample: {}", missed.join(", "));
        }
    }
    let written = match args.format {
        super::replay::OutFormat::Table | super::replay::OutFormat::Markdown => {
            fdbench::output::write_bytes(&out, text.as_bytes())
        }
        super::replay::OutFormat::Csv => results::write_path(&rows, Format::Csv, &out),
        super::replay::OutFormat::Json => results::write_path(&rows, Format::Json, &out),
    };
    written.with_context(|| format!("writing {}", out.display()))
}

/// Draws the frontier of every two-parameter tuning among `lines` into `dir`, replacing
/// the figures of those names and keeping the folder's others.
fn plot_frontiers(lines: &[Line], goal: &Goal, dir: &std::path::Path, trace: &std::path::Path) -> anyhow::Result<()> {
    let frontiers = tune::frontiers(lines, goal);
    if frontiers.is_empty() {
        return Err(common::usage(
            "--plot draws the frontier of a two-parameter tuning: give a range on one fixed parameter, e.g. -d 'akka:pause=0s..5s:250ms'",
        ));
    }
    let staged = fdbench::output::StagedDir::new(dir, fdbench::plot::FIGURE_FOLDER)?;
    let source = trace.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut files = Vec::new();
    for f in &frontiers {
        files.extend(
            fdbench::plot::frontier_plot(lines, f, goal, staged.path(), source.as_deref())
                .with_context(|| format!("plotting the frontier of {} over {}", f.detector, f.param))?,
        );
    }
    staged.keep_from_dest().context("keeping the other figures")?;
    staged.commit().with_context(|| format!("writing {}", dir.display()))?;
    for f in files {
        eprintln!("wrote {}", dir.join(f.file_name().unwrap_or_default()).display());
    }
    Ok(())
}

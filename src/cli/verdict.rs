//! `fdbench verdict SYSTEM TRACE`: a production system's failure detector on a trace,
//! and the cheapest change of its setting that meets a target, as a configuration line
//! in the system's own syntax.
//!
//! The command is `verdict`, not `check`: `check` is already the name of the monitor's
//! tick parameter of the timeout-style detectors (`fixed:check=5s`), and a command of
//! the same name would make `fdbench check etcd trace.csv` read as a parameter.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use fdbench::replay::Options;
use fdbench::results::Row;
use fdbench::sweep;
use fdbench::tune::{self, Goal};
use fdbench::verdict::{self, Outcome, Setting, Verdict};

use super::common::{self, EvalArgs};

/// Output format of `fdbench verdict`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Text for people.
    Table,
    /// The same in Markdown.
    Markdown,
    /// One JSON object: the settings with their results rows, lines and notes.
    Json,
}

/// The verdict on a production system's failure detector: its defaults on the trace,
/// and the cheapest change that meets a target, ready to paste.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    fdbench generate --count 40000 | fdbench resample - --every 20 | fdbench verdict kafka-broker -
    fdbench verdict 'kafka-broker:broker.session.timeout.ms=6000' broker.csv --max-mistakes 1/week
    fdbench verdict akka-cluster trace-1s.csv --format markdown -o verdict.md

SYSTEM is a production preset (fdbench list), optionally with changed settings in the
system's own names ('etcd:election-timeout=1500'). The trace's nominal interval must be
the system's heartbeat; thin a finer trace with fdbench resample. The change is
searched on the system's own grid (whole seconds, milliseconds or ticks, as it writes
the setting) and must be feasible: mistake rate within --max-mistakes and query
accuracy at least --min-accuracy. It stays within the limits the system enforces (etcd's
election timeout of at least 5 heartbeats, Kafka's group.min.session.timeout.ms): below
one, the limit's value is proposed, with a note saying why; above one, no line is
printed. The mistake rate is shown per day with its exact
(Garwood) 95 % interval.")]
pub struct Args {
    /// The production preset, as a spec string (`akka-cluster`, `etcd:election-timeout=1500`)
    #[arg(value_name = "SYSTEM")]
    pub system: String,
    /// The trace (CSV, or .csv.gz; `-` = standard input)
    pub trace: PathBuf,
    /// Target mistake rate: COUNT/UNIT with UNIT s, min, h, day or week
    #[arg(long, value_name = "RATE", default_value = "1/day", value_parser = tune::parse_rate)]
    pub max_mistakes: f64,
    /// Smallest query accuracy P_A the change may have
    #[arg(long, value_name = "P", default_value_t = tune::DEFAULT_MIN_ACCURACY)]
    pub min_accuracy: f64,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the output here instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Mistakes per day, with the 95 % interval, from a results row.
fn per_day(r: &Row) -> (String, String) {
    let lo = r.mistake_rate_low_per_h.unwrap_or(0.0) * 24.0;
    let hi = r.mistake_rate_high_per_h.unwrap_or(f64::INFINITY) * 24.0;
    (
        format!("{:.3}", r.mistake_rate_per_h * 24.0),
        format!("[{lo:.3}, {hi:.3}]"),
    )
}

/// A rate as given when it is short (`1`, `0.5`), else to 4 significant digits.
fn rate(x: f64) -> String {
    let short = common::fmt_g(x);
    if short.len() <= 6 { short } else { format!("{x:.4}") }
}

fn ms(x: f64) -> String {
    if x.is_infinite() {
        "inf".to_string()
    } else {
        format!("{x:.1}")
    }
}

fn cells(name: &str, s: &Setting) -> Vec<String> {
    let r = s.row();
    let (rate, interval) = per_day(&r);
    vec![
        name.to_string(),
        s.lines.first().cloned().unwrap_or_default(),
        r.mistakes.to_string(),
        rate,
        interval,
        r.mistake_duration_mean_ms.map_or("-".to_string(), ms),
        format!("{:.6}", r.query_accuracy),
        ms(r.detection_mean_ms),
        ms(r.detection_p99_ms),
        ms(r.detection_max_ms),
        format!("{:.4}", r.completeness),
    ]
}

/// The verdict as text (or Markdown) for people.
pub fn text(v: &Verdict, trace: &str, markdown: bool) -> String {
    let r = v.current.row();
    let mut out = format!(
        "{} on {trace}: heartbeat {}, {} heartbeats over {:.1} s evaluated\ntarget: a mistake rate of at most {} per day and a query accuracy of at least {}\n\n",
        v.current.config.preset_label(),
        v.preset.heartbeat,
        r.heartbeats,
        r.evaluated_s,
        rate(v.goal.max_mistakes_per_h * 24.0),
        v.goal.min_accuracy
    );
    let deadline = fdbench::Nanos((r.deadline_ms * 1e6).round() as i64);
    let within = format!("within_{deadline}");
    let header = [
        "",
        "setting",
        "mistakes",
        "per_day",
        "per_day_95%",
        "T_M_ms",
        "P_A",
        "TD_mean_ms",
        "TD_p99_ms",
        "TD_max_ms",
        within.as_str(),
    ];
    let mut table = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    table.push(cells("as given", &v.current));
    if let Some(c) = v.change.as_ref().filter(|_| v.outcome != Outcome::Keep) {
        table.push(cells("change", c));
    }
    out.push_str(&common::align(&table, markdown));
    out.push('\n');
    let what = match v.outcome {
        Outcome::Raise => "The setting misses the target; the cheapest change that meets it:",
        Outcome::Lower => "The setting meets the target; the most aggressive setting that still meets it:",
        Outcome::Keep => "The setting meets the target, and one step less would not:",
        Outcome::Unreachable => "",
    };
    match &v.change {
        Some(c) => {
            let _ = writeln!(out, "{what}\n");
            let fence = if markdown { "```text\n" } else { "" };
            out.push_str(fence);
            for l in &c.lines {
                let _ = writeln!(out, "    {l}");
            }
            if markdown {
                out.push_str("```\n");
            }
            for n in &c.notes {
                let _ = writeln!(out, "\nnote: {n}");
            }
        }
        None if v.beyond_limits.is_some() => {
            let _ = writeln!(
                out,
                "No value the system accepts meets the target: {}.",
                v.beyond_limits.as_deref().unwrap_or_default()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "No value of {} meets the target on this trace (the mistakes or the accuracy floor stay out of reach); try a longer trace, a looser --max-mistakes or a lower --min-accuracy.",
                v.lever
            );
        }
    }
    if let Some(w) = &v.warning {
        let _ = writeln!(out, "\nwarning: {w}");
    }
    let heartbeat = v.preset.heartbeat;
    if deadline <= heartbeat {
        let _ = writeln!(
            out,
            "\nnote: D = {deadline} is not longer than the heartbeat ({heartbeat}), so the completeness within it says \
             little; give a longer --deadline (e.g. --deadline {}, ten heartbeats, as the report does)",
            fdbench::Nanos(heartbeat.0.saturating_mul(10))
        );
    }
    let _ = writeln!(
        out,
        "\nper_day_95% is the exact (Garwood) 95 % interval of the mistake rate; detection time is measured from the {} of the last heartbeat; {within} is the share of crashes detected within D.",
        r.detection_origin
    );
    out
}

fn setting_json(s: &Setting) -> serde_json::Value {
    serde_json::json!({
        "lines": s.lines,
        "notes": s.notes,
        "row": s.row(),
    })
}

/// The verdict as one JSON object.
pub fn json(v: &Verdict) -> serde_json::Value {
    serde_json::json!({
        "system": v.preset.name,
        "setting": v.lever,
        "goal": v.goal,
        "outcome": v.outcome,
        "current": setting_json(&v.current),
        "change": v.change.as_ref().map(setting_json),
        "warning": v.warning,
        "beyond_limits": v.beyond_limits,
    })
}

/// Runs `fdbench verdict`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let specs = common::parse_specs(std::slice::from_ref(&args.system))?;
    let [spec] = specs.as_slice() else {
        return Err(common::usage(format!(
            "SYSTEM '{}' expands to {} settings; give one (no ranges or lists)",
            args.system,
            specs.len()
        )));
    };
    let [knob] = spec.knob_values.as_slice() else {
        return Err(common::usage(format!(
            "SYSTEM '{}' has {} knob values; give one",
            args.system,
            spec.knob_values.len()
        )));
    };
    if spec.config.preset().is_none() {
        let names: Vec<&str> = sweep::preset_names().collect();
        return Err(common::usage(format!(
            "SYSTEM '{}' is a detector, not a production system; give one of: {}",
            args.system,
            names.join(", ")
        )));
    }
    if !(0.0..=1.0).contains(&args.min_accuracy) {
        return Err(common::usage(format!(
            "--min-accuracy {}: give a query accuracy between 0 and 1, e.g. 0.999",
            args.min_accuracy
        )));
    }
    let out = args.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    common::check_not_input(&out, std::slice::from_ref(&args.trace))?;
    let trace = common::load_trace(&args.trace, args.eval.interval)?;
    let receipts = trace.accepted();
    common::check_runs(&specs, &receipts, &args.trace)?;
    let opts = Options {
        warmup: sweep::warmup_for(&specs, args.eval.warmup)?,
        deadline: args.eval.deadline,
    };
    let goal = Goal {
        max_mistakes_per_h: args.max_mistakes,
        min_accuracy: args.min_accuracy,
    };
    let v = verdict::verdict(&receipts, &spec.config, *knob, &goal, &opts)
        .with_context(|| args.trace.display().to_string())?;
    let body = match args.format {
        Format::Table | Format::Markdown => {
            let name = match args.trace.as_os_str() == "-" {
                true => "standard input".to_string(),
                false => args.trace.display().to_string(),
            };
            text(&v, &name, args.format == Format::Markdown)
        }
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&json(&v))?),
    };
    fdbench::output::write_bytes(&out, body.as_bytes()).with_context(|| format!("writing {}", out.display()))
}

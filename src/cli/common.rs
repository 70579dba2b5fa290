//! Pieces shared by the subcommands: loading traces, parsing detector specs, the
//! evaluation flags, and the human-readable results table.

use std::path::{Path, PathBuf};

use clap::Args;

use fdbench::Nanos;
use fdbench::detector::DetectorSpec;
use fdbench::results::Row;
use fdbench::trace::Trace;

/// Flags that say how traces are evaluated.
#[derive(Args, Debug, Clone)]
pub struct EvalArgs {
    /// Accepted receipts that train the detectors before evaluation [default: 1000, raised
    /// to the largest window in the comparison]
    #[arg(long, value_name = "N")]
    pub warmup: Option<usize>,
    /// Completeness deadline D: a crash counts as detected in time if detected within D
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub deadline: Nanos,
    /// Nominal heartbeat interval, overriding the trace's metadata or inferred value
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub interval: Option<Nanos>,
}

/// An error in what the command line asks for (a flag, a spec string, a range, a
/// limit): exit code 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A usage error (exit code 2) with this message.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Usage(message.into()).into()
}

/// Threads at most this many times the cores, unless `--force-threads`.
pub const MAX_THREADS_PER_CORE: usize = 4;

/// The worker threads for `-j`: all cores by default; 0 and more than
/// [`MAX_THREADS_PER_CORE`] times the cores (without `force`) are usage errors.
pub fn thread_count(requested: Option<usize>, force: bool) -> anyhow::Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let limit = cores.saturating_mul(MAX_THREADS_PER_CORE);
    match requested {
        None => Ok(cores),
        Some(0) => Err(usage("-j 0: give at least one thread")),
        Some(n) if n > limit && !force => Err(usage(format!(
            "-j {n}: more than {MAX_THREADS_PER_CORE} threads per core ({cores} cores, at most {limit}); give -j {cores}, or add --force-threads"
        ))),
        Some(n) => Ok(n),
    }
}

/// clap value parser for durations with units.
pub fn parse_duration(s: &str) -> Result<Nanos, String> {
    fdbench::time::parse_duration(s).map_err(|e| e.to_string())
}

/// clap value parser for a heartbeat interval: a positive duration.
pub fn parse_interval(s: &str) -> Result<Nanos, String> {
    match parse_duration(s)? {
        d if d.0 > 0 => Ok(d),
        _ => Err(format!("interval '{s}' is not positive; give e.g. 100ms")),
    }
}

/// Reads a trace file, applying `--interval`.
pub fn load_trace(path: &Path, interval: Option<Nanos>) -> anyhow::Result<Trace> {
    let t = fdbench::trace::csv::read_path(path, interval)?;
    Ok(t)
}

/// A short name for a trace file: its file name.
pub fn trace_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Parses every `--detector` spec string (each may expand to several specs). All of them
/// together expand to at most [`spec::MAX_VALUES`] (configuration, knob value) pairs,
/// each spec's count checked before its values are built.
pub fn parse_specs(texts: &[String]) -> anyhow::Result<Vec<DetectorSpec>> {
    use fdbench::detector::spec::{self, SpecError};
    let mut out = Vec::new();
    let mut used = 0;
    for t in texts {
        let specs = spec::parse_within(t, spec::MAX_VALUES - used).map_err(|e| match e {
            SpecError::TooMany { count, .. } if used > 0 => usage(format!(
                "--detector '{t}': the --detector specs before it expand to {used} values and this one to {count} more, over the limit of {} for all of them together; use larger steps or shorter ranges",
                spec::MAX_VALUES
            )),
            e => usage(format!("--detector '{t}': {e}")),
        })?;
        used += specs.iter().map(|s| s.knob_values.len()).sum::<usize>();
        out.extend(specs);
    }
    Ok(out)
}

/// Checks that every spec runs on the trace at `path` (send times for `nfd-s`, the
/// preset's heartbeat as the nominal interval), before any work starts; the error for
/// a preset gives the exact `fdbench resample` command on `path`.
pub fn check_runs(specs: &[DetectorSpec], receipts: &fdbench::trace::Receipts, path: &Path) -> anyhow::Result<()> {
    for s in specs {
        fdbench::sweep::check_runs(&s.config, receipts, &path.display().to_string())?;
    }
    Ok(())
}

/// Refuses an output that is one of the inputs (or a folder holding one), before any
/// work starts.
pub fn check_not_input(output: &Path, inputs: &[PathBuf]) -> anyhow::Result<()> {
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    fdbench::output::check_not_input(output, &inputs)?;
    Ok(())
}

/// Checks that every input path exists before any work starts.
pub fn check_inputs(paths: &[PathBuf]) -> anyhow::Result<()> {
    for p in paths {
        if p.as_os_str() != "-" && !p.is_file() {
            anyhow::bail!(
                "{}: no such file; give the path of a trace CSV (or .csv.gz)",
                p.display()
            );
        }
    }
    Ok(())
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_string(), |x| fmt_num(x, digits))
}

fn fmt_num(x: f64, digits: usize) -> String {
    if x.is_infinite() {
        "inf".to_string()
    } else {
        format!("{x:.digits$}")
    }
}

/// The row's 95 % interval of the mistake rate, `[low, high]` per hour.
fn interval(r: &Row) -> String {
    match (r.mistake_rate_low_per_h, r.mistake_rate_high_per_h) {
        (Some(lo), Some(hi)) => format!("[{}, {}]", fmt_num(lo, 3), fmt_num(hi, 3)),
        _ => "-".to_string(),
    }
}

/// Renders rows as an aligned text table for people.
pub fn table(rows: &[Row], markdown: bool) -> String {
    let header = [
        "detector",
        "params",
        "knob",
        "mistakes",
        "per_h",
        "per_h_95%",
        "T_M_ms",
        "P_A",
        "TD_mean_ms",
        "TD_p50_ms",
        "TD_p99_ms",
        "TD_max_ms",
        "complete",
    ];
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for r in rows {
        let knob = r.setting().unwrap_or_else(|| "-".to_string());
        let mut name = r.detector.clone();
        if let Some(t) = &r.trace {
            name = format!("{t}: {name}");
        }
        cells.push(vec![
            name,
            if r.params.is_empty() {
                "-".to_string()
            } else {
                r.params.clone()
            },
            knob,
            r.mistakes.to_string(),
            fmt_num(r.mistake_rate_per_h, 3),
            interval(r),
            opt(r.mistake_duration_mean_ms, 1),
            format!("{:.6}", r.query_accuracy),
            fmt_num(r.detection_mean_ms, 1),
            fmt_num(r.detection_p50_ms, 1),
            fmt_num(r.detection_p99_ms, 1),
            fmt_num(r.detection_max_ms, 1),
            format!("{:.4}", r.completeness),
        ]);
    }
    let mut out = align(&cells, markdown);
    if let Some(r) = rows.first() {
        out.push_str(&format!(
            "\n{} heartbeats evaluated over {:.1} s; per_h_95% is the exact (Garwood) 95 % interval of the mistake rate; completeness within D = {} ms; detection time measured from the {}{}\n",
            r.heartbeats,
            r.evaluated_s,
            fmt_g(r.deadline_ms),
            r.detection_origin,
            if r.detection_origin == "receipt" {
                " of the last heartbeat (the trace has no send times, so network delay is left out)"
            } else {
                " of the last heartbeat"
            }
        ));
    }
    out
}

/// A number in its shortest exact form.
pub fn fmt_g(x: f64) -> String {
    format!("{x}")
}

/// Cells (the first row the header) as left-aligned columns two spaces apart, one line
/// per row; or, with `markdown`, as a Markdown table.
pub fn align(cells: &[Vec<String>], markdown: bool) -> String {
    let columns = cells.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| cells.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, r) in cells.iter().enumerate() {
        let line: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        if markdown {
            out.push_str(&format!("| {} |\n", line.join(" | ")));
            if i == 0 {
                let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w.max(3))).collect();
                out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
            }
        } else {
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
    }
    out
}

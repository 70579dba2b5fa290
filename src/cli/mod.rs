//! Command-line interface: one module per subcommand. Data goes to stdout or files,
//! progress and errors to stderr.

mod cluster;
mod common;
mod explain;
mod generate;
mod import;
mod list;
mod merge;
mod pcap;
mod plot;
mod progress;
mod record;
mod replay;
mod report;
mod resample;
mod shell;
mod stats;
mod sweep;
mod tune;
mod verdict;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Benchmark failure detectors on heartbeat traces.
#[derive(Parser, Debug)]
#[command(name = "fdbench", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
EXAMPLES:
    fdbench report                                   # the default scenario, into reports/default
    fdbench generate --preset wan --duration 24h --seed 7 -o trace.csv
    fdbench stats trace.csv
    fdbench list";

#[derive(Subcommand, Debug)]
enum Command {
    /// The main job: trace, sweep, tuning, plots, summary and manifest in one folder
    Report(Box<report::Args>),
    /// Evaluate detectors on a trace with the exact engine
    Replay(replay::Args),
    /// Sweep detectors' knobs over traces, in parallel, into a results file
    Sweep(sweep::Args),
    /// Join the outputs of `sweep --shard I/N` into one results file
    Merge(merge::Args),
    /// Tune every detector to a target mistake rate on a trace
    Tune(tune::Args),
    /// A production system's failure detector on a trace, and the cheapest change that meets a target
    Verdict(verdict::Args),
    /// Write a synthetic heartbeat trace from a preset and flags.
    Generate(Box<generate::Args>),
    /// Describe a trace: loss, reordering, inter-arrival times, delays, longest gap.
    Stats(stats::Args),
    /// Thin a trace to a coarser interval: keep every k-th heartbeat by seq.
    Resample(resample::Args),
    /// List each mistake of one detector setting on a trace, with the estimator's state then.
    Explain(explain::Args),
    /// Draw figures (SVG and PNG) from a results file or a trace.
    Plot(plot::Args),
    /// List the detectors and presets with their parameters, knob and source.
    List(list::Args),
    /// Record a real heartbeat trace over UDP (loopback, two processes, or network namespaces).
    Record(record::Args),
    /// Convert another heartbeat format (ping, LIP6 logs, sender schedules, any CSV) into a trace.
    Import(import::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(shell::CompletionsArgs),
    /// Write the man pages.
    Man(shell::ManArgs),
}

/// Parses the command line, runs the subcommand and maps errors to exit codes:
/// 1 for runtime and data errors, 2 for usage errors.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {
        Command::Report(a) => report::run(*a),
        Command::Replay(a) => replay::run(a),
        Command::Sweep(a) => sweep::run(a),
        Command::Merge(a) => merge::run(a),
        Command::Tune(a) => tune::run(a),
        Command::Verdict(a) => verdict::run(a),
        Command::Generate(a) => generate::run(*a),
        Command::Stats(a) => stats::run(a),
        Command::Resample(a) => resample::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Plot(a) => plot::run(a),
        Command::List(args) => list::run(args),
        Command::Record(a) => record::run(a),
        Command::Import(a) => import::run(a),
        Command::Completions(a) => shell::completions(a),
        Command::Man(a) => shell::man(a),
    };
    if std::env::var_os("FDBENCH_FAULT_COUNT").is_some() {
        eprintln!("fault steps: {}", fdbench::output::fault_steps());
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            ExitCode::from(if is_usage(&e) { 2 } else { 1 })
        }
    }
}

/// Whether the error is in what the command line asks for: a flag, a spec string, a
/// range, a limit, or an output refused before any work.
fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<common::Usage>()
            || c.is::<fdbench::detector::spec::SpecError>()
            || c.downcast_ref::<fdbench::sweep::SweepError>().is_some_and(|s| {
                use fdbench::sweep::SweepError::*;
                matches!(s, TooLarge { .. } | WarmupBelowWindow { .. })
            })
            || c.downcast_ref::<fdbench::output::OutputError>()
                .is_some_and(|o| o.is_refusal())
            || c.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<fdbench::output::OutputError>())
                .is_some_and(|o| o.is_refusal())
    })
}

/// The error and its causes joined by `: `, each said once: a cause whose text the
/// message before it already ends with is left out.
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for c in e.chain() {
        let text = c.to_string();
        if text.is_empty() || out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Whether the error is a closed standard output (e.g. piped into `head`): not a failure.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

//! `fdbench report`: the main job. Generate or load a trace, sweep every detector, tune
//! at a target mistake rate, and write results, plots, a summary and a manifest.

use std::path::PathBuf;

use anyhow::Context;

use fdbench::Nanos;
use fdbench::output;
use fdbench::report::{self, ReportOptions, Source};
use fdbench::trace::synth::{self, Length, Preset};
use fdbench::tune;

use super::common::parse_duration;

/// Make a report: trace statistics, a sweep of every detector, the tuning at equal
/// mistake rate, where the production presets stand, and every plot.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "With no arguments, reports on the built-in default scenario (6 hours of the `wan`
preset, seed 1) into reports/default, in well under a minute. Open DIR/index.html in a
browser: the summary, plots that show each point's setting and metrics on hover, and
tables that sort by a click on a column; it loads nothing from the network.

Knob ranges follow the trace's nominal interval η (timeouts 0.1 η to 20 η), D defaults
to 10 η, and a trace shorter than 2000 heartbeats gets half its length as warm-up with
windows shrunk to it; summary.md says what was fitted.

EXAMPLES:
    fdbench report
    fdbench report --preset gc --duration 2h -o reports/gc
    fdbench report --trace datasets/loopback-idle-10ms.csv.gz --max-mistakes 1/h
    fdbench report --trace trace.csv --deadline 500ms -o my-report
    fdbench report --trace ping.csv --warmup 20 -d 'chen:window=20,alpha=0..2s:20ms'
    fdbench report --trace datasets/cluster-netns-4 -d 'fixed:timeout=20ms..300ms:5ms' -o cr"
)]
pub struct Args {
    /// Report on this trace file (CSV, or .csv.gz), or on a cluster folder (with a
    /// cluster.json): its pairs, cluster-wide and quorum figures, one setting for all
    #[arg(long, value_name = "FILE", conflicts_with = "preset")]
    pub trace: Option<PathBuf>,
    /// Cluster folder only: a target is declared failed while at least K of its
    /// monitors suspect it [default: a majority of the fewest monitors of a target]
    #[arg(long, value_name = "K", requires = "trace", value_parser = super::cluster::parse_quorum)]
    pub quorum: Option<usize>,
    /// Generate the trace from this preset [default: wan]
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Length of the generated trace
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = parse_duration, conflicts_with = "trace")]
    pub duration: Nanos,
    /// Seed of the generated trace
    #[arg(long, default_value_t = synth::DEFAULT_SEED, conflicts_with = "trace")]
    pub seed: u64,
    /// Also save the generated trace as trace.csv.gz in the report
    #[arg(long, conflicts_with = "trace")]
    pub save_trace: bool,
    /// Nominal heartbeat interval of a trace file, overriding its metadata
    #[arg(long, value_name = "DURATION", value_parser = super::common::parse_interval, requires = "trace")]
    pub interval: Option<Nanos>,
    /// Target mistake rate of the tuning: COUNT/UNIT with UNIT s, min, h, day or week
    #[arg(long, value_name = "RATE", default_value = "1/h", value_parser = tune::parse_rate)]
    pub max_mistakes: f64,
    /// Completeness deadline D [default: 10 nominal intervals, e.g. 1s for heartbeats
    /// every 100ms]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub deadline: Option<Nanos>,
    /// Accepted receipts that train the detectors before evaluation [default: 1000, raised
    /// to the largest window; half the trace, with windows shrunk to it, for a trace
    /// shorter than 2000]
    #[arg(long, value_name = "N")]
    pub warmup: Option<usize>,
    /// Detector specs to sweep and tune, NAME[:key=value,...], a range on the knob setting
    /// the swept and searched range, windows kept as written (the warm-up must cover
    /// them); repeatable [default: every detector over knob ranges fitted to the trace's
    /// interval, and the presets]
    #[arg(short, long = "detector", value_name = "SPEC")]
    pub detectors: Vec<String>,
    /// The report folder [default: reports/default, reports/PRESET or reports/TRACE-NAME]
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Worker threads [default: all cores; at most 4 per core without --force-threads]
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
    /// Allow more than 4 threads per core
    #[arg(long)]
    pub force_threads: bool,
    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let threads = super::common::thread_count(args.threads, args.force_threads)?;
    let command_line = std::iter::once("fdbench".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let title = match (&args.trace, args.preset) {
        (Some(path), _) => super::common::trace_name(path)
            .trim_end_matches(".gz")
            .trim_end_matches(".csv")
            .to_string(),
        (None, None) => "default".to_string(),
        (None, Some(preset)) => preset.name().to_string(),
    };
    let dir = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&title));
    if let Some(folder) = super::cluster::folder(args.trace.as_slice())? {
        let interval = super::cluster::load(folder, args.interval)?.pairs[0].receipts.interval;
        let cluster = super::cluster::ReportArgs {
            detectors: &args.detectors,
            max_per_h: args.max_mistakes,
            eval: super::common::EvalArgs {
                warmup: args.warmup,
                deadline: args.deadline.unwrap_or(Nanos(interval.0.saturating_mul(10))),
                interval: args.interval,
            },
            quorum: args.quorum,
            threads,
            command_line,
            quiet: args.quiet,
        };
        return super::cluster::report(folder, &dir, &cluster);
    }
    if args.quorum.is_some() {
        return Err(super::common::usage(format!(
            "--quorum: only for a cluster folder (a folder with {}); a trace file has one monitor and one target, so drop the flag",
            fdbench::cluster::MANIFEST
        )));
    }
    if let Some(path) = &args.trace {
        output::check_not_input(&dir, &[path.as_path()])?;
    }
    output::check_folder(&dir, report::REPORT_FOLDER)?;
    let (trace, source, sha) = match &args.trace {
        Some(path) => {
            let (trace, sha) = report::read_trace_hashed(path, args.interval)?;
            let source = Source::File {
                path: path.display().to_string(),
            };
            (trace, source, sha)
        }
        None => {
            let preset = args.preset.unwrap_or(Preset::Wan);
            let mut cfg = preset.config();
            cfg.length = Length::Duration(args.duration);
            let trace = synth::generate(&cfg, args.seed).map_err(|e| match e {
                synth::SynthError::Invalid { .. } => super::common::usage(e.to_string()),
                e => anyhow::Error::new(e).context("generating the trace"),
            })?;
            let sha = report::trace_sha256(&trace).context("serializing the trace")?;
            let source = Source::Generated {
                preset: preset.name().to_string(),
                seed: args.seed,
                command: cfg.command_line(args.seed),
            };
            (trace, source, sha)
        }
    };
    let opts = ReportOptions {
        title,
        source,
        trace_sha256: sha,
        warmup: args.warmup,
        deadline: args.deadline,
        detectors: super::common::parse_specs(&args.detectors)?,
        target_per_h: args.max_mistakes,
        command_line,
        threads,
        save_trace: args.save_trace,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting worker threads")?;
    let quiet = args.quiet;
    let started = std::time::Instant::now();
    let report = pool
        .install(|| {
            report::write(&trace, &opts, &dir, &|step| {
                if !quiet {
                    eprintln!("[{:6.1} s] {step}", started.elapsed().as_secs_f64());
                }
            })
        })
        .with_context(|| format!("report {}", dir.display()))?;
    if !quiet {
        eprintln!(
            "[{:6.1} s] wrote {} ({} rows; index.html, summary.md, plots, manifest.json)",
            started.elapsed().as_secs_f64(),
            report.dir.display(),
            report.rows
        );
    }
    Ok(())
}

//! `fdbench plot`: figures from a results file or from a trace.

use std::path::PathBuf;

use anyhow::Context;

use super::common::usage;
use fdbench::output::{self, StagedDir};

use fdbench::plot::{self, PlotOptions, TracePlotOptions};
use fdbench::time::parse_duration;

const EXAMPLES: &str = "\
EXAMPLES:
    fdbench plot results.csv -o figures                 # fig13, qos, completeness-accuracy
    fdbench plot results.csv --family chen -o figures   # Figure 1.3 for chen's alpha sweep
    fdbench plot results.csv --min-accuracy 0.9999 --no-intervals -o figures
    fdbench plot --trace trace.csv -o figures           # interarrival, timeline
    fdbench plot --trace trace.csv --detector fixed:timeout=150ms --detector chen -o figures
    fdbench plot --trace trace.csv -d fixed:timeout=150ms --mark-mistakes -o figures";

/// Draw figures (SVG and PNG) from a results file or a trace.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Results CSV written by `fdbench sweep` (draws fig13, qos, completeness-accuracy).
    #[arg(required_unless_present = "trace", conflicts_with = "trace")]
    pub results: Option<PathBuf>,
    /// A trace CSV (draws interarrival and timeline) instead of a results file.
    #[arg(long, value_name = "TRACE")]
    pub trace: Option<PathBuf>,
    /// Folder for the figures (created if missing); each figure is NAME.svg and NAME.png.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Detector family of fig13 [default: fixed, else the first swept detector].
    #[arg(long, value_name = "NAME")]
    pub family: Option<String>,
    /// The trace to plot when the results cover several (their `trace` column).
    #[arg(long, value_name = "NAME")]
    pub trace_name: Option<String>,
    /// A detector for the timeline (repeatable), e.g. `fixed:timeout=150ms`; every knob
    /// value of a range is drawn [default: two fixed timeouts around the largest gap].
    #[arg(short = 'd', long = "detector", value_name = "SPEC")]
    pub detectors: Vec<String>,
    /// Accuracy floor: settings with a query accuracy P_A below it are drawn hollow, as
    /// never recommended.
    #[arg(long, value_name = "P", default_value_t = fdbench::tune::DEFAULT_MIN_ACCURACY, value_parser = super::tune::parse_accuracy)]
    pub min_accuracy: f64,
    /// Draw mistake rates without their 95 % confidence interval (bands and error bars).
    #[arg(long)]
    pub no_intervals: bool,
    /// Mark on the timeline each mistake `fdbench explain` lists for each detector
    /// (numbered as explain numbers them), and list them all in timeline-mistakes.csv.
    #[arg(long)]
    pub mark_mistakes: bool,
    /// Accepted receipts that train the detectors before the mistakes are counted, as
    /// in explain (with --mark-mistakes) [default: 1000, raised to the detector's window]
    #[arg(long, value_name = "N")]
    pub warmup: Option<usize>,
    /// Nominal heartbeat interval of the trace, overriding its metadata (e.g. `100ms`).
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// Print nothing on success.
    #[arg(short, long)]
    pub quiet: bool,
}

/// The largest number of detectors drawn in one timeline.
const MAX_TIMELINE: usize = 4;

/// Runs `fdbench plot`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let inputs: Vec<PathBuf> = args.trace.iter().chain(&args.results).cloned().collect();
    super::common::check_not_input(&args.output, &inputs)?;
    output::check_folder(&args.output, plot::FIGURE_FOLDER)?;
    if args.trace.is_none() && !args.detectors.is_empty() {
        return Err(usage("--detector applies to --trace plots only"));
    }
    if args.trace.is_none() && args.mark_mistakes {
        return Err(usage(
            "--mark-mistakes applies to --trace plots only (it marks the timeline)",
        ));
    }
    if args.mark_mistakes && args.detectors.is_empty() {
        return Err(usage(
            "--mark-mistakes marks a detector's mistakes: give the detector with -d SPEC, e.g. -d fixed:timeout=150ms",
        ));
    }
    if !args.mark_mistakes && args.warmup.is_some() {
        return Err(usage(
            "--warmup applies to --mark-mistakes only (the mistakes explain lists)",
        ));
    }
    let staged = StagedDir::new(&args.output, plot::FIGURE_FOLDER)?;
    let dir = staged.path().to_path_buf();
    let files = match (&args.trace, &args.results) {
        (Some(path), _) => {
            let interval = args
                .interval
                .as_deref()
                .map(parse_duration)
                .transpose()
                .map_err(|e| usage(format!("--interval: {e}")))?;
            let trace = fdbench::trace::csv::read_path(path, interval)?;
            let specs = super::common::parse_specs(&args.detectors)?;
            let count: usize = specs.iter().map(|s| s.knob_values.len()).sum();
            if count > MAX_TIMELINE {
                return Err(usage(format!(
                    "--detector gives {count} detectors; the timeline shows at most {MAX_TIMELINE}: give fewer or single knob values"
                )));
            }
            let detectors: Vec<_> = specs
                .iter()
                .flat_map(|s| s.knob_values.iter().map(|&k| (s.config.clone(), k)))
                .collect();
            let mark_mistakes = match args.mark_mistakes {
                true => Some(fdbench::sweep::warmup_for(&specs, args.warmup)?),
                false => None,
            };
            let opts = TracePlotOptions {
                detectors,
                source: path.file_name().map(|n| n.to_string_lossy().into_owned()),
                mark_mistakes,
            };
            plot::trace_plots(&trace, &dir, &opts).with_context(|| format!("plotting {}", path.display()))?
        }
        (None, Some(path)) => {
            let rows = fdbench::results::read_csv_path(path)?;
            let opts = PlotOptions {
                family: args.family.clone(),
                trace: args.trace_name.clone(),
                source: path.file_name().map(|n| n.to_string_lossy().into_owned()),
                min_accuracy: args.min_accuracy,
                intervals: !args.no_intervals,
            };
            plot::results_plots(&rows, &dir, &opts).with_context(|| format!("plotting {}", path.display()))?
        }
        (None, None) => return Err(usage("give a results file or --trace TRACE")),
    };
    // A timeline drawn again without --mark-mistakes leaves out the list of the old one.
    let dropped: &[&str] = if args.trace.is_some() && !args.mark_mistakes {
        &[plot::MISTAKES_FILE]
    } else {
        &[]
    };
    staged
        .keep_from_dest_except(dropped)
        .context("keeping the other figures")?;
    staged
        .commit()
        .with_context(|| format!("writing {}", args.output.display()))?;
    if !args.quiet {
        for f in files {
            let name = f.file_name().unwrap_or_default();
            eprintln!("wrote {}", args.output.join(name).display());
        }
    }
    Ok(())
}

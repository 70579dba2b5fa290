//! `fdbench sweep`: evaluate a grid of detectors and knob values on one or more traces,
//! in parallel, into the results schema.

use std::path::PathBuf;

use anyhow::Context;

use fdbench::replay::Options;
use fdbench::results::{self, Format, Provenance};
use fdbench::sweep::{self, Shard, SweepTrace};
use sha2::{Digest, Sha256};

use super::common::{self, EvalArgs};

/// Sweep knob values of detectors over traces: completeness against accuracy.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    fdbench sweep trace.csv -o results.csv                      # the default grid of every detector
    fdbench sweep trace.csv -d 'fixed:timeout=50ms..2s:10ms' -d 'phi:threshold=0.5..16:0.1'
    fdbench sweep a.csv b.csv.gz --detector 'chen:alpha=0..1s:10ms' --format json -o results.json
    fdbench sweep big.csv --shard 3/8 -o part-3.csv             # one shard of the grid; see `fdbench merge`
    fdbench sweep datasets/cluster-netns-4 --quorum 2 -d 'fixed:timeout=20ms..200ms:10ms' -o c.csv
    sbatch --array=1-8 --wrap 'fdbench sweep big.csv -q --resume -o part-$SLURM_ARRAY_TASK_ID.csv'   # shards from Slurm (see scripts/slurm/)

Without --shard, an array job's task is the shard: SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT
(from SLURM_ARRAY_TASK_MIN), or JOB_COMPLETION_INDEX (0-based) of --shard-count N.")]
pub struct Args {
    /// Trace files (CSV, or .csv.gz); with several, rows carry a leading `trace` column.
    /// Or one cluster folder (with a cluster.json): one row per setting for the whole
    /// cluster, in the cluster results layout
    #[arg(required = true, value_name = "TRACE")]
    pub traces: Vec<PathBuf>,
    /// A detector spec NAME[:key=value,...] whose values may be ranges START..END:STEP
    /// (END inclusive); repeatable [default: every detector over its default range, and
    /// the akka-cluster and cassandra presets]
    #[arg(short, long = "detector", value_name = "SPEC")]
    pub detectors: Vec<String>,
    #[command(flatten)]
    pub eval: EvalArgs,
    #[command(flatten)]
    pub cluster: super::cluster::ClusterArgs,
    /// Worker threads [default: all cores; at most 4 per core without --force-threads]
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
    /// Allow more than 4 threads per core
    #[arg(long)]
    pub force_threads: bool,
    /// Write results here (atomically) instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Run only shard I of N (1-based), for spreading a grid over machines: the grid's
    /// cells (a trace, a detector spec, a block of its knob values) whose stable hash
    /// falls in shard I; `fdbench merge` puts the shards' rows back in grid order
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// With a shard and -o FILE: do nothing if FILE is already this shard's complete
    /// output (its shard line matches this sweep's shard, grid, traces and version, and
    /// it has every row that line names); run the shard otherwise. For re-running the
    /// failed tasks of an array job
    #[arg(long)]
    pub resume: bool,
    /// With JOB_COMPLETION_INDEX (a Kubernetes indexed job) and no --shard: the number
    /// of shards, N
    #[arg(long, value_name = "N")]
    pub shard_count: Option<usize>,
    /// Run grids larger than the safety limit
    #[arg(long)]
    pub force: bool,
    /// No progress bar
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut specs = if args.detectors.is_empty() {
        sweep::default_grid()
    } else {
        common::parse_specs(&args.detectors)?
    };
    let threads = common::thread_count(args.threads, args.force_threads)?;
    if let Some(dir) = super::cluster::folder(&args.traces)? {
        return super::cluster::sweep(&args, dir, &specs, threads);
    }
    super::cluster::reject_without_folder(&args.cluster)?;
    common::check_inputs(&args.traces)?;
    let out = args.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    common::check_not_input(&out, &args.traces)?;
    let warmup = sweep::warmup_for(&specs, args.eval.warmup)?;
    let mut traces = Vec::with_capacity(args.traces.len());
    for p in &args.traces {
        let receipts = common::load_trace(p, args.eval.interval)?.accepted();
        if !args.detectors.is_empty() {
            common::check_runs(&specs, &receipts, p)?;
        }
        traces.push(SweepTrace {
            name: common::trace_name(p),
            receipts,
        });
    }
    if args.detectors.is_empty() {
        let all: Vec<&fdbench::trace::Receipts> = traces.iter().map(|t| &t.receipts).collect();
        specs = sweep::runnable(specs, &all);
    }
    let opts = Options {
        warmup,
        deadline: args.eval.deadline,
    };
    let shard = match args.shard {
        Some(s) => Some(s),
        None => shard_from_env(&|k| std::env::var(k).ok(), args.shard_count)?,
    };
    let plan = sweep::Plan::new(&traces, &specs, opts, shard, args.force)?;
    let provenance = shard.map(|shard| provenance(shard, &specs, &opts, &plan));
    if args.resume {
        let Some(provenance) = &provenance else {
            return Err(common::usage(
                "--resume: needs a shard: give --shard I/N, or run as a task of an array job",
            ));
        };
        if out.as_os_str() == "-" || args.format != Format::Csv {
            return Err(common::usage(
                "--resume: needs the shard's CSV output file: give -o FILE, without --format json",
            ));
        }
        match complete(&out, provenance) {
            Ok(rows) => {
                if !args.quiet {
                    eprintln!(
                        "{}: shard {}/{} is complete ({rows} rows); nothing to do",
                        out.display(),
                        provenance.shard_index,
                        provenance.shard_count
                    );
                }
                return Ok(());
            }
            Err(why) if !args.quiet => eprintln!("{}: {why}; running the shard", out.display()),
            Err(_) => {}
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting worker threads")?;
    let bar = super::progress::bar(plan.cells() as u64, "cells", args.quiet);
    let rows = pool.install(|| plan.run(&|| bar.inc(1)));
    bar.finish_and_clear();
    let written = match &provenance {
        Some(provenance) => results::write_shard_path(&rows, provenance, args.format, &out),
        None => results::write_path(&rows, args.format, &out),
    };
    written.with_context(|| format!("writing {}", out.display()))?;
    if !args.quiet && out.as_os_str() != "-" {
        eprintln!("wrote {} rows to {}", rows.len(), out.display());
    }
    Ok(())
}

/// What `merge` checks of a shard: its place, the grid's and the traces' fingerprints,
/// the version and the grid rows it holds.
fn provenance(
    shard: Shard,
    specs: &[fdbench::detector::DetectorSpec],
    opts: &Options,
    plan: &sweep::Plan,
) -> Provenance {
    let mut grid = Sha256::new();
    grid.update(format!("{specs:?}|warmup={}|deadline={}", opts.warmup, opts.deadline.0).as_bytes());
    Provenance {
        shard_index: shard.index,
        shard_count: shard.count,
        grid_sha256: grid.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        traces_sha256: plan.fingerprints().to_vec(),
        fdbench_version: env!("CARGO_PKG_VERSION").to_string(),
        total_rows: plan.total_rows(),
        rows: plan.held().to_vec(),
    }
}

/// Whether `out` is the complete output of the shard `expected` (its number of rows), or
/// why not. Outputs are renamed into place only once fully written, so a killed shard
/// leaves no partial file at `out`; a file of another sweep, or one cut short since,
/// fails the provenance or the row count.
fn complete(out: &std::path::Path, expected: &Provenance) -> Result<usize, String> {
    if !out.exists() {
        return Err("no output yet".into());
    }
    let (found, rows) = results::read_csv_shard_path(out).map_err(|e| format!("unreadable ({e:#})"))?;
    match found {
        None => Err("has no shard line".into()),
        Some(p) if p != *expected => Err("is the output of another shard, grid, trace set or version".into()),
        Some(p) if rows.len() != p.held_rows() => {
            Err(format!("is incomplete ({} of {} rows)", rows.len(), p.held_rows()))
        }
        Some(_) => Ok(rows.len()),
    }
}

/// The shard of an array job, when no --shard is given: Slurm's
/// `SLURM_ARRAY_TASK_ID` among `SLURM_ARRAY_TASK_COUNT` tasks (counted from
/// `SLURM_ARRAY_TASK_MIN`, so `--array=0-7` and `--array=1-8` both make shards 1..8), or
/// Kubernetes' 0-based `JOB_COMPLETION_INDEX` among `--shard-count` shards.
fn shard_from_env(var: &dyn Fn(&str) -> Option<String>, count: Option<usize>) -> anyhow::Result<Option<Shard>> {
    let num = |k: &str| -> anyhow::Result<Option<usize>> {
        var(k)
            .map(|v| {
                v.trim().parse::<usize>().map_err(|_| {
                    common::usage(format!(
                        "{k}={v} is not a non-negative integer; unset it or give --shard I/N"
                    ))
                })
            })
            .transpose()
    };
    let shard = |index: usize, count: usize, from: &str| -> anyhow::Result<Option<Shard>> {
        if count == 0 || index == 0 || index > count {
            return Err(common::usage(format!(
                "{from}: shard {index} of {count} is out of range; give --shard I/N to choose one"
            )));
        }
        Ok(Some(Shard { index, count }))
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let count = num("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
            common::usage("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; give --shard I/N")
        })?;
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0).min(id);
        return shard(id - min + 1, count, "SLURM_ARRAY_TASK_ID");
    }
    if let Some(i) = num("JOB_COMPLETION_INDEX")? {
        let count = count.ok_or_else(|| {
            common::usage(
                "JOB_COMPLETION_INDEX is set: give the number of shards with --shard-count N (the job's completions)",
            )
        })?;
        return shard(i + 1, count, "JOB_COMPLETION_INDEX");
    }
    if count.is_some() {
        return Err(common::usage(
            "--shard-count needs JOB_COMPLETION_INDEX in the environment; without it give --shard I/N",
        ));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn array_jobs_name_their_shard() {
        let s = |index, count| Some(Shard { index, count });
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
        ];
        assert_eq!(shard_from_env(&env(&slurm), None).unwrap(), s(4, 4));
        let one_based = [
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        assert_eq!(shard_from_env(&env(&one_based), None).unwrap(), s(1, 4));
        let k8s = [("JOB_COMPLETION_INDEX", "0")];
        assert_eq!(shard_from_env(&env(&k8s), Some(8)).unwrap(), s(1, 8));
        assert!(
            shard_from_env(&env(&k8s), None)
                .unwrap_err()
                .to_string()
                .contains("--shard-count")
        );
        assert_eq!(shard_from_env(&env(&[]), None).unwrap(), None);
        let over = [("SLURM_ARRAY_TASK_ID", "9"), ("SLURM_ARRAY_TASK_COUNT", "4")];
        assert!(
            shard_from_env(&env(&over), None)
                .unwrap_err()
                .to_string()
                .contains("out of range")
        );
        let bad = [("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_COUNT", "4")];
        assert!(shard_from_env(&env(&bad), None).is_err());
    }
}

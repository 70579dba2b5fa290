//! Cluster folders on the command line: `stats`, `sweep` and `tune` of a folder with a
//! `cluster.json` manifest (see `fdbench::cluster`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use fdbench::cluster::metrics::{self, ClusterMetrics};
use fdbench::cluster::rows::{self, ClusterRow};
use fdbench::cluster::tune::{self as ctune, Goal, Objective};
use fdbench::cluster::{self, Cluster};
use fdbench::detector::DetectorSpec;
use fdbench::replay::Options;
use fdbench::results::{self, Format};
use fdbench::sweep;
use fdbench::time::Nanos;
use fdbench::tune::Status;

use super::common::{self, EvalArgs};

/// Flags for a cluster folder given to `sweep` or `tune`.
#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Cluster folder only: a target is declared failed while at least K of its
    /// monitors suspect it [default: a majority of the fewest monitors of a target]
    #[arg(long, value_name = "K")]
    pub quorum: Option<usize>,
    /// Cluster folder only: also write every pair's rows, in the results schema with the
    /// pair (monitor->target) in the `trace` column
    #[arg(long, value_name = "FILE")]
    pub pairs_output: Option<PathBuf>,
}

/// The cluster folder among `inputs`, if one is given; a folder must come alone.
pub fn folder(inputs: &[PathBuf]) -> anyhow::Result<Option<&Path>> {
    let Some(dir) = inputs.iter().find(|p| p.is_dir()) else {
        return Ok(None);
    };
    if !cluster::is_cluster(dir) {
        anyhow::bail!(
            "{}: a folder without {}; give trace files, or a cluster folder (see `fdbench import --format pcap -o DIR`)",
            dir.display(),
            cluster::MANIFEST
        );
    }
    if inputs.len() > 1 {
        return Err(common::usage(format!(
            "{}: give a cluster folder alone, without other traces",
            dir.display()
        )));
    }
    Ok(Some(dir))
}

/// Loads a cluster folder.
pub fn load(dir: &Path, interval: Option<Nanos>) -> anyhow::Result<Cluster> {
    Ok(Cluster::load(dir, interval)?)
}

/// The quorum: the flag's, or a majority of the fewest monitors of any target.
fn quorum(cluster: &Cluster, flag: Option<usize>) -> usize {
    flag.unwrap_or_else(|| {
        let fewest = cluster.targets().iter().map(|&t| cluster.monitors_of(t).len()).min();
        fewest.unwrap_or(1) / 2 + 1
    })
}

/// `fdbench stats DIR`: each pair's statistics, in manifest order.
pub fn stats(dir: &Path, interval: Option<Nanos>, json: bool) -> anyhow::Result<String> {
    let cluster = load(dir, interval)?;
    let mut text = String::new();
    let mut all = Vec::new();
    for (p, pair) in cluster.pairs.iter().enumerate() {
        let trace = fdbench::trace::csv::read_path(&pair.file, interval)?;
        let s = fdbench::trace::stats::compute(&trace);
        if json {
            all.push(serde_json::json!({ "pair": cluster.pair_name(p), "trace": pair.file, "stats": s }));
        } else {
            let _ = writeln!(
                text,
                "pair            {}\ntrace           {}\n{s}\n",
                cluster.pair_name(p),
                pair.file.display()
            );
        }
    }
    Ok(if json {
        serde_json::to_string_pretty(&all)? + "\n"
    } else {
        text
    })
}

/// `fdbench sweep DIR`: one cluster row per setting.
pub fn sweep(args: &super::sweep::Args, dir: &Path, specs: &[DetectorSpec], threads: usize) -> anyhow::Result<()> {
    if args.shard.is_some() {
        return Err(common::usage(
            "--shard: a cluster folder is swept whole; give its pairs as trace files to shard them",
        ));
    }
    let cluster = load(dir, args.eval.interval)?;
    let k = quorum(&cluster, args.cluster.quorum);
    let opts = Options {
        warmup: sweep::warmup_for(specs, args.eval.warmup)?,
        deadline: args.eval.deadline,
    };
    metrics::check(&cluster, &opts, k)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting worker threads")?;
    let bar = super::progress::bar(specs.len() as u64, "detectors", args.quiet);
    let mut out_rows: Vec<ClusterRow> = Vec::new();
    let mut pair_rows = Vec::new();
    for s in specs {
        let all = pool.install(|| metrics::evaluate(&cluster, &s.config, &s.knob_values, &opts, k))?;
        for (&knob, m) in s.knob_values.iter().zip(&all) {
            out_rows.push(rows::row(&cluster, &s.config, knob, m));
            pair_rows.extend(per_pair(&cluster, s, knob, m));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(path) = &args.cluster.pairs_output {
        results::write_path(&pair_rows, args.format, path).with_context(|| format!("writing {}", path.display()))?;
    }
    let out = args.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    rows::write_path(&out_rows, args.format, &out).with_context(|| format!("writing {}", out.display()))?;
    if !args.quiet && out.as_os_str() != "-" {
        eprintln!(
            "wrote {} cluster rows ({} pairs, quorum {k}) to {}",
            out_rows.len(),
            cluster.pairs.len(),
            out.display()
        );
    }
    Ok(())
}

/// The rows of each pair at one setting.
fn per_pair<'a>(
    cluster: &'a Cluster,
    s: &'a DetectorSpec,
    knob: f64,
    m: &'a ClusterMetrics,
) -> impl Iterator<Item = results::Row> + 'a {
    m.pairs
        .iter()
        .enumerate()
        .map(move |(p, pm)| sweep::row(Some(&cluster.pair_name(p)), &s.config, knob, pm))
}

/// Flags of `fdbench tune DIR`.
#[derive(clap::Args, Debug, Clone)]
pub struct TuneArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Cluster folder only: what --max-mistakes bounds: all pairs' false suspicions
    /// together, the worst pair's, or the false declarations under the quorum
    #[arg(long, value_enum, default_value = "total")]
    pub objective: Objective,
    /// Cluster folder only: the least query accuracy of every pair (of the quorum, with
    /// --objective quorum) a setting must keep
    #[arg(long, value_name = "P", default_value_t = 0.999)]
    pub cluster_min_accuracy: f64,
}

/// `fdbench tune DIR`: one setting per detector for the whole cluster.
pub fn tune(
    dir: &Path,
    targets: &[fdbench::tune::Target],
    max_per_h: f64,
    eval: &EvalArgs,
    args: &TuneArgs,
) -> anyhow::Result<(String, Vec<ClusterRow>)> {
    let p = args.cluster_min_accuracy;
    if !(0.0..=1.0).contains(&p) {
        return Err(common::usage(format!(
            "--cluster-min-accuracy {p}: give a probability between 0 and 1, e.g. 0.999"
        )));
    }
    let cluster = load(dir, eval.interval)?;
    let k = quorum(&cluster, args.cluster.quorum);
    // Presets only on pairs at their system's heartbeat.
    let targets: Vec<fdbench::tune::Target> = targets
        .iter()
        .filter(|t| {
            t.spec.config.preset().is_none()
                || cluster
                    .pairs
                    .iter()
                    .all(|p| sweep::runs_on(&t.spec.config, &p.receipts))
        })
        .cloned()
        .collect();
    let targets = targets.as_slice();
    let specs: Vec<DetectorSpec> = targets.iter().map(|t| t.spec.clone()).collect();
    let opts = Options {
        warmup: sweep::warmup_for(&specs, eval.warmup)?,
        deadline: eval.deadline,
    };
    metrics::check(&cluster, &opts, k)?;
    let goal = Goal {
        objective: args.objective,
        per_day: max_per_h * 24.0,
        min_accuracy: p,
        quorum: k,
    };
    let mut out = Vec::new();
    let mut notes = String::new();
    for t in targets {
        let range = t.range.unwrap_or((t.spec.knob_values[0], t.spec.knob_values[0]));
        let tuned = ctune::tune(&cluster, &t.spec.config, range, &goal, &opts)?;
        let mut row = rows::row(&cluster, &tuned.config, tuned.value.unwrap_or(0.0), &tuned.metrics);
        match (t.range, tuned.status) {
            (None, _) => row.detector = format!("{} (preset)", row.detector),
            (_, Status::NotReached) => {
                let _ = writeln!(
                    notes,
                    "* {}: the goal is not met even at the end of the searched range",
                    row.detector
                );
                row.detector.push('*');
            }
            (_, Status::RangeStart) => {
                let _ = writeln!(
                    notes,
                    "+ {}: the start of the searched range already meets the goal",
                    row.detector
                );
                row.detector.push('+');
            }
            _ => {}
        }
        out.push(row);
    }
    let what = match args.objective {
        Objective::Total => "false suspicions of all pairs together",
        Objective::WorstPair => "false suspicions of the worst pair",
        Objective::Quorum => "false declarations",
    };
    let mut text = format!(
        "One setting for the cluster {} ({} pairs, quorum {k}): at most {:.4} {what} per day, accuracy >= {p}:\n\n",
        dir.display(),
        cluster.pairs.len(),
        goal.per_day
    );
    text.push_str(&table(&out));
    text.push_str(&notes);
    Ok((text, out))
}

/// Cluster rows as an aligned text table.
fn table(rows: &[ClusterRow]) -> String {
    let header = [
        "detector",
        "knob",
        "susp/day",
        "worst_pair",
        "worst/day",
        "min_P_A",
        "decl/day",
        "decl_ms",
        "TD_mean_ms",
        "TD_p99_ms",
        "complete",
    ];
    let g = |x: f64| {
        if x.is_infinite() {
            "inf".to_string()
        } else {
            format!("{x:.1}")
        }
    };
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for r in rows {
        cells.push(vec![
            r.detector.clone(),
            r.value
                .map_or_else(|| "-".into(), |v| format!("{}={}", r.knob, common::fmt_g(v))),
            format!("{:.3}", r.false_suspicions_per_day),
            r.worst_pair.clone(),
            format!("{:.3}", r.worst_pair_per_day),
            format!("{:.6}", r.min_query_accuracy),
            format!("{:.3}", r.false_declarations_per_day),
            r.declaration_mean_ms.map_or_else(|| "-".into(), g),
            g(r.detection_mean_ms),
            g(r.detection_p99_ms),
            format!("{:.4}", r.completeness),
        ]);
    }
    common::align(&cells, false)
}

/// Writes tuned cluster rows as a table, CSV or JSON.
pub fn write_tuned(
    text: &str,
    rows: &[ClusterRow],
    format: super::replay::OutFormat,
    out: &Path,
) -> anyhow::Result<()> {
    let written = match format {
        super::replay::OutFormat::Table | super::replay::OutFormat::Markdown => {
            fdbench::output::write_bytes(out, text.as_bytes())
        }
        super::replay::OutFormat::Csv => rows::write_path(rows, Format::Csv, out),
        super::replay::OutFormat::Json => rows::write_path(rows, Format::Json, out),
    };
    written.with_context(|| format!("writing {}", out.display()))
}

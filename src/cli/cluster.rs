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
    #[arg(long, value_name = "K", value_parser = parse_quorum)]
    pub quorum: Option<usize>,
    /// Cluster folder only: also write every pair's rows, in the results schema with the
    /// pair (monitor->target) in the `trace` column
    #[arg(long, value_name = "FILE")]
    pub pairs_output: Option<PathBuf>,
}

/// `--quorum K`: a whole number of at least 1.
pub fn parse_quorum(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("a quorum of 0 monitors would declare every target failed; give at least 1".into()),
        Ok(k) => Ok(k),
        Err(_) => Err(format!("'{s}' is not a whole number of monitors; give e.g. --quorum 2")),
    }
}

/// The cluster-only flags given without a cluster folder: a usage error naming them.
pub fn reject_without_folder(args: &ClusterArgs) -> anyhow::Result<()> {
    let given: Vec<&str> = [
        args.quorum.map(|_| "--quorum"),
        args.pairs_output.as_ref().map(|_| "--pairs-output"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.is_empty() {
        return Ok(());
    }
    Err(common::usage(format!(
        "{}: only for a cluster folder (a folder with {}); a trace file has one monitor and one target, so drop the flag",
        given.join(", "),
        cluster::MANIFEST
    )))
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

/// The quorum: the flag's, or a majority of the fewest monitors of any target. A flag
/// above some target's number of monitors is a usage error naming that target.
fn quorum(cluster: &Cluster, flag: Option<usize>) -> anyhow::Result<usize> {
    let fewest = cluster
        .targets()
        .iter()
        .map(|&t| (cluster.monitors_of(t).len(), t))
        .min();
    let Some(k) = flag else {
        return Ok(fewest.map_or(1, |(n, _)| n / 2 + 1));
    };
    match fewest {
        Some((n, t)) if k > n => Err(common::usage(format!(
            "--quorum {k}: target {} has only {n} monitor(s) in {}; give --quorum {n} or less",
            cluster.nodes[t],
            cluster::MANIFEST
        ))),
        _ => Ok(k),
    }
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
    let k = quorum(&cluster, args.cluster.quorum)?;
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
    let (out_rows, pair_rows) = grid(&cluster, specs, &opts, k, &pool, &|| bar.inc(1))?;
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

/// The cluster rows and every pair's rows of a grid, spec by spec (`done` after each).
fn grid(
    cluster: &Cluster,
    specs: &[DetectorSpec],
    opts: &Options,
    k: usize,
    pool: &rayon::ThreadPool,
    done: &dyn Fn(),
) -> anyhow::Result<(Vec<ClusterRow>, Vec<results::Row>)> {
    let mut out_rows = Vec::new();
    let mut pair_rows = Vec::new();
    for s in specs {
        let all = pool.install(|| metrics::evaluate(cluster, &s.config, &s.knob_values, opts, k))?;
        for (&knob, m) in s.knob_values.iter().zip(&all) {
            out_rows.push(rows::row(cluster, &s.config, knob, m));
            pair_rows.extend(per_pair(cluster, s, knob, m));
        }
        done();
    }
    Ok((out_rows, pair_rows))
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

/// One setting per detector for a whole cluster, with the goal it was tuned for.
struct Tuning {
    cluster: Cluster,
    goal: Goal,
    /// Each detector's tuned row and its metrics (every pair's among them).
    tuned: Vec<(ClusterRow, ClusterMetrics)>,
    notes: String,
}

fn tune_all(
    dir: &Path,
    targets: &[fdbench::tune::Target],
    max_per_h: f64,
    eval: &EvalArgs,
    args: &TuneArgs,
) -> anyhow::Result<Tuning> {
    let p = args.cluster_min_accuracy;
    if !(0.0..=1.0).contains(&p) {
        return Err(common::usage(format!(
            "--cluster-min-accuracy {p}: give a probability between 0 and 1, e.g. 0.999"
        )));
    }
    let cluster = load(dir, eval.interval)?;
    let k = quorum(&cluster, args.cluster.quorum)?;
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
        out.push((row, tuned.metrics));
    }
    notes.push_str(&period_note(&cluster));
    Ok(Tuning {
        cluster,
        goal,
        tuned: out,
        notes,
    })
}

/// A note naming the pairs whose heartbeats are further apart (or closer) per sequence
/// number than the interval, by more than the tolerance of
/// [`Receipts::period_warning`](fdbench::trace::Receipts::period_warning).
fn period_note(cluster: &Cluster) -> String {
    let off: Vec<String> = cluster
        .pairs
        .iter()
        .enumerate()
        .filter(|(_, p)| p.receipts.period_warning().is_some())
        .filter_map(|(i, p)| {
            let period = p.receipts.period()?;
            Some(format!("{} {:.3} ms", cluster.pair_name(i), period / 1e6))
        })
        .collect();
    if off.is_empty() {
        return String::new();
    }
    let eta = cluster.pairs[0].receipts.interval;
    format!(
        "! {} of {} pairs send at another period than the interval {eta} ({}): chen and 2w count one interval per sequence number and drift from the real arrivals, and nfd-s expects each next send one interval later; give the real period with --interval, or record again with a sender that keeps it\n",
        off.len(),
        cluster.pairs.len(),
        off.join(", ")
    )
}

impl Tuning {
    /// What the goal bounds, in words.
    fn bounded(&self) -> &'static str {
        match self.goal.objective {
            Objective::Total => "false suspicions of all pairs together",
            Objective::WorstPair => "false suspicions of the worst pair",
            Objective::Quorum => "false declarations",
        }
    }

    fn rows(&self) -> Vec<ClusterRow> {
        self.tuned.iter().map(|(r, _)| r.clone()).collect()
    }
}

/// `fdbench tune DIR`: one setting per detector for the whole cluster, as a text (or,
/// with `markdown`, a Markdown) table.
pub fn tune(
    dir: &Path,
    targets: &[fdbench::tune::Target],
    max_per_h: f64,
    eval: &EvalArgs,
    args: &TuneArgs,
    markdown: bool,
) -> anyhow::Result<(String, Vec<ClusterRow>)> {
    let t = tune_all(dir, targets, max_per_h, eval, args)?;
    let mut text = format!(
        "One setting for the cluster {} ({} pairs, quorum {}): at most {:.4} {} per day, accuracy >= {}:\n\n",
        dir.display(),
        t.cluster.pairs.len(),
        t.goal.quorum,
        t.goal.per_day,
        t.bounded(),
        t.goal.min_accuracy
    );
    let rows = t.rows();
    text.push_str(&table(&rows, markdown));
    text.push_str(&t.notes);
    Ok((text, rows))
}

/// Flags of `fdbench report --trace DIR`.
pub struct ReportArgs<'a> {
    pub detectors: &'a [String],
    pub max_per_h: f64,
    pub eval: EvalArgs,
    pub quorum: Option<usize>,
    pub threads: usize,
    pub command_line: String,
    pub quiet: bool,
}

/// `fdbench report --trace DIR`: the report of a cluster folder, written atomically into
/// `out`: `summary.md` and `index.html` (each pair's trace, the cluster-wide and quorum
/// figures of every detector at its one tuned setting, the setting chosen for the
/// cluster and every pair's figures at it), `cluster.csv` and `pairs.csv` (the sweep of
/// the grid) and `manifest.json`.
pub fn report(dir: &Path, out: &Path, a: &ReportArgs) -> anyhow::Result<()> {
    fdbench::output::check_not_input(out, &[dir])?;
    fdbench::output::check_folder(out, fdbench::report::REPORT_FOLDER)?;
    let targets = super::tune::targets(a.detectors)?;
    let tune_args = TuneArgs {
        cluster: ClusterArgs {
            quorum: a.quorum,
            pairs_output: None,
        },
        objective: Objective::Total,
        cluster_min_accuracy: 0.999,
    };
    let say = |what: &str| {
        if !a.quiet {
            eprintln!("{what}");
        }
    };
    say("tuning one setting per detector for the cluster");
    let t = tune_all(dir, &targets, a.max_per_h, &a.eval, &tune_args)?;
    let specs = if a.detectors.is_empty() {
        sweep::default_grid()
    } else {
        common::parse_specs(a.detectors)?
    };
    let opts = Options {
        warmup: sweep::warmup_for(&specs, a.eval.warmup)?,
        deadline: a.eval.deadline,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .context("starting worker threads")?;
    say("sweeping the grid over every pair");
    let (grid_rows, pair_rows) = grid(&t.cluster, &specs, &opts, t.goal.quorum, &pool, &|| {})?;
    let summary = report_summary(dir, &t, a, grid_rows.len())?;
    let staged = fdbench::output::StagedDir::new(out, fdbench::report::REPORT_FOLDER)?;
    let s = staged.path();
    let write = |name: &str, f: &dyn Fn(&Path) -> std::io::Result<()>| {
        f(&s.join(name)).with_context(|| format!("writing {}", out.join(name).display()))
    };
    write("summary.md", &|p| fdbench::output::write_bytes(p, summary.as_bytes()))?;
    let title = format!("cluster {}", dir.display());
    write("index.html", &|p| {
        fdbench::output::write_bytes(p, fdbench::report::html::render_markdown(&title, &summary).as_bytes())
    })?;
    write("cluster.csv", &|p| rows::write_path(&grid_rows, Format::Csv, p))?;
    write("pairs.csv", &|p| results::write_path(&pair_rows, Format::Csv, p))?;
    let manifest = serde_json::json!({
        "fdbench_version": env!("CARGO_PKG_VERSION"),
        "command": a.command_line,
        "cluster": dir.display().to_string(),
        "pairs": t.cluster.pairs.len(),
        "quorum": t.goal.quorum,
        "target_per_day": t.goal.per_day,
        "files": ["summary.md", "index.html", "cluster.csv", "pairs.csv"],
    });
    write("manifest.json", &|p| {
        fdbench::output::write_bytes(p, (serde_json::to_string_pretty(&manifest)? + "\n").as_bytes())
    })?;
    staged.commit().with_context(|| format!("writing {}", out.display()))?;
    say(&format!(
        "wrote {} (summary.md, index.html, cluster.csv, pairs.csv, manifest.json)",
        out.display()
    ));
    Ok(())
}

/// The setting chosen for the whole cluster: among the tuned settings that meet the
/// goal, the fastest to detect a crash under the quorum (mean, then worst case), the
/// first in the table on a tie.
fn chosen(t: &Tuning) -> Option<&(ClusterRow, ClusterMetrics)> {
    t.tuned
        .iter()
        .filter(|(r, m)| !r.detector.ends_with('*') && t.goal.met(m))
        .min_by(|(a, _), (b, _)| {
            (a.detection_mean_ms, a.detection_max_ms)
                .partial_cmp(&(b.detection_mean_ms, b.detection_max_ms))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
}

/// `summary.md` of a cluster report.
fn report_summary(dir: &Path, t: &Tuning, a: &ReportArgs, swept: usize) -> anyhow::Result<String> {
    let c = &t.cluster;
    let mut md = format!(
        "# fdbench report: cluster {}\n\n{} nodes ({}), {} monitor->target pairs; a target is declared failed while at least {} of its monitors suspect it (quorum {} of n).\n\nCommand: `{}`\n\n## Pairs\n\n",
        dir.display(),
        c.nodes.len(),
        c.nodes.join(", "),
        c.pairs.len(),
        t.goal.quorum,
        t.goal.quorum,
        a.command_line
    );
    let mut cells = vec![
        [
            "pair",
            "trace",
            "received",
            "duration_s",
            "loss",
            "gap_mean_ms",
            "gap_std_ms",
            "gap_max_ms",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (p, pair) in c.pairs.iter().enumerate() {
        let trace = fdbench::trace::csv::read_path(&pair.file, a.eval.interval)?;
        let st = fdbench::trace::stats::compute(&trace);
        let ms = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |x| format!("{x:.3}"));
        cells.push(vec![
            c.pair_name(p),
            pair.file
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().to_string()),
            st.received.to_string(),
            format!("{:.1}", st.duration_s),
            format!("{:.5}", st.loss_fraction),
            ms(st.interarrival_mean_ms),
            ms(st.interarrival_std_ms),
            ms(st.interarrival_max_ms),
        ]);
    }
    md.push_str(&common::align(&cells, true));
    let _ = write!(
        md,
        "\n## One setting per detector for the cluster\n\nEach detector's setting tuned for at most {:.4} {} per day over the cluster, every pair's query accuracy at least {}: cluster-wide false suspicions per day (all pairs), the worst pair, and the quorum's false declarations and detection time (of the k-th fastest monitor, k = {}, after a crash injected at each heartbeat of a target).\n\n",
        t.goal.per_day,
        t.bounded(),
        t.goal.min_accuracy,
        t.goal.quorum
    );
    md.push_str(&table(&t.rows(), true));
    for note in t.notes.lines() {
        let _ = writeln!(
            md,
            "\n{}",
            note.replacen('*', "\\*", 1)
                .replacen('+', "\\+", 1)
                .replacen("! ", "**Warning.** ", 1)
        );
    }
    md.push_str("\n## The setting for the cluster\n\n");
    match chosen(t) {
        None => md.push_str("No tuned setting meets the goal: widen the ranges (`-d`) or relax `--max-mistakes`.\n"),
        Some((row, m)) => {
            let _ = write!(
                md,
                "**{} {}**: the fastest detection under the quorum among the settings that meet the goal ({} false suspicions per day over all pairs, worst pair {} at {:.3} per day, {:.3} false declarations per day, detection {:.1} ms on average). Each pair at this setting:\n\n",
                row.detector.trim_end_matches('+'),
                setting(row),
                fmt3(row.false_suspicions_per_day),
                row.worst_pair,
                row.worst_pair_per_day,
                row.false_declarations_per_day,
                row.detection_mean_ms
            );
            let mut cells = vec![
                ["pair", "mistakes", "mistakes/day", "P_A", "TD_mean_ms", "TD_max_ms"]
                    .map(String::from)
                    .to_vec(),
            ];
            for (p, pm) in m.pairs.iter().enumerate() {
                let max = pm.detection.max;
                cells.push(vec![
                    c.pair_name(p),
                    pm.mistakes.to_string(),
                    fmt3(pm.mistake_rate_per_h() * 24.0),
                    format!("{:.6}", pm.query_accuracy()),
                    format!("{:.1}", pm.detection.mean_ns / 1e6),
                    if max == Nanos::MAX {
                        "inf".into()
                    } else {
                        format!("{:.1}", max.as_millis_f64())
                    },
                ]);
            }
            md.push_str(&common::align(&cells, true));
        }
    }
    let _ = write!(
        md,
        "\n## Files\n\n- `cluster.csv`: {swept} cluster rows, one per swept setting (columns: `src/cluster/rows.rs`)\n- `pairs.csv`: every pair's rows at each setting, in the results schema\n"
    );
    Ok(md)
}

fn fmt3(x: f64) -> String {
    format!("{x:.3}")
}

/// A cluster row's setting for people (`timeout=309.3 ms`), or `-` without a knob.
fn setting(r: &ClusterRow) -> String {
    let row = results::Row {
        knob: r.knob.clone(),
        value: r.value,
        ..results::Row::default()
    };
    row.setting().unwrap_or_else(|| "-".into())
}

/// Cluster rows as an aligned text table, or a Markdown one.
fn table(rows: &[ClusterRow], markdown: bool) -> String {
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
            setting(r),
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
    common::align(&cells, markdown)
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

//! `fdbench merge`: join the outputs of `sweep --shard I/N` into the results of the whole grid.

use std::path::PathBuf;

use anyhow::Context;

use fdbench::results::{self, Format};

/// Join shard outputs (CSV) into one results file, byte-identical to a single run over the
/// whole grid. Every shard of the sweep must be given once, in any order; shards of
/// another grid, other traces or another fdbench version are refused.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    for i in 1 2 3 4; do fdbench sweep trace.csv --shard $i/4 -o part-$i.csv; done
    fdbench merge part-*.csv -o results.csv")]
pub struct Args {
    /// Shard outputs, in any order
    #[arg(required = true, value_name = "FILE")]
    pub parts: Vec<PathBuf>,
    /// Write the merged results here (atomically) instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let out = args.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    super::common::check_not_input(&out, &args.parts)?;
    let mut shards = Vec::with_capacity(args.parts.len());
    for p in &args.parts {
        let (provenance, rows) = results::read_csv_shard_path(p)?;
        let provenance = provenance.ok_or_else(|| {
            anyhow::anyhow!(
                "{}: has no shard line ('# fdbench-shard ...'); merge joins the outputs of `fdbench sweep --shard I/N`",
                p.display()
            )
        })?;
        shards.push((p, provenance, rows));
    }
    let (first_path, first, _) = &shards[0];
    let first = first.clone();
    let first_path = first_path.display().to_string();
    let version = env!("CARGO_PKG_VERSION");
    for (p, prov, _) in &shards {
        if prov.fdbench_version != version {
            anyhow::bail!(
                "{}: was written by fdbench {}, this is {version}; run the shards again with one version",
                p.display(),
                prov.fdbench_version
            );
        }
        if prov.shard_count != first.shard_count
            || prov.total_rows != first.total_rows
            || prov.grid_sha256 != first.grid_sha256
            || prov.traces_sha256 != first.traces_sha256
        {
            anyhow::bail!(
                "{}: is a shard of another sweep than {first_path} (different shard count, grid or traces); merge the shards of one sweep",
                p.display()
            );
        }
    }
    shards.sort_by_key(|(_, prov, _)| prov.shard_index);
    for w in shards.windows(2) {
        if w[0].1.shard_index == w[1].1.shard_index {
            anyhow::bail!(
                "{} and {}: are both shard {}/{}; give each shard once",
                w[0].0.display(),
                w[1].0.display(),
                w[0].1.shard_index,
                first.shard_count
            );
        }
    }
    let missing: Vec<String> = (1..=first.shard_count)
        .filter(|i| shards.binary_search_by_key(i, |(_, prov, _)| prov.shard_index).is_err())
        .map(|i| format!("{i}/{}", first.shard_count))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "shard(s) {} missing; give all {} shards of the sweep",
            missing.join(", "),
            first.shard_count
        );
    }
    let rows = in_grid_order(shards, first.total_rows)?;
    results::write_path(&rows, args.format, &out).with_context(|| format!("writing {}", out.display()))
}

/// The shards' rows in the order of a single run: each shard's rows go to the grid rows
/// its provenance says it holds, and together the shards must hold every row once.
fn in_grid_order(
    shards: Vec<(&PathBuf, results::Provenance, Vec<results::Row>)>,
    total: usize,
) -> anyhow::Result<Vec<results::Row>> {
    for (p, prov, rows) in &shards {
        if rows.len() != prov.held_rows() {
            anyhow::bail!(
                "{}: has {} rows, its shard line says {}; the file is incomplete: run shard {}/{} again",
                p.display(),
                rows.len(),
                prov.held_rows(),
                prov.shard_index,
                prov.shard_count
            );
        }
    }
    let held: usize = shards.iter().map(|(_, _, rows)| rows.len()).sum();
    if held != total {
        anyhow::bail!("the shards hold {held} rows, the grid has {total}; merge the shards of one sweep");
    }
    let mut slots: Vec<Option<results::Row>> = vec![None; total];
    for (p, prov, rows) in shards {
        let places = prov.rows.iter().flat_map(|&[first, n]| first..first + n);
        for (place, row) in places.zip(rows) {
            if slots[place].replace(row).is_some() {
                anyhow::bail!(
                    "{}: holds grid row {place}, which another shard holds too; merge the shards of one sweep",
                    p.display()
                );
            }
        }
    }
    let filled = slots.iter().filter(|r| r.is_some()).count();
    if filled != total {
        anyhow::bail!("the shards hold {filled} of the grid's {total} rows; merge the shards of one sweep");
    }
    Ok(slots.into_iter().flatten().collect())
}

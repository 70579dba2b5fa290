//! `fdbench merge`: join the outputs of `sweep --shard I/N` into the results of the whole grid.

use std::path::PathBuf;

use anyhow::Context;

use fdbench::results::{self, Format};

/// Join shard outputs (CSV, in shard order 1..N) into one results file, byte-identical to
/// a single run over the whole grid.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    for i in 1 2 3 4; do fdbench sweep trace.csv --shard $i/4 -o part-$i.csv; done
    fdbench merge part-1.csv part-2.csv part-3.csv part-4.csv -o results.csv")]
pub struct Args {
    /// Shard outputs, in shard order
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
    let mut rows = Vec::new();
    let mut named: Option<bool> = None;
    for p in &args.parts {
        let part = results::read_csv_path(p)?;
        if let Some(first) = part.first() {
            let has = first.trace.is_some();
            if named.is_some_and(|n| n != has) {
                anyhow::bail!(
                    "{}: has a different column layout from the parts before it (trace column); merge the shards of one sweep",
                    p.display()
                );
            }
            named = Some(has);
        }
        rows.extend(part);
    }
    let out = args.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    results::write_path(&rows, args.format, &out).with_context(|| format!("writing {}", out.display()))
}

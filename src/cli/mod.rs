//! Command-line interface: one module per subcommand. Data goes to stdout or files,
//! progress and errors to stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod import;
mod record;

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
    /// Record a real heartbeat trace over UDP (loopback, two processes, or network namespaces).
    Record(record::Args),
    /// Convert another heartbeat format (ping, LIP6 logs, sender schedules, any CSV) into a trace.
    Import(import::Args),
}

/// Parses the command line, runs the subcommand and maps errors to exit codes:
/// 1 for runtime and data errors, 2 for usage errors.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {
        Command::Record(a) => record::run(a),
        Command::Import(a) => import::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

//! `fdbench import`: convert other heartbeat formats into traces.

use std::path::PathBuf;

use anyhow::Context;

use super::common::usage;

use fdbench::time::Nanos;
use fdbench::trace::import::delay::DelayModel;
use fdbench::trace::import::generic::{Column, Unit};
use fdbench::trace::import::{self, ImportFormat, generic, lip6, ping, send_times};

const EXAMPLES: &str = "\
EXAMPLES:
    ping -D -i 0.2 -c 3000 127.0.0.1 > ping.txt && fdbench import --format ping ping.txt -o ping.csv
    fdbench import --format lip6 trace0.log --site 7 -o lip6-7-to-0.csv
    fdbench import --format send-times node7_sentinterval.csv --delay lognormal:20ms,0.3 -o n7.csv
    tcpdump -i lo -w hb.pcap udp                                   # while heartbeats flow, then:
    fdbench import --format pcap hb.pcap --assume-synced --node-by-port -o cluster/
    fdbench import --format csv log --no-header --delimiter ' ' --seq-col 1 --recv-col 3 -o t.csv

Inputs ending in .gz are decompressed. Times are shifted so that the earliest time of the
first row becomes 60 s (an input that starts before 60 s keeps its times); the shift is
written as the comment origin_ns=N. Rows out of order by up to 4096 rows are put back in order.";

/// The input formats.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    /// Linux `ping -D` output: receipt = printed timestamp, send = receipt - rtt/2.
    Ping,
    /// LIP6/PlanetLab receipt logs: `site numseq timestamp_send timestamp_receive hops` (ns).
    Lip6,
    /// Sender logs `numseq,timestamp_start_send,timestamp_end_send` (ns) with modelled arrivals.
    SendTimes,
    /// Any delimited file, with --seq-col/--send-col/--recv-col and --unit.
    Csv,
    /// pcap or pcapng captures (tcpdump -w): one trace per flow, -o DIR for a cluster folder.
    Pcap,
}

/// Convert another heartbeat format into a trace.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Input format.
    #[arg(long, value_enum)]
    format: Format,
    /// Input file (.gz is decompressed; - for stdin).
    input: PathBuf,
    /// Output trace (.csv or .csv.gz; - for stdout); for pcap, a folder for a cluster.
    #[arg(short, long, value_name = "PATH")]
    output: PathBuf,
    /// Nominal interval written in the trace (default: inferred from the receipts).
    #[arg(long, value_name = "DURATION", value_parser = super::common::parse_interval)]
    interval: Option<Nanos>,
    /// ping: keep receipt times only (default: send = receipt - rtt/2).
    #[arg(long)]
    no_send: bool,
    /// lip6: the sending node whose heartbeats make the trace.
    #[arg(long, value_name = "N")]
    site: Option<u64>,
    /// lip6, pcap: keep send times from another host's clock (only if the clocks were synchronized).
    #[arg(long)]
    assume_synced: bool,
    /// send-times: one-way delay model: constant:10ms, uniform:5ms..15ms or lognormal:10ms,0.5.
    #[arg(long, default_value = "constant:10ms", value_name = "MODEL")]
    delay: DelayModel,
    /// send-times: probability that a heartbeat is lost.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    loss: f64,
    /// send-times: seed of the delay and loss draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// csv: sequence-number column, by 1-based position or header name (default: row number).
    #[arg(long, value_name = "COL")]
    seq_col: Option<Column>,
    /// csv: send-time column, by position or name.
    #[arg(long, value_name = "COL")]
    send_col: Option<Column>,
    /// csv: receipt-time column, by position or name.
    #[arg(long, value_name = "COL")]
    recv_col: Option<Column>,
    /// csv: unit of the time columns (decimals allowed).
    #[arg(long, value_enum, default_value = "ns")]
    unit: Unit,
    /// csv: the file has no header line.
    #[arg(long)]
    no_header: bool,
    /// csv: field delimiter (one character; 'tab' for a tab).
    #[arg(long, default_value = ",", value_name = "CHAR")]
    delimiter: String,
    #[command(flatten)]
    pcap: super::pcap::PcapArgs,
    /// Print nothing on stderr.
    #[arg(short, long)]
    quiet: bool,
}

fn format_options(a: &Args) -> anyhow::Result<ImportFormat> {
    Ok(match a.format {
        Format::Ping => ImportFormat::Ping(ping::Options { send: !a.no_send }),
        Format::Lip6 => ImportFormat::Lip6(lip6::Options {
            site: a.site.ok_or_else(|| {
                usage("--format lip6 needs --site N: the log interleaves the heartbeats of several senders")
            })?,
            assume_synced: a.assume_synced,
        }),
        Format::SendTimes => {
            if !(0.0..1.0).contains(&a.loss) {
                return Err(usage(format!(
                    "--loss {} is not a probability below 1; give e.g. --loss 0.01",
                    a.loss
                )));
            }
            ImportFormat::SendTimes(send_times::Options {
                delay: a.delay,
                loss: a.loss,
                seed: a.seed,
            })
        }
        Format::Pcap => anyhow::bail!("--format pcap is imported by its own path"),
        Format::Csv => {
            let delimiter = match a.delimiter.as_str() {
                "tab" | "\\t" => '\t',
                d if d.chars().count() == 1 => d.chars().next().unwrap_or(','),
                d => return Err(usage(format!("--delimiter '{d}' must be one character (or 'tab')"))),
            };
            let recv = a
                .recv_col
                .clone()
                .ok_or_else(|| usage("--format csv needs --recv-col COL (a 1-based position or a header name)"))?;
            ImportFormat::Csv(generic::Options {
                seq: a.seq_col.clone(),
                send: a.send_col.clone(),
                recv,
                unit: a.unit,
                header: !a.no_header,
                delimiter,
            })
        }
    })
}

/// Runs `fdbench import`.
pub fn run(a: Args) -> anyhow::Result<()> {
    if let Format::Pcap = a.format {
        return super::pcap::run(&a.pcap, &a.input, &a.output, a.interval, a.assume_synced, a.quiet);
    }
    let format = format_options(&a)?;
    super::common::check_not_input(&a.output, std::slice::from_ref(&a.input))?;
    let trace = import::import(&format, &a.input, a.interval)?;
    fdbench::trace::csv::write_path(&trace, &a.output).with_context(|| format!("writing {}", a.output.display()))?;
    if !a.quiet {
        eprintln!(
            "imported {} heartbeat(s) ({} received) from {} into {}; interval {} ({:?})",
            trace.len(),
            trace.receipts(),
            a.input.display(),
            a.output.display(),
            trace.interval(),
            trace.interval_source()
        );
    }
    Ok(())
}

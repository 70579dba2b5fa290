//! `fdbench import --format pcap`: a capture into a cluster folder, or one trace.

use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, bail};

use fdbench::cluster::capture::{self, Naming};
use fdbench::time::Nanos;
use fdbench::trace::csv::open_input;
use fdbench::trace::import::pcap::{self, Protocol};

/// Flags of `--format pcap`.
#[derive(clap::Args, Debug)]
pub struct PcapArgs {
    /// pcap: keep only this protocol.
    #[arg(long, value_enum, value_name = "PROTO")]
    protocol: Option<Protocol>,
    /// pcap: keep only packets from or to this IP address.
    #[arg(long, value_name = "ADDR")]
    host: Option<IpAddr>,
    /// pcap: keep only packets from or to this port.
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,
    /// pcap: name nodes by address and port (several nodes on one host) instead of by address.
    #[arg(long)]
    node_by_port: bool,
}

/// Imports a capture: `output` is a folder (a cluster, one trace per flow) unless it
/// names a `.csv` or `.csv.gz` file, which needs exactly one flow.
pub fn run(
    args: &PcapArgs,
    input: &Path,
    output: &Path,
    interval: Option<Nanos>,
    assume_synced: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let name = input.display().to_string();
    let reader = open_input(input).with_context(|| format!("cannot open {name}"))?;
    let opts = pcap::Options {
        protocol: args.protocol,
        host: args.host,
        port: args.port,
        assume_synced,
    };
    let cap = pcap::read(reader, &name, &opts, interval)?;
    let out = output.to_string_lossy();
    let file = out == "-" || out.ends_with(".csv") || out.ends_with(".csv.gz");
    if file {
        if cap.flows.len() != 1 {
            let flows: Vec<String> = cap.flows.iter().map(|(f, _)| f.to_string()).collect();
            bail!(
                "{name}: {} flows ({}); write them as a cluster folder (-o DIR) or keep one with --host, --port or --protocol",
                flows.len(),
                flows.join(", ")
            );
        }
        let trace = &cap.flows[0].1;
        fdbench::trace::csv::write_path(trace, output).with_context(|| format!("writing {out}"))?;
    } else {
        let naming = if args.node_by_port {
            Naming::Socket
        } else {
            Naming::Address
        };
        capture::write_folder(output, &cap, naming)
            .with_context(|| format!("{name}: writing the cluster folder {out}"))?;
    }
    if !quiet {
        eprintln!(
            "imported {} flow(s) from {name} ({} packets; {} not UDP/TCP, {} filtered out, {} flow(s) of one packet left out) into {out}",
            cap.flows.len(),
            cap.packets,
            cap.other,
            cap.filtered,
            cap.short
        );
        for ((flow, trace), hb) in cap.flows.iter().zip(&cap.heartbeats) {
            let kind = if *hb {
                "fdbench heartbeats"
            } else {
                "one heartbeat per packet"
            };
            eprintln!("  {flow}: {} receipts, {kind}", trace.receipts());
        }
    }
    Ok(())
}

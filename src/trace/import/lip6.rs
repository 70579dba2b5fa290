//! LIP6/PlanetLab heartbeat receipt logs (`traceX.log` of the benchmark platform for
//! failure detectors: BenchamrkingPlatformforFailuredetector/Benchmark_Platform_for_Failure_Detector,
//! `data/README-trace-files-explanation.txt`):
//!
//! ```text
//! <site> <numseq> <timestamp send> <timestamp receive> <hops>
//! 7 1 10965460869347846 2439202704391108 14
//! ```
//!
//! One line per heartbeat received by node X: from node `site`, heartbeat `numseq`
//! (from 0), sent at `timestamp send` on the **sender's** clock, received at
//! `timestamp receive` on node X's clock, both in **nanoseconds**, after `hops` hops.
//! Fields are separated by spaces, tabs or commas; a header line is skipped. The log
//! interleaves several senders: [`Options::site`] picks one stream.
//!
//! The two clocks are not synchronized (their origins differ by days in the example
//! above), so send times are dropped unless [`Options::assume_synced`] is set.

use std::io::Read;

use super::{Rows, fields, text};
use crate::time::Nanos;
use crate::trace::Trace;
use crate::trace::csv::{ReadError, for_each_line, parse_field};

/// How to import a LIP6 receipt log.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The sending node whose heartbeats make the trace.
    pub site: u64,
    /// Keep the senders' timestamps as `send_ns` (only if the clocks were synchronized).
    pub assume_synced: bool,
}

/// Reads a LIP6 receipt log; `interval` overrides the inferred interval (the
/// experiments sent every 100 ms).
pub fn read<R: Read>(input: R, name: &str, opts: &Options, interval: Option<Nanos>) -> Result<Trace, ReadError> {
    let mut rows = Rows::new(name, opts.assume_synced);
    rows.comment(format!("imported from LIP6 receipt log {name}, site {}", opts.site));
    rows.comment(if opts.assume_synced {
        "send_ns: the sender's clock, assumed synchronized with the receiver's (--assume-synced)"
    } else {
        "receipt times only: the sender's clock is not the receiver's"
    });
    let (mut seen, mut other_sites) = (0u64, 0u64);
    let mut first_data = true;
    for_each_line(input, name, |line_no, bytes| {
        let line = text(name, line_no, bytes)?.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let delim = line.contains(',').then_some(',');
        let f = fields(line, delim);
        if first_data && f.first().is_some_and(|s| s.parse::<u64>().is_err()) {
            first_data = false;
            return Ok(()); // a header line
        }
        first_data = false;
        if f.len() != 5 {
            return Err(rows.err(
                line_no,
                format!(
                    "{} field(s); a LIP6 receipt line has 5: site numseq timestamp_send timestamp_receive hops",
                    f.len()
                ),
            ));
        }
        let num = |i: usize, col: &'static str| -> Result<i64, ReadError> {
            parse_field(f[i].as_bytes(), col, i + 1)
                .map_err(|p| ReadError::at(name, line_no, p))?
                .ok_or_else(|| rows.err(line_no, format!("field {} ({col}) is empty", i + 1)))
        };
        let site = num(0, "site")?;
        if site as u64 != opts.site {
            other_sites += 1;
            return Ok(());
        }
        let seq = num(1, "numseq")? as u64;
        let send = num(2, "timestamp_send")?;
        let recv = num(3, "timestamp_receive")?;
        num(4, "hops")?;
        if opts.assume_synced && recv < send {
            return Err(rows.err(
                line_no,
                format!(
                    "received at {recv} before sent at {send}: the clocks are not synchronized; drop --assume-synced"
                ),
            ));
        }
        seen += 1;
        rows.push(line_no, seq, Some(send), Some(recv))
    })?;
    if seen < 2 {
        return Err(ReadError::whole(
            name,
            crate::trace::csv::Problem::Format(format!(
                "{seen} heartbeat(s) from site {} ({other_sites} line(s) from other sites); choose a site that appears in the log with --site",
                opts.site
            )),
        ));
    }
    rows.comment(format!(
        "lip6: {seen} receipt line(s) from site {}, {other_sites} from other sites",
        opts.site
    ));
    rows.finish(interval, None)
}

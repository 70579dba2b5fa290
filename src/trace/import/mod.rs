//! Importers: turn other heartbeat formats into traces.
//!
//! | format | input | times |
//! |---|---|---|
//! | [`ping`] | Linux `ping -D` output | receipt = the printed timestamp; send = receipt − rtt/2 |
//! | [`lip6`] | LIP6/PlanetLab receipt logs `site numseq send receive hops` | ns; send only with `--assume-synced` |
//! | [`send_times`] | sender logs `numseq,timestamp_start_send,timestamp_end_send` | real send times (ns), arrivals from a [`delay::DelayModel`] |
//! | [`generic`] | any CSV, with a column mapping and a unit | as mapped |
//!
//! Every importer streams its input line by line ([`crate::trace::csv::for_each_line`]
//! caps the line length), validates as it goes and reports errors with the input's
//! name, the line, the value and a fix. Input rows may come out of `seq` order (a log
//! in arrival order); they are put in order through a window of [`WINDOW`] rows, and
//! rows that arrive later than that, or repeat a `seq`, are dropped and counted in a
//! comment. A forward jump of more than [`MAX_SEQ_GAP`] sequence numbers is an error.
//!
//! Times are rebased: the origin is the first row's earliest time minus [`ORIGIN_SLACK`]
//! (so that rows reordered by less than that stay non-negative), written as the
//! comment `origin_ns=N` in the input's units converted to ns.

pub mod delay;
pub mod generic;
pub mod lip6;
#[cfg(feature = "record")]
pub mod pcap;
pub mod ping;
pub mod send_times;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::time::Nanos;
use crate::trace::csv::{Problem, ReadError, open_input};
use crate::trace::{IntervalSource, Trace, TraceBuilder};

/// Rows held to put out-of-order input back in `seq` order.
pub const WINDOW: usize = 4096;

/// The largest forward jump of `seq` between rows (about 16.7 million heartbeats).
pub const MAX_SEQ_GAP: u64 = 1 << 24;

/// How far before the first row's time the origin is put.
pub const ORIGIN_SLACK: Nanos = Nanos::from_secs(60);

/// An input format with its options.
#[derive(Clone, Debug)]
pub enum ImportFormat {
    /// Linux `ping -D` output.
    Ping(ping::Options),
    /// LIP6/PlanetLab heartbeat receipt logs.
    Lip6(lip6::Options),
    /// Sender-side send-time logs with modelled arrivals.
    SendTimes(send_times::Options),
    /// Any CSV with a column mapping.
    Csv(generic::Options),
}

/// Imports `input` (a file, `.gz` decompressed, `-` for stdin) in `format`; `interval`
/// overrides the nominal interval (otherwise the format's or inferred).
pub fn import(format: &ImportFormat, input: &Path, interval: Option<Nanos>) -> Result<Trace, ReadError> {
    let name = input.display().to_string();
    let reader = open_input(input).map_err(|e| ReadError::whole(&name, e))?;
    import_reader(format, reader, &name, interval)
}

/// Imports from any byte stream; `name` is used in messages.
pub fn import_reader<R: Read>(
    format: &ImportFormat,
    input: R,
    name: &str,
    interval: Option<Nanos>,
) -> Result<Trace, ReadError> {
    match format {
        ImportFormat::Ping(o) => ping::read(input, name, o, interval),
        ImportFormat::Lip6(o) => lip6::read(input, name, o, interval),
        ImportFormat::SendTimes(o) => send_times::read(input, name, o, interval),
        ImportFormat::Csv(o) => generic::read(input, name, o, interval),
    }
}

/// The common back end of the importers: rebases times, puts rows in `seq` order
/// through a bounded window, counts what it drops, and builds the trace.
pub(crate) struct Rows<'a> {
    name: &'a str,
    builder: TraceBuilder,
    /// `seq -> (send, recv, line)`, times already rebased.
    window: BTreeMap<u64, (Option<i64>, Option<i64>, u64)>,
    released: Option<u64>,
    max_seq: Option<u64>,
    origin: Option<i64>,
    duplicates: u64,
    late: u64,
}

impl<'a> Rows<'a> {
    pub(crate) fn new(name: &'a str, with_send: bool) -> Rows<'a> {
        Rows {
            name,
            builder: TraceBuilder::new(with_send),
            window: BTreeMap::new(),
            released: None,
            max_seq: None,
            origin: None,
            duplicates: 0,
            late: 0,
        }
    }

    pub(crate) fn comment(&mut self, c: impl Into<String>) {
        self.builder.comment(c);
    }

    pub(crate) fn err(&self, line: u64, msg: impl Into<String>) -> ReadError {
        ReadError::at(self.name, line, Problem::Format(msg.into()))
    }

    /// Adds a row with absolute times in ns. A lost heartbeat (`recv` `None`) is left out
    /// of the trace (lost heartbeats may be absent). `send` is ignored without a send
    /// column and required with one.
    pub(crate) fn push(&mut self, line: u64, seq: u64, send: Option<i64>, recv: Option<i64>) -> Result<(), ReadError> {
        let send = if self.builder.has_send() { send } else { None };
        if self.builder.has_send() && recv.is_some() && send.is_none() {
            return Err(self.err(
                line,
                format!("seq {seq} has no send time; give one on every row, or drop the send column"),
            ));
        }
        let first = match (send, recv) {
            (Some(s), Some(r)) => Some(s.min(r)),
            (s, r) => s.or(r),
        };
        if self.origin.is_none()
            && let Some(t) = first
        {
            self.origin = Some(t.saturating_sub(ORIGIN_SLACK.0).max(0));
        }
        let origin = self.origin.unwrap_or(0);
        let rebase = |t: i64| -> Result<i64, ReadError> {
            if t < origin {
                Err(self.err(
                    line,
                    format!(
                        "time {t} ns is more than {ORIGIN_SLACK} before the first row's; the input is not in time order (sort it by receipt time)"
                    ),
                ))
            } else {
                Ok(t - origin)
            }
        };
        let send = send.map(rebase).transpose()?;
        let recv = recv.map(rebase).transpose()?;
        if let Some(m) = self.max_seq
            && seq > m
            && seq - m > MAX_SEQ_GAP
        {
            return Err(self.err(
                line,
                format!(
                    "seq {seq} jumps {} past the previous largest seq {m} (more than {MAX_SEQ_GAP}); the sequence numbers are corrupt or wrap",
                    seq - m
                ),
            ));
        }
        self.max_seq = Some(self.max_seq.map_or(seq, |m| m.max(seq)));
        if recv.is_none() {
            return Ok(());
        }
        if self.released.is_some_and(|r| seq <= r) {
            self.late += 1;
            return Ok(());
        }
        if self.window.contains_key(&seq) {
            self.duplicates += 1;
            return Ok(());
        }
        self.window.insert(seq, (send, recv, line));
        while self.window.len() > WINDOW {
            self.release_first()?;
        }
        Ok(())
    }

    fn release_first(&mut self) -> Result<(), ReadError> {
        if let Some((seq, (send, recv, line))) = self.window.pop_first() {
            self.released = Some(seq);
            self.builder
                .push(seq, send.map(Nanos), recv.map(Nanos))
                .map_err(|e| ReadError::at(self.name, line, e))?;
        }
        Ok(())
    }

    /// Finishes the trace: `interval` from a flag, else `format_interval` from the
    /// format, else inferred.
    pub(crate) fn finish(
        mut self,
        interval: Option<Nanos>,
        format_interval: Option<Nanos>,
    ) -> Result<Trace, ReadError> {
        while !self.window.is_empty() {
            self.release_first()?;
        }
        if let Some(o) = self.origin {
            self.builder
                .comment(format!("origin_ns={o} (subtracted from every time)"));
        }
        if self.duplicates > 0 || self.late > 0 {
            self.builder.comment(format!(
                "dropped: {} row(s) repeating a seq, {} row(s) more than {WINDOW} rows out of order",
                self.duplicates, self.late
            ));
        }
        let interval = match (interval, format_interval) {
            (Some(i), _) => Some((i, IntervalSource::Given)),
            (None, Some(i)) => Some((i, IntervalSource::Metadata)),
            (None, None) => None,
        };
        self.builder
            .finish(interval)
            .map_err(|e| ReadError::whole(self.name, e))
    }
}

/// Parses a non-negative decimal number (`12`, `0.045`, `1732550000.123456`) times
/// `scale` nanoseconds, exactly (no binary floating point), rounding to the nearest ns.
/// `None` if it is not such a number or overflows.
pub fn parse_decimal(text: &str, scale: i64) -> Option<i64> {
    let t = text.trim();
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
        || int.len() > 19
    {
        return None;
    }
    let whole: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut v = whole.checked_mul(i128::from(scale))?;
    // Only the first 18 fractional digits can matter at a scale of at most 10^18 ns.
    let frac = &frac[..frac.len().min(18)];
    if !frac.is_empty() {
        let digits: i128 = frac.parse().ok()?;
        let denom = 10i128.pow(frac.len() as u32);
        let num = digits * i128::from(scale);
        v += (num + denom / 2) / denom;
    }
    i64::try_from(v).ok()
}

/// Splits a line on `delim`, or on runs of spaces and tabs when `delim` is `None`.
pub(crate) fn fields(line: &str, delim: Option<char>) -> Vec<&str> {
    match delim {
        Some(d) => line.split(d).map(str::trim).collect(),
        None => line.split_ascii_whitespace().collect(),
    }
}

/// The line as text, or an error naming the line.
pub(crate) fn text<'l>(name: &str, line_no: u64, line: &'l [u8]) -> Result<&'l str, ReadError> {
    std::str::from_utf8(line).map_err(|_| ReadError::at(name, line_no, Problem::NotText))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal("0.045", 1_000_000), Some(45_000));
        assert_eq!(
            parse_decimal("1732550000.123456", 1_000_000_000),
            Some(1_732_550_000_123_456_000)
        );
        assert_eq!(parse_decimal("12", 1_000), Some(12_000));
        assert_eq!(parse_decimal(".5", 1_000_000_000), Some(500_000_000));
        assert_eq!(parse_decimal("1.0000000005", 1_000_000_000), Some(1_000_000_001));
        assert_eq!(parse_decimal("1e3", 1), None);
        assert_eq!(parse_decimal("-1", 1), None);
        assert_eq!(parse_decimal("", 1), None);
        assert_eq!(parse_decimal(".", 1), None);
        assert_eq!(parse_decimal("99999999999", 1_000_000_000), None);
        assert_eq!(parse_decimal(&"9".repeat(40), 1), None);
        assert_eq!(parse_decimal(&format!("1.{}", "9".repeat(40)), 1), Some(2));
    }

    #[test]
    fn rows_are_reordered_deduplicated_and_rebased() {
        let mut r = Rows::new("x", true);
        r.push(1, 2, Some(200_000_000_000), Some(200_000_000_500)).unwrap();
        r.push(2, 1, Some(199_000_000_000), Some(199_500_000_000)).unwrap();
        r.push(3, 2, Some(1), Some(2)).unwrap_err();
        r.push(3, 1, Some(199_000_000_000), Some(199_500_000_000)).unwrap();
        r.push(4, 3, None, None).unwrap();
        let t = r.finish(None, Some(Nanos(7))).unwrap();
        let rows: Vec<_> = t.rows().collect();
        let o = 200_000_000_000 - ORIGIN_SLACK.0;
        assert_eq!(
            rows[0],
            (1, Some(Nanos(199_000_000_000 - o)), Some(Nanos(199_500_000_000 - o)))
        );
        assert_eq!(rows[1].0, 2);
        assert_eq!(rows.len(), 2, "the lost seq 3 is left out");
        assert!(t.comments().iter().any(|c| c.contains("1 row(s) repeating a seq")));
        assert_eq!(t.interval(), Nanos(7));
    }

    #[test]
    fn a_huge_seq_jump_is_an_error_not_an_allocation() {
        let mut r = Rows::new("x", false);
        r.push(1, 0, None, Some(10)).unwrap();
        let e = r.push(2, 1_000_000_000_000, None, Some(20)).unwrap_err();
        assert!(e.to_string().starts_with("x line 2: seq 1000000000000 jumps"), "{e}");
    }
}

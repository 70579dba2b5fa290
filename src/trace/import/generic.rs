//! Any delimited text file of heartbeats, with a column mapping and a time unit:
//! `--recv-col` (required), `--seq-col` (default: the row number, from 1), `--send-col`
//! (optional); columns by 1-based position or by header name; times in `ns`, `us`, `ms`
//! or `s`, integer or decimal (`1732550000.25` s is read exactly). An empty receipt
//! field is a lost heartbeat.

use std::fmt;
use std::io::Read;
use std::str::FromStr;

use super::{Rows, parse_decimal, text};
use crate::time::Nanos;
use crate::trace::Trace;
use crate::trace::csv::{ReadError, for_each_line};

/// A column: a 1-based position or a header name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// 1-based position.
    Index(usize),
    /// A name in the header line.
    Name(String),
}

impl FromStr for Column {
    type Err = String;
    fn from_str(s: &str) -> Result<Column, String> {
        let s = s.trim();
        match s.parse::<usize>() {
            Ok(0) => Err("columns are numbered from 1".to_string()),
            Ok(i) => Ok(Column::Index(i)),
            Err(_) if s.is_empty() => Err("empty column name".to_string()),
            Err(_) => Ok(Column::Name(s.to_string())),
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Index(i) => write!(f, "{i}"),
            Column::Name(n) => write!(f, "'{n}'"),
        }
    }
}

/// The unit of the time columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Unit {
    /// Nanoseconds.
    Ns,
    /// Microseconds.
    Us,
    /// Milliseconds.
    Ms,
    /// Seconds.
    S,
}

impl Unit {
    /// Nanoseconds per unit.
    pub fn scale(self) -> i64 {
        match self {
            Unit::Ns => 1,
            Unit::Us => 1_000,
            Unit::Ms => 1_000_000,
            Unit::S => 1_000_000_000,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Ns => "ns",
            Unit::Us => "us",
            Unit::Ms => "ms",
            Unit::S => "s",
        }
    }
}

/// How to read the file.
#[derive(Clone, Debug)]
pub struct Options {
    /// The sequence-number column; `None` numbers the data rows from 1.
    pub seq: Option<Column>,
    /// The send-time column, if any.
    pub send: Option<Column>,
    /// The receipt-time column.
    pub recv: Column,
    /// Unit of the time columns.
    pub unit: Unit,
    /// Whether the first non-comment line is a header.
    pub header: bool,
    /// Field delimiter.
    pub delimiter: char,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seq: None,
            send: None,
            recv: Column::Index(1),
            unit: Unit::Ns,
            header: true,
            delimiter: ',',
        }
    }
}

/// Resolves a column to a 0-based index, given the header if any.
fn resolve(col: &Column, header: Option<&[&str]>, flag: &str) -> Result<usize, String> {
    match (col, header) {
        (Column::Index(i), _) => Ok(i - 1),
        (Column::Name(n), Some(h)) => h.iter().position(|x| x == n).ok_or_else(|| {
            format!(
                "{flag} {n}: no such column in the header ({}); give a name from it or a position",
                h.join(",")
            )
        }),
        (Column::Name(n), None) => Err(format!(
            "{flag} {n}: a column name needs a header line; give a position instead"
        )),
    }
}

/// Reads a delimited file with the mapping in `opts`.
pub fn read<R: Read>(input: R, name: &str, opts: &Options, interval: Option<Nanos>) -> Result<Trace, ReadError> {
    let mut rows = Rows::new(name, opts.send.is_some());
    rows.comment(format!(
        "imported from {name}: seq column {}, send column {}, recv column {}, unit {}",
        opts.seq.as_ref().map_or("row number".to_string(), |c| c.to_string()),
        opts.send.as_ref().map_or("none".to_string(), |c| c.to_string()),
        opts.recv,
        opts.unit.name()
    ));
    // (seq, send, recv) 0-based indices, resolved at the header or the first row.
    let mut cols: Option<(Option<usize>, Option<usize>, usize)> = None;
    let mut row_no: u64 = 0;
    let scale = opts.unit.scale();
    for_each_line(input, name, |line_no, bytes| {
        let line = text(name, line_no, bytes)?;
        if line.trim().is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let f: Vec<&str> = line.split(opts.delimiter).map(str::trim).collect();
        let Some((seq_i, send_i, recv_i)) = cols else {
            let header = opts.header.then_some(f.as_slice());
            let r = (|| -> Result<_, String> {
                Ok((
                    opts.seq.as_ref().map(|c| resolve(c, header, "--seq-col")).transpose()?,
                    opts.send
                        .as_ref()
                        .map(|c| resolve(c, header, "--send-col"))
                        .transpose()?,
                    resolve(&opts.recv, header, "--recv-col")?,
                ))
            })()
            .map_err(|m| rows.err(line_no, m))?;
            cols = Some(r);
            if opts.header {
                return Ok(());
            }
            return read_row(&mut rows, line_no, &f, r, &mut row_no, scale);
        };
        read_row(&mut rows, line_no, &f, (seq_i, send_i, recv_i), &mut row_no, scale)
    })?;
    rows.finish(interval, None)
}

fn read_row(
    rows: &mut Rows<'_>,
    line_no: u64,
    f: &[&str],
    (seq_i, send_i, recv_i): (Option<usize>, Option<usize>, usize),
    row_no: &mut u64,
    scale: i64,
) -> Result<(), ReadError> {
    *row_no += 1;
    let get = |i: usize, what: &str| -> Result<&str, ReadError> {
        f.get(i).copied().ok_or_else(|| {
            rows.err(
                line_no,
                format!(
                    "{} field(s), but the {what} column is number {}; check --delimiter and the column flags",
                    f.len(),
                    i + 1
                ),
            )
        })
    };
    let time = |i: usize, what: &str| -> Result<Option<i64>, ReadError> {
        let v = get(i, what)?;
        if v.is_empty() {
            return Ok(None);
        }
        parse_decimal(v, scale).map(Some).ok_or_else(|| {
            rows.err(
                line_no,
                format!("{what} '{v}' is not a non-negative number in the given unit (e.g. 1500 or 1.5; check --unit)"),
            )
        })
    };
    let seq = match seq_i {
        Some(i) => {
            let v = get(i, "seq")?;
            v.parse::<u64>()
                .map_err(|_| rows.err(line_no, format!("seq '{v}' is not a non-negative integer")))?
        }
        None => *row_no,
    };
    let recv = time(recv_i, "recv")?;
    let send = send_i.map(|i| time(i, "send")).transpose()?.flatten();
    if send_i.is_some() && recv.is_some() && send.is_none() {
        return Err(rows.err(line_no, "the send field is empty; every received row needs a send time"));
    }
    rows.push(line_no, seq, send, recv)
}

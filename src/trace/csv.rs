//! The trace CSV format: reader and writer.
//!
//! ```text
//! # interval_ns=100000000
//! # generator: preset=wan seed=7 ...
//! seq,send_ns,recv_ns
//! 1,0,51234567
//! 2,100000000,
//! 3,200000000,251002311
//! ```
//!
//! - Lines starting with `#` are comments. Comments before the header are kept with
//!   the trace and written back; `# interval_ns=N` carries the nominal interval.
//! - The header names the columns: `seq` and `recv_ns` are required, `send_ns` is
//!   optional for the whole file; columns may come in any order.
//! - An empty `recv_ns` marks a lost heartbeat; lost heartbeats may also be absent.
//! - Files ending in `.gz` are decompressed transparently.
//!
//! The reader streams: it validates each row as it is read, keeps about 24 bytes per
//! heartbeat, and caps the length of a line, so a malformed multi-gigabyte file is
//! rejected without exhausting memory. Writing then reading a trace gives it back
//! exactly, and reading then writing a written file gives the same bytes.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use crate::time::Nanos;
use crate::trace::{IntervalSource, Trace, TraceBuilder, TraceError};

/// The longest line accepted, in bytes. Real rows are under 64 bytes.
pub const MAX_LINE: usize = 4096;

/// The most bytes of comment lines kept before the header (a trace's comments are a few
/// lines: the generator's command, an importer's notes).
pub const MAX_COMMENTS: usize = 64 << 10;

/// The UTF-8 byte order mark some editors put at the start of a file; skipped.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The metadata comment that carries the nominal interval.
const INTERVAL_KEY: &str = "interval_ns=";

/// An error while reading a trace, naming the input and the line.
#[derive(Debug, thiserror::Error)]
#[error("{input}{}: {problem}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct ReadError {
    /// The file name (or `-` for standard input).
    pub input: String,
    /// The 1-based line number, when the problem is on one line.
    pub line: Option<u64>,
    /// What is wrong and what to do.
    pub problem: Problem,
}

/// What is wrong with a trace input.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    /// The file could not be read.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// No header line was found.
    #[error("no header line; the first line that is not a comment must name the columns, e.g. 'seq,send_ns,recv_ns'")]
    NoHeader,
    /// The header is not usable.
    #[error("bad header '{0}': {1}")]
    BadHeader(String, String),
    /// A row has the wrong number of fields.
    #[error(
        "{found} field(s) where the header has {expected}; every row needs the header's columns (leave recv_ns empty for a lost heartbeat)"
    )]
    FieldCount {
        /// Fields in the header.
        expected: usize,
        /// Fields in the row.
        found: usize,
    },
    /// A field is not a number.
    #[error(
        "column {column} (field {field}): '{value}' is not a non-negative integer; times are whole nanoseconds, e.g. 1500000000 for 1.5 s"
    )]
    BadNumber {
        /// Column name.
        column: &'static str,
        /// 1-based field number.
        field: usize,
        /// The text found.
        value: String,
    },
    /// A number does not fit.
    #[error("column {column} (field {field}): '{value}' overflows 64-bit nanoseconds (largest 9223372036854775807)")]
    Overflow {
        /// Column name.
        column: &'static str,
        /// 1-based field number.
        field: usize,
        /// The text found.
        value: String,
    },
    /// A required field is empty.
    #[error("column {0} is empty; every row needs a {0} (only recv_ns may be empty, for a lost heartbeat)")]
    Empty(&'static str),
    /// A line is too long to be a trace row.
    #[error("line longer than {MAX_LINE} bytes; this is not a trace CSV file (is it binary, or missing newlines?)")]
    LineTooLong,
    /// Too many comment lines before the header.
    #[error(
        "more than {MAX_COMMENTS} bytes of comment lines before the header; this is not a trace CSV file (a trace has a few comment lines)"
    )]
    TooManyComments,
    /// A line is not UTF-8 text.
    #[error("the line is not text; a trace CSV file is ASCII")]
    NotText,
    /// The interval metadata does not parse.
    #[error("comment '# interval_ns={0}': the interval must be a positive integer number of nanoseconds")]
    BadInterval(String),
    /// A row breaks the trace rules.
    #[error("{0}")]
    Trace(#[from] TraceError),
    /// Importers: a problem specific to a format.
    #[error("{0}")]
    Format(String),
}

impl ReadError {
    /// An error at `line` of `input`.
    pub fn at(input: &str, line: u64, problem: impl Into<Problem>) -> ReadError {
        ReadError {
            input: input.to_string(),
            line: Some(line),
            problem: problem.into(),
        }
    }

    /// An error about `input` as a whole.
    pub fn whole(input: &str, problem: impl Into<Problem>) -> ReadError {
        ReadError {
            input: input.to_string(),
            line: None,
            problem: problem.into(),
        }
    }
}

/// Opens a file for reading, decompressing it when its name ends in `.gz`; `-` is
/// standard input.
pub fn open_input(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin()));
    }
    let file = File::open(path)?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 16,
            file,
        ))))
    } else {
        Ok(Box::new(file))
    }
}

/// Reads a trace file (see the module docs). `interval` overrides the file's nominal
/// interval.
pub fn read_path(path: &Path, interval: Option<Nanos>) -> Result<Trace, ReadError> {
    let name = path.display().to_string();
    let input = open_input(path).map_err(|e| ReadError::whole(&name, e))?;
    read(input, &name, interval)
}

/// Splits a byte stream into lines of at most [`MAX_LINE`] bytes, calling `f` with the
/// 1-based line number and the line without its line ending (and, on line 1, without a
/// UTF-8 byte order mark). Memory stays bounded whatever the input (a gzip stream that
/// inflates to gigabytes of one line is refused at [`MAX_LINE`]).
pub fn for_each_line<R: Read>(
    input: R,
    name: &str,
    mut f: impl FnMut(u64, &[u8]) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    let mut f = |n: u64, line: &[u8]| {
        f(
            n,
            if n == 1 {
                line.strip_prefix(BOM).unwrap_or(line)
            } else {
                line
            },
        )
    };
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut carry: Vec<u8> = Vec::new();
    let mut line_no: u64 = 0;
    let strip = |l: &[u8]| -> usize { if l.last() == Some(&b'\r') { l.len() - 1 } else { l.len() } };
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::whole(name, e)),
        };
        if buf.is_empty() {
            if !carry.is_empty() {
                line_no += 1;
                let n = strip(&carry);
                f(line_no, &carry[..n])?;
            }
            return Ok(());
        }
        let len = buf.len();
        let mut start = 0;
        while let Some(pos) = memchr::memchr(b'\n', &buf[start..]) {
            line_no += 1;
            let end = start + pos;
            if carry.is_empty() {
                let line = &buf[start..end];
                if line.len() > MAX_LINE {
                    return Err(ReadError::at(name, line_no, Problem::LineTooLong));
                }
                f(line_no, &line[..strip(line)])?;
            } else {
                carry.extend_from_slice(&buf[start..end]);
                if carry.len() > MAX_LINE {
                    return Err(ReadError::at(name, line_no, Problem::LineTooLong));
                }
                let n = strip(&carry);
                f(line_no, &carry[..n])?;
                carry.clear();
            }
            start = end + 1;
        }
        carry.extend_from_slice(&buf[start..]);
        if carry.len() > MAX_LINE {
            return Err(ReadError::at(name, line_no + 1, Problem::LineTooLong));
        }
        reader.consume(len);
    }
}

/// Parses a non-negative decimal integer that fits in `i64`, allowing surrounding
/// spaces. `Ok(None)` for an empty field.
pub fn parse_field(bytes: &[u8], column: &'static str, field: usize) -> Result<Option<i64>, Problem> {
    let t = bytes.trim_ascii();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || Problem::BadNumber {
        column,
        field,
        value: String::from_utf8_lossy(t).into_owned(),
    };
    if t.len() > 20 {
        return if t.iter().all(u8::is_ascii_digit) {
            Err(Problem::Overflow {
                column,
                field,
                value: String::from_utf8_lossy(t).into_owned(),
            })
        } else {
            Err(bad())
        };
    }
    let mut v: u64 = 0;
    for &c in t {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return Err(bad());
        }
        v = match v.checked_mul(10).and_then(|v| v.checked_add(u64::from(d))) {
            Some(v) => v,
            None => {
                return Err(Problem::Overflow {
                    column,
                    field,
                    value: String::from_utf8_lossy(t).into_owned(),
                });
            }
        };
    }
    if v > i64::MAX as u64 {
        return Err(Problem::Overflow {
            column,
            field,
            value: String::from_utf8_lossy(t).into_owned(),
        });
    }
    Ok(Some(v as i64))
}

#[derive(Clone, Copy)]
enum Column {
    Seq,
    Send,
    Recv,
}

/// Reads a trace from any byte stream; `name` is used in error messages.
pub fn read<R: Read>(input: R, name: &str, interval: Option<Nanos>) -> Result<Trace, ReadError> {
    let mut columns: Option<Vec<Column>> = None;
    let mut builder: Option<TraceBuilder> = None;
    let mut comments: Vec<String> = Vec::new();
    let mut comment_bytes = 0;
    let mut meta_interval: Option<Nanos> = None;
    for_each_line(input, name, |line_no, line| {
        if line.first() == Some(&b'#') {
            if columns.is_none() {
                let text = std::str::from_utf8(line).map_err(|_| ReadError::at(name, line_no, Problem::NotText))?;
                let body = text[1..].trim();
                if let Some(v) = body.strip_prefix(INTERVAL_KEY) {
                    let ns: i64 = v
                        .trim()
                        .parse()
                        .ok()
                        .filter(|&n: &i64| n > 0)
                        .ok_or_else(|| ReadError::at(name, line_no, Problem::BadInterval(v.to_string())))?;
                    meta_interval = Some(Nanos(ns));
                } else {
                    comment_bytes += body.len() + 1;
                    if comment_bytes > MAX_COMMENTS {
                        return Err(ReadError::at(name, line_no, Problem::TooManyComments));
                    }
                    comments.push(body.to_string());
                }
            }
            return Ok(());
        }
        if line.trim_ascii().is_empty() {
            return Ok(());
        }
        let Some(cols) = &columns else {
            let text = std::str::from_utf8(line).map_err(|_| ReadError::at(name, line_no, Problem::NotText))?;
            let cols = parse_header(text)
                .map_err(|msg| ReadError::at(name, line_no, Problem::BadHeader(text.to_string(), msg)))?;
            let mut b = TraceBuilder::new(cols.iter().any(|c| matches!(c, Column::Send)));
            for c in comments.drain(..) {
                b.comment(c);
            }
            builder = Some(b);
            columns = Some(cols);
            return Ok(());
        };
        let b = builder.as_mut().expect("builder exists once the header is read");
        let (mut seq, mut send, mut recv) = (None, None, None);
        let mut n = 0;
        for (i, field) in line.split(|&c| c == b',').enumerate() {
            n += 1;
            let Some(&col) = cols.get(i) else { continue };
            let err = |p| ReadError::at(name, line_no, p);
            match col {
                Column::Seq => seq = parse_field(field, "seq", i + 1).map_err(err)?,
                Column::Send => send = parse_field(field, "send_ns", i + 1).map_err(err)?,
                Column::Recv => recv = parse_field(field, "recv_ns", i + 1).map_err(err)?,
            }
        }
        if n != cols.len() {
            return Err(ReadError::at(
                name,
                line_no,
                Problem::FieldCount {
                    expected: cols.len(),
                    found: n,
                },
            ));
        }
        let seq = seq.ok_or_else(|| ReadError::at(name, line_no, Problem::Empty("seq")))?;
        if b.has_send() && send.is_none() {
            return Err(ReadError::at(name, line_no, Problem::Empty("send_ns")));
        }
        b.push(seq as u64, send.map(Nanos), recv.map(Nanos))
            .map_err(|e| ReadError::at(name, line_no, e))
    })?;
    let builder = builder.ok_or_else(|| ReadError::whole(name, Problem::NoHeader))?;
    let interval = match (interval, meta_interval) {
        (Some(i), _) => Some((i, IntervalSource::Given)),
        (None, Some(i)) => Some((i, IntervalSource::Metadata)),
        (None, None) => None,
    };
    builder.finish(interval).map_err(|e| ReadError::whole(name, e))
}

fn parse_header(text: &str) -> Result<Vec<Column>, String> {
    let mut cols = Vec::new();
    for name in text.split(',') {
        let c = match name.trim() {
            "seq" => Column::Seq,
            "send_ns" => Column::Send,
            "recv_ns" => Column::Recv,
            other => {
                return Err(format!(
                    "unknown column '{other}'; the columns are seq, send_ns (optional) and recv_ns (use `fdbench import --format csv` for other layouts)"
                ));
            }
        };
        if cols
            .iter()
            .any(|&x| std::mem::discriminant(&x) == std::mem::discriminant(&c))
        {
            return Err(format!("column '{}' appears twice", name.trim()));
        }
        cols.push(c);
    }
    if !cols.iter().any(|c| matches!(c, Column::Seq)) || !cols.iter().any(|c| matches!(c, Column::Recv)) {
        return Err("the columns seq and recv_ns are required".to_string());
    }
    Ok(cols)
}

/// Writes a trace: its comments, `# interval_ns=N`, the header and one row per heartbeat.
pub fn write<W: Write>(trace: &Trace, out: W) -> io::Result<()> {
    write_rows(trace.comments(), trace.interval(), trace.has_send(), trace.rows(), out)
}

/// Writes the rows `(seq, send, recv)` of a trace as [`write()`] does, streaming: the
/// comments, `# interval_ns=N`, the header (with `send_ns` when `has_send`) and one line
/// per row.
pub fn write_rows<W: Write>(
    comments: &[String],
    interval: Nanos,
    has_send: bool,
    rows: impl Iterator<Item = (u64, Option<Nanos>, Option<Nanos>)>,
    out: W,
) -> io::Result<()> {
    let mut w = io::BufWriter::with_capacity(1 << 20, out);
    for c in comments {
        writeln!(w, "# {c}")?;
    }
    writeln!(w, "# {INTERVAL_KEY}{}", interval.0)?;
    w.write_all(if has_send {
        b"seq,send_ns,recv_ns\n"
    } else {
        b"seq,recv_ns\n"
    })?;
    let mut b = itoa::Buffer::new();
    for (seq, send, recv) in rows {
        w.write_all(b.format(seq).as_bytes())?;
        w.write_all(b",")?;
        if has_send {
            if let Some(s) = send {
                w.write_all(b.format(s.0).as_bytes())?;
            }
            w.write_all(b",")?;
        }
        if let Some(r) = recv {
            w.write_all(b.format(r.0).as_bytes())?;
        }
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// Writes a trace to `path` atomically (see [`crate::output::write_atomic`]); `-` is
/// standard output. A name ending in `.gz` is gzip-compressed.
pub fn write_path(trace: &Trace, path: &Path) -> io::Result<()> {
    write_path_with(path, |w| write(trace, w))
}

/// Writes to `path` atomically what `fill` writes (e.g. [`write_rows`]), gzip-compressed
/// when the name ends in `.gz`; `-` is standard output. An error from `fill` leaves
/// `path` as it was.
pub fn write_path_with(path: &Path, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let gz = path.extension().is_some_and(|e| e == "gz");
    crate::output::write_atomic(path, |w| {
        if gz {
            let mut enc = flate2::write::GzEncoder::new(w, flate2::Compression::default());
            fill(&mut enc)?;
            enc.finish()?;
            Ok(())
        } else {
            fill(w)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Trace, ReadError> {
        read(text.as_bytes(), "t.csv", None)
    }

    #[test]
    fn reads_the_documented_format() {
        let t = parse("# interval_ns=100\n# made by hand\nseq,send_ns,recv_ns\n1,0,51\n2,100,\n3,200,251\n").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.receipts(), 2);
        assert_eq!(t.interval(), Nanos(100));
        assert_eq!(t.interval_source(), IntervalSource::Metadata);
        assert_eq!(t.comments(), ["made by hand"]);
        assert_eq!(t.recv(1), None);
        assert_eq!(t.send(2), Some(Nanos(200)));
    }

    #[test]
    fn columns_may_come_in_any_order_and_send_is_optional() {
        let t = parse("recv_ns,seq\n10,1\n25,2\n").unwrap();
        assert!(!t.has_send());
        assert_eq!(t.seq(1), 2);
        assert_eq!(t.recv(1), Some(Nanos(25)));
        assert_eq!(t.interval(), Nanos(15));
    }

    #[test]
    fn round_trips_exactly() {
        let text = "# generator: preset=lan seed=1\n# interval_ns=100\nseq,send_ns,recv_ns\n1,0,51\n2,100,\n4,300,351\n5,400,390000\n";
        let t = parse(text).unwrap();
        let mut out = Vec::new();
        write(&t, &mut out).unwrap();
        assert_eq!(String::from_utf8(out.clone()).unwrap(), text);
        assert_eq!(parse(std::str::from_utf8(&out).unwrap()).unwrap(), t);
    }

    #[test]
    fn crlf_and_blank_lines_are_accepted() {
        let t = parse("seq,recv_ns\r\n1,10\r\n\r\n2,20\r\n").unwrap();
        assert_eq!(t.len(), 2);
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn every_invalid_input_names_file_line_and_fix() {
        assert_eq!(
            err("seq,recv_ns\n1,10\n2,x5\n"),
            "t.csv line 3: column recv_ns (field 2): 'x5' is not a non-negative integer; times are whole nanoseconds, e.g. 1500000000 for 1.5 s"
        );
        assert_eq!(
            err("seq,recv_ns\n1,10\n1,20\n"),
            "t.csv line 3: seq 1 is not after 1; sort the rows by seq and remove duplicates"
        );
        assert!(
            err("seq,recv_ns\n1,-10\n2,20\n")
                .starts_with("t.csv line 2: column recv_ns (field 2): '-10' is not a non-negative integer")
        );
        assert!(
            err("seq,recv_ns\n1,99999999999999999999\n")
                .contains("line 2: column recv_ns (field 2): '99999999999999999999' overflows")
        );
        assert!(err("seq,recv_ns\n1,9223372036854775808\n").contains("overflows"));
        assert_eq!(
            err("seq,send_ns,recv_ns\n1,50,40\n"),
            "t.csv line 2: recv_ns 40 is before send_ns 50; both must be on the monitor's clock"
        );
        assert_eq!(
            err("seq,recv_ns\n1,10\n"),
            "t.csv: the trace has 1 receipt(s); at least two are needed to replay a detector"
        );
        assert!(err("").contains("no header line"));
        assert!(err("# only a comment\n").contains("no header line"));
        assert!(err("seq,when\n").contains("line 1: bad header 'seq,when': unknown column 'when'"));
        assert!(err("seq,send_ns\n").contains("seq and recv_ns are required"));
        assert!(err("seq,recv_ns\n1,10,3\n").contains("line 2: 3 field(s) where the header has 2"));
        assert!(err("seq,send_ns,recv_ns\n1,,10\n").contains("line 2: column send_ns is empty"));
        assert!(err("# interval_ns=abc\nseq,recv_ns\n").contains("line 1: comment '# interval_ns=abc'"));
        let long = format!("seq,recv_ns\n1,{}\n", "1".repeat(MAX_LINE + 10));
        assert!(err(&long).contains("line 2: line longer than"));
        assert!(parse("seq,recv_ns\n\u{ff}\u{fe}\n").is_err());
    }

    #[test]
    fn a_byte_order_mark_is_skipped_on_the_first_line_only() {
        let t = parse("\u{feff}seq,recv_ns\n1,10\n2,20\n").unwrap();
        assert_eq!(t.len(), 2);
        let t = parse("\u{feff}# interval_ns=10\nseq,recv_ns\n1,10\n2,20\n").unwrap();
        assert_eq!(t.interval(), Nanos(10));
        assert_eq!(
            err("seq,recv_ns\n\u{feff}1,10\n2,20\n"),
            "t.csv line 2: column seq (field 1): '\u{feff}1' is not a non-negative integer; times are whole nanoseconds, e.g. 1500000000 for 1.5 s"
        );
    }

    /// Endless comment lines: refused once they pass [`MAX_COMMENTS`], the input never
    /// held whole.
    #[test]
    fn endless_comments_are_refused_at_the_limit() {
        struct Comments;
        impl Read for Comments {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                // Lines of 100 bytes: '#', a space, 97 x's, '\n' (bodies of 97 bytes + 1).
                let line = [b"# ".as_slice(), &[b'x'; 97], b"\n"].concat();
                let n = buf.len() / line.len() * line.len();
                for chunk in buf[..n].chunks_mut(line.len()) {
                    chunk.copy_from_slice(&line);
                }
                Ok(n)
            }
        }
        let e = read(Comments, "c.csv", None).unwrap_err();
        // 98 bytes counted per line: line 669 brings 65,562 > 65,536.
        assert_eq!(
            e.to_string(),
            "c.csv line 669: more than 65536 bytes of comment lines before the header; this is not a trace CSV file (a trace has a few comment lines)"
        );
    }

    #[test]
    fn reads_gzip_transparently() {
        let dir = tempfile::tempdir().unwrap();
        let t = parse("# interval_ns=10\nseq,recv_ns\n1,10\n2,20\n3,30\n").unwrap();
        let p = dir.path().join("t.csv.gz");
        write_path(&t, &p).unwrap();
        let raw = std::fs::read(&p).unwrap();
        assert_eq!(&raw[..2], &[0x1f, 0x8b]);
        assert_eq!(read_path(&p, None).unwrap(), t);
    }
}

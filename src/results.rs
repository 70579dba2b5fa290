//! The results schema ([evaluation.md](crate::docs::evaluation) §6): one row per (detector, parameters, knob
//! value). This file format is stable: other tools may read it.
//!
//! CSV and JSON use the same field names, in this order. When a sweep covers several
//! traces, a `trace` column comes first. Optional fields are empty in CSV and `null` in
//! JSON; an infinite detection time is written `inf`.

use std::io::{self, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::detector::Config;
use crate::metrics::Metrics;
use crate::time::Nanos;

/// One measured configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The trace's name, when results cover several traces (CSV: the first column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// Detector name, e.g. `phi`.
    pub detector: String,
    /// Fixed parameters, `key=value` joined by `;`, e.g. `window=1000`.
    pub params: String,
    /// Name of the swept knob (`timeout`, `alpha`, `threshold`); empty without one.
    pub knob: String,
    /// Knob value: milliseconds for durations, plain number otherwise; empty without a knob.
    pub value: Option<f64>,
    /// Accepted receipts evaluated.
    pub heartbeats: u64,
    /// Evaluated length `L`, seconds.
    pub evaluated_s: f64,
    /// S-transitions (wrong suspicions).
    pub mistakes: u64,
    /// Mistake rate `λ_M`, per hour.
    pub mistake_rate_per_h: f64,
    /// Mean mistake duration `T_M`, milliseconds; empty without mistakes.
    pub mistake_duration_mean_ms: Option<f64>,
    /// Mean mistake recurrence time `T_MR`, seconds; empty without mistakes.
    pub mistake_recurrence_mean_s: Option<f64>,
    /// Query accuracy probability `P_A`.
    pub query_accuracy: f64,
    /// Mean detection time `T_D`, milliseconds (`inf` if some crash is never detected).
    #[serde(with = "float_inf")]
    pub detection_mean_ms: f64,
    /// Median detection time, milliseconds (nearest rank).
    #[serde(with = "float_inf")]
    pub detection_p50_ms: f64,
    /// 99th percentile detection time, milliseconds (nearest rank).
    #[serde(with = "float_inf")]
    pub detection_p99_ms: f64,
    /// Largest detection time, milliseconds.
    #[serde(with = "float_inf")]
    pub detection_max_ms: f64,
    /// Fraction of crash points detected within `deadline_ms`.
    pub completeness: f64,
    /// The completeness deadline `D`, milliseconds.
    pub deadline_ms: f64,
    /// Where detection time is measured from: `send` or `receipt`.
    pub detection_origin: String,
    /// Lower end of the exact (Garwood) two-sided 95 % confidence interval of the
    /// mistake rate, per hour (0 without mistakes); empty when read from a file written
    /// before the column existed.
    #[serde(default)]
    pub mistake_rate_low_per_h: Option<f64>,
    /// Upper end of that interval, per hour.
    #[serde(default)]
    pub mistake_rate_high_per_h: Option<f64>,
}

impl Row {
    /// The knob setting for people, with its unit: `timeout=21.6 ms`, `threshold=8`;
    /// `None` without a knob. Duration knobs are reported in milliseconds; `threshold`
    /// is the one plain knob.
    pub fn setting(&self) -> Option<String> {
        // Shown to 1e-9 of the knob's unit: the grid's float noise (4.8020000000000005)
        // is not part of the setting.
        let v = (self.value? * 1e9).round() / 1e9;
        let unit = if self.knob == "threshold" { "" } else { " ms" };
        Some(format!("{}={v}{unit}", self.knob))
    }
}

/// Serializes `+inf` as the string `inf` (CSV and JSON alike) and reads it back.
fn ms(n: Nanos) -> f64 {
    if n == Nanos::MAX {
        f64::INFINITY
    } else {
        n.as_millis_f64()
    }
}

impl Row {
    /// The row of `config` at knob value `knob` (internal units), from its metrics; `trace`
    /// names the trace when a sweep covers several.
    pub fn new(trace: Option<&str>, config: &Config, knob: f64, m: &Metrics) -> Row {
        let k = config.knob();
        let (low, high) = m.mistake_rate_interval_per_h();
        Row {
            trace: trace.map(str::to_string),
            detector: config.preset_label(),
            params: config.params(),
            knob: k.map(|k| k.name.to_string()).unwrap_or_default(),
            value: k.map(|k| k.report(knob)),
            heartbeats: m.heartbeats,
            evaluated_s: m.evaluated.as_secs_f64(),
            mistakes: m.mistakes,
            mistake_rate_per_h: m.mistake_rate_per_h(),
            mistake_duration_mean_ms: m.mistake_duration_mean().map(|x| x / 1e6),
            mistake_recurrence_mean_s: m.mistake_recurrence_mean().map(|x| x / 1e9),
            query_accuracy: m.query_accuracy(),
            detection_mean_ms: m.detection.mean_ns / 1e6,
            detection_p50_ms: ms(m.detection.p50),
            detection_p99_ms: ms(m.detection.p99),
            detection_max_ms: ms(m.detection.max),
            completeness: m.detection.completeness,
            deadline_ms: m.detection.deadline.as_millis_f64(),
            detection_origin: m.detection.origin.as_str().to_string(),
            mistake_rate_low_per_h: Some(low),
            mistake_rate_high_per_h: Some(high),
        }
    }
}

pub(crate) mod float_inf {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_infinite() && *v > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_f64(*v)
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        F(f64),
        S(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        match Num::deserialize(d)? {
            Num::F(f) => Ok(f),
            Num::S(s) if s == "inf" => Ok(f64::INFINITY),
            Num::S(s) => s
                .parse()
                .map_err(|_| serde::de::Error::custom(format!("'{s}' is not a number or inf"))),
        }
    }
}

/// Output format of results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    /// Comma-separated values with a header.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Writes rows in the given format.
pub fn write<W: Write>(rows: &[Row], format: Format, out: W) -> io::Result<()> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            if rows.is_empty() {
                w.write_record(HEADER)?;
            }
            for r in rows {
                w.serialize(r).map_err(csv_to_io)?;
            }
            w.flush()
        }
        Format::Json => {
            let mut out = out;
            serde_json::to_writer_pretty(&mut out, rows).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }
    }
}

/// The I/O error inside a CSV error (so that e.g. a closed pipe stays recognisable).
fn csv_to_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Writes rows to `path` atomically (`-` = standard output).
pub fn write_path(rows: &[Row], format: Format, path: &Path) -> io::Result<()> {
    crate::output::write_atomic(path, |w| write(rows, format, w))
}

/// The CSV columns, without the optional leading `trace`.
pub const HEADER: [&str; 20] = [
    "detector",
    "params",
    "knob",
    "value",
    "heartbeats",
    "evaluated_s",
    "mistakes",
    "mistake_rate_per_h",
    "mistake_duration_mean_ms",
    "mistake_recurrence_mean_s",
    "query_accuracy",
    "detection_mean_ms",
    "detection_p50_ms",
    "detection_p99_ms",
    "detection_max_ms",
    "completeness",
    "deadline_ms",
    "detection_origin",
    "mistake_rate_low_per_h",
    "mistake_rate_high_per_h",
];

/// Where a shard of a sweep comes from (`sweep --shard I/N`): written as a comment line
/// before the header of a CSV, so that `merge` can prove its inputs belong together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Which slice of the grid, from 1.
    pub shard_index: usize,
    /// How many slices.
    pub shard_count: usize,
    /// SHA-256 of the grid: the detector specs, their knob values and the evaluation
    /// options (warm-up, deadline).
    pub grid_sha256: String,
    /// SHA-256 of each trace's accepted receipts, in the order given.
    pub traces_sha256: Vec<String>,
    /// The fdbench version that wrote the shard.
    pub fdbench_version: String,
    /// Rows in the whole grid, over all shards.
    pub total_rows: usize,
    /// The grid rows this shard holds, as `[first, count]` runs in grid order (row `i`
    /// of the whole grid is the `i`-th row of a single run): `merge` puts every shard's
    /// rows back in their places.
    pub rows: Vec<[usize; 2]>,
}

/// The comment line that carries a [`Provenance`].
const PROVENANCE_PREFIX: &str = "# fdbench-shard ";

/// The comment lines that carry a [`Provenance`]'s grid rows, after its shard line.
const ROWS_PREFIX: &str = "# fdbench-rows ";

/// Most row runs on one `# fdbench-rows` line, so that lines stay far below
/// [`MAX_LINE`].
const RUNS_PER_LINE: usize = 1000;

impl Provenance {
    /// The comment lines, joined by line endings (without a final one): the shard line,
    /// then the grid rows held as `first+count` runs, at most 1000 a line.
    pub fn to_comment(&self) -> String {
        let mut out = format!(
            "{PROVENANCE_PREFIX}index={} count={} grid={} traces={} version={} total={}",
            self.shard_index,
            self.shard_count,
            self.grid_sha256,
            self.traces_sha256.join(":"),
            self.fdbench_version,
            self.total_rows
        );
        for runs in self.rows.chunks(RUNS_PER_LINE) {
            let runs: Vec<String> = runs.iter().map(|[first, n]| format!("{first}+{n}")).collect();
            out.push('\n');
            out.push_str(ROWS_PREFIX);
            out.push_str(&runs.join(","));
        }
        out
    }

    /// The number of grid rows this shard holds.
    pub fn held_rows(&self) -> usize {
        self.rows.iter().map(|r| r[1]).sum()
    }

    /// Adds the runs of a `# fdbench-rows` line; `None` if `line` is another comment,
    /// an error if it is damaged or its runs are out of order or beyond the grid.
    fn add_rows_comment(&mut self, line: &str) -> Option<Result<(), String>> {
        let body = line.strip_prefix(ROWS_PREFIX)?;
        for run in body.split(',') {
            let parsed = run
                .split_once('+')
                .and_then(|(a, n)| Some([a.parse::<usize>().ok()?, n.parse::<usize>().ok()?]));
            let Some([first, n]) = parsed else {
                return Some(Err(format!("'{run}' is not a run FIRST+COUNT")));
            };
            let after_last = self.rows.last().map_or(0, |[a, m]| a + m);
            if n == 0 || first < after_last || first.checked_add(n).is_none_or(|end| end > self.total_rows) {
                return Some(Err(format!(
                    "run {run} is empty, out of order or beyond the grid's {} rows",
                    self.total_rows
                )));
            }
            self.rows.push([first, n]);
        }
        Some(Ok(()))
    }

    /// Parses the comment line written by [`Provenance::to_comment`]; `None` if `line`
    /// is another comment, an error if it is a damaged provenance line.
    pub fn from_comment(line: &str) -> Option<Result<Provenance, String>> {
        let body = line.strip_prefix(PROVENANCE_PREFIX)?;
        let mut p = Provenance {
            shard_index: 0,
            shard_count: 0,
            grid_sha256: String::new(),
            traces_sha256: Vec::new(),
            fdbench_version: String::new(),
            total_rows: 0,
            rows: Vec::new(),
        };
        let mut seen = 0;
        for field in body.split(' ') {
            let Some((k, v)) = field.split_once('=') else {
                return Some(Err(format!("'{field}' is not key=value")));
            };
            let num = |v: &str| v.parse::<usize>().map_err(|_| format!("{k}='{v}' is not a count"));
            match k {
                "index" => {
                    p.shard_index = match num(v) {
                        Ok(n) => n,
                        Err(e) => return Some(Err(e)),
                    }
                }
                "count" => {
                    p.shard_count = match num(v) {
                        Ok(n) => n,
                        Err(e) => return Some(Err(e)),
                    }
                }
                "grid" => p.grid_sha256 = v.to_string(),
                "traces" => p.traces_sha256 = v.split(':').map(str::to_string).collect(),
                "version" => p.fdbench_version = v.to_string(),
                "total" => {
                    p.total_rows = match num(v) {
                        Ok(n) => n,
                        Err(e) => return Some(Err(e)),
                    }
                }
                _ => return Some(Err(format!("unknown field '{k}'"))),
            }
            seen += 1;
        }
        if seen != 6 || p.shard_index == 0 || p.shard_index > p.shard_count {
            return Some(Err(
                "it needs index, count, grid, traces, version and total with 1 <= index <= count".into(),
            ));
        }
        Some(Ok(p))
    }
}

/// Writes rows as CSV after the provenance comment line of a shard.
pub fn write_shard_csv<W: Write>(rows: &[Row], provenance: &Provenance, mut out: W) -> io::Result<()> {
    writeln!(out, "{}", provenance.to_comment())?;
    write(rows, Format::Csv, out)
}

/// Writes a shard's rows: CSV after its provenance comment, or JSON as an object
/// `{"provenance": ..., "rows": [...]}`.
pub fn write_shard_path(rows: &[Row], provenance: &Provenance, format: Format, path: &Path) -> io::Result<()> {
    crate::output::write_atomic(path, |w| match format {
        Format::Csv => write_shard_csv(rows, provenance, w),
        Format::Json => {
            #[derive(Serialize)]
            struct Shard<'a> {
                provenance: &'a Provenance,
                rows: &'a [Row],
            }
            serde_json::to_writer_pretty(&mut *w, &Shard { provenance, rows }).map_err(io::Error::other)?;
            w.write_all(b"\n")
        }
    })
}

/// The longest line the results reader accepts, comments included.
pub const MAX_LINE: usize = 64 * 1024;

/// A reader that fails on a line longer than [`MAX_LINE`] bytes.
struct LineLimit<R> {
    inner: R,
    line: usize,
    line_no: u64,
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line = 0;
                self.line_no += 1;
            } else {
                self.line += 1;
                if self.line > MAX_LINE {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "line {} is longer than {MAX_LINE} bytes; this is not a results file (is it binary, or missing newlines?)",
                            self.line_no + 1
                        ),
                    ));
                }
            }
        }
        Ok(n)
    }
}

impl Row {
    /// Checks that every value is in its range: probabilities in [0, 1], rates,
    /// durations and lengths finite and non-negative (detection times may be `inf`).
    pub fn check(&self) -> Result<(), String> {
        let finite = [
            ("evaluated_s", self.evaluated_s),
            ("mistake_rate_per_h", self.mistake_rate_per_h),
            ("deadline_ms", self.deadline_ms),
        ];
        for (name, v) in finite {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name}={v} must be a finite number >= 0"));
            }
        }
        for (name, v) in [
            ("mistake_duration_mean_ms", self.mistake_duration_mean_ms),
            ("mistake_recurrence_mean_s", self.mistake_recurrence_mean_s),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(format!("{name}={v} must be a finite number >= 0 or empty"));
            }
        }
        for (name, v) in [
            ("detection_mean_ms", self.detection_mean_ms),
            ("detection_p50_ms", self.detection_p50_ms),
            ("detection_p99_ms", self.detection_p99_ms),
            ("detection_max_ms", self.detection_max_ms),
        ] {
            if v.is_nan() || v < 0.0 {
                return Err(format!("{name}={v} must be a number >= 0 or inf"));
            }
        }
        for (name, v) in [
            ("query_accuracy", self.query_accuracy),
            ("completeness", self.completeness),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name}={v} is outside [0, 1]"));
            }
        }
        if self.value.is_some_and(|v| !v.is_finite()) {
            return Err("value must be a finite number or empty".into());
        }
        if self.detection_origin != "send" && self.detection_origin != "receipt" {
            return Err(format!(
                "detection_origin='{}' must be send or receipt",
                self.detection_origin
            ));
        }
        Ok(())
    }
}

/// Reads results written by [`write()`] or [`write_shard_csv`] in CSV format, with the
/// shard's provenance if it has one. Lines are at most [`MAX_LINE`] bytes; every value
/// is checked ([`Row::check`]).
pub fn read_csv_shard<R: Read>(input: R, name: &str) -> anyhow::Result<(Option<Provenance>, Vec<Row>)> {
    let mut input = io::BufReader::new(LineLimit {
        inner: input,
        line: 0,
        line_no: 0,
    });
    // Comment lines come first: read them here, then hand the rest to the CSV reader.
    let mut provenance = None;
    let mut comment_lines = 0u64;
    loop {
        let buf = io::BufRead::fill_buf(&mut input).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        if buf.first() != Some(&b'#') {
            break;
        }
        let mut line = String::new();
        io::BufRead::read_line(&mut input, &mut line).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        comment_lines += 1;
        if let Some(p) = Provenance::from_comment(line.trim_end()) {
            let p = p.map_err(|e| {
                anyhow::anyhow!("{name} line {comment_lines}: a damaged shard line: {e}; run the shard's sweep again")
            })?;
            if provenance.replace(p).is_some() {
                anyhow::bail!("{name} line {comment_lines}: a second shard line; a shard has one");
            }
        } else if line.starts_with(ROWS_PREFIX) {
            let added = provenance.as_mut().map_or_else(
                || Err("a rows line before the shard line".to_string()),
                |p| p.add_rows_comment(line.trim_end()).unwrap_or(Ok(())),
            );
            added.map_err(|e| {
                anyhow::anyhow!("{name} line {comment_lines}: a damaged shard line: {e}; run the shard's sweep again")
            })?;
        }
    }
    let mut r = csv::Reader::from_reader(input);
    let headers = r.headers().cloned().unwrap_or_default();
    let mut rows = Vec::new();
    for (i, rec) in r.deserialize().enumerate() {
        let line = comment_lines + i as u64 + 2;
        let row: Row = rec.map_err(|e| {
            // The line is named once, by the caller: the csv crate's own position counts
            // from after the comment lines.
            let e = match e.kind() {
                csv::ErrorKind::Io(io) => io.to_string(),
                csv::ErrorKind::Deserialize { err, .. } => {
                    match err.field().and_then(|f| Some((f + 1, headers.get(f as usize)?))) {
                        Some((n, column)) => format!("column {column} (field {n}): {}", err.kind()),
                        None => err.to_string(),
                    }
                }
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("{len} fields where the header has {expected_len}")
                }
                _ => e.to_string(),
            };
            anyhow::anyhow!("{name} line {line}: {e}; is this a results file from `fdbench sweep`?")
        })?;
        row.check()
            .map_err(|e| anyhow::anyhow!("{name} line {line}: {e}; the file is damaged or not from fdbench"))?;
        rows.push(row);
    }
    Ok((provenance, rows))
}

/// Reads results written by [`write()`] in CSV format (a shard's provenance is skipped).
pub fn read_csv<R: Read>(input: R, name: &str) -> anyhow::Result<Vec<Row>> {
    read_csv_shard(input, name).map(|(_, rows)| rows)
}

/// Reads a results CSV file.
pub fn read_csv_path(path: &Path) -> anyhow::Result<Vec<Row>> {
    read_csv_shard_path(path).map(|(_, rows)| rows)
}

/// Reads a results CSV file and its shard provenance.
pub fn read_csv_shard_path(path: &Path) -> anyhow::Result<(Option<Provenance>, Vec<Row>)> {
    let f = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    read_csv_shard(f, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shards_provenance_survives_its_comment_lines() {
        let p = Provenance {
            shard_index: 2,
            shard_count: 3,
            grid_sha256: "ab".into(),
            traces_sha256: vec!["c1".into(), "c2".into()],
            fdbench_version: "1.2.3".into(),
            total_rows: 10_000,
            rows: (0..2500).map(|i| [4 * i, 2]).collect(),
        };
        let comment = p.to_comment();
        assert_eq!(comment.lines().count(), 1 + 3, "1000 runs a line");
        assert!(comment.starts_with(
            "# fdbench-shard index=2 count=3 grid=ab traces=c1:c2 version=1.2.3 total=10000\n# fdbench-rows 0+2,4+2,"
        ));
        let mut csv = comment.into_bytes();
        csv.push(b'\n');
        write(&[], Format::Csv, &mut csv).unwrap();
        let (back, rows) = read_csv_shard(&csv[..], "s.csv").unwrap();
        assert_eq!(back, Some(p.clone()));
        assert_eq!(back.unwrap().held_rows(), 5000);
        assert!(rows.is_empty());
        let bad = "# fdbench-shard index=1 count=2 grid=a traces=b version=v total=10\n# fdbench-rows 0+4,2+4\n";
        let e = read_csv_shard(bad.as_bytes(), "s.csv").unwrap_err().to_string();
        assert!(
            e.contains("s.csv line 2") && e.contains("run 2+4 is empty, out of order"),
            "{e}"
        );
        let beyond = "# fdbench-shard index=1 count=2 grid=a traces=b version=v total=10\n# fdbench-rows 8+4\n";
        assert!(read_csv_shard(beyond.as_bytes(), "s.csv").is_err());
    }

    /// A row that passes [`Row::check`]: every number 0, origin `send`.
    fn valid() -> Row {
        Row {
            detection_origin: "send".into(),
            ..Row::default()
        }
    }

    #[test]
    fn check_accepts_each_range_to_its_ends_and_names_the_first_value_outside() {
        let check = |f: fn(&mut Row)| {
            let mut r = valid();
            f(&mut r);
            r.check()
        };
        // The ends of every range are in it: 0 everywhere, 1 for probabilities, inf for
        // detection times, any finite knob value.
        assert_eq!(valid().check(), Ok(()));
        assert_eq!(
            check(|r| {
                r.query_accuracy = 1.0;
                r.completeness = 1.0;
                r.detection_mean_ms = f64::INFINITY;
                r.detection_p50_ms = f64::INFINITY;
                r.detection_p99_ms = f64::INFINITY;
                r.detection_max_ms = f64::INFINITY;
                r.mistake_duration_mean_ms = Some(0.0);
                r.mistake_recurrence_mean_s = Some(0.0);
                r.value = Some(-5.0);
                r.detection_origin = "receipt".into();
            }),
            Ok(())
        );
        let finite = |name: &str, v: &str| Err(format!("{name}={v} must be a finite number >= 0"));
        assert_eq!(check(|r| r.evaluated_s = -1.0), finite("evaluated_s", "-1"));
        assert_eq!(check(|r| r.evaluated_s = f64::INFINITY), finite("evaluated_s", "inf"));
        assert_eq!(
            check(|r| r.mistake_rate_per_h = f64::NAN),
            finite("mistake_rate_per_h", "NaN")
        );
        assert_eq!(check(|r| r.deadline_ms = -0.5), finite("deadline_ms", "-0.5"));
        let optional = |name: &str, v: &str| Err(format!("{name}={v} must be a finite number >= 0 or empty"));
        assert_eq!(
            check(|r| r.mistake_duration_mean_ms = Some(-1.0)),
            optional("mistake_duration_mean_ms", "-1")
        );
        assert_eq!(
            check(|r| r.mistake_duration_mean_ms = Some(f64::INFINITY)),
            optional("mistake_duration_mean_ms", "inf")
        );
        assert_eq!(
            check(|r| r.mistake_recurrence_mean_s = Some(f64::NAN)),
            optional("mistake_recurrence_mean_s", "NaN")
        );
        let detection = |name: &str, v: &str| Err(format!("{name}={v} must be a number >= 0 or inf"));
        assert_eq!(
            check(|r| r.detection_mean_ms = -1.0),
            detection("detection_mean_ms", "-1")
        );
        assert_eq!(
            check(|r| r.detection_p50_ms = f64::NAN),
            detection("detection_p50_ms", "NaN")
        );
        assert_eq!(
            check(|r| r.detection_p99_ms = -2.0),
            detection("detection_p99_ms", "-2")
        );
        assert_eq!(
            check(|r| r.detection_max_ms = f64::NAN),
            detection("detection_max_ms", "NaN")
        );
        assert_eq!(
            check(|r| r.query_accuracy = 1.5),
            Err("query_accuracy=1.5 is outside [0, 1]".into())
        );
        assert_eq!(
            check(|r| r.completeness = -0.25),
            Err("completeness=-0.25 is outside [0, 1]".into())
        );
        let value = Err("value must be a finite number or empty".to_string());
        assert_eq!(check(|r| r.value = Some(f64::INFINITY)), value);
        assert_eq!(check(|r| r.value = Some(f64::NAN)), value);
        assert_eq!(
            check(|r| r.detection_origin = "sent".into()),
            Err("detection_origin='sent' must be send or receipt".into())
        );
    }

    #[test]
    fn a_shard_line_needs_every_field_and_an_index_within_the_count() {
        let parse = |line: &str| Provenance::from_comment(line).map(|r| r.map(|p| (p.shard_index, p.shard_count)));
        let needs = Some(Err(
            "it needs index, count, grid, traces, version and total with 1 <= index <= count".to_string(),
        ));
        let line = |index: &str, count: &str| {
            format!("# fdbench-shard index={index} count={count} grid=g traces=t version=v total=7")
        };
        assert_eq!(parse(&line("2", "2")), Some(Ok((2, 2))));
        assert_eq!(parse(&line("1", "2")), Some(Ok((1, 2))));
        assert_eq!(parse(&line("3", "2")), needs);
        assert_eq!(parse(&line("0", "2")), needs);
        assert_eq!(
            parse("# fdbench-shard index=1 count=2 grid=g traces=t version=v"),
            needs
        );
        assert_eq!(parse(&line("x", "2")), Some(Err("index='x' is not a count".into())));
        assert_eq!(parse(&line("1", "-2")), Some(Err("count='-2' is not a count".into())));
        assert_eq!(
            parse("# fdbench-shard index=1 count=2 grid=g traces=t version=v total=z"),
            Some(Err("total='z' is not a count".into()))
        );
        assert_eq!(
            parse("# fdbench-shard index=1 count=2 grid=g traces=t version=v total=7 x=1"),
            Some(Err("unknown field 'x'".into()))
        );
        assert_eq!(
            parse("# fdbench-shard index=1 count"),
            Some(Err("'count' is not key=value".into()))
        );
        assert_eq!(parse("# another comment"), None);
    }

    #[test]
    fn row_runs_may_touch_and_reach_the_grid_end_but_not_overlap_or_pass_it() {
        let runs = |line: &str| {
            let mut p = Provenance::from_comment("# fdbench-shard index=1 count=2 grid=g traces=t version=v total=5")
                .unwrap()
                .unwrap();
            p.add_rows_comment(line).map(|r| r.map(|()| p.rows))
        };
        // 0+2 ends at 2, where 2+3 starts; 2+3 ends at 5, the grid's length.
        assert_eq!(runs("# fdbench-rows 0+2,2+3"), Some(Ok(vec![[0, 2], [2, 3]])));
        let bad = |run: &str| {
            Some(Err(format!(
                "run {run} is empty, out of order or beyond the grid's 5 rows"
            )))
        };
        assert_eq!(runs("# fdbench-rows 1+0"), bad("1+0"));
        assert_eq!(runs("# fdbench-rows 0+3,2+1"), bad("2+1"));
        assert_eq!(runs("# fdbench-rows 3+1,2+1"), bad("2+1"));
        assert_eq!(runs("# fdbench-rows 4+2"), bad("4+2"));
        assert_eq!(
            runs(&format!("# fdbench-rows 1+{}", usize::MAX)),
            bad(&format!("1+{}", usize::MAX))
        );
        assert_eq!(
            runs("# fdbench-rows a+1"),
            Some(Err("'a+1' is not a run FIRST+COUNT".into()))
        );
        assert_eq!(runs("# fdbench-shard index=1"), None);
    }

    #[test]
    fn a_damaged_row_is_named_by_its_line_in_the_file() {
        let mut text = b"# one comment\n# two comments\n".to_vec();
        let bad = Row {
            completeness: 2.0,
            ..valid()
        };
        write(&[valid(), bad], Format::Csv, &mut text).unwrap();
        // Two comments, the header, one good row: the bad row is line 5.
        let e = read_csv(&text[..], "r.csv").unwrap_err().to_string();
        assert_eq!(
            e,
            "r.csv line 5: completeness=2 is outside [0, 1]; the file is damaged or not from fdbench"
        );
        // Without the comments it is line 3.
        let start = text.iter().position(|&b| b == b'd').unwrap();
        let e = read_csv(&text[start..], "r.csv").unwrap_err().to_string();
        assert!(e.starts_with("r.csv line 3: completeness=2 "), "{e}");
        let mut short = b"# c\n".to_vec();
        write(&[valid()], Format::Csv, &mut short).unwrap();
        short.extend_from_slice(b"phi,,\n");
        let e = read_csv(&short[..], "r.csv").unwrap_err().to_string();
        assert!(e.starts_with("r.csv line 4: 3 fields where the header has "), "{e}");
    }

    /// A detection time that is never (`+∞`) is written `inf` in both formats, JSON
    /// included (where a number cannot be infinite), and read back as `+∞`; other text
    /// in its column is an error naming the line.
    #[test]
    fn a_detection_time_of_never_is_written_inf_and_read_back() {
        let never = Row {
            detection_mean_ms: f64::INFINITY,
            detection_p99_ms: f64::INFINITY,
            detection_max_ms: f64::INFINITY,
            detection_p50_ms: 250.5,
            ..valid()
        };
        let mut json = Vec::new();
        write(std::slice::from_ref(&never), Format::Json, &mut json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        for key in ["detection_mean_ms", "detection_p99_ms", "detection_max_ms"] {
            assert_eq!(v[0][key], "inf", "{key}");
        }
        assert_eq!(v[0]["detection_p50_ms"], 250.5);
        let mut csv = Vec::new();
        write(std::slice::from_ref(&never), Format::Csv, &mut csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert!(text.contains(",inf,250.5,inf,inf,"), "{text}");
        assert_eq!(read_csv(text.as_bytes(), "r.csv").unwrap(), vec![never]);
        let bad = text.replacen(",inf,250.5,", ",never,250.5,", 1);
        let e = read_csv(bad.as_bytes(), "r.csv").unwrap_err().to_string();
        assert_eq!(
            e,
            "r.csv line 2: 'never' is not a number or inf; is this a results file from `fdbench sweep`?"
        );
        let header = text.lines().next().unwrap().to_string();
        let n = header.split(',').position(|c| c == "heartbeats").unwrap();
        let mut fields: Vec<String> = text.lines().nth(1).unwrap().split(',').map(String::from).collect();
        fields[n] = "many".into();
        let bad = format!("{header}\n{}\n", fields.join(","));
        let e = read_csv(bad.as_bytes(), "r.csv").unwrap_err().to_string();
        assert_eq!(
            e,
            "r.csv line 2: column heartbeats (field 5): invalid digit found in string; is this a results file from `fdbench sweep`?"
        );
    }

    #[test]
    fn a_line_may_be_as_long_as_the_limit_and_no_longer() {
        // A comment line of exactly MAX_LINE bytes (the newline not counted) is read.
        let mut text = format!("#{}\n", "x".repeat(MAX_LINE - 1)).into_bytes();
        write(&[valid()], Format::Csv, &mut text).unwrap();
        assert_eq!(read_csv(&text[..], "r.csv").unwrap(), vec![valid()]);
        // One byte more, on the second line, is refused there.
        let mut text = format!("# c\n#{}\n", "x".repeat(MAX_LINE)).into_bytes();
        write(&[valid()], Format::Csv, &mut text).unwrap();
        let e = read_csv(&text[..], "r.csv").unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "r.csv: line 2 is longer than {MAX_LINE} bytes; this is not a results file (is it binary, or missing newlines?)"
            )
        );
    }

    #[test]
    fn a_setting_is_shown_with_its_unit_and_without_float_noise() {
        let row = |knob: &str, value: f64| Row {
            knob: knob.into(),
            value: Some(value),
            ..Row::default()
        };
        assert_eq!(
            row("threshold", 4.8020000000000005).setting().unwrap(),
            "threshold=4.802"
        );
        assert_eq!(row("timeout", 1105.1).setting().unwrap(), "timeout=1105.1 ms");
        assert_eq!(row("alpha", 0.1 + 0.2).setting().unwrap(), "alpha=0.3 ms");
        assert_eq!(row("threshold", 703.396).setting().unwrap(), "threshold=703.396");
    }
}

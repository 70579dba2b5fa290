//! The results schema (evaluation.md §6): one row per (detector, parameters, knob
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
        let v = self.value?;
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
            detector: config.name().to_string(),
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
            Num::S(s) => s.parse().map_err(serde::de::Error::custom),
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

/// Reads results written by [`write()`] in CSV format.
pub fn read_csv<R: Read>(input: R, name: &str) -> anyhow::Result<Vec<Row>> {
    let mut r = csv::Reader::from_reader(input);
    let mut rows = Vec::new();
    for (i, rec) in r.deserialize().enumerate() {
        let row: Row = rec.map_err(|e| {
            anyhow::anyhow!(
                "{name} row {}: {e}; is this a results file from `fdbench sweep`?",
                i + 1
            )
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// Reads a results CSV file.
pub fn read_csv_path(path: &Path) -> anyhow::Result<Vec<Row>> {
    let f = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    read_csv(f, &path.display().to_string())
}

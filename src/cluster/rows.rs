//! The cluster results file: one row per detector setting, for the whole cluster.
//!
//! The per-pair rows keep the results schema of [evaluation.md](crate::docs::evaluation) §6 (with the pair,
//! `monitor->target`, in the `trace` column); this file adds the cluster-wide and quorum
//! figures of [`super::metrics`], in this column order (CSV and JSON alike):
//!
//! | column | meaning |
//! |---|---|
//! | `detector`, `params`, `knob`, `value` | the setting, as in the results schema |
//! | `quorum` | `k` of the k-of-n quorum |
//! | `pairs` | (monitor, target) pairs evaluated |
//! | `heartbeats` | accepted receipts evaluated, over all pairs |
//! | `evaluated_s` | `Σ_p L_p`, seconds |
//! | `false_suspicions` | `Σ_p mistakes_p` |
//! | `false_suspicions_per_day` | `Σ_p mistakes_p / L_p`, per day |
//! | `worst_pair` | the pair with the highest mistake rate, `monitor->target` |
//! | `worst_pair_per_day` | its mistake rate, per day |
//! | `min_query_accuracy` | the least `P_A` of a pair |
//! | `quorum_evaluated_s` | `Σ_t |W_t|`, seconds |
//! | `false_declarations` | `Σ_t D_t`: intervals during which `>= k` monitors suspected a live target |
//! | `false_declarations_per_day` | `Σ_t D_t / |W_t|`, per day |
//! | `declaration_mean_ms` | mean false declaration duration, milliseconds; empty without one |
//! | `quorum_accuracy` | `1 - Σ_t S_t / Σ_t |W_t|` |
//! | `crash_points` | injected crashes, over all targets |
//! | `detection_mean_ms`, `detection_p50_ms`, `detection_p99_ms`, `detection_max_ms` | `T_D` under the quorum (`inf` = never) |
//! | `completeness` | fraction of crash points with `T_D <= deadline_ms` |
//! | `deadline_ms` | `D` |
//! | `detection_origin` | `send` or `receipt` |

use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::detector::Config;
use crate::results::{Format, float_inf};
use crate::time::Nanos;

use super::Cluster;
use super::metrics::ClusterMetrics;

/// One setting evaluated on a whole cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClusterRow {
    /// Detector name.
    pub detector: String,
    /// Fixed parameters, `key=value` joined by `;`.
    pub params: String,
    /// Name of the swept knob; empty without one.
    pub knob: String,
    /// Knob value: milliseconds for durations, plain number otherwise.
    pub value: Option<f64>,
    /// `k` of the quorum.
    pub quorum: usize,
    /// Pairs evaluated.
    pub pairs: usize,
    /// Accepted receipts evaluated, over all pairs.
    pub heartbeats: u64,
    /// `Σ_p L_p`, seconds.
    pub evaluated_s: f64,
    /// `Σ_p mistakes_p`.
    pub false_suspicions: u64,
    /// `Σ_p mistakes_p / L_p`, per day.
    pub false_suspicions_per_day: f64,
    /// The pair with the highest mistake rate, `monitor->target`.
    pub worst_pair: String,
    /// Its mistake rate, per day.
    pub worst_pair_per_day: f64,
    /// The least query accuracy of a pair.
    pub min_query_accuracy: f64,
    /// `Σ_t |W_t|`, seconds.
    pub quorum_evaluated_s: f64,
    /// False declarations under the quorum.
    pub false_declarations: u64,
    /// False declarations per day.
    pub false_declarations_per_day: f64,
    /// Mean false declaration duration, milliseconds.
    pub declaration_mean_ms: Option<f64>,
    /// Fraction of the time no live target is declared failed.
    pub quorum_accuracy: f64,
    /// Injected crashes.
    pub crash_points: u64,
    /// Mean detection time under the quorum, milliseconds.
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
    /// The completeness deadline, milliseconds.
    pub deadline_ms: f64,
    /// `send` or `receipt`.
    pub detection_origin: String,
}

fn ms(n: Nanos) -> f64 {
    if n == Nanos::MAX {
        f64::INFINITY
    } else {
        n.as_millis_f64()
    }
}

/// The cluster row of `config` at knob value `knob` (internal units).
pub fn row(cluster: &Cluster, config: &Config, knob: f64, m: &ClusterMetrics) -> ClusterRow {
    let k = config.knob();
    let q = &m.quorum;
    let d = &q.detection;
    ClusterRow {
        detector: config.name().to_string(),
        params: config.params(),
        knob: k.map(|k| k.name.to_string()).unwrap_or_default(),
        value: k.map(|k| k.report(knob)),
        quorum: q.k,
        pairs: m.pairs.len(),
        heartbeats: m.pairs.iter().map(|p| p.heartbeats).sum(),
        evaluated_s: m.pairs.iter().map(|p| p.evaluated.0).sum::<i64>() as f64 / 1e9,
        false_suspicions: m.false_suspicions,
        false_suspicions_per_day: m.false_suspicions_per_day,
        worst_pair: cluster.pair_name(m.worst_pair),
        worst_pair_per_day: m.worst_pair_per_day,
        min_query_accuracy: m.min_query_accuracy,
        quorum_evaluated_s: q.evaluated.as_secs_f64(),
        false_declarations: q.declarations,
        false_declarations_per_day: q.declarations_per_day,
        declaration_mean_ms: q.declaration_mean().map(|x| x / 1e6),
        quorum_accuracy: q.accuracy(),
        crash_points: q.crash_points,
        detection_mean_ms: d.mean_ns / 1e6,
        detection_p50_ms: ms(d.p50),
        detection_p99_ms: ms(d.p99),
        detection_max_ms: ms(d.max),
        completeness: d.completeness,
        deadline_ms: d.deadline.as_millis_f64(),
        detection_origin: d.origin.as_str().to_string(),
    }
}

/// Writes cluster rows in the given format.
pub fn write<W: Write>(rows: &[ClusterRow], format: Format, out: W) -> io::Result<()> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            for r in rows {
                w.serialize(r).map_err(io::Error::other)?;
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

/// Writes cluster rows to `path` atomically (`-` = standard output).
pub fn write_path(rows: &[ClusterRow], format: Format, path: &Path) -> io::Result<()> {
    crate::output::write_atomic(path, |w| write(rows, format, w))
}

//! The exact replay engine (evaluation.md §2–§4).
//!
//! Replays the accepted receipts of a trace through a detector [`Family`] — one detector
//! evaluated at many knob values — and computes, for every knob value, the exact QoS
//! metrics: no sampling, every gap and every crash point accounted for in integer
//! nanoseconds.
//!
//! For a detector whose state does not depend on its knob, the family updates one state
//! per heartbeat and derives every knob value's deadline from it, so the metrics for any
//! number of knob values come from one replay. For the timeout-style detectors (deadline
//! = base + knob) the per-value work is proportional to the mistakes, not to the trace
//! (`shifted`); for the others it is a few comparisons per heartbeat, and the
//! percentiles come from selection in a bracket found by sampling (`general`).
//!
//! [`replay_detector`] is the plain one-detector, one-knob path, written independently
//! of the family path; the tests check that both agree exactly.

mod general;
mod shifted;

use crate::detector::{Detector, Family};
use crate::metrics::{Metrics, Origin};
use crate::time::Nanos;
use crate::trace::Receipts;

/// The default warm-up: accepted receipts that train the detectors before evaluation.
pub const DEFAULT_WARMUP: usize = 1000;

/// The default completeness deadline `D`.
pub const DEFAULT_DEADLINE: Nanos = Nanos::SECOND;

/// How a replay is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Accepted receipts that train the detectors and are not evaluated (`w`).
    pub warmup: usize,
    /// The completeness deadline `D`.
    pub deadline: Nanos,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            warmup: DEFAULT_WARMUP,
            deadline: DEFAULT_DEADLINE,
        }
    }
}

/// Why a trace cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// Not enough accepted receipts after the warm-up.
    #[error(
        "the trace has {receipts} accepted receipts, but the warm-up takes {warmup} and at least 2 more are needed to evaluate; use a longer trace or a smaller --warmup (and smaller windows)"
    )]
    TooShort {
        /// Accepted receipts in the trace.
        receipts: usize,
        /// The warm-up.
        warmup: usize,
    },
    /// The detector reads send times, and the trace has none.
    #[error(
        "{0} reads the heartbeats' send times, and this trace has none (no send_ns column); use a trace recorded or imported with send times, or another detector"
    )]
    NoSendTimes(&'static str),
    /// The evaluated receipts all arrived at the same instant.
    #[error("the evaluated part of the trace has zero length (all its receipts arrive at {0} ns); use a longer trace")]
    ZeroLength(i64),
}

/// The evaluated span of a trace: checks that it can be evaluated and returns `L`.
pub fn evaluated_length(receipts: &Receipts, warmup: usize) -> Result<Nanos, ReplayError> {
    let m = receipts.len();
    if m < warmup.saturating_add(2) {
        return Err(ReplayError::TooShort { receipts: m, warmup });
    }
    let l = receipts.recv[m - 1] - receipts.recv[warmup];
    if l.0 <= 0 {
        return Err(ReplayError::ZeroLength(receipts.recv[warmup].0));
    }
    Ok(l)
}

/// Where detection time is measured from for these receipts.
pub fn origin(receipts: &Receipts) -> Origin {
    if receipts.send.is_some() {
        Origin::Send
    } else {
        Origin::Receipt
    }
}

/// Replays a detector family over `receipts` and returns the metrics of each of its
/// knob values, in order. `make` builds the family, fresh, each time it is replayed.
///
/// A timeout-style family (deadline = base + knob) takes one pass and work that does not
/// grow with the number of knob values beyond a binary search per receipt (see
/// `replay/shifted.rs`); any other family takes a light sampling pass, a main pass with
/// one deadline per (receipt, knob value), and rarely more passes for the percentiles
/// (`replay/general.rs`). Memory does not grow with the trace beyond a few words per
/// receipt.
pub fn replay_family(
    receipts: &Receipts,
    make: &dyn Fn() -> Box<dyn Family>,
    opts: &Options,
) -> Result<Vec<Metrics>, ReplayError> {
    let l = evaluated_length(receipts, opts.warmup)?;
    if let Some(metrics) = shifted::replay(receipts, make().as_mut(), opts, l) {
        return Ok(metrics);
    }
    Ok(general::replay(receipts, make, opts, l, general::Sizes::default()))
}

/// The deadlines of `detector` after each accepted receipt ([`Nanos::MAX`] = never).
pub fn deadlines(receipts: &Receipts, detector: &mut dyn Detector) -> Vec<Nanos> {
    receipts
        .heartbeats()
        .map(|hb| {
            detector.observe(&hb);
            detector.deadline().unwrap_or(Nanos::MAX)
        })
        .collect()
}

/// Replays one detector at one knob value: the plain path, kept independent of
/// [`replay_family`] and checked against it.
pub fn replay_detector(
    receipts: &Receipts,
    detector: &mut dyn Detector,
    opts: &Options,
) -> Result<Metrics, ReplayError> {
    let l = evaluated_length(receipts, opts.warmup)?;
    let tau = deadlines(receipts, detector);
    Ok(metrics_from_deadlines(receipts, &tau, opts, l))
}

/// The metrics of a deadline sequence, straight from the definitions of evaluation.md
/// §3–§4 (sorting for the percentiles).
fn metrics_from_deadlines(receipts: &Receipts, tau: &[Nanos], opts: &Options, l: Nanos) -> Metrics {
    let a = &receipts.recv;
    let m = a.len();
    let w = opts.warmup;
    let mut mistakes = 0u64;
    let mut s_time = 0i64;
    for j in w..m - 1 {
        if tau[j] < a[j + 1] {
            s_time += (a[j + 1] - a[j].max(tau[j])).0;
            // The evaluated span starts in trust: gap w-1 counts as ended in trust.
            let prev_ended_in_trust = j == w || tau[j - 1] >= a[j];
            if tau[j] > a[j] || prev_ended_in_trust {
                mistakes += 1;
            }
        }
    }
    let starts = permanent_starts(a, tau);
    let mut td: Vec<i64> = (w..m)
        .map(|j| {
            if tau[j] == Nanos::MAX {
                i64::MAX
            } else {
                let o = receipts.send.as_ref().map_or(a[j], |s| s[j]);
                (starts[j] - o).0.max(0)
            }
        })
        .collect();
    let n = td.len();
    let infinite = td.contains(&i64::MAX);
    let sum: i128 = td.iter().map(|&t| i128::from(t)).sum();
    let within = td.iter().filter(|&&t| t <= opts.deadline.0).count();
    td.sort_unstable();
    let rank = |p: f64| td[crate::metrics::nearest_rank(p, n) - 1];
    Metrics {
        heartbeats: n as u64,
        evaluated: l,
        mistakes,
        suspect_time: Nanos(s_time),
        detection: crate::metrics::Detection {
            mean_ns: if infinite { f64::INFINITY } else { sum as f64 / n as f64 },
            p50: Nanos(rank(0.5)),
            p99: Nanos(rank(0.99)),
            max: Nanos(td[n - 1]),
            completeness: within as f64 / n as f64,
            deadline: opts.deadline,
            origin: origin(receipts),
        },
    }
}

/// For every crash point `j`, the start `P_j` of the suspicion that never ends
/// (evaluation.md §4): `τ_j` when it is after `a_j`; otherwise the start of the
/// suspicion in progress just before `a_j` (back along the chain of late receipts), or
/// `a_j` when the gap before it ended in trust.
pub fn permanent_starts(a: &[Nanos], tau: &[Nanos]) -> Vec<Nanos> {
    let mut out: Vec<Nanos> = Vec::with_capacity(a.len());
    for j in 0..a.len() {
        let p = if tau[j] > a[j] {
            tau[j]
        } else if j > 0 && tau[j - 1] < a[j] {
            out[j - 1]
        } else {
            a[j]
        };
        out.push(p);
    }
    out
}

/// A period during which the detector suspected the process: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Suspicion {
    /// First instant of suspicion.
    pub start: Nanos,
    /// First instant of trust again (the receipt that restored it), or the end of the trace.
    pub end: Nanos,
}

/// The suspicion periods of a deadline sequence over the whole trace, merging a
/// suspicion that a late receipt did not interrupt (deadline at or before the receipt)
/// with the one before it, as evaluation.md §3 does.
pub fn suspicions(receipts: &Receipts, tau: &[Nanos]) -> Vec<Suspicion> {
    let a = &receipts.recv;
    let mut out: Vec<Suspicion> = Vec::new();
    for j in 0..a.len().saturating_sub(1) {
        if tau[j] < a[j + 1] {
            let start = a[j].max(tau[j]);
            match out.last_mut() {
                Some(last) if tau[j] <= a[j] && last.end == a[j] => last.end = a[j + 1],
                _ => out.push(Suspicion { start, end: a[j + 1] }),
            }
        }
    }
    out
}

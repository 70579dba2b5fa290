//! The exact replay engine ([evaluation.md](crate::docs::evaluation) §2–§4).
//!
//! Replays the accepted receipts of a trace through a detector [`Family`] — one detector
//! evaluated at many knob values — and computes, for every knob value, the exact QoS
//! metrics: no sampling, every gap and every crash point accounted for in integer
//! nanoseconds.
//!
//! # Deadline forms
//!
//! After each accepted receipt `j` a detector has a deadline `τ_j(x)`, a function of its
//! knob `x`, non-decreasing in `x`. Every metric is a function of those deadlines
//! (evaluation.md §3–§4), so what the engine can do fast depends only on the shape of
//! that function, which the estimator declares as its [`Form`](crate::detector::Form):
//!
//! - **Shifted** — a base time plus the knob: `τ_j(x) = b_j + x` (`fixed`: `b_j = a_j`;
//!   `chen`, `2w`: the expected arrival; `bertier`: the expected arrival plus its
//!   margin, knob 0; `nfd-s`: the next freshness point), optionally rounded up to the
//!   monitor's check tick. On a continuous monitor each gap `j` is a mistake exactly for
//!   the knob values below its **critical value** `a_{j+1} - b_j`, and its suspect time
//!   and the detection time of crash point `j` are linear in the knob from there: sorted
//!   knob values, binary searches, difference arrays and prefix sums give every knob
//!   value's totals in one pass, with work that does not grow with the number of knob
//!   values beyond a binary search per receipt (`replay/shifted.rs`).
//! - **Affine in a transform of the knob** — `phi`: `τ_j = a_j + ⌈μ_j + σ_j·z(x)⌉`, `z`
//!   the normal tail quantile of the threshold; `exp-phi`: `τ_j = a_j + ⌈x·s_j⌉` in the
//!   contract's rounding, `s_j = ln 10 · mean`. A handful of numbers per receipt give the
//!   deadline of any knob value without the estimator's window; the engine computes a
//!   row of them in one vector loop, and tuning bisects on them ([`crate::tune`]).
//! - **An order statistic of a window** — `satzger`: `τ_j = a_j + x_(k)`, the `k`-th
//!   smallest interval of the window, `k` the threshold's rank in it; the engine reads a
//!   row as the window's values at the knob values' ranks.
//! - **General** — anything else: a state that depends on the knob (`akka`), or a
//!   custom detector that gives only [`deadline`](crate::detector::Detector::deadline).
//!   The family writes one deadline per knob value after each receipt.
//!
//! Every family but the timeout-style ones on a continuous monitor takes the general
//! engine (`replay/general.rs`): a light sampling pass places a bracket around each
//! percentile, the main pass computes every metric and gathers the detection times in
//! the brackets, and further passes run only when a bracket missed. The main pass of a
//! family whose state does not depend on its knob (any
//! [`Estimator`](crate::detector::Estimator): `phi`, `exp-phi`, `satzger`, timeout-style
//! detectors on a checking monitor) again uses **critical values**
//! (`replay/monotone.rs`): each row of deadlines is non-decreasing in the knob, so with
//! the knob values sorted, the mistakes, the suspect time, completeness and the
//! detections that never come follow from a few critical indices per receipt and
//! difference arrays, and the chains of late receipts are followed pair by pair; what
//! stays per (receipt, knob value) is the sum and the maximum of the detection times and
//! their place against the percentile brackets, in one vector loop. Any other family
//! (`akka`, custom detectors) takes the plain main pass, one deadline per (receipt, knob
//! value) folded into per-knob totals.

//! A form only ever makes the engine faster: the plain one-detector, one-knob path
//! [`replay_detector`] is written independently of them and of the family path, straight
//! from the definitions, and the tests check that every path agrees exactly. For a
//! single knob value of a family that is not timeout-style, that plain path is also the
//! fastest (one pass, where the sampling pass and the main pass make two):
//! [`replay_values`] takes it.
//!
//! Memory does not grow with the trace beyond a few words per receipt.

mod general;
mod monotone;
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

impl Options {
    /// The same evaluation on a trace thinned to one heartbeat in `every` (as
    /// `fdbench resample` does): the warm-up covers the same span (`⌈w / every⌉`
    /// receipts, at least 2) and `D` the same number of heartbeats (`every × D`).
    pub fn thinned(self, every: u64) -> Options {
        let k = usize::try_from(every).unwrap_or(usize::MAX).max(1);
        Options {
            warmup: self.warmup.div_ceil(k).max(2),
            deadline: Nanos(self.deadline.0.saturating_mul(i64::try_from(every).unwrap_or(i64::MAX))),
        }
    }
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
    /// A preset on a trace whose nominal interval is not the preset's heartbeat.
    #[error(transparent)]
    WrongInterval(Box<crate::detector::registry::WrongInterval>),
    /// The evaluated receipts all arrived at the same instant.
    #[error("the evaluated part of the trace has zero length (all its receipts arrive at {0} ns); use a longer trace")]
    ZeroLength(i64),
}

impl From<crate::detector::registry::WrongInterval> for ReplayError {
    fn from(e: crate::detector::registry::WrongInterval) -> ReplayError {
        ReplayError::WrongInterval(Box::new(e))
    }
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
/// `replay/shifted.rs`); any other family takes a light sampling pass, a main pass
/// (on critical values when its state does not depend on the knob, see
/// `replay/monotone.rs`), and rarely more passes for the percentiles
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

/// The metrics of a family at each of its knob values, as [`replay_family`] gives them,
/// with a family of one value in one pass: a timeout-style family takes its engine, any
/// other the plain path's one pass over its deadlines ([`replay_detector`]'s), where the
/// general engine would take two (a sampling pass, then the main pass): for one value,
/// gathering every detection time costs less than bracketing the percentiles.
pub fn replay_values(
    receipts: &Receipts,
    make: &dyn Fn() -> Box<dyn Family>,
    opts: &Options,
) -> Result<Vec<Metrics>, ReplayError> {
    let mut family = make();
    if family.width() != 1 {
        return replay_family(receipts, make, opts);
    }
    let l = evaluated_length(receipts, opts.warmup)?;
    if let Some(metrics) = shifted::replay(receipts, family.as_mut(), opts, l) {
        return Ok(metrics);
    }
    let mut family = make();
    let mut t = [Nanos::MAX];
    let tau: Vec<Nanos> = receipts
        .heartbeats()
        .map(|hb| {
            family.observe(&hb);
            family.deadlines(&mut t);
            t[0]
        })
        .collect();
    Ok(vec![metrics_from_deadlines(receipts, &tau, opts, l)])
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

/// The metrics of a deadline sequence, straight from the definitions of [evaluation.md](crate::docs::evaluation)
/// §3–§4 (selecting the percentiles' ranks).
fn metrics_from_deadlines(receipts: &Receipts, tau: &[Nanos], opts: &Options, l: Nanos) -> Metrics {
    let a = &receipts.recv;
    let m = a.len();
    let w = opts.warmup;
    let (mistakes, s_time) = accuracy(a, w..m - 1, 1, |j, t| t[0] = tau[j])[0];
    let mut td: Vec<i64> = starts(a, tau)
        .enumerate()
        .skip(w)
        .map(|(j, p)| {
            if tau[j] == Nanos::MAX {
                i64::MAX
            } else {
                let o = receipts.send.as_ref().map_or(a[j], |s| s[j]);
                (p - o).0.max(0)
            }
        })
        .collect();
    let n = td.len();
    let infinite = td.contains(&i64::MAX);
    let sum: i128 = td.iter().map(|&t| i128::from(t)).sum();
    let within = td.iter().filter(|&&t| t <= opts.deadline.0).count();
    // The nearest ranks, larger first: selecting it leaves the smaller values before it.
    let [r50, r99] = [0.5, 0.99].map(|p| crate::metrics::nearest_rank(p, n) - 1);
    let max = td.iter().copied().max().unwrap_or(0);
    let p99 = *td.select_nth_unstable(r99).1;
    let p50 = if r50 < r99 {
        *td[..r99].select_nth_unstable(r50).1
    } else {
        p99
    };
    Metrics {
        heartbeats: n as u64,
        evaluated: l,
        mistakes,
        suspect_time: Nanos(s_time),
        detection: crate::metrics::Detection {
            mean_ns: if infinite { f64::INFINITY } else { sum as f64 / n as f64 },
            p50: Nanos(p50),
            p99: Nanos(p99),
            max: Nanos(max),
            completeness: within as f64 / n as f64,
            deadline: opts.deadline,
            origin: origin(receipts),
        },
    }
}

/// The mistakes and the suspect time in nanoseconds of `width` deadline sequences
/// after receipts `a` (evaluation.md §3), over the evaluated `gaps` in increasing order:
/// `tau(j, out)` writes the deadlines after receipt `j` ([`Nanos::MAX`] = never). A gap
/// left out of `gaps` is one known to be trusted throughout at every sequence, and so is
/// the gap before the first evaluated one (the evaluated span starts in trust).
pub(crate) fn accuracy(
    a: &[Nanos],
    gaps: impl IntoIterator<Item = usize>,
    width: usize,
    mut tau: impl FnMut(usize, &mut [Nanos]),
) -> Vec<(u64, i64)> {
    let mut out = vec![(0u64, 0i64); width];
    let mut trusted = vec![true; width];
    let mut t = vec![Nanos::MAX; width];
    let mut last = None;
    for j in gaps {
        tau(j, &mut t);
        if last.is_some_and(|l| l + 1 != j) {
            trusted.fill(true);
        }
        last = Some(j);
        for ((o, prev_ended_in_trust), &t) in out.iter_mut().zip(trusted.iter_mut()).zip(&t) {
            if t < a[j + 1] {
                o.1 += (a[j + 1] - a[j].max(t)).0;
                if t > a[j] || *prev_ended_in_trust {
                    o.0 += 1;
                }
            }
            *prev_ended_in_trust = t >= a[j + 1];
        }
    }
    out
}

/// For every crash point `j`, the start `P_j` of the suspicion that never ends
/// ([evaluation.md](crate::docs::evaluation) §4): `τ_j` when it is after `a_j`; otherwise the start of the
/// suspicion in progress just before `a_j` (back along the chain of late receipts), or
/// `a_j` when the gap before it ended in trust.
pub fn permanent_starts(a: &[Nanos], tau: &[Nanos]) -> Vec<Nanos> {
    starts(a, tau).collect()
}

/// [`permanent_starts`], one crash point at a time.
fn starts<'a>(a: &'a [Nanos], tau: &'a [Nanos]) -> impl Iterator<Item = Nanos> + 'a {
    (0..a.len()).scan(Nanos::ZERO, move |p, j| {
        *p = if tau[j] > a[j] {
            tau[j]
        } else if j > 0 && tau[j - 1] < a[j] {
            *p
        } else {
            a[j]
        };
        Some(*p)
    })
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
/// with the one before it, as [evaluation.md](crate::docs::evaluation) §3 does.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thinned_evaluation_keeps_the_span_of_its_warm_up_and_d_in_heartbeats() {
        let eval = Options {
            warmup: 1000,
            deadline: Nanos::from_millis(200),
        };
        // 1000 receipts of 20 ms (20 s) are 20 of 1 s; D = 10 heartbeats of 20 ms are 10 of 1 s.
        assert_eq!(
            eval.thinned(50),
            Options {
                warmup: 20,
                deadline: Nanos::from_secs(10),
            }
        );
        // ⌈1000 / 3⌉ = 334; never below 2 receipts.
        assert_eq!(eval.thinned(3).warmup, 334);
        assert_eq!(eval.thinned(1000).warmup, 2);
        assert_eq!(eval.thinned(1), eval);
    }

    #[test]
    fn a_deadline_at_the_next_receipt_is_no_suspicion() {
        let receipts = Receipts {
            seq: vec![1, 2, 3, 4],
            recv: vec![Nanos(0), Nanos(100), Nanos(200), Nanos(300)],
            send: None,
            stale: 0,
            interval: Nanos(100),
        };
        // Gap 0: deadline 100, the next receipt's instant: trusted throughout. Gap 1:
        // suspected from 150. Gap 2: deadline 200, at its own receipt, which came after
        // gap 1's deadline and so did not restore trust: the suspicion from 150 goes on
        // to 300. Gap 3 is the last receipt's: no next receipt, no period.
        let tau = [Nanos(100), Nanos(150), Nanos(200), Nanos(400)];
        assert_eq!(
            suspicions(&receipts, &tau),
            [Suspicion {
                start: Nanos(150),
                end: Nanos(300)
            }]
        );
    }

    #[test]
    fn a_suspicion_that_never_ends_starts_where_trust_was_last_lost() {
        let a = [Nanos(0), Nanos(100), Nanos(100), Nanos(200), Nanos(300)];
        // 0: deadline 50, after the receipt. 1: deadline 100, at its receipt, after the
        // suspicion from 50 (the receipt at 100 came after the deadline): it goes on.
        // 2: deadline 100 again, but the gap before (deadline 100, next receipt 100)
        // ended in trust: from its own receipt. 3: deadline 150, before its receipt, after
        // a gap suspected from 100: the suspicion from 100 goes on. 4: deadline 400.
        let tau = [Nanos(50), Nanos(100), Nanos(100), Nanos(150), Nanos(400)];
        assert_eq!(
            permanent_starts(&a, &tau),
            [Nanos(50), Nanos(50), Nanos(100), Nanos(100), Nanos(400)]
        );
    }
}

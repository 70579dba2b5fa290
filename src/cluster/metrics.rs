//! Exact cluster metrics: per pair, over all pairs, and under a k-of-n quorum.
//!
//! Every pair `p` of a [`Cluster`] is replayed by the exact engine
//! ([`crate::replay`], [evaluation.md](crate::docs::evaluation) §2–§4) with the same detector setting; each pair
//! has its warm-up `w`, its accepted receipts `a^p_j` (sequence numbers `s^p_j`), its
//! deadlines `τ^p_j`, its evaluated length `L_p` and its `mistakes_p`.
//!
//! # All pairs
//!
//! - **False suspicions per day** = `Σ_p mistakes_p / L_p`, per day (86 400 s): the
//!   number of wrong suspicions the whole cluster raises in a day, each pair at its own
//!   measured rate (pairs may have different evaluated lengths).
//! - **Worst pair**: the pair with the largest `mistakes_p / L_p` (the first in manifest
//!   order on a tie), and its rate per day.
//! - **Least query accuracy**: `min_p P_A(p)`.
//!
//! # k-of-n quorum
//!
//! A target `t` with monitors `1..n` is **declared failed** at instant `x` while at
//! least `k` of them suspect it at `x` (`1 <= k <= n`; `k = 1`: any monitor, `k = n`:
//! all of them, `k = n/2 + 1`: a majority, as Redis Sentinel and Cluster do). Times of
//! different monitors are compared directly: the monitors' clocks are taken to be the
//! same clock (one host, or synchronized clocks).
//!
//! - **Suspicion intervals** of monitor `i`: from [evaluation.md](crate::docs::evaluation) §2 rule 5, the half-open
//!   intervals `[max(a_j, τ_j), a_{j+1})` of its evaluated gaps `j = w .. m-2` with
//!   `τ_j < a_{j+1}` (empty ones dropped).
//! - **Window** `W_t = [max_i a^i_w, min_i a^i_{m_i-1})`: the instants at which every
//!   monitor of `t` is evaluated. Intervals are clipped to `W_t`; an empty window is an
//!   error (the traces do not overlap in time after the warm-up).
//! - **Declared intervals**: the maximal intervals of `W_t` on which the number of
//!   monitors suspecting is `>= k`, found by a sweep line over the interval ends
//!   (+1 at a start, −1 at an end, all events at one instant applied together). Two
//!   suspicions that touch (`[x, y)` and `[y, z)`) make one declaration, exactly as a
//!   late receipt does not end a suspicion in [evaluation.md](crate::docs::evaluation) §3; as there, a declaration
//!   in progress at the start of `W_t` is one declaration, starting there.
//! - **False declarations** `D_t` = number of declared intervals; **declared time**
//!   `S_t` = their total length. The cluster reports `Σ_t D_t`, the rate
//!   `Σ_t D_t / |W_t|` per day, the mean declaration duration `Σ_t S_t / Σ_t D_t` and
//!   the **quorum accuracy** `1 - Σ_t S_t / Σ_t |W_t|`.
//!
//! With `n = k = 1` the declared intervals are the pair's suspicions: `D_t` is its
//! `mistakes` and `S_t` its `S_time` (the tests check this against the engine).
//!
//! # Detection under a quorum
//!
//! A crash is injected right after the target sends heartbeat `s`, for every `s` that at
//! least one monitor accepted and with `max_i s^i_w <= s <= min_i s^i_{m_i-1}` (every
//! monitor is past its warm-up and its trace still covers `s`). For monitor `i`, let
//! `j_i` be its last accepted receipt with `s^i_{j_i} <= s`. Nothing is sent after `s`,
//! so monitor `i`'s state is its state after receipt `j_i`, and from then on it suspects
//! for good; its permanent suspicion starts at `P^i = P_{j_i}` of [evaluation.md](crate::docs::evaluation) §4 (the
//! chain rule for late receipts included). A monitor that **never received `s`** (lost,
//! or overtaken by a later heartbeat and so stale) is simply in the state of its last
//! accepted heartbeat before `s`: its permanent suspicion may have begun before the
//! crash. A heartbeat `x <= s` that monitor `i` received only after a heartbeat later
//! than `s` (stale in the trace, so never shown to its detector) is not replayed: it is
//! treated as lost.
//!
//! The target is declared failed for good from `Q = ` the `k`-th smallest `P^i`
//! (`+∞` when fewer than `k` are finite). The crash instant `C(s)` is, when every trace
//! of the target has send times, the send time of `s` (from the first monitor in
//! manifest order whose trace has it; lost heartbeats keep their send time); otherwise
//! the earliest receipt of `s` by any monitor. The **detection time** is
//! `T_D(s) = max(0, Q - C(s))` (origin `send` or `receipt`), i.e. the `k`-th fastest
//! monitor's detection time; a declaration already in progress at `Q` from
//! suspicions that are not permanent is not counted as earlier detection. Mean, p50,
//! p99 (nearest rank), max and completeness within `D` are taken over the crash points
//! of all targets together.

use rayon::prelude::*;

use crate::detector::Config;
use crate::metrics::{Detection, Metrics, Origin, nearest_rank};
use crate::replay::{self, Options, ReplayError};
use crate::time::Nanos;
use crate::trace::Receipts;

use super::Cluster;

/// One day in nanoseconds.
pub const DAY_NS: f64 = 86_400e9;

/// Why a cluster cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A pair's trace cannot be evaluated.
    #[error("pair {pair}: {source}")]
    Replay {
        /// The pair's name.
        pair: String,
        /// Why.
        source: ReplayError,
    },
    /// The quorum is larger than a target's number of monitors, or zero.
    #[error("--quorum {k}: target {target} has {monitors} monitor(s); give 1 <= k <= {monitors}")]
    Quorum {
        /// The quorum.
        k: usize,
        /// The target.
        target: String,
        /// Its monitors.
        monitors: usize,
    },
    /// The monitors' evaluated spans of a target do not overlap.
    #[error(
        "target {target}: its monitors' evaluated spans do not overlap in time (after the warm-up); record them together, or lower --warmup"
    )]
    NoCommonSpan {
        /// The target.
        target: String,
    },
    /// No heartbeat of a target is a crash point.
    #[error(
        "target {target}: no heartbeat is past every monitor's warm-up and within every monitor's trace; record them together, or lower --warmup"
    )]
    NoCrashPoint {
        /// The target.
        target: String,
    },
}

/// One monitor of a target, as seen by the quorum computations.
#[derive(Clone, Copy, Debug)]
pub struct Monitor<'a> {
    /// Its accepted receipts.
    pub receipts: &'a Receipts,
    /// Its deadline after each accepted receipt ([`Nanos::MAX`] = never).
    pub tau: &'a [Nanos],
    /// `(seq, send)` of every heartbeat of its trace with a send time (see
    /// [`super::Pair::sends`]).
    pub sends: &'a [(u64, Nanos)],
}

/// The quorum verdicts on one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetQuorum {
    /// The window `W_t = [start, end)`.
    pub window: (Nanos, Nanos),
    /// The declared intervals, in order, disjoint and not touching.
    pub declared: Vec<(Nanos, Nanos)>,
    /// `T_D(s)` in nanoseconds for each crash point, in `seq` order (`i64::MAX` = never).
    pub detection: Vec<i64>,
    /// What detection is measured from.
    pub origin: Origin,
}

/// The suspicion intervals of one monitor over its evaluated gaps `j = w .. m-2`.
pub fn suspicion_intervals(a: &[Nanos], tau: &[Nanos], w: usize) -> Vec<(Nanos, Nanos)> {
    (w..a.len().saturating_sub(1))
        .filter(|&j| tau[j] < a[j + 1])
        .map(|j| (a[j].max(tau[j]), a[j + 1]))
        .filter(|(s, e)| s < e)
        .collect()
}

/// The start `P_j` of the suspicion that never ends after a crash right after accepted
/// receipt `j`, for every `j`: the replay engine's own ([`crate::replay::permanent_starts`]).
pub use crate::replay::permanent_starts;

/// The maximal intervals of `window` during which at least `k` of the interval lists
/// cover the instant (each list's intervals are disjoint).
pub fn declarations(lists: &[Vec<(Nanos, Nanos)>], window: (Nanos, Nanos), k: usize) -> Vec<(Nanos, Nanos)> {
    let (lo, hi) = window;
    let mut events: Vec<(Nanos, i32)> = Vec::new();
    for list in lists {
        for &(s, e) in list {
            let (s, e) = (s.max(lo), e.min(hi));
            if s < e {
                events.push((s, 1));
                events.push((e, -1));
            }
        }
    }
    events.sort_unstable();
    let mut out = Vec::new();
    let mut count: i64 = 0;
    let mut open: Option<Nanos> = None;
    let k = k as i64;
    let mut i = 0;
    while i < events.len() {
        let x = events[i].0;
        while i < events.len() && events[i].0 == x {
            count += i64::from(events[i].1);
            i += 1;
        }
        match open {
            None if count >= k => open = Some(x),
            Some(start) if count < k => {
                out.push((start, x));
                open = None;
            }
            _ => {}
        }
    }
    out
}

/// The quorum verdicts on one target watched by `monitors`, with warm-up `w` and
/// quorum `k` (see the module docs). `None` when the monitors' evaluated spans do not
/// overlap or no heartbeat is a crash point (the error names the target, which this
/// function does not know): [`Gap::Window`] or [`Gap::CrashPoints`].
pub fn target_quorum(monitors: &[Monitor<'_>], w: usize, k: usize) -> Result<TargetQuorum, Gap> {
    let lo = monitors.iter().map(|m| m.receipts.recv[w]).max().unwrap_or(Nanos(0));
    let hi = monitors
        .iter()
        .map(|m| *m.receipts.recv.last().unwrap_or(&Nanos(0)))
        .min()
        .unwrap_or(Nanos(0));
    if lo >= hi {
        return Err(Gap::Window);
    }
    let lists: Vec<Vec<(Nanos, Nanos)>> = monitors
        .iter()
        .map(|m| suspicion_intervals(&m.receipts.recv, m.tau, w))
        .collect();
    let declared = declarations(&lists, (lo, hi), k);

    let s_lo = monitors.iter().map(|m| m.receipts.seq[w]).max().unwrap_or(0);
    let s_hi = monitors
        .iter()
        .map(|m| *m.receipts.seq.last().unwrap_or(&0))
        .min()
        .unwrap_or(0);
    let mut points: Vec<u64> = monitors
        .iter()
        .flat_map(|m| m.receipts.seq.iter().copied())
        .filter(|&s| s_lo <= s && s <= s_hi)
        .collect();
    points.sort_unstable();
    points.dedup();
    if points.is_empty() {
        return Err(Gap::CrashPoints);
    }
    let starts: Vec<Vec<Nanos>> = monitors
        .iter()
        .map(|m| permanent_starts(&m.receipts.recv, m.tau))
        .collect();
    let with_send = monitors.iter().all(|m| m.receipts.send.is_some());
    let origin = if with_send { Origin::Send } else { Origin::Receipt };
    let mut p: Vec<Nanos> = vec![Nanos(0); monitors.len()];
    let detection = points
        .iter()
        .map(|&s| {
            let mut first_receipt = Nanos::MAX;
            for (i, m) in monitors.iter().enumerate() {
                let seq = &m.receipts.seq;
                let j = seq.partition_point(|&x| x <= s) - 1;
                p[i] = starts[i][j];
                if seq[j] == s {
                    first_receipt = first_receipt.min(m.receipts.recv[j]);
                }
            }
            let crash = if with_send {
                monitors
                    .iter()
                    .find_map(|m| super::send_in(m.sends, s))
                    .unwrap_or(first_receipt)
            } else {
                first_receipt
            };
            p.sort_unstable();
            let q = p[k - 1];
            if q == Nanos::MAX {
                i64::MAX
            } else {
                (q - crash).0.max(0)
            }
        })
        .collect();
    Ok(TargetQuorum {
        window: (lo, hi),
        declared,
        detection,
        origin,
    })
}

/// Why [`target_quorum`] has nothing to evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    /// The monitors' evaluated spans do not overlap.
    Window,
    /// No heartbeat is a crash point.
    CrashPoints,
}

/// The quorum metrics of a cluster at one setting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuorumMetrics {
    /// The quorum `k`.
    pub k: usize,
    /// `Σ_t |W_t|`.
    pub evaluated: Nanos,
    /// `Σ_t D_t`: false declarations.
    pub declarations: u64,
    /// `Σ_t S_t`: time declared failed.
    pub declared_time: Nanos,
    /// `Σ_t D_t / |W_t|`, per day.
    pub declarations_per_day: f64,
    /// Crash points over all targets.
    pub crash_points: u64,
    /// Detection-time statistics over all crash points.
    pub detection: Detection,
}

impl QuorumMetrics {
    /// Mean declaration duration, nanoseconds (`None` without declarations).
    pub fn declaration_mean(&self) -> Option<f64> {
        (self.declarations > 0).then(|| self.declared_time.0 as f64 / self.declarations as f64)
    }

    /// `1 - Σ_t S_t / Σ_t |W_t|`.
    pub fn accuracy(&self) -> f64 {
        1.0 - self.declared_time.0 as f64 / self.evaluated.0 as f64
    }
}

/// The metrics of a cluster at one setting.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterMetrics {
    /// Each pair's metrics from the exact engine, in manifest order.
    pub pairs: Vec<Metrics>,
    /// `Σ_p mistakes_p`.
    pub false_suspicions: u64,
    /// `Σ_p mistakes_p / L_p`, per day.
    pub false_suspicions_per_day: f64,
    /// The pair with the highest mistake rate (index into the cluster's pairs).
    pub worst_pair: usize,
    /// Its mistake rate, per day.
    pub worst_pair_per_day: f64,
    /// The least query accuracy of a pair.
    pub min_query_accuracy: f64,
    /// The quorum verdicts.
    pub quorum: QuorumMetrics,
}

/// The rate of `m`'s mistakes, per day.
fn per_day(m: &Metrics) -> f64 {
    m.mistakes as f64 / m.evaluated.0 as f64 * DAY_NS
}

/// Checks that `cluster` can be evaluated with warm-up `opts.warmup` under quorum `k`.
pub fn check(cluster: &Cluster, opts: &Options, k: usize) -> Result<(), EvalError> {
    for (p, pair) in cluster.pairs.iter().enumerate() {
        replay::evaluated_length(&pair.receipts, opts.warmup).map_err(|source| EvalError::Replay {
            pair: cluster.pair_name(p),
            source,
        })?;
    }
    for t in cluster.targets() {
        let n = cluster.monitors_of(t).len();
        if k == 0 || k > n {
            return Err(EvalError::Quorum {
                k,
                target: cluster.nodes[t].clone(),
                monitors: n,
            });
        }
    }
    Ok(())
}

/// The cluster metrics of `config` at each of `knobs`, under quorum `k`, in knob order.
/// Knob values are evaluated in parallel on the current rayon pool; the result does not
/// depend on the number of threads.
pub fn evaluate(
    cluster: &Cluster,
    config: &Config,
    knobs: &[f64],
    opts: &Options,
    k: usize,
) -> Result<Vec<ClusterMetrics>, EvalError> {
    check(cluster, opts, k)?;
    let per_pair: Vec<Vec<Metrics>> = cluster
        .pairs
        .par_iter()
        .enumerate()
        .map(|(p, pair)| {
            crate::sweep::evaluate(&pair.receipts, config, knobs, opts).map_err(|source| EvalError::Replay {
                pair: cluster.pair_name(p),
                source,
            })
        })
        .collect::<Result<_, _>>()?;
    knobs
        .par_iter()
        .enumerate()
        .map(|(ki, &knob)| {
            let pairs: Vec<Metrics> = per_pair.iter().map(|v| v[ki]).collect();
            let quorum = quorum_at(cluster, config, knob, opts, k)?;
            Ok(summarize(pairs, quorum))
        })
        .collect()
}

/// The all-pairs figures of `pairs` together with `quorum`.
fn summarize(pairs: Vec<Metrics>, quorum: QuorumMetrics) -> ClusterMetrics {
    let rates: Vec<f64> = pairs.iter().map(per_day).collect();
    let mut worst = 0;
    for (i, &r) in rates.iter().enumerate() {
        if r > rates[worst] {
            worst = i;
        }
    }
    ClusterMetrics {
        false_suspicions: pairs.iter().map(|m| m.mistakes).sum(),
        false_suspicions_per_day: rates.iter().sum(),
        worst_pair: worst,
        worst_pair_per_day: rates[worst],
        min_query_accuracy: pairs.iter().map(Metrics::query_accuracy).fold(f64::INFINITY, f64::min),
        pairs,
        quorum,
    }
}

/// The quorum metrics of `config` at knob value `knob`.
pub fn quorum_at(
    cluster: &Cluster,
    config: &Config,
    knob: f64,
    opts: &Options,
    k: usize,
) -> Result<QuorumMetrics, EvalError> {
    let taus: Vec<Vec<Nanos>> = cluster
        .pairs
        .iter()
        .map(|p| replay::deadlines(&p.receipts, config.detector(p.receipts.interval, knob).as_mut()))
        .collect();
    let mut evaluated = 0i64;
    let mut declarations = 0u64;
    let mut declared_time = 0i64;
    let mut per_day = 0.0;
    let mut td: Vec<i64> = Vec::new();
    let mut origin = Origin::Send;
    for t in cluster.targets() {
        let ids = cluster.monitors_of(t);
        let monitors: Vec<Monitor<'_>> = ids
            .iter()
            .map(|&p| Monitor {
                receipts: &cluster.pairs[p].receipts,
                tau: &taus[p],
                sends: &cluster.pairs[p].sends,
            })
            .collect();
        let name = || cluster.nodes[t].clone();
        let q = target_quorum(&monitors, opts.warmup, k).map_err(|g| match g {
            Gap::Window => EvalError::NoCommonSpan { target: name() },
            Gap::CrashPoints => EvalError::NoCrashPoint { target: name() },
        })?;
        let span = (q.window.1 - q.window.0).0;
        evaluated += span;
        declarations += q.declared.len() as u64;
        declared_time += q.declared.iter().map(|(s, e)| (*e - *s).0).sum::<i64>();
        per_day += q.declared.len() as f64 / span as f64 * DAY_NS;
        if q.origin == Origin::Receipt {
            origin = Origin::Receipt;
        }
        td.extend(q.detection);
    }
    Ok(QuorumMetrics {
        k,
        evaluated: Nanos(evaluated),
        declarations,
        declared_time: Nanos(declared_time),
        declarations_per_day: per_day,
        crash_points: td.len() as u64,
        detection: detection_stats(td, opts.deadline, origin),
    })
}

/// Mean, nearest-rank percentiles, max and completeness of detection times
/// (`i64::MAX` = never detected); `td` must not be empty.
fn detection_stats(mut td: Vec<i64>, deadline: Nanos, origin: Origin) -> Detection {
    let n = td.len();
    let infinite = td.contains(&i64::MAX);
    let sum: i128 = td.iter().map(|&t| i128::from(t)).sum();
    let within = td.iter().filter(|&&t| t <= deadline.0).count();
    td.sort_unstable();
    let rank = |p: f64| Nanos(td[nearest_rank(p, n) - 1]);
    Detection {
        mean_ns: if infinite { f64::INFINITY } else { sum as f64 / n as f64 },
        p50: rank(0.5),
        p99: rank(0.99),
        max: Nanos(td[n - 1]),
        completeness: within as f64 / n as f64,
        deadline,
        origin,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cluster::Pair;
    use crate::detector::spec;
    use crate::trace::TraceBuilder;

    /// A trace from `(seq, send, recv)` rows (`recv` `None` = lost), times in units of
    /// `unit` nanoseconds, interval 10 units.
    fn trace(rows: &[(u64, i64, Option<i64>)], with_send: bool, unit: i64) -> crate::trace::Trace {
        let mut b = TraceBuilder::new(with_send);
        for &(s, send, r) in rows {
            b.push(s, Some(Nanos(send * unit)), r.map(|r| Nanos(r * unit))).unwrap();
        }
        b.finish(Some((Nanos(10 * unit), crate::trace::IntervalSource::Given)))
            .unwrap()
    }

    /// Target A as seen by B: heartbeat 4 (sent at 39) arrives late, at 58.
    const B_SEES_A: &[(u64, i64, Option<i64>)] = &[
        (1, 9, Some(10)),
        (2, 19, Some(20)),
        (3, 29, Some(30)),
        (4, 39, Some(58)),
        (5, 49, Some(60)),
        (6, 59, Some(70)),
        (7, 69, Some(80)),
    ];

    /// Target A as seen by C: heartbeat 3 is lost, 5 arrives late, at 61.
    const C_SEES_A: &[(u64, i64, Option<i64>)] = &[
        (1, 9, Some(11)),
        (2, 19, Some(21)),
        (3, 29, None),
        (4, 39, Some(41)),
        (5, 49, Some(61)),
        (6, 59, Some(71)),
        (7, 69, Some(81)),
    ];

    /// A regular trace: heartbeat s sent at 10 s - 1 + offset, received 1 ns later.
    fn regular(offset: i64) -> Vec<(u64, i64, Option<i64>)> {
        (1..=7)
            .map(|s| (s, 10 * s as i64 - 1 + offset, Some(10 * s as i64 + offset)))
            .collect()
    }

    fn pair(monitor: usize, target: usize, rows: &[(u64, i64, Option<i64>)], with_send: bool, unit: i64) -> Pair {
        let t = trace(rows, with_send, unit);
        Pair {
            monitor,
            target,
            file: format!("{monitor}-{target}.csv").into(),
            receipts: t.accepted(),
            sends: super::super::sends(&t),
        }
    }

    /// Nodes A, B, C; everyone watches everyone; only A's heartbeats are irregular.
    pub(crate) fn three_nodes(with_send: bool) -> Cluster {
        three_nodes_in(with_send, 1)
    }

    /// [`three_nodes`] with times in units of `unit` nanoseconds.
    pub(crate) fn three_nodes_in(with_send: bool, unit: i64) -> Cluster {
        let (a, b, c) = (0, 1, 2);
        Cluster {
            dir: "three".into(),
            nodes: vec!["A".into(), "B".into(), "C".into()],
            pairs: vec![
                pair(b, a, B_SEES_A, with_send, unit),
                pair(c, a, C_SEES_A, with_send, unit),
                pair(a, b, &regular(1), with_send, unit),
                pair(c, b, &regular(2), with_send, unit),
                pair(a, c, &regular(3), with_send, unit),
                pair(b, c, &regular(4), with_send, unit),
            ],
        }
    }

    fn opts() -> Options {
        Options {
            warmup: 1,
            deadline: Nanos(20),
        }
    }

    fn fixed() -> Config {
        spec::parse("fixed:timeout=15ns").unwrap()[0].config.clone()
    }

    /// The quorum verdicts on A with a 15 ns fixed timeout (τ_j = a_j + 15).
    fn quorum_on_a(k: usize, with_send: bool) -> TargetQuorum {
        let cluster = three_nodes(with_send);
        let taus: Vec<Vec<Nanos>> = cluster.pairs[..2]
            .iter()
            .map(|p| p.receipts.recv.iter().map(|&a| a + Nanos(15)).collect())
            .collect();
        let monitors: Vec<Monitor<'_>> = (0..2)
            .map(|p| Monitor {
                receipts: &cluster.pairs[p].receipts,
                tau: &taus[p],
                sends: &cluster.pairs[p].sends,
            })
            .collect();
        target_quorum(&monitors, 1, k).unwrap()
    }

    #[test]
    fn suspicions_of_one_monitor_follow_rule_5() {
        // B: gap 30 -> 58 with deadline 45.
        let c = three_nodes(true);
        let tau: Vec<Nanos> = c.pairs[0].receipts.recv.iter().map(|&a| a + Nanos(15)).collect();
        assert_eq!(
            suspicion_intervals(&c.pairs[0].receipts.recv, &tau, 1),
            vec![(Nanos(45), Nanos(58))]
        );
        // C: gaps 21 -> 41 (deadline 36) and 41 -> 61 (deadline 56).
        let tau: Vec<Nanos> = c.pairs[1].receipts.recv.iter().map(|&a| a + Nanos(15)).collect();
        assert_eq!(
            suspicion_intervals(&c.pairs[1].receipts.recv, &tau, 1),
            vec![(Nanos(36), Nanos(41)), (Nanos(56), Nanos(61))]
        );
    }

    #[test]
    fn any_monitor_declares_the_union_of_suspicions() {
        let q = quorum_on_a(1, true);
        // W = [max(20, 21), min(80, 81)).
        assert_eq!(q.window, (Nanos(21), Nanos(80)));
        // [36,41) from C; [45,58) from B joined by C's [56,61).
        assert_eq!(q.declared, vec![(Nanos(36), Nanos(41)), (Nanos(45), Nanos(61))]);
    }

    #[test]
    fn both_monitors_declare_the_intersection() {
        let q = quorum_on_a(2, true);
        assert_eq!(q.declared, vec![(Nanos(56), Nanos(58))]);
    }

    #[test]
    fn detection_is_the_kth_fastest_monitors_from_the_send_time() {
        // Crash points 2..=7 (past both warm-ups, within both traces); send(s) = 10 s - 1.
        // P = a + 15. B: seq 2..7 -> 35 45 73 75 85 95. C: 36 (seq 2), 56 (4), 76, 86, 96;
        // C never received 3, so after a crash at 3 it is in its state after 2: P = 36.
        assert_eq!(quorum_on_a(1, true).detection, vec![16, 7, 17, 26, 26, 26]);
        assert_eq!(quorum_on_a(2, true).detection, vec![17, 16, 34, 27, 27, 27]);
        assert_eq!(quorum_on_a(2, true).origin, Origin::Send);
    }

    #[test]
    fn without_send_times_detection_counts_from_the_first_receipt() {
        // Crash origin = earliest receipt of s: 20, 30 (B only), 41, 60, 70, 80.
        let q = quorum_on_a(1, false);
        assert_eq!(q.origin, Origin::Receipt);
        assert_eq!(q.detection, vec![15, 6, 15, 15, 15, 15]);
        assert_eq!(quorum_on_a(2, false).detection, vec![16, 15, 32, 16, 16, 16]);
    }

    #[test]
    fn a_majority_of_three_needs_two_at_once() {
        let l = |v: &[(i64, i64)]| v.iter().map(|&(s, e)| (Nanos(s), Nanos(e))).collect::<Vec<_>>();
        let lists = vec![l(&[(0, 10), (20, 30)]), l(&[(5, 25)]), l(&[(28, 40), (50, 60)])];
        let w = (Nanos(2), Nanos(55));
        assert_eq!(declarations(&lists, w, 2), l(&[(5, 10), (20, 25), (28, 30)]));
        assert_eq!(declarations(&lists, w, 3), vec![]);
        // Clipped to the window, and one declaration across touching suspicions.
        assert_eq!(declarations(&lists, w, 1), l(&[(2, 40), (50, 55)]));
        let touching = vec![l(&[(0, 10)]), l(&[(10, 20)])];
        assert_eq!(declarations(&touching, (Nanos(0), Nanos(30)), 1), l(&[(0, 20)]));
    }

    #[test]
    fn permanent_suspicion_goes_back_along_late_receipts() {
        let a = [Nanos(0), Nanos(10), Nanos(30), Nanos(40)];
        // After 10 the deadline is 20; the receipt at 30 is too late (deadline 25): the
        // suspicion from 20 goes on.
        let tau = [Nanos(15), Nanos(20), Nanos(25), Nanos(55)];
        assert_eq!(
            permanent_starts(&a, &tau),
            vec![Nanos(15), Nanos(20), Nanos(20), Nanos(55)]
        );
    }

    #[test]
    fn a_three_node_cluster_adds_up_its_pairs() {
        let c = three_nodes(true);
        let m = evaluate(&c, &fixed(), &[15.0], &opts(), 2).unwrap().remove(0);
        let mistakes: Vec<u64> = m.pairs.iter().map(|p| p.mistakes).collect();
        assert_eq!(mistakes, vec![1, 2, 0, 0, 0, 0]);
        assert_eq!(m.false_suspicions, 3);
        // B->A: 1 mistake in L = 80 - 20; C->A: 2 in 81 - 21.
        assert_eq!(m.false_suspicions_per_day, 1.0 / 60.0 * DAY_NS + 2.0 / 60.0 * DAY_NS);
        assert_eq!(m.worst_pair, 1);
        assert_eq!(m.worst_pair_per_day, 2.0 / 60.0 * DAY_NS);
        // B->A suspects on [45, 58) of its 60 ns, C->A on 5 + 5.
        assert_eq!(m.min_query_accuracy, 1.0 - 13.0 / 60.0);
        let q = m.quorum;
        // A: one declaration, [56, 58), in W_A = [21, 80); B and C none, in
        // W_B = [max(21, 22), min(71, 72)) and W_C = [max(23, 24), min(73, 74)).
        assert_eq!(q.declarations, 1);
        assert_eq!(q.declared_time, Nanos(2));
        assert_eq!(q.evaluated, Nanos(59 + 49 + 49));
        assert_eq!(q.declarations_per_day, 1.0 / 59.0 * DAY_NS);
        assert_eq!(q.declaration_mean(), Some(2.0));
        assert_eq!(q.accuracy(), 1.0 - 2.0 / 157.0);
        // A: 17 16 34 27 27 27. B: sent at 10 s (A's trace, first in manifest order),
        // permanent suspicions at 10 s + 16 (A) and 10 s + 17 (C): 17 each. C: sent at
        // 10 s + 2, suspected for good at 10 s + 18 and 10 s + 19: 17 each.
        assert_eq!(q.crash_points, 18);
        let d = q.detection;
        assert_eq!(d.mean_ns, (16.0 + 13.0 * 17.0 + 3.0 * 27.0 + 34.0) / 18.0);
        assert_eq!((d.p50, d.p99, d.max), (Nanos(17), Nanos(34), Nanos(34)));
        assert_eq!(d.completeness, 14.0 / 18.0);
        assert_eq!(d.origin, Origin::Send);
    }

    #[test]
    fn the_quorum_is_checked_against_every_target() {
        let c = three_nodes(true);
        let err = evaluate(&c, &fixed(), &[15.0], &opts(), 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--quorum 3: target A has 2 monitor(s); give 1 <= k <= 2"
        );
        assert!(evaluate(&c, &fixed(), &[15.0], &opts(), 0).is_err());
    }

    #[test]
    fn one_monitor_with_quorum_one_is_the_engine() {
        let mut cfg = crate::trace::synth::preset("flaky").unwrap();
        cfg.length = crate::trace::synth::Length::Count(3000);
        let t = crate::trace::synth::generate(&cfg, 7).unwrap();
        let cluster = Cluster {
            dir: "two".into(),
            nodes: vec!["A".into(), "B".into()],
            pairs: vec![Pair {
                monitor: 0,
                target: 1,
                file: "a-b.csv".into(),
                receipts: t.accepted(),
                sends: super::super::sends(&t),
            }],
        };
        let opts = Options {
            warmup: 100,
            deadline: Nanos::SECOND,
        };
        for spec in [
            "phi:threshold=1..12:0.5",
            "chen:alpha=0ms..400ms:20ms",
            "fixed:timeout=20ms..1s:30ms",
        ] {
            let s = spec::parse(spec).unwrap().remove(0);
            let all = evaluate(&cluster, &s.config, &s.knob_values, &opts, 1).unwrap();
            let mut some = false;
            for m in &all {
                let engine = m.pairs[0];
                assert_eq!(m.quorum.declarations, engine.mistakes, "{spec}");
                assert_eq!(m.quorum.declared_time, engine.suspect_time, "{spec}");
                assert_eq!(m.quorum.evaluated, engine.evaluated, "{spec}");
                some |= engine.mistakes > 0;
            }
            assert!(some, "{spec}: the trace should make mistakes at some value");
        }
    }
}

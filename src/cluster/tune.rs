//! One setting for the whole cluster: the most aggressive knob value of a detector that
//! keeps the cluster within a target rate.
//!
//! Feasible (as in [evaluation.md](crate::docs::evaluation) §7, with the cluster's figures) means: the
//! [`Objective`]'s rate `<= target` **and** the accuracy `>= min_accuracy`, where the
//! accuracy is the least query accuracy of a pair (objectives `total` and `worst-pair`)
//! or the quorum accuracy (objective `quorum`).
//!
//! The search evaluates [`crate::tune::GRID`] knob values of the range at a time,
//! keeps the smallest value from which every larger one in the grid is feasible, and
//! refines between it and the value below until the step is the resolution of
//! [`crate::tune::resolution`]. When the end of the range is not feasible, the range is
//! doubled upward (at most [`crate::tune::MAX_DOUBLINGS`] times).

use crate::detector::Config;
use crate::replay::Options;
use crate::tune::{GRID, MAX_DOUBLINGS, Status, resolution};

use super::Cluster;
use super::metrics::{ClusterMetrics, EvalError, evaluate};

/// What the target rate bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// The false suspicions of all pairs together, per day.
    Total,
    /// The false suspicions of the worst pair, per day.
    WorstPair,
    /// The false declarations under the quorum, per day.
    Quorum,
}

impl Objective {
    /// The rate this objective bounds, per day.
    pub fn rate_per_day(self, m: &ClusterMetrics) -> f64 {
        match self {
            Objective::Total => m.false_suspicions_per_day,
            Objective::WorstPair => m.worst_pair_per_day,
            Objective::Quorum => m.quorum.declarations_per_day,
        }
    }

    /// The accuracy this objective requires.
    pub fn accuracy(self, m: &ClusterMetrics) -> f64 {
        match self {
            Objective::Quorum => m.quorum.accuracy(),
            _ => m.min_query_accuracy,
        }
    }
}

/// What is asked of the cluster.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Goal {
    /// The bounded rate.
    pub objective: Objective,
    /// The most it may be, per day.
    pub per_day: f64,
    /// The least accuracy.
    pub min_accuracy: f64,
    /// The quorum `k`.
    pub quorum: usize,
}

impl Goal {
    /// Whether `m` meets the goal.
    pub fn met(&self, m: &ClusterMetrics) -> bool {
        self.objective.rate_per_day(m) <= self.per_day && self.objective.accuracy(m) >= self.min_accuracy
    }
}

/// The setting chosen for a cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterTuned {
    /// The detector.
    pub config: Config,
    /// The chosen knob value (internal units); `None` without a knob.
    pub value: Option<f64>,
    /// The cluster's metrics at that value.
    pub metrics: ClusterMetrics,
    /// How the search ended.
    pub status: Status,
}

/// Finds the most aggressive knob value of `config` in `range` (internal units) that
/// meets `goal` on `cluster`.
pub fn tune(
    cluster: &Cluster,
    config: &Config,
    range: (f64, f64),
    goal: &Goal,
    opts: &Options,
) -> Result<ClusterTuned, EvalError> {
    let at = |values: &[f64]| evaluate(cluster, config, values, opts, goal.quorum);
    let done = |value: Option<f64>, metrics: ClusterMetrics, status| ClusterTuned {
        config: config.clone(),
        value,
        metrics,
        status,
    };
    let Some(knob) = config.knob() else {
        return Ok(done(None, at(&[0.0])?.remove(0), Status::NoKnob));
    };
    let res = resolution(knob.unit);
    let snap = |x: f64| (x / res).round() * res;
    let allows = |x: f64| knob.range.contains(x);
    let (mut lo, mut hi) = (snap(range.0), snap(range.1).max(snap(range.0)));
    let mut doublings = 0;
    while doublings < MAX_DOUBLINGS && !goal.met(&at(&[hi])?[0]) {
        let next = snap(if hi > 0.0 {
            2.0 * hi
        } else {
            knob.sweep_bounds().2.max(res)
        });
        if !allows(next) {
            break;
        }
        (lo, hi) = (hi, next);
        doublings += 1;
    }
    let mut first = true;
    loop {
        let step = ((hi - lo) / (GRID - 1) as f64).max(res);
        let mut values: Vec<f64> = (0..GRID).map(|i| snap(lo + i as f64 * step).min(hi)).collect();
        values.push(hi);
        values.dedup();
        let mut metrics = at(&values)?;
        let n = values.len();
        let from = (0..n).rev().take_while(|&i| goal.met(&metrics[i])).last().unwrap_or(n);
        if from == n {
            // Only in the first round: later rounds' `hi` met the goal before.
            return Ok(done(Some(hi), metrics.swap_remove(n - 1), Status::NotReached));
        }
        if from == 0 && first {
            return Ok(done(Some(lo), metrics.swap_remove(0), Status::RangeStart));
        }
        if step <= res || from == 0 || n < 3 {
            return Ok(done(Some(values[from]), metrics.swap_remove(from), Status::Found));
        }
        (lo, hi) = (values[from - 1], values[from]);
        first = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::metrics::DAY_NS;
    use crate::cluster::metrics::tests::three_nodes_in;
    use crate::detector::spec;
    use crate::time::Nanos;

    fn opts() -> Options {
        Options {
            warmup: 1,
            deadline: Nanos(20),
        }
    }

    /// A's heartbeats leave gaps of 28 ms (B: 30 -> 58) and 20 ms (C: 21 -> 41 and
    /// 41 -> 61); every other gap is 10 ms. With a fixed timeout `T` a gap `g` is a
    /// mistake iff `T < g`, suspected for `g - T`.
    fn tuned(objective: Objective, per_day: f64, min_accuracy: f64) -> ClusterTuned {
        let cluster = three_nodes_in(true, 1_000_000);
        let config = spec::parse("fixed:timeout=1ms").unwrap()[0].config.clone();
        let goal = Goal {
            objective,
            per_day,
            min_accuracy,
            quorum: 2,
        };
        tune(&cluster, &config, (0.0, 100e6), &goal, &opts()).unwrap()
    }

    /// Two mistakes in the 60 ms that each of A's monitors is evaluated, per day.
    const TWO: f64 = 2.0 / 60e6 * DAY_NS;

    #[test]
    fn no_false_suspicion_needs_the_longest_gap() {
        let t = tuned(Objective::Total, 0.0, 0.999);
        assert_eq!((t.value, t.status), (Some(28e6), Status::Found));
        assert_eq!(t.metrics.false_suspicions, 0);
    }

    #[test]
    fn the_total_and_the_worst_pair_choose_differently() {
        // Total <= 2 per 60 ms: below 20 ms, B->A has 1 and C->A 2 (3 in all).
        let t = tuned(Objective::Total, TWO, 0.7975);
        assert_eq!(t.value, Some(20e6));
        // Worst pair <= 2 per 60 ms holds from 10 ms on; the accuracy decides:
        // B->A suspects 28 - T of 60 ms, so P_A >= 0.7975 needs T >= 15.85 ms.
        let t = tuned(Objective::WorstPair, TWO, 0.7975);
        assert_eq!(t.value, Some(15.9e6));
        assert_eq!(t.metrics.worst_pair_per_day, TWO);
    }

    #[test]
    fn the_quorum_needs_the_suspicions_apart() {
        // B suspects on [30 + T, 58), C on [41 + T, 61): together until T = 17 ms.
        let t = tuned(Objective::Quorum, 0.0, 0.999);
        assert_eq!(t.value, Some(17e6));
        assert_eq!(t.metrics.quorum.declarations, 0);
        assert_eq!(tuned(Objective::Quorum, 0.0, 0.999).metrics.false_suspicions, 3);
    }
}

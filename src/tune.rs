//! Tuning for a target mistake rate: for each detector, the most aggressive knob value
//! whose mistake rate on a trace stays within the target.
//!
//! Comparing detectors at equal mistake rate is the fair comparison (Chen, Toueg and
//! Aguilera compare detection times at equal accuracy), and the answer to "what timeout
//! or threshold should I use on this network?".
//!
//! The search evaluates a grid of [`GRID`] knob values in one replay, keeps the smallest
//! value from which every larger grid value meets the target, and refines between it and
//! its neighbour with a new grid until the step is at most the stated resolution.

use serde::Serialize;

use rayon::prelude::*;

use crate::detector::{Config, DetectorSpec, spec::Unit};
use crate::metrics::Metrics;
use crate::replay::{Options, ReplayError};
use crate::sweep;

/// How many times the searched range may be doubled when its end misses the target.
pub const MAX_DOUBLINGS: usize = 10;

/// Knob values evaluated per refinement round.
pub const GRID: usize = 64;

/// The resolution of the search: 0.1 ms for duration knobs, 0.001 for plain ones.
pub fn resolution(unit: Unit) -> f64 {
    match unit {
        Unit::Duration => 1e5,
        Unit::Plain => 1e-3,
    }
}

/// How the search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The most aggressive value meeting the target, to the resolution.
    Found,
    /// Even the start of the searched range meets the target.
    RangeStart,
    /// Even the end of the searched range exceeds the target: the value reported is
    /// the end of the range.
    NotReached,
    /// The detector has no knob: its single setting is reported.
    NoKnob,
}

/// The outcome of tuning one detector.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tuned {
    /// The detector.
    pub config: Config,
    /// The chosen knob value (internal units); `None` without a knob.
    pub value: Option<f64>,
    /// Its metrics on the trace.
    pub metrics: Metrics,
    /// How the search ended.
    pub status: Status,
}

/// Parses a mistake rate such as `1/day`, `10/h`, `0.5/min`, `2/s` into mistakes per hour.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let bad = || format!("rate '{text}': write COUNT/UNIT with UNIT one of s, min, h, day, week (e.g. 1/day, 10/h)");
    let (n, unit) = text.split_once('/').ok_or_else(bad)?;
    let n: f64 = n.trim().parse().map_err(|_| bad())?;
    if !n.is_finite() || n < 0.0 {
        return Err(format!("rate '{text}': the count must be a non-negative number"));
    }
    let per_h = match unit.trim() {
        "s" | "sec" => 3600.0,
        "min" | "m" => 60.0,
        "h" | "hour" => 1.0,
        "d" | "day" => 1.0 / 24.0,
        "w" | "week" => 1.0 / 168.0,
        _ => return Err(bad()),
    };
    let rate = n * per_h;
    if !rate.is_finite() {
        return Err(format!("rate '{text}' is too large; give a finite count"));
    }
    Ok(rate)
}

/// Finds the most aggressive knob value of `config` within `range` (internal units)
/// whose mistake rate on `receipts` is at most `target_per_h`.
pub fn tune(
    receipts: &crate::trace::Receipts,
    config: &Config,
    range: (f64, f64),
    target_per_h: f64,
    opts: &Options,
) -> Result<Tuned, ReplayError> {
    let Some(knob) = config.knob() else {
        let m = sweep::evaluate(receipts, config, &[0.0], opts)?.remove(0);
        return Ok(Tuned {
            config: config.clone(),
            value: None,
            metrics: m,
            status: Status::NoKnob,
        });
    };
    let res = resolution(knob.unit);
    let ok = |m: &Metrics| m.mistake_rate_per_h() <= target_per_h;
    let (mut lo, mut hi) = (snap(range.0, res), snap(range.1, res).max(snap(range.0, res)));
    // Extend the range upward, by doubling within the knob's allowed values, until its
    // end meets the target; the values passed over are known to miss it.
    let allows = |x: f64| crate::detector::spec::info(config.name()).is_none_or(|i| i.knob_allows(x));
    for _ in 0..MAX_DOUBLINGS {
        let m = sweep::evaluate(receipts, config, &[hi], opts)?.remove(0);
        let next = snap(if hi > 0.0 { 2.0 * hi } else { knob.sweep.2.max(res) }, res);
        if ok(&m) || !allows(next) {
            break;
        }
        lo = hi;
        hi = next;
    }
    // Likewise downward, by halving, while the start of the range already meets it.
    for _ in 0..MAX_DOUBLINGS {
        let next = snap(lo / 2.0, res);
        if lo <= 0.0 || next < res || !allows(next) {
            break;
        }
        let m = sweep::evaluate(receipts, config, &[lo], opts)?.remove(0);
        if !ok(&m) {
            break;
        }
        hi = lo;
        lo = next;
    }
    let mut first_round = true;
    loop {
        let step = ((hi - lo) / (GRID - 1) as f64).max(res);
        // Grid values on multiples of the resolution, so the answer is exact to it.
        let mut values: Vec<f64> = (0..GRID).map(|i| snap(lo + i as f64 * step, res).min(hi)).collect();
        values.push(hi);
        values.dedup();
        let n = values.len();
        let metrics = sweep::evaluate(receipts, config, &values, opts)?;
        // The smallest index from which every larger grid value meets the target.
        let mut from = n;
        while from > 0 && ok(&metrics[from - 1]) {
            from -= 1;
        }
        if from == n {
            let status = if first_round { Status::NotReached } else { Status::Found };
            // In a refinement round `hi` met the target in the round before.
            let m = if first_round {
                metrics[n - 1]
            } else {
                sweep::evaluate(receipts, config, &[hi], opts)?.remove(0)
            };
            return Ok(Tuned {
                config: config.clone(),
                value: Some(hi),
                metrics: m,
                status,
            });
        }
        if from == 0 && first_round {
            return Ok(Tuned {
                config: config.clone(),
                value: Some(lo),
                metrics: metrics[0],
                status: Status::RangeStart,
            });
        }
        if step <= res || from == 0 || n < 3 {
            return Ok(Tuned {
                config: config.clone(),
                value: Some(values[from]),
                metrics: metrics[from],
                status: Status::Found,
            });
        }
        lo = values[from - 1];
        hi = values[from];
        first_round = false;
    }
}

/// A detector to tune over a knob range, or a preset evaluated as it is.
pub struct Target {
    /// The detector.
    pub spec: DetectorSpec,
    /// The searched range, or `None` for a preset.
    pub range: Option<(f64, f64)>,
}

/// The default targets: every detector over its default range, and the presets.
pub fn default_targets() -> Vec<Target> {
    let tuned = sweep::default_grid().into_iter().map(|spec| {
        let range = Some((spec.knob_values[0], *spec.knob_values.last().unwrap_or(&0.0)));
        Target { spec, range }
    });
    tuned
        .chain(sweep::presets().into_iter().map(|spec| Target { spec, range: None }))
        .collect()
}

/// The default targets that run on `receipts` (`nfd-s` only with send times).
pub fn default_targets_for(receipts: &crate::trace::Receipts) -> Vec<Target> {
    default_targets()
        .into_iter()
        .filter(|t| sweep::runs_on(&t.spec.config, receipts))
        .collect()
}

/// One tuned line: the result and whether it is a preset at its own setting.
#[derive(Clone, Debug)]
pub struct Line {
    /// The outcome.
    pub tuned: Tuned,
    /// The preset's name, for presets.
    pub preset: Option<&'static str>,
}

/// Tunes every target in parallel; lines come in target order.
pub fn tune_all(
    receipts: &crate::trace::Receipts,
    targets: &[Target],
    target_per_h: f64,
    opts: &Options,
) -> Result<Vec<Line>, ReplayError> {
    targets
        .par_iter()
        .map(|t| {
            let tuned = match t.range {
                Some(r) => tune(receipts, &t.spec.config, r, target_per_h, opts)?,
                None => {
                    let v = t.spec.knob_values[0];
                    let m = sweep::evaluate(receipts, &t.spec.config, &[v], opts)?.remove(0);
                    Tuned {
                        config: t.spec.config.clone(),
                        value: Some(v),
                        metrics: m,
                        status: Status::Found,
                    }
                }
            };
            let preset = if t.range.is_none() {
                sweep::preset_of(&sweep::row(
                    None,
                    &tuned.config,
                    tuned.value.unwrap_or(0.0),
                    &tuned.metrics,
                ))
            } else {
                None
            };
            Ok(Line { tuned, preset })
        })
        .collect()
}

/// `x` rounded to a multiple of `res`.
fn snap(x: f64, res: f64) -> f64 {
    (x / res).round() * res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_to_per_hour() {
        assert_eq!(parse_rate("1/day"), Ok(1.0 / 24.0));
        assert_eq!(parse_rate("10/h"), Ok(10.0));
        assert_eq!(parse_rate("0.5/min"), Ok(30.0));
        assert_eq!(parse_rate("2/s"), Ok(7200.0));
        assert!(parse_rate("1/fortnight").unwrap_err().contains("UNIT"));
        assert!(parse_rate("-1/h").is_err());
        assert!(parse_rate("5").is_err());
    }
}

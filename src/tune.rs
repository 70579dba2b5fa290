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

use crate::detector::{Config, DetectorSpec, Unit};
use crate::metrics::Metrics;
use crate::replay::{Options, ReplayError};
use crate::sweep;
use crate::trace::Receipts;

/// The default accuracy floor: a setting that suspects a live process for more than
/// 0.1 % of the time is never recommended (evaluation.md §7).
pub const DEFAULT_MIN_ACCURACY: f64 = 0.999;

/// What a setting must meet to be recommended (evaluation.md §7, "feasible").
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Goal {
    /// The largest mistake rate allowed, per hour.
    pub max_mistakes_per_h: f64,
    /// The smallest query accuracy `P_A` allowed.
    pub min_accuracy: f64,
}

impl Goal {
    /// A goal of at most `max_mistakes_per_h` with the default accuracy floor.
    pub fn rate(max_mistakes_per_h: f64) -> Goal {
        Goal {
            max_mistakes_per_h,
            min_accuracy: DEFAULT_MIN_ACCURACY,
        }
    }

    /// Mistake rate within the target and query accuracy at or above the floor.
    pub fn feasible(&self, m: &Metrics) -> bool {
        m.mistake_rate_per_h() <= self.max_mistakes_per_h && m.query_accuracy() >= self.min_accuracy
    }

    /// Mistakes the target allows on the whole evaluated span of `m`: `target × L`.
    pub fn allowed_mistakes(&self, m: &Metrics) -> f64 {
        self.max_mistakes_per_h * m.evaluated.as_secs_f64() / 3600.0
    }

    /// When the evaluated span allows fewer than three mistakes at the target, the
    /// trace cannot tell the target from zero: the warning, with the upper 95 % bound of
    /// the chosen setting's rate (evaluation.md §7, "Resolution").
    pub fn resolution_warning(&self, m: &Metrics) -> Option<String> {
        let allowed = self.allowed_mistakes(m);
        (allowed < 3.0).then(|| {
            format!(
                "the evaluated span ({:.1} s) allows {allowed:.3} mistakes at the target, fewer than 3: too short to tell the target from zero; with {} mistakes the rate is only known to be at most {:.4} per hour (95 % upper bound); use a longer trace",
                m.evaluated.as_secs_f64(),
                m.mistakes,
                m.mistake_rate_interval_per_h().1
            )
        })
    }
}

/// The receipts cut at a fraction of the evaluated span (evaluation.md §7, "Held out"):
/// the first part evaluates `[a_w, a_k]` and the second `[a_k, a_{m-1}]`, with `a_k` the
/// first receipt at or after `a_w + (1 - holdout)·L`; the second part's warm-up is the
/// `w` receipts before `a_k`, so both parts follow the same warm-up rules. `None` when a
/// part would have fewer than two evaluated receipts. Stale counts are not split (0).
pub fn split(receipts: &Receipts, warmup: usize, holdout: f64) -> Option<(Receipts, Receipts)> {
    let m = receipts.len();
    if m < warmup.saturating_add(2) || !(holdout > 0.0 && holdout < 1.0) {
        return None;
    }
    let a = &receipts.recv;
    let l = (a[m - 1] - a[warmup]).0 as f64;
    let cut = a[warmup].0 as f64 + (1.0 - holdout) * l;
    let k = warmup + a[warmup..].partition_point(|t| (t.0 as f64) < cut);
    if k < warmup + 1 || k + 2 > m || k < warmup {
        return None;
    }
    let part = |r: std::ops::Range<usize>| Receipts {
        seq: receipts.seq[r.clone()].to_vec(),
        recv: receipts.recv[r.clone()].to_vec(),
        send: receipts.send.as_ref().map(|s| s[r].to_vec()),
        stale: 0,
        interval: receipts.interval,
    };
    Some((part(0..k + 1), part(k - warmup..m)))
}

/// How many times the searched range may be doubled when its end misses the target.
pub const MAX_DOUBLINGS: usize = 10;

/// Knob values evaluated per refinement round.
pub const GRID: usize = 64;

/// The resolution of the search: 0.1 ms for duration knobs, 0.001 for the others.
pub fn resolution(unit: Unit) -> f64 {
    match unit {
        Unit::Duration => 1e5,
        _ => 1e-3,
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
/// that is feasible on `receipts`: mistake rate within the goal's target and query
/// accuracy at or above its floor.
pub fn tune(
    receipts: &crate::trace::Receipts,
    config: &Config,
    range: (f64, f64),
    goal: &Goal,
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
    let ok = |m: &Metrics| goal.feasible(m);
    let (mut lo, mut hi) = (snap(range.0, res), snap(range.1, res).max(snap(range.0, res)));
    // Extend the range upward, by doubling within the knob's allowed values, until its
    // end meets the target; the values passed over are known to miss it.
    let allows = |x: f64| knob.range.contains(x);
    for _ in 0..MAX_DOUBLINGS {
        let m = sweep::evaluate(receipts, config, &[hi], opts)?.remove(0);
        let next = snap(
            if hi > 0.0 {
                2.0 * hi
            } else {
                knob.sweep_bounds().2.max(res)
            },
            res,
        );
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
#[derive(Clone, Debug)]
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

/// The pause values of `akka`'s default tuned pair (threshold, pause): 0 s to 5 s by
/// 500 ms. Akka's documentation points operators at `acceptable-heartbeat-pause`.
pub const AKKA_PAUSE_STEPS: std::ops::RangeInclusive<i64> = 0..=10;

/// `targets` with `akka` (at its default pause) replaced by one target per pause value
/// of [`AKKA_PAUSE_STEPS`] (steps of 500 ms), so that tuning searches the pair (threshold,
/// pause).
pub fn with_default_pairs(targets: Vec<Target>) -> Vec<Target> {
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        match (&t.spec.config, t.range) {
            (c, Some(_)) if c.name() == "akka" && c.preset().is_none() => {
                for step in AKKA_PAUSE_STEPS {
                    let mut spec = t.spec.clone();
                    if let Some(c) = spec.config.with_value("pause", (step * 500) as f64 * 1e6) {
                        spec.config = c;
                    }
                    out.push(Target { spec, range: t.range });
                }
            }
            _ => out.push(t),
        }
    }
    out
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
    goal: &Goal,
    opts: &Options,
) -> Result<Vec<Line>, ReplayError> {
    targets
        .par_iter()
        .map(|t| {
            let tuned = match t.range {
                Some(r) => tune(receipts, &t.spec.config, r, goal, opts)?,
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

/// A detector tuned at several values of one fixed parameter (a range in its spec, e.g.
/// `akka:pause=0s..5s:250ms`): the frontier over that parameter and the best pair.
#[derive(Clone, Debug)]
pub struct Frontier {
    /// The detector.
    pub detector: &'static str,
    /// The parameter that varies.
    pub param: String,
    /// Indices into the tuned lines, one per parameter value, in order.
    pub lines: Vec<usize>,
    /// The index of the pair that detects fastest (mean `T_D`, then p99) among the
    /// feasible ones; `None` when none is.
    pub best: Option<usize>,
}

/// The frontiers among `lines`: the non-preset lines of one detector whose parameters
/// differ in exactly one key.
pub fn frontiers(lines: &[Line], goal: &Goal) -> Vec<Frontier> {
    let mut out: Vec<Frontier> = Vec::new();
    let split = |p: &str| -> Vec<(String, String)> {
        p.split(';')
            .filter(|s| !s.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_string(), v.to_string())
            })
            .collect()
    };
    let mut seen = vec![false; lines.len()];
    for i in 0..lines.len() {
        if seen[i] || lines[i].preset.is_some() {
            continue;
        }
        let name = lines[i].tuned.config.name();
        let base = split(&lines[i].tuned.config.params());
        let mut group = vec![i];
        let mut param: Option<String> = None;
        for (j, l) in lines.iter().enumerate().skip(i + 1) {
            if seen[j] || l.preset.is_some() || l.tuned.config.name() != name {
                continue;
            }
            let other = split(&l.tuned.config.params());
            let diff: Vec<&String> = base
                .iter()
                .zip(&other)
                .filter(|(a, b)| a != b)
                .map(|(a, _)| &a.0)
                .collect();
            if diff.len() == 1 && param.as_ref().is_none_or(|p| p == diff[0]) {
                param = Some(diff[0].clone());
                group.push(j);
            }
        }
        let Some(param) = param else { continue };
        for &g in &group {
            seen[g] = true;
        }
        let best = group
            .iter()
            .copied()
            .filter(|&g| lines[g].tuned.status != Status::NotReached && goal.feasible(&lines[g].tuned.metrics))
            .min_by(|&a, &b| {
                let (x, y) = (&lines[a].tuned.metrics.detection, &lines[b].tuned.metrics.detection);
                x.mean_ns.total_cmp(&y.mean_ns).then(x.p99.cmp(&y.p99))
            });
        out.push(Frontier {
            detector: name,
            param,
            lines: group,
            best,
        });
    }
    out
}

/// The chosen settings of `lines` replayed on `receipts` (out of sample), in order.
pub fn replay_lines(receipts: &Receipts, lines: &[Line], opts: &Options) -> Result<Vec<Line>, ReplayError> {
    lines
        .iter()
        .map(|l| {
            let t = &l.tuned;
            let m = sweep::evaluate(receipts, &t.config, &[t.value.unwrap_or(0.0)], opts)?.remove(0);
            Ok(Line {
                tuned: Tuned {
                    metrics: m,
                    ..t.clone()
                },
                preset: l.preset,
            })
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

    /// Receipts every 100 ms, each 10 ms late when `i % 10 == 0`, from 0.
    fn receipts(n: u64) -> Receipts {
        let mut b = crate::trace::TraceBuilder::new(false);
        for i in 0..n {
            let late = if i % 10 == 0 { 10_000_000 } else { 0 };
            b.push(i + 1, None, Some(crate::Nanos(i as i64 * 100_000_000 + late)))
                .unwrap();
        }
        b.finish(None).unwrap().accepted()
    }

    #[test]
    fn the_accuracy_floor_keeps_a_permanent_suspicion_out() {
        let r = receipts(3000);
        let opts = Options {
            warmup: 10,
            deadline: crate::Nanos::SECOND,
        };
        // Any rate is allowed: without a floor, timeout 0 (one mistake that never ends,
        // P_A = 0) is "the most aggressive feasible" setting.
        let loose = Goal {
            max_mistakes_per_h: 1e9,
            min_accuracy: 0.0,
        };
        let t = tune(&r, &Config::named("fixed").unwrap(), (0.0, 2e8), &loose, &opts).unwrap();
        assert_eq!((t.value, t.status), (Some(0.0), Status::RangeStart));
        assert_eq!(t.metrics.query_accuracy(), 0.0);
        // With the default floor: gaps are 90, 100 or 110 ms; suspecting in the 110 ms
        // gaps (1 in 10) for 110 - T ms is 0.1 % of the time at T = 110 - 0.01·100 = 109
        // ms; the 0.1 ms grid gives the first feasible value at or above it.
        let t = tune(
            &r,
            &Config::named("fixed").unwrap(),
            (0.0, 2e8),
            &Goal::rate(1e9),
            &opts,
        )
        .unwrap();
        assert_eq!(t.status, Status::Found);
        let v = t.value.unwrap();
        assert!((109e6..=109.1e6).contains(&v), "{v}");
        assert!(t.metrics.query_accuracy() >= 0.999);
    }

    #[test]
    fn a_short_span_is_flagged_with_the_upper_bound() {
        let r = receipts(3000);
        let opts = Options {
            warmup: 10,
            deadline: crate::Nanos::SECOND,
        };
        let m = crate::sweep::evaluate(&r, &Config::named("fixed").unwrap(), &[1e9], &opts)
            .unwrap()
            .remove(0);
        // L = a_2999 - a_10 = 299.9 - 1.01 = 298.89 s: 1/h allows 0.083 mistakes; 100/h
        // allows 8.3.
        let w = Goal::rate(1.0).resolution_warning(&m).unwrap();
        let (_, hi) = m.mistake_rate_interval_per_h();
        assert!(w.contains("fewer than 3") && w.contains(&format!("{hi:.4}")), "{w}");
        assert!((hi - 3600.0 * -(0.025f64).ln() / 298.89).abs() < 1e-6, "{hi}");
        assert_eq!(Goal::rate(100.0).resolution_warning(&m), None);
    }

    #[test]
    fn a_holdout_cuts_the_evaluated_span_in_time() {
        let r = receipts(1010);
        // Warm-up 10: evaluated a_10 = 1.01 s .. a_1009 = 100.9 s, L = 99.89 s; 30 % held
        // out: the cut is at 1.01 + 0.7·99.89 = 70.933 s, the first receipt at or after
        // it is a_710 = 71.01 s.
        let (a, b) = split(&r, 10, 0.3).unwrap();
        assert_eq!(a.len(), 711);
        assert_eq!(a.recv[710], crate::Nanos(71_010_000_000));
        assert_eq!(b.recv[10], a.recv[710], "the held-out part is evaluated from the cut");
        assert_eq!(b.len(), 10 + 300);
        assert_eq!(*b.recv.last().unwrap(), *r.recv.last().unwrap());
        assert!(split(&r, 10, 0.0).is_none() && split(&r, 10, 1.0).is_none());
        assert!(split(&receipts(12), 10, 0.3).is_none());
    }

    #[test]
    fn the_frontier_picks_the_fastest_feasible_pair() {
        let r = receipts(3000);
        let opts = Options {
            warmup: 10,
            deadline: crate::Nanos::SECOND,
        };
        let specs = crate::detector::spec::parse("chen:window=1..3:1").unwrap();
        assert_eq!(specs.len(), 3);
        let targets: Vec<Target> = specs
            .into_iter()
            .map(|spec| Target {
                spec,
                range: Some((0.0, 2e8)),
            })
            .collect();
        let goal = Goal::rate(1e9);
        let lines = tune_all(&r, &targets, &goal, &opts).unwrap();
        let f = frontiers(&lines, &goal);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].detector, f[0].param.as_str(), f[0].lines.clone()),
            ("chen", "window", vec![0, 1, 2])
        );
        // The best is the feasible line with the smallest mean detection time.
        let best = f[0].best.unwrap();
        for &i in &f[0].lines {
            assert!(goal.feasible(&lines[i].tuned.metrics));
            assert!(lines[best].tuned.metrics.detection.mean_ns <= lines[i].tuned.metrics.detection.mean_ns);
        }
        // akka's default target becomes the pair (threshold, pause).
        let pairs = with_default_pairs(default_targets());
        let akka: Vec<_> = pairs
            .iter()
            .filter(|t| t.spec.config.name() == "akka" && t.range.is_some())
            .collect();
        assert_eq!(akka.len(), 11);
        assert!(
            akka[10].spec.config.params().contains("pause=5s"),
            "{}",
            akka[10].spec.config.params()
        );
    }

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

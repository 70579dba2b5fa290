//! The verdict on a production system's failure detector: its settings on a trace, and
//! the cheapest change of the setting its operators turn that meets a target.
//!
//! A [`Preset`] names the setting operators change (its [`Lever`]: Akka's
//! `acceptable-heartbeat-pause`, Cassandra's `phi_convict_threshold`, etcd's
//! `--election-timeout`, ...), the step the system's syntax allows, and the limits the
//! system enforces. [`verdict`] replays the preset's configuration, then searches the
//! lever's values on the system's own grid (multiples of the step) for the smallest
//! one that is feasible (evaluation.md §7: mistake rate within the target and query
//! accuracy at or above the floor), among the values the system accepts: when that
//! value lies below a limit the system enforces, the change is the limit's value (or
//! the next feasible one above it), with a note saying why; when it lies above one,
//! there is no change, and the verdict says which value the target needs. Larger values of every lever make a detector more
//! lenient; the search assumes that they never add mistakes (true of timeouts and of
//! thresholds; for `akka`'s pause, which changes the intervals recorded, it holds on
//! the traces fdbench ships but is not a theorem), and the value it returns has been
//! evaluated and is feasible.
//!
//! The value is printed as the system writes it, so the printed configuration line is
//! the setting replayed: re-running `replay` with the preset and that alias reproduces
//! the change's row.

use serde::Serialize;

use crate::detector::registry::{Alias, Config, Lever, Limit, Preset};
use crate::metrics::Metrics;
use crate::replay::{Options, ReplayError};
use crate::sweep;
use crate::trace::Receipts;
use crate::tune::Goal;

/// The most doublings of the lever's value searched upward.
const MAX_DOUBLINGS: u32 = 40;

/// One setting of the preset and its metrics.
#[derive(Clone, Debug, Serialize)]
pub struct Setting {
    /// The configuration (fixed parameters).
    pub config: Config,
    /// The knob value (internal units).
    pub knob: f64,
    /// The lever's value as the system has it (internal units: nanoseconds for
    /// durations).
    pub system_value: f64,
    /// The configuration lines in the system's syntax.
    pub lines: Vec<String>,
    /// Why this value and not a smaller one (a limit the system enforces), then the
    /// advice of the system's this value lies outside.
    pub notes: Vec<String>,
    /// Its metrics on the trace.
    pub metrics: Metrics,
}

impl Setting {
    /// The results row of this setting.
    pub fn row(&self) -> crate::results::Row {
        crate::results::Row::new(None, &self.config, self.knob, &self.metrics)
    }
}

/// How the search for a change ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The current setting misses the target; the change is the smallest larger value
    /// that meets it.
    Raise,
    /// The current setting meets the target; the change is the smallest value that
    /// still meets it (faster detection at the same target).
    Lower,
    /// The current setting is already the smallest value on the system's grid that
    /// meets the target.
    Keep,
    /// No value of the lever meets the target (within 2^40 steps, or the parameter's
    /// range): the accuracy floor or the target is out of reach on this trace.
    Unreachable,
}

/// The verdict on a preset's configuration on a trace.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// The preset.
    #[serde(serialize_with = "preset_name")]
    pub preset: &'static Preset,
    /// What must hold.
    pub goal: Goal,
    /// The lever's alias.
    pub lever: &'static str,
    /// The setting as given (the preset's defaults unless changed).
    pub current: Setting,
    /// How the search ended.
    pub outcome: Outcome,
    /// The cheapest change that meets the goal (`None` when unreachable, and the
    /// current setting itself for [`Outcome::Keep`]).
    pub change: Option<Setting>,
    /// The resolution warning of evaluation.md §7, when the evaluated span allows
    /// fewer than 3 mistakes at the target.
    pub warning: Option<String>,
    /// When the target is reachable only outside the values the system accepts: the
    /// value it needs and the limit it crosses ([`Outcome::Unreachable`]).
    pub beyond_limits: Option<String>,
}

fn preset_name<S: serde::Serializer>(p: &&'static Preset, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.name)
}

/// Why there is no verdict.
#[derive(Debug, thiserror::Error)]
pub enum VerdictError {
    /// The configuration is no preset's.
    #[error("{0} is not a production preset; give one of: {names}", names = crate::detector::registry::presets().iter().map(|p| p.name).collect::<Vec<_>>().join(", "))]
    NotAPreset(String),
    /// The preset names no setting to change.
    #[error("{0} names no setting its operators change (no lever); tune its base detector with fdbench tune")]
    NoLever(&'static str),
    /// The trace cannot be evaluated.
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

/// The preset's lever, and the alias it names.
fn lever(preset: &'static Preset) -> Result<(Lever, &'static Alias), VerdictError> {
    let l = preset.lever.ok_or(VerdictError::NoLever(preset.name))?;
    let a = preset.alias(l.alias).ok_or(VerdictError::NoLever(preset.name))?;
    Ok((l, a))
}

/// The configuration and knob with the lever's parameter at `param_value`; `None`
/// outside the parameter's range.
fn with_param(config: &Config, knob: f64, param: &str, param_value: f64) -> Option<(Config, f64)> {
    match config.knob() {
        Some(k) if k.name == param => k.range.contains(param_value).then(|| (config.clone(), param_value)),
        _ => config.with_value(param, param_value).map(|c| (c, knob)),
    }
}

/// The lever's parameter value in `config` at `knob`.
fn param_value(config: &Config, knob: f64, param: &str) -> f64 {
    match config.knob() {
        Some(k) if k.name == param => knob,
        _ => config.get(param),
    }
}

/// The verdict on `config` (a preset's configuration, possibly changed) at `knob` on
/// `receipts`: its metrics, and the cheapest value of its lever that meets `goal`.
pub fn verdict(
    receipts: &Receipts,
    config: &Config,
    knob: f64,
    goal: &Goal,
    opts: &Options,
) -> Result<Verdict, VerdictError> {
    verdict_given(receipts, config, knob, None, goal, opts)
}

/// [`verdict`], with the metrics of `config` at `knob` on `receipts` when they are
/// already known (`None`: replayed here).
pub fn verdict_given(
    receipts: &Receipts,
    config: &Config,
    knob: f64,
    known: Option<Metrics>,
    goal: &Goal,
    opts: &Options,
) -> Result<Verdict, VerdictError> {
    let preset = config
        .preset()
        .ok_or_else(|| VerdictError::NotAPreset(config.name().to_string()))?;
    let (lever, alias) = lever(preset)?;
    sweep::check_runs(config, receipts, "the trace")?;
    let evaluate = |c: &Config, k: f64| -> Result<Metrics, ReplayError> {
        Ok(sweep::evaluate(receipts, c, &[k], opts)?.remove(0))
    };
    let setting_of = |c: Config, k: f64, system_value: f64, metrics: Metrics| Setting {
        config: c,
        knob: k,
        system_value,
        lines: lever.config(system_value),
        notes: lever.crossed(system_value).into_iter().map(String::from).collect(),
        metrics,
    };
    let setting = |c: Config, k: f64, system_value: f64| -> Result<Setting, ReplayError> {
        let metrics = evaluate(&c, k)?;
        Ok(setting_of(c, k, system_value, metrics))
    };
    let now = alias.to_system(param_value(config, knob, alias.param));
    let current = match known {
        Some(m) => setting_of(config.clone(), knob, now, m),
        None => setting(config.clone(), knob, now)?,
    };
    // The lever's grid: k·step; `at(k)` is the setting there, `None` outside the range.
    let at = |k: u64| -> Option<(Config, f64, f64)> {
        let v = k as f64 * lever.step;
        with_param(config, knob, alias.param, alias.to_param(v)).map(|(c, kn)| (c, kn, v))
    };
    // Feasibility reads only the mistakes and the suspect time: a lean replay.
    let feasible = |k: u64| -> Result<Option<bool>, ReplayError> {
        match at(k) {
            Some((c, kn, _)) => {
                let (mistakes, suspect) = crate::tune::accuracy(receipts, &c, &[kn], opts)?[0];
                Ok(Some(goal.feasible_counts(mistakes, suspect, current.metrics.evaluated)))
            }
            None => Ok(None),
        }
    };
    let here = (now / lever.step).ceil().max(0.0) as u64;
    let lowest = (0..=here).find(|&k| at(k).is_some()).unwrap_or(here);
    // The least feasible grid value in (lo, hi], `hi` feasible.
    let bisect = |mut lo: u64, mut hi: u64| -> Result<u64, ReplayError> {
        while hi > lo + 1 {
            let mid = lo + (hi - lo) / 2;
            if feasible(mid)? == Some(true) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi)
    };
    // The least feasible grid value above `lo` (which misses the goal or is below the
    // grid), by doubling then bisection; `None` when none is found.
    let climb = |lo: u64| -> Result<Option<u64>, ReplayError> {
        let (mut lo, mut k) = (lo, lo.max(1));
        for _ in 0..MAX_DOUBLINGS {
            k = k.saturating_mul(2);
            match feasible(k)? {
                Some(true) => return bisect(lo, k).map(Some),
                Some(false) => lo = k,
                None => break,
            }
        }
        Ok(None)
    };
    let (least, outcome) = if goal.feasible(&current.metrics) && at(here).is_some() {
        let least = if feasible(lowest)? == Some(true) {
            lowest
        } else {
            bisect(lowest, here)?
        };
        (Some(least), Outcome::Lower)
    } else {
        (climb(here)?, Outcome::Raise)
    };
    let unreachable = |beyond_limits: Option<String>| Verdict {
        preset,
        goal: *goal,
        lever: lever.alias,
        warning: goal.resolution_warning(&current.metrics),
        current: current.clone(),
        outcome: Outcome::Unreachable,
        change: None,
        beyond_limits,
    };
    let Some(least) = least else {
        return Ok(unreachable(None));
    };
    // Within the values the system accepts: up to its lower bound if the least feasible
    // value is below it (the bound itself when it meets the goal), and nothing above its
    // upper bound.
    let write = |k: u64| format!("{} = {}", lever.alias, lever.syntax.write(k as f64 * lever.step));
    let (lower, upper) = accepted(&lever);
    let mut why = None;
    let mut chosen = least;
    if let Some((k_min, limit)) = lower.map(|l| (grid_at_or_above(l.min, lever.step), l))
        && least < k_min
    {
        let first = if feasible(k_min)? == Some(true) {
            Some(k_min)
        } else {
            climb(k_min)?
        };
        let Some(first) = first else {
            return Ok(unreachable(Some(format!(
                "{} is the least value that meets the target, but {}; no value the system accepts meets it",
                write(least),
                limit.note
            ))));
        };
        why = Some(format!(
            "{} is the least value that meets the target, but {}; {} is the least value the system accepts that meets it{}",
            write(least),
            limit.note,
            write(first),
            if first == k_min { " (its lower limit)" } else { "" }
        ));
        chosen = first;
    }
    if let Some(limit) = upper
        && chosen as f64 * lever.step > limit.max * (1.0 + 1e-12)
    {
        return Ok(unreachable(Some(format!(
            "the target needs {}, but {}; no value the system accepts meets it on this trace",
            write(chosen),
            limit.note
        ))));
    }
    let (c, kn, v) = at(chosen).expect("a feasible grid value is in range");
    let mut change = setting(c, kn, v)?;
    change.notes.splice(0..0, why);
    let outcome = if outcome == Outcome::Lower && (v - now).abs() < lever.step * 1e-9 {
        Outcome::Keep
    } else {
        outcome
    };
    let warning = goal.resolution_warning(&change.metrics);
    Ok(Verdict {
        preset,
        goal: *goal,
        lever: lever.alias,
        current,
        outcome,
        change: Some(change),
        warning,
        beyond_limits: None,
    })
}

/// The enforced limits that bound the lever's values from below and from above (the
/// tightest of each).
fn accepted(lever: &Lever) -> (Option<&'static Limit>, Option<&'static Limit>) {
    let enforced = || lever.limits.iter().filter(|l| l.enforced);
    let lower = enforced()
        .filter(|l| l.min > f64::NEG_INFINITY)
        .max_by(|a, b| a.min.total_cmp(&b.min));
    let upper = enforced()
        .filter(|l| l.max < f64::INFINITY)
        .min_by(|a, b| a.max.total_cmp(&b.max));
    (lower, upper)
}

/// The first grid index `k` with `k·step >= value` (up to rounding).
fn grid_at_or_above(value: f64, step: f64) -> u64 {
    (value / step - 1e-9).ceil().max(0.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::spec::tests::one;
    use crate::time::Nanos;
    use crate::trace::{IntervalSource, TraceBuilder};

    fn receipts(eta_ms: i64, recv_ms: &[i64]) -> Receipts {
        let mut b = TraceBuilder::new(false);
        for (i, &r) in recv_ms.iter().enumerate() {
            b.push(i as u64 + 1, None, Some(Nanos::from_millis(r))).unwrap();
        }
        b.finish(Some((Nanos::from_millis(eta_ms), IntervalSource::Metadata)))
            .unwrap()
            .accepted()
    }

    fn opts() -> Options {
        Options {
            warmup: 1,
            deadline: Nanos::from_secs(10),
        }
    }

    fn run(spec: &str, r: &Receipts) -> Verdict {
        let s = one(spec);
        verdict(r, &s.config, s.knob_values[0], &Goal::rate(1.0 / 24.0), &opts()).unwrap()
    }

    #[test]
    fn a_timeout_raised_to_the_cheapest_whole_second() {
        // Kafka broker heartbeats every 2 s; gaps after the warm-up receipt: 2, 10.5, 2,
        // 2, 12.5, 2, 2 s (L = 33 s). At the default 9 s the 10.5 s and 12.5 s gaps are
        // mistakes of 1.5 s and 3.5 s; 1/day over 33 s allows none, so the cheapest
        // whole second is 13 s (12 s still misses the 12.5 s gap).
        let r = receipts(2000, &[0, 2000, 4000, 14_500, 16_500, 18_500, 31_000, 33_000, 35_000]);
        let v = run("kafka-broker", &r);
        let m = &v.current.metrics;
        assert_eq!(
            (m.mistakes, m.suspect_time, m.evaluated),
            (2, Nanos::from_secs(5), Nanos::from_secs(33))
        );
        assert_eq!(m.detection.mean_ns, 9e9);
        assert_eq!(m.detection.completeness, 1.0);
        assert_eq!(v.current.lines, ["broker.session.timeout.ms=9000"]);
        assert_eq!(v.outcome, Outcome::Raise);
        let c = v.change.as_ref().unwrap();
        assert_eq!(c.lines, ["broker.session.timeout.ms=13000"]);
        assert_eq!(c.knob, 13e9);
        assert_eq!(c.metrics.mistakes, 0);
        assert_eq!(c.metrics.detection.mean_ns, 13e9);
        // Crashes are detected 13 s after the last heartbeat, beyond D = 10 s.
        assert_eq!(c.metrics.detection.completeness, 0.0);
        assert!(c.notes.is_empty());
        assert_eq!(c.row().detector, "kafka-broker");
        assert!(v.warning.as_ref().unwrap().contains("fewer than 3"));
    }

    #[test]
    fn a_lenient_default_lowered_to_the_systems_limit() {
        // Kafka consumer heartbeats every 3 s; the longest gap is 4.5 s. The default
        // 45 s meets the target; the smallest whole second that does is 5 s, below the
        // broker's group.min.session.timeout.ms (6000), which rejects it: the change is
        // 6000, which meets the target, and says why.
        let r = receipts(3000, &[0, 3000, 6000, 10_500, 13_500, 16_500]);
        let v = run("kafka-consumer", &r);
        assert_eq!(v.current.metrics.mistakes, 0);
        assert_eq!(v.outcome, Outcome::Lower);
        let c = v.change.as_ref().unwrap();
        assert_eq!(c.lines, ["session.timeout.ms=6000"]);
        assert_eq!(c.knob, 6e9);
        assert_eq!(c.metrics.mistakes, 0);
        assert_eq!(c.metrics.detection.mean_ns, 6e9);
        assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
        assert!(
            c.notes[0].starts_with("session.timeout.ms = 5000 is the least value that meets the target, but the broker rejects the join with INVALID_SESSION_TIMEOUT"),
            "{}",
            c.notes[0]
        );
        assert!(
            c.notes[0].ends_with(
                "session.timeout.ms = 6000 is the least value the system accepts that meets it (its lower limit)"
            ),
            "{}",
            c.notes[0]
        );
        // Re-running the printed value reproduces the change's row, and keeps it.
        let again = run("kafka-consumer:session.timeout.ms=6000", &r);
        assert_eq!(again.outcome, Outcome::Keep);
        assert_eq!(again.current.row(), c.row());
        assert_eq!(again.current.row().detector, "kafka-consumer");
    }

    /// etcd's receipts every 100 ms from 0 to `last_tick`, then at each of `after`.
    fn etcd_trace(last_tick: i64, after: &[i64]) -> Receipts {
        let mut t: Vec<i64> = (0..=last_tick / 100).map(|i| i * 100).collect();
        t.extend_from_slice(after);
        receipts(100, &t)
    }

    #[test]
    fn etcd_never_goes_below_five_heartbeats() {
        // One 250 ms gap (1000 to 1250). --election-timeout E is a timeout of E - 100 ms
        // on a 100 ms tick: E = 300 sets the deadline after 1000 at 1200, a mistake;
        // E = 400 at 1300, in time. etcd refuses E < 5 x 100 ms, so the change is 500.
        let r = etcd_trace(1000, &[1250, 1350, 1450, 1550]);
        let v = run("etcd", &r);
        assert_eq!(v.current.lines, ["--election-timeout=1000", "election-timeout: 1000"]);
        assert_eq!(v.outcome, Outcome::Lower);
        let c = v.change.as_ref().unwrap();
        assert_eq!(c.lines, ["--election-timeout=500", "election-timeout: 500"]);
        assert_eq!((c.knob, c.metrics.mistakes), (400e6, 0));
        // Detection after the 14 evaluated receipts: 400 ms after each of 100 .. 1000, on
        // a tick; after 1250 the deadline 1650 is noticed at the tick 1700, 450 ms, and
        // likewise after 1350, 1450 and 1550.
        assert_eq!(c.metrics.detection.mean_ns, (10.0 * 400e6 + 4.0 * 450e6) / 14.0);
        assert_eq!(c.metrics.detection.max, Nanos::from_millis(450));
        assert!(
            c.notes[0].starts_with(
                "election-timeout = 400 is the least value that meets the target, but etcd refuses to start"
            ),
            "{:?}",
            c.notes
        );
        assert_eq!(c.notes.len(), 1);
        // A shorter setting as given: raised to the limit, not to 400.
        let v = run("etcd:election-timeout=200", &r);
        assert_eq!(v.outcome, Outcome::Raise);
        assert_eq!(v.current.notes.len(), 1, "the setting as given crosses the limit");
        assert_eq!(v.change.as_ref().unwrap().lines[0], "--election-timeout=500");
    }

    #[test]
    fn etcd_beyond_its_longest_election_timeout_is_no_change() {
        // A 60 s gap needs a deadline 60 s after 1000 (E = 60100 ms); etcd refuses
        // E > 50000 ms, so no configuration line is printed.
        let r = etcd_trace(1000, &[61_000, 61_100, 61_200]);
        let v = run("etcd", &r);
        assert_eq!(v.outcome, Outcome::Unreachable);
        assert!(v.change.is_none());
        let why = v.beyond_limits.as_deref().unwrap();
        assert!(
            why.starts_with(
                "the target needs election-timeout = 60100, but etcd refuses to start: \"--election-timeout is too long"
            ),
            "{why}"
        );
        assert!(
            why.ends_with("no value the system accepts meets it on this trace"),
            "{why}"
        );
        // Without the 60 s gap's receipt the same search finds a change.
        assert!(run("etcd", &etcd_trace(1000, &[1100])).change.is_some());
    }

    #[test]
    fn a_preset_parameter_as_the_lever() {
        // akka-cluster's lever is acceptable-heartbeat-pause, a fixed parameter: the
        // change keeps the threshold and sets the pause on a 100 ms grid.
        let mut t = vec![0i64];
        for i in 1..40 {
            t.push(t[i - 1] + if i == 30 { 6_000 } else { 1_000 });
        }
        let r = receipts(1000, &t);
        let v = run("akka-cluster", &r);
        assert_eq!(v.outcome, Outcome::Raise);
        let c = v.change.as_ref().unwrap();
        assert_eq!(c.knob, 8.0);
        assert_eq!(c.metrics.mistakes, 0);
        // Before the 6 s gap the history is {750, 1250, 1000 x 28} ms: mean 1000, std
        // 64.5 < min_std 100; phi reaches 8 at y = 5.2260 (y(1.5976 + 0.070566 y^2) =
        // ln(1e8 - 1)), so the deadline is 1000 + pause + 522.6 ms, and the 6000 ms gap
        // needs pause >= 4477.4 ms: 4500 ms on the 100 ms grid.
        let pause = c.config.get("pause");
        assert_eq!(pause, 4.5e9);
        assert_eq!(
            c.lines[0],
            "akka.cluster.failure-detector.acceptable-heartbeat-pause = 4500ms"
        );
        // One step less misses the target.
        let less = one(&format!("akka-cluster:pause={}", Nanos((pause - 100e6) as i64)));
        let m = sweep::evaluate(&r, &less.config, &less.knob_values, &opts()).unwrap();
        assert!(m[0].mistakes > 0);
    }

    #[test]
    fn not_a_preset() {
        let r = receipts(1000, &[0, 1000, 2000]);
        let s = one("fixed");
        let e = verdict(&r, &s.config, 1e9, &Goal::rate(1.0), &opts()).unwrap_err();
        assert!(e.to_string().starts_with("fixed is not a production preset"), "{e}");
    }
}

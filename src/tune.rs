//! Tuning for a target mistake rate: for each detector, the most aggressive knob value
//! whose mistake rate on a trace stays within the target.
//!
//! Comparing detectors at equal mistake rate is the fair comparison (Chen, Toueg and
//! Aguilera compare detection times at equal accuracy), and the answer to "what timeout
//! or threshold should I use on this network?".
//!
//! The search evaluates a grid of [`GRID`] knob values in one replay and keeps the
//! smallest value from which every larger grid value meets the target. Between it and
//! the grid value below, the answer is exact (evaluation.md §7, "Exact"): the least knob
//! value that is feasible, an integer number of nanoseconds for durations and the least
//! feasible `f64` otherwise. The mistakes and the suspect time of a knob value are a
//! function of the per-gap deadlines, and for a detector whose deadline has a declared
//! [`Form`] those follow for any knob value from the numbers one replay recorded, so
//! the boundary is found by bisection on them without replaying again; any other
//! detector is bisected with replays of [`GRID`] values at a time. The value reported is
//! the exact one rounded toward the safe side at the precision shown ([`shown`]: 1 µs,
//! or 4 significant digits), so that the printed value itself is feasible and replaying
//! it reproduces the tuned row.
//!
//! Feasibility reads only the mistakes and the suspect time, so the search computes
//! nothing else: from the forms, gap by gap, each knob value in order until the first
//! that trusts at the gap's end; without forms, by a replay of the family that counts
//! only those two ([`accuracy`]). The detection times come from one full replay, of the
//! value reported.

use serde::Serialize;

use rayon::prelude::*;

use crate::detector::{Config, DetectorSpec, Form, Unit};
use crate::metrics::Metrics;
use crate::replay::{Options, ReplayError};
use crate::sweep;
use crate::time::Nanos;
use crate::trace::Receipts;

/// The default accuracy floor: a setting that suspects a live process for more than
/// 0.1 % of the time is never recommended ([evaluation.md](crate::docs::evaluation) §7).
pub const DEFAULT_MIN_ACCURACY: f64 = 0.999;

/// What a setting must meet to be recommended ([evaluation.md](crate::docs::evaluation) §7, "feasible").
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
        self.feasible_counts(m.mistakes, m.suspect_time, m.evaluated)
    }

    /// [`feasible`](Goal::feasible) from what it reads of the metrics: `mistakes` and
    /// `suspect` time over the evaluated span `evaluated`.
    pub fn feasible_counts(&self, mistakes: u64, suspect: Nanos, evaluated: Nanos) -> bool {
        crate::metrics::mistake_rate_per_h(mistakes, evaluated) <= self.max_mistakes_per_h
            && crate::metrics::query_accuracy(suspect, evaluated) >= self.min_accuracy
    }

    /// Mistakes the target allows on the whole evaluated span of `m`: `target × L`.
    pub fn allowed_mistakes(&self, m: &Metrics) -> f64 {
        self.max_mistakes_per_h * m.evaluated.as_secs_f64() / 3600.0
    }

    /// When the evaluated span allows fewer than three mistakes at the target, the
    /// trace cannot tell the target from zero: the warning, with the upper 95 % bound of
    /// the chosen setting's rate ([evaluation.md](crate::docs::evaluation) §7, "Resolution").
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

/// The receipts cut at a fraction of the evaluated span ([evaluation.md](crate::docs::evaluation) §7, "Held out"):
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

/// The step the searched range is extended and halved by: 0.1 ms for duration knobs,
/// 0.001 for the others (the answer itself is exact).
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
    /// The most aggressive value meeting the target, exactly (shown rounded toward the
    /// safe side).
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

/// The mistakes and the suspect time of `config` at each of `knobs` on `receipts`, all
/// that [`Goal::feasible`] reads: one replay of the family that tracks the accuracy
/// metrics only ([evaluation.md](crate::docs::evaluation) §3), without detection times.
pub fn accuracy(
    receipts: &Receipts,
    config: &Config,
    knobs: &[f64],
    opts: &Options,
) -> Result<Vec<(u64, Nanos)>, ReplayError> {
    sweep::check_runs(config, receipts, "the trace")?;
    if config.name() == "akka" {
        return crate::detector::akka::tuning::config_accuracy(receipts, config, knobs, opts);
    }
    let w = opts.warmup;
    crate::replay::evaluated_length(receipts, w)?;
    let mut family = config.family(receipts.interval, knobs);
    for j in 0..w {
        family.observe(&receipts.heartbeat(j));
    }
    let totals = crate::replay::accuracy(&receipts.recv, w..receipts.len() - 1, knobs.len(), |j, out| {
        family.observe(&receipts.heartbeat(j));
        family.deadlines(out);
    });
    Ok(totals.into_iter().map(|(m, s)| (m, Nanos(s))).collect())
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
    if config.name() == "akka" {
        return crate::detector::akka::tuning::tune(receipts, config, range, goal, opts);
    }
    let res = resolution(knob.unit);
    let judge = Judge::new(receipts, config, goal, opts)?;
    let (mut lo, mut hi) = (snap(range.0, res), snap(range.1, res).max(snap(range.0, res)));
    let allows = |x: f64| knob.range.contains(x);
    let double = |x: f64| {
        snap(
            if x > 0.0 {
                2.0 * x
            } else {
                knob.sweep_bounds().2.max(res)
            },
            res,
        )
    };
    // Judged at once: the range's start and its end with the end's doublings, which
    // its extension probes one at a time; and the grid over the range as given, which
    // the search evaluates when the range needs no extension.
    let mut ends = vec![lo, hi];
    while ends.len() < MAX_DOUBLINGS + 2 && allows(double(ends[ends.len() - 1])) {
        ends.push(double(ends[ends.len() - 1]));
    }
    judge.prefetch(&ends, &grid(lo, hi, res))?;
    // Extend the range upward, by doubling within the knob's allowed values, until its
    // end meets the target; the values passed over are known to miss it.
    for _ in 0..MAX_DOUBLINGS {
        let next = double(hi);
        if judge.feasible(&[hi])?[0] || !allows(next) {
            break;
        }
        lo = hi;
        hi = next;
    }
    // Likewise downward, by halving, while the start of the range already meets it
    // (half of a multiple of `res` snaps to `res` at least), within the knob's values.
    for _ in 0..MAX_DOUBLINGS {
        let next = snap(lo / 2.0, res);
        if lo <= 0.0 || !allows(next) || !judge.feasible(&[lo])?[0] {
            break;
        }
        hi = lo;
        lo = next;
    }
    let values = grid(lo, hi, res);
    let n = values.len();
    let from = feasible_from(&judge.feasible(&values)?);
    let tuned = |value: f64, status: Status| -> Result<Tuned, ReplayError> {
        Ok(Tuned {
            config: config.clone(),
            value: Some(value),
            metrics: sweep::evaluate(receipts, config, &[value], opts)?.remove(0),
            status,
        })
    };
    if from == n {
        return tuned(hi, Status::NotReached);
    }
    if from == 0 {
        return tuned(lo, Status::RangeStart);
    }
    let (below, above) = (values[from - 1], values[from]);
    if !config.knob_independent() {
        // One state per knob value: refined by grids to the resolution.
        return tuned(judge.refine(below, above, res)?, Status::Found);
    }
    let exact = judge.boundary(below, above)?;
    // The value as shown, rounded toward the safe side; it is feasible wherever the
    // feasible values above the boundary are (checked: the exact value otherwise).
    let printed = shown(exact, knob.unit).min(above);
    let t = tuned(printed, Status::Found)?;
    if goal.feasible(&t.metrics) {
        return Ok(t);
    }
    tuned(exact, Status::Found)
}

/// [`GRID`] values from `lo` to `hi` on multiples of `res` (fewer when the range is
/// narrow), `hi` last.
fn grid(lo: f64, hi: f64, res: f64) -> Vec<f64> {
    let step = ((hi - lo) / (GRID - 1) as f64).max(res);
    let mut values: Vec<f64> = (0..GRID).map(|i| snap(lo + i as f64 * step, res).min(hi)).collect();
    values.push(hi);
    values.dedup();
    values
}

/// The smallest index from which every value is feasible (`feasible.len()` when the
/// last is not).
fn feasible_from(feasible: &[bool]) -> usize {
    feasible.len() - feasible.iter().rev().take_while(|&&f| f).count()
}

/// Knob values as ordered integers: whole nanoseconds for durations, the bit pattern
/// of a non-negative `f64` otherwise (ordered as the values are).
fn to_rank(unit: Unit, x: f64) -> i64 {
    match unit {
        Unit::Duration => x.round() as i64,
        _ => x.max(0.0).to_bits() as i64,
    }
}

/// The knob value of an ordered integer ([`to_rank`]).
fn from_rank(unit: Unit, r: i64) -> f64 {
    match unit {
        Unit::Duration => r as f64,
        _ => f64::from_bits(r as u64),
    }
}

/// Says which knob values of one detector meet a goal on a trace: from the deadline
/// forms of one replay when the detector declares them (the mistakes and the suspect
/// time of any knob value follow from them), by replaying otherwise.
struct Judge<'a> {
    receipts: &'a Receipts,
    config: &'a Config,
    goal: &'a Goal,
    opts: &'a Options,
    unit: Unit,
    /// The forms after each evaluated receipt `j = w .. m-1` (index `j - w`).
    forms: Option<Vec<Form<'static>>>,
    /// The evaluated span `L` of the trace.
    evaluated: Nanos,
    /// Knob values judged alone so far (bit patterns) and whether each is feasible.
    memo: std::cell::RefCell<Vec<(u64, bool)>>,
}

impl<'a> Judge<'a> {
    fn new(receipts: &'a Receipts, config: &'a Config, goal: &'a Goal, opts: &'a Options) -> Result<Self, ReplayError> {
        if !sweep::runs_on(config, receipts) {
            return Err(ReplayError::NoSendTimes(config.name()));
        }
        let evaluated = crate::replay::evaluated_length(receipts, opts.warmup)?;
        let unit = config.knob().map_or(Unit::Number, |k| k.unit);
        let knob = config.knob().map_or(0.0, |k| k.default);
        Ok(Judge {
            receipts,
            config,
            goal,
            opts,
            unit,
            forms: forms(receipts, config, knob, opts.warmup),
            evaluated,
            memo: std::cell::RefCell::new(Vec::new()),
        })
    }

    /// Judges at once the values that later [`feasible`](Judge::feasible) calls of one
    /// value each may ask for: `alone` from the forms, in one pass, where their
    /// prepared values are in the same order as they are (so that each is judged as it
    /// would be alone); `replayed` in one replay when each probe is a replay.
    fn prefetch(&self, alone: &[f64], replayed: &[f64]) -> Result<(), ReplayError> {
        let Some(forms) = &self.forms else {
            self.feasible(replayed)?;
            return Ok(());
        };
        let mut xs = alone.to_vec();
        xs.sort_by(f64::total_cmp);
        xs.dedup_by(|x, y| x.to_bits() == y.to_bits());
        let gs: Vec<f64> = xs.iter().map(|&x| forms[0].prepare(x)).collect();
        if gs.windows(2).all(|g| g[0] < g[1]) {
            let judged = self.pass(forms, &gs);
            self.memo
                .borrow_mut()
                .extend(xs.iter().zip(judged).map(|(x, ok)| (x.to_bits(), ok)));
        }
        Ok(())
    }

    /// Whether `x` was judged alone, and if so whether it is feasible.
    fn known(&self, x: f64) -> Option<bool> {
        self.memo.borrow().iter().find(|k| k.0 == x.to_bits()).map(|k| k.1)
    }

    /// Whether each of the prepared values `gs` (ascending) meets the goal, each over
    /// the gaps suspected at every value before it: gap by gap, the values in order until
    /// the first that trusts at the gap's end.
    fn pass(&self, forms: &[Form], gs: &[f64]) -> Vec<bool> {
        let (w, a) = (self.opts.warmup, &self.receipts.recv);
        let mut totals = vec![(0u64, 0i64); gs.len()];
        // The values `[0, before)` suspected at the end of the last gap.
        let mut before = 0;
        for (j, f) in (w..a.len() - 1).zip(forms) {
            let (start, end) = (a[j], a[j + 1]);
            let mut k = 0;
            while let Some(&g) = gs.get(k) {
                let t = f.deadline(g).unwrap_or(Nanos::MAX);
                if t >= end {
                    break;
                }
                let o = &mut totals[k];
                o.1 += (end - start.max(t)).0;
                if t > start || k >= before {
                    o.0 += 1;
                }
                k += 1;
            }
            before = k;
        }
        totals
            .into_iter()
            .map(|(mistakes, suspect)| self.goal.feasible_counts(mistakes, Nanos(suspect), self.evaluated))
            .collect()
    }

    /// The smallest value from which every larger one meets the goal on grids of
    /// [`GRID`] multiples of `res` between `below` (which does not) and `above` (which
    /// does), each grid refining the last, down to a step of `res`.
    fn refine(&self, mut below: f64, mut above: f64, res: f64) -> Result<f64, ReplayError> {
        loop {
            let values = grid(below, above, res);
            let from = feasible_from(&self.feasible(&values)?);
            if from == values.len() {
                return Ok(above);
            }
            if (above - below) / (GRID - 1) as f64 <= res || from == 0 || values.len() < 3 {
                return Ok(values[from]);
            }
            below = values[from - 1];
            above = values[from];
        }
    }

    /// Whether each of `values` meets the goal.
    fn feasible(&self, values: &[f64]) -> Result<Vec<bool>, ReplayError> {
        match &self.forms {
            Some(forms) => {
                if let [v] = values
                    && let Some(ok) = self.known(*v)
                {
                    return Ok(vec![ok]);
                }
                // From the smallest value up, each over the gaps suspected at every
                // value below it (deadlines never decrease as the knob grows).
                let mut order: Vec<usize> = (0..values.len()).collect();
                order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
                let gs: Vec<f64> = order.iter().map(|&i| forms[0].prepare(values[i])).collect();
                let mut out = vec![false; values.len()];
                for (&i, ok) in order.iter().zip(self.pass(forms, &gs)) {
                    out[i] = ok;
                }
                Ok(out)
            }
            None => {
                let mut missing: Vec<f64> = values.iter().copied().filter(|&v| self.known(v).is_none()).collect();
                missing.sort_by(f64::total_cmp);
                missing.dedup_by(|a, b| a.to_bits() == b.to_bits());
                if !missing.is_empty() {
                    let counts = accuracy(self.receipts, self.config, &missing, self.opts)?;
                    self.memo
                        .borrow_mut()
                        .extend(missing.iter().zip(counts).map(|(&v, (mistakes, suspect))| {
                            let ok = self.goal.feasible_counts(mistakes, suspect, self.evaluated);
                            (v.to_bits(), ok)
                        }));
                }
                Ok(values.iter().map(|&v| self.known(v).unwrap_or(false)).collect())
            }
        }
    }

    /// From the forms: whether `value` meets the goal, counting only `gaps` (the others
    /// known to be trusted throughout), and the gaps it suspects.
    fn probe(&self, forms: &[Form], value: f64, gaps: impl IntoIterator<Item = usize>) -> (bool, Vec<usize>) {
        let w = self.opts.warmup;
        let a = &self.receipts.recv;
        let g = forms[0].prepare(value);
        let mut suspected = Vec::new();
        let totals = crate::replay::accuracy(a, gaps, 1, |j, out| {
            out[0] = forms[j - w].deadline(g).unwrap_or(Nanos::MAX);
            if out[0] < a[j + 1] {
                suspected.push(j);
            }
        });
        let (mistakes, suspect) = totals[0];
        let feasible = self.goal.feasible_counts(mistakes, Nanos(suspect), self.evaluated);
        (feasible, suspected)
    }

    /// The least knob value in `(below, above]` that meets the goal, given that `below`
    /// does not and `above` does: bisection on the knob's ordered integers, [`GRID`]
    /// values at a time when each probe is a replay.
    fn boundary(&self, below: f64, above: f64) -> Result<f64, ReplayError> {
        let (mut lo, mut hi) = (to_rank(self.unit, below), to_rank(self.unit, above));
        if let Some(forms) = &self.forms {
            // Deadlines never decrease as the knob grows: only the gaps suspected at the
            // infeasible end can be suspected above it, and the set shrinks as it rises.
            let mut gaps = self.probe(forms, below, self.opts.warmup..self.receipts.len() - 1).1;
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let (feasible, suspected) = self.probe(forms, from_rank(self.unit, mid), gaps.iter().copied());
                if feasible {
                    hi = mid;
                } else {
                    lo = mid;
                    gaps = suspected;
                }
            }
            return Ok(from_rank(self.unit, hi));
        }
        let per_round = GRID as i64;
        while hi - lo > 1 {
            let count = (hi - lo - 1).min(per_round);
            let ranks: Vec<i64> = (1..=count)
                .map(|i| lo + (i128::from(hi - lo) * i128::from(i) / i128::from(count + 1)) as i64)
                .collect();
            let values: Vec<f64> = ranks.iter().map(|&r| from_rank(self.unit, r)).collect();
            let from = feasible_from(&self.feasible(&values)?);
            if from < ranks.len() {
                hi = ranks[from];
            }
            if from > 0 {
                lo = ranks[from - 1];
            }
        }
        Ok(from_rank(self.unit, hi))
    }
}

/// The deadline forms of `config` after each evaluated receipt `j = w .. m-1` (index
/// `j - w`), from one replay; `None` when some deadline has no declared form.
fn forms(receipts: &Receipts, config: &Config, knob: f64, w: usize) -> Option<Vec<Form<'static>>> {
    if !config.knob_independent() {
        return None;
    }
    let mut family = config.family(receipts.interval, &[knob]);
    if family.form().detached()? == Form::General {
        return None;
    }
    let mut out = Vec::with_capacity(receipts.len() - w);
    for j in 0..receipts.len() {
        family.observe(&receipts.heartbeat(j));
        if j >= w {
            let f = family.form().detached()?;
            if f == Form::General {
                return None;
            }
            out.push(f);
        }
    }
    Some(out)
}

/// A tuned knob value as shown, rounded toward the safe side (up): to 1 µs for
/// durations (internal unit: nanoseconds), to 4 significant digits otherwise.
pub fn shown(x: f64, unit: Unit) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return x;
    }
    let (step, decimals) = match unit {
        Unit::Duration => (1e3, 0),
        _ => {
            let e = x.log10().floor() as i32 - 3;
            (10f64.powi(e), (-e).max(0) as usize)
        }
    };
    let tidy = |v: f64| -> f64 { format!("{v:.decimals$}").parse().unwrap_or(v) };
    let mut r = tidy((x / step).ceil() * step);
    if r < x {
        r = tidy(r + step);
    }
    r
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
            let preset = match (t.range, t.spec.config.preset()) {
                (None, Some(p)) => Some(p.name),
                (None, None) => sweep::preset_of(&sweep::row(
                    None,
                    &tuned.config,
                    tuned.value.unwrap_or(0.0),
                    &tuned.metrics,
                )),
                _ => None,
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
    pub(super) fn receipts(n: u64) -> Receipts {
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
        // With the default floor: gaps are 90, 100 or 110 ms; the 298 evaluated gaps of
        // 110 ms are suspected for 110 ms - T each, and S <= 0.001·L = 298.89 ms needs
        // T >= 110 ms - 1.0029866 ms: 108 997 014 ns exactly (one nanosecond less gives
        // P_A = 0.99899999958), shown rounded up to 108.998 ms.
        let fixed = Config::named("fixed").unwrap();
        let t = tune(&r, &fixed, (0.0, 2e8), &Goal::rate(1e9), &opts).unwrap();
        assert_eq!(t.status, Status::Found);
        assert_eq!(t.value, Some(108_998_000.0));
        assert!(t.metrics.query_accuracy() >= 0.999);
        let at = |v: f64| crate::sweep::evaluate(&r, &fixed, &[v], &opts).unwrap().remove(0);
        let goal = Goal::rate(1e9);
        let exact = Judge::new(&r, &fixed, &goal, &opts)
            .unwrap()
            .boundary(0.0, 2e8)
            .unwrap();
        assert_eq!(exact, 108_997_014.0);
        assert!(at(108_997_013.0).query_accuracy() < 0.999);
        // Replaying the value shown reproduces the tuned row.
        let mut d = fixed.detector(r.interval, t.value.unwrap());
        assert_eq!(
            crate::replay::replay_detector(&r, d.as_mut(), &opts).unwrap(),
            t.metrics
        );
    }

    /// Receipts about every microsecond (0.4–1.6 µs apart, 2 % lost), so that every
    /// integer timeout of a few microseconds can be tried.
    fn fine(seed: u64, n: u64) -> Receipts {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut b = crate::trace::TraceBuilder::new(false);
        let mut t = 0i64;
        for i in 1..=n {
            t += rng.random_range(400..1600);
            let recv = (!rng.random_bool(0.02)).then_some(crate::Nanos(t));
            b.push(i, None, recv).unwrap();
        }
        b.finish(Some((crate::Nanos(1000), crate::trace::IntervalSource::Given)))
            .unwrap()
            .accepted()
    }

    /// A goal of `allowed` mistakes over the evaluated span of `top` (the metrics at the
    /// top of the range searched), with the accuracy floor `floor`.
    fn allowing(allowed: f64, top: &Metrics, floor: f64) -> Goal {
        Goal {
            max_mistakes_per_h: allowed * 3600.0 / top.evaluated.as_secs_f64(),
            min_accuracy: floor,
        }
    }

    /// The configuration of the first detector of `spec`.
    pub(super) fn config(spec: &str) -> Config {
        crate::detector::spec::parse(spec).unwrap().remove(0).config
    }

    /// The evaluation of the [`fine`] traces: warm-up 10, `D` = 3 µs.
    const FINE_OPTS: Options = Options {
        warmup: 10,
        deadline: crate::Nanos(3000),
    };

    /// The exact answer is the least feasible value, found by trying every integer
    /// nanosecond (durations) or checked against the next smaller `f64` (thresholds).
    #[test]
    fn the_exact_answer_is_the_least_feasible_value() {
        let opts = FINE_OPTS;
        let (mut durations, mut thresholds, mut monotone) = (0, 0, 0);
        for seed in 0..4 {
            let r = fine(seed, 600);
            for spec in ["fixed", "chen:window=10", "2w:n1=10,n2=2", "fixed:check=700ns", "nfd-s"] {
                let Ok(mut specs) = crate::detector::spec::parse(spec) else {
                    continue;
                };
                let c = specs.remove(0).config;
                if !crate::sweep::runs_on(&c, &r) {
                    continue;
                }
                let at = |v: f64| crate::sweep::evaluate(&r, &c, &[v], &opts).unwrap().remove(0);
                let top = at(6000.0);
                for (allowed, floor) in [(3.0, 0.9), (0.0, 0.5), (20.0, 0.99)] {
                    let goal = allowing(allowed, &top, floor);
                    if !goal.feasible(&top) || goal.feasible(&at(0.0)) {
                        continue;
                    }
                    let brute = (0..=6000).map(f64::from).find(|&v| goal.feasible(&at(v))).unwrap();
                    let exact = Judge::new(&r, &c, &goal, &opts).unwrap().boundary(0.0, 6000.0).unwrap();
                    assert_eq!(exact, brute, "{spec} seed {seed} goal {goal:?}");
                    durations += 1;
                }
            }
            for spec in ["phi:window=10", "exp-phi:window=10", "satzger:window=10"] {
                let c = config(spec);
                let at = |v: f64| crate::sweep::evaluate(&r, &c, &[v], &opts).unwrap().remove(0);
                let (lo, hi) = if spec.starts_with("satzger") {
                    (0.01, 1.0)
                } else {
                    (0.01, 40.0)
                };
                let top = at(hi);
                let goal = allowing(5.0, &top, 0.9);
                if !goal.feasible(&top) || goal.feasible(&at(lo)) {
                    continue;
                }
                let exact = Judge::new(&r, &c, &goal, &opts).unwrap().boundary(lo, hi).unwrap();
                let before = f64::from_bits(exact.to_bits() - 1);
                assert!(goal.feasible(&at(exact)), "{spec} seed {seed}: {exact}");
                assert!(!goal.feasible(&at(before)), "{spec} seed {seed}: {before}");
                // Brute force on a dense grid of the range, each value replayed: where
                // feasibility changes once along it, the exact value lies between the
                // last infeasible grid value and the first feasible one.
                let dense: Vec<f64> = (0..=2000).map(|i| lo + (hi - lo) * f64::from(i) / 2000.0).collect();
                let ok: Vec<bool> = crate::sweep::evaluate(&r, &c, &dense, &opts)
                    .unwrap()
                    .iter()
                    .map(|m| goal.feasible(m))
                    .collect();
                let first = ok.iter().position(|&f| f).unwrap();
                if ok[first..].iter().all(|&f| f) {
                    assert!(
                        exact > dense[first - 1] && exact <= dense[first],
                        "{spec} seed {seed}: {exact}"
                    );
                    monotone += 1;
                }
                thresholds += 1;
            }
        }
        assert!(
            durations >= 20 && thresholds >= 8 && monotone >= 6,
            "{durations} {thresholds} {monotone} cases"
        );
    }

    /// Every family tuned on small traces: the row reported is the one a replay of the
    /// value printed gives, and that value meets the goal when it was found.
    #[test]
    fn replaying_the_printed_value_reproduces_the_tuned_row() {
        let opts = FINE_OPTS;
        let mut found = 0;
        for seed in 0..3 {
            let r = fine(seed, 600);
            for spec in [
                "fixed:timeout=0ns..6us:100ns",
                "fixed:timeout=0ns..6us:100ns,check=700ns",
                "chen:window=10,alpha=0ns..6us:100ns",
                "2w:n1=10,n2=2,alpha=0ns..6us:100ns",
                "phi:window=10,threshold=0.01..40:0.01",
                "exp-phi:window=10,threshold=0.01..40:0.01",
                "satzger:window=10,threshold=0.01..1:0.01",
                "akka:window=10,pause=0s,min_std=100ns,first_estimate=1us,threshold=0.01..40:0.01",
            ] {
                let s = crate::detector::spec::parse(spec).unwrap().remove(0);
                let range = (s.knob_values[0], *s.knob_values.last().unwrap());
                let top = crate::sweep::evaluate(&r, &s.config, &[range.1], &opts)
                    .unwrap()
                    .remove(0);
                for allowed in [2.0, 5.0, 20.0] {
                    let goal = allowing(allowed, &top, 0.9);
                    let t = tune(&r, &s.config, range, &goal, &opts).unwrap();
                    let v = t.value.unwrap();
                    let mut d = s.config.detector(r.interval, v);
                    let replayed = crate::replay::replay_detector(&r, d.as_mut(), &opts).unwrap();
                    assert_eq!(replayed, t.metrics, "{spec} seed {seed} at {v}");
                    if t.status == Status::Found {
                        assert!(goal.feasible(&t.metrics), "{spec} seed {seed} at {v}");
                        found += 1;
                    }
                }
            }
        }
        assert!(found >= 30, "{found} found");
    }

    /// Detectors judged from their forms, each with values from suspecting almost always
    /// to almost never on `fine` traces.
    const FORM_CASES: [(&str, &[f64]); 4] = [
        ("fixed", &[0.0, 500.0, 1000.0, 1500.0, 2000.0, 4000.0, 8000.0]),
        ("chen:window=10", &[0.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0]),
        ("phi:window=10", &[0.01, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
        ("exp-phi:window=10", &[0.01, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]),
    ];

    /// Feasibility from the forms counts each value's mistakes and suspect time as the
    /// engine's replay of it does: a goal allowing half a mistake more, at the replay's
    /// query accuracy, is met; half a mistake fewer, or the next accuracy up, is not.
    #[test]
    fn the_forms_count_the_mistakes_and_suspect_time_of_a_replay() {
        let opts = FINE_OPTS;
        let mut mistaken = 0;
        for seed in 0..3 {
            let r = fine(seed, 600);
            for (spec, values) in FORM_CASES {
                let c = config(spec);
                for &v in values {
                    let m = crate::sweep::evaluate(&r, &c, &[v], &opts).unwrap().remove(0);
                    let judged = |allowed: f64, floor: f64| {
                        let goal = allowing(allowed, &m, floor);
                        Judge::new(&r, &c, &goal, &opts).unwrap().feasible(&[v]).unwrap()[0]
                    };
                    let (n, pa) = (m.mistakes as f64, m.query_accuracy());
                    let above = f64::from_bits(pa.to_bits() + 1);
                    assert!(judged(n + 0.5, pa), "{spec} seed {seed} at {v}: {m:?}");
                    assert!(!judged(n + 0.5, above), "{spec} seed {seed} at {v}: {m:?}");
                    if m.mistakes > 0 {
                        assert!(!judged(n - 0.5, 0.0), "{spec} seed {seed} at {v}: {m:?}");
                        mistaken += 1;
                    }
                }
            }
        }
        assert!(mistaken >= 20, "{mistaken} settings with mistakes");
    }

    /// Values judged at once from the forms are judged as each alone.
    #[test]
    fn values_judged_at_once_are_judged_as_alone() {
        let opts = FINE_OPTS;
        let mut judged = 0;
        for seed in 0..3 {
            let r = fine(seed, 600);
            for (spec, values) in FORM_CASES {
                let c = config(spec);
                let top = crate::sweep::evaluate(&r, &c, &[values[values.len() - 1]], &opts)
                    .unwrap()
                    .remove(0);
                let goal = allowing(5.0, &top, 0.9);
                let at_once = Judge::new(&r, &c, &goal, &opts).unwrap();
                at_once.prefetch(values, &[]).unwrap();
                let mut both = (false, false);
                for &v in values {
                    let alone = Judge::new(&r, &c, &goal, &opts).unwrap().feasible(&[v]).unwrap()[0];
                    assert_eq!(at_once.known(v), Some(alone), "{spec} seed {seed} at {v}");
                    // And as the engine's replay of the value judges it.
                    let m = crate::sweep::evaluate(&r, &c, &[v], &opts).unwrap().remove(0);
                    assert_eq!(alone, goal.feasible(&m), "{spec} seed {seed} at {v}: {m:?}");
                    if alone {
                        both.0 = true;
                    } else {
                        both.1 = true;
                    }
                }
                judged += usize::from(both.0 && both.1);
            }
        }
        assert!(judged >= 8, "{judged} cases with both outcomes");
    }

    /// The lean replay that feasibility reads gives the mistakes and the suspect time
    /// of the full replay, for every family.
    #[test]
    fn the_accuracy_replay_counts_as_the_full_one() {
        let opts = FINE_OPTS;
        let mut mistaken = 0;
        for seed in 0..3 {
            let r = fine(seed, 800);
            for (spec, knobs) in [
                ("fixed", &[0.0, 700.0, 1200.0, 1500.0, 2500.0, 6000.0][..]),
                ("fixed:check=700ns", &[0.0, 700.0, 1200.0, 1500.0, 2500.0, 6000.0]),
                ("chen:window=10", &[0.0, 300.0, 600.0, 900.0, 3000.0]),
                ("2w:n1=10,n2=2", &[0.0, 300.0, 600.0, 900.0, 3000.0]),
                ("bertier:window=10", &[0.0]),
                ("phi:window=10", &[0.01, 0.5, 1.0, 3.0, 8.0, 40.0]),
                ("exp-phi:window=10", &[0.01, 0.5, 1.0, 3.0, 8.0, 40.0]),
                ("satzger:window=10", &[0.01, 0.2, 0.5, 0.9, 1.0]),
                (
                    "akka:window=10,pause=0s,min_std=100ns,first_estimate=1us",
                    &[0.01, 0.5, 1.0, 3.0, 8.0, 40.0],
                ),
            ] {
                let c = config(spec);
                let lean = accuracy(&r, &c, knobs, &opts).unwrap();
                let full = crate::sweep::evaluate(&r, &c, knobs, &opts).unwrap();
                for ((&k, &(mistakes, suspect)), m) in knobs.iter().zip(&lean).zip(&full) {
                    assert_eq!(
                        (mistakes, suspect),
                        (m.mistakes, m.suspect_time),
                        "{spec} seed {seed} at {k}"
                    );
                    mistaken += usize::from(mistakes > 0);
                }
            }
        }
        assert!(mistaken >= 60, "{mistaken} values with mistakes");
    }

    #[test]
    fn a_value_is_shown_rounded_toward_the_safe_side() {
        assert_eq!(shown(108_997_014.0, Unit::Duration), 108_998_000.0);
        assert_eq!(shown(108_997_000.0, Unit::Duration), 108_997_000.0);
        assert_eq!(shown(5.27512, Unit::Number), 5.276);
        assert_eq!(shown(721.2671, Unit::Number), 721.3);
        assert_eq!(shown(0.0012341, Unit::Fraction), 0.001235);
        assert_eq!(shown(8.0, Unit::Number), 8.0);
        assert_eq!(shown(12345.6, Unit::Number), 12350.0);
        assert_eq!(shown(0.0, Unit::Duration), 0.0);
    }

    /// 2 mistakes and 2 s of suspicion in 8 s: 2 / 8 s × 3600 = 900 per hour exactly,
    /// `P_A = 1 - 2/8 = 0.75` exactly.
    pub(super) fn two_mistakes_in_8_s() -> Metrics {
        Metrics {
            heartbeats: 80,
            evaluated: crate::Nanos::from_secs(8),
            mistakes: 2,
            suspect_time: crate::Nanos::from_secs(2),
            detection: crate::metrics::Detection {
                mean_ns: 1e8,
                p50: crate::Nanos::from_millis(100),
                p99: crate::Nanos::from_millis(100),
                max: crate::Nanos::from_millis(100),
                completeness: 1.0,
                deadline: crate::Nanos::SECOND,
                origin: crate::metrics::Origin::Send,
            },
        }
    }

    #[test]
    fn feasible_is_at_most_the_target_and_at_least_the_floor() {
        let m = two_mistakes_in_8_s();
        let goal = |rate, floor| Goal {
            max_mistakes_per_h: rate,
            min_accuracy: floor,
        };
        assert!(goal(900.0, 0.75).feasible(&m), "both bounds are inclusive");
        assert!(!goal(899.99, 0.75).feasible(&m));
        assert!(!goal(900.0, 0.7501).feasible(&m));
        assert!(goal(1e9, 0.0).feasible(&m));
        // 900/h × 8 s = 2 mistakes allowed: fewer than 3, the warning; 1350/h allows
        // exactly 3, no warning.
        assert_eq!(goal(900.0, 0.75).allowed_mistakes(&m), 2.0);
        assert_eq!(goal(1350.0, 0.75).allowed_mistakes(&m), 3.0);
        let w = goal(900.0, 0.75).resolution_warning(&m).unwrap();
        assert!(
            w.starts_with("the evaluated span (8.0 s) allows 2.000 mistakes at the target, fewer than 3"),
            "{w}"
        );
        assert!(
            w.contains("with 2 mistakes the rate is only known to be at most"),
            "{w}"
        );
        assert_eq!(goal(1350.0, 0.75).resolution_warning(&m), None);
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

/// The bounds of the search and of its inputs: each comparison at the value where it
/// turns, with the answer worked out by hand.
#[cfg(test)]
mod bounds_tests {
    use super::tests::receipts;
    use super::*;

    /// The options of the tests on receipts(3000): warm-up 10, detection deadline 1 s.
    fn warmup_10() -> Options {
        Options {
            warmup: 10,
            deadline: Nanos::SECOND,
        }
    }

    /// Receipts at the given times, in nanoseconds.
    fn at(times: &[i64]) -> Receipts {
        let mut b = crate::trace::TraceBuilder::new(false);
        for (i, &t) in times.iter().enumerate() {
            b.push(i as u64 + 1, None, Some(Nanos(t))).unwrap();
        }
        b.finish(None).unwrap().accepted()
    }

    #[test]
    fn every_unit_of_a_rate_and_its_bounds() {
        assert_eq!(parse_rate("3/sec"), Ok(10800.0));
        assert_eq!(parse_rate("1/m"), Ok(60.0));
        assert_eq!(parse_rate("2/hour"), Ok(2.0));
        assert_eq!(parse_rate("12/d"), Ok(0.5));
        assert_eq!(parse_rate("1/w"), Ok(1.0 / 168.0));
        assert_eq!(parse_rate("1/week"), Ok(1.0 / 168.0));
        // A count of zero is a rate (no mistake allowed); below zero it is not.
        assert_eq!(parse_rate(" 0 / h "), Ok(0.0));
        assert_eq!(
            parse_rate("-0.5/h"),
            Err("rate '-0.5/h': the count must be a non-negative number".to_string())
        );
        assert_eq!(
            parse_rate("inf/h"),
            Err("rate 'inf/h': the count must be a non-negative number".to_string())
        );
        // 1e308 per second is 3.6e311 per hour: beyond f64.
        assert_eq!(
            parse_rate("1e308/s"),
            Err("rate '1e308/s' is too large; give a finite count".to_string())
        );
        assert_eq!(parse_rate("1e300/s"), Ok(3.6e303));
    }

    #[test]
    fn a_holdout_cut_on_a_receipt_starts_the_second_part_there() {
        // Receipts at 0, 100, 200, 300, 400 ms, no warm-up: L = 400 ms, half held out:
        // the cut is at 200 ms exactly, a receipt: the first part is a_0..a_2, the second
        // a_2..a_4.
        let r = at(&[0, 100_000_000, 200_000_000, 300_000_000, 400_000_000]);
        let (a, b) = split(&r, 0, 0.5).unwrap();
        assert_eq!(a.recv, [Nanos(0), Nanos(100_000_000), Nanos(200_000_000)]);
        assert_eq!(b.recv, [Nanos(200_000_000), Nanos(300_000_000), Nanos(400_000_000)]);
        assert_eq!((a.seq, b.seq), (vec![1, 2, 3], vec![3, 4, 5]));
    }

    #[test]
    fn a_holdout_needs_two_evaluated_receipts_in_each_part() {
        // Warm-up 10 of receipts(13): a_10 = 1010, a_11 = 1100, a_12 = 1200 ms, L = 190 ms.
        // 60 % held out: the cut is at 1010 + 0.4·190 = 1086 ms, k = 11 = m - 2: the first
        // part evaluates a_10, a_11, the second (warm-up a_1..a_10) a_11, a_12.
        let r = receipts(13);
        let (a, b) = split(&r, 10, 0.6).unwrap();
        assert_eq!((a.len(), b.len()), (12, 12));
        assert_eq!(a.recv[11], Nanos(1_100_000_000));
        assert_eq!(b.recv[0], Nanos(100_000_000));
        assert_eq!(b.recv[10], Nanos(1_100_000_000));
        // 30 % held out: the cut at 1143 ms, k = 12 = m - 1, one receipt left: none.
        assert!(split(&r, 10, 0.3).is_none());
        // Fewer receipts than the warm-up and two.
        assert!(split(&receipts(11), 10, 0.5).is_none());
        assert!(split(&receipts(5), 10, 0.5).is_none());
        // The cut rounds onto a_w itself (timestamps near 2^60, where an f64 steps by
        // 256 ns): the first part would evaluate a_w alone.
        let base = 1i64 << 60;
        let times: Vec<i64> = (0..20).map(|i| base + i).collect();
        assert!(split(&at(&times), 10, 0.5).is_none());
        // Nothing held out is no holdout, even where rounding puts the cut before the
        // last receipt: 2^53 + 1 ..= 2^53 + 5 as f64 are 2^53, +2, +4, +4, +4, and the
        // cut a_0 + 1.0·L is 2^53 + 4.
        let times: Vec<i64> = (1..=5).map(|i| (1i64 << 53) + i).collect();
        assert!(split(&at(&times), 0, 0.0).is_none());
        assert!(split(&at(&times), 0, f64::NAN).is_none());
    }

    /// The timeout `fixed` is tuned to on receipts(3000), warm-up 10, at any rate with the
    /// default floor: 108 997 014 ns exactly (`the_accuracy_floor_keeps_a_permanent_suspicion_out`),
    /// shown as 108.998 ms; at the rate 0 it is the longest gap, 110 ms.
    fn tuned_fixed(range: (f64, f64), goal: &Goal) -> (Option<f64>, Status) {
        let opts = warmup_10();
        let t = tune(&receipts(3000), &Config::named("fixed").unwrap(), range, goal, &opts).unwrap();
        (t.value, t.status)
    }

    #[test]
    fn a_range_below_the_answer_is_doubled_up_to_it() {
        // 2 ms misses the floor: 4, 8, ..., 128 ms, which meets it; then the grid 64–128 ms.
        assert_eq!(
            tuned_fixed((1e6, 2e6), &Goal::rate(1e9)),
            (Some(108_998_000.0), Status::Found)
        );
        // A range at 0 starts from the knob's sweep step (10 ms): 10, 20, 40, 80, 160 ms.
        assert_eq!(
            tuned_fixed((0.0, 0.0), &Goal::rate(0.0)),
            (Some(110_000_000.0), Status::Found)
        );
        // 0.1 ms doubled ten times is 102.4 ms, still short of the 110 ms gaps at the rate 0.
        assert_eq!(
            tuned_fixed((1e5, 1e5), &Goal::rate(0.0)),
            (Some(102_400_000.0), Status::NotReached)
        );
    }

    #[test]
    fn a_range_above_the_answer_is_halved_down_to_it() {
        // 150 ms meets the floor, 75 ms does not: the grid 75–150 ms.
        assert_eq!(
            tuned_fixed((150e6, 2e8), &Goal::rate(1e9)),
            (Some(108_998_000.0), Status::Found)
        );
        // Every value meets a goal without a floor: 0.4 ms is halved to 0.2 ms and to the
        // resolution, 0.1 ms, and no further (half of it snaps back to 0.1 ms).
        let loose = Goal {
            max_mistakes_per_h: 1e9,
            min_accuracy: 0.0,
        };
        assert_eq!(tuned_fixed((4e5, 2e8), &loose), (Some(1e5), Status::RangeStart));
    }

    /// A knob whose values start above 0 (a detector defined outside the crate, here
    /// with margins of at least 50 ms) is halved no lower than its least value: from
    /// 200 ms to 100 ms and 50 ms, not to 25 ms.
    #[test]
    fn a_range_is_halved_within_the_knobs_values() {
        use crate::detector::fixed::Fixed;
        use crate::detector::registry::{Definition, Param, Range, register};
        use crate::detector::{EstimatorFamily, Tuned};
        static FLOORED: Definition = Definition {
            name: "tune-test-floored",
            summary: "fixed, with margins of at least 50 ms",
            source: "a test",
            params: &[],
            knob: Some(
                Param::duration("margin", 1e8, "time since the last receipt")
                    .in_range(Range::at_least(5e7))
                    .swept(5e7, 2e9, 1e7),
            ),
            knob_independent: true,
            needs_send_times: false,
            weight: 1,
            window: |_| 1,
            detector: |_, _, knob| Box::new(Tuned::new(Fixed::new(), knob)),
            family: |_, _, knobs| Box::new(EstimatorFamily::new(Fixed::new(), knobs)),
        };
        register(&FLOORED).unwrap();
        let loose = Goal {
            max_mistakes_per_h: 1e9,
            min_accuracy: 0.0,
        };
        let config = Config::named("tune-test-floored").unwrap();
        let t = tune(&receipts(3000), &config, (2e8, 4e8), &loose, &warmup_10()).unwrap();
        assert_eq!((t.value, t.status), (Some(5e7), Status::RangeStart));
    }

    #[test]
    fn a_grid_spans_its_range_in_equal_steps_on_multiples_of_the_resolution() {
        // 12.6 ms in 63 steps of 0.2 ms.
        let want: Vec<f64> = (0..64).map(|i| 1e6 + f64::from(i) * 2e5).collect();
        assert_eq!(grid(1e6, 13.6e6, 1e5), want);
        // Steps under the resolution are widened to it: 0.3 ms holds 4 values.
        assert_eq!(grid(1e5, 4e5, 1e5), [1e5, 2e5, 3e5, 4e5]);
        // 1 ms would be 63 steps of 15.9 µs: widened to 0.1 ms, 11 values.
        let tenths: Vec<f64> = (0..=10).map(|i| f64::from(i) * 1e5).collect();
        assert_eq!(grid(0.0, 1e6, 1e5), tenths);
        assert_eq!(grid(5e5, 5e5, 1e5), [5e5]);
    }

    #[test]
    fn the_feasible_values_start_after_the_last_infeasible_one() {
        assert_eq!(feasible_from(&[false, false, false, true]), 3);
        assert_eq!(feasible_from(&[true, false, true, true, true]), 2);
        assert_eq!(feasible_from(&[true, true]), 0);
        assert_eq!(feasible_from(&[true, false]), 2);
        assert_eq!(feasible_from(&[]), 0);
    }

    #[test]
    fn refining_by_grids_finds_the_least_feasible_multiple_of_the_resolution() {
        // fixed on receipts(3000) at any rate with the default floor: feasible from
        // 108 997 014 ns, so from 109.0 ms on multiples of 0.1 ms (108.9 ms is not).
        let r = receipts(3000);
        let opts = warmup_10();
        let fixed = Config::named("fixed").unwrap();
        let goal = Goal::rate(1e9);
        let judge = Judge::new(&r, &fixed, &goal, &opts).unwrap();
        assert_eq!(judge.refine(0.0, 2e8, 1e5).unwrap(), 109_000_000.0);
        assert_eq!(judge.refine(50e6, 2e8, 1e5).unwrap(), 109_000_000.0);
        assert_eq!(judge.refine(108e6, 115e6, 1e5).unwrap(), 109_000_000.0);
        // Two adjacent multiples: the upper one.
        assert_eq!(judge.refine(108.9e6, 109e6, 1e5).unwrap(), 109_000_000.0);
        // At 1 ms resolution: 109 ms.
        assert_eq!(judge.refine(0.0, 2e8, 1e6).unwrap(), 109_000_000.0);
        // At 10 µs: 109.0 ms is a multiple too; 108.99 ms is not feasible, 109.00 ms is.
        assert_eq!(judge.refine(0.0, 2e8, 1e4).unwrap(), 109_000_000.0);
        // At 1 µs: 108.998 ms.
        assert_eq!(judge.refine(1e8, 1.2e8, 1e3).unwrap(), 108_998_000.0);
        // A range whose values all miss the goal ends at its top.
        assert_eq!(judge.refine(0.0, 50e6, 1e5).unwrap(), 50e6);
        // One whose start already meets it, at its start.
        assert_eq!(judge.refine(150e6, 2e8, 1e5).unwrap(), 150e6);
        // 64 resolutions in one grid of 63 steps of 101 587 ns: 105.8 ms + 32 steps is
        // 109.05 ms, snapped to 109.1 ms, so 109.0 ms is not on the grid, and the
        // search takes one more grid (108.9, 109.0, 109.1 ms) to reach it.
        assert_eq!(judge.refine(105.8e6, 112.2e6, 1e5).unwrap(), 109_000_000.0);
    }

    #[test]
    fn a_value_outside_the_positive_numbers_is_shown_as_it_is() {
        assert_eq!(shown(0.0, Unit::Number), 0.0);
        assert_eq!(shown(-2.5, Unit::Number), -2.5);
        assert_eq!(shown(f64::INFINITY, Unit::Number), f64::INFINITY);
        assert!(shown(f64::NAN, Unit::Duration).is_nan());
        // Exactly on the precision shown: unchanged.
        assert_eq!(shown(5.276, Unit::Number), 5.276);
        assert_eq!(shown(0.25, Unit::Fraction), 0.25);
    }

    #[test]
    fn chosen_settings_are_replayed_on_the_other_trace() {
        // A line tuned on another trace (its metrics from there): timeout 108.998 ms replayed on
        // receipts(3000), warm-up 10: each of the 298 evaluated 110 ms gaps is a mistake
        // of 110 - 108.998 = 1.002 ms, 298.596 ms in all.
        let r = receipts(3000);
        let opts = warmup_10();
        let fixed = Config::named("fixed").unwrap();
        let other = crate::sweep::evaluate(&receipts(30), &fixed, &[108_998_000.0], &opts)
            .unwrap()
            .remove(0);
        let line = Line {
            tuned: Tuned {
                config: fixed,
                value: Some(108_998_000.0),
                metrics: other,
                status: Status::Found,
            },
            preset: Some("p"),
        };
        let out = replay_lines(&r, &[line.clone(), line], &opts).unwrap();
        assert_eq!(out.len(), 2);
        let m = &out[1].tuned.metrics;
        assert_eq!((m.mistakes, m.suspect_time), (298, Nanos(298_596_000)));
        assert_eq!(
            (out[1].tuned.value, out[1].tuned.status, out[1].preset),
            (Some(108_998_000.0), Status::Found, Some("p"))
        );
    }

    #[test]
    fn a_frontier_joins_the_lines_that_differ_in_its_one_parameter() {
        // Feasible at 900 per hour and P_A 0.75: two mistakes in 8 s (on both bounds);
        // three are not.
        let goal = Goal {
            max_mistakes_per_h: 900.0,
            min_accuracy: 0.75,
        };
        let line = |spec: &str, mistakes: u64, mean_ms: f64, status: Status, preset: Option<&'static str>| {
            let mut metrics = super::tests::two_mistakes_in_8_s();
            metrics.mistakes = mistakes;
            metrics.detection.mean_ns = mean_ms * 1e6;
            Line {
                tuned: Tuned {
                    config: super::tests::config(spec),
                    value: Some(1e8),
                    metrics,
                    status,
                },
                preset,
            }
        };
        let lines = [
            // 0: window 1, check 1 ms.
            line("chen:window=1,check=1ms", 2, 200.0, Status::Found, None),
            // 1: differs from 0 in both keys.
            line("chen:window=2,check=2ms", 3, 50.0, Status::Found, None),
            // 2: from 0 in the window only (joins 0), from 1 in the check only.
            line("chen:window=2,check=1ms", 2, 100.0, Status::NotReached, None),
            // 3: from 1 in the check only (joins 1).
            line("chen:window=2,check=3ms", 2, 300.0, Status::Found, None),
            // 4: from 0 in the check only: 0's frontier is over the window.
            line("chen:window=1,check=4ms", 2, 10.0, Status::Found, None),
            // 5: a preset one key from 0, and another detector: in no frontier.
            line("chen:window=3,check=1ms", 2, 1.0, Status::Found, Some("preset")),
            line("fixed:check=1ms", 2, 1.0, Status::Found, None),
        ];
        let f = frontiers(&lines, &goal);
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.detector, f.param.as_str(), f.lines.clone(), f.best))
            .collect();
        // 0's frontier: 2 is faster but not reached, so 0 is the best; 1's: 1 is faster
        // but exceeds the target, so 3.
        assert_eq!(
            got,
            [
                ("chen", "window", vec![0, 2], Some(0)),
                ("chen", "check", vec![1, 3], Some(3)),
            ]
        );
        // With every line feasible and found, the fastest of each.
        let all: Vec<Line> = lines
            .iter()
            .cloned()
            .map(|mut l| {
                l.tuned.metrics.mistakes = 2;
                l.tuned.status = Status::Found;
                l
            })
            .collect();
        let best: Vec<_> = frontiers(&all, &goal).iter().map(|f| f.best).collect();
        assert_eq!(best, [Some(2), Some(1)]);
    }

    fn target(spec: &str, range: Option<(f64, f64)>) -> Target {
        Target {
            spec: crate::detector::spec::parse(spec).unwrap().remove(0),
            range,
        }
    }

    #[test]
    fn only_akka_itself_with_a_range_is_tuned_as_pairs() {
        let out = with_default_pairs(vec![
            target("fixed", Some((0.0, 1e9))),
            target("akka-cluster", Some((1.0, 16.0))),
            target("akka", Some((1.0, 16.0))),
            target("akka", None),
        ]);
        let got: Vec<String> = out.iter().map(|t| t.spec.config.params()).collect();
        assert_eq!(got.len(), 1 + 1 + 11 + 1, "{got:?}");
        assert_eq!(out[0].spec.config.name(), "fixed");
        assert!(out[1].spec.config.preset().is_some());
        for (i, t) in out[2..13].iter().enumerate() {
            let pause = t.spec.config.get("pause");
            assert_eq!((pause, t.range), (i as f64 * 500e6, Some((1.0, 16.0))));
        }
        assert_eq!(out[13].range, None);
    }

    #[test]
    fn a_line_evaluated_at_a_presets_setting_is_named_by_the_preset() {
        // Heartbeats 1 s apart: akka-cluster's own interval.
        let times: Vec<i64> = (1..=400).map(|s| s * 1_000_000_000).collect();
        let r = at(&times);
        let opts = Options {
            warmup: 100,
            deadline: Nanos::from_secs(10),
        };
        let preset = target("akka-cluster", None);
        // akka itself at akka-cluster's settings, evaluated as it is.
        let mut plain = Config::named("akka").unwrap();
        for key in ["window", "min_std", "pause", "first_estimate"] {
            plain = plain.with_value(key, preset.spec.config.get(key)).unwrap();
        }
        let same = Target {
            spec: crate::detector::spec::DetectorSpec {
                config: plain,
                knob_values: preset.spec.knob_values.clone(),
            },
            range: None,
        };
        let tuned = target("akka", Some((1.0, 16.0)));
        let lines = tune_all(&r, &[preset, same, tuned], &Goal::rate(1e9), &opts).unwrap();
        let names: Vec<_> = lines.iter().map(|l| l.preset).collect();
        assert_eq!(names, [Some("akka-cluster"), Some("akka-cluster"), None]);
        assert_eq!(lines[1].tuned.value, Some(8.0));
    }
}

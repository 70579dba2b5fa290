//! Exact tuning of `akka` (evaluation.md §7, "Exact"): the least threshold, as an
//! `f64`, from which every threshold searched is feasible.
//!
//! akka's metrics change with its threshold only where some trust decision or some
//! comparison of a deadline with a receipt flips, so they are constant between critical
//! thresholds, and feasibility too. The search brackets the last change from infeasible
//! to feasible and narrows the bracket by bisection until its ends are neighbouring
//! `f64`s: each round evaluates [`PROBES`] thresholds spread evenly over the `f64`s
//! inside it, in one replay of an [`AkkaFamily`], where thresholds so close share one
//! history almost everywhere, and counts only what feasibility needs (mistakes and
//! suspect time, evaluation.md §3) where a threshold suspects. So each round costs about
//! one detector's replay, and a bracket of `2^48` floats takes five.
//!
//! A round's thresholds lie between two of an earlier round's, so until the first
//! receipt at which that round's thresholds did not all decide alike they share its one
//! history and its decisions: the round starts from that round's state there, its
//! counts before it taken from the gaps in which every threshold suspected.

use super::{AkkaFamily, AkkaParams, params};
use crate::detector::Config;
use crate::metrics::Metrics;
use crate::replay::{Options, ReplayError, evaluated_length};
use crate::sweep;
use crate::time::Nanos;
use crate::trace::Receipts;
use crate::tune::{Goal, MAX_DOUBLINGS, Status, Tuned};

/// Thresholds evaluated per bisection round.
pub const PROBES: usize = 1024;

/// Thresholds of the first round, over the searched range.
const GRID: usize = 64;

/// Mistakes and suspect time (evaluation.md §3) of `akka` with `params` at each
/// threshold, from one replay in which the thresholds share their histories.
pub fn accuracy(
    receipts: &Receipts,
    params: AkkaParams,
    thresholds: &[f64],
    opts: &Options,
) -> Result<Vec<(u64, Nanos)>, ReplayError> {
    Ok(replay(receipts, params, thresholds, opts, None)?.0)
}

/// Mistakes and suspect time of one threshold.
type Accuracy = (u64, Nanos);

/// A replay of thresholds that shared one history and its every decision up to receipt
/// `at`, stopped before it: any thresholds between two of them shared that history and
/// those decisions too, so their replay can start there (and only theirs: [`replay`]
/// starts afresh for thresholds outside `lo..=hi`).
#[derive(Clone, Debug)]
struct Prefix {
    /// The least and the greatest of the thresholds replayed.
    lo: f64,
    hi: f64,
    /// The first receipt at which the thresholds did not all decide alike (the length
    /// of the trace when they always did).
    at: usize,
    /// The family before receipt `at`.
    family: AkkaFamily,
    /// The evaluated gaps before `at` in which every threshold suspected, each with the
    /// moments and the last receipt the deadlines follow from ([`AkkaFamily::single`]).
    suspected: Vec<(usize, f64, f64, Nanos)>,
}

/// Per-threshold mistakes, suspect time and the last evaluated gap suspected in
/// (`usize::MAX`: none).
struct Counts {
    mistakes: Vec<u64>,
    suspect: Vec<i64>,
    suspected: Vec<usize>,
}

impl Counts {
    /// Counts threshold `i`'s deadline `tau` after the receipt that opens gap `g`
    /// (`start`..`end`): the gap is suspected when `tau < end`, a new mistake unless the
    /// suspicion goes on from the gap before (evaluation.md §3); `w` is the first
    /// evaluated gap.
    fn count(&mut self, i: usize, g: usize, w: usize, tau: Nanos, (start, end): (Nanos, Nanos)) {
        if tau < end {
            self.suspect[i] += (end - start.max(tau)).0;
            if tau > start || g == w || self.suspected[i] != g - 1 {
                self.mistakes[i] += 1;
            }
            self.suspected[i] = g;
        }
    }
}

/// [`accuracy`], from `from` when given and every threshold lies between two of those it
/// was replayed with (from the start otherwise), and the prefix of this replay in which
/// its thresholds shared one history and decided alike.
fn replay(
    receipts: &Receipts,
    params: AkkaParams,
    thresholds: &[f64],
    opts: &Options,
    from: Option<&Prefix>,
) -> Result<(Vec<Accuracy>, Option<Prefix>), ReplayError> {
    evaluated_length(receipts, opts.warmup)?;
    let k = thresholds.len();
    let w = opts.warmup;
    let a = &receipts.recv;
    let mut c = Counts {
        mistakes: vec![0; k],
        suspect: vec![0; k],
        suspected: vec![usize::MAX; k],
    };
    let (lo, hi) = thresholds
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &t| {
            (lo.min(t), hi.max(t))
        });
    let resumed = from
        .filter(|p| p.lo <= lo && hi <= p.hi)
        .and_then(|p| Some((p, p.family.with_thresholds(thresholds)?)));
    let (mut family, first, mut log) = match resumed {
        Some((p, family)) => {
            let roots: Vec<f64> = thresholds.iter().map(|&t| super::akka_root(t)).collect();
            for &(g, m, s, last) in &p.suspected {
                for (i, &r) in roots.iter().enumerate() {
                    let tau = super::deadline_at(m, s, r, last).unwrap_or(Nanos::MAX);
                    c.count(i, g, w, tau, (a[g], a[g + 1]));
                }
            }
            (family, p.at, Some(p.suspected.clone()))
        }
        None => (AkkaFamily::new(params, thresholds), 0, Some(Vec::new())),
    };
    let mut prefix = None;
    for j in first..receipts.len() {
        let hb = receipts.heartbeat(j);
        if log.is_some() && family.splits_at(hb.recv) {
            prefix = Some(Prefix {
                lo,
                hi,
                at: j,
                family: family.clone(),
                suspected: log.take().unwrap_or_default(),
            });
        }
        if j <= w {
            family.step(&hb, |_, _| {});
            continue;
        }
        // Arrival j ends gap g = j - 1 of every threshold whose deadline τ_g it did not
        // beat.
        let g = j - 1;
        let before = family.single();
        let mut late = false;
        family.step(&hb, |i, tau| {
            late = true;
            c.count(i, g, w, tau, (a[g], a[j]));
        });
        if let (Some(log), Some((m, s, last)), true) = (log.as_mut(), before, late) {
            log.push((g, m, s, last));
        }
    }
    if let Some(suspected) = log {
        prefix = Some(Prefix {
            lo,
            hi,
            at: receipts.len(),
            family,
            suspected,
        });
    }
    let counts = c.mistakes.into_iter().zip(c.suspect.into_iter().map(Nanos)).collect();
    Ok((counts, prefix))
}

/// [`accuracy`] of `akka` configured by `config`.
pub fn config_accuracy(
    receipts: &Receipts,
    config: &Config,
    thresholds: &[f64],
    opts: &Options,
) -> Result<Vec<(u64, Nanos)>, ReplayError> {
    accuracy(receipts, params(config), thresholds, opts)
}

/// `n` positive `f64`s strictly between `lo` and `hi` (`0 < lo < hi`), spread evenly over
/// the floats between them, ascending, without repeats.
fn between(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (a, b) = (lo.to_bits(), hi.to_bits());
    let gap = b - a;
    let mut out: Vec<f64> = (1..=n as u64)
        .map(|i| a + (u128::from(gap) * u128::from(i) / (n as u128 + 1)) as u64)
        .filter(|&x| x > a && x < b)
        .map(f64::from_bits)
        .collect();
    out.dedup();
    out
}

/// The smallest index from which every value of `ok` is true (`ok.len()` when the last
/// is false).
fn feasible_from(ok: &[bool]) -> usize {
    ok.iter().rposition(|&x| !x).map_or(0, |i| i + 1)
}

/// How `akka`'s tuning ended: the critical threshold and the status of the search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Critical {
    /// The least threshold, as an `f64`, from which every threshold searched is
    /// feasible (for [`Status::Found`]); the end of the searched range for
    /// [`Status::NotReached`], its start for [`Status::RangeStart`].
    pub value: f64,
    /// How the search ended.
    pub status: Status,
}

/// The critical threshold of `akka` with `params` over `range` for `goal`: the least
/// threshold, as an `f64`, from which every threshold searched is feasible. The searched
/// range is extended by doubling its end while that end is infeasible and halving its
/// start while that start is feasible, as for every detector.
pub fn critical(
    receipts: &Receipts,
    params: AkkaParams,
    range: (f64, f64),
    goal: &Goal,
    opts: &Options,
) -> Result<Critical, ReplayError> {
    Ok(search(receipts, params, range, goal, opts, 0)?.0)
}

/// Thresholds and their mistakes and suspect time.
type Counted = (Vec<f64>, Vec<(u64, Nanos)>);

/// [`critical`], and with `tries > 0` the first `tries` four-digit values at or above the
/// critical threshold ([`four_digits_up`]) with their mistakes and suspect time, when
/// the last round of the bisection could replay them with its own thresholds: every
/// float of its bracket is one of them, so the critical value is known to be among
/// them or the bracket's end, and those four-digit values are the same for each.
fn search(
    receipts: &Receipts,
    params: AkkaParams,
    range: (f64, f64),
    goal: &Goal,
    opts: &Options,
    tries: usize,
) -> Result<(Critical, Option<Counted>), ReplayError> {
    let l = evaluated_length(receipts, opts.warmup)?;
    let judge = |counts: Vec<(u64, Nanos)>| -> Vec<bool> {
        counts.into_iter().map(|(m, s)| goal.feasible_counts(m, s, l)).collect()
    };
    // The range's ends extended as every detector's are: doubled and halved on
    // multiples of the resolution, halved no further than to the resolution itself.
    let res = crate::tune::resolution(crate::detector::Unit::Number);
    let snap = |x: f64| (x / res).round() * res;
    let (lo, hi) = (snap(range.0).max(res), snap(range.1).max(snap(range.0)).max(res));
    let mut ends = vec![hi, lo];
    for _ in 0..MAX_DOUBLINGS {
        let (up, down) = (ends[ends.len() - 2], ends[ends.len() - 1]);
        ends.extend([snap(2.0 * up), snap(down / 2.0).max(res)]);
    }
    // First round: a grid over the range and its extensions, at once.
    let mut values: Vec<f64> = (0..GRID)
        .map(|i| lo + (hi - lo) * i as f64 / (GRID - 1) as f64)
        .collect();
    values.extend(ends.into_iter().filter(|x| x.is_finite()));
    values.sort_by(f64::total_cmp);
    values.dedup();
    // Each round's thresholds lie between two of the last round's, or of an earlier
    // one's: the prefix of that round in which all of them shared one history and
    // decided alike is theirs too, and their replay starts after it.
    let (counts, mut prefix) = replay(receipts, params, &values, opts, None)?;
    let ok = judge(counts);
    // The range is extended only where its ends ask for it.
    let top = values.partition_point(|&v| v <= hi);
    let first = values.partition_point(|&v| v < lo);
    let end = if ok[top - 1] {
        top
    } else {
        // Up to the first doubling that is feasible.
        (top..values.len()).find(|&i| ok[i]).map_or(values.len(), |i| i + 1)
    };
    let start = if ok[first] && (first..end).all(|i| ok[i]) {
        // Down to the last halving that is still feasible, with all above it, and the
        // infeasible halving just below it (if any), between which the search goes on.
        let low = (0..first).rev().take_while(|&i| ok[i]).last().unwrap_or(first);
        low.saturating_sub(1)
    } else {
        first
    };
    let (values, ok) = (&values[start..end], &ok[start..end]);
    let from = feasible_from(ok);
    if from == values.len() {
        let c = Critical {
            value: values[values.len() - 1],
            status: Status::NotReached,
        };
        return Ok((c, None));
    }
    if from == 0 {
        let c = Critical {
            value: values[0],
            status: Status::RangeStart,
        };
        return Ok((c, None));
    }
    let (mut bad, mut good) = (values[from - 1], values[from]);
    let mut shown: Option<Counted> = None;
    loop {
        let probes = between(bad, good, PROBES);
        if probes.is_empty() {
            let c = Critical {
                value: good,
                status: Status::Found,
            };
            return Ok((c, shown));
        }
        let last = probes.len() as u64 + 1 == good.to_bits() - bad.to_bits();
        let extra = match probes.first() {
            Some(&first) if last && tries > 0 => {
                let up = four_digits_up(first, tries);
                (up == four_digits_up(good, tries)).then_some(up)
            }
            _ => None,
        };
        let mut all = probes.clone();
        all.extend(extra.iter().flatten());
        // The four-digit values lie above the bracket: a round with them starts afresh.
        let start = if extra.is_none() { prefix.as_ref() } else { None };
        let (mut counts, next) = replay(receipts, params, &all, opts, start)?;
        shown = extra.map(|up| (up, counts.split_off(probes.len())));
        let ok = judge(counts);
        let from = feasible_from(&ok);
        // The next bracket lies between two of this round's probes: its replay can start
        // after their shared prefix (when it does not, the last one still holds).
        if from > 0 && from < probes.len() {
            prefix = next;
        }
        if from < probes.len() {
            good = probes[from];
        }
        if from > 0 {
            bad = probes[from - 1];
        }
    }
}

/// Decimal values of four significant digits at or above `x > 0`, ascending: the first
/// is `x` rounded up to four significant digits, each next one a unit of the fourth
/// digit above.
fn four_digits_up(x: f64, count: usize) -> Vec<f64> {
    let text = format!("{x:.3e}");
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let mut digits: i64 = mantissa.replace('.', "").parse().unwrap_or(1000);
    let mut exp: i32 = exp.parse().unwrap_or(0);
    let value = |d: i64, e: i32| format!("{d}e{}", e - 3).parse::<f64>().unwrap_or(f64::INFINITY);
    if value(digits, exp) < x {
        digits += 1;
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if digits >= 10_000 {
            digits /= 10;
            exp += 1;
        }
        out.push(value(digits, exp));
        digits += 1;
    }
    out
}

/// How many four-digit values above the critical threshold are tried for the printed
/// setting.
const SHOWN_TRIES: usize = 16;

/// Tunes `akka` (`config`) over `range` for `goal` ([`critical`]). The setting reported
/// is the critical threshold rounded up to four significant digits, the precision shown
/// (evaluation.md §7), so that the printed value itself is feasible and re-running it
/// reproduces the row: the first feasible one of that value and the next few four-digit
/// values above it, or the critical threshold itself when none of them is (replayed
/// with the last round of the bisection where that round decides them). The metrics
/// are those of a replay at the value reported.
pub fn tune(
    receipts: &Receipts,
    config: &Config,
    range: (f64, f64),
    goal: &Goal,
    opts: &Options,
) -> Result<Tuned, ReplayError> {
    let p = params(config);
    let (c, known) = search(receipts, p, range, goal, opts, SHOWN_TRIES)?;
    let mut value = c.value;
    if c.status == Status::Found {
        let l = evaluated_length(receipts, opts.warmup)?;
        let up = four_digits_up(c.value, SHOWN_TRIES);
        let (shown, counts) = match known {
            Some((shown, counts)) if shown == up => (shown, counts),
            _ => {
                let counts = accuracy(receipts, p, &up, opts)?;
                (up, counts)
            }
        };
        if let Some(i) = counts.iter().position(|&(m, s)| goal.feasible_counts(m, s, l)) {
            value = shown[i];
        }
    }
    let metrics: Metrics = sweep::evaluate(receipts, config, &[value], opts)?.remove(0);
    Ok(Tuned {
        config: config.clone(),
        value: Some(value),
        metrics,
        status: c.status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Detector;
    use crate::detector::akka::Akka;
    use crate::replay::replay_detector;
    use crate::trace::TraceBuilder;

    /// 100 ms heartbeats with a late one every 37, and a longer stall every 211.
    fn receipts(n: u64) -> Receipts {
        let mut b = TraceBuilder::new(false);
        let mut t = 0i64;
        for i in 1..=n {
            t += 100_000_000;
            let late = match (i % 37, i % 211) {
                (_, 0) => 900_000_000,
                (0, _) => 60_000_000 + (i as i64 % 5) * 7_000_000,
                _ => (i as i64 * 7919) % 9_000_000,
            };
            b.push(i, None, Some(Nanos(t + late))).unwrap();
        }
        b.finish(None).unwrap().accepted()
    }

    const OPTS: Options = Options {
        warmup: 50,
        deadline: Nanos::SECOND,
    };

    fn config(spec: &str) -> Config {
        crate::detector::spec::parse(spec).unwrap().remove(0).config
    }

    /// Brute force: one Akka per threshold.
    fn separate(r: &Receipts, c: &Config, t: f64, opts: &Options) -> Metrics {
        let mut d: Box<dyn Detector> = Box::new(Akka::new(params(c), t));
        replay_detector(r, &mut d, opts).unwrap()
    }

    /// [`accuracy`] at `ts`, asserted equal to one detector's replay per threshold.
    fn counted_as_separately(r: &Receipts, c: &Config, ts: &[f64], opts: &Options) -> Vec<Accuracy> {
        let got = accuracy(r, params(c), ts, opts).unwrap();
        for (&t, &(mistakes, suspect)) in ts.iter().zip(&got) {
            let m = separate(r, c, t, opts);
            assert_eq!((mistakes, suspect), (m.mistakes, m.suspect_time), "threshold {t}");
        }
        got
    }

    #[test]
    fn accuracy_counts_as_the_engine() {
        let r = receipts(3000);
        let opts = OPTS;
        let c = config("akka:window=50,pause=0s,min_std=5ms,first_estimate=100ms");
        // 0 (root -∞): every deadline at its receipt, one suspicion that never ends.
        let ts = [0.2, 0.5, 1.0, 2.0, 3.0, 3.0, 5.0, 8.0, 30.0, 1e-6, 0.0, 1e-3];
        let got = counted_as_separately(&r, &c, &ts, &opts);
        let splits = got.iter().filter(|&&(mistakes, _)| mistakes > 0).count();
        assert!(splits >= 3, "the trace should make some thresholds err");
    }

    #[test]
    fn a_deadline_before_its_receipt_after_a_trusted_gap_is_a_new_mistake() {
        // A window of two intervals, pause 50 ms, threshold 1e-6 (y ≈ -4.4): heartbeats
        // 100 ms apart come after their deadline (each gap a mistake, nothing recorded).
        // Heartbeat 30 comes 10 ms after the one before, in time, and is recorded: the
        // history {100, 10} has mean 55 ms and deviation 45 ms, so the next deadline is
        // 55 + 50 - 4.4·45 < 0 ms after receipt 30, before it. The gap receipt 30 opens
        // is suspected from its start although the gap before ended in trust: a new
        // mistake.
        let mut b = TraceBuilder::new(false);
        let mut t = 0i64;
        for i in 1..=60u64 {
            t += if i == 30 { 10_000_000 } else { 100_000_000 };
            b.push(i, None, Some(Nanos(t - 100_000_000))).unwrap();
        }
        let r = b.finish(None).unwrap().accepted();
        let opts = Options {
            warmup: 5,
            deadline: Nanos::SECOND,
        };
        let c = config("akka:window=2,pause=50ms,min_std=1ms,first_estimate=100ms");
        let ts = [1e-6, 0.5, 3.0];
        let got = counted_as_separately(&r, &c, &ts, &opts);
        // The case itself, in one detector's deadlines: some deadline at or before its
        // receipt follows a gap that ended in trust.
        let mut d = Akka::new(params(&c), ts[0]);
        let tau: Vec<Nanos> = crate::replay::deadlines(&r, &mut d);
        let a = &r.recv;
        let cases = (opts.warmup + 1..r.len() - 1)
            .filter(|&g| tau[g] <= a[g] && tau[g - 1] > a[g])
            .count();
        assert_eq!(cases, 1, "{got:?}");
    }

    #[test]
    fn the_tuned_threshold_is_the_least_feasible_float() {
        let r = receipts(4000);
        let opts = OPTS;
        for spec in [
            "akka:window=50,pause=0s,min_std=5ms,first_estimate=100ms",
            "akka:window=200,pause=20ms,min_std=2ms,first_estimate=100ms",
        ] {
            let c = config(spec);
            let l = r.recv[r.len() - 1] - r.recv[opts.warmup];
            // Mistakes allowed: 40 per hour on a 400 s span is 4.4.
            let goal = Goal::rate(40.0);
            let crit = critical(&r, params(&c), (0.5, 16.0), &goal, &opts).unwrap();
            assert_eq!(crit.status, Status::Found, "{spec}");
            // The four-digit values the last round replayed with its thresholds, and
            // their counts, are those of a replay of them alone.
            let (again, known) = search(&r, params(&c), (0.5, 16.0), &goal, &opts, SHOWN_TRIES).unwrap();
            assert_eq!(again, crit, "{spec}");
            let (up, counts) = known.expect("the last round decides the four-digit values");
            assert_eq!(up, four_digits_up(crit.value, SHOWN_TRIES), "{spec}");
            assert_eq!(counts, accuracy(&r, params(&c), &up, &opts).unwrap(), "{spec}");
            let v = crit.value;
            // The critical value is feasible; the float just below is not.
            let m = separate(&r, &c, v, &opts);
            assert!(goal.feasible(&m), "{spec}: {v}");
            let below = f64::from_bits(v.to_bits() - 1);
            assert!(!goal.feasible(&separate(&r, &c, below, &opts)), "{spec}: {below}");
            // Brute force on a grid of 0.01 over the range: every grid value at or
            // above the tuned one is feasible, and the grid value just below it is not.
            let grid: Vec<f64> = (50..=1600).map(|i| f64::from(i) / 100.0).collect();
            let above = grid.partition_point(|&g| g < v);
            assert!(above > 0, "{spec}: {v} at the start of the range");
            for &g in &grid[above..] {
                assert!(goal.feasible(&separate(&r, &c, g, &opts)), "{spec}: {g} above {v}");
            }
            assert!(!goal.feasible(&separate(&r, &c, grid[above - 1], &opts)), "{spec}");
            assert!(goal.allowed_mistakes(&m) > 3.0 && l.0 > 0);
            // The setting reported: the critical value rounded up to four significant
            // digits, feasible, and its row is the one a replay of it gives.
            let t = tune(&r, &c, (0.5, 16.0), &goal, &opts).unwrap();
            let shown = t.value.unwrap();
            assert_eq!(shown, four_digits_up(v, 1)[0], "{spec}");
            assert!(shown >= v && shown < v * 1.001, "{spec}: {shown} for {v}");
            assert_eq!(format!("{shown}").trim_start_matches('0').replace('.', "").len(), 4);
            assert_eq!(separate(&r, &c, shown, &opts), t.metrics, "{spec}");
            assert!(goal.feasible(&t.metrics));
        }
    }

    /// Where no threshold is feasible, the search ends at the range's end doubled ten
    /// times (20 to 20480); where every one is, at its start halved ten times, on
    /// multiples of the resolution 0.001 and no lower (0.25, 0.125, 0.063, 0.032,
    /// 0.016, 0.008, 0.004, 0.002, 0.001, 0.001).
    #[test]
    fn a_range_is_doubled_up_and_halved_down_ten_times() {
        let opts = Options {
            warmup: 5,
            deadline: Nanos::SECOND,
        };
        let beats = |stall: i64| {
            let mut b = TraceBuilder::new(false);
            for i in 1..=200u64 {
                let t = i as i64 * 100_000_000 + if i > 100 { stall } else { 0 };
                b.push(i, None, Some(Nanos(t))).unwrap();
            }
            b.finish(None).unwrap().accepted()
        };
        // A 10 s stall: a mistake at every threshold up to 20480 (with pause 0 the
        // deadline is under a second after a receipt), none allowed.
        let strict = config("akka:pause=0s,min_std=5ms,first_estimate=100ms");
        let none = critical(
            &beats(10_000_000_000),
            params(&strict),
            (0.5, 20.0),
            &Goal::rate(0.0),
            &opts,
        )
        .unwrap();
        assert_eq!(
            none,
            Critical {
                value: 20480.0,
                status: Status::NotReached
            }
        );
        // No stall and a pause of 3 s: no mistake at any threshold.
        let lenient = config("akka:first_estimate=100ms");
        let all = critical(&beats(0), params(&lenient), (0.5, 20.0), &Goal::rate(1.0), &opts).unwrap();
        assert_eq!(
            all,
            Critical {
                value: 0.001,
                status: Status::RangeStart
            }
        );
    }

    /// A replay started after the prefix its thresholds shared with those of an earlier
    /// replay counts as a replay from the start, for thresholds between any two of them.
    #[test]
    fn a_replay_resumed_after_the_shared_prefix_counts_as_from_the_start() {
        let r = receipts(3000);
        let c = config("akka:window=50,pause=0s,min_std=5ms,first_estimate=100ms");
        let (p, opts) = (params(&c), OPTS);
        let mut resumed = 0;
        for (lo, hi) in [(0.5, 16.0), (2.0, 3.0), (5.0, 9.0), (12.0, 60.0)] {
            let outer = between(lo, hi, 40);
            let (_, prefix) = replay(&r, p, &outer, &opts, None).unwrap();
            let prefix = prefix.unwrap();
            for pair in outer.windows(2).step_by(7) {
                let inner = between(pair[0], pair[1], 30);
                let (got, again) = replay(&r, p, &inner, &opts, Some(&prefix)).unwrap();
                assert_eq!(got, accuracy(&r, p, &inner, &opts).unwrap(), "{pair:?}");
                let again = again.unwrap();
                assert!(again.at >= prefix.at && again.suspected.len() >= prefix.suspected.len());
                resumed += usize::from(prefix.at > opts.warmup + 1 && !prefix.suspected.is_empty());
            }
        }
        assert!(resumed >= 3, "{resumed} replays resumed after suspicions");
    }

    /// A prefix offered for thresholds outside those it was replayed with is not taken:
    /// below them or above them, or straddling either end, the replay starts afresh.
    #[test]
    fn a_prefix_is_not_taken_outside_its_thresholds() {
        let r = receipts(3000);
        let c = config("akka:window=50,pause=0s,min_std=5ms,first_estimate=100ms");
        let (p, opts) = (params(&c), OPTS);
        let outer = between(40.0, 60.0, 40);
        let (_, prefix) = replay(&r, p, &outer, &opts, None).unwrap();
        let prefix = prefix.unwrap();
        assert!(prefix.at > opts.warmup + 1, "the prefix ends at {}", prefix.at);
        let (lo, hi) = (outer[0], outer[outer.len() - 1]);
        let below = f64::from_bits(lo.to_bits() - 1);
        let above = f64::from_bits(hi.to_bits() + 1);
        for ts in [
            vec![0.5, 1.0, 2.0],
            vec![below],
            vec![below, lo],
            vec![hi, above],
            vec![above, 40.0],
        ] {
            let (got, _) = replay(&r, p, &ts, &opts, Some(&prefix)).unwrap();
            assert_eq!(got, accuracy(&r, p, &ts, &opts).unwrap(), "{ts:?}");
        }
        // At its ends it is taken, and counts as from the start.
        let (got, again) = replay(&r, p, &[lo, hi], &opts, Some(&prefix)).unwrap();
        assert_eq!(got, accuracy(&r, p, &[lo, hi], &opts).unwrap());
        assert!(again.unwrap().at >= prefix.at);
        // Far below them, the thresholds would not count as from the start if it were.
        let far = [0.5, 1.0, 2.0];
        let resumed_anyway = Prefix {
            lo: 0.0,
            hi: f64::INFINITY,
            ..prefix.clone()
        };
        let (wrong, _) = replay(&r, p, &far, &opts, Some(&resumed_anyway)).unwrap();
        assert_ne!(wrong, accuracy(&r, p, &far, &opts).unwrap());
    }

    #[test]
    fn four_digits_round_up() {
        assert_eq!(four_digits_up(50.569579025, 3), [50.57, 50.58, 50.59]);
        assert_eq!(four_digits_up(8.008, 2), [8.008, 8.009]);
        assert_eq!(four_digits_up(8.0080000001, 1), [8.009]);
        assert_eq!(four_digits_up(9.9991, 3), [10.0, 10.01, 10.02]);
        assert_eq!(four_digits_up(0.012344, 1), [0.01235]);
        assert_eq!(four_digits_up(1234.5, 1), [1235.0]);
    }

    #[test]
    fn floats_between_are_spread_and_strictly_inside() {
        let v = between(1.0, 2.0, 3);
        assert_eq!(v, [1.25, 1.5, 1.75]);
        let next = f64::from_bits(1.0f64.to_bits() + 1);
        assert!(between(1.0, next, 8).is_empty());
        let two = f64::from_bits(1.0f64.to_bits() + 3);
        assert_eq!(between(1.0, two, 8).len(), 2);
        assert_eq!(feasible_from(&[false, true, false, true, true]), 3);
        assert_eq!(feasible_from(&[true, true]), 0);
        assert_eq!(feasible_from(&[true, false]), 2);
    }
}

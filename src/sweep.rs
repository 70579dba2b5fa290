//! Parameter sweeps: grid expansion, parallel evaluation with rayon, deterministic order.
//!
//! A sweep evaluates every (trace, detector spec, knob value) of a grid. The grid is cut
//! into **cells**: one trace, one spec and a chunk of its knob values, evaluated by one
//! replay of the detector's [`Family`](crate::detector::Family). Cells run in parallel;
//! their rows are put back in grid order, so the output does not depend on the number of
//! threads.
//!
//! **Shards.** `--shard I/N` keeps the grid's *shard cells* whose stable hash falls in
//! slice `I`. A shard cell is one trace, one spec and one block of [`SHARD_BLOCK`]
//! consecutive knob values of that spec (the last block may be shorter). Its hash is the
//! 64-bit FNV-1a of the canonical string
//!
//! ```text
//! trace=<SHA-256 of the trace>;detector=<name>;params=<params>;knob=<name>;block=<b>;values=<v0>..<vlast>
//! ```
//!
//! (the trace's [`fingerprint`], the spec's name and fixed parameters, the block's index
//! `b` within the spec and its first and last knob values as the hexadecimal bits of
//! their `f64`), and the cell belongs to shard `hash mod N + 1`. So a cell's shard
//! depends on what it evaluates, never on the order the traces or specs were given in,
//! the number of threads or the machine; a shard's rows keep grid order, and the grid
//! rows each shard holds ([`Plan::held`]) let `merge` put them back in the order of a
//! single run.

use std::ops::Range;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::detector::{Config, DetectorSpec, Form, registry};
use crate::metrics::Metrics;
use crate::replay::{self, Options, ReplayError};
use crate::results::Row;
use crate::trace::Receipts;

/// Most knob values per cell: one replay of a family serves this many values, and the
/// replay's own cost (the detector's updates, twice) is paid once per cell. The grid's
/// knob values are spread over at least as many cells as threads, in cells of equal
/// size per range, of at least [`MIN_CHUNK`] values.
const CHUNK: usize = 256;

/// Fewest knob values per cell, unless a range has fewer.
const MIN_CHUNK: usize = 32;

/// Most knob values per cell for a timeout-style family, whose replay costs about the
/// same for one knob value or thousands.
const SHIFTED_CHUNK: usize = 4096;

/// Knob values per shard cell: the unit `--shard` partitions by its stable hash.
pub const SHARD_BLOCK: usize = 256;

/// The largest grid evaluated without `--force`, in rows.
pub const MAX_ROWS: usize = 50_000;

/// The largest amount of work (rows × evaluated heartbeats) done without `--force`.
pub const MAX_WORK: f64 = 2e11;

/// One trace of a sweep.
#[derive(Clone, Debug)]
pub struct SweepTrace {
    /// Its name (the `trace` column when a sweep covers several traces).
    pub name: String,
    /// Its accepted receipts.
    pub receipts: Receipts,
}

/// A slice of the grid: `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, from 1.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("shard '{s}': write I/N with 1 <= I <= N, e.g. 3/8");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Why a sweep cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A trace cannot be evaluated.
    #[error("trace {trace}: {source}")]
    Replay {
        /// The trace's name.
        trace: String,
        /// Why.
        source: ReplayError,
    },
    /// The warm-up is shorter than a window.
    #[error(
        "--warmup {warmup} is less than the largest window in the comparison ({window}, {detector}); every detector must be judged on the same evaluated interval: raise --warmup or lower the window"
    )]
    WarmupBelowWindow {
        /// The warm-up.
        warmup: usize,
        /// The largest window.
        window: usize,
        /// Whose window.
        detector: String,
    },
    /// The grid is too large.
    #[error(
        "the grid has {rows} rows over {heartbeats} heartbeats (limit {MAX_ROWS} rows and {MAX_WORK:e} row-heartbeats); narrow the ranges, use --shard, or pass --force"
    )]
    TooLarge {
        /// Rows in the grid.
        rows: usize,
        /// Largest evaluated trace.
        heartbeats: usize,
    },
    /// Nothing to do.
    #[error("the grid is empty: give at least one trace and one detector")]
    Empty,
}

/// The warm-up for a comparison: the user's, or the default raised to the largest window.
pub fn warmup_for(specs: &[DetectorSpec], requested: Option<usize>) -> Result<usize, SweepError> {
    let widest = specs.iter().max_by_key(|s| s.config.window());
    let window = widest.map_or(0, |s| s.config.window());
    match requested {
        Some(w) if w < window => Err(SweepError::WarmupBelowWindow {
            warmup: w,
            window,
            detector: widest.map(|s| s.config.name().to_string()).unwrap_or_default(),
        }),
        Some(w) => Ok(w),
        None => Ok(replay::DEFAULT_WARMUP.max(window)),
    }
}

/// A unit of parallel work: one trace, one spec, a chunk of its knob values.
#[derive(Clone, Debug)]
struct Cell {
    trace: usize,
    spec: usize,
    knobs: Range<usize>,
    /// Estimated work, to start the longest cells first.
    cost: usize,
}

/// A planned sweep: the grid, cut into cells.
#[derive(Debug)]
pub struct Plan<'a> {
    traces: &'a [SweepTrace],
    specs: &'a [DetectorSpec],
    opts: Options,
    cells: Vec<Cell>,
    rows: usize,
    total: usize,
    held: Vec<[usize; 2]>,
    fingerprints: Vec<String>,
}

/// The SHA-256 of a trace, hex: its name, interval and every accepted receipt (sequence
/// number, receipt time and send time when known). Shards hash cells with it and
/// `merge` checks that shards saw the same traces.
pub fn fingerprint(t: &SweepTrace) -> String {
    use sha2::{Digest, Sha256};
    let r = &t.receipts;
    let mut h = Sha256::new();
    h.update(t.name.as_bytes());
    h.update(r.interval.0.to_le_bytes());
    for (j, (seq, recv)) in r.seq.iter().zip(&r.recv).enumerate() {
        h.update(seq.to_le_bytes());
        h.update(recv.0.to_le_bytes());
        if let Some(send) = &r.send {
            h.update(send[j].0.to_le_bytes());
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The 64-bit FNV-1a hash of `bytes`: fixed by its definition, the same on every machine
/// and in every run (unlike the standard library's randomly seeded hasher).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The shard (1-based, of `count`) of block `block` of `spec`'s knob values on the trace
/// whose [`fingerprint`] is `trace`: see the module documentation.
pub fn shard_of(trace: &str, spec: &DetectorSpec, block: usize, count: usize) -> usize {
    let values = &spec.knob_values[block * SHARD_BLOCK..((block + 1) * SHARD_BLOCK).min(spec.knob_values.len())];
    let bits = |v: Option<&f64>| v.map_or_else(String::new, |v| format!("{:016x}", v.to_bits()));
    let canonical = format!(
        "trace={trace};detector={};params={};knob={};block={block};values={}..{}",
        spec.config.name(),
        spec.config.params(),
        spec.config.knob().map_or("", |k| k.name),
        bits(values.first()),
        bits(values.last()),
    );
    (fnv1a(canonical.as_bytes()) % count as u64) as usize + 1
}

impl<'a> Plan<'a> {
    /// Plans the sweep of `specs` over `traces`, checking every trace and the grid size
    /// before any work starts.
    pub fn new(
        traces: &'a [SweepTrace],
        specs: &'a [DetectorSpec],
        opts: Options,
        shard: Option<Shard>,
        force: bool,
    ) -> Result<Plan<'a>, SweepError> {
        if traces.is_empty() || specs.is_empty() {
            return Err(SweepError::Empty);
        }
        let mut longest = 0;
        for t in traces {
            replay::evaluated_length(&t.receipts, opts.warmup).map_err(|source| SweepError::Replay {
                trace: t.name.clone(),
                source,
            })?;
            longest = longest.max(t.receipts.len() - opts.warmup);
            for s in specs {
                check_runs(&s.config, &t.receipts, &t.name).map_err(|source| SweepError::Replay {
                    trace: t.name.clone(),
                    source,
                })?;
            }
        }
        let per_trace: usize = specs.iter().map(|s| s.knob_values.len()).sum();
        let total = per_trace * traces.len();
        if !force && (total > MAX_ROWS || total as f64 * longest as f64 > MAX_WORK) {
            return Err(SweepError::TooLarge {
                rows: total,
                heartbeats: longest,
            });
        }
        let fingerprints: Vec<String> = match shard {
            Some(_) => traces.iter().map(fingerprint).collect(),
            None => Vec::new(),
        };
        // Timeout-style families cost about the same for any number of values.
        let interval = traces[0].receipts.interval;
        let shifted: Vec<bool> = specs
            .iter()
            .map(|s| {
                let one = &s.knob_values[..s.knob_values.len().min(1)];
                matches!(s.config.family(interval, one).form(), Form::Shifted { .. })
            })
            .collect();
        let general: usize = specs
            .iter()
            .zip(&shifted)
            .filter(|(_, shifted)| !**shifted)
            .map(|(s, _)| s.knob_values.len() * traces.len())
            .sum();
        let chunk = general
            .div_ceil(rayon::current_num_threads().max(1))
            .clamp(MIN_CHUNK, CHUNK);
        let mut cells = Vec::new();
        let mut held: Vec<[usize; 2]> = Vec::new();
        let mut row = 0;
        for ti in 0..traces.len() {
            for (si, s) in specs.iter().enumerate() {
                let n = s.knob_values.len();
                // The runs of this spec's knob values that the shard holds.
                let mut runs: Vec<Range<usize>> = Vec::new();
                match shard {
                    None => runs.push(0..n),
                    Some(sh) => {
                        for b in 0..n.div_ceil(SHARD_BLOCK) {
                            let trace = fingerprints.get(ti).map_or("", String::as_str);
                            if shard_of(trace, s, b, sh.count) != sh.index {
                                continue;
                            }
                            let block = b * SHARD_BLOCK..((b + 1) * SHARD_BLOCK).min(n);
                            match runs.last_mut() {
                                Some(last) if last.end == block.start => last.end = block.end,
                                _ => runs.push(block),
                            }
                        }
                    }
                }
                let most = if shifted[si] { SHIFTED_CHUNK } else { chunk };
                for run in runs {
                    let (lo, hi) = (run.start, run.end);
                    match held.last_mut() {
                        Some([first, count]) if *first + *count == row + lo => *count += hi - lo,
                        _ => held.push([row + lo, hi - lo]),
                    }
                    let size = (hi - lo).div_ceil((hi - lo).div_ceil(most).max(1)).max(1);
                    let mut k = lo;
                    while k < hi {
                        let end = (k + size).min(hi);
                        cells.push(Cell {
                            trace: ti,
                            spec: si,
                            knobs: k..end,
                            cost: if shifted[si] {
                                1
                            } else {
                                (1 + end - k) * weight(&s.config)
                            },
                        });
                        k = end;
                    }
                }
                row += n;
            }
        }
        Ok(Plan {
            traces,
            specs,
            opts,
            cells,
            rows: held.iter().map(|r| r[1]).sum(),
            total,
            held,
            fingerprints,
        })
    }

    /// Each trace's [`fingerprint`], in the order given, when the plan is a shard; empty
    /// otherwise.
    pub fn fingerprints(&self) -> &[String] {
        &self.fingerprints
    }

    /// Rows in the whole grid, over all shards.
    pub fn total_rows(&self) -> usize {
        self.total
    }

    /// The grid rows this plan evaluates, as `[first, count]` runs in grid order: the
    /// whole grid without a shard.
    pub fn held(&self) -> &[[usize; 2]] {
        &self.held
    }

    /// Number of cells (units of parallel work).
    pub fn cells(&self) -> usize {
        self.cells.len()
    }

    /// Number of rows the sweep will produce.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Runs the sweep on the current rayon pool; `done` is called after each cell.
    /// Rows come in grid order whatever the number of threads.
    ///
    /// Each thread takes the next cell from a list sorted by estimated cost, longest
    /// first, so that the threads finish together.
    pub fn run(&self, done: &(dyn Fn() + Sync)) -> Vec<Row> {
        let named = self.traces.len() > 1;
        let mut order: Vec<usize> = (0..self.cells.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.cells[i].cost));
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Vec<Row>>>> = Mutex::new(vec![None; self.cells.len()]);
        let threads = rayon::current_num_threads().min(self.cells.len()).max(1);
        rayon::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|_| {
                    while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let c = &self.cells[i];
                        let t = &self.traces[c.trace];
                        let spec = &self.specs[c.spec];
                        let knobs = &spec.knob_values[c.knobs.clone()];
                        let metrics = evaluate(&t.receipts, &spec.config, knobs, &self.opts)
                            .expect("traces are checked when the sweep is planned");
                        let rows = knobs
                            .iter()
                            .zip(&metrics)
                            .map(|(&k, m)| row(named.then_some(t.name.as_str()), &spec.config, k, m))
                            .collect();
                        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(rows);
                        done();
                    }
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .flat_map(|rows| rows.expect("every cell is evaluated"))
            .collect()
    }
}

/// The relative cost of a knob value of `config` in a replay, for scheduling only:
/// `satzger` reads order statistics of its window, `akka` replays one detector per value.
fn weight(config: &Config) -> usize {
    config.weight()
}

/// The metrics of `config` at each of `knobs` on `receipts`, from one replay.
pub fn evaluate(
    receipts: &Receipts,
    config: &Config,
    knobs: &[f64],
    opts: &Options,
) -> Result<Vec<Metrics>, ReplayError> {
    check_runs(config, receipts, "the trace")?;
    replay::replay_values(receipts, &|| config.family(receipts.interval, knobs), opts)
}

/// Whether `config` can be evaluated on `receipts`: `nfd-s` needs send times, and a
/// preset a trace whose nominal interval is its heartbeat.
pub fn runs_on(config: &Config, receipts: &crate::trace::Receipts) -> bool {
    check_runs(config, receipts, "").is_ok()
}

/// Why `config` cannot be evaluated on `receipts`, the trace named `trace` in the
/// message (a path gives the exact `fdbench resample` command to run).
pub fn check_runs(config: &Config, receipts: &crate::trace::Receipts, trace: &str) -> Result<(), ReplayError> {
    if config.needs_send_times() && receipts.send.is_none() {
        return Err(ReplayError::NoSendTimes(config.name()));
    }
    if let Some(p) = config.preset() {
        p.check_interval(receipts.interval, trace)?;
    }
    Ok(())
}

/// The results row of `config` at knob value `knob` (internal units): [`Row::new`].
pub fn row(trace: Option<&str>, config: &Config, knob: f64, m: &Metrics) -> Row {
    Row::new(trace, config, knob, m)
}

/// Every detector's spec name (from the detector table), without the presets.
pub fn detector_names() -> impl Iterator<Item = &'static str> {
    registry::detectors().into_iter().map(|d| d.name)
}

/// The production presets' spec names (`akka-cluster`, `cassandra`).
pub fn preset_names() -> impl Iterator<Item = &'static str> {
    registry::presets().into_iter().map(|p| p.name)
}

/// The default grid: every detector with default parameters over its default knob
/// range. The presets are not separate rows: their settings lie on the `akka` and
/// `exp-phi` ranges, and [`preset_of`] finds them there.
pub fn default_grid() -> Vec<DetectorSpec> {
    let mut out = Vec::new();
    for name in detector_names() {
        let Ok(specs) = crate::detector::spec::parse(name) else {
            continue;
        };
        for mut s in specs {
            if let Some(k) = s.config.knob() {
                s.knob_values = k.sweep_values();
            }
            out.push(s);
        }
    }
    out
}

/// The specs of a default list that run on every one of `receipts` (`nfd-s` only where
/// all of them have send times).
pub fn runnable(specs: Vec<DetectorSpec>, receipts: &[&Receipts]) -> Vec<DetectorSpec> {
    specs
        .into_iter()
        .filter(|s| receipts.iter().all(|r| runs_on(&s.config, r)))
        .collect()
}

/// The production presets as specs at their own settings.
pub fn presets() -> Vec<DetectorSpec> {
    preset_names()
        .filter_map(|p| crate::detector::spec::parse(p).ok())
        .flatten()
        .collect()
}

/// The preset a results row stands for, if its detector and parameters are a production
/// preset's, its knob value is the preset's (within rounding), and its heartbeats are
/// about the preset's apart: the evaluated span per evaluated heartbeat within a factor
/// of 2 of the preset's heartbeat (losses stretch it; a trace of another interval is
/// off by the ratio of the intervals).
pub fn preset_of(row: &Row) -> Option<&'static str> {
    // Parsed once: plots ask this of every row.
    static PRESETS: std::sync::OnceLock<Vec<DetectorSpec>> = std::sync::OnceLock::new();
    let spacing = row.evaluated_s / row.heartbeats.max(1) as f64;
    PRESETS.get_or_init(presets).iter().find_map(|s| {
        let preset = s.config.preset()?;
        let ratio = spacing / preset.heartbeat.as_secs_f64();
        if !(0.5..=2.0).contains(&ratio) {
            return None;
        }
        let name = preset.name;
        let value = s.config.knob().map(|k| k.report(s.knob_values[0]));
        let close = match (value, row.value) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
            (a, b) => a == b,
        };
        (s.config.name() == row.detector && s.config.params() == row.params && close).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A regular trace of `n` heartbeats 10 ms apart, named `name`.
    fn trace(name: &str, n: u64, jitter: i64) -> SweepTrace {
        let seq: Vec<u64> = (1..=n).collect();
        let recv = seq
            .iter()
            .map(|&s| crate::time::Nanos(s as i64 * 10_000_000 + (s as i64 % 7) * jitter))
            .collect();
        SweepTrace {
            name: name.into(),
            receipts: Receipts {
                seq,
                recv,
                send: None,
                stale: 0,
                interval: crate::time::Nanos(10_000_000),
            },
        }
    }

    #[test]
    fn a_row_is_a_presets_only_on_a_trace_of_its_heartbeat() {
        let n = 1200u64;
        let seq: Vec<u64> = (1..=n).collect();
        let recv = seq.iter().map(|&s| crate::time::Nanos::from_secs(s as i64)).collect();
        let receipts = Receipts {
            seq,
            recv,
            send: None,
            stale: 0,
            interval: crate::time::Nanos::SECOND,
        };
        let spec = crate::detector::spec::parse("akka-cluster").unwrap().remove(0);
        let opts = Options {
            warmup: 100,
            deadline: crate::time::Nanos::from_secs(10),
        };
        let v = spec.knob_values[0];
        let m = evaluate(&receipts, &spec.config, &[v], &opts).unwrap().remove(0);
        // A row of the base detector at the preset's settings, as a sweep of
        // `akka:threshold=...` writes it.
        let preset_row = row(None, &spec.config, v, &m);
        assert_eq!(preset_row.detector, "akka-cluster");
        let at_1s = Row {
            detector: "akka".into(),
            ..preset_row
        };
        assert_eq!(preset_of(&at_1s), Some("akka-cluster"));
        // The same detector, parameters and knob on heartbeats 100 ms apart (1099
        // evaluated over 109.9 s) is not akka-cluster, whose heartbeat is 1 s.
        let at_100ms = Row {
            evaluated_s: at_1s.evaluated_s / 10.0,
            ..at_1s.clone()
        };
        assert_eq!(preset_of(&at_100ms), None);
        // Losses stretch the spacing: half the heartbeats lost still reads as 1 s.
        let lossy = Row {
            heartbeats: at_1s.heartbeats / 2,
            ..at_1s.clone()
        };
        assert_eq!(preset_of(&lossy), Some("akka-cluster"));
        // The knob value within rounding (a relative 1e-9 of 8), not beyond it; a row
        // without a knob value is not a preset's that has one.
        let near = |value| preset_of(&Row { value, ..at_1s.clone() });
        assert_eq!(near(Some(8.0 + 7e-9)), Some("akka-cluster"));
        assert_eq!(near(Some(8.0 - 7e-9)), Some("akka-cluster"));
        assert_eq!(near(Some(8.0 + 9e-9)), None);
        assert_eq!(near(Some(8.5)), None);
        assert_eq!(near(None), None);
    }

    /// A preset of another heartbeat than 1 s (hazelcast-phi, 5 s) is found by the ratio
    /// of the row's spacing to its heartbeat: rows 5 s apart, and not 1 s or 25 s apart.
    #[test]
    fn a_presets_heartbeat_is_compared_as_a_ratio() {
        let spec = crate::detector::spec::parse("hazelcast-phi").unwrap().remove(0);
        let row = |evaluated_s: f64| Row {
            detector: spec.config.name().to_string(),
            params: spec.config.params(),
            value: spec.config.knob().map(|k| k.report(spec.knob_values[0])),
            heartbeats: 1000,
            evaluated_s,
            ..Row::default()
        };
        assert_eq!(preset_of(&row(5000.0)), Some("hazelcast-phi"));
        assert_eq!(preset_of(&row(9990.0)), Some("hazelcast-phi"));
        assert_eq!(preset_of(&row(2510.0)), Some("hazelcast-phi"));
        assert_eq!(preset_of(&row(1000.0)), None);
        assert_eq!(preset_of(&row(25000.0)), None);
    }

    #[test]
    fn fnv1a_is_the_published_function() {
        // Test vectors of the FNV-1a 64-bit hash (Fowler, Noll, Vo).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn shards_partition_the_grid_by_cell_not_by_order() {
        let a = trace("a", 3000, 100_000);
        let b = trace("b", 3000, 300_000);
        let specs = crate::detector::spec::parse("fixed:timeout=1ms..1s:1ms").unwrap();
        let opts = Options {
            warmup: 10,
            deadline: crate::time::Nanos(1_000_000_000),
        };
        let ab = [a.clone(), b.clone()];
        let ba = [b, a];
        let total = 2 * 1000;
        let mut seen = vec![0; total];
        let mut nonempty = 0;
        for index in 1..=4 {
            let shard = Some(Shard { index, count: 4 });
            let plan = Plan::new(&ab, &specs, opts, shard, false).unwrap();
            assert_eq!(plan.total_rows(), total);
            nonempty += usize::from(plan.rows() > 0);
            for &[first, n] in plan.held() {
                for c in &mut seen[first..first + n] {
                    *c += 1;
                }
            }
            // The same cells whatever the order of the traces: trace a's rows are the
            // first 1000 in `ab` and the last 1000 in `ba`.
            let swapped = Plan::new(&ba, &specs, opts, shard, false).unwrap();
            let rows = |p: &Plan, from: usize| -> Vec<usize> {
                p.held()
                    .iter()
                    .flat_map(|&[f, n]| f..f + n)
                    .filter(|r| (from..from + 1000).contains(r))
                    .map(|r| r - from)
                    .collect()
            };
            assert_eq!(rows(&plan, 0), rows(&swapped, 1000), "shard {index}");
            assert_eq!(rows(&plan, 1000), rows(&swapped, 0), "shard {index}");
        }
        assert!(seen.iter().all(|&c| c == 1), "every row in exactly one shard");
        assert!(nonempty >= 2, "the blocks spread over several shards");
        // A block is SHARD_BLOCK consecutive knob values: runs start on block edges.
        let one = Plan::new(&ab, &specs, opts, Some(Shard { index: 1, count: 4 }), false).unwrap();
        for &[first, _] in one.held() {
            assert_eq!(first % 1000 % SHARD_BLOCK, 0);
        }
    }

    #[test]
    fn shards_parse_and_validate() {
        assert_eq!("3/8".parse::<Shard>(), Ok(Shard { index: 3, count: 8 }));
        assert!("0/8".parse::<Shard>().is_err());
        assert!("9/8".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }
}

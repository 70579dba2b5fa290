//! A report's grids and evaluation fitted to its trace.
//!
//! The built-in knob ranges are written for a heartbeat every 100 ms (timeouts 10 ms to
//! 2 s). A report scales every duration knob to the trace's nominal interval `η`: the
//! ranges become the same multiples of `η` (timeouts `0.1 η` to `20 η` in steps of
//! `0.1 η`), and the completeness deadline defaults to `D = 10 η`. Thresholds are
//! dimensionless and keep their ranges.
//!
//! A trace shorter than the default warm-up plus as much again to evaluate gets a
//! shorter warm-up (half its accepted receipts), and every window is shrunk to the
//! warm-up; neither goes below [`MIN_WINDOW`], and at least [`MIN_EVALUATED`] receipts
//! are evaluated. Every such change is listed in [`Fitted::notes`] for the summary.

use crate::Nanos;
use crate::detector::DetectorSpec;
use crate::detector::registry::Unit;
use crate::detector::spec;
use crate::replay;
use crate::sweep;
use crate::tune::Target;

/// The heartbeat interval the built-in knob ranges are written for.
pub const REFERENCE_INTERVAL: Nanos = Nanos(100_000_000);

/// The default completeness deadline, in nominal intervals.
pub const DEADLINE_INTERVALS: i64 = 10;

/// The smallest window a windowed detector is given: fewer receipts give no meaningful
/// mean, standard deviation or empirical distribution of the inter-arrival times.
pub const MIN_WINDOW: usize = 10;

/// The fewest receipts a report evaluates after the warm-up.
pub const MIN_EVALUATED: usize = 10;

/// What the report asks for; `None` means "fit it to the trace".
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Detector specs (`-d`); empty for every detector and the presets.
    pub detectors: Vec<DetectorSpec>,
    /// The warm-up, in accepted receipts.
    pub warmup: Option<usize>,
    /// The completeness deadline `D`.
    pub deadline: Option<Nanos>,
}

/// The grids and evaluation of one report.
pub struct Fitted {
    /// The swept grid.
    pub specs: Vec<DetectorSpec>,
    /// The tuned detectors, then the presets (whose names are in `preset_names`).
    pub targets: Vec<Target>,
    /// The preset each target stands for (`None` for a tuned detector).
    pub preset_names: Vec<Option<&'static str>>,
    /// The warm-up.
    pub warmup: usize,
    /// The completeness deadline.
    pub deadline: Nanos,
    /// The largest window given to a detector.
    pub window: usize,
    /// What was scaled or shrunk to fit the trace, in sentences for the summary.
    pub notes: Vec<String>,
}

impl std::fmt::Debug for Fitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fitted")
            .field("specs", &self.specs)
            .field("ranges", &self.targets.iter().map(|t| t.range).collect::<Vec<_>>())
            .field("preset_names", &self.preset_names)
            .field("warmup", &self.warmup)
            .field("deadline", &self.deadline)
            .field("window", &self.window)
            .field("notes", &self.notes)
            .finish()
    }
}

/// Why no report fits the trace.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// Too few receipts even with the smallest windows.
    #[error(
        "the trace has {receipts} accepted heartbeats; a report needs at least {needed} ({warmup} to train the detectors, then {MIN_EVALUATED} to evaluate); {fix}"
    )]
    TooShort {
        /// How to fix it.
        fix: &'static str,
        /// Accepted receipts.
        receipts: usize,
        /// The warm-up it would take.
        warmup: usize,
        /// The smallest number of accepted receipts that works.
        needed: usize,
    },
    /// `--warmup` below the smallest window.
    #[error(
        "--warmup {0} is below the smallest window a detector is given ({MIN_WINDOW}); give --warmup {MIN_WINDOW} or more"
    )]
    WarmupTooSmall(usize),
    /// A detector spec that does not rebuild with a shrunk window.
    #[error("{0}")]
    Spec(#[from] spec::SpecError),
    /// The grid is not valid.
    #[error(transparent)]
    Sweep(#[from] sweep::SweepError),
}

/// Fits the report's grids and evaluation to a trace of `receipts` accepted heartbeats
/// sent every `interval`.
pub fn fit(receipts: usize, interval: Nanos, req: &Request) -> Result<Fitted, FitError> {
    let mut notes = Vec::new();
    let scale = interval.0 as f64 / REFERENCE_INTERVAL.0 as f64;
    let deadline = req
        .deadline
        .unwrap_or(Nanos(interval.0.saturating_mul(DEADLINE_INTERVALS)));
    if req.deadline.is_none() {
        notes.push(format!(
            "The completeness deadline is D = {DEADLINE_INTERVALS} η = {} (give another with --deadline).",
            fmt_ms(deadline)
        ));
    }
    let user = !req.detectors.is_empty();
    let (mut specs, presets): (Vec<DetectorSpec>, Vec<(&'static str, DetectorSpec)>) = if user {
        (req.detectors.clone(), Vec::new())
    } else {
        let presets = sweep::presets()
            .into_iter()
            .filter_map(|s| Some((s.config.preset()?.name, s)))
            .collect();
        (sweep::default_grid(), presets)
    };
    if !user && scale != 1.0 {
        for s in &mut specs {
            scale_knob(s, scale);
        }
        notes.push(format!(
            "Duration knobs are swept over the same multiples of η = {} as the built-in ranges are of 100 ms (timeouts {} to {} in steps of {}).",
            fmt_ms(interval),
            fmt_ms(Nanos((10e6 * scale).round() as i64)),
            fmt_ms(Nanos((2e9 * scale).round() as i64)),
            fmt_ms(Nanos((10e6 * scale).round() as i64)),
        ));
    }
    let widest = specs
        .iter()
        .chain(presets.iter().map(|(_, s)| s))
        .map(|s| s.config.window())
        .max()
        .unwrap_or(1);
    let default_warmup = replay::DEFAULT_WARMUP.max(if user {
        widest
    } else {
        widest.min(replay::DEFAULT_WARMUP)
    });
    let smallest_window = if user { widest } else { widest.min(MIN_WINDOW) };
    let warmup = match req.warmup {
        Some(w) if !user && w < MIN_WINDOW => return Err(FitError::WarmupTooSmall(w)),
        Some(w) => w,
        None if receipts >= 2 * default_warmup => default_warmup,
        None => (receipts / 2).max(smallest_window),
    };
    if receipts < warmup.saturating_add(MIN_EVALUATED) {
        let floor = req.warmup.unwrap_or(smallest_window);
        return Err(FitError::TooShort {
            fix: if req.warmup.is_some() {
                "give a smaller --warmup or a longer trace"
            } else {
                "record or import a longer trace"
            },
            receipts,
            warmup: floor,
            needed: floor.saturating_add(MIN_EVALUATED),
        });
    }
    if req.warmup.is_none() && warmup < default_warmup {
        notes.push(format!(
            "The trace is short ({receipts} accepted heartbeats): the warm-up is {warmup} heartbeats instead of {default_warmup}, half the trace."
        ));
    }
    let mut window = widest;
    let mut shrunk = Vec::new();
    if !user && widest > warmup {
        window = warmup;
        for s in &mut specs {
            if shrink(s, warmup)? {
                shrunk.push(s.config.name());
            }
        }
    }
    let mut presets = presets;
    if !user && widest > warmup {
        for (name, s) in &mut presets {
            if shrink(s, warmup)? {
                shrunk.push(name);
            }
        }
    }
    if !shrunk.is_empty() {
        notes.push(format!(
            "Windows are shrunk from {widest} to {window} heartbeats to fit the warm-up ({}).",
            shrunk.join(", ")
        ));
    }
    sweep::warmup_for(
        &specs
            .iter()
            .chain(presets.iter().map(|(_, s)| s))
            .cloned()
            .collect::<Vec<_>>(),
        Some(warmup),
    )?;
    let mut targets: Vec<Target> = specs
        .iter()
        .map(|spec| {
            let range = match (spec.config.knob(), spec.knob_values.len()) {
                (Some(_), n) if n > 1 => (spec.knob_values[0], spec.knob_values[n - 1]),
                (Some(k), _) => {
                    let s = if k.unit == Unit::Duration { scale } else { 1.0 };
                    let (start, end, _) = k.sweep_bounds();
                    (start * s, end * s)
                }
                (None, _) => (0.0, 0.0),
            };
            Target {
                spec: spec.clone(),
                range: Some(range),
            }
        })
        .collect();
    let mut preset_names: Vec<Option<&'static str>> = vec![None; targets.len()];
    for (name, spec) in presets {
        targets.push(Target { spec, range: None });
        preset_names.push(Some(name));
    }
    Ok(Fitted {
        specs,
        targets,
        preset_names,
        warmup,
        deadline,
        window,
        notes,
    })
}

/// Scales a duration knob's values by `scale`, to whole nanoseconds.
fn scale_knob(s: &mut DetectorSpec, scale: f64) {
    if s.config.knob().is_some_and(|k| k.unit == Unit::Duration) {
        for v in &mut s.knob_values {
            *v = (*v * scale).round();
        }
    }
}

/// Rebuilds `s` with every window parameter at most `w`; true if one changed.
fn shrink(s: &mut DetectorSpec, w: usize) -> Result<bool, spec::SpecError> {
    if s.config.window() <= w {
        return Ok(false);
    }
    let params: Vec<String> = s
        .config
        .params()
        .split(';')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k @ ("window" | "n1" | "n2"), v)) => match v.parse::<usize>() {
                Ok(n) if n > w => format!("{k}={w}"),
                _ => p.to_string(),
            },
            _ => p.to_string(),
        })
        .collect();
    let text = format!("{}:{}", s.config.name(), params.join(","));
    let rebuilt = spec::parse(&text)?;
    if let Some(first) = rebuilt.into_iter().next() {
        s.config = first.config;
    }
    Ok(true)
}

/// A duration in milliseconds, with its unit.
pub fn fmt_ms(d: Nanos) -> String {
    let ms = d.as_millis_f64();
    format!("{} ms", (ms * 1000.0).round() / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn a_100ms_trace_keeps_the_built_in_grid() {
        let f = fit(216_000, Nanos(100 * MS), &Request::default()).unwrap();
        assert_eq!(f.warmup, 1000);
        assert_eq!(f.deadline, Nanos(1000 * MS));
        assert_eq!(f.specs, sweep::default_grid());
        assert_eq!(f.window, 1000);
        assert_eq!(f.notes.len(), 1, "{:?}", f.notes);
    }

    #[test]
    fn a_10ms_trace_sweeps_timeouts_from_1ms_to_200ms() {
        let f = fit(100_000, Nanos(10 * MS), &Request::default()).unwrap();
        let fixed = f.specs.iter().find(|s| s.config.name() == "fixed").unwrap();
        assert_eq!(fixed.knob_values.len(), 200);
        assert_eq!(fixed.knob_values[0], 1e6);
        assert_eq!(fixed.knob_values[1], 2e6);
        assert_eq!(*fixed.knob_values.last().unwrap(), 200e6);
        let chen = f.targets.iter().find(|t| t.spec.config.name() == "chen").unwrap();
        assert_eq!(chen.range, Some((0.0, 200e6)));
        let phi = f.specs.iter().find(|s| s.config.name() == "phi").unwrap();
        let builtin = sweep::default_grid()
            .into_iter()
            .find(|s| s.config.name() == "phi")
            .unwrap();
        assert_eq!(phi.knob_values, builtin.knob_values, "thresholds do not scale");
        assert_eq!(f.deadline, Nanos(100 * MS));
    }

    #[test]
    fn a_100_heartbeat_trace_gets_half_as_warm_up_and_windows_of_50() {
        let f = fit(100, Nanos(1000 * MS), &Request::default()).unwrap();
        assert_eq!(f.warmup, 50);
        assert_eq!(f.window, 50);
        for t in &f.targets {
            assert!(t.spec.config.window() <= 50, "{}", t.spec.config.params());
        }
        let akka = f.targets.iter().find(|t| t.spec.config.name() == "akka").unwrap();
        assert_eq!(
            akka.spec.config.params(),
            "window=50;min_std=100ms;pause=3s;first_estimate=1s"
        );
        let presets: Vec<&str> = f
            .preset_names
            .iter()
            .flatten()
            .copied()
            .filter(|n| !n.starts_with("test-"))
            .collect();
        // Every built-in preset that parses (those whose base has every parameter
        // they set), in listing order.
        let expected: Vec<&str> = sweep::presets()
            .iter()
            .filter_map(|s| s.config.preset().map(|p| p.name))
            .filter(|n| !n.starts_with("test-"))
            .collect();
        assert_eq!(presets, expected);
        assert!(
            presets.starts_with(&["akka-cluster", "akka-remote-watch"]),
            "{presets:?}"
        );
        assert!(presets.contains(&"cassandra"), "{presets:?}");
        assert!(
            f.notes.iter().any(|n| n.contains("shrunk from 1000 to 50")),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn too_short_a_trace_is_told_the_smallest_length() {
        let e = fit(19, Nanos(100 * MS), &Request::default()).unwrap_err();
        assert!(e.to_string().contains("19 accepted heartbeats"), "{e}");
        assert!(e.to_string().contains("at least 20"), "{e}");
        assert!(fit(20, Nanos(100 * MS), &Request::default()).is_ok());
        let req = Request {
            warmup: Some(500),
            ..Default::default()
        };
        let e = fit(505, Nanos(100 * MS), &req).unwrap_err();
        assert!(e.to_string().contains("at least 510"), "{e}");
        assert!(e.to_string().contains("smaller --warmup"), "{e}");
        let req = Request {
            warmup: Some(5),
            ..Default::default()
        };
        assert!(matches!(fit(1000, Nanos(MS), &req), Err(FitError::WarmupTooSmall(5))));
    }

    #[test]
    fn given_detectors_and_warmup_are_kept() {
        let req = Request {
            detectors: spec::parse("chen:window=200,alpha=0s..1s:100ms").unwrap(),
            warmup: Some(300),
            deadline: Some(Nanos(5 * MS)),
        };
        let f = fit(10_000, Nanos(10 * MS), &req).unwrap();
        assert_eq!(f.specs, req.detectors);
        assert_eq!(f.warmup, 300);
        assert_eq!(f.deadline, Nanos(5 * MS));
        assert_eq!(f.targets.len(), 1);
        assert_eq!(f.targets[0].range, Some((0.0, 1e9)));
        assert!(f.notes.is_empty(), "{:?}", f.notes);
    }
}

//! Detector configurations and the spec strings that name them on the command line:
//! `NAME[:key=value,...]`, e.g. `phi:window=1000,threshold=8` or `chen:alpha=200ms`.
//!
//! - A value may be a range `START..END:STEP` (END inclusive; values `START + i·STEP`,
//!   END included despite float rounding), e.g. `fixed:timeout=50ms..2s:10ms`.
//! - A range on the knob becomes the spec's [`knob_values`](DetectorSpec::knob_values);
//!   a range on a fixed parameter expands to one [`DetectorSpec`] per value (the
//!   cartesian product of all ranged parameters, the first parameter varying slowest).
//! - Durations carry a unit (`100ms`, `1.5s`); a knob left out takes its default.
//! - The presets `akka-cluster` and `cassandra` name a detector with its library's
//!   defaults and take the same keys.
//! - A spec expands to at most [`MAX_VALUES`] (configuration, knob value) pairs.
//!
//! The default sweep ranges ([`Knob::sweep`]) span aggressive to lenient settings on a
//! trace with a 100 ms heartbeat interval, with at most about 200 values each: `timeout`
//! 10 ms to 2 s, `alpha` 0 to 2 s (10 ms steps), the φ thresholds 0.5 to 16 (steps of
//! 0.1), and satzger's fraction 0.5 to 1 (steps of 0.005).

use serde::{Deserialize, Serialize};

use crate::detector::akka::{Akka, AkkaParams};
use crate::detector::bertier::Bertier;
use crate::detector::chen::Chen;
use crate::detector::exp_phi::ExpPhi;
use crate::detector::fixed::Fixed;
use crate::detector::phi::Phi;
use crate::detector::satzger::{Satzger, SortedVec};

/// Up to this window, `satzger`'s family keeps its window in a sorted vector (selection by
/// indexing, cheaper for many thresholds at once), beyond in its B-tree. Measured on a
/// 200-threshold sweep of 1M heartbeats: the vector wins at windows of 100 (0.7 s
/// against 1.0 s), 1000 and 4096 (1.6 s against 2.1 s), the B-tree at 16384 (2.8 s
/// against 3.5 s) and beyond.
const SORTED_WINDOW: usize = 4096;
use crate::detector::two_windows::TwoWindows;
use crate::detector::{Detector, EstimatorFamily, Family, IndependentFamily, Tuned};
use crate::time::{Nanos, parse_duration};

/// The most (configuration, knob value) pairs one spec string may expand to.
pub const MAX_VALUES: usize = 1_000_000;

/// The largest window accepted.
pub const MAX_WINDOW: usize = 10_000_000;

/// How a knob's values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// A duration: nanoseconds inside, written with a unit (`100ms`), reported in ms.
    Duration,
    /// A plain number.
    Plain,
}

/// A detector's sensitivity knob.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Knob {
    /// Its name in spec strings and results (`timeout`, `alpha`, `threshold`).
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Default value (nanoseconds for durations).
    pub default: f64,
    /// The default sweep range `(start, end, step)` (nanoseconds for durations).
    pub sweep: (f64, f64, f64),
}

impl Knob {
    /// A knob value as reported in results: milliseconds for durations, plain otherwise.
    pub fn report(&self, value: f64) -> f64 {
        match self.unit {
            Unit::Duration => value / 1e6,
            Unit::Plain => value,
        }
    }

    /// The values of the default sweep, in internal units.
    pub fn sweep_values(&self) -> Vec<f64> {
        let (start, end, step) = self.sweep;
        let count = range_count(start, end, step);
        (0..count)
            .map(|i| range_value(start, end, step, i, count, self.unit))
            .collect()
    }

    /// A value as written in a spec string (`100ms`, `8`).
    pub fn format(&self, value: f64) -> String {
        match self.unit {
            Unit::Duration => Nanos(value.round() as i64).to_string(),
            Unit::Plain => value.to_string(),
        }
    }
}

/// The kind of a fixed parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A positive integer (a window size).
    Count,
    /// A duration, written with a unit.
    Duration,
    /// A plain number.
    Number,
}

/// A fixed parameter of a detector, as `fdbench list` shows it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Param {
    /// Its key in spec strings.
    pub name: &'static str,
    /// Its kind.
    pub kind: Kind,
    /// Default value (nanoseconds for durations).
    pub default: f64,
    /// What it does.
    pub doc: &'static str,
    /// The values accepted, in words.
    pub allowed: &'static str,
    #[serde(skip)]
    check: fn(f64) -> bool,
}

impl Param {
    /// A value as written in a spec string and in `params`.
    pub fn format(&self, value: f64) -> String {
        match self.kind {
            Kind::Count => format!("{}", value as u64),
            Kind::Duration => Nanos(value.round() as i64).to_string(),
            Kind::Number => value.to_string(),
        }
    }
}

/// A detector (or preset) as `fdbench list` shows it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Info {
    /// The CLI name.
    pub name: &'static str,
    /// One line on what it is.
    pub summary: &'static str,
    /// Where it comes from.
    pub source: &'static str,
    /// The fixed parameters, in canonical order.
    pub params: &'static [Param],
    /// The knob, if any.
    pub knob: Option<Knob>,
    /// The knob values accepted, in words.
    pub knob_allowed: &'static str,
    /// For a preset, the detector it configures.
    pub preset_of: Option<&'static str>,
    #[serde(skip)]
    knob_check: fn(f64) -> bool,
}

fn window_ok(x: f64) -> bool {
    x >= 1.0 && x <= MAX_WINDOW as f64
}
fn non_negative(x: f64) -> bool {
    x >= 0.0 && x.is_finite()
}
fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}
fn fraction(x: f64) -> bool {
    x > 0.0 && x <= 1.0
}
fn any(_: f64) -> bool {
    true
}

const WINDOW_ALLOWED: &str = "an integer from 1 to 10000000";

const fn window(default: f64, doc: &'static str) -> Param {
    Param {
        name: "window",
        kind: Kind::Count,
        default,
        doc,
        allowed: WINDOW_ALLOWED,
        check: window_ok,
    }
}

const fn duration(name: &'static str, default: f64, doc: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Duration,
        default,
        doc,
        allowed: "a duration >= 0 with a unit, e.g. 100ms",
        check: non_negative,
    }
}

const TIMEOUT: Knob = Knob {
    name: "timeout",
    unit: Unit::Duration,
    default: 1e9,
    sweep: (10e6, 2e9, 10e6),
};
const ALPHA: Knob = Knob {
    name: "alpha",
    unit: Unit::Duration,
    default: 100e6,
    sweep: (0.0, 2e9, 10e6),
};
const THRESHOLD: Knob = Knob {
    name: "threshold",
    unit: Unit::Plain,
    default: 8.0,
    sweep: (0.5, 16.0, 0.1),
};
const FRACTION: Knob = Knob {
    name: "threshold",
    unit: Unit::Plain,
    default: 0.99,
    sweep: (0.5, 1.0, 0.005),
};

const DURATION_KNOB: &str = "a duration >= 0 with a unit, e.g. 200ms";
const PHI_KNOB: &str = "a finite number > 0";

const CHEN_SOURCE: &str = "Chen, Toueg, Aguilera, On the QoS of failure detectors, IEEE ToC 51(5), 2002";
const AKKA_PARAMS: &[Param] = &[
    window(1000.0, "intervals kept (max-sample-size)"),
    duration("min_std", 100e6, "floor on the standard deviation"),
    duration("pause", 3e9, "acceptable heartbeat pause, added to the mean"),
    Param {
        name: "first_estimate",
        kind: Kind::Duration,
        default: 1e9,
        doc: "seeds the history with first_estimate -/+ first_estimate/4",
        allowed: "a duration > 0 with a unit, e.g. 1s",
        check: positive,
    },
];
const EXP_PHI_PARAMS: &[Param] = &[
    window(1000.0, "intervals kept"),
    Param {
        name: "initial",
        kind: Kind::Duration,
        default: 2e9,
        doc: "interval recorded on the first heartbeat",
        allowed: "a duration > 0 with a unit, e.g. 2s",
        check: positive,
    },
    duration("max_interval", 2e9, "longer intervals are not recorded"),
];
const AKKA_SOURCE: &str = "Akka's PhiAccrualFailureDetector (akka.remote), after Hayashibara et al. 2004";
const CASSANDRA_SOURCE: &str = "Apache Cassandra's FailureDetector / ArrivalWindow";

/// Every detector, then the presets, in listing order.
pub const DETECTORS: &[Info] = &[
    Info {
        name: "fixed",
        summary: "fixed timeout: suspect once the time since the last heartbeat reaches the timeout",
        source: "Distributed Systems for Practitioners (Raptis), Figure 1.3",
        params: &[],
        knob: Some(TIMEOUT),
        knob_allowed: DURATION_KNOB,
        preset_of: None,
        knob_check: non_negative,
    },
    Info {
        name: "chen",
        summary: "Chen's NFD-E: expected arrival from the last n receipts (loss-aware) plus alpha",
        source: CHEN_SOURCE,
        params: &[window(1000.0, "receipts kept")],
        knob: Some(ALPHA),
        knob_allowed: DURATION_KNOB,
        preset_of: None,
        knob_check: non_negative,
    },
    Info {
        name: "bertier",
        summary: "Chen's expected arrival plus Jacobson's dynamic margin (no knob)",
        source: "Bertier, Marin, Sens, DSN 2002 (constants from later comparisons)",
        params: &[
            window(1000.0, "receipts kept"),
            Param {
                name: "gamma",
                kind: Kind::Number,
                default: 0.1,
                doc: "gain of the delay and variation estimates",
                allowed: "a number in (0, 1]",
                check: fraction,
            },
            Param {
                name: "beta",
                kind: Kind::Number,
                default: 1.0,
                doc: "weight of the delay in the margin",
                allowed: "a finite number >= 0",
                check: non_negative,
            },
            Param {
                name: "phi",
                kind: Kind::Number,
                default: 4.0,
                doc: "weight of the variation in the margin",
                allowed: "a finite number >= 0",
                check: non_negative,
            },
        ],
        knob: None,
        knob_allowed: "",
        preset_of: None,
        knob_check: any,
    },
    Info {
        name: "phi",
        summary: "the phi accrual detector as published: normal distribution of intervals",
        source: "Hayashibara, Defago, Yared, Katayama, SRDS 2004",
        params: &[
            window(1000.0, "intervals kept"),
            duration("min_std", 0.0, "floor on the standard deviation"),
        ],
        knob: Some(THRESHOLD),
        knob_allowed: PHI_KNOB,
        preset_of: None,
        knob_check: positive,
    },
    Info {
        name: "akka",
        summary: "phi as Akka computes it: logistic approximation, pause, seeded history, records only while trusting",
        source: AKKA_SOURCE,
        params: AKKA_PARAMS,
        knob: Some(THRESHOLD),
        knob_allowed: PHI_KNOB,
        preset_of: None,
        knob_check: positive,
    },
    Info {
        name: "exp-phi",
        summary: "exponential phi (Cassandra): phi = elapsed / (mean * ln 10)",
        source: CASSANDRA_SOURCE,
        params: EXP_PHI_PARAMS,
        knob: Some(THRESHOLD),
        knob_allowed: PHI_KNOB,
        preset_of: None,
        knob_check: positive,
    },
    Info {
        name: "satzger",
        summary: "fraction of the last n intervals at most scale * elapsed (empirical distribution)",
        source: "Satzger, Pietzowski, Trumler, Ungerer, SAC 2007",
        params: &[
            window(1000.0, "intervals kept"),
            Param {
                name: "scale",
                kind: Kind::Number,
                default: 1.0,
                doc: "multiplies the elapsed time (some libraries use 0.9)",
                allowed: "a finite number > 0",
                check: positive,
            },
        ],
        knob: Some(FRACTION),
        knob_allowed: "a number in (0, 1]",
        preset_of: None,
        knob_check: fraction,
    },
    Info {
        name: "2w",
        summary: "2W-FD: Chen's estimate over a long and a short window, the later of the two plus alpha",
        source: "Tomsic, Sens, Garcia, Arantes, Sopena, IPDPS 2015 (window sizes from later work)",
        params: &[
            Param {
                name: "n1",
                kind: Kind::Count,
                default: 1000.0,
                doc: "receipts in the long window",
                allowed: WINDOW_ALLOWED,
                check: window_ok,
            },
            Param {
                name: "n2",
                kind: Kind::Count,
                default: 1.0,
                doc: "receipts in the short window",
                allowed: WINDOW_ALLOWED,
                check: window_ok,
            },
        ],
        knob: Some(ALPHA),
        knob_allowed: DURATION_KNOB,
        preset_of: None,
        knob_check: non_negative,
    },
    Info {
        name: "akka-cluster",
        summary: "preset: akka with Akka Cluster's defaults (threshold 8, window 1000, min_std 100ms, pause 3s, first_estimate 1s)",
        source: AKKA_SOURCE,
        params: AKKA_PARAMS,
        knob: Some(THRESHOLD),
        knob_allowed: PHI_KNOB,
        preset_of: Some("akka"),
        knob_check: positive,
    },
    Info {
        name: "cassandra",
        summary: "preset: exp-phi with Cassandra's defaults (threshold 8, window 1000, initial 2s, max_interval 2s)",
        source: CASSANDRA_SOURCE,
        params: EXP_PHI_PARAMS,
        knob: Some(THRESHOLD),
        knob_allowed: PHI_KNOB,
        preset_of: Some("exp-phi"),
        knob_check: positive,
    },
];

/// The detector or preset called `name`.
pub fn info(name: &str) -> Option<&'static Info> {
    DETECTORS.iter().find(|i| i.name == name)
}

impl Info {
    /// Whether `x` is an allowed value of this detector's knob.
    pub fn knob_allows(&self, x: f64) -> bool {
        (self.knob_check)(x)
    }
}

fn names() -> String {
    DETECTORS.iter().map(|i| i.name).collect::<Vec<_>>().join(", ")
}

/// A detector with its fixed parameters (everything but the knob value).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "detector", rename_all = "kebab-case")]
pub enum Config {
    /// Fixed timeout.
    Fixed,
    /// Chen's NFD-E.
    Chen {
        /// Receipts kept.
        window: usize,
    },
    /// Chen plus Jacobson's margin.
    Bertier {
        /// Receipts kept.
        window: usize,
        /// Gain of the estimates.
        gamma: f64,
        /// Weight of the delay.
        beta: f64,
        /// Weight of the variation.
        phi: f64,
    },
    /// The published φ detector.
    Phi {
        /// Intervals kept.
        window: usize,
        /// Floor on the standard deviation.
        min_std: Nanos,
    },
    /// Akka's φ.
    Akka {
        /// Intervals kept.
        window: usize,
        /// Floor on the standard deviation.
        min_std: Nanos,
        /// Acceptable heartbeat pause.
        pause: Nanos,
        /// Seed of the history.
        first_estimate: Nanos,
    },
    /// Cassandra's exponential φ.
    ExpPhi {
        /// Intervals kept.
        window: usize,
        /// Interval recorded on the first heartbeat.
        initial: Nanos,
        /// Longer intervals are not recorded.
        max_interval: Nanos,
    },
    /// Satzger's empirical-distribution detector.
    Satzger {
        /// Intervals kept.
        window: usize,
        /// Multiplies the elapsed time.
        scale: f64,
    },
    /// 2W-FD.
    #[serde(rename = "2w")]
    TwoWindows {
        /// Long window.
        n1: usize,
        /// Short window.
        n2: usize,
    },
}

fn ns(x: f64) -> Nanos {
    Nanos(x.round() as i64)
}

impl Config {
    /// Builds the configuration of detector `name` from its parameter values, in the
    /// order of [`Info::params`] (internal units).
    fn from_values(name: &str, v: &[f64]) -> Config {
        let n = |i: usize| v[i] as usize;
        match name {
            "fixed" => Config::Fixed,
            "chen" => Config::Chen { window: n(0) },
            "bertier" => Config::Bertier {
                window: n(0),
                gamma: v[1],
                beta: v[2],
                phi: v[3],
            },
            "phi" => Config::Phi {
                window: n(0),
                min_std: ns(v[1]),
            },
            "akka" => Config::Akka {
                window: n(0),
                min_std: ns(v[1]),
                pause: ns(v[2]),
                first_estimate: ns(v[3]),
            },
            "exp-phi" => Config::ExpPhi {
                window: n(0),
                initial: ns(v[1]),
                max_interval: ns(v[2]),
            },
            "satzger" => Config::Satzger {
                window: n(0),
                scale: v[1],
            },
            _ => Config::TwoWindows { n1: n(0), n2: n(1) },
        }
    }

    /// The parameter values in the order of [`Info::params`] (internal units).
    fn values(&self) -> Vec<f64> {
        let d = |x: &Nanos| x.0 as f64;
        match self {
            Config::Fixed => vec![],
            Config::Chen { window } => vec![*window as f64],
            Config::Bertier {
                window,
                gamma,
                beta,
                phi,
            } => vec![*window as f64, *gamma, *beta, *phi],
            Config::Phi { window, min_std } => vec![*window as f64, d(min_std)],
            Config::Akka {
                window,
                min_std,
                pause,
                first_estimate,
            } => vec![*window as f64, d(min_std), d(pause), d(first_estimate)],
            Config::ExpPhi {
                window,
                initial,
                max_interval,
            } => vec![*window as f64, d(initial), d(max_interval)],
            Config::Satzger { window, scale } => vec![*window as f64, *scale],
            Config::TwoWindows { n1, n2 } => vec![*n1 as f64, *n2 as f64],
        }
    }

    /// The detector's description (parameters, knob, source).
    pub fn info(&self) -> &'static Info {
        info(self.name()).unwrap_or(&DETECTORS[0])
    }

    /// Every detector with its default parameters.
    pub fn all_defaults() -> Vec<Config> {
        DETECTORS
            .iter()
            .filter(|i| i.preset_of.is_none())
            .map(Config::defaults_of)
            .collect()
    }

    fn defaults_of(i: &Info) -> Config {
        let v: Vec<f64> = i.params.iter().map(|p| p.default).collect();
        Config::from_values(i.preset_of.unwrap_or(i.name), &v)
    }

    /// The preset called `name` (`akka-cluster`, `cassandra`) with its knob value.
    pub fn preset(name: &str) -> Option<(Config, f64)> {
        let i = info(name).filter(|i| i.preset_of.is_some())?;
        Some((Config::defaults_of(i), i.knob.map_or(0.0, |k| k.default)))
    }

    /// The presets' names.
    pub fn presets() -> Vec<&'static str> {
        DETECTORS
            .iter()
            .filter(|i| i.preset_of.is_some())
            .map(|i| i.name)
            .collect()
    }

    /// The CLI name.
    pub fn name(&self) -> &'static str {
        match self {
            Config::Fixed => "fixed",
            Config::Chen { .. } => "chen",
            Config::Bertier { .. } => "bertier",
            Config::Phi { .. } => "phi",
            Config::Akka { .. } => "akka",
            Config::ExpPhi { .. } => "exp-phi",
            Config::Satzger { .. } => "satzger",
            Config::TwoWindows { .. } => "2w",
        }
    }

    /// Where the detector comes from (a citation).
    pub fn source(&self) -> &'static str {
        self.info().source
    }

    /// The fixed parameters as `key=value` joined by `;` (the results' `params` column),
    /// e.g. `window=1000;min_std=100ms`.
    pub fn params(&self) -> String {
        self.info()
            .params
            .iter()
            .zip(self.values())
            .map(|(p, v)| format!("{}={}", p.name, p.format(v)))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The knob, or `None` for a detector without one.
    pub fn knob(&self) -> Option<Knob> {
        self.info().knob
    }

    /// The largest window of heartbeats the detector keeps (the warm-up must cover it).
    pub fn window(&self) -> usize {
        match self {
            Config::Fixed => 1,
            Config::Chen { window }
            | Config::Bertier { window, .. }
            | Config::Phi { window, .. }
            | Config::Akka { window, .. }
            | Config::ExpPhi { window, .. }
            | Config::Satzger { window, .. } => *window,
            Config::TwoWindows { n1, n2 } => (*n1).max(*n2),
        }
    }

    /// Whether one replay serves many knob values (false for `akka`).
    pub fn knob_independent(&self) -> bool {
        !matches!(self, Config::Akka { .. })
    }

    fn akka_params(&self) -> AkkaParams {
        match *self {
            Config::Akka {
                window,
                min_std,
                pause,
                first_estimate,
            } => AkkaParams {
                window,
                min_std,
                pause,
                first_estimate,
            },
            _ => AkkaParams::default(),
        }
    }

    /// The detector with knob value `knob` (ignored without a knob), for a trace of
    /// nominal interval `eta`.
    pub fn detector(&self, eta: Nanos, knob: f64) -> Box<dyn Detector> {
        match *self {
            Config::Fixed => Box::new(Tuned::new(Fixed::new(), knob)),
            Config::Chen { window } => Box::new(Tuned::new(Chen::new(eta, window), knob)),
            Config::Bertier {
                window,
                gamma,
                beta,
                phi,
            } => Box::new(Tuned::new(Bertier::new(eta, window, gamma, beta, phi), 0.0)),
            Config::Phi { window, min_std } => Box::new(Tuned::new(Phi::new(eta, window, min_std), knob)),
            Config::Akka { .. } => Box::new(Akka::new(self.akka_params(), knob)),
            Config::ExpPhi {
                window,
                initial,
                max_interval,
            } => Box::new(Tuned::new(ExpPhi::new(window, initial, max_interval), knob)),
            Config::Satzger { window, scale } => Box::new(Tuned::new(Satzger::new(eta, window, scale), knob)),
            Config::TwoWindows { n1, n2 } => Box::new(Tuned::new(TwoWindows::new(eta, n1, n2), knob)),
        }
    }

    /// The detector evaluated at every value of `knobs` in one replay.
    pub fn family(&self, eta: Nanos, knobs: &[f64]) -> Box<dyn Family> {
        match *self {
            Config::Fixed => Box::new(EstimatorFamily::new(Fixed::new(), knobs)),
            Config::Chen { window } => Box::new(EstimatorFamily::new(Chen::new(eta, window), knobs)),
            Config::Bertier {
                window,
                gamma,
                beta,
                phi,
            } => Box::new(EstimatorFamily::new(Bertier::new(eta, window, gamma, beta, phi), knobs)),
            Config::Phi { window, min_std } => Box::new(EstimatorFamily::new(Phi::new(eta, window, min_std), knobs)),
            Config::Akka { .. } => {
                let p = self.akka_params();
                Box::new(IndependentFamily::new(knobs.iter().map(|&k| Akka::new(p, k)).collect()))
            }
            Config::ExpPhi {
                window,
                initial,
                max_interval,
            } => Box::new(EstimatorFamily::new(ExpPhi::new(window, initial, max_interval), knobs)),
            Config::Satzger { window, scale } => {
                if window <= SORTED_WINDOW {
                    Box::new(EstimatorFamily::new(
                        Satzger::<SortedVec>::with_store(eta, window, scale),
                        knobs,
                    ))
                } else {
                    Box::new(EstimatorFamily::new(Satzger::new(eta, window, scale), knobs))
                }
            }
            Config::TwoWindows { n1, n2 } => Box::new(EstimatorFamily::new(TwoWindows::new(eta, n1, n2), knobs)),
        }
    }
}

/// A parsed spec string: a configuration and the knob values to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectorSpec {
    /// The detector and its fixed parameters.
    pub config: Config,
    /// Knob values in internal units (nanoseconds for durations); one value `0.0` for a
    /// detector without a knob.
    pub knob_values: Vec<f64>,
}

/// A spec string that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// Nothing to parse.
    #[error("empty detector spec; write NAME[:key=value,...], e.g. phi:threshold=8")]
    Empty,
    /// Unknown detector.
    #[error("unknown detector '{0}'; the detectors are: {names}", names = names())]
    UnknownDetector(String),
    /// An item is not `key=value`.
    #[error("detector spec '{spec}': '{item}' is not key=value; write e.g. phi:window=1000,threshold=8")]
    BadItem {
        /// The whole spec.
        spec: String,
        /// The item.
        item: String,
    },
    /// A key the detector does not have.
    #[error("{detector}: unknown parameter '{key}'; the parameters are: {allowed}")]
    UnknownKey {
        /// The detector.
        detector: String,
        /// The key.
        key: String,
        /// The keys accepted, with defaults and units.
        allowed: String,
    },
    /// The same key twice.
    #[error("{detector}: parameter '{key}' is given twice; give it once (a range START..END:STEP sweeps it)")]
    DuplicateKey {
        /// The detector.
        detector: String,
        /// The key.
        key: String,
    },
    /// A value that does not parse.
    #[error("{detector}: {key}={value}: {reason}")]
    BadValue {
        /// The detector.
        detector: String,
        /// The key.
        key: String,
        /// The text given.
        value: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// A value outside the accepted range.
    #[error("{detector}: {key}={value} is out of range; {key} must be {allowed}")]
    OutOfRange {
        /// The detector.
        detector: String,
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What is accepted.
        allowed: &'static str,
    },
    /// A malformed range.
    #[error("{detector}: {key}={value}: {reason}")]
    BadRange {
        /// The detector.
        detector: String,
        /// The key.
        key: String,
        /// The text given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The spec expands to too many values.
    #[error(
        "{detector}: the spec expands to {count} values, more than the limit of {max}; use a larger step or a shorter range"
    )]
    TooMany {
        /// The detector.
        detector: String,
        /// The number of values asked for (may be approximate when huge).
        count: f64,
        /// The limit.
        max: usize,
    },
}

/// Number of values of the range `start..end:step` (inclusive, tolerant to rounding).
fn range_count(start: f64, end: f64, step: f64) -> usize {
    ((end - start) / step + 1e-9).floor() as usize + 1
}

/// The `i`-th value of a range of `count` values, END snapped exactly, plain numbers
/// rounded to 12 decimals so that `0.1·3` reads `0.3`.
fn range_value(start: f64, end: f64, step: f64, i: usize, count: usize, unit: Unit) -> f64 {
    let v = start + i as f64 * step;
    if i + 1 == count && (v - end).abs() <= step * 1e-6 {
        return end;
    }
    match unit {
        Unit::Duration => v.round(),
        Unit::Plain if v.abs() < 1e6 => (v * 1e12).round() / 1e12,
        Unit::Plain => v,
    }
}

/// What a key refers to: its kind and check.
#[derive(Clone, Copy)]
struct Slot {
    kind: Kind,
    allowed: &'static str,
    check: fn(f64) -> bool,
}

struct Ctx<'a> {
    detector: &'a str,
    key: &'a str,
}

impl Ctx<'_> {
    fn bad(&self, value: &str, reason: impl Into<String>) -> SpecError {
        SpecError::BadValue {
            detector: self.detector.to_string(),
            key: self.key.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
    fn bad_range(&self, value: &str, reason: impl Into<String>) -> SpecError {
        SpecError::BadRange {
            detector: self.detector.to_string(),
            key: self.key.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

fn parse_scalar(ctx: &Ctx, slot: Slot, text: &str) -> Result<f64, SpecError> {
    let t = text.trim();
    let v = match slot.kind {
        Kind::Duration => match parse_duration(t) {
            Ok(d) => d.0 as f64,
            Err(e) => {
                if t.parse::<f64>().is_ok() {
                    return Err(ctx.bad(t, format!("a duration needs a unit; write e.g. {t}ms or {t}s")));
                }
                return Err(ctx.bad(t, e.to_string()));
            }
        },
        Kind::Count => match t.parse::<u64>() {
            Ok(n) => n as f64,
            Err(_) => return Err(ctx.bad(t, format!("not a whole number; {} must be {}", ctx.key, slot.allowed))),
        },
        Kind::Number => match t.parse::<f64>() {
            Ok(x) => x,
            Err(_) => return Err(ctx.bad(t, format!("not a number; {} must be {}", ctx.key, slot.allowed))),
        },
    };
    if !(slot.check)(v) {
        return Err(SpecError::OutOfRange {
            detector: ctx.detector.to_string(),
            key: ctx.key.to_string(),
            value: t.to_string(),
            allowed: slot.allowed,
        });
    }
    Ok(v)
}

/// Parses a value or a range `START..END:STEP` into its values (checked, capped).
fn parse_values(ctx: &Ctx, slot: Slot, text: &str) -> Result<Vec<f64>, SpecError> {
    let Some((start, rest)) = text.split_once("..") else {
        return Ok(vec![parse_scalar(ctx, slot, text)?]);
    };
    let Some((end, step)) = rest.rsplit_once(':') else {
        return Err(ctx.bad_range(
            text,
            "a range needs a step: START..END:STEP, e.g. 50ms..2s:10ms or 0.5..16:0.5",
        ));
    };
    let (s, e) = (parse_scalar(ctx, slot, start)?, parse_scalar(ctx, slot, end)?);
    let step_slot = Slot { check: any, ..slot };
    let st = parse_scalar(ctx, step_slot, step)?;
    if st.is_nan() || st <= 0.0 || !st.is_finite() {
        return Err(ctx.bad_range(text, "the step must be greater than 0"));
    }
    if e < s {
        return Err(ctx.bad_range(
            text,
            "the range is empty: END is below START; write START..END:STEP with START <= END",
        ));
    }
    let count = ((e - s) / st + 1e-9).floor() + 1.0;
    if count.is_nan() || count > MAX_VALUES as f64 {
        return Err(SpecError::TooMany {
            detector: ctx.detector.to_string(),
            count,
            max: MAX_VALUES,
        });
    }
    let count = count as usize;
    let unit = if slot.kind == Kind::Number {
        Unit::Plain
    } else {
        Unit::Duration
    };
    Ok((0..count).map(|i| range_value(s, e, st, i, count, unit)).collect())
}

fn allowed_keys(i: &Info) -> String {
    let mut keys: Vec<String> = i
        .params
        .iter()
        .map(|p| format!("{} ({:?}, default {})", p.name, p.kind, p.format(p.default)).to_lowercase())
        .collect();
    if let Some(k) = i.knob {
        keys.push(format!("{} (knob, default {})", k.name, k.format(k.default)));
    }
    if keys.is_empty() {
        "none".to_string()
    } else {
        keys.join(", ")
    }
}

/// Parses `NAME[:key=value,...]` into one spec per combination of ranged fixed
/// parameters (the knob's range stays inside each spec).
pub fn parse(text: &str) -> Result<Vec<DetectorSpec>, SpecError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SpecError::Empty);
    }
    let (name, rest) = match text.split_once(':') {
        Some((n, r)) => (n.trim(), Some(r)),
        None => (text, None),
    };
    let info = info(name).ok_or_else(|| SpecError::UnknownDetector(name.to_string()))?;
    let mut params: Vec<Option<Vec<f64>>> = vec![None; info.params.len()];
    let mut knob: Option<Vec<f64>> = None;
    for item in rest.into_iter().flat_map(|r| r.split(',')) {
        let Some((key, value)) = item.split_once('=') else {
            return Err(SpecError::BadItem {
                spec: text.to_string(),
                item: item.trim().to_string(),
            });
        };
        let key = key.trim();
        let ctx = Ctx { detector: name, key };
        let (slot, target) = if let Some(i) = info.params.iter().position(|p| p.name == key) {
            let p = &info.params[i];
            let slot = Slot {
                kind: p.kind,
                allowed: p.allowed,
                check: p.check,
            };
            (slot, &mut params[i])
        } else if let Some(k) = info.knob.filter(|k| k.name == key) {
            let kind = if k.unit == Unit::Duration {
                Kind::Duration
            } else {
                Kind::Number
            };
            let slot = Slot {
                kind,
                allowed: info.knob_allowed,
                check: info.knob_check,
            };
            (slot, &mut knob)
        } else {
            return Err(SpecError::UnknownKey {
                detector: name.to_string(),
                key: key.to_string(),
                allowed: allowed_keys(info),
            });
        };
        if target.is_some() {
            return Err(SpecError::DuplicateKey {
                detector: name.to_string(),
                key: key.to_string(),
            });
        }
        *target = Some(parse_values(&ctx, slot, value.trim())?);
    }
    let knob_values = knob.unwrap_or_else(|| vec![info.knob.map_or(0.0, |k| k.default)]);
    let params: Vec<Vec<f64>> = params
        .into_iter()
        .zip(info.params)
        .map(|(v, p)| v.unwrap_or_else(|| vec![p.default]))
        .collect();
    let combos = params.iter().map(|v| v.len() as f64).product::<f64>();
    let total = combos * knob_values.len() as f64;
    if total > MAX_VALUES as f64 {
        return Err(SpecError::TooMany {
            detector: name.to_string(),
            count: total,
            max: MAX_VALUES,
        });
    }
    let base = info.preset_of.unwrap_or(info.name);
    let mut out = Vec::with_capacity(combos as usize);
    let mut idx = vec![0usize; params.len()];
    loop {
        let values: Vec<f64> = idx.iter().zip(&params).map(|(&i, v)| v[i]).collect();
        out.push(DetectorSpec {
            config: Config::from_values(base, &values),
            knob_values: knob_values.clone(),
        });
        // Odometer: the last parameter varies fastest.
        let mut d = params.len();
        loop {
            if d == 0 {
                return Ok(out);
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < params[d].len() {
                break;
            }
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> DetectorSpec {
        let mut v = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(v.len(), 1, "{text}");
        v.remove(0)
    }

    fn err(text: &str) -> String {
        parse(text).expect_err(text).to_string()
    }

    #[test]
    fn names_and_defaults() {
        let s = one("phi");
        assert_eq!(
            s.config,
            Config::Phi {
                window: 1000,
                min_std: Nanos::ZERO
            }
        );
        assert_eq!(s.knob_values, vec![8.0]);
        assert_eq!(one("fixed").knob_values, vec![1e9]);
        assert_eq!(one("bertier").knob_values, vec![0.0]);
        assert_eq!(one("bertier").config.params(), "window=1000;gamma=0.1;beta=1;phi=4");
        assert_eq!(
            one("akka").config.params(),
            "window=1000;min_std=100ms;pause=3s;first_estimate=1s"
        );
        assert_eq!(one("2w").config, Config::TwoWindows { n1: 1000, n2: 1 });
        assert_eq!(one("2w").config.window(), 1000);
        for c in Config::all_defaults() {
            assert_eq!(one(c.name()).config, c);
            assert!(!c.source().is_empty());
        }
        assert_eq!(Config::all_defaults().len(), 8);
    }

    #[test]
    fn presets() {
        let s = one("akka-cluster");
        assert_eq!(
            s.config,
            Config::Akka {
                window: 1000,
                min_std: Nanos::from_millis(100),
                pause: Nanos::from_secs(3),
                first_estimate: Nanos::from_secs(1)
            }
        );
        assert_eq!(s.knob_values, vec![8.0]);
        let s = one("cassandra");
        assert_eq!(s.config.params(), "window=1000;initial=2s;max_interval=2s");
        assert_eq!(s.knob_values, vec![8.0]);
        assert_eq!(one("cassandra:window=100").config.window(), 100);
        assert_eq!(Config::preset("akka-cluster").unwrap().1, 8.0);
        assert_eq!(Config::presets(), vec!["akka-cluster", "cassandra"]);
        assert!(Config::preset("phi").is_none());
    }

    #[test]
    fn values_and_units() {
        let s = one("phi:window=100,threshold=3.5,min_std=5ms");
        assert_eq!(
            s.config,
            Config::Phi {
                window: 100,
                min_std: Nanos::from_millis(5)
            }
        );
        assert_eq!(s.knob_values, vec![3.5]);
        assert_eq!(s.config.params(), "window=100;min_std=5ms");
        assert_eq!(one("chen:alpha=200ms").knob_values, vec![200e6]);
        assert_eq!(one(" satzger : scale = 0.9 , threshold = 1 ").knob_values, vec![1.0]);
    }

    #[test]
    fn ranges_are_inclusive() {
        let s = one("phi:threshold=0.5..16:0.1");
        assert_eq!(s.knob_values.len(), 156);
        assert_eq!(s.knob_values[0], 0.5);
        assert_eq!(*s.knob_values.last().unwrap(), 16.0);
        assert_eq!(s.knob_values[3], 0.8);
        let s = one("fixed:timeout=50ms..2s:10ms");
        assert_eq!(s.knob_values.len(), 196);
        assert_eq!(*s.knob_values.last().unwrap(), 2e9);
        assert_eq!(one("fixed:timeout=1s..1s:1ms").knob_values, vec![1e9]);
        // END not on the grid: the last value is below END.
        assert_eq!(one("chen:alpha=0s..25ms:10ms").knob_values, vec![0.0, 10e6, 20e6]);
        for (i, v) in one("satzger:threshold=0.5..1:0.005").knob_values.iter().enumerate() {
            assert!((v - (0.5 + 0.005 * i as f64)).abs() < 1e-12);
        }
        // The default sweeps.
        for c in Config::all_defaults() {
            if let Some(k) = c.knob() {
                let v = k.sweep_values();
                assert!(v.len() >= 50 && v.len() <= 201, "{}: {}", c.name(), v.len());
                assert_eq!(*v.last().unwrap(), k.sweep.1);
            }
        }
    }

    #[test]
    fn ranged_parameters_expand_in_order() {
        let v = parse("akka:window=10..30:10,pause=0s..1s:1s,threshold=1..2:1").unwrap();
        let got: Vec<(usize, Nanos)> = v
            .iter()
            .map(|s| match s.config {
                Config::Akka { window, pause, .. } => (window, pause),
                _ => unreachable!(),
            })
            .collect();
        let s = Nanos::SECOND;
        assert_eq!(
            got,
            vec![
                (10, Nanos::ZERO),
                (10, s),
                (20, Nanos::ZERO),
                (20, s),
                (30, Nanos::ZERO),
                (30, s)
            ]
        );
        assert!(v.iter().all(|s| s.knob_values == vec![1.0, 2.0]));
    }

    #[test]
    fn errors_say_what_is_allowed() {
        assert!(err("").contains("empty detector spec"));
        let e = err("phy");
        assert!(
            e.contains("unknown detector 'phy'") && e.contains("phi, akka") && e.contains("cassandra"),
            "{e}"
        );
        let e = err("phi:windw=3");
        assert!(
            e.contains("unknown parameter 'windw'") && e.contains("window (count, default 1000)"),
            "{e}"
        );
        assert!(e.contains("threshold (knob, default 8)"), "{e}");
        let e = err("bertier:threshold=3");
        assert!(e.contains("unknown parameter 'threshold'"), "{e}");
        let e = err("chen:alpha=200");
        assert!(e.contains("needs a unit") && e.contains("200ms"), "{e}");
        let e = err("chen:alpha=200parsecs");
        assert!(e.contains("unknown unit 'parsecs'"), "{e}");
        let e = err("fixed:timeout=-5ms");
        assert!(e.contains("out of range"), "{e}");
        let e = err("phi:window=0");
        assert!(e.contains("window=0 is out of range") && e.contains("from 1 to"), "{e}");
        let e = err("phi:window=ten");
        assert!(e.contains("not a whole number"), "{e}");
        let e = err("phi:threshold=NaN");
        assert!(e.contains("out of range") && e.contains("> 0"), "{e}");
        assert!(err("phi:threshold=0").contains("out of range"));
        assert!(err("phi:threshold=-1").contains("out of range"));
        assert!(err("phi:threshold=inf").contains("out of range"));
        assert!(err("phi:threshold=abc").contains("not a number"));
        let e = err("satzger:threshold=1.5");
        assert!(e.contains("(0, 1]"), "{e}");
        assert!(err("bertier:gamma=0").contains("(0, 1]"));
        assert!(err("satzger:scale=0").contains("> 0"));
        assert!(err("exp-phi:initial=0s").contains("> 0"));
        let e = err("phi:window");
        assert!(e.contains("is not key=value"), "{e}");
        let e = err("phi:window=1,window=2");
        assert!(e.contains("given twice"), "{e}");
        let e = err("phi:threshold=1..2:0");
        assert!(e.contains("step must be greater than 0"), "{e}");
        let e = err("phi:threshold=1..2:-1");
        assert!(e.contains("step must be greater than 0"), "{e}");
        let e = err("phi:threshold=2..1:0.1");
        assert!(e.contains("range is empty"), "{e}");
        let e = err("phi:threshold=1..2");
        assert!(e.contains("needs a step"), "{e}");
        let e = err("fixed:timeout=0s..1000s:1ns");
        assert!(e.contains("more than the limit"), "{e}");
        let e = err("phi:window=1..1000:1,threshold=1..10:0.001");
        assert!(e.contains("more than the limit"), "{e}");
    }

    #[test]
    fn configs_build_working_detectors() {
        use crate::trace::Heartbeat;
        let eta = Nanos::from_millis(100);
        for c in Config::all_defaults() {
            let knobs = c.knob().map_or(vec![0.0], |k| vec![k.default, k.default * 2.0]);
            let mut f = c.family(eta, &knobs);
            let mut d = c.detector(eta, knobs[0]);
            assert_eq!(f.width(), knobs.len());
            for s in 1..=50u64 {
                let hb = Heartbeat {
                    seq: s,
                    recv: Nanos::from_millis(s as i64 * 100),
                    send: None,
                };
                f.observe(&hb);
                d.observe(&hb);
            }
            let mut out = vec![Nanos::ZERO; knobs.len()];
            f.deadlines(&mut out);
            assert_eq!(Some(out[0]), d.deadline(), "{}", c.name());
            // Receipts every 100 ms up to 5000 ms: every interval is 100 ms and every
            // estimate of the next arrival is 5100 ms.
            let want_ms = match c.name() {
                "fixed" => 5000.0 + 1000.0,
                "chen" | "2w" => 5100.0 + 100.0,
                "bertier" | "phi" | "satzger" => 5100.0,
                // History {750, 1250, 100 × 49}: mean 6900/51 ms, std √(2615000/51 -
                // mean²) ms; φ = 8 at y = the real root of 0.070566 y³ + 1.5976 y =
                // ln((1 - 1e-8) / 1e-8) (Cardano), after m = mean + 3 s.
                "akka" => {
                    let mean: f64 = 6900.0 / 51.0;
                    let std = (2_615_000.0f64 / 51.0 - mean * mean).sqrt();
                    let (p, q) = (1.5976 / 0.070566, -((1.0 - 1e-8) / 1e-8f64).ln() / 0.070566);
                    let d = ((q / 2.0f64).powi(2) + (p / 3.0f64).powi(3)).sqrt();
                    let y = (-q / 2.0 + d).cbrt() - (q / 2.0 + d).cbrt();
                    5000.0 + mean + 3000.0 + std * y
                }
                // Intervals {2000 (the initial estimate), 100 × 49}: mean 138 ms.
                "exp-phi" => 5000.0 + 8.0 * std::f64::consts::LN_10 * 138.0,
                other => panic!("no expected deadline for {other}"),
            };
            let got_ms = out[0].0 as f64 / 1e6;
            assert!(
                (got_ms - want_ms).abs() <= 1e-6,
                "{}: {got_ms} ms, expected {want_ms} ms",
                c.name()
            );
            assert!(out[knobs.len() - 1] >= out[0]);
            assert_eq!(c.knob_independent(), c.name() != "akka");
        }
    }

    #[test]
    fn config_serializes_with_its_name() {
        let c = one("2w:n2=3").config;
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(j, r#"{"detector":"2w","n1":1000,"n2":3}"#);
        assert_eq!(serde_json::from_str::<Config>(&j).unwrap(), c);
    }
}

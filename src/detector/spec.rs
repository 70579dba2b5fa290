//! Detector configurations and the spec strings that name them on the command line:
//! `NAME[:key=value,...]`, e.g. `phi:window=1000,threshold=8` or `chen:alpha=200ms`.
//! A value may be a range `START..END:STEP` (END inclusive) for sweeps.

use serde::{Deserialize, Serialize};

use crate::detector::fixed::Fixed;
use crate::detector::{Detector, EstimatorFamily, Family, Tuned};
use crate::time::Nanos;

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
}

/// A detector with its fixed parameters (everything but the knob value).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "detector", rename_all = "kebab-case")]
pub enum Config {
    /// Fixed timeout.
    Fixed,
}

impl Config {
    /// The CLI name.
    pub fn name(&self) -> &'static str {
        match self {
            Config::Fixed => "fixed",
        }
    }

    /// The fixed parameters as `key=value` joined by `;` (the results' `params` column).
    pub fn params(&self) -> String {
        match self {
            Config::Fixed => String::new(),
        }
    }

    /// The knob, or `None` for a detector without one.
    pub fn knob(&self) -> Option<Knob> {
        match self {
            Config::Fixed => Some(Knob {
                name: "timeout",
                unit: Unit::Duration,
                default: 1e9,
                sweep: (10e6, 2e9, 10e6),
            }),
        }
    }

    /// The largest window of heartbeats the detector keeps (the warm-up must cover it).
    pub fn window(&self) -> usize {
        match self {
            Config::Fixed => 1,
        }
    }

    /// Whether one replay serves many knob values (false for `akka`).
    pub fn knob_independent(&self) -> bool {
        true
    }

    /// The detector with knob value `knob` (ignored without a knob), for a trace of
    /// nominal interval `eta`.
    pub fn detector(&self, _eta: Nanos, knob: f64) -> Box<dyn Detector> {
        match self {
            Config::Fixed => Box::new(Tuned::new(Fixed::new(), knob)),
        }
    }

    /// The detector evaluated at every value of `knobs` in one replay.
    pub fn family(&self, _eta: Nanos, knobs: &[f64]) -> Box<dyn Family> {
        match self {
            Config::Fixed => Box::new(EstimatorFamily::new(Fixed::new(), knobs)),
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
    /// Unknown detector.
    #[error("unknown detector '{0}'; the detectors are: fixed")]
    UnknownDetector(String),
}

/// Parses `NAME[:key=value,...]` into one spec per combination of ranged fixed
/// parameters (the knob's range stays inside each spec).
pub fn parse(text: &str) -> Result<Vec<DetectorSpec>, SpecError> {
    let name = text.split(':').next().unwrap_or("").trim();
    match name {
        "fixed" => Ok(vec![DetectorSpec {
            config: Config::Fixed,
            knob_values: vec![1e9],
        }]),
        other => Err(SpecError::UnknownDetector(other.to_string())),
    }
}

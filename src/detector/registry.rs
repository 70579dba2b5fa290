//! The detector registry: every detector and preset fdbench knows, as data.
//!
//! A detector is a [`Definition`]: its name, parameters ([`Param`]: unit, default,
//! allowed [`Range`], aliases), knob, source, scheduling weight and constructors. A
//! preset is a [`Preset`]: a base detector with a production system's defaults, its
//! heartbeat interval, the system's own setting names and a citation per default.
//! Spec strings ([`spec::parse`](crate::detector::spec::parse)), `fdbench list`, the
//! `params` column of results, plots' labels and the sweep's scheduling all read these
//! definitions; nothing else in the crate names a detector.
//!
//! The built-in detectors are [`BUILTIN`], the built-in presets
//! [`PRESETS`](crate::detector::presets::PRESETS). A detector or preset defined outside the crate joins them
//! with [`register`] / [`register_preset`], and from then on works in every function
//! that takes a spec string or a [`Config`].

use std::fmt;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use crate::detector::{
    Detector, Family, akka, bertier, chen, exp_phi, fixed, nfd_s, phi, presets, satzger, two_windows,
};
use crate::time::Nanos;

/// The built-in detectors, in listing order. Adding a detector is one file declaring
/// its [`Definition`] and one line here.
pub const BUILTIN: &[&Definition] = &[
    &fixed::DEFINITION,
    &nfd_s::DEFINITION,
    &chen::DEFINITION,
    &bertier::DEFINITION,
    &phi::DEFINITION,
    &akka::DEFINITION,
    &exp_phi::DEFINITION,
    &satzger::DEFINITION,
    &two_windows::DEFINITION,
];

/// The largest window accepted.
pub const MAX_WINDOW: usize = 10_000_000;

/// How a parameter's values are written and reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// A duration: integer nanoseconds inside, written with a unit (`100ms`; a bare
    /// `0` is zero), reported in milliseconds.
    Duration,
    /// A whole number (a window size).
    Count,
    /// A real number.
    Number,
    /// A real number between 0 and 1.
    Fraction,
}

/// The values a parameter accepts: an interval of the real line, its ends open or
/// closed. An infinite end means "any finite value".
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Range {
    /// The lower end.
    pub min: f64,
    /// Whether `min` itself is excluded.
    pub min_open: bool,
    /// The upper end.
    pub max: f64,
    /// Whether `max` itself is excluded.
    pub max_open: bool,
}

impl Range {
    /// `x >= min`, finite.
    pub const fn at_least(min: f64) -> Range {
        Range {
            min,
            min_open: false,
            max: f64::INFINITY,
            max_open: true,
        }
    }

    /// `x > min`, finite.
    pub const fn above(min: f64) -> Range {
        Range {
            min_open: true,
            ..Range::at_least(min)
        }
    }

    /// `min <= x <= max`.
    pub const fn between(min: f64, max: f64) -> Range {
        Range {
            min,
            min_open: false,
            max,
            max_open: false,
        }
    }

    /// `0 < x <= 1`.
    pub const FRACTION: Range = Range {
        min: 0.0,
        min_open: true,
        max: 1.0,
        max_open: false,
    };

    /// Whether `x` lies in the range.
    pub fn contains(&self, x: f64) -> bool {
        let low = if self.min_open { x > self.min } else { x >= self.min };
        let high = if self.max_open { x < self.max } else { x <= self.max };
        x.is_finite() && low && high
    }
}

/// A parameter of a detector: a fixed parameter, or the knob.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Param {
    /// Its key in spec strings and in results' `params`.
    pub name: &'static str,
    /// Other keys accepted for it (in its unit).
    pub aliases: &'static [&'static str],
    /// Its unit.
    pub unit: Unit,
    /// Its default value (nanoseconds for durations).
    pub default: f64,
    /// The values it accepts.
    pub range: Range,
    /// What it does.
    pub doc: &'static str,
    /// For a knob, the default sweep `(start, end, step)`, END inclusive.
    pub sweep: Option<(f64, f64, f64)>,
    /// Whether results' `params` leave it out while it is at its default (a parameter
    /// whose default is the behaviour without it, such as a continuous `check`).
    pub quiet: bool,
}

/// A detector's sensitivity knob: a [`Param`] with a default sweep.
pub type Knob = Param;

impl Param {
    const fn new(name: &'static str, unit: Unit, default: f64, range: Range, doc: &'static str) -> Param {
        Param {
            name,
            aliases: &[],
            unit,
            default,
            range,
            doc,
            sweep: None,
            quiet: false,
        }
    }

    /// A window size: a count from 1 to [`MAX_WINDOW`].
    pub const fn window(name: &'static str, default: usize, doc: &'static str) -> Param {
        Param::new(
            name,
            Unit::Count,
            default as f64,
            Range::between(1.0, MAX_WINDOW as f64),
            doc,
        )
    }

    /// A duration `>= 0`, its default in nanoseconds.
    pub const fn duration(name: &'static str, default: f64, doc: &'static str) -> Param {
        Param::new(name, Unit::Duration, default, Range::at_least(0.0), doc)
    }

    /// A real number in `range`.
    pub const fn number(name: &'static str, default: f64, range: Range, doc: &'static str) -> Param {
        Param::new(name, Unit::Number, default, range, doc)
    }

    /// A fraction in `(0, 1]`.
    pub const fn fraction(name: &'static str, default: f64, doc: &'static str) -> Param {
        Param::new(name, Unit::Fraction, default, Range::FRACTION, doc)
    }

    /// The same parameter with another range.
    pub const fn in_range(self, range: Range) -> Param {
        Param { range, ..self }
    }

    /// The same parameter with other accepted keys.
    pub const fn with_aliases(self, aliases: &'static [&'static str]) -> Param {
        Param { aliases, ..self }
    }

    /// The same parameter, left out of results' `params` while at its default.
    pub const fn quiet(self) -> Param {
        Param { quiet: true, ..self }
    }

    /// The same parameter as a knob with a default sweep `start..end:step`.
    pub const fn swept(self, start: f64, end: f64, step: f64) -> Param {
        Param {
            sweep: Some((start, end, step)),
            ..self
        }
    }

    /// A value as written in a spec string and in `params` (`100ms`, `1000`, `0.5`).
    pub fn format(&self, value: f64) -> String {
        match self.unit {
            Unit::Count => format!("{}", value as u64),
            Unit::Duration => Nanos(value.round() as i64).to_string(),
            Unit::Number | Unit::Fraction => value.to_string(),
        }
    }

    /// A value as reported in results: milliseconds for durations, plain otherwise.
    pub fn report(&self, value: f64) -> f64 {
        match self.unit {
            Unit::Duration => value / 1e6,
            _ => value,
        }
    }

    /// The default sweep `(start, end, step)`; `(default, default, 1)` without one.
    pub fn sweep_bounds(&self) -> (f64, f64, f64) {
        self.sweep.unwrap_or((self.default, self.default, 1.0))
    }

    /// The values of the default sweep (just the default without one), internal units.
    pub fn sweep_values(&self) -> Vec<f64> {
        let Some((start, end, step)) = self.sweep else {
            return vec![self.default];
        };
        let count = range_count(start, end, step);
        (0..count)
            .map(|i| range_value(start, end, step, i, count, self.unit))
            .collect()
    }

    /// The values accepted, in words (`a duration >= 0 with a unit, e.g. 100ms`).
    pub fn allowed(&self) -> String {
        let r = &self.range;
        let bound = |x: f64| match self.unit {
            Unit::Duration if x == 0.0 => "0".to_string(),
            Unit::Duration => self.format(x),
            _ => x.to_string(),
        };
        let op = if r.min_open { ">" } else { ">=" };
        match self.unit {
            Unit::Count => format!("an integer from {} to {}", bound(r.min), bound(r.max)),
            Unit::Duration => {
                let example = if self.default > 0.0 { self.default } else { 100e6 };
                let upper = if r.max.is_finite() {
                    format!(" and <= {}", bound(r.max))
                } else {
                    String::new()
                };
                format!(
                    "a duration {op} {}{upper} with a unit, e.g. {}",
                    bound(r.min),
                    self.format(example)
                )
            }
            _ if !r.max.is_finite() => format!("a finite number {op} {}", bound(r.min)),
            _ => format!(
                "a number in {}{}, {}{}",
                if r.min_open { "(" } else { "[" },
                bound(r.min),
                bound(r.max),
                if r.max_open { ")" } else { "]" }
            ),
        }
    }

    /// Whether `key` names this parameter.
    pub fn is_called(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }
}

/// The number of values of `start..end:step`, END inclusive within rounding.
pub(crate) fn range_count(start: f64, end: f64, step: f64) -> usize {
    ((end - start) / step + 1e-9).floor() as usize + 1
}

/// The `i`-th of `count` values of `start..end:step`: END itself when the last value
/// is within rounding of it; durations and counts whole; numbers rounded to 12 digits.
pub(crate) fn range_value(start: f64, end: f64, step: f64, i: usize, count: usize, unit: Unit) -> f64 {
    let v = start + i as f64 * step;
    if i + 1 == count && (v - end).abs() <= step * 1e-6 {
        return end;
    }
    match unit {
        Unit::Duration | Unit::Count => v.round(),
        _ if v.abs() < 1e6 => (v * 1e12).round() / 1e12,
        _ => v,
    }
}

/// Builds one detector of a configuration with its knob set: `(config, eta, knob)`,
/// `eta` the trace's nominal interval.
pub type DetectorFn = fn(&Config, Nanos, f64) -> Box<dyn Detector>;

/// Builds the family of a configuration at many knob values: `(config, eta, knobs)`.
pub type FamilyFn = fn(&Config, Nanos, &[f64]) -> Box<dyn Family>;

/// A detector as the registry knows it. Each detector module declares one as its
/// `DEFINITION`; see the [`detector`](crate::detector) module docs for an example.
pub struct Definition {
    /// Its name in spec strings and results (`chen`, `2w`).
    pub name: &'static str,
    /// One line on what it is.
    pub summary: &'static str,
    /// Where it comes from (paper or library).
    pub source: &'static str,
    /// The fixed parameters, in canonical order (the order of `params` in results).
    pub params: &'static [Param],
    /// The knob, if any (`bertier` has none).
    pub knob: Option<Knob>,
    /// Whether the state is independent of the knob, so that one replay serves every
    /// knob value (false for `akka`, which records intervals only while trusting).
    pub knob_independent: bool,
    /// Whether it reads the heartbeats' send times (`nfd-s`): it cannot run on a trace
    /// without them.
    pub needs_send_times: bool,
    /// The cost of one knob value in a replay relative to `fixed`, for scheduling only.
    pub weight: usize,
    /// The heartbeats a configuration needs before its estimates are meaningful (its
    /// largest window); the warm-up is at least this.
    pub window: fn(&Config) -> usize,
    /// Builds one detector.
    pub detector: DetectorFn,
    /// Builds a family over many knob values (one replay for all).
    pub family: FamilyFn,
}

impl fmt::Debug for Definition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Definition")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Serialize for Definition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Definition", 5)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("summary", self.summary)?;
        st.serialize_field("source", self.source)?;
        st.serialize_field("params", self.params)?;
        st.serialize_field("knob", &self.knob)?;
        st.end()
    }
}

impl Definition {
    /// The parameter called `key` (by name or alias), fixed or knob; `None` for the
    /// knob is `Some((None, knob))`.
    pub fn param(&self, key: &str) -> Option<(Option<usize>, &Param)> {
        if let Some(i) = self.params.iter().position(|p| p.is_called(key)) {
            return Some((Some(i), &self.params[i]));
        }
        self.knob.as_ref().filter(|k| k.is_called(key)).map(|k| (None, k))
    }

    /// The configuration with every parameter at its default.
    pub fn defaults(&'static self) -> Config {
        Config {
            definition: self,
            values: self.params.iter().map(|p| p.default).collect(),
            preset: None,
        }
    }

    /// The window of a configuration whose only window is its `window` parameter.
    pub fn window_param(config: &Config) -> usize {
        config.count("window")
    }
}

/// A default of a preset, with where the system defines it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PresetValue {
    /// The base detector's parameter (or knob) name.
    pub param: &'static str,
    /// Its value in internal units (nanoseconds for durations).
    pub value: f64,
    /// Where the system defines this default (file and version, or documentation page).
    pub cite: &'static str,
}

/// A setting name of a preset's system, standing for a parameter of the base detector.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Alias {
    /// The system's name for the setting (`acceptable-heartbeat-pause`).
    pub name: &'static str,
    /// The base detector's parameter it sets (`pause`).
    pub param: &'static str,
    /// For a duration the system writes as a bare number, nanoseconds per unit of that
    /// number (`1e6` for milliseconds); `None` when it is written with a unit.
    pub bare: Option<f64>,
    /// How the system's value becomes the parameter's when they differ (etcd's
    /// election timeout `E` is `timeout = E - tick`); `None` when they are the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map: Option<AliasMap>,
}

impl Alias {
    /// The system's setting `name` for the parameter `param`, written with a unit.
    pub const fn new(name: &'static str, param: &'static str) -> Alias {
        Alias {
            name,
            param,
            bare: None,
            map: None,
        }
    }

    /// The same setting written as a bare number of `scale` nanoseconds (`1e6` for
    /// milliseconds).
    pub const fn bare(self, scale: f64) -> Alias {
        Alias {
            bare: Some(scale),
            ..self
        }
    }

    /// The same setting with a conversion between the system's value and the parameter's.
    pub const fn mapped(self, map: AliasMap) -> Alias {
        Alias { map: Some(map), ..self }
    }

    /// The parameter's value for the system's value `x` (internal units).
    pub fn to_param(&self, x: f64) -> f64 {
        self.map.map_or(x, |m| (m.to_param)(x))
    }

    /// The system's value for the parameter's value `v` (internal units).
    pub fn to_system(&self, v: f64) -> f64 {
        self.map.map_or(v, |m| (m.to_system)(v))
    }
}

/// A conversion between a system's setting and the base detector's parameter, both in
/// internal units (nanoseconds for durations); the two functions are inverses on the
/// values the system accepts.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct AliasMap {
    /// The rule in words (`timeout = election-timeout - 100ms`).
    pub rule: &'static str,
    /// System value to parameter value.
    #[serde(skip)]
    pub to_param: fn(f64) -> f64,
    /// Parameter value to system value.
    #[serde(skip)]
    pub to_system: fn(f64) -> f64,
}

/// How a system writes the value of a setting in its configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Syntax {
    /// A duration with a unit, in whole seconds when exact, else whole milliseconds
    /// (`4s`, `1500ms`): HOCON, Go and YAML durations alike.
    Duration,
    /// A bare integer of milliseconds (`1500`).
    Millis,
    /// A bare integer of seconds (`30`).
    Seconds,
    /// A plain number (`10`, `8.5`).
    Number,
}

impl Syntax {
    /// `value` (internal units: nanoseconds for durations) as the system writes it.
    pub fn write(self, value: f64) -> String {
        match self {
            Syntax::Duration if (value / 1e9).fract() == 0.0 => format!("{}s", (value / 1e9) as i64),
            Syntax::Duration => format!("{}ms", (value / 1e6).round() as i64),
            Syntax::Millis => format!("{}", (value / 1e6).round() as i64),
            Syntax::Seconds => format!("{}", (value / 1e9).round() as i64),
            Syntax::Number => {
                let r = (value * 1e9).round() / 1e9;
                format!("{r}")
            }
        }
    }
}

/// A range a system enforces (or advises) on a setting, in the setting's internal units.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Limit {
    /// The smallest value allowed (`-inf` for none).
    pub min: f64,
    /// The largest value allowed (`inf` for none).
    pub max: f64,
    /// What the system does outside it, and what to do; cited.
    pub note: &'static str,
    /// Whether the system refuses (or clamps) a value outside it; `false` for advice.
    pub enforced: bool,
}

/// The setting an operator changes to trade detection time for accuracy, and how to
/// write it: what `fdbench verdict` and `tune` print for a preset.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Lever {
    /// The preset's alias for the setting (one of [`Preset::aliases`]).
    pub alias: &'static str,
    /// Configuration lines in the system's own syntax, `{}` standing for the value.
    pub lines: &'static [&'static str],
    /// How the value is written.
    pub syntax: Syntax,
    /// The smallest change the system's syntax allows or its operators use (internal
    /// units of the setting).
    pub step: f64,
    /// The limits the system puts on the setting.
    pub limits: &'static [Limit],
}

impl Lever {
    /// The configuration lines with the setting at `value` (the system's value,
    /// internal units).
    pub fn config(&self, value: f64) -> Vec<String> {
        let v = self.syntax.write(value);
        self.lines.iter().map(|l| l.replace("{}", &v)).collect()
    }

    /// The notes of the limits that `value` (the system's value) lies outside.
    pub fn crossed(&self, value: f64) -> Vec<&'static str> {
        self.limits
            .iter()
            .filter(|l| value < l.min || value > l.max)
            .map(|l| l.note)
            .collect()
    }
}

/// A production system's failure detector: a base detector with the system's defaults.
#[derive(Debug, Serialize)]
pub struct Preset {
    /// Its name in spec strings (`akka-cluster`).
    pub name: &'static str,
    /// The detector it configures.
    #[serde(serialize_with = "definition_name")]
    pub base: &'static Definition,
    /// One line on what it is.
    pub summary: &'static str,
    /// What the system does, and what a replay of a heartbeat trace does and does not
    /// capture of it.
    pub doc: &'static str,
    /// The system's heartbeat interval.
    pub heartbeat: Nanos,
    /// The system's defaults, each cited; parameters not listed keep the base's.
    pub defaults: &'static [PresetValue],
    /// The system's setting names.
    pub aliases: &'static [Alias],
    /// The system's name for its heartbeat interval (`heartbeat-interval`), for messages.
    pub heartbeat_setting: &'static str,
    /// The setting an operator changes, if the preset names one.
    pub lever: Option<Lever>,
}

/// A preset on a trace whose nominal interval is not the preset's heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{preset} heartbeats every {heartbeat} ({setting}), but {trace} has a nominal interval of {interval}; {fix}")]
pub struct WrongInterval {
    /// The preset.
    pub preset: &'static str,
    /// Its heartbeat interval.
    pub heartbeat: Nanos,
    /// The system's name for the interval.
    pub setting: &'static str,
    /// The trace, as named in the message (its path, or `the trace`).
    pub trace: String,
    /// The trace's nominal interval.
    pub interval: Nanos,
    /// What to do: the exact `fdbench resample` command, or to record again.
    pub fix: String,
}

fn definition_name<S: serde::Serializer>(d: &&'static Definition, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(d.name)
}

impl Preset {
    /// The value the preset gives `param` (its default, else the base detector's).
    pub fn value(&self, param: &Param) -> f64 {
        self.defaults
            .iter()
            .find(|d| d.param == param.name)
            .map_or(param.default, |d| d.value)
    }

    /// The configuration of the preset's defaults.
    pub fn config(&'static self) -> Config {
        Config {
            definition: self.base,
            values: self.base.params.iter().map(|p| self.value(p)).collect(),
            preset: Some(self),
        }
    }

    /// The preset's knob value (its default, else the base's).
    pub fn knob(&self) -> Option<f64> {
        self.base.knob.as_ref().map(|k| self.value(k))
    }

    /// The alias called `name`.
    pub fn alias(&self, name: &str) -> Option<&Alias> {
        self.aliases.iter().find(|a| a.name == name)
    }

    /// The defaults naming a parameter the base detector does not have (none for a
    /// well-formed preset).
    pub fn unknown_defaults(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.defaults
            .iter()
            .map(|d| d.param)
            .filter(|p| self.base.param(p).is_none())
    }

    /// Whether the preset applies to a trace of nominal interval `interval`: its heartbeat
    /// must be that interval. The error names `trace` (a path, for the exact command) and
    /// gives the `fdbench resample` command when the heartbeat is a whole multiple of
    /// the interval.
    pub fn check_interval(&self, interval: Nanos, trace: &str) -> Result<(), WrongInterval> {
        if interval == self.heartbeat {
            return Ok(());
        }
        let fix = match crate::trace::resample::command(trace, interval, self.heartbeat) {
            Ok(command) => format!(
                "keep one heartbeat in {} with `{command}` and run on that",
                self.heartbeat.0 / interval.0
            ),
            Err(_) => match near_divisor(interval, self.heartbeat)
                .and_then(|n| Some((n, crate::trace::resample::command(trace, n, self.heartbeat).ok()?)))
            {
                Some((nominal, command)) => {
                    let keep = match self.heartbeat.0 / nominal.0 {
                        1 => "keep every heartbeat".to_string(),
                        k => format!("keep one heartbeat in {k}"),
                    };
                    format!(
                        "{interval} is within 0.1 % of {nominal}; if that is the trace's nominal interval (a \
                         sender's clock drifts), say so and {keep} with `{command} --trace-interval {nominal}` and \
                         run on that"
                    )
                }
                None => format!(
                    "{} is not a whole multiple of {interval}, so thinning cannot make it; record the trace again with a heartbeat every {} (`fdbench record ... --interval {}`)",
                    self.heartbeat, self.heartbeat, self.heartbeat
                ),
            },
        };
        Err(WrongInterval {
            preset: self.name,
            heartbeat: self.heartbeat,
            setting: self.heartbeat_setting,
            trace: trace.to_string(),
            interval,
            fix,
        })
    }
}

/// The whole fraction `heartbeat / k` (`k >= 1`) within 0.1 % of a measured `interval`,
/// if there is one: the nominal interval a trace whose metadata carries a measured
/// spacing (100000.006 µs for 100 ms) most likely has.
fn near_divisor(interval: Nanos, heartbeat: Nanos) -> Option<Nanos> {
    if interval.0 <= 0 || heartbeat.0 <= 0 {
        return None;
    }
    let k = (heartbeat.0 as f64 / interval.0 as f64).round().max(1.0) as i64;
    let nominal = heartbeat.0 / k;
    let near = (nominal - interval.0).unsigned_abs().saturating_mul(1000) <= nominal.unsigned_abs();
    (heartbeat.0 % k == 0 && near).then_some(Nanos(nominal))
}

/// A detector or a preset, as a name in a spec string refers to it.
#[derive(Clone, Copy, Debug)]
pub enum Entry {
    /// A detector.
    Detector(&'static Definition),
    /// A preset.
    Preset(&'static Preset),
}

impl Entry {
    /// The detector, or the preset's base detector.
    pub fn definition(&self) -> &'static Definition {
        match self {
            Entry::Detector(d) => d,
            Entry::Preset(p) => p.base,
        }
    }

    /// Its name in spec strings.
    pub fn name(&self) -> &'static str {
        match self {
            Entry::Detector(d) => d.name,
            Entry::Preset(p) => p.name,
        }
    }
}

static EXTRA_DETECTORS: RwLock<Vec<&'static Definition>> = RwLock::new(Vec::new());
static EXTRA_PRESETS: RwLock<Vec<&'static Preset>> = RwLock::new(Vec::new());

/// A name given twice to the registry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the registry already has a detector or preset called '{0}'; choose another name")]
pub struct NameTaken(pub String);

/// Adds a detector defined outside the crate. From then on its name works in spec
/// strings, sweeps, tuning, reports, plots and `list`.
pub fn register(definition: &'static Definition) -> Result<(), NameTaken> {
    if find(definition.name).is_some() {
        return Err(NameTaken(definition.name.to_string()));
    }
    EXTRA_DETECTORS
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .push(definition);
    Ok(())
}

/// Adds a preset defined outside the crate (its base may be any registered detector).
pub fn register_preset(preset: &'static Preset) -> Result<(), NameTaken> {
    if find(preset.name).is_some() {
        return Err(NameTaken(preset.name.to_string()));
    }
    EXTRA_PRESETS.write().unwrap_or_else(|e| e.into_inner()).push(preset);
    Ok(())
}

/// Every detector: the built-ins, then those registered, in order.
pub fn detectors() -> Vec<&'static Definition> {
    let extra = EXTRA_DETECTORS.read().unwrap_or_else(|e| e.into_inner());
    BUILTIN.iter().copied().chain(extra.iter().copied()).collect()
}

/// Every preset: the built-ins, then those registered, in order.
pub fn presets() -> Vec<&'static Preset> {
    let extra = EXTRA_PRESETS.read().unwrap_or_else(|e| e.into_inner());
    presets::PRESETS.iter().copied().chain(extra.iter().copied()).collect()
}

/// The detector or preset called `name`.
pub fn find(name: &str) -> Option<Entry> {
    detectors()
        .into_iter()
        .find(|d| d.name == name)
        .map(Entry::Detector)
        .or_else(|| presets().into_iter().find(|p| p.name == name).map(Entry::Preset))
}

/// Every name a spec string may start with, detectors first.
pub fn names() -> Vec<&'static str> {
    let mut v: Vec<&str> = detectors().iter().map(|d| d.name).collect();
    v.extend(presets().iter().map(|p| p.name));
    v
}

/// The candidate closest to `word` in edit distance, if close enough to be a likely
/// misspelling (at most a third of its letters, and at least one, differ).
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// A detector configuration: a registered detector with a value for each of its fixed
/// parameters (not the knob), and the preset it came from, if any.
#[derive(Clone, Debug)]
pub struct Config {
    definition: &'static Definition,
    values: Vec<f64>,
    preset: Option<&'static Preset>,
}

impl PartialEq for Config {
    fn eq(&self, other: &Config) -> bool {
        std::ptr::eq(self.definition, other.definition)
            && self.values == other.values
            && self.preset.map(|p| p.name) == other.preset.map(|p| p.name)
    }
}

impl Config {
    /// `definition` with `values` for its fixed parameters, in canonical order.
    /// `None` unless there is one value per parameter, each in its range.
    pub fn new(definition: &'static Definition, values: Vec<f64>) -> Option<Config> {
        let ok = values.len() == definition.params.len()
            && definition.params.iter().zip(&values).all(|(p, &v)| p.range.contains(v));
        ok.then_some(Config {
            definition,
            values,
            preset: None,
        })
    }

    pub(crate) fn with(definition: &'static Definition, values: Vec<f64>, preset: Option<&'static Preset>) -> Config {
        Config {
            definition,
            values,
            preset,
        }
    }

    /// The same configuration with its fixed parameter `name` set to `value` (internal
    /// units: nanoseconds for durations); `None` if it has no such parameter or the value
    /// is out of the parameter's range.
    pub fn with_value(&self, name: &str, value: f64) -> Option<Config> {
        let i = self.definition.params.iter().position(|p| p.name == name)?;
        self.definition.params[i].range.contains(value).then(|| {
            let mut c = self.clone();
            c.values[i] = value;
            c
        })
    }

    /// The configuration of the built-in or registered detector `name` at its
    /// defaults, or of the preset `name`.
    pub fn named(name: &str) -> Option<Config> {
        Some(match find(name)? {
            Entry::Detector(d) => d.defaults(),
            Entry::Preset(p) => p.config(),
        })
    }

    /// Every detector at its defaults, in listing order (no presets).
    pub fn all_defaults() -> Vec<Config> {
        detectors().into_iter().map(Definition::defaults).collect()
    }

    /// The detector's definition.
    pub fn definition(&self) -> &'static Definition {
        self.definition
    }

    /// The preset this configuration came from, if any.
    pub fn preset(&self) -> Option<&'static Preset> {
        self.preset
    }

    /// The detector's name (the base detector's for a preset).
    pub fn name(&self) -> &'static str {
        self.definition.name
    }

    /// Where the detector comes from.
    pub fn source(&self) -> &'static str {
        self.definition.source
    }

    /// The knob, if any.
    pub fn knob(&self) -> Option<Knob> {
        self.definition.knob
    }

    /// The fixed parameters' values, in canonical order (internal units).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The value of the fixed parameter `name` (internal units).
    ///
    /// # Panics
    /// If the detector has no such parameter: a definition asking for a parameter it
    /// does not declare.
    pub fn get(&self, name: &str) -> f64 {
        match self.definition.params.iter().position(|p| p.name == name) {
            Some(i) => self.values[i],
            None => panic!("detector {} has no parameter {name}", self.definition.name),
        }
    }

    /// The monitor's check tick: the `check` parameter, continuous for a detector
    /// without one.
    pub fn check(&self) -> crate::detector::Check {
        match self.definition.params.iter().position(|p| p.name == "check") {
            Some(i) => crate::detector::Check::every(Nanos(self.values[i].round() as i64)),
            None => crate::detector::Check::default(),
        }
    }

    /// The count parameter `name`.
    pub fn count(&self, name: &str) -> usize {
        self.get(name) as usize
    }

    /// The duration parameter `name`.
    pub fn nanos(&self, name: &str) -> Nanos {
        Nanos(self.get(name).round() as i64)
    }

    /// The fixed parameters as results' `params` column writes them:
    /// `key=value;...` in canonical order, durations with units; a quiet parameter at
    /// its default (`check=0s`) is left out.
    pub fn params(&self) -> String {
        self.definition
            .params
            .iter()
            .zip(&self.values)
            .filter(|(p, v)| !(p.quiet && **v == p.default))
            .map(|(p, &v)| format!("{}={}", p.name, p.format(v)))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Its name in results' `detector` column: the preset's name, followed by the fixed
    /// parameters that differ from the preset's defaults (`akka-cluster(pause=2s)`; the
    /// knob has its own columns); else the detector's name.
    pub fn preset_label(&self) -> String {
        match (self.preset, self.knob()) {
            (Some(p), Some(_)) => self.label(p.knob().unwrap_or(0.0)),
            _ => self.label(0.0),
        }
    }

    /// Its name for people: the preset's name, followed by what differs from the
    /// preset's defaults (`akka-cluster(pause=2s)`); else the detector's name.
    pub fn label(&self, knob: f64) -> String {
        let Some(p) = self.preset else {
            return self.name().to_string();
        };
        let mut changed: Vec<String> = self
            .definition
            .params
            .iter()
            .zip(&self.values)
            .filter(|(q, v)| p.value(q) != **v)
            .map(|(q, &v)| format!("{}={}", q.name, q.format(v)))
            .collect();
        if let (Some(k), Some(d)) = (self.knob(), p.knob()) {
            if (knob - d).abs() > 1e-9 * d.abs().max(1.0) {
                changed.push(format!("{}={}", k.name, k.format(knob)));
            }
        }
        if changed.is_empty() {
            p.name.to_string()
        } else {
            format!("{}({})", p.name, changed.join(","))
        }
    }

    /// The heartbeats it needs before its estimates are meaningful.
    pub fn window(&self) -> usize {
        (self.definition.window)(self)
    }

    /// Whether the state is independent of the knob (see [`Definition`]).
    pub fn knob_independent(&self) -> bool {
        self.definition.knob_independent
    }

    /// Whether the detector reads the heartbeats' send times (see [`Definition`]).
    pub fn needs_send_times(&self) -> bool {
        self.definition.needs_send_times
    }

    /// The relative cost of one knob value in a replay, for scheduling.
    pub fn weight(&self) -> usize {
        self.definition.weight
    }

    /// One detector with the knob at `knob`, for a trace of nominal interval `eta`.
    pub fn detector(&self, eta: Nanos, knob: f64) -> Box<dyn Detector> {
        (self.definition.detector)(self, eta, knob)
    }

    /// The family over `knobs`, for a trace of nominal interval `eta`.
    pub fn family(&self, eta: Nanos, knobs: &[f64]) -> Box<dyn Family> {
        (self.definition.family)(self, eta, knobs)
    }
}

impl Serialize for Config {
    /// `{"detector": NAME, PARAM: VALUE, ...}`: counts and numbers as numbers,
    /// durations as written in spec strings (`"100ms"`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let shown = |(p, v): &(&Param, &f64)| !(p.quiet && **v == p.default);
        let count = self.definition.params.iter().zip(&self.values).filter(shown).count();
        let mut m = s.serialize_map(Some(count + 1))?;
        m.serialize_entry("detector", self.name())?;
        for (p, &v) in self.definition.params.iter().zip(&self.values).filter(shown) {
            match p.unit {
                Unit::Count => m.serialize_entry(p.name, &(v as u64))?,
                Unit::Duration => m.serialize_entry(p.name, &p.format(v))?,
                _ => m.serialize_entry(p.name, &v)?,
            }
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Config {
    /// The inverse of `Serialize`, through the spec-string parser (so with its checks).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Config, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Value {
            Number(f64),
            Text(String),
        }
        let map = std::collections::BTreeMap::<String, Value>::deserialize(d)?;
        let Some(Value::Text(name)) = map.get("detector") else {
            return Err(serde::de::Error::custom(
                "a detector configuration needs \"detector\": NAME",
            ));
        };
        let items: Vec<String> = map
            .iter()
            .filter(|(k, _)| k.as_str() != "detector")
            .map(|(k, v)| match v {
                Value::Number(x) => format!("{k}={x}"),
                Value::Text(t) => format!("{k}={t}"),
            })
            .collect();
        let text = format!("{name}:{}", items.join(","));
        let mut specs = crate::detector::spec::parse(&text).map_err(serde::de::Error::custom)?;
        match specs.len() {
            1 => Ok(specs.remove(0).config),
            _ => Err(serde::de::Error::custom(
                "a detector configuration has one value per parameter",
            )),
        }
    }
}

/// The φ knob shared by `phi`, `akka` and `exp-phi`: suspect when φ reaches it.
pub const THRESHOLD: Knob =
    Param::number("threshold", 8.0, Range::above(0.0), "suspect when phi reaches it").swept(0.5, 16.0, 0.1);

/// The check interval of the timeout-style detectors (`fixed`, `chen`, `2w`, `nfd-s`):
/// a monitor that looks only at the multiples of it notices a deadline at its next tick.
pub const CHECK: Param = Param::duration(
    "check",
    0.0,
    "the monitor's check interval: it looks at multiples of it on its clock and suspects at the first tick at or after the deadline (0 = continuously)",
)
.quiet();

/// The safety margin of `chen` and `2w`, added to the expected arrival.
pub const ALPHA: Knob =
    Param::duration("alpha", 100e6, "safety margin added to the expected arrival").swept(0.0, 2e9, 10e6);

//! Spec strings: the command line's names for detector configurations,
//! `NAME[:key=value,...]`, e.g. `phi:window=1000,threshold=8` or `chen:alpha=200ms`.
//!
//! - `NAME` is a detector or a preset of the [`registry`];
//!   the keys are its parameters' names or aliases (a preset's also its system's own
//!   setting names). A misspelt name or key gets "did you mean".
//! - A value may be a range `START..END:STEP` (END inclusive; values `START + i·STEP`,
//!   END included despite float rounding), e.g. `fixed:timeout=50ms..2s:10ms`, or a
//!   list of values and ranges separated by `|`, e.g. `phi:threshold=8|10|12`.
//! - A range on the knob becomes the spec's [`knob_values`](DetectorSpec::knob_values);
//!   a range on a fixed parameter expands to one [`DetectorSpec`] per value (the
//!   cartesian product of all ranged parameters, the first parameter varying slowest).
//! - Durations carry a unit (`100ms`, `1.5s`), except zero, which is zero in any unit
//!   (`chen:alpha=0..1s:5ms`); a knob left out takes its default.
//! - A spec expands to at most [`MAX_VALUES`] (configuration, knob value) pairs.
//!
//! The default sweep ranges ([`Param::sweep`]) span aggressive to lenient settings on a
//! trace with a 100 ms heartbeat interval, with at most about 200 values each: `timeout`
//! 10 ms to 2 s, `alpha` 0 to 2 s (10 ms steps), the φ thresholds 0.5 to 16 (steps of
//! 0.1), and satzger's fraction 0.5 to 1 (steps of 0.005).

use crate::detector::registry::{self, Alias, AliasMap, Config, Entry, Param, Unit, did_you_mean, range_value};
use crate::time::parse_duration;

pub use crate::detector::registry::MAX_WINDOW;

/// The most (configuration, knob value) pairs one spec string may expand to.
pub const MAX_VALUES: usize = 1_000_000;

/// One detector configuration with the knob values to evaluate it at.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectorSpec {
    /// The configuration (fixed parameters).
    pub config: Config,
    /// The knob values, in internal units (one value, ignored, for a knob-less detector).
    pub knob_values: Vec<f64>,
}

/// A spec string that cannot be parsed; the message says what is allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// Nothing was given.
    #[error("empty detector spec; write NAME[:key=value,...], e.g. phi:threshold=8")]
    Empty,
    /// The name is neither a detector nor a preset.
    #[error("unknown detector '{name}'{hint}; the detectors are: {names}", names = registry::names().join(", "))]
    UnknownDetector {
        /// The name given.
        name: String,
        /// `; did you mean 'x'?` or nothing.
        hint: String,
    },
    /// An item without `=`.
    #[error("detector spec '{spec}': '{item}' is not key=value; write e.g. phi:window=1000,threshold=8")]
    BadItem {
        /// The whole spec.
        spec: String,
        /// The item.
        item: String,
    },
    /// A key that is no parameter of the detector.
    #[error("{detector}: unknown parameter '{key}'{hint}; the parameters are: {allowed}")]
    UnknownKey {
        /// The detector or preset.
        detector: String,
        /// The key given.
        key: String,
        /// `; did you mean 'x'?` or nothing.
        hint: String,
        /// The parameters, with kinds and defaults.
        allowed: String,
    },
    /// A parameter given twice (possibly by two of its names).
    #[error("{detector}: parameter '{key}' is given twice; give it once (a range START..END:STEP sweeps it)")]
    DuplicateKey {
        /// The detector or preset.
        detector: String,
        /// The parameter.
        key: String,
    },
    /// A value that does not parse.
    #[error("{detector}: {key}={value}: {reason}")]
    BadValue {
        /// The detector or preset.
        detector: String,
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// Why, and what to write instead.
        reason: String,
    },
    /// A value outside the parameter's range.
    #[error("{detector}: {key}={value} is out of range; {key} must be {allowed}")]
    OutOfRange {
        /// The detector or preset.
        detector: String,
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// The values accepted, in words.
        allowed: String,
    },
    /// A malformed range.
    #[error("{detector}: {key}={value}: {reason}")]
    BadRange {
        /// The detector or preset.
        detector: String,
        /// The key.
        key: String,
        /// The range.
        value: String,
        /// Why, and what to write instead.
        reason: String,
    },
    /// The spec expands to too many values.
    #[error(
        "{detector}: the spec expands to {count} values, more than the limit of {max}; use a larger step or a shorter range"
    )]
    TooMany {
        /// The detector or preset.
        detector: String,
        /// The number of values it expands to.
        count: f64,
        /// The limit ([`MAX_VALUES`], or what the grid's other specs leave of it).
        max: usize,
    },
}

fn hint(candidate: Option<&str>) -> String {
    candidate.map_or(String::new(), |c| format!("; did you mean '{c}'?"))
}

/// What a key refers to: the parameter, and for a system's bare-number setting the
/// nanoseconds per unit of the number.
struct Slot<'a> {
    detector: &'a str,
    key: &'a str,
    param: &'a Param,
    bare: Option<f64>,
    map: Option<AliasMap>,
    /// The most values this key may expand to.
    max: usize,
}

impl Slot<'_> {
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

    /// One value, unchecked against the range.
    fn number(&self, t: &str) -> Result<f64, SpecError> {
        let allowed = || self.param.allowed();
        match (self.param.unit, self.bare) {
            (Unit::Duration, Some(scale)) => match t.parse::<f64>() {
                Ok(x) => Ok((x * scale).round()),
                Err(_) => Err(self.bad(t, format!("{} is a bare number here (e.g. 1500)", self.key))),
            },
            (Unit::Duration, None) => match parse_duration(t) {
                Ok(d) => Ok(d.0 as f64),
                Err(_) if t.parse::<f64>() == Ok(0.0) => Ok(0.0),
                Err(_) if t.parse::<f64>().is_ok() => {
                    Err(self.bad(t, format!("a duration needs a unit; write e.g. {t}ms or {t}s")))
                }
                Err(e) => Err(self.bad(t, e.to_string())),
            },
            (Unit::Count, _) => t
                .parse::<u64>()
                .map(|n| n as f64)
                .map_err(|_| self.bad(t, format!("not a whole number; {} must be {}", self.key, allowed()))),
            (Unit::Number | Unit::Fraction, _) => t
                .parse::<f64>()
                .map_err(|_| self.bad(t, format!("not a number; {} must be {}", self.key, allowed()))),
        }
    }

    fn scalar(&self, text: &str) -> Result<f64, SpecError> {
        let t = text.trim();
        let v = self.number(t)?;
        if !self.param.range.contains(self.to_param(v)) {
            let allowed = match self.map {
                Some(m) => format!("such that {} is {}", m.rule, self.param.allowed()),
                None => self.param.allowed(),
            };
            return Err(SpecError::OutOfRange {
                detector: self.detector.to_string(),
                key: self.key.to_string(),
                value: t.to_string(),
                allowed,
            });
        }
        Ok(v)
    }

    /// The parameter's value for a value of the key (the same unless the key is a
    /// system's setting with a conversion).
    fn to_param(&self, v: f64) -> f64 {
        self.map.map_or(v, |m| (m.to_param)(v))
    }

    /// A value, a range `START..END:STEP`, or a `|`-separated list of both, as values
    /// of the parameter.
    fn values(&self, text: &str) -> Result<Vec<f64>, SpecError> {
        let mut out = Vec::new();
        for part in text.split('|') {
            let part = self.range(part.trim(), self.max - out.len())?;
            out.extend(part);
        }
        for v in &mut out {
            *v = self.to_param(*v);
        }
        Ok(out)
    }

    fn too_many(&self, count: f64) -> SpecError {
        SpecError::TooMany {
            detector: self.detector.to_string(),
            count,
            max: self.max,
        }
    }

    /// The values of one value or range, at most `room` of them: the count is known, and
    /// checked, before any is built.
    fn range(&self, text: &str, room: usize) -> Result<Vec<f64>, SpecError> {
        let Some((start, rest)) = text.split_once("..") else {
            if room == 0 {
                return Err(self.too_many((self.max + 1) as f64));
            }
            return Ok(vec![self.scalar(text)?]);
        };
        let Some((end, step)) = rest.rsplit_once(':') else {
            return Err(self.bad_range(
                text,
                "a range needs a step: START..END:STEP, e.g. 50ms..2s:10ms or 0.5..16:0.5",
            ));
        };
        let (s, e) = (self.scalar(start)?, self.scalar(end)?);
        let st = self.number(step.trim())?;
        if st.is_nan() || st <= 0.0 || !st.is_finite() {
            return Err(self.bad_range(text, "the step must be greater than 0"));
        }
        if e < s {
            return Err(self.bad_range(
                text,
                "the range is empty: END is below START; write START..END:STEP with START <= END",
            ));
        }
        let count = ((e - s) / st + 1e-9).floor() + 1.0;
        if count.is_nan() || count > room as f64 {
            return Err(self.too_many(count + (self.max - room) as f64));
        }
        let count = count as usize;
        Ok((0..count)
            .map(|i| range_value(s, e, st, i, count, self.param.unit))
            .collect())
    }
}

fn allowed_keys(entry: &Entry) -> String {
    let def = entry.definition();
    let unit = |p: &Param| format!("{:?}", p.unit).to_lowercase();
    let mut keys: Vec<String> = def
        .params
        .iter()
        .map(|p| format!("{} ({}, default {})", p.name, unit(p), p.format(p.default)))
        .collect();
    if let Some(k) = def.knob {
        keys.push(format!("{} (knob, default {})", k.name, k.format(k.default)));
    }
    if let Entry::Preset(p) = entry {
        keys.extend(p.aliases.iter().map(|a| format!("{} (= {})", a.name, a.param)));
    }
    if keys.is_empty() {
        "none".to_string()
    } else {
        keys.join(", ")
    }
}

/// Every key a detector or preset accepts.
fn keys(entry: &Entry) -> Vec<&'static str> {
    let def = entry.definition();
    let mut v: Vec<&str> = def
        .params
        .iter()
        .chain(def.knob.as_ref())
        .flat_map(|p| std::iter::once(p.name).chain(p.aliases.iter().copied()))
        .collect();
    if let Entry::Preset(p) = entry {
        v.extend(p.aliases.iter().map(|a| a.name));
    }
    v
}

/// Parses `NAME[:key=value,...]` into one spec per combination of ranged fixed
/// parameters, at most [`MAX_VALUES`] (configuration, knob value) pairs.
pub fn parse(text: &str) -> Result<Vec<DetectorSpec>, SpecError> {
    parse_within(text, MAX_VALUES)
}

/// [`parse`] with a smaller limit on the pairs, `max`: several specs of one grid share
/// [`MAX_VALUES`]. Every count is checked before its values are built, so a refused spec
/// costs no memory.
pub fn parse_within(text: &str, max: usize) -> Result<Vec<DetectorSpec>, SpecError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SpecError::Empty);
    }
    let (name, rest) = match text.split_once(':') {
        Some((n, r)) => (n.trim(), Some(r)),
        None => (text, None),
    };
    let entry = registry::find(name).ok_or_else(|| SpecError::UnknownDetector {
        name: name.to_string(),
        hint: hint(did_you_mean(name, registry::names())),
    })?;
    let def = entry.definition();
    let preset = match entry {
        Entry::Preset(p) => Some(p),
        Entry::Detector(_) => None,
    };
    if let Some(key) = preset.and_then(|p| p.unknown_defaults().next()) {
        return Err(SpecError::UnknownKey {
            detector: name.to_string(),
            key: key.to_string(),
            hint: format!(
                "; the preset's default for '{key}' needs a version of {} that has it",
                def.name
            ),
            allowed: allowed_keys(&entry),
        });
    }
    let mut params: Vec<Option<Vec<f64>>> = vec![None; def.params.len()];
    let mut knob: Option<Vec<f64>> = None;
    for item in rest.into_iter().flat_map(|r| r.split(',')) {
        let Some((key, value)) = item.split_once('=') else {
            return Err(SpecError::BadItem {
                spec: text.to_string(),
                item: item.trim().to_string(),
            });
        };
        let key = key.trim();
        let alias: Option<&Alias> = preset.and_then(|p| p.aliases.iter().find(|a| a.name == key));
        let Some((index, param)) = def.param(alias.map_or(key, |a| a.param)) else {
            return Err(SpecError::UnknownKey {
                detector: name.to_string(),
                key: key.to_string(),
                hint: hint(did_you_mean(key, keys(&entry))),
                allowed: allowed_keys(&entry),
            });
        };
        let target = match index {
            Some(i) => &mut params[i],
            None => &mut knob,
        };
        if target.is_some() {
            return Err(SpecError::DuplicateKey {
                detector: name.to_string(),
                key: param.name.to_string(),
            });
        }
        let slot = Slot {
            detector: name,
            key,
            param,
            bare: alias.and_then(|a| a.bare),
            map: alias.and_then(|a| a.map),
            max,
        };
        *target = Some(slot.values(value.trim())?);
    }
    let default = |p: &Param| preset.map_or(p.default, |s| s.value(p));
    let knob_values = knob.unwrap_or_else(|| vec![def.knob.as_ref().map_or(0.0, default)]);
    let params: Vec<Vec<f64>> = params
        .into_iter()
        .zip(def.params)
        .map(|(v, p)| v.unwrap_or_else(|| vec![default(p)]))
        .collect();
    let combos = params.iter().map(|v| v.len() as f64).product::<f64>();
    let total = combos * knob_values.len() as f64;
    if total > max as f64 {
        return Err(SpecError::TooMany {
            detector: name.to_string(),
            count: total,
            max,
        });
    }
    let mut out = Vec::with_capacity(combos as usize);
    let mut idx = vec![0usize; params.len()];
    loop {
        let values: Vec<f64> = idx.iter().zip(&params).map(|(&i, v)| v[i]).collect();
        out.push(DetectorSpec {
            config: Config::with(def, values, preset),
            knob_values: knob_values.clone(),
        });
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
pub(crate) mod tests {
    use super::*;
    use crate::time::Nanos;

    pub(crate) fn one(text: &str) -> DetectorSpec {
        let mut v = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(v.len(), 1, "{text}");
        v.remove(0)
    }

    pub(crate) fn err(text: &str) -> String {
        parse(text).expect_err(text).to_string()
    }

    #[test]
    fn names_and_defaults() {
        let s = one("phi");
        assert_eq!(s.config.name(), "phi");
        assert_eq!(s.config.values(), [1000.0, 0.0]);
        assert_eq!(s.knob_values, vec![8.0]);
        assert_eq!(one("fixed").knob_values, vec![1e9]);
        assert_eq!(one("bertier").knob_values, vec![0.0]);
        assert_eq!(one("bertier").config.params(), "window=1000;gamma=0.1;beta=1;phi=4");
        assert_eq!(
            one("akka").config.params(),
            "window=1000;min_std=100ms;pause=3s;first_estimate=1s"
        );
        assert_eq!(one("2w").config.values(), [1000.0, 1.0, 0.0]);
        // A continuous check is left out of `params`; a tick is shown.
        assert_eq!(one("2w").config.params(), "n1=1000;n2=1");
        assert_eq!(one("fixed:check=5s").config.params(), "check=5s");
        assert_eq!(one("chen:check=100ms").config.params(), "window=1000;check=100ms");
        assert_eq!(one("2w:n2=5000").config.window(), 5000);
        assert_eq!(one("2w").config.window(), 1000);
        for c in Config::all_defaults() {
            assert_eq!(one(c.name()).config, c);
            assert!(!c.source().is_empty());
        }
        assert_eq!(Config::all_defaults().len(), 9);
    }

    #[test]
    fn presets() {
        let s = one("akka-cluster");
        assert_eq!(s.config.name(), "akka");
        assert_eq!(s.config.values(), [1000.0, 100e6, 3e9, 1e9]);
        assert_eq!(s.config.preset().map(|p| p.name), Some("akka-cluster"));
        assert_eq!(s.config.label(8.0), "akka-cluster");
        assert_eq!(s.knob_values, vec![8.0]);
        let s = one("cassandra");
        assert_eq!(s.config.params(), "window=1000;initial=2s;max_interval=2s");
        assert_eq!(s.knob_values, vec![8.0]);
        assert_eq!(one("cassandra:window=100").config.window(), 100);
        let names: Vec<&str> = crate::detector::presets::PRESETS.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            vec![
                "akka-cluster",
                "akka-remote-watch",
                "pekko-multi-dc",
                "cassandra",
                "hazelcast",
                "hazelcast-phi",
                "etcd",
                "kafka-consumer",
                "kafka-broker",
                "zookeeper-session",
                "kubernetes-node",
                "cockroach-liveness",
                "redis-cluster"
            ]
        );
        assert!(Config::named("phi").unwrap().preset().is_none());
    }

    #[test]
    fn values_and_units() {
        let s = one("phi:window=100,threshold=3.5,min_std=5ms");
        assert_eq!(s.config.count("window"), 100);
        assert_eq!(s.config.nanos("min_std"), Nanos::from_millis(5));
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
        // The default sweeps, (end - start) / step + 1 values each: the thresholds of phi,
        // exp-phi and akka, 0.5..16:0.1, give 155 + 1; the durations of chen, 2w and
        // nfd-s, 0..2s:10ms, 200 + 1; the fixed timeout's 10ms..2s:10ms 199 + 1;
        // satzger's fraction 0.5..1:0.005 100 + 1 (bertier has no knob).
        let mut lengths = Vec::new();
        for c in Config::all_defaults() {
            if let Some(k) = c.knob() {
                let v = k.sweep_values();
                assert_eq!(*v.last().unwrap(), k.sweep_bounds().1);
                lengths.push((c.name(), v.len()));
            }
        }
        lengths.sort();
        assert_eq!(
            lengths,
            vec![
                ("2w", 201),
                ("akka", 156),
                ("chen", 201),
                ("exp-phi", 156),
                ("fixed", 200),
                ("nfd-s", 201),
                ("phi", 156),
                ("satzger", 101),
            ]
        );
    }

    #[test]
    fn ranged_parameters_expand_in_order() {
        let v = parse("akka:window=10..30:10,pause=0s..1s:1s,threshold=1..2:1").unwrap();
        let got: Vec<(usize, Nanos)> = v
            .iter()
            .map(|s| (s.config.count("window"), s.config.nanos("pause")))
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
                    send: c.needs_send_times().then(|| Nanos::from_millis(s as i64 * 100 - 10)),
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
                // Last send 4990 ms, + η 100 ms + δ 100 ms.
                "nfd-s" => 4990.0 + 100.0 + 100.0,
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

    #[test]
    fn zero_needs_no_unit() {
        assert_eq!(one("chen:alpha=0").knob_values, vec![0.0]);
        let v = one("chen:window=100,alpha=0..1s:5ms").knob_values;
        assert_eq!((v.len(), v[0], v[1], v[200]), (201, 0.0, 5e6, 1e9));
        assert_eq!(one("fixed:timeout=0.0..10ms:5ms").knob_values, vec![0.0, 5e6, 10e6]);
        let e = err("chen:alpha=5");
        assert!(e.contains("needs a unit") && e.contains("5ms"), "{e}");
        let e = err("chen:alpha=0..1s:5");
        assert!(e.contains("needs a unit"), "{e}");
    }

    #[test]
    fn value_lists() {
        assert_eq!(one("phi:threshold=8|10|12").knob_values, vec![8.0, 10.0, 12.0]);
        assert_eq!(
            one("fixed:timeout=1s|100ms..300ms:100ms").knob_values,
            vec![1e9, 100e6, 200e6, 300e6]
        );
        let v = parse("chen:window=10|100,alpha=0").unwrap();
        let windows: Vec<usize> = v.iter().map(|s| s.config.count("window")).collect();
        assert_eq!(windows, vec![10, 100]);
        assert!(err("phi:threshold=8|x").contains("not a number"));
        assert!(err("phi:threshold=8|").contains("not a number"));
        assert!(err("phi:window=5|0").contains("out of range"));
    }

    #[test]
    fn aliases_and_presets_keep_their_name() {
        let s = one("akka-cluster:acceptable-heartbeat-pause=2s");
        assert_eq!(s.config.nanos("pause"), Nanos::from_secs(2));
        assert_eq!(s.config.label(8.0), "akka-cluster(pause=2s)");
        assert_eq!(s.config.label(10.0), "akka-cluster(pause=2s,threshold=10)");
        let s = one("cassandra:phi_convict_threshold=10");
        assert_eq!(s.knob_values, vec![10.0]);
        assert_eq!(s.config.label(10.0), "cassandra(threshold=10)");
        assert_eq!(one("cassandra:window=1000").config.label(8.0), "cassandra");
        assert_eq!(one("phi").config.label(8.0), "phi");
        let e = err("akka-cluster:pause=1s,acceptable-heartbeat-pause=2s");
        assert!(e.contains("'pause' is given twice"), "{e}");
        // The system's names belong to its preset, not to the base detector.
        assert!(err("akka:acceptable-heartbeat-pause=2s").contains("unknown parameter"));
    }

    #[test]
    fn bare_numbers_in_a_systems_unit() {
        use crate::detector::registry::{Alias, Preset};
        static ETCD_LIKE: Preset = Preset {
            name: "test-etcd-like",
            base: &crate::detector::fixed::DEFINITION,
            summary: "a timeout written in bare milliseconds",
            doc: "",
            heartbeat: Nanos(100_000_000),
            defaults: &[],
            aliases: &[Alias::new("election-timeout", "timeout").bare(1e6)],
            heartbeat_setting: "heartbeat-interval",
            lever: None,
        };
        registry::register_preset(&ETCD_LIKE).unwrap();
        assert!(registry::register_preset(&ETCD_LIKE).is_err());
        assert_eq!(one("test-etcd-like:election-timeout=1500").knob_values, vec![1.5e9]);
        assert_eq!(
            one("test-etcd-like:election-timeout=1000..1500:250").knob_values,
            vec![1e9, 1.25e9, 1.5e9]
        );
        assert!(err("test-etcd-like:election-timeout=1.5s").contains("bare number"));
        assert_eq!(one("test-etcd-like:timeout=2s").knob_values, vec![2e9]);
    }

    #[test]
    fn misspellings_get_a_suggestion() {
        let e = err("chne");
        assert!(e.contains("did you mean 'chen'?"), "{e}");
        let e = err("akka-clustr");
        assert!(e.contains("did you mean 'akka-cluster'?"), "{e}");
        let e = err("phi:windw=3");
        assert!(e.contains("did you mean 'window'?"), "{e}");
        let e = err("cassandra:phi_convict_treshold=9");
        assert!(e.contains("did you mean 'phi_convict_threshold'?"), "{e}");
        assert!(!err("zzzzzz").contains("did you mean"));
    }

    #[test]
    fn a_smaller_limit_is_checked_before_values_are_built() {
        let too_many = |text: &str, max: usize| match parse_within(text, max) {
            Err(SpecError::TooMany { count, max: m, .. }) => (count, m),
            other => panic!("{text} within {max}: {other:?}"),
        };
        // 1 ns to 1 ms in 1 ns steps: 10^6 values.
        assert_eq!(too_many("fixed:timeout=1ns..1ms:1ns", 999_999), (1e6, 999_999));
        // A list counts what came before: 2 values, then a range of 3.
        assert_eq!(too_many("phi:threshold=1|2|3..5:1", 4), (5.0, 4));
        assert_eq!(too_many("phi:threshold=1|2|3", 2), (3.0, 2));
        // Ranged fixed parameters multiply with the knob values: 3 windows × 2 thresholds.
        assert_eq!(too_many("phi:window=10..30:10,threshold=1|2", 5), (6.0, 5));
        assert_eq!(too_many("phi", 0), (1.0, 0));
        assert_eq!(parse_within("phi:window=10..30:10,threshold=1|2", 6).unwrap().len(), 3);
    }
}

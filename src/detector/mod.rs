//! Failure detectors: the [`Detector`] trait, the knob-independent [`Estimator`] behind
//! most of them, and the [`Family`] the replay engine sweeps.
//!
//! # The model
//!
//! A detector is a state machine fed the accepted heartbeats of a trace, in order
//! ([evaluation.md](crate::docs::evaluation) §2). It does no I/O and reads no clock: every time is passed in, in
//! integer nanoseconds ([`Nanos`]). After each heartbeat it has a **suspicion level**
//! `L(t)`, defined for `t` at or after the last receipt and non-decreasing in `t` until
//! the next heartbeat, and it suspects at `t` iff `L(t) >= threshold`. Its **deadline**
//! is the first integer nanosecond at which it would suspect if nothing else arrived:
//! possibly never (`None`), and possibly at or before the last receipt (the heartbeat
//! came too late to restore trust).
//!
//! Each detector has one **knob** trading detection speed for accuracy (`timeout`,
//! `alpha`, `threshold`). For all detectors but `akka`, the state does not depend on
//! the knob: the knob is only the threshold on a knob-independent level. Those detectors
//! implement [`Estimator`], whose deadline is a function of the knob, so that one replay
//! of a trace yields the deadlines of any number of knob values ([`Family`]). `akka`
//! records an interval only while it trusts, so its history depends on its threshold;
//! its family keeps one state per knob value.
//!
//! # The detectors
//!
//! One module per algorithm, each citing its source and giving its formula:
//! [`fixed`], [`nfd_s`] (`nfd-s`), [`chen`], [`bertier`], [`phi`], [`akka`], [`exp_phi`], [`satzger`],
//! [`two_windows`] (`2w`). Shared pieces: [`window`] (exact windowed sums, mean and
//! population variance, ring buffers), [`normal`] (the normal tail and its inverse far
//! into the tail).
//!
//! # The registry
//!
//! Each detector module also declares its `DEFINITION`, a [`Definition`]: name,
//! parameters and knob ([`Param`]: unit, default, allowed [`Range`], aliases), source,
//! scheduling weight and constructors. The [`registry`] is the list of them
//! ([`registry::BUILTIN`]) plus the production [`presets`], which are data of the same
//! registry. Everything that names a detector reads it: the spec strings of the
//! command line ([`spec`]), `fdbench list`, the `params` column of results
//! ([`Config::params`]), plots' labels ([`Config::label`]), the sweep's scheduling and
//! the default grid. A configuration ([`Config`]) is a definition with a value for each
//! fixed parameter.
//!
//! Adding a built-in detector is one new file and one line in [`registry::BUILTIN`];
//! a detector defined outside the crate calls [`register`] once and then works in
//! [`spec::parse`], [`Plan`](crate::sweep::Plan), [`tune`](crate::tune::tune), reports,
//! plots and results. The whole declaration of a detector that suspects a margin after
//! the last receipt:
//!
//! ```
//! use fdbench::Nanos;
//! use fdbench::detector::{Definition, EstimatorFamily, Param, Tuned, fixed::Fixed, register, spec};
//!
//! static LATE: Definition = Definition {
//!     name: "late",
//!     summary: "suspect a margin after the last receipt",
//!     source: "an example",
//!     params: &[],
//!     knob: Some(Param::duration("margin", 1e9, "time since the last receipt").swept(0.0, 2e9, 10e6)),
//!     knob_independent: true,
//!     needs_send_times: false,
//!     weight: 1,
//!     window: |_| 1,
//!     detector: |_, _, knob| Box::new(Tuned::new(Fixed::new(), knob)),
//!     family: |_, _, knobs| Box::new(EstimatorFamily::new(Fixed::new(), knobs)),
//! };
//!
//! register(&LATE).unwrap();
//! let s = spec::parse("late:margin=100ms|250ms").unwrap().remove(0);
//! assert_eq!(s.knob_values, [100e6, 250e6]);
//! assert_eq!(s.config.family(Nanos::from_millis(100), &s.knob_values).width(), 2);
//! ```
//!
//! A parameter that all timeout-style detectors share (a monitor's check interval,
//! say) is one more [`Param`] in their definitions; a preset's own setting names are
//! [`registry::Alias`]es, with the system's unit for bare numbers (etcd's
//! milliseconds: `Alias::new("election-timeout", "timeout").bare(1e6)`).

pub mod akka;
pub mod bertier;
pub mod chen;
pub mod exp_phi;
pub mod fixed;
pub mod nfd_s;
pub mod normal;
pub mod phi;
pub mod presets;
pub mod registry;
pub mod satzger;
pub mod spec;
pub mod two_windows;
pub mod window;

#[cfg(test)]
mod testutil;

use crate::time::Nanos;
use crate::trace::Heartbeat;

pub use registry::{CHECK, Config, Definition, Param, Preset, Range, Unit, register, register_preset};
pub use spec::{DetectorSpec, SpecError};

/// A failure detector with its knob set: the object the replay engine, the sampled
/// reference, plots and live users drive.
///
/// # Contract
///
/// - Call [`observe`](Detector::observe) with each accepted heartbeat, in order of
///   receipt (`recv` non-decreasing, `seq` strictly increasing). Nothing else changes
///   the state.
/// - After at least one heartbeat, [`deadline`](Detector::deadline) is the first
///   integer nanosecond `t` with `level(t) >= threshold()` if nothing else arrives;
///   `None` means never. It may be at or before the last receipt.
/// - [`level`](Detector::level) may be asked for any `now` at or after the last
///   receipt; it is non-decreasing in `now` between heartbeats and never NaN (it may be
///   `+inf`). Its unit is the knob's: nanoseconds past the detector's expected-arrival
///   estimate for timeout-style detectors (`fixed`, `chen`, `2w`; `bertier`, whose
///   threshold is 0), φ for accrual detectors, a fraction for `satzger`.
pub trait Detector: Send {
    /// Shows the detector the next accepted heartbeat.
    fn observe(&mut self, hb: &Heartbeat);
    /// The first instant of suspicion if nothing else arrives; `None` = never.
    fn deadline(&self) -> Option<Nanos>;
    /// The suspicion level at `now` (at or after the last receipt).
    fn level(&self, now: Nanos) -> f64;
    /// The level at or above which the detector suspects.
    fn threshold(&self) -> f64;
    /// The estimator's state after the last heartbeat, for explaining a verdict: named
    /// values, a name ending in `_ns` being in nanoseconds (`mean_ns`, `std_ns`), `window`
    /// the number of samples held. Empty by default and for detectors without state.
    fn state(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}

/// The knob-independent state of a detector whose knob is a threshold on its level.
///
/// Units: a duration knob (`timeout`, `alpha`) is in nanoseconds and the level is the
/// elapsed time beyond the detector's expected-arrival estimate, in nanoseconds; an
/// accrual knob (`threshold`) is in the level's own unit.
pub trait Estimator: Send + Sync + Clone {
    /// A knob value prepared for fast repeated evaluation (e.g. φ's normal quantile).
    type Knob: Copy + Send + Sync;
    /// Prepares a knob value (validated beforehand by the spec parser).
    fn prepare(&self, knob: f64) -> Self::Knob;
    /// Shows the estimator the next accepted heartbeat.
    fn observe(&mut self, hb: &Heartbeat);
    /// The suspicion level at `now` (at or after the last receipt); non-decreasing in `now`.
    fn level(&self, now: Nanos) -> f64;
    /// The first integer nanosecond at which `level >= knob`; `None` = never.
    fn deadline(&self, knob: &Self::Knob) -> Option<Nanos>;
    /// The state after the last heartbeat, as [`Detector::state`] gives it.
    fn state(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// The deadlines of many knob values at once ([`Nanos::MAX`] = never), as
    /// [`deadline`](Estimator::deadline) gives them; an estimator may share work across
    /// the values.
    fn deadlines(&self, knobs: &[Self::Knob], out: &mut [Nanos]) {
        for (o, k) in out.iter_mut().zip(knobs) {
            *o = self.deadline(k).unwrap_or(Nanos::MAX);
        }
    }

    /// The deadlines of many knob values as offsets from the last receipt, `τ - a` in
    /// whole nanoseconds held in `f64` (`+inf` = never), when the estimator computes
    /// them directly; `false` leaves them to [`deadlines`](Estimator::deadlines). They
    /// must equal the deadlines exactly wherever `|τ - a| < 2^52`; beyond, any value of
    /// that size (or NaN) sends the replay to its integer path.
    fn offsets(&self, _knobs: &[Self::Knob], _out: &mut [f64]) -> bool {
        false
    }

    /// The form of the deadline as a function of the knob after the last heartbeat
    /// ([`Form`]), from which the replay engine and tuning derive every knob value's
    /// deadline; [`deadline`](Estimator::deadline) must equal
    /// [`Form::deadline`] of it. [`Form::General`] (the default) leaves every deadline
    /// to the estimator.
    fn form(&self) -> Form {
        Form::General
    }
}

/// The form a deadline takes as a function of the knob `x`, after one heartbeat: the
/// knob-independent numbers from which the deadline of every knob value follows.
///
/// The forms, from the most to the least structured (see [`crate::replay`] for what the
/// engine does with each):
///
/// - **Shifted** (`fixed`, `chen`, `2w`, `bertier`, `nfd-s`): a base time plus the knob
///   in whole nanoseconds, noticed at the monitor's next check tick:
///   `τ = check.round_up(b + ⌈x⌉)`.
/// - **Affine in a transform of the knob**, then rounded to an integer nanosecond:
///   [`Normal`](Form::Normal) (`phi`: `τ = a + ⌈μ + σ·z(x)⌉`, `z` the normal tail
///   quantile) and [`Ratio`](Form::Ratio) (`exp-phi`: `τ = a + k`, `k` the first integer
///   with `k / s >= x`, `s = ln 10 · mean`).
/// - **General**: anything else (an order statistic of a window, a detector whose
///   state depends on its knob, a custom detector): the estimator gives each deadline.
///
/// Every deadline is non-decreasing in the knob in each form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Form {
    /// `τ = check.round_up(base + ⌈x⌉)`; `base` is `None` (never) before the first heartbeat.
    Shifted {
        /// The base time `b`, in nanoseconds.
        base: Option<i64>,
        /// The monitor's check tick.
        check: Check,
    },
    /// `τ = last + ⌈μ + σ·z⌉` (`⌈μ⌉` when `σ <= 0`), `z = Φ⁻¹(1 - 10^-x)`; never when
    /// `last` is `None`, `z` is infinite or the sum leaves the range of time.
    Normal {
        /// The last receipt.
        last: Option<Nanos>,
        /// The mean interval `μ`, in nanoseconds.
        mu: f64,
        /// The standard deviation `σ`, in nanoseconds.
        sigma: f64,
    },
    /// `τ = last + k`, `k` the first integer with `k / scale >= x` (the level `k / scale`
    /// being `+inf` for `k > 0` and 0 otherwise when `scale <= 0`); never when `last` is
    /// `None`.
    Ratio {
        /// The last receipt.
        last: Option<Nanos>,
        /// The time per unit of level, in nanoseconds.
        scale: f64,
    },
    /// The estimator's own deadline.
    General,
}

impl Form {
    /// The knob value `x` as [`deadline`](Form::deadline) takes it: `z(x)` for
    /// [`Normal`](Form::Normal), `x` itself otherwise.
    pub fn prepare(&self, x: f64) -> f64 {
        match self {
            Form::Normal { .. } => normal::tail_quantile(x),
            _ => x,
        }
    }

    /// The deadline at the prepared knob value `g` ([`prepare`](Form::prepare)); `None` =
    /// never, and for [`General`](Form::General).
    #[inline]
    pub fn deadline(&self, g: f64) -> Option<Nanos> {
        match *self {
            Form::Shifted { base, check } => check.deadline(shifted_deadline(base?, Nanos::ceil_f64(g).0)),
            Form::Normal { last, mu, sigma } => {
                let last = last?;
                if g == f64::INFINITY {
                    return None;
                }
                let x = if sigma > 0.0 { mu + sigma * g } else { mu };
                if x.is_nan() || x >= (i64::MAX - last.0.max(0)) as f64 {
                    return None;
                }
                Some(last.saturating_add(Nanos::ceil_f64(x)))
            }
            Form::Ratio { last, scale } => {
                let level = |k: i64| {
                    let d = k as f64;
                    if scale > 0.0 {
                        d / scale
                    } else if d > 0.0 {
                        f64::INFINITY
                    } else {
                        0.0
                    }
                };
                window::first_reaching(last?, g * scale, |k| level(k) >= g)
            }
            Form::General => None,
        }
    }
}

/// Deadlines as offsets from `last` in `f64` (`+inf` for never).
fn to_offsets(last: Nanos, deadlines: &[Nanos], out: &mut [f64]) {
    for (o, &t) in out.iter_mut().zip(deadlines) {
        *o = offset_from(last, Some(t));
    }
}

/// A deadline as an offset from `last` in `f64`: `+inf` for never (`None` or
/// [`Nanos::MAX`]).
#[inline]
pub fn offset_from(last: Nanos, deadline: Option<Nanos>) -> f64 {
    match deadline {
        Some(t) if t != Nanos::MAX => (i128::from(t.0) - i128::from(last.0)) as f64,
        _ => f64::INFINITY,
    }
}

/// [`Estimator::deadlines`] from [`Estimator::offsets`], for an estimator whose offsets
/// are its fast path: an offset under `2^52` in size is added to `last`, the last
/// receipt; any other knob value (all of them when the estimator gives no offsets) takes
/// [`Estimator::deadline`].
pub fn deadlines_from_offsets<E: Estimator>(est: &E, last: Nanos, knobs: &[E::Knob], out: &mut [Nanos]) {
    const CHUNK: usize = 128;
    const BIG: f64 = (1u64 << 52) as f64;
    let mut buf = [0.0f64; CHUNK];
    for (ks, os) in knobs.chunks(CHUNK).zip(out.chunks_mut(CHUNK)) {
        let buf = &mut buf[..ks.len()];
        let fast = est.offsets(ks, buf);
        for ((o, k), &off) in os.iter_mut().zip(ks).zip(buf.iter()) {
            *o = if fast && off.abs() < BIG {
                last.saturating_add(Nanos(off as i64))
            } else {
                est.deadline(k).unwrap_or(Nanos::MAX)
            };
        }
    }
}

/// Replaces each NaN in `out` (an offset a fast path left out) by the offset of the
/// estimator's deadline for that knob value.
pub fn fill_missing_offsets<E: Estimator>(est: &E, knobs: &[E::Knob], last: Nanos, out: &mut [f64]) {
    for (o, k) in out.iter_mut().zip(knobs) {
        if o.is_nan() {
            *o = offset_from(last, est.deadline(k));
        }
    }
}

/// The deadline `base + shift` of a timeout-style estimator: never when it reaches
/// [`Nanos::MAX`], and not before time 0 (a deadline at or before the last receipt has
/// the same effect wherever it lies).
#[inline]
pub fn shifted_deadline(base: i64, shift: i64) -> Option<Nanos> {
    let t = i128::from(base) + i128::from(shift);
    (t < i128::from(i64::MAX)).then(|| Nanos(t.max(0) as i64))
}

/// A monitor's check tick (detectors.md, `check`): a monitor that looks only at the
/// integer multiples of `Δc` on its clock (phase 0) notices a deadline `t` at its next
/// tick, `⌈t / Δc⌉·Δc`. `Check(0)`, the default, is a monitor that looks continuously.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Check(i64);

impl Check {
    /// A monitor that checks every `interval` (`0` = continuously; a negative interval
    /// is taken as 0).
    pub fn every(interval: Nanos) -> Check {
        Check(interval.0.max(0))
    }

    /// The interval between ticks, 0 when continuous.
    pub fn interval(self) -> Nanos {
        Nanos(self.0)
    }

    /// The first tick at or after `t` (`t` itself when continuous): `None` when that tick
    /// lies beyond the range of time (never).
    #[inline]
    pub fn round_up(self, t: Nanos) -> Option<Nanos> {
        if self.0 == 0 {
            return Some(t);
        }
        let up = i128::from(t.0.div_euclid(self.0)) * i128::from(self.0)
            + if t.0.rem_euclid(self.0) == 0 {
                0
            } else {
                i128::from(self.0)
            };
        (up < i128::from(i64::MAX)).then_some(Nanos(up as i64))
    }

    /// The last tick at or before `now` (`now` itself when continuous): the instant whose
    /// state a checking monitor acts on.
    #[inline]
    pub fn floor(self, now: Nanos) -> Nanos {
        if self.0 == 0 {
            now
        } else {
            Nanos(now.0 - now.0.rem_euclid(self.0))
        }
    }

    /// A continuous deadline as this monitor notices it (`None` = never).
    #[inline]
    pub fn deadline(self, t: Option<Nanos>) -> Option<Nanos> {
        t.and_then(|t| self.round_up(t))
    }
}

/// An [`Estimator`] with its knob set: a [`Detector`].
#[derive(Clone, Debug)]
pub struct Tuned<E: Estimator> {
    est: E,
    knob: f64,
    prepared: E::Knob,
}

impl<E: Estimator> Tuned<E> {
    /// The detector `est` with knob value `knob`.
    pub fn new(est: E, knob: f64) -> Self {
        let prepared = est.prepare(knob);
        Tuned { est, knob, prepared }
    }

    /// The estimator inside.
    pub fn estimator(&self) -> &E {
        &self.est
    }
}

impl<E: Estimator> Detector for Tuned<E> {
    fn observe(&mut self, hb: &Heartbeat) {
        self.est.observe(hb);
    }
    fn deadline(&self) -> Option<Nanos> {
        self.est.deadline(&self.prepared)
    }
    fn level(&self, now: Nanos) -> f64 {
        self.est.level(now)
    }
    fn threshold(&self) -> f64 {
        self.knob
    }
    fn state(&self) -> Vec<(&'static str, f64)> {
        self.est.state()
    }
}

/// A detector replayed for many knob values at once: the unit of work of the replay
/// engine. One call to [`observe`](Family::observe) per accepted heartbeat, then
/// [`deadlines`](Family::deadlines) writes one deadline per knob value, in the order the
/// knob values were given; [`Nanos::MAX`] stands for "never".
pub trait Family: Send {
    /// Number of knob values.
    fn width(&self) -> usize;
    /// Shows the family the next accepted heartbeat.
    fn observe(&mut self, hb: &Heartbeat);
    /// Writes the deadline for each knob value into `out` (`out.len() == width()`).
    fn deadlines(&self, out: &mut [Nanos]);

    /// Writes each knob value's deadline as an offset from `last`, the last receipt:
    /// `τ - last` in whole nanoseconds held in `f64`, `+inf` for never (see
    /// [`Estimator::offsets`]). `scratch` has `width()` elements.
    fn offsets(&self, last: Nanos, scratch: &mut [Nanos], out: &mut [f64]) {
        self.deadlines(scratch);
        to_offsets(last, scratch, out);
    }

    /// The form of every knob value's deadline after the last heartbeat ([`Form`]);
    /// [`Form::General`] (the default) when the family gives only deadlines.
    fn form(&self) -> Form {
        Form::General
    }

    /// For a family whose state does not depend on the knob (one [`Estimator`] and its
    /// thresholds): the knob values, in the order given. Every deadline is then
    /// non-decreasing in the knob value, which is what the critical-value engine needs.
    /// `None` (the default) otherwise.
    fn knobs(&self) -> Option<&[f64]> {
        None
    }
}

/// One estimator evaluated at many knob values.
pub struct EstimatorFamily<E: Estimator> {
    est: E,
    values: Vec<f64>,
    knobs: Vec<E::Knob>,
}

impl<E: Estimator> EstimatorFamily<E> {
    /// The family of `est` over `knobs`.
    pub fn new(est: E, knobs: &[f64]) -> Self {
        let values = knobs.to_vec();
        let knobs: Vec<E::Knob> = knobs.iter().map(|&k| est.prepare(k)).collect();
        EstimatorFamily { est, values, knobs }
    }
}

impl<E: Estimator> Family for EstimatorFamily<E> {
    fn width(&self) -> usize {
        self.knobs.len()
    }
    fn observe(&mut self, hb: &Heartbeat) {
        self.est.observe(hb);
    }
    fn deadlines(&self, out: &mut [Nanos]) {
        self.est.deadlines(&self.knobs, out);
    }
    fn offsets(&self, last: Nanos, scratch: &mut [Nanos], out: &mut [f64]) {
        if !self.est.offsets(&self.knobs, out) {
            self.est.deadlines(&self.knobs, scratch);
            to_offsets(last, scratch, out);
        }
    }
    fn knobs(&self) -> Option<&[f64]> {
        Some(&self.values)
    }
    fn form(&self) -> Form {
        self.est.form()
    }
}

/// Independent detectors, one per knob value (for `akka`, whose state depends on its
/// threshold).
pub struct IndependentFamily<D: Detector> {
    detectors: Vec<D>,
}

impl<D: Detector> IndependentFamily<D> {
    /// The family of the given detectors.
    pub fn new(detectors: Vec<D>) -> Self {
        IndependentFamily { detectors }
    }
}

impl<D: Detector> Family for IndependentFamily<D> {
    fn width(&self) -> usize {
        self.detectors.len()
    }
    fn observe(&mut self, hb: &Heartbeat) {
        for d in &mut self.detectors {
            d.observe(hb);
        }
    }
    fn deadlines(&self, out: &mut [Nanos]) {
        for (o, d) in out.iter_mut().zip(&self.detectors) {
            *o = d.deadline().unwrap_or(Nanos::MAX);
        }
    }
}

impl<D: Detector + ?Sized> Detector for Box<D> {
    fn observe(&mut self, hb: &Heartbeat) {
        (**self).observe(hb);
    }
    fn deadline(&self) -> Option<Nanos> {
        (**self).deadline()
    }
    fn level(&self, now: Nanos) -> f64 {
        (**self).level(now)
    }
    fn threshold(&self) -> f64 {
        (**self).threshold()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_rounds_up_to_its_next_tick() {
        let c = Check::every(Nanos(100));
        assert_eq!(c.round_up(Nanos(200)), Some(Nanos(200)));
        assert_eq!(c.round_up(Nanos(201)), Some(Nanos(300)));
        assert_eq!(c.round_up(Nanos(299)), Some(Nanos(300)));
        assert_eq!(c.round_up(Nanos(0)), Some(Nanos(0)));
        assert_eq!(c.round_up(Nanos(-150)), Some(Nanos(-100)));
        assert_eq!(c.floor(Nanos(299)), Nanos(200));
        assert_eq!(c.floor(Nanos(300)), Nanos(300));
        assert_eq!(c.floor(Nanos(-150)), Nanos(-200));
        // The tick after the last representable one is never.
        assert_eq!(c.round_up(Nanos(i64::MAX - 1)), None);
        assert_eq!(c.deadline(None), None);
        let continuous = Check::every(Nanos::ZERO);
        assert_eq!(continuous, Check::default());
        assert_eq!(continuous.round_up(Nanos(201)), Some(Nanos(201)));
        assert_eq!(continuous.floor(Nanos(201)), Nanos(201));
        assert_eq!(Check::every(Nanos(-5)), Check::default());
    }
}

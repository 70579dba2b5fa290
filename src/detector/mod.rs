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

    /// The form of the deadline as a function of the knob after the last heartbeat
    /// ([`Form`]), from which the replay engine and tuning derive every knob value's
    /// deadline; [`deadline`](Estimator::deadline) must equal
    /// [`Form::deadline`] of it. [`Form::General`] (the default) leaves every deadline
    /// to the estimator.
    fn form(&self) -> Form<'_> {
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
/// - **An order statistic of a window** ([`Ranked`](Form::Ranked), `satzger`):
///   `τ = a + x_(k)`, `x_(k)` the `k`-th smallest interval of the window and `k` the
///   smallest rank whose fraction of the window reaches `x`.
/// - **General**: anything else (a detector whose state depends on its knob, a custom
///   detector): the estimator gives each deadline.
///
/// Every deadline is non-decreasing in the knob in each form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Form<'a> {
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
    /// `τ = last + x_(k)` for a knob `x <= 1`, `x_(k)` the `k`-th smallest of `sorted`
    /// and `k` the smallest rank in `1..=n` with `k / n >= x` ([`rank`]), `n` the
    /// window's size; never for `x > 1` or NaN, when `last` is `None` or the sum leaves
    /// the range of time. (An interval `x_(k)` outside `[0, 2^53)` takes the first
    /// integer `k` with `x_(k) as f64 <= k as f64`, as the level compares them.)
    Ranked {
        /// The last receipt.
        last: Option<Nanos>,
        /// The window's intervals, sorted, not empty.
        sorted: &'a [i64],
    },
    /// The estimator's own deadline.
    General,
}

/// The smallest rank `c` in `1..=n` with `c / n >= threshold` as `f64` divides them (1
/// for a threshold at or below `1/n`, `n` above `(n-1)/n`).
#[inline]
pub fn rank(n: usize, threshold: f64) -> usize {
    let nf = n as f64;
    let mut c = ((threshold * nf).ceil().max(1.0) as usize).min(n);
    while c > 1 && ((c - 1) as f64 / nf) >= threshold {
        c -= 1;
    }
    while c < n && (c as f64 / nf) < threshold {
        c += 1;
    }
    c
}

impl<'a> Form<'a> {
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
            Form::Ranked { last, sorted } => {
                let last = last?;
                if g.is_nan() || g > 1.0 || sorted.is_empty() {
                    return None;
                }
                let x = sorted[rank(sorted.len(), g) - 1];
                window::covering(last, x, 1.0).filter(|&d| d != Nanos::MAX)
            }
            Form::General => None,
        }
    }

    /// The same form, held without borrowing the estimator; `None` for
    /// [`Ranked`](Form::Ranked), whose window it borrows.
    pub fn detached(self) -> Option<Form<'static>> {
        match self {
            Form::Shifted { base, check } => Some(Form::Shifted { base, check }),
            Form::Normal { last, mu, sigma } => Some(Form::Normal { last, mu, sigma }),
            Form::Ratio { last, scale } => Some(Form::Ratio { last, scale }),
            Form::Ranked { .. } => None,
            Form::General => Some(Form::General),
        }
    }

    /// The deadlines at the prepared knob values `gs` as offsets from the last receipt,
    /// `τ - last` in whole nanoseconds held in `f64` (`+inf` = never), for the affine
    /// forms ([`Normal`](Form::Normal), [`Ratio`](Form::Ratio)): one vector loop, the
    /// values where it cannot vouch for the rounding taken from
    /// [`deadline`](Form::deadline). An offset under `2^52` in size is exact; a larger
    /// one may be rounded (the engine leaves such a row to its integer path). `false`
    /// for the other forms and before the first heartbeat.
    pub fn offsets(&self, gs: &[f64], out: &mut [f64]) -> bool {
        let (last, missing) = match *self {
            Form::Normal {
                last: Some(last),
                mu,
                sigma,
            } => {
                let fast = sigma > 0.0 && last.0 <= 1 << 62;
                (
                    last,
                    if fast {
                        ceil_affine(mu, sigma, gs, out)
                    } else {
                        usize::MAX
                    },
                )
            }
            Form::Ratio {
                last: Some(last),
                scale,
            } => {
                let fast = scale > 0.0 && scale.is_finite() && last.0 <= 1 << 62;
                (
                    last,
                    if fast {
                        ceil_products(scale, gs, out)
                    } else {
                        usize::MAX
                    },
                )
            }
            _ => return false,
        };
        if missing > 0 {
            for (o, &g) in out.iter_mut().zip(gs) {
                if missing == usize::MAX || o.is_nan() {
                    *o = offset_from(last, self.deadline(g));
                }
            }
        }
        true
    }

    /// The deadlines at the prepared knob values `gs` ([`Nanos::MAX`] = never) as
    /// [`deadline`](Form::deadline) gives them, through [`offsets`](Form::offsets) for
    /// the affine forms; `false` for the others.
    pub fn deadlines(&self, gs: &[f64], out: &mut [Nanos]) -> bool {
        const CHUNK: usize = 128;
        let (Form::Normal { last: Some(last), .. } | Form::Ratio { last: Some(last), .. }) = *self else {
            return false;
        };
        let mut buf = [0.0f64; CHUNK];
        for (gs, os) in gs.chunks(CHUNK).zip(out.chunks_mut(CHUNK)) {
            let buf = &mut buf[..gs.len()];
            self.offsets(gs, buf);
            for ((o, &g), &off) in os.iter_mut().zip(gs).zip(buf.iter()) {
                *o = if off.abs() < BIG {
                    last.saturating_add(Nanos(off as i64))
                } else {
                    self.deadline(g).unwrap_or(Nanos::MAX)
                };
            }
        }
        true
    }

    /// Which form this is, whatever its numbers.
    fn kind(&self) -> Kind {
        match self {
            Form::Shifted { .. } => Kind::Shifted,
            Form::Normal { .. } => Kind::Normal,
            Form::Ratio { .. } => Kind::Ratio,
            Form::Ranked { .. } => Kind::Ranked,
            Form::General => Kind::General,
        }
    }
}

/// The kinds of [`Form`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Shifted,
    Normal,
    Ratio,
    Ranked,
    General,
}

/// `2^52`: below this size, integers are exact in `f64` and so are their sums and
/// differences with each other.
pub(crate) const BIG: f64 = (1u64 << 52) as f64;

/// `ceil(mu + sigma·z)` where the sum is under `2^51` in size, NaN elsewhere: an
/// affine deadline's offset from the last receipt (phi's, and akka's per threshold).
#[inline(always)]
pub(crate) fn ceil_offset(mu: f64, sigma: f64, z: f64) -> f64 {
    let x = mu + sigma * z;
    if x.abs() < BIG / 2.0 {
        crate::time::ceil_small(x)
    } else {
        f64::NAN
    }
}

/// `out = ceil_offset(mu, sigma, z)` for each `z`; returns the number of NaNs.
#[inline(always)]
fn ceil_affine_kernel(mu: f64, sigma: f64, zs: &[f64], out: &mut [f64]) -> usize {
    let n = zs.len().min(out.len());
    let (zs, out) = (&zs[..n], &mut out[..n]);
    let mut missing = 0usize;
    for i in 0..n {
        out[i] = ceil_offset(mu, sigma, zs[i]);
        missing += usize::from(out[i].is_nan());
    }
    missing
}

/// `out = ceil(t·scale)` for each threshold `t` where that product lies in `(1, 2^52)`
/// and farther than 10^-12 (relative) from an integer, so that the deadline search would
/// find the same; NaN elsewhere. Returns the number of NaNs. (The first `k` with
/// `k / scale >= t` is `ceil(t·scale)` in exact arithmetic; away from an integer by more
/// than rounding, the computed comparison agrees on both sides of it.)
#[inline(always)]
fn ceil_products_kernel(scale: f64, thresholds: &[f64], out: &mut [f64]) -> usize {
    let n = thresholds.len().min(out.len());
    let (ts, out) = (&thresholds[..n], &mut out[..n]);
    let mut missing = 0usize;
    for i in 0..n {
        let g = ts[i] * scale;
        let k = crate::time::ceil_small(g);
        let margin = g * 1e-12;
        let ok = g > 1.0 && g < BIG && k - g > margin && g - (k - 1.0) > margin;
        out[i] = if ok { k } else { f64::NAN };
        missing += usize::from(!ok);
    }
    missing
}

crate::simd::multiversion!(pub(crate) fn ceil_affine(mu: f64, sigma: f64, zs: &[f64], out: &mut [f64]) -> usize = ceil_affine_kernel;);
crate::simd::multiversion!(fn ceil_products(scale: f64, thresholds: &[f64], out: &mut [f64]) -> usize = ceil_products_kernel;);

/// Deadlines as offsets from `last` in `f64` (`+inf` for never), as [`offset_from`]
/// gives them.
fn to_offsets(last: Nanos, deadlines: &[Nanos], out: &mut [f64]) {
    if !near_offsets(last.0, deadlines, out) {
        for (o, &t) in out.iter_mut().zip(deadlines) {
            *o = offset_from(last, Some(t));
        }
    }
}

/// [`to_offsets`] in one vector loop for deadlines within `2^51` of `last` (or never):
/// such a difference is converted exactly by adding it to the bits of `2^52 + 2^51`
/// and subtracting that number. `false` (the output then incomplete) when some
/// deadline is farther.
#[inline(always)]
fn near_offsets_kernel(last: i64, deadlines: &[Nanos], out: &mut [f64]) -> bool {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 2^52 + 2^51
    const NEAR: u64 = 1 << 51;
    let n = deadlines.len().min(out.len());
    let (ts, out) = (&deadlines[..n], &mut out[..n]);
    let mut far = 0u64;
    for i in 0..n {
        let t = ts[i].0;
        let never = t == i64::MAX;
        let d = t.wrapping_sub(last);
        far |= u64::from(!never & (d.wrapping_add(NEAR as i64) as u64 >= 2 * NEAR));
        let x = f64::from_bits(MAGIC.to_bits().wrapping_add(d as u64)) - MAGIC;
        out[i] = if never { f64::INFINITY } else { x };
    }
    far == 0
}

crate::simd::multiversion!(fn near_offsets(last: i64, deadlines: &[Nanos], out: &mut [f64]) -> bool = near_offsets_kernel;);

/// A deadline as an offset from `last` in `f64`: `+inf` for never (`None` or
/// [`Nanos::MAX`]).
#[inline]
pub fn offset_from(last: Nanos, deadline: Option<Nanos>) -> f64 {
    match deadline {
        // The difference in `i64` where it fits (rounded to `f64` as the exact one is).
        Some(t) if t != Nanos::MAX => match t.0.checked_sub(last.0) {
            Some(d) => d as f64,
            None => (i128::from(t.0) - i128::from(last.0)) as f64,
        },
        _ => f64::INFINITY,
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
    /// `τ - last` in whole nanoseconds held in `f64`, `+inf` for never, exact under
    /// `2^52` in size (a larger one may be rounded: the engine leaves such a row to its
    /// integer path). `scratch` has `width()` elements. The default converts
    /// [`deadlines`](Family::deadlines).
    fn offsets(&self, last: Nanos, scratch: &mut [Nanos], out: &mut [f64]) {
        self.deadlines(scratch);
        to_offsets(last, scratch, out);
    }

    /// The form of every knob value's deadline after the last heartbeat ([`Form`]);
    /// [`Form::General`] (the default) when the family gives only deadlines.
    fn form(&self) -> Form<'_> {
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
///
/// The deadlines come from the estimator's [`Form`] where it is affine (its offsets in
/// one vector loop, [`Form::offsets`]) or an order statistic (the window's value at
/// each knob value's rank, the ranks computed again only when the window's size
/// changes), and from [`Estimator::deadlines`] otherwise.
pub struct EstimatorFamily<E: Estimator> {
    est: E,
    values: Vec<f64>,
    knobs: Vec<E::Knob>,
    /// The knob values prepared for the estimator's form ([`Form::prepare`]), and the
    /// kind of form they were prepared for.
    gs: Vec<f64>,
    kind: Kind,
    /// For a [`Form::Ranked`] estimator: each knob value's rank in a window of
    /// `ranked_n` intervals (0 = never).
    ranks: Vec<usize>,
    ranked_n: usize,
}

impl<E: Estimator> EstimatorFamily<E> {
    /// The family of `est` over `knobs`.
    pub fn new(est: E, knobs: &[f64]) -> Self {
        let values = knobs.to_vec();
        let form = est.form();
        let gs = knobs.iter().map(|&k| form.prepare(k)).collect();
        let kind = form.kind();
        let knobs: Vec<E::Knob> = knobs.iter().map(|&k| est.prepare(k)).collect();
        EstimatorFamily {
            est,
            values,
            knobs,
            gs,
            kind,
            ranks: Vec::new(),
            ranked_n: 0,
        }
    }

    /// After a heartbeat: the knob values' ranks, when the window of a
    /// [`Form::Ranked`] estimator changed size.
    fn update_ranks(&mut self) {
        let n = match self.est.form() {
            Form::Ranked { sorted, .. } => sorted.len(),
            _ => return,
        };
        if n != self.ranked_n {
            self.ranks = self
                .gs
                .iter()
                .map(|&g| if g.is_nan() || g > 1.0 { 0 } else { rank(n, g) })
                .collect();
            self.ranked_n = n;
        }
    }

    /// The deadlines of a [`Form::Ranked`] estimator from the ranks, as offsets from
    /// `last` (`write(i, offset)`, `i64::MAX` = never, exact): `false` when the ranks are
    /// not those of the window or its values lie out of `[0, 2^52)`.
    #[inline]
    fn ranked(&self, last: Nanos, sorted: &[i64], mut write: impl FnMut(usize, i64)) -> bool {
        let n = sorted.len();
        if n != self.ranked_n || n == 0 || sorted[0] < 0 || sorted[n - 1] >= 1 << 52 || last.0 >= 1 << 62 {
            return false;
        }
        for (i, &r) in self.ranks.iter().enumerate() {
            write(i, if r == 0 { i64::MAX } else { sorted[r - 1] });
        }
        true
    }

    /// The estimator's form, when the prepared knob values are for its kind.
    #[inline]
    fn prepared_form(&self) -> Option<Form<'_>> {
        let form = self.est.form();
        (form.kind() == self.kind).then_some(form)
    }
}

impl<E: Estimator> Family for EstimatorFamily<E> {
    fn width(&self) -> usize {
        self.knobs.len()
    }
    fn observe(&mut self, hb: &Heartbeat) {
        self.est.observe(hb);
        if self.kind == Kind::Ranked {
            self.update_ranks();
        }
    }
    fn deadlines(&self, out: &mut [Nanos]) {
        let done = match self.prepared_form() {
            Some(Form::Ranked {
                last: Some(last),
                sorted,
            }) => self.ranked(last, sorted, |i, x| {
                out[i] = if x == i64::MAX { Nanos::MAX } else { Nanos(last.0 + x) };
            }),
            Some(f) => f.deadlines(&self.gs, out),
            None => false,
        };
        if !done {
            self.est.deadlines(&self.knobs, out);
        }
    }
    fn offsets(&self, last: Nanos, scratch: &mut [Nanos], out: &mut [f64]) {
        let done = match self.prepared_form() {
            Some(Form::Ranked { last: Some(at), sorted }) if at == last => self.ranked(last, sorted, |i, x| {
                out[i] = if x == i64::MAX { f64::INFINITY } else { x as f64 };
            }),
            Some(f @ (Form::Normal { last: Some(at), .. } | Form::Ratio { last: Some(at), .. })) if at == last => {
                f.offsets(&self.gs, out)
            }
            _ => false,
        };
        if !done {
            self.est.deadlines(&self.knobs, scratch);
            to_offsets(last, scratch, out);
        }
    }
    fn knobs(&self) -> Option<&[f64]> {
        Some(&self.values)
    }
    fn form(&self) -> Form<'_> {
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
    fn state(&self) -> Vec<(&'static str, f64)> {
        (**self).state()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The affine forms' rows (their vector kernels, and the deadline where those cannot
    /// vouch for the rounding) are [`Form::deadline`] at every knob value: a normal form
    /// with a positive, zero and NaN deviation, sums beyond `2^51`, a last receipt past
    /// `2^62`; a ratio form at scales whose products land on or near an integer, at 0 and
    /// at infinity; and no row for the other forms or before the first heartbeat.
    #[test]
    fn the_affine_forms_rows_are_their_deadlines() {
        let knobs = [0.01, 0.1, 0.5, 1.0, 2.0, 3.0, 8.0, 16.0, 40.0, 300.0, 1e6, 1e12];
        let lasts = [
            Nanos(0),
            Nanos(1_234_567_891),
            Nanos((1 << 62) + 5),
            Nanos(i64::MAX - 10),
        ];
        let mut forms = Vec::new();
        for &last in &lasts {
            for (mu, sigma) in [
                (1e8, 2.5e7),
                (1e8, 0.0),
                (1e8, f64::NAN),
                (3e15, 1e15),
                (-5e8, 1e3),
                (0.4, 1e-3),
            ] {
                forms.push(Form::Normal {
                    last: Some(last),
                    mu,
                    sigma,
                });
            }
            for scale in [2.302_585_092_994_046e8, 1e8, 3.0, 0.5, 0.0, f64::INFINITY, 1e-9] {
                forms.push(Form::Ratio {
                    last: Some(last),
                    scale,
                });
            }
        }
        let mut checked = 0;
        for form in forms {
            let gs: Vec<f64> = knobs.iter().map(|&x| form.prepare(x)).collect();
            let (mut off, mut dl) = (vec![0.0; gs.len()], vec![Nanos::ZERO; gs.len()]);
            assert!(form.offsets(&gs, &mut off), "{form:?}");
            assert!(form.deadlines(&gs, &mut dl), "{form:?}");
            let (Form::Normal { last: Some(last), .. } | Form::Ratio { last: Some(last), .. }) = form else {
                unreachable!()
            };
            for (i, &g) in gs.iter().enumerate() {
                let want = form.deadline(g);
                assert_eq!(dl[i], want.unwrap_or(Nanos::MAX), "{form:?} at {}", knobs[i]);
                let exact = offset_from(last, want);
                if exact.abs() < (1u64 << 52) as f64 || exact == f64::INFINITY {
                    assert_eq!(off[i].to_bits(), exact.to_bits(), "{form:?} at {}", knobs[i]);
                    checked += 1;
                }
            }
        }
        assert!(checked > 500, "{checked}");
        let mut out = [0.0; 2];
        for form in [
            Form::Normal {
                last: None,
                mu: 1.0,
                sigma: 1.0,
            },
            Form::Ratio { last: None, scale: 1.0 },
            Form::General,
            Form::Shifted {
                base: Some(5),
                check: Check::default(),
            },
        ] {
            assert!(!form.offsets(&[1.0, 2.0], &mut out), "{form:?}");
            assert!(!form.deadlines(&[1.0, 2.0], &mut [Nanos::ZERO; 2]), "{form:?}");
        }
    }

    /// The vector conversion of deadlines to offsets gives [`offset_from`]'s bits, at the
    /// ends of its range and past them (where the exact path takes over).
    #[test]
    fn offsets_from_deadlines_are_exact() {
        let near = 1i64 << 51;
        for last in [0i64, 1_000_000_007, -5, (1 << 62) + 3, i64::MIN + 10] {
            let ds: Vec<Nanos> = [
                0i64,
                1,
                -1,
                near - 1,
                -(near - 1),
                near,
                -near,
                123_456_789_012,
                i64::MAX,
            ]
            .iter()
            .map(|&d| Nanos(last.saturating_add(d)))
            .chain([Nanos::MAX, Nanos(i64::MIN), Nanos(i64::MAX - 1)])
            .collect();
            let mut out = vec![0.0; ds.len()];
            to_offsets(Nanos(last), &ds, &mut out);
            for (o, &t) in out.iter().zip(&ds) {
                assert_eq!(
                    o.to_bits(),
                    offset_from(Nanos(last), Some(t)).to_bits(),
                    "{t:?} from {last}"
                );
            }
            let inner: Vec<Nanos> = ds
                .iter()
                .copied()
                .filter(|t| t.0.checked_sub(last).is_some_and(|d| d.unsigned_abs() < near as u64))
                .collect();
            assert!(
                near_offsets(last, &inner, &mut out[..inner.len()]),
                "{inner:?} from {last}"
            );
        }
    }

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
        // i64::MAX is a multiple of 7: that tick is `Nanos::MAX`, never, too; the one
        // before it is a tick like any other.
        let seven = Check::every(Nanos(7));
        assert_eq!(i64::MAX % 7, 0);
        assert_eq!(seven.round_up(Nanos(i64::MAX - 3)), None);
        assert_eq!(seven.round_up(Nanos(i64::MAX - 7)), Some(Nanos(i64::MAX - 7)));
        assert_eq!(seven.round_up(Nanos(i64::MAX - 13)), Some(Nanos(i64::MAX - 7)));
        assert_eq!(c.deadline(None), None);
        let continuous = Check::every(Nanos::ZERO);
        assert_eq!(continuous, Check::default());
        assert_eq!(continuous.round_up(Nanos(201)), Some(Nanos(201)));
        assert_eq!(continuous.floor(Nanos(201)), Nanos(201));
        assert_eq!(Check::every(Nanos(-5)), Check::default());
    }

    #[test]
    fn the_forms_deadlines_by_hand() {
        let last = Some(Nanos(1000));
        let normal = |mu, sigma| Form::Normal { last, mu, sigma };
        // τ = a + ⌈μ + σ·z⌉, and a + ⌈μ⌉ without deviation.
        assert_eq!(normal(100.5, 10.0).deadline(2.0), Some(Nanos(1121)));
        assert_eq!(normal(100.5, 10.0).deadline(-2.0), Some(Nanos(1081)));
        assert_eq!(normal(100.5, 0.0).deadline(2.0), Some(Nanos(1101)));
        // Never: an infinite or undefined z, a sum past the last instant, no receipt.
        assert_eq!(normal(100.5, 10.0).deadline(f64::INFINITY), None);
        assert_eq!(normal(100.5, 10.0).deadline(f64::NAN), None);
        assert_eq!(normal(100.5, 10.0).deadline(1e300), None);
        assert_eq!(
            Form::Normal {
                last: None,
                mu: 1.0,
                sigma: 1.0
            }
            .deadline(2.0),
            None
        );
        // The first integer k with k / scale >= g: 250 at scale 100 and g 2.5, 251 at
        // 2.501; at scale 0 any k > 0.
        let ratio = |scale| Form::Ratio { last, scale };
        assert_eq!(ratio(100.0).deadline(2.5), Some(Nanos(1250)));
        assert_eq!(ratio(100.0).deadline(2.501), Some(Nanos(1251)));
        assert_eq!(ratio(0.0).deadline(2.5), Some(Nanos(1001)));
        // The order statistic of rank ⌈g·n⌉: the 2nd of 4 at 0.5, the 1st at 0.1.
        let sorted = [10, 20, 30, 40];
        let ranked = Form::Ranked { last, sorted: &sorted };
        assert_eq!(ranked.deadline(0.5), Some(Nanos(1020)));
        assert_eq!(ranked.deadline(0.1), Some(Nanos(1010)));
        assert_eq!(ranked.deadline(1.0), Some(Nanos(1040)));
        assert_eq!(ranked.deadline(1.5), None);
        assert_eq!(ranked.deadline(f64::NAN), None);
        assert_eq!(Form::Ranked { last, sorted: &[] }.deadline(0.5), None);
        // An interval beyond 2^53 is compared as `f64` does: the first k whose `f64`
        // reaches it, found here by counting.
        let huge = (1i64 << 60) + 1000;
        let first = (huge - 1000..).find(|&k| k as f64 >= huge as f64).unwrap();
        assert!(first < huge, "{first}: 2^60 + 1000 rounds to 2^60");
        let wide = [10, huge];
        let ranked = Form::Ranked { last, sorted: &wide };
        assert_eq!(ranked.deadline(1.0), Some(Nanos(1000 + first)));
        assert_eq!(Form::General.deadline(0.5), None);
    }

    #[test]
    fn a_ratio_row_near_an_integer_is_the_first_instant_reached() {
        // Products `t·scale` that round onto or just past an integer while the level
        // `k / scale` crosses `t` on the other side of it: the first k is one more than
        // the ceiling (26684 is the ceiling of 26683.000000000004; 587956.0 is exact but
        // 587956 / scale < t), found by the definition, value by value.
        let first = |scale: f64, t: f64| {
            let mut k = (t * scale).floor() as i64 - 2;
            while (k as f64) / scale < t {
                k += 1;
            }
            k
        };
        let last = Nanos(1000);
        for (scale, t, expected) in [
            (54_588_497.455_033_03, 0.000_488_802_609_413_823_4, 26_683),
            (160_164_754.935_009_4, 0.003_670_944_960_634_922_5, 587_957),
            (0.591_934_486_892_340_4, 1_364_938.211_729_753, 807_954),
            (203_941.575_226_803_83, 2.737_990_031_601_028, 558_391),
        ] {
            assert_eq!(first(scale, t), expected, "the definition at ({scale}, {t})");
            let form = Form::Ratio {
                last: Some(last),
                scale,
            };
            let mut out = [0.0; 3];
            let gs = [t, 2.5, t];
            assert!(form.offsets(&gs, &mut out));
            assert_eq!(
                out,
                [expected as f64, first(scale, 2.5) as f64, expected as f64],
                "({scale}, {t})"
            );
            assert_eq!(form.deadline(t), Some(Nanos(1000 + expected)));
        }
    }

    #[test]
    fn offsets_and_shifted_deadlines_by_hand() {
        assert_eq!(offset_from(Nanos(1000), Some(Nanos(1500))), 500.0);
        assert_eq!(offset_from(Nanos(1000), Some(Nanos(400))), -600.0);
        assert_eq!(offset_from(Nanos(1000), Some(Nanos::MAX)), f64::INFINITY);
        assert_eq!(offset_from(Nanos(1000), None), f64::INFINITY);
        // A difference past i64: 2^62 - (-(2^62 + 2^61)) = 2^63 + 2^61, exact in f64.
        let (t, last) = (1i64 << 62, -((1i64 << 62) + (1i64 << 61)));
        assert_eq!(offset_from(Nanos(last), Some(Nanos(t))), 2f64.powi(63) + 2f64.powi(61));
        // base + shift, never from i64::MAX on, and not before time 0.
        assert_eq!(shifted_deadline(100, 50), Some(Nanos(150)));
        assert_eq!(shifted_deadline(-10, 3), Some(Nanos(0)));
        assert_eq!(shifted_deadline(i64::MAX - 6, 5), Some(Nanos(i64::MAX - 1)));
        assert_eq!(shifted_deadline(i64::MAX - 5, 5), None);
        assert_eq!(shifted_deadline(i64::MAX, i64::MAX), None);
    }

    #[test]
    fn a_familys_offsets_are_from_the_instant_asked_for() {
        use super::testutil::hb;
        let knobs = [0.5, 2.0, 8.0];
        let mut phi = EstimatorFamily::new(super::phi::Phi::new(Nanos::from_millis(100), 10, Nanos(0)), &knobs);
        let mut satzger = EstimatorFamily::new(
            super::satzger::Satzger::<super::satzger::SortedVec>::with_store(Nanos::from_millis(100), 10, 1.0),
            &[0.2, 0.5, 1.0],
        );
        let mut three = IndependentFamily::new(
            [150.0, 250.0, 350.0]
                .map(|t| Tuned::new(super::fixed::Fixed::new(), t * 1e6))
                .to_vec(),
        );
        assert_eq!(three.width(), 3);
        for (seq, at) in [(1, 0.0), (2, 100.0), (3, 230.0), (4, 310.0), (5, 420.0)] {
            let h = hb(seq, at);
            phi.observe(&h);
            satzger.observe(&h);
            three.observe(&h);
        }
        let last = hb(5, 420.0).recv;
        let mut rows = vec![Nanos::ZERO; 3];
        three.deadlines(&mut rows);
        assert_eq!(rows, [150, 250, 350].map(|t| last + Nanos::from_millis(t)));
        for family in [&phi as &dyn Family, &satzger] {
            family.deadlines(&mut rows);
            // From the last receipt, and from another instant: the same deadlines.
            for from in [last, last + Nanos(1000), Nanos(7)] {
                let (mut scratch, mut out) = (vec![Nanos::ZERO; 3], vec![0.0; 3]);
                family.offsets(from, &mut scratch, &mut out);
                let want: Vec<f64> = rows.iter().map(|&t| offset_from(from, Some(t))).collect();
                assert_eq!(out, want, "from {from:?}");
            }
        }
    }

    #[test]
    fn a_rank_is_the_least_whose_fraction_reaches_the_threshold() {
        // The definition, `c / n >= threshold` as `f64` divides them, tried rank by rank.
        let least = |n: usize, t: f64| (1..=n).find(|&c| c as f64 / n as f64 >= t).unwrap_or(n);
        // 0.28 · 25 is 7.000000000000001 in `f64`, so its ceiling (8) is one too many:
        // 7 / 25 is 0.28. One past 1/3, 3 · t rounds to 1 while 1/3 < t: the rank is 2.
        let by_hand = [
            (25, 0.28, 7),
            (25, 0.56, 14),
            (3, f64::from_bits((1.0f64 / 3.0).to_bits() + 1), 2),
            (7, f64::from_bits((6.0f64 / 7.0).to_bits() + 1), 7),
            (1000, 0.999, 999),
            (7, 0.0, 1),
            (7, -1.0, 1),
            (7, 1.0, 7),
            (7, 2.0, 7),
            (1, 0.5, 1),
        ];
        for (n, t, expected) in by_hand {
            assert_eq!(rank(n, t), expected, "rank({n}, {t:?})");
            assert_eq!(least(n, t), expected, "the definition at ({n}, {t:?})");
        }
        for n in 1..=64usize {
            for i in 0..=n {
                let t = i as f64 / n as f64;
                for t in [
                    t,
                    f64::from_bits(t.to_bits() + 1),
                    f64::from_bits(t.to_bits().max(1) - 1),
                ] {
                    assert_eq!(rank(n, t), least(n, t), "rank({n}, {t:?})");
                }
            }
        }
    }

    #[test]
    fn a_detector_shows_its_estimators_state_boxed_or_not() {
        let beats = [(1, 0), (2, 100), (3, 300)].map(|(seq, t)| Heartbeat {
            seq,
            recv: Nanos(t),
            send: None,
        });
        // phi's window after intervals of 100 and 200 ns: mean 150, deviation 50.
        let mut phi: Box<dyn Detector> = Box::new(Tuned::new(super::phi::Phi::new(Nanos(100), 4, Nanos(0)), 8.0));
        let mut fixed: Box<dyn Detector> = Box::new(Tuned::new(super::fixed::Fixed::new(), 150.0));
        for hb in &beats {
            phi.observe(hb);
            fixed.observe(hb);
        }
        let expected = vec![("mean_ns", 150.0), ("std_ns", 50.0), ("window", 2.0)];
        assert_eq!(phi.state(), expected);
        assert_eq!((*phi).state(), expected);
        // The box forwards every other question too: at 550, two deviations past the
        // expected arrival (300 + 150), φ = -log10(1 - Φ(2)) ≈ 1.64; the deadline and the
        // threshold are phi's.
        let late = Nanos(300 + 150 + 100);
        assert_eq!(phi.level(late), (*phi).level(late));
        assert!(phi.level(late) > 1.6 && phi.level(late) < 1.7, "{}", phi.level(late));
        assert_eq!(phi.threshold(), 8.0);
        assert_eq!(phi.deadline(), (*phi).deadline());
        assert!(phi.deadline().is_some());
        // An estimator without statistics, and a detector that gives no state, show none.
        assert_eq!(fixed.state(), vec![]);
        struct Bare;
        impl Detector for Bare {
            fn observe(&mut self, _: &Heartbeat) {}
            fn deadline(&self) -> Option<Nanos> {
                None
            }
            fn level(&self, _: Nanos) -> f64 {
                0.0
            }
            fn threshold(&self) -> f64 {
                1.0
            }
        }
        assert_eq!(Bare.state(), vec![]);
        assert_eq!(Box::new(Bare).state(), vec![]);
    }
}

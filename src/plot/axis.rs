//! Axes with hand-picked ticks: linear axes with 1-2-5 steps, and log axes drawn as
//! the base-10 logarithm on a linear scale, ticked at powers of ten, with an optional
//! place for zero one decade below the data.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

/// The coordinate type of every axis: a linear `f64` scale with the ticks given.
pub(crate) struct Coord {
    inner: RangedCoordf64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ranged for Coord {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }
}

/// A linear or logarithmic axis.
#[derive(Clone, Debug)]
pub(crate) enum Axis {
    /// Data drawn as is.
    Linear {
        /// Visible range.
        lo: f64,
        /// Visible range.
        hi: f64,
        /// Distance between ticks.
        step: f64,
    },
    /// Data drawn as `log10(v)`; ticks at `10^lo ..= 10^hi`.
    Log {
        /// Smallest decade shown.
        lo: i32,
        /// Largest decade shown.
        hi: i32,
        /// Whether some value is zero (drawn at `lo - 1`, labelled `0`).
        zero: bool,
    },
}

impl Axis {
    /// A linear axis covering `lo..hi` with about 6–10 ticks, padded to whole ticks.
    pub fn linear(lo: f64, hi: f64) -> Axis {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
        let step = nice_step((hi - lo) / 7.0);
        Axis::Linear {
            lo: (lo / step).floor() * step,
            hi: (hi / step).ceil() * step,
            step,
        }
    }

    /// A linear axis covering exactly `lo..hi`, ticked at round values inside.
    pub fn linear_exact(lo: f64, hi: f64) -> Axis {
        match Axis::linear(lo, hi) {
            Axis::Linear { step, .. } if hi > lo => Axis::Linear { lo, hi, step },
            other => other,
        }
    }

    /// A linear axis with fixed bounds and step (e.g. 0–100 %).
    pub fn fixed(lo: f64, hi: f64, step: f64) -> Axis {
        Axis::Linear { lo, hi, step }
    }

    /// A log axis for the finite, non-negative `values`; `None` when there is none.
    pub fn log(values: impl IntoIterator<Item = f64>) -> Option<Axis> {
        let mut min_pos = f64::INFINITY;
        let mut max = f64::NEG_INFINITY;
        let mut zero = false;
        let mut any = false;
        for v in values.into_iter().filter(|v| v.is_finite() && *v >= 0.0) {
            any = true;
            if v == 0.0 {
                zero = true;
            } else {
                min_pos = min_pos.min(v);
            }
            max = max.max(v);
        }
        if !any {
            return None;
        }
        if !min_pos.is_finite() {
            return Some(Axis::Log { lo: 0, hi: 1, zero });
        }
        let lo = min_pos.log10().floor() as i32;
        let hi = (max.log10().ceil() as i32).max(lo + 1);
        Some(Axis::Log { lo, hi, zero })
    }

    /// Whether zero has its own place below a log scale.
    pub fn has_zero_floor(&self) -> bool {
        matches!(self, Axis::Log { zero: true, .. })
    }

    /// Where `v` is drawn (for log axes, its logarithm; zero on the floor).
    pub fn pos(&self, v: f64) -> f64 {
        match *self {
            Axis::Linear { .. } => v,
            Axis::Log { lo, .. } => {
                if v <= 0.0 {
                    f64::from(lo) - 1.0
                } else {
                    v.log10()
                }
            }
        }
    }

    /// The visible range of positions.
    pub fn range(&self) -> Range<f64> {
        match *self {
            Axis::Linear { lo, hi, .. } => lo..hi,
            Axis::Log { lo, hi, zero } => {
                let start = if zero { f64::from(lo) - 1.3 } else { f64::from(lo) - 0.2 };
                start..f64::from(hi)
            }
        }
    }

    /// The plotters coordinate with this axis' ticks.
    pub fn coord(&self) -> Coord {
        match *self {
            Axis::Linear { lo, hi, step } => {
                let first = (lo / step - 1e-9).ceil() as i64;
                let last = (hi / step + 1e-9).floor() as i64;
                let ticks = (first..=last).map(|i| i as f64 * step).collect();
                Coord {
                    inner: (lo..hi).into(),
                    bold: ticks,
                    light: Vec::new(),
                }
            }
            Axis::Log { lo, hi, zero } => {
                let mut bold: Vec<f64> = (lo..=hi).map(f64::from).collect();
                if zero {
                    bold.insert(0, f64::from(lo) - 1.0);
                }
                let light = (lo..hi)
                    .flat_map(|e| (2..10).map(move |k| (f64::from(k) * 10f64.powi(e)).log10()))
                    .collect::<Vec<_>>();
                Coord {
                    inner: self.range().into(),
                    bold,
                    light,
                }
            }
        }
    }

    /// The tick label at position `p`.
    pub fn label(&self, p: f64) -> String {
        match *self {
            Axis::Linear { .. } => fmt_num(p),
            Axis::Log { lo, zero, .. } => {
                if zero && (p - (f64::from(lo) - 1.0)).abs() < 1e-9 {
                    "0".to_string()
                } else if (p - p.round()).abs() < 1e-9 {
                    decade_label(p.round() as i32)
                } else {
                    String::new()
                }
            }
        }
    }
}

/// The label of `10^e`: `1000`, `10`, `1`, `0.1`, `0.001`, and `1e-5` / `1e7` beyond.
pub fn decade_label(e: i32) -> String {
    if (0..=6).contains(&e) {
        format!("{}", 10u64.pow(e as u32))
    } else if (-4..0).contains(&e) {
        format!("0.{}1", "0".repeat((-e - 1) as usize))
    } else {
        format!("1e{e}")
    }
}

/// A number for a label: no needless decimals (`1000`, `12.5`, `0.25`).
pub(crate) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return if v > 0.0 { "inf".to_string() } else { v.to_string() };
    }
    let a = v.abs();
    let s = if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3e}")
    };
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The 1-2-5 step at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let r = raw / mag;
    let k = if r <= 1.0 {
        1.0
    } else if r <= 2.0 {
        2.0
    } else if r <= 5.0 {
        5.0
    } else {
        10.0
    };
    k * mag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_are_labelled_as_plain_numbers() {
        assert_eq!(decade_label(-2), "0.01");
        assert_eq!(decade_label(-1), "0.1");
        assert_eq!(decade_label(0), "1");
        assert_eq!(decade_label(3), "1000");
        assert_eq!(decade_label(-6), "1e-6");
        assert_eq!(decade_label(8), "1e8");
    }

    #[test]
    fn a_log_axis_spans_whole_decades_and_places_zero_below() {
        let a = Axis::log([0.0, 0.03, 250.0, f64::INFINITY]).unwrap();
        assert!(matches!(
            a,
            Axis::Log {
                lo: -2,
                hi: 3,
                zero: true
            }
        ));
        assert_eq!(a.pos(0.0), -3.0);
        assert_eq!(a.label(-3.0), "0");
        assert_eq!(a.label(-1.0), "0.1");
        assert_eq!(a.label(0.5), "");
        assert!(a.range().start < -3.0);
        assert!(Axis::log([f64::INFINITY, -1.0]).is_none());
    }

    #[test]
    fn linear_axes_use_round_steps() {
        let Axis::Linear { lo, hi, step } = Axis::linear(0.0, 1930.0) else {
            panic!()
        };
        assert_eq!((lo, step), (0.0, 500.0));
        assert_eq!(hi, 2000.0);
        assert_eq!(fmt_num(1000.0), "1000");
        assert_eq!(fmt_num(12.5), "12.5");
        assert_eq!(fmt_num(0.25), "0.25");
    }
}

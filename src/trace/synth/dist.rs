//! Distributions of durations (delays, stall lengths, shift sizes), written on the
//! command line as `KIND:KEY=VALUE,...`:
//!
//! | text | meaning | mean |
//! |---|---|---|
//! | `5ms` or `const:value=5ms` | always 5 ms | value |
//! | `normal:mean=20ms,std=5ms` | normal, truncated at zero (negative draws are redrawn) | ≈ mean when mean ≫ std |
//! | `lognormal:median=20ms,sigma=0.5` | `median · e^(σZ)`, Z standard normal | median · e^(σ²/2) |
//! | `exp:mean=5ms` | exponential | mean |
//! | `gamma:mean=5ms,shape=2` | gamma with shape k and scale mean/k | mean |
//! | `pareto:min=1ms,alpha=2.5` | Pareto, never below `min`; heavier tail for smaller alpha | α·min/(α−1) for α > 1 |
//! | `weibull:scale=5ms,shape=1.5` | Weibull | scale · Γ(1 + 1/shape) |
//! | `uniform:min=100ms,max=2s` | uniform on `[min, max]` | (min + max)/2 |
//!
//! Durations take units (`ns`, `us`, `ms`, `s`, `m`, `h`); shapes are plain numbers.
//! Every draw is rounded to whole nanoseconds and capped at [`MAX_SAMPLE`].

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal, Normal, Pareto, Weibull};
use serde::{Deserialize, Serialize};

use crate::time::{Nanos, parse_duration};

/// The largest value a draw can take (10⁶ s, about 11.6 days): heavy tails cannot
/// overflow the trace's clock.
pub const MAX_SAMPLE: Nanos = Nanos(1_000_000_000_000_000);

/// A distribution of non-negative durations. See the module docs for the text syntax
/// ([`FromStr`] and [`Display`](fmt::Display) round-trip exactly).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Dist {
    /// Always `value`.
    Const {
        /// The value.
        value: Nanos,
    },
    /// Normal with the given mean and standard deviation, truncated at zero (negative
    /// draws are redrawn).
    Normal {
        /// Mean before truncation.
        mean: Nanos,
        /// Standard deviation before truncation.
        std: Nanos,
    },
    /// Lognormal: `median · e^(σZ)` with `Z` standard normal.
    LogNormal {
        /// The median, `e^μ`.
        median: Nanos,
        /// The standard deviation `σ` of the logarithm.
        sigma: f64,
    },
    /// Exponential.
    Exp {
        /// The mean, `1/λ`.
        mean: Nanos,
    },
    /// Gamma with shape `k` and scale `mean / k`.
    Gamma {
        /// The mean.
        mean: Nanos,
        /// The shape `k`; the coefficient of variation is `1/√k`.
        shape: f64,
    },
    /// Pareto (type I): `P(X > x) = (min/x)^alpha` for `x >= min`.
    Pareto {
        /// The scale: the smallest value.
        min: Nanos,
        /// The tail index; the mean is finite for `alpha > 1`, the variance for `alpha > 2`.
        alpha: f64,
    },
    /// Weibull: `P(X > x) = e^(-(x/scale)^shape)`.
    Weibull {
        /// The scale.
        scale: Nanos,
        /// The shape; 1 is exponential, below 1 a heavier tail.
        shape: f64,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound.
        min: Nanos,
        /// Upper bound.
        max: Nanos,
    },
}

/// A distribution text that does not parse, or parameters out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

/// The syntax reminder appended to parse errors.
const KINDS: &str = "use 5ms, const:value=5ms, normal:mean=20ms,std=5ms, lognormal:median=20ms,sigma=0.5, \
exp:mean=5ms, gamma:mean=5ms,shape=2, pareto:min=1ms,alpha=2.5, weibull:scale=5ms,shape=1.5 \
or uniform:min=100ms,max=2s";

impl Dist {
    /// The constant distribution at zero.
    pub const ZERO: Dist = Dist::Const { value: Nanos::ZERO };

    /// The mean in nanoseconds (before the cap at [`MAX_SAMPLE`]); infinite for a Pareto
    /// with `alpha <= 1`. For the truncated normal this is the mean before truncation.
    pub fn mean_ns(&self) -> f64 {
        match *self {
            Dist::Const { value } => value.0 as f64,
            Dist::Normal { mean, .. } => mean.0 as f64,
            Dist::LogNormal { median, sigma } => median.0 as f64 * (sigma * sigma / 2.0).exp(),
            Dist::Exp { mean } | Dist::Gamma { mean, .. } => mean.0 as f64,
            Dist::Pareto { min, alpha } if alpha > 1.0 => alpha * min.0 as f64 / (alpha - 1.0),
            Dist::Pareto { .. } => f64::INFINITY,
            Dist::Weibull { scale, shape } => scale.0 as f64 * gamma_fn(1.0 + 1.0 / shape),
            Dist::Uniform { min, max } => (min.0 as f64 + max.0 as f64) / 2.0,
        }
    }

    /// Checks the parameters: shapes positive and finite, `min <= max`, and means and
    /// scales positive where the distribution needs it.
    pub fn validate(&self) -> Result<(), SpecError> {
        let positive = |what: &str, x: f64| {
            if x.is_finite() && x > 0.0 {
                Ok(())
            } else {
                Err(SpecError(format!("{self}: {what} must be a positive number")))
            }
        };
        let nonzero = |what: &str, x: Nanos| {
            if x.0 > 0 {
                Ok(())
            } else {
                Err(SpecError(format!("{self}: {what} must be positive (e.g. 1ms)")))
            }
        };
        let nonneg = |what: &str, x: Nanos| {
            if x.0 >= 0 {
                Ok(())
            } else {
                Err(SpecError(format!("{self}: {what} must not be negative")))
            }
        };
        match *self {
            Dist::Const { value } => nonneg("value", value),
            Dist::Normal { mean, std } => nonneg("mean", mean).and(nonneg("std", std)),
            Dist::LogNormal { median, sigma } => {
                nonzero("median", median)?;
                if sigma.is_finite() && sigma >= 0.0 {
                    Ok(())
                } else {
                    Err(SpecError(format!("{self}: sigma must be a non-negative number")))
                }
            }
            Dist::Exp { mean } => nonzero("mean", mean),
            Dist::Gamma { mean, shape } => nonzero("mean", mean).and(positive("shape", shape)),
            Dist::Pareto { min, alpha } => nonzero("min", min).and(positive("alpha", alpha)),
            Dist::Weibull { scale, shape } => nonzero("scale", scale).and(positive("shape", shape)),
            Dist::Uniform { min, max } => {
                nonneg("min", min)?;
                if min <= max {
                    Ok(())
                } else {
                    Err(SpecError(format!("{self}: min must not exceed max")))
                }
            }
        }
    }

    /// A sampler for this distribution, after [`Dist::validate`].
    pub(crate) fn sampler(&self) -> Result<Sampler, SpecError> {
        self.validate()?;
        let bad = |e: rand_distr::NormalError| SpecError(format!("{self}: {e}"));
        Ok(match *self {
            Dist::Const { value } => Sampler::Const(value.0),
            Dist::Normal { mean, std } if std.0 == 0 => Sampler::Const(mean.0),
            Dist::Normal { mean, std } => Sampler::Normal(Normal::new(mean.0 as f64, std.0 as f64).map_err(bad)?),
            Dist::LogNormal { median, sigma } => {
                Sampler::LogNormal(LogNormal::new((median.0 as f64).ln(), sigma).map_err(bad)?)
            }
            Dist::Exp { mean } => {
                Sampler::Exp(Exp::new(1.0 / mean.0 as f64).map_err(|e| SpecError(format!("{self}: {e}")))?)
            }
            Dist::Gamma { mean, shape } => {
                Sampler::Gamma(Gamma::new(shape, mean.0 as f64 / shape).map_err(|e| SpecError(format!("{self}: {e}")))?)
            }
            Dist::Pareto { min, alpha } => {
                Sampler::Pareto(Pareto::new(min.0 as f64, alpha).map_err(|e| SpecError(format!("{self}: {e}")))?)
            }
            Dist::Weibull { scale, shape } => {
                Sampler::Weibull(Weibull::new(scale.0 as f64, shape).map_err(|e| SpecError(format!("{self}: {e}")))?)
            }
            Dist::Uniform { min, max } => Sampler::Uniform(min.0, max.0),
        })
    }
}

/// Draws from a validated [`Dist`], in whole nanoseconds within `[0, MAX_SAMPLE]`.
#[derive(Clone, Debug)]
pub(crate) enum Sampler {
    Const(i64),
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    Exp(Exp<f64>),
    Gamma(Gamma<f64>),
    Pareto(Pareto<f64>),
    Weibull(Weibull<f64>),
    Uniform(i64, i64),
}

impl Sampler {
    /// One draw.
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> i64 {
        match self {
            Sampler::Const(v) => *v,
            Sampler::Normal(d) => {
                // Truncation at zero by redrawing; the mean is non-negative, so each try
                // succeeds with probability at least 1/2.
                for _ in 0..64 {
                    let x = d.sample(rng);
                    if x >= 0.0 {
                        return to_ns(x);
                    }
                }
                0
            }
            Sampler::LogNormal(d) => to_ns(d.sample(rng)),
            Sampler::Exp(d) => to_ns(d.sample(rng)),
            Sampler::Gamma(d) => to_ns(d.sample(rng)),
            Sampler::Pareto(d) => to_ns(d.sample(rng)),
            Sampler::Weibull(d) => to_ns(d.sample(rng)),
            Sampler::Uniform(lo, hi) if lo == hi => *lo,
            Sampler::Uniform(lo, hi) => rng.random_range(*lo..=*hi),
        }
    }
}

/// Rounds a draw to whole nanoseconds within `[0, MAX_SAMPLE]`.
pub(crate) fn to_ns(x: f64) -> i64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= MAX_SAMPLE.0 as f64 {
        MAX_SAMPLE.0
    } else {
        x.round() as i64
    }
}

/// The gamma function for `x > 0` (Lanczos approximation, relative error below 1e-13).
fn gamma_fn(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_fn(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dist::Const { value } => write!(f, "{value}"),
            Dist::Normal { mean, std } => write!(f, "normal:mean={mean},std={std}"),
            Dist::LogNormal { median, sigma } => write!(f, "lognormal:median={median},sigma={sigma}"),
            Dist::Exp { mean } => write!(f, "exp:mean={mean}"),
            Dist::Gamma { mean, shape } => write!(f, "gamma:mean={mean},shape={shape}"),
            Dist::Pareto { min, alpha } => write!(f, "pareto:min={min},alpha={alpha}"),
            Dist::Weibull { scale, shape } => write!(f, "weibull:scale={scale},shape={shape}"),
            Dist::Uniform { min, max } => write!(f, "uniform:min={min},max={max}"),
        }
    }
}

/// Splits `key=value,key=value` and looks keys up; unknown or repeated keys are errors.
pub(crate) struct Params<'a> {
    text: &'a str,
    kind: &'a str,
    pairs: Vec<(&'a str, &'a str)>,
    used: Vec<bool>,
}

impl<'a> Params<'a> {
    /// Parses the part after `kind:`.
    pub(crate) fn parse(text: &'a str, kind: &'a str, rest: &'a str) -> Result<Self, SpecError> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for item in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((k, v)) = item.split_once('=') else {
                return Err(SpecError(format!(
                    "'{text}': '{item}' is not KEY=VALUE; write e.g. {kind}:{}",
                    example(kind)
                )));
            };
            let k = k.trim();
            if pairs.iter().any(|(p, _)| *p == k) {
                return Err(SpecError(format!("'{text}': {k} is given twice")));
            }
            pairs.push((k, v.trim()));
        }
        let used = vec![false; pairs.len()];
        Ok(Params {
            text,
            kind,
            pairs,
            used,
        })
    }

    fn take(&mut self, key: &str) -> Option<&'a str> {
        let i = self.pairs.iter().position(|(k, _)| *k == key)?;
        self.used[i] = true;
        Some(self.pairs[i].1)
    }

    fn missing(&self, key: &str) -> SpecError {
        SpecError(format!(
            "'{}': {} needs {key}; write e.g. {}:{}",
            self.text,
            self.kind,
            self.kind,
            example(self.kind)
        ))
    }

    /// A duration parameter, or `None` when absent.
    pub(crate) fn duration_opt(&mut self, key: &str) -> Result<Option<Nanos>, SpecError> {
        self.take(key)
            .map(|v| parse_duration(v).map_err(|e| SpecError(format!("'{}': {key}: {e}", self.text))))
            .transpose()
    }

    /// A required duration parameter.
    pub(crate) fn duration(&mut self, key: &str) -> Result<Nanos, SpecError> {
        self.duration_opt(key)?.ok_or_else(|| self.missing(key))
    }

    /// A number parameter, or `None` when absent.
    pub(crate) fn number_opt(&mut self, key: &str) -> Result<Option<f64>, SpecError> {
        self.take(key)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| SpecError(format!("'{}': {key}={v} is not a number", self.text)))
            })
            .transpose()
    }

    /// A required number parameter.
    pub(crate) fn number(&mut self, key: &str) -> Result<f64, SpecError> {
        self.number_opt(key)?.ok_or_else(|| self.missing(key))
    }

    /// Fails if a key was not used.
    pub(crate) fn finish(self, expected: &str) -> Result<(), SpecError> {
        match self.pairs.iter().zip(&self.used).find(|(_, u)| !**u) {
            Some(((k, _), _)) => Err(SpecError(format!(
                "'{}': {} has no parameter '{k}'; expected {expected}",
                self.text, self.kind
            ))),
            None => Ok(()),
        }
    }
}

/// An example parameter list for each kind, for error messages.
fn example(kind: &str) -> &'static str {
    match kind {
        "const" => "value=5ms",
        "normal" => "mean=20ms,std=5ms",
        "lognormal" => "median=20ms,sigma=0.5",
        "exp" | "exponential" => "mean=5ms",
        "gamma" => "mean=5ms,shape=2",
        "pareto" => "min=1ms,alpha=2.5",
        "weibull" => "scale=5ms,shape=1.5",
        "uniform" => "min=100ms,max=2s",
        "bernoulli" => "rate=0.01",
        "ge" => "rate=0.004,burst=3 or ge:p_gb=0.001,p_bg=0.3,loss_good=0,loss_bad=1",
        _ => "...",
    }
}

impl FromStr for Dist {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Dist, SpecError> {
        let t = text.trim();
        let Some((kind, rest)) = t.split_once(':') else {
            return match parse_duration(t) {
                Ok(value) => Ok(Dist::Const { value }),
                // A number with a unit: a duration, only too large.
                Err(e @ crate::time::DurationError::OutOfRange(_)) => Err(SpecError(e.to_string())),
                Err(e) => Err(SpecError(format!(
                    "'{t}' is neither a duration ({e}) nor a distribution; {KINDS}"
                ))),
            };
        };
        let kind = kind.trim();
        let mut p = Params::parse(t, kind, rest)?;
        let (d, keys) = match kind {
            "const" => (
                Dist::Const {
                    value: p.duration("value")?,
                },
                "value",
            ),
            "normal" => (
                Dist::Normal {
                    mean: p.duration("mean")?,
                    std: p.duration("std")?,
                },
                "mean, std",
            ),
            "lognormal" => (
                Dist::LogNormal {
                    median: p.duration("median")?,
                    sigma: p.number("sigma")?,
                },
                "median, sigma",
            ),
            "exp" | "exponential" => (
                Dist::Exp {
                    mean: p.duration("mean")?,
                },
                "mean",
            ),
            "gamma" => (
                Dist::Gamma {
                    mean: p.duration("mean")?,
                    shape: p.number("shape")?,
                },
                "mean, shape",
            ),
            "pareto" => (
                Dist::Pareto {
                    min: p.duration("min")?,
                    alpha: p.number("alpha")?,
                },
                "min, alpha",
            ),
            "weibull" => (
                Dist::Weibull {
                    scale: p.duration("scale")?,
                    shape: p.number("shape")?,
                },
                "scale, shape",
            ),
            "uniform" => (
                Dist::Uniform {
                    min: p.duration("min")?,
                    max: p.duration("max")?,
                },
                "min, max",
            ),
            other => return Err(SpecError(format!("'{t}': unknown distribution '{other}'; {KINDS}"))),
        };
        p.finish(keys)?;
        d.validate()?;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for s in [
            "5ms",
            "normal:mean=20ms,std=5ms",
            "lognormal:median=20ms,sigma=0.5",
            "exp:mean=5ms",
            "gamma:mean=5ms,shape=2",
            "pareto:min=1ms,alpha=2.5",
            "weibull:scale=5ms,shape=1.5",
            "uniform:min=100ms,max=2s",
            "lognormal:median=1234.567us,sigma=0.1",
            "pareto:min=1234567.891us,alpha=1.1",
        ] {
            let d: Dist = s.parse().unwrap();
            assert_eq!(d.to_string(), s);
            assert_eq!(d.to_string().parse::<Dist>().unwrap(), d);
        }
        assert_eq!(
            "const:value=3ms".parse::<Dist>().unwrap(),
            Dist::Const {
                value: Nanos::from_millis(3)
            }
        );
        assert_eq!(
            " exponential: mean = 2ms ".parse::<Dist>().unwrap(),
            Dist::Exp {
                mean: Nanos::from_millis(2)
            }
        );
    }

    #[test]
    fn bad_text_is_explained() {
        let e = |s: &str| s.parse::<Dist>().unwrap_err().to_string();
        assert!(e("20").contains("has no unit"), "{}", e("20"));
        assert!(e("lognormal:median=20ms").contains("needs sigma"));
        assert!(e("lognormal:median=20ms,sigma=0.5,mean=3ms").contains("no parameter 'mean'"));
        assert!(e("lognormal:median=20,sigma=0.5").contains("median"));
        assert!(e("cauchy:x=1").contains("unknown distribution 'cauchy'"));
        assert!(e("gamma:mean=5ms,shape=-1").contains("shape must be a positive number"));
        assert!(e("uniform:min=2s,max=1s").contains("min must not exceed max"));
        assert!(e("exp:mean=0s").contains("mean must be positive"));
        assert!(e("normal:mean=5ms,mean=6ms").contains("twice"));
        assert!(e("normal:mean").contains("KEY=VALUE"));
    }

    #[test]
    fn means_follow_the_closed_forms() {
        let ms = Nanos::from_millis;
        assert_eq!(Dist::Uniform { min: ms(1), max: ms(3) }.mean_ns(), 2e6);
        assert!((Dist::Pareto { min: ms(1), alpha: 3.0 }.mean_ns() - 1.5e6).abs() < 1e-6);
        assert!(Dist::Pareto { min: ms(1), alpha: 1.0 }.mean_ns().is_infinite());
        // Γ(1.5) = √π / 2; Γ(2) = 1; Γ(5) = 24.
        let w = Dist::Weibull {
            scale: ms(2),
            shape: 2.0,
        };
        assert!((w.mean_ns() - 2e6 * std::f64::consts::PI.sqrt() / 2.0).abs() < 1e-3);
        assert!((gamma_fn(2.0) - 1.0).abs() < 1e-12);
        assert!((gamma_fn(5.0) - 24.0).abs() < 1e-10);
        assert!((gamma_fn(0.25) - 3.625_609_908_221_908).abs() < 1e-10);
        let l = Dist::LogNormal {
            median: ms(10),
            sigma: 1.0,
        };
        assert!((l.mean_ns() - 1e7 * 0.5f64.exp()).abs() < 1e-3);
    }

    #[test]
    fn draws_stay_in_range() {
        assert_eq!(to_ns(-3.0), 0);
        assert_eq!(to_ns(f64::NAN), 0);
        assert_eq!(to_ns(f64::INFINITY), MAX_SAMPLE.0);
        assert_eq!(to_ns(2.5), 3);
    }
}

//! A small seeded model of one-way network delay and loss, used to synthesize arrivals
//! for real send times (`send-times` importer) and by the impairing relay of the
//! recorder.
//!
//! Written `constant:10ms`, `uniform:5ms..15ms` or `lognormal:10ms,0.5` (median and the
//! standard deviation of the delay's logarithm). Delays are independent per heartbeat,
//! so a variable delay reorders heartbeats, as a real network can.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

use crate::time::{Nanos, parse_duration};

/// The longest delay a model draws (one hour); larger draws are capped.
pub const MAX_DELAY: Nanos = Nanos(3_600_000_000_000);

/// A one-way delay distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DelayModel {
    /// Always the same delay.
    Constant(Nanos),
    /// Uniform between two delays (inclusive).
    Uniform(Nanos, Nanos),
    /// Log-normal with this median and this standard deviation of `ln(delay)`.
    Lognormal(Nanos, f64),
}

/// A delay model that does not parse, with the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delay model '{0}': {1}; write constant:10ms, uniform:5ms..15ms or lognormal:10ms,0.5")]
pub struct DelayModelError(String, String);

impl FromStr for DelayModel {
    type Err = DelayModelError;
    fn from_str(text: &str) -> Result<DelayModel, DelayModelError> {
        let err = |why: String| DelayModelError(text.to_string(), why);
        let dur = |s: &str| parse_duration(s).map_err(|e| err(e.to_string()));
        let (kind, rest) = text.split_once(':').ok_or_else(|| err("missing ':'".into()))?;
        match kind.trim() {
            "constant" => Ok(DelayModel::Constant(dur(rest)?.min(MAX_DELAY))),
            "uniform" => {
                let (a, b) = rest
                    .split_once("..")
                    .ok_or_else(|| err("uniform needs LOW..HIGH".into()))?;
                let (a, b) = (dur(a)?.min(MAX_DELAY), dur(b)?.min(MAX_DELAY));
                if a > b {
                    return Err(err(format!("{a} is above {b}")));
                }
                Ok(DelayModel::Uniform(a, b))
            }
            "lognormal" => {
                let (m, s) = rest
                    .split_once(',')
                    .ok_or_else(|| err("lognormal needs MEDIAN,SIGMA".into()))?;
                let m = dur(m)?;
                let sigma: f64 = s
                    .trim()
                    .parse()
                    .map_err(|_| err(format!("sigma '{}' is not a number", s.trim())))?;
                if m.0 <= 0 || !(0.0..=10.0).contains(&sigma) {
                    return Err(err("the median must be positive and sigma between 0 and 10".into()));
                }
                Ok(DelayModel::Lognormal(m, sigma))
            }
            other => Err(err(format!("unknown model '{other}'"))),
        }
    }
}

impl fmt::Display for DelayModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DelayModel::Constant(d) => write!(f, "constant:{d}"),
            DelayModel::Uniform(a, b) => write!(f, "uniform:{a}..{b}"),
            DelayModel::Lognormal(m, s) => write!(f, "lognormal:{m},{s}"),
        }
    }
}

impl DelayModel {
    /// Draws one delay, in `[0, MAX_DELAY]`.
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> Nanos {
        match *self {
            DelayModel::Constant(d) => d,
            DelayModel::Uniform(a, b) => Nanos(rng.random_range(a.0..=b.0)),
            DelayModel::Lognormal(m, s) => match LogNormal::new((m.0 as f64).ln(), s) {
                Ok(d) => Nanos::ceil_f64(d.sample(rng)).min(MAX_DELAY),
                Err(_) => m,
            },
        }
    }
}

/// Whether a heartbeat is lost, with probability `loss` (in `[0, 1]`).
pub fn lost(rng: &mut ChaCha8Rng, loss: f64) -> bool {
    loss > 0.0 && rng.random::<f64>() < loss
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parses_and_prints_the_three_models() {
        for text in ["constant:10ms", "uniform:5ms..15ms", "lognormal:10ms,0.5"] {
            let m: DelayModel = text.parse().unwrap();
            assert_eq!(m.to_string(), text);
        }
        assert!(
            "constant"
                .parse::<DelayModel>()
                .unwrap_err()
                .to_string()
                .contains("missing ':'")
        );
        assert!("uniform:9ms..1ms".parse::<DelayModel>().is_err());
        assert!("lognormal:10ms,x".parse::<DelayModel>().is_err());
        assert!(
            "gamma:1ms"
                .parse::<DelayModel>()
                .unwrap_err()
                .to_string()
                .contains("unknown model 'gamma'")
        );
    }

    #[test]
    fn draws_stay_in_range_and_repeat_with_the_seed() {
        let m: DelayModel = "lognormal:10ms,1".parse().unwrap();
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..1000).map(|_| m.sample(&mut rng)).collect::<Vec<_>>()
        };
        let a = draw(3);
        assert_eq!(a, draw(3));
        assert_ne!(a, draw(4));
        assert!(a.iter().all(|d| d.0 > 0 && *d <= MAX_DELAY));
        let mut sorted = a.clone();
        sorted.sort();
        let median = sorted[500].as_millis_f64();
        // The sample median of n = 1000 draws has standard deviation
        // 1 / (2 f(m) √n) = m σ √(2π) / (2 √n) = 10 ms · 2.5066 / 63.25 = 0.396 ms; four of
        // them around the median of 10 ms.
        assert!((median - 10.0).abs() <= 4.0 * 0.396, "median {median} ms");
        let u: DelayModel = "uniform:5ms..6ms".parse().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert!((0..100).all(|_| (5_000_000..=6_000_000).contains(&u.sample(&mut rng).0)));
    }
}

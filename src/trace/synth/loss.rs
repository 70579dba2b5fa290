//! Loss models: none, independent (Bernoulli) and bursty (Gilbert–Elliott).
//!
//! Gilbert–Elliott is a two-state Markov chain stepped once per heartbeat. In the good
//! state a heartbeat is lost with probability `loss_good`, in the bad state with
//! `loss_bad`; after each heartbeat the chain moves good→bad with probability `p_gb`
//! and bad→good with `p_bg`. The chain starts in its stationary distribution:
//!
//! - time in the bad state: `π_B = p_gb / (p_gb + p_bg)`;
//! - stationary loss rate: `(1 − π_B)·loss_good + π_B·loss_bad`;
//! - mean stay in the bad state: `1 / p_bg` heartbeats — with `loss_good = 0` and
//!   `loss_bad = 1` (the default), exactly the mean length of a run of consecutive
//!   lost heartbeats.
//!
//! `ge:rate=R,burst=B` picks `loss_good = 0`, `loss_bad = 1`, `p_bg = 1/B` and
//! `p_gb = R·p_bg / (1 − R)`: stationary loss rate `R`, mean burst length `B`.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::dist::{Params, SpecError};

/// How heartbeats are lost. Text forms: `none`, `0.01` or `bernoulli:rate=0.01`,
/// `ge:rate=0.004,burst=3`, `ge:p_gb=0.001,p_bg=0.3,loss_good=0,loss_bad=1` (see the
/// module docs; [`FromStr`] and [`Display`](fmt::Display) round-trip exactly).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Loss {
    /// No heartbeat is lost.
    None,
    /// Each heartbeat is lost independently with probability `rate`.
    Bernoulli {
        /// Loss probability, in `[0, 1]`.
        rate: f64,
    },
    /// Bursty loss from a two-state Markov chain (module docs).
    #[serde(rename = "ge")]
    GilbertElliott {
        /// Probability of moving good → bad after a heartbeat.
        p_gb: f64,
        /// Probability of moving bad → good after a heartbeat.
        p_bg: f64,
        /// Loss probability in the good state.
        loss_good: f64,
        /// Loss probability in the bad state.
        loss_bad: f64,
    },
}

impl Loss {
    /// Gilbert–Elliott with stationary loss rate `rate` in `[0, 1)` and mean burst length
    /// `burst >= 1` heartbeats (`loss_good = 0`, `loss_bad = 1`).
    pub fn bursty(rate: f64, burst: f64) -> Result<Loss, SpecError> {
        if !(rate.is_finite() && (0.0..1.0).contains(&rate)) {
            return Err(SpecError(format!(
                "loss rate {rate} is out of range; give a fraction in [0, 1), e.g. 0.004"
            )));
        }
        if !(burst.is_finite() && burst >= 1.0) {
            return Err(SpecError(format!(
                "burst length {burst} is out of range; give a mean number of heartbeats >= 1, e.g. 3"
            )));
        }
        let p_bg = 1.0 / burst;
        Ok(Loss::GilbertElliott {
            p_gb: rate * p_bg / (1.0 - rate),
            p_bg,
            loss_good: 0.0,
            loss_bad: 1.0,
        })
    }

    /// The long-run fraction of heartbeats lost.
    pub fn stationary_rate(&self) -> f64 {
        match *self {
            Loss::None => 0.0,
            Loss::Bernoulli { rate } => rate,
            Loss::GilbertElliott {
                loss_good, loss_bad, ..
            } => {
                let pi_bad = self.bad_fraction();
                (1.0 - pi_bad) * loss_good + pi_bad * loss_bad
            }
        }
    }

    /// For Gilbert–Elliott, the mean stay in the bad state, `1 / p_bg` heartbeats (the mean
    /// loss burst when `loss_good = 0` and `loss_bad = 1`); `None` for the other models.
    pub fn mean_burst(&self) -> Option<f64> {
        match *self {
            Loss::GilbertElliott { p_bg, .. } => Some(1.0 / p_bg),
            _ => None,
        }
    }

    /// The stationary probability of the bad state (0 for the other models).
    fn bad_fraction(&self) -> f64 {
        match *self {
            Loss::GilbertElliott { p_gb, p_bg, .. } if p_gb + p_bg > 0.0 => p_gb / (p_gb + p_bg),
            _ => 0.0,
        }
    }

    /// Checks that every probability is in `[0, 1]` and that the bad state can be left.
    pub fn validate(&self) -> Result<(), SpecError> {
        let prob = |name: &str, p: f64| {
            if p.is_finite() && (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(SpecError(format!(
                    "{name}={p} is out of range; a probability is between 0 and 1"
                )))
            }
        };
        match *self {
            Loss::None => Ok(()),
            Loss::Bernoulli { rate } => prob("rate", rate),
            Loss::GilbertElliott {
                p_gb,
                p_bg,
                loss_good,
                loss_bad,
            } => {
                prob("p_gb", p_gb)?;
                prob("p_bg", p_bg)?;
                prob("loss_good", loss_good)?;
                prob("loss_bad", loss_bad)?;
                if p_bg == 0.0 {
                    return Err(SpecError(
                        "p_bg=0 never leaves the bad state; give a positive probability (1/mean burst length)"
                            .to_string(),
                    ));
                }
                Ok(())
            }
        }
    }

    /// The per-heartbeat state machine, its first state drawn from the stationary law.
    pub(crate) fn start<R: Rng + ?Sized>(&self, rng: &mut R) -> LossState {
        let bad = matches!(self, Loss::GilbertElliott { .. }) && rng.random::<f64>() < self.bad_fraction();
        LossState {
            model: self.clone(),
            bad,
        }
    }
}

/// The loss model while generating.
#[derive(Clone, Debug)]
pub(crate) struct LossState {
    model: Loss,
    bad: bool,
}

impl LossState {
    /// Whether the next heartbeat is lost.
    #[inline]
    pub(crate) fn next<R: Rng + ?Sized>(&mut self, rng: &mut R) -> bool {
        match self.model {
            Loss::None => false,
            Loss::Bernoulli { rate } => rng.random::<f64>() < rate,
            Loss::GilbertElliott {
                p_gb,
                p_bg,
                loss_good,
                loss_bad,
            } => {
                let p = if self.bad { loss_bad } else { loss_good };
                let lost = rng.random::<f64>() < p;
                let u: f64 = rng.random();
                self.bad = if self.bad { u >= p_bg } else { u < p_gb };
                lost
            }
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::None => f.write_str("none"),
            Loss::Bernoulli { rate } => write!(f, "bernoulli:rate={rate}"),
            Loss::GilbertElliott {
                p_gb,
                p_bg,
                loss_good,
                loss_bad,
            } => write!(
                f,
                "ge:p_gb={p_gb},p_bg={p_bg},loss_good={loss_good},loss_bad={loss_bad}"
            ),
        }
    }
}

impl FromStr for Loss {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Loss, SpecError> {
        let t = text.trim();
        if matches!(t, "none" | "off") {
            return Ok(Loss::None);
        }
        let loss = match t.split_once(':') {
            None => {
                let rate: f64 = t.parse().map_err(|_| {
                    SpecError(format!(
                        "'{t}' is not a loss model; use none, a rate such as 0.01, bernoulli:rate=0.01, \
                         ge:rate=0.004,burst=3 or ge:p_gb=0.001,p_bg=0.3,loss_good=0,loss_bad=1"
                    ))
                })?;
                Loss::Bernoulli { rate }
            }
            Some((kind, rest)) => {
                let kind = kind.trim();
                let mut p = Params::parse(t, kind, rest)?;
                match kind {
                    "bernoulli" => {
                        let rate = p.number("rate")?;
                        p.finish("rate")?;
                        Loss::Bernoulli { rate }
                    }
                    "ge" | "gilbert-elliott" => {
                        let rate = p.number_opt("rate")?;
                        let burst = p.number_opt("burst")?;
                        match (rate, burst) {
                            (Some(r), Some(b)) => {
                                p.finish("rate, burst")?;
                                Loss::bursty(r, b)?
                            }
                            (None, None) => {
                                let l = Loss::GilbertElliott {
                                    p_gb: p.number("p_gb")?,
                                    p_bg: p.number("p_bg")?,
                                    loss_good: p.number_opt("loss_good")?.unwrap_or(0.0),
                                    loss_bad: p.number_opt("loss_bad")?.unwrap_or(1.0),
                                };
                                p.finish("p_gb, p_bg, loss_good, loss_bad")?;
                                l
                            }
                            _ => {
                                return Err(SpecError(format!(
                                    "'{t}': give both rate and burst (ge:rate=0.004,burst=3), or p_gb and p_bg"
                                )));
                            }
                        }
                    }
                    other => {
                        return Err(SpecError(format!(
                            "'{t}': unknown loss model '{other}'; use none, bernoulli or ge"
                        )));
                    }
                }
            }
        };
        loss.validate().map_err(|e| SpecError(format!("'{t}': {e}")))?;
        Ok(loss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for s in [
            "none",
            "bernoulli:rate=0.01",
            "ge:p_gb=0.001,p_bg=0.3,loss_good=0,loss_bad=1",
            "ge:p_gb=0.01,p_bg=0.5,loss_good=0.001,loss_bad=0.7",
        ] {
            let l: Loss = s.parse().unwrap();
            assert_eq!(l.to_string(), s);
        }
        assert_eq!("0.02".parse::<Loss>().unwrap(), Loss::Bernoulli { rate: 0.02 });
        let l: Loss = "ge:rate=0.004,burst=3".parse().unwrap();
        assert_eq!(l.to_string().parse::<Loss>().unwrap(), l);
        assert!((l.stationary_rate() - 0.004).abs() < 1e-15);
        assert!((l.mean_burst().unwrap() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn out_of_range_is_rejected() {
        let e = |s: &str| s.parse::<Loss>().unwrap_err().to_string();
        assert!(e("1.5").contains("between 0 and 1"), "{}", e("1.5"));
        assert!(e("-0.1").contains("between 0 and 1"));
        assert!(e("ge:rate=1,burst=3").contains("[0, 1)"));
        assert!(e("ge:rate=0.1,burst=0.5").contains(">= 1"));
        assert!(e("ge:rate=0.1").contains("both rate and burst"));
        assert!(e("ge:p_gb=0.1,p_bg=0").contains("never leaves"));
        assert!(e("lots").contains("not a loss model"));
        assert!(e("markov:p=1").contains("unknown loss model"));
    }
}

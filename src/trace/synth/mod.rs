//! Synthetic heartbeat traces: a seeded model of a sender, a network and a monitor.
//!
//! Heartbeat `k = 1, 2, …, n` is due at `k·η` on the sender, which shares the monitor's
//! clock. Each one goes through these steps, every kind of randomness drawing from its
//! own stream of a [`ChaCha8Rng`] seeded by the caller (so that, say, turning loss on
//! leaves the delays of the surviving heartbeats unchanged):
//!
//! 1. **Jitter**: the send time is `k·η + J`, `J` normal with standard deviation
//!    `jitter`, clamped to `±(η−1ns)/2` so that sends stay strictly ordered.
//! 2. **Stalls** (GC-like pauses of the sender): stalls start after a running time drawn
//!    from an exponential law with mean `stalls.every` (measured from the end of the
//!    previous stall) and last a draw of `stalls.duration`. A heartbeat due during a
//!    stall goes out when it ends: all heartbeats due in one stall share its end as
//!    their send time, in seq order.
//! 3. **Delay**: `base_delay + D` with `D` drawn from `delay`, plus the current level
//!    shift and spike, if any. Shifts (route changes) and spikes (congestion) are both
//!    episodes: they start after an exponential gap with mean `every`, add a draw of
//!    `size` to the delay of every heartbeat sent during the episode, last a draw of
//!    `hold`, and then the delay returns to its base level.
//! 4. **Loss**: [`Loss`] decides whether the heartbeat arrives.
//! 5. **Receipt**: `recv = send + delay`. Receipts may overtake each other, unless
//!    `fifo` is set: then `recv_k = max(recv_k, recv_j)` for the previous received `j`.
//!
//! The trace carries its full settings and seed as a comment line
//! (`generator: fdbench generate --preset wan --seed 7 --interval 100ms …`), so running
//! that command again gives the same bytes. The same seed and settings always give the
//! same trace with the same versions of `rand_chacha` and `rand_distr`.
//!
//! Generating is a single pass with no allocation per heartbeat: the trace is built
//! column-wise, so memory is the trace itself (about 24 bytes per heartbeat).
//!
//! ```
//! use fdbench::trace::synth::{self, Length, Loss, Preset, SynthConfig};
//!
//! let mut cfg = SynthConfig::preset(Preset::Wan);
//! cfg.length = Length::Count(10_000);
//! cfg.loss = "ge:rate=0.01,burst=4".parse().unwrap();
//! let trace = synth::generate(&cfg, 7).unwrap();
//! assert_eq!(trace.len(), 10_000);
//! assert!(trace.comments()[0].starts_with("generator: fdbench generate --preset wan --seed 7"));
//! assert_eq!(cfg.loss, Loss::bursty(0.01, 4.0).unwrap());
//! ```

mod dist;
mod loss;

pub use dist::{Dist, MAX_SAMPLE, SpecError};
pub use loss::Loss;

use std::fmt;
use std::str::FromStr;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Normal};
use serde::{Deserialize, Serialize};

use super::{IntervalSource, Trace, TraceBuilder, TraceError};
use crate::time::{Nanos, parse_duration};
use dist::Sampler;

/// The default seed of `fdbench generate`.
pub const DEFAULT_SEED: u64 = 1;

/// The most heartbeats one trace may have.
pub const MAX_COUNT: u64 = u32::MAX as u64;

/// The most heartbeats [`generate`] holds in memory (2.4 GB of columns); longer traces
/// stream to a file ([`Heartbeats::write_csv`], `fdbench generate`).
pub const MAX_IN_MEMORY: u64 = 100_000_000;

/// How long a trace is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Length {
    /// This many heartbeats.
    Count(u64),
    /// The heartbeats due within this time: `duration / interval` of them.
    Duration(Nanos),
}

/// Sender stalls (GC-like pauses).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stalls {
    /// Mean running time between the end of a stall and the start of the next; `None`
    /// for no stalls. At least the interval.
    pub every: Option<Nanos>,
    /// How long a stall lasts.
    pub duration: Dist,
}

/// Episodes that add to the delay for a while: level shifts or spikes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Episodes {
    /// Mean time between the end of an episode and the start of the next; `None` for
    /// none. At least the interval.
    pub every: Option<Nanos>,
    /// Extra delay during an episode (drawn once per episode).
    pub size: Dist,
    /// How long an episode lasts.
    pub hold: Dist,
}

impl Episodes {
    /// No episodes.
    pub const NONE: Episodes = Episodes {
        every: None,
        size: Dist::ZERO,
        hold: Dist::ZERO,
    };
}

/// Every setting of the generator (module docs). Each field is a flag of
/// `fdbench generate` with the same name (`base_delay` is `--base-delay`,
/// `stalls.every` is `--stall-every`, `shifts.size` is `--shift-size`, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SynthConfig {
    /// The preset these settings started from: echoed in the trace for its readers, it
    /// does not change what is generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// Nominal interval `η` between heartbeats.
    pub interval: Nanos,
    /// Number of heartbeats, or the time they span.
    pub length: Length,
    /// Standard deviation of the sender's normal jitter on each send time.
    pub jitter: Nanos,
    /// The smallest network delay (propagation); `delay` is added to it.
    pub base_delay: Nanos,
    /// The variable part of the network delay.
    pub delay: Dist,
    /// How heartbeats are lost.
    pub loss: Loss,
    /// Sender stalls.
    pub stalls: Stalls,
    /// Level shifts of the delay (route changes).
    pub shifts: Episodes,
    /// Delay spikes (short congestion episodes).
    pub spikes: Episodes,
    /// Receipts in send order (`recv_k = max(recv_k, recv_{k-1})`) instead of reordering.
    pub fifo: bool,
}

/// Settings that cannot generate a trace, naming the flag of `fdbench generate`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SynthError {
    /// A setting out of range.
    #[error("{flag}: {reason}")]
    Invalid {
        /// The flag, e.g. `--interval`.
        flag: &'static str,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// The heartbeats generated do not make a valid trace (e.g. all but one lost).
    #[error("the generated trace is not valid: {0}; lower --loss or generate more heartbeats")]
    Trace(TraceError),
}

fn invalid(flag: &'static str, reason: impl Into<String>) -> SynthError {
    SynthError::Invalid {
        flag,
        reason: reason.into(),
    }
}

impl SynthConfig {
    /// The settings of a preset.
    pub fn preset(p: Preset) -> SynthConfig {
        preset_config(p)
    }

    /// The number of heartbeats this configuration generates (before validation).
    pub fn count(&self) -> u64 {
        match self.length {
            Length::Count(n) => n,
            Length::Duration(d) if self.interval.0 > 0 => (d.0 / self.interval.0) as u64,
            Length::Duration(_) => 0,
        }
    }

    /// Checks every setting, naming the flag that is out of range and what is allowed.
    pub fn validate(&self) -> Result<(), SynthError> {
        let eta = self.interval;
        if eta.0 <= 0 {
            return Err(invalid("--interval", format!("{eta} is not positive; give e.g. 100ms")));
        }
        let n = self.count();
        let (flag, what) = match self.length {
            Length::Count(c) => ("--count", format!("{c} heartbeats")),
            Length::Duration(d) => ("--duration", format!("{d} at interval {eta} is {n} heartbeats")),
        };
        if n < 2 {
            return Err(invalid(flag, format!("{what}; at least 2 are needed")));
        }
        if n > MAX_COUNT {
            return Err(invalid(flag, format!("{what}; at most {MAX_COUNT} are supported")));
        }
        // The last nominal send time plus room for stalls and delays must fit the clock.
        if (n as i64).checked_mul(eta.0).is_none_or(|t| t > i64::MAX / 4) {
            return Err(invalid(flag, format!("{what} at {eta} overflows the 292-year clock")));
        }
        for (flag, v) in [("--jitter", self.jitter), ("--base-delay", self.base_delay)] {
            if v.0 < 0 {
                return Err(invalid(flag, format!("{v} is negative; give a duration >= 0")));
            }
        }
        let dists = [
            ("--delay", &self.delay),
            ("--stall-duration", &self.stalls.duration),
            ("--shift-size", &self.shifts.size),
            ("--shift-hold", &self.shifts.hold),
            ("--spike-size", &self.spikes.size),
            ("--spike-hold", &self.spikes.hold),
        ];
        for (flag, d) in dists {
            d.validate().map_err(|e| invalid(flag, e.0))?;
        }
        self.loss.validate().map_err(|e| invalid("--loss", e.0))?;
        for (flag, every) in [
            ("--stall-every", self.stalls.every),
            ("--shift-every", self.shifts.every),
            ("--spike-every", self.spikes.every),
        ] {
            if let Some(e) = every
                && e < eta
            {
                return Err(invalid(
                    flag,
                    format!("{e} is shorter than the interval {eta}; give at least the interval, or off"),
                ));
            }
        }
        Ok(())
    }

    /// The `fdbench generate` command that regenerates this trace with `seed`: every
    /// setting is written out, so it does not depend on the presets' defaults.
    pub fn command_line(&self, seed: u64) -> String {
        let mut s = String::from("fdbench generate");
        if let Some(p) = self.preset {
            s += &format!(" --preset {p}");
        }
        s += &format!(" --seed {seed} --interval {}", self.interval);
        match self.length {
            Length::Count(n) => s += &format!(" --count {n}"),
            Length::Duration(d) => s += &format!(" --duration {d}"),
        }
        s += &format!(
            " --jitter {} --base-delay {} --delay {} --loss {}",
            self.jitter, self.base_delay, self.delay, self.loss
        );
        s += &format!(
            " --stall-every {} --stall-duration {}",
            Every(self.stalls.every),
            self.stalls.duration
        );
        for (name, e) in [("shift", &self.shifts), ("spike", &self.spikes)] {
            s += &format!(
                " --{name}-every {} --{name}-size {} --{name}-hold {}",
                Every(e.every),
                e.size,
                e.hold
            );
        }
        s += if self.fifo { " --fifo" } else { " --reorder" };
        s
    }
}

impl Default for SynthConfig {
    /// The `wan` preset.
    fn default() -> Self {
        SynthConfig::preset(Preset::Wan)
    }
}

/// The mean time between episodes as written on the command line: a duration
/// (`10m`), a rate (`6/h`, `2/m`, `0.5/s`), or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Every(pub Option<Nanos>);

impl fmt::Display for Every {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, "{d}"),
            None => f.write_str("off"),
        }
    }
}

impl FromStr for Every {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Every, SpecError> {
        let t = text.trim();
        if matches!(t, "off" | "none" | "never") {
            return Ok(Every(None));
        }
        if let Some((count, per)) = t.split_once('/') {
            let count: f64 = count
                .trim()
                .parse()
                .ok()
                .filter(|c: &f64| c.is_finite() && *c >= 0.0)
                .ok_or_else(|| SpecError(format!("'{t}': '{count}' is not a non-negative number of events")))?;
            let unit = parse_duration(&format!("1{}", per.trim())).map_err(|_| {
                SpecError(format!(
                    "'{t}': per '{per}' is not a unit; write e.g. 6/h, 2/m or 0.5/s"
                ))
            })?;
            if count == 0.0 {
                return Ok(Every(None));
            }
            let mean = unit.0 as f64 / count;
            if mean < 1.0 {
                return Err(SpecError(format!("'{t}' is too frequent")));
            }
            return Ok(Every(Some(Nanos(mean.round() as i64))));
        }
        match parse_duration(t) {
            Ok(d) if d.0 > 0 => Ok(Every(Some(d))),
            Ok(_) => Err(SpecError(format!(
                "'{t}': the mean time between must be positive; write off for none"
            ))),
            Err(e) => Err(SpecError(format!("'{t}': {e}; or write a rate such as 6/h, or off"))),
        }
    }
}

/// Named settings, each modelling one kind of deployment. All run for one hour by
/// default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// One switched LAN: η = 20 ms, delay 100 us + gamma(mean 150 us), loss 1e-5, FIFO.
    /// 20 ms lets a detector react within ~100 ms at 50 messages/s, and is still 80× the
    /// typical delay.
    Lan,
    /// A long-haul path: η = 100 ms, delay 30 ms + lognormal(median 20 ms, σ 0.5), bursty
    /// loss 0.4 % (bursts of 3.3 heartbeats), and every 10 min a spike adding ~150 ms
    /// (lognormal) to the delay for 0.1–1 s.
    Wan,
    /// Between zones of one cloud region: η = 100 ms, delay 1 ms + lognormal(median
    /// 300 us, σ 1) (a heavier tail), loss 1e-4, a 0.5–3 ms level shift for 5–30 min
    /// every 2 h.
    Cloud,
    /// A garbage-collected sender: η = 100 ms, LAN-like delays, a stall of 100 ms–2 s
    /// every 2 min of running time.
    Gc,
    /// An unreliable path: η = 100 ms, delay 10 ms + lognormal(median 10 ms, σ 0.8),
    /// loss 2 % in bursts of 10, a 20–200 ms level shift for 1–10 min every 15 min.
    Flaky,
}

impl Preset {
    /// Every preset, in the order they are listed.
    pub const ALL: [Preset; 5] = [Preset::Lan, Preset::Wan, Preset::Cloud, Preset::Gc, Preset::Flaky];

    /// The preset's name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Lan => "lan",
            Preset::Wan => "wan",
            Preset::Cloud => "cloud",
            Preset::Gc => "gc",
            Preset::Flaky => "flaky",
        }
    }

    /// One line on what the preset models.
    pub fn description(self) -> &'static str {
        match self {
            Preset::Lan => "one switched LAN: sub-ms delays, rare loss, 20 ms interval, FIFO",
            Preset::Wan => "a long-haul path: ~50 ms lognormal delays, 0.4 % bursty loss, occasional spikes",
            Preset::Cloud => "inter-zone links: 1-2 ms delays with a heavy tail, occasional level shifts",
            Preset::Gc => "a garbage-collected sender: frequent stalls of 100 ms to 2 s",
            Preset::Flaky => "an unreliable path: 2 % loss in bursts of 10, large level shifts",
        }
    }

    /// The preset's settings.
    pub fn config(self) -> SynthConfig {
        preset_config(self)
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The settings of a preset by name (`lan`, `wan`, `cloud`, `gc`, `flaky`).
pub fn preset(name: &str) -> Option<SynthConfig> {
    Preset::ALL.into_iter().find(|p| p.name() == name).map(Preset::config)
}

fn preset_config(p: Preset) -> SynthConfig {
    let ms = Nanos::from_millis;
    let us = |n: i64| Nanos(n * 1_000);
    let min = |n: i64| Nanos::from_secs(60 * n);
    let base = SynthConfig {
        preset: Some(p),
        interval: ms(100),
        length: Length::Duration(Nanos::from_secs(3600)),
        jitter: ms(1),
        base_delay: ms(30),
        delay: Dist::LogNormal {
            median: ms(20),
            sigma: 0.5,
        },
        loss: Loss::None,
        stalls: Stalls {
            every: None,
            duration: Dist::ZERO,
        },
        shifts: Episodes::NONE,
        spikes: Episodes::NONE,
        fifo: false,
    };
    match p {
        Preset::Lan => SynthConfig {
            interval: ms(20),
            jitter: us(50),
            base_delay: us(100),
            delay: Dist::Gamma {
                mean: us(150),
                shape: 2.0,
            },
            loss: Loss::Bernoulli { rate: 1e-5 },
            fifo: true,
            ..base
        },
        Preset::Wan => SynthConfig {
            loss: Loss::GilbertElliott {
                p_gb: 0.0012,
                p_bg: 0.3,
                loss_good: 0.0,
                loss_bad: 1.0,
            },
            spikes: Episodes {
                every: Some(min(10)),
                size: Dist::LogNormal {
                    median: ms(150),
                    sigma: 0.5,
                },
                hold: Dist::Uniform {
                    min: ms(100),
                    max: ms(1000),
                },
            },
            ..base
        },
        Preset::Cloud => SynthConfig {
            jitter: us(200),
            base_delay: ms(1),
            delay: Dist::LogNormal {
                median: us(300),
                sigma: 1.0,
            },
            loss: Loss::Bernoulli { rate: 1e-4 },
            shifts: Episodes {
                every: Some(min(120)),
                size: Dist::Uniform {
                    min: us(500),
                    max: ms(3),
                },
                hold: Dist::Uniform {
                    min: min(5),
                    max: min(30),
                },
            },
            ..base
        },
        Preset::Gc => SynthConfig {
            jitter: us(500),
            base_delay: us(200),
            delay: Dist::Exp { mean: us(300) },
            stalls: Stalls {
                every: Some(min(2)),
                duration: Dist::Uniform {
                    min: ms(100),
                    max: ms(2000),
                },
            },
            ..base
        },
        Preset::Flaky => SynthConfig {
            jitter: ms(2),
            base_delay: ms(10),
            delay: Dist::LogNormal {
                median: ms(10),
                sigma: 0.8,
            },
            loss: Loss::GilbertElliott {
                p_gb: 0.002,
                p_bg: 0.1,
                loss_good: 0.0,
                loss_bad: 1.0,
            },
            shifts: Episodes {
                every: Some(min(15)),
                size: Dist::Uniform {
                    min: ms(20),
                    max: ms(200),
                },
                hold: Dist::Uniform {
                    min: min(1),
                    max: min(10),
                },
            },
            ..base
        },
    }
}

/// The random streams, one per kind of randomness.
#[derive(Clone, Copy)]
enum Stream {
    Jitter = 1,
    Delay = 2,
    Loss = 3,
    Stalls = 4,
    Shifts = 5,
    Spikes = 6,
}

fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream as u64);
    r
}

/// Episodes in time (stalls, shifts, spikes): a renewal process queried at
/// non-decreasing times.
struct Process {
    gap: Option<Exp<f64>>,
    hold: Sampler,
    size: Sampler,
    rng: ChaCha8Rng,
    start: i64,
    end: i64,
    value: i64,
}

impl Process {
    fn new(
        every: Option<Nanos>,
        hold: &Dist,
        size: &Dist,
        rng: ChaCha8Rng,
        flag: &'static str,
    ) -> Result<Self, SynthError> {
        let gap = every
            .map(|e| Exp::new(1.0 / e.0 as f64).map_err(|err| invalid(flag, format!("{e}: {err}"))))
            .transpose()?;
        Ok(Process {
            gap,
            hold: hold.sampler().map_err(|e| invalid(flag, e.0))?,
            size: size.sampler().map_err(|e| invalid(flag, e.0))?,
            rng,
            start: 0,
            end: 0,
            value: 0,
        })
    }

    /// The episode covering `t`, as `(end, size)`.
    #[inline]
    fn at(&mut self, t: i64) -> Option<(i64, i64)> {
        let gap = self.gap.as_ref()?;
        while t >= self.end {
            let g = dist::to_ns(gap.sample(&mut self.rng)).max(1);
            self.start = self.end.saturating_add(g);
            self.end = self.start.saturating_add(self.hold.sample(&mut self.rng));
            self.value = self.size.sample(&mut self.rng);
        }
        (t >= self.start).then_some((self.end, self.value))
    }
}

/// The heartbeats of a configuration, one at a time: `(seq, send, recv)` with `recv`
/// `None` for a lost heartbeat. Memory does not grow with the length of the trace;
/// [`generate`] collects them into a [`Trace`], [`write_csv`](Heartbeats::write_csv) streams them to a file.
pub struct Heartbeats {
    comment: String,
    n: u64,
    k: u64,
    eta: i64,
    half: i64,
    base: i64,
    fifo: bool,
    jitter_rng: ChaCha8Rng,
    jitter: Option<Normal<f64>>,
    delay_rng: ChaCha8Rng,
    delay: Sampler,
    loss_rng: ChaCha8Rng,
    loss: loss::LossState,
    stalls: Process,
    shifts: Process,
    spikes: Process,
    prev_send: i64,
    prev_recv: i64,
}

impl Heartbeats {
    /// Validates `cfg` and starts its heartbeats for `seed`.
    pub fn new(cfg: &SynthConfig, seed: u64) -> Result<Heartbeats, SynthError> {
        cfg.validate()?;
        let eta = cfg.interval.0;
        let jitter = match cfg.jitter.0 {
            0 => None,
            s => Some(Normal::new(0.0, s as f64).map_err(|e| invalid("--jitter", e.to_string()))?),
        };
        let mut loss_rng = rng(seed, Stream::Loss);
        let loss = cfg.loss.start(&mut loss_rng);
        Ok(Heartbeats {
            comment: format!("generator: {}", cfg.command_line(seed)),
            n: cfg.count(),
            k: 0,
            eta,
            half: (eta - 1) / 2,
            base: cfg.base_delay.0,
            fifo: cfg.fifo,
            jitter_rng: rng(seed, Stream::Jitter),
            jitter,
            delay_rng: rng(seed, Stream::Delay),
            delay: cfg.delay.sampler().map_err(|e| invalid("--delay", e.0))?,
            loss_rng,
            loss,
            stalls: Process::new(
                cfg.stalls.every,
                &cfg.stalls.duration,
                &Dist::ZERO,
                rng(seed, Stream::Stalls),
                "--stall-duration",
            )?,
            shifts: Process::new(
                cfg.shifts.every,
                &cfg.shifts.hold,
                &cfg.shifts.size,
                rng(seed, Stream::Shifts),
                "--shift-size",
            )?,
            spikes: Process::new(
                cfg.spikes.every,
                &cfg.spikes.hold,
                &cfg.spikes.size,
                rng(seed, Stream::Spikes),
                "--spike-size",
            )?,
            prev_send: 0,
            prev_recv: 0,
        })
    }

    /// The number of heartbeats, received or lost.
    pub fn total(&self) -> u64 {
        self.n
    }

    /// Streams the trace of [`generate`] to `out` in the trace CSV format, byte for byte
    /// what [`crate::trace::csv::write`] writes of it, in memory that does not grow with
    /// its length. Whether it is a valid trace (at least 2 receipts) is known at the end:
    /// [`Written::check`] it, and write to a temporary that is discarded unless it passes.
    pub fn write_csv<W: std::io::Write>(self, out: W) -> std::io::Result<Written> {
        let comments = [self.comment.clone()];
        let interval = Nanos(self.eta);
        let mut written = Written {
            heartbeats: 0,
            received: 0,
        };
        let rows = self.map(|(k, send, recv)| {
            written.heartbeats += 1;
            written.received += u64::from(recv.is_some());
            (k, Some(send), recv)
        });
        crate::trace::csv::write_rows(&comments, interval, true, rows, out)?;
        Ok(written)
    }
}

impl Iterator for Heartbeats {
    type Item = (u64, Nanos, Option<Nanos>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.k == self.n {
            return None;
        }
        self.k += 1;
        let k = self.k;
        let mut send = k as i64 * self.eta;
        if let Some(j) = &self.jitter {
            send += (j.sample(&mut self.jitter_rng).round() as i64).clamp(-self.half, self.half);
        }
        if let Some((end, _)) = self.stalls.at(send) {
            send = end;
        }
        send = send.max(self.prev_send);
        self.prev_send = send;
        let mut d = self.base.saturating_add(self.delay.sample(&mut self.delay_rng));
        if let Some((_, extra)) = self.shifts.at(send) {
            d = d.saturating_add(extra);
        }
        if let Some((_, extra)) = self.spikes.at(send) {
            d = d.saturating_add(extra);
        }
        let recv = if self.loss.next(&mut self.loss_rng) {
            None
        } else {
            let mut r = send.saturating_add(d);
            if self.fifo {
                r = r.max(self.prev_recv);
                self.prev_recv = r;
            }
            Some(Nanos(r))
        };
        Some((k, Nanos(send), recv))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.n - self.k).unwrap_or(usize::MAX);
        (left, usize::try_from(self.n - self.k).ok())
    }
}

/// Generates a trace (module docs). The trace has send times, the nominal interval as
/// metadata, and a comment line with the command that regenerates it.
pub fn generate(cfg: &SynthConfig, seed: u64) -> Result<Trace, SynthError> {
    let heartbeats = Heartbeats::new(cfg, seed)?;
    let n = heartbeats.total();
    if n > MAX_IN_MEMORY {
        let flag = match cfg.length {
            Length::Count(_) => "--count",
            Length::Duration(_) => "--duration",
        };
        return Err(invalid(
            flag,
            format!(
                "{n} heartbeats at interval {}; a trace held in memory has at most {MAX_IN_MEMORY}: give a shorter length, or write the trace to a file with `fdbench generate` (which streams) and use the file",
                cfg.interval
            ),
        ));
    }
    let mut b = TraceBuilder::new(true);
    b.reserve(usize::try_from(heartbeats.total()).unwrap_or(usize::MAX));
    b.comment(heartbeats.comment.clone());
    for (k, send, recv) in heartbeats {
        b.push(k, Some(send), recv).map_err(SynthError::Trace)?;
    }
    b.finish(Some((cfg.interval, IntervalSource::Metadata)))
        .map_err(SynthError::Trace)
}

/// What [`Heartbeats::write_csv`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// Heartbeats (rows), received or lost.
    pub heartbeats: u64,
    /// Received heartbeats.
    pub received: u64,
}

impl Written {
    /// Whether what was written is a valid trace: the error [`generate`] gives if not.
    pub fn check(&self) -> Result<(), SynthError> {
        if self.received < 2 {
            return Err(SynthError::Trace(TraceError::TooFewReceipts(self.received as usize)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

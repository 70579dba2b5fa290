//! fdbench: benchmark failure detectors on heartbeat traces.
//!
//! The data flows in one direction:
//!
//! **Trace** ([`trace`]) → **Detector** ([`detector`]) → **Replay** ([`replay`]) →
//! **Metrics** ([`metrics`]) → **Sweep** → **Report**.
//!
//! - A [`trace::Trace`] is what one monitor saw of one process: heartbeats with their
//!   sequence numbers, send and receipt times. Traces are read from CSV, generated
//!   synthetically, imported from other formats, or recorded over UDP.
//! - A [`detector::Detector`] turns accepted heartbeats into a deadline: the first
//!   instant at which it would suspect the process if nothing else arrived.
//! - The exact replay engine turns deadlines into the QoS metrics of Chen, Toueg and
//!   Aguilera (mistake rate, mistake duration, query accuracy, detection time) and the
//!   completeness within a deadline of "Distributed Systems for Practitioners".
//!
//! The library never prints; the `fdbench` binary is a thin layer over it.
//!
//! The whole pipeline, from a generated trace to a tuned detector:
//!
//! ```
//! use fdbench::detector::spec;
//! use fdbench::trace::synth;
//! use fdbench::{replay, sweep, tune};
//!
//! // Trace: ten minutes of a LAN-like link at 100 ms, fixed seed.
//! let mut cfg = synth::preset("lan").unwrap();
//! cfg.length = synth::Length::Count(6000);
//! let trace = synth::generate(&cfg, 7).unwrap();
//! let receipts = trace.accepted();
//!
//! // Detectors: spec strings, as on the command line.
//! let specs = spec::parse("chen:window=100,alpha=0..500ms:50ms").unwrap();
//! let opts = replay::Options { warmup: sweep::warmup_for(&specs, None).unwrap(), ..Default::default() };
//!
//! // Replay and metrics: one results row per knob value.
//! let traces = [sweep::SweepTrace { name: "lan".into(), receipts: receipts.clone() }];
//! let rows = sweep::Plan::new(&traces, &specs, opts, None, false).unwrap().run(&|| ());
//! assert_eq!(rows.len(), 11);
//! assert!(rows.windows(2).all(|w| w[0].mistakes >= w[1].mistakes));
//!
//! // Tuning: the most aggressive alpha with at most one mistake per hour.
//! let t = tune::tune(&receipts, &specs[0].config, (0.0, 1e9), &tune::Goal::rate(1.0), &opts).unwrap();
//! assert!(t.metrics.mistake_rate_per_h() <= 1.0);
//! ```
//!
//! # Features
//!
//! - `cli` (default): the `fdbench` binary; implies `plots` and `record`.
//! - `plots`: the figures ([`plot`]) and report folders ([`report`]).
//! - `record`: the UDP heartbeat recorder ([`record`]).
//!
//! Without default features the crate is the traces, detectors, engine, metrics, sweeps
//! and tuning alone.
//!
//! # Specification
//!
//! The definitions the code cites are part of these docs: [`docs::evaluation`] (the
//! trace model and the metrics, cited as evaluation.md) and [`docs::detectors`] (the
//! detectors and presets, cited as detectors.md) and [`docs::presets`] (what each production
//! system does and where its defaults are defined).

#![warn(missing_docs)]

pub mod cluster;
pub mod detector;
pub mod explain;
pub mod metrics;
pub mod output;
#[cfg(feature = "plots")]
pub mod plot;
#[cfg(feature = "record")]
pub mod record;
pub mod replay;
#[cfg(feature = "plots")]
pub mod report;
pub mod results;
pub mod sampled;
mod simd;
pub mod sweep;
pub mod time;
pub mod trace;
pub mod tune;
pub mod verdict;

pub use time::Nanos;

/// The specification pages the code cites, as written (Markdown of their own style).
#[allow(clippy::doc_lazy_continuation)]
pub mod docs {
    #[doc = include_str!("../docs/evaluation.md")]
    pub mod evaluation {}
    #[doc = include_str!("../docs/detectors.md")]
    pub mod detectors {}
    #[doc = include_str!("../docs/presets.md")]
    pub mod presets {}
}

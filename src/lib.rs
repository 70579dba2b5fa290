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

pub mod cluster;
pub mod detector;
pub mod metrics;
pub mod output;
pub mod plot;
pub mod record;
pub mod replay;
pub mod report;
pub mod results;
pub mod sampled;
pub mod simd;
pub mod sweep;
pub mod time;
pub mod trace;
pub mod tune;

pub use time::Nanos;

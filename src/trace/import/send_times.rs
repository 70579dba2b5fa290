//! Sender-side send-time logs (`sentintervalX` of the LIP6/PlanetLab experiments):
//!
//! ```text
//! numseq,timestamp_start_send,timestamp_end_send
//! 0,10965460769314089,10965460788896345
//! ```
//!
//! Heartbeat `numseq` was handed to the network between the two timestamps,
//! nanoseconds on the sender's clock. These logs carry **real send times** (with the
//! sender's real stalls) but no receipts: arrivals are synthesized as
//! `recv = send + delay` with a seeded [`DelayModel`] and independent losses, i.e. real
//! sender behaviour on a modelled network. `send_ns` is `timestamp_start_send`. Fields
//! may be separated by commas or whitespace; a header line is skipped. The nominal
//! interval is the median spacing of the send times.

use std::io::Read;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::delay::{DelayModel, lost};
use super::{Rows, fields, text};
use crate::time::Nanos;
use crate::trace::Trace;
use crate::trace::csv::{ReadError, for_each_line, parse_field};

/// How to synthesize arrivals.
#[derive(Clone, Debug)]
pub struct Options {
    /// One-way delay added to each send time.
    pub delay: DelayModel,
    /// Probability that a heartbeat is lost.
    pub loss: f64,
    /// Seed of the delay and loss draws.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            delay: DelayModel::Constant(Nanos::from_millis(10)),
            loss: 0.0,
            seed: 1,
        }
    }
}

/// Reads a send-time log and synthesizes the arrivals.
pub fn read<R: Read>(input: R, name: &str, opts: &Options, interval: Option<Nanos>) -> Result<Trace, ReadError> {
    let mut rows = Rows::new(name, true);
    rows.comment(format!(
        "imported from sender log {name}: real send times (timestamp_start_send, ns)"
    ));
    rows.comment(format!(
        "recv_ns = send_ns + delay, modelled: delay {} loss {} seed {}",
        opts.delay, opts.loss, opts.seed
    ));
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut first_data = true;
    // Per-heartbeat send spacing, for the nominal interval (8 bytes per row).
    let mut spacing: Vec<i64> = Vec::new();
    let mut prev: Option<(u64, i64)> = None;
    for_each_line(input, name, |line_no, bytes| {
        let line = text(name, line_no, bytes)?.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let f = fields(line, line.contains(',').then_some(','));
        if first_data && f.first().is_some_and(|s| s.parse::<u64>().is_err()) {
            first_data = false;
            return Ok(());
        }
        first_data = false;
        if f.len() != 3 {
            return Err(rows.err(
                line_no,
                format!(
                    "{} field(s); a send-time line has 3: numseq,timestamp_start_send,timestamp_end_send",
                    f.len()
                ),
            ));
        }
        let num = |i: usize, col: &'static str| -> Result<i64, ReadError> {
            parse_field(f[i].as_bytes(), col, i + 1)
                .map_err(|p| ReadError::at(name, line_no, p))?
                .ok_or_else(|| rows.err(line_no, format!("field {} ({col}) is empty", i + 1)))
        };
        let seq = num(0, "numseq")? as u64;
        let start = num(1, "timestamp_start_send")?;
        let end = num(2, "timestamp_end_send")?;
        if end < start {
            return Err(rows.err(
                line_no,
                format!("timestamp_end_send {end} is before timestamp_start_send {start}; the columns may be swapped"),
            ));
        }
        if let Some((ps, pt)) = prev
            && seq > ps
        {
            spacing.push((start - pt) / (seq - ps) as i64);
        }
        prev = Some((seq, start));
        // Draw both for every heartbeat so that the delays do not depend on the losses.
        let is_lost = lost(&mut rng, opts.loss);
        let delay = opts.delay.sample(&mut rng);
        let recv = start
            .checked_add(delay.0)
            .ok_or_else(|| rows.err(line_no, format!("send time {start} plus the delay overflows")))?;
        rows.push(line_no, seq, Some(start), (!is_lost).then_some(recv))
    })?;
    let nominal = if spacing.is_empty() {
        None
    } else {
        let mid = spacing.len() / 2;
        let (_, m, _) = spacing.select_nth_unstable(mid);
        rows.comment(format!("interval: the median send spacing, {} ns", *m));
        Some(Nanos(*m)).filter(|m| m.0 > 0)
    };
    rows.finish(interval, nominal)
}

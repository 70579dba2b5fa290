//! Heartbeat traces: what one monitor saw of one monitored process
//! ([evaluation.md](crate::docs::evaluation) §1).
//!
//! A [`Trace`] is validated on construction: `seq` strictly increasing, times
//! non-negative, `recv >= send`, at least two receipts. It is stored column-wise
//! (about 24 bytes per heartbeat) so that traces of tens of millions of heartbeats fit
//! in memory. [`Trace::accepted`] turns it into the sequence of accepted receipts that
//! detectors see ([evaluation.md](crate::docs::evaluation) §2).

pub mod csv;
pub mod import;
pub mod resample;
pub mod stats;
pub mod synth;

use crate::time::Nanos;

/// One heartbeat as shown to a detector: an accepted receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heartbeat {
    /// Sequence number.
    pub seq: u64,
    /// Receipt time on the monitor's clock.
    pub recv: Nanos,
    /// Send time on the monitor's clock, when the trace has it.
    pub send: Option<Nanos>,
}

/// Where a trace's nominal interval `η` came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IntervalSource {
    /// The file's `# interval_ns=N` comment, or the generator that made it.
    Metadata,
    /// Given by the user (a flag).
    Given,
    /// Inferred as the median of `(recv_j - recv_i) / (seq_j - seq_i)` over consecutive receipts.
    Inferred,
}

/// The marker for a lost heartbeat in the receipt column.
const LOST: i64 = -1;

/// A validated heartbeat trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    seq: Vec<u64>,
    send: Option<Vec<i64>>,
    recv: Vec<i64>,
    interval: Nanos,
    interval_source: IntervalSource,
    comments: Vec<String>,
}

/// Why a set of rows is not a valid trace. Row numbers are 0-based indices into the rows given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// Sequence numbers must strictly increase.
    #[error("seq {seq} is not after {prev}; sort the rows by seq and remove duplicates")]
    SeqNotIncreasing {
        /// Row index.
        row: usize,
        /// The offending sequence number.
        seq: u64,
        /// The previous one.
        prev: u64,
    },
    /// A receipt before its send.
    #[error("recv_ns {recv} is before send_ns {send}; both must be on the monitor's clock")]
    RecvBeforeSend {
        /// Row index.
        row: usize,
        /// Receipt time.
        recv: i64,
        /// Send time.
        send: i64,
    },
    /// A negative time.
    #[error("time {value} is negative; times are non-negative nanoseconds")]
    Negative {
        /// Row index.
        row: usize,
        /// The value.
        value: i64,
    },
    /// Fewer than two receipts.
    #[error("the trace has {0} receipt(s); at least two are needed to replay a detector")]
    TooFewReceipts(usize),
    /// The nominal interval is not positive.
    #[error("nominal interval {0} ns is not positive; give a positive interval (e.g. --interval 100ms)")]
    BadInterval(i64),
    /// Columns of different lengths.
    #[error("internal: columns have different lengths")]
    Ragged,
}

/// Accumulates rows and validates them as they come (used by readers, importers and
/// generators so that a 10-million-row trace is checked in one streaming pass).
#[derive(Debug, Default)]
pub struct TraceBuilder {
    seq: Vec<u64>,
    send: Option<Vec<i64>>,
    recv: Vec<i64>,
    receipts: usize,
    comments: Vec<String>,
}

impl TraceBuilder {
    /// A builder for a trace with (`with_send`) or without send times.
    pub fn new(with_send: bool) -> Self {
        TraceBuilder {
            send: with_send.then(Vec::new),
            ..Default::default()
        }
    }

    /// Reserves room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        self.seq.reserve(n);
        self.recv.reserve(n);
        if let Some(s) = &mut self.send {
            s.reserve(n);
        }
    }

    /// Adds a comment line (kept in the file header when the trace is written).
    pub fn comment(&mut self, line: impl Into<String>) {
        self.comments.push(line.into());
    }

    /// Whether this trace has send times.
    pub fn has_send(&self) -> bool {
        self.send.is_some()
    }

    /// Number of rows so far.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// The last sequence number added.
    pub fn last_seq(&self) -> Option<u64> {
        self.seq.last().copied()
    }

    /// Appends a row, checking it against the rows before it. `send` is ignored when the
    /// trace has no send column; `recv` is `None` for a lost heartbeat.
    pub fn push(&mut self, seq: u64, send: Option<Nanos>, recv: Option<Nanos>) -> Result<(), TraceError> {
        let row = self.seq.len();
        if let Some(&prev) = self.seq.last()
            && seq <= prev
        {
            return Err(TraceError::SeqNotIncreasing { row, seq, prev });
        }
        let s = match (&self.send, send) {
            (Some(_), Some(s)) => {
                if s.0 < 0 {
                    return Err(TraceError::Negative { row, value: s.0 });
                }
                Some(s.0)
            }
            _ => None,
        };
        let r = match recv {
            Some(r) => {
                if r.0 < 0 {
                    return Err(TraceError::Negative { row, value: r.0 });
                }
                if let Some(s) = s
                    && r.0 < s
                {
                    return Err(TraceError::RecvBeforeSend {
                        row,
                        recv: r.0,
                        send: s,
                    });
                }
                self.receipts += 1;
                r.0
            }
            None => LOST,
        };
        self.seq.push(seq);
        self.recv.push(r);
        if let Some(col) = &mut self.send {
            col.push(s.unwrap_or(LOST));
        }
        Ok(())
    }

    /// Finishes the trace. `interval` is the nominal interval if known (metadata or a
    /// flag); otherwise it is inferred from the receipts.
    pub fn finish(self, interval: Option<(Nanos, IntervalSource)>) -> Result<Trace, TraceError> {
        if self.receipts < 2 {
            return Err(TraceError::TooFewReceipts(self.receipts));
        }
        let mut t = Trace {
            seq: self.seq,
            send: self.send,
            recv: self.recv,
            interval: Nanos(1),
            interval_source: IntervalSource::Inferred,
            comments: self.comments,
        };
        match interval {
            Some((i, _)) if i.0 <= 0 => return Err(TraceError::BadInterval(i.0)),
            Some((i, src)) => {
                t.interval = i;
                t.interval_source = src;
            }
            None => {
                t.interval = t.infer_interval();
                t.interval_source = IntervalSource::Inferred;
            }
        }
        Ok(t)
    }
}

impl Trace {
    /// Number of heartbeats (rows), received or lost.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// Always false: a valid trace has at least two receipts.
    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// Number of received heartbeats.
    pub fn receipts(&self) -> usize {
        self.recv.iter().filter(|&&r| r != LOST).count()
    }

    /// Whether the trace carries send times.
    pub fn has_send(&self) -> bool {
        self.send.is_some()
    }

    /// The nominal interval `η`.
    pub fn interval(&self) -> Nanos {
        self.interval
    }

    /// Where `η` came from.
    pub fn interval_source(&self) -> IntervalSource {
        self.interval_source
    }

    /// Replaces the nominal interval (a user's flag).
    pub fn set_interval(&mut self, interval: Nanos) -> Result<(), TraceError> {
        if interval.0 <= 0 {
            return Err(TraceError::BadInterval(interval.0));
        }
        self.interval = interval;
        self.interval_source = IntervalSource::Given;
        Ok(())
    }

    /// Comment lines carried by the trace (without the leading `# `), e.g. the generator
    /// settings and seed.
    pub fn comments(&self) -> &[String] {
        &self.comments
    }

    /// Sequence number of row `i`.
    pub fn seq(&self, i: usize) -> u64 {
        self.seq[i]
    }

    /// Send time of row `i`, if the trace has send times and the row has one.
    pub fn send(&self, i: usize) -> Option<Nanos> {
        self.send.as_ref().and_then(|s| (s[i] != LOST).then_some(Nanos(s[i])))
    }

    /// Receipt time of row `i`, or `None` if the heartbeat was lost.
    pub fn recv(&self, i: usize) -> Option<Nanos> {
        (self.recv[i] != LOST).then_some(Nanos(self.recv[i]))
    }

    /// Iterates over the rows as `(seq, send, recv)`.
    pub fn rows(&self) -> impl Iterator<Item = (u64, Option<Nanos>, Option<Nanos>)> + '_ {
        (0..self.len()).map(|i| (self.seq(i), self.send(i), self.recv(i)))
    }

    /// The median of `(recv_j - recv_i) / (seq_j - seq_i)` over consecutive receipts (in
    /// row order), rounded to the nanosecond and at least 1 ns.
    fn infer_interval(&self) -> Nanos {
        let mut ratios: Vec<f64> = Vec::new();
        let mut prev: Option<(u64, i64)> = None;
        for i in 0..self.len() {
            if self.recv[i] == LOST {
                continue;
            }
            if let Some((ps, pr)) = prev {
                ratios.push((self.recv[i] - pr) as f64 / (self.seq[i] - ps) as f64);
            }
            prev = Some((self.seq[i], self.recv[i]));
        }
        let mid = ratios.len() / 2;
        let (_, m, _) = ratios.select_nth_unstable_by(mid, f64::total_cmp);
        Nanos((m.round() as i64).max(1))
    }

    /// The accepted receipts, in replay order ([evaluation.md](crate::docs::evaluation) §2): receipts sorted by
    /// `(recv, seq)`, keeping each one whose `seq` is larger than every one kept before.
    pub fn accepted(&self) -> Receipts {
        let n = self.len();
        let mut order: Vec<u32> = Vec::new();
        let mut sorted = true;
        let mut last = (i64::MIN, 0u64);
        for i in 0..n {
            if self.recv[i] == LOST {
                continue;
            }
            let key = (self.recv[i], self.seq[i]);
            if key < last {
                sorted = false;
            }
            last = key;
            order.push(i as u32);
        }
        if !sorted {
            // A stable sort: traces are nearly sorted (a few reordered receipts), which it exploits.
            order.sort_by_key(|&i| (self.recv[i as usize], self.seq[i as usize]));
        }
        let mut out = Receipts {
            seq: Vec::with_capacity(order.len()),
            recv: Vec::with_capacity(order.len()),
            send: self.send.as_ref().map(|_| Vec::with_capacity(order.len())),
            stale: 0,
            interval: self.interval,
        };
        let mut max_seq: Option<u64> = None;
        for &i in &order {
            let i = i as usize;
            if max_seq.is_some_and(|m| self.seq[i] <= m) {
                out.stale += 1;
                continue;
            }
            max_seq = Some(self.seq[i]);
            out.seq.push(self.seq[i]);
            out.recv.push(Nanos(self.recv[i]));
            if let (Some(col), Some(s)) = (&mut out.send, &self.send) {
                col.push(Nanos(s[i]));
            }
        }
        out
    }
}

/// The accepted receipts of a trace, in replay order: `a_0 <= a_1 <= ...` with sequence
/// numbers `s_0 < s_1 < ...` ([evaluation.md](crate::docs::evaluation) §2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipts {
    /// Sequence numbers `s_j`, strictly increasing.
    pub seq: Vec<u64>,
    /// Receipt times `a_j`, non-decreasing.
    pub recv: Vec<Nanos>,
    /// Send times of the accepted heartbeats, when the trace has them.
    pub send: Option<Vec<Nanos>>,
    /// Receipts that were stale (out of order or duplicate) and not shown to detectors.
    pub stale: usize,
    /// The nominal interval `η`.
    pub interval: Nanos,
}

impl Receipts {
    /// Number of accepted receipts `m`.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }

    /// Accepted receipt `j` as a heartbeat.
    pub fn heartbeat(&self, j: usize) -> Heartbeat {
        Heartbeat {
            seq: self.seq[j],
            recv: self.recv[j],
            send: self.send.as_ref().map(|s| s[j]),
        }
    }

    /// Iterates over the accepted receipts as heartbeats, in order.
    pub fn heartbeats(&self) -> impl ExactSizeIterator<Item = Heartbeat> + '_ {
        (0..self.len()).map(|j| self.heartbeat(j))
    }

    /// The sender's period as the trace shows it: the time from the first to the last
    /// accepted heartbeat divided by the sequence numbers between them, on the send
    /// times when the trace has them (the receipt times otherwise), in nanoseconds.
    /// `None` with fewer than two receipts.
    pub fn period(&self) -> Option<f64> {
        let m = self.len();
        if m < 2 {
            return None;
        }
        let times = self.send.as_deref().unwrap_or(&self.recv);
        let steps = (self.seq[m - 1] - self.seq[0]) as f64;
        Some((i128::from(times[m - 1].0) - i128::from(times[0].0)) as f64 / steps)
    }

    /// A warning when the sender's [`period`](Receipts::period) differs from the
    /// nominal interval by more than [`PERIOD_TOLERANCE`]: `chen` and `2w` estimate
    /// the next arrival as one interval per sequence number and drift from the real
    /// arrivals (by the mismatch times half their window), `nfd-s` expects each next
    /// send one interval after the last, and their figures then show that mismatch
    /// rather than the network.
    pub fn period_warning(&self) -> Option<String> {
        let p = self.period()?;
        let eta = self.interval.0 as f64;
        let ratio = p / eta;
        if (ratio - 1.0).abs() <= PERIOD_TOLERANCE {
            return None;
        }
        let on = if self.send.is_some() { "send" } else { "receipt" };
        // To the microsecond: what a user would type.
        let period = Nanos((p / 1e3).round() as i64 * 1000);
        Some(format!(
            "the heartbeats are {} apart per sequence number (first to last {on}), {:.1} % {} than the interval {}: chen and 2w count one interval per sequence number and drift from the real arrivals, and nfd-s expects each next send one interval later; if the sender's period was {period}, pass --interval {period}",
            period,
            100.0 * (ratio - 1.0).abs(),
            if ratio > 1.0 { "longer" } else { "shorter" },
            self.interval,
        ))
    }
}

/// How far the sender's period may differ from the nominal interval, as a fraction,
/// before [`Receipts::period_warning`] speaks: 5 %, well above the drift of a loaded
/// sender's timer (a fraction of a percent) and well below a wrong interval.
pub const PERIOD_TOLERANCE: f64 = 0.05;

#[cfg(test)]
mod tests {
    use super::*;

    fn build(rows: &[(u64, Option<i64>, Option<i64>)], with_send: bool) -> Result<Trace, TraceError> {
        let mut b = TraceBuilder::new(with_send);
        for &(s, se, r) in rows {
            b.push(s, se.map(Nanos), r.map(Nanos))?;
        }
        b.finish(None)
    }

    #[test]
    fn the_senders_period_is_measured_per_sequence_number_and_a_mismatch_named() {
        // seq 1..=5 sent every 13 ms (seq 3 lost): (52 - 0) / (5 - 1) = 13 ms per seq,
        // 30 % longer than a 10 ms interval.
        let rows = [
            (1, Some(0), Some(1_000_000)),
            (2, Some(13_000_000), Some(14_000_000)),
            (4, Some(39_000_000), Some(40_000_000)),
            (5, Some(52_000_000), Some(53_000_000)),
        ];
        let mut r = build(&rows, true).unwrap().accepted();
        r.interval = Nanos::from_millis(10);
        assert_eq!(r.period(), Some(13e6));
        assert_eq!(
            r.period_warning().unwrap(),
            "the heartbeats are 13ms apart per sequence number (first to last send), 30.0 % longer than the interval 10ms: chen and 2w count one interval per sequence number and drift from the real arrivals, and nfd-s expects each next send one interval later; if the sender's period was 13ms, pass --interval 13ms"
        );
        // Within 5 %: 13 ms against 12.5 ms is 4 % longer.
        r.interval = Nanos(12_500_000);
        assert_eq!(r.period_warning(), None);
        // 13 ms against 14 ms is 7.1 % shorter.
        r.interval = Nanos::from_millis(14);
        assert!(
            r.period_warning()
                .unwrap()
                .contains("7.1 % shorter than the interval 14ms")
        );
        // Without send times, the receipts: (53 - 1) / 4 = 13 ms as well.
        let plain: Vec<_> = rows.iter().map(|&(s, _, r)| (s, None, r)).collect();
        let r = build(&plain, false).unwrap().accepted();
        assert_eq!(r.period(), Some(13e6));
    }

    #[test]
    fn infers_the_interval_from_receipts_across_losses() {
        let t = build(
            &[
                (1, None, Some(100)),
                (2, None, Some(205)),
                (4, None, Some(400)),
                (5, None, Some(498)),
            ],
            false,
        )
        .unwrap();
        // ratios 105, 97.5, 98 -> median 98
        assert_eq!(t.interval(), Nanos(98));
        assert_eq!(t.interval_source(), IntervalSource::Inferred);
    }

    #[test]
    fn accepted_receipts_follow_the_replay_rules() {
        // seq 3 arrives before seq 2 (reordered): 2 is stale. seq 5 is lost.
        let t = build(
            &[
                (1, None, Some(100)),
                (2, None, Some(320)),
                (3, None, Some(300)),
                (4, None, Some(400)),
                (5, None, None),
                (6, None, Some(600)),
            ],
            false,
        )
        .unwrap();
        let r = t.accepted();
        assert_eq!(r.seq, vec![1, 3, 4, 6]);
        assert_eq!(r.recv, vec![Nanos(100), Nanos(300), Nanos(400), Nanos(600)]);
        assert_eq!(r.stale, 1);
    }

    #[test]
    fn equal_receipt_times_are_ordered_by_seq() {
        let t = build(
            &[(1, None, Some(100)), (2, None, Some(200)), (3, None, Some(200))],
            false,
        )
        .unwrap();
        let r = t.accepted();
        assert_eq!(r.seq, vec![1, 2, 3]);
        assert_eq!(r.stale, 0);
    }

    #[test]
    fn invalid_rows_are_rejected() {
        assert!(matches!(
            build(&[(2, None, Some(1)), (2, None, Some(2))], false),
            Err(TraceError::SeqNotIncreasing { row: 1, .. })
        ));
        assert!(matches!(
            build(&[(1, Some(10), Some(5))], true),
            Err(TraceError::RecvBeforeSend { row: 0, .. })
        ));
        assert!(matches!(
            build(&[(1, None, Some(-5))], false),
            Err(TraceError::Negative { row: 0, .. })
        ));
        assert!(matches!(
            build(&[(1, None, Some(5)), (2, None, None)], false),
            Err(TraceError::TooFewReceipts(1))
        ));
    }
}

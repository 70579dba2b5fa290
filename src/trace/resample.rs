//! Thinning a trace to a coarser heartbeat interval.
//!
//! A trace recorded every `η` contains the trace a sender would have produced every
//! `k·η`: keep every k-th heartbeat by sequence number. That is how a preset whose
//! system heartbeats every second is evaluated on a 100 ms recording (k = 10).
//!
//! [`thin`] keeps the heartbeats whose `seq` is `first + i·k` (`first` the trace's first
//! sequence number, `i = 0, 1, ...`) and renumbers them `first + i`, so that the kept
//! heartbeats are consecutive in the new trace as they would be in the coarser sender's
//! own numbering (detectors such as `chen` read `η·s` and need that). Receipt and send
//! times are kept unchanged; a kept heartbeat that was lost stays lost (an empty
//! receipt, or an absent row when the trace omitted it). The new nominal interval is
//! `k·η`, and a comment records what was done:
//! `resample: every 10th heartbeat by seq (seq' = 1 + (seq - 1) / 10) from interval_ns=100000000`.
//!
//! What thinning does not reproduce: a real coarser sender's heartbeats are independent
//! samples of the network at their own instants; the kept ones are the same samples the
//! finer trace saw at those instants, which is exactly right for delays and losses that
//! do not depend on the sending rate.

use crate::time::Nanos;
use crate::trace::{IntervalSource, Trace, TraceBuilder, TraceError};

/// Why a trace cannot be thinned as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResampleError {
    /// `k = 0`.
    #[error("keeping every 0th heartbeat is meaningless; give a factor of at least 1 (e.g. --every 10)")]
    ZeroFactor,
    /// The target interval is not `k·η` for an integer `k >= 1`.
    #[error(
        "target interval {target} ({target_ns} ns) is not an integer multiple of the trace's interval {interval} ({interval_ns} ns); give a multiple of {interval}, or thin with --every K"
    )]
    NotAMultiple {
        /// The interval asked for.
        target: Nanos,
        /// Its nanoseconds (printed so that a near miss is visible).
        target_ns: i64,
        /// The trace's nominal interval `η`.
        interval: Nanos,
        /// Its nanoseconds.
        interval_ns: i64,
    },
    /// `k·η` does not fit in 64-bit nanoseconds.
    #[error("every {every}th heartbeat of a {interval} trace is an interval beyond 292 years; give a smaller factor")]
    Overflow {
        /// The factor.
        every: u64,
        /// The trace's nominal interval.
        interval: Nanos,
    },
    /// The thinned trace has fewer than two receipts.
    #[error(
        "keeping every {every}th heartbeat leaves {receipts} receipt(s) of {rows} row(s); at least two are needed; give a smaller factor or a longer trace"
    )]
    TooFewReceipts {
        /// The factor.
        every: u64,
        /// Receipts left.
        receipts: usize,
        /// Rows left.
        rows: usize,
    },
}

/// The factor `k` such that `target = k·interval`, or an error naming both values.
pub fn factor(interval: Nanos, target: Nanos) -> Result<u64, ResampleError> {
    let not_a_multiple = || ResampleError::NotAMultiple {
        target,
        target_ns: target.0,
        interval,
        interval_ns: interval.0,
    };
    if interval.0 <= 0 || target.0 <= 0 || target.0 % interval.0 != 0 {
        return Err(not_a_multiple());
    }
    Ok((target.0 / interval.0) as u64)
}

/// The `fdbench resample` command that thins the trace file `path` (nominal interval
/// `interval`) to `target`, writing `STEM-TARGET.csv` next to it (`trace.csv.gz` at 1 s
/// gives `trace-1s.csv`); an error when `target` is not an integer multiple of
/// `interval`. For messages that tell a user how to fit a trace to a preset.
pub fn command(path: &str, interval: Nanos, target: Nanos) -> Result<String, ResampleError> {
    factor(interval, target)?;
    let base = path.strip_suffix(".gz").unwrap_or(path);
    let stem = base.strip_suffix(".csv").unwrap_or(base);
    let quote = |s: &str| {
        if s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_./".contains(&c)) {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    Ok(format!(
        "fdbench resample {} --interval {target} -o {}",
        quote(path),
        quote(&format!("{stem}-{target}.csv"))
    ))
}

/// Keeps every `every`-th heartbeat of `trace` by sequence number (see the module docs).
pub fn thin(trace: &Trace, every: u64) -> Result<Trace, ResampleError> {
    if every == 0 {
        return Err(ResampleError::ZeroFactor);
    }
    let interval = i64::try_from(every)
        .ok()
        .and_then(|k| trace.interval().0.checked_mul(k))
        .map(Nanos)
        .ok_or(ResampleError::Overflow {
            every,
            interval: trace.interval(),
        })?;
    let first = trace.seq(0);
    let mut b = TraceBuilder::new(trace.has_send());
    for c in trace.comments() {
        b.comment(c.clone());
    }
    b.comment(format!(
        "resample: every {every}{} heartbeat by seq (seq' = {first} + (seq - {first}) / {every}) from interval_ns={}",
        ordinal_suffix(every),
        trace.interval().0
    ));
    let mut receipts = 0usize;
    for (seq, send, recv) in trace.rows() {
        let offset = seq - first;
        if offset % every != 0 {
            continue;
        }
        receipts += usize::from(recv.is_some());
        // Rows of a valid trace are valid here too: the kept rows keep their order, times
        // and send/receipt relation, and the new numbers strictly increase with the old.
        b.push(first + offset / every, send, recv)
            .expect("a subset of a valid trace's rows, renumbered in order, is valid");
    }
    let rows = b.len();
    b.finish(Some((interval, IntervalSource::Metadata)))
        .map_err(|e| match e {
            TraceError::TooFewReceipts(_) => ResampleError::TooFewReceipts { every, receipts, rows },
            other => unreachable!("thinning a valid trace cannot produce {other}"),
        })
}

/// `st`, `nd`, `rd` or `th`, for messages such as "every 10th heartbeat".
fn ordinal_suffix(n: u64) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(rows: &[(u64, Option<i64>, Option<i64>)], with_send: bool, interval: i64) -> Trace {
        let mut b = TraceBuilder::new(with_send);
        b.comment("made by hand");
        for &(s, se, r) in rows {
            b.push(s, se.map(Nanos), r.map(Nanos)).unwrap();
        }
        b.finish(Some((Nanos(interval), IntervalSource::Metadata))).unwrap()
    }

    #[test]
    fn keeps_every_kth_seq_renumbers_and_keeps_times_and_losses() {
        // seq 1..=7 every 100 ns; seq 3 lost (empty receipt), seq 5 absent.
        let t = trace(
            &[
                (1, Some(0), Some(10)),
                (2, Some(100), Some(120)),
                (3, Some(200), None),
                (4, Some(300), Some(330)),
                (6, Some(500), Some(540)),
                (7, Some(600), Some(605)),
            ],
            true,
            100,
        );
        let r = thin(&t, 2).unwrap();
        // kept: seq 1, 3 (lost), 5 (absent), 7 -> renumbered 1, 2, (3 absent), 4.
        let rows: Vec<_> = r.rows().collect();
        assert_eq!(
            rows,
            vec![
                (1, Some(Nanos(0)), Some(Nanos(10))),
                (2, Some(Nanos(200)), None),
                (4, Some(Nanos(600)), Some(Nanos(605))),
            ]
        );
        assert_eq!(r.interval(), Nanos(200));
        assert_eq!(r.interval_source(), IntervalSource::Metadata);
        assert_eq!(
            r.comments(),
            [
                "made by hand",
                "resample: every 2nd heartbeat by seq (seq' = 1 + (seq - 1) / 2) from interval_ns=100"
            ]
        );
    }

    #[test]
    fn the_phase_is_the_first_seq_of_the_trace() {
        let t = trace(
            &[
                (5, None, Some(0)),
                (6, None, Some(100)),
                (7, None, Some(200)),
                (8, None, Some(300)),
                (9, None, Some(400)),
            ],
            false,
            100,
        );
        let r = thin(&t, 3).unwrap();
        let rows: Vec<_> = r.rows().collect();
        assert_eq!(rows, vec![(5, None, Some(Nanos(0))), (6, None, Some(Nanos(300)))]);
        assert_eq!(r.interval(), Nanos(300));
    }

    #[test]
    fn factor_one_is_the_identity_on_rows() {
        let t = trace(&[(1, None, Some(0)), (2, None, None), (3, None, Some(200))], false, 100);
        let r = thin(&t, 1).unwrap();
        assert_eq!(r.rows().collect::<Vec<_>>(), t.rows().collect::<Vec<_>>());
        assert_eq!(r.interval(), Nanos(100));
    }

    #[test]
    fn factors_come_from_exact_multiples_only() {
        let ms = Nanos::MILLISECOND;
        assert_eq!(factor(Nanos(100 * ms.0), Nanos::SECOND), Ok(10));
        assert_eq!(factor(Nanos(100 * ms.0), Nanos(100 * ms.0)), Ok(1));
        let e = factor(Nanos(100 * ms.0), Nanos(250 * ms.0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "target interval 250ms (250000000 ns) is not an integer multiple of the trace's interval 100ms (100000000 ns); give a multiple of 100ms, or thin with --every K"
        );
        assert!(factor(Nanos(100), Nanos(50)).is_err());
        assert!(factor(Nanos(100), Nanos(0)).is_err());
        assert!(factor(Nanos(99_800_000), Nanos::SECOND).is_err());
    }

    #[test]
    fn bad_factors_are_errors_not_panics() {
        let t = trace(
            &[(1, None, Some(0)), (2, None, Some(100)), (3, None, Some(200))],
            false,
            100,
        );
        assert_eq!(thin(&t, 0), Err(ResampleError::ZeroFactor));
        assert_eq!(
            thin(&t, 3),
            Err(ResampleError::TooFewReceipts {
                every: 3,
                receipts: 1,
                rows: 1
            })
        );
        assert!(matches!(thin(&t, u64::MAX), Err(ResampleError::Overflow { .. })));
        let huge = trace(
            &[(1, None, Some(0)), (2, None, Some(i64::MAX / 2))],
            false,
            i64::MAX / 2,
        );
        assert!(matches!(thin(&huge, 3), Err(ResampleError::Overflow { .. })));
    }

    #[test]
    fn the_command_names_the_trace_the_target_and_an_output_beside_it() {
        let ms = |n: i64| Nanos(n * 1_000_000);
        assert_eq!(
            command("runs/trace.csv.gz", ms(100), Nanos::SECOND).unwrap(),
            "fdbench resample runs/trace.csv.gz --interval 1s -o runs/trace-1s.csv"
        );
        assert_eq!(
            command("t.csv", ms(100), ms(3000)).unwrap(),
            "fdbench resample t.csv --interval 3s -o t-3s.csv"
        );
        assert_eq!(
            command("my trace", ms(20), ms(100)).unwrap(),
            "fdbench resample 'my trace' --interval 100ms -o 'my trace-100ms.csv'"
        );
        assert!(matches!(
            command("t.csv", ms(300), Nanos::SECOND),
            Err(ResampleError::NotAMultiple { .. })
        ));
    }

    #[test]
    fn ordinals_read_as_english() {
        let s: Vec<_> = [1, 2, 3, 4, 10, 11, 12, 13, 21, 22, 23, 101, 111]
            .map(ordinal_suffix)
            .to_vec();
        assert_eq!(
            s,
            [
                "st", "nd", "rd", "th", "th", "th", "th", "th", "st", "nd", "rd", "st", "th"
            ]
        );
    }
}

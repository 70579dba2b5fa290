//! The sampled reference ([evaluation.md](crate::docs::evaluation) §5): deliberately naive, slow and approximate.
//!
//! It replays the receipts through a [`Detector`] and asks its suspicion level every `q`
//! nanoseconds, counting transitions from the samples. Its only job is to check the
//! exact engine ([`crate::replay`]) in tests: as `q` shrinks, its mistakes, `S_time` and
//! detection times converge to the exact ones (within `q` per transition).

use crate::detector::Detector;
use crate::time::Nanos;
use crate::trace::Receipts;

/// What the sampled reference measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampled {
    /// Trust-to-suspect transitions among the samples in the evaluated span.
    pub mistakes: u64,
    /// Suspected samples times `q`.
    pub suspect_time: Nanos,
    /// For each evaluated crash point, the start of the suspicion that never ends minus
    /// the origin, at least 0: the first sample at or after the receipt at which the
    /// detector suspects, or, when it suspects at the receipt and the last sample before
    /// it suspected too, the first sample of that suspicion. `None` if the detector does
    /// not suspect within `horizon` of the receipt.
    pub detection: Vec<Option<Nanos>>,
}

/// Samples `detector` every `q` from the first receipt on (the warm-up too, where a
/// suspicion may begin that a crash point continues), counts over the evaluated span of
/// `receipts` (warm-up `warmup`, which starts in trust), and probes after each evaluated
/// receipt for up to `horizon` to find its detection time.
pub fn replay_sampled(
    receipts: &Receipts,
    detector: &mut dyn Detector,
    warmup: usize,
    q: Nanos,
    horizon: Nanos,
) -> Sampled {
    assert!(q.0 > 0, "the sampling step must be positive");
    let a = &receipts.recv;
    let m = a.len();
    let mut out = Sampled {
        mistakes: 0,
        suspect_time: Nanos::ZERO,
        detection: Vec::new(),
    };
    let suspects = |d: &dyn Detector, t: Nanos| d.level(t) >= d.threshold();
    let w = warmup.min(m - 1);
    // Counting state (the evaluated span starts in trust) and the sampled suspicion in
    // progress: its first sample, whether the last sample suspected.
    let mut was_suspect = false;
    let mut since: Option<Nanos> = None;
    let mut t = a[0];
    let end = a[m - 1];
    for j in 0..m {
        detector.observe(&receipts.heartbeat(j));
        if j == w {
            // Samples of the evaluated span start on the same grid, at its first receipt.
            was_suspect = false;
        }
        if j >= warmup {
            let origin = receipts.send.as_ref().map_or(a[j], |s| s[j]);
            let mut probe = a[j];
            let found = loop {
                if suspects(detector, probe) {
                    let began = match since {
                        Some(s) if probe == a[j] => s,
                        _ => probe,
                    };
                    break Some((began - origin).max(Nanos::ZERO));
                }
                if probe - a[j] > horizon {
                    break None;
                }
                probe += q;
            };
            out.detection.push(found);
        }
        let next = if j + 1 < m { a[j + 1] } else { end };
        while t < next && t < end {
            let s = suspects(detector, t);
            if j >= w {
                if s {
                    out.suspect_time += q;
                    if !was_suspect {
                        out.mistakes += 1;
                    }
                }
                was_suspect = s;
            }
            since = match (s, since) {
                (true, Some(x)) => Some(x),
                (true, None) => Some(t),
                (false, _) => None,
            };
            t += q;
        }
    }
    out
}

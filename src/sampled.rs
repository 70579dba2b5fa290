//! The sampled reference (evaluation.md §5): deliberately naive, slow and approximate.
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
    /// For each evaluated crash point, the first sample at or after the receipt at which
    /// the detector suspects, minus the origin; `None` if not within `horizon`.
    pub detection: Vec<Option<Nanos>>,
}

/// Samples `detector` every `q` over the evaluated span of `receipts` (warm-up `warmup`),
/// and after each evaluated receipt for up to `horizon` to find its detection time.
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
    let mut was_suspect = false;
    let mut t = a[warmup.min(m - 1)];
    let end = a[m - 1];
    for j in 0..m {
        detector.observe(&receipts.heartbeat(j));
        if j < warmup {
            continue;
        }
        let origin = receipts.send.as_ref().map_or(a[j], |s| s[j]);
        let mut probe = a[j];
        let found = loop {
            if suspects(detector, probe) {
                break Some(probe - origin);
            }
            if probe - a[j] > horizon {
                break None;
            }
            probe += q;
        };
        out.detection.push(found);
        let next = if j + 1 < m { a[j + 1] } else { end };
        while t < next && t < end {
            let s = suspects(detector, t);
            if s {
                out.suspect_time += q;
                if !was_suspect {
                    out.mistakes += 1;
                }
            }
            was_suspect = s;
            t += q;
        }
    }
    out
}

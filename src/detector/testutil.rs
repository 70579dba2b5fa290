//! Checks shared by the detectors' unit tests.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::detector::Estimator;
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// A heartbeat at `ms` milliseconds with sequence number `seq`.
pub fn hb(seq: u64, ms: f64) -> Heartbeat {
    Heartbeat {
        seq,
        recv: Nanos((ms * 1e6).round() as i64),
        send: None,
    }
}

/// A random accepted-heartbeat sequence: nominal interval `eta`, jitter, losses, bursts
/// and long pauses, starting at `start`.
pub fn random_heartbeats(seed: u64, count: usize, eta: Nanos, start: Nanos) -> Vec<Heartbeat> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seq = 0u64;
    let mut t = start.0;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        seq += if rng.random_bool(0.1) {
            rng.random_range(2..5)
        } else {
            1
        };
        let gap = match rng.random_range(0..20) {
            0 => 0,
            1 => eta.0 * rng.random_range(3..30),
            _ => eta.0 / 2 + rng.random_range(0..eta.0),
        };
        t += gap;
        out.push(Heartbeat {
            seq,
            recv: Nanos(t),
            send: None,
        });
    }
    out
}

/// After every heartbeat of a random sequence, for every knob: the deadline is the first
/// integer nanosecond at which the level reaches the knob (`tol` is a relative tolerance
/// for levels computed with transcendental functions), and deadlines never decrease as
/// the knob grows. `knobs` must be sorted ascending.
pub fn check_deadlines<E: Estimator>(est: E, knobs: &[f64], eta: Nanos, tol: f64) {
    let prepared: Vec<E::Knob> = knobs.iter().map(|&k| est.prepare(k)).collect();
    for p in &prepared {
        assert_eq!(est.deadline(p), None, "deadline before the first heartbeat");
    }
    for seed in 0..3 {
        let mut e = est.clone();
        for hb in random_heartbeats(seed, 400, eta, Nanos(1_000_000_000_000_000_000 + seed as i64)) {
            e.observe(&hb);
            let mut prev = Nanos(i64::MIN);
            for (k, p) in knobs.iter().zip(&prepared) {
                let d = e.deadline(p).unwrap_or(Nanos::MAX);
                assert!(
                    d >= prev,
                    "deadline {d:?} for knob {k} before {prev:?} for a smaller knob"
                );
                prev = d;
                if d == Nanos::MAX {
                    continue;
                }
                let slack = tol * k.abs();
                if d > hb.recv {
                    let at = e.level(d);
                    let before = e.level(d - Nanos(1));
                    assert!(at >= k - slack, "level {at} at deadline {d:?} below knob {k}");
                    assert!(
                        before < k + slack,
                        "level {before} before deadline {d:?} reaches knob {k}"
                    );
                } else {
                    let at = e.level(hb.recv);
                    assert!(at >= k - slack, "deadline {d:?} <= receipt but level there {at} < {k}");
                }
            }
        }
    }
}

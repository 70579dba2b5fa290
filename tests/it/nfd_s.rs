//! The engine held to closed forms: Chen's NFD-S and the fixed timeout on long generated
//! traces with exactly periodic sends, i.i.d. delays and Bernoulli loss.
//!
//! # NFD-S (Chen, Toueg, Aguilera, IEEE ToC 51(5), 2002, §4, Theorem 5)
//!
//! Heartbeat `i` is sent at `σ_i = iη`, lost with probability `p`, and otherwise
//! delayed by `D_i`, i.i.d. with CDF `F`. Its freshness point is `τ_i = σ_i + δ`; on
//! `[τ_i, τ_{i+1})` the monitor trusts iff some heartbeat `k >= i` has arrived. At
//! `τ_i + x`, `0 <= x < η`, heartbeat `i + k` has arrived iff it was not lost and
//! `D <= δ + x - kη`, independently for every `k`, so the probability of suspecting there
//! is (Theorem 5's `u(x)`)
//!
//! `u(x) = Π_{k >= 0} [1 - (1 - p) F(δ + x - kη)]`
//!
//! (a finite product: `F = 0` below 0). Within `[τ_i, τ_{i+1})` arrivals only restore
//! trust, so an S-transition can only happen at `τ_i`: trusting just before (some
//! `k >= i - 1` arrived by `τ_i`) and suspecting at it (no `k >= i`). Its probability is
//! `u(0) - u(0)[1 - (1 - p) F(δ + η)] = (1 - p) F(δ + η) u(0)`, hence
//!
//! - `E(T_MR) = η / ((1 - p) F(δ + η) u(0))`, the mistake rate is its inverse;
//! - `P_A = 1 - (1/η) ∫_0^η u(x) dx` (time spent suspecting per interval);
//! - `E(T_M) = ∫_0^η u(x) dx / ((1 - p) F(δ + η) u(0))` (suspect time per mistake);
//! - `T_D <= δ + η` on every crash (Theorem 5 (1)): after the last heartbeat `i` the
//!   monitor suspects for good from `τ_{i+1} = σ_i + η + δ` at the latest.
//!
//! These are the expressions of Theorem 5 and its Corollary; the integral is computed
//! here by Simpson's rule on 4000 panels (the integrand is smooth but for a kink at
//! each `x = kη - δ`, which the panel width resolves far below the tolerances).
//!
//! # The fixed timeout
//!
//! Without loss and with exponential delays of mean `μ` far below `η` (reordering needs
//! `D_i - D_{i+1} > η`, probability `e^{-η/μ}/2 ≈ 10^-9` here: none expected), the gaps
//! between receipts are `A = η + D' - D` with `D' - D` Laplace of scale `μ`. With a
//! timeout `T = η + y`, `y >= 0`, gap `j` is a mistake iff `A > T`: probability
//! `e^{-y/μ}/2`; its suspect time is `(A - T)^+`, whose mean given `A > T` is `μ`
//! (memoryless tail). So per interval `η`: mistakes `e^{-y/μ}/2`, `E(T_M) = μ` and
//! `P_A = 1 - μ e^{-y/μ} / (2η)`.
//!
//! # Tolerances
//!
//! Each interval's mistake indicator and suspect time depend on the delays of a few
//! heartbeats only (those that can arrive within `δ + η`), so counts over `N` intervals
//! behave like sums of `N` weakly dependent terms. With `k` expected mistakes the
//! relative standard error of the rate is about `1/√k` (Poisson), and of the mean
//! duration and of the suspect time about `c/√k` with `c` the coefficient of variation
//! of one suspicion's duration (at most about 1 for these bounded or exponential
//! durations). Allowing for the dependence between neighbours (at most a factor 2 on
//! the variance) and six standard errors, every quantity is checked to a relative
//! `9/√k`: a false failure has probability far below 10^-6, while an engine off by one
//! mistake per interval boundary, or measuring from the wrong instant, misses by much
//! more. With `k` in the thousands the tolerances are a few percent or less.

use fdbench::Nanos;
use fdbench::detector::Config;
use fdbench::metrics::Metrics;
use fdbench::replay::{self, Options};
use fdbench::trace::{IntervalSource, Receipts, TraceBuilder};
use rand::{Rng, SeedableRng};

const MS: f64 = 1e6;
const ETA: f64 = 100.0 * MS;
/// Heartbeats per generated trace: 300,000 (8.3 hours at η = 100 ms).
const N: u64 = 300_000;

/// A delay distribution: a sampler and its CDF, in nanoseconds.
struct Delay {
    name: &'static str,
    sample: fn(&mut rand_chacha::ChaCha8Rng) -> f64,
    cdf: fn(f64) -> f64,
}

/// Exponential, mean 20 ms.
const EXPONENTIAL: Delay = Delay {
    name: "exponential(20ms)",
    sample: |rng| -20.0 * MS * (1.0 - rng.random::<f64>()).ln(),
    cdf: |x| if x <= 0.0 { 0.0 } else { 1.0 - (-x / (20.0 * MS)).exp() },
};

/// Uniform on [0, 150 ms]: longer than η, so heartbeats overtake each other.
const UNIFORM: Delay = Delay {
    name: "uniform(0, 150ms)",
    sample: |rng| 150.0 * MS * rng.random::<f64>(),
    cdf: |x| (x / (150.0 * MS)).clamp(0.0, 1.0),
};

/// Sends at `iη` exactly, delays from `delay`, each heartbeat lost with probability `p`.
fn trace(seed: u64, delay: &Delay, p: f64) -> Receipts {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut b = TraceBuilder::new(true);
    for i in 1..=N {
        let send = i as f64 * ETA;
        let d = (delay.sample)(&mut rng);
        let recv = (rng.random::<f64>() >= p).then(|| Nanos((send + d).round() as i64));
        b.push(i, Some(Nanos(send as i64)), recv).unwrap();
    }
    b.finish(Some((Nanos(ETA as i64), IntervalSource::Given)))
        .unwrap()
        .accepted()
}

/// Theorem 5's `u(x)`.
fn u(x: f64, delta: f64, p: f64, cdf: fn(f64) -> f64) -> f64 {
    let mut prod = 1.0;
    let mut k = 0.0;
    while delta + x - k * ETA > 0.0 {
        prod *= 1.0 - (1.0 - p) * cdf(delta + x - k * ETA);
        k += 1.0;
    }
    prod
}

/// `∫_0^η u(x) dx` by Simpson's rule.
fn integral_u(delta: f64, p: f64, cdf: fn(f64) -> f64) -> f64 {
    let panels = 4000;
    let h = ETA / panels as f64;
    let mut s = u(0.0, delta, p, cdf) + u(ETA, delta, p, cdf);
    for i in 1..panels {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        s += w * u(i as f64 * h, delta, p, cdf);
    }
    s * h / 3.0
}

/// Expected mistakes per interval, mean mistake duration (ns) and query accuracy.
struct Expected {
    per_interval: f64,
    duration: f64,
    accuracy: f64,
}

/// Checks the measured metrics against the expected ones, to `9/√k`.
fn check(what: &str, m: &Metrics, e: &Expected) {
    let intervals = m.evaluated.0 as f64 / ETA;
    let k = e.per_interval * intervals;
    let tol = 9.0 / k.sqrt();
    let rel = |got: f64, want: f64| (got - want).abs() / want;
    let rate = m.mistakes as f64 / intervals;
    assert!(
        rel(rate, e.per_interval) < tol,
        "{what}: {} mistakes in {intervals:.0} intervals, {rate:.6} per interval; closed form {:.6} (tolerance {tol:.4})",
        m.mistakes,
        e.per_interval
    );
    let duration = m.mistake_duration_mean().unwrap();
    assert!(
        rel(duration, e.duration) < tol,
        "{what}: T_M {:.4} ms, closed form {:.4} ms (tolerance {tol:.4})",
        duration / MS,
        e.duration / MS
    );
    let suspect = 1.0 - m.query_accuracy();
    assert!(
        rel(suspect, 1.0 - e.accuracy) < tol,
        "{what}: 1 - P_A {suspect:.6}, closed form {:.6} (tolerance {tol:.4})",
        1.0 - e.accuracy
    );
    assert!(
        k > 1000.0,
        "{what}: too few expected mistakes ({k:.0}) for a sharp test"
    );
}

fn opts() -> Options {
    Options {
        warmup: 1,
        deadline: Nanos::SECOND,
    }
}

#[test]
fn nfd_s_meets_chen_toueg_aguilera_theorem_5() {
    for (seed, delay, p) in [(1, &EXPONENTIAL, 0.01), (2, &UNIFORM, 0.05)] {
        let r = trace(seed, delay, p);
        let deltas_ms = [10.0, 30.0, 60.0];
        let knobs: Vec<f64> = deltas_ms.iter().map(|d| d * MS).collect();
        let all = fdbench::sweep::evaluate(&r, &Config::named("nfd-s").unwrap(), &knobs, &opts()).unwrap();
        for (&delta, m) in knobs.iter().zip(&all) {
            let what = format!("nfd-s δ = {} ms, {}, loss {p}", delta / MS, delay.name);
            let transition = (1.0 - p) * (delay.cdf)(delta + ETA) * u(0.0, delta, p, delay.cdf);
            let area = integral_u(delta, p, delay.cdf);
            let e = Expected {
                per_interval: transition,
                duration: area / transition,
                accuracy: 1.0 - area / ETA,
            };
            check(&what, m, &e);
            // Theorem 5 (1): T_D <= δ + η on every crash point, and it is reached.
            let bound = Nanos((delta + ETA) as i64);
            assert!(
                m.detection.max <= bound,
                "{what}: T_D max {:?} over {bound:?}",
                m.detection.max
            );
            assert_eq!(m.detection.p50, bound, "{what}: a crash after a timely heartbeat");
            // The plain path agrees, and the bound is not trivial: measured from the late
            // receipts instead, detection exceeds it.
            let mut d = Config::named("nfd-s").unwrap().detector(r.interval, delta);
            assert_eq!(replay::replay_detector(&r, d.as_mut(), &opts()).unwrap(), *m, "{what}");
            let tau = replay::deadlines(&r, Config::named("nfd-s").unwrap().detector(r.interval, delta).as_mut());
            let send = r.send.as_ref().unwrap();
            let over = (1..r.len())
                .filter(|&j| r.recv[j].max(tau[j]) - send[j] > bound)
                .count();
            if (1.0 - (delay.cdf)(delta + ETA)) * N as f64 > 20.0 {
                assert!(over > 0, "{what}: no receipt arrives after its own deadline");
            }
        }
    }
}

#[test]
fn fixed_timeout_meets_its_closed_form_for_exponential_delays() {
    let mu = 5.0 * MS;
    let r = trace(
        3,
        &Delay {
            name: "exponential(5ms)",
            sample: |rng| -5.0 * MS * (1.0 - rng.random::<f64>()).ln(),
            cdf: |_| unreachable!(),
        },
        0.0,
    );
    assert_eq!(r.stale, 0, "no reordering expected");
    let ys_ms = [0.0, 5.0, 10.0];
    let knobs: Vec<f64> = ys_ms.iter().map(|y| ETA + y * MS).collect();
    let all = fdbench::sweep::evaluate(&r, &Config::named("fixed").unwrap(), &knobs, &opts()).unwrap();
    for (y, m) in ys_ms.iter().zip(&all) {
        let tail = 0.5 * (-y * MS / mu).exp();
        let e = Expected {
            per_interval: tail,
            duration: mu,
            accuracy: 1.0 - mu * tail / ETA,
        };
        check(&format!("fixed timeout η + {y} ms"), m, &e);
    }
}

//! Windowed statistics shared by the detectors: a ring buffer, exact windowed sums and
//! the mean and population variance of the last `n` samples, plus the search for the
//! first integer nanosecond at which a monotone level reaches a threshold.
//!
//! # Numerical stability
//!
//! Samples are integer nanoseconds, so sums are kept exactly in `i128`, relative to a
//! reference value close to the window's mean: `s1 = Σ (x - r)`, `s2 = Σ (x - r)²`.
//! When the mean drifts away from `r` the reference is moved exactly
//! (`Σ (x - r')² = s2 - 2c·s1 + n·c²` with `c = r' - r`), so the only rounding is the
//! final conversion to `f64`: nothing accumulates over millions of samples. The sums use
//! wrapping arithmetic, which is exact whenever the true result fits in 128 bits (always
//! for intervals below about four years with a window of 1000), and never panics.

use crate::time::Nanos;

/// A ring buffer of the last `capacity` values, grown on demand up to its capacity.
#[derive(Clone, Debug)]
pub struct Ring<T> {
    buf: Vec<T>,
    cap: usize,
    head: usize,
}

impl<T: Copy> Ring<T> {
    /// An empty ring keeping at most `capacity` values (at least one).
    pub fn new(capacity: usize) -> Self {
        let cap = capacity.max(1);
        Ring {
            buf: Vec::with_capacity(cap.min(1 << 16)),
            cap,
            head: 0,
        }
    }

    /// Appends `x`; returns the value evicted to make room, if the ring was full.
    #[inline]
    pub fn push(&mut self, x: T) -> Option<T> {
        if self.buf.len() < self.cap {
            self.buf.push(x);
            None
        } else {
            let old = std::mem::replace(&mut self.buf[self.head], x);
            self.head += 1;
            if self.head == self.cap {
                self.head = 0;
            }
            Some(old)
        }
    }

    /// Number of values held.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the ring holds no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The largest number of values kept.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// The values held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        let (a, b) = self.buf.split_at(if self.buf.len() < self.cap { 0 } else { self.head });
        b.iter().chain(a.iter()).copied()
    }
}

/// Mean and population variance of the last `n` integer samples (nanoseconds), exact
/// sums inside (see the module docs).
#[derive(Clone, Debug)]
pub struct Stats {
    ring: Ring<i64>,
    reference: i64,
    s1: i128,
    s2: i128,
}

/// `x as f64` (rounded to nearest, ties to even), without the library's slow 128-bit
/// conversion: a value beyond 64 bits is cut to its top 64 bits with a sticky bit for
/// the rest, which rounds the same, then scaled by a power of two.
#[inline]
pub fn to_f64(x: i128) -> f64 {
    if let Ok(v) = i64::try_from(x) {
        return v as f64;
    }
    let u = x.unsigned_abs();
    let shift = 64u32.saturating_sub(u.leading_zeros());
    let top = (u >> shift) as u64 | u64::from(u & ((1u128 << shift) - 1) != 0);
    let scale = f64::from_bits(u64::from(1023 + shift) << 52);
    let m = top as f64 * scale;
    if x < 0 { -m } else { m }
}

/// Recenter once the mean is this far (in sample units) from the reference.
const RECENTER: i128 = 1 << 16;

impl Stats {
    /// Empty statistics over a window of `window` samples.
    pub fn new(window: usize) -> Self {
        Stats {
            ring: Ring::new(window),
            reference: 0,
            s1: 0,
            s2: 0,
        }
    }

    /// Adds a sample, evicting the oldest one if the window is full.
    #[inline]
    pub fn push(&mut self, x: i64) {
        if self.ring.is_empty() {
            self.reference = x;
        }
        if let Some(old) = self.ring.push(x) {
            let d = i128::from(old) - i128::from(self.reference);
            self.s1 = self.s1.wrapping_sub(d);
            self.s2 = self.s2.wrapping_sub(d.wrapping_mul(d));
        }
        let d = i128::from(x) - i128::from(self.reference);
        self.s1 = self.s1.wrapping_add(d);
        self.s2 = self.s2.wrapping_add(d.wrapping_mul(d));
        let n = self.ring.len() as i128;
        if self.s1 > RECENTER * n || self.s1 < -RECENTER * n {
            self.recenter(n);
        }
    }

    #[cold]
    fn recenter(&mut self, n: i128) {
        let c = self.s1 / n;
        self.s2 = self
            .s2
            .wrapping_sub(2i128.wrapping_mul(c).wrapping_mul(self.s1))
            .wrapping_add(n.wrapping_mul(c).wrapping_mul(c));
        self.s1 = self.s1.wrapping_sub(n.wrapping_mul(c));
        self.reference = (i128::from(self.reference) + c) as i64;
    }

    /// Number of samples in the window.
    #[inline]
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether there is no sample yet.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Mean of the window (0 when empty).
    #[inline]
    pub fn mean(&self) -> f64 {
        let n = self.ring.len();
        if n == 0 {
            return 0.0;
        }
        self.reference as f64 + to_f64(self.s1) / n as f64
    }

    /// Population variance `Σx²/n - mean²` of the window (0 when empty or one sample).
    #[inline]
    pub fn variance(&self) -> f64 {
        let n = self.ring.len() as f64;
        if n == 0.0 {
            return 0.0;
        }
        let m = to_f64(self.s1) / n;
        (to_f64(self.s2) / n - m * m).max(0.0)
    }

    /// Mean and population standard deviation of the window, in one pass over the sums.
    #[inline]
    pub fn mean_std(&self) -> (f64, f64) {
        let n = self.ring.len() as f64;
        if n == 0.0 {
            return (0.0, 0.0);
        }
        let m = to_f64(self.s1) / n;
        let var = (to_f64(self.s2) / n - m * m).max(0.0);
        (self.reference as f64 + m, var.sqrt())
    }

    /// Population standard deviation of the window.
    #[inline]
    pub fn std(&self) -> f64 {
        self.variance().sqrt()
    }

    /// The samples held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.ring.iter()
    }

    /// Whether `other` is in the same state: the same samples in the same order, the
    /// same window and the same sums to the same reference, so that the same pushes give
    /// the same means and variances bit for bit.
    pub fn same_as(&self, other: &Stats) -> bool {
        self.reference == other.reference
            && self.s1 == other.s1
            && self.s2 == other.s2
            && self.ring.cap == other.ring.cap
            && self.ring.len() == other.ring.len()
            && self.ring.iter().eq(other.ring.iter())
    }
}

/// The first integer instant `base + k` at which a monotone level reaches its threshold,
/// given `reached(k)` (does the level at `base + k` reach it?) and `guess`, the real
/// offset of the crossing computed in closed form. The guess is corrected by a few
/// steps, then, where the level moves in steps wider than that (offsets beyond `2^53`,
/// whose `f64` values are several nanoseconds apart), by a search that doubles its
/// stride and bisects: the result agrees exactly with `reached`, whatever the rounding.
/// Returns `None` when the crossing is at `+∞` or beyond the representable range.
#[inline]
pub fn first_reaching(base: Nanos, guess: f64, reached: impl Fn(i64) -> bool) -> Option<Nanos> {
    if guess.is_nan() || guess == f64::INFINITY {
        return None;
    }
    let limit = (i64::MAX - base.0.max(0)) as f64;
    if guess >= limit {
        return None;
    }
    let floor = -(base.0.max(0) as f64);
    let mut k = if guess <= floor {
        floor as i64
    } else {
        crate::time::ceil_in_range(guess)
    };
    let mut steps = 0;
    while !reached(k) {
        if steps == 4 {
            k = farther_up(k, i64::MAX - base.0.max(0), &reached)?;
            break;
        }
        k = k.saturating_add(1);
        steps += 1;
    }
    steps = 0;
    while k > floor as i64 && reached(k - 1) {
        if steps == 4 {
            k = farther_down(k - 1, floor as i64, &reached);
            break;
        }
        k -= 1;
        steps += 1;
    }
    base.checked_add(Nanos(k))
}

/// The first instant after `last` at which an interval `x` is covered by the time since
/// `last` scaled by `scale`: `last + k` for the least integer `k` with
/// `x as f64 <= scale * k as f64` (an order statistic `x` of a window of intervals, the
/// deadline of [`Form::Ranked`](crate::detector::Form::Ranked) at `scale = 1` and of
/// satzger's detector). `None` beyond the representable range.
#[inline]
pub fn covering(last: Nanos, x: i64, scale: f64) -> Option<Nanos> {
    if scale == 1.0 && (0..1 << 53).contains(&x) {
        // `x as f64 <= k as f64` is `x <= k` for integers below 2^53.
        return last.checked_add(Nanos(x));
    }
    first_reaching(last, x as f64 / scale, |k| x as f64 <= scale * k as f64)
}

/// A `k` in `(lo, cap]` with `reached(k)`, given `!reached(lo)`, by strides that double
/// (not the least: the search down from it finds that); `None` when not even `cap`
/// reaches it.
fn farther_up(lo: i64, cap: i64, reached: &impl Fn(i64) -> bool) -> Option<i64> {
    if lo >= cap {
        return None;
    }
    gallop(lo, cap, reached).map(|(_, hi)| hi)
}

/// The least `k` in `[floor, hi]` with `reached(k)`, given `reached(hi)`.
fn farther_down(hi: i64, floor: i64, reached: &impl Fn(i64) -> bool) -> i64 {
    match gallop(hi, floor, &|k| !reached(k)) {
        Some((hi, lo)) => least_between(lo, hi, reached),
        None => floor,
    }
}

/// From `from` towards `to` (up or down) in strides that double, starting at 8: the
/// first stride whose end `e` has `changed(e)`, as `(its start, e)`, the start being
/// `from` or an end that had not changed; `None` when `to` is reached without a change.
fn gallop(from: i64, to: i64, changed: &impl Fn(i64) -> bool) -> Option<(i64, i64)> {
    let up = to >= from;
    let (mut at, mut stride) = (from, 8i64);
    loop {
        let next = if up {
            at.saturating_add(stride).min(to)
        } else {
            at.saturating_sub(stride).max(to)
        };
        if next == at {
            return None;
        }
        if changed(next) {
            return Some((at, next));
        }
        at = next;
        stride = stride.saturating_mul(2);
    }
}

/// The least `k` in `(lo, hi]` with `reached(k)`, given `!reached(lo)` and `reached(hi)`.
fn least_between(mut lo: i64, mut hi: i64, reached: &impl Fn(i64) -> bool) -> i64 {
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reached(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn direct(xs: &[i64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn ring_evicts_oldest_first() {
        let mut r = Ring::new(3);
        assert_eq!(r.push(1), None);
        assert_eq!(r.push(2), None);
        assert_eq!(r.push(3), None);
        assert_eq!(r.push(4), Some(1));
        assert_eq!(r.push(5), Some(2));
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![3, 4, 5]);
    }

    #[test]
    fn akka_history_vectors() {
        let mut s = Stats::new(10);
        for x in [100, 200, 125, 340, 130] {
            s.push(x);
        }
        assert!((s.mean() - 179.0).abs() < 1e-12);
        assert!((s.variance() - 7584.0).abs() < 1e-9);
        let mut s = Stats::new(3);
        for x in [100, 110, 90] {
            s.push(x);
        }
        assert!((s.mean() - 100.0).abs() < 1e-12);
        assert!((s.variance() - 66.666_666_666_666_67).abs() < 1e-9);
        s.push(140);
        assert!((s.mean() - 113.333_333_333_333_33).abs() < 1e-9);
        assert!((s.variance() - 422.222_222_222_222_2).abs() < 1e-9);
        s.push(80);
        assert!((s.mean() - 103.333_333_333_333_33).abs() < 1e-9);
        assert!((s.variance() - 688.888_888_888_888_9).abs() < 1e-9);
    }

    #[test]
    fn one_sample_has_zero_variance() {
        let mut s = Stats::new(5);
        s.push(1_000_000_007);
        assert_eq!(s.variance(), 0.0);
        assert_eq!(s.mean(), 1_000_000_007.0);
    }

    /// Ten million samples (one million in debug builds) near 1e18 with a drifting
    /// level: the windowed statistics match a direct recomputation at the end.
    #[test]
    fn no_drift_over_millions_of_samples() {
        let total: usize = if cfg!(debug_assertions) { 1_000_000 } else { 10_000_000 };
        let window = 1000;
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut s = Stats::new(window);
        let mut last = Vec::with_capacity(window);
        for i in 0..total {
            let level = 1_000_000_000_000_000_000i64 + (i as i64) * 1_000_003;
            let x = level + rng.random_range(0..50_000_000);
            s.push(x);
            if i + window >= total {
                last.push(x);
            }
        }
        let base = last[0];
        let rel: Vec<i64> = last.iter().map(|x| x - base).collect();
        let (m, v) = direct(&rel);
        assert!(
            (s.mean() - (base as f64 + m)).abs() <= 256.0,
            "{} vs {}",
            s.mean(),
            base as f64 + m
        );
        assert!((s.variance() - v).abs() <= v * 1e-12, "{} vs {v}", s.variance());
    }

    #[test]
    fn to_f64_rounds_as_the_cast_does() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut cases: Vec<i128> = vec![
            0,
            i128::MAX,
            i128::MIN,
            i128::from(i64::MAX) + 1,
            i128::from(i64::MIN) - 1,
            (1i128 << 64) + (1 << 11),
            (1i128 << 64) + (1 << 11) + 1,
            (1i128 << 64) + (3 << 11),
            -((1i128 << 100) + (1 << 47)),
        ];
        for _ in 0..100_000 {
            let bits = rng.random_range(60..128u32);
            let v: i128 = (rng.random::<u128>() >> (128 - bits)) as i128;
            cases.push(if rng.random_bool(0.5) { -v } else { v });
        }
        for x in cases {
            assert_eq!(to_f64(x).to_bits(), (x as f64).to_bits(), "{x}");
        }
    }

    #[test]
    fn first_reaching_agrees_with_the_predicate() {
        let base = Nanos(1_000);
        // Crossing at offset 10.5: first integer is 11.
        assert_eq!(first_reaching(base, 10.5, |k| k as f64 >= 10.5), Some(Nanos(1_011)));
        // A wrong guess is corrected.
        assert_eq!(first_reaching(base, 9.0, |k| k >= 11), Some(Nanos(1_011)));
        assert_eq!(first_reaching(base, 13.0, |k| k >= 11), Some(Nanos(1_011)));
        assert_eq!(first_reaching(base, f64::INFINITY, |_| false), None);
        assert_eq!(first_reaching(base, f64::NAN, |_| false), None);
        assert_eq!(first_reaching(base, 1e30, |_| false), None);
        // Far from the guess, either way: the first integer still, by a search.
        assert_eq!(first_reaching(base, 5.0, |k| k >= 5_000), Some(Nanos(6_000)));
        assert_eq!(first_reaching(base, 5_000.0, |k| k >= 5), Some(Nanos(1_005)));
        assert_eq!(first_reaching(base, 5_000.0, |k| k >= -1_000), Some(Nanos(0)));
        assert_eq!(first_reaching(base, 5.0, |_| false), None);
        for (guess, first) in [(0.0, 1), (100.0, 77), (1e6, 999_999), (3.0, 1 << 40)] {
            for k0 in [first - 1, first, first + 1] {
                let got = first_reaching(base, guess, |k| k >= k0);
                assert_eq!(got, Some(Nanos(1_000 + k0)), "guess {guess}, first {k0}");
            }
        }
        // A level that steps 256 ns at a time, as `f64` does near 2^60: the guess (the
        // interval's own `f64`) is at the step's end; the first instant is 128 ns before.
        let x = ((1i64 << 60) + 1000) as f64;
        let got = first_reaching(Nanos(0), x, |k| k as f64 >= x).unwrap();
        assert_eq!(got, Nanos((1 << 60) + 896));
        assert!(((got.0 - 1) as f64) < x && got.0 as f64 >= x);
    }
}

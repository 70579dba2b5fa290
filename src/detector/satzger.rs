//! `satzger` — accrual detector on the empirical distribution of intervals (knob
//! `threshold`, a fraction in (0, 1]).
//!
//! Source: B. Satzger, A. Pietzowski, W. Trumler, T. Ungerer, "A New Adaptive Accrual
//! Failure Detector for Dependable Distributed Systems", SAC 2007.
//!
//! The suspicion level after `Δ` without a heartbeat is the fraction of the last `n`
//! intervals that are `<= scale·Δ`; the detector suspects iff the level `>= threshold`,
//! so its deadline is `a + x_(k) / scale` with `x_(k)` the `k`-th smallest interval,
//! `k = ceil(threshold·n)`. Some libraries use `scale = 0.9`. Before the first interval
//! exists, the nominal interval `η` stands in as the only sample.
//!
//! The window is kept in an order-statistics structure ([`OrderStats`]): no sort per
//! heartbeat, and no walk over the whole window.

use crate::detector::Estimator;
use crate::detector::window::{Ring, first_reaching};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// A multiset of integers with rank and selection: a sorted list cut into sorted blocks
/// of at most `2b` values (`b ≈ √capacity`, at least 32), with each block's maximum
/// indexed. An insertion or removal costs a binary search over the block maxima, one
/// inside a block and a move of at most `2b` values; a rank or selection also sums the
/// sizes of the blocks before it. That is `O(√n)` with very small constants: for a
/// window of 1000, about 16 blocks of 32 to 64 values, all in the L1 cache, which beats
/// a balanced tree's pointer chasing at these sizes. Blocks are split and merged
/// rarely, so the allocations are amortized away.
#[derive(Clone, Debug)]
pub struct OrderStats {
    blocks: Vec<Vec<i64>>,
    maxes: Vec<i64>,
    len: usize,
    b: usize,
}

impl OrderStats {
    /// An empty multiset sized for about `capacity` values.
    pub fn with_capacity(capacity: usize) -> Self {
        let b = ((capacity as f64).sqrt() as usize).max(32);
        OrderStats {
            blocks: Vec::new(),
            maxes: Vec::new(),
            len: 0,
            b,
        }
    }

    /// Number of values held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the multiset is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a value.
    pub fn insert(&mut self, key: i64) {
        self.len += 1;
        if self.blocks.is_empty() {
            let mut v = Vec::with_capacity(2 * self.b + 1);
            v.push(key);
            self.blocks.push(v);
            self.maxes.push(key);
            return;
        }
        let i = self.maxes.partition_point(|&m| m < key).min(self.blocks.len() - 1);
        let block = &mut self.blocks[i];
        let at = block.partition_point(|&x| x <= key);
        block.insert(at, key);
        if key > self.maxes[i] {
            self.maxes[i] = key;
        }
        if block.len() > 2 * self.b {
            let mut tail = Vec::with_capacity(2 * self.b + 1);
            tail.extend_from_slice(&block[self.b..]);
            block.truncate(self.b);
            self.maxes[i] = block[self.b - 1];
            let max = tail[tail.len() - 1];
            self.blocks.insert(i + 1, tail);
            self.maxes.insert(i + 1, max);
        }
    }

    /// Removes one occurrence of `key`; returns whether there was one.
    pub fn remove(&mut self, key: i64) -> bool {
        let i = self.maxes.partition_point(|&m| m < key);
        if i == self.blocks.len() {
            return false;
        }
        let block = &mut self.blocks[i];
        let at = block.partition_point(|&x| x < key);
        if at == block.len() || block[at] != key {
            return false;
        }
        block.remove(at);
        self.len -= 1;
        if block.is_empty() {
            self.blocks.remove(i);
            self.maxes.remove(i);
            return true;
        }
        self.maxes[i] = block[block.len() - 1];
        let small = block.len();
        // Merge a small block into its right neighbour when they fit together.
        if small < self.b / 2 && i + 1 < self.blocks.len() && small + self.blocks[i + 1].len() <= 2 * self.b {
            let right = self.blocks.remove(i + 1);
            self.maxes.remove(i + 1);
            self.blocks[i].extend_from_slice(&right);
            self.maxes[i] = right[right.len() - 1];
        }
        true
    }

    /// Number of values `<= x`.
    #[inline]
    pub fn count_le(&self, x: i64) -> usize {
        let i = self.maxes.partition_point(|&m| m <= x);
        let before: usize = self.blocks[..i].iter().map(Vec::len).sum();
        before + self.blocks.get(i).map_or(0, |b| b.partition_point(|&y| y <= x))
    }

    /// The `k`-th smallest value (1-based), if `1 <= k <= len`.
    #[inline]
    /// The value of 1-based rank `k`, walking on from `cursor` (block index, values
    /// before it): for non-decreasing ranks, all of them cost one walk over the blocks.
    pub fn select_from(&self, cursor: &mut (usize, usize), k: usize) -> Option<i64> {
        if k == 0 || k > self.len {
            return None;
        }
        let (block, before) = cursor;
        if k <= *before {
            *cursor = (0, 0);
            return self.select(k);
        }
        while *block < self.blocks.len() && *before + self.blocks[*block].len() < k {
            *before += self.blocks[*block].len();
            *block += 1;
        }
        self.blocks.get(*block).map(|b| b[k - 1 - *before])
    }

    pub fn select(&self, k: usize) -> Option<i64> {
        if k == 0 || k > self.len {
            return None;
        }
        let mut k = k - 1;
        for b in &self.blocks {
            if k < b.len() {
                return Some(b[k]);
            }
            k -= b.len();
        }
        None
    }
}

/// Satzger's detector: the last `n` intervals, by arrival and in order.
#[derive(Clone, Debug)]
pub struct Satzger {
    ring: Ring<i64>,
    tree: OrderStats,
    scale: f64,
    prior: i64,
    last: Option<Nanos>,
}

impl Satzger {
    /// Satzger's detector over the last `window` intervals, comparing them with
    /// `scale·Δ`, for nominal interval `eta` (the stand-in before the first interval).
    pub fn new(eta: Nanos, window: usize, scale: f64) -> Self {
        Satzger {
            ring: Ring::new(window),
            tree: OrderStats::with_capacity(window),
            scale,
            prior: eta.0,
            last: None,
        }
    }

    /// Number of intervals the level is computed from (at least one: the prior).
    #[inline]
    fn n(&self) -> usize {
        self.tree.len().max(1)
    }

    /// The smallest `c` with `c / n >= threshold`, as the level computes it.
    #[inline]
    fn rank(&self, threshold: f64) -> usize {
        let n = self.n();
        let nf = n as f64;
        let mut c = ((threshold * nf).ceil().max(1.0) as usize).min(n);
        while c > 1 && ((c - 1) as f64 / nf) >= threshold {
            c -= 1;
        }
        while c < n && (c as f64 / nf) < threshold {
            c += 1;
        }
        c
    }

    /// The `k`-th smallest interval (the prior alone before the first interval).
    #[inline]
    fn kth(&self, k: usize) -> i64 {
        if self.tree.is_empty() {
            self.prior
        } else {
            self.tree.select(k).unwrap_or(self.prior)
        }
    }

    /// Whether an interval `x` is `<= scale·delta`.
    #[inline]
    fn covered(&self, x: i64, delta: i64) -> bool {
        x as f64 <= self.scale * delta as f64
    }
}

impl Estimator for Satzger {
    /// The threshold fraction.
    type Knob = f64;

    fn prepare(&self, threshold: f64) -> f64 {
        threshold
    }

    #[inline]
    fn observe(&mut self, hb: &Heartbeat) {
        if let Some(last) = self.last {
            let x = hb.recv.0.wrapping_sub(last.0);
            if let Some(old) = self.ring.push(x) {
                self.tree.remove(old);
            }
            self.tree.insert(x);
        }
        self.last = Some(hb.recv);
    }

    #[inline]
    fn level(&self, now: Nanos) -> f64 {
        let Some(last) = self.last else { return 0.0 };
        let v = self.scale * now.0.wrapping_sub(last.0) as f64;
        let count = if self.tree.is_empty() {
            usize::from(self.prior as f64 <= v)
        } else if v >= i64::MAX as f64 {
            self.tree.len()
        } else {
            self.tree.count_le(v.floor() as i64)
        };
        count as f64 / self.n() as f64
    }

    #[inline]
    fn deadline(&self, threshold: &f64) -> Option<Nanos> {
        let last = self.last?;
        if threshold.is_nan() || *threshold > 1.0 {
            return None;
        }
        let x = self.kth(self.rank(*threshold));
        first_reaching(last, x as f64 / self.scale, |k| self.covered(x, k))
    }

    /// For ascending thresholds (a sweep's), every order statistic comes from one walk
    /// over the sorted blocks; a lower rank restarts the walk.
    fn deadlines(&self, thresholds: &[f64], out: &mut [Nanos]) {
        let Some(last) = self.last else {
            out.fill(Nanos::MAX);
            return;
        };
        if self.tree.is_empty() || thresholds.iter().any(|t| t.is_nan() || *t > 1.0) {
            for (o, t) in out.iter_mut().zip(thresholds) {
                *o = self.deadline(t).unwrap_or(Nanos::MAX);
            }
            return;
        }
        let mut cursor = (0, 0);
        for (o, &t) in out.iter_mut().zip(thresholds) {
            let x = self.tree.select_from(&mut cursor, self.rank(t)).unwrap_or(self.prior);
            *o = first_reaching(last, x as f64 / self.scale, |k| self.covered(x, k)).unwrap_or(Nanos::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::testutil::{check_deadlines, hb};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn a_walking_selection_agrees_with_selection() {
        let mut t = OrderStats::with_capacity(500);
        let mut x: u64 = 12345;
        for _ in 0..500 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            t.insert((x >> 40) as i64 % 1000);
        }
        let mut cursor = (0, 0);
        for k in [1, 1, 2, 40, 41, 250, 499, 500, 501, 0, 300, 7, 7, 500] {
            assert_eq!(t.select_from(&mut cursor, k), t.select(k), "rank {k}");
        }
    }

    #[test]
    fn spec_vector() {
        let mut d = Satzger::new(Nanos::from_millis(1000), 1000, 0.9);
        let mut t = 0.0;
        d.observe(&hb(0, t));
        for (i, gap) in [1010.0, 1023.0, 1012.0, 1032.0, 1016.0, 1020.0, 990.0, 1028.0]
            .iter()
            .enumerate()
        {
            t += gap;
            d.observe(&hb(i as u64 + 1, t));
        }
        let at = |ms: f64| d.level(Nanos(((t + ms) * 1e6) as i64));
        assert_eq!(at(500.0), 0.0);
        assert_eq!(at(1000.0), 0.0);
        assert_eq!(at(1100.0), 0.125);
        assert_eq!(at(2100.0), 1.0);
        // threshold 0.125: k = 1, x_(1) = 990 ms, τ = a + 990/0.9 = a + 1100 ms.
        assert_eq!(d.deadline(&0.125), Some(Nanos(((t + 1100.0) * 1e6) as i64)));
        // threshold 1: the largest, 1032 / 0.9 = 1146.67 ms.
        assert_eq!(d.deadline(&1.0), Some(Nanos(((t + 1032.0 / 0.9) * 1e6).ceil() as i64)));
    }

    #[test]
    fn prior_before_the_first_interval() {
        let mut d = Satzger::new(Nanos::from_millis(100), 10, 1.0);
        assert_eq!(d.deadline(&0.5), None);
        d.observe(&hb(1, 0.0));
        assert_eq!(d.deadline(&0.5), Some(Nanos::from_millis(100)));
        assert_eq!(d.level(Nanos::from_millis(100)), 1.0);
        assert_eq!(d.level(Nanos::from_millis(99)), 0.0);
    }

    #[test]
    fn order_stats_match_a_sorted_vector() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut t = OrderStats::with_capacity(64);
        let mut v: Vec<i64> = Vec::new();
        for _ in 0..5000 {
            if !v.is_empty() && rng.random_bool(0.45) {
                let i = rng.random_range(0..v.len());
                let x = v.remove(i);
                assert!(t.remove(x));
            } else {
                let x = rng.random_range(0..50);
                t.insert(x);
                let i = v.partition_point(|&y| y <= x);
                v.insert(i, x);
            }
            assert_eq!(t.len(), v.len());
            let q = rng.random_range(-1..51);
            assert_eq!(t.count_le(q), v.partition_point(|&y| y <= q));
            if !v.is_empty() {
                let k = rng.random_range(1..=v.len());
                assert_eq!(t.select(k), Some(v[k - 1]));
            }
        }
        assert!(!t.remove(1000));
        // Drain in random order: blocks empty out and merge.
        while !v.is_empty() {
            let i = rng.random_range(0..v.len());
            let x = v.remove(i);
            assert!(t.remove(x));
            assert_eq!(t.len(), v.len());
            for k in [1, v.len() / 2, v.len()] {
                assert_eq!(t.select(k), v.get(k.wrapping_sub(1)).copied());
            }
            assert_eq!(t.count_le(25), v.partition_point(|&y| y <= 25));
        }
        assert!(t.is_empty() && !t.remove(3));
    }

    #[test]
    fn deadline_consistent_with_level() {
        let knobs: Vec<f64> = (1..=40).map(|i| i as f64 * 0.025).collect();
        let eta = Nanos::from_millis(100);
        check_deadlines(Satzger::new(eta, 30, 1.0), &knobs, eta, 0.0);
        check_deadlines(Satzger::new(eta, 7, 0.9), &knobs, eta, 0.0);
    }
}

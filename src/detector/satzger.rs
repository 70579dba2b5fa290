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
//! The window is kept in an order-statistics tree (a treap with subtree sizes, nodes
//! preallocated in an arena), so each heartbeat costs `O(log n)`: no sort.

use crate::detector::Estimator;
use crate::detector::window::{Ring, first_reaching};
use crate::time::Nanos;
use crate::trace::Heartbeat;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node {
    key: i64,
    prio: u32,
    size: u32,
    left: u32,
    right: u32,
}

/// A multiset of integers with rank and selection in `O(log n)` expected time: a treap
/// (binary search tree by key, max-heap by a pseudo-random priority) whose nodes carry
/// their subtree size. Deterministic: priorities come from a fixed-seed xorshift.
#[derive(Clone, Debug)]
pub struct OrderStats {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    rng: u32,
}

impl OrderStats {
    /// An empty multiset with room for `capacity` values before reallocating.
    pub fn with_capacity(capacity: usize) -> Self {
        OrderStats {
            nodes: Vec::with_capacity(capacity.min(1 << 16)),
            free: Vec::new(),
            root: NIL,
            rng: 0x9E37_79B9,
        }
    }

    /// Number of values held.
    #[inline]
    pub fn len(&self) -> usize {
        self.size(self.root) as usize
    }

    /// Whether the multiset is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    #[inline]
    fn size(&self, t: u32) -> u32 {
        if t == NIL { 0 } else { self.nodes[t as usize].size }
    }

    #[inline]
    fn fix(&mut self, t: u32) {
        let n = self.nodes[t as usize];
        self.nodes[t as usize].size = 1 + self.size(n.left) + self.size(n.right);
    }

    fn next_prio(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// Splits `t` into keys `< key` and keys `>= key`.
    fn split(&mut self, t: u32, key: i64) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.nodes[t as usize].key < key {
            let (l, r) = self.split(self.nodes[t as usize].right, key);
            self.nodes[t as usize].right = l;
            self.fix(t);
            (t, r)
        } else {
            let (l, r) = self.split(self.nodes[t as usize].left, key);
            self.nodes[t as usize].left = r;
            self.fix(t);
            (l, t)
        }
    }

    /// Merges two treaps, every key of `a` at most every key of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio >= self.nodes[b as usize].prio {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            self.fix(a);
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            self.fix(b);
            b
        }
    }

    fn set_child(&mut self, parent: u32, left: bool, child: u32) {
        if parent == NIL {
            self.root = child;
        } else if left {
            self.nodes[parent as usize].left = child;
        } else {
            self.nodes[parent as usize].right = child;
        }
    }

    /// Adds a value.
    pub fn insert(&mut self, key: i64) {
        let prio = self.next_prio();
        let node = Node {
            key,
            prio,
            size: 1,
            left: NIL,
            right: NIL,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let (mut parent, mut left) = (NIL, false);
        let mut cur = self.root;
        while cur != NIL && self.nodes[cur as usize].prio >= prio {
            self.nodes[cur as usize].size += 1;
            parent = cur;
            left = key < self.nodes[cur as usize].key;
            cur = if left {
                self.nodes[cur as usize].left
            } else {
                self.nodes[cur as usize].right
            };
        }
        let (l, r) = self.split(cur, key);
        self.nodes[id as usize].left = l;
        self.nodes[id as usize].right = r;
        self.fix(id);
        self.set_child(parent, left, id);
    }

    /// Removes one occurrence of `key`; returns whether there was one.
    pub fn remove(&mut self, key: i64) -> bool {
        if self.count_le(key) == self.count_lt(key) {
            return false;
        }
        let (mut parent, mut left) = (NIL, false);
        let mut cur = self.root;
        loop {
            let n = self.nodes[cur as usize];
            if n.key == key {
                break;
            }
            self.nodes[cur as usize].size -= 1;
            parent = cur;
            left = key < n.key;
            cur = if left { n.left } else { n.right };
        }
        let n = self.nodes[cur as usize];
        let m = self.merge(n.left, n.right);
        self.set_child(parent, left, m);
        self.free.push(cur);
        true
    }

    /// Number of values `<= x`.
    #[inline]
    pub fn count_le(&self, x: i64) -> usize {
        let mut count = 0;
        let mut cur = self.root;
        while cur != NIL {
            let n = &self.nodes[cur as usize];
            if n.key <= x {
                count += self.size(n.left) + 1;
                cur = n.right;
            } else {
                cur = n.left;
            }
        }
        count as usize
    }

    /// Number of values `< x`.
    #[inline]
    pub fn count_lt(&self, x: i64) -> usize {
        if x == i64::MIN { 0 } else { self.count_le(x - 1) }
    }

    /// The `k`-th smallest value (1-based), if `1 <= k <= len`.
    #[inline]
    pub fn select(&self, k: usize) -> Option<i64> {
        if k == 0 || k > self.len() {
            return None;
        }
        let mut k = k as u32;
        let mut cur = self.root;
        loop {
            let n = &self.nodes[cur as usize];
            let l = self.size(n.left);
            if k <= l {
                cur = n.left;
            } else if k == l + 1 {
                return Some(n.key);
            } else {
                k -= l + 1;
                cur = n.right;
            }
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::testutil::{check_deadlines, hb};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

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
    }

    #[test]
    fn deadline_consistent_with_level() {
        let knobs: Vec<f64> = (1..=40).map(|i| i as f64 * 0.025).collect();
        let eta = Nanos::from_millis(100);
        check_deadlines(Satzger::new(eta, 30, 1.0), &knobs, eta, 0.0);
        check_deadlines(Satzger::new(eta, 7, 0.9), &knobs, eta, 0.0);
    }
}

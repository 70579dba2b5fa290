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
//! The window is kept in an order-statistics structure ([`OrderStats`], a counted
//! B-tree): `O(log window)` per heartbeat, no sort and no walk over the whole window.

use crate::detector::registry::{Definition, Param, Range};
use crate::detector::window::{Ring, covering};
use crate::detector::{Estimator, Form, rank};
use crate::detector::{EstimatorFamily, Tuned};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// Most values in a leaf of [`OrderStats`].
const LEAF_MAX: usize = 64;
/// Most children of an inner node of [`OrderStats`].
const NODE_MAX: usize = 32;

/// A node of [`OrderStats`]: a sorted leaf, or children with their value counts and
/// largest values.
#[derive(Clone, Debug)]
enum Node {
    Leaf(Vec<i64>),
    Inner {
        kids: Vec<Node>,
        counts: Vec<usize>,
        maxes: Vec<i64>,
    },
}

impl Node {
    fn count(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner { counts, .. } => counts.iter().sum(),
        }
    }

    fn max(&self) -> i64 {
        match self {
            Node::Leaf(v) => v.last().copied().unwrap_or(i64::MIN),
            Node::Inner { maxes, .. } => maxes.last().copied().unwrap_or(i64::MIN),
        }
    }

    /// Entries: values of a leaf, children of an inner node.
    fn width(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner { kids, .. } => kids.len(),
        }
    }

    fn capacity(&self) -> usize {
        match self {
            Node::Leaf(_) => LEAF_MAX,
            Node::Inner { .. } => NODE_MAX,
        }
    }

    /// Inserts `x`; returns the new right sibling when the node splits.
    fn insert(&mut self, x: i64) -> Option<Node> {
        match self {
            Node::Leaf(v) => {
                let i = v.partition_point(|&y| y <= x);
                v.insert(i, x);
                (v.len() > LEAF_MAX).then(|| Node::Leaf(v.split_off(v.len() / 2)))
            }
            Node::Inner { kids, counts, maxes } => {
                let i = maxes.partition_point(|&m| m < x).min(kids.len() - 1);
                let split = kids[i].insert(x);
                counts[i] += 1;
                maxes[i] = maxes[i].max(x);
                if let Some(right) = split {
                    let (rc, rm) = (right.count(), right.max());
                    counts[i] -= rc;
                    maxes[i] = kids[i].max();
                    kids.insert(i + 1, right);
                    counts.insert(i + 1, rc);
                    maxes.insert(i + 1, rm);
                    if kids.len() > NODE_MAX {
                        let half = kids.len() / 2;
                        return Some(Node::Inner {
                            kids: kids.split_off(half),
                            counts: counts.split_off(half),
                            maxes: maxes.split_off(half),
                        });
                    }
                }
                None
            }
        }
    }

    /// Removes one `x`; whether it was there.
    fn remove(&mut self, x: i64) -> bool {
        match self {
            Node::Leaf(v) => {
                let i = v.partition_point(|&y| y < x);
                let found = v.get(i) == Some(&x);
                if found {
                    v.remove(i);
                }
                found
            }
            Node::Inner { kids, counts, maxes } => {
                // The first child whose largest value is >= x holds x if anything does.
                let i = maxes.partition_point(|&m| m < x);
                if i == kids.len() || !kids[i].remove(x) {
                    return false;
                }
                counts[i] -= 1;
                if counts[i] == 0 {
                    kids.remove(i);
                    counts.remove(i);
                    maxes.remove(i);
                    return true;
                }
                maxes[i] = kids[i].max();
                // Merge a thin child into a neighbour when both fit in one node.
                if kids[i].width() < kids[i].capacity() / 4 && kids.len() > 1 {
                    let j = if i + 1 < kids.len() { i } else { i - 1 };
                    if kids[j].width() + kids[j + 1].width() <= kids[j].capacity() {
                        let right = kids.remove(j + 1);
                        let rc = counts.remove(j + 1);
                        maxes.remove(j);
                        counts[j] += rc;
                        match (&mut kids[j], right) {
                            (Node::Leaf(a), Node::Leaf(b)) => a.extend(b),
                            (
                                Node::Inner {
                                    kids: ka,
                                    counts: ca,
                                    maxes: ma,
                                },
                                Node::Inner {
                                    kids: kb,
                                    counts: cb,
                                    maxes: mb,
                                },
                            ) => {
                                ka.extend(kb);
                                ca.extend(cb);
                                ma.extend(mb);
                            }
                            _ => unreachable!("siblings are at the same depth"),
                        }
                    }
                }
                true
            }
        }
    }

    /// The value of 1-based rank `k` (`1 <= k <= count`).
    fn select(&self, mut k: usize) -> i64 {
        let mut node = self;
        loop {
            match node {
                Node::Leaf(v) => return v[k - 1],
                Node::Inner { kids, counts, .. } => {
                    let mut i = 0;
                    while i + 1 < kids.len() && k > counts[i] {
                        k -= counts[i];
                        i += 1;
                    }
                    node = &kids[i];
                }
            }
        }
    }

    /// The values of the non-decreasing 1-based ranks `ranks` (counted from `offset`
    /// values before this node), in one descent that visits each needed node once.
    fn select_sorted(&self, ranks: &[usize], offset: usize, out: &mut [i64]) {
        match self {
            Node::Leaf(v) => {
                for (o, &k) in out.iter_mut().zip(ranks) {
                    *o = v[k - offset - 1];
                }
            }
            Node::Inner { kids, counts, .. } => {
                let (mut start, mut base) = (0, offset);
                for (kid, &c) in kids.iter().zip(counts) {
                    let mut end = start;
                    while end < ranks.len() && ranks[end] <= base + c {
                        end += 1;
                    }
                    if end > start {
                        match kid {
                            Node::Leaf(v) => {
                                for (o, &k) in out[start..end].iter_mut().zip(&ranks[start..end]) {
                                    *o = v[k - base - 1];
                                }
                            }
                            Node::Inner { .. } => kid.select_sorted(&ranks[start..end], base, &mut out[start..end]),
                        }
                    }
                    start = end;
                    base += c;
                    if start == ranks.len() {
                        break;
                    }
                }
            }
        }
    }

    fn count_le(&self, x: i64) -> usize {
        let mut node = self;
        let mut before = 0;
        loop {
            match node {
                Node::Leaf(v) => return before + v.partition_point(|&y| y <= x),
                Node::Inner { kids, counts, maxes } => {
                    let i = maxes.partition_point(|&m| m <= x);
                    before += counts[..i].iter().sum::<usize>();
                    match kids.get(i) {
                        Some(k) => node = k,
                        None => return before,
                    }
                }
            }
        }
    }
}

/// A multiset of integers with rank and selection in `O(log n)`: a B-tree whose leaves
/// hold up to 64 sorted values and whose inner nodes keep, for up to 32 children, their
/// value counts and largest values. An insertion or removal is a descent by binary
/// search over the largest values and a move of at most 64 values in a leaf; a selection
/// is a descent by the counts. Nodes split when full and thin ones merge with a
/// neighbour, so all leaves stay at one depth. For a window of 1000, two levels, all in
/// the L1 cache.
#[derive(Clone, Debug)]
pub struct OrderStats {
    root: Node,
    len: usize,
}

impl OrderStats {
    /// An empty multiset (the capacity is a hint, unused: nodes grow as needed).
    pub fn with_capacity(_capacity: usize) -> Self {
        OrderStats {
            root: Node::Leaf(Vec::with_capacity(LEAF_MAX + 1)),
            len: 0,
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

    /// Adds `key`.
    pub fn insert(&mut self, key: i64) {
        self.len += 1;
        if let Some(right) = self.root.insert(key) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let (lc, lm, rc, rm) = (left.count(), left.max(), right.count(), right.max());
            self.root = Node::Inner {
                kids: vec![left, right],
                counts: vec![lc, rc],
                maxes: vec![lm, rm],
            };
        }
    }

    /// Removes one `key`; whether it was there.
    pub fn remove(&mut self, key: i64) -> bool {
        let found = self.root.remove(key);
        if found {
            self.len -= 1;
            // A root with one child gives way to it. (An inner root never loses its last
            // child: one removal takes away at most one child, by a merge, and a root
            // left with one gives way here.)
            while let Node::Inner { kids, .. } = &mut self.root
                && kids.len() == 1
            {
                self.root = kids.pop().expect("one child");
            }
        }
        found
    }

    /// How many values are `<= x`.
    pub fn count_le(&self, x: i64) -> usize {
        self.root.count_le(x)
    }

    /// The value of 1-based rank `k`, or `None` when `k` is out of range.
    pub fn select(&self, k: usize) -> Option<i64> {
        (k >= 1 && k <= self.len).then(|| self.root.select(k))
    }

    /// The values of the 1-based ranks `ranks`, which must be non-decreasing and within
    /// `1..=len`, in one descent.
    pub fn select_sorted(&self, ranks: &[usize], out: &mut [i64]) {
        debug_assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
        self.root.select_sorted(ranks, 0, out);
    }
}

/// A multiset of integers with rank and selection: the window of [`Satzger`].
pub trait Multiset: Clone + std::fmt::Debug + Send + Sync {
    /// An empty multiset for about `capacity` values.
    fn with_capacity(capacity: usize) -> Self;
    /// Number of values held.
    fn len(&self) -> usize;
    /// Whether the multiset is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Adds `key`.
    fn insert(&mut self, key: i64);
    /// Removes one `key` (which must be held) and adds `key2`.
    fn replace(&mut self, key: i64, key2: i64);
    /// How many values are `<= x`.
    fn count_le(&self, x: i64) -> usize;
    /// The value of 1-based rank `k`, or `None` when `k` is out of range.
    fn select(&self, k: usize) -> Option<i64>;
    /// The values of the 1-based ranks `ranks`, non-decreasing and within `1..=len`.
    fn select_sorted(&self, ranks: &[usize], out: &mut [i64]);
    /// All the values in order, when they are kept so.
    fn as_sorted(&self) -> Option<&[i64]> {
        None
    }
}

impl Multiset for OrderStats {
    fn with_capacity(capacity: usize) -> Self {
        OrderStats::with_capacity(capacity)
    }
    #[inline]
    fn len(&self) -> usize {
        self.len
    }
    fn insert(&mut self, key: i64) {
        OrderStats::insert(self, key);
    }
    fn replace(&mut self, key: i64, key2: i64) {
        OrderStats::remove(self, key);
        OrderStats::insert(self, key2);
    }
    fn count_le(&self, x: i64) -> usize {
        OrderStats::count_le(self, x)
    }
    fn select(&self, k: usize) -> Option<i64> {
        OrderStats::select(self, k)
    }
    fn select_sorted(&self, ranks: &[usize], out: &mut [i64]) {
        OrderStats::select_sorted(self, ranks, out);
    }
}

/// A multiset kept as one sorted vector: selection is indexing, and replacing a value
/// moves only the values between the old and the new one's places.
#[derive(Clone, Debug, Default)]
pub struct SortedVec {
    values: Vec<i64>,
}

impl Multiset for SortedVec {
    fn with_capacity(capacity: usize) -> Self {
        SortedVec {
            values: Vec::with_capacity(capacity + 1),
        }
    }
    #[inline]
    fn len(&self) -> usize {
        self.values.len()
    }
    fn insert(&mut self, key: i64) {
        let i = self.values.partition_point(|&y| y <= key);
        self.values.insert(i, key);
    }
    #[inline]
    fn replace(&mut self, key: i64, key2: i64) {
        let v = &mut self.values;
        let old = v.partition_point(|&y| y < key);
        if v.get(old) != Some(&key) {
            // Not held: only add.
            self.insert(key2);
            return;
        }
        if key2 >= key {
            // The values in (old, new place) move down by one.
            let to = v.partition_point(|&y| y <= key2) - 1;
            v.copy_within(old + 1..=to, old);
            v[to] = key2;
        } else {
            let to = v.partition_point(|&y| y <= key2);
            v.copy_within(to..old, to + 1);
            v[to] = key2;
        }
    }
    #[inline]
    fn count_le(&self, x: i64) -> usize {
        self.values.partition_point(|&y| y <= x)
    }
    #[inline]
    fn select(&self, k: usize) -> Option<i64> {
        k.checked_sub(1).and_then(|i| self.values.get(i).copied())
    }
    #[inline]
    fn select_sorted(&self, ranks: &[usize], out: &mut [i64]) {
        for (o, &k) in out.iter_mut().zip(ranks) {
            *o = self.values[k - 1];
        }
    }
    #[inline]
    fn as_sorted(&self) -> Option<&[i64]> {
        Some(&self.values)
    }
}

/// A threshold prepared for a window: its value and its rank once the window is full.
#[derive(Clone, Copy, Debug)]
pub struct Threshold {
    value: f64,
    full: usize,
    full_rank: usize,
    usable: bool,
}

impl Threshold {
    /// A threshold in `(-inf, 1]`, which some interval reaches.
    #[inline]
    fn usable(&self) -> bool {
        self.usable
    }
}

/// Satzger's detector: the last `n` intervals, by arrival and in order.
///
/// The window's multiset is an [`OrderStats`] B-tree by default (`O(log window)` per
/// heartbeat). A [`SortedVec`] instead moves the values between the old and the new
/// interval's places (a few kilobytes for a window of 1000) and selects by indexing,
/// which suits a replay that reads many order statistics after every heartbeat.
#[derive(Clone, Debug)]
pub struct Satzger<S: Multiset = OrderStats> {
    ring: Ring<i64>,
    tree: S,
    scale: f64,
    prior: i64,
    last: Option<Nanos>,
}

impl Satzger {
    /// Satzger's detector over the last `window` intervals, comparing them with
    /// `scale·Δ`, for nominal interval `eta` (the stand-in before the first interval).
    pub fn new(eta: Nanos, window: usize, scale: f64) -> Self {
        Self::with_store(eta, window, scale)
    }
}

impl<S: Multiset> Satzger<S> {
    /// [`Satzger::new`] with the window kept in an `S`.
    pub fn with_store(eta: Nanos, window: usize, scale: f64) -> Self {
        Satzger {
            ring: Ring::new(window),
            tree: S::with_capacity(window),
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

    /// The rank of a prepared threshold for the current window.
    #[inline]
    fn rank_of(&self, knob: &Threshold) -> usize {
        let n = self.n();
        if n == knob.full {
            knob.full_rank
        } else {
            rank(n, knob.value)
        }
    }

    /// The deadline for the interval `x`: the first `k` with `x <= scale·k`, after `last`.
    #[inline]
    fn deadline_for(&self, last: Nanos, x: i64) -> Nanos {
        covering(last, x, self.scale).unwrap_or(Nanos::MAX)
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
}

impl<S: Multiset> Estimator for Satzger<S> {
    /// The threshold fraction, with its rank in a full window.
    type Knob = Threshold;

    fn prepare(&self, threshold: f64) -> Threshold {
        let full = self.ring.capacity().max(1);
        Threshold {
            value: threshold,
            full,
            full_rank: if threshold.is_nan() { 1 } else { rank(full, threshold) },
            usable: threshold <= 1.0,
        }
    }

    #[inline]
    fn observe(&mut self, hb: &Heartbeat) {
        if let Some(last) = self.last {
            let x = hb.recv.0.wrapping_sub(last.0);
            match self.ring.push(x) {
                Some(old) => self.tree.replace(old, x),
                None => self.tree.insert(x),
            }
        }
        self.last = Some(hb.recv);
    }

    fn state(&self) -> Vec<(&'static str, f64)> {
        vec![("window", self.ring.len() as f64)]
    }

    /// An order statistic of the window ([`Form::Ranked`]) at scale 1, where the window
    /// is kept as one sorted vector; [`Form::General`] otherwise.
    fn form(&self) -> Form<'_> {
        if self.scale != 1.0 {
            return Form::General;
        }
        match self.tree.as_sorted() {
            Some([]) => Form::Ranked {
                last: self.last,
                sorted: std::slice::from_ref(&self.prior),
            },
            Some(sorted) => Form::Ranked {
                last: self.last,
                sorted,
            },
            None => Form::General,
        }
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
    fn deadline(&self, threshold: &Threshold) -> Option<Nanos> {
        let last = self.last?;
        if threshold.value.is_nan() || threshold.value > 1.0 {
            return None;
        }
        let x = self.kth(self.rank_of(threshold));
        Some(self.deadline_for(last, x)).filter(|&d| d != Nanos::MAX)
    }

    /// For ascending thresholds (a sweep's), every order statistic comes from one walk
    /// over the sorted blocks; a lower rank restarts the walk.
    fn deadlines(&self, thresholds: &[Threshold], out: &mut [Nanos]) {
        let Some(last) = self.last else {
            out.fill(Nanos::MAX);
            return;
        };
        if self.tree.is_empty() || !thresholds.iter().all(Threshold::usable) {
            for (o, t) in out.iter_mut().zip(thresholds) {
                *o = self.deadline(t).unwrap_or(Nanos::MAX);
            }
            return;
        }
        self.order_stats(thresholds, |start, xs| {
            for (o, &x) in out[start..].iter_mut().zip(xs) {
                *o = self.deadline_for(last, x);
            }
        });
    }
}

impl<S: Multiset> Satzger<S> {
    /// Calls `f(start, xs)` with the order statistics `xs` of the thresholds from index
    /// `start` on, a chunk at a time. The window must not be empty and every threshold
    /// must be [usable](Threshold::usable) (the caller checks both).
    #[inline]
    fn order_stats(&self, thresholds: &[Threshold], mut f: impl FnMut(usize, &[i64])) {
        // Ascending thresholds (a sweep's) give non-decreasing ranks: their order statistics
        // come from one descent per chunk, on the stack.
        const CHUNK: usize = 128;
        let window = self.n();
        for (c, ts) in thresholds.chunks(CHUNK).enumerate() {
            let mut ranks = [0usize; CHUNK];
            let mut xs = [0i64; CHUNK];
            let n = ts.len();
            let mut sorted = true;
            let mut prev = 0;
            for (r, t) in ranks.iter_mut().zip(ts) {
                *r = if window == t.full {
                    t.full_rank
                } else {
                    rank(window, t.value)
                };
                sorted &= *r >= prev;
                prev = *r;
            }
            if sorted {
                self.tree.select_sorted(&ranks[..n], &mut xs[..n]);
            } else {
                for (x, &r) in xs.iter_mut().zip(&ranks[..n]) {
                    *x = self.tree.select(r).unwrap_or(self.prior);
                }
            }
            f(c * CHUNK, &xs[..n]);
        }
    }
}

/// Up to this window, `satzger`'s family keeps its window in a sorted vector (selection by
/// indexing, cheaper for many thresholds at once), beyond in its B-tree. Measured on a
/// 200-threshold sweep of 1M heartbeats: the vector wins at windows of 100 (0.7 s
/// against 1.0 s), 1000 and 4096 (1.6 s against 2.1 s), the B-tree at 16384 (2.8 s
/// against 3.5 s) and beyond.
const SORTED_WINDOW: usize = 4096;

/// `satzger` in the registry.
pub const DEFINITION: Definition = Definition {
    name: "satzger",
    summary: "fraction of the last n intervals at most scale * elapsed (empirical distribution)",
    source: "Satzger, Pietzowski, Trumler, Ungerer, SAC 2007",
    params: &[
        Param::window("window", 1000, "intervals kept"),
        Param::number(
            "scale",
            1.0,
            Range::above(0.0),
            "multiplies the elapsed time (some libraries use 0.9)",
        ),
    ],
    knob: Some(
        Param::fraction("threshold", 0.99, "suspect when this fraction of intervals is exceeded")
            .swept(0.5, 1.0, 0.005),
    ),
    knob_independent: true,
    needs_send_times: false,
    weight: 2,
    window: Definition::window_param,
    detector: |c, eta, knob| Box::new(Tuned::new(Satzger::new(eta, c.count("window"), c.get("scale")), knob)),
    family: |c, eta, knobs| {
        let (window, scale) = (c.count("window"), c.get("scale"));
        if window <= SORTED_WINDOW {
            Box::new(EstimatorFamily::new(
                Satzger::<SortedVec>::with_store(eta, window, scale),
                knobs,
            ))
        } else {
            Box::new(EstimatorFamily::new(Satzger::new(eta, window, scale), knobs))
        }
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::testutil::{check_deadlines, hb};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn a_sorted_selection_agrees_with_selection() {
        let mut t = OrderStats::with_capacity(5000);
        let mut x: u64 = 12345;
        for _ in 0..5000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            t.insert((x >> 40) as i64 % 1000);
        }
        assert!(OrderStats::with_capacity(8).is_empty());
        assert!(!t.is_empty() && t.len() == 5000);
        let ranks = [1, 1, 2, 40, 41, 250, 2500, 2501, 4999, 5000, 5000];
        let mut out = [0; 11];
        t.select_sorted(&ranks, &mut out);
        for (k, v) in ranks.iter().zip(out) {
            assert_eq!(Some(v), t.select(*k), "rank {k}");
        }
    }

    #[test]
    fn deadlines_of_many_thresholds_are_each_ones_deadline() {
        fn agree<S: Multiset>(d: &Satzger<S>, xs: &[f64]) {
            let ts: Vec<Threshold> = xs.iter().map(|&x| d.prepare(x)).collect();
            let mut out = vec![Nanos(7); ts.len()];
            d.deadlines(&ts, &mut out);
            let each: Vec<Nanos> = ts.iter().map(|k| d.deadline(k).unwrap_or(Nanos::MAX)).collect();
            assert_eq!(out, each, "{xs:?}");
        }
        fn check<S: Multiset>(mut d: Satzger<S>, heartbeats: u64) {
            let many: Vec<f64> = (1..=300).map(|i| f64::from(i) / 300.0).collect();
            d.observe(&hb(0, 0.0));
            agree(&d, &[0.5, 0.9, 1.0]);
            let mut t = 0.0;
            for i in 1..heartbeats {
                t += 1000.0 + ((i * 7919) % 97) as f64;
                d.observe(&hb(i, t));
            }
            agree(&d, &[0.9, 0.5, 0.7, 0.1]);
            agree(&d, &[0.5, 1.5, 0.9]);
            agree(&d, &[1.5, 2.0]);
            assert_eq!(d.deadline(&d.prepare(1.5)), None);
            agree(&d, &many);
            let down: Vec<f64> = many.iter().rev().copied().collect();
            agree(&d, &down);
            let ts: Vec<Threshold> = many.iter().map(|&x| d.prepare(x)).collect();
            let mut out = vec![Nanos(7); ts.len()];
            d.deadlines(&ts, &mut out);
            assert!(out.windows(2).all(|w| w[0] <= w[1]) && out[0] < out[299], "{out:?}");
        }
        // A window of 10 is one leaf; one of 500 a tree of leaves, whose descent
        // needs its ranks in order.
        check(Satzger::<OrderStats>::new(Nanos::from_millis(1000), 10, 1.0), 40);
        check(Satzger::<OrderStats>::new(Nanos::from_millis(1000), 500, 1.0), 600);
        check(Satzger::<SortedVec>::with_store(Nanos::from_millis(1000), 10, 1.0), 40);
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
        assert_eq!(d.deadline(&d.prepare(0.125)), Some(Nanos(((t + 1100.0) * 1e6) as i64)));
        // threshold 1: the largest, 1032 / 0.9 = 1146.67 ms.
        assert_eq!(
            d.deadline(&d.prepare(1.0)),
            Some(Nanos(((t + 1032.0 / 0.9) * 1e6).ceil() as i64))
        );
    }

    #[test]
    fn prior_before_the_first_interval() {
        let mut d = Satzger::new(Nanos::from_millis(100), 10, 1.0);
        assert_eq!(d.deadline(&d.prepare(0.5)), None);
        d.observe(&hb(1, 0.0));
        assert_eq!(d.deadline(&d.prepare(0.5)), Some(Nanos::from_millis(100)));
        assert_eq!(d.level(Nanos::from_millis(100)), 1.0);
        assert_eq!(d.level(Nanos::from_millis(99)), 0.0);
    }

    #[test]
    fn a_long_sliding_window_stays_exact() {
        // 200,000 pushes through a window of 5,000: many splits, merges and levels.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut t = OrderStats::with_capacity(5000);
        let mut ring = std::collections::VecDeque::new();
        for i in 0..200_000 {
            let x = rng.random_range(0..1_000_000i64) + i;
            t.insert(x);
            ring.push_back(x);
            if ring.len() > 5000 {
                assert!(t.remove(ring.pop_front().unwrap()));
            }
            if i % 9973 == 0 {
                let mut v: Vec<i64> = ring.iter().copied().collect();
                v.sort_unstable();
                for k in [1, v.len().div_ceil(2), v.len()] {
                    assert_eq!(t.select(k), Some(v[k - 1]));
                }
                assert_eq!(t.count_le(v[v.len() / 3]), v.partition_point(|&y| y <= v[v.len() / 3]));
            }
        }
    }

    #[test]
    fn both_windows_hold_the_same_multiset() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut tree = OrderStats::with_capacity(100);
        let mut flat = <SortedVec as Multiset>::with_capacity(100);
        let mut ring: Vec<i64> = Vec::new();
        for step in 0..20_000 {
            let x = rng.random_range(0..60i64);
            if ring.len() < 100 {
                Multiset::insert(&mut tree, x);
                Multiset::insert(&mut flat, x);
                ring.push(x);
            } else {
                let old = ring[step % 100];
                ring[step % 100] = x;
                Multiset::replace(&mut tree, old, x);
                Multiset::replace(&mut flat, old, x);
            }
            let n = Multiset::len(&tree);
            assert_eq!(n, Multiset::len(&flat));
            let ranks: Vec<usize> = (1..=n).step_by(7).collect();
            let (mut a, mut b) = (vec![0; ranks.len()], vec![0; ranks.len()]);
            Multiset::select_sorted(&tree, &ranks, &mut a);
            Multiset::select_sorted(&flat, &ranks, &mut b);
            assert_eq!(a, b, "step {step}");
            let q = rng.random_range(-1..61i64);
            assert_eq!(Multiset::count_le(&tree, q), Multiset::count_le(&flat, q));
            assert_eq!(Multiset::select(&tree, n), Multiset::select(&flat, n));
        }
    }

    /// The widths of the tree's nodes (values of a leaf, children of an inner node),
    /// level by level from the root.
    fn levels(t: &OrderStats) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        let mut level = vec![&t.root];
        while !level.is_empty() {
            out.push(
                level
                    .iter()
                    .map(|n| match n {
                        Node::Leaf(v) => v.len(),
                        Node::Inner { kids, .. } => kids.len(),
                    })
                    .collect(),
            );
            level = level
                .iter()
                .flat_map(|n| match n {
                    Node::Inner { kids, .. } => kids.iter().collect(),
                    Node::Leaf(_) => Vec::new(),
                })
                .collect();
        }
        out
    }

    #[test]
    fn nodes_split_when_over_full_and_thin_ones_merge() {
        // A leaf holds 64 values; the 65th splits it in halves (32 and 33).
        let mut t = OrderStats::with_capacity(0);
        (0..64).for_each(|x| t.insert(x));
        assert_eq!(levels(&t), [vec![64]]);
        t.insert(64);
        assert_eq!(levels(&t), [vec![2], vec![32, 33]]);
        // A value equal to the left leaf's largest goes to the left leaf.
        t.insert(31);
        assert_eq!(levels(&t), [vec![2], vec![33, 33]]);
        assert!(t.remove(31));
        // A leaf merges with its neighbour when it has fewer than a quarter of 64
        // values and both fit in one: at 16 it stays, at 15 it merges (15 + 33 <= 64).
        (0..16).for_each(|x| assert!(t.remove(x)));
        assert_eq!(levels(&t), [vec![2], vec![16, 33]]);
        assert!(t.remove(16));
        assert_eq!(levels(&t), [vec![48]]);
        // Beside a neighbour of 60 a leaf of 15 does not fit: it stays thin.
        let mut t = OrderStats::with_capacity(0);
        (0..65).for_each(|x| t.insert(x));
        (65..92).for_each(|x| t.insert(x));
        assert_eq!(levels(&t), [vec![2], vec![32, 60]]);
        (0..17).for_each(|x| assert!(t.remove(x)));
        assert_eq!(levels(&t), [vec![2], vec![15, 60]]);
        // Ascending values fill the last leaf, which splits every 32 more: after 1056
        // values 31 leaves of 32 and one of 64 under the root; the 1057th makes a 33rd
        // leaf, and the root, over 32 children, splits in halves (16 and 17).
        let mut t = OrderStats::with_capacity(0);
        (0..1056).for_each(|x| t.insert(x));
        let mut leaves = vec![32; 31];
        leaves.push(64);
        assert_eq!(levels(&t), [vec![32], leaves]);
        t.insert(1056);
        let mut leaves = vec![32; 32];
        leaves.push(33);
        assert_eq!(levels(&t), [vec![2], vec![16, 17], leaves]);
        assert_eq!((t.len(), t.select(1057), t.count_le(500)), (1057, Some(1056), 501));
        // 15 more leaves on the right (32 children, full), then the left inner node
        // drained to one leaf: too wide together to merge with its neighbour, it keeps
        // one child, whose removals merge nothing (there is no sibling).
        (1057..1537).for_each(|x| t.insert(x));
        assert_eq!(levels(&t)[1], [16, 32]);
        (0..509).for_each(|x| assert!(t.remove(x)));
        assert_eq!(levels(&t)[..2], [vec![2], vec![1, 32]]);
        (509..512).for_each(|x| assert!(t.remove(x)));
        assert_eq!(levels(&t)[..1], [vec![32]]);
        assert_eq!((t.len(), t.select(1), t.count_le(600)), (1025, Some(512), 89));
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

    /// Feeds `receipts` to satzger's detector with its B-tree window, the same detector
    /// with a sorted vector, and a family of the latter over `thresholds` (window
    /// `window`, scale 1), and checks after each receipt that the sorted detector's
    /// order-statistic form and deadline, the family's rows (the window read at cached
    /// ranks) and its offsets are the B-tree detector's deadline at every threshold.
    /// Returns the sorted detector and the last receipt.
    fn assert_windows_agree(
        window: usize,
        thresholds: &[f64],
        receipts: impl IntoIterator<Item = Heartbeat>,
    ) -> (Satzger<SortedVec>, Nanos) {
        use crate::detector::{EstimatorFamily, Family};
        let eta = Nanos::from_millis(100);
        let mut tree = Satzger::new(eta, window, 1.0);
        let mut flat = Satzger::<SortedVec>::with_store(eta, window, 1.0);
        let mut family = EstimatorFamily::new(Satzger::<SortedVec>::with_store(eta, window, 1.0), thresholds);
        let (mut rows, mut offsets) = (vec![Nanos::ZERO; thresholds.len()], vec![0.0; thresholds.len()]);
        let mut scratch = rows.clone();
        let mut last = Nanos::ZERO;
        for h in receipts {
            tree.observe(&h);
            flat.observe(&h);
            family.observe(&h);
            family.deadlines(&mut rows);
            family.offsets(h.recv, &mut scratch, &mut offsets);
            let form = flat.form();
            let seq = h.seq;
            for (i, &t) in thresholds.iter().enumerate() {
                let want = tree.deadline(&tree.prepare(t));
                assert_eq!(form.deadline(form.prepare(t)), want, "threshold {t} after {seq}");
                assert_eq!(flat.deadline(&flat.prepare(t)), want, "threshold {t} after {seq}");
                assert_eq!(rows[i], want.unwrap_or(Nanos::MAX), "threshold {t} after {seq}");
                assert_eq!(
                    offsets[i],
                    crate::detector::offset_from(h.recv, want),
                    "threshold {t} after {seq}"
                );
            }
            last = h.recv;
        }
        (flat, last)
    }

    /// Intervals beyond 2^53 ns, where an odd interval has no `f64` of its own, and
    /// receipts past 2^62 ns: the family's rows (read at cached ranks only for windows
    /// within `[0, 2^52)`) are the detector's deadlines still, as rows and as offsets.
    #[test]
    fn a_window_of_intervals_beyond_2_53_gives_the_detectors_deadlines() {
        let steps = [
            0,
            100,
            (1i64 << 53) + 1,
            50,
            (1i64 << 54) + 3,
            70,
            90,
            110,
            130,
            1i64 << 62,
            10,
            20,
            30,
            40,
        ];
        let receipts = steps.iter().enumerate().scan(0i64, |at, (seq, &step)| {
            *at += step;
            Some(Heartbeat {
                seq: seq as u64,
                recv: Nanos(*at),
                send: None,
            })
        });
        assert_windows_agree(3, &[0.2, 0.5, 0.7, 1.0], receipts);
        // After the interval 2^53 + 1 joined: at threshold 1 the deadline is the first
        // instant whose `f64` distance reaches the interval's `f64`, 2^53, one before it.
        let mut tree = Satzger::new(Nanos::from_millis(100), 3, 1.0);
        for (seq, t) in [(1, 0), (2, 100), (3, (1i64 << 53) + 101)] {
            tree.observe(&Heartbeat {
                seq,
                recv: Nanos(t),
                send: None,
            });
        }
        let last = (1i64 << 53) + 101;
        assert_eq!(tree.deadline(&tree.prepare(1.0)), Some(Nanos(last + (1 << 53))));
    }

    /// The order-statistic form gives the detector's own deadline at every threshold
    /// (at or below 1/n, between ranks, 1, above 1, NaN), before the first interval (the
    /// prior alone), while the window fills and once it slides; and the family's rows
    /// (the window read at cached ranks) are those deadlines.
    #[test]
    fn the_order_statistic_form_is_the_deadline() {
        let eta = Nanos::from_millis(100);
        let thresholds = [-1.0, 0.0, 0.01, 0.2, 0.5, 0.55, 0.999, 1.0, 1.5, f64::NAN];
        assert_eq!(
            Satzger::new(eta, 9, 1.0).form(),
            Form::General,
            "a B-tree window is not one sorted slice"
        );
        assert_eq!(
            Satzger::<SortedVec>::with_store(eta, 9, 1.0).form(),
            Form::Ranked {
                last: None,
                sorted: &[100_000_000]
            }
        );
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut at = 0.0;
        let receipts = (0..40).map(|seq| {
            at += rng.random_range(50.0..150.0);
            hb(seq, at)
        });
        let (flat, last) = assert_windows_agree(9, &thresholds, receipts);
        // Rank 1 of 9 at 0.01, rank 5 at 0.5, the largest at 1: a full window.
        let Form::Ranked { sorted, .. } = flat.form() else {
            panic!("ranked")
        };
        assert_eq!(sorted.len(), 9);
        assert_eq!(flat.form().deadline(0.5), Some(last + Nanos(sorted[4])));
        assert_eq!(flat.form().deadline(1.0), Some(last + Nanos(sorted[8])));
        assert_eq!(flat.form().deadline(0.01), Some(last + Nanos(sorted[0])));
    }

    #[test]
    fn deadline_consistent_with_level() {
        let knobs: Vec<f64> = (1..=40).map(|i| i as f64 * 0.025).collect();
        let eta = Nanos::from_millis(100);
        check_deadlines(Satzger::new(eta, 30, 1.0), &knobs, eta, 0.0);
        check_deadlines(Satzger::new(eta, 7, 0.9), &knobs, eta, 0.0);
    }
}

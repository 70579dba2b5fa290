//! The replay of a timeout-style family: deadlines `τ_j(k) = R(b_j + k)`, one base time
//! `b_j` per receipt, one shift `k` per knob value (`fixed`, `chen`, `2w`, `bertier`,
//! `nfd-s`) and `R` the monitor's check tick: `R(t) = ⌈t/Δc⌉·Δc`, or `t` itself on a
//! continuous monitor (`Δc = 0`).
//!
//! `R` is non-decreasing, so with the shifts sorted every quantity of
//! [evaluation.md](crate::docs::evaluation) §3–§4 still changes with the knob at a few
//! **critical values** per gap or crash point, found by binary search on the rounded
//! deadline (`R(t) <= x` exactly when `t` is at most the last tick at or before `x`):
//!
//! - gap `j` is suspected at the knobs with `R(b_j + k) < a_{j+1}` (the first `c_j`
//!   values) and starts with a deadline at or before its receipt at the knobs with
//!   `R(b_j + k) <= a_j` (the first `e_j`); it is a mistake on `[min(e_j, c_{j-1}), c_j)`,
//!   since the gap before ended in trust exactly from `c_{j-1}` on;
//! - its suspect time is `a_{j+1} - a_j` below `e_j` and `a_{j+1} - R(b_j + k)` on
//!   `[e_j, c_j)`;
//! - crash point `j` has `T_D = max(A_j, R(b_j + k) - origin_j)` with
//!   `A_j = a_j - origin_j`: `A_j` below `e_j`, `R(b_j + k) - origin_j` from there; it
//!   counts for completeness below the first knob with `R(b_j + k) - origin_j > D` (if
//!   `A_j <= D`). The exception is a late receipt that continues a suspicion (knob
//!   indices below both `e_j` and `c_{j-1}`): its `T_D` is `max(0, P_j - origin_j)` with
//!   `P_j` the start of that suspicion ([evaluation.md](crate::docs::evaluation) §4),
//!   found by following the chain of late receipts from the first receipt on at those
//!   indices only; such **chained** pairs are few and correct the totals one by one.
//!
//! Each is a constant or linear term added over a range of knob indices, so difference
//! arrays and prefix sums give every knob value's totals. On a ticking monitor the
//! rounding adds `R(t) - t = (r - s) mod Δc` to each deadline, with `r = -b_j mod Δc`
//! the base's residue and `s = k mod Δc` the shift's: that is `r - s`, plus `Δc` when
//! `r < s`. Summed over the gaps or crash points active at a knob index, it is the sum
//! of their residues (another difference array), less `s` per point, plus `Δc` times
//! the number of them with `r < s`: a Fenwick tree over the residues' ranks among the
//! shifts' residues, swept over the knob indices, counts those (the points that join at
//! the first index, most of them, are counted per rank instead of as events). Each
//! receipt's critical indices are computed once, from a table of the shifts (a bucket
//! of equal width, then the few shifts in it, instead of a binary search), and the
//! ticks at or before its times from those of the receipt before, since the times
//! mostly grow: a residue (a product by `1/Δc`, not a division, of the time's distance
//! from a tick near the trace's start) only when a time crosses a tick.
//!
//! The largest `T_D` is `max(max A, k - s + max(max_{r >= s} V, max_{r < s} V + Δc))`
//! with `V_j = B_j + r_j` and `B_j = b_j - origin_j` (`max B + k` on a continuous
//! monitor). A percentile is the smallest `x` with `#{j : T_D(j) <= x} >= rank`; that
//! count is `#{V_j <= y}` over the points with `r >= s` plus `#{V_j <= y - Δc}` over
//! those with `r < s`, `y = x - k + s` (`#{B_j <= x - k}` on a continuous monitor),
//! from the sorted `V` (radix-sorted with the residue's rank packed into one `u64` key)
//! and a bit set over its positions marking the points with `r < s` (the knob indices
//! taken in the order of `s`, so that the set only grows), with a count before each
//! block of its words, corrected by the few crash points whose deadline is at or before
//! their receipt (the only ones where `T_D` is not `R(b_j + k) - origin_j`); a bisection
//! over `x` finds it, each of its searches of `V` within the positions its bounds gave
//! so far. The work is
//! `O(m log K + m log m)` for `K` knob values plus the late crash points, instead of
//! `O(m·K)`.

use crate::detector::{Family, Form};
use crate::metrics::{Detection, Metrics, nearest_rank};
use crate::replay::{Options, origin};
use crate::time::Nanos;
use crate::trace::Receipts;

/// The late (crash point, knob) pairs the percentile search handles one by one, per
/// evaluated receipt; beyond that the general engine is used.
const LATE_BUDGET: usize = 16;

/// Number of sorted values `< x`.
#[inline]
fn count_lt(sorted: &[i64], x: i128) -> usize {
    if x > i128::from(i64::MAX) {
        sorted.len()
    } else if x <= i128::from(i64::MIN) {
        0
    } else {
        let x = x as i64;
        sorted.partition_point(|&v| v < x)
    }
}

/// Number of sorted values `<= x`.
#[inline]
fn count_le(sorted: &[i64], x: i128) -> usize {
    count_lt(sorted, x + 1)
}

/// Adds `v` on the index range `[lo, hi)` of a difference array.
#[inline]
pub(super) fn add<T: Copy + std::ops::AddAssign + std::ops::SubAssign>(d: &mut [T], lo: usize, hi: usize, v: T) {
    if lo < hi {
        d[lo] += v;
        d[hi] -= v;
    }
}

/// Prefix sums of a difference array, one per knob index.
pub(super) fn totals<T: Copy + Default + std::ops::AddAssign>(d: &[T]) -> Vec<T> {
    let mut run = T::default();
    d[..d.len() - 1]
        .iter()
        .map(|&x| {
            run += x;
            run
        })
        .collect()
}

/// A crash point whose deadline is at or before its receipt for the first `e` knob
/// values.
#[derive(Clone, Copy)]
struct Late {
    e: usize,
    a: i64,
    b: i64,
    r: i64,
    /// The rank of `r` among the shifts' residues (ticking monitors).
    rank: u32,
}

/// A late crash point at one knob index whose permanent suspicion began before its
/// receipt (a chain of late receipts): its detection time is `value`, not `a`.
#[derive(Clone, Copy)]
struct Chained {
    index: usize,
    a: i64,
    value: i64,
}

/// The chained (crash point, knob) pairs handled one by one, per evaluated receipt.
const CHAINED_BUDGET: usize = 2;

/// The monitor's tick `Δc` as the replay rounds with it (0 = continuous).
///
/// Residues of small values (shifts, differences of residues) are taken of the value
/// itself; those of trace times (`floor`, `up`, `base_residue`) of their distance from
/// an `anchor`, a tick near the trace's first receipt, so that a trace stamped with
/// wall-clock times (2^60 ns since 1970) takes the same fast path as one starting at 0.
#[derive(Clone, Copy)]
struct Tick {
    /// `Δc` in nanoseconds.
    c: i64,
    /// `1/Δc` (0 when continuous).
    inv: f64,
    /// A multiple of `Δc` (0 when continuous).
    anchor: i128,
}

impl Tick {
    /// The tick `Δc` (0 = continuous), anchored at the last tick at or before `near`.
    fn new(interval: i64, near: i64) -> Self {
        let mut tick = Tick {
            c: interval,
            inv: if interval > 0 { 1.0 / interval as f64 } else { 0.0 },
            anchor: 0,
        };
        tick.anchor = i128::from(near) - tick.residue(i128::from(near));
        tick
    }

    /// `Δc` (0 = continuous).
    #[inline(always)]
    fn interval(self) -> i128 {
        i128::from(self.c)
    }

    /// The last tick at or before the time `t`.
    #[inline(always)]
    fn floor(self, t: i128) -> i128 {
        t - self.residue(t - self.anchor)
    }

    /// `R(t)`, the first tick at or after the time `t`.
    #[inline(always)]
    fn up(self, t: i128) -> i128 {
        t + self.residue(self.anchor - t)
    }

    /// `t mod Δc` (0 when continuous).
    #[inline(always)]
    fn residue(self, t: i128) -> i128 {
        const NEAR: i64 = 1 << 50;
        let c = self.c;
        if c == 0 {
            return 0;
        }
        let small = t as i64;
        if i128::from(small) == t && small.unsigned_abs() < NEAR as u64 && c < NEAR {
            // Without a division: `t` and `Δc` are exact in `f64`, and the product
            // `t·(1/Δc)` is within `|t/Δc|·2^-52 < 1/4` of `t/Δc`, so its truncation is
            // `⌊t/Δc⌋` or one of its neighbours, and one correction either way gives the
            // residue.
            let q = (small as f64 * self.inv) as i64;
            let r = small - q * c;
            let r = if r < 0 { r + c } else { r };
            i128::from(if r >= c { r - c } else { r })
        } else {
            t.rem_euclid(i128::from(c))
        }
    }

    /// `R(t) - t` for a base of residue `r = -b mod Δc` and a shift of residue `s`.
    #[inline]
    fn rounding(self, r: i64, s: i64) -> i128 {
        self.residue(i128::from(r) - i128::from(s))
    }
}

/// The last tick at or before times that mostly grow (the receipts in order, their send
/// times, the bases that follow them): the tick found last is kept, and a time less than
/// `Δc` past it costs a comparison instead of a residue.
struct Cursor {
    tick: Tick,
    at: i128,
}

impl Cursor {
    fn new(tick: Tick) -> Self {
        Cursor { tick, at: tick.anchor }
    }

    /// The last tick at or before the time `t` (`t` itself when continuous).
    #[inline(always)]
    fn floor(&mut self, t: i128) -> i128 {
        if self.tick.c == 0 {
            return t;
        }
        let past = t - self.at;
        if past < 0 || past >= self.tick.interval() {
            self.at = self.tick.floor(t);
        }
        self.at
    }

    /// `r = -b mod Δc = R(b) - b` for a base time `b` (0 when continuous): `R(b)` is the
    /// tick after the last one at or before `b - 1`.
    #[inline(always)]
    fn base_residue(&mut self, b: i128) -> i64 {
        if self.tick.c == 0 {
            return 0;
        }
        (self.floor(b - 1) + self.tick.interval() - b) as i64
    }
}

/// A Fenwick tree of counts.
struct Fenwick(Vec<i64>);

impl Fenwick {
    fn new(len: usize) -> Self {
        Fenwick(vec![0; len + 1])
    }

    /// Adds `v` at position `pos`.
    fn add(&mut self, pos: usize, v: i64) {
        let mut i = pos + 1;
        while i < self.0.len() {
            self.0[i] += v;
            i += i & i.wrapping_neg();
        }
    }

    /// The total of positions `[0, end)`.
    fn prefix(&self, end: usize) -> i64 {
        let (mut i, mut sum) = (end, 0);
        while i > 0 {
            sum += self.0[i];
            i &= i - 1;
        }
        sum
    }
}

/// A set of positions that grows in batches, with counts of the positions below any
/// point: a bit per position, a count per block of 8 words of bits kept as positions
/// are inserted, and the count before each block, brought up to date by
/// [`seal`](Marks::seal) after a batch (a prefix sum over the blocks).
struct Marks {
    bits: Vec<u64>,
    in_block: Vec<u32>,
    before: Vec<u32>,
    stale: bool,
}

impl Marks {
    /// Words of bits per counted block.
    const BLOCK: usize = 8;

    fn new(len: usize) -> Self {
        let words = len.div_ceil(64);
        let blocks = words.div_ceil(Self::BLOCK);
        Marks {
            bits: vec![0; words],
            in_block: vec![0; blocks],
            before: vec![0; blocks + 1],
            stale: false,
        }
    }

    fn insert(&mut self, pos: usize) {
        let (word, bit) = (pos / 64, 1u64 << (pos % 64));
        self.in_block[word / Self::BLOCK] += u32::from(self.bits[word] & bit == 0);
        self.bits[word] |= bit;
        self.stale = true;
    }

    /// Brings the counts up to date with the positions inserted so far.
    fn seal(&mut self) {
        if self.stale {
            let mut run = 0;
            for (b, &n) in self.before.iter_mut().zip(&self.in_block) {
                *b = run;
                run += n;
            }
            *self.before.last_mut().expect("one count past the blocks") = run;
            self.stale = false;
        }
    }

    /// The number of positions `< end` (sealed), `end` at most the length.
    #[inline]
    fn below(&self, end: usize) -> usize {
        let (word, bit) = (end / 64, end % 64);
        let block = word / Self::BLOCK;
        let whole: u32 = self.bits[block * Self::BLOCK..word]
            .iter()
            .map(|w| w.count_ones())
            .sum();
        let partial = if bit == 0 {
            0
        } else {
            (self.bits[word] & ((1u64 << bit) - 1)).count_ones()
        };
        (self.before[block] + whole + partial) as usize
    }
}

/// Groups `(key, value)` pairs by key in `0..keys` (a counting sort): the values of key
/// `k` are `values[start[k]..start[k + 1]]`.
fn group(keys: usize, pairs: impl Iterator<Item = (u32, u32)> + Clone) -> (Vec<usize>, Vec<u32>) {
    let mut start = vec![0usize; keys + 1];
    for (k, _) in pairs.clone() {
        start[k as usize + 1] += 1;
    }
    for k in 0..keys {
        start[k + 1] += start[k];
    }
    let mut fill = start.clone();
    let mut values = vec![0u32; start[keys]];
    for (k, v) in pairs {
        values[fill[k as usize]] = v;
        fill[k as usize] += 1;
    }
    (start, values)
}

/// A sorted list of values that counts those `<= x` in a few steps: the range of the
/// values is cut into buckets of equal width, about two per value; `start[q]` is the
/// number of values in the buckets before `q`, and only those in `x`'s own bucket are
/// searched. The bucket of a value is non-decreasing in the value (a conversion to
/// `f64`, the difference from the least value's and a product there, then a truncation
/// that saturates at 0: each monotone whatever its rounding), so a value in an earlier
/// bucket than `x`'s is below it and one in a later bucket above it: the count is exact.
struct Table {
    sorted: Vec<i64>,
    start: Vec<u32>,
    lo: i64,
    hi: i64,
    scale: f64,
}

impl Table {
    /// The table of `sorted` (ascending; duplicates allowed).
    fn new(sorted: Vec<i64>) -> Self {
        debug_assert!(sorted.is_sorted());
        let (lo, hi) = (
            sorted.first().copied().unwrap_or(0),
            sorted.last().copied().unwrap_or(0),
        );
        let buckets = (2 * sorted.len()).next_power_of_two();
        let scale = buckets as f64 / (hi as f64 - lo as f64 + 1.0);
        let mut table = Table {
            sorted,
            start: vec![0; buckets + 1],
            lo,
            hi,
            scale,
        };
        let mut k = 0;
        for q in 0..=buckets {
            while k < table.sorted.len() && table.bucket(table.sorted[k]) < q {
                k += 1;
            }
            table.start[q] = k as u32;
        }
        table
    }

    /// The bucket of `v`, `lo <= v <= hi`.
    #[inline(always)]
    fn bucket(&self, v: i64) -> usize {
        (((v as f64 - self.lo as f64) * self.scale) as usize).min(self.start.len() - 2)
    }

    /// The number of values `<= x`.
    #[inline(always)]
    fn count_le(&self, x: i128) -> usize {
        if self.sorted.is_empty() || x < i128::from(self.lo) {
            0
        } else if x >= i128::from(self.hi) {
            self.sorted.len()
        } else {
            let x = x as i64;
            let q = self.bucket(x);
            let (from, to) = (self.start[q] as usize, self.start[q + 1] as usize);
            from + self.sorted[from..to].partition_point(|&v| v <= x)
        }
    }
}

/// The shifts' residues modulo the tick, sorted and distinct, and the rank of a base's
/// residue `r` among them: `r < s_i` exactly when `rank(r) <= position of s_i`.
struct Residues {
    table: Table,
}

impl Residues {
    fn new(shifts: &[i64], tick: Tick) -> Self {
        let mut sorted: Vec<i64> = shifts.iter().map(|&k| tick.residue(i128::from(k)) as i64).collect();
        sorted.sort_unstable();
        sorted.dedup();
        Residues {
            table: Table::new(sorted),
        }
    }

    /// The distinct residues, in order.
    fn sorted(&self) -> &[i64] {
        &self.table.sorted
    }

    /// The number of shift residues `<= r`.
    #[inline(always)]
    fn rank(&self, r: i64) -> usize {
        self.table.count_le(i128::from(r))
    }

    /// The position of the shift residue `s`.
    fn position(&self, s: i64) -> usize {
        self.sorted().partition_point(|&x| x < s)
    }
}

/// The pairs `(V_j, rank_j)` sorted, `rank_j < slots`: the values in order, and their
/// positions in that order grouped by rank (as [`group`] gives them: the positions of
/// rank `q` are `positions[start[q]..start[q + 1]]`, in increasing order). Sorted as one
/// `u64` key each (the offset from the least `V` above the rank's bits, by a radix sort)
/// when the spread of `V` leaves room for the rank, which it does for any trace of less
/// than about 2^55 ns; as pairs otherwise.
fn sorted_by_value(mut vs: Vec<i64>, ranks: Vec<u32>, slots: usize) -> (Vec<i64>, (Vec<usize>, Vec<u32>)) {
    let bits = usize::BITS - slots.leading_zeros();
    let (lo, hi) = (
        vs.iter().min().copied().unwrap_or(0),
        vs.iter().max().copied().unwrap_or(0),
    );
    let spread = i128::from(hi) - i128::from(lo);
    if bits < 64 && spread < 1i128 << (64 - bits) {
        // The keys are built, sorted and read back in the values' own buffer, and the
        // positions are placed by rank as the keys are read back.
        let mask = (1u64 << bits) - 1;
        let mut start = vec![0usize; slots + 1];
        for (v, &q) in vs.iter_mut().zip(&ranks) {
            *v = (((v.wrapping_sub(lo) as u64) << bits) | u64::from(q)) as i64;
            start[q as usize + 1] += 1;
        }
        drop(ranks);
        for q in 0..slots {
            start[q + 1] += start[q];
        }
        radsort::sort_by_key(&mut vs, |&k| k as u64);
        let mut fill = start.clone();
        let mut positions = vec![0u32; vs.len()];
        for (p, v) in vs.iter_mut().enumerate() {
            let q = (*v as u64 & mask) as usize;
            positions[fill[q]] = p as u32;
            fill[q] += 1;
            *v = lo.wrapping_add((*v as u64 >> bits) as i64);
        }
        (vs, (start, positions))
    } else {
        let mut pairs: Vec<(i64, u32)> = vs.into_iter().zip(ranks).collect();
        pairs.sort_unstable();
        let by_rank = group(slots, pairs.iter().enumerate().map(|(p, &(_, q))| (q, p as u32)));
        (pairs.into_iter().map(|(v, _)| v).collect(), by_rank)
    }
}

/// Replays `family`, fresh, over `receipts`. `None` when it is not a timeout-style family,
/// some deadline is infinite, or too many deadlines fall at or before their receipt: the
/// caller then uses the general engine.
pub(super) fn replay(receipts: &Receipts, family: &mut dyn Family, opts: &Options, l: Nanos) -> Option<Vec<Metrics>> {
    let Form::Shifted { check, .. } = family.form() else {
        return None;
    };
    // Each knob value as the shift it adds to the base, in whole nanoseconds.
    let shifts: Vec<i64> = family.knobs()?.iter().map(|&k| Nanos::ceil_f64(k).0).collect();
    let width = shifts.len();
    if width == 0 {
        return Some(Vec::new());
    }
    let tick = Tick::new(check.interval().0, receipts.recv.first().map_or(0, |t| t.0));
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by_key(|&i| shifts[i]);
    let ks: Vec<i64> = order.iter().map(|&i| shifts[i]).collect();
    let kmax = i128::from(ks[width - 1]);

    let a = &receipts.recv;
    let m = a.len();
    let w = opts.warmup;
    let n = m - w;
    let mut base = Vec::with_capacity(m);
    for j in 0..m {
        family.observe(&receipts.heartbeat(j));
        let Form::Shifted {
            base: Some(b),
            check: c,
        } = family.form()
        else {
            return None;
        };
        // A deadline below 0 (the detector's is 0, a ticking monitor's own tick here may
        // be below 0) needs no care: at or before its receipt, a deadline has the same
        // effect wherever it lies.
        if c != check || i128::from(b) + kmax + tick.interval() >= i128::from(i64::MAX) {
            return None;
        }
        base.push(b);
    }
    let b_at = |j: usize| i128::from(base[j]);
    let at = |j: usize| i128::from(a[j].0);
    // Knob indices and residue ranks are held in `u32` (a rank and an event kind in one).
    if width >= (u32::MAX / 4) as usize {
        return None;
    }
    let residues = Residues::new(&ks, tick);
    let knobs = Table::new(ks);
    let ks = &knobs.sorted;
    // Rounding events (ticking monitors only): (knob index, rank of the residue · 3 +
    // kind), kind 0 a gap joining the suspected part, 1 leaving it, 2 a crash point
    // joining the deadline part. A gap suspected at every knob value from index 0 (most
    // of them) is counted per rank instead; so is a crash point whose deadline is after
    // its receipt at every knob value, from the counts of the ranks less those of the
    // late crash points.
    let mut events: Vec<(u32, u32)> = Vec::new();
    let mut first_gaps = vec![0i64; residues.sorted().len() + 1];

    // One pass over the receipts: gap j (`w <= j < m - 1`) and crash point j
    // (`j >= w`; the chains of late receipts are followed from the first receipt on)
    // share their critical indices and the base's residue. `e_j` counts the knob values
    // whose deadline is at or before receipt j (`b_j + k <= ⌊a_j⌋`), `c_j` those that
    // suspect gap j (`R(b_j + k) < a_{j+1}`, that is `b_j + k <= ⌊a_{j+1} - 1⌋`, the tick
    // before `a_{j+1}` when it is on one). The evaluated span starts in trust: gap w-1
    // counts as ended in trust at every knob value.
    let mut d_mistakes = vec![0i64; width + 1];
    let mut d_full = vec![0i128; width + 1];
    let mut d_part = vec![0i128; width + 1];
    let mut d_part_count = vec![0i64; width + 1];
    let mut d_part_r = vec![0i128; width + 1];
    let d = i128::from(opts.deadline.0);
    let mut d_sum_a = vec![0i128; width + 1];
    let mut d_sum_b = vec![0i128; width + 1];
    let mut d_count_b = vec![0i64; width + 1];
    let mut d_within = vec![0i64; width + 1];
    // V_j = B_j + r_j and the rank of r_j, per evaluated crash point.
    let mut vs = Vec::with_capacity(n);
    let mut ranks_r: Vec<u32> = Vec::with_capacity(if tick.c > 0 { n } else { 0 });
    let mut late = Vec::new();
    let mut late_pairs = 0usize;
    let mut chain_work = 0usize;
    let mut chained: Vec<Chained> = Vec::new();
    // P_{j-1} at the knob indices below e_{j-1}, and P_j being built.
    let (mut prev_p, mut cur_p): (Vec<i128>, Vec<i128>) = (Vec::new(), Vec::new());
    let mut max_a = i64::MIN;
    // The ticks at or before the receipts, the bases and `D` past the send times.
    let (mut at_receipt, mut at_base, mut at_deadline) = (Cursor::new(tick), Cursor::new(tick), Cursor::new(tick));
    let (mut c_before, mut floor_next) = (0usize, at_receipt.floor(at(0)));
    for j in 0..m {
        let (aj, b) = (at(j), b_at(j));
        let e = knobs.count_le(floor_next - b);
        let c = if j + 1 < m {
            let next = at(j + 1);
            floor_next = at_receipt.floor(next);
            let before = if tick.c == 0 {
                next - 1
            } else if floor_next == next {
                next - tick.interval()
            } else {
                floor_next
            };
            knobs.count_le(before - b)
        } else {
            0
        };
        let c_prev = std::mem::replace(&mut c_before, c);
        // The base's residue `r = -b mod Δc` and its rank among the shifts' residues
        // (ticking monitors; `r = 0` on a continuous one).
        let (r, rank) = if j >= w && tick.c > 0 {
            let r = at_base.base_residue(b);
            (r, residues.rank(r) as u32)
        } else {
            (0, 0)
        };
        if j >= w && j + 1 < m {
            let next = at(j + 1);
            add(&mut d_mistakes, e.min(if j == w { 0 } else { c_prev }), c, 1);
            add(&mut d_full, 0, e.min(c), next - aj);
            add(&mut d_part, e, c, next - b);
            add(&mut d_part_count, e, c, 1);
            if tick.c > 0 && e < c {
                add(&mut d_part_r, e, c, i128::from(r));
                if e == 0 {
                    first_gaps[rank as usize] += 1;
                } else {
                    events.push((e as u32, rank * 3));
                }
                if c < width {
                    events.push((c as u32, rank * 3 + 1));
                }
            }
        }

        // Below e_j the deadline is at or before the receipt: P_j continues the
        // suspicion of gap j-1 at the indices below c_{j-1} (where it ended in
        // suspicion), and is a_j from there.
        let c_prev = c_prev.min(e);
        cur_p.clear();
        for (i, &k) in ks[..c_prev].iter().enumerate() {
            cur_p.push(if i < prev_p.len() {
                prev_p[i]
            } else {
                tick.up(b_at(j - 1) + i128::from(k))
            });
        }
        cur_p.resize(e, aj);
        chain_work += e;
        if chain_work > LATE_BUDGET * m {
            return None;
        }
        std::mem::swap(&mut prev_p, &mut cur_p);
        if j < w {
            continue;
        }
        let o = receipts.send.as_ref().map_or(a[j], |s| s[j]);
        let big_a = aj - i128::from(o.0);
        let big_b = b - i128::from(o.0);
        let (big_a, big_b) = (i64::try_from(big_a).ok()?, i64::try_from(big_b).ok()?);
        for (i, &p) in prev_p[..c_prev].iter().enumerate() {
            let value = i64::try_from((p - i128::from(o.0)).max(0)).ok()?;
            if value != big_a {
                chained.push(Chained {
                    index: i,
                    a: big_a,
                    value,
                });
                if chained.len() > CHAINED_BUDGET * n {
                    return None;
                }
            }
        }
        add(&mut d_sum_a, 0, e, i128::from(big_a));
        add(&mut d_sum_b, e, width, i128::from(big_b) + i128::from(r));
        add(&mut d_count_b, e, width, 1);
        if tick.c > 0 && e > 0 && e < width {
            events.push((e as u32, rank * 3 + 2));
        }
        if i128::from(big_a) <= d {
            add(
                &mut d_within,
                0,
                knobs.count_le(at_deadline.floor(d + i128::from(o.0)) - b),
                1,
            );
        }
        max_a = max_a.max(big_a);
        vs.push(i64::try_from(i128::from(big_b) + i128::from(r)).ok()?);
        if tick.c > 0 {
            ranks_r.push(rank);
        }
        if e > 0 {
            late_pairs += e;
            if late_pairs > LATE_BUDGET * n {
                return None;
            }
            late.push(Late {
                e,
                a: big_a,
                b: big_b,
                r,
                rank,
            });
        }
    }
    late.sort_unstable_by_key(|x| std::cmp::Reverse(x.e));
    chained.sort_unstable_by_key(|x| x.index);

    let mistakes = totals(&d_mistakes);
    let full = totals(&d_full);
    let part = totals(&d_part);
    let part_count = totals(&d_part_count);
    let part_r = totals(&d_part_r);
    let sum_a = totals(&d_sum_a);
    let sum_b = totals(&d_sum_b);
    let count_b = totals(&d_count_b);
    let within = totals(&d_within);

    // The crash points by V, and (ticking monitors) their positions in that order grouped
    // by the rank of their residue.
    let slots = residues.sorted().len() + 1;
    // The largest V over the residue ranks below each rank, and at or above it.
    let (mut max_low, mut max_high) = (vec![i64::MIN; slots + 1], vec![i64::MIN; slots + 1]);
    let mut by_rank: (Vec<usize>, Vec<u32>) = (vec![0; slots + 1], Vec::new());
    let sorted_v: Vec<i64> = if tick.c > 0 {
        let values;
        (values, by_rank) = sorted_by_value(vs, ranks_r, slots);
        // The largest V of a rank is at its last position (the positions of a rank are
        // in order, and so are the values).
        let at_rank: Vec<i64> = (0..slots)
            .map(|q| {
                by_rank.1[by_rank.0[q]..by_rank.0[q + 1]]
                    .last()
                    .map_or(i64::MIN, |&p| values[p as usize])
            })
            .collect();
        for q in 0..slots {
            max_low[q + 1] = max_low[q].max(at_rank[q]);
        }
        for q in (0..slots).rev() {
            max_high[q] = max_high[q + 1].max(at_rank[q]);
        }
        values
    } else {
        let mut v = vs;
        radsort::sort(&mut v);
        max_high[0] = v.last().copied().unwrap_or(i64::MIN);
        v
    };

    // Per knob index, the suspected gaps and the deadline-part crash points whose base
    // residue is below the shift's (each adds a whole tick to its rounding).
    let mut gaps_below = vec![0i64; width];
    let mut crashes_below = vec![0i64; width];
    if tick.c > 0 {
        let (start, values) = group(width, events.iter().copied());
        let (mut gaps, mut crashes) = (Fenwick::new(slots), Fenwick::new(slots));
        // The crash points of each rank (`by_rank`) less the late ones are those whose
        // deadline is after their receipt at every knob value.
        let mut first_crashes: Vec<i64> = (0..slots).map(|q| (by_rank.0[q + 1] - by_rank.0[q]) as i64).collect();
        for x in &late {
            first_crashes[x.rank as usize] -= 1;
        }
        for (q, (&g, &c)) in first_gaps.iter().zip(&first_crashes).enumerate() {
            gaps.add(q, g);
            crashes.add(q, c);
        }
        for i in 0..width {
            for &v in &values[start[i]..start[i + 1]] {
                let rank = (v / 3) as usize;
                match v % 3 {
                    0 => gaps.add(rank, 1),
                    1 => gaps.add(rank, -1),
                    _ => crashes.add(rank, 1),
                }
            }
            let below = residues.position(tick.residue(i128::from(ks[i])) as i64) + 1;
            gaps_below[i] = gaps.prefix(below);
            crashes_below[i] = crashes.prefix(below);
        }
    }

    let ranks = [nearest_rank(0.5, n), nearest_rank(0.99, n)];
    let origin = origin(receipts);
    let mut out = vec![None; width];
    // Knob indices in the order of their shift's residue: the crash points with a smaller
    // residue (`r < s`), in a Fenwick tree over the ranks of `V`, only grow.
    let mut by_residue: Vec<usize> = (0..width).collect();
    by_residue.sort_by_key(|&i| tick.residue(i128::from(ks[i])));
    let mut low = Marks::new(if tick.c > 0 { sorted_v.len() } else { 0 });
    let mut joined_ranks = 0;
    let (mut late_t, mut late_a): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    let (mut chained_a, mut chained_v): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    for i in by_residue {
        let k = i128::from(ks[i]);
        let s = tick.residue(k) as i64;
        // Ranks `< q_low` hold the residues below `s`.
        let q_low = if tick.c > 0 { residues.position(s) + 1 } else { 0 };
        while joined_ranks < q_low {
            for &p in &by_rank.1[by_rank.0[joined_ranks]..by_rank.0[joined_ranks + 1]] {
                low.insert(p as usize);
            }
            joined_ranks += 1;
        }
        low.seal();
        // The late crash points of index `i` (`e > i`): their deadline is at or before
        // their receipt, `T_D = A`.
        let late_here = &late[..late.partition_point(|x| x.e > i)];
        late_t.clear();
        late_a.clear();
        for x in late_here {
            late_t.push((i128::from(x.b) + k + tick.rounding(x.r, s)) as i64);
            late_a.push(x.a);
        }
        late_t.sort_unstable();
        late_a.sort_unstable();
        // The chained pairs at this index, whose value replaces their `A_j`.
        let here = &chained[chained.partition_point(|x| x.index < i)..chained.partition_point(|x| x.index <= i)];
        chained_a.clear();
        chained_v.clear();
        let (mut chained_sum, mut chained_within) = (0i128, 0i64);
        for c in here {
            chained_a.push(c.a);
            chained_v.push(c.value);
            chained_sum += i128::from(c.value) - i128::from(c.a);
            chained_within += i64::from(i128::from(c.value) <= d) - i64::from(i128::from(c.a) <= d);
        }
        chained_a.sort_unstable();
        chained_v.sort_unstable();
        let top = i128::from(max_high[q_low]).max(i128::from(max_low[q_low]) + tick.interval());
        let bound = i128::from(max_a).max(top + k - i128::from(s));
        // #{j : T_D(j) <= x}: max(A_j, R(b_j + k) - origin_j), corrected at the late
        // crash points and the chained pairs. The bisection over `x` keeps, for each of
        // its two searches of the sorted `V`, the positions its bounds gave: every later
        // search is within them (the values before the lower position are at most the
        // lower bound's `y`, those from the upper one above the upper bound's), so the
        // searches narrow with the bisection and its last steps stay in cache.
        let smallest_with = |r: usize| {
            let (mut lo, mut hi) = (-1i128, bound);
            let len = sorted_v.len();
            let ([mut all_lo, mut all_hi], [mut below_lo, mut below_hi]) = ([0, len], [0, len]);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let y = mid - k + i128::from(s);
                let all = all_lo + count_le(&sorted_v[all_lo..all_hi], y);
                let (base, below) = if tick.c > 0 {
                    let below = below_lo + count_le(&sorted_v[below_lo..below_hi], y - tick.interval());
                    (all - low.below(all) + low.below(below), below)
                } else {
                    (all, 0)
                };
                let count = base - count_le(&late_t, mid) + count_le(&late_a, mid) - count_le(&chained_a, mid)
                    + count_le(&chained_v, mid);
                if count >= r {
                    (hi, all_hi, below_hi) = (mid, all, below);
                } else {
                    (lo, all_lo, below_lo) = (mid, all, below);
                }
            }
            hi
        };
        let [p50, p99] = ranks.map(|r| Nanos(smallest_with(r) as i64));
        // A chained pair lowers a value, which may have been the largest.
        let max = if chained_a.is_empty() { bound } else { smallest_with(n) };
        let s128 = i128::from(s);
        let rounding_part = part_r[i] - i128::from(part_count[i]) * s128 + i128::from(gaps_below[i]) * tick.interval();
        let suspect = full[i] + part[i] - i128::from(part_count[i]) * k - rounding_part;
        let rounding_sum = -i128::from(count_b[i]) * s128 + i128::from(crashes_below[i]) * tick.interval();
        let sum = sum_a[i] + sum_b[i] + i128::from(count_b[i]) * k + rounding_sum + chained_sum;
        out[order[i]] = Some(Metrics {
            heartbeats: n as u64,
            evaluated: l,
            mistakes: mistakes[i] as u64,
            suspect_time: Nanos(suspect as i64),
            detection: Detection {
                mean_ns: sum as f64 / n as f64,
                p50,
                p99,
                max: Nanos(max as i64),
                completeness: (within[i] + chained_within) as f64 / n as f64,
                deadline: opts.deadline,
                origin,
            },
        });
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::{Check, shifted_deadline};
    use crate::replay::{general, metrics_from_deadlines};
    use crate::trace::{Heartbeat, IntervalSource, TraceBuilder};
    use proptest::prelude::*;

    /// A family of the shifted form with given bases: `b_j = a_j + offset_j`, an offset
    /// per receipt (negative ones put the deadline at or before the receipt).
    struct Bases {
        offsets: Vec<i64>,
        seen: usize,
        last: Option<i64>,
        shifts: Vec<i64>,
        knobs: Vec<f64>,
        check: Check,
    }

    impl Family for Bases {
        fn width(&self) -> usize {
            self.shifts.len()
        }
        fn observe(&mut self, hb: &Heartbeat) {
            self.last = Some(hb.recv.0 + self.offsets[self.seen]);
            self.seen += 1;
        }
        fn deadlines(&self, out: &mut [Nanos]) {
            for (o, &k) in out.iter_mut().zip(&self.shifts) {
                *o = self
                    .check
                    .deadline(shifted_deadline(self.last.unwrap(), k))
                    .unwrap_or(Nanos::MAX);
            }
        }
        fn form(&self) -> Form<'_> {
            Form::Shifted {
                base: self.last,
                check: self.check,
            }
        }
        fn knobs(&self) -> Option<&[f64]> {
            Some(&self.knobs)
        }
    }

    fn receipts(recv: &[i64], send: Option<&[i64]>) -> Receipts {
        let mut b = TraceBuilder::new(send.is_some());
        for (i, &r) in recv.iter().enumerate() {
            b.push(i as u64 + 1, send.map(|s| Nanos(s[i])), Some(Nanos(r))).unwrap();
        }
        b.finish(Some((Nanos(100), IntervalSource::Given))).unwrap().accepted()
    }

    /// The shifted engine, the general engine and one replay per knob value agree
    /// exactly (the shifted engine must not fall back).
    fn agree(r: &Receipts, offsets: &[i64], shifts: &[i64], check: i64, opts: &Options) {
        let make = || -> Box<dyn Family> {
            Box::new(Bases {
                offsets: offsets.to_vec(),
                seen: 0,
                last: None,
                shifts: shifts.to_vec(),
                knobs: shifts.iter().map(|&k| k as f64).collect(),
                check: Check::every(Nanos(check)),
            })
        };
        let l = crate::replay::evaluated_length(r, opts.warmup).unwrap();
        let fast = replay(r, make().as_mut(), opts, l).expect("the shifted engine replays it");
        let general = general::replay(r, &make, opts, l, general::Sizes::default());
        assert_eq!(fast, general, "check {check}, shifts {shifts:?}");
        for (i, &k) in shifts.iter().enumerate() {
            let tau: Vec<Nanos> = (0..r.len())
                .map(|j| {
                    Check::every(Nanos(check))
                        .deadline(shifted_deadline(r.recv[j].0 + offsets[j], k))
                        .unwrap()
                })
                .collect();
            assert_eq!(
                fast[i],
                metrics_from_deadlines(r, &tau, opts, l),
                "check {check}, shift {k}"
            );
        }
    }

    #[test]
    fn a_tick_rounds_each_deadline_up_by_hand() {
        // Receipts 0, 100, 250, 330, 500, 600 with timeout 120 on a 50 tick, warm-up 1:
        // deadlines 150 (120 rounded up), 250 (220: the receipt at that tick is in
        // time), 400 (370), 450 (on a tick), 650 (620), 750 (720). Only gap 330..500 is
        // suspected, from 450.
        let r = receipts(&[0, 100, 250, 330, 500, 600], None);
        let opts = Options {
            warmup: 1,
            deadline: Nanos(200),
        };
        let make = || -> Box<dyn Family> {
            Box::new(Bases {
                offsets: vec![0; 6],
                seen: 0,
                last: None,
                shifts: vec![120, 100],
                knobs: vec![120.0, 100.0],
                check: Check::every(Nanos(50)),
            })
        };
        let l = crate::replay::evaluated_length(&r, 1).unwrap();
        let out = replay(&r, make().as_mut(), &opts, l).unwrap();
        assert_eq!((out[0].mistakes, out[0].suspect_time), (1, Nanos(50)));
        // T_D = deadline - receipt after receipts 1..5: 150, 150, 120, 150, 150.
        assert_eq!(out[0].detection.mean_ns, (150.0 + 150.0 + 120.0 + 150.0 + 150.0) / 5.0);
        assert_eq!((out[0].detection.p50, out[0].detection.max), (Nanos(150), Nanos(150)));
        // timeout 100: deadlines 200, 350, 450, 600, 700: gaps 100..250 (from 200),
        // 250..330 trusted, 330..500 (from 450), 500..600 (600 is the receipt: trusted).
        assert_eq!((out[1].mistakes, out[1].suspect_time), (2, Nanos(50 + 50)));
        agree(&r, &[0; 6], &[120, 100, 0, 1, 49, 50, 51, 170], 50, &opts);
    }

    #[test]
    fn a_difference_array_gives_one_total_per_knob_index() {
        let mut d = vec![0i64; 5];
        add(&mut d, 1, 3, 7);
        add(&mut d, 0, 4, 1);
        add(&mut d, 2, 2, 100);
        add(&mut d, 3, 1, 100);
        assert_eq!(totals(&d), vec![1, 8, 8, 1]);
        assert_eq!(totals::<i64>(&[0]), Vec::<i64>::new());
    }

    #[test]
    fn residues_beyond_i64_are_not_taken_of_their_low_bits() {
        // Times past i64 whose low 64 bits look small: the fast path must not see them.
        for c in [7i64, 1_000_000_000] {
            let tick = Tick::new(c, 0);
            for t in [
                (1i128 << 64) + 5,
                -(1i128 << 64) + 3,
                (1i128 << 70) - 1,
                i128::from(i64::MAX) + 1,
            ] {
                assert_eq!(tick.residue(t), t.rem_euclid(i128::from(c)), "{t} mod {c}");
            }
        }
    }

    #[test]
    fn residues_of_multiples_of_the_tick_and_their_neighbours() {
        // Where `t·(1/Δc)` rounds to just below an integer (or above), the truncated
        // quotient is one off and the correction must bring the residue back.
        for c in [3i64, 7, 10, 49, 1_000_000_007, 999_999_999, (1 << 50) - 3] {
            let tick = Tick::new(c, 0);
            for k in (1..2000i64).chain((0..40).map(|b| 1i64 << b)).chain([(1 << 50) / c]) {
                let kc = i128::from(k) * i128::from(c);
                for t in [kc - 1, kc, kc + 1, -kc - 1, -kc, -kc + 1] {
                    if t.unsigned_abs() < 1 << 50 {
                        assert_eq!(tick.residue(t), t.rem_euclid(i128::from(c)), "{t} mod {c}");
                    }
                }
            }
        }
    }

    #[test]
    fn counts_below_a_value_hold_at_the_ends_of_i64() {
        let sorted = [i64::MIN, i64::MIN, -1, 0, 5, i64::MAX - 1, i64::MAX];
        let probes = [
            i128::from(i64::MIN) - 1,
            i128::from(i64::MIN),
            i128::from(i64::MIN) + 1,
            -1,
            0,
            5,
            6,
            i128::from(i64::MAX) - 1,
            i128::from(i64::MAX),
            i128::from(i64::MAX) + 1,
        ];
        for x in probes {
            let lt = sorted.iter().filter(|&&v| i128::from(v) < x).count();
            let le = sorted.iter().filter(|&&v| i128::from(v) <= x).count();
            assert_eq!((count_lt(&sorted, x), count_le(&sorted, x)), (lt, le), "at {x}");
        }
    }

    #[test]
    fn a_cursor_follows_times_up_and_down_across_ticks() {
        // Times that mostly grow by less than a tick (the kept tick answers), jump
        // ahead, step back and land on ticks; on a trace stamped near 2^61 ns as well.
        for start in [0i64, 1 << 61] {
            let tick = Tick::new(10, start + 3);
            let mut cursor = Cursor::new(tick);
            let times = [0i64, 1, 9, 10, 11, 19, 20, 47, 46, 40, 39, 1000, 5, -1, -10, -11, 1001];
            for &t in &times {
                let t = i128::from(start) + i128::from(t);
                assert_eq!(cursor.floor(t), t - t.rem_euclid(10), "floor of {t}");
                assert_eq!(
                    i128::from(cursor.base_residue(t)),
                    (-t).rem_euclid(10),
                    "base residue of {t}"
                );
            }
        }
        let mut continuous = Cursor::new(Tick::new(0, 5));
        assert_eq!((continuous.floor(17), continuous.base_residue(17)), (17, 0));
    }

    proptest! {
        #[test]
        fn marks_count_the_positions_below_any_point(
            len in 0usize..2000,
            batches in prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..50), 1..5),
        ) {
            let mut marks = Marks::new(len);
            let mut set = vec![false; len];
            for batch in &batches {
                for p in batch.iter().filter(|_| len > 0).map(|i| i.index(len)) {
                    marks.insert(p);
                    set[p] = true;
                }
                marks.seal();
                for end in 0..=len {
                    let want = set[..end].iter().filter(|&&b| b).count();
                    prop_assert_eq!(marks.below(end), want, "below {} of {}", end, len);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn values_sorted_with_their_ranks_either_way(
            pairs in prop::collection::vec((prop_oneof![-1000i64..1000, any::<i64>()], 0u32..7), 0..200),
            slots in 7usize..300,
        ) {
            // Keys packed for a radix sort when the spread leaves room, pairs otherwise
            // (`any::<i64>()` gives spreads of up to 2^64): the same answer.
            let (vs, ranks): (Vec<i64>, Vec<u32>) = pairs.iter().copied().unzip();
            let mut want = pairs.clone();
            want.sort_unstable();
            let (values, (start, positions)) = sorted_by_value(vs, ranks, slots);
            prop_assert_eq!(values, want.iter().map(|&(v, _)| v).collect::<Vec<_>>());
            prop_assert_eq!(start.len(), slots + 1);
            for q in 0..slots {
                let expect: Vec<u32> = (0..want.len() as u32).filter(|&p| want[p as usize].1 == q as u32).collect();
                prop_assert_eq!(&positions[start[q]..start[q + 1]], expect.as_slice(), "rank {}", q);
            }
        }
    }

    /// Spreads at the packed keys' limit: with 1024 slots (11 rank bits) a spread of
    /// `2^53 - 1` still packs, one of `2^53` does not (its key would need 65 bits).
    #[test]
    fn values_at_the_packed_keys_limit_sort_either_way() {
        for top in [(1i64 << 53) - 1, 1 << 53, (1 << 53) + 1] {
            for lo in [0, -(1i64 << 52), 1 << 40] {
                let vs = vec![lo + top, lo, lo + 1, lo + top / 2];
                let ranks = vec![3, 1023, 0, 3];
                let (values, (start, positions)) = sorted_by_value(vs, ranks, 1024);
                assert_eq!(
                    values,
                    vec![lo, lo + 1, lo + top / 2, lo + top],
                    "spread {top} from {lo}"
                );
                assert_eq!(&positions[start[3]..start[4]], &[2, 3]);
                assert_eq!(&positions[start[1023]..start[1024]], &[0]);
            }
        }
    }

    /// Values in a range narrower than the bucket count, all below 0: a bucket function
    /// that is not non-decreasing there (the distance from the least value taken as a
    /// quotient, say) miscounts them.
    #[test]
    fn a_table_of_a_few_close_values_below_0_counts_exactly() {
        for values in [
            vec![-3i64, -2, -1],
            vec![-7, -6, -6, -5],
            vec![-1, 0],
            vec![-2, -1, 0, 1],
        ] {
            let table = Table::new(values.clone());
            for x in -9i128..3 {
                let want = values.iter().filter(|&&v| i128::from(v) <= x).count();
                assert_eq!(table.count_le(x), want, "{values:?} <= {x}");
            }
        }
    }

    proptest! {
        #[test]
        fn a_table_counts_exactly(
            values in prop::collection::vec(prop_oneof![Just(0i64), -50i64..50, any::<i64>(), Just(i64::MAX), Just(i64::MIN)], 0..60),
            probes in prop::collection::vec(prop_oneof![-60i64..60, any::<i64>()], 1..40),
        ) {
            let mut sorted = values;
            sorted.sort_unstable();
            let table = Table::new(sorted.clone());
            for x in probes.iter().map(|&x| i128::from(x)).chain([i128::from(i64::MAX) + 1, i128::from(i64::MIN) - 1]) {
                let want = sorted.iter().filter(|&&v| i128::from(v) <= x).count();
                prop_assert_eq!(table.count_le(x), want, "values <= {}", x);
            }
            for &v in &sorted {
                for x in [i128::from(v) - 1, i128::from(v), i128::from(v) + 1] {
                    prop_assert_eq!(table.count_le(x), sorted.iter().filter(|&&w| i128::from(w) <= x).count());
                }
            }
        }
    }

    proptest! {
        #[test]
        fn residues_and_their_ranks_are_exact(
            tick in prop_oneof![1i64..1000, Just(1_000_000_000i64), Just((1i64 << 50) - 1), Just(1i64 << 50), 1i64..i64::MAX],
            near in prop_oneof![Just(0i64), 0i64..1 << 40, 1i64 << 60..1i64 << 61, any::<i64>()],
            shifts in prop::collection::vec(any::<i64>(), 1..40),
            ts in prop::collection::vec(prop_oneof![
                any::<i64>(),
                -(1i64 << 51)..(1i64 << 51),
                Just((1i64 << 50) - 1),
                Just(1 - (1i64 << 50)),
                -5000i64..5000,
            ], 1..40),
        ) {
            let t = Tick::new(tick, near);
            let residues = Residues::new(&shifts, t);
            // One cursor for all the times, in any order: its kept tick is only a hint.
            let mut cursor = Cursor::new(t);
            for &x in &ts {
                let r = x.rem_euclid(tick);
                prop_assert_eq!(t.residue(i128::from(x)), i128::from(r), "{} mod {}", x, tick);
                let want = residues.sorted().partition_point(|&s| s <= r);
                prop_assert_eq!(residues.rank(r), want, "rank of {} mod {}", x, tick);
                // Trace times, near the anchor or far from it.
                for time in [i128::from(x), i128::from(near) + i128::from(x)] {
                    let r = time.rem_euclid(i128::from(tick));
                    prop_assert_eq!(t.floor(time), time - r, "floor of {} on {}", time, tick);
                    let up = if r == 0 { time } else { time - r + i128::from(tick) };
                    prop_assert_eq!(t.up(time), up, "up of {} on {}", time, tick);
                    prop_assert_eq!(cursor.floor(time), time - r, "cursor's floor of {} on {}", time, tick);
                    prop_assert_eq!(i128::from(cursor.base_residue(time)), up - time, "base residue of {}", time);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn a_ticking_monitor_replays_as_one_replay_per_value(
            intervals in prop::collection::vec(prop_oneof![Just(100i64), Just(50), 1i64..400], 8..60),
            offsets in prop::collection::vec(prop_oneof![Just(0i64), Just(100), -150i64..300], 60),
            delays in prop::collection::vec(0i64..120, 60),
            shifts in prop::collection::vec(prop_oneof![Just(0i64), Just(50), Just(100), 0i64..500], 1..12),
            check in prop_oneof![Just(0i64), Just(25), Just(50), Just(100), Just(30), Just(70), 1i64..200],
            warmup in 0usize..4,
            deadline in prop_oneof![Just(100i64), 0i64..600],
            with_send: bool,
        ) {
            // Receipts at sums of intervals (often on a tick); deadlines on a tick when
            // the base and the shift are multiples of it; late receipts from negative
            // offsets.
            let mut recv = Vec::new();
            let mut t = 200;
            for &g in &intervals {
                recv.push(t);
                t += g;
            }
            let send: Vec<i64> = recv.iter().zip(&delays).map(|(&a, &d)| a - d).collect();
            let r = receipts(&recv, with_send.then_some(send.as_slice()));
            let offsets: Vec<i64> = offsets[..recv.len()].iter().zip(&recv).map(|(&o, &a)| o.max(-a)).collect();
            let opts = Options { warmup: warmup.min(recv.len() - 2), deadline: Nanos(deadline) };
            // The engine hands a replay with more chained (receipt, knob) pairs than
            // CHAINED_BUDGET per receipt to the general engine, by design: keep the
            // cases it must replay itself. Chained pairs are among the pairs whose
            // deadline is at or before the receipt, so at most that many.
            let late = (opts.warmup..recv.len())
                .flat_map(|j| shifts.iter().map(move |&k| (j, k)))
                .filter(|&(j, k)| {
                    Check::every(Nanos(check))
                        .deadline(shifted_deadline(recv[j] + offsets[j], k))
                        .is_some_and(|t| t.0 <= recv[j])
                })
                .count();
            prop_assume!(late <= CHAINED_BUDGET * (recv.len() - opts.warmup));
            agree(&r, &offsets, &shifts, check, &opts);
        }
    }
}

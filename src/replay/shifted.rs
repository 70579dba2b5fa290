//! The replay of a timeout-style family: deadlines `τ_j(k) = b_j + k`, one base time
//! `b_j` per receipt and one shift `k` per knob value (`fixed`, `chen`, `2w`, `bertier`).
//!
//! With the shifts sorted, every quantity of [evaluation.md](crate::docs::evaluation) §3–§4 changes with the knob at
//! a few **critical values** per gap or crash point, found by binary search:
//!
//! - gap `j` is suspected at the knobs `k < a_{j+1} - b_j` (the first `c_j` values) and
//!   starts with a deadline at or before its receipt at the knobs `k <= a_j - b_j` (the
//!   first `e_j`); it is a mistake on `[min(e_j, c_{j-1}), c_j)`, since the gap before
//!   ended in trust exactly from `c_{j-1}` on;
//! - its suspect time is `a_{j+1} - a_j` below `e_j` and `a_{j+1} - b_j - k` on
//!   `[e_j, c_j)`;
//! - crash point `j` has `T_D = max(A_j, B_j + k)` with `A_j = a_j - origin_j` and
//!   `B_j = b_j - origin_j`: `A_j` below `e_j`, `B_j + k` from there; it counts for
//!   completeness below the first knob with `B_j + k > D` (if `A_j <= D`). The exception
//!   is a late receipt that continues a suspicion (knob indices below both `e_j` and
//!   `c_{j-1}`): its `T_D` is `max(0, P_j - origin_j)` with `P_j` the start of that
//!   suspicion ([evaluation.md](crate::docs::evaluation) §4), found by following the chain of late receipts from
//!   the first receipt on at those indices only; such **chained** pairs are few and
//!   correct the totals one by one.
//!
//! Each is a constant or linear term added over a range of knob indices, so difference
//! arrays and prefix sums give every knob value's totals; the largest `T_D` is
//! `max(max A, max B + k)`. A percentile is the smallest `x` with
//! `#{j : T_D(j) <= x} >= rank`; that count is `#{B_j <= x - k}` over the sorted `B`,
//! corrected by the few crash points whose deadline is at or before their receipt (the
//! only ones where `T_D` is not `B_j + k`), and a binary search over `x` finds it. The
//! work is `O(m log K + m log m)` for `K` knob values plus the late crash points, instead
//! of `O(m·K)`.

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
fn add<T: Copy + std::ops::AddAssign + std::ops::SubAssign>(d: &mut [T], lo: usize, hi: usize, v: T) {
    if lo < hi {
        d[lo] += v;
        d[hi] -= v;
    }
}

/// Prefix sums of a difference array, one per knob index.
fn totals<T: Copy + Default + std::ops::AddAssign>(d: &[T]) -> Vec<T> {
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

/// Replays `family`, fresh, over `receipts`. `None` when it is not a timeout-style family,
/// some deadline is infinite, or too many deadlines fall at or before their receipt: the
/// caller then uses the general engine.
pub(super) fn replay(receipts: &Receipts, family: &mut dyn Family, opts: &Options, l: Nanos) -> Option<Vec<Metrics>> {
    let shifts = family.shifts()?.to_vec();
    let width = shifts.len();
    if width == 0 {
        return Some(Vec::new());
    }
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
        let Form::Shifted { base: Some(b), .. } = family.form() else {
            return None;
        };
        if i128::from(b) + kmax >= i128::from(i64::MAX) {
            return None;
        }
        base.push(b);
    }
    let b_at = |j: usize| i128::from(base[j]);
    let at = |j: usize| i128::from(a[j].0);

    // Gaps j = w .. m-2. The evaluated span starts in trust: gap w-1 counts as ended in
    // trust at every knob value.
    let mut d_mistakes = vec![0i64; width + 1];
    let mut d_full = vec![0i128; width + 1];
    let mut d_part = vec![0i128; width + 1];
    let mut d_part_count = vec![0i64; width + 1];
    let mut prev_c = 0;
    for j in w..m - 1 {
        let (aj, next, b) = (at(j), at(j + 1), b_at(j));
        let c = count_lt(&ks, next - b);
        let e = count_le(&ks, aj - b);
        add(&mut d_mistakes, e.min(prev_c), c, 1);
        add(&mut d_full, 0, e.min(c), next - aj);
        add(&mut d_part, e, c, next - b);
        add(&mut d_part_count, e, c, 1);
        prev_c = c;
    }

    // Crash points j = w .. m-1; the chains of late receipts from the first receipt on.
    let d = i128::from(opts.deadline.0);
    let mut d_sum_a = vec![0i128; width + 1];
    let mut d_sum_b = vec![0i128; width + 1];
    let mut d_count_b = vec![0i64; width + 1];
    let mut d_within = vec![0i64; width + 1];
    let mut sorted_b = Vec::with_capacity(n);
    let mut late = Vec::new();
    let mut late_pairs = 0usize;
    let mut chain_work = 0usize;
    let mut chained: Vec<Chained> = Vec::new();
    // P_{j-1} at the knob indices below e_{j-1}, and P_j being built.
    let (mut prev_p, mut cur_p): (Vec<i128>, Vec<i128>) = (Vec::new(), Vec::new());
    let (mut max_a, mut max_b) = (i64::MIN, i64::MIN);
    for j in 0..m {
        let (aj, b) = (at(j), b_at(j));
        let e = count_le(&ks, aj - b);
        // Below e_j the deadline is at or before the receipt: P_j continues the
        // suspicion of gap j-1 at the indices below c_{j-1} (where it ended in
        // suspicion), and is a_j from there.
        let c_prev = if j == 0 { 0 } else { count_lt(&ks, aj - b_at(j - 1)) }.min(e);
        cur_p.clear();
        for (i, &k) in ks[..c_prev].iter().enumerate() {
            cur_p.push(if i < prev_p.len() {
                prev_p[i]
            } else {
                b_at(j - 1) + i128::from(k)
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
        add(&mut d_sum_b, e, width, i128::from(big_b));
        add(&mut d_count_b, e, width, 1);
        if i128::from(big_a) <= d {
            add(&mut d_within, 0, count_le(&ks, d - i128::from(big_b)), 1);
        }
        max_a = max_a.max(big_a);
        max_b = max_b.max(big_b);
        sorted_b.push(big_b);
        if e > 0 {
            late_pairs += e;
            if late_pairs > LATE_BUDGET * n {
                return None;
            }
            late.push(Late { e, a: big_a, b: big_b });
        }
    }
    sorted_b.sort_unstable();
    late.sort_unstable_by_key(|x| std::cmp::Reverse(x.e));
    chained.sort_unstable_by_key(|x| std::cmp::Reverse(x.index));

    let mistakes = totals(&d_mistakes);
    let full = totals(&d_full);
    let part = totals(&d_part);
    let part_count = totals(&d_part_count);
    let sum_a = totals(&d_sum_a);
    let sum_b = totals(&d_sum_b);
    let count_b = totals(&d_count_b);
    let within = totals(&d_within);

    let ranks = [nearest_rank(0.5, n), nearest_rank(0.99, n)];
    let origin = origin(receipts);
    let mut out = vec![None; width];
    // Knob indices from the largest down: the late crash points of index `i` are those
    // with `e > i`, a set that only grows.
    let mut late_b: Vec<i64> = Vec::new();
    let mut late_a: Vec<i64> = Vec::new();
    let mut joined = 0;
    let mut next_chained = 0;
    let (mut chained_a, mut chained_v): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    for i in (0..width).rev() {
        let k = i128::from(ks[i]);
        let before = joined;
        while joined < late.len() && late[joined].e > i {
            late_b.push(late[joined].b);
            late_a.push(late[joined].a);
            joined += 1;
        }
        if joined > before {
            late_b.sort_unstable();
            late_a.sort_unstable();
        }
        // The chained pairs at this index, whose value replaces their `A_j`.
        chained_a.clear();
        chained_v.clear();
        let (mut chained_sum, mut chained_within) = (0i128, 0i64);
        while next_chained < chained.len() && chained[next_chained].index == i {
            let c = chained[next_chained];
            chained_a.push(c.a);
            chained_v.push(c.value);
            chained_sum += i128::from(c.value) - i128::from(c.a);
            chained_within += i64::from(i128::from(c.value) <= d) - i64::from(i128::from(c.a) <= d);
            next_chained += 1;
        }
        chained_a.sort_unstable();
        chained_v.sort_unstable();
        let bound = i128::from(max_a).max(i128::from(max_b) + k);
        // #{j : T_D(j) <= x}: max(A_j, B_j + k), corrected at the chained pairs.
        let count = |x: i128| {
            count_le(&sorted_b, x - k) - count_le(&late_b, x - k) + count_le(&late_a, x) - count_le(&chained_a, x)
                + count_le(&chained_v, x)
        };
        let smallest_with = |r: usize| {
            let (mut lo, mut hi) = (-1i128, bound);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if count(mid) >= r {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            hi
        };
        let [p50, p99] = ranks.map(|r| Nanos(smallest_with(r) as i64));
        // A chained pair lowers a value, which may have been the largest.
        let max = if chained_a.is_empty() { bound } else { smallest_with(n) };
        let suspect = full[i] + part[i] - i128::from(part_count[i]) * k;
        let sum = sum_a[i] + sum_b[i] + i128::from(count_b[i]) * k + chained_sum;
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

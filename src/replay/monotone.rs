//! The main pass of a family whose deadlines are non-decreasing in its knob (`phi`,
//! `exp-phi`, `satzger`, and any [`Estimator`](crate::detector::Estimator) family the
//! timeout-style engine does not take): critical values for everything but the sum, the
//! maximum and the percentile brackets of the detection times.
//!
//! With the knob values sorted, the deadlines `τ_j(i)` after receipt `j` are
//! non-decreasing in the knob index `i` (an estimator's deadline is the first instant its
//! knob-independent level reaches the knob; the pass checks the order of every row and
//! leaves any family that breaks it to the general pass). So each row splits at a few
//! **critical indices** of its offsets `τ_j(i) - a_j`, counted in one branch-free scan
//! of the row (on a row in order, the number of offsets below a bound is where a binary
//! search would put it), or found by binary search on a row computed from a
//! [`Form`], which is in order by construction:
//!
//! - `e_j`: the knob values whose deadline is at or before the receipt (`offset <= 0`);
//! - `c_j`: those whose deadline falls before the next receipt (gap `j` suspected);
//! - `f_j`: those that detect crash point `j` within `D`; `n_j`: those with a deadline.
//!
//! Gap `j` is then a mistake on `[min(e_j, c_{j-1}), c_j)` (the gap before ended in
//! trust exactly from `c_{j-1}` on) and suspected throughout below `min(e_j, c_j)`: both
//! are ranges added to difference arrays. Its suspect time on `[e_j, c_j)` is
//! `a_{j+1} - τ_j(i)`, added over that range in a vector loop (the mistaken pairs).
//!
//! Crash point `j` counts for completeness on `[e_j, f_j)` (a difference array) and is
//! never detected from `n_j` on. Its detection time is `max(0, τ_j(i) - origin_j)` on
//! `[e_j, n_j)`; below `e_j` it is `max(0, P_j(i) - origin_j)` with `P_j(i)` the start of
//! the suspicion in progress ([evaluation.md](crate::docs::evaluation) §4), followed one
//! pair at a time along the chains of late receipts from the first receipt on (the late
//! pairs, few). What stays per (crash point, knob value) is one lean vector loop: add
//! the detection time to the sum, raise the maximum, count it below each percentile's
//! bracket and flag a hit in one. It runs over a chunk of [`ROWS`] rows at a time, a
//! block of [`LANES`] knob values at a time, so that a block's totals stay in registers
//! across the rows and each pair costs one load of its offset.
//!
//! The loop runs in `f64` on integers held exactly: times and offsets under `2^52`,
//! detection times under `2^42` summed over at most [`FLUSH`] crash points before the
//! sums go to `i128`; suspect times, whose every partial sum is at most the evaluated
//! length, need no flush. A row out of that range or out of order, or too many late
//! pairs, send the family to the general pass, which gives the same numbers.

use super::general::{BIG, Bracket, FLUSH, Lane, SUM_SAFE, bounds};
use super::shifted::{add, totals};
use crate::detector::{Family, Form};
use crate::replay::Options;
use crate::simd::keep;
use crate::time::Nanos;
use crate::trace::Receipts;

/// The late pairs (crash point, knob value with a deadline at or before its receipt)
/// followed one by one along the chains of late receipts, per receipt and per knob
/// value, before the pass gives way to the general one.
const BUDGET_PER_KNOB: f64 = 0.25;

/// The critical indices of one row of offsets (non-decreasing in the knob index): how
/// many are `<= 0` (`e`), `< g` (`c`), finite, and `<= lim` (`f`); `ok` when the row is
/// in order and each offset exact (under `2^52` in size) or `+inf` (never). Counted in
/// one branch-free loop, which on a row in order gives the binary searches' answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scan {
    ok: bool,
    e: usize,
    c: usize,
    finite: usize,
    f: usize,
}

#[inline(always)]
fn scan_kernel(row: &[f64], g: f64, lim: f64) -> Scan {
    let (mut bad, mut e, mut c, mut finite, mut f) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for &t in row {
        bad |= u64::from(!(t.abs() < BIG || t == f64::INFINITY));
        e += u64::from(t <= 0.0);
        c += u64::from(t < g);
        finite += u64::from(t < f64::INFINITY);
        f += u64::from(t <= lim);
    }
    // In order: no pair out of order and no NaN (which compares false).
    for pair in row.windows(2) {
        bad |= u64::from(pair[1] < pair[0] || pair[1].is_nan());
    }
    Scan {
        ok: bad == 0,
        e: e as usize,
        c: c as usize,
        finite: finite as usize,
        f: f as usize,
    }
}

/// Knob values per block of the fresh-pair kernel: two vectors of `f64` with AVX2, and
/// one byte of flags.
const LANES: usize = 8;

/// Rows of offsets kept for the fresh-pair kernel, which runs over them a block of knob
/// values at a time with the block's totals in registers; [`FLUSH`] is a multiple.
const ROWS: usize = 16;
const _: () = assert!(FLUSH % ROWS == 0);

/// Per-knob totals of the detection times of the fresh pairs, in `f64`, one array per
/// quantity (in sorted knob order, padded to whole blocks of [`LANES`]).
struct Fresh {
    sum: Vec<f64>,
    max: Vec<f64>,
    below: [Vec<f64>; 2],
    lo: [Vec<f64>; 2],
    hi: [Vec<f64>; 2],
}

/// The last [`ROWS`] rows of offsets (each `stride` long, `+inf` past the knob values),
/// and per row `A_j = a_j - origin_j` and the knob values whose detection time fell in
/// a bracket, one byte of [`LANES`] flags per block.
struct Chunk {
    stride: usize,
    rows: Vec<f64>,
    big_a: [f64; ROWS],
    hits: Vec<u8>,
}

impl Chunk {
    fn new(width: usize) -> Chunk {
        let stride = width.next_multiple_of(LANES);
        Chunk {
            stride,
            rows: vec![f64::INFINITY; stride * ROWS],
            big_a: [0.0; ROWS],
            hits: vec![0; stride / LANES * ROWS],
        }
    }

    fn row(&self, slot: usize) -> &[f64] {
        &self.rows[slot * self.stride..(slot + 1) * self.stride]
    }
}

/// The fresh pairs of rows `[from, to)` of the chunk: every offset `t` with
/// `0 < t < inf` (the knob indices `[e_j, n_j)` of a row in order), whose detection time
/// is `max(0, A_j + t)`, added to the sum, raised into the maximum, counted below each
/// bracket and flagged when in one. A block of [`LANES`] knob values at a time, its
/// totals held across the rows.
#[inline(always)]
fn fresh_kernel(f: &mut Fresh, chunk: &mut Chunk, from: usize, to: usize) {
    let stride = chunk.stride;
    let blocks = stride / LANES;
    for b in 0..blocks {
        let at = b * LANES;
        let lanes = |v: &[f64]| -> [f64; LANES] { v[at..at + LANES].try_into().expect("a block") };
        let (mut sum, mut max) = (lanes(&f.sum), lanes(&f.max));
        let (mut b0, mut b1) = (lanes(&f.below[0]), lanes(&f.below[1]));
        let (lo0, lo1, hi0, hi1) = (lanes(&f.lo[0]), lanes(&f.lo[1]), lanes(&f.hi[0]), lanes(&f.hi[1]));
        for s in from..to {
            let off: [f64; LANES] = chunk.rows[s * stride + at..s * stride + at + LANES]
                .try_into()
                .expect("a block");
            let big_a = chunk.big_a[s];
            let mut bits = 0u8;
            for l in 0..LANES {
                let t = off[l];
                let fresh = (t > 0.0) & (t < f64::INFINITY);
                let x = (big_a + t).max(0.0);
                let kept = keep(fresh, x);
                sum[l] += kept;
                max[l] = max[l].max(kept);
                b0[l] += keep(fresh & (x < lo0[l]), 1.0);
                b1[l] += keep(fresh & (x < lo1[l]), 1.0);
                let hit = fresh & ((x >= lo0[l]) & (x <= hi0[l]) | (x >= lo1[l]) & (x <= hi1[l]));
                bits |= u8::from(hit) << l;
            }
            chunk.hits[s * blocks + b] = bits;
        }
        f.sum[at..at + LANES].copy_from_slice(&sum);
        f.max[at..at + LANES].copy_from_slice(&max);
        f.below[0][at..at + LANES].copy_from_slice(&b0);
        f.below[1][at..at + LANES].copy_from_slice(&b1);
    }
}

/// The suspect time `g - offset` of the mistaken pairs of a gap of length `g`: exact,
/// since every partial sum is at most the evaluated length, under `2^52`.
#[inline(always)]
fn partial_kernel(suspect: &mut [f64], off: &[f64], g: f64) {
    let n = suspect.len().min(off.len());
    let (suspect, off) = (&mut suspect[..n], &off[..n]);
    for i in 0..n {
        suspect[i] += g - off[i];
    }
}

/// The number of leading elements of `row` that satisfy `pred`, which holds on a prefix
/// of it: looked for from `hint` (the answer for the row before, usually a step or two
/// away) a few steps each way, then by binary search.
#[inline]
fn count_near(row: &[f64], hint: usize, pred: impl Fn(f64) -> bool) -> usize {
    const STEPS: usize = 4;
    let n = row.len();
    let mut i = hint.min(n);
    if i < n && pred(row[i]) {
        // The answer is above i.
        for _ in 0..STEPS {
            i += 1;
            if i == n || !pred(row[i]) {
                return i;
            }
        }
        return i + 1 + row[i + 1..].partition_point(|&t| pred(t));
    }
    // The answer is at most i.
    for _ in 0..STEPS {
        if i == 0 || pred(row[i - 1]) {
            return i;
        }
        i -= 1;
    }
    row[..i].partition_point(|&t| pred(t))
}

/// [`scan`] of a row known to be in order (one computed from a [`Form`]): searches for
/// the critical indices from those of the row before, and the range checked at the
/// row's ends.
fn critical(row: &[f64], g: f64, lim: f64, before: &Scan) -> Scan {
    let finite = count_near(row, before.finite, |t| t < f64::INFINITY);
    let exact = |t: f64| t.abs() < BIG;
    let ok = finite == 0 || exact(row[0]) && exact(row[finite - 1]);
    Scan {
        ok,
        e: count_near(row, before.e, |t| t <= 0.0),
        c: count_near(row, before.c, |t| t < g),
        finite,
        f: count_near(row, before.f, |t| t <= lim),
    }
}

crate::simd::multiversion!(fn partial_row(suspect: &mut [f64], off: &[f64], g: f64) -> () = partial_kernel;);
crate::simd::multiversion!(fn scan(row: &[f64], g: f64, lim: f64) -> Scan = scan_kernel;);
/// [`fresh_kernel`], in AVX2 where the processor has it.
fn fresh_rows(f: &mut Fresh, chunk: &mut Chunk, from: usize, to: usize) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx2() {
        // SAFETY: the processor has AVX2.
        unsafe { fresh_avx2(f, chunk, from, to) };
        return;
    }
    fresh_kernel(f, chunk, from, to);
}

/// [`fresh_kernel`] in AVX2 intrinsics, operation for operation (the compiler does not
/// keep the totals of a block in registers across the rows by itself): the same IEEE
/// operations on the same values, so the same bits. A lane whose offset is not fresh
/// gives 0, which neither the sum nor the maximum (of values `>= 0`) sees; comparisons
/// are ordered, false with NaN, as Rust's are.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fresh_avx2(f: &mut Fresh, chunk: &mut Chunk, from: usize, to: usize) {
    use std::arch::x86_64::*;
    let stride = chunk.stride;
    let blocks = stride / LANES;
    let load = |v: &[f64], i: usize| -> __m256d {
        let v: &[f64; 4] = v[i..i + 4].try_into().expect("a vector");
        // SAFETY: four f64 in bounds.
        unsafe { _mm256_loadu_pd(v.as_ptr()) }
    };
    let store = |v: &mut [f64], i: usize, x: __m256d| {
        let v: &mut [f64; 4] = (&mut v[i..i + 4]).try_into().expect("a vector");
        // SAFETY: four f64 in bounds.
        unsafe { _mm256_storeu_pd(v.as_mut_ptr(), x) }
    };
    let zero = _mm256_setzero_pd();
    let one = _mm256_set1_pd(1.0);
    let inf = _mm256_set1_pd(f64::INFINITY);
    for b in 0..blocks {
        let at = b * LANES;
        let (mut sum, mut max, mut b0, mut b1) = ([zero; 2], [zero; 2], [zero; 2], [zero; 2]);
        let (mut lo0, mut lo1, mut hi0, mut hi1) = ([zero; 2], [zero; 2], [zero; 2], [zero; 2]);
        for h in 0..2 {
            let i = at + 4 * h;
            sum[h] = load(&f.sum, i);
            max[h] = load(&f.max, i);
            b0[h] = load(&f.below[0], i);
            b1[h] = load(&f.below[1], i);
            lo0[h] = load(&f.lo[0], i);
            lo1[h] = load(&f.lo[1], i);
            hi0[h] = load(&f.hi[0], i);
            hi1[h] = load(&f.hi[1], i);
        }
        for s in from..to {
            let big_a = _mm256_set1_pd(chunk.big_a[s]);
            let mut bits = 0i32;
            for h in 0..2 {
                let t = load(&chunk.rows, s * stride + at + 4 * h);
                let fresh = _mm256_and_pd(
                    _mm256_cmp_pd::<_CMP_GT_OQ>(t, zero),
                    _mm256_cmp_pd::<_CMP_LT_OQ>(t, inf),
                );
                // max(big_a + t, 0): big_a + t when it is greater, else 0.
                let x = _mm256_max_pd(_mm256_add_pd(big_a, t), zero);
                let kept = _mm256_and_pd(fresh, x);
                sum[h] = _mm256_add_pd(sum[h], kept);
                max[h] = _mm256_max_pd(max[h], kept);
                // 1.0 in the fresh lanes, 0 elsewhere.
                let counted = _mm256_and_pd(fresh, one);
                let below0 = _mm256_cmp_pd::<_CMP_LT_OQ>(x, lo0[h]);
                let below1 = _mm256_cmp_pd::<_CMP_LT_OQ>(x, lo1[h]);
                b0[h] = _mm256_add_pd(b0[h], _mm256_and_pd(below0, counted));
                b1[h] = _mm256_add_pd(b1[h], _mm256_and_pd(below1, counted));
                // In a bracket: not below it and not above it. (`x` is never NaN; a NaN
                // bracket, the exact sample's, has nothing below it and nothing in it.)
                let in0 = _mm256_andnot_pd(below0, _mm256_cmp_pd::<_CMP_LE_OQ>(x, hi0[h]));
                let in1 = _mm256_andnot_pd(below1, _mm256_cmp_pd::<_CMP_LE_OQ>(x, hi1[h]));
                let hit = _mm256_and_pd(fresh, _mm256_or_pd(in0, in1));
                bits |= _mm256_movemask_pd(hit) << (4 * h);
            }
            chunk.hits[s * blocks + b] = bits as u8;
        }
        for h in 0..2 {
            let i = at + 4 * h;
            store(&mut f.sum, i, sum[h]);
            store(&mut f.max, i, max[h]);
            store(&mut f.below[0], i, b0[h]);
            store(&mut f.below[1], i, b1[h]);
        }
    }
}

/// Offers the detection times the kernel flagged in rows `[0, rows)` of the chunk to
/// their brackets.
fn offer_hits(chunk: &Chunk, rows: usize, fresh: &Fresh, brackets: &mut [[Bracket; 2]]) {
    let blocks = chunk.stride / LANES;
    for s in 0..rows {
        let row = chunk.row(s);
        for (b, &flags) in chunk.hits[s * blocks..(s + 1) * blocks].iter().enumerate() {
            let mut bits = flags;
            while bits != 0 {
                let i = b * LANES + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let x = (chunk.big_a[s] + row[i]).max(0.0);
                for (q, bracket) in brackets[i].iter_mut().enumerate() {
                    if x >= fresh.lo[q][i] && x <= fresh.hi[q][i] {
                        bracket.offer_in(x as i64);
                    }
                }
            }
        }
    }
}

/// The main pass of the general engine for a family with [`Family::knobs`]: every
/// metric of every knob value, and the detection times inside `brackets` (none with the
/// `exact` sample), as the general pass gives them. `None` when the family has no knob
/// values to sort or the pass gives way (see the module doc); the brackets are returned
/// filled.
pub(super) fn main_pass(
    receipts: &Receipts,
    make: &dyn Fn() -> Box<dyn Family>,
    opts: &Options,
    exact: bool,
    brackets: &[[Bracket; 2]],
) -> Option<(Vec<Lane>, Vec<[Bracket; 2]>)> {
    let mut family = make();
    let knobs = family.knobs()?.to_vec();
    let width = knobs.len();
    if width == 0 || width != brackets.len() || knobs.iter().any(|k| k.is_nan()) {
        return None;
    }
    let a = &receipts.recv;
    let m = a.len();
    let w = opts.warmup;
    if a[m - 1].0 as f64 >= BIG || a[0].0 < 0 || opts.deadline.0 < 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..width).collect();
    order.sort_by(|&x, &y| knobs[x].total_cmp(&knobs[y]));
    let identity = order.iter().enumerate().all(|(i, &o)| i == o);
    let mut brackets: Vec<[Bracket; 2]> = order.iter().map(|&i| brackets[i].clone()).collect();
    let (lo, hi) = bounds(&brackets, exact);
    let zeros = || vec![0.0f64; width];
    let mut chunk = Chunk::new(width);
    let stride = chunk.stride;
    let padded = |mut v: Vec<f64>| {
        v.resize(stride, f64::NAN);
        v
    };
    let [lo0, lo1] = lo;
    let [hi0, hi1] = hi;
    let mut fresh = Fresh {
        sum: vec![0.0; stride],
        max: vec![0.0; stride],
        below: [vec![0.0; stride], vec![0.0; stride]],
        lo: [padded(lo0), padded(lo1)],
        hi: [padded(hi0), padded(hi1)],
    };
    let d = opts.deadline.0;
    let dl = (d as f64).min(BIG);
    let budget = (BUDGET_PER_KNOB * width as f64 * m as f64) as usize + m;

    let mut sum = vec![0i128; width];
    let mut suspect = zeros();
    let mut within_late = vec![0i64; width];
    let mut d_mistakes = vec![0i64; width + 1];
    let mut d_full = vec![0i64; width + 1];
    let mut d_within = vec![0i64; width + 1];
    let mut d_infinite = vec![0i64; width + 1];
    let mut late_work = 0usize;

    let mut scratch = vec![Nanos::MAX; width];
    let mut raw = vec![0.0f64; width];
    // P_{j-1} at the knob indices below e_{j-1}, and P_j being built (absolute times).
    let (mut prev_p, mut cur_p): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    let mut prev_c = 0usize;
    let mut before = Scan {
        ok: true,
        e: 0,
        c: 0,
        finite: 0,
        f: 0,
    };
    // Row j lives in slot (j - w) mod ROWS: the evaluated rows of a chunk start at slot 0.
    let first_slot = (ROWS - w % ROWS) % ROWS;
    for j in 0..m {
        let hb = receipts.heartbeat(j);
        family.observe(&hb);
        let slot = (j + first_slot) % ROWS;
        let (rs, ps) = (slot * stride, (slot + ROWS - 1) % ROWS * stride);
        let row = &mut chunk.rows[rs..rs + width];
        if identity {
            family.offsets(hb.recv, &mut scratch, row);
        } else {
            family.offsets(hb.recv, &mut scratch, &mut raw);
            for (r, &i) in row.iter_mut().zip(&order) {
                *r = raw[i];
            }
        }
        let row = &chunk.rows[rs..rs + width];
        let aj = a[j].0;
        let o = hb.send.unwrap_or(hb.recv).0;
        let big_a = aj - o;
        if big_a.unsigned_abs() >= 1 << 52 {
            return None;
        }
        let g = if j + 1 < m {
            (a[j + 1].0 - aj) as f64
        } else {
            f64::NEG_INFINITY
        };
        // A row computed from a form is in order by construction.
        let in_order = matches!(
            family.form(),
            Form::Normal { .. } | Form::Ratio { .. } | Form::Ranked { .. }
        );
        let lim = dl - big_a as f64;
        before = if in_order {
            critical(row, g, lim, &before)
        } else {
            scan(row, g, lim)
        };
        let Scan { ok, e, c, finite, f } = before;
        if !ok {
            return None;
        }

        // P_j below e_j: the suspicion of gap j-1 continues where it ended in suspicion
        // (below c_{j-1}): P_{j-1}, which is τ_{j-1} where that was after its receipt.
        let continued = if j == 0 { 0 } else { prev_c.min(e) };
        cur_p.clear();
        for i in 0..continued {
            cur_p.push(if i < prev_p.len() {
                prev_p[i]
            } else {
                a[j - 1].0 + chunk.rows[ps + i] as i64
            });
        }
        cur_p.resize(e, aj);
        late_work += e;
        if late_work > budget {
            return None;
        }

        if j >= w {
            // The late pairs, one by one.
            for (i, &p) in cur_p.iter().enumerate() {
                let x = (p - o).max(0);
                sum[i] += i128::from(x);
                let xf = x as f64;
                fresh.max[i] = fresh.max[i].max(xf);
                within_late[i] += i64::from(x <= d);
                for (q, b) in brackets[i].iter_mut().enumerate() {
                    if exact {
                        break;
                    }
                    if x < b.lo {
                        fresh.below[q][i] += 1.0;
                    } else if x <= b.hi {
                        b.offer_in(x);
                    }
                }
            }
            // The fresh pairs, a chunk of rows at a time.
            add(&mut d_infinite, finite, width, 1);
            if e < finite {
                add(&mut d_within, e, f.clamp(e, finite), 1);
            }
            chunk.big_a[slot] = big_a as f64;
            if slot + 1 == ROWS || j + 1 == m {
                fresh_rows(&mut fresh, &mut chunk, 0, slot + 1);
                if !exact {
                    offer_hits(&chunk, slot + 1, &fresh, &mut brackets);
                }
                if (j + 1 - w) % FLUSH == 0 || j + 1 == m {
                    for (t, s) in sum.iter_mut().zip(fresh.sum.iter_mut()) {
                        *t += *s as i128;
                        *s = 0.0;
                    }
                }
            }
            // Gap j; the evaluated span starts in trust.
            if j + 1 < m {
                let g = a[j + 1].0 - aj;
                let trusted_from = if j == w { 0 } else { prev_c };
                add(&mut d_mistakes, e.min(trusted_from), c, 1);
                add(&mut d_full, 0, e.min(c), g);
                if e < c {
                    partial_row(&mut suspect[e..c], &chunk.rows[rs + e..rs + c], g as f64);
                }
            }
        }
        prev_c = c;
        std::mem::swap(&mut prev_p, &mut cur_p);
    }
    if fresh.max.iter().any(|&x| x >= SUM_SAFE) {
        return None;
    }
    let mistakes = totals(&d_mistakes);
    let full = totals(&d_full);
    let within = totals(&d_within);
    let infinite = totals(&d_infinite);
    let mut lanes = vec![Lane::default(); width];
    let mut out = vec![None; width];
    for (i, bs) in brackets.into_iter().enumerate() {
        lanes[order[i]] = Lane {
            sum: sum[i],
            mistakes: mistakes[i] as u64,
            suspect: full[i] + suspect[i] as i64,
            within: (within[i] + within_late[i]) as u64,
            infinite: infinite[i] as u64,
            max: fresh.max[i] as i64,
            below: [fresh.below[0][i] as u64, fresh.below[1][i] as u64],
        };
        out[order[i]] = Some(bs);
    }
    Some((lanes, out.into_iter().collect::<Option<Vec<_>>>()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::spec::parse;
    use crate::replay::general;
    use crate::trace::TraceBuilder;
    use rand::{Rng, SeedableRng};

    /// Heartbeats every 100 ms with delays of 1–30 ms, spikes of up to 900 ms (late
    /// receipts, chains of them after a burst), 1 % loss.
    fn receipts(n: u64) -> Receipts {
        receipts_from(21, n, false)
    }

    /// [`receipts`] from `seed`, with sender stalls of up to 2 s when `stalls`.
    fn receipts_from(seed: u64, n: u64, stalls: bool) -> Receipts {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut b = TraceBuilder::new(true);
        let mut stall_until = 0;
        for i in 1..=n {
            let mut send = i as i64 * 100_000_000;
            if stalls && rng.random::<f64>() < 0.01 {
                stall_until = send + rng.random_range(100..2000) * 1_000_000;
            }
            send = send.max(stall_until);
            let mut delay = 1_000_000 + rng.random_range(0..29_000_000);
            if rng.random::<f64>() < 0.05 {
                delay += rng.random_range(0..900_000_000);
            }
            let recv = (rng.random::<f64>() >= 0.01).then_some(Nanos(send + delay));
            b.push(i, Some(Nanos(send)), recv).unwrap();
        }
        b.finish(None).unwrap().accepted()
    }

    /// On brackets placed by hand, in any knob order with repeats, the critical-value pass
    /// gives the integer pass's totals and bracket contents exactly.
    #[test]
    fn the_critical_value_pass_equals_the_integer_pass() {
        let r = receipts(4000);
        let opts = Options {
            warmup: 50,
            deadline: Nanos::from_millis(300),
        };
        for (spec, knobs) in [
            ("phi:window=50", vec![3.0, 0.1, 12.0, 1.0, 3.0, 0.5]),
            ("exp-phi:window=50", vec![0.5, 3.0, 0.05, 1.0, 12.0, 1.0]),
            ("satzger:window=50", vec![0.2, 0.9, 0.5, 0.999, 0.5, 0.01]),
            ("fixed:check=40ms", vec![0.0, 2e8, 5e7, 1e6, 5e7]),
            // A deadline at each receipt: at the knob value 0 every crash point is late
            // and continues the suspicion that began at the first receipt, so its
            // detection time is 0, and the first bracket starts there. At 4.2e12 ns
            // (70 minutes, just under the pass's limit of 2^42) the detection times'
            // sum passes 2^53 after about 2,100 crash points (of 3,950): exact only if
            // the `f64` partial sums are moved to integers every FLUSH points.
            ("fixed", vec![0.0, 2e8, 0.0, 5e7, 4.2e12]),
        ] {
            let s = parse(spec).unwrap().remove(0);
            let make = || s.config.family(r.interval, &knobs);
            let lo0 = if spec == "fixed" { 0 } else { 150_000_000 };
            let brackets: Vec<[Bracket; 2]> = knobs
                .iter()
                .map(|_| {
                    [
                        Bracket::new(lo0, lo0 + 100_000_000, 1000),
                        Bracket::new(1, 900_000_000, 1000),
                    ]
                })
                .collect();
            let (lanes, filled) = main_pass(&r, &make, &opts, false, &brackets).expect("a monotone family");
            let mut again = brackets.clone();
            let want = general::main_pass(&r, &make, &opts, false, &mut again);
            assert_eq!(lanes, want, "{spec}");
            if lo0 > 0 {
                assert!(lanes.iter().any(|l| l.mistakes > 0 && l.below[0] > 0), "{spec}");
            } else {
                // Detection times at the bracket's start (the late pairs) and inside it.
                assert!(filled.iter().any(|b| b[0].at_lo > 0), "{spec}");
                assert!(filled.iter().any(|b| b[0].inside > 0), "{spec}");
            }
            for (x, y) in filled.iter().zip(&again) {
                for (p, q) in x.iter().zip(y) {
                    let (mut pv, mut qv) = (p.values.clone(), q.values.clone());
                    pv.sort_unstable();
                    qv.sort_unstable();
                    assert_eq!(
                        (p.at_lo, p.at_hi, p.inside, pv),
                        (q.at_lo, q.at_hi, q.inside, qv),
                        "{spec}"
                    );
                }
            }
        }
    }

    /// From any hint, the search near it gives the binary search's count, on rows with
    /// repeated values and at both ends.
    #[test]
    fn the_search_near_a_hint_equals_the_binary_search() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for n in [0usize, 1, 2, 5, 9, 40] {
            let mut row: Vec<f64> = (0..n).map(|_| rng.random_range(0..12) as f64).collect();
            row.sort_by(f64::total_cmp);
            for bound in -1..14 {
                let pred = |t: f64| t < bound as f64;
                let want = row.partition_point(|&t| pred(t));
                for hint in 0..n + 3 {
                    assert_eq!(count_near(&row, hint, pred), want, "{row:?} < {bound} from {hint}");
                }
            }
        }
    }

    /// The AVX2 kernel and the portable one give the same bits on rows with every kind
    /// of offset (at or before the receipt, fresh, never, on a bracket's ends), from
    /// totals already under way.
    #[test]
    fn the_fresh_pair_kernels_agree() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let width = 13;
        let mut make = || {
            let mut chunk = Chunk::new(width);
            for s in 0..ROWS {
                chunk.big_a[s] = rng.random_range(-50..50) as f64;
                let mut t = rng.random_range(-100..20) as f64;
                for i in 0..width {
                    t += rng.random_range(0..40) as f64;
                    chunk.rows[s * chunk.stride + i] = if rng.random::<f64>() < 0.1 { f64::INFINITY } else { t };
                }
            }
            let vals = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f64> {
                (0..chunk.stride).map(|_| rng.random_range(0..100) as f64).collect()
            };
            let mut lo0 = vals(&mut rng);
            let lo1 = vals(&mut rng);
            // The exact sample's brackets, NaN, in some lanes.
            lo0[2] = f64::NAN;
            lo0[9] = f64::NAN;
            let fresh = Fresh {
                sum: vals(&mut rng),
                max: vals(&mut rng),
                below: [vals(&mut rng), vals(&mut rng)],
                hi: [
                    lo0.iter().map(|l| l + 30.0).collect(),
                    lo1.iter().map(|l| l + 5.0).collect(),
                ],
                lo: [lo0, lo1],
            };
            (fresh, chunk)
        };
        let (mut f, mut chunk) = make();
        // Offsets exactly at the receipt (not fresh) and brackets that overlap, with
        // detection times in both.
        for s in [1, 4, 9] {
            chunk.rows[s * chunk.stride + 3] = 0.0;
        }
        for i in [0, 5, 11] {
            f.lo[1][i] = f.lo[0][i] + 10.0;
            f.hi[1][i] = f.lo[0][i] + 20.0;
            for s in 1..ROWS {
                chunk.big_a[s] = 0.0;
                chunk.rows[s * chunk.stride + i] = f.lo[0][i] + 15.0;
            }
        }
        // The definition, pair by pair.
        let mut want = Fresh {
            sum: f.sum.clone(),
            max: f.max.clone(),
            below: f.below.clone(),
            lo: f.lo.clone(),
            hi: f.hi.clone(),
        };
        let mut want_hits = chunk.hits.clone();
        let blocks = chunk.stride / LANES;
        for s in 1..ROWS {
            for i in 0..chunk.stride {
                let t = chunk.rows[s * chunk.stride + i];
                if t > 0.0 && t < f64::INFINITY {
                    let x = (chunk.big_a[s] + t).max(0.0);
                    want.sum[i] += x;
                    want.max[i] = want.max[i].max(x);
                    for q in 0..2 {
                        want.below[q][i] += f64::from(u8::from(x < want.lo[q][i]));
                    }
                    let hit = (0..2).any(|q| want.lo[q][i] <= x && x <= want.hi[q][i]);
                    want_hits[s * blocks + i / LANES] |= u8::from(hit) << (i % LANES);
                } else {
                    want.max[i] = want.max[i].max(0.0);
                }
            }
        }
        let (mut g, mut again) = (
            Fresh {
                sum: f.sum.clone(),
                max: f.max.clone(),
                below: f.below.clone(),
                lo: f.lo.clone(),
                hi: f.hi.clone(),
            },
            Chunk {
                stride: chunk.stride,
                rows: chunk.rows.clone(),
                big_a: chunk.big_a,
                hits: chunk.hits.clone(),
            },
        );
        fresh_kernel(&mut f, &mut chunk, 1, ROWS);
        fresh_rows(&mut g, &mut again, 1, ROWS);
        assert_eq!((&f.sum, &f.max, &f.below), (&g.sum, &g.max, &g.below));
        assert_eq!(chunk.hits, again.hits);
        assert!(chunk.hits.iter().any(|&h| h != 0));
        assert_eq!((&f.sum, &f.max, &f.below), (&want.sum, &want.max, &want.below));
        assert_eq!(chunk.hits, want_hits);
    }

    /// The searches of a row in order give the scan's counts from any hints, and `ok`
    /// only when both ends of its finite part are exact.
    #[test]
    fn the_searches_of_a_row_in_order_equal_its_scan() {
        let inf = f64::INFINITY;
        let row = [-5.0, 0.0, 3.0, 7.0, 7.0, 10.0, 12.0, 15.0, 20.0, 31.0, inf, inf];
        for g in [-6.0, 0.0, 7.0, 7.5, 15.0, 40.0] {
            for lim in [-6.0, 7.0, 12.5, 100.0] {
                let want = scan_kernel(&row, g, lim);
                for hint in [0, 1, 5, 9, 12] {
                    let before = Scan {
                        ok: true,
                        e: hint,
                        c: hint,
                        finite: hint,
                        f: hint,
                    };
                    assert_eq!(critical(&row, g, lim, &before), want, "g {g}, lim {lim}, hint {hint}");
                }
            }
        }
        let start = Scan {
            ok: true,
            e: 0,
            c: 0,
            finite: 0,
            f: 0,
        };
        assert!(critical(&[inf, inf], 1.0, 1.0, &start).ok);
        for bad in [[1.0, BIG], [-BIG, 1.0], [1.0, 2.0 * BIG]] {
            assert!(!critical(&bad, 1.0, 1.0, &start).ok, "{bad:?}");
        }
        assert!(critical(&[-BIG / 2.0, BIG / 2.0], 1.0, 1.0, &start).ok);
    }

    /// The scan of a row: its counts, and `ok` only for a row in order of exact or
    /// never-reached offsets.
    #[test]
    fn a_scan_counts_a_row_and_refuses_one_out_of_order() {
        let inf = f64::INFINITY;
        let row = [-5.0, 0.0, 3.0, 7.0, 7.0, 10.0, inf, inf];
        // e: <= 0; c: < g; finite; f: <= lim.
        let scan = scan_kernel(&row, 7.0, 7.0);
        assert_eq!(
            scan,
            Scan {
                ok: true,
                e: 2,
                c: 3,
                finite: 6,
                f: 5
            }
        );
        assert_eq!(scan_kernel(&row, 7.5, 10.0).c, 5);
        assert_eq!(
            scan_kernel(&[], 1.0, 1.0),
            Scan {
                ok: true,
                e: 0,
                c: 0,
                finite: 0,
                f: 0
            }
        );
        for bad in [
            vec![1.0, 3.0, 2.0],
            vec![1.0, f64::NAN, 2.0],
            vec![f64::NAN],
            vec![1.0, BIG],
            vec![-BIG, 1.0],
            vec![f64::NEG_INFINITY, 1.0],
            vec![inf, 1.0],
        ] {
            assert!(!scan_kernel(&bad, 1.0, 1.0).ok, "{bad:?}");
        }
        assert!(scan_kernel(&[1.0, BIG / 2.0, inf], 1.0, 1.0).ok);
    }

    /// The pass declines what it cannot replay exactly (receipt times from `2^52` ns on
    /// or before 0, a negative deadline, a NaN knob value) or was not asked for (no knob
    /// values, brackets for another number of them): the general pass replays those.
    #[test]
    fn the_pass_declines_what_it_cannot_replay_exactly() {
        let r = receipts(300);
        let s = parse("phi:window=50").unwrap().remove(0);
        let opts = Options {
            warmup: 50,
            deadline: Nanos::from_millis(300),
        };
        let bracket = [Bracket::new(0, 0, 0), Bracket::new(0, 0, 0)];
        let run = |r: &Receipts, knobs: &[f64], opts: &Options, width: usize| {
            let brackets = vec![bracket.clone(); width];
            main_pass(r, &|| s.config.family(r.interval, knobs), opts, true, &brackets).is_some()
        };
        let moved = |by: i64| {
            let mut m = r.clone();
            m.recv.iter_mut().for_each(|t| t.0 += by);
            if let Some(send) = &mut m.send {
                send.iter_mut().for_each(|t| t.0 += by);
            }
            m
        };
        let (first, last) = (r.recv[0].0, r.recv[r.recv.len() - 1].0);
        assert!(run(&r, &[1.0, 8.0], &opts, 2));
        assert!(run(&moved((1 << 52) - 1 - last), &[1.0, 8.0], &opts, 2));
        assert!(!run(&moved((1 << 52) - last), &[1.0, 8.0], &opts, 2));
        assert!(run(&moved(-first), &[1.0, 8.0], &opts, 2));
        assert!(!run(&moved(-first - 1), &[1.0, 8.0], &opts, 2));
        let before = Options {
            deadline: Nanos(-1),
            ..opts
        };
        assert!(!run(&r, &[1.0, 8.0], &before, 2));
        let at_receipt = Options {
            deadline: Nanos(0),
            ..opts
        };
        assert!(run(&r, &[1.0, 8.0], &at_receipt, 2));
        assert!(!run(&r, &[1.0, 8.0], &opts, 1));
        assert!(!run(&r, &[], &opts, 0));
        assert!(!run(&r, &[1.0, f64::NAN], &opts, 2));
    }

    /// A family without knob values of its own (one detector per value) is left to the
    /// general pass.
    #[test]
    fn a_family_of_separate_detectors_is_left_to_the_general_pass() {
        let r = receipts(300);
        let s = parse("akka:window=50").unwrap().remove(0);
        let knobs = [1.0, 8.0];
        let brackets = vec![[Bracket::new(0, 0, 0), Bracket::new(0, 0, 0)]; 2];
        let opts = Options {
            warmup: 50,
            deadline: Nanos::from_millis(300),
        };
        assert!(main_pass(&r, &|| s.config.family(r.interval, &knobs), &opts, true, &brackets).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 16, .. proptest::prelude::ProptestConfig::default() })]

        /// Knob values in any order, repeated, tiny (deadlines at or before the receipt) or
        /// far out (offsets beyond the exact range of `f64`, never), on traces with late
        /// receipts and sender stalls, with brackets from a small sample (some of which
        /// miss), up to 23 values (three blocks of the fresh-pair kernel): every metric
        /// of the family is that of one replay per value.
        #[test]
        fn the_family_equals_one_replay_per_value(
            seed in proptest::prelude::any::<u64>(),
            n in 400u64..1500,
            stalls in proptest::prelude::any::<bool>(),
            picks in proptest::collection::vec(0usize..11, 1..24),
            samples in 2usize..300,
        ) {
            let r = receipts_from(seed, n, stalls);
            let opts = Options { warmup: 30, deadline: Nanos::from_millis(400) };
            let l = crate::replay::evaluated_length(&r, opts.warmup).unwrap();
            for (spec, grid) in [
                ("phi:window=30", [0.01, 0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 16.0, 300.0]),
                ("exp-phi:window=30", [0.01, 0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 16.0, 1e12]),
                ("satzger:window=30", [1e-9, 0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99, 1.0]),
                ("fixed:check=30ms", [0.0, 1.0, 1e3, 1e6, 5e6, 20e6, 50e6, 100e6, 400e6, 2e9, 9e15]),
            ] {
                let s = parse(spec).unwrap().remove(0);
                let knobs: Vec<f64> = picks.iter().map(|&p| grid[p]).collect();
                let sizes = general::Sizes { samples, gather_cap: 64 };
                let got = general::replay(&r, &|| s.config.family(r.interval, &knobs), &opts, l, sizes);
                for (k, g) in knobs.iter().zip(&got) {
                    let one = crate::replay::replay_detector(&r, s.config.detector(r.interval, *k).as_mut(), &opts).unwrap();
                    proptest::prop_assert_eq!(g, &one, "{} at {}", spec, k);
                }
            }
        }
    }
}

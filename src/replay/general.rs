//! The replay of any family: one deadline per (receipt, knob value), folded into
//! per-knob totals held as a structure of arrays.
//!
//! The percentiles are found by selection, not sorting, with memory bounded whatever the
//! trace length:
//!
//! 1. A first, light pass replays the family but asks for deadlines only at every
//!    `stride`-th crash point. From that sample, each percentile gets a bracket
//!    `[lo, hi]` around its expected place, a few standard deviations of the sample
//!    rank wide.
//! 2. The main pass computes every metric and, per percentile, counts the detection
//!    times below `lo`, at `lo` and at `hi`, and gathers those strictly inside; the
//!    rank then falls in one of these and is selected there. It runs on the deadlines'
//!    offsets from their receipt in `f64` (integers, exact below `2^52`), in branch-free
//!    loops over the knob values that compile to vector code, AVX2 where the processor
//!    has it; a trace or a deadline out of that range takes the same pass in integers.
//! 3. Only when it does not (the sample misled, or the bracket held too many values)
//!    do further passes narrow it down ([`Collector`]).
//!
//! With at most [`Sizes::samples`] crash points the sample is the whole set and the
//! percentiles come from it directly.

pub(super) use crate::detector::BIG;
use crate::detector::Family;
use crate::metrics::{Chains, Collector, Detection, Metrics, Start, detection_time, nearest_rank};
use crate::replay::{Options, origin};
use crate::simd::keep;
use crate::time::Nanos;
use crate::trace::Receipts;

/// How the percentile search is sized.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sizes {
    /// Crash points sampled for the brackets (at least; `n / 128` on longer traces).
    pub samples: usize,
    /// Detection times gathered inside one bracket before the search falls back to
    /// narrowing passes.
    pub gather_cap: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            samples: 1 << 14,
            gather_cap: 1 << 18,
        }
    }
}

/// The percentiles reported.
const PERCENTILES: [f64; 2] = [0.5, 0.99];

/// One percentile's bracket and what the main pass found in it.
#[derive(Clone, Debug)]
pub(super) struct Bracket {
    pub(super) lo: i64,
    pub(super) hi: i64,
    below: u64,
    pub(super) at_lo: u64,
    pub(super) at_hi: u64,
    pub(super) inside: u64,
    pub(super) values: Vec<i64>,
    cap: usize,
}

impl Bracket {
    pub(super) fn new(lo: i64, hi: i64, cap: usize) -> Self {
        Bracket {
            lo,
            hi,
            cap,
            below: 0,
            at_lo: 0,
            at_hi: 0,
            inside: 0,
            values: Vec::new(),
        }
    }

    #[cfg(test)]
    fn offer(&mut self, t: i64) {
        if t < self.lo {
            self.below += 1;
        } else if t <= self.hi {
            self.offer_in(t);
        }
    }

    /// A detection time in `[lo, hi]`.
    #[inline]
    pub(super) fn offer_in(&mut self, t: i64) {
        if t == self.lo {
            self.at_lo += 1;
        } else if t == self.hi {
            self.at_hi += 1;
        } else {
            self.inside += 1;
            if self.values.len() < self.cap {
                self.values.push(t);
            }
        }
    }

    /// Counts `infinite` detection times (value `i64::MAX`, never offered).
    fn add_infinite(&mut self, infinite: u64) {
        if self.lo == i64::MAX {
            self.at_lo += infinite;
        } else if self.hi == i64::MAX {
            self.at_hi += infinite;
        }
    }

    /// The value of 1-based rank `r` among `finite` finite detection times (`n` in all),
    /// or where to look for it.
    fn resolve(&mut self, r: usize, finite: usize) -> Start {
        if r > finite {
            return Start::Found(i64::MAX);
        }
        let r = r as u64;
        let (below, at_lo, inside, at_hi) = (self.below, self.at_lo, self.inside, self.at_hi);
        if r <= below {
            return Start::Range {
                lo: 0,
                hi: self.lo,
                index: (r - 1) as usize,
                count: below as usize,
            };
        }
        if r <= below + at_lo {
            return Start::Found(self.lo);
        }
        if r <= below + at_lo + inside {
            let index = (r - below - at_lo - 1) as usize;
            if inside as usize == self.values.len() {
                return Start::Found(*self.values.select_nth_unstable(index).1);
            }
            // Detection times are never negative: a bracket open below starts at 0.
            return Start::Range {
                lo: self.lo.saturating_add(1).max(0),
                hi: self.hi,
                index,
                count: inside as usize,
            };
        }
        if r <= below + at_lo + inside + at_hi {
            return Start::Found(self.hi);
        }
        let seen = below + at_lo + inside + at_hi;
        Start::Range {
            lo: self.hi.saturating_add(1),
            hi: i64::MAX,
            index: (r - seen - 1) as usize,
            count: finite - seen as usize,
        }
    }
}

/// One knob value's totals from the main pass.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Lane {
    pub(super) sum: i128,
    pub(super) mistakes: u64,
    pub(super) suspect: i64,
    pub(super) within: u64,
    pub(super) infinite: u64,
    pub(super) max: i64,
    /// Per percentile: the detection times below its bracket.
    pub(super) below: [u64; 2],
}

/// An estimate of the detection time of a crash point from its own deadline alone,
/// `max(a, τ) - origin` (`i64::MAX` when never detected): exact but for the crash
/// points that continue a chain of late receipts; good enough to place brackets.
#[inline]
fn estimate(a: Nanos, tau: Nanos, origin: Nanos) -> i64 {
    if tau == Nanos::MAX {
        i64::MAX
    } else {
        a.max(tau).0 - origin.0
    }
}

/// The main pass in integers: every metric of every knob value, and the detection times
/// inside the brackets (none with the `exact` sample, which needs none).
pub(super) fn main_pass(
    receipts: &Receipts,
    make: &dyn Fn() -> Box<dyn Family>,
    opts: &Options,
    exact: bool,
    brackets: &mut [[Bracket; 2]],
) -> Vec<Lane> {
    let m = receipts.len();
    let w = opts.warmup;
    let d = opts.deadline;
    let width = brackets.len();
    let mut lanes = vec![Lane::default(); width];
    let mut tau = vec![Nanos::MAX; width];
    let mut family = make();
    let mut prev_tau = vec![Nanos::MAX; width];
    let mut chains = Chains::new(width);
    for j in 0..m {
        let hb = receipts.heartbeat(j);
        let a = hb.recv;
        if j > w {
            // Gap j-1 ends with this receipt: `tau` holds τ_{j-1}, `prev_tau` τ_{j-2}.
            // The evaluated span starts in trust.
            let a_prev = receipts.recv[j - 1];
            let first = j == w + 1;
            for ((lane, &t), &p) in lanes.iter_mut().zip(&tau).zip(&prev_tau) {
                if t < a {
                    lane.suspect += (a - a_prev.max(t)).0;
                    lane.mistakes += u64::from(t > a_prev || first || p >= a_prev);
                }
            }
        }
        std::mem::swap(&mut prev_tau, &mut tau);
        family.observe(&hb);
        family.deadlines(&mut tau);
        let starts = chains.step(a, &tau);
        if j >= w {
            let o = hb.send.unwrap_or(a);
            for (((lane, &t), &p), bs) in lanes.iter_mut().zip(&tau).zip(starts).zip(brackets.iter_mut()) {
                if t == Nanos::MAX {
                    lane.infinite += 1;
                    continue;
                }
                let x = detection_time(t, p, o);
                lane.sum += i128::from(x);
                lane.within += u64::from(x <= d.0);
                lane.max = lane.max.max(x);
                if exact {
                    continue;
                }
                for (below, b) in lane.below.iter_mut().zip(bs.iter_mut()) {
                    *below += u64::from(x < b.lo);
                    if b.lo <= x && x <= b.hi {
                        b.offer_in(x);
                    }
                }
            }
        }
    }
    lanes
}

/// Detection times below this size (about 2.4 hours) can be summed in `f64` over
/// [`FLUSH`] crash points without rounding.
pub(super) const SUM_SAFE: f64 = (1u64 << 42) as f64;

/// Crash points between two transfers of the `f64` partial sums into `i128`.
pub(super) const FLUSH: usize = 1024;

/// The brackets' ends per percentile and knob value, in `f64` (NaN, which no detection
/// time reaches, with the `exact` sample).
pub(super) fn bounds(brackets: &[[Bracket; 2]], exact: bool) -> ([Vec<f64>; 2], [Vec<f64>; 2]) {
    let bound = |p: usize, f: fn(&Bracket) -> i64| -> Vec<f64> {
        brackets
            .iter()
            .map(|bs| if exact { f64::NAN } else { f(&bs[p]) as f64 })
            .collect()
    };
    (
        [bound(0, |b| b.lo), bound(1, |b| b.lo)],
        [bound(0, |b| b.hi), bound(1, |b| b.hi)],
    )
}

/// Per-knob totals of the `f64` main pass, one array per quantity, so that the row
/// kernels run over contiguous arrays.
struct Columns {
    sum: Vec<f64>,
    within: Vec<f64>,
    infinite: Vec<f64>,
    max: Vec<f64>,
    below: [Vec<f64>; 2],
    suspect: Vec<f64>,
    mistakes: Vec<f64>,
    /// 1 when the last gap ended in trust (for the mistakes: the evaluated span starts
    /// in trust, so this is 1 at the start of gap `w` whatever came before).
    trust: Vec<f64>,
    /// The start `P` of the suspicion that never ends at the last crash point, as an
    /// absolute time ([evaluation.md](crate::docs::evaluation) §4).
    start: Vec<f64>,
    bad: Vec<f64>,
    lo: [Vec<f64>; 2],
    hi: [Vec<f64>; 2],
    /// Per knob value: 1 when the last detection time fell in a bracket.
    hits: Vec<u64>,
}

/// Gap `j` of every knob value: offsets `off` of its deadlines from `a_j`, length `g`.
#[inline(always)]
fn gap_kernel(c: &mut Columns, off: &[f64], g: f64) {
    let n = off.len();
    let (trust, suspect, mistakes) = (&mut c.trust[..n], &mut c.suspect[..n], &mut c.mistakes[..n]);
    for i in 0..n {
        let t = off[i];
        let late = t < g;
        let fresh = t > 0.0 || trust[i] > 0.0;
        suspect[i] += keep(late, g - t.max(0.0));
        mistakes[i] += keep(late & fresh, 1.0);
        trust[i] = keep(!late, 1.0);
    }
}

/// The start `P_j` of the suspicion that never ends, per knob value, from the offsets
/// `off` of the deadlines from `a` (absolute), in a warm-up receipt; `trust` is whether
/// gap `j-1` ended in trust, and becomes whether gap `j` (length `g`) does.
#[inline(always)]
fn chain_kernel(c: &mut Columns, off: &[f64], a: f64, g: f64) {
    let n = off.len();
    let (trust, start) = (&mut c.trust[..n], &mut c.start[..n]);
    for i in 0..n {
        let t = off[i];
        let fresh = t > 0.0;
        let was = trust[i] > 0.0;
        start[i] = keep(fresh, a + t) + keep(!fresh & was, a) + keep(!fresh & !was, start[i]);
        trust[i] = keep(t >= g, 1.0);
    }
}

/// The detection time of a crash point from the offset `t` of its deadline from its
/// receipt, `big_a = a_j - origin_j`, the start `p` of its suspicion that never ends and
/// its origin `o`: `big_a + t` when the deadline is after the receipt, else
/// `max(0, p - o)` (evaluation.md §4).
#[inline(always)]
fn detection(t: f64, big_a: f64, p: f64, o: f64) -> f64 {
    let fresh = t > 0.0;
    keep(fresh, big_a + t) + keep(!fresh, (p - o).max(0.0))
}

/// Crash point `j` of every knob value: offsets `off` from `a` (absolute),
/// `big_a = a_j - origin_j`, completeness deadline `dl`. `trust` still says whether gap
/// `j-1` ended in trust.
#[inline(always)]
fn crash_kernel(c: &mut Columns, off: &[f64], a: f64, big_a: f64, dl: f64) {
    let n = off.len();
    let (trust, start) = (&c.trust[..n], &mut c.start[..n]);
    let o = a - big_a;
    let (sum, within, infinite, max) = (
        &mut c.sum[..n],
        &mut c.within[..n],
        &mut c.infinite[..n],
        &mut c.max[..n],
    );
    let [b0, b1] = &mut c.below;
    let (b0, b1, bad) = (&mut b0[..n], &mut b1[..n], &mut c.bad[..n]);
    let (lo0, lo1, hi0, hi1) = (&c.lo[0][..n], &c.lo[1][..n], &c.hi[0][..n], &c.hi[1][..n]);
    let hits = &mut c.hits[..n];
    for i in 0..n {
        let t = off[i];
        let finite = t < f64::INFINITY;
        bad[i] += keep(!(t.abs() < BIG || t == f64::INFINITY), 1.0);
        // P_j: the deadline when it is after the receipt; else the suspicion in progress
        // (gap j-1 ended in suspicion) or the receipt. Infinite offsets give x = inf:
        // counted apart, kept out of the sum and the max.
        let fresh = t > 0.0;
        let was = trust[i] > 0.0;
        let p = keep(fresh, a + t) + keep(!fresh & was, a) + keep(!fresh & !was, start[i]);
        start[i] = p;
        let x = detection(t, big_a, p, o);
        let kept = keep(finite, x);
        sum[i] += kept;
        infinite[i] += keep(!finite, 1.0);
        within[i] += keep(x <= dl, 1.0);
        max[i] = max[i].max(kept);
        b0[i] += keep(x < lo0[i], 1.0);
        b1[i] += keep(x < lo1[i], 1.0);
        let hit = (x >= lo0[i]) & (x <= hi0[i]) | (x >= lo1[i]) & (x <= hi1[i]);
        hits[i] = u64::from(hit);
    }
}

crate::simd::multiversion!(fn gap_row(c: &mut Columns, off: &[f64], g: f64) -> () = gap_kernel;);
crate::simd::multiversion!(fn crash_row(c: &mut Columns, off: &[f64], a: f64, big_a: f64, dl: f64) -> () = crash_kernel;);
crate::simd::multiversion!(fn chain_row(c: &mut Columns, off: &[f64], a: f64, g: f64) -> () = chain_kernel;);

/// The main pass in `f64`, on the deadline offsets ([`Family::offsets`]): the same
/// totals as [`main_pass`], exactly, since every quantity is an integer held exactly
/// (checked: times and offsets under `2^52`, detection times under [`SUM_SAFE`]), in
/// loops over the knob values without branches, which the compiler turns into vector
/// code. `None` when a check fails; the integer pass then runs instead.
fn main_pass_f64(
    receipts: &Receipts,
    make: &dyn Fn() -> Box<dyn Family>,
    opts: &Options,
    exact: bool,
    brackets: &mut [[Bracket; 2]],
) -> Option<Vec<Lane>> {
    let a = &receipts.recv;
    let m = a.len();
    let w = opts.warmup;
    if a[m - 1].0 as f64 >= BIG || a[0].0 < 0 {
        return None;
    }
    let width = brackets.len();
    let dl = (opts.deadline.0 as f64).min(BIG);
    let (lo, hi) = bounds(brackets, exact);
    let zeros = || vec![0.0f64; width];
    let mut c = Columns {
        sum: zeros(),
        within: zeros(),
        infinite: zeros(),
        max: zeros(),
        below: [zeros(), zeros()],
        suspect: zeros(),
        mistakes: zeros(),
        trust: vec![1.0; width],
        start: zeros(),
        bad: zeros(),
        lo,
        hi,
        hits: vec![0; width],
    };
    let mut total = vec![0i128; width];
    let mut off = zeros();
    let mut scratch = vec![Nanos::MAX; width];
    let mut hit_list = vec![0usize; width];
    let mut family = make();
    for j in 0..m {
        let hb = receipts.heartbeat(j);
        family.observe(&hb);
        family.offsets(hb.recv, &mut scratch, &mut off);
        let at = hb.recv.0 as f64;
        if j < w {
            // Warm-up: only the chains of late receipts, which may reach into the
            // evaluated span.
            for (bad, &t) in c.bad.iter_mut().zip(&off) {
                *bad += if t.abs() < BIG || t == f64::INFINITY { 0.0 } else { 1.0 };
            }
            chain_row(&mut c, &off, at, (a[j + 1].0 - a[j].0) as f64);
            continue;
        }
        let o = hb.send.unwrap_or(hb.recv);
        let big_a = (hb.recv.0 - o.0) as f64;
        crash_row(&mut c, &off, at, big_a, dl);
        if j == w {
            // The evaluated span starts in trust.
            c.trust.fill(1.0);
        }
        if j + 1 < m {
            let g = (a[j + 1].0 - a[j].0) as f64;
            gap_row(&mut c, &off, g);
        }
        if c.hits.iter().fold(0, |any, &h| any | h) != 0 {
            // The knob values hit, listed without a branch per value.
            let mut count = 0;
            for (i, &h) in c.hits.iter().enumerate() {
                hit_list[count] = i;
                count += h as usize;
            }
            for &i in &hit_list[..count] {
                let x = detection(off[i], big_a, c.start[i], at - big_a);
                for (p, b) in brackets[i].iter_mut().enumerate() {
                    if x >= c.lo[p][i] && x <= c.hi[p][i] {
                        b.offer_in(x as i64);
                    }
                }
            }
        }
        if (j + 1 - w) % FLUSH == 0 || j + 1 == m {
            for (t, s) in total.iter_mut().zip(c.sum.iter_mut()) {
                *t += *s as i128;
                *s = 0.0;
            }
        }
    }
    if c.bad.iter().any(|&b| b > 0.0) || c.max.iter().any(|&x| x >= SUM_SAFE) {
        return None;
    }
    Some(
        (0..width)
            .map(|i| Lane {
                sum: total[i],
                mistakes: c.mistakes[i] as u64,
                suspect: c.suspect[i] as i64,
                within: c.within[i] as u64,
                infinite: c.infinite[i] as u64,
                max: c.max[i] as i64,
                below: [c.below[0][i] as u64, c.below[1][i] as u64],
            })
            .collect(),
    )
}

/// Where to bracket the `p` percentile, nearest rank `r` of `n` crash points, in a
/// sample of `ns` of them: the sample's ranks a few binomial standard deviations either
/// side of where it would be (`None`: unbounded on that side). The brackets only place
/// the search for the percentile (one outside them is found by narrowing passes), so
/// any ranks give the same percentiles; these make that search rare.
fn bracket_ranks(p: f64, r: usize, n: usize, ns: usize) -> (Option<usize>, Option<usize>) {
    let q = r as f64 / n as f64 * ns as f64;
    let margin = 4.0 * (ns as f64 * p * (1.0 - p)).sqrt() + 3.0;
    let lo = (q - margin).floor();
    let hi = (q + margin).ceil();
    (
        (lo >= 0.0).then_some(lo as usize),
        (hi < ns as f64).then_some(hi as usize),
    )
}

/// Replays a family built by `make` over `receipts` (its evaluated length `l` checked).
pub(super) fn replay(
    receipts: &Receipts,
    make: &dyn Fn() -> Box<dyn Family>,
    opts: &Options,
    l: Nanos,
    sizes: Sizes,
) -> Vec<Metrics> {
    let m = receipts.len();
    let w = opts.warmup;
    let n = m - w;
    let d = opts.deadline;
    let ranks = PERCENTILES.map(|p| nearest_rank(p, n));

    // Pass 1: a sample of the detection times of every knob value.
    let stride = n.div_ceil(sizes.samples.max(n / 128).max(1)).max(1);
    let mut family = make();
    let width = family.width();
    let mut tau = vec![Nanos::MAX; width];
    let mut sample: Vec<Vec<i64>> = vec![Vec::with_capacity(n.div_ceil(stride)); width];
    let exact = stride == 1;
    // The exact sample follows the chains of late receipts from the first receipt on; a
    // sparse one estimates from each crash point's own deadline.
    let mut chains = Chains::new(width);
    for j in 0..m {
        let hb = receipts.heartbeat(j);
        family.observe(&hb);
        let o = hb.send.unwrap_or(hb.recv);
        if exact {
            family.deadlines(&mut tau);
            let starts = chains.step(hb.recv, &tau);
            if j >= w {
                for ((s, &t), &p) in sample.iter_mut().zip(&tau).zip(starts) {
                    s.push(detection_time(t, p, o));
                }
            }
        } else if j >= w && (j - w) % stride == 0 {
            family.deadlines(&mut tau);
            for (s, &t) in sample.iter_mut().zip(&tau) {
                s.push(estimate(hb.recv, t, o));
            }
        }
    }
    let brackets: Vec<[Bracket; 2]> = sample
        .iter_mut()
        .map(|s| {
            let ns = s.len();
            // Ranks are selected in increasing order where they come so: after selecting
            // rank i, everything from i + 1 on is at least that value, so the next rank
            // is selected among those alone.
            let mut from = 0;
            let mut rank = |index: usize| -> i64 {
                if index >= ns {
                    return i64::MAX;
                }
                let v = if index >= from {
                    *s[from..].select_nth_unstable(index - from).1
                } else {
                    *s.select_nth_unstable(index).1
                };
                from = index + 1;
                v
            };
            let mut pick = |p: f64, r: usize| -> Bracket {
                if exact {
                    let v = rank(r - 1);
                    return Bracket::new(v, v, 0);
                }
                let (lo, hi) = bracket_ranks(p, r, n, ns);
                let lo = lo.map_or(i64::MIN, &mut rank);
                let hi = hi.map_or(i64::MAX, &mut rank);
                Bracket::new(lo, hi, sizes.gather_cap)
            };
            [pick(PERCENTILES[0], ranks[0]), pick(PERCENTILES[1], ranks[1])]
        })
        .collect();
    drop(sample);

    // Pass 2: every metric, and the detection times inside the brackets.
    let mut brackets = brackets;
    let lanes = if let Some((lanes, filled)) = super::monotone::main_pass(receipts, make, opts, exact, &brackets) {
        brackets = filled;
        lanes
    } else {
        // The f64 pass may give way after filling the brackets: the integer pass then
        // starts from them as they were.
        let empty = brackets.clone();
        match main_pass_f64(receipts, make, opts, exact, &mut brackets) {
            Some(lanes) => lanes,
            None => {
                brackets = empty;
                main_pass(receipts, make, opts, exact, &mut brackets)
            }
        }
    };

    // The percentiles: from the brackets, or from further passes where they missed.
    let mut collectors: Vec<Collector> = lanes
        .iter()
        .zip(brackets.iter_mut())
        .map(|(lane, [b50, b99])| {
            if exact {
                // The sample was every crash point, infinite ones included.
                return Collector::new([Start::Found(b50.lo), Start::Found(b99.lo)]);
            }
            let finite = n - lane.infinite as usize;
            [b50.below, b99.below] = lane.below;
            b50.add_infinite(lane.infinite);
            b99.add_infinite(lane.infinite);
            Collector::new([b50.resolve(ranks[0], finite), b99.resolve(ranks[1], finite)])
        })
        .collect();
    drop(brackets);
    while collectors.iter_mut().fold(false, |any, c| c.start_pass() | any) {
        let mut family = make();
        let mut chains = Chains::new(width);
        for j in 0..m {
            let hb = receipts.heartbeat(j);
            family.observe(&hb);
            family.deadlines(&mut tau);
            let starts = chains.step(hb.recv, &tau);
            if j >= w {
                let o = hb.send.unwrap_or(hb.recv);
                for ((c, &t), &p) in collectors.iter_mut().zip(&tau).zip(starts) {
                    c.offer(detection_time(t, p, o));
                }
            }
        }
        collectors.iter_mut().for_each(Collector::end_pass);
    }

    let origin = origin(receipts);
    collectors
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let [p50, p99] = c.values();
            let lane = &lanes[i];
            let infinite = lane.infinite > 0;
            Metrics {
                heartbeats: n as u64,
                evaluated: l,
                mistakes: lane.mistakes,
                suspect_time: Nanos(lane.suspect),
                detection: Detection {
                    mean_ns: if infinite {
                        f64::INFINITY
                    } else {
                        lane.sum as f64 / n as f64
                    },
                    p50: Nanos(p50),
                    p99: Nanos(p99),
                    max: Nanos(if infinite { i64::MAX } else { lane.max }),
                    completeness: lane.within as f64 / n as f64,
                    deadline: d,
                    origin,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::spec::parse;
    use crate::replay::{evaluated_length, replay_detector};
    use crate::trace::TraceBuilder;
    use rand::{Rng, SeedableRng};

    /// Delays that change regime halfway, so that a small sample misplaces brackets;
    /// heartbeats from `start` on.
    fn receipts_from(n: u64, start: i64) -> Receipts {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut b = TraceBuilder::new(true);
        for i in 1..=n {
            let send = start + i as i64 * 100_000_000;
            let spread = if i < n / 2 { 5_000_000 } else { 400_000_000 };
            let delay = 1_000_000 + rng.random_range(0..spread);
            if rng.random::<f64>() < 0.01 {
                b.push(i, Some(Nanos(send)), None).unwrap();
            } else {
                b.push(i, Some(Nanos(send)), Some(Nanos(send + delay))).unwrap();
            }
        }
        b.finish(None).unwrap().accepted()
    }

    fn receipts(n: u64) -> Receipts {
        receipts_from(n, 0)
    }

    /// The integer pass and the `f64` pass give the same totals; times beyond `2^52` ns
    /// leave the `f64` pass to the integer one, with the same metrics.
    #[test]
    fn the_f64_pass_equals_the_integer_pass() {
        let opts = Options {
            warmup: 50,
            deadline: Nanos::from_millis(300),
        };
        let r = receipts(2000);
        for spec in [
            "phi:window=50",
            "exp-phi:window=50",
            "satzger:window=50",
            "akka:window=50",
            "chen:window=50",
        ] {
            let s = parse(spec).unwrap().remove(0);
            let knobs: Vec<f64> = match s.config.name() {
                "satzger" => vec![0.2, 0.9, 0.5, 0.999],
                "chen" => vec![0.0, 1e6, 5e7, 3e8],
                _ => vec![0.5, 3.0, 1.0, 12.0],
            };
            let make = || s.config.family(r.interval, &knobs);
            let mut brackets: Vec<[Bracket; 2]> = knobs
                .iter()
                .map(|_| {
                    [
                        Bracket::new(30_000_000, 200_000_000, 100),
                        Bracket::new(1, 400_000_000, 100),
                    ]
                })
                .collect();
            let fast = main_pass_f64(&r, &make, &opts, false, &mut brackets).expect("in range");
            let mut again: Vec<[Bracket; 2]> = brackets
                .iter()
                .map(|[a, b]| [Bracket::new(a.lo, a.hi, 100), Bracket::new(b.lo, b.hi, 100)])
                .collect();
            let lanes = main_pass(&r, &make, &opts, false, &mut again);
            assert_eq!(fast, lanes, "{spec}");
            for (x, y) in brackets.iter().zip(&again) {
                for (p, q) in x.iter().zip(y) {
                    assert_eq!(
                        (p.at_lo, p.at_hi, p.inside, &p.values),
                        (q.at_lo, q.at_hi, q.inside, &q.values),
                        "{spec}"
                    );
                }
            }
            // Far from time 0, only the integer pass runs.
            let late = receipts_from(2000, 1 << 53);
            let mut brackets = vec![[Bracket::new(0, 0, 0), Bracket::new(0, 0, 0)]; knobs.len()];
            assert!(
                main_pass_f64(
                    &late,
                    &|| s.config.family(late.interval, &knobs),
                    &opts,
                    true,
                    &mut brackets
                )
                .is_none()
            );
            let got = crate::replay::replay_family(&late, &|| s.config.family(late.interval, &knobs), &opts).unwrap();
            let early = crate::replay::replay_family(&r, &make, &opts).unwrap();
            assert_eq!(got.len(), early.len());
            for (k, g) in knobs.iter().zip(&got) {
                let one = replay_detector(&late, s.config.detector(late.interval, *k).as_mut(), &opts).unwrap();
                assert_eq!(*g, one, "{spec} at {k}");
            }
        }
    }

    #[test]
    fn every_way_to_the_percentiles_gives_the_exact_ones() {
        let r = receipts(3000);
        let opts = Options {
            warmup: 50,
            deadline: Nanos::from_millis(300),
        };
        let l = evaluated_length(&r, opts.warmup).unwrap();
        for spec in [
            "phi:window=50",
            "exp-phi:window=50",
            "satzger:window=50",
            "akka:window=50",
        ] {
            let s = parse(spec).unwrap().remove(0);
            let knobs: Vec<f64> = match s.config.name() {
                "satzger" => vec![0.2, 0.9, 0.5, 0.999],
                _ => vec![0.5, 3.0, 1.0, 12.0],
            };
            let want: Vec<Metrics> = knobs
                .iter()
                .map(|&k| replay_detector(&r, s.config.detector(r.interval, k).as_mut(), &opts).unwrap())
                .collect();
            // Exact sample; brackets from a small sample; brackets that overflow their cap;
            // brackets missed by a tiny sample.
            for sizes in [
                Sizes::default(),
                Sizes {
                    samples: 200,
                    gather_cap: 1 << 20,
                },
                Sizes {
                    samples: 200,
                    gather_cap: 3,
                },
                Sizes {
                    samples: 2,
                    gather_cap: 1 << 20,
                },
            ] {
                let got = replay(&r, &|| s.config.family(r.interval, &knobs), &opts, l, sizes);
                assert_eq!(got, want, "{spec} with {sizes:?}");
            }
        }
    }

    #[test]
    fn a_bracket_sends_each_rank_where_it_lies() {
        let values = [5i64, 1, 9, 3, 3, 7, 12, 10, 3, 8];
        let mut b = Bracket::new(3, 9, 2);
        for &v in &values {
            b.offer(v);
        }
        // Below 3: {1}; at 3: three; inside (3, 9): {5, 7, 8}, of which 2 kept; at 9: one;
        // above: {10, 12}.
        assert_eq!((b.below, b.at_lo, b.inside, b.at_hi), (1, 3, 3, 1));
        let finite = values.len();
        assert_eq!(
            b.clone().resolve(1, finite),
            Start::Range {
                lo: 0,
                hi: 3,
                index: 0,
                count: 1
            }
        );
        assert_eq!(b.clone().resolve(4, finite), Start::Found(3));
        assert_eq!(
            b.clone().resolve(5, finite),
            Start::Range {
                lo: 4,
                hi: 9,
                index: 0,
                count: 3
            }
        );
        assert_eq!(b.clone().resolve(8, finite), Start::Found(9));
        assert_eq!(
            b.clone().resolve(10, finite),
            Start::Range {
                lo: 10,
                hi: i64::MAX,
                index: 1,
                count: 2
            }
        );
        assert_eq!(b.clone().resolve(11, finite), Start::Found(i64::MAX));
        // With room for every inside value, the rank is selected at once.
        let mut b = Bracket::new(3, 9, 10);
        for &v in &values {
            b.offer(v);
        }
        assert_eq!(b.clone().resolve(5, finite), Start::Found(5));
        assert_eq!(b.clone().resolve(7, finite), Start::Found(8));
        // Infinite detection times count at a bracket end of i64::MAX.
        let mut b = Bracket::new(3, i64::MAX, 10);
        b.offer(1);
        b.offer(4);
        b.add_infinite(2);
        assert_eq!(b.clone().resolve(3, 2), Start::Found(i64::MAX));
        assert_eq!(b.at_hi, 2);
    }
}

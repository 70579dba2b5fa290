//! `akka` over many thresholds at once, one history shared by the thresholds whose
//! histories agree.
//!
//! A threshold enters Akka's state only through the intervals it records (rule 3 of
//! [`akka`](super)): the history of threshold `t` is the one of every other threshold
//! that recorded the same intervals. After a heartbeat at `last` the deadline is
//! `last + ceil(m + s·root(t))`, non-decreasing in `root(t)` ([`akka_root`]), so at the
//! next arrival the thresholds of one history that still trust are those whose root is
//! at least a critical root: a history splits into two at most, never more. The members
//! of each history are kept sorted by root and the split is found by binary search (one
//! comparison when all of them agree, as they do until one of them suspects).
//!
//! Histories meet again. Two histories that each recorded the last `window` intervals
//! hold the same samples; when their exact sums also share their reference
//! ([`Stats::same_as`]), every later mean and deviation is the same bit for bit, and the
//! two become one.
//!
//! Every history computes its deadlines with the same functions as [`Akka`](super::Akka)
//! from a [`Stats`] in the same state as a separate detector's, so the deadlines, and
//! every metric, are those of separate replays exactly (checked by a property test
//! against one [`Akka`](super::Akka) per threshold).

use super::{AkkaParams, akka_root, deadline_at, moments, seed, trusts};
use crate::detector::window::Stats;
use crate::detector::{Family, ceil_affine, ceil_offset, offset_from};
use crate::time::Nanos;
use crate::trace::Heartbeat;

/// The thresholds that share one history.
#[derive(Clone, Debug)]
struct History {
    /// Knob indices, ordered by root (then index).
    members: Vec<usize>,
    /// Their roots, in the same order.
    roots: Vec<f64>,
    /// `members[0]` when the members are consecutive knob indices in order (their
    /// deadlines fill a contiguous part of the output).
    run: Option<usize>,
    stats: Stats,
    /// [`moments`] of `stats`.
    m: f64,
    s: f64,
    /// Consecutive arrivals at which this history recorded the interval.
    streak: usize,
}

impl History {
    fn new(members: Vec<usize>, roots: Vec<f64>, stats: Stats, m: f64, s: f64) -> Self {
        History {
            run: run_start(&members),
            members,
            roots,
            stats,
            m,
            s,
            streak: 0,
        }
    }

    /// The number of members (in root order) that no longer trust at `recv`.
    #[inline]
    fn suspecting(&self, last: Nanos, recv: Nanos) -> usize {
        let (m, s) = (self.m, self.s);
        let trusting = |r: f64| trusts(deadline_at(m, s, r, last), recv);
        let k = self.roots.len();
        if trusting(self.roots[0]) {
            0
        } else if !trusting(self.roots[k - 1]) {
            k
        } else {
            self.roots.partition_point(|&r| !trusting(r))
        }
    }

    fn record(&mut self, interval: i64, params: &AkkaParams) {
        self.stats.push(interval);
        (self.m, self.s) = moments(&self.stats, params);
        self.streak += 1;
    }
}

/// `members[0]` when `members` are consecutive integers in increasing order.
fn run_start(members: &[usize]) -> Option<usize> {
    let first = *members.first()?;
    members
        .iter()
        .enumerate()
        .all(|(i, &k)| k == first + i)
        .then_some(first)
}

/// `akka` at many thresholds, as a [`Family`] for the replay engine.
#[derive(Clone, Debug)]
pub struct AkkaFamily {
    params: AkkaParams,
    width: usize,
    histories: Vec<History>,
    last: Option<Nanos>,
    /// Histories that recorded each of the last `window` intervals (scratch).
    full: Vec<usize>,
}

impl AkkaFamily {
    /// The family of `akka` with `params` at `thresholds` (any order, duplicates
    /// allowed).
    pub fn new(params: AkkaParams, thresholds: &[f64]) -> Self {
        let roots: Vec<f64> = thresholds.iter().map(|&t| akka_root(t)).collect();
        let mut members: Vec<usize> = (0..roots.len()).collect();
        members.sort_by(|&a, &b| roots[a].total_cmp(&roots[b]).then(a.cmp(&b)));
        let sorted = members.iter().map(|&k| roots[k]).collect();
        let histories = if members.is_empty() {
            Vec::new()
        } else {
            vec![History::new(members, sorted, Stats::new(params.window), 0.0, 0.0)]
        };
        AkkaFamily {
            params,
            width: thresholds.len(),
            histories,
            last: None,
            full: Vec::new(),
        }
    }

    /// The number of distinct histories held now (1 while no threshold has suspected).
    pub fn histories(&self) -> usize {
        self.histories.len()
    }

    /// The moments `(m, s)` of the family's one history and the last heartbeat, from
    /// which every threshold's deadline follows (`deadline_at`); `None` before the
    /// first heartbeat or with more than one history.
    pub fn single(&self) -> Option<(f64, f64, Nanos)> {
        match (self.last, self.histories.as_slice()) {
            (Some(last), [h]) => Some((h.m, h.s, last)),
            _ => None,
        }
    }

    /// Whether a heartbeat at `recv` would split the family's one history: some of its
    /// thresholds trust at it and some do not. `false` before the first heartbeat or
    /// with more than one history.
    pub fn splits_at(&self, recv: Nanos) -> bool {
        match (self.last, self.histories.as_slice()) {
            (Some(last), [h]) => {
                let p = h.suspecting(last, recv);
                p > 0 && p < h.roots.len()
            }
            _ => false,
        }
    }

    /// The family at `thresholds` in the state of this one's single history, as if they
    /// had shared it from the start; `None` with more than one history or none.
    pub fn with_thresholds(&self, thresholds: &[f64]) -> Option<AkkaFamily> {
        let [h] = self.histories.as_slice() else {
            return None;
        };
        let mut fresh = AkkaFamily::new(self.params, thresholds);
        for g in &mut fresh.histories {
            (g.stats, g.m, g.s, g.streak) = (h.stats.clone(), h.m, h.s, h.streak);
        }
        fresh.last = self.last;
        Some(fresh)
    }

    /// Shows the family the next accepted heartbeat, as [`Family::observe`] does, and
    /// first calls `late(k, τ)` for each knob index `k` whose deadline `τ` this heartbeat
    /// did not beat (`τ <= hb.recv`: the threshold no longer trusted at it).
    pub fn step(&mut self, hb: &Heartbeat, mut late: impl FnMut(usize, Nanos)) {
        match self.last {
            None => {
                for h in &mut self.histories {
                    seed(&mut h.stats, &self.params);
                    (h.m, h.s) = moments(&h.stats, &self.params);
                }
            }
            Some(last) => {
                let interval = hb.recv.0.wrapping_sub(last.0);
                for i in 0..self.histories.len() {
                    let h = &mut self.histories[i];
                    let p = h.suspecting(last, hb.recv);
                    for (&k, &r) in h.members[..p].iter().zip(&h.roots) {
                        late(k, deadline_at(h.m, h.s, r, last).unwrap_or(Nanos::MAX));
                    }
                    if p == h.roots.len() {
                        h.streak = 0;
                        continue;
                    }
                    if p > 0 {
                        // The members below the critical root do not record.
                        let members: Vec<usize> = h.members.drain(..p).collect();
                        let roots: Vec<f64> = h.roots.drain(..p).collect();
                        h.run = run_start(&h.members);
                        let low = History::new(members, roots, h.stats.clone(), h.m, h.s);
                        h.record(interval, &self.params);
                        self.histories.push(low);
                    } else {
                        h.record(interval, &self.params);
                    }
                }
            }
        }
        self.last = Some(hb.recv);
        if self.histories.len() > 1 {
            self.merge();
        }
    }

    /// Merges the histories that are in the same state.
    fn merge(&mut self) {
        let window = self.params.window.max(1);
        self.full.clear();
        self.full
            .extend((0..self.histories.len()).filter(|&i| self.histories[i].streak >= window));
        if self.full.len() < 2 {
            return;
        }
        let mut gone: Vec<usize> = Vec::new();
        for a in 0..self.full.len() {
            let ia = self.full[a];
            if gone.contains(&ia) {
                continue;
            }
            for b in a + 1..self.full.len() {
                let ib = self.full[b];
                if gone.contains(&ib) || !self.histories[ia].stats.same_as(&self.histories[ib].stats) {
                    continue;
                }
                let (members, roots) = {
                    let h = &mut self.histories[ib];
                    (std::mem::take(&mut h.members), std::mem::take(&mut h.roots))
                };
                let h = &mut self.histories[ia];
                let mut all: Vec<(f64, usize)> = h.roots.iter().copied().zip(h.members.iter().copied()).collect();
                all.extend(roots.into_iter().zip(members));
                all.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
                h.roots = all.iter().map(|x| x.0).collect();
                h.members = all.iter().map(|x| x.1).collect();
                h.run = run_start(&h.members);
                gone.push(ib);
            }
        }
        gone.sort_unstable();
        for &i in gone.iter().rev() {
            self.histories.swap_remove(i);
        }
    }
}

impl Family for AkkaFamily {
    fn width(&self) -> usize {
        self.width
    }

    fn observe(&mut self, hb: &Heartbeat) {
        self.step(hb, |_, _| {});
    }

    fn deadlines(&self, out: &mut [Nanos]) {
        let Some(last) = self.last else {
            out.fill(Nanos::MAX);
            return;
        };
        for h in &self.histories {
            for (&k, &r) in h.members.iter().zip(&h.roots) {
                out[k] = deadline_at(h.m, h.s, r, last).unwrap_or(Nanos::MAX);
            }
        }
    }

    fn offsets(&self, last: Nanos, scratch: &mut [Nanos], out: &mut [f64]) {
        if self.last != Some(last) || last.0 > 1 << 62 {
            self.deadlines(scratch);
            for (o, &t) in out.iter_mut().zip(scratch.iter()) {
                *o = offset_from(last, Some(t));
            }
            return;
        }
        for h in &self.histories {
            let fast = h.s > 0.0;
            let missing = match (fast, h.run) {
                (true, Some(start)) => ceil_affine(h.m, h.s, &h.roots, &mut out[start..start + h.roots.len()]),
                (true, None) => {
                    let mut missing = 0;
                    for (&k, &r) in h.members.iter().zip(&h.roots) {
                        out[k] = ceil_offset(h.m, h.s, r);
                        missing += usize::from(out[k].is_nan());
                    }
                    missing
                }
                (false, _) => h.members.len(),
            };
            if missing > 0 {
                for (&k, &r) in h.members.iter().zip(&h.roots) {
                    if !fast || out[k].is_nan() {
                        out[k] = offset_from(last, deadline_at(h.m, h.s, r, last));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Detector;
    use crate::detector::akka::Akka;
    use crate::detector::testutil::random_heartbeats;

    fn params(pause_ms: i64, window: usize) -> AkkaParams {
        AkkaParams {
            window,
            min_std: Nanos::from_millis(5),
            pause: Nanos::from_millis(pause_ms),
            first_estimate: Nanos::from_millis(100),
        }
    }

    /// After every heartbeat, the family's deadlines and offsets are those of one
    /// detector per threshold; returns the largest number of histories held at once.
    fn agree(p: AkkaParams, thresholds: &[f64], beats: &[Heartbeat]) -> usize {
        let mut fam = AkkaFamily::new(p, thresholds);
        let mut single: Vec<Akka> = thresholds.iter().map(|&t| Akka::new(p, t)).collect();
        let k = thresholds.len();
        let (mut got, mut scratch, mut off) = (vec![Nanos(0); k], vec![Nanos(0); k], vec![0.0; k]);
        let mut most = 0;
        fam.deadlines(&mut got);
        assert!(got.iter().all(|&t| t == Nanos::MAX));
        for hb in beats {
            fam.observe(hb);
            fam.deadlines(&mut got);
            fam.offsets(hb.recv, &mut scratch, &mut off);
            for (i, d) in single.iter_mut().enumerate() {
                d.observe(hb);
                let want = d.deadline().unwrap_or(Nanos::MAX);
                assert_eq!(got[i], want, "threshold {} at {:?}", thresholds[i], hb.recv);
                assert_eq!(off[i].to_bits(), offset_from(hb.recv, d.deadline()).to_bits());
            }
            most = most.max(fam.histories());
        }
        most
    }

    #[test]
    fn one_history_until_a_threshold_suspects() {
        // Heartbeats every 100 ms, then one 400 ms late: with pause 0 the thresholds
        // below φ(400 ms late) stop recording it, those above record it.
        let p = params(0, 4);
        let thresholds = [0.5, 1.0, 8.0, 20.0];
        let at = |s: u64, ms: i64| Heartbeat {
            seq: s,
            recv: Nanos::from_millis(ms),
            send: None,
        };
        let mut beats: Vec<Heartbeat> = (0..6).map(|s| at(s, 100 * s as i64)).collect();
        let mut fam = AkkaFamily::new(p, &thresholds);
        let count = |fam: &mut AkkaFamily, beats: &[Heartbeat]| {
            for hb in beats {
                fam.observe(hb);
            }
            fam.histories()
        };
        assert_eq!(count(&mut fam, &beats), 1);
        // History {100 ×4}: m = 100 ms, s = 5 ms; 150 ms later is y = 10, φ ≈ 37.6:
        // every threshold suspects, nobody records, the history stays one.
        assert_eq!(count(&mut fam, &[at(6, 650)]), 1);
        // 105 ms after that is y = 1, φ ≈ 0.80: 0.5 suspects, the others record.
        assert_eq!(count(&mut fam, &[at(7, 755)]), 2);
        // Four more on time: both histories hold four intervals of 100 ms, with the same
        // sums to the same reference: they are one again.
        let more: Vec<Heartbeat> = (8..12).map(|s| at(s, 755 + 100 * (s as i64 - 7))).collect();
        assert_eq!(count(&mut fam, &more[..3]), 2);
        assert_eq!(count(&mut fam, &more[3..]), 1);
        beats.extend([at(6, 650), at(7, 755)]);
        beats.extend(more);
        assert_eq!(agree(p, &thresholds, &beats), 2);
    }

    #[test]
    fn histories_meet_only_in_the_same_state() {
        // The same two samples, summed to references 7 and 8: not the same state.
        let (mut a, mut b) = (Stats::new(2), Stats::new(2));
        for x in [0, 1_000_000_000, 7, 7] {
            a.push(x);
        }
        for x in [8, 7, 7] {
            b.push(x);
        }
        assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
        assert!(!a.same_as(&b));
        let mut c = Stats::new(2);
        for x in [2_000_000_000, 7, 7] {
            c.push(x);
        }
        assert!(a.same_as(&c) && c.same_as(&a), "both recentred to 7");
        b.push(9);
        c.push(9);
        assert!(!b.same_as(&c));
    }

    #[test]
    fn of_three_full_histories_only_those_in_the_same_state_merge() {
        // The same two samples in each window; `a` and `c` summed to reference 7, `b` to
        // 8. Each has recorded a whole window, so each may merge; only `a` and `c` do.
        let stats = |xs: &[i64]| {
            let mut s = Stats::new(2);
            for &x in xs {
                s.push(x);
            }
            s
        };
        let (a, b, c) = (
            stats(&[0, 1_000_000_000, 7, 7]),
            stats(&[8, 7, 7]),
            stats(&[2_000_000_000, 7, 7]),
        );
        let full = |members: Vec<usize>, roots: Vec<f64>, s: Stats| {
            let mut h = History::new(members, roots, s, 7.0, 5.0);
            h.streak = 2;
            h
        };
        let mut fam = AkkaFamily::new(params(0, 2), &[1.0, 2.0, 3.0, 4.0]);
        fam.histories = vec![
            full(vec![1, 3], vec![akka_root(2.0), akka_root(4.0)], a),
            full(vec![2], vec![akka_root(3.0)], b),
            full(vec![0], vec![akka_root(1.0)], c),
        ];
        fam.merge();
        assert_eq!(fam.histories(), 2);
        let members: Vec<&[usize]> = fam.histories.iter().map(|h| h.members.as_slice()).collect();
        assert_eq!(members, [&[0, 1, 3][..], &[2][..]], "a and c, in root order; b alone");
        assert!(fam.histories.iter().all(|h| h.members.len() == h.roots.len()));
        assert_eq!(fam.histories[0].run, None);
        assert_eq!(fam.histories[1].run, Some(2));
    }

    #[test]
    fn matches_one_detector_per_threshold() {
        let beats = random_heartbeats(7, 3000, Nanos::from_millis(100), Nanos::from_secs(5));
        let thresholds: Vec<f64> = (1..=60).map(|i| i as f64 * 0.25).collect();
        let most = agree(params(0, 50), &thresholds, &beats);
        assert!(most > 2, "the test trace should split the histories ({most})");
        // Descending and repeated thresholds, far-out ones, one history never filled.
        // 0 (root -∞: a deadline at the receipt) and +∞ (never) have no affine offset.
        let odd = [16.0, 1e-6, 3.0, 3.0, 0.5, 300.0, 1e6, 0.3, 8.0, 8.0, 0.0, f64::INFINITY];
        agree(params(50, 20), &odd, &beats);
        agree(params(0, 1), &odd, &beats);
        agree(params(0, 5000), &odd, &beats);
        // Heartbeats exactly 100 ms apart and no floor on the deviation: s = 0, where φ
        // jumps to +∞ just after m (an integer), not at it.
        let even: Vec<Heartbeat> = (0..50)
            .map(|i| Heartbeat {
                seq: i + 1,
                recv: Nanos::from_millis(100 * i as i64),
                send: None,
            })
            .collect();
        let exact = AkkaParams {
            min_std: Nanos(0),
            first_estimate: Nanos::from_millis(100),
            ..params(0, 4)
        };
        agree(exact, &odd, &even);
        // Near the end of time (the last receipt 20 s before it): with a pause of 19.5 s
        // the deadlines of the high thresholds are past it, never, and their offsets +∞.
        let last = beats.last().unwrap().recv.0;
        let late: Vec<Heartbeat> = beats
            .iter()
            .map(|hb| Heartbeat {
                recv: Nanos(hb.recv.0 - last + i64::MAX - 20_000_000_000),
                ..*hb
            })
            .collect();
        agree(params(19_500, 20), &odd, &late);
        let mut fam = AkkaFamily::new(params(19_500, 20), &odd);
        late.iter().for_each(|hb| fam.observe(hb));
        let mut got = vec![Nanos(0); odd.len()];
        fam.deadlines(&mut got);
        assert!(
            got.contains(&Nanos::MAX) && got.iter().any(|&t| t < Nanos::MAX),
            "{got:?}"
        );
    }

    fn receipts(beats: &[Heartbeat]) -> crate::trace::Receipts {
        let mut b = crate::trace::TraceBuilder::new(false);
        for hb in beats {
            b.push(hb.seq, None, Some(hb.recv)).unwrap();
        }
        b.finish(None).unwrap().accepted()
    }

    /// Thresholds near the useful range, far below and far above it.
    fn threshold() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::prelude::*;
        prop_oneof![4 => 0.05..25.0f64, 1 => 1e-9..1e-2f64, 1 => 40.0..1e5f64]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// On random traces, with random parameters and thresholds in any order, with
        /// duplicates and far-out values: the same deadlines after every heartbeat as
        /// one detector per threshold, and the same metrics through the engine.
        #[test]
        fn shared_histories_equal_separate_replays(
            seed in 0u64..1_000_000,
            count in 30usize..400,
            window in 1usize..40,
            pause_ms in 0i64..300,
            min_std_ms in 0i64..20,
            first_ms in 20i64..300,
            mut thresholds in proptest::collection::vec(threshold(), 1..12),
            dup in proptest::sample::select(vec![0usize, 1, 2, 3]),
        ) {
            let p = AkkaParams {
                window,
                min_std: Nanos::from_millis(min_std_ms),
                pause: Nanos::from_millis(pause_ms),
                first_estimate: Nanos::from_millis(first_ms),
            };
            for i in 0..dup.min(thresholds.len()) {
                thresholds.push(thresholds[i]);
            }
            let beats = random_heartbeats(seed, count, Nanos::from_millis(100), Nanos::from_secs(1));
            agree(p, &thresholds, &beats);
            let r = receipts(&beats);
            let opts = crate::replay::Options { warmup: window.min(count / 3), deadline: Nanos::SECOND };
            let Ok(all) = crate::replay::replay_family(&r, &|| Box::new(AkkaFamily::new(p, &thresholds)), &opts) else {
                return Ok(());
            };
            for (t, m) in thresholds.iter().zip(&all) {
                let one = crate::replay::replay_detector(&r, &mut Akka::new(p, *t), &opts).unwrap();
                proptest::prop_assert_eq!(m, &one, "threshold {}", t);
            }
        }
    }
}

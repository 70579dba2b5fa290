//! The receiver's reorder buffer, without I/O or clock: dedupe and bounded reordering.
//! [`super::receiver`] feeds it the receipts of the session it follows and the current
//! time, and passes on what it releases.
//!
//! A trace file lists heartbeats in strictly increasing `seq`, while datagrams may arrive
//! out of order. Each accepted receipt waits in the buffer until it is `hold` old (or
//! the buffer holds `capacity` receipts); it is then released in `seq` order, and every
//! `seq` below it that has not arrived is from then on lost. A receipt whose `seq` was
//! already released or declared lost is *stale*, one already in the buffer a
//! *duplicate*: both are counted and dropped ([`super::receiver`] calls a packet
//! replayed when it is either). State is bounded by `capacity`.

use std::collections::BTreeMap;

/// The largest forward jump of `seq` accepted over the next expected one: about 12 days
/// of heartbeats at 1 ms. A larger jump is a corrupt or hostile packet, not a loss.
pub const MAX_JUMP: u64 = 1 << 30;

/// One row of the trace: `(seq, send, recv)`, times in ns relative to the recording's epoch.
pub type Row = (u64, Option<i64>, i64);

/// Outcome of offering a receipt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Buffered; it will be released in `seq` order.
    Accepted,
    /// Already in the buffer.
    Duplicate,
    /// Already released or declared lost.
    Stale,
    /// Too far ahead of the next expected `seq`.
    OutOfWindow,
}

/// The bounded reorder buffer (see the module docs).
#[derive(Debug)]
pub struct Reorder {
    /// The lowest `seq` still acceptable; `None` before the first receipt.
    next: Option<u64>,
    buf: BTreeMap<u64, (Option<i64>, i64)>,
    capacity: usize,
    hold: i64,
}

impl Reorder {
    /// A buffer that holds each receipt `hold_ns` and at most `capacity` receipts (at least 1).
    pub fn new(hold_ns: i64, capacity: usize) -> Reorder {
        Reorder {
            next: None,
            buf: BTreeMap::new(),
            capacity: capacity.max(1),
            hold: hold_ns.max(0),
        }
    }

    /// Offers a receipt. The first receipt also accepts up to `capacity` earlier `seq`s
    /// that may still arrive out of order.
    pub fn offer(&mut self, seq: u64, send: Option<i64>, recv: i64) -> Offer {
        let next = *self
            .next
            .get_or_insert_with(|| seq.saturating_sub(self.capacity as u64));
        if seq < next {
            return Offer::Stale;
        }
        if seq - next > MAX_JUMP {
            return Offer::OutOfWindow;
        }
        if self.buf.contains_key(&seq) {
            return Offer::Duplicate;
        }
        self.buf.insert(seq, (send, recv));
        Offer::Accepted
    }

    /// Releases, in `seq` order, the receipts that are due at `now` (ns since the epoch):
    /// while the buffer is over capacity or its lowest `seq` has waited `hold`.
    pub fn release(&mut self, now: i64, out: &mut impl FnMut(Row)) {
        while let Some((&seq, &(send, recv))) = self.buf.first_key_value() {
            if self.buf.len() <= self.capacity && recv.saturating_add(self.hold) > now {
                break;
            }
            self.pop(seq, send, recv, out);
        }
    }

    /// Releases everything, in `seq` order (at the end of a recording).
    pub fn drain(&mut self, out: &mut impl FnMut(Row)) {
        while let Some((&seq, &(send, recv))) = self.buf.first_key_value() {
            self.pop(seq, send, recv, out);
        }
    }

    fn pop(&mut self, seq: u64, send: Option<i64>, recv: i64, out: &mut impl FnMut(Row)) {
        self.buf.remove(&seq);
        self.next = Some(seq + 1);
        out((seq, send, recv));
    }

    /// Receipts waiting in the buffer.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(r: &mut Reorder, now: i64) -> Vec<u64> {
        let mut v = Vec::new();
        r.release(now, &mut |(s, _, _)| v.push(s));
        v
    }

    #[test]
    fn releases_in_seq_order_after_the_hold() {
        let mut r = Reorder::new(100, 16);
        assert_eq!(r.offer(10, None, 0), Offer::Accepted);
        assert_eq!(r.offer(12, None, 5), Offer::Accepted);
        assert_eq!(r.offer(11, None, 8), Offer::Accepted);
        assert_eq!(collect(&mut r, 99), Vec::<u64>::new());
        // 10 is due at 100; 11 (recv 8) at 108, 12 (recv 5) waits behind 11.
        assert_eq!(collect(&mut r, 100), vec![10]);
        assert_eq!(collect(&mut r, 108), vec![11, 12]);
        assert!(r.is_empty());
    }

    #[test]
    fn counts_duplicates_stale_and_jumps() {
        let mut r = Reorder::new(10, 16);
        assert_eq!(r.offer(5, None, 0), Offer::Accepted);
        assert_eq!(r.offer(5, None, 1), Offer::Duplicate);
        assert_eq!(collect(&mut r, 50), vec![5]);
        assert_eq!(r.offer(5, None, 60), Offer::Stale);
        assert_eq!(r.offer(3, None, 60), Offer::Stale);
        assert_eq!(r.offer(6 + MAX_JUMP + 1, None, 60), Offer::OutOfWindow);
        assert_eq!(r.offer(6 + MAX_JUMP, None, 60), Offer::Accepted);
        // Once a later seq is released, the gap below it is lost for good.
        assert_eq!(collect(&mut r, 70), vec![6 + MAX_JUMP]);
        assert_eq!(r.offer(7, None, 71), Offer::Stale);
    }

    #[test]
    fn a_reordered_predecessor_of_the_first_receipt_is_kept() {
        let mut r = Reorder::new(10, 4);
        assert_eq!(r.offer(100, None, 0), Offer::Accepted);
        assert_eq!(r.offer(99, None, 1), Offer::Accepted);
        assert_eq!(r.offer(95, None, 1), Offer::Stale);
        let mut v = Vec::new();
        r.drain(&mut |(s, _, _)| v.push(s));
        assert_eq!(v, vec![99, 100]);
    }

    #[test]
    fn memory_is_bounded_by_the_capacity() {
        let mut r = Reorder::new(i64::MAX / 2, 8);
        let mut out = Vec::new();
        for s in (0..1000u64).rev().step_by(3) {
            r.offer(s * 2 + 1000, None, 0);
            r.release(0, &mut |(s, _, _)| out.push(s));
            assert!(r.len() <= 8);
        }
        assert!(out.windows(2).all(|w| w[0] < w[1]));
    }
}

//! The receiver's session logic, without I/O or clock: handshake, lock, authentication,
//! replay and reorder handling, and the counters. [`super::listen`] feeds it each
//! datagram with its receipt time and source, and the current time between datagrams;
//! it returns the replies to send, the rows to write and when it locked onto a sender.
//! The same code runs under the tests' fake sources and clock and on real sockets.
//!
//! # The session
//!
//! 1. The sender sends a *hello* naming its random 64-bit session.
//! 2. The receiver answers with a *challenge* holding a cookie: a keyed hash of the
//!    sender's address and session under a secret the receiver draws at start, so the
//!    receiver keeps no state per sender it has not locked onto.
//! 3. The sender's heartbeats echo the cookie. The first heartbeat with the right cookie
//!    for its source and session *locks* the receiver onto that (source, session): from
//!    then on only its heartbeats are recorded.
//!
//! A forged datagram, or a heartbeat from a source that has not done the handshake,
//! locks nothing: it is counted and answered at most with a challenge, so it cannot
//! make the receiver miss the real sender. To lock, a source must receive the challenge
//! sent to its address: an attacker who spoofs the real sender's address from elsewhere
//! never sees the cookie. Without a key, a machine on the path that reads the cookie, or
//! one that completes the handshake before the real sender, can still inject rows; with
//! a key (`--key`) every datagram carries an HMAC-SHA256 tag ([`super::packet`]) and
//! nothing without the key is accepted. Cookies change with each receiver run, so
//! heartbeats replayed from an earlier recording are refused; within the session, a
//! heartbeat whose `seq` was already accepted is counted as `duplicate` or `stale` and
//! dropped. A challenge is never larger than the datagram it answers (no amplification)
//! and none is sent once the receiver is locked.
//!
//! A bad datagram never ends a recording: each is counted once, under the first reason
//! found in this order: not the `--from` source; size, magic, version, format and seq
//! ([`packet::decode`]); tag; then, against the lock, source, session and cookie; then
//! replay, reorder window and clock.

use std::net::SocketAddr;

use super::packet::{self, CookieSecret, DecodeError, Key, Message, Packet};
use super::reorder::{Offer, Reorder, Row};
use crate::time::Nanos;

/// What the receiver saw. Every datagram is counted exactly once among `accepted`,
/// `hello` and the reasons for dropping it ([`Counters::dropped`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams read from the socket.
    pub datagrams: u64,
    /// Heartbeats of the locked session accepted into the reorder buffer (each becomes one row).
    pub accepted: u64,
    /// Rows written.
    pub written: u64,
    /// Sequence numbers skipped between written rows (lost heartbeats).
    pub lost: u64,
    /// Hellos answered or allowed (handshake requests).
    pub hello: u64,
    /// Challenges sent.
    pub challenges: u64,
    /// Datagrams of none of the protocol's sizes (truncated, padded, empty).
    pub bad_size: u64,
    /// Datagrams with a wrong magic number (not fdbench's).
    pub bad_magic: u64,
    /// Datagrams of another protocol version.
    pub bad_version: u64,
    /// Datagrams with reserved flags set, out-of-range fields, or a message a receiver does not take.
    pub malformed: u64,
    /// Heartbeats with a seq above 2^63 - 1, the largest a trace holds.
    pub seq_range: u64,
    /// Datagrams whose tag is missing, unexpected or wrong (the key differs).
    pub unauthenticated: u64,
    /// Heartbeats without the cookie of their source and session (no handshake done).
    pub unverified: u64,
    /// Datagrams from a source other than the locked one, or not the one `--from` names.
    pub foreign: u64,
    /// Datagrams of the locked source with another session (the sender restarted).
    pub other_session: u64,
    /// Heartbeats whose `seq` is already buffered (a replay or a network duplicate).
    pub duplicate: u64,
    /// Heartbeats whose `seq` was already written or declared lost (a replay or too late).
    pub stale: u64,
    /// Heartbeats whose `seq` jumps implausibly far ahead ([`super::reorder::MAX_JUMP`]).
    pub out_of_window: u64,
    /// Heartbeats with an impossible time: received before the recording started, or
    /// (with send times) sent before it or received before sent.
    pub clock: u64,
    /// Datagrams the kernel dropped because the socket's receive buffer was full (as it
    /// last reported, `SO_RXQ_OVFL`): never read, so not among `datagrams`.
    pub kernel_dropped: u64,
}

impl Counters {
    /// The reasons for dropping a datagram, with their counts, in a fixed order.
    pub fn reasons(&self) -> [(&'static str, u64); 13] {
        [
            ("bad_size", self.bad_size),
            ("bad_magic", self.bad_magic),
            ("bad_version", self.bad_version),
            ("malformed", self.malformed),
            ("seq_range", self.seq_range),
            ("unauthenticated", self.unauthenticated),
            ("unverified", self.unverified),
            ("foreign", self.foreign),
            ("other_session", self.other_session),
            ("duplicate", self.duplicate),
            ("stale", self.stale),
            ("out_of_window", self.out_of_window),
            ("clock", self.clock),
        ]
    }

    /// Datagrams dropped, for any reason.
    pub fn dropped(&self) -> u64 {
        self.reasons().iter().map(|r| r.1).sum()
    }

    /// The counters as one `key=value` line, for a trace comment and for logs.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "datagrams={} accepted={} written={} lost={} hello={} challenges={} kernel_dropped={}",
            self.datagrams, self.accepted, self.written, self.lost, self.hello, self.challenges, self.kernel_dropped
        );
        for (k, v) in self.reasons() {
            s.push_str(&format!(" {k}={v}"));
        }
        s
    }

    /// Why a recording has too few rows, from the counters: for an error message.
    pub fn why_too_few(&self) -> String {
        if self.datagrams == 0 {
            return "no datagram arrived: is the sender running and sending to this address?".into();
        }
        let hint = if self.unauthenticated > 0 {
            "; do both ends use the same --key?"
        } else if self.unverified > 0 || self.hello == 0 {
            "; is the sender an fdbench that does the handshake, and can this host's answers reach it?"
        } else {
            ""
        };
        format!(
            "{} datagram(s), dropped {}: {}{hint}",
            self.datagrams,
            self.dropped(),
            self.dropped_by_reason()
        )
    }

    /// The reasons with a nonzero count, as `reason N, ...`, or `none`.
    pub fn dropped_by_reason(&self) -> String {
        let reasons: Vec<String> = self
            .reasons()
            .iter()
            .filter(|r| r.1 > 0)
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        if reasons.is_empty() {
            "none".into()
        } else {
            reasons.join(", ")
        }
    }

    fn count(&mut self, e: DecodeError) {
        *match e {
            DecodeError::Size(_) => &mut self.bad_size,
            DecodeError::Magic => &mut self.bad_magic,
            DecodeError::Version(_) => &mut self.bad_version,
            DecodeError::Flags(_) | DecodeError::Range { .. } | DecodeError::Handshake => &mut self.malformed,
            DecodeError::Seq(_) => &mut self.seq_range,
            DecodeError::Tag => &mut self.unauthenticated,
        } += 1;
    }
}

/// How the receiver decides.
#[derive(Clone, Debug)]
pub struct Config {
    /// Accept datagrams only from this source (port 0: any port of that address).
    pub from: Option<SocketAddr>,
    /// Keep the senders' timestamps (only when the clocks are shared or synchronized).
    pub with_send: bool,
    /// The nominal interval; by default the locked sender's, from its packets.
    pub interval: Option<Nanos>,
    /// How long a receipt waits for late predecessors before it is released.
    pub reorder_window: Nanos,
    /// The most receipts held for reordering.
    pub reorder_capacity: usize,
    /// The origin of the times in the rows, ns since the Unix epoch.
    pub epoch_ns: i64,
    /// The session key; without one, datagrams carry no tag.
    pub key: Option<Key>,
}

/// What the receiver asks its runtime to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send `bytes` to `to` (a challenge).
    Reply {
        /// The destination.
        to: SocketAddr,
        /// The datagram.
        bytes: Vec<u8>,
    },
    /// The receiver locked onto this sender: from now on only its heartbeats count.
    Locked {
        /// The sender's address.
        source: SocketAddr,
        /// Its session.
        session: u64,
    },
    /// Write this row (rows come in increasing `seq`).
    Row(Row),
}

/// The receiver's state (see the module docs).
#[derive(Debug)]
pub struct Receiver {
    cfg: Config,
    secret: CookieSecret,
    /// The locked source, session and cookie.
    lock: Option<(SocketAddr, u64, u64)>,
    reorder: Reorder,
    counters: Counters,
    interval: Option<Nanos>,
    last_seq: Option<u64>,
}

impl Receiver {
    /// A receiver deriving cookies from `secret`.
    pub fn new(cfg: Config, secret: CookieSecret) -> Receiver {
        Receiver {
            reorder: Reorder::new(cfg.reorder_window.0, cfg.reorder_capacity),
            interval: cfg.interval,
            cfg,
            secret,
            lock: None,
            counters: Counters::default(),
            last_seq: None,
        }
    }

    /// The counters so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The nominal interval: the configured one, else the locked sender's.
    pub fn interval(&self) -> Option<Nanos> {
        self.interval
    }

    /// The kernel's count of datagrams dropped for a full receive buffer, as last reported.
    pub fn kernel_dropped(&mut self, total: u64) {
        self.counters.kernel_dropped = self.counters.kernel_dropped.max(total);
    }

    /// The sender this receiver locked onto, and its session.
    pub fn locked(&self) -> Option<(SocketAddr, u64)> {
        self.lock.map(|(s, k, _)| (s, k))
    }

    /// One datagram from `from`, received at `at` (ns since the Unix epoch).
    pub fn datagram(&mut self, at: i64, from: SocketAddr, bytes: &[u8], out: &mut Vec<Action>) {
        self.counters.datagrams += 1;
        if let Some(want) = self.cfg.from
            && (want.ip() != from.ip() || (want.port() != 0 && want.port() != from.port()))
        {
            self.counters.foreign += 1;
            return;
        }
        let msg = match packet::decode(bytes, self.cfg.key.as_ref()) {
            Ok(m) => m,
            Err(e) => return self.counters.count(e),
        };
        match (msg, self.lock) {
            (Message::Challenge { .. }, _) => self.counters.malformed += 1,
            (_, Some((source, _, _))) if source != from => self.counters.foreign += 1,
            (Message::Hello { session, .. }, Some((_, s, _))) if s != session => self.counters.other_session += 1,
            (Message::Heartbeat { packet, .. }, Some((_, s, _))) if s != packet.session => {
                self.counters.other_session += 1;
            }
            (Message::Hello { session, .. }, _) => {
                self.counters.hello += 1;
                self.challenge(from, session, out);
            }
            (Message::Heartbeat { packet, cookie }, Some((_, _, c))) => {
                if cookie == c {
                    self.accept(at, packet);
                } else {
                    self.counters.unverified += 1;
                }
            }
            (Message::Heartbeat { packet, cookie }, None) => {
                let c = self.secret.cookie(from, packet.session);
                if cookie != c {
                    self.counters.unverified += 1;
                    self.challenge(from, packet.session, out);
                    return;
                }
                self.lock = Some((from, packet.session, c));
                self.interval.get_or_insert(Nanos(packet.interval_ns));
                out.push(Action::Locked {
                    source: from,
                    session: packet.session,
                });
                self.accept(at, packet);
            }
        }
    }

    fn challenge(&mut self, to: SocketAddr, session: u64, out: &mut Vec<Action>) {
        self.counters.challenges += 1;
        let cookie = self.secret.cookie(to, session);
        out.push(Action::Reply {
            to,
            bytes: packet::encode(&Message::Challenge { session, cookie }, self.cfg.key.as_ref()),
        });
    }

    fn accept(&mut self, at: i64, p: Packet) {
        let recv = at.saturating_sub(self.cfg.epoch_ns);
        let send = p.send_ns.saturating_sub(self.cfg.epoch_ns);
        if recv < 0 || (self.cfg.with_send && (send < 0 || recv < send)) {
            self.counters.clock += 1;
            return;
        }
        match self.reorder.offer(p.seq, self.cfg.with_send.then_some(send), recv) {
            Offer::Accepted => self.counters.accepted += 1,
            Offer::Duplicate => self.counters.duplicate += 1,
            Offer::Stale => self.counters.stale += 1,
            Offer::OutOfWindow => self.counters.out_of_window += 1,
        }
    }

    /// Releases the rows due at `now` (ns since the Unix epoch).
    pub fn tick(&mut self, now: i64, out: &mut Vec<Action>) {
        let Receiver {
            reorder,
            counters,
            last_seq,
            cfg,
            ..
        } = self;
        reorder.release(now.saturating_sub(cfg.epoch_ns), &mut |r| {
            row(counters, last_seq, r, out)
        });
    }

    /// Releases every buffered row (at the end of a recording).
    pub fn finish(&mut self, out: &mut Vec<Action>) {
        let (c, last) = (&mut self.counters, &mut self.last_seq);
        self.reorder.drain(&mut |r| row(c, last, r, out));
    }
}

fn row(c: &mut Counters, last: &mut Option<u64>, r: Row, out: &mut Vec<Action>) {
    if let Some(p) = *last {
        c.lost += r.0 - p - 1;
    }
    *last = Some(r.0);
    c.written += 1;
    out.push(Action::Row(r));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::packet::MAX_SEQ;
    use crate::record::sender::{Poll, SendOptions, Sender};
    use rand::{Rng, SeedableRng};

    const EPOCH: i64 = 1_700_000_000_000_000_000;
    const MS: i64 = 1_000_000;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn receiver(key: Option<Key>) -> Receiver {
        Receiver::new(
            Config {
                from: None,
                with_send: true,
                interval: None,
                reorder_window: Nanos(5 * MS),
                reorder_capacity: 16,
                epoch_ns: EPOCH,
                key,
            },
            CookieSecret::new([42; 32]),
        )
    }

    fn key(b: u8) -> Key {
        Key::new(&[b; 32]).unwrap()
    }

    fn hb(session: u64, seq: u64, send: i64, cookie: u64, key: Option<&Key>) -> Vec<u8> {
        let packet = Packet {
            session,
            seq,
            send_ns: EPOCH + send,
            interval_ns: 10 * MS,
        };
        packet::encode(&Message::Heartbeat { packet, cookie }, key)
    }

    fn hello(session: u64, interval_ns: i64, key: Option<&Key>) -> Vec<u8> {
        packet::encode(&Message::Hello { session, interval_ns }, key)
    }

    /// The rows, the challenges (destination, cookie) and the locks in `out`.
    type Seen = (Vec<(u64, i64)>, Vec<(SocketAddr, u64)>, Vec<(SocketAddr, u64)>);

    fn seen(out: &[Action], key: Option<&Key>) -> Seen {
        let (mut rows, mut ch, mut locks) = (vec![], vec![], vec![]);
        for a in out {
            match a {
                Action::Row((s, _, r)) => rows.push((*s, *r)),
                Action::Reply { to, bytes } => match packet::decode(bytes, key) {
                    Ok(Message::Challenge { cookie, .. }) => ch.push((*to, cookie)),
                    other => panic!("a reply that is not a challenge: {other:?}"),
                },
                Action::Locked { source, session } => locks.push((*source, *session)),
            }
        }
        (rows, ch, locks)
    }

    #[test]
    fn a_forged_packet_before_the_real_sender_does_not_lose_the_recording() {
        let (real, forger) = (addr("127.0.0.1:5000"), addr("127.0.0.1:6666"));
        let mut r = receiver(None);
        let mut out = vec![];
        // The forger speaks first: a heartbeat of its own session without a cookie, then
        // a heartbeat claiming the real session with a guessed cookie, then a hello.
        r.datagram(EPOCH + MS, forger, &hb(99, 1, 0, 0, None), &mut out);
        r.datagram(EPOCH + 2 * MS, forger, &hb(7, 1, 0, 12345, None), &mut out);
        r.datagram(EPOCH + 3 * MS, forger, &hello(99, 1, None), &mut out);
        assert_eq!(r.locked(), None);
        // The real sender's handshake, then its heartbeats 1..=3 with the cookie.
        r.datagram(EPOCH + 4 * MS, real, &hello(7, 10 * MS, None), &mut out);
        let (_, ch, _) = seen(&out, None);
        assert_eq!(ch.len(), 4, "each of the four handshake attempts got a challenge");
        let cookie = ch[3].1;
        assert_eq!(ch[3].0, real);
        assert_eq!(cookie, CookieSecret::new([42; 32]).cookie(real, 7));
        assert!(ch[..3].iter().all(|&(to, c)| to == forger && c != cookie));
        for s in 1..=3u64 {
            r.datagram(
                EPOCH + (10 + 10 * s as i64) * MS,
                real,
                &hb(7, s, (9 + 10 * s as i64) * MS, cookie, None),
                &mut out,
            );
            // The forger keeps injecting the real session's next seq from its own address.
            r.datagram(
                EPOCH + (11 + 10 * s as i64) * MS,
                forger,
                &hb(7, s + 1, 0, cookie, None),
                &mut out,
            );
        }
        r.finish(&mut out);
        let (rows, _, locks) = seen(&out, None);
        assert_eq!(locks, vec![(real, 7)]);
        assert_eq!(rows, vec![(1, 20 * MS), (2, 30 * MS), (3, 40 * MS)]);
        let c = *r.counters();
        assert_eq!(
            (
                c.datagrams,
                c.accepted,
                c.written,
                c.hello,
                c.challenges,
                c.unverified,
                c.foreign
            ),
            (10, 3, 3, 2, 4, 2, 3)
        );
        assert_eq!(c.datagrams, c.accepted + c.hello + c.dropped());
        assert_eq!(r.interval(), Some(Nanos(10 * MS)));
    }

    #[test]
    fn with_a_key_nothing_without_it_is_accepted_or_answered() {
        let real = addr("127.0.0.1:5000");
        let (k, wrong) = (key(1), key(2));
        let mut r = receiver(Some(k.clone()));
        let mut out = vec![];
        r.datagram(EPOCH + MS, real, &hello(7, 10 * MS, Some(&wrong)), &mut out);
        r.datagram(EPOCH + MS, real, &hello(7, 10 * MS, None), &mut out);
        let cookie = CookieSecret::new([42; 32]).cookie(real, 7);
        r.datagram(EPOCH + 2 * MS, real, &hb(7, 1, MS, cookie, Some(&wrong)), &mut out);
        r.datagram(EPOCH + 2 * MS, real, &hb(7, 1, MS, cookie, None), &mut out);
        assert!(out.is_empty(), "{out:?}");
        r.datagram(EPOCH + 3 * MS, real, &hello(7, 10 * MS, Some(&k)), &mut out);
        let (_, ch, _) = seen(&out, Some(&k));
        assert_eq!(ch, vec![(real, cookie)]);
        r.datagram(EPOCH + 4 * MS, real, &hb(7, 1, 3 * MS, cookie, Some(&k)), &mut out);
        let mut tampered = hb(7, 2, 4 * MS, cookie, Some(&k));
        tampered[23] ^= 1;
        r.datagram(EPOCH + 5 * MS, real, &tampered, &mut out);
        r.finish(&mut out);
        let (rows, _, locks) = seen(&out, Some(&k));
        assert_eq!(locks, vec![(real, 7)]);
        assert_eq!(rows, vec![(1, 4 * MS)]);
        let c = *r.counters();
        assert_eq!((c.datagrams, c.unauthenticated, c.hello, c.accepted), (7, 5, 1, 1));
    }

    /// A receiver locked onto `real` (session 7), and the cookie.
    fn locked() -> (Receiver, SocketAddr, u64, Vec<Action>) {
        let real = addr("127.0.0.1:5000");
        let mut r = receiver(None);
        let cookie = CookieSecret::new([42; 32]).cookie(real, 7);
        let mut out = vec![];
        r.datagram(EPOCH, real, &hello(7, 10 * MS, None), &mut out);
        (r, real, cookie, out)
    }

    #[test]
    fn truncated_padded_and_foreign_formats_are_counted_by_reason() {
        let (mut r, real, cookie, mut out) = locked();
        let good = hb(7, 1, 0, cookie, None);
        r.datagram(EPOCH + MS, real, &good[..47], &mut out);
        r.datagram(EPOCH + MS, real, &[good.as_slice(), &[0]].concat(), &mut out);
        r.datagram(EPOCH + MS, real, b"", &mut out);
        let mut b = good.clone();
        b[0] = b'X';
        r.datagram(EPOCH + MS, real, &b, &mut out);
        let mut b = good.clone();
        b[5] = 9;
        r.datagram(EPOCH + MS, real, &b, &mut out);
        let mut b = good.clone();
        b[7] = 1;
        r.datagram(EPOCH + MS, real, &b, &mut out);
        r.datagram(
            EPOCH + MS,
            real,
            &packet::encode(&Message::Challenge { session: 7, cookie: 1 }, None),
            &mut out,
        );
        r.datagram(EPOCH + MS, real, &good, &mut out);
        r.finish(&mut out);
        let c = *r.counters();
        assert_eq!(
            (
                c.bad_size,
                c.bad_magic,
                c.bad_version,
                c.malformed,
                c.accepted,
                c.written
            ),
            (3, 1, 1, 2, 1, 1)
        );
        assert_eq!(c.datagrams, 9);
        assert_eq!(c.datagrams, c.accepted + c.hello + c.dropped());
    }

    #[test]
    fn replayed_and_reordered_heartbeats() {
        let (mut r, real, cookie, mut out) = locked();
        // Arrivals (seq @ ms): 3@1, 1@2, 2@3, 1@4 (a replay, still buffered); the window
        // is 5 ms, so at 9 ms seq 1..3 are released; then 2@10 and 3@11 (replays of
        // written rows) and 5@12 (4 is lost).
        for (seq, at) in [(3, 1), (1, 2), (2, 3), (1, 4)] {
            r.datagram(EPOCH + at * MS, real, &hb(7, seq, 0, cookie, None), &mut out);
        }
        r.tick(EPOCH + 9 * MS, &mut out);
        for (seq, at) in [(2, 10), (3, 11), (5, 12)] {
            r.datagram(EPOCH + at * MS, real, &hb(7, seq, 0, cookie, None), &mut out);
        }
        r.finish(&mut out);
        let (rows, _, _) = seen(&out, None);
        assert_eq!(rows, vec![(1, 2 * MS), (2, 3 * MS), (3, MS), (5, 12 * MS)]);
        let c = *r.counters();
        assert_eq!((c.accepted, c.duplicate, c.stale, c.written, c.lost), (4, 1, 2, 4, 1));
    }

    #[test]
    fn seq_near_2_pow_63_is_kept_when_a_trace_can_hold_it() {
        let (mut r, real, cookie, mut out) = locked();
        r.datagram(EPOCH + MS, real, &hb(7, 1 << 63, 0, cookie, None), &mut out);
        r.datagram(EPOCH + MS, real, &hb(7, u64::MAX, 0, cookie, None), &mut out);
        r.datagram(EPOCH + 2 * MS, real, &hb(7, MAX_SEQ - 1, 0, cookie, None), &mut out);
        r.datagram(EPOCH + 3 * MS, real, &hb(7, MAX_SEQ, 0, cookie, None), &mut out);
        r.finish(&mut out);
        let (rows, _, _) = seen(&out, None);
        assert_eq!(rows, vec![(MAX_SEQ - 1, 2 * MS), (MAX_SEQ, 3 * MS)]);
        assert_eq!(r.counters().seq_range, 2);
    }

    #[test]
    fn a_flood_of_garbage_neither_locks_nor_loses_a_row() {
        let (real, stranger) = (addr("127.0.0.1:5000"), addr("127.0.0.1:7000"));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut r = receiver(None);
        let mut out = vec![];
        let mut garbage = 0u64;
        let mut flood = |r: &mut Receiver, at: i64, out: &mut Vec<Action>, rng: &mut rand_chacha::ChaCha8Rng| {
            for _ in 0..1000 {
                let from = if rng.random_bool(0.5) { real } else { stranger };
                let bytes: Vec<u8> = match rng.random_range(0..3) {
                    0 => (0..rng.random_range(0..80)).map(|_| rng.random()).collect(),
                    1 => hb(rng.random(), rng.random_range(0..100), 0, rng.random(), None),
                    _ => {
                        let mut b = hb(7, rng.random_range(0..100), 0, 0, None);
                        let i = rng.random_range(0..b.len());
                        b[i] ^= 1 << rng.random_range(0..8);
                        b
                    }
                };
                r.datagram(at, from, &bytes, out);
                garbage += 1;
            }
        };
        flood(&mut r, EPOCH, &mut out, &mut rng);
        assert_eq!(r.locked(), None, "garbage never completes a handshake");
        let cookie = CookieSecret::new([42; 32]).cookie(real, 7);
        r.datagram(EPOCH + MS, real, &hello(7, 10 * MS, None), &mut out);
        let (_, ch, _) = seen(&out, None);
        assert_eq!(
            ch.last(),
            Some(&(real, cookie)),
            "the flood does not keep the real sender from its challenge"
        );
        let before_lock = ch.len() as u64;
        for s in 1..=20u64 {
            let at = EPOCH + (1 + s as i64) * MS;
            r.datagram(at, real, &hb(7, s, 0, cookie, None), &mut out);
            flood(&mut r, at, &mut out, &mut rng);
        }
        r.finish(&mut out);
        let (rows, ch, locks) = seen(&out, None);
        assert_eq!(locks, vec![(real, 7)]);
        assert_eq!(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            (1..=20).collect::<Vec<_>>()
        );
        let c = *r.counters();
        assert_eq!(c.challenges, ch.len() as u64);
        assert_eq!(c.challenges, before_lock, "a locked receiver sends no challenge");
        assert_eq!(c.datagrams, garbage + 21);
        assert_eq!((c.accepted, c.written, c.lost), (20, 20, 0));
        assert_eq!(c.datagrams, c.accepted + c.hello + c.dropped());
    }

    /// The sender and receiver state machines over a simulated network: `deliver`
    /// decides each datagram's fate (`None`: lost; `Some(d)`: arrives `d` ns later).
    fn simulate(
        key_tx: Option<Key>,
        key_rx: Option<Key>,
        count: u64,
        mut deliver: impl FnMut(u64, &[u8]) -> Option<i64>,
    ) -> (Vec<u64>, Counters, crate::record::sender::SendReport) {
        let (tx, rx) = (addr("10.0.0.1:4000"), addr("10.0.0.2:9000"));
        let mut s = Sender::new(SendOptions {
            to: rx,
            also: vec![],
            interval: Nanos(10 * MS),
            duration: None,
            count: Some(count),
            session: 7,
            first_seq: 1,
            key: key_tx,
            handshake_timeout: Nanos(100 * MS),
        })
        .unwrap();
        let mut r = receiver(key_rx);
        // In flight: (arrival, order, to receiver?, bytes).
        let mut net: Vec<(i64, u64, bool, Vec<u8>)> = vec![];
        let (mut now, mut order, mut rows) = (0i64, 0u64, vec![]);
        let (mut out, mut acts) = (vec![], vec![]);
        loop {
            let next = match s.poll(now, EPOCH + now, &mut out) {
                Poll::Wait(t) => Some(t),
                Poll::Done => None,
            };
            for (to, bytes) in out.drain(..) {
                assert_eq!(to, rx);
                if let Some(d) = deliver(order, &bytes) {
                    net.push((now + d, order, true, bytes));
                }
                order += 1;
            }
            // Advance the clock to the next event: a sender wake-up or an arrival.
            net.sort_by_key(|e| (e.0, e.1));
            let arrival = net.first().map(|e| e.0);
            let t = match (next, arrival) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            now = now.max(t);
            while net.first().is_some_and(|e| e.0 <= now) {
                let (at, _, to_rx, bytes) = net.remove(0);
                if to_rx {
                    r.datagram(EPOCH + at, tx, &bytes, &mut acts);
                } else {
                    s.datagram(rx, &bytes);
                }
            }
            r.tick(EPOCH + now, &mut acts);
            for a in acts.drain(..) {
                match a {
                    Action::Reply { to, bytes } => {
                        assert_eq!(to, tx);
                        net.push((now + MS, order, false, bytes));
                        order += 1;
                    }
                    Action::Row((seq, _, _)) => rows.push(seq),
                    Action::Locked { .. } => {}
                }
            }
            if next.is_none() && net.is_empty() {
                break;
            }
        }
        r.finish(&mut acts);
        rows.extend(acts.iter().filter_map(|a| match a {
            Action::Row((s, _, _)) => Some(*s),
            _ => None,
        }));
        (rows, *r.counters(), s.report())
    }

    #[test]
    fn sender_and_receiver_over_a_perfect_network_record_every_heartbeat() {
        let (rows, c, sent) = simulate(Some(key(1)), Some(key(1)), 50, |_, _| Some(MS));
        assert_eq!(rows, (1..=50).collect::<Vec<_>>());
        assert_eq!((sent.sent, sent.confirmed, sent.skipped_slots), (50, 1, 0));
        assert_eq!(
            (c.datagrams, c.hello, c.challenges, c.accepted, c.lost),
            (51, 1, 1, 50, 0)
        );
    }

    #[test]
    fn a_lost_hello_is_resent_and_reordering_is_undone() {
        // The first datagram (the hello) is lost, so the sender says hello again 10 ms
        // later. Every third datagram takes 12 ms instead of 1 ms: it arrives 1 ms after
        // the next one (sent 10 ms later), within the 5 ms reorder window.
        let (rows, c, sent) = simulate(None, None, 30, |i, _| match i {
            0 => None,
            i if i % 3 == 0 => Some(12 * MS),
            _ => Some(MS),
        });
        assert_eq!(rows, (1..=30).collect::<Vec<_>>());
        assert_eq!((sent.sent, sent.confirmed), (30, 1));
        assert_eq!((c.hello, c.accepted, c.stale, c.written, c.lost), (1, 30, 0, 30, 0));
    }

    #[test]
    fn a_sender_with_the_wrong_key_records_nothing() {
        let (rows, c, sent) = simulate(Some(key(1)), Some(key(2)), 5, |_, _| Some(MS));
        assert!(rows.is_empty());
        assert_eq!(sent.confirmed, 0, "the sender never got a challenge it could verify");
        assert_eq!(sent.sent, 5);
        // Hellos at 0, 10, ..., 90 ms until the 100 ms handshake timeout, then 5 heartbeats.
        assert_eq!((c.datagrams, c.unauthenticated), (15, 15));
        assert_eq!(c.challenges, 0);
    }
}

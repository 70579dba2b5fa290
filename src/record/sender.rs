//! The heartbeat sender: a handshake with each destination, then one heartbeat every
//! `interval` on an absolute schedule.
//!
//! [`Sender`] is the protocol logic without I/O or clock: it is given the time and the
//! datagrams it receives, and returns the datagrams to send and when to wake it next.
//! [`send`] runs it on a socket.
//!
//! The sender first says hello to every destination (again every `interval`, clamped
//! to 10 ms..1 s) until each has answered with a challenge or `handshake_timeout` has
//! passed; a destination that has not answered by then still gets every heartbeat, with
//! cookie 0, and joins when its challenge arrives (a receiver answers such a heartbeat
//! with a challenge). Heartbeat `k` is then due at `start + k * interval`, so waiting
//! never accumulates drift. When the sender falls behind (the process was not
//! scheduled), it sends at once and then skips the slots already past: `seq` counts
//! packets, so a stall shows up in the trace as a long gap between consecutive `seq`s,
//! as with a real stalled process.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::packet::{self, Key, MAX_SEQ, Message, Packet};
use super::socket::realtime_ns;
use crate::time::Nanos;

/// What to send.
#[derive(Clone, Debug)]
pub struct SendOptions {
    /// Destination.
    pub to: SocketAddr,
    /// Further destinations: each heartbeat (same session, seq and send time) also goes
    /// to each of these, right after `to`, so that several monitors watch one stream.
    pub also: Vec<SocketAddr>,
    /// Nominal interval (positive).
    pub interval: Nanos,
    /// Stop after this long (from the end of the handshake).
    pub duration: Option<Nanos>,
    /// Stop after this many heartbeats.
    pub count: Option<u64>,
    /// The session identifier written in every packet (random in a real sender).
    pub session: u64,
    /// The first sequence number.
    pub first_seq: u64,
    /// The session key; without one, datagrams carry no tag.
    pub key: Option<Key>,
    /// How long to wait for every destination's challenge before sending heartbeats.
    pub handshake_timeout: Nanos,
}

/// What the sender did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Heartbeats sent, including failed sends (each one used a `seq`).
    pub sent: u64,
    /// Schedule slots skipped because the sender was late by a whole interval or more.
    pub skipped_slots: u64,
    /// Sends that failed (e.g. `ECONNREFUSED` from a closed port); the sender keeps going.
    pub send_errors: u64,
    /// Hellos sent.
    pub hellos: u64,
    /// Destinations whose challenge arrived.
    pub confirmed: usize,
    /// Destinations that had not answered when the heartbeats started.
    pub unconfirmed_at_start: usize,
    /// Datagrams received that are not a valid challenge from a destination for this session.
    pub bad_replies: u64,
}

/// When to call [`Sender::poll`] again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// At this time (ns on the clock given to `poll`), or when a datagram arrives.
    Wait(i64),
    /// The sender is done.
    Done,
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    Start,
    Handshake { since: i64, next_hello: i64 },
    Running { start: i64 },
    Done,
}

/// The sender's state (see the module docs).
#[derive(Debug)]
pub struct Sender {
    opts: SendOptions,
    /// Each destination and its cookie once its challenge arrived.
    dests: Vec<(SocketAddr, Option<u64>)>,
    phase: Phase,
    slot: u64,
    report: SendReport,
}

impl Sender {
    /// A sender; the interval must be positive.
    pub fn new(opts: SendOptions) -> io::Result<Sender> {
        if opts.interval.0 <= 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the interval must be positive",
            ));
        }
        let mut dests: Vec<(SocketAddr, Option<u64>)> = Vec::new();
        for a in std::iter::once(opts.to).chain(opts.also.iter().copied()) {
            if !dests.iter().any(|d| d.0 == a) {
                dests.push((a, None));
            }
        }
        Ok(Sender {
            opts,
            dests,
            phase: Phase::Start,
            slot: 0,
            report: SendReport::default(),
        })
    }

    /// What the sender did so far.
    pub fn report(&self) -> SendReport {
        SendReport {
            confirmed: self.dests.iter().filter(|d| d.1.is_some()).count(),
            ..self.report
        }
    }

    /// A send failed (the runtime tells; the datagram still counts as sent).
    pub fn send_failed(&mut self) {
        self.report.send_errors += 1;
    }

    /// A datagram received from `from`: a destination's challenge sets its cookie.
    pub fn datagram(&mut self, from: SocketAddr, bytes: &[u8]) {
        match packet::decode(bytes, self.opts.key.as_ref()) {
            Ok(Message::Challenge { session, cookie }) if session == self.opts.session => {
                match self.dests.iter_mut().find(|d| d.0 == from) {
                    Some(d) => d.1 = Some(cookie),
                    None => self.report.bad_replies += 1,
                }
            }
            _ => self.report.bad_replies += 1,
        }
    }

    /// Appends to `out` the datagrams due at `mono` (a monotonic clock, ns) and says when
    /// to call again. `real` is `CLOCK_REALTIME` (ns since the Unix epoch), stamped in
    /// heartbeats.
    pub fn poll(&mut self, mono: i64, real: i64, out: &mut Vec<(SocketAddr, Vec<u8>)>) -> Poll {
        let interval = self.opts.interval.0;
        loop {
            match self.phase {
                Phase::Done => return Poll::Done,
                Phase::Start => {
                    self.phase = Phase::Handshake {
                        since: mono,
                        next_hello: mono,
                    };
                }
                Phase::Handshake { since, next_hello } => {
                    let deadline = since.saturating_add(self.opts.handshake_timeout.0);
                    if self.dests.iter().all(|d| d.1.is_some()) || mono >= deadline {
                        self.report.unconfirmed_at_start = self.dests.iter().filter(|d| d.1.is_none()).count();
                        self.phase = Phase::Running { start: mono };
                        continue;
                    }
                    if mono < next_hello {
                        return Poll::Wait(next_hello.min(deadline));
                    }
                    let hello = packet::encode(
                        &Message::Hello {
                            session: self.opts.session,
                            interval_ns: interval,
                        },
                        self.opts.key.as_ref(),
                    );
                    for d in self.dests.iter().filter(|d| d.1.is_none()) {
                        out.push((d.0, hello.clone()));
                        self.report.hellos += 1;
                    }
                    let next = mono.saturating_add(interval.clamp(10_000_000, 1_000_000_000));
                    self.phase = Phase::Handshake {
                        since,
                        next_hello: next,
                    };
                    return Poll::Wait(next.min(deadline));
                }
                Phase::Running { start } => {
                    let seq = self.opts.first_seq.saturating_add(self.report.sent);
                    let due = i64::try_from(self.slot)
                        .ok()
                        .and_then(|s| s.checked_mul(interval))
                        .and_then(|o| o.checked_add(start));
                    let past_end = |due: i64| {
                        self.opts
                            .duration
                            .is_some_and(|d| due >= start.saturating_add(d.0.max(0)))
                    };
                    let Some(due) = due.filter(|&d| !past_end(d)) else {
                        self.phase = Phase::Done;
                        continue;
                    };
                    if self.opts.count.is_some_and(|c| self.report.sent >= c) || seq > MAX_SEQ {
                        self.phase = Phase::Done;
                        continue;
                    }
                    if mono < due {
                        return Poll::Wait(due);
                    }
                    let packet = Packet {
                        session: self.opts.session,
                        seq,
                        send_ns: real.max(0),
                        interval_ns: interval,
                    };
                    for &(to, cookie) in &self.dests {
                        let msg = Message::Heartbeat {
                            packet,
                            cookie: cookie.unwrap_or(0),
                        };
                        out.push((to, packet::encode(&msg, self.opts.key.as_ref())));
                    }
                    self.report.sent += 1;
                    // The next slot is the first one still in the future.
                    let next = ((mono - start) / interval) as u64 + 1;
                    let next = next.max(self.slot + 1);
                    self.report.skipped_slots += next - self.slot - 1;
                    self.slot = next;
                }
            }
        }
    }
}

/// Runs a [`Sender`] on `socket` until it is done or `stop` returns true (asked at
/// least every 100 ms). With neither a duration nor a count it runs until `stop`.
pub fn send(socket: &UdpSocket, opts: &SendOptions, stop: &dyn Fn() -> bool) -> io::Result<SendReport> {
    let mut s = Sender::new(opts.clone())?;
    socket.set_nonblocking(true)?;
    let t0 = Instant::now();
    let mono = || i64::try_from(t0.elapsed().as_nanos()).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    let mut buf = [0u8; packet::MAX_DATAGRAM + 1];
    while !stop() {
        let poll = s.poll(mono(), realtime_ns(), &mut out);
        for (to, bytes) in out.drain(..) {
            if socket.send_to(&bytes, to).is_err() {
                s.send_failed();
            }
        }
        let Poll::Wait(until) = poll else { break };
        let wait = Duration::from_nanos(until.saturating_sub(mono()).clamp(0, 100_000_000) as u64);
        super::socket::wait_readable(socket, wait)?;
        loop {
            match socket.recv_from(&mut buf) {
                Ok((n, from)) => s.datagram(from, &buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // An earlier send to a closed port reports here; so may a signal.
                Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionRefused | io::ErrorKind::Interrupted) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(s.report())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    fn opts(count: u64) -> SendOptions {
        SendOptions {
            to: "10.0.0.2:9000".parse().unwrap(),
            also: vec!["10.0.0.3:9000".parse().unwrap()],
            interval: Nanos(10 * MS),
            duration: None,
            count: Some(count),
            session: 9,
            first_seq: 1,
            key: None,
            handshake_timeout: Nanos(35 * MS),
        }
    }

    fn messages(out: &[(SocketAddr, Vec<u8>)]) -> Vec<Message> {
        out.iter().map(|(_, b)| packet::decode(b, None).unwrap()).collect()
    }

    #[test]
    fn hellos_until_every_destination_answers_then_heartbeats_on_schedule() {
        let mut s = Sender::new(opts(3)).unwrap();
        let (a, b) = (s.dests[0].0, s.dests[1].0);
        let mut out = vec![];
        assert_eq!(s.poll(0, 1_000, &mut out), Poll::Wait(10 * MS));
        assert_eq!(out.len(), 2, "a hello to each destination");
        assert!(
            messages(&out)
                .iter()
                .all(|m| matches!(m, Message::Hello { session: 9, .. }))
        );
        out.clear();
        let challenge = |cookie| packet::encode(&Message::Challenge { session: 9, cookie }, None);
        s.datagram(a, &challenge(5));
        s.datagram("10.0.0.9:1".parse().unwrap(), &challenge(6));
        s.datagram(b, &packet::encode(&Message::Challenge { session: 8, cookie: 6 }, None));
        // b has not answered for this session: a second hello goes to b alone.
        assert_eq!(s.poll(10 * MS, 2_000, &mut out), Poll::Wait(20 * MS));
        assert_eq!(out.iter().map(|o| o.0).collect::<Vec<_>>(), vec![b]);
        out.clear();
        s.datagram(b, &challenge(6));
        // Both answered: heartbeat 1 goes out at once, each with its destination's cookie.
        assert_eq!(s.poll(12 * MS, 3_000, &mut out), Poll::Wait(22 * MS));
        let hb = |out: &[(SocketAddr, Vec<u8>)], i: usize| match packet::decode(&out[i].1, None).unwrap() {
            Message::Heartbeat { packet, cookie } => (out[i].0, packet.seq, packet.send_ns, cookie),
            m => panic!("{m:?}"),
        };
        assert_eq!((hb(&out, 0), hb(&out, 1)), ((a, 1, 3_000, 5), (b, 1, 3_000, 6)));
        out.clear();
        // Late by 25 ms: heartbeat 2 at once, slots at 22 and 32 ms skipped, next at 52.
        assert_eq!(s.poll(47 * MS, 4_000, &mut out), Poll::Wait(52 * MS));
        assert_eq!(hb(&out, 0).1, 2);
        out.clear();
        assert_eq!(s.poll(52 * MS, 5_000, &mut out), Poll::Done);
        assert_eq!(hb(&out, 0).1, 3);
        let r = s.report();
        assert_eq!(
            (
                r.sent,
                r.skipped_slots,
                r.hellos,
                r.confirmed,
                r.unconfirmed_at_start,
                r.bad_replies
            ),
            (3, 2, 3, 2, 0, 2)
        );
    }

    #[test]
    fn a_silent_destination_gets_cookie_0_heartbeats_after_the_timeout_and_joins_later() {
        let mut o = opts(3);
        o.duration = Some(Nanos(25 * MS));
        o.count = None;
        let mut s = Sender::new(o).unwrap();
        let a = s.dests[0].0;
        let mut out = vec![];
        // Hellos at 0, 10, 20 and 30 ms; the 35 ms timeout starts the schedule.
        for t in [0, 10, 20, 30] {
            s.poll(t * MS, 0, &mut out);
        }
        assert_eq!(out.len(), 8);
        out.clear();
        assert_eq!(s.poll(35 * MS, 0, &mut out), Poll::Wait(45 * MS));
        let cookies = |out: &[(SocketAddr, Vec<u8>)]| -> Vec<u64> {
            out.iter()
                .map(|(_, b)| match packet::decode(b, None) {
                    Ok(Message::Heartbeat { cookie, .. }) => cookie,
                    m => panic!("{m:?}"),
                })
                .collect()
        };
        assert_eq!(cookies(&out), vec![0, 0]);
        out.clear();
        s.datagram(a, &packet::encode(&Message::Challenge { session: 9, cookie: 4 }, None));
        assert_eq!(s.poll(45 * MS, 0, &mut out), Poll::Wait(55 * MS));
        assert_eq!(cookies(&out), vec![4, 0]);
        out.clear();
        // The duration (25 ms from the start at 35 ms) ends before the slot at 65 ms.
        assert_eq!(s.poll(55 * MS, 0, &mut out), Poll::Done);
        assert_eq!(cookies(&out), vec![4, 0]);
        let r = s.report();
        assert_eq!((r.sent, r.hellos, r.confirmed, r.unconfirmed_at_start), (3, 8, 1, 2));
    }

    #[test]
    fn the_sender_stops_at_the_largest_seq() {
        let mut o = opts(10);
        o.first_seq = MAX_SEQ - 1;
        o.also.clear();
        o.handshake_timeout = Nanos(0);
        let mut s = Sender::new(o).unwrap();
        let mut out = vec![];
        let mut t = 0;
        while let Poll::Wait(next) = s.poll(t, 0, &mut out) {
            t = next;
        }
        let seqs: Vec<u64> = out
            .iter()
            .filter_map(|(_, b)| match packet::decode(b, None) {
                Ok(Message::Heartbeat { packet, .. }) => Some(packet.seq),
                _ => None,
            })
            .collect();
        assert_eq!(seqs, vec![MAX_SEQ - 1, MAX_SEQ]);
    }

    #[test]
    fn every_destination_gets_the_same_heartbeats_over_real_sockets() {
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut o = opts(3);
        o.to = a.local_addr().unwrap();
        o.also = vec![b.local_addr().unwrap()];
        o.interval = Nanos(1_000);
        // No receiver answers: the heartbeats start after the timeout with cookie 0.
        o.handshake_timeout = Nanos(0);
        let r = send(&tx, &o, &|| false).unwrap();
        assert_eq!((r.sent, r.send_errors, r.hellos), (3, 0, 0));
        let read = |s: &UdpSocket| -> Vec<Packet> {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            (0..3)
                .map(|_| {
                    let mut buf = [0u8; 128];
                    let n = s.recv(&mut buf).unwrap();
                    match packet::decode(&buf[..n], None) {
                        Ok(Message::Heartbeat { packet, cookie: 0 }) => packet,
                        m => panic!("{m:?}"),
                    }
                })
                .collect()
        };
        let (pa, pb) = (read(&a), read(&b));
        assert_eq!(pa, pb);
        assert_eq!(pa.iter().map(|p| p.seq).collect::<Vec<_>>(), [1, 2, 3]);
    }
}

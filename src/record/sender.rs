//! The heartbeat sender: one packet every `interval` on an absolute schedule.
//!
//! Heartbeat `k` is due at `start + k * interval`, so sleeping never accumulates drift.
//! When the sender falls behind (the process was not scheduled), it sends at once and
//! then skips the slots already past: `seq` counts packets, so a stall shows up in the
//! trace as a long gap between consecutive `seq`s, as with a real stalled process.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::packet::Packet;
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
    /// Stop after this long.
    pub duration: Option<Nanos>,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// The session identifier written in every packet.
    pub session: u64,
    /// The first sequence number.
    pub first_seq: u64,
}

/// What the sender did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Packets handed to the socket, including failed sends (each one used a `seq`).
    pub sent: u64,
    /// Schedule slots skipped because the sender was late by a whole interval or more.
    pub skipped_slots: u64,
    /// Sends that failed (e.g. `ECONNREFUSED` from a closed port); the sender keeps going.
    pub send_errors: u64,
}

/// Sends heartbeats from `socket` until the duration or count is reached or `stop`
/// returns true (it is asked between packets and at least every 100 ms). With neither a
/// duration nor a count it runs until `stop`.
pub fn send(socket: &UdpSocket, opts: &SendOptions, stop: &dyn Fn() -> bool) -> io::Result<SendReport> {
    if opts.interval.0 <= 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the interval must be positive",
        ));
    }
    let interval = Duration::from_nanos(opts.interval.0 as u64);
    let start = Instant::now();
    let end = opts.duration.map(|d| start + Duration::from_nanos(d.0.max(0) as u64));
    let mut report = SendReport::default();
    let mut slot: u64 = 0;
    while !stop() && opts.count.is_none_or(|c| report.sent < c) {
        let Some(due) = (opts.interval.0 as u64)
            .checked_mul(slot)
            .and_then(|o| start.checked_add(Duration::from_nanos(o)))
        else {
            break;
        };
        if end.is_some_and(|e| due >= e) {
            break;
        }
        let now = Instant::now();
        if due > now {
            // Sleep in short steps so that a stop request is honoured promptly.
            let wait = due - now;
            std::thread::sleep(wait.min(Duration::from_millis(100)));
            if wait > Duration::from_millis(100) {
                continue;
            }
        }
        let packet = Packet {
            session: opts.session,
            seq: opts.first_seq + report.sent,
            send_ns: realtime_ns(),
            interval_ns: opts.interval.0,
        };
        let bytes = packet.encode();
        match socket.send_to(&bytes, opts.to) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => report.send_errors += 1,
        }
        for to in &opts.also {
            if socket.send_to(&bytes, to).is_err() {
                report.send_errors += 1;
            }
        }
        report.sent += 1;
        // The next slot is the first one still in the future.
        let late = Instant::now().saturating_duration_since(start);
        let next = (late.as_nanos() / interval.as_nanos()) as u64 + 1;
        let next = next.max(slot + 1);
        report.skipped_slots += next - slot - 1;
        slot = next;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_destination_gets_the_same_heartbeats() {
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let opts = SendOptions {
            to: a.local_addr().unwrap(),
            also: vec![b.local_addr().unwrap()],
            interval: Nanos(1_000),
            duration: None,
            count: Some(3),
            session: 9,
            first_seq: 1,
        };
        let r = send(&tx, &opts, &|| false).unwrap();
        assert_eq!((r.sent, r.send_errors), (3, 0));
        let read = |s: &UdpSocket| -> Vec<Packet> {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            (0..3)
                .map(|_| {
                    let mut buf = [0u8; 64];
                    let n = s.recv(&mut buf).unwrap();
                    Packet::decode(&buf[..n]).unwrap()
                })
                .collect()
        };
        let (pa, pb) = (read(&a), read(&b));
        assert_eq!(pa, pb);
        assert_eq!(pa.iter().map(|p| p.seq).collect::<Vec<_>>(), [1, 2, 3]);
    }
}

//! An impairing UDP relay: forwards datagrams after a delay drawn from a
//! [`DelayModel`], dropping some with a given probability, seeded. It adds delay, jitter,
//! reordering and loss in user space where the kernel offers no `netem`. The relay
//! forwards from its own socket, so a receiver behind it must expect the relay's
//! address as the source (`--from`). Datagrams from the destination (the receiver's
//! handshake challenges) go back at once, unimpaired, to the last source that sent
//! through the relay.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::time::Nanos;
use crate::trace::import::delay::{DelayModel, lost};

/// How to impair.
#[derive(Clone, Debug)]
pub struct RelayOptions {
    /// Where to forward.
    pub to: SocketAddr,
    /// The added one-way delay.
    pub delay: DelayModel,
    /// Probability of dropping a datagram.
    pub loss: f64,
    /// Seed of the delay and loss draws.
    pub seed: u64,
    /// Stop after this long.
    pub duration: Option<Nanos>,
}

/// What the relay did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayReport {
    /// Datagrams forwarded.
    pub forwarded: u64,
    /// Datagrams dropped by the loss model.
    pub dropped: u64,
    /// Datagrams dropped because too many were waiting ([`MAX_QUEUE`]).
    pub overflow: u64,
    /// Datagrams from the destination passed back to the source.
    pub returned: u64,
}

/// The most datagrams held at once.
pub const MAX_QUEUE: usize = 1 << 16;

/// Relays datagrams received on `socket` to `opts.to` until the duration ends or `stop`
/// returns true.
pub fn relay(socket: &UdpSocket, opts: &RelayOptions, stop: &dyn Fn() -> bool) -> io::Result<RelayReport> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let start = Instant::now();
    let end = opts.duration.map(|d| start + Duration::from_nanos(d.0.max(0) as u64));
    let mut queue: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>> = BinaryHeap::new();
    let mut report = RelayReport::default();
    let mut order: u64 = 0;
    let mut client: Option<SocketAddr> = None;
    let mut buf = [0u8; 2048];
    socket.set_nonblocking(true)?;
    while !stop() && end.is_none_or(|e| Instant::now() < e) {
        let now = Instant::now();
        let wait = queue
            .peek()
            .map(|Reverse((due, _, _))| due.saturating_duration_since(now))
            .unwrap_or(Duration::from_millis(20))
            .min(Duration::from_millis(20));
        super::socket::wait_readable(socket, wait)?;
        loop {
            match socket.recv_from(&mut buf) {
                Ok((n, from)) if from == opts.to => {
                    if let Some(c) = client
                        && socket.send_to(&buf[..n], c).is_ok()
                    {
                        report.returned += 1;
                    }
                }
                Ok((n, from)) => {
                    client = Some(from);
                    if lost(&mut rng, opts.loss) {
                        report.dropped += 1;
                    } else if queue.len() >= MAX_QUEUE {
                        report.overflow += 1;
                    } else {
                        let d = opts.delay.sample(&mut rng);
                        let due = Instant::now() + Duration::from_nanos(d.0.max(0) as u64);
                        queue.push(Reverse((due, order, buf[..n].to_vec())));
                        order += 1;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted | io::ErrorKind::ConnectionRefused
                    ) =>
                {
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let now = Instant::now();
        while queue.peek().is_some_and(|Reverse((due, _, _))| *due <= now) {
            if let Some(Reverse((_, _, bytes))) = queue.pop() {
                // A receiver that is not (yet) listening is not the relay's failure.
                if socket.send_to(&bytes, opts.to).is_ok() {
                    report.forwarded += 1;
                }
            }
        }
    }
    Ok(report)
}

//! Recording real heartbeat traces over UDP.
//!
//! A sender ([`sender::send`]) does a handshake with each receiver, then stamps each
//! heartbeat ([`packet`]) with its `CLOCK_REALTIME` and sends one every `interval` on an
//! absolute schedule. A receiver ([`listen`]) timestamps each datagram as it arrives (the
//! kernel's `SO_TIMESTAMPNS` where available, see [`socket`]), locks onto the first
//! sender that completes the handshake, drops and counts what it cannot use
//! ([`receiver`]: forged, unauthenticated, replayed or malformed datagrams never end a
//! recording), puts the receipts back in `seq` order through a bounded buffer
//! ([`reorder`]) and streams rows to a trace file (`crate::trace::csv` format) as it
//! goes, so memory stays bounded over runs of any length. [`loopback`] runs both ends in
//! one process. The protocol logic of both ends is free of I/O and clocks
//! ([`receiver::Receiver`], [`sender::Sender`]); the functions here run it on sockets.
//!
//! # Binding a session to its sender
//!
//! Without a key, the receiver locks onto the first source whose heartbeats echo the
//! cookie it sent to that source's address, which a sender spoofing that address from
//! elsewhere never sees; a machine on the path could still read the cookie and inject
//! rows. With a key ([`packet::Key`], the same on both ends) every datagram carries an
//! HMAC-SHA256 tag and nothing else is accepted. Sequence numbers above 2^63 - 1 are
//! refused (counted under `seq_range`), so every trace written is one
//! `crate::trace::csv` reads.
//!
//! # Clocks
//!
//! Receipt times are always on the receiver's clock. Send times are on the sender's
//! clock, so they are written only when both ends share one clock: in [`loopback`], in
//! network namespaces of one host, or when the user asserts that the hosts' clocks are
//! synchronized (`--assume-synced`). Otherwise the trace has only `recv_ns`.
//!
//! Times in the file are nanoseconds since the recording's start (its epoch, written as
//! the comment `# epoch_unix_ns=N`), so both columns share one origin and are
//! non-negative. A packet received before the epoch, or (with send times) sent before
//! it or received before it was sent, is counted under `clock` and dropped.
//!
//! # Stopping
//!
//! [`listen`] returns when its duration or count is reached or when the `stop` flag is
//! set (the CLI sets it on Ctrl-C); it then writes the receipts still buffered and the
//! counters as a final comment line. The CLI streams into a temporary file
//! `.NAME.tmp-RANDOM` next to the destination and renames it when `listen` returns; if
//! the process is killed (SIGKILL), the destination is untouched and the temporary file
//! holds the rows written so far: all of them up to the last flush (every
//! `flush_every`), each row whole (rows reach the file in single writes), without the
//! final counters line.

pub mod packet;
pub mod receiver;
pub mod relay;
pub mod reorder;
pub mod sender;
pub mod socket;

use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::time::Nanos;
use packet::{CookieSecret, Key};
pub use receiver::Counters;
use receiver::{Action, Receiver};
use reorder::Row;
use sender::{SendOptions, SendReport};
use socket::Stamp;

/// An error while recording.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The socket or the output failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Too few heartbeats for a trace.
    #[error("received {} usable heartbeat(s); a trace needs at least two ({})", .0.written, .0.why_too_few())]
    TooFew(Box<Counters>),
}

/// How to receive.
#[derive(Clone, Debug)]
pub struct ListenOptions {
    /// Accept datagrams only from this source (port 0: any port of that address).
    pub from: Option<SocketAddr>,
    /// Stop after this long.
    pub duration: Option<Nanos>,
    /// Stop after this many accepted heartbeats.
    pub count: Option<u64>,
    /// Write the senders' timestamps as `send_ns` (only when the clocks are shared or synchronized).
    pub with_send: bool,
    /// The nominal interval written as `# interval_ns`; by default the sender's, from its packets.
    pub interval: Option<Nanos>,
    /// How long a receipt waits for late predecessors before it is written.
    pub reorder_window: Nanos,
    /// The most receipts held for reordering.
    pub reorder_capacity: usize,
    /// How often rows are flushed to the output.
    pub flush_every: Nanos,
    /// Use kernel receive timestamps when available.
    pub kernel_timestamps: bool,
    /// The origin of the times in the file, ns since the Unix epoch (normally `realtime_ns()` at start).
    pub epoch_ns: i64,
    /// Extra comment lines for the file header (without `# `).
    pub comments: Vec<String>,
    /// The session key shared with the sender; without one, datagrams carry no tag.
    pub key: Option<Key>,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            from: None,
            duration: None,
            count: None,
            with_send: false,
            interval: None,
            reorder_window: Nanos::SECOND,
            reorder_capacity: 1024,
            flush_every: Nanos::SECOND,
            kernel_timestamps: true,
            epoch_ns: socket::realtime_ns(),
            comments: Vec::new(),
            key: None,
        }
    }
}

/// What [`listen`] saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenReport {
    /// The counters, also written as the file's last comment line.
    pub counters: Counters,
    /// Where the receipt times came from (of the first packet), if any arrived.
    pub stamp: Option<Stamp>,
    /// The nominal interval written in the file, if any row was.
    pub interval: Option<Nanos>,
    /// The sender the receiver locked onto, and its session.
    pub locked: Option<(SocketAddr, u64)>,
}

/// Writes the trace as rows are released: the header before the first row.
struct Writer<'a> {
    out: &'a mut dyn Write,
    with_send: bool,
    header: bool,
    itoa: itoa::Buffer,
    line: Vec<u8>,
}

impl Writer<'_> {
    fn header(&mut self, opts: &ListenOptions, rx: &Receiver, stamp: Stamp) -> io::Result<()> {
        for c in &opts.comments {
            writeln!(self.out, "# {c}")?;
        }
        writeln!(self.out, "# epoch_unix_ns={}", opts.epoch_ns)?;
        if let Some((source, session)) = rx.locked() {
            let how = if opts.key.is_some() {
                "every datagram authenticated with the session key"
            } else {
                "bound by the handshake's cookie, without a key"
            };
            writeln!(self.out, "# sender: {source}, session {session:#018x}, {how}")?;
        }
        let how = match stamp {
            Stamp::Kernel => "kernel receive timestamps (SO_TIMESTAMPNS, CLOCK_REALTIME)",
            Stamp::User => "CLOCK_REALTIME read after recv returned",
        };
        writeln!(self.out, "# recv_ns: {how}, minus the epoch")?;
        if self.with_send {
            writeln!(
                self.out,
                "# send_ns: the sender's CLOCK_REALTIME stamped in the packet, minus the epoch"
            )?;
        }
        writeln!(self.out, "# interval_ns={}", rx.interval().unwrap_or(Nanos(1)).0)?;
        self.out.write_all(if self.with_send {
            b"seq,send_ns,recv_ns\n"
        } else {
            b"seq,recv_ns\n"
        })?;
        self.header = true;
        Ok(())
    }

    fn row(&mut self, (seq, send, recv): Row) -> io::Result<()> {
        // One write per row: the output never ends inside a row, even if the process is killed.
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(self.itoa.format(seq).as_bytes());
        line.push(b',');
        if self.with_send {
            line.extend_from_slice(self.itoa.format(send.unwrap_or(0)).as_bytes());
            line.push(b',');
        }
        line.extend_from_slice(self.itoa.format(recv).as_bytes());
        line.push(b'\n');
        self.out.write_all(line)
    }
}

/// The receive buffer a listener asks for, so that a burst or a flood is absorbed.
pub const RECEIVE_BUFFER: usize = 4 << 20;

/// Receives heartbeats on `socket` and streams them to `out` as a trace (see the module
/// docs) until the duration or count is reached or `stop` is set. `on_lock` is called
/// once, when the receiver locks onto a sender, with its address and session.
pub fn listen(
    socket: &UdpSocket,
    opts: &ListenOptions,
    stop: &AtomicBool,
    out: &mut dyn Write,
    on_lock: &mut dyn FnMut(SocketAddr, u64),
) -> Result<ListenReport, RecordError> {
    let tick = Duration::from_millis(20);
    socket.set_read_timeout(Some(tick))?;
    let kernel = opts.kernel_timestamps && socket::enable_kernel_timestamps(socket);
    socket::enable_drop_count(socket, RECEIVE_BUFFER);
    let start = Instant::now();
    let end = opts.duration.map(|d| start + Duration::from_nanos(d.0.max(0) as u64));
    let mut rx = Receiver::new(
        receiver::Config {
            from: opts.from,
            with_send: opts.with_send,
            interval: opts.interval,
            reorder_window: opts.reorder_window,
            reorder_capacity: opts.reorder_capacity,
            epoch_ns: opts.epoch_ns,
            key: opts.key.clone(),
        },
        CookieSecret::random()?,
    );
    let mut w = Writer {
        out,
        with_send: opts.with_send,
        header: false,
        itoa: itoa::Buffer::new(),
        line: Vec::with_capacity(64),
    };
    let mut stamp: Option<Stamp> = None;
    let mut actions: Vec<Action> = Vec::new();
    let mut last_flush: i64 = 0;
    // One byte more than the largest datagram, so that a longer one is seen as such.
    let mut buf = [0u8; packet::MAX_DATAGRAM + 1];
    loop {
        if stop.load(Ordering::Relaxed)
            || end.is_some_and(|e| Instant::now() >= e)
            || opts.count.is_some_and(|c| rx.counters().accepted >= c)
        {
            break;
        }
        match socket::recv_stamped(socket, &mut buf, kernel) {
            Ok(r) => {
                stamp.get_or_insert(r.stamp);
                if let Some(d) = r.kernel_dropped {
                    rx.kernel_dropped(u64::from(d));
                }
                rx.datagram(r.at, r.from, &buf[..r.len], &mut actions);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) => {}
            // A previous send from this socket's address may report ICMP errors here.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
            Err(e) => return Err(e.into()),
        }
        let now = socket::realtime_ns();
        rx.tick(now, &mut actions);
        perform(&mut w, socket, &mut actions, opts, &rx, stamp, on_lock)?;
        if now - opts.epoch_ns - last_flush >= opts.flush_every.0 {
            w.out.flush()?;
            last_flush = now - opts.epoch_ns;
        }
    }
    rx.finish(&mut actions);
    perform(&mut w, socket, &mut actions, opts, &rx, stamp, on_lock)?;
    let counters = *rx.counters();
    if w.header {
        writeln!(w.out, "# counters: {}", counters.summary())?;
    }
    w.out.flush()?;
    if counters.written < 2 {
        return Err(RecordError::TooFew(Box::new(counters)));
    }
    Ok(ListenReport {
        counters,
        stamp,
        interval: rx.interval(),
        locked: rx.locked(),
    })
}

/// Carries out the receiver's actions: challenges to the socket, rows to the output.
fn perform(
    w: &mut Writer<'_>,
    socket: &UdpSocket,
    actions: &mut Vec<Action>,
    opts: &ListenOptions,
    rx: &Receiver,
    stamp: Option<Stamp>,
    on_lock: &mut dyn FnMut(SocketAddr, u64),
) -> io::Result<()> {
    for a in actions.drain(..) {
        match a {
            // A challenge that cannot be sent is as if lost; the sender says hello again.
            Action::Reply { to, bytes } => drop(socket.send_to(&bytes, to)),
            Action::Locked { source, session } => on_lock(source, session),
            Action::Row(r) => {
                if !w.header {
                    // A row exists only after a locked heartbeat, which set both.
                    w.header(opts, rx, stamp.unwrap_or(Stamp::User))?;
                }
                w.row(r)?;
            }
        }
    }
    Ok(())
}

/// How to run sender and receiver in one process.
#[derive(Clone, Debug)]
pub struct LoopbackOptions {
    /// Nominal interval.
    pub interval: Nanos,
    /// How long the sender runs.
    pub duration: Option<Nanos>,
    /// How many heartbeats the sender sends.
    pub count: Option<u64>,
    /// Receiver settings; `from`, `with_send`, `duration` and `count` are set by [`loopback`].
    pub listen: ListenOptions,
}

/// How long the sender of [`loopback`] waits for the receiver's challenge.
pub const LOOPBACK_HANDSHAKE: Nanos = Nanos::from_secs(10);

/// Runs a sender and a receiver on 127.0.0.1 in one process, sharing one clock, so the
/// trace has exact send times (with `opts.listen.key`, both ends use the key). Returns when the sender is done (plus a short grace for
/// packets in flight) or `stop` is set.
pub fn loopback(
    opts: &LoopbackOptions,
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> Result<(ListenReport, SendReport), RecordError> {
    let rx = UdpSocket::bind("127.0.0.1:0")?;
    let tx = UdpSocket::bind("127.0.0.1:0")?;
    let mut listen_opts = opts.listen.clone();
    listen_opts.from = Some(tx.local_addr()?);
    listen_opts.with_send = true;
    listen_opts.duration = None;
    listen_opts.count = None;
    listen_opts.interval.get_or_insert(opts.interval);
    let send_opts = SendOptions {
        to: rx.local_addr()?,
        also: Vec::new(),
        interval: opts.interval,
        duration: opts.duration,
        count: opts.count,
        session: packet::random_u64()?,
        first_seq: 1,
        key: listen_opts.key.clone(),
        handshake_timeout: LOOPBACK_HANDSHAKE,
    };
    let done = AtomicBool::new(false);
    let grace = Duration::from_nanos(opts.interval.0.max(0) as u64 * 2).max(Duration::from_millis(100));
    std::thread::scope(|s| {
        let sender = s.spawn(|| {
            let r = sender::send(&tx, &send_opts, &|| {
                stop.load(Ordering::Relaxed) || done.load(Ordering::Relaxed)
            });
            let t = Instant::now();
            while !stop.load(Ordering::Relaxed) && t.elapsed() < grace {
                std::thread::sleep(Duration::from_millis(10));
            }
            done.store(true, Ordering::Relaxed);
            r
        });
        let listened = listen(&rx, &listen_opts, &done, out, &mut |_, _| {});
        done.store(true, Ordering::Relaxed);
        let sent = sender
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the sender thread panicked")));
        Ok((listened?, sent?))
    })
}

/// Whether `addr` is a loopback address (127.0.0.0/8 or ::1).
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

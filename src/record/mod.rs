//! Recording real heartbeat traces over UDP.
//!
//! A sender ([`sender::send`]) stamps each packet ([`packet::Packet`]) with its
//! `CLOCK_REALTIME` and sends one every `interval` on an absolute schedule. A receiver
//! ([`listen`]) timestamps each datagram as it arrives (the kernel's `SO_TIMESTAMPNS`
//! where available, see [`socket`]), drops and counts what it cannot use, puts the
//! receipts back in `seq` order through a bounded buffer ([`reorder`]) and streams rows
//! to a trace file (`crate::trace::csv` format) as it goes, so memory stays bounded
//! over runs of any length. [`loopback`] runs both ends in one process.
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
//! `.NAME.tmpPID` next to the destination and renames it when `listen` returns; if the
//! process is killed (SIGKILL), the destination is untouched and the temporary file
//! holds the rows written so far: all of them up to the last flush (every
//! `flush_every`), each row whole (rows reach the file in single writes), without the
//! final counters line.

pub mod packet;
pub mod relay;
pub mod reorder;
pub mod sender;
pub mod socket;

use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::time::Nanos;
use packet::Packet;
use reorder::{Counters, Offer, Reorder, Row};
use sender::{SendOptions, SendReport};
use socket::Stamp;

/// An error while recording.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The socket or the output failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Too few heartbeats for a trace.
    #[error(
        "received {0} usable heartbeat(s); a trace needs at least two (is the sender running and sending to this address? see the counters)"
    )]
    TooFew(u64),
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
}

/// Writes the trace as rows are released: the header before the first row.
struct Writer<'a> {
    out: &'a mut dyn Write,
    with_send: bool,
    header: bool,
    last_seq: Option<u64>,
    itoa: itoa::Buffer,
    line: Vec<u8>,
}

impl Writer<'_> {
    fn header(&mut self, opts: &ListenOptions, interval: Nanos, stamp: Stamp) -> io::Result<()> {
        for c in &opts.comments {
            writeln!(self.out, "# {c}")?;
        }
        writeln!(self.out, "# epoch_unix_ns={}", opts.epoch_ns)?;
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
        writeln!(self.out, "# interval_ns={}", interval.0)?;
        self.out.write_all(if self.with_send {
            b"seq,send_ns,recv_ns\n"
        } else {
            b"seq,recv_ns\n"
        })?;
        self.header = true;
        Ok(())
    }

    fn row(&mut self, (seq, send, recv): Row, counters: &mut Counters) -> io::Result<()> {
        if let Some(p) = self.last_seq {
            counters.lost += seq - p - 1;
        }
        self.last_seq = Some(seq);
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
        self.out.write_all(line)?;
        counters.written += 1;
        Ok(())
    }
}

/// Receives heartbeats on `socket` and streams them to `out` as a trace (see the module
/// docs) until the duration or count is reached or `stop` is set.
pub fn listen(
    socket: &UdpSocket,
    opts: &ListenOptions,
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> Result<ListenReport, RecordError> {
    let tick = Duration::from_millis(20);
    socket.set_read_timeout(Some(tick))?;
    let kernel = opts.kernel_timestamps && socket::enable_kernel_timestamps(socket);
    let start = Instant::now();
    let end = opts.duration.map(|d| start + Duration::from_nanos(d.0.max(0) as u64));
    let mut counters = Counters::default();
    let mut reorder = Reorder::new(opts.reorder_window.0, opts.reorder_capacity);
    let mut w = Writer {
        out,
        with_send: opts.with_send,
        header: false,
        last_seq: None,
        itoa: itoa::Buffer::new(),
        line: Vec::with_capacity(64),
    };
    let mut session: Option<u64> = None;
    let mut stamp: Option<Stamp> = None;
    let mut interval = opts.interval;
    let mut ready: Vec<Row> = Vec::new();
    let mut last_flush: i64 = 0;
    let mut buf = [0u8; packet::SIZE + 1];
    loop {
        if stop.load(Ordering::Relaxed)
            || end.is_some_and(|e| Instant::now() >= e)
            || opts.count.is_some_and(|c| counters.accepted >= c)
        {
            break;
        }
        match socket::recv_stamped(socket, &mut buf, kernel) {
            Ok((n, from, at, how)) => {
                counters.datagrams += 1;
                if let Some(want) = opts.from
                    && (want.ip() != from.ip() || (want.port() != 0 && want.port() != from.port()))
                {
                    counters.foreign += 1;
                } else {
                    match Packet::decode(&buf[..n]) {
                        Err(_) => counters.malformed += 1,
                        Ok(p) if *session.get_or_insert(p.session) != p.session => counters.other_session += 1,
                        Ok(p) => {
                            stamp.get_or_insert(how);
                            interval.get_or_insert(Nanos(p.interval_ns));
                            let recv = at - opts.epoch_ns;
                            let send = p.send_ns - opts.epoch_ns;
                            if recv < 0 || (opts.with_send && (send < 0 || recv < send)) {
                                counters.clock += 1;
                            } else {
                                match reorder.offer(p.seq, opts.with_send.then_some(send), recv) {
                                    Offer::Accepted => counters.accepted += 1,
                                    Offer::Duplicate => counters.duplicate += 1,
                                    Offer::Stale => counters.stale += 1,
                                    Offer::OutOfWindow => counters.out_of_window += 1,
                                }
                            }
                        }
                    }
                }
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
        let now = socket::realtime_ns() - opts.epoch_ns;
        reorder.release(now, &mut |r| ready.push(r));
        write_ready(&mut w, &mut ready, opts, interval, stamp, &mut counters)?;
        if now - last_flush >= opts.flush_every.0 {
            w.out.flush()?;
            last_flush = now;
        }
    }
    reorder.drain(&mut |r| ready.push(r));
    write_ready(&mut w, &mut ready, opts, interval, stamp, &mut counters)?;
    if w.header {
        writeln!(w.out, "# counters: {}", counters.summary())?;
    }
    w.out.flush()?;
    if counters.written < 2 {
        return Err(RecordError::TooFew(counters.written));
    }
    Ok(ListenReport {
        counters,
        stamp,
        interval,
    })
}

fn write_ready(
    w: &mut Writer<'_>,
    ready: &mut Vec<Row>,
    opts: &ListenOptions,
    interval: Option<Nanos>,
    stamp: Option<Stamp>,
    counters: &mut Counters,
) -> io::Result<()> {
    if ready.is_empty() {
        return Ok(());
    }
    if !w.header {
        // A row exists only after a valid packet, which set both.
        w.header(opts, interval.unwrap_or(Nanos(1)), stamp.unwrap_or(Stamp::User))?;
    }
    for r in ready.drain(..) {
        w.row(r, counters)?;
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

/// Runs a sender and a receiver on 127.0.0.1 in one process, sharing one clock, so the
/// trace has exact send times. Returns when the sender is done (plus a short grace for
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
        session: listen_opts.epoch_ns as u64,
        first_seq: 1,
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
        let listened = listen(&rx, &listen_opts, &done, out);
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

//! `fdbench record`: record a real heartbeat trace over UDP.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

use super::common::usage;
use fdbench::record::packet::{self, Key};
use fdbench::record::relay::{self, RelayOptions};
use fdbench::record::sender::{self, SendOptions};
use fdbench::record::{self, ListenOptions, ListenReport, LoopbackOptions, RecordError};
use fdbench::time::Nanos;
use fdbench::trace::import::delay::DelayModel;

const EXAMPLES: &str = "\
EXAMPLES:
    fdbench record loopback --interval 10ms --duration 60s -o trace.csv
    fdbench record listen 127.0.0.1:9999 -o trace.csv            # in one terminal (Ctrl-C ends it)
    fdbench record send 127.0.0.1:9999 --interval 100ms --duration 1h
    head -c 32 /dev/urandom > session.key                          # a key for both ends
    fdbench record listen 127.0.0.1:9999 --key session.key -o trace.csv
    fdbench record send 127.0.0.1:9999 --key session.key --interval 100ms --duration 1h
    scripts/record-netns.sh --duration 60s -o netns.csv            # two network namespaces (root)

The sender says hello, the receiver answers with a cookie, and the receiver locks onto the
first source whose heartbeats echo it (stderr names it): a forged or stray datagram cannot
take the recording from the real sender. Without a key, a machine on the path that reads
the cookie can still inject rows; with --key FILE (or the key itself in $FDBENCH_RECORD_KEY)
on both ends, every datagram carries an HMAC-SHA256 tag and nothing without the key is
recorded. Bad datagrams never end a recording; they are counted by reason in the trace's
last comment line and on stderr.

The trace streams into .NAME.tmp-RANDOM next to the output and is renamed when the recording
ends (--duration, --count, or Ctrl-C: buffered receipts and the counters are written
first). After SIGKILL the output is untouched and .NAME.tmp-RANDOM holds the rows written so
far (at least up to the last --flush-every), whole rows only. Receipt times are kernel timestamps (SO_TIMESTAMPNS) on Linux.
`listen` writes send times only with --assume-synced: two hosts' clocks differ.

Traffic stays on this host: addresses must be loopback (127.0.0.0/8, ::1) unless
--allow-nonloopback is given, e.g. for addresses inside network namespaces.";

/// Record heartbeat traces over UDP: a receiver, a sender, both at once, and an impairing relay.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(clap::Subcommand, Debug)]
enum Mode {
    /// Receive heartbeats on ADDR and write a trace (Ctrl-C or --duration ends it cleanly).
    Listen(ListenArgs),
    /// Send heartbeats to ADDR.
    Send(SendArgs),
    /// Run sender and receiver in this process on 127.0.0.1 (one clock: exact send times).
    Loopback(LoopbackArgs),
    /// Forward datagrams with added delay and loss (for scripts/record-netns.sh).
    #[command(hide = true)]
    Relay(RelayArgs),
}

#[derive(clap::Args, Debug)]
struct Receiving {
    /// How long a receipt waits for reordered predecessors before it is written.
    #[arg(long, default_value = "1s", value_name = "DURATION")]
    reorder_window: Nanos,
    /// The most receipts held for reordering.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    reorder_capacity: usize,
    /// How often rows are flushed to the output file.
    #[arg(long, default_value = "1s", value_name = "DURATION")]
    flush_every: Nanos,
    /// Stamp receipts with CLOCK_REALTIME after recv instead of the kernel's SO_TIMESTAMPNS.
    #[arg(long)]
    user_timestamps: bool,
    /// Output trace (.csv, or - for stdout); written to .NAME.tmp-RANDOM and renamed when done.
    #[arg(short, long, value_name = "PATH")]
    output: PathBuf,
    /// Authenticate every datagram with this key file, the same on both ends (at least 16
    /// bytes; a trailing newline is ignored). Default: $FDBENCH_RECORD_KEY, else no key.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Print nothing on stderr.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(clap::Args, Debug)]
struct ListenArgs {
    /// Address to listen on, e.g. 127.0.0.1:9999.
    addr: SocketAddr,
    /// Accept only datagrams from this address (port 0 = any port).
    #[arg(long, value_name = "ADDR")]
    from: Option<SocketAddr>,
    /// Write the sender's timestamps as send_ns: only honest when both ends share a clock
    /// (one host, network namespaces) or have synchronized clocks.
    #[arg(long)]
    assume_synced: bool,
    /// Stop after this long (default: until Ctrl-C).
    #[arg(long, value_name = "DURATION")]
    duration: Option<Nanos>,
    /// Stop after this many accepted heartbeats.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Nominal interval written in the trace (default: the sender's, from its packets).
    #[arg(long, value_name = "DURATION")]
    interval: Option<Nanos>,
    /// Allow a non-loopback address (only for addresses inside network namespaces you made).
    #[arg(long)]
    allow_nonloopback: bool,
    #[command(flatten)]
    receiving: Receiving,
}

#[derive(clap::Args, Debug)]
struct SendArgs {
    /// Destination, e.g. 127.0.0.1:9999.
    addr: SocketAddr,
    /// Also send every heartbeat to ADDR (repeatable): one heartbeat stream, several monitors.
    #[arg(long, value_name = "ADDR")]
    also: Vec<SocketAddr>,
    /// Interval between heartbeats.
    #[arg(long, default_value = "100ms", value_name = "DURATION")]
    interval: Nanos,
    /// Stop after this long (default: until Ctrl-C, or --count).
    #[arg(long, value_name = "DURATION")]
    duration: Option<Nanos>,
    /// Stop after this many heartbeats.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Local address to send from (default: 127.0.0.1:0, or any address of the
    /// destination's family when --allow-nonloopback sends elsewhere).
    #[arg(long, value_name = "ADDR")]
    bind: Option<SocketAddr>,
    /// Allow non-loopback addresses (only for addresses inside network namespaces you made).
    #[arg(long)]
    allow_nonloopback: bool,
    /// Authenticate every datagram with this key file, the same on both ends (at least 16
    /// bytes; a trailing newline is ignored). Default: $FDBENCH_RECORD_KEY, else no key.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// How long to wait for every receiver's answer to the hello before sending
    /// heartbeats (a receiver that answers later joins then).
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    handshake_timeout: Nanos,
    /// Print nothing on stderr.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(clap::Args, Debug)]
struct LoopbackArgs {
    /// Interval between heartbeats.
    #[arg(long, default_value = "10ms", value_name = "DURATION")]
    interval: Nanos,
    /// How long to send.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    duration: Nanos,
    #[command(flatten)]
    receiving: Receiving,
}

#[derive(clap::Args, Debug)]
struct RelayArgs {
    /// Address to receive on.
    listen: SocketAddr,
    /// Address to forward to.
    to: SocketAddr,
    /// Added one-way delay: constant:10ms, uniform:5ms..15ms or lognormal:10ms,0.5.
    #[arg(long, default_value = "constant:0s", value_name = "MODEL")]
    delay: DelayModel,
    /// Probability of dropping each datagram.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    loss: f64,
    /// Seed of the delay and loss draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this long (default: until Ctrl-C).
    #[arg(long, value_name = "DURATION")]
    duration: Option<Nanos>,
    /// Allow non-loopback addresses (only for addresses inside network namespaces you made).
    #[arg(long)]
    allow_nonloopback: bool,
    /// Print nothing on stderr.
    #[arg(short, long)]
    quiet: bool,
}

static STOP: AtomicBool = AtomicBool::new(false);

fn on_ctrl_c() -> anyhow::Result<()> {
    ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed)).context("installing the Ctrl-C handler")
}

fn check_local(addrs: &[SocketAddr], allow: bool) -> anyhow::Result<()> {
    for a in addrs {
        if !allow && !record::is_loopback(a) {
            return Err(usage(format!(
                "{a} is not a loopback address; fdbench records on this host only: use 127.0.0.1, or pass --allow-nonloopback for an address inside a network namespace you created"
            )));
        }
    }
    Ok(())
}

/// The environment variable that holds the key when `--key` is not given.
const KEY_ENV: &str = "FDBENCH_RECORD_KEY";

/// The session key from `--key FILE`, else from `$FDBENCH_RECORD_KEY`, else none.
fn load_key(file: Option<&Path>) -> anyhow::Result<Option<Key>> {
    let (bytes, what) = match file {
        Some(p) => (
            std::fs::read(p).with_context(|| format!("reading the key file {}", p.display()))?,
            format!("--key {}", p.display()),
        ),
        None => match std::env::var_os(KEY_ENV) {
            Some(v) => (v.into_encoded_bytes(), format!("${KEY_ENV}")),
            None => return Ok(None),
        },
    };
    let b = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let b = b.strip_suffix(b"\r").unwrap_or(b);
    Key::new(b).map(Some).map_err(|e| usage(format!("{what}: {e}")))
}

fn positive(interval: Nanos, example: &str) -> anyhow::Result<()> {
    if interval.0 <= 0 {
        return Err(usage(format!("--interval must be positive, e.g. --interval {example}")));
    }
    Ok(())
}

/// Runs `fdbench record`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.mode {
        Mode::Listen(a) => listen(a),
        Mode::Send(a) => send(a),
        Mode::Loopback(a) => loopback(a),
        Mode::Relay(a) => run_relay(a),
    }
}

fn listen_options(r: &Receiving) -> anyhow::Result<ListenOptions> {
    Ok(ListenOptions {
        reorder_window: r.reorder_window,
        reorder_capacity: r.reorder_capacity,
        flush_every: r.flush_every,
        kernel_timestamps: !r.user_timestamps,
        key: load_key(r.key.as_deref())?,
        ..ListenOptions::default()
    })
}

/// Streams a recording into `path` atomically; on failure nothing is left behind.
fn record_to(
    path: &Path,
    what: impl FnOnce(&mut dyn std::io::Write) -> Result<ListenReport, RecordError>,
) -> anyhow::Result<ListenReport> {
    let mut report = None;
    fdbench::output::write_atomic(path, |w| {
        report = Some(what(w).map_err(std::io::Error::other)?);
        Ok(())
    })
    .with_context(|| format!("recording to {}", path.display()))?;
    report.context("internal: the recording produced no report")
}

fn print_report(r: &ListenReport, path: &Path) {
    let c = &r.counters;
    eprintln!(
        "recorded {} heartbeat(s) to {} ({} lost in gaps) from {} datagram(s)",
        c.written,
        path.display(),
        c.lost,
        c.datagrams
    );
    if c.dropped() > 0 {
        eprintln!("dropped {}: {}", c.dropped(), c.dropped_by_reason());
    }
}

/// Says on stderr which sender the receiver locked onto, and what that guarantees.
fn print_lock(source: SocketAddr, session: u64, keyed: bool) {
    eprintln!("locked onto {source} (session {session:#018x}); datagrams from any other source are dropped");
    if !keyed {
        eprintln!(
            "note: without --key, a machine on the path between {source} and this host that reads the session's cookie could still inject rows"
        );
    }
}

fn listen(a: ListenArgs) -> anyhow::Result<()> {
    let mut check = vec![a.addr];
    check.extend(a.from);
    check_local(&check, a.allow_nonloopback)?;
    let mut opts = listen_options(&a.receiving)?;
    on_ctrl_c()?;
    let socket = UdpSocket::bind(a.addr).with_context(|| format!("binding {}", a.addr))?;
    opts.from = a.from;
    opts.with_send = a.assume_synced;
    opts.duration = a.duration;
    opts.count = a.count;
    opts.interval = a.interval;
    opts.comments.push(format!(
        "recorded by fdbench record listen {}{}",
        a.addr,
        if a.assume_synced {
            " --assume-synced (send_ns assumes the sender's clock is the receiver's)"
        } else {
            " (receipt times only: the sender's clock is not the receiver's)"
        }
    ));
    if !a.receiving.quiet {
        eprintln!("listening on {}; Ctrl-C ends the recording", socket.local_addr()?);
    }
    let path = &a.receiving.output;
    let (quiet, keyed) = (a.receiving.quiet, opts.key.is_some());
    let mut on_lock = |source, session| {
        if !quiet {
            print_lock(source, session, keyed);
        }
    };
    let report = record_to(path, |w| record::listen(&socket, &opts, &STOP, w, &mut on_lock))?;
    if !quiet {
        print_report(&report, path);
    }
    Ok(())
}

fn send(a: SendArgs) -> anyhow::Result<()> {
    let bind = a.bind.unwrap_or_else(|| match (record::is_loopback(&a.addr), a.addr) {
        (true, SocketAddr::V6(_)) => "[::1]:0".parse().expect("a valid address"),
        (true, SocketAddr::V4(_)) => "127.0.0.1:0".parse().expect("a valid address"),
        (false, SocketAddr::V6(_)) => "[::]:0".parse().expect("a valid address"),
        (false, SocketAddr::V4(_)) => "0.0.0.0:0".parse().expect("a valid address"),
    });
    check_local(&[a.addr], a.allow_nonloopback)?;
    check_local(&a.also, a.allow_nonloopback)?;
    if a.bind.is_some() {
        check_local(&[bind], a.allow_nonloopback)?;
    }
    positive(a.interval, "100ms")?;
    let key = load_key(a.key.as_deref())?;
    on_ctrl_c()?;
    let socket = UdpSocket::bind(bind).with_context(|| format!("binding {bind}"))?;
    let opts = SendOptions {
        to: a.addr,
        also: a.also.clone(),
        interval: a.interval,
        duration: a.duration,
        count: a.count,
        session: packet::random_u64()?,
        first_seq: 1,
        key,
        handshake_timeout: a.handshake_timeout,
    };
    if !a.quiet {
        eprintln!(
            "sending to {} every {} from {}; Ctrl-C stops",
            a.addr,
            a.interval,
            socket.local_addr()?
        );
    }
    let r = sender::send(&socket, &opts, &|| STOP.load(Ordering::Relaxed)).context("sending heartbeats")?;
    if !a.quiet {
        let dests = 1 + a.also.len();
        if r.unconfirmed_at_start > 0 {
            eprintln!(
                "{} of {dests} receiver(s) had not answered the hello within --handshake-timeout {} when the heartbeats started; {} answered by the end",
                r.unconfirmed_at_start, a.handshake_timeout, r.confirmed
            );
        }
        eprintln!(
            "sent {} heartbeat(s); {} schedule slot(s) skipped while late; {} send error(s); {} of {dests} receiver(s) answered the handshake",
            r.sent, r.skipped_slots, r.send_errors, r.confirmed
        );
    }
    Ok(())
}

fn loopback(a: LoopbackArgs) -> anyhow::Result<()> {
    positive(a.interval, "10ms")?;
    let mut listen = listen_options(&a.receiving)?;
    on_ctrl_c()?;
    listen.comments.push(format!(
        "recorded by fdbench record loopback --interval {} --duration {} (sender and receiver on 127.0.0.1, one clock)",
        a.interval, a.duration
    ));
    let opts = LoopbackOptions {
        interval: a.interval,
        duration: Some(a.duration),
        count: None,
        listen,
    };
    if !a.receiving.quiet {
        eprintln!(
            "recording on 127.0.0.1 every {} for {}; Ctrl-C ends early",
            a.interval, a.duration
        );
    }
    let path = &a.receiving.output;
    let mut sent = None;
    let report = record_to(path, |w| {
        let (l, s) = record::loopback(&opts, &STOP, w)?;
        sent = Some(s);
        Ok(l)
    })?;
    if !a.receiving.quiet {
        print_report(&report, path);
        if let Some(s) = sent {
            eprintln!(
                "sender: {} sent, {} schedule slot(s) skipped while late",
                s.sent, s.skipped_slots
            );
        }
    }
    Ok(())
}

fn run_relay(a: RelayArgs) -> anyhow::Result<()> {
    check_local(&[a.listen, a.to], a.allow_nonloopback)?;
    if !(0.0..=1.0).contains(&a.loss) {
        return Err(usage(format!(
            "--loss {} is not a probability; give a value between 0 and 1",
            a.loss
        )));
    }
    on_ctrl_c()?;
    let socket = UdpSocket::bind(a.listen).with_context(|| format!("binding {}", a.listen))?;
    let opts = RelayOptions {
        to: a.to,
        delay: a.delay,
        loss: a.loss,
        seed: a.seed,
        duration: a.duration,
    };
    if !a.quiet {
        eprintln!(
            "relaying {} -> {} with delay {} and loss {}",
            a.listen, a.to, a.delay, a.loss
        );
    }
    let r = relay::relay(&socket, &opts, &|| STOP.load(Ordering::Relaxed)).context("relaying")?;
    if !a.quiet {
        eprintln!(
            "relay: {} forwarded, {} dropped by the loss model, {} dropped on overflow, {} returned to the sender",
            r.forwarded, r.dropped, r.overflow, r.returned
        );
    }
    Ok(())
}

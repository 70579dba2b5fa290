//! The UDP recorder end to end: loopback recording, a flood of forged, truncated and
//! replayed datagrams, keys, sequence numbers near 2^63, Ctrl-C and SIGKILL on a running
//! `record listen`, and (with root and iproute2) two network namespaces.
//!
//! Nothing here depends on timing: the assertions are on counts and sequence numbers.
//! The only datagrams loopback can lose are those the kernel drops for a full receive
//! buffer; the recorder asks for a 4 MiB buffer (granted to root, as in CI) and reads
//! the kernel's count of such drops (`SO_RXQ_OVFL`, `kernel_dropped`), and every test
//! accounts for them exactly.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use fdbench::record::packet::{self, Key, MAX_SEQ, Message, Packet};
use fdbench::record::{self, Counters, ListenOptions, ListenReport, LoopbackOptions, socket};
use fdbench::time::Nanos;
use fdbench::trace::Trace;
use rand::{Rng, SeedableRng};

const BIN: &str = env!("CARGO_BIN_EXE_fdbench");

fn parse(bytes: &[u8]) -> Trace {
    fdbench::trace::csv::read(bytes, "recorded.csv", None).unwrap_or_else(|e| panic!("invalid trace: {e}"))
}

fn seqs(t: &Trace) -> Vec<u64> {
    t.rows().map(|r| r.0).collect()
}

#[test]
fn loopback_records_every_heartbeat_with_exact_send_times() {
    let opts = LoopbackOptions {
        interval: Nanos::from_millis(1),
        duration: None,
        count: Some(200),
        listen: ListenOptions {
            flush_every: Nanos::from_millis(100),
            ..ListenOptions::default()
        },
    };
    let mut out = Vec::new();
    let (report, sent) = record::loopback(&opts, &AtomicBool::new(false), &mut out).unwrap();
    assert_eq!((sent.sent, sent.confirmed, sent.unconfirmed_at_start), (200, 1, 0));
    let c = report.counters;
    let t = parse(&out);
    assert!(t.has_send());
    assert_eq!(t.interval(), Nanos::from_millis(1));
    // Every heartbeat is recorded, but for those the kernel dropped (none with the
    // buffer root gets): the rows are 1..=200 less at most `kernel_dropped` of them.
    let rows = seqs(&t);
    assert!(rows.iter().all(|s| (1..=200).contains(s)));
    assert_eq!(rows.len() as u64, c.written);
    assert!(200 - c.written <= c.kernel_dropped, "{}", c.summary());
    assert_eq!(c.accepted, c.written);
    assert_eq!(c.dropped(), 0, "{}", c.summary());
    assert_eq!(c.datagrams, c.accepted + c.hello);
    for (_, send, recv) in t.rows() {
        assert!(send.unwrap() <= recv.unwrap());
    }
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text.lines().last().unwrap(),
        format!("# counters: {}", c.summary()),
        "the counters are the file's last line"
    );
}

/// Does the handshake from `tx` with the receiver at `to` and returns the cookie.
fn handshake(tx: &UdpSocket, to: SocketAddr, session: u64, key: Option<&Key>) -> u64 {
    tx.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    tx.send_to(
        &packet::encode(
            &Message::Hello {
                session,
                interval_ns: 1_000_000,
            },
            key,
        ),
        to,
    )
    .unwrap();
    let mut buf = [0u8; 128];
    let (n, from) = tx.recv_from(&mut buf).expect("the receiver answers the hello");
    assert_eq!(from, to);
    match packet::decode(&buf[..n], key) {
        Ok(Message::Challenge { session: s, cookie }) if s == session => cookie,
        other => panic!("not a challenge for session {session}: {other:?}"),
    }
}

fn heartbeat(session: u64, seq: u64, cookie: u64, key: Option<&Key>) -> Vec<u8> {
    let packet = Packet {
        session,
        seq,
        send_ns: socket::realtime_ns(),
        interval_ns: 1_000_000,
    };
    packet::encode(&Message::Heartbeat { packet, cookie }, key)
}

/// A running library `listen`: its recording's result and bytes when joined.
type Listening = std::thread::JoinHandle<(Result<ListenReport, String>, Vec<u8>)>;

/// A library `listen` on a fresh loopback socket in a thread.
fn listener(opts: ListenOptions) -> (SocketAddr, Listening) {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = rx.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let mut out = Vec::new();
        let r = record::listen(&rx, &opts, &AtomicBool::new(false), &mut out, &mut |_, _| {});
        (r.map_err(|e| e.to_string()), out)
    });
    (to, handle)
}

/// What the flood sent, by the reason the receiver must give for dropping it.
#[derive(Debug, Default)]
struct Sent {
    real: u64,
    hello: u64,
    bad_size: u64,
    bad_magic: u64,
    bad_version: u64,
    unauthenticated: u64,
    unverified: u64,
    foreign: u64,
    replayed: u64,
    seq_range: u64,
}

impl Sent {
    fn total(&self) -> u64 {
        self.real
            + self.hello
            + self.bad_size
            + self.bad_magic
            + self.bad_version
            + self.unauthenticated
            + self.unverified
            + self.foreign
            + self.replayed
            + self.seq_range
    }
}

/// A forger speaks first; then the real sender does the handshake and sends `REAL`
/// heartbeats, each followed by hostile datagrams: truncated and replayed copies of its
/// own heartbeats, foreign bytes, another version and seqs above 2^63 - 1, all from the
/// real sender's address (as a spoofer or a replayer on the path would send them), and
/// forged heartbeats of the real session from another socket. With a key, forged tags
/// from the real address too. The recorder must write exactly the real heartbeats and
/// count every other datagram under its reason.
fn flood(keyed: bool) -> (Sent, Counters) {
    const REAL: u64 = 200;
    let key = keyed.then(|| Key::new(b"the flood test's session key").unwrap());
    let wrong = Key::new(b"a key the attacker guessed").unwrap();
    let (to, handle) = listener(ListenOptions {
        with_send: true,
        count: Some(REAL),
        // A cap in case the kernel drops a real heartbeat; never reached otherwise.
        duration: Some(Nanos::from_secs(60)),
        reorder_window: Nanos::from_millis(5),
        key: key.clone(),
        ..ListenOptions::default()
    });
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let forger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let k = key.as_ref();
    let session = 0x5eed;
    let mut sent = Sent::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    // Before the real sender: a forged heartbeat of the real session without the cookie
    // (unverified, answered with a challenge the forger ignores) and a forged hello.
    let forged_key = k.map(|_| &wrong);
    forger.send_to(&heartbeat(session, 1, 0, forged_key), to).unwrap();
    forger
        .send_to(
            &packet::encode(
                &Message::Hello {
                    session: 1,
                    interval_ns: 1,
                },
                forged_key,
            ),
            to,
        )
        .unwrap();
    if keyed {
        // Without the key, both are unauthenticated.
        sent.unauthenticated += 2;
    } else {
        sent.unverified += 1;
        sent.hello += 1;
    }
    let cookie = handshake(&tx, to, session, k);
    sent.hello += 1;
    let mut history: Vec<Vec<u8>> = Vec::new();
    for seq in 1..=REAL {
        let real = heartbeat(session, seq, cookie, k);
        tx.send_to(&real, to).unwrap();
        sent.real += 1;
        history.push(real.clone());
        if seq == REAL {
            break;
        }
        let n = rng.random_range(0..real.len());
        tx.send_to(&real[..n], to).unwrap();
        if keyed && n == packet::HEARTBEAT_SIZE {
            // Cut exactly at the tag: a heartbeat without one.
            sent.unauthenticated += 1;
        } else {
            sent.bad_size += 1;
        }
        let old = &history[rng.random_range(0..history.len())];
        tx.send_to(old, to).unwrap();
        sent.replayed += 1;
        let mut b = real.clone();
        b[..4].copy_from_slice(b"XXXX");
        tx.send_to(&b, to).unwrap();
        sent.bad_magic += 1;
        let mut b = real.clone();
        b[5] = 2;
        tx.send_to(&b, to).unwrap();
        sent.bad_version += 1;
        tx.send_to(&heartbeat(session, 1 << 63 | seq, cookie, k), to).unwrap();
        sent.seq_range += 1;
        // The next seq from another socket, with a guessed cookie: that source is not
        // the locked one (or, with a key, the tag is wrong).
        forger
            .send_to(&heartbeat(session, seq + 1, rng.random(), forged_key), to)
            .unwrap();
        if keyed {
            sent.unauthenticated += 1;
            // From the real address: the next seq with a wrong tag, and without one.
            tx.send_to(&heartbeat(session, seq + 1, cookie, Some(&wrong)), to)
                .unwrap();
            tx.send_to(&heartbeat(session, seq + 1, cookie, None), to).unwrap();
            sent.unauthenticated += 2;
        } else {
            sent.foreign += 1;
        }
    }
    let (r, out) = handle.join().unwrap();
    let report = r.unwrap_or_else(|e| panic!("the recording failed: {e}"));
    let c = report.counters;
    assert_eq!(report.locked, Some((tx.local_addr().unwrap(), session)));
    // Exact accounting: every datagram sent was read or dropped by the kernel.
    assert_eq!(c.datagrams + c.kernel_dropped, sent.total(), "{}", c.summary());
    let t = parse(&out);
    let rows = seqs(&t);
    assert!(
        rows.iter().all(|s| (1..=REAL).contains(s)),
        "only the real heartbeats are rows"
    );
    if c.kernel_dropped == 0 {
        assert_eq!(rows, (1..=REAL).collect::<Vec<_>>());
        assert_eq!(
            (
                c.accepted,
                c.written,
                c.lost,
                c.hello,
                c.bad_size,
                c.bad_magic,
                c.bad_version,
                c.seq_range,
                c.unauthenticated,
                c.unverified,
                c.foreign,
                c.duplicate + c.stale,
            ),
            (
                REAL,
                REAL,
                0,
                sent.hello,
                sent.bad_size,
                sent.bad_magic,
                sent.bad_version,
                sent.seq_range,
                sent.unauthenticated,
                sent.unverified,
                sent.foreign,
                sent.replayed,
            ),
            "{}",
            c.summary()
        );
        assert_eq!((c.malformed, c.other_session, c.out_of_window, c.clock), (0, 0, 0, 0));
    } else {
        // The kernel dropped some datagrams (a receive buffer below 4 MiB without root):
        // each real heartbeat is a row or among them.
        assert!(REAL - c.written <= c.kernel_dropped, "{}", c.summary());
    }
    (sent, c)
}

#[test]
fn a_flood_of_forged_truncated_and_replayed_datagrams_loses_no_row() {
    let (sent, c) = flood(false);
    println!("unkeyed flood: sent {sent:?}; recorder: {}", c.summary());
}

#[test]
fn with_a_key_a_flood_of_forged_tags_loses_no_row() {
    let (sent, c) = flood(true);
    println!("keyed flood: sent {sent:?}; recorder: {}", c.summary());
}

#[test]
fn sequence_numbers_near_2_pow_63_give_a_trace_fdbench_reads() {
    let (to, handle) = listener(ListenOptions {
        count: Some(2),
        duration: Some(Nanos::from_secs(60)),
        ..ListenOptions::default()
    });
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let cookie = handshake(&tx, to, 3, None);
    for seq in [1 << 63, u64::MAX, MAX_SEQ - 1, MAX_SEQ] {
        tx.send_to(&heartbeat(3, seq, cookie, None), to).unwrap();
    }
    let (r, out) = handle.join().unwrap();
    let c = r.unwrap().counters;
    assert_eq!(seqs(&parse(&out)), vec![MAX_SEQ - 1, MAX_SEQ]);
    assert_eq!((c.seq_range, c.accepted, c.written), (2, 2, 2));
}

/// The address in a listener's first stderr line, "listening on ADDR; ...".
fn listening_on(first: &str) -> String {
    first
        .strip_prefix("listening on ")
        .and_then(|s| s.split(';').next())
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string()
}

/// Waits for `child` to exit, polling, for at most `limit`; kills it after that.
fn wait_for(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let t = Instant::now();
    while t.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

fn data_rows(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| {
            s.lines()
                .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
                .count()
        })
        .unwrap_or(0)
}

/// A running `record listen` fed by a running `record send`, with at least 20 rows
/// flushed to its temporary file.
struct Live {
    _dir: tempfile::TempDir,
    listener: Child,
    sender: Child,
    out: PathBuf,
    tmp: PathBuf,
    streamed: usize,
}

fn start_live() -> Live {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("live.csv");
    let mut listener = Command::new(BIN)
        .args([
            "record",
            "listen",
            "127.0.0.1:0",
            "--flush-every",
            "20ms",
            "--reorder-window",
            "10ms",
            "-o",
        ])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The listener names its bound address on its first stderr line.
    let stderr = listener.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stderr).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let _ = tx.send(first);
        lines.for_each(drop);
    });
    let first = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the listener printed its address");
    let addr = listening_on(&first);
    let sender = Command::new(BIN)
        .args(["record", "send", &addr, "--interval", "5ms", "--duration", "60s", "-q"])
        .spawn()
        .unwrap();
    // The trace streams into the output's temporary `.live.csv.tmp-RANDOM`.
    let find_tmp = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().starts_with(".live.csv.tmp-"))
            .map(|e| e.path())
    };
    let t = Instant::now();
    let mut tmp = PathBuf::new();
    while t.elapsed() < Duration::from_secs(30) {
        if let Some(p) = find_tmp() {
            tmp = p;
            if data_rows(&tmp) >= 20 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let streamed = data_rows(&tmp);
    assert!(streamed >= 20, "only {streamed} rows flushed to {}", tmp.display());
    assert!(!out.exists(), "the destination appears only when the recording ends");
    Live {
        _dir: dir,
        listener,
        sender,
        out,
        tmp,
        streamed,
    }
}

#[test]
fn ctrl_c_leaves_a_complete_valid_trace() {
    let mut live = start_live();
    // SAFETY: sends a signal to our own child process.
    assert_eq!(
        unsafe { libc::kill(live.listener.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let status = wait_for(&mut live.listener, Duration::from_secs(20)).expect("the listener exits after SIGINT");
    let _ = live.sender.kill();
    let _ = live.sender.wait();
    assert!(status.success(), "{status:?}");
    assert!(!live.tmp.exists(), "the temporary file was renamed");
    let bytes = std::fs::read(&live.out).unwrap();
    let t = parse(&bytes);
    assert!(!t.has_send(), "no send times without --assume-synced");
    assert!(t.len() >= live.streamed);
    assert_eq!(t.interval(), Nanos::from_millis(5));
    assert!(String::from_utf8(bytes).unwrap().contains("\n# counters: datagrams="));
}

#[test]
fn sigkill_leaves_the_destination_untouched_and_whole_rows_behind() {
    let mut live = start_live();
    std::fs::write(&live.out, "previous\n").unwrap();
    live.listener.kill().unwrap();
    let _ = live.listener.wait();
    let _ = live.sender.kill();
    let _ = live.sender.wait();
    assert_eq!(std::fs::read(&live.out).unwrap(), b"previous\n");
    let t = parse(&std::fs::read(&live.tmp).unwrap());
    assert!(t.len() >= live.streamed);
}

#[test]
fn only_loopback_addresses_are_used_unless_allowed() {
    let out = Command::new(BIN)
        .args(["record", "send", "192.0.2.1:9", "--count", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        "error: 192.0.2.1:9 is not a loopback address; fdbench records on this host only: use 127.0.0.1, or pass --allow-nonloopback for an address inside a network namespace you created\n"
    );
}

#[test]
fn a_short_key_is_refused_naming_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k"), "short\n").unwrap();
    let out = Command::new(BIN)
        .args(["record", "send", "127.0.0.1:9", "--count", "1", "--key"])
        .arg(dir.path().join("k"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: --key {}: the key has 5 byte(s); use at least 16, e.g. head -c 32 /dev/urandom > KEY\n",
            dir.path().join("k").display()
        )
    );
    let out = Command::new(BIN)
        .args(["record", "loopback", "--duration", "1s", "-o", "-"])
        .env("FDBENCH_RECORD_KEY", "0123456789")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: $FDBENCH_RECORD_KEY: the key has 10 byte(s); use at least 16, e.g. head -c 32 /dev/urandom > KEY\n"
    );
}

/// What [`listen_and_send`] saw.
struct Pair {
    /// Whether the listener exited 0.
    ok: bool,
    /// The listener's stderr after its first line.
    listen_err: String,
    /// The recorded trace, if one was written.
    trace: Option<String>,
    /// The sender's address.
    from: String,
    send_err: String,
}

/// Runs `fdbench record listen` and `record send` as the `--help` EXAMPLES show them,
/// with these key files' contents (and counts, so that both end by themselves; a
/// listener that accepts nothing is stopped with Ctrl-C once the sender is done).
fn listen_and_send(listen_key: Option<&[u8]>, send_key: Option<&[u8]>, count: &str) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace.csv");
    let key_args = |k: Option<&[u8]>, name: &str| -> Vec<String> {
        k.map(|k| {
            let p = dir.path().join(name);
            std::fs::write(&p, k).unwrap();
            vec!["--key".to_string(), p.display().to_string()]
        })
        .unwrap_or_default()
    };
    let mut listener = Command::new(BIN)
        .args([
            "record",
            "listen",
            "127.0.0.1:0",
            "--count",
            count,
            "--duration",
            "60s",
            "-o",
        ])
        .arg(&out)
        .args(key_args(listen_key, "listen.key"))
        .env_remove("FDBENCH_RECORD_KEY")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(listener.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let addr = listening_on(&first);
    let sender = Command::new(BIN)
        .args([
            "record",
            "send",
            &addr,
            "--interval",
            "1ms",
            "--count",
            count,
            "--handshake-timeout",
            "1s",
        ])
        .args(key_args(send_key, "send.key"))
        .env_remove("FDBENCH_RECORD_KEY")
        .output()
        .unwrap();
    let send_err = String::from_utf8_lossy(&sender.stderr).into_owned();
    assert!(sender.status.success(), "{send_err}");
    // "sending to ADDR every 1ms from FROM; Ctrl-C stops"
    let from = send_err
        .lines()
        .next()
        .and_then(|l| l.split(" from ").nth(1))
        .and_then(|s| s.split(';').next())
        .unwrap_or_else(|| panic!("unexpected sender output: {send_err}"))
        .to_string();
    if listen_key != send_key {
        // SAFETY: sends a signal to our own child process.
        assert_eq!(unsafe { libc::kill(listener.id() as libc::pid_t, libc::SIGINT) }, 0);
    }
    let mut listen_err = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut listen_err).unwrap();
    let status = listener.wait().unwrap();
    Pair {
        ok: status.success(),
        listen_err,
        trace: std::fs::read_to_string(&out).ok(),
        from,
        send_err,
    }
}

/// The value of `key=N` in the `# counters:` line of a recorded trace.
fn counter(text: &str, key: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with("# counters:"))
        .expect("a counters comment");
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

fn check_recorded_all(text: &str, err: &str, from: &str, keyed: bool) {
    let t = parse(text.as_bytes());
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with(&format!("locked onto {from} (session 0x")),
        "{err}"
    );
    assert!(
        lines[0].ends_with("); datagrams from any other source are dropped"),
        "{err}"
    );
    let note = format!(
        "note: without --key, a machine on the path between {from} and this host that reads the session's cookie could still inject rows"
    );
    assert_eq!(lines.contains(&note.as_str()), !keyed, "{err}");
    // 50 heartbeats, less those the kernel dropped for a full buffer (none with root's).
    let rows = seqs(&t);
    assert!(rows.iter().all(|s| (1..=50).contains(s)));
    assert!(50 - rows.len() as u64 <= counter(text, "kernel_dropped"), "{text}");
    assert_eq!(counter(text, "hello"), 1);
    assert_eq!(counter(text, "unauthenticated") + counter(text, "foreign"), 0);
    let how = if keyed {
        "every datagram authenticated with the session key"
    } else {
        "bound by the handshake's cookie, without a key"
    };
    let sender = text
        .lines()
        .find(|l| l.starts_with("# sender: "))
        .expect("a sender comment");
    assert!(sender.starts_with(&format!("# sender: {from}, session 0x")), "{sender}");
    assert!(sender.ends_with(how), "{sender}");
}

#[test]
fn listen_and_send_with_a_key_record_every_heartbeat_and_say_who_they_locked_onto() {
    // A key file as `head -c 32 /dev/urandom > session.key` makes, here with a newline.
    let key = b"\x8a\x01\xff0123456789abcdef0123456789abc\n";
    let r = listen_and_send(Some(key), Some(key), "50");
    assert!(r.ok, "{}", r.listen_err);
    check_recorded_all(&r.trace.expect("a trace"), &r.listen_err, &r.from, true);
}

#[test]
fn without_a_key_the_listener_says_what_an_attacker_on_the_path_could_do() {
    let r = listen_and_send(None, None, "50");
    assert!(r.ok, "{}", r.listen_err);
    check_recorded_all(&r.trace.expect("a trace"), &r.listen_err, &r.from, false);
}

#[test]
fn a_sender_with_another_key_records_nothing_and_the_reason_is_given() {
    let r = listen_and_send(
        Some(b"the receiver's key, 32 bytes...."),
        Some(b"the sender's own key, 32 bytes.."),
        "50",
    );
    assert!(!r.ok);
    assert!(r.trace.is_none(), "nothing is written");
    assert!(!r.listen_err.contains("locked onto"), "{}", r.listen_err);
    assert!(
        r.listen_err.contains("received 0 usable heartbeat(s)") && r.listen_err.contains("unauthenticated "),
        "{}",
        r.listen_err
    );
    assert!(
        r.send_err
            .contains("1 of 1 receiver(s) had not answered the hello within --handshake-timeout 1s"),
        "{}",
        r.send_err
    );
}

/// Runs only as root with iproute2 (as in CI, which sets `FDBENCH_REQUIRE_ALL=1` and then
/// fails this test if it cannot run); elsewhere it says that it was skipped and why.
#[test]
fn network_namespaces_when_root_and_iproute2_are_available() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/record-netns.sh");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("netns.csv");
    let key = dir.path().join("session.key");
    std::fs::write(&key, b"a key shared by both namespaces\n").unwrap();
    let result = Command::new("bash")
        .arg(&script)
        .args([
            "--bin",
            BIN,
            "--interval",
            "10ms",
            "--duration",
            "2s",
            "--delay",
            "uniform:0ms..3ms",
            "--key",
        ])
        .arg(&key)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&result.stderr);
    if result.status.code() == Some(77) {
        let why = err.trim();
        assert!(
            !std::env::var("FDBENCH_REQUIRE_ALL").is_ok_and(|v| v == "1"),
            "FDBENCH_REQUIRE_ALL=1 but the network-namespace recording cannot run here: {why}"
        );
        // Written past the harness's output capture, so that the skip shows in the test output.
        let _ = writeln!(
            std::io::stderr(),
            "network_namespaces_when_root_and_iproute2_are_available: {why}"
        );
        return;
    }
    assert!(result.status.success(), "{err}");
    let sent: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("sent ")?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no 'sent N heartbeat(s)' line from the sender: {err}"));
    let text = std::fs::read_to_string(&out).unwrap();
    let t = parse(text.as_bytes());
    assert!(t.has_send(), "namespaces share the host clock: send times are written");
    // The relay adds delay but drops nothing, and a veth pair loses nothing: every
    // heartbeat sent is a row, less those the kernel dropped for a full buffer.
    let rows = seqs(&t);
    assert!(rows.iter().all(|s| (1..=sent).contains(s)), "{text}");
    assert!(
        sent - rows.len() as u64 <= counter(&text, "kernel_dropped"),
        "{sent} sent; {text}"
    );
    assert_eq!(counter(&text, "unauthenticated"), 0);
    for (_, s, r) in t.rows() {
        assert!(s.unwrap() <= r.unwrap());
    }
}

#[test]
fn the_shipped_datasets_are_valid_traces() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".csv.gz") {
            continue;
        }
        let t = fdbench::trace::csv::read_path(&path, None).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.has_send(), "{}", path.display());
        assert_eq!(t.interval(), Nanos::from_millis(10), "{}", path.display());
        assert!(t.len() > 10_000, "{}", path.display());
        n += 1;
    }
    assert!(n >= 3, "datasets/ holds {n} traces");
}

//! The UDP recorder end to end: loopback recording, hostile datagrams, Ctrl-C on a
//! running `record listen`, and (with root and iproute2) two network namespaces.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use fdbench::record::packet::Packet;
use fdbench::record::{self, ListenOptions, LoopbackOptions, socket};
use fdbench::time::Nanos;
use fdbench::trace::Trace;

const BIN: &str = env!("CARGO_BIN_EXE_fdbench");

fn parse(bytes: &[u8]) -> Trace {
    fdbench::trace::csv::read(bytes, "recorded.csv", None).unwrap_or_else(|e| panic!("invalid trace: {e}"))
}

#[test]
fn loopback_records_every_heartbeat_with_exact_send_times() {
    let opts = LoopbackOptions {
        interval: Nanos::from_millis(10),
        duration: None,
        count: Some(200),
        listen: ListenOptions {
            flush_every: Nanos::from_millis(100),
            ..ListenOptions::default()
        },
    };
    let mut out = Vec::new();
    let (report, sent) = record::loopback(&opts, &AtomicBool::new(false), &mut out).unwrap();
    assert_eq!(sent.sent, 200);
    let t = parse(&out);
    assert!(t.has_send());
    assert_eq!(t.interval(), Nanos::from_millis(10));
    assert_eq!(t.len(), 200, "every loopback heartbeat is received");
    assert_eq!(t.receipts(), 200);
    assert_eq!(report.counters.written, 200);
    assert_eq!(report.counters.lost, 0);
    for (i, (seq, send, recv)) in t.rows().enumerate() {
        assert_eq!(seq, i as u64 + 1);
        assert!(send.unwrap() <= recv.unwrap());
    }
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("# counters: datagrams=200 accepted=200 written=200 lost=0 malformed=0")
    );
}

#[test]
fn the_receiver_drops_and_counts_what_it_cannot_use() {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = rx.local_addr().unwrap();
    let opts = ListenOptions {
        from: Some(tx.local_addr().unwrap()),
        with_send: true,
        reorder_window: Nanos::from_secs(3600),
        reorder_capacity: 2,
        count: Some(5),
        ..ListenOptions::default()
    };
    let packet = |session: u64, seq: u64| {
        Packet {
            session,
            seq,
            send_ns: socket::realtime_ns(),
            interval_ns: 7_000_000,
        }
        .encode()
    };
    let handle = std::thread::spawn(move || {
        let mut out = Vec::new();
        let r = record::listen(&rx, &opts, &AtomicBool::new(false), &mut out);
        (r, out)
    });
    let send = |bytes: &[u8]| tx.send_to(bytes, to).unwrap();
    send(&packet(1, 10));
    send(b"not a heartbeat");
    let mut bad = packet(1, 11);
    bad[0] = b'X';
    send(&bad);
    send(&packet(2, 11)); // another session
    stranger.send_to(&packet(1, 11), to).unwrap(); // another source
    send(&packet(1, 12));
    send(&packet(1, 11)); // over capacity: releases 10
    send(&packet(1, 11)); // duplicate, still buffered
    send(&packet(1, 10)); // stale: already written
    send(&packet(1, 9)); // stale: below what was written
    send(&packet(1, 11 + (1 << 30) + 1)); // out of window
    send(&packet(1, 14));
    send(&packet(1, 13)); // the 5th accepted heartbeat ends the recording
    let (r, out) = handle.join().unwrap();
    let c = r.unwrap().counters;
    assert_eq!(c.datagrams, 13);
    assert_eq!(
        (
            c.accepted,
            c.malformed,
            c.other_session,
            c.foreign,
            c.duplicate,
            c.stale,
            c.out_of_window
        ),
        (5, 2, 1, 1, 1, 2, 1)
    );
    let t = parse(&out);
    assert_eq!(t.rows().map(|r| r.0).collect::<Vec<_>>(), vec![10, 11, 12, 13, 14]);
    assert_eq!(t.interval(), Nanos(7_000_000));
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
    let addr = first
        .strip_prefix("listening on ")
        .and_then(|s| s.split(';').next())
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
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
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("192.0.2.1:9 is not a loopback address"), "{err}");
}

#[test]
fn network_namespaces_when_root_and_iproute2_are_available() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/record-netns.sh");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("netns.csv");
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
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&result.stderr);
    if result.status.code() == Some(77) {
        println!("{}", err.trim());
        return;
    }
    assert!(result.status.success(), "{err}");
    let t = parse(&std::fs::read(&out).unwrap());
    assert!(t.has_send(), "namespaces share the host clock: send times are written");
    assert!(t.len() >= 100, "{} rows", t.len());
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

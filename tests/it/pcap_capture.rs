//! `fdbench import --format pcap` on a real capture: tcpdump records the recorder's
//! loopback heartbeats, and the imported trace must be the recorder's own. Without
//! tcpdump the test says it is skipped; under `FDBENCH_REQUIRE_ALL=1` that is a failure.

use crate::util::fdbench;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as Process, Stdio};

/// `(seq, send, recv)` of every received row, in ns since the Unix epoch.
fn absolute_rows(path: &Path) -> Vec<(u64, Option<i64>, Option<i64>)> {
    let t = fdbench::trace::csv::read_path(path, None).unwrap();
    let epoch: i64 = t
        .comments()
        .iter()
        .find_map(|c| {
            c.trim_start_matches('#')
                .trim()
                .strip_prefix("epoch_unix_ns=")?
                .parse()
                .ok()
        })
        .expect("an epoch_unix_ns comment");
    t.rows()
        .filter(|r| r.2.is_some())
        .map(|(s, send, recv)| (s, send.map(|x| x.0 + epoch), recv.map(|x| x.0 + epoch)))
        .collect()
}

#[test]
fn a_tcpdump_capture_of_the_recorder_imports_to_the_recorders_trace() {
    let tcpdump = Process::new("tcpdump").arg("--version").output();
    if !tcpdump.is_ok_and(|o| o.status.success()) {
        crate::common::skip(
            "tcpdump",
            "tcpdump is not installed (apt-get install tcpdump; .ci/run installs it)",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("lo.pcap");
    let mut capture = match Process::new("tcpdump")
        .args([
            "-i",
            "lo",
            "-U",
            "-n",
            "--time-stamp-precision=nano",
            "--immediate-mode",
            "-w",
        ])
        .arg(&pcap)
        .args(["udp", "and", "host", "127.0.0.1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            crate::common::skip("tcpdump", &format!("tcpdump cannot start ({e})"));
            return;
        }
    };
    // tcpdump says "listening on lo" once its capture is open (or exits on failure).
    let mut err = BufReader::new(capture.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    if !line.contains("listening on") {
        let _ = capture.wait();
        crate::common::skip(
            "tcpdump",
            &format!("tcpdump cannot capture on lo here: {}", line.trim()),
        );
        return;
    }
    let recorded = dir.path().join("recorded.csv");
    fdbench()
        .args([
            "record",
            "loopback",
            "--interval",
            "5ms",
            "--duration",
            "2s",
            "-q",
            "-o",
        ])
        .arg(&recorded)
        .assert()
        .success();
    // SIGINT: tcpdump writes what it holds and exits.
    unsafe { libc::kill(capture.id() as i32, libc::SIGINT) };
    capture.wait().unwrap();
    // tcpdump's closing statistics: "N packets dropped by kernel" counts the packets the
    // capture buffer had no room for (other tests' loopback traffic shares it).
    let mut stats = String::new();
    std::io::Read::read_to_string(&mut err, &mut stats).unwrap();
    let dropped: usize = stats
        .lines()
        .find_map(|l| l.strip_suffix(" packets dropped by kernel")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no 'packets dropped by kernel' line from tcpdump: {stats}"));
    let cluster = dir.path().join("cluster");
    fdbench()
        .args(["import", "--format", "pcap", "--assume-synced", "--node-by-port", "-q"])
        .arg(&pcap)
        .arg("-o")
        .arg(&cluster)
        .assert()
        .success();
    let want = absolute_rows(&recorded);
    // 400 heartbeats are sent at an idle machine's pace; a loaded one sends fewer (a
    // sender that wakes late sends once), and 20 still make a comparison of flows.
    assert!(want.len() >= 20, "the recorder received {} heartbeats", want.len());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cluster.join("cluster.json")).unwrap()).unwrap();
    let pairs = manifest["pairs"].as_array().unwrap();
    let found = pairs
        .iter()
        .map(|p| absolute_rows(&cluster.join(p["trace"].as_str().unwrap())))
        .find(|rows| rows.first().map(|r| (r.0, r.1)) == want.first().map(|r| (r.0, r.1)));
    let got = found.expect("a flow with the recorder's first heartbeat");
    if dropped == 0 {
        assert_eq!(got, want);
    } else {
        // Every heartbeat captured is the recorder's, exactly; the missing ones are at
        // most those the capture itself says it dropped.
        assert!(got.iter().all(|r| want.contains(r)), "tcpdump: {stats}");
        assert!(
            got.len() <= want.len() && want.len() - got.len() <= dropped,
            "{} of {} captured; tcpdump: {stats}",
            got.len(),
            want.len()
        );
    }
}

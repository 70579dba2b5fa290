//! `fdbench stats` from the command line.

use crate::util::fdbench;
use predicates::prelude::*;

/// seq 3 lost, seq 5 and 6 absent; gaps between receipts 100, 220, 280, 150, 40 ms.
const TRACE: &str = "\
# interval_ns=100000000
seq,send_ns,recv_ns
1,0,10000000
2,100000000,110000000
3,200000000,
4,300000000,330000000
7,600000000,610000000
8,700000000,760000000
9,800000000,800000000
";

#[test]
fn text_report_of_a_small_trace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, TRACE).unwrap();
    fdbench()
        .arg("stats")
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("heartbeats      7 rows (seq 1 to 9)"))
        .stdout(predicate::str::contains(
            "lost            3 (33.3333 % of seq 1..9): 1 rows with empty recv_ns, 2 seq numbers missing",
        ))
        .stdout(predicate::str::contains("mean 158.000 ms"))
        // Sends 0 to 800 ms over seq 1 to 9: 100 ms per sequence number, the interval.
        .stdout(predicate::str::contains(
            "period          100.000 ms per sequence number (first to last accepted heartbeat)\ninter-arrival",
        ))
        .stdout(predicate::str::contains(
            "longest gap     280.000 ms, from seq 4 to seq 7, starting 0.320 s after the first receipt",
        ))
        .stdout(predicate::str::contains("HDR histogram"));
}

#[test]
fn json_report_parses_and_interval_flag_overrides() {
    let out = fdbench()
        .args(["stats", "-", "--format", "json", "--interval", "1s"])
        .write_stdin(TRACE)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["lost"], 3);
    assert_eq!(v["lost_rows"], 1);
    assert_eq!(v["lost_missing_seq"], 2);
    assert_eq!(v["interval_ms"], 1000.0);
    assert_eq!(v["interval_source"], "given");
    assert_eq!(v["longest_gap_after_seq"], 4);
    assert_eq!(v["delay_mean_ms"], 20.0);
    assert_eq!(v["interarrival_max_ms"], 280.0);
    // 100 ms per sequence number against an interval of 1 s: 90 % shorter.
    assert_eq!(v["period_ms"], 100.0);
    assert_eq!(
        v["period_warning"],
        "the heartbeats are 100ms apart per sequence number (first to last send), 90.0 % shorter than the interval 1s: chen and 2w count one interval per sequence number and drift from the real arrivals, and nfd-s expects each next send one interval later; if the sender's period was 100ms, pass --interval 100ms"
    );
}

#[test]
fn json_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    fdbench()
        .args(["stats", "-", "--format", "json", "-o"])
        .arg(&out)
        .write_stdin(TRACE)
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    assert_eq!(v["heartbeats"], 7);
}

#[test]
fn a_bad_trace_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "seq,recv_ns\n1,100\n2,abc\n").unwrap();
    fdbench()
        .arg("stats")
        .arg(&path)
        .assert()
        .failure()
        .stderr(predicate::str::contains("bad.csv line 3"))
        .stderr(predicate::str::contains("'abc'"));
    fdbench()
        .args(["stats", "missing.csv"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("missing.csv"));
}

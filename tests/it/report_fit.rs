//! `fdbench report` on any trace: grids, deadline, warm-up and windows follow the
//! trace's interval and length, and a trace too short for any report is told the
//! smallest length that works.

use crate::util::fdbench;
use std::path::Path;

fn generate(path: &Path, args: &[&str]) {
    fdbench()
        .args(["generate", "--preset", "wan", "--seed", "5", "-o"])
        .arg(path)
        .args(args)
        .assert()
        .success();
}

fn report(trace: &Path, dir: &Path) -> assert_cmd::assert::Assert {
    fdbench()
        .args(["report", "-q", "--trace"])
        .arg(trace)
        .arg("-o")
        .arg(dir)
        .assert()
}

#[test]
fn a_100_heartbeat_trace_gets_a_report_that_says_what_was_shrunk() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("short.csv");
    generate(&trace, &["--interval", "1s", "--count", "100", "--loss", "none"]);
    let dir = tmp.path().join("r");
    report(&trace, &dir).success();
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    for needle in [
        "D = 10000 ms",
        "The first 50 heartbeats train the detectors",
        "Windows are shrunk from 1000 to 50 heartbeats",
        "timeouts 100 ms to 20000 ms in steps of 100 ms",
        "| chen | window=50 |",
    ] {
        assert!(summary.contains(needle), "summary.md lacks {needle}:\n{summary}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["warmup"], 50);
    assert_eq!(manifest["deadline_ms"], 10000.0);
    let results = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    let fixed: Vec<&str> = results.lines().filter(|l| l.starts_with("fixed,")).collect();
    assert_eq!(fixed.len(), 200);
    assert!(fixed[0].starts_with("fixed,,timeout,100.0,"), "{}", fixed[0]);
    assert!(fixed[199].starts_with("fixed,,timeout,20000.0,"), "{}", fixed[199]);
}

#[test]
fn report_takes_detectors_warmup_and_deadline_like_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("t.csv");
    generate(&trace, &["--interval", "10ms", "--count", "3000"]);
    let dir = tmp.path().join("r");
    fdbench()
        .args(["report", "-q", "-d", "fixed:timeout=10ms..50ms:10ms", "--warmup", "200"])
        .args(["--deadline", "30ms", "--trace"])
        .arg(&trace)
        .arg("-o")
        .arg(&dir)
        .assert()
        .success();
    let results = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    let values: Vec<&str> = results.lines().skip(1).map(|l| l.split(',').nth(3).unwrap()).collect();
    assert_eq!(values, ["10.0", "20.0", "30.0", "40.0", "50.0"]);
    assert!(
        results.lines().skip(1).all(|l| l.contains(",30.0,")),
        "deadline 30 ms in every row"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["warmup"], 200);
}

#[test]
fn too_short_a_trace_is_told_the_smallest_length_that_works() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("t.csv");
    generate(&trace, &["--count", "15", "--loss", "none"]);
    let dir = tmp.path().join("r");
    report(&trace, &dir)
        .failure()
        .code(1)
        .stderr(predicates::str::contains("15 accepted heartbeats"))
        .stderr(predicates::str::contains("at least 20"));
    assert!(!dir.exists());
}

//! `fdbench resample` from the command line.

use crate::util::fdbench;
use std::path::Path;

use predicates::prelude::*;

/// seq 1..=9 every 100 ms: seq 3 lost (empty receipt), seq 6 and 8 absent.
const TRACE: &str = "\
# made by hand
# interval_ns=100000000
seq,send_ns,recv_ns
1,0,10000000
2,100000000,110000000
3,200000000,
4,300000000,330000000
5,400000000,420000000
7,600000000,610000000
9,800000000,800000000
";

/// Every 2nd heartbeat: seq 1, 3, 5, 7, 9 renumbered 1..=5; seq 3 stays lost; times unchanged.
const EVERY_2: &str = "\
# made by hand
# resample: every 2nd heartbeat by seq (seq' = 1 + (seq - 1) / 2) from interval_ns=100000000
# interval_ns=200000000
seq,send_ns,recv_ns
1,0,10000000
2,200000000,
3,400000000,420000000
4,600000000,610000000
5,800000000,800000000
";

fn write_trace(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let p = dir.path().join("t.csv");
    std::fs::write(&p, text).unwrap();
    p
}

/// `fdbench resample TRACE ARGS -o OUT`.
fn resample_into(trace: &Path, args: &[&str], out: &Path) -> assert_cmd::assert::Assert {
    fdbench()
        .arg("resample")
        .arg(trace)
        .args(args)
        .arg("-o")
        .arg(out)
        .assert()
}

#[test]
fn every_second_heartbeat_by_seq() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_trace(&dir, TRACE);
    fdbench()
        .arg("resample")
        .arg(&t)
        .args(["--every", "2"])
        .assert()
        .success()
        .stdout(EVERY_2)
        .stderr("resample: kept 5 of 7 rows (4 receipts), interval 100ms -> 200ms\n");
}

#[test]
fn a_target_interval_gives_the_same_trace_as_its_factor() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_trace(&dir, TRACE);
    let out = dir.path().join("out.csv");
    resample_into(&t, &["--interval", "200ms", "-q"], &out)
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), EVERY_2);
    // Both flags, agreeing.
    fdbench()
        .args(["resample", "-", "--every", "2", "--interval", "0.2s", "-q"])
        .write_stdin(TRACE)
        .assert()
        .success()
        .stdout(EVERY_2);
}

#[test]
fn every_fourth_reads_seq_1_5_9_and_equals_twice_every_second() {
    // seq 1, 5, 9 -> 1, 2, 3 (interval 400 ms).
    let rows = "seq,send_ns,recv_ns\n1,0,10000000\n2,400000000,420000000\n3,800000000,800000000\n";
    for (input, every) in [(TRACE, "4"), (EVERY_2, "2")] {
        let out = resample_quietly(input, every);
        assert!(out.contains("# interval_ns=400000000\n"), "{out}");
        assert!(out.ends_with(rows), "{out}");
    }
}

/// The trace `input` thinned with `--every K`, read from stdin.
fn resample_quietly(input: &str, every: &str) -> String {
    let out = fdbench()
        .args(["resample", "-", "--every", every, "-q"])
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_target_that_is_not_a_multiple_names_both_intervals_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_trace(&dir, TRACE);
    let out = dir.path().join("out.csv");
    resample_into(&t, &["--interval", "250ms"], &out)
        .code(1)
        .stderr(predicate::str::contains(
            "target interval 250ms (250000000 ns) is not an integer multiple of the trace's interval 100ms (100000000 ns)",
        ))
        .stderr(predicate::str::contains("t.csv"));
    assert!(!out.exists());
}

#[test]
fn a_factor_that_is_not_an_integer_is_a_usage_error() {
    fdbench()
        .args(["resample", "-", "--every", "2.5"])
        .write_stdin(TRACE)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("'2.5' is not an integer"));
    fdbench()
        .args(["resample", "-", "--every", "0"])
        .write_stdin(TRACE)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("0 keeps nothing"));
    fdbench()
        .args(["resample", "-"])
        .write_stdin(TRACE)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--every <K>|--interval <DURATION>"));
}

#[test]
fn disagreeing_flags_are_an_error() {
    fdbench()
        .args(["resample", "-", "--every", "3", "--interval", "200ms"])
        .write_stdin(TRACE)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--every 3 and --interval 200ms disagree: 200ms is 2 times the trace's interval 100ms",
        ));
}

#[test]
fn too_coarse_a_factor_keeps_the_previous_output() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_trace(&dir, TRACE);
    let out = dir.path().join("out.csv");
    std::fs::write(&out, "previous\n").unwrap();
    // Every 8th: seq 1 and 9 -> two receipts, fine.
    fdbench()
        .arg("resample")
        .arg(&t)
        .args(["--every", "8", "-q"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "seq,send_ns,recv_ns\n1,0,10000000\n2,800000000,800000000\n",
        ));
    // Every 9th: seq 1 only.
    resample_into(&t, &["--every", "9"], &out)
        .code(1)
        .stderr(predicate::str::contains(
            "keeping every 9th heartbeat leaves 1 receipt(s) of 1 row(s); at least two are needed",
        ));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous\n");
}

#[test]
fn an_inferred_interval_can_be_replaced() {
    // No metadata, receipts 98..102 ms apart: the inferred interval is 100 ms here, but
    // the median rounding could miss; --trace-interval sets it exactly.
    let text = "seq,recv_ns\n1,0\n2,98000000\n3,200000000\n4,302000000\n5,400000000\n";
    fdbench()
        .args([
            "resample",
            "-",
            "--interval",
            "200ms",
            "--trace-interval",
            "100ms",
            "-q",
        ])
        .write_stdin(text)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "# interval_ns=200000000\nseq,recv_ns\n1,0\n2,200000000\n3,400000000\n",
        ));
    fdbench()
        .args(["resample", "-", "--interval", "200ms", "--trace-interval", "99ms"])
        .write_stdin(text)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("from --trace-interval"));
}

#[test]
fn help_shows_examples() {
    fdbench()
        .args(["resample", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("EXAMPLES:"))
        .stdout(predicate::str::contains(
            "fdbench resample trace-100ms.csv --interval 1s -o trace-1s.csv",
        ));
}

//! `fdbench explain` from the command line.

use crate::util::fdbench;
use predicates::prelude::*;

/// Gaps 100, 250 (seq 3 lost), 100, 180, 100 ms.
const TRACE: &str = "\
# interval_ns=100000000
seq,recv_ns
1,0
2,100000000
3,
4,350000000
5,450000000
6,630000000
7,730000000
";

#[test]
fn a_fixed_timeout_misses_in_the_two_long_gaps() {
    // timeout 150 ms: suspected from 250 to 350 ms (after seq 2, seq 3 missing) and
    // from 600 to 630 ms (after seq 5).
    fdbench()
        .args(["explain", "-", "-d", "fixed:timeout=150ms", "--warmup", "1", "--format", "csv"])
        .write_stdin(TRACE)
        .assert()
        .success()
        .stdout(
            "seq,recv_ns,deadline_ns,next_seq,next_recv_ns,gap_ns,missing,suspect_from_ns,suspect_to_ns,late_receipts,level_at_next,interval_mean_ns,interval_std_ns,intervals\n\
             2,100000000,250000000,4,350000000,250000000,1,250000000,350000000,0,250000000,100000000,0,1\n\
             5,450000000,600000000,6,630000000,180000000,0,600000000,630000000,0,180000000,100000000,0,1\n",
        );
}

#[test]
fn the_table_says_when_how_long_and_what_was_missing() {
    let out = fdbench()
        .args(["explain", "-", "-d", "fixed:timeout=150ms", "--warmup", "1"])
        .write_stdin(TRACE)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("fixed:timeout=150ms on -: 2 mistake(s)"), "{out}");
    let cells = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        cells(lines[1]),
        [
            "#",
            "at_s",
            "after_seq",
            "gap_ms",
            "missing",
            "deadline_after_ms",
            "suspected_ms",
            "late",
            "level_at_next_ms",
            "interval_mean_ms",
            "interval_std_ms",
            "intervals"
        ]
    );
    // fixed keeps no statistics: the trace's last interval (warm-up 1) before each.
    assert_eq!(
        cells(lines[2]),
        [
            "1", "0.250", "2", "250.000", "1", "150.000", "100.000", "0", "250.000", "100.000", "0.000", "1"
        ]
    );
    assert_eq!(
        cells(lines[3]),
        [
            "2", "0.600", "5", "180.000", "0", "150.000", "30.000", "0", "180.000", "100.000", "0.000", "1"
        ]
    );
    assert_eq!(lines.len(), 4);
}

#[test]
fn phi_shows_its_distribution_at_the_receipt_before_the_mistake() {
    // Four intervals of 100 ms (std 0, floored to min_std 10 ms), then 400 ms to seq 9.
    let text =
        "# interval_ns=100000000\nseq,recv_ns\n1,0\n2,100000000\n3,200000000\n4,300000000\n5,400000000\n9,800000000\n";
    let args = [
        "explain",
        "-",
        "-d",
        "phi:threshold=8,window=4,min_std=10ms",
        "--warmup",
        "4",
    ];
    fdbench()
        .args(args)
        .args(["--format", "csv"])
        .write_stdin(text)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            ",mean_ns,std_ns,window,interval_mean_ns,interval_std_ns,intervals\n5,400000000,",
        ))
        .stdout(predicate::str::contains(",9,800000000,400000000,3,"))
        .stdout(predicate::str::ends_with(",100000000,10000000,4,100000000,0,4\n"));
    // The table names its level phi and leaves out the trace's intervals, which phi's
    // own mean and deviation cover.
    fdbench()
        .args(args)
        .write_stdin(text)
        .assert()
        .success()
        .stdout(predicate::str::contains("level_at_next  mean_ms  std_ms  window\n").not())
        .stdout(predicate::str::contains("phi_at_next  mean_ms  std_ms  window\n"))
        .stdout(predicate::str::contains("interval_mean_ms").not());
}

#[test]
fn the_limit_keeps_the_count_of_all() {
    fdbench()
        .args([
            "explain",
            "-",
            "-d",
            "fixed:timeout=150ms",
            "--warmup",
            "1",
            "--limit",
            "1",
        ])
        .write_stdin(TRACE)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 mistake(s)"))
        .stdout(predicate::str::contains("showing the first 1"))
        .stdout(predicate::str::contains("0.600").not());
}

#[test]
fn one_setting_only_and_a_long_enough_trace() {
    fdbench()
        .args(["explain", "-", "-d", "fixed:timeout=100ms..200ms:50ms"])
        .write_stdin(TRACE)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has 3 knob values; explain takes one"));
    fdbench()
        .args(["explain", "-", "-d", "fixed:timeout=150ms"])
        .write_stdin(TRACE)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the warm-up takes 1000"));
}

//! `fdbench verdict SYSTEM TRACE` on small hand-built traces: every number and the
//! configuration line.

use crate::util::fdbench;

/// A Kafka broker heartbeating every 2 s; after the warm-up receipt the gaps are 2,
/// 10.5, 2, 2, 12.5, 2, 2 s (L = 33 s).
const BROKER: &str = "\
# interval_ns=2000000000
seq,recv_ns
1,0
2,2000000000
3,4000000000
4,14500000000
5,16500000000
6,18500000000
7,31000000000
8,33000000000
9,35000000000
";

fn run(trace: &str, args: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broker.csv");
    std::fs::write(&path, trace).unwrap();
    let out = fdbench()
        .current_dir(dir.path())
        .args(["verdict"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_defaults_and_the_cheapest_change() {
    let (ok, out, err) = run(
        BROKER,
        &["kafka-broker", "broker.csv", "--warmup", "1", "--deadline", "10s"],
    );
    assert!(ok, "{err}");
    // At 9 s: the 10.5 s and 12.5 s gaps are mistakes of 1.5 s and 3.5 s: 2 in 33 s is
    // 5236.364 per day (exact 95 % interval [0.2422, 7.2247] / 33 s per day), T_M 2.5 s,
    // P_A = 1 - 5/33; a crash is detected 9 s after the last receipt, within D = 10 s.
    // At 13 s (12 s still misses the 12.5 s gap): none, detected after 13 s.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "kafka-broker on broker.csv: heartbeat 2s, 8 heartbeats over 33.0 s evaluated"
    );
    assert_eq!(
        lines[1],
        "target: a mistake rate of at most 1 per day and a query accuracy of at least 0.999"
    );
    let cols = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        cols(lines[4]),
        [
            "as",
            "given",
            "broker.session.timeout.ms=9000",
            "2",
            "5236.364",
            "[634.148,",
            "18915.546]",
            "2500.0",
            "0.848485",
            "9000.0",
            "9000.0",
            "9000.0",
            "1.0000"
        ]
    );
    assert_eq!(
        cols(lines[5]),
        [
            "change",
            "broker.session.timeout.ms=13000",
            "0",
            "0.000",
            "[0.000,",
            "9658.157]",
            "-",
            "1.000000",
            "13000.0",
            "13000.0",
            "13000.0",
            "0.0000"
        ]
    );
    assert!(
        out.contains(
            "The setting misses the target; the cheapest change that meets it:\n\n    broker.session.timeout.ms=13000\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("warning: the evaluated span (33.0 s) allows 0.000 mistakes"),
        "{out}"
    );
    assert!(!out.contains("is not longer than the heartbeat"), "{out}");
}

#[test]
fn json_has_the_rows_and_the_line() {
    let (ok, out, err) = run(
        BROKER,
        &["kafka-broker", "broker.csv", "--warmup", "1", "--format", "json"],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["system"], "kafka-broker");
    assert_eq!(v["setting"], "broker.session.timeout.ms");
    assert_eq!(v["outcome"], "raise");
    assert_eq!(v["current"]["row"]["mistakes"], 2);
    assert_eq!(v["change"]["lines"][0], "broker.session.timeout.ms=13000");
    assert_eq!(v["change"]["row"]["value"], 13000.0);
    assert_eq!(v["change"]["row"]["detector"], "kafka-broker");
}

#[test]
fn a_change_stays_within_the_systems_limits() {
    // A Kafka consumer (3 s heartbeat) whose longest gap is 4.5 s: 5000 ms would meet
    // the target, but the broker rejects a session timeout below
    // group.min.session.timeout.ms = 6000: the line printed is 6000, with why.
    let trace = "# interval_ns=3000000000\nseq,recv_ns\n1,0\n2,3000000000\n3,6000000000\n4,10500000000\n5,13500000000\n6,16500000000\n";
    let (ok, out, err) = run(trace, &["kafka-consumer", "broker.csv", "--warmup", "1"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("the most aggressive setting that still meets it:\n\n    session.timeout.ms=6000\n"),
        "{out}"
    );
    assert!(!out.contains("session.timeout.ms=5000"), "{out}");
    assert!(
        out.contains(
            "note: D = 1s is not longer than the heartbeat (3s), so the completeness within it says little; give a \
             longer --deadline (e.g. --deadline 30s, ten heartbeats, as the report does)"
        ),
        "{out}"
    );
    assert!(
        out.contains("note: session.timeout.ms = 5000 is the least value that meets the target, but the broker rejects the join with INVALID_SESSION_TIMEOUT"),
        "{out}"
    );
    // etcd (100 ms heartbeat) with a 60 s gap: the election timeout it needs is above
    // etcd's 50 s maximum, so no line is printed, only why.
    let mut etcd = String::from("# interval_ns=100000000\nseq,recv_ns\n");
    for (i, t) in (0..=10i64).map(|i| i * 100).chain([61_000, 61_100]).enumerate() {
        etcd.push_str(&format!("{},{}\n", i + 1, t * 1_000_000));
    }
    let (ok, out, err) = run(&etcd, &["etcd", "broker.csv", "--warmup", "1"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("No value the system accepts meets the target: the target needs election-timeout = 60100, but etcd refuses to start"),
        "{out}"
    );
    assert!(!out.contains("--election-timeout=60100"), "{out}");
    let (ok, out, err) = run(&etcd, &["etcd", "broker.csv", "--warmup", "1", "--format", "json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["outcome"], "unreachable");
    assert!(v["change"].is_null());
    assert!(v["beyond_limits"].as_str().unwrap().contains("50000ms"), "{out}");
    // `tune` says the same of the preset.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("etcd.csv"), &etcd).unwrap();
    let out = fdbench()
        .current_dir(dir.path())
        .args(["tune", "etcd.csv", "-d", "etcd", "--warmup", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("(no setting meets the target):\n  note: the target needs election-timeout = 60100, but etcd refuses to start"),
        "{text}"
    );
}

#[test]
fn a_system_on_a_trace_of_another_interval() {
    let (ok, _, err) = run(BROKER, &["kafka-consumer", "broker.csv"]);
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "error: kafka-consumer heartbeats every 3s (heartbeat.interval.ms), but broker.csv has a nominal interval of 2s; 3s is not a whole multiple of 2s, so thinning cannot make it; record the trace again with a heartbeat every 3s (`fdbench record ... --interval 3s`)"
    );
    let (ok, _, err) = run(BROKER, &["fixed", "broker.csv"]);
    assert!(!ok);
    assert!(err.contains("'fixed' is a detector, not a production system"), "{err}");
    let (ok, _, err) = run(BROKER, &["kafka-broker:broker.session.timeout=9000", "broker.csv"]);
    assert!(!ok);
    assert!(err.contains("did you mean 'broker.session.timeout.ms'?"), "{err}");
}

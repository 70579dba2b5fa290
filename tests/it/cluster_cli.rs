//! `stats`, `sweep` and `tune` of a cluster folder, on a hand-built three-node cluster.

use crate::util::fdbench;
use std::path::Path;

use predicates::str::contains;

/// Writes a trace with times in milliseconds (`None` = lost).
fn write_trace(path: &Path, rows: &[(u64, i64, Option<i64>)]) {
    let mut text = String::from("# interval_ns=10000000\nseq,send_ns,recv_ns\n");
    for &(s, send, recv) in rows {
        let r = recv.map_or(String::new(), |r| (r * 1_000_000).to_string());
        text.push_str(&format!("{s},{},{r}\n", send * 1_000_000));
    }
    std::fs::write(path, text).unwrap();
}

/// Nodes A, B, C, everyone watching everyone. A's heartbeat 4 reaches B late (58 ms);
/// C loses 3 and gets 5 late (61 ms). Every other heartbeat s is sent at 10 s - 1 + o
/// and received 1 ms later.
fn three_nodes() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_trace(
        &d.join("b-a.csv"),
        &[
            (1, 9, Some(10)),
            (2, 19, Some(20)),
            (3, 29, Some(30)),
            (4, 39, Some(58)),
            (5, 49, Some(60)),
            (6, 59, Some(70)),
            (7, 69, Some(80)),
        ],
    );
    write_trace(
        &d.join("c-a.csv"),
        &[
            (1, 9, Some(11)),
            (2, 19, Some(21)),
            (3, 29, None),
            (4, 39, Some(41)),
            (5, 49, Some(61)),
            (6, 59, Some(71)),
            (7, 69, Some(81)),
        ],
    );
    let regular = |o: i64| -> Vec<(u64, i64, Option<i64>)> {
        (1..=7)
            .map(|s| (s, 10 * s as i64 - 1 + o, Some(10 * s as i64 + o)))
            .collect()
    };
    write_trace(&d.join("a-b.csv"), &regular(1));
    write_trace(&d.join("c-b.csv"), &regular(2));
    write_trace(&d.join("a-c.csv"), &regular(3));
    write_trace(&d.join("b-c.csv"), &regular(4));
    let pairs = ["b-a", "c-a", "a-b", "c-b", "a-c", "b-c"]
        .map(|p| {
            let (m, t) = p.split_once('-').unwrap();
            format!(
                r#"{{"monitor": "{}", "target": "{}", "trace": "{p}.csv"}}"#,
                m.to_uppercase(),
                t.to_uppercase()
            )
        })
        .join(",\n");
    std::fs::write(
        d.join("cluster.json"),
        format!("{{\"nodes\": [\"A\", \"B\", \"C\"], \"pairs\": [{pairs}]}}"),
    )
    .unwrap();
    dir
}

fn column<'a>(header: &'a str, row: &'a str, name: &str) -> &'a str {
    let i = header
        .split(',')
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    row.split(',').nth(i).unwrap()
}

#[test]
fn a_cluster_sweep_writes_one_row_per_setting_and_the_pairs() {
    let dir = three_nodes();
    let pairs = dir.path().join("pairs.csv");
    let out = fdbench()
        .args([
            "sweep",
            "--detector",
            "fixed:timeout=15ms",
            "--warmup",
            "1",
            "--deadline",
            "20ms",
            "--quorum",
            "2",
            "-q",
        ])
        .arg(dir.path())
        .arg("--pairs-output")
        .arg(&pairs)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    let (h, r) = (lines.next().unwrap(), lines.next().unwrap());
    assert_eq!(lines.next(), None);
    for (name, want) in [
        ("detector", "fixed"),
        ("value", "15.0"),
        ("quorum", "2"),
        ("pairs", "6"),
        ("false_suspicions", "3"),
        ("worst_pair", "C->A"),
        ("false_declarations", "1"),
        ("declaration_mean_ms", "2.0"),
        ("crash_points", "18"),
        ("detection_p50_ms", "17.0"),
        ("detection_max_ms", "34.0"),
        ("completeness", &(14.0f64 / 18.0).to_string()),
        ("detection_origin", "send"),
    ] {
        assert_eq!(column(h, r, name), want, "{name}");
    }
    let pairs = std::fs::read_to_string(pairs).unwrap();
    let rows: Vec<&str> = pairs.lines().collect();
    assert_eq!(rows.len(), 7);
    assert_eq!(column(rows[0], rows[1], "trace"), "B->A");
    assert_eq!(column(rows[0], rows[1], "mistakes"), "1");
    assert_eq!(column(rows[0], rows[2], "mistakes"), "2");
}

#[test]
fn a_cluster_tune_finds_one_timeout_for_all_pairs() {
    let dir = three_nodes();
    fdbench()
        .args([
            "tune",
            "--detector",
            "fixed:timeout=1ms..100ms:1ms",
            "--warmup",
            "1",
            "--max-mistakes",
            "0/day",
        ])
        .arg(dir.path())
        .args(["--format", "csv"])
        .assert()
        .success()
        .stdout(contains("\nfixed,,timeout,28.0,2,6,"));
}

#[test]
fn cluster_stats_describe_every_pair() {
    let dir = three_nodes();
    fdbench()
        .arg("stats")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(contains("pair            B->A"))
        .stdout(contains("pair            B->C"));
}

#[test]
fn a_quorum_larger_than_the_monitors_is_refused() {
    let dir = three_nodes();
    fdbench()
        .args([
            "sweep",
            "--detector",
            "fixed:timeout=15ms",
            "--warmup",
            "1",
            "--quorum",
            "3",
            "-q",
        ])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains(
            "error: --quorum 3: target A has only 2 monitor(s) in cluster.json; give --quorum 2 or less\n",
        ));
}

#[test]
fn a_folder_without_a_manifest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    fdbench()
        .args(["sweep", "-q"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("a folder without cluster.json"));
}

#[test]
fn cluster_tables_honour_markdown() {
    let dir = three_nodes();
    let out = fdbench()
        .args(["tune", "--detector", "fixed:timeout=1ms..100ms:1ms", "--warmup", "1"])
        .args(["--max-mistakes", "0/day", "--format", "markdown"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(lines.len(), 3, "header, rule, one row: {text}");
    assert!(lines[0].starts_with("| detector | knob "), "{text}");
    assert!(lines[1].starts_with("|----------|"), "{text}");
    assert!(lines[2].starts_with("| fixed    | timeout=28 ms "), "{text}");
}

#[test]
fn a_cluster_report_has_the_pairs_the_cluster_rows_and_one_setting() {
    let dir = three_nodes();
    let reports = tempfile::tempdir().unwrap();
    let out = reports.path().join("r");
    fdbench()
        .args(["report", "--trace"])
        .arg(dir.path())
        .args([
            "-d",
            "fixed:timeout=1ms..100ms:1ms",
            "--warmup",
            "1",
            "--deadline",
            "20ms",
        ])
        .args(["--max-mistakes", "0/day", "--quorum", "2", "-q", "-o"])
        .arg(&out)
        .assert()
        .success();
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    // 28 ms is B->A's longest gap (30 to 58 ms): the shortest timeout without a mistake.
    assert!(md.contains("**fixed timeout=28 ms**"), "{md}");
    assert!(md.contains("3 nodes (A, B, C), 6 monitor->target pairs"), "{md}");
    assert!(
        md.contains("| B->A | b-a.csv | 7        | 0.1        | 0.00000 | 11.667 "),
        "{md}"
    );
    assert!(md.contains("| C->A | 0        | 0.000        | 1.000000 "), "{md}");
    // The swept grid: one cluster row per timeout, with the hand-computed figures of
    // the 15 ms setting (see the sweep test above).
    let csv = std::fs::read_to_string(out.join("cluster.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 1 + 100);
    let r15 = rows.iter().find(|r| r.starts_with("fixed,,timeout,15.0,")).unwrap();
    assert_eq!(column(rows[0], r15, "false_suspicions"), "3");
    assert_eq!(column(rows[0], r15, "worst_pair"), "C->A");
    assert_eq!(column(rows[0], r15, "false_declarations"), "1");
    let pairs = std::fs::read_to_string(out.join("pairs.csv")).unwrap();
    assert_eq!(pairs.lines().count(), 1 + 6 * 100);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("<strong>fixed timeout=28 ms</strong>"), "{html:.2000}");
    assert_eq!(html.matches("<table").count(), 3);
    assert!(out.join("manifest.json").is_file());
}

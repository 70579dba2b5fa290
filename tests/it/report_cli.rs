//! The main job end to end: `fdbench report` writes a complete, well-formed folder, the
//! same bytes for the same inputs (but the manifest's wall time), and `tune` answers
//! exactly (shown rounded toward the safe side).

use crate::util::fdbench;
use std::path::Path;

const FILES: [&str; 14] = [
    "results.csv",
    "tuned.csv",
    "summary.md",
    "manifest.json",
    "fig13.svg",
    "fig13.png",
    "qos.svg",
    "qos.png",
    "completeness-accuracy.svg",
    "completeness-accuracy.png",
    "interarrival.svg",
    "interarrival.png",
    "timeline.svg",
    "timeline.png",
];

fn report(dir: &Path, extra: &[&str]) {
    fdbench()
        .args([
            "report",
            "--preset",
            "lan",
            "--duration",
            "10m",
            "--seed",
            "3",
            "-q",
            "-o",
        ])
        .arg(dir)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn a_report_folder_is_complete_and_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    report(&a, &["-j", "1"]);
    report(&b, &["-j", "2"]);
    for f in FILES {
        let pa = a.join(f);
        assert!(pa.is_file(), "{f} missing");
        assert!(std::fs::metadata(&pa).unwrap().len() > 100, "{f} is too small");
        if f != "manifest.json" {
            assert!(
                std::fs::read(&pa).unwrap() == std::fs::read(b.join(f)).unwrap(),
                "{f} differs between runs"
            );
        }
    }
    let summary = std::fs::read_to_string(a.join("summary.md")).unwrap();
    for needle in [
        "## The trace",
        "## Every detector at equal mistake rate",
        "## Where the production presets stand",
        "No preset has this trace's heartbeat (20 ms).",
        // The presets of 1 s systems on the 20 ms trace thinned to 1 s.
        "The presets with a heartbeat of 1s, on this trace thinned to one heartbeat in 50",
        "| akka-cluster |",
        "| cassandra |",
        "| kubernetes-node |",
        "![Figure 1.3 trade-off](fig13.png)",
    ] {
        assert!(summary.contains(needle), "summary.md lacks {needle}");
    }
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["trace"]["seed"], 3);
    assert_eq!(manifest["trace_sha256"].as_str().unwrap().len(), 64);
    assert!(manifest["wall_time_s"].as_f64().unwrap() >= 0.0);
    let results = std::fs::read_to_string(a.join("results.csv")).unwrap();
    for det in ["fixed", "chen", "bertier", "phi", "akka", "exp-phi", "satzger", "2w"] {
        assert!(
            results.lines().any(|l| l.starts_with(&format!("{det},"))),
            "results lack {det}"
        );
    }
    let png = std::fs::read(a.join("fig13.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no staging folders left: {leftovers:?}");
}

#[test]
fn a_failed_report_keeps_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    report(&dir, &[]);
    let before = std::fs::read(dir.join("results.csv")).unwrap();
    // A warm-up longer than the trace fails after the folder was staged.
    fdbench()
        .args([
            "report",
            "--preset",
            "lan",
            "--duration",
            "10m",
            "-q",
            "--warmup",
            "100000000",
            "-o",
        ])
        .arg(&dir)
        .assert()
        .failure()
        .code(1)
        .stderr(predicates::str::contains("smaller --warmup"));
    assert_eq!(std::fs::read(dir.join("results.csv")).unwrap(), before);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

fn rate(trace: &Path, spec: &str) -> f64 {
    let out = fdbench()
        .args(["replay", "--warmup", "200", "--format", "csv", "-d", spec])
        .arg(trace)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let row = text.lines().nth(1).unwrap();
    row.split(',').nth(7).unwrap().parse().unwrap()
}

#[test]
fn tune_finds_the_most_aggressive_value_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("t.csv");
    fdbench()
        .args([
            "generate",
            "--preset",
            "wan",
            "--duration",
            "1h",
            "--seed",
            "5",
            "-q",
            "-o",
        ])
        .arg(&trace)
        .assert()
        .success();
    let out = fdbench()
        .args([
            "tune",
            "--max-mistakes",
            "10/h",
            "--warmup",
            "200",
            "--format",
            "csv",
            "-d",
            "fixed:timeout=10ms..3s:10ms",
            "-d",
            "phi:window=200",
        ])
        .arg(&trace)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines().skip(1);
    // Both are found inside their ranges on this trace (phi near 334, fixed near 782 ms).
    let fixed: Vec<&str> = lines.next().unwrap().split(',').collect();
    let timeout_ms: f64 = fixed[3].parse().unwrap();
    assert!(rate(&trace, &format!("fixed:timeout={timeout_ms}ms")) <= 10.0);
    // Shown rounded up to 1 µs from the exact value: 1 µs less is below it.
    assert!(
        rate(&trace, &format!("fixed:timeout={}ms", timeout_ms - 0.001)) > 10.0,
        "1 us less must exceed the target"
    );
    let phi: Vec<&str> = lines.next().unwrap().split(',').collect();
    let threshold: f64 = phi[3].parse().unwrap();
    assert!(rate(&trace, &format!("phi:window=200,threshold={threshold}")) <= 10.0);
    // Shown rounded up to 4 significant digits (near 334: to 0.1).
    let digit = 10f64.powi(threshold.log10().floor() as i32 - 3);
    assert!(rate(&trace, &format!("phi:window=200,threshold={}", threshold - digit)) > 10.0);
}

//! The report end to end on a hand-designed trace: `tuned.csv` asserted column by column
//! against values worked out by hand, and the whole folder against a byte snapshot in
//! `tests/data/report-periodic/`.
//!
//! # `golden-periodic.csv`
//!
//! 1100 heartbeats, `send = seq·100 ms`, every one received 10 ms later: every interval
//! is exactly η = 100 ms. The default warm-up is 1000 (the largest window), so 100
//! receipts are evaluated over `L = 99 × 100 ms = 9.9 s` (the report is given `--warmup
//! 1000`, so that it keeps the default windows); by then every window holds
//! only 100 ms intervals (the seeded history of `akka` and the `initial` sample of
//! `exp-phi` are evicted). No setting below makes a mistake, so every row has mistakes
//! 0, rate 0, no T_M or T_MR, P_A 1, and `T_D = τ_j - send = (τ_j - a_j) + 10 ms` at
//! every crash point (mean = p50 = p99 = max); D = 1 s.
//!
//! The tuning (1 mistake/h: none allowed on 9.9 s) keeps the most aggressive value
//! exactly, shown rounded up to 1 µs or 4 significant digits; the default search halves
//! the start of the range while it still meets the target, down to 0.1 ms for durations
//! and 0.001 for thresholds:
//! - `fixed`: a mistake iff the timeout < 100 ms: timeout 100 ms, `T_D` 110 ms.
//! - `nfd-s`: `τ_j = send_j + η + δ` and the next receipt is at `send_j + η + 10 ms`: a
//!   mistake iff δ < 10 ms, so δ = 10 ms, `T_D = η + δ` = 110 ms.
//! - `chen`, `2w`: the estimate is the next arrival exactly, α = 0 (the range start):
//!   110 ms. `bertier`: every error is 0, margin 0: 110 ms.
//! - `phi`: σ = 0 (min_std 0), `τ = a + μ` whatever the threshold: 0.001, 110 ms.
//! - `satzger`: every interval is 100 ms: `τ = a + 100 ms` for any threshold: 0.001.
//! - `exp-phi`: `τ = a + threshold·ln 10·100 ms >= a + 100 ms` iff threshold >
//!   (100 ms - 1 ns) / (ln 10 · 100 ms) = 0.43429447: shown as 0.4343, `T_D = 43.43·ln 10
//!   + 10` ms.
//! - `akka` is tuned as the pair (threshold, pause), at each pause `p` from 0 s to 5 s
//!   by 500 ms (min_std 100 ms): mean 100, std 0, so `m = 100 ms + p`, `s = 100 ms`,
//!   `τ = a + m + s·y` with `y` the real root of
//!   `0.070566 y³ + 1.5976 y = ln(10^-t / (1 - 10^-t))` for threshold `t`.
//!   From `p = 1 s` on, the start of the range, 0.001 (`y = -2.815`), already meets the
//!   target: `T_D = 110 ms + p + 100 ms·y(0.001)`. At `p = 0` a mistake is made at every
//!   heartbeat while `y < 0`, i.e. `10^-t > 1/2`: `t >= log10 2 = 0.30103`; at exactly
//!   `y = 0` the deadline is the receipt, so the least feasible threshold is just above
//!   log10 2, shown rounded up to 4 significant digits as 0.3011, with
//!   `T_D = 110 ms + 100 ms·y(0.3011)`; this is the fastest pair, and the other pauses
//!   follow it in `tuned.csv`. At `p = 500 ms` the threshold is the search's, between
//!   the two: `T_D = 610 ms + 100 ms·y(t)` for the `t` found.
//! - The presets whose heartbeat is the trace's 100 ms: `etcd` only (see its row).

use std::path::Path;

use assert_cmd::Command;
use sha2::{Digest, Sha256};

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/report-periodic");
const TRACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/golden-periodic.csv");

/// Files compared byte for byte with the snapshot.
const TEXT_FILES: [&str; 3] = ["summary.md", "tuned.csv", "manifest.json"];

/// Files compared by sha256 with `SHA256SUMS` in the snapshot.
const HASHED_FILES: [&str; 14] = [
    "results.csv",
    "index.html",
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
    "frontier-akka-pause.svg",
    "frontier-akka-pause.png",
];

/// The report of `golden-periodic.csv`, made in `dir` with relative paths so that the
/// manifest's command line does not depend on where the test runs.
fn report(dir: &Path) -> std::path::PathBuf {
    std::fs::copy(TRACE, dir.join("golden-periodic.csv")).unwrap();
    Command::cargo_bin("fdbench")
        .unwrap()
        .current_dir(dir)
        .args([
            "report",
            "--trace",
            "golden-periodic.csv",
            "--warmup",
            "1000",
            "-o",
            "rep",
            "-q",
            "-j",
            "1",
        ])
        .assert()
        .success();
    dir.join("rep")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The manifest with the two values that differ from run to run, the wall time and the
/// commit the binary was built from, replaced by placeholders (every other byte kept).
fn normalized_manifest(text: &str) -> String {
    text.lines()
        .map(|l| {
            let key = l.trim_start().split(':').next().unwrap_or("");
            match key {
                "\"wall_time_s\"" => "  \"wall_time_s\": \"(wall time)\"",
                "\"git_commit\"" => "  \"git_commit\": \"(commit)\",",
                _ => l,
            }
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn snapshot_of(rep: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = TEXT_FILES
        .iter()
        .map(|f| {
            let bytes = std::fs::read(rep.join(f)).unwrap();
            let bytes = if *f == "manifest.json" {
                normalized_manifest(std::str::from_utf8(&bytes).unwrap()).into_bytes()
            } else {
                bytes
            };
            (f.to_string(), bytes)
        })
        .collect();
    let sums: String = HASHED_FILES
        .iter()
        .map(|f| format!("{}  {f}\n", sha256_hex(&std::fs::read(rep.join(f)).unwrap())))
        .collect();
    files.push(("SHA256SUMS".to_string(), sums.into_bytes()));
    files
}

/// The report folder is the snapshot, byte for byte (but the manifest's wall time and
/// commit). After an intended change of the report, `FDBENCH_BLESS=1 cargo test --release
/// --test it -- report_golden::` rewrites the snapshot; review its diff before committing it.
#[test]
fn the_report_of_the_periodic_trace_is_the_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let rep = report(tmp.path());
    let mut listed: Vec<String> = std::fs::read_dir(&rep)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    listed.sort();
    let mut expected: Vec<String> = TEXT_FILES.iter().chain(&HASHED_FILES).map(|f| f.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected, "the report's files");
    let bless = std::env::var("FDBENCH_BLESS").is_ok_and(|v| v == "1");
    let mut differ = Vec::new();
    for (name, bytes) in snapshot_of(&rep) {
        let path = Path::new(SNAPSHOT).join(&name);
        if bless {
            std::fs::create_dir_all(SNAPSHOT).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            differ.push(format!(
                "{name} differs from {}:\n{}",
                path.display(),
                String::from_utf8_lossy(&bytes)
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// One expected row of `tuned.csv`: detector, params, knob, value, `T_D` in ms, and
/// completeness within 1 s.
type Tuned = (&'static str, &'static str, &'static str, Option<f64>, f64, f64);

/// `y` with `0.070566 y³ + 1.5976 y = ln(10^-t / (1 - 10^-t))`, Akka's logistic φ = t
/// solved by Cardano's formula (one real root).
fn akka_y(t: f64) -> f64 {
    let p10 = 10f64.powf(-t);
    let rhs = -(p10 / (1.0 - p10)).ln();
    let (p, q): (f64, f64) = (1.5976 / 0.070566, -rhs / 0.070566);
    let d = ((q / 2.0).powi(2) + (p / 3.0).powi(3)).sqrt();
    (-q / 2.0 + d).cbrt() - (q / 2.0 + d).cbrt()
}

#[test]
fn tuned_csv_has_the_hand_computed_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let rep = report(tmp.path());
    let text = std::fs::read_to_string(rep.join("tuned.csv")).unwrap();
    let exp_phi = "window=1000;initial=2s;max_interval=2s";
    let ln10 = std::f64::consts::LN_10;
    let exp_phi_tuned = (std::f64::consts::LOG10_E * 1e4).ceil() / 1e4;
    let pauses: Vec<String> = [
        "0s", "500ms", "1s", "1.5s", "2s", "2.5s", "3s", "3.5s", "4s", "4.5s", "5s",
    ]
    .iter()
    .map(|p| format!("window=1000;min_std=100ms;pause={p};first_estimate=1s"))
    .collect();
    let pauses: &'static [String] = Vec::leak(pauses);
    let mut want: Vec<Tuned> = vec![
        ("fixed", "", "timeout", Some(100.0), 110.0, 1.0),
        ("nfd-s", "", "delta", Some(10.0), 110.0, 1.0),
        ("chen", "window=1000", "alpha", Some(0.0), 110.0, 1.0),
        ("bertier", "window=1000;gamma=0.1;beta=1;phi=4", "", None, 110.0, 1.0),
        ("phi", "window=1000;min_std=0s", "threshold", Some(0.001), 110.0, 1.0),
        (
            "akka",
            &pauses[0],
            "threshold",
            Some(0.3011),
            110.0 + 100.0 * akka_y(0.3011),
            1.0,
        ),
        // The threshold the search found at 500 ms: NaN here, checked below.
        ("akka", &pauses[1], "threshold", Some(f64::NAN), f64::NAN, 1.0),
    ];
    for (i, params) in pauses.iter().enumerate().skip(2) {
        let td = 110.0 + 500.0 * i as f64 + 100.0 * akka_y(0.001);
        want.push((
            "akka",
            params,
            "threshold",
            Some(0.001),
            td,
            if td <= 1000.0 { 1.0 } else { 0.0 },
        ));
    }
    want.extend([(
        "exp-phi",
        exp_phi,
        "threshold",
        Some(exp_phi_tuned),
        exp_phi_tuned * 100.0 * ln10 + 10.0,
        1.0,
    )]);
    want.extend([
        ("satzger", "window=1000;scale=1", "threshold", Some(0.001), 110.0, 1.0),
        ("2w", "n1=1000;n2=1", "alpha", Some(0.0), 110.0, 1.0),
        // etcd's preset (heartbeat 100 ms, the trace's): timeout 900 ms checked every
        // 100 ms, so `τ = ⌈(a + 900 ms) / 100 ms⌉·100 ms = a - 10 ms + 1000 ms` and
        // `T_D = 1000 ms` from the send, within `D = 1000 ms`.
        ("etcd", "check=100ms", "timeout", Some(900.0), 1000.0, 1.0),
    ]);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), want.len(), "{text}");
    for (row, (det, params, knob, mut value, mut td, completeness)) in rows.iter().zip(want) {
        if value.is_some_and(f64::is_nan) {
            // Between the thresholds of the pauses either side, with its own T_D.
            let v: f64 = row[header.iter().position(|h| h == "value").unwrap()].parse().unwrap();
            assert!(v > 0.001 && v < 0.3011, "akka at 500 ms: threshold {v}");
            value = Some(v);
            td = 610.0 + 100.0 * akka_y(v);
        }
        let ctx = format!("tuned.csv {det} {params} {value:?}");
        for (col, got) in header.iter().zip(row.iter()) {
            let num = |want: f64| {
                let g: f64 = got.parse().unwrap_or_else(|_| panic!("{ctx}: {col} = {got:?}"));
                // Deadlines are whole nanoseconds and T_D is printed in ms to 6 decimals:
                // within 2 ns of the exact value; the other numbers here print exactly.
                assert!((g - want).abs() <= 2e-6, "{ctx}: {col} = {g}, expected {want}");
            };
            match col.as_str() {
                "detector" => assert_eq!(got, det, "{ctx}"),
                "params" => assert_eq!(got, params, "{ctx}"),
                "knob" => assert_eq!(got, knob, "{ctx}"),
                "value" => match value {
                    Some(v) => num(v),
                    None => assert_eq!(got, "", "{ctx}: a detector without a knob has no value"),
                },
                "heartbeats" => assert_eq!(got, "100", "{ctx}"),
                "evaluated_s" => num(9.9),
                "mistakes" => assert_eq!(got, "0", "{ctx}"),
                "mistake_rate_per_h" => num(0.0),
                "mistake_duration_mean_ms" | "mistake_recurrence_mean_s" => assert_eq!(got, "", "{ctx}: {col}"),
                "query_accuracy" => num(1.0),
                "detection_mean_ms" | "detection_p50_ms" | "detection_p99_ms" | "detection_max_ms" => num(td),
                "completeness" => num(completeness),
                "deadline_ms" => num(1000.0),
                "detection_origin" => assert_eq!(got, "send", "{ctx}"),
                // No mistake in 9.9 s: the Garwood interval [0, 3.68888] × 3600 / 9.9 per
                // hour (3.68888 = χ²(0.975; 2)/2 from the standard tables, six digits).
                "mistake_rate_low_per_h" => num(0.0),
                "mistake_rate_high_per_h" => {
                    let g: f64 = got.parse().unwrap();
                    let want = 3.68888 * 3600.0 / 9.9;
                    assert!((g - want).abs() <= 1e-5 * want, "{ctx}: {col} = {g}, expected {want}");
                }
                c => panic!("{ctx}: column {c} has no expected value"),
            }
        }
    }
}

//! The sweep's promises, through the command line: byte-identical output for any
//! number of threads, shards that merge into the same bytes, atomic output, and clear
//! errors before any work starts.

use crate::util::fdbench;
use std::path::Path;

use rand::{Rng, SeedableRng};

/// A 5,000-heartbeat trace with lognormal-ish delays and some loss, from a fixed seed.
fn write_trace(path: &Path, seed: u64) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut text = String::from("# interval_ns=100000000\nseq,send_ns,recv_ns\n");
    for i in 1..=5000u64 {
        let send = i * 100_000_000;
        if rng.random::<f64>() < 0.01 {
            text.push_str(&format!("{i},{send},\n"));
            continue;
        }
        let delay = 20_000_000.0 * (1.0 + 3.0 * rng.random::<f64>().powi(8));
        text.push_str(&format!("{i},{send},{}\n", send + delay as u64));
    }
    std::fs::write(path, text).unwrap();
}

const GRID: [&str; 4] = ["--detector", "fixed:timeout=50ms..1s:10ms", "--warmup", "100"];

#[test]
fn output_is_identical_for_one_thread_and_many() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.csv");
    write_trace(&t, 1);
    let run = |j: &str| {
        fdbench()
            .arg("sweep")
            .arg(&t)
            .args(GRID)
            .args(["-j", j, "-q"])
            .output()
            .unwrap()
    };
    let one = run("1");
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    let many = run("2");
    assert_eq!(one.stdout, many.stdout);
    assert_eq!(run("1").stdout, one.stdout, "same inputs, same bytes");
    let text = String::from_utf8(one.stdout).unwrap();
    assert!(text.starts_with("detector,params,knob,value,heartbeats,evaluated_s,mistakes,"));
    assert_eq!(text.lines().count(), 1 + 96);
}

/// A grid of several shard cells per trace (blocks of 256 knob values).
const WIDE: [&str; 6] = [
    "--detector",
    "fixed:timeout=1ms..1s:1ms",
    "--detector",
    "phi:window=100,threshold=0.5..16:0.5",
    "--warmup",
    "100",
];

#[test]
fn shards_merge_into_the_bytes_of_a_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    write_trace(&a, 2);
    write_trace(&b, 3);
    let full = dir.path().join("full.csv");
    fdbench()
        .arg("sweep")
        .args([&a, &b])
        .args(WIDE)
        .arg("-o")
        .arg(&full)
        .assert()
        .success();
    let mut parts = Vec::new();
    for i in 1..=3 {
        let p = dir.path().join(format!("part-{i}.csv"));
        fdbench()
            .arg("sweep")
            .args([&a, &b])
            .args(WIDE)
            .args(["--shard", &format!("{i}/3"), "-o"])
            .arg(&p)
            .assert()
            .success();
        parts.push(p);
    }
    // Cells go to shards by their hash: a shard holds rows from all over the grid, and
    // merge must put them back in place (2 traces x (1000 + 32) rows).
    let runs: Vec<String> = parts
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let line = text.lines().find(|l| l.starts_with("# fdbench-rows ")).unwrap_or("");
            line.to_string()
        })
        .collect();
    assert!(
        runs.iter().any(|r| r.contains(',')),
        "some shard is not one slice: {runs:?}"
    );
    let merged = dir.path().join("merged.csv");
    parts.reverse();
    fdbench()
        .arg("merge")
        .args(&parts)
        .arg("-o")
        .arg(&merged)
        .assert()
        .success();
    let full = std::fs::read_to_string(&full).unwrap();
    assert!(full.starts_with("trace,detector,"), "several traces add a trace column");
    assert_eq!(full.lines().count(), 1 + 2 * 1032);
    assert_eq!(std::fs::read_to_string(&merged).unwrap(), full);
    // A shard cut short is refused by merge, and re-run by --resume.
    let cut = &parts[0];
    let whole = std::fs::read_to_string(cut).unwrap();
    let short: String = whole
        .lines()
        .take(whole.lines().count() - 1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(cut, &short).unwrap();
    fdbench()
        .arg("merge")
        .args(&parts)
        .assert()
        .failure()
        .stderr(predicates::str::contains("the file is incomplete: run shard 3/3 again"));
    fdbench()
        .arg("sweep")
        .args([&a, &b])
        .args(WIDE)
        .args(["--shard", "3/3", "--resume", "-o"])
        .arg(cut)
        .assert()
        .success()
        .stderr(predicates::str::contains("is incomplete ("))
        .stderr(predicates::str::contains("running the shard"));
    assert_eq!(std::fs::read_to_string(cut).unwrap(), whole);
}

#[test]
fn resume_skips_a_complete_shard_and_runs_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.csv");
    write_trace(&t, 5);
    let out = dir.path().join("part.csv");
    let sweep = |shard: &str| {
        let mut c = fdbench();
        c.arg("sweep")
            .arg(&t)
            .args(WIDE)
            .args(["--shard", shard, "--resume", "-o"])
            .arg(&out);
        c
    };
    sweep("1/2")
        .assert()
        .success()
        .stderr(predicates::str::contains("no output yet; running the shard"));
    let first = std::fs::read(&out).unwrap();
    sweep("1/2")
        .assert()
        .success()
        .stderr(predicates::str::contains("shard 1/2 is complete ("));
    assert_eq!(std::fs::read(&out).unwrap(), first);
    // Another shard's output at the same path is not taken for this one's.
    sweep("2/2")
        .assert()
        .success()
        .stderr(predicates::str::contains("is the output of another shard"));
    assert_ne!(std::fs::read(&out).unwrap(), first);
    // Nor is a file without a shard line, or a damaged one.
    for (text, why) in [
        ("detector,params\n", "has no shard line"),
        ("# fdbench-shard index=1\n", "unreadable ("),
    ] {
        std::fs::write(&out, text).unwrap();
        sweep("1/2").assert().success().stderr(predicates::str::contains(why));
        assert_eq!(std::fs::read(&out).unwrap(), first);
    }
    // --resume needs a shard and its file.
    fdbench()
        .arg("sweep")
        .arg(&t)
        .args(WIDE)
        .args(["--resume", "-o"])
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicates::str::contains("--resume: needs a shard"));
    fdbench()
        .arg("sweep")
        .arg(&t)
        .args(WIDE)
        .args(["--shard", "1/2", "--resume"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("give -o FILE"));
}

#[test]
fn bad_grids_fail_before_any_work_and_keep_the_previous_output() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.csv");
    write_trace(&t, 4);
    let out = dir.path().join("results.csv");
    std::fs::write(&out, "previous results\n").unwrap();
    fdbench()
        .arg("sweep")
        .arg(&t)
        .args(["--detector", "fixed:timeout=50ms..1s:10ms", "--warmup", "6000", "-o"])
        .arg(&out)
        .assert()
        .failure()
        .code(1)
        .stderr(predicates::str::contains("smaller --warmup"));
    fdbench()
        .arg("sweep")
        .arg(dir.path().join("missing.csv"))
        .arg("-o")
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicates::str::contains("missing.csv: no such file"));
    fdbench()
        .arg("sweep")
        .arg(&t)
        .args(["--shard", "4/3"])
        .assert()
        .failure()
        .code(2);
    fdbench().arg("sweep").arg(&t).args(["-j", "0"]).assert().failure();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous results\n");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
}

//! Every command the README and the `--help` EXAMPLES blocks show is run, and must
//! succeed.
//!
//! The commands are read from the README (the `sh` blocks and the first column of the
//! commands table) and from `fdbench --help` and each subcommand's `--help`, so a new
//! example is tested without being listed here. Each runs through `sh -c` (pipes and
//! redirections as written), with `fdbench` on the `PATH`, in a fresh folder holding
//! small inputs under the names the examples use (`trace.csv`, `results.csv`,
//! `part-1.csv`, `ping.log`, ...). Long inputs are shortened by [`SHRINK`] so that the
//! suite stays fast; nothing else is changed. Syntax templates (`[--trace FILE]`) are
//! not commands and are skipped; so are the two halves of a two-process recording,
//! which `tests/record.rs` runs together; each skip is printed.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_fdbench");

/// Shortenings applied to every command: the same command on a smaller input.
const SHRINK: &[(&str, &str)] = &[
    ("--duration 24h", "--duration 10m"),
    ("--duration 2h", "--duration 10m"),
    ("--duration 60s", "--duration 1s"),
    ("--count 1000000", "--count 20000"),
];

/// Commands that cannot run alone, and why.
const APART: &[(&str, &str)] = &[
    (
        "fdbench record listen",
        "waits for Ctrl-C; tests/record.rs runs it with a sender",
    ),
    (
        "fdbench record send",
        "needs a listener; tests/record.rs runs it with one",
    ),
    (
        "fdbench import --format pcap hb.pcap",
        "reads a capture taken while heartbeats flow; tests/pcap_capture.rs runs tcpdump, the recorder and this import together",
    ),
];

fn fdbench(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "fdbench {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The commands of an EXAMPLES block: its indented `fdbench` lines.
fn examples(help: &str) -> Vec<String> {
    let Some((_, block)) = help.split_once("EXAMPLES:") else {
        return Vec::new();
    };
    block
        .lines()
        .skip(1)
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("fdbench"))
        .map(str::to_string)
        .collect()
}

fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if in_sh && (line.starts_with("fdbench ") || line.starts_with("parallel ")) {
            out.push(line.to_string());
        }
        if let Some(first) = line.strip_prefix("| `fdbench").map(|_| &line[1..]) {
            let cell = first.split(" | ").next().unwrap_or("");
            out.extend(cell.split('`').skip(1).step_by(2).map(str::to_string));
        }
    }
    out
}

fn help_commands(dir: &Path) -> Vec<String> {
    let top = fdbench(dir, &["--help"]);
    let mut out = examples(&top);
    let commands = top.split_once("Commands:").map_or("", |(_, c)| c);
    for line in commands.lines().skip(1).take_while(|l| l.starts_with("  ")) {
        // A subcommand's line; wrapped descriptions continue further indented.
        let Some(name) = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' '))
            .and_then(|l| l.split_whitespace().next())
        else {
            continue;
        };
        if name != "help" {
            out.extend(examples(&fdbench(dir, &[name, "--help"])));
        }
    }
    out
}

/// The inputs the examples name, small.
fn fixtures(dir: &Path) {
    let t = |args: &str| {
        fdbench(dir, &args.split(' ').collect::<Vec<_>>());
    };
    t("generate --preset wan --count 3000 --seed 3 -o trace.csv");
    for name in ["a.csv", "big.csv", "recorded.csv", "other.csv", "trace-100ms.csv"] {
        std::fs::copy(dir.join("trace.csv"), dir.join(name)).unwrap();
    }
    t("generate --preset lan --count 2000 -o b.csv.gz");
    t("generate --preset wan --count 40000 --seed 3 -o wan-long.csv");
    t("resample wan-long.csv --interval 1s -o trace-1s.csv");
    t("resample wan-long.csv --interval 2s -o broker.csv");
    t("generate --preset lan --count 100 -o ping.csv");
    t("generate --preset wan --count 3000 --seed 3 -o trace.csv.gz");
    t("sweep trace.csv -o results.csv");
    for i in 1..=4 {
        t(&format!("sweep trace.csv --shard {i}/4 -o part-{i}.csv"));
    }
    let ping: String = (1..=50)
        .map(|i| {
            format!(
                "[1732550000.{:06}] 64 bytes from 127.0.0.1: icmp_seq={i} ttl=64 time=0.040 ms\n",
                i * 10_000
            )
        })
        .collect();
    std::fs::write(dir.join("ping.log"), ping).unwrap();
    let lip6: String = (0..50u64)
        .map(|i| {
            format!(
                "7 {i} {} {} 14\n",
                10_965_460_769_347_846 + i * 100_000_000,
                2_439_202_604_391_108 + i * 100_000_000
            )
        })
        .collect();
    std::fs::write(dir.join("trace0.log"), lip6).unwrap();
    let log: String = (1..=50)
        .map(|i| format!("{i} x {}\n", i as u64 * 100_000_000))
        .collect();
    std::fs::write(dir.join("log"), log).unwrap();
    let sender =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/planetlab-lip6-sender/node7_sentinterval.csv");
    match std::fs::read_to_string(&sender) {
        Ok(s) => {
            let head: String = s.lines().take(1000).map(|l| format!("{l}\n")).collect();
            std::fs::write(dir.join("node7_sentinterval.csv"), head).unwrap();
        }
        Err(e) => println!(
            "{} not readable ({e}): the send-times example will fail",
            sender.display()
        ),
    }
    let datasets = Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets");
    std::os::unix::fs::symlink(datasets, dir.join("datasets")).unwrap();
}

fn has_parallel() -> bool {
    Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn fresh_copy(from: &Path) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let to = d.path().join(e.file_name());
        if e.file_type().unwrap().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), to).unwrap();
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
    d
}

#[test]
fn every_documented_command_runs() {
    let inputs = tempfile::tempdir().unwrap();
    fixtures(inputs.path());
    let mut commands = readme_commands();
    commands.extend(help_commands(inputs.path()));
    assert!(commands.len() >= 40, "only {} commands found", commands.len());
    let bin_dir: PathBuf = Path::new(BIN).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut failures = Vec::new();
    for c in &commands {
        if c.contains('[') || c.contains("\\|") {
            println!("skipped (a syntax template): {c}");
            continue;
        }
        if let Some((_, why)) = APART.iter().find(|(p, _)| c.starts_with(p)) {
            println!("skipped ({why}): {c}");
            continue;
        }
        if c.starts_with("parallel ") && !has_parallel() {
            assert!(
                std::env::var("FDBENCH_REQUIRE_ALL").as_deref() != Ok("1"),
                "GNU parallel is not installed (.ci/run installs it): {c}"
            );
            println!("skipped (GNU parallel is not installed: apt-get install parallel): {c}");
            continue;
        }
        let run = SHRINK.iter().fold(c.clone(), |s, (from, to)| s.replace(from, to));
        let dir = fresh_copy(inputs.path());
        let out = Command::new("sh")
            .args(["-c", &run])
            .env("PATH", &path)
            .current_dir(dir.path())
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!("{run}\n    {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
    }
    assert!(
        failures.is_empty(),
        "documented commands failed:\n{}",
        failures.join("\n")
    );
}

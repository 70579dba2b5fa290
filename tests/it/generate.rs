//! `fdbench generate` from the command line.

use crate::util::fdbench;
use std::path::Path;

use predicates::prelude::*;

fn generate(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let out = dir.join(name);
    fdbench()
        .arg("generate")
        .args(args)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    std::fs::read(out).unwrap()
}

#[test]
fn help_documents_the_syntax_and_has_examples() {
    fdbench()
        .args(["generate", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("EXAMPLES:"))
        .stdout(predicate::str::contains("lognormal:median=20ms,sigma=0.5"))
        .stdout(predicate::str::contains("ge:rate=0.004,burst=3"))
        .stdout(predicate::str::contains("flaky"));
}

#[test]
fn list_presets_names_each_one() {
    let out = fdbench().args(["generate", "--list-presets"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for p in ["lan", "wan", "cloud", "gc", "flaky"] {
        assert!(text.contains(&format!("--preset {p} ")), "{p} missing:\n{text}");
    }
}

#[test]
fn same_seed_same_bytes_and_the_comment_regenerates_them() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--preset", "gc", "--count", "5000", "--seed", "7"];
    let a = generate(dir.path(), "a.csv", &args);
    let b = generate(dir.path(), "b.csv", &args);
    assert_eq!(a, b);
    let c = generate(
        dir.path(),
        "c.csv",
        &["--preset", "gc", "--count", "5000", "--seed", "8"],
    );
    assert_ne!(a, c);
    // The first comment line is the full command: run it again.
    let text = String::from_utf8(a.clone()).unwrap();
    let line = text.lines().next().unwrap();
    let cmd = line.strip_prefix("# generator: fdbench ").unwrap();
    let words: Vec<&str> = cmd.split_whitespace().collect();
    assert!(words.contains(&"--stall-duration"), "{line}");
    let again = generate(dir.path(), "again.csv", &words[1..]);
    assert_eq!(again, a);
}

#[test]
fn flags_override_the_preset() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = generate(
        dir.path(),
        "t.csv",
        &[
            "--count",
            "100",
            "--interval",
            "1s",
            "--delay",
            "5ms",
            "--jitter",
            "0s",
            "--base-delay",
            "0s",
            "--fifo",
        ],
    );
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("# interval_ns=1000000000"));
    assert!(text.contains("--preset wan"));
    assert!(text.contains("--fifo"));
    // Spikes of the wan preset come every 10 minutes and its loss enters a burst with
    // probability 0.0012 a heartbeat, so a seed sees neither in these 100 s with
    // probability e^(-100/600) · (1 - 0.0012)^100 = 0.75; the default seed 1 is such a
    // seed, and every one of the 100 rows is received at send + 5 ms.
    let plain = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("seq"))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((f[1].parse::<i64>().ok()?, f[2].parse::<i64>().ok()?))
        })
        .filter(|(s, r)| r - s == 5_000_000)
        .count();
    assert_eq!(plain, 100, "rows with a 5 ms delay");
    assert!(text.contains("--seed 1 "), "{}", text.lines().next().unwrap());
}

#[test]
fn generate_then_stats_including_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.csv.gz");
    fdbench()
        .args(["generate", "--preset", "lan", "--count", "2000", "-q", "-o"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "not gzip");
    fdbench()
        .arg("stats")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("heartbeats      2000 rows"))
        .stdout(predicate::str::contains(
            "interval        20.000 ms (from the trace's metadata)",
        ));
}

#[test]
fn stdout_is_the_default_output() {
    let out = fdbench().args(["generate", "--count", "50"]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("# generator: fdbench generate --preset wan --seed 1 "));
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 51);
}

#[test]
fn bad_values_name_the_flag_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (args, flag) in [
        (vec!["--count", "0"], "--count"),
        (vec!["--count", "-5"], "--count"),
        (vec!["--duration", "24"], "--duration"),
        (vec!["--interval", "0s"], "--interval"),
        (vec!["--interval", "100"], "--interval"),
        (vec!["--loss", "1.5"], "--loss"),
        (vec!["--loss", "-0.1"], "--loss"),
        (vec!["--loss", "ge:rate=0.01"], "--loss"),
        (vec!["--delay", "lognormal:median=20ms"], "--delay"),
        (vec!["--delay", "cauchy:x=1"], "--delay"),
        (vec!["--jitter", "-1ms"], "--jitter"),
        (vec!["--stall-every", "1ms"], "--stall-every"),
        (vec!["--stall-every", "-5/h"], "--stall-every"),
        (vec!["--shift-hold", "uniform:min=2s,max=1s"], "--shift-hold"),
        (vec!["--loss", "1"], "--loss"),
    ] {
        let out = dir.path().join("bad.csv");
        fdbench()
            .arg("generate")
            .args(&args)
            .arg("-o")
            .arg(&out)
            .assert()
            .failure()
            .stderr(predicate::str::contains(flag));
        assert!(!out.exists(), "{args:?} left a file");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temporary files left behind"
    );
}

/// The rows stream to the output: 10 million heartbeats (240 MB as columns in memory)
/// are generated under a 128 MiB address-space limit.
#[test]
fn generation_streams_in_bounded_memory() {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fdbench"));
    cmd.args([
        "generate",
        "--preset",
        "lan",
        "--count",
        "10000000",
        "-q",
        "-o",
        "/dev/null",
    ]);
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 128 << 20,
                rlim_max: 128 << 20,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty());
}

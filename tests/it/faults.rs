//! Fault injection: runs stopped at every step of their output, full disks, outputs that
//! are inputs, symlinks, FIFOs and devices, and writers in separate PID namespaces.
//!
//! The binary counts every step that changes the file system (`fdbench::output`):
//! `FDBENCH_FAULT_KILL_AT=N` makes it SIGKILL itself just before step `N`, and
//! `FDBENCH_FAULT_ENOSPC_AT=N` makes step `N` fail as on a full disk. Each command is run
//! over an existing output and stopped at chosen steps; afterwards the output must be
//! byte for byte the previous one or the complete new one, and a later run must remove
//! every temporary left behind. No timing is involved: the kill lands on a step, not on a
//! clock.
//!
//! Default mode: a handful of steps per command, spread over the whole run (first,
//! last, and evenly between). `FDBENCH_FAULT_LONG=1`: 500 kills per command (every step,
//! then steps drawn at random with a fixed seed). Tests needing root (a small tmpfs
//! filled up, `unshare` PID namespaces) say so and pass without running otherwise.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rand::{Rng, SeedableRng};

const BIN: &str = env!("CARGO_BIN_EXE_fdbench");

fn long_mode() -> bool {
    std::env::var_os("FDBENCH_FAULT_LONG").is_some_and(|v| v != "0")
}

fn run(args: &[&str], cwd: &Path, env: &[(&str, String)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).current_dir(cwd);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(args: &[&str], cwd: &Path) -> Output {
    let o = run(args, cwd, &[]);
    assert!(
        o.status.success(),
        "fdbench {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The number of output steps a complete run takes.
fn steps(args: &[&str], cwd: &Path) -> u64 {
    let o = run(args, cwd, &[("FDBENCH_FAULT_COUNT", "1".into())]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("fault steps: "))
        .expect("a step count");
    line.trim().parse().unwrap()
}

/// The steps to stop a run at: default a few spread over the run, long mode 500.
fn kill_points(total: u64, default_count: u64, seed: u64) -> Vec<u64> {
    if long_mode() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut v: Vec<u64> = (1..=total.min(500)).collect();
        while v.len() < 500 {
            v.push(rng.random_range(1..=total));
        }
        v
    } else {
        let n = default_count.min(total);
        let mut v: Vec<u64> = (0..n).map(|i| 1 + i * (total - 1) / (n - 1).max(1)).collect();
        v.dedup();
        v
    }
}

/// Everything in a folder, by name (a file's bytes; a folder's contents flattened).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            for (k, v) in snapshot(&e.path()) {
                out.insert(format!("{name}/{k}"), v);
            }
        } else {
            out.insert(name, std::fs::read(e.path()).unwrap());
        }
    }
    out
}

/// A report folder without what differs between two identical runs (the manifest's wall
/// time and command line).
fn normalised(mut snap: BTreeMap<String, Vec<u8>>, folder: &str) -> BTreeMap<String, Vec<u8>> {
    for (name, bytes) in snap.iter_mut() {
        if name == &format!("{folder}/manifest.json") {
            let text = String::from_utf8_lossy(bytes);
            let kept: Vec<&str> = text
                .lines()
                .filter(|l| !l.contains("\"wall_time_s\"") && !l.contains("\"command_line\""))
                .collect();
            *bytes = kept.join("\n").into_bytes();
        }
    }
    snap
}

/// The names in `dir` that no complete run leaves: fdbench's temporaries.
fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect();
    v.sort();
    v
}

/// Totals printed at the end of each test (reports/robustness.md quotes them).
#[derive(Default, Debug)]
struct Tally {
    killed: u64,
    completed: u64,
    enospc: u64,
}

/// One command stopped at chosen steps over an existing output.
///
/// `args` writes `output` (a file or folder name in `dir`); `previous` is what is there
/// before each run. After each stopped run, `dir` must hold `previous` or the result of
/// a complete run, plus only temporaries `.OUTPUT.tmp-*`; the next complete run must
/// leave no temporary.
fn kill_loop(label: &str, dir: &Path, args: &[&str], output: &str, keep: &[&str], restore: &dyn Fn()) -> Tally {
    let folder_of = |snap: BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
        normalised(
            snap.into_iter()
                .filter(|(k, _)| k == output || k.starts_with(&format!("{output}/")))
                .collect(),
            output,
        )
    };
    restore();
    let previous = folder_of(snapshot(dir));
    ok(args, dir);
    let complete = folder_of(snapshot(dir));
    assert_ne!(
        previous, complete,
        "{label}: the new output must differ from the previous one"
    );
    restore();
    let total = steps(args, dir);
    restore();
    let mut tally = Tally::default();
    let seed = label
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    for k in kill_points(total, 8, seed) {
        let o = run(args, dir, &[("FDBENCH_FAULT_KILL_AT", k.to_string())]);
        let now = folder_of(snapshot(dir));
        if o.status.signal() == Some(libc::SIGKILL) {
            tally.killed += 1;
        } else {
            assert!(
                o.status.success(),
                "{label} step {k}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            tally.completed += 1;
        }
        assert!(
            now == previous || now == complete,
            "{label}: stopped at step {k} of {total}, the output is neither the previous nor the new one: {:?}",
            now.keys().collect::<Vec<_>>()
        );
        let left = leftovers(dir, keep);
        let prefix = format!(".{output}.tmp-");
        assert!(
            left.iter().all(|n| n == output || n.starts_with(&prefix)),
            "{label} step {k}: {left:?}"
        );
        restore();
    }
    for k in kill_points(total, 4, seed ^ 1) {
        if long_mode() && tally.enospc >= 50 {
            break;
        }
        let o = run(args, dir, &[("FDBENCH_FAULT_ENOSPC_AT", k.to_string())]);
        let err = String::from_utf8_lossy(&o.stderr);
        let now = folder_of(snapshot(dir));
        if !o.status.success() {
            assert_eq!(o.status.code(), Some(1), "{label} ENOSPC at {k}: {err}");
            assert!(err.contains("No space left on device"), "{label} ENOSPC at {k}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(now == previous, "{label}: a full disk at step {k} changed the output");
            tally.enospc += 1;
        } else {
            assert!(now == complete);
        }
        restore();
    }
    // A complete run removes what the stopped runs left.
    ok(args, dir);
    assert_eq!(folder_of(snapshot(dir)), complete, "{label}");
    let left = leftovers(dir, keep);
    assert!(left.iter().all(|n| n == output), "{label}: left behind {left:?}");
    println!("{label}: {total} steps; {tally:?}");
    tally
}

/// A trace of `minutes` of the `lan` preset in `dir`.
fn trace(dir: &Path, name: &str, minutes: u32, seed: u32) -> PathBuf {
    let d = format!("{minutes}m");
    let s = seed.to_string();
    ok(
        &[
            "generate",
            "--preset",
            "lan",
            "--duration",
            &d,
            "--seed",
            &s,
            "-q",
            "-o",
            name,
        ],
        dir,
    );
    dir.join(name)
}

#[test]
fn a_killed_sweep_leaves_the_previous_results_or_the_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trace(d, "t.csv", 10, 1);
    let restore = || {
        std::fs::write(d.join("r.csv"), b"the previous results\n").unwrap();
    };
    let args = [
        "sweep",
        "t.csv",
        "-q",
        "-j",
        "1",
        "--detector",
        "fixed:timeout=1ms..3s:1ms",
        "-o",
        "r.csv",
    ];
    kill_loop("sweep", d, &args, "r.csv", &["t.csv"], &restore);
}

#[test]
fn a_killed_generate_leaves_the_previous_trace_or_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let restore = || {
        std::fs::write(d.join("g.csv"), b"seq,recv_ns\n1,5\n2,9\n").unwrap();
    };
    let args = ["generate", "--preset", "wan", "--duration", "3h", "-q", "-o", "g.csv"];
    kill_loop("generate", d, &args, "g.csv", &[], &restore);
}

#[test]
fn a_killed_merge_leaves_the_previous_results_or_the_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trace(d, "t.csv", 5, 2);
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let part = format!("p{i}.csv");
        ok(
            &[
                "sweep",
                "t.csv",
                "-q",
                "--shard",
                &shard,
                "-d",
                "fixed:timeout=1ms..2s:1ms",
                "-o",
                &part,
            ],
            d,
        );
    }
    let restore = || {
        std::fs::write(d.join("m.csv"), b"the previous merge\n").unwrap();
    };
    let args = ["merge", "p1.csv", "p2.csv", "p3.csv", "-o", "m.csv"];
    kill_loop(
        "merge",
        d,
        &args,
        "m.csv",
        &["t.csv", "p1.csv", "p2.csv", "p3.csv"],
        &restore,
    );
}

/// A previous report made by fdbench from another seed, restored before each run.
fn previous_report(d: &Path, name: &str) -> BTreeMap<String, Vec<u8>> {
    ok(
        &[
            "report",
            "--preset",
            "lan",
            "--duration",
            "2m",
            "--seed",
            "9",
            "-q",
            "-o",
            name,
        ],
        d,
    );
    let snap = snapshot(&d.join(name));
    std::fs::remove_dir_all(d.join(name)).unwrap();
    snap
}

fn restore_folder(d: &Path, name: &str, snap: &BTreeMap<String, Vec<u8>>) {
    let p = d.join(name);
    if p.exists() {
        std::fs::remove_dir_all(&p).unwrap();
    }
    std::fs::create_dir(&p).unwrap();
    for (k, v) in snap {
        std::fs::write(p.join(k), v).unwrap();
    }
}

#[test]
fn a_killed_report_leaves_the_previous_report_or_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let prev = previous_report(d, "rep");
    let restore = || restore_folder(d, "rep", &prev);
    let args = ["report", "--preset", "lan", "--duration", "2m", "-q", "-o", "rep"];
    kill_loop("report", d, &args, "rep", &[], &restore);
}

#[test]
fn a_killed_report_with_its_trace_leaves_the_previous_report_or_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let prev = previous_report(d, "rep");
    let restore = || restore_folder(d, "rep", &prev);
    let args = [
        "report",
        "--preset",
        "lan",
        "--duration",
        "2m",
        "--save-trace",
        "-q",
        "-o",
        "rep",
    ];
    kill_loop("report --save-trace", d, &args, "rep", &[], &restore);
}

#[test]
fn a_killed_plot_leaves_the_previous_figures_or_the_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trace(d, "a.csv", 3, 3);
    trace(d, "b.csv", 3, 4);
    ok(&["plot", "--trace", "a.csv", "-q", "-o", "figs"], d);
    let prev = snapshot(&d.join("figs"));
    let restore = || restore_folder(d, "figs", &prev);
    let args = ["plot", "--trace", "b.csv", "-q", "-o", "figs"];
    kill_loop("plot", d, &args, "figs", &["a.csv", "b.csv"], &restore);
}

// ---------------------------------------------------------------------------------------
// Outputs that must not be replaced.

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every command refuses to write over one of its inputs, before any work, with exit
/// code 2, and the input is intact.
#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trace(d, "t.csv", 2, 5);
    std::os::unix::fs::symlink("t.csv", d.join("link.csv")).unwrap();
    std::fs::write(
        d.join("ping.txt"),
        "[1.0] 64 bytes from h: icmp_seq=1 ttl=64 time=1 ms\n",
    )
    .unwrap();
    ok(&["sweep", "t.csv", "-q", "-d", "fixed:timeout=1s", "-o", "r.csv"], d);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["sweep", "t.csv", "-o", "t.csv"], "t.csv"),
        (vec!["sweep", "t.csv", "-o", "link.csv"], "t.csv"),
        (vec!["stats", "t.csv", "-o", "t.csv"], "t.csv"),
        (vec!["tune", "t.csv", "-o", "t.csv"], "t.csv"),
        (vec!["replay", "t.csv", "-o", "t.csv"], "t.csv"),
        (
            vec!["replay", "t.csv", "-d", "fixed:timeout=1s", "--timeline", "t.csv"],
            "t.csv",
        ),
        (
            vec!["import", "--format", "ping", "ping.txt", "-o", "ping.txt"],
            "ping.txt",
        ),
        (vec!["merge", "r.csv", "-o", "r.csv"], "r.csv"),
        (vec!["resample", "t.csv", "--every", "2", "-o", "t.csv"], "t.csv"),
        (vec!["resample", "t.csv", "--every", "2", "-o", "link.csv"], "t.csv"),
        (
            vec!["explain", "t.csv", "-d", "fixed:timeout=1s", "-o", "t.csv"],
            "t.csv",
        ),
        (vec!["report", "--trace", "t.csv", "-o", "."], "t.csv"),
        (vec!["plot", "r.csv", "-o", "."], "r.csv"),
    ];
    for (args, input) in cases {
        let before = std::fs::read(d.join(input)).unwrap();
        let o = run(&args, d, &[]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(input) && err.lines().count() == 1,
            "{args:?}: {err}"
        );
        assert_eq!(std::fs::read(d.join(input)).unwrap(), before, "{args:?}");
        println!("| {} | {} |", args.join(" "), err.trim());
    }
}

/// A folder that is not a report, and a file, are never replaced by a report.
#[test]
fn a_report_never_replaces_what_is_not_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("thesis")).unwrap();
    std::fs::write(d.join("thesis/thesis.tex"), b"x").unwrap();
    std::fs::write(d.join("notes.txt"), b"y").unwrap();
    let thesis = "error: thesis: exists and is not an fdbench report (no manifest.json in it); fdbench replaces only its own reports, so give a new folder name or remove this one yourself\n";
    let notes = "error: notes.txt: exists and is not a folder; give the name of a new folder (fdbench will not replace this file)\n";
    for (out, message) in [("thesis", thesis), ("notes.txt", notes)] {
        let o = run(&["report", "--duration", "10m", "-q", "-o", out], d, &[]);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(stderr(&o), message);
    }
    assert_eq!(std::fs::read(d.join("thesis/thesis.tex")).unwrap(), b"x");
    assert_eq!(std::fs::read(d.join("notes.txt")).unwrap(), b"y");
    assert_eq!(leftovers(d, &[]), ["notes.txt", "thesis"]);
    let o = run(&["plot", "--trace", "notes.txt", "-o", "thesis"], d, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not an fdbench figure folder (it holds thesis.tex"));
}

/// A symlink is followed (its target replaced, the link kept); a FIFO and `/dev/null`
/// are written in place, never replaced by a regular file.
#[test]
fn symlinks_fifos_and_devices_are_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trace(d, "t.csv", 2, 6);
    std::fs::write(d.join("real.csv"), b"old").unwrap();
    std::os::unix::fs::symlink("real.csv", d.join("link.csv")).unwrap();
    ok(&["stats", "t.csv", "-o", "link.csv"], d);
    assert!(
        std::fs::symlink_metadata(d.join("link.csv"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        String::from_utf8(std::fs::read(d.join("real.csv")).unwrap())
            .unwrap()
            .starts_with("trace ")
    );

    ok(&["stats", "t.csv", "-o", "/dev/null"], d);
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(
        &std::fs::metadata("/dev/null").unwrap().file_type()
    ));

    let fifo = d.join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    ok(&["stats", "t.csv", "--format", "json", "-o", "pipe"], d);
    let got = reader.join().unwrap();
    assert!(got.starts_with(b"{"), "{}", String::from_utf8_lossy(&got));
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(
        &std::fs::symlink_metadata(&fifo).unwrap().file_type()
    ));
}

// ---------------------------------------------------------------------------------------
// Root only: a full tmpfs, and writers in separate PID namespaces.

fn is_root() -> bool {
    // SAFETY: no arguments, no memory.
    unsafe { libc::geteuid() == 0 }
}

/// Says why a test does not run. As root under `FDBENCH_REQUIRE_ALL=1` (CI, which has
/// everything these tests need) a skip is a failure.
fn skip(reason: &str) {
    if is_root() && std::env::var("FDBENCH_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("FDBENCH_REQUIRE_ALL=1 and running as root, yet skipped: {reason}");
    }
    println!("skipped: {reason}");
}

/// Mounts a tmpfs of `size` at `dir`; false (with a message) where that is not allowed.
fn mount_tmpfs(dir: &Path, size: &str) -> bool {
    let o = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output();
    match o {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            skip(&format!(
                "cannot mount a tmpfs: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            false
        }
        Err(e) => {
            skip(&format!("cannot run mount: {e}"));
            false
        }
    }
}

struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// On a real full disk (a 4 MiB tmpfs), a report and a sweep fail with exit 1 and one
/// clear line, and the previous outputs are intact; nothing is left behind.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "needs Linux tmpfs")]
fn a_full_disk_keeps_the_previous_outputs() {
    if !is_root() {
        skip("mounting a small tmpfs needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trace(d, "t.csv", 30, 7);
    let small = d.join("small");
    std::fs::create_dir(&small).unwrap();
    if !mount_tmpfs(&small, "4m") {
        return;
    }
    let _guard = Unmount(small.clone());
    ok(
        &["report", "--preset", "lan", "--duration", "1m", "-q", "-o", "small/rep"],
        d,
    );
    let before = snapshot(&small.join("rep"));
    let o = run(
        &[
            "report",
            "--preset",
            "lan",
            "--duration",
            "2h",
            "--save-trace",
            "-q",
            "-o",
            "small/rep",
        ],
        d,
        &[],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("No space left on device") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(snapshot(&small.join("rep")), before);
    println!("| report --save-trace -o (full tmpfs) | {} |", err.trim());
    std::fs::write(small.join("r.csv"), b"previous\n").unwrap();
    let o = run(
        &[
            "sweep",
            "t.csv",
            "-q",
            "-d",
            "fixed:timeout=1ms..20s:1ms",
            "-o",
            "small/r.csv",
        ],
        d,
        &[],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("No space left on device") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(std::fs::read(small.join("r.csv")).unwrap(), b"previous\n");
    println!("| sweep -o (full tmpfs) | {} |", err.trim());
    assert_eq!(leftovers(&small, &[]), ["r.csv", "rep"]);
}

/// Two writers of one output in two PID namespaces (both are PID 1 there) never share a
/// temporary: the output is one writer's complete file.
#[test]
fn writers_in_separate_pid_namespaces_do_not_collide() {
    if !is_root() {
        skip("unshare --pid needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let probe = Command::new("unshare").args(["--pid", "--fork", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        skip("unshare --pid is not available here");
        return;
    }
    let rounds = if long_mode() { 50 } else { 5 };
    for round in 0..rounds {
        let spawn = |seed: &str| {
            Command::new("unshare")
                .args([
                    "--pid",
                    "--fork",
                    BIN,
                    "generate",
                    "--preset",
                    "wan",
                    "--duration",
                    "2h",
                    "-q",
                ])
                .args(["--seed", seed, "-o", "same.csv"])
                .current_dir(d)
                .spawn()
                .unwrap()
        };
        let (mut a, mut b) = (spawn("1"), spawn("2"));
        assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
        let got = std::fs::read(d.join("same.csv")).unwrap();
        let mut expected = Vec::new();
        for seed in ["1", "2"] {
            let o = ok(
                &[
                    "generate",
                    "--preset",
                    "wan",
                    "--duration",
                    "2h",
                    "-q",
                    "--seed",
                    seed,
                    "-o",
                    "-",
                ],
                d,
            );
            expected.push(o.stdout);
        }
        assert!(
            got == expected[0] || got == expected[1],
            "round {round}: a mix of two writers"
        );
        assert_eq!(leftovers(d, &[]), ["same.csv"]);
    }
    println!("pid namespaces: {rounds} rounds of two writers, no collision");
}

//! `sweep` under an array job: the shard comes from the scheduler's environment.

use assert_cmd::Command;

fn sweep(trace: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("fdbench").unwrap();
    c.args(["sweep", "-q", "-d", "fixed:timeout=10ms..100ms:10ms", "--warmup", "10"])
        .arg(trace)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX");
    c
}

#[test]
fn slurm_and_kubernetes_indices_pick_the_same_slices_as_shard() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    Command::cargo_bin("fdbench")
        .unwrap()
        .args([
            "generate", "--preset", "lan", "--count", "300", "--seed", "3", "-q", "-o",
        ])
        .arg(&trace)
        .assert()
        .success();
    let whole = sweep(&trace).output().unwrap().stdout;
    let mut merged = Vec::new();
    for i in 1..=4 {
        let by_flag = sweep(&trace)
            .args(["--shard", &format!("{i}/4")])
            .output()
            .unwrap()
            .stdout;
        let slurm = sweep(&trace)
            .env("SLURM_ARRAY_TASK_ID", (i + 9).to_string())
            .env("SLURM_ARRAY_TASK_MIN", "10")
            .env("SLURM_ARRAY_TASK_COUNT", "4")
            .output()
            .unwrap()
            .stdout;
        let k8s = sweep(&trace)
            .env("JOB_COMPLETION_INDEX", (i - 1).to_string())
            .args(["--shard-count", "4"])
            .output()
            .unwrap()
            .stdout;
        assert_eq!(slurm, by_flag, "shard {i}");
        assert_eq!(k8s, by_flag, "shard {i}");
        let part = dir.path().join(format!("part-{i}.csv"));
        std::fs::write(&part, &by_flag).unwrap();
        merged.push(part);
    }
    let out = dir.path().join("merged.csv");
    Command::cargo_bin("fdbench")
        .unwrap()
        .arg("merge")
        .args(&merged)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(std::fs::read(out).unwrap(), whole);
    sweep(&trace)
        .env("JOB_COMPLETION_INDEX", "0")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--shard-count N"));
}

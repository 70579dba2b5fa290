//! Records the git commit the binary was built from, when the source is a git checkout,
//! and whether the shared datasets are next to the repository (`cfg(fdbench_datasets)`:
//! the tests that read them are ignored, saying why, without them).

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(fdbench_datasets)");
    let datasets = std::path::Path::new("../shared/datasets");
    if datasets.is_dir() {
        println!("cargo:rerun-if-changed=../shared/datasets");
        println!("cargo:rustc-cfg=fdbench_datasets");
    }
    // In a worktree `.git` is a file: ask git where HEAD and the branch refs live, and
    // watch only paths that exist (a missing path would rebuild on every cargo call).
    for (flag, path) in [
        ("--git-dir", "HEAD"),
        ("--git-common-dir", "refs/heads"),
        ("--git-common-dir", "packed-refs"),
    ] {
        let dir = Command::new("git")
            .args(["rev-parse", flag])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok());
        if let Some(dir) = dir {
            let watched = std::path::Path::new(dir.trim()).join(path);
            if watched.exists() {
                println!("cargo:rerun-if-changed={}", watched.display());
            }
        }
    }
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string());
    if let Some(c) = commit.filter(|c| c.len() == 40) {
        println!("cargo:rustc-env=FDBENCH_GIT_COMMIT={c}");
    }
}

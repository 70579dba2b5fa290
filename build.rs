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
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
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

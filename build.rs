//! Records the git commit the binary was built from, when the source is a git checkout.

use std::process::Command;

fn main() {
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

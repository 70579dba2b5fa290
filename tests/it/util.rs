//! Helpers shared by the test modules.

use assert_cmd::Command;

/// The `fdbench` binary under test.
pub fn fdbench() -> Command {
    Command::cargo_bin("fdbench").unwrap()
}

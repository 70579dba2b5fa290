//! `fdbench list`: every detector and preset, as text and as JSON.

use assert_cmd::Command;

const NAMES: [&str; 11] = [
    "fixed",
    "nfd-s",
    "chen",
    "bertier",
    "phi",
    "akka",
    "exp-phi",
    "satzger",
    "2w",
    "akka-cluster",
    "cassandra",
];

#[test]
fn lists_every_detector_and_preset() {
    let out = Command::cargo_bin("fdbench").unwrap().arg("list").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in NAMES {
        assert!(text.lines().any(|l| l == name), "{name} missing:\n{text}");
    }
    assert!(text.contains("min_std         duration  default 100ms"), "{text}");
}

#[test]
fn lists_as_json() {
    let out = Command::cargo_bin("fdbench")
        .unwrap()
        .args(["list", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, NAMES);
    assert_eq!(v[4]["knob"]["default"], "8");
    assert_eq!(v[9]["preset_of"], "akka");
}

//! `fdbench list`: every detector and preset, as text and as JSON.

use assert_cmd::Command;

const NAMES: [&str; 22] = [
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
    "akka-remote-watch",
    "pekko-multi-dc",
    "cassandra",
    "hazelcast",
    "hazelcast-phi",
    "etcd",
    "kafka-consumer",
    "kafka-broker",
    "zookeeper-session",
    "kubernetes-node",
    "cockroach-liveness",
    "redis-cluster",
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
    for system in [
        "SWIM / Lifeguard",
        "Elasticsearch",
        "Redis Cluster FAIL",
        "Cassandra's indirect gossip",
    ] {
        assert!(text.contains(system), "{system} missing:\n{text}");
    }
    assert!(text.contains("        --election-timeout={}"), "{text}");
    assert!(text.contains("heartbeat: 10s (the kubelet's lease renewal"), "{text}");
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
        .filter(|d| d["kind"] != "inexpressible")
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, NAMES);
    let kinds: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "inexpressible").count(), 4);
    assert_eq!(v[15]["name"], "etcd");
    assert_eq!(v[15]["lever"]["alias"], "election-timeout");
    assert_eq!(v[15]["heartbeat"], "100ms");
    assert_eq!(v[4]["knob"]["default"], "8");
    assert_eq!(v[9]["preset_of"], "akka");
}

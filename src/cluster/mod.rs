//! Clusters: every node watching every other, one trace per (monitor, target) pair.
//!
//! A **cluster folder** holds one trace file per (monitor, target) pair and a manifest,
//! `cluster.json`, naming the nodes and the pair files:
//!
//! ```json
//! {
//!   "nodes": ["n1", "n2", "n3"],
//!   "pairs": [
//!     { "monitor": "n1", "target": "n2", "trace": "n1-n2.csv.gz" },
//!     { "monitor": "n3", "target": "n2", "trace": "n3-n2.csv.gz" }
//!   ]
//! }
//! ```
//!
//! Trace paths are relative to the folder. The pairs' times are compared with each
//! other (the quorum), so they must share one time origin: when every trace has an
//! `epoch_unix_ns=N` comment (as the recorder and the pcap importer write), each is
//! shifted onto the earliest of them; otherwise their times are taken as given. Every pair's trace is a valid trace
//! ([evaluation.md](crate::docs::evaluation) §1) of the *same heartbeats*: heartbeat `seq` of a target is the same
//! heartbeat in every monitor's trace of it. Loading checks the manifest (known nodes,
//! a monitor never its own target, no pair twice, every file present and valid) and,
//! for each target, that its monitors' traces share a range of sequence numbers and
//! have the same nominal interval. An optional `"interval_ns"` in the manifest sets
//! the nominal interval of every pair.
//!
//! The cluster metrics are defined in [`metrics`]; [`Cluster::load`] reads a folder.

#[cfg(feature = "record")]
pub mod capture;
pub mod metrics;
pub mod rows;
pub mod tune;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::time::Nanos;
use crate::trace::{Receipts, Trace, csv};

/// The manifest's file name inside a cluster folder.
pub const MANIFEST: &str = "cluster.json";

/// The manifest of a cluster folder, as stored in `cluster.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The node names, in the order used by every output.
    pub nodes: Vec<String>,
    /// The nominal heartbeat interval of every pair, in nanoseconds (default: each
    /// trace's metadata, else inferred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ns: Option<i64>,
    /// One entry per (monitor, target) pair.
    pub pairs: Vec<PairEntry>,
}

/// One pair of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairEntry {
    /// The node that received the heartbeats.
    pub monitor: String,
    /// The node that sent them.
    pub target: String,
    /// The trace file, relative to the cluster folder.
    pub trace: String,
}

/// Why a cluster folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The manifest cannot be read.
    #[error("{path}: {source}; a cluster folder needs a {MANIFEST} manifest naming its nodes and pair traces")]
    Io {
        /// The manifest's path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The manifest is not valid JSON of the expected shape.
    #[error(
        "{path} line {line} column {column}: {message}; expected {{\"nodes\": [...], \"pairs\": [{{\"monitor\": ..., \"target\": ..., \"trace\": ...}}]}}"
    )]
    Json {
        /// The manifest's path.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The manifest's content is inconsistent.
    #[error("{path}: {problem}")]
    Manifest {
        /// The manifest's path.
        path: PathBuf,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A pair's trace cannot be read.
    #[error("{path} pair {monitor}->{target}: {source}")]
    Trace {
        /// The manifest's path.
        path: PathBuf,
        /// The pair's monitor.
        monitor: String,
        /// The pair's target.
        target: String,
        /// Why.
        source: Box<csv::ReadError>,
    },
    /// The traces of one target do not describe the same heartbeats.
    #[error("{path} target {target}: {problem}")]
    Inconsistent {
        /// The manifest's path.
        path: PathBuf,
        /// The target.
        target: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
}

/// One (monitor, target) pair of a loaded cluster.
#[derive(Clone, Debug)]
pub struct Pair {
    /// Index of the monitor in [`Cluster::nodes`].
    pub monitor: usize,
    /// Index of the target in [`Cluster::nodes`].
    pub target: usize,
    /// The trace file.
    pub file: PathBuf,
    /// The accepted receipts of the trace ([evaluation.md](crate::docs::evaluation) §2).
    pub receipts: Receipts,
    /// `(seq, send time)` of every heartbeat of the trace that has a send time, lost ones
    /// included, in `seq` order (empty when the trace has no send times).
    pub sends: Vec<(u64, Nanos)>,
}

/// The send time of heartbeat `seq` in a [`Pair::sends`] column, if it has one.
pub fn send_in(sends: &[(u64, Nanos)], seq: u64) -> Option<Nanos> {
    sends.binary_search_by_key(&seq, |&(s, _)| s).ok().map(|i| sends[i].1)
}

/// A loaded, validated cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// The folder it was read from.
    pub dir: PathBuf,
    /// Node names.
    pub nodes: Vec<String>,
    /// The pairs, in manifest order.
    pub pairs: Vec<Pair>,
}

/// Whether `path` is a cluster folder (a folder with a [`MANIFEST`]).
pub fn is_cluster(path: &Path) -> bool {
    path.is_dir() && path.join(MANIFEST).is_file()
}

impl Cluster {
    /// Reads and validates the cluster folder `dir`. `interval` (a flag) overrides the
    /// manifest's and the traces' nominal interval.
    pub fn load(dir: &Path, interval: Option<Nanos>) -> Result<Cluster, ClusterError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|source| ClusterError::Io {
            path: path.clone(),
            source,
        })?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| ClusterError::Json {
            path: path.clone(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        Cluster::from_manifest(dir, &manifest, interval)
    }

    /// Validates `manifest` and loads its traces from `dir`.
    pub fn from_manifest(dir: &Path, manifest: &Manifest, interval: Option<Nanos>) -> Result<Cluster, ClusterError> {
        let path = dir.join(MANIFEST);
        let bad = |problem: String| ClusterError::Manifest {
            path: path.clone(),
            problem,
        };
        let nodes = &manifest.nodes;
        if nodes.len() < 2 {
            return Err(bad(format!(
                "{} node(s); a cluster needs at least two nodes in \"nodes\"",
                nodes.len()
            )));
        }
        for (i, n) in nodes.iter().enumerate() {
            if n.is_empty() {
                return Err(bad(format!("node {} has an empty name; name every node", i + 1)));
            }
            if nodes[..i].contains(n) {
                return Err(bad(format!(
                    "node '{n}' is listed twice in \"nodes\"; list each node once"
                )));
            }
        }
        if manifest.pairs.is_empty() {
            return Err(bad(
                "no pairs; list one {\"monitor\", \"target\", \"trace\"} per pair".into()
            ));
        }
        let interval = match (interval, manifest.interval_ns) {
            (Some(i), _) => Some(i),
            (None, Some(n)) if n > 0 => Some(Nanos(n)),
            (None, Some(n)) => {
                return Err(bad(format!(
                    "interval_ns {n} is not positive; give the heartbeat interval in nanoseconds"
                )));
            }
            (None, None) => None,
        };
        let index = |name: &str, role: &str, k: usize| {
            nodes.iter().position(|n| n == name).ok_or_else(|| {
                bad(format!(
                    "pair {} names {role} '{name}', which is not in \"nodes\"; add it or fix the name",
                    k + 1
                ))
            })
        };
        let mut pairs: Vec<Pair> = Vec::with_capacity(manifest.pairs.len());
        let mut epochs: Vec<Option<i64>> = Vec::with_capacity(manifest.pairs.len());
        for (k, e) in manifest.pairs.iter().enumerate() {
            let monitor = index(&e.monitor, "monitor", k)?;
            let target = index(&e.target, "target", k)?;
            if monitor == target {
                return Err(bad(format!(
                    "pair {} has node '{}' monitoring itself; a monitor watches another node",
                    k + 1,
                    e.monitor
                )));
            }
            if pairs.iter().any(|p| p.monitor == monitor && p.target == target) {
                return Err(bad(format!(
                    "pair {} repeats {}->{}; list each (monitor, target) pair once",
                    k + 1,
                    e.monitor,
                    e.target
                )));
            }
            let rel = Path::new(&e.trace);
            if rel.is_absolute() || rel.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
                return Err(bad(format!(
                    "pair {} trace '{}' is outside the folder; give a path relative to the cluster folder",
                    k + 1,
                    e.trace
                )));
            }
            let file = dir.join(rel);
            let trace = csv::read_path(&file, interval).map_err(|source| ClusterError::Trace {
                path: path.clone(),
                monitor: e.monitor.clone(),
                target: e.target.clone(),
                source: Box::new(source),
            })?;
            epochs.push(epoch(&trace));
            pairs.push(Pair {
                monitor,
                target,
                file,
                receipts: trace.accepted(),
                sends: sends(&trace),
            });
        }
        align_epochs(&mut pairs, &epochs);
        let cluster = Cluster {
            dir: dir.to_path_buf(),
            nodes: nodes.clone(),
            pairs,
        };
        cluster.check_targets(&path)?;
        cluster.check_send_times(&path)?;
        Ok(cluster)
    }

    /// The name of pair `p`: `monitor->target`.
    pub fn pair_name(&self, p: usize) -> String {
        let pair = &self.pairs[p];
        format!("{}->{}", self.nodes[pair.monitor], self.nodes[pair.target])
    }

    /// The indices of the pairs watching `target`, in manifest order.
    pub fn monitors_of(&self, target: usize) -> Vec<usize> {
        (0..self.pairs.len())
            .filter(|&p| self.pairs[p].target == target)
            .collect()
    }

    /// The targets that have at least one monitor, in node order.
    pub fn targets(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&t| self.pairs.iter().any(|p| p.target == t))
            .collect()
    }

    /// Checks that the traces of each target describe the same heartbeats.
    fn check_targets(&self, path: &Path) -> Result<(), ClusterError> {
        for t in self.targets() {
            let monitors = self.monitors_of(t);
            let first = &self.pairs[monitors[0]].receipts;
            let bad = |problem: String| ClusterError::Inconsistent {
                path: path.to_path_buf(),
                target: self.nodes[t].clone(),
                problem,
            };
            let lo = monitors
                .iter()
                .map(|&p| self.pairs[p].receipts.seq[0])
                .max()
                .unwrap_or(0);
            let hi = monitors
                .iter()
                .map(|&p| *self.pairs[p].receipts.seq.last().unwrap_or(&0))
                .min()
                .unwrap_or(0);
            if lo > hi {
                return Err(bad(format!(
                    "its monitors' traces share no sequence numbers (the latest first seq is {lo}, the earliest last seq is {hi}); the traces of one target must record the same heartbeats"
                )));
            }
            for &p in &monitors[1..] {
                let r = &self.pairs[p].receipts;
                if r.interval != first.interval {
                    return Err(bad(format!(
                        "nominal interval {} ns in {} but {} ns in {}; the heartbeats of one target have one interval: fix the traces' metadata or give --interval",
                        first.interval.0,
                        self.pair_name(monitors[0]),
                        r.interval.0,
                        self.pair_name(p)
                    )));
                }
                if r.send.is_some() != first.send.is_some() {
                    return Err(bad(format!(
                        "{} has send times but {} has none; give every trace of a target send times, or none",
                        if first.send.is_some() {
                            self.pair_name(monitors[0])
                        } else {
                            self.pair_name(p)
                        },
                        if first.send.is_some() {
                            self.pair_name(p)
                        } else {
                            self.pair_name(monitors[0])
                        }
                    )));
                }
            }
        }
        Ok(())
    }
}

impl Cluster {
    /// With send times, heartbeat `seq` of a target must have been sent at one instant:
    /// the send times of the first sequence number that two monitors share may differ
    /// by less than one nominal interval (clocks not quite the same), never more (then
    /// the traces number different heartbeats, e.g. one sender per monitor).
    fn check_send_times(&self, path: &Path) -> Result<(), ClusterError> {
        for t in self.targets() {
            let monitors = self.monitors_of(t);
            let first = &self.pairs[monitors[0]];
            for &p in &monitors[1..] {
                let other = &self.pairs[p];
                let common = first
                    .sends
                    .iter()
                    .find_map(|&(s, a)| send_in(&other.sends, s).map(|b| (s, a, b)));
                let Some((seq, a, b)) = common else {
                    continue;
                };
                if (a - b).0.abs() >= first.receipts.interval.0 {
                    return Err(ClusterError::Inconsistent {
                        path: path.to_path_buf(),
                        target: self.nodes[t].clone(),
                        problem: format!(
                            "heartbeat {seq} was sent at {} ns in {} but at {} ns in {}, a whole interval apart; the traces of one target must number the same heartbeats (one sender sending each heartbeat to every monitor)",
                            a.0,
                            self.pair_name(monitors[0]),
                            b.0,
                            self.pair_name(p)
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The trace's time origin from its `epoch_unix_ns=N` comment (written by the recorder
/// and the pcap importer), if it has one.
fn epoch(trace: &Trace) -> Option<i64> {
    trace.comments().iter().find_map(|c| {
        let c = c.trim_start_matches('#').trim();
        c.strip_prefix("epoch_unix_ns=")?.trim().parse().ok()
    })
}

/// Puts every pair on the earliest origin when every trace names its origin (traces
/// recorded by separate receivers start at different instants); otherwise the traces'
/// times are taken to share one origin already.
fn align_epochs(pairs: &mut [Pair], epochs: &[Option<i64>]) {
    let Some(all) = epochs.iter().copied().collect::<Option<Vec<i64>>>() else {
        return;
    };
    let Some(&first) = all.iter().min() else {
        return;
    };
    for (p, e) in pairs.iter_mut().zip(all) {
        let shift = Nanos(e - first);
        if shift.0 == 0 {
            continue;
        }
        p.receipts.recv.iter_mut().for_each(|t| *t += shift);
        if let Some(s) = &mut p.receipts.send {
            s.iter_mut().for_each(|t| *t += shift);
        }
        p.sends.iter_mut().for_each(|(_, t)| *t += shift);
    }
}

/// The `(seq, send)` column of a trace, lost heartbeats included.
fn sends(trace: &Trace) -> Vec<(u64, Nanos)> {
    trace
        .rows()
        .filter_map(|(seq, send, _)| send.map(|s| (seq, s)))
        .collect()
}

/// Writes `manifest` as `dir/cluster.json` (atomically).
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(manifest).map_err(std::io::Error::other)?;
    text.push('\n');
    crate::output::write_bytes(&dir.join(MANIFEST), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(manifest: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST), manifest).unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    const AB: &str = "seq,recv_ns\n1,100\n2,200\n3,300\n";
    const BA: &str = "seq,recv_ns\n2,210\n3,310\n4,410\n";
    const PAIRS: &str = r#"{"nodes": ["a", "b"], "pairs": [
        {"monitor": "a", "target": "b", "trace": "ab.csv"},
        {"monitor": "b", "target": "a", "trace": "ba.csv"}]}"#;

    fn load_err(manifest: &str, files: &[(&str, &str)]) -> String {
        let dir = folder(manifest, files);
        let e = Cluster::load(dir.path(), None).unwrap_err().to_string();
        e.replace(&dir.path().display().to_string(), "DIR")
    }

    #[test]
    fn loads_a_folder_in_manifest_order() {
        let dir = folder(PAIRS, &[("ab.csv", AB), ("ba.csv", BA)]);
        assert!(is_cluster(dir.path()));
        let c = Cluster::load(dir.path(), None).unwrap();
        assert_eq!(c.nodes, ["a", "b"]);
        assert_eq!(c.pair_name(1), "b->a");
        assert_eq!(c.pairs[1].receipts.seq, [2, 3, 4]);
        assert_eq!(c.monitors_of(0), [1]);
        assert_eq!(c.targets(), [0, 1]);
    }

    #[test]
    fn a_missing_pair_file_is_named() {
        let e = load_err(PAIRS, &[("ab.csv", AB)]);
        assert!(e.starts_with("DIR/cluster.json pair b->a: DIR/ba.csv"), "{e}");
    }

    #[test]
    fn manifest_mistakes_are_named_with_the_fix() {
        let e = load_err(
            r#"{"nodes": ["a", "b"], "pairs": [{"monitor": "a", "target": "c", "trace": "ab.csv"}]}"#,
            &[],
        );
        assert_eq!(
            e,
            "DIR/cluster.json: pair 1 names target 'c', which is not in \"nodes\"; add it or fix the name"
        );
        let e = load_err(
            r#"{"nodes": ["a", "b"], "pairs": [{"monitor": "a", "target": "a", "trace": "ab.csv"}]}"#,
            &[],
        );
        assert!(e.contains("node 'a' monitoring itself"), "{e}");
        let e = load_err(
            r#"{"nodes": ["a", "b"], "pairs": [{"monitor": "a", "target": "b", "trace": "../x.csv"}]}"#,
            &[],
        );
        assert!(e.contains("outside the folder"), "{e}");
        let e = load_err(r#"{"nodes": ["a", "b"], "pairs": []"#, &[]);
        assert!(e.starts_with("DIR/cluster.json line 1 column "), "{e}");
        let e = load_err(r#"{"nodes": ["a", "b"], "pair": []}"#, &[]);
        assert!(e.contains("unknown field `pair`"), "{e}");
    }

    #[test]
    fn monitors_of_one_target_must_share_its_heartbeats() {
        let three = r#"{"nodes": ["a", "b", "c"], "pairs": [
            {"monitor": "a", "target": "b", "trace": "ab.csv"},
            {"monitor": "c", "target": "b", "trace": "cb.csv"}]}"#;
        let later = "seq,recv_ns\n7,700\n8,800\n";
        let e = load_err(three, &[("ab.csv", AB), ("cb.csv", later)]);
        assert_eq!(
            e,
            "DIR/cluster.json target b: its monitors' traces share no sequence numbers (the latest first seq is 7, the earliest last seq is 3); the traces of one target must record the same heartbeats"
        );
        let with_send = "seq,send_ns,recv_ns\n1,90,100\n2,190,200\n3,290,300\n";
        let e = load_err(three, &[("ab.csv", AB), ("cb.csv", with_send)]);
        assert!(e.contains("c->b has send times but a->b has none"), "{e}");
    }

    #[test]
    fn traces_with_their_own_epochs_are_put_on_one_origin() {
        let ab = "# epoch_unix_ns=1000\nseq,recv_ns\n1,100\n2,200\n3,300\n";
        let ba = "# epoch_unix_ns=1050\nseq,recv_ns\n2,210\n3,310\n4,410\n";
        let dir = folder(PAIRS, &[("ab.csv", ab), ("ba.csv", ba)]);
        let c = Cluster::load(dir.path(), None).unwrap();
        assert_eq!(c.pairs[0].receipts.recv, [Nanos(100), Nanos(200), Nanos(300)]);
        assert_eq!(c.pairs[1].receipts.recv, [Nanos(260), Nanos(360), Nanos(460)]);
    }

    #[test]
    fn monitors_must_see_each_heartbeat_sent_at_one_instant() {
        let two = r#"{"nodes": ["a", "b", "c"], "pairs": [
            {"monitor": "a", "target": "b", "trace": "ab.csv"},
            {"monitor": "c", "target": "b", "trace": "cb.csv"}]}"#;
        let ab = "seq,send_ns,recv_ns\n1,90,100\n2,190,200\n3,290,300\n";
        let close = "seq,send_ns,recv_ns\n1,95,101\n2,195,201\n3,295,301\n";
        let dir = folder(two, &[("ab.csv", ab), ("cb.csv", close)]);
        assert!(Cluster::load(dir.path(), None).is_ok());
        let apart = "seq,send_ns,recv_ns\n1,190,200\n2,290,300\n3,390,400\n";
        let e = load_err(two, &[("ab.csv", ab), ("cb.csv", apart)]);
        assert!(
            e.starts_with("DIR/cluster.json target b: heartbeat 1 was sent at 90 ns in a->b but at 190 ns in c->b"),
            "{e}"
        );
    }
}

//! A packet capture as a cluster folder: each flow is the trace of one (monitor, target)
//! pair, the monitor being the flow's destination and the target its source.

use std::collections::BTreeMap;
use std::path::Path;

use crate::trace::Trace;
use crate::trace::import::pcap::{Capture, Flow};

use super::{Manifest, PairEntry, write_manifest};

/// How nodes are named from flow addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// By IP address: one node per host (or network namespace).
    Address,
    /// By IP address and port: one node per socket (several nodes on one host).
    Socket,
}

/// Why a capture does not make a cluster.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// A flow's source and destination are the same node.
    #[error("flow {0} goes from a node to itself; name nodes by socket (--node-by-port) or filter it out")]
    SelfFlow(Box<Flow>),
    /// Two flows map to one pair.
    #[error("flows {a} and {b} are both {pair}; name nodes by socket (--node-by-port) or filter one out (--port, --host)", a = .0.0, b = .0.1, pair = .1)]
    SamePair(Box<(Flow, Flow)>, String),
    /// A file cannot be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Each pair's file name and trace.
pub type Files<'a> = Vec<(String, &'a Trace)>;

fn node(addr: std::net::SocketAddr, naming: Naming) -> String {
    match naming {
        Naming::Address => addr.ip().to_string(),
        Naming::Socket => addr.to_string(),
    }
}

/// A file-name-safe form of a node name.
fn file_part(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' })
        .collect()
}

/// The manifest of `capture` as a cluster, with each pair's file name and trace, in
/// flow order. Nodes are sorted by name.
pub fn manifest(capture: &Capture, naming: Naming) -> Result<(Manifest, Files<'_>), CaptureError> {
    let mut seen: BTreeMap<(String, String), Flow> = BTreeMap::new();
    let mut pairs = Vec::new();
    let mut files = Vec::new();
    for (flow, trace) in &capture.flows {
        let (monitor, target) = (node(flow.dst, naming), node(flow.src, naming));
        if monitor == target {
            return Err(CaptureError::SelfFlow(Box::new(*flow)));
        }
        let key = (monitor.clone(), target.clone());
        if let Some(other) = seen.get(&key) {
            return Err(CaptureError::SamePair(
                Box::new((*other, *flow)),
                format!("{monitor}->{target}"),
            ));
        }
        seen.insert(key, *flow);
        let file = format!("{}-{}.csv.gz", file_part(&monitor), file_part(&target));
        pairs.push(PairEntry {
            monitor,
            target,
            trace: file.clone(),
        });
        files.push((file, trace));
    }
    let mut nodes: Vec<String> = pairs
        .iter()
        .flat_map(|p| [p.monitor.clone(), p.target.clone()])
        .collect();
    nodes.sort();
    nodes.dedup();
    Ok((
        Manifest {
            nodes,
            interval_ns: None,
            pairs,
        },
        files,
    ))
}

/// Writes `capture` as the cluster folder `dir` (created if needed): every pair's trace
/// (each written atomically), then the manifest.
pub fn write_folder(dir: &Path, capture: &Capture, naming: Naming) -> Result<Manifest, CaptureError> {
    let io = |path: &Path, source| CaptureError::Io {
        path: path.display().to_string(),
        source,
    };
    let (manifest, files) = manifest(capture, naming)?;
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    for (file, trace) in files {
        let path = dir.join(file);
        crate::trace::csv::write_path(trace, &path).map_err(|e| io(&path, e))?;
    }
    write_manifest(dir, &manifest).map_err(|e| io(&dir.join(super::MANIFEST), e))?;
    Ok(manifest)
}

//! The failure detectors of production systems, as presets: a base detector with the
//! system's defaults, its heartbeat interval, its own setting names and a citation per
//! default. Adding a preset is one entry in [`PRESETS`].
//!
//! A preset takes the keys of its base detector and the system's names for them
//! (`akka-cluster:acceptable-heartbeat-pause=2s`, `cassandra:phi_convict_threshold=10`);
//! it stays the preset when a value is changed, and its label says what changed
//! (`akka-cluster(pause=2s)`).

use crate::detector::registry::{Alias, Preset, PresetValue};
use crate::detector::{akka, exp_phi};
use crate::time::Nanos;

/// The built-in presets, in listing order.
pub const PRESETS: &[&Preset] = &[&AKKA_CLUSTER, &CASSANDRA];

const AKKA_CONF: &str = "akka-cluster/src/main/resources/reference.conf (Akka 2.6), akka.cluster.failure-detector";

/// Akka Cluster's failure detector (also Apache Pekko's, whose defaults are the same).
pub const AKKA_CLUSTER: Preset = Preset {
    name: "akka-cluster",
    base: &akka::DEFINITION,
    summary: "akka with Akka Cluster's defaults (threshold 8, window 1000, min_std 100ms, pause 3s, first_estimate 1s)",
    doc: "Each node of an Akka (or Pekko) cluster sends a heartbeat every second to the \
          members that monitor it, and each monitor runs a phi accrual detector on the \
          arrivals. A replay reproduces that detector on one link exactly, its seeded \
          history and its rule of recording intervals only while trusting included; it \
          does not capture the cluster's reaction (several monitors, gossip of the \
          unreachability, the downing provider).",
    heartbeat: Nanos(1_000_000_000),
    defaults: &[
        PresetValue {
            param: "threshold",
            value: 8.0,
            cite: AKKA_CONF,
        },
        PresetValue {
            param: "window",
            value: 1000.0,
            cite: AKKA_CONF,
        },
        PresetValue {
            param: "min_std",
            value: 100e6,
            cite: AKKA_CONF,
        },
        PresetValue {
            param: "pause",
            value: 3e9,
            cite: AKKA_CONF,
        },
        PresetValue {
            param: "first_estimate",
            value: 1e9,
            cite: "heartbeat-interval, reference.conf (Akka 2.6); PhiAccrualFailureDetector's \
                   config constructor passes it as first-heartbeat-estimate",
        },
    ],
    aliases: &[
        Alias {
            name: "max-sample-size",
            param: "window",
            bare: None,
        },
        Alias {
            name: "min-std-deviation",
            param: "min_std",
            bare: None,
        },
        Alias {
            name: "acceptable-heartbeat-pause",
            param: "pause",
            bare: None,
        },
        Alias {
            name: "heartbeat-interval",
            param: "first_estimate",
            bare: None,
        },
    ],
};

const CASSANDRA_FD: &str = "src/java/org/apache/cassandra/gms/FailureDetector.java (Cassandra 4.0)";

/// Apache Cassandra's gossip failure detector.
pub const CASSANDRA: Preset = Preset {
    name: "cassandra",
    base: &exp_phi::DEFINITION,
    summary: "exp-phi with Cassandra's defaults (threshold 8, window 1000, initial 2s, max_interval 2s)",
    doc: "Each Cassandra node gossips every second, and the failure detector of a node \
          runs an exponential phi on the arrivals of every peer's gossip (heartbeat state \
          changes). A replay of a one-link heartbeat trace captures that detector; it \
          does not capture that gossip also reaches a node indirectly, through third \
          nodes, which makes the real arrivals more regular than one link's.",
    heartbeat: Nanos(1_000_000_000),
    defaults: &[
        PresetValue {
            param: "threshold",
            value: 8.0,
            cite: "phi_convict_threshold, src/java/org/apache/cassandra/config/Config.java (Cassandra 4.0)",
        },
        PresetValue {
            param: "window",
            value: 1000.0,
            cite: "ArrivalWindow SAMPLE_SIZE, FailureDetector.java (Cassandra 4.0)",
        },
        PresetValue {
            param: "initial",
            value: 2e9,
            cite: CASSANDRA_FD,
        },
        PresetValue {
            param: "max_interval",
            value: 2e9,
            cite: CASSANDRA_FD,
        },
    ],
    aliases: &[Alias {
        name: "phi_convict_threshold",
        param: "threshold",
        bare: None,
    }],
};

//! The failure detectors of production systems, as presets: a base detector with the
//! system's defaults, its heartbeat interval, its own setting names and a citation per
//! default. Adding a preset is one entry in [`PRESETS`]; `docs/presets.md` (the
//! [`docs::presets`](crate::docs::presets) page) has what each system does, the source
//! lines every default was read from, and where the specification's table was wrong.
//!
//! A preset takes the keys of its base detector and the system's names for them
//! (`akka-cluster:acceptable-heartbeat-pause=2s`, `cassandra:phi_convict_threshold=10`,
//! `etcd:election-timeout=1500` in etcd's bare milliseconds); it stays the preset when
//! a value is changed, and its label says what changed (`akka-cluster(pause=2s)`).
//! Its [`Lever`] is the setting an operator changes, with the configuration line in the
//! system's own syntax and the limits the system enforces on it.
//!
//! Systems whose detector is not a timeout or accrual on one link's heartbeats are in
//! [`INEXPRESSIBLE`], with what an evaluation of them would need.

use serde::Serialize;

use crate::detector::registry::{Alias, AliasMap, Lever, Limit, Preset, PresetValue, Syntax};
use crate::detector::{akka, exp_phi, fixed};
use crate::time::Nanos;

/// The built-in presets, in listing order.
pub const PRESETS: &[&Preset] = &[
    &AKKA_CLUSTER,
    &AKKA_REMOTE_WATCH,
    &PEKKO_MULTI_DC,
    &CASSANDRA,
    &HAZELCAST,
    &HAZELCAST_PHI,
    &ETCD,
    &KAFKA_CONSUMER,
    &KAFKA_BROKER,
    &ZOOKEEPER_SESSION,
    &KUBERNETES_NODE,
    &COCKROACH_LIVENESS,
    &REDIS_CLUSTER,
];

const MS: f64 = 1e6;
const S: f64 = 1e9;

const fn value(param: &'static str, value: f64, cite: &'static str) -> PresetValue {
    PresetValue { param, value, cite }
}

/// A range the system enforces: it refuses (or clamps) a value outside it.
const fn limit(min: f64, max: f64, note: &'static str) -> Limit {
    Limit {
        min,
        max,
        note,
        enforced: true,
    }
}

/// A range the system's documentation advises, not enforced.
const fn advice(min: f64, max: f64, note: &'static str) -> Limit {
    Limit {
        min,
        max,
        note,
        enforced: false,
    }
}

// ---------------------------------------------------------------------------------
// Akka / Pekko

const AKKA_CONF: &str = "akka/akka akka-cluster/src/main/resources/reference.conf @ v2.10.9 (lines 190-214), \
                         apache/pekko cluster/src/main/resources/reference.conf @ v1.7.0 (lines 192-216), \
                         akka.cluster.failure-detector";
const AKKA_REMOTE_CONF: &str = "akka/akka akka-remote/src/main/resources/reference.conf @ v2.10.9 (lines 187-211), \
                                apache/pekko remote/src/main/resources/reference.conf @ v1.7.0 (lines 225-249), \
                                akka.remote.watch-failure-detector";
const AKKA_FIRST: &str = "heartbeat-interval; PhiAccrualFailureDetector's config constructor passes it as \
                          firstHeartbeatEstimate (akka/akka akka-remote/src/main/scala/akka/remote/\
                          PhiAccrualFailureDetector.scala line 91 @ 9892c5e)";
const AKKA_REQUIRE: &str = "Akka and Pekko require acceptable-heartbeat-pause >= 0 \
                            (PhiAccrualFailureDetector.scala lines 95-98 @ 9892c5e)";

/// The system's names of Akka's φ detector settings.
const AKKA_ALIASES: &[Alias] = &[
    Alias::new("max-sample-size", "window"),
    Alias::new("min-std-deviation", "min_std"),
    Alias::new("acceptable-heartbeat-pause", "pause"),
    Alias::new("heartbeat-interval", "first_estimate"),
];

/// Akka Cluster's failure detector (also Apache Pekko's, whose defaults are the same).
pub const AKKA_CLUSTER: Preset = Preset {
    name: "akka-cluster",
    base: &akka::DEFINITION,
    summary: "akka with Akka Cluster's defaults (threshold 8, window 1000, min_std 100ms, pause 3s, first_estimate 1s)",
    doc: "Each node of an Akka (or Pekko) cluster sends a heartbeat every second to the \
          members that monitor it, and each monitor runs a phi accrual detector on the \
          arrivals. A replay reproduces that detector on one link exactly, its seeded \
          history and its rule of recording intervals only while trusting included; it \
          does not capture the 1 s reaper tick that reads the detector, the other \
          monitors of the same member, the gossip of the unreachability or what the \
          downing provider then does.",
    heartbeat: Nanos(1_000_000_000),
    heartbeat_setting: "akka.cluster.failure-detector.heartbeat-interval",
    defaults: &[
        value("threshold", 8.0, AKKA_CONF),
        value("window", 1000.0, AKKA_CONF),
        value("min_std", 100.0 * MS, AKKA_CONF),
        value("pause", 3.0 * S, AKKA_CONF),
        value("first_estimate", S, AKKA_FIRST),
    ],
    aliases: AKKA_ALIASES,
    lever: Some(Lever {
        alias: "acceptable-heartbeat-pause",
        lines: &[
            "akka.cluster.failure-detector.acceptable-heartbeat-pause = {}",
            "pekko.cluster.failure-detector.acceptable-heartbeat-pause = {}",
        ],
        syntax: Syntax::Duration,
        step: 100.0 * MS,
        limits: &[limit(0.0, f64::INFINITY, AKKA_REQUIRE)],
    }),
};

/// Akka's (and Pekko's) remote death watch: the same detector with more tolerant defaults.
pub const AKKA_REMOTE_WATCH: Preset = Preset {
    name: "akka-remote-watch",
    base: &akka::DEFINITION,
    summary: "akka with Akka remote watch's defaults (threshold 10, window 200, min_std 100ms, pause 10s, first_estimate 1s)",
    doc: "Remote death watch between actor systems (with or without a cluster) heartbeats \
          every second and runs the same phi accrual detector as the cluster, with more \
          tolerant defaults. A replay reproduces the detector on one watched connection; \
          it does not capture the 1 s reaper tick nor the Terminated messages that follow.",
    heartbeat: Nanos(1_000_000_000),
    heartbeat_setting: "akka.remote.watch-failure-detector.heartbeat-interval",
    defaults: &[
        value("threshold", 10.0, AKKA_REMOTE_CONF),
        value("window", 200.0, AKKA_REMOTE_CONF),
        value("min_std", 100.0 * MS, AKKA_REMOTE_CONF),
        value("pause", 10.0 * S, AKKA_REMOTE_CONF),
        value("first_estimate", S, AKKA_FIRST),
    ],
    aliases: AKKA_ALIASES,
    lever: Some(Lever {
        alias: "acceptable-heartbeat-pause",
        lines: &[
            "akka.remote.watch-failure-detector.acceptable-heartbeat-pause = {}",
            "pekko.remote.watch-failure-detector.acceptable-heartbeat-pause = {}",
        ],
        syntax: Syntax::Duration,
        step: 100.0 * MS,
        limits: &[limit(0.0, f64::INFINITY, AKKA_REQUIRE)],
    }),
};

const MULTI_DC_CONF: &str = "apache/pekko cluster/src/main/resources/reference.conf @ v1.7.0 (lines 265-268), \
                             pekko.cluster.multi-data-center.failure-detector: heartbeat-interval 3s + \
                             acceptable-heartbeat-pause 10s; DeadlineFailureDetector.scala lines 48-55 @ 9892c5e";

/// Pekko's (and Akka's deprecated) heartbeats between data centres.
pub const PEKKO_MULTI_DC: Preset = Preset {
    name: "pekko-multi-dc",
    base: &fixed::DEFINITION,
    summary: "fixed with Pekko's cross-data-centre defaults (timeout 13s = heartbeat-interval 3s + acceptable-heartbeat-pause 10s)",
    doc: "Between data centres only the oldest members of each heartbeat each other, every \
          3 s, and the detector is a deadline: available while the last heartbeat plus \
          acceptable-heartbeat-pause plus heartbeat-interval lies ahead. A replay \
          reproduces that verdict on one cross-DC link; it does not capture which members \
          heartbeat (it changes with membership) nor the reaper that reads the detector.",
    heartbeat: Nanos(3_000_000_000),
    heartbeat_setting: "pekko.cluster.multi-data-center.failure-detector.heartbeat-interval",
    defaults: &[value("timeout", 13.0 * S, MULTI_DC_CONF)],
    aliases: &[Alias::new("acceptable-heartbeat-pause", "timeout").mapped(AliasMap {
        rule: "timeout = acceptable-heartbeat-pause + 3s",
        to_param: |p| p + 3.0 * S,
        to_system: |t| t - 3.0 * S,
    })],
    lever: Some(Lever {
        alias: "acceptable-heartbeat-pause",
        lines: &["pekko.cluster.multi-data-center.failure-detector.acceptable-heartbeat-pause = {}"],
        syntax: Syntax::Duration,
        step: 100.0 * MS,
        limits: &[limit(
            0.0,
            f64::INFINITY,
            "Pekko requires acceptable-heartbeat-pause >= 0 (DeadlineFailureDetector.scala lines 45-46 @ 9892c5e)",
        )],
    }),
};

// ---------------------------------------------------------------------------------
// Cassandra

const CASSANDRA_FD: &str = "apache/cassandra src/java/org/apache/cassandra/gms/FailureDetector.java (Cassandra 4.0)";

/// Apache Cassandra's gossip failure detector.
pub const CASSANDRA: Preset = Preset {
    name: "cassandra",
    base: &exp_phi::DEFINITION,
    summary: "exp-phi with Cassandra's defaults (threshold 8, window 1000, initial 2s, max_interval 2s)",
    doc: "Each Cassandra node gossips every second, and the failure detector of a node \
          runs an exponential phi on the arrivals of every peer's gossip (heartbeat state \
          changes). A replay of a one-link heartbeat trace captures that detector; it \
          does not capture that gossip also reaches a node indirectly, through third \
          nodes, which makes the real arrivals more regular than one link's, nor that \
          conviction is checked once per gossip round.",
    heartbeat: Nanos(1_000_000_000),
    heartbeat_setting: "the gossip interval (1 s, Gossiper.intervalInMillis)",
    defaults: &[
        value(
            "threshold",
            8.0,
            "phi_convict_threshold, src/java/org/apache/cassandra/config/Config.java (Cassandra 4.0)",
        ),
        value(
            "window",
            1000.0,
            "ArrivalWindow SAMPLE_SIZE, FailureDetector.java (Cassandra 4.0)",
        ),
        value("initial", 2.0 * S, CASSANDRA_FD),
        value("max_interval", 2.0 * S, CASSANDRA_FD),
    ],
    aliases: &[Alias::new("phi_convict_threshold", "threshold")],
    lever: Some(Lever {
        alias: "phi_convict_threshold",
        lines: &["phi_convict_threshold: {}"],
        syntax: Syntax::Number,
        step: 0.1,
        limits: &[limit(
            5.0,
            16.0,
            "Cassandra refuses to start unless 5 <= phi_convict_threshold <= 16 (\"phi_convict_threshold must be between 5 and 16\", DatabaseDescriptor.java)",
        )],
    }),
};

// ---------------------------------------------------------------------------------
// Hazelcast

const HZ_PROPS: &str =
    "hazelcast/hazelcast hazelcast/src/main/java/com/hazelcast/spi/properties/ClusterProperty.java @ 2da3608";
const HZ_CHECK: &str = "the heartbeat task checks every member once per heartbeat interval \
                        (ClusterHeartbeatManager.java, suspectMemberIfNotHeartBeating @ 53cbd1e)";
const HZ_PHI: &str = "PhiAccrualClusterFailureDetector.java @ ebff1b9";

/// Hazelcast's default (deadline) member failure detector.
pub const HAZELCAST: Preset = Preset {
    name: "hazelcast",
    base: &fixed::DEFINITION,
    summary: "fixed with Hazelcast's deadline detector defaults (timeout 60s, checked every 5s heartbeat)",
    doc: "Every 5 s each Hazelcast member's heartbeat task sends a heartbeat to every other \
          member and, in the same pass, checks each of them: a member is suspected when \
          no heartbeat arrived for hazelcast.max.no.heartbeat.seconds. A replay captures \
          one member pair's verdict with the check on the heartbeat tick; not the \
          master's role (a member's suspicion is reported to the master, which removes), \
          heartbeats ignored for an old cluster-clock timestamp, nor the ICMP detector \
          (off by default).",
    heartbeat: Nanos(5_000_000_000),
    heartbeat_setting: "hazelcast.heartbeat.interval.seconds",
    defaults: &[value("timeout", 60.0 * S, HZ_PROPS), value("check", 5.0 * S, HZ_CHECK)],
    aliases: &[
        Alias::new("hazelcast.max.no.heartbeat.seconds", "timeout").bare(S),
        Alias::new("hazelcast.heartbeat.interval.seconds", "check").bare(S),
    ],
    lever: Some(Lever {
        alias: "hazelcast.max.no.heartbeat.seconds",
        lines: &[
            "<property name=\"hazelcast.max.no.heartbeat.seconds\">{}</property>",
            "-Dhazelcast.max.no.heartbeat.seconds={}",
        ],
        syntax: Syntax::Seconds,
        step: S,
        limits: &[],
    }),
};

/// Hazelcast with `hazelcast.heartbeat.failuredetector.type = phi-accrual`.
pub const HAZELCAST_PHI: Preset = Preset {
    name: "hazelcast-phi",
    base: &akka::DEFINITION,
    summary: "akka with Hazelcast's phi-accrual defaults (threshold 10, window 200, min_std 100ms, pause 60s, first_estimate 5s)",
    doc: "Hazelcast's phi-accrual option is a port of Akka's detector, fed by the same 5 s \
          heartbeats; its acceptable pause is hazelcast.max.no.heartbeat.seconds (60 s) \
          and its first estimate the heartbeat interval. A replay reproduces the detector \
          on one member pair; the heartbeat task reads it only every heartbeat interval, \
          which the replay does not model (akka has no check), so the replay notices a \
          suspicion up to one interval earlier than Hazelcast does.",
    heartbeat: Nanos(5_000_000_000),
    heartbeat_setting: "hazelcast.heartbeat.interval.seconds",
    defaults: &[
        value("threshold", 10.0, HZ_PHI),
        value("window", 200.0, HZ_PHI),
        value("min_std", 100.0 * MS, HZ_PHI),
        value(
            "pause",
            60.0 * S,
            "hazelcast.max.no.heartbeat.seconds (ClusterProperty.java @ 2da3608), passed as the \
             acceptable pause by PhiAccrualClusterFailureDetector.java @ ebff1b9",
        ),
        value(
            "first_estimate",
            5.0 * S,
            "hazelcast.heartbeat.interval.seconds (ClusterProperty.java @ 2da3608), passed as the \
             first estimate by PhiAccrualClusterFailureDetector.java @ ebff1b9",
        ),
    ],
    aliases: &[
        Alias::new("hazelcast.heartbeat.phiaccrual.failuredetector.threshold", "threshold"),
        Alias::new("hazelcast.heartbeat.phiaccrual.failuredetector.sample.size", "window"),
        Alias::new(
            "hazelcast.heartbeat.phiaccrual.failuredetector.min.std.dev.millis",
            "min_std",
        )
        .bare(MS),
        Alias::new("hazelcast.max.no.heartbeat.seconds", "pause").bare(S),
        Alias::new("hazelcast.heartbeat.interval.seconds", "first_estimate").bare(S),
    ],
    lever: Some(Lever {
        alias: "hazelcast.max.no.heartbeat.seconds",
        lines: &[
            "<property name=\"hazelcast.max.no.heartbeat.seconds\">{}</property>",
            "-Dhazelcast.max.no.heartbeat.seconds={}",
        ],
        syntax: Syntax::Seconds,
        step: S,
        limits: &[],
    }),
};

// ---------------------------------------------------------------------------------
// etcd

const ETCD_TICK: f64 = 100.0 * MS;

/// An etcd follower's Raft election timer.
pub const ETCD: Preset = Preset {
    name: "etcd",
    base: &fixed::DEFINITION,
    summary: "fixed with etcd's defaults (election after 10 heartbeat ticks of 100ms: timeout 900ms, check 100ms)",
    doc: "The etcd leader heartbeats each follower every heartbeat tick (100 ms); a follower \
          counts ticks since the last message from the leader and campaigns when the count \
          reaches its randomized election timeout, drawn in [10, 19] ticks with the \
          defaults. The preset is the lower end, where false elections start: the 10th \
          tick after a receipt, i.e. fixed:timeout=900ms,check=100ms. A replay captures \
          the follower's timer on one leader-follower link; not pre-vote and check-quorum \
          (a false election needs a quorum to have lost the leader too) nor the \
          randomization above the lower end.",
    heartbeat: Nanos(100_000_000),
    heartbeat_setting: "--heartbeat-interval",
    defaults: &[
        value(
            "timeout",
            900.0 * MS,
            "ElectionMs 1000 (config.go line 674 @ v3.6.0) over TickMs 100 = 10 ticks; raft.go \
             pastElectionTimeout (etcd-io/raft @ f35a022, line 2045) fires on the 10th tick after the \
             heartbeat, 9 whole ticks after the first one",
        ),
        value(
            "check",
            ETCD_TICK,
            "TickMs 100, config.go line 673 @ v3.6.0: one tick = --heartbeat-interval",
        ),
    ],
    aliases: &[
        Alias::new("election-timeout", "timeout").bare(MS).mapped(AliasMap {
            rule: "timeout = (election-timeout / 100ms rounded down - 1) x 100ms",
            to_param: |e| ((e / ETCD_TICK).floor() - 1.0) * ETCD_TICK,
            to_system: |t| t + ETCD_TICK,
        }),
        Alias::new("heartbeat-interval", "check").bare(MS),
    ],
    lever: Some(Lever {
        alias: "election-timeout",
        lines: &["--election-timeout={}", "election-timeout: {}"],
        syntax: Syntax::Millis,
        step: ETCD_TICK,
        limits: &[
            limit(
                5.0 * ETCD_TICK,
                f64::INFINITY,
                "etcd refuses to start: \"--election-timeout should be at least as 5 times as --heartbeat-interval\" \
                 (Config.Validate, server/embed/config.go @ v3.6.0); lower --heartbeat-interval too",
            ),
            limit(
                0.0,
                50_000.0 * MS,
                "etcd refuses to start: \"--election-timeout is too long, and should be set less than 50000ms\" \
                 (maxElectionMs, server/embed/config.go @ v3.6.0)",
            ),
        ],
    }),
};

// ---------------------------------------------------------------------------------
// Kafka

const KAFKA_CONSUMER_CONF: &str = "apache/kafka clients/src/main/java/org/apache/kafka/clients/consumer/ConsumerConfig.java \
                                   @ 3.9.0-rc3 (dd52726), line 409 (session.timeout.ms 45000)";

/// A Kafka consumer's session with its group coordinator (classic protocol).
pub const KAFKA_CONSUMER: Preset = Preset {
    name: "kafka-consumer",
    base: &fixed::DEFINITION,
    summary: "fixed with the Kafka consumer's defaults (heartbeat 3s, session.timeout.ms 45000)",
    doc: "A consumer's heartbeat thread sends a heartbeat to the group coordinator every \
          heartbeat.interval.ms (3 s); the coordinator removes the member and rebalances \
          the group when none arrived for session.timeout.ms, on a timer (no tick). A \
          replay captures that session on one consumer-coordinator link; not \
          max.poll.interval.ms (a separate check of the application's poll loop), nor the \
          new consumer protocol (KIP-848), whose broker-side defaults differ.",
    heartbeat: Nanos(3_000_000_000),
    heartbeat_setting: "heartbeat.interval.ms",
    defaults: &[value("timeout", 45.0 * S, KAFKA_CONSUMER_CONF)],
    aliases: &[Alias::new("session.timeout.ms", "timeout").bare(MS)],
    lever: Some(Lever {
        alias: "session.timeout.ms",
        lines: &["session.timeout.ms={}"],
        syntax: Syntax::Millis,
        step: 1000.0 * MS,
        limits: &[
            limit(
                6000.0 * MS,
                1_800_000.0 * MS,
                "the broker rejects the join with INVALID_SESSION_TIMEOUT outside [group.min.session.timeout.ms, \
                 group.max.session.timeout.ms] = [6000, 1800000] by default (GroupCoordinatorService.java, \
                 GroupCoordinatorConfig.java @ 3.9.0-rc3); change those broker settings too",
            ),
            limit(
                3001.0 * MS,
                f64::INFINITY,
                "the client refuses heartbeat.interval.ms >= session.timeout.ms (\"Heartbeat must be set lower than \
                 the session timeout\", consumer/internals/Heartbeat.java line 48 @ 3.9.0-rc3)",
            ),
        ],
    }),
};

/// A KRaft broker's session with the active controller.
pub const KAFKA_BROKER: Preset = Preset {
    name: "kafka-broker",
    base: &fixed::DEFINITION,
    summary: "fixed with KRaft's broker session defaults (heartbeat 2s, broker.session.timeout.ms 9000)",
    doc: "Each KRaft broker sends a BrokerHeartbeat to the active controller every \
          broker.heartbeat.interval.ms (2 s); the controller fences a broker whose last \
          contact is older than broker.session.timeout.ms. A replay captures that session \
          on one broker-controller link; not the controller's own failovers, nor that \
          fencing waits for the controller's next fencing event.",
    heartbeat: Nanos(2_000_000_000),
    heartbeat_setting: "broker.heartbeat.interval.ms",
    defaults: &[value(
        "timeout",
        9.0 * S,
        "apache/kafka server/src/main/java/org/apache/kafka/server/config/KRaftConfigs.java line 52 @ 3.9.0-rc3; \
         BrokerHeartbeatManager.hasValidSession, metadata/.../controller/BrokerHeartbeatManager.java lines 350-356",
    )],
    aliases: &[Alias::new("broker.session.timeout.ms", "timeout").bare(MS)],
    lever: Some(Lever {
        alias: "broker.session.timeout.ms",
        lines: &["broker.session.timeout.ms={}"],
        syntax: Syntax::Millis,
        step: 1000.0 * MS,
        limits: &[],
    }),
};

// ---------------------------------------------------------------------------------
// ZooKeeper

const ZK_TICK: f64 = 2000.0 * MS;

/// A ZooKeeper client session.
pub const ZOOKEEPER_SESSION: Preset = Preset {
    name: "zookeeper-session",
    base: &fixed::DEFINITION,
    summary: "fixed with a 30 s ZooKeeper session (timeout 30s, expiry in tickTime buckets of 2s, pings every 9s)",
    doc: "The server keeps each session in expiry buckets one tickTime wide: a ping or \
          request moves the session to the bucket after now + sessionTimeout, and the \
          session expires when its bucket's time comes. An idle client pings every \
          sessionTimeout/3 - 1 s (9 s for 30 s, at most 10 s). A replay captures the \
          server's verdict on one client's pings with the tick; not sessions touched by \
          ordinary requests (more often than pings), the client's own connection-loss \
          timeout, session moves between servers, nor that a changed sessionTimeout also \
          changes the ping interval (the trace keeps its own).",
    heartbeat: Nanos(9_000_000_000),
    heartbeat_setting: "the client's ping interval, sessionTimeout/3 - 1s (ClientCnxn.java)",
    defaults: &[
        value(
            "timeout",
            30.0 * S,
            "sessionTimeout 30000, zkCli's (zookeeper-server/src/main/java/org/apache/zookeeper/ZooKeeperMain.java \
             line 138 @ release-3.9.5); the API has no default",
        ),
        value(
            "check",
            ZK_TICK,
            "tickTime=2000 of the shipped conf/zoo_sample.cfg (line 2 @ release-3.9.5); the code's default when \
             unset is 3000 (ZooKeeperServer.DEFAULT_TICK_TIME); buckets in ExpiryQueue.java lines 53-55, 84-87",
        ),
    ],
    aliases: &[
        Alias::new("sessionTimeout", "timeout").bare(MS),
        Alias::new("tickTime", "check").bare(MS),
    ],
    lever: Some(Lever {
        alias: "sessionTimeout",
        lines: &[
            "sessionTimeout={}  (the client's: new ZooKeeper(connectString, {}, watcher), Curator's sessionTimeoutMs, Kafka's zookeeper.session.timeout.ms)",
        ],
        syntax: Syntax::Millis,
        step: 1000.0 * MS,
        limits: &[limit(
            2.0 * ZK_TICK,
            20.0 * ZK_TICK,
            "the server clamps the session timeout to [minSessionTimeout, maxSessionTimeout] = [2, 20] x tickTime \
             = [4000, 40000] ms by default (ZooKeeperServer.java lines 1521-1527, QuorumPeerConfig.java lines \
             470-471 @ release-3.9.5); set minSessionTimeout/maxSessionTimeout in zoo.cfg too",
        )],
    }),
};

// ---------------------------------------------------------------------------------
// Kubernetes

/// The Kubernetes node lifecycle controller watching a kubelet's node lease.
pub const KUBERNETES_NODE: Preset = Preset {
    name: "kubernetes-node",
    base: &fixed::DEFINITION,
    summary: "fixed with Kubernetes' node defaults (lease renewed every 10s, node-monitor-grace-period 50s, checked every 5s)",
    doc: "The kubelet renews its node Lease every 10 s (a quarter of nodeLeaseDurationSeconds, \
          40). The node lifecycle controller checks every node every --node-monitor-period \
          (5 s) and marks it NotReady/Unknown when it has seen no renewal for more than \
          --node-monitor-grace-period (50 s since v1.32, 40 s before). A replay of a trace \
          of lease renewals captures that verdict with the 5 s check; not the API server \
          and etcd between kubelet and controller (unless the trace was recorded through \
          them), the taint-based eviction that follows (300 s by default), nor zone-wide \
          disruption handling.",
    heartbeat: Nanos(10_000_000_000),
    heartbeat_setting: "the kubelet's lease renewal, nodeLeaseDurationSeconds x 0.25",
    defaults: &[
        value(
            "timeout",
            50.0 * S,
            "--node-monitor-grace-period, kubernetes/kubernetes pkg/controller/nodelifecycle/config/v1alpha1/defaults.go; \
             40s before v1.32, 50s since kubernetes/kubernetes PR #126287 (release note of v1.32)",
        ),
        value(
            "check",
            5.0 * S,
            "--node-monitor-period, staging/src/k8s.io/cloud-provider/config/v1alpha1/defaults.go \
             (SetDefaults_KubeCloudSharedConfiguration: NodeMonitorPeriod 5s)",
        ),
    ],
    aliases: &[
        Alias::new("node-monitor-grace-period", "timeout"),
        Alias::new("node-monitor-period", "check"),
    ],
    lever: Some(Lever {
        alias: "node-monitor-grace-period",
        lines: &["--node-monitor-grace-period={}"],
        syntax: Syntax::Duration,
        step: S,
        limits: &[advice(
            45.0 * S,
            f64::INFINITY,
            "advice, not enforced: kube-controller-manager's --help says the grace period should be greater than \
             HTTP2_PING_TIMEOUT_SECONDS + HTTP2_READ_IDLE_TIMEOUT_SECONDS (15s + 30s), or a broken kubelet \
             connection can outlive it (the reason for the 50s default, PR #126287)",
        )],
    }),
};

// ---------------------------------------------------------------------------------
// CockroachDB

const COCKROACH_CONF: &str = "cockroachdb/cockroach pkg/base/config.go @ cd2988f: defaultRangeLeaseDuration = \
                              COCKROACH_RANGE_LEASE_DURATION or 6s; NodeLivenessDurations() renews every \
                              livenessRenewalFraction = 0.5 of it";

/// CockroachDB's node liveness (epoch-based leases).
pub const COCKROACH_LIVENESS: Preset = Preset {
    name: "cockroach-liveness",
    base: &fixed::DEFINITION,
    summary: "fixed with CockroachDB's node liveness defaults (record renewed every 3s, expires 6s after)",
    doc: "Each CockroachDB node rewrites its liveness record every 3 s, extending its \
          expiration to its clock plus 6 s; the others consider it live while the \
          expiration lies ahead. Measured from the receipt, that is fixed:timeout=6s; as \
          the expiration is stamped by the sender's clock, nfd-s:delta=3s is the exact \
          form on a trace with send times. A replay captures one observer's verdict; not \
          that the record is a replicated KV write (its latency is in the trace only if \
          recorded so), gossip of the records, nor the newer store liveness of leader \
          leases (1 s heartbeat, 3 s support).",
    heartbeat: Nanos(3_000_000_000),
    heartbeat_setting: "the liveness renewal, half of COCKROACH_RANGE_LEASE_DURATION",
    defaults: &[value("timeout", 6.0 * S, COCKROACH_CONF)],
    aliases: &[
        Alias::new("COCKROACH_RANGE_LEASE_DURATION", "timeout"),
        Alias::new("range-lease-duration", "timeout"),
    ],
    lever: Some(Lever {
        alias: "COCKROACH_RANGE_LEASE_DURATION",
        lines: &["COCKROACH_RANGE_LEASE_DURATION={}  (environment of every node)"],
        syntax: Syntax::Duration,
        step: 500.0 * MS,
        limits: &[advice(
            6.0 * S,
            6.0 * S,
            "not a cluster setting but an environment variable of every node, and the renewal interval is half of \
             it (pkg/base/config.go @ cd2988f): the heartbeat changes with it, so replay a trace thinned or \
             recorded at the new half to confirm",
        )],
    }),
};

// ---------------------------------------------------------------------------------
// Redis

/// Redis Cluster's PFAIL flag, one node's verdict on a peer.
pub const REDIS_CLUSTER: Preset = Preset {
    name: "redis-cluster",
    base: &fixed::DEFINITION,
    summary: "fixed with Redis Cluster's PFAIL defaults (ping about every 1s, cluster-node-timeout 15000, checked every 100ms)",
    doc: "Every 100 ms each Redis Cluster node runs clusterCron; it pings peers (about once a \
          second per peer in a small cluster) and flags a peer PFAIL when its outstanding \
          ping and all cluster-bus traffic are older than cluster-node-timeout. A replay \
          of the pongs from one peer captures that local flag with the 100 ms check; not \
          FAIL, which needs failure reports from a majority of masters (see fdbench list), \
          nor the ping interval growing with the cluster's size.",
    heartbeat: Nanos(1_000_000_000),
    heartbeat_setting: "the cluster bus ping interval (about 1 s per peer in a small cluster)",
    defaults: &[
        value(
            "timeout",
            15.0 * S,
            "cluster-node-timeout 15000, redis/redis src/config.c line 3202 @ 7.4.1 (74b289a); PFAIL in \
             clusterCron, src/cluster_legacy.c lines 4709-4775",
        ),
        value(
            "check",
            100.0 * MS,
            "clusterCron every 100 ms: run_with_period(100) in serverCron (src/server.c), hz 10 \
             (CONFIG_DEFAULT_HZ, src/server.h line 100 @ 7.4.1)",
        ),
    ],
    aliases: &[Alias::new("cluster-node-timeout", "timeout").bare(MS)],
    lever: Some(Lever {
        alias: "cluster-node-timeout",
        lines: &["cluster-node-timeout {}", "CONFIG SET cluster-node-timeout {}"],
        syntax: Syntax::Millis,
        step: 1000.0 * MS,
        limits: &[],
    }),
};

// ---------------------------------------------------------------------------------
// What a preset cannot express

/// A production failure detector that is not a function of one link's heartbeat
/// arrivals, and what evaluating it would need.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Inexpressible {
    /// The system and mechanism.
    pub system: &'static str,
    /// What it does.
    pub does: &'static str,
    /// What an evaluation would need beyond a heartbeat trace.
    pub needs: &'static str,
}

/// The systems `fdbench list` names as not expressible by a preset.
pub const INEXPRESSIBLE: &[Inexpressible] = &[
    Inexpressible {
        system: "SWIM / Lifeguard (hashicorp/memberlist, Consul, Nomad, Serf)",
        does: "probes one random member per ProbeInterval (1s) with a direct ping (ProbeTimeout 500ms), then 3 \
               indirect pings through others; an unanswered probe makes the target suspect, the suspicion times \
               out after SuspicionMult (4) x log(N+1) x ProbeInterval unless refuted (memberlist config.go \
               DefaultLANConfig @ 1b4c746)",
        needs: "a probe schedule over a membership, round-trip outcomes on several paths per probe, the cluster size \
                and the suspicion/refutation protocol: a cluster simulation over a set of link traces",
    },
    Inexpressible {
        system: "Elasticsearch fault detection (cluster.fault_detection.follower_check / leader_check)",
        does: "checks each node every interval (1s) with a request that times out after timeout (10s), and removes \
               it after retry_count (3) consecutive failed checks (FollowersChecker.java)",
        needs: "request/response outcomes with a timeout per check (a probe trace), not receipt times of \
                unsolicited heartbeats",
    },
    Inexpressible {
        system: "Redis Cluster FAIL",
        does: "promotes PFAIL (the redis-cluster preset) to FAIL once a majority of masters report the node, each \
               report valid for cluster-node-timeout x 2, spread by gossip",
        needs: "the PFAIL timelines of every master's link to the node and the gossip delay: a quorum evaluation \
                over several traces",
    },
    Inexpressible {
        system: "Cassandra's indirect gossip",
        does: "a node learns a peer's heartbeat version from whichever gossip path brings it first, so the \
               arrivals its detector sees are the earliest over all paths",
        needs: "the traces of all links and a gossip-propagation model (who gossips to whom each second) to \
                produce the arrival process Cassandra's detector sees",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::spec::tests::{err, one};

    #[test]
    fn every_preset_is_well_formed() {
        for p in PRESETS {
            // A preset whose system checks on a tick needs the base's `check`; without
            // it the preset is refused by name, never run without its tick.
            let ticks = p.defaults.iter().any(|d| d.param == "check");
            if ticks && p.base.param("check").is_none() {
                let e = err(p.name);
                assert!(e.contains("unknown parameter 'check'"), "{e}");
                continue;
            }
            // Every default names a parameter of the base, every alias a parameter, the
            // lever an alias; every default is cited.
            assert_eq!(p.unknown_defaults().count(), 0, "{}", p.name);
            for d in p.defaults {
                assert!(!d.cite.is_empty(), "{}: {} uncited", p.name, d.param);
            }
            for a in p.aliases {
                assert!(
                    p.base.param(a.param).is_some(),
                    "{}: alias {} of {}",
                    p.name,
                    a.name,
                    a.param
                );
            }
            let l = p.lever.unwrap_or_else(|| panic!("{} has no lever", p.name));
            assert!(p.alias(l.alias).is_some(), "{}: lever {}", p.name, l.alias);
            assert!(l.lines.iter().all(|x| x.contains("{}")), "{}", p.name);
            assert!(!p.doc.is_empty() && !p.heartbeat_setting.is_empty(), "{}", p.name);
        }
    }

    #[test]
    fn akka_presets_defaults_and_aliases() {
        // [window, min_std, pause, first_estimate], knob threshold.
        let s = one("akka-remote-watch");
        assert_eq!(s.config.values(), [200.0, 100e6, 10e9, 1e9]);
        assert_eq!(s.knob_values, [10.0]);
        let s = one("akka-cluster:acceptable-heartbeat-pause=2s,max-sample-size=500,min-std-deviation=50ms");
        assert_eq!(s.config.values(), [500.0, 50e6, 2e9, 1e9]);
        assert_eq!(
            s.config.preset_label(),
            "akka-cluster(window=500,min_std=50ms,pause=2s)"
        );
        let s = one("hazelcast-phi");
        assert_eq!(s.config.values(), [200.0, 100e6, 60e9, 5e9]);
        assert_eq!(s.knob_values, [10.0]);
        assert_eq!(AKKA_CLUSTER.heartbeat, Nanos::from_secs(1));
        assert_eq!(HAZELCAST_PHI.heartbeat, Nanos::from_secs(5));
        // Hazelcast writes seconds and milliseconds as bare numbers.
        let s = one(
            "hazelcast-phi:hazelcast.max.no.heartbeat.seconds=30,hazelcast.heartbeat.phiaccrual.failuredetector.min.std.dev.millis=200",
        );
        assert_eq!(s.config.values(), [200.0, 200e6, 30e9, 5e9]);
        assert!(err("hazelcast-phi:hazelcast.max.no.heartbeat.seconds=30s").contains("bare number"));
        let e = err("akka-cluster:acceptable-heartbeat-paus=2s");
        assert!(e.contains("did you mean 'acceptable-heartbeat-pause'?"), "{e}");
    }

    #[test]
    fn timeout_presets_defaults_and_aliases() {
        let knob = |t: &str| one(t).knob_values;
        assert_eq!(knob("pekko-multi-dc"), [13e9]);
        // Pekko's pause adds to the 3 s interval: 20 s + 3 s.
        assert_eq!(knob("pekko-multi-dc:acceptable-heartbeat-pause=20s"), [23e9]);
        assert_eq!(knob("kafka-consumer"), [45e9]);
        assert_eq!(knob("kafka-consumer:session.timeout.ms=30000"), [30e9]);
        assert_eq!(knob("kafka-broker"), [9e9]);
        assert_eq!(knob("kafka-broker:broker.session.timeout.ms=12000"), [12e9]);
        assert_eq!(knob("cockroach-liveness"), [6e9]);
        assert_eq!(knob("cockroach-liveness:COCKROACH_RANGE_LEASE_DURATION=9s"), [9e9]);
        assert_eq!(knob("cassandra:phi_convict_threshold=10"), [10.0]);
        assert_eq!(KAFKA_CONSUMER.heartbeat, Nanos::from_secs(3));
        assert_eq!(KAFKA_BROKER.heartbeat, Nanos::from_secs(2));
        assert_eq!(COCKROACH_LIVENESS.heartbeat, Nanos::from_secs(3));
        assert_eq!(PEKKO_MULTI_DC.heartbeat, Nanos::from_secs(3));
        let e = err("kafka-consumer:session.timeout.ms=30s");
        assert!(e.contains("bare number"), "{e}");
        let e = err("kafka-consumer:session.timeout=30000");
        assert!(e.contains("did you mean 'session.timeout.ms'?"), "{e}");
        // A pause below zero is no timeout.
        let e = err("pekko-multi-dc:acceptable-heartbeat-pause=-4s");
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn config_lines_in_the_systems_syntax() {
        let line = |p: &Preset, v: f64| p.lever.unwrap().config(v);
        assert_eq!(
            line(&AKKA_CLUSTER, 4e9),
            [
                "akka.cluster.failure-detector.acceptable-heartbeat-pause = 4s",
                "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 4s"
            ]
        );
        assert_eq!(
            line(&AKKA_CLUSTER, 4.5e9)[0],
            "akka.cluster.failure-detector.acceptable-heartbeat-pause = 4500ms"
        );
        assert_eq!(line(&CASSANDRA, 10.0), ["phi_convict_threshold: 10"]);
        assert_eq!(line(&CASSANDRA, 8.7), ["phi_convict_threshold: 8.7"]);
        assert_eq!(line(&KUBERNETES_NODE, 35e9), ["--node-monitor-grace-period=35s"]);
        assert_eq!(
            line(&ETCD, 1.5e9),
            ["--election-timeout=1500", "election-timeout: 1500"]
        );
        assert_eq!(line(&KAFKA_CONSUMER, 30e9), ["session.timeout.ms=30000"]);
        assert_eq!(line(&HAZELCAST, 30e9)[1], "-Dhazelcast.max.no.heartbeat.seconds=30");
        assert_eq!(
            line(&REDIS_CLUSTER, 30e9),
            ["cluster-node-timeout 30000", "CONFIG SET cluster-node-timeout 30000"]
        );
    }

    #[test]
    fn limits_the_systems_enforce() {
        let crossed = |p: &Preset, v: f64| p.lever.unwrap().crossed(v);
        // etcd: at least 5 heartbeats (500 ms), at most 50 s.
        assert!(crossed(&ETCD, 500e6).is_empty());
        assert!(crossed(&ETCD, 400e6)[0].contains("at least as 5 times"));
        assert!(crossed(&ETCD, 50_100e6)[0].contains("too long"));
        // Kafka: the broker's [6000, 1800000] ms and the client's heartbeat < session.
        assert!(crossed(&KAFKA_CONSUMER, 6e9).is_empty());
        let low = crossed(&KAFKA_CONSUMER, 3e9);
        assert_eq!(low.len(), 2, "{low:?}");
        assert!(crossed(&KAFKA_CONSUMER, 1_801e9)[0].contains("group.max.session.timeout.ms"));
        // ZooKeeper clamps to 2..20 ticks of 2 s.
        assert!(crossed(&ZOOKEEPER_SESSION, 40e9).is_empty());
        assert!(crossed(&ZOOKEEPER_SESSION, 41e9)[0].contains("maxSessionTimeout"));
        assert!(crossed(&ZOOKEEPER_SESSION, 3e9)[0].contains("clamps"));
        // Cassandra: 5..16.
        assert!(crossed(&CASSANDRA, 16.0).is_empty());
        assert!(crossed(&CASSANDRA, 16.1)[0].contains("between 5 and 16"));
        assert!(crossed(&CASSANDRA, 4.9)[0].contains("between 5 and 16"));
    }

    #[test]
    fn a_preset_on_a_trace_of_another_interval() {
        let e = AKKA_CLUSTER
            .check_interval(Nanos::from_millis(100), "runs/trace.csv")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "akka-cluster heartbeats every 1s (akka.cluster.failure-detector.heartbeat-interval), but runs/trace.csv \
             has a nominal interval of 100ms; keep one heartbeat in 10 with \
             `fdbench resample runs/trace.csv --interval 1s -o runs/trace-1s.csv` and run on that"
        );
        let e = KUBERNETES_NODE
            .check_interval(Nanos::from_millis(3000), "t.csv.gz")
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(
                "10s is not a whole multiple of 3s, so thinning cannot make it; record the trace again with a \
                 heartbeat every 10s (`fdbench record ... --interval 10s`)"
            ),
            "{e}"
        );
        // A measured spacing within 0.1 % of a fraction of the heartbeat: the command
        // that states the nominal interval and thins; one further off is not a fraction.
        let e = AKKA_CLUSTER
            .check_interval(Nanos(100_000_006), "n7.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(
                "n7.csv has a nominal interval of 100000.006us; 100000.006us is within 0.1 % of 100ms; if that is \
                 the trace's nominal interval (a sender's clock drifts), say so and keep one heartbeat in 10 with \
                 `fdbench resample n7.csv --interval 1s -o n7-1s.csv --trace-interval 100ms` and run on that"
            ),
            "{e}"
        );
        let e = AKKA_CLUSTER
            .check_interval(Nanos(999_500_000), "t.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("999.5ms is within 0.1 % of 1s; if that") && e.contains("say so and keep every heartbeat with `fdbench resample t.csv --interval 1s -o t-1s.csv --trace-interval 1s`"), "{e}");
        for far in [Nanos(100_200_000), Nanos(300_000_000), Nanos(1_001_100_000)] {
            let e = AKKA_CLUSTER.check_interval(far, "t.csv").unwrap_err().to_string();
            assert!(e.contains("so thinning cannot make it"), "{far}: {e}");
        }
        assert!(AKKA_CLUSTER.check_interval(Nanos::from_secs(1), "t.csv").is_ok());
    }
}

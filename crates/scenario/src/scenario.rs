//! The scenario file, as written: plain serde types that mirror the JSON one to one.
//!
//! Every field has the default documented in DESIGN.md, unknown fields are errors, and
//! nothing here is checked beyond its JSON type: [`crate::validate`] turns a [`Scenario`]
//! into a [`crate::Config`] and reports every bad value with its path.

use serde::{Deserialize, Serialize};

use crate::Duration;

fn d(text: &str) -> Duration {
    text.parse().expect("default durations are valid")
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub duration: Duration,
    pub warmup: Duration,
    /// Width of a time-series bucket; `"0s"` lets the engine pick (at most ~2,000 buckets).
    pub bucket: Duration,
    pub limits: Limits,
    pub workload: Workload,
    pub app: App,
    pub database: Database,
    pub faults: Vec<Fault>,
    pub alerts: Vec<AlertRule>,
    /// A replay's clock and story (left out when empty).
    #[serde(skip_serializing_if = "Timeline::is_empty")]
    pub timeline: Timeline,
}

/// A replay's wall clock and annotated moments: charts show real times from `start` and
/// mark each moment. The engine ignores it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeline {
    /// The UTC time of the run's time zero, `"2023-08-05T14:00:00Z"`; empty: no clock.
    pub start: String,
    pub moments: Vec<Moment>,
}

impl Timeline {
    pub fn is_empty(&self) -> bool {
        self.start.is_empty() && self.moments.is_empty()
    }
}

/// Something that happened at `at`: shown on every chart and in the timeline's captions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moment {
    pub at: Duration,
    pub kind: MomentKind,
    /// A few words, shown on the charts.
    pub label: String,
    /// The caption: what happened and why it matters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MomentKind {
    Detection,
    Action,
    Escalation,
    Fix,
    Resolution,
    Note,
}

impl MomentKind {
    /// The name as the file writes it: `detection`, `fix`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            MomentKind::Detection => "detection",
            MomentKind::Action => "action",
            MomentKind::Escalation => "escalation",
            MomentKind::Fix => "fix",
            MomentKind::Resolution => "resolution",
            MomentKind::Note => "note",
        }
    }
}

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario {
            name: String::new(),
            description: String::new(),
            seed: 1,
            duration: d("10m"),
            warmup: Duration::ZERO,
            bucket: Duration::ZERO,
            limits: Limits::default(),
            workload: Workload::default(),
            app: App::default(),
            database: Database::default(),
            faults: Vec::new(),
            alerts: Vec::new(),
            timeline: Timeline::default(),
        }
    }
}

/// Bounds that keep a run finite in time and memory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// A run that would process more events stops with an error.
    pub max_events: u64,
    /// A run with more requests in flight at once (an overload with no timeout) stops with an error.
    pub max_in_flight: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_events: 100_000_000,
            max_in_flight: 1_000_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workload {
    pub arrivals: Arrivals,
    pub transaction: Transaction,
}

impl Default for Workload {
    fn default() -> Workload {
        Workload {
            arrivals: Arrivals::Poisson { rate_per_s: 100.0 },
            transaction: Transaction::default(),
        }
    }
}

/// How client requests arrive. Rates are per second, over the whole fleet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Arrivals {
    /// Exponential gaps between requests.
    Poisson { rate_per_s: f64 },
    /// Evenly spaced requests.
    Constant { rate_per_s: f64 },
    /// Poisson at `burst_rate_per_s` for `on`, then at `rate_per_s` for `off`, repeating.
    Bursty {
        rate_per_s: f64,
        burst_rate_per_s: f64,
        on: Duration,
        off: Duration,
    },
    /// Poisson whose rate steps to each `rate_per_s` at its `at` (rate 0 before the first step).
    Piecewise { steps: Vec<RateStep> },
}

impl Arrivals {
    /// The same arrival process with every rate times `factor` (traffic headroom: "size for
    /// 1.5x today's load").
    pub fn scaled(&self, factor: f64) -> Arrivals {
        match self {
            Arrivals::Poisson { rate_per_s } => Arrivals::Poisson {
                rate_per_s: rate_per_s * factor,
            },
            Arrivals::Constant { rate_per_s } => Arrivals::Constant {
                rate_per_s: rate_per_s * factor,
            },
            Arrivals::Bursty {
                rate_per_s,
                burst_rate_per_s,
                on,
                off,
            } => Arrivals::Bursty {
                rate_per_s: rate_per_s * factor,
                burst_rate_per_s: burst_rate_per_s * factor,
                on: *on,
                off: *off,
            },
            Arrivals::Piecewise { steps } => Arrivals::Piecewise {
                steps: steps
                    .iter()
                    .map(|s| RateStep {
                        at: s.at,
                        rate_per_s: s.rate_per_s * factor,
                    })
                    .collect(),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateStep {
    pub at: Duration,
    pub rate_per_s: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Transaction {
    /// Queries run while the connection is held.
    pub queries: u32,
    /// Service time of one query on an idle database.
    pub query_time: Distribution,
    /// Application work between two queries, still holding the connection.
    pub think_time: Distribution,
}

impl Default for Transaction {
    fn default() -> Transaction {
        Transaction {
            queries: 1,
            query_time: Distribution::Exponential { mean: d("10ms") },
            think_time: Distribution::Constant {
                value: Duration::ZERO,
            },
        }
    }
}

/// A distribution of durations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    Constant {
        value: Duration,
    },
    Exponential {
        mean: Duration,
    },
    Uniform {
        min: Duration,
        max: Duration,
    },
    /// Log-normal given by its median and 99th percentile.
    Lognormal {
        median: Duration,
        p99: Duration,
    },
    Gamma {
        mean: Duration,
        shape: f64,
    },
    Pareto {
        min: Duration,
        alpha: f64,
    },
    /// Each draw is one of `values`, equally likely.
    Empirical {
        values: Vec<Duration>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct App {
    pub instances: u32,
    pub load_balancer: LoadBalancer,
    /// The client gives up on an attempt after this long; `"0s"` = never.
    pub request_timeout: Duration,
    pub retries: Retries,
    pub pool: Pool,
}

impl Default for App {
    fn default() -> App {
        App {
            instances: 1,
            load_balancer: LoadBalancer::RoundRobin,
            request_timeout: d("30s"),
            retries: Retries::default(),
            pool: Pool::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancer {
    RoundRobin,
    Random,
    /// The instance with the fewest requests holding or waiting for a connection.
    LeastBusy,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retries {
    /// Extra attempts after the first fails.
    pub max: u32,
    /// Delay before the first retry.
    pub backoff: Duration,
    /// Each further retry waits this many times longer.
    pub multiplier: f64,
    /// Upper bound on one delay; `"0s"` = none.
    pub max_backoff: Duration,
    pub jitter: Jitter,
}

impl Default for Retries {
    fn default() -> Retries {
        Retries {
            max: 0,
            backoff: d("100ms"),
            multiplier: 2.0,
            max_backoff: Duration::ZERO,
            jitter: Jitter::Full,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Exactly the computed delay.
    None,
    /// Uniform between 0 and the delay.
    Full,
    /// Half the delay plus uniform up to the other half.
    Equal,
}

/// One instance's connection pool, with HikariCP's names and meanings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pool {
    pub max_size: u32,
    /// Defaults to `max_size` (a fixed-size pool), as in HikariCP.
    pub min_idle: Option<u32>,
    pub connection_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_lifetime: Duration,
    pub connect_time: Distribution,
    pub leak_detection_threshold: Duration,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool {
            max_size: 10,
            min_idle: None,
            connection_timeout: d("30s"),
            idle_timeout: d("10m"),
            max_lifetime: d("30m"),
            connect_time: Distribution::Constant {
                value: Duration::ZERO,
            },
            leak_detection_threshold: Duration::ZERO,
        }
    }
}

/// New pool settings for a `reconfigure`: fields left out keep their value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_idle: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_timeout: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_time: Option<Distribution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leak_detection_threshold: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Database {
    pub max_connections: u32,
    /// Slots kept for superusers (PostgreSQL's `superuser_reserved_connections`).
    pub reserved_connections: u32,
    pub cores: u32,
    pub contention: Contention,
    /// A query running longer than this is cancelled; `"0s"` = never.
    pub statement_timeout: Duration,
    /// Added to every query and every connection opening.
    pub network_rtt: Duration,
}

impl Default for Database {
    fn default() -> Database {
        Database {
            max_connections: 100,
            reserved_connections: 0,
            cores: 64,
            contention: Contention::default(),
            statement_timeout: Duration::ZERO,
            network_rtt: Duration::ZERO,
        }
    }
}

/// Universal Scalability Law coefficients: `sigma` (contention) and `kappa` (coherency).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Contention {
    pub sigma: f64,
    pub kappa: f64,
}

/// A scheduled fault or operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The database is unreachable: open connections break, queries and openings fail.
    DbOutage { at: Duration, duration: Duration },
    /// Queries that start in the window take `factor` times longer (`duration` `"0s"` = to the end).
    SlowQueries {
        at: Duration,
        duration: Duration,
        factor: f64,
    },
    /// The arrival rate (outside bursts) becomes `rate_per_s`.
    TrafficChange { at: Duration, rate_per_s: f64 },
    /// Instances restart `batch` at a time (Kubernetes' `maxUnavailable`): each batch is
    /// down for `down`, then `gap` passes before the next batch goes down.
    RollingRestart {
        at: Duration,
        #[serde(default = "default_down")]
        down: Duration,
        #[serde(default)]
        gap: Duration,
        #[serde(default = "default_batch")]
        batch: u32,
    },
    /// New pool settings; applied live, or to each instance as it restarts.
    Reconfigure {
        at: Duration,
        pool: PoolPatch,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rolling_restart: Option<Restart>,
    },
    /// The fleet grows or shrinks to `instances`: new instances start with empty pools and
    /// the pool settings in force; removed ones stop like a restart that never comes back.
    Scale { at: Duration, instances: u32 },
    /// A fraction of requests never return their connection (`duration` `"0s"` = to the end).
    ConnectionLeak {
        at: Duration,
        fraction: f64,
        #[serde(default)]
        duration: Duration,
    },
}

impl Fault {
    /// When it starts.
    pub fn at(&self) -> Duration {
        match self {
            Fault::DbOutage { at, .. }
            | Fault::SlowQueries { at, .. }
            | Fault::TrafficChange { at, .. }
            | Fault::RollingRestart { at, .. }
            | Fault::Reconfigure { at, .. }
            | Fault::Scale { at, .. }
            | Fault::ConnectionLeak { at, .. } => *at,
        }
    }

    /// Something operators do (`reconfigure`, `scale`, `rolling_restart`), as opposed to
    /// something that happens to the system (an outage, slow queries, traffic, a leak).
    pub fn is_operation(&self) -> bool {
        matches!(
            self,
            Fault::Reconfigure { .. } | Fault::Scale { .. } | Fault::RollingRestart { .. }
        )
    }
}

fn default_down() -> Duration {
    d("30s")
}

fn default_batch() -> u32 {
    1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restart {
    #[serde(default = "default_down")]
    pub down: Duration,
    #[serde(default)]
    pub gap: Duration,
    #[serde(default = "default_batch")]
    pub batch: u32,
}

/// "`metric` above `above` for `for`", evaluated on the time series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub name: String,
    pub metric: Metric,
    pub above: f64,
    #[serde(rename = "for", default)]
    pub for_: Duration,
}

/// Metrics named as operators see them (HikariCP/Micrometer, the database, HTTP).
/// Gauges are fleet sums averaged over a bucket; `_per_s` are rates in the bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    HikaricpConnectionsActive,
    HikaricpConnectionsIdle,
    HikaricpConnectionsPending,
    HikaricpConnections,
    /// Pool acquisition timeouts per second.
    HikaricpConnectionsTimeoutTotal,
    /// 99th percentile of connection acquire time in the bucket, ms.
    HikaricpConnectionsAcquireP99Ms,
    /// Open database connections (PostgreSQL `pg_stat_activity` count).
    DbConnections,
    DbRunningQueries,
    /// Busy cores over cores, 0 to 1.
    DbCpuUtilization,
    /// Refused or failed connection openings per second.
    DbConnectionErrorsPerS,
    HttpRequestsPerS,
    HttpFailuresPerS,
    /// Failed requests over finished requests in the bucket, 0 to 1.
    HttpFailureRatio,
    HttpLatencyP99Ms,
    NetworkRttMs,
}

impl Metric {
    pub const ALL: [Metric; 15] = [
        Metric::HikaricpConnectionsActive,
        Metric::HikaricpConnectionsIdle,
        Metric::HikaricpConnectionsPending,
        Metric::HikaricpConnections,
        Metric::HikaricpConnectionsTimeoutTotal,
        Metric::HikaricpConnectionsAcquireP99Ms,
        Metric::DbConnections,
        Metric::DbRunningQueries,
        Metric::DbCpuUtilization,
        Metric::DbConnectionErrorsPerS,
        Metric::HttpRequestsPerS,
        Metric::HttpFailuresPerS,
        Metric::HttpFailureRatio,
        Metric::HttpLatencyP99Ms,
        Metric::NetworkRttMs,
    ];
}

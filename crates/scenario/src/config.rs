//! The validated, resolved form of a scenario: what the engine runs.
//!
//! Made only by [`crate::Scenario::validate`], so every value here is in range: the engine
//! never re-checks a field and running a `Config` cannot fail for a bad setting.

use crate::scenario::{AlertRule, Jitter, LoadBalancer, Scenario};

/// HikariCP's housekeeper runs every 30 s per pool (idle timeout, refill).
pub const HOUSEKEEPING_US: u64 = 30_000_000;
/// The connection creator's backoff after a failed opening: doubling from the start to the
/// cap. Here, not in the engine, because the work estimate counts the creator's retries too.
pub const CREATOR_BACKOFF_START_US: u64 = 10_000;
pub const CREATOR_BACKOFF_MAX_US: u64 = 5_000_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The scenario as written (after defaults), for echoing and sharing.
    pub scenario: Scenario,
    pub seed: u64,
    pub duration_us: u64,
    pub warmup_us: u64,
    pub bucket_us: u64,
    pub max_events: u64,
    pub max_in_flight: u32,
    pub arrivals: ArrivalConfig,
    pub transaction: TransactionConfig,
    pub app: AppConfig,
    pub pool: PoolConfig,
    pub db: DbConfig,
    /// Faults and operations in time order (traffic changes are in `arrivals.steps`).
    pub faults: Vec<FaultConfig>,
    /// For each of `faults`, its index in the scenario's `faults` list.
    pub fault_sources: Vec<u32>,
    pub alerts: Vec<AlertRule>,
}

impl Config {
    /// Instances the run ever has: the initial fleet or the largest `scale`.
    pub fn instance_slots(&self) -> u32 {
        self.faults
            .iter()
            .filter_map(|f| match f {
                FaultConfig::Scale { instances, .. } => Some(*instances),
                _ => None,
            })
            .fold(self.app.instances, u32::max)
    }

    /// Number of time-series buckets (the last may be shorter than `bucket_us`).
    pub fn bucket_count(&self) -> usize {
        self.duration_us.div_ceil(self.bucket_us) as usize
    }
}

/// A distribution of durations in microseconds, with parameters checked and derived.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Constant {
        value_us: u64,
    },
    Exponential {
        mean_us: f64,
    },
    Uniform {
        min_us: u64,
        max_us: u64,
    },
    /// `ln X ~ Normal(mu, sigma)`, X in microseconds.
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Gamma {
        shape: f64,
        scale_us: f64,
    },
    Pareto {
        min_us: f64,
        alpha: f64,
    },
    Empirical {
        values_us: Vec<u64>,
    },
}

impl Dist {
    /// The distribution's mean in microseconds (finite: validation rejects the others).
    pub fn mean_us(&self) -> f64 {
        match self {
            Dist::Constant { value_us } => *value_us as f64,
            Dist::Exponential { mean_us } => *mean_us,
            Dist::Uniform { min_us, max_us } => (*min_us as f64 + *max_us as f64) / 2.0,
            Dist::Lognormal { mu, sigma } => libm::exp(mu + sigma * sigma / 2.0),
            Dist::Gamma { shape, scale_us } => shape * scale_us,
            Dist::Pareto { min_us, alpha } => alpha * min_us / (alpha - 1.0),
            Dist::Empirical { values_us } => {
                values_us.iter().map(|&v| v as f64).sum::<f64>() / values_us.len() as f64
            }
        }
    }

    pub fn is_zero(&self) -> bool {
        matches!(self, Dist::Constant { value_us: 0 })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ArrivalProcess {
    Poisson,
    Constant,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ArrivalConfig {
    pub process: ArrivalProcess,
    /// Rate at time zero (outside bursts), per second.
    pub initial_rate_per_s: f64,
    /// Rate changes, sorted by time (piecewise steps and `traffic_change` faults merged).
    pub steps: Vec<(u64, f64)>,
    pub bursts: Option<Bursts>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bursts {
    pub rate_per_s: f64,
    pub on_us: u64,
    pub off_us: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TransactionConfig {
    pub queries: u32,
    pub query_time: Dist,
    pub think_time: Dist,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppConfig {
    pub instances: u32,
    pub load_balancer: LoadBalancer,
    pub request_timeout_us: u64,
    pub retries: RetryConfig,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RetryConfig {
    pub max: u32,
    pub backoff_us: u64,
    pub multiplier: f64,
    pub max_backoff_us: u64,
    pub jitter: Jitter,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PoolConfig {
    pub max_size: u32,
    pub min_idle: u32,
    pub connection_timeout_us: u64,
    pub idle_timeout_us: u64,
    pub max_lifetime_us: u64,
    pub connect_time: Dist,
    pub leak_detection_us: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DbConfig {
    pub max_connections: u32,
    pub reserved_connections: u32,
    pub cores: u32,
    pub sigma: f64,
    pub kappa: f64,
    pub statement_timeout_us: u64,
    pub network_rtt_us: u64,
}

impl DbConfig {
    /// Slots open to the application: `max_connections - reserved_connections`.
    pub fn usable_connections(&self) -> u32 {
        self.max_connections - self.reserved_connections
    }
}

/// A rolling restart: `batch` instances at a time, each batch down for `down_us`, then
/// `gap_us` before the next batch goes down.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RestartConfig {
    pub down_us: u64,
    pub gap_us: u64,
    pub batch: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultConfig {
    DbOutage {
        at_us: u64,
        duration_us: u64,
    },
    SlowQueries {
        at_us: u64,
        duration_us: u64,
        factor: f64,
    },
    RollingRestart {
        at_us: u64,
        restart: RestartConfig,
    },
    /// `pool` is the whole new pool configuration (the patch applied to the settings in
    /// force in the scenario, earlier reconfigures included).
    Reconfigure {
        at_us: u64,
        pool: PoolConfig,
        restart: Option<RestartConfig>,
    },
    ConnectionLeak {
        at_us: u64,
        duration_us: u64,
        fraction: f64,
    },
    /// The fleet becomes `instances` instances (instance `i` serves while `i < instances`).
    Scale {
        at_us: u64,
        instances: u32,
    },
}

impl FaultConfig {
    /// The `kind` the scenario file writes for it.
    pub fn kind(&self) -> &'static str {
        match self {
            FaultConfig::DbOutage { .. } => "db_outage",
            FaultConfig::SlowQueries { .. } => "slow_queries",
            FaultConfig::RollingRestart { .. } => "rolling_restart",
            FaultConfig::Reconfigure { .. } => "reconfigure",
            FaultConfig::ConnectionLeak { .. } => "connection_leak",
            FaultConfig::Scale { .. } => "scale",
        }
    }

    /// When it starts, µs.
    pub fn at_us(&self) -> u64 {
        match self {
            FaultConfig::DbOutage { at_us, .. }
            | FaultConfig::SlowQueries { at_us, .. }
            | FaultConfig::RollingRestart { at_us, .. }
            | FaultConfig::Reconfigure { at_us, .. }
            | FaultConfig::Scale { at_us, .. }
            | FaultConfig::ConnectionLeak { at_us, .. } => *at_us,
        }
    }
}

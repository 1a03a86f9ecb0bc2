//! The result of a run: plain data with public fields, the one thing that crosses
//! boundaries (the CLI prints it, the web worker posts it, the page draws it).
//!
//! `Summary` is DESIGN.md's `--format json` contract (a superset of it); `Series` is the
//! per-bucket time series, stored column-wise.

use serde::{Deserialize, Serialize};

pub use crate::cause::{ByCause, Cause};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub summary: Summary,
    pub series: Series,
    pub distributions: Distributions,
    /// The scenario's faults and operations as the engine applied them.
    pub operations: Operations,
}

/// What happened to the fleet and the database, as applied (not as scheduled in the
/// scenario): the page and the CLI draw restart windows and configuration changes from
/// these, never from the raw fault list. Each list holds at most [`Operations::LIMIT`]
/// entries; `dropped` counts those past it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Operations {
    /// Every fault and operation of the scenario, from when it started to when it ended.
    pub faults: Vec<FaultWindow>,
    /// Each batch of a rolling restart (its own, or a reconfigure's).
    pub restarts: Vec<RestartBatch>,
    /// Pool settings as they reached each instance.
    pub reconfigures: Vec<Reconfigured>,
    /// Changes of the fleet's size.
    pub scales: Vec<Scaled>,
    pub dropped: u64,
}

impl Operations {
    pub const LIMIT: usize = 100_000;

    /// Entries recorded or dropped: grows whenever something is applied.
    pub fn len(&self) -> u64 {
        (self.faults.len() + self.restarts.len() + self.reconfigures.len() + self.scales.len())
            as u64
            + self.dropped
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One fault or operation over the time it was in effect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultWindow {
    /// Index in the scenario's `faults`.
    pub fault: u32,
    /// The fault's `kind` as the scenario writes it (`db_outage`, `rolling_restart`...).
    pub kind: String,
    pub from_s: f64,
    /// When it ended: an outage's end, a roll-out's last instance back; `null` when it
    /// lasted to the end of the run.
    pub to_s: Option<f64>,
}

/// Instances that went down together in a rolling restart, and when they came back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestartBatch {
    pub fault: u32,
    pub instances: Vec<u32>,
    pub down_s: f64,
    /// May be past the run's end, when the run ended first.
    pub up_s: f64,
}

/// Pool settings that took effect on one instance (live, or as it came back up).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reconfigured {
    pub fault: u32,
    pub instance: u32,
    pub at_s: f64,
    pub max_size: u32,
    pub min_idle: u32,
    pub connection_timeout_ms: f64,
}

/// The fleet went from `from` instances in service to `to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaled {
    pub fault: u32,
    pub at_s: f64,
    pub from: u32,
    pub to: u32,
}

/// Whole-run distributions of requests that arrived after the warmup, for histograms and
/// CDFs: non-empty bins in increasing order, each at most ~3% of its values wide.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Distributions {
    /// Pool wait of successful acquisitions.
    pub pool_wait: Vec<Bin>,
    /// End-to-end latency of successful requests.
    pub latency: Vec<Bin>,
}

/// `count` values between `low_ms` and `high_ms`, both included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    pub low_ms: f64,
    pub high_ms: f64,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    pub seed: u64,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub requests: Requests,
    /// Waits of successful acquisitions (what queueing theory's served customers wait).
    pub pool_wait_ms: WaitStats,
    /// End-to-end latency of successful requests.
    pub latency_ms: LatencyStats,
    /// Waits of acquisitions that gave up at `connection_timeout`.
    pub pool_wait_timed_out_ms: LatencyStats,
    /// Time from arrival to failure of failed requests (their last attempt's end).
    pub latency_failed_ms: LatencyStats,
    pub pool: PoolStats,
    pub db: DbStats,
    pub alerts: Vec<AlertReport>,
    pub instances: Vec<InstanceStats>,
    pub theory: Theory,
    /// Events the engine processed (including timers found stale when they came due).
    pub events: u64,
    /// FNV-1a 64 of the summary above, the series and the distributions, as hex: equal
    /// digests, equal runs.
    pub digest: String,
}

/// Counts of requests that arrived after the warmup. `arrived = succeeded + failed + in_flight`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    pub arrived: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub in_flight: u64,
    /// Extra attempts (an attempt after the first of the same request).
    pub retries: u64,
    pub failures: Failures,
    /// Attempts the client had given up on that the server finished anyway (wasted work).
    pub abandoned_attempts: u64,
}

/// Failed requests by the cause of their last attempt; [`Cause::meaning`] says what each is.
pub type Failures = ByCause<u64>;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WaitStats {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    /// Share of successful acquisitions that waited longer than zero.
    pub waited_fraction: f64,
    /// Successful acquisitions measured.
    pub count: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    /// Values measured (requests or acquisitions, as the field's name says).
    pub count: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolStats {
    /// Time-average of connections in use over the pools' `max_size`, fleet-wide.
    pub utilization: f64,
    pub peak_active: u64,
    pub peak_pending: u64,
    pub opened: u64,
    pub closed: u64,
    /// Acquisitions that hit `connection_timeout` (`hikaricp_connections_timeout_total`).
    pub timeouts: u64,
    /// Connections held past `leak_detection_threshold` (HikariCP's leak reports).
    pub leaks_reported: u64,
    /// Connections never returned (a `connection_leak` fault).
    pub leaked: u64,
    pub mean_active: f64,
    pub mean_idle: f64,
    pub mean_pending: f64,
    pub mean_total: f64,
    /// Mean time a connection is held per acquisition, ms (for Little's law).
    pub mean_hold_ms: f64,
    /// Successful acquisitions per second.
    pub acquisitions_per_s: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DbStats {
    /// `max_connections - reserved_connections`.
    pub usable_connections: u64,
    pub peak_connections: u64,
    pub mean_connections: f64,
    /// Openings refused because every usable slot was taken ("too many clients").
    pub refused_connections: u64,
    /// Openings that failed because the database was unreachable.
    pub failed_connections: u64,
    pub mean_running_queries: f64,
    pub peak_running_queries: u64,
    /// Mean busy cores over cores.
    pub cpu_utilization: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStats {
    pub instance: u32,
    pub succeeded: u64,
    pub failed: u64,
    pub pool_timeouts: u64,
    pub mean_connections: f64,
    pub mean_active: f64,
    pub mean_pending: f64,
}

/// One alert rule's history over the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertReport {
    pub name: String,
    pub metric: String,
    pub fired_at_s: Option<f64>,
    /// When the first firing cleared (`null`: still firing at the end, or never fired).
    pub cleared_at_s: Option<f64>,
    pub firings: u32,
    pub firing_s: f64,
}

/// Queueing theory beside the measurement.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Theory {
    /// Arrival rate at time zero, per second.
    pub arrival_rate_per_s: f64,
    /// Mean connection hold time on an idle database, ms.
    pub mean_hold_ms: f64,
    /// Little's law: arrival rate × hold time, the connections busy on average.
    pub offered_load_erlangs: f64,
    /// `instances × max_size`: what the fleet's pools ask of the database.
    pub pool_capacity: u64,
    pub db_usable_connections: u64,
    /// The pools together want more connections than the database allows.
    pub oversubscribed: bool,
    /// Erlang C for one instance's pool (M/M/c, no timeout); `null` when unstable.
    pub erlang_c: Option<ErlangC>,
    /// M/M/c with the fixed `connection_timeout` as patience; `null` when there is none.
    pub with_timeout: Option<WithTimeout>,
    /// Concurrency at which the database's throughput peaks (Universal Scalability Law).
    pub usl_peak_concurrency: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErlangC {
    pub wait_probability: f64,
    pub mean_wait_ms: f64,
    pub p99_wait_ms: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WithTimeout {
    pub timeout_probability: f64,
    pub mean_wait_served_ms: f64,
}

/// Per-bucket time series, column-wise: element `i` covers
/// `[i * bucket_s, min((i + 1) * bucket_s, duration))`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub bucket_s: f64,
    pub arrivals: Vec<u32>,
    pub succeeded: Vec<u32>,
    /// Requests that failed in the bucket, by cause.
    pub failed: ByCause<Vec<u32>>,
    pub retries: Vec<u32>,
    pub pool_timeouts: Vec<u32>,
    pub db_connection_errors: Vec<u32>,
    /// Connections reported by leak detection (HikariCP's "Connection leak detection
    /// triggered" warning), counted when the report is made.
    pub leak_reports: Vec<u32>,
    pub pool_active: Gauge,
    pub pool_idle: Gauge,
    pub pool_pending: Gauge,
    pub pool_total: Gauge,
    /// `hikaricp_connections_max` summed over the instances up: their configured `max_size`
    /// (the pools' capacity; it follows restarts, scaling and reconfigures).
    pub pool_max: Gauge,
    /// `hikaricp_connections_min` summed over the instances up: their `min_idle`.
    pub pool_min: Gauge,
    /// App instances up (in service and not restarting).
    pub instances_up: Gauge,
    /// Connections the database allows the pools (`max_connections - reserved_connections`).
    pub db_usable: Vec<u32>,
    pub db_connections: Gauge,
    pub db_running: Gauge,
    /// Mean busy cores over cores, 0 to 1.
    pub db_cpu: Vec<f32>,
    pub latency_p50_ms: Vec<Option<f32>>,
    pub latency_p95_ms: Vec<Option<f32>>,
    pub latency_p99_ms: Vec<Option<f32>>,
    /// Percentiles of successful acquisitions' waits.
    pub pool_wait_p50_ms: Vec<Option<f32>>,
    pub pool_wait_p99_ms: Vec<Option<f32>>,
    /// p99 of every acquisition that ended in the bucket: granted, or given up at
    /// `connection_timeout` (those are the 30 s waits of an exhausted pool).
    pub pool_wait_all_p99_ms: Vec<Option<f32>>,
    /// p99 of the time from arrival to failure of the requests that failed in the bucket.
    pub latency_failed_p99_ms: Vec<Option<f32>>,
    /// One per app instance.
    pub instances: Vec<InstanceSeries>,
}

/// A gauge's time-weighted mean and maximum in each bucket.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Gauge {
    pub mean: Vec<f32>,
    pub max: Vec<u32>,
}

/// One instance's pool gauges, time-weighted means per bucket.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceSeries {
    pub active: Vec<f32>,
    pub idle: Vec<f32>,
    pub pending: Vec<f32>,
    /// Connections held (idle + active).
    pub total: Vec<f32>,
    /// The instance's `max_size` in force, its peak in the bucket (0 while it is down).
    pub max: Vec<u32>,
}

impl Series {
    pub fn len(&self) -> usize {
        self.arrivals.len()
    }
    pub fn is_empty(&self) -> bool {
        self.arrivals.is_empty()
    }

    /// Requests that failed in bucket `i`, whatever the cause (0 past the end).
    pub fn failed(&self, i: usize) -> u32 {
        self.failed
            .0
            .iter()
            .map(|v| v.get(i).copied().unwrap_or(0))
            .sum()
    }

    /// Buckets `from..` as a series of their own (empty when `from` is past the end): what
    /// a run in progress sends on since its last update.
    pub fn tail(&self, from: usize) -> Series {
        let mut out = Series {
            bucket_s: self.bucket_s,
            ..Series::default()
        };
        self.each_column(&mut out, |column| column.copy_from(from));
        out
    }

    /// Appends `more`'s buckets (a [`Series::tail`] of the same run) after this series' own.
    pub fn append(&mut self, more: &Series) {
        self.bucket_s = more.bucket_s;
        more.each_column(self, |column| column.move_to_end());
    }

    /// Calls `f` on each column of `self` paired with the same column of `other`; instances
    /// missing from `other` are added. Destructured field by field, so that a column added
    /// to `Series` fails to compile here until it is paired.
    fn each_column(&self, other: &mut Series, mut f: impl FnMut(ColumnPair<'_>)) {
        let Series {
            bucket_s: _,
            arrivals,
            succeeded,
            failed,
            retries,
            pool_timeouts,
            db_connection_errors,
            leak_reports,
            pool_active,
            pool_idle,
            pool_pending,
            pool_total,
            pool_max,
            pool_min,
            instances_up,
            db_usable,
            db_connections,
            db_running,
            db_cpu,
            latency_p50_ms,
            latency_p95_ms,
            latency_p99_ms,
            pool_wait_p50_ms,
            pool_wait_p99_ms,
            pool_wait_all_p99_ms,
            latency_failed_p99_ms,
            instances,
        } = self;
        let o = other;
        for (a, b) in failed.0.iter().zip(o.failed.0.iter_mut()) {
            f(ColumnPair::Count(a, b));
        }
        for (a, b) in [
            (arrivals, &mut o.arrivals),
            (succeeded, &mut o.succeeded),
            (retries, &mut o.retries),
            (pool_timeouts, &mut o.pool_timeouts),
            (db_connection_errors, &mut o.db_connection_errors),
            (leak_reports, &mut o.leak_reports),
            (&pool_active.max, &mut o.pool_active.max),
            (&pool_idle.max, &mut o.pool_idle.max),
            (&pool_pending.max, &mut o.pool_pending.max),
            (&pool_total.max, &mut o.pool_total.max),
            (&pool_max.max, &mut o.pool_max.max),
            (&pool_min.max, &mut o.pool_min.max),
            (&instances_up.max, &mut o.instances_up.max),
            (db_usable, &mut o.db_usable),
            (&db_connections.max, &mut o.db_connections.max),
            (&db_running.max, &mut o.db_running.max),
        ] {
            f(ColumnPair::Count(a, b));
        }
        if o.instances.len() < instances.len() {
            o.instances
                .resize_with(instances.len(), InstanceSeries::default);
        }
        for (a, b) in instances.iter().zip(o.instances.iter_mut()) {
            f(ColumnPair::Count(&a.max, &mut b.max));
        }
        let per_instance = instances
            .iter()
            .zip(o.instances.iter_mut())
            .flat_map(|(a, b)| {
                [
                    (&a.active, &mut b.active),
                    (&a.idle, &mut b.idle),
                    (&a.pending, &mut b.pending),
                    (&a.total, &mut b.total),
                ]
            });
        for (a, b) in [
            (&pool_active.mean, &mut o.pool_active.mean),
            (&pool_idle.mean, &mut o.pool_idle.mean),
            (&pool_pending.mean, &mut o.pool_pending.mean),
            (&pool_total.mean, &mut o.pool_total.mean),
            (&pool_max.mean, &mut o.pool_max.mean),
            (&pool_min.mean, &mut o.pool_min.mean),
            (&instances_up.mean, &mut o.instances_up.mean),
            (&db_connections.mean, &mut o.db_connections.mean),
            (&db_running.mean, &mut o.db_running.mean),
            (db_cpu, &mut o.db_cpu),
        ]
        .into_iter()
        .chain(per_instance)
        {
            f(ColumnPair::Mean(a, b));
        }
        for (a, b) in [
            (latency_p50_ms, &mut o.latency_p50_ms),
            (latency_p95_ms, &mut o.latency_p95_ms),
            (latency_p99_ms, &mut o.latency_p99_ms),
            (pool_wait_p50_ms, &mut o.pool_wait_p50_ms),
            (pool_wait_p99_ms, &mut o.pool_wait_p99_ms),
            (pool_wait_all_p99_ms, &mut o.pool_wait_all_p99_ms),
            (latency_failed_p99_ms, &mut o.latency_failed_p99_ms),
        ] {
            f(ColumnPair::Maybe(a, b));
        }
    }
}

/// The same column of two series.
enum ColumnPair<'a> {
    Count(&'a Vec<u32>, &'a mut Vec<u32>),
    Mean(&'a Vec<f32>, &'a mut Vec<f32>),
    Maybe(&'a Vec<Option<f32>>, &'a mut Vec<Option<f32>>),
}

impl ColumnPair<'_> {
    /// Sets the second column to the first's elements `from..`.
    fn copy_from(self, from: usize) {
        fn copy<T: Clone>(a: &[T], b: &mut Vec<T>, from: usize) {
            *b = a.get(from..).unwrap_or_default().to_vec();
        }
        match self {
            ColumnPair::Count(a, b) => copy(a, b, from),
            ColumnPair::Mean(a, b) => copy(a, b, from),
            ColumnPair::Maybe(a, b) => copy(a, b, from),
        }
    }

    /// Appends the first column's elements to the second.
    fn move_to_end(self) {
        match self {
            ColumnPair::Count(a, b) => b.extend_from_slice(a),
            ColumnPair::Mean(a, b) => b.extend_from_slice(a),
            ColumnPair::Maybe(a, b) => b.extend_from_slice(a),
        }
    }
}

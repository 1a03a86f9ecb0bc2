//! The result of a run: plain data with public fields, the one thing that crosses
//! boundaries (the CLI prints it, the web worker posts it, the page draws it).
//!
//! `Summary` is DESIGN.md's `--format json` contract (a superset of it); `Series` is the
//! per-bucket time series, stored column-wise.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub summary: Summary,
    pub series: Series,
    pub distributions: Distributions,
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
    pub pool_wait_ms: WaitStats,
    pub latency_ms: LatencyStats,
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

/// Failed requests by the cause of their last attempt.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    /// No connection within `connection_timeout` while the database accepted connections.
    pub pool_timeout: u64,
    /// The client's `request_timeout` passed first.
    pub client_timeout: u64,
    /// No connection in time because the database refused openings ("too many clients").
    pub db_refused: u64,
    /// The query ran past the database's `statement_timeout`.
    pub statement_timeout: u64,
    /// The database was unreachable (a query broke, or no connection could be opened).
    pub outage: u64,
    /// No app instance was up to take the request, or its instance shut down under it.
    pub unavailable: u64,
}

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
    /// Successful requests measured.
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
    pub failed_pool_timeout: Vec<u32>,
    pub failed_client_timeout: Vec<u32>,
    pub failed_db_refused: Vec<u32>,
    pub failed_statement_timeout: Vec<u32>,
    pub failed_outage: Vec<u32>,
    pub failed_unavailable: Vec<u32>,
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
    pub db_connections: Gauge,
    pub db_running: Gauge,
    /// Mean busy cores over cores, 0 to 1.
    pub db_cpu: Vec<f32>,
    pub latency_p50_ms: Vec<Option<f32>>,
    pub latency_p95_ms: Vec<Option<f32>>,
    pub latency_p99_ms: Vec<Option<f32>>,
    pub pool_wait_p50_ms: Vec<Option<f32>>,
    pub pool_wait_p99_ms: Vec<Option<f32>>,
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
        [
            &self.failed_pool_timeout,
            &self.failed_client_timeout,
            &self.failed_db_refused,
            &self.failed_statement_timeout,
            &self.failed_outage,
            &self.failed_unavailable,
        ]
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
            failed_pool_timeout,
            failed_client_timeout,
            failed_db_refused,
            failed_statement_timeout,
            failed_outage,
            failed_unavailable,
            retries,
            pool_timeouts,
            db_connection_errors,
            leak_reports,
            pool_active,
            pool_idle,
            pool_pending,
            pool_total,
            db_connections,
            db_running,
            db_cpu,
            latency_p50_ms,
            latency_p95_ms,
            latency_p99_ms,
            pool_wait_p50_ms,
            pool_wait_p99_ms,
            instances,
        } = self;
        let o = other;
        for (a, b) in [
            (arrivals, &mut o.arrivals),
            (succeeded, &mut o.succeeded),
            (failed_pool_timeout, &mut o.failed_pool_timeout),
            (failed_client_timeout, &mut o.failed_client_timeout),
            (failed_db_refused, &mut o.failed_db_refused),
            (failed_statement_timeout, &mut o.failed_statement_timeout),
            (failed_outage, &mut o.failed_outage),
            (failed_unavailable, &mut o.failed_unavailable),
            (retries, &mut o.retries),
            (pool_timeouts, &mut o.pool_timeouts),
            (db_connection_errors, &mut o.db_connection_errors),
            (leak_reports, &mut o.leak_reports),
            (&pool_active.max, &mut o.pool_active.max),
            (&pool_idle.max, &mut o.pool_idle.max),
            (&pool_pending.max, &mut o.pool_pending.max),
            (&pool_total.max, &mut o.pool_total.max),
            (&db_connections.max, &mut o.db_connections.max),
            (&db_running.max, &mut o.db_running.max),
        ] {
            f(ColumnPair::Count(a, b));
        }
        if o.instances.len() < instances.len() {
            o.instances
                .resize_with(instances.len(), InstanceSeries::default);
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

//! Measurement: what the models report as it happens (levels, waits, latencies, outcomes,
//! connections opened and closed), kept as time-weighted gauges, histograms and per-bucket
//! counters, closed into the series bucket by bucket, checked against the alert rules, and
//! turned into the report at the end. It reads no model's state: the coordinator tells it.

use poolsim_scenario::Metric;
use poolsim_scenario::config::Config;

use crate::cause::{ByCause, Cause};
use crate::metrics::{AlertTracker, Gauge, Histogram, Level};
use crate::report::{self, *};
use crate::time::SimTime;

/// Significant bits of the whole-run histograms (0.4%) and of the per-bucket ones (1.6%).
const RUN_HISTOGRAM_BITS: u32 = 8;
const BUCKET_HISTOGRAM_BITS: u32 = 6;
/// Significant bits of the report's distributions: bins at most ~3% wide.
const DISTRIBUTION_BITS: u32 = 5;

/// Indices of a pool's levels: `[active, idle, pending, held]`.
const ACTIVE: usize = 0;
const IDLE: usize = 1;
const PENDING: usize = 2;
const TOTAL: usize = 3;

/// Per-bucket counters, reset at each bucket end.
#[derive(Debug, Default)]
struct BucketCounts {
    arrivals: u32,
    succeeded: u32,
    failed: ByCause<u32>,
    retries: u32,
    pool_timeouts: u32,
    db_errors: u32,
    leak_reports: u32,
}

/// One instance's measurements.
#[derive(Debug, Default)]
struct PerInstance {
    levels: [Gauge; 4],
    succeeded: u64,
    failed: u64,
    pool_timeouts: u64,
    /// `max_size` in force (0 while down), and its peak since the bucket began.
    capacity: u32,
    capacity_peak: u32,
}

/// Whole-run histograms, and their per-bucket counterparts.
#[derive(Debug)]
struct Times {
    wait: Histogram,
    wait_timed_out: Histogram,
    latency: Histogram,
    latency_failed: Histogram,
    bucket_wait: Histogram,
    bucket_wait_timed_out: Histogram,
    bucket_latency: Histogram,
    bucket_latency_failed: Histogram,
}

#[derive(Debug)]
pub struct Measurement {
    /// Past the warmup: whole-run figures count from here.
    pub measuring: bool,
    bucket_us: u64,
    cores: u32,
    usable: u32,
    rtt_ms: f64,
    instances: Vec<PerInstance>,
    /// Fleet totals of the instances' levels (their means come from the instances').
    fleet: [Level; 4],
    /// Fleet capacity: `max_size` and `min_idle` summed over the instances up, their count.
    capacity: Gauge,
    min_capacity: Gauge,
    up: Gauge,
    db_connections: Gauge,
    db_running: Gauge,
    db_busy: Gauge,
    counts: BucketCounts,
    times: Times,
    waited: u64,
    holds_us: u128,
    holds: u64,
    requests: Requests,
    pool: PoolStats,
    alerts: AlertTracker,
    pub series: Series,
}

impl Measurement {
    pub fn new(cfg: &Config) -> Measurement {
        let slots = cfg.instance_slots() as usize;
        let run = || Histogram::new(RUN_HISTOGRAM_BITS);
        let bucket = || Histogram::new(BUCKET_HISTOGRAM_BITS);
        Measurement {
            measuring: cfg.warmup_us == 0,
            bucket_us: cfg.bucket_us,
            cores: cfg.db.cores,
            usable: cfg.db.usable_connections(),
            rtt_ms: cfg.db.network_rtt_us as f64 / 1e3,
            instances: (0..slots).map(|_| PerInstance::default()).collect(),
            fleet: Default::default(),
            capacity: Gauge::default(),
            min_capacity: Gauge::default(),
            up: Gauge::default(),
            db_connections: Gauge::default(),
            db_running: Gauge::default(),
            db_busy: Gauge::default(),
            counts: BucketCounts::default(),
            times: Times {
                wait: run(),
                wait_timed_out: run(),
                latency: run(),
                latency_failed: run(),
                bucket_wait: bucket(),
                bucket_wait_timed_out: bucket(),
                bucket_latency: bucket(),
                bucket_latency_failed: bucket(),
            },
            waited: 0,
            holds_us: 0,
            holds: 0,
            requests: Requests::default(),
            pool: PoolStats::default(),
            alerts: AlertTracker::new(&cfg.alerts),
            series: Series {
                bucket_s: cfg.bucket_us as f64 / 1e6,
                instances: vec![InstanceSeries::default(); slots],
                ..Series::default()
            },
        }
    }

    // ----- What the models report -----

    /// Pool `i`'s levels `[active, idle, pending, held]` now.
    pub fn pool_levels(&mut self, now: SimTime, i: u32, values: [u64; 4]) {
        let gauges = &mut self.instances[i as usize].levels;
        for (k, &v) in values.iter().enumerate() {
            let old = gauges[k].value();
            if old != v {
                gauges[k].set(now, v);
                self.fleet[k].add(v as i64 - old as i64);
            }
        }
    }

    /// Each instance's `max_size` and `min_idle` if it is up (`None` while down), now.
    pub fn capacity(&mut self, now: SimTime, pools: impl Iterator<Item = Option<(u32, u32)>>) {
        let (mut max, mut min, mut up) = (0u64, 0u64, 0u64);
        for (inst, pool) in self.instances.iter_mut().zip(pools) {
            inst.capacity = pool.map_or(0, |(max_size, _)| max_size);
            inst.capacity_peak = inst.capacity_peak.max(inst.capacity);
            if let Some((max_size, min_idle)) = pool {
                max += u64::from(max_size);
                min += u64::from(min_idle);
                up += 1;
            }
        }
        self.capacity.set(now, max);
        self.min_capacity.set(now, min);
        self.up.set(now, up);
    }

    pub fn db_connections(&mut self, now: SimTime, n: u32) {
        self.db_connections.set(now, u64::from(n));
    }

    /// Queries running on the database, and busy cores.
    pub fn cpu(&mut self, now: SimTime, running: u32, busy: u32) {
        let running = u64::from(running);
        if running != self.db_running.value() {
            self.db_running.set(now, running);
            self.db_busy.set_if_changed(now, u64::from(busy));
        }
    }

    pub fn arrived(&mut self, measured: bool) {
        self.counts.arrivals += 1;
        self.requests.arrived += u64::from(measured);
    }

    pub fn retried(&mut self, measured: bool) {
        self.requests.retries += u64::from(measured);
        self.counts.retries += 1;
    }

    /// An acquisition got a connection after waiting `wait_us`.
    pub fn granted(&mut self, wait_us: u64, measured: bool) {
        if measured {
            self.times.wait.record(wait_us);
            self.waited += u64::from(wait_us > 0);
        }
        self.times.bucket_wait.record(wait_us);
    }

    /// An acquisition at instance `i` gave up after `wait_us` (its `connection_timeout`).
    pub fn timed_out(&mut self, i: u32, wait_us: u64, measured: bool) {
        if measured {
            self.times.wait_timed_out.record(wait_us);
        }
        self.times.bucket_wait_timed_out.record(wait_us);
        self.instances[i as usize].pool_timeouts += 1;
        self.pool.timeouts += u64::from(measured);
        self.counts.pool_timeouts += 1;
    }

    /// A connection went back to its pool after being held `held_us`.
    pub fn released(&mut self, held_us: u64) {
        if self.measuring {
            self.holds_us += u128::from(held_us);
            self.holds += 1;
        }
    }

    pub fn opened(&mut self) {
        self.pool.opened += u64::from(self.measuring);
    }

    pub fn closed(&mut self) {
        self.pool.closed += u64::from(self.measuring);
    }

    pub fn leaked(&mut self) {
        self.pool.leaked += u64::from(self.measuring);
    }

    pub fn leak_reported(&mut self) {
        self.pool.leaks_reported += 1;
        self.counts.leak_reports += 1;
    }

    /// The database refused or failed a connection opening.
    pub fn db_error(&mut self) {
        self.counts.db_errors += 1;
    }

    /// The server finished an attempt its client had given up on.
    pub fn abandoned(&mut self) {
        self.requests.abandoned_attempts += u64::from(self.measuring);
    }

    /// A request that arrived `latency_us` ago succeeded at instance `i`.
    pub fn succeeded(&mut self, i: u32, latency_us: u64, measured: bool) {
        self.instances[i as usize].succeeded += 1;
        if measured {
            self.requests.succeeded += 1;
            self.times.latency.record(latency_us);
        }
        self.times.bucket_latency.record(latency_us);
        self.counts.succeeded += 1;
    }

    /// A request that arrived `latency_us` ago failed for `cause`, last tried at instance `i`.
    pub fn failed(&mut self, i: u32, cause: Cause, latency_us: u64, measured: bool) {
        self.instances[i as usize].failed += 1;
        if measured {
            self.requests.failed += 1;
            self.requests.failures[cause] += 1;
            self.times.latency_failed.record(latency_us);
        }
        self.times.bucket_latency_failed.record(latency_us);
        self.counts.failed[cause] += 1;
    }

    /// The warmup is over: whole-run figures start now.
    pub fn start_measuring(&mut self, now: SimTime) {
        self.measuring = true;
        for level in &mut self.fleet {
            level.reset_run();
        }
        for g in [
            &mut self.capacity,
            &mut self.min_capacity,
            &mut self.up,
            &mut self.db_connections,
            &mut self.db_running,
            &mut self.db_busy,
        ]
        .into_iter()
        .chain(self.instances.iter_mut().flat_map(|i| i.levels.iter_mut()))
        {
            g.reset_run(now);
        }
    }

    // ----- Buckets -----

    /// Closes the bucket ending at `now` into the series and checks the alert rules on it.
    pub fn close_bucket(&mut self, now: SimTime) {
        let start = self.series.len() as u64 * self.bucket_us;
        let width = now.us() - start;
        let c = std::mem::take(&mut self.counts);
        let s = &mut self.series;
        s.arrivals.push(c.arrivals);
        s.succeeded.push(c.succeeded);
        for (cause, &n) in c.failed.iter() {
            s.failed[cause].push(n);
        }
        s.retries.push(c.retries);
        s.pool_timeouts.push(c.pool_timeouts);
        s.db_connection_errors.push(c.db_errors);
        s.leak_reports.push(c.leak_reports);
        let pools = self.close_pools(now, width);
        let db = self.close_database(now, width);
        let (wait_p99, latency_p99) = self.close_times();
        let secs = width.max(1) as f64 / 1e6;
        let failed: u32 = c.failed.0.iter().sum();
        let finished = failed + c.succeeded;
        let rtt_ms = self.rtt_ms;
        self.alerts.observe(start, now.us(), |metric| match metric {
            Metric::HikaricpConnectionsActive => Some(pools[ACTIVE]),
            Metric::HikaricpConnectionsIdle => Some(pools[IDLE]),
            Metric::HikaricpConnectionsPending => Some(pools[PENDING]),
            Metric::HikaricpConnections => Some(pools[TOTAL]),
            Metric::HikaricpConnectionsTimeoutTotal => Some(f64::from(c.pool_timeouts) / secs),
            Metric::HikaricpConnectionsAcquireP99Ms => wait_p99,
            Metric::DbConnections => Some(db.connections),
            Metric::DbRunningQueries => Some(db.running),
            Metric::DbCpuUtilization => Some(db.cpu),
            Metric::DbConnectionErrorsPerS => Some(f64::from(c.db_errors) / secs),
            Metric::HttpRequestsPerS => Some(f64::from(c.arrivals) / secs),
            Metric::HttpFailuresPerS => Some(f64::from(failed) / secs),
            Metric::HttpFailureRatio => {
                (finished > 0).then(|| f64::from(failed) / f64::from(finished))
            }
            Metric::HttpLatencyP99Ms => latency_p99,
            Metric::NetworkRttMs => Some(rtt_ms),
        });
    }

    /// The pools' columns, per instance and for the fleet; the fleet's mean levels.
    fn close_pools(&mut self, now: SimTime, width: u64) -> [f64; 4] {
        let s = &mut self.series;
        let mut fleet_area = [0u128; 4];
        for (inst, out) in self.instances.iter_mut().zip(s.instances.iter_mut()) {
            let mut area = [0u128; 4];
            for (k, a) in area.iter_mut().enumerate() {
                *a = inst.levels[k].take_bucket_area(now).0;
                fleet_area[k] += *a;
            }
            let mean = |a: u128| (a as f64 / width.max(1) as f64) as f32;
            out.active.push(mean(area[ACTIVE]));
            out.idle.push(mean(area[IDLE]));
            out.pending.push(mean(area[PENDING]));
            out.total.push(mean(area[TOTAL]));
            out.max.push(inst.capacity_peak);
            inst.capacity_peak = inst.capacity;
        }
        let mut means = [0.0; 4];
        let outs = [
            &mut s.pool_active,
            &mut s.pool_idle,
            &mut s.pool_pending,
            &mut s.pool_total,
        ];
        for (k, out) in outs.into_iter().enumerate() {
            means[k] = fleet_area[k] as f64 / width.max(1) as f64;
            out.mean.push(means[k] as f32);
            out.max.push(self.fleet[k].take_bucket_max() as u32);
        }
        means
    }

    /// The database's and the capacity columns; the database's means for the alert rules.
    fn close_database(&mut self, now: SimTime, width: u64) -> DbMeans {
        let s = &mut self.series;
        let push = |gauge: &mut Gauge, out: &mut report::Gauge| {
            let (mean, max) = gauge.take_bucket(now, width);
            out.mean.push(mean as f32);
            out.max.push(max as u32);
            mean
        };
        let connections = push(&mut self.db_connections, &mut s.db_connections);
        let running = push(&mut self.db_running, &mut s.db_running);
        let (busy, _) = self.db_busy.take_bucket(now, width);
        let cpu = busy / f64::from(self.cores);
        s.db_cpu.push(cpu as f32);
        push(&mut self.capacity, &mut s.pool_max);
        push(&mut self.min_capacity, &mut s.pool_min);
        push(&mut self.up, &mut s.instances_up);
        s.db_usable.push(self.usable);
        DbMeans {
            connections,
            running,
            cpu,
        }
    }

    /// The bucket's percentiles; its wait and latency p99 (ms) for the alert rules.
    fn close_times(&mut self) -> (Option<f64>, Option<f64>) {
        let s = &mut self.series;
        let t = &mut self.times;
        let ms = |h: &Histogram, us: u64| (h.count() > 0).then_some(us as f32 / 1e3);
        let [l50, l95, l99] = t.bucket_latency.quantiles([0.5, 0.95, 0.99]);
        let [w50, w99] = t.bucket_wait.quantiles([0.5, 0.99]);
        let (latency_p99, wait_p99) = (ms(&t.bucket_latency, l99), ms(&t.bucket_wait, w99));
        s.latency_p50_ms.push(ms(&t.bucket_latency, l50));
        s.latency_p95_ms.push(ms(&t.bucket_latency, l95));
        s.latency_p99_ms.push(latency_p99);
        s.pool_wait_p50_ms.push(ms(&t.bucket_wait, w50));
        s.pool_wait_p99_ms.push(wait_p99);
        // Every acquisition that ended: the timed-out ones joined by the granted ones.
        t.bucket_wait_timed_out.merge(&t.bucket_wait);
        let [all99] = t.bucket_wait_timed_out.quantiles([0.99]);
        s.pool_wait_all_p99_ms
            .push(ms(&t.bucket_wait_timed_out, all99));
        let [f99] = t.bucket_latency_failed.quantiles([0.99]);
        s.latency_failed_p99_ms
            .push(ms(&t.bucket_latency_failed, f99));
        for h in [
            &mut t.bucket_latency,
            &mut t.bucket_wait,
            &mut t.bucket_wait_timed_out,
            &mut t.bucket_latency_failed,
        ] {
            h.clear();
        }
        (wait_p99.map(f64::from), latency_p99.map(f64::from))
    }

    // ----- The report -----

    /// The report at the run's end `now`. `requests_in_flight` are the measured requests
    /// still under way; `db` the database's refused and failed openings.
    pub fn report(mut self, end: &End<'_>, operations: Operations) -> Report {
        let cfg = end.cfg;
        let now = end.now;
        let measured_us = (cfg.duration_us - cfg.warmup_us).max(1) as f64;
        let mut requests = std::mem::take(&mut self.requests);
        requests.in_flight = end.in_flight;
        assert_eq!(
            requests.arrived,
            requests.succeeded + requests.failed + requests.in_flight,
            "conservation broken (seed {})",
            cfg.seed
        );
        let pool = self.pool_stats(now, measured_us);
        let db = self.db_stats(end, measured_us);
        let pool_wait_ms = self.wait_stats();
        let instances = self.instance_stats(now, measured_us);
        let series = std::mem::take(&mut self.series);
        let t = &self.times;
        let mut summary = Summary {
            name: cfg.scenario.name.clone(),
            seed: cfg.seed,
            duration_s: cfg.duration_us as f64 / 1e6,
            warmup_s: cfg.warmup_us as f64 / 1e6,
            requests,
            pool_wait_ms,
            latency_ms: stats_ms(&t.latency),
            pool_wait_timed_out_ms: stats_ms(&t.wait_timed_out),
            latency_failed_ms: stats_ms(&t.latency_failed),
            pool,
            db,
            alerts: self.alerts.finish(now.us()),
            instances,
            theory: crate::theory::theory(cfg),
            events: end.events,
            digest: String::new(),
        };
        let bins = |h: &Histogram| {
            h.bins(DISTRIBUTION_BITS)
                .into_iter()
                .map(|(low, high, count)| Bin {
                    low_ms: low as f64 / 1e3,
                    high_ms: high as f64 / 1e3,
                    count,
                })
                .collect()
        };
        let distributions = Distributions {
            pool_wait: bins(&t.wait),
            latency: bins(&t.latency),
        };
        summary.digest = digest(&summary, &series, &distributions, &operations);
        Report {
            summary,
            series,
            distributions,
            operations,
        }
    }

    fn db_stats(&mut self, end: &End<'_>, measured_us: f64) -> DbStats {
        let now = end.now;
        let mean = |g: &mut Gauge| g.run(now).0 as f64 / measured_us;
        DbStats {
            usable_connections: u64::from(self.usable),
            peak_connections: self.db_connections.run(now).1,
            mean_connections: mean(&mut self.db_connections),
            refused_connections: end.db_refused,
            failed_connections: end.db_failed,
            mean_running_queries: mean(&mut self.db_running),
            peak_running_queries: self.db_running.run(now).1,
            cpu_utilization: mean(&mut self.db_busy) / f64::from(self.cores),
        }
    }

    /// Successful acquisitions' waits.
    fn wait_stats(&self) -> WaitStats {
        let wait = stats_ms(&self.times.wait);
        WaitStats {
            mean: wait.mean,
            p50: wait.p50,
            p95: wait.p95,
            p99: wait.p99,
            p999: wait.p999,
            max: wait.max,
            waited_fraction: if wait.count > 0 {
                self.waited as f64 / wait.count as f64
            } else {
                0.0
            },
            count: wait.count,
        }
    }

    fn instance_stats(&mut self, now: SimTime, measured_us: f64) -> Vec<InstanceStats> {
        self.instances
            .iter_mut()
            .enumerate()
            .map(|(k, inst)| InstanceStats {
                instance: k as u32,
                succeeded: inst.succeeded,
                failed: inst.failed,
                pool_timeouts: inst.pool_timeouts,
                mean_connections: inst.levels[TOTAL].run(now).0 as f64 / measured_us,
                mean_active: inst.levels[ACTIVE].run(now).0 as f64 / measured_us,
                mean_pending: inst.levels[PENDING].run(now).0 as f64 / measured_us,
            })
            .collect()
    }

    /// The pools' whole-run figures.
    fn pool_stats(&mut self, now: SimTime, measured_us: f64) -> PoolStats {
        let mut pool = std::mem::take(&mut self.pool);
        let mut fleet_area = [0u128; 4];
        for inst in &mut self.instances {
            for (k, area) in fleet_area.iter_mut().enumerate() {
                *area += inst.levels[k].run(now).0;
            }
        }
        let fleet_mean = |k: usize| fleet_area[k] as f64 / measured_us;
        pool.mean_active = fleet_mean(ACTIVE);
        pool.mean_idle = fleet_mean(IDLE);
        pool.mean_pending = fleet_mean(PENDING);
        pool.mean_total = fleet_mean(TOTAL);
        let capacity = self.capacity.run(now).0 as f64 / measured_us;
        pool.utilization = if capacity > 0.0 {
            pool.mean_active / capacity
        } else {
            0.0
        };
        pool.peak_active = self.fleet[ACTIVE].run_max();
        pool.peak_pending = self.fleet[PENDING].run_max();
        pool.mean_hold_ms = if self.holds > 0 {
            self.holds_us as f64 / self.holds as f64 / 1e3
        } else {
            0.0
        };
        pool.acquisitions_per_s = self.times.wait.count() as f64 / (measured_us / 1e6);
        pool
    }
}

/// What the report needs from the rest of the simulation at its end.
#[derive(Debug)]
pub struct End<'a> {
    pub cfg: &'a Config,
    pub now: SimTime,
    pub events: u64,
    pub in_flight: u64,
    pub db_refused: u64,
    pub db_failed: u64,
}

/// The database's bucket means, for the alert rules.
struct DbMeans {
    connections: f64,
    running: f64,
    cpu: f64,
}

/// Mean, percentiles and maximum of a microsecond histogram, in milliseconds.
fn stats_ms(h: &Histogram) -> LatencyStats {
    let [p50, p95, p99, p999] = h
        .quantiles([0.5, 0.95, 0.99, 0.999])
        .map(|us| us as f64 / 1e3);
    LatencyStats {
        mean: h.mean() / 1e3,
        p50,
        p95,
        p99,
        p999,
        max: h.max() as f64 / 1e3,
        count: h.count(),
    }
}

/// FNV-1a 64 over the JSON of the summary (without its digest), the series, the
/// distributions and the operations.
fn digest(
    summary: &Summary,
    series: &Series,
    distributions: &Distributions,
    operations: &Operations,
) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    feed(&serde_json::to_vec(summary).expect("summary serialises"));
    feed(&serde_json::to_vec(series).expect("series serialises"));
    feed(&serde_json::to_vec(distributions).expect("distributions serialise"));
    feed(&serde_json::to_vec(operations).expect("operations serialise"));
    format!("{hash:016x}")
}

//! The simulation state machine: one closed [`Event`] enum, one `match`, `&mut self`.
//!
//! Entities live in slabs (vectors with free lists) and refer to each other by index.
//! Timers are never cancelled in the queue: each carries the generation (or attempt id) of
//! the thing it is for, and is dropped when it comes due if that has moved on.
//!
//! Model notes (HikariCP semantics; see DESIGN.md):
//! - Each pool has one connection creator (HikariCP's single "connection adder" thread): it
//!   opens connections one at a time while `total < max_size` and (`idle < min_idle` or
//!   waiters outnumber idle connections). A refused or failed opening sleeps 20 ms, doubling
//!   to 5 s, as HikariCP's `PoolEntryCreator` does.
//! - Idle connections are borrowed last-in first-out; waiters are served first come, first
//!   served. A connection past `max_lifetime` (minus up to 2.5% jitter) is closed when idle,
//!   or on return. The housekeeper (every 30 s) closes connections idle past `idle_timeout`
//!   above `min_idle`, then refills the pool.
//! - A client that times out may retry; the server does not know and finishes the attempt
//!   anyway (counted as `abandoned_attempts`): this is what makes retry storms metastable.
//! - A pool timeout counts as `db_refused` when the pool's last opening was refused, as
//!   `outage` when the database was unreachable, and as `pool_timeout` otherwise.

use std::collections::VecDeque;

use poolsim_scenario::config::{Config, FaultConfig, PoolConfig, RestartConfig};
use poolsim_scenario::{Jitter, LoadBalancer, Metric};

use crate::cause::{ByCause, Cause};
use crate::db::{Cpu, Start};
use crate::dist::{round_us, sample};
use crate::metrics::{AlertTracker, Gauge, Histogram, Level};
use crate::queue::EventQueue;
use crate::report::*;
use crate::rng::{Purpose, Stream};
use crate::time::SimTime;

/// HikariCP's housekeeping period.
const HOUSEKEEPING_US: u64 = 30_000_000;
/// HikariCP's connection creator backoff: starts at 10 ms, doubles before each sleep, 5 s cap.
const CREATOR_BACKOFF_START_US: u64 = 10_000;
const CREATOR_BACKOFF_MAX_US: u64 = 5_000_000;
/// Significant bits of the whole-run histograms (0.4%) and of the per-bucket ones (1.6%).
const RUN_HISTOGRAM_BITS: u32 = 8;
const BUCKET_HISTOGRAM_BITS: u32 = 6;
/// Significant bits of the report's distributions: bins at most ~3% wide.
const DISTRIBUTION_BITS: u32 = 5;
const NONE: u32 = u32::MAX;

/// Why a run stopped before its end. A valid scenario never fails otherwise.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error(
        "the run needed more than limits.max_events = {limit} events (stopped at {at_s:.1}s of simulated time); shorten the duration or raise the limit"
    )]
    EventBudget { limit: u64, at_s: f64 },
    #[error(
        "more than limits.max_in_flight = {limit} requests were in flight at {at_s:.1}s: the system is overloaded and nothing times out; set app.request_timeout or app.pool.connection_timeout, or raise the limit"
    )]
    Overloaded { limit: u32, at_s: f64 },
}

/// How far a run has got.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub done: bool,
    pub sim_time_s: f64,
    /// Share of the simulated duration covered, 0 to 1.
    pub fraction: f64,
    pub events: u64,
}

#[derive(Clone, Copy, Debug)]
enum Event {
    Arrival {
        tag: u32,
    },
    RateStep {
        index: u32,
    },
    BurstFlip,
    Retry {
        req: u32,
        attempt: u64,
    },
    ClientTimeout {
        req: u32,
        attempt: u64,
    },
    PoolTimeout {
        job: u32,
        tag: u64,
    },
    /// A job's network delay or think time is over.
    JobStep {
        job: u32,
        tag: u64,
    },
    StatementTimeout {
        job: u32,
        tag: u64,
    },
    /// The next shared-CPU completion (see `db.rs`).
    DbComplete {
        tag: u64,
    },
    /// A query running at full speed (the CPU's direct mode) ends.
    QueryDone {
        job: u32,
        seq: u64,
    },
    ConnectDone {
        conn: u32,
        tag: u64,
    },
    CreatorWake {
        instance: u32,
        tag: u64,
    },
    Retire {
        conn: u32,
        tag: u64,
    },
    LeakCheck {
        conn: u32,
        tag: u64,
    },
    Housekeep {
        instance: u32,
    },
    FaultStart {
        index: u32,
    },
    FaultEnd {
        index: u32,
    },
    InstanceDown {
        instance: u32,
    },
    /// `reconfigure` is a fault index + 1 whose pool settings apply on start, or 0.
    InstanceUp {
        instance: u32,
        reconfigure: u32,
    },
    WarmupEnd,
    BucketEnd,
}


/// A vector with a free list; indices stay valid while the slot is live.
#[derive(Debug)]
struct Slab<T> {
    items: Vec<T>,
    free: Vec<u32>,
}

impl<T> Slab<T> {
    fn new() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
    fn insert(&mut self, item: T) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.items[i as usize] = item;
                i
            }
            None => {
                self.items.push(item);
                (self.items.len() - 1) as u32
            }
        }
    }
    fn remove(&mut self, i: u32) {
        self.free.push(i);
    }
}

impl<T> std::ops::Index<u32> for Slab<T> {
    type Output = T;
    fn index(&self, i: u32) -> &T {
        &self.items[i as usize]
    }
}
impl<T> std::ops::IndexMut<u32> for Slab<T> {
    fn index_mut(&mut self, i: u32) -> &mut T {
        &mut self.items[i as usize]
    }
}

#[derive(Debug)]
struct Request {
    arrived: SimTime,
    /// Id of the current (or last failed) attempt; `u64::MAX` when the slot is free.
    attempt: u64,
    attempts_made: u32,
    /// An attempt is under way (false while backing off before a retry).
    outstanding: bool,
    instance: u32,
    measured: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Waiting,
    Network,
    Query,
    Think,
    Done,
}

#[derive(Debug)]
struct Job {
    req: u32,
    attempt: u64,
    instance: u32,
    phase: Phase,
    tag: u64,
    conn: u32,
    enqueued: SimTime,
    acquired: SimTime,
    queries_done: u32,
    query_seq: u64,
    leak: bool,
    measured: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnState {
    Opening,
    Idle,
    Active,
    Closed,
}

#[derive(Debug)]
struct Conn {
    instance: u32,
    epoch: u32,
    state: ConnState,
    tag: u64,
    /// Fixed at opening: identifies this connection's life (its retirement timer).
    born: u64,
    holder: u32,
    idle_since: SimTime,
    has_slot: bool,
    broken: bool,
    evict: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Creator {
    Idle,
    Opening,
    Sleeping,
}

#[derive(Debug)]
struct Instance {
    up: bool,
    epoch: u32,
    pool: PoolConfig,
    idle: Vec<u32>,
    waiters: VecDeque<(u32, u64)>,
    pending: u32,
    active: u32,
    opening: u32,
    creator: Creator,
    creator_gen: u64,
    backoff_us: u64,
    last_open_failure: Option<Cause>,
    gauges: [Gauge; 4],
    succeeded: u64,
    failed: u64,
    pool_timeouts: u64,
    /// Peak of the `max_size` in force (0 while down) since the last bucket closed.
    max_peak: u32,
    /// Bound on `total()`: `max_size`, or more while a live shrink drains.
    bound: u32,
    /// Restarts under way (they can overlap); the instance is up at zero.
    downs: u32,
    /// Settings to apply when the instance comes back up (the newest reconfigure's).
    pending_pool: Option<PoolConfig>,
    /// The reconfigure (fault index + 1; 0 = the scenario's pool) whose settings are in force
    /// or pending: a slower roll-out of an older one must not undo a newer one.
    pool_from: u32,
}

impl Instance {
    /// Connections held: idle and in use (HikariCP's `getTotalConnections()`).
    fn held(&self) -> u32 {
        self.idle.len() as u32 + self.active
    }
    /// Held plus being opened: what `max_size` bounds.
    fn total(&self) -> u32 {
        self.held() + self.opening
    }
}

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

#[derive(Debug)]
struct Rngs {
    arrivals: Stream,
    lb: Stream,
    query: Stream,
    think: Stream,
    connect: Stream,
    retry: Stream,
    lifetime: Stream,
    leak: Stream,
}

/// A running simulation. Feed it time with [`Simulation::advance`].
#[derive(Debug)]
pub struct Simulation {
    cfg: Config,
    now: SimTime,
    end: SimTime,
    queue: EventQueue<Event>,
    events: u64,
    done: bool,
    rng: Rngs,

    rate_per_s: f64,
    in_burst: bool,
    /// Mean gap between arrivals at the current rate, µs; 0 when nothing arrives.
    mean_gap_us: f64,
    arrival_gen: u32,
    constant_origin: SimTime,
    constant_count: u64,

    requests: Slab<Request>,
    jobs: Slab<Job>,
    conns: Slab<Conn>,
    instances: Vec<Instance>,
    /// Instances `0..in_service` are in the fleet (the rest wait for a `scale`); one in the
    /// fleet may still be down for a restart.
    in_service: u32,
    next_attempt: u64,
    next_query: u64,
    /// Every generation number is fresh, so a stale timer never matches a reused slot.
    next_gen: u64,
    in_flight: u32,
    rr_next: u32,

    cpu: Cpu,
    /// Outages under way (they can overlap); the database is reachable at zero.
    db_down: u32,
    db_connections: u32,
    db_gen: u64,
    db_scheduled: Option<SimTime>,
    slow_factors: Vec<(u32, f64)>,
    leaks: Vec<(u32, f64)>,

    // Measurement.
    measuring: bool,
    /// Fleet totals of the instances' pool gauges (their means come from the instances').
    fleet: [Level; 4],
    /// Fleet capacity: `max_size` and `min_idle` summed over the instances up, and their count.
    capacity: Gauge,
    min_capacity: Gauge,
    up_gauge: Gauge,
    db_conn_gauge: Gauge,
    db_running_gauge: Gauge,
    db_busy_gauge: Gauge,
    counts: BucketCounts,
    bucket_latency: Histogram,
    bucket_wait: Histogram,
    /// Timed-out acquisitions' waits and failed requests' latencies, per bucket and run.
    bucket_wait_failed: Histogram,
    bucket_latency_failed: Histogram,
    latency: Histogram,
    wait: Histogram,
    wait_timed_out: Histogram,
    latency_failed: Histogram,
    operations: Operations,
    waited: u64,
    holds_us: u128,
    holds: u64,
    requests_out: Requests,
    pool_out: PoolStats,
    db_refused: u64,
    db_failed: u64,
    alerts: AlertTracker,
    series: Series,
}

impl Simulation {
    pub fn new(config: &Config) -> Simulation {
        let cfg = config.clone();
        let seed = cfg.seed;
        let slots = cfg.instance_slots();
        let in_service = cfg.app.instances;
        let instances = (0..slots)
            .map(|i| Instance {
                up: i < in_service,
                epoch: 0,
                pool: cfg.pool.clone(),
                idle: Vec::new(),
                waiters: VecDeque::new(),
                pending: 0,
                active: 0,
                opening: 0,
                creator: Creator::Idle,
                creator_gen: 0,
                backoff_us: CREATOR_BACKOFF_START_US,
                last_open_failure: None,
                gauges: Default::default(),
                succeeded: 0,
                failed: 0,
                pool_timeouts: 0,
                bound: cfg.pool.max_size,
                max_peak: 0,
                // Slots a later `scale` brings into service wait as if down.
                downs: u32::from(i >= in_service),
                pending_pool: None,
                pool_from: 0,
            })
            .collect();
        let mut sim = Simulation {
            now: SimTime::ZERO,
            end: SimTime(cfg.duration_us),
            queue: EventQueue::new(),
            events: 0,
            done: false,
            rng: Rngs {
                arrivals: Stream::new(seed, Purpose::Arrivals),
                lb: Stream::new(seed, Purpose::LoadBalancer),
                query: Stream::new(seed, Purpose::QueryTime),
                think: Stream::new(seed, Purpose::ThinkTime),
                connect: Stream::new(seed, Purpose::ConnectTime),
                retry: Stream::new(seed, Purpose::RetryJitter),
                lifetime: Stream::new(seed, Purpose::Lifetime),
                leak: Stream::new(seed, Purpose::Leak),
            },
            rate_per_s: cfg.arrivals.initial_rate_per_s,
            in_burst: false,
            mean_gap_us: 0.0,
            arrival_gen: 0,
            constant_origin: SimTime::ZERO,
            constant_count: 0,
            requests: Slab::new(),
            jobs: Slab::new(),
            conns: Slab::new(),
            instances,
            in_service,
            next_attempt: 0,
            next_query: 0,
            next_gen: 0,
            in_flight: 0,
            rr_next: 0,
            cpu: Cpu::new(cfg.db.cores, cfg.db.sigma, cfg.db.kappa),
            db_down: 0,
            db_connections: 0,
            db_gen: 0,
            db_scheduled: None,
            slow_factors: Vec::new(),
            leaks: Vec::new(),
            measuring: cfg.warmup_us == 0,
            fleet: Default::default(),
            capacity: Gauge::default(),
            min_capacity: Gauge::default(),
            up_gauge: Gauge::default(),
            db_conn_gauge: Gauge::default(),
            db_running_gauge: Gauge::default(),
            db_busy_gauge: Gauge::default(),
            counts: BucketCounts::default(),
            bucket_latency: Histogram::new(BUCKET_HISTOGRAM_BITS),
            bucket_wait: Histogram::new(BUCKET_HISTOGRAM_BITS),
            bucket_wait_failed: Histogram::new(BUCKET_HISTOGRAM_BITS),
            bucket_latency_failed: Histogram::new(BUCKET_HISTOGRAM_BITS),
            latency: Histogram::new(RUN_HISTOGRAM_BITS),
            wait: Histogram::new(RUN_HISTOGRAM_BITS),
            wait_timed_out: Histogram::new(RUN_HISTOGRAM_BITS),
            latency_failed: Histogram::new(RUN_HISTOGRAM_BITS),
            operations: Operations::default(),
            waited: 0,
            holds_us: 0,
            holds: 0,
            requests_out: Requests::default(),
            pool_out: PoolStats::default(),
            db_refused: 0,
            db_failed: 0,
            alerts: AlertTracker::new(&cfg.alerts),
            series: Series {
                bucket_s: cfg.bucket_us as f64 / 1e6,
                instances: vec![InstanceSeries::default(); slots as usize],
                ..Series::default()
            },
            cfg,
        };
        sim.start();
        sim
    }

    fn start(&mut self) {
        let now = SimTime::ZERO;
        self.capacity_changed();
        for i in 0..self.instances.len() as u32 {
            if self.instances[i as usize].up {
                self.kick_creator(i);
            }
            self.queue
                .push(now + HOUSEKEEPING_US, Event::Housekeep { instance: i });
        }
        for (index, &(at, _)) in self.cfg.arrivals.steps.iter().enumerate() {
            self.queue.push(
                SimTime(at),
                Event::RateStep {
                    index: index as u32,
                },
            );
        }
        if let Some(b) = &self.cfg.arrivals.bursts {
            self.queue.push(now + b.off_us, Event::BurstFlip);
        }
        for (index, fault) in self.cfg.faults.iter().enumerate() {
            let at = fault.at_us();
            self.queue.push(
                SimTime(at),
                Event::FaultStart {
                    index: index as u32,
                },
            );
        }
        if self.cfg.warmup_us > 0 {
            self.queue
                .push(SimTime(self.cfg.warmup_us), Event::WarmupEnd);
        }
        self.queue.push(
            SimTime(self.cfg.bucket_us.min(self.cfg.duration_us)),
            Event::BucketEnd,
        );
        self.restart_arrivals();
    }

    /// Processes up to `max_events` events. `done` once the simulated duration is covered.
    pub fn advance(&mut self, max_events: u64) -> Result<Progress, RunError> {
        let mut budget = max_events;
        while !self.done && budget > 0 {
            match self.queue.peek_time() {
                Some(t) if t < self.end => {}
                _ => {
                    self.finish_run();
                    break;
                }
            }
            let (time, event) = self.queue.pop().expect("peeked");
            debug_assert!(time >= self.now, "time went backwards");
            self.now = time;
            self.events += 1;
            budget -= 1;
            if self.events > self.cfg.max_events {
                return Err(RunError::EventBudget {
                    limit: self.cfg.max_events,
                    at_s: self.now.secs_f64(),
                });
            }
            self.handle(event)?;
        }
        Ok(self.progress())
    }

    pub fn progress(&self) -> Progress {
        Progress {
            done: self.done,
            sim_time_s: self.now.secs_f64(),
            fraction: self.now.us() as f64 / self.end.us() as f64,
            events: self.events,
        }
    }

    /// The buckets closed so far: a run's time series up to [`Progress::sim_time_s`],
    /// rounded down to a bucket. The page draws a run as it goes from this.
    pub fn series(&self) -> &Series {
        &self.series
    }

    /// The faults and operations applied so far (the page draws them as a run goes).
    pub fn operations(&self) -> &Operations {
        &self.operations
    }

    fn handle(&mut self, event: Event) -> Result<(), RunError> {
        match event {
            Event::Arrival { tag } => {
                if tag == self.arrival_gen {
                    self.arrive()?;
                    self.schedule_arrival();
                }
            }
            Event::RateStep { index } => {
                self.rate_per_s = self.cfg.arrivals.steps[index as usize].1;
                self.restart_arrivals();
            }
            Event::BurstFlip => {
                if let Some(b) = &self.cfg.arrivals.bursts {
                    self.in_burst = !self.in_burst;
                    let next = if self.in_burst { b.on_us } else { b.off_us };
                    self.queue.push(self.now + next, Event::BurstFlip);
                    self.restart_arrivals();
                }
            }
            Event::Retry { req, attempt } => {
                let r = &self.requests[req];
                if r.attempt == attempt && !r.outstanding {
                    self.requests[req].attempts_made += 1;
                    if self.requests[req].measured {
                        self.requests_out.retries += 1;
                    }
                    self.counts.retries += 1;
                    self.start_attempt(req);
                }
            }
            Event::ClientTimeout { req, attempt } => {
                let r = &self.requests[req];
                if r.attempt == attempt && r.outstanding {
                    self.attempt_failed(req, Cause::ClientTimeout);
                }
            }
            Event::PoolTimeout { job, tag } => {
                let j = &self.jobs[job];
                if j.tag == tag && j.phase == Phase::Waiting {
                    let (i, measured) = (j.instance, j.measured);
                    let wait = self.now.since(j.enqueued);
                    if measured {
                        self.wait_timed_out.record(wait);
                    }
                    self.bucket_wait_failed.record(wait);
                    self.jobs[job].phase = Phase::Done;
                    self.drop_stale_waiters(i);
                    let inst = &mut self.instances[i as usize];
                    inst.pending -= 1;
                    inst.pool_timeouts += 1;
                    let cause = inst.last_open_failure.unwrap_or(Cause::PoolTimeout);
                    self.pool_out.timeouts += u64::from(measured);
                    self.counts.pool_timeouts += 1;
                    self.pool_changed(i);
                    self.job_finished(job, Err(cause));
                }
            }
            Event::JobStep { job, tag } => {
                let j = &self.jobs[job];
                if j.tag == tag {
                    match j.phase {
                        Phase::Network => self.enter_db(job),
                        Phase::Think => self.start_query(job),
                        _ => {}
                    }
                }
            }
            Event::StatementTimeout { job, tag } => {
                let j = &self.jobs[job];
                if j.tag == tag && j.phase == Phase::Query {
                    self.cpu.cancel(self.now, j.query_seq);
                    self.release(job);
                    self.job_finished(job, Err(Cause::StatementTimeout));
                    // Only now is the query out of the CPU's valid set.
                    self.cpu_changed();
                }
            }
            Event::DbComplete { tag } => {
                if tag == self.db_gen {
                    self.db_scheduled = None;
                    let jobs = &self.jobs;
                    let done = self
                        .cpu
                        .complete(self.now, |seq, job| query_is_live(jobs, seq, job));
                    let direct = self
                        .cpu
                        .try_direct(self.now, |seq, job| query_is_live(jobs, seq, job));
                    for (job, seq, end) in direct {
                        self.queue.push(end, Event::QueryDone { job, seq });
                    }
                    if let Some(job) = done {
                        self.query_done(job);
                    }
                    self.cpu_changed();
                }
            }
            Event::QueryDone { job, seq } => {
                if query_is_live(&self.jobs, seq, job) && self.cpu.finish_direct(self.now, seq) {
                    self.cpu_gauges();
                    self.query_done(job);
                }
            }
            Event::ConnectDone { conn, tag } => {
                let c = &self.conns[conn];
                if c.tag == tag && c.state == ConnState::Opening {
                    self.connect_done(conn);
                }
            }
            Event::CreatorWake { instance, tag } => {
                let inst = &mut self.instances[instance as usize];
                if inst.creator_gen == tag && inst.creator == Creator::Sleeping {
                    inst.creator = Creator::Idle;
                    self.kick_creator(instance);
                }
            }
            Event::Retire { conn, tag } => {
                self.retire(conn, tag);
            }
            Event::LeakCheck { conn, tag } => {
                let c = &self.conns[conn];
                if c.tag == tag && c.state == ConnState::Active {
                    self.pool_out.leaks_reported += 1;
                    self.counts.leak_reports += 1;
                }
            }
            Event::Housekeep { instance } => {
                self.housekeep(instance);
                self.queue
                    .push(self.now + HOUSEKEEPING_US, Event::Housekeep { instance });
            }
            Event::FaultStart { index } => self.fault_start(index),
            Event::FaultEnd { index } => self.fault_end(index),
            Event::InstanceDown { instance } => self.take_down(instance),
            Event::InstanceUp {
                instance,
                reconfigure,
            } => {
                if let Some(FaultConfig::Reconfigure { pool, .. }) = reconfigure
                    .checked_sub(1)
                    .map(|f| &self.cfg.faults[f as usize])
                {
                    let pool = pool.clone();
                    if self.claim_pool(instance, reconfigure) {
                        self.instances[instance as usize].pending_pool = Some(pool);
                    }
                }
                self.instance_up(instance);
            }
            Event::WarmupEnd => self.start_measuring(),
            Event::BucketEnd => {
                self.close_bucket();
                let next = (self.now + self.cfg.bucket_us).min(self.end);
                if next > self.now && self.now < self.end {
                    self.queue.push(next, Event::BucketEnd);
                }
            }
        }
        Ok(())
    }

    // ----- Arrivals -----

    fn current_rate(&self) -> f64 {
        match (&self.cfg.arrivals.bursts, self.in_burst) {
            (Some(b), true) => b.rate_per_s,
            _ => self.rate_per_s,
        }
    }

    /// The rate changed (or the run starts): arrivals follow the new rate from now.
    fn restart_arrivals(&mut self) {
        let rate = self.current_rate();
        self.mean_gap_us = if rate > 0.0 { 1e6 / rate } else { 0.0 };
        self.constant_origin = self.now;
        self.constant_count = 0;
        self.schedule_arrival();
    }

    fn schedule_arrival(&mut self) {
        self.arrival_gen = self.arrival_gen.wrapping_add(1);
        let mean_gap_us = self.mean_gap_us;
        if mean_gap_us == 0.0 {
            return;
        }
        let at = match self.cfg.arrivals.process {
            poolsim_scenario::config::ArrivalProcess::Poisson => {
                let gap = mean_gap_us * crate::dist::exp1(&mut self.rng.arrivals);
                self.now + round_us(gap)
            }
            poolsim_scenario::config::ArrivalProcess::Constant => {
                self.constant_count += 1;
                let offset = round_us(mean_gap_us * self.constant_count as f64);
                self.constant_origin + offset
            }
        };
        self.queue.push(
            at,
            Event::Arrival {
                tag: self.arrival_gen,
            },
        );
    }

    fn arrive(&mut self) -> Result<(), RunError> {
        self.in_flight += 1;
        if self.in_flight > self.cfg.max_in_flight {
            return Err(RunError::Overloaded {
                limit: self.cfg.max_in_flight,
                at_s: self.now.secs_f64(),
            });
        }
        let measured = self.measuring;
        let req = self.requests.insert(Request {
            arrived: self.now,
            attempt: u64::MAX,
            attempts_made: 1,
            outstanding: false,
            instance: 0,
            measured,
        });
        self.counts.arrivals += 1;
        if measured {
            self.requests_out.arrived += 1;
        }
        self.start_attempt(req);
        Ok(())
    }

    fn start_attempt(&mut self, req: u32) {
        let attempt = self.next_attempt;
        self.next_attempt += 1;
        let r = &mut self.requests[req];
        r.attempt = attempt;
        r.outstanding = true;
        let measured = r.measured;
        if self.cfg.app.request_timeout_us > 0 {
            self.queue.push(
                self.now + self.cfg.app.request_timeout_us,
                Event::ClientTimeout { req, attempt },
            );
        }
        let Some(instance) = self.pick_instance() else {
            self.attempt_failed(req, Cause::Unavailable);
            return;
        };
        self.requests[req].instance = instance;
        let job = self.jobs.insert(Job {
            req,
            attempt,
            instance,
            phase: Phase::Waiting,
            tag: 0,
            conn: NONE,
            enqueued: self.now,
            acquired: self.now,
            queries_done: 0,
            query_seq: 0,
            leak: false,
            measured,
        });
        self.acquire(instance, job);
    }

    fn pick_instance(&mut self) -> Option<u32> {
        let n = self.instances.len() as u32;
        match self.cfg.app.load_balancer {
            LoadBalancer::RoundRobin => {
                // Wrapping by comparison: an integer division per request is measurable.
                let mut i = self.rr_next;
                for _ in 0..n {
                    let next = if i + 1 == n { 0 } else { i + 1 };
                    if self.instances[i as usize].up {
                        self.rr_next = next;
                        return Some(i);
                    }
                    i = next;
                }
                None
            }
            LoadBalancer::Random => {
                let up = self.instances.iter().filter(|i| i.up).count() as u64;
                if up == 0 {
                    return None;
                }
                let k = self.rng.lb.below(up) as usize;
                self.instances
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| i.up)
                    .nth(k)
                    .map(|(i, _)| i as u32)
            }
            LoadBalancer::LeastBusy => {
                let start = self.rr_next;
                self.rr_next = (self.rr_next + 1) % n;
                (0..n)
                    .map(|k| (start + k) % n)
                    .filter(|&i| self.instances[i as usize].up)
                    .min_by_key(|&i| {
                        let inst = &self.instances[i as usize];
                        inst.active + inst.pending
                    })
            }
        }
    }

    // ----- The pool -----

    fn acquire(&mut self, i: u32, job: u32) {
        while let Some(conn) = self.instances[i as usize].idle.pop() {
            if self.conns[conn].broken {
                // Validation on borrow finds it dead: discard and look again.
                self.close(conn);
                continue;
            }
            self.grant(job, conn);
            self.pool_changed(i);
            return;
        }
        let tag = self.bump(job);
        let j = &mut self.jobs[job];
        j.phase = Phase::Waiting;
        j.enqueued = self.now;
        let inst = &mut self.instances[i as usize];
        inst.waiters.push_back((job, tag));
        inst.pending += 1;
        if inst.pool.connection_timeout_us > 0 {
            let at = self.now + inst.pool.connection_timeout_us;
            self.queue.push(at, Event::PoolTimeout { job, tag });
        }
        self.pool_changed(i);
        self.kick_creator(i);
    }

    fn fresh_gen(&mut self) -> u64 {
        self.next_gen += 1;
        self.next_gen
    }

    fn bump(&mut self, job: u32) -> u64 {
        let tag = self.fresh_gen();
        self.jobs[job].tag = tag;
        tag
    }

    /// `job` takes `conn`, which the caller has already removed from the idle stack.
    fn grant(&mut self, job: u32, conn: u32) {
        let now = self.now;
        let leak_p = self.leak_probability();
        let conn_gen = self.fresh_gen();
        let c = &mut self.conns[conn];
        c.state = ConnState::Active;
        c.holder = job;
        c.tag = conn_gen;
        let i = c.instance as usize;
        self.instances[i].active += 1;
        let leak_us = self.instances[i].pool.leak_detection_us;
        let j = &mut self.jobs[job];
        j.conn = conn;
        j.acquired = now;
        j.queries_done = 0;
        let wait = now.since(j.enqueued);
        if j.measured {
            self.wait.record(wait);
            self.waited += u64::from(wait > 0);
        }
        self.bucket_wait.record(wait);
        if leak_p > 0.0 {
            self.jobs[job].leak = self.rng.leak.chance(leak_p);
        }
        if leak_us > 0 {
            self.queue.push(
                now + leak_us,
                Event::LeakCheck {
                    conn,
                    tag: conn_gen,
                },
            );
        }
        self.start_query(job);
    }

    /// The job gives its connection back (or keeps it forever, if it leaks).
    fn release(&mut self, job: u32) {
        let conn = self.jobs[job].conn;
        let held = self.now.since(self.jobs[job].acquired);
        if self.measuring {
            self.holds_us += u128::from(held);
            self.holds += 1;
        }
        self.jobs[job].conn = NONE;
        let tag = self.fresh_gen();
        let c = &mut self.conns[conn];
        let i = c.instance;
        c.holder = NONE;
        c.tag = tag;
        let inst = &mut self.instances[i as usize];
        inst.active -= 1;
        if c.broken || c.evict || inst.total() + 1 > inst.pool.max_size {
            self.close(conn);
            self.pool_changed(i);
            self.kick_creator(i);
        } else {
            self.checkin(conn);
        }
    }

    /// A usable connection becomes free: to the first live waiter, else to the idle stack.
    fn checkin(&mut self, conn: u32) {
        let i = self.conns[conn].instance;
        while let Some((job, tag)) = self.instances[i as usize].waiters.pop_front() {
            let j = &self.jobs[job];
            if j.tag == tag && j.phase == Phase::Waiting {
                self.instances[i as usize].pending -= 1;
                self.grant(job, conn);
                self.pool_changed(i);
                return;
            }
        }
        let c = &mut self.conns[conn];
        c.state = ConnState::Idle;
        c.idle_since = self.now;
        self.instances[i as usize].idle.push(conn);
        self.pool_changed(i);
    }

    /// Forgets waiters that have left (timed out): from the front, where a pool's single
    /// timeout puts them; and all of them if the queue ever holds twice the live waiters
    /// (possible after a reconfigure changes the timeout), so the queue stays bounded.
    fn drop_stale_waiters(&mut self, i: u32) {
        let jobs = &self.jobs;
        let live = |&(job, tag): &(u32, u64)| {
            let j = &jobs[job];
            j.tag == tag && j.phase == Phase::Waiting
        };
        let inst = &mut self.instances[i as usize];
        while inst.waiters.front().is_some_and(|w| !live(w)) {
            inst.waiters.pop_front();
        }
        if inst.waiters.len() > 2 * inst.pending as usize + 64 {
            inst.waiters.retain(live);
        }
    }

    fn remove_idle(&mut self, conn: u32) {
        let i = self.conns[conn].instance as usize;
        let idle = &mut self.instances[i].idle;
        if let Some(pos) = idle.iter().position(|&c| c == conn) {
            idle.remove(pos);
        }
    }

    /// Closes a connection that is no longer on the idle stack or held by a job.
    fn close(&mut self, conn: u32) {
        let tag = self.fresh_gen();
        let c = &mut self.conns[conn];
        debug_assert_ne!(c.state, ConnState::Closed);
        let was_opening = c.state == ConnState::Opening;
        c.state = ConnState::Closed;
        c.tag = tag;
        let i = c.instance as usize;
        if c.has_slot {
            c.has_slot = false;
            self.db_slots(-1);
        }
        if was_opening {
            // A failed or abandoned opening: never a connection, so not counted as closed.
            self.instances[i].opening -= 1;
        } else if self.measuring {
            self.pool_out.closed += 1;
        }
        self.conns.remove(conn);
    }

    fn should_create(&self, i: u32) -> bool {
        let inst = &self.instances[i as usize];
        let idle = inst.idle.len() as u32;
        inst.up
            && inst.total() < inst.pool.max_size
            && (idle < inst.pool.min_idle || inst.pending > idle)
    }

    /// Starts the creator if it is idle and the pool needs a connection.
    fn kick_creator(&mut self, i: u32) {
        if self.instances[i as usize].creator != Creator::Idle || !self.should_create(i) {
            return;
        }
        let epoch = self.instances[i as usize].epoch;
        let connect_time = &self.instances[i as usize].pool.connect_time;
        let delay = sample(connect_time, &mut self.rng.connect) + self.cfg.db.network_rtt_us;
        let tag = self.fresh_gen();
        let conn = self.conns.insert(Conn {
            instance: i,
            epoch,
            state: ConnState::Opening,
            tag,
            born: tag,
            holder: NONE,
            idle_since: self.now,
            has_slot: false,
            broken: false,
            evict: false,
        });
        let inst = &mut self.instances[i as usize];
        inst.opening += 1;
        inst.creator = Creator::Opening;
        self.queue
            .push(self.now + delay, Event::ConnectDone { conn, tag });
        self.pool_changed(i);
    }

    fn connect_done(&mut self, conn: u32) {
        let i = self.conns[conn].instance;
        let inst = &self.instances[i as usize];
        if self.conns[conn].epoch != inst.epoch || !inst.up {
            return; // The instance restarted meanwhile; instance_down closed it.
        }
        let failure = if self.db_down > 0 {
            self.db_failed += 1;
            Some(Cause::Outage)
        } else if self.db_connections >= self.cfg.db.usable_connections() {
            self.db_refused += 1;
            Some(Cause::DbRefused)
        } else {
            None
        };
        let inst = &mut self.instances[i as usize];
        if let Some(cause) = failure {
            inst.last_open_failure = Some(cause);
            self.counts.db_errors += 1;
            self.close(conn);
            let tag = self.fresh_gen();
            let inst = &mut self.instances[i as usize];
            inst.backoff_us = (inst.backoff_us * 2).min(CREATOR_BACKOFF_MAX_US);
            inst.creator = Creator::Sleeping;
            inst.creator_gen = tag;
            let (at, tag) = (self.now + inst.backoff_us, inst.creator_gen);
            self.queue.push(at, Event::CreatorWake { instance: i, tag });
            self.pool_changed(i);
            return;
        }
        inst.last_open_failure = None;
        inst.backoff_us = CREATOR_BACKOFF_START_US;
        inst.opening -= 1;
        inst.creator = Creator::Idle;
        let lifetime = inst.pool.max_lifetime_us;
        self.db_slots(1);
        debug_assert!(self.db_connections <= self.cfg.db.usable_connections());
        if self.measuring {
            self.pool_out.opened += 1;
        }
        let c = &mut self.conns[conn];
        c.has_slot = true;
        c.state = ConnState::Idle;
        if lifetime > 0 {
            // HikariCP: up to 2.5% earlier, so a pool's connections do not all retire at once.
            let jitter = if lifetime > 10_000_000 {
                self.rng.lifetime.below(lifetime / 40)
            } else {
                0
            };
            let tag = c.born;
            self.queue
                .push(self.now + (lifetime - jitter), Event::Retire { conn, tag });
        }
        self.checkin(conn);
        self.kick_creator(i);
    }

    fn retire(&mut self, conn: u32, born: u64) {
        let c = &mut self.conns[conn];
        if c.born != born {
            return;
        }
        match c.state {
            ConnState::Idle => {
                let i = c.instance;
                self.remove_idle(conn);
                self.close(conn);
                self.pool_changed(i);
                self.kick_creator(i);
            }
            ConnState::Active => c.evict = true,
            ConnState::Opening | ConnState::Closed => {}
        }
    }

    fn housekeep(&mut self, i: u32) {
        let inst = &self.instances[i as usize];
        if !inst.up {
            return;
        }
        let timeout = inst.pool.idle_timeout_us;
        if timeout > 0 && inst.pool.min_idle < inst.pool.max_size {
            // Oldest idle first (the bottom of the stack).
            let mut k = 0;
            while k < self.instances[i as usize].idle.len() {
                let inst = &self.instances[i as usize];
                let conn = inst.idle[k];
                if inst.idle.len() as u32 <= inst.pool.min_idle
                    || inst.total() <= inst.pool.min_idle
                {
                    break;
                }
                if self.now.since(self.conns[conn].idle_since) > timeout {
                    self.instances[i as usize].idle.remove(k);
                    self.close(conn);
                } else {
                    k += 1;
                }
            }
            self.pool_changed(i);
        }
        self.kick_creator(i);
    }

    // ----- Transactions and the database -----

    fn start_query(&mut self, job: u32) {
        let conn = self.jobs[job].conn;
        if self.db_down > 0 || self.conns[conn].broken {
            return self.fail_on_broken(job);
        }
        let rtt = self.cfg.db.network_rtt_us;
        if rtt > 0 {
            let tag = self.bump(job);
            self.jobs[job].phase = Phase::Network;
            self.queue.push(self.now + rtt, Event::JobStep { job, tag });
        } else {
            self.enter_db(job);
        }
    }

    fn enter_db(&mut self, job: u32) {
        let conn = self.jobs[job].conn;
        if self.db_down > 0 || self.conns[conn].broken {
            return self.fail_on_broken(job);
        }
        let mut demand = sample(&self.cfg.transaction.query_time, &mut self.rng.query);
        if !self.slow_factors.is_empty() {
            let factor: f64 = self.slow_factors.iter().map(|&(_, f)| f).product();
            demand = round_us(demand as f64 * factor);
        }
        let tag = self.bump(job);
        self.next_query += 1;
        let seq = self.next_query;
        let j = &mut self.jobs[job];
        j.phase = Phase::Query;
        j.query_seq = seq;
        let start = self.cpu.start(self.now, demand, seq, job);
        if self.cfg.db.statement_timeout_us > 0 {
            let at = self.now + self.cfg.db.statement_timeout_us;
            self.queue.push(at, Event::StatementTimeout { job, tag });
        }
        match start {
            Start::Direct(end) => {
                self.queue.push(end, Event::QueryDone { job, seq });
                self.cpu_gauges();
            }
            // At full speed before and after, a shared query that ends no earlier than the
            // completion already scheduled changes no completion time: only gauges move.
            Start::Shared
                if self.cpu.at_full_speed()
                    && self.db_scheduled.is_some_and(|t| t <= self.now + demand) =>
            {
                self.cpu_gauges()
            }
            Start::Shared => self.cpu_changed(),
        }
    }

    /// The connection is dead (outage): the query fails and the pool discards it.
    fn fail_on_broken(&mut self, job: u32) {
        let conn = self.jobs[job].conn;
        self.conns[conn].broken = true;
        self.release(job);
        self.job_finished(job, Err(Cause::Outage));
    }

    fn query_done(&mut self, job: u32) {
        let j = &mut self.jobs[job];
        j.queries_done += 1;
        if j.queries_done < self.cfg.transaction.queries {
            let think = sample(&self.cfg.transaction.think_time, &mut self.rng.think);
            if think > 0 {
                let tag = self.bump(job);
                self.jobs[job].phase = Phase::Think;
                self.queue
                    .push(self.now + think, Event::JobStep { job, tag });
            } else {
                self.start_query(job);
            }
            return;
        }
        if self.jobs[job].leak {
            self.leak_connection(job);
        } else {
            self.release(job);
        }
        self.job_finished(job, Ok(()));
    }

    /// The request completes but never closes its connection: it stays in use forever.
    fn leak_connection(&mut self, job: u32) {
        let conn = self.jobs[job].conn;
        self.jobs[job].conn = NONE;
        self.conns[conn].holder = NONE;
        if self.measuring {
            self.pool_out.leaked += 1;
        }
    }

    fn reschedule_db(&mut self) {
        let jobs = &self.jobs;
        let next = self
            .cpu
            .next_completion(self.now, |seq, job| query_is_live(jobs, seq, job));
        if next == self.db_scheduled {
            return;
        }
        self.db_gen += 1;
        self.db_scheduled = next;
        if let Some(at) = next {
            self.queue.push(at, Event::DbComplete { tag: self.db_gen });
        }
    }

    /// Queries started, finished or were cancelled.
    fn cpu_changed(&mut self) {
        self.reschedule_db();
        self.cpu_gauges();
    }

    fn cpu_gauges(&mut self) {
        let now = self.now;
        let running = u64::from(self.cpu.running());
        if running != self.db_running_gauge.value() {
            self.db_running_gauge.set(now, running);
            self.db_busy_gauge
                .set_if_changed(now, u64::from(self.cpu.busy_cores()));
        }
    }

    /// A database connection slot was taken (+1) or freed (-1).
    fn db_slots(&mut self, delta: i32) {
        self.db_connections = self
            .db_connections
            .checked_add_signed(delta)
            .expect("database connection count went below zero");
        self.db_conn_gauge
            .set(self.now, u64::from(self.db_connections));
    }

    // ----- Outcomes -----

    fn job_finished(&mut self, job: u32, outcome: Result<(), Cause>) {
        let tag = self.fresh_gen();
        let j = &mut self.jobs[job];
        j.phase = Phase::Done;
        j.tag = tag;
        let (req, attempt) = (j.req, j.attempt);
        self.jobs.remove(job);
        let r = &self.requests[req];
        if r.attempt != attempt || !r.outstanding {
            if self.measuring {
                self.requests_out.abandoned_attempts += 1;
            }
            return;
        }
        match outcome {
            Ok(()) => self.request_succeeded(req),
            Err(cause) => self.attempt_failed(req, cause),
        }
    }

    fn request_succeeded(&mut self, req: u32) {
        let r = &self.requests[req];
        let latency = self.now.since(r.arrived);
        self.instances[r.instance as usize].succeeded += 1;
        if r.measured {
            self.requests_out.succeeded += 1;
            self.latency.record(latency);
        }
        self.bucket_latency.record(latency);
        self.counts.succeeded += 1;
        self.free_request(req);
    }

    fn attempt_failed(&mut self, req: u32, cause: Cause) {
        let r = &mut self.requests[req];
        r.outstanding = false;
        let retry = &self.cfg.app.retries;
        if r.attempts_made <= retry.max {
            let mut delay = retry.backoff_us as f64
                * libm::pow(retry.multiplier, f64::from(r.attempts_made - 1));
            if retry.max_backoff_us > 0 {
                delay = delay.min(retry.max_backoff_us as f64);
            }
            let delay = round_us(delay);
            let delay = match retry.jitter {
                Jitter::None => delay,
                Jitter::Full => self.rng.retry.below(delay + 1),
                Jitter::Equal => delay / 2 + self.rng.retry.below(delay - delay / 2 + 1),
            };
            let attempt = r.attempt;
            self.queue
                .push(self.now + delay, Event::Retry { req, attempt });
            return;
        }
        self.instances[r.instance as usize].failed += 1;
        let latency = self.now.since(r.arrived);
        if r.measured {
            self.requests_out.failed += 1;
            self.requests_out.failures[cause] += 1;
            self.latency_failed.record(latency);
        }
        self.bucket_latency_failed.record(latency);
        self.counts.failed[cause] += 1;
        self.free_request(req);
    }

    fn free_request(&mut self, req: u32) {
        self.requests[req].attempt = u64::MAX;
        self.requests.remove(req);
        self.in_flight -= 1;
    }

    // ----- Faults and operations -----

    fn leak_probability(&self) -> f64 {
        1.0 - self.leaks.iter().map(|&(_, f)| 1.0 - f).product::<f64>()
    }

    fn fault_start(&mut self, index: u32) {
        match self.cfg.faults[index as usize].clone() {
            FaultConfig::DbOutage { duration_us, .. } => {
                self.end_fault_after(index, duration_us);
                self.db_outage_starts();
            }
            FaultConfig::SlowQueries {
                duration_us,
                factor,
                ..
            } => {
                self.slow_factors.push((index, factor));
                self.end_fault_after(index, duration_us);
            }
            FaultConfig::ConnectionLeak {
                duration_us,
                fraction,
                ..
            } => {
                self.leaks.push((index, fraction));
                self.end_fault_after(index, duration_us);
            }
            FaultConfig::Scale { instances, .. } => {
                self.fault_window(index, Some(self.now));
                let entry = Scaled {
                    fault: self.cfg.fault_sources[index as usize],
                    at_s: self.now.secs_f64(),
                    from: self.in_service,
                    to: instances,
                };
                let ops = &mut self.operations;
                bounded_push(&mut ops.scales, &mut ops.dropped, entry);
                self.scale(instances);
            }
            FaultConfig::RollingRestart { restart, .. } => {
                self.schedule_restarts(index, restart, 0)
            }
            FaultConfig::Reconfigure { pool, restart, .. } => match restart {
                Some(restart) => {
                    // Instances out of service start with the new settings if scaled in.
                    for i in self.in_service..self.instances.len() as u32 {
                        if self.claim_pool(i, index + 1) {
                            self.instances[i as usize].pending_pool = Some(pool.clone());
                        }
                    }
                    self.schedule_restarts(index, restart, index + 1);
                }
                None => {
                    self.fault_window(index, Some(self.now));
                    for i in 0..self.instances.len() as u32 {
                        if self.claim_pool(i, index + 1) {
                            self.reconfigure_live(i, &pool);
                        }
                    }
                }
            },
        }
    }

    /// Whether reconfigure `source` (fault index + 1) is at least as new as the settings
    /// instance `i` has or awaits; if so it becomes theirs. Faults are in time order.
    fn claim_pool(&mut self, i: u32, source: u32) -> bool {
        let inst = &mut self.instances[i as usize];
        let newer = source >= inst.pool_from;
        if newer {
            inst.pool_from = source;
        }
        newer
    }

    /// The fleet becomes `n` instances: the lowest-numbered serve, the others stop.
    fn scale(&mut self, n: u32) {
        let was = std::mem::replace(&mut self.in_service, n);
        for i in n..was {
            self.take_down(i);
        }
        for i in was..n {
            self.instance_up(i);
        }
    }

    /// Restarts can overlap (a rolling restart, a reconfigure's, a scale-in): an instance
    /// goes down at the first and comes back after the last.
    fn take_down(&mut self, i: u32) {
        let inst = &mut self.instances[i as usize];
        inst.downs += 1;
        if inst.downs == 1 {
            self.instance_down(i);
        }
    }

    fn instance_up(&mut self, i: u32) {
        let inst = &mut self.instances[i as usize];
        inst.downs -= 1;
        if inst.downs == 0 {
            let applied = inst.pending_pool.take().map(|pool| {
                inst.bound = pool.max_size;
                inst.pool = pool;
                inst.pool_from
            });
            inst.up = true;
            if let Some(source) = applied {
                self.reconfigured(i, source);
            }
            self.capacity_changed();
            self.kick_creator(i);
        }
    }

    /// Schedules the end of fault `index` (`0` = it lasts to the end of the run).
    fn end_fault_after(&mut self, index: u32, duration_us: u64) {
        let end = (duration_us > 0).then(|| self.now + duration_us);
        self.fault_window(index, end);
        if let Some(end) = end {
            self.queue.push(end, Event::FaultEnd { index });
        }
    }

    fn fault_end(&mut self, index: u32) {
        match self.cfg.faults[index as usize] {
            FaultConfig::DbOutage { .. } => self.db_down -= 1,
            FaultConfig::SlowQueries { .. } => self.slow_factors.retain(|&(f, _)| f != index),
            FaultConfig::ConnectionLeak { .. } => self.leaks.retain(|&(f, _)| f != index),
            _ => {}
        }
    }

    /// Restarts the instances in service, `batch` at a time (fault `index`; `reconfigure`
    /// is the reconfigure's fault index + 1 whose settings they start with, or 0).
    fn schedule_restarts(&mut self, index: u32, restart: RestartConfig, reconfigure: u32) {
        let fault = self.cfg.fault_sources[index as usize];
        let mut last_up = self.now;
        for instance in 0..self.in_service {
            let batch = u64::from(instance / restart.batch);
            let at = self.now + batch * (restart.down_us + restart.gap_us);
            let up = at + restart.down_us;
            self.queue.push(at, Event::InstanceDown { instance });
            self.queue.push(
                up,
                Event::InstanceUp {
                    instance,
                    reconfigure,
                },
            );
            let ops = &mut self.operations;
            match ops.restarts.last_mut() {
                Some(b) if b.fault == fault && b.down_s == at.secs_f64() => {
                    b.instances.push(instance)
                }
                _ => bounded_push(
                    &mut ops.restarts,
                    &mut ops.dropped,
                    RestartBatch {
                        fault,
                        instances: vec![instance],
                        down_s: at.secs_f64(),
                        up_s: up.secs_f64(),
                    },
                ),
            }
            last_up = up;
        }
        self.fault_window(index, Some(last_up));
    }

    /// The database goes away: every connection breaks, running queries fail.
    fn db_outage_starts(&mut self) {
        self.db_down += 1;
        if self.db_down > 1 {
            return; // Already unreachable: nothing more breaks.
        }
        self.cpu.clear(self.now);
        let in_query: Vec<u32> = (0..self.jobs.items.len() as u32)
            .filter(|&j| self.jobs[j].phase == Phase::Query)
            .collect();
        let mut freed = 0;
        for conn in &mut self.conns.items {
            if conn.state != ConnState::Closed && conn.state != ConnState::Opening {
                conn.broken = true;
                freed += i32::from(std::mem::take(&mut conn.has_slot));
            }
        }
        self.db_slots(-freed);
        for job in in_query {
            self.fail_on_broken(job);
        }
        for i in 0..self.instances.len() as u32 {
            let idle = std::mem::take(&mut self.instances[i as usize].idle);
            for conn in idle {
                self.close(conn);
            }
            self.pool_changed(i);
            self.kick_creator(i);
        }
        self.cpu_changed();
    }

    fn instance_down(&mut self, i: u32) {
        let tag = self.fresh_gen();
        let inst = &mut self.instances[i as usize];
        inst.up = false;
        inst.epoch += 1;
        inst.creator = Creator::Idle;
        inst.creator_gen = tag;
        inst.backoff_us = CREATOR_BACKOFF_START_US;
        inst.last_open_failure = None;
        inst.waiters.clear();
        inst.pending = 0;
        let victims: Vec<u32> = (0..self.jobs.items.len() as u32)
            .filter(|&j| {
                let job = &self.jobs[j];
                job.instance == i && job.phase != Phase::Done
            })
            .collect();
        for job in victims {
            let phase = self.jobs[job].phase;
            if phase == Phase::Query {
                self.cpu.cancel(self.now, self.jobs[job].query_seq);
            }
            if phase != Phase::Waiting {
                let conn = self.jobs[job].conn;
                self.jobs[job].conn = NONE;
                self.conns[conn].holder = NONE;
            }
            self.job_finished(job, Err(Cause::Unavailable));
        }
        // Close everything the pool has: idle, in use (including leaked), being opened.
        for c in 0..self.conns.items.len() as u32 {
            let conn = &self.conns[c];
            if conn.instance == i && conn.state != ConnState::Closed {
                self.close(c);
            }
        }
        let inst = &mut self.instances[i as usize];
        inst.idle.clear();
        inst.active = 0;
        inst.opening = 0;
        self.pool_changed(i);
        self.capacity_changed();
        self.cpu_changed();
    }

    fn reconfigure_live(&mut self, i: u32, pool: &PoolConfig) {
        let inst = &mut self.instances[i as usize];
        if !inst.up {
            // Down for a restart: the new settings apply when it starts.
            inst.pending_pool = Some(pool.clone());
            return;
        }
        inst.bound = inst.total().max(pool.max_size);
        inst.pool = pool.clone();
        let source = inst.pool_from;
        self.reconfigured(i, source);
        // Shrink: close idle connections above the new maximum now; in-use ones on return.
        while self.instances[i as usize].total() > pool.max_size {
            match self.instances[i as usize].idle.first().copied() {
                Some(conn) => {
                    self.instances[i as usize].idle.remove(0);
                    self.close(conn);
                }
                None => break,
            }
        }
        self.pool_changed(i);
        self.capacity_changed();
        self.kick_creator(i);
    }

    // ----- Measurement -----

    fn pool_changed(&mut self, i: u32) {
        let now = self.now;
        let inst = &mut self.instances[i as usize];
        let total = inst.total();
        debug_assert!(
            total <= inst.bound,
            "pool {i} holds {total} > {}",
            inst.bound
        );
        if total <= inst.pool.max_size {
            inst.bound = inst.pool.max_size;
        }
        let values = [
            u64::from(inst.active),
            inst.idle.len() as u64,
            u64::from(inst.pending),
            u64::from(inst.held()),
        ];
        for (k, &v) in values.iter().enumerate() {
            let old = inst.gauges[k].value();
            if old != v {
                inst.gauges[k].set(now, v);
                self.fleet[k].add(v as i64 - old as i64);
            }
        }
    }

    /// An instance came up or went down, or its pool settings changed.
    fn capacity_changed(&mut self) {
        let (mut max, mut min, mut up) = (0u64, 0u64, 0u64);
        for inst in self.instances.iter_mut().filter(|i| i.up) {
            max += u64::from(inst.pool.max_size);
            min += u64::from(inst.pool.min_idle);
            up += 1;
            inst.max_peak = inst.max_peak.max(inst.pool.max_size);
        }
        self.capacity.set(self.now, max);
        self.min_capacity.set(self.now, min);
        self.up_gauge.set(self.now, up);
    }

    /// Pool settings took effect on instance `i`, from reconfigure `source` (fault index + 1).
    fn reconfigured(&mut self, i: u32, source: u32) {
        let Some(index) = source.checked_sub(1) else {
            return;
        };
        let pool = &self.instances[i as usize].pool;
        let entry = Reconfigured {
            fault: self.cfg.fault_sources[index as usize],
            instance: i,
            at_s: self.now.secs_f64(),
            max_size: pool.max_size,
            min_idle: pool.min_idle,
            connection_timeout_ms: pool.connection_timeout_us as f64 / 1e3,
        };
        let ops = &mut self.operations;
        bounded_push(&mut ops.reconfigures, &mut ops.dropped, entry);
    }

    /// Fault `index` started now; its window ends at `to` (`None`: the end of the run, or
    /// not yet known).
    fn fault_window(&mut self, index: u32, to: Option<SimTime>) {
        let entry = FaultWindow {
            fault: self.cfg.fault_sources[index as usize],
            kind: self.cfg.faults[index as usize].kind().to_owned(),
            from_s: self.now.secs_f64(),
            to_s: to.map(SimTime::secs_f64),
        };
        let ops = &mut self.operations;
        bounded_push(&mut ops.faults, &mut ops.dropped, entry);
    }

    fn start_measuring(&mut self) {
        self.measuring = true;
        let now = self.now;
        for level in &mut self.fleet {
            level.reset_run();
        }
        for g in [
            &mut self.capacity,
            &mut self.min_capacity,
            &mut self.up_gauge,
            &mut self.db_conn_gauge,
            &mut self.db_running_gauge,
            &mut self.db_busy_gauge,
        ]
        .into_iter()
        .chain(self.instances.iter_mut().flat_map(|i| i.gauges.iter_mut()))
        {
            g.reset_run(now);
        }
    }

    fn close_bucket(&mut self) {
        let now = self.now;
        let index = self.series.arrivals.len() as u64;
        let start = index * self.cfg.bucket_us;
        let width = now.us() - start;
        let s = &mut self.series;
        let c = std::mem::take(&mut self.counts);
        s.arrivals.push(c.arrivals);
        s.succeeded.push(c.succeeded);
        for (cause, &n) in c.failed.iter() {
            s.failed[cause].push(n);
        }
        s.retries.push(c.retries);
        s.pool_timeouts.push(c.pool_timeouts);
        s.db_connection_errors.push(c.db_errors);
        s.leak_reports.push(c.leak_reports);
        let push = |gauge: &mut Gauge, out: &mut crate::report::Gauge| {
            let (mean, max) = gauge.take_bucket(now, width);
            out.mean.push(mean as f32);
            out.max.push(max as u32);
            mean
        };
        // Per instance, and their sums for the fleet.
        let mut fleet_area = [0u128; 4];
        for (inst, out) in self.instances.iter_mut().zip(s.instances.iter_mut()) {
            let mut area = [0u128; 4];
            for (k, a) in area.iter_mut().enumerate() {
                *a = inst.gauges[k].take_bucket_area(now).0;
                fleet_area[k] += *a;
            }
            let mean = |a: u128| (a as f64 / width.max(1) as f64) as f32;
            out.active.push(mean(area[ACTIVE]));
            out.idle.push(mean(area[IDLE]));
            out.pending.push(mean(area[PENDING]));
            out.total.push(mean(area[TOTAL]));
            out.max.push(inst.max_peak);
            inst.max_peak = if inst.up { inst.pool.max_size } else { 0 };
        }
        let mut fleet = |k: usize, out: &mut crate::report::Gauge| {
            let mean = fleet_area[k] as f64 / width.max(1) as f64;
            out.mean.push(mean as f32);
            out.max.push(self.fleet[k].take_bucket_max() as u32);
            mean
        };
        let active = fleet(ACTIVE, &mut s.pool_active);
        let idle = fleet(IDLE, &mut s.pool_idle);
        let pending = fleet(PENDING, &mut s.pool_pending);
        let total = fleet(TOTAL, &mut s.pool_total);
        let db_conns = push(&mut self.db_conn_gauge, &mut s.db_connections);
        let running = push(&mut self.db_running_gauge, &mut s.db_running);
        let (busy, _) = self.db_busy_gauge.take_bucket(now, width);
        let cpu = busy / f64::from(self.cfg.db.cores);
        s.db_cpu.push(cpu as f32);
        push(&mut self.capacity, &mut s.pool_max);
        push(&mut self.min_capacity, &mut s.pool_min);
        push(&mut self.up_gauge, &mut s.instances_up);
        s.db_usable.push(self.cfg.db.usable_connections());
        let ms = |h: &Histogram, us: u64| (h.count() > 0).then_some(us as f32 / 1e3);
        let [l50, l95, l99] = self.bucket_latency.quantiles([0.5, 0.95, 0.99]);
        let [w50, w99] = self.bucket_wait.quantiles([0.5, 0.99]);
        let (latency_p99, wait_p99) = (ms(&self.bucket_latency, l99), ms(&self.bucket_wait, w99));
        s.latency_p50_ms.push(ms(&self.bucket_latency, l50));
        s.latency_p95_ms.push(ms(&self.bucket_latency, l95));
        s.latency_p99_ms.push(latency_p99);
        s.pool_wait_p50_ms.push(ms(&self.bucket_wait, w50));
        s.pool_wait_p99_ms.push(wait_p99);
        // Every acquisition that ended: the timed-out ones joined by the granted ones.
        self.bucket_wait_failed.merge(&self.bucket_wait);
        let [all99] = self.bucket_wait_failed.quantiles([0.99]);
        s.pool_wait_all_p99_ms
            .push(ms(&self.bucket_wait_failed, all99));
        let [f99] = self.bucket_latency_failed.quantiles([0.99]);
        s.latency_failed_p99_ms
            .push(ms(&self.bucket_latency_failed, f99));

        let secs = width.max(1) as f64 / 1e6;
        let failed: u32 = c.failed.0.iter().sum();
        let finished = failed + c.succeeded;
        let (latency_p99, wait_p99) = (latency_p99.map(f64::from), wait_p99.map(f64::from));
        let rtt_ms = self.cfg.db.network_rtt_us as f64 / 1e3;
        self.alerts.observe(start, now.us(), |metric| match metric {
            Metric::HikaricpConnectionsActive => Some(active),
            Metric::HikaricpConnectionsIdle => Some(idle),
            Metric::HikaricpConnectionsPending => Some(pending),
            Metric::HikaricpConnections => Some(total),
            Metric::HikaricpConnectionsTimeoutTotal => Some(f64::from(c.pool_timeouts) / secs),
            Metric::HikaricpConnectionsAcquireP99Ms => wait_p99,
            Metric::DbConnections => Some(db_conns),
            Metric::DbRunningQueries => Some(running),
            Metric::DbCpuUtilization => Some(cpu),
            Metric::DbConnectionErrorsPerS => Some(f64::from(c.db_errors) / secs),
            Metric::HttpRequestsPerS => Some(f64::from(c.arrivals) / secs),
            Metric::HttpFailuresPerS => Some(f64::from(failed) / secs),
            Metric::HttpFailureRatio => {
                (finished > 0).then(|| f64::from(failed) / f64::from(finished))
            }
            Metric::HttpLatencyP99Ms => latency_p99,
            Metric::NetworkRttMs => Some(rtt_ms),
        });
        self.bucket_latency.clear();
        self.bucket_wait.clear();
        self.bucket_wait_failed.clear();
        self.bucket_latency_failed.clear();
        self.check_invariants();
    }

    /// Pool and database bounds; a failure is a bug in the engine.
    fn check_invariants(&self) {
        let seed = self.cfg.seed;
        let usable = self.cfg.db.usable_connections();
        assert!(
            self.db_connections <= usable,
            "database holds {} connections of {usable} usable at {} (seed {seed})",
            self.db_connections,
            self.now
        );
        let mut held = 0;
        for (i, inst) in self.instances.iter().enumerate() {
            assert!(
                inst.total() <= inst.bound,
                "instance {i} pool holds {} connections, max_size {} (seed {seed})",
                inst.total(),
                inst.pool.max_size
            );
            assert!(
                inst.opening <= 1,
                "instance {i} opens {} connections at once (seed {seed})",
                inst.opening
            );
            assert!(
                inst.up || inst.total() == 0,
                "instance {i} is down but holds {} connections (seed {seed})",
                inst.total()
            );
            held += inst.held();
        }
        assert!(
            held >= self.db_connections,
            "the database counts {} connections but pools hold {held} at {} (seed {seed})",
            self.db_connections,
            self.now
        );
    }

    fn finish_run(&mut self) {
        self.now = self.end;
        if self.series.arrivals.len() < self.cfg.bucket_count() {
            self.close_bucket();
        }
        self.done = true;
    }

    /// The report of a finished run (a run not yet done is first run to its end).
    pub fn into_report(mut self) -> Report {
        while !self.done {
            if self.advance(u64::MAX).is_err() {
                break;
            }
        }
        let now = self.end;
        let measured_us = (self.cfg.duration_us - self.cfg.warmup_us).max(1) as f64;
        let mean = |g: &mut Gauge| g.run(now).0 as f64 / measured_us;

        let in_flight_measured = self
            .requests
            .items
            .iter()
            .filter(|r| r.attempt != u64::MAX && r.measured)
            .count() as u64;
        let mut requests = self.requests_out.clone();
        requests.in_flight = in_flight_measured;
        assert_eq!(
            requests.arrived,
            requests.succeeded + requests.failed + requests.in_flight,
            "conservation broken (seed {})",
            self.cfg.seed
        );

        let mut pool = self.pool_out.clone();
        let mut fleet_area = [0u128; 4];
        for inst in &mut self.instances {
            for (k, area) in fleet_area.iter_mut().enumerate() {
                *area += inst.gauges[k].run(now).0;
            }
        }
        let fleet_mean = |k: usize| fleet_area[k] as f64 / measured_us;
        pool.mean_active = fleet_mean(ACTIVE);
        pool.mean_idle = fleet_mean(IDLE);
        pool.mean_pending = fleet_mean(PENDING);
        pool.mean_total = fleet_mean(TOTAL);
        let capacity = mean(&mut self.capacity);
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
        pool.acquisitions_per_s = self.wait.count() as f64 / (measured_us / 1e6);

        let db = DbStats {
            usable_connections: u64::from(self.cfg.db.usable_connections()),
            peak_connections: self.db_conn_gauge.run(now).1,
            mean_connections: mean(&mut self.db_conn_gauge),
            refused_connections: self.db_refused,
            failed_connections: self.db_failed,
            mean_running_queries: mean(&mut self.db_running_gauge),
            peak_running_queries: self.db_running_gauge.run(now).1,
            cpu_utilization: mean(&mut self.db_busy_gauge) / f64::from(self.cfg.db.cores),
        };

        let wait = stats_ms(&self.wait);
        let pool_wait_ms = WaitStats {
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
        };
        let latency_ms = stats_ms(&self.latency);
        let pool_wait_timed_out_ms = stats_ms(&self.wait_timed_out);
        let latency_failed_ms = stats_ms(&self.latency_failed);
        let instances = self
            .instances
            .iter_mut()
            .enumerate()
            .map(|(k, inst)| InstanceStats {
                instance: k as u32,
                succeeded: inst.succeeded,
                failed: inst.failed,
                pool_timeouts: inst.pool_timeouts,
                mean_connections: inst.gauges[TOTAL].run(now).0 as f64 / measured_us,
                mean_active: inst.gauges[ACTIVE].run(now).0 as f64 / measured_us,
                mean_pending: inst.gauges[PENDING].run(now).0 as f64 / measured_us,
            })
            .collect();
        let series = std::mem::take(&mut self.series);
        let mut summary = Summary {
            name: self.cfg.scenario.name.clone(),
            seed: self.cfg.seed,
            duration_s: self.cfg.duration_us as f64 / 1e6,
            warmup_s: self.cfg.warmup_us as f64 / 1e6,
            requests,
            pool_wait_ms,
            latency_ms,
            pool_wait_timed_out_ms,
            latency_failed_ms,
            pool,
            db,
            alerts: self.alerts.finish(now.us()),
            instances,
            theory: crate::theory::theory(&self.cfg),
            events: self.events,
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
            pool_wait: bins(&self.wait),
            latency: bins(&self.latency),
        };
        let operations = std::mem::take(&mut self.operations);
        summary.digest = digest(&summary, &series, &distributions, &operations);
        Report {
            summary,
            series,
            distributions,
            operations,
        }
    }
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

/// Whether a CPU heap entry still belongs to a running query (cancelled ones are skipped).
fn query_is_live(jobs: &Slab<Job>, seq: u64, job: u32) -> bool {
    let j = &jobs.items[job as usize];
    j.query_seq == seq && j.phase == Phase::Query
}

/// Appends `item` unless `list` holds [`Operations::LIMIT`] entries; then counts it dropped.
fn bounded_push<T>(list: &mut Vec<T>, dropped: &mut u64, item: T) {
    if list.len() < Operations::LIMIT {
        list.push(item);
    } else {
        *dropped += 1;
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

//! The simulation: sub-models coordinated through one closed [`Event`] enum and one `match`.
//!
//! Each concern is a sub-model that owns its state and rules and returns what should be
//! scheduled or what changed, never reaching into another's state:
//! - [`clients`]: arrivals, requests, attempts, retries, request timeouts;
//! - [`fleet`]: instances, load balancing, restarts and scaling;
//! - [`pool`]: HikariCP pools and their connections;
//! - [`work`]: each attempt's transaction at an instance (a "job");
//! - [`database`]: connection slots, reachability, slow queries and the CPU (`db.rs`);
//! - [`faults`]: leaks under way and the record of operations as applied;
//! - [`measure`]: gauges, histograms, the series, alerts and the report.
//!
//! [`Simulation`] only coordinates: an event comes due, the models it concerns are asked,
//! and what they return is scheduled or passed on. [`checker`] reads the models from
//! outside to check the invariants at every bucket's end.
//!
//! **Ordering:** events pop in time order, and same-time events in the order they were
//! scheduled (`queue.rs`). Timers are never cancelled: each event carries the generation
//! (or attempt id) of the thing it is for, from one global counter, and is dropped when it
//! comes due if that has moved on.
//!
//! Model notes beyond the pools' (see `pool.rs`):
//! - A client that times out may retry; the server does not know and finishes the attempt
//!   anyway (counted as `abandoned_attempts`): this is what makes retry storms metastable.
//! - A pool timeout counts as `db_refused` when the pool's last opening was refused, as
//!   `outage` when the database was unreachable, and as `pool_timeout` otherwise.

mod checker;
mod clients;
mod database;
mod faults;
mod fleet;
mod measure;
mod pool;
mod slab;
mod work;

use poolsim_scenario::config::{Config, FaultConfig, HOUSEKEEPING_US, PoolConfig, RestartConfig};

use self::clients::{AfterFailure, Clients};
use self::database::Database;
use self::faults::Faults;
use self::fleet::Fleet;
use self::measure::{End, Measurement};
use self::pool::{Checkin, Pools, Returned};
use self::work::{Jobs, NO_CONN, Next, Phase};
use crate::cause::Cause;
use crate::db::Start;
use crate::queue::EventQueue;
use crate::report::{Operations, Report, Series};
use crate::time::SimTime;

/// Why a run stopped before its end. A valid scenario never fails otherwise.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error(
        "the run needed more than limits.max_events = {limit} events (stopped at {at_s:.1}s of simulated time); shorten the duration or raise the limit"
    )]
    EventBudget { limit: u64, at_s: f64 },
    #[error(
        "more than limits.max_in_flight = {limit} requests were in flight at {at_s:.1}s: the system is overloaded and requests pile up faster than they time out; lower the load, set or shorten app.request_timeout, or raise the limit"
    )]
    Overloaded { limit: u32, at_s: f64 },
    /// Attempts whose clients gave up still wait at the pools (`connection_timeout` 0 waits
    /// for ever): the server does not know, so they pile up without bound.
    #[error(
        "more than limits.max_in_flight = {limit} attempts were under way at the instances at {at_s:.1}s, {abandoned} of them abandoned by their clients but still held at the instances; set app.pool.connection_timeout so that waits end, lower the load, or raise the limit"
    )]
    Abandoned {
        limit: u32,
        abandoned: u64,
        at_s: f64,
    },
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

/// A running simulation. Feed it time with [`Simulation::advance`].
#[derive(Debug)]
pub struct Simulation {
    cfg: Config,
    now: SimTime,
    end: SimTime,
    queue: EventQueue<Event>,
    events: u64,
    done: bool,
    /// Every generation number is fresh, so a stale timer never matches a reused slot.
    next_gen: u64,
    clients: Clients,
    fleet: Fleet,
    pools: Pools,
    jobs: Jobs,
    db: Database,
    faults: Faults,
    measure: Measurement,
}

impl Simulation {
    pub fn new(config: &Config) -> Simulation {
        let cfg = config.clone();
        let seed = cfg.seed;
        let slots = cfg.instance_slots();
        let in_service = cfg.app.instances;
        let mut sim = Simulation {
            now: SimTime::ZERO,
            end: SimTime(cfg.duration_us),
            queue: EventQueue::new(),
            events: 0,
            done: false,
            next_gen: 0,
            clients: Clients::new(&cfg.arrivals, &cfg.app, cfg.max_in_flight, seed),
            fleet: Fleet::new(slots, in_service, cfg.app.load_balancer, seed),
            pools: Pools::new(&cfg.pool, slots, in_service, seed),
            jobs: Jobs::new(&cfg.transaction, seed),
            db: Database::new(&cfg.db),
            faults: Faults::new(&cfg.fault_sources),
            measure: Measurement::new(&cfg),
            cfg,
        };
        sim.start();
        sim
    }

    fn start(&mut self) {
        let now = SimTime::ZERO;
        self.capacity_changed();
        for i in 0..self.fleet.slots() {
            if self.fleet.is_up(i) {
                self.kick_creator(i);
            }
            self.queue
                .push(now + HOUSEKEEPING_US, Event::Housekeep { instance: i });
        }
        for (index, &(at, _)) in self.clients.arrivals.steps().iter().enumerate() {
            let index = index as u32;
            self.queue.push(SimTime(at), Event::RateStep { index });
        }
        if let Some(off_us) = self.clients.arrivals.first_burst_flip_us() {
            self.queue.push(now + off_us, Event::BurstFlip);
        }
        for (index, fault) in self.cfg.faults.iter().enumerate() {
            let index = index as u32;
            self.queue
                .push(SimTime(fault.at_us()), Event::FaultStart { index });
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
        &self.measure.series
    }

    /// The faults and operations applied so far (the page draws them as a run goes).
    pub fn operations(&self) -> &Operations {
        &self.faults.record
    }

    fn handle(&mut self, event: Event) -> Result<(), RunError> {
        match event {
            Event::Arrival { tag } => self.arrival(tag)?,
            Event::RateStep { index } => {
                self.clients.arrivals.step(index);
                self.restart_arrivals();
            }
            Event::BurstFlip => self.burst_flip(),
            Event::Retry { req, attempt } => self.retry(req, attempt)?,
            Event::ClientTimeout { req, attempt } => {
                if self.clients.awaits(req, attempt) {
                    self.attempt_failed(req, Cause::ClientTimeout);
                }
            }
            Event::PoolTimeout { job, tag } => self.pool_timeout(job, tag),
            Event::JobStep { job, tag } => self.job_step(job, tag),
            Event::StatementTimeout { job, tag } => self.statement_timeout(job, tag),
            Event::DbComplete { tag } => self.db_complete(tag),
            Event::QueryDone { job, seq } => {
                if self.jobs.runs_query(seq, job) && self.db.cpu.finish_direct(self.now, seq) {
                    self.cpu_gauges();
                    self.query_done(job);
                }
            }
            Event::ConnectDone { conn, tag } => {
                let c = &self.pools.conns[conn];
                if c.tag == tag && c.state == pool::ConnState::Opening {
                    self.connect_done(conn);
                }
            }
            Event::CreatorWake { instance, tag } => {
                if self.pools.creator_wakes(instance, tag) {
                    self.kick_creator(instance);
                }
            }
            Event::Retire { conn, tag } => self.retire(conn, tag),
            Event::LeakCheck { conn, tag } => {
                let c = &self.pools.conns[conn];
                if c.tag == tag && c.state == pool::ConnState::Active {
                    self.measure.leak_reported();
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
            } => self.restarted(instance, reconfigure),
            Event::WarmupEnd => self.measure.start_measuring(self.now),
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

    fn fresh_gen(&mut self) -> u64 {
        self.next_gen += 1;
        self.next_gen
    }

    // ----- Clients -----

    /// The rate changed (or the run starts): arrivals follow the new rate from now.
    fn restart_arrivals(&mut self) {
        if let Some((at, tag)) = self.clients.arrivals.restart(self.now) {
            self.queue.push(at, Event::Arrival { tag });
        }
    }

    fn arrival(&mut self, tag: u32) -> Result<(), RunError> {
        if self.clients.arrivals.is_due(tag) {
            self.arrive()?;
            if let Some((at, tag)) = self.clients.arrivals.next(self.now) {
                self.queue.push(at, Event::Arrival { tag });
            }
        }
        Ok(())
    }

    fn burst_flip(&mut self) {
        if let Some(next) = self.clients.arrivals.flip_burst() {
            self.queue.push(self.now + next, Event::BurstFlip);
            self.restart_arrivals();
        }
    }

    fn arrive(&mut self) -> Result<(), RunError> {
        let measured = self.measure.measuring;
        let req =
            self.clients
                .arrive(self.now, measured)
                .map_err(|limit| RunError::Overloaded {
                    limit,
                    at_s: self.now.secs_f64(),
                })?;
        self.measure.arrived(measured);
        self.start_attempt(req)
    }

    fn retry(&mut self, req: u32, attempt: u64) -> Result<(), RunError> {
        if self.clients.retry_due(req, attempt) {
            let measured = self.clients.request(req).measured;
            self.measure.retried(measured);
            self.start_attempt(req)?;
        }
        Ok(())
    }

    fn start_attempt(&mut self, req: u32) -> Result<(), RunError> {
        let (attempt, timeout) = self.clients.begin_attempt(self.now, req);
        if let Some(at) = timeout {
            self.queue.push(at, Event::ClientTimeout { req, attempt });
        }
        let pools = &self.pools;
        let Some(instance) = self.fleet.pick(|i| pools.pool(i).busy()) else {
            self.attempt_failed(req, Cause::Unavailable);
            return Ok(());
        };
        self.clients.sent_to(req, instance);
        let measured = self.clients.request(req).measured;
        let job = self.jobs.start(self.now, req, attempt, instance, measured);
        // Each request has at most one attempt its client awaits; the rest were abandoned.
        let limit = self.cfg.max_in_flight;
        if self.jobs.live() > limit as usize {
            let awaited = self.clients.in_flight() as usize;
            return Err(RunError::Abandoned {
                limit,
                abandoned: self.jobs.live().saturating_sub(awaited) as u64,
                at_s: self.now.secs_f64(),
            });
        }
        self.acquire(instance, job);
        Ok(())
    }

    fn attempt_failed(&mut self, req: u32, cause: Cause) {
        match self.clients.attempt_failed(self.now, req) {
            AfterFailure::Retry { at, attempt } => {
                self.queue.push(at, Event::Retry { req, attempt });
            }
            AfterFailure::GiveUp => {
                let r = self.clients.request(req);
                let latency = self.now.since(r.arrived);
                self.measure.failed(r.instance, cause, latency, r.measured);
                self.clients.finish(req);
            }
        }
    }

    /// A job is over: its request succeeds or its attempt fails, unless the client has
    /// already given up on that attempt (the server's work was for nothing).
    fn job_finished(&mut self, job: u32, outcome: Result<(), Cause>) {
        let tag = self.fresh_gen();
        let (req, attempt) = self.jobs.finish(job, tag);
        if !self.clients.awaits(req, attempt) {
            self.measure.abandoned();
            return;
        }
        match outcome {
            Ok(()) => {
                let r = self.clients.request(req);
                let latency = self.now.since(r.arrived);
                self.measure.succeeded(r.instance, latency, r.measured);
                self.clients.finish(req);
            }
            Err(cause) => self.attempt_failed(req, cause),
        }
    }

    // ----- Pools -----

    fn acquire(&mut self, i: u32, job: u32) {
        while let Some(found) = self.pools.borrow(i) {
            match found {
                Ok(conn) => {
                    self.grant(job, conn);
                    self.pool_changed(i);
                    return;
                }
                // Validation on borrow finds it dead: discard and look again.
                Err(broken) => self.close(broken),
            }
        }
        let tag = self.fresh_gen();
        self.jobs.wait(self.now, job, tag);
        if let Some(at) = self.pools.pools[i as usize].wait(self.now, job, tag) {
            self.queue.push(at, Event::PoolTimeout { job, tag });
        }
        self.pool_changed(i);
        self.kick_creator(i);
    }

    /// `job` takes `conn`, which is off the idle stack already, and starts its transaction.
    fn grant(&mut self, job: u32, conn: u32) {
        let now = self.now;
        let leak_p = self.faults.leak_probability();
        let tag = self.fresh_gen();
        let leak_check = self.pools.lend(now, conn, job, tag);
        let wait = self.jobs.granted(now, job, conn, leak_p);
        self.measure.granted(wait, self.jobs.get(job).measured);
        if let Some(at) = leak_check {
            self.queue.push(at, Event::LeakCheck { conn, tag });
        }
        self.start_query(job);
    }

    fn pool_timeout(&mut self, job: u32, tag: u64) {
        if !self.jobs.waits(job, tag) {
            return;
        }
        let j = self.jobs.get_mut(job);
        let (i, measured) = (j.instance, j.measured);
        let wait = self.now.since(j.enqueued);
        j.phase = Phase::Done;
        let jobs = &self.jobs;
        let pool = &mut self.pools.pools[i as usize];
        pool.waiter_left(|job, tag| jobs.waits(job, tag));
        let cause = pool.timeout_cause();
        self.measure.timed_out(i, wait, measured);
        self.pool_changed(i);
        self.job_finished(job, Err(cause));
    }

    /// The job gives its connection back (or keeps it forever, if it leaks).
    fn release(&mut self, job: u32) {
        let j = self.jobs.get_mut(job);
        let conn = std::mem::replace(&mut j.conn, NO_CONN);
        self.measure.released(self.now.since(j.acquired));
        let tag = self.fresh_gen();
        let i = self.pools.conns[conn].instance;
        match self.pools.give_back(conn, tag) {
            Returned::Close => {
                self.close(conn);
                self.pool_changed(i);
                self.kick_creator(i);
            }
            Returned::Keep => self.check_in(conn),
        }
    }

    /// A usable connection is free: to the first live waiter, else to the idle stack.
    fn check_in(&mut self, conn: u32) {
        let i = self.pools.conns[conn].instance;
        let jobs = &self.jobs;
        if let Checkin::Granted(job) = self
            .pools
            .check_in(self.now, conn, |job, tag| jobs.waits(job, tag))
        {
            self.grant(job, conn);
        }
        self.pool_changed(i);
    }

    /// Closes a connection that is no longer on the idle stack or held by a job.
    fn close(&mut self, conn: u32) {
        let tag = self.fresh_gen();
        let (had_slot, was_connection) = self.pools.close(conn, tag);
        if had_slot {
            self.db_slots_freed(1);
        }
        if was_connection {
            self.measure.closed();
        }
    }

    /// Starts the pool's connection creator if it is idle and the pool needs a connection.
    fn kick_creator(&mut self, i: u32) {
        let tag = self.fresh_gen();
        let rtt = self.cfg.db.network_rtt_us;
        if let Some(o) = self.pools.start_opening(self.now, i, tag, rtt) {
            self.queue.push(
                o.at,
                Event::ConnectDone {
                    conn: o.conn,
                    tag: o.tag,
                },
            );
            self.pool_changed(i);
        }
    }

    fn connect_done(&mut self, conn: u32) {
        if !self.pools.opening_current(conn) {
            return; // The instance restarted meanwhile; its shutdown closed the opening.
        }
        let i = self.pools.conns[conn].instance;
        match self.db.open() {
            Err(cause) => {
                self.measure.db_error();
                self.close(conn);
                let tag = self.fresh_gen();
                let at = self.pools.open_failed(self.now, i, cause, tag);
                self.queue.push(at, Event::CreatorWake { instance: i, tag });
                self.pool_changed(i);
            }
            Ok(connections) => {
                let retire = self.pools.opened(self.now, conn);
                self.measure.db_connections(self.now, connections);
                self.measure.opened();
                if let Some((at, tag)) = retire {
                    self.queue.push(at, Event::Retire { conn, tag });
                }
                self.check_in(conn);
                self.kick_creator(i);
            }
        }
    }

    fn retire(&mut self, conn: u32, born: u64) {
        if let Some(conn) = self.pools.retire(conn, born) {
            let i = self.pools.conns[conn].instance;
            self.close(conn);
            self.pool_changed(i);
            self.kick_creator(i);
        }
    }

    fn housekeep(&mut self, i: u32) {
        if !self.fleet.is_up(i) {
            return;
        }
        for conn in self.pools.idle_expired(self.now, i) {
            self.close(conn);
        }
        self.pool_changed(i);
        self.kick_creator(i);
    }

    // ----- Transactions and the database -----

    fn start_query(&mut self, job: u32) {
        let conn = self.jobs.get(job).conn;
        if self.db.is_down() || self.pools.conns[conn].broken {
            return self.fail_on_broken(job);
        }
        let rtt = self.cfg.db.network_rtt_us;
        if rtt > 0 {
            let tag = self.fresh_gen();
            let j = self.jobs.get_mut(job);
            j.tag = tag;
            j.phase = Phase::Network;
            self.queue.push(self.now + rtt, Event::JobStep { job, tag });
        } else {
            self.enter_db(job);
        }
    }

    /// A job's network round trip or think time is over.
    fn job_step(&mut self, job: u32, tag: u64) {
        let j = self.jobs.get(job);
        if j.tag == tag {
            match j.phase {
                Phase::Network => self.enter_db(job),
                Phase::Think => self.start_query(job),
                _ => {}
            }
        }
    }

    fn enter_db(&mut self, job: u32) {
        let conn = self.jobs.get(job).conn;
        if self.db.is_down() || self.pools.conns[conn].broken {
            return self.fail_on_broken(job);
        }
        let tag = self.fresh_gen();
        let (seq, demand) = self.jobs.query(job, tag, self.db.slowdown());
        let start = self.db.cpu.start(self.now, demand, seq, job);
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
                if self.db.cpu.at_full_speed()
                    && self.db.scheduled().is_some_and(|t| t <= self.now + demand) =>
            {
                self.cpu_gauges()
            }
            Start::Shared => self.cpu_changed(),
        }
    }

    /// The connection is dead (outage): the query fails and the pool discards it.
    fn fail_on_broken(&mut self, job: u32) {
        let conn = self.jobs.get(job).conn;
        self.pools.conns[conn].broken = true;
        self.release(job);
        self.job_finished(job, Err(Cause::Outage));
    }

    fn statement_timeout(&mut self, job: u32, tag: u64) {
        let j = self.jobs.get(job);
        if j.tag == tag && j.phase == Phase::Query {
            self.db.cpu.cancel(self.now, j.query_seq);
            self.release(job);
            self.job_finished(job, Err(Cause::StatementTimeout));
            // Only now is the query out of the CPU's valid set.
            self.cpu_changed();
        }
    }

    fn db_complete(&mut self, tag: u64) {
        if !self.db.completion_due(tag) {
            return;
        }
        let jobs = &self.jobs;
        let live = |seq, job| jobs.runs_query(seq, job);
        let done = self.db.cpu.complete(self.now, live);
        for (job, seq, end) in self.db.cpu.try_direct(self.now, live) {
            self.queue.push(end, Event::QueryDone { job, seq });
        }
        if let Some(job) = done {
            self.query_done(job);
        }
        self.cpu_changed();
    }

    fn query_done(&mut self, job: u32) {
        match self.jobs.query_done(job) {
            Next::Think(think) => {
                let tag = self.fresh_gen();
                let j = self.jobs.get_mut(job);
                j.tag = tag;
                j.phase = Phase::Think;
                self.queue
                    .push(self.now + think, Event::JobStep { job, tag });
            }
            Next::Query => self.start_query(job),
            Next::Done => {
                if self.jobs.get(job).leak {
                    self.leak_connection(job);
                } else {
                    self.release(job);
                }
                self.job_finished(job, Ok(()));
            }
        }
    }

    /// The request completes but never closes its connection: it stays in use forever.
    fn leak_connection(&mut self, job: u32) {
        let conn = std::mem::replace(&mut self.jobs.get_mut(job).conn, NO_CONN);
        self.pools.leak(conn);
        self.measure.leaked();
    }

    /// Queries started, finished or were cancelled.
    fn cpu_changed(&mut self) {
        let jobs = &self.jobs;
        if let Some((at, tag)) = self
            .db
            .reschedule(self.now, |seq, job| jobs.runs_query(seq, job))
        {
            self.queue.push(at, Event::DbComplete { tag });
        }
        self.cpu_gauges();
    }

    fn cpu_gauges(&mut self) {
        let cpu = &self.db.cpu;
        self.measure.cpu(self.now, cpu.running(), cpu.busy_cores());
    }

    fn db_slots_freed(&mut self, n: u32) {
        let connections = self.db.release(n);
        self.measure.db_connections(self.now, connections);
    }

    // ----- Faults and operations -----

    fn fault_start(&mut self, index: u32) {
        let fault = self.cfg.faults[index as usize].clone();
        match &fault {
            FaultConfig::DbOutage { duration_us, .. } => {
                self.end_fault_after(index, &fault, *duration_us);
                self.db_outage_starts();
            }
            FaultConfig::SlowQueries {
                duration_us,
                factor,
                ..
            } => {
                self.db.slow_starts(index, *factor);
                self.end_fault_after(index, &fault, *duration_us);
            }
            FaultConfig::ConnectionLeak {
                duration_us,
                fraction,
                ..
            } => {
                self.faults.leak_starts(index, *fraction);
                self.end_fault_after(index, &fault, *duration_us);
            }
            FaultConfig::Scale { instances, .. } => {
                let from = self.fleet.in_service();
                self.faults
                    .scaled(index, &fault, self.now, from, *instances);
                self.scale(*instances);
            }
            FaultConfig::RollingRestart { restart, .. } => {
                self.schedule_restarts(index, &fault, restart, 0)
            }
            FaultConfig::Reconfigure { pool, restart, .. } => {
                self.reconfigure(index, &fault, pool, restart.as_ref())
            }
        }
    }

    /// Schedules the end of fault `index` (`0` = it lasts to the end of the run).
    fn end_fault_after(&mut self, index: u32, fault: &FaultConfig, duration_us: u64) {
        let end = (duration_us > 0).then(|| self.now + duration_us);
        self.faults.window(index, fault, self.now, end);
        if let Some(end) = end {
            self.queue.push(end, Event::FaultEnd { index });
        }
    }

    fn fault_end(&mut self, index: u32) {
        match self.cfg.faults[index as usize] {
            FaultConfig::DbOutage { .. } => self.db.outage_ends(),
            FaultConfig::SlowQueries { .. } => self.db.slow_ends(index),
            FaultConfig::ConnectionLeak { .. } => self.faults.leak_ends(index),
            _ => {}
        }
    }

    /// New pool settings from reconfigure `index`: rolled out with restarts (instances out
    /// of service take them when scaled in), or applied live.
    fn reconfigure(
        &mut self,
        index: u32,
        fault: &FaultConfig,
        pool: &PoolConfig,
        restart: Option<&RestartConfig>,
    ) {
        let source = index + 1;
        match restart {
            Some(restart) => {
                for i in self.fleet.in_service()..self.fleet.slots() {
                    if self.fleet.claim(i, source) {
                        self.fleet.defer(i, pool.clone());
                    }
                }
                self.schedule_restarts(index, fault, restart, source);
            }
            None => {
                self.faults.window(index, fault, self.now, Some(self.now));
                for i in 0..self.fleet.slots() {
                    if self.fleet.claim(i, source) {
                        self.reconfigure_live(i, pool);
                    }
                }
            }
        }
    }

    fn reconfigure_live(&mut self, i: u32, pool: &PoolConfig) {
        if !self.fleet.is_up(i) {
            // Down for a restart: the new settings apply when it starts.
            self.fleet.defer(i, pool.clone());
            return;
        }
        let before = &self.pools.pool(i).cfg;
        let grows = pool.max_size > before.max_size || pool.min_idle > before.min_idle;
        let excess = self.pools.reconfigure(i, pool);
        let source = self.fleet.pool_from(i);
        self.faults.reconfigured(source - 1, i, self.now, pool);
        for conn in excess {
            self.close(conn);
        }
        self.pool_changed(i);
        self.capacity_changed();
        // Only room to grow wakes the creator: a reconfigure to the same sizes (or smaller)
        // changes nothing about when connections open (a property test pairs it with none).
        if grows {
            self.kick_creator(i);
        }
    }

    /// Restarts the instances in service, `batch` at a time (fault `index`; `reconfigure`
    /// is the reconfigure's fault index + 1 whose settings they start with, or 0).
    fn schedule_restarts(
        &mut self,
        index: u32,
        fault: &FaultConfig,
        restart: &RestartConfig,
        reconfigure: u32,
    ) {
        let plan = self.fleet.restart_plan(self.now, restart);
        for r in &plan {
            let instance = r.instance;
            self.queue.push(r.down, Event::InstanceDown { instance });
            self.queue.push(
                r.up,
                Event::InstanceUp {
                    instance,
                    reconfigure,
                },
            );
        }
        self.faults.restarts(index, fault, self.now, &plan);
    }

    /// A restart's instance comes back, with reconfigure `reconfigure`'s settings (fault
    /// index + 1) if it has not claimed newer ones.
    fn restarted(&mut self, i: u32, reconfigure: u32) {
        if let Some(FaultConfig::Reconfigure { pool, .. }) = reconfigure
            .checked_sub(1)
            .map(|f| &self.cfg.faults[f as usize])
        {
            let pool = pool.clone();
            if self.fleet.claim(i, reconfigure) {
                self.fleet.defer(i, pool);
            }
        }
        self.instance_up(i);
    }

    /// The fleet becomes `n` instances: the lowest-numbered serve, the others stop.
    fn scale(&mut self, n: u32) {
        let (stopping, starting) = self.fleet.scale(n);
        for i in stopping {
            self.take_down(i);
        }
        for i in starting {
            self.instance_up(i);
        }
    }

    /// Restarts can overlap (a rolling restart, a reconfigure's, a scale-in): an instance
    /// goes down at the first and comes back after the last.
    fn take_down(&mut self, i: u32) {
        if self.fleet.take_down(i) {
            self.instance_down(i);
        }
    }

    fn instance_up(&mut self, i: u32) {
        let Some(settings) = self.fleet.bring_up(i) else {
            return;
        };
        let applied = settings.map(|(pool, source)| {
            self.pools.reopen(i, Some(pool.clone()));
            (pool, source)
        });
        match applied {
            Some((pool, source)) => {
                if let Some(index) = source.checked_sub(1) {
                    self.faults.reconfigured(index, i, self.now, &pool);
                }
            }
            None => self.pools.reopen(i, None),
        }
        self.capacity_changed();
        self.kick_creator(i);
    }

    /// The instance stops: requests there fail, its pool closes every connection.
    fn instance_down(&mut self, i: u32) {
        let tag = self.fresh_gen();
        let conns = self.pools.shut(i, tag);
        for job in self.jobs.at_instance(i) {
            let j = self.jobs.get_mut(job);
            if j.phase == Phase::Query {
                self.db.cpu.cancel(self.now, j.query_seq);
            }
            if j.phase != Phase::Waiting {
                let conn = std::mem::replace(&mut j.conn, NO_CONN);
                self.pools.conns[conn].holder = pool::NOBODY;
            }
            self.job_finished(job, Err(Cause::Unavailable));
        }
        for conn in conns {
            self.close(conn);
        }
        self.pools.emptied(i);
        self.pool_changed(i);
        self.capacity_changed();
        self.cpu_changed();
    }

    /// The database goes away: every connection breaks, running queries fail.
    fn db_outage_starts(&mut self) {
        if !self.db.outage_starts(self.now) {
            return; // Already unreachable: nothing more breaks.
        }
        let in_query = self.jobs.in_query();
        let freed = self.pools.break_all();
        self.db_slots_freed(freed);
        for job in in_query {
            self.fail_on_broken(job);
        }
        for i in 0..self.fleet.slots() {
            for conn in self.pools.take_idle(i) {
                self.close(conn);
            }
            self.pool_changed(i);
            self.kick_creator(i);
        }
        self.cpu_changed();
    }

    // ----- Measurement -----

    fn pool_changed(&mut self, i: u32) {
        let pool = &mut self.pools.pools[i as usize];
        let total = pool.total();
        debug_assert!(
            total <= pool.bound(),
            "pool {i} holds {total} > {}",
            pool.bound()
        );
        let levels = pool.levels();
        self.measure.pool_levels(self.now, i, levels);
    }

    /// An instance came up or went down, or its pool settings changed.
    fn capacity_changed(&mut self) {
        let fleet = &self.fleet;
        let pools = &self.pools;
        let capacity = (0..fleet.slots()).map(|i| {
            let cfg = &pools.pool(i).cfg;
            fleet.is_up(i).then_some((cfg.max_size, cfg.min_idle))
        });
        self.measure.capacity(self.now, capacity);
    }

    fn close_bucket(&mut self) {
        self.measure.close_bucket(self.now);
        checker::check(self);
    }

    fn finish_run(&mut self) {
        self.now = self.end;
        if self.measure.series.len() < self.cfg.bucket_count() {
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
        let end = End {
            cfg: &self.cfg,
            now: self.end,
            events: self.events,
            in_flight: self.clients.in_flight_measured(),
            db_refused: self.db.refused,
            db_failed: self.db.failed,
        };
        let operations = std::mem::take(&mut self.faults.record);
        self.measure.report(&end, operations)
    }
}

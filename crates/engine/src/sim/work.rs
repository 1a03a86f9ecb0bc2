//! An attempt's work at an instance (a "job"): it waits for a pool connection, then runs its
//! transaction, `queries` queries with think time between them while it holds the
//! connection. This module keeps the jobs and draws their query times, think times and
//! leaks; which connection and database they use is the coordinator's business.

use poolsim_scenario::config::TransactionConfig;

use super::slab::Slab;
use crate::dist::sample;
use crate::rng::{Purpose, Stream};
use crate::time::SimTime;

/// No connection held.
pub const NO_CONN: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Waiting,
    /// The network round trip before a query reaches the database.
    Network,
    Query,
    Think,
    Done,
}

#[derive(Debug)]
pub struct Job {
    pub req: u32,
    pub attempt: u64,
    pub instance: u32,
    pub phase: Phase,
    /// Generation of the job's current timer (pool timeout, network, think, statement).
    pub tag: u64,
    pub conn: u32,
    pub enqueued: SimTime,
    pub acquired: SimTime,
    queries_done: u32,
    /// The running query's id in the database's CPU.
    pub query_seq: u64,
    /// It will keep its connection (a `connection_leak` fault chose it).
    pub leak: bool,
    pub measured: bool,
}

#[derive(Debug)]
pub struct Jobs {
    slab: Slab<Job>,
    transaction: TransactionConfig,
    next_query: u64,
    query_rng: Stream,
    think_rng: Stream,
    leak_rng: Stream,
}

/// What a job does after a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Think for this long, then query again.
    Think(u64),
    /// Query again now.
    Query,
    /// The transaction is complete.
    Done,
}

impl Jobs {
    pub fn new(transaction: &TransactionConfig, seed: u64) -> Jobs {
        Jobs {
            slab: Slab::new(),
            transaction: transaction.clone(),
            next_query: 0,
            query_rng: Stream::new(seed, Purpose::QueryTime),
            think_rng: Stream::new(seed, Purpose::ThinkTime),
            leak_rng: Stream::new(seed, Purpose::Leak),
        }
    }

    pub fn start(
        &mut self,
        now: SimTime,
        req: u32,
        attempt: u64,
        instance: u32,
        measured: bool,
    ) -> u32 {
        self.slab.insert(Job {
            req,
            attempt,
            instance,
            phase: Phase::Waiting,
            tag: 0,
            conn: NO_CONN,
            enqueued: now,
            acquired: now,
            queries_done: 0,
            query_seq: 0,
            leak: false,
            measured,
        })
    }

    /// Attempts under way at the instances, those whose clients gave up included.
    pub fn live(&self) -> usize {
        self.slab.live()
    }

    pub fn get(&self, job: u32) -> &Job {
        &self.slab[job]
    }

    pub fn get_mut(&mut self, job: u32) -> &mut Job {
        &mut self.slab[job]
    }

    /// Whether the pool waiter `(job, tag)` still waits.
    pub fn waits(&self, job: u32, tag: u64) -> bool {
        let j = &self.slab[job];
        j.tag == tag && j.phase == Phase::Waiting
    }

    /// Whether a CPU entry still belongs to a running query (cancelled ones are skipped).
    pub fn runs_query(&self, seq: u64, job: u32) -> bool {
        let j = &self.slab[job];
        j.query_seq == seq && j.phase == Phase::Query
    }

    /// `job` waits for a connection from now, under timer generation `tag`.
    pub fn wait(&mut self, now: SimTime, job: u32, tag: u64) {
        let j = &mut self.slab[job];
        j.phase = Phase::Waiting;
        j.tag = tag;
        j.enqueued = now;
    }

    /// `job` got `conn` now: how long it waited. With probability `leak_p` it will leak it.
    pub fn granted(&mut self, now: SimTime, job: u32, conn: u32, leak_p: f64) -> u64 {
        let j = &mut self.slab[job];
        j.conn = conn;
        j.acquired = now;
        j.queries_done = 0;
        let wait = now.since(j.enqueued);
        if leak_p > 0.0 {
            j.leak = self.leak_rng.chance(leak_p);
        }
        wait
    }

    /// A query of the job starts (timer generation `tag`): its id and demand on an idle
    /// database, scaled by `factor` (slow queries).
    pub fn query(&mut self, job: u32, tag: u64, factor: Option<f64>) -> (u64, u64) {
        let mut demand = sample(&self.transaction.query_time, &mut self.query_rng);
        if let Some(factor) = factor {
            demand = crate::dist::round_us(demand as f64 * factor);
        }
        self.next_query += 1;
        let j = &mut self.slab[job];
        j.phase = Phase::Query;
        j.tag = tag;
        j.query_seq = self.next_query;
        (self.next_query, demand)
    }

    /// A query of the job finished: what comes next.
    pub fn query_done(&mut self, job: u32) -> Next {
        let j = &mut self.slab[job];
        j.queries_done += 1;
        if j.queries_done >= self.transaction.queries {
            return Next::Done;
        }
        match sample(&self.transaction.think_time, &mut self.think_rng) {
            0 => Next::Query,
            think => Next::Think(think),
        }
    }

    /// The job's transaction is over (or failed), its timers void (`tag`): the request and
    /// attempt it was for; its slot is freed.
    pub fn finish(&mut self, job: u32, tag: u64) -> (u32, u64) {
        let j = &mut self.slab[job];
        j.phase = Phase::Done;
        j.tag = tag;
        let out = (j.req, j.attempt);
        self.slab.remove(job);
        out
    }

    /// Jobs running a query, in slot order.
    pub fn in_query(&self) -> Vec<u32> {
        self.slab
            .slots()
            .filter(|(_, j)| j.phase == Phase::Query)
            .map(|(k, _)| k)
            .collect()
    }

    /// Unfinished jobs at instance `i`, in slot order.
    pub fn at_instance(&self, i: u32) -> Vec<u32> {
        self.slab
            .slots()
            .filter(|(_, j)| j.instance == i && j.phase != Phase::Done)
            .map(|(k, _)| k)
            .collect()
    }
}

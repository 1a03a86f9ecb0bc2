//! The database: its connection slots (`max_connections - reserved_connections`), whether
//! it is reachable, slow-query episodes, and its CPU (`db.rs`'s [`Cpu`]), with the one
//! shared-CPU completion event it has scheduled.

use poolsim_scenario::config::DbConfig;

use crate::cause::Cause;
use crate::db::Cpu;
use crate::time::SimTime;

#[derive(Debug)]
pub struct Database {
    pub cpu: Cpu,
    usable: u32,
    /// Slots taken by open connections.
    connections: u32,
    /// Outages under way (they can overlap); reachable at zero.
    down: u32,
    /// `(fault, factor)` of slow-query episodes under way.
    slow: Vec<(u32, f64)>,
    /// Generation of the scheduled shared-CPU completion, and its time.
    completion_tag: u64,
    scheduled: Option<SimTime>,
    /// Openings refused ("too many clients") and failed (unreachable), over the whole run.
    pub refused: u64,
    pub failed: u64,
}

impl Database {
    pub fn new(cfg: &DbConfig) -> Database {
        Database {
            cpu: Cpu::new(cfg.cores, cfg.sigma, cfg.kappa),
            usable: cfg.usable_connections(),
            connections: 0,
            down: 0,
            slow: Vec::new(),
            completion_tag: 0,
            scheduled: None,
            refused: 0,
            failed: 0,
        }
    }

    pub fn connections(&self) -> u32 {
        self.connections
    }

    pub fn usable(&self) -> u32 {
        self.usable
    }

    pub fn is_down(&self) -> bool {
        self.down > 0
    }

    /// A connection opening reaches the database: it takes a slot, or fails with why.
    pub fn open(&mut self) -> Result<u32, Cause> {
        if self.down > 0 {
            self.failed += 1;
            Err(Cause::Outage)
        } else if self.connections >= self.usable {
            self.refused += 1;
            Err(Cause::DbRefused)
        } else {
            self.connections += 1;
            Ok(self.connections)
        }
    }

    /// `n` connections closed or broke: the slots they held are free. The count after.
    pub fn release(&mut self, n: u32) -> u32 {
        self.connections = self
            .connections
            .checked_sub(n)
            .expect("database connection count went below zero");
        self.connections
    }

    /// An outage starts: whether the database was reachable until now (then the CPU loses
    /// every running query; the caller fails their jobs).
    pub fn outage_starts(&mut self, now: SimTime) -> bool {
        self.down += 1;
        if self.down > 1 {
            return false;
        }
        self.cpu.clear(now);
        true
    }

    pub fn outage_ends(&mut self) {
        self.down -= 1;
    }

    pub fn slow_starts(&mut self, fault: u32, factor: f64) {
        self.slow.push((fault, factor));
    }

    pub fn slow_ends(&mut self, fault: u32) {
        self.slow.retain(|&(f, _)| f != fault);
    }

    /// What slow-query episodes multiply query times by now, if any is under way.
    pub fn slowdown(&self) -> Option<f64> {
        (!self.slow.is_empty()).then(|| self.slow.iter().map(|&(_, f)| f).product())
    }

    /// The shared-CPU completion scheduled, if any.
    pub fn scheduled(&self) -> Option<SimTime> {
        self.scheduled
    }

    /// Whether a completion event with `tag` is the scheduled one (then it is consumed).
    pub fn completion_due(&mut self, tag: u64) -> bool {
        let due = tag == self.completion_tag;
        if due {
            self.scheduled = None;
        }
        due
    }

    /// The CPU's next shared completion (`live` tells running queries from cancelled ones):
    /// `Some((time, tag))` when an event must be scheduled for it.
    pub fn reschedule(
        &mut self,
        now: SimTime,
        live: impl Fn(u64, u32) -> bool,
    ) -> Option<(SimTime, u64)> {
        let next = self.cpu.next_completion(now, live);
        if next == self.scheduled {
            return None;
        }
        self.completion_tag += 1;
        self.scheduled = next;
        next.map(|at| (at, self.completion_tag))
    }
}

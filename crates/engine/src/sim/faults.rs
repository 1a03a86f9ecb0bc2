//! Faults and operations: the connection leaks under way, and the record of what was
//! applied and when (the report's [`Operations`]), which the CLI and the page draw instead of
//! working it out again from the scenario. Every list is bounded ([`Operations::LIMIT`]).

use poolsim_scenario::config::{FaultConfig, PoolConfig};

use super::fleet::Restart;
use crate::report::{FaultWindow, Operations, Reconfigured, RestartBatch, Scaled};
use crate::time::SimTime;

#[derive(Debug)]
pub struct Faults {
    /// For each of the config's faults, its index in the scenario's list.
    sources: Vec<u32>,
    /// `(fault, fraction)` of connection leaks under way.
    leaks: Vec<(u32, f64)>,
    pub record: Operations,
}

impl Faults {
    pub fn new(sources: &[u32]) -> Faults {
        Faults {
            sources: sources.to_vec(),
            leaks: Vec::new(),
            record: Operations::default(),
        }
    }

    /// The chance that a request keeps its connection: any of the leaks under way.
    pub fn leak_probability(&self) -> f64 {
        1.0 - self.leaks.iter().map(|&(_, f)| 1.0 - f).product::<f64>()
    }

    pub fn leak_starts(&mut self, fault: u32, fraction: f64) {
        self.leaks.push((fault, fraction));
    }

    pub fn leak_ends(&mut self, fault: u32) {
        self.leaks.retain(|&(f, _)| f != fault);
    }

    /// Fault `index` started `now` and lasts until `to` (`None`: the end of the run).
    pub fn window(&mut self, index: u32, fault: &FaultConfig, now: SimTime, to: Option<SimTime>) {
        let entry = FaultWindow {
            fault: self.sources[index as usize],
            kind: fault.kind().to_owned(),
            from_s: now.secs_f64(),
            to_s: to.map(SimTime::secs_f64),
        };
        let ops = &mut self.record;
        bounded_push(&mut ops.faults, &mut ops.dropped, entry);
    }

    /// Fault `index`'s rolling restart, planned as `plan` (in instance order, so batch by
    /// batch); its window ends when the last instance is back.
    pub fn restarts(&mut self, index: u32, fault: &FaultConfig, now: SimTime, plan: &[Restart]) {
        let source = self.sources[index as usize];
        let ops = &mut self.record;
        for r in plan {
            match ops.restarts.last_mut() {
                Some(b) if b.fault == source && b.down_s == r.down.secs_f64() => {
                    b.instances.push(r.instance)
                }
                _ => bounded_push(
                    &mut ops.restarts,
                    &mut ops.dropped,
                    RestartBatch {
                        fault: source,
                        instances: vec![r.instance],
                        down_s: r.down.secs_f64(),
                        up_s: r.up.secs_f64(),
                    },
                ),
            }
        }
        let last = plan.last().map_or(now, |r| r.up);
        self.window(index, fault, now, Some(last));
    }

    /// Reconfigure `index`'s settings `pool` took effect on `instance` now.
    pub fn reconfigured(&mut self, index: u32, instance: u32, now: SimTime, pool: &PoolConfig) {
        let entry = Reconfigured {
            fault: self.sources[index as usize],
            instance,
            at_s: now.secs_f64(),
            max_size: pool.max_size,
            min_idle: pool.min_idle,
            connection_timeout_ms: pool.connection_timeout_us as f64 / 1e3,
        };
        let ops = &mut self.record;
        bounded_push(&mut ops.reconfigures, &mut ops.dropped, entry);
    }

    /// Fault `index` scaled the fleet from `from` instances to `to` now.
    pub fn scaled(&mut self, index: u32, fault: &FaultConfig, now: SimTime, from: u32, to: u32) {
        self.window(index, fault, now, Some(now));
        let entry = Scaled {
            fault: self.sources[index as usize],
            at_s: now.secs_f64(),
            from,
            to,
        };
        let ops = &mut self.record;
        bounded_push(&mut ops.scales, &mut ops.dropped, entry);
    }
}

/// Appends `item` unless `list` holds [`Operations::LIMIT`] entries; then counts it dropped.
fn bounded_push<T>(list: &mut Vec<T>, dropped: &mut u64, item: T) {
    if list.len() < Operations::LIMIT {
        list.push(item);
    } else {
        *dropped += 1;
    }
}

//! The fleet: app instances behind a load balancer, which of them serve, restarts (which can
//! overlap) and scaling, and which pool settings each instance has been promised.
//!
//! Instances are slots: `Config::instance_slots()` of them exist from the start; those
//! above the fleet's size wait "down" until a `scale` brings them in. Restarts, scale-ins
//! and waiting slots share one counter per instance: it is up at zero, so a scale-in during
//! a rolling restart stays down.

use std::ops::Range;

use poolsim_scenario::LoadBalancer;
use poolsim_scenario::config::{PoolConfig, RestartConfig};

use crate::rng::{Purpose, Stream};
use crate::time::SimTime;

#[derive(Debug)]
struct Member {
    up: bool,
    /// Reasons to be down (restarts under way, out of service).
    downs: u32,
    /// Settings to apply when the instance comes back up (the newest reconfigure's).
    pending_pool: Option<PoolConfig>,
    /// The reconfigure (fault index + 1; 0 = the scenario's pool) whose settings are in force
    /// or pending: a slower roll-out of an older one must not undo a newer one.
    pool_from: u32,
}

#[derive(Debug)]
pub struct Fleet {
    members: Vec<Member>,
    /// Instances `0..in_service` are in the fleet; one in the fleet may still be down.
    in_service: u32,
    lb: LoadBalancer,
    rr_next: u32,
    rng: Stream,
}

/// One instance's restart in a rolling restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restart {
    pub instance: u32,
    pub down: SimTime,
    pub up: SimTime,
}

impl Fleet {
    pub fn new(slots: u32, in_service: u32, lb: LoadBalancer, seed: u64) -> Fleet {
        Fleet {
            members: (0..slots)
                .map(|i| Member {
                    up: i < in_service,
                    downs: u32::from(i >= in_service),
                    pending_pool: None,
                    pool_from: 0,
                })
                .collect(),
            in_service,
            lb,
            rr_next: 0,
            rng: Stream::new(seed, Purpose::LoadBalancer),
        }
    }

    pub fn slots(&self) -> u32 {
        self.members.len() as u32
    }

    pub fn is_up(&self, i: u32) -> bool {
        self.members[i as usize].up
    }

    pub fn in_service(&self) -> u32 {
        self.in_service
    }

    /// The instance the load balancer sends a request to, if any is up; `busy(i)` is what
    /// "least busy" compares (requests holding or waiting for a connection).
    pub fn pick(&mut self, busy: impl Fn(u32) -> u32) -> Option<u32> {
        let n = self.members.len() as u32;
        match self.lb {
            LoadBalancer::RoundRobin => {
                // Wrapping by comparison: an integer division per request is measurable.
                let mut i = self.rr_next;
                for _ in 0..n {
                    let next = if i + 1 == n { 0 } else { i + 1 };
                    if self.members[i as usize].up {
                        self.rr_next = next;
                        return Some(i);
                    }
                    i = next;
                }
                None
            }
            LoadBalancer::Random => {
                let up = self.members.iter().filter(|m| m.up).count() as u64;
                if up == 0 {
                    return None;
                }
                let k = self.rng.below(up) as usize;
                self.members
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.up)
                    .nth(k)
                    .map(|(i, _)| i as u32)
            }
            LoadBalancer::LeastBusy => {
                let start = self.rr_next;
                self.rr_next = (self.rr_next + 1) % n;
                (0..n)
                    .map(|k| (start + k) % n)
                    .filter(|&i| self.members[i as usize].up)
                    .min_by_key(|&i| busy(i))
            }
        }
    }

    /// Whether reconfigure `source` (fault index + 1) is at least as new as the settings
    /// instance `i` has or awaits; if so it becomes theirs. Faults are in time order.
    pub fn claim(&mut self, i: u32, source: u32) -> bool {
        let m = &mut self.members[i as usize];
        let newer = source >= m.pool_from;
        if newer {
            m.pool_from = source;
        }
        newer
    }

    /// Instance `i` starts with `pool` when it next comes up (after a claim).
    pub fn defer(&mut self, i: u32, pool: PoolConfig) {
        self.members[i as usize].pending_pool = Some(pool);
    }

    /// The reconfigure whose settings instance `i` has claimed (fault index + 1, or 0).
    pub fn pool_from(&self, i: u32) -> u32 {
        self.members[i as usize].pool_from
    }

    /// One more reason for `i` to be down: whether it goes down now.
    pub fn take_down(&mut self, i: u32) -> bool {
        let m = &mut self.members[i as usize];
        m.downs += 1;
        if m.downs == 1 {
            m.up = false;
        }
        m.downs == 1
    }

    /// One reason fewer: `Some` when `i` is up now, with the settings it starts with (and
    /// the reconfigure they came from) if it was promised new ones.
    pub fn bring_up(&mut self, i: u32) -> Option<Option<(PoolConfig, u32)>> {
        let m = &mut self.members[i as usize];
        m.downs -= 1;
        if m.downs > 0 {
            return None;
        }
        m.up = true;
        Some(m.pending_pool.take().map(|pool| (pool, m.pool_from)))
    }

    /// The fleet becomes `n` instances, the lowest-numbered serving: the instances to stop
    /// and those to start.
    pub fn scale(&mut self, n: u32) -> (Range<u32>, Range<u32>) {
        let was = std::mem::replace(&mut self.in_service, n);
        (n..was, was..n)
    }

    /// A rolling restart from `now` through the instances in service, `batch` at a time:
    /// each batch is down for `down_us`, the next starts `gap_us` after it is back. Times
    /// saturate: a batch due past the end of time never goes down (it once wrapped to now).
    pub fn restart_plan(&self, now: SimTime, restart: &RestartConfig) -> Vec<Restart> {
        (0..self.in_service)
            .map(|instance| {
                let batch = u64::from(instance / restart.batch);
                let cycle = restart.down_us.saturating_add(restart.gap_us);
                let down = now + batch.saturating_mul(cycle);
                Restart {
                    instance,
                    down,
                    up: down + restart.down_us,
                }
            })
            .collect()
    }
}

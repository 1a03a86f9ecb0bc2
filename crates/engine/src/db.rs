//! The database's CPU: running queries share `cores` as processor sharing slowed by the
//! Universal Scalability Law. With `n` queries running, each progresses at
//! `min(1, cores/n) / (1 + sigma (n-1) + kappa n (n-1))` microseconds of work per microsecond.
//!
//! All running queries progress at the same speed, so one number, the work every running
//! query has received since the database started (`attained`), orders their completions:
//! a query started with `attained = a` and demand `d` finishes when `attained` reaches
//! `a + d`. Finish targets sit in a min-heap; a cancelled query's entry is dropped lazily
//! when it reaches the top (the caller says which entries are still valid).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::SimTime;

#[derive(Debug)]
pub struct Cpu {
    cores: u32,
    sigma: f64,
    kappa: f64,
    /// (finish target as f64 bits — order-preserving for non-negative floats, query seq, job)
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    running: u32,
    /// Work per microsecond each running query receives now (depends on `running` only).
    speed: f64,
    attained: f64,
    last: SimTime,
}

impl Cpu {
    pub fn new(cores: u32, sigma: f64, kappa: f64) -> Cpu {
        Cpu {
            cores,
            sigma,
            kappa,
            heap: BinaryHeap::new(),
            running: 0,
            speed: 1.0,
            attained: 0.0,
            last: SimTime::ZERO,
        }
    }

    pub fn running(&self) -> u32 {
        self.running
    }

    /// Busy cores: `min(running, cores)`.
    pub fn busy_cores(&self) -> u32 {
        self.running.min(self.cores)
    }

    /// Sets the number of running queries and the speed that goes with it.
    fn set_running(&mut self, n: u32) {
        self.running = n;
        self.speed = if n <= self.cores && self.sigma == 0.0 && self.kappa == 0.0 {
            1.0
        } else {
            poolsim_theory::usl_speed(n, self.cores, self.sigma, self.kappa)
        };
    }

    fn advance(&mut self, now: SimTime) {
        if self.running > 0 {
            self.attained += now.since(self.last) as f64 * self.speed;
        }
        self.last = now;
    }

    /// A query of `demand_us` starts now; `seq` identifies it, `job` is its owner.
    pub fn start(&mut self, now: SimTime, demand_us: u64, seq: u64, job: u32) {
        self.advance(now);
        let target = self.attained + demand_us as f64;
        self.heap.push(Reverse((target.to_bits(), seq, job)));
        self.set_running(self.running + 1);
    }

    /// A running query stops early (statement timeout, outage); its heap entry becomes
    /// invalid by the caller's bookkeeping.
    pub fn cancel(&mut self, now: SimTime) {
        self.advance(now);
        self.set_running(self.running - 1);
    }

    /// When the next valid query finishes, if any runs.
    /// Drops cancelled entries from the top of the heap; the first live one, if any.
    fn first_live(&mut self, valid: impl Fn(u64, u32) -> bool) -> Option<(f64, u32)> {
        while let Some(&Reverse((target, seq, job))) = self.heap.peek() {
            if valid(seq, job) {
                return Some((f64::from_bits(target), job));
            }
            self.heap.pop();
        }
        None
    }

    /// When the next valid query finishes, if any runs.
    pub fn next_completion(
        &mut self,
        now: SimTime,
        valid: impl Fn(u64, u32) -> bool,
    ) -> Option<SimTime> {
        self.advance(now);
        let (target, _) = self.first_live(valid)?;
        let left = (target - self.attained).max(0.0);
        let speed = self.speed;
        Some(now + ceil_us(if speed == 1.0 { left } else { left / speed }))
    }

    /// Completes the first valid query (the one [`Cpu::next_completion`] timed); its job.
    pub fn complete(&mut self, now: SimTime, valid: impl Fn(u64, u32) -> bool) -> Option<u32> {
        self.advance(now);
        let (target, job) = self.first_live(valid)?;
        self.heap.pop();
        self.attained = self.attained.max(target);
        self.set_running(self.running - 1);
        Some(job)
    }

    /// Forgets every query (an outage killed them all); the caller fails their jobs.
    pub fn clear(&mut self, now: SimTime) {
        self.advance(now);
        self.heap.clear();
        self.set_running(0);
    }
}

/// `ceil` for a non-negative time in microseconds (exact below 2^53, as all times here are).
fn ceil_us(x: f64) -> u64 {
    let whole = x as u64;
    whole + u64::from((whole as f64) < x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_cores_a_query_takes_its_demand_exactly() {
        let mut cpu = Cpu::new(2, 0.0, 0.0);
        cpu.start(SimTime(0), 300, 1, 10);
        cpu.start(SimTime(100), 50, 2, 11);
        assert_eq!(
            cpu.next_completion(SimTime(100), |_, _| true),
            Some(SimTime(150))
        );
        assert_eq!(cpu.complete(SimTime(150), |_, _| true), Some(11));
        assert_eq!(
            cpu.next_completion(SimTime(150), |_, _| true),
            Some(SimTime(300))
        );
    }

    #[test]
    fn beyond_cores_queries_share() {
        let mut cpu = Cpu::new(1, 0.0, 0.0);
        cpu.start(SimTime(0), 100, 1, 1);
        cpu.start(SimTime(0), 100, 2, 2);
        // Two queries on one core: each at half speed.
        assert_eq!(
            cpu.next_completion(SimTime(0), |_, _| true),
            Some(SimTime(200))
        );
        cpu.complete(SimTime(200), |_, _| true);
        assert_eq!(
            cpu.next_completion(SimTime(200), |_, _| true),
            Some(SimTime(200))
        );
    }

    #[test]
    fn cancelled_entries_are_skipped() {
        let mut cpu = Cpu::new(4, 0.0, 0.0);
        cpu.start(SimTime(0), 10, 1, 1);
        cpu.start(SimTime(0), 20, 2, 2);
        cpu.cancel(SimTime(5));
        let valid = |seq: u64, _| seq != 1;
        assert_eq!(cpu.next_completion(SimTime(5), valid), Some(SimTime(20)));
        assert_eq!(cpu.complete(SimTime(20), valid), Some(2));
        assert_eq!(cpu.running(), 0);
    }

    #[test]
    fn ceil_us_rounds_up_fractions_only() {
        assert_eq!(ceil_us(0.0), 0);
        assert_eq!(ceil_us(5.0), 5);
        assert_eq!(ceil_us(5.000001), 6);
        assert_eq!(ceil_us(0.3), 1);
        assert_eq!(ceil_us(1e15 + 0.5), 1_000_000_000_000_001);
    }

    #[test]
    fn contention_slows_everyone() {
        let mut cpu = Cpu::new(8, 0.0, 0.1);
        cpu.start(SimTime(0), 1_000, 1, 1);
        cpu.start(SimTime(0), 1_000, 2, 2);
        // speed = 1 / (1 + 0.1 * 2 * 1) = 1/1.2
        assert_eq!(
            cpu.next_completion(SimTime(0), |_, _| true),
            Some(SimTime(1_200))
        );
    }
}

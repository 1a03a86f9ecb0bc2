//! The database's CPU: running queries share `cores` as processor sharing slowed by the
//! Universal Scalability Law. With `n` queries running, each progresses at
//! `min(1, cores/n) / (1 + sigma (n-1) + kappa n (n-1))` microseconds of work per microsecond.
//!
//! Two exact modes:
//! - **Direct**, while there is no contention and no more queries than cores: every query
//!   runs at full speed, so it ends at its start plus its demand. The caller schedules that
//!   as an event; nothing else is needed. Most healthy databases stay here.
//! - **Shared**, otherwise: all running queries progress at the same speed, so one number,
//!   the work each running query has received (`attained`), orders their completions: a
//!   query started with `attained = a` and demand `d` finishes when `attained` reaches
//!   `a + d`. Finish targets sit in a min-heap; a cancelled query's entry is dropped lazily
//!   when it reaches the top (the caller says which entries are still valid).
//!
//! Moving between modes carries each running query's remaining work over exactly (to the
//! microsecond when leaving shared mode, where completion times are rounded up anyway).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// How a started query will end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// At this time: schedule its completion.
    Direct(SimTime),
    /// When the shared CPU gets to it: reschedule the next shared completion.
    Shared,
}

#[derive(Debug)]
pub struct Cpu {
    cores: u32,
    /// The most queries that run at full speed: `cores`, or 0 under contention.
    full_speed_limit: u32,
    sigma: f64,
    kappa: f64,
    /// Direct mode's running queries: (query seq, job, end). At most `cores` of them.
    direct: Vec<(u64, u32, SimTime)>,
    shared: bool,
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
            full_speed_limit: if sigma == 0.0 && kappa == 0.0 {
                cores
            } else {
                0
            },
            sigma,
            kappa,
            direct: Vec::new(),
            shared: false,
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

    /// Every running query progresses at one microsecond of work per microsecond (no
    /// contention, no more queries than cores): completion times are plain sums.
    pub fn at_full_speed(&self) -> bool {
        self.speed == 1.0
    }

    /// Busy cores: `min(running, cores)`.
    pub fn busy_cores(&self) -> u32 {
        self.running.min(self.cores)
    }

    /// `n` queries can all run at full speed.
    fn fits(&self, n: u32) -> bool {
        n <= self.full_speed_limit
    }

    /// Sets the number of running queries and the speed that goes with it.
    fn set_running(&mut self, n: u32) {
        self.running = n;
        self.speed = if self.fits(n) {
            1.0
        } else {
            poolsim_theory::usl_speed(n, self.cores, self.sigma, self.kappa)
        };
    }

    fn advance(&mut self, now: SimTime) {
        if self.shared && self.running > 0 {
            self.attained += now.since(self.last) as f64 * self.speed;
        }
        self.last = now;
    }

    /// A query of `demand_us` starts now; `seq` identifies it, `job` is its owner.
    pub fn start(&mut self, now: SimTime, demand_us: u64, seq: u64, job: u32) -> Start {
        self.advance(now);
        if !self.shared && self.fits(self.running + 1) {
            let end = now + demand_us;
            self.direct.push((seq, job, end));
            self.set_running(self.running + 1);
            return Start::Direct(end);
        }
        if !self.shared {
            // Contention begins: every running query joins the shared CPU with the work it
            // has left (at full speed until now, so exactly its time to go).
            self.shared = true;
            for (seq, job, end) in std::mem::take(&mut self.direct) {
                let target = self.attained + end.since(now) as f64;
                self.heap.push(Reverse((target.to_bits(), seq, job)));
            }
        }
        let target = self.attained + demand_us as f64;
        self.heap.push(Reverse((target.to_bits(), seq, job)));
        self.set_running(self.running + 1);
        Start::Shared
    }

    /// A direct query's completion came due: whether it was still running (it ends now).
    pub fn finish_direct(&mut self, now: SimTime, seq: u64) -> bool {
        self.advance(now);
        match self.direct.iter().position(|d| d.0 == seq) {
            Some(pos) => {
                self.direct.swap_remove(pos);
                self.set_running(self.running - 1);
                true
            }
            None => false,
        }
    }

    /// A running query stops early (statement timeout, outage, instance restart). In shared
    /// mode its heap entry becomes invalid by the caller's bookkeeping.
    pub fn cancel(&mut self, now: SimTime, seq: u64) {
        self.advance(now);
        if let Some(pos) = self.direct.iter().position(|d| d.0 == seq) {
            self.direct.swap_remove(pos);
        }
        self.set_running(self.running - 1);
    }

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

    /// When the next shared query finishes, if any runs shared.
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

    /// Completes the first valid shared query (the one [`Cpu::next_completion`] timed).
    pub fn complete(&mut self, now: SimTime, valid: impl Fn(u64, u32) -> bool) -> Option<u32> {
        self.advance(now);
        let (target, job) = self.first_live(valid)?;
        self.heap.pop();
        self.attained = self.attained.max(target);
        self.set_running(self.running - 1);
        Some(job)
    }

    /// Back to direct mode when the shared queries now fit the cores uncontended. Returns
    /// each (job, seq, end) that needs a completion event, in time order.
    pub fn try_direct(
        &mut self,
        now: SimTime,
        valid: impl Fn(u64, u32) -> bool,
    ) -> Vec<(u32, u64, SimTime)> {
        if !self.shared || !self.fits(self.running) {
            return Vec::new();
        }
        self.advance(now);
        self.shared = false;
        let mut out: Vec<(u32, u64, SimTime)> = std::mem::take(&mut self.heap)
            .into_iter()
            .filter(|&Reverse((_, seq, job))| valid(seq, job))
            .map(|Reverse((target, seq, job))| {
                let left = (f64::from_bits(target) - self.attained).max(0.0);
                (job, seq, now + ceil_us(left))
            })
            .collect();
        out.sort_unstable_by_key(|&(_, seq, end)| (end, seq));
        self.direct = out.iter().map(|&(job, seq, end)| (seq, job, end)).collect();
        debug_assert_eq!(self.direct.len(), self.running as usize);
        out
    }

    /// Forgets every query (an outage killed them all); the caller fails their jobs.
    pub fn clear(&mut self, now: SimTime) {
        self.advance(now);
        self.heap.clear();
        self.direct.clear();
        self.shared = false;
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

    const ALL: fn(u64, u32) -> bool = |_, _| true;

    #[test]
    fn within_cores_a_query_ends_at_start_plus_demand() {
        let mut cpu = Cpu::new(2, 0.0, 0.0);
        assert_eq!(
            cpu.start(SimTime(0), 300, 1, 10),
            Start::Direct(SimTime(300))
        );
        assert_eq!(
            cpu.start(SimTime(100), 50, 2, 11),
            Start::Direct(SimTime(150))
        );
        assert_eq!(cpu.next_completion(SimTime(100), ALL), None);
        assert!(cpu.finish_direct(SimTime(150), 2));
        assert!(!cpu.finish_direct(SimTime(150), 2), "a query ends once");
        assert_eq!(cpu.running(), 1);
    }

    #[test]
    fn beyond_cores_queries_share_with_their_remaining_work() {
        let mut cpu = Cpu::new(1, 0.0, 0.0);
        assert_eq!(
            cpu.start(SimTime(0), 100, 1, 1),
            Start::Direct(SimTime(100))
        );
        // At 40 the first has 60 left; two queries on one core run at half speed.
        assert_eq!(cpu.start(SimTime(40), 100, 2, 2), Start::Shared);
        assert_eq!(cpu.next_completion(SimTime(40), ALL), Some(SimTime(160)));
        assert!(
            !cpu.finish_direct(SimTime(100), 1),
            "its direct completion is void"
        );
        assert_eq!(cpu.next_completion(SimTime(100), ALL), Some(SimTime(160)));
        assert_eq!(cpu.complete(SimTime(160), ALL), Some(1));
        // One query left, 60 of its 100 done (120 us at half speed): back to direct,
        // ending 40 us later.
        assert_eq!(
            cpu.try_direct(SimTime(160), ALL),
            vec![(2, 2, SimTime(200))]
        );
        assert_eq!(cpu.next_completion(SimTime(160), ALL), None);
        assert!(cpu.finish_direct(SimTime(200), 2));
        assert_eq!(cpu.running(), 0);
    }

    #[test]
    fn cancelled_entries_are_skipped() {
        let mut cpu = Cpu::new(1, 0.0, 0.0);
        cpu.start(SimTime(0), 10, 1, 1);
        cpu.start(SimTime(0), 20, 2, 2);
        cpu.cancel(SimTime(5), 1);
        let valid = |seq: u64, _| seq != 1;
        // 2.5 of work done in 5 us at half speed; alone now, 17.5 left at full speed.
        assert_eq!(cpu.next_completion(SimTime(5), valid), Some(SimTime(23)));
        assert_eq!(cpu.complete(SimTime(23), valid), Some(2));
        assert_eq!(cpu.running(), 0);
    }

    #[test]
    fn a_direct_query_can_be_cancelled() {
        let mut cpu = Cpu::new(4, 0.0, 0.0);
        cpu.start(SimTime(0), 10, 1, 1);
        cpu.cancel(SimTime(3), 1);
        assert_eq!(cpu.running(), 0);
        assert!(!cpu.finish_direct(SimTime(10), 1));
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
        assert_eq!(cpu.start(SimTime(0), 1_000, 1, 1), Start::Shared);
        cpu.start(SimTime(0), 1_000, 2, 2);
        // speed = 1 / (1 + 0.1 * 2 * 1) = 1/1.2
        assert_eq!(cpu.next_completion(SimTime(0), ALL), Some(SimTime(1_200)));
        assert!(
            cpu.try_direct(SimTime(0), ALL).is_empty(),
            "never direct under contention"
        );
    }
}

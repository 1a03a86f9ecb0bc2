//! Clients: the arrival process (Poisson or constant, rate steps, on/off bursts), requests
//! and their attempts, retries with exponential backoff and jitter, and request timeouts.
//!
//! A request is what a user asked for; an attempt is one try of it at an instance. The
//! client gives up on an attempt at `request_timeout` and may retry; the server does not
//! know and finishes the attempt anyway (the coordinator counts that as abandoned work).

use poolsim_scenario::Jitter;
use poolsim_scenario::config::{AppConfig, ArrivalConfig, ArrivalProcess, RetryConfig};

use super::slab::Slab;
use crate::dist::{exp1, round_us};
use crate::rng::{Purpose, Stream};
use crate::time::SimTime;

/// Marks a free request slot (its `attempt`).
const FREE: u64 = u64::MAX;

#[derive(Debug)]
pub struct Request {
    pub arrived: SimTime,
    /// Id of the current (or last failed) attempt; [`FREE`] when the slot is free.
    attempt: u64,
    attempts_made: u32,
    /// An attempt is under way (false while backing off before a retry).
    outstanding: bool,
    /// Where the current attempt went.
    pub instance: u32,
    /// Arrived after the warmup: its outcome is measured.
    pub measured: bool,
}

/// When requests arrive.
#[derive(Debug)]
pub struct Arrivals {
    cfg: ArrivalConfig,
    rate_per_s: f64,
    in_burst: bool,
    /// Mean gap between arrivals at the current rate, µs; 0 when nothing arrives.
    mean_gap_us: f64,
    /// Tag of the one pending arrival event; a rate change makes the pending one stale.
    tag: u32,
    constant_origin: SimTime,
    constant_count: u64,
    rng: Stream,
}

impl Arrivals {
    pub fn new(cfg: &ArrivalConfig, seed: u64) -> Arrivals {
        Arrivals {
            rate_per_s: cfg.initial_rate_per_s,
            cfg: cfg.clone(),
            in_burst: false,
            mean_gap_us: 0.0,
            tag: 0,
            constant_origin: SimTime::ZERO,
            constant_count: 0,
            rng: Stream::new(seed, Purpose::Arrivals),
        }
    }

    /// Rate steps `(at µs, rate)` in time order.
    pub fn steps(&self) -> &[(u64, f64)] {
        &self.cfg.steps
    }

    /// Length of the first off period, when the arrivals come in bursts.
    pub fn first_burst_flip_us(&self) -> Option<u64> {
        self.cfg.bursts.as_ref().map(|b| b.off_us)
    }

    /// Whether an arrival event with `tag` is the pending one.
    pub fn is_due(&self, tag: u32) -> bool {
        tag == self.tag
    }

    pub fn step(&mut self, index: u32) {
        self.rate_per_s = self.cfg.steps[index as usize].1;
    }

    /// A burst starts or ends: the length of the new phase.
    pub fn flip_burst(&mut self) -> Option<u64> {
        let b = self.cfg.bursts.as_ref()?;
        self.in_burst = !self.in_burst;
        Some(if self.in_burst { b.on_us } else { b.off_us })
    }

    fn current_rate(&self) -> f64 {
        match (&self.cfg.bursts, self.in_burst) {
            (Some(b), true) => b.rate_per_s,
            _ => self.rate_per_s,
        }
    }

    /// The rate changed (or the run starts): arrivals follow the new rate from `now`. The
    /// next arrival and its tag, if anything arrives at this rate.
    pub fn restart(&mut self, now: SimTime) -> Option<(SimTime, u32)> {
        let rate = self.current_rate();
        self.mean_gap_us = if rate > 0.0 { 1e6 / rate } else { 0.0 };
        self.constant_origin = now;
        self.constant_count = 0;
        self.next(now)
    }

    /// The arrival after one at `now`, and its tag.
    pub fn next(&mut self, now: SimTime) -> Option<(SimTime, u32)> {
        self.tag = self.tag.wrapping_add(1);
        let mean_gap_us = self.mean_gap_us;
        if mean_gap_us == 0.0 {
            return None;
        }
        let at = match self.cfg.process {
            ArrivalProcess::Poisson => now + round_us(mean_gap_us * exp1(&mut self.rng)),
            ArrivalProcess::Constant => {
                self.constant_count += 1;
                self.constant_origin + round_us(mean_gap_us * self.constant_count as f64)
            }
        };
        Some((at, self.tag))
    }
}

/// What a failed attempt leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this time (the attempt id the retry event carries).
    Retry { at: SimTime, attempt: u64 },
    /// The request has failed.
    GiveUp,
}

#[derive(Debug)]
pub struct Clients {
    pub arrivals: Arrivals,
    requests: Slab<Request>,
    in_flight: u32,
    max_in_flight: u32,
    next_attempt: u64,
    request_timeout_us: u64,
    retries: RetryConfig,
    rng: Stream,
}

impl Clients {
    pub fn new(arrivals: &ArrivalConfig, app: &AppConfig, max_in_flight: u32, seed: u64) -> Self {
        Clients {
            arrivals: Arrivals::new(arrivals, seed),
            requests: Slab::new(),
            in_flight: 0,
            max_in_flight,
            next_attempt: 0,
            request_timeout_us: app.request_timeout_us,
            retries: app.retries.clone(),
            rng: Stream::new(seed, Purpose::RetryJitter),
        }
    }

    pub fn request(&self, req: u32) -> &Request {
        &self.requests[req]
    }

    /// Requests arrived and not yet finished.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// A request arrives now; `Err` with the limit when more than `max_in_flight` are.
    pub fn arrive(&mut self, now: SimTime, measured: bool) -> Result<u32, u32> {
        self.in_flight += 1;
        if self.in_flight > self.max_in_flight {
            return Err(self.max_in_flight);
        }
        Ok(self.requests.insert(Request {
            arrived: now,
            attempt: FREE,
            attempts_made: 1,
            outstanding: false,
            instance: 0,
            measured,
        }))
    }

    /// Starts an attempt of `req`: its id, and when the client gives up on it (if ever).
    pub fn begin_attempt(&mut self, now: SimTime, req: u32) -> (u64, Option<SimTime>) {
        let attempt = self.next_attempt;
        self.next_attempt += 1;
        let r = &mut self.requests[req];
        r.attempt = attempt;
        r.outstanding = true;
        let timeout = (self.request_timeout_us > 0).then(|| now + self.request_timeout_us);
        (attempt, timeout)
    }

    pub fn sent_to(&mut self, req: u32, instance: u32) {
        self.requests[req].instance = instance;
    }

    /// `attempt` is the one the client is waiting for.
    pub fn awaits(&self, req: u32, attempt: u64) -> bool {
        let r = &self.requests[req];
        r.attempt == attempt && r.outstanding
    }

    /// A retry of `attempt` comes due: whether it is still wanted (then it counts as made).
    pub fn retry_due(&mut self, req: u32, attempt: u64) -> bool {
        let r = &mut self.requests[req];
        let due = r.attempt == attempt && !r.outstanding;
        if due {
            r.attempts_made += 1;
        }
        due
    }

    /// The current attempt failed: retry after a backoff, or give up.
    pub fn attempt_failed(&mut self, now: SimTime, req: u32) -> AfterFailure {
        let r = &mut self.requests[req];
        r.outstanding = false;
        let retry = &self.retries;
        if r.attempts_made > retry.max {
            return AfterFailure::GiveUp;
        }
        let mut delay =
            retry.backoff_us as f64 * libm::pow(retry.multiplier, f64::from(r.attempts_made - 1));
        if retry.max_backoff_us > 0 {
            delay = delay.min(retry.max_backoff_us as f64);
        }
        let delay = round_us(delay);
        let delay = match retry.jitter {
            Jitter::None => delay,
            Jitter::Full => self.rng.below(delay + 1),
            Jitter::Equal => delay / 2 + self.rng.below(delay - delay / 2 + 1),
        };
        AfterFailure::Retry {
            at: now + delay,
            attempt: r.attempt,
        }
    }

    /// The request is over (succeeded or failed): its slot is freed.
    pub fn finish(&mut self, req: u32) {
        self.requests[req].attempt = FREE;
        self.requests.remove(req);
        self.in_flight -= 1;
    }

    /// Measured requests still in flight.
    pub fn in_flight_measured(&self) -> u64 {
        self.requests
            .slots()
            .filter(|(_, r)| r.attempt != FREE && r.measured)
            .count() as u64
    }
}

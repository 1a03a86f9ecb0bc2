//! The pools: one HikariCP pool per instance and the table of their connections.
//!
//! HikariCP semantics (from its source; see DESIGN.md):
//! - `max_size` bounds idle + in use + being opened. Each pool has one connection creator
//!   (HikariCP's single "connection adder" thread): it opens connections one at a time while
//!   the pool is below `max_size` and (`idle < min_idle` or waiters outnumber idle
//!   connections). A refused or failed opening sleeps 20 ms, doubling to 5 s, as
//!   `PoolEntryCreator` does.
//! - Idle connections are borrowed last-in first-out; waiters are served first come, first
//!   served. A connection past `max_lifetime` (minus up to 2.5% jitter) is closed when idle,
//!   or on return. The housekeeper closes connections idle past `idle_timeout` above
//!   `min_idle`, then refills the pool.
//!
//! The pool knows nothing of requests or the database: it is told which waiters are still
//! waiting (`live`), and it returns the connections to close and the timers to set; the
//! coordinator frees their database slots and counts them.

use std::collections::VecDeque;

use poolsim_scenario::config::{CREATOR_BACKOFF_MAX_US, CREATOR_BACKOFF_START_US, PoolConfig};

use super::slab::Slab;
use crate::cause::Cause;
use crate::dist::sample;
use crate::rng::{Purpose, Stream};
use crate::time::SimTime;

/// No job (a connection nobody holds).
pub const NOBODY: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    Opening,
    Idle,
    Active,
    Closed,
}

#[derive(Debug)]
pub struct Conn {
    pub instance: u32,
    /// The pool's epoch when the opening began: a restart makes it stale.
    epoch: u32,
    pub state: ConnState,
    /// Generation of the connection's current timers (connect, leak check).
    pub tag: u64,
    /// Fixed at opening: identifies this connection's life (its retirement timer).
    born: u64,
    pub holder: u32,
    idle_since: SimTime,
    /// Holds one of the database's connection slots.
    pub has_slot: bool,
    /// The database went away under it: the next use fails and the pool discards it.
    pub broken: bool,
    /// Past its lifetime while in use: closed on return.
    evict: bool,
    /// On its pool's idle stack, between `older` and `newer` (or [`NOBODY`] at an end).
    listed: bool,
    older: u32,
    newer: u32,
}

/// A pool's idle connections, newest on top: a list threaded through the connections, so a
/// retirement takes one off in constant time (a `Vec` searched and shifted, which cost
/// O(max_size) per retirement and made pools of 10,000 run three times slower).
#[derive(Debug)]
struct IdleStack {
    newest: u32,
    oldest: u32,
    len: u32,
}

impl IdleStack {
    const EMPTY: IdleStack = IdleStack {
        newest: NOBODY,
        oldest: NOBODY,
        len: 0,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Creator {
    Idle,
    Opening,
    Sleeping,
}

/// One instance's pool.
#[derive(Debug)]
pub struct Pool {
    pub cfg: PoolConfig,
    /// Closed while its instance is down.
    open: bool,
    /// Bumped at each close: openings begun before it are stale.
    epoch: u32,
    idle: IdleStack,
    /// `(job, tag)` in arrival order; entries whose job moved on are dropped lazily.
    waiters: VecDeque<(u32, u64)>,
    pending: u32,
    active: u32,
    opening: u32,
    creator: Creator,
    creator_gen: u64,
    backoff_us: u64,
    last_open_failure: Option<Cause>,
    /// Bound on `total()`: `max_size`, or more while a live shrink drains.
    bound: u32,
}

impl Pool {
    fn new(cfg: PoolConfig, open: bool) -> Pool {
        Pool {
            bound: cfg.max_size,
            cfg,
            open,
            epoch: 0,
            idle: IdleStack::EMPTY,
            waiters: VecDeque::new(),
            pending: 0,
            active: 0,
            opening: 0,
            creator: Creator::Idle,
            creator_gen: 0,
            backoff_us: CREATOR_BACKOFF_START_US,
            last_open_failure: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Connections held: idle and in use (HikariCP's `getTotalConnections()`).
    pub fn held(&self) -> u32 {
        self.idle.len + self.active
    }

    /// Held plus being opened: what `max_size` bounds.
    pub fn total(&self) -> u32 {
        self.held() + self.opening
    }

    pub fn bound(&self) -> u32 {
        self.bound
    }

    pub fn opening(&self) -> u32 {
        self.opening
    }

    /// Requests holding or waiting for a connection (what "least busy" compares).
    pub fn busy(&self) -> u32 {
        self.active + self.pending
    }

    /// `[active, idle, pending, held]`, as the measurement keeps them. A live shrink's
    /// extra bound ends once the pool is within its `max_size`.
    pub fn levels(&mut self) -> [u64; 4] {
        if self.total() <= self.cfg.max_size {
            self.bound = self.cfg.max_size;
        }
        [
            u64::from(self.active),
            u64::from(self.idle.len),
            u64::from(self.pending),
            u64::from(self.held()),
        ]
    }

    /// Why the pool's last opening failed (what a timed-out waiter fails with), if it did.
    pub fn timeout_cause(&self) -> Cause {
        self.last_open_failure.unwrap_or(Cause::PoolTimeout)
    }

    fn should_create(&self) -> bool {
        let idle = self.idle.len;
        self.open
            && self.creator == Creator::Idle
            && self.total() < self.cfg.max_size
            && (idle < self.cfg.min_idle || self.pending > idle)
    }

    /// `job` waits (its wait tagged `tag`): when it gives up, if the pool has a timeout.
    pub fn wait(&mut self, now: SimTime, job: u32, tag: u64) -> Option<SimTime> {
        self.waiters.push_back((job, tag));
        self.pending += 1;
        let timeout = self.cfg.connection_timeout_us;
        (timeout > 0).then(|| now + timeout)
    }

    /// A waiter gave up (`live` says which entries still wait): forgets the ones that left,
    /// from the front, where a pool's single timeout puts them; and all of them if the queue
    /// ever holds twice the live waiters (possible after a reconfigure changes the timeout),
    /// so the queue stays bounded.
    pub fn waiter_left(&mut self, live: impl Fn(u32, u64) -> bool) {
        while self.waiters.front().is_some_and(|&(j, t)| !live(j, t)) {
            self.waiters.pop_front();
        }
        if self.waiters.len() > 2 * self.pending as usize + 64 {
            self.waiters.retain(|&(j, t)| live(j, t));
        }
        self.pending -= 1;
    }

    /// The first waiter still waiting, taken off the queue.
    fn next_waiter(&mut self, live: impl Fn(u32, u64) -> bool) -> Option<u32> {
        while let Some((job, tag)) = self.waiters.pop_front() {
            if live(job, tag) {
                self.pending -= 1;
                return Some(job);
            }
        }
        None
    }
}

/// What to do with a connection given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    /// It stays: hand it to the next waiter or put it back idle.
    Keep,
    /// It is broken, too old, or above a shrunk `max_size`: close it.
    Close,
}

/// Where a connection went when it became free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkin {
    /// To this waiting job.
    Granted(u32),
    Idle,
}

/// A connection opening to start: the connection and when its attempt completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opening {
    pub conn: u32,
    pub at: SimTime,
    pub tag: u64,
}

/// The fleet's pools and their connections.
#[derive(Debug)]
pub struct Pools {
    pub pools: Vec<Pool>,
    pub conns: Slab<Conn>,
    connect_rng: Stream,
    lifetime_rng: Stream,
}

impl Pools {
    /// `slots` pools with `cfg`; those of instances `in_service..` start closed.
    pub fn new(cfg: &PoolConfig, slots: u32, in_service: u32, seed: u64) -> Pools {
        Pools {
            pools: (0..slots)
                .map(|i| Pool::new(cfg.clone(), i < in_service))
                .collect(),
            conns: Slab::new(),
            connect_rng: Stream::new(seed, Purpose::ConnectTime),
            lifetime_rng: Stream::new(seed, Purpose::Lifetime),
        }
    }

    pub fn pool(&self, i: u32) -> &Pool {
        &self.pools[i as usize]
    }

    /// An idle connection to borrow, newest first. `Err` with one found broken (validation
    /// on borrow finds it dead): close it and ask again.
    pub fn borrow(&mut self, i: u32) -> Option<Result<u32, u32>> {
        let conn = self.pools[i as usize].idle.newest;
        if conn == NOBODY {
            return None;
        }
        self.unlist(conn);
        Some(if self.conns[conn].broken {
            Err(conn)
        } else {
            Ok(conn)
        })
    }

    /// `job` takes `conn` (off the idle stack already); `tag` is its new timer generation.
    /// When its leak check comes due, if the pool detects leaks.
    pub fn lend(&mut self, now: SimTime, conn: u32, job: u32, tag: u64) -> Option<SimTime> {
        let c = &mut self.conns[conn];
        c.state = ConnState::Active;
        c.holder = job;
        c.tag = tag;
        let pool = &mut self.pools[c.instance as usize];
        pool.active += 1;
        let leak_us = pool.cfg.leak_detection_us;
        (leak_us > 0).then(|| now + leak_us)
    }

    /// The holder gives `conn` back (`tag`: its new generation).
    pub fn give_back(&mut self, conn: u32, tag: u64) -> Returned {
        let c = &mut self.conns[conn];
        c.holder = NOBODY;
        c.tag = tag;
        let pool = &mut self.pools[c.instance as usize];
        pool.active -= 1;
        if c.broken || c.evict || pool.total() + 1 > pool.cfg.max_size {
            Returned::Close
        } else {
            Returned::Keep
        }
    }

    /// The holder keeps `conn` forever (a leak): it stays in use, held by nobody.
    pub fn leak(&mut self, conn: u32) {
        self.conns[conn].holder = NOBODY;
    }

    /// A usable connection is free: to the first live waiter, else to the idle stack.
    pub fn check_in(
        &mut self,
        now: SimTime,
        conn: u32,
        live: impl Fn(u32, u64) -> bool,
    ) -> Checkin {
        let i = self.conns[conn].instance as usize;
        if let Some(job) = self.pools[i].next_waiter(live) {
            return Checkin::Granted(job);
        }
        let c = &mut self.conns[conn];
        c.state = ConnState::Idle;
        c.idle_since = now;
        self.list(conn);
        Checkin::Idle
    }

    /// Closes a connection that is off the idle stack and held by no one (`tag`: its last
    /// generation): whether it held a database slot, and whether it was a connection at all
    /// (not a failed or abandoned opening).
    pub fn close(&mut self, conn: u32, tag: u64) -> (bool, bool) {
        let c = &mut self.conns[conn];
        debug_assert_ne!(c.state, ConnState::Closed);
        let was_opening = c.state == ConnState::Opening;
        c.state = ConnState::Closed;
        c.tag = tag;
        let slot = std::mem::take(&mut c.has_slot);
        if was_opening {
            self.pools[c.instance as usize].opening -= 1;
        }
        self.conns.remove(conn);
        (slot, !was_opening)
    }

    /// Starts the creator of pool `i` if it is idle and the pool needs a connection; the
    /// opening takes the sampled connect time plus the network round trip `rtt_us`.
    pub fn start_opening(
        &mut self,
        now: SimTime,
        i: u32,
        tag: u64,
        rtt_us: u64,
    ) -> Option<Opening> {
        let pool = &mut self.pools[i as usize];
        if !pool.should_create() {
            return None;
        }
        let delay = sample(&pool.cfg.connect_time, &mut self.connect_rng) + rtt_us;
        pool.opening += 1;
        pool.creator = Creator::Opening;
        let conn = self.conns.insert(Conn {
            instance: i,
            epoch: pool.epoch,
            state: ConnState::Opening,
            tag,
            born: tag,
            holder: NOBODY,
            idle_since: now,
            has_slot: false,
            broken: false,
            evict: false,
            listed: false,
            older: NOBODY,
            newer: NOBODY,
        });
        Some(Opening {
            conn,
            at: now + delay,
            tag,
        })
    }

    /// Whether an opening still matters (its pool has not been closed since it began).
    pub fn opening_current(&self, conn: u32) -> bool {
        let c = &self.conns[conn];
        let pool = &self.pools[c.instance as usize];
        c.epoch == pool.epoch && pool.open
    }

    /// The database refused or failed the opening of `conn` (closed by the caller): the
    /// creator sleeps, and when it wakes (with `tag`).
    pub fn open_failed(&mut self, now: SimTime, i: u32, cause: Cause, tag: u64) -> SimTime {
        let pool = &mut self.pools[i as usize];
        pool.last_open_failure = Some(cause);
        pool.backoff_us = (pool.backoff_us * 2).min(CREATOR_BACKOFF_MAX_US);
        pool.creator = Creator::Sleeping;
        pool.creator_gen = tag;
        now + pool.backoff_us
    }

    /// The creator's sleep with `tag` is over: whether it is still the current one.
    pub fn creator_wakes(&mut self, i: u32, tag: u64) -> bool {
        let pool = &mut self.pools[i as usize];
        let current = pool.creator_gen == tag && pool.creator == Creator::Sleeping;
        if current {
            pool.creator = Creator::Idle;
        }
        current
    }

    /// `conn` opened (it has a database slot now): when it retires and with which tag, if
    /// the pool has a `max_lifetime`.
    pub fn opened(&mut self, now: SimTime, conn: u32) -> Option<(SimTime, u64)> {
        let c = &mut self.conns[conn];
        c.has_slot = true;
        c.state = ConnState::Idle;
        let (born, pool) = (c.born, &mut self.pools[c.instance as usize]);
        pool.last_open_failure = None;
        pool.backoff_us = CREATOR_BACKOFF_START_US;
        pool.opening -= 1;
        pool.creator = Creator::Idle;
        let lifetime = pool.cfg.max_lifetime_us;
        if lifetime == 0 {
            return None;
        }
        // HikariCP: up to 2.5% earlier, so a pool's connections do not all retire at once.
        let jitter = if lifetime > 10_000_000 {
            self.lifetime_rng.below(lifetime / 40)
        } else {
            0
        };
        Some((now + (lifetime - jitter), born))
    }

    /// `conn`'s lifetime (identified by `born`) is over: `Some(conn)` to close now (it was
    /// idle, and is off the stack), or it is evicted on return, or it is long gone.
    pub fn retire(&mut self, conn: u32, born: u64) -> Option<u32> {
        let c = &mut self.conns[conn];
        if c.born != born {
            return None;
        }
        match c.state {
            ConnState::Idle => {
                if c.listed {
                    self.unlist(conn);
                }
                Some(conn)
            }
            ConnState::Active => {
                c.evict = true;
                None
            }
            ConnState::Opening | ConnState::Closed => None,
        }
    }

    /// The housekeeper's pass over pool `i`: idle connections past `idle_timeout` above
    /// `min_idle`, oldest first, taken off the stack to close.
    pub fn idle_expired(&mut self, now: SimTime, i: u32) -> Vec<u32> {
        let pool = &mut self.pools[i as usize];
        let timeout = pool.cfg.idle_timeout_us;
        let mut out = Vec::new();
        if timeout == 0 || pool.cfg.min_idle >= pool.cfg.max_size {
            return out;
        }
        let min_idle = pool.cfg.min_idle;
        let mut conn = pool.idle.oldest;
        while conn != NOBODY {
            let pool = &self.pools[i as usize];
            if pool.idle.len <= min_idle || pool.total() <= min_idle {
                break;
            }
            let newer = self.conns[conn].newer;
            if now.since(self.conns[conn].idle_since) > timeout {
                self.unlist(conn);
                out.push(conn);
            }
            conn = newer;
        }
        out
    }

    /// New settings for a pool that is up: the idle connections above the new `max_size` to
    /// close now (oldest first); in-use ones close on return.
    pub fn reconfigure(&mut self, i: u32, cfg: &PoolConfig) -> Vec<u32> {
        let pool = &mut self.pools[i as usize];
        pool.bound = pool.total().max(cfg.max_size);
        pool.cfg = cfg.clone();
        let excess = pool.total().saturating_sub(cfg.max_size);
        self.take_oldest(i, excess)
    }

    /// The instance is back: the pool opens with `cfg` if it was promised new settings.
    pub fn reopen(&mut self, i: u32, cfg: Option<PoolConfig>) {
        let pool = &mut self.pools[i as usize];
        if let Some(cfg) = cfg {
            pool.bound = cfg.max_size;
            pool.cfg = cfg;
        }
        pool.open = true;
    }

    /// The instance goes down (`tag` voids the creator's sleep): the pool forgets its
    /// waiters (the caller fails their jobs) and every connection it has, idle, in use
    /// (leaked ones included) or being opened, which the caller closes.
    pub fn shut(&mut self, i: u32, tag: u64) -> Vec<u32> {
        let pool = &mut self.pools[i as usize];
        pool.open = false;
        pool.epoch += 1;
        pool.creator = Creator::Idle;
        pool.creator_gen = tag;
        pool.backoff_us = CREATOR_BACKOFF_START_US;
        pool.last_open_failure = None;
        pool.waiters.clear();
        pool.pending = 0;
        self.conns
            .slots()
            .filter(|(_, c)| c.instance == i && c.state != ConnState::Closed)
            .map(|(k, _)| k)
            .collect()
    }

    /// After [`Pools::shut`]'s connections are closed: nothing is left in the pool.
    pub fn emptied(&mut self, i: u32) {
        let pool = &mut self.pools[i as usize];
        pool.idle = IdleStack::EMPTY;
        pool.active = 0;
        pool.opening = 0;
    }

    /// The database went away: every open connection breaks and gives up its database slot
    /// (how many were freed).
    pub fn break_all(&mut self) -> u32 {
        let mut freed = 0;
        for conn in self.conns.slots_mut() {
            if conn.state != ConnState::Closed && conn.state != ConnState::Opening {
                conn.broken = true;
                freed += u32::from(std::mem::take(&mut conn.has_slot));
            }
        }
        freed
    }

    /// Pool `i`'s idle connections, taken off the stack (to close them).
    pub fn take_idle(&mut self, i: u32) -> Vec<u32> {
        self.take_oldest(i, u32::MAX)
    }

    /// Up to `n` of pool `i`'s idle connections, oldest first, taken off the stack.
    fn take_oldest(&mut self, i: u32, n: u32) -> Vec<u32> {
        let n = n.min(self.pools[i as usize].idle.len);
        (0..n)
            .map(|_| {
                let conn = self.pools[i as usize].idle.oldest;
                self.unlist(conn);
                conn
            })
            .collect()
    }

    /// Pool `i`'s idle stack walked from top to bottom: every link answered by its
    /// neighbour, every connection listed, idle and of this pool, and as many as `len`.
    /// For the state checker.
    pub fn idle_stack_problem(&self, i: u32) -> Option<String> {
        let idle = &self.pools[i as usize].idle;
        let (mut conn, mut newer, mut seen) = (idle.newest, NOBODY, 0u32);
        while conn != NOBODY {
            let c = &self.conns[conn];
            if !c.listed || c.state != ConnState::Idle || c.instance != i || c.newer != newer {
                return Some(format!(
                    "connection {conn} is on the stack but not linked as idle"
                ));
            }
            seen += 1;
            if seen > idle.len {
                return Some(format!(
                    "the stack holds more than its {} connections",
                    idle.len
                ));
            }
            (newer, conn) = (conn, c.older);
        }
        (seen != idle.len || newer != idle.oldest)
            .then(|| format!("the stack holds {seen} connections, counted {}", idle.len))
    }

    /// Puts `conn` on top of its pool's idle stack.
    fn list(&mut self, conn: u32) {
        let c = &mut self.conns[conn];
        debug_assert!(!c.listed);
        let idle = &mut self.pools[c.instance as usize].idle;
        let below = idle.newest;
        (c.listed, c.older, c.newer) = (true, below, NOBODY);
        idle.newest = conn;
        idle.len += 1;
        if below == NOBODY {
            idle.oldest = conn;
        } else {
            self.conns[below].newer = conn;
        }
    }

    /// Takes `conn` off its pool's idle stack, wherever it is.
    fn unlist(&mut self, conn: u32) {
        let c = &mut self.conns[conn];
        debug_assert!(c.listed);
        c.listed = false;
        let (older, newer) = (c.older, c.newer);
        let idle = &mut self.pools[c.instance as usize].idle;
        idle.len -= 1;
        if older == NOBODY {
            idle.oldest = newer;
        } else {
            self.conns[older].newer = newer;
        }
        if newer == NOBODY {
            idle.newest = older;
        } else {
            self.conns[newer].older = older;
        }
    }
}

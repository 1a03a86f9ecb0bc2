//! `Scenario` → `Config`: every check in one pass, every problem reported with its field path.

use crate::config::*;
use crate::scenario::*;
use crate::{Duration, FieldError, work};

/// Bounds that keep one run within the memory and time of a laptop or a browser tab.
pub const MAX_INSTANCES: u32 = 1_000;
pub const MAX_POOL_SIZE: u32 = 10_000;
pub const MAX_QUERIES: u32 = 1_000;
pub const MAX_DB_CONNECTIONS: u32 = 1_000_000;
pub const MAX_CORES: u32 = 10_000;
pub const MAX_RATE_PER_S: f64 = 10_000_000.0;
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);
pub const MAX_BUCKETS: u64 = 20_000;
pub const AUTO_BUCKETS: u64 = 2_000;
pub const MAX_FAULTS: usize = 1_000;
pub const MAX_ALERTS: usize = 100;
/// Steps of a piecewise arrival rate: one a minute for a week.
pub const MAX_RATE_STEPS: usize = 10_080;
pub const MAX_EMPIRICAL_VALUES: usize = 100_000;
/// Characters of a name or label (`name`, an alert's `name`, a moment's `label`).
pub const MAX_NAME_CHARS: usize = 200;
/// Characters of a prose field (`description`, a moment's `detail`): a page of text.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// One sampled duration is at most this long (about 11.6 days).
pub const MAX_SAMPLE: Duration = Duration::from_secs(1_000_000);

/// z such that Φ(z) = 0.99, for the log-normal's p99.
const Z99: f64 = 2.326_347_874_040_840_8;

struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            path: path.into(),
            message: message.into(),
        });
    }

    fn rate(&mut self, path: &str, value: f64) -> f64 {
        if !value.is_finite() || value < 0.0 {
            self.fail(path, "must be a rate of at least 0 per second");
            0.0
        } else if value > MAX_RATE_PER_S {
            self.fail(path, format!("must be at most {MAX_RATE_PER_S} per second"));
            0.0
        } else {
            value
        }
    }

    fn count(&mut self, path: &str, value: u32, min: u32, max: u32) -> u32 {
        if value < min {
            self.fail(path, format!("must be at least {min}"));
            min
        } else if value > max {
            self.fail(path, format!("must be at most {max}"));
            max
        } else {
            value
        }
    }

    fn within_run(&mut self, path: &str, at: Duration, duration: Duration) -> u64 {
        if at > duration {
            self.fail(
                path,
                format!("{at} is after the end of the run (duration {duration})"),
            );
        }
        at.as_us()
    }

    /// Text the page shows (a name, a description): long text is refused, not drawn.
    fn text(&mut self, path: &str, value: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            self.fail(path, format!("must be at most {max} characters, not {n}"));
        }
    }

    fn at_most(&mut self, path: &str, value: Duration, max: Duration) -> u64 {
        if value > max {
            self.fail(path, format!("must be at most {max}"));
        }
        value.as_us()
    }

    fn dist(&mut self, path: &str, dist: &Distribution) -> Dist {
        let max = MAX_SAMPLE;
        match dist {
            Distribution::Constant { value } => Dist::Constant {
                value_us: self.at_most(&format!("{path}.value"), *value, max),
            },
            Distribution::Exponential { mean } => {
                let mean_us = self.at_most(&format!("{path}.mean"), *mean, max);
                if mean_us == 0 {
                    Dist::Constant { value_us: 0 }
                } else {
                    Dist::Exponential {
                        mean_us: mean_us as f64,
                    }
                }
            }
            Distribution::Uniform { min, max: hi } => {
                if min > hi {
                    self.fail(format!("{path}.min"), format!("must be at most max ({hi})"));
                }
                Dist::Uniform {
                    min_us: min.as_us(),
                    max_us: self.at_most(&format!("{path}.max"), *hi, max),
                }
            }
            Distribution::Lognormal { median, p99 } => {
                if median.is_zero() {
                    self.fail(format!("{path}.median"), "must be above 0s");
                }
                if p99 <= median {
                    self.fail(
                        format!("{path}.p99"),
                        format!("must be above the median ({median})"),
                    );
                }
                self.at_most(&format!("{path}.p99"), *p99, max);
                let (m, p) = (median.as_us().max(1) as f64, p99.as_us().max(1) as f64);
                let sigma = (libm::log(p) - libm::log(m)) / Z99;
                Dist::Lognormal {
                    mu: libm::log(m),
                    sigma: sigma.max(0.0),
                }
            }
            Distribution::Gamma { mean, shape } => {
                if !(shape.is_finite() && *shape >= 0.01 && *shape <= 1e6) {
                    self.fail(format!("{path}.shape"), "must be between 0.01 and 1000000");
                }
                let mean_us = self.at_most(&format!("{path}.mean"), *mean, max) as f64;
                let shape = if shape.is_finite() && *shape >= 0.01 {
                    shape.min(1e6)
                } else {
                    1.0
                };
                Dist::Gamma {
                    shape,
                    scale_us: mean_us / shape,
                }
            }
            Distribution::Pareto { min, alpha } => {
                if min.is_zero() {
                    self.fail(format!("{path}.min"), "must be above 0s");
                }
                self.at_most(&format!("{path}.min"), *min, max);
                if !(alpha.is_finite() && *alpha > 1.0 && *alpha <= 1000.0) {
                    self.fail(
                        format!("{path}.alpha"),
                        "must be above 1 (the mean is infinite otherwise) and at most 1000",
                    );
                }
                Dist::Pareto {
                    min_us: min.as_us() as f64,
                    alpha: if alpha.is_finite() && *alpha > 1.0 {
                        alpha.min(1000.0)
                    } else {
                        2.0
                    },
                }
            }
            Distribution::Empirical { values } => {
                if values.is_empty() {
                    self.fail(format!("{path}.values"), "must list at least one duration");
                } else if values.len() > MAX_EMPIRICAL_VALUES {
                    self.fail(
                        format!("{path}.values"),
                        format!("must list at most {MAX_EMPIRICAL_VALUES} durations"),
                    );
                }
                for (i, v) in values.iter().enumerate() {
                    self.at_most(&format!("{path}.values[{i}]"), *v, max);
                }
                if values.is_empty() {
                    Dist::Constant { value_us: 0 }
                } else {
                    Dist::Empirical {
                        values_us: values.iter().map(|v| v.as_us()).collect(),
                    }
                }
            }
        }
    }

    fn restart(&mut self, path: &str, down: Duration, gap: Duration, batch: u32) -> RestartConfig {
        if down.is_zero() {
            self.fail(format!("{path}.down"), "must be above 0s");
        }
        RestartConfig {
            down_us: self
                .at_most(&format!("{path}.down"), down, MAX_DURATION)
                .max(1),
            gap_us: self.at_most(&format!("{path}.gap"), gap, MAX_DURATION),
            batch: self.count(&format!("{path}.batch"), batch, 1, MAX_INSTANCES),
        }
    }

    /// `max_size_written`: the pool's `max_size` is one the scenario sets at `path` (not a
    /// reconfigure's inherited one), so a rule may name it there.
    fn pool(&mut self, path: &str, pool: &Pool, max_size_written: bool) -> PoolConfig {
        let max_size = self.count(&format!("{path}.max_size"), pool.max_size, 1, MAX_POOL_SIZE);
        let min_idle = match pool.min_idle {
            Some(m) if m > max_size => {
                // The other field of the rule, when raising it is a way out.
                if max_size_written && pool.max_size == max_size && m <= MAX_POOL_SIZE {
                    self.fail(
                        format!("{path}.max_size"),
                        format!("must be at least min_idle ({m})"),
                    );
                }
                self.fail(
                    format!("{path}.min_idle"),
                    format!("must be at most max_size ({max_size})"),
                );
                max_size
            }
            Some(m) => m,
            None => max_size,
        };
        let max_lifetime_us = self.at_most(
            &format!("{path}.max_lifetime"),
            pool.max_lifetime,
            MAX_DURATION,
        );
        if max_lifetime_us != 0 && max_lifetime_us < 1_000_000 {
            self.fail(
                format!("{path}.max_lifetime"),
                "must be 0s (never) or at least 1s",
            );
        }
        let idle_timeout_us = self.at_most(
            &format!("{path}.idle_timeout"),
            pool.idle_timeout,
            MAX_DURATION,
        );
        if idle_timeout_us != 0 && idle_timeout_us < 1_000_000 {
            self.fail(
                format!("{path}.idle_timeout"),
                "must be 0s (never) or at least 1s",
            );
        }
        PoolConfig {
            max_size,
            min_idle,
            connection_timeout_us: self.at_most(
                &format!("{path}.connection_timeout"),
                pool.connection_timeout,
                MAX_SAMPLE,
            ),
            idle_timeout_us,
            max_lifetime_us,
            connect_time: self.dist(&format!("{path}.connect_time"), &pool.connect_time),
            leak_detection_us: self.at_most(
                &format!("{path}.leak_detection_threshold"),
                pool.leak_detection_threshold,
                MAX_SAMPLE,
            ),
        }
    }

    fn patched(&mut self, path: &str, base: &Pool, patch: &PoolPatch) -> (Pool, PoolConfig) {
        let mut pool = base.clone();
        if let Some(v) = patch.max_size {
            pool.max_size = v;
            // A new max_size with no min_idle keeps a fixed pool fixed, and a min_idle above
            // the new maximum is lowered to it, as HikariCP does.
            if patch.min_idle.is_none() {
                match base.min_idle {
                    Some(m) if m == base.max_size || m > v => pool.min_idle = None,
                    None => pool.min_idle = None,
                    Some(_) => {}
                }
            }
        }
        if let Some(v) = patch.min_idle {
            pool.min_idle = Some(v);
        }
        if let Some(v) = patch.connection_timeout {
            pool.connection_timeout = v;
        }
        if let Some(v) = patch.idle_timeout {
            pool.idle_timeout = v;
        }
        if let Some(v) = patch.max_lifetime {
            pool.max_lifetime = v;
        }
        if let Some(v) = &patch.connect_time {
            pool.connect_time = v.clone();
        }
        if let Some(v) = patch.leak_detection_threshold {
            pool.leak_detection_threshold = v;
        }
        let config = self.pool(path, &pool, patch.max_size.is_some());
        (pool, config)
    }
}

impl Scenario {
    /// Checks every field and resolves defaults. On failure, lists every problem found.
    pub fn validate(&self) -> Result<Config, Vec<FieldError>> {
        let mut c = Checker { errors: Vec::new() };
        let s = self;

        c.text("name", &s.name, MAX_NAME_CHARS);
        c.text("description", &s.description, MAX_TEXT_CHARS);
        if s.duration.is_zero() {
            c.fail("duration", "must be above 0s");
        }
        let duration_us = c.at_most("duration", s.duration, MAX_DURATION).max(1);
        if s.warmup >= s.duration && !s.duration.is_zero() {
            c.fail(
                "warmup",
                format!("must be shorter than the duration ({})", s.duration),
            );
        }
        let bucket_us = if s.bucket.is_zero() {
            auto_bucket_us(duration_us)
        } else {
            if duration_us.div_ceil(s.bucket.as_us()) > MAX_BUCKETS {
                c.fail(
                    "bucket",
                    format!("gives more than {MAX_BUCKETS} buckets over the duration"),
                );
            }
            s.bucket.as_us().max(duration_us / MAX_BUCKETS).max(1)
        };
        if s.limits.max_events == 0 {
            c.fail("limits.max_events", "must be at least 1");
        }
        if s.limits.max_in_flight == 0 {
            c.fail("limits.max_in_flight", "must be at least 1");
        }

        // Workload.
        let mut steps = Vec::new();
        let (process, initial_rate_per_s, bursts) = match &s.workload.arrivals {
            Arrivals::Poisson { rate_per_s } => (
                ArrivalProcess::Poisson,
                c.rate("workload.arrivals.rate_per_s", *rate_per_s),
                None,
            ),
            Arrivals::Constant { rate_per_s } => (
                ArrivalProcess::Constant,
                c.rate("workload.arrivals.rate_per_s", *rate_per_s),
                None,
            ),
            Arrivals::Bursty {
                rate_per_s,
                burst_rate_per_s,
                on,
                off,
            } => {
                if on.is_zero() {
                    c.fail("workload.arrivals.on", "must be above 0s");
                }
                if off.is_zero() {
                    c.fail("workload.arrivals.off", "must be above 0s");
                }
                c.at_most("workload.arrivals.on", *on, MAX_DURATION);
                c.at_most("workload.arrivals.off", *off, MAX_DURATION);
                (
                    ArrivalProcess::Poisson,
                    c.rate("workload.arrivals.rate_per_s", *rate_per_s),
                    Some(Bursts {
                        rate_per_s: c.rate("workload.arrivals.burst_rate_per_s", *burst_rate_per_s),
                        on_us: on.as_us().max(1),
                        off_us: off.as_us().max(1),
                    }),
                )
            }
            Arrivals::Piecewise { steps: given } => {
                if given.is_empty() {
                    c.fail("workload.arrivals.steps", "must list at least one step");
                }
                if given.len() > MAX_RATE_STEPS {
                    c.fail(
                        "workload.arrivals.steps",
                        format!(
                            "must list at most {MAX_RATE_STEPS} steps, not {}",
                            given.len()
                        ),
                    );
                }
                let mut last = None;
                for (i, step) in given.iter().enumerate().take(MAX_RATE_STEPS) {
                    let path = format!("workload.arrivals.steps[{i}]");
                    let rate = c.rate(&format!("{path}.rate_per_s"), step.rate_per_s);
                    let at = c.within_run(&format!("{path}.at"), step.at, s.duration);
                    if last.is_some_and(|l| at < l) {
                        c.fail(format!("{path}.at"), "steps must be in time order");
                    }
                    last = Some(at);
                    steps.push((at, rate));
                }
                (ArrivalProcess::Poisson, 0.0, None)
            }
        };
        let tx = &s.workload.transaction;
        let transaction = TransactionConfig {
            queries: c.count("workload.transaction.queries", tx.queries, 1, MAX_QUERIES),
            query_time: c.dist("workload.transaction.query_time", &tx.query_time),
            think_time: c.dist("workload.transaction.think_time", &tx.think_time),
        };

        // App.
        let r = &s.app.retries;
        if !(r.multiplier.is_finite() && (1.0..=100.0).contains(&r.multiplier)) {
            c.fail("app.retries.multiplier", "must be between 1 and 100");
        }
        if r.max > 100 {
            c.fail("app.retries.max", "must be at most 100");
        }
        let app = AppConfig {
            instances: c.count("app.instances", s.app.instances, 1, MAX_INSTANCES),
            load_balancer: s.app.load_balancer,
            request_timeout_us: c.at_most("app.request_timeout", s.app.request_timeout, MAX_SAMPLE),
            retries: RetryConfig {
                max: r.max.min(100),
                backoff_us: c.at_most("app.retries.backoff", r.backoff, MAX_SAMPLE),
                multiplier: if r.multiplier.is_finite() {
                    r.multiplier.clamp(1.0, 100.0)
                } else {
                    1.0
                },
                max_backoff_us: r.max_backoff.as_us(),
                jitter: r.jitter,
            },
        };
        let pool = c.pool("app.pool", &s.app.pool, true);

        // Database.
        let db_in = &s.database;
        let max_connections = c.count(
            "database.max_connections",
            db_in.max_connections,
            1,
            MAX_DB_CONNECTIONS,
        );
        // A rule between two fields is told at both: either may be the one to change.
        if db_in.reserved_connections >= max_connections {
            c.fail(
                "database.reserved_connections",
                format!("must be below max_connections ({max_connections})"),
            );
            if db_in.max_connections == max_connections
                && db_in.reserved_connections < MAX_DB_CONNECTIONS
            {
                c.fail(
                    "database.max_connections",
                    format!(
                        "must be above reserved_connections ({})",
                        db_in.reserved_connections
                    ),
                );
            }
        }
        for (name, v) in [
            ("sigma", db_in.contention.sigma),
            ("kappa", db_in.contention.kappa),
        ] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                c.fail(
                    format!("database.contention.{name}"),
                    "must be between 0 and 1",
                );
            }
        }
        let clean = |v: f64| {
            if v.is_finite() {
                v.clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        let db = DbConfig {
            max_connections,
            reserved_connections: db_in.reserved_connections.min(max_connections - 1),
            cores: c.count("database.cores", db_in.cores, 1, MAX_CORES),
            sigma: clean(db_in.contention.sigma),
            kappa: clean(db_in.contention.kappa),
            statement_timeout_us: c.at_most(
                "database.statement_timeout",
                db_in.statement_timeout,
                MAX_SAMPLE,
            ),
            network_rtt_us: c.at_most("database.network_rtt", db_in.network_rtt, MAX_SAMPLE),
        };

        // Faults, in time order of application (reconfigures patch what came before).
        if s.faults.len() > MAX_FAULTS {
            c.fail("faults", format!("must list at most {MAX_FAULTS} faults"));
        }
        let mut order: Vec<usize> = (0..s.faults.len()).collect();
        order.sort_by_key(|&i| s.faults[i].at());
        let mut current_pool = s.app.pool.clone();
        let mut faults = Vec::new();
        let mut fault_sources = Vec::new();
        for i in order {
            let path = format!("faults[{i}]");
            if !matches!(s.faults[i], Fault::TrafficChange { .. }) {
                fault_sources.push(i as u32);
            }
            let at_us = c.within_run(&format!("{path}.at"), s.faults[i].at(), s.duration);
            match &s.faults[i] {
                Fault::DbOutage { duration, .. } => {
                    if duration.is_zero() {
                        c.fail(format!("{path}.duration"), "must be above 0s");
                    }
                    faults.push(FaultConfig::DbOutage {
                        at_us,
                        duration_us: c.at_most(
                            &format!("{path}.duration"),
                            *duration,
                            MAX_DURATION,
                        ),
                    });
                }
                Fault::SlowQueries {
                    duration, factor, ..
                } => {
                    // The page's control offers exactly this range.
                    if !(factor.is_finite() && (0.01..=1000.0).contains(factor)) {
                        c.fail(format!("{path}.factor"), "must be from 0.01 to 1000");
                    }
                    faults.push(FaultConfig::SlowQueries {
                        at_us,
                        duration_us: c.at_most(
                            &format!("{path}.duration"),
                            *duration,
                            MAX_DURATION,
                        ),
                        factor: if factor.is_finite() && *factor > 0.0 {
                            factor.min(1000.0)
                        } else {
                            1.0
                        },
                    });
                }
                Fault::TrafficChange { rate_per_s, .. } => {
                    let rate = c.rate(&format!("{path}.rate_per_s"), *rate_per_s);
                    steps.push((at_us, rate));
                }
                Fault::RollingRestart {
                    down, gap, batch, ..
                } => {
                    let restart = c.restart(&path, *down, *gap, *batch);
                    faults.push(FaultConfig::RollingRestart { at_us, restart });
                }
                Fault::Reconfigure {
                    pool: patch,
                    rolling_restart,
                    ..
                } => {
                    let (next, config) = c.patched(&format!("{path}.pool"), &current_pool, patch);
                    current_pool = next;
                    let restart = rolling_restart.as_ref().map(|r| {
                        c.restart(&format!("{path}.rolling_restart"), r.down, r.gap, r.batch)
                    });
                    faults.push(FaultConfig::Reconfigure {
                        at_us,
                        pool: config,
                        restart,
                    });
                }
                Fault::Scale { instances, .. } => {
                    let instances =
                        c.count(&format!("{path}.instances"), *instances, 1, MAX_INSTANCES);
                    faults.push(FaultConfig::Scale { at_us, instances });
                }
                Fault::ConnectionLeak {
                    fraction, duration, ..
                } => {
                    if !(fraction.is_finite() && (0.0..=1.0).contains(fraction)) {
                        c.fail(format!("{path}.fraction"), "must be between 0 and 1");
                    }
                    faults.push(FaultConfig::ConnectionLeak {
                        at_us,
                        duration_us: c.at_most(
                            &format!("{path}.duration"),
                            *duration,
                            MAX_DURATION,
                        ),
                        fraction: if fraction.is_finite() {
                            fraction.clamp(0.0, 1.0)
                        } else {
                            0.0
                        },
                    });
                }
            }
        }
        steps.sort_by_key(|&(at, _)| at);

        if s.alerts.len() > MAX_ALERTS {
            c.fail("alerts", format!("must list at most {MAX_ALERTS} rules"));
        }
        for (i, rule) in s.alerts.iter().enumerate() {
            if rule.name.trim().is_empty() {
                c.fail(format!("alerts[{i}].name"), "must not be empty");
            }
            c.text(&format!("alerts[{i}].name"), &rule.name, MAX_NAME_CHARS);
            if !rule.above.is_finite() {
                c.fail(format!("alerts[{i}].above"), "must be a finite number");
            }
        }

        let t = &s.timeline;
        if !t.start.is_empty()
            && let Err(why) = parse_utc(&t.start)
        {
            c.fail("timeline.start", why);
        }
        if t.moments.len() > MAX_MOMENTS {
            c.fail(
                "timeline.moments",
                format!("must list at most {MAX_MOMENTS} moments"),
            );
        }
        for (i, m) in t.moments.iter().enumerate() {
            if m.at.as_us() > duration_us {
                c.fail(
                    format!("timeline.moments[{i}].at"),
                    "must be within the run's duration",
                );
            }
            if m.label.trim().is_empty() {
                c.fail(format!("timeline.moments[{i}].label"), "must not be empty");
            }
            c.text(
                &format!("timeline.moments[{i}].label"),
                &m.label,
                MAX_NAME_CHARS,
            );
            c.text(
                &format!("timeline.moments[{i}].detail"),
                &m.detail,
                MAX_TEXT_CHARS,
            );
        }

        if !c.errors.is_empty() {
            return Err(c.errors);
        }
        let config = Config {
            scenario: s.clone(),
            seed: s.seed,
            duration_us,
            warmup_us: s.warmup.as_us(),
            bucket_us,
            max_events: s.limits.max_events,
            max_in_flight: s.limits.max_in_flight,
            arrivals: ArrivalConfig {
                process,
                initial_rate_per_s,
                steps,
                bursts,
            },
            transaction,
            app,
            pool,
            db,
            faults,
            fault_sources,
            alerts: s.alerts.clone(),
        };
        work::within_budget(&config).map_err(|e| vec![e])?;
        Ok(config)
    }
}

/// The smallest "nice" width (1, 2 or 5 times a power of ten, at least 1 ms) that gives at
/// most [`AUTO_BUCKETS`] buckets.
/// Moments a timeline may list.
pub const MAX_MOMENTS: usize = 100;

/// A UTC wall-clock time as seconds since 1970: `2023-08-05T14:00:00Z`, `2023-08-05T14:00Z`,
/// or with a space for the `T` and ` UTC` for the `Z`.
pub fn parse_utc(text: &str) -> Result<i64, &'static str> {
    const SHAPE: &str = "must be a UTC time like 2023-08-05T14:00:00Z";
    let t = text.trim();
    let t = t
        .strip_suffix('Z')
        .or_else(|| t.strip_suffix(" UTC"))
        .ok_or(SHAPE)?;
    let (date, time) = t.split_once(['T', ' ']).ok_or(SHAPE)?;
    let num = |s: &str, digits: usize| -> Result<i64, &'static str> {
        if s.len() == digits && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().map_err(|_| SHAPE)
        } else {
            Err(SHAPE)
        }
    };
    let mut d = date.split('-');
    let (y, mo, da) = (
        num(d.next().ok_or(SHAPE)?, 4)?,
        num(d.next().ok_or(SHAPE)?, 2)?,
        num(d.next().ok_or(SHAPE)?, 2)?,
    );
    let mut h = time.split(':');
    let (hh, mm) = (
        num(h.next().ok_or(SHAPE)?, 2)?,
        num(h.next().ok_or(SHAPE)?, 2)?,
    );
    let ss = h.next().map_or(Ok(0), |s| num(s, 2))?;
    if d.next().is_some() || h.next().is_some() {
        return Err(SHAPE);
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || da < 1 || da > days_in[(mo - 1) as usize] {
        return Err("is not a date in the calendar");
    }
    if hh > 23 || mm > 59 || ss > 59 {
        return Err("is not a time of day");
    }
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400 + hh * 3_600 + mm * 60 + ss)
}

pub fn auto_bucket_us(duration_us: u64) -> u64 {
    let mut scale = 1_000u64;
    loop {
        for m in [1, 2, 5] {
            let width = scale * m;
            if duration_us.div_ceil(width) <= AUTO_BUCKETS {
                return width;
            }
        }
        scale *= 10;
    }
}

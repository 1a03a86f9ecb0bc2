//! How much work a run is, known before it starts.
//!
//! The engine processes events; a run's cost is their number. [`estimate`] works it out from
//! the validated settings, term by term, so a run that would take minutes is refused up front
//! with the fields that drive it, instead of running until `limits.max_events` stops it. The
//! estimate is an upper bound in the common cases (every attempt is counted as retried to
//! `app.retries.max`, every timer as firing); the engine still stops at `limits.max_events`
//! for what the estimate cannot see (a pool that opens and closes connections endlessly).

use crate::FieldError;
use crate::config::{CREATOR_BACKOFF_MAX_US, Config, Dist, FaultConfig, HOUSEKEEPING_US};

/// A sweep or a sizing search may take this many times one run's `limits.max_events` in all
/// (raising the limit raises both).
pub const OVERALL_RUNS: u64 = 10;

/// The events a sweep or a sizing search over runs like `config` may take in all.
pub fn overall_budget(config: &Config) -> f64 {
    config.max_events as f64 * OVERALL_RUNS as f64
}

/// A run's estimated events, and where they come from.
#[derive(Clone, Debug, PartialEq)]
pub struct Work {
    /// Requests the arrival process makes over the run.
    pub requests: f64,
    /// Attempts per request at most (`1 + app.retries.max`).
    pub attempts: f64,
    /// Events one attempt takes (arrival, timers, each query's steps).
    pub per_attempt: f64,
    /// Every term, largest first: (what drives it, events).
    pub terms: Vec<Term>,
}

/// One source of events.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// What the events are and the values that drive them, in words.
    pub what: String,
    /// The field a person would change first (where an error is shown).
    pub path: &'static str,
    /// What to change to make it smaller.
    pub fix: String,
    pub events: f64,
}

impl Work {
    pub fn events(&self) -> f64 {
        self.terms.iter().map(|t| t.events).sum()
    }
}

/// The events `config` will take, term by term.
pub fn estimate(config: &Config) -> Work {
    let requests = requests(config);
    let attempts = 1.0 + f64::from(config.app.retries.max);
    let per_attempt = per_attempt(config);
    let slots = f64::from(config.instance_slots());
    let retries = config.app.retries.max;
    let attempts_text = if retries == 0 {
        String::new()
    } else {
        format!(" × up to {attempts} attempts (app.retries.max = {retries})")
    };
    let mut terms = vec![
        Term {
            what: format!(
                "{} requests (workload.arrivals over the duration){attempts_text} × {} events \
                 each (workload.transaction.queries = {}, with the timeouts' timers)",
                amount(requests),
                amount(per_attempt),
                config.transaction.queries
            ),
            path: request_driver(config, requests, attempts, per_attempt),
            fix: if retries == 0 {
                "shorten the duration, lower the arrival rate or the queries per request".into()
            } else {
                "shorten the duration, lower the arrival rate, the queries per request or \
                 app.retries.max"
                    .into()
            },
            events: requests * attempts * per_attempt,
        },
        Term {
            what: format!(
                "{} buckets and housekeeping of {} instances every 30 s",
                config.bucket_count(),
                config.instance_slots()
            ),
            path: "duration",
            fix: "shorten the duration".into(),
            events: config.bucket_count() as f64
                + slots * config.duration_us as f64 / HOUSEKEEPING_US as f64,
        },
        // A creator whose openings fail (the database refuses or is down) retries at least
        // every CREATOR_BACKOFF_MAX_US: an opening and a wake each time, for as long as it
        // lasts, which may be the whole run; its backoff restarts at each fault.
        Term {
            what: format!(
                "retried connection openings of {} instances while the database refuses or is \
                 down (one every {} s at most)",
                config.instance_slots(),
                CREATOR_BACKOFF_MAX_US / 1_000_000
            ),
            path: "app.instances",
            fix: "shorten the duration or use fewer instances".into(),
            events: 2.0
                * slots
                * (config.duration_us as f64 / CREATOR_BACKOFF_MAX_US as f64
                    + BACKOFF_STEPS * (1.0 + config.faults.len() as f64)),
        },
    ];
    if let Some(b) = &config.arrivals.bursts {
        terms.push(Term {
            what: format!(
                "burst changes (workload.arrivals.on = {} and off = {})",
                crate::Duration::from_us(b.on_us),
                crate::Duration::from_us(b.off_us)
            ),
            path: "workload.arrivals.on",
            fix: "lengthen the bursts and the gaps between them".into(),
            events: 2.0 * config.duration_us as f64 / (b.on_us as f64 + b.off_us as f64),
        });
    }
    // Connections: each opening is a few events (open, ready, retire or close).
    let mut lifetimes = 0.0;
    let mut pools = vec![(0u64, &config.pool)];
    for f in &config.faults {
        if let FaultConfig::Reconfigure { at_us, pool, .. } = f {
            pools.push((*at_us, pool));
        }
    }
    for (i, (from, pool)) in pools.iter().enumerate() {
        let to = pools.get(i + 1).map_or(config.duration_us, |p| p.0);
        if pool.max_lifetime_us > 0 && to > *from {
            lifetimes +=
                slots * f64::from(pool.max_size) * (to - from) as f64 / pool.max_lifetime_us as f64;
        }
    }
    let mut restarts = 0.0;
    let mut fills = slots * f64::from(config.pool.min_idle);
    for f in &config.faults {
        match f {
            FaultConfig::RollingRestart { .. } => {
                restarts += 2.0 * slots;
                fills += slots * f64::from(config.pool.min_idle.max(1));
            }
            FaultConfig::Reconfigure {
                pool,
                restart: Some(_),
                ..
            } => {
                restarts += 2.0 * slots;
                fills += slots * f64::from(pool.min_idle.max(1));
            }
            FaultConfig::Scale { instances, .. } => {
                restarts += f64::from(*instances);
                fills += f64::from(*instances) * f64::from(config.pool.min_idle.max(1));
            }
            FaultConfig::DbOutage { .. } => fills += slots * f64::from(config.pool.max_size),
            FaultConfig::Reconfigure { pool, .. } => {
                fills += slots * f64::from(pool.min_idle);
            }
            FaultConfig::SlowQueries { .. } | FaultConfig::ConnectionLeak { .. } => {}
        }
        restarts += 2.0;
    }
    let (path, fix) = if lifetimes >= fills {
        (
            "app.pool.max_lifetime",
            "lengthen max_lifetime, or use smaller pools or fewer instances",
        )
    } else {
        ("app.pool.max_size", "use smaller pools or fewer instances")
    };
    terms.push(Term {
        what: format!(
            "{} connection openings (pools of {} on {} instances{}, refilled after outages, \
             restarts and scaling)",
            amount(lifetimes + fills),
            config.pool.max_size,
            config.instance_slots(),
            match config.pool.max_lifetime_us {
                0 => String::new(),
                us => format!(
                    " replaced every app.pool.max_lifetime = {}",
                    crate::Duration::from_us(us)
                ),
            }
        ),
        path,
        fix: fix.into(),
        events: 3.0 * (lifetimes + fills),
    });
    terms.push(Term {
        what: format!(
            "{} faults, operations and rate steps",
            config.faults.len() + config.arrivals.steps.len()
        ),
        path: "faults",
        fix: "list fewer faults or rate steps".into(),
        events: restarts + config.arrivals.steps.len() as f64,
    });
    terms.sort_by(|a, b| b.events.total_cmp(&a.events));
    Work {
        requests,
        attempts,
        per_attempt,
        terms,
    }
}

/// Doublings of the creator's backoff from its start to its cap (10 ms to 5 s: 9).
const BACKOFF_STEPS: f64 = 9.0;

/// The field that most drives the requests' events: each factor against its default (10
/// minutes, 100 requests per second, one attempt, five events per attempt).
fn request_driver(config: &Config, requests: f64, attempts: f64, per_attempt: f64) -> &'static str {
    let duration_s = config.duration_us as f64 / 1e6;
    let rate = if config.arrivals.steps.is_empty() {
        "workload.arrivals.rate_per_s"
    } else {
        "workload.arrivals.steps"
    };
    let factors = [
        ("duration", duration_s / 600.0),
        (rate, requests / duration_s.max(1e-6) / 100.0),
        ("app.retries.max", attempts),
        ("workload.transaction.queries", per_attempt / 5.0),
    ];
    factors
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("duration", |f| f.0)
}

/// The arrival rate's integral over the run: the expected number of requests.
fn requests(config: &Config) -> f64 {
    let a = &config.arrivals;
    let end = config.duration_us;
    let mut base = 0.0;
    let mut rate = a.initial_rate_per_s;
    let mut from = 0u64;
    for &(at, next) in &a.steps {
        let at = at.min(end);
        base += rate * (at - from.min(at)) as f64 / 1e6;
        from = from.max(at);
        rate = next;
    }
    base += rate * (end - from.min(end)) as f64 / 1e6;
    match &a.bursts {
        None => base,
        Some(b) => {
            let on = b.on_us as f64 / (b.on_us as f64 + b.off_us as f64);
            on * b.rate_per_s * end as f64 / 1e6 + (1.0 - on) * base
        }
    }
}

/// Events of one attempt: its arrival, its timers, and each query's network, statement
/// timer, completion (two in the shared-CPU mode) and think time.
fn per_attempt(config: &Config) -> f64 {
    let on = |us: u64| if us > 0 { 1.0 } else { 0.0 };
    let nonzero = |d: &Dist| if d.is_zero() { 0.0 } else { 1.0 };
    let timers = on(config.app.request_timeout_us)
        + on(config.pool.connection_timeout_us)
        + on(config.pool.leak_detection_us);
    let per_query = 2.0
        + on(config.db.network_rtt_us)
        + on(config.db.statement_timeout_us)
        + nonzero(&config.transaction.think_time);
    1.0 + timers + f64::from(config.transaction.queries) * per_query
}

/// The estimated events of all of `configs` together.
pub fn total_events(configs: &[Config]) -> f64 {
    configs.iter().map(|c| estimate(c).events()).sum()
}

/// Refuses a run estimated past `limits.max_events`, at the field of its largest term.
pub(crate) fn within_budget(config: &Config) -> Result<(), FieldError> {
    let work = estimate(config);
    let total = work.events();
    if total <= config.max_events as f64 {
        return Ok(());
    }
    let top = &work.terms[0];
    Err(FieldError {
        path: top.path.into(),
        message: format!(
            "the run would take about {} events, more than limits.max_events allows ({}); {} of \
             them from {}. To run it, {}, or raise limits.max_events",
            amount(total),
            crate::int(config.max_events),
            amount(top.events),
            top.what,
            top.fix,
        ),
    })
}

/// Refuses `configs` (a sweep's points, `what` naming them) whose runs together would take
/// more than [`overall_budget`] of the first.
pub fn within_overall(configs: &[Config], what: &str) -> Result<(), String> {
    let Some(first) = configs.first() else {
        return Ok(());
    };
    let total = total_events(configs);
    let budget = overall_budget(first);
    if total <= budget {
        return Ok(());
    }
    Err(format!(
        "the {what} would take about {} events over its {} runs (about {} each), more than \
         it may ({OVERALL_RUNS} x limits.max_events = {}); use fewer points or a shorter or \
         lighter scenario, or raise limits.max_events",
        amount(total),
        configs.len(),
        amount(total / configs.len() as f64),
        crate::int(budget as u64)
    ))
}

/// About three significant digits: `1.23 billion`, `35.2 million`, `8,000`.
pub fn amount(n: f64) -> String {
    let three = |v: f64| {
        let text = match v {
            v if v >= 100.0 => format!("{v:.0}"),
            v if v >= 10.0 => format!("{v:.1}"),
            v => format!("{v:.2}"),
        };
        match text.contains('.') {
            true => text.trim_end_matches('0').trim_end_matches('.').to_owned(),
            false => text,
        }
    };
    if n >= 999.5e6 {
        format!("{} billion", three(n / 1e9))
    } else if n >= 999_500.0 {
        format!("{} million", three(n / 1e6))
    } else {
        crate::int(n.round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::amount;

    #[test]
    fn amounts_read_in_three_digits_and_words() {
        let cases = [
            (8_000.4, "8,000"),
            (1_970_000.0, "1.97 million"),
            (35_240_000.0, "35.2 million"),
            (100_000_000.0, "100 million"),
            (1_296_000_000.0, "1.3 billion"),
            (10_000_000.0, "10 million"),
            (999_600_000.0, "1 billion"),
            (999_999.0, "1 million"),
        ];
        for (n, text) in cases {
            assert_eq!(amount(n), text);
        }
    }
}

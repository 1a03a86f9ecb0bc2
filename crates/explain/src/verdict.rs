//! A run's one-word answer and its reason: what the page's summary panel shows and what
//! `poolsim run` prints first.

use poolsim_engine::Report;

use crate::format::{int, ms, share as percent};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Healthy,
    Saturated,
    Exhausted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Healthy => "healthy",
            Level::Saturated => "saturated",
            Level::Exhausted => "exhausted",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub level: Level,
    pub reason: String,
    /// A risk the run did not hit (pools that together over-ask the database).
    pub warning: Option<String>,
}

/// Failing requests above this share: exhausted.
const EXHAUSTED_FAILURES: f64 = 0.01;
/// Pool use above this, or most acquisitions waiting: saturated.
const SATURATED_UTILIZATION: f64 = 0.85;
const SATURATED_WAITED: f64 = 0.5;
const SATURATED_CPU: f64 = 0.85;

/// Why requests are still in flight at the end, from what the run counted (the report does
/// not carry the settings, and a timeout that is set but outlasted by retries is not "0s").
fn why_stuck(s: &poolsim_engine::Summary) -> String {
    let r = &s.requests;
    if r.retries > 0 && s.pool.timeouts > 0 {
        format!(
            "their attempts time out and are retried ({} retries), so they stay queued instead \
             of failing, and the pools are not serving them.",
            int(r.retries)
        )
    } else if s.pool.timeouts == 0 && r.failed == 0 {
        "nothing timed them out (no wait for a connection or a request ended by a timeout) and \
         the pools are not serving them."
            .to_string()
    } else {
        "the pools are not serving them, and their timeouts had not ended them by the end of \
         the run."
            .to_string()
    }
}

pub fn verdict(report: &Report) -> Verdict {
    let s = &report.summary;
    let r = &s.requests;
    let failed_share = failed_ratio(&s.requests);
    let (cause, top) = r
        .failures
        .iter()
        .max_by_key(|&(c, &n)| (n, std::cmp::Reverse(c)))
        .map(|(c, &n)| (c, n))
        .expect("there are causes");
    let warning = oversubscribed(report);

    let stuck_share = if r.arrived > 0 {
        r.in_flight as f64 / r.arrived as f64
    } else {
        0.0
    };
    if stuck_share >= EXHAUSTED_FAILURES && failed_share < EXHAUSTED_FAILURES {
        return Verdict {
            level: Level::Exhausted,
            reason: format!(
                "{} of requests were still waiting when the run ended: {}",
                percent(stuck_share),
                why_stuck(s)
            ),
            warning,
        };
    }
    if failed_share >= EXHAUSTED_FAILURES {
        let share_of_failures = top as f64 / r.failed.max(1) as f64;
        return Verdict {
            level: Level::Exhausted,
            reason: format!(
                "{} of requests failed; {} of those {}.",
                percent(failed_share),
                percent(share_of_failures),
                cause.meaning()
            ),
            warning,
        };
    }
    let w = &s.pool_wait_ms;
    let saturation = [
        (
            s.pool.utilization >= SATURATED_UTILIZATION,
            format!(
                "the pools are {} busy on average",
                percent(s.pool.utilization)
            ),
        ),
        (
            w.waited_fraction >= SATURATED_WAITED,
            format!(
                "{} of requests waited for a connection",
                percent(w.waited_fraction)
            ),
        ),
        (
            s.db.cpu_utilization >= SATURATED_CPU,
            format!(
                "the database's CPU is {} busy",
                percent(s.db.cpu_utilization)
            ),
        ),
        (
            r.failed > 0,
            format!(
                "{} requests failed ({})",
                int(r.failed),
                percent(failed_share)
            ),
        ),
    ];
    let reasons: Vec<String> = saturation
        .into_iter()
        .filter_map(|(hit, why)| hit.then_some(why))
        .collect();
    if !reasons.is_empty() {
        return Verdict {
            level: Level::Saturated,
            reason: format!(
                "{}; p99 pool wait {}.",
                capitalise(&reasons.join(", ")),
                ms(w.p99)
            ),
            warning,
        };
    }
    Verdict {
        level: Level::Healthy,
        reason: format!(
            "No failures; pools {} busy, p99 pool wait {}, p99 latency {}.",
            percent(s.pool.utilization),
            ms(w.p99),
            ms(s.latency_ms.p99)
        ),
        warning,
    }
}

/// The pools' capacity against what the database allows, from the run's series: the
/// fleet's `max_size` total at its highest (every instance up) and at the end (after any
/// reconfigure or scaling).
fn oversubscribed(report: &Report) -> Option<String> {
    let s = &report.series;
    let usable = report.summary.db.usable_connections;
    let peak = u64::from(s.pool_max.max.iter().copied().max()?);
    let end = u64::from(*s.pool_max.max.last()?);
    if peak <= usable {
        return None;
    }
    Some(if end <= usable {
        format!(
            "The pools together could open {peak} connections, more than the {usable} the \
             database allows, until a change brought them to {end}."
        )
    } else {
        format!(
            "The pools together may open {end} connections; the database allows {usable}. A \
             restart or a failover can leave instances with none."
        )
    })
}

fn failed_ratio(r: &poolsim_engine::Requests) -> f64 {
    if r.arrived == 0 {
        0.0
    } else {
        r.failed as f64 / r.arrived as f64
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str) -> Report {
        let mut scenario = poolsim_scenario::parse(json).unwrap();
        if scenario.duration > "10m".parse().unwrap() {
            scenario.duration = "10m".parse().unwrap();
        }
        poolsim_engine::run(&scenario.validate().unwrap()).unwrap()
    }

    #[test]
    fn the_examples_get_the_verdicts_their_stories_tell() {
        let healthy = verdict(&run(include_str!("../../../tests/scenarios/default.json")));
        assert_eq!(healthy.level, Level::Healthy, "{healthy:?}");
        assert_eq!(healthy.warning, None);

        let outage = verdict(&run(include_str!("../../../tests/scenarios/outage.json")));
        assert_eq!(outage.level, Level::Exhausted, "{outage:?}");
        assert!(outage.reason.contains("too many clients"), "{outage:?}");
        assert!(outage.warning.unwrap().contains("960"));

        let leak = verdict(&run(include_str!("../../../tests/scenarios/leak.json")));
        assert_eq!(leak.level, Level::Exhausted, "{leak:?}");
    }

    #[test]
    fn requests_stuck_forever_are_exhaustion_even_without_failures() {
        let summary = run(
            r#"{"duration": "3m", "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 100}},
                "app": {"request_timeout": "0s", "pool": {"max_size": 4, "connection_timeout": "0s"}},
                "faults": [{"kind": "connection_leak", "at": "10s", "fraction": 0.05}]}"#,
        );
        assert_eq!(summary.summary.requests.failed, 0);
        let v = verdict(&summary);
        assert_eq!(v.level, Level::Exhausted, "{v:?}");
        assert!(v.reason.contains("still waiting"), "{v:?}");
        assert!(v.reason.contains("nothing timed them out"), "{v:?}");
    }

    /// Issue 12: with a 30 s connection_timeout and 100 retries, the reason said the
    /// timeouts were 0s; what keeps these requests in flight is the retries.
    #[test]
    fn requests_kept_in_flight_by_retries_are_said_to_be_retried_not_untimed() {
        let report = run(
            r#"{"duration": "4m", "app": {"retries": {"max": 100, "backoff": "1ms"},
                "pool": {"connection_timeout": "5s"}},
                "faults": [{"kind": "db_outage", "at": "30s", "duration": "3m"}]}"#,
        );
        let v = verdict(&report);
        assert_eq!(v.level, Level::Exhausted, "{v:?}");
        assert!(v.reason.contains("time out and are retried"), "{v:?}");
        assert!(!v.reason.contains("0s"), "{v:?}");
    }

    #[test]
    fn a_busy_pool_without_failures_is_saturated() {
        let summary = run(
            r#"{"duration": "2m", "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 450},
                "transaction": {"query_time": {"kind": "exponential", "mean": "20ms"}}},
                "app": {"pool": {"max_size": 10}}}"#,
        );
        let v = verdict(&summary);
        assert_eq!(v.level, Level::Saturated, "{v:?}");
        assert!(v.reason.starts_with("The pools are"), "{v:?}");
    }
}

//! Queueing theory beside the measurement, row by row: what theory predicts for the
//! scenario's settings and what the run measured, in the same words on the page's table
//! and in `poolsim run`'s text.

use poolsim_engine::Report;
use poolsim_scenario::{Config, LoadBalancer};

use crate::format::{int, ms, num, pct, share, timeout};

/// One comparison: its name, theory's answer, the measurement, and a caveat if one applies.
#[derive(Clone, Debug, PartialEq)]
pub struct TheoryRow {
    pub name: &'static str,
    pub theory: String,
    pub measured: String,
    pub note: Option<String>,
}

/// The rows for a run of `config`: Little's law, Erlang C for one pool, M/M/c+D when the
/// pool has a timeout, the pools against the database, and the USL peak under contention.
pub fn theory_rows(report: &Report, config: &Config) -> Vec<TheoryRow> {
    let s = &report.summary;
    let t = &s.theory;
    let mut rows = vec![TheoryRow {
        name: "offered load (Little's law)",
        theory: format!(
            "{} erlangs = {} req/s x {} hold",
            num(t.offered_load_erlangs),
            num(t.arrival_rate_per_s),
            ms(t.mean_hold_ms)
        ),
        measured: format!(
            "{} connections busy on average, {} hold",
            num(s.pool.mean_active),
            ms(s.pool.mean_hold_ms)
        ),
        note: None,
    }];
    rows.push(erlang_c(report, config));
    if let Some(w) = &t.with_timeout {
        let attempts = s.pool_wait_ms.count + s.pool.timeouts;
        rows.push(TheoryRow {
            name: "with timeout (M/M/c+D)",
            theory: format!(
                "{} of acquisitions time out after {}, mean wait of the served {}",
                share(w.timeout_probability),
                timeout(config.pool.connection_timeout_us),
                ms(w.mean_wait_served_ms)
            ),
            measured: format!("{} timed out", pct(s.pool.timeouts, attempts)),
            note: None,
        });
    }
    rows.push(capacity(report, config));
    if (config.db.sigma > 0.0 || config.db.kappa > 0.0) && t.usl_peak_concurrency > 0 {
        let peak = if t.usl_peak_concurrency >= t.pool_capacity {
            format!(
                "database throughput still rises at {} concurrent queries, the most the pools allow",
                int(t.pool_capacity)
            )
        } else {
            format!(
                "database throughput peaks at {} concurrent queries; more connections make it slower",
                int(t.usl_peak_concurrency)
            )
        };
        rows.push(TheoryRow {
            name: "USL",
            theory: peak,
            measured: format!("peak {} running", int(s.db.peak_running_queries)),
            note: None,
        });
    }
    rows
}

fn erlang_c(report: &Report, config: &Config) -> TheoryRow {
    let s = &report.summary;
    let t = &s.theory;
    let instances = config.app.instances.max(1);
    let per_pool = if instances > 1 {
        format!(
            "one pool of {} at {} req/s",
            config.pool.max_size,
            num(t.arrival_rate_per_s / f64::from(instances))
        )
    } else {
        format!("a pool of {}", config.pool.max_size)
    };
    let theory = match &t.erlang_c {
        Some(c) => format!(
            "{} wait, mean wait {}, p99 wait {} ({per_pool}, no timeout)",
            share(c.wait_probability),
            ms(c.mean_wait_ms),
            ms(c.p99_wait_ms)
        ),
        None if t.offered_load_erlangs / f64::from(instances)
            >= f64::from(config.pool.max_size) =>
        {
            format!(
                "unstable: the load is more than {per_pool} can serve; without a timeout the queue grows without bound"
            )
        }
        None => "not applicable (no load, or a zero hold time)".to_owned(),
    };
    let note = (t.erlang_c.is_some()
        && instances > 1
        && config.app.load_balancer == LoadBalancer::RoundRobin)
        .then(|| {
            "assumes Poisson arrivals per instance; round robin spaces them, so fewer wait"
                .to_owned()
        });
    TheoryRow {
        name: "Erlang C",
        theory,
        measured: format!(
            "{} of successful acquisitions waited, mean wait {}, p99 wait {}",
            share(s.pool_wait_ms.waited_fraction),
            ms(s.pool_wait_ms.mean),
            ms(s.pool_wait_ms.p99)
        ),
        note,
    }
}

/// The fleet's pools against the database, as configured at the start; the measurement
/// says what the pools' `max_size` total became over the run (the series' own record).
fn capacity(report: &Report, config: &Config) -> TheoryRow {
    let s = &report.summary;
    let t = &s.theory;
    let asked = format!(
        "{} pool connections ({} x {}) vs {} usable",
        int(t.pool_capacity),
        config.app.instances,
        config.pool.max_size,
        int(t.db_usable_connections)
    );
    let theory = if t.oversubscribed {
        format!(
            "{asked}: OVERSUBSCRIBED by {}, the pools can ask for more connections than the database allows",
            int(t.pool_capacity.saturating_sub(t.db_usable_connections))
        )
    } else {
        format!(
            "{asked}: fits, {} to spare",
            int(t.db_usable_connections - t.pool_capacity.min(t.db_usable_connections))
        )
    };
    let max = &report.series.pool_max.max;
    let (peak, end) = (
        max.iter().copied().max().unwrap_or(0),
        max.last().copied().unwrap_or(0),
    );
    let became = if u64::from(end) != t.pool_capacity {
        format!(
            "max_size total peaked at {}, ended at {}; ",
            int(peak.into()),
            int(end.into())
        )
    } else {
        String::new()
    };
    TheoryRow {
        name: "pool capacity",
        theory,
        measured: format!(
            "{became}peak {} connections open, {} openings refused",
            int(s.db.peak_connections),
            int(s.db.refused_connections)
        ),
        note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str, duration: &str) -> (Config, Report) {
        let mut scenario = poolsim_scenario::parse(json).unwrap();
        scenario.duration = duration.parse().unwrap();
        let config = scenario.validate().unwrap();
        let report = poolsim_engine::run(&config).unwrap();
        (config, report)
    }

    #[test]
    fn an_mmc_pool_reads_erlang_c_beside_the_measurement() {
        let (config, report) = run(include_str!("../../../tests/scenarios/mmc.json"), "10m");
        let rows = theory_rows(&report, &config);
        let names: Vec<&str> = rows.iter().map(|r| r.name).collect();
        assert_eq!(
            names,
            ["offered load (Little's law)", "Erlang C", "pool capacity"]
        );
        assert_eq!(rows[0].theory, "8.00 erlangs = 400 req/s x 20.0 ms hold");
        assert!(
            rows[1]
                .theory
                .starts_with("40.9% wait, mean wait 4.09 ms, p99 wait 37.1 ms"),
            "{}",
            rows[1].theory
        );
        assert_eq!(rows[1].note, None, "one instance: no caveat");
        assert_eq!(
            rows[2].theory,
            "10 pool connections (1 x 10) vs 100 usable: fits, 90 to spare"
        );
    }

    #[test]
    fn the_fix_shows_in_what_the_pools_became() {
        let (config, report) = run(
            include_str!("../../../tests/scenarios/outage-fix.json"),
            "20m",
        );
        let rows = theory_rows(&report, &config);
        let capacity = rows.iter().find(|r| r.name == "pool capacity").unwrap();
        assert!(
            capacity.theory.contains("OVERSUBSCRIBED by 463"),
            "{}",
            capacity.theory
        );
        assert!(
            capacity
                .measured
                .starts_with("max_size total peaked at 960, ended at 480;"),
            "{}",
            capacity.measured
        );
        let erlang = rows.iter().find(|r| r.name == "Erlang C").unwrap();
        assert!(erlang.note.as_deref().unwrap().contains("round robin"));
    }
}

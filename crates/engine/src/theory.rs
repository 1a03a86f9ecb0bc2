//! Queueing theory for a scenario, shown beside what the simulation measured.

use poolsim_scenario::config::Config;

use crate::report::{ErlangC, Theory, WithTimeout};

/// The largest concurrency scanned for the USL peak.
const USL_SCAN_MAX: u32 = 100_000;

/// Little's law, Erlang C (one instance's pool, no timeout), M/M/c+D (with the pool's
/// `connection_timeout`), the fleet's pool total against the database, and the USL peak.
pub fn theory(cfg: &Config) -> Theory {
    let tx = &cfg.transaction;
    let queries = f64::from(tx.queries);
    let rtt_us = cfg.db.network_rtt_us as f64;
    let hold_us =
        queries * (tx.query_time.mean_us() + rtt_us) + (queries - 1.0) * tx.think_time.mean_us();
    let hold_s = hold_us / 1e6;
    let rate = initial_rate(cfg);
    let instances = cfg.app.instances;
    let per_instance = rate / f64::from(instances);
    let c = cfg.pool.max_size;
    let erlang_c = poolsim_theory::mmc(c, per_instance, hold_s).map(|m| ErlangC {
        wait_probability: m.wait_probability,
        mean_wait_ms: m.mean_wait_s * 1e3,
        p99_wait_ms: m.wait_quantile_s(0.99) * 1e3,
    });
    let timeout_s = cfg.pool.connection_timeout_us as f64 / 1e6;
    let with_timeout = (timeout_s > 0.0)
        .then(|| poolsim_theory::mmc_patience(c, per_instance, hold_s, timeout_s))
        .flatten()
        .map(|m| WithTimeout {
            timeout_probability: m.abandon_probability,
            mean_wait_served_ms: m.mean_wait_served_s * 1e3,
        });
    let pool_capacity = u64::from(instances) * u64::from(c);
    let usable = u64::from(cfg.db.usable_connections());
    let scan = pool_capacity.min(u64::from(USL_SCAN_MAX)) as u32;
    Theory {
        arrival_rate_per_s: rate,
        mean_hold_ms: hold_us / 1e3,
        offered_load_erlangs: poolsim_theory::littles_law_erlangs(rate, hold_s),
        pool_capacity,
        db_usable_connections: usable,
        oversubscribed: pool_capacity > usable,
        erlang_c,
        with_timeout,
        usl_peak_concurrency: u64::from(poolsim_theory::usl_peak_concurrency(
            cfg.db.cores,
            cfg.db.sigma,
            cfg.db.kappa,
            scan.max(1),
        )),
    }
}

/// The arrival rate in force at time zero (a piecewise step at 0 counts).
fn initial_rate(cfg: &Config) -> f64 {
    cfg.arrivals
        .steps
        .iter()
        .take_while(|&&(at, _)| at == 0)
        .last()
        .map_or(cfg.arrivals.initial_rate_per_s, |&(_, rate)| rate)
}

//! What every finished run must satisfy, whatever its scenario: the property tests and the
//! fuzz harness check the same list.

use poolsim_engine::{Cause, LatencyStats, Report};
use poolsim_scenario::Config;
use poolsim_scenario::config::FaultConfig;

/// The first invariant `report` (a finished run of `config`) breaks, in words.
pub fn check(config: &Config, report: &Report) -> Result<(), String> {
    let s = &report.summary;
    let r = &s.requests;
    let fail = |what: String| Err(what);
    if r.arrived != r.succeeded + r.failed + r.in_flight {
        return fail(format!(
            "conservation: arrived {} != succeeded {} + failed {} + in flight {}",
            r.arrived, r.succeeded, r.failed, r.in_flight
        ));
    }
    let by_cause: u64 = Cause::ALL.iter().map(|&c| r.failures[c]).sum();
    if r.failed != by_cause {
        return fail(format!(
            "failed {} != the sum by cause {by_cause}",
            r.failed
        ));
    }
    if s.db.peak_connections > s.db.usable_connections {
        return fail(format!(
            "database bound: peak {} connections > {} usable",
            s.db.peak_connections, s.db.usable_connections
        ));
    }
    let largest_pool = config
        .faults
        .iter()
        .filter_map(|f| match f {
            FaultConfig::Reconfigure { pool, .. } => Some(pool.max_size),
            _ => None,
        })
        .chain([config.pool.max_size])
        .max()
        .unwrap_or(config.pool.max_size);
    let bound = u64::from(largest_pool) * u64::from(config.instance_slots());
    if s.pool.peak_active > bound {
        return fail(format!(
            "pool bound: peak {} active > {bound}",
            s.pool.peak_active
        ));
    }
    if let Some((k, held)) = report
        .series
        .pool_total
        .max
        .iter()
        .enumerate()
        .find(|&(_, &held)| u64::from(held) > bound)
    {
        return fail(format!("pool bound: bucket {k} holds {held} > {bound}"));
    }
    if report.series.len() != config.bucket_count() {
        return fail(format!(
            "{} buckets in the series, {} in the run",
            report.series.len(),
            config.bucket_count()
        ));
    }
    if !at_most(s.pool_wait_ms.waited_fraction, 1.0) {
        return fail(format!(
            "waited fraction {} > 1",
            s.pool_wait_ms.waited_fraction
        ));
    }
    // A live shrink lets in-use connections outnumber the new max_size until they return.
    let reconfigured = config
        .faults
        .iter()
        .any(|f| matches!(f, FaultConfig::Reconfigure { .. }));
    if !reconfigured && !at_most(s.pool.utilization, 1.0 + 1e-9) {
        return fail(format!("pool utilization {} > 1", s.pool.utilization));
    }
    let w = &s.pool_wait_ms;
    for (name, ordered) in [
        ("pool wait", [w.p50, w.p95, w.p99, w.p999, w.max]),
        ("latency", percentiles(&s.latency_ms)),
        ("failed latency", percentiles(&s.latency_failed_ms)),
        ("timed-out wait", percentiles(&s.pool_wait_timed_out_ms)),
    ] {
        if ordered.windows(2).any(|w| !at_most(w[0], w[1])) {
            return fail(format!("{name} percentiles out of order: {ordered:?}"));
        }
    }
    Ok(())
}

fn percentiles(p: &LatencyStats) -> [f64; 5] {
    [p.p50, p.p95, p.p99, p.p999, p.max]
}

/// `a <= b`, false when either is NaN (a NaN in a report is a broken invariant too).
fn at_most(a: f64, b: f64) -> bool {
    a <= b
}

//! The engine against exact queueing theory.
//!
//! Each check runs independent replications (seeds 1..=n) long enough that the standard
//! error is a fraction of the tolerance, and asserts agreement within 4 standard errors
//! *and* a relative bound. Runs are deterministic, so these tests cannot flake: a failure
//! is a real disagreement with theory.

use poolsim_engine::Cause;
use poolsim_tests::{assert_close, config, run, run_seeds};

/// One instance, a fixed pool of `c`, exponential queries, no timeouts, no contention.
fn mmc(c: u32, rate: f64, mean_ms: u32, duration: &str, timeout: &str) -> String {
    format!(
        r#"{{"duration": "{duration}", "warmup": "1m",
            "workload": {{"arrivals": {{"kind": "poisson", "rate_per_s": {rate}}},
              "transaction": {{"query_time": {{"kind": "exponential", "mean": "{mean_ms}ms"}}}}}},
            "app": {{"request_timeout": "0s",
              "pool": {{"max_size": {c}, "connection_timeout": "{timeout}",
                        "max_lifetime": "0s", "idle_timeout": "0s"}}}},
            "database": {{"max_connections": 1000, "cores": 1000}}}}"#
    )
}

#[test]
fn pool_without_timeout_is_erlang_c() {
    // c = 10, 20 ms, 400 req/s: a = 8 erlangs.
    let runs = run_seeds(&config(&mmc(10, 400.0, 20, "2h", "0s")), 8);
    let theory = poolsim_theory::mmc(10, 400.0, 0.020).unwrap();
    assert!((theory.wait_probability - 0.40918).abs() < 1e-5);
    assert!((theory.mean_wait_s * 1e3 - 4.0918).abs() < 1e-4);
    assert!((theory.wait_quantile_s(0.99) * 1e3 - 37.1).abs() < 0.05);

    let col = |f: fn(&poolsim_engine::Summary) -> f64| runs.iter().map(f).collect::<Vec<_>>();
    assert_close(
        "P(wait)",
        &col(|s| s.pool_wait_ms.waited_fraction),
        0.40918,
        0.01,
    );
    assert_close("E[wait] ms", &col(|s| s.pool_wait_ms.mean), 4.0918, 0.02);
    // p99 carries the histogram's bucket rounding (under 0.4%), a bias, not noise.
    let (p99, _) = poolsim_tests::mean_se(&col(|s| s.pool_wait_ms.p99));
    assert!((p99 - 37.116).abs() / 37.116 < 0.015, "p99 wait {p99} ms");
    // Nothing times out, nothing is lost.
    for s in &runs {
        assert_eq!(s.requests.failed, 0);
        assert!(s.requests.in_flight <= 60);
        // The summary's own theory block agrees with the formula.
        let e = s.theory.erlang_c.as_ref().unwrap();
        assert!((e.wait_probability - 0.40918).abs() < 1e-5);
    }
}

#[test]
fn fixed_connection_timeout_is_mmc_plus_d() {
    // c = 10, 20 ms, 600 req/s (overloaded: 12 erlangs on 10), connection_timeout 250 ms:
    // exactly one request in six times out; the served wait 240 ms on average.
    let runs = run_seeds(&config(&mmc(10, 600.0, 20, "1h", "250ms")), 6);
    let theory = poolsim_theory::mmc_patience(10, 600.0, 0.020, 0.250).unwrap();
    assert!((theory.abandon_probability - 1.0 / 6.0).abs() < 1e-6);
    assert!((theory.mean_wait_served_s * 1e3 - 240.0).abs() < 0.1);

    let timeout_share: Vec<f64> = runs
        .iter()
        .map(|s| s.requests.failures[Cause::PoolTimeout] as f64 / s.requests.arrived as f64)
        .collect();
    assert_close("P(pool timeout)", &timeout_share, 1.0 / 6.0, 0.01);
    let served_wait: Vec<f64> = runs.iter().map(|s| s.pool_wait_ms.mean).collect();
    assert_close("mean wait of served, ms", &served_wait, 240.0, 0.01);
    for s in &runs {
        assert_eq!(
            s.requests.failed,
            s.requests.failures[Cause::PoolTimeout],
            "{:?}",
            s.requests
        );
        assert_eq!(s.pool.timeouts, s.requests.failures[Cause::PoolTimeout]);
        assert!(
            s.pool_wait_ms.max <= 250.0,
            "a served request waited past the timeout"
        );
    }
}

#[test]
fn littles_law_holds_between_arrivals_holds_and_occupancy() {
    // Several queries with think time, a connect time, a network round trip, a timeout that
    // bites: L = λW holds for any such system, measured on the same sample path.
    let json = r#"{"duration": "30m", "warmup": "1m", "seed": 3,
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 300},
          "transaction": {"queries": 3,
            "query_time": {"kind": "lognormal", "median": "4ms", "p99": "40ms"},
            "think_time": {"kind": "uniform", "min": "1ms", "max": "5ms"}}},
        "app": {"instances": 3, "pool": {"max_size": 8, "connection_timeout": "200ms",
                "connect_time": {"kind": "constant", "value": "30ms"}}},
        "database": {"cores": 8, "network_rtt": "1ms"}}"#;
    let s = run(&config(json)).summary;
    let l = s.pool.mean_active;
    let lambda_w = s.pool.acquisitions_per_s * s.pool.mean_hold_ms / 1e3;
    assert!(
        (l - lambda_w).abs() / l < 0.005,
        "mean active {l} vs acquisitions/s x hold {lambda_w}"
    );
    // And the offered load by Little's law is what the pools carry when nothing is lost.
    let quiet = run(&config(&mmc(20, 400.0, 20, "1h", "0s"))).summary;
    let carried = quiet.pool.mean_active;
    assert!(
        (carried - quiet.theory.offered_load_erlangs).abs() / 8.0 < 0.01,
        "{carried}"
    );
}

#[test]
fn fleet_pools_cannot_exceed_the_database() {
    // 10 instances with fixed pools of 10 against max_connections 100 with 3 reserved.
    let json = r#"{"duration": "5m",
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 200}},
        "app": {"instances": 10, "pool": {"max_size": 10,
                "connect_time": {"kind": "constant", "value": "20ms"}}},
        "database": {"max_connections": 100, "reserved_connections": 3}}"#;
    let r = run(&config(json));
    let s = &r.summary;
    assert_eq!(s.db.usable_connections, 97);
    assert_eq!(
        s.db.peak_connections, 97,
        "the database never holds more than 97"
    );
    assert!(s.theory.oversubscribed);
    assert_eq!(s.theory.pool_capacity, 100);
    // The pools hold the 97 they could get, from the first second to the last.
    let held = &r.series.pool_total.mean;
    assert!(
        held[held.len() / 10..]
            .iter()
            .all(|&h| (h - 97.0).abs() < 1e-3),
        "{held:?}"
    );
    let per_instance: u64 = s
        .instances
        .iter()
        .map(|i| i.mean_connections.round() as u64)
        .sum();
    assert_eq!(per_instance, 97);
    // Pools below min_idle keep trying, backing off to one attempt per 5 s each.
    assert!(s.db.refused_connections > 3, "{}", s.db.refused_connections);
    assert!(
        s.db.refused_connections < 3 * 300 / 5 + 60,
        "{}",
        s.db.refused_connections
    );
}

#[test]
fn processor_sharing_matches_mmk() {
    // k = 4 cores, 20 ms demand, 190 req/s, no pool limit, no contention: M/M/4-PS has the
    // mean response time of M/M/4 FCFS, 109.14 ms.
    let json = r#"{"duration": "2h", "warmup": "2m",
        "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 190},
          "transaction": {"query_time": {"kind": "exponential", "mean": "20ms"}}},
        "app": {"request_timeout": "0s", "pool": {"max_size": 2000, "connection_timeout": "0s",
                "max_lifetime": "0s"}},
        "database": {"max_connections": 5000, "cores": 4}}"#;
    let theory = poolsim_theory::mmc(4, 190.0, 0.020).unwrap();
    assert!((theory.mean_response_s * 1e3 - 109.14).abs() < 0.01);
    let runs = run_seeds(&config(json), 8);
    let latency: Vec<f64> = runs.iter().map(|s| s.latency_ms.mean).collect();
    assert_close("mean response ms", &latency, 109.14, 0.03);
    for s in &runs {
        assert_eq!(s.pool_wait_ms.waited_fraction, 0.0, "the pool never limits");
    }
}

#[test]
fn contention_makes_a_bigger_pool_slower() {
    // USL with kappa > 0: past the peak, more concurrency means less throughput, so a larger
    // pool gives worse latency under the same load.
    let scenario = |max_size: u32| {
        format!(
            r#"{{"duration": "10m", "warmup": "1m",
            "workload": {{"arrivals": {{"kind": "poisson", "rate_per_s": 350}},
              "transaction": {{"query_time": {{"kind": "exponential", "mean": "20ms"}}}}}},
            "app": {{"request_timeout": "0s", "pool": {{"max_size": {max_size},
                     "connection_timeout": "2s"}}}},
            "database": {{"max_connections": 500, "cores": 8,
                          "contention": {{"sigma": 0.02, "kappa": 0.0005}}}}}}"#
        )
    };
    let small = run(&config(&scenario(12))).summary;
    let large = run(&config(&scenario(200))).summary;
    assert_eq!(
        small.theory.usl_peak_concurrency, 8,
        "beyond the cores, no gain"
    );
    assert!(
        large.latency_ms.mean > 1.5 * small.latency_ms.mean,
        "pool 12: {} ms, pool 200: {} ms",
        small.latency_ms.mean,
        large.latency_ms.mean
    );
}

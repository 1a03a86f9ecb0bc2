//! The work estimate (issue 12 item 2) against the events runs really take: an upper bound
//! on every shipped scenario, not so loose that it refuses what runs in seconds, and the
//! small inputs that once ran for minutes are refused up front with the fields that drive them.

use poolsim_scenario::work::estimate;
use poolsim_tests::{config, fixture, run};

const FIXTURES: &[&str] = &[
    "default",
    "design-example",
    "failover",
    "faults",
    "leak",
    "mmc",
    "outage-fix",
    "outage-replay",
    "outage",
    "overlapping-restarts",
    "retry-storm",
    "rolling-restart",
    "slow-queries",
];

#[test]
fn the_estimate_bounds_every_shipped_scenario_from_above_within_a_small_factor() {
    for name in FIXTURES {
        let config = config(&fixture(name));
        let work = estimate(&config);
        let actual = run(&config).summary.events as f64;
        let ratio = work.events() / actual;
        println!(
            "{name}: estimate {:.0}, ran {actual}, ratio {ratio:.2}",
            work.events()
        );
        assert!(ratio >= 1.0, "{name}: estimate {work:?} below {actual}");
        assert!(
            ratio <= 6.0,
            "{name}: estimate {work:?} is {ratio:.1}x {actual}"
        );
    }
}

/// Issue 12 item 4: inputs of a few dozen bytes that ran for a minute or more. Each is now
/// refused before it starts, at the field that drives it, with how to run it anyway.
#[test]
fn small_inputs_that_ran_for_minutes_are_refused_up_front_at_their_field() {
    let cases = [
        (r#"{"duration":"720h"}"#, "duration", "259 million requests"),
        (
            r#"{"duration":"1h","workload":{"arrivals":{"kind":"bursty","rate_per_s":100,
                "burst_rate_per_s":200,"on":"1us","off":"1us"}}}"#,
            "workload.arrivals.on",
            "burst changes (workload.arrivals.on = 1us and off = 1us)",
        ),
        (
            r#"{"duration":"1h","workload":{"transaction":{"queries":1000,
                "query_time":{"kind":"constant","value":"0s"}}}}"#,
            "workload.transaction.queries",
            "workload.transaction.queries = 1000",
        ),
        (
            r#"{"workload":{"arrivals":{"kind":"poisson","rate_per_s":1000000}}}"#,
            "workload.arrivals.rate_per_s",
            "600 million requests",
        ),
        (
            r#"{"duration":"1h","app":{"instances":100,"pool":{"max_size":1000,
                "max_lifetime":"1s"}},"database":{"max_connections":1000000}}"#,
            "app.pool.max_lifetime",
            "replaced every app.pool.max_lifetime = 1s",
        ),
        (
            r#"{"duration":"1h","app":{"retries":{"max":100,"backoff":"1ms"}}}"#,
            "app.retries.max",
            "up to 101 attempts (app.retries.max = 100)",
        ),
    ];
    for (json, path, words) in cases {
        let error = poolsim_scenario::load(json).unwrap_err();
        let fields = error.fields();
        assert_eq!(fields.len(), 1, "{error}");
        assert_eq!(fields[0].path, path, "{error}");
        let message = &fields[0].message;
        assert!(message.contains(words), "{message}");
        assert!(
            message.contains("more than limits.max_events allows (100,000,000)")
                && message.ends_with("or raise limits.max_events"),
            "{message}"
        );
    }
    // A thousand instances through a month-long outage: the creators' retries, every 5 s
    // each, are what the run would spend its events on.
    let outage = r#"{"duration":"720h","workload":{"arrivals":{"kind":"poisson","rate_per_s":1}},
        "app":{"instances":1000},"database":{"max_connections":100000},
        "faults":[{"kind":"db_outage","at":"0s","duration":"720h"}]}"#;
    let fields = poolsim_scenario::load(outage).unwrap_err().fields();
    assert_eq!(fields[0].path, "app.instances", "{fields:?}");
    assert!(
        fields[0]
            .message
            .contains("retried connection openings of 1000 instances"),
        "{fields:?}"
    );
    // Raising the limit is the way through, as the message says.
    let raised = r#"{"duration":"720h","limits":{"max_events":2000000000}}"#;
    assert!(poolsim_scenario::load(raised).is_ok());
}

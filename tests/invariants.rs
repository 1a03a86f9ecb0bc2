//! Invariants over random valid scenarios, swarm-style: each case turns whole fault kinds
//! on or off and draws every setting. For every run: no panic (the engine asserts pool and
//! database bounds at every bucket), conservation, bounds in the summary, and determinism.
//! A failing case prints its scenario JSON, which `poolsim run` reproduces.
//!
//! Found this way: a rolling restart overlapping a reconfigure's restart brought an instance
//! "up" twice and let its pool exceed max_size (fixed: restarts nest).

use proptest::prelude::*;
use serde_json::{Value, json};

fn dur_ms(lo: u64, hi: u64) -> impl Strategy<Value = String> {
    (lo..=hi).prop_map(|ms| format!("{ms}ms"))
}

fn distribution() -> impl Strategy<Value = Value> {
    prop_oneof![
        dur_ms(0, 20).prop_map(|v| json!({"kind": "constant", "value": v})),
        dur_ms(1, 30).prop_map(|m| json!({"kind": "exponential", "mean": m})),
        (1u64..10, 10u64..40)
            .prop_map(|(a, b)| json!({"kind": "uniform", "min": format!("{a}ms"), "max": format!("{b}ms")})),
        (1u64..5, 6u64..60).prop_map(|(m, p)| json!({"kind": "lognormal", "median": format!("{m}ms"), "p99": format!("{p}ms")})),
        (1u64..20, 0.2f64..5.0).prop_map(|(m, k)| json!({"kind": "gamma", "mean": format!("{m}ms"), "shape": k})),
        (1u64..5, 1.2f64..4.0).prop_map(|(m, a)| json!({"kind": "pareto", "min": format!("{m}ms"), "alpha": a})),
        prop::collection::vec(0u64..30, 1..5).prop_map(|v| json!({"kind": "empirical",
            "values": v.iter().map(|ms| format!("{ms}ms")).collect::<Vec<_>>()})),
    ]
}

fn arrivals() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1.0f64..600.0).prop_map(|r| json!({"kind": "poisson", "rate_per_s": r})),
        (1.0f64..600.0).prop_map(|r| json!({"kind": "constant", "rate_per_s": r})),
        (0.0f64..200.0, 100.0f64..900.0, 1u64..10, 1u64..20).prop_map(|(r, b, on, off)| json!({
            "kind": "bursty", "rate_per_s": r, "burst_rate_per_s": b,
            "on": format!("{on}s"), "off": format!("{off}s")})),
        prop::collection::vec((0u64..60, 0.0f64..500.0), 1..4).prop_map(|mut steps| {
            steps.sort_by_key(|s| s.0);
            json!({"kind": "piecewise", "steps": steps.iter()
                .map(|(at, r)| json!({"at": format!("{at}s"), "rate_per_s": r})).collect::<Vec<_>>()})
        }),
    ]
}

/// Faults within a 60 s run; `on` picks which kinds appear at all (swarm testing).
fn faults() -> impl Strategy<Value = Vec<Value>> {
    (
        prop::array::uniform7(any::<bool>()),
        (0u64..50, 1u64..15),
        (0u64..50, 1u64..20, 1.5f64..10.0),
        (0u64..55, 1.0f64..800.0),
        (0u64..40, 1u64..10, 0u64..5, 1u32..4),
        (0u64..55, 1u32..30, any::<bool>()),
        (0u64..50, 0.0f64..0.3),
        (prop::collection::vec((0u64..58, 1u32..8), 1..3)),
    )
        .prop_map(|(on, outage, slow, traffic, restart, reconf, leak, scales)| {
            let mut out = Vec::new();
            if on[0] {
                out.push(json!({"kind": "db_outage", "at": format!("{}s", outage.0), "duration": format!("{}s", outage.1)}));
            }
            if on[1] {
                out.push(json!({"kind": "slow_queries", "at": format!("{}s", slow.0), "duration": format!("{}s", slow.1), "factor": slow.2}));
            }
            if on[2] {
                out.push(json!({"kind": "traffic_change", "at": format!("{}s", traffic.0), "rate_per_s": traffic.1}));
            }
            if on[3] {
                out.push(json!({"kind": "rolling_restart", "at": format!("{}s", restart.0),
                    "down": format!("{}s", restart.1), "gap": format!("{}s", restart.2), "batch": restart.3}));
            }
            if on[4] {
                let mut r = json!({"kind": "reconfigure", "at": format!("{}s", reconf.0),
                    "pool": {"max_size": reconf.1, "connection_timeout": "300ms"}});
                if reconf.2 {
                    r["rolling_restart"] = json!({"down": "2s"});
                }
                out.push(r);
            }
            if on[5] {
                out.push(json!({"kind": "connection_leak", "at": format!("{}s", leak.0), "fraction": leak.1}));
            }
            if on[6] {
                for (at, instances) in scales {
                    out.push(json!({"kind": "scale", "at": format!("{at}s"), "instances": instances}));
                }
            }
            out
        })
}

/// The variable `name` as a number, else `default` (the seed and the number of cases).
fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// `cases` cases from a fixed seed, both overridable (`PROPTEST_CASES`, `PROPTEST_RNG_SEED`).
fn fixed_cases(cases: u64) -> ProptestConfig {
    ProptestConfig {
        cases: env_or("PROPTEST_CASES", cases) as u32,
        rng_seed: proptest::test_runner::RngSeed::Fixed(env_or("PROPTEST_RNG_SEED", 20_230_805)),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

prop_compose! {
    fn scenario()(
        seed in any::<u64>(),
        arrivals in arrivals(),
        queries in 1u32..4,
        query_time in distribution(),
        think_time in distribution(),
        instances in 1u32..6,
        lb in prop::sample::select(vec!["round_robin", "random", "least_busy"]),
        request_timeout in prop::sample::select(vec!["0s", "500ms", "2s", "10s"]),
        retries in (0u32..4, prop::sample::select(vec!["none", "full", "equal"])),
        max_size in 1u32..20,
        min_idle_share in 0.0f64..=1.0,
        connection_timeout in prop::sample::select(vec!["0s", "50ms", "250ms", "1s"]),
        lifetimes in (prop::sample::select(vec!["0s", "5s", "30s"]), prop::sample::select(vec!["0s", "2s", "20s"])),
        connect_time in distribution(),
        leak_detection in prop::sample::select(vec!["0s", "100ms", "1s"]),
        db in (1u32..80, 0u32..3, 1u32..16, 0.0f64..0.2, 0.0f64..0.01),
        statement_timeout in prop::sample::select(vec!["0s", "20ms", "200ms"]),
        rtt in prop::sample::select(vec!["0s", "200us", "2ms"]),
        faults in faults(),
    ) -> Value {
        json!({
            "seed": seed, "duration": "60s", "warmup": "5s",
            "limits": {"max_in_flight": 200000},
            "workload": {"arrivals": arrivals,
                "transaction": {"queries": queries, "query_time": query_time, "think_time": think_time}},
            "app": {"instances": instances, "load_balancer": lb, "request_timeout": request_timeout,
                "retries": {"max": retries.0, "jitter": retries.1},
                "pool": {"max_size": max_size, "min_idle": (f64::from(max_size) * min_idle_share) as u32,
                    "connection_timeout": connection_timeout, "idle_timeout": lifetimes.1,
                    "max_lifetime": lifetimes.0, "connect_time": connect_time,
                    "leak_detection_threshold": leak_detection}},
            "database": {"max_connections": db.0 + db.1 + 1, "reserved_connections": db.1, "cores": db.2,
                "contention": {"sigma": db.3, "kappa": db.4},
                "statement_timeout": statement_timeout, "network_rtt": rtt},
            "faults": faults,
            "alerts": [{"name": "pending", "metric": "hikaricp_connections_pending", "above": 0, "for": "2s"}]
        })
    }
}

proptest! {
    // A fixed seed: CI sees the same 256 cases every time (a red CI blocks everything, so
    // it must not depend on luck). To explore new cases, run with another seed:
    // `PROPTEST_RNG_SEED=<n> PROPTEST_CASES=2000 cargo test --release --test invariants`.
    #![proptest_config(fixed_cases(256))]

    #[test]
    fn invariants_hold_on_random_scenarios(scenario in scenario()) {
        let text = scenario.to_string();
        let config = poolsim_scenario::load(&text)
            .unwrap_or_else(|e| panic!("generated an invalid scenario ({e}):\n{text}"));
        let report = poolsim_engine::run(&config)
            .unwrap_or_else(|e| panic!("{e}\nscenario:\n{text}"));
        if let Err(broken) = poolsim_fuzz::invariants::check(&config, &report) {
            return Err(TestCaseError::fail(format!("{broken}\n{text}")));
        }
        let again = poolsim_engine::run(&config).unwrap();
        prop_assert_eq!(&again.summary.digest, &report.summary.digest, "not deterministic\n{}", text);
    }
}

/// What a person reads of a run, without the record of operations (which lists the extra
/// fault), the event count and the digest over both.
fn readings(report: &poolsim_engine::Report) -> (Value, String) {
    let mut summary = serde_json::to_value(&report.summary).unwrap();
    let map = summary.as_object_mut().unwrap();
    map.remove("events");
    map.remove("digest");
    (summary, serde_json::to_string(&report.series).unwrap())
}

fn run_json(scenario: &Value) -> poolsim_engine::Report {
    let text = scenario.to_string();
    let config = poolsim_scenario::load(&text)
        .unwrap_or_else(|e| panic!("generated an invalid scenario ({e}):\n{text}"));
    poolsim_engine::run(&config).unwrap_or_else(|e| panic!("{e}\nscenario:\n{text}"))
}

proptest! {
    #![proptest_config(fixed_cases(64))]

    /// Issue 12 item 5, metamorphic pairs: a scale to the fleet's size and a reconfigure to
    /// the pool's own settings change nothing; a restart whose batch outlasts the run by a
    /// second reads the same as one that never comes back.
    #[test]
    fn equal_situations_give_equal_answers(
        mut scenario in scenario(),
        at in 1u64..59,
        restart_at in 1u64..59,
    ) {
        // The base has no scale or reconfigure of its own, so "current" is the scenario's.
        let faults: Vec<Value> = scenario["faults"].as_array().unwrap().iter()
            .filter(|f| f["kind"] != "scale" && f["kind"] != "reconfigure")
            .cloned()
            .collect();
        scenario["faults"] = Value::Array(faults);
        let base = readings(&run_json(&scenario));

        let mut noop = scenario.clone();
        let pool = &scenario["app"]["pool"];
        let faults = noop["faults"].as_array_mut().unwrap();
        faults.push(json!({"kind": "scale", "at": format!("{at}s"),
            "instances": scenario["app"]["instances"]}));
        faults.push(json!({"kind": "reconfigure", "at": format!("{at}s"), "pool": {
            "max_size": pool["max_size"], "min_idle": pool["min_idle"],
            "connection_timeout": pool["connection_timeout"]}}));
        let noop_readings = readings(&run_json(&noop));
        prop_assert!(noop_readings == base, "a no-op scale and reconfigure changed the run\n{}", noop);

        let restart = |down: String| {
            let mut s = scenario.clone();
            s["faults"].as_array_mut().unwrap().push(json!({"kind": "rolling_restart",
                "at": format!("{restart_at}s"), "down": down, "gap": "1s"}));
            s
        };
        let endless = restart("720h".into());
        let past_the_end = restart(format!("{}s", 60 - restart_at + 1));
        prop_assert!(
            readings(&run_json(&endless)) == readings(&run_json(&past_the_end)),
            "a restart past the end differs from one that never returns\n{}", endless
        );
    }
}

//! The poolsim scenario format.
//!
//! Two levels, as in DESIGN.md's contract: [`Scenario`] mirrors the JSON file (serde, with
//! defaults, unknown fields rejected), and [`Config`] is the validated, resolved form that the
//! engine runs. [`load`] does both and reports problems by field path:
//!
//! ```
//! let err = poolsim_scenario::load(r#"{"app": {"pool": {"max_size": 0}}}"#).unwrap_err();
//! assert_eq!(err.to_string(), "app.pool.max_size: must be at least 1");
//! ```
//!
//! **Invariant:** this crate does no I/O; it turns text into values.

pub mod config;
mod duration;
mod read;
pub mod scenario;
mod shape;
pub mod sweep;
mod validate;
mod words;
pub mod work;

use std::fmt;

pub use config::Config;
pub use duration::{Duration, DurationError};
pub use read::MAX_SCENARIO_BYTES;
pub use scenario::*;
pub use validate::{
    AUTO_BUCKETS, MAX_ALERTS, MAX_BUCKETS, MAX_CORES, MAX_DB_CONNECTIONS, MAX_FAULTS,
    MAX_INSTANCES, MAX_MOMENTS, MAX_POOL_SIZE, MAX_QUERIES, MAX_RATE_PER_S, MAX_RATE_STEPS,
    auto_bucket_us, parse_utc,
};
pub use words::{int, is_type_error};

/// One bad value: where it is (`app.pool.max_size`, `faults[2].at`) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a scenario could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The text is not JSON of the scenario's shape (syntax, a wrong type, an unknown field).
    #[error("{}{message} (line {line}, column {column})", path_prefix(path))]
    Parse {
        path: String,
        message: String,
        line: usize,
        column: usize,
    },
    /// The JSON has the right shape, but values are out of range; one entry per problem.
    #[error("{}", join_lines(.0))]
    Invalid(Vec<FieldError>),
}

impl ScenarioError {
    /// Every problem as (field path, message); a parse error gives one.
    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            ScenarioError::Parse { path, message, .. } => vec![FieldError {
                path: path.clone(),
                message: message.clone(),
            }],
            ScenarioError::Invalid(errors) => errors.clone(),
        }
    }
}

fn path_prefix(path: &str) -> String {
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// How many problems a message lists: a screenful, then a count of the rest.
pub const SHOWN_PROBLEMS: usize = 20;

fn join_lines(errors: &[FieldError]) -> String {
    let mut lines: Vec<String> = errors
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(FieldError::to_string)
        .collect();
    if let Some(rest) = errors.len().checked_sub(SHOWN_PROBLEMS).filter(|&n| n > 0) {
        let s = if rest == 1 { "" } else { "s" };
        lines.push(format!("... and {rest} more problem{s}"));
    }
    lines.join("\n")
}

/// Parses a scenario file's text. Syntax and shape only: see [`Scenario::validate`].
pub fn parse(json: &str) -> Result<Scenario, ScenarioError> {
    read::parse(json)
}

/// Reads a scenario from a JSON value (e.g. one edited by `poolsim sweep --set`).
pub fn from_value(value: serde_json::Value) -> Result<Scenario, ScenarioError> {
    read::from_value(&value)
}

/// Parses and validates: the one call the CLI and the page make.
pub fn load(json: &str) -> Result<Config, ScenarioError> {
    parse(json)?.validate().map_err(ScenarioError::Invalid)
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_times_parse_to_unix_seconds() {
        assert_eq!(super::parse_utc("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(super::parse_utc("2023-08-05T14:00:00Z"), Ok(1_691_244_000));
        assert_eq!(super::parse_utc("2023-08-05 14:00 UTC"), Ok(1_691_244_000));
        assert_eq!(super::parse_utc("2024-02-29T23:59:59Z"), Ok(1_709_251_199));
        for bad in [
            "2023-08-05",
            "2023-08-05T14:00",
            "2023-02-29T00:00Z",
            "2023-08-05T24:00Z",
            "23-8-5T1:2Z",
            "",
        ] {
            assert!(super::parse_utc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timelines_are_checked_by_path() {
        let err = super::load(
            r#"{"duration": "10m", "timeline": {"start": "yesterday",
                "moments": [{"at": "11m", "kind": "fix", "label": ""}]}}"#,
        )
        .unwrap_err();
        let paths: Vec<String> = err.fields().into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            [
                "timeline.start",
                "timeline.moments[0].at",
                "timeline.moments[0].label"
            ]
        );
        let ok = super::load(
            r#"{"timeline": {"start": "2023-08-05T14:00:00Z",
                "moments": [{"at": "7m10s", "kind": "detection", "label": "alert fires"}]}}"#,
        );
        assert!(ok.is_ok(), "{ok:?}");
    }

    use super::*;

    fn err(json: &str) -> String {
        load(json).unwrap_err().to_string()
    }

    #[test]
    fn defaults_make_a_valid_scenario() {
        let config = load("{}").unwrap();
        assert_eq!(config.pool.max_size, 10);
        assert_eq!(config.pool.min_idle, 10);
        assert_eq!(config.duration_us, 600_000_000);
        assert_eq!(config.bucket_us, 500_000);
        assert_eq!(config.bucket_count(), 1_200);
    }

    #[test]
    fn the_design_example_loads() {
        let json = include_str!("../../../tests/scenarios/design-example.json");
        let config = load(json).unwrap();
        assert_eq!(config.faults.len(), 1);
        assert_eq!(config.alerts.len(), 1);
        assert_eq!(config.arrivals.initial_rate_per_s, 900.0);
    }

    #[test]
    fn errors_name_the_field_path() {
        assert_eq!(
            err(r#"{"app": {"pool": {"max_size": 0}}}"#),
            "app.pool.max_size: must be at least 1"
        );
        assert_eq!(
            err(r#"{"app": {"pool": {"max_sise": 3}}}"#),
            "app.pool.max_sise: unknown field \"max_sise\"; the fields here are max_size, \
             min_idle, connection_timeout, idle_timeout, max_lifetime, connect_time, \
             leak_detection_threshold (line 1, column 28)"
        );
        assert!(err(r#"{"duration": "10 minutes"}"#).starts_with("duration: unknown unit"));
        assert!(err(r#"{"duration": 30}"#).starts_with("duration: 30 has no unit"));
        // A rule between two fields is told at both.
        let both = err(r#"{"app": {"pool": {"max_size": 5, "min_idle": 6}}}"#);
        assert!(both.contains("app.pool.min_idle: must be at most max_size (5)"));
        assert!(both.contains("app.pool.max_size: must be at least min_idle (6)"));
        assert!(
            err(r#"{"faults": [{"kind": "db_outage", "at": "20m", "duration": "1s"}]}"#)
                .contains("faults[0].at: 20m is after the end of the run (duration 10m)")
        );
        let both = err(r#"{"database": {"max_connections": 3, "reserved_connections": 3}}"#);
        assert!(both.contains("database.reserved_connections: must be below max_connections (3)"));
        assert!(both.contains("database.max_connections: must be above reserved_connections (3)"));
        assert!(err("{").contains("line 1"));
        assert!(err(" []").contains("not an array (line 1, column 3)"));
        assert_eq!(
            err("1"),
            "must be an object {...} (scenario), not 1 (line 1, column 1)"
        );
    }

    /// Issue 12: inside a fault, an arrival process or a distribution the message named
    /// only the object (`faults[0]: invalid type ... expected u32`), in serde's words. Each
    /// case is a real input and the whole message a person reads.
    #[test]
    fn type_errors_name_the_innermost_field_in_plain_words() {
        let cases = [
            (
                r#"{"faults":[{"at":"1m","kind":"reconfigure","pool":{"max_size":"x"}}]}"#,
                "faults[0].pool.max_size: must be a whole number from 0 to 4,294,967,295, \
                 not the text \"x\" (line 1, column 68)",
            ),
            (
                r#"{"workload":{"arrivals":{"kind":"poisson","rate_per_s":"x"}}}"#,
                "workload.arrivals.rate_per_s: must be a number, not the text \"x\" \
                 (line 1, column 60)",
            ),
            (
                r#"{"workload":{"arrivals":{"kind":"piecewise","steps":[{"at":"0s","rate_per_s":1},{"at":"1x","rate_per_s":1}]}}}"#,
                "workload.arrivals.steps[1].at: unknown unit \"x\" in \"1x\" \
                 (units: us, ms, s, m, h) (line 1, column 109)",
            ),
            (
                r#"{"workload":{"transaction":{"query_time":{"kind":"empirical","values":["1ms",true]}}}}"#,
                "workload.transaction.query_time.values[1]: must be a duration string with a \
                 unit, such as \"250ms\" or \"30s\", not true (line 1, column 84)",
            ),
            (
                r#"{"faults":[{"at":"1m","kind":"reconfigure","pool":{"connect_time":{"kind":"constant","value":"1q"}}}]}"#,
                "faults[0].pool.connect_time.value: unknown unit \"q\" in \"1q\" \
                 (units: us, ms, s, m, h) (line 1, column 101)",
            ),
            (
                r#"{"faults":[{"at":"1m","kind":"nope"}]}"#,
                "faults[0].kind: \"nope\" is not one of db_outage, slow_queries, \
                 traffic_change, rolling_restart, reconfigure, scale, connection_leak \
                 (line 1, column 35)",
            ),
            (
                r#"{"faults":[{"at":"1m","kind":"db_outage"}]}"#,
                "faults[0]: needs \"duration\" (line 1, column 42)",
            ),
            (
                r#"{"faults":[{"at":"1m","kind":"db_outage","duration":"1s","extra":1}]}"#,
                "faults[0].extra: unknown field \"extra\"; the fields here are at, duration \
                 (line 1, column 68)",
            ),
            (
                r#"{"faults":[5]}"#,
                "faults[0]: must be an object {\"kind\": ...} (fault), not 5 (line 1, column 12)",
            ),
            (
                r#"{"app": {"instances": -3}}"#,
                "app.instances: must be a whole number from 0 to 4,294,967,295, not -3 \
                 (line 1, column 24)",
            ),
            (
                r#"{"app": {"load_balancer": "x"}}"#,
                "app.load_balancer: \"x\" is not one of round_robin, random, least_busy \
                 (line 1, column 29)",
            ),
            (
                r#"{"seed": 1e999}"#,
                "seed: this number is too large for any field (line 1, column 14)",
            ),
            (
                r#"{"name": 5}"#,
                "name: must be text in quotes, not 5 (line 1, column 10)",
            ),
            (
                r#"{"seed": 1, "seed": 2}"#,
                "\"seed\" is given twice (line 1, column 18)",
            ),
            (
                r#"{"a" 1}"#,
                "missing : after the field name (line 1, column 6)",
            ),
            (
                r#"{"a": 1,}"#,
                "a comma has nothing after it (line 1, column 9)",
            ),
            (
                "{",
                "the text ends inside an object: a } is missing (line 1, column 1)",
            ),
            (
                "{} x",
                "there is text after the scenario's closing } (line 1, column 4)",
            ),
        ];
        for (json, message) in cases {
            assert_eq!(err(json), message, "{json}");
        }
        // The same words for a value the page or `sweep --set` edited.
        let value =
            serde_json::json!({"faults": [{"at": "1m", "kind": "scale", "instances": "x"}]});
        assert_eq!(
            from_value(value).unwrap_err().to_string(),
            "faults[0].instances: must be a whole number from 0 to 4,294,967,295, \
             not the text \"x\" (line 0, column 0)"
        );
    }

    /// Issue 12: `"app": [5]` meant five instances (serde reads a struct from an array by
    /// position). Lists are read only where the format has them: the keys holding lists in a
    /// scenario with every list written out are exactly `shape::LISTS`, and every object in
    /// it written as a list is refused at its own path.
    #[test]
    fn structs_are_never_read_from_lists() {
        let every_list = serde_json::json!({
            "workload": {"arrivals": {"kind": "piecewise", "steps": [{"at": "0s", "rate_per_s": 5}]},
                         "transaction": {"query_time": {"kind": "empirical", "values": ["1ms"]}}},
            "faults": [{"kind": "reconfigure", "at": "1m", "pool": {"max_size": 5},
                        "rolling_restart": {"down": "1s"}}],
            "alerts": [{"name": "a", "metric": "db_connections", "above": 1}],
            "timeline": {"start": "2023-08-05T14:00:00Z",
                         "moments": [{"at": "1m", "kind": "fix", "label": "x"}]}
        });
        let full = serde_json::to_value(from_value(every_list).unwrap()).unwrap();
        let mut lists = std::collections::BTreeSet::new();
        let mut objects = Vec::new();
        walk(&full, String::new(), &mut lists, &mut objects);
        let expected: std::collections::BTreeSet<String> =
            shape::LISTS.iter().map(|k| (*k).to_owned()).collect();
        assert_eq!(lists, expected);
        assert!(objects.len() > 15, "{objects:?}");
        for path in objects {
            for list in [serde_json::json!([]), serde_json::json!([5])] {
                let mut edited = full.clone();
                *edited.pointer_mut(&pointer(&path)).unwrap() = list;
                let error = from_value(edited).expect_err(&path);
                assert_eq!(
                    error.fields()[0].path,
                    path,
                    "{path} written as a list: {error}"
                );
                assert!(error.to_string().contains("not a list"), "{error}");
            }
        }
        assert_eq!(
            err(r#"{"app": [5]}"#),
            "app: must be a single value or an object {...}, not a list [...] (line 1, column 9)"
        );
    }

    fn walk(
        value: &serde_json::Value,
        path: String,
        lists: &mut std::collections::BTreeSet<String>,
        objects: &mut Vec<String>,
    ) {
        use serde_json::Value;
        match value {
            Value::Object(map) => {
                if !path.is_empty() {
                    objects.push(path.clone());
                }
                for (key, child) in map {
                    if child.is_array() {
                        lists.insert(key.clone());
                    }
                    let sep = if path.is_empty() { "" } else { "." };
                    walk(child, format!("{path}{sep}{key}"), lists, objects);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, format!("{path}[{i}]"), lists, objects);
                }
            }
            _ => {}
        }
    }

    /// `faults[0].pool` as the JSON pointer `/faults/0/pool`.
    fn pointer(path: &str) -> String {
        path.split('.')
            .flat_map(|part| part.split('['))
            .map(|p| format!("/{}", p.trim_end_matches(']')))
            .collect()
    }

    /// Issue 12: 100,000 bad faults printed 100,001 lines. A message lists a screenful and
    /// counts the rest; `fields()` still has every one, for the page's fields.
    #[test]
    fn a_screenful_of_problems_then_a_count() {
        let faults: Vec<_> = (0..500)
            .map(|_| serde_json::json!({"kind": "scale", "at": "1m", "instances": 0}))
            .collect();
        let error = load(&serde_json::json!({ "faults": faults }).to_string()).unwrap_err();
        assert_eq!(error.fields().len(), 500);
        let text = error.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), SHOWN_PROBLEMS + 1);
        assert_eq!(lines[0], "faults[0].instances: must be at least 1");
        assert_eq!(lines[SHOWN_PROBLEMS], "... and 480 more problems");
    }

    /// Issue 12: a million rate steps took 345 MB; lists have a stated bound, checked once
    /// (not once per element past it).
    #[test]
    fn lists_are_bounded_and_the_bound_is_allowed() {
        let steps = |n: usize| {
            let steps: Vec<_> = (0..n)
                .map(|i| serde_json::json!({"at": format!("{}ms", i * 10), "rate_per_s": 5}))
                .collect();
            serde_json::json!({"workload": {"arrivals": {"kind": "piecewise", "steps": steps}}})
                .to_string()
        };
        assert!(load(&steps(validate::MAX_RATE_STEPS)).is_ok());
        let error = load(&steps(validate::MAX_RATE_STEPS + 1)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "workload.arrivals.steps: must list at most 10080 steps, not 10081"
        );
        let faults: Vec<_> = (0..=validate::MAX_FAULTS)
            .map(|_| serde_json::json!({"kind": "scale", "at": "1m", "instances": 2}))
            .collect();
        assert_eq!(
            err(&serde_json::json!({ "faults": faults }).to_string()),
            "faults: must list at most 1000 faults"
        );
    }

    /// Issue 11: a 5 MB description was accepted and blocked the page for 2.5 s drawing it.
    #[test]
    fn names_and_prose_have_a_length_bound() {
        let at = |n: usize| "x".repeat(n);
        let json = serde_json::json!({
            "name": at(201),
            "description": at(validate::MAX_TEXT_CHARS),
            "alerts": [{"name": at(200), "metric": "hikaricp_connections_pending", "above": 0}],
            "timeline": {"moments": [{"at": "1m", "kind": "note", "label": "ok",
                "detail": at(10_001)}]},
        });
        let error = load(&json.to_string()).unwrap_err();
        let lines: Vec<String> = error.fields().iter().map(|f| f.to_string()).collect();
        assert_eq!(
            lines,
            [
                "name: must be at most 200 characters, not 201",
                "timeline.moments[0].detail: must be at most 10000 characters, not 10001",
            ]
        );
    }

    /// Burst periods are bounded too: `on` at u64::MAX us once overflowed `on + off` in the
    /// work estimate (a panic with overflow checks on).
    #[test]
    fn burst_periods_have_an_upper_bound() {
        let error = load(
            r#"{"workload": {"arrivals": {"kind": "bursty", "rate_per_s": 1,
                "burst_rate_per_s": 2, "on": "18446744073709551615us", "off": "1us"}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "workload.arrivals.on: must be at most 720h"
        );
    }

    /// Issue 12: a rolling restart with `down` 18446744073709551615us overflowed and took
    /// every instance down at once; timeouts and fault durations had no upper bound.
    #[test]
    fn durations_have_an_upper_bound() {
        let error = load(
            r#"{"app": {"request_timeout": "2000000s", "pool": {"connection_timeout": "2000000s",
                "max_lifetime": "1000h"}},
                "database": {"statement_timeout": "2000000s"},
                "faults": [
                  {"kind": "rolling_restart", "at": "1m", "down": "18446744073709551615us", "gap": "1us"},
                  {"kind": "db_outage", "at": "1m", "duration": "1000h"}]}"#,
        )
        .unwrap_err();
        let paths: Vec<String> = error.fields().into_iter().map(|f| f.to_string()).collect();
        assert_eq!(
            paths,
            [
                "app.request_timeout: must be at most 1000000s",
                "app.pool.max_lifetime: must be at most 720h",
                "app.pool.connection_timeout: must be at most 1000000s",
                "database.statement_timeout: must be at most 1000000s",
                "faults[0].down: must be at most 720h",
                "faults[1].duration: must be at most 720h",
            ]
        );
        // Up to the bound, a restart or an outage outlasting the run is valid.
        assert!(
            load(r#"{"faults": [{"kind": "rolling_restart", "at": "1m", "down": "720h"}]}"#)
                .is_ok()
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = load(
            r#"{"app": {"instances": 0, "pool": {"max_size": 0}},
                "database": {"cores": 0}}"#,
        )
        .unwrap_err();
        let paths: Vec<String> = e.fields().into_iter().map(|f| f.path).collect();
        assert_eq!(
            paths,
            ["app.instances", "app.pool.max_size", "database.cores"]
        );
    }

    #[test]
    fn reconfigure_patches_the_pool_in_force() {
        let config = load(
            r#"{"app": {"pool": {"max_size": 40, "connection_timeout": "5s"}},
                "faults": [
                  {"kind": "reconfigure", "at": "2m", "pool": {"max_size": 20}},
                  {"kind": "reconfigure", "at": "1m", "pool": {"connection_timeout": "1s"}}]}"#,
        )
        .unwrap();
        let pools: Vec<_> = config
            .faults
            .iter()
            .map(|f| match f {
                config::FaultConfig::Reconfigure { pool, .. } => {
                    (pool.max_size, pool.min_idle, pool.connection_timeout_us)
                }
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(pools, [(40, 40, 1_000_000), (20, 20, 1_000_000)]);
    }

    #[test]
    fn auto_buckets_are_nice_and_bounded() {
        assert_eq!(auto_bucket_us(1_000_000), 1_000);
        assert_eq!(auto_bucket_us(600_000_000), 500_000);
        assert_eq!(auto_bucket_us(3_600_000_000), 2_000_000);
        assert_eq!(auto_bucket_us(12 * 3_600_000_000), 50_000_000);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = load(&s);
        }

        #[test]
        fn arbitrary_json_values_never_panic(v in arb_json()) {
            let _ = from_value(v.clone()).map(|s| s.validate());
            let _ = load(&v.to_string());
        }
    }

    /// JSON shaped like scenarios: known keys with random values, nested.
    fn arb_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::{Value, json};
        let keys = prop::sample::select(vec![
            "name",
            "seed",
            "duration",
            "warmup",
            "bucket",
            "workload",
            "arrivals",
            "kind",
            "rate_per_s",
            "transaction",
            "queries",
            "query_time",
            "mean",
            "app",
            "instances",
            "pool",
            "max_size",
            "min_idle",
            "database",
            "max_connections",
            "cores",
            "faults",
            "at",
            "alerts",
            "metric",
            "above",
            "for",
            "steps",
            "values",
            "median",
            "p99",
            "poisson",
            "exponential",
            "db_outage",
            "reconfigure",
            "scale",
            "instances",
            "fraction",
            "alpha",
            "shape",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            prop::sample::select(vec![
                "0s",
                "1ms",
                "10m",
                "-1s",
                "poisson",
                "bursty",
                "lognormal",
                "empirical",
                "round_robin",
                "1e9h",
                "",
                "db_outage",
                "reconfigure",
                "hikaricp_connections_pending",
            ])
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(keys.clone(), inner, 0..6).prop_map(|m| {
                    Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }),
            ]
        })
    }
}

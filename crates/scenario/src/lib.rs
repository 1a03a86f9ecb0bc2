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
pub mod scenario;
mod validate;

use std::fmt;

pub use config::Config;
pub use duration::{Duration, DurationError};
pub use scenario::*;
pub use validate::{
    AUTO_BUCKETS, MAX_BUCKETS, MAX_INSTANCES, MAX_MOMENTS, MAX_POOL_SIZE, MAX_QUERIES,
    auto_bucket_us, parse_utc,
};

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

fn join_lines(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(FieldError::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses a scenario file's text. Syntax and shape only: see [`Scenario::validate`].
pub fn parse(json: &str) -> Result<Scenario, ScenarioError> {
    // serde would read a JSON array positionally into the struct; a scenario is an object.
    let start = json.len() - json.trim_start().len();
    if json[start..].starts_with('[') {
        let line = 1 + json[..start].matches('\n').count();
        return Err(ScenarioError::Parse {
            path: String::new(),
            message: "a scenario is a JSON object ({...}), not an array".to_owned(),
            line,
            column: start - json[..start].rfind('\n').map_or(0, |i| i + 1) + 1,
        });
    }
    parse_value_with(&mut serde_json::Deserializer::from_str(json))
}

/// Reads a scenario from a JSON value (e.g. one edited by `poolsim sweep --set`).
pub fn from_value(value: serde_json::Value) -> Result<Scenario, ScenarioError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ScenarioError::Parse {
            path,
            message: e.into_inner().to_string(),
            line: 0,
            column: 0,
        }
    })
}

fn parse_value_with<'de>(
    de: &mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
) -> Result<Scenario, ScenarioError> {
    let result: Result<Scenario, _> = serde_path_to_error::deserialize(&mut *de);
    let scenario = result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ScenarioError::Parse {
            path,
            message: strip_position(&inner.to_string()),
            line: inner.line(),
            column: inner.column(),
        }
    })?;
    de.end().map_err(|e| ScenarioError::Parse {
        path: String::new(),
        message: "trailing characters after the scenario object".to_owned(),
        line: e.line(),
        column: e.column(),
    })?;
    Ok(scenario)
}

/// serde_json appends " at line L column C"; the error carries those separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
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
            err(r#"{"app": {"pool": {"max_sise": 3}}}"#)
                .split(" (line")
                .next(),
            Some(
                "app.pool.max_sise: unknown field `max_sise`, expected one of `max_size`, `min_idle`, \
                 `connection_timeout`, `idle_timeout`, `max_lifetime`, `connect_time`, \
                 `leak_detection_threshold`"
            )
        );
        assert!(err(r#"{"duration": "10 minutes"}"#).starts_with("duration: unknown unit"));
        assert!(err(r#"{"duration": 30}"#).starts_with("duration: 30 has no unit"));
        assert!(
            err(r#"{"app": {"pool": {"max_size": 5, "min_idle": 6}}}"#)
                .contains("app.pool.min_idle: must be at most max_size (5)")
        );
        assert!(
            err(r#"{"faults": [{"kind": "db_outage", "at": "20m", "duration": "1s"}]}"#)
                .contains("faults[0].at: 20m is after the end of the run (duration 10m)")
        );
        assert!(
            err(r#"{"database": {"max_connections": 10, "reserved_connections": 10}}"#)
                .contains("database.reserved_connections: must be below max_connections (10)")
        );
        assert!(err("{").contains("line 1"));
        assert!(err("{} x").contains("trailing characters"));
        assert!(err(" []").contains("not an array (line 1, column 2)"));
        assert!(err("1").contains("invalid type"));
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

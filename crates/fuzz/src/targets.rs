//! The readers under test, one generator and one set of checks each.

use std::fmt;
use std::sync::LazyLock;

use poolsim_advisor::Slo;
use poolsim_advisor::config_files::{self, FoundConfig};
use poolsim_engine::RunError;
use poolsim_scenario::sweep::path::JsonPath;
use poolsim_scenario::sweep::spec::{self, MAX_POINTS};
use poolsim_scenario::{Config, FieldError, ScenarioError};
use serde_json::Value;

use crate::input::{self, Gen};
use crate::invariants;

/// Accepted scenarios run at most this many events: a run of [`COMPACT`] to its end, with
/// room to spare, and a few milliseconds each.
pub const RUN_EVENTS: u64 = 100_000;

/// Every fault and operation kind within 30 s at a low rate, so mutated copies run to their
/// end and their invariants are checked (the examples run minutes at hundreds per second).
const COMPACT: &str = r#"{
  "seed": 5, "duration": "30s", "bucket": "1s",
  "workload": {
    "arrivals": { "kind": "bursty", "rate_per_s": 20, "burst_rate_per_s": 80, "on": "1s", "off": "2s" },
    "transaction": { "queries": 3,
      "query_time": { "kind": "gamma", "mean": "3ms", "shape": 2.0 },
      "think_time": { "kind": "pareto", "min": "500us", "alpha": 2.5 } }
  },
  "app": {
    "instances": 4, "load_balancer": "least_busy", "request_timeout": "2s",
    "retries": { "max": 2, "backoff": "50ms", "jitter": "equal" },
    "pool": { "max_size": 3, "min_idle": 1, "connection_timeout": "500ms", "idle_timeout": "5s",
              "max_lifetime": "8s", "leak_detection_threshold": "2s",
              "connect_time": { "kind": "uniform", "min": "5ms", "max": "40ms" } }
  },
  "database": { "max_connections": 12, "reserved_connections": 2, "cores": 2,
                "contention": { "sigma": 0.05, "kappa": 0.001 },
                "statement_timeout": "150ms", "network_rtt": "300us" },
  "faults": [
    { "kind": "db_outage", "at": "3s", "duration": "2s" },
    { "kind": "db_outage", "at": "4s", "duration": "500ms" },
    { "kind": "slow_queries", "at": "7s", "duration": "3s", "factor": 8 },
    { "kind": "traffic_change", "at": "10s", "rate_per_s": 40 },
    { "kind": "rolling_restart", "at": "13s", "down": "2s", "gap": "1s", "batch": 2 },
    { "kind": "connection_leak", "at": "18s", "duration": "3s", "fraction": 0.05 },
    { "kind": "reconfigure", "at": "22s", "pool": { "max_size": 2, "connection_timeout": "1s" },
      "rolling_restart": { "down": "1s" } },
    { "kind": "reconfigure", "at": "27s", "pool": { "max_size": 4 } }
  ],
  "alerts": [ { "name": "timeouts", "metric": "hikaricp_connections_timeout_total", "above": 1, "for": "2s" } ]
}"#;

/// The scenarios the mutations start from: every example the project ships.
const SCENARIOS: [&str; 13] = [
    include_str!("../../../tests/scenarios/default.json"),
    include_str!("../../../tests/scenarios/design-example.json"),
    include_str!("../../../tests/scenarios/failover.json"),
    include_str!("../../../tests/scenarios/faults.json"),
    include_str!("../../../tests/scenarios/leak.json"),
    include_str!("../../../tests/scenarios/mmc.json"),
    include_str!("../../../tests/scenarios/outage-fix.json"),
    include_str!("../../../tests/scenarios/outage-replay.json"),
    include_str!("../../../tests/scenarios/outage.json"),
    include_str!("../../../tests/scenarios/overlapping-restarts.json"),
    include_str!("../../../tests/scenarios/retry-storm.json"),
    include_str!("../../../tests/scenarios/rolling-restart.json"),
    include_str!("../../../tests/scenarios/slow-queries.json"),
];

struct Corpus {
    scenarios: Vec<Value>,
    kinds: Vec<String>,
}

static CORPUS: LazyLock<Corpus> = LazyLock::new(|| {
    let mut scenarios: Vec<Value> = SCENARIOS
        .iter()
        .map(|text| serde_json::from_str(text).expect("the example scenarios are JSON"))
        .collect();
    scenarios.push(input::object());
    let compact: Value = serde_json::from_str(COMPACT).expect("the compact scenario is JSON");
    // Drawn as often as all the examples together.
    scenarios.extend(std::iter::repeat_n(compact, SCENARIOS.len()));
    let kinds = input::kinds(&scenarios);
    Corpus { scenarios, kinds }
});

/// serde's and serde_json's wording, which must never reach a person.
const SERDE_WORDS: [&str; 10] = [
    "invalid type",
    "invalid value",
    "invalid length",
    "unknown variant",
    "expected u",
    "expected i",
    "expected f",
    "data did not match",
    "EOF while parsing",
    "map with",
];

fn plain(message: &str) -> Result<(), String> {
    match SERDE_WORDS.iter().find(|w| message.contains(*w)) {
        Some(w) => Err(format!("serde's wording ({w:?}) in: {message}")),
        None if message.trim().is_empty() => Err("an empty error message".into()),
        None => Ok(()),
    }
}

/// What became of a case's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Not a scenario: read or refused, and checked.
    Read,
    /// A scenario refused with field errors.
    Refused,
    /// A scenario accepted whose run stopped at the event budget or the in-flight bound.
    Stopped,
    /// A scenario accepted and run to its end: invariants checked.
    Ran,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Scenario text: mutated JSON values and mangled text.
    Scenario,
    /// The page's link, parsed natively.
    Link,
    /// `sweep --set PATH=SPEC`.
    Sweep,
    /// `--slo METRIC=LIMIT`.
    Objective,
    /// Java properties, Spring YAML, postgresql.conf: equivalent forms and mangled files.
    ConfigFile,
}

impl Target {
    pub const COUNT: usize = 5;
    pub const ALL: [Target; Target::COUNT] = [
        Target::Scenario,
        Target::Link,
        Target::Sweep,
        Target::Objective,
        Target::ConfigFile,
    ];
    /// The draw: scenarios twice as often, as they have the most to check.
    pub const DRAWN: [Target; 6] = [
        Target::Scenario,
        Target::Scenario,
        Target::Link,
        Target::Sweep,
        Target::Objective,
        Target::ConfigFile,
    ];

    /// Runs one case, writing its input to `input` first; what became of a scenario, or
    /// `Fate::Read` for the other readers.
    pub fn run(self, g: &mut Gen, input: &mut String) -> Result<Fate, String> {
        match self {
            Target::Scenario => scenario(g, input),
            Target::Link => link(g, input).map(|()| Fate::Read),
            Target::Sweep => sweep(g, input).map(|()| Fate::Read),
            Target::Objective => objective(g, input).map(|()| Fate::Read),
            Target::ConfigFile => config_file(g, input).map(|()| Fate::Read),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Target::Scenario => "scenario",
            Target::Link => "link",
            Target::Sweep => "sweep spec",
            Target::Objective => "objective",
            Target::ConfigFile => "config file",
        })
    }
}

fn scenario(g: &mut Gen, input: &mut String) -> Result<Fate, String> {
    let mut value = g.pick(&CORPUS.scenarios).clone();
    input::mutate(g, &mut value, &CORPUS.kinds);
    let text = value.to_string();
    let mangled = g.one_in(5);
    *input = if mangled { g.mangle(&text) } else { text };
    match poolsim_scenario::load(input) {
        Ok(config) => {
            let value = serde_json::from_str(input).map_err(|_| "accepted, but not JSON")?;
            accepted(g, &config, &value)
        }
        Err(e) => refused(&e, !mangled),
    }
}

/// Checks a refusal: plain words, and (for input that is JSON) field paths that parse.
fn refused(error: &ScenarioError, paths_parse: bool) -> Result<Fate, String> {
    plain(&error.to_string())?;
    for FieldError { path, message } in error.fields() {
        plain(&message)?;
        if paths_parse && !path.is_empty() && path.parse::<JsonPath>().is_err() {
            return Err(format!("the error's field path {path:?} is not a path"));
        }
    }
    Ok(Fate::Refused)
}

fn accepted(g: &mut Gen, config: &Config, value: &Value) -> Result<Fate, String> {
    let again = poolsim_scenario::load(&input::reversed_keys(value))
        .map_err(|e| format!("refused with its keys in another order: {e}"))?;
    if &again != config {
        return Err("another key order gives another configuration".into());
    }
    let mut config = config.clone();
    config.max_events = config.max_events.min(RUN_EVENTS);
    let estimate = poolsim_scenario::work::estimate(&config).events();
    let report = match poolsim_engine::run(&config) {
        Ok(report) => report,
        // A run estimated within the cap that still hits it is an estimate too low.
        Err(RunError::EventBudget { .. }) if estimate <= config.max_events as f64 => {
            return Err(format!(
                "stopped at {} events though {estimate:.0} were estimated up front",
                config.max_events
            ));
        }
        // The event budget or the in-flight bound ended it: bounded, as promised.
        Err(_) => return Ok(Fate::Stopped),
    };
    invariants::check(&config, &report)?;
    if report.summary.events as f64 > estimate {
        return Err(format!(
            "took {} events, more than the {estimate:.0} estimated up front",
            report.summary.events
        ));
    }
    if g.one_in(8) {
        let twice = poolsim_engine::run(&config).map_err(|e| format!("the rerun stopped: {e}"))?;
        if twice.summary.digest != report.summary.digest {
            return Err(format!(
                "not deterministic: digests {} and {}",
                report.summary.digest, twice.summary.digest
            ));
        }
    }
    Ok(Fate::Ran)
}

fn link(g: &mut Gen, input: &mut String) -> Result<(), String> {
    let scenario = g.pick(&CORPUS.scenarios).clone();
    let hash = poolsim_web::url::hash(&scenario);
    let round_trip = poolsim_web::url::parse("", &hash).scenario;
    if round_trip != Some(Ok(scenario)) {
        return Err(format!("{hash} does not read back as its scenario"));
    }
    let hash = g.mangle(&hash);
    let search = *g.pick(&[
        "?embed=pool&controls=app.pool.max_size,app.instances",
        "?embed=latency",
        "",
    ]);
    let search = g.mangle(search);
    *input = format!("{search}{hash}");
    let address = poolsim_web::url::parse(&search, &hash);
    match address.scenario {
        Some(Err(message)) => plain(&message),
        Some(Ok(value)) => match poolsim_scenario::from_value(value) {
            Ok(s) => s
                .validate()
                .map(drop)
                .or_else(|e| refused(&ScenarioError::Invalid(e), false).map(drop)),
            Err(e) => refused(&e, false).map(drop),
        },
        None => Ok(()),
    }
}

fn sweep(g: &mut Gen, input: &mut String) -> Result<(), String> {
    const PATHS: [&str; 8] = [
        "app.pool.max_size",
        "app.pool.connection_timeout",
        "app.instances",
        "faults[0].at",
        "workload.arrivals.rate_per_s",
        "seed",
        "a.b[3].c",
        "app..pool",
    ];
    const SPECS: [&str; 16] = [
        "5..80:5",
        "0.5..2:0.25",
        "100ms..1s:100ms",
        "1..1000000:1",
        "0..1:0",
        "5..1:1",
        "1e308..1e309:1",
        "a..b:c",
        "30s",
        "round_robin",
        "",
        "1ms..1h:1us",
        "-5..5:1",
        "1..2:0.0000001",
        "18446744073709551615..18446744073709551615:1",
        "0us..18446744073709551615us:1us",
    ];
    let path = if g.one_in(10) {
        g.junk(12)
    } else {
        g.pick(&PATHS).to_string()
    };
    let specs: Vec<&str> = (0..1 + g.below(3)).map(|_| *g.pick(&SPECS)).collect();
    *input = format!("{path}={}", specs.join(","));
    if g.one_in(6) {
        *input = g.mangle(input);
    }
    let Ok(set) = spec::parse_set(input) else {
        return Ok(());
    };
    if set.values.len() > MAX_POINTS {
        return Err(format!(
            "{} values, more than {MAX_POINTS}",
            set.values.len()
        ));
    }
    let base = g.pick(&CORPUS.scenarios);
    for value in set.values.iter().take(3) {
        let mut point = base.clone();
        if set.path.set(&mut point, value.clone()).is_ok() {
            match poolsim_scenario::from_value(point) {
                Ok(s) => {
                    if let Err(e) = s.validate() {
                        refused(&ScenarioError::Invalid(e), true)?;
                    }
                }
                Err(e) => {
                    refused(&e, true)?;
                }
            }
        }
    }
    Ok(())
}

fn objective(g: &mut Gen, input: &mut String) -> Result<(), String> {
    let name = g.pick(&[
        "wait_p99",
        "wait_p999",
        "latency_p99",
        "failures",
        "p99",
        "",
    ]);
    let op = g.pick(&["=", "<=", "<", " = ", ""]);
    let value = match g.below(4) {
        0 => g
            .pick(&["0", "0%", "100%", "101%", "-1%", "NaN", "inf", "1e400"])
            .to_string(),
        1 => format!(
            "{}{}",
            g.range(0, 1 << 40),
            g.pick(&["us", "ms", "s", "m", "h", "%", ""])
        ),
        2 => g
            .pick(&["18446744073709551615us", "1m1m", "0.1%", "0.001", "10ms"])
            .to_string(),
        _ => g.junk(6),
    };
    *input = format!("{name}{op}{value}");
    match input.parse::<Slo>() {
        Ok(slo) if !(slo.limit.is_finite() && slo.limit >= 0.0) => {
            Err(format!("accepted with the limit {}", slo.limit))
        }
        Ok(slo) if slo.metric == poolsim_advisor::SloMetric::Failures && slo.limit > 1.0 => {
            Err(format!("a share of {} accepted", slo.limit))
        }
        Ok(_) => Ok(()),
        Err(e) => plain(&e.to_string()),
    }
}

/// The pool size (or `max_connections`) written in one of the forms its format allows.
fn config_form(g: &mut Gen, n: u64) -> (&'static str, String) {
    match g.below(3) {
        0 => ("application.properties", properties_form(g, n)),
        1 => ("application.yml", yaml_form(g, n)),
        _ => ("postgresql.conf", pgconf_form(g, n)),
    }
}

fn properties_form(g: &mut Gen, n: u64) -> String {
    let key = *g.pick(&[
        "maximumPoolSize",
        "spring.datasource.hikari.maximum-pool-size",
        "spring.datasource.hikari.maximumPoolSize",
        "SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE",
        "spring.datasource.hikari.maximum_pool_size",
    ]);
    let mut written = String::new();
    let escape_at = if g.one_in(2) {
        g.below(key.len())
    } else {
        usize::MAX
    };
    let break_at = if g.one_in(3) {
        g.below(key.len())
    } else {
        usize::MAX
    };
    for (i, c) in key.chars().enumerate() {
        if i == break_at {
            written.push_str(&format!("\\\n{}", g.pick(&["", "  ", "\t"])));
        }
        if i == escape_at {
            written.push_str(&format!("\\u{:04X}", u32::from(c)));
        } else {
            written.push(c);
        }
    }
    let separator = g.pick(&["=", ":", " ", "\t", " = ", " : ", "  "]);
    let value = if g.one_in(4) {
        format!("\\\n    {n}")
    } else {
        n.to_string()
    };
    let noise = g.pick(&[
        "",
        "# pool\n",
        "! pool\n",
        "\n",
        "server.port=8080\n",
        "a\\\n  b=c\n",
    ]);
    let bom = if g.one_in(8) { "\u{feff}" } else { "" };
    format!(
        "{bom}{noise}{written}{separator}{value}\n{}",
        g.pick(&["", "# end\n", "x=y"])
    )
}

fn yaml_form(g: &mut Gen, n: u64) -> String {
    let key = *g.pick(&[
        "maximum-pool-size",
        "maximumPoolSize",
        "\"maximum-pool-size\"",
    ]);
    let value = if g.one_in(5) {
        format!("0x{n:x}")
    } else {
        n.to_string()
    };
    let body = match g.below(6) {
        0 => format!("spring:\n  datasource:\n    hikari:\n      {key}: {value}\n"),
        1 => format!("spring:\n  datasource:\n    hikari: {{{key}: {value}}}\n"),
        2 => format!("spring:\n  datasource: {{hikari: {{{key}: {value}, minimum-idle: 1}}}}\n"),
        3 => format!("spring:\n  datasource:\n    hikari: &pool\n      {key}: {value}\n"),
        4 => format!(
            "defaults: &d\n  {key}: {value}\nspring:\n  datasource:\n    hikari:\n      <<: *d\n"
        ),
        _ => format!("spring.datasource.hikari.{key}: {value}\n"),
    };
    let start = g.pick(&["", "---\n", "%YAML 1.2\n---\n", "# app\n", "\u{feff}"]);
    let end = g.pick(&["", "...\n", "# end\n"]);
    format!("{start}{body}{end}")
}

fn pgconf_form(g: &mut Gen, n: u64) -> String {
    let earlier = if g.one_in(3) {
        format!("max_connections = {}\n", n + 1)
    } else {
        String::new()
    };
    let line = match g.below(5) {
        0 => format!("max_connections = {n}"),
        1 => format!("max_connections {n}"),
        2 => format!("max_connections='{n}'"),
        3 => format!("\tmax_connections\t=\t{n}"),
        _ => format!("MAX_CONNECTIONS = {n}"),
    };
    let comment = g.pick(&["", " # the limit", "\t# x"]);
    format!("# postgresql.conf\n{earlier}{line}{comment}\nshared_buffers = 128MB\n")
}

fn config_file(g: &mut Gen, input: &mut String) -> Result<(), String> {
    let n = g.range(1, 10_000);
    let (file, text) = config_form(g, n);
    *input = format!("{file}:\n{text}");
    let mut found = FoundConfig::default();
    let mangled = g.one_in(3);
    let text = if mangled { g.mangle(&text) } else { text };
    if mangled {
        *input = format!("{file}:\n{text}");
    }
    match config_files::read(file, &text, &mut found) {
        Ok(()) if mangled => Ok(()),
        Ok(()) => {
            let read = if file == "postgresql.conf" {
                found.max_connections.map(u64::from)
            } else {
                found.pool.max_size.map(u64::from)
            };
            if read == Some(n) {
                Ok(())
            } else {
                Err(format!("a silent mis-read: {n} was written, {read:?} read"))
            }
        }
        Err(e) if !mangled => Err(format!("a valid form refused: {e}")),
        Err(e) => {
            let lines = text.lines().count() + 1;
            if e.line > lines {
                return Err(format!("the error names line {} of {lines}: {e}", e.line));
            }
            plain(&e.message)
        }
    }
}

//! The controls, as data: every scenario field with its label, unit, range and help, in the
//! groups the page shows. The page edits the scenario's JSON in place (a control writes what
//! was typed at its path), and validation's errors, which carry the same paths, come back to
//! the controls. Nothing here touches the DOM, so it is tested natively.

use poolsim_scenario::{
    MAX_CORES, MAX_DB_CONNECTIONS, MAX_INSTANCES, MAX_POOL_SIZE, MAX_QUERIES, MAX_RATE_PER_S,
    Metric,
};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A whole number in `min..=max`.
    Int {
        min: u64,
        max: u64,
    },
    /// An optional whole number: empty means "unset" (the field is removed).
    OptInt {
        min: u64,
        max: u64,
    },
    Float {
        min: f64,
        max: f64,
        step: f64,
    },
    /// A duration with its unit: `"250ms"`, `"30s"`, `"0s"`.
    Duration,
    Text,
    Choice(&'static [(&'static str, &'static str)]),
    /// A distribution of durations: its kind and that kind's parameters.
    Dist,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field {
    /// Path relative to the group's base (`faults[2]` for fault fields), e.g. `app.pool.max_size`.
    pub path: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    /// Short help in the terms operators know (HikariCP's names).
    pub help: &'static str,
}

const fn field(path: &'static str, label: &'static str, kind: Kind, help: &'static str) -> Field {
    Field {
        path,
        label,
        kind,
        help,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Group {
    pub id: &'static str,
    pub title: &'static str,
    pub fields: &'static [Field],
}

const D: Kind = Kind::Duration;

pub const LOAD_BALANCERS: &[(&str, &str)] = &[
    ("round_robin", "round robin"),
    ("random", "random"),
    ("least_busy", "least busy"),
];
pub const JITTERS: &[(&str, &str)] = &[
    ("full", "full (0 to delay)"),
    ("equal", "equal (half + up to half)"),
    ("none", "none"),
];
pub const ARRIVAL_KINDS: &[(&str, &str)] = &[
    ("poisson", "Poisson"),
    ("constant", "constant"),
    ("bursty", "bursty on/off"),
    ("piecewise", "rate steps"),
];
pub const DIST_KINDS: &[(&str, &str)] = &[
    ("constant", "constant"),
    ("exponential", "exponential"),
    ("uniform", "uniform"),
    ("lognormal", "log-normal"),
    ("gamma", "gamma"),
    ("pareto", "Pareto"),
    ("empirical", "empirical"),
];
pub const FAULT_KINDS: &[(&str, &str)] = &[
    ("db_outage", "database outage"),
    ("slow_queries", "slow queries"),
    ("traffic_change", "traffic change"),
    ("rolling_restart", "rolling restart"),
    ("reconfigure", "reconfigure pools"),
    ("scale", "scale the fleet"),
    ("connection_leak", "connection leak"),
];

/// The groups of plain fields. Arrivals, distributions, faults and alerts have their own
/// editors (their shape depends on a `kind`), placed in the groups named here.
pub const GROUPS: &[Group] = &[
    Group {
        id: "workload",
        title: "Workload",
        fields: &[
            field(
                "workload.transaction.queries",
                "Queries per request",
                Kind::Int {
                    min: 1,
                    max: MAX_QUERIES as u64,
                },
                "Queries run while the request holds its connection.",
            ),
            field(
                "workload.transaction.query_time",
                "Query time",
                Kind::Dist,
                "Service time of one query on an idle database.",
            ),
            field(
                "workload.transaction.think_time",
                "Think time",
                Kind::Dist,
                "App work between two queries, still holding the connection.",
            ),
        ],
    },
    Group {
        id: "pool",
        title: "App and pool",
        fields: &[
            field(
                "app.instances",
                "Instances",
                Kind::Int {
                    min: 1,
                    max: MAX_INSTANCES as u64,
                },
                "App instances behind the load balancer, each with its own pool.",
            ),
            field(
                "app.load_balancer",
                "Load balancer",
                Kind::Choice(LOAD_BALANCERS),
                "How requests are spread over instances.",
            ),
            field(
                "app.pool.max_size",
                "Pool size",
                Kind::Int {
                    min: 1,
                    max: MAX_POOL_SIZE as u64,
                },
                "maximumPoolSize: connections per instance, idle plus in use plus opening.",
            ),
            field(
                "app.pool.min_idle",
                "Minimum idle",
                Kind::OptInt {
                    min: 0,
                    max: MAX_POOL_SIZE as u64,
                },
                "minimumIdle: idle connections kept open; empty = pool size (a fixed pool).",
            ),
            field(
                "app.pool.connection_timeout",
                "Connection timeout",
                D,
                "connectionTimeout: how long a request waits for a connection before failing.",
            ),
            field(
                "app.pool.idle_timeout",
                "Idle timeout",
                D,
                "idleTimeout: idle connections above minimumIdle close after this.",
            ),
            field(
                "app.pool.max_lifetime",
                "Max lifetime",
                D,
                "maxLifetime: a connection is retired at this age (minus up to 2.5%).",
            ),
            field(
                "app.pool.connect_time",
                "Connect time",
                Kind::Dist,
                "Time to open a connection: TCP, TLS and authentication.",
            ),
            field(
                "app.pool.leak_detection_threshold",
                "Leak detection",
                D,
                "leakDetectionThreshold: report a connection held longer; 0s = off.",
            ),
        ],
    },
    Group {
        id: "database",
        title: "Database",
        fields: &[
            field(
                "database.max_connections",
                "max_connections",
                Kind::Int {
                    min: 1,
                    max: MAX_DB_CONNECTIONS as u64,
                },
                "Server connection slots; openings beyond them get 'too many clients'.",
            ),
            field(
                "database.reserved_connections",
                "Reserved",
                Kind::Int {
                    min: 0,
                    max: MAX_DB_CONNECTIONS as u64 - 1,
                },
                "superuser_reserved_connections: slots apps cannot use.",
            ),
            field(
                "database.cores",
                "Cores",
                Kind::Int {
                    min: 1,
                    max: MAX_CORES as u64,
                },
                "Running queries share these (processor sharing).",
            ),
            field(
                "database.contention.sigma",
                "Contention σ",
                Kind::Float {
                    min: 0.0,
                    max: 1.0,
                    step: 0.001,
                },
                "Universal Scalability Law: serialisation (locks, latches).",
            ),
            field(
                "database.contention.kappa",
                "Coherency κ",
                Kind::Float {
                    min: 0.0,
                    max: 1.0,
                    step: 0.0001,
                },
                "USL crosstalk: above 0, throughput peaks and then falls with concurrency.",
            ),
            field(
                "database.statement_timeout",
                "statement_timeout",
                D,
                "A query running longer is cancelled; 0s = never.",
            ),
            field(
                "database.network_rtt",
                "Network round trip",
                D,
                "Added to every query and every connection opening.",
            ),
        ],
    },
    Group {
        id: "clients",
        title: "Clients and retries",
        fields: &[
            field(
                "app.request_timeout",
                "Request timeout",
                D,
                "The client gives up on an attempt after this; 0s = never.",
            ),
            field(
                "app.retries.max",
                "Retries",
                Kind::Int { min: 0, max: 100 },
                "Extra attempts after a failed one.",
            ),
            field(
                "app.retries.backoff",
                "Backoff",
                D,
                "Delay before the first retry.",
            ),
            field(
                "app.retries.multiplier",
                "Backoff multiplier",
                Kind::Float {
                    min: 1.0,
                    max: 100.0,
                    step: 0.1,
                },
                "Each further retry waits this many times longer.",
            ),
            field(
                "app.retries.max_backoff",
                "Max backoff",
                D,
                "Cap on one delay; 0s = none.",
            ),
            field(
                "app.retries.jitter",
                "Jitter",
                Kind::Choice(JITTERS),
                "Randomness in each delay.",
            ),
        ],
    },
    Group {
        id: "faults",
        title: "Faults and operations",
        fields: &[],
    },
    Group {
        id: "alerts",
        title: "Alerts",
        fields: &[],
    },
    Group {
        id: "run",
        title: "Run",
        fields: &[
            field(
                "name",
                "Name",
                Kind::Text,
                "Shown in the summary and exports.",
            ),
            field(
                "seed",
                "Seed",
                Kind::Int {
                    min: 0,
                    max: u64::MAX,
                },
                "Same scenario and seed, same run, on every machine.",
            ),
            field("duration", "Duration", D, "Simulated time."),
            field(
                "warmup",
                "Warmup",
                D,
                "Requests arriving before this are not measured.",
            ),
            field(
                "bucket",
                "Chart bucket",
                D,
                "Width of one time-series point; 0s = automatic.",
            ),
            field(
                "limits.max_events",
                "Event budget",
                Kind::Int {
                    min: 1,
                    max: u64::MAX,
                },
                "A run estimated to need more events is refused before it starts, naming what drives it; one that still needs more stops with an error.",
            ),
            field(
                "limits.max_in_flight",
                "Max in flight",
                Kind::Int {
                    min: 1,
                    max: u32::MAX as u64,
                },
                "A run with more requests in flight at once stops with an error.",
            ),
        ],
    },
];

/// The parameters of an arrival process of `kind`, after the kind selector.
pub fn arrival_fields(kind: &str) -> &'static [Field] {
    const RATE: Field = field(
        "rate_per_s",
        "Rate",
        Kind::Float {
            min: 0.0,
            max: MAX_RATE_PER_S,
            step: 1.0,
        },
        "Requests per second over the whole fleet.",
    );
    match kind {
        "bursty" => {
            const {
                &[
                    field(
                        "rate_per_s",
                        "Base rate",
                        Kind::Float {
                            min: 0.0,
                            max: MAX_RATE_PER_S,
                            step: 1.0,
                        },
                        "Requests per second between bursts.",
                    ),
                    field(
                        "burst_rate_per_s",
                        "Burst rate",
                        Kind::Float {
                            min: 0.0,
                            max: MAX_RATE_PER_S,
                            step: 1.0,
                        },
                        "Requests per second during a burst.",
                    ),
                    field("on", "Burst length", D, "How long each burst lasts."),
                    field("off", "Gap", D, "Time between bursts."),
                ]
            }
        }
        "piecewise" => const { &[] },
        _ => const { &[RATE] },
    }
}

/// The parameters of a distribution of `kind`.
pub fn dist_fields(kind: &str) -> &'static [Field] {
    match kind {
        "constant" => const { &[field("value", "value", D, "")] },
        "exponential" => const { &[field("mean", "mean", D, "")] },
        "uniform" => const { &[field("min", "min", D, ""), field("max", "max", D, "")] },
        "lognormal" => const { &[field("median", "median", D, ""), field("p99", "p99", D, "")] },
        "gamma" => {
            const {
                &[
                    field("mean", "mean", D, ""),
                    field(
                        "shape",
                        "shape",
                        Kind::Float {
                            min: 0.01,
                            max: 1000.0,
                            step: 0.1,
                        },
                        "",
                    ),
                ]
            }
        }
        "pareto" => {
            const {
                &[
                    field("min", "min", D, ""),
                    field(
                        "alpha",
                        "alpha",
                        Kind::Float {
                            min: 0.01,
                            max: 100.0,
                            step: 0.1,
                        },
                        "",
                    ),
                ]
            }
        }
        _ => const { &[] },
    }
}

/// The fields of a fault or operation of `kind` (reconfigure's pool settings aside).
pub fn fault_fields(kind: &str) -> &'static [Field] {
    const AT: Field = field("at", "At", D, "When it starts.");
    match kind {
        "db_outage" => {
            const {
                &[
                    AT,
                    field(
                        "duration",
                        "Lasts",
                        D,
                        "How long the database is unreachable.",
                    ),
                ]
            }
        }
        "slow_queries" => {
            const {
                &[
                    AT,
                    field("duration", "Lasts", D, "0s = to the end."),
                    field(
                        "factor",
                        "Slower by",
                        Kind::Float {
                            min: 0.01,
                            max: 1000.0,
                            step: 0.1,
                        },
                        "Query times are multiplied by this.",
                    ),
                ]
            }
        }
        "traffic_change" => {
            const {
                &[
                    AT,
                    field(
                        "rate_per_s",
                        "New rate",
                        Kind::Float {
                            min: 0.0,
                            max: MAX_RATE_PER_S,
                            step: 1.0,
                        },
                        "Requests per second from then on.",
                    ),
                ]
            }
        }
        "rolling_restart" => {
            const {
                &[
                    AT,
                    field("down", "Down for", D, "Each batch's restart time."),
                    field(
                        "gap",
                        "Gap",
                        D,
                        "Between one batch coming up and the next going down.",
                    ),
                    field(
                        "batch",
                        "Batch",
                        Kind::Int { min: 1, max: 1000 },
                        "Instances restarted at once (maxUnavailable).",
                    ),
                ]
            }
        }
        "reconfigure" => const { &[AT] },
        "scale" => {
            const {
                &[
                    AT,
                    field(
                        "instances",
                        "Instances",
                        Kind::Int { min: 1, max: 1000 },
                        "The fleet from then on: new instances start with empty pools, \
                         removed ones stop.",
                    ),
                ]
            }
        }
        "connection_leak" => {
            const {
                &[
                    AT,
                    field(
                        "fraction",
                        "Fraction",
                        Kind::Float {
                            min: 0.0,
                            max: 1.0,
                            step: 0.001,
                        },
                        "Share of requests that never return their connection.",
                    ),
                    field("duration", "Lasts", D, "0s = to the end."),
                ]
            }
        }
        _ => const { &[] },
    }
}

/// A piecewise arrival process's rate step (`workload.arrivals.steps[i]`).
pub const STEP_FIELDS: &[Field] = &[
    field("at", "At", D, ""),
    field(
        "rate_per_s",
        "Rate /s",
        Kind::Float {
            min: 0.0,
            max: MAX_RATE_PER_S,
            step: 1.0,
        },
        "",
    ),
];

/// Pool settings a `reconfigure` may change; empty keeps the old value.
pub const PATCH_FIELDS: &[Field] = &[
    field(
        "max_size",
        "Pool size",
        Kind::OptInt {
            min: 1,
            max: MAX_POOL_SIZE as u64,
        },
        "maximumPoolSize",
    ),
    field(
        "min_idle",
        "Minimum idle",
        Kind::OptInt {
            min: 0,
            max: MAX_POOL_SIZE as u64,
        },
        "minimumIdle",
    ),
    field(
        "connection_timeout",
        "Connection timeout",
        Kind::Text,
        "connectionTimeout, e.g. 5s",
    ),
    field("idle_timeout", "Idle timeout", Kind::Text, "idleTimeout"),
    field("max_lifetime", "Max lifetime", Kind::Text, "maxLifetime"),
    field(
        "leak_detection_threshold",
        "Leak detection",
        Kind::Text,
        "leakDetectionThreshold",
    ),
];

pub const MOMENT_KINDS: &[(&str, &str)] = &[
    ("detection", "detection"),
    ("action", "action"),
    ("escalation", "escalation"),
    ("fix", "fix"),
    ("resolution", "resolution"),
    ("note", "note"),
];

/// A timeline moment's fields.
pub const MOMENT_FIELDS: &[Field] = &[
    field("at", "At", D, ""),
    field("kind", "Kind", Kind::Choice(MOMENT_KINDS), ""),
    field(
        "label",
        "Label",
        Kind::Text,
        "A few words, shown on the charts.",
    ),
    field(
        "detail",
        "Caption",
        Kind::Text,
        "What happened and why it matters.",
    ),
];

pub fn new_moment() -> Value {
    json!({"at": "1m", "kind": "note", "label": "note"})
}

pub const ALERT_FIELDS: &[Field] = &[
    field("name", "Name", Kind::Text, ""),
    field("metric", "Metric", Kind::Text, "As dashboards name it."),
    field(
        "above",
        "Above",
        Kind::Float {
            min: -1e12,
            max: 1e12,
            step: 0.01,
        },
        "Threshold.",
    ),
    field("for", "For", D, "How long it must stay above to fire."),
];

/// Alert metrics as their JSON names.
pub fn metric_names() -> Vec<String> {
    Metric::ALL
        .iter()
        .filter_map(|m| serde_json::to_value(m).ok()?.as_str().map(str::to_owned))
        .collect()
}

/// What a control holds, as the JSON to store at its path; `None` removes the field. Text
/// that is not a number stays text, so that validation reports it at the field.
pub fn parse_input(kind: Kind, text: &str) -> Option<Value> {
    let text = text.trim();
    match kind {
        Kind::Int { .. } => Some(
            text.parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(text)),
        ),
        Kind::OptInt { .. } if text.is_empty() => None,
        Kind::OptInt { .. } => Some(
            text.parse::<u64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(text)),
        ),
        Kind::Float { .. } => Some(match text.parse::<f64>() {
            Ok(x) if x.is_finite() => json!(x),
            _ => Value::from(text),
        }),
        Kind::Duration | Kind::Text | Kind::Choice(_) | Kind::Dist => Some(Value::from(text)),
    }
}

/// A field's error as its control words it: a value of the wrong type or out of its type's
/// range ("must be a whole number from 0 to 4,294,967,295, not -3") says the range this
/// control takes instead. Validation's own messages pass as they are.
pub fn field_message(kind: Kind, message: &str) -> String {
    use poolsim_explain::format::{int, num};
    let serde = poolsim_scenario::is_type_error(message);
    match kind {
        Kind::Int { min, max } | Kind::OptInt { min, max } if serde => {
            format!("must be a whole number from {} to {}", int(min), int(max))
        }
        Kind::Float { min, max, .. } if serde => {
            format!("must be a number from {} to {}", num(min), num(max))
        }
        _ => message.to_owned(),
    }
}

/// A control's text for the JSON at its path.
pub fn display(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A distribution of `kind` in place of `old`, keeping its scale: the first duration of the
/// old one becomes the new one's typical value.
pub fn switch_dist(old: &Value, kind: &str) -> Value {
    let typical = ["mean", "median", "value", "min"]
        .iter()
        .find_map(|k| old.get(*k).and_then(Value::as_str))
        .unwrap_or("10ms")
        .to_owned();
    let scaled = |factor: f64| -> String {
        typical
            .parse::<poolsim_scenario::Duration>()
            .map(|d| {
                let us = (d.as_secs_f64() * 1e6 * factor).round();
                format!("{us}us")
                    .parse::<poolsim_scenario::Duration>()
                    .map(|d| d.to_string())
                    .unwrap_or_else(|_| typical.clone())
            })
            .unwrap_or_else(|_| typical.clone())
    };
    match kind {
        "constant" => json!({"kind": "constant", "value": typical}),
        "exponential" => json!({"kind": "exponential", "mean": typical}),
        "uniform" => json!({"kind": "uniform", "min": "0s", "max": scaled(2.0)}),
        "lognormal" => json!({"kind": "lognormal", "median": typical, "p99": scaled(5.0)}),
        "gamma" => json!({"kind": "gamma", "mean": typical, "shape": 2.0}),
        "pareto" => json!({"kind": "pareto", "min": typical, "alpha": 2.5}),
        "empirical" => json!({"kind": "empirical", "values": [typical]}),
        _ => old.clone(),
    }
}

/// An arrival process of `kind` in place of `old`, keeping its rate.
pub fn switch_arrivals(old: &Value, kind: &str) -> Value {
    let rate = old.get("rate_per_s").cloned().unwrap_or(json!(100.0));
    match kind {
        "poisson" | "constant" => json!({"kind": kind, "rate_per_s": rate}),
        "bursty" => json!({"kind": "bursty", "rate_per_s": rate, "burst_rate_per_s": rate,
                           "on": "10s", "off": "50s"}),
        "piecewise" => json!({"kind": "piecewise", "steps": [{"at": "0s", "rate_per_s": rate}]}),
        _ => old.clone(),
    }
}

/// A new fault of `kind` at `at`, with sensible values to edit.
pub fn new_fault(kind: &str, at: &str) -> Value {
    match kind {
        "db_outage" => json!({"kind": kind, "at": at, "duration": "30s"}),
        "slow_queries" => json!({"kind": kind, "at": at, "duration": "1m", "factor": 3.0}),
        "traffic_change" => json!({"kind": kind, "at": at, "rate_per_s": 1000.0}),
        "rolling_restart" => {
            json!({"kind": kind, "at": at, "down": "30s", "gap": "0s", "batch": 1})
        }
        "reconfigure" => json!({"kind": kind, "at": at, "pool": {"max_size": 10},
                                "rolling_restart": {"down": "30s", "gap": "0s", "batch": 1}}),
        "scale" => json!({"kind": kind, "at": at, "instances": 2}),
        _ => json!({"kind": "connection_leak", "at": at, "fraction": 0.001, "duration": "0s"}),
    }
}

pub fn new_alert() -> Value {
    json!({"name": "pool pending", "metric": "hikaricp_connections_pending", "above": 0, "for": "30s"})
}

/// A scenario with every default written out (what the controls show), or the value as it
/// is when it is not a scenario (its errors then show at the fields).
pub fn normalized(value: &Value) -> Value {
    poolsim_scenario::from_value(value.clone())
        .ok()
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or_else(|| value.clone())
}

/// Every path a control in [`GROUPS`] edits, for tests and docs.
pub fn plain_paths() -> impl Iterator<Item = &'static str> {
    GROUPS.iter().flat_map(|g| g.fields.iter().map(|f| f.path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path;

    /// The errors validation gives at `field` when the scenario holds `value` there.
    fn errors_at(base: &Value, field: &str, value: Value) -> Vec<String> {
        let mut s = base.clone();
        assert!(path::set(&mut s, field, Some(value.clone())), "{field}");
        match crate::state::check(&s) {
            Ok(_) => vec![],
            Err(problems) => problems
                .into_iter()
                .filter(|p| p.path == field)
                .map(|p| p.message)
                .collect(),
        }
    }

    /// A control's range is exactly what validation accepts at its field: both ends are
    /// accepted, one step past either end is refused there. (The cores control used to stop
    /// at 4,096 while validation allows 10,000.) The base is small and roomy, so that no
    /// other rule (the work budget, the database's limit) speaks at these fields.
    #[test]
    fn every_numeric_controls_range_is_validations_range() {
        let base = json!({
            "duration": "1s", "warmup": "0s",
            "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 1}},
            "app": {"instances": 1, "pool": {"max_size": 10000}},
            "database": {"max_connections": 1000000, "reserved_connections": 0}
        });
        let mut checked = 0;
        let mut wrong = Vec::new();
        // The main groups' fields, then each fault kind's, at `faults[0]` of its own kind.
        let mut controls: Vec<(Value, String, Field)> = GROUPS
            .iter()
            .flat_map(|g| g.fields.iter())
            .map(|f| (base.clone(), f.path.to_owned(), *f))
            .collect();
        for (kind, _) in FAULT_KINDS {
            let mut with = base.clone();
            with["faults"] = json!([new_fault(kind, "0s")]);
            controls.extend(
                fault_fields(kind)
                    .iter()
                    .map(|f| (with.clone(), format!("faults[0].{}", f.path), *f)),
            );
        }
        for (base, path, f) in &controls {
            let (lo, hi, below, above): (Value, Value, Option<Value>, Value) = match f.kind {
                Kind::Int { min, max } | Kind::OptInt { min, max } => (
                    json!(min),
                    json!(max),
                    min.checked_sub(1).map(Value::from),
                    json!(max.saturating_add(1)),
                ),
                Kind::Float { min, max, .. } => (
                    json!(min),
                    json!(max),
                    Some(json!(min - min.abs().max(1.0) * 1e-3)),
                    json!(max + max.abs().max(1.0) * 1e-3),
                ),
                _ => continue,
            };
            // A seed or a budget is any u64 in range; its top is the type's own.
            let unbounded_top = matches!(f.kind, Kind::Int { max: u64::MAX, .. });
            for (value, ok) in [(lo, true), (hi, true)]
                .into_iter()
                .chain(below.map(|b| (b, false)))
                .chain((!unbounded_top).then_some((above, false)))
            {
                let errors = errors_at(base, path, value.clone());
                if errors.is_empty() != ok {
                    wrong.push(format!("{path} = {value}: {errors:?}"));
                }
            }
            checked += 1;
        }
        assert!(checked >= 18, "{checked} numeric controls");
        assert!(
            wrong.is_empty(),
            "form and validation disagree:\n{}",
            wrong.join("\n")
        );
    }

    /// The messages issue 11 found: "-3", "2.5", "1e12" said "must be a number" and
    /// 4294967296 showed serde's "expected u32".
    #[test]
    fn number_fields_say_what_they_take() {
        let int = Kind::Int {
            min: 1,
            max: 10_000,
        };
        let message_for = |scenario: Value| {
            let error = poolsim_scenario::from_value(scenario).unwrap_err();
            error.fields()[0].message.clone()
        };
        for typed in ["-3", "2.5", "1e12", "4294967296", "five", ""] {
            let value = parse_input(int, typed).expect("a value");
            let message = message_for(json!({"app": {"pool": {"max_size": value}}}));
            assert_eq!(
                field_message(int, &message),
                "must be a whole number from 1 to 10,000",
                "{typed}: {message}"
            );
        }
        let rate = Kind::Float {
            min: 0.0,
            max: 1e6,
            step: 1.0,
        };
        let value = parse_input(rate, "1e400").unwrap();
        let message = message_for(
            json!({"workload": {"arrivals": {"kind": "poisson", "rate_per_s": value}}}),
        );
        assert_eq!(
            field_message(rate, &message),
            "must be a number from 0 to 1,000,000"
        );
        assert_eq!(
            field_message(int, "must be at least 1"),
            "must be at least 1"
        );
    }

    /// Every leaf of a normalized scenario has a control: nothing a scenario file can say is
    /// out of the page's reach.
    #[test]
    fn every_field_of_the_format_has_a_control() {
        let value = normalized(&json!({}));
        let mut leaves = Vec::new();
        collect_leaves(&value, String::new(), &mut leaves);
        let paths: Vec<&str> = plain_paths().collect();
        let dists = [
            "workload.transaction.query_time",
            "workload.transaction.think_time",
            "app.pool.connect_time",
        ];
        let special = [
            "workload.arrivals",
            "faults",
            "alerts",
            "description",
            "timeline",
        ];
        for leaf in leaves {
            let covered = paths.contains(&leaf.as_str())
                || dists.iter().any(|d| leaf.starts_with(d))
                || special.iter().any(|s| leaf.starts_with(s));
            assert!(covered, "no control for {leaf}");
        }
    }

    fn collect_leaves(value: &Value, prefix: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        path::child(&prefix, k)
                    };
                    collect_leaves(v, p, out);
                }
            }
            _ => out.push(prefix),
        }
    }

    #[test]
    fn typed_text_becomes_numbers_or_stays_text_for_validation_to_name() {
        let int = Kind::Int { min: 1, max: 10 };
        assert_eq!(parse_input(int, " 12 "), Some(json!(12)));
        assert_eq!(parse_input(int, "twelve"), Some(json!("twelve")));
        assert_eq!(parse_input(Kind::OptInt { min: 0, max: 9 }, ""), None);
        let float = Kind::Float {
            min: 0.0,
            max: 1.0,
            step: 0.1,
        };
        assert_eq!(parse_input(float, "0.5"), Some(json!(0.5)));
        assert_eq!(parse_input(float, "NaN"), Some(json!("NaN")));

        let mut value = normalized(&json!({}));
        path::set(&mut value, "app.pool.max_size", parse_input(int, "twelve"));
        let err = poolsim_scenario::from_value(value).unwrap_err();
        assert_eq!(err.fields()[0].path, "app.pool.max_size");
    }

    #[test]
    fn switching_a_distribution_keeps_its_scale_and_stays_valid() {
        let old = json!({"kind": "exponential", "mean": "20ms"});
        for (kind, _) in DIST_KINDS {
            let new = switch_dist(&old, kind);
            assert_eq!(new["kind"], json!(kind));
            let mut value = normalized(&json!({}));
            path::set(
                &mut value,
                "workload.transaction.query_time",
                Some(new.clone()),
            );
            let scenario = poolsim_scenario::from_value(value).unwrap();
            scenario
                .validate()
                .unwrap_or_else(|e| panic!("{kind}: {e:?} from {new}"));
        }
        assert_eq!(switch_dist(&old, "lognormal")["p99"], json!("100ms"));
    }

    #[test]
    fn new_faults_alerts_and_arrivals_are_valid() {
        for (kind, _) in FAULT_KINDS {
            let mut value = normalized(&json!({}));
            path::set(&mut value, "faults", Some(json!([new_fault(kind, "1m")])));
            path::set(&mut value, "alerts", Some(json!([new_alert()])));
            let scenario = poolsim_scenario::from_value(value).unwrap();
            scenario
                .validate()
                .unwrap_or_else(|e| panic!("{kind}: {e:?}"));
        }
        for (kind, _) in ARRIVAL_KINDS {
            let mut value = normalized(&json!({}));
            let old = json!({"kind": "poisson", "rate_per_s": 50.0});
            path::set(
                &mut value,
                "workload.arrivals",
                Some(switch_arrivals(&old, kind)),
            );
            let scenario = poolsim_scenario::from_value(value).unwrap();
            scenario
                .validate()
                .unwrap_or_else(|e| panic!("{kind}: {e:?}"));
        }
        assert_eq!(metric_names().len(), Metric::ALL.len());
        assert!(metric_names().contains(&"hikaricp_connections_pending".to_owned()));
    }
}

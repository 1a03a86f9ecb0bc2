//! Configuration review: a service's real pool settings and its database's limits, checked
//! against the traffic and fleet of a scenario, by arithmetic and by simulation.
//!
//! Four situations are simulated: normal load, a traffic spike (twice the rate for two
//! minutes), a database failover (30 s unreachable) and a rolling restart (a quarter of the
//! fleet at a time). The objectives apply to normal load, the spike and the restart; a
//! failover fails requests by nature, so it is reported, not judged.

use poolsim_engine::Summary;
use poolsim_scenario::{Duration, Fault, FieldError, Scenario, ScenarioError};
use serde::{Deserialize, Serialize};

use crate::config_files::FoundConfig;
use crate::{Runner, Slo};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The finding breaks the objectives by itself (a certainty, not a measurement).
    pub risk: bool,
    pub message: String,
    /// The setting to change, and to what.
    pub fix: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SituationResult {
    pub name: String,
    pub judged: bool,
    pub failed_ratio: f64,
    pub wait_p99_ms: f64,
    pub latency_p99_ms: f64,
    pub db_peak_connections: u64,
    pub passes: bool,
    pub missed: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub instances: u32,
    pub max_size: u32,
    pub pool_total: u64,
    pub db_usable_connections: u32,
    pub objectives: Vec<String>,
    /// Where each setting came from.
    pub sources: Vec<String>,
    pub findings: Vec<Finding>,
    pub situations: Vec<SituationResult>,
    /// A risk finding, or a judged situation missing an objective: CI should fail.
    pub breaks_objectives: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("the settings give an invalid scenario:\n{0}")]
    Invalid(ScenarioError),
    #[error("a simulation run stopped: {0}")]
    Run(poolsim_engine::RunError),
}

/// Reviews `found` (the files' settings) on the traffic and fleet of `base` (whose own
/// faults are set aside: the review simulates its four situations).
pub fn review(
    base: &Scenario,
    found: &FoundConfig,
    slos: &[Slo],
    run: &mut Runner<'_>,
) -> Result<Review, ReviewError> {
    let mut scenario = base.clone();
    // The situations are the review's own: the scenario gives traffic, fleet and database.
    scenario.faults.clear();
    let p = &found.pool;
    let pool = &mut scenario.app.pool;
    if let Some(v) = p.max_size {
        pool.max_size = v;
        pool.min_idle = pool.min_idle.map(|m| m.min(v));
    }
    if p.min_idle.is_some() {
        pool.min_idle = p.min_idle;
    }
    for (field, value) in [
        (&mut pool.connection_timeout, p.connection_timeout),
        (&mut pool.idle_timeout, p.idle_timeout),
        (&mut pool.max_lifetime, p.max_lifetime),
        (
            &mut pool.leak_detection_threshold,
            p.leak_detection_threshold,
        ),
    ] {
        if let Some(v) = value {
            *field = v;
        }
    }
    if let Some(v) = found.max_connections {
        scenario.database.max_connections = v;
    }
    if let Some(v) = found.reserved_connections {
        scenario.database.reserved_connections = v;
    }
    let invalid = |errors: Vec<FieldError>| {
        let errors = errors
            .into_iter()
            .map(|e| match found.origins.get(&e.path) {
                Some(origin) => FieldError {
                    path: origin.clone(),
                    message: e.message,
                },
                None => e,
            })
            .collect();
        ReviewError::Invalid(ScenarioError::Invalid(errors))
    };
    let config = scenario.validate().map_err(invalid)?;

    let instances = config.app.instances;
    let max_size = config.pool.max_size;
    let usable = config.db.usable_connections();
    let pool_total = u64::from(instances) * u64::from(max_size);
    let mut findings = Vec::new();
    if pool_total > u64::from(usable) {
        findings.push(Finding {
            risk: true,
            message: format!(
                "the pools ask for {instances} x {max_size} = {pool_total} connections, but the \
                 database allows {usable} (max_connections {} - superuser_reserved_connections {}): \
                 instances that start or restart last can be left with no connection at all",
                config.db.max_connections, config.db.reserved_connections
            ),
            fix: Some(format!(
                "maximumPoolSize = {} or less (usable connections / instances)",
                (usable / instances).max(1)
            )),
        });
    }
    if config.pool.connection_timeout_us == 0 {
        findings.push(Finding {
            risk: false,
            message: "connectionTimeout is 0 (never): a request waits for a connection forever"
                .to_owned(),
            fix: Some("connectionTimeout = 30000 (HikariCP's default) or less".to_owned()),
        });
    }

    // The situations, each starting a third into the run.
    let duration = scenario.duration;
    let at = Duration::from_us(duration.as_us() / 3);
    let rate = poolsim_engine::theory(&config).arrival_rate_per_s;
    let two_minutes = Duration::from_secs(120);
    let situations: [(&str, bool, Vec<Fault>); 4] = [
        ("normal load", true, vec![]),
        (
            "traffic spike (2x for 2m)",
            true,
            vec![
                Fault::TrafficChange {
                    at,
                    rate_per_s: 2.0 * rate,
                },
                Fault::TrafficChange {
                    at: Duration::from_us((at.as_us() + two_minutes.as_us()).min(duration.as_us())),
                    rate_per_s: rate,
                },
            ],
        ),
        (
            "database failover (30s)",
            false,
            vec![Fault::DbOutage {
                at,
                duration: Duration::from_secs(30),
            }],
        ),
        (
            "rolling restart (1/4 of the fleet at a time)",
            true,
            vec![Fault::RollingRestart {
                at,
                down: Duration::from_secs(30),
                gap: Duration::from_secs(10),
                batch: instances.div_ceil(4),
            }],
        ),
    ];
    let mut configs = Vec::new();
    for (_, _, faults) in &situations {
        let mut s = scenario.clone();
        s.faults.extend(faults.iter().cloned());
        configs.push(s.validate().map_err(invalid)?);
    }
    let summaries = run(&configs).map_err(ReviewError::Run)?;
    let results: Vec<SituationResult> = situations
        .iter()
        .zip(&summaries)
        .map(|((name, judged, _), s)| situation(name, *judged, s, slos))
        .collect();
    let breaks_objectives =
        findings.iter().any(|f| f.risk) || results.iter().any(|r| r.judged && !r.passes);
    Ok(Review {
        instances,
        max_size,
        pool_total,
        db_usable_connections: usable,
        objectives: slos.iter().map(Slo::to_string).collect(),
        sources: found.sources.clone(),
        findings,
        situations: results,
        breaks_objectives,
    })
}

fn situation(name: &str, judged: bool, s: &Summary, slos: &[Slo]) -> SituationResult {
    let missed: Vec<String> = slos
        .iter()
        .filter(|slo| !slo.met(s))
        .map(|slo| format!("{slo} was {}", slo.show(slo.value(s))))
        .collect();
    SituationResult {
        name: name.to_owned(),
        judged,
        failed_ratio: crate::failed_ratio(s),
        wait_p99_ms: s.pool_wait_ms.p99,
        latency_p99_ms: s.latency_ms.p99,
        db_peak_connections: s.db.peak_connections,
        passes: missed.is_empty(),
        missed,
    }
}

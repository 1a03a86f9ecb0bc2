//! Training exercises: a trainee takes over a recorded incident at a moment with one change
//! (pool size, connection timeout, instance count, a rolling restart), and the run's outcome
//! (what failed, when failures started, when they stopped) is compared with the record's.
//!
//! The run up to the moment is the record itself: the same seed and the same events, so the
//! two diverge only where the change acts. From the moment on, the record's own operations
//! (`reconfigure`, `scale`, `rolling_restart`: what responders did) are replaced by the
//! trainee's change; what the world did (`db_outage`, `slow_queries`, `traffic_change`,
//! `connection_leak`) still happens.

use poolsim_engine::Series;
use poolsim_scenario::{Duration, Fault, Moment, MomentKind, PoolPatch, Restart, Scenario};
use serde::{Deserialize, Serialize};

/// A bucket fails when more than this share of the requests finished in it failed.
pub const FAILING_ABOVE: f64 = 0.01;

/// A run has recovered when it stays healthy this long after its last failing bucket; a
/// shorter healthy end is too little to tell.
pub const SETTLED_S: f64 = 60.0;

/// The trainee's change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// `max_size` of every pool.
    PoolSize { max_size: u32 },
    /// `connection_timeout` of every pool.
    ConnectionTimeout { timeout: Duration },
    /// The fleet grows or shrinks to this many instances.
    Instances { instances: u32 },
    /// Restart every instance, a batch at a time, with the settings unchanged.
    RollingRestart,
}

/// A change at a moment. Pool changes apply live unless `roll_out`, in which case each
/// instance takes them as `restart` restarts it (how the record's fix was rolled out).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exercise {
    pub at: Duration,
    pub change: Change,
    pub roll_out: bool,
    pub restart: Restart,
}

impl Change {
    /// What the change does, in a few words: "pools of 40", "8 instances".
    pub fn describe(&self) -> String {
        match self {
            Change::PoolSize { max_size } => format!("pools of {max_size}"),
            Change::ConnectionTimeout { timeout } => {
                format!("connection timeout {}", timeout.terms())
            }
            Change::Instances { instances } => format!("{instances} instances"),
            Change::RollingRestart => "a rolling restart".to_owned(),
        }
    }
}

impl Exercise {
    /// "pools of 40, rolled out 4 at a time at 12m".
    pub fn describe(&self) -> String {
        let how = match (&self.change, self.roll_out) {
            (Change::PoolSize { .. } | Change::ConnectionTimeout { .. }, true) => {
                format!(", rolled out {} at a time", self.restart.batch)
            }
            (Change::PoolSize { .. } | Change::ConnectionTimeout { .. }, false) => {
                ", applied live".to_owned()
            }
            (Change::RollingRestart, _) => format!(", {} at a time", self.restart.batch),
            (Change::Instances { .. }, _) => String::new(),
        };
        format!("{}{how} at {}", self.change.describe(), self.at.terms())
    }

    /// The recorded scenario with this exercise in place of the record's operations from
    /// `at` on. Before `at` it is the record: same faults, same moments, same seed. The
    /// record's moments from `at` on are left out (they narrate what the record did); one
    /// moment marks the change.
    pub fn apply(&self, record: &Scenario) -> Scenario {
        let mut s = record.clone();
        s.name = format!("{} (exercise: {})", record.name, self.describe());
        s.faults.retain(|f| !replaced_by(f, self.at));
        let reconfigure = |pool: PoolPatch| Fault::Reconfigure {
            at: self.at,
            pool,
            rolling_restart: self.roll_out.then(|| self.restart.clone()),
        };
        s.faults.push(match &self.change {
            Change::PoolSize { max_size } => reconfigure(PoolPatch {
                max_size: Some(*max_size),
                ..PoolPatch::default()
            }),
            Change::ConnectionTimeout { timeout } => reconfigure(PoolPatch {
                connection_timeout: Some(*timeout),
                ..PoolPatch::default()
            }),
            Change::Instances { instances } => Fault::Scale {
                at: self.at,
                instances: *instances,
            },
            Change::RollingRestart => Fault::RollingRestart {
                at: self.at,
                down: self.restart.down,
                gap: self.restart.gap,
                batch: self.restart.batch,
            },
        });
        s.timeline.moments.retain(|m| m.at < self.at);
        s.timeline.moments.push(Moment {
            at: self.at,
            // The trainee's attempted fix: the after-action report lists it under "what fixed it".
            kind: MomentKind::Fix,
            label: format!("you: {}", self.change.describe()),
            detail: format!("The trainee's change: {}.", self.describe()),
        });
        s
    }
}

/// The record's operations from `at` on: what an exercise at `at` replaces.
pub fn replaced(record: &Scenario, at: Duration) -> Vec<&Fault> {
    record
        .faults
        .iter()
        .filter(|f| replaced_by(f, at))
        .collect()
}

fn replaced_by(fault: &Fault, at: Duration) -> bool {
    fault.is_operation() && fault.at() >= at
}

/// An operation in words: "reconfigure at 22m: max_size 40, rolled out 4 at a time",
/// "rolling restart at 8m, 1 at a time", "scale to 8 instances at 12m"; `None` for the
/// world's faults.
pub fn describe_operation(f: &Fault) -> Option<String> {
    Some(match f {
        Fault::Reconfigure {
            at,
            pool,
            rolling_restart,
        } => {
            let terms = |d: Option<Duration>| d.map(Duration::terms);
            let changes: Vec<String> = [
                ("max_size", pool.max_size.map(|v| v.to_string())),
                ("min_idle", pool.min_idle.map(|v| v.to_string())),
                ("connection_timeout", terms(pool.connection_timeout)),
                ("idle_timeout", terms(pool.idle_timeout)),
                ("max_lifetime", terms(pool.max_lifetime)),
                (
                    "connect_time",
                    pool.connect_time.as_ref().map(|_| "changed".to_owned()),
                ),
                (
                    "leak_detection_threshold",
                    terms(pool.leak_detection_threshold),
                ),
            ]
            .into_iter()
            .filter_map(|(name, v)| Some(format!("{name} {}", v?)))
            .collect();
            let how = rolling_restart
                .as_ref()
                .map_or(", applied live".to_owned(), |r| {
                    format!(", rolled out {} at a time", r.batch)
                });
            format!("reconfigure at {}: {}{how}", at.terms(), changes.join(", "))
        }
        Fault::RollingRestart { at, batch, .. } => {
            format!("rolling restart at {}, {batch} at a time", at.terms())
        }
        Fault::Scale { at, instances } => {
            format!("scale to {instances} instances at {}", at.terms())
        }
        _ => return None,
    })
}

/// The restart the record uses (its last rolling restart, its own or a reconfigure's), or
/// one instance at a time, 30 s each, if it has none.
pub fn recorded_restart(record: &Scenario) -> Restart {
    let mut faults: Vec<&Fault> = record.faults.iter().collect();
    faults.sort_by_key(|f| f.at());
    faults
        .iter()
        .rev()
        .find_map(|f| match f {
            Fault::RollingRestart {
                down, gap, batch, ..
            } => Some(Restart {
                down: *down,
                gap: *gap,
                batch: *batch,
            }),
            Fault::Reconfigure {
                rolling_restart, ..
            } => rolling_restart.clone(),
            _ => None,
        })
        .unwrap_or(Restart {
            down: Duration::from_secs(30),
            gap: Duration::ZERO,
            batch: 1,
        })
}

/// How a run went, from its time series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Requests that finished (succeeded or failed), and those that failed.
    pub finished: u64,
    pub failed: u64,
    /// The same, counted from `from_s` on (the exercise's moment).
    pub finished_after: u64,
    pub failed_after: u64,
    /// Start of the first bucket where more than [`FAILING_ABOVE`] of requests failed.
    pub onset_s: Option<f64>,
    /// End of the last such bucket, if the run goes on healthy after it for at least
    /// [`SETTLED_S`]: recovery.
    pub recovered_s: Option<f64>,
}

impl Outcome {
    pub fn failed_share(&self) -> f64 {
        share(self.failed, self.finished)
    }
    pub fn failed_share_after(&self) -> f64 {
        share(self.failed_after, self.finished_after)
    }
    /// From the first failing bucket to recovery.
    pub fn time_to_recovery_s(&self) -> Option<f64> {
        Some(self.recovered_s? - self.onset_s?)
    }
    /// Failures stopped before the end of the run (or never started).
    pub fn recovered(&self) -> bool {
        self.onset_s.is_none() || self.recovered_s.is_some()
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The outcome of a run of `duration_s`, counting "after" from the bucket that holds `from_s`.
pub fn outcome(series: &Series, duration_s: f64, from_s: f64) -> Outcome {
    let width = series.bucket_s.max(1e-9);
    let mut o = Outcome::default();
    let mut last_failing = None;
    for i in 0..series.len() {
        let failed = u64::from(series.failed(i));
        let finished = failed + u64::from(series.succeeded.get(i).copied().unwrap_or(0));
        o.failed += failed;
        o.finished += finished;
        if (i + 1) as f64 * width > from_s + 1e-9 {
            o.failed_after += failed;
            o.finished_after += finished;
        }
        if failed as f64 > FAILING_ABOVE * finished as f64 {
            o.onset_s.get_or_insert(i as f64 * width);
            last_failing = Some(i);
        }
    }
    o.recovered_s = last_failing
        .map(|i| ((i + 1) as f64 * width).min(duration_s))
        .filter(|&t| duration_s - t >= SETTLED_S - 1e-9);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(succeeded: &[u32], failed: &[u32]) -> Series {
        let mut s = Series {
            bucket_s: 30.0,
            arrivals: vec![0; succeeded.len()],
            succeeded: succeeded.to_vec(),
            ..Series::default()
        };
        s.failed[poolsim_engine::Cause::DbRefused] = failed.to_vec();
        s
    }

    #[test]
    fn onset_and_recovery_are_the_first_and_after_the_last_failing_bucket() {
        // Bucket 2 fails 1 in 100 (not above 1%), 3 and 5 fail, 6 and 7 are healthy.
        let s = series(
            &[100, 100, 99, 50, 100, 60, 100, 100],
            &[0, 0, 1, 50, 0, 40, 0, 0],
        );
        let o = outcome(&s, 240.0, 120.0);
        assert_eq!(o.onset_s, Some(90.0));
        assert_eq!(o.recovered_s, Some(180.0));
        assert_eq!(o.time_to_recovery_s(), Some(90.0));
        assert_eq!((o.failed, o.finished), (91, 800));
        // From 120 s: buckets 4 to 7 (the bucket holding 120 s starts there).
        assert_eq!((o.failed_after, o.finished_after), (40, 400));
        assert!(o.recovered());
    }

    #[test]
    fn failing_to_the_end_is_not_recovered_and_healthy_has_no_onset() {
        let o = outcome(&series(&[100, 50], &[0, 50]), 60.0, 0.0);
        assert_eq!((o.onset_s, o.recovered_s), (Some(30.0), None));
        assert!(!o.recovered());
        // Healthy for less than a minute at the end: too soon to call it recovered.
        let o = outcome(&series(&[100, 50, 100], &[0, 50, 0]), 90.0, 0.0);
        assert_eq!(o.recovered_s, None);
        // The last bucket may be short: a run of 85 s has 25 s after the failing bucket.
        let o = outcome(&series(&[100, 50, 100, 100], &[0, 50, 0, 0]), 85.0, 0.0);
        assert_eq!(o.recovered_s, None);
        let o = outcome(&series(&[100, 100], &[0, 0]), 60.0, 0.0);
        assert_eq!(
            (o.onset_s, o.recovered_s, o.failed_share()),
            (None, None, 0.0)
        );
        assert!(o.recovered());
    }

    fn record() -> Scenario {
        poolsim_scenario::parse(
            r#"{"duration": "30m", "faults": [
                {"kind": "rolling_restart", "at": "3m", "down": "40s", "gap": "20s", "batch": 4},
                {"kind": "slow_queries", "at": "20m", "duration": "1m", "factor": 2},
                {"kind": "reconfigure", "at": "22m", "pool": {"max_size": 40}},
                {"kind": "scale", "at": "25m", "instances": 3}],
              "timeline": {"moments": [
                {"at": "7m", "kind": "detection", "label": "alert"},
                {"at": "22m", "kind": "fix", "label": "pools cut"}]}}"#,
        )
        .unwrap()
    }

    #[test]
    fn an_exercise_replaces_the_operations_from_its_moment_and_keeps_the_world() {
        let record = record();
        let restart = recorded_restart(&record);
        assert_eq!(restart.batch, 4);
        let ex = Exercise {
            at: Duration::from_secs(12 * 60),
            change: Change::Instances { instances: 8 },
            roll_out: false,
            restart,
        };
        assert_eq!(replaced(&record, ex.at).len(), 2);
        let s = ex.apply(&record);
        let kinds: Vec<String> = s
            .faults
            .iter()
            .map(|f| {
                format!("{f:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(kinds, ["RollingRestart", "SlowQueries", "Scale"]);
        let labels: Vec<&str> = s
            .timeline
            .moments
            .iter()
            .map(|m| m.label.as_str())
            .collect();
        assert_eq!(labels, ["alert", "you: 8 instances"]);
        assert_eq!(ex.describe(), "8 instances at 12m");
        // It validates: the change is a scenario like any other.
        s.validate().unwrap();
    }
}

//! Training exercises on the outage replay: the trainee's run is the record up to the chosen
//! moment, and from there the change decides the outcome, as the postmortem would predict.

use poolsim_advisor::exercise::{Change, Exercise, Outcome, outcome, recorded_restart};
use poolsim_engine::{Cause, Report};
use poolsim_scenario::{Duration, Scenario};
use poolsim_tests::{fixture, run};

const MOMENT_S: u64 = 12 * 60;

fn record() -> Scenario {
    poolsim_scenario::parse(&fixture("outage-replay")).unwrap()
}

fn play(record: &Scenario, change: Change, roll_out: bool) -> (Report, Outcome) {
    let ex = Exercise {
        at: Duration::from_secs(MOMENT_S),
        change,
        roll_out,
        restart: recorded_restart(record),
    };
    let config = ex
        .apply(record)
        .validate()
        .unwrap_or_else(|e| panic!("{e:?}"));
    let report = run(&config);
    let o = outcome(&report.series, report.summary.duration_s, MOMENT_S as f64);
    (report, o)
}

#[test]
fn an_exercise_is_the_record_until_its_moment_and_then_the_change_decides() {
    let record = record();
    let recorded = run(&record.validate().unwrap());
    let rec = outcome(
        &recorded.series,
        recorded.summary.duration_s,
        MOMENT_S as f64,
    );
    // The record: failures from the deploy's last batch (about 6 min in) until the fix at
    // 22m has rolled out; about a quarter of all requests.
    let onset = rec.onset_s.unwrap();
    assert!((300.0..420.0).contains(&onset), "onset {onset}");
    let recovered = rec.recovered_s.unwrap();
    assert!(
        (22.0 * 60.0..25.0 * 60.0).contains(&recovered),
        "recovered {recovered}"
    );

    // The trainee cuts the pools to 40 ten minutes earlier, rolled out the same way.
    let (report, cut) = play(&record, Change::PoolSize { max_size: 40 }, true);
    // Up to the moment, the same run, bucket for bucket.
    let k = (MOMENT_S as f64 / recorded.series.bucket_s) as usize;
    let s = (&recorded.series, &report.series);
    assert_eq!(s.0.succeeded[..k], s.1.succeeded[..k]);
    assert_eq!(
        s.0.failed[Cause::DbRefused][..k],
        s.1.failed[Cause::DbRefused][..k]
    );
    assert_eq!(s.0.pool_total.mean[..k], s.1.pool_total.mean[..k]);
    assert_eq!(s.0.db_cpu[..k], s.1.db_cpu[..k]);
    assert_ne!(
        s.0.failed[Cause::DbRefused][k..],
        s.1.failed[Cause::DbRefused][k..]
    );
    // Then it recovers ten minutes sooner and fails well under half as many requests.
    let sooner = rec.time_to_recovery_s().unwrap() - cut.time_to_recovery_s().unwrap();
    assert!(
        (540.0..660.0).contains(&sooner),
        "recovered {sooner}s sooner"
    );
    assert!(
        (cut.failed as f64) < 0.5 * rec.failed as f64,
        "{} vs {} failed",
        cut.failed,
        rec.failed
    );
}

/// The wrong fixes fail, for the reasons a responder would need to see: a restart lets the
/// pools race for the same 497 connections again, more instances ask for even more, and a
/// shorter connection timeout only fails the same requests sooner.
#[test]
fn restarting_adding_instances_or_shorter_timeouts_do_not_end_the_outage() {
    let record = record();
    let (_, restart) = play(&record, Change::RollingRestart, false);
    assert!(!restart.recovered(), "{restart:?}");
    assert!(restart.failed_share_after() > 0.2, "{restart:?}");

    let (more, grown) = play(&record, Change::Instances { instances: 14 }, false);
    assert!(!grown.recovered(), "{grown:?}");
    assert!(grown.failed_share_after() > 0.25, "{grown:?}");
    // The new instances start, and starve like the last batch of the deploy.
    let new: u64 = more.summary.instances[12..].iter().map(|i| i.failed).sum();
    assert!(new > 0);

    let timeout = Change::ConnectionTimeout {
        timeout: Duration::from_secs(2),
    };
    let (_, shorter) = play(&record, timeout, false);
    assert!(!shorter.recovered(), "{shorter:?}");

    // Taking the four starved instances out of the fleet does end it.
    let (_, fewer) = play(&record, Change::Instances { instances: 8 }, false);
    assert!(fewer.recovered(), "{fewer:?}");
    assert!(fewer.recovered_s.unwrap() < 13.0 * 60.0, "{fewer:?}");
}

/// On the metastable retry storm, capacity does not help: twice the instances or a rolling
/// restart at 5m leave it collapsed; a connection timeout below the client's 1 s ends it.
#[test]
fn the_retry_storm_yields_only_to_a_connection_timeout_below_the_clients() {
    let record = poolsim_scenario::parse(&fixture("retry-storm")).unwrap();
    let at = Duration::from_secs(300);
    let play = |change: Change| {
        let ex = Exercise {
            at,
            change,
            roll_out: false,
            restart: recorded_restart(&record),
        };
        let report = run(&ex.apply(&record).validate().unwrap());
        outcome(&report.series, report.summary.duration_s, 300.0)
    };
    assert!(!play(Change::Instances { instances: 4 }).recovered());
    assert!(!play(Change::RollingRestart).recovered());
    let fixed = play(Change::ConnectionTimeout {
        timeout: Duration::from_ms(250),
    });
    let recovered = fixed.recovered_s.expect("recovers");
    assert!(recovered < 320.0, "{fixed:?}");
}

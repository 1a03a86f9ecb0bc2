//! The example scenarios: each loads, runs, and tells the story its description claims.

use poolsim_engine::Cause;
use poolsim_scenario::{MomentKind, Scenario};
use poolsim_tests::{config, fixture, run};

/// When the first moment of `kind` in the scenario's timeline happens, seconds.
fn moment_s(scenario: &Scenario, kind: MomentKind) -> f64 {
    let m = scenario.timeline.moments.iter().find(|m| m.kind == kind);
    m.unwrap_or_else(|| panic!("no {kind:?} moment"))
        .at
        .as_secs_f64()
}

#[test]
fn every_fixture_loads_and_runs_deterministically() {
    for name in [
        "default",
        "design-example",
        "mmc",
        "outage",
        "outage-fix",
        "outage-replay",
        "retry-storm",
        "faults",
        "failover",
        "rolling-restart",
        "leak",
        "slow-queries",
    ] {
        let c = config(&fixture(name));
        let a = run(&c);
        let r = &a.summary.requests;
        assert_eq!(r.arrived, r.succeeded + r.failed + r.in_flight, "{name}");
        if name != "mmc" {
            assert_eq!(
                run(&c).summary.digest,
                a.summary.digest,
                "{name} is not deterministic"
            );
        }
    }
}

#[test]
fn the_healthy_baseline_is_healthy() {
    let s = run(&config(&fixture("default"))).summary;
    assert_eq!(s.requests.failed, 0);
    assert!(!s.theory.oversubscribed);
    assert!(
        s.pool_wait_ms.p99 < 5.0,
        "p99 wait {} ms",
        s.pool_wait_ms.p99
    );
    assert!(s.alerts.iter().all(|a| a.fired_at_s.is_none()));
}

#[test]
fn the_outage_starves_the_last_instances_while_the_database_idles() {
    let report = run(&config(&fixture("outage")));
    let s = &report.summary;
    assert!(s.theory.oversubscribed);
    assert_eq!(s.db.peak_connections, s.db.usable_connections);
    // The last batch restarted (instances 8..12) can open no connection: their requests fail
    // on refused openings; the others fail nothing.
    for i in &s.instances {
        let share = i.failed as f64 / (i.failed + i.succeeded) as f64;
        if i.instance >= 8 {
            assert!(share > 0.75, "instance {} failed only {share}", i.instance);
        } else {
            assert!(share < 0.001, "instance {} failed {share}", i.instance);
        }
    }
    let failed = s.requests.failed as f64 / s.requests.arrived as f64;
    assert!((0.2..0.35).contains(&failed), "failed share {failed}");
    assert!(s.requests.failures[Cause::DbRefused] as f64 > 0.99 * s.requests.failed as f64);
    // The signals responders looked at stay flat: database CPU low, network constant.
    assert!(
        s.db.cpu_utilization < 0.3,
        "db cpu {}",
        s.db.cpu_utilization
    );
    // Once the deploy is over (3m + 3 batches of 1m), the database stays quiet while a third
    // of requests fail. (During the deploy, returning pools flush their queued requests and
    // the CPU spikes for a second or two: the DB CPU alert, which needs 2m, does not fire.)
    let after_deploy = (7.0 * 60.0 / report.series.bucket_s) as usize;
    let peak_cpu = report.series.db_cpu[after_deploy..]
        .iter()
        .fold(0.0f32, |a, &c| a.max(c));
    assert!(peak_cpu < 0.5, "db cpu peaked at {peak_cpu}");
    let fired = |name: &str| s.alerts.iter().find(|a| a.name == name).unwrap().fired_at_s;
    assert!(fired("connection failures").is_some());
    assert!(fired("database CPU high").is_none());
}

#[test]
fn the_fix_ends_the_outage() {
    let report = run(&config(&fixture("outage-fix")));
    let s = &report.summary;
    let alert = s
        .alerts
        .iter()
        .find(|a| a.name == "connection failures")
        .unwrap();
    assert!(alert.fired_at_s.is_some());
    let cleared = alert
        .cleared_at_s
        .expect("the failure alert clears after the fix");
    assert!((900.0..1_200.0).contains(&cleared), "cleared at {cleared}s");
    // After the rollout (15m + 3 batches x 1m), nothing fails.
    let bucket = report.series.bucket_s;
    let from = (19.0 * 60.0 / bucket) as usize;
    let failed_after: u32 = report.series.failed[Cause::DbRefused][from..].iter().sum();
    assert_eq!(failed_after, 0);
}

/// Metastable: after the slow minute ends (3m), the load that was healthy before it no longer
/// recovers on its own. Retries and abandoned attempts keep the pools busy serving clients
/// that have left; the same load without the trigger is healthy throughout; a rolling restart
/// does not help; the recorded fix (a connection timeout below the client's) ends it.
#[test]
fn the_retry_storm_is_metastable() {
    use poolsim_scenario::Fault;
    let record = poolsim_scenario::parse(&fixture("retry-storm")).unwrap();
    let play = |keep: &dyn Fn(&Fault) -> bool| {
        let mut s = record.clone();
        s.faults.retain(|f| keep(f));
        run(&s.validate().unwrap())
    };
    let as_recorded = play(&|_| true);
    let untreated = play(&|f| matches!(f, Fault::SlowQueries { .. }));
    let untriggered = play(&|_| false);
    // Per second over [from, to) minutes: (arrivals, successes, failures, retries).
    let rates = |r: &poolsim_engine::Report, from: f64, to: f64| {
        let s = &r.series;
        let w = (from * 60.0 / s.bucket_s) as usize..(to * 60.0 / s.bucket_s) as usize;
        let secs = (to - from) * 60.0;
        let sum = |f: &dyn Fn(usize) -> u32| w.clone().map(|i| f64::from(f(i))).sum::<f64>() / secs;
        (
            sum(&|i| s.arrivals[i]),
            sum(&|i| s.succeeded[i]),
            sum(&|i| s.failed(i)),
            sum(&|i| s.retries[i]),
        )
    };

    // Before the trigger, 400 requests/s all succeed.
    let (arrived, ok, failed, _) = rates(&as_recorded, 0.0, 2.0);
    assert!((385.0..415.0).contains(&arrived) && ok > 0.99 * arrived && failed == 0.0);
    // Untreated, from the end of the trigger to the end of the run (12 minutes), the same
    // load arrives and almost nothing succeeds: each request is tried 4 times and fails.
    for minute in 3..15 {
        let m = f64::from(minute);
        let (arrived, ok, failed, retries) = rates(&untreated, m, m + 1.0);
        assert!(
            (380.0..420.0).contains(&arrived),
            "minute {minute}: {arrived}/s"
        );
        assert!(ok < 0.02 * arrived, "minute {minute}: {ok}/s succeed");
        assert!(failed > 0.95 * arrived, "minute {minute}: {failed}/s fail");
        assert!(
            retries > 2.8 * arrived,
            "minute {minute}: {retries} retries/s"
        );
    }
    // Without the trigger the same load is healthy all along: the collapse is a state.
    let (arrived, ok, failed, _) = rates(&untriggered, 0.0, 15.0);
    assert!(ok > 0.99 * arrived && failed == 0.0, "{ok} of {arrived}");
    // The record: the rolling restart at 8m does not bring it back; the fix at 10m does.
    let (arrived, ok, _, _) = rates(&as_recorded, 8.0, 10.0);
    assert!(ok < 0.05 * arrived, "after the restart {ok} of {arrived}/s");
    let (arrived, ok, failed, _) = rates(&as_recorded, 11.0, 15.0);
    assert!(
        ok > 0.99 * arrived && failed == 0.0,
        "after the fix {ok} of {arrived}/s"
    );
    assert!(as_recorded.summary.requests.abandoned_attempts > 100_000);
    // The narrative's times are the simulation's: detection is the pending alert firing,
    // resolution is when failures stop.
    let moment = |kind| moment_s(&record, kind);
    let pending = as_recorded
        .summary
        .alerts
        .iter()
        .find(|a| a.name.starts_with("pool"));
    let fired = pending.unwrap().fired_at_s.unwrap();
    assert!((moment(MomentKind::Detection) - fired).abs() < 1.0);
    let o = poolsim_advisor::exercise::outcome(
        &as_recorded.series,
        as_recorded.summary.duration_s,
        0.0,
    );
    let resolution = moment(MomentKind::Resolution);
    assert!((o.recovered_s.unwrap() - resolution).abs() < 5.0, "{o:?}");
}

#[test]
fn the_distributions_agree_with_the_summary() {
    let report = run(&config(&fixture("default")));
    let s = &report.summary;
    let d = &report.distributions;
    let total = |bins: &[poolsim_engine::Bin]| bins.iter().map(|b| b.count).sum::<u64>();
    assert_eq!(total(&d.latency), s.latency_ms.count);
    assert_eq!(total(&d.pool_wait), s.pool_wait_ms.count);
    // The p99 read off the bins falls in the bin that holds the summary's p99.
    let rank = (0.99 * s.latency_ms.count as f64).ceil() as u64;
    let mut seen = 0;
    let bin = d
        .latency
        .iter()
        .find(|b| {
            seen += b.count;
            seen >= rank
        })
        .unwrap();
    assert!(
        bin.low_ms <= s.latency_ms.p99 && s.latency_ms.p99 <= bin.high_ms + 0.001,
        "p99 {} outside its bin {bin:?}",
        s.latency_ms.p99
    );
    assert!(d.latency.len() < 400, "{} bins", d.latency.len());
}

#[test]
fn overlapping_restarts_bring_an_instance_back_once_with_the_newest_settings() {
    let report = run(&config(&fixture("overlapping-restarts")));
    // From 40 s on, both instances run the reconfigured pool of one connection.
    let from = (40.0 / report.series.bucket_s) as usize;
    for (i, instance) in report.series.instances.iter().enumerate() {
        let most = instance.total[from..].iter().fold(0.0f32, |a, &b| a.max(b));
        assert!(
            most <= 1.0,
            "instance {i} holds {most} connections after the reconfigure"
        );
    }
}

/// A newer change wins over an older roll-out still under way: pools of 4 rolled out one
/// instance at a time from 1m (instance 2 restarts at 1m20s), pools of 8 applied live at
/// 1m10s. Instance 2 must come back with 8, not with the older 4.
#[test]
fn a_slower_older_rollout_does_not_undo_a_newer_change() {
    let c = config(
        r#"{"seed": 5, "duration": "3m", "bucket": "5s",
            "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 2000},
                         "transaction": {"query_time": {"kind": "constant", "value": "10ms"}}},
            "app": {"instances": 2, "pool": {"max_size": 6, "connection_timeout": "100ms"}},
            "database": {"max_connections": 100, "cores": 64},
            "faults": [{"kind": "reconfigure", "at": "1m", "pool": {"max_size": 4},
                        "rolling_restart": {"down": "10s", "gap": "10s", "batch": 1}},
                       {"kind": "reconfigure", "at": "1m10s", "pool": {"max_size": 8}}]}"#,
    );
    let report = run(&c);
    let s = &report.series;
    // Overloaded (2,000 req/s of 10 ms queries on 12 to 16 connections): pools stay full.
    let from = (120.0 / s.bucket_s) as usize;
    for (i, inst) in s.instances.iter().enumerate() {
        let least = inst.total[from..].iter().fold(f32::MAX, |a, &b| a.min(b));
        assert!(
            least > 7.5,
            "instance {i} holds {least} after 2m: not the newest pool of 8"
        );
    }
}

/// The replay tells its story from the simulation itself: a third of requests fail while the
/// pools over-ask the database, all on the instances that could not open connections, the
/// database stays quiet, and the fix ends it. Its narrated detection is the alert's firing.
#[test]
fn the_outage_replay_reproduces_its_story() {
    let c = config(&fixture("outage-replay"));
    let report = run(&c);
    let (s, series) = (&report.summary, &report.series);
    let bucket = series.bucket_s;
    let window = |from_min: f64, to_min: f64| {
        (from_min * 60.0 / bucket) as usize..(to_min * 60.0 / bucket) as usize
    };
    let failed_in = |w: std::ops::Range<usize>| -> (u64, u64) {
        w.map(|i| {
            let failed = series.failed(i);
            (u64::from(failed), u64::from(failed + series.succeeded[i]))
        })
        .fold((0, 0), |(a, b), (f, t)| (a + f, b + t))
    };

    // Between detection and the fix, about a third of requests fail ("~30% of users").
    let (failed, finished) = failed_in(window(8.0, 22.0));
    let share = failed as f64 / finished as f64;
    assert!(
        (0.28..0.38).contains(&share),
        "failure share during the incident {share}"
    );
    // All on the four instances restarted last, refused by a full database.
    let starved: u64 = s
        .instances
        .iter()
        .filter(|i| i.instance >= 8)
        .map(|i| i.failed)
        .sum();
    assert!(starved as f64 > 0.99 * s.requests.failed as f64);
    assert!(s.requests.failures[Cause::DbRefused] as f64 > 0.99 * s.requests.failed as f64);
    // The misleading signals stay flat: database CPU low through the incident (the network
    // round trip is a constant of the scenario: no fault changes it).
    let cpu = &series.db_cpu[window(8.0, 22.0)];
    let mean_cpu = cpu.iter().map(|&c| f64::from(c)).sum::<f64>() / cpu.len() as f64;
    assert!(mean_cpu < 0.3, "database CPU {mean_cpu}");
    // After the fix is rolled out, nothing fails.
    assert_eq!(failed_in(window(24.0, 35.0)).0, 0);

    // The narrated detection is the simulated alert firing, within a second.
    let alert = s
        .alerts
        .iter()
        .find(|a| a.name == "connection failures")
        .unwrap();
    let fired = alert.fired_at_s.expect("the failure alert fires");
    let cleared = alert.cleared_at_s.expect("and clears after the fix");
    let detection = moment_s(&c.scenario, MomentKind::Detection);
    assert!((detection - fired).abs() < 1.0, "alert fired at {fired}s");
    // The rules are the ones the team had before the incident: none pages before the
    // narrated detection (alerts on pool exhaustion were the follow-up).
    for a in &s.alerts {
        assert!(
            a.fired_at_s.is_none_or(|t| t >= detection - 1.0),
            "{} fired at {:?}, before the detection at {detection}",
            a.name,
            a.fired_at_s
        );
    }
    let (fix, resolution) = (
        moment_s(&c.scenario, MomentKind::Fix),
        moment_s(&c.scenario, MomentKind::Resolution),
    );
    assert!(fix <= cleared && cleared <= resolution);
    // The clock: detection at 14:00 UTC on 2023-08-05, as the postmortem says.
    let start = poolsim_scenario::parse_utc(&c.scenario.timeline.start).unwrap();
    assert_eq!(start + detection as i64, 1_691_244_000);
}

/// `scale`: added instances start empty and take their share of traffic, removed ones stop
/// and hold nothing.
#[test]
fn scaling_adds_and_removes_instances() {
    let c = config(
        r#"{"seed": 3, "duration": "3m", "bucket": "10s",
            "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 300},
                         "transaction": {"query_time": {"kind": "exponential", "mean": "5ms"}}},
            "app": {"instances": 2, "pool": {"max_size": 5}},
            "faults": [{"kind": "scale", "at": "1m", "instances": 4},
                       {"kind": "scale", "at": "2m", "instances": 1}]}"#,
    );
    assert_eq!(c.instance_slots(), 4);
    let report = run(&c);
    let s = &report.series;
    assert_eq!(s.instances.len(), 4);
    let held = |i: usize, bucket: usize| s.instances[i].total[bucket];
    // Instances 2 and 3 are out of service for the first minute, in service for the second.
    for b in 0..6 {
        assert_eq!((held(2, b), held(3, b)), (0.0, 0.0), "bucket {b}");
        assert!(held(0, b) > 0.0);
    }
    for b in 7..12 {
        assert!(held(2, b) > 0.0 && held(3, b) > 0.0, "bucket {b}");
    }
    // After 2m only instance 0 serves.
    for b in 13..18 {
        assert_eq!((held(1, b), held(2, b), held(3, b)), (0.0, 0.0, 0.0));
    }
    let served: Vec<u64> = report
        .summary
        .instances
        .iter()
        .map(|i| i.succeeded)
        .collect();
    // Round robin: minute 1 split 2 ways, minute 2 split 4 ways, minute 3 all on instance 0.
    let expected = [
        300.0 * (30.0 + 15.0 + 60.0),
        300.0 * 45.0,
        300.0 * 15.0,
        300.0 * 15.0,
    ];
    for (got, want) in served.iter().zip(expected) {
        assert!(
            (*got as f64 - want).abs() < 0.05 * want,
            "{served:?} vs {expected:?}"
        );
    }
    let r = &report.summary.requests;
    assert_eq!(r.arrived, r.succeeded + r.failed + r.in_flight);
}

/// The failover replay: failures only while the database is away (and the 5 s the pools
/// wait), all "outage"; then 240 connections reopen at once, within the database's limit,
/// and the fleet recovers in seconds. Its narrated detection and resolution are the run's.
#[test]
fn the_failover_replay_reproduces_its_story() {
    let c = config(&fixture("failover"));
    let report = run(&c);
    let (s, series) = (&report.summary, &report.series);
    assert_eq!(
        s.requests.failed,
        s.requests.failures[Cause::Outage] + s.requests.failures[Cause::PoolTimeout]
    );
    assert!(s.requests.failures[Cause::PoolTimeout] < 10);
    let at = |i: usize| i as f64 * series.bucket_s;
    let failing: Vec<usize> = (0..series.len())
        .filter(|&i| series.failed(i) > 0)
        .collect();
    let (first, last) = (at(failing[0]), at(*failing.last().unwrap()));
    assert!(
        (179.0..=185.0).contains(&first) && last <= 215.0,
        "{first}..{last}"
    );
    // The storm: every pool full again within 5 s of the database's return (3m30s), and
    // never more connections than the database allows.
    let full = (0..series.len())
        .find(|&i| at(i) >= 210.0 && series.pool_total.mean[i] >= 239.5)
        .map(at)
        .unwrap();
    assert!(full <= 215.0, "pools full at {full}s");
    assert_eq!(s.db.peak_connections, 240);
    assert_eq!(s.db.refused_connections, 0);

    let moment = |kind| moment_s(&c.scenario, kind);
    let pending = s
        .alerts
        .iter()
        .find(|a| a.name.starts_with("pool"))
        .unwrap();
    assert!((moment(MomentKind::Detection) - pending.fired_at_s.unwrap()).abs() < 1.0);
    let o = poolsim_advisor::exercise::outcome(series, s.duration_s, 0.0);
    assert!(
        (o.recovered_s.unwrap() - moment(MomentKind::Resolution)).abs() <= 2.0,
        "{o:?}"
    );
    assert!(
        s.alerts
            .iter()
            .all(|a| a.name != "database CPU high" || a.fired_at_s.is_none())
    );
}

/// The leak replay: leak detection reports every leaked connection, the first minutes before
/// any request fails; failures are pool timeouts while the database idles; the hotfix and the
/// restart end them. Its narrated detection and resolution are the run's.
#[test]
fn the_leak_replay_reproduces_its_story() {
    let c = config(&fixture("leak"));
    let report = run(&c);
    let (s, series) = (&report.summary, &report.series);
    let at = |i: usize| i as f64 * series.bucket_s;
    let first_report = (0..series.len())
        .find(|&i| series.leak_reports[i] > 0)
        .map(at)
        .unwrap();
    let first_failure = (0..series.len())
        .find(|&i| series.failed(i) > 0)
        .map(at)
        .unwrap();
    assert!(
        first_report + 120.0 < first_failure,
        "leak reported at {first_report}s, first failure at {first_failure}s"
    );
    assert_eq!(s.pool.leaks_reported, s.pool.leaked);
    assert_eq!(
        series
            .leak_reports
            .iter()
            .map(|&n| u64::from(n))
            .sum::<u64>(),
        s.pool.leaked
    );
    assert!(s.pool.leaked >= 30);
    // Pool timeouts, and the requests waiting on an instance when it restarts.
    let f = &s.requests.failures;
    assert_eq!(
        s.requests.failed,
        f[Cause::PoolTimeout] + f[Cause::Unavailable]
    );
    assert!(f[Cause::PoolTimeout] as f64 > 0.95 * s.requests.failed as f64);
    assert!(s.db.cpu_utilization < 0.2);

    let moment = |kind| moment_s(&c.scenario, kind);
    let note = c
        .scenario
        .timeline
        .moments
        .iter()
        .find(|m| m.label == "first leak warning");
    assert!((note.unwrap().at.as_secs_f64() - first_report).abs() <= 1.0);
    let pending = s
        .alerts
        .iter()
        .find(|a| a.name.starts_with("pool exhausted"))
        .unwrap();
    assert!((moment(MomentKind::Detection) - pending.fired_at_s.unwrap()).abs() <= 1.0);
    let o = poolsim_advisor::exercise::outcome(series, s.duration_s, 0.0);
    assert!(
        (o.recovered_s.unwrap() - moment(MomentKind::Resolution)).abs() <= 10.0,
        "{o:?}"
    );
    // Nothing fails once the restart has gone through all four instances (8m20s).
    let from = (500.0 / series.bucket_s) as usize;
    assert!((from..series.len()).all(|i| series.failed(i) == 0));
}

/// The slow-query replay: the database's cores are the bottleneck (CPU alert fires, unlike
/// the pool outage), failures are pool timeouts during the bad plan, and it recovers when
/// the plan is fixed. Bigger pools at 3m30s (the exercise the narrative suggests) make it
/// worse: more queries share the same cores, and the fleet does not fully recover.
#[test]
fn the_slow_query_replay_reproduces_its_story() {
    use poolsim_advisor::exercise::{Change, Exercise, outcome, recorded_restart};
    let c = config(&fixture("slow-queries"));
    let report = run(&c);
    let (s, series) = (&report.summary, &report.series);
    assert_eq!(s.requests.failed, s.requests.failures[Cause::PoolTimeout]);
    let bucket = |t: f64| (t / series.bucket_s) as usize;
    let cpu = &series.db_cpu[bucket(200.0)..bucket(300.0)];
    assert!(
        cpu.iter().all(|&u| u > 0.95),
        "CPU during the bad plan: {cpu:?}"
    );
    let moment = |kind| moment_s(&c.scenario, kind);
    let fired = |name: &str| {
        let a = s.alerts.iter().find(|a| a.name == name).unwrap();
        a.fired_at_s.unwrap()
    };
    assert!((moment(MomentKind::Detection) - fired("p99 latency")).abs() <= 1.0);
    assert!((fired("database CPU high") - 240.0).abs() <= 1.0);
    let recorded = outcome(series, s.duration_s, 0.0);
    let recovered = recorded.recovered_s.unwrap();
    assert!(
        (recovered - moment(MomentKind::Resolution)).abs() <= 5.0,
        "{recorded:?}"
    );

    let bigger = Exercise {
        at: "3m30s".parse().unwrap(),
        change: Change::PoolSize { max_size: 16 },
        roll_out: false,
        restart: recorded_restart(&c.scenario),
    };
    let mine = run(&bigger.apply(&c.scenario).validate().unwrap());
    let o = outcome(&mine.series, s.duration_s, 210.0);
    let r = outcome(series, s.duration_s, 210.0);
    assert!(
        o.failed_after > r.failed_after + r.failed_after / 5,
        "{o:?} vs {r:?}"
    );
    assert!(!o.recovered(), "{o:?}");
}

/// Equal situations, equal answers (issue 12): a 10 s outage inside a 2-minute one changes
/// nothing (outages nest as a count, not an on/off flag), and a rolling restart whose first
/// batch never comes back (`down` at the largest allowed, 720h; at u64::MAX us the plan's
/// arithmetic once wrapped and took every instance down at once, and such values are now
/// refused by validation) runs as one that just outlasts the run.
#[test]
fn nested_outages_and_endless_restarts_read_as_they_are_meant() {
    let summary = |faults: &str| {
        let json = format!(r#"{{"duration":"5m","app":{{"instances":4}},"faults":{faults}}}"#);
        run(&config(&json)).summary
    };
    let outage = summary(r#"[{"kind":"db_outage","at":"1m","duration":"2m"}]"#);
    let nested = summary(
        r#"[{"kind":"db_outage","at":"1m","duration":"2m"},{"kind":"db_outage","at":"1m30s","duration":"10s"}]"#,
    );
    assert!(outage.requests.failed > 1_000, "{:?}", outage.requests);
    assert_eq!(nested.requests, outage.requests);
    let restart = |down: &str| {
        summary(&format!(
            r#"[{{"kind":"rolling_restart","at":"1m","down":"{down}","gap":"1us"}}]"#
        ))
    };
    let endless = restart("720h");
    let past_the_end = restart("10m");
    assert_eq!(endless.requests, past_the_end.requests);
    assert!(
        endless.requests.failures[Cause::Unavailable] <= 2,
        "one instance of four down: {:?}",
        endless.requests
    );
}

/// The engine's own stop at `limits.max_events`, for what the up-front estimate cannot see:
/// a run past its budget ends with an error naming the limit and where it stopped.
#[test]
fn the_engine_stops_at_its_event_budget() {
    let mut config = config(&fixture("default"));
    config.max_events = 10_000;
    let error = poolsim_engine::run(&config).unwrap_err().to_string();
    assert!(
        error.starts_with("the run needed more than limits.max_events = 10000 events (stopped at "),
        "{error}"
    );
}

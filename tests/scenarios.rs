//! The example scenarios: each loads, runs, and tells the story its description claims.

use poolsim_tests::{config, fixture, run};

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
    assert!(s.requests.failures.db_refused as f64 > 0.99 * s.requests.failed as f64);
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
    let failed_after: u32 = report.series.failed_db_refused[from..].iter().sum();
    assert_eq!(failed_after, 0);
}

#[test]
fn retries_turn_a_slow_minute_into_a_lasting_collapse() {
    let report = run(&config(&fixture("retry-storm")));
    let s = &report.series;
    let per_s = |v: &[u32], from_s: f64, to_s: f64| {
        let (a, b) = ((from_s / s.bucket_s) as usize, (to_s / s.bucket_s) as usize);
        v[a..b].iter().map(|&x| f64::from(x)).sum::<f64>() / (to_s - from_s)
    };
    // Before the slow minute: nearly every request succeeds.
    assert!(per_s(&s.succeeded, 30.0, 110.0) > 390.0);
    // Long after it ended (3m), the system has not recovered: the load it handled before is
    // now mostly retries, abandoned attempts hold the connections, and goodput stays low.
    assert!(per_s(&s.succeeded, 400.0, 600.0) < 200.0);
    assert!(per_s(&s.retries, 400.0, 600.0) > 400.0);
    assert!(report.summary.requests.abandoned_attempts > 100_000);
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
    assert!(s.requests.failures.db_refused as f64 > 0.99 * s.requests.failed as f64);
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
    let moments = &c.scenario.timeline.moments;
    let detection = moments
        .iter()
        .find(|m| m.kind == poolsim_scenario::MomentKind::Detection)
        .unwrap();
    assert!(
        (detection.at.as_secs_f64() - fired).abs() < 1.0,
        "alert fired at {fired}s"
    );
    let fix = moments
        .iter()
        .find(|m| m.kind == poolsim_scenario::MomentKind::Fix)
        .unwrap();
    let resolution = moments
        .iter()
        .find(|m| m.kind == poolsim_scenario::MomentKind::Resolution)
        .unwrap();
    assert!(fix.at.as_secs_f64() <= cleared && cleared <= resolution.at.as_secs_f64());
    // The clock: detection at 14:00 UTC on 2023-08-05, as the postmortem says.
    let start = poolsim_scenario::parse_utc(&c.scenario.timeline.start).unwrap();
    assert_eq!(start + detection.at.as_secs_f64() as i64, 1_691_244_000);
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

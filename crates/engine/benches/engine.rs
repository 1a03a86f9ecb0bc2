//! Engine throughput: events per second and simulated requests per second, on the M/M/c
//! pool of the theory tests and on the outage example (12 instances, refusals, a deploy).
//! `cargo bench -p poolsim-engine`; criterion's "thrpt" line is events/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn scenario(name: &str) -> poolsim_scenario::Config {
    let path = format!(
        "{}/../../tests/scenarios/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    poolsim_scenario::load(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for (name, duration) in [("mmc", "10m"), ("outage", "10m")] {
        let mut config = scenario(name);
        let scenario_with = poolsim_scenario::Scenario {
            duration: duration.parse().expect("duration"),
            ..config.scenario.clone()
        };
        config = scenario_with.validate().expect("valid");
        let probe = poolsim_engine::run(&config).expect("runs").summary;
        eprintln!(
            "{name}: {} events, {} requests per run",
            probe.events, probe.requests.arrived
        );
        group.throughput(Throughput::Elements(probe.events));
        group.bench_function(format!("{name}/events"), |b| {
            b.iter(|| poolsim_engine::run(&config).expect("runs"))
        });
        group.throughput(Throughput::Elements(probe.requests.arrived));
        group.bench_function(format!("{name}/requests"), |b| {
            b.iter(|| poolsim_engine::run(&config).expect("runs"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

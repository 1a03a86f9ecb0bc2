//! Engine throughput: events per second and simulated requests per second, on the example
//! scenarios as written: the M/M/c pool of the theory tests (1 h simulated) and the outage
//! (12 instances, refusals, a deploy; 30 min simulated).
//! `cargo bench -p poolsim-engine`; criterion's "thrpt" lines are events/s and requests/s.

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
    for name in ["mmc", "outage"] {
        let config = scenario(name);
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

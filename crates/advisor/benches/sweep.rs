//! A 50-point sweep natively: the default scenario (12 instances, 800 req/s) at pool sizes
//! 1..=50, 2 simulated minutes each, on all cores, as `poolsim sweep` and `advise` run them.
//! `cargo bench -p poolsim-advisor`; criterion's "thrpt" line is points/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn points() -> Vec<poolsim_scenario::Config> {
    let path = format!(
        "{}/../../tests/scenarios/default.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut scenario = poolsim_scenario::parse(&text).expect("parses");
    scenario.duration = "2m".parse().expect("a duration");
    (1..=50)
        .map(|size| {
            let mut s = scenario.clone();
            s.app.pool.max_size = size;
            s.validate().expect("valid")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let configs = points();
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.throughput(Throughput::Elements(configs.len() as u64));
    group.bench_function("50 pool sizes, default scenario, 2m each", |b| {
        b.iter(|| poolsim_advisor::parallel::run_all(&configs, &|_| {}).expect("runs"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Helpers shared by the cross-crate tests: loading fixtures and running many seeds.

use poolsim_engine::{Report, Summary};
use poolsim_scenario::Config;

/// The text of `tests/scenarios/NAME.json`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Loads a scenario from JSON text, panicking with the field errors if it is invalid.
pub fn config(json: &str) -> Config {
    poolsim_scenario::load(json).unwrap_or_else(|e| panic!("invalid scenario:\n{e}"))
}

pub fn run(config: &Config) -> Report {
    poolsim_engine::run(config).unwrap_or_else(|e| panic!("seed {}: {e}", config.seed))
}

/// Runs `config` under seeds 1..=n on all cores; summaries in seed order.
pub fn run_seeds(config: &Config, n: u64) -> Vec<Summary> {
    let configs: Vec<Config> = (1..=n)
        .map(|seed| Config {
            seed,
            ..config.clone()
        })
        .collect();
    run_many(&configs)
}

/// Runs every configuration on all cores; summaries in the same order.
pub fn run_many(configs: &[Config]) -> Vec<Summary> {
    poolsim_advisor::parallel::run_all(configs, &|_| {})
        .unwrap_or_else(|(i, e)| panic!("run {i} (seed {}): {e}", configs[i].seed))
}

/// Mean and standard error of the mean of independent replications.
pub fn mean_se(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Asserts that replications agree with `expected`: within `z` standard errors *and* within
/// `rel` relative error (so a test can neither pass on noise nor be flaky on it).
pub fn assert_close(what: &str, values: &[f64], expected: f64, rel: f64) {
    let (mean, se) = mean_se(values);
    let z = 4.0;
    assert!(
        (mean - expected).abs() <= z * se + 1e-12
            && (mean - expected).abs() <= rel * expected.abs(),
        "{what}: measured {mean:.6} ± {se:.6} (SE over {} seeds), theory {expected:.6} \
         (allowed: {z} SE and {:.2}%); values {values:?}",
        values.len(),
        rel * 100.0
    );
}

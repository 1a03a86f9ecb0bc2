//! Same scenario and seed, same digest: natively and in WebAssembly (this file also runs
//! under `cargo test --target wasm32-unknown-unknown`, in Node via wasm-bindgen-test).
//!
//! The expected digests are pinned: a native run and a wasm run that both match them match
//! each other. A deliberate change to the engine changes them; update the table with the
//! values this test prints, and say why in the commit.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const CASES: [(&str, &str, &str); 3] = [
    (
        "default",
        include_str!("../../../tests/scenarios/default.json"),
        "10301bed89cb5a0b",
    ),
    (
        "faults",
        include_str!("../../../tests/scenarios/faults.json"),
        "7b63eb6dbb9289a9",
    ),
    (
        "outage",
        include_str!("../../../tests/scenarios/outage.json"),
        "b6e168bae028da0d",
    ),
];

/// Scenarios shortened so the wasm run stays quick, with every feature still exercised.
fn shortened(json: &str) -> poolsim_scenario::Config {
    let mut scenario = poolsim_scenario::parse(json).expect("parses");
    if scenario.duration > "6m".parse().unwrap() {
        scenario.duration = "6m".parse().unwrap();
    }
    scenario.validate().expect("valid")
}

#[test]
fn digests_are_pinned_on_every_platform() {
    let mut wrong = Vec::new();
    for (name, json, expected) in CASES {
        let report = poolsim_engine::run(&shortened(json)).expect("runs");
        let again = poolsim_engine::run(&shortened(json)).expect("runs");
        assert_eq!(report, again, "{name}: two runs differ");
        if report.summary.digest != expected {
            wrong.push(format!("{name}: {}", report.summary.digest));
        }
    }
    assert!(wrong.is_empty(), "digests changed:\n{}", wrong.join("\n"));
}

#[test]
fn a_different_seed_gives_a_different_run() {
    let mut config = shortened(CASES[0].1);
    let a = poolsim_engine::run(&config).unwrap().summary.digest;
    config.seed += 1;
    assert_ne!(a, poolsim_engine::run(&config).unwrap().summary.digest);
}

/// The page draws a run as it goes from `Simulation::series` tails; stitched together they
/// must be the finished report's series, whatever the slice sizes.
#[test]
fn a_run_in_slices_sends_the_series_it_reports() {
    let config = shortened(CASES[1].1);
    let whole = poolsim_engine::run(&config).unwrap();
    for slice in [1_000, 77_777] {
        let mut sim = poolsim_engine::Simulation::new(&config);
        let mut stitched = poolsim_engine::Series::default();
        loop {
            let done = sim.advance(slice).unwrap().done;
            stitched.append(&sim.series().tail(stitched.len()));
            if done {
                break;
            }
        }
        assert_eq!(stitched, whole.series, "slices of {slice} events");
        assert_eq!(sim.into_report(), whole);
    }
}

//! The bounded fuzz run inside the test command: 30,000 cases (a few seconds); a long run is
//! `cargo xtask fuzz --cases N`.

#[test]
fn thirty_thousand_cases_find_nothing() {
    let never = std::sync::atomic::AtomicBool::new(false);
    let out = poolsim_fuzz::run(1, 30_000, 2, &never, &|_| {});
    assert_eq!(out.cases, 30_000);
    // The run reached the engine: a harness that refused everything would find nothing too.
    assert!(
        out.runs > 1_000,
        "only {} scenarios ran to their end",
        out.runs
    );
    assert!(out.refused > 1_000 && out.stopped > 100, "{out:?}");
    let shown: Vec<String> = out
        .findings
        .iter()
        .take(10)
        .map(|f| {
            format!(
                "case {} ({}): {}\n  input: {:?}",
                f.case, f.target, f.problem, f.input
            )
        })
        .collect();
    assert!(
        out.findings.is_empty(),
        "{} findings; replay with `cargo xtask fuzz --case N`:\n{}",
        out.findings.len(),
        shown.join("\n")
    );
}

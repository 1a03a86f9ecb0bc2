//! The `poolsim` binary, run as a user runs it: arguments in; stdout, stderr and the exit
//! code out. Scenarios are short (20 s at 200 req/s) so each run takes milliseconds.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

const SMALL: &str = r#"{
  "name": "small",
  "seed": 3,
  "duration": "20s",
  "bucket": "1s",
  "workload": {
    "arrivals": { "kind": "poisson", "rate_per_s": 200 },
    "transaction": { "queries": 2, "query_time": { "kind": "exponential", "mean": "5ms" } }
  },
  "app": {
    "instances": 2,
    "request_timeout": "2s",
    "pool": { "max_size": 4, "connection_timeout": "250ms" }
  },
  "database": { "max_connections": 10, "cores": 4 },
  "alerts": [ { "name": "pending", "metric": "hikaricp_connections_pending", "above": 0, "for": "1s" } ]
}"#;

/// A scenario file in a fresh temporary directory (removed at the end of the test).
struct TempScenario {
    dir: PathBuf,
    path: PathBuf,
}

impl TempScenario {
    fn new(json: &str) -> TempScenario {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "poolsim-cli-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("scenario.json");
        std::fs::write(&path, json).unwrap();
        TempScenario { dir, path }
    }

    fn arg(&self) -> &str {
        self.path.to_str().unwrap()
    }
}

impl Drop for TempScenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn poolsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poolsim"))
        .args(args)
        .output()
        .expect("the poolsim binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Runs, expects exit code `code` and `needle` in stderr; returns the output.
fn expect_exit(args: &[&str], code: i32, needle: &str) -> Output {
    let out = poolsim(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "poolsim {args:?}: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(needle),
        "poolsim {args:?}: no {needle:?} in stderr: {}",
        stderr(&out)
    );
    out
}

/// Runs and expects success, returning stdout.
fn ok(args: &[&str]) -> String {
    let out = poolsim(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "poolsim {args:?} failed:\n{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).is_empty(),
        "unexpected stderr: {}",
        stderr(&out)
    );
    stdout(&out)
}

fn json_summary(file: &TempScenario, extra: &[&str]) -> Value {
    let mut args = vec!["run", file.arg(), "--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(&args)).expect("--format json prints JSON")
}

fn u(v: &Value, path: &str) -> u64 {
    v.pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{path} is not a count in {v}"))
}

#[test]
fn run_json_is_the_summary_and_conserves_requests() {
    let file = TempScenario::new(SMALL);
    let s = json_summary(&file, &[]);
    let arrived = u(&s, "/requests/arrived");
    assert!(arrived > 3_000 && arrived < 5_000, "arrived {arrived}");
    assert_eq!(
        arrived,
        u(&s, "/requests/succeeded") + u(&s, "/requests/failed") + u(&s, "/requests/in_flight")
    );
    for path in [
        "/requests/retries",
        "/requests/failures/pool_timeout",
        "/requests/failures/client_timeout",
        "/requests/failures/db_refused",
        "/requests/failures/statement_timeout",
        "/requests/failures/outage",
        "/pool/peak_active",
        "/pool/peak_pending",
        "/db/peak_connections",
        "/events",
    ] {
        u(&s, path);
    }
    for path in ["/pool_wait_ms/p99", "/latency_ms/p50", "/pool/utilization"] {
        assert!(s.pointer(path).is_some_and(Value::is_f64), "{path}");
    }
    assert_eq!(s["alerts"][0]["name"], "pending");
    assert!(s["digest"].as_str().is_some_and(|d| !d.is_empty()));
}

#[test]
fn run_text_reads_as_a_report() {
    let file = TempScenario::new(SMALL);
    let text = ok(&["run", file.arg()]);
    for needle in [
        "small: 20s simulated (seed 3)",
        "Requests",
        "arrived",
        "succeeded",
        "pool wait",
        "p99",
        "latency",
        "Database",
        "Instances",
        "Alerts",
        "pending",
        "offered load",
        "Erlang C",
        "pool capacity",
        "digest",
    ] {
        assert!(text.contains(needle), "no {needle:?} in:\n{text}");
    }
    // The verdict comes first, in the page's words: nothing failed, the pools a quarter busy.
    let verdict = text.lines().nth(2).unwrap();
    assert!(
        verdict.starts_with("verdict: healthy. No failures; pools 2") && verdict.contains("% busy"),
        "{text}"
    );
    // 2 x 4 pool connections fit in 10.
    assert!(!text.contains("OVERSUBSCRIBED"), "{text}");
    assert!(!text.contains("WARNING"), "{text}");
    assert_eq!(ok(&["run", file.arg(), "--format", "text"]), text);
}

#[test]
fn run_text_warns_when_pools_oversubscribe_the_database() {
    let file =
        TempScenario::new(&SMALL.replace(r#""max_connections": 10"#, r#""max_connections": 6"#));
    let text = ok(&["run", file.arg()]);
    assert!(
        text.contains("WARNING: The pools together may open 8 connections; the database allows 6."),
        "{text}"
    );
    assert!(
        text.contains("8 pool connections (2 x 4) vs 6 usable: OVERSUBSCRIBED by 2"),
        "{text}"
    );
}

#[test]
fn run_csv_has_a_header_and_one_row_per_bucket() {
    let file = TempScenario::new(SMALL);
    let csv = ok(&["run", file.arg(), "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header[0], "time_s");
    for column in [
        "arrivals",
        "succeeded",
        "failed_pool_timeout",
        "hikaricp_connections_pending_mean",
        "hikaricp_connections_timeout_total",
        "db_connections_peak",
        "hikaricp_connections_max_peak",
        "http_latency_p99_ms",
    ] {
        assert!(header.contains(&column), "no {column} in {header:?}");
    }
    for cause in poolsim_engine::Cause::ALL {
        let column = format!("failed_{}", cause.key());
        assert!(header.contains(&column.as_str()), "no {column}");
    }
    // 20 s in buckets of 1 s.
    assert_eq!(lines.len(), 1 + 20);
    for (i, row) in lines[1..].iter().enumerate() {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), header.len(), "row {i}: {row}");
        assert_eq!(cells[0], i.to_string());
    }
    let arrivals = header.iter().position(|h| *h == "arrivals").unwrap();
    let total: u64 = lines[1..]
        .iter()
        .map(|r| r.split(',').nth(arrivals).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, u(&json_summary(&file, &[]), "/requests/arrived"));
    // Micrometer's hikaricp_connections_max: the configured max_size, 2 instances x 4.
    let max = header
        .iter()
        .position(|h| *h == "hikaricp_connections_max_peak")
        .unwrap();
    for row in &lines[1..] {
        assert_eq!(row.split(',').nth(max), Some("8"), "{row}");
    }
}

#[test]
fn seed_flag_changes_the_run_and_the_same_seed_repeats_it() {
    let file = TempScenario::new(SMALL);
    let digest = |extra: &[&str]| {
        json_summary(&file, extra)["digest"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let own = digest(&[]);
    assert_eq!(own, digest(&[]));
    assert_eq!(own, digest(&["--seed", "3"]));
    let other = digest(&["--seed", "4"]);
    assert_ne!(own, other);
    assert_eq!(other, digest(&["--seed", "4"]));
    assert_eq!(json_summary(&file, &["--seed", "4"])["seed"], 4);
}

#[test]
fn a_bad_scenario_exits_2_naming_the_field() {
    let file = TempScenario::new(&SMALL.replace(r#""max_size": 4"#, r#""max_size": 0"#));
    let out = poolsim(&["run", file.arg()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("error: {} is not a valid scenario:\n", file.arg())),
        "{err}"
    );
    assert!(
        err.contains("app.pool.max_size: must be at least 1"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());

    let file = TempScenario::new(r#"{"app": {"pool": {"max_sise": 4}}}"#);
    let out = poolsim(&["run", file.arg()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("app.pool"), "{}", stderr(&out));

    let file = TempScenario::new("{ not json");
    let out = poolsim(&["run", file.arg()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 1"), "{}", stderr(&out));
}

#[test]
fn a_missing_file_exits_2() {
    expect_exit(
        &["run", "/nonexistent/poolsim/scenario.json"],
        2,
        "cannot read /nonexistent/poolsim/scenario.json",
    );
}

#[test]
fn bad_arguments_exit_2() {
    let file = TempScenario::new(SMALL);
    for args in [
        vec!["run", file.arg(), "--format", "xml"],
        vec!["run", file.arg(), "--seed", "-1"],
        vec!["run"],
        vec!["sweep", file.arg()],
        vec!["frobnicate"],
    ] {
        let out = poolsim(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// The estimate refuses it before it starts (exit 2, at the field); the engine's own stop
/// at `limits.max_events` is tested in tests/scenarios.rs.
#[test]
fn a_run_estimated_past_its_event_budget_is_refused_with_exit_2() {
    let file = TempScenario::new(&SMALL.replace(
        r#""seed": 3,"#,
        r#""seed": 3, "limits": {"max_events": 1000},"#,
    ));
    let out = poolsim(&["run", file.arg()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "workload.arrivals.rate_per_s: the run would take about 28,098 events, more \
             than limits.max_events allows (1,000); 28,000 of them from 4,000 requests"
        ),
        "{}",
        stderr(&out)
    );
}

/// Data rows of a sweep's text table (the header is the first line).
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn sweep_prints_one_row_per_point_in_order() {
    let file = TempScenario::new(SMALL);
    let text = ok(&["sweep", file.arg(), "--set", "app.pool.max_size=2..6:2"]);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("app.pool.max_size"), "{header}");
    for column in [
        "arrived",
        "succeeded",
        "failed",
        "wait p99 ms",
        "latency p99 ms",
        "digest",
    ] {
        assert!(header.contains(column), "no {column} in {header}");
    }
    let rows = rows(&text);
    let sizes: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(sizes, ["2", "4", "6"], "{text}");

    // Each row is the run of that point: the middle one is the file as it is.
    let digest = json_summary(&file, &[])["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(rows[1].last().unwrap(), &digest);
    assert_ne!(rows[0].last().unwrap(), &digest);
}

#[test]
fn sweep_grids_are_cartesian_products_first_flag_outermost() {
    let file = TempScenario::new(SMALL);
    let csv = ok(&[
        "sweep",
        file.arg(),
        "--set",
        "app.pool.max_size=3,5",
        "--set",
        "workload.arrivals.rate_per_s=100..300:100",
        "--format",
        "csv",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with(
            "app.pool.max_size,workload.arrivals.rate_per_s,arrived,succeeded,failed_pct,"
        ),
        "{}",
        lines[0]
    );
    let points: Vec<(&str, &str)> = lines[1..]
        .iter()
        .map(|l| {
            let mut cells = l.split(',');
            (cells.next().unwrap(), cells.next().unwrap())
        })
        .collect();
    assert_eq!(
        points,
        [
            ("3", "100"),
            ("3", "200"),
            ("3", "300"),
            ("5", "100"),
            ("5", "200"),
            ("5", "300")
        ]
    );
    let width = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == width), "{csv}");
}

#[test]
fn sweep_over_durations_writes_them_back_as_durations() {
    let file = TempScenario::new(SMALL);
    let json = ok(&[
        "sweep",
        file.arg(),
        "--set",
        "app.pool.connection_timeout=100ms..300ms:100ms",
        "--format",
        "json",
    ]);
    let points: Value = serde_json::from_str(&json).unwrap();
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 3);
    let timeouts: Vec<&Value> = points
        .iter()
        .map(|p| &p["set"]["app.pool.connection_timeout"])
        .collect();
    assert_eq!(timeouts, ["100ms", "200ms", "300ms"]);
    for p in points {
        let s = &p["summary"];
        assert_eq!(
            u(s, "/requests/arrived"),
            u(s, "/requests/succeeded") + u(s, "/requests/failed") + u(s, "/requests/in_flight")
        );
    }
    // Shorter patience, at least as many pool timeouts.
    let timeouts: Vec<u64> = points
        .iter()
        .map(|p| u(p, "/summary/requests/failures/pool_timeout"))
        .collect();
    assert!(timeouts[0] >= timeouts[2], "{timeouts:?}");
}

#[test]
fn sweep_reaches_into_lists_and_applies_the_seed_flag() {
    let file = TempScenario::new(SMALL);
    let text = ok(&[
        "sweep",
        file.arg(),
        "--seed",
        "4",
        "--set",
        "alerts[0].above=0,2",
    ]);
    let rows = rows(&text);
    assert_eq!(rows.len(), 2);
    // The alert's threshold does not change the simulation, only what is reported.
    let digest = json_summary(&file, &["--seed", "4"])["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(rows[0].last().unwrap(), &digest, "{text}");
}

#[test]
fn a_bad_set_spec_exits_2_with_a_clear_message() {
    let file = TempScenario::new(SMALL);
    for (spec, message) in [
        ("app.pool.max_size=6..2:2", "end is before its start"),
        ("app.pool.max_size=2..6", "no step"),
        ("app.pool.max_size=2..6:0", "step greater than 0"),
        ("app.pool.max_size", "PATH=SPEC"),
        ("app..pool=1", "not a field path"),
        ("app.pool.max_size=1..20000:1", "at most 10000"),
    ] {
        let out = poolsim(&["sweep", file.arg(), "--set", spec]);
        assert_eq!(out.status.code(), Some(2), "{spec}");
        let err = stderr(&out);
        assert!(err.contains(message), "{spec}: {err}");
        assert!(err.contains("--set"), "{spec}: {err}");
    }
}

#[test]
fn a_bad_sweep_point_exits_2_naming_the_flag_and_the_field() {
    let file = TempScenario::new(SMALL);
    let out = poolsim(&["sweep", file.arg(), "--set", "app.pool.max_size=0..4:2"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--set app.pool.max_size=0..4:2"), "{err}");
    assert!(
        err.contains("app.pool.max_size: must be at least 1"),
        "{err}"
    );

    // A problem in the file itself names the file and the point.
    let broken = TempScenario::new(&SMALL.replace(r#""duration": "20s""#, r#""duration": "0s""#));
    let out = poolsim(&["sweep", broken.arg(), "--set", "app.pool.max_size=2,3"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "error: {} is not a valid scenario at app.pool.max_size=2:\n",
            broken.arg()
        )),
        "{err}"
    );
    assert!(err.contains("duration: must be above 0s"), "{err}");

    expect_exit(
        &["sweep", file.arg(), "--set", "app.pool.max_size.x=1"],
        2,
        "app.pool.max_size is a number",
    );

    let out = poolsim(&[
        "sweep",
        file.arg(),
        "--set",
        "app.pool.max_size=1..100:1",
        "--set",
        "workload.arrivals.rate_per_s=1..101:1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("at most 10000"), "{}", stderr(&out));
}

#[test]
fn advise_recommends_the_smallest_size_with_evidence() {
    let file = TempScenario::new(SMALL);
    let json = ok(&[
        "advise",
        file.arg(),
        "--slo",
        "wait_p99=5ms",
        "--seeds",
        "2",
        "--format",
        "json",
    ]);
    let advice: Value = serde_json::from_str(&json).unwrap();
    let recommended = advice["recommended"].as_u64().expect("a recommendation");
    let rows = advice["rows"].as_array().unwrap();
    let passes: Vec<(u64, bool)> = rows
        .iter()
        .map(|r| {
            (
                r["max_size"].as_u64().unwrap(),
                r["passes"].as_bool().unwrap(),
            )
        })
        .collect();
    // Every size below the recommendation was tried and missed.
    let first_pass = passes.iter().find(|(_, p)| *p).unwrap().0;
    assert_eq!(first_pass, recommended);
    assert!(passes.iter().all(|&(size, p)| p || size < recommended));
    assert_eq!(passes[0].0, 1, "starts at the offered load: {passes:?}");

    let text = ok(&[
        "advise",
        file.arg(),
        "--slo",
        "wait_p99=5ms",
        "--seeds",
        "2",
    ]);
    assert!(
        text.contains(&format!("recommended: app.pool.max_size = {recommended}")),
        "{text}"
    );
    assert!(text.contains("Erlang C says"), "{text}");
}

#[test]
fn advise_exits_1_when_no_size_meets_the_objectives() {
    let file = TempScenario::new(SMALL);
    let out = poolsim(&[
        "advise",
        file.arg(),
        "--slo",
        "wait_p99=5ms",
        "--max-size",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("no recommendation: no pool size from 1 to 1"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn advise_rejects_an_unknown_objective_with_exit_2() {
    let file = TempScenario::new(SMALL);
    expect_exit(
        &["advise", file.arg(), "--slo", "wait_p95=1ms"],
        2,
        "unknown metric \"wait_p95\"",
    );
}

/// A file under the workspace's `tests/` folder.
fn workspace_file(path: &str) -> String {
    format!("{}/../../tests/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// `check` exited 1 with the outage's pool total as a risk; its text.
fn outage_risk(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let text = stdout(out);
    assert!(
        text.contains(
            "RISK: the pools ask for 12 x 80 = 960 connections, but the database allows 497"
        ),
        "{text}"
    );
    text
}

fn check(config: &str) -> Output {
    poolsim(&[
        "check",
        "--scenario",
        &workspace_file("scenarios/default.json"),
        "--config",
        &workspace_file(config),
        "--config",
        &workspace_file("configs/postgresql.conf"),
    ])
}

#[test]
fn check_fails_the_outage_configuration_naming_the_pool_total() {
    let out = check("configs/outage/application.properties");
    let text = outage_risk(&out);
    assert!(
        text.contains("change: maximumPoolSize = 41 or less"),
        "{text}"
    );
    assert!(
        text.contains("application.properties:4 spring.datasource.hikari.maximum-pool-size=80"),
        "{text}"
    );
    // The simulated rolling restart shows it, independently of the arithmetic.
    let restart = text
        .lines()
        .find(|l| l.starts_with("rolling restart"))
        .unwrap();
    assert!(restart.contains("misses: failures"), "{restart}");
}

/// The outage's pools written as an anchored YAML block, which a line reader took for
/// HikariCP's default of 10 and passed: it must be RISK, and the included postgresql.conf
/// must be followed.
#[test]
fn check_reads_an_anchored_yaml_pool_and_an_included_conf() {
    let dir = std::env::temp_dir().join(format!("poolsim-check-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    let yml = dir.join("application.yml");
    std::fs::write(
        &yml,
        "spring:\n  datasource:\n    hikari: &pool\n      maximum-pool-size: 80\n",
    )
    .unwrap();
    let conf = dir.join("postgresql.conf");
    std::fs::write(&conf, "max_connections 100\ninclude_dir 'conf.d'\n").unwrap();
    std::fs::write(
        dir.join("conf.d/10-limits.conf"),
        "max_connections = 500\nsuperuser_reserved_connections = 3\n",
    )
    .unwrap();
    let out = poolsim(&[
        "check",
        "--scenario",
        &workspace_file("scenarios/default.json"),
        "--config",
        yml.to_str().unwrap(),
        "--config",
        conf.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    outage_risk(&out);
}

#[test]
fn check_passes_the_fixed_configuration() {
    let out = check("configs/fixed/application.yml");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("12 instances x maximumPoolSize 40 = 480 connections against 497"),
        "{text}"
    );
    assert!(!text.contains("RISK"), "{text}");
    assert!(text.ends_with("result: pass\n"), "{text}");
}

#[test]
fn check_names_file_and_line_of_a_malformed_setting() {
    let file = TempScenario::new("");
    let yml = file.dir.join("application.yml");
    std::fs::write(
        &yml,
        "spring:\n  datasource:\n    hikari:\n      maximum-pool-size: forty\n",
    )
    .unwrap();
    let out = poolsim(&["check", "--config", yml.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "{}:4: spring.datasource.hikari.maximum-pool-size: \"forty\" is not a whole number",
            yml.display()
        )),
        "{}",
        stderr(&out)
    );
}

/// Issue 12: an out-of-range value from a file named the scenario field, not the file and
/// line it came from; `--instances 0` and `--rate-per-s NaN` named scenario fields.
#[test]
fn check_names_the_file_line_or_flag_an_out_of_range_value_came_from() {
    let file = TempScenario::new("");
    let props = file.dir.join("hikari.properties");
    std::fs::write(&props, "# pool\nmaximumPoolSize=0\n").unwrap();
    let out = poolsim(&["check", "--config", props.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: the settings give an invalid scenario:\n{}:2 maximumPoolSize=0: must be at \
             least 1\n",
            props.display()
        )
    );
    std::fs::write(&props, "maximumPoolSize=5\n").unwrap();
    let out = poolsim(&[
        "check",
        "--config",
        props.to_str().unwrap(),
        "--instances",
        "0",
        "--rate-per-s",
        "NaN",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("\n--instances 0: must be at least 1"), "{err}");
    assert!(err.contains("\n--rate-per-s NaN: "), "{err}");
    assert!(
        !err.contains("app.instances") && !err.contains("rate_per_s"),
        "{err}"
    );
}

/// Issue 12: a UTF-16 file said "did not contain valid UTF-8"; an endless stream was read to
/// 2 GB.
#[test]
fn files_that_are_not_utf8_or_too_big_say_so() {
    let file = TempScenario::new("");
    let utf16: Vec<u8> = "\u{feff}maximumPoolSize=80\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let props = file.dir.join("hikari.properties");
    std::fs::write(&props, utf16).unwrap();
    let out = poolsim(&["check", "--config", props.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "{} is UTF-16 text; poolsim reads UTF-8",
            props.display()
        )),
        "{}",
        stderr(&out)
    );
    let out = poolsim(&["run", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: /dev/zero goes on past 8 MiB, the largest file read\n"
    );
}

#[test]
fn sweep_paths_past_the_bound_are_refused_not_a_stack_overflow() {
    let file = TempScenario::new("{}");
    let path = vec!["a"; 16_000].join(".");
    let out = poolsim(&["sweep", file.arg(), "--set", &format!("{path}=1,2")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the field path is 31999 characters long; a path has at most 200"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_sets_aside_the_scenarios_own_faults() {
    // The outage scenario carries a deploy; with the fixed settings the review still passes,
    // and its "normal load" is normal.
    let out = poolsim(&[
        "check",
        "--scenario",
        &workspace_file("scenarios/outage.json"),
        "--config",
        &workspace_file("configs/fixed/application.yml"),
        "--config",
        &workspace_file("configs/postgresql.conf"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let normal = stdout(&out)
        .lines()
        .find(|l| l.starts_with("normal load"))
        .unwrap()
        .to_owned();
    assert!(normal.contains(" 0.0% "), "{normal}");
}

/// Issue 12 item 2: a sweep's points together have a budget (10 x limits.max_events),
/// checked before any point runs.
#[test]
fn a_sweep_past_its_overall_budget_is_refused_before_it_runs() {
    let file = TempScenario::new(&SMALL.replace(
        r#""seed": 3,"#,
        r#""seed": 3, "limits": {"max_events": 1000000},"#,
    ));
    let out = poolsim(&["sweep", file.arg(), "--set", "seed=1..400:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the sweep would take about 11.2 million events over its 400 runs")
            && err.contains("more than it may (10 x limits.max_events = 10,000,000)"),
        "{err}"
    );
}

/// Whether process `pid` catches SIGINT yet (its handler is installed), from /proc.
#[cfg(target_os = "linux")]
fn catches_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (2 - 1)) != 0)
}

/// Issue 12 item 2: Ctrl-C (SIGINT) stops a long run cleanly: exit 130, a sentence on
/// stderr, nothing on stdout.
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_stops_a_long_run_with_exit_130_and_nothing_written() {
    // About 30 s of work: long enough that the signal always arrives mid-run.
    let file = TempScenario::new(r#"{"duration": "200h", "limits": {"max_events": 2000000000}}"#);
    let child = Command::new(env!("CARGO_BIN_EXE_poolsim"))
        .args(["run", file.arg()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Signal only once the handler is in place (before it, SIGINT kills the process).
    for _ in 0..500 {
        if catches_sigint(child.id()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        catches_sigint(child.id()),
        "poolsim never installed its Ctrl-C handler"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "stopped by Ctrl-C before the results were complete; nothing was written\n"
    );
    assert!(out.stdout.is_empty());
}

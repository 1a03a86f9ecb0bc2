//! `poolsim check`: real pool and database settings, reviewed against a scenario's traffic
//! and fleet. Exit 1 when a risk breaks the objectives, so CI can gate on it.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use poolsim_advisor::Slo;
use poolsim_advisor::config_files::{self, FoundConfig, Include};
use poolsim_advisor::review::{Review, ReviewError, review};
use poolsim_scenario::{Arrivals, Scenario};

use crate::{Failure, Format, input, parallel};
use poolsim_explain::format;

pub struct CheckArgs {
    pub scenario: Option<PathBuf>,
    pub configs: Vec<PathBuf>,
    pub rate_per_s: Option<f64>,
    pub instances: Option<u32>,
    pub slos: Vec<Slo>,
    pub format: Format,
}

/// Prints the review; `Ok(false)` when it breaks the objectives (exit 1).
pub fn check(args: CheckArgs) -> Result<bool, Failure> {
    let mut base = match &args.scenario {
        Some(path) => input::read(path, None).map_err(Failure::Input)?,
        None => Scenario::default(),
    };
    let mut found = FoundConfig::default();
    for path in &args.configs {
        read(path, &mut found).map_err(Failure::Input)?;
    }
    // The flags' values are checked with the scenario's; their errors name the flag.
    if let Some(rate_per_s) = args.rate_per_s {
        base.workload.arrivals = Arrivals::Poisson { rate_per_s };
        found.origins.insert(
            "workload.arrivals.rate_per_s".into(),
            format!("--rate-per-s {rate_per_s}"),
        );
    }
    if let Some(instances) = args.instances {
        base.app.instances = instances;
        found
            .origins
            .insert("app.instances".into(), format!("--instances {instances}"));
    }
    let slos = if args.slos.is_empty() {
        vec!["failures=0.1%".parse::<Slo>().expect("a valid default")]
    } else {
        args.slos
    };
    let review = review(&base, &found, &slos, &mut |configs| {
        parallel::run_all(configs, "runs").map_err(|(_, e)| e)
    })
    .map_err(|e| match e {
        ReviewError::Invalid(_) => Failure::Input(anyhow!("{e}")),
        ReviewError::Run(_) => Failure::Run(anyhow!("{e}")),
    })?;
    let out = match args.format {
        Format::Json => crate::json(&review),
        Format::Text | Format::Csv => text(&review),
    };
    crate::write_stdout(&out)?;
    Ok(!review.breaks_objectives)
}

fn read(path: &Path, found: &mut FoundConfig) -> anyhow::Result<()> {
    let text = input::read_text(path)?;
    config_files::read_with(&path.display().to_string(), &text, found, &mut include)?;
    Ok(())
}

/// A postgresql.conf include, found as PostgreSQL finds it: relative to the including file.
fn include(from: &str, written: &str, kind: Include) -> Result<Vec<(String, String)>, String> {
    let base = Path::new(from).parent().unwrap_or(Path::new(""));
    let path = base.join(written);
    let read = |p: &Path| {
        input::read_text(p)
            .map(|text| (p.display().to_string(), text))
            .map_err(|e| format!("{e:#}"))
    };
    match kind {
        Include::File => Ok(vec![read(&path)?]),
        Include::IfExists if !path.exists() => Ok(vec![]),
        Include::IfExists => Ok(vec![read(&path)?]),
        Include::Dir => {
            let entries = std::fs::read_dir(&path)
                .map_err(|e| format!("cannot read included directory {}: {e}", path.display()))?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "conf")
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect();
            files.sort();
            files.iter().map(|p| read(p)).collect()
        }
    }
}

fn text(r: &Review) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "check: {} instances x maximumPoolSize {} = {} connections against {} usable \
         (objectives: {})",
        r.instances,
        r.max_size,
        format::int(r.pool_total),
        format::int(u64::from(r.db_usable_connections)),
        r.objectives.join(", ")
    );
    if !r.sources.is_empty() {
        let _ = writeln!(out, "settings read:");
        for s in &r.sources {
            let _ = writeln!(out, "  {s}");
        }
    }
    for f in &r.findings {
        let _ = writeln!(
            out,
            "{}: {}",
            if f.risk { "RISK" } else { "note" },
            f.message
        );
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "  change: {fix}");
        }
    }
    let _ = writeln!(out);
    let width = r.situations.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "{:<width$}  {:>7}  {:>11}  {:>14}  {:>7}  verdict",
        "situation", "failed", "wait p99 ms", "latency p99 ms", "db peak"
    );
    for s in &r.situations {
        let verdict = match (s.judged, s.passes) {
            (false, _) => "reported (a failover fails requests by nature)".to_owned(),
            (true, true) => "meets".to_owned(),
            (true, false) => format!("misses: {}", s.missed.join("; ")),
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:>7}  {:>11}  {:>14}  {:>7}  {verdict}",
            s.name,
            format::share(s.failed_ratio),
            format::num(s.wait_p99_ms),
            format::num(s.latency_p99_ms),
            format::int(s.db_peak_connections),
        );
    }
    let _ = writeln!(
        out,
        "\nresult: {}",
        if r.breaks_objectives {
            "FAIL: these settings break the objectives (exit 1)"
        } else {
            "pass"
        }
    );
    out
}

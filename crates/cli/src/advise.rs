//! `poolsim advise`: the smallest pool size that meets the objectives, with the evidence.

use std::fmt::Write;
use std::path::Path;

use anyhow::anyhow;
use poolsim_advisor::{Advice, AdviseError, Options, Slo};

use poolsim_engine::csv;

use crate::{Failure, Format, input, parallel};
use poolsim_explain::format;

/// Prints the advice; `Ok(false)` when no size meets the objectives (exit 1).
pub fn advise(
    file: &Path,
    slos: &[Slo],
    options: Options,
    format: Format,
    seed: Option<u64>,
) -> Result<bool, Failure> {
    let config = input::load(file, seed).map_err(Failure::Input)?;
    let batch = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let options = Options { batch, ..options };
    let advice = poolsim_advisor::advise(&config, slos, &options, &mut |configs| {
        parallel::run_all(configs, "runs").map_err(|(_, e)| e)
    })
    .map_err(|e| match e {
        AdviseError::Run { .. } => Failure::Run(anyhow!("{e}")),
        AdviseError::NoObjective | AdviseError::Invalid { .. } => Failure::Input(anyhow!("{e}")),
    })?;
    let out = match format {
        Format::Text => text(&advice),
        Format::Json => crate::json(&advice),
        Format::Csv => table_csv(&advice),
    };
    crate::write_stdout(&out)?;
    Ok(advice.recommended.is_some())
}

fn text(a: &Advice) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "advise: the smallest app.pool.max_size with {} (worst of {} runs per size)",
        a.objectives.join(" and "),
        a.seeds
    );
    let _ = writeln!(
        out,
        "  {} {}; the database allows {} connections: at most {} per instance",
        a.instances,
        if a.instances == 1 {
            "instance"
        } else {
            "instances"
        },
        a.db_usable_connections,
        a.fleet_limit
    );
    let _ = writeln!(
        out,
        "  offered load {} erlangs per instance (Little's law): fewer connections cannot keep up\n",
        format::num(a.offered_load_per_instance)
    );
    let header = [
        "max_size",
        "wait p99 ms",
        "latency p99 ms",
        "failed",
        "pool util",
        "db peak",
        "verdict",
    ];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    for r in &a.rows {
        let verdict = match (r.passes, r.fits_database) {
            (true, true) => "meets".to_owned(),
            (true, false) => "meets, on a larger database".to_owned(),
            (false, _) => format!("misses: {}", r.missed.join("; ")),
        };
        rows.push(vec![
            r.max_size.to_string(),
            format::num(r.wait_p99_ms),
            format::num(r.latency_p99_ms),
            format::share(r.failed_ratio),
            format::share(r.pool_utilization),
            format::int(r.db_peak_connections),
            verdict,
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let last = row.len() - 1;
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let w = widths[c];
                if c == last {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    let _ = writeln!(out);
    match (a.recommended, &a.reason) {
        (Some(size), _) => {
            let _ = writeln!(out, "recommended: app.pool.max_size = {size}");
        }
        (None, Some(reason)) => {
            let _ = writeln!(out, "no recommendation: {reason}");
        }
        (None, None) => {}
    }
    let erlang = a.erlang_c.map_or_else(
        || "no answer (no pool-wait objective, or no stable size)".to_owned(),
        |c| format!("{c} (one instance's Poisson share, exponential holds, no timeout)"),
    );
    let _ = writeln!(out, "theory: Erlang C says {erlang}");
    let _ = writeln!(
        out,
        "        HikariCP's rule of thumb (cores x 2 + 1 for the database) gives {} per instance",
        a.rule_of_thumb
    );
    let _ = writeln!(
        out,
        "        they differ from the simulation where holds are not exponential, arrivals per \
         instance are not Poisson (round robin spaces them), timeouts or the database's \
         contention matter"
    );
    out
}

fn table_csv(a: &Advice) -> String {
    let mut out = String::from(
        "max_size,wait_p99_ms,latency_p99_ms,failed_ratio,pool_utilization,db_peak_connections,fits_database,passes,missed\n",
    );
    for r in &a.rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            r.max_size,
            r.wait_p99_ms,
            r.latency_p99_ms,
            r.failed_ratio,
            r.pool_utilization,
            r.db_peak_connections,
            r.fits_database,
            r.passes,
            csv::cell(&r.missed.join("; "))
        );
    }
    out
}

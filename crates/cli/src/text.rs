//! The run's summary as text for an operator: what happened to requests, how long they
//! waited, what the pools and the database did, which alerts fired, and theory beside the
//! measurement.

use std::fmt::Write;

use poolsim_engine::{InstanceStats, LatencyStats, Report, Summary};
use poolsim_scenario::{Config, Duration};

use poolsim_explain::format::{int, num, pct, secs, share, timeout};

/// Instances listed one per line; beyond this only the ones with the most failures.
const MAX_INSTANCE_ROWS: usize = 20;

/// Width of the label column.
const LABEL: usize = 18;

pub fn summary(config: &Config, report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    heading(&mut out, config, report);
    requests(&mut out, s);
    waits(&mut out, s);
    pool(&mut out, config, report);
    database(&mut out, s);
    instances(&mut out, s);
    operations(&mut out, report);
    alerts(&mut out, s);
    theory(&mut out, config, report);
    let _ = writeln!(out, "\nevents {}   digest {}", int(s.events), s.digest);
    out
}

/// `  label             value`
fn line(out: &mut String, label: &str, value: impl std::fmt::Display) {
    labelled(out, label, LABEL, value);
}

/// A line whose label column is `width` wide, or two spaces wider than a longer label.
fn labelled(out: &mut String, label: &str, width: usize, value: impl std::fmt::Display) {
    let width = width.max(label.chars().count() + 2);
    let _ = writeln!(out, "  {label:<width$}{value}");
}

fn heading(out: &mut String, config: &Config, report: &Report) {
    let s = &report.summary;
    let name = if s.name.is_empty() {
        "scenario"
    } else {
        &s.name
    };
    let warmup = if config.warmup_us > 0 {
        format!(", first {} as warmup", Duration::from_us(config.warmup_us))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{name}: {} simulated (seed {}{warmup})",
        Duration::from_us(config.duration_us),
        s.seed
    );
    let instances = config.app.instances;
    let _ = writeln!(
        out,
        "{} x pool of {} (connection_timeout {}), database with {} usable connections and {} cores",
        plural(u64::from(instances), "instance", "instances"),
        config.pool.max_size,
        timeout(config.pool.connection_timeout_us),
        config.db.usable_connections(),
        config.db.cores,
    );
    let verdict = poolsim_explain::verdict(report);
    let _ = writeln!(
        out,
        "verdict: {}. {}",
        verdict.level.as_str(),
        verdict.reason
    );
    if let Some(warning) = verdict.warning {
        let _ = writeln!(out, "WARNING: {warning}");
    }
}

fn requests(out: &mut String, s: &Summary) {
    let r = &s.requests;
    let f = &r.failures;
    let _ = writeln!(out, "\nRequests");
    let w = int(r.arrived).len().max(5);
    let count = |n: u64| format!("{:>w$}", int(n));
    // One label column for the section, wide enough for the longest cause shown.
    let width = f
        .iter()
        .filter(|&(_, &n)| n > 0)
        .map(|(cause, _)| cause.to_string().chars().count() + 4)
        .fold(LABEL, usize::max);
    let line = |out: &mut String, label: &str, value: String| labelled(out, label, width, value);
    line(out, "arrived", count(r.arrived));
    line(
        out,
        "succeeded",
        format!("{}  {:>6}", count(r.succeeded), pct(r.succeeded, r.arrived)),
    );
    line(
        out,
        "failed",
        format!("{}  {:>6}", count(r.failed), pct(r.failed, r.arrived)),
    );
    for (cause, &n) in f.iter().filter(|&(_, &n)| n > 0) {
        line(
            out,
            &format!("  {cause}"),
            format!(
                "{}  {:>6}  {}",
                count(n),
                pct(n, r.arrived),
                cause.meaning()
            ),
        );
    }
    line(out, "in flight at end", count(r.in_flight));
    line(out, "retries", count(r.retries));
    if r.abandoned_attempts > 0 {
        line(
            out,
            "abandoned",
            format!(
                "{}  attempts the client gave up on but the server finished",
                count(r.abandoned_attempts)
            ),
        );
    }
}

fn waits(out: &mut String, s: &Summary) {
    let w = &s.pool_wait_ms;
    let l = &s.latency_ms;
    let _ = writeln!(out, "\nTimes (ms)");
    let percentiles = |mean: f64, p50: f64, p95: f64, p99: f64, p999: f64, max: f64| {
        format!(
            "mean {}  p50 {}  p95 {}  p99 {}  p99.9 {}  max {}",
            num(mean),
            num(p50),
            num(p95),
            num(p99),
            num(p999),
            num(max)
        )
    };
    line(
        out,
        "pool wait",
        percentiles(w.mean, w.p50, w.p95, w.p99, w.p999, w.max),
    );
    line(
        out,
        "",
        format!(
            "{} of {} acquisitions waited",
            share(w.waited_fraction),
            int(w.count)
        ),
    );
    // Latency-shaped figures: a row of percentiles, then what they cover.
    let mut times = |label: &str, t: &LatencyStats, covers: String| {
        line(
            out,
            label,
            percentiles(t.mean, t.p50, t.p95, t.p99, t.p999, t.max),
        );
        line(out, "", covers);
    };
    times(
        "latency",
        l,
        format!("over {} successful requests", int(l.count)),
    );
    let t = &s.pool_wait_timed_out_ms;
    if t.count > 0 {
        let covers = format!(
            "over {} acquisitions that gave up at connection_timeout",
            int(t.count)
        );
        times("wait, timed out", t, covers);
    }
    let f = &s.latency_failed_ms;
    if f.count > 0 {
        let covers = format!("arrival to failure, over {} failed requests", int(f.count));
        times("latency, failed", f, covers);
    }
}

fn pool(out: &mut String, config: &Config, report: &Report) {
    let s = &report.summary;
    let p = &s.pool;
    let _ = writeln!(
        out,
        "\nPools ({} x max_size {} at the start, fleet totals)",
        config.app.instances, config.pool.max_size
    );
    let max = &report.series.pool_max.max;
    if let (Some(&first), Some(&last)) = (max.first(), max.last()) {
        let lowest = report
            .series
            .pool_max
            .mean
            .iter()
            .fold(f32::INFINITY, |a, &b| a.min(b));
        let mut capacity = format!(
            "{} at the start, {} at the end",
            int(first.into()),
            int(last.into())
        );
        if f64::from(lowest) < f64::from(first.min(last)) {
            let _ = write!(
                capacity,
                ", down to {} while instances were down",
                num(lowest.into())
            );
        }
        line(out, "max_size total", capacity);
    }
    line(out, "utilization", share(p.utilization));
    line(
        out,
        "active",
        format!("mean {}, peak {}", num(p.mean_active), int(p.peak_active)),
    );
    line(out, "idle", format!("mean {}", num(p.mean_idle)));
    line(
        out,
        "pending",
        format!("mean {}, peak {}", num(p.mean_pending), int(p.peak_pending)),
    );
    line(out, "total", format!("mean {}", num(p.mean_total)));
    line(
        out,
        "connections",
        format!("{} opened, {} closed", int(p.opened), int(p.closed)),
    );
    line(out, "timeouts", int(p.timeouts));
    line(
        out,
        "hold",
        format!(
            "mean {} ms, {} acquisitions/s",
            num(p.mean_hold_ms),
            num(p.acquisitions_per_s)
        ),
    );
    if p.leaks_reported > 0 || p.leaked > 0 {
        line(
            out,
            "leaks",
            format!(
                "{} reported, {} never returned",
                int(p.leaks_reported),
                int(p.leaked)
            ),
        );
    }
}

fn database(out: &mut String, s: &Summary) {
    let d = &s.db;
    let _ = writeln!(out, "\nDatabase");
    line(
        out,
        "connections",
        format!(
            "mean {}, peak {} of {} usable",
            num(d.mean_connections),
            int(d.peak_connections),
            int(d.usable_connections)
        ),
    );
    line(
        out,
        "openings",
        format!(
            "{} refused (too many clients), {} failed (unreachable)",
            int(d.refused_connections),
            int(d.failed_connections)
        ),
    );
    line(
        out,
        "running queries",
        format!(
            "mean {}, peak {}",
            num(d.mean_running_queries),
            int(d.peak_running_queries)
        ),
    );
    line(out, "cpu", share(d.cpu_utilization));
}

fn instances(out: &mut String, s: &Summary) {
    let all = &s.instances;
    let failures = all.iter().any(|i| i.failed > 0);
    if all.len() <= 1 || (all.len() > MAX_INSTANCE_ROWS && !failures) {
        return;
    }
    let mut shown: Vec<&InstanceStats> = all.iter().collect();
    if shown.len() > MAX_INSTANCE_ROWS {
        // Most failures first; ties keep instance order (the sort is stable).
        shown.sort_by_key(|i| std::cmp::Reverse(i.failed));
        shown.truncate(MAX_INSTANCE_ROWS);
        let _ = writeln!(
            out,
            "\nInstances ({} of {}, most failures first)",
            shown.len(),
            all.len()
        );
    } else {
        let _ = writeln!(out, "\nInstances");
    }
    let mut rows = vec![[
        "#".to_owned(),
        "succeeded".to_owned(),
        "failed".to_owned(),
        "pool timeouts".to_owned(),
        "mean conns".to_owned(),
        "mean active".to_owned(),
        "mean pending".to_owned(),
    ]];
    rows.extend(shown.iter().map(|i| {
        [
            i.instance.to_string(),
            int(i.succeeded),
            int(i.failed),
            int(i.pool_timeouts),
            num(i.mean_connections),
            num(i.mean_active),
            num(i.mean_pending),
        ]
    }));
    table(out, &rows);
}

/// The faults and operations as the engine applied them: windows, restart batches, the
/// settings each instance got, scaling.
fn operations(out: &mut String, report: &Report) {
    let ops = &report.operations;
    if ops.faults.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nFaults and operations (as applied)");
    for w in &ops.faults {
        let to = w.to_s.map_or_else(|| "the end".to_owned(), secs);
        let when = if w.to_s == Some(w.from_s) {
            format!("at {}", secs(w.from_s))
        } else {
            format!("{} to {to}", secs(w.from_s))
        };
        let mut what = format!("faults[{}] {}  {when}", w.fault, w.kind);
        let batches: Vec<_> = ops.restarts.iter().filter(|b| b.fault == w.fault).collect();
        if !batches.is_empty() {
            let instances: usize = batches.iter().map(|b| b.instances.len()).sum();
            let _ = write!(
                what,
                ": {instances} instances in {} batches, each down {}",
                batches.len(),
                secs(batches[0].up_s - batches[0].down_s)
            );
        }
        let reached: Vec<_> = ops
            .reconfigures
            .iter()
            .filter(|r| r.fault == w.fault)
            .collect();
        if let (Some(first), Some(last)) = (reached.first(), reached.last()) {
            let _ = write!(
                what,
                "; max_size {} reached {} instances from {} to {}",
                first.max_size,
                reached.len(),
                secs(first.at_s),
                secs(last.at_s)
            );
        }
        for scale in ops.scales.iter().filter(|c| c.fault == w.fault) {
            let _ = write!(what, ": {} to {} instances", scale.from, scale.to);
        }
        let _ = writeln!(out, "  {what}");
    }
    if ops.dropped > 0 {
        let _ = writeln!(out, "  ({} more not recorded)", int(ops.dropped));
    }
}

/// Right-aligned columns, indented like the other sections.
fn table<const N: usize>(out: &mut String, rows: &[[String; N]]) {
    let widths: Vec<usize> = (0..N)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:>w$}"))
            .collect();
        let _ = writeln!(out, "  {}", cells.join("  "));
    }
}

fn alerts(out: &mut String, s: &Summary) {
    if s.alerts.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nAlerts");
    let width = s
        .alerts
        .iter()
        .map(|a| a.name.chars().count() + 2)
        .max()
        .unwrap_or(0);
    for a in &s.alerts {
        let what = match (a.fired_at_s, a.cleared_at_s) {
            (None, _) => "did not fire".to_owned(),
            (Some(fired), cleared) => {
                let cleared = cleared.map_or_else(
                    || "still firing at the end".to_owned(),
                    |c| format!("cleared at {}", secs(c)),
                );
                let more = if a.firings > 1 {
                    format!("; {} firings, {} in all", a.firings, secs(a.firing_s))
                } else {
                    String::new()
                };
                format!("fired at {}, {cleared}{more}", secs(fired))
            }
        };
        labelled(
            out,
            &a.name,
            width.max(LABEL),
            format!("{what}  ({})", a.metric),
        );
    }
}

fn theory(out: &mut String, config: &Config, report: &Report) {
    let rows = poolsim_explain::theory_rows(report, config);
    let width = rows
        .iter()
        .map(|r| r.name.chars().count() + 2)
        .max()
        .unwrap_or(0)
        .max(LABEL);
    let _ = writeln!(out, "\nTheory beside measurement");
    for row in rows {
        labelled(out, row.name, width, &row.theory);
        if let Some(note) = &row.note {
            labelled(out, "", width, format!("({note})"));
        }
        labelled(out, "", width, format!("measured: {}", row.measured));
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", int(n), if n == 1 { one } else { many })
}

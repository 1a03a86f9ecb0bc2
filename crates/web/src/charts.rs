//! The page's five figures, built from a run's series (complete, or streaming in) and, when
//! one is pinned, a baseline run drawn dashed underneath.

use std::rc::Rc;

use poolsim_engine::{Cause, Distributions, Operations, Report, Series};
use poolsim_scenario::{Config, Fault, Scenario};

use crate::chart::{Line, Mark, Panel, RefLine, Span, XAxis};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartId {
    Pool,
    Db,
    Throughput,
    Percentiles,
    Distribution,
}

impl ChartId {
    pub const ALL: [ChartId; 5] = [
        ChartId::Pool,
        ChartId::Db,
        ChartId::Throughput,
        ChartId::Percentiles,
        ChartId::Distribution,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChartId::Pool => "pool",
            ChartId::Db => "db",
            ChartId::Throughput => "throughput",
            ChartId::Percentiles => "percentiles",
            ChartId::Distribution => "distribution",
        }
    }

    pub fn parse(text: &str) -> Option<ChartId> {
        ChartId::ALL.into_iter().find(|c| c.as_str() == text)
    }

    pub fn title(self) -> &'static str {
        match self {
            ChartId::Pool => "Pool connections",
            ChartId::Db => "Database",
            ChartId::Throughput => "Throughput and failures",
            ChartId::Percentiles => "Pool wait and latency over time",
            ChartId::Distribution => "Distribution of pool wait and latency",
        }
    }
}

/// One run as the charts need it.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub series: Rc<Series>,
    /// The faults and operations as the engine applied them (so far, for a live run).
    pub operations: Rc<Operations>,
    pub duration_s: f64,
    /// Whole-run distributions (a finished run only).
    pub distributions: Option<Rc<Distributions>>,
    /// Alert firings `(name, at_s)` (a finished run only).
    pub alerts: Vec<(String, f64)>,
}

impl Run {
    pub fn finished(report: &Report) -> Run {
        Run {
            series: Rc::new(report.series.clone()),
            operations: Rc::new(report.operations.clone()),
            duration_s: report.summary.duration_s,
            distributions: Some(Rc::new(report.distributions.clone())),
            alerts: report
                .summary
                .alerts
                .iter()
                .filter_map(|a| Some((a.name.clone(), a.fired_at_s?)))
                .collect(),
        }
    }
}

/// What the charts take from the scenario: the instance slots (for the pool chart's
/// picker) and the database's cores. Limits that change over a run (the pools' `max_size`,
/// usable connections) come from the run's series.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    pub instances: u32,
    pub cores: u32,
}

impl Limits {
    pub fn of(config: &Config) -> Limits {
        Limits {
            instances: config.instance_slots(),
            cores: config.db.cores,
        }
    }
}

/// The colour of a failure cause on every chart.
pub fn cause_color(cause: Cause) -> &'static str {
    match cause {
        Cause::PoolTimeout => ORANGE,
        Cause::ClientTimeout => PINK,
        Cause::DbRefused => RED,
        Cause::StatementTimeout => PURPLE,
        Cause::Outage => GRAY,
        Cause::Unavailable => BROWN,
    }
}

/// Which pool the pool chart shows: all instances summed, or one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instance {
    All,
    One(usize),
}

const BLUE: &str = "#2f6fdf";
const GREEN: &str = "#1f9d55";
const ORANGE: &str = "#e08a00";
const RED: &str = "#d64545";
const PURPLE: &str = "#8b5cf6";
const TEAL: &str = "#0f9aa8";
const PINK: &str = "#d0459a";
const GRAY: &str = "#7b8794";
const BROWN: &str = "#8d5a2b";

/// Bucket start times of a series, seconds.
fn times(series: &Series) -> Rc<[f64]> {
    (0..series.len())
        .map(|i| i as f64 * series.bucket_s)
        .collect()
}

fn floats(v: &[f32]) -> Rc<[f64]> {
    v.iter().map(|&x| f64::from(x)).collect()
}

fn maybe(v: &[Option<f32>]) -> Rc<[f64]> {
    v.iter().map(|x| x.map_or(f64::NAN, f64::from)).collect()
}

fn per_second(v: &[u32], bucket_s: f64) -> Rc<[f64]> {
    v.iter()
        .map(|&x| f64::from(x) / bucket_s.max(1e-9))
        .collect()
}

/// The lines of one chart panel for `run`, dashed when it is the baseline.
type LinesOf = fn(&Series, Instance) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)>;

fn lines(run: &Run, baseline: Option<&Run>, instance: Instance, of: LinesOf) -> Vec<Line> {
    let mut out = Vec::new();
    for (r, is_baseline) in baseline
        .map(|b| (b, true))
        .into_iter()
        .chain([(run, false)])
    {
        let xs = times(&r.series);
        for (key, label, color, ys) in of(&r.series, instance) {
            out.push(Line {
                label: label.to_owned(),
                key,
                color,
                xs: xs.clone(),
                ys,
                baseline: is_baseline,
                limit: false,
            });
        }
    }
    out
}

/// A limit of the run (not the baseline) as it changed over time, from its series.
fn limit_line(run: &Run, key: &'static str, label: &str, ys: &[u32]) -> Line {
    Line {
        label: label.to_owned(),
        key,
        color: RED,
        xs: times(&run.series),
        ys: ys.iter().map(|&v| f64::from(v)).collect(),
        baseline: false,
        limit: true,
    }
}

fn pool_lines(
    s: &Series,
    instance: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    match instance {
        Instance::One(i) if i < s.instances.len() => {
            let one = &s.instances[i];
            vec![
                ("active", "active", BLUE, floats(&one.active)),
                ("idle", "idle", GREEN, floats(&one.idle)),
            ]
        }
        _ => vec![
            ("active", "active", BLUE, floats(&s.pool_active.mean)),
            ("idle", "idle", GREEN, floats(&s.pool_idle.mean)),
        ],
    }
}

fn pending_lines(
    s: &Series,
    instance: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    let pending = match instance {
        Instance::One(i) if i < s.instances.len() => floats(&s.instances[i].pending),
        _ => floats(&s.pool_pending.mean),
    };
    vec![("pending", "pending for a connection", ORANGE, pending)]
}

fn db_connection_lines(
    s: &Series,
    _: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    vec![
        (
            "db_connections",
            "connections",
            BLUE,
            floats(&s.db_connections.mean),
        ),
        (
            "db_connections_max",
            "peak in bucket",
            GRAY,
            s.db_connections.max.iter().map(|&x| f64::from(x)).collect(),
        ),
    ]
}

fn db_running_lines(
    s: &Series,
    _: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    vec![(
        "db_running",
        "running queries",
        PURPLE,
        floats(&s.db_running.mean),
    )]
}

fn db_cpu_lines(
    s: &Series,
    _: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    let busy: Rc<[f64]> = s.db_cpu.iter().map(|&x| f64::from(x) * 100.0).collect();
    vec![("db_cpu", "CPU busy %", TEAL, busy)]
}

fn throughput_lines(
    s: &Series,
    _: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    let b = s.bucket_s;
    let mut out = vec![("succeeded", "succeeded", GREEN, per_second(&s.succeeded, b))];
    for (cause, column) in s.failed.iter() {
        out.push((
            cause.key(),
            cause.label(),
            cause_color(cause),
            per_second(column, b),
        ));
    }
    out.push(("retries", "retries", TEAL, per_second(&s.retries, b)));
    out
}

fn wait_lines(
    s: &Series,
    _: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    vec![
        (
            "pool_wait_p50",
            "wait p50 (served)",
            GREEN,
            maybe(&s.pool_wait_p50_ms),
        ),
        (
            "pool_wait_p99",
            "wait p99 (served)",
            ORANGE,
            maybe(&s.pool_wait_p99_ms),
        ),
        (
            "pool_wait_all_p99",
            "wait p99 (all, timed out too)",
            RED,
            maybe(&s.pool_wait_all_p99_ms),
        ),
    ]
}

fn latency_lines(
    s: &Series,
    _: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    vec![
        (
            "latency_p50",
            "p50 (succeeded)",
            BLUE,
            maybe(&s.latency_p50_ms),
        ),
        (
            "latency_p95",
            "p95 (succeeded)",
            PURPLE,
            maybe(&s.latency_p95_ms),
        ),
        (
            "latency_p99",
            "p99 (succeeded)",
            RED,
            maybe(&s.latency_p99_ms),
        ),
        (
            "latency_failed_p99",
            "p99 to failure (failed)",
            GRAY,
            maybe(&s.latency_failed_p99_ms),
        ),
    ]
}

/// The panels of chart `id`.
pub fn panels(
    id: ChartId,
    run: &Run,
    baseline: Option<&Run>,
    limits: Limits,
    instance: Instance,
) -> Vec<Panel> {
    match id {
        ChartId::Pool => {
            let s = &run.series;
            let cap = match instance {
                Instance::One(i) if i < s.instances.len() => {
                    limit_line(run, "pool_max", "max_size", &s.instances[i].max)
                }
                _ => limit_line(run, "pool_max", "max_size total", &s.pool_max.max),
            };
            let mut connections = lines(run, baseline, instance, pool_lines);
            connections.push(cap);
            // Pending has its own panel: 8,000 requests waiting would flatten a pool of 80.
            vec![
                Panel {
                    unit: "connections",
                    lines: connections,
                    refs: vec![],
                    log: false,
                },
                Panel {
                    unit: "requests waiting",
                    lines: lines(run, baseline, instance, pending_lines),
                    refs: vec![],
                    log: false,
                },
            ]
        }
        ChartId::Db => vec![
            Panel {
                unit: "connections",
                lines: {
                    let mut lines = lines(run, baseline, instance, db_connection_lines);
                    lines.push(limit_line(
                        run,
                        "db_usable",
                        "usable max_connections",
                        &run.series.db_usable,
                    ));
                    lines
                },
                refs: vec![],
                log: false,
            },
            // One unit per axis: queries against the cores, and CPU in percent.
            Panel {
                unit: "running queries",
                lines: lines(run, baseline, instance, db_running_lines),
                refs: vec![RefLine {
                    label: format!("{} cores", limits.cores),
                    y: f64::from(limits.cores),
                }],
                log: false,
            },
            Panel {
                unit: "CPU %",
                lines: lines(run, baseline, instance, db_cpu_lines),
                refs: vec![],
                log: false,
            },
        ],
        ChartId::Throughput => vec![Panel {
            unit: "per second",
            lines: lines(run, baseline, instance, throughput_lines),
            refs: vec![],
            log: false,
        }],
        ChartId::Percentiles => vec![
            Panel {
                unit: "wait ms",
                lines: lines(run, baseline, instance, wait_lines),
                refs: vec![],
                log: true,
            },
            Panel {
                unit: "latency ms",
                lines: lines(run, baseline, instance, latency_lines),
                refs: vec![],
                log: true,
            },
        ],
        ChartId::Distribution => {
            let mut out = Vec::new();
            for (r, is_baseline) in baseline
                .map(|b| (b, true))
                .into_iter()
                .chain([(run, false)])
            {
                let Some(d) = &r.distributions else { continue };
                for (key, label, color, bins) in [
                    ("pool_wait_cdf", "pool wait", ORANGE, &d.pool_wait),
                    ("latency_cdf", "latency", BLUE, &d.latency),
                ] {
                    let (xs, ys) = cdf(bins);
                    out.push(Line {
                        label: label.into(),
                        key,
                        color,
                        xs,
                        ys,
                        baseline: is_baseline,
                        limit: false,
                    });
                }
            }
            vec![Panel {
                unit: "share ≤ x",
                lines: out,
                refs: vec![],
                log: false,
            }]
        }
    }
}

/// The x axis of chart `id`.
pub fn x_axis(id: ChartId, run: &Run, baseline: Option<&Run>, scenario: &Scenario) -> XAxis {
    if id == ChartId::Distribution {
        let ends = [run, baseline.unwrap_or(run)].into_iter().filter_map(|r| {
            let d = r.distributions.as_ref()?;
            let lo = d
                .pool_wait
                .iter()
                .chain(&d.latency)
                .map(|b| b.high_ms)
                .filter(|x| *x > 0.0)
                .reduce(f64::min)?;
            let hi = d
                .pool_wait
                .iter()
                .chain(&d.latency)
                .map(|b| b.high_ms)
                .reduce(f64::max)?;
            Some((lo, hi))
        });
        let (lo, hi) = ends.fold((f64::INFINITY, 0.0f64), |(a, b), (lo, hi)| {
            (a.min(lo), b.max(hi))
        });
        return if hi > 0.0 {
            XAxis::LogMs { min: lo, max: hi }
        } else {
            XAxis::LogMs {
                min: 0.1,
                max: 100.0,
            }
        };
    }
    XAxis::Time {
        max: run.duration_s.max(baseline.map_or(0.0, |b| b.duration_s)),
        start: clock_start(scenario),
    }
}

/// A replay's wall clock: its timeline's start as Unix seconds, if it has one.
pub fn clock_start(scenario: &Scenario) -> Option<i64> {
    let start = &scenario.timeline.start;
    (!start.is_empty())
        .then(|| poolsim_scenario::parse_utc(start).ok())
        .flatten()
}

/// Cumulative share of values at or below each bin's upper end.
fn cdf(bins: &[poolsim_engine::Bin]) -> (Rc<[f64]>, Rc<[f64]>) {
    let total: u64 = bins.iter().map(|b| b.count).sum();
    let mut seen = 0u64;
    let mut xs = Vec::with_capacity(bins.len());
    let mut ys = Vec::with_capacity(bins.len());
    for b in bins {
        seen += b.count;
        xs.push(b.high_ms);
        ys.push(seen as f64 / total.max(1) as f64);
    }
    (xs.into(), ys.into())
}

/// Fault windows as the engine applied them, traffic changes, alert firings and timeline
/// moments, for the time axis. A window's label names its fault as the scenario wrote it.
pub fn spans(scenario: &Scenario, run: &Run) -> Vec<Span> {
    let end = run.duration_s;
    let mut out: Vec<Span> = run
        .operations
        .faults
        .iter()
        .map(|w| Span {
            from: w.from_s,
            to: w.to_s.unwrap_or(end).min(end),
            label: scenario
                .faults
                .get(w.fault as usize)
                .map_or_else(|| w.kind.replace('_', " "), fault_label),
            kind: Mark::Fault,
        })
        .collect();
    // Traffic changes are rate steps, applied when the scenario says.
    out.extend(scenario.faults.iter().filter_map(|f| match f {
        Fault::TrafficChange { at, rate_per_s } => Some(Span {
            from: at.as_secs_f64(),
            to: at.as_secs_f64(),
            label: format!("→ {rate_per_s}/s"),
            kind: Mark::Fault,
        }),
        _ => None,
    }));
    out.extend(run.alerts.iter().map(|(name, at)| Span {
        from: *at,
        to: *at,
        label: name.clone(),
        kind: Mark::Alert,
    }));
    out.extend(scenario.timeline.moments.iter().map(|m| Span {
        from: m.at.as_secs_f64(),
        to: m.at.as_secs_f64(),
        label: m.label.clone(),
        kind: Mark::Moment,
    }));
    out
}

/// A fault's short label on the charts.
fn fault_label(fault: &Fault) -> String {
    match fault {
        Fault::DbOutage { .. } => "db outage".to_owned(),
        Fault::SlowQueries { factor, .. } => format!("queries ×{factor}"),
        Fault::TrafficChange { rate_per_s, .. } => format!("→ {rate_per_s}/s"),
        Fault::RollingRestart { .. } => "rolling restart".to_owned(),
        Fault::Reconfigure { .. } => "reconfigure".to_owned(),
        Fault::ConnectionLeak { .. } => "leak".to_owned(),
        Fault::Scale { instances, .. } => format!("→ {instances} instances"),
    }
}

/// Playback: the charts as they stood at `until` seconds. The run's lines end there, alerts,
/// moments and faults after it are hidden (a fault under way is cut at it), and a playhead
/// line marks it. A pinned baseline stays whole, for comparison.
pub fn reveal(panels: &mut [Panel], spans: &mut Vec<Span>, until: f64, label: String) {
    for line in panels
        .iter_mut()
        .flat_map(|p| p.lines.iter_mut())
        .filter(|l| !l.baseline)
    {
        let n = line.xs.partition_point(|&x| x <= until);
        line.xs = line.xs[..n].into();
        line.ys = line.ys[..n.min(line.ys.len())].into();
    }
    spans.retain(|s| s.from <= until);
    for s in spans.iter_mut() {
        s.to = s.to.min(until);
    }
    spans.push(Span {
        from: until,
        to: until,
        label,
        kind: Mark::Playhead,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playback_cuts_the_run_at_the_playhead() {
        let xs: Rc<[f64]> = (0..10).map(f64::from).collect();
        let line = |baseline| Line {
            label: "a".into(),
            key: "a",
            color: "#000",
            xs: xs.clone(),
            ys: xs.clone(),
            baseline,
            limit: false,
        };
        let mut panels = vec![Panel {
            unit: "x",
            lines: vec![line(false), line(true)],
            refs: vec![],
            log: false,
        }];
        let mut spans = vec![
            Span {
                from: 2.0,
                to: 6.0,
                label: "fault".into(),
                kind: Mark::Fault,
            },
            Span {
                from: 7.0,
                to: 7.0,
                label: "later".into(),
                kind: Mark::Moment,
            },
        ];
        reveal(&mut panels, &mut spans, 4.5, "now".into());
        assert_eq!(panels[0].lines[0].xs.len(), 5, "buckets 0..=4 are shown");
        assert_eq!(panels[0].lines[1].xs.len(), 10, "the baseline stays whole");
        assert_eq!(spans.len(), 2);
        assert_eq!((spans[0].from, spans[0].to), (2.0, 4.5));
        assert_eq!(spans[1].kind, Mark::Playhead);
    }

    /// The value of line `key` at time `at_s` (the bucket holding it).
    fn value_at(panel: &Panel, key: &str, at_s: f64) -> f64 {
        let line = panel.lines.iter().find(|l| l.key == key && !l.baseline);
        let line = line.unwrap_or_else(|| panic!("no line {key}"));
        let i = line.xs.partition_point(|&x| x <= at_s) - 1;
        line.ys[i]
    }

    fn finished(json: &str, duration: &str) -> (Config, Run) {
        let mut scenario = poolsim_scenario::parse(json).unwrap();
        scenario.duration = duration.parse().unwrap();
        let config = scenario.validate().unwrap();
        let report = poolsim_engine::run(&config).unwrap();
        (config, Run::finished(&report))
    }

    #[test]
    fn the_pool_limit_follows_the_fix_as_it_rolls_out() {
        let (config, run) = finished(
            include_str!("../../../tests/scenarios/outage-fix.json"),
            "20m",
        );
        let limits = Limits::of(&config);
        let pool = &panels(ChartId::Pool, &run, None, limits, Instance::All)[0];
        // 12 x 80 before the fix at 15m; batches of 4 go down 40 s each, 20 s apart, and come
        // back with pools of 40; 12 x 40 once the last batch is up (15m + 2m40s).
        assert_eq!(value_at(pool, "pool_max", 60.0), 960.0);
        assert_eq!(value_at(pool, "pool_max", 15.0 * 60.0 + 20.0), 640.0);
        assert_eq!(value_at(pool, "pool_max", 15.0 * 60.0 + 50.0), 800.0);
        assert_eq!(value_at(pool, "pool_max", 19.0 * 60.0), 480.0);
        let limit = pool.lines.iter().find(|l| l.limit).unwrap();
        assert_eq!(limit.label, "max_size total");
        let one = &panels(ChartId::Pool, &run, None, limits, Instance::One(11))[0];
        assert_eq!(value_at(one, "pool_max", 60.0), 80.0);
        assert_eq!(value_at(one, "pool_max", 19.0 * 60.0), 40.0);
        let db = &panels(ChartId::Db, &run, None, limits, Instance::All)[0];
        assert_eq!(value_at(db, "db_usable", 19.0 * 60.0), 497.0);
        let pinned = panels(ChartId::Db, &run, Some(&run), limits, Instance::All);
        let dashed = pinned[0].lines.iter().filter(|l| l.baseline).count();
        assert_eq!(dashed, 2, "the baseline's lines, not its limit");
        let dist = panels(ChartId::Distribution, &run, None, limits, Instance::All);
        let last = *dist[0].lines[1].ys.last().unwrap();
        assert!((last - 1.0).abs() < 1e-12, "a CDF ends at 1, got {last}");
        // The restart windows are the engine's: the outage's deploy at 3m, the fix's at 15m,
        // each to its last batch's return.
        let windows: Vec<(f64, f64, &str)> = spans(&config.scenario, &run)
            .iter()
            .filter(|s| s.kind == Mark::Fault)
            .map(|s| (s.from, s.to, s.label.as_str()))
            .map(|(a, b, l)| {
                (
                    a,
                    b,
                    if l == "rolling restart" {
                        "restart"
                    } else {
                        "other"
                    },
                )
            })
            .collect();
        assert_eq!(windows[0], (180.0, 340.0, "restart"));
        assert_eq!((windows[1].0, windows[1].1), (900.0, 1060.0));
    }

    #[test]
    fn every_failure_cause_has_a_line_and_a_restart_of_all_shows_unavailable() {
        let json = r#"{"duration": "2m", "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 200}},
            "app": {"instances": 4, "pool": {"max_size": 5}},
            "faults": [{"kind": "rolling_restart", "at": "30s", "down": "20s", "gap": "0s", "batch": 4}]}"#;
        let (config, run) = finished(json, "2m");
        let throughput = &panels(
            ChartId::Throughput,
            &run,
            None,
            Limits::of(&config),
            Instance::All,
        )[0];
        for cause in Cause::ALL {
            let line = throughput.lines.iter().find(|l| l.key == cause.key());
            let line = line.unwrap_or_else(|| panic!("no line for {cause:?}"));
            assert_eq!(line.label, cause.label());
        }
        // All four instances are down from 30 s to 50 s: every request then fails "no instance".
        let unavailable = value_at(throughput, Cause::Unavailable.key(), 40.0);
        assert!((150.0..250.0).contains(&unavailable), "{unavailable}/s");
        assert_eq!(value_at(throughput, "succeeded", 40.0), 0.0);
        assert_eq!(value_at(throughput, Cause::Unavailable.key(), 70.0), 0.0);
    }

    #[test]
    fn the_wait_chart_shows_the_waits_of_acquisitions_that_timed_out() {
        let (config, run) = finished(include_str!("../../../tests/scenarios/outage.json"), "10m");
        let wait = &panels(
            ChartId::Percentiles,
            &run,
            None,
            Limits::of(&config),
            Instance::All,
        )[0];
        // The starved instances' requests wait their whole 30 s connection_timeout.
        let worst = wait
            .lines
            .iter()
            .find(|l| l.key == "pool_wait_all_p99")
            .unwrap()
            .ys
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        assert!((29_000.0..=30_500.0).contains(&worst), "{worst} ms");
    }
}

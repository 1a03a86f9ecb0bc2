//! The page's five figures, built from a run's series (complete, or streaming in) and, when
//! one is pinned, a baseline run drawn dashed underneath.

use std::rc::Rc;

use poolsim_engine::{Distributions, Report, Series};
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

/// Limits drawn as reference lines, from the scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    pub instances: u32,
    pub max_size: u32,
    pub usable: u32,
    pub cores: u32,
}

impl Limits {
    pub fn of(config: &Config) -> Limits {
        Limits {
            instances: config.instance_slots(),
            max_size: config.pool.max_size,
            usable: config.db.usable_connections(),
            cores: config.db.cores,
        }
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
            });
        }
    }
    out
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
                ("pending", "pending", ORANGE, floats(&one.pending)),
            ]
        }
        _ => vec![
            ("active", "active", BLUE, floats(&s.pool_active.mean)),
            ("idle", "idle", GREEN, floats(&s.pool_idle.mean)),
            ("pending", "pending", ORANGE, floats(&s.pool_pending.mean)),
        ],
    }
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
    let cores_busy: Rc<[f64]> = s.db_cpu.iter().map(|&x| f64::from(x) * 100.0).collect();
    vec![
        (
            "db_running",
            "running queries",
            PURPLE,
            floats(&s.db_running.mean),
        ),
        ("db_cpu", "CPU %", TEAL, cores_busy),
    ]
}

fn throughput_lines(
    s: &Series,
    _: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    let b = s.bucket_s;
    vec![
        ("succeeded", "succeeded", GREEN, per_second(&s.succeeded, b)),
        (
            "failed_pool_timeout",
            "pool timeout",
            ORANGE,
            per_second(&s.failed_pool_timeout, b),
        ),
        (
            "failed_db_refused",
            "too many clients",
            RED,
            per_second(&s.failed_db_refused, b),
        ),
        (
            "failed_client_timeout",
            "client timeout",
            PINK,
            per_second(&s.failed_client_timeout, b),
        ),
        (
            "failed_statement_timeout",
            "statement timeout",
            PURPLE,
            per_second(&s.failed_statement_timeout, b),
        ),
        (
            "failed_outage",
            "outage",
            GRAY,
            per_second(&s.failed_outage, b),
        ),
        ("retries", "retries", TEAL, per_second(&s.retries, b)),
    ]
}

fn wait_lines(
    s: &Series,
    _: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    vec![
        (
            "pool_wait_p50",
            "wait p50",
            GREEN,
            maybe(&s.pool_wait_p50_ms),
        ),
        (
            "pool_wait_p99",
            "wait p99",
            ORANGE,
            maybe(&s.pool_wait_p99_ms),
        ),
    ]
}

fn latency_lines(
    s: &Series,
    _: Instance,
) -> Vec<(&'static str, &'static str, &'static str, Rc<[f64]>)> {
    vec![
        ("latency_p50", "latency p50", BLUE, maybe(&s.latency_p50_ms)),
        (
            "latency_p95",
            "latency p95",
            PURPLE,
            maybe(&s.latency_p95_ms),
        ),
        ("latency_p99", "latency p99", RED, maybe(&s.latency_p99_ms)),
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
            let cap = match instance {
                Instance::All => limits.instances * limits.max_size,
                Instance::One(_) => limits.max_size,
            };
            vec![Panel {
                unit: "connections",
                lines: lines(run, baseline, instance, pool_lines),
                refs: vec![RefLine {
                    label: format!("max_size total {cap}"),
                    y: f64::from(cap),
                }],
                log: false,
            }]
        }
        ChartId::Db => vec![
            Panel {
                unit: "connections",
                lines: lines(run, baseline, instance, db_connection_lines),
                refs: vec![RefLine {
                    label: format!("usable max_connections {}", limits.usable),
                    y: f64::from(limits.usable),
                }],
                log: false,
            },
            Panel {
                unit: "queries, %",
                lines: lines(run, baseline, instance, db_running_lines),
                refs: vec![RefLine {
                    label: format!("{} cores", limits.cores),
                    y: f64::from(limits.cores),
                }],
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

/// Fault windows from the scenario and alert firings from the run, for the time axis.
pub fn spans(scenario: &Scenario, run: &Run) -> Vec<Span> {
    let end = run.duration_s;
    let secs = |d: poolsim_scenario::Duration| d.as_secs_f64();
    let until = |at: f64, d: f64| if d > 0.0 { at + d } else { end };
    // A restart goes through the instances in service when it starts (scaling counts).
    let in_service = |at: f64| {
        let mut scales: Vec<(f64, u32)> = scenario
            .faults
            .iter()
            .filter_map(|f| match f {
                Fault::Scale { at: t, instances } if secs(*t) <= at => Some((secs(*t), *instances)),
                _ => None,
            })
            .collect();
        scales.sort_by(|a, b| a.0.total_cmp(&b.0));
        f64::from(scales.last().map_or(scenario.app.instances, |s| s.1).max(1))
    };
    let restart = |at: f64, down: f64, gap: f64, batch: u32| {
        at + (in_service(at) / f64::from(batch.max(1))).ceil() * (down + gap)
    };
    let mut out: Vec<Span> = scenario
        .faults
        .iter()
        .map(|f| {
            let (from, to, label) = match f {
                Fault::DbOutage { at, duration } => (
                    secs(*at),
                    secs(*at) + secs(*duration),
                    "db outage".to_owned(),
                ),
                Fault::SlowQueries {
                    at,
                    duration,
                    factor,
                } => (
                    secs(*at),
                    until(secs(*at), secs(*duration)),
                    format!("queries ×{factor}"),
                ),
                Fault::TrafficChange { at, rate_per_s } => {
                    (secs(*at), secs(*at), format!("→ {rate_per_s}/s"))
                }
                Fault::RollingRestart {
                    at,
                    down,
                    gap,
                    batch,
                } => (
                    secs(*at),
                    restart(secs(*at), secs(*down), secs(*gap), *batch),
                    "rolling restart".to_owned(),
                ),
                Fault::Reconfigure {
                    at,
                    rolling_restart,
                    ..
                } => {
                    let to = rolling_restart.as_ref().map_or(secs(*at), |r| {
                        restart(secs(*at), secs(r.down), secs(r.gap), r.batch)
                    });
                    (secs(*at), to, "reconfigure".to_owned())
                }
                Fault::ConnectionLeak { at, duration, .. } => (
                    secs(*at),
                    until(secs(*at), secs(*duration)),
                    "leak".to_owned(),
                ),
                Fault::Scale { at, instances } => {
                    (secs(*at), secs(*at), format!("→ {instances} instances"))
                }
            };
            Span {
                from,
                to: to.min(end),
                label,
                kind: Mark::Fault,
            }
        })
        .collect();
    out.extend(run.alerts.iter().map(|(name, at)| Span {
        from: *at,
        to: *at,
        label: name.clone(),
        kind: Mark::Alert,
    }));
    out.extend(scenario.timeline.moments.iter().map(|m| Span {
        from: secs(m.at),
        to: secs(m.at),
        label: m.label.clone(),
        kind: Mark::Moment,
    }));
    out
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

    #[test]
    fn charts_have_their_lines_limits_and_fault_windows() {
        let config =
            poolsim_scenario::load(include_str!("../../../tests/scenarios/outage.json")).unwrap();
        let mut short = config.scenario.clone();
        short.duration = "10m".parse().unwrap();
        let config = short.validate().unwrap();
        let report = poolsim_engine::run(&config).unwrap();
        let run = Run::finished(&report);
        let limits = Limits::of(&config);
        let pool = panels(ChartId::Pool, &run, None, limits, Instance::All);
        assert_eq!(pool[0].refs[0].y, 960.0);
        assert_eq!(pool[0].lines.len(), 3);
        let db = panels(ChartId::Db, &run, Some(&run), limits, Instance::All);
        assert_eq!(db[0].refs[0].y, 497.0);
        assert_eq!(db[0].lines.iter().filter(|l| l.baseline).count(), 2);
        let one = panels(ChartId::Pool, &run, None, limits, Instance::One(11));
        assert_eq!(one[0].refs[0].y, 80.0);
        let dist = panels(ChartId::Distribution, &run, None, limits, Instance::All);
        let last = *dist[0].lines[1].ys.last().unwrap();
        assert!((last - 1.0).abs() < 1e-12, "a CDF ends at 1, got {last}");
        let s = spans(&config.scenario, &run);
        assert_eq!(s[0].label, "rolling restart");
        // 12 instances, 4 at a time, each batch 40 s down and 20 s apart, from 3m.
        assert_eq!((s[0].from, s[0].to), (180.0, 360.0));
        assert!(
            s.iter().any(|s| s.kind == Mark::Alert),
            "the failure alert fires"
        );
        // After a scale-in to 4 instances, the same restart goes through 4, not 12.
        let mut scaled = config.scenario.clone();
        scaled.faults.insert(
            0,
            Fault::Scale {
                at: "1m".parse().unwrap(),
                instances: 4,
            },
        );
        let s = spans(&scaled, &run);
        let restart = s.iter().find(|s| s.label == "rolling restart").unwrap();
        assert_eq!((restart.from, restart.to), (180.0, 240.0));
    }
}

//! The after-action summary a trainer prints or saves: the timeline (the scenario's moments
//! and the alerts as they fired), the key charts, what failed and when, and what fixed it.
//! Everything in it comes from the scenario and its finished run; "Save" writes one
//! standalone HTML file (styles and charts inline), "Print" prints only the summary.

use std::rc::Rc;

use poolsim_advisor::exercise::{Outcome, describe_operation, outcome};
use poolsim_engine::{Cause, Report};
use poolsim_scenario::{Config, Fault, Scenario};
use yew::prelude::*;

use crate::chart::{clock, number, wall, when};
use crate::charts::clock_start;
use poolsim_explain::format::share as percent;

/// One line of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub at_s: f64,
    /// A moment's kind (`detection`, `fix`, ...) or `alert`.
    pub kind: String,
    pub label: String,
    pub detail: String,
}

/// What the summary says, computed from the scenario and its run.
#[derive(Clone, Debug, PartialEq)]
pub struct AfterAction {
    pub title: String,
    /// "2023-08-05 13:52 to 14:27 UTC", or the simulated span without a clock.
    pub when: String,
    pub start: Option<i64>,
    pub description: String,
    pub entries: Vec<Entry>,
    pub outcome: Outcome,
    /// `(cause, count)` for each cause that failed requests, most first.
    pub causes: Vec<(Cause, u64)>,
    /// The fewest instances that hold 90% of the failures, and how many there are.
    pub concentrated: Option<(Vec<u32>, usize)>,
    /// Signals between onset and recovery (or the end), against the time before onset.
    pub signals: Vec<(String, String, String)>,
    /// The fix moments, and the operations the scenario applies at or after the first (or,
    /// without one, after failures began).
    pub fixes: Vec<Entry>,
    pub operations: Vec<String>,
    /// Detection (first detection moment, else first alert) and fix times.
    pub detected_s: Option<f64>,
    pub fixed_s: Option<f64>,
}

impl AfterAction {
    pub fn of(config: &Config, report: &Report) -> AfterAction {
        let scenario: &Scenario = &config.scenario;
        let series = &report.series;
        let s = &report.summary;
        let start = clock_start(scenario);
        let duration = scenario.duration.as_secs_f64();
        let when = match start {
            Some(t) => {
                let day = (t.div_euclid(86_400)) as i32;
                format!(
                    "{} {} to {} UTC",
                    civil_date(day),
                    wall(t, 0.0, false),
                    wall(t, duration, false)
                )
            }
            None => format!("{} simulated", clock(duration)),
        };

        let mut entries: Vec<Entry> = scenario
            .timeline
            .moments
            .iter()
            .map(|m| Entry {
                at_s: m.at.as_secs_f64(),
                kind: m.kind.as_str().to_owned(),
                label: m.label.clone(),
                detail: m.detail.clone(),
            })
            .collect();
        for a in &s.alerts {
            if let Some(at) = a.fired_at_s {
                let cleared = a
                    .cleared_at_s
                    .map_or("still firing at the end".to_owned(), |c| {
                        format!("cleared at {}", clock(c))
                    });
                entries.push(Entry {
                    at_s: at,
                    kind: "alert".to_owned(),
                    label: format!("alert \"{}\" fires", a.name),
                    detail: format!("{} ({cleared}).", a.metric),
                });
            }
        }
        // Stable: a moment comes before an alert at the same time.
        entries.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));

        let o = outcome(series, s.duration_s, 0.0);
        let mut causes: Vec<(Cause, u64)> = s
            .requests
            .failures
            .iter()
            .map(|(cause, &n)| (cause, n))
            .filter(|&(_, n)| n > 0)
            .collect();
        causes.sort_by_key(|c| std::cmp::Reverse(c.1));

        // Among the instances that served at all (a scaled fleet has slots that never did).
        let served = s
            .instances
            .iter()
            .filter(|i| i.succeeded + i.failed > 0)
            .count();
        let concentrated = (s.requests.failed > 0 && served > 1).then(|| {
            let mut by: Vec<(u32, u64)> =
                s.instances.iter().map(|i| (i.instance, i.failed)).collect();
            by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut held = 0;
            let mut few = Vec::new();
            for (i, n) in by {
                if held as f64 >= 0.9 * s.requests.failed as f64 {
                    break;
                }
                held += n;
                few.push(i);
            }
            few.sort_unstable();
            (few, served)
        });

        let signals = match o.onset_s {
            Some(onset) => {
                let to = o.recovered_s.unwrap_or(duration);
                let bucket = |t: f64| ((t / series.bucket_s.max(1e-9)) as usize).min(series.len());
                let (b0, b1, b2) = (
                    0,
                    bucket(onset),
                    bucket(to).max(bucket(onset) + 1).min(series.len()),
                );
                let mean = |v: &[f32], r: std::ops::Range<usize>| {
                    let v = &v[r.start.min(v.len())..r.end.min(v.len())];
                    if v.is_empty() {
                        None
                    } else {
                        Some(v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64)
                    }
                };
                let show = |v: Option<f64>, pct: bool| match v {
                    None => "—".to_owned(),
                    Some(v) if pct => format!("{:.0}%", v * 100.0),
                    Some(v) => number(v),
                };
                let rtt = format!("{} ms", number(config.db.network_rtt_us as f64 / 1e3));
                vec![
                    (
                        "database CPU".to_owned(),
                        show(mean(&series.db_cpu, b0..b1), true),
                        show(mean(&series.db_cpu, b1..b2), true),
                    ),
                    (
                        "database connections (mean)".to_owned(),
                        show(mean(&series.db_connections.mean, b0..b1), false),
                        show(mean(&series.db_connections.mean, b1..b2), false),
                    ),
                    (
                        "requests pending for a connection (mean)".to_owned(),
                        show(mean(&series.pool_pending.mean, b0..b1), false),
                        show(mean(&series.pool_pending.mean, b1..b2), false),
                    ),
                    // A constant of the scenario (no fault changes it): what the network
                    // dashboard shows, flat, while responders look at it.
                    (
                        "network round trip (configured)".to_owned(),
                        rtt.clone(),
                        rtt,
                    ),
                ]
            }
            None => Vec::new(),
        };

        let fixes: Vec<Entry> = entries
            .iter()
            .filter(|e| e.kind == "fix")
            .cloned()
            .collect();
        let fixed_s = fixes.first().map(|e| e.at_s);
        // The operations from the fix on; without a fix moment, those after failures began.
        let from = fixed_s.or(o.onset_s);
        let mut ops: Vec<&Fault> = scenario
            .faults
            .iter()
            .filter(|f| from.is_some_and(|t| f.at().as_secs_f64() >= t - 1e-9))
            .collect();
        ops.sort_by_key(|f| f.at());
        let operations = ops.into_iter().filter_map(describe_operation).collect();
        let detected_s = entries
            .iter()
            .find(|e| e.kind == "detection")
            .or_else(|| entries.iter().find(|e| e.kind == "alert"))
            .map(|e| e.at_s);

        AfterAction {
            title: scenario.name.clone(),
            when,
            start,
            description: scenario.description.clone(),
            entries,
            outcome: o,
            causes,
            concentrated,
            signals,
            fixes,
            operations,
            detected_s,
            fixed_s,
        }
    }

    /// "14:00:00 UTC (+7m10s)" on a replay's clock, "7m10s" without one.
    pub fn at(&self, s: f64) -> String {
        when(self.start, s, true)
    }
}

/// `YYYY-MM-DD` of a day number since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil_date(days: i32) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[derive(Properties, PartialEq, Debug)]
pub struct AfterActionProps {
    pub config: Rc<Config>,
    pub report: Rc<Report>,
    /// The key charts, drawn by the page.
    pub children: Html,
}

#[component]
pub fn AfterActionReport(props: &AfterActionProps) -> Html {
    let open = use_state(|| false);
    let article = use_node_ref();
    let status = use_state(|| None::<String>);
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    if !*open {
        return html! {
            <div class="after-action-bar">
                <button type="button" data-action="open-report" onclick={toggle}
                        title="A summary to print or save: timeline, key charts, what failed and when, what fixed it">
                    {"After-action report"}</button>
            </div>
        };
    }
    let a = AfterAction::of(&props.config, &props.report);
    let print = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    });
    let save = {
        let article = article.clone();
        let status = status.clone();
        let title = a.title.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(el) = article.cast::<web_sys::Element>() else {
                return;
            };
            let result = crate::export::download(
                &format!(
                    "{}-after-action.html",
                    crate::export::file_stem(&title, "poolsim")
                ),
                "text/html",
                &standalone(&title, &page_css(), &el.outer_html()),
            );
            status.set(Some(match result {
                Ok(()) => "Saved the report as HTML".to_owned(),
                Err(e) => format!("Could not save the report: {e}"),
            }));
        })
    };
    let o = &a.outcome;
    let failed_line = if o.failed == 0 {
        "No request failed.".to_owned()
    } else {
        format!(
            "{} of {} finished requests failed ({}).",
            number(o.failed as f64),
            number(o.finished as f64),
            percent(o.failed_share())
        )
    };
    let span = match (o.onset_s, o.recovered_s) {
        (Some(on), Some(off)) => format!(
            "Failures started at {} and stopped at {}: {} of failures.",
            a.at(on),
            a.at(off),
            clock(off - on)
        ),
        (Some(on), None) => format!(
            "Failures started at {} and had not stopped by the end of the run.",
            a.at(on)
        ),
        _ => String::new(),
    };
    let concentrated = a.concentrated.as_ref().map(|(few, all)| {
        // Numbered from 1, as the pool chart's picker does.
        let names: Vec<String> = few.iter().map(|i| format!("{}", i + 1)).collect();
        format!(
            "90% of failures were on {} of {all} instances (instance {}).",
            few.len(),
            names.join(", ")
        )
    });
    let detect_fix = match (a.detected_s, a.fixed_s, o.recovered_s) {
        (Some(d), Some(f), Some(r)) if f >= d => Some(format!(
            "Detected at {}, fixed at {} ({} after detection), recovered {} after the fix.",
            a.at(d),
            a.at(f),
            clock(f - d),
            clock((r - f).max(0.0))
        )),
        _ => None,
    };
    html! {
        <section class="after-action" data-testid="after-action" aria-label="After-action report">
            <div class="after-action-actions">
                <button type="button" data-action="print-report" onclick={print}>{"Print"}</button>
                <button type="button" data-action="save-report" onclick={save}>{"Save as HTML"}</button>
                <button type="button" data-action="close-report" onclick={toggle}>{"Close"}</button>
                if let Some(s) = &*status { <span role="status">{s.clone()}</span> }
            </div>
            <article ref={article} class="after-action-report">
                <h1>{format!("After-action report: {}", a.title)}</h1>
                <p class="meta">{a.when.clone()}{" · simulated by poolsim, seed "}{props.config.seed}</p>
                if !a.description.is_empty() { <p>{a.description.clone()}</p> }

                <h2>{"Timeline"}</h2>
                <table class="aar-timeline" data-testid="aar-timeline">
                    <tbody>
                        { for a.entries.iter().map(|e| html! {
                            <tr data-kind={e.kind.clone()}>
                                <td class="when">{a.at(e.at_s)}</td>
                                <td class={classes!("kind", e.kind.clone())}>{e.kind.clone()}</td>
                                <td><strong>{e.label.clone()}</strong>
                                    if !e.detail.is_empty() { <br /><span class="detail">{e.detail.clone()}</span> }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>

                <h2>{"What failed, and when"}</h2>
                <ul data-testid="aar-failed">
                    <li>{failed_line}</li>
                    if !span.is_empty() { <li>{span}</li> }
                    { for a.causes.iter().map(|(cause, n)| html! {
                        <li data-cause={cause.key()}>{format!("{}: {} ({}): {}", cause.label(), number(*n as f64),
                            percent(*n as f64 / props.report.summary.requests.failed.max(1) as f64), cause.meaning())}</li>
                    }) }
                    if let Some(c) = concentrated { <li>{c}</li> }
                </ul>
                if !a.signals.is_empty() {
                    <table class="evidence aar-signals" data-testid="aar-signals">
                        <thead><tr><th scope="col">{"signal"}</th><th scope="col">{"before the failures"}</th>
                            <th scope="col">{"while failing"}</th></tr></thead>
                        <tbody>
                            { for a.signals.iter().map(|(name, before, during)| html! {
                                <tr><th scope="row">{name.clone()}</th><td>{before.clone()}</td><td>{during.clone()}</td></tr>
                            }) }
                        </tbody>
                    </table>
                }

                <h2>{"What fixed it"}</h2>
                <div data-testid="aar-fixed">
                    if a.fixes.is_empty() && a.operations.is_empty() {
                        <p>{if o.recovered() && o.onset_s.is_some() { "No fix is recorded: the system recovered on its own." } else { "No fix is recorded." }}</p>
                    }
                    { for a.fixes.iter().map(|e| html! {
                        <p><strong>{format!("{} at {}", e.label, a.at(e.at_s))}</strong>{": "}{e.detail.clone()}</p>
                    }) }
                    if !a.operations.is_empty() {
                        <p>{"Applied: "}{a.operations.join("; ")}{"."}</p>
                    }
                    if let Some(t) = detect_fix { <p>{t}</p> }
                </div>

                <h2>{"Key charts"}</h2>
                <div class="aar-charts">{ props.children.clone() }</div>
            </article>
        </section>
    }
}

/// The rules of the page's stylesheets as loaded (same origin, so readable).
fn page_css() -> String {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return String::new();
    };
    let sheets = document.style_sheets();
    let mut css = String::new();
    for i in 0..sheets.length() {
        let Some(sheet) = sheets
            .item(i)
            .and_then(|s| s.dyn_into::<web_sys::CssStyleSheet>().ok())
        else {
            continue;
        };
        let Ok(rules) = sheet.css_rules() else {
            continue;
        };
        for j in 0..rules.length() {
            if let Some(rule) = rules.item(j) {
                css += &rule.css_text();
                css.push('\n');
            }
        }
    }
    css
}

/// The report as one HTML document: the page's styles inline, nothing to fetch.
fn standalone(title: &str, css: &str, body: &str) -> String {
    let title = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>After-action report: {title}</title><style>{css}</style></head>\
         <body class=\"report-file\">{body}</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay() -> (Config, Report) {
        let text = include_str!("../../../tests/scenarios/outage-replay.json");
        let config = poolsim_scenario::load(text).unwrap();
        let report = poolsim_engine::run(&config).unwrap();
        (config, report)
    }

    #[test]
    fn the_outage_replay_summary_tells_what_failed_and_what_fixed_it() {
        let (config, report) = replay();
        let a = AfterAction::of(&config, &report);
        assert_eq!(a.when, "2023-08-05 13:52 to 14:27 UTC");
        // Seven moments and the one alert that fires (the rules the team had before), in
        // time order.
        assert_eq!(a.entries.len(), 8);
        assert!(a.entries.windows(2).all(|w| w[0].at_s <= w[1].at_s));
        assert_eq!(a.entries.iter().filter(|e| e.kind == "alert").count(), 1);
        assert_eq!(a.causes[0].0, Cause::DbRefused);
        // The four instances restarted last hold the failures.
        assert_eq!(a.concentrated, Some((vec![8, 9, 10, 11], 12)));
        assert_eq!(a.fixes[0].label, "pools cut to 40");
        assert_eq!(
            a.operations,
            ["reconfigure at 22m: max_size 40, rolled out 4 at a time"]
        );
        assert_eq!(a.detected_s, Some(430.0));
        assert_eq!(a.fixed_s, Some(1320.0));
        // CPU stays low while failing; the network is flat.
        let cpu = &a.signals[0];
        assert_eq!(cpu.0, "database CPU");
        let during: f64 = cpu.2.trim_end_matches('%').parse().unwrap();
        assert!(during < 30.0, "{cpu:?}");
    }

    #[test]
    fn an_exercise_run_reports_the_trainees_change_as_the_fix() {
        use poolsim_advisor::exercise::{Change, Exercise, recorded_restart};
        let (config, _) = replay();
        let ex = Exercise {
            at: "12m".parse().unwrap(),
            change: Change::PoolSize { max_size: 40 },
            roll_out: true,
            restart: recorded_restart(&config.scenario),
        };
        let config = ex.apply(&config.scenario).validate().unwrap();
        let report = poolsim_engine::run(&config).unwrap();
        let a = AfterAction::of(&config, &report);
        assert_eq!(a.fixes[0].label, "you: pools of 40");
        assert_eq!(
            a.operations,
            ["reconfigure at 12m: max_size 40, rolled out 4 at a time"]
        );
        assert!(a.outcome.recovered_s.unwrap() < 13.0 * 60.0);
    }

    #[test]
    fn dates_and_the_standalone_document() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_574), "2023-08-05");
        assert_eq!(civil_date(-1), "1969-12-31");
        assert!(
            standalone("a <b>", "", "<p>x</p>")
                .contains("<title>After-action report: a &lt;b&gt;</title>")
        );
    }
}

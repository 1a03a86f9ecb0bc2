//! The summary panel: the verdict and why, the headline figures, and theory beside them.

use std::rc::Rc;

use poolsim_engine::Report;
use yew::prelude::*;

use poolsim_explain::format::{int, ms, share as percent};
use poolsim_explain::{theory_rows, verdict};
use poolsim_scenario::Config;

use crate::chart::number;

#[derive(Properties, PartialEq, Debug)]
pub struct SummaryProps {
    pub report: Rc<Report>,
    /// The settings the report ran with: theory's side of the table.
    pub config: Rc<Config>,
    /// The run being shown is stale: a newer one is in progress.
    pub updating: bool,
}

#[component]
pub fn SummaryPanel(props: &SummaryProps) -> Html {
    let s = &props.report.summary;
    let v = verdict(&props.report);
    let r = &s.requests;
    let f = &r.failures;
    let failed_share = poolsim_advisor::failed_ratio(s);
    let rows: Vec<(&str, String)> = vec![
        (
            "Requests",
            format!(
                "{} arrived, {} failed ({})",
                number(r.arrived as f64),
                number(r.failed as f64),
                percent(failed_share)
            ),
        ),
        (
            "Failures by cause",
            f.iter()
                .map(|(cause, &n)| format!("{} {}", cause.label(), number(n as f64)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Retries", number(r.retries as f64)),
        (
            "Pool wait (served)",
            format!(
                "p50 {}, p99 {}, max {}; {} waited",
                ms(s.pool_wait_ms.p50),
                ms(s.pool_wait_ms.p99),
                ms(s.pool_wait_ms.max),
                percent(s.pool_wait_ms.waited_fraction)
            ),
        ),
        (
            "Pool wait (timed out)",
            if s.pool_wait_timed_out_ms.count == 0 {
                "none timed out".to_owned()
            } else {
                format!(
                    "{} acquisitions gave up, after p50 {}, max {}",
                    number(s.pool_wait_timed_out_ms.count as f64),
                    ms(s.pool_wait_timed_out_ms.p50),
                    ms(s.pool_wait_timed_out_ms.max)
                )
            },
        ),
        (
            "Latency (succeeded)",
            format!(
                "p50 {}, p95 {}, p99 {}",
                ms(s.latency_ms.p50),
                ms(s.latency_ms.p95),
                ms(s.latency_ms.p99)
            ),
        ),
        (
            "Time to failure",
            if s.latency_failed_ms.count == 0 {
                "no request failed".to_owned()
            } else {
                format!(
                    "p50 {}, p99 {}",
                    ms(s.latency_failed_ms.p50),
                    ms(s.latency_failed_ms.p99)
                )
            },
        ),
        (
            "Pools",
            format!(
                "{} busy, peak {} active, peak {} pending, {} timeouts, {} opened",
                percent(s.pool.utilization),
                int(s.pool.peak_active),
                int(s.pool.peak_pending),
                int(s.pool.timeouts),
                int(s.pool.opened)
            ),
        ),
        (
            "Database",
            format!(
                "peak {} of {} usable connections, {} refused; CPU {}",
                int(s.db.peak_connections),
                int(s.db.usable_connections),
                int(s.db.refused_connections),
                percent(s.db.cpu_utilization)
            ),
        ),
    ];
    let theory = theory_rows(&props.report, &props.config);
    let fired: Vec<Html> = s.alerts.iter().map(|a| {
        let when = a.fired_at_s.map_or("did not fire".to_owned(), |at| format!("fired at {}", crate::chart::clock(at)));
        html! { <li data-alert={a.name.clone()} class={classes!(a.fired_at_s.is_some().then_some("fired"))}>
            <strong>{a.name.clone()}</strong>{format!(" ({}): {when}", a.metric)}</li> }
    }).collect();
    html! {
        <section class={classes!("summary", props.updating.then_some("updating"))} aria-live="polite"
                 aria-busy={props.updating.to_string()}>
            <div class={classes!("verdict", v.level.as_str())} data-testid="verdict" data-verdict={v.level.as_str()}>
                <span class="word">{v.level.as_str()}</span>
                <span class="why">{v.reason.clone()}</span>
                if let Some(w) = &v.warning { <span class="warning" role="note">{"⚠ "}{w.clone()}</span> }
            </div>
            <dl data-testid="summary">
                { for rows.into_iter().map(|(k, v)| html! { <><dt>{k}</dt><dd>{v}</dd></> }) }
            </dl>
            <table data-testid="theory" class="theory">
                <caption>{"Theory beside the simulation"}</caption>
                <thead><tr><th scope="col"></th><th scope="col">{"theory"}</th><th scope="col">{"measured"}</th></tr></thead>
                <tbody>
                    { for theory.into_iter().map(|row| html! {
                        <tr data-theory={row.name}>
                            <th scope="row">{row.name}</th>
                            <td>{row.theory}{ for row.note.map(|n| html! { <small class="note">{n}</small> }) }</td>
                            <td>{row.measured}</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            if !fired.is_empty() { <ul class="alerts" aria-label="Alerts">{ for fired }</ul> }
            <p class="digest">{format!("seed {}, {} events, digest ", s.seed, number(s.events as f64))}<code>{s.digest.clone()}</code></p>
        </section>
    }
}

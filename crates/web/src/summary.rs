//! The summary panel: the verdict and why, the headline figures, and theory beside them.

use std::rc::Rc;

use poolsim_engine::Report;
use yew::prelude::*;

use crate::chart::number;
use crate::verdict::verdict;

#[derive(Properties, PartialEq, Debug)]
pub struct SummaryProps {
    pub report: Rc<Report>,
    /// The run being shown is stale: a newer one is in progress.
    pub updating: bool,
}

fn ms(v: f64) -> String {
    format!("{} ms", number(v))
}

/// A share as people read it: `12.5%`, and `<0.1%` rather than a misleading `0.0%`.
pub fn percent(v: f64) -> String {
    if v > 0.0 && v < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", v * 100.0)
    }
}

#[component]
pub fn SummaryPanel(props: &SummaryProps) -> Html {
    let s = &props.report.summary;
    let v = verdict(&props.report);
    let r = &s.requests;
    let f = &r.failures;
    let failed_share = poolsim_advisor::failed_ratio(s);
    let t = &s.theory;
    let measured_erlangs = s.pool.mean_active;
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
                s.pool.peak_active,
                s.pool.peak_pending,
                s.pool.timeouts,
                s.pool.opened
            ),
        ),
        (
            "Database",
            format!(
                "peak {} of {} usable connections, {} refused; CPU {}",
                s.db.peak_connections,
                s.db.usable_connections,
                s.db.refused_connections,
                percent(s.db.cpu_utilization)
            ),
        ),
    ];
    let erlang = t.erlang_c.as_ref().map_or_else(
        || "unstable: the load per pool exceeds its size, waits grow without bound".to_owned(),
        |e| {
            format!(
                "P(wait) {}, mean wait {}, p99 wait {}",
                percent(e.wait_probability),
                ms(e.mean_wait_ms),
                ms(e.p99_wait_ms)
            )
        },
    );
    let theory_rows: Vec<(&str, String, String)> = vec![
        (
            "Offered load (Little's law)",
            format!(
                "{} erlangs = {}/s × {}",
                number(t.offered_load_erlangs),
                number(t.arrival_rate_per_s),
                ms(t.mean_hold_ms)
            ),
            format!("{} connections busy on average", number(measured_erlangs)),
        ),
        (
            "Erlang C, one instance's pool",
            erlang,
            format!(
                "P(wait) {}, p99 wait {}",
                percent(s.pool_wait_ms.waited_fraction),
                ms(s.pool_wait_ms.p99)
            ),
        ),
        (
            "Pools against the database",
            format!(
                "{} pool connections vs {} usable",
                t.pool_capacity, t.db_usable_connections
            ),
            format!(
                "peak {} open, {} refused",
                s.db.peak_connections, s.db.refused_connections
            ),
        ),
    ];
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
                    { for theory_rows.into_iter().map(|(k, a, b)| html! {
                        <tr><th scope="row">{k}</th><td>{a}</td><td>{b}</td></tr>
                    }) }
                </tbody>
            </table>
            if !fired.is_empty() { <ul class="alerts" aria-label="Alerts">{ for fired }</ul> }
            <p class="digest">{format!("seed {}, {} events, digest ", s.seed, number(s.events as f64))}<code>{s.digest.clone()}</code></p>
        </section>
    }
}

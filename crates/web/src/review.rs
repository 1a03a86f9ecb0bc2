//! The config review view: `poolsim check` for pasted settings. The application's pool
//! settings (HikariCP properties or Spring Boot properties/YAML) and the database's
//! `postgresql.conf` are read by the advisor's parsers and simulated on the scenario's
//! traffic and fleet in a worker: normal load, a 2x spike, a failover, a rolling restart.

use std::rc::Rc;

use poolsim_advisor::review::Review;
use poolsim_scenario::Config;
use yew::prelude::*;

use crate::client::Client;
use crate::protocol::{FromWorker, ToWorker};

const EXAMPLE_APP: &str = include_str!("../../../tests/configs/outage/application.properties");
const EXAMPLE_DB: &str = include_str!("../../../tests/configs/postgresql.conf");

#[derive(Properties, PartialEq, Debug)]
pub struct ReviewProps {
    pub config: Option<Rc<Config>>,
}

#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Idle,
    Running,
    Done(Box<Review>),
    Failed(String),
}

#[component]
pub fn ReviewView(props: &ReviewProps) -> Html {
    let app_text = use_state(String::new);
    let app_format = use_state(|| "application.properties".to_owned());
    let db_text = use_state(String::new);
    let failures = use_state(|| "0.1%".to_owned());
    let outcome = use_state(|| Outcome::Idle);
    let worker = use_mut_ref(|| None::<Client>);
    let next_id = use_mut_ref(|| 0u64);

    let Some(config) = props.config.clone() else {
        return html! {
            <section class="review" data-testid="review" data-state="idle">
                <p class="empty">{"Fix the scenario's errors to review a config on its traffic."}</p>
            </section>
        };
    };

    let text_input = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| state.set(crate::controls::event_value(&e)))
    };
    let set_on_change = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: Event| state.set(crate::controls::event_value(&e)))
    };
    let on_format = set_on_change(&app_format);
    let on_failures = set_on_change(&failures);
    let example = {
        let app_text = app_text.clone();
        let db_text = db_text.clone();
        let app_format = app_format.clone();
        Callback::from(move |_: MouseEvent| {
            app_text.set(EXAMPLE_APP.to_owned());
            app_format.set("application.properties".to_owned());
            db_text.set(EXAMPLE_DB.to_owned());
        })
    };
    let run = {
        let outcome = outcome.clone();
        let worker = worker.clone();
        let next_id = next_id.clone();
        let files = vec![
            ((*app_format).clone(), (*app_text).clone()),
            ("postgresql.conf".to_owned(), (*db_text).clone()),
        ];
        let slos = if failures.trim().is_empty() {
            vec![]
        } else {
            vec![format!("failures={}", failures.trim())]
        };
        let scenario = serde_json::to_string(&config.scenario).unwrap_or_default();
        Callback::from(move |_: MouseEvent| {
            *next_id.borrow_mut() += 1;
            let id = *next_id.borrow();
            let handler = || {
                let answer = outcome.clone();
                let latest = next_id.clone();
                move |message| match message {
                    FromWorker::Reviewed { id, result } if id == *latest.borrow() => {
                        answer.set(match result {
                            Ok(review) => Outcome::Done(review),
                            Err(e) => Outcome::Failed(e),
                        });
                    }
                    FromWorker::Crashed { message } => answer.set(Outcome::Failed(message)),
                    _ => {}
                }
            };
            let review = ToWorker::Review {
                id,
                scenario: scenario.clone(),
                files: files.clone(),
                slos: slos.clone(),
            };
            match Client::send_via(&worker, handler, &[review]) {
                Ok(()) => outcome.set(Outcome::Running),
                Err(e) => outcome.set(Outcome::Failed(e)),
            }
        })
    };
    let state = match &*outcome {
        Outcome::Idle => "idle",
        Outcome::Running => "running",
        Outcome::Done(_) => "done",
        Outcome::Failed(_) => "error",
    };
    html! {
        <section class="review" data-testid="review" data-state={state} aria-label="Config review">
            <p class="help">{format!(
                "Paste a service's pool settings and its database's settings. They are checked on this scenario's \
                 traffic and fleet ({} instances, {}/s): the pools' total against usable connections, then \
                 normal load, a 2x spike, a 30 s failover and a rolling restart are simulated, as `poolsim check` does in CI.",
                config.app.instances, crate::chart::number(poolsim_engine::theory(&config).arrival_rate_per_s)) }</p>
            <div class="review-inputs">
                <label>{"Application settings "}
                    <select name="review.format" onchange={on_format}>
                        { for ["application.properties", "application.yml"].iter().map(|f| html! {
                            <option value={*f} selected={*app_format == *f}>{*f}</option>
                        }) }
                    </select>
                </label>
                <textarea name="review.app" rows="8" spellcheck="false" value={(*app_text).clone()} oninput={text_input(&app_text)}
                          placeholder="spring.datasource.hikari.maximum-pool-size=80&#10;spring.datasource.hikari.connection-timeout=30000" />
                <label for="f-review-db">{"Database settings (postgresql.conf)"}</label>
                <textarea id="f-review-db" name="review.db" rows="4" spellcheck="false" value={(*db_text).clone()} oninput={text_input(&db_text)}
                          placeholder="max_connections = 500&#10;superuser_reserved_connections = 3" />
                <label>{"Failures under "}
                    <input type="text" name="review.failures" value={(*failures).clone()} onchange={on_failures} />
                </label>
                <div class="buttons">
                    <button type="button" data-action="review" onclick={run} disabled={*outcome == Outcome::Running}>{"Review"}</button>
                    <button type="button" data-action="review-example" onclick={example}>{"Fill in the outage's settings"}</button>
                </div>
            </div>
            { match &*outcome {
                Outcome::Idle => Html::default(),
                Outcome::Running => html! { <p role="status">{"Simulating the four situations…"}</p> },
                Outcome::Failed(e) => html! { <p class="error" role="alert" data-testid="review-error">{e.clone()}</p> },
                Outcome::Done(r) => result(r),
            } }
        </section>
    }
}

fn result(r: &Review) -> Html {
    html! {
        <div data-testid="review-result" data-breaks={r.breaks_objectives.to_string()}>
            <p class={classes!("answer", if r.breaks_objectives { "bad" } else { "good" })}>
                { if r.breaks_objectives { "FAIL: these settings break the objectives" } else { "PASS: no risk found" } }
                {format!(" ({} instances × {} = {} pool connections, {} usable).", r.instances, r.max_size, r.pool_total, r.db_usable_connections)}
            </p>
            if !r.findings.is_empty() {
                <ul class="findings">
                    { for r.findings.iter().map(|f| html! {
                        <li class={classes!(f.risk.then_some("risk"))}>
                            <strong>{ if f.risk { "RISK: " } else { "Note: " } }</strong>{f.message.clone()}
                            if let Some(fix) = &f.fix { <br /><span class="fix">{format!("change: {fix}")}</span> }
                        </li>
                    }) }
                </ul>
            }
            <table class="evidence">
                <thead><tr><th scope="col">{"situation"}</th><th scope="col">{"failed"}</th><th scope="col">{"wait p99 ms"}</th>
                    <th scope="col">{"latency p99 ms"}</th><th scope="col">{"db peak"}</th><th scope="col">{"verdict"}</th></tr></thead>
                <tbody>
                    { for r.situations.iter().map(|s| html! {
                        <tr>
                            <td>{s.name.clone()}</td>
                            <td>{format!("{:.2}%", s.failed_ratio * 100.0)}</td>
                            <td>{crate::chart::number(s.wait_p99_ms)}</td>
                            <td>{crate::chart::number(s.latency_p99_ms)}</td>
                            <td>{s.db_peak_connections}</td>
                            <td>{ if !s.judged { "reported".to_owned() } else if s.passes { "meets".to_owned() } else { format!("misses: {}", s.missed.join("; ")) } }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            <details><summary>{"Where each setting came from"}</summary>
                <ul>{ for r.sources.iter().map(|s| html! { <li><code>{s.clone()}</code></li> }) }</ul>
            </details>
        </div>
    }
}

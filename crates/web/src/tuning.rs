//! Alert tuning, for training: the scenario's alert rules evaluated on the incident (this
//! scenario) and on a healthy baseline (the baseline preset with the same rules), side by
//! side: when each fires, how long after failures began (time to detect), and whether
//! it would have paged on a healthy day (a false alarm).

use std::cell::RefCell;
use std::rc::Rc;

use poolsim_engine::Report;
use poolsim_scenario::Config;
use yew::prelude::*;

use crate::chart::{clock, when};
use crate::charts::clock_start;
use crate::client::Client;
use crate::protocol::{FromWorker, ToWorker};

#[derive(Properties, PartialEq, Debug)]
pub struct TuningProps {
    pub config: Rc<Config>,
}

#[derive(Default)]
struct Runs {
    generation: u64,
    incident: Option<Rc<Report>>,
    baseline: Option<Rc<Report>>,
    error: Option<String>,
}

#[component]
pub fn AlertTuning(props: &TuningProps) -> Html {
    let runs = use_mut_ref(Runs::default);
    let worker = use_mut_ref(|| None::<Client>);
    let redraw = use_force_update();
    if props.config.scenario.alerts.is_empty() {
        return Html::default();
    }
    let check = {
        let runs = runs.clone();
        let worker = worker.clone();
        let redraw = redraw.clone();
        let config = props.config.clone();
        Callback::from(move |_: MouseEvent| {
            let generation = runs.borrow().generation + 1;
            *runs.borrow_mut() = Runs {
                generation,
                ..Runs::default()
            };
            let handler = || {
                let answers: Rc<RefCell<Runs>> = runs.clone();
                let update = redraw.clone();
                move |message| {
                    let mut r = answers.borrow_mut();
                    match message {
                        FromWorker::Done { id, report, .. } if id / 2 == r.generation => {
                            let report = Some(Rc::from(report));
                            if id % 2 == 0 {
                                r.incident = report
                            } else {
                                r.baseline = report
                            }
                        }
                        FromWorker::Failed { id, message, .. } if id / 2 == r.generation => {
                            r.error = Some(message)
                        }
                        FromWorker::Crashed { message } => r.error = Some(message),
                        _ => return,
                    }
                    drop(r);
                    update.force_update();
                }
            };
            // The healthy day: the baseline preset, watched by the same rules.
            let mut healthy = crate::presets::Preset::by_id("baseline")
                .map_or_else(crate::presets::default_scenario, |p| p.scenario());
            if let Ok(rules) = serde_json::to_value(&config.scenario.alerts) {
                crate::path::set(&mut healthy, "alerts", Some(rules));
            }
            let runs_to_do = [
                ToWorker::Run {
                    id: generation * 2,
                    scenario: serde_json::to_string(&config.scenario).unwrap_or_default(),
                    replace: false,
                },
                ToWorker::Run {
                    id: generation * 2 + 1,
                    scenario: healthy.to_string(),
                    replace: false,
                },
            ];
            if let Err(e) = Client::send_via(&worker, handler, &runs_to_do) {
                runs.borrow_mut().error = Some(e);
            }
            redraw.force_update();
        })
    };
    let r = runs.borrow();
    let state = match (&r.error, &r.incident, &r.baseline) {
        (Some(_), _, _) => "error",
        (None, Some(_), Some(_)) => "done",
        _ if r.generation == 0 => "idle",
        _ => "running",
    };
    let table = match (&r.incident, &r.baseline) {
        (Some(incident), Some(baseline)) => {
            // When failures began, as the exercise and the after-action report count it.
            let trouble = poolsim_advisor::exercise::outcome(
                &incident.series,
                incident.summary.duration_s,
                0.0,
            )
            .onset_s;
            // On a replay's clock where it has one (the healthy day has none).
            let start = clock_start(&props.config.scenario);
            let rows = incident.summary.alerts.iter().map(|a| {
                let on_baseline = baseline.summary.alerts.iter().find(|b| b.name == a.name).and_then(|b| b.fired_at_s);
                let detect = match (a.fired_at_s, trouble) {
                    (Some(f), Some(t)) if f >= t => format!("fired at {} ({} after failures began)", when(start, f, true), clock(f - t)),
                    (Some(f), _) => format!("fired at {}", when(start, f, true)),
                    (None, _) => "did not fire".to_owned(),
                };
                let healthy = on_baseline.map_or("quiet".to_owned(), |f| format!("FALSE ALARM at {}", clock(f)));
                html! {
                    <tr data-alert={a.name.clone()} data-incident-fired={a.fired_at_s.is_some().to_string()}
                        data-baseline-fired={on_baseline.is_some().to_string()}>
                        <th scope="row">{a.name.clone()}<br /><code>{a.metric.clone()}</code></th>
                        <td>{detect}</td>
                        <td class={classes!(on_baseline.is_some().then_some("false-alarm"))}>{healthy}</td>
                    </tr>
                }
            });
            html! {
                <table class="evidence tuning">
                    <thead><tr><th scope="col">{"rule"}</th><th scope="col">{"on this scenario"}</th>
                        <th scope="col">{"on a healthy day (baseline preset)"}</th></tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            }
        }
        _ => Html::default(),
    };
    html! {
        <section class="alert-tuning" data-testid="alert-tuning" data-state={state} aria-label="Alert tuning">
            <h2>{"Alert tuning"}</h2>
            <p class="help">{"Edit the rules under Alerts, then check when each fires here and whether it would page on a healthy day."}</p>
            <button type="button" data-action="check-alerts" onclick={check}>{"Check the alerts"}</button>
            if let Some(e) = &r.error { <p class="error" role="alert">{e.clone()}</p> }
            if state == "running" { <p role="status">{"Running the scenario and a healthy day…"}</p> }
            { table }
        </section>
    }
}

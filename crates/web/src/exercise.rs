//! Exercise mode, for training: the trainee picks a change (pool size, connection timeout,
//! instance count, a rolling restart) and a moment; the run is the record up to then and the
//! change decides the rest (`poolsim_advisor::exercise`). The outcome is compared with the
//! recorded incident: requests failed, when failures stopped, time to recovery.

use std::rc::Rc;

use poolsim_advisor::exercise::{self, Change, Exercise, Outcome};
use poolsim_engine::Report;
use poolsim_scenario::{Duration, MomentKind, Scenario};
use serde_json::Value;
use yew::prelude::*;

use crate::chart::{clock, number, when};
use crate::charts::clock_start;
use crate::client::Client;
use crate::controls::event_value;
use crate::protocol::{FromWorker, ToWorker};
use crate::state::Finished;
use poolsim_explain::format::share as percent;

#[derive(Properties, PartialEq, Debug)]
pub struct ExerciseProps {
    /// The recorded incident: the scenario as it is, and its finished run.
    pub record: Rc<Finished>,
    /// Playback's time, offered as the moment.
    pub playhead: Option<f64>,
    /// Show a scenario on the charts (the exercise, with the record pinned beside it).
    pub on_open: Callback<Value>,
}

/// The form, as typed.
#[derive(Clone, Debug, PartialEq)]
struct Choice {
    kind: &'static str,
    value: String,
    at: String,
    roll_out: bool,
}

#[derive(Default)]
struct Attempt {
    generation: u64,
    exercise: Option<Exercise>,
    scenario: Option<Scenario>,
    fraction: f64,
    report: Option<Rc<Report>>,
    error: Option<String>,
}

const CHANGES: [(&str, &str); 4] = [
    ("pool_size", "pool size (max_size)"),
    ("connection_timeout", "connection timeout"),
    ("instances", "instance count"),
    ("rolling_restart", "a rolling restart"),
];

/// The moment offered first: the playhead, else the detection, else the first moment.
fn default_at(scenario: &Scenario, playhead: Option<f64>) -> String {
    let moments = &scenario.timeline.moments;
    let at = playhead
        .map(|s| Duration::from_secs(s.round() as u64))
        .or_else(|| {
            moments
                .iter()
                .find(|m| m.kind == MomentKind::Detection)
                .or(moments.first())
                .map(|m| m.at)
        })
        .unwrap_or(Duration::ZERO);
    at.terms()
}

/// The value field's starting text for a change: the scenario's own setting (as it starts;
/// a reconfigure or a scale in the record before the moment is not reflected).
fn current_value(kind: &str, scenario: &Scenario) -> String {
    match kind {
        "pool_size" => scenario.app.pool.max_size.to_string(),
        "connection_timeout" => scenario.app.pool.connection_timeout.terms(),
        "instances" => scenario.app.instances.to_string(),
        _ => String::new(),
    }
}

/// The exercise the form describes, or what is wrong with it, naming the field.
fn read(choice: &Choice, record: &Scenario) -> Result<Exercise, String> {
    let at: Duration = choice
        .at
        .trim()
        .parse()
        .map_err(|e| format!("Moment: {e}"))?;
    if at >= record.duration {
        return Err(format!(
            "Moment: must be before the end of the run ({})",
            record.duration
        ));
    }
    let whole = |what: &str, max: u32| -> Result<u32, String> {
        match choice.value.trim().parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("{what}: must be a whole number from 1 to {max}")),
        }
    };
    let change = match choice.kind {
        "pool_size" => Change::PoolSize {
            max_size: whole("Pool size", poolsim_scenario::MAX_POOL_SIZE)?,
        },
        "connection_timeout" => Change::ConnectionTimeout {
            timeout: choice
                .value
                .trim()
                .parse()
                .map_err(|e| format!("Connection timeout: {e}"))?,
        },
        "instances" => Change::Instances {
            instances: whole("Instances", poolsim_scenario::MAX_INSTANCES)?,
        },
        _ => Change::RollingRestart,
    };
    let ex = Exercise {
        at,
        change,
        roll_out: choice.roll_out,
        restart: exercise::recorded_restart(record),
    };
    // What reads must also run: the change is checked as validation checks the scenario (a
    // timeout of 17000m is a duration, and past validation's bound).
    match ex.apply(record).validate() {
        Ok(_) => Ok(ex),
        Err(errors) => {
            let label = CHANGES
                .iter()
                .find(|(k, _)| *k == choice.kind)
                .map_or("change", |(_, label)| *label);
            let mut chars = label.chars();
            let label: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            let why = errors
                .first()
                .map_or_else(String::new, |e| e.message.clone());
            Err(format!("{label}: {why}"))
        }
    }
}

#[component]
pub fn ExercisePanel(props: &ExerciseProps) -> Html {
    let record = &props.record.config.scenario;
    // The form's values as typed, read when the form is submitted: a RefCell, not state, so
    // that Enter in a field (change, then submit, in one task) runs what was just typed.
    let choice = {
        let record = record.clone();
        let playhead = props.playhead;
        use_mut_ref(move || Choice {
            kind: "pool_size",
            value: current_value("pool_size", &record),
            at: default_at(&record, playhead),
            roll_out: true,
        })
    };
    let attempt = use_mut_ref(Attempt::default);
    let worker = use_mut_ref(|| None::<Client>);
    let redraw = use_force_update();

    let edit = |f: fn(&mut Choice, String)| {
        let choice = choice.clone();
        let redraw = redraw.clone();
        Callback::from(move |e: Event| {
            f(&mut choice.borrow_mut(), event_value(&e));
            redraw.force_update();
        })
    };
    let on_kind = {
        let choice = choice.clone();
        let redraw = redraw.clone();
        let record = record.clone();
        Callback::from(move |e: Event| {
            let value = event_value(&e);
            let kind = CHANGES
                .iter()
                .map(|(k, _)| *k)
                .find(|k| *k == value)
                .unwrap_or("pool_size");
            let mut c = choice.borrow_mut();
            c.kind = kind;
            c.value = current_value(kind, &record);
            drop(c);
            redraw.force_update();
        })
    };
    let on_roll = {
        let choice = choice.clone();
        let redraw = redraw.clone();
        Callback::from(move |e: Event| {
            choice.borrow_mut().roll_out = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .is_some_and(|i| i.checked());
            redraw.force_update();
        })
    };
    let use_playhead = {
        let choice = choice.clone();
        let redraw = redraw.clone();
        let at = props.playhead;
        Callback::from(move |_: MouseEvent| {
            if let Some(at) = at {
                choice.borrow_mut().at = Duration::from_secs(at.round() as u64).terms();
                redraw.force_update();
            }
        })
    };

    let run = {
        let attempt = attempt.clone();
        let worker = worker.clone();
        let redraw = redraw.clone();
        let choice = choice.clone();
        let record = record.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let generation = {
                let mut a = attempt.borrow_mut();
                a.generation += 1;
                a.report = None;
                a.error = None;
                a.fraction = 0.0;
                a.generation
            };
            let exercise = match read(&choice.borrow(), &record) {
                Ok(ex) => ex,
                Err(message) => {
                    attempt.borrow_mut().error = Some(message);
                    redraw.force_update();
                    return;
                }
            };
            let scenario = exercise.apply(&record);
            if let Err(errors) = scenario.validate() {
                let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
                attempt.borrow_mut().error = Some(text.join("; "));
                redraw.force_update();
                return;
            }
            let handler = || {
                let answers = attempt.clone();
                let update = redraw.clone();
                move |message| {
                    let mut a = answers.borrow_mut();
                    match message {
                        FromWorker::Progress { id, fraction, .. } if id == a.generation => {
                            a.fraction = fraction
                        }
                        FromWorker::Done { id, report, .. } if id == a.generation => {
                            a.report = Some(Rc::from(report))
                        }
                        FromWorker::Failed { id, message, .. } if id == a.generation => {
                            a.error = Some(message)
                        }
                        FromWorker::Crashed { message } => a.error = Some(message),
                        _ => return,
                    }
                    drop(a);
                    update.force_update();
                }
            };
            let run = ToWorker::Run {
                id: generation,
                scenario: serde_json::to_string(&scenario).unwrap_or_default(),
                replace: true,
            };
            if let Err(e) = Client::send_via(&worker, handler, &[run]) {
                attempt.borrow_mut().error = Some(e);
                redraw.force_update();
                return;
            }
            let mut a = attempt.borrow_mut();
            a.exercise = Some(exercise);
            a.scenario = Some(scenario);
            drop(a);
            redraw.force_update();
        })
    };

    let a = attempt.borrow();
    let state = match (&a.error, &a.report) {
        (Some(_), _) => "error",
        (None, Some(_)) => "done",
        _ if a.generation == 0 => "idle",
        _ => "running",
    };
    let open = match (&a.scenario, &a.report) {
        (Some(scenario), Some(_)) => {
            let on_open = props.on_open.clone();
            let value = serde_json::to_value(scenario).unwrap_or_default();
            let onclick = Callback::from(move |_: MouseEvent| on_open.emit(value.clone()));
            html! {
                <button type="button" data-action="open-exercise" {onclick}
                        title="Show your run on the charts, with the recorded incident pinned beside it">
                    {"Show your run on the charts"}</button>
            }
        }
        _ => Html::default(),
    };
    let comparison = match (&a.exercise, &a.report) {
        (Some(ex), Some(report)) => compare(record, &props.record.report, ex, report),
        _ => Html::default(),
    };
    let c = choice.borrow();
    let replaced = read(&c, record)
        .ok()
        .map(|ex| {
            let names: Vec<String> = exercise::replaced(record, ex.at)
                .iter()
                .filter_map(|f| exercise::describe_operation(f))
                .collect();
            if names.is_empty() {
                "The record has no operations after it.".to_owned()
            } else {
                format!("Replaces the record's {}.", names.join(", "))
            }
        })
        .unwrap_or_default();
    let restart = exercise::recorded_restart(record);
    let value_field = match c.kind {
        "rolling_restart" => Html::default(),
        kind => {
            let label = match kind {
                "pool_size" => "New pool size",
                "connection_timeout" => "New connection timeout",
                _ => "Instances",
            };
            html! {
                <label>{label}
                    <input name="exercise-value" value={c.value.clone()}
                           onchange={edit(|c, v| c.value = v)} /></label>
            }
        }
    };
    html! {
        <section class="exercise" data-testid="exercise" data-state={state} aria-label="Exercise">
            <h2>{"Exercise: take over the incident"}</h2>
            <p class="help">{"Pick a change and a moment. Your run is the recorded one up to that moment; from there your change decides. "}
                {"The record's own operations from then on (reconfigures, scaling, restarts: what responders did) are left out; what happened to the system (outages, slow queries, traffic) still happens."}</p>
            <form class="exercise-form" onsubmit={run}>
                <label>{"Change"}
                    <select name="exercise-change" onchange={on_kind}>
                        { for CHANGES.iter().map(|(k, label)| html! {
                            <option value={*k} selected={*k == c.kind}>{*label}</option>
                        }) }
                    </select></label>
                { value_field }
                if matches!(c.kind, "pool_size" | "connection_timeout") {
                    <label class="check"><input type="checkbox" name="exercise-roll-out" checked={c.roll_out} onchange={on_roll} />
                        {format!("roll out with a restart, {} at a time ({} down, {} apart)", restart.batch, restart.down.terms(), restart.gap.terms())}</label>
                }
                <label>{"At"}
                    <input name="exercise-at" value={c.at.clone()} onchange={edit(|c, v| c.at = v)}
                           aria-describedby="exercise-at-help" /></label>
                if props.playhead.is_some() {
                    <button type="button" data-action="exercise-at-playhead" onclick={use_playhead}>{"at the playhead"}</button>
                }
                <button type="submit" data-action="run-exercise">{"Run the exercise"}</button>
                <p class="help" id="exercise-at-help">
                    {format!("Simulated time from the start, e.g. 12m. {replaced}")}</p>
            </form>
            if let Some(e) = &a.error { <p class="error" role="alert">{e.clone()}</p> }
            if state == "running" {
                <p role="status">{format!("Running your exercise… {}", percent(a.fraction))}</p>
            }
            { comparison }
            { open }
        </section>
    }
}

fn compare(scenario: &Scenario, recorded: &Report, ex: &Exercise, report: &Report) -> Html {
    let from = ex.at.as_secs_f64();
    let (rec, mine) = (
        exercise::outcome(&recorded.series, recorded.summary.duration_s, from),
        exercise::outcome(&report.series, report.summary.duration_s, from),
    );
    let start = clock_start(scenario);
    let failed = |o: &Outcome| {
        format!(
            "{} ({})",
            number(o.failed as f64),
            percent(o.failed_share())
        )
    };
    let after = |o: &Outcome| {
        format!(
            "{} ({})",
            number(o.failed_after as f64),
            percent(o.failed_share_after())
        )
    };
    let onset = |o: &Outcome| {
        o.onset_s
            .map_or("none".to_owned(), |s| when(start, s, true))
    };
    let recovered = |o: &Outcome| match (o.onset_s, o.recovered_s) {
        (None, _) => "no failures".to_owned(),
        (Some(_), Some(s)) => when(start, s, true),
        (Some(_), None) => "not by the end of the run".to_owned(),
    };
    let ttr = |o: &Outcome| o.time_to_recovery_s().map_or("—".to_owned(), clock);
    let row = |key: &str, label: String, f: &dyn Fn(&Outcome) -> String| {
        html! {
            <tr data-row={key.to_owned()}>
                <th scope="row">{label}</th>
                <td data-record="">{f(&rec)}</td>
                <td data-exercise="">{f(&mine)}</td>
            </tr>
        }
    };
    let (verdict, class) = verdict(&rec, &mine);
    html! {
        <>
            <p class="exercise-verdict" data-testid="exercise-verdict" data-outcome={class} aria-live="polite">
                <strong>{ex.describe()}{": "}</strong>{verdict}</p>
            <table class="evidence exercise-table">
                <thead><tr><th scope="col"></th><th scope="col">{"recorded incident"}</th>
                    <th scope="col">{"your run"}</th></tr></thead>
                <tbody>
                    { row("failed", "requests failed".to_owned(), &failed) }
                    { row("failed-after", format!("failed from {} on", when(start, from, true)), &after) }
                    { row("onset", "failures started".to_owned(), &onset) }
                    { row("recovered", "failures stopped".to_owned(), &recovered) }
                    { row("time-to-recovery", "time to recovery".to_owned(), &ttr) }
                </tbody>
            </table>
        </>
    }
}

/// One sentence on how the trainee's run compares, and a class for it: `better`, `worse`,
/// `same` or `not-recovered`.
fn verdict(rec: &Outcome, mine: &Outcome) -> (String, &'static str) {
    use std::cmp::Ordering;
    let diff = i128::from(rec.failed_after) - i128::from(mine.failed_after);
    let (than, by_count) = match diff.cmp(&0) {
        Ordering::Greater => (
            format!(
                "{} fewer failed requests than the record",
                number(diff as f64)
            ),
            "better",
        ),
        Ordering::Less => (
            format!(
                "{} more failed requests than the record",
                number(-diff as f64)
            ),
            "worse",
        ),
        Ordering::Equal => ("as many failed requests as the record".to_owned(), "same"),
    };
    if !mine.recovered() {
        return (
            format!("failures go on to the end of the run, with {than}."),
            "not-recovered",
        );
    }
    let Some(m) = mine.time_to_recovery_s() else {
        // No failures at all in the trainee's run.
        return if rec.onset_s.is_none() {
            ("no failures, as in the record.".to_owned(), "same")
        } else {
            (format!("no lasting failures, with {than}."), "better")
        };
    };
    match (rec.onset_s, rec.time_to_recovery_s()) {
        (None, _) => (
            format!(
                "failures the record did not have, for {}, with {than}.",
                clock(m)
            ),
            "worse",
        ),
        (Some(_), None) => (
            format!(
                "recovered after {}, which the record did not by the end of the run, with {than}.",
                clock(m)
            ),
            "better",
        ),
        (Some(_), Some(r)) if m < r => (
            format!(
                "recovered {} sooner than the record, with {than}.",
                clock(r - m)
            ),
            "better",
        ),
        (Some(_), Some(r)) if m > r => (
            format!(
                "recovered {} later than the record, with {than}.",
                clock(m - r)
            ),
            "worse",
        ),
        (Some(_), Some(_)) => (
            format!("recovered when the record did, with {than}."),
            by_count,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(failed_after: u64, onset: Option<f64>, recovered: Option<f64>) -> Outcome {
        Outcome {
            finished: 1000,
            failed: failed_after,
            finished_after: 500,
            failed_after,
            onset_s: onset,
            recovered_s: recovered,
        }
    }

    #[test]
    fn the_verdict_says_sooner_later_or_not_at_all() {
        let rec = outcome(300, Some(100.0), Some(1300.0));
        let (text, class) = verdict(&rec, &outcome(100, Some(100.0), Some(700.0)));
        assert_eq!(class, "better");
        assert!(text.starts_with("recovered 10m sooner"), "{text}");
        let (text, class) = verdict(&rec, &outcome(400, Some(100.0), Some(1400.0)));
        assert_eq!(class, "worse");
        assert!(
            text.contains("1m40s later") && text.contains("100 more"),
            "{text}"
        );
        let (_, class) = verdict(&rec, &outcome(500, Some(100.0), None));
        assert_eq!(class, "not-recovered");
    }

    #[test]
    fn the_form_names_the_bad_field() {
        let record = poolsim_scenario::parse(r#"{"duration": "10m"}"#).unwrap();
        let mut choice = Choice {
            kind: "pool_size",
            value: "0".into(),
            at: "2m".into(),
            roll_out: false,
        };
        assert!(read(&choice, &record).unwrap_err().starts_with("Pool size"));
        choice.value = "20".into();
        choice.at = "11m".into();
        assert!(read(&choice, &record).unwrap_err().starts_with("Moment"));
        choice.at = "soon".into();
        assert!(read(&choice, &record).unwrap_err().starts_with("Moment"));
        choice.at = "2m".into();
        assert_eq!(
            read(&choice, &record).unwrap().change,
            Change::PoolSize { max_size: 20 }
        );
        choice.kind = "connection_timeout";
        choice.value = "17000m".into();
        let past = read(&choice, &record).unwrap_err();
        assert!(past.starts_with("Connection timeout: "), "{past}");
        choice.value = "fast".into();
        assert!(
            read(&choice, &record)
                .unwrap_err()
                .starts_with("Connection timeout")
        );
    }

    // The form is typed by a person: any text reads as an exercise or as a message, and an
    // exercise that reads always makes a valid scenario of the record.
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn any_form_reads_or_says_why_and_what_reads_runs(
            kind in proptest::sample::select(CHANGES.iter().map(|(k, _)| *k).collect::<Vec<_>>()),
            value in "(-?[0-9]{0,6}(\\.[0-9])?(us|ms|s|m|h)?|.{0,8})",
            at in "([0-9]{0,4}(ms|s|m|h)){0,2}|.{0,6}",
            roll_out in proptest::prelude::any::<bool>(),
        ) {
            let record = poolsim_scenario::parse(include_str!("../../../tests/scenarios/outage-replay.json")).unwrap();
            let choice = Choice { kind, value, at, roll_out };
            if let Ok(ex) = read(&choice, &record) {
                let scenario = ex.apply(&record);
                proptest::prop_assert!(scenario.validate().is_ok(), "{:?}", ex);
            }
        }
    }
}

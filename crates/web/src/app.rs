//! The page: toolbar, controls, summary and figures (or, in embed mode, one figure and the
//! controls the link names), wired to the worker, the URL and the browser history.

use std::rc::Rc;

use poolsim_scenario::{Config, Scenario};
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::after_action::AfterActionReport;
use crate::chart::{Chart, clock};
use crate::charts::{self, ChartId, Instance, Limits, Run};
use crate::client::Client;
use crate::controls::{Controls, Edit};
use crate::embeddable;
use crate::exercise::ExercisePanel;
use crate::instances::InstanceMap;
use crate::playback::{Playback, Responders};
use crate::presets::{self, PRESETS};
use crate::protocol::ToWorker;
use crate::review::ReviewView;
use crate::sizing::Sizing;
use crate::state::{Action, Origin, Page};
use crate::summary::SummaryPanel;
use crate::tuning::AlertTuning;
use crate::url::{self, Embed};
use crate::{export, now_ms};

fn location() -> (String, String) {
    let loc = web_sys::window().map(|w| w.location());
    let get = |f: fn(&web_sys::Location) -> Result<String, JsValue>| {
        loc.as_ref().and_then(|l| f(l).ok()).unwrap_or_default()
    };
    (get(web_sys::Location::search), get(web_sys::Location::hash))
}

/// The page as the link describes it.
fn initial() -> (Page, Option<Embed>) {
    let (search, hash) = location();
    let address = url::parse(&search, &hash);
    let page = match address.scenario {
        Some(Ok(value)) => Page::new(crate::form::normalized(&value), Origin::Load),
        Some(Err(message)) => {
            let mut page = Page::new(presets::default_scenario(), Origin::Load);
            page.link_error = Some(message);
            page
        }
        None => Page::new(presets::default_scenario(), Origin::Load),
    };
    (page, address.embed)
}

#[component]
pub fn App() -> Html {
    let start = use_memo((), |_| initial());
    let embed = start.1.clone();
    let page = {
        let first = start.0.clone();
        use_reducer(move || first)
    };

    // The worker, started at once (and again if it dies); its answers become actions.
    let client = use_mut_ref(|| None::<Client>);
    let start_worker = {
        let client = client.clone();
        let dispatcher = page.dispatcher();
        move || {
            let to_page = dispatcher.clone();
            match Client::spawn(move |message| to_page.dispatch(Action::Worker(message))) {
                Ok(c) => *client.borrow_mut() = Some(c),
                Err(e) => dispatcher.dispatch(Action::Status(Some(e))),
            }
        }
    };
    {
        let start_worker = start_worker.clone();
        use_effect_with((), move |_| start_worker());
    }

    // A new run: send it (replacing whatever the worker was doing).
    let run_id = page.running.as_ref().map(|r| r.id);
    {
        let client = client.clone();
        let scenario = page.scenario.clone();
        use_effect_with(run_id, move |id| {
            if client.borrow().as_ref().is_some_and(Client::is_dead) {
                start_worker();
            }
            if let (Some(id), Some(c)) = (*id, client.borrow().as_ref()) {
                c.send(&ToWorker::Run {
                    id,
                    scenario: scenario.to_string(),
                    replace: true,
                });
            }
        });
    }
    // The URL follows the scenario; back and forward bring scenarios back.
    {
        let origin = page.origin;
        use_effect_with(page.scenario.clone(), move |scenario| {
            write_history(scenario, origin)
        });
    }
    {
        let dispatcher = page.dispatcher();
        use_effect_with((), move |_| {
            let listener = Closure::<dyn FnMut(web_sys::PopStateEvent)>::new(move |_| {
                let (search, hash) = location();
                match url::parse(&search, &hash).scenario {
                    Some(Ok(scenario)) => dispatcher.dispatch(Action::Replace {
                        scenario,
                        origin: Origin::History,
                    }),
                    Some(Err(message)) => dispatcher.dispatch(Action::BadLink(message)),
                    None => dispatcher.dispatch(Action::Replace {
                        scenario: presets::default_scenario(),
                        origin: Origin::History,
                    }),
                }
            });
            if let Some(w) = web_sys::window() {
                let _ = w.add_event_listener_with_callback(
                    "popstate",
                    listener.as_ref().unchecked_ref(),
                );
            }
            move || {
                if let Some(w) = web_sys::window() {
                    let _ = w.remove_event_listener_with_callback(
                        "popstate",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }

    // Timings: the first chart of a control-started run is on screen once this render is.
    {
        let dispatcher = page.dispatcher();
        let pending = page
            .running
            .as_ref()
            .filter(|r| r.changed_ms.is_some() && r.first_chart_ms.is_none() && !r.live.is_empty())
            .map(|r| r.id);
        use_effect_with(pending, move |pending| {
            if let Some(id) = *pending {
                dispatcher.dispatch(Action::Drawn {
                    id,
                    at_ms: now_ms(),
                });
            }
        });
    }
    crate::api::set_timings(&page.timings);

    // One callback for the page's life: a new one each render would re-render every control
    // on each progress message, and Yew resets a controlled input's text when it renders.
    let on_edit = {
        let dispatcher = page.dispatcher();
        use_callback((), move |(path, value): Edit, _| {
            dispatcher.dispatch(Action::Edit {
                path,
                value,
                at_ms: now_ms(),
            });
        })
    };

    // Stop: the worker drops the run, the page keeps the last finished one.
    let on_stop = {
        let client = client.clone();
        let dispatcher = page.dispatcher();
        Callback::from(move |id: u64| {
            if let Some(c) = client.borrow().as_ref() {
                c.send(&ToWorker::Stop { id });
            }
            dispatcher.dispatch(Action::Stop { id });
        })
    };

    let state = if page.running.is_some() {
        "running"
    } else if !page.errors.is_empty() || page.run_error.is_some() {
        "error"
    } else if page.finished.is_some() {
        "done"
    } else {
        "idle"
    };
    let digest = page
        .finished
        .as_ref()
        .filter(|_| page.running.is_none())
        .map(|f| f.report.summary.digest.clone());

    let view = use_state(|| View::Simulate);
    let playhead = use_state(|| None::<f64>);
    // The trainer has revealed the answers of the replay being played.
    let revealed = use_state(|| false);
    // A new run (an edit, a preset, an exercise) is shown whole, not cut at an old playhead
    // (and so, below, its answers are hidden again when it is played).
    {
        let playhead = playhead.clone();
        use_effect_with(page.running.as_ref().map(|r| r.id), move |id| {
            if id.is_some() {
                playhead.set(None);
            }
        });
    }
    // Showing the whole run ends the training: playing again hides the answers again.
    {
        let revealed = revealed.clone();
        use_effect_with(playhead.is_none(), move |whole| {
            if *whole {
                revealed.set(false);
            }
        });
    }
    // Trainee view: while a replay plays, what gives the answer away (the verdict, the story,
    // the captions, what comes next) stays hidden until the trainer reveals it.
    let trainee = (*playhead).filter(|_| !*revealed).filter(|_| {
        page.shown_run()
            .is_some_and(|(_, c)| !c.scenario.timeline.moments.is_empty())
    });
    let on_reveal = {
        let revealed = revealed.clone();
        Callback::from(move |show: bool| revealed.set(show))
    };
    // An exercise shown on the charts: the record pinned, the exercise as the scenario.
    let open_exercise = {
        let dispatcher = page.dispatcher();
        Callback::from(move |scenario: serde_json::Value| {
            dispatcher.dispatch(Action::Pin);
            dispatcher.dispatch(Action::Replace {
                scenario,
                origin: Origin::User,
            });
        })
    };

    if let Some(embed) = embed {
        return html! {
            <main id="poolsim" data-mode="embed" data-state={state} data-digest={digest}>
                { figure(&page, embed.chart, None, true) }
                if !embed.controls.is_empty() {
                    <Controls scenario={page.scenario.clone()} errors={page.errors.clone()}
                              on_edit={on_edit} only={Some(Rc::new(embed.controls.clone()))} />
                }
                { progress(&page, &on_stop) }
                <p class="embed-footer"><a href={full_page_link(&page.scenario)} target="_blank" rel="noopener">
                    {"Open in poolsim ↗"}</a></p>
            </main>
        };
    }

    html! {
        <main id="poolsim" data-mode="full" data-state={state} data-digest={digest}>
            <header class="top">
                <h1>{"poolsim"}<span class="tagline">{" — database connection pools, simulated"}</span></h1>
                <Toolbar page={page.clone()} />
            </header>
            { problems(&page) }
            <div class="layout">
                <aside class="side" aria-label="Scenario">
                    if trainee.is_some() {
                        <section class="about" data-testid="story-hidden">
                            <h2>{"Training replay"}</h2>
                            <p>{"The scenario's name and story are hidden while it plays."}</p>
                        </section>
                    } else {
                        { description(&page.scenario) }
                    }
                    <Controls scenario={page.scenario.clone()} errors={page.errors.clone()} {on_edit} />
                </aside>
                <div class="results">
                    <Tabs view={view.clone()} />
                    if *view == View::Simulate {
                        { progress(&page, &on_stop) }
                        if trainee.is_some() {
                            <section class="trainee" data-testid="trainee" aria-label="Trainee view">
                                <p><strong>{"Trainee view. "}</strong>
                                   {"The verdict, the story, the captions and what comes next are hidden while the replay plays: read the signals as the responders did."}</p>
                                <button type="button" data-action="reveal-answers"
                                        onclick={on_reveal.reform(|_: MouseEvent| true)}>{"Reveal the answers"}</button>
                            </section>
                        } else if let Some(f) = &page.finished {
                            <SummaryPanel report={f.report.clone()} config={f.config.clone()} updating={page.running.is_some()} />
                        }
                        { page.shown_run().map(|(_, config)| timeline(&config.scenario, trainee)).unwrap_or_default() }
                        if let Some(f) = page.finished.as_ref().filter(|_| page.running.is_none() && trainee.is_none()) {
                            <AfterActionReport config={f.config.clone()} report={f.report.clone()}>
                                { for [ChartId::Throughput, ChartId::Pool, ChartId::Db].into_iter().map(|id| figure(&page, id, None, false)) }
                            </AfterActionReport>
                        }
                        if let Some((run, config)) = page.shown_run().filter(|_| page.running.is_none()) {
                            <Playback duration_s={run.duration_s} bucket_s={run.series.bucket_s}
                                      config={config.clone()} playhead={playhead.clone()}
                                      trainee={trainee.is_some()}
                                      revealed={*revealed && playhead.is_some()} on_reveal={on_reveal.clone()} />
                            if let (Some(at), Some(f)) = (*playhead, page.finished.as_ref()) {
                                <Responders report={f.report.clone()} config={f.config.clone()} {at} />
                            }
                            // Not in the trainee view: it gives every rule's firing, those ahead too.
                            if trainee.is_none() { <AlertTuning config={config.clone()} /> }
                            // Exercises need an incident: a replay's timeline, or faults.
                            // Not in the trainee view: it names the recorded fix.
                            if let Some(f) = page.finished.as_ref().filter(|_| trainee.is_none() && (!config.scenario.timeline.moments.is_empty() || !config.scenario.faults.is_empty())) {
                                // Keyed by the record's run: another scenario starts a fresh exercise.
                                <ExercisePanel key={f.report.summary.digest.clone()} record={f.clone()} playhead={*playhead} on_open={open_exercise.clone()} />
                            }
                        }
                        { for ChartId::ALL.into_iter().map(|id| figure(&page, id, *playhead, false)) }
                    }
                    // Kept mounted while hidden: a sweep or a review goes on behind another tab.
                    <div hidden={*view != View::Sizing}><Sizing config={current_config(&page)} /></div>
                    <div hidden={*view != View::Review}><ReviewView config={current_config(&page)} /></div>
                </div>
            </div>
            <footer class="foot">
                <p>{"Deterministic: the same scenario and seed give the same run here, in the "}
                   <code>{"poolsim"}</code>{" command line and in tests. Everything runs in this page; nothing is sent anywhere."}</p>
            </footer>
        </main>
    }
}

/// What the results column shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    Simulate,
    Sizing,
    Review,
}

#[derive(Properties, PartialEq)]
struct TabsProps {
    view: UseStateHandle<View>,
}

#[component]
fn Tabs(props: &TabsProps) -> Html {
    let tab = |v: View, id: &'static str, label: &'static str| {
        let view = props.view.clone();
        let selected = *props.view == v;
        html! {
            <button type="button" role="tab" data-tab={id} aria-selected={selected.to_string()}
                    class={classes!("tab", selected.then_some("selected"))}
                    onclick={Callback::from(move |_: MouseEvent| view.set(v))}>{label}</button>
        }
    };
    html! {
        <div class="tabs" role="tablist" aria-label="View">
            { tab(View::Simulate, "simulate", "Simulate") }
            { tab(View::Sizing, "sizing", "Size the pool") }
            { tab(View::Review, "review", "Review a config") }
        </div>
    }
}

/// The scenario's validated config, when the controls hold no error.
fn current_config(page: &Page) -> Option<Rc<poolsim_scenario::Config>> {
    if !page.errors.is_empty() || page.run_error.is_some() {
        return None;
    }
    page.running
        .as_ref()
        .map(|r| r.config.clone())
        .or_else(|| page.finished.as_ref().map(|f| f.config.clone()))
}

/// A replay's timeline as captions: when (wall clock and offset), what, and why it matters.
/// The replay's moments with their captions; in the trainee view (`upto`: the playhead) only
/// the moments already reached, without captions.
fn timeline(scenario: &Scenario, upto: Option<f64>) -> Html {
    let moments: Vec<_> = scenario
        .timeline
        .moments
        .iter()
        .filter(|m| upto.is_none_or(|t| m.at.as_secs_f64() <= t))
        .collect();
    if scenario.timeline.moments.is_empty() {
        return Html::default();
    }
    let start = charts::clock_start(scenario);
    html! {
        <section class="timeline" data-testid="timeline" aria-label="Timeline">
            <h2>{"Timeline"}</h2>
            <ol>
                { for moments.iter().map(|m| {
                    let kind = m.kind.as_str();
                    html! {
                        <li data-moment={kind}>
                            <span class="when">{crate::chart::when(start, m.at.as_secs_f64(), false)}</span>
                            <span class={classes!("kind", kind)}>{kind}</span>
                            <strong>{m.label.clone()}</strong>
                            if !m.detail.is_empty() && upto.is_none() { <p>{m.detail.clone()}</p> }
                        </li>
                    }
                }) }
            </ol>
        </section>
    }
}

fn write_history(scenario: &Value, origin: Origin) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(history) = window.history() else {
        return;
    };
    let (search, hash) = location();
    let wanted = url::hash(scenario);
    if hash == wanted {
        return;
    }
    let path = window.location().pathname().unwrap_or_default();
    let target = format!("{path}{search}{wanted}");
    let _ = match origin {
        Origin::History => Ok(()),
        Origin::Load => history.replace_state_with_url(&JsValue::NULL, "", Some(&target)),
        Origin::User => history.push_state_with_url(&JsValue::NULL, "", Some(&target)),
    };
}

fn full_page_link(scenario: &Value) -> String {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    format!("{path}{}", url::hash(scenario))
}

fn description(scenario: &Value) -> Html {
    let name = scenario.get("name").and_then(Value::as_str).unwrap_or("");
    let text = scenario
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() && text.is_empty() {
        return Html::default();
    }
    html! {
        <section class="about">
            <h2>{name}</h2>
            <p>{text}</p>
        </section>
    }
}

fn problems(page: &Page) -> Html {
    if page.errors.is_empty() && page.link_error.is_none() && page.run_error.is_none() {
        return Html::default();
    }
    let focus = |path: String| {
        Callback::from(move |_: MouseEvent| {
            let selector = format!("[name=\"{path}\"]");
            if let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector(&selector).ok().flatten())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
            }
        })
    };
    html! {
        <section class="problems" role="alert" data-testid="problems">
            if let Some(e) = &page.link_error { <p>{format!("This link could not be read: {e}. Showing the default scenario.")}</p> }
            if let Some(e) = &page.run_error { <p>{format!("The run stopped: {e}")}</p> }
            if !page.errors.is_empty() {
                <p>{"The scenario cannot run until these are fixed (the last good run stays on screen):"}</p>
                <ul>
                    { for page.errors.iter().map(|e| html! {
                        <li><button type="button" class="link" onclick={focus(e.path.clone())}>
                            <code>{if e.path.is_empty() { "scenario".to_owned() } else { e.path.clone() }}</code>
                        </button>{format!(": {}", e.message)}</li>
                    }) }
                </ul>
            }
        </section>
    }
}

fn progress(page: &Page, on_stop: &Callback<u64>) -> Html {
    let Some(r) = &page.running else {
        return Html::default();
    };
    let total = r.config.duration_us as f64 / 1e6;
    let id = r.id;
    let stop = on_stop.reform(move |_: MouseEvent| id);
    html! {
        <div class="progress" role="status" data-testid="progress">
            <progress value={format!("{:.3}", r.fraction)} max="1" aria-label="Simulation progress" />
            <span>{format!("Simulating… {:.0}% ({} of {})", r.fraction * 100.0, clock(r.fraction * total), clock(total))}</span>
            <button type="button" class="stop" data-action="stop" onclick={stop}>{"Stop"}</button>
        </div>
    }
}

/// Chart `id` of the shown run; `fill`: as tall as its box (an embed's frame).
fn figure(page: &Page, id: ChartId, playhead: Option<f64>, fill: bool) -> Html {
    let Some((run, config)) = page.shown_run() else {
        return html! { <figure class="chart-figure" data-chart={id.as_str()}><figcaption>{id.title()}</figcaption>
        <p class="empty">{"Waiting for the first run…"}</p></figure> };
    };
    let baseline = page.baseline.as_ref().map(|b| b.run.clone());
    html! {
        <Figure {id} {run} {baseline} limits={Limits::of(&config)} {config} {playhead} {fill} />
    }
}

#[derive(Properties, PartialEq)]
struct FigureProps {
    id: ChartId,
    run: Run,
    baseline: Option<Run>,
    limits: Limits,
    /// The run's configuration (its scenario's faults and timeline mark the charts).
    config: Rc<Config>,
    /// Playback's time: the chart shows the run up to it.
    playhead: Option<f64>,
    /// As tall as the box it is in.
    fill: bool,
}

#[component]
fn Figure(props: &FigureProps) -> Html {
    let instance = use_state(|| Instance::All);
    let svg = use_node_ref();
    let id = props.id;
    let instance_now = match *instance {
        Instance::One(i) if i >= props.limits.instances as usize => Instance::All,
        other => other,
    };
    let mut panels = charts::panels(
        id,
        &props.run,
        props.baseline.as_ref(),
        props.limits,
        instance_now,
    );
    let x = charts::x_axis(
        id,
        &props.run,
        props.baseline.as_ref(),
        &props.config.scenario,
    );
    let mut spans = if id == ChartId::Distribution {
        Vec::new()
    } else {
        charts::spans(&props.config.scenario, &props.run)
    };
    if let Some(at) = props.playhead.filter(|_| id != ChartId::Distribution) {
        let label = match charts::clock_start(&props.config.scenario) {
            Some(start) => crate::chart::wall(start, at, true),
            None => clock(at),
        };
        charts::reveal(&mut panels, &mut spans, at, label);
    }
    let (panels, spans) = (Rc::new(panels), Rc::new(spans));
    let file = |ext: &str| {
        let name = export::file_stem(&props.config.scenario.name, "run");
        format!("poolsim-{name}-{}.{ext}", id.as_str())
    };
    let save_svg = {
        let svg = svg.clone();
        let name = file("svg");
        Callback::from(move |_: MouseEvent| {
            if let Some(el) = svg.cast::<web_sys::Element>()
                && let Err(e) =
                    export::svg_text(&el).and_then(|t| export::download(&name, "image/svg+xml", &t))
            {
                web_sys::console::warn_1(&JsValue::from_str(&e));
            }
        })
    };
    let save_png = {
        let svg = svg.clone();
        let name = file("png");
        Callback::from(move |_: MouseEvent| {
            if let Some(el) = svg.cast::<web_sys::Element>()
                && let Err(e) = export::save_png(&el, &name)
            {
                web_sys::console::warn_1(&JsValue::from_str(&e));
            }
        })
    };
    let on_instance = {
        let instance = instance.clone();
        Callback::from(move |e: Event| {
            let v = crate::controls::event_value(&e);
            instance.set(v.parse::<usize>().map_or(Instance::All, Instance::One));
        })
    };
    let picker = (id == ChartId::Pool && props.limits.instances > 1).then(|| html! {
        <select aria-label="Which pool" data-view="instance" onchange={on_instance}>
            <option value="all" selected={instance_now == Instance::All}>{"all instances"}</option>
            { for (0..props.limits.instances as usize).map(|i| html! {
                <option value={i.to_string()} selected={instance_now == Instance::One(i)}>{format!("instance {}", i + 1)}</option>
            }) }
        </select>
    });
    html! {
        <figure class="chart-figure" data-chart={id.as_str()}>
            <figcaption>
                <span class="title">{id.title()}</span>
                { picker.unwrap_or_default() }
                <span class="actions">
                    <button type="button" data-action="save-svg" onclick={save_svg} title="Save as SVG">{"SVG"}</button>
                    <button type="button" data-action="save-png" onclick={save_png} title="Save as PNG">{"PNG"}</button>
                </span>
            </figcaption>
            <Chart title={id.title()} {panels} {x} {spans} svg_ref={svg} fill={props.fill} />
            if id == ChartId::Pool && !props.fill {
                <InstanceMap series={props.run.series.clone()} at={props.playhead}
                             start={charts::clock_start(&props.config.scenario)} />
            }
        </figure>
    }
}

#[derive(Properties, PartialEq)]
struct ToolbarProps {
    page: UseReducerHandle<Page>,
}

#[component]
fn Toolbar(props: &ToolbarProps) -> Html {
    let page = &props.page;
    let preset = use_state(String::new);
    let embed_open = use_state(|| false);
    let theme = use_state(|| "auto".to_owned());

    let on_preset = {
        let dispatcher = page.dispatcher();
        let preset = preset.clone();
        Callback::from(move |e: Event| {
            let id = crate::controls::event_value(&e);
            if let Some(p) = presets::Preset::by_id(&id) {
                preset.set(id);
                dispatcher.dispatch(Action::Replace {
                    scenario: p.scenario(),
                    origin: Origin::User,
                });
            }
        })
    };
    let status = |dispatcher: UseReducerDispatcher<Page>, text: String| {
        dispatcher.dispatch(Action::Status(Some(text)));
    };
    let share = {
        let dispatcher = page.dispatcher();
        Callback::from(move |_: MouseEvent| {
            let href = web_sys::window()
                .and_then(|w| w.location().href().ok())
                .unwrap_or_default();
            let dispatcher = dispatcher.clone();
            export::copy(&href, move |r| {
                status(
                    dispatcher,
                    match r {
                        Ok(()) => "Link copied".into(),
                        Err(e) => {
                            format!("Could not copy the link ({e}); copy it from the address bar")
                        }
                    },
                );
            });
        })
    };
    let pin = {
        let dispatcher = page.dispatcher();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(Action::Pin))
    };
    let unpin = {
        let dispatcher = page.dispatcher();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(Action::Unpin))
    };
    let export_json = {
        let scenario = page.scenario.clone();
        let dispatcher = page.dispatcher();
        Callback::from(move |_: MouseEvent| {
            let text = serde_json::to_string_pretty(&*scenario).unwrap_or_default();
            if let Err(e) = export::download("scenario.json", "application/json", &text) {
                status(dispatcher.clone(), e);
            }
        })
    };
    let export_csv = {
        let finished = page.finished.clone();
        let dispatcher = page.dispatcher();
        Callback::from(move |_: MouseEvent| {
            let Some(f) = &finished else { return };
            let text = poolsim_engine::csv::series(&f.report.series);
            if let Err(e) = export::download("poolsim-series.csv", "text/csv", &text) {
                status(dispatcher.clone(), e);
            }
        })
    };
    let import = {
        let dispatcher = page.dispatcher();
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<HtmlInputElement>() else {
                return;
            };
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            let name = file.name();
            let dispatcher = dispatcher.clone();
            input.set_value("");
            // Sized from the file's metadata before a byte of it is read.
            let max = poolsim_scenario::MAX_SCENARIO_BYTES;
            if file.size() > max as f64 {
                status(
                    dispatcher,
                    format!(
                        "{name} could not be read: it is {} bytes; a scenario is at most {} ({} MiB)",
                        poolsim_scenario::int(file.size() as u64),
                        poolsim_scenario::int(max as u64),
                        max >> 20
                    ),
                );
                return;
            }
            wasm_bindgen_futures::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
                let text = text.ok().and_then(|t| t.as_string()).unwrap_or_default();
                match url::untrusted(&text) {
                    Ok(scenario) => {
                        dispatcher.dispatch(Action::Replace {
                            scenario,
                            origin: Origin::User,
                        });
                        status(dispatcher, format!("Imported {name}"));
                    }
                    Err(e) => status(dispatcher, format!("{name} could not be read: it {e}")),
                }
            });
        })
    };
    let toggle_embed = {
        let embed_open = embed_open.clone();
        Callback::from(move |_: MouseEvent| embed_open.set(!*embed_open))
    };
    let toggle_theme = {
        let theme = theme.clone();
        Callback::from(move |_: MouseEvent| {
            let next = match theme.as_str() {
                "auto" => "dark",
                "dark" => "light",
                _ => "auto",
            };
            if let Some(root) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
            {
                let _ = root.set_attribute("data-theme", next);
            }
            theme.set(next.to_owned());
        })
    };
    let pinned = page.baseline.is_some();
    html! {
        <div class="toolbar">
            <select name="preset" aria-label="Preset scenario" onchange={on_preset}>
                <option value="" selected={preset.is_empty()} disabled=true>{"Presets…"}</option>
                { for PRESETS.iter().map(|p| html! {
                    <option value={p.id} selected={*preset == p.id}>{p.label}</option>
                }) }
            </select>
            <button type="button" data-action="share" onclick={share}>{"Share link"}</button>
            if pinned {
                <button type="button" data-action="unpin" onclick={unpin}>{"Unpin baseline"}</button>
            } else {
                <button type="button" data-action="pin" onclick={pin} disabled={page.finished.is_none()}
                        title="Keep this run on the charts, dashed, to compare">{"Pin as baseline"}</button>
            }
            <label class="button">{"Import"}
                <input type="file" name="import" accept=".json,application/json" onchange={import} class="visually-hidden" />
            </label>
            <button type="button" data-action="export-json" onclick={export_json}>{"Export JSON"}</button>
            <button type="button" data-action="export-csv" onclick={export_csv} disabled={page.finished.is_none()}>{"Export CSV"}</button>
            <button type="button" data-action="embed" onclick={toggle_embed} aria-expanded={embed_open.to_string()}>{"Embed"}</button>
            <button type="button" data-action="theme" onclick={toggle_theme} title="Light, dark or as the system">{format!("Theme: {}", *theme)}</button>
            if let Some(s) = &page.status { <span class="status" data-testid="status" role="status">{s.clone()}</span> }
            if *embed_open { <EmbedPanel scenario={page.scenario.clone()} /> }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct EmbedProps {
    scenario: Rc<Value>,
}

/// An embed's frame: room for a chart of two panels with its caption and the footer...
const EMBED_CHART_PX: usize = 480;
/// ...and for each control (its label, input and help).
const EMBED_CONTROL_PX: usize = 72;

/// Builds an iframe snippet for a docs page: which chart, which controls.
#[component]
fn EmbedPanel(props: &EmbedProps) -> Html {
    let chart = use_state(|| ChartId::Pool);
    let controls = use_state(|| "app.pool.max_size".to_owned());
    let asked: Vec<String> = controls.split(',').map(str::to_owned).collect();
    let resolved = embeddable::resolve(&props.scenario, &asked);
    let refused: Vec<(String, String)> = resolved
        .iter()
        .filter_map(|(path, c)| c.as_ref().err().map(|why| (path.clone(), why.clone())))
        .collect();
    let embed = Embed {
        chart: *chart,
        controls: resolved
            .into_iter()
            .filter(|(_, c)| c.is_ok())
            .map(|(path, _)| path)
            .collect(),
    };
    let base = web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?))
        })
        .unwrap_or_default();
    let src = format!(
        "{base}{}{}",
        url::embed_query(&embed),
        url::hash(&props.scenario)
    );
    // The chart fills what the controls leave, so the frame is the chart's height plus a row
    // per control.
    let height = EMBED_CHART_PX + EMBED_CONTROL_PX * embed.controls.len();
    let snippet = format!(
        "<iframe src=\"{}\" title=\"poolsim: {}\" width=\"100%\" height=\"{height}\" style=\"border:0\" loading=\"lazy\"></iframe>",
        src.replace('"', "&quot;"),
        chart.title()
    );
    let on_chart = {
        let chart = chart.clone();
        Callback::from(move |e: Event| {
            let v = crate::controls::event_value(&e);
            chart.set(ChartId::parse(&v).unwrap_or(ChartId::Pool));
        })
    };
    let on_controls = {
        let controls = controls.clone();
        Callback::from(move |e: Event| {
            let v = crate::controls::event_value(&e);
            controls.set(v);
        })
    };
    let select_all = Callback::from(|e: FocusEvent| {
        if let Some(t) = e.target_dyn_into::<HtmlTextAreaElement>() {
            t.select();
        }
    });
    let copied = use_state(|| false);
    let copy = {
        let snippet = snippet.clone();
        let copied = copied.clone();
        Callback::from(move |_: MouseEvent| {
            let copied = copied.clone();
            export::copy(&snippet, move |r| copied.set(r.is_ok()));
        })
    };
    html! {
        <section class="embed-panel" aria-label="Embed">
            <label>{"Chart "}
                <select name="embed-chart" onchange={on_chart}>
                    { for ChartId::ALL.into_iter().map(|c| html! {
                        <option value={c.as_str()} selected={*chart == c}>{c.title()}</option>
                    }) }
                </select>
            </label>
            <label>{"Controls (field paths, comma-separated) "}
                <input type="text" name="embed-controls" value={(*controls).clone()} onchange={on_controls}
                       aria-invalid={(!refused.is_empty()).then_some("true")} aria-describedby="embed-refused" />
            </label>
            <ul id="embed-refused" class="embed-refused" hidden={refused.is_empty()}>
                { for refused.iter().map(|(path, why)| html! {
                    <li data-path={path.clone()}>{format!("Left out: {why}")}</li>
                }) }
            </ul>
            <textarea name="embed-snippet" readonly=true rows="3" value={snippet} onfocus={select_all} />
            <button type="button" data-action="copy-snippet" onclick={copy}>{if *copied { "Copied" } else { "Copy snippet" }}</button>
            <a href={src} target="_blank" rel="noopener">{"Preview"}</a>
        </section>
    }
}

//! Playback, for training: play, pause, step and scrub through a finished run, the charts
//! showing it up to the playhead, and "what responders see" at that moment: the dashboard
//! figures and log lines of the kind real systems print, made from the run's own counts.

use std::rc::Rc;

use poolsim_engine::{Cause, Report};
use poolsim_scenario::Config;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use yew::prelude::*;

use crate::chart::{clock, number, wall, when};
use crate::charts::clock_start;
use poolsim_explain::format::share as percent;

/// Simulated seconds per second of playback the speed menu offers.
const SPEEDS: [u32; 5] = [10, 30, 60, 120, 300];
/// The responders' log view covers this much simulated time up to the playhead, s.
const LOG_WINDOW_S: f64 = 30.0;
/// How often a playing run moves on, ms.
const TICK_MS: i32 = 100;

#[derive(Properties, PartialEq, Debug)]
pub struct PlaybackProps {
    pub duration_s: f64,
    pub bucket_s: f64,
    pub config: Rc<Config>,
    /// `None`: the whole run is shown.
    pub playhead: UseStateHandle<Option<f64>>,
    /// The trainee view is on: moments ahead of the playhead are not named.
    #[prop_or_default]
    pub trainee: bool,
    /// The trainer revealed the answers while playing (offer to hide them again).
    #[prop_or_default]
    pub revealed: bool,
    #[prop_or_default]
    pub on_reveal: Callback<bool>,
}

#[component]
pub fn Playback(props: &PlaybackProps) -> Html {
    let playing = use_state(|| false);
    let speed = use_state(|| 60u32);
    let duration = props.duration_s.max(0.0);
    let step = props.bucket_s.max(1.0).max(duration / 200.0);

    // While playing, the playhead moves `speed` simulated seconds per second, and stops at the
    // end, or (with "stop at moments") at the next moment of the timeline, where a trainer
    // asks "what do you look at next?".
    let stop_at_moments = use_state(|| true);
    {
        let playhead = props.playhead.clone();
        let playing_handle = playing.clone();
        let stops: Vec<f64> = if *stop_at_moments {
            props
                .config
                .scenario
                .timeline
                .moments
                .iter()
                .map(|m| m.at.as_secs_f64())
                .collect()
        } else {
            Vec::new()
        };
        use_effect_with(
            (*playing, *speed, duration, stops),
            move |(on, speed, duration, stops)| {
                let (on, speed, duration, stops) = (*on, *speed, *duration, stops.clone());
                let mut timer = None;
                if on && let Some(window) = web_sys::window() {
                    let at = std::rc::Rc::new(std::cell::Cell::new((*playhead).unwrap_or(0.0)));
                    let tick = Closure::<dyn FnMut()>::new(move || {
                        let now = at.get();
                        let ahead =
                            (now + f64::from(speed) * f64::from(TICK_MS) / 1e3).min(duration);
                        let stop = stops.iter().copied().find(|&m| m > now && m <= ahead);
                        let next = stop.unwrap_or(ahead);
                        at.set(next);
                        playhead.set(Some(next));
                        if stop.is_some() || next >= duration {
                            playing_handle.set(false);
                        }
                    });
                    timer = window
                        .set_interval_with_callback_and_timeout_and_arguments_0(
                            tick.as_ref().unchecked_ref(),
                            TICK_MS,
                        )
                        .ok()
                        .map(|id| (id, tick));
                }
                move || {
                    if let (Some((id, _tick)), Some(window)) = (timer, web_sys::window()) {
                        window.clear_interval_with_handle(id);
                    }
                }
            },
        );
    }

    let set = |value: Option<f64>| {
        let playhead = props.playhead.clone();
        move || playhead.set(value.map(|v| v.clamp(0.0, duration)))
    };
    let at = *props.playhead;
    let toggle = {
        let playing = playing.clone();
        let playhead = props.playhead.clone();
        Callback::from(move |_: MouseEvent| {
            if !*playing && playhead.is_none_or(|t| t >= duration) {
                playhead.set(Some(0.0));
            }
            playing.set(!*playing);
        })
    };
    let back = {
        let go = set(Some(at.unwrap_or(duration) - step));
        Callback::from(move |_: MouseEvent| go())
    };
    let forward = {
        let go = set(Some(at.unwrap_or(0.0) + step));
        Callback::from(move |_: MouseEvent| go())
    };
    let whole = {
        let playing = playing.clone();
        let go = set(None);
        Callback::from(move |_: MouseEvent| {
            playing.set(false);
            go();
        })
    };
    let scrub = {
        let playhead = props.playhead.clone();
        Callback::from(move |e: InputEvent| {
            if let Ok(v) = crate::controls::event_value(&e).parse::<f64>() {
                playhead.set(Some(v.clamp(0.0, duration)));
            }
        })
    };
    let on_stops = {
        let stop_at_moments = stop_at_moments.clone();
        Callback::from(move |e: Event| {
            stop_at_moments.set(
                e.target_dyn_into::<web_sys::HtmlInputElement>()
                    .is_some_and(|i| i.checked()),
            );
        })
    };
    let on_speed = {
        let speed = speed.clone();
        Callback::from(move |e: Event| {
            if let Ok(v) = crate::controls::event_value(&e).parse::<u32>() {
                speed.set(v);
            }
        })
    };
    let start = clock_start(&props.config.scenario);
    let moments = props.config.scenario.timeline.moments.iter().map(|m| {
        let t = m.at.as_secs_f64();
        let go = set(Some(t));
        let playing = playing.clone();
        // In the trainee view a moment ahead is only a time: its label would tell the story.
        let ahead = props.trainee && at.is_some_and(|now| t > now);
        let text = if ahead {
            format!("{} …", clock(t))
        } else {
            format!("{} {}", clock(t), m.label)
        };
        html! {
            <button type="button" data-action="goto-moment" data-at={format!("{t}")}
                    onclick={Callback::from(move |_: MouseEvent| { playing.set(false); go(); })}>
                {text}
            </button>
        }
    });
    html! {
        <section class="playback" data-testid="playback" aria-label="Playback"
                 data-playhead={at.map(|t| format!("{t}"))}>
            <button type="button" data-action={if *playing { "pause" } else { "play" }} onclick={toggle}>
                { if *playing { "❚❚ Pause" } else { "▶ Play" } }
            </button>
            <button type="button" data-action="step-back" onclick={back} aria-label="Step back">{"◀"}</button>
            <button type="button" data-action="step" onclick={forward} aria-label="Step forward">{"▶|"}</button>
            <input type="range" name="playhead" aria-label="Playhead" min="0" max={format!("{duration}")}
                   step={format!("{}", props.bucket_s.max(0.001))} value={format!("{}", at.unwrap_or(duration))}
                   oninput={scrub} />
            <span class="when">{ at.map_or_else(|| "whole run".to_owned(), |t| when(start, t, true)) }</span>
            <label>{"speed "}
                <select name="speed" onchange={on_speed}>
                    { for SPEEDS.iter().map(|s| html! {
                        <option value={s.to_string()} selected={*speed == *s}>{format!("{s}×")}</option>
                    }) }
                </select>
            </label>
            if at.is_some() { <button type="button" data-action="playback-off" onclick={whole}>{"Show the whole run"}</button> }
            if props.revealed {
                <button type="button" data-action="hide-answers" onclick={props.on_reveal.reform(|_: MouseEvent| false)}>
                    {"Hide the answers (trainee view)"}</button>
            }
            if !props.config.scenario.timeline.moments.is_empty() {
                <label><input type="checkbox" name="stop-at-moments" checked={*stop_at_moments} onchange={on_stops} />
                    {" stop at moments"}</label>
                <div class="moments">{"Jump to: "}{ for moments }</div>
            }
        </section>
    }
}

#[derive(Properties, PartialEq, Debug)]
pub struct RespondersProps {
    pub report: Rc<Report>,
    pub config: Rc<Config>,
    /// The playhead, seconds.
    pub at: f64,
}

/// The dashboards and logs at the playhead, in the bucket that holds it.
#[component]
pub fn Responders(props: &RespondersProps) -> Html {
    let series = &props.report.series;
    if series.is_empty() {
        return Html::default();
    }
    let i = ((props.at / series.bucket_s.max(1e-9)) as usize).min(series.len() - 1);
    let per_s = |v: &[u32]| f64::from(v.get(i).copied().unwrap_or(0)) / series.bucket_s.max(1e-9);
    let mean = |v: &[f32]| f64::from(v.get(i).copied().unwrap_or(0.0));
    let failed = series.failed(i);
    let finished = failed + series.succeeded.get(i).copied().unwrap_or(0);
    let c = &props.config;
    let figures: Vec<(&str, String)> = vec![
        (
            "hikaricp_connections_active",
            number(mean(&series.pool_active.mean)),
        ),
        (
            "hikaricp_connections_idle",
            number(mean(&series.pool_idle.mean)),
        ),
        (
            "hikaricp_connections_pending",
            number(mean(&series.pool_pending.mean)),
        ),
        (
            "hikaricp_connections_timeout_total",
            format!("{}/s", number(per_s(&series.pool_timeouts))),
        ),
        (
            "db connections",
            format!(
                "{} of {}",
                number(mean(&series.db_connections.mean)),
                c.db.usable_connections()
            ),
        ),
        ("db CPU", percent(mean(&series.db_cpu))),
        (
            "network round trip",
            format!("{} ms", number(c.db.network_rtt_us as f64 / 1e3)),
        ),
        (
            "HTTP failures",
            percent(f64::from(failed) / f64::from(finished.max(1))),
        ),
    ];
    let start = clock_start(&c.scenario);
    let stamp_of = |k: usize| match start {
        Some(s) => wall(s, k as f64 * series.bucket_s, true),
        None => clock(k as f64 * series.bucket_s),
    };
    let stamp = stamp_of(i);
    // The log view: what was printed in the last LOG_WINDOW_S up to the playhead, one line
    // per message with its count and the time it was last printed.
    let buckets = (LOG_WINDOW_S / series.bucket_s.max(1e-9)).ceil().max(1.0) as usize;
    let first = i.saturating_sub(buckets - 1);
    let at = |v: &[u32], k: usize| v.get(k).copied().unwrap_or(0);
    let mut lines: Vec<(usize, String)> = Vec::new();
    let mut log = |count: &dyn Fn(usize) -> u32, text: String| {
        let (total, last) = (first..=i).fold((0u32, None), |(n, last), k| {
            let c = count(k);
            (n + c, if c > 0 { Some(k) } else { last })
        });
        if let Some(last) = last {
            lines.push((last, format!("{} {text} (x{total})", stamp_of(last))));
        }
    };
    let timeout_ms = c.pool.connection_timeout_us / 1000;
    for cause in Cause::ALL {
        let failed = &series.failed[cause];
        let count = |k: usize| match cause {
            // HikariCP logs every acquisition that times out, not only a request's last.
            Cause::PoolTimeout => at(&series.pool_timeouts, k),
            // The database refuses each opening; during an outage nothing reaches it.
            Cause::DbRefused if at(&series.failed[Cause::Outage], k) > 0 => 0,
            Cause::DbRefused => at(failed, k).max(at(&series.db_connection_errors, k)),
            _ => at(failed, k),
        };
        log(&count, cause.log_line(timeout_ms));
    }
    log(
        &|k| at(&series.leak_reports, k),
        "WARN  ProxyLeakTask - Connection leak detection triggered for org.postgresql.jdbc.PgConnection, stack trace follows: java.lang.Exception: Apparent connection leak detected".to_owned(),
    );
    lines.sort_by_key(|(k, _)| *k);
    let logs: Vec<String> = lines.into_iter().map(|(_, l)| l).collect();
    let window = clock(LOG_WINDOW_S);
    html! {
        <section class="responders" data-testid="responders" aria-label="What responders see">
            <h2>{format!("What responders see at {stamp}")}</h2>
            // Each label and its value in one box, so a wrapping grid cannot part them.
            <dl>{ for figures.into_iter().map(|(k, v)| html! { <div class="metric"><dt>{ for k.split_inclusive('_').map(|part| html! { <>{part}<wbr/></> }) }</dt><dd data-metric={k}>{v}</dd></div> }) }</dl>
            <p class="help">{format!("Logs of the last {window}, each message once with its count and when it was last printed.")}</p>
            <pre class="logs" data-testid="logs">
                { if logs.is_empty() { format!("(no errors logged in the last {window})") } else { logs.join("\n") } }
            </pre>
        </section>
    }
}

//! Components in a real browser (headless Chromium through wasm-bindgen-test-runner and
//! chromedriver): the chart draws its lines, limits and fault windows; a control shows the
//! validation message at its field; the URL round-trips a scenario through `location`; the
//! summary panel says what a fix made of the pools.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;
use std::time::Duration;

use poolsim_web::chart::{Chart, Line, Mark, Panel, RefLine, Span, XAxis};
use poolsim_web::controls::Controls;
use poolsim_web::protocol::Problem;
use wasm_bindgen_test::*;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

fn mount() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    host
}

/// Yew renders on the next turn of the event loop.
async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(30)).await;
}

#[derive(Properties, PartialEq)]
struct ChartHost {
    panels: Rc<Vec<Panel>>,
}

#[component]
fn OneChart(props: &ChartHost) -> Html {
    let spans = Rc::new(vec![Span {
        from: 20.0,
        to: 30.0,
        label: "db outage".into(),
        kind: Mark::Fault,
    }]);
    html! { <Chart title="Pool" panels={props.panels.clone()} x={XAxis::Time { max: 60.0, start: None }} {spans} /> }
}

#[wasm_bindgen_test]
async fn a_chart_draws_lines_limits_and_fault_windows() {
    let host = mount();
    let xs: Rc<[f64]> = (0..60).map(f64::from).collect();
    let ys: Rc<[f64]> = (0..60)
        .map(|i| if i == 30 { f64::NAN } else { f64::from(i % 7) })
        .collect();
    let panels = Rc::new(vec![Panel {
        unit: "connections",
        lines: vec![
            Line {
                label: "active".into(),
                key: "active",
                color: "#000",
                xs: xs.clone(),
                ys,
                baseline: false,
                limit: false,
            },
            Line {
                label: "max_size total".into(),
                key: "pool_max",
                color: "#d64545",
                xs,
                ys: (0..60).map(|i| if i < 40 { 10.0 } else { 6.0 }).collect(),
                baseline: false,
                limit: true,
            },
        ],
        refs: vec![RefLine {
            label: "cores 8".into(),
            y: 8.0,
        }],
        log: false,
    }]);
    yew::Renderer::<OneChart>::with_root_and_props(host.clone(), ChartHost { panels }).render();
    settle().await;
    let path = host
        .query_selector("path[data-series=active]")
        .unwrap()
        .expect("a line");
    let d = path.get_attribute("d").unwrap();
    assert_eq!(
        d.matches('M').count(),
        2,
        "the gap at 30 s splits the line: {d}"
    );
    assert!(
        host.query_selector("[data-ref]").unwrap().is_some(),
        "the reference line is drawn"
    );
    // The limit that changed is labelled with its value at the end, beside its line.
    let limit = host
        .query_selector("[data-limit=pool_max] text")
        .unwrap()
        .expect("the limit's label");
    assert_eq!(limit.text_content().unwrap(), "max_size total 6");
    let d = host
        .query_selector("[data-limit=pool_max] path")
        .unwrap()
        .unwrap()
        .get_attribute("d")
        .unwrap();
    let last_y: f64 = d.rsplit(',').next().unwrap().parse().unwrap();
    let label_y: f64 = limit.get_attribute("y").unwrap().parse().unwrap();
    assert!(
        (last_y - 4.0 - label_y).abs() < 0.2,
        "label at {label_y}, line ends at {last_y}"
    );
    assert!(
        host.query_selector("[data-mark=fault]").unwrap().is_some(),
        "the fault window is shaded"
    );
    let label = host
        .query_selector("svg")
        .unwrap()
        .unwrap()
        .get_attribute("aria-label")
        .unwrap();
    assert!(
        label.contains("active: last 3, highest 6 connections"),
        "{label}"
    );
}

#[derive(Properties, PartialEq)]
struct ControlsHost {
    errors: Rc<Vec<Problem>>,
}

#[component]
fn Form(props: &ControlsHost) -> Html {
    let scenario = Rc::new(poolsim_web::presets::default_scenario());
    html! { <Controls {scenario} errors={props.errors.clone()} on_edit={Callback::noop()} /> }
}

#[wasm_bindgen_test]
async fn a_bad_value_shows_its_message_at_the_field() {
    let host = mount();
    let errors = Rc::new(vec![Problem {
        path: "app.pool.max_size".into(),
        message: "must be at least 1".into(),
    }]);
    yew::Renderer::<Form>::with_root_and_props(host.clone(), ControlsHost { errors }).render();
    settle().await;
    let input = host
        .query_selector("input[name='app.pool.max_size']")
        .unwrap()
        .expect("the control");
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    let message = host
        .query_selector("[data-error-for='app.pool.max_size']")
        .unwrap()
        .unwrap();
    assert_eq!(message.text_content().unwrap().trim(), "must be at least 1");
    assert!(!message.has_attribute("hidden"));
    // Every plain field of the format has its control, by path.
    for field in poolsim_web::form::GROUPS.iter().flat_map(|g| g.fields) {
        let path = field.path;
        let selector = match field.kind {
            poolsim_web::form::Kind::Dist => format!("[name='{path}.kind']"),
            _ => format!("[name='{path}']"),
        };
        assert!(
            host.query_selector(&selector).unwrap().is_some(),
            "no control named {path}"
        );
    }
}

#[wasm_bindgen_test]
fn the_scenario_round_trips_through_the_address_bar() {
    let window = web_sys::window().unwrap();
    let scenario = serde_json::json!({"name": "50% & more #1", "app": {"pool": {"max_size": 7}}});
    let hash = poolsim_web::url::hash(&scenario);
    window.location().set_hash(&hash).unwrap();
    let read = window.location().hash().unwrap();
    let address = poolsim_web::url::parse("", &read);
    assert_eq!(address.scenario, Some(Ok(scenario)));
}

#[derive(Properties, PartialEq)]
struct SummaryHost {
    report: Rc<poolsim_engine::Report>,
    config: Rc<poolsim_scenario::Config>,
}

#[component]
fn Summary(props: &SummaryHost) -> Html {
    html! { <poolsim_web::summary::SummaryPanel report={props.report.clone()} config={props.config.clone()} updating={false} /> }
}

#[wasm_bindgen_test]
async fn the_summary_says_what_the_pools_became_after_a_fix() {
    // Two pools of 4 over-ask a database allowing 6 until a reconfigure halves them at 10s.
    let config = poolsim_scenario::load(
        r#"{"duration": "20s", "workload": {"arrivals": {"kind": "poisson", "rate_per_s": 100}},
            "app": {"instances": 2, "pool": {"max_size": 4}},
            "database": {"max_connections": 6},
            "faults": [{"kind": "reconfigure", "at": "10s", "pool": {"max_size": 2}}]}"#,
    )
    .expect("valid");
    let report = poolsim_engine::run(&config).expect("runs");
    let host = mount();
    yew::Renderer::<Summary>::with_root_and_props(
        host.clone(),
        SummaryHost {
            report: Rc::new(report),
            config: Rc::new(config),
        },
    )
    .render();
    settle().await;
    let text = |selector: &str| {
        host.query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("no {selector}"))
            .text_content()
            .unwrap()
    };
    assert_eq!(
        text("[data-testid='verdict'] .warning"),
        "⚠ The pools together could open 8 connections, more than the 6 the database allows, \
         until a change brought them to 4."
    );
    let capacity = "[data-theory='pool capacity']";
    assert!(
        text(&format!("{capacity} td:last-child"))
            .starts_with("max_size total peaked at 8, ended at 4;"),
        "{}",
        text(capacity)
    );
    assert!(text(&format!("{capacity} td")).contains("OVERSUBSCRIBED by 2"));
}

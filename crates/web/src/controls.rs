//! The scenario's controls, drawn from the field table in `form.rs`. A control's `name` is
//! its field path; a change sends `(path, new JSON or None)` up, and validation's messages
//! come back down by the same path.

use std::rc::Rc;

use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::embeddable::{self, Control};
use crate::form::{self, Field, Kind};
use crate::path;
use crate::protocol::Problem;

/// `(path, value)`: store `value` at `path` (`None` removes the field).
pub type Edit = (String, Option<Value>);

#[derive(Properties, PartialEq, Debug)]
pub struct ControlsProps {
    pub scenario: Rc<Value>,
    pub errors: Rc<Vec<Problem>>,
    pub on_edit: Callback<Edit>,
    /// Show only these field paths (embed mode); `None`: everything.
    #[prop_or_default]
    pub only: Option<Rc<Vec<String>>>,
}

#[component]
pub fn Controls(props: &ControlsProps) -> Html {
    let add_kind = use_state(|| "db_outage".to_owned());
    let ctx = Ctx {
        scenario: props.scenario.clone(),
        errors: props.errors.clone(),
        on_edit: props.on_edit.clone(),
        add_kind,
    };
    if let Some(only) = &props.only {
        let controls = embeddable::resolve(&props.scenario, only);
        let shown = controls.iter().map(|(path, control)| match control {
            Ok(control) => ctx.control(control),
            Err(why) => html! {
                <p class="embed-missing" data-path={path.clone()} role="note">{why.clone()}</p>
            },
        });
        return html! {
            <div class="controls embed-controls">{ for shown }</div>
        };
    }
    let groups = form::GROUPS.iter().map(|group| {
        let extra = match group.id {
            "workload" => ctx.arrivals(),
            "faults" => ctx.faults(),
            "alerts" => ctx.alerts(),
            "run" => ctx.moments(),
            _ => Html::default(),
        };
        let fields = group.fields.iter().map(|f| ctx.field(f.path, f));
        html! {
            <details class="group" open=true>
                <summary>{group.title}</summary>
                <div class="fields">
                    { if group.id == "workload" { extra.clone() } else { Html::default() } }
                    { for fields }
                    { if group.id != "workload" { extra } else { Html::default() } }
                </div>
            </details>
        }
    });
    html! { <form class="controls" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>{ for groups }</form> }
}

struct Ctx {
    scenario: Rc<Value>,
    errors: Rc<Vec<Problem>>,
    on_edit: Callback<Edit>,
    /// The fault kind picked for "Add".
    add_kind: UseStateHandle<String>,
}

/// The value of the `<input>`, `<select>` or `<textarea>` an event came from ("" if none).
pub fn event_value(e: &Event) -> String {
    if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
        i.value()
    } else if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
        s.value()
    } else if let Some(t) = e.target_dyn_into::<web_sys::HtmlTextAreaElement>() {
        t.value()
    } else {
        String::new()
    }
}

/// What a person is typing in the control `id`, if it has the focus: a render (another
/// field's edit, a run's progress) shows it instead of the scenario's value, because Yew
/// writes a controlled input's value back on every render and would wipe the keys typed.
fn typed_in(id: &str) -> Option<String> {
    let active = web_sys::window()?.document()?.active_element()?;
    if active.id() != id {
        return None;
    }
    active
        .dyn_into::<HtmlInputElement>()
        .ok()
        .map(|i| i.value())
}

/// An `id` attribute for a field path (`app.pool.max_size` → `f-app-pool-max_size`).
fn dom_id(path: &str) -> String {
    let mut id = String::from("f-");
    id.extend(path.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        }
    }));
    id
}

impl Ctx {
    /// The control an embed shows for one resolved path.
    fn control(&self, control: &Control) -> Html {
        match control {
            Control::Field(path, f) => self.field(path, f),
            Control::Dist(path, f) => self.dist(path, f),
            Control::Patch(path, f) => self.patch_field(path, f),
            Control::Arrivals => self.arrivals(),
            Control::AlertMetric(i) => {
                let metric = self
                    .value(&path::child(&path::index("alerts", *i), "metric"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                self.alert_metric(*i, &metric)
            }
        }
    }

    fn value(&self, path: &str) -> Option<&Value> {
        path::get(&self.scenario, path)
    }

    fn error(&self, path: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.path == path)
            .map(|e| e.message.clone())
    }

    fn edit(&self, path: String, kind: Kind) -> Callback<Event> {
        self.on_edit
            .reform(move |e: Event| (path.clone(), form::parse_input(kind, &event_value(&e))))
    }

    /// One labelled control with its help and its error.
    fn field(&self, path: &str, f: &Field) -> Html {
        if f.kind == Kind::Dist {
            return self.dist(path, f);
        }
        let id = dom_id(path);
        let error = self.error(path).map(|m| form::field_message(f.kind, &m));
        let text = typed_in(&id).unwrap_or_else(|| form::display(self.value(path)));
        let onchange = self.edit(path.to_owned(), f.kind);
        let invalid = error.as_ref().map(|_| "true");
        let described = format!("{id}-help {id}-error");
        let input = match f.kind {
            Kind::Choice(options) => html! {
                <select id={id.clone()} name={path.to_owned()} {onchange} aria-invalid={invalid}
                        aria-describedby={described}>
                    { for options.iter().map(|(v, label)| html! {
                        <option value={*v} selected={text == *v}>{*label}</option>
                    }) }
                </select>
            },
            Kind::Int { min, max } | Kind::OptInt { min, max } => html! {
                <input id={id.clone()} name={path.to_owned()} type="number" inputmode="numeric"
                       min={min.to_string()} max={max.to_string()} step="1" value={text}
                       placeholder={if matches!(f.kind, Kind::OptInt { .. }) { "same as pool size" } else { "" }}
                       {onchange} aria-invalid={invalid} aria-describedby={described} />
            },
            Kind::Float { min, max, step } => html! {
                <input id={id.clone()} name={path.to_owned()} type="number" inputmode="decimal"
                       min={min.to_string()} max={max.to_string()} step={step.to_string()} value={text}
                       {onchange} aria-invalid={invalid} aria-describedby={described} />
            },
            Kind::Duration => html! {
                <input id={id.clone()} name={path.to_owned()} type="text" class="duration"
                       value={text} placeholder="e.g. 30s, 250ms" spellcheck="false"
                       autocomplete="off" {onchange} aria-invalid={invalid} aria-describedby={described} />
            },
            Kind::Text | Kind::Dist => html! {
                <input id={id.clone()} name={path.to_owned()} type="text" value={text}
                       autocomplete="off" {onchange} aria-invalid={invalid} aria-describedby={described} />
            },
        };
        html! {
            <div class={classes!("field", error.is_some().then_some("invalid"))}>
                <label for={id.clone()}>{f.label}</label>
                { input }
                if !f.help.is_empty() { <small id={format!("{id}-help")} class="help">{f.help}</small> }
                <small id={format!("{id}-error")} class="error" data-error-for={path.to_owned()}
                       role="alert" hidden={error.is_none()}>
                    { error.unwrap_or_default() }
                </small>
            </div>
        }
    }

    /// A distribution: its kind, then that kind's parameters.
    fn dist(&self, path: &str, f: &Field) -> Html {
        let current = self.value(path).cloned().unwrap_or(Value::Null);
        let kind = current
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("constant")
            .to_owned();
        let kind_path = path::child(path, "kind");
        let on_kind = {
            let path = path.to_owned();
            let current = current.clone();
            self.on_edit.reform(move |e: Event| {
                let kind = event_value(&e);
                (path.clone(), Some(form::switch_dist(&current, &kind)))
            })
        };
        let params = form::dist_fields(&kind)
            .iter()
            .map(|p| self.field(&path::child(path, p.path), p));
        let empirical = (kind == "empirical").then(|| self.empirical(path));
        let error = self.error(path);
        html! {
            <fieldset class="dist" data-field={path.to_owned()}>
                <legend>{f.label}</legend>
                if !f.help.is_empty() { <small class="help">{f.help}</small> }
                <select name={kind_path} aria-label={format!("{} distribution", f.label)} onchange={on_kind}>
                    { for form::DIST_KINDS.iter().map(|(v, label)| html! {
                        <option value={*v} selected={kind == *v}>{*label}</option>
                    }) }
                </select>
                <div class="params">{ for params }{ empirical.unwrap_or_default() }</div>
                <small class="error" data-error-for={path.to_owned()} role="alert" hidden={error.is_none()}>
                    { error.unwrap_or_default() }
                </small>
            </fieldset>
        }
    }

    /// An empirical distribution's values as one comma-separated text field.
    fn empirical(&self, path: &str) -> Html {
        let values_path = path::child(path, "values");
        let text = match self.value(&values_path) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| form::display(Some(v)))
                .collect::<Vec<_>>()
                .join(", "),
            other => form::display(other),
        };
        let onchange = {
            let values_path = values_path.clone();
            self.on_edit.reform(move |e: Event| {
                let text = event_value(&e);
                let items: Vec<Value> = text
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Value::from)
                    .collect();
                (values_path.clone(), Some(Value::Array(items)))
            })
        };
        let id = dom_id(&values_path);
        let error = self
            .errors
            .iter()
            .find(|e| e.path.starts_with(&values_path))
            .map(|e| e.message.clone());
        html! {
            <div class="field">
                <label for={id.clone()}>{"values"}</label>
                <input id={id} name={values_path.clone()} type="text" value={text} placeholder="1ms, 2ms, 40ms" {onchange}
                       aria-invalid={error.as_ref().map(|_| "true")} />
                <small class="error" data-error-for={values_path} hidden={error.is_none()}>{ error.unwrap_or_default() }</small>
            </div>
        }
    }

    fn arrivals(&self) -> Html {
        let base = "workload.arrivals";
        let current = self.value(base).cloned().unwrap_or(Value::Null);
        let kind = current
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("poisson")
            .to_owned();
        let on_kind = {
            let current = current.clone();
            self.on_edit.reform(move |e: Event| {
                let kind = event_value(&e);
                (
                    base.to_owned(),
                    Some(form::switch_arrivals(&current, &kind)),
                )
            })
        };
        let fields = form::arrival_fields(&kind)
            .iter()
            .map(|f| self.field(&path::child(base, f.path), f));
        let steps = (kind == "piecewise").then(|| self.rate_steps(base, &current));
        html! {
            <fieldset class="dist">
                <legend>{"Arrivals"}</legend>
                <small class="help">{"How requests arrive, over the whole fleet."}</small>
                <select name="workload.arrivals.kind" aria-label="Arrival process" onchange={on_kind}>
                    { for form::ARRIVAL_KINDS.iter().map(|(v, label)| html! {
                        <option value={*v} selected={kind == *v}>{*label}</option>
                    }) }
                </select>
                <div class="params">{ for fields }{ steps.unwrap_or_default() }</div>
            </fieldset>
        }
    }

    fn rate_steps(&self, base: &str, current: &Value) -> Html {
        let steps_path = path::child(base, "steps");
        let steps = current
            .get("steps")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let items = (0..steps.len()).map(|i| {
            let item = path::index(&steps_path, i);
            html! {
                <div class="item">
                    { for form::STEP_FIELDS.iter().map(|f| self.field(&path::child(&item, f.path), f)) }
                    { self.remove_button(&steps_path, i, "Remove step") }
                </div>
            }
        });
        let last_rate = steps
            .last()
            .and_then(|s| s.get("rate_per_s"))
            .cloned()
            .unwrap_or(json!(100.0));
        let add = self.append(
            &steps_path,
            &steps,
            json!({"at": "1m", "rate_per_s": last_rate}),
        );
        html! {
            <div class="list">
                { for items }
                <button type="button" onclick={add}>{"Add a rate step"}</button>
            </div>
        }
    }

    /// A click that stores `items` plus `new` at `list_path`.
    fn append(&self, list_path: &str, items: &[Value], new: Value) -> Callback<MouseEvent> {
        let list_path = list_path.to_owned();
        let mut all = items.to_vec();
        all.push(new);
        self.on_edit
            .reform(move |_: MouseEvent| (list_path.clone(), Some(Value::Array(all.clone()))))
    }

    fn remove_button(&self, list_path: &str, i: usize, label: &str) -> Html {
        let onclick = {
            let item = path::index(list_path, i);
            self.on_edit
                .reform(move |_: MouseEvent| (item.clone(), None))
        };
        html! { <button type="button" class="remove" aria-label={format!("{label} {}", i + 1)} {onclick}>{"✕"}</button> }
    }

    fn faults(&self) -> Html {
        let faults = self
            .value("faults")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let items = faults
            .iter()
            .enumerate()
            .map(|(i, fault)| self.fault(i, fault));
        let add_kind = self.add_kind.clone();
        let on_pick = {
            let add_kind = add_kind.clone();
            Callback::from(move |e: Event| {
                if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                    add_kind.set(s.value());
                }
            })
        };
        let add = self.append("faults", &faults, form::new_fault(&add_kind, "1m"));
        html! {
            <div class="list">
                if faults.is_empty() { <p class="empty">{"None scheduled."}</p> }
                { for items }
                <div class="add">
                    <select name="add-fault" aria-label="Fault to add" onchange={on_pick}>
                        { for form::FAULT_KINDS.iter().map(|(v, label)| html! {
                            <option value={*v} selected={*add_kind == *v}>{*label}</option>
                        }) }
                    </select>
                    <button type="button" data-action="add-fault" onclick={add}>{"Add"}</button>
                </div>
            </div>
        }
    }

    fn fault(&self, i: usize, fault: &Value) -> Html {
        let base = path::index("faults", i);
        let kind = fault
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let on_kind = {
            let base = base.clone();
            let at = fault
                .get("at")
                .and_then(Value::as_str)
                .unwrap_or("1m")
                .to_owned();
            self.on_edit.reform(move |e: Event| {
                let kind = event_value(&e);
                (base.clone(), Some(form::new_fault(&kind, &at)))
            })
        };
        let fields = form::fault_fields(&kind)
            .iter()
            .map(|f| self.field(&path::child(&base, f.path), f));
        let reconfigure = (kind == "reconfigure").then(|| self.reconfigure(&base, fault));
        let error = self.error(&base);
        html! {
            <fieldset class="item fault" data-field={base.clone()}>
                <legend>{format!("Fault {}", i + 1)}</legend>
                <select name={path::child(&base, "kind")} aria-label={format!("Fault {} kind", i + 1)} onchange={on_kind}>
                    { for form::FAULT_KINDS.iter().map(|(v, label)| html! {
                        <option value={*v} selected={kind == *v}>{*label}</option>
                    }) }
                </select>
                { self.remove_button("faults", i, "Remove fault") }
                <div class="params">{ for fields }{ reconfigure.unwrap_or_default() }</div>
                <small class="error" data-error-for={base} hidden={error.is_none()}>{ error.unwrap_or_default() }</small>
            </fieldset>
        }
    }

    fn reconfigure(&self, base: &str, fault: &Value) -> Html {
        let pool = path::child(base, "pool");
        let patch = form::PATCH_FIELDS
            .iter()
            .map(|f| self.patch_field(&path::child(&pool, f.path), f));
        let restart_path = path::child(base, "rolling_restart");
        let has_restart = fault.get("rolling_restart").is_some_and(|r| !r.is_null());
        let on_toggle = {
            let restart_path = restart_path.clone();
            self.on_edit.reform(move |e: Event| {
                let on = e
                    .target_dyn_into::<HtmlInputElement>()
                    .is_some_and(|i| i.checked());
                (
                    restart_path.clone(),
                    on.then(|| json!({"down": "30s", "gap": "0s", "batch": 1})),
                )
            })
        };
        let restart_fields = has_restart.then(|| {
            form::fault_fields("rolling_restart")
                .iter()
                .skip(1)
                .map(|f| self.field(&path::child(&restart_path, f.path), f))
                .collect::<Html>()
        });
        html! {
            <>
                <p class="help">{"New pool settings; empty keeps the current value."}</p>
                { for patch }
                <label class="check">
                    <input type="checkbox" name={restart_path} checked={has_restart} onchange={on_toggle} />
                    {" apply with a rolling restart"}
                </label>
                { restart_fields.unwrap_or_default() }
            </>
        }
    }

    /// A reconfigure's pool setting: empty keeps the old value, and a duration's typed text
    /// is stored as text.
    fn patch_field(&self, path: &str, f: &Field) -> Html {
        if f.kind == Kind::Text {
            self.patch_duration(path, f)
        } else {
            self.field(path, f)
        }
    }

    fn patch_duration(&self, path: &str, f: &Field) -> Html {
        let id = dom_id(path);
        let text = typed_in(&id).unwrap_or_else(|| form::display(self.value(path)));
        let onchange = {
            let path = path.to_owned();
            self.on_edit.reform(move |e: Event| {
                let text = event_value(&e);
                let text = text.trim().to_owned();
                (path.clone(), (!text.is_empty()).then(|| Value::from(text)))
            })
        };
        let error = self.error(path);
        html! {
            <div class="field">
                <label for={id.clone()}>{f.label}</label>
                <input id={id} name={path.to_owned()} type="text" class="duration" value={text}
                       placeholder="keep" {onchange} aria-invalid={error.as_ref().map(|_| "true")} />
                <small class="error" data-error-for={path.to_owned()} hidden={error.is_none()}>{ error.unwrap_or_default() }</small>
            </div>
        }
    }

    /// A replay's timeline moments (the start is a plain field of the run group).
    fn moments(&self) -> Html {
        let moments = self
            .value("timeline.moments")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let items = (0..moments.len()).map(|i| {
            let base = path::index("timeline.moments", i);
            html! {
                <fieldset class="item moment">
                    <legend>{format!("Moment {}", i + 1)}</legend>
                    { self.remove_button("timeline.moments", i, "Remove moment") }
                    { for form::MOMENT_FIELDS.iter().map(|f| self.field(&path::child(&base, f.path), f)) }
                </fieldset>
            }
        });
        let add = self.append("timeline.moments", &moments, form::new_moment());
        html! {
            <div class="list">
                <p class="help">{"Timeline moments (detection, actions, escalation, fix, resolution) are marked on every chart."}</p>
                { for items }
                <button type="button" data-action="add-moment" onclick={add}>{"Add a moment"}</button>
            </div>
        }
    }

    /// The choice of metric for `alerts[i]`, currently `metric`.
    fn alert_metric(&self, i: usize, metric: &str) -> Html {
        let metric_path = path::child(&path::index("alerts", i), "metric");
        let on_metric = self.edit(metric_path.clone(), Kind::Text);
        let error = self.error(&metric_path);
        html! {
            <div class="field">
                <label for={dom_id(&metric_path)}>{"Metric"}</label>
                <select id={dom_id(&metric_path)} name={metric_path.clone()} onchange={on_metric}>
                    { for form::metric_names().into_iter().map(|m| html! {
                        <option selected={metric == m} value={m.clone()}>{m}</option>
                    }) }
                </select>
                <small class="error" data-error-for={metric_path} hidden={error.is_none()}>{ error.unwrap_or_default() }</small>
            </div>
        }
    }

    fn alerts(&self) -> Html {
        let alerts = self
            .value("alerts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let items = alerts.iter().enumerate().map(|(i, alert)| {
            let base = path::index("alerts", i);
            let metric = alert
                .get("metric")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let fields = form::ALERT_FIELDS
                .iter()
                .filter(|f| f.path != "metric")
                .map(|f| self.field(&path::child(&base, f.path), f));
            html! {
                <fieldset class="item alert">
                    <legend>{format!("Alert {}", i + 1)}</legend>
                    { self.remove_button("alerts", i, "Remove alert") }
                    { self.alert_metric(i, &metric) }
                    { for fields }
                </fieldset>
            }
        });
        let add = self.append("alerts", &alerts, form::new_alert());
        html! {
            <div class="list">
                <p class="help">{"\"metric above threshold for a duration\", evaluated on the time series; firings are marked on the charts."}</p>
                { for items }
                <button type="button" data-action="add-alert" onclick={add}>{"Add an alert"}</button>
            </div>
        }
    }
}

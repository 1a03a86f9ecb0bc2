//! `window.poolsim`, the page's script API for docs and automation:
//!
//! - `poolsim.run(scenario)`: `scenario` is an object or JSON text; the promise resolves to
//!   the summary object `poolsim run --format json` prints, or rejects with an `Error` whose
//!   message names every bad field. Runs queue in a worker of their own, so they neither
//!   cancel nor are cancelled by the page's controls; `poolsim.stop()` cancels them.
//! - `poolsim.stop()`: stops every `run` and `bench` call not yet answered (a long run no
//!   longer holds up the calls queued behind it); each rejects with "stopped by
//!   poolsim.stop()". Returns how many were stopped.
//! - `poolsim.bench(scenario)`: like `run`, resolving to `{digest, events, engine_ms}`, the
//!   time the worker spent inside the engine (no messaging), for the browser benchmark.
//! - `poolsim.timings()`: for each run a control started, `{change_ms, first_chart_ms,
//!   done_ms, events}` (`performance.now()` times), for the browser benchmark.

use std::cell::RefCell;
use std::collections::BTreeMap;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::client::Client;
use crate::protocol::{FromWorker, ToWorker};
use crate::state::Timing;

struct Api {
    client: Option<Client>,
    next_id: u64,
    /// `(resolve, reject, bench)` of each run not yet answered.
    pending: BTreeMap<u64, (Function, Function, bool)>,
    timings: Vec<Timing>,
}

thread_local! {
    static API: RefCell<Api> = const { RefCell::new(Api {
        client: None,
        next_id: 1,
        pending: BTreeMap::new(),
        timings: Vec::new(),
    }) };
}

/// Installs `window.poolsim`.
pub fn install() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let api = Object::new();
    let run = Closure::<dyn Fn(JsValue) -> Promise>::new(|s| start(s, false));
    let bench = Closure::<dyn Fn(JsValue) -> Promise>::new(|s| start(s, true));
    let timings = Closure::<dyn Fn() -> JsValue>::new(|| {
        API.with(|api| {
            let json = serde_json::to_string(&api.borrow().timings).unwrap_or_else(|_| "[]".into());
            js_sys::JSON::parse(&json).unwrap_or(JsValue::NULL)
        })
    });
    let stop = Closure::<dyn Fn() -> u32>::new(stop_all);
    let _ = Reflect::set(&api, &"run".into(), run.as_ref());
    let _ = Reflect::set(&api, &"stop".into(), stop.as_ref());
    let _ = Reflect::set(&api, &"bench".into(), bench.as_ref());
    let _ = Reflect::set(&api, &"timings".into(), timings.as_ref());
    let _ = Reflect::set(&api, &"version".into(), &env!("CARGO_PKG_VERSION").into());
    run.forget();
    stop.forget();
    bench.forget();
    timings.forget();
    let _ = Reflect::set(&window, &"poolsim".into(), &api);
}

/// The page records its timings here after each render.
pub fn set_timings(timings: &[Timing]) {
    API.with(|api| {
        let mut api = api.borrow_mut();
        if api.timings.len() != timings.len() {
            api.timings = timings.to_vec();
        }
    });
}

fn error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

fn start(scenario: JsValue, bench: bool) -> Promise {
    let text = match scenario.as_string() {
        Some(text) => text,
        None => match js_sys::JSON::stringify(&scenario)
            .ok()
            .and_then(|s| s.as_string())
        {
            Some(text) => text,
            None => {
                return Promise::reject(&error("poolsim.run: pass a scenario object or JSON text"));
            }
        },
    };
    // Bad scenarios are answered at once, with every problem by field path.
    if let Err(e) = poolsim_scenario::load(&text) {
        return Promise::reject(&error(&e.to_string()));
    }
    Promise::new(&mut |resolve, reject| {
        API.with(|api| {
            let mut api = api.borrow_mut();
            if api.client.as_ref().is_none_or(Client::is_dead) {
                match Client::spawn(answer) {
                    Ok(c) => api.client = Some(c),
                    Err(e) => {
                        let _ = reject.call1(&JsValue::NULL, &error(&e));
                        return;
                    }
                }
            }
            let id = api.next_id;
            api.next_id += 1;
            api.pending.insert(id, (resolve, reject, bench));
            if let Some(c) = &api.client {
                c.send(&ToWorker::Run {
                    id,
                    scenario: text.clone(),
                    replace: false,
                });
            }
        });
    })
}

/// Stops every `run`/`bench` call not yet answered, running or queued: each rejects with an
/// `Error` saying so. How many were stopped.
fn stop_all() -> u32 {
    let pending = API.with(|api| {
        let mut api = api.borrow_mut();
        let pending = std::mem::take(&mut api.pending);
        if let Some(c) = &api.client {
            for &id in pending.keys() {
                c.send(&ToWorker::Stop { id });
            }
        }
        pending
    });
    for (_, reject, _) in pending.values() {
        let _ = reject.call1(&JsValue::NULL, &error("stopped by poolsim.stop()"));
    }
    pending.len() as u32
}

fn answer(message: FromWorker) {
    if let FromWorker::Crashed { message } = &message {
        // Every pending run died with the worker; the next call starts a new one.
        // (The dead client is replaced on the next call, not dropped here, inside its own
        // error handler.)
        let pending = API.with(|api| std::mem::take(&mut api.borrow_mut().pending));
        for (_, (_, reject, _)) in pending {
            let _ = reject.call1(&JsValue::NULL, &error(message));
        }
        return;
    }
    // The run's id and what it gave: the report (and engine time), or why it failed.
    let (id, result) = match message {
        FromWorker::Done {
            id,
            report,
            engine_ms,
        } => (id, Ok((report, engine_ms))),
        FromWorker::Failed { id, message, .. } => (id, Err(message)),
        FromWorker::Ready
        | FromWorker::Progress { .. }
        | FromWorker::Reviewed { .. }
        | FromWorker::Crashed { .. } => return,
    };
    let Some((resolve, reject, bench)) = API.with(|api| api.borrow_mut().pending.remove(&id))
    else {
        return;
    };
    let outcome = match result {
        Ok((report, engine_ms)) => {
            let json = if bench {
                serde_json::json!({
                    "digest": report.summary.digest,
                    "events": report.summary.events,
                    "engine_ms": engine_ms,
                })
                .to_string()
            } else {
                serde_json::to_string(&report.summary).unwrap_or_default()
            };
            js_sys::JSON::parse(&json).map_err(|_| error("cannot read the summary"))
        }
        Err(message) => Err(error(&message)),
    };
    let _ = match outcome {
        Ok(summary) => resolve.call1(&JsValue::NULL, &summary),
        Err(e) => reject.call1(&JsValue::NULL, &e),
    };
}

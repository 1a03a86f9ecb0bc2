//! The simulation worker: runs scenarios in slices of about [`SLICE_MS`] so that a newer
//! request (a control changed again) is read between two slices and replaces the old run.
//! Between slices it yields to its event loop through a `MessageChannel`, which, unlike
//! `setTimeout(0)`, is not clamped to 4 ms.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use poolsim_engine::Simulation;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageChannel, MessageEvent};

use crate::protocol::{FromWorker, Problem, ToWorker};

/// Wall time one slice aims at: short enough that a change is picked up at once, long enough
/// that messaging costs little.
const SLICE_MS: f64 = 20.0;
/// Events in the first slice, before the worker has measured its speed.
const FIRST_SLICE: u64 = 20_000;

struct Job {
    id: u64,
    sim: Simulation,
    /// Buckets already sent.
    sent: usize,
    /// `Operations::len` when they were last sent.
    sent_operations: u64,
    /// Events per slice, adapted to `SLICE_MS`.
    slice: u64,
    /// Send the series as it grows (the page's runs; not `window.poolsim.run`'s).
    stream: bool,
    /// Wall time spent inside the engine, ms.
    engine_ms: f64,
}

struct Worker {
    scope: DedicatedWorkerGlobalScope,
    channel: MessageChannel,
    /// Requests not yet started, in order: `(id, scenario, stream)`.
    queue: VecDeque<(u64, String, bool)>,
    running: Option<Job>,
    scheduled: bool,
}

/// Starts the worker: listens for [`ToWorker`] messages and announces [`FromWorker::Ready`].
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let Ok(channel) = MessageChannel::new() else {
        return;
    };
    let worker = Rc::new(RefCell::new(Worker {
        scope: scope.clone(),
        channel,
        queue: VecDeque::new(),
        running: None,
        scheduled: false,
    }));

    let on_tick = {
        let worker = worker.clone();
        Closure::<dyn FnMut()>::new(move || Worker::tick(&worker))
    };
    worker
        .borrow()
        .channel
        .port2()
        .set_onmessage(Some(on_tick.as_ref().unchecked_ref()));
    on_tick.forget();

    let on_message = {
        let worker = worker.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(message) = crate::protocol::read::<ToWorker>(&event) else {
                return;
            };
            worker.borrow_mut().accept(message);
            Worker::schedule(&worker);
        })
    };
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&scope, &FromWorker::Ready);
}

/// `poolsim check` on text: the files' settings on the scenario's traffic and fleet.
fn review(
    scenario: &str,
    files: &[(String, String)],
    slos: &[String],
) -> Result<poolsim_advisor::review::Review, String> {
    let base = poolsim_scenario::parse(scenario).map_err(|e| e.to_string())?;
    let slos = slos
        .iter()
        .map(|s| s.parse::<poolsim_advisor::Slo>().map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut found = poolsim_advisor::config_files::FoundConfig::default();
    // A postgresql.conf include is followed to a file given alongside, by its name.
    let mut include = |_: &str, written: &str, _| {
        let name = written.rsplit('/').next().unwrap_or(written);
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(n, text)| vec![(n.clone(), text.clone())])
            .ok_or_else(|| format!("includes '{written}': add that file to the review as {name}"))
    };
    for (name, text) in files.iter().filter(|(_, text)| !text.trim().is_empty()) {
        poolsim_advisor::config_files::read_with(name, text, &mut found, &mut include)
            .map_err(|e| e.to_string())?;
    }
    let mut run = |configs: &[poolsim_scenario::Config]| {
        configs
            .iter()
            .map(|c| poolsim_engine::run(c).map(|r| r.summary))
            .collect()
    };
    poolsim_advisor::review::review(&base, &found, &slos, &mut run).map_err(|e| e.to_string())
}

fn post(scope: &DedicatedWorkerGlobalScope, message: &FromWorker) {
    // Posting only fails for uncloneable values; a string always clones.
    let _ = scope.post_message(&JsValue::from_str(&message.to_json()));
}

fn now_ms(scope: &DedicatedWorkerGlobalScope) -> f64 {
    scope.performance().map_or(0.0, |p| p.now())
}

impl Worker {
    fn accept(&mut self, message: ToWorker) {
        match message {
            ToWorker::Run {
                id,
                scenario,
                replace,
            } => {
                if replace {
                    self.queue.clear();
                    self.running = None;
                }
                self.queue.push_back((id, scenario, replace));
            }
            ToWorker::Review {
                id,
                scenario,
                files,
                slos,
            } => {
                // A few full runs, done at once: the reviewing page waits for this one answer.
                let result = review(&scenario, &files, &slos).map(Box::new);
                post(&self.scope, &FromWorker::Reviewed { id, result });
            }
            ToWorker::Stop { id } => {
                self.running.take_if(|job| job.id == id);
                self.queue.retain(|(queued, _, _)| *queued != id);
            }
        }
    }

    fn schedule(worker: &Rc<RefCell<Worker>>) {
        let mut w = worker.borrow_mut();
        if !w.scheduled && (w.running.is_some() || !w.queue.is_empty()) {
            w.scheduled = true;
            let _ = w.channel.port1().post_message(&JsValue::NULL);
        }
    }

    /// Runs one slice of the current job (starting the next queued one if none).
    fn tick(worker: &Rc<RefCell<Worker>>) {
        {
            let mut w = worker.borrow_mut();
            w.scheduled = false;
            w.step();
        }
        Worker::schedule(worker);
    }

    fn step(&mut self) {
        if self.running.is_none() {
            let Some((id, text, stream)) = self.queue.pop_front() else {
                return;
            };
            match poolsim_scenario::load(&text) {
                Ok(config) => {
                    self.running = Some(Job {
                        id,
                        sim: Simulation::new(&config),
                        sent: 0,
                        sent_operations: 0,
                        slice: FIRST_SLICE,
                        stream,
                        engine_ms: 0.0,
                    });
                }
                Err(e) => {
                    let errors = e.fields().into_iter().map(Problem::from).collect();
                    let message = e.to_string();
                    post(
                        &self.scope,
                        &FromWorker::Failed {
                            id,
                            errors,
                            message,
                        },
                    );
                    return;
                }
            }
        }
        let Some(job) = self.running.as_mut() else {
            return;
        };
        let start = now_ms(&self.scope);
        let result = job.sim.advance(job.slice);
        let took = now_ms(&self.scope) - start;
        job.engine_ms += took;
        if took > 0.0 {
            // Aim the next slice at SLICE_MS, changing by at most 4x at a time.
            let scale = (SLICE_MS / took).clamp(0.25, 4.0);
            job.slice = ((job.slice as f64 * scale) as u64).clamp(1_000, 5_000_000);
        }
        match result {
            Ok(progress) => {
                let id = job.id;
                if job.stream {
                    let series = job.sim.series();
                    let from = job.sent;
                    job.sent = series.len();
                    let ops = job.sim.operations();
                    let operations = (ops.len() != job.sent_operations).then(|| {
                        job.sent_operations = ops.len();
                        Box::new(ops.clone())
                    });
                    let message = FromWorker::Progress {
                        id,
                        fraction: progress.fraction,
                        events: progress.events,
                        from,
                        series: Box::new(series.tail(from)),
                        operations,
                    };
                    post(&self.scope, &message);
                }
                if progress.done
                    && let Some(job) = self.running.take()
                {
                    let engine_ms = job.engine_ms;
                    let report = Box::new(job.sim.into_report());
                    post(
                        &self.scope,
                        &FromWorker::Done {
                            id,
                            report,
                            engine_ms,
                        },
                    );
                }
            }
            Err(e) => {
                let id = job.id;
                self.running = None;
                post(
                    &self.scope,
                    &FromWorker::Failed {
                        id,
                        errors: Vec::new(),
                        message: e.to_string(),
                    },
                );
            }
        }
    }
}

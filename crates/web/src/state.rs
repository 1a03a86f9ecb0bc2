//! The page's state and its one reducer: every change (a control, a preset, an import, the
//! browser's back button, an answer from the worker) is an [`Action`].

use std::rc::Rc;

use poolsim_engine::{Operations, Report, Series};
use poolsim_scenario::Config;
use serde_json::Value;
use yew::Reducible;

use crate::charts::{self, Run};
use crate::path;
use crate::protocol::{FromWorker, Problem};

/// Where a new scenario came from: decides what happens to the browser history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The page opened: replace the current entry.
    Load,
    /// A control, a preset, an import: push a new entry.
    User,
    /// Back or forward: the entry is already there.
    History,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A control changed the field at `path` (`None` removes it).
    Edit {
        path: String,
        value: Option<Value>,
        at_ms: f64,
    },
    /// A whole scenario: a preset, an import, a link.
    Replace {
        scenario: Value,
        origin: Origin,
    },
    /// The link's scenario could not be read at all.
    BadLink(String),
    Worker(FromWorker),
    Pin,
    Unpin,
    Status(Option<String>),
    /// The person stopped run `id`: the last finished run stays on screen.
    Stop {
        id: u64,
    },
    /// The first chart of run `id` is on screen.
    Drawn {
        id: u64,
        at_ms: f64,
    },
}

/// A run the worker is doing now.
#[derive(Clone, Debug, PartialEq)]
pub struct Running {
    pub id: u64,
    pub config: Rc<Config>,
    pub fraction: f64,
    pub events: u64,
    /// The buckets received so far.
    pub live: Rc<Series>,
    /// The faults and operations applied so far.
    pub operations: Rc<Operations>,
    /// When the control that started it changed (`performance.now()`), for the timings.
    pub changed_ms: Option<f64>,
    pub first_chart_ms: Option<f64>,
}

/// A finished run and the scenario it ran.
#[derive(Clone, Debug, PartialEq)]
pub struct Finished {
    pub report: Rc<Report>,
    pub run: Run,
    pub config: Rc<Config>,
}

/// One run started by a control, timed (`window.poolsim.timings()`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Timing {
    pub change_ms: f64,
    pub first_chart_ms: Option<f64>,
    pub done_ms: f64,
    pub events: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// What the controls show and the URL holds (possibly invalid).
    pub scenario: Rc<Value>,
    /// Why `scenario` cannot run, by field path.
    pub errors: Rc<Vec<Problem>>,
    pub origin: Origin,
    pub link_error: Option<String>,
    pub running: Option<Running>,
    pub finished: Option<Rc<Finished>>,
    pub baseline: Option<Rc<Finished>>,
    /// A run that stopped (event budget, overload).
    pub run_error: Option<String>,
    pub status: Option<String>,
    pub next_id: u64,
    /// Timings of control-started runs, newest last; the page copies them out.
    pub timings: Vec<Timing>,
}

impl Page {
    pub fn new(scenario: Value, origin: Origin) -> Page {
        let mut page = Page {
            scenario: Rc::new(Value::Null),
            errors: Rc::default(),
            origin,
            link_error: None,
            running: None,
            finished: None,
            baseline: None,
            run_error: None,
            status: None,
            next_id: 1,
            timings: Vec::new(),
        };
        page.set_scenario(scenario, origin, None);
        page
    }

    /// Takes `scenario` as the document; starts a run when it is valid.
    fn set_scenario(&mut self, scenario: Value, origin: Origin, changed_ms: Option<f64>) {
        self.origin = origin;
        match check(&scenario) {
            Ok(config) => {
                self.errors = Rc::default();
                self.run_error = None;
                let id = self.next_id;
                self.next_id += 1;
                self.running = Some(Running {
                    id,
                    config: Rc::new(config),
                    fraction: 0.0,
                    events: 0,
                    live: Rc::default(),
                    operations: Rc::default(),
                    changed_ms,
                    first_chart_ms: None,
                });
            }
            Err(errors) => {
                self.errors = Rc::new(errors);
                self.running = None;
            }
        }
        self.scenario = Rc::new(scenario);
    }

    /// The run the charts draw: the one streaming in, else the last finished.
    pub fn shown_run(&self) -> Option<(Run, Rc<Config>)> {
        if let Some(r) = &self.running
            && (!r.live.is_empty() || self.finished.is_none())
        {
            let run = Run {
                series: r.live.clone(),
                operations: r.operations.clone(),
                duration_s: r.config.duration_us as f64 / 1e6,
                distributions: None,
                alerts: Vec::new(),
            };
            return Some((run, r.config.clone()));
        }
        self.finished
            .as_ref()
            .map(|f| (f.run.clone(), f.config.clone()))
    }

    fn on_worker(&mut self, message: FromWorker) {
        match message {
            FromWorker::Ready | FromWorker::Reviewed { .. } => {}
            FromWorker::Crashed { message } => {
                if self.running.take().is_some() {
                    self.run_error = Some(message);
                }
            }
            FromWorker::Progress {
                id,
                fraction,
                events,
                from,
                series,
                operations,
            } => {
                let Some(r) = self.running.as_mut().filter(|r| r.id == id) else {
                    return;
                };
                r.fraction = fraction;
                r.events = events;
                if from == r.live.len() && !series.is_empty() {
                    Rc::make_mut(&mut r.live).append(&series);
                }
                if let Some(operations) = operations {
                    r.operations = Rc::new(*operations);
                }
            }
            FromWorker::Done { id, report, .. } => {
                let Some(r) = self.running.take_if(|r| r.id == id) else {
                    return;
                };
                if let Some(changed) = r.changed_ms {
                    self.timings.push(Timing {
                        change_ms: changed,
                        first_chart_ms: r.first_chart_ms,
                        done_ms: crate::now_ms(),
                        events: report.summary.events,
                    });
                }
                let run = charts::Run::finished(&report);
                self.finished = Some(Rc::new(Finished {
                    report: Rc::from(report),
                    run,
                    config: r.config,
                }));
            }
            FromWorker::Failed {
                id,
                errors,
                message,
            } => {
                if self.running.take_if(|r| r.id == id).is_none() {
                    return;
                }
                if errors.is_empty() {
                    self.run_error = Some(message);
                } else {
                    self.errors = Rc::new(errors);
                }
            }
        }
    }
}

/// How many fields of the wrong type are set aside, one reading after another, to find the
/// problems of the rest.
const MAX_TYPE_ERRORS: usize = 20;

/// Validates a scenario's JSON: the config to run, or every problem by path. A value of the
/// wrong type stops the reading of a scenario, so each such field is reported and set aside
/// and the rest read again: two bad fields both get their message, not only the first. Only
/// fields of objects are set aside (removing a list item would renumber the rest); a field
/// set aside reads as its default, so what a rule between fields says about it is dropped,
/// and a required field is replaced by a stand-in rather than removed.
pub fn check(scenario: &Value) -> Result<Config, Vec<Problem>> {
    let mut value = scenario.clone();
    let mut problems: Vec<Problem> = Vec::new();
    let mut set_aside: Vec<String> = Vec::new();
    for _ in 0..MAX_TYPE_ERRORS {
        match poolsim_scenario::from_value(value.clone()) {
            Ok(parsed) => {
                return match parsed.validate() {
                    Ok(config) if problems.is_empty() => Ok(config),
                    Ok(_) => Err(problems),
                    Err(errors) => {
                        let leaves: Vec<&str> = set_aside
                            .iter()
                            .filter_map(|p| p.rsplit(['.', ']']).next())
                            .filter(|leaf| !leaf.is_empty())
                            .collect();
                        for p in errors.into_iter().map(Problem::from) {
                            let about_set_aside = leaves.iter().any(|l| p.message.contains(l));
                            if !about_set_aside && !problems.iter().any(|q| q.path == p.path) {
                                problems.push(p);
                            }
                        }
                        Err(problems)
                    }
                };
            }
            Err(e) => {
                // `aside` only keeps a setting-aside that reads without its object now
                // lacking the field, so what is found here is the person's.
                let new: Vec<Problem> = e
                    .fields()
                    .into_iter()
                    .map(Problem::from)
                    .filter(|p| !problems.iter().any(|q| q.path == p.path))
                    .collect();
                if new.is_empty() {
                    break;
                }
                let mut more = true;
                for p in &new {
                    match aside(&value, &p.path) {
                        Some(next) => {
                            value = next;
                            set_aside.push(p.path.clone());
                        }
                        None => more = false,
                    }
                }
                problems.extend(new);
                if !more {
                    break;
                }
            }
        }
    }
    Err(problems)
}

/// `value` with the field at `path` set aside so that the rest can be read: removed when it
/// may be missing, else replaced by a stand-in of a type that reads there; `None` for a list
/// item (removing it would renumber the rest) or when nothing reads.
fn aside(value: &Value, path: &str) -> Option<Value> {
    if path.ends_with(']') {
        return None;
    }
    let reads = |v: &Value| match poolsim_scenario::from_value(v.clone()) {
        Ok(_) => true,
        Err(e) => e.fields().iter().all(|f| {
            f.path != path && !(path.starts_with(&f.path) && f.message.starts_with("needs"))
        }),
    };
    let stand_ins = [
        None,
        Some(Value::from(1)),
        Some(Value::from("1s")),
        Some(Value::from(true)),
    ];
    stand_ins.into_iter().find_map(|stand_in| {
        let mut next = value.clone();
        (path::set(&mut next, path, stand_in) && reads(&next)).then_some(next)
    })
}

impl Reducible for Page {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut page = (*self).clone();
        match action {
            Action::Edit { path, value, at_ms } => {
                let mut scenario = (*page.scenario).clone();
                if !path::set(&mut scenario, &path, value) {
                    return self;
                }
                page.link_error = None;
                page.set_scenario(scenario, Origin::User, Some(at_ms));
            }
            Action::Replace { scenario, origin } => {
                page.link_error = None;
                page.set_scenario(crate::form::normalized(&scenario), origin, None);
            }
            Action::BadLink(message) => page.link_error = Some(message),
            Action::Worker(message) => page.on_worker(message),
            Action::Pin => page.baseline = page.finished.clone(),
            Action::Unpin => page.baseline = None,
            Action::Status(status) => page.status = status,
            Action::Stop { id } => match page.running.take_if(|r| r.id == id) {
                Some(r) => {
                    let at = crate::chart::clock(r.fraction * r.config.duration_us as f64 / 1e6);
                    page.status = Some(format!("Stopped at {at} of simulated time"));
                }
                None => return self,
            },
            Action::Drawn { id, at_ms } => match page.running.as_mut() {
                Some(r) if r.id == id && r.first_chart_ms.is_none() => {
                    r.first_chart_ms = Some(at_ms)
                }
                _ => return self,
            },
        }
        Rc::new(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page() -> Page {
        Page::new(crate::presets::default_scenario(), Origin::Load)
    }

    #[test]
    fn every_bad_field_gets_its_message_at_once() {
        let mut s = crate::presets::default_scenario();
        path::set(&mut s, "app.pool.max_size", Some(json!(-3)));
        path::set(&mut s, "app.instances", Some(json!(0)));
        path::set(&mut s, "workload.transaction.queries", Some(json!("x")));
        path::set(&mut s, "database.max_connections", Some(json!(3)));
        let problems = check(&s).expect_err("four bad fields");
        let at: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.path.as_str(), p.message.as_str()))
            .collect();
        for path in [
            "app.pool.max_size",
            "workload.transaction.queries",
            "app.instances",
            "database.max_connections",
            "database.reserved_connections",
        ] {
            assert!(
                at.iter().any(|(p, _)| *p == path),
                "{path} missing from {at:?}"
            );
        }
        // Two items of one list, each with a bad value: both are named, and nothing says an
        // item "needs" the value that was set aside to read the other.
        let mut s = crate::presets::default_scenario();
        path::set(&mut s, "alerts[0].above", Some(json!("high")));
        path::set(&mut s, "alerts[1].above", Some(json!("low")));
        let problems = check(&s).expect_err("two bad thresholds");
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["alerts[0].above", "alerts[1].above"],
            "{problems:?}"
        );
        // A rule is not judged on the default a set-aside field reads as.
        let mut s = crate::presets::default_scenario();
        path::set(&mut s, "app.pool.max_size", Some(json!("30")));
        path::set(&mut s, "app.pool.min_idle", Some(json!(20)));
        let problems = check(&s).expect_err("a text pool size");
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["app.pool.max_size"], "{problems:?}");
    }

    #[test]
    fn stop_ends_only_the_run_it_names() {
        let p = Rc::new(page());
        let id = p.running.as_ref().unwrap().id;
        let same = p.clone().reduce(Action::Stop { id: id + 1 });
        assert!(Rc::ptr_eq(&same, &p), "an older run's Stop changes nothing");
        let p = p.reduce(Action::Stop { id });
        assert!(p.running.is_none());
        assert_eq!(p.status.as_deref(), Some("Stopped at 0s of simulated time"));
    }

    #[test]
    fn an_edit_starts_a_new_run_and_a_bad_value_keeps_the_last_report() {
        let p = Rc::new(page());
        let first = p.running.as_ref().unwrap().id;
        let p = p.reduce(Action::Edit {
            path: "app.pool.max_size".into(),
            value: Some(json!(5)),
            at_ms: 1.0,
        });
        let second = p.running.as_ref().unwrap().id;
        assert!(second > first);
        assert_eq!(p.origin, Origin::User);

        let config = p.running.as_ref().unwrap().config.clone();
        let report = poolsim_engine::run(&short(&config)).unwrap();
        let p = p.reduce(Action::Worker(FromWorker::Done {
            id: second,
            report: Box::new(report),
            engine_ms: 1.0,
        }));
        assert!(p.running.is_none() && p.finished.is_some());
        assert_eq!(p.timings.len(), 1);

        let p = p.reduce(Action::Edit {
            path: "app.pool.max_size".into(),
            value: Some(json!(0)),
            at_ms: 2.0,
        });
        assert!(p.running.is_none());
        assert_eq!(p.errors[0].path, "app.pool.max_size");
        assert!(p.finished.is_some(), "the last good run stays on screen");
    }

    #[test]
    fn answers_for_a_replaced_run_are_ignored() {
        let p = Rc::new(page());
        let old = p.running.as_ref().unwrap().id;
        let p = p.reduce(Action::Edit {
            path: "seed".into(),
            value: Some(json!(2)),
            at_ms: 0.0,
        });
        let stale = FromWorker::Progress {
            id: old,
            fraction: 0.5,
            events: 10,
            from: 0,
            series: Box::default(),
            operations: None,
        };
        let p2 = p.clone().reduce(Action::Worker(stale));
        assert_eq!(p2.running, p.running);
    }

    fn short(config: &Config) -> Config {
        let mut s = config.scenario.clone();
        s.duration = "20s".parse().unwrap();
        s.warmup = "0s".parse().unwrap();
        s.validate().unwrap()
    }
}

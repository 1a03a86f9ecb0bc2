//! The sizing view: sweep the pool size over a range in parallel workers, judge each size
//! against the objectives the user sets (as `poolsim advise` does, with the same code), and
//! chart the evidence with the objectives, the recommendation, the database's limit per
//! instance (surge instances of a rolling deploy included) and the theory answers marked.

use std::collections::BTreeMap;
use std::rc::Rc;

use poolsim_advisor::{Row, Slo};
use poolsim_engine::Summary;
use poolsim_scenario::Config;
use yew::prelude::*;

use crate::chart::{Chart, Line, Mark, Panel, RefLine, Span, XAxis};
use crate::client::Client;
use crate::protocol::{FromWorker, ToWorker};

/// Sizes a sweep may cover, and runs it may start, at once.
const MAX_POINTS: u32 = 200;
const MAX_WORKERS: usize = 4;

#[derive(Properties, PartialEq, Debug)]
pub struct SizingProps {
    /// The valid scenario to size (`None` while the controls hold an error).
    pub config: Option<Rc<Config>>,
}

/// What the user asked for, as typed.
#[derive(Clone, Debug, PartialEq)]
struct Ask {
    from: String,
    to: String,
    seeds: String,
    surge: String,
    wait_p99: String,
    latency_p99: String,
    failures: String,
    /// Traffic headroom: the sweep runs at this much more load than the scenario's.
    headroom: String,
    /// Try every size of the range (evidence for each), not the search.
    every: bool,
}

/// A sweep in progress or done.
#[derive(Debug, Default)]
struct Sweep {
    generation: u64,
    /// `(size, seed index)` of each run id.
    jobs: BTreeMap<u64, (u32, u32)>,
    results: BTreeMap<(u32, u32), Summary>,
    seeds: u32,
    sizes: Vec<u32>,
    /// Points whose run stopped (an overload, the event budget): `(size, seed)` → why.
    failures: BTreeMap<(u32, u32), String>,
    /// Each size judged once, when its last seed is back (or a run of it stopped).
    rows: BTreeMap<u32, Row>,
    /// What the sweep was started with: results are judged against these, not against
    /// whatever the controls hold now.
    config: Option<Rc<Config>>,
    slos: Vec<Slo>,
    surge: u32,
    /// The traffic headroom the sweep was run with (0.5: at 1.5x the scenario's requests).
    headroom: f64,
    /// Theory and arithmetic for `config`, computed once when the sweep starts (Erlang C's
    /// search and the USL peak are not free, and the view redraws on every result).
    refs: Option<(poolsim_advisor::References, u64)>,
    started_ms: f64,
    done_ms: Option<f64>,
    /// The workers died, or points could not be made.
    error: Option<String>,
    /// The search for the smallest passing size (`None`: every size of the range is tried).
    search: Option<Search>,
}

/// Bracketing, then bisection, on the pool size, for the smallest size that meets the
/// objectives: a size passes when every seed's run does, and fails as soon as one does not,
/// so a failing size usually costs one run. Sizes are assumed to get no worse as they grow
/// (a bigger pool never waits longer), which is what makes the bisection sound.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Search {
    lo: u32,
    hi: u32,
    /// The largest size seen to fail and the smallest seen to pass.
    failing: Option<u32>,
    passing: Option<u32>,
    /// The bracketing step: doubles until a size passes.
    step: u32,
    /// The size being tried; `None` once the answer is known.
    trying: Option<u32>,
    /// Sizes judged, in the order they were tried.
    tried: u32,
}

impl Search {
    fn new(lo: u32, hi: u32) -> Search {
        Search {
            lo,
            hi,
            failing: None,
            passing: None,
            step: 1,
            trying: Some(lo),
            tried: 0,
        }
    }

    /// `size` passed or failed: the next size to try, or `None` when the answer is known
    /// (the smallest passing size with the one below it failing, the range's first size
    /// passing, or no size up to the range's last passing).
    fn judged(&mut self, size: u32, passed: bool) -> Option<u32> {
        self.tried += 1;
        if passed {
            self.passing = Some(self.passing.map_or(size, |p| p.min(size)));
        } else {
            self.failing = Some(self.failing.map_or(size, |f| f.max(size)));
        }
        let next = match (self.failing, self.passing) {
            (Some(f), None) if f < self.hi => {
                let next = f.saturating_add(self.step).min(self.hi);
                self.step = self.step.saturating_mul(2);
                Some(next)
            }
            (Some(f), Some(p)) if p > f + 1 => Some(f + (p - f) / 2),
            _ => None,
        };
        self.trying = next;
        next
    }
}

impl Sweep {
    fn total(&self) -> usize {
        self.jobs.len()
    }

    fn finished(&self) -> usize {
        self.results.len() + self.failures.len()
    }

    /// A point is back: its summary, or why its run stopped. Returns the runs to start next
    /// (a search's next size), as `(id, scenario JSON)`.
    fn record(
        &mut self,
        (size, seed): (u32, u32),
        outcome: Result<Summary, String>,
    ) -> Vec<(u64, String)> {
        match outcome {
            Ok(summary) => {
                self.results.insert((size, seed), summary);
            }
            Err(why) => {
                self.failures.insert((size, seed), why);
            }
        }
        if let Some(row) = self.judge(size) {
            self.rows.insert(size, row);
        }
        let mut next = Vec::new();
        match self.search {
            Some(mut search) if search.trying == Some(size) => {
                if let Some(passed) = self.verdict(size) {
                    match search.judged(size, passed) {
                        Some(n) => next = self.start_size(n),
                        None => self.done_ms = Some(crate::now_ms()),
                    }
                    self.search = Some(search);
                }
            }
            Some(_) => {}
            None => {
                if self.finished() == self.total() && self.done_ms.is_none() {
                    self.done_ms = Some(crate::now_ms());
                }
            }
        }
        next
    }

    /// The runs of every seed of `size`, registered as jobs: `(id, scenario JSON)`.
    fn start_size(&mut self, size: u32) -> Vec<(u64, String)> {
        let Some(config) = self.config.clone() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for k in 0..self.seeds.max(1) {
            let id = self.generation * 1_000_000 + self.jobs.len() as u64;
            match poolsim_advisor::config_for_size(&config, size, k, self.surge) {
                Ok(point) => {
                    self.jobs.insert(id, (size, k));
                    out.push((
                        id,
                        serde_json::to_string(&point.scenario).unwrap_or_default(),
                    ));
                }
                Err(e) => self.error = Some(e.to_string()),
            }
        }
        out
    }

    /// Whether `size` meets the objectives, as soon as that is known: it fails when one
    /// seed's run misses them (or stopped), passes when every seed's run meets them.
    fn verdict(&self, size: u32) -> Option<bool> {
        let seeds = self.seeds.max(1);
        if (0..seeds).any(|k| self.failures.contains_key(&(size, k))) {
            return Some(false);
        }
        let back: Vec<&Summary> = (0..seeds)
            .filter_map(|k| self.results.get(&(size, k)))
            .collect();
        if back.iter().any(|run| !self.passes_alone(size, run)) {
            return Some(false);
        }
        (back.len() == seeds as usize).then_some(true)
    }

    /// One seed's run of `size` meets the objectives by itself.
    fn passes_alone(&self, size: u32, run: &Summary) -> bool {
        poolsim_advisor::evidence(size, std::slice::from_ref(run), &self.slos, true).passes
    }

    /// Judges `size` as `poolsim advise` does, once every seed is back or one run stopped.
    fn judge(&self, size: u32) -> Option<Row> {
        let (refs, _) = self.refs.as_ref()?;
        let fits = size <= refs.fleet_limit;
        let seeds = self.seeds.max(1);
        if let Some(why) = (0..seeds).find_map(|k| self.failures.get(&(size, k))) {
            // A stopped run fails its size (an overload below the offered load, say).
            return Some(Row {
                max_size: size,
                wait_p99_ms: f64::NAN,
                latency_p99_ms: f64::NAN,
                failed_ratio: f64::NAN,
                pool_utilization: f64::NAN,
                db_peak_connections: 0,
                fits_database: fits,
                passes: false,
                missed: vec![format!("the run stopped: {why}")],
            });
        }
        // Every seed's run, or those back once one has failed the size.
        let runs: Vec<Summary> = (0..seeds)
            .filter_map(|k| self.results.get(&(size, k)).cloned())
            .collect();
        if runs.len() < seeds as usize && self.verdict(size) != Some(false) {
            return None;
        }
        Some(poolsim_advisor::evidence(size, &runs, &self.slos, fits))
    }

    /// For each seed, the smallest swept size whose run with that seed alone meets the
    /// objectives (`None`: none did): how much the answer moves with chance.
    fn per_seed(&self) -> Vec<Option<u32>> {
        if self.search.is_some() {
            // A search stops a size at its first failing seed: no per-seed answer.
            return Vec::new();
        }
        (0..self.seeds.max(1))
            .map(|k| {
                self.sizes.iter().copied().find(|&size| {
                    self.results
                        .get(&(size, k))
                        .is_some_and(|run| self.passes_alone(size, run))
                })
            })
            .collect()
    }
}

/// Sends each run to a worker, spread by id.
fn send_all(workers: &[Client], runs: Vec<(u64, String)>) {
    if workers.is_empty() {
        return;
    }
    for (id, scenario) in runs {
        workers[id as usize % workers.len()].send(&ToWorker::Run {
            id,
            scenario,
            replace: false,
        });
    }
}

/// Traffic headroom as typed (`50%`, `0.5`, `0`) as a fraction, 0 to 10 (1,000%).
fn headroom(text: &str) -> Result<f64, (String, String)> {
    let value = if text.trim().is_empty() {
        Some(0.0)
    } else {
        poolsim_advisor::share(text)
    };
    value.filter(|h| (0.0..=10.0).contains(h)).ok_or_else(|| {
        (
            "sizing.headroom".to_owned(),
            "must be a share from 0% to 1000%, such as 50%".to_owned(),
        )
    })
}

/// The parsed objectives, or the field and message of the first bad one.
fn objectives(ask: &Ask) -> Result<Vec<Slo>, (String, String)> {
    [
        ("sizing.wait_p99", "wait_p99", &ask.wait_p99),
        ("sizing.latency_p99", "latency_p99", &ask.latency_p99),
        ("sizing.failures", "failures", &ask.failures),
    ]
    .into_iter()
    .filter(|(_, _, v)| !v.trim().is_empty())
    .map(|(field, name, v)| {
        format!("{name}={}", v.trim())
            .parse::<Slo>()
            .map_err(|e| (field.to_owned(), e.to_string()))
    })
    .collect()
}

fn number(field: &str, text: &str, min: u32, max: u32) -> Result<u32, (String, String)> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            (
                field.to_owned(),
                format!("must be a whole number from {min} to {max}"),
            )
        })
}

/// Everything the view shows about one sweep's evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub rows: Vec<Row>,
    pub recommended: Option<u32>,
    /// usable connections / (instances + surge): the largest pool every instance can fill.
    pub fleet_limit: u32,
    pub erlang_c: Option<u32>,
    pub rule_of_thumb: u32,
    pub usl_peak: u64,
    pub offered_per_instance: f64,
    /// Each seed's own smallest passing size.
    pub per_seed: Vec<Option<u32>>,
}

/// The finished sizes, judged against the scenario, objectives and surge the sweep was
/// started with, in size order.
fn evidence(sweep: &Sweep) -> Option<Evidence> {
    let (refs, usl_peak) = sweep.refs?;
    let rows: Vec<Row> = sweep.rows.values().cloned().collect();
    let recommended = poolsim_advisor::recommended(&rows);
    Some(Evidence {
        rows,
        recommended,
        fleet_limit: refs.fleet_limit,
        erlang_c: refs.erlang_c,
        rule_of_thumb: refs.rule_of_thumb,
        usl_peak,
        offered_per_instance: refs.offered_load_per_instance,
        per_seed: sweep.per_seed(),
    })
}

#[component]
pub fn Sizing(props: &SizingProps) -> Html {
    let ask = use_state(|| Ask {
        from: String::new(),
        to: String::new(),
        // What teams run: a p99 wait of 10 ms, at most 0.1% failures, three seeds (a size
        // passes only with all of them), and one surge instance (a rolling deploy's
        // maxSurge) inside the database.
        seeds: "3".into(),
        surge: "1".into(),
        wait_p99: "10ms".into(),
        latency_p99: String::new(),
        failures: "0.1%".into(),
        headroom: "50%".into(),
        every: false,
    });
    let problem = use_state(|| None::<(String, String)>);
    let sweep = use_mut_ref(Sweep::default);
    let workers = use_mut_ref(Vec::<Client>::new);
    let redraw = use_force_update();

    // The default range, from the offered load per instance, once per scenario.
    let defaults = use_memo(props.config.clone(), |config| {
        let Some(config) = config else { return (1, 30) };
        let offered = poolsim_engine::theory(config).offered_load_erlangs
            / f64::from(config.app.instances.max(1));
        let limit = poolsim_advisor::fleet_limit(config, 0);
        let from = (offered.floor() as u32).clamp(1, poolsim_scenario::MAX_POOL_SIZE);
        let to = from
            .saturating_add(29)
            .max(limit.min(from.saturating_add(60)))
            .min(poolsim_scenario::MAX_POOL_SIZE);
        (from, to)
    });
    let Some(config) = props.config.clone() else {
        return html! {
            <section class="sizing" data-testid="sizing" data-state="idle">
                <p class="empty">{"Fix the scenario's errors to size its pool."}</p>
            </section>
        };
    };
    let (default_from, default_to) = *defaults;

    let on_field = |set: fn(&mut Ask, String)| {
        let ask = ask.clone();
        Callback::from(move |e: Event| {
            let mut next = (*ask).clone();
            set(&mut next, crate::controls::event_value(&e));
            ask.set(next);
        })
    };

    let on_every = {
        let ask = ask.clone();
        Callback::from(move |e: Event| {
            let mut next = (*ask).clone();
            next.every = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .is_some_and(|i| i.checked());
            ask.set(next);
        })
    };
    let start = {
        let ask = ask.clone();
        let problem = problem.clone();
        let sweep = sweep.clone();
        let workers = workers.clone();
        let config = config.clone();
        let redraw = redraw.clone();
        Callback::from(move |_: MouseEvent| {
            let a = (*ask).clone();
            let parsed = (|| {
                let from = if a.from.trim().is_empty() {
                    Ok(default_from)
                } else {
                    number("sizing.from", &a.from, 1, 10_000)
                }?;
                let to = if a.to.trim().is_empty() {
                    Ok(default_to)
                } else {
                    number("sizing.to", &a.to, 1, 10_000)
                }?;
                if to < from {
                    return Err((
                        "sizing.to".to_owned(),
                        "must be at least the first size".to_owned(),
                    ));
                }
                if to - from + 1 > MAX_POINTS {
                    return Err((
                        "sizing.to".to_owned(),
                        format!("at most {MAX_POINTS} sizes at once"),
                    ));
                }
                let headroom = headroom(&a.headroom)?;
                let seeds = number("sizing.seeds", &a.seeds, 1, 10)?;
                let surge = number("sizing.surge", &a.surge, 0, 1000)?;
                let slos = objectives(&a)?;
                if slos.is_empty() {
                    return Err((
                        "sizing.wait_p99".to_owned(),
                        "set at least one objective".to_owned(),
                    ));
                }
                // The sweep runs at the traffic it must leave room for.
                let peak = poolsim_advisor::with_traffic(&config, 1.0 + headroom)
                    .map_err(|e| ("sizing.headroom".to_owned(), e.to_string()))?;
                Ok((from, to, seeds, surge, headroom, Rc::new(peak)))
            })();
            let (from, to, seeds, surge, headroom, config) = match parsed {
                Ok(v) => v,
                Err(p) => {
                    problem.set(Some(p));
                    return;
                }
            };
            problem.set(None);
            // A new sweep: fresh workers (terminating the old ones cancels their runs).
            let count = crate::hardware_concurrency().clamp(1, MAX_WORKERS);
            let generation = sweep.borrow().generation + 1;
            let mut pool = Vec::with_capacity(count);
            for _ in 0..count {
                let sweep = sweep.clone();
                let redraw = redraw.clone();
                let workers = workers.clone();
                let client = Client::spawn(move |message| {
                    let mut s = sweep.borrow_mut();
                    let next = match message {
                        FromWorker::Done { id, report, .. } => {
                            let Some(&key) = s.jobs.get(&id) else { return };
                            s.record(key, Ok(report.summary))
                        }
                        FromWorker::Failed { id, message, .. } => {
                            let Some(&key) = s.jobs.get(&id) else { return };
                            s.record(key, Err(message))
                        }
                        FromWorker::Crashed { message } => {
                            s.error = Some(message);
                            Vec::new()
                        }
                        _ => return,
                    };
                    drop(s);
                    send_all(&workers.borrow(), next);
                    redraw.force_update();
                });
                match client {
                    Ok(c) => pool.push(c),
                    Err(e) => {
                        problem.set(Some(("sizing".into(), e)));
                        return;
                    }
                }
            }
            let sizes: Vec<u32> = (from..=to).collect();
            let slos = objectives(&a).unwrap_or_default();
            let refs = (
                poolsim_advisor::references(&config, &slos, surge),
                poolsim_engine::theory(&config).usl_peak_concurrency,
            );
            *sweep.borrow_mut() = Sweep {
                generation,
                jobs: BTreeMap::new(),
                results: BTreeMap::new(),
                failures: BTreeMap::new(),
                rows: BTreeMap::new(),
                config: Some(config.clone()),
                slos,
                surge,
                headroom,
                refs: Some(refs),
                seeds,
                sizes,
                started_ms: crate::now_ms(),
                done_ms: None,
                error: None,
                search: (!a.every).then(|| Search::new(from, to)),
            };
            let first = {
                let mut s = sweep.borrow_mut();
                if a.every {
                    (from..=to).flat_map(|size| s.start_size(size)).collect()
                } else {
                    s.start_size(from)
                }
            };
            send_all(&pool, first);
            *workers.borrow_mut() = pool;
            redraw.force_update();
        })
    };

    let s = sweep.borrow();
    let ev = evidence(&s);
    let state = if s.jobs.is_empty() {
        "idle"
    } else if s.error.is_some() {
        "error"
    } else if s.done_ms.is_some() {
        "done"
    } else {
        "running"
    };
    let field_error = |name: &str| {
        problem
            .as_ref()
            .filter(|(f, _)| f == name)
            .map(|(_, m)| html! { <small class="error" data-error-for={name.to_owned()} role="alert">{m.clone()}</small> })
            .unwrap_or_default()
    };
    let input = |name: &'static str,
                 label: &'static str,
                 value: &str,
                 placeholder: String,
                 help: &'static str,
                 set: fn(&mut Ask, String)| {
        html! {
            <div class="field">
                <label for={format!("f-{name}")}>{label}</label>
                <input id={format!("f-{name}")} name={name} type="text" value={value.to_owned()}
                       placeholder={placeholder} onchange={on_field(set)}
                       aria-invalid={problem.as_ref().filter(|(f, _)| f == name).map(|_| "true")} />
                <small class="help">{help}</small>
                { field_error(name) }
            </div>
        }
    };
    let swept = s.config.clone().unwrap_or_else(|| config.clone());
    let (usable, instances) = (swept.db.usable_connections(), swept.app.instances);
    html! {
        <section class="sizing" data-testid="sizing" data-state={state} aria-label="Pool sizing">
            <div class="sizing-form">
                { input("sizing.from", "From size", &ask.from, default_from.to_string(),
                        "First app.pool.max_size to try (default: the offered load per instance).", |a, v| a.from = v) }
                { input("sizing.to", "To size", &ask.to, default_to.to_string(), "Last size to try.", |a, v| a.to = v) }
                { input("sizing.seeds", "Seeds", &ask.seeds, "3".into(),
                        "Runs per size; a size passes only if every run does.", |a, v| a.seeds = v) }
                { input("sizing.surge", "Surge instances", &ask.surge, "1".into(),
                        "Extra instances during a rolling deploy (maxSurge): they need connections too.", |a, v| a.surge = v) }
                { input("sizing.wait_p99", "p99 pool wait at most", &ask.wait_p99, "e.g. 10ms".into(),
                        "Objective on hikaricp_connections_acquire p99.", |a, v| a.wait_p99 = v) }
                { input("sizing.latency_p99", "p99 latency at most", &ask.latency_p99, "optional, e.g. 200ms".into(),
                        "Objective on end-to-end latency.", |a, v| a.latency_p99 = v) }
                { input("sizing.failures", "Failures at most", &ask.failures, "e.g. 0.1%".into(),
                        "Objective on failed requests.", |a, v| a.failures = v) }
                { input("sizing.headroom", "Traffic headroom", &ask.headroom, "e.g. 50%".into(),
                        "Sizes are tried at this much more traffic than the scenario's, so the answer survives a peak.", |a, v| a.headroom = v) }
                <label class="check">
                    <input type="checkbox" name="sizing.every" checked={ask.every} onchange={on_every} />
                    {" try every size of the range (slower: evidence for each size)"}
                </label>
                <button type="button" data-action="sweep" onclick={start}>{"Find the size"}</button>
                { field_error("sizing") }
            </div>
            { progress(&s) }
            if let Some(e) = &s.error { <p class="error" role="alert">{format!("A run stopped: {e}")}</p> }
            if let Some(ev) = ev.as_ref().filter(|ev| !ev.rows.is_empty()) {
                { recommendation(ev, &s, instances, usable) }
                { chart(ev, &s.slos, usable, u64::from(instances) + u64::from(s.surge)) }
                { table(ev) }
            }
        </section>
    }
}

fn progress(s: &Sweep) -> Html {
    if s.jobs.is_empty() {
        return Html::default();
    }
    let done = s.finished();
    let total = s.total();
    let elapsed = s.done_ms.unwrap_or_else(crate::now_ms) - s.started_ms;
    html! {
        <div class="progress" role="status" data-testid="sizing-progress">
            <progress value={done.to_string()} max={total.to_string()} aria-label="Sweep progress" />
            <span data-elapsed-ms={format!("{elapsed:.0}")}>
                { if s.done_ms.is_some() {
                    // A search may end with runs of a failed size still going: they are not
                    // counted.
                    format!("{done} runs in {:.1} s", elapsed / 1e3)
                } else {
                    format!("{done} of {total} runs…")
                } }
            </span>
        </div>
    }
}

fn recommendation(ev: &Evidence, s: &Sweep, instances: u32, usable: u32) -> Html {
    if s.done_ms.is_none() {
        return Html::default();
    }
    let surge = s.surge;
    let simulated = match ev.recommended {
        Some(size) if s.headroom > 0.0 => format!(
            "Recommended: app.pool.max_size = {size} (meets the objectives at {:.0}% more traffic than the scenario's)",
            s.headroom * 100.0
        ),
        Some(size) => format!("Recommended: app.pool.max_size = {size}"),
        None => match ev.rows.iter().find(|r| r.passes) {
            Some(r) => format!(
                "No size fits: {} per instance meets the objectives, but {} instances (with {surge} surge) × {} exceed the database's {usable} usable connections (at most {} each)",
                r.max_size,
                instances + surge,
                r.max_size,
                ev.fleet_limit
            ),
            None => "No size in this range meets the objectives: widen the range or relax them"
                .to_owned(),
        },
    };
    // The recommendation is the worst over the seeds; each seed alone may need less.
    let found: Vec<u32> = ev.per_seed.iter().flatten().copied().collect();
    let spread = match (found.iter().min(), found.iter().max()) {
        (Some(lo), Some(hi)) if ev.per_seed.len() > 1 && found.len() == ev.per_seed.len() => {
            Some((*lo, *hi))
        }
        _ => None,
    };
    // How a search got its answer: the sizes it judged, and the one just below failing.
    let searched = s.search.filter(|_| s.done_ms.is_some()).map(|search| {
        let below = ev
            .recommended
            .and_then(|r| ev.rows.iter().find(|row| row.max_size + 1 == r))
            .map(|row| format!(" and {} misses them", row.max_size))
            .unwrap_or_default();
        match ev.recommended {
            Some(r) => format!(
                "Searched {} sizes, bracketing then bisecting: {r} meets the objectives with all {} seeds{below}.",
                search.tried, s.seeds
            ),
            None => format!("Searched {} sizes, bracketing then bisecting.", search.tried),
        }
    });
    let seeds = ev.per_seed.len();
    let interval = spread.map(|(lo, hi)| {
        let holds = match ev.recommended {
            Some(r) if r == hi => format!(" {r}, the recommendation, meets them with every seed."),
            _ => String::new(),
        };
        if lo == hi {
            format!("Each of the {seeds} seeds alone needs {lo}: the answer does not move with chance.{holds}")
        } else {
            format!(
                "{lo}–{hi} over {seeds} seeds: the smallest size each seed's run alone meets the objectives at.{holds}"
            )
        }
    });
    // What the recommended size leaves to spare: busy share of the pools, and the database.
    let headroom = ev
        .recommended
        .and_then(|r| ev.rows.iter().find(|row| row.max_size == r))
        .map(|row| {
            let asked = u64::from(instances + surge) * u64::from(row.max_size);
            let spare = u64::from(usable).saturating_sub(asked);
            format!(
                "Headroom: at {} the pools are at most {:.0}% busy; {} instances (with {surge} surge) × {} = {asked} of {usable} usable connections, {spare} ({:.0}%) to spare.",
                row.max_size,
                row.pool_utilization * 100.0,
                instances + surge,
                row.max_size,
                spare as f64 / f64::from(usable.max(1)) * 100.0
            )
        });
    let erlang = ev.erlang_c.map_or_else(
        || "Erlang C has no answer here (no wait objective, or no stable size)".to_owned(),
        |c| format!("Erlang C says {c}"),
    );
    // Compared only when Erlang C's size was in the swept range.
    let first = s.sizes.first().copied().unwrap_or(1);
    let why = match (ev.recommended, ev.erlang_c.filter(|c| *c >= first)) {
        (Some(sim), Some(c)) if sim < c => {
            "The simulation needs fewer than Erlang C: round robin spaces each instance's arrivals more evenly than Poisson, and real holds vary less than exponential ones."
        }
        (Some(sim), Some(c)) if sim > c => {
            "The simulation needs more than Erlang C: holds vary more than exponential ones (heavy tails, think time, connect time), or objectives beyond pool wait bind."
        }
        (Some(_), Some(_)) => {
            "The simulation and Erlang C agree: arrivals and holds are close to M/M/c here."
        }
        _ => "",
    };
    html! {
        <div class="recommendation" data-testid="recommendation" data-recommended={ev.recommended.map(|r| r.to_string())}
             data-seed-low={spread.map(|(lo, _)| lo.to_string())} data-seed-high={spread.map(|(_, hi)| hi.to_string())}>
            <p class="answer">{simulated}</p>
            <ul>
                if let Some(text) = interval { <li data-testid="seed-interval">{text}</li> }
                if let Some(text) = searched { <li data-testid="searched">{text}</li> }
                if let Some(text) = headroom { <li data-testid="headroom">{text}</li> }
                <li>{erlang}{" (one instance's Poisson share, exponential holds, no timeout)."}</li>
                <li>{format!("HikariCP's rule of thumb, connections = cores × 2 + spindles, gives {} per instance for the fleet.", ev.rule_of_thumb)}</li>
                <li>{format!("The database allows at most {} per instance: {usable} usable connections over {instances} instances plus {surge} surge.", ev.fleet_limit)}</li>
                <li>{format!("Offered load {:.2} erlangs per instance (Little's law): fewer connections cannot keep up. The database's throughput peaks at {} concurrent queries (USL); pools that let more run at once make it slower.", ev.offered_per_instance, ev.usl_peak)}</li>
                if !why.is_empty() { <li>{why}</li> }
            </ul>
        </div>
    }
}

fn chart(ev: &Evidence, slos: &[Slo], usable: u32, fleet: u64) -> Html {
    let xs: Rc<[f64]> = ev.rows.iter().map(|r| f64::from(r.max_size)).collect();
    let col = |f: fn(&Row) -> f64| -> Rc<[f64]> { ev.rows.iter().map(f).collect() };
    let line = |label: &str, key: &'static str, color: &'static str, ys: Rc<[f64]>| Line {
        label: label.to_owned(),
        key,
        color,
        xs: xs.clone(),
        ys,
        baseline: false,
        limit: false,
    };
    let limit = |metric: poolsim_advisor::SloMetric| -> Vec<RefLine> {
        slos.iter()
            .filter(|s| s.metric == metric)
            .map(|s| RefLine {
                label: format!("objective {}", s.show(s.limit)),
                y: if metric == poolsim_advisor::SloMetric::Failures {
                    s.limit * 100.0
                } else {
                    s.limit
                },
            })
            .collect()
    };
    use poolsim_advisor::SloMetric as M;
    let panels = Rc::new(vec![
        Panel {
            unit: "wait p99 ms",
            lines: vec![line(
                "p99 pool wait",
                "wait_p99",
                "#e08a00",
                col(|r| r.wait_p99_ms),
            )],
            refs: limit(M::WaitP99),
            log: true,
        },
        Panel {
            unit: "latency p99 ms",
            lines: vec![line(
                "p99 latency",
                "latency_p99",
                "#2f6fdf",
                col(|r| r.latency_p99_ms),
            )],
            refs: limit(M::LatencyP99),
            log: true,
        },
        Panel {
            unit: "failed %",
            lines: vec![line(
                "failed requests",
                "failed",
                "#d64545",
                col(|r| r.failed_ratio * 100.0),
            )],
            refs: limit(M::Failures),
            log: false,
        },
        Panel {
            unit: "connections",
            lines: vec![
                line(
                    "database peak connections",
                    "db_peak",
                    "#8b5cf6",
                    col(|r| r.db_peak_connections as f64),
                ),
                line(
                    "fleet pools (size × (instances + surge))",
                    "fleet_total",
                    "#7b8794",
                    ev.rows
                        .iter()
                        .map(|r| f64::from(r.max_size) * fleet as f64)
                        .collect(),
                ),
            ],
            refs: vec![RefLine {
                label: format!("usable {usable}"),
                y: f64::from(usable),
            }],
            log: false,
        },
    ]);
    let mut spans = vec![];
    if let Some(r) = ev.recommended {
        spans.push(Span {
            from: f64::from(r),
            to: f64::from(r),
            label: format!("recommended {r}"),
            kind: Mark::Alert,
        });
    }
    spans.push(Span {
        from: f64::from(ev.fleet_limit),
        to: f64::from(ev.fleet_limit),
        label: format!("database limit {}", ev.fleet_limit),
        kind: Mark::Fault,
    });
    if let Some(c) = ev.erlang_c {
        spans.push(Span {
            from: f64::from(c),
            to: f64::from(c),
            label: format!("Erlang C {c}"),
            kind: Mark::Fault,
        });
    }
    let lo = xs.first().copied().unwrap_or(1.0);
    let hi = xs.last().copied().unwrap_or(lo + 1.0).max(lo + 1.0);
    html! {
        <figure class="chart-figure" data-chart="sizing">
            <figcaption><span class="title">{"Evidence by pool size (worst of the seeds)"}</span></figcaption>
            <Chart title="Evidence by pool size" {panels} x={XAxis::Linear { min: lo, max: hi, unit: "max_size" }} spans={Rc::new(spans)} />
        </figure>
    }
}

fn table(ev: &Evidence) -> Html {
    html! {
        <table class="evidence" data-testid="evidence">
            <thead><tr>
                <th scope="col">{"max_size"}</th><th scope="col">{"wait p99 ms"}</th><th scope="col">{"latency p99 ms"}</th>
                <th scope="col">{"failed"}</th><th scope="col">{"pool util"}</th><th scope="col">{"db peak"}</th><th scope="col">{"verdict"}</th>
            </tr></thead>
            <tbody>
                { for ev.rows.iter().map(|r| html! {
                    <tr class={classes!(r.passes.then_some("passes"), (Some(r.max_size) == ev.recommended).then_some("recommended"))}>
                        <td>{r.max_size}</td>
                        <td>{shown(r.wait_p99_ms, crate::chart::number)}</td>
                        <td>{shown(r.latency_p99_ms, crate::chart::number)}</td>
                        <td>{shown(r.failed_ratio, |x| format!("{:.2}%", x * 100.0))}</td>
                        <td>{shown(r.pool_utilization, |x| format!("{:.0}%", x * 100.0))}</td>
                        <td>{r.db_peak_connections}</td>
                        <td>{ if !r.fits_database { "does not fit the database".to_owned() }
                              else if r.passes { "meets".to_owned() }
                              else { format!("misses: {}", r.missed.join("; ")) } }</td>
                    </tr>
                }) }
            </tbody>
        </table>
    }
}

/// A measured number, or a dash for a run that stopped.
fn shown(v: f64, format: impl Fn(f64) -> String) -> String {
    if v.is_finite() {
        format(v)
    } else {
        "–".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search against a threshold (sizes from `t` pass): the answer and how many sizes
    /// it judged.
    fn search(lo: u32, hi: u32, t: u32) -> (Option<u32>, u32) {
        let mut s = Search::new(lo, hi);
        let mut size = lo;
        while let Some(next) = s.judged(size, size >= t) {
            assert!((lo..=hi).contains(&next), "{next} outside {lo}..={hi}");
            size = next;
        }
        (s.passing, s.tried)
    }

    #[test]
    fn the_search_finds_the_smallest_passing_size_in_few_tries() {
        for t in 1..=60 {
            let (found, tried) = search(1, 60, t);
            assert_eq!(found, Some(t), "threshold {t}");
            // Bracketing doubles, bisection halves: about 2 log2(t) sizes, not t.
            let bound = 2 * (32 - t.leading_zeros()) + 1;
            assert!(
                tried <= bound,
                "threshold {t}: {tried} sizes tried, more than {bound}"
            );
        }
        // The first size passes: one try. None passes: the search stops at the last size.
        assert_eq!(search(5, 40, 2), (Some(5), 1));
        let (none, _) = search(1, 40, 41);
        assert_eq!(none, None);
    }
}

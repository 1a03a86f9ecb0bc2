//! The fuzz harness. Each case is one input for one reader of untrusted text, generated from
//! the case's number (so `--seed S --case N` replays it), and checked for:
//! - no panic, and no case slower than [`CASE_LIMIT`];
//! - errors in plain words: never serde's wording, naming a field path that parses, a line
//!   inside the file;
//! - accepted scenarios: a bounded run whose invariants hold ([`invariants::check`]), the same
//!   digest twice, and the same configuration when the keys are written in another order;
//! - config files: the pool size written in any form the format allows reads as written
//!   (a silent mis-read is the worst failure `check` can have).
//!
//! The targets are the readers the CLI and the page expose: scenario JSON (text and value),
//! the page's link (`#s=...`, `?embed=...`, run natively), sweep `--set` specs, `--slo`
//! objectives, and Java properties, Spring YAML and postgresql.conf.

pub mod input;
pub mod invariants;
mod targets;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use targets::{Fate, Target};

/// A case slower than this is a failure (the slowest accepted case takes milliseconds: runs
/// are cut at [`targets::RUN_EVENTS`] events).
pub const CASE_LIMIT: Duration = Duration::from_secs(10);

/// One case that failed: enough to replay and read it.
#[derive(Clone, Debug)]
pub struct Finding {
    pub case: u64,
    pub target: Target,
    pub input: String,
    pub problem: String,
}

/// What a fuzz run did.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub cases: u64,
    /// Cases per target, in [`Target::ALL`] order.
    pub per_target: [u64; Target::COUNT],
    /// Scenario cases refused, stopped at a bound and run to their end.
    pub refused: u64,
    pub stopped: u64,
    pub runs: u64,
    pub findings: Vec<Finding>,
    pub elapsed: Duration,
}

/// Runs case `case` of the run seeded `seed`: `Err` holds the finding.
pub fn case(seed: u64, case: u64) -> (Target, Result<(), Finding>, Fate) {
    let mut g = input::Gen::new(seed, case);
    let target = *g.pick(&Target::DRAWN);
    let mut input = String::new();
    #[expect(
        clippy::disallowed_methods,
        reason = "the harness bounds each case's wall time; the no-clock rule is the simulation's"
    )]
    let start = Instant::now();
    let result = panic::catch_unwind(AssertUnwindSafe(|| target.run(&mut g, &mut input)));
    let took = start.elapsed();
    let (problem, fate) = match result {
        Ok(Ok(fate)) if took <= CASE_LIMIT => (None, fate),
        Ok(Ok(fate)) => (Some(format!("took {:.1} s", took.as_secs_f64())), fate),
        Ok(Err(problem)) => (Some(problem), Fate::Read),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            (Some(format!("panicked: {message}")), Fate::Read)
        }
    };
    let result = match problem {
        None => Ok(()),
        Some(problem) => Err(Finding {
            case,
            target,
            input,
            problem,
        }),
    };
    (target, result, fate)
}

/// Runs cases `0..cases` on `threads` threads; `progress` is called with the cases done
/// about every thousand. Once `stop` is set (Ctrl-C) no new case starts: the outcome covers
/// the cases run so far.
pub fn run(
    seed: u64,
    cases: u64,
    threads: usize,
    stop: &AtomicBool,
    progress: &(dyn Fn(u64) + Sync),
) -> Outcome {
    #[expect(
        clippy::disallowed_methods,
        reason = "the harness bounds each case's wall time; the no-clock rule is the simulation's"
    )]
    let start = Instant::now();
    let next = AtomicU64::new(0);
    // A panic is a finding, not noise on stderr: the payload keeps its message.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let parts: Vec<Outcome> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Outcome::default();
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            return out;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= cases {
                            return out;
                        }
                        let (target, result, fate) = case(seed, i);
                        out.cases += 1;
                        out.per_target[target as usize] += 1;
                        match fate {
                            Fate::Read => {}
                            Fate::Refused => out.refused += 1,
                            Fate::Stopped => out.stopped += 1,
                            Fate::Ran => out.runs += 1,
                        }
                        if let Err(finding) = result {
                            out.findings.push(finding);
                        }
                        if i % 1_000 == 999 {
                            progress(i + 1);
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker catches its cases' panics"))
            .collect()
    });
    panic::set_hook(hook);
    let mut total = Outcome::default();
    for part in parts {
        total.cases += part.cases;
        total.refused += part.refused;
        total.stopped += part.stopped;
        total.runs += part.runs;
        for (t, n) in total.per_target.iter_mut().zip(part.per_target) {
            *t += n;
        }
        total.findings.extend(part.findings);
    }
    total.findings.sort_by_key(|f| f.case);
    total.elapsed = start.elapsed();
    total
}

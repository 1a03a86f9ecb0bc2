//! Running many configurations on all cores (native only: a web page runs its own workers).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use poolsim_engine::{RunError, Summary};
use poolsim_scenario::Config;

/// Runs every configuration on all cores; summaries in the same order, or the first failure
/// (in order) with its index. `on_done(n)` is called from the workers after each run, with
/// the number done so far.
pub fn run_all(
    configs: &[Config],
    on_done: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Summary>, (usize, RunError)> {
    let total = configs.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(total.max(1));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut results: Vec<Option<Result<Summary, RunError>>> = vec![None; total];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut finished = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(config) = configs.get(index) else {
                            break;
                        };
                        // Only the summary is kept: thousands of time series would not fit
                        // in memory.
                        let result = poolsim_engine::run(config).map(|r| r.summary);
                        if result.is_err() {
                            stop.store(true, Ordering::Relaxed);
                        }
                        finished.push((index, result));
                        on_done(done.fetch_add(1, Ordering::Relaxed) + 1);
                    }
                    finished
                })
            })
            .collect();
        for worker in workers {
            let finished = worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (index, result) in finished {
                results[index] = Some(result);
            }
        }
    });
    // Items are claimed in order and a claimed item always finishes, so an item that did not
    // run comes after one that failed, and this stops at that failure.
    results
        .into_iter()
        .enumerate()
        .map(|(index, result)| match result {
            Some(Ok(summary)) => Ok(summary),
            Some(Err(e)) => Err((index, e)),
            None => unreachable!("item {index} was skipped although none before it failed"),
        })
        .collect()
}

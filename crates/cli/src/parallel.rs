//! Running many scenarios on all cores, with a `done / total` progress line on a terminal.

use poolsim_engine::{RunError, Summary};
use poolsim_scenario::Config;

use crate::progress;

/// [`poolsim_advisor::parallel::run_all`], drawing progress when stderr is a terminal.
/// `what` names the items in the progress line ("points", "runs").
pub fn run_all(configs: &[Config], what: &str) -> Result<Vec<Summary>, (usize, RunError)> {
    let total = configs.len();
    let show = progress::enabled();
    if show {
        progress::draw(&format!("0 / {total} {what} done"));
    }
    let result = poolsim_advisor::parallel::run_all(configs, &|n| {
        if show {
            progress::draw(&format!("{n} / {total} {what} done"));
        }
    });
    if show {
        progress::clear();
    }
    result
}

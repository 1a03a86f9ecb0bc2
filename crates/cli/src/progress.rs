//! A one-line progress display on stderr, only when stderr is a terminal.
//!
//! A run advances in slices of events; a run that is not done after its first slice is
//! "long" and gets a progress line, redrawn after every slice and cleared at the end. No
//! clock is read: the slice size alone decides when to redraw.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use poolsim_engine::{Report, RunError, Simulation};
use poolsim_scenario::{Config, Duration};

use poolsim_explain::format;

/// Events per slice: a few tenths of a second of work natively.
const SLICE_EVENTS: u64 = 2_000_000;

/// Whether progress lines should be drawn (stderr is a terminal, not a file or a pipe).
pub fn enabled() -> bool {
    std::io::stderr().is_terminal()
}

/// Runs `config` to the end, drawing progress on stderr if `show` and the run is long.
pub fn run(config: &Config, show: bool) -> Result<Report, RunError> {
    if !show {
        return poolsim_engine::run(config);
    }
    let total = Duration::from_us(config.duration_us);
    let mut sim = Simulation::new(config);
    let mut drawn = false;
    let outcome = loop {
        match sim.advance(SLICE_EVENTS) {
            Ok(p) if p.done => break Ok(()),
            Ok(p) => {
                draw(&format!(
                    "simulated {} of {total} ({:.0}%), {:.1} M events",
                    format::secs(p.sim_time_s),
                    p.fraction * 100.0,
                    p.events as f64 / 1e6
                ));
                drawn = true;
            }
            Err(e) => break Err(e),
        }
    };
    if drawn {
        clear();
    }
    outcome.map(|()| sim.into_report())
}

/// Replaces the progress line with `line`.
pub fn draw(line: &str) {
    let mut err = std::io::stderr().lock();
    // Progress is best effort: a failed write to the terminal must not fail the run.
    let _ = write!(err, "\r\x1b[2K{line}");
    let _ = err.flush();
}

/// Set once the results start going to stdout: a Ctrl-C after that cuts them short.
static WRITING: AtomicBool = AtomicBool::new(false);

/// The results are complete and about to be written.
pub fn writing() {
    WRITING.store(true, Ordering::SeqCst);
}

/// Ctrl-C arrived: erases the progress line (on a terminal) and says what was stopped.
pub fn interrupted() {
    if enabled() {
        clear();
    }
    if WRITING.load(Ordering::SeqCst) {
        eprintln!("stopped by Ctrl-C while the results were being written; they are incomplete");
    } else {
        eprintln!("stopped by Ctrl-C before the results were complete; nothing was written");
    }
}

/// Erases the progress line.
pub fn clear() {
    draw("");
}

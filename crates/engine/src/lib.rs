//! The poolsim engine: a deterministic discrete-event simulation of clients, app instances
//! with HikariCP-style pools, and a database.
//!
//! ```
//! let config = poolsim_scenario::load(r#"{"duration": "10s"}"#).unwrap();
//! let report = poolsim_engine::run(&config).unwrap();
//! let r = &report.summary.requests;
//! assert_eq!(r.arrived, r.succeeded + r.failed + r.in_flight);
//! ```
//!
//! Run in slices with [`Simulation::advance`] to show progress or stay responsive (the web
//! worker does); [`run`] does it all at once.
//!
//! **Invariants:** no I/O, no clock, no thread RNG, no hash-map iteration. Time is
//! [`SimTime`], integer microseconds. The same `Config` gives the same `Report`, bit for bit,
//! on every platform.

mod cause;
pub mod csv;
mod db;
mod dist;
mod metrics;
mod queue;
mod report;
mod rng;
mod sim;
mod theory;
mod time;

pub use report::*;
pub use sim::{Progress, RunError, Simulation};
pub use theory::theory;
pub use time::SimTime;

use poolsim_scenario::Config;

/// Runs a scenario to the end.
pub fn run(config: &Config) -> Result<Report, RunError> {
    let mut sim = Simulation::new(config);
    loop {
        if sim.advance(u64::MAX)?.done {
            return Ok(sim.into_report());
        }
    }
}

//! Measurement: time-weighted gauges, histograms, the per-bucket series and alert rules.

mod alerts;
mod gauge;
mod histogram;

pub use alerts::AlertTracker;
pub use gauge::{Gauge, Level};
pub use histogram::Histogram;

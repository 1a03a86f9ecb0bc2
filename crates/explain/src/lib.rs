//! What a run means, said the same way everywhere: the verdict (healthy, saturated,
//! exhausted, and why), queueing theory beside the measurement, and numbers as people read
//! them. The CLI prints these and the page shows them; neither words them on its own.
//!
//! **Architecture invariant:** presentation only: it reads a `Report` (and the scenario
//! that made it) and returns text; it computes nothing the engine has not already measured.

pub mod format;
pub mod theory;
pub mod verdict;

pub use theory::{TheoryRow, theory_rows};
pub use verdict::{Level, Verdict, verdict};

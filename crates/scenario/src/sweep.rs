//! What a sweep varies: dotted paths into a scenario's JSON and the values given for them
//! (`--set app.pool.max_size=5..80:5`). Here, not in the command line, so the fuzz harness
//! and any other front end read them the same way.

pub mod path;
pub mod spec;

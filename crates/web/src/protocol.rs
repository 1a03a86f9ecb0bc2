//! Messages between the page and its simulation worker, sent as JSON text.
//!
//! The page sends [`ToWorker::Run`]; the worker answers with [`FromWorker::Progress`] after
//! each slice (the buckets closed since the last one) and one [`FromWorker::Done`] or
//! [`FromWorker::Failed`]. A run with `replace` set cancels every run queued or running
//! before it (the page's controls); others queue behind each other (`window.poolsim.run`).

use poolsim_advisor::review::Review;
use poolsim_engine::{Operations, Report, Series};
use poolsim_scenario::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    Run {
        id: u64,
        /// The scenario's JSON text.
        scenario: String,
        replace: bool,
    },
    /// `poolsim check` in the page: real config files reviewed on a scenario's traffic.
    Review {
        id: u64,
        scenario: String,
        /// `(file name, text)`: the name picks the format (`.yml`, `.conf`, else properties).
        files: Vec<(String, String)>,
        /// Objectives as `poolsim check --slo` takes them (`failures=0.1%`).
        slos: Vec<String>,
    },
    /// Stop run `id` (the person pressed Stop); nothing more is sent for it.
    Stop { id: u64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker has loaded and listens (messages sent before this are lost).
    Ready,
    Progress {
        id: u64,
        /// Share of the simulated duration done, 0 to 1.
        fraction: f64,
        events: u64,
        /// Index of the first bucket in `series`.
        from: usize,
        series: Box<Series>,
        /// The faults and operations applied so far, when they changed since the last
        /// message.
        operations: Option<Box<Operations>>,
    },
    Done {
        id: u64,
        report: Box<Report>,
        /// Wall time the worker spent inside the engine (messaging excluded), ms.
        engine_ms: f64,
    },
    Reviewed {
        id: u64,
        /// The review, or why there is none (a file's error with its line, a bad objective).
        result: Result<Box<Review>, String>,
    },
    /// The worker itself died (made by the page's side from the worker's `error` event):
    /// every run it held is lost.
    Crashed { message: String },
    Failed {
        id: u64,
        /// A bad scenario: every problem by field path.
        errors: Vec<Problem>,
        /// A run that stopped (an event budget, an overload): why.
        message: String,
    },
}

/// A [`FieldError`] that crosses the worker boundary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl From<FieldError> for Problem {
    fn from(e: FieldError) -> Problem {
        Problem {
            path: e.path,
            message: e.message,
        }
    }
}

/// A message posted by the other side (JSON text), or `None` if it is not one.
pub fn read<T: serde::de::DeserializeOwned>(event: &web_sys::MessageEvent) -> Option<T> {
    serde_json::from_str(&event.data().as_string()?).ok()
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            // Reports are plain numbers and strings; fail loudly in the message, not a panic.
            format!(r#"{{"Failed":{{"id":0,"errors":[],"message":"cannot encode: {e}"}}}}"#)
        })
    }
}

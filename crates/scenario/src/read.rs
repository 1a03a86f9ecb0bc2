//! Text or a JSON value to a [`Scenario`], with errors at the innermost field, in plain words.
//!
//! Three passes, each for a reason:
//! 1. the shape ([`crate::shape`]): lists only where the format has them, so serde never
//!    reads a struct from an array by position;
//! 2. the typed read, with serde_path_to_error naming the field;
//! 3. on an error inside a `kind`-tagged object (an arrival process, a distribution, a
//!    fault), the field to blame. serde reads such an object whole before it knows its
//!    variant, so the path stops at the object (`faults[2]`). [`innermost`] finds the field
//!    whose removal changes the error (`faults[2].pool.max_size`), by deserializing small
//!    copies; it runs only on an error and tries a bounded number of copies.

use serde::Deserialize;
use serde_json::Value;
use serde_path_to_error::Segment;

use crate::sweep::path::{Step, display, remove_at, value_at};
use crate::{Scenario, ScenarioError, shape, words};

/// The largest scenario text or value read, in bytes of JSON: the largest real scenario
/// (an empirical distribution of 100,000 values) is about 1 MiB.
pub const MAX_SCENARIO_BYTES: usize = 8 * 1024 * 1024;

pub fn parse(json: &str) -> Result<Scenario, ScenarioError> {
    if json.len() > MAX_SCENARIO_BYTES {
        return Err(too_long(json.len()));
    }
    read_text::<shape::Root>(json).map_err(Failure::plain)?;
    read_text::<Scenario>(json).map_err(|e| {
        match serde_json::from_str::<Value>(json) {
            Ok(value) => e.narrowed(&value),
            Err(_) => e,
        }
        .plain()
    })
}

pub fn from_value(value: &Value) -> Result<Scenario, ScenarioError> {
    read_value::<shape::Root>(value).map_err(Failure::plain)?;
    read_value::<Scenario>(value).map_err(|e| e.narrowed(value).plain())
}

fn too_long(bytes: usize) -> ScenarioError {
    ScenarioError::Parse {
        path: String::new(),
        message: format!(
            "the scenario is {:.1} MiB; the largest one read is {} MiB",
            bytes as f64 / (1024.0 * 1024.0),
            MAX_SCENARIO_BYTES / (1024 * 1024)
        ),
        line: 0,
        column: 0,
    }
}

/// A read that failed, as serde said it.
#[derive(Debug, PartialEq)]
struct Failure {
    path: Vec<Step>,
    message: String,
    line: usize,
    column: usize,
}

impl Failure {
    fn new(path: &serde_path_to_error::Path, message: String, line: usize, column: usize) -> Self {
        Failure {
            path: steps(path),
            message,
            line,
            column,
        }
    }

    fn plain(self) -> ScenarioError {
        ScenarioError::Parse {
            path: display(&self.path),
            message: words::plain(&self.message),
            line: self.line,
            column: self.column,
        }
    }

    fn narrowed(self, root: &Value) -> Failure {
        Failure {
            path: innermost(root, self.path, &self.message),
            ..self
        }
    }
}

/// One typed read of the whole text, which must end after the value.
fn read_text<'de, T: Deserialize<'de>>(json: &'de str) -> Result<T, Failure> {
    let mut de = serde_json::Deserializer::from_str(json);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().clone();
        let inner = e.into_inner();
        let message = strip_position(&inner.to_string());
        Failure::new(&path, message, inner.line(), inner.column())
    })?;
    de.end().map_err(|e| Failure {
        path: Vec::new(),
        message: "trailing characters".to_owned(),
        line: e.line(),
        column: e.column(),
    })?;
    Ok(value)
}

fn read_value<'de, T: Deserialize<'de>>(value: &'de Value) -> Result<T, Failure> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| Failure::new(&e.path().clone(), e.into_inner().to_string(), 0, 0))
}

/// serde_json appends " at line L column C"; the error carries those separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn steps(path: &serde_path_to_error::Path) -> Vec<Step> {
    path.iter()
        .filter_map(|s| match s {
            Segment::Map { key } => Some(Step::Key(key.clone())),
            Segment::Seq { index } => Some(Step::Index(*index)),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// How many copies [`innermost`] may deserialize, and how deep it looks.
const TRIALS: usize = 256;
const DEPTH: usize = 8;

/// The field inside the tagged object at `at` that `message` is about: the child whose
/// removal changes the error, followed down while one does.
fn innermost(root: &Value, at: Vec<Step>, message: &str) -> Vec<Step> {
    let Some(node) = value_at(root, &at) else {
        return at;
    };
    // A missing field is the object's fault, and removing another would only change which.
    if node.get("kind").is_none() || message.starts_with("missing field") {
        return at;
    }
    let mut at = at;
    if message.starts_with("unknown variant") {
        at.push(Step::Key("kind".to_owned()));
        return at;
    }
    let error_of = |candidate: &Value| {
        let mut value = candidate.clone();
        for step in at.iter().rev() {
            value = match step {
                Step::Key(key) => Value::Object([(key.clone(), value)].into_iter().collect()),
                Step::Index(_) => Value::Array(vec![value]),
            };
        }
        read_value::<Scenario>(&value).err()
    };
    let Some(base) = error_of(node) else {
        return at;
    };
    let mut blamed = Vec::new();
    let mut trials = 0;
    'down: while blamed.len() < DEPTH {
        let children: Vec<Step> = match value_at(node, &blamed) {
            Some(Value::Object(map)) => map
                .keys()
                .filter(|k| *k != "kind")
                .map(|k| Step::Key(k.clone()))
                .collect(),
            Some(Value::Array(items)) => (0..items.len()).map(Step::Index).collect(),
            _ => break,
        };
        for child in children {
            trials += 1;
            if trials > TRIALS {
                break 'down;
            }
            let mut trial = node.clone();
            let mut path = blamed.clone();
            path.push(child.clone());
            remove_at(&mut trial, &path);
            if error_of(&trial).as_ref() != Some(&base) {
                blamed.push(child);
                continue 'down;
            }
        }
        break;
    }
    at.extend(blamed);
    at
}

//! Dotted paths into a scenario's JSON (`app.pool.max_size`, `faults[0].at`), written the
//! way the scenario's error messages name fields, and setting the value at one.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

/// The most steps in a path; a scenario's deepest fields (a value of an empirical
/// distribution inside a fault) have about half as many.
pub const MAX_PATH_STEPS: usize = 16;

/// The longest path, in bytes.
pub const MAX_PATH_CHARS: usize = 200;

/// One step of a path: an object key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A parsed path such as `faults[0].at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

impl FromStr for JsonPath {
    type Err = String;

    fn from_str(text: &str) -> Result<JsonPath, String> {
        if text.len() > MAX_PATH_CHARS {
            return Err(format!(
                "the field path is {} characters long; a path has at most {MAX_PATH_CHARS}",
                text.len()
            ));
        }
        let bad = |why: &str| {
            format!(
                "`{text}` is not a field path ({why}); write e.g. app.pool.max_size or faults[0].at"
            )
        };
        let mut steps = Vec::new();
        let mut rest = text;
        // What may come next: a key (at the start or after '.'), or '.'/'[' after a step.
        let mut expect_key = true;
        while !rest.is_empty() {
            if expect_key {
                let end = rest.find(['.', '[', ']']).unwrap_or(rest.len());
                let key = &rest[..end];
                if key.is_empty() {
                    return Err(bad("a field name is missing"));
                }
                if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(bad(&format!("`{key}` is not a field name")));
                }
                steps.push(Step::Key(key.to_owned()));
                rest = &rest[end..];
                expect_key = false;
            } else if let Some(after) = rest.strip_prefix('.') {
                rest = after;
                expect_key = true;
            } else if let Some(after) = rest.strip_prefix('[') {
                let close = after.find(']').ok_or_else(|| bad("a `[` is not closed"))?;
                let index = after[..close]
                    .parse::<usize>()
                    .map_err(|_| bad(&format!("`[{}]` is not an index", &after[..close])))?;
                steps.push(Step::Index(index));
                rest = &after[close + 1..];
            } else {
                return Err(bad(&format!("unexpected `{rest}`")));
            }
        }
        if steps.len() > MAX_PATH_STEPS {
            return Err(bad(&format!(
                "{} steps; a path has at most {MAX_PATH_STEPS}",
                steps.len()
            )));
        }
        if expect_key {
            return Err(bad(if steps.is_empty() {
                "it is empty"
            } else {
                "it ends with `.`"
            }));
        }
        Ok(JsonPath { steps })
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_steps(f, &self.steps)
    }
}

fn write_steps(f: &mut impl fmt::Write, steps: &[Step]) -> fmt::Result {
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Key(key) if i == 0 => f.write_str(key)?,
            Step::Key(key) => write!(f, ".{key}")?,
            Step::Index(index) => write!(f, "[{index}]")?,
        }
    }
    Ok(())
}

/// `faults[2].pool.max_size`: steps written as validation writes field paths.
pub fn display(steps: &[Step]) -> String {
    let mut out = String::new();
    let _ = write_steps(&mut out, steps);
    out
}

/// The value at `steps` in `root`, if there is one.
pub fn value_at<'v>(root: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    steps.iter().try_fold(root, |v, step| match step {
        Step::Key(key) => v.get(key),
        Step::Index(i) => v.get(i),
    })
}

/// Removes the field or list item at `steps` from `root`; whether there was one.
pub fn remove_at(root: &mut Value, steps: &[Step]) -> bool {
    let Some((last, parent)) = steps.split_last() else {
        return false;
    };
    let parent = parent.iter().try_fold(root, |v, step| match step {
        Step::Key(key) => v.get_mut(key),
        Step::Index(i) => v.get_mut(i),
    });
    match (parent, last) {
        (Some(Value::Object(map)), Step::Key(key)) => map.remove(key).is_some(),
        (Some(Value::Array(items)), Step::Index(i)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

fn prefix(steps: &[Step]) -> String {
    if steps.is_empty() {
        return "the scenario".to_owned();
    }
    display(steps)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl JsonPath {
    /// Sets the value at this path in `root`, creating missing objects (and lists, and one
    /// new element at the end of a list) along the way.
    ///
    /// Fails when the path goes through a value of another kind (`app.pool.max_size.x`) or
    /// past the end of a list.
    pub fn set(&self, root: &mut Value, value: Value) -> Result<(), String> {
        let mut here = root;
        for (i, step) in self.steps.iter().enumerate() {
            here = match step {
                Step::Key(key) => {
                    if here.is_null() {
                        *here = Value::Object(Map::new());
                    }
                    match here {
                        Value::Object(map) => map.entry(key.clone()).or_insert(Value::Null),
                        other => {
                            return Err(format!(
                                "{} is {}, not an object with a field `{key}`",
                                prefix(&self.steps[..i]),
                                kind(other)
                            ));
                        }
                    }
                }
                Step::Index(index) => {
                    if here.is_null() {
                        *here = Value::Array(Vec::new());
                    }
                    match here {
                        Value::Array(items) => {
                            let len = items.len();
                            if *index == len {
                                items.push(Value::Null);
                            }
                            items.get_mut(*index).ok_or_else(|| {
                                format!(
                                    "{} has {len} element(s), so [{index}] is out of range (at most [{len}], to add one)",
                                    prefix(&self.steps[..i]),
                                )
                            })?
                        }
                        other => {
                            return Err(format!(
                                "{} is {}, not a list",
                                prefix(&self.steps[..i]),
                                kind(other)
                            ));
                        }
                    }
                }
            };
        }
        *here = value;
        Ok(())
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The value at this path in `root`, if there is one.
    pub fn get<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        value_at(root, &self.steps)
    }

    /// Removes the field or list item at this path; whether there was one.
    pub fn remove(&self, root: &mut Value) -> bool {
        remove_at(root, &self.steps)
    }

    /// Whether a problem reported at `field` (a path in the same notation) concerns this
    /// path: one of them lies within the other.
    pub fn relates_to(&self, field: &str) -> bool {
        let me = self.to_string();
        within(field, &me) || within(&me, field)
    }
}

/// `inner` is `outer` or a field inside it.
fn within(inner: &str, outer: &str) -> bool {
    !outer.is_empty()
        && inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(text: &str) -> JsonPath {
        text.parse().unwrap()
    }

    fn set(root: &mut Value, text: &str, value: Value) -> Result<(), String> {
        path(text).set(root, value)
    }

    #[test]
    fn parses_keys_and_indices_and_prints_them_back() {
        assert_eq!(
            path("faults[0].at").steps,
            vec![
                Step::Key("faults".into()),
                Step::Index(0),
                Step::Key("at".into())
            ]
        );
        for text in [
            "seed",
            "app.pool.max_size",
            "faults[12].at",
            "workload.arrivals.steps[1][2]",
        ] {
            assert_eq!(path(text).to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_paths() {
        for text in [
            "",
            ".",
            "app.",
            ".app",
            "app..pool",
            "faults[",
            "faults[x]",
            "faults[-1]",
            "[0]",
            "a]b",
            "a b",
            "faults[0]at",
        ] {
            let err = text.parse::<JsonPath>().unwrap_err();
            assert!(err.contains("is not a field path"), "{text}: {err}");
        }
    }

    #[test]
    fn paths_are_bounded_in_steps_and_length() {
        let deep = vec!["a"; MAX_PATH_STEPS + 1].join(".");
        assert_eq!(
            deep.parse::<JsonPath>().unwrap_err(),
            format!(
                "`{deep}` is not a field path (17 steps; a path has at most 16); write e.g. \
                 app.pool.max_size or faults[0].at"
            )
        );
        assert_eq!(
            vec!["a"; MAX_PATH_STEPS]
                .join(".")
                .parse::<JsonPath>()
                .unwrap()
                .steps
                .len(),
            MAX_PATH_STEPS
        );
        // The path that overflowed the stack: 16,000 segments.
        assert_eq!(
            vec!["a"; 16_000].join(".").parse::<JsonPath>().unwrap_err(),
            "the field path is 31999 characters long; a path has at most 200"
        );
    }

    #[test]
    fn sets_existing_fields() {
        let mut v = json!({"app": {"pool": {"max_size": 10, "min_idle": null}}});
        set(&mut v, "app.pool.max_size", json!(4)).unwrap();
        assert_eq!(
            v,
            json!({"app": {"pool": {"max_size": 4, "min_idle": null}}})
        );
    }

    #[test]
    fn creates_missing_objects_and_appends_to_lists() {
        let mut v = json!({});
        set(&mut v, "app.pool.max_size", json!(4)).unwrap();
        set(&mut v, "faults[0].kind", json!("db_outage")).unwrap();
        set(&mut v, "faults[0].at", json!("3m")).unwrap();
        set(&mut v, "faults[1].at", json!("5m")).unwrap();
        assert_eq!(
            v,
            json!({
                "app": {"pool": {"max_size": 4}},
                "faults": [{"kind": "db_outage", "at": "3m"}, {"at": "5m"}],
            })
        );
    }

    #[test]
    fn explains_paths_that_do_not_fit() {
        let mut v = json!({"app": {"pool": {"max_size": 10}}, "faults": []});
        assert_eq!(
            set(&mut v, "app.pool.max_size.x", json!(1)).unwrap_err(),
            "app.pool.max_size is a number, not an object with a field `x`"
        );
        assert_eq!(
            set(&mut v, "faults[2].at", json!("1s")).unwrap_err(),
            "faults has 0 element(s), so [2] is out of range (at most [0], to add one)"
        );
        assert_eq!(
            set(&mut v, "app[0]", json!(1)).unwrap_err(),
            "app is an object, not a list"
        );
    }

    #[test]
    fn relates_paths_within_one_another() {
        let p = path("app.pool.max_size");
        assert!(p.relates_to("app.pool.max_size"));
        assert!(p.relates_to("app.pool"));
        assert!(!p.relates_to("app.pool.min_idle"));
        assert!(!p.relates_to("app.pool.max_size_x"));
        assert!(!p.relates_to(""));
        assert!(path("faults[0]").relates_to("faults[0].at"));
        assert!(!path("faults[0]").relates_to("faults[1].at"));
    }
}

//! Field paths into a scenario's JSON, written as validation errors write them:
//! `app.pool.max_size`, `faults[2].at`. A control's `name` is its path, so an error's path
//! finds its control.

use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// `faults[2].at` → `Key("faults"), Index(2), Key("at")`; `None` for a malformed path.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => part.split_at(i),
            None => (part, ""),
        };
        // A leading `[0]` or an empty part (`a..b`) names nothing.
        if key.is_empty() && (out.is_empty() || rest.is_empty()) {
            return None;
        }
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']')?;
            out.push(Step::Index(inner[..close].parse().ok()?));
            rest = &inner[close + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// The value at `path`, if there is one.
pub fn get<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    steps(path)?
        .into_iter()
        .try_fold(value, |v, step| match step {
            Step::Key(k) => v.get(k),
            Step::Index(i) => v.get(i),
        })
}

/// Sets the value at `path`, creating objects on the way; `None` removes it. An index past
/// the end of an array, or a step through a value of another type, leaves `value` unchanged
/// and returns false.
pub fn set(value: &mut Value, path: &str, new: Option<Value>) -> bool {
    let Some(steps) = steps(path) else {
        return false;
    };
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut at = value;
    for step in parents {
        at = match (step, at) {
            (Step::Key(k), Value::Object(map)) => map
                .entry(k.to_string())
                .or_insert_with(|| Value::Object(Map::new())),
            (Step::Index(i), Value::Array(items)) => match items.get_mut(*i) {
                Some(item) => item,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, at, new) {
        (Step::Key(k), Value::Object(map), Some(v)) => {
            map.insert(k.to_string(), v);
        }
        (Step::Key(k), Value::Object(map), None) => {
            map.remove(*k);
        }
        (Step::Index(i), Value::Array(items), Some(v)) if *i < items.len() => items[*i] = v,
        (Step::Index(i), Value::Array(items), None) if *i < items.len() => {
            items.remove(*i);
        }
        _ => return false,
    }
    true
}

/// `path` followed by `[index]`.
pub fn index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// `path` followed by `.key`.
pub fn child(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_and_writes_nested_fields_and_array_items() {
        let mut v = json!({"app": {"pool": {"max_size": 10}}, "faults": [{"at": "1m"}]});
        assert_eq!(get(&v, "app.pool.max_size"), Some(&json!(10)));
        assert_eq!(get(&v, "faults[0].at"), Some(&json!("1m")));
        assert_eq!(get(&v, "faults[1].at"), None);
        assert!(set(&mut v, "app.pool.max_size", Some(json!(5))));
        assert!(set(&mut v, "database.cores", Some(json!(8))));
        assert!(set(&mut v, "faults[0].at", Some(json!("2m"))));
        assert!(!set(&mut v, "faults[3].at", Some(json!("2m"))));
        assert_eq!(
            v,
            json!({"app": {"pool": {"max_size": 5}}, "database": {"cores": 8},
                   "faults": [{"at": "2m"}]})
        );
        assert!(set(&mut v, "faults[0]", None));
        assert!(set(&mut v, "database", None));
        assert_eq!(v, json!({"app": {"pool": {"max_size": 5}}, "faults": []}));
    }

    #[test]
    fn malformed_paths_are_refused() {
        let mut v = json!({});
        for bad in ["", "[0]", "a[", "a[x]", "a[0]b", "a..b"] {
            assert!(!set(&mut v, bad, Some(json!(1))), "{bad}");
        }
        // Through a number: not an object, nothing changes.
        let mut v = json!({"a": 1});
        assert!(!set(&mut v, "a.b", Some(json!(2))));
        assert_eq!(v, json!({"a": 1}));
    }
}

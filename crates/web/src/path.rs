//! Field paths into a scenario's JSON, written as validation errors write them:
//! `app.pool.max_size`, `faults[2].at`. A control's `name` is its path, so an error's path
//! finds its control. Parsing and walking are `poolsim_scenario::sweep::path`'s; this is the
//! page's string-in, bool-out face of it.

use poolsim_scenario::sweep::path::{JsonPath, Step, value_at};
use serde_json::Value;

/// The value at `path`, if there is one (`None` for a malformed path too).
pub fn get<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.parse::<JsonPath>().ok()?.get(value)
}

/// Sets the value at `path`, creating objects on the way; `None` removes it. A malformed
/// path, an index past the end of a list (a control's index gone stale), a missing field to
/// remove, or a step through a value of another type leaves `value` unchanged and returns
/// false. One parser for every path: the one `poolsim sweep --set` and the scenario's
/// errors use.
pub fn set(value: &mut Value, path: &str, new: Option<Value>) -> bool {
    let Ok(path) = path.parse::<JsonPath>() else {
        return false;
    };
    let steps = path.steps();
    let items_exist = (0..steps.len())
        .filter(|&i| matches!(steps[i], Step::Index(_)))
        .all(|i| value_at(value, &steps[..=i]).is_some());
    if !items_exist {
        return false;
    }
    match new {
        Some(new) => {
            let mut next = value.clone();
            let done = path.set(&mut next, new).is_ok();
            if done {
                *value = next;
            }
            done
        }
        None => path.remove(value),
    }
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
        assert!(
            !set(&mut v, "faults[1].at", Some(json!("2m"))),
            "no item added at the end"
        );
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

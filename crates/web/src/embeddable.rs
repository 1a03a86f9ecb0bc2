//! Which control edits a field path on its own: an embed's `controls=` list and the snippet
//! builder resolve every path here, so a path either gets the control the full page shows
//! for it or a sentence saying why not — never silence. Pure data, tested natively.

use poolsim_scenario::sweep::path::{JsonPath, Step};
use serde_json::Value;

use crate::form::{self, Field, Kind};

/// The control that shows one field path.
#[derive(Clone, Debug, PartialEq)]
pub enum Control {
    /// One input: its full path and what it holds.
    Field(String, Field),
    /// A distribution (its kind selector and that kind's parameters) at this path.
    Dist(String, Field),
    /// A reconfigure's pool setting: empty keeps the old value.
    Patch(String, Field),
    /// The arrival process: its kind selector and that kind's parameters.
    Arrivals,
    /// The metric an alert watches (`alerts[i].metric`), a choice among the metric names.
    AlertMetric(usize),
}

const ARRIVALS: &str = "workload.arrivals";

/// The control for `path` in `scenario`, or why there is none, in words for the person who
/// wrote the path.
pub fn control_at(scenario: &Value, path: &str) -> Result<Control, String> {
    let path = path.trim();
    let parsed: JsonPath = path
        .parse()
        .map_err(|e| format!("`{path}` is not a field path: {e}"))?;
    let steps = parsed.steps();
    let key = |i: usize| match steps.get(i) {
        Some(Step::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    if let Some(f) = plain(path) {
        return Ok(if f.kind == Kind::Dist {
            Control::Dist(path.to_owned(), *f)
        } else {
            Control::Field(path.to_owned(), *f)
        });
    }
    if let Some((dist, param)) = path.rsplit_once('.')
        && let Some(f) = plain(dist).filter(|f| f.kind == Kind::Dist)
    {
        return dist_param(scenario, dist, f, param, path);
    }
    if path == "workload.arrivals.kind" {
        return Ok(Control::Arrivals);
    }
    let list = |name: &str| -> Result<(usize, &[Step]), String> {
        let Some(Step::Index(i)) = steps.get(1) else {
            return Err(format!(
                "`{path}`: {name} is a list; name one item and its field, as in `{name}[0].at`"
            ));
        };
        let items = form_list(scenario, name);
        if *i >= items {
            return Err(format!(
                "`{path}`: the scenario has {} in {name}, so there is no {name}[{i}]",
                count(items, "item")
            ));
        }
        Ok((*i, &steps[2..]))
    };
    match key(0) {
        Some("faults") => {
            let (i, rest) = list("faults")?;
            fault_field(scenario, i, rest, path)
        }
        Some("alerts") => {
            let (i, rest) = list("alerts")?;
            match leaf(rest) {
                Some("metric") => Ok(Control::AlertMetric(i)),
                Some(name) => find(form::ALERT_FIELDS, name)
                    .map(|f| Control::Field(path.to_owned(), *f))
                    .ok_or_else(|| unknown_in(path, "an alert", form::ALERT_FIELDS)),
                None => Err(unknown_in(path, "an alert", form::ALERT_FIELDS)),
            }
        }
        Some("timeline") if key(1) == Some("moments") => {
            let moments = &steps[1..];
            let Some(Step::Index(i)) = moments.get(1) else {
                return Err(format!(
                    "`{path}`: name one moment, as in `timeline.moments[0].at`"
                ));
            };
            let items = form_list(scenario, "timeline.moments");
            if *i >= items {
                return Err(format!(
                    "`{path}`: the timeline has {}, so there is no moment {}",
                    count(items, "moment"),
                    i + 1
                ));
            }
            leaf(&moments[2..])
                .and_then(|name| find(form::MOMENT_FIELDS, name))
                .map(|f| Control::Field(path.to_owned(), *f))
                .ok_or_else(|| unknown_in(path, "a timeline moment", form::MOMENT_FIELDS))
        }
        Some("workload") if key(1) == Some("arrivals") => {
            arrival_field(scenario, &steps[2..], path)
        }
        _ => Err(format!(
            "`{path}` is not a field the page has a control for (the full page's controls are \
             named by their field paths, such as `app.pool.max_size`)"
        )),
    }
}

/// A field of the main groups with exactly this path.
fn plain(path: &str) -> Option<&'static Field> {
    form::GROUPS
        .iter()
        .flat_map(|g| g.fields.iter())
        .find(|f| f.path == path)
}

fn find(fields: &'static [Field], name: &str) -> Option<&'static Field> {
    fields.iter().find(|f| f.path == name)
}

/// The one key a path ends with after an item (`[0].at` → `at`), if that is all there is.
fn leaf(rest: &[Step]) -> Option<&str> {
    match rest {
        [Step::Key(k)] => Some(k),
        _ => None,
    }
}

fn form_list(scenario: &Value, path: &str) -> usize {
    crate::path::get(scenario, path)
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

fn count(n: usize, what: &str) -> String {
    match n {
        0 => format!("no {what}s"),
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

/// The names of `fields`, as a person lists them: `at, duration and factor`.
fn names(fields: &[Field]) -> String {
    let names: Vec<&str> = fields.iter().map(|f| f.path).collect();
    match names.split_last() {
        None => "none".to_owned(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn unknown_in(path: &str, what: &str, fields: &[Field]) -> String {
    format!(
        "`{path}` is not a field of {what}; its fields are {}",
        names(fields)
    )
}

fn kind_of<'v>(scenario: &'v Value, path: &str, default: &'v str) -> &'v str {
    crate::path::get(scenario, path)
        .and_then(|v| v.get("kind"))
        .and_then(Value::as_str)
        .unwrap_or(default)
}

fn dist_param(
    scenario: &Value,
    dist: &str,
    f: &Field,
    param: &str,
    path: &str,
) -> Result<Control, String> {
    if param == "kind" {
        return Ok(Control::Dist(dist.to_owned(), *f));
    }
    let kind = kind_of(scenario, dist, "constant");
    let fields = form::dist_fields(kind);
    find(fields, param)
        .map(|p| Control::Field(path.to_owned(), *p))
        .ok_or_else(|| {
            format!(
                "`{path}`: {} is {kind} here, and a {kind} distribution's parameters are {} \
                 (or embed `{dist}` for the whole distribution)",
                f.label.to_lowercase(),
                names(fields)
            )
        })
}

fn arrival_field(scenario: &Value, rest: &[Step], path: &str) -> Result<Control, String> {
    let kind = kind_of(scenario, ARRIVALS, "poisson");
    match rest {
        [] => Ok(Control::Arrivals),
        [Step::Key(name)] => find(form::arrival_fields(kind), name)
            .map(|f| Control::Field(path.to_owned(), *f))
            .ok_or_else(|| {
                let fields = match form::arrival_fields(kind) {
                    [] => "kind and its rate steps".to_owned(),
                    fields => format!("kind, {}", names(fields)),
                };
                format!(
                    "`{path}`: the arrivals are {kind} here, whose fields are {fields} (or embed \
                     `{ARRIVALS}` for the whole arrival process)"
                )
            }),
        [Step::Key(steps), Step::Index(i), Step::Key(name)] if steps == "steps" => {
            let items = form_list(scenario, "workload.arrivals.steps");
            if *i >= items {
                return Err(format!(
                    "`{path}`: the arrivals have {}, so there is no steps[{i}]",
                    count(items, "rate step")
                ));
            }
            find(form::STEP_FIELDS, name)
                .map(|f| Control::Field(path.to_owned(), *f))
                .ok_or_else(|| unknown_in(path, "a rate step", form::STEP_FIELDS))
        }
        _ => Err(format!(
            "`{path}` is not a field of the arrival process (embed `{ARRIVALS}` for all of it)"
        )),
    }
}

fn fault_field(scenario: &Value, i: usize, rest: &[Step], path: &str) -> Result<Control, String> {
    let base = crate::path::index("faults", i);
    let kind = kind_of(scenario, &base, "");
    let fields = form::fault_fields(kind);
    match rest {
        [Step::Key(name)] => find(fields, name)
            .map(|f| Control::Field(path.to_owned(), *f))
            .ok_or_else(|| unknown_in(path, &format!("a {kind} fault"), fields)),
        [Step::Key(pool), Step::Key(name)] if pool == "pool" && kind == "reconfigure" => {
            find(form::PATCH_FIELDS, name)
                .map(|f| Control::Patch(path.to_owned(), *f))
                .ok_or_else(|| {
                    unknown_in(path, "a reconfigure's pool settings", form::PATCH_FIELDS)
                })
        }
        _ => Err(unknown_in(path, &format!("a {kind} fault"), fields)),
    }
}

/// Every path of `list` (comma-separated, as the `controls=` query and the builder take
/// them) with its control or the reason it has none, in order, blanks dropped.
pub fn resolve(scenario: &Value, list: &[String]) -> Vec<(String, Result<Control, String>)> {
    list.iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| (p.to_owned(), control_at(scenario, p)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outage() -> Value {
        serde_json::from_str(include_str!("../../../tests/scenarios/outage-replay.json"))
            .expect("the replay parses")
    }

    fn path_of(c: &Control) -> String {
        match c {
            Control::Field(p, _) | Control::Dist(p, _) | Control::Patch(p, _) => p.clone(),
            Control::Arrivals => ARRIVALS.to_owned(),
            Control::AlertMetric(i) => format!("alerts[{i}].metric"),
        }
    }

    #[test]
    fn the_paths_the_issue_names_each_get_their_control() {
        let s = outage();
        let rate = control_at(&s, "workload.arrivals.rate_per_s").expect("rate");
        let Control::Field(p, f) = &rate else {
            panic!("rate is one field: {rate:?}")
        };
        assert_eq!(
            (p.as_str(), f.label),
            ("workload.arrivals.rate_per_s", "Rate")
        );
        assert_eq!(
            control_at(&s, "workload.arrivals.kind"),
            Ok(Control::Arrivals)
        );
        assert_eq!(
            control_at(&s, "alerts[0].metric"),
            Ok(Control::AlertMetric(0))
        );
        let above = control_at(&s, "alerts[0].above").expect("above");
        assert!(
            matches!(above, Control::Field(ref p, f) if p == "alerts[0].above" && f.label == "Above")
        );
        for base in ["workload.transaction.query_time", "app.pool.connect_time"] {
            let kind = s
                .pointer(&format!("/{}", base.replace('.', "/")))
                .and_then(|d| d.get("kind"))
                .and_then(Value::as_str)
                .unwrap_or("constant");
            let first = form::dist_fields(kind)[0].path;
            let p = format!("{base}.{first}");
            let c = control_at(&s, &p).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(path_of(&c), p);
            assert!(matches!(control_at(&s, base), Ok(Control::Dist(..))));
            assert!(matches!(
                control_at(&s, &format!("{base}.kind")),
                Ok(Control::Dist(..))
            ));
        }
    }

    #[test]
    fn every_control_of_the_full_page_can_be_embedded() {
        let s = outage();
        let faults = s["faults"].as_array().map_or(0, Vec::len);
        let mut paths: Vec<String> = form::GROUPS
            .iter()
            .flat_map(|g| g.fields.iter())
            .map(|f| f.path.to_owned())
            .collect();
        for i in 0..faults {
            let kind = s["faults"][i]["kind"].as_str().unwrap_or_default();
            paths.extend(
                form::fault_fields(kind)
                    .iter()
                    .map(|f| format!("faults[{i}].{}", f.path)),
            );
        }
        for path in &paths {
            let c = control_at(&s, path).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(&path_of(&c), path);
        }
        assert!(paths.len() > 30, "{} paths", paths.len());
    }

    #[test]
    fn paths_without_a_control_say_why() {
        let s = json!({"faults": [{"kind": "db_outage", "at": "1m", "duration": "1m"}],
                       "workload": {"transaction": {"query_time": {"kind": "lognormal", "median": "5ms", "p99": "50ms"}}}});
        let says = |p: &str| control_at(&s, p).expect_err(p);
        assert_eq!(
            says("bogus.field"),
            "`bogus.field` is not a field the page has a control for (the full page's controls \
             are named by their field paths, such as `app.pool.max_size`)"
        );
        assert_eq!(
            says("faults[3].at"),
            "`faults[3].at`: the scenario has 1 item in faults, so there is no faults[3]"
        );
        assert_eq!(
            says("workload.transaction.query_time.mean"),
            "`workload.transaction.query_time.mean`: query time is lognormal here, and a \
             lognormal distribution's parameters are median and p99 (or embed \
             `workload.transaction.query_time` for the whole distribution)"
        );
        assert!(says("alerts[0].above").contains("no items in alerts"));
        assert!(says("faults[0].bogus").starts_with(
            "`faults[0].bogus` is not a field of a db_outage fault; its fields are at"
        ));
        assert!(says("faults[x]").contains("not a field path"));
    }

    #[test]
    fn resolve_keeps_order_and_drops_blanks() {
        let s = outage();
        let list: Vec<String> = ["app.instances", " ", "bogus", "app.pool.max_size"]
            .map(str::to_owned)
            .to_vec();
        let got: Vec<(String, bool)> = resolve(&s, &list)
            .into_iter()
            .map(|(p, c)| (p, c.is_ok()))
            .collect();
        assert_eq!(
            got,
            [
                ("app.instances".to_owned(), true),
                ("bogus".to_owned(), false),
                ("app.pool.max_size".to_owned(), true)
            ]
        );
    }
}

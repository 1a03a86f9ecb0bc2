//! `--set PATH=SPEC`: which field a sweep varies and the values it takes.
//!
//! SPEC is a comma-separated list of items; an item is either a range `a..b:step` (end
//! included) or one value. A range is of integers (`5..80:5`, stays integers), of decimals
//! (`0.5..2:0.25`), or of durations (`100ms..1s:100ms`, computed in whole microseconds and
//! written back as duration strings such as `"300ms"`). A single value is a JSON number,
//! `true`/`false`/`null`, or else a string (`"30s"`, `round_robin`).

use crate::Duration;
use serde_json::Value;

use super::path::JsonPath;

/// A sweep has at most this many points, over all `--set` flags together.
pub const MAX_POINTS: usize = 10_000;

/// One parsed `--set` flag.
#[derive(Clone, Debug, PartialEq)]
pub struct SetArg {
    /// The flag as written, for error messages.
    pub raw: String,
    pub path: JsonPath,
    pub values: Vec<Value>,
}

/// Parses `PATH=SPEC` (clap's value parser for `--set`).
pub fn parse_set(raw: &str) -> Result<SetArg, String> {
    let (path, spec) = raw.split_once('=').ok_or_else(|| {
        format!("`{raw}` is not PATH=SPEC; write e.g. app.pool.max_size=5..80:5 or app.pool.connection_timeout=250ms,1s,30s")
    })?;
    let path: JsonPath = path.trim().parse()?;
    let values = parse_spec(spec.trim())?;
    Ok(SetArg {
        raw: raw.to_owned(),
        path,
        values,
    })
}

/// Parses SPEC into its values, in order.
pub fn parse_spec(spec: &str) -> Result<Vec<Value>, String> {
    if spec.is_empty() {
        return Err("the SPEC after `=` is empty; write a range a..b:step or a list v1,v2".into());
    }
    let mut values = Vec::new();
    for item in spec.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(format!("`{spec}` has an empty item in its list"));
        }
        if item.contains("..") {
            values.extend(range(item, MAX_POINTS - values.len())?);
        } else {
            values.push(scalar(item));
        }
        if values.len() > MAX_POINTS {
            return Err(too_many(spec));
        }
    }
    Ok(values)
}

fn too_many(spec: &str) -> String {
    format!("`{spec}` gives more than {MAX_POINTS} values; a sweep has at most {MAX_POINTS} points")
}

/// A single value: JSON scalars as such, anything else as a string.
fn scalar(item: &str) -> Value {
    match serde_json::from_str::<Value>(item) {
        Ok(v @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_))) => v,
        _ => Value::String(item.to_owned()),
    }
}

/// `a..b:step`, with at most `room` values.
fn range(item: &str, room: usize) -> Result<Vec<Value>, String> {
    let form = "write a..b:step, e.g. 5..80:5 or 100ms..1s:100ms";
    let (bounds, step) = item
        .split_once(':')
        .ok_or_else(|| format!("the range `{item}` has no step; {form}"))?;
    let (start, end) = bounds
        .split_once("..")
        .ok_or_else(|| format!("`{item}` is not a range; {form}"))?;
    let (start, end, step) = (start.trim(), end.trim(), step.trim());
    if [start, end, step].iter().any(|s| s.is_empty()) {
        return Err(format!(
            "the range `{item}` lacks a bound or its step; {form}"
        ));
    }
    let values = if let (Ok(a), Ok(b), Ok(s)) = (
        start.parse::<i64>(),
        end.parse::<i64>(),
        step.parse::<i64>(),
    ) {
        let count = count(item, i128::from(a), i128::from(b), i128::from(s), room)?;
        (0..count).map(|i| Value::from(a + s * i as i64)).collect()
    } else if let (Ok(a), Ok(b), Ok(s)) = (
        start.parse::<f64>(),
        end.parse::<f64>(),
        step.parse::<f64>(),
    ) {
        decimals(item, [start, end, step], a, b, s, room)?
    } else if let (Ok(a), Ok(b), Ok(s)) = (
        start.parse::<Duration>(),
        end.parse::<Duration>(),
        step.parse::<Duration>(),
    ) {
        let (a, b, s) = (a.as_us(), b.as_us(), s.as_us());
        let count = count(item, i128::from(a), i128::from(b), i128::from(s), room)?;
        (0..count)
            .map(|i| Value::from(Duration::from_us(a + s * i as u64).to_string()))
            .collect()
    } else {
        return Err(format!(
            "the range `{item}` is neither of numbers nor of durations (all three of a, b and step must be one kind; durations need units, e.g. 100ms..1s:100ms)"
        ));
    };
    Ok(values)
}

/// How many values `a, a+s, ...` up to `b` inclusive, checking the range is sensible.
fn count(item: &str, a: i128, b: i128, s: i128, room: usize) -> Result<usize, String> {
    if s <= 0 {
        return Err(format!("the range `{item}` needs a step greater than 0"));
    }
    if b < a {
        return Err(format!(
            "the range `{item}` is empty: its end is before its start"
        ));
    }
    let n = (b - a) / s + 1;
    if n > room as i128 {
        return Err(too_many(item));
    }
    Ok(n as usize)
}

/// A range of decimals, each rounded to as many decimal places as its bounds and step
/// are written with, so that `0.1..0.3:0.1` gives 0.1, 0.2, 0.3 and not 0.30000000000000004.
fn decimals(
    item: &str,
    texts: [&str; 3],
    a: f64,
    b: f64,
    s: f64,
    room: usize,
) -> Result<Vec<Value>, String> {
    if ![a, b, s].iter().all(|x| x.is_finite()) {
        return Err(format!("the range `{item}` needs finite numbers"));
    }
    if s <= 0.0 {
        return Err(format!("the range `{item}` needs a step greater than 0"));
    }
    if b < a {
        return Err(format!(
            "the range `{item}` is empty: its end is before its start"
        ));
    }
    // A little slack so that an end reached up to rounding is included.
    let n = ((b - a) / s + 1e-9).floor() + 1.0;
    if n > room as f64 {
        return Err(too_many(item));
    }
    let places = texts
        .iter()
        .map(|t| match t.split_once('.') {
            Some((_, frac)) if !t.contains(['e', 'E']) => Some(frac.len()),
            Some(_) => None,
            None if t.contains(['e', 'E']) => None,
            None => Some(0),
        })
        .try_fold(0, |max, p| p.map(|p| max.max(p)));
    Ok((0..n as usize)
        .map(|i| {
            let x = a + s * i as f64;
            let x = match places {
                Some(places) => format!("{x:.places$}").parse().unwrap_or(x),
                None => x,
            };
            Value::from(x)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn values(spec: &str) -> Vec<Value> {
        parse_spec(spec).unwrap()
    }

    fn error(spec: &str) -> String {
        parse_spec(spec).unwrap_err()
    }

    #[test]
    fn integer_ranges_include_the_end_and_stay_integers() {
        assert_eq!(values("2..6:2"), vec![json!(2), json!(4), json!(6)]);
        assert_eq!(
            values("5..80:25"),
            vec![json!(5), json!(30), json!(55), json!(80)]
        );
        assert_eq!(values("3..3:1"), vec![json!(3)]);
        assert_eq!(values("-2..2:2"), vec![json!(-2), json!(0), json!(2)]);
        assert!(values("1..4:1").iter().all(Value::is_u64));
    }

    #[test]
    fn decimal_ranges_are_rounded_to_their_precision() {
        assert_eq!(
            values("0.1..0.3:0.1"),
            vec![json!(0.1), json!(0.2), json!(0.3)]
        );
        assert_eq!(
            values("0..1:0.25"),
            vec![json!(0.0), json!(0.25), json!(0.5), json!(0.75), json!(1.0)]
        );
        assert_eq!(
            values("100..300.5:100"),
            vec![json!(100.0), json!(200.0), json!(300.0)]
        );
    }

    #[test]
    fn duration_ranges_are_exact_and_written_as_durations() {
        assert_eq!(
            values("100ms..1s:300ms"),
            vec![json!("100ms"), json!("400ms"), json!("700ms"), json!("1s")]
        );
        assert_eq!(
            values("0s..1m:30s"),
            vec![json!("0s"), json!("30s"), json!("1m")]
        );
        assert_eq!(values("0..2ms:1500us"), vec![json!("0s"), json!("1500us")]);
    }

    #[test]
    fn lists_hold_numbers_strings_and_ranges() {
        assert_eq!(
            values("1, 2.5,30s,round_robin,true,null,\"a b\""),
            vec![
                json!(1),
                json!(2.5),
                json!("30s"),
                json!("round_robin"),
                json!(true),
                json!(null),
                json!("a b")
            ]
        );
        assert_eq!(
            values("1..3:1,10"),
            vec![json!(1), json!(2), json!(3), json!(10)]
        );
        assert_eq!(values("least_busy"), vec![json!("least_busy")]);
    }

    #[test]
    fn bad_specs_say_what_to_write() {
        assert!(error("").contains("empty"));
        assert!(error("1,,2").contains("empty item"));
        assert!(error("5..80").contains("no step"));
        assert!(error("..80:5").contains("lacks a bound"));
        assert!(error("5..80:0").contains("step greater than 0"));
        assert!(error("5..80:-5").contains("step greater than 0"));
        assert!(error("80..5:5").contains("end is before its start"));
        assert!(error("1..5s:1s").contains("neither of numbers nor of durations"));
        assert!(error("0.1ms..1ms:0.1").contains("neither"));
        assert!(error("1..100000:1").contains("at most 10000"));
        assert!(error("0..1:0.00001").contains("at most 10000"));
        assert!(error("1..9999:1,1..9:1").contains("at most 10000"));
        assert!(error("1us..1h:1us").contains("at most 10000"));
    }

    #[test]
    fn set_flags_split_path_and_spec() {
        let set = parse_set("app.pool.max_size=2..6:2").unwrap();
        assert_eq!(set.path.to_string(), "app.pool.max_size");
        assert_eq!(set.values.len(), 3);
        assert_eq!(set.raw, "app.pool.max_size=2..6:2");
        assert!(
            parse_set("app.pool.max_size")
                .unwrap_err()
                .contains("PATH=SPEC")
        );
        assert!(
            parse_set("app..pool=1")
                .unwrap_err()
                .contains("not a field path")
        );
        // Only the first `=` separates: a string value may hold one.
        assert_eq!(parse_set("name=a=b").unwrap().values, vec![json!("a=b")]);
    }
}

//! The page's address: the scenario in the hash (`#s=<percent-encoded JSON>`), the embed mode
//! in the query (`?embed=pool&controls=app.pool.max_size`). Links are untrusted input, so
//! nothing here panics: a bad link gives a message for the page to show.

use serde_json::Value;

use crate::charts::ChartId;

/// What a link asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct Address {
    /// `None`: no scenario in the link (use the default).
    pub scenario: Option<Result<Value, String>>,
    pub embed: Option<Embed>,
}

/// Show one chart (and optionally some controls) alone, for an iframe in a docs page.
#[derive(Clone, Debug, PartialEq)]
pub struct Embed {
    pub chart: ChartId,
    /// Field paths of the controls to show beside the chart.
    pub controls: Vec<String>,
}

/// Reads `location.search` and `location.hash` (each with or without its `?` / `#`).
pub fn parse(search: &str, hash: &str) -> Address {
    let mut embed = None;
    let mut controls = Vec::new();
    for pair in search.trim_start_matches('?').split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(value).unwrap_or_default();
        match key {
            "embed" => embed = Some(ChartId::parse(&value).unwrap_or(ChartId::Pool)),
            "controls" => controls.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            ),
            _ => {}
        }
    }
    let scenario = hash
        .trim_start_matches('#')
        .split('&')
        .find_map(|pair| pair.strip_prefix("s="))
        .map(|encoded| {
            let json = decode(encoded)
                .ok_or("the link's scenario is cut or garbled (bad %-escape or UTF-8)")?;
            untrusted(&json).map_err(|e| format!("the link's scenario {e}"))
        });
    Address {
        scenario,
        embed: embed.map(|chart| Embed { chart, controls }),
    }
}

/// Lists a scenario may hold, and how long each may be (validation's bounds): a scenario
/// from outside is refused before the page draws a control for each item.
const LISTS: [(&str, usize); 4] = [
    ("timeline.moments", poolsim_scenario::MAX_MOMENTS),
    ("faults", poolsim_scenario::MAX_FAULTS),
    ("alerts", poolsim_scenario::MAX_ALERTS),
    ("workload.arrivals.steps", poolsim_scenario::MAX_RATE_STEPS),
];

/// A scenario from outside (a link, an imported file), read only as far as the page can
/// show it: at most [`poolsim_scenario::MAX_SCENARIO_BYTES`] of JSON, an object, no list
/// longer than validation allows, and no unknown field where the reader stops first (a
/// type error met before an unknown field is shown at its field instead). Anything else is an
/// error ending a sentence that starts with "the link's scenario" or a file's name; bad
/// values are kept, to be shown at their fields.
pub fn untrusted(json: &str) -> Result<Value, String> {
    let max = poolsim_scenario::MAX_SCENARIO_BYTES;
    if json.len() > max {
        return Err(format!(
            "is {} bytes; a scenario is at most {} ({} MiB)",
            poolsim_scenario::int(json.len() as u64),
            poolsim_scenario::int(max as u64),
            max >> 20
        ));
    }
    // serde_json's own message ("EOF while parsing an object") is not for people; the
    // scenario reader says the same in plain words, with line and column.
    let value =
        serde_json::from_str::<Value>(json).map_err(|_| match poolsim_scenario::parse(json) {
            Err(e) => format!("is not valid JSON: {e}"),
            Ok(_) => "is not valid JSON".to_owned(),
        })?;
    let kind = match &value {
        Value::Object(_) => None,
        Value::Null => Some("null"),
        Value::Array(_) => Some("a list [...]"),
        Value::String(_) => Some("a text"),
        Value::Number(_) => Some("a number"),
        Value::Bool(_) => Some("true or false"),
    };
    if let Some(kind) = kind {
        return Err(format!("is {kind}, not a scenario (a JSON object {{...}})"));
    }
    for (path, most) in LISTS {
        if let Some(n) = crate::path::get(&value, path)
            .and_then(Value::as_array)
            .map(Vec::len)
            .filter(|&n| n > most)
        {
            return Err(format!(
                "lists {} items in {path}; a scenario may have at most {}",
                poolsim_scenario::int(n as u64),
                poolsim_scenario::int(most as u64)
            ));
        }
    }
    if let Err(e) = poolsim_scenario::from_value(value.clone())
        && let Some(unknown) = e
            .fields()
            .into_iter()
            .find(|f| f.message.starts_with("unknown field"))
    {
        return Err(format!("has a field poolsim does not know: {unknown}"));
    }
    Ok(value)
}

/// The hash that holds `scenario`: `#s=...`.
pub fn hash(scenario: &Value) -> String {
    format!("#s={}", encode(&scenario.to_string()))
}

/// The query of an embed link.
pub fn embed_query(embed: &Embed) -> String {
    let mut q = format!("?embed={}", embed.chart.as_str());
    if !embed.controls.is_empty() {
        q.push_str("&controls=");
        q.push_str(&encode(&embed.controls.join(",")));
    }
    q
}

/// Percent-encodes all but what a URL fragment or query value may hold as is.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~!$'()*,;:@/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Undoes `%XX` escapes (and `+` for a space, as forms write it); `None` on a bad escape or
/// bytes that are not UTF-8.
pub fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let digit = |c: u8| char::from(c).to_digit(16);
                out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_scenario_survives_the_round_trip_through_a_link() {
        let scenario = json!({"name": "a & b = 50% \"off\" #1", "app": {"pool": {"max_size": 7}}});
        let address = parse("", &hash(&scenario));
        assert_eq!(address.scenario, Some(Ok(scenario)));
        assert_eq!(address.embed, None);
    }

    #[test]
    fn wrong_scenarios_from_outside_are_refused_in_words_before_the_page_draws_them() {
        let says = |json: &str| untrusted(json).expect_err(json);
        assert_eq!(
            says("null"),
            "is null, not a scenario (a JSON object {...})"
        );
        assert_eq!(
            says("[1,2,3]"),
            "is a list [...], not a scenario (a JSON object {...})"
        );
        assert!(
            says(r#"{"bogus": 1}"#)
                .starts_with("has a field poolsim does not know: bogus: unknown field \"bogus\"")
        );
        let moments: Vec<Value> = (0..5000)
            .map(|i| json!({"at": format!("{i}s"), "kind": "note", "label": "x"}))
            .collect();
        let long = json!({"timeline": {"moments": moments}}).to_string();
        assert_eq!(
            says(&long),
            "lists 5,000 items in timeline.moments; a scenario may have at most 100"
        );
        let huge = format!("{{\"description\": \"{}\"}}", "x".repeat(9 << 20));
        assert!(says(&huge).contains("a scenario is at most 8,388,608 (8 MiB)"));
        // A bad value is kept: it is shown at its field.
        let bad = json!({"app": {"pool": {"max_size": "x"}}});
        assert_eq!(untrusted(&bad.to_string()), Ok(bad));
        // And from a link, the sentence starts with what it is about.
        let address = parse("", &hash(&json!(null)));
        assert_eq!(
            address.scenario,
            Some(Err(
                "the link's scenario is null, not a scenario (a JSON object {...})".into()
            ))
        );
    }

    #[test]
    fn embed_links_name_a_chart_and_controls() {
        let embed = Embed {
            chart: ChartId::Db,
            controls: vec!["app.pool.max_size".into(), "app.instances".into()],
        };
        let address = parse(&embed_query(&embed), "");
        assert_eq!(address.embed, Some(embed));
        assert_eq!(address.scenario, None);
        // An unknown chart falls back to the pool chart rather than a blank frame.
        assert_eq!(parse("?embed=nope", "").embed.unwrap().chart, ChartId::Pool);
    }

    #[test]
    fn bad_links_give_messages() {
        let bad_escape = parse("", "#s=%7B%ZZ").scenario.unwrap().unwrap_err();
        assert!(bad_escape.contains("garbled"), "{bad_escape}");
        let cut = parse("", "#s=%7B%22a%22").scenario.unwrap().unwrap_err();
        assert_eq!(
            cut,
            "the link's scenario is not valid JSON: the text ends inside an object: a } is missing \
             (line 1, column 4)"
        );
        let truncated_escape = parse("", "#s=%7").scenario.unwrap().unwrap_err();
        assert!(truncated_escape.contains("garbled"));
    }

    // Links are untrusted input: fuzzed natively (proptest does not build for wasm32).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn any_text_round_trips(text in ".*") {
            proptest::prop_assert_eq!(decode(&encode(&text)), Some(text));
        }

        #[test]
        fn no_link_panics(search in ".*", hash in ".*") {
            let _ = parse(&search, &hash);
        }

        /// Scenario-shaped links with wrong keys, types and values: each is read and then
        /// validated (as the page does) without a panic.
        #[test]
        fn any_scenario_in_a_link_is_checked_without_panic(
            json in r#"\{("(app|pool|max_size|duration|faults|kind|at|seed|database|workload|arrivals|rate_per_s)": ?(-?[0-9]{1,20}(\.[0-9]+)?|"[0-9a-z]{0,6}"|null|true|\[\]|\{\}),? ?){0,6}\}"#,
        ) {
            if let Some(Ok(value)) = parse("", &hash(&serde_json::from_str(&json).unwrap_or(json!({"x": json})))).scenario {
                let _ = crate::state::check(&value);
            }
        }

        #[test]
        fn escaped_links_of_any_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let garbled: String = bytes.iter().map(|b| format!("%{b:02x}")).collect();
            let _ = parse("?embed=%ff", &format!("#s={garbled}"));
        }
    }
}

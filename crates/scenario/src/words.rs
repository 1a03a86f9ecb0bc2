//! serde's and serde_json's messages in the words a person uses.
//!
//! serde writes "invalid type: string \"x\", expected u32" and "unknown variant `x`,
//! expected one of `a`, `b`"; a person reads "must be a whole number from 0 to
//! 4,294,967,295, not the text \"x\"" and "\"x\" is not one of a, b". The rewrite is by the
//! messages' fixed forms (serde's `de::Error` defaults and serde_json's error codes); the
//! tests produce each form from a real input, so a dependency that changes its wording
//! fails them. A message of no known form is kept as it is.

/// `message` from serde or serde_json, in plain words.
pub(crate) fn plain(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        return must_be(rest);
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        return must_be(rest);
    }
    if let Some(rest) = message.strip_prefix("invalid length ")
        && let Some((_, expected)) = rest.split_once(", expected ")
    {
        return format!("must be {}", thing(expected));
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (name, choices) = split_choices(rest);
        return match choices {
            Some(choices) => format!("unknown field \"{name}\"; the fields here are {choices}"),
            None => format!("unknown field \"{name}\"; nothing is set here"),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (name, choices) = split_choices(rest);
        return match choices {
            Some(choices) => format!("\"{name}\" is not one of {choices}"),
            None => format!("\"{name}\" is not a choice here"),
        };
    }
    if let Some(name) = message.strip_prefix("missing field ") {
        return format!("needs \"{}\"", unquote(name));
    }
    if let Some(name) = message.strip_prefix("duplicate field ") {
        return format!("\"{}\" is given twice", unquote(name));
    }
    syntax(message).map_or_else(|| message.to_owned(), str::to_owned)
}

/// Whether `message` (from a scenario's error) says a value has the wrong type or is out of
/// its type's range: the form [`must_be`] writes.
pub fn is_type_error(message: &str) -> bool {
    message.starts_with("must be ") && message.contains(", not ")
}

/// "string \"x\", expected u32" as "must be a whole number ..., not the text \"x\"".
fn must_be(rest: &str) -> String {
    match rest.split_once(", expected ") {
        Some((got, expected)) => format!("must be {}, not {}", thing(expected), given(got)),
        None => rest.to_owned(),
    }
}

/// What serde says it expected, as a person names it.
fn thing(expected: &str) -> String {
    let named = match expected {
        "u32" => "a whole number from 0 to 4,294,967,295",
        "u64" => "a whole number from 0 to 18,446,744,073,709,551,615",
        "i32" | "i64" => "a whole number",
        "f32" | "f64" => "a number",
        "a string" | "a borrowed string" | "a string or a unit" => "text in quotes",
        "a boolean" => "true or false",
        "a sequence" => "a list [...]",
        "a map" => "an object {...}",
        "variant identifier" | "field identifier" => "a name in quotes",
        "option" => "a value or null",
        _ => "",
    };
    if !named.is_empty() {
        return named.to_owned();
    }
    if let Some(name) = expected.strip_prefix("internally tagged enum ") {
        return format!("an object {{\"kind\": ...}} ({})", words_of(name));
    }
    if let Some(name) = expected.strip_prefix("struct variant ") {
        return format!("an object {{...}} ({})", words_of(name));
    }
    if let Some(name) = expected.strip_prefix("struct ") {
        return format!("an object {{...}} ({})", words_of(name));
    }
    if let Some(name) = expected.strip_prefix("enum ") {
        return format!("one of the {} names in quotes", words_of(name));
    }
    if let Some(len) = expected.strip_suffix(" elements in sequence") {
        return format!("a list of {len}");
    }
    expected.to_owned()
}

/// serde's "Unexpected" forms: `string "x"`, `integer `-3``, `floating point `2.5``, `map`.
fn given(got: &str) -> String {
    if let Some(text) = got.strip_prefix("string ") {
        return format!("the text {text}");
    }
    for prefix in ["integer ", "floating point ", "boolean ", "character "] {
        if let Some(value) = got.strip_prefix(prefix) {
            return unquote(value).to_owned();
        }
    }
    match got {
        "map" => "an object {...}".to_owned(),
        "sequence" => "a list [...]".to_owned(),
        "null" | "unit value" => "null".to_owned(),
        other => other.to_owned(),
    }
}

/// "`x`, expected one of `a`, `b`" as ("x", Some("a, b")); "there are no ..." as None.
fn split_choices(rest: &str) -> (&str, Option<String>) {
    match rest.split_once(", expected ") {
        Some((name, choices)) => {
            let choices = choices.strip_prefix("one of ").unwrap_or(choices);
            let list = choices
                .split(", ")
                .flat_map(|c| c.split(" or "))
                .map(unquote)
                .collect::<Vec<_>>()
                .join(", ");
            (unquote(name), Some(list))
        }
        None => (unquote(rest.split(", ").next().unwrap_or(rest)), None),
    }
}

fn unquote(text: &str) -> &str {
    text.trim_matches('`')
}

/// `Fault` as "fault", `RateStep` as "rate step", `Fault::DbOutage` as "db outage".
fn words_of(rust_name: &str) -> String {
    let name = rust_name.rsplit("::").next().unwrap_or(rust_name);
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// serde_json's syntax errors (its `ErrorCode`s), as a person would say them.
fn syntax(message: &str) -> Option<&'static str> {
    Some(match message {
        "EOF while parsing a list" => "the text ends inside a list: a ] is missing",
        "EOF while parsing an object" => "the text ends inside an object: a } is missing",
        "EOF while parsing a string" => "the text ends inside a string: a \" is missing",
        "EOF while parsing a value" => "the text ends where a value should be",
        "expected `:`" => "missing : after the field name",
        "expected `,` or `]`" => "missing , or ] after a list item",
        "expected `,` or `}`" => "missing , or } after a field",
        "expected ident" => "unknown word: JSON values are numbers, \"text\", true, false or null",
        // Also what serde_json says when a name field (an enum) gets a number or a list.
        "expected value" => "no value this field takes starts here",
        "expected `\"`" => "missing field name in double quotes",
        "invalid escape" => "a backslash starts an escape JSON does not have",
        "invalid number" => "not a number JSON can read",
        "number out of range" => "this number is too large for any field",
        "invalid unicode code point" => "a \\u escape names no character",
        "control character (\\u0000-\\u001F) found while parsing a string" => {
            "a string holds a raw control character (write it as a \\u escape)"
        }
        "key must be a string" => "field names must be in double quotes",
        "lone leading surrogate in hex escape" | "unexpected end of hex escape" => {
            "a \\u escape is cut short"
        }
        "trailing comma" => "a comma has nothing after it",
        "trailing characters" => "there is text after the scenario's closing }",
        "recursion limit exceeded" => "nested more than 128 levels deep",
        _ => return None,
    })
}

/// `1234567` → `"1,234,567"`.
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

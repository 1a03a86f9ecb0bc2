//! Deterministic random input: a case's generator is seeded by the run's seed and the case's
//! number alone, so any failure is reproduced with `--seed S --case N`.

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::{Map, Value, json};

#[derive(Debug)]
pub struct Gen(Xoshiro256PlusPlus);

impl Gen {
    pub fn new(seed: u64, case: u64) -> Gen {
        Gen(Xoshiro256PlusPlus::seed_from_u64(
            seed ^ case.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ))
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }

    /// True once in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.0.next_u64() % (hi - lo + 1)
    }

    /// A short string of characters that matter to parsers, with some arbitrary ones.
    pub fn junk(&mut self, max: usize) -> String {
        const CHARS: &[char] = &[
            '{',
            '}',
            '[',
            ']',
            '"',
            '\\',
            ':',
            ',',
            '=',
            '.',
            '%',
            '#',
            '&',
            '\n',
            ' ',
            '\t',
            '0',
            '9',
            '-',
            '+',
            'e',
            'm',
            's',
            'u',
            'x',
            '\u{0}',
            '\u{feff}',
            'é',
            '\u{10ffff}',
        ];
        let n = self.below(max + 1);
        (0..n)
            .map(|_| {
                if self.one_in(8) {
                    char::from_u32(self.range(0, 0x10_FFFF) as u32).unwrap_or('?')
                } else {
                    *self.pick(CHARS)
                }
            })
            .collect()
    }

    /// `text` cut, spliced or sprinkled with junk at a character boundary.
    pub fn mangle(&mut self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let at = self.below(chars.len() + 1);
        let (head, tail) = chars.split_at(at);
        let head: String = head.iter().collect();
        let tail: String = tail.iter().collect();
        match self.below(4) {
            0 => head,
            1 => format!("{head}{}{tail}", self.junk(6)),
            2 => format!(
                "{head}{}",
                tail.chars().skip(1 + self.below(8)).collect::<String>()
            ),
            _ => format!("{head}{head}{tail}"),
        }
    }
}

/// Values that sit on the edges of what the scenario's fields take.
fn atom(g: &mut Gen, kinds: &[String]) -> Value {
    match g.below(24) {
        0 => json!(0),
        1 => json!(1),
        2 => json!(-1),
        3 => json!(4_294_967_296u64),
        4 => json!(u64::MAX),
        5 => json!(1e308),
        6 => json!(0.5),
        7 => json!(g.range(0, 100_000)),
        8 => json!("0s"),
        9 => json!("1us"),
        10 => json!("18446744073709551615us"),
        11 => json!(g.pick(&["1m1m", "30s1m", "-1s", "1.5s", "", "10 minutes", "5"])),
        12 => json!(format!(
            "{}{}",
            g.range(0, 10_000),
            g.pick(&["us", "ms", "s", "m", "h"])
        )),
        13 => json!(g.pick(&["720h", "1h", "24h"])),
        14 => Value::Bool(g.one_in(2)),
        15 => Value::Null,
        16 => json!([]),
        17 => json!({}),
        18 => json!([5]),
        19 => json!(g.pick(&["round_robin", "least_connections", "random"])),
        20 if !kinds.is_empty() => json!(g.pick(kinds)),
        21 => json!({"kind": "constant", "value": "1ms"}),
        _ => json!(g.junk(8)),
    }
}

/// A value of the same kind close to `value`: a number scaled or nudged, a duration
/// with another count of the same unit. Most such changes keep a scenario valid, so the
/// engine runs what the edges of validation let through.
fn nearby(g: &mut Gen, value: &Value) -> Option<Value> {
    match value {
        Value::Number(n) => {
            let x = n.as_f64()?;
            let factor = *g.pick(&[0.0, 0.5, 0.9, 1.1, 2.0, 10.0, 100.0]);
            if n.is_u64() {
                Some(json!(((x * factor) as u64).saturating_add(g.range(0, 2))))
            } else {
                Some(json!(x * factor))
            }
        }
        Value::String(text) => {
            let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
            let unit = &text[digits.len()..];
            if digits.is_empty() || !["us", "ms", "s", "m", "h"].contains(&unit) {
                return None;
            }
            let count: u64 = digits.parse().ok()?;
            let count = match g.below(4) {
                0 => 0,
                1 => count / 2,
                2 => count.saturating_mul(2),
                _ => count + g.range(1, 10),
            };
            Some(json!(format!("{count}{unit}")))
        }
        _ => None,
    }
}

/// Every node's JSON pointer (the root is "").
fn pointers(value: &Value, here: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(
                    v,
                    format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}

/// Applies one to four structural mutations to `value`: a node replaced by an edge value,
/// removed, duplicated, wrapped in a list, given an unknown key or another `kind`.
pub fn mutate(g: &mut Gen, value: &mut Value, kinds: &[String]) {
    let count = if g.one_in(3) { 2 + g.below(3) } else { 1 };
    for _ in 0..count {
        let mut all = Vec::new();
        pointers(value, String::new(), &mut all);
        let at = g.pick(&all).clone();
        let (parent, last) = match at.rsplit_once('/') {
            Some((parent, last)) => (
                parent.to_owned(),
                last.replace("~1", "/").replace("~0", "~"),
            ),
            None => (String::new(), String::new()),
        };
        let op = g.below(7);
        let new = atom(g, kinds);
        let Some(node) = value.pointer_mut(&at) else {
            continue;
        };
        match op {
            0 => *node = nearby(g, node).unwrap_or(new),
            1 => *node = new,
            2 => *node = json!([node.take()]),
            3 => {
                if let Value::Object(map) = node {
                    map.insert(
                        g.pick(&["kind", "bogus_field", "at", "value"]).to_string(),
                        new,
                    );
                } else if let Value::Array(items) = node {
                    let copy = items.get(g.below(items.len().max(1))).cloned();
                    items.push(copy.unwrap_or(new));
                }
            }
            4 if !kinds.is_empty() => {
                if let Value::Object(map) = node {
                    map.insert("kind".into(), json!(g.pick(kinds)));
                }
            }
            _ => match value.pointer_mut(&parent) {
                Some(Value::Object(map)) => {
                    map.remove(&last);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = last.parse::<usize>()
                        && i < items.len()
                    {
                        items.remove(i);
                    }
                }
                _ => {}
            },
        }
    }
}

/// Every `kind` written in `values`, once each, in sorted order.
pub fn kinds(values: &[Value]) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(k)) = map.get("kind") {
                    out.push(k.clone());
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    values.iter().for_each(|v| walk(v, &mut out));
    out.sort();
    out.dedup();
    out
}

/// `value` as JSON text with every object's keys in reverse order (serde_json's maps are
/// sorted, so this is the only way to write another key order).
pub fn reversed_keys(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), reversed_keys(v)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(reversed_keys).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// An empty object, for callers that need a root to set paths into.
pub fn object() -> Value {
    Value::Object(Map::new())
}

//! Java properties as `java.util.Properties.load` reads them: a line ending in an odd number
//! of backslashes continues on the next (whose leading whitespace is dropped); `#` or `!`
//! first on a line starts a comment; the key ends at the first unescaped `=`, `:` or
//! whitespace, and one `=` or `:` after whitespace is part of the separator; `\uXXXX`, `\t`,
//! `\n`, `\r`, `\f` are escapes and a backslash before any other character keeps it.

use super::{ConfigError, Setting, error, setting};

/// A logical line: its text with continuations joined, and the line it starts on.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let (start, mut line) = match current.take() {
            Some((start, so_far)) => (start, so_far + raw.trim_start_matches([' ', '\t', '\x0c'])),
            None => {
                let body = raw.trim_start_matches([' ', '\t', '\x0c']);
                if body.is_empty() || body.starts_with('#') || body.starts_with('!') {
                    continue;
                }
                (i + 1, body.to_owned())
            }
        };
        let trailing = line.len() - line.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            line.pop();
            current = Some((start, line));
        } else {
            out.push((start, line));
        }
    }
    out.extend(current);
    out
}

/// The key and the value of one logical line, escapes still in.
fn split(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => break,
            _ => i += 1,
        }
    }
    let key_end = i.min(bytes.len());
    let rest = line[key_end..].trim_start_matches([' ', '\t', '\x0c']);
    let rest = rest
        .strip_prefix(['=', ':'])
        .map_or(rest, |r| r.trim_start_matches([' ', '\t', '\x0c']));
    (&line[..key_end], rest)
}

/// `s` with its escapes resolved; an error for a malformed `\uXXXX`.
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| {
                        format!("\"\\u{hex}\" is not a \\u escape of four hex digits")
                    })?;
                // Surrogate halves (a pair spelling one character) are kept as the
                // replacement character: no pool setting is written with them.
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

pub fn parse(file: &str, text: &str) -> Result<Vec<Setting>, ConfigError> {
    let mut out = Vec::new();
    for (line, logical) in logical_lines(text) {
        let (key, value) = split(&logical);
        let key = unescape(key).map_err(|m| error(file, line, m))?;
        let value = unescape(value).map_err(|m| error(file, line, m))?;
        out.push(setting(file, &key, value.trim(), line));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String, usize)> {
        parse("a.properties", text)
            .unwrap()
            .into_iter()
            .map(|s| (s.written, s.value, s.line))
            .collect()
    }

    fn one(key: &str, value: &str, line: usize) -> (String, String, usize) {
        (key.to_owned(), value.to_owned(), line)
    }

    /// The examples of `java.util.Properties.load`'s documentation.
    #[test]
    fn the_specifications_examples() {
        for text in [
            "Truth = Beauty\n",
            "  Truth:Beauty\n",
            "Truth                    :Beauty\n",
        ] {
            assert_eq!(pairs(text), [one("Truth", "Beauty", 1)], "{text:?}");
        }
        assert_eq!(
            pairs(
                "fruits                           apple, banana, pear, \\\n                                  cantaloupe, watermelon, \\\n                                  kiwi, mango\n"
            ),
            [one(
                "fruits",
                "apple, banana, pear, cantaloupe, watermelon, kiwi, mango",
                1
            )]
        );
        assert_eq!(pairs("cheeses\n"), [one("cheeses", "", 1)]);
        assert_eq!(pairs("\\:\\=\\ key = v\n"), [one(":= key", "v", 1)]);
    }

    #[test]
    fn comments_escapes_and_separators() {
        assert_eq!(
            pairs("# c\n! c\n\n   \nmaximum\\u002DPool\\u002dSize 80\r\nx:=y\nk\\\\=v\n"),
            [
                one("maximum-Pool-Size", "80", 5),
                one("x", "=y", 6),
                one("k\\", "v", 7),
            ]
        );
        // An even number of trailing backslashes does not continue the line.
        assert_eq!(
            pairs("a=b\\\\\nc=d\n"),
            [one("a", "b\\", 1), one("c", "d", 2)]
        );
        // A comment character on a continuation line is data.
        assert_eq!(pairs("a=1\\\n  #2\n"), [one("a", "1#2", 1)]);
        assert!(
            parse("a.properties", "k=\\u12G4\n")
                .unwrap_err()
                .to_string()
                .starts_with("a.properties:1: ")
        );
    }
}

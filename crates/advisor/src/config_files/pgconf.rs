//! `postgresql.conf` as PostgreSQL reads it: one `name [=] value` per line, names case-blind,
//! values a single-quoted string (`''` or `\'` for a quote) or one bare word (`500`, `4GB`,
//! `on`), `#` to the end of the line a comment; `include`, `include_if_exists` and
//! `include_dir` read other files at that point, ten deep at most, and a later setting wins.

use super::{ConfigError, Setting, error, setting, without_bom};

/// PostgreSQL's own nesting limit for included files.
const MAX_DEPTH: usize = 10;

/// What an include directive asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Include {
    /// `include 'file'`: the file must exist.
    File,
    /// `include_if_exists 'file'`: skipped if missing.
    IfExists,
    /// `include_dir 'dir'`: its `*.conf` files in name order.
    Dir,
}

/// Finds included files: `(including file, path as written, kind)` to `(name, text)` pairs,
/// or a message saying why not.
pub type Resolver<'a> =
    dyn FnMut(&str, &str, Include) -> Result<Vec<(String, String)>, String> + 'a;

pub fn parse(
    file: &str,
    text: &str,
    resolve: &mut Resolver<'_>,
    depth: usize,
) -> Result<Vec<Setting>, ConfigError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let Some((name, value)) = line(raw).map_err(|m| error(file, n, m))? else {
            continue;
        };
        let kind = match name.to_ascii_lowercase().as_str() {
            "include" => Include::File,
            "include_if_exists" => Include::IfExists,
            "include_dir" => Include::Dir,
            _ => {
                out.push(setting(file, name, &value, n));
                continue;
            }
        };
        if depth >= MAX_DEPTH {
            return Err(error(
                file,
                n,
                format!("{name} '{value}': files include each other more than {MAX_DEPTH} deep"),
            ));
        }
        let included = resolve(file, &value, kind).map_err(|m| error(file, n, m))?;
        for (inner, text) in included {
            out.extend(parse(&inner, without_bom(&text), resolve, depth + 1)?);
        }
    }
    Ok(out)
}

/// One line's setting, `None` for a blank or comment line.
fn line(raw: &str) -> Result<Option<(&str, String)>, String> {
    let s = raw.trim_start();
    if s.is_empty() || s.starts_with('#') {
        return Ok(None);
    }
    let name_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$')))
        .unwrap_or(s.len());
    let name = &s[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return Err(format!(
            "expected a setting's name, found \"{}\"",
            s.trim_end()
        ));
    }
    let rest = s[name_end..].trim_start();
    let rest = rest.strip_prefix('=').map_or(rest, str::trim_start);
    let (value, after) = if let Some(quoted) = rest.strip_prefix('\'') {
        quoted_string(quoted).ok_or_else(|| format!("{name}: the quoted value is not closed"))?
    } else {
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '#')
            .unwrap_or(rest.len());
        if end == 0 {
            return Err(format!("{name} has no value"));
        }
        (rest[..end].to_owned(), &rest[end..])
    };
    let after = after.trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return Err(format!(
            "{name}: unexpected \"{}\" after the value",
            after.trim_end()
        ));
    }
    Ok(Some((name, value)))
}

/// The text of a single-quoted string whose opening quote is gone, and what follows it.
fn quoted_string(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' if chars.peek().is_some_and(|&(_, c)| c == '\'') => {
                chars.next();
                out.push('\'');
            }
            '\'' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_includes(_: &str, path: &str, _: Include) -> Result<Vec<(String, String)>, String> {
        Err(format!("no {path} here"))
    }

    fn values(text: &str) -> Vec<(String, String)> {
        parse("postgresql.conf", text, &mut no_includes, 0)
            .unwrap()
            .into_iter()
            .map(|s| (s.written, s.value))
            .collect()
    }

    /// The forms of PostgreSQL's documentation, "Parameter Interaction via the Configuration File".
    #[test]
    fn the_documented_forms() {
        let got = values(
            "# This is a comment\nlog_connections = yes\nlog_destination = 'syslog'\n\
             search_path = '\"$user\", public'\nshared_buffers = 128MB\nmax_connections 500\n\
             MAX_CONNECTIONS=600 # later wins\nquote = 'it''s \\'here\\''\n",
        );
        let pairs: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("log_connections", "yes"),
                ("log_destination", "syslog"),
                ("search_path", "\"$user\", public"),
                ("shared_buffers", "128MB"),
                ("max_connections", "500"),
                ("MAX_CONNECTIONS", "600"),
                ("quote", "it's 'here'"),
            ]
        );
    }

    #[test]
    fn bad_lines_are_errors_at_their_line() {
        for (text, message) in [
            (
                "a = 1\nmax_connections = 'open\n",
                "postgresql.conf:2: max_connections: the quoted value is not closed",
            ),
            (
                "max_connections = 5 6\n",
                "postgresql.conf:1: max_connections: unexpected \"6\" after the value",
            ),
            (
                "= 5\n",
                "postgresql.conf:1: expected a setting's name, found \"= 5\"",
            ),
            (
                "max_connections =\n",
                "postgresql.conf:1: max_connections has no value",
            ),
            (
                "include 'other.conf'\n",
                "postgresql.conf:1: no other.conf here",
            ),
        ] {
            let e = parse("postgresql.conf", text, &mut no_includes, 0).unwrap_err();
            assert_eq!(e.to_string(), message, "{text:?}");
        }
    }

    #[test]
    fn includes_are_read_in_place_and_bounded() {
        let mut resolve = |_: &str, path: &str, kind: Include| match (path, kind) {
            ("conf.d", Include::Dir) => Ok(vec![
                (
                    "conf.d/10.conf".to_owned(),
                    "max_connections = 300\n".to_owned(),
                ),
                (
                    "conf.d/20.conf".to_owned(),
                    "superuser_reserved_connections = 5\n".to_owned(),
                ),
            ]),
            ("missing.conf", Include::IfExists) => Ok(vec![]),
            ("self.conf", Include::File) => Ok(vec![(
                "self.conf".to_owned(),
                "include 'self.conf'\n".to_owned(),
            )]),
            _ => Err(format!("unexpected {path}")),
        };
        let got = parse(
            "postgresql.conf",
            "max_connections = 100\ninclude_dir 'conf.d'\ninclude_if_exists = 'missing.conf'\n",
            &mut resolve,
            0,
        )
        .unwrap();
        let got: Vec<(&str, &str, usize)> = got
            .iter()
            .map(|s| (s.file.as_str(), s.value.as_str(), s.line))
            .collect();
        assert_eq!(
            got,
            [
                ("postgresql.conf", "100", 1),
                ("conf.d/10.conf", "300", 1),
                ("conf.d/20.conf", "5", 1)
            ]
        );
        let e = parse("postgresql.conf", "include 'self.conf'\n", &mut resolve, 0).unwrap_err();
        assert!(e.to_string().contains("more than 10 deep"), "{e}");
    }
}

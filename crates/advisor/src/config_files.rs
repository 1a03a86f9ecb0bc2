//! Reading real configuration: HikariCP properties, Spring Boot `application.properties`
//! and `application.yml` (`spring.datasource.hikari.*`), and PostgreSQL's `postgresql.conf`
//! (`max_connections`, `superuser_reserved_connections`). Every error names the file and
//! the line.
//!
//! Keys are matched the way Spring's relaxed binding does: `maximum-pool-size`,
//! `maximumPoolSize` and `MAXIMUM_POOL_SIZE` are the same setting; a
//! `spring.datasource.hikari.` prefix is optional. Times are HikariCP's milliseconds.
//! YAML is read as the subset Spring configuration uses (nested maps of scalars, comments,
//! `---` documents); anything else is an error at its line.

use std::fmt;

use poolsim_scenario::{Duration, PoolPatch};

/// A value from a file, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// Normalised key: lower case, no separators (`maximumpoolsize`).
    pub key: String,
    /// The key as written, for messages.
    pub written: String,
    pub value: String,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// What the files say about the pool and the database.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoundConfig {
    pub pool: PoolPatch,
    pub max_connections: Option<u32>,
    pub reserved_connections: Option<u32>,
    /// Where each setting came from (`app.properties:3 maximumPoolSize=80`), in file order.
    pub sources: Vec<String>,
}

/// Settings of a `key=value` / `key: value` file. `inline_comments`: a `#` after whitespace
/// starts a comment (postgresql.conf); in Java properties it is part of the value.
pub fn parse_flat(
    file: &str,
    text: &str,
    inline_comments: bool,
) -> Result<Vec<Setting>, ConfigError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let split = line
            .find(['=', ':'])
            .ok_or_else(|| error(file, i + 1, format!("expected key=value, found \"{line}\"")))?;
        let (key, value) = (line[..split].trim(), line[split + 1..].trim());
        if key.is_empty() {
            return Err(error(file, i + 1, "a setting with no name".to_owned()));
        }
        let value = if inline_comments {
            strip_comment(value).trim()
        } else {
            value
        };
        out.push(setting(key, unquote(value), i + 1));
    }
    Ok(out)
}

/// Settings of a Spring `application.yml`: nested keys joined with dots.
pub fn parse_yaml(file: &str, text: &str) -> Result<Vec<Setting>, ConfigError> {
    let mut out = Vec::new();
    // The open maps: (indent, key).
    let mut path: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let content = strip_comment(raw);
        if content.trim().is_empty() {
            continue;
        }
        if content.trim() == "---" {
            path.clear();
            continue;
        }
        if content.contains('\t') {
            return Err(error(
                file,
                n,
                "YAML indentation must use spaces, not tabs".to_owned(),
            ));
        }
        let indent = content.len() - content.trim_start().len();
        let body = content.trim();
        if body.starts_with('-') || body.starts_with('[') || body.starts_with('{') {
            return Err(error(
                file,
                n,
                "lists and flow collections are not read here; pool settings are plain keys"
                    .to_owned(),
            ));
        }
        let Some(colon) = body.find(':') else {
            return Err(error(
                file,
                n,
                format!("expected \"key: value\", found \"{body}\""),
            ));
        };
        let (key, value) = (body[..colon].trim(), body[colon + 1..].trim());
        if key.is_empty() {
            return Err(error(file, n, "a key with no name".to_owned()));
        }
        while path.last().is_some_and(|&(at, _)| at >= indent) {
            path.pop();
        }
        if value.is_empty() {
            path.push((indent, key.to_owned()));
            continue;
        }
        let mut full: Vec<&str> = path.iter().map(|(_, k)| k.as_str()).collect();
        full.push(key);
        out.push(setting(&full.join("."), unquote(value), n));
    }
    Ok(out)
}

/// The text before a comment: a `#` at the start or after whitespace (not inside a word).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

fn setting(key: &str, value: &str, line: usize) -> Setting {
    let last = key
        .to_ascii_lowercase()
        .trim_start_matches("spring.datasource.hikari.")
        .to_owned();
    Setting {
        key: last
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect(),
        written: key.to_owned(),
        value: value.to_owned(),
        line,
    }
}

fn error(file: &str, line: usize, message: String) -> ConfigError {
    ConfigError {
        file: file.to_owned(),
        line,
        message,
    }
}

/// Reads the pool and database settings found in `settings` (of `file`) into `found`.
/// Unknown keys are ignored (an application.properties holds much else); known keys with bad
/// values are errors.
pub fn apply(file: &str, settings: &[Setting], found: &mut FoundConfig) -> Result<(), ConfigError> {
    for s in settings {
        let bad = |what: &str| {
            error(
                file,
                s.line,
                format!("{}: \"{}\" {what}", s.written, s.value),
            )
        };
        let count = || {
            s.value
                .parse::<u32>()
                .map_err(|_| bad("is not a whole number"))
        };
        let millis = || {
            s.value
                .parse::<u64>()
                .ok()
                .and_then(|ms| ms.checked_mul(1_000))
                .map(Duration::from_us)
                .ok_or_else(|| bad("is not a whole number of milliseconds (up to 2^64 us)"))
        };
        let pool = &mut found.pool;
        match s.key.as_str() {
            "maximumpoolsize" => pool.max_size = Some(count()?),
            "minimumidle" => pool.min_idle = Some(count()?),
            "connectiontimeout" => pool.connection_timeout = Some(millis()?),
            "idletimeout" => pool.idle_timeout = Some(millis()?),
            "maxlifetime" => pool.max_lifetime = Some(millis()?),
            "leakdetectionthreshold" => pool.leak_detection_threshold = Some(millis()?),
            "maxconnections" => found.max_connections = Some(count()?),
            "superuserreservedconnections" => found.reserved_connections = Some(count()?),
            _ => continue,
        }
        found
            .sources
            .push(format!("{file}:{} {}={}", s.line, s.written, s.value));
    }
    Ok(())
}

/// Reads one file, choosing the parser by its name: `.yml`/`.yaml` as YAML, `.conf` as
/// postgresql.conf, anything else as Java properties.
pub fn read(file: &str, text: &str, found: &mut FoundConfig) -> Result<(), ConfigError> {
    let settings = if file.ends_with(".yml") || file.ends_with(".yaml") {
        parse_yaml(file, text)?
    } else {
        parse_flat(file, text, file.ends_with(".conf"))?
    };
    apply(file, &settings, found)
}

impl fmt::Display for FoundConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for source in &self.sources {
            writeln!(f, "  {source}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(file: &str, text: &str) -> Result<FoundConfig, ConfigError> {
        let mut f = FoundConfig::default();
        read(file, text, &mut f)?;
        Ok(f)
    }

    #[test]
    fn spring_properties_with_relaxed_names() {
        let f = found(
            "application.properties",
            "# pool\nspring.datasource.url=jdbc:postgresql://db/app\n\
             spring.datasource.hikari.maximum-pool-size=80\n\
             spring.datasource.hikari.connectionTimeout = 30000\n\
             spring.datasource.hikari.MINIMUM_IDLE: 10\n",
        )
        .unwrap();
        assert_eq!(f.pool.max_size, Some(80));
        assert_eq!(f.pool.min_idle, Some(10));
        assert_eq!(f.pool.connection_timeout, Some(Duration::from_secs(30)));
        assert_eq!(
            f.sources[0],
            "application.properties:3 spring.datasource.hikari.maximum-pool-size=80"
        );
    }

    #[test]
    fn spring_yaml_nested_keys() {
        let f = found(
            "application.yml",
            "spring:\n  datasource:\n    url: jdbc:postgresql://db/app # primary\n    hikari:\n      \
             maximum-pool-size: 40\n      max-lifetime: \"1800000\"\n---\nserver:\n  port: 8080\n",
        )
        .unwrap();
        assert_eq!(f.pool.max_size, Some(40));
        assert_eq!(f.pool.max_lifetime, Some(Duration::from_secs(1800)));
    }

    #[test]
    fn postgresql_conf() {
        let f = found(
            "postgresql.conf",
            "max_connections = 500\t\t\t# (change requires restart)\n\
             superuser_reserved_connections = 3\nshared_buffers = '4GB'\n",
        )
        .unwrap();
        assert_eq!(
            (f.max_connections, f.reserved_connections),
            (Some(500), Some(3))
        );
    }

    #[test]
    fn a_timeout_too_large_for_microseconds_is_an_error_not_an_overflow() {
        let e = found("app.properties", "connectionTimeout=18446744073709552\n").unwrap_err();
        assert!(e.to_string().starts_with("app.properties:1"), "{e}");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = found("app.properties", "a=1\nmaximumPoolSize=fifty\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "app.properties:2: maximumPoolSize: \"fifty\" is not a whole number"
        );
        let e = found("app.properties", "a=1\njust words\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "app.properties:2: expected key=value, found \"just words\""
        );
        let e = found("application.yml", "spring:\n  hikari:\n    - 3\n").unwrap_err();
        assert!(e.to_string().starts_with("application.yml:3: lists"), "{e}");
        let e = found("application.yml", "spring:\n\thikari: 3\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("application.yml:2: YAML indentation"),
            "{e}"
        );
    }
}

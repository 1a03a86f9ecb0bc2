//! Reading real configuration: HikariCP properties, Spring Boot `application.properties`
//! and `application.yml` (`spring.datasource.hikari.*`), and PostgreSQL's `postgresql.conf`
//! (`max_connections`, `superuser_reserved_connections`). Every error names the file and
//! the line.
//!
//! Keys are matched the way Spring's relaxed binding does: `maximum-pool-size`,
//! `maximumPoolSize` and `MAXIMUM_POOL_SIZE` are the same setting; a
//! `spring.datasource.hikari.` prefix is optional. Times are HikariCP's milliseconds.
//! Each format is read as its owner reads it (`properties.rs`, `yaml.rs`, `pgconf.rs`); a
//! key that configures the pool and cannot be read is an error at its line, never a default.

use std::collections::BTreeMap;
use std::fmt;

use poolsim_scenario::{Duration, PoolPatch};

mod pgconf;
mod properties;
mod yaml;

pub use pgconf::{Include, Resolver};

/// A value from a file, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The file it is in (an included file's own name).
    pub file: String,
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
    /// Where the value in force for each scenario field came from, by the field's path
    /// (`app.pool.max_size` → `app.properties:3 maximumPoolSize=80`): the last one, as for
    /// the value. A caller may add its own (a flag), so errors name what a person wrote.
    pub origins: BTreeMap<String, String>,
}

/// The settings of `text`, a file named `file`, by its kind.
fn parse(file: &str, text: &str, resolve: &mut Resolver<'_>) -> Result<Vec<Setting>, ConfigError> {
    let text = without_bom(text);
    if file.ends_with(".yml") || file.ends_with(".yaml") {
        yaml::parse(file, text)
    } else if file.ends_with(".conf") {
        pgconf::parse(file, text, resolve, 0)
    } else {
        properties::parse(file, text)
    }
}

/// `text` without a leading UTF-8 byte-order mark, which editors on Windows write and every
/// format here ignores.
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The keys [`apply`] reads, normalised.
const POOL_KEYS: [&str; 8] = [
    "maximumpoolsize",
    "minimumidle",
    "connectiontimeout",
    "idletimeout",
    "maxlifetime",
    "leakdetectionthreshold",
    "maxconnections",
    "superuserreservedconnections",
];

/// `key` as matched: lower case, Spring's prefix gone (with dots or, as in environment
/// variables, underscores), separators dropped: `maximumpoolsize`.
fn normalise(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    let last = ["spring.datasource.hikari.", "spring_datasource_hikari_"]
        .iter()
        .find_map(|prefix| lower.strip_prefix(prefix))
        .unwrap_or(&lower);
    last.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '[' | ']'))
        .collect()
}

/// Whether `key` configures the pool or the database (so it must be readable).
fn is_pool_key(key: &str) -> bool {
    POOL_KEYS.contains(&normalise(key).as_str())
}

fn setting(file: &str, key: &str, value: &str, line: usize) -> Setting {
    Setting {
        file: file.to_owned(),
        key: normalise(key),
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
pub fn apply(settings: &[Setting], found: &mut FoundConfig) -> Result<(), ConfigError> {
    for s in settings {
        let bad = |what: &str| {
            error(
                &s.file,
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
        let field = match s.key.as_str() {
            "maximumpoolsize" => {
                pool.max_size = Some(count()?);
                "app.pool.max_size"
            }
            "minimumidle" => {
                pool.min_idle = Some(count()?);
                "app.pool.min_idle"
            }
            "connectiontimeout" => {
                pool.connection_timeout = Some(millis()?);
                "app.pool.connection_timeout"
            }
            "idletimeout" => {
                pool.idle_timeout = Some(millis()?);
                "app.pool.idle_timeout"
            }
            "maxlifetime" => {
                pool.max_lifetime = Some(millis()?);
                "app.pool.max_lifetime"
            }
            "leakdetectionthreshold" => {
                pool.leak_detection_threshold = Some(millis()?);
                "app.pool.leak_detection_threshold"
            }
            "maxconnections" => {
                found.max_connections = Some(count()?);
                "database.max_connections"
            }
            "superuserreservedconnections" => {
                found.reserved_connections = Some(count()?);
                "database.reserved_connections"
            }
            _ => continue,
        };
        let origin = format!("{}:{} {}={}", s.file, s.line, s.written, s.value);
        found.origins.insert(field.to_owned(), origin.clone());
        found.sources.push(origin);
    }
    Ok(())
}

/// Reads one file, choosing the parser by its name: `.yml`/`.yaml` as YAML, `.conf` as
/// postgresql.conf, anything else as Java properties. A postgresql.conf `include` is an
/// error here; [`read_with`] follows them.
pub fn read(file: &str, text: &str, found: &mut FoundConfig) -> Result<(), ConfigError> {
    read_with(file, text, found, &mut |_, path, _| {
        Err(format!("includes '{path}', which cannot be followed here"))
    })
}

/// [`read`], finding postgresql.conf's included files with `resolve`.
pub fn read_with(
    file: &str,
    text: &str,
    found: &mut FoundConfig,
    resolve: &mut Resolver<'_>,
) -> Result<(), ConfigError> {
    apply(&parse(file, text, resolve)?, found)
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
        let e = found(
            "application.yml",
            "spring:\n  datasource:\n    hikari:\n      maximum-pool-size:\n        - 3\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "application.yml:5: spring.datasource.hikari.maximum-pool-size is one value, not a list or a mapping"
        );
        let e = found("application.yml", "spring:\n\thikari: 3\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("application.yml:2: this is not valid YAML"),
            "{e}"
        );
        let e = found("application.yml", "a: 1\na: 2\n").unwrap_err();
        assert!(e.to_string().contains("not valid YAML"), "{e}");
    }

    /// Forms that a line-by-line reader took for HikariCP's default of 10 (issue 12): each
    /// must read the outage's 80.
    #[test]
    fn every_form_of_the_outages_pool_size_reads_80() {
        let yaml = [
            "spring:\n  datasource:\n    hikari: &pool\n      maximum-pool-size: 80\n",
            "spring:\n  datasource:\n    hikari: {maximum-pool-size: 80}\n",
            "spring:\n  datasource: {hikari: {maximum-pool-size: 80, minimum-idle: 5}}\n",
            "\u{feff}spring:\n  datasource:\n    hikari:\n      maximum-pool-size: 80\n",
            "defaults: &defaults\n  maximum-pool-size: 80\nspring:\n  datasource:\n    hikari:\n      <<: *defaults\n",
            "spring.datasource.hikari.maximum-pool-size: 80\n...\n",
            "spring:\n  datasource:\n    hikari:\n      \"maximumPoolSize\": !!int 80\n",
            "%YAML 1.2\n---\nspring:\n  datasource:\n    hikari:\n      maximum-pool-size: 0x50\n",
        ];
        for text in yaml {
            let f = found("application.yml", text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(f.pool.max_size, Some(80), "{text:?}");
        }
        let properties = [
            "spring.datasource.hikari.maximum\\u002Dpool\\u002Dsize=80\n",
            "\u{feff}spring.datasource.hikari.maximum-pool-size=80\n",
            "spring.datasource.hikari.maximum-pool-size 80\n",
            "spring.datasource.hikari.\\\n    maximum-pool-size = \\\n    80\n",
            "SPRING_DATASOURCE_HIKARI_MAXIMUM_POOL_SIZE=80\n",
        ];
        for text in properties {
            let f =
                found("application.properties", text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(f.pool.max_size, Some(80), "{text:?}");
        }
        // A merged mapping gives way to the mapping's own key.
        let f = found(
            "application.yml",
            "base: &b {maximum-pool-size: 10}\nspring:\n  datasource:\n    hikari:\n      <<: *b\n      maximum-pool-size: 80\n",
        )
        .unwrap();
        assert_eq!(f.pool.max_size, Some(80));
    }
}

//! Why a request failed: the one definition of a failure cause that the engine, the report,
//! the CSV, the CLI, the page's charts, legends, verdict, responders' panel and after-action
//! report all read. A new cause is one variant here; every exhaustive `match` on [`Cause`]
//! (its key, label, meaning, log line, and each consumer's colour or wording) then fails to
//! compile until it is handled, and every list of causes iterates [`Cause::ALL`].

use std::fmt;
use std::ops::{Index, IndexMut};

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The cause of a failed request: the cause of its last attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    PoolTimeout,
    ClientTimeout,
    DbRefused,
    StatementTimeout,
    Outage,
    Unavailable,
}

impl Cause {
    /// Every cause, in report order (the order of the summary's `failures` object).
    pub const ALL: [Cause; Cause::COUNT] = [
        Cause::PoolTimeout,
        Cause::ClientTimeout,
        Cause::DbRefused,
        Cause::StatementTimeout,
        Cause::Outage,
        Cause::Unavailable,
    ];
    pub const COUNT: usize = 6;

    /// Position in [`Cause::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Cause::PoolTimeout => 0,
            Cause::ClientTimeout => 1,
            Cause::DbRefused => 2,
            Cause::StatementTimeout => 3,
            Cause::Outage => 4,
            Cause::Unavailable => 5,
        }
    }

    /// The key in JSON and the suffix of CSV columns (`failed_db_refused`).
    pub const fn key(self) -> &'static str {
        match self {
            Cause::PoolTimeout => "pool_timeout",
            Cause::ClientTimeout => "client_timeout",
            Cause::DbRefused => "db_refused",
            Cause::StatementTimeout => "statement_timeout",
            Cause::Outage => "outage",
            Cause::Unavailable => "unavailable",
        }
    }

    /// A short label for legends, tables and the CLI.
    pub const fn label(self) -> &'static str {
        match self {
            Cause::PoolTimeout => "pool timeout",
            Cause::ClientTimeout => "client timeout",
            Cause::DbRefused => "too many clients",
            Cause::StatementTimeout => "statement timeout",
            Cause::Outage => "database unreachable",
            Cause::Unavailable => "no instance",
        }
    }

    /// One line on what happened to the request.
    pub const fn meaning(self) -> &'static str {
        match self {
            Cause::PoolTimeout => {
                "waited longer than connection_timeout for a pool connection while the database accepted connections"
            }
            Cause::ClientTimeout => "the client gave up after request_timeout",
            Cause::DbRefused => {
                "got no connection in time because the database refused new ones (\"too many clients\")"
            }
            Cause::StatementTimeout => "a query ran past the database's statement_timeout",
            Cause::Outage => {
                "the database was unreachable: a query broke or no connection could be opened"
            }
            Cause::Unavailable => {
                "no app instance was up to take it, or its instance shut down under it"
            }
        }
    }

    /// The log line a responder would see for it, in the form the software that prints it
    /// uses (HikariCP, PostgreSQL, the HTTP front). `connection_timeout_ms` fills HikariCP's.
    pub fn log_line(self, connection_timeout_ms: u64) -> String {
        match self {
            Cause::PoolTimeout => format!(
                "WARN  HikariPool-1 - Connection is not available, request timed out after {connection_timeout_ms}ms."
            ),
            Cause::ClientTimeout => "WARN  http - client gave up waiting (request_timeout)".into(),
            Cause::DbRefused => "FATAL: sorry, too many clients already".into(),
            Cause::StatementTimeout => "ERROR: canceling statement due to statement timeout".into(),
            Cause::Outage => {
                "ERROR HikariPool-1 - Exception during pool initialization: Connection refused"
                    .into()
            }
            Cause::Unavailable => {
                "ERROR http - 503 Service Unavailable: no healthy upstream".into()
            }
        }
    }

    pub fn parse(key: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.key() == key)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One value per cause, indexed by [`Cause`]. In JSON an object with every cause's key, in
/// [`Cause::ALL`] order (`{"pool_timeout": 0, "client_timeout": 0, ...}`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ByCause<T>(pub [T; Cause::COUNT]);

impl<T> ByCause<T> {
    /// Each cause with its value, in [`Cause::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Cause, &T)> {
        Cause::ALL.into_iter().zip(self.0.iter())
    }
}

impl ByCause<u64> {
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

impl<T> Index<Cause> for ByCause<T> {
    type Output = T;
    fn index(&self, cause: Cause) -> &T {
        &self.0[cause.index()]
    }
}

impl<T> IndexMut<Cause> for ByCause<T> {
    fn index_mut(&mut self, cause: Cause) -> &mut T {
        &mut self.0[cause.index()]
    }
}

impl<T: Serialize> Serialize for ByCause<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(Cause::COUNT))?;
        for (cause, value) in self.iter() {
            map.serialize_entry(cause.key(), value)?;
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for ByCause<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Causes<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for Causes<T> {
            type Value = ByCause<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with a value for each failure cause")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ByCause<T>, A::Error> {
                let mut out = ByCause::<T>::default();
                let mut seen = [false; Cause::COUNT];
                while let Some(key) = map.next_key::<String>()? {
                    let cause = Cause::parse(&key).ok_or_else(|| {
                        de::Error::custom(format!("unknown failure cause `{key}`"))
                    })?;
                    if std::mem::replace(&mut seen[cause.index()], true) {
                        return Err(de::Error::custom(format!("failure cause `{key}` twice")));
                    }
                    out[cause] = map.next_value()?;
                }
                match Cause::ALL.into_iter().find(|c| !seen[c.index()]) {
                    Some(missing) => Err(de::Error::custom(format!(
                        "failure cause `{}` missing",
                        missing.key()
                    ))),
                    None => Ok(out),
                }
            }
        }
        deserializer.deserialize_map(Causes(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_cause_at_its_index() {
        for (i, cause) in Cause::ALL.into_iter().enumerate() {
            assert_eq!(cause.index(), i);
            assert_eq!(Cause::parse(cause.key()), Some(cause));
        }
    }

    #[test]
    fn by_cause_is_an_object_of_every_cause() {
        let mut f = ByCause::<u64>::default();
        f[Cause::DbRefused] = 3;
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(
            json,
            r#"{"pool_timeout":0,"client_timeout":0,"db_refused":3,"statement_timeout":0,"outage":0,"unavailable":0}"#
        );
        assert_eq!(serde_json::from_str::<ByCause<u64>>(&json).unwrap(), f);
        let missing = r#"{"pool_timeout":0}"#;
        let err = serde_json::from_str::<ByCause<u64>>(missing).unwrap_err();
        assert!(err.to_string().contains("client_timeout"), "{err}");
    }
}

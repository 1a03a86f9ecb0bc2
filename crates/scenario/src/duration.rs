//! Durations as the scenario file writes them: a number and a unit (`"250us"`, `"4ms"`,
//! `"1.5s"`, `"10m"`, `"2h"`), or several such terms (`"1m30s"`).
//!
//! Parsing is exact integer arithmetic: `"0.1s"` is 100 000 µs, never 99 999. A value that is
//! not a whole number of microseconds, or that overflows, is an error.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A span of simulated time, in whole microseconds.
///
/// `Duration::ZERO` in a timeout field means "never" (HikariCP's convention for 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(u64);

const UNITS: [(&str, u64); 6] = [
    ("h", 3_600_000_000),
    ("m", 60_000_000),
    ("s", 1_000_000),
    ("ms", 1_000),
    ("us", 1),
    ("µs", 1),
];

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_us(us: u64) -> Duration {
        Duration(us)
    }
    pub const fn from_ms(ms: u64) -> Duration {
        Duration(ms * 1_000)
    }
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s * 1_000_000)
    }
    pub const fn as_us(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / 1e3
    }
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The form a person writes, one term per unit: `"7m10s"`, `"1h5m"`, `"1s500ms"`, `"0s"`.
    /// It parses back to the same duration.
    pub fn terms(self) -> String {
        if self.0 == 0 {
            return "0s".to_owned();
        }
        let mut rest = self.0;
        let mut out = String::new();
        for (name, scale) in UNITS.iter().take(5) {
            if rest >= *scale {
                out += &format!("{}{name}", rest / scale);
                rest %= scale;
            }
        }
        out
    }
}

/// Why a duration string did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration; write a number and a unit, e.g. \"30s\"")]
    Empty,
    #[error("\"{0}\" has no unit; write e.g. \"{0}ms\" or \"{0}s\" (units: us, ms, s, m, h)")]
    MissingUnit(String),
    #[error("unknown unit \"{unit}\" in \"{text}\" (units: us, ms, s, m, h)")]
    UnknownUnit { unit: String, text: String },
    #[error("\"{0}\" is not a number followed by a unit (units: us, ms, s, m, h)")]
    Malformed(String),
    #[error("\"{0}\" is finer than a microsecond")]
    SubMicrosecond(String),
    #[error("\"{text}\" gives the unit {unit} twice; write each unit once, e.g. \"1m30s\"")]
    RepeatedUnit { unit: String, text: String },
    #[error("\"{0}\" puts a smaller unit first; write the largest first, e.g. \"1m30s\"")]
    UnitOrder(String),
    #[error("\"{0}\" is too long")]
    Overflow(String),
}

impl std::str::FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Duration, DurationError> {
        let s = text.trim();
        if s.is_empty() {
            return Err(DurationError::Empty);
        }
        if s == "0" {
            return Ok(Duration::ZERO);
        }
        let mut rest = s;
        let mut total: u64 = 0;
        let mut previous: Option<(&str, u64)> = None;
        while !rest.is_empty() {
            let number_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let (number, after) = rest.split_at(number_len);
            if number.is_empty() || number == "." {
                return Err(DurationError::Malformed(text.to_owned()));
            }
            let unit_len = after
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(after.len());
            let (unit, next) = after.split_at(unit_len);
            if unit.is_empty() {
                return Err(DurationError::MissingUnit(text.to_owned()));
            }
            let scale = UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .map(|&(_, scale)| scale)
                .ok_or_else(|| DurationError::UnknownUnit {
                    unit: unit.to_owned(),
                    text: text.to_owned(),
                })?;
            match previous {
                Some((_, larger)) if scale < larger => {}
                Some((name, larger)) if scale == larger => {
                    return Err(DurationError::RepeatedUnit {
                        unit: name.to_owned(),
                        text: text.to_owned(),
                    });
                }
                Some(_) => return Err(DurationError::UnitOrder(text.to_owned())),
                None => {}
            }
            previous = Some((unit, scale));
            let term = scaled(number, scale, text)?;
            total = total
                .checked_add(term)
                .ok_or_else(|| DurationError::Overflow(text.to_owned()))?;
            rest = next;
        }
        Ok(Duration(total))
    }
}

/// `number` (digits with at most one '.') times `scale`, exactly.
fn scaled(number: &str, scale: u64, text: &str) -> Result<u64, DurationError> {
    let malformed = || DurationError::Malformed(text.to_owned());
    let overflow = || DurationError::Overflow(text.to_owned());
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) if !(f.contains('.') || w.is_empty() && f.is_empty()) => (w, f),
        Some(_) => return Err(malformed()),
        None => (number, ""),
    };
    let mut value: u64 = 0;
    for d in whole.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(overflow)?;
    }
    value = value.checked_mul(scale).ok_or_else(overflow)?;
    let mut place = scale;
    for d in fraction.bytes() {
        let digit = u64::from(d - b'0');
        if !place.is_multiple_of(10) {
            if digit != 0 {
                return Err(DurationError::SubMicrosecond(text.to_owned()));
            }
            continue;
        }
        place /= 10;
        value = value.checked_add(digit * place).ok_or_else(overflow)?;
    }
    Ok(value)
}

impl fmt::Display for Duration {
    /// The shortest exact form: `"0s"`, `"250us"`, `"4ms"`, `"1500ms"`, `"30s"`, `"10m"`, `"2h"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        for (name, scale) in UNITS.iter().take(5) {
            if self.0.is_multiple_of(*scale) {
                return write!(f, "{}{}", self.0 / scale, name);
            }
        }
        unreachable!("every duration is a whole number of microseconds")
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string with a unit, such as \"250ms\" or \"30s\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
                if v == 0 {
                    Ok(Duration::ZERO)
                } else {
                    Err(E::custom(format!(
                        "{v} has no unit; write a string such as \"{v}ms\" or \"{v}s\""
                    )))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "{v} is not a duration; write a string such as \"250ms\""
                )))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "{v} has no unit; write a string such as \"{v}s\""
                )))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(s: &str) -> Result<u64, DurationError> {
        s.parse::<Duration>().map(Duration::as_us)
    }

    #[test]
    fn parses_every_unit_exactly() {
        assert_eq!(us("250us"), Ok(250));
        assert_eq!(us("4ms"), Ok(4_000));
        assert_eq!(us("30s"), Ok(30_000_000));
        assert_eq!(us("10m"), Ok(600_000_000));
        assert_eq!(us("2h"), Ok(7_200_000_000));
        assert_eq!(us("0.1s"), Ok(100_000));
        assert_eq!(us("1.5ms"), Ok(1_500));
        assert_eq!(us("1m30s"), Ok(90_000_000));
        assert_eq!(us("0s"), Ok(0));
        assert_eq!(us("0"), Ok(0));
        assert_eq!(us(".5s"), Ok(500_000));
    }

    #[test]
    fn rejects_bad_text_with_a_reason() {
        assert_eq!(us(""), Err(DurationError::Empty));
        assert!(matches!(us("30"), Err(DurationError::MissingUnit(_))));
        assert!(matches!(us("3d"), Err(DurationError::UnknownUnit { .. })));
        assert!(matches!(us("ms"), Err(DurationError::Malformed(_))));
        assert!(matches!(us("1..2s"), Err(DurationError::Malformed(_))));
        assert!(matches!(us("."), Err(DurationError::Malformed(_))));
        assert!(matches!(us("-1s"), Err(DurationError::Malformed(_))));
        assert!(matches!(us("0.5us"), Err(DurationError::SubMicrosecond(_))));
        assert!(matches!(
            us("99999999999999999999h"),
            Err(DurationError::Overflow(_))
        ));
    }

    /// Issue 12: `"1m1m"` was summed to 2m. A unit appears once, the largest first; `us`
    /// and `µs` are one unit.
    #[test]
    fn each_unit_once_and_the_largest_first() {
        assert_eq!(
            "1m1m".parse::<Duration>().unwrap_err().to_string(),
            "\"1m1m\" gives the unit m twice; write each unit once, e.g. \"1m30s\""
        );
        assert!(matches!(
            us("5us3µs"),
            Err(DurationError::RepeatedUnit { .. })
        ));
        assert_eq!(
            "30s1m".parse::<Duration>().unwrap_err().to_string(),
            "\"30s1m\" puts a smaller unit first; write the largest first, e.g. \"1m30s\""
        );
        assert_eq!(us("1h2m3s4ms5us"), Ok(3_723_004_005));
    }

    #[test]
    fn display_round_trips() {
        for text in ["0s", "250us", "4ms", "1500ms", "30s", "10m", "2h", "90s"] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.to_string(), text);
        }
    }

    #[test]
    fn terms_read_as_people_write() {
        let t = |us: u64| Duration::from_us(us).terms();
        assert_eq!(t(430_000_000), "7m10s");
        assert_eq!(t(3_900_000_000), "1h5m");
        assert_eq!(t(1_500_000), "1s500ms");
        assert_eq!(t(0), "0s");
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errors_without_panic(s in "\\PC{0,12}") {
            let _ = s.parse::<Duration>();
        }

        #[test]
        fn display_then_parse_is_identity(v in 0u64..u64::MAX / 2) {
            let d = Duration::from_us(v);
            proptest::prop_assert_eq!(d.to_string().parse::<Duration>(), Ok(d));
            proptest::prop_assert_eq!(d.terms().parse::<Duration>(), Ok(d));
        }
    }
}

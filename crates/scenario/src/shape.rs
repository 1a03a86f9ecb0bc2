//! The scenario's shape before its types: lists only where the format has lists.
//!
//! serde's derived structs also accept a JSON array, read by position: `"app": [5]` would
//! mean five instances. A scenario never means that, so this pass refuses every array except
//! the values of the format's list fields, before the typed read. It runs on the text (so a
//! refusal has a line and column) or on a value (the page's and `sweep --set`'s edits).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Unexpected, Visitor};

/// The keys whose values are lists: `faults`, `alerts`, `timeline.moments`,
/// `workload.arrivals.steps` and an empirical distribution's `values`. A test checks that
/// these are exactly the keys that hold lists in a scenario with every list written out.
pub(crate) const LISTS: [&str; 5] = ["faults", "alerts", "moments", "steps", "values"];

/// Where a value sits, which decides whether it may be a list.
#[derive(Clone, Copy)]
enum Place {
    Root,
    List,
    Value,
}

/// The whole scenario; deserializing it checks the shape and keeps nothing.
pub(crate) struct Root;
struct ListValue;
struct Plain;

struct Walk(Place);

impl<'de> Deserialize<'de> for Root {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Root, D::Error> {
        d.deserialize_any(Walk(Place::Root)).map(|()| Root)
    }
}

impl<'de> Deserialize<'de> for ListValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ListValue, D::Error> {
        d.deserialize_any(Walk(Place::List)).map(|()| ListValue)
    }
}

impl<'de> Deserialize<'de> for Plain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Plain, D::Error> {
        d.deserialize_any(Walk(Place::Value)).map(|()| Plain)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if LISTS.contains(&key.as_str()) {
                map.next_value::<ListValue>()?;
            } else {
                map.next_value::<Plain>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self.0 {
            Place::Root => Err(de::Error::custom(
                "a scenario is a JSON object ({...}), not an array",
            )),
            Place::Value => Err(de::Error::invalid_type(
                Unexpected::Seq,
                &"a single value or an object {...}",
            )),
            Place::List => {
                while seq.next_element::<Plain>()?.is_some() {}
                Ok(())
            }
        }
    }
}

//! Ready scenarios, the same files as `tests/scenarios/` (the tests check their stories).

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// The `<option>` value and the id used in tests.
    pub id: &'static str,
    pub label: &'static str,
    json: &'static str,
}

pub const PRESETS: [Preset; 9] = [
    Preset {
        id: "baseline",
        label: "Healthy baseline",
        json: include_str!("../../../tests/scenarios/default.json"),
    },
    Preset {
        id: "outage",
        label: "The outage: pools over-ask the database",
        json: include_str!("../../../tests/scenarios/outage.json"),
    },
    Preset {
        id: "outage-fix",
        label: "The outage's fix: smaller pools, rolling restart",
        json: include_str!("../../../tests/scenarios/outage-fix.json"),
    },
    Preset {
        id: "outage-replay",
        label: "Replay: the 2023-08-05 outage, minute by minute",
        json: include_str!("../../../tests/scenarios/outage-replay.json"),
    },
    Preset {
        id: "failover",
        label: "Replay: database failover, reconnection storm",
        json: include_str!("../../../tests/scenarios/failover.json"),
    },
    Preset {
        id: "rolling-restart",
        label: "Rolling restart",
        json: include_str!("../../../tests/scenarios/rolling-restart.json"),
    },
    Preset {
        id: "retry-storm",
        label: "Replay: retry storm that stays collapsed",
        json: include_str!("../../../tests/scenarios/retry-storm.json"),
    },
    Preset {
        id: "leak",
        label: "Replay: connection leak found by leak detection",
        json: include_str!("../../../tests/scenarios/leak.json"),
    },
    Preset {
        id: "slow-queries",
        label: "Replay: slow-query episode",
        json: include_str!("../../../tests/scenarios/slow-queries.json"),
    },
];

impl Preset {
    pub fn by_id(id: &str) -> Option<Preset> {
        PRESETS.iter().copied().find(|p| p.id == id)
    }

    /// The scenario with every default written out, as the controls show it.
    pub fn scenario(&self) -> Value {
        crate::form::normalized(&serde_json::from_str(self.json).unwrap_or(Value::Null))
    }
}

/// The scenario the page opens with.
pub fn default_scenario() -> Value {
    PRESETS[0].scenario()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_a_valid_scenario_with_defaults_written_out() {
        for preset in PRESETS {
            let value = preset.scenario();
            let scenario = poolsim_scenario::from_value(value.clone())
                .unwrap_or_else(|e| panic!("{}: {e}", preset.id));
            scenario
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e:?}", preset.id));
            assert!(
                crate::path::get(&value, "app.pool.connection_timeout").is_some(),
                "{}: defaults not written out",
                preset.id
            );
        }
    }
}

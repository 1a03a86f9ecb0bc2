//! Reading a scenario file, with errors an operator can act on.

use std::path::Path;

use anyhow::{Context, anyhow};
use poolsim_scenario::{Config, FieldError, Scenario, ScenarioError};

/// Reads and parses `path` (shape only), with `seed` in place of the file's seed if given.
pub fn read(path: &Path, seed: Option<u64>) -> anyhow::Result<Scenario> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut scenario =
        poolsim_scenario::parse(&text).map_err(|e| invalid(&path.display().to_string(), &e))?;
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    Ok(scenario)
}

/// Reads, parses and validates `path`.
pub fn load(path: &Path, seed: Option<u64>) -> anyhow::Result<Config> {
    read(path, seed)?
        .validate()
        .map_err(|errors| invalid(&path.display().to_string(), &ScenarioError::Invalid(errors)))
}

/// `error: NAME is not a valid scenario:` then one indented `path: message` line per problem
/// (a syntax error keeps its line and column).
pub fn invalid(name: &str, error: &ScenarioError) -> anyhow::Error {
    let lines = match error {
        ScenarioError::Parse { line: 0, .. } => field_lines(&error.fields()),
        _ => indent(&error.to_string()),
    };
    anyhow!("{name} is not a valid scenario:\n{lines}")
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One indented `path: message` line per problem.
pub fn field_lines(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.path.is_empty() || e.path == "." {
                format!("  {}", e.message)
            } else {
                format!("  {e}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

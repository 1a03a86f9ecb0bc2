//! `poolsim sweep`: a grid of variations of one scenario, run in parallel, one row each.
//!
//! Each `--set` flag gives a field path and its values; the grid is their cartesian product,
//! the first flag varying slowest. A point is the scenario's JSON (defaults filled in) with
//! each path set to the point's value, read back and validated like a file. Every point is
//! checked before any is run, so a bad value fails in a second, not after an hour.

use std::fmt::Write;
use std::path::Path;

use anyhow::anyhow;
use poolsim_engine::{Cause, Summary};
use poolsim_scenario::{Config, FieldError};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use poolsim_engine::csv;
use poolsim_scenario::sweep::spec::{MAX_POINTS, SetArg};
use poolsim_scenario::work;

use crate::{Failure, Format, input, parallel};
use poolsim_explain::format;

pub fn sweep(
    file: &Path,
    sets: &[SetArg],
    format: Format,
    seed: Option<u64>,
) -> Result<(), Failure> {
    let scenario = input::read(file, seed).map_err(Failure::Input)?;
    let base = serde_json::to_value(&scenario).expect("a scenario serializes to JSON");
    let grid = Grid::new(file.display().to_string(), base, sets).map_err(Failure::Input)?;
    let configs = (0..grid.len)
        .map(|index| grid.config(index))
        .collect::<anyhow::Result<Vec<Config>>>()
        .map_err(Failure::Input)?;
    work::within_overall(&configs, "sweep").map_err(|e| Failure::Input(anyhow!(e)))?;
    let summaries = parallel::run_all(&configs, "points").map_err(|(index, e)| {
        Failure::Run(anyhow!("the run at {} stopped: {e}", grid.label(index)))
    })?;
    let out = match format {
        Format::Text => grid.text(&summaries),
        Format::Csv => grid.csv(&summaries),
        Format::Json => grid.json(&summaries),
    };
    crate::write_stdout(&out)
}

struct Grid<'a> {
    /// The scenario file's name, for messages.
    file: String,
    base: Value,
    sets: &'a [SetArg],
    len: usize,
}

impl<'a> Grid<'a> {
    fn new(file: String, base: Value, sets: &'a [SetArg]) -> anyhow::Result<Grid<'a>> {
        for (i, set) in sets.iter().enumerate() {
            if let Some(twin) = sets[..i].iter().find(|s| s.path == set.path) {
                return Err(anyhow!(
                    "--set {} and --set {} vary the same field",
                    twin.raw,
                    set.raw
                ));
            }
        }
        let len = sets
            .iter()
            .try_fold(1usize, |n, set| n.checked_mul(set.values.len()))
            .filter(|&n| n <= MAX_POINTS)
            .ok_or_else(|| {
                let sizes: Vec<String> = sets.iter().map(|s| s.values.len().to_string()).collect();
                anyhow!(
                    "the grid has too many points ({}); a sweep has at most {MAX_POINTS}",
                    sizes.join(" x ")
                )
            })?;
        Ok(Grid {
            file,
            base,
            sets,
            len,
        })
    }

    /// The values of point `index`, one per `--set`; the last flag varies fastest.
    fn point(&self, mut index: usize) -> Vec<&'a Value> {
        let mut values: Vec<&'a Value> = (self.sets.iter().rev())
            .map(|set| {
                let n = set.values.len();
                let value = &set.values[index % n];
                index /= n;
                value
            })
            .collect();
        values.reverse();
        values
    }

    /// `app.pool.max_size=4, workload.arrivals.rate_per_s=200`
    fn label(&self, index: usize) -> String {
        self.sets
            .iter()
            .zip(self.point(index))
            .map(|(set, value)| format!("{}={}", set.path, plain(value)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The validated configuration of point `index`.
    fn config(&self, index: usize) -> anyhow::Result<Config> {
        let mut json = self.base.clone();
        for (set, value) in self.sets.iter().zip(self.point(index)) {
            set.path
                .set(&mut json, value.clone())
                .map_err(|e| anyhow!("--set {}: {e}", set.raw))?;
        }
        poolsim_scenario::from_value(json)
            .map_err(|e| e.fields())
            .and_then(|scenario| scenario.validate())
            .map_err(|errors| self.invalid(index, &errors))
    }

    /// Names the `--set` flags that the problems concern, or the file if none does.
    fn invalid(&self, index: usize, errors: &[FieldError]) -> anyhow::Error {
        let blamed: Vec<String> = self
            .sets
            .iter()
            .filter(|set| errors.iter().any(|e| set.path.relates_to(&e.path)))
            .map(|set| format!("--set {}", set.raw))
            .collect();
        let culprit = if blamed.is_empty() {
            format!("{} is not a valid scenario", self.file)
        } else {
            format!("{} gives an invalid scenario", blamed.join(" with "))
        };
        anyhow!(
            "{culprit} at {}:\n{}",
            self.label(index),
            input::field_lines(errors)
        )
    }

    fn text(&self, summaries: &[Summary]) -> String {
        let mut header: Vec<String> = self.sets.iter().map(|s| s.path.to_string()).collect();
        let columns = columns(summaries, false);
        header.extend(columns.iter().map(|c| c.text.clone()));
        let mut rows = vec![header];
        for (index, summary) in summaries.iter().enumerate() {
            let mut row: Vec<String> = self.point(index).into_iter().map(plain).collect();
            row.extend(columns.iter().map(|c| c.value(summary).text()));
            rows.push(row);
        }
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|col| {
                rows.iter()
                    .map(|r| r[col].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, &width)| format!("{cell:>width$}"))
                .collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        }
        out
    }

    fn csv(&self, summaries: &[Summary]) -> String {
        let mut header: Vec<String> = self
            .sets
            .iter()
            .map(|s| csv::cell(&s.path.to_string()).into_owned())
            .collect();
        let columns = columns(summaries, true);
        header.extend(columns.iter().map(|c| c.csv.clone()));
        let mut out = header.join(",");
        out.push('\n');
        for (index, summary) in summaries.iter().enumerate() {
            let mut row: Vec<String> = self
                .point(index)
                .into_iter()
                .map(|v| csv::cell(&plain(v)).into_owned())
                .collect();
            row.extend(columns.iter().map(|c| c.value(summary).csv()));
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }

    fn json(&self, summaries: &[Summary]) -> String {
        let rows: Vec<Row<'_>> = summaries
            .iter()
            .enumerate()
            .map(|(index, summary)| Row {
                set: SetValues(
                    self.sets
                        .iter()
                        .zip(self.point(index))
                        .map(|(s, v)| (s.path.to_string(), v))
                        .collect(),
                ),
                summary,
            })
            .collect();
        crate::json(&rows)
    }
}

/// A value as a person writes it: strings without quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(serde::Serialize)]
struct Row<'a> {
    set: SetValues<'a>,
    summary: &'a Summary,
}

/// The point's values as a JSON object whose keys keep the order of the `--set` flags.
struct SetValues<'a>(Vec<(String, &'a Value)>);

impl Serialize for SetValues<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (path, value) in &self.0 {
            map.serialize_entry(path, value)?;
        }
        map.end()
    }
}

/// One measured column of a sweep's output.
struct Column {
    text: String,
    csv: String,
    value: Measure,
}

enum Measure {
    Of(fn(&Summary) -> Cell),
    /// Requests failed by this cause.
    Failed(Cause),
}

impl Column {
    fn value(&self, s: &Summary) -> Cell {
        match self.value {
            Measure::Of(f) => f(s),
            Measure::Failed(cause) => Cell::Count(s.requests.failures[cause]),
        }
    }
}

/// The columns: [`COLUMNS`] with one per failure cause after `failed`; in text only the
/// causes some point has (CSV always has every one, so its header does not move).
fn columns(summaries: &[Summary], every_cause: bool) -> Vec<Column> {
    let mut out = Vec::new();
    for &(text, csv, value) in &COLUMNS {
        out.push(Column {
            text: text.to_owned(),
            csv: csv.to_owned(),
            value: Measure::Of(value),
        });
        if csv == "failed_pct" {
            for cause in Cause::ALL {
                if every_cause || summaries.iter().any(|s| s.requests.failures[cause] > 0) {
                    out.push(Column {
                        text: cause.label().to_owned(),
                        csv: cause.key().to_owned(),
                        value: Measure::Failed(cause),
                    });
                }
            }
        }
    }
    out
}

enum Cell {
    Count(u64),
    Ms(f64),
    /// A fraction from 0 to 1, shown as a percentage in text, as a fraction in CSV.
    Share(f64),
    /// A fraction from 0 to 1, shown as a percentage in text and in CSV.
    Percent(f64),
    Text(String),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Count(n) => format::int(*n),
            Cell::Ms(ms) => format::num(*ms),
            Cell::Share(f) | Cell::Percent(f) => format::share(*f),
            Cell::Text(s) => s.clone(),
        }
    }

    fn csv(&self) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            Cell::Ms(ms) if ms.is_finite() => format!("{ms:.3}"),
            Cell::Share(f) if f.is_finite() => format!("{f:.5}"),
            Cell::Percent(f) if f.is_finite() => format!("{:.3}", f * 100.0),
            Cell::Ms(_) | Cell::Share(_) | Cell::Percent(_) => String::new(),
            Cell::Text(s) => csv::cell(s).into_owned(),
        }
    }
}

fn failed_share(s: &Summary) -> f64 {
    if s.requests.arrived == 0 {
        0.0
    } else {
        s.requests.failed as f64 / s.requests.arrived as f64
    }
}

/// A column as `(text header, CSV header, value)`.
type ColumnDef = (&'static str, &'static str, fn(&Summary) -> Cell);

const COLUMNS: [ColumnDef; 9] = [
    ("arrived", "arrived", |s| Cell::Count(s.requests.arrived)),
    ("succeeded", "succeeded", |s| {
        Cell::Count(s.requests.succeeded)
    }),
    ("failed", "failed_pct", |s| Cell::Percent(failed_share(s))),
    ("wait p99 ms", "pool_wait_p99_ms", |s| {
        Cell::Ms(s.pool_wait_ms.p99)
    }),
    ("latency p99 ms", "latency_p99_ms", |s| {
        Cell::Ms(s.latency_ms.p99)
    }),
    ("pool util", "pool_utilization", |s| {
        Cell::Share(s.pool.utilization)
    }),
    ("peak pending", "peak_pool_pending", |s| {
        Cell::Count(s.pool.peak_pending)
    }),
    ("peak db conns", "peak_db_connections", |s| {
        Cell::Count(s.db.peak_connections)
    }),
    ("digest", "digest", |s| Cell::Text(s.digest.clone())),
];

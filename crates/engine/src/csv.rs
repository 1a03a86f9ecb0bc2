//! CSV output (the CLI's `--format csv`, the page's export): the run's time series, one row per bucket, and the quoting rules for text
//! cells. Numbers are written plainly (no thousands separators); a missing value (a bucket
//! with no request to take a percentile of) is an empty cell.

use std::borrow::Cow;
use std::fmt::Write;

use crate::{Gauge, Series};

/// One column of the series.
enum Column<'a> {
    Count(&'a [u32]),
    Mean(&'a [f32]),
    Maybe(&'a [Option<f32>]),
}

impl Column<'_> {
    fn write_cell(&self, row: usize, out: &mut String) {
        // A column shorter than the others (never expected) gives empty cells, not a panic.
        let _ = match self {
            Column::Count(v) => v.get(row).map(|x| write!(out, "{x}")),
            Column::Mean(v) => v.get(row).map(|x| write!(out, "{x}")),
            Column::Maybe(v) => v.get(row).copied().flatten().map(|x| write!(out, "{x}")),
        };
    }
}

/// The fleet-level time series as CSV: `time_s` (the bucket's start) and every column of
/// [`Series`] except the per-instance ones; a gauge gives a `_mean` and a `_max` column.
pub fn series(series: &Series) -> String {
    // Destructured field by field, so that a column added to `Series` fails to compile here
    // until it is given a place in the CSV.
    let Series {
        bucket_s,
        arrivals,
        succeeded,
        failed,
        retries,
        pool_timeouts,
        db_connection_errors,
        leak_reports,
        pool_active,
        pool_idle,
        pool_pending,
        pool_total,
        pool_max,
        pool_min,
        instances_up,
        db_usable,
        db_connections,
        db_running,
        db_cpu,
        latency_p50_ms,
        latency_p95_ms,
        latency_p99_ms,
        pool_wait_p50_ms,
        pool_wait_p99_ms,
        pool_wait_all_p99_ms,
        latency_failed_p99_ms,
        instances: _,
    } = series;

    let mut columns: Vec<(Cow<'static, str>, Column<'_>)> = vec![
        ("arrivals".into(), Column::Count(arrivals)),
        ("succeeded".into(), Column::Count(succeeded)),
    ];
    for (cause, column) in failed.iter() {
        columns.push((
            format!("failed_{}", cause.key()).into(),
            Column::Count(column),
        ));
    }
    columns.extend([
        ("retries".into(), Column::Count(retries)),
        (
            "hikaricp_connections_timeout_total".into(),
            Column::Count(pool_timeouts),
        ),
        (
            "db_connection_errors".into(),
            Column::Count(db_connection_errors),
        ),
        ("leak_reports".into(), Column::Count(leak_reports)),
    ]);
    // Dashboard names (HikariCP/Micrometer, the database), as alert rules use them. Each
    // gauge gives its time-weighted mean and its peak in the bucket; `hikaricp_connections_max`
    // and `_min` are, as in Micrometer, the configured `max_size` and `min_idle` (summed
    // over the instances up), not a peak of connections.
    let gauges: [(&str, &Gauge); 9] = [
        ("hikaricp_connections_active", pool_active),
        ("hikaricp_connections_idle", pool_idle),
        ("hikaricp_connections_pending", pool_pending),
        ("hikaricp_connections", pool_total),
        ("hikaricp_connections_max", pool_max),
        ("hikaricp_connections_min", pool_min),
        ("instances_up", instances_up),
        ("db_connections", db_connections),
        ("db_running_queries", db_running),
    ];
    for (name, gauge) in gauges {
        columns.push((format!("{name}_mean").into(), Column::Mean(&gauge.mean)));
        columns.push((format!("{name}_peak").into(), Column::Count(&gauge.max)));
    }
    columns.extend([
        ("db_usable_connections".into(), Column::Count(db_usable)),
        ("db_cpu_utilization".into(), Column::Mean(db_cpu)),
        ("http_latency_p50_ms".into(), Column::Maybe(latency_p50_ms)),
        ("http_latency_p95_ms".into(), Column::Maybe(latency_p95_ms)),
        ("http_latency_p99_ms".into(), Column::Maybe(latency_p99_ms)),
        (
            "http_latency_failed_p99_ms".into(),
            Column::Maybe(latency_failed_p99_ms),
        ),
        (
            "hikaricp_connections_acquire_p50_ms".into(),
            Column::Maybe(pool_wait_p50_ms),
        ),
        (
            "hikaricp_connections_acquire_p99_ms".into(),
            Column::Maybe(pool_wait_p99_ms),
        ),
        (
            "hikaricp_connections_acquire_all_p99_ms".into(),
            Column::Maybe(pool_wait_all_p99_ms),
        ),
    ]);

    let rows = series.len();
    let mut out = String::with_capacity(64 * (rows + 1) * columns.len() / 8);
    out.push_str("time_s");
    for (name, _) in &columns {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    let bucket_us = (bucket_s * 1e6).round() as u64;
    for row in 0..rows {
        out.push_str(&seconds(row as u64 * bucket_us));
        for (_, column) in &columns {
            out.push(',');
            column.write_cell(row, &mut out);
        }
        out.push('\n');
    }
    out
}

/// Whole microseconds as seconds without float noise: `12_500_000` → `"12.5"`.
fn seconds(us: u64) -> String {
    let (whole, frac) = (us / 1_000_000, us % 1_000_000);
    if frac == 0 {
        whole.to_string()
    } else {
        let frac = format!("{frac:06}");
        format!("{whole}.{}", frac.trim_end_matches('0'))
    }
}

/// A CSV cell: quoted (with `"` doubled) when it holds a comma, a quote or a line break.
pub fn cell(text: &str) -> Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_starts_are_exact() {
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(500_000), "0.5");
        assert_eq!(seconds(12_500_000), "12.5");
        assert_eq!(seconds(300_000 * 7), "2.1");
        assert_eq!(seconds(1), "0.000001");
    }

    #[test]
    fn cells_are_quoted_only_when_needed() {
        assert_eq!(cell("100ms"), "100ms");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn one_row_per_bucket_and_empty_cells_for_missing_percentiles() {
        let s = Series {
            bucket_s: 0.5,
            arrivals: vec![3, 4],
            succeeded: vec![3, 4],
            latency_p99_ms: vec![Some(1.5), None],
            ..Series::default()
        };
        let text = series(&s);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let header: Vec<&str> = lines[0].split(',').collect();
        assert_eq!(header[0], "time_s");
        assert!(header.contains(&"hikaricp_connections_pending_peak"));
        for cause in crate::Cause::ALL {
            let column = format!("failed_{}", cause.key());
            assert!(header.contains(&column.as_str()), "{column}");
        }
        let p99 = header
            .iter()
            .position(|h| *h == "http_latency_p99_ms")
            .unwrap();
        let row0: Vec<&str> = lines[1].split(',').collect();
        let row1: Vec<&str> = lines[2].split(',').collect();
        assert_eq!(row0.len(), header.len());
        assert_eq!((row0[0], row1[0]), ("0", "0.5"));
        assert_eq!((row0[1], row1[1]), ("3", "4"));
        assert_eq!((row0[p99], row1[p99]), ("1.5", ""));
    }
}

//! Numbers for people: thousands separators, a few significant digits, shares that never
//! hide a small count, durations with units. Text only; CSV and JSON print plain numbers.
//! The CLI's text and the page's panels both format through here.

/// `1234567` → `"1,234,567"` (the scenario's messages use it too, so it lives there).
pub use poolsim_scenario::int;

/// A measurement with about three significant digits: `0.0123`, `1.23`, `12.3`, `1,234`.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_owned();
    }
    let (sign, a) = if v < 0.0 { ("-", -v) } else { ("", v) };
    if a == 0.0 {
        return "0".to_owned();
    }
    if a < 0.0005 {
        return format!("{sign}<0.001");
    }
    // The precision is chosen on the rounded value, so that 9.9996 shows as 10.0, not 10.00.
    for (limit, decimals) in [(1.0, 3), (10.0, 2), (100.0, 1), (1_000.0, 0)] {
        if a < limit {
            let text = format!("{a:.decimals$}");
            if text.parse::<f64>().is_ok_and(|r| r < limit) {
                return format!("{sign}{text}");
            }
        }
    }
    format!("{sign}{}", int(a.round() as u64))
}

/// `part` as a share of `whole`, never rounding a nonzero share to 0% or a partial one to 100%.
pub fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    share(part as f64 / whole as f64)
}

/// A fraction from 0 to 1 as a percentage, e.g. `0.832` → `"83.2%"`.
pub fn share(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "-".to_owned();
    }
    let p = fraction * 100.0;
    if p > 0.0 && p < 0.05 {
        "<0.1%".to_owned()
    } else if (99.95..100.0).contains(&p) {
        ">99.9%".to_owned()
    } else {
        format!("{p:.1}%")
    }
}

/// Seconds of simulated time: `"0s"`, `"850ms"`, `"12.5s"`, `"3m12s"`, `"1h02m03s"`.
pub fn secs(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "-".to_owned();
    }
    if s == 0.0 {
        return "0s".to_owned();
    }
    if s < 1.0 {
        return format!("{}ms", num(s * 1e3));
    }
    if s < 60.0 {
        let text = format!("{s:.1}");
        return format!("{}s", text.trim_end_matches(".0"));
    }
    let whole = s.round() as u64;
    let (h, m, sec) = (whole / 3600, whole / 60 % 60, whole % 60);
    match (h, sec) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{m}m{sec:02}s"),
        (_, 0) if m == 0 => format!("{h}h"),
        (_, 0) => format!("{h}h{m:02}m"),
        _ => format!("{h}h{m:02}m{sec:02}s"),
    }
}

/// A number as people read it on a chart, its axis and its cursor: `0.25`, `12.5`, `1,200`,
/// `3.4M` (fewer digits than [`num`], for tight spaces).
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "-".to_owned()
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        let n = v.round() as i64;
        let digits = int(n.unsigned_abs());
        if n < 0 { format!("-{digits}") } else { digits }
    } else if a >= 100.0 || a == a.round() {
        format!("{}", v.round() as i64)
    } else if a >= 1.0 {
        trim(format!("{v:.1}"))
    } else if a >= 0.01 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.3}"))
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Milliseconds with their unit: `"4.09 ms"`.
pub fn ms(v: f64) -> String {
    format!("{} ms", num(v))
}

/// A timeout in microseconds as the scenario writes it, `0` being "never".
pub fn timeout(us: u64) -> String {
    if us == 0 {
        "never".to_owned()
    } else {
        poolsim_scenario::Duration::from_us(us).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_get_separators() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1_000), "1,000");
        assert_eq!(int(1_234_567), "1,234,567");
    }

    #[test]
    fn measurements_keep_about_three_digits() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(0.01234), "0.012");
        assert_eq!(num(1.2345), "1.23");
        assert_eq!(num(12.345), "12.3");
        assert_eq!(num(123.45), "123");
        assert_eq!(num(12_345.6), "12,346");
        assert_eq!(num(9.9996), "10.0");
        assert_eq!(num(999.7), "1,000");
        assert_eq!(num(4.0e-95), "<0.001");
        assert_eq!(num(-2.5), "-2.50");
        assert_eq!(num(f64::NAN), "-");
    }

    #[test]
    fn shares_never_hide_a_small_count() {
        assert_eq!(pct(0, 10), "0.0%");
        assert_eq!(pct(1, 1_000_000), "<0.1%");
        assert_eq!(pct(999_999, 1_000_000), ">99.9%");
        assert_eq!(pct(10, 10), "100.0%");
        assert_eq!(pct(1, 3), "33.3%");
        assert_eq!(pct(1, 0), "-");
    }

    #[test]
    fn chart_numbers_are_short() {
        assert_eq!(compact(0.25), "0.25");
        assert_eq!(compact(12.5), "12.5");
        assert_eq!(compact(1_200.0), "1200");
        assert_eq!(compact(12_345.0), "12,345");
        assert_eq!(compact(-12_345.0), "-12,345");
        assert_eq!(compact(3_400_000.0), "3.4M");
        assert_eq!(compact(0.0012), "0.001");
        assert_eq!(compact(f64::NAN), "-");
    }

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(secs(0.0), "0s");
        assert_eq!(secs(0.25), "250ms");
        assert_eq!(secs(12.5), "12.5s");
        assert_eq!(secs(30.0), "30s");
        assert_eq!(secs(192.0), "3m12s");
        assert_eq!(secs(600.0), "10m");
        assert_eq!(secs(3_723.0), "1h02m03s");
        assert_eq!(secs(7_200.0), "2h");
    }
}

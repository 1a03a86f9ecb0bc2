//! Alert rules, "metric above threshold for duration", evaluated as a monitoring system
//! would: at the end of each time-series bucket, on that bucket's value.
//!
//! A rule becomes pending at the start of the first bucket whose value is above the
//! threshold; it fires at the end of the bucket in which it has been above for `for`
//! (a zero `for` fires at the end of the first such bucket); it clears at the end of the
//! first bucket back at or below the threshold. A bucket with no value (a latency
//! percentile with no requests) counts as not above.

use poolsim_scenario::{AlertRule, Metric};

use crate::report::AlertReport;

#[derive(Debug)]
struct RuleState {
    rule: AlertRule,
    pending_since_us: Option<u64>,
    firing_since_us: Option<u64>,
    report: AlertReport,
}

#[derive(Debug)]
pub struct AlertTracker {
    rules: Vec<RuleState>,
}

/// The metric's name as written in scenario files.
pub fn metric_name(metric: Metric) -> String {
    match serde_json::to_value(metric) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{metric:?}"),
    }
}

impl AlertTracker {
    pub fn new(rules: &[AlertRule]) -> AlertTracker {
        AlertTracker {
            rules: rules
                .iter()
                .map(|rule| RuleState {
                    rule: rule.clone(),
                    pending_since_us: None,
                    firing_since_us: None,
                    report: AlertReport {
                        name: rule.name.clone(),
                        metric: metric_name(rule.metric),
                        fired_at_s: None,
                        cleared_at_s: None,
                        firings: 0,
                        firing_s: 0.0,
                    },
                })
                .collect(),
        }
    }

    /// Evaluates every rule on the bucket `[start_us, end_us)`.
    pub fn observe(&mut self, start_us: u64, end_us: u64, value: impl Fn(Metric) -> Option<f64>) {
        for state in &mut self.rules {
            let above = value(state.rule.metric).is_some_and(|v| v > state.rule.above);
            if above {
                let since = *state.pending_since_us.get_or_insert(start_us);
                if state.firing_since_us.is_none() && end_us - since >= state.rule.for_.as_us() {
                    state.firing_since_us = Some(end_us);
                    state.report.firings += 1;
                    state.report.fired_at_s.get_or_insert(secs(end_us));
                }
            } else {
                state.pending_since_us = None;
                if let Some(since) = state.firing_since_us.take() {
                    state.report.firing_s += secs(end_us - since);
                    if state.report.firings == 1 {
                        state.report.cleared_at_s = Some(secs(end_us));
                    }
                }
            }
        }
    }

    /// The reports, with rules still firing at `end_us` counted up to it.
    pub fn finish(self, end_us: u64) -> Vec<AlertReport> {
        self.rules
            .into_iter()
            .map(|mut state| {
                if let Some(since) = state.firing_since_us {
                    state.report.firing_s += secs(end_us - since);
                }
                state.report
            })
            .collect()
    }
}

fn secs(us: u64) -> f64 {
    us as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(above: f64, for_: &str) -> AlertRule {
        AlertRule {
            name: "pending".into(),
            metric: Metric::HikaricpConnectionsPending,
            above,
            for_: for_.parse().unwrap(),
        }
    }

    fn run(rule: AlertRule, values: &[f64]) -> AlertReport {
        let mut t = AlertTracker::new(&[rule]);
        for (i, &v) in values.iter().enumerate() {
            let i = i as u64;
            t.observe(i * 1_000_000, (i + 1) * 1_000_000, |_| Some(v));
        }
        t.finish(values.len() as u64 * 1_000_000).remove(0)
    }

    #[test]
    fn fires_after_for_and_clears() {
        let r = run(rule(0.0, "2s"), &[0.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
        assert_eq!(r.fired_at_s, Some(3.0));
        assert_eq!(r.cleared_at_s, Some(5.0));
        assert_eq!((r.firings, r.firing_s), (1, 2.0));
    }

    #[test]
    fn a_short_spike_does_not_fire() {
        let r = run(rule(0.0, "3s"), &[1.0, 1.0, 0.0, 1.0, 1.0]);
        assert_eq!((r.fired_at_s, r.firings), (None, 0));
    }

    #[test]
    fn still_firing_at_the_end() {
        let r = run(rule(5.0, "0s"), &[9.0, 0.0, 9.0, 9.0]);
        assert_eq!((r.fired_at_s, r.cleared_at_s), (Some(1.0), Some(2.0)));
        assert_eq!((r.firings, r.firing_s), (2, 2.0));
    }
}

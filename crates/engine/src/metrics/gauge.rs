//! A level that changes at instants (connections in use, waiters...), integrated over time.
//! One running integral (value·µs since the start, exact integers) serves two windows: the
//! current time-series bucket and the measured run (after the warmup), each as the integral
//! minus a snapshot taken where the window began.

use crate::time::SimTime;

#[derive(Clone, Debug, Default)]
pub struct Gauge {
    value: u64,
    last: SimTime,
    integral: u128,
    bucket_start: u128,
    /// Maximum in the current bucket since it began, or since the run began if later.
    bucket_max: u64,
    /// The bucket's maximum before the run began, for the bucket that holds that instant.
    bucket_max_before_run: u64,
    run_start: u128,
    /// Maximum over the run's closed buckets (the open one is folded in on reading).
    run_max: u64,
}

impl Gauge {
    pub fn value(&self) -> u64 {
        self.value
    }

    fn accrue(&mut self, now: SimTime) {
        let dt = now.since(self.last);
        // Both under 2^32 (always, in practice): one 64-bit multiply. WebAssembly has no
        // 64x64->128 multiply, and a u128 product there is a call to `__multi3`.
        self.integral += if (self.value | dt) >> 32 == 0 {
            u128::from(self.value * dt)
        } else {
            u128::from(self.value) * u128::from(dt)
        };
        self.last = now;
    }

    pub fn set(&mut self, now: SimTime, value: u64) {
        self.accrue(now);
        self.value = value;
        self.bucket_max = self.bucket_max.max(value);
    }

    /// `set`, skipped when the value is unchanged (the integral needs no update then).
    pub fn set_if_changed(&mut self, now: SimTime, value: u64) {
        if value != self.value {
            self.set(now, value);
        }
    }

    /// Closes the bucket ending at `now` (of `width_us`): its mean and maximum.
    pub fn take_bucket(&mut self, now: SimTime, width_us: u64) -> (f64, u64) {
        let (area, max) = self.take_bucket_area(now);
        (area as f64 / width_us.max(1) as f64, max)
    }

    /// Closes the bucket ending at `now`: its integral in value·µs, and its maximum.
    pub fn take_bucket_area(&mut self, now: SimTime) -> (u128, u64) {
        self.accrue(now);
        let area = self.integral - self.bucket_start;
        let max = self
            .bucket_max
            .max(std::mem::take(&mut self.bucket_max_before_run));
        self.run_max = self.run_max.max(self.bucket_max);
        self.bucket_start = self.integral;
        self.bucket_max = self.value;
        (area, max)
    }

    /// Starts the measured window at `now` (the end of the warmup).
    pub fn reset_run(&mut self, now: SimTime) {
        self.accrue(now);
        self.run_start = self.integral;
        self.bucket_max_before_run = self.bucket_max;
        self.bucket_max = self.value;
        self.run_max = self.value;
    }

    /// Integral over the measured window up to `now`, in value·µs, and the window's maximum.
    pub fn run(&mut self, now: SimTime) -> (u128, u64) {
        self.accrue(now);
        (
            self.integral - self.run_start,
            self.run_max.max(self.bucket_max),
        )
    }
}

/// A sum of gauges (a fleet total): its integral is the sum of theirs, so it keeps only its
/// value and the maxima of the bucket and the run, which a sum of maxima would overstate.
#[derive(Clone, Debug, Default)]
pub struct Level {
    value: u64,
    bucket_max: u64,
    run_max: u64,
}

impl Level {
    pub fn add(&mut self, delta: i64) {
        self.value = self
            .value
            .checked_add_signed(delta)
            .expect("level went below zero");
        self.bucket_max = self.bucket_max.max(self.value);
        self.run_max = self.run_max.max(self.value);
    }

    /// The maximum since the last call (the bucket that ends now).
    pub fn take_bucket_max(&mut self) -> u64 {
        std::mem::replace(&mut self.bucket_max, self.value)
    }

    pub fn reset_run(&mut self) {
        self.run_max = self.value;
    }

    pub fn run_max(&self) -> u64 {
        self.run_max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_and_run_means_are_time_weighted() {
        let mut g = Gauge::default();
        g.set(SimTime(0), 2);
        g.set(SimTime(250), 6); // 2 for 250 us
        let (mean, max) = g.take_bucket(SimTime(1_000), 1_000); // then 6 for 750 us
        assert_eq!(mean, (2.0 * 250.0 + 6.0 * 750.0) / 1_000.0);
        assert_eq!(max, 6);
        g.set(SimTime(1_500), 0);
        assert_eq!(g.take_bucket(SimTime(2_000), 1_000), (3.0, 6));
        assert_eq!(g.run(SimTime(2_000)), (500 + 4_500 + 3_000, 6));
    }

    #[test]
    fn a_level_keeps_bucket_and_run_maxima() {
        let mut l = Level::default();
        l.add(3);
        l.add(-2);
        assert_eq!(l.take_bucket_max(), 3);
        l.reset_run();
        l.add(1);
        assert_eq!((l.take_bucket_max(), l.run_max()), (2, 2));
    }

    #[test]
    fn the_run_window_starts_at_the_warmup() {
        let mut g = Gauge::default();
        g.set(SimTime(0), 4);
        g.reset_run(SimTime(100));
        g.set(SimTime(300), 1);
        assert_eq!(g.run(SimTime(400)), (4 * 200 + 100, 4));
    }

    #[test]
    fn maxima_split_at_the_warmup_inside_a_bucket() {
        let mut g = Gauge::default();
        g.set(SimTime(0), 9); // before the run: counts for the bucket, not the run
        g.set(SimTime(10), 2);
        g.reset_run(SimTime(20));
        g.set(SimTime(30), 5);
        g.set(SimTime(40), 1);
        assert_eq!(g.take_bucket_area(SimTime(100)).1, 9);
        assert_eq!(g.run(SimTime(100)).1, 5);
        g.set(SimTime(150), 7);
        assert_eq!(g.run(SimTime(160)).1, 7, "the open bucket counts");
        assert_eq!(g.take_bucket_area(SimTime(200)).1, 7);
    }
}

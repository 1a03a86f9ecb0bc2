//! A log-linear histogram of microsecond values (HdrHistogram's layout): bounded memory and
//! bounded relative error, whatever the range of the values recorded.
//!
//! With `b` significant bits, values below 2^b are counted exactly and larger values fall
//! into buckets 2^-(b-1) of their size wide, so a reported percentile (the bucket's middle)
//! is within 2^-b of a recorded value. `b = 8` gives 0.4% and 7,424 counters (58 KiB).

#[derive(Clone, Debug)]
pub struct Histogram {
    bits: u32,
    counts: Vec<u64>,
    /// The range of `counts` that may be non-zero: scans and clears touch only it.
    used: std::ops::Range<usize>,
    total: u64,
    sum: u128,
    /// The exact extremes, which bound every reported quantile: when all values are equal
    /// (every timed-out wait is the timeout), each quantile is that value, not its bucket's
    /// middle.
    min: u64,
    max: u64,
}

impl Histogram {
    pub fn new(bits: u32) -> Histogram {
        debug_assert!((2..=16).contains(&bits));
        let len = (1usize << bits) + (64 - bits as usize) * (1usize << (bits - 1));
        Histogram {
            bits,
            counts: vec![0; len],
            used: len..0,
            total: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    fn index(&self, v: u64) -> usize {
        let b = self.bits;
        if v < (1 << b) {
            return v as usize;
        }
        let e = 64 - v.leading_zeros() - b; // >= 1
        let mantissa = (v >> e) as usize; // in [2^(b-1), 2^b)
        (1usize << b) + (e as usize - 1) * (1usize << (b - 1)) + (mantissa - (1usize << (b - 1)))
    }

    /// The smallest value in bucket `i` and the bucket's width.
    fn bucket(&self, i: usize) -> (u64, u64) {
        let b = self.bits as usize;
        if i < (1 << b) {
            return (i as u64, 1);
        }
        let j = i - (1 << b);
        let e = j / (1 << (b - 1)) + 1;
        let mantissa = (j % (1 << (b - 1)) + (1 << (b - 1))) as u64;
        (mantissa << e, 1u64 << e)
    }

    pub fn record(&mut self, v: u64) {
        let i = self.index(v);
        self.counts[i] += 1;
        // `used` starts empty as `len..0`, so both bounds move on the first record.
        if i < self.used.start {
            self.used.start = i;
        }
        if i >= self.used.end {
            self.used.end = i + 1;
        }
        self.total += 1;
        self.sum += u128::from(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum as f64 / self.total as f64
        }
    }

    /// The values at quantiles `qs` (each 0..=1, in increasing order), in one pass: for each,
    /// the middle of the bucket holding the `ceil(q * count)`-th smallest value, kept within
    /// the exact minimum and maximum. 0s when empty.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        let mut out = [0; N];
        if self.total == 0 {
            return out;
        }
        debug_assert!(
            qs.is_sorted(),
            "quantiles must be asked in increasing order"
        );
        let ranks = qs.map(|q| ((q * self.total as f64).ceil() as u64).clamp(1, self.total));
        let mut k = 0;
        let mut seen = 0;
        for i in self.used.clone() {
            seen += self.counts[i];
            while k < N && seen >= ranks[k] {
                let (low, width) = self.bucket(i);
                out[k] = (low + (width - 1) / 2).clamp(self.min, self.max);
                k += 1;
            }
            if k == N {
                break;
            }
        }
        out
    }

    /// The recorded distribution re-binned to `bits` significant bits (fewer than the
    /// histogram's own): `(low, high, count)` per non-empty bin, in increasing order, where a
    /// bin holds the values `low..=high`. With 5 bits a bin is at most ~3% of its values wide.
    pub fn bins(&self, bits: u32) -> Vec<(u64, u64, u64)> {
        debug_assert!(bits >= 2 && bits <= self.bits);
        let coarse = Histogram::new(bits);
        let mut out: Vec<(u64, u64, u64)> = Vec::new();
        let mut current: Option<(usize, u64)> = None;
        for i in self.used.clone() {
            let count = self.counts[i];
            if count == 0 {
                continue;
            }
            let (low, _) = self.bucket(i);
            let c = coarse.index(low);
            match &mut current {
                Some((index, n)) if *index == c => *n += count,
                _ => {
                    if let Some((index, n)) = current.take() {
                        let (low, width) = coarse.bucket(index);
                        out.push((low, low + (width - 1), n));
                    }
                    current = Some((c, count));
                }
            }
        }
        if let Some((index, n)) = current {
            let (low, width) = coarse.bucket(index);
            out.push((low, low + (width - 1), n));
        }
        out
    }

    /// Adds `other`'s values (a histogram of the same precision) to this one's.
    pub fn merge(&mut self, other: &Histogram) {
        debug_assert_eq!(self.bits, other.bits);
        if other.total == 0 {
            return;
        }
        for i in other.used.clone() {
            self.counts[i] += other.counts[i];
        }
        self.used = self.used.start.min(other.used.start)..self.used.end.max(other.used.end);
        self.total += other.total;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    pub fn clear(&mut self) {
        if self.total != 0 {
            self.counts[self.used.clone()].fill(0);
            self.used = self.counts.len()..0;
            self.total = 0;
            self.sum = 0;
            self.min = u64::MAX;
            self.max = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Histogram {
        fn quantile(&self, q: f64) -> u64 {
            self.quantiles([q])[0]
        }
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = Histogram::new(8);
        for v in 0..256 {
            h.record(v);
        }
        assert_eq!(h.quantile(0.5), 127);
        assert_eq!(h.quantile(1.0), 255);
        assert_eq!(h.max(), 255);
    }

    #[test]
    fn relative_error_is_bounded_over_the_whole_range() {
        let mut v: u64 = 1;
        while v < u64::MAX / 3 {
            let mut h = Histogram::new(8);
            h.record(v);
            let got = h.quantile(0.5);
            let err = (got as f64 - v as f64).abs() / v as f64;
            assert!(err <= 1.0 / 256.0, "v={v} got={got}");
            v = v * 3 + 1;
        }
    }

    #[test]
    fn every_index_maps_back_to_its_bucket() {
        let h = Histogram::new(6);
        for i in 0..h.counts.len() {
            let (low, width) = h.bucket(i);
            assert_eq!(h.index(low), i);
            assert_eq!(h.index(low + (width - 1)), i);
        }
    }

    #[test]
    fn bins_regroup_counts_without_losing_any() {
        let mut h = Histogram::new(8);
        for v in (0..200_000u64).map(|k| k * k % 1_000_003) {
            h.record(v);
        }
        let bins = h.bins(5);
        assert_eq!(bins.iter().map(|b| b.2).sum::<u64>(), h.count());
        for pair in bins.windows(2) {
            assert!(
                pair[0].1 < pair[1].0,
                "bins overlap or are out of order: {pair:?}"
            );
        }
        for &(low, high, _) in &bins {
            assert!(
                high - low <= low / 16 + 1,
                "bin {low}..={high} wider than ~1/16"
            );
        }
    }

    #[test]
    fn merge_is_recording_both() {
        let (mut a, mut b, mut both) = (Histogram::new(6), Histogram::new(6), Histogram::new(6));
        for v in [3, 900, 40_000] {
            a.record(v);
            both.record(v);
        }
        for v in [1, 30_000_000] {
            b.record(v);
            both.record(v);
        }
        a.merge(&b);
        assert_eq!(
            a.quantiles([0.2, 0.5, 0.99]),
            both.quantiles([0.2, 0.5, 0.99])
        );
        assert_eq!(
            (a.count(), a.max(), a.mean()),
            (both.count(), both.max(), both.mean())
        );
    }

    #[test]
    fn equal_values_report_themselves_at_every_quantile() {
        // 30 s timeouts all land in one bucket 131 ms wide; its middle would read 29.95 s.
        let mut h = Histogram::new(8);
        for _ in 0..1_000 {
            h.record(30_000_000);
        }
        assert_eq!(h.quantiles([0.5, 0.99, 1.0]), [30_000_000; 3]);
    }

    #[test]
    fn clear_forgets_everything_recorded() {
        let mut h = Histogram::new(6);
        for v in [3, 900, 70_000] {
            h.record(v);
        }
        h.clear();
        assert!(h.counts.iter().all(|&c| c == 0));
        h.record(10);
        assert_eq!((h.quantile(0.0), h.quantile(1.0), h.count()), (10, 10, 1));
    }

    #[test]
    fn quantiles_of_a_uniform_spread() {
        let mut h = Histogram::new(8);
        for v in 1..=100_000 {
            h.record(v);
        }
        for (q, want) in [(0.5, 50_000.0), (0.99, 99_000.0), (0.999, 99_900.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.004, "q={q} got={got}");
        }
        assert_eq!(h.mean(), 50_000.5);
        // One pass gives the same answers, and p99.9 is capped at the exact maximum.
        assert_eq!(h.quantiles([0.5, 0.99, 0.999]), [50_047, 99_071, 100_000]);
    }
}

//! Sampling the scenario's duration distributions, with libm's portable maths so that a
//! draw is bit-identical natively and in WebAssembly.

use poolsim_scenario::config::Dist;
use poolsim_scenario::config::Dist::*;

use crate::rng::Stream;

/// The longest sampled duration, in microseconds (validation bounds parameters below it;
/// heavy tails are clipped here).
const MAX_SAMPLE_US: f64 = 1e12;

/// One draw from `dist`, rounded to the nearest microsecond.
pub fn sample(dist: &Dist, rng: &mut Stream) -> u64 {
    let x = match dist {
        Constant { value_us } => return *value_us,
        Exponential { mean_us } => mean_us * exp1(rng),
        Uniform { min_us, max_us } => {
            return min_us + rng.below(max_us - min_us + 1);
        }
        Lognormal { mu, sigma } => libm::exp(mu + sigma * normal(rng)),
        Gamma { shape, scale_us } => gamma(*shape, rng) * scale_us,
        Pareto { min_us, alpha } => min_us * libm::pow(rng.unit_open0(), -1.0 / alpha),
        Empirical { values_us } => return values_us[rng.below(values_us.len() as u64) as usize],
    };
    round_us(x)
}

/// A standard exponential draw (mean 1) by Marsaglia and Tsang's ziggurat (2000): one
/// 64-bit draw and a comparison for ~99% of samples; only the wedges and the tail, rarely,
/// evaluate `exp` or `log`. Exact in distribution; the tables are built once with libm, so
/// draws are identical on every platform.
pub fn exp1(rng: &mut Stream) -> f64 {
    let t = tables();
    loop {
        let bits = rng.next_u64();
        let i = (bits & 0xFF) as usize;
        // The top 53 bits: independent of the layer index in the low 8.
        let u = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let x = u * t.x[i];
        if x < t.x[i + 1] {
            return x;
        }
        if i == 0 {
            // The base layer's tail beyond R: memoryless, so R plus a fresh exponential.
            return ZIG_R - libm::log(rng.unit_open0());
        }
        if t.f[i + 1] + (t.f[i] - t.f[i + 1]) * rng.unit() < libm::exp(-x) {
            return x;
        }
    }
}

/// Where the tail starts and the area of each of the 256 layers, for f(x) = e^-x.
const ZIG_R: f64 = 7.697_117_470_131_05;
const ZIG_V: f64 = 0.003_949_659_822_581_557;

struct Ziggurat {
    /// Layer edges, decreasing: x[0] = V/f(R) (the base layer's width), x[1] = R, x[256] = 0.
    x: [f64; 257],
    /// f at each edge.
    f: [f64; 257],
}

fn tables() -> &'static Ziggurat {
    static TABLES: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut x = [0.0; 257];
        let mut f = [0.0; 257];
        x[0] = ZIG_V / libm::exp(-ZIG_R);
        x[1] = ZIG_R;
        for i in 1..256 {
            x[i + 1] = if i == 255 {
                0.0
            } else {
                -libm::log(libm::exp(-x[i]) + ZIG_V / x[i])
            };
        }
        for i in 0..257 {
            f[i] = libm::exp(-x[i]);
        }
        Ziggurat { x, f }
    })
}

/// A duration in microseconds, rounded to the nearest (halves up), at least 0 and at most
/// [`MAX_SAMPLE_US`]. Plain IEEE arithmetic and a truncating cast: the same everywhere.
pub fn round_us(x: f64) -> u64 {
    if x > 0.0 {
        (x.min(MAX_SAMPLE_US) + 0.5) as u64
    } else {
        0 // also NaN
    }
}

/// A standard normal draw (Box–Muller; the second value is not kept, so each draw is
/// independent of the stream's history).
fn normal(rng: &mut Stream) -> f64 {
    let r = libm::sqrt(-2.0 * libm::log(rng.unit_open0()));
    r * libm::cos(std::f64::consts::TAU * rng.unit())
}

/// Gamma(shape, 1) by Marsaglia and Tsang (2000); for shape < 1, boosted by U^(1/shape).
fn gamma(shape: f64, rng: &mut Stream) -> f64 {
    if shape < 1.0 {
        return gamma(shape + 1.0, rng) * libm::pow(rng.unit_open0(), 1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    loop {
        let x = normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = rng.unit_open0();
        if libm::log(u) < 0.5 * x * x + d - d * v + d * libm::log(v) {
            return d * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    fn mean_of(dist: &Dist, n: u32) -> f64 {
        let mut rng = Stream::new(42, Purpose::QueryTime);
        (0..n).map(|_| sample(dist, &mut rng) as f64).sum::<f64>() / f64::from(n)
    }

    #[test]
    fn sample_means_match_the_distribution_means() {
        let dists = [
            Exponential { mean_us: 20_000.0 },
            Uniform {
                min_us: 1_000,
                max_us: 3_000,
            },
            Lognormal {
                mu: libm::log(5_000.0),
                sigma: 0.5,
            },
            Gamma {
                shape: 2.5,
                scale_us: 4_000.0,
            },
            Gamma {
                shape: 0.5,
                scale_us: 4_000.0,
            },
            Pareto {
                min_us: 1_000.0,
                alpha: 3.0,
            },
            Empirical {
                values_us: vec![1_000, 2_000, 6_000],
            },
        ];
        for dist in &dists {
            let got = mean_of(dist, 400_000);
            let want = dist.mean_us();
            assert!(
                (got - want).abs() / want < 0.01,
                "{dist:?}: sample mean {got}, expected {want}"
            );
        }
    }

    #[test]
    fn lognormal_median_and_p99_come_out() {
        let dist = poolsim_scenario::load(
            r#"{"workload": {"transaction": {"query_time":
                {"kind": "lognormal", "median": "5ms", "p99": "50ms"}}}}"#,
        )
        .unwrap()
        .transaction
        .query_time;
        let mut rng = Stream::new(3, Purpose::QueryTime);
        let mut v: Vec<u64> = (0..200_000).map(|_| sample(&dist, &mut rng)).collect();
        v.sort_unstable();
        let median = v[v.len() / 2] as f64;
        let p99 = v[v.len() * 99 / 100] as f64;
        assert!((median - 5_000.0).abs() < 100.0, "median {median}");
        assert!((p99 - 50_000.0).abs() < 2_000.0, "p99 {p99}");
    }

    #[test]
    fn ziggurat_layers_close_at_zero() {
        let t = tables();
        // The recursion lands (almost) exactly on 0 at the top: the constants fit.
        let top = -libm::log(libm::exp(-t.x[255]) + ZIG_V / t.x[255]);
        assert!(top.abs() < 1e-9, "top edge {top}");
    }

    #[test]
    fn exponential_moments_and_tail() {
        let mut rng = Stream::new(9, Purpose::Arrivals);
        let n = 2_000_000;
        let (mut sum, mut sq, mut beyond3, mut beyond8) = (0.0, 0.0, 0u32, 0u32);
        for _ in 0..n {
            let x = exp1(&mut rng);
            sum += x;
            sq += x * x;
            beyond3 += u32::from(x > 3.0);
            beyond8 += u32::from(x > 8.0);
        }
        let n = f64::from(n);
        assert!((sum / n - 1.0).abs() < 0.003, "mean {}", sum / n);
        assert!((sq / n - 2.0).abs() < 0.01, "second moment {}", sq / n);
        let p3 = f64::from(beyond3) / n;
        assert!((p3 - libm::exp(-3.0)).abs() < 0.001, "P(X>3) {p3}");
        // e^-8 * 2e6 = 671 expected in the tail beyond R's neighbourhood.
        assert!((550..800).contains(&beyond8), "beyond 8: {beyond8}");
    }

    #[test]
    fn constant_and_bounds_are_exact() {
        let mut rng = Stream::new(1, Purpose::QueryTime);
        assert_eq!(sample(&Constant { value_us: 7 }, &mut rng), 7);
        for _ in 0..10_000 {
            let v = sample(
                &Uniform {
                    min_us: 5,
                    max_us: 9,
                },
                &mut rng,
            );
            assert!((5..=9).contains(&v));
        }
    }
}

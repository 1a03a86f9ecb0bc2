//! Closed-form queueing results that the poolsim simulator is checked against.
//!
//! A connection pool with `c` connections is modelled as a queue with `c` servers: a
//! request holds a connection for its service time and waits first-come-first-served
//! (FCFS) when all connections are busy. This crate gives the classical answers for the
//! Markovian case, in which requests arrive as a Poisson process of rate `λ` (per second)
//! and service times are exponential with mean `1/μ` (seconds):
//!
//! * [`erlang_b`] and [`erlang_c`]: the Erlang loss and delay formulas (A. K. Erlang, 1917).
//! * [`mmc`]: the M/M/c FCFS queue with unlimited patience (see e.g. L. Kleinrock,
//!   *Queueing Systems*, vol. 1, 1975, section 3.5).
//! * [`mmc_patience`]: the M/M/c+D queue, in which every request waits at most a fixed
//!   time `τ` (the pool's acquire timeout) and then abandons.
//! * [`usl_speed`], [`usl_throughput`], [`usl_peak_concurrency`]: the Universal
//!   Scalability Law of N. J. Gunther applied to processor sharing on a database server.
//! * [`littles_law_erlangs`]: Little's law `L = λ W` (J. D. C. Little, 1961).
//!
//! All transcendental functions are taken from the `libm` crate rather than from `std`,
//! so every result is bit-identical on every target, including `wasm32`. No function
//! panics: invalid input (zero servers, negative, infinite or NaN rates and times, an
//! unstable load where stability is required) gives `None` or the documented value.

#![forbid(unsafe_code)]

#[cfg(test)]
mod tests;

/// Offered load in Erlangs by Little's law: `a = λ · W`.
///
/// With `arrival_rate_per_s = λ` and `mean_hold_s = W`, the mean time a request holds a
/// resource, `a` is the mean number of resources held when capacity is unlimited (the
/// offered load). No input is checked: the plain product is returned, so NaN or infinite
/// input gives a NaN or infinite result.
pub fn littles_law_erlangs(arrival_rate_per_s: f64, mean_hold_s: f64) -> f64 {
    arrival_rate_per_s * mean_hold_s
}

/// Erlang B: the probability that an arrival finds all `servers` busy in the M/M/c/c
/// loss system (blocked requests are lost) with offered load `a = λ/μ` Erlangs.
///
/// Computed by the numerically stable recursion `B(0) = 1`,
/// `B(k) = a B(k-1) / (k + a B(k-1))`, which never forms `a^c / c!`. The cost is
/// `O(servers)` steps, stopping early once `B` underflows to zero.
///
/// Returns `1.0` when `servers == 0` or `a == +∞`, `0.0` when `a == 0` and `servers > 0`,
/// and NaN when `a` is negative or NaN.
pub fn erlang_b(servers: u32, offered_erlangs: f64) -> f64 {
    let a = offered_erlangs;
    if a.is_nan() || a < 0.0 {
        return f64::NAN;
    }
    if a == f64::INFINITY {
        return 1.0;
    }
    let mut b = 1.0;
    for k in 1..=servers {
        let ab = a * b;
        b = ab / (f64::from(k) + ab);
        if b == 0.0 {
            break;
        }
    }
    b
}

/// Erlang C: the probability that an arrival has to wait in the M/M/c queue with
/// `servers = c` and offered load `a = λ/μ` Erlangs.
///
/// Computed from Erlang B as `C = c B / (c - a (1 - B))`, where `B = erlang_b(c, a)`.
/// Returns `None` when `c == 0`, when `a` is negative, NaN or infinite, or when
/// `a >= c` (the queue is unstable and every arrival waits, for an unbounded time).
pub fn erlang_c(servers: u32, offered_erlangs: f64) -> Option<f64> {
    let a = offered_erlangs;
    let c = f64::from(servers);
    if servers == 0 || !a.is_finite() || a < 0.0 || a >= c {
        return None;
    }
    let b = erlang_b(servers, a);
    Some(c * b / (c - a * (1.0 - b)))
}

/// Steady-state results of the M/M/c FCFS queue with unlimited patience, from [`mmc`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mmc {
    /// Offered load `a = λ/μ` in Erlangs, the mean number of busy servers.
    pub offered_erlangs: f64,
    /// Server utilisation `ρ = a/c`, in `[0, 1)`.
    pub utilization: f64,
    /// Probability that an arrival waits, the Erlang C value `C(c, a)`.
    pub wait_probability: f64,
    /// Mean wait in the queue over all arrivals, `E[W] = C / (cμ - λ)`, in seconds.
    pub mean_wait_s: f64,
    /// Mean response time `E[W] + 1/μ`, in seconds.
    pub mean_response_s: f64,
    /// Mean number of waiting requests, `λ E[W]` by Little's law.
    pub mean_queue_length: f64,
}

/// Another name for [`Mmc`], the results of the M/M/c FCFS queue.
pub type MmcFcfs = Mmc;

impl Mmc {
    /// The `q`-quantile of the wait in the queue, in seconds.
    ///
    /// In M/M/c FCFS the wait has an atom at zero of mass `1 - C` and an exponential
    /// tail: `P(W > t) = C e^{-(cμ - λ) t}` for `t >= 0`. The quantile is therefore `0`
    /// when `q <= 1 - C` and `ln(C / (1 - q)) / (cμ - λ)` otherwise; the decay rate
    /// `cμ - λ` is recovered from the fields as `C / E[W]`. Returns `+∞` for `q >= 1`
    /// (unless `C == 0`, when every quantile is `0`) and NaN for a NaN `q`.
    pub fn wait_quantile_s(&self, q: f64) -> f64 {
        let c = self.wait_probability;
        if q.is_nan() {
            return f64::NAN;
        }
        if c <= 0.0 || q <= 1.0 - c {
            return 0.0;
        }
        if q >= 1.0 {
            return f64::INFINITY;
        }
        self.mean_wait_s / c * libm::log(c / (1.0 - q))
    }
}

/// The M/M/c FCFS queue with unlimited patience: `servers = c`, Poisson arrivals at
/// `arrival_rate_per_s = λ`, exponential service with mean `mean_service_s = 1/μ`.
///
/// Returns `None` when `c == 0`, when `λ` is negative or not finite, when the mean
/// service time is not finite and positive, when the load is unstable (`λ >= cμ`), or
/// when a result overflows.
pub fn mmc(servers: u32, arrival_rate_per_s: f64, mean_service_s: f64) -> Option<Mmc> {
    if !valid_rate(arrival_rate_per_s) || !valid_positive(mean_service_s) {
        return None;
    }
    let a = arrival_rate_per_s * mean_service_s;
    let wait_probability = erlang_c(servers, a)?;
    let c = f64::from(servers);
    // 1 / (cμ - λ) = (1/μ) / (c - a); c - a > 0 is exact in floating point.
    let mean_wait_s = wait_probability * mean_service_s / (c - a);
    let result = Mmc {
        offered_erlangs: a,
        utilization: a / c,
        wait_probability,
        mean_wait_s,
        mean_response_s: mean_wait_s + mean_service_s,
        mean_queue_length: arrival_rate_per_s * mean_wait_s,
    };
    let finite = [
        result.mean_wait_s,
        result.mean_response_s,
        result.mean_queue_length,
    ];
    finite.iter().all(|x| x.is_finite()).then_some(result)
}

/// Steady-state results of the M/M/c+D queue (fixed patience), from [`mmc_patience`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmcPatience {
    /// Probability that an arrival abandons, `P(V > τ)`.
    pub abandon_probability: f64,
    /// Probability that an arrival finds all servers busy, `P(V > 0)`; it includes the
    /// arrivals that later abandon.
    pub wait_probability: f64,
    /// Mean wait of the arrivals that are served (those with `V <= τ`, including the
    /// ones that do not wait at all), in seconds.
    pub mean_wait_served_s: f64,
    /// Mean wait over all arrivals, counting `τ` for every abandoning arrival, in seconds.
    pub mean_wait_all_s: f64,
    /// Rate of served requests, `λ (1 - P(abandon))`, per second.
    pub throughput_per_s: f64,
    /// Mean number of busy servers, `throughput / μ`.
    pub mean_busy_servers: f64,
}

/// The M/M/c+D queue: `servers = c`, Poisson arrivals at `arrival_rate_per_s = λ`,
/// exponential service with mean `mean_service_s = 1/μ`, FCFS, and every request waits
/// at most `patience_s = τ` and then abandons without being served. The queue is
/// stable for every load, including `λ > cμ`.
///
/// Derivation (level crossing on the virtual waiting time `V`, the wait an arrival
/// would get; abandoning requests add no work, so `V` only jumps, by an exponential
/// amount of rate `cμ`, when an arrival sees `V <= τ`). With `a = λ/μ` and `γ = λ - cμ`:
///
/// * with `V = 0` and `j < c` busy servers, `π_j = π_0 a^j / j!`;
/// * for `0 < x <= τ` the density of `V` is `g(x) = λ π_{c-1} e^{γ x}`;
/// * for `x > τ`, `g(x) = g(τ) e^{-cμ (x - τ)}`;
/// * `Σ_{j<c} π_j + ∫_0^∞ g = 1`.
///
/// By PASTA an arrival sees the time-stationary `V`, so `P(abandon) = P(V > τ) =
/// λ π_{c-1} e^{γτ} / (cμ)`, `P(wait) = P(V > 0)`, the mean wait of the served is
/// `∫_0^τ x g(x) dx / (Σ_{j<c} π_j + ∫_0^τ g)` and the mean wait of all arrivals adds
/// `τ P(abandon)` to the numerator and divides by 1. For `τ → ∞` and `λ < cμ` the
/// results tend to those of [`mmc`]; for `τ = 0`, `P(abandon) = P(wait)`.
///
/// Numerically, `Σ_{j<c} π_j / π_{c-1}` is `1 / B(c-1, a)` (Erlang B, no factorials),
/// every mass is multiplied by `e^{-max(γτ, 0)}` so that `e^{γτ}` never overflows, and
/// `∫_0^τ e^{γx} dx`, `∫_0^τ x e^{γx} dx` use `expm1` and a power series near `γτ = 0`,
/// so `γ = 0` needs no special case.
///
/// Returns `None` when `c == 0`, when `λ` or `τ` is negative or not finite, when the
/// mean service time is not finite and positive, or when a result is not finite.
pub fn mmc_patience(
    servers: u32,
    arrival_rate_per_s: f64,
    mean_service_s: f64,
    patience_s: f64,
) -> Option<MmcPatience> {
    let (lambda, s, tau) = (arrival_rate_per_s, mean_service_s, patience_s);
    if servers == 0 || !valid_rate(lambda) || !valid_positive(s) || !valid_rate(tau) {
        return None;
    }
    let c = f64::from(servers);
    let a = lambda * s;
    let z = (a - c) * (tau / s); // γτ
    let lambda_pi = lambda * erlang_b(servers - 1, a); // λ π_{c-1}, with Σ_{j<c} π_j = 1
    // Every mass below is multiplied by e^{-max(z, 0)}.
    let no_wait = libm::exp(-z.max(0.0));
    let waiting = lambda_pi * tau * exp_mean(-z.abs());
    let abandoning = lambda_pi * libm::exp(z.min(0.0)) * s / c;
    let wait_moment = lambda_pi * scaled_first_moment(tau, z);
    let total = no_wait + waiting + abandoning;
    let abandon_probability = abandoning / total;
    let throughput_per_s = lambda * (1.0 - abandon_probability);
    let result = MmcPatience {
        abandon_probability,
        wait_probability: (waiting + abandoning) / total,
        mean_wait_served_s: wait_moment / (no_wait + waiting),
        mean_wait_all_s: (wait_moment + tau * abandoning) / total,
        throughput_per_s,
        mean_busy_servers: throughput_per_s * s,
    };
    let fields = [
        result.abandon_probability,
        result.wait_probability,
        result.mean_wait_served_s,
        result.mean_wait_all_s,
        result.throughput_per_s,
        result.mean_busy_servers,
    ];
    fields.iter().all(|x| x.is_finite()).then_some(result)
}

/// `∫_0^1 e^{y u} du = (e^y - 1) / y`, equal to 1 at `y = 0`.
fn exp_mean(y: f64) -> f64 {
    if y == 0.0 { 1.0 } else { libm::expm1(y) / y }
}

/// `e^{-max(z, 0)} ∫_0^τ x e^{γ x} dx` with `z = γ τ`.
///
/// Near `z = 0` it is `τ² e^{-max(z, 0)} Σ_k z^k / (k! (k + 2))`; otherwise the closed
/// forms `(τ/z)² (1 - e^z (1 - z))` for `z <= -1` and `(τ/z)² (z - 1 + e^{-z})` for
/// `z >= 1`, which have no cancellation there and never form `e^z` for large `z`.
fn scaled_first_moment(tau: f64, z: f64) -> f64 {
    if z <= -1.0 {
        let r = tau / z;
        r * r * (1.0 - libm::exp(z) * (1.0 - z))
    } else if z >= 1.0 {
        let r = tau / z;
        r * r * (z - 1.0 + libm::exp(-z))
    } else {
        let (mut term, mut sum) = (1.0, 0.0);
        for k in 0..30 {
            let kf = f64::from(k);
            sum += term / (kf + 2.0);
            term *= z / (kf + 1.0);
        }
        tau * tau * sum * libm::exp(-z.max(0.0))
    }
}

/// Speed of each of `n` concurrent queries on a database with `cores` cores, relative to
/// one query running alone: `min(1, cores/n) / (1 + σ (n - 1) + κ n (n - 1))`.
///
/// The numerator is processor sharing (each query gets at most one core); the
/// denominator is the Universal Scalability Law of N. J. Gunther, with contention
/// coefficient `σ` (`sigma`) and coherency coefficient `κ` (`kappa`). Returns `1.0` for
/// `n == 0` and `0.0` when `cores == 0` or when `σ` or `κ` is negative, NaN or infinite.
pub fn usl_speed(n: u32, cores: u32, sigma: f64, kappa: f64) -> f64 {
    if !valid_rate(sigma) || !valid_rate(kappa) {
        return 0.0;
    }
    if n == 0 {
        return 1.0;
    }
    let nf = f64::from(n);
    let share = (f64::from(cores) / nf).min(1.0);
    share / (1.0 + sigma * (nf - 1.0) + kappa * nf * (nf - 1.0))
}

/// Throughput of `n` concurrent queries relative to one query alone:
/// `n · usl_speed(n, cores, sigma, kappa)` (so `0.0` for `n == 0`).
pub fn usl_throughput(n: u32, cores: u32, sigma: f64, kappa: f64) -> f64 {
    f64::from(n) * usl_speed(n, cores, sigma, kappa)
}

/// The concurrency `n` in `1..=max_n` with the highest [`usl_throughput`], found by
/// scanning every `n` (`O(max_n)`, so the caller bounds `max_n`); the smallest such `n`
/// on ties. Returns `0` when `max_n == 0`, and `1` when every throughput is `0.0`.
pub fn usl_peak_concurrency(cores: u32, sigma: f64, kappa: f64, max_n: u32) -> u32 {
    let (mut best_n, mut best) = (0, f64::NEG_INFINITY);
    for n in 1..=max_n {
        let x = usl_throughput(n, cores, sigma, kappa);
        if x > best {
            (best_n, best) = (n, x);
        }
    }
    best_n
}

/// A finite, non-negative number.
fn valid_rate(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

/// A finite, strictly positive number.
fn valid_positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

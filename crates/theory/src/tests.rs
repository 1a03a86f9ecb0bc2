use super::*;

fn assert_close(actual: f64, expected: f64, tol: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: got {actual}, expected {expected} ± {tol}"
    );
}

/// Erlang C by the textbook sum, for small `c` only.
fn erlang_c_direct(c: u32, a: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 0.0); // term = a^k / k!
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let top = term * f64::from(c) / (f64::from(c) - a);
    top / (sum + top)
}

#[test]
fn erlang_b_known_values() {
    assert_eq!(erlang_b(0, 3.0), 1.0);
    assert_eq!(erlang_b(5, 0.0), 0.0);
    assert_close(erlang_b(1, 1.0), 0.5, 1e-15, "B(1,1)");
    assert_close(erlang_b(2, 1.0), 0.2, 1e-15, "B(2,1)");
    assert!(erlang_b(u32::MAX, 1.0) == 0.0); // stops early once B underflows
}

#[test]
fn erlang_c_matches_direct_sum() {
    for c in 1..=12 {
        for step in 0..20 {
            let a = f64::from(c) * f64::from(step) / 20.0;
            let got = erlang_c(c, a).unwrap();
            assert_close(got, erlang_c_direct(c, a), 1e-12, "erlang_c");
        }
    }
}

#[test]
fn mmc_pool_of_ten() {
    // c = 10, 20 ms mean service, 400 requests/s: a = 8 Erlangs.
    let m = mmc(10, 400.0, 0.020).unwrap();
    assert_close(m.offered_erlangs, 8.0, 1e-12, "a");
    assert_close(m.utilization, 0.8, 1e-12, "rho");
    assert_close(m.wait_probability, 0.40918, 5e-6, "P(wait)");
    assert_close(m.mean_wait_s, 4.0918e-3, 5e-8, "E[W]");
    assert_close(m.mean_response_s, 24.0918e-3, 5e-8, "E[R]");
    assert_close(m.mean_queue_length, 400.0 * m.mean_wait_s, 1e-12, "Lq");
    let p99 = m.wait_quantile_s(0.99);
    assert_close(
        p99,
        libm::log(m.wait_probability / 0.01) / 100.0,
        1e-12,
        "p99",
    );
    assert_close(p99, 37.1e-3, 0.05e-3, "p99 ms");
    assert_eq!(m.wait_quantile_s(0.5), 0.0); // 0.5 <= 1 - C
    assert_eq!(m.wait_quantile_s(1.0), f64::INFINITY);
    assert!(m.wait_quantile_s(f64::NAN).is_nan());
}

#[test]
fn mmc_pool_of_four_near_saturation() {
    let m = mmc(4, 190.0, 0.020).unwrap();
    assert_close(m.mean_response_s, 109.14e-3, 0.005e-3, "E[R]");
}

#[test]
fn patience_overloaded_pool() {
    // c = 10, 20 ms, 600/s (cμ = 500), τ = 250 ms: γ = 100/s, γτ = 25.
    let p = mmc_patience(10, 600.0, 0.020, 0.250).unwrap();
    assert_close(p.abandon_probability, 1.0 / 6.0, 1e-6, "P(abandon)");
    let (g, tau) = (100.0, 0.25);
    let served = tau - 1.0 / g + tau / libm::expm1(g * tau);
    assert_close(p.mean_wait_served_s, served, 0.1e-3, "E[W | served]");
    assert_close(p.mean_wait_served_s, 0.240, 0.1e-3, "240 ms");
    assert_close(p.throughput_per_s, 500.0, 1e-3, "throughput = cμ");
    assert_close(p.mean_busy_servers, 10.0, 1e-5, "busy");
    assert!(p.wait_probability > 1.0 - 1e-9);
    let all = (1.0 - p.abandon_probability) * p.mean_wait_served_s + p.abandon_probability * tau;
    assert_close(p.mean_wait_all_s, all, 1e-12, "E[W]");
}

#[test]
fn patience_huge_exponent_is_finite() {
    // γτ = 3000: e^{3000} would overflow without rescaling.
    let p = mmc_patience(10, 600.0, 0.020, 30.0).unwrap();
    assert_close(p.abandon_probability, 1.0 / 6.0, 1e-9, "P(abandon)");
    assert_close(p.mean_wait_served_s, 30.0 - 0.01, 1e-9, "E[W | served]");
}

#[test]
fn patience_converges_to_erlang_c() {
    for (c, lambda) in [(10, 400.0), (4, 190.0), (1, 30.0)] {
        let m = mmc(c, lambda, 0.020).unwrap();
        let p = mmc_patience(c, lambda, 0.020, 1e4).unwrap();
        assert!(p.abandon_probability < 1e-300);
        assert_close(p.wait_probability, m.wait_probability, 1e-12, "P(wait)");
        assert_close(p.mean_wait_served_s, m.mean_wait_s, 1e-12, "E[W]");
        assert_close(p.mean_wait_all_s, m.mean_wait_s, 1e-12, "E[W] all");
        assert_close(p.mean_busy_servers, m.offered_erlangs, 1e-9, "busy");
    }
}

#[test]
fn patience_zero_means_waiters_leave() {
    let p = mmc_patience(10, 400.0, 0.020, 0.0).unwrap();
    // With τ = 0 this is the Erlang loss system: P(V > 0) = B(c, a).
    assert_close(p.wait_probability, erlang_b(10, 8.0), 1e-12, "P(wait)");
    assert_eq!(p.abandon_probability, p.wait_probability);
    assert_eq!(p.mean_wait_served_s, 0.0);
    assert_eq!(p.mean_wait_all_s, 0.0);
}

#[test]
fn patience_is_continuous_at_critical_load() {
    // γ = 0 exactly (λ = cμ) against loads just below and just above.
    let at = mmc_patience(2, 2.0, 1.0, 3.0).unwrap();
    for lambda in [2.0 - 1e-7, 2.0 + 1e-7] {
        let near = mmc_patience(2, lambda, 1.0, 3.0).unwrap();
        assert_close(
            near.abandon_probability,
            at.abandon_probability,
            1e-6,
            "P(ab)",
        );
        assert_close(near.mean_wait_served_s, at.mean_wait_served_s, 1e-6, "E[W]");
    }
    // At γ = 0: g is flat, so E[W | served] = (λπ τ²/2) / (S + λπ τ).
    let lp = 2.0 * erlang_b(1, 2.0); // λ π_1 with π_0 = 1
    assert_close(
        at.mean_wait_served_s,
        lp * 4.5 / (1.0 + lp * 3.0),
        1e-12,
        "γ=0",
    );
}

/// Brute force: build the masses from π_j = π_0 a^j / j! and integrate `g` by Simpson's rule.
fn brute_force(c: u32, lambda: f64, s: f64, tau: f64) -> (f64, f64, f64) {
    let (mu, a) = (1.0 / s, lambda * s);
    let (mut pi_j, mut no_wait) = (1.0, 0.0);
    for j in 0..c {
        if j > 0 {
            pi_j *= a / f64::from(j);
        }
        no_wait += pi_j;
    }
    let cmu = f64::from(c) * mu;
    let g_tau = lambda * pi_j * libm::exp((lambda - cmu) * tau);
    let g = |x: f64| {
        if x <= tau {
            lambda * pi_j * libm::exp((lambda - cmu) * x)
        } else {
            g_tau * libm::exp(-cmu * (x - tau))
        }
    };
    let simpson = |f: &dyn Fn(f64) -> f64, lo: f64, hi: f64| {
        let n = 20_000;
        let h = (hi - lo) / f64::from(n);
        let mut sum = f(lo) + f(hi);
        for i in 1..n {
            sum += f(lo + h * f64::from(i)) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        sum * h / 3.0
    };
    let queued = simpson(&g, 0.0, tau);
    let moment = simpson(&|x| x * g(x), 0.0, tau);
    let tail = simpson(&g, tau, tau + 60.0 / cmu);
    let total = no_wait + queued + tail;
    (
        tail / total,
        (queued + tail) / total,
        moment / (no_wait + queued),
    )
}

#[test]
fn patience_matches_numeric_integration() {
    for (c, lambda, s, tau) in [(4, 3.5, 1.0, 0.8), (4, 5.0, 1.0, 2.0), (3, 2.0, 0.5, 1.3)] {
        let p = mmc_patience(c, lambda, s, tau).unwrap();
        let (ab, wait, served) = brute_force(c, lambda, s, tau);
        assert_close(p.abandon_probability, ab, 1e-10, "P(abandon)");
        assert_close(p.wait_probability, wait, 1e-10, "P(wait)");
        assert_close(p.mean_wait_served_s, served, 1e-10, "E[W | served]");
    }
}

/// A FCFS M/M/c+D simulation: an arrival starts on the earliest free server unless
/// that is more than τ away, in which case it abandons and uses no server time.
fn simulate(c: usize, lambda: f64, s: f64, tau: f64, n: u32) -> (f64, f64) {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut exp_sample = |mean: f64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let u = (state >> 11) as f64 / (1u64 << 53) as f64;
        -mean * libm::log(1.0 - u)
    };
    let (mut free, mut t) = (vec![0.0_f64; c], 0.0);
    let (mut abandoned, mut served, mut wait_sum) = (0u32, 0u32, 0.0);
    for _ in 0..n {
        t += exp_sample(1.0 / lambda);
        let mut k = 0;
        for i in 1..c {
            if free[i] < free[k] {
                k = i;
            }
        }
        let wait = (free[k] - t).max(0.0);
        if wait > tau {
            abandoned += 1;
        } else {
            free[k] = t + wait + exp_sample(s);
            served += 1;
            wait_sum += wait;
        }
    }
    (
        f64::from(abandoned) / f64::from(n),
        wait_sum / f64::from(served),
    )
}

#[test]
fn patience_matches_simulation() {
    for (c, lambda, tau) in [(3, 2.7, 0.5), (3, 4.0, 1.0)] {
        let p = mmc_patience(c, lambda, 1.0, tau).unwrap();
        let (ab, served) = simulate(c as usize, lambda, 1.0, tau, 2_000_000);
        assert_close(ab, p.abandon_probability, 0.002, "simulated P(abandon)");
        let rel = (served - p.mean_wait_served_s).abs() / p.mean_wait_served_s;
        assert!(rel < 0.01, "simulated E[W | served] {served} vs {p:?}");
    }
}

#[test]
fn usl_values() {
    assert_eq!(usl_speed(0, 4, 0.1, 0.01), 1.0);
    assert_eq!(usl_speed(1, 4, 0.1, 0.01), 1.0);
    assert_close(
        usl_speed(8, 4, 0.1, 0.01),
        0.5 / (1.0 + 0.7 + 0.56),
        1e-15,
        "speed",
    );
    assert_close(usl_throughput(8, 4, 0.1, 0.01), 4.0 / 2.26, 1e-15, "X(8)");
    assert_eq!(usl_throughput(0, 4, 0.1, 0.01), 0.0);
    // Without contention the peak is at n = cores (first maximum on the plateau).
    assert_eq!(usl_peak_concurrency(8, 0.0, 0.0, 100), 8);
    // σ = 0, κ = 0.01, cores ≥ n: X = n / (1 + 0.01 n (n-1)) peaks at n = 10.
    assert_eq!(usl_peak_concurrency(64, 0.0, 0.01, 64), 10);
    assert_eq!(usl_peak_concurrency(64, 0.0, 0.01, 5), 5);
    assert_eq!(usl_peak_concurrency(8, 0.1, 0.01, 0), 0);
    assert_close(littles_law_erlangs(400.0, 0.02), 8.0, 1e-12, "Little");
}

#[test]
fn invalid_inputs_do_not_panic() {
    let bad = [f64::NAN, -1.0, f64::INFINITY, f64::NEG_INFINITY];
    assert!(erlang_b(3, f64::NAN).is_nan() && erlang_b(3, -1.0).is_nan());
    assert_eq!(erlang_b(3, f64::INFINITY), 1.0);
    assert_eq!(erlang_c(0, 0.5), None);
    assert_eq!(erlang_c(4, 4.0), None);
    assert_eq!(mmc(0, 1.0, 0.02), None);
    assert_eq!(mmc(10, 500.0, 0.02), None);
    assert_eq!(mmc(10, 1.0, 0.0), None);
    assert_eq!(mmc_patience(0, 1.0, 0.02, 0.1), None);
    assert_eq!(mmc_patience(4, 1.0, 0.0, 0.1), None);
    for x in bad {
        assert_eq!(erlang_c(4, x), None);
        assert_eq!(mmc(4, x, 0.02), None);
        assert_eq!(mmc(4, 1.0, x), None);
        assert_eq!(mmc_patience(4, x, 0.02, 0.1), None);
        assert_eq!(mmc_patience(4, 1.0, x, 0.1), None);
        assert_eq!(mmc_patience(4, 1.0, 0.02, x), None);
        assert_eq!(usl_speed(3, 2, x, 0.0), 0.0);
        assert_eq!(usl_speed(3, 2, 0.0, x), 0.0);
        assert_eq!(usl_peak_concurrency(2, x, 0.0, 10), 1);
    }
    // Zero arrivals, extreme magnitudes: defined results or None, never a panic.
    let idle = mmc_patience(4, 0.0, 0.02, 0.1).unwrap();
    assert_eq!(
        (idle.abandon_probability, idle.mean_wait_served_s),
        (0.0, 0.0)
    );
    assert_eq!(mmc(4, 0.0, 0.02).unwrap().wait_quantile_s(0.99), 0.0);
    for (l, s, t) in [
        (1e300, 1e300, 1e300),
        (1e-300, 1e300, 1e300),
        (1e300, 1e-300, 0.0),
    ] {
        let _ = mmc(u32::MAX, l, s);
        let _ = mmc_patience(u32::MAX, l, s, t);
        let _ = mmc_patience(1, l, s, t);
    }
}

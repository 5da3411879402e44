//! The 0.975 quantile of Student's t distribution (Hill 1970, ACM Algorithm 396).

use crate::wilson::Z95;

/// From this many degrees of freedom on, [`t_quantile_975`] returns [`Z95`]
/// (`t(10⁶) − z ≈ 2.4·10⁻⁶`).
pub const Z_FALLBACK_DF: u64 = 1_000_000;

/// `t_{0.975, df}`: the multiplier of the standard error in a two-sided 95 % interval with `df`
/// degrees of freedom. `df == 0` has no t distribution and is treated as 1.
///
/// df 1 and 2 have closed forms (`1/tan(π/40)` and `√(2/(α(2−α)) − 2)` with `α = 0.05`); otherwise
/// G. W. Hill's approximation (Comm. ACM 13(10), 1970, Algorithm 396 "Student's t-quantiles"),
/// without the later Taylor refinement: accurate to better than 10⁻⁴ for every df (tested against
/// table values); from [`Z_FALLBACK_DF`] degrees of freedom on, the normal quantile [`Z95`].
#[must_use]
pub fn t_quantile_975(df: u64) -> f64 {
    const ALPHA: f64 = 0.05; // two-sided tail probability
    match df {
        0 | 1 => 1.0 / (ALPHA * std::f64::consts::FRAC_PI_2).tan(),
        2 => (2.0 / (ALPHA * (2.0 - ALPHA)) - 2.0).sqrt(),
        d if d >= Z_FALLBACK_DF => Z95,
        d => hill(d as f64, ALPHA),
    }
}

/// Hill (1970): the upper `alpha/2` quantile of t with `n > 2` degrees of freedom.
fn hill(n: f64, alpha: f64) -> f64 {
    use std::f64::consts::FRAC_PI_2;
    let a = 1.0 / (n - 0.5);
    let b = 48.0 / (a * a);
    let mut c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36;
    let d = ((94.5 / (b + c) - 3.0) / b + 1.0) * (a * FRAC_PI_2).sqrt() * n;
    let mut y = (d * alpha).powf(2.0 / n);
    if y > 0.05 + a {
        // Asymptotic inverse expansion about the normal quantile (lower tail: x < 0).
        let x = -Z95;
        y = x * x;
        if n < 5.0 {
            c += 0.3 * (n - 4.5) * (x + 0.6);
        }
        c += (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b;
        y = (((((0.4 * y + 6.3) * y + 36.0) * y + 94.5) / c - y - 3.0) / b + 1.0) * x;
        y = (a * y * y).exp_m1();
    } else {
        y = ((1.0 / (((n + 6.0) / (n * y) - 0.089 * d - 0.822) * (n + 2.0) * 3.0)
            + 0.5 / (n + 4.0))
            * y
            - 1.0)
            * (n + 1.0)
            / (n + 2.0)
            + 1.0 / y;
    }
    (n * y).sqrt()
}

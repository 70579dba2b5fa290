//! The standard normal tail and its inverse, accurate far into the tail, for the φ
//! accrual detector.
//!
//! - [`neg_log10_tail`]`(y) = -log10(1 - Φ(y))`: `erfc` (from `libm`) while the tail
//!   probability is representable, then the log of Laplace's continued fraction for
//!   the Mills ratio, so φ keeps growing smoothly (≈ `y²/(2 ln 10)`) instead of
//!   becoming `+∞` or NaN; `+∞` only when `y²` overflows.
//! - [`tail_quantile`]`(threshold) = Φ⁻¹(1 - 10^-threshold)`, computed from the tail
//!   probability `p = 10^-threshold` itself (never from `1 - p`): Wichura's algorithm
//!   AS 241 (`PPND16`, Applied Statistics 37(3), 1988), accurate to about 1e-16
//!   relative, with `ln p = -threshold·ln 10` passed in exactly so that thresholds past
//!   the `f64` range of `p` still work; beyond `p ≈ 1e-300` Newton steps on the
//!   continued fraction refine the result to within an ulp.

// The AS 241 coefficients are written as published, past f64 precision.
#![allow(clippy::excessive_precision)]

use std::f64::consts::{LN_10, SQRT_2};

/// `ln(2π)/2`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_741_780_329_736_4;

/// Beyond this `y`, [`neg_log10_tail`] uses the continued fraction.
const FAR_TAIL: f64 = 20.0;

fn poly(c: &[f64; 8], r: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &k| acc * r + k)
}

const A: [f64; 8] = [
    3.387132872796366608,
    133.14166789178437745,
    1971.5909503065514427,
    13731.693765509461125,
    45921.953931549871457,
    67265.770927008700853,
    33430.575583588128105,
    2509.0809287301226727,
];
const B: [f64; 8] = [
    1.0,
    42.313330701600911252,
    687.1870074920579083,
    5394.1960214247511077,
    21213.794301586595867,
    39307.89580009271061,
    28729.085735721942674,
    5226.495278852854561,
];
const C: [f64; 8] = [
    1.42343711074968357734,
    4.6303378461565452959,
    5.7694972214606914055,
    3.64784832476320460504,
    1.27045825245236838258,
    0.24178072517745061177,
    0.0227238449892691845833,
    7.7454501427834140764e-4,
];
const D: [f64; 8] = [
    1.0,
    2.05319162663775882187,
    1.6763848301838038494,
    0.68976733498510000455,
    0.14810397642748007459,
    0.0151986665636164571966,
    5.475938084995344946e-4,
    1.05075007164441684324e-9,
];
const E: [f64; 8] = [
    6.6579046435011037772,
    5.4637849111641143699,
    1.7848265399172913358,
    0.29656057182850489123,
    0.026532189526576123093,
    0.0012426609473880784386,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
];
const F: [f64; 8] = [
    1.0,
    0.59983220655588793769,
    0.13692988092273580531,
    0.0148753612908506148525,
    7.868691311456132591e-4,
    1.8463183175100546818e-5,
    1.4215117583164458887e-7,
    2.04426310338993978564e-15,
];

/// AS 241's tail branch: the positive deviate whose tail probability is `exp(-r²)`.
fn tail_branch(r: f64) -> f64 {
    if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    }
}

/// Mills ratio `R(y) = (1 - Φ(y)) / φ(y)` for `y >= FAR_TAIL`, by Laplace's continued
/// fraction `1/(y + 1/(y + 2/(y + 3/(y + …))))`, evaluated backwards from a fixed depth.
fn mills_ratio(y: f64) -> f64 {
    let mut t = y;
    for k in (1..=40).rev() {
        t = y + f64::from(k) / t;
    }
    1.0 / t
}

/// `-ln(1 - Φ(y))` for `y >= FAR_TAIL`.
fn neg_ln_tail_far(y: f64) -> f64 {
    0.5 * y * y + HALF_LN_2PI - mills_ratio(y).ln()
}

/// `-log10(1 - Φ(y))`, the φ of a standard deviate `y`: non-negative, non-decreasing,
/// `0` at `y = -∞`, `+∞` only at `y = +∞` or when `y²` overflows; never NaN for a
/// non-NaN `y`.
pub fn neg_log10_tail(y: f64) -> f64 {
    if y < FAR_TAIL {
        let q = 0.5 * libm::erfc(y / SQRT_2);
        (-q.log10()).max(0.0)
    } else {
        neg_ln_tail_far(y) / LN_10
    }
}

/// `z = Φ⁻¹(1 - 10^-threshold)`: the standard deviate whose φ is `threshold`.
/// `-∞` for `threshold <= 0`, `+∞` for `threshold = +∞`.
pub fn tail_quantile(threshold: f64) -> f64 {
    if threshold.is_nan() {
        return f64::NAN;
    }
    if threshold <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if threshold == f64::INFINITY {
        return f64::INFINITY;
    }
    let x = threshold * LN_10; // -ln p
    let p = (-x).exp();
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        // Φ⁻¹(p) = q·A(r)/B(r); z = Φ⁻¹(1 - p) = -Φ⁻¹(p).
        return -q * poly(&A, r) / poly(&B, r);
    }
    if q > 0.0 {
        // p close to 1: the lower tail 1 - p is small, z negative.
        let r = (-(-libm::expm1(-x)).ln()).sqrt();
        return -tail_branch(r);
    }
    let r = x.sqrt();
    let mut z = tail_branch(r);
    if r > 26.0 {
        // Past AS 241's tested range: Newton on -ln Q(z) = x, whose derivative is
        // 1/R(z), until a step no longer moves z (at most four steps).
        for _ in 0..4 {
            let next = z - (neg_ln_tail_far(z) - x) * mills_ratio(z);
            if next == z {
                break;
            }
            z = next;
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    /// `(threshold, z)` with `z = Φ⁻¹(1 - 10^-threshold)`, from mpmath at 50 digits.
    const Z: [(f64, f64); 12] = [
        (0.01, -1.999765810183584518176794),
        (0.1, -0.8215316028830921724121574),
        (0.5, 0.4782735323761626706432697),
        (1.0, 1.281551565544600466965103),
        (2.0, 2.326347874040841100885606),
        (3.0, 3.0902323061678135415404),
        (8.0, 5.612001244174788731549725),
        (16.0, 8.222082216130435612675859),
        (30.0, 11.46402468844361572698226),
        (100.0, 21.27345356096532429511721),
        (300.0, 37.04709629936119923722296),
        (1000.0, 67.78568559660261984188648),
    ];

    /// `(y, -log10(1 - Φ(y)))`, from mpmath at 50 digits.
    const PHI: [(f64, f64); 11] = [
        (-3.0, 0.0005866493137900666910232816),
        (0.0, std::f64::consts::LOG10_2),
        (1.0, 0.7995455414919705000308679),
        (4.0, 4.499334907556478864778785),
        (10.0, 23.11805340548607589426978),
        (20.0, 88.56009534307559192031733),
        (25.0, 137.5147476509955261813623),
        (30.0, 197.3092092616609493899212),
        (38.0, 315.5397897039625078947288),
        (100.0, 2173.871542869034376527531),
        (1000.0, 217150.6400419943862792616),
    ];

    #[test]
    fn quantile_matches_mpmath_far_into_the_tail() {
        for (t, z) in Z {
            let got = tail_quantile(t);
            assert!(rel(got, z) < 1e-12, "threshold {t}: {got} vs {z}");
        }
        // The spec's check values.
        for (t, z) in [(1.0, 1.28155), (2.0, 2.32635), (3.0, 3.09023), (8.0, 5.61200)] {
            assert!((tail_quantile(t) - z).abs() < 5e-6);
        }
        // Near threshold log10(2), z crosses 0.
        assert!(tail_quantile(std::f64::consts::LOG10_2).abs() < 1e-12);
    }

    #[test]
    fn quantile_is_monotone_and_sane_at_the_edges() {
        let mut prev = f64::NEG_INFINITY;
        let mut t = 0.001;
        while t < 5000.0 {
            let z = tail_quantile(t);
            assert!(z.is_finite() && z > prev, "threshold {t}: {z} after {prev}");
            prev = z;
            t *= 1.01;
        }
        assert_eq!(tail_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(tail_quantile(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn tail_matches_mpmath_and_inverts_the_quantile() {
        for (y, phi) in PHI {
            let got = neg_log10_tail(y);
            assert!(rel(got, phi) < 1e-12, "y {y}: {got} vs {phi}");
        }
        for (t, _) in Z {
            let back = neg_log10_tail(tail_quantile(t));
            assert!(rel(back, t) < 1e-9, "threshold {t}: {back}");
        }
    }

    /// At the ends of AS 241's branches its published comparisons decide: `|q| <= 0.425`
    /// is the central branch and `r <= 5` the intermediate one, the refinement starts
    /// past `r = 26`; and `neg_log10_tail` takes the continued fraction from `FAR_TAIL`
    /// on, `erfc` below it.
    #[test]
    fn each_branch_holds_at_its_end() {
        // p = 10^-threshold = 0.075 and q = p - 1/2 = -0.425 exactly at this threshold.
        let t = -(0.075f64).log10();
        let q = (-(t * LN_10)).exp() - 0.5;
        assert_eq!(q, -0.425);
        let r = 0.180625 - q * q;
        assert_eq!(tail_quantile(t), -q * poly(&A, r) / poly(&B, r));
        // r = sqrt(threshold·ln 10) = 5 exactly.
        let t = 25.0 / LN_10;
        assert_eq!((t * LN_10).sqrt(), 5.0);
        assert_eq!(tail_quantile(t), poly(&C, 5.0 - 1.6) / poly(&D, 5.0 - 1.6));
        // r = 26 exactly: AS 241 alone, not yet refined.
        let t = 676.0 / LN_10;
        assert_eq!((t * LN_10).sqrt(), 26.0);
        assert_eq!(tail_quantile(t), poly(&E, 26.0 - 5.0) / poly(&F, 26.0 - 5.0));
        assert_eq!(neg_log10_tail(FAR_TAIL), neg_ln_tail_far(FAR_TAIL) / LN_10);
        let below = f64::from_bits(FAR_TAIL.to_bits() - 1);
        assert_eq!(neg_log10_tail(below), -(0.5 * libm::erfc(below / SQRT_2)).log10());
    }

    /// Past AS 241's tested range (r > 26, thresholds above about 293.6) the refined
    /// quantile is within one ulp of the true one (mpmath at 60 digits), where AS 241
    /// alone, or a single Newton step, is off by up to hundreds of ulps.
    #[test]
    fn the_refined_quantile_is_within_an_ulp() {
        for (t, z) in [
            (300.0, 37.04709629936119923722296251),
            (400.0, 42.81022720661134107260869508),
            (1000.0, 67.78568559660261984188647522),
            (3000.0, 117.4910201344233370355753518),
            (10000.0, 214.5673010793614570807880464),
            (19000.0, 295.7786611826996839407397606),
        ] {
            let got = tail_quantile(t);
            let ulps = (got.to_bits() as i64 - f64::to_bits(z) as i64).abs();
            assert!(ulps <= 1, "threshold {t}: {got} is {ulps} ulps from {z}");
        }
    }

    #[test]
    fn tail_is_never_nan() {
        for y in [
            f64::NEG_INFINITY,
            -1e300,
            -40.0,
            19.999,
            20.0,
            1e10,
            1e160,
            f64::INFINITY,
        ] {
            let v = neg_log10_tail(y);
            assert!(!v.is_nan() && v >= 0.0, "{y}: {v}");
        }
        assert_eq!(neg_log10_tail(f64::INFINITY), f64::INFINITY);
        assert!(neg_log10_tail(1e10).is_finite());
        // Continuous across the switch to the continued fraction.
        assert!(rel(neg_log10_tail(FAR_TAIL - 1e-9), neg_log10_tail(FAR_TAIL)) < 1e-10);
    }
}

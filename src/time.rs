//! Time in integer nanoseconds, and human durations (`250us`, `100ms`, `1.5s`, `2m`, `1h`).
//!
//! Every instant and duration inside fdbench is a [`Nanos`]: a signed 64-bit count of
//! nanoseconds (±292 years), so arithmetic on trace timestamps is exact. Floating point
//! appears only inside detectors' statistics and in reported metrics.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An instant or a duration in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Nanos(pub i64);

impl Nanos {
    /// Zero.
    pub const ZERO: Nanos = Nanos(0);
    /// The largest representable instant.
    pub const MAX: Nanos = Nanos(i64::MAX);
    /// One microsecond.
    pub const MICROSECOND: Nanos = Nanos(1_000);
    /// One millisecond.
    pub const MILLISECOND: Nanos = Nanos(1_000_000);
    /// One second.
    pub const SECOND: Nanos = Nanos(1_000_000_000);

    /// `ms` milliseconds.
    pub const fn from_millis(ms: i64) -> Nanos {
        Nanos(ms * 1_000_000)
    }

    /// `s` seconds.
    pub const fn from_secs(s: i64) -> Nanos {
        Nanos(s * 1_000_000_000)
    }

    /// The raw count of nanoseconds.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// This duration in seconds, as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// This duration in milliseconds, as a float.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Converts a float number of nanoseconds, rounding up to the next whole nanosecond
    /// (the first integer instant at or after `x`). Saturates at the range ends; NaN maps
    /// to [`Nanos::MAX`].
    pub fn ceil_f64(x: f64) -> Nanos {
        if x.is_nan() {
            return Nanos::MAX;
        }
        if x >= i64::MAX as f64 {
            Nanos::MAX
        } else if x <= i64::MIN as f64 {
            Nanos(i64::MIN)
        } else {
            Nanos(ceil_in_range(x))
        }
    }

    /// `self + rhs`, or `None` on overflow.
    pub fn checked_add(self, rhs: Nanos) -> Option<Nanos> {
        self.0.checked_add(rhs.0).map(Nanos)
    }

    /// `self - rhs`, or `None` on overflow.
    pub fn checked_sub(self, rhs: Nanos) -> Option<Nanos> {
        self.0.checked_sub(rhs.0).map(Nanos)
    }

    /// `self + rhs`, saturating at the range ends.
    pub fn saturating_add(self, rhs: Nanos) -> Nanos {
        Nanos(self.0.saturating_add(rhs.0))
    }

    /// `self - rhs`, saturating at the range ends.
    pub fn saturating_sub(self, rhs: Nanos) -> Nanos {
        Nanos(self.0.saturating_sub(rhs.0))
    }
}

/// `ceil(x)` for `|x| < 2^52`, in `f64` and without a call into the maths library:
/// adding and removing `2^52` rounds to an integer, and one comparison corrects the
/// rounding. Equal to `ceil_in_range(x) as f64` there.
#[inline]
pub fn ceil_small(x: f64) -> f64 {
    const BIG: f64 = (1u64 << 52) as f64;
    let s = BIG.copysign(x);
    let r = (x + s) - s;
    r + crate::simd::keep(r < x, 1.0)
}

/// `ceil(x)` as an integer for `x` strictly inside the `i64` range: a truncation and one
/// comparison, without a call into the maths library (hot in deadline evaluation).
#[inline]
pub fn ceil_in_range(x: f64) -> i64 {
    let t = x as i64;
    if (t as f64) < x { t + 1 } else { t }
}

impl std::ops::Add for Nanos {
    type Output = Nanos;
    fn add(self, rhs: Nanos) -> Nanos {
        Nanos(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Nanos {
    type Output = Nanos;
    fn sub(self, rhs: Nanos) -> Nanos {
        Nanos(self.0 - rhs.0)
    }
}

impl std::ops::AddAssign for Nanos {
    fn add_assign(&mut self, rhs: Nanos) {
        self.0 += rhs.0;
    }
}

/// Error from parsing a duration, naming the text and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing to parse.
    #[error("empty duration; write a number with a unit, e.g. 100ms")]
    Empty,
    /// The number part does not parse.
    #[error("duration '{0}': '{1}' is not a number; write e.g. 250us, 100ms, 1.5s, 2m, 1h")]
    BadNumber(String, String),
    /// No unit after the number.
    #[error("duration '{0}' has no unit; add one of ns, us, ms, s, m, h or d (e.g. 100ms)")]
    NoUnit(String),
    /// The unit is unknown.
    #[error("duration '{0}': unknown unit '{1}'; use ns, us, ms, s, m, h or d (e.g. 100ms)")]
    BadUnit(String, String),
    /// Negative, NaN or too large for 64-bit nanoseconds.
    #[error("duration '{0}' is out of range; it must be between 0 and 292 years")]
    OutOfRange(String),
}

/// The unit suffixes accepted in durations, with their length in nanoseconds.
const UNITS: [(&str, f64); 8] = [
    ("ns", 1.0),
    ("us", 1e3),
    ("µs", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
    ("d", 86400e9),
];

/// Parses a human duration: a non-negative decimal number followed by a unit
/// (`ns`, `us`, `ms`, `s`, `m`, `h`, `d`), e.g. `250us`, `100ms`, `1.5s`, `2m`, `1h`.
/// The result is rounded to the nearest nanosecond.
pub fn parse_duration(text: &str) -> Result<Nanos, DurationError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DurationError::Empty);
    }
    let (num, unit) = t.split_at(number_prefix(t));
    let unit = unit.trim();
    if unit.is_empty() {
        return Err(DurationError::NoUnit(t.to_string()));
    }
    let scale = UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, s)| *s)
        .ok_or_else(|| DurationError::BadUnit(t.to_string(), unit.to_string()))?;
    let value: f64 = num
        .parse()
        .map_err(|_| DurationError::BadNumber(t.to_string(), num.to_string()))?;
    let ns = value * scale;
    if !ns.is_finite() || ns < 0.0 || ns >= i64::MAX as f64 {
        return Err(DurationError::OutOfRange(t.to_string()));
    }
    Ok(Nanos(ns.round() as i64))
}

/// The length of the number at the start of `t`: digits, signs and points, then an
/// exponent (`e` or `E`, an optional sign, digits) when one follows, so that `1e3ms` and
/// `1e999s` split before the unit.
fn number_prefix(t: &str) -> usize {
    let b = t.as_bytes();
    let mantissa = b
        .iter()
        .position(|c| !(c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+')))
        .unwrap_or(b.len());
    if !matches!(b.get(mantissa), Some(b'e' | b'E')) {
        return mantissa;
    }
    let mut i = mantissa + 1;
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = b[i.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 { mantissa } else { i + digits }
}

impl FromStr for Nanos {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Nanos, DurationError> {
        parse_duration(s)
    }
}

/// Prints the duration with the largest unit that keeps it exact within 3 decimals
/// (`100ms`, `1.5s`, `250us`, `1h`); negative durations get a leading `-`.
impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Nanos::MAX {
            return f.write_str("inf");
        }
        let v = self.0;
        if v == 0 {
            return f.write_str("0s");
        }
        let (sign, a) = if v < 0 { ("-", v.unsigned_abs()) } else { ("", v as u64) };
        for (unit, size) in [
            ("h", 3_600_000_000_000u64),
            ("m", 60_000_000_000),
            ("s", 1_000_000_000),
            ("ms", 1_000_000),
            ("us", 1_000),
        ] {
            if a >= size && (u128::from(a) * 1000) % u128::from(size) == 0 {
                let whole = a / size;
                let frac = a % size;
                if frac == 0 {
                    return write!(f, "{sign}{whole}{unit}");
                }
                let s = format!("{}", frac as f64 / size as f64);
                return write!(f, "{sign}{whole}{}{unit}", &s[1..]);
            }
        }
        write!(f, "{sign}{a}ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_examples() {
        assert_eq!(parse_duration("250us").unwrap(), Nanos(250_000));
        assert_eq!(parse_duration("100ms").unwrap(), Nanos(100_000_000));
        assert_eq!(parse_duration("1.5s").unwrap(), Nanos(1_500_000_000));
        assert_eq!(parse_duration("2m").unwrap(), Nanos(120_000_000_000));
        assert_eq!(parse_duration("1h").unwrap(), Nanos(3_600_000_000_000));
        assert_eq!(parse_duration("24h").unwrap(), Nanos(86_400_000_000_000));
        assert_eq!(parse_duration("7ns").unwrap(), Nanos(7));
        assert_eq!(parse_duration(" 3 s ").unwrap(), Nanos(3_000_000_000));
        assert_eq!(parse_duration("0s").unwrap(), Nanos(0));
    }

    #[test]
    fn rejects_bad_durations_with_a_hint() {
        assert_eq!(
            parse_duration("100").unwrap_err().to_string(),
            "duration '100' has no unit; add one of ns, us, ms, s, m, h or d (e.g. 100ms)"
        );
        assert_eq!(
            parse_duration("1e999s").unwrap_err().to_string(),
            "duration '1e999s' is out of range; it must be between 0 and 292 years"
        );
        assert_eq!(parse_duration("1e3ms"), Ok(Nanos(1_000_000_000)));
        assert_eq!(parse_duration("2.5E-3s"), Ok(Nanos(2_500_000)));
        assert!(matches!(parse_duration("1e-999s"), Ok(Nanos(0))));
        // An `e` that starts no exponent is the unit's.
        assert_eq!(
            parse_duration("1eons").unwrap_err(),
            DurationError::BadUnit("1eons".into(), "eons".into())
        );
        let e = parse_duration("10parsecs").unwrap_err();
        assert!(e.to_string().contains("'parsecs'"), "{e}");
        let e = parse_duration("1.2.3s").unwrap_err();
        assert!(e.to_string().contains("not a number"), "{e}");
        assert!(matches!(parse_duration("-5ms"), Err(DurationError::OutOfRange(_))));
        assert!(matches!(parse_duration("1000000d"), Err(DurationError::OutOfRange(_))));
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn prints_with_the_largest_exact_unit() {
        assert_eq!(Nanos(100_000_000).to_string(), "100ms");
        assert_eq!(Nanos(1_500_000_000).to_string(), "1.5s");
        assert_eq!(Nanos(250_000).to_string(), "250us");
        assert_eq!(Nanos(3_600_000_000_000).to_string(), "1h");
        assert_eq!(Nanos(120_000_000_000).to_string(), "2m");
        assert_eq!(Nanos(7).to_string(), "7ns");
        assert_eq!(Nanos(0).to_string(), "0s");
        assert_eq!(Nanos(-2_000_000).to_string(), "-2ms");
        assert_eq!(Nanos::MAX.to_string(), "inf");
    }

    #[test]
    fn printing_round_trips_through_parsing() {
        for v in [
            1,
            999,
            1_000,
            1_500,
            250_000,
            1_000_000,
            1_234_000_000,
            90_000_000_000,
            5_400_000_000_000,
        ] {
            let n = Nanos(v);
            assert_eq!(parse_duration(&n.to_string()).unwrap(), n, "{n}");
        }
    }

    #[test]
    fn ceil_rounds_up_and_saturates() {
        for x in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            1.2,
            -1.2,
            2.5,
            -2.5,
            1e15 + 0.25,
            -1e15 - 0.75,
            4503599627370495.5,
        ] {
            assert_eq!(ceil_small(x), ceil_in_range(x) as f64, "{x}");
        }
        assert_eq!(Nanos::ceil_f64(1.2), Nanos(2));
        assert_eq!(Nanos::ceil_f64(2.0), Nanos(2));
        assert_eq!(Nanos::ceil_f64(-1.5), Nanos(-1));
        assert_eq!(Nanos::ceil_f64(f64::INFINITY), Nanos::MAX);
        assert_eq!(Nanos::ceil_f64(f64::NAN), Nanos::MAX);
        assert_eq!(Nanos::ceil_f64(1e30), Nanos::MAX);
    }
}

//! Helpers for loops that the compiler turns into vector code: branch-free selection,
//! and running a kernel compiled for AVX2 where the processor has it.
//!
//! A kernel is an `#[inline(always)]` function; `multiversion!`
//! wraps it in a copy compiled with AVX2 enabled and a dispatcher that picks that copy
//! at run time when the processor supports it. The results are the same bit for bit:
//! only IEEE operations without fused multiply-add are involved.

/// `x` when `c`, else `+0.0`, without a branch or a conditional store (a mask on the
/// bits, which compiles to a vector AND).
#[inline(always)]
pub fn keep(c: bool, x: f64) -> f64 {
    f64::from_bits(x.to_bits() & u64::from(c).wrapping_neg())
}

/// Whether the AVX2 copies of the kernels can run here.
#[inline]
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `multiversion!(fn name(args) -> Ret = kernel;)` defines `name(args)`, which calls
/// the `#[inline(always)]` function `kernel` compiled for AVX2 when the processor has
/// it, and compiled for the baseline otherwise.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = $kernel:path;) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) -> $ret {
                    $kernel($($arg),*)
                }
                if $crate::simd::has_avx2() {
                    // SAFETY: the processor has AVX2.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $kernel($($arg),*)
        }
    };
}
pub(crate) use multiversion;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_selects() {
        assert_eq!(keep(true, 2.5), 2.5);
        assert_eq!(keep(false, 2.5).to_bits(), 0.0f64.to_bits());
        assert_eq!(keep(false, f64::INFINITY), 0.0);
        assert_eq!(keep(true, f64::INFINITY), f64::INFINITY);
    }
}

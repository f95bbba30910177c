//! The dot-product kernels, chosen once at run time for the CPU in hand: AVX2 + FMA on x86-64
//! when the CPU has them (the build targets plain x86-64, so the compiler alone would use SSE2),
//! NEON on aarch64 (every arm64 phone has it), portable code elsewhere. The scan calls these
//! once per row, so the choice is made once and kept in a function pointer.
//!
//! Every kernel of one kind gives the same ranking; the f32 ones may differ in the last bits
//! (another summation order), the i8 ones are exact (integer sums).

use std::sync::OnceLock;

/// The selected kernels.
#[derive(Clone, Copy)]
pub struct Kernels {
    /// `kernels`' name for reports: `avx2+fma`, `neon` or `portable`.
    pub name: &'static str,
    pub dot_f32: fn(&[f32], &[f32]) -> f32,
    pub dot_i8: fn(&[i8], &[i8]) -> i32,
}

/// The kernels for this CPU (detected on first use).
pub fn kernels() -> &'static Kernels {
    static SELECTED: OnceLock<Kernels> = OnceLock::new();
    SELECTED.get_or_init(select)
}

/// The portable kernels: what every other kernel is tested against.
pub const PORTABLE: Kernels = Kernels {
    name: "portable",
    dot_f32: portable::dot_f32,
    dot_i8: portable::dot_i8,
};

fn select() -> Kernels {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        return Kernels {
            name: "avx2+fma",
            dot_f32: x86::dot_f32,
            dot_i8: x86::dot_i8,
        };
    }
    #[cfg(target_arch = "aarch64")]
    return Kernels {
        name: "neon",
        dot_f32: arm::dot_f32,
        dot_i8: arm::dot_i8,
    };
    #[allow(unreachable_code)] // on aarch64 the NEON kernels always win
    PORTABLE
}

mod portable {
    /// Sixteen independent accumulators: the compiler keeps them in SIMD registers and the adds
    /// do not wait on each other.
    pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        let mut acc = [0f32; 16];
        let (ca, ra) = a.as_chunks::<16>();
        let (cb, rb) = b.as_chunks::<16>();
        for (x, y) in ca.iter().zip(cb) {
            for i in 0..16 {
                acc[i] += x[i] * y[i];
            }
        }
        let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
        acc.iter().sum::<f32>() + tail
    }

    pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let mut acc = [0i32; 16];
        let (ca, ra) = a.as_chunks::<16>();
        let (cb, rb) = b.as_chunks::<16>();
        for (x, y) in ca.iter().zip(cb) {
            for i in 0..16 {
                acc[i] += i32::from(x[i]) * i32::from(y[i]);
            }
        }
        let tail: i32 = ra
            .iter()
            .zip(rb)
            .map(|(x, y)| i32::from(*x) * i32::from(*y))
            .sum();
        acc.iter().sum::<i32>() + tail
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: selected only after `is_x86_feature_detected!` found avx2 and fma
        unsafe { dot_f32_avx2(a, b) }
    }

    pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        // SAFETY: selected only after `is_x86_feature_detected!` found avx2
        unsafe { dot_i8_avx2(a, b) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn dot_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY: every load reads 8 floats at i + 8j < n of both slices
        unsafe {
            while i + 32 <= n {
                for (j, s) in acc.iter_mut().enumerate() {
                    let x = _mm256_loadu_ps(pa.add(i + 8 * j));
                    let y = _mm256_loadu_ps(pb.add(i + 8 * j));
                    *s = _mm256_fmadd_ps(x, y, *s);
                }
                i += 32;
            }
            while i + 8 <= n {
                acc[0] = _mm256_fmadd_ps(
                    _mm256_loadu_ps(pa.add(i)),
                    _mm256_loadu_ps(pb.add(i)),
                    acc[0],
                );
                i += 8;
            }
        }
        let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let s = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        let tail: f32 = a[i..n].iter().zip(&b[i..n]).map(|(x, y)| x * y).sum();
        _mm_cvtss_f32(s) + tail
    }

    #[target_feature(enable = "avx2")]
    fn dot_i8_avx2(a: &[i8], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_si256(); 2];
        let mut i = 0;
        // SAFETY: every load reads 16 bytes at i + 16j < n of both slices
        unsafe {
            while i + 32 <= n {
                for (j, s) in acc.iter_mut().enumerate() {
                    let x = _mm256_cvtepi8_epi16(_mm_loadu_si128(pa.add(i + 16 * j).cast()));
                    let y = _mm256_cvtepi8_epi16(_mm_loadu_si128(pb.add(i + 16 * j).cast()));
                    *s = _mm256_add_epi32(*s, _mm256_madd_epi16(x, y));
                }
                i += 32;
            }
        }
        let s = _mm256_add_epi32(acc[0], acc[1]);
        let s = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
        let tail: i32 = a[i..n]
            .iter()
            .zip(&b[i..n])
            .map(|(x, y)| i32::from(*x) * i32::from(*y))
            .sum();
        _mm_cvtsi128_si32(s) + tail
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use std::arch::aarch64::*;

    pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut i = 0;
        // SAFETY: NEON is part of every aarch64 target; every load reads 4 floats at i + 4j < n
        let s = unsafe {
            let mut acc = [vdupq_n_f32(0.0); 4];
            while i + 16 <= n {
                for (j, s) in acc.iter_mut().enumerate() {
                    *s = vfmaq_f32(
                        *s,
                        vld1q_f32(pa.add(i + 4 * j)),
                        vld1q_f32(pb.add(i + 4 * j)),
                    );
                }
                i += 16;
            }
            while i + 4 <= n {
                acc[0] = vfmaq_f32(acc[0], vld1q_f32(pa.add(i)), vld1q_f32(pb.add(i)));
                i += 4;
            }
            vaddvq_f32(vaddq_f32(
                vaddq_f32(acc[0], acc[1]),
                vaddq_f32(acc[2], acc[3]),
            ))
        };
        let tail: f32 = a[i..n].iter().zip(&b[i..n]).map(|(x, y)| x * y).sum();
        s + tail
    }

    pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut i = 0;
        // SAFETY: NEON is part of every aarch64 target; every load reads 16 bytes at i < n. An
        // i16 lane holds one product (at most 128 * 128), pairs are summed into i32.
        let s = unsafe {
            let mut acc = [vdupq_n_s32(0); 2];
            while i + 16 <= n {
                let (x, y) = (vld1q_s8(pa.add(i)), vld1q_s8(pb.add(i)));
                let lo = vmull_s8(vget_low_s8(x), vget_low_s8(y));
                let hi = vmull_high_s8(x, y);
                acc[0] = vpadalq_s16(acc[0], lo);
                acc[1] = vpadalq_s16(acc[1], hi);
                i += 16;
            }
            vaddvq_s32(vaddq_s32(acc[0], acc[1]))
        };
        let tail: i32 = a[i..n]
            .iter()
            .zip(&b[i..n])
            .map(|(x, y)| i32::from(*x) * i32::from(*y))
            .sum();
        s + tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * seed).sin()).collect()
    }

    #[test]
    fn the_selected_f32_kernel_agrees_with_the_naive_sum_for_every_length() {
        let k = kernels();
        for n in [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255, 768, 1280] {
            let (a, b) = (f32s(n, 0.37), f32s(n, 0.11));
            let naive: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum();
            for (name, f) in [(k.name, k.dot_f32), ("portable", PORTABLE.dot_f32)] {
                let got = f(&a, &b);
                assert!(
                    (f64::from(got) - naive).abs() < 1e-4,
                    "{name} n={n}: {got} vs {naive}"
                );
            }
        }
    }

    #[test]
    fn the_selected_i8_kernel_is_exact_at_the_extremes() {
        let k = kernels();
        for n in [0, 1, 15, 16, 17, 31, 32, 33, 64, 768, 1280] {
            // -128 * -128 is the largest product: two of them must not overflow a lane
            let a: Vec<i8> = (0..n)
                .map(|i| if i % 3 == 0 { -128 } else { (i % 255) as i8 })
                .collect();
            let b: Vec<i8> = (0..n)
                .map(|i| {
                    if i % 3 == 0 {
                        -128
                    } else {
                        (127 - (i % 200) as i32) as i8
                    }
                })
                .collect();
            let naive: i32 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| i32::from(*x) * i32::from(*y))
                .sum();
            assert_eq!((k.dot_i8)(&a, &b), naive, "{} n={n}", k.name);
            assert_eq!((PORTABLE.dot_i8)(&a, &b), naive, "portable n={n}");
            let all_min = vec![-128i8; n];
            assert_eq!(
                (k.dot_i8)(&all_min, &all_min),
                16384 * n as i32,
                "{} n={n}",
                k.name
            );
        }
    }
}

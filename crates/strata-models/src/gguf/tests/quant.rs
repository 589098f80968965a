//! Dequantization against hand-built blocks and gguf-py, and quantize → dequantize bounds.

use super::Lcg;
use crate::gguf::DataError;
use crate::gguf::ggml_type::GgmlType;
use crate::gguf::quant::{SUPPORTED_TYPES, byte_size, dequantize, get_scale_min_k4};
use crate::gguf::quantize::quantize;

#[test]
fn plain_float_types() {
    let bytes: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    assert_eq!(
        dequantize(GgmlType::F32, &bytes, 2).unwrap(),
        vec![1.5, -2.0]
    );
    // F16 0x3C00 = 1.0, 0xC100 = -2.5; BF16 0x3FC0 = 1.5, 0xC020 = -2.5.
    assert_eq!(
        dequantize(GgmlType::F16, &[0x00, 0x3C, 0x00, 0xC1], 2).unwrap(),
        vec![1.0, -2.5]
    );
    assert_eq!(
        dequantize(GgmlType::BF16, &[0xC0, 0x3F, 0x20, 0xC0], 2).unwrap(),
        vec![1.5, -2.5]
    );
}

/// Q4_0, d = 0.5, qs[j] = j | (15 − j) << 4: y[j] = (j − 8)/2, y[16 + j] = (7 − j)/2.
#[test]
fn q4_0_hand_block() {
    let mut b = vec![0x00, 0x38]; // f16 0.5
    b.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
    let y = dequantize(GgmlType::Q4_0, &b, 32).unwrap();
    let expected = [
        -4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0,
        3.5, //
        3.5, 3.0, 2.5, 2.0, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -1.5, -2.0, -2.5, -3.0, -3.5, -4.0,
    ];
    assert_eq!(y, expected);
}

/// Q4_1, d = 0.25, m = −1, qs[j] = (15 − j) | j << 4: y[j] = (15 − j)/4 − 1, y[16+j] = j/4 − 1.
#[test]
fn q4_1_hand_block() {
    let mut b = vec![0x00, 0x34, 0x00, 0xBC]; // f16 0.25, f16 -1.0
    b.extend((0..16u8).map(|j| (15 - j) | (j << 4)));
    let y = dequantize(GgmlType::Q4_1, &b, 32).unwrap();
    let expected = [
        2.75, 2.5, 2.25, 2.0, 1.75, 1.5, 1.25, 1.0, 0.75, 0.5, 0.25, 0.0, -0.25, -0.5, -0.75, -1.0,
        -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75,
    ];
    assert_eq!(y, expected);
}

/// Q5_0, d = 1, qh = 0x8000_0001 (5th bit of values 0 and 31), qs = 0x21 (low 1, high 2):
/// y[0] = 17 − 16 = 1, y[1..16] = 1 − 16 = −15, y[16..31] = 2 − 16 = −14, y[31] = 18 − 16 = 2.
#[test]
fn q5_0_hand_block() {
    let mut b = vec![0x00, 0x3C, 0x01, 0x00, 0x00, 0x80];
    b.extend([0x21u8; 16]);
    let y = dequantize(GgmlType::Q5_0, &b, 32).unwrap();
    let mut expected = vec![1.0];
    expected.extend([-15.0; 15]);
    expected.extend([-14.0; 15]);
    expected.push(2.0);
    assert_eq!(y, expected);
}

/// Q8_0, d = 0.125, qs = [−128, −15, −14, ..., 14, 127]: y = qs/8.
#[test]
fn q8_0_hand_block() {
    let mut b = vec![0x00, 0x30];
    let qs: Vec<i8> = std::iter::once(-128)
        .chain(-15..=14)
        .chain(std::iter::once(127))
        .collect();
    assert_eq!(qs.len(), 32);
    b.extend(qs.iter().map(|&q| q as u8));
    let y = dequantize(GgmlType::Q8_0, &b, 32).unwrap();
    assert_eq!(y[0], -16.0);
    assert_eq!(y[1], -1.875);
    assert_eq!(y[16], 0.0);
    assert_eq!(y[30], 1.75);
    assert_eq!(y[31], 15.875);
}

/// Q4_K with d = 1, dmin = 0.5, sub-block scales sc = [1, 2, 3, 4, 17, 33, 50, 63] and mins
/// m = [0, 1, 2, 3, 16, 20, 40, 63], packed by hand into the 12 scale bytes; each 32-byte
/// chunk c holds sub-block 2c in low nibbles (l % 16) and 2c+1 in high nibbles (15 − l % 16).
#[test]
fn q4_k_hand_block() {
    let sc = [1.0f32, 2.0, 3.0, 4.0, 17.0, 33.0, 50.0, 63.0];
    let m = [0.0f32, 1.0, 2.0, 3.0, 16.0, 20.0, 40.0, 63.0];
    // bytes 0-3: sc[0..4] with sc[4..8] >> 4 in bits 6-7; bytes 4-7: m[0..4] with m[4..8] >> 4
    // in bits 6-7; bytes 8-11: sc[4..8] & 15 | (m[4..8] & 15) << 4.
    let scales = [
        0x41u8, 0x82, 0xC3, 0xC4, 0x40, 0x41, 0x82, 0xC3, 0x01, 0x41, 0x82, 0xFF,
    ];
    let mut b = vec![0x00, 0x3C, 0x00, 0x38];
    b.extend(scales);
    for _c in 0..4 {
        b.extend((0..32u8).map(|l| (l % 16) | ((15 - l % 16) << 4)));
    }
    assert_eq!(b.len(), 144);
    for j in 0..8 {
        assert_eq!(
            get_scale_min_k4(j, &scales),
            (sc[j] as u8, m[j] as u8),
            "sub-block {j}"
        );
    }
    let y = dequantize(GgmlType::Q4_K, &b, 256).unwrap();
    for c in 0..4 {
        for l in 0..32 {
            let lo = (l % 16) as f32;
            let hi = 15.0 - lo;
            assert_eq!(
                y[64 * c + l],
                sc[2 * c] * lo - 0.5 * m[2 * c],
                "value {}",
                64 * c + l
            );
            assert_eq!(y[64 * c + 32 + l], sc[2 * c + 1] * hi - 0.5 * m[2 * c + 1]);
        }
    }
}

/// Q6_K with d = 0.5 and scales [1, −1, 2, −2, ..., 8, −128]. Half 0: ql[0..16] = 0xA5,
/// ql[16..32] = 0x5A, ql[32..64] = 0x3C, qh[0..32] = 0xE4 (2-bit highs 0,1,2,3 for the four
/// 32-value groups); half 1: ql[64..96] = 0x00, ql[96..128] = 0xFF, qh[32..64] = 0x1B
/// (highs 3,2,1,0). Per 16 values (k = 0..16) the 6-bit q − 32 is, worked out by hand:
/// group 0 low nibbles 5 / 10 → −27, −22; group 1 low 12 + 16 → −4; group 2 high nibbles
/// 10 / 5 + 32 → 10, 5; group 3 high 3 + 48 → 19; half 1: 0 + 48 → 16; 15 + 32 → 15;
/// 0 + 16 → −16; 15 + 0 → −17.
#[test]
fn q6_k_hand_block() {
    let sc: [i8; 16] = [1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 8, -128];
    let mut b = Vec::new();
    b.extend([0xA5u8; 16]);
    b.extend([0x5Au8; 16]);
    b.extend([0x3Cu8; 32]);
    b.extend([0x00u8; 32]);
    b.extend([0xFFu8; 32]);
    b.extend([0xE4u8; 32]);
    b.extend([0x1Bu8; 32]);
    b.extend(sc.iter().map(|&s| s as u8));
    b.extend([0x00, 0x38]);
    assert_eq!(b.len(), 210);
    let q = [
        -27.0f32, -22.0, -4.0, -4.0, 10.0, 5.0, 19.0, 19.0, 16.0, 16.0, 15.0, 15.0, -16.0, -16.0,
        -17.0, -17.0,
    ];
    let y = dequantize(GgmlType::Q6_K, &b, 256).unwrap();
    for e in 0..256 {
        assert_eq!(y[e], 0.5 * sc[e / 16] as f32 * q[e / 16], "value {e}");
    }
}

/// Pseudo-random blocks (LCG bytes, with bit 14 of every f16 field cleared so it is finite),
/// dequantized by gguf-py 0.19 (`gguf.quants.dequantize`, an independent implementation of
/// ggml's layouts); reference: a weighted sum Σ y_i·((37i mod 11) − 5) and sampled values.
#[test]
fn dequantize_matches_gguf_py_on_random_blocks() {
    type Case = (GgmlType, usize, f64, &'static [(usize, f32)]);
    let cases: &[Case] = &[
        (
            GgmlType::Q4_0,
            4,
            25.994998931884766,
            &[
                (0, -0.55810546875f32),
                (1, 1.1162109375f32),
                (5, -0.93017578125f32),
                (15, -0.744140625f32),
                (16, -0.0f32),
                (17, -0.18603515625f32),
                (31, -0.55810546875f32),
                (32, -0.37939453125f32),
                (33, -0.0948486328125f32),
                (47, -0.0f32),
                (63, -0.4742431640625f32),
                (64, -0.00547027587890625f32),
                (67, -0.006381988525390625f32),
                (95, 0.006381988525390625f32),
                (96, 2.806640625f32),
                (111, 2.806640625f32),
                (127, 3.7421875f32),
            ],
        ),
        (
            GgmlType::Q4_1,
            4,
            1.9292839765548706,
            &[
                (0, 6.526708602905273e-05f32),
                (1, 0.00018972158432006836f32),
                (5, 0.00018972158432006836f32),
                (15, 6.526708602905273e-05f32),
                (16, 0.0003764033317565918f32),
                (17, 0.00022083520889282227f32),
                (31, 6.526708602905273e-05f32),
                (32, 0.0340576171875f32),
                (33, 1.7314453125f32),
                (47, 0.0340576171875f32),
                (63, -0.53173828125f32),
                (64, -0.20864105224609375f32),
                (67, -0.46199798583984375f32),
                (95, -0.38961029052734375f32),
                (96, 0.0007311105728149414f32),
                (111, 0.0018726587295532227f32),
                (127, 0.0022531747817993164f32),
            ],
        ),
        (
            GgmlType::Q5_0,
            4,
            -60.534812927246094,
            &[
                (0, 2.65234375f32),
                (1, -1.326171875f32),
                (5, 3.3154296875f32),
                (15, -1.326171875f32),
                (16, 4.6416015625f32),
                (17, 1.326171875f32),
                (31, -4.31005859375f32),
                (32, -0.06050872802734375f32),
                (33, -0.07779693603515625f32),
                (47, 0.09508514404296875f32),
                (63, -0.00864410400390625f32),
                (64, -0.0117645263671875f32),
                (67, 0.1764678955078125f32),
                (95, 0.0823516845703125f32),
                (96, 2.41943359375f32),
                (111, 6.7744140625f32),
                (127, -4.8388671875f32),
            ],
        ),
        (
            GgmlType::Q8_0,
            4,
            -334.18930864334106,
            &[
                (0, 0.02923583984375f32),
                (1, -0.11146163940429688f32),
                (5, 0.15531539916992188f32),
                (15, -0.02923583984375f32),
                (16, -0.19368743896484375f32),
                (17, -0.160797119140625f32),
                (31, 0.21013259887695312f32),
                (32, 0.03894853591918945f32),
                (33, 0.04099845886230469f32),
                (47, -0.0375819206237793f32),
                (63, 0.0655975341796875f32),
                (64, -114.7001953125f32),
                (67, -26.0244140625f32),
                (95, -75.181640625f32),
                (96, 0.016121864318847656f32),
                (111, 0.011822700500488281f32),
                (127, -0.13649845123291016f32),
            ],
        ),
        (
            GgmlType::Q4_K,
            2,
            203.10415422916412,
            &[
                (0, 0.8260009288787842f32),
                (1, 1.6524474620819092f32),
                (5, 3.098728895187378f32),
                (15, 0.8260009288787842f32),
                (16, 3.098728895187378f32),
                (17, 0.4127776622772217f32),
                (31, 1.2392241954803467f32),
                (32, 0.500446081161499f32),
                (33, 0.6687963008880615f32),
                (47, -0.0046045780181884766f32),
                (63, 1.6788976192474365f32),
                (64, 2.4788198471069336f32),
                (95, 0.6193150281906128f32),
                (96, 0.31292665004730225f32),
                (127, 0.7835420370101929f32),
                (259, -27.937458038330078f32),
                (495, -5.777456283569336f32),
                (511, -5.774076461791992f32),
            ],
        ),
        (
            GgmlType::Q6_K,
            2,
            32368.89036977291,
            &[
                (0, -2370.3818359375f32),
                (1, -245.2119140625f32),
                (5, 980.84765625f32),
                (15, -2370.3818359375f32),
                (16, -520.146484375f32),
                (17, -624.17578125f32),
                (31, -1248.3515625f32),
                (32, -1089.123046875f32),
                (33, -1146.4453125f32),
                (47, 1261.08984375f32),
                (63, -1783.359375f32),
                (64, 2072.09375f32),
                (95, -594.453125f32),
                (96, -104.029296875f32),
                (127, -1349.1962890625f32),
                (259, -0.249869704246521f32),
                (495, -0.06865060329437256f32),
                (511, 0.1913895606994629f32),
            ],
        ),
    ];
    for &(ty, n_blocks, weighted_sum, samples) in cases {
        let (be, bb) = ty.block_layout().unwrap();
        let f16_offsets: &[usize] = match ty {
            GgmlType::Q4_1 | GgmlType::Q4_K => &[0, 2],
            GgmlType::Q6_K => &[208],
            _ => &[0],
        };
        let mut rng = Lcg(0x5EED + ty.id() as u64);
        let mut raw: Vec<u8> = (0..n_blocks * bb).map(|_| rng.byte()).collect();
        for blk in 0..n_blocks {
            for &o in f16_offsets {
                raw[blk * bb + o + 1] &= 0xBF;
            }
        }
        let y = dequantize(ty, &raw, n_blocks * be).unwrap();
        let ws: f64 = y
            .iter()
            .enumerate()
            .map(|(i, &v)| v as f64 * (((37 * i) % 11) as f64 - 5.0))
            .sum();
        assert!(
            (ws - weighted_sum).abs() <= 1e-9 * weighted_sum.abs().max(1.0),
            "{ty}: {ws} vs {weighted_sum}"
        );
        for &(i, v) in samples {
            assert_eq!(
                y[i].to_bits(),
                v.to_bits(),
                "{ty} value {i}: {} vs gguf-py {v}",
                y[i]
            );
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// gguf-py's quantizers for these four types are bit-exact ports of ggml's `quantize_row_*_ref`;
/// ours must give the same bytes (FNV-1a hashes computed with gguf-py 0.19).
#[test]
fn reference_quantizers_match_gguf_py_bytes() {
    let mut rng = Lcg(42);
    let x: Vec<f32> = (0..256)
        .map(|i| rng.unit() * 2f32.powi((i / 32) % 5 - 2))
        .collect();
    for (ty, hash, len) in [
        (GgmlType::Q4_0, 0xb03e0f0b15b55165u64, 144),
        (GgmlType::Q4_1, 0x2cc1c318d408daa8, 160),
        (GgmlType::Q5_0, 0x8bf25f4f09106c0f, 176),
        (GgmlType::Q8_0, 0xef7fca890020aaa3, 272),
    ] {
        let q = quantize(ty, &x).unwrap();
        assert_eq!(q.len(), len, "{ty}");
        assert_eq!(fnv1a(&q), hash, "{ty}: first bytes {:02x?}", &q[..8]);
    }
}

/// Test vectors: uniform noise with per-block scale and offset changes, a constant block,
/// a zero block and a block with one outlier.
fn test_vector(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Lcg(seed);
    let mut x: Vec<f32> = (0..n)
        .map(|i| {
            let blk = i / 32;
            let scale = [1.0f32, 0.01, 3.0, 0.2, 1e-3][blk % 5];
            let offset = [0.0f32, 0.5, -2.0, 0.0, 0.01][(blk / 5) % 5];
            rng.unit() * scale + offset * scale
        })
        .collect();
    if n >= 512 {
        x[64..96].fill(0.25);
        x[96..128].fill(0.0);
        x[300] = 40.0;
    }
    x
}

/// Largest |error| each type may make on a block `x` (derivations in the arms).
fn error_bound(ty: GgmlType, x: &[f32], i: usize) -> f32 {
    let amax = |s: &[f32]| s.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    let half = 2f32.powi(-11); // relative rounding of f16 scales
    let sub = 2f32.powi(-25); // absolute rounding of f16 scales in the subnormal range
    match ty {
        GgmlType::F32 => 0.0,
        GgmlType::F16 => x[i].abs() * half + 6e-8,
        GgmlType::BF16 => x[i].abs() * 2f32.powi(-8),
        // |q| ≤ 127 steps of d = amax/127: rounding d/2 plus 127·(f16 error of d).
        GgmlType::Q8_0 => {
            let d = amax(&x[i / 32 * 32..][..32]) / 127.0;
            (d * (0.5 + 127.0 * half) + 127.0 * sub) * 1.001
        }
        // d = |max|/8 (Q4_0) or /16 (Q5_0): rounding d/2, clipping of the top code ≤ d,
        // plus (levels)·(f16 error of d).
        GgmlType::Q4_0 | GgmlType::Q5_0 => {
            let levels = if ty == GgmlType::Q4_0 { 8.0 } else { 16.0 };
            let d = amax(&x[i / 32 * 32..][..32]) / levels;
            (d * (1.0 + levels * half) + levels * sub) * 1.001
        }
        // d = range/15: rounding d/2 plus f16 errors of d (15 levels) and of the min.
        GgmlType::Q4_1 => {
            let b = &x[i / 32 * 32..][..32];
            let min = b.iter().copied().fold(f32::INFINITY, f32::min);
            let max = b.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let d = (max - min) / 15.0;
            (d * (0.5 + 15.0 * half) + min.abs() * half + 16.0 * sub) * 1.001
        }
        // Super-block S = largest sub-block scale, M = largest sub-block min: 6-bit scale
        // rounding moves a step by ≤ S/126 (15 steps: 15·S/126), rounding ≤ step/2 ≤ S/2,
        // min rounding ≤ M/126; f16 d/dmin errors times ≤ 63·15 and 63.
        GgmlType::Q4_K => {
            let sb = &x[i / 256 * 256..][..256];
            let (mut s, mut m) = (0.0f32, 0.0f32);
            for sub in sb.chunks(32) {
                let mn = sub.iter().copied().fold(f32::INFINITY, f32::min).min(0.0);
                let mx = sub.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                s = s.max((mx - mn) / 15.0);
                m = m.max(-mn);
            }
            (s * (0.5 + 16.0 / 126.0 + 16.0 * half) + m * (1.0 / 126.0 + half) + 1008.0 * sub)
                * 1.01
        }
        // A = super-block absmax, step ≤ A/32, scale unit |d| = A/4096: the top code 31 can
        // clip a value one step (A/32) plus 31 scale-rounding units (≤ A/128); f16 error of d
        // times ≤ 128·32.
        GgmlType::Q6_K => {
            let a = amax(&x[i / 256 * 256..][..256]);
            (a * (1.0 / 32.0 + 1.0 / 128.0 + half) + 4096.0 * sub) * 1.01
        }
        _ => unreachable!(),
    }
}

#[test]
fn quantize_dequantize_round_trip_within_bounds() {
    for &ty in SUPPORTED_TYPES {
        for seed in [1u64, 2, 3] {
            let x = test_vector(1024, seed);
            let q = quantize(ty, &x).unwrap();
            assert_eq!(q.len(), byte_size(ty, x.len()).unwrap());
            let y = dequantize(ty, &q, x.len()).unwrap();
            for i in 0..x.len() {
                let err = (y[i] - x[i]).abs();
                let bound = error_bound(ty, &x, i);
                assert!(
                    err <= bound,
                    "{ty} seed {seed} value {i}: x {} y {} err {err} > {bound}",
                    x[i],
                    y[i]
                );
            }
            // Constant and zero blocks come back (nearly) exact for the block-scaled types.
            if ty != GgmlType::F32 {
                for i in 96..128 {
                    assert_eq!(y[i], 0.0, "{ty}: zero block value {i}");
                }
            }
        }
    }
}

#[test]
fn errors_for_bad_sizes_and_unsupported_types() {
    let e = dequantize(GgmlType::Q4_0, &[0u8; 17], 32).unwrap_err();
    assert!(matches!(e, DataError::SizeMismatch { .. }));
    assert!(e.to_string().contains("expected 18, found 17"), "{e}");
    let e = dequantize(GgmlType::Q4_K, &[0u8; 144], 255)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("multiple of the block size 256") && e.contains("found 255"),
        "{e}"
    );
    let e = dequantize(GgmlType::Q5_1, &[0u8; 24], 32).unwrap_err();
    assert_eq!(
        e,
        DataError::UnsupportedType {
            type_id: 7,
            type_name: "Q5_1".into(),
            op: "dequantize"
        }
    );
    let e = dequantize(GgmlType::Unknown(99), &[], 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("id 99"), "{e}");
    assert!(quantize(GgmlType::Q2_K, &[0.0; 256]).is_err());
    assert!(quantize(GgmlType::Q8_0, &[0.0; 31]).is_err());
}

#[test]
fn k_quant_scale_packing_round_trips_through_get_scale_min() {
    // Quantize blocks whose sub-block ranges need every 6-bit scale/min value, then check
    // the packed bytes decode to scales that reproduce the data closely.
    let mut x = vec![0.0f32; 256];
    for j in 0..8 {
        for i in 0..32 {
            x[32 * j + i] = (i as f32 / 31.0) * (j as f32 + 1.0) - (7 - j) as f32 * 0.3;
        }
    }
    let q = quantize(GgmlType::Q4_K, &x).unwrap();
    let scales = &q[4..16];
    let (sc7, _) = get_scale_min_k4(7, scales);
    let (_, m0) = get_scale_min_k4(0, scales);
    assert_eq!(sc7, 63, "largest sub-block scale uses the full 6 bits");
    assert_eq!(m0, 63, "largest min uses the full 6 bits");
    let y = dequantize(GgmlType::Q4_K, &q, 256).unwrap();
    for i in 0..256 {
        assert!((y[i] - x[i]).abs() <= error_bound(GgmlType::Q4_K, &x, i));
    }
}

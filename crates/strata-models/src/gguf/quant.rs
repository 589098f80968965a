//! Dequantization of ggml blocks to `f32`, bit-exact with ggml's `dequantize_row_*`
//! (ggml-quants.c). Block layouts (little-endian, `f16` = IEEE half):
//!
//! | type | values | bytes | layout | value |
//! |---|---|---|---|---|
//! | F32 | 1 | 4 | `f32` | x |
//! | F16 | 1 | 2 | `f16` | x |
//! | BF16 | 1 | 2 | upper half of an `f32` | `bits << 16` |
//! | Q4_0 | 32 | 18 | `d: f16, qs: [u8; 16]` | `y[j] = d·(lo(qs[j]) − 8)`, `y[j+16] = d·(hi(qs[j]) − 8)` |
//! | Q4_1 | 32 | 20 | `d: f16, m: f16, qs: [u8; 16]` | `y[j] = d·lo(qs[j]) + m`, `y[j+16] = d·hi(qs[j]) + m` |
//! | Q5_0 | 32 | 22 | `d: f16, qh: u32, qs: [u8; 16]` | 5th bit of `y[j]` is `qh` bit `j`: `y = d·(q − 16)` |
//! | Q8_0 | 32 | 34 | `d: f16, qs: [i8; 32]` | `y[j] = d·qs[j]` |
//! | Q4_K | 256 | 144 | `d, dmin: f16, scales: [u8; 12], qs: [u8; 128]` | 8 sub-blocks of 32: `y = d·sc·q − dmin·m` (6-bit `sc`, `m`) |
//! | Q6_K | 256 | 210 | `ql: [u8; 128], qh: [u8; 64], scales: [i8; 16], d: f16` | 16 sub-blocks of 16: `y = d·sc·(q − 32)` (6-bit `q`) |

use half::{bf16, f16};

use super::error::DataError;
use super::ggml_type::{GgmlType, QK_K};

/// The types [`dequantize`] (and the reference quantizers) handle.
pub const SUPPORTED_TYPES: &[GgmlType] = &[
    GgmlType::F32,
    GgmlType::F16,
    GgmlType::BF16,
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::Q5_0,
    GgmlType::Q8_0,
    GgmlType::Q4_K,
    GgmlType::Q6_K,
];

/// Whether [`dequantize`] handles `ty`.
pub fn is_supported(ty: GgmlType) -> bool {
    SUPPORTED_TYPES.contains(&ty)
}

/// Bytes that `n_elements` values of `ty` take, checking that they form whole blocks.
pub fn byte_size(ty: GgmlType, n_elements: usize) -> Result<usize, DataError> {
    let (be, bb) = ty
        .block_layout()
        .ok_or_else(|| unsupported(ty, "byte_size"))?;
    if n_elements % be != 0 {
        return Err(DataError::size(
            format!("element count of a {} tensor", ty.name()),
            format!("a multiple of the block size {be}"),
            n_elements,
        ));
    }
    (n_elements / be)
        .checked_mul(bb)
        .ok_or_else(|| DataError::size("byte size", "a size that fits usize", "overflow"))
}

pub(crate) fn unsupported(ty: GgmlType, op: &'static str) -> DataError {
    DataError::UnsupportedType {
        type_id: ty.id(),
        type_name: ty.name().to_owned(),
        op,
    }
}

/// Dequantizes `data` (whole blocks of `ty`) holding exactly `n_elements` values.
pub fn dequantize(ty: GgmlType, data: &[u8], n_elements: usize) -> Result<Vec<f32>, DataError> {
    let mut out = vec![0.0f32; n_elements];
    dequantize_into(ty, data, &mut out)?;
    Ok(out)
}

/// Dequantizes `data` into `out`; `data` must be exactly `out.len()` values of `ty`.
pub fn dequantize_into(ty: GgmlType, data: &[u8], out: &mut [f32]) -> Result<(), DataError> {
    if !is_supported(ty) {
        return Err(unsupported(ty, "dequantize"));
    }
    let expected = byte_size(ty, out.len())?;
    if data.len() != expected {
        return Err(DataError::size(
            format!("byte size of {} {} values", out.len(), ty.name()),
            expected,
            data.len(),
        ));
    }
    let (be, bb) = ty.block_layout().expect("supported types have a layout");
    let blocks = data.chunks_exact(bb).zip(out.chunks_exact_mut(be));
    match ty {
        GgmlType::F32 => {
            blocks.for_each(|(b, y)| y[0] = f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }
        GgmlType::F16 => blocks.for_each(|(b, y)| y[0] = f16_at(b, 0)),
        GgmlType::BF16 => blocks.for_each(|(b, y)| y[0] = bf16::from_bits(u16_at(b, 0)).to_f32()),
        GgmlType::Q4_0 => blocks.for_each(|(b, y)| block_q4_0(b, y)),
        GgmlType::Q4_1 => blocks.for_each(|(b, y)| block_q4_1(b, y)),
        GgmlType::Q5_0 => blocks.for_each(|(b, y)| block_q5_0(b, y)),
        GgmlType::Q8_0 => blocks.for_each(|(b, y)| block_q8_0(b, y)),
        GgmlType::Q4_K => blocks.for_each(|(b, y)| block_q4_k(b, y)),
        GgmlType::Q6_K => blocks.for_each(|(b, y)| block_q6_k(b, y)),
        _ => unreachable!("checked by is_supported"),
    }
    Ok(())
}

#[inline]
fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

#[inline]
fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_bits(u16_at(b, i)).to_f32()
}

/// Q4_0: `y[j] = d·((qs[j] & 15) − 8)`, `y[j+16] = d·((qs[j] >> 4) − 8)`.
fn block_q4_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let qs = &b[2..18];
    for j in 0..16 {
        y[j] = ((qs[j] & 0x0F) as i32 - 8) as f32 * d;
        y[j + 16] = ((qs[j] >> 4) as i32 - 8) as f32 * d;
    }
}

/// Q4_1: `y[j] = d·(qs[j] & 15) + m`, `y[j+16] = d·(qs[j] >> 4) + m`.
fn block_q4_1(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let m = f16_at(b, 2);
    let qs = &b[4..20];
    for j in 0..16 {
        y[j] = (qs[j] & 0x0F) as f32 * d + m;
        y[j + 16] = (qs[j] >> 4) as f32 * d + m;
    }
}

/// Q5_0: `q[j] = (qs[j] & 15) | (qh bit j) << 4`, `q[j+16] = (qs[j] >> 4) | (qh bit j+16) << 4`,
/// `y = d·(q − 16)`.
fn block_q5_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    let qs = &b[6..22];
    for j in 0..16 {
        let h0 = ((qh >> j) & 1) << 4;
        let h1 = ((qh >> (j + 16)) & 1) << 4;
        let x0 = ((qs[j] & 0x0F) as u32 | h0) as i32 - 16;
        let x1 = ((qs[j] >> 4) as u32 | h1) as i32 - 16;
        y[j] = x0 as f32 * d;
        y[j + 16] = x1 as f32 * d;
    }
}

/// Q8_0: `y[j] = d·qs[j]` with `qs` signed bytes.
fn block_q8_0(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    for j in 0..32 {
        y[j] = (b[2 + j] as i8) as f32 * d;
    }
}

/// ggml's `get_scale_min_k4`: the 6-bit scale and min of Q4_K/Q5_K sub-block `j` (0..8) from
/// the 12 packed bytes. `j < 4`: low 6 bits of `q[j]`, `q[j+4]`; `j ≥ 4`: low nibble / high
/// nibble of `q[j+4]` plus the top 2 bits of `q[j−4]` / `q[j]` as bits 4–5.
pub fn get_scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        let d = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        let m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        (d, m)
    }
}

/// Q4_K: for each 64-value chunk `c` (0..4): 32 bytes of `qs`; the low nibbles are sub-block
/// `2c` and the high nibbles sub-block `2c+1`; `y = d·sc·q − dmin·m`.
fn block_q4_k(b: &[u8], y: &mut [f32]) {
    let d = f16_at(b, 0);
    let dmin = f16_at(b, 2);
    let scales = &b[4..16];
    let qs = &b[16..144];
    for c in 0..QK_K / 64 {
        let (sc1, m1) = get_scale_min_k4(2 * c, scales);
        let (sc2, m2) = get_scale_min_k4(2 * c + 1, scales);
        let (d1, m1) = (d * sc1 as f32, dmin * m1 as f32);
        let (d2, m2) = (d * sc2 as f32, dmin * m2 as f32);
        let q = &qs[32 * c..32 * c + 32];
        let out = &mut y[64 * c..64 * c + 64];
        for l in 0..32 {
            out[l] = d1 * (q[l] & 0x0F) as f32 - m1;
            out[l + 32] = d2 * (q[l] >> 4) as f32 - m2;
        }
    }
}

/// Q6_K: for each 128-value half `n` (0..2), with `ql` = 64 bytes, `qh` = 32 bytes,
/// `sc` = 8 scales of that half, and `l` in 0..32, `is = l / 16`:
/// `y[l] = d·sc[is]·(lo(ql[l]) | (qh[l] & 3) << 4 − 32)`,
/// `y[l+32] = d·sc[is+2]·(lo(ql[l+32]) | (qh[l] >> 2 & 3) << 4 − 32)`,
/// `y[l+64] = d·sc[is+4]·(hi(ql[l]) | (qh[l] >> 4 & 3) << 4 − 32)`,
/// `y[l+96] = d·sc[is+6]·(hi(ql[l+32]) | (qh[l] >> 6) << 4 − 32)`.
fn block_q6_k(b: &[u8], y: &mut [f32]) {
    let ql_all = &b[0..128];
    let qh_all = &b[128..192];
    let sc_all = &b[192..208];
    let d = f16_at(b, 208);
    for n in 0..2 {
        let ql = &ql_all[64 * n..64 * n + 64];
        let qh = &qh_all[32 * n..32 * n + 32];
        let sc = &sc_all[8 * n..8 * n + 8];
        let out = &mut y[128 * n..128 * n + 128];
        for l in 0..32 {
            let is = l / 16;
            let q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) as i32 - 32;
            let q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
            let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
            let q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) << 4)) as i32 - 32;
            out[l] = d * (sc[is] as i8) as f32 * q1 as f32;
            out[l + 32] = d * (sc[is + 2] as i8) as f32 * q2 as f32;
            out[l + 64] = d * (sc[is + 4] as i8) as f32 * q3 as f32;
            out[l + 96] = d * (sc[is + 6] as i8) as f32 * q4 as f32;
        }
    }
}

//! Reference (round-to-nearest) quantizers producing ggml blocks, for tests and for writing
//! GGUF fixtures. Q4_0/Q4_1/Q5_0/Q8_0 follow ggml's `quantize_row_*_ref` exactly; Q4_K/Q6_K use
//! plain min/max sub-block scales (ggml's `_ref` additionally searches for better scales with
//! `make_qkx2_quants` / `make_qx_quants`), so they are valid blocks with a slightly larger error.

use half::{bf16, f16};

use super::error::DataError;
use super::ggml_type::{GgmlType, QK_K};
use super::quant::{byte_size, is_supported, unsupported};

/// Quantizes `x` to blocks of `ty`; `x.len()` must be a multiple of the block size.
pub fn quantize(ty: GgmlType, x: &[f32]) -> Result<Vec<u8>, DataError> {
    if !is_supported(ty) {
        return Err(unsupported(ty, "quantize"));
    }
    let mut out = Vec::with_capacity(byte_size(ty, x.len())?);
    let (be, _) = ty.block_layout().expect("supported types have a layout");
    for block in x.chunks_exact(be) {
        match ty {
            GgmlType::F32 => out.extend_from_slice(&block[0].to_le_bytes()),
            GgmlType::F16 => {
                out.extend_from_slice(&f16::from_f32(block[0]).to_bits().to_le_bytes())
            }
            GgmlType::BF16 => {
                out.extend_from_slice(&bf16::from_f32(block[0]).to_bits().to_le_bytes())
            }
            GgmlType::Q4_0 => quantize_block_q4_0(block, &mut out),
            GgmlType::Q4_1 => quantize_block_q4_1(block, &mut out),
            GgmlType::Q5_0 => quantize_block_q5_0(block, &mut out),
            GgmlType::Q8_0 => quantize_block_q8_0(block, &mut out),
            GgmlType::Q4_K => quantize_block_q4_k(block, &mut out),
            GgmlType::Q6_K => quantize_block_q6_k(block, &mut out),
            _ => unreachable!("checked by is_supported"),
        }
    }
    Ok(out)
}

fn push_f16(out: &mut Vec<u8>, v: f32) {
    out.extend_from_slice(&f16::from_f32(v).to_bits().to_le_bytes());
}

/// ggml's `nearest_int`: round half away from zero (as `roundf`).
fn nearest_int(v: f32) -> i32 {
    v.round() as i32
}

/// The value with the largest magnitude, keeping its sign (first one on ties, as ggml).
fn signed_absmax(x: &[f32]) -> f32 {
    let mut amax = 0.0f32;
    let mut max = 0.0f32;
    for &v in x {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    max
}

/// Q4_0: `d = max/−8` (`max` the signed absmax), `q = min(15, trunc(x/d + 8.5))`.
fn quantize_block_q4_0(x: &[f32], out: &mut Vec<u8>) {
    let d = signed_absmax(x) / -8.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    push_f16(out, d);
    for j in 0..16 {
        let q0 = ((x[j] * id + 8.5) as i8).min(15) as u8;
        let q1 = ((x[j + 16] * id + 8.5) as i8).min(15) as u8;
        out.push(q0 | (q1 << 4));
    }
}

/// Q4_1: `d = (max − min)/15`, `m = min`, `q = min(15, trunc((x − min)/d + 0.5))`.
fn quantize_block_q4_1(x: &[f32], out: &mut Vec<u8>) {
    let min = x.iter().copied().fold(f32::INFINITY, f32::min);
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let d = (max - min) / 15.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    push_f16(out, d);
    push_f16(out, min);
    for j in 0..16 {
        let q0 = (((x[j] - min) * id + 0.5) as i8).min(15) as u8;
        let q1 = (((x[j + 16] - min) * id + 0.5) as i8).min(15) as u8;
        out.push(q0 | (q1 << 4));
    }
}

/// Q5_0: `d = max/−16`, `q = min(31, trunc(x/d + 16.5))`; low nibbles in `qs`, bit 4 of
/// value `j` in bit `j` of `qh`.
fn quantize_block_q5_0(x: &[f32], out: &mut Vec<u8>) {
    let d = signed_absmax(x) / -16.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    push_f16(out, d);
    let mut qh = 0u32;
    let mut qs = [0u8; 16];
    for j in 0..16 {
        let q0 = ((x[j] * id + 16.5) as i8).min(31) as u8;
        let q1 = ((x[j + 16] * id + 16.5) as i8).min(31) as u8;
        qs[j] = (q0 & 0x0F) | ((q1 & 0x0F) << 4);
        qh |= (((q0 & 0x10) >> 4) as u32) << j;
        qh |= (((q1 & 0x10) >> 4) as u32) << (j + 16);
    }
    out.extend_from_slice(&qh.to_le_bytes());
    out.extend_from_slice(&qs);
}

/// Q8_0: `d = absmax/127`, `q = round(x/d)`.
fn quantize_block_q8_0(x: &[f32], out: &mut Vec<u8>) {
    let amax = x.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    push_f16(out, d);
    for &v in x {
        out.push(nearest_int(v * id) as i8 as u8);
    }
}

/// Q4_K: per 32-value sub-block `scale = (max − min')/15`, `m = −min'` with
/// `min' = min(min, 0)`; both quantized to 6 bits against `d = max scale/63`,
/// `dmin = max m/63`; then `q = clamp(round((x + dmin·lm)/(d·ls)), 0, 15)`.
fn quantize_block_q4_k(x: &[f32], out: &mut Vec<u8>) {
    let mut scales = [0.0f32; 8];
    let mut mins = [0.0f32; 8];
    for (j, sub) in x.chunks_exact(32).enumerate() {
        let min = sub.iter().copied().fold(f32::INFINITY, f32::min).min(0.0);
        let max = sub.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        scales[j] = (max - min) / 15.0;
        mins[j] = -min;
    }
    let max_scale = scales.iter().copied().fold(0.0f32, f32::max);
    let max_min = mins.iter().copied().fold(0.0f32, f32::max);
    let inv_scale = if max_scale > 0.0 {
        63.0 / max_scale
    } else {
        0.0
    };
    let inv_min = if max_min > 0.0 { 63.0 / max_min } else { 0.0 };
    let mut ls = [0u8; 8];
    let mut lm = [0u8; 8];
    for j in 0..8 {
        ls[j] = nearest_int(inv_scale * scales[j]).clamp(0, 63) as u8;
        lm[j] = nearest_int(inv_min * mins[j]).clamp(0, 63) as u8;
    }
    // Pack: j < 4 → q[j] = ls, q[j+4] = lm; j ≥ 4 → low nibbles in q[j+4], top 2 bits in
    // bits 6–7 of q[j−4] (scale) and q[j] (min).
    let mut packed = [0u8; 12];
    for j in 0..8 {
        if j < 4 {
            packed[j] = ls[j];
            packed[j + 4] = lm[j];
        } else {
            packed[j + 4] = (ls[j] & 0x0F) | ((lm[j] & 0x0F) << 4);
            packed[j - 4] |= (ls[j] >> 4) << 6;
            packed[j] |= (lm[j] >> 4) << 6;
        }
    }
    let d = f16::from_f32(max_scale / 63.0);
    let dmin = f16::from_f32(max_min / 63.0);
    out.extend_from_slice(&d.to_bits().to_le_bytes());
    out.extend_from_slice(&dmin.to_bits().to_le_bytes());
    out.extend_from_slice(&packed);
    let mut l = [0u8; QK_K];
    for j in 0..8 {
        let dl = d.to_f32() * ls[j] as f32;
        let ml = dmin.to_f32() * lm[j] as f32;
        if dl == 0.0 {
            continue;
        }
        for i in 0..32 {
            l[32 * j + i] = nearest_int((x[32 * j + i] + ml) / dl).clamp(0, 15) as u8;
        }
    }
    // Each 64-value chunk: 32 bytes, low nibble = first 32 values, high nibble = next 32.
    for c in 0..4 {
        for i in 0..32 {
            out.push(l[64 * c + i] | (l[64 * c + 32 + i] << 4));
        }
    }
}

/// Q6_K: per 16-value sub-block `scale = max/−32` (`max` the signed absmax), 8-bit scales
/// against `d = max scale/−128`, `q = clamp(round(x/(d·sc)), −32, 31) + 32` split into
/// 4 low bits (`ql`) and 2 high bits (`qh`).
fn quantize_block_q6_k(x: &[f32], out: &mut Vec<u8>) {
    let mut scales = [0.0f32; 16];
    for (j, sub) in x.chunks_exact(16).enumerate() {
        scales[j] = signed_absmax(sub) / -32.0;
    }
    let max_scale = signed_absmax(&scales);
    let iscale = if max_scale != 0.0 {
        -128.0 / max_scale
    } else {
        0.0
    };
    let mut sc = [0i8; 16];
    for j in 0..16 {
        sc[j] = nearest_int(iscale * scales[j]).clamp(-128, 127) as i8;
    }
    let d = f16::from_f32(if iscale != 0.0 { 1.0 / iscale } else { 0.0 });
    let mut l = [32u8; QK_K];
    for j in 0..16 {
        let dl = d.to_f32() * sc[j] as f32;
        if dl == 0.0 {
            continue;
        }
        for i in 0..16 {
            l[16 * j + i] = (nearest_int(x[16 * j + i] / dl).clamp(-32, 31) + 32) as u8;
        }
    }
    let mut ql = [0u8; 128];
    let mut qh = [0u8; 64];
    for n in 0..2 {
        let l = &l[128 * n..128 * n + 128];
        for i in 0..32 {
            let (q1, q2, q3, q4) = (l[i], l[i + 32], l[i + 64], l[i + 96]);
            ql[64 * n + i] = (q1 & 0x0F) | ((q3 & 0x0F) << 4);
            ql[64 * n + i + 32] = (q2 & 0x0F) | ((q4 & 0x0F) << 4);
            qh[32 * n + i] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
        }
    }
    out.extend_from_slice(&ql);
    out.extend_from_slice(&qh);
    out.extend(sc.iter().map(|&s| s as u8));
    out.extend_from_slice(&d.to_bits().to_le_bytes());
}

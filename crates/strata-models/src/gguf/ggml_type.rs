//! ggml tensor element types: id ↔ name and block layout (`block_elems` values stored in
//! `block_bytes` bytes), as in ggml's `type_traits` / gguf-py's `GGML_QUANT_SIZES`.

use std::fmt;

/// Super-block size of the K-quants (`QK_K` in ggml).
pub const QK_K: usize = 256;

/// A ggml tensor element type as stored in a GGUF tensor info (`u32` id).
///
/// All types ggml defines up to MXFP4 are listed so that their byte sizes can be validated;
/// only those in [`crate::gguf::quant::SUPPORTED_TYPES`] can be dequantized. Ids ggml does
/// not define (or newer ones) become [`GgmlType::Unknown`].
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q8_1,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
    Q8_K,
    IQ2_XXS,
    IQ2_XS,
    IQ3_XXS,
    IQ1_S,
    IQ4_NL,
    IQ3_S,
    IQ2_S,
    IQ4_XS,
    I8,
    I16,
    I32,
    I64,
    F64,
    IQ1_M,
    BF16,
    TQ1_0,
    TQ2_0,
    MXFP4,
    /// An id this reader does not know (removed types 4, 5, 31–33, 36–38, or newer ones).
    Unknown(u32),
}

/// `(type, id, name, block_elems, block_bytes)` for every known type.
const TABLE: &[(GgmlType, u32, &str, usize, usize)] = {
    use GgmlType::*;
    &[
        (F32, 0, "F32", 1, 4),
        (F16, 1, "F16", 1, 2),
        (Q4_0, 2, "Q4_0", 32, 2 + 16),
        (Q4_1, 3, "Q4_1", 32, 2 + 2 + 16),
        (Q5_0, 6, "Q5_0", 32, 2 + 4 + 16),
        (Q5_1, 7, "Q5_1", 32, 2 + 2 + 4 + 16),
        (Q8_0, 8, "Q8_0", 32, 2 + 32),
        (Q8_1, 9, "Q8_1", 32, 4 + 4 + 32),
        (Q2_K, 10, "Q2_K", QK_K, 2 + 2 + QK_K / 16 + QK_K / 4),
        (Q3_K, 11, "Q3_K", QK_K, 2 + QK_K / 4 + QK_K / 8 + 12),
        (Q4_K, 12, "Q4_K", QK_K, 2 + 2 + 12 + QK_K / 2),
        (Q5_K, 13, "Q5_K", QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2),
        (Q6_K, 14, "Q6_K", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2),
        (Q8_K, 15, "Q8_K", QK_K, 4 + QK_K + QK_K / 8),
        (IQ2_XXS, 16, "IQ2_XXS", QK_K, 2 + QK_K / 4),
        (IQ2_XS, 17, "IQ2_XS", QK_K, 2 + QK_K / 4 + QK_K / 32),
        (IQ3_XXS, 18, "IQ3_XXS", QK_K, 2 + QK_K / 4 + QK_K / 8),
        (IQ1_S, 19, "IQ1_S", QK_K, 2 + QK_K / 8 + QK_K / 16),
        (IQ4_NL, 20, "IQ4_NL", 32, 2 + 16),
        (
            IQ3_S,
            21,
            "IQ3_S",
            QK_K,
            2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4,
        ),
        (IQ2_S, 22, "IQ2_S", QK_K, 2 + QK_K / 4 + QK_K / 16),
        (IQ4_XS, 23, "IQ4_XS", QK_K, 2 + 2 + QK_K / 2 + QK_K / 64),
        (I8, 24, "I8", 1, 1),
        (I16, 25, "I16", 1, 2),
        (I32, 26, "I32", 1, 4),
        (I64, 27, "I64", 1, 8),
        (F64, 28, "F64", 1, 8),
        (IQ1_M, 29, "IQ1_M", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32),
        (BF16, 30, "BF16", 1, 2),
        (TQ1_0, 34, "TQ1_0", QK_K, 2 + 4 * 13),
        (TQ2_0, 35, "TQ2_0", QK_K, 2 + 64),
        (MXFP4, 39, "MXFP4", 32, 1 + 16),
    ]
};

impl GgmlType {
    /// The type for a GGUF type id; unknown ids give [`GgmlType::Unknown`].
    pub fn from_id(id: u32) -> GgmlType {
        TABLE
            .iter()
            .find(|e| e.1 == id)
            .map(|e| e.0)
            .unwrap_or(GgmlType::Unknown(id))
    }

    fn entry(self) -> Option<&'static (GgmlType, u32, &'static str, usize, usize)> {
        TABLE.iter().find(|e| e.0 == self)
    }

    /// The GGUF type id.
    pub fn id(self) -> u32 {
        match self {
            GgmlType::Unknown(id) => id,
            t => t.entry().map(|e| e.1).unwrap_or(u32::MAX),
        }
    }

    /// ggml's name (`"Q4_K"`), or `"unknown"`.
    pub fn name(self) -> &'static str {
        self.entry().map(|e| e.2).unwrap_or("unknown")
    }

    /// `(values per block, bytes per block)`; `None` for unknown ids.
    pub fn block_layout(self) -> Option<(usize, usize)> {
        self.entry().map(|e| (e.3, e.4))
    }

    /// Bytes taken by `n_elements` values: `n / block_elems * block_bytes`. `None` for unknown
    /// types, counts that are not a whole number of blocks, or overflow.
    pub fn bytes_for(self, n_elements: u64) -> Option<u64> {
        let (be, bb) = self.block_layout()?;
        if n_elements % be as u64 != 0 {
            return None;
        }
        (n_elements / be as u64).checked_mul(bb as u64)
    }
}

impl fmt::Display for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GgmlType::Unknown(id) => write!(f, "unknown type id {id}"),
            t => f.write_str(t.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sizes_match_ggml() {
        for &(t, id, name, _, _) in TABLE {
            assert_eq!(GgmlType::from_id(id), t);
            assert_eq!(t.id(), id);
            assert_eq!(t.name(), name);
        }
        assert_eq!(GgmlType::from_id(4), GgmlType::Unknown(4));
        assert_eq!(GgmlType::Unknown(99).id(), 99);
        // The byte sizes ggml's block structs have.
        assert_eq!(GgmlType::Q4_0.block_layout(), Some((32, 18)));
        assert_eq!(GgmlType::Q4_1.block_layout(), Some((32, 20)));
        assert_eq!(GgmlType::Q5_0.block_layout(), Some((32, 22)));
        assert_eq!(GgmlType::Q8_0.block_layout(), Some((32, 34)));
        assert_eq!(GgmlType::Q4_K.block_layout(), Some((256, 144)));
        assert_eq!(GgmlType::Q6_K.block_layout(), Some((256, 210)));
        assert_eq!(GgmlType::Q4_K.bytes_for(512), Some(288));
        assert_eq!(GgmlType::Q4_K.bytes_for(100), None);
        assert_eq!(GgmlType::Unknown(77).bytes_for(32), None);
    }
}

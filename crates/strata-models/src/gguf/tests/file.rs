//! Writer → reader round trips, hyper-parameters, the HF loader, and malformed files.

use std::path::Path;

use super::Lcg;
use crate::gguf::names::permute_qk_rows;
use crate::gguf::value::{GgufValue, GgufValueType as VT};
use crate::gguf::writer::array_of;
use crate::gguf::{
    GgmlType, GgufError, GgufFile, GgufWriter, SUPPORTED_TYPES, dequantize, quantize,
};

fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// One metadata value of every type, including nested and empty arrays.
fn all_value_types() -> Vec<(&'static str, GgufValue)> {
    vec![
        ("t.u8", GgufValue::U8(200)),
        ("t.i8", GgufValue::I8(-100)),
        ("t.u16", GgufValue::U16(60000)),
        ("t.i16", GgufValue::I16(-30000)),
        ("t.u32", GgufValue::U32(4_000_000_000)),
        ("t.i32", GgufValue::I32(-2_000_000_000)),
        ("t.f32", GgufValue::F32(-1.25e-6)),
        ("t.bool_true", GgufValue::Bool(true)),
        ("t.bool_false", GgufValue::Bool(false)),
        ("t.string", GgufValue::String("héllo, ✓ \"gguf\"\n".into())),
        ("t.empty_string", GgufValue::String(String::new())),
        ("t.u64", GgufValue::U64(u64::MAX - 1)),
        ("t.i64", GgufValue::I64(i64::MIN + 1)),
        ("t.f64", GgufValue::F64(std::f64::consts::PI)),
        ("t.arr_u8", array_of(VT::U8, [0u8, 255].map(GgufValue::U8))),
        (
            "t.arr_i8",
            array_of(VT::I8, [-128i8, 127].map(GgufValue::I8)),
        ),
        (
            "t.arr_u16",
            array_of(VT::U16, [1u16, 65535].map(GgufValue::U16)),
        ),
        (
            "t.arr_i16",
            array_of(VT::I16, [-1i16, 2].map(GgufValue::I16)),
        ),
        (
            "t.arr_u32",
            array_of(VT::U32, [7u32, 8, 9].map(GgufValue::U32)),
        ),
        (
            "t.arr_i32",
            array_of(VT::I32, [-7i32, 8].map(GgufValue::I32)),
        ),
        (
            "t.arr_f32",
            array_of(VT::F32, [0.5f32, -0.0, f32::INFINITY].map(GgufValue::F32)),
        ),
        (
            "t.arr_bool",
            array_of(VT::Bool, [true, false, true].map(GgufValue::Bool)),
        ),
        (
            "t.arr_str",
            GgufValue::str_array(&["a", "", "<0x0A>", "Ġthe"]),
        ),
        (
            "t.arr_u64",
            array_of(VT::U64, [u64::MAX].map(GgufValue::U64)),
        ),
        (
            "t.arr_i64",
            array_of(VT::I64, [i64::MIN].map(GgufValue::I64)),
        ),
        (
            "t.arr_f64",
            array_of(VT::F64, [1e300f64, -2.5].map(GgufValue::F64)),
        ),
        ("t.arr_empty", array_of(VT::U32, [])),
        (
            "t.arr_nested",
            array_of(
                VT::Array,
                [
                    array_of(VT::I32, [1, 2].map(GgufValue::I32)),
                    array_of(VT::I32, []),
                    array_of(VT::I32, [3].map(GgufValue::I32)),
                ],
            ),
        ),
    ]
}

#[test]
fn metadata_of_every_value_type_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = GgufWriter::new();
    for (k, v) in all_value_types() {
        w.add_metadata(k, v);
    }
    let path = dir.path().join("meta.gguf");
    w.write(&path).unwrap();
    let f = GgufFile::open(&path).unwrap();
    assert_eq!(f.version(), 3);
    assert_eq!(f.alignment(), 32);
    assert!(f.tensors().is_empty());
    let got: Vec<(&str, &GgufValue)> = f.metadata().iter().collect();
    let want = all_value_types();
    assert_eq!(got.len(), want.len());
    for ((gk, gv), (wk, wv)) in got.iter().zip(&want) {
        assert_eq!(gk, wk);
        match (gv, wv) {
            // -0.0 == 0.0 under PartialEq; compare floats bitwise.
            (GgufValue::Array(a), GgufValue::Array(b)) if a.elem_type == VT::F32 => {
                let bits = |v: &GgufValue| match v {
                    GgufValue::F32(x) => x.to_bits(),
                    _ => unreachable!(),
                };
                assert_eq!(
                    a.values.iter().map(bits).collect::<Vec<_>>(),
                    b.values.iter().map(bits).collect::<Vec<_>>()
                );
            }
            _ => assert_eq!(*gv, wv, "{gk}"),
        }
    }
    let m = f.metadata();
    assert_eq!(m.get_u32("t.u32").unwrap(), 4_000_000_000);
    assert_eq!(m.get_i64("t.i64").unwrap(), i64::MIN + 1);
    assert_eq!(m.get_f64("t.f64").unwrap(), std::f64::consts::PI);
    assert!(m.get_bool("t.bool_true").unwrap());
    assert_eq!(m.get_str("t.string").unwrap(), "héllo, ✓ \"gguf\"\n");
    assert_eq!(
        m.get_str_array("t.arr_str").unwrap(),
        vec!["a", "", "<0x0A>", "Ġthe"]
    );
    assert_eq!(m.get_u32_array("t.arr_u32").unwrap(), vec![7, 8, 9]);
    assert_eq!(m.get_array("t.arr_nested").unwrap().values.len(), 3);
}

fn lcg_vec(n: usize, seed: u64) -> Vec<f32> {
    let mut r = Lcg(seed);
    (0..n).map(|_| r.unit()).collect()
}

#[test]
fn tensors_of_every_supported_type_round_trip_with_shapes_and_alignment() {
    let dir = tempfile::tempdir().unwrap();
    for alignment in [32u64, 64, 256] {
        let mut w = GgufWriter::new().with_alignment(alignment).unwrap();
        w.add_metadata("general.architecture", GgufValue::String("llama".into()));
        let mut expected = Vec::new();
        for (i, &ty) in SUPPORTED_TYPES.iter().enumerate() {
            let shape = [3usize, 512];
            let x = lcg_vec(3 * 512, i as u64);
            w.add_tensor(format!("t.{}", ty.name()), &shape, ty, &x)
                .unwrap();
            let q = quantize(ty, &x).unwrap();
            expected.push((
                format!("t.{}", ty.name()),
                ty,
                dequantize(ty, &q, x.len()).unwrap(),
                q,
            ));
        }
        // A 1-D tensor of odd length and a raw pre-quantized block.
        w.add_tensor_f32("bias", &[5], &[1.0, 2.0, 3.0, 4.0, 5.0])
            .unwrap();
        let raw = quantize(GgmlType::Q8_0, &[0.5; 64]).unwrap();
        w.add_tensor_raw("raw", &[2, 32], GgmlType::Q8_0, raw.clone())
            .unwrap();
        let path = dir.path().join(format!("t{alignment}.gguf"));
        w.write(&path).unwrap();

        let f = GgufFile::open(&path).unwrap();
        assert_eq!(f.alignment(), alignment);
        assert_eq!(f.data_offset() % alignment, 0);
        if alignment != 32 {
            assert_eq!(
                f.metadata().get_u32("general.alignment").unwrap() as u64,
                alignment
            );
        }
        for (name, ty, want, bytes) in &expected {
            let info = f.tensor_info(name).unwrap();
            assert_eq!(info.ggml_type, *ty);
            assert_eq!(info.dims, vec![512, 3], "GGUF dims are innermost-first");
            assert_eq!(info.shape(), vec![3, 512]);
            assert_eq!(info.offset % alignment, 0);
            assert_eq!(&f.tensor_bytes(name).unwrap(), bytes);
            let (got, shape) = f.tensor_f32(name).unwrap();
            assert_eq!(shape, vec![3, 512]);
            assert_eq!(&got, want, "{name}");
        }
        assert_eq!(
            f.tensor_f32("bias").unwrap(),
            (vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![5])
        );
        assert_eq!(f.tensor_bytes("raw").unwrap(), raw);
        assert_eq!(
            f.tensor_f32("raw").unwrap().0,
            dequantize(GgmlType::Q8_0, &raw, 64).unwrap()
        );
    }
}

#[test]
fn version_2_is_read_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = GgufWriter::new();
    w.add_metadata("k", GgufValue::U32(1));
    w.add_tensor_f32("x", &[2], &[1.0, 2.0]).unwrap();
    let mut bytes = w.to_bytes().unwrap();
    bytes[4] = 2;
    let f = GgufFile::open(write_bytes(dir.path(), "v2.gguf", &bytes)).unwrap();
    assert_eq!(f.version(), 2);
    assert_eq!(f.tensor_f32("x").unwrap().0, vec![1.0, 2.0]);

    for (version, needle) in [
        (1u32, "v1 used 32-bit counts"),
        (4, "supported: 2 and 3"),
        (3u32.swap_bytes(), "big-endian"),
    ] {
        bytes[4..8].copy_from_slice(&version.to_le_bytes());
        let p = write_bytes(dir.path(), "vx.gguf", &bytes);
        let e = GgufFile::open(&p).unwrap_err();
        assert!(matches!(e, GgufError::UnsupportedVersion { found, .. } if found == version));
        let msg = e.to_string();
        assert!(msg.contains(needle) && msg.contains("vx.gguf"), "{msg}");
    }
}

/// A small file with metadata, an array, and two tensors, for the corruption tests.
fn sample_bytes() -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_metadata("general.architecture", GgufValue::String("llama".into()));
    w.add_metadata(
        "tokenizer.ggml.tokens",
        GgufValue::str_array(&["<s>", "a", "b"]),
    );
    w.add_metadata(
        "x.scores",
        array_of(VT::F32, [0.0f32, 1.0].map(GgufValue::F32)),
    );
    w.add_tensor("w", &[2, 32], GgmlType::Q4_0, &lcg_vec(64, 9))
        .unwrap();
    w.add_tensor_f32("n", &[4], &[1.0; 4]).unwrap();
    w.to_bytes().unwrap()
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = sample_bytes();
    let full = GgufFile::open(write_bytes(dir.path(), "full.gguf", &bytes)).unwrap();
    let data_end = full.data_offset() as usize; // header end (tensor data follows)
    let mut kinds = std::collections::HashSet::new();
    for cut in 0..bytes.len() {
        let p = write_bytes(dir.path(), "cut.gguf", &bytes[..cut]);
        match GgufFile::open(&p) {
            Ok(f) => {
                // Only cuts inside the trailing padding can still open; then every tensor reads.
                for t in f.tensors() {
                    f.tensor_f32(&t.name).unwrap();
                }
                assert!(cut > data_end, "cut {cut} opened");
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains("cut.gguf"), "{msg}");
                kinds.insert(std::mem::discriminant(&e));
                if cut >= 4 && cut < data_end - 32 {
                    assert!(matches!(e, GgufError::Truncated { .. }), "cut {cut}: {msg}");
                }
            }
        }
    }
    // Cuts in the header give Truncated; cuts in the data give TensorOutOfBounds.
    let e = GgufFile::open(write_bytes(
        dir.path(),
        "cut.gguf",
        &bytes[..bytes.len() - 40],
    ))
    .unwrap_err();
    assert!(matches!(e, GgufError::TensorOutOfBounds { .. }), "{e}");
    assert!(e.to_string().contains("tensor `"), "{e}");
    assert_eq!(
        kinds.len(),
        2,
        "only Truncated (header) and TensorOutOfBounds (data) expected"
    );
    let e = GgufFile::open(write_bytes(dir.path(), "cut.gguf", &bytes[..30]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("truncated") && e.contains("offset") && e.contains("30 bytes"),
        "{e}"
    );
}

#[test]
fn garbage_and_bit_flipped_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(77);
    // Pure garbage.
    let garbage: Vec<u8> = (0..4096).map(|_| rng.byte()).collect();
    let e = GgufFile::open(write_bytes(dir.path(), "garbage.bin", &garbage)).unwrap_err();
    assert!(matches!(e, GgufError::BadMagic { .. }), "{e}");
    assert!(e.to_string().contains("garbage.bin"));
    // Right magic, garbage after it.
    let mut g2 = garbage.clone();
    g2[..4].copy_from_slice(b"GGUF");
    g2[4..8].copy_from_slice(&3u32.to_le_bytes());
    assert!(GgufFile::open(write_bytes(dir.path(), "g2.gguf", &g2)).is_err());
    // Random byte flips anywhere in a valid file: open/read may fail but must not panic.
    let bytes = sample_bytes();
    for _ in 0..600 {
        let mut b = bytes.clone();
        for _ in 0..1 + rng.byte() % 3 {
            let i = (rng.next() >> 20) as usize % b.len();
            b[i] = rng.byte();
        }
        let p = write_bytes(dir.path(), "flip.gguf", &b);
        if let Ok(f) = GgufFile::open(&p) {
            for t in f.tensors() {
                let _ = f.tensor_f32(&t.name);
            }
            let _ = f.hparams();
        }
    }
    // Empty file.
    let e = GgufFile::open(write_bytes(dir.path(), "empty.gguf", &[])).unwrap_err();
    assert!(matches!(e, GgufError::Truncated { .. }), "{e}");
    // Missing file.
    let e = GgufFile::open(dir.path().join("nope.gguf")).unwrap_err();
    assert!(
        matches!(e, GgufError::Io { .. }) && e.to_string().contains("nope.gguf"),
        "{e}"
    );
}

/// Builds a header by hand: magic, version 3, counts, then `body`.
fn handmade(n_tensors: u64, n_kv: u64, body: &[u8]) -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(n_tensors.to_le_bytes());
    b.extend(n_kv.to_le_bytes());
    b.extend(body);
    b
}

fn gguf_str(s: &str) -> Vec<u8> {
    let mut b = (s.len() as u64).to_le_bytes().to_vec();
    b.extend(s.as_bytes());
    b
}

#[test]
fn malformed_headers_give_specific_errors() {
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str, bytes: Vec<u8>| {
        GgufFile::open(write_bytes(dir.path(), name, &bytes)).unwrap_err()
    };

    // Unknown value type 13 for key `bad.key`.
    let mut body = gguf_str("bad.key");
    body.extend(13u32.to_le_bytes());
    body.extend([0u8; 16]);
    let e = open("vt.gguf", handmade(0, 1, &body));
    assert!(
        matches!(&e, GgufError::UnknownValueType { key, type_id: 13, .. } if key == "bad.key"),
        "{e}"
    );

    // Unknown array element type.
    let mut body = gguf_str("arr");
    body.extend(9u32.to_le_bytes());
    body.extend(42u32.to_le_bytes());
    body.extend(0u64.to_le_bytes());
    let e = open("at.gguf", handmade(0, 1, &body));
    assert!(
        matches!(&e, GgufError::UnknownValueType { type_id: 42, .. }),
        "{e}"
    );

    // A huge array count is refused before allocating.
    let mut body = gguf_str("arr");
    body.extend(9u32.to_le_bytes());
    body.extend(4u32.to_le_bytes());
    body.extend((u64::MAX / 2).to_le_bytes());
    let e = open("huge.gguf", handmade(0, 1, &body));
    assert!(matches!(&e, GgufError::Truncated { .. }), "{e}");

    // Huge tensor / kv counts.
    let e = open("counts.gguf", handmade(u64::MAX, 0, &[]));
    assert!(matches!(&e, GgufError::Truncated { .. }), "{e}");

    // A string length past the end of the file.
    let mut body = (1u64 << 60).to_le_bytes().to_vec();
    body.extend([b'a'; 16]);
    let e = open("strlen.gguf", handmade(0, 1, &body));
    assert!(e.to_string().contains("key of metadata entry #0"), "{e}");

    // Invalid UTF-8 in a key.
    let mut body = 2u64.to_le_bytes().to_vec();
    body.extend([0xFF, 0xFE]);
    body.extend(4u32.to_le_bytes());
    body.extend(1u32.to_le_bytes());
    let e = open("utf8.gguf", handmade(0, 1, &body));
    assert!(
        matches!(&e, GgufError::Corrupt { detail, .. } if detail.contains("UTF-8")),
        "{e}"
    );

    // Bool that is neither 0 nor 1.
    let mut body = gguf_str("b");
    body.extend(7u32.to_le_bytes());
    body.push(2);
    let e = open("bool.gguf", handmade(0, 1, &body));
    assert!(
        e.to_string().contains("bool value must be 0 or 1, found 2"),
        "{e}"
    );

    // Duplicate keys.
    let mut body = Vec::new();
    for _ in 0..2 {
        body.extend(gguf_str("k"));
        body.extend(4u32.to_le_bytes());
        body.extend(1u32.to_le_bytes());
    }
    let e = open("dup.gguf", handmade(0, 2, &body));
    assert!(e.to_string().contains("`k` appears twice"), "{e}");

    // Arrays nested past the depth limit.
    let mut body = gguf_str("deep");
    body.extend(9u32.to_le_bytes());
    for _ in 0..20 {
        body.extend(9u32.to_le_bytes());
        body.extend(1u64.to_le_bytes());
    }
    body.extend([0u8; 64]);
    let e = open("deep.gguf", handmade(0, 1, &body));
    assert!(e.to_string().contains("nested deeper"), "{e}");

    // Bad alignment value.
    let mut body = gguf_str("general.alignment");
    body.extend(4u32.to_le_bytes());
    body.extend(24u32.to_le_bytes());
    let e = open("align.gguf", handmade(0, 1, &body));
    assert!(e.to_string().contains("power of two, found 24"), "{e}");
}

/// One tensor info with the given fields, in a file with `data_len` bytes of data.
fn one_tensor(name: &str, dims: &[u64], ty: u32, offset: u64, data_len: usize) -> Vec<u8> {
    let mut body = gguf_str(name);
    body.extend((dims.len() as u32).to_le_bytes());
    for d in dims {
        body.extend(d.to_le_bytes());
    }
    body.extend(ty.to_le_bytes());
    body.extend(offset.to_le_bytes());
    let mut b = handmade(1, 0, &body);
    b.resize(b.len().div_ceil(32) * 32 + data_len, 0);
    b
}

#[test]
fn malformed_tensor_infos_give_specific_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str, bytes: Vec<u8>| write_bytes(dir.path(), name, &bytes);

    let e = GgufFile::open(path("oob.gguf", one_tensor("w", &[32, 2], 0, 0, 100))).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, GgufError::TensorOutOfBounds { .. }), "{msg}");
    assert!(
        msg.contains("oob.gguf") && msg.contains("`w`") && msg.contains("out of bounds"),
        "{msg}"
    );

    let e =
        GgufFile::open(path("off.gguf", one_tensor("w", &[2], 0, u64::MAX - 3, 8))).unwrap_err();
    assert!(
        e.to_string().contains("not a multiple of the alignment"),
        "{e}"
    );
    let e = GgufFile::open(path(
        "off2.gguf",
        one_tensor("w", &[2], 0, u64::MAX - 31, 8),
    ))
    .unwrap_err();
    assert!(matches!(e, GgufError::TensorOutOfBounds { .. }), "{e}");

    let e = GgufFile::open(path(
        "dims.gguf",
        one_tensor("w", &[1 << 40, 1 << 40], 0, 0, 8),
    ))
    .unwrap_err();
    assert!(e.to_string().contains("overflow"), "{e}");
    let e = GgufFile::open(path("ndims.gguf", one_tensor("w", &[1; 9], 0, 0, 8))).unwrap_err();
    assert!(e.to_string().contains("9 dimensions"), "{e}");

    // Row length not a multiple of the Q4_0 block size.
    let e = GgufFile::open(path("blk.gguf", one_tensor("w", &[16, 2], 2, 0, 64))).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, GgufError::ShapeMismatch { .. }), "{msg}");
    assert!(
        msg.contains("multiple of the block size 32")
            && msg.contains("found 16")
            && msg.contains("`w`"),
        "{msg}"
    );

    // Unknown type id: the file opens, dequantizing names tensor and id.
    let f = GgufFile::open(path("unk.gguf", one_tensor("odd", &[32], 99, 0, 64))).unwrap();
    let e = f.tensor_f32("odd").unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, GgufError::UnsupportedQuantType { type_id: 99, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("`odd`") && msg.contains("id 99") && msg.contains("unk.gguf"),
        "{msg}"
    );
    // Known but unsupported type (Q5_1 = 7).
    let f = GgufFile::open(path("q51.gguf", one_tensor("q", &[32], 7, 0, 24))).unwrap();
    let msg = f.tensor_f32("q").unwrap_err().to_string();
    assert!(
        msg.contains("Q5_1 (id 7)") && msg.contains("supported: F32, F16"),
        "{msg}"
    );
    assert_eq!(f.tensor_bytes("q").unwrap().len(), 24);

    let e = f.tensor_f32("missing").unwrap_err();
    assert!(matches!(e, GgufError::TensorNotFound { .. }) && e.to_string().contains("`missing`"));

    // Duplicate tensor names.
    let mut w = GgufWriter::new();
    w.add_tensor_f32("a", &[1], &[1.0]).unwrap();
    w.add_tensor_f32("a", &[1], &[1.0]).unwrap();
    assert!(
        w.to_bytes()
            .unwrap_err()
            .to_string()
            .contains("`a` added twice")
    );
}

#[test]
fn writer_rejects_bad_input() {
    let mut w = GgufWriter::new();
    let e = w
        .add_tensor("w", &[2, 16], GgmlType::Q4_0, &[0.0; 32])
        .unwrap_err()
        .to_string();
    assert!(e.contains("innermost dimension 16"), "{e}");
    let e = w
        .add_tensor_f32("w", &[2, 3], &[0.0; 5])
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds 6 values, found 5"), "{e}");
    let e = w
        .add_tensor_raw("w", &[32], GgmlType::Q8_0, vec![0; 33])
        .unwrap_err()
        .to_string();
    assert!(e.contains("Some(34)") && e.contains("found 33"), "{e}");
    assert!(
        w.add_tensor("w", &[256], GgmlType::Q2_K, &[0.0; 256])
            .is_err()
    );
    assert!(GgufWriter::new().with_alignment(24).is_err());
    let mut w = GgufWriter::new();
    w.add_metadata("k", GgufValue::U8(1))
        .add_metadata("k", GgufValue::U8(2));
    assert!(
        w.to_bytes()
            .unwrap_err()
            .to_string()
            .contains("`k` added twice")
    );
    let mut w = GgufWriter::new();
    w.add_metadata("a", GgufValue::array(VT::U8, vec![GgufValue::U16(1)]));
    let e = w.write("/nonexistent-dir/x.gguf").unwrap_err().to_string();
    assert!(
        e.contains("/nonexistent-dir/x.gguf") && e.contains("element 0 has type u16"),
        "{e}"
    );
}

/// A tiny llama-architecture file as llama.cpp would write it (Q/K rows permuted), read
/// back into HF layout.
#[test]
fn hparams_and_hf_tensors_of_a_llama_file() {
    let dir = tempfile::tempdir().unwrap();
    let (hidden, n_head, n_kv, ffn, vocab) = (64usize, 4usize, 2usize, 96usize, 10usize);
    let head_dim = hidden / n_head;
    let q_hf = lcg_vec(hidden * hidden, 1);
    let k_hf = lcg_vec(n_kv * head_dim * hidden, 2);
    let mut w = GgufWriter::new();
    let s = |v: &str| GgufValue::String(v.into());
    w.add_metadata("general.architecture", s("llama"))
        .add_metadata("llama.embedding_length", GgufValue::U32(hidden as u32))
        .add_metadata("llama.block_count", GgufValue::U32(1))
        .add_metadata("llama.attention.head_count", GgufValue::U32(n_head as u32))
        .add_metadata("llama.attention.head_count_kv", GgufValue::U32(n_kv as u32))
        .add_metadata("llama.feed_forward_length", GgufValue::I32(ffn as i32))
        .add_metadata("llama.context_length", GgufValue::U32(128))
        .add_metadata(
            "llama.attention.layer_norm_rms_epsilon",
            GgufValue::F32(1e-5),
        )
        .add_metadata(
            "tokenizer.ggml.tokens",
            GgufValue::str_array(&vec!["t"; vocab]),
        );
    let qp = permute_qk_rows(&q_hf, &[hidden, hidden], n_head).unwrap();
    let kp = permute_qk_rows(&k_hf, &[n_kv * head_dim, hidden], n_kv).unwrap();
    w.add_tensor_f32("blk.0.attn_q.weight", &[hidden, hidden], &qp)
        .unwrap();
    w.add_tensor_f32("blk.0.attn_k.weight", &[n_kv * head_dim, hidden], &kp)
        .unwrap();
    w.add_tensor_f32("blk.0.attn_v.weight", &[n_kv * head_dim, hidden], &kp)
        .unwrap();
    w.add_tensor_f32(
        "token_embd.weight",
        &[vocab, hidden],
        &lcg_vec(vocab * hidden, 3),
    )
    .unwrap();
    w.add_tensor_f32("rope_freqs.weight", &[8], &[1.0; 8])
        .unwrap();
    let path = dir.path().join("llama.gguf");
    w.write(&path).unwrap();

    let f = GgufFile::open(&path).unwrap();
    let hp = f.hparams().unwrap();
    assert_eq!(hp.architecture, "llama");
    assert_eq!(
        (hp.hidden_size, hp.n_layers, hp.n_heads, hp.n_kv_heads),
        (64, 1, 4, 2)
    );
    assert_eq!(
        (hp.head_dim, hp.ffn_size, hp.context_length, hp.vocab_size),
        (16, 96, 128, 10)
    );
    assert_eq!(
        hp.rope_theta, 10_000.0,
        "default when llama.rope.freq_base is absent"
    );
    assert_eq!(hp.rms_eps, 1e-5);
    assert!(hp.tied_embeddings);

    let q = f.hf_tensor("blk.0.attn_q.weight", &hp).unwrap();
    assert_eq!(q.name, "model.layers.0.self_attn.q_proj.weight");
    assert_eq!((q.data, q.shape), (q_hf, vec![hidden, hidden]));
    let k = f.hf_tensor("blk.0.attn_k.weight", &hp).unwrap();
    assert_eq!(k.name, "model.layers.0.self_attn.k_proj.weight");
    assert_eq!(k.data, k_hf, "K un-permuted with the KV-head count");
    let v = f.hf_tensor("blk.0.attn_v.weight", &hp).unwrap();
    assert_eq!(v.data, kp, "V is never permuted");
    let e = f
        .hf_tensor("rope_freqs.weight", &hp)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no Hugging Face name"), "{e}");

    // The same tensors under qwen2 are not un-permuted.
    let mut hp2 = hp.clone();
    hp2.architecture = "qwen2".into();
    assert_eq!(f.hf_tensor("blk.0.attn_q.weight", &hp2).unwrap().data, qp);
    // A head count that does not divide the rows is reported against the tensor.
    let mut hp3 = hp.clone();
    hp3.n_kv_heads = 3;
    let e = f.hf_tensor("blk.0.attn_k.weight", &hp3).unwrap_err();
    assert!(
        matches!(&e, GgufError::ShapeMismatch { tensor, .. } if tensor == "blk.0.attn_k.weight"),
        "{e}"
    );
}

#[test]
fn hparams_errors_name_the_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = GgufWriter::new();
    w.add_metadata("general.architecture", GgufValue::String("qwen2".into()))
        .add_metadata("qwen2.embedding_length", GgufValue::U32(64))
        .add_metadata("qwen2.block_count", GgufValue::U32(2));
    let path = dir.path().join("partial.gguf");
    w.write(&path).unwrap();
    let e = GgufFile::open(&path).unwrap().hparams().unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(&e, GgufError::MissingKey { key, .. } if key == "qwen2.attention.head_count"),
        "{msg}"
    );
    assert!(
        msg.contains("partial.gguf") && msg.contains("qwen2"),
        "{msg}"
    );

    let mut w = GgufWriter::new();
    w.add_metadata("general.architecture", GgufValue::U32(1));
    w.write(&path).unwrap();
    let e = GgufFile::open(&path)
        .unwrap()
        .hparams()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("general.architecture") && e.contains("expected string"),
        "{e}"
    );

    let mut w = GgufWriter::new();
    w.add_metadata("general.architecture", GgufValue::String("llama".into()))
        .add_metadata("llama.embedding_length", GgufValue::U32(64))
        .add_metadata("llama.block_count", GgufValue::U32(2))
        .add_metadata("llama.attention.head_count", GgufValue::U32(4))
        .add_metadata("llama.attention.head_count_kv", GgufValue::U32(3))
        .add_metadata("llama.feed_forward_length", GgufValue::U32(96))
        .add_metadata("llama.context_length", GgufValue::U32(96))
        .add_metadata(
            "llama.attention.layer_norm_rms_epsilon",
            GgufValue::F32(1e-6),
        )
        .add_metadata("llama.vocab_size", GgufValue::U32(5));
    w.write(&path).unwrap();
    let e = GgufFile::open(&path)
        .unwrap()
        .hparams()
        .unwrap_err()
        .to_string();
    assert!(e.contains("multiple of head_count_kv (3)"), "{e}");
}

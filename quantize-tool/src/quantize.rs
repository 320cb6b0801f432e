//! Encoding tensors in the blob's weight dtypes, with the error each encoding introduces.
//!
//! int8 uses the core's reference quantizer ([`picoformer::kernels::quantize_row_i8`]) so blobs are
//! deterministic byte for byte; f16 rounds to nearest even.

use half::f16;
use picoformer::format::{f32_bytes, i8_row_bytes, DType};

/// The storage dtype for 2-D weight matrices (1-D tensors always stay f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightDtype {
    /// 32 bits per weight, exact.
    #[default]
    F32,
    /// 16 bits per weight.
    F16,
    /// 8 bits per weight plus one f32 scale per row.
    Int8,
}

impl WeightDtype {
    /// The on-disk dtype.
    pub fn dtype(self) -> DType {
        match self {
            WeightDtype::F32 => DType::F32,
            WeightDtype::F16 => DType::F16,
            WeightDtype::Int8 => DType::I8Row,
        }
    }

    /// The CLI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightDtype::F32 => "f32",
            WeightDtype::F16 => "f16",
            WeightDtype::Int8 => "int8",
        }
    }
}

impl std::str::FromStr for WeightDtype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(WeightDtype::F32),
            "f16" => Ok(WeightDtype::F16),
            "int8" | "i8" => Ok(WeightDtype::Int8),
            _ => Err(format!("unknown dtype {s:?} (f32, f16, int8)")),
        }
    }
}

/// How far the stored values are from the originals.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ErrorStats {
    /// `max |w - deq(q(w))|`.
    pub max_abs: f32,
    /// `||w - deq(q(w))|| / ||w||` (0 for an all-zero tensor stored exactly).
    pub rel_rmse: f32,
}

impl ErrorStats {
    /// Compares `orig` with its round trip `deq`.
    pub fn between(orig: &[f32], deq: &[f32]) -> ErrorStats {
        let (mut max_abs, mut err2, mut norm2) = (0f32, 0f64, 0f64);
        for (&a, &b) in orig.iter().zip(deq) {
            let d = (a - b).abs();
            max_abs = max_abs.max(d);
            err2 += (d as f64) * (d as f64);
            norm2 += (a as f64) * (a as f64);
        }
        let rel_rmse = match norm2 > 0.0 {
            true => (err2 / norm2).sqrt() as f32,
            false if err2 > 0.0 => f32::INFINITY,
            false => 0.0,
        };
        ErrorStats { max_abs, rel_rmse }
    }
}

/// A tensor encoded for the blob.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Its dtype.
    pub dtype: DType,
    /// Its bytes (`dtype.byte_len(rows, cols)`).
    pub bytes: Vec<u8>,
    /// The error of the encoding.
    pub stats: ErrorStats,
}

/// Encodes a `rows x cols` matrix (row-major f32) in `dtype`.
pub fn encode_matrix(data: &[f32], rows: usize, cols: usize, dtype: WeightDtype) -> Encoded {
    debug_assert_eq!(data.len(), rows * cols);
    match dtype {
        WeightDtype::F32 => encode_vector(data),
        WeightDtype::F16 => {
            let h: Vec<f16> = data.iter().map(|&x| f16::from_f32(x)).collect();
            let deq: Vec<f32> = h.iter().map(|x| x.to_f32()).collect();
            let bytes = h.iter().flat_map(|x| x.to_le_bytes()).collect();
            Encoded { dtype: DType::F16, bytes, stats: ErrorStats::between(data, &deq) }
        }
        WeightDtype::Int8 => {
            let (values, scales) = quantize_i8_rows(data, rows, cols);
            let deq: Vec<f32> = values
                .chunks_exact(cols.max(1))
                .zip(&scales)
                .flat_map(|(row, &s)| row.iter().map(move |&q| q as f32 * s))
                .collect();
            let stats = ErrorStats::between(data, &deq);
            Encoded { dtype: DType::I8Row, bytes: i8_row_bytes(&values, &scales), stats }
        }
    }
}

/// Encodes a tensor as f32 (exact).
pub fn encode_vector(data: &[f32]) -> Encoded {
    Encoded { dtype: DType::F32, bytes: f32_bytes(data), stats: ErrorStats::default() }
}

/// Per-row symmetric int8 with the core's reference quantizer: `(values, scales)`.
pub fn quantize_i8_rows(data: &[f32], rows: usize, cols: usize) -> (Vec<i8>, Vec<f32>) {
    let mut values = vec![0i8; rows * cols];
    let mut scales = Vec::with_capacity(rows);
    for (dst, src) in values.chunks_exact_mut(cols).zip(data.chunks_exact(cols)) {
        scales.push(picoformer::kernels::quantize_row_i8(dst, src));
    }
    (values, scales)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_is_exact_and_int8_is_close() {
        let w: Vec<f32> = (0..64).map(|i| ((i * 37 % 19) as f32 - 9.0) * 0.013).collect();
        let e = encode_matrix(&w, 4, 16, WeightDtype::F32);
        assert_eq!(e.stats, ErrorStats::default());
        assert_eq!(e.bytes.len(), 256);
        let e = encode_matrix(&w, 4, 16, WeightDtype::Int8);
        assert_eq!(Some(e.bytes.len()), DType::I8Row.byte_len(4, 16));
        assert!(e.stats.max_abs > 0.0 && e.stats.max_abs <= 0.12 / 127.0 / 2.0 + 1e-6, "{:?}", e.stats);
        assert!(e.stats.rel_rmse < 0.01);
        let e = encode_matrix(&w, 4, 16, WeightDtype::F16);
        assert!(e.stats.rel_rmse < 1e-3);
    }

    #[test]
    fn stats_of_zero_tensor() {
        assert_eq!(ErrorStats::between(&[0.0; 4], &[0.0; 4]).rel_rmse, 0.0);
    }
}

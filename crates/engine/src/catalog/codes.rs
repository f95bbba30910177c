//! `embeddings.i8`: int8 codes of the embeddings, a quarter of their bytes, which a large
//! catalog's scan reads instead of the f32 rows (`stages/retrieve/int8.rs`); the shortlist it
//! finds is then re-scored against the f32 rows. Written by `lookalike index` (`--codes`).
//!
//! Layout: a 32-byte header (magic, version, rows, dims, reserved), then one f32 scale per row,
//! then `rows * dims` i8 codes, row-major. Row `r` is `codes[r] * scales[r]`, to within half a
//! step: each row is quantised symmetrically on its own largest value ([`quantize`]), the
//! query too, so catalog and query codes come from one function.

use std::io::Write;
use std::path::Path;

use super::format::{FileKind, Matrix};

pub const MAGIC: [u8; 8] = *b"LKLKI8C\0";
pub const VERSION: u32 = 1;
pub const HEADER_LEN: usize = 32;

/// Row `v` as `(codes, scale)`: `v[i] ~= codes[i] * scale`, codes in -127..=127 (a zero vector
/// has scale 0).
pub fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max <= f32::MIN_POSITIVE || !max.is_finite() {
        return (vec![0; v.len()], 0.0);
    }
    let scale = max / 127.0;
    let codes = v
        .iter()
        .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (codes, scale)
}

/// Where the codes live.
enum Storage {
    Owned { scales: Vec<f32>, codes: Vec<i8> },
    Mapped(memmap2::Mmap),
}

/// The int8 codes of a matrix.
pub struct Codes {
    pub rows: usize,
    pub dims: usize,
    storage: Storage,
}

impl std::fmt::Debug for Codes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Codes({} x {} i8)", self.rows, self.dims)
    }
}

/// Four bytes of scale, then one byte per value, per row.
const CODES: FileKind = FileKind {
    magic: MAGIC,
    version: VERSION,
    len: HEADER_LEN,
    name: "int8 codes",
    row_bytes: |dims| dims.checked_add(4),
};

impl Codes {
    /// The codes of every row of `m`.
    pub fn of(m: &Matrix) -> Self {
        let mut scales = Vec::with_capacity(m.rows);
        let mut codes = Vec::with_capacity(m.rows * m.dims);
        for r in 0..m.rows {
            let (c, s) = quantize(m.row(r));
            scales.push(s);
            codes.extend(c);
        }
        Codes {
            rows: m.rows,
            dims: m.dims,
            storage: Storage::Owned { scales, codes },
        }
    }

    pub fn scales(&self) -> &[f32] {
        match &self.storage {
            Storage::Owned { scales, .. } => scales,
            // `map` checked the length and the alignment
            Storage::Mapped(m) => bytemuck::cast_slice(&m[HEADER_LEN..HEADER_LEN + 4 * self.rows]),
        }
    }

    /// Every code, row-major.
    pub fn codes(&self) -> &[i8] {
        match &self.storage {
            Storage::Owned { codes, .. } => codes,
            Storage::Mapped(m) => bytemuck::cast_slice(&m[HEADER_LEN + 4 * self.rows..]),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.rows * (4 + self.dims));
        out.extend_from_slice(&CODES.header(self.rows, self.dims));
        for s in self.scales() {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out.extend(self.codes().iter().map(|c| *c as u8));
        out
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut f = std::fs::File::create(path)?;
        f.write_all(&self.to_bytes())?;
        f.sync_all()
    }

    /// Parses and checks a codes file: header, exact length, finite non-negative scales.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let (rows, dims) = CODES.parse(bytes)?;
        let scales: Vec<f32> = bytes[HEADER_LEN..HEADER_LEN + 4 * rows]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let codes = bytes[HEADER_LEN + 4 * rows..]
            .iter()
            .map(|b| *b as i8)
            .collect();
        let c = Codes {
            rows,
            dims,
            storage: Storage::Owned { scales, codes },
        };
        c.check_scales()?;
        Ok(c)
    }

    /// Maps a codes file (header and length checked, scales checked: one float per row).
    pub fn map(path: &Path) -> Result<Self, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        // SAFETY: as for `Matrix::map`: catalog files are replaced whole, never written in place
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("cannot map: {e}"))?;
        let (rows, dims) = CODES.parse(&map)?;
        if cfg!(target_endian = "big") {
            return Self::from_bytes(&map);
        }
        let c = Codes {
            rows,
            dims,
            storage: Storage::Mapped(map),
        };
        c.check_scales()?;
        Ok(c)
    }

    fn check_scales(&self) -> Result<(), String> {
        match self
            .scales()
            .iter()
            .position(|s| !s.is_finite() || *s < 0.0)
        {
            None => Ok(()),
            Some(r) => Err(format!(
                "the scale of row {r} is not a finite non-negative number"
            )),
        }
    }

    /// Row `r`: its codes and scale.
    pub fn row(&self, r: usize) -> (&[i8], f32) {
        (
            &self.codes()[r * self.dims..(r + 1) * self.dims],
            self.scales()[r],
        )
    }

    /// These are the codes of `m` (same shape, and every row within half a step of its code):
    /// a codes file from another build of the catalog is refused. Reads both whole.
    pub fn check_against(&self, m: &Matrix) -> Result<(), String> {
        if (self.rows, self.dims) != (m.rows, m.dims) {
            return Err(format!(
                "holds {} rows x {} dims, the embeddings {} x {}",
                self.rows, self.dims, m.rows, m.dims
            ));
        }
        for r in 0..m.rows {
            let (codes, scale) = self.row(r);
            // half a step, plus float rounding
            let tol = 0.5 * scale * 1.001 + 1e-7;
            if let Some(i) = (m.row(r).iter().zip(codes))
                .position(|(x, c)| (x - f32::from(*c) * scale).abs() > tol)
            {
                return Err(format!(
                    "row {r} value {i} does not match the embeddings (codes from another build)"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Matrix {
        let mut m = Matrix::new(4);
        m.push(&[0.5, -0.5, 0.1, 0.0]);
        m.push(&[0.0, 0.0, 0.0, 0.0]);
        m.push(&[-1.0, 0.25, 0.999, -0.003]);
        m
    }

    #[test]
    fn quantize_spans_the_int8_range_and_is_within_half_a_step() {
        let (c, s) = quantize(&[0.5, -0.5, 0.1, 0.0]);
        assert_eq!(c, vec![127, -127, 25, 0]);
        assert!((s - 0.5 / 127.0).abs() < 1e-9);
        assert_eq!(quantize(&[0.0; 3]), (vec![0; 3], 0.0));
        let v = [-1.0, 0.25, 0.999, -0.003];
        let (c, s) = quantize(&v);
        for (x, q) in v.iter().zip(&c) {
            assert!((x - f32::from(*q) * s).abs() <= 0.5 * s + 1e-7);
        }
    }

    #[test]
    fn codes_round_trip_through_bytes_and_a_mapping() {
        let m = sample();
        let codes = Codes::of(&m);
        let bytes = codes.to_bytes();
        assert_eq!(bytes.len(), HEADER_LEN + 3 * (4 + 4));
        let back = Codes::from_bytes(&bytes).unwrap();
        assert_eq!(
            (back.codes(), back.scales()),
            (codes.codes(), codes.scales())
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.i8");
        codes.write(&path).unwrap();
        let mapped = Codes::map(&path).unwrap();
        assert_eq!(mapped.row(2), codes.row(2));
        mapped.check_against(&m).unwrap();
    }

    #[test]
    fn damaged_or_foreign_codes_are_refused() {
        let m = sample();
        let bytes = Codes::of(&m).to_bytes();
        let err = |b: &[u8]| Codes::from_bytes(b).unwrap_err();
        assert!(err(&bytes[..bytes.len() - 1]).contains("truncated"));
        assert!(err(&bytes[..10]).contains("header"));
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(err(&bad).contains("magic"));
        let mut v2 = bytes.clone();
        v2[8] = 2;
        assert!(err(&v2).contains("version 2"));
        let mut nan = bytes.clone();
        nan[HEADER_LEN + 4..HEADER_LEN + 8].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(err(&nan).contains("row 1"));
        // codes of another matrix of the same shape
        let mut other = Matrix::new(4);
        for r in 0..3 {
            other.push(m.row(2 - r));
        }
        let e = Codes::of(&other).check_against(&m).unwrap_err();
        assert!(e.contains("another build"), "{e}");
        let mut small = Matrix::new(4);
        small.push(&[1.0, 0.0, 0.0, 0.0]);
        assert!(
            Codes::of(&small)
                .check_against(&m)
                .unwrap_err()
                .contains("1 rows")
        );
    }
}

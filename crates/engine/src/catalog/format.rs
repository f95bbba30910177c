//! The `.bin` matrices of a catalog (`embeddings.bin`, `texture.bin`, `color_signatures.bin`):
//! a 24-byte header (magic, version, rows, dims, reserved) then `rows * dims` little-endian f32,
//! row-major, one row per product in catalog order.

use std::io::Write;
use std::path::Path;

pub const MAGIC: [u8; 8] = *b"LKLKVEC\0";
pub const VERSION: u32 = 1;
pub const HEADER_LEN: usize = 24;

/// A dense row-major f32 matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub dims: usize,
    pub data: Vec<f32>,
}

impl Matrix {
    pub fn new(dims: usize) -> Self {
        Matrix {
            rows: 0,
            dims,
            data: Vec::new(),
        }
    }

    pub fn push(&mut self, row: &[f32]) {
        assert_eq!(
            row.len(),
            self.dims,
            "row length must equal the matrix's dims"
        );
        self.data.extend_from_slice(row);
        self.rows += 1;
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.data.len() * 4);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.rows as u32).to_le_bytes());
        out.extend_from_slice(&(self.dims as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for v in &self.data {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut f = std::fs::File::create(path)?;
        f.write_all(&self.to_bytes())?;
        f.sync_all()
    }

    /// Parses and checks a `.bin`: magic, version, exact length, finite values.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() < HEADER_LEN {
            return Err(format!(
                "file is {} bytes, shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            ));
        }
        if bytes[..8] != MAGIC {
            return Err("not a Lookalike matrix file (bad magic)".into());
        }
        let word =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let version = word(8);
        if version != VERSION {
            return Err(format!(
                "format version {version}, this build reads version {VERSION}"
            ));
        }
        let (rows, dims) = (word(12) as usize, word(16) as usize);
        if dims == 0 {
            return Err("header claims 0 dims".into());
        }
        let expected = rows
            .checked_mul(dims)
            .and_then(|n| n.checked_mul(4))
            .and_then(|n| n.checked_add(HEADER_LEN))
            .ok_or_else(|| format!("header claims {rows} x {dims}, which overflows"))?;
        if bytes.len() != expected {
            return Err(format!(
                "header says {rows} rows x {dims} dims = {expected} bytes, the file has {} bytes (truncated or resized)",
                bytes.len()
            ));
        }
        let data: Vec<f32> = bytes[HEADER_LEN..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "value {i} (row {}) is not a finite number",
                i / dims.max(1)
            ));
        }
        Ok(Matrix { rows, dims, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Matrix {
        let mut m = Matrix::new(3);
        m.push(&[1.0, 2.0, 3.0]);
        m.push(&[-4.0, 0.5, 6.0]);
        m
    }

    #[test]
    fn round_trip() {
        let m = sample();
        let bytes = m.to_bytes();
        assert_eq!(bytes.len(), HEADER_LEN + 6 * 4);
        assert_eq!(&bytes[..8], b"LKLKVEC\0");
        assert_eq!(Matrix::from_bytes(&bytes).unwrap(), m);
        assert_eq!(m.row(1), &[-4.0, 0.5, 6.0]);
    }

    #[test]
    fn header_validation() {
        let bytes = sample().to_bytes();
        assert!(
            Matrix::from_bytes(&bytes[..10])
                .unwrap_err()
                .contains("header")
        );
        assert!(
            Matrix::from_bytes(&bytes[..bytes.len() - 4])
                .unwrap_err()
                .contains("truncated")
        );
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0; 4]);
        assert!(
            Matrix::from_bytes(&longer)
                .unwrap_err()
                .contains("truncated or resized")
        );
        let mut bad_magic = bytes.clone();
        bad_magic[0] = b'X';
        assert!(
            Matrix::from_bytes(&bad_magic)
                .unwrap_err()
                .contains("magic")
        );
        let mut v2 = bytes.clone();
        v2[8] = 2;
        assert!(Matrix::from_bytes(&v2).unwrap_err().contains("version 2"));
        let mut huge = bytes.clone();
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        huge[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Matrix::from_bytes(&huge).is_err());
        let mut nan = bytes;
        nan[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(Matrix::from_bytes(&nan).unwrap_err().contains("row 0"));
    }
}

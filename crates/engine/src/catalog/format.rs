//! The `.bin` matrices of a catalog (`embeddings.bin`, `texture.bin`, `color_signatures.bin`):
//! a 24-byte header (magic, version, rows, dims, reserved) then `rows * dims` little-endian f32,
//! row-major, one row per product in catalog order.
//!
//! A search memory-maps them ([`Matrix::map`]): opening reads the header only, whatever the
//! catalog's size, and a row's page is read from disk when a scan or the shortlist first touches
//! it (a phone keeps only what it reads in memory). [`Matrix::from_bytes`] reads and checks every
//! value (imports, the build cache, the fuzzer); [`Matrix::check_finite`] does the same for a
//! mapped matrix.

use std::io::Write;
use std::path::Path;

pub const MAGIC: [u8; 8] = *b"LKLKVEC\0";
pub const VERSION: u32 = 1;
pub const HEADER_LEN: usize = 24;

/// Where a matrix's floats live.
enum Storage {
    Owned(Vec<f32>),
    /// The whole file, mapped; the floats start at `HEADER_LEN` (4-aligned: mappings start on a
    /// page).
    Mapped(memmap2::Mmap),
}

/// A dense row-major f32 matrix.
pub struct Matrix {
    pub rows: usize,
    pub dims: usize,
    storage: Storage,
}

impl std::fmt::Debug for Matrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.storage {
            Storage::Owned(_) => "owned",
            Storage::Mapped(_) => "mapped",
        };
        write!(f, "Matrix({} x {}, {kind})", self.rows, self.dims)
    }
}

impl PartialEq for Matrix {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows && self.dims == other.dims && self.data() == other.data()
    }
}

/// The header every vector file of a catalog starts with: magic, version, rows and dims as
/// little-endian u32s, zeros up to `len`; the file then holds exactly `row_bytes(dims)` per row.
pub(super) struct FileKind {
    pub magic: [u8; 8],
    pub version: u32,
    pub len: usize,
    /// For the bad-magic message: "matrix", "int8 codes".
    pub name: &'static str,
    pub row_bytes: fn(usize) -> Option<usize>,
}

/// The `.bin` matrices: four bytes per value.
const MATRIX: FileKind = FileKind {
    magic: MAGIC,
    version: VERSION,
    len: HEADER_LEN,
    name: "matrix",
    row_bytes: |dims| dims.checked_mul(4),
};

impl FileKind {
    /// Reads the header: `(rows, dims)` once magic, version and the file's exact length agree.
    pub(super) fn parse(&self, bytes: &[u8]) -> Result<(usize, usize), String> {
        let len = self.len;
        if bytes.len() < len {
            return Err(format!(
                "file is {} bytes, shorter than the {len}-byte header",
                bytes.len()
            ));
        }
        if bytes[..8] != self.magic {
            return Err(format!("not a Lookalike {} file (bad magic)", self.name));
        }
        let word =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let (version, want) = (word(8), self.version);
        if version != want {
            return Err(format!(
                "format version {version}, this build reads version {want}"
            ));
        }
        let (rows, dims) = (word(12) as usize, word(16) as usize);
        if dims == 0 {
            return Err("header claims 0 dims".into());
        }
        let expected = (self.row_bytes)(dims)
            .and_then(|per_row| rows.checked_mul(per_row))
            .and_then(|n| n.checked_add(len))
            .ok_or_else(|| format!("header claims {rows} x {dims}, which overflows"))?;
        if bytes.len() != expected {
            return Err(format!(
                "header says {rows} rows x {dims} dims = {expected} bytes, the file has {} bytes (truncated or resized)",
                bytes.len()
            ));
        }
        Ok((rows, dims))
    }

    pub(super) fn header(&self, rows: usize, dims: usize) -> Vec<u8> {
        let mut h = vec![0u8; self.len];
        h[..8].copy_from_slice(&self.magic);
        h[8..12].copy_from_slice(&self.version.to_le_bytes());
        h[12..16].copy_from_slice(&(rows as u32).to_le_bytes());
        h[16..20].copy_from_slice(&(dims as u32).to_le_bytes());
        h
    }
}

/// The header of a `rows` x `dims` matrix file (for writers that stream the rows after it).
pub fn header_bytes(rows: usize, dims: usize) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h.copy_from_slice(&MATRIX.header(rows, dims));
    h
}

impl Matrix {
    pub fn new(dims: usize) -> Self {
        Matrix {
            rows: 0,
            dims,
            storage: Storage::Owned(Vec::new()),
        }
    }

    /// Every float, row-major.
    pub fn data(&self) -> &[f32] {
        match &self.storage {
            Storage::Owned(v) => v,
            // `map` checked the length and the alignment
            Storage::Mapped(m) => bytemuck::cast_slice(&m[HEADER_LEN..]),
        }
    }

    pub fn push(&mut self, row: &[f32]) {
        assert_eq!(
            row.len(),
            self.dims,
            "row length must equal the matrix's dims"
        );
        match &mut self.storage {
            Storage::Owned(v) => v.extend_from_slice(row),
            Storage::Mapped(_) => unreachable!("a mapped matrix is read-only"),
        }
        self.rows += 1;
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data()[i * self.dims..(i + 1) * self.dims]
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.data().len() * 4);
        out.extend_from_slice(&header_bytes(self.rows, self.dims));
        for v in self.data() {
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
        let (rows, dims) = MATRIX.parse(bytes)?;
        let data: Vec<f32> = bytes[HEADER_LEN..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let m = Matrix {
            rows,
            dims,
            storage: Storage::Owned(data),
        };
        m.check_finite()?;
        Ok(m)
    }

    /// Maps a `.bin` and checks its header and length; the values are not read (see
    /// [`Matrix::check_finite`]). On a big-endian machine the file is read and converted instead.
    pub fn map(path: &Path) -> Result<Self, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        // SAFETY: a catalog's files are never written in place: `lookalike index`, imports and
        // the app write a new folder and swap it in (catalog/atomic.rs), so a mapping keeps the
        // old file's pages. Another program truncating the file under a search would fault it,
        // as it would any memory-mapped database.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("cannot map: {e}"))?;
        let (rows, dims) = MATRIX.parse(&map)?;
        if cfg!(target_endian = "big")
            || bytemuck::try_cast_slice::<u8, f32>(&map[HEADER_LEN..]).is_err()
        {
            return Self::from_bytes(&map);
        }
        Ok(Matrix {
            rows,
            dims,
            storage: Storage::Mapped(map),
        })
    }

    /// Tells the kernel that the rows will be read one at a time in no order (the exact re-score
    /// of a shortlist found through int8 codes): a page fault then reads its page, not the next
    /// 128 KiB as well, so memory holds the rows read and little else. No-op when owned.
    pub fn advise_random_reads(&self) {
        #[cfg(unix)]
        if let Storage::Mapped(m) = &self.storage {
            // advice only: a kernel that ignores it reads ahead, which costs memory, not answers
            let _ = m.advise(memmap2::Advice::Random);
        }
    }

    /// Every value is a finite number (a damaged file can hold NaN or infinity, which would rank
    /// first); reads the whole matrix.
    pub fn check_finite(&self) -> Result<(), String> {
        match self.data().iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(i) => Err(format!(
                "value {i} (row {}) is not a finite number",
                i / self.dims.max(1)
            )),
        }
    }

    /// Row `i` is finite: the check a search makes on each row it shortlists.
    pub fn check_row(&self, i: usize) -> Result<(), String> {
        match self.row(i).iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(j) => Err(format!(
                "value {} (row {i}) is not a finite number",
                i * self.dims + j
            )),
        }
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

    #[test]
    fn a_mapped_matrix_is_the_written_one_and_checks_the_same_header() {
        let dir = tempfile::tempdir().unwrap();
        let m = sample();
        let path = dir.path().join("m.bin");
        m.write(&path).unwrap();
        let mapped = Matrix::map(&path).unwrap();
        assert_eq!(format!("{mapped:?}"), "Matrix(2 x 3, mapped)");
        assert_eq!(mapped, m);
        assert_eq!(mapped.row(1), &[-4.0, 0.5, 6.0]);
        let bytes = m.to_bytes();
        std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
        assert!(Matrix::map(&path).unwrap_err().contains("truncated"));
        std::fs::write(&path, &bytes[..3]).unwrap();
        assert!(Matrix::map(&path).unwrap_err().contains("header"));
        // the values are not read when mapped: a NaN is found by the row check, or the full one
        let mut nan = bytes;
        nan[HEADER_LEN + 16..HEADER_LEN + 20].copy_from_slice(&f32::NAN.to_le_bytes());
        std::fs::write(&path, &nan).unwrap();
        let mapped = Matrix::map(&path).unwrap();
        assert!(mapped.check_row(0).is_ok());
        assert_eq!(
            mapped.check_row(1).unwrap_err(),
            "value 4 (row 1) is not a finite number"
        );
        assert!(mapped.check_finite().unwrap_err().contains("row 1"));
    }
}

//! Helpers shared by the fuzz targets (included with `#[path]`/`mod`, not a library).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root: `$LOOKALIKE_ROOT`, else the parent of this crate.
pub fn repo_root() -> PathBuf {
    match std::env::var_os("LOOKALIKE_ROOT") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")),
    }
}

/// A temporary folder for a target's scratch files, on tmpfs when there is one (no disk writes
/// per execution). Targets keep it in a static for the whole process.
pub fn scratch_tempdir(prefix: &str) -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    if shm.is_dir() {
        b.tempdir_in(shm)
    } else {
        b.tempdir()
    }
    .expect("fuzz harness: cannot create a temp dir")
}

/// Deterministic knobs read from the end of the input (so the image bytes at the front stay a
/// valid image for the seed corpus, and libFuzzer can still steer every knob).
pub struct Knobs<'a> {
    data: &'a [u8],
    next: usize,
}

impl<'a> Knobs<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Knobs { data, next: 0 }
    }

    pub fn byte(&mut self) -> u8 {
        let b = if self.data.is_empty() {
            0
        } else {
            self.data[self.data.len() - 1 - self.next % self.data.len()]
        };
        self.next += 1;
        b
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    /// A value in [0, 1].
    pub fn unit(&mut self) -> f32 {
        f32::from(self.byte()) / 255.0
    }

    /// Any f32 bit pattern (NaN, infinities, subnormals included).
    pub fn any_f32(&mut self) -> f32 {
        f32::from_bits(self.u32())
    }
}

/// Finite and approximately in `lo..=hi`.
pub fn within(x: f32, lo: f32, hi: f32) -> bool {
    x.is_finite() && x >= lo - 1e-4 && x <= hi + 1e-4
}

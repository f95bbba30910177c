//! `matrix`: arbitrary bytes -> `catalog::format::Matrix::from_bytes` (the `.bin` reader).
//! It must return `Ok` or `Err` without panicking or allocating more than the input justifies;
//! on `Ok` the matrix must hold `rows * dims` finite values, every row must be addressable, and
//! writing it back must give the same bytes (the reserved header word aside).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookalike_engine::catalog::format::{HEADER_LEN, Matrix};

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Matrix::from_bytes(data) else {
        return;
    };
    assert_eq!(m.data().len(), m.rows * m.dims);
    assert!(m.data().iter().all(|v| v.is_finite()));
    // (a header may claim billions of zero-length rows: probe some instead of walking them all)
    for i in [0, m.rows / 2, m.rows.saturating_sub(1)] {
        if i < m.rows {
            assert_eq!(m.row(i).len(), m.dims);
        }
    }
    let back = m.to_bytes();
    assert_eq!(back.len(), data.len());
    assert_eq!(&back[..20], &data[..20]);
    assert_eq!(&back[HEADER_LEN..], &data[HEADER_LEN..]);
});

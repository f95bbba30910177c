//! `decode`: arbitrary bytes -> `stages::decode::decode` with the default options.
//!
//! It must return `Ok` or `Err`, never panic, abort, run out of memory or hang. Run with
//! `-rss_limit_mb=2048` (under AddressSanitizer libFuzzer then also refuses any single allocation
//! over 2 GiB), so a decompression bomb that is not refused from its header shows up as an OOM.
//! On `Ok` the result must respect the documented bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lookalike_engine::stages::decode::{DecodeOptions, decode};

fuzz_target!(|data: &[u8]| {
    let opts = DecodeOptions::default();
    if let Ok(d) = decode(data, &opts) {
        let (w, h) = d.image.dimensions();
        assert!(w >= 1 && h >= 1, "decoded an empty image: {w}x{h}");
        assert!(
            w.max(h) <= opts.working_max_side,
            "working image {w}x{h} exceeds {}",
            opts.working_max_side
        );
        assert_eq!(
            (d.info.width, d.info.height),
            (w, h),
            "info disagrees with pixels"
        );
        assert_eq!(d.image.as_raw().len(), w as usize * h as usize * 4);
        assert!(
            (1..=8).contains(&d.info.exif_orientation),
            "{}",
            d.info.exif_orientation
        );
    }
});

//! Writes the phone-sized bench photos: for each bench photo (scripts/env.sh `bench_photos`) a
//! 12 MP (4000x3000) and a 48 MP (8000x6000) JPEG made by `lookalike_tests::phone_photo` (the same
//! bytes on every machine). Files already there are kept.
//!
//!   cargo run --release -p lookalike-tests --example phone_photos -- OUT_DIR [COUNT]

use std::path::PathBuf;
use std::process::ExitCode;

use lookalike_tests::{bench_photos, phone_photo};

const SIZES: [(&str, u32, u32); 2] = [("12mp", 4000, 3000), ("48mp", 8000, 6000)];

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: phone_photos OUT_DIR [COUNT]");
        return ExitCode::from(2);
    };
    let count = match args.next().map(|c| c.to_string_lossy().parse::<usize>()) {
        None => usize::MAX,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("phone_photos: COUNT: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("phone_photos: {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    for (i, src) in bench_photos().iter().take(count).enumerate() {
        let stem = src.file_stem().unwrap_or_default().to_string_lossy();
        let original = match std::fs::read(src) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("phone_photos: {}: {e}", src.display());
                return ExitCode::FAILURE;
            }
        };
        for (tag, w, h) in SIZES {
            let dest = out.join(format!("{stem}-{tag}.jpg"));
            if dest.is_file() {
                continue;
            }
            // every other photo held upright, as phones store it: pixels sideways, EXIF 6
            let orientation = (i % 2 == 1).then_some(6);
            let bytes = phone_photo(&original, w, h, orientation);
            if let Err(e) = std::fs::write(&dest, &bytes) {
                eprintln!("phone_photos: {}: {e}", dest.display());
                return ExitCode::FAILURE;
            }
            println!("{} ({:.1} MB)", dest.display(), bytes.len() as f64 / 1e6);
        }
    }
    ExitCode::SUCCESS
}

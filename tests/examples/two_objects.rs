//! Writes the two-object photo the region-picking tests use (the tulip pot on the left, the lion
//! statue on the right, `lookalike_tests::two_object_photo`): the UI's mock recordings and the
//! desktop end-to-end test pick it like a shopper's photo.
//!
//!   cargo run --release -p lookalike-tests --example two_objects -- OUT.jpg

use std::process::ExitCode;

use lookalike_tests::{TWO_OBJECTS, demo_image, two_object_photo};

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1) else {
        eprintln!("usage: two_objects OUT.jpg");
        return ExitCode::from(2);
    };
    let [left, right] = TWO_OBJECTS;
    let photo = two_object_photo(&demo_image(left), &demo_image(right));
    match std::fs::write(&out, photo) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("two_objects: {}: {e}", out.to_string_lossy());
            ExitCode::FAILURE
        }
    }
}

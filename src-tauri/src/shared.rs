//! A photo handed to Lookalike by the system: opened with the app on the desktop (a file
//! association, or the path as the first command-line argument) or shared into it on Android
//! (the `ACTION_SEND` `image/*` intent, read by `MainActivity.kt` and handed over through JNI,
//! `mobile.rs`). It waits here until the UI takes it (`shared_image`, then `take_shared_image`,
//! which answers the raw bytes) and searches it like a picked photo: the UI asks when the engine
//! is ready and whenever the app comes back to the front. The web view never learns a path: only
//! the file name and its bytes.

use std::path::Path;
use std::sync::Mutex;

use lookalike_engine::ErrorCode;
use serde::Serialize;
use ts_rs::TS;

use crate::commands::MAX_IMAGE_BYTES;
use crate::error::ApiError;

/// What the UI learns about a waiting photo before it takes the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SharedImageInfo {
    pub name: String,
    #[ts(type = "number")]
    pub bytes: usize,
}

enum Pending {
    Image {
        name: String,
        bytes: Vec<u8>,
    },
    /// The photo could not be read (shown to the person once).
    Refused(ApiError),
}

/// At most one photo waits: a newer share replaces an older one nobody took.
static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

fn pending() -> std::sync::MutexGuard<'static, Option<Pending>> {
    // the slot holds plain data: a panic elsewhere leaves nothing half-written
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Hands a photo over (the newest wins); refused when it is over the search's size limit.
pub fn offer(name: &str, bytes: Vec<u8>) -> Result<SharedImageInfo, ApiError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "{name} is {} MB; the limit is {} MB",
                bytes.len() >> 20,
                MAX_IMAGE_BYTES >> 20
            ),
        ));
    }
    let info = SharedImageInfo {
        name: name.to_string(),
        bytes: bytes.len(),
    };
    *pending() = Some(Pending::Image {
        name: info.name.clone(),
        bytes,
    });
    Ok(info)
}

/// A photo that was handed over but could not be read: the UI says why, once.
pub fn refuse(error: ApiError) {
    *pending() = Some(Pending::Refused(error));
}

/// The waiting photo's name and size, if one waits; a refusal is answered (and forgotten).
pub fn peek() -> Result<Option<SharedImageInfo>, ApiError> {
    let mut slot = pending();
    match slot.take() {
        Some(Pending::Refused(e)) => Err(e),
        Some(Pending::Image { name, bytes }) => {
            let info = SharedImageInfo {
                name: name.clone(),
                bytes: bytes.len(),
            };
            *slot = Some(Pending::Image { name, bytes });
            Ok(Some(info))
        }
        None => Ok(None),
    }
}

/// Takes the waiting photo's bytes (it waits no more).
pub fn take() -> Result<Vec<u8>, ApiError> {
    let mut slot = pending();
    match slot.take() {
        Some(Pending::Image { bytes, .. }) => Ok(bytes),
        other => {
            *slot = other;
            Err(ApiError::new(
                ErrorCode::NotFound,
                "no shared photo is waiting",
            ))
        }
    }
}

/// The photo the app was opened with on the desktop: the first argument that is not an option
/// (`lookalike-app photo.jpg`, which is how a file association starts it), read and offered, or
/// the reason it could not be (also left for the UI). `None`: no such argument.
pub fn from_args(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Option<Result<SharedImageInfo, ApiError>> {
    // options and URLs (a launcher's or a test driver's) are not photos
    let path = args.into_iter().skip(1).find(|a| {
        let a = a.to_string_lossy();
        !a.starts_with('-') && !a.contains("://")
    })?;
    let path = Path::new(&path);
    let name = path
        .file_name()
        .map_or_else(|| "photo".into(), |n| n.to_string_lossy().into_owned());
    let read = std::fs::metadata(path).and_then(|m| match m.len() > MAX_IMAGE_BYTES as u64 {
        true => Ok(None),
        false => std::fs::read(path).map(Some),
    });
    let offered = match read {
        Ok(Some(bytes)) => offer(&name, bytes),
        Ok(None) => Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("{name} is over the {} MB limit", MAX_IMAGE_BYTES >> 20),
        )),
        Err(e) => Err(ApiError::new(
            ErrorCode::Io,
            format!("cannot open {name}: {e}"),
        )),
    };
    if let Err(e) = &offered {
        refuse(e.clone());
    }
    Some(offered)
}

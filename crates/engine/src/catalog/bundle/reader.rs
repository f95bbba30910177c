//! The raw tar entry reader unpack uses: each entry checked for its kind, path, size and sha256
//! as it streams by, without the tar crate's own long-name/PAX handling (which would read any
//! claimed size into memory).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::listing::{check_listing, check_path, implied_dirs};
use super::{BUNDLE_FORMAT, BUNDLE_JSON, BUNDLE_VERSION, BundleLimits, BundleManifest};
use crate::error::{EngineError, Result};

/// The longest entry path accepted (a GNU long-name entry is read only up to this).
const MAX_PATH_BYTES: u64 = 4096;
const BLOCK: u64 = 512;

/// A reader that hashes and counts what passes through it.
pub(super) struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    pub(super) count: u64,
}

impl<R: Read> Hashing<R> {
    pub(super) fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    pub(super) fn hex(&self) -> String {
        hex(self.hasher.clone().finalize().as_slice())
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes a tar entry of `size` takes at least: its header plus its data padded to a block.
fn entry_span(size: u64) -> u64 {
    BLOCK.saturating_add(size.div_ceil(BLOCK).saturating_mul(BLOCK))
}

/// One reader shared by the tar parser and the end-of-archive check.
pub(super) struct Shared<R>(pub(super) Rc<RefCell<R>>);

impl<R: Read> Read for Shared<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().read(buf)
    }
}

struct Item<'a, R: Read> {
    path: String,
    dir: bool,
    size: u64,
    data: tar::Entry<'a, R>,
}

/// The archive's entries one by one, each checked for its kind and path. Raw mode: the tar
/// crate's own long-name and PAX handling would read those entries whole into memory, whatever
/// size they claim; here a long name is read only up to `MAX_PATH_BYTES` and PAX is refused.
pub(super) struct EntryReader<'a, R: Read> {
    inner: tar::Entries<'a, R>,
    bundle: PathBuf,
    limits: BundleLimits,
    count: usize,
    last: Option<String>,
}

impl<'a, R: Read> EntryReader<'a, R> {
    /// Over `inner`, a raw-mode entry iterator; `bundle` names the file in messages.
    pub(super) fn new(inner: tar::Entries<'a, R>, bundle: &Path, limits: &BundleLimits) -> Self {
        EntryReader {
            inner,
            bundle: bundle.to_path_buf(),
            limits: *limits,
            count: 0,
            last: None,
        }
    }

    fn err(&self, detail: String) -> EngineError {
        EngineError::Bundle {
            path: self.bundle.clone(),
            detail,
        }
    }

    fn tar_err(&self, e: std::io::Error) -> EngineError {
        // the tar crate's message may quote header bytes: keep it printable and short
        let why: String = e
            .to_string()
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .take(160)
            .collect();
        self.err(match &self.last {
            None => format!("is not a catalog bundle (not a tar archive: {why})"),
            Some(last) => format!("is damaged or truncated after `{last}`: {why}"),
        })
    }

    fn next(&mut self) -> Result<Option<Item<'a, R>>> {
        let mut long_name: Option<Vec<u8>> = None;
        loop {
            let mut entry = match self.inner.next() {
                None if long_name.is_some() => {
                    return Err(self.err(
                        "is truncated: it ends after a long-name entry, before the entry it names"
                            .into(),
                    ));
                }
                None => return Ok(None),
                Some(Err(e)) => return Err(self.tar_err(e)),
                Some(Ok(e)) => e,
            };
            let kind = entry.header().entry_type();
            if kind.is_gnu_longname() {
                if long_name.is_some() {
                    return Err(self.err("has two long-name entries in a row".into()));
                }
                let size = entry.size();
                if size > MAX_PATH_BYTES {
                    return Err(self.err(format!(
                        "has a long-name entry of {size} bytes (paths up to {MAX_PATH_BYTES} bytes are accepted)"
                    )));
                }
                let mut name = Vec::with_capacity(size as usize);
                (&mut entry)
                    .take(size)
                    .read_to_end(&mut name)
                    .map_err(|e| self.tar_err(e))?;
                if name.len() as u64 != size {
                    return Err(self.err("is truncated inside a long-name entry".into()));
                }
                while name.last() == Some(&0) {
                    name.pop();
                }
                long_name = Some(name);
                continue;
            }
            self.count += 1;
            if self.count > self.limits.max_entries {
                return Err(self.err(format!(
                    "has more than the limit of {} entries",
                    self.limits.max_entries
                )));
            }
            let raw = long_name
                .take()
                .unwrap_or_else(|| entry.path_bytes().into_owned());
            let shown = String::from_utf8_lossy(&raw).into_owned();
            let dir = kind.is_dir();
            let refused = |what: &str| format!("entry `{shown}` is {what}");
            match kind {
                tar::EntryType::Regular | tar::EntryType::Directory => {}
                tar::EntryType::Symlink => {
                    return Err(self.err(refused("a symbolic link: links are refused")));
                }
                tar::EntryType::Link => {
                    return Err(self.err(refused("a hard link: links are refused")));
                }
                tar::EntryType::GNULongLink => {
                    return Err(self.err(refused("a link target: links are refused")));
                }
                tar::EntryType::XHeader | tar::EntryType::XGlobalHeader => {
                    return Err(self.err(refused(
                        "a PAX extended header, which catalog bundles do not use (make it with `lookalike pack`)",
                    )));
                }
                tar::EntryType::Char => {
                    return Err(self.err(refused(
                        "a character device: only regular files are accepted",
                    )));
                }
                tar::EntryType::Block => {
                    return Err(
                        self.err(refused("a block device: only regular files are accepted"))
                    );
                }
                tar::EntryType::Fifo => {
                    return Err(self.err(refused("a pipe: only regular files are accepted")));
                }
                other => {
                    return Err(self.err(refused(&format!(
                        "of tar type `{}`: only regular files are accepted",
                        other.as_byte().escape_ascii()
                    ))));
                }
            }
            let text = String::from_utf8(raw)
                .map_err(|_| self.err(format!("entry path {shown:?} is not UTF-8")))?;
            let path = if dir {
                text.strip_suffix('/').unwrap_or(&text).to_string()
            } else {
                text
            };
            check_path(&path).map_err(|e| self.err(format!("entry {e}")))?;
            self.last = Some(path.clone());
            return Ok(Some(Item {
                path,
                dir,
                size: entry.size(),
                data: entry,
            }));
        }
    }

    /// The first entry: `bundle.json`, parsed and its listing checked, including against the
    /// bundle's length (a bundle too short for what it lists is truncated).
    pub(super) fn manifest(&mut self, bundle_len: u64) -> Result<BundleManifest> {
        let Some(mut first) = self.next()? else {
            return Err(self.err(format!("is empty: no {BUNDLE_JSON} (not a catalog bundle)")));
        };
        if first.path != BUNDLE_JSON || first.dir {
            return Err(self.err(format!(
                "its first entry is `{}`, not {BUNDLE_JSON} (not a catalog bundle)",
                first.path
            )));
        }
        let max = self.limits.max_manifest_bytes;
        if first.size > max {
            return Err(self.err(format!(
                "{BUNDLE_JSON} is {} bytes, more than the limit of {max}",
                first.size
            )));
        }
        let mut json = Vec::with_capacity(first.size as usize);
        (&mut first.data)
            .take(first.size)
            .read_to_end(&mut json)
            .map_err(|e| self.tar_err(e))?;
        if json.len() as u64 != first.size {
            return Err(self.err(format!("is truncated inside {BUNDLE_JSON}")));
        }
        #[derive(Deserialize)]
        struct Head {
            format: String,
            version: u32,
        }
        let head: Head = serde_json::from_slice(&json)
            .map_err(|e| self.err(format!("{BUNDLE_JSON} is not valid: {e}")))?;
        if head.format != BUNDLE_FORMAT || head.version != BUNDLE_VERSION {
            return Err(self.err(format!(
                "{BUNDLE_JSON} is format `{}` version {}, this build reads `{BUNDLE_FORMAT}` version {BUNDLE_VERSION}",
                head.format, head.version
            )));
        }
        let m: BundleManifest = serde_json::from_slice(&json)
            .map_err(|e| self.err(format!("{BUNDLE_JSON} is not valid: {e}")))?;
        check_listing(&m, &self.limits).map_err(|e| self.err(e))?;
        let needed = m.files.iter().fold(entry_span(first.size), |acc, f| {
            acc.saturating_add(entry_span(f.size))
        });
        if needed > bundle_len {
            return Err(self.err(format!(
                "is truncated: {BUNDLE_JSON} lists files that need at least {needed} bytes, the bundle has {bundle_len}"
            )));
        }
        Ok(m)
    }

    /// Every listed file into `dir`, checked entry by entry; returns the bytes written.
    pub(super) fn extract(&mut self, m: &BundleManifest, dir: &Path) -> Result<u64> {
        let index: HashMap<&str, usize> = m
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.as_str(), i))
            .collect();
        let dirs = implied_dirs(m);
        let mut next = 0;
        let mut total: u64 = 0;
        let mut buf = vec![0u8; 1 << 16];
        while let Some(mut item) = self.next()? {
            let path = item.path.clone();
            if item.dir {
                if dirs.contains(&path) && item.size == 0 {
                    continue;
                }
                return Err(self.err(format!(
                    "entry `{path}/` is a folder that no listed file is in: unlisted entries are refused"
                )));
            }
            let Some(&i) = index.get(path.as_str()) else {
                return Err(self.err(if path == BUNDLE_JSON {
                    format!("has a second {BUNDLE_JSON}")
                } else {
                    format!(
                        "entry `{path}` is not listed in {BUNDLE_JSON}: unlisted entries are refused"
                    )
                }));
            };
            if i < next {
                return Err(self.err(format!("entry `{path}` appears twice")));
            }
            if i > next {
                return Err(self.err(format!(
                    "`{}` is missing or out of order: the archive has `{path}` where {BUNDLE_JSON} lists it",
                    m.files[next].path
                )));
            }
            let want = &m.files[i];
            if item.size != want.size {
                return Err(self.err(format!(
                    "entry `{path}` is {} bytes, {BUNDLE_JSON} lists {}",
                    item.size, want.size
                )));
            }
            total = total.saturating_add(item.size);
            if total > self.limits.max_total_bytes {
                return Err(self.err(format!(
                    "holds more than the limit of {} bytes",
                    self.limits.max_total_bytes
                )));
            }
            let target = dir.join(&path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| EngineError::io(format!("creating {}", parent.display()), e))?;
            }
            let writing = |e| EngineError::io(format!("writing {}", target.display()), e);
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(writing)?;
            let mut out = BufWriter::with_capacity(1 << 16, file);
            let mut data = Hashing::new((&mut item.data).take(want.size));
            loop {
                let n = data.read(&mut buf).map_err(|e| self.tar_err(e))?;
                if n == 0 {
                    break;
                }
                out.write_all(&buf[..n]).map_err(writing)?;
            }
            out.flush().map_err(writing)?;
            if data.count != want.size {
                return Err(self.err(format!(
                    "is truncated: `{path}` ends after {} of its {} bytes",
                    data.count, want.size
                )));
            }
            let actual = data.hex();
            if actual != want.sha256 {
                return Err(self.err(format!(
                    "`{path}` is damaged: its sha256 is {actual}, {BUNDLE_JSON} lists {}",
                    want.sha256
                )));
            }
            next += 1;
        }
        if let Some(missing) = m.files.get(next) {
            let more = m.files.len() - next - 1;
            return Err(self.err(format!(
                "is truncated: `{}`{} listed in {BUNDLE_JSON} {} missing",
                missing.path,
                if more > 0 {
                    format!(" and {more} more files")
                } else {
                    String::new()
                },
                if more > 0 { "are" } else { "is" }
            )));
        }
        Ok(total)
    }
}

/// After the end-of-archive block only zero padding may follow (nothing hidden past the end).
pub(super) fn check_tail<R: Read>(source: &RefCell<R>, bundle: &Path) -> Result<()> {
    let mut buf = vec![0u8; 1 << 16];
    let mut source = source.borrow_mut();
    loop {
        let n = source
            .read(&mut buf)
            .map_err(|e| EngineError::io(format!("reading {}", bundle.display()), e))?;
        if n == 0 {
            return Ok(());
        }
        if buf[..n].iter().any(|&b| b != 0) {
            return Err(EngineError::Bundle {
                path: bundle.to_path_buf(),
                detail: "has data after the end of the archive".into(),
            });
        }
    }
}

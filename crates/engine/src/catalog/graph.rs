//! `embeddings.hnsw`: the HNSW graph over a catalog's int8 codes (`stages/retrieve/hnsw.rs`
//! builds and searches it). Written by `lookalike index` (`--ann`); a search maps it, so opening
//! reads the header and the layer counts only.
//!
//! Layout, little-endian u32 words: a 16-word header (magic, version, rows, dims, m, m0,
//! upper layers, entry row, fingerprint of the codes as two words, reserved), one node count per
//! upper layer, then layer 0 (`m0` neighbour rows per row, [`NONE`] padding), then per upper
//! layer its nodes (ascending rows) and `m` neighbour rows per node. The fingerprint ties the
//! graph to the codes it was built on: a graph from another build is refused.

use std::io::Write;
use std::path::Path;

use super::codes::Codes;

pub const MAGIC: [u8; 8] = *b"LKLKHNSW";
pub const VERSION: u32 = 1;
/// Header words.
const HEADER_WORDS: usize = 16;
/// An empty neighbour slot.
pub const NONE: u32 = u32::MAX;
/// More upper layers than a graph of 2^32 rows would ever draw (level ~ ln(rows) / ln(m)).
const MAX_LAYERS: usize = 32;

/// Where the words live.
enum Storage {
    Owned(Vec<u32>),
    Mapped(memmap2::Mmap),
}

/// An HNSW graph: layer 0 links every row to at most `m0` others; upper layer `l` (1-based)
/// holds the rows whose drawn level is at least `l`, each linked to at most `m` others.
pub struct Graph {
    pub rows: usize,
    pub dims: usize,
    pub m: usize,
    pub m0: usize,
    /// The row a search starts from (on the top layer).
    pub entry: usize,
    fingerprint: u64,
    /// Word offset of each part: layer 0, then each upper layer's nodes and links.
    level0_at: usize,
    layers: Vec<Layer>,
    storage: Storage,
}

#[derive(Debug, Clone, Copy)]
struct Layer {
    nodes_at: usize,
    count: usize,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Graph({} rows, m {}, {} upper layers)",
            self.rows,
            self.m,
            self.layers.len()
        )
    }
}

/// What a builder hands over: layer 0's links and each upper layer's nodes and links.
pub struct GraphParts {
    pub rows: usize,
    pub dims: usize,
    pub m: usize,
    pub m0: usize,
    pub entry: usize,
    pub level0: Vec<u32>,
    /// `(nodes ascending, links m per node)` per upper layer, bottom first.
    pub upper: Vec<(Vec<u32>, Vec<u32>)>,
}

/// A cheap fingerprint of the codes (shape, and the scale and first codes of up to 256 evenly
/// spaced rows): the same codes give the same number, codes from another build almost surely
/// not. Reads a few pages, not the file.
pub fn fingerprint(codes: &Codes) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: &[u8]| {
        for x in b {
            h ^= u64::from(*x);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&(codes.rows as u64).to_le_bytes());
    eat(&(codes.dims as u64).to_le_bytes());
    let samples = codes.rows.min(256);
    for i in 0..samples {
        let r = i * codes.rows / samples;
        let (c, s) = codes.row(r);
        eat(&s.to_le_bytes());
        eat(bytemuck::cast_slice(&c[..c.len().min(16)]));
    }
    h
}

impl Graph {
    /// The graph of `parts`, stamped with the fingerprint of the codes it was built on.
    pub fn from_parts(parts: GraphParts, codes: &Codes) -> Result<Self, String> {
        let GraphParts {
            rows,
            dims,
            m,
            m0,
            entry,
            level0,
            upper,
        } = parts;
        let fp = fingerprint(codes);
        let mut words = vec![0u32; HEADER_WORDS];
        words[..2].copy_from_slice(&magic_words());
        let fields = [
            VERSION,
            rows as u32,
            dims as u32,
            m as u32,
            m0 as u32,
            upper.len() as u32,
            entry as u32,
            fp as u32,
            (fp >> 32) as u32,
        ];
        words[2..2 + fields.len()].copy_from_slice(&fields);
        words.extend(upper.iter().map(|(nodes, _)| nodes.len() as u32));
        words.extend(level0);
        for (nodes, links) in upper {
            words.extend(nodes);
            words.extend(links);
        }
        Self::parse(Storage::Owned(words))
    }

    fn words(&self) -> &[u32] {
        words_of(&self.storage)
    }

    /// Row `r`'s neighbours on layer 0 (up to `m0`; [`NONE`] ends the list).
    pub fn level0(&self, r: usize) -> &[u32] {
        let at = self.level0_at + r * self.m0;
        &self.words()[at..at + self.m0]
    }

    /// Upper layers (the top one is `upper_layers()`).
    pub fn upper_layers(&self) -> usize {
        self.layers.len()
    }

    /// Row `r`'s neighbours on upper layer `l` (1-based), `None` when `r` is not on it.
    pub fn upper(&self, l: usize, r: usize) -> Option<&[u32]> {
        let layer = self.layers.get(l.checked_sub(1)?)?;
        let words = self.words();
        let nodes = &words[layer.nodes_at..layer.nodes_at + layer.count];
        let slot = nodes.binary_search(&(r as u32)).ok()?;
        let at = layer.nodes_at + layer.count + slot * self.m;
        Some(&words[at..at + self.m])
    }

    /// The file's size in bytes.
    pub fn byte_len(&self) -> usize {
        self.words().len() * 4
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.words().iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut f = std::fs::File::create(path)?;
        f.write_all(&self.to_bytes())?;
        f.sync_all()
    }

    /// Parses a graph file's bytes (header, layer counts, exact length).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        if !bytes.len().is_multiple_of(4) {
            return Err(format!(
                "file is {} bytes, not a whole number of words (truncated)",
                bytes.len()
            ));
        }
        let words = bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Self::parse(Storage::Owned(words))
    }

    /// Maps a graph file; the links are not read (see [`Graph::check_links`]).
    pub fn map(path: &Path) -> Result<Self, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        // SAFETY: as for `Matrix::map`: catalog files are replaced whole, never written in place
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("cannot map: {e}"))?;
        if cfg!(target_endian = "big") || bytemuck::try_cast_slice::<u8, u32>(&map).is_err() {
            return Self::from_bytes(&map);
        }
        Self::parse(Storage::Mapped(map))
    }

    fn parse(storage: Storage) -> Result<Self, String> {
        let words = words_of(&storage);
        if words.len() < HEADER_WORDS {
            return Err(format!(
                "file is {} bytes, shorter than the {}-byte header",
                words.len() * 4,
                HEADER_WORDS * 4
            ));
        }
        if words[..2] != magic_words() {
            return Err("not a Lookalike HNSW graph file (bad magic)".into());
        }
        if words[2] != VERSION {
            return Err(format!(
                "format version {}, this build reads version {VERSION}",
                words[2]
            ));
        }
        let [rows, dims, m, m0, layers, entry] = [3, 4, 5, 6, 7, 8].map(|i| words[i] as usize);
        let fingerprint = u64::from(words[9]) | (u64::from(words[10]) << 32);
        if rows == 0 || m == 0 || m0 == 0 || layers > MAX_LAYERS || entry >= rows {
            return Err(format!(
                "header is not a graph's: {rows} rows, m {m}, m0 {m0}, {layers} upper layers, entry {entry}"
            ));
        }
        let counts_end = HEADER_WORDS + layers;
        if words.len() < counts_end {
            return Err("truncated: the layer counts are cut off".into());
        }
        let level0_at = counts_end;
        let mut at = rows
            .checked_mul(m0)
            .and_then(|n| n.checked_add(level0_at))
            .ok_or("header sizes overflow")?;
        let mut parts = Vec::with_capacity(layers);
        for &count in &words[HEADER_WORDS..counts_end] {
            let count = count as usize;
            if count == 0 || count > rows {
                return Err(format!(
                    "an upper layer of {count} nodes in a graph of {rows} rows"
                ));
            }
            parts.push(Layer {
                nodes_at: at,
                count,
            });
            at = count
                .checked_mul(m + 1)
                .and_then(|n| n.checked_add(at))
                .ok_or("header sizes overflow")?;
        }
        if words.len() != at {
            return Err(format!(
                "header says {} bytes, the file has {} bytes (truncated or resized)",
                at.saturating_mul(4),
                words.len() * 4
            ));
        }
        Ok(Graph {
            rows,
            dims,
            m,
            m0,
            entry,
            fingerprint,
            level0_at,
            layers: parts,
            storage,
        })
    }

    /// The graph was built on these codes (shape and fingerprint): cheap, checked at open.
    pub fn check_against(&self, codes: &Codes) -> Result<(), String> {
        if (self.rows, self.dims) != (codes.rows, codes.dims) {
            return Err(format!(
                "links {} rows of {} dims, the codes hold {} x {} (from another build)",
                self.rows, self.dims, codes.rows, codes.dims
            ));
        }
        if self.fingerprint != fingerprint(codes) {
            return Err("was built on other codes (from another build)".into());
        }
        Ok(())
    }

    /// Every link names a row of the graph (or is [`NONE`]), no row links to itself, each
    /// upper layer's nodes are ascending and hold the entry row on the top layer: reads the
    /// whole file.
    pub fn check_links(&self) -> Result<(), String> {
        let bad = |what: String| Err(format!("{what}: the file is damaged"));
        for r in 0..self.rows {
            if let Some(n) = self
                .level0(r)
                .iter()
                .find(|&&n| n != NONE && (n as usize >= self.rows || n as usize == r))
            {
                return bad(format!("row {r} links to row {n} on layer 0"));
            }
        }
        let words = self.words();
        for (i, layer) in self.layers.iter().enumerate() {
            let nodes = &words[layer.nodes_at..layer.nodes_at + layer.count];
            if nodes.windows(2).any(|w| w[0] >= w[1])
                || nodes.iter().any(|&n| n as usize >= self.rows)
            {
                return bad(format!("layer {}'s nodes are not ascending rows", i + 1));
            }
            let links =
                &words[layer.nodes_at + layer.count..layer.nodes_at + layer.count * (self.m + 1)];
            if let Some(n) = links
                .iter()
                .find(|&&n| n != NONE && nodes.binary_search(&n).is_err())
            {
                return bad(format!(
                    "layer {} links to row {n}, which is not on it",
                    i + 1
                ));
            }
        }
        if !self.layers.is_empty() && self.upper(self.layers.len(), self.entry).is_none() {
            return bad(format!(
                "the entry row {} is not on the top layer",
                self.entry
            ));
        }
        Ok(())
    }
}

/// The magic as the file's first two little-endian words (the words are numbers in memory,
/// bytes on disk only through `to_bytes`).
fn magic_words() -> [u32; 2] {
    let w = |i: usize| u32::from_le_bytes([MAGIC[i], MAGIC[i + 1], MAGIC[i + 2], MAGIC[i + 3]]);
    [w(0), w(4)]
}

fn words_of(storage: &Storage) -> &[u32] {
    match storage {
        Storage::Owned(w) => w,
        // `map` checked the alignment (a mapping starts on a page)
        Storage::Mapped(m) => bytemuck::cast_slice(m),
    }
}

//! The catalog's product records, read one at a time: `products.jsonl` holds one product's JSON
//! per line, in row order; `products.idx` says where each line starts and lists the rows sorted
//! by id and by barcode. Both are memory-mapped, so opening a catalog costs the same at a
//! million products as at a hundred: a search parses only the lines of the hits it shows, a
//! look-up by id or barcode a binary search's few lines.
//!
//! `products.idx`: a 32-byte header (magic, version, rows, barcodes, reserved, the length of
//! `products.jsonl`), then `rows + 1` u64 line offsets, `rows` u32 rows in id order, and one
//! u32 row per product with a barcode, in barcode order (GTIN-8/12/13/14 compared as GTIN-14:
//! leading zeros ignored), all little-endian.
//!
//! Opening checks the structure (lengths, offsets that rise to the file's end, rows in range
//! and each listed once by id); [`Records::check_all`] parses every line and checks both orders,
//! which a build's read-back, imports and packing run.

use std::cmp::Ordering;
use std::path::Path;

use serde::Deserialize;

use super::schema::{CatalogProduct, PRODUCTS_IDX, PRODUCTS_JSONL};

pub const MAGIC: [u8; 8] = *b"LKLKREC\0";
pub const VERSION: u32 = 1;
pub const HEADER_LEN: usize = 32;

/// A barcode as compared: digits without leading zeros (GTIN-8/12/13/14 as GTIN-14); `None`
/// when it is not a barcode.
pub fn gtin_key(code: &str) -> Option<&str> {
    let key = code.trim().trim_start_matches('0');
    (!key.is_empty() && key.bytes().all(|b| b.is_ascii_digit())).then_some(key)
}

enum Bytes {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

/// The product records of one catalog.
pub struct Records {
    lines: Bytes,
    index: Bytes,
    rows: usize,
    gtins: usize,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Records({} products)", self.rows)
    }
}

/// Only the fields a look-up compares (serde skips the rest of the line).
#[derive(Deserialize)]
struct Keys {
    id: String,
    #[serde(default)]
    gtin: Option<String>,
}

/// `products.jsonl` and `products.idx` for `products`, in row order.
pub fn encode(products: &[CatalogProduct]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let rows = u32::try_from(products.len())
        .map_err(|_| format!("{} products: more than a catalog holds", products.len()))?;
    let mut lines = Vec::new();
    let mut offsets = Vec::with_capacity(products.len() + 1);
    for p in products {
        offsets.push(lines.len() as u64);
        // compact JSON escapes every newline inside a string: one product, one line
        serde_json::to_writer(&mut lines, p).map_err(|e| format!("product `{}`: {e}", p.id))?;
        lines.push(b'\n');
    }
    offsets.push(lines.len() as u64);
    let mut by_id: Vec<u32> = (0..rows).collect();
    by_id.sort_by(|a, b| products[*a as usize].id.cmp(&products[*b as usize].id));
    let mut by_gtin: Vec<(&str, u32)> = (products.iter().zip(0..rows))
        .filter_map(|(p, r)| Some((gtin_key(p.gtin.as_deref()?)?, r)))
        .collect();
    by_gtin.sort();
    let mut index = Vec::with_capacity(HEADER_LEN + 12 * products.len() + 8);
    index.extend_from_slice(&MAGIC);
    for word in [VERSION, rows, by_gtin.len() as u32, 0] {
        index.extend_from_slice(&word.to_le_bytes());
    }
    index.extend_from_slice(&(lines.len() as u64).to_le_bytes());
    for o in offsets {
        index.extend_from_slice(&o.to_le_bytes());
    }
    for r in by_id.into_iter().chain(by_gtin.into_iter().map(|(_, r)| r)) {
        index.extend_from_slice(&r.to_le_bytes());
    }
    Ok((lines, index))
}

/// Writes `products.jsonl` and `products.idx` for `products` into `dir`.
pub fn write(dir: &Path, products: &[CatalogProduct]) -> Result<(), String> {
    let (lines, index) = encode(products)?;
    std::fs::write(dir.join(PRODUCTS_JSONL), lines)
        .map_err(|e| format!("{PRODUCTS_JSONL}: {e}"))?;
    std::fs::write(dir.join(PRODUCTS_IDX), index).map_err(|e| format!("{PRODUCTS_IDX}: {e}"))
}

fn map(path: &Path) -> Result<Bytes, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    if file.metadata().map_err(|e| e.to_string())?.len() == 0 {
        return Ok(Bytes::Owned(Vec::new())); // nothing to map (mapping 0 bytes fails)
    }
    // SAFETY: as for `Matrix::map`: catalog files are replaced whole, never written in place
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| format!("cannot map: {e}"))?;
    // hits and look-ups read scattered lines
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Random);
    Ok(Bytes::Mapped(map))
}

impl Records {
    /// Records held in memory (catalogs before version 4 kept their products in catalog.json).
    pub fn from_list(products: &[CatalogProduct]) -> Result<Self, String> {
        let (lines, index) = encode(products)?;
        Self::from_bytes(lines, index)
    }

    pub fn from_bytes(lines: Vec<u8>, index: Vec<u8>) -> Result<Self, String> {
        Self::new(Bytes::Owned(lines), Bytes::Owned(index))
    }

    /// Maps `products.jsonl` and `products.idx` in `dir`.
    pub fn map(dir: &Path) -> Result<Self, String> {
        let l = map(&dir.join(PRODUCTS_JSONL)).map_err(|e| format!("{PRODUCTS_JSONL}: {e}"))?;
        let i = map(&dir.join(PRODUCTS_IDX)).map_err(|e| format!("{PRODUCTS_IDX}: {e}"))?;
        Self::new(l, i)
    }

    fn new(lines: Bytes, index: Bytes) -> Result<Self, String> {
        if index.len() < HEADER_LEN {
            return Err(format!(
                "products.idx is {} bytes, shorter than its {HEADER_LEN}-byte header (truncated)",
                index.len()
            ));
        }
        if index[..8] != MAGIC {
            return Err("products.idx is not a Lookalike products index (wrong magic)".into());
        }
        let word = |at: usize| {
            u32::from_le_bytes([index[at], index[at + 1], index[at + 2], index[at + 3]])
        };
        let version = word(8);
        if version != VERSION {
            return Err(format!(
                "products.idx is version {version}, this build reads version {VERSION}"
            ));
        }
        let (rows, gtins) = (word(12) as usize, word(16) as usize);
        let lines_len = u64::from_le_bytes(index[24..32].try_into().unwrap_or_default());
        let expected = (rows as u64 + 1) * 8 + (rows as u64 + gtins as u64) * 4 + HEADER_LEN as u64;
        if index.len() as u64 != expected {
            return Err(format!(
                "products.idx is {} bytes, its header ({rows} products, {gtins} barcodes) says {expected} (truncated or damaged)",
                index.len()
            ));
        }
        if lines.len() as u64 != lines_len {
            return Err(format!(
                "products.jsonl is {} bytes, its index says {lines_len} (from another build, or truncated)",
                lines.len()
            ));
        }
        let r = Records {
            lines,
            index,
            rows,
            gtins,
        };
        r.check_structure()?;
        Ok(r)
    }

    /// Offsets that start at 0 and rise to the end of the file; every listed row in range, the
    /// id order a permutation. Reads the index only (12 bytes a product).
    fn check_structure(&self) -> Result<(), String> {
        let mut prev = self.offset(0);
        if prev != 0 {
            return Err("products.idx's first line does not start at byte 0 (damaged)".into());
        }
        for row in 0..self.rows {
            let next = self.offset(row + 1);
            if next <= prev {
                return Err(format!(
                    "products.idx's line {} is empty or runs backwards (damaged)",
                    row + 1
                ));
            }
            prev = next;
        }
        if prev != self.lines.len() as u64 {
            return Err(
                "products.idx's last line does not end where the products file does (damaged)"
                    .into(),
            );
        }
        let mut seen = vec![false; self.rows];
        for k in 0..self.rows {
            let row = self.by_id(k);
            match seen.get_mut(row) {
                Some(s) if !*s => *s = true,
                Some(_) => return Err(format!("products.idx lists row {row} twice (damaged)")),
                None => {
                    return Err(format!(
                        "products.idx names row {row} of {} (damaged)",
                        self.rows
                    ));
                }
            }
        }
        if let Some(row) = (0..self.gtins)
            .map(|k| self.by_gtin(k))
            .find(|r| *r >= self.rows)
        {
            return Err(format!(
                "products.idx names row {row} of {} (damaged)",
                self.rows
            ));
        }
        Ok(())
    }

    fn u64_at(&self, at: usize) -> u64 {
        let b = &self.index[at..at + 8];
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = &self.index[at..at + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    fn offset(&self, row: usize) -> u64 {
        self.u64_at(HEADER_LEN + 8 * row)
    }

    fn by_id(&self, k: usize) -> usize {
        self.u32_at(HEADER_LEN + 8 * (self.rows + 1) + 4 * k) as usize
    }

    fn by_gtin(&self, k: usize) -> usize {
        self.u32_at(HEADER_LEN + 8 * (self.rows + 1) + 4 * (self.rows + k)) as usize
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Line `row` (without its newline); `check_structure` keeps the offsets inside the file.
    fn line(&self, row: usize) -> Result<&[u8], String> {
        if row >= self.rows {
            return Err(format!("row {row} of {}", self.rows));
        }
        let (start, end) = (self.offset(row) as usize, self.offset(row + 1) as usize);
        match self.lines[start..end].split_last() {
            Some((b'\n', line)) => Ok(line),
            _ => Err(format!(
                "products.jsonl line {} does not end where the index says (from another build, or damaged)",
                row + 1
            )),
        }
    }

    fn parse<'a, T: Deserialize<'a>>(&'a self, row: usize) -> Result<T, String> {
        let line = self.line(row)?;
        serde_json::from_slice(line).map_err(|e| format!("products.jsonl line {}: {e}", row + 1))
    }

    /// Product `row`.
    pub fn get(&self, row: usize) -> Result<CatalogProduct, String> {
        self.parse(row)
    }

    /// Every product, in row order.
    pub fn iter(&self) -> impl Iterator<Item = Result<CatalogProduct, String>> + '_ {
        (0..self.rows).map(|r| self.get(r))
    }

    /// The row of product `id`.
    pub fn find_id(&self, id: &str) -> Result<Option<usize>, String> {
        let found = self.lower_bound(
            self.rows,
            |k| self.by_id(k),
            |keys| Some(keys.id.as_str().cmp(id)),
        )?;
        Ok(found)
    }

    /// The first row (in catalog order) whose barcode is `code`, GTIN-8/12/13/14 alike.
    pub fn find_gtin(&self, code: &str) -> Result<Option<usize>, String> {
        let Some(want) = gtin_key(code) else {
            return Ok(None);
        };
        self.lower_bound(
            self.gtins,
            |k| self.by_gtin(k),
            |keys| {
                let key = keys.gtin.as_deref().and_then(gtin_key)?;
                Some(key.cmp(want))
            },
        )
    }

    /// Binary search of an order of `n` rows (`row_at`) for the first whose keys compare
    /// `Equal`; a row whose keys do not belong in the order is a damaged index.
    fn lower_bound(
        &self,
        n: usize,
        row_at: impl Fn(usize) -> usize,
        cmp: impl Fn(&Keys) -> Option<Ordering>,
    ) -> Result<Option<usize>, String> {
        let order = |k: usize| -> Result<(usize, Ordering), String> {
            let row = row_at(k);
            let keys: Keys = self.parse(row)?;
            let ord = cmp(&keys).ok_or_else(|| {
                format!(
                    "products.jsonl line {}: listed by barcode without one (damaged index)",
                    row + 1
                )
            })?;
            Ok((row, ord))
        };
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match order(mid)?.1 {
                Ordering::Less => lo = mid + 1,
                _ => hi = mid,
            }
        }
        if lo == n {
            return Ok(None);
        }
        let (row, ord) = order(lo)?;
        Ok((ord == Ordering::Equal).then_some(row))
    }

    /// Every line parsed, ids unique and in the index's id order, the barcode order complete
    /// and sorted: what a build wrote. `each` sees every product (the catalog checks its own
    /// rules there); the first error stops the walk.
    pub fn check_all(
        &self,
        mut each: impl FnMut(usize, &CatalogProduct) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut ids = Vec::with_capacity(self.rows);
        let mut gtins = Vec::new();
        // one pass front to back: let the kernel read ahead while it lasts
        self.advise_sequential(true);
        let parsed = self.parse_all(&mut ids, &mut gtins, &mut each);
        self.advise_sequential(false);
        parsed?;
        self.check_orders(&ids, gtins)
    }

    /// Read-ahead for a pass over every line, or none (hits and look-ups read scattered lines).
    #[cfg_attr(not(unix), allow(unused_variables))]
    fn advise_sequential(&self, sequential: bool) {
        #[cfg(unix)]
        if let Bytes::Mapped(m) = &self.lines {
            let _ = m.advise(match sequential {
                true => memmap2::Advice::Sequential,
                false => memmap2::Advice::Random,
            });
        }
    }

    fn parse_all(
        &self,
        ids: &mut Vec<String>,
        gtins: &mut Vec<(String, usize)>,
        each: &mut impl FnMut(usize, &CatalogProduct) -> Result<(), String>,
    ) -> Result<(), String> {
        for row in 0..self.rows {
            let p = self.get(row)?;
            each(row, &p)?;
            if let Some(key) = p.gtin.as_deref().and_then(gtin_key) {
                gtins.push((key.to_string(), row));
            }
            ids.push(p.id);
        }
        Ok(())
    }

    fn check_orders(&self, ids: &[String], mut gtins: Vec<(String, usize)>) -> Result<(), String> {
        for k in 1..self.rows {
            let (a, b) = (self.by_id(k - 1), self.by_id(k));
            match ids[a].cmp(&ids[b]) {
                Ordering::Less => {}
                Ordering::Equal => return Err(format!("product id `{}` appears twice", ids[a])),
                Ordering::Greater => {
                    return Err("products.idx's id order is wrong (damaged)".into());
                }
            }
        }
        gtins.sort();
        let listed = (0..self.gtins).map(|k| self.by_gtin(k));
        if gtins.len() != self.gtins || !gtins.iter().map(|(_, r)| *r).eq(listed) {
            return Err("products.idx's barcode order is wrong (damaged)".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, gtin: Option<&str>) -> CatalogProduct {
        CatalogProduct {
            id: id.into(),
            name: format!("{id}\nwith a newline"),
            category: "Bags".into(),
            price: Some(1.5),
            currency: None,
            gtin: gtin.map(String::from),
            brand: None,
            description: None,
            url: None,
            source: None,
            source_image: format!("{id}.jpg"),
            thumbnail: format!("thumbs/{id}.jpg"),
            segmentation: "alpha".into(),
        }
    }

    fn sample() -> Vec<CatalogProduct> {
        vec![
            product("m", Some("0012345")),
            product("b", None),
            product("z", Some("4006381333931")),
            product("a", Some("not a code")),
            product("k", Some("12345")),
        ]
    }

    #[test]
    fn reads_back_every_product_and_finds_ids_and_barcodes() {
        let list = sample();
        let r = Records::from_list(&list).unwrap();
        assert_eq!(r.len(), 5);
        for (row, p) in list.iter().enumerate() {
            assert_eq!(&r.get(row).unwrap(), p);
            assert_eq!(r.find_id(&p.id).unwrap(), Some(row));
        }
        assert_eq!(r.find_id("c").unwrap(), None);
        assert_eq!(r.find_id("zz").unwrap(), None);
        assert_eq!(r.find_id("").unwrap(), None);
        // leading zeros ignored; the first row in catalog order wins a shared code
        assert_eq!(r.find_gtin("12345").unwrap(), Some(0));
        assert_eq!(r.find_gtin(" 000012345 ").unwrap(), Some(0));
        assert_eq!(r.find_gtin("04006381333931").unwrap(), Some(2));
        assert_eq!(r.find_gtin("not a code").unwrap(), None);
        assert_eq!(r.find_gtin("999").unwrap(), None);
        assert_eq!(r.find_gtin("").unwrap(), None);
        r.check_all(|_, _| Ok(())).unwrap();
        let empty = Records::from_list(&[]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.find_id("a").unwrap(), None);
        empty.check_all(|_, _| Ok(())).unwrap();
    }

    #[test]
    fn damaged_files_are_refused_not_read_past() {
        let (lines, index) = encode(&sample()).unwrap();
        let refused = |l: &[u8], i: &[u8]| Records::from_bytes(l.to_vec(), i.to_vec()).unwrap_err();
        assert!(refused(&lines, &index[..20]).contains("truncated"));
        assert!(refused(&lines, &index[..index.len() - 4]).contains("truncated"));
        assert!(refused(&lines[..lines.len() - 1], &index).contains("another build"));
        let mut magic = index.clone();
        magic[0] = b'X';
        assert!(refused(&lines, &magic).contains("magic"));
        let mut version = index.clone();
        version[8] = 9;
        assert!(refused(&lines, &version).contains("version 9"));
        // an offset past the next one, a row listed twice, a row out of range
        let mut backwards = index.clone();
        backwards[HEADER_LEN + 8..HEADER_LEN + 16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(refused(&lines, &backwards).contains("backwards"));
        let ids_at = HEADER_LEN + 8 * 6;
        let mut twice = index.clone();
        twice.copy_within(ids_at..ids_at + 4, ids_at + 4);
        assert!(refused(&lines, &twice).contains("twice"));
        let mut far = index.clone();
        far[ids_at + 20..ids_at + 24].copy_from_slice(&77u32.to_le_bytes());
        assert!(refused(&lines, &far).contains("row 77"));

        // lines that parse apart from one: opening maps, reading that row says which line
        let mut bad_line = lines.clone();
        let second = bad_line.iter().position(|b| *b == b'\n').unwrap() + 1;
        bad_line[second] = b'[';
        let r = Records::from_bytes(bad_line, index.clone()).unwrap();
        assert!(r.get(0).is_ok());
        assert!(r.get(1).unwrap_err().contains("line 2"));
        assert!(r.check_all(|_, _| Ok(())).unwrap_err().contains("line 2"));
        assert!(
            r.get(5).is_err(),
            "a row past the end is an error, not a panic"
        );

        // a swapped id order opens (the structure holds) but fails the full check
        let mut swapped = index.clone();
        let (a, b) = (ids_at, ids_at + 4);
        let first: [u8; 4] = swapped[a..a + 4].try_into().unwrap();
        swapped.copy_within(b..b + 4, a);
        swapped[b..b + 4].copy_from_slice(&first);
        let r = Records::from_bytes(lines.clone(), swapped).unwrap();
        assert!(r.check_all(|_, _| Ok(())).unwrap_err().contains("id order"));
        let _ = r.find_id("m"); // a wrong order misleads the search, never panics it
    }

    #[test]
    fn duplicate_ids_and_rule_breaks_fail_the_full_check() {
        let mut list = sample();
        list[4].id = "m".into();
        let r = Records::from_list(&list).unwrap();
        assert!(
            r.check_all(|_, _| Ok(()))
                .unwrap_err()
                .contains("`m` appears twice")
        );
        let r = Records::from_list(&sample()).unwrap();
        let e = r
            .check_all(|row, p| match row {
                3 => Err(format!("`{}` broke a rule", p.id)),
                _ => Ok(()),
            })
            .unwrap_err();
        assert_eq!(e, "`a` broke a rule");
    }
}

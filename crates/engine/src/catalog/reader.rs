//! Opening a built catalog: every file read once and checked against the others (rows, dims,
//! categories, paths) before a search may use it. The model check happens in `Catalog::check_models`.

use std::path::{Component, Path, PathBuf};

use super::codes::Codes;
use super::format::Matrix;
use super::graph::Graph;
use super::records::Records;
use super::schema::*;
use crate::error::{EngineError, Result};
use crate::stages::color;
use crate::stages::rerank::BlendWeights;

/// Upper bound on catalog.json: a few KiB from version 4 on, but a version 1 to 3 catalog of a
/// million products kept them all in it (~550 MB with long descriptions); beyond this, a
/// damaged or hostile file.
const MAX_CATALOG_JSON: u64 = 1 << 30;

#[derive(Debug)]
pub struct Catalog {
    pub dir: PathBuf,
    /// catalog.json (its `inline_products` moved into `products`).
    pub file: CatalogFile,
    /// The product records, read one at a time ([`Catalog::product`]).
    pub products: Records,
    pub embeddings: Matrix,
    pub texture: Matrix,
    pub colors: Matrix,
    /// The embeddings' int8 codes, when the catalog carries them (`catalog.json`'s `codes`).
    pub codes: Option<Codes>,
    /// The HNSW graph over the codes, when the catalog carries one (`catalog.json`'s `ann`).
    pub graph: Option<Graph>,
}

/// A path from catalog.json must stay inside the catalog: relative, no `..`, no links out.
pub fn safe_relative(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(format!(
            "path `{rel}` must be relative and stay inside the catalog"
        ));
    }
    // every step must be a real entry inside the catalog: a linked `thumbs/` folder escapes as
    // surely as a linked file (found by the `catalog` fuzz target)
    let mut full = dir.to_path_buf();
    for part in p.components() {
        full.push(part);
        let meta = std::fs::symlink_metadata(&full).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("`{rel}` is missing"),
            _ => format!("`{rel}`: {e}"),
        })?;
        if meta.file_type().is_symlink() {
            return Err(format!(
                "`{rel}` goes through a symbolic link (refused: it could point outside the catalog)"
            ));
        }
    }
    Ok(full)
}

impl Catalog {
    pub fn open(dir: &Path) -> Result<Self> {
        let err = |detail: String| EngineError::Catalog {
            path: dir.to_path_buf(),
            detail,
        };
        let json_path = dir.join(CATALOG_JSON);
        // a regular file of sane size, not a link or a pipe (a hostile catalog could hang or exhaust us)
        let regular = |name: &str, max: u64| -> Result<()> {
            let meta = std::fs::symlink_metadata(dir.join(name)).map_err(|e| {
                err(format!(
                    "cannot read {name}: {e} (build one with `lookalike index`)"
                ))
            })?;
            if !meta.file_type().is_file() {
                return Err(err(format!(
                    "{name} is not a regular file (links, pipes and devices are refused)"
                )));
            }
            if meta.len() > max {
                let why = match name == CATALOG_JSON {
                    true => "this build opens (damaged, or not a catalog)".to_string(),
                    false => {
                        format!("{CATALOG_JSON} accounts for (resized, or from another catalog)")
                    }
                };
                return Err(err(format!(
                    "{name} is {} bytes, more than the {max} that {why}",
                    meta.len()
                )));
            }
            Ok(())
        };
        regular(CATALOG_JSON, MAX_CATALOG_JSON)?;
        let text = std::fs::read_to_string(&json_path).map_err(|e| {
            err(format!(
                "cannot read {CATALOG_JSON}: {e} (build one with `lookalike index`)"
            ))
        })?;
        let mut file: CatalogFile = serde_json::from_str(&text)
            .map_err(|e| err(format!("{CATALOG_JSON} is not valid: {e}")))?;
        // Catalogs (and bundles) written before the profiles carried a tuned scoring always
        // stored the seed's blend: read it as "not set", so they search with the blend that
        // was tuned together with the frame weight and router prior. (A products file that sets
        // exactly 0.5 / 0.3 / 0.2 gets the profile's blend too: README says so.)
        if file.blend == Some(BlendWeights::default()) {
            file.blend = None;
        }
        if file.format != CATALOG_FORMAT || !CATALOG_VERSIONS_READ.contains(&file.version) {
            let hint = match file.version > CATALOG_VERSION {
                true => {
                    "made by a newer Lookalike: update the app, or rebuild it with this one's `lookalike index`"
                }
                false => "rebuild it with `lookalike index`",
            };
            return Err(err(format!(
                "{CATALOG_JSON} is format `{}` version {}, this build reads `{CATALOG_FORMAT}` versions {CATALOG_VERSIONS_READ:?}: {hint}",
                file.format, file.version
            )));
        }
        if file.version < 2 && file.codes.is_some() {
            return Err(err(format!(
                "{CATALOG_JSON} is version {} but names codes (version 2 added them)",
                file.version
            )));
        }
        if file.version < 3 && file.ann.is_some() {
            return Err(err(format!(
                "{CATALOG_JSON} is version {} but names an index (version 3 added them)",
                file.version
            )));
        }
        if file.ann.is_some() && file.codes.is_none() {
            return Err(err(format!(
                "{CATALOG_JSON} names an HNSW graph but no codes (the graph links the int8 codes): rebuild it with `lookalike index`"
            )));
        }
        let products = match (file.version >= RECORDS_VERSION, file.inline_products.take()) {
            (false, Some(list)) => {
                file.rows = list.len();
                Records::from_list(&list).map_err(err)?
            }
            (false, None) => {
                return Err(err(format!(
                    "{CATALOG_JSON} is version {} but lists no products",
                    file.version
                )));
            }
            (true, Some(_)) => {
                return Err(err(format!(
                    "{CATALOG_JSON} is version {} but lists its products inline (version {RECORDS_VERSION} keeps them in {PRODUCTS_JSONL})",
                    file.version
                )));
            }
            (true, None) => {
                // a line is one product's JSON: far less than a MiB unless damaged
                regular(PRODUCTS_JSONL, (file.rows as u64).saturating_mul(1 << 20))?;
                let index_len = (file.rows as u64).saturating_mul(16).saturating_add(64);
                regular(PRODUCTS_IDX, index_len)?;
                let r = Records::map(dir)
                    .map_err(|e| err(format!("{e}: rebuild the catalog with `lookalike index`")))?;
                if r.len() != file.rows {
                    return Err(err(format!(
                        "{PRODUCTS_IDX} holds {} products, {CATALOG_JSON} {} (from another build: rebuild with `lookalike index`)",
                        r.len(),
                        file.rows
                    )));
                }
                r
            }
        };
        validate(&file).map_err(err)?;
        let read = |name: &str, dims: usize| -> Result<Matrix> {
            let expected = file
                .rows
                .saturating_mul(dims)
                .saturating_mul(4)
                .saturating_add(super::format::HEADER_LEN);
            regular(name, expected as u64)?;
            let m = Matrix::map(&dir.join(name)).map_err(|e| err(format!("{name}: {e}")))?;
            if m.rows != file.rows || m.dims != dims {
                return Err(err(format!(
                    "{name} holds {} rows x {} dims, {CATALOG_JSON} expects {} rows x {dims} dims",
                    m.rows, m.dims, file.rows
                )));
            }
            Ok(m)
        };
        let embeddings = read(EMBEDDINGS_BIN, file.dims.embedding)?;
        let texture = read(TEXTURE_BIN, file.dims.texture)?;
        let colors = read(COLORS_BIN, file.dims.color)?;
        let codes = match file.codes {
            None => None,
            Some(CodesKind::Int8) => {
                let expected = file
                    .rows
                    .saturating_mul(file.dims.embedding.saturating_add(4))
                    .saturating_add(super::codes::HEADER_LEN);
                regular(CODES_BIN, expected as u64)?;
                let c = Codes::map(&dir.join(CODES_BIN))
                    .map_err(|e| err(format!("{CODES_BIN}: {e}")))?;
                if (c.rows, c.dims) != (embeddings.rows, embeddings.dims) {
                    return Err(err(format!(
                        "{CODES_BIN} holds {} rows x {} dims, {EMBEDDINGS_BIN} {} x {} (from another build: rebuild with `lookalike index`)",
                        c.rows, c.dims, embeddings.rows, embeddings.dims
                    )));
                }
                // searches scan the codes; the f32 rows are read only to re-score a shortlist
                embeddings.advise_random_reads();
                Some(c)
            }
        };
        let graph = match (file.ann, &codes) {
            (Some(AnnKind::Hnsw), Some(codes)) => {
                // up to 64 links per row on layer 0 and a few upper layers: far more than a
                // build writes, far less than a damaged header could claim
                let max = (codes.rows as u64)
                    .saturating_mul(1024)
                    .saturating_add(1 << 16);
                regular(GRAPH_BIN, max)?;
                let g = Graph::map(&dir.join(GRAPH_BIN))
                    .and_then(|g| g.check_against(codes).map(|()| g))
                    .map_err(|e| {
                        err(format!(
                            "{GRAPH_BIN}: {e}: rebuild the catalog with `lookalike index`"
                        ))
                    })?;
                Some(g)
            }
            _ => None,
        };
        Ok(Catalog {
            dir: dir.to_path_buf(),
            file,
            products,
            embeddings,
            texture,
            colors,
            codes,
            graph,
        })
    }

    /// [`Catalog::open`], then every value read and checked: every product record (ids unique,
    /// each in its category's rows, its thumbnail a file inside the catalog), finite vectors,
    /// and codes that are the embeddings' own. Imports, packing and the index builder's
    /// read-back use it; a search checks only the rows it shows ([`Catalog::product`],
    /// [`Catalog::check_row`]), so opening stays as fast at a million products as at a hundred.
    pub fn open_checked(dir: &Path) -> Result<Self> {
        let c = Self::open(dir)?;
        let err = |detail: String| EngineError::Catalog {
            path: dir.to_path_buf(),
            detail,
        };
        c.products
            .check_all(|row, p| {
                c.check_category(row, p)?;
                let thumb = safe_relative(dir, &p.thumbnail)
                    .map_err(|e| format!("product `{}` thumbnail: {e}", p.id))?;
                match thumb.is_file() {
                    true => Ok(()),
                    false => Err(format!(
                        "product `{}` thumbnail {} is missing",
                        p.id, p.thumbnail
                    )),
                }
            })
            .map_err(err)?;
        for (name, m) in [
            (EMBEDDINGS_BIN, &c.embeddings),
            (TEXTURE_BIN, &c.texture),
            (COLORS_BIN, &c.colors),
        ] {
            m.check_finite().map_err(|e| err(format!("{name}: {e}")))?;
        }
        if let Some(codes) = &c.codes {
            codes
                .check_against(&c.embeddings)
                .map_err(|e| err(format!("{CODES_BIN}: {e}")))?;
        }
        if let Some(g) = &c.graph {
            g.check_links()
                .map_err(|e| err(format!("{GRAPH_BIN}: {e}")))?;
        }
        Ok(c)
    }

    /// The stored vectors of product `row` are finite numbers (a damaged `.bin` could rank a NaN
    /// first); the search checks each row it shortlists.
    pub fn check_row(&self, row: usize) -> Result<()> {
        for (name, m) in [
            (EMBEDDINGS_BIN, &self.embeddings),
            (TEXTURE_BIN, &self.texture),
            (COLORS_BIN, &self.colors),
        ] {
            m.check_row(row).map_err(|e| EngineError::Catalog {
                path: self.dir.clone(),
                detail: format!(
                    "{name}: {e}: the file is damaged; rebuild the catalog with `lookalike index`"
                ),
            })?;
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    fn records_err(&self, detail: String) -> EngineError {
        EngineError::Catalog {
            path: self.dir.clone(),
            detail: format!("{detail}: the catalog is damaged; rebuild it with `lookalike index`"),
        }
    }

    /// Product `row`, read from its record and checked to sit in its category's rows.
    pub fn product(&self, row: usize) -> Result<CatalogProduct> {
        let p = (self.products.get(row)).map_err(|e| self.records_err(e))?;
        self.check_category(row, &p)
            .map_err(|e| self.records_err(e))?;
        Ok(p)
    }

    /// Every product, in row order (reports and bundles; a search reads only its hits).
    pub fn all_products(&self) -> Result<Vec<CatalogProduct>> {
        (0..self.len()).map(|r| self.product(r)).collect()
    }

    fn check_category(&self, row: usize, p: &CatalogProduct) -> Result<(), String> {
        let cat = (self.file.categories.iter()).find(|c| (c.rows[0]..c.rows[1]).contains(&row));
        match cat {
            Some(c) if c.def.name == p.category => Ok(()),
            Some(c) => Err(format!(
                "product `{}` is stored in category `{}`'s rows but says `{}`",
                p.id, c.def.name, p.category
            )),
            None => Err(format!("product `{}` is in no category's rows", p.id)),
        }
    }

    pub fn category_index(&self, name: &str) -> Option<usize> {
        self.file.categories.iter().position(|c| c.def.name == name)
    }

    pub fn category_names(&self) -> Vec<String> {
        self.file
            .categories
            .iter()
            .map(|c| c.def.name.clone())
            .collect()
    }

    /// Product `id`, found through the records' id order.
    pub fn product_by_id(&self, id: &str) -> Result<Option<CatalogProduct>> {
        match self.products.find_id(id).map_err(|e| self.records_err(e))? {
            Some(row) => self.product(row).map(Some),
            None => Ok(None),
        }
    }

    /// Looks a barcode up; GTIN-8/12/13/14 are compared as GTIN-14 (leading zeros ignored).
    pub fn product_by_gtin(&self, code: &str) -> Result<Option<CatalogProduct>> {
        match self
            .products
            .find_gtin(code)
            .map_err(|e| self.records_err(e))?
        {
            Some(row) => self.product(row).map(Some),
            None => Ok(None),
        }
    }

    /// The product's thumbnail, checked where it is read (a catalog opens without touching its
    /// thumbnails): a file inside the catalog, reached through no link.
    pub fn thumbnail_path(&self, product: &CatalogProduct) -> Result<PathBuf> {
        let err = |detail: String| EngineError::Catalog {
            path: self.dir.clone(),
            detail: format!("product `{}` thumbnail: {detail}", product.id),
        };
        let path = safe_relative(&self.dir, &product.thumbnail).map_err(err)?;
        match path.is_file() {
            true => Ok(path),
            false => Err(err(format!("{} is not a file", product.thumbnail))),
        }
    }

    /// Up to `n` products to try the catalog with: the first of each category, the largest
    /// categories first (ties in catalog order), so the samples show what the shop mostly sells.
    pub fn samples(&self, n: usize) -> Result<Vec<CatalogProduct>> {
        let mut cats: Vec<_> = (self.file.categories.iter())
            .filter(|c| c.rows[1] > c.rows[0])
            .collect();
        cats.sort_by_key(|c| std::cmp::Reverse(c.rows[1] - c.rows[0]));
        cats.into_iter()
            .take(n)
            .map(|c| self.product(c.rows[0]))
            .collect()
    }
}

/// What catalog.json says about itself and its rows, without reading a product.
fn validate(file: &CatalogFile) -> Result<(), String> {
    if file.dims.color != color::DIMS {
        return Err(format!(
            "colour signatures have {} dims, this build uses {}",
            file.dims.color,
            color::DIMS
        ));
    }
    if let Some(b) = &file.blend {
        b.validate().map_err(|e| e.to_string())?;
    }
    if !file.texture_center.is_empty() && file.texture_center.len() != file.dims.texture {
        return Err(format!(
            "texture_center has {} dims, texture vectors have {}",
            file.texture_center.len(),
            file.dims.texture
        ));
    }
    // categories tile the rows in order (each product's own category is checked where it is
    // read)
    let mut next = 0;
    for c in &file.categories {
        let [start, end] = c.rows;
        if start != next || end < start || end > file.rows {
            return Err(format!(
                "category `{}` rows {start}..{end} do not follow on from row {next}",
                c.def.name
            ));
        }
        if let Some(proto) = &c.prototype
            && proto.len() != file.dims.embedding
        {
            return Err(format!(
                "category `{}` prototype has {} dims, embeddings have {}",
                c.def.name,
                proto.len(),
                file.dims.embedding
            ));
        }
        next = end;
    }
    if next != file.rows {
        return Err(format!(
            "categories cover {next} rows, there are {} products",
            file.rows
        ));
    }
    Ok(())
}

//! The merchant's products file, read by its content (never its name): our JSON
//! (`ProductsFile`), a plain CSV with a header row, or a Shopify product export as Shopify writes
//! it. Every format ends as one checked `ProductsFile`. A bad row is refused with the file, line
//! and column; in CSV files categories are just names (the lite router learns what each looks like
//! from the catalog's own images, the full profile makes prompts from the name).

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path};

use super::schema::{CategoryDef, ProductDef, ProductsFile};
use crate::error::{EngineError, Result};
use crate::stages::route::RouterConfig;

/// Reads and validates a products file (ids, names, categories, image file names).
pub fn read_products(path: &Path) -> Result<ProductsFile> {
    let err = |detail: String| EngineError::Products {
        path: path.to_path_buf(),
        detail,
    };
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        err(format!(
            "is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let file = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| err(e.to_string()))?
    } else {
        from_csv(text, &default_name(path)).map_err(err)?
    };
    validate(&file).map_err(err)?;
    Ok(file)
}

/// The catalog's name when a CSV does not give one: the file's stem.
fn default_name(path: &Path) -> String {
    path.file_stem()
        .map_or("catalog".into(), |s| s.to_string_lossy().into_owned())
}

/// Plain CSV (`id,name,category,image` + optional columns) or a Shopify export (`Handle`,
/// `Title`, ...), told apart by the header row.
fn from_csv(text: &str, name: &str) -> Result<ProductsFile, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| at(&e, "the header row"))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let columns = Columns::new(&header);
    let shopify = columns.has("handle") && columns.has("title");
    let products = if shopify {
        shopify_products(&mut reader, &columns)?
    } else {
        for need in ["id", "name", "category", "image"] {
            if !columns.has(need) {
                return Err(format!(
                    "line 1: the header has no `{need}` column (a products CSV needs id, name, category, image; a Shopify export needs Handle, Title, Image Src)"
                ));
            }
        }
        plain_products(&mut reader, &columns)?
    };
    Ok(ProductsFile {
        name: name.to_string(),
        router: RouterConfig::default(),
        blend: None,
        categories: categories_of(&products),
        products,
    })
}

/// Column positions by lower-case header name (the first column of a name wins).
struct Columns(HashMap<String, usize>);

impl Columns {
    fn new(header: &[String]) -> Self {
        let mut map = HashMap::new();
        for (i, h) in header.iter().enumerate() {
            map.entry(h.clone()).or_insert(i);
        }
        Columns(map)
    }

    fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The trimmed, non-empty value of column `name` in `row`.
    fn get<'r>(&self, row: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        let v = row.get(*self.0.get(name)?)?.trim();
        (!v.is_empty()).then_some(v)
    }

    /// `file line L, column C (name)` for messages about one cell.
    fn place(&self, row: &csv::StringRecord, name: &str) -> String {
        let line = row.position().map_or(0, |p| p.line());
        match self.0.get(name) {
            Some(i) => format!("line {line}, column {} (`{name}`)", i + 1),
            None => format!("line {line}"),
        }
    }

    fn required(&self, row: &csv::StringRecord, name: &str) -> Result<String, String> {
        self.get(row, name).map(str::to_string).ok_or_else(|| {
            format!(
                "{}: empty, but every product needs one",
                self.place(row, name)
            )
        })
    }

    fn price(&self, row: &csv::StringRecord, name: &str) -> Result<Option<f64>, String> {
        let Some(v) = self.get(row, name) else {
            return Ok(None);
        };
        match v.replace(',', ".").parse::<f64>() {
            Ok(p) if p.is_finite() && p >= 0.0 => Ok(Some(p)),
            _ => Err(format!(
                "{}: `{v}` is not a price (a number like 12.50)",
                self.place(row, name)
            )),
        }
    }
}

fn at(e: &csv::Error, what: &str) -> String {
    match e.position() {
        Some(p) => format!("line {}: {what} cannot be read: {e}", p.line()),
        None => format!("{what} cannot be read: {e}"),
    }
}

fn rows(reader: &mut csv::Reader<&[u8]>) -> Result<Vec<csv::StringRecord>, String> {
    reader
        .records()
        .map(|r| r.map_err(|e| at(&e, "a row")))
        .filter(|r| !matches!(r, Ok(row) if row.iter().all(|c| c.trim().is_empty())))
        .collect()
}

fn plain_products(reader: &mut csv::Reader<&[u8]>, c: &Columns) -> Result<Vec<ProductDef>, String> {
    let mut out = Vec::new();
    for row in rows(reader)? {
        let id = c.required(&row, "id")?;
        check_id(&id).map_err(|why| format!("{}: {why}", c.place(&row, "id")))?;
        let image = c.required(&row, "image")?;
        check_image(&image).map_err(|why| format!("{}: {why}", c.place(&row, "image")))?;
        out.push(ProductDef {
            id,
            name: c.required(&row, "name")?,
            category: c.required(&row, "category")?,
            price: c.price(&row, "price")?,
            currency: c.get(&row, "currency").map(str::to_string),
            gtin: c.get(&row, "gtin").map(str::to_string),
            image,
            brand: c.get(&row, "brand").map(str::to_string),
            description: c.get(&row, "description").map(str::to_string),
            url: c.get(&row, "url").map(str::to_string),
            source: None,
        });
    }
    Ok(out)
}

/// Shopify writes one row per variant and image; the first row of a Handle carries the product.
fn shopify_products(
    reader: &mut csv::Reader<&[u8]>,
    c: &Columns,
) -> Result<Vec<ProductDef>, String> {
    let mut out: Vec<ProductDef> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in rows(reader)? {
        let handle = c.required(&row, "handle")?;
        let image = c.get(&row, "image src").map(image_file_name).transpose();
        let image = image.map_err(|why| format!("{}: {why}", c.place(&row, "image src")))?;
        if let Some(&i) = index.get(&handle) {
            // a later row of the same product: only fills in an image the first row lacked
            if out[i].image.is_empty()
                && let Some(img) = image
            {
                out[i].image = img;
            }
            continue;
        }
        check_id(&handle).map_err(|why| format!("{}: {why}", c.place(&row, "handle")))?;
        let category = c
            .get(&row, "type")
            .or_else(|| {
                let path = c.get(&row, "product category")?;
                path.rsplit('>').map(str::trim).find(|s| !s.is_empty())
            })
            .ok_or_else(|| {
                format!(
                    "{}: the product has no `Type` and no `Product Category`",
                    c.place(&row, "type")
                )
            })?;
        index.insert(handle.clone(), out.len());
        out.push(ProductDef {
            id: handle,
            name: c.required(&row, "title")?,
            category: category.to_string(),
            price: c.price(&row, "variant price")?,
            currency: None,
            gtin: c.get(&row, "variant barcode").map(str::to_string),
            image: image.unwrap_or_default(),
            brand: c.get(&row, "vendor").map(str::to_string),
            description: c.get(&row, "body (html)").map(plain_text),
            url: None,
            source: None,
        });
    }
    if let Some(p) = out.iter().find(|p| p.image.is_empty()) {
        return Err(format!(
            "product `{}` has no `Image Src` in any of its rows",
            p.id
        ));
    }
    Ok(out)
}

/// The file name at the end of an image URL (`.../files/shirt.jpg?v=123` -> `shirt.jpg`): the
/// image is looked up under that name in `--images`.
fn image_file_name(url: &str) -> Result<String, String> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let name = path.rsplit('/').next().unwrap_or_default();
    check_image(name).map(|()| name.to_string())
}

/// HTML descriptions as plain text (tags dropped, whitespace folded).
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Categories in the order they first appear, each embedded by the expert its name suggests.
fn categories_of(products: &[ProductDef]) -> Vec<CategoryDef> {
    let mut seen = HashSet::new();
    products
        .iter()
        .filter(|p| seen.insert(p.category.clone()))
        .map(|p| CategoryDef {
            name: p.category.clone(),
            expert: expert_for(&p.category).into(),
            imagenet_classes: Vec::new(),
            prompts: Vec::new(),
        })
        .collect()
}

/// Words that make a category a fashion one (FashionSigLIP in the full profile; the lite
/// profile's two experts are the same model, so there it changes nothing).
const FASHION_WORDS: [&str; 24] = [
    "apparel", "clothing", "clothes", "fashion", "wear", "shirt", "dress", "skirt", "jacket",
    "coat", "hoodie", "sweater", "jean", "trouser", "pant", "short", "shoe", "sneaker", "boot",
    "sandal", "footwear", "bag", "hat", "accessor",
];

fn expert_for(category: &str) -> &'static str {
    let name = category.to_lowercase();
    if FASHION_WORDS.iter().any(|w| name.contains(w)) {
        "fashion"
    } else {
        "general"
    }
}

fn check_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        && !id.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "product id `{id}` must be 1-128 characters of A-Z a-z 0-9 - _ . (it names files)"
        ))
    }
}

fn check_image(image: &str) -> Result<(), String> {
    // one path component and nothing the path parser would normalise away ("a/", "a/.")
    let mut parts = Path::new(image).components();
    let plain = matches!(parts.next(), Some(Component::Normal(_))) && parts.next().is_none();
    if plain && !image.contains(['/', '\\', '\0']) {
        Ok(())
    } else {
        Err(format!(
            "image `{image}` must be a plain file name inside the images folder"
        ))
    }
}

/// What every format must satisfy: unique ids and category names, every product in a known
/// category, plain image names, valid blend weights.
fn validate(file: &ProductsFile) -> Result<(), String> {
    let mut names = HashSet::new();
    for c in &file.categories {
        if c.name.trim().is_empty() || !names.insert(c.name.as_str()) {
            return Err(format!("category name `{}` is empty or repeated", c.name));
        }
    }
    let mut ids = HashSet::new();
    for p in &file.products {
        check_id(&p.id)?;
        if !ids.insert(p.id.as_str()) {
            return Err(format!("product id `{}` appears twice", p.id));
        }
        if !names.contains(p.category.as_str()) {
            return Err(format!(
                "product `{}` has category `{}`, which is not in `categories`",
                p.id, p.category
            ));
        }
        check_image(&p.image).map_err(|why| format!("product `{}`: {why}", p.id))?;
    }
    if file.products.is_empty() {
        return Err("no products".into());
    }
    if let Some(b) = &file.blend {
        b.validate().map_err(|e| format!("blend: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, text: &str) -> Result<ProductsFile> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        read_products(&path)
    }

    fn err(name: &str, text: &str) -> String {
        read(name, text).unwrap_err().to_string()
    }

    #[test]
    fn json_is_validated() {
        let cat = r#"{"name":"shoes","expert":"fashion","imagenet_classes":[770]}"#;
        let prod = |id: &str, category: &str, image: &str| {
            format!(r#"{{"id":"{id}","name":"n","category":"{category}","image":"{image}"}}"#)
        };
        let file = |products: &[String]| {
            format!(
                r#"{{"name":"t","categories":[{cat}],"products":[{}]}}"#,
                products.join(",")
            )
        };
        assert_eq!(
            read("p.json", &file(&[prod("a", "shoes", "a.jpg")]))
                .unwrap()
                .products
                .len(),
            1
        );
        for (bad, why) in [
            (
                file(&[prod("a", "shoes", "a.jpg"), prod("a", "shoes", "b.jpg")]),
                "twice",
            ),
            (file(&[prod("a", "hats", "a.jpg")]), "not in `categories`"),
            (file(&[prod("a/b", "shoes", "a.jpg")]), "must be 1-128"),
            (file(&[prod("a", "shoes", "../a.jpg")]), "plain file name"),
            (
                file(&[prod("a", "shoes", "/etc/passwd")]),
                "plain file name",
            ),
            (file(&[prod("a", "shoes", "a.jpg/")]), "plain file name"),
            (file(&[prod("a", "shoes", "a/.")]), "plain file name"),
            (file(&[]), "no products"),
        ] {
            let e = err("p.json", &bad);
            assert!(e.contains(why), "{why}: {e}");
        }
        // serde names the line and column of broken JSON
        let e = err("p.json", "{\n  \"name\": \"t\",\n  \"categories\": [}\n");
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn a_plain_csv_with_names_for_categories() {
        let csv = "\u{feff}ID,Name,Category,Image,Price,Currency,Colour,URL\n\
                   tee-1,Red tee,T-Shirts,tee-1.jpg,12.50,EUR,red,https://shop.example/tee-1\n\
                   \n\
                   lamp-2,\"Desk lamp, brass\",Lighting,lamp-2.png,,,,\n";
        let f = read("my shop.csv", csv).unwrap();
        assert_eq!(f.name, "my shop");
        assert_eq!(f.products.len(), 2);
        let p = &f.products[1];
        assert_eq!(
            (p.name.as_str(), p.price, p.currency.as_deref()),
            ("Desk lamp, brass", None, None)
        );
        assert_eq!(f.products[0].price, Some(12.5));
        assert_eq!(
            f.products[0].url.as_deref(),
            Some("https://shop.example/tee-1")
        );
        let cats: Vec<(&str, &str)> = f
            .categories
            .iter()
            .map(|c| (c.name.as_str(), c.expert.as_str()))
            .collect();
        assert_eq!(cats, [("T-Shirts", "fashion"), ("Lighting", "general")]);
        assert!(f.categories.iter().all(|c| c.imagenet_classes.is_empty()));
    }

    #[test]
    fn bad_csv_rows_name_the_line_and_column() {
        let head = "id,name,category,image,price\n";
        for (rows, want) in [
            (
                "a,A,x,a.jpg,1\nb,B,x,b.jpg,cheap\n",
                "line 3, column 5 (`price`): `cheap` is not a price",
            ),
            (
                "a,A,x,a.jpg,1\n,B,x,b.jpg,2\n",
                "line 3, column 1 (`id`): empty",
            ),
            (
                "a b,A,x,a.jpg,1\n",
                "line 2, column 1 (`id`): product id `a b`",
            ),
            ("a,A,x,../a.jpg,1\n", "line 2, column 4 (`image`)"),
            ("a,A,,a.jpg,1\n", "line 2, column 3 (`category`): empty"),
            ("a,A,x,a.jpg,1\na,B,x,b.jpg,2\n", "appears twice"),
        ] {
            let e = err("p.csv", &format!("{head}{rows}"));
            assert!(e.contains("p.csv") && e.contains(want), "{want}: {e}");
        }
        let e = err("p.csv", "sku,title,picture\n1,A,a.jpg\n");
        assert!(e.contains("line 1: the header has no `id` column"), "{e}");
        let e = err("p.csv", "id,name,category,image\n");
        assert!(e.contains("no products"), "{e}");
    }

    #[test]
    fn a_shopify_export_gives_one_product_per_handle() {
        let csv = "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,Variant SKU,Variant Price,Variant Barcode,Image Src,Image Position\n\
                   classic-tee,Classic Tee,<p>Soft <b>cotton</b></p>,Acme,Apparel & Accessories > Clothing > Shirts & Tops,,tee,TRUE,Size,S,T-S,19.00,0123456789012,https://cdn.shopify.com/s/files/1/0/tee-front.jpg?v=1699,1\n\
                   classic-tee,,,,,,,,,M,T-M,19.00,0123456789029,https://cdn.shopify.com/s/files/1/0/tee-back.jpg?v=1699,2\n\
                   brass-lamp,Brass Lamp,,Lumen,,Lamps,,TRUE,Title,Default Title,L-1,45.5,,https://cdn.shopify.com/s/files/lamp.png,1\n";
        let f = read("products_export_1.csv", csv).unwrap();
        assert_eq!(f.products.len(), 2);
        let tee = &f.products[0];
        assert_eq!(tee.id, "classic-tee");
        assert_eq!(
            tee.image, "tee-front.jpg",
            "the first image, by the file name in its URL"
        );
        assert_eq!(
            tee.category, "Shirts & Tops",
            "the last step of Product Category"
        );
        assert_eq!(tee.price, Some(19.0));
        assert_eq!(tee.gtin.as_deref(), Some("0123456789012"));
        assert_eq!(tee.brand.as_deref(), Some("Acme"));
        assert_eq!(tee.description.as_deref(), Some("Soft cotton"));
        assert_eq!(f.products[1].category, "Lamps", "Type wins when it is set");
        let e = err(
            "s.csv",
            "Handle,Title,Type,Variant Price,Image Src\nx,X,Hats,free,https://a/x.jpg\n",
        );
        assert!(e.contains("line 2, column 4 (`variant price`)"), "{e}");
        let e = err("s.csv", "Handle,Title,Type,Image Src\nx,X,Hats,\n");
        assert!(e.contains("product `x` has no `Image Src`"), "{e}");
    }
}

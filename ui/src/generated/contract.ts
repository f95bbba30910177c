// GENERATED from the Rust types by src-tauri/src/contract.rs: do not edit.
// Regenerate: cargo xtask contract (a test fails while this file is stale).

/**
 * Every error code anyone reports: the engine (and so the CLI's `--json` errors), the app shell
 * and the UI itself. The UI's TypeScript union is generated from this list, so a code the UI
 * matches on cannot drift from the one Rust sends.
 */
export type ErrorCode = "empty_input" | "unsupported_format" | "corrupt_image" | "image_too_large" | "image_too_small" | "manifest" | "unknown_profile" | "model_missing" | "model_checksum" | "model_mismatch" | "random_weights" | "runtime" | "inference" | "catalog" | "catalog_mismatch" | "products" | "bundle" | "unknown_category" | "cancelled" | "invalid_options" | "internal" | "io" | "engine_not_ready" | "install" | "bad_request" | "payload_too_large" | "invalid_barcode" | "not_found" | "encode" | "busy" | "no_backend" | "unsupported" | "camera_permission" | "barcode_not_found" | "no_barcode" | "unknown";

/** Every `ErrorCode`, as a value. */
export const ERROR_CODES: readonly ErrorCode[] = ["empty_input", "unsupported_format", "corrupt_image", "image_too_large", "image_too_small", "manifest", "unknown_profile", "model_missing", "model_checksum", "model_mismatch", "random_weights", "runtime", "inference", "catalog", "catalog_mismatch", "products", "bundle", "unknown_category", "cancelled", "invalid_options", "internal", "io", "engine_not_ready", "install", "bad_request", "payload_too_large", "invalid_barcode", "not_found", "encode", "busy", "no_backend", "unsupported", "camera_permission", "barcode_not_found", "no_barcode", "unknown"];

export type ApiError = { code: ErrorCode, 
/**
 * Human-readable, shown to the user as is.
 */
message: string, };

/**
 * What `engine_status` returns and the `engine-status` event carries.
 */
export type EngineStatus = { "state": "loading" } | { "state": "ready", catalog: CatalogInfo, } | { "state": "error", error: ApiError, };

/** The event that carries an `EngineStatus` when loading ends. */
export const ENGINE_STATUS_EVENT = "engine-status";

export type CatalogInfo = { name: string, profile: string, size: number, categories: Array<CategoryInfo>, models: Array<ModelInfo>, 
/**
 * How this catalog's searches score (its blend, or the profile's tuned one; the frame
 * weight and the router prior): the designer view's sliders start here and its re-rank
 * of the shortlist follows it.
 */
scoring: Scoring, 
/**
 * The profile's calibrated `match` rule (`null`: uncalibrated, every search says "similar").
 */
match_rule: MatchRule | null, 
/**
 * Whether searches take words (`SearchOptionsDto.text`): the profile has text towers (the
 * full one); the lite profile does not, and the UI hides the box.
 */
takes_text: boolean, 
/**
 * A few products to try the app with, one per category, largest categories first: the
 * empty state shows their thumbnails and searches the one tapped.
 */
samples: Array<Sample>, };

export type CategoryInfo = { name: string, expert: string, count: number, };

/**
 * A product the empty state offers to try: its thumbnail (by id) is the photo searched.
 */
export type Sample = { id: string, name: string, };

export type ModelInfo = { part: string, model: string, sha256: string, };

export type BlendWeights = { semantic: number, texture: number, color: number, };

/**
 * How the rerank turns a candidate's scores into one: the blend, how much the whole frame's
 * cosine counts in the semantic score, and how much the router's opinion of the candidate's
 * category counts. The profile carries tuned values (`[profiles.*.scoring]` in the manifest),
 * a catalog may set its own blend.
 */
export type Scoring = { blend: BlendWeights, 
/**
 * Share of the whole frame's cosine in the semantic score (0: the cut-out's alone).
 */
frame: number, 
/**
 * Weight of the router's share for the candidate's category, added to the blend: soft
 * routing (every category is scanned; the router moves products, it never hides one).
 */
route_prior: number, };

export type MatchRule = { 
/**
 * `same` when `bias + w . [semantic, margin, texture, colour]` (a logistic model's log-odds,
 * fitted by `lookalike eval --tune`) is at least `same_at`...
 */
weights: [number, number, number, number], bias: number, same_at: number, 
/**
 * ...and `none` when the first result's semantic score is below this.
 */
none_semantic: number, };

/**
 * Options the UI sends in the `x-search-options` header (all optional).
 */
export type SearchOptionsDto = { 
/**
 * Skip the router and search this category.
 */
category?: string, 
/**
 * Blend weights for the rerank (default: the catalog's).
 */
weights?: BlendWeights, 
/**
 * Number of results, 1..=50 (default 10).
 */
top_k?: number, 
/**
 * Search only this part of the photo (an object the shopper tapped, or a box they drew).
 */
region?: Region, 
/**
 * Rank towards this colour: a `PALETTE` name or `#rrggbb`.
 */
color?: string, 
/**
 * Words that refine the photo ("in red leather"); only when `CatalogInfo.takes_text`.
 */
text?: string, };

/** The request header that carries a search's `SearchOptionsDto`. */
export const OPTIONS_HEADER = "x-search-options";

/**
 * A rectangle of the upright photo, in shares of its width and height.
 */
export type Region = { x: number, y: number, w: number, h: number, };

/**
 * A colour the shopper can ask for ("like this, in another colour"): a name and its sRGB.
 */
export type Swatch = { name: string, 
/**
 * `#rrggbb`
 */
hex: string, };

/** The colours a search can be ranked towards, in the order of every `Hit.swatches`. */
export const PALETTE: readonly Swatch[] = [{"name":"black","hex":"#181818"},{"name":"grey","hex":"#808080"},{"name":"white","hex":"#f5f5f2"},{"name":"beige","hex":"#dec8a0"},{"name":"brown","hex":"#784a28"},{"name":"red","hex":"#c81e23"},{"name":"orange","hex":"#eb7819"},{"name":"yellow","hex":"#f0cd28"},{"name":"green","hex":"#2d8c3c"},{"name":"blue","hex":"#2350be"},{"name":"purple","hex":"#783296"},{"name":"pink","hex":"#eb82aa"}];

/**
 * The engine's result plus the two per-search images as PNG data URLs.
 */
export type SearchResponse = { 
/**
 * `data:image/png;base64,...`: the cut-out (transparent background), cropped to its box.
 */
cutout: string, 
/**
 * `data:image/png;base64,...`: the grayscale mask over the whole working image.
 */
mask: string, image: ImageInfo, 
/**
 * Every category, best first.
 */
categories: Array<CategoryScore>, route: RouteSummary, segmentation: SegmentationInfo, 
/**
 * The part of the photo searched (`null`: all of it).
 */
region: Region | null, 
/**
 * The separate objects the segmenter found in what was searched, largest first, in shares
 * of the whole photo: what the shopper can tap to search one of them.
 */
objects: Array<DetectedObject>, 
/**
 * The colour the results were ranked towards (`#rrggbb`), when one was asked for.
 */
color: string | null, 
/**
 * The words mixed into the query, when some were given.
 */
text: string | null, 
/**
 * Is the first result this very product (`same`), only lookalikes (`similar`), or is
 * nothing close (`none`)? See `stages/verdict.rs`.
 */
match: Match, 
/**
 * The top-k after rerank.
 */
results: Array<Hit>, 
/**
 * The shortlist in retrieval (semantic) order with each item's blended score, before
 * rerank (empty without `include_candidates`).
 */
candidates: Array<Hit>, timings: Timings, };

/**
 * One object the segmenter found.
 */
export type DetectedObject = { 
/**
 * Its bounding box.
 */
region: Region, 
/**
 * Its share of the photo's pixels (0..1).
 */
area: number, };

export type ImageInfo = { format: string, width: number, height: number, 
/**
 * EXIF orientation value that was applied (1 = none).
 */
exif_orientation: number, 
/**
 * The image carries a real transparent cut-out (used instead of the segmenter).
 */
alpha_cutout: boolean, };

export type CategoryScore = { name: string, score: number, };

export type RouteSummary = { reason: RouteReason, 
/**
 * The categories the router picked, best first. Every category is searched (the router's
 * shares weigh in at the rerank), except when the caller chose one: then only that one.
 */
searched: Array<string>, confidence: number, };

export type RouteReason = "top1" | "top2" | "unsure" | "override";

/**
 * What the segment stage did, for the result and the designer view.
 */
export type SegmentationInfo = { source: MaskSource, 
/**
 * The model that made the mask (`None` for alpha).
 */
model: string | null, used: CutoutUse, fallback_reason: string | null, 
/**
 * Share of the image above the threshold.
 */
foreground: number, 
/**
 * Crop box in working-image pixels: [x, y, width, height].
 */
bbox: [number, number, number, number], };

export type MaskSource = "alpha" | "model";

/**
 * What the rest of the pipeline got from the segment stage.
 */
export type CutoutUse = "cutout" | "fallback";

export type Match = "same" | "similar" | "none";

/**
 * One product in the results (or in the shortlist), with the score of every stage. Its
 * thumbnail is the catalog's `thumbs/` image of the same id (the app serves it by id).
 */
export type Hit = { rank: number, id: string, name: string, category: string, price: number | null, currency: string | null, 
/**
 * The score the rerank sorts by: the blend plus the router prior.
 */
score: number, 
/**
 * The cosine of the query's two views mixed by the scoring's frame weight.
 */
semantic: number, 
/**
 * The cosine of the query's cut-out, and of its whole frame (the same without a second view).
 */
semantic_cutout: number, semantic_frame: number, texture: number, color: number, 
/**
 * The router's share for this product's category (0..1; the rerank adds it times the
 * scoring's `route_prior`).
 */
route_share: number, 
/**
 * The catalog image's file name.
 */
source_image: string, 
/**
 * True for a product of a category the router picked (every category is searched).
 */
routed: boolean, 
/**
 * The product's colour similarity to each `PALETTE` colour, in palette order: the UI
 * re-ranks towards a swatch with these, without another search.
 */
swatches: Array<number>, };

/**
 * Milliseconds spent in each stage, in pipeline order, and in the whole search. A model pass is
 * charged to the first stage that needs it (in the lite profile the router's pass also yields
 * the embedding and the texture descriptor, so `embed` is near zero).
 */
export type Timings = { stages: Array<StageTime>, total_ms: number, };

export type StageTime = { stage: Stage, ms: number, };

export type Stage = "decode" | "segment" | "route" | "embed" | "retrieve" | "texture" | "color" | "rerank";

/** The URI scheme that serves a product's thumbnail by id (`convertFileSrc(id, THUMB_SCHEME)`). */
export const THUMB_SCHEME = "thumb";

/**
 * A product as the catalog stores it (and as the app's `product` command returns it).
 */
export type Product = { id: string, name: string, category: string, price: number | null, currency: string | null, gtin: string | null, brand: string | null, description: string | null, 
/**
 * The product's page in the shop.
 */
url: string | null, source: string | null, 
/**
 * The original image's file name.
 */
source_image: string, 
/**
 * Relative to the catalog folder.
 */
thumbnail: string, 
/**
 * How the product was cut out at index time: "alpha", a model id, or "fallback".
 */
segmentation: string, };

export type DecodedBarcode = { text: string, format: string, };

/**
 * What the UI learns about a waiting photo before it takes the bytes.
 */
export type SharedImageInfo = { name: string, bytes: number, };

/**
 * What the Catalogs panel shows.
 */
export type CatalogsView = { 
/**
 * `None` while the engine loads or after it failed.
 */
current: CatalogInfo | null, 
/**
 * Catalogs imported or built into the app's own storage, by name.
 */
saved: Array<SavedCatalog>, 
/**
 * This build can make catalogs (the desktop app; phones import them).
 */
can_build: boolean, 
/**
 * A long job is running.
 */
busy: boolean, };

export type SavedCatalog = { name: string, in_use: boolean, 
/**
 * Built here from a folder and products file that "Update" can read again.
 */
updatable: boolean, };

export type JobKind = "build" | "import" | "health";

/**
 * One step of a long job.
 */
export type JobProgress = { job: JobKind, done: number, total: number, 
/**
 * What was just done (a product id), for the progress line.
 */
item: string, };

/** The event that carries a long catalog job's `JobProgress`. */
export const CATALOG_JOB_EVENT = "catalog-job";

/**
 * A finished build: the catalog now in use and what the build did.
 */
export type BuildOutcome = { catalog: CatalogInfo, report: IndexReport, };

/**
 * What a build did (`lookalike index --json` prints it; so does the app's Catalogs panel).
 */
export type IndexReport = { 
/**
 * Products in the new catalog.
 */
products: number, 
/**
 * Products whose image went through the models.
 */
embedded: number, 
/**
 * Products whose stored vectors were kept (same image bytes, models and preprocessing).
 */
reused: number, 
/**
 * Products of the previous catalog that the products file no longer lists.
 */
removed: number, 
/**
 * Products left out, with the reason (unreadable image, ...).
 */
skipped: Array<Skipped>, seconds: number, per_category: Array<CategoryCount>, index_segmenter: string | null, 
/**
 * The promptable segmenter that refined the saliency masks (SAM 2), when the profile has
 * one and its files are present.
 */
index_refiner: string | null, cut_by_alpha: number, cut_by_model: number, 
/**
 * Of `cut_by_model`, the cut-outs whose mask came from `index_refiner`.
 */
refined: number, whole_image_fallback: number, };

export type Skipped = { id: string, reason: string, };

export type CategoryCount = { name: string, products: number, };

export type HealthReport = { 
/**
 * The catalog's name.
 */
catalog: string, products: number, 
/**
 * The folder the self-queries' images came from; null: the catalog's own thumbnails.
 */
images: string | null, self_retrieval: SelfRetrieval, duplicates: Duplicates, router: RouterConfusion, fallbacks: Fallbacks, 
/**
 * Products that could not be checked (image missing or unreadable), with why.
 */
problems: Array<Problem>, };

/**
 * A product named in the report.
 */
export type ProductRef = { id: string, name: string, category: string, };

export type SelfRetrieval = { 
/**
 * Products whose self-query ran: the denominator of the recalls.
 */
queried: number, 
/**
 * Results per search (the default search options').
 */
top_k: number, recall_at_1: number, recall_at_10: number, 
/**
 * Every queried product, in catalog order.
 */
ranks: Array<SelfRank>, 
/**
 * The products that did not come first (from `ranks`).
 */
not_first: Array<SelfRank>, 
/**
 * The products not in the top 10 (from `ranks`).
 */
not_in_top_10: Array<SelfRank>, };

export type SelfRank = { product: ProductRef, 
/**
 * The product's own rank in its perturbed image's results; null: not in the top-k.
 */
rank: number | null, 
/**
 * What came first instead; null when the product itself did (or nothing was found).
 */
first: ProductRef | null, };

export type Duplicates = { 
/**
 * Cosine at or above which a pair is listed.
 */
threshold: number, 
/**
 * Colour similarity at or above which a pair's colours agree.
 */
color_threshold: number, 
/**
 * Highest cosine first.
 */
pairs: Array<DuplicatePair>, };

export type DuplicatePair = { a: ProductRef, b: ProductRef, 
/**
 * The expert whose embedding space both products live in.
 */
expert: string, cosine: number, 
/**
 * Colour-signature similarity, 0..1.
 */
color: number, color_agrees: boolean, };

export type RouterConfusion = { 
/**
 * The catalog's categories in catalog order: the rows and the columns of `counts`.
 */
categories: Array<string>, 
/**
 * `counts[true][chosen]`: the product's category x the router's best-scored category.
 */
counts: Array<Array<number>>, total: number, 
/**
 * Share of self-queries whose best-scored category was their own.
 */
accuracy: number, 
/**
 * Share whose own category was among those the router picked (top-2 and unsure routes pick
 * more; every category is searched either way).
 */
searched_own: number, 
/**
 * Routes that searched two categories, and every category.
 */
top2: number, unsure: number, 
/**
 * The largest off-diagonal cells, largest first.
 */
most_confused: Array<Confusion>, };

export type Confusion = { truth: string, chosen: string, count: number, };

export type Fallbacks = { 
/**
 * Products whose catalog cut-out fell back to the whole image at index time.
 */
catalog: Array<ProductRef>, 
/**
 * Self-queries whose cut-out fell back, with the segmenter's reason.
 */
queries: Array<QueryFallback>, };

export type QueryFallback = { product: ProductRef, reason: string | null, };

export type Problem = { product: ProductRef, detail: string, };

// GENERATED from the Rust types by src-tauri/src/contract.rs: do not edit.
// Regenerate: cargo xtask contract (a test fails while this file is stale).

/**
 * Every error code anyone reports: the engine (and so the CLI's `--json` errors), the app shell
 * and the UI itself. The UI's TypeScript union is generated from this list, so a code the UI
 * matches on cannot drift from the one Rust sends.
 */
export type ErrorCode = "empty_input" | "unsupported_format" | "corrupt_image" | "image_too_large" | "image_too_small" | "manifest" | "unknown_profile" | "model_missing" | "model_checksum" | "model_mismatch" | "random_weights" | "runtime" | "inference" | "catalog" | "catalog_mismatch" | "products" | "unknown_category" | "invalid_options" | "internal" | "io" | "engine_not_ready" | "install" | "bad_request" | "payload_too_large" | "invalid_barcode" | "not_found" | "encode" | "no_backend" | "unsupported" | "camera_permission" | "barcode_not_found" | "no_barcode" | "unknown";

/** Every `ErrorCode`, as a value. */
export const ERROR_CODES: readonly ErrorCode[] = ["empty_input", "unsupported_format", "corrupt_image", "image_too_large", "image_too_small", "manifest", "unknown_profile", "model_missing", "model_checksum", "model_mismatch", "random_weights", "runtime", "inference", "catalog", "catalog_mismatch", "products", "unknown_category", "invalid_options", "internal", "io", "engine_not_ready", "install", "bad_request", "payload_too_large", "invalid_barcode", "not_found", "encode", "no_backend", "unsupported", "camera_permission", "barcode_not_found", "no_barcode", "unknown"];

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
 * The catalog's default blend weights (the designer view's sliders start here).
 */
blend: BlendWeights, };

export type CategoryInfo = { name: string, expert: string, count: number, };

export type ModelInfo = { part: string, model: string, sha256: string, };

export type BlendWeights = { semantic: number, texture: number, color: number, };

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
top_k?: number, };

/** The request header that carries a search's `SearchOptionsDto`. */
export const OPTIONS_HEADER = "x-search-options";

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
 * The top-k after rerank.
 */
results: Array<Hit>, 
/**
 * The shortlist in retrieval (semantic) order with each item's blended score, before
 * rerank (empty without `include_candidates`).
 */
candidates: Array<Hit>, timings: Timings, };

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

export type RouteSummary = { reason: RouteReason, searched: Array<string>, confidence: number, };

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

/**
 * One product in the results (or in the shortlist), with the score of every stage. Its
 * thumbnail is the catalog's `thumbs/` image of the same id (the app serves it by id).
 */
export type Hit = { rank: number, id: string, name: string, category: string, price: number | null, currency: string | null, 
/**
 * The blended score the rerank sorts by.
 */
score: number, semantic: number, texture: number, color: number, 
/**
 * The catalog image's file name.
 */
source_image: string, 
/**
 * False for items topped up from other categories because the routed ones ran short.
 */
routed: boolean, };

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

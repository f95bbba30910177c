// The contract between the web front end and the Rust side (src-tauri). api.ts is the only module
// that sends or receives these; every other module works with them as plain data.

/** What every backend failure looks like once api.ts has normalised it. */
export interface ApiError {
  /** Machine-readable, snake_case (e.g. `unsupported_format`, `image_too_large`, `engine_not_ready`). */
  code: string;
  /** Human-readable, shown to the user as is. */
  message: string;
}

export interface Weights {
  semantic: number;
  texture: number;
  color: number;
}

export interface CategoryInfo {
  name: string;
  expert: string;
  count: number;
}

export interface ModelInfo {
  part: string;
  model: string;
  sha256: string;
}

export interface CatalogInfo {
  name: string;
  profile: string;
  size: number;
  categories: CategoryInfo[];
  models: ModelInfo[];
  blend: Weights;
}

export type EngineStatus =
  | { state: 'loading' }
  | { state: 'ready'; catalog: CatalogInfo }
  | { state: 'error'; error: ApiError };

export interface SearchOptions {
  /** Skip the router and search this category. */
  category?: string;
  /** Blend weights for the rerank (default: the catalog's). */
  weights?: Weights;
  /** Number of results (default 10). */
  topK?: number;
}

export interface ImageSummary {
  format: string;
  /** Working-image size (the photo scaled to at most 1024 px, EXIF orientation applied). */
  width: number;
  height: number;
  exif_orientation: number;
  alpha_cutout: boolean;
}

export interface CategoryScore {
  name: string;
  score: number;
}

export interface RouteSummary {
  reason: 'top1' | 'top2' | 'unsure' | 'override';
  searched: string[];
  confidence: number;
}

export interface SegmentationSummary {
  source: 'alpha' | 'model';
  model: string | null;
  used: 'cutout' | 'fallback';
  fallback_reason: string | null;
  /** Share of the image that is foreground (0..1). */
  foreground: number;
  /** Crop box in working-image pixels: [x, y, width, height]. */
  bbox: [number, number, number, number];
}

export interface Hit {
  rank: number;
  id: string;
  name: string;
  category: string;
  price: number | null;
  currency: string | null;
  score: number;
  semantic: number;
  texture: number;
  color: number;
  source_image: string;
  /** data:image/jpeg;base64,... */
  thumbnail: string;
  /** False for items topped up from categories the router did not pick. */
  routed: boolean;
}

export interface Timings {
  decode: number;
  segment: number;
  route: number;
  embed: number;
  retrieve: number;
  texture: number;
  color: number;
  rerank: number;
  total: number;
}

export const TIMING_STAGES = [
  'decode',
  'segment',
  'route',
  'embed',
  'retrieve',
  'texture',
  'color',
  'rerank',
] as const satisfies readonly (keyof Timings)[];

export interface SearchResponse {
  image: ImageSummary;
  categories: CategoryScore[];
  route: RouteSummary;
  segmentation: SegmentationSummary;
  /** Top-k after rerank. */
  results: Hit[];
  /** Top-50 before rerank, in retrieval (semantic) order, each with its blended score. */
  candidates: Hit[];
  timings_ms: Timings;
  /** data:image/png;base64,... the cut-out (transparent background), cropped to bbox. */
  cutout: string;
  /** data:image/png;base64,... grayscale mask over the whole working image. */
  mask: string;
}

export interface Product {
  id: string;
  name: string;
  category: string;
  price: number | null;
  currency: string | null;
  gtin: string | null;
  brand: string | null;
  description: string | null;
  source: string | null;
  /** data:image/jpeg;base64,... */
  thumbnail: string;
}

export interface DecodedBarcode {
  text: string;
  format: string;
}

// THE ONLY module that talks to the backend.
//
// In the Tauri app every call goes through `invoke` (@tauri-apps/api/core). In browser mode
// (`npm run dev:web`, Vite mode "mock") the same calls are answered by ui/src/mock/backend.ts from
// recorded real results; in a production build that code is not even bundled. Every failure is
// normalised into ApiError {code, message} whose code is one of the generated ErrorCode union.
// Product thumbnails are not in any response: `thumbnailUrl(id)` names the image of a product id
// (the app's `thumb:` URI scheme, src-tauri/src/thumbs.rs; the mock's recorded JPEG files).
//
// The types are GENERATED from the Rust side (ui/src/generated/contract.ts): never write them here.

import { convertFileSrc, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  ApiError,
  BuildOutcome,
  CatalogInfo,
  CatalogsView,
  DecodedBarcode,
  EngineStatus,
  ErrorCode,
  HealthReport,
  JobProgress,
  Product,
  SearchOptionsDto,
  SearchResponse,
  SharedImageInfo,
} from './generated/contract';
import { CATALOG_JOB_EVENT, ENGINE_STATUS_EVENT, ERROR_CODES, OPTIONS_HEADER, THUMB_SCHEME } from './generated/contract';

/** What a backend provides; the Tauri one below, the mock one in mock/backend.ts. */
export interface Backend {
  engineStatus(): Promise<EngineStatus>;
  /** Subscribes to status pushes; resolves to an unsubscribe function. */
  onEngineStatus(cb: (status: EngineStatus) => void): Promise<() => void>;
  search(bytes: Uint8Array, options: SearchOptionsDto): Promise<SearchResponse>;
  product(id: string): Promise<Product>;
  productByBarcode(code: string): Promise<Product | null>;
  decodeBarcode(bytes: Uint8Array): Promise<DecodedBarcode | null>;
  /** A URL an <img> can load for the product's thumbnail ('' when there is none). */
  thumbnailUrl(id: string): string;
  /** The thumbnail's bytes, as a photo to search (the empty state's samples). */
  productPhoto(id: string): Promise<Uint8Array>;
  /** A photo opened with the app or shared into it, if one waits (its name and size). */
  sharedImage(): Promise<SharedImageInfo | null>;
  /** The waiting photo's bytes (it waits no more). */
  takeSharedImage(): Promise<Uint8Array>;

  // the Catalogs panel (every path comes from a dialog the backend shows, never from here)
  catalogs(): Promise<CatalogsView>;
  /** Asks for a catalog folder and switches to it; null: the dialog was closed. */
  openCatalog(): Promise<CatalogInfo | null>;
  /** Switches to a saved catalog, by name. */
  switchCatalog(name: string): Promise<CatalogInfo>;
  /** Asks for a `.lookalike` bundle, verifies and unpacks it, switches to it; null: closed. */
  importBundle(): Promise<CatalogInfo | null>;
  /** Desktop: asks for the images folder, then the products file, builds and switches; null: closed. */
  buildCatalog(): Promise<BuildOutcome | null>;
  /** Rebuilds a saved catalog from the files it was built from (only changed images are embedded). */
  updateCatalog(name: string): Promise<BuildOutcome>;
  /** Stops a running build between two products (it then rejects with `cancelled`); false: none ran. */
  cancelJob(): Promise<boolean>;
  catalogHealth(): Promise<HealthReport>;
  /** Opens the product's http(s) shop page in the browser. */
  openInShop(id: string): Promise<void>;
  /** Subscribes to long jobs' progress; resolves to an unsubscribe function. */
  onCatalogJob(cb: (progress: JobProgress) => void): Promise<() => void>;
}

export function isTauri(): boolean {
  return '__TAURI_INTERNALS__' in window;
}

/** The Android/iOS app: the camera barcode scanner plugin is available there only. */
export function isMobile(): boolean {
  return isTauri() && /Android|iPhone|iPad|iPod/i.test(navigator.userAgent);
}

/** True in the browser-mode mock (no Tauri, recorded results). */
export function isMock(): boolean {
  return !isTauri() && import.meta.env.MODE === 'mock';
}

// ---------------------------------------------------------------------------------------------
// errors

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}

/** A code from elsewhere (a plugin, a future backend): kept when it is one of ours, else `unknown`. */
function errorCode(code: unknown): ErrorCode {
  return isErrorCode(code) ? code : 'unknown';
}

export function isApiError(e: unknown): e is ApiError {
  return (
    typeof e === 'object' &&
    e !== null &&
    isErrorCode((e as ApiError).code) &&
    typeof (e as ApiError).message === 'string'
  );
}

/** Anything a backend may reject with (ApiError, a JSON string, a plain string, an Error). */
export function toApiError(e: unknown): ApiError {
  if (isApiError(e)) return { code: e.code, message: e.message };
  if (typeof e === 'string') {
    const s = e.trim();
    if (s.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(s);
        if (typeof parsed === 'object' && parsed !== null && 'message' in parsed) return toApiError(parsed);
      } catch {
        // not JSON: fall through
      }
    }
    return { code: 'unknown', message: s || 'Something went wrong.' };
  }
  if (e instanceof Error) return { code: 'unknown', message: e.message || e.name };
  if (typeof e === 'object' && e !== null && 'message' in e) {
    const o = e as { code?: unknown; message?: unknown };
    return { code: errorCode(o.code), message: String(o.message) };
  }
  return { code: 'unknown', message: `Unexpected error: ${String(e)}` };
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toApiError(e);
  }
}

// ---------------------------------------------------------------------------------------------
// backends

const tauriBackend: Backend = {
  engineStatus: () => invoke<EngineStatus>('engine_status'),
  async onEngineStatus(cb) {
    try {
      return await listen<EngineStatus>(ENGINE_STATUS_EVENT, (event) => cb(event.payload));
    } catch {
      return () => {}; // no event permission: the caller's polling covers it
    }
  },
  // Tauri 2 raw IPC body: the bytes travel as they are, the options as a header (ASCII only:
  // words with accents go as JSON \u escapes, which serde reads back as they were typed).
  search: (bytes, options) =>
    invoke<SearchResponse>('search', bytes, {
      headers: { [OPTIONS_HEADER]: asciiJson(options) },
    }),
  product: (id) => invoke<Product>('product', { id }),
  productByBarcode: (code) => invoke<Product | null>('product_by_barcode', { code }),
  decodeBarcode: (bytes) => invoke<DecodedBarcode | null>('decode_barcode', bytes),
  sharedImage: () => invoke<SharedImageInfo | null>('shared_image'),
  // a raw binary answer arrives as an ArrayBuffer
  takeSharedImage: async () => new Uint8Array(await invoke<ArrayBuffer>('take_shared_image')),
  productPhoto: async (id) => new Uint8Array(await invoke<ArrayBuffer>('product_photo', { id })),
  // thumb://localhost/<id> (Linux, macOS) or http://thumb.localhost/<id> (Windows, Android)
  thumbnailUrl: (id) => convertFileSrc(id, THUMB_SCHEME),
  catalogs: () => invoke<CatalogsView>('catalogs'),
  openCatalog: () => invoke<CatalogInfo | null>('open_catalog'),
  switchCatalog: (name) => invoke<CatalogInfo>('switch_catalog', { name }),
  importBundle: () => invoke<CatalogInfo | null>('import_bundle'),
  buildCatalog: () => invoke<BuildOutcome | null>('build_catalog'),
  updateCatalog: (name) => invoke<BuildOutcome>('update_catalog', { name }),
  cancelJob: () => invoke<boolean>('cancel_job'),
  catalogHealth: () => invoke<HealthReport>('catalog_health'),
  openInShop: async (id) => {
    await invoke<null>('open_in_shop', { id });
  },
  async onCatalogJob(cb) {
    try {
      return await listen<JobProgress>(CATALOG_JOB_EVENT, (event) => cb(event.payload));
    } catch {
      return () => {}; // no event permission: the job's answer still arrives
    }
  },
};

/** JSON with every character outside printable ASCII as a `\\uXXXX` escape (an HTTP header holds
 * no other bytes; JSON.parse and serde_json read the escapes back, surrogate pairs included). */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

const NO_BACKEND: ApiError = {
  code: 'no_backend',
  message:
    'No search engine here: open Lookalike in the app, or run `npm run dev:web` for the browser mode with recorded results.',
};

const noBackend: Backend = {
  engineStatus: async () => ({ state: 'error', error: NO_BACKEND }),
  onEngineStatus: async () => () => {},
  search: () => Promise.reject(NO_BACKEND),
  product: () => Promise.reject(NO_BACKEND),
  productByBarcode: () => Promise.reject(NO_BACKEND),
  decodeBarcode: () => Promise.reject(NO_BACKEND),
  thumbnailUrl: () => '',
  productPhoto: () => Promise.reject(NO_BACKEND),
  sharedImage: async () => null,
  takeSharedImage: () => Promise.reject(NO_BACKEND),
  catalogs: () => Promise.reject(NO_BACKEND),
  openCatalog: () => Promise.reject(NO_BACKEND),
  switchCatalog: () => Promise.reject(NO_BACKEND),
  importBundle: () => Promise.reject(NO_BACKEND),
  buildCatalog: () => Promise.reject(NO_BACKEND),
  updateCatalog: () => Promise.reject(NO_BACKEND),
  cancelJob: () => Promise.reject(NO_BACKEND),
  catalogHealth: () => Promise.reject(NO_BACKEND),
  openInShop: () => Promise.reject(NO_BACKEND),
  onCatalogJob: async () => () => {},
};

let backendPromise: Promise<Backend> | null = null;
/** The backend once loaded (thumbnailUrl is synchronous; hits only exist after a search). */
let loaded: Backend | null = null;

function backend(): Promise<Backend> {
  backendPromise ??= (async () => {
    if (isTauri()) return tauriBackend;
    if (import.meta.env.MODE === 'mock') {
      const { createMockBackend } = await import('./mock/backend');
      return createMockBackend();
    }
    return noBackend;
  })().then((b) => (loaded = b));
  return backendPromise;
}

// ---------------------------------------------------------------------------------------------
// the API the views use

export function engineStatus(): Promise<EngineStatus> {
  return guarded(async () => (await backend()).engineStatus());
}

/** Calls cb on every 'engine-status' event; resolves to an unsubscribe function. */
export async function onEngineStatus(cb: (status: EngineStatus) => void): Promise<() => void> {
  try {
    return await (await backend()).onEngineStatus(cb);
  } catch {
    return () => {};
  }
}

export function search(bytes: Uint8Array, options: SearchOptionsDto = {}): Promise<SearchResponse> {
  return guarded(async () => (await backend()).search(bytes, options));
}

export function product(id: string): Promise<Product> {
  return guarded(async () => (await backend()).product(id));
}

export function productByBarcode(code: string): Promise<Product | null> {
  return guarded(async () => (await backend()).productByBarcode(code));
}

export function decodeBarcode(bytes: Uint8Array): Promise<DecodedBarcode | null> {
  return guarded(async () => (await backend()).decodeBarcode(bytes));
}

export function productPhoto(id: string): Promise<Uint8Array> {
  return guarded(async () => (await backend()).productPhoto(id));
}

export function sharedImage(): Promise<SharedImageInfo | null> {
  return guarded(async () => (await backend()).sharedImage());
}

export function takeSharedImage(): Promise<Uint8Array> {
  return guarded(async () => (await backend()).takeSharedImage());
}

// ---- the Catalogs panel ----------------------------------------------------------------------

export function catalogs(): Promise<CatalogsView> {
  return guarded(async () => (await backend()).catalogs());
}

export function openCatalog(): Promise<CatalogInfo | null> {
  return guarded(async () => (await backend()).openCatalog());
}

export function switchCatalog(name: string): Promise<CatalogInfo> {
  return guarded(async () => (await backend()).switchCatalog(name));
}

export function importBundle(): Promise<CatalogInfo | null> {
  return guarded(async () => (await backend()).importBundle());
}

export function buildCatalog(): Promise<BuildOutcome | null> {
  return guarded(async () => (await backend()).buildCatalog());
}

export function updateCatalog(name: string): Promise<BuildOutcome> {
  return guarded(async () => (await backend()).updateCatalog(name));
}

export function cancelJob(): Promise<boolean> {
  return guarded(async () => (await backend()).cancelJob());
}

export function catalogHealth(): Promise<HealthReport> {
  return guarded(async () => (await backend()).catalogHealth());
}

export function openInShop(id: string): Promise<void> {
  return guarded(async () => (await backend()).openInShop(id));
}

/** Calls cb on every 'catalog-job' progress event; resolves to an unsubscribe function. */
export async function onCatalogJob(cb: (progress: JobProgress) => void): Promise<() => void> {
  try {
    return await (await backend()).onCatalogJob(cb);
  } catch {
    return () => {};
  }
}

/** A product's shop link when it is one the backend would open (plain http or https). */
export function shopUrl(p: Pick<Product, 'url'> | null | undefined): string | null {
  const url = p?.url?.trim() ?? '';
  return /^https?:\/\/[^\s\x00-\x1f\x7f]+$/i.test(url) && url.length <= 2048 ? url : null;
}

/**
 * The image of a product, by id, for an <img src>: every view (results grid, designer lists,
 * details dialog) takes thumbnails from here. A `Product.thumbnail` is a catalog-relative path,
 * not a URL: do not use it as one.
 */
export function thumbnailUrl(id: string): string {
  if (isTauri()) return tauriBackend.thumbnailUrl(id);
  return (loaded ?? noBackend).thumbnailUrl(id);
}

/**
 * Mobile only: opens the camera with the barcode scanner plugin (EAN-13, EAN-8, UPC-A, UPC-E).
 * Resolves to null when the person cancels.
 */
export function scanBarcode(): Promise<DecodedBarcode | null> {
  return guarded(async () => {
    if (!isMobile()) {
      throw { code: 'unsupported', message: 'Camera barcode scanning needs the mobile app.' } satisfies ApiError;
    }
    const scanner = await import('@tauri-apps/plugin-barcode-scanner');
    let permission = await scanner.checkPermissions();
    if (permission !== 'granted') permission = await scanner.requestPermissions();
    if (permission !== 'granted') {
      throw {
        code: 'camera_permission',
        message: 'Lookalike needs the camera to scan barcodes. Allow it in the app settings.',
      } satisfies ApiError;
    }
    try {
      const scanned = await scanner.scan({
        cameraDirection: 'back',
        windowed: false,
        formats: [
          scanner.Format.EAN13,
          scanner.Format.EAN8,
          scanner.Format.UPC_A,
          scanner.Format.UPC_E,
        ],
      });
      return { text: scanned.content, format: scanned.format };
    } catch (e) {
      if (/cancel/i.test(toApiError(e).message)) return null;
      throw e;
    }
  });
}

/** Reads a picked/dropped/pasted file into bytes for search() / decodeBarcode(). */
export async function readFile(file: Blob): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}

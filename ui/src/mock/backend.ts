// Browser-mode backend (`npm run dev:web`): answers api.ts's calls from REAL results recorded with
// the lookalike CLI (ui/mock/record.mjs -> ui/mock/recorded/). Only api.ts loads this module, and
// only in Vite's "mock" mode, so it is absent from production builds.
//
// Behaviour:
// - engine_status is 'loading' for the first ~1.5 s after start, then 'ready' (an 'engine-status'
//   event is pushed too), so the loading state can be seen.
// - search waits ~700 ms, then answers with the recording whose photo has the same byte size as
//   the picked file (pick one of the recorded photos to see its exact result), otherwise the next
//   recording in turn. A category override re-ranks the recorded top-50 candidates with that
//   category routed; weights and top_k are honoured the same way (ui/src/rerank.ts, the engine's
//   rule). Options the app would refuse (unknown or camelCase keys) are refused with invalid_options.
// - Thumbnails: the recorded catalog's JPEGs (ui/mock/recorded/thumbs/<id>.jpg), served by Vite
//   as files (assets of this mock chunk), found by product id like the app's `thumb:` scheme.
// - Forced errors: an empty file -> empty_input; a file that is not an image (e.g. *.txt) ->
//   unsupported_format, with the engine's own messages.
// - Barcodes: the demo catalog has no GTINs, so the mock gives one product a made-up in-store
//   EAN-13 (prefix 200, GS1's restricted range) and "decodes" that number from any image.

import type { Backend } from '../api';
import { rerank, rescore } from '../rerank';
import type {
  ApiError,
  BlendWeights,
  CatalogInfo,
  DecodedBarcode,
  EngineStatus,
  ErrorCode,
  Hit,
  Product,
  SearchOptionsDto,
  SearchResponse,
} from '../generated/contract';

/** ui/mock/recorded/catalog.json */
export interface RecordedCatalog {
  recorded: Record<string, unknown>;
  catalog: CatalogInfo;
  /** As the app's `product` command returns them (`thumbnail` is catalog-relative, not a URL). */
  products: Product[];
}

/** ui/mock/recorded/searches/*.json: what the app would answer for one photo. */
export interface RecordedSearch {
  query: { file: string; path: string; bytes: number; sha256: string };
  command: string;
  response: SearchResponse;
  /** The engine's own top-10 of the same shortlist under other weights (tests/ui/rerank.test.mjs). */
  reranks: { weights: BlendWeights; command: string; results: Hit[] }[];
}

export const MOCK_BARCODE = '2000000000015';
const LOAD_MS = 1500;
const SEARCH_MS = 700;

const catalogLoader = () => import('../../mock/recorded/catalog.json').then((m) => m.default as unknown as RecordedCatalog);
const searchLoaders = import.meta.glob<RecordedSearch>('../../mock/recorded/searches/*.json', {
  import: 'default',
});
// URLs of the recorded thumbnails (files Vite serves in `dev:web` and emits in the mock build)
const thumbUrls = import.meta.glob<string>('../../mock/recorded/thumbs/*.jpg', {
  query: '?url',
  import: 'default',
  eager: true,
});
const thumbById = new Map(
  Object.entries(thumbUrls).map(([file, url]) => [file.slice(file.lastIndexOf('/') + 1, -'.jpg'.length), url]),
);

const OPTION_KEYS = ['category', 'weights', 'top_k'] as const satisfies readonly (keyof SearchOptionsDto)[];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fail(code: ErrorCode, message: string): never {
  throw { code, message } satisfies ApiError;
}

/** Same rules as the engine's decoder: magic bytes of the formats it reads, names for the rest. */
function sniff(bytes: Uint8Array): string | null {
  const b = bytes;
  const starts = (...sig: number[]) => sig.every((v, i) => b[i] === v);
  const ascii = (from: number, s: string) => [...s].every((c, i) => b[from + i] === c.charCodeAt(0));
  if (starts(0xff, 0xd8, 0xff)) return 'JPEG';
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'PNG';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'WebP';
  if (ascii(0, 'GIF8')) return 'GIF';
  if (ascii(0, 'BM')) return 'BMP';
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return 'TIFF';
  return null;
}

function unsupportedReason(bytes: Uint8Array): string {
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'SVG (vector images are not supported)';
  if (head.startsWith('%pdf')) return 'PDF';
  const ftyp = new TextDecoder().decode(bytes.subarray(4, 12));
  if (ftyp.startsWith('ftypheic') || ftyp.startsWith('ftypheix') || ftyp.startsWith('ftypmif1')) return 'HEIC/HEIF (convert to JPEG)';
  if (ftyp.startsWith('ftypavif')) return 'AVIF (convert to JPEG)';
  const printable = bytes.subarray(0, 512).every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128);
  return printable ? 'text, not an image' : 'not a known image format';
}

export function createMockBackend(): Backend {
  const started = performance.now();
  const listeners = new Set<(s: EngineStatus) => void>();
  let catalog: RecordedCatalog | null = null;
  let searches: RecordedSearch[] | null = null;
  let turn = 0;

  const data = async () => {
    catalog ??= await catalogLoader();
    searches ??= await Promise.all(Object.keys(searchLoaders).sort().map((k) => searchLoaders[k]!()));
    return { catalog, searches };
  };

  const products = async () => {
    const { catalog } = await data();
    const byId = new Map(catalog.products.map((p) => [p.id, p]));
    return byId;
  };

  const readyStatus = async (): Promise<EngineStatus> => ({ state: 'ready', catalog: (await data()).catalog.catalog });

  // push 'ready' once loading is over
  setTimeout(async () => {
    const status = await readyStatus();
    for (const cb of listeners) cb(status);
  }, LOAD_MS);

  const ensureReady = () => {
    if (performance.now() - started < LOAD_MS) fail('engine_not_ready', 'The models are still loading.');
  };

  return {
    async engineStatus() {
      if (performance.now() - started < LOAD_MS) return { state: 'loading' };
      return readyStatus();
    },

    async onEngineStatus(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },

    async search(bytes: Uint8Array, options: SearchOptionsDto): Promise<SearchResponse> {
      ensureReady();
      // the app's SearchOptionsDto denies unknown fields (serde's wording)
      const unknown = Object.keys(options).find((k) => !(OPTION_KEYS as readonly string[]).includes(k));
      if (unknown !== undefined) {
        const expected = OPTION_KEYS.map((k) => `\`${k}\``).join(', ');
        fail('invalid_options', `x-search-options: unknown field \`${unknown}\`, expected one of ${expected}`);
      }
      await sleep(SEARCH_MS);
      if (bytes.length === 0) fail('empty_input', 'empty input: the file has no bytes');
      if (!sniff(bytes)) fail('unsupported_format', `unsupported image format: ${unsupportedReason(bytes)}`);
      const { catalog: cat, searches } = await data();
      if (searches.length === 0) fail('internal', 'No recorded searches: run `npm run record-mock`.');
      const rec = searches.find((s) => s.query.bytes === bytes.length) ?? searches[turn++ % searches.length]!;
      const base = rec.response;
      const weights = options.weights ?? cat.catalog.blend;
      const k = options.top_k ?? 10;
      if (!Number.isInteger(k) || k < 1 || k > 50) fail('invalid_options', `top_k (${k}) must be 1..=50`);
      const names = cat.catalog.categories.map((c) => c.name);
      let candidates = base.candidates;
      let route = base.route;
      if (options.category !== undefined) {
        if (!names.includes(options.category)) fail('unknown_category', `unknown category \`${options.category}\``);
        const chosen = options.category;
        const score = base.categories.find((c) => c.name === chosen)?.score ?? 0;
        route = { reason: 'override', searched: [chosen], confidence: score };
        // routed (the chosen category) first in semantic order, then the others as top-up
        const marked = candidates.map((h) => ({ ...h, routed: h.category === chosen }));
        candidates = [...marked.filter((h) => h.routed), ...marked.filter((h) => !h.routed)];
      }
      candidates = rescore(candidates, weights).map((h, i) => ({ ...h, rank: i + 1 }));
      const results = rerank(candidates, weights, k);
      const jitter = (ms: number) => ms * (0.9 + Math.random() * 0.2);
      const stages = base.timings.stages.map((s) => ({ ...s, ms: jitter(s.ms) }));
      // the engine's total also covers the time between stages
      const between = Math.max(0, base.timings.total_ms - base.timings.stages.reduce((a, s) => a + s.ms, 0));
      const timings = { stages, total_ms: stages.reduce((a, s) => a + s.ms, between) };
      return { ...base, route, candidates, results, timings };
    },

    async product(id: string): Promise<Product> {
      ensureReady();
      await sleep(120);
      const p = (await products()).get(id);
      if (!p) fail('not_found', `no product with id \`${id}\``);
      return p;
    },

    async productByBarcode(code: string): Promise<Product | null> {
      ensureReady();
      await sleep(200);
      const byId = await products();
      const hit = [...byId.values()].find((p) => p.gtin === code);
      if (hit) return hit;
      if (code === MOCK_BARCODE) {
        const { searches } = await data();
        const first = searches[0]?.response.results[0]?.id;
        const p = first ? byId.get(first) : undefined;
        return p ? { ...p, gtin: MOCK_BARCODE } : null;
      }
      return null;
    },

    thumbnailUrl(id: string): string {
      return thumbById.get(id) ?? '';
    },

    async decodeBarcode(bytes: Uint8Array): Promise<DecodedBarcode | null> {
      ensureReady();
      await sleep(300);
      if (bytes.length === 0) fail('empty_input', 'empty input: the file has no bytes');
      if (!sniff(bytes)) fail('unsupported_format', `unsupported image format: ${unsupportedReason(bytes)}`);
      return { text: MOCK_BARCODE, format: 'EAN_13' };
    },
  };
}

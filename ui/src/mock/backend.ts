// Browser-mode backend (`npm run dev:web`): answers api.ts's calls from REAL results recorded with
// the lookalike CLI (ui/mock/record.mjs -> ui/mock/recorded/). Only api.ts loads this module, and
// only in Vite's "mock" mode, so it is absent from production builds.
//
// Behaviour:
// - engine_status is 'loading' for the first ~1.5 s after start, then 'ready' (an 'engine-status'
//   event is pushed too), so the loading state can be seen.
// - search waits ~700 ms, then answers with the recording whose photo has the same byte size as
//   the picked file (pick one of the recorded photos to see its exact result), otherwise the next
//   recording in turn. A category override keeps only that category's recorded candidates (the
//   engine then searches that category alone) and re-ranks them; weights and top_k are honoured the
//   same way (ui/src/rerank.ts, the engine's rule, with the catalog's scoring), and `match` is the
//   engine's verdict rule on the new list. Options the app would refuse (unknown or camelCase keys)
//   are refused with invalid_options.
// - A region (an object tapped, a box drawn) answers the recorded region search of that photo that
//   overlaps it most (record.mjs records each photo's two largest objects and its middle); a
//   region the engine would refuse is refused in its words. A colour re-ranks the shortlist
//   towards that palette colour with the UI's own rule (rerank.ts towardColor, each hit's
//   `swatches`), as the engine does.
// - Thumbnails: the recorded catalog's JPEGs (ui/mock/recorded/thumbs/<id>.jpg), served by Vite
//   as files (assets of this mock chunk), found by product id like the app's `thumb:` scheme.
// - Forced errors: an empty file -> empty_input; a file that is not an image (e.g. *.txt) ->
//   unsupported_format; a JPEG or PNG cut short (no end marker: tests/bad-inputs/truncated.*) ->
//   corrupt_image, each with the engine's own message, never a recorded result.
// - Barcodes: the demo catalog has no GTINs, so the mock gives one product a made-up in-store
//   EAN-13 (prefix 200, GS1's restricted range) and "decodes" that number from any image.
// - Catalogs panel (ui/mock/record-catalogs.mjs recorded what it answers with): no dialogs are
//   shown. "Build" acts as if the demo images and the recorded shop's products file had been
//   picked: progress events over that file's products at BUILD_STEP_MS each, then the recorded
//   IndexReport (index-report.json) of the real build, the shop ("Sports corner", 12 products)
//   saved in memory and in use; a second build or "Update" answers the recorded unchanged
//   rebuild. Cancel stops it before the next product, rejecting with `cancelled` in the engine's
//   wording. "Import" refuses the first bundle with the real message for a tampered bundle, then
//   imports the shop's bundle. "Open folder" opens the demo catalog (as if catalog/demo had been
//   picked). Health answers the catalog's recorded `lookalike check` (health.json for the demo),
//   with progress events. "Open in shop" is window.open(url): the shop's links are made up
//   (https://shop.example/...), the demo's products have none.
// - Searches in another catalog than the demo answer from the same recordings, kept to that
//   catalog's products and categories (scores as recorded against the demo catalog).

import { shopUrl, type Backend } from '../api';
import { colorVerdict, inColor, judge, rerank, rescore, towardColor, withBlend } from '../rerank';
import { closest } from './regions';
import { PALETTE } from '../generated/contract';
import type {
  ApiError,
  BlendWeights,
  BuildOutcome,
  CatalogInfo,
  CatalogsView,
  DecodedBarcode,
  EngineStatus,
  ErrorCode,
  HealthReport,
  Hit,
  IndexReport,
  JobKind,
  JobProgress,
  Match,
  Product,
  Region,
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
  /** The engine's top-10 of the same shortlist ranked towards palette colours (`--color`). */
  colors: { color: string; hex: string; command: string; match: Match; results: Hit[] }[];
  /** Region searches of the same photo (`--region`): its largest objects and its middle. */
  regions: { region: Region; command: string; response: SearchResponse }[];
}

/** ui/mock/recorded/built-catalog.json: the shop built for index-report.json (record-catalogs.mjs). */
export interface RecordedBuild {
  recorded: Record<string, unknown>;
  /** The shop's folder name in the app's storage (the saved catalog's name). */
  folder: string;
  /** The products file's ids, in order: what a build's progress events name. */
  progress: string[];
  /** The report of building it again from unchanged files (`update_catalog`). */
  update: IndexReport;
  catalog: CatalogInfo;
  products: Product[];
  health: HealthReport;
  /** A tampered bundle of the shop and the engine's refusal. */
  bundle: { file: string; refused: ApiError };
}

export const MOCK_BARCODE = '2000000000015';
const LOAD_MS = 1500;
const SEARCH_MS = 700;
export const BUILD_STEP_MS = 150;
const HEALTH_MS = 1200;

const catalogLoader = () => import('../../mock/recorded/catalog.json').then((m) => m.default as unknown as RecordedCatalog);
const catalogsLoader = () =>
  Promise.all([
    import('../../mock/recorded/built-catalog.json').then((m) => m.default as unknown as RecordedBuild),
    import('../../mock/recorded/index-report.json').then((m) => m.default as unknown as IndexReport),
    import('../../mock/recorded/health.json').then((m) => m.default as unknown as HealthReport),
  ]).then(([build, report, health]) => ({ build, report, health }));
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

const OPTION_KEYS = ['category', 'weights', 'top_k', 'region', 'color', 'text'] as const satisfies readonly (keyof SearchOptionsDto)[];

/** The engine's checks of a region (stages/objects.rs `Region::validate`), in its words. */
function checkRegion(r: Region): void {
  const bad = (why: string) =>
    fail('invalid_options', `invalid search options: region x=${r.x} y=${r.y} w=${r.w} h=${r.h}: ${why} (x, y, w, h are shares of the photo's width and height, 0..1)`);
  if (![r.x, r.y, r.w, r.h].every(Number.isFinite)) bad('every number must be finite');
  if (r.w <= 0 || r.h <= 0) bad('width and height must be above 0');
  if (r.x < 0 || r.y < 0 || r.x + r.w > 1.0001 || r.y + r.h > 1.0001) bad('it reaches outside the photo');
}

/** The engine's checks of a search's words (engine.rs `check_text`), in its words. */
function checkText(text: string, info: CatalogInfo): void {
  const bad = (why: string) => fail('invalid_options', `invalid search options: ${why}`);
  if (text.trim() === '') bad('the words to refine the search with are empty');
  const n = [...text].length;
  if (n > 200) bad(`the words to refine the search with are ${n} characters long; the limit is 200`);
  if (!info.takes_text) {
    const models = [...new Set(info.models.filter((m) => m.part.startsWith('expert ')).map((m) => m.model.split('.')[0]))];
    bad(`profile \`${info.profile}\` takes no words: its embedding model (${models.join(', ')}) has no text tower (the full profile's SigLIP models do)`);
  }
}

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

/** Why the engine would refuse an image of a known format that is cut short (its own words for
 * tests/bad-inputs/truncated.{jpg,png}), or null. A JPEG ends with its end-of-image marker (FF D9),
 * a PNG with its IEND chunk: neither is there in a file that was cut. */
function truncation(bytes: Uint8Array, format: string): string | null {
  // anywhere: some cameras write data after the end marker
  const has = (sig: number[]) => bytes.some((_, i) => sig.every((v, j) => bytes[i + j] === v));
  if (format === 'JPEG' && !has([0xff, 0xd9])) {
    return 'corrupt or truncated image (JPEG): file is truncated (no end-of-image marker after the image data)';
  }
  if (format === 'PNG' && !has([0x49, 0x45, 0x4e, 0x44])) return 'corrupt or truncated image (PNG): file is truncated';
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

/** A catalog the mock can have in use: the demo, or the recorded shop. */
interface MockCatalog {
  info: CatalogInfo;
  products: Product[];
  health: HealthReport;
}

/** Only the products and categories of `cat` (the recordings are against the demo catalog). */
function restrict(r: SearchResponse, cat: MockCatalog, demo: MockCatalog): SearchResponse {
  if (cat === demo) return r;
  const ids = new Set(cat.products.map((p) => p.id));
  const names = cat.info.categories.map((c) => c.name);
  const categories = r.categories.filter((c) => names.includes(c.name));
  const kept = r.route.searched.filter((c) => names.includes(c));
  const route = kept.length ? { ...r.route, searched: kept } : { reason: 'unsure' as const, searched: names, confidence: r.route.confidence };
  // soft routing: the candidates keep their retrieval order; `routed` only marks the router's pick
  const marked = r.candidates.filter((h) => ids.has(h.id)).map((h) => ({ ...h, routed: route.searched.includes(h.category) }));
  return { ...r, categories, route, candidates: marked };
}

export function createMockBackend(): Backend {
  const started = performance.now();
  const listeners = new Set<(s: EngineStatus) => void>();
  const jobListeners = new Set<(p: JobProgress) => void>();
  let catalog: RecordedCatalog | null = null;
  let searches: RecordedSearch[] | null = null;
  let turn = 0;

  // the Catalogs panel's state, in memory
  let demo: MockCatalog | null = null;
  let current: MockCatalog | null = null;
  const saved = new Map<string, { catalog: MockCatalog; updatable: boolean }>();
  let builds = 0;
  let imports = 0;
  let job: { kind: JobKind; cancel: boolean } | null = null;

  const data = async () => {
    catalog ??= await catalogLoader();
    searches ??= await Promise.all(Object.keys(searchLoaders).sort().map((k) => searchLoaders[k]!()));
    return { catalog, searches };
  };

  const inUse = async (): Promise<{ demo: MockCatalog; current: MockCatalog }> => {
    if (!demo) {
      const { catalog } = await data();
      const { health } = await catalogsLoader();
      demo = { info: catalog.catalog, products: catalog.products, health };
    }
    current ??= demo;
    return { demo, current };
  };

  const products = async () => {
    const { current } = await inUse();
    return new Map(current.products.map((p) => [p.id, p]));
  };

  const readyStatus = async (): Promise<EngineStatus> => ({ state: 'ready', catalog: (await inUse()).current.info });

  const emit = (p: JobProgress) => {
    for (const cb of jobListeners) cb(p);
  };

  /** Claims the one job slot, as the app does. */
  const startJob = (kind: JobKind) => {
    if (job) fail('busy', 'another catalog job is running: wait for it or cancel it');
    const j = { kind, cancel: false };
    job = j;
    return { j, done: () => job === j && (job = null) };
  };

  const shop = async (): Promise<MockCatalog> => {
    const { build } = await catalogsLoader();
    return saved.get(build.folder)?.catalog ?? { info: build.catalog, products: build.products, health: build.health };
  };

  /** Replays a build over the recorded products file; the engine checks cancel before each product. */
  const runBuild = async (report: IndexReport): Promise<BuildOutcome> => {
    ensureReady();
    const { build } = await catalogsLoader();
    const { j, done } = startJob('build');
    try {
      const items = build.progress;
      for (let i = 0; i < items.length; i++) {
        if (j.cancel) {
          fail(
            'cancelled',
            `cancelled: the build of catalogs/${build.folder} stopped after ${i} of ${items.length} products; the catalog there is unchanged`,
          );
        }
        await sleep(BUILD_STEP_MS);
        emit({ job: 'build', done: i + 1, total: items.length, item: items[i]! });
      }
      const built = await shop();
      saved.set(build.folder, { catalog: built, updatable: true });
      builds++;
      current = built;
      return { catalog: built.info, report };
    } finally {
      done();
    }
  };

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
      const format = sniff(bytes);
      if (!format) fail('unsupported_format', `unsupported image format: ${unsupportedReason(bytes)}`);
      const cut = truncation(bytes, format);
      if (cut) fail('corrupt_image', cut);
      const { searches } = await data();
      const { demo, current } = await inUse();
      if (searches.length === 0) fail('internal', 'No recorded searches: run `npm run record-mock`.');
      const rec = searches.find((s) => s.query.bytes === bytes.length) ?? searches[turn++ % searches.length]!;
      // a region: the recorded region search of this photo that overlaps it most
      if (options.region) checkRegion(options.region);
      const region = options.region;
      const byRegion = region ? closest(rec.regions, region) : undefined;
      const base = restrict(byRegion?.response ?? rec.response, current, demo);
      const swatch = options.color === undefined ? null : PALETTE.findIndex((c) => c.name === options.color || c.hex === options.color);
      if (swatch === -1) fail('invalid_options', `invalid search options: colour \`${options.color}\`: give one of ${PALETTE.map((c) => c.name).join(', ')} or #rrggbb`);
      if (options.text !== undefined) checkText(options.text, current.info);
      const scoring = options.weights ? withBlend(current.info.scoring, options.weights) : current.info.scoring;
      const k = options.top_k ?? 10;
      if (!Number.isInteger(k) || k < 1 || k > 50) fail('invalid_options', `top_k (${k}) must be 1..=50`);
      const names = current.info.categories.map((c) => c.name);
      let candidates = base.candidates;
      let route = base.route;
      if (options.category !== undefined) {
        if (!names.includes(options.category)) fail('unknown_category', `unknown category \`${options.category}\``);
        const chosen = options.category;
        const score = base.categories.find((c) => c.name === chosen)?.score ?? 0;
        route = { reason: 'override', searched: [chosen], confidence: score };
        // the engine searches the chosen category alone: only its candidates, in retrieval order
        candidates = candidates.filter((h) => h.category === chosen).map((h) => ({ ...h, routed: true }));
      }
      const ranking = swatch === null ? scoring : towardColor(scoring);
      if (swatch !== null) candidates = inColor(candidates, swatch);
      candidates = rescore(candidates, ranking).map((h, i) => ({ ...h, rank: i + 1 }));
      const results = rerank(candidates, ranking, k);
      const judged = judge(results, current.info.match_rule);
      // asked for another colour or for words, the photo's own product is not what is wanted
      const verdict = swatch === null && options.text === undefined ? judged : colorVerdict(judged);
      const jitter = (ms: number) => ms * (0.9 + Math.random() * 0.2);
      const stages = base.timings.stages.map((s) => ({ ...s, ms: jitter(s.ms) }));
      // the engine's total also covers the time between stages
      const between = Math.max(0, base.timings.total_ms - base.timings.stages.reduce((a, s) => a + s.ms, 0));
      const timings = { stages, total_ms: stages.reduce((a, s) => a + s.ms, between) };
      const color = swatch === null ? null : PALETTE[swatch]!.hex;
      // no recording has words (the profiles that take them have no real weights here): a catalog
      // that took them would answer with the photo's own ranking, the words echoed
      return { ...base, route, match: verdict, candidates, results, timings, color, text: options.text ?? null };
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

    async productPhoto(id: string): Promise<Uint8Array> {
      ensureReady();
      const url = thumbById.get(id);
      if (!url) fail('not_found', `no product with id \`${id}\``);
      return new Uint8Array(await (await fetch(url)).arrayBuffer());
    },

    // a browser tab is never opened with a photo nor shared one
    async sharedImage() {
      return null;
    },

    async takeSharedImage(): Promise<Uint8Array> {
      return fail('not_found', 'no shared photo is waiting');
    },

    async decodeBarcode(bytes: Uint8Array): Promise<DecodedBarcode | null> {
      ensureReady();
      await sleep(300);
      if (bytes.length === 0) fail('empty_input', 'empty input: the file has no bytes');
      if (!sniff(bytes)) fail('unsupported_format', `unsupported image format: ${unsupportedReason(bytes)}`);
      return { text: MOCK_BARCODE, format: 'EAN_13' };
    },

    // ---- the Catalogs panel ------------------------------------------------------------------

    async catalogs(): Promise<CatalogsView> {
      const ready = performance.now() - started >= LOAD_MS;
      const { current } = await inUse();
      return {
        current: ready ? current.info : null,
        saved: [...saved.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, s]) => ({ name, in_use: s.catalog === current, updatable: s.updatable })),
        can_build: true,
        busy: job !== null,
      };
    },

    async openCatalog(): Promise<CatalogInfo | null> {
      ensureReady();
      await sleep(300); // no folder dialog here: as if catalog/demo had been picked
      const { demo } = await inUse();
      current = demo;
      return demo.info;
    },

    async switchCatalog(name: string): Promise<CatalogInfo> {
      ensureReady();
      await sleep(250);
      const s = saved.get(name);
      if (!s) fail('not_found', `no saved catalog \`${name}\``);
      current = s.catalog;
      return s.catalog.info;
    },

    async importBundle(): Promise<CatalogInfo | null> {
      ensureReady();
      const { build } = await catalogsLoader();
      const { done } = startJob('import');
      try {
        emit({ job: 'import', done: 0, total: 1, item: 'verifying' });
        await sleep(600);
        // the first bundle "picked" is the recorded tampered one; then the shop's own
        if (imports++ % 2 === 0) throw { ...build.bundle.refused } satisfies ApiError;
        const s = await shop();
        saved.set(build.folder, { catalog: s, updatable: saved.get(build.folder)?.updatable ?? false });
        current = s;
        emit({ job: 'import', done: 1, total: 1, item: s.info.name });
        return s.info;
      } finally {
        done();
      }
    },

    async buildCatalog(): Promise<BuildOutcome | null> {
      const { report, build } = await catalogsLoader();
      return runBuild(builds === 0 ? report : build.update);
    },

    async updateCatalog(name: string): Promise<BuildOutcome> {
      const { build } = await catalogsLoader();
      if (!saved.get(name)?.updatable) {
        fail('not_found', `catalog \`${name}\` was not built in this app: build it again from its files`);
      }
      return runBuild(build.update);
    },

    async cancelJob(): Promise<boolean> {
      if (!job) return false;
      job.cancel = true;
      return true;
    },

    async catalogHealth(): Promise<HealthReport> {
      ensureReady();
      const { current } = await inUse();
      const { done } = startJob('health');
      try {
        const total = current.products.length;
        for (let i = 1; i <= total; i++) {
          await sleep(HEALTH_MS / total);
          emit({ job: 'health', done: i, total, item: '' });
        }
        return current.health;
      } finally {
        done();
      }
    },

    async openInShop(id: string): Promise<void> {
      ensureReady();
      const p = (await products()).get(id);
      if (!p) fail('not_found', `no product with id \`${id}\``);
      const url = shopUrl(p);
      if (!url) fail('bad_request', `product \`${id}\` has no http(s) shop link`);
      window.open(url, '_blank', 'noopener');
    },

    async onCatalogJob(cb) {
      jobListeners.add(cb);
      return () => jobListeners.delete(cb);
    },
  };
}

// Test harness for the UI: serves the BUILT front end (ui/dist) on 127.0.0.1, drives Debian's
// headless Chromium with playwright-core, and stands in for the Rust side with `mockIPC` from
// @tauri-apps/api/mocks injected through page.addInitScript, so api.ts runs its real Tauri path.
// The mock IPC answers from the recorded real results in ui/mock/recorded/ and checks the wire
// format: `search` and `decode_barcode` must get a raw binary body, `search` an
// `x-search-options` JSON header with only the contract's (snake_case) fields. Thumbnails come
// from the app's `thumb:` URI scheme by product id (`convertFileSrc` mocked per OS); the page's
// requests for them are answered here from ui/mock/recorded/thumbs/<id>.jpg.

import { after, before } from 'node:test';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import ts from 'typescript';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'ui/dist');
export const ARTIFACTS = path.join(ROOT, 'tests/ui/artifacts');
const RECORDED = path.join(ROOT, 'ui/mock/recorded');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** Photos the recordings were made from (same bytes -> the mock answers with that recording). */
export const PHOTOS = {
  tshirt: '.cache/demo-sources/queries/saleor-code-division-t-shirt--view2.png',
  plimsolls: '.cache/demo-sources/queries/saleor-yellow-plimsolls--view2.png',
  coffee: 'tests/fixtures/coffee.png',
  chair: '.cache/demo-sources/images/vendure-balloon-chair.jpg',
  cat: 'tests/fixtures/chelsea.png',
  two: 'tests/fixtures/two-objects.jpg',
};

/** What the banner (#match-title) says for each verdict (the CLI prints the same words). */
export const VERDICT_TITLES = { same: 'This is it', similar: 'Similar products', none: 'No close match in this catalog' };

export function photoPath(name) {
  const p = path.join(ROOT, PHOTOS[name] ?? name);
  if (!fs.existsSync(p)) throw new Error(`${p} is missing: run \`bash scripts/setup.sh\` first`);
  return p;
}

// ---------------------------------------------------------------------------------------------
// fixtures: recorded searches exactly as the Rust side sends them (see ui/mock/record.mjs)

export function loadFixtures() {
  const cat = JSON.parse(fs.readFileSync(path.join(RECORDED, 'catalog.json'), 'utf8'));
  const dir = path.join(RECORDED, 'searches');
  const searches = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, ...JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }));
  // the Catalogs panel's recordings (ui/mock/record-catalogs.mjs)
  const read = (f) => JSON.parse(fs.readFileSync(path.join(RECORDED, f), 'utf8'));
  return {
    catalog: cat.catalog,
    products: cat.products,
    searches,
    health: read('health.json'),
    indexReport: read('index-report.json'),
    built: read('built-catalog.json'),
  };
}

/** The recorded thumbnail of a product id (what the app's `thumb:` scheme serves), or null. */
export function thumbnailFile(id) {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(id)) return null;
  const file = path.join(RECORDED, 'thumbs', `${id}.jpg`);
  return fs.existsSync(file) ? file : null;
}

// ---------------------------------------------------------------------------------------------
// UI modules in node: a TypeScript file of the UI (type-only imports, no DOM) transpiled to a
// CommonJS body, so tests and the in-page backend run the UI's own code, not a copy of it.

export function tsSource(rel) {
  const src = fs.readFileSync(path.join(ROOT, rel), 'utf8');
  const out = ts.transpileModule(src, {
    fileName: rel,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  });
  if (out.diagnostics?.length) throw new Error(`${rel}: ${ts.flattenDiagnosticMessageText(out.diagnostics[0].messageText, '\n')}`);
  if (/\brequire\(/.test(out.outputText)) throw new Error(`${rel} imports values; only type-only imports can run here`);
  return out.outputText;
}

/** The exports of a UI module (e.g. `importUi('ui/src/rerank.ts').rerank`). */
export function importUi(rel) {
  const exports = {};
  new Function('exports', tsSource(rel))(exports);
  return exports;
}

export const fixtures = loadFixtures();

export function recordingFor(name) {
  const file = path.basename(PHOTOS[name] ?? name);
  const rec = fixtures.searches.find((s) => s.query.file === file);
  if (!rec) throw new Error(`no recording for ${file}`);
  return rec;
}

// ---------------------------------------------------------------------------------------------
// static server for ui/dist (+ the fixtures for the in-page mock IPC under /__fixtures/)

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
};

/** The app's own img-src (tauri.conf.json): data: for the cut-out and mask, the thumb: scheme. */
function appImgSrc() {
  const conf = JSON.parse(fs.readFileSync(path.join(ROOT, 'tauri.conf.json'), 'utf8'));
  const directive = conf.app.security.csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('img-src '));
  if (!directive) throw new Error('tauri.conf.json: the CSP has no img-src');
  return directive;
}

export const CSP = `default-src 'self'; ${appImgSrc()}; style-src 'self'; script-src 'self'; connect-src 'self'`;

/** The URLs `convertFileSrc(id, 'thumb')` gives: Linux/macOS, and Windows/Android. */
const THUMB_URL = /^(?:thumb:\/\/localhost|http:\/\/thumb\.localhost)\/([^/?#]*)$/;

export async function startServer(dist = DIST) {
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist} is missing: run \`npm run build:ui\``);
  const fixtureBody = JSON.stringify(fixtures);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/__fixtures.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(fixtureBody);
      return;
    }
    // what the app's `product_photo` command answers: the thumbnail's bytes, by product id
    const photo = /^\/__thumbs\/([^/]+)$/.exec(url.pathname);
    if (photo) {
      const file = thumbnailFile(decodeURIComponent(photo[1]));
      if (!file) return void res.writeHead(404).end('no such product');
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    const file = path.join(dist, path.normalize(rel));
    if (!file.startsWith(dist) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      // as strict as the app's own CSP should be: no inline script or style, images from data:/blob:
      'content-security-policy': CSP,
    });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(r)) };
}

// ---------------------------------------------------------------------------------------------
// browser

/** `flags`: more Chromium switches (e.g. its fake camera for the webcam tests). */
export async function launch(flags = []) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-ui.sh\``);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, ...flags] });
}

// The mocks module is plain ESM without imports; turn it into a script that sets a global.
const MOCKS_SOURCE = fs
  .readFileSync(path.join(ROOT, 'node_modules/@tauri-apps/api/mocks.js'), 'utf8')
  .replace(/^export \{([^}]*)\};?\s*$/m, 'window.__TAURI_MOCKS__ = {$1};');

// The UI's own rerank (ui/src/rerank.ts, held to the engine's by rerank.test.mjs) for the
// in-page backend's re-rankings, as a script that sets a global.
const RERANK_SOURCE = `(() => { const exports = {}; ${tsSource('ui/src/rerank.ts')}; window.__RERANK__ = exports; })();`;
// The mocks' choice of a recorded region search (ui/src/mock/regions.ts), the same way.
const REGIONS_SOURCE = `(() => { const exports = {}; ${tsSource('ui/src/mock/regions.ts')}; window.__REGIONS__ = exports; })();`;

/**
 * The in-page backend. `cfg` (JSON) per page:
 *   os: 'linux' (default: thumb://localhost/<id>) | 'windows' (http://thumb.localhost/<id>, as on
 *       Windows and Android): how the mocked `convertFileSrc` builds thumbnail URLs
 *   engine: 'ready' | 'loading' (stays loading until the test pushes an 'engine-status' event)
 *           | number (that many 'loading' answers to engine_status, then ready)
 *   searchError: ApiError to reject `search` with (once, if searchErrorOnce)
 *   unrecorded: a recorded photo's file name whose answer a photo with no recording gets
 *   searchDelay: ms before `search` answers
 *   takesText: the catalog takes words (CatalogInfo.takes_text, the full profile); the mock then
 *           answers a search with words with the photo's recording, the words echoed
 *   match: the verdict (`match`) every search answers with, whatever the recording says
 *   barcodes: { code: productId }
 *   decoded: {text, format} | null for decode_barcode
 *   shared: {name, base64} of a photo the app was opened with (or had shared into it), or
 *           {error: ApiError} for one it could not read; taken once
 *   scan: {content, format} | 'cancel' for the mobile barcode scanner plugin; camera: permission
 *   Catalogs panel (answers from the recordings of ui/mock/record-catalogs.mjs; the catalog in
 *   use and the saved ones are kept in the page):
 *   canBuild: false for a phone build (default true)
 *   buildStepMs: ms per product of a build's progress events (default 40)
 *   closeDialogs: the person closes every dialog (open/import/build answer null)
 *   importRefused: import_bundle refuses with the recorded tampered-bundle message
 *   jobError: ApiError that the next build/update (before its first product) or health check
 *             (after its events) rejects with
 */
function installBackend(cfg) {
  const calls = [];
  window.__IPC__ = { calls, cfg, release: null };
  let fixtures = null;
  const data = async () => (fixtures ??= await (await fetch('/__fixtures.json')).json());
  const reject = (code, message) => Promise.reject({ code, message });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let statusCalls = 0;
  const { colorVerdict, judge, rerank, rescore, withBlend } = window.__RERANK__;
  const OPTION_KEYS = ['category', 'weights', 'top_k', 'region', 'color', 'text'];
  // cfg.takesText: the catalog's profile takes words (CatalogInfo.takes_text), as the full one does
  const info = (catalog) => (cfg.takesText ? { ...catalog, takes_text: true } : catalog);
  const { closest } = window.__REGIONS__;
  const same = (a, b) => a.semantic === b.semantic && a.texture === b.texture && a.color === b.color;

  // the Catalogs panel: the catalog in use ('demo' or a saved name), the saved ones, the job slot
  const cats = { current: 'demo', saved: new Map(), job: null, builds: 0 };
  window.__IPC__.catalogs = cats;
  const inUse = async () => {
    const f = await data();
    if (cats.current === 'demo') return { info: f.catalog, products: f.products, health: f.health };
    return cats.saved.get(cats.current).catalog;
  };
  const shop = async () => {
    const { built } = await data();
    return { info: built.catalog, products: built.products, health: built.health };
  };
  const progress = (payload) => inner('plugin:event|emit', { event: 'catalog-job', payload });
  const startJob = (kind) => {
    if (cats.job) throw { code: 'busy', message: 'another catalog job is running: wait for it or cancel it' };
    cats.job = { kind, cancel: false };
    return cats.job;
  };
  const takeJobError = () => {
    const e = cfg.jobError;
    cfg.jobError = null;
    if (e) throw e;
  };
  const runBuild = async (report) => {
    const { built } = await data();
    const job = startJob('build');
    try {
      takeJobError(); // the products file is read before the first product
      const items = built.progress;
      for (let i = 0; i < items.length; i++) {
        // the engine checks before each product
        if (job.cancel) {
          throw {
            code: 'cancelled',
            message: `cancelled: the build of catalogs/${built.folder} stopped after ${i} of ${items.length} products; the catalog there is unchanged`,
          };
        }
        await sleep(cfg.buildStepMs ?? 40);
        await progress({ job: 'build', done: i + 1, total: items.length, item: items[i] });
      }
      const catalog = cats.saved.get(built.folder)?.catalog ?? (await shop());
      cats.saved.set(built.folder, { catalog, updatable: true });
      cats.current = built.folder;
      cats.builds++;
      return { catalog: catalog.info, report };
    } finally {
      cats.job = null;
    }
  };

  const handlers = {
    async engine_status() {
      statusCalls++;
      const { info: catalog } = await inUse();
      if (cfg.engine === 'loading') return { state: 'loading' };
      if (cfg.engine === 'error') return { state: 'error', error: cfg.engineError };
      if (typeof cfg.engine === 'number' && statusCalls <= cfg.engine) return { state: 'loading' };
      return { state: 'ready', catalog: info(catalog) };
    },
    async catalogs() {
      const { info: current } = await inUse();
      return {
        current: info(current),
        saved: [...cats.saved.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => ({ name, in_use: name === cats.current, updatable: s.updatable })),
        can_build: cfg.canBuild ?? true,
        busy: cats.job !== null,
      };
    },
    async open_catalog() {
      if (cfg.closeDialogs) return null;
      cats.current = 'demo'; // as if catalog/demo had been picked
      return (await inUse()).info;
    },
    async switch_catalog(args) {
      if (typeof args?.name !== 'string') return reject('bad_request', 'switch_catalog: missing name');
      if (!cats.saved.has(args.name)) return reject('not_found', `no saved catalog \`${args.name}\``);
      cats.current = args.name;
      return (await inUse()).info;
    },
    async import_bundle() {
      if (cfg.closeDialogs) return null;
      const { built } = await data();
      startJob('import');
      try {
        await progress({ job: 'import', done: 0, total: 1, item: 'verifying' });
        await sleep(20);
        if (cfg.importRefused) throw { ...built.bundle.refused };
        const catalog = cats.saved.get(built.folder)?.catalog ?? (await shop());
        cats.saved.set(built.folder, { catalog, updatable: cats.saved.get(built.folder)?.updatable ?? false });
        cats.current = built.folder;
        await progress({ job: 'import', done: 1, total: 1, item: catalog.info.name });
        return catalog.info;
      } finally {
        cats.job = null;
      }
    },
    async build_catalog() {
      if (cfg.canBuild === false) return reject('unsupported', 'catalogs are built in the desktop app; import the bundle here');
      if (cfg.closeDialogs) return null;
      const { indexReport, built } = await data();
      return runBuild(cats.builds === 0 ? indexReport : built.update);
    },
    async update_catalog(args) {
      const { built } = await data();
      if (!cats.saved.get(args?.name)?.updatable) {
        return reject('not_found', `catalog \`${args?.name}\` was not built in this app: build it again from its files`);
      }
      return runBuild(built.update);
    },
    async cancel_job() {
      if (!cats.job) return false;
      cats.job.cancel = true;
      return true;
    },
    async catalog_health() {
      const c = await inUse();
      startJob('health');
      try {
        const total = c.products.length;
        for (let i = 1; i <= total; i += 5) await progress({ job: 'health', done: Math.min(i + 4, total), total, item: '' });
        takeJobError();
        return c.health;
      } finally {
        cats.job = null;
      }
    },
    async open_in_shop(args) {
      const { products } = await inUse();
      const p = products.find((x) => x.id === args?.id);
      if (!p) return reject('not_found', `no product with id \`${args?.id}\``);
      if (!/^https?:\/\//i.test(p.url ?? '')) return reject('bad_request', `product \`${p.id}\` has no http(s) shop link`);
      return null;
    },
    async search(args, options) {
      const raw = args instanceof Uint8Array || args instanceof ArrayBuffer;
      if (!raw) return reject('bad_request', 'search: expected a raw binary body (Uint8Array), got ' + typeof args);
      const header = options?.headers?.['x-search-options'];
      if (typeof header !== 'string') return reject('bad_request', 'search: missing x-search-options header');
      const opts = JSON.parse(header);
      // the app's SearchOptionsDto denies unknown fields (a camelCase key is refused)
      const unknown = Object.keys(opts).find((k) => !OPTION_KEYS.includes(k));
      if (unknown) return reject('invalid_options', `x-search-options: unknown field \`${unknown}\`, expected one of ${OPTION_KEYS.map((k) => `\`${k}\``).join(', ')}`);
      if (cfg.searchDelay) await sleep(cfg.searchDelay);
      if (cfg.searchHold) await new Promise((r) => (window.__IPC__.release = r));
      if (cfg.searchError) {
        const e = cfg.searchError;
        if (cfg.searchErrorOnce) cfg.searchError = null;
        return Promise.reject(e);
      }
      const size = args.byteLength;
      const { searches, catalog } = await data();
      // cfg.unrecorded: the recording (a photo file name) that answers a photo none was made for
      const rec = searches.find((s) => s.query.bytes === size) ?? (cfg.unrecorded && searches.find((s) => s.query.file === cfg.unrecorded));
      if (!rec) return reject('unsupported_format', `unsupported image format: no recording for ${size} bytes`);
      // a region: the recorded region search of this photo that overlaps it most
      const byRegion = opts.region && closest(rec.regions, opts.region);
      window.__IPC__.regionAnswered = byRegion ? byRegion.region : null;
      const r = structuredClone(byRegion ? byRegion.response : rec.response);
      if (opts.color) {
        const c = rec.colors.find((x) => x.color === opts.color);
        if (!c) return reject('invalid_options', `the mock has recordings for the colours ${rec.colors.map((x) => x.color).join(', ')} only`);
        r.results = c.results;
        r.match = c.match;
        r.color = c.hex;
      }
      const scoring = opts.weights ? withBlend(catalog.scoring, opts.weights) : catalog.scoring;
      const k = opts.top_k ?? 10;
      if (opts.category) {
        // the engine searches the chosen category alone: the recorded shortlist's products of that
        // category, re-ranked by the UI's own rule, judged by the engine's verdict rule
        r.route = { reason: 'override', searched: [opts.category], confidence: 0.5 };
        const only = r.candidates.filter((h) => h.category === opts.category).map((h) => ({ ...h, routed: true }));
        r.candidates = rescore(only, scoring).map((h, i) => ({ ...h, rank: i + 1 }));
        r.results = rerank(r.candidates, scoring, k);
        r.match = judge(r.results, catalog.match_rule);
      } else if (opts.weights || opts.top_k) {
        // the engine's own answer for these weights where it was recorded
        const rust = k === 10 ? rec.reranks.find((x) => same(x.weights, scoring.blend)) : undefined;
        r.candidates = rescore(r.candidates, scoring);
        r.results = rust ? rust.results : rerank(r.candidates, scoring, k);
        r.match = rust ? rust.match : judge(r.results, catalog.match_rule);
      }
      if (opts.text !== undefined) {
        // the engine's checks (engine.rs check_text); with words it never says "this very one"
        if (!opts.text.trim()) return reject('invalid_options', 'invalid search options: the words to refine the search with are empty');
        if (!info(catalog).takes_text) return reject('invalid_options', 'invalid search options: profile `lite` takes no words');
        r.text = opts.text;
        r.match = colorVerdict(r.match);
      }
      if (cfg.match) r.match = cfg.match;
      return r;
    },
    async product_photo(args) {
      const { products } = await inUse();
      if (!products.some((p) => p.id === args.id)) return reject('not_found', `no product with id \`${args.id}\``);
      const res = await fetch(`/__thumbs/${encodeURIComponent(args.id)}`);
      if (!res.ok) return reject('catalog', `thumbnail of \`${args.id}\` cannot be read`);
      return res.arrayBuffer();
    },
    async product(args) {
      const { products } = await inUse();
      const p = products.find((x) => x.id === args.id);
      return p ?? reject('not_found', `no product with id ${args.id}`);
    },
    async product_by_barcode(args) {
      const { products } = await inUse();
      const id = cfg.barcodes?.[args.code];
      const p = products.find((x) => x.id === id);
      return p ? { ...p, gtin: args.code } : null;
    },
    // the barcode scanner plugin (mobile only)
    async 'plugin:barcode-scanner|check_permissions'() {
      return { camera: cfg.camera ?? 'granted' };
    },
    async 'plugin:barcode-scanner|request_permissions'() {
      return { camera: cfg.camera ?? 'granted' };
    },
    async 'plugin:barcode-scanner|scan'() {
      if (cfg.scan === 'cancel') return reject('cancelled', 'Scan cancelled by the user');
      return { content: cfg.scan?.content ?? '', format: cfg.scan?.format ?? 'EAN_13', bounds: null };
    },
    // a photo the app was opened with or had shared into it (cfg.shared: {name, base64}), once
    async shared_image() {
      const s = cfg.shared;
      if (s?.error) {
        cfg.shared = null;
        return Promise.reject(s.error);
      }
      return s ? { name: s.name, bytes: atob(s.base64).length } : null;
    },
    async take_shared_image() {
      const s = cfg.shared;
      if (!s) return reject('not_found', 'no shared photo is waiting');
      cfg.shared = null;
      return Uint8Array.from(atob(s.base64), (c) => c.charCodeAt(0)).buffer;
    },
    async decode_barcode(args) {
      const raw = args instanceof Uint8Array || args instanceof ArrayBuffer;
      if (!raw) return reject('bad_request', 'decode_barcode: expected a raw binary body');
      return cfg.decoded === undefined ? null : cfg.decoded;
    },
  };

  window.__TAURI_MOCKS__.mockIPC(() => undefined, { shouldMockEvents: true });
  window.__TAURI_MOCKS__.mockConvertFileSrc(cfg.os ?? 'linux');
  const inner = window.__TAURI_INTERNALS__.invoke;
  window.__TAURI_INTERNALS__.invoke = async (cmd, args, options) => {
    if (cmd.startsWith('plugin:event|')) return inner(cmd, args, options);
    const raw = args instanceof Uint8Array || args instanceof ArrayBuffer;
    calls.push({
      cmd,
      raw,
      bytes: raw ? args.byteLength : null,
      // the first bytes of a raw body (its format's signature)
      head: raw ? [...(args instanceof Uint8Array ? args : new Uint8Array(args)).subarray(0, 3)] : null,
      args: raw ? null : args,
      headers: options?.headers ?? null,
    });
    const handler = handlers[cmd];
    if (!handler) return reject('unknown_command', `no mock for ${cmd}`);
    return handler(args, options);
  };
}

/**
 * A page on the app with the mocked Tauri backend. Collects console errors, page errors and
 * any request that is not to the local server, data:, blob: or the app's thumb: scheme (the UI
 * must be self-contained). `thumbs` lists the product ids the page asked the thumb: scheme for.
 */
export async function openApp(
  browser,
  server,
  { viewport = { width: 1280, height: 800 }, cfg = {}, designer, tauri = true, userAgent, hasTouch = false } = {},
) {
  const context = await browser.newContext({ viewport, locale: 'en-US', deviceScaleFactor: 1, hasTouch, ...(userAgent ? { userAgent } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  const thumbs = [];
  // the app's `thumb:` scheme (src-tauri/src/thumbs.rs): the JPEG of a product id, else 404
  await page.route(THUMB_URL, (route) => {
    const id = decodeURIComponent(THUMB_URL.exec(route.request().url())[1]);
    thumbs.push(id);
    const file = thumbnailFile(id);
    if (!file) return route.fulfill({ status: 404, contentType: 'text/plain', body: `no product with id \`${id}\`` });
    return route.fulfill({ status: 200, contentType: 'image/jpeg', body: fs.readFileSync(file) });
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('request', (req) => {
    const u = req.url();
    const local = u.startsWith(server.url) || u.startsWith('data:') || u.startsWith('blob:') || (tauri && THUMB_URL.test(u));
    if (!local) problems.push(`external request: ${u}`);
  });
  if (tauri) {
    await page.addInitScript(MOCKS_SOURCE);
    await page.addInitScript(RERANK_SOURCE);
    await page.addInitScript(REGIONS_SOURCE);
    await page.addInitScript(installBackend, { engine: 'ready', ...cfg });
  }
  if (designer !== undefined) {
    // seed once per tab, so a reload keeps what the page itself stored
    await page.addInitScript((on) => {
      if (sessionStorage.getItem('seeded')) return;
      sessionStorage.setItem('seeded', '1');
      localStorage.setItem('lookalike.designer', on ? '1' : '0');
    }, designer);
  }
  await page.goto(server.url);
  return { page, context, problems, thumbs };
}

export async function ipcCalls(page, cmd) {
  const calls = await page.evaluate(() => window.__IPC__.calls);
  return cmd ? calls.filter((c) => c.cmd === cmd) : calls;
}

export async function waitReady(page) {
  await page.waitForFunction(() => !document.querySelector('#take-photo').disabled);
}

/** Picks a photo with the gallery input and waits for the 10 result cards. */
export async function pickPhoto(page, name, { expectResults = true } = {}) {
  await waitReady(page);
  await page.setInputFiles('#pick-photo', photoPath(name));
  if (expectResults) {
    await page.waitForSelector('#results-grid > li.card >> nth=9');
    await page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false');
  }
}

export async function gridIds(page) {
  return page.$$eval('#results-grid > li', (lis) => lis.map((li) => li.dataset.id));
}

/** A full-page screenshot from the top; `screen`: only what the viewport shows now, where it is. */
export async function shot(page, name, { screen = false } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // let images decode and transitions settle so the screenshot shows the state
  await page.evaluate(() =>
    Promise.race([
      Promise.all([...document.images].filter((i) => i.loading !== 'lazy').map((i) => i.decode().catch(() => null))),
      new Promise((r) => setTimeout(r, 2000)),
    ]),
  );
  if (screen) {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
    return;
  }
  // sticky panels follow the scroll position; a full-page shot reads best from the top
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(250);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Elements that stick out of the viewport or out of their panel/dialog (visually hidden ones aside). */
export async function overflowing(page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out = [];
    for (const e of document.querySelectorAll('body *')) {
      if (!e.getClientRects().length || e.closest('.visually-hidden') || e.closest('.stage-list')) continue;
      const r = e.getBoundingClientRect();
      const box = e.parentElement?.closest('.panel, .details, .app-header, .stage-card')?.getBoundingClientRect();
      if (r.right > vw + 0.5 || (box && (r.right > box.right + 0.5 || r.left < box.left - 0.5))) {
        out.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')} ${Math.round(r.left)}..${Math.round(r.right)}`);
      }
    }
    return out;
  });
}

/**
 * One static server and one Chromium per test file, closed after its last test. Returns
 * `app(opts)`, which opens the UI in a fresh browser context (see `openApp`).
 */
export function useApp({ flags = [] } = {}) {
  let browser;
  let server;
  const contexts = [];
  before(async () => {
    server = await startServer();
    browser = await launch(flags);
  });
  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.close();
  });
  return async (opts) => {
    const a = await openApp(browser, server, opts);
    contexts.push(a.context);
    return a;
  };
}

// Lookalike front end: wires the inputs (camera, gallery, drop, paste, barcode) to api.ts and the
// views. State lives here; views render what they are given.

import './styles.css';
import * as api from './api';
import { $, h, icon, ICONS, mount } from './dom';
import { categoryLabel, count, formatScore } from './format';
import type {
  ApiError,
  BlendWeights,
  CatalogInfo,
  DetectedObject,
  EngineStatus,
  Hit,
  Match,
  SearchOptionsDto,
  Region,
  Sample,
  SearchResponse,
} from './generated/contract';
import { colorVerdict, inColor, judge, rerank, sameWeights, towardColor, withBlend } from './rerank';
import { alertBox, PHOTO_HINTS } from './views/alert';
import { CatalogsPanel } from './views/catalogs';
import { ColorRow } from './views/colors';
import { RecentView } from './views/recent';
import * as recent from './recent';
import { DesignerView } from './views/designer';
import { CameraDialog, CameraError } from './views/camera';
import { DetailsDialog } from './views/details';
import { QueryView } from './views/query';
import { RefineBox } from './views/refine';
import { ResultsView, VERDICT_TITLE } from './views/results';

const DESIGNER_KEY = 'lookalike.designer';
const POLL_MS = 500;
/** styles.css puts the panels side by side from 900 px. */
const SINGLE_COLUMN = '(max-width: 899.98px)';

interface Photo {
  bytes: Uint8Array;
  url: string;
  name: string;
  /** The photo as picked (what the recent searches keep, shrunk). */
  file: Blob;
  /** Its entry in the recent searches, once its first search answered. */
  recentKey?: number;
}

const state = {
  engine: { state: 'loading' } as EngineStatus,
  catalog: null as CatalogInfo | null,
  photo: null as Photo | null,
  response: null as SearchResponse | null,
  /** Category the person chose instead of the router's (null: the router decides). */
  override: null as string | null,
  /** Weights the sliders show (designer view); the catalog's scoring blend once the engine is ready. */
  weights: null as BlendWeights | null,
  /** Weights `response` was ranked with. */
  searchWeights: null as BlendWeights | null,
  /** The part of the photo searched (null: all of it) and the objects found in the whole photo. */
  region: null as Region | null,
  objects: [] as DetectedObject[],
  /** The palette colour the list is ranked towards (index into PALETTE; null: any colour). */
  color: null as number | null,
  /** Words that refine the photo (catalogs whose profile takes them; null: none). */
  text: null as string | null,
  busy: null as null | 'search' | 'barcode',
  designer: readDesigner(),
};

// ---------------------------------------------------------------------------------------------
// elements and views

const el = {
  catalogLine: $('#catalog-line'),
  designerToggle: $('#designer-toggle') as HTMLButtonElement,
  catalogsToggle: $('#catalogs-toggle') as HTMLButtonElement,
  catalogs: $('#catalogs'),
  takePhoto: $('#take-photo') as HTMLInputElement,
  pickPhoto: $('#pick-photo') as HTMLInputElement,
  scanBarcode: $('#scan-barcode') as HTMLButtonElement,
  barcodeFile: $('#barcode-file') as HTMLInputElement,
  engineBanner: $('#engine-banner'),
  alert: $('#alert'),
  query: $('#query'),
  status: $('#status'),
  results: $('#results'),
  colors: $('#colors'),
  between: $('#between'),
  refine: $('#refine') as HTMLFormElement,
  recent: $('#recent'),
  resultsPanel: $('#results-panel'),
  designer: $('#designer'),
  designerBody: $('#designer-body'),
  dropOverlay: $('#drop-overlay'),
};

for (const slot of document.querySelectorAll<HTMLElement>('.icon-slot')) {
  const name = slot.dataset.icon as keyof typeof ICONS;
  if (ICONS[name]) slot.replaceWith(icon([...ICONS[name]]));
}

// the words box and the colour row sit between the verdict and the grid they re-rank
const results = new ResultsView(
  el.results,
  {
    open: (hit, trigger) => details.open({ hit, product: api.product(hit.id), trigger }),
    sample: (s) => void searchSample(s),
  },
  el.between,
);
const query = new QueryView(el.query, {
  category: (name) => searchCategory(name),
  region: (r) => searchRegion(r),
});
const colors = new ColorRow(el.colors, { pick: (i) => setColor(i) });
const refine = new RefineBox(el.refine, { refine: (text) => searchText(text) });
const recentView = new RecentView(el.recent, {
  reopen: (entry) => reopen(entry),
  clear: () => void forgetRecent(),
});
const designer = new DesignerView(el.designerBody, { weights: (w) => setWeights(w) });
const details = new DetailsDialog($('#details') as HTMLDialogElement);
const camera = new CameraDialog($('#camera') as HTMLDialogElement);
const catalogs = new CatalogsPanel($('#catalogs-body'), { switched: (info) => useCatalog(info) });

// ---------------------------------------------------------------------------------------------
// engine status: 'loading' until the models and catalog are in memory

async function waitForEngine(): Promise<void> {
  applyEngine({ state: 'loading' });
  let settled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settle = (s: EngineStatus) => {
    if (settled) return;
    applyEngine(s);
    if (s.state !== 'loading') {
      settled = true;
      clearTimeout(timer);
      unlisten();
    }
  };
  // listen first so a push between the poll and the subscription is not lost
  const unlisten = await api.onEngineStatus(settle);
  const poll = async () => {
    try {
      settle(await api.engineStatus());
    } catch (e) {
      settle({ state: 'error', error: api.toApiError(e) });
    }
    if (!settled) timer = setTimeout(poll, POLL_MS);
  };
  await poll();
}

function applyEngine(s: EngineStatus): void {
  state.engine = s;
  const banner = el.engineBanner;
  if (s.state === 'loading') {
    banner.hidden = false;
    banner.className = 'engine-banner loading';
    mount(
      banner,
      h('p', { id: 'engine-loading' }, h('strong', null, 'Getting ready… '), 'Loading the models and the catalog.'),
      h('progress', { 'aria-label': 'Loading models' }),
    );
    setStatus('Loading models…');
  } else if (s.state === 'error') {
    banner.hidden = false;
    banner.className = 'engine-banner failed';
    mount(
      banner,
      h('p', { role: 'alert' }, h('strong', null, 'The search engine could not start. '), s.error.message),
      h('div', { class: 'alert-actions' }, h('button', { type: 'button', class: 'button small', onclick: () => void waitForEngine() }, 'Try again')),
    );
    setStatus('');
  } else {
    banner.hidden = true;
    banner.replaceChildren();
    state.catalog = s.catalog;
    state.weights = { ...s.catalog.scoring.blend };
    state.searchWeights = { ...s.catalog.scoring.blend };
    el.catalogLine.textContent = `${s.catalog.name} · ${count(s.catalog.size, 'product')}`;
    void refreshRecent();
    void searchShared();
    if (!state.response && !state.busy) {
      results.empty(s.catalog);
      setStatus('Ready. Take or choose a photo.');
    }
    if (state.designer && !state.response) designer.empty();
  }
  catalogs.setEngine(s.state === 'ready');
  updateControls();
}

/**
 * Another catalog is in use (Catalogs panel): the app starts over on it as when the engine became
 * ready with it (catalog line, category chips, the sliders' blend); the old catalog's results go.
 */
function useCatalog(info: CatalogInfo): void {
  details.close();
  clearAlert();
  if (state.photo) URL.revokeObjectURL(state.photo.url);
  state.photo = null; // a search still running for it is dropped when it answers
  state.response = null;
  state.region = null;
  state.objects = [];
  state.color = null;
  colors.hide();
  state.text = null;
  refine.hide();
  state.override = null;
  if (state.busy === 'search') setBusy(null);
  el.query.hidden = true;
  results.empty(info);
  applyEngine({ state: 'ready', catalog: info });
  setStatus(`Now searching ${info.name}. Take or choose a photo.`);
}

// ---------------------------------------------------------------------------------------------
// searching

async function searchPhoto(file: File | Blob, name = (file as File).name ?? 'photo'): Promise<void> {
  if (!ready()) {
    setStatus(state.busy ? 'Still busy: try again in a moment.' : 'The models are still loading: try again in a moment.');
    return;
  }
  const bytes = await api.readFile(file);
  if (state.photo) URL.revokeObjectURL(state.photo.url);
  state.photo = { bytes, url: URL.createObjectURL(file), name, file };
  state.response = null;
  state.region = null;
  state.objects = [];
  state.color = null;
  colors.hide();
  state.text = null;
  refine.hide();
  await runSearch(null);
}

/** One of the empty state's samples: the product's own thumbnail, searched like a picked photo. */
async function searchSample(s: Sample): Promise<void> {
  if (!ready()) return;
  try {
    const bytes = await api.productPhoto(s.id);
    await searchPhoto(new Blob([bytes as BlobPart], { type: 'image/jpeg' }), s.name);
  } catch (e) {
    showAlert(api.toApiError(e), {});
  }
}

/** The same photo again, refined by words (null: by the photo alone). */
function searchText(text: string | null): void {
  if (!state.photo || state.busy) return;
  const previous = state.text;
  state.text = text;
  void runSearch(state.override, state.region, previous);
}

/**
 * One column (a phone): the photo, its chips and the recent searches fill the first screen, so a
 * new photo's answer scrolls into view. Searching again (a region, a category) stays put.
 */
function showResults(): void {
  if (!window.matchMedia(SINGLE_COLUMN).matches) return;
  const calm = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  el.resultsPanel.scrollIntoView({ block: 'start', behavior: calm ? 'auto' : 'smooth' });
}

/** Search one part of the photo (an object tapped, a box drawn), or all of it again (null). */
function searchRegion(region: Region | null): void {
  if (!state.photo || state.busy) return;
  const previous = state.region;
  state.region = region;
  void runSearch(state.override, previous);
}

function searchCategory(category: string | null): void {
  if (!state.photo || state.busy) return;
  void runSearch(category);
}

async function runSearch(override: string | null, previousRegion = state.region, previousText = state.text): Promise<void> {
  const photo = state.photo;
  if (!photo) return;
  const previous = state.override;
  state.override = override;
  clearAlert();
  const options: SearchOptionsDto = {};
  if (state.override) options.category = state.override;
  if (state.region) options.region = { ...state.region };
  if (state.text) options.text = state.text;
  // searches start only once the engine is ready, so the catalog (and its scoring) is known
  const base = state.catalog?.scoring.blend ?? null;
  const w = state.weights;
  if (w && base && !sameWeights(w, base) && w.semantic + w.texture + w.color > 0) options.weights = { ...w };
  setBusy('search');
  if (!state.response) {
    results.skeleton();
    colors.render(state.color, true, true);
  }
  renderQuery();
  setStatus(state.override ? `Searching ${categoryLabel(state.override)}…` : 'Searching…');
  try {
    const r = await api.search(photo.bytes, options);
    if (state.photo !== photo) return; // a newer photo took over
    const first = state.response === null;
    state.response = r;
    // the objects to pick from are the whole photo's: a search of one of them keeps them
    if (!r.region) state.objects = r.objects;
    state.searchWeights = options.weights ? { ...options.weights } : base && { ...base };
    setBusy(null);
    renderResponse();
    announceResults();
    // scrolled once the recent searches above the results have their new entry (it moves them)
    void remember(photo, r).then(() => {
      if (first && state.photo === photo) showResults();
    });
  } catch (e) {
    if (state.photo !== photo) return;
    setBusy(null);
    const err = api.toApiError(e);
    const hint = PHOTO_HINTS[err.code];
    if (state.response) {
      // the results on screen are still the earlier ones (a category, region or words search failed)
      state.override = previous;
      state.region = previousRegion;
      state.text = previousText;
      renderQuery();
      renderRefine();
    } else {
      // a new photo failed: nothing of the last search stays on screen
      results.empty(state.catalog);
      colors.hide();
      refine.hide();
      renderDesigner();
      if (hint) {
        // the engine cannot read it: no broken picture, and no retry (it would fail the same way)
        URL.revokeObjectURL(photo.url);
        state.photo = null;
        query.hide();
      } else {
        renderQuery();
      }
    }
    const another = { label: 'Choose another photo', run: () => el.pickPhoto.click() };
    if (hint) showAlert(err, { hint, action: another });
    else showAlert(err, { retry: () => void runSearch(override), action: state.response ? undefined : another });
    setStatus('');
  }
}

// ---------------------------------------------------------------------------------------------
// a photo opened with the app (desktop) or shared into it (Android): searched like a picked one

async function searchShared(): Promise<void> {
  if (!ready()) return;
  try {
    const info = await api.sharedImage();
    if (!info) return;
    const bytes = await api.takeSharedImage();
    if (!ready()) return;
    await searchPhoto(new Blob([bytes as BlobPart]), info.name);
  } catch (e) {
    showAlert(api.toApiError(e), {});
  }
}

// the app comes back to the front when a photo is shared into it
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void searchShared();
});

// ---------------------------------------------------------------------------------------------
// recent searches (on this device only: ui/src/recent.ts)

let recentEntries: recent.RecentSearch[] = [];

async function refreshRecent(): Promise<void> {
  const name = state.catalog?.name;
  try {
    recentEntries = name ? await recent.list(name) : [];
  } catch {
    recentEntries = []; // no storage here (a private window): the list is simply not offered
  }
  recentView.render(recentEntries, state.busy !== null);
}

/** Keeps (or updates) the photo's entry: the latest answer for it, the whole photo's objects. */
async function remember(photo: Photo, r: SearchResponse): Promise<void> {
  const catalog = state.catalog?.name;
  if (!catalog) return;
  try {
    const kept = await recent.keptPhoto(photo.file);
    const entry: recent.RecentSearch = { at: Date.now(), catalog, name: photo.name, photo: kept, response: r, objects: state.objects };
    if (photo.recentKey !== undefined) entry.key = photo.recentKey;
    photo.recentKey = await recent.save(entry);
  } catch {
    return; // not kept; the search itself is fine
  }
  await refreshRecent();
}

/** Shows a kept search again as it was answered: no model runs. */
async function reopen(entry: recent.RecentSearch): Promise<void> {
  if (state.busy || !ready()) return;
  details.close();
  clearAlert();
  const bytes = await api.readFile(entry.photo);
  if (state.photo) URL.revokeObjectURL(state.photo.url);
  const photo: Photo = { bytes, url: URL.createObjectURL(entry.photo), name: entry.name, file: entry.photo };
  if (entry.key !== undefined) photo.recentKey = entry.key;
  state.photo = photo;
  state.response = entry.response;
  state.region = entry.response.region;
  state.objects = entry.objects;
  state.color = null;
  state.text = entry.response.text ?? null;
  state.override = entry.response.route.reason === 'override' ? (entry.response.route.searched[0] ?? null) : null;
  const blend = state.catalog?.scoring.blend;
  if (blend) {
    state.weights = { ...blend };
    state.searchWeights = { ...blend };
  }
  renderResponse();
  announceResults();
}

async function forgetRecent(): Promise<void> {
  try {
    await recent.clear();
  } catch {
    // nothing was kept
  }
  if (state.photo) delete state.photo.recentKey;
  await refreshRecent();
  setStatus('Recent searches cleared.');
}

/**
 * The status line (the polite live region) says the verdict once per search or slider move. The
 * banner above the grid shows it, so here it is for screen readers only; the count and the best
 * product show.
 */
function announceResults(): void {
  const r = state.response;
  if (!r) return;
  const hits = live();
  const top = hits[0];
  const verdict = liveVerdict(hits);
  const only = scope(r);
  const words = r.text ? `, “${r.text}”` : '';
  const where = (only ? ` in ${only}` : '') + words;
  const said = `${VERDICT_TITLE[verdict]}. `;
  if (!top) setStatus(`No products${where}.`, said);
  else if (verdict === 'none') setStatus(`The ${count(hits.length, 'nearest product')}${where}.`, said);
  else {
    // the score is for designers; a shopper gets the verdict and the name
    const score = state.designer ? ` (${formatScore(top.score)})` : '';
    setStatus(`${count(hits.length, 'lookalike')}${where}. Best: ${top.name}${score}.`, said);
  }
}

/** Whether the sliders moved away from the weights the engine ranked with. */
function reranked(): boolean {
  const { weights, searchWeights } = state;
  const r = state.response;
  // all three at 0 rank nothing (the engine refuses them): the list stays as it was ranked
  const usable = !!weights && weights.semantic + weights.texture + weights.color > 0;
  return !!(r && weights && searchWeights && usable && !sameWeights(weights, searchWeights) && r.candidates.length > 0);
}

/** The grid's order: the engine's own, or the live re-rank when the sliders moved or a colour
 * was picked (both re-rank the shortlist the engine sent, exactly as the engine would). */
function live(): Hit[] {
  const r = state.response;
  if (!r) return [];
  const { weights, catalog, color } = state;
  if (!catalog || (!reranked() && color === null)) return r.results;
  let scoring = reranked() && weights ? withBlend(catalog.scoring, weights) : catalog.scoring;
  let shortlist = r.candidates;
  if (color !== null) {
    scoring = towardColor(scoring);
    shortlist = inColor(shortlist, color);
  }
  return rerank(shortlist, scoring, Math.max(r.results.length, 10));
}

/** The one category searched, when the person chose it (the banner's note names it). */
function scope(r: SearchResponse): string | undefined {
  return r.route.reason === 'override' ? r.route.searched.map(categoryLabel).join(' and ') : undefined;
}

/** The verdict on the grid: the engine's, or the same rule on the live re-rank. */
function liveVerdict(hits: Hit[]): Match {
  const r = state.response;
  if (!r) return 'none';
  if (!reranked() && state.color === null) return r.match;
  const m = judge(hits, state.catalog?.match_rule ?? null);
  return state.color === null ? m : colorVerdict(m);
}

/** Rank the shown list towards a palette colour (null: the photo's own colours again). */
function setColor(i: number | null): void {
  state.color = i;
  const r = state.response;
  if (!r) return;
  const hits = live();
  renderGrid(hits, r);
  colors.render(state.color, r.candidates.length > 0);
  if (state.designer && state.weights && state.searchWeights) designer.update(state.weights, hits, state.searchWeights);
  announceResults();
}

/** The grid (and its verdict) for the list shown now. */
function renderGrid(hits: Hit[], r: SearchResponse): void {
  results.render(hits, liveVerdict(hits), state.catalog?.match_rule ?? null, scope(r));
}

function renderQuery(): void {
  if (!state.photo) return;
  query.render(
    {
      photoUrl: state.photo.url,
      photoName: state.photo.name,
      response: state.response,
      override: state.override,
      region: state.region,
      objects: state.objects,
      busy: state.busy !== null,
    },
    state.catalog,
  );
}

function renderResponse(): void {
  renderQuery();
  const r = state.response;
  if (!r) return;
  const hits = live();
  renderGrid(hits, r);
  renderRefine();
  colors.render(state.color, r.candidates.length > 0);
  renderDesigner();
}

function renderRefine(): void {
  refine.render(!!state.catalog?.takes_text && !!state.photo, state.text, state.busy === 'search');
}

function renderDesigner(): void {
  el.designer.hidden = !state.designer;
  if (!state.designer) return;
  const { response, catalog, weights, searchWeights } = state;
  if (response && catalog && weights && searchWeights) designer.render(response, catalog, weights, live(), searchWeights);
  else designer.empty();
}

function setWeights(w: BlendWeights): void {
  state.weights = { ...w };
  const r = state.response;
  if (!r || !state.searchWeights) return;
  const hits = live();
  renderGrid(hits, r);
  designer.update(state.weights, hits, state.searchWeights);
  announceResults();
}

// ---------------------------------------------------------------------------------------------
// barcode

async function scanBarcode(): Promise<void> {
  if (!ready()) return;
  if (api.isMobile()) {
    clearAlert();
    setBusy('barcode');
    setStatus('Point the camera at the barcode…');
    try {
      const code = await api.scanBarcode();
      if (code) await lookupBarcode(code.text);
      else setStatus('Scan cancelled.');
    } catch (e) {
      showAlert(api.toApiError(e), { retry: () => void scanBarcode() });
      setStatus('');
    } finally {
      setBusy(null);
    }
  } else {
    el.barcodeFile.value = '';
    el.barcodeFile.click();
  }
}

async function barcodeFromPhoto(file: File): Promise<void> {
  if (!ready()) return;
  clearAlert();
  setBusy('barcode');
  setStatus('Reading the barcode…');
  try {
    const decoded = await api.decodeBarcode(await api.readFile(file));
    if (!decoded) {
      showAlert(
        { code: 'no_barcode', message: 'No barcode found in that photo. Try a sharper, closer photo of the barcode.' },
        { info: true },
      );
      setStatus('No barcode found.');
    } else {
      await lookupBarcode(decoded.text);
    }
  } catch (e) {
    showAlert(api.toApiError(e), { retry: () => void barcodeFromPhoto(file) });
    setStatus('');
  } finally {
    setBusy(null);
  }
}

async function lookupBarcode(code: string): Promise<void> {
  setStatus(`Looking up ${code}…`);
  const product = await api.productByBarcode(code);
  if (!product) {
    showAlert({ code: 'barcode_not_found', message: `No product with barcode ${code}.` }, { info: true });
    setStatus(`No product with barcode ${code}.`);
    return;
  }
  setStatus(`Found ${product.name}.`);
  details.open({ product, barcode: code, trigger: el.scanBarcode });
}

// ---------------------------------------------------------------------------------------------
// status, alerts, busy

/** The status line; `unseen` goes first, for screen readers only (what a banner already shows). */
function setStatus(text: string, unseen = ''): void {
  if (el.status.textContent === unseen + text) return;
  if (unseen) mount(el.status, h('span', { class: 'visually-hidden' }, unseen), text);
  else el.status.textContent = text;
}

interface ShowAlert {
  retry?: () => void;
  info?: boolean;
  hint?: string;
  action?: { label: string; run: () => void };
}

function showAlert(err: ApiError, opts: ShowAlert = {}): void {
  const { retry, action } = opts;
  mount(
    el.alert,
    alertBox('alert', err, {
      info: opts.info,
      hint: opts.hint,
      retry: retry && (() => { clearAlert(); retry(); }),
      action: action && { label: action.label, run: () => { clearAlert(); action.run(); } },
      dismiss: () => clearAlert(true),
    }),
  );
}

function clearAlert(refocus = false): void {
  const had = el.alert.contains(document.activeElement);
  el.alert.replaceChildren();
  if (refocus || had) el.pickPhoto.focus();
}

function ready(): boolean {
  return state.engine.state === 'ready' && state.busy === null;
}

function setBusy(busy: typeof state.busy): void {
  state.busy = busy;
  el.resultsPanel.setAttribute('aria-busy', String(busy !== null));
  recentView.render(recentEntries, busy !== null);
  document.body.classList.toggle('is-busy', busy !== null);
  updateControls();
  if (state.response) renderRefine();
}

function updateControls(): void {
  const off = state.engine.state !== 'ready' || state.busy !== null;
  for (const input of [el.takePhoto, el.pickPhoto, el.barcodeFile]) input.disabled = off;
  el.scanBarcode.disabled = off;
  for (const label of document.querySelectorAll('.pickers label')) label.classList.toggle('disabled', off);
  el.scanBarcode.classList.toggle('working', state.busy === 'barcode');
}

// ---------------------------------------------------------------------------------------------
// designer toggle (remembered)

function readDesigner(): boolean {
  try {
    return localStorage.getItem(DESIGNER_KEY) === '1';
  } catch {
    return false;
  }
}

function setDesigner(on: boolean): void {
  state.designer = on;
  try {
    localStorage.setItem(DESIGNER_KEY, on ? '1' : '0');
  } catch {
    // private mode: not remembered
  }
  el.designerToggle.setAttribute('aria-pressed', String(on));
  document.body.classList.toggle('designer-on', on);
  renderDesigner();
}

// ---------------------------------------------------------------------------------------------
// Catalogs panel toggle (not remembered: it is for managing catalogs, not for searching)

function setCatalogsOpen(on: boolean): void {
  el.catalogs.hidden = !on;
  el.catalogsToggle.setAttribute('aria-pressed', String(on));
  document.body.classList.toggle('catalogs-on', on);
  if (on) void catalogs.refresh();
}

// ---------------------------------------------------------------------------------------------
// inputs: camera, gallery, drag and drop, paste

function onPicked(input: HTMLInputElement, handle: (f: File) => void): void {
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    input.value = ''; // picking the same photo again still fires `change`
    if (file) handle(file);
  });
}

onPicked(el.takePhoto, (f) => void searchPhoto(f));
onPicked(el.pickPhoto, (f) => void searchPhoto(f));
onPicked(el.barcodeFile, (f) => void barcodeFromPhoto(f));

// a desktop has no camera app behind `capture`: its "Take photo" uses the webcam, or says why not
// (a webview without media streams, like WebKitGTK's default in the Linux app, has none); phones
// and touch screens keep the input, which opens the system camera
const desktopCamera = () => !api.isMobile() && window.matchMedia('(pointer: fine)').matches;
el.takePhoto.addEventListener('click', (e) => {
  if (!desktopCamera()) return;
  e.preventDefault();
  void takeWithWebcam();
});

async function takeWithWebcam(): Promise<void> {
  if (!ready()) return;
  clearAlert();
  try {
    const photo = await camera.open();
    if (photo) await searchPhoto(photo, 'camera photo');
  } catch (e) {
    if (!(e instanceof CameraError)) throw e;
    const code = e.kind === 'refused' ? 'camera_permission' : 'unsupported';
    showAlert({ code, message: e.message }, { info: true, action: { label: 'Choose photo', run: () => el.pickPhoto.click() } });
  }
}

el.scanBarcode.addEventListener('click', () => void scanBarcode());
el.designerToggle.addEventListener('click', () => setDesigner(!state.designer));
el.catalogsToggle.addEventListener('click', () => setCatalogsOpen(el.catalogs.hidden));

let dragDepth = 0;
const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
document.addEventListener('dragenter', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth++;
  el.dropOverlay.hidden = false;
});
document.addEventListener('dragover', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  if (e.dataTransfer) e.dataTransfer.dropEffect = ready() ? 'copy' : 'none';
});
document.addEventListener('dragleave', (e) => {
  if (!hasFiles(e)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) el.dropOverlay.hidden = true;
});
document.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  el.dropOverlay.hidden = true;
  const file = e.dataTransfer?.files[0];
  if (file) void searchPhoto(file);
});
document.addEventListener('paste', (e) => {
  const item = [...(e.clipboardData?.items ?? [])].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
  const file = item?.getAsFile();
  if (!file) return;
  e.preventDefault();
  void searchPhoto(file, file.name || 'pasted image');
});

// ---------------------------------------------------------------------------------------------

setDesigner(state.designer);
results.empty(null);
void waitForEngine();

#!/usr/bin/env node
// Records REAL search results for the browser-mode mock (npm run dev:web) and the UI tests.
//
//   npm run record-mock                 # the default photos below
//   npm run record-mock -- PHOTO...     # your own photos (paths relative to the repo root)
//
// Runs the real CLI from the repo root (LOOKALIKE_BIN overrides the binary; ORT_DYLIB_PATH, if not
// set, is scripts/env.sh's ORT_LIB, else the version-free link models/runtime/libonnxruntime.so):
//   target/release/lookalike search --catalog catalog/demo --json --candidates --cutouts DIR PHOTO...
// The CLI's `--json` is the engine's SearchResult as the app sends it (plus `query`), so each answer
// becomes the app's SearchResponse (ui/src/generated/contract.ts) by adding the two images:
// - `cutout`: the PNG the CLI saved, scaled down to at most MAX_SIDE px;
// - `mask`: the CLI does not print the engine's soft mask, so it is DERIVED here: the cut-out's
//   alpha (0 or 255: the engine's thresholded mask inside the crop) placed at `segmentation.bbox`
//   on a black image of the working size. In a fallback (no usable mask) it is all black. The Tauri
//   backend sends the real soft mask.
// Then, for every photo, the same search under each of RERANK_WEIGHTS (`--weights`): the engine's
// top-10 for those weights is stored next to the shortlist (`reranks`), which does not depend on
// the weights (checked here), so tests/ui/rerank.test.mjs can hold ui/src/rerank.ts to the
// engine's own ranking (and its `match` verdict under those weights).
// Writes ui/mock/recorded/catalog.json (CatalogInfo + every product as the `product` command
// returns it; CatalogInfo's `scoring` and `match_rule` as src-tauri's catalog_info() builds them
// from the profile, read from models/manifest.toml: see profileTuning()),
// ui/mock/recorded/thumbs/<id>.jpg (the catalog's thumbnails, by product id: what the app's
// `thumb:` scheme serves) and ui/mock/recorded/searches/<photo>.json. Scores keep their f32
// precision (shortest round-trip form, as the app's JSON has them); timings are rounded. Needs no
// npm packages (node:zlib does the PNGs; python3's tomllib reads the manifest). Run without photos, it then runs record-catalogs.mjs too
// (the Catalogs panel's recordings: a build report, health reports, a refused bundle).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { recordCatalogs } from './record-catalogs.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'ui/mock/recorded');
const CATALOG = 'catalog/demo';
const MAX_SIDE = 320;
const DEFAULT_PHOTOS = [
  '.cache/demo-sources/queries/saleor-code-division-t-shirt--view2.png',
  '.cache/demo-sources/queries/saleor-yellow-plimsolls--view2.png',
  'tests/fixtures/coffee.png',
  '.cache/demo-sources/images/vendure-balloon-chair.jpg',
  'tests/fixtures/chelsea.png',
  'tests/fixtures/two-objects.jpg',
];

/** Palette colours the engine ranks every recorded shortlist towards (`--color`). */
const RECORDED_COLORS = ['red', 'black'];

function die(msg) {
  console.error(`record-mock: ${msg}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// minimal PNG codec (8-bit, non-interlaced: what the engine's `image` crate writes)

const CHANNELS = { 0: 1, 2: 3, 4: 2, 6: 4 };

function decodePng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8;
  let ihdr;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      ihdr = {
        width: data.readUInt32BE(0),
        height: data.readUInt32BE(4),
        depth: data[8],
        color: data[9],
        interlace: data[12],
      };
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const { width, height, depth, color, interlace } = ihdr;
  const ch = CHANNELS[color];
  if (depth !== 8 || !ch || interlace) throw new Error(`unsupported PNG (depth ${depth}, colour ${color}, interlace ${interlace})`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * ch;
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= ch ? px[y * stride + x - ch] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= ch && y > 0 ? px[(y - 1) * stride + x - ch] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = v & 255;
    }
  }
  // to RGBA
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = px.subarray(i * ch, i * ch + ch);
    const [r, g, b, a] = ch === 1 ? [s[0], s[0], s[0], 255] : ch === 2 ? [s[0], s[0], s[0], s[1]] : ch === 3 ? [s[0], s[1], s[2], 255] : s;
    rgba.set([r, g, b, a], i * 4);
  }
  return { width, height, rgba };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** pixels: `ch` bytes a pixel (1 = gray, 4 = RGBA); every row Paeth-filtered. */
function encodePng(width, height, pixels, ch) {
  const stride = width * ch;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 4;
    for (let x = 0; x < stride; x++) {
      const a = x >= ch ? pixels[y * stride + x - ch] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= ch && y > 0 ? pixels[(y - 1) * stride + x - ch] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      raw[y * (stride + 1) + 1 + x] = (pixels[y * stride + x] - pred) & 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = ch === 1 ? 0 : 6;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Area-average downscale so the longest side is <= max (RGBA premultiplied, or gray). */
function shrink(width, height, pixels, ch, max) {
  const scale = Math.min(1, max / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const hgt = Math.max(1, Math.round(height * scale));
  if (w === width && hgt === height) return { width, height, pixels };
  const out = Buffer.alloc(w * hgt * ch);
  const sx = width / w;
  const sy = height / hgt;
  for (let y = 0; y < hgt; y++) {
    const y0 = Math.floor(y * sy);
    const y1 = Math.min(height, Math.max(y0 + 1, Math.ceil((y + 1) * sy)));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor(x * sx);
      const x1 = Math.min(width, Math.max(x0 + 1, Math.ceil((x + 1) * sx)));
      const acc = [0, 0, 0, 0];
      let n = 0;
      for (let yy = y0; yy < y1; yy++) {
        for (let xx = x0; xx < x1; xx++) {
          const i = (yy * width + xx) * ch;
          if (ch === 4) {
            const a = pixels[i + 3];
            acc[0] += pixels[i] * a;
            acc[1] += pixels[i + 1] * a;
            acc[2] += pixels[i + 2] * a;
            acc[3] += a;
          } else acc[0] += pixels[i];
          n++;
        }
      }
      const o = (y * w + x) * ch;
      if (ch === 4) {
        const a = acc[3];
        out[o] = a ? Math.round(acc[0] / a) : 0;
        out[o + 1] = a ? Math.round(acc[1] / a) : 0;
        out[o + 2] = a ? Math.round(acc[2] / a) : 0;
        out[o + 3] = Math.round(a / n);
      } else out[o] = Math.round(acc[0] / n);
    }
  }
  return { width: w, height: hgt, pixels: out };
}

const dataUrl = (mime, buf) => `data:${mime};base64,${buf.toString('base64')}`;

// ---------------------------------------------------------------------------------------------

/** The shortest decimal that reads back as the same f32 (what serde_json writes for an f32). */
function f32Shortest(v) {
  const want = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const n = Number(v.toPrecision(p));
    if (Math.fround(n) === want) return n;
  }
  return v;
}

// f64 fields: timings are rounded to 6 digits, prices kept; every other float is an f32 score
const TIMING_KEYS = new Set(['ms', 'total_ms']);
const F64_KEYS = new Set(['price']);

function compact(value) {
  const round = (k, v) => {
    if (typeof v !== 'number' || Number.isInteger(v) || F64_KEYS.has(k)) return v;
    return TIMING_KEYS.has(k) ? Number(v.toPrecision(6)) : f32Shortest(v);
  };
  return JSON.parse(JSON.stringify(value, round));
}

export function catalogInfo(cat) {
  const tuning = profileTuning(cat.profile);
  // the same shape as src-tauri's catalog_info(): part, "<model>.<output>", sha256
  const models = [];
  for (const part of ['router', 'texture']) {
    const m = cat.models[part];
    if (m) models.push({ part, model: `${m.model}.${m.output}`, sha256: m.sha256 });
  }
  for (const [name, m] of Object.entries(cat.models.experts ?? {})) {
    models.push({ part: `expert ${name}`, model: `${m.model}.${m.output}`, sha256: m.sha256 });
  }
  return {
    name: cat.name,
    profile: cat.profile,
    size: cat.products.length,
    categories: cat.categories.map((c) => ({ name: c.name, expert: c.expert, count: c.rows[1] - c.rows[0] })),
    models,
    // Engine::scoring(None): the catalog's own blend if it has one, else the profile's; the
    // profile's frame weight and router prior. Engine::match_rule(): the profile's.
    scoring: { ...tuning.scoring, blend: cat.blend ? { ...cat.blend } : tuning.scoring.blend },
    match_rule: tuning.match_rule,
    takes_text: tuning.takes_text,
    samples: samples(cat),
  };
}

/** Weights the engine re-ranks every recorded shortlist with (semantic,texture,color). */
const RERANK_WEIGHTS = ['1,0,0', '0,0,1', '0.2,0.3,0.5'];

/** The ONNX Runtime library: $ORT_DYLIB_PATH, else scripts/env.sh's ORT_LIB, else the plain link. */
export function ortLibrary() {
  if (process.env.ORT_DYLIB_PATH) return process.env.ORT_DYLIB_PATH;
  let lib = 'models/runtime/libonnxruntime.so';
  try {
    const line = fs.readFileSync(path.join(ROOT, 'scripts/env.sh'), 'utf8').match(/^ORT_LIB=(\S+)\s*$/m);
    if (line && fs.existsSync(path.resolve(ROOT, line[1]))) lib = line[1];
  } catch {
    // no scripts/env.sh: the version-free link
  }
  return path.resolve(ROOT, lib);
}

/** One CLI run over every photo: one parsed JSON answer a photo, in order. */
function searchAll(bin, env, photos, extra) {
  const args = ['search', '--catalog', CATALOG, '--json', '--candidates', ...extra, ...photos];
  const stdout = execFileSync(bin, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const answers = stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  if (answers.length !== photos.length) die(`expected ${photos.length} answers, got ${answers.length}`);
  answers.forEach((a, i) => {
    if (a.query !== photos[i]) die(`answer ${i} is for ${a.query}, expected ${photos[i]}`);
    if (!Array.isArray(a.timings?.stages) || a.match === undefined || a.candidates.some((c) => c.semantic_frame === undefined)) {
      die(`${bin} prints the old JSON shape: rebuild it (cargo build --release -p lookalike-cli)`);
    }
  });
  return { args, answers };
}

const SAMPLES_TMP = path.join(os.tmpdir(), 'lookalike-samples-');
const commandLine = (args, tmp) =>
  `lookalike ${args.map((a) => (a === tmp ? '<tmp>' : a.startsWith(SAMPLES_TMP) ? `<samples>/${path.basename(a)}` : a)).join(' ')}`;

/** The shortlist is retrieval's: the weights only re-score it. */
function sameShortlist(a, b) {
  return (
    a.length === b.length &&
    a.every((h, i) =>
      ['id', 'semantic_cutout', 'semantic_frame', 'semantic', 'texture', 'color', 'route_share', 'routed'].every((k) => h[k] === b[i][k]),
    )
  );
}

// ---------------------------------------------------------------------------------------------

const MANIFEST = path.join(ROOT, 'models/manifest.toml');

/**
 * The profile's tuned scoring and calibrated match rule: `[profiles.NAME.scoring]` and
 * `[profiles.NAME.match]` of models/manifest.toml, the file the engine (and so the CLI) reads.
 * The CLI has no way to print them, so they are read here, with Python's tomllib (python3 >= 3.11,
 * which set-up needs anyway) rather than a TOML parser of our own. Missing sections mean what they
 * mean to the engine (crates/engine/src/models/manifest.rs): the seed's blend 0.5/0.3/0.2, the
 * cut-out alone, no router prior; no rule (every search says "similar").
 * tests/ui/rerank.test.mjs then holds these numbers to the engine's recorded scores and verdicts.
 */
export function profileTuning(profile) {
  const script = [
    'import json, sys, tomllib',
    'p = tomllib.load(open(sys.argv[1], "rb")).get("profiles", {}).get(sys.argv[2])',
    'if p is None: sys.exit(f"no [profiles.{sys.argv[2]}] in {sys.argv[1]}")',
    'print(json.dumps({"scoring": p.get("scoring"), "match": p.get("match"), "text": "text_query" in p}))',
  ].join('\n');
  let out;
  try {
    out = execFileSync('python3', ['-c', script, MANIFEST, profile], { cwd: ROOT, encoding: 'utf8' });
  } catch (e) {
    die(`could not read [profiles.${profile}] from ${path.relative(ROOT, MANIFEST)} with python3: ${e.stderr || e.message}`);
  }
  const { scoring, match, text } = JSON.parse(out);
  const s = scoring ?? {};
  const blend = s.blend ?? { semantic: 0.5, texture: 0.3, color: 0.2 };
  return {
    // the Rust structs' field order (what serde writes)
    scoring: {
      blend: { semantic: blend.semantic, texture: blend.texture, color: blend.color },
      frame: s.frame ?? 0,
      route_prior: s.route_prior ?? 0,
    },
    // MatchRule denies unknown fields, so the table's keys are the struct's, in its order
    match_rule: match ?? null,
    // Engine::takes_text(): the profile has a `text_query` (each names a tower for its experts)
    takes_text: text,
  };
}

/** How many samples the empty state offers (src-tauri/src/response.rs `SAMPLES`). */
const SAMPLES = 4;

/**
 * Catalog::samples (crates/engine/src/catalog/reader.rs): the first product of each category,
 * the largest categories first (ties in catalog order). src-tauri's tests hold the Rust side to
 * "one per category"; tests/ui/samples.test.mjs finds these ids' recordings.
 */
export function samples(cat) {
  const order = cat.categories.map((c, i) => ({ c, i, n: c.rows[1] - c.rows[0] })).filter((o) => o.n > 0);
  order.sort((a, b) => b.n - a.n || a.i - b.i);
  return order.slice(0, SAMPLES).map(({ c }) => {
    const p = cat.products[c.rows[0]];
    return { id: p.id, name: p.name };
  });
}

/** A CLI answer as the app's SearchResponse: the saved cut-out shrunk, the mask derived from it
 * (over the working image, or over the region searched when there was one). */
function toResponse(a, cutoutPath) {
  const cut = decodePng(fs.readFileSync(cutoutPath));
  for (let p = 0; p < cut.width * cut.height; p++) if (cut.rgba[p * 4 + 3] === 0) cut.rgba.fill(0, p * 4, p * 4 + 3);
  const small = shrink(cut.width, cut.height, cut.rgba, 4, MAX_SIDE);
  const cutout = encodePng(small.width, small.height, small.pixels, 4);

  // Derived mask (see the header): cut-out alpha at the bbox, on the working image's size.
  const W = a.region ? Math.round(a.region.w * a.image.width) : a.image.width;
  const H = a.region ? Math.round(a.region.h * a.image.height) : a.image.height;
  const mask = Buffer.alloc(W * H);
  if (a.segmentation.used === 'cutout') {
    const [bx, by, bw, bh] = a.segmentation.bbox;
    for (let y = 0; y < Math.min(bh, cut.height); y++) {
      for (let x = 0; x < Math.min(bw, cut.width); x++) {
        if (by + y < H && bx + x < W) mask[(by + y) * W + bx + x] = cut.rgba[(y * cut.width + x) * 4 + 3];
      }
    }
  }
  const m = shrink(W, H, mask, 1, MAX_SIDE);
  const maskPng = encodePng(m.width, m.height, m.pixels, 1);

  const { query: _query, ...result } = a;
  return { ...result, cutout: dataUrl('image/png', cutout), mask: dataUrl('image/png', maskPng) };
}

function main() {
  const demo = JSON.parse(fs.readFileSync(path.join(ROOT, CATALOG, 'catalog.json'), 'utf8'));
  // the empty state's samples are searched with their thumbnails: those are recorded too, as
  // copies named sample-<id>.jpg (a thumbnail is named like its product's source image, and the
  // cut-outs and recordings go by file name)
  const samplesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lookalike-samples-'));
  const sampleOf = new Map();
  for (const s of samples(demo)) {
    const thumb = path.join(CATALOG, demo.products.find((p) => p.id === s.id).thumbnail);
    const copy = path.join(samplesDir, `sample-${s.id}.jpg`);
    fs.copyFileSync(path.join(ROOT, thumb), copy);
    sampleOf.set(copy, thumb);
  }
  const photos = process.argv.slice(2).length ? process.argv.slice(2) : [...DEFAULT_PHOTOS, ...sampleOf.keys()];
  const bin = process.env.LOOKALIKE_BIN ?? path.join(ROOT, 'target/release/lookalike');
  if (!fs.existsSync(bin)) die(`${bin} is missing: run \`cargo build --release\` (or scripts/setup.sh) first`);
  const catDir = path.join(ROOT, CATALOG);
  if (!fs.existsSync(path.join(catDir, 'catalog.json'))) die(`${CATALOG} is missing: run scripts/setup.sh first`);
  for (const p of photos) if (!fs.existsSync(path.resolve(ROOT, p))) die(`photo ${p} is missing (run scripts/setup.sh for the demo sources)`);
  const env = { ...process.env, ORT_DYLIB_PATH: ortLibrary() };
  if (!fs.existsSync(env.ORT_DYLIB_PATH)) die(`ONNX Runtime ${env.ORT_DYLIB_PATH} is missing: run \`bash scripts/setup.sh core\``);
  const help = execFileSync(bin, ['search', '--help'], { cwd: ROOT, env, encoding: 'utf8' });
  if (!help.includes('--cutouts')) die(`${bin} has no --cutouts option: rebuild it (cargo build --release)`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookalike-record-'));
  const base = searchAll(bin, env, photos, ['--cutouts', tmp]);
  const command = commandLine(base.args, tmp);
  console.log(`record-mock: ${command}`);
  const reranks = RERANK_WEIGHTS.map((w) => {
    const run = searchAll(bin, env, photos, ['--weights', w]);
    console.log(`record-mock: ${commandLine(run.args, tmp)}`);
    const [semantic, texture, color] = w.split(',').map(Number);
    return { weights: { semantic, texture, color }, command: commandLine(run.args, tmp), answers: run.answers };
  });

  const colors = RECORDED_COLORS.map((c) => {
    const run = searchAll(bin, env, photos, ['--color', c]);
    console.log(`record-mock: ${commandLine(run.args, tmp)}`);
    return { color: c, command: commandLine(run.args, tmp), answers: run.answers };
  });
  // region searches of each photo: its two largest objects and the middle of the photo (the mock
  // answers a region with the recorded one that overlaps it most)
  const regions = base.answers.map((a, i) => {
    const boxes = [...a.objects.slice(0, 2).map((o) => o.region), { x: 0.25, y: 0.25, w: 0.5, h: 0.5 }];
    return boxes.map((r) => {
      const dir = fs.mkdtempSync(path.join(tmp, 'region-'));
      const arg = [r.x, r.y, r.w, r.h].map(String).join(',');
      const run = searchAll(bin, env, [photos[i]], ['--region', arg, '--cutouts', dir]);
      const answer = run.answers[0];
      const cmd = commandLine(run.args, dir);
      console.log(`record-mock: ${cmd}`);
      return { region: answer.region, command: cmd, response: toResponse(answer, path.join(dir, `${path.basename(photos[i])}.cutout.png`)) };
    });
  });

  const cat = JSON.parse(fs.readFileSync(path.join(catDir, 'catalog.json'), 'utf8'));
  // only what this script writes (record-catalogs.mjs writes the Catalogs panel's files)
  for (const f of ['searches', 'thumbs', 'catalog.json']) fs.rmSync(path.join(OUT, f), { recursive: true, force: true });
  fs.mkdirSync(path.join(OUT, 'searches'), { recursive: true });
  fs.mkdirSync(path.join(OUT, 'thumbs'), { recursive: true });

  // every product as the `product` command returns it (the catalog's own record), and its
  // thumbnail as a file named by id (the app's `thumb:` scheme serves exactly these bytes by id)
  for (const p of cat.products) {
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(p.id)) die(`product id ${JSON.stringify(p.id)} is not a plain file name`);
    fs.copyFileSync(path.join(catDir, p.thumbnail), path.join(OUT, 'thumbs', `${p.id}.jpg`));
  }
  const catalogFile = {
    recorded: {
      by: 'ui/mock/record.mjs',
      catalog: CATALOG,
      note: 'CatalogInfo as the app receives it, and every product as the product command returns it; thumbnails are thumbs/<id>.jpg.',
    },
    catalog: catalogInfo(cat),
    products: cat.products,
  };
  fs.writeFileSync(path.join(OUT, 'catalog.json'), JSON.stringify(compact(catalogFile)));

  base.answers.forEach((a, i) => {
    const photo = photos[i];
    const file = path.basename(photo);
    const bytes = fs.readFileSync(path.resolve(ROOT, photo));
    const response = toResponse(a, path.join(tmp, `${file}.cutout.png`));
    const rec = {
      query: { file, path: sampleOf.get(photo) ?? photo, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
      command,
      response,
      reranks: reranks.map((r) => {
        const other = r.answers[i];
        if (!sameShortlist(other.candidates, a.candidates)) die(`${photo}: the shortlist under --weights ${r.command} differs`);
        return { weights: r.weights, command: r.command, match: other.match, results: other.results };
      }),
      colors: colors.map((c) => {
        const other = c.answers[i];
        const ids = (hits) => hits.map((h) => h.id).sort().join(' ');
        if (ids(other.candidates) !== ids(a.candidates)) die(`${photo}: the shortlist under --color ${c.color} differs`);
        return { color: c.color, hex: other.color, command: c.command, match: other.match, results: other.results };
      }),
      regions: regions[i],
    };
    const slug = file.replace(/\.[^.]+$/, '').replace(/[^a-zA-Z0-9-]+/g, '-');
    const out = path.join(OUT, 'searches', `${String(i + 1).padStart(2, '0')}-${slug}.json`);
    fs.writeFileSync(out, JSON.stringify(compact(rec)));
    const top = a.results[0];
    console.log(
      `record-mock: ${photo} -> ${path.relative(ROOT, out)} (${(fs.statSync(out).size / 1024).toFixed(0)} KiB; ` +
        `match ${a.match}; ${a.categories[0].name} ${a.categories[0].score.toFixed(2)}; top-1 ${top?.id} ${top?.score.toFixed(3)}; ` +
        `${a.candidates.filter((c) => !c.routed).length} of ${a.candidates.length} candidates outside the router's pick)`,
    );
  });
  fs.rmSync(tmp, { recursive: true, force: true });
  let total = 0;
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : (total += fs.statSync(path.join(d, e.name)).size)));
  walk(OUT);
  console.log(`record-mock: wrote ${path.relative(ROOT, OUT)} (${(total / 1024).toFixed(0)} KiB in all)`);
  // the default run re-records the Catalogs panel's fixtures too
  if (process.argv.length <= 2) recordCatalogs();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

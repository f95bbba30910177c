#!/usr/bin/env node
// Records REAL answers for the Catalogs panel of the browser-mode mock (npm run dev:web) and the
// UI tests, with the real CLI from the repo root (LOOKALIKE_BIN, ORT_DYLIB_PATH: as record.mjs):
//
//   node ui/mock/record-catalogs.mjs      (also the last step of a plain `npm run record-mock`)
//
// Writes to ui/mock/recorded/:
// - health.json: `lookalike check --catalog catalog/demo --json`, the HealthReport the app's
//   `catalog_health` returns for the demo catalog, as printed;
// - index-report.json: the IndexReport of a real incremental build, as `lookalike index --json`
//   printed it: a small shop ("Sports corner", products file sports-corner.json: 12 demo products
//   of sports and footwear plus one whose image is missing) built over an earlier build of 10 of
//   them (one since dropped), so it embeds 3, reuses 9, removes 1 and skips 1;
// - built-catalog.json: what else the mock needs about that shop: the products file's ids in
//   order (what the build's progress events name), the IndexReport of building it again unchanged
//   (`update_catalog`), its CatalogInfo and products (as `catalog_info` and `product` give them),
//   its own health report, and the message a tampered bundle of it is refused with
//   (`lookalike pack`, one byte of embeddings.bin flipped, `lookalike unpack`).
// The shop's products carry made-up shop links on the reserved `.example` domain
// (https://shop.example/products/<id>), except the two Saleor plimsolls, which have none: the demo
// sources have no links, and "Open in shop" needs some products with and some without one.
// Thumbnails: the demo products' own, already in thumbs/ (record.mjs).

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogInfo, ortLibrary } from './record.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'ui/mock/recorded');
const IMAGES = '.cache/demo-sources/images';
const SOURCES = '.cache/demo-sources/products.json';
const SHOP = 'sports-corner';
const SHOP_NAME = 'Sports corner';

/** The earlier build, then the shop as it is now (one dropped, three added, one image missing). */
const EARLIER = [
  'vendure-tent',
  'vendure-road-bike',
  'vendure-football',
  'vendure-basketball',
  'vendure-tennis-ball',
  'vendure-skipping-rope',
  'vendure-boxing-gloves',
  'vendure-cruiser-skateboard',
  'saleor-yellow-plimsolls',
  'saleor-white-plimsolls',
];
const NOW = [
  ...EARLIER.filter((id) => id !== 'vendure-skipping-rope'),
  'vendure-ultraboost-running-shoe',
  'vendure-freerun-running-shoe',
  'vendure-allstar-sneakers',
];

function die(msg) {
  console.error(`record-catalogs: ${msg}`);
  process.exit(1);
}

export function recordCatalogs() {
  const bin = process.env.LOOKALIKE_BIN ?? path.join(ROOT, 'target/release/lookalike');
  if (!fs.existsSync(bin)) die(`${bin} is missing: run \`cargo build --release -p lookalike-cli\` first`);
  const env = { ...process.env, ORT_DYLIB_PATH: ortLibrary() };
  const help = execFileSync(bin, ['--help'], { cwd: ROOT, env, encoding: 'utf8' });
  for (const cmd of ['index', 'check', 'pack', 'unpack']) {
    if (!new RegExp(`^\\s+${cmd}\\s`, 'm').test(help)) die(`${bin} has no \`${cmd}\`: rebuild it (cargo build --release -p lookalike-cli)`);
  }
  const run = (args, cwd = ROOT) => {
    console.log(`record-catalogs: lookalike ${args.join(' ')}`);
    return execFileSync(bin, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  };
  const models = path.join(ROOT, 'models');

  const sources = JSON.parse(fs.readFileSync(path.join(ROOT, SOURCES), 'utf8'));
  const byId = new Map(sources.products.map((p) => [p.id, p]));
  const product = (id) => {
    const p = byId.get(id);
    if (!p) die(`no demo product ${id} in ${SOURCES}`);
    return id.startsWith('saleor-') ? { ...p } : { ...p, url: `https://shop.example/products/${id}` };
  };
  const missing = {
    ...product('vendure-hi-top-basketball-shoe'),
    id: 'vendure-court-shoe',
    name: 'Court Shoe',
    image: 'vendure-court-shoe.jpg',
    url: 'https://shop.example/products/vendure-court-shoe',
  };
  if (fs.existsSync(path.join(ROOT, IMAGES, missing.image))) die(`${missing.image} exists: pick another missing image`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookalike-record-catalogs-'));
  try {
    const write = (dir, products) => {
      fs.mkdirSync(path.join(tmp, dir), { recursive: true });
      const file = path.join(tmp, dir, `${SHOP}.json`);
      fs.writeFileSync(file, JSON.stringify({ ...sources, name: SHOP_NAME, products }, null, 1));
      return file;
    };
    const earlier = write('earlier', EARLIER.map(product));
    const now = write('now', [...NOW.map(product), missing]);
    const out = path.join(tmp, SHOP);
    const index = (products) => JSON.parse(run(['index', '--json', '--images', IMAGES, '--products', products, '--out', out]));
    index(earlier);
    const report = index(now);
    const update = index(now);
    if (report.embedded !== 3 || report.reused !== 9 || report.removed !== 1 || report.skipped.length !== 1) {
      die(`unexpected build report: ${JSON.stringify(report)}`);
    }
    if (update.embedded !== 0) die(`the unchanged rebuild embedded ${update.embedded}`);

    const health = run(['check', '--catalog', 'catalog/demo', '--json']);
    JSON.parse(health); // whole
    const shopHealth = JSON.parse(run(['check', '--catalog', out, '--json']));

    // a bundle with one flipped byte: the engine's refusal, without the CLI's own context line
    const bundle = `${SHOP}.lookalike`;
    run(['--models', models, 'pack', '--catalog', out, '--out', path.join(tmp, bundle)]);
    const bytes = fs.readFileSync(path.join(tmp, bundle));
    const at = tarOffset(bytes, 'embeddings.bin') + 1000;
    bytes[at] ^= 0xff;
    const tampered = `${SHOP}-tampered.lookalike`;
    fs.writeFileSync(path.join(tmp, tampered), bytes);
    const args = ['--models', models, 'unpack', '--bundle', tampered, '--out', 'unpacked'];
    console.log(`record-catalogs: lookalike ${args.join(' ')} (expected to fail)`);
    const refused = spawnSync(bin, args, { cwd: tmp, env, encoding: 'utf8' });
    if (refused.status === 0) die('the tampered bundle was accepted');
    const message = refused.stderr.trim().replace(/^error: unpacking \S+ into \S+: /, '');
    if (!message.startsWith('catalog bundle ')) die(`unexpected refusal: ${refused.stderr}`);

    const cat = JSON.parse(fs.readFileSync(path.join(out, 'catalog.json'), 'utf8'));
    fs.mkdirSync(OUT, { recursive: true });
    fs.writeFileSync(path.join(OUT, 'health.json'), health.trim() + '\n');
    fs.writeFileSync(path.join(OUT, 'index-report.json'), JSON.stringify(report) + '\n');
    const built = {
      recorded: {
        by: 'ui/mock/record-catalogs.mjs',
        note: `The "${SHOP_NAME}" shop built with lookalike index from ${IMAGES} and ${SHOP}.json (index-report.json is that build's report); shop links are made up (.example).`,
      },
      folder: SHOP,
      progress: [...NOW, missing.id],
      update,
      catalog: catalogInfo(cat),
      products: cat.products,
      health: shopHealth,
      bundle: { file: tampered, refused: { code: 'bundle', message } },
    };
    fs.writeFileSync(path.join(OUT, 'built-catalog.json'), JSON.stringify(built) + '\n');
    for (const id of NOW) if (!fs.existsSync(path.join(OUT, 'thumbs', `${id}.jpg`))) die(`thumbs/${id}.jpg is missing: run record.mjs first`);
    console.log(
      `record-catalogs: wrote health.json, index-report.json (${report.products} products: ${report.embedded} embedded, ` +
        `${report.reused} reused, ${report.removed} removed, ${report.skipped.length} skipped), built-catalog.json`,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Where a tar member's data starts (ustar: 512-byte headers, data padded to 512). */
function tarOffset(buf, name) {
  let pos = 0;
  while (pos + 512 <= buf.length) {
    const header = buf.subarray(pos, pos + 512);
    const member = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    if (!member) break;
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    if (member === name) return pos + 512;
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  die(`${name} is not in the bundle`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) recordCatalogs();

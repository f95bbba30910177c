// The empty state's sample products (one per category of the catalog in use, their thumbnails
// searched as photos through the `product_photo` command) and the words box of profiles that take
// words (the full profile's text towers; the lite profile hides the box and the engine refuses).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtures, ipcCalls, overflowing, pickPhoto, shot, thumbnailFile, useApp, waitReady } from './harness.mjs';
import fs from 'node:fs';

const app = useApp();
const samples = fixtures.catalog.samples;

test('the empty state offers the catalog samples; tapping one searches its photo and finds it', async () => {
  assert.ok(samples.length >= 3, 'the demo catalog has samples');
  const categories = samples.map((s) => fixtures.products.find((p) => p.id === s.id).category);
  assert.equal(new Set(categories).size, samples.length, 'one per category');
  for (const viewport of [
    { width: 390, height: 844 },
    { width: 1280, height: 800 },
  ]) {
    const { page, problems } = await app({ viewport });
    await waitReady(page);
    const buttons = page.locator('#samples .sample');
    assert.equal(await buttons.count(), samples.length);
    assert.deepEqual(await buttons.evaluateAll((b) => b.map((x) => x.dataset.id)), samples.map((s) => s.id));
    // a name to read for each, and a picture that loaded (over the thumb: scheme)
    assert.deepEqual(await buttons.allInnerTexts(), samples.map((s) => s.name));
    await page.waitForFunction(() => [...document.querySelectorAll('#samples img')].every((i) => i.complete && i.naturalWidth > 0));
    // on a phone the samples are on the first screen, as big as a finger
    const box = await buttons.first().boundingBox();
    assert.ok(box.y + box.height <= viewport.height, `first sample at y=${box.y}`);
    assert.ok(box.width >= 48 && box.height >= 48, `${box.width}x${box.height}`);
    assert.deepEqual(await overflowing(page), []);
    await shot(page, `samples-${viewport.width}`);

    const sample = samples[1];
    await buttons.nth(1).click();
    await page.waitForSelector('#results-grid > li.card >> nth=9');
    const [call] = await ipcCalls(page, 'product_photo');
    assert.deepEqual(call.args, { id: sample.id });
    // the photo searched is the thumbnail's very bytes
    const [search] = await ipcCalls(page, 'search');
    assert.equal(search.bytes, fs.statSync(thumbnailFile(sample.id)).size);
    assert.deepEqual(search.head, [0xff, 0xd8, 0xff]);
    assert.equal(await page.locator('#results-grid > li').first().getAttribute('data-id'), sample.id);
    assert.match(await page.locator('#match-title').innerText(), /This is it/);
    assert.equal(await page.locator('#samples').count(), 0, 'the samples go once a photo is searched');
    assert.equal(await page.locator('#refine').isVisible(), false, 'the lite profile takes no words');
    assert.deepEqual(problems, []);
  }
});

test('a sample that is gone from the catalog says so and leaves the empty state as it was', async () => {
  const { page, problems } = await app();
  await waitReady(page);
  // the catalog in use lost the product after the page listed it
  await page.evaluate(() => {
    const inner = window.__TAURI_INTERNALS__.invoke;
    window.__TAURI_INTERNALS__.invoke = (cmd, args, options) =>
      inner(cmd, cmd === 'product_photo' ? { id: 'no-such-product' } : args, options);
  });
  await page.locator('#samples .sample').first().click();
  await page.locator('#alert-box').waitFor();
  assert.match(await page.locator('#alert-box').innerText(), /no product with id/);
  assert.equal((await ipcCalls(page, 'search')).length, 0);
  assert.equal(await page.locator('#samples .sample').count(), samples.length);
  assert.deepEqual(problems, []);
});

test('a catalog that takes words: the box refines the same photo, words with accents intact', async () => {
  const { page, problems } = await app({ viewport: { width: 390, height: 844 }, cfg: { takesText: true } });
  assert.equal(await page.locator('#refine').isVisible(), false, 'no box before a photo');
  await pickPhoto(page, 'tshirt');
  const box = page.locator('#refine');
  await box.waitFor();
  const input = page.locator('#refine-text');
  assert.equal(await input.inputValue(), '');
  const size = await input.boundingBox();
  assert.ok(size.height >= 48, `touch target ${size.height}px`);

  const words = 'in röd leather';
  await input.fill(words);
  await input.press('Enter');
  await page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false' && document.querySelector('#status').textContent.includes('“'));
  const searches = await ipcCalls(page, 'search');
  assert.equal(searches.length, 2);
  const header = searches[1].headers['x-search-options'];
  assert.match(header, /^[\x20-\x7e]*$/, 'the header is ASCII');
  assert.equal(JSON.parse(header).text, words, 'the words arrive as typed');
  assert.equal(searches[1].bytes, searches[0].bytes, 'the same photo');
  assert.match(await page.locator('#status').innerText(), /“in röd leather”/);
  assert.equal(await input.inputValue(), words);
  await shot(page, 'refine-390');

  // the same words again search nothing; emptied, the photo alone is searched again
  await input.press('Enter');
  assert.equal((await ipcCalls(page, 'search')).length, 2);
  await input.fill('');
  await page.click('#refine-go');
  await page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false' && !document.querySelector('#status').textContent.includes('“'));
  const last = (await ipcCalls(page, 'search')).at(-1);
  assert.equal(JSON.parse(last.headers['x-search-options']).text, undefined);

  // a new photo starts without words
  await input.fill('striped');
  await input.press('Enter');
  await page.waitForFunction(() => document.querySelector('#status').textContent.includes('“striped”'));
  await pickPhoto(page, 'coffee');
  const fresh = (await ipcCalls(page, 'search')).at(-1);
  assert.equal(JSON.parse(fresh.headers['x-search-options']).text, undefined);
  assert.equal(await input.inputValue(), '');
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(problems, []);
});

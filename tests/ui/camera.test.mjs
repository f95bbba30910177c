// "Take photo" on a desktop: the webcam (Chromium's own fake camera stands in for the device),
// and a machine without one, where the app says so and offers the file picker. Phones (touch)
// keep the file input with `capture`, which opens the system camera.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ipcCalls, photoPath, shot, useApp, waitReady } from './harness.mjs';

// --use-fake-ui-for-media-stream grants the camera prompt; the fake device is a real video source
const withCamera = useApp({ flags: ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'] });
const withoutCamera = useApp({ flags: ['--use-fake-ui-for-media-stream'] });

test('desktop with a webcam: Take photo shows the live camera; its frame is searched as a JPEG', async () => {
  // no search was recorded for the fake camera's frame: the coffee photo's answer stands in
  const { page, problems } = await withCamera({ cfg: { unrecorded: path.basename(photoPath('coffee')) } });
  await waitReady(page);
  let chooser = false;
  page.on('filechooser', () => (chooser = true));
  await page.click('#take-photo-label');
  const dialog = page.locator('#camera');
  await dialog.waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.querySelector('#camera-video').videoWidth > 0);
  const size = await page.$eval('#camera-video', (v) => [v.videoWidth, v.videoHeight]);
  await shot(page, 'camera-1280');
  await page.click('#camera-take');
  await dialog.waitFor({ state: 'hidden' });
  await page.waitForSelector('#results-grid > li.card >> nth=9');
  const [call] = await ipcCalls(page, 'search');
  assert.equal(call.raw, true);
  assert.deepEqual(call.head, [0xff, 0xd8, 0xff], 'a JPEG');
  // the photo shown is the frame taken, at the camera's size
  await page.waitForFunction(() => document.querySelector('#photo-image').naturalWidth > 0);
  assert.deepEqual(await page.$eval('#photo-image', (i) => [i.naturalWidth, i.naturalHeight]), size);
  assert.equal(chooser, false, 'no file picker');
  // the camera is let go once the dialog closes
  assert.equal(await page.evaluate(() => document.querySelector('#camera-video').srcObject), null);

  // Cancel: nothing is searched
  await page.click('#take-photo-label');
  await dialog.waitFor({ state: 'visible' });
  await page.click('#camera-cancel');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await ipcCalls(page, 'search')).length, 1);
  assert.deepEqual(problems, []);
});

test('desktop without a camera: Take photo says so and offers the file picker', async () => {
  const { page, problems } = await withoutCamera();
  await waitReady(page);
  await page.click('#take-photo-label');
  const alert = page.locator('#alert-box');
  await alert.waitFor();
  assert.equal(await alert.getAttribute('role'), 'status');
  assert.match(await alert.innerText(), /No camera found on this computer/);
  assert.equal(await page.locator('#camera').isVisible(), false);
  await shot(page, 'no-camera-1280');
  const chooser = page.waitForEvent('filechooser');
  await page.click('#alert-action');
  await (await chooser).setFiles(photoPath('coffee'));
  await page.waitForSelector('#results-grid > li.card >> nth=9');
  assert.deepEqual(problems, []);
});

test('touch screen: Take photo stays the file input that opens the system camera', async () => {
  const { page, problems } = await withCamera({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  await waitReady(page);
  assert.equal(await page.getAttribute('#take-photo', 'capture'), 'environment');
  const chooser = page.waitForEvent('filechooser');
  await page.tap('#take-photo-label');
  await (await chooser).setFiles(photoPath('coffee'));
  await page.waitForSelector('#results-grid > li.card >> nth=9');
  assert.equal(await page.locator('#camera').isVisible(), false);
  assert.deepEqual(problems, []);
});

// The engine's verdict on a search (`match`): a banner above the grid (#match, data-match) says
// "This is it" (the first card stands out with a badge), "Similar products", or "No close match in
// this catalog" (the nearest products still listed, dimmed); the status line (the polite live
// region) says it once. Recorded real searches give the verdicts; a verdict no recording has is
// answered by the mock (cfg.match) so every banner is checked. Phone (390 px) and desktop (1280 px).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtures, gridIds, overflowing, photoPath, pickPhoto, PHOTOS, recordingFor, shot, useApp, VERDICT_TITLES } from './harness.mjs';

const app = useApp();

/** A recorded photo (a PHOTOS key) whose engine verdict is `match`, else null. */
function photoWith(match) {
  return Object.keys(PHOTOS).find((name) => recordingFor(name).response.match === match) ?? null;
}

/** Everything the page shows about the verdict. */
async function shown(page) {
  return page.evaluate(() => {
    const banner = document.querySelector('#match');
    const grid = document.querySelector('#results-grid');
    const cards = [...grid.querySelectorAll(':scope > li')];
    return {
      match: banner?.dataset.match ?? null,
      title: banner?.querySelector('#match-title')?.textContent ?? null,
      heading: banner?.querySelector('#match-title')?.tagName ?? null,
      note: banner?.querySelector('#match-note')?.textContent ?? null,
      bannerLive: banner?.getAttribute('aria-live') ?? null,
      before: banner ? Boolean(banner.compareDocumentPosition(grid) & Node.DOCUMENT_POSITION_FOLLOWING) : false,
      labelledBy: grid.getAttribute('aria-labelledby'),
      status: document.querySelector('#status').textContent,
      far: grid.classList.contains('far'),
      emphasised: cards.filter((li) => li.classList.contains('is-match')).map((li) => li.dataset.id),
      badges: cards
        .filter((li) => {
          const b = li.querySelector('.match-badge');
          return b && !b.hidden && getComputedStyle(b).display !== 'none';
        })
        .map((li) => li.dataset.id),
      firstName: cards[0]?.querySelector('button')?.innerText ?? '',
      thumbOpacity: cards.map((li) => Number(getComputedStyle(li.querySelector('.thumb img')).opacity)),
    };
  });
}

const cases = [
  { match: 'same', preferred: ['tshirt', 'chair', 'plimsolls'] },
  { match: 'similar', preferred: ['coffee', 'cat'] },
  { match: 'none', preferred: ['cat', 'coffee'] },
];

for (const { match, preferred } of cases) {
  const recorded = preferred.find((n) => recordingFor(n).response.match === match) ?? photoWith(match);
  // a verdict no recording has: the mock answers it for a recorded photo
  const photo = recorded ?? preferred[0];
  const how = recorded ? `recorded ${photo}` : `${photo}, the mock answering "${match}"`;

  for (const width of [1280, 390]) {
    test(`verdict "${match}" (${how}) at ${width} px: the banner, the cards, the status line`, async () => {
      const viewport = width === 390 ? { width: 390, height: 844 } : { width: 1280, height: 800 };
      const { page, problems } = await app({ viewport, cfg: recorded ? {} : { match } });
      await pickPhoto(page, photo);
      const rec = recordingFor(photo).response;
      if (width === 390) {
        // one column: the answer scrolls into view (the first row of cards on the first screen)
        await page.waitForFunction(() => {
          const card = document.querySelector('#results-grid > li')?.getBoundingClientRect();
          return card && card.top >= 0 && card.bottom <= window.innerHeight;
        });
        await shot(page, `verdict-${match}-390-screen`, { screen: true });
      }
      assert.deepEqual(await gridIds(page), rec.results.map((h) => h.id), 'the engine\'s list, whatever the verdict');
      const s = await shown(page);
      assert.equal(s.match, match);
      assert.equal(s.title, VERDICT_TITLES[match]);
      assert.equal(s.heading, 'H3', 'the verdict is a heading under "Lookalikes"');
      assert.ok(s.before, 'the banner is above the grid');
      assert.equal(s.bannerLive, null, 'the banner is no second live region: the status line announces');
      assert.equal(s.labelledBy, 'results-heading match-title', 'the list is named by the verdict too');
      assert.ok(s.status.startsWith(VERDICT_TITLES[match]), `status: ${s.status}`);
      assert.equal(await page.getAttribute('#status', 'role'), 'status');
      const top = rec.results[0];
      // each card's closeness in words: the first carries the verdict, the rest the rule's line
      const rule = fixtures.catalog.match_rule;
      const first = { same: 'Same product', similar: 'Closest', none: 'Nearest, not close' }[match];
      const rest = rec.results
        .slice(1)
        .map((h) => (match === 'none' ? 'Not close' : h.semantic < Math.fround(rule.none_semantic) ? 'Less alike' : 'Similar'));
      assert.deepEqual(await page.locator('#results-grid .card-word').allInnerTexts(), [first, ...rest]);
      if (match === 'same') {
        assert.deepEqual(s.emphasised, [top.id], 'only the first card stands out');
        assert.deepEqual(s.badges, [top.id]);
        assert.match(s.firstName, /This is it/, 'the badge is part of the first card\'s name');
        assert.ok(s.note.includes(top.name), s.note);
        assert.ok(s.status.includes(top.name), s.status);
        assert.equal(s.far, false);
        assert.ok(s.thumbOpacity.every((o) => o === 1));
      } else {
        assert.deepEqual(s.emphasised, []);
        assert.deepEqual(s.badges, []);
        assert.doesNotMatch(s.firstName, /This is it/);
      }
      if (match === 'none') {
        assert.equal(s.note, 'Nothing close; the nearest products are below.');
        assert.equal(s.far, true);
        assert.ok(s.thumbOpacity.every((o) => o < 1), 'the nearest products are dimmed');
        assert.equal(await page.locator('#results-grid > li').count(), 10, 'still listed');
      }
      if (match === 'similar') {
        assert.equal(s.far, false);
        assert.ok(s.thumbOpacity.every((o) => o === 1));
        assert.match(s.note, /none is surely the same product/);
      }
      // the banner fits: nothing sticks out, no sideways scroll
      assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= width);
      assert.deepEqual(await overflowing(page), []);
      const box = await page.locator('#match').boundingBox();
      const grid = await page.locator('#results-grid').boundingBox();
      assert.ok(Math.abs(box.width - grid.width) < 1, `banner ${box.width} px wide, grid ${grid.width} px`);
      await shot(page, `verdict-${match}-${width}`);
      assert.deepEqual(problems, []);
    });
  }
}

test('a new search replaces the verdict: "same" then another photo\'s', async () => {
  const same = photoWith('same');
  const other = ['cat', 'coffee'].find((n) => recordingFor(n).response.match !== 'same');
  assert.ok(same && other, 'needs a "same" recording and another');
  const { page, problems } = await app();
  await pickPhoto(page, same);
  assert.equal(await page.getAttribute('#match', 'data-match'), 'same');
  await page.setInputFiles('#pick-photo', photoPath(other));
  const want = recordingFor(other).response;
  await page.waitForFunction((id) => document.querySelector('#results-grid > li')?.dataset.id === id, want.results[0].id);
  await page.waitForFunction(() => document.querySelector('#results-panel').getAttribute('aria-busy') === 'false');
  assert.equal(await page.getAttribute('#match', 'data-match'), want.match);
  assert.equal(await page.locator('#results-grid > li.is-match').count(), 0, 'no card keeps the badge');
  assert.equal(await page.locator('#results-grid .match-badge:visible').count(), 0);
  assert.deepEqual(problems, []);
});

test('every recording carries the engine\'s verdict and the catalog its rule', () => {
  for (const s of fixtures.searches) assert.ok(['same', 'similar', 'none'].includes(s.response.match), s.name);
  assert.ok(fixtures.catalog.match_rule, 'the recorded CatalogInfo has a match rule');
  assert.ok(fixtures.catalog.scoring?.blend, 'the recorded CatalogInfo has its scoring');
  assert.equal(fixtures.catalog.blend, undefined, 'CatalogInfo.blend is gone');
});

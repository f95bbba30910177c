// End-to-end test of the real desktop app: the built Tauri binary, its real webview (WebKitGTK),
// the real engine on the demo catalog. Driven over plain WebDriver (tauri-driver ->
// WebKitWebDriver) under Xvfb. Run by scripts/test-desktop.sh:
//   xvfb-run -a node --test tests/desktop/e2e.mjs
// Env: LOOKALIKE_APP (the built binary), TAURI_DRIVER (path to tauri-driver).
// The app runs with fresh XDG data and config folders (its saved catalogs and the remembered
// catalog start empty), and with LOOKALIKE_E2E_PICKS answering its native dialogs, which
// WebDriver cannot click: the images folder and the products file the catalog test builds from.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const root = resolve(import.meta.dirname, "../..");
const app = process.env.LOOKALIKE_APP ?? resolve(root, "target/debug/lookalike-app");
const driverBin = process.env.TAURI_DRIVER ?? resolve(process.env.HOME ?? "/root", ".cargo/bin/tauri-driver");
const artifacts = resolve(root, "tests/desktop/artifacts");
const port = 4444 + Math.floor(Math.random() * 500);
const base = `http://127.0.0.1:${port}`;
const W3C_ELEMENT = "element-6066-11e4-a23a-4f53bd8abad9";

let driver;
let session;

async function wd(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

const s = (path) => `/session/${session}${path}`;

async function find(css) {
  const el = await wd("POST", s("/element"), { using: "css selector", value: css });
  return el[W3C_ELEMENT] ?? el.ELEMENT ?? Object.values(el)[0];
}

async function run(script, ...args) {
  return wd("POST", s("/execute/sync"), { script, args });
}

async function waitFor(what, fn, timeoutMs = 60_000) {
  const start = Date.now();
  let last;
  while (Date.now() - start < timeoutMs) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

/** The engine loads in the background; the header names the catalog once it is ready. */
function engineReady() {
  return waitFor("the engine to be ready", () =>
    run("return /products/i.test(document.querySelector('#catalog-line')?.textContent ?? '')"),
  );
}

async function screenshot(name) {
  await sleep(500); // let WebKit paint before the capture
  const png = await wd("GET", s("/screenshot"));
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(resolve(artifacts, `${name}.png`), Buffer.from(png, "base64"));
}

/** Three demo products as a plain CSV (category names only), for the catalog built in the UI. */
const SHOP = ["vendure-spiky-cactus", "vendure-road-bike", "saleor-orange-juice"];
const scratch = mkdtempSync(resolve(tmpdir(), "lookalike-e2e-"));

function appEnv() {
  const demo = JSON.parse(readFileSync(resolve(root, ".cache/demo-sources/products.json"), "utf8"));
  const rows = SHOP.map((id) => demo.products.find((p) => p.id === id));
  const csv = ["id,name,category,image", ...rows.map((p) => [p.id, p.name, p.category, p.image].join(","))];
  const products = resolve(scratch, "garden-shop.csv");
  writeFileSync(products, csv.join("\n") + "\n");
  return {
    XDG_DATA_HOME: resolve(scratch, "data"),
    XDG_CONFIG_HOME: resolve(scratch, "config"),
    LOOKALIKE_E2E_PICKS: JSON.stringify([resolve(root, ".cache/demo-sources/images"), products]),
    // WebKit's own mock camera stands in for a webcam (src-tauri/src/camera.rs)
    LOOKALIKE_E2E_CAMERA: "mock",
  };
}

before(async () => {
  assert.ok(existsSync(app), `app binary missing: ${app} (scripts/test-desktop.sh builds it)`);
  assert.ok(existsSync(driverBin), `tauri-driver missing: ${driverBin}`);
  // piped, not inherited: the app (the driver's grandchild) must not hold the runner's pipes
  driver = spawn(driverBin, ["--port", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...appEnv() },
  });
  driver.stdout.pipe(process.stdout);
  driver.stderr.pipe(process.stderr);
  await waitFor("tauri-driver", async () => (await fetch(`${base}/status`)).ok, 20_000);
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: app } } },
  });
  session = created.sessionId;
});

after(async () => {
  if (session) await wd("DELETE", s("")).catch(() => {});
  driver?.kill();
  // WebKitWebDriver starts the app and, once in a while, leaves it running after the session
  // ends; it would hold this run's output pipes open and the test runner would wait forever
  await sleep(1000);
  spawnSync("pkill", ["-KILL", "-f", `^${app}`]);
  driver?.stdout.destroy();
  driver?.stderr.destroy();
});

test("a sample product in the empty state is searched through the real IPC and finds itself", async (t) => {
  t.after(() => screenshot("99-last-state-sample").catch(() => {}));
  const samples = await waitFor("the samples", async () => {
    const ids = await run("return [...document.querySelectorAll('#samples .sample')].map((b) => b.dataset.id)");
    return ids.length >= 3 && ids;
  });
  await waitFor("their thumbnails", () =>
    run("return [...document.querySelectorAll('#samples img')].every((i) => i.complete && i.naturalWidth > 0)"),
  );
  await sleep(500); // the web view's snapshot lags a paint behind the DOM
  await screenshot("00-samples");
  // the thumbnail's bytes come back from `product_photo` as a raw answer, then are searched
  const buttons = await wd("POST", s("/elements"), { using: "css selector", value: "#samples .sample" });
  await wd("POST", s(`/element/${Object.values(buttons[1])[0]}/click`), {});
  const top = await waitFor("the sample's results", () =>
    run(`return document.querySelector('#results-panel')?.getAttribute('aria-busy') === 'false'
      && document.querySelector('#results-grid > li')?.dataset.id`),
  );
  assert.equal(top, samples[1], "the sample finds itself first");
  assert.equal(await run("return document.querySelector('#match')?.dataset.match"), "same");
  // back to the empty state for the next test
  await wd("POST", s("/refresh"), {});
  await waitFor("the empty state again", () => run("return !!document.querySelector('#samples')"));
});

test("a real product photo picked in the app finds that product first", async (t) => {
  t.after(() => screenshot("99-last-state").catch(() => {}));
  await engineReady();
  await screenshot("01-ready");
  const photo = resolve(root, ".cache/demo-sources/images/vendure-road-bike.jpg");
  assert.ok(existsSync(photo), "demo photo missing: run scripts/setup.sh");
  const input = await find("#pick-photo");
  await wd("POST", s(`/element/${input}/value`), { text: photo });
  const names = await waitFor("10 results", async () => {
    const n = await run(
      "return [...document.querySelectorAll('#results li[data-id]')].map(e => e.getAttribute('data-id'))",
    );
    return n.length >= 10 && n;
  });
  assert.equal(names.length, 10);
  assert.equal(names[0], "vendure-road-bike", `top result: ${names[0]}`);
  // thumbnails come by product id from the app's thumb: URI scheme (src-tauri/src/thumbs.rs)
  await waitFor("10 thumbnails to load", () =>
    run("return [...document.querySelectorAll('#results img')].filter(i => i.complete && i.naturalWidth > 0).length >= 10"),
    30_000,
  ).catch(() => {});
  const state = await run(`return {
    cutout: document.querySelector('#query #cutout-image')?.getAttribute('src')?.slice(0, 22) ?? '',
    cutoutLoaded: document.querySelector('#query #cutout-image')?.naturalWidth ?? 0,
    category: document.querySelector('#query')?.textContent ?? '',
    thumbs: [...document.querySelectorAll('#results img')].filter(i => i.complete && i.naturalWidth > 0).length,
    srcs: [...document.querySelectorAll('#results-grid > li img')].map(i => i.getAttribute('src')),
    ids: [...document.querySelectorAll('#results-grid > li')].map(li => li.dataset.id),
  }`);
  assert.equal(state.cutout, "data:image/png;base64,", "the cut-out is a PNG data URL");
  assert.ok(state.cutoutLoaded > 0, "the cut-out is shown");
  assert.match(state.category, /sports/i, "the detected category is shown");
  assert.ok(state.thumbs >= 10, `thumbnails rendered: ${state.thumbs}`);
  assert.equal(state.srcs.length, 10);
  state.srcs.forEach((src, i) => {
    const id = encodeURIComponent(state.ids[i]);
    assert.ok(
      src === `thumb://localhost/${id}` || src === `http://thumb.localhost/${id}`,
      `thumbnail ${i + 1} comes from the thumb: scheme by id: ${src}`,
    );
  });
  await screenshot("02-results");
});

test("tapping one object of a two-object photo searches it alone and finds it", async (t) => {
  t.after(() => screenshot("99-last-state-objects").catch(() => {}));
  await engineReady();
  // the tulip pot left, the lion statue right (tests/examples/two_objects.rs)
  const photo = resolve(root, "tests/fixtures/two-objects.jpg");
  const input = await find("#pick-photo");
  await wd("POST", s(`/element/${input}/value`), { text: photo });
  const top = () => run("return document.querySelector('#results-grid > li')?.dataset.id ?? ''");
  const busy = () => run("return document.querySelector('#results-panel')?.getAttribute('aria-busy')");
  const outlines = await waitFor("two object outlines", async () => {
    const o = await run(`return [...document.querySelectorAll(".object-outline")]
      .map((b) => parseFloat(b.style.left))`);
    return (await busy()) === "false" && o.length >= 2 && o;
  });
  assert.equal(await top(), "vendure-tulip-pot", "the whole photo: the larger-scoring object first");
  await screenshot("03-objects");
  // the right-hand object, tapped in the real webview: the engine searches its region alone
  const right = outlines.findIndex((left) => left > 50);
  assert.ok(right >= 0, `an object on the right: ${outlines}`);
  const buttons = await wd("POST", s("/elements"), { using: "css selector", value: ".object-outline" });
  const id = Object.values(buttons[right])[0];
  await wd("POST", s(`/element/${id}/click`), {});
  await waitFor("the lion statue first", async () => (await busy()) === "false" && (await top()) === "vendure-guardian-lion-statue");
  const state = await run(`return {
    pressed: document.querySelectorAll('.object-outline')[${right}].getAttribute('aria-pressed'),
    match: document.querySelector('#match')?.dataset.match,
    whole: !document.querySelector('#whole-photo').hidden,
  }`);
  assert.deepEqual(state, { pressed: "true", match: "same", whole: true });
  await screenshot("04-object-searched");
});

test("Take photo on the desktop opens the webcam in the real webview and searches its frame", async (t) => {
  t.after(() => screenshot("99-last-state-camera").catch(() => {}));
  await engineReady();
  const before = await run("return document.querySelector('#photo-image')?.getAttribute('src') ?? ''");
  await wd("POST", s(`/element/${await find("#take-photo-label")}/click`), {});
  // WebKitGTK's media stream is on and the app grants its page the camera (no microphone)
  const size = await waitFor("the live camera", async () => {
    const v = await run(`const v = document.querySelector('#camera-video');
      const d = document.querySelector('#camera');
      return { open: !!d?.open, w: v?.videoWidth ?? 0, h: v?.videoHeight ?? 0,
               alert: document.querySelector('#alert-box')?.textContent ?? '' }`);
    if (v.alert) throw new Error(`no camera: ${v.alert}`);
    return v.open && v.w > 0 && v;
  }, 30_000);
  await screenshot("05-camera");
  await wd("POST", s(`/element/${await find("#camera-take")}/click`), {});
  const shown = await waitFor("the frame searched", async () => {
    const r = await run(`return {
      busy: document.querySelector('#results-panel')?.getAttribute('aria-busy'),
      cards: document.querySelectorAll('#results-grid > li[data-id]').length,
      src: document.querySelector('#photo-image')?.getAttribute('src') ?? '',
      w: document.querySelector('#photo-image')?.naturalWidth ?? 0,
      h: document.querySelector('#photo-image')?.naturalHeight ?? 0,
      stream: !!document.querySelector('#camera-video')?.srcObject,
    }`);
    return r.busy === "false" && r.cards > 0 && r.src !== before && r.w > 0 && r;
  });
  assert.deepEqual([shown.w, shown.h], [size.w, size.h], "the photo searched is the camera's frame");
  assert.equal(shown.stream, false, "the camera is let go once the dialog closes");
  await screenshot("06-camera-searched");
});

test("the real webview's CSP blocks remote fetches, remote images, inline scripts and eval", async (t) => {
  await waitFor("the UI", () => run("return document.readyState === 'complete'"));
  // A refusal by the CSP fires `securitypolicyviolation`; a network failure (this machine has no
  // internet) does not. So every probe must both fail AND be reported as a violation.
  await run(`
    const probe = { violations: [], fetch: null, img: null, inline: false, eval: null };
    window.__cspProbe = probe;
    document.addEventListener('securitypolicyviolation', (e) => probe.violations.push({
      directive: e.effectiveDirective || e.violatedDirective, uri: e.blockedURI,
    }));
    fetch('https://example.com/lookalike-csp-probe').then(
      () => { probe.fetch = 'loaded'; },
      (e) => { probe.fetch = 'rejected: ' + e; });
    const img = new Image();
    img.id = 'csp-probe-img';
    img.onload = () => { probe.img = 'loaded'; };
    img.onerror = () => { probe.img = 'error'; };
    img.src = 'https://example.com/lookalike-csp-probe.png';
    document.body.appendChild(img);
    const s = document.createElement('script');
    s.textContent = 'window.__cspProbe.inline = true;';
    document.head.appendChild(s);
    try { window.eval('1 + 1'); probe.eval = 'ran'; } catch (e) { probe.eval = 'blocked: ' + e.name; }
    return true;
  `);
  const probe = await waitFor("the probes to settle", async () => {
    const p = await run("return window.__cspProbe");
    return p.fetch !== null && p.img !== null && p.violations.length >= 4 && p;
  }, 15_000).catch(async (e) => {
    throw new Error(`${e.message}; probe: ${JSON.stringify(await run("return window.__cspProbe"))}`);
  });
  await run("document.getElementById('csp-probe-img')?.remove(); return true");
  const seen = (directive, uri) =>
    probe.violations.some((v) => v.directive.startsWith(directive) && (uri === undefined || v.uri.startsWith(uri)));
  const detail = JSON.stringify(probe);
  t.diagnostic(`CSP probe: ${detail}`);
  assert.match(probe.fetch, /^rejected/, `remote fetch: ${detail}`);
  assert.ok(seen("connect-src", "https://example.com"), `the remote fetch was refused by the CSP: ${detail}`);
  assert.equal(probe.img, "error", `remote image: ${detail}`);
  assert.ok(seen("img-src", "https://example.com"), `the remote image was refused by the CSP: ${detail}`);
  assert.equal(probe.inline, false, `an injected inline script ran: ${detail}`);
  assert.ok(seen("script-src"), `the inline script was refused by the CSP: ${detail}`);
  assert.match(probe.eval, /^blocked/, `eval: ${detail}`);
});

test("a catalog built in the Catalogs panel is switched to and searched", async (t) => {
  t.after(() => screenshot("30-catalogs-last-state").catch(() => {}));
  await engineReady();
  const demoLine = await run("return document.querySelector('#catalog-line').textContent");
  await wd("POST", s(`/element/${await find("#catalogs-toggle")}/click`), {});
  await waitFor("the panel", () => run("return !document.querySelector('#catalogs').hidden"));
  // the dialogs answer with the images folder and garden-shop.csv (LOOKALIKE_E2E_PICKS)
  await wd("POST", s(`/element/${await find("#catalog-build")}/click`), {});
  const seen = new Set();
  const done = await waitFor("the build's progress to reach the end", async () => {
    const p = await run(`const p = document.querySelector('#catalog-progress');
      return { value: Number(p?.value ?? 0), max: Number(p?.max ?? 0),
               report: document.querySelector('#catalog-report')?.textContent ?? '' }`);
    if (p.max) seen.add(`${p.value}/${p.max}`);
    return p.report && p;
  }, 120_000);
  t.diagnostic(`progress seen: ${[...seen].join(" ")}; report: ${done.report}`);
  assert.equal(done.max, SHOP.length, "the bar counts the products");
  assert.equal(done.value, done.max, "the bar reached the end");
  assert.match(done.report, /3 products/, done.report);
  await screenshot("31-catalog-built");
  const line = await waitFor("the header to show the new catalog", () =>
    run("return document.querySelector('#catalog-line').textContent").then((l) => l !== demoLine && l),
  );
  assert.match(line, /3 products/, line);
  const saved = await run("return [...document.querySelectorAll('#catalog-saved li[data-name]')].map(li => li.dataset.name)");
  assert.deepEqual(saved, ["garden-shop"]);

  // a search now runs on the new catalog
  const photo = resolve(root, ".cache/demo-sources/images/vendure-spiky-cactus.jpg");
  const input = await find("#pick-photo");
  await wd("POST", s(`/element/${input}/value`), { text: photo });
  const ids = await waitFor("results from the new catalog", async () => {
    const n = await run("return [...document.querySelectorAll('#results li[data-id]')].map(e => e.dataset.id)");
    return n.length > 0 && n;
  });
  assert.equal(ids[0], "vendure-spiky-cactus", `top result: ${ids[0]}`);
  assert.ok(ids.every((id) => SHOP.includes(id)), `only the new catalog's products: ${ids}`);

  // the health report of the catalog in use
  await wd("POST", s(`/element/${await find("#catalog-health-run")}/click`), {});
  const rows = await waitFor("the health report", () =>
    run("return [...document.querySelectorAll('#health-confusion tbody tr[data-category]')].map(r => r.dataset.category)")
      .then((r) => r.length > 0 && r),
    120_000,
  );
  assert.equal(rows.length, 3, `one confusion row per category of the new catalog: ${rows}`);
  await screenshot("32-catalog-health");
});

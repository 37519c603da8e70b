// examples/web-app as a Vite app: the packed package installed offline, a production build
// (`vite build`), the built dist/ served on its own and classifying in headless Chromium.
// The wasm and the glue must come out as hashed assets in dist/, and nothing may be asked
// of any other host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, ROOT } from '../browser/harness.mjs';

const EXAMPLE = join(ROOT, 'examples/web-app');
const VITE = join(ROOT, 'node_modules/vite/bin/vite.js');
const CHILD = { encoding: 'utf8', timeout: 180_000, killSignal: 'SIGKILL', stdio: 'pipe' };
const DEADLINE = { timeout: 120_000 };
let app;
let env;

before(() => {
  assert.ok(existsSync(join(ROOT, 'web/pkg/intent_web_bg.wasm')), 'run ./build.sh wasm first');
  assert.ok(existsSync(join(ROOT, 'models/default/model.safetensors')), 'train models/default first');
  assert.ok(existsSync(VITE), 'npm ci first (vite is a devDependency)');
  app = mkdtempSync(join(tmpdir(), 'intent-vite-app-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', app], { ...CHILD, cwd: join(ROOT, 'web') }),
  );
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-vite-app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(app, packed[0].filename)], { ...CHILD, cwd: app });
  for (const f of readdirSync(EXAMPLE)) cpSync(join(EXAMPLE, f), join(app, f), { recursive: true });
  // Vite copies public/ into dist/ as it is: the bundle's files keep their names.
  cpSync(join(ROOT, 'models/default'), join(app, 'public/models/default'), { recursive: true });
  const log = execFileSync(process.execPath, [VITE, 'build', '--mode', 'production', '--logLevel', 'warn'], { ...CHILD, cwd: app });
  if (log.trim()) console.log(log.replace(/^/gm, '# vite: '));
});
after(async () => {
  await env?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

test('vite build emits the wasm builds and the glue as hashed assets', () => {
  const assets = readdirSync(join(app, 'dist/assets'));
  assert.ok(assets.some((f) => /^intent_web_bg-[\w-]+\.wasm$/.test(f)), `no hashed wasm in dist/assets: ${assets}`);
  assert.ok(!existsSync(join(app, 'dist/node_modules')), 'dist/ must not need node_modules');
});

test('the built app classifies in Chromium, asking nothing of other hosts', DEADLINE, async () => {
  env = await launch({ root: join(app, 'dist') });
  const page = await env.browser.newPage();
  const errors = [];
  const foreign = [];
  const requested = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname !== '127.0.0.1') {
      foreign.push(url.href);
      return route.abort();
    }
    requested.push(url.pathname);
    return route.continue();
  });
  await page.goto(`${env.baseUrl}index.html`);
  await page.waitForFunction(() => document.querySelector('#query').placeholder.startsWith('Try'), null, { timeout: 60_000 });
  await page.fill('#query', 'set a timer for ten minutes');
  await page.waitForFunction(() => document.querySelector('#intent').textContent !== '', null, { timeout: 30_000 });
  assert.match(await page.textContent('#intent'), /^timer \(\d+%\)$/);
  await page.fill('#query', 'what is the meaning of life and love');
  await page.waitForFunction(() => document.querySelector('#intent').textContent === 'unknown', null, { timeout: 30_000 });
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
  assert.ok(requested.some((p) => /^\/assets\/intent_web_bg-[\w-]+\.wasm$/.test(p)), `wasm not from dist/assets: ${requested}`);
});

test('a wasm asset that is not WebAssembly fails with a message naming its URL', DEADLINE, async () => {
  // What a misconfigured bundler or server produces: a page where the wasm should be.
  const assets = join(app, 'dist/assets');
  for (const f of readdirSync(assets).filter((f) => f.endsWith('.wasm'))) {
    writeFileSync(join(assets, f), '<!doctype html><html><body>index</body></html>');
  }
  env ??= await launch({ root: join(app, 'dist') });
  const page = await env.browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${env.baseUrl}index.html`);
  // The load fails inside the worker; main.js's top-level await turns it into a page error.
  const deadline = Date.now() + 30_000;
  while (!errors.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(errors.length, 1, `page errors: ${errors}`);
  assert.match(errors[0], /\/assets\/intent_web_bg-[\w-]+\.wasm is not WebAssembly \(it starts with "<!doctype html>/);
});

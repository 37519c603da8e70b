// The npm package as an app developer gets it: `npm pack`, install the tarball offline
// into a fresh plain-ES-module app (examples/web-app, the README's example), serve it,
// classify in Chromium. Also: the README's code block is examples/web-app/main.js verbatim.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEADLINE, launch, ROOT, LIMIT } from './harness.mjs';

const EXAMPLE = join(ROOT, 'examples/web-app');
let app;
let tarball;
let env;

/** `npm ARGS`, killed (and the test failed, naming the command) past DEADLINE.action. */
function npm(args, options) {
  try {
    return execFileSync('npm', args, { ...options, timeout: DEADLINE.action, killSignal: 'SIGKILL' });
  } catch (e) {
    if (e.code === 'ETIMEDOUT') throw new Error(`timed out after ${DEADLINE.action / 1000} s waiting for npm ${args.join(' ')}`);
    throw e;
  }
}

before(() => {
  assert.ok(existsSync(join(ROOT, 'web/pkg/intent_web_bg.wasm')), 'run ./build.sh wasm first');
  app = mkdtempSync(join(tmpdir(), 'intent-app-'));
  const packed = JSON.parse(
    npm(['pack', '--json', '--pack-destination', app], { cwd: join(ROOT, 'web'), encoding: 'utf8' }),
  );
  tarball = { path: join(app, packed[0].filename), files: packed[0].files.map((f) => f.path), size: packed[0].size };
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
  // --offline: everything must come from the tarball (it has no dependencies).
  npm(['install', '--offline', '--no-audit', '--no-fund', tarball.path], { cwd: app, stdio: 'pipe' });
  cpSync(join(EXAMPLE, 'index.html'), join(app, 'index.html'));
  cpSync(join(EXAMPLE, 'main.js'), join(app, 'main.js'));
  mkdirSync(join(app, 'models'));
  cpSync(join(ROOT, 'models/default'), join(app, 'models/default'), { recursive: true });
});
after(async () => {
  await env?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

test('npm pack bundles the JS, the types and both wasm builds, and nothing else', LIMIT, () => {
  for (const f of ['classifier.js', 'classifier.d.ts', 'worker.js', 'package.json',
    'pkg/intent_web.js', 'pkg/intent_web_bg.wasm', 'pkg-relaxed/intent_web.js', 'pkg-relaxed/intent_web_bg.wasm']) {
    assert.ok(tarball.files.includes(f), `${f} missing from the tarball: ${tarball.files}`);
  }
  assert.ok(!tarball.files.some((f) => /demo|serve/.test(f)), `demo files packed: ${tarball.files}`);
  const installed = join(app, 'node_modules/intent-classifier');
  assert.equal(statSync(join(installed, 'pkg/intent_web_bg.wasm')).size, statSync(join(ROOT, 'web/pkg/intent_web_bg.wasm')).size);
  console.log(`# package: ${(tarball.size / 1024).toFixed(0)} KiB packed, ${tarball.files.length} files`);
});

test('a fresh app with the installed package classifies in Chromium', LIMIT, async () => {
  env = await launch({ root: app });
  const page = await env.browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const requested = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  await page.goto(`${env.baseUrl}index.html`);
  await page.waitForFunction(() => document.querySelector('#query').placeholder.startsWith('Try'));
  await page.fill('#query', 'set a timer for ten minutes');
  await page.waitForFunction(() => document.querySelector('#intent').textContent !== '');
  assert.match(await page.textContent('#intent'), /^timer \(\d+%\)$/);
  await page.fill('#query', 'what is the meaning of life and love');
  await page.waitForFunction(() => document.querySelector('#intent').textContent === 'unknown');
  assert.deepEqual(errors, []);
  assert.ok(requested.some((p) => p.startsWith('/node_modules/intent-classifier/pkg')), `wasm not from the package: ${requested}`);
});

test("the README's example is examples/web-app/main.js verbatim", LIMIT, () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it in your app'));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'no ```js block under "## Use it in your app"');
  assert.equal(block, readFileSync(join(EXAMPLE, 'main.js'), 'utf8'));
});

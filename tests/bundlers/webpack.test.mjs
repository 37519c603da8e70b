// examples/web-app built with webpack 5 (its Node API, production mode) from the packed
// package, served from the output directory alone and classifying in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, ROOT } from '../browser/harness.mjs';

const EXAMPLE = join(ROOT, 'examples/web-app');
const CHILD = { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL', stdio: 'pipe' };
const DEADLINE = { timeout: 120_000 };
let app;
let env;

// The build runs in a child process so that a stuck compiler meets the deadline too.
const BUILD = `
  import webpack from 'webpack';
  const [context, dist] = process.argv.slice(1);
  webpack({
    mode: 'production',
    context,
    entry: './main.js',
    output: { path: dist, filename: '[name].[contenthash].js', assetModuleFilename: 'assets/[name]-[contenthash][ext]' },
    performance: { hints: false },
  }, (err, stats) => {
    if (err || stats.hasErrors()) {
      console.error(err?.message ?? stats.toString({ all: false, errors: true }));
      process.exit(1);
    }
    console.log(JSON.stringify(stats.toJson({ all: false, assets: true }).assets.map((a) => a.name)));
  });
`;

let emitted;
before(() => {
  assert.ok(existsSync(join(ROOT, 'web/pkg/intent_web_bg.wasm')), 'run ./build.sh wasm first');
  assert.ok(existsSync(join(ROOT, 'models/default/model.safetensors')), 'train models/default first');
  assert.ok(existsSync(join(ROOT, 'node_modules/webpack')), 'npm ci first (webpack is a devDependency)');
  app = mkdtempSync(join(tmpdir(), 'intent-webpack-app-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', app], { ...CHILD, cwd: join(ROOT, 'web') }),
  );
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-webpack-app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(app, packed[0].filename)], { ...CHILD, cwd: app });
  cpSync(join(EXAMPLE, 'main.js'), join(app, 'main.js'));
  const dist = join(app, 'dist');
  emitted = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', BUILD, app, dist], { ...CHILD, cwd: ROOT }));
  // The page: the example's, with the bundle in place of the import map and the module.
  const html = readFileSync(join(EXAMPLE, 'index.html'), 'utf8')
    .replace(/<script type="importmap">[\s\S]*?<\/script>\s*/, '')
    .replace('<script type="module" src="main.js"></script>', `<script src="${emitted.find((a) => /^main\..*\.js$/.test(a))}"></script>`);
  writeFileSync(join(dist, 'index.html'), html);
  cpSync(join(ROOT, 'models/default'), join(dist, 'models/default'), { recursive: true });
});
after(async () => {
  await env?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

test('webpack emits the wasm builds as hashed assets', () => {
  assert.ok(emitted.some((f) => /^assets\/intent_web_bg-\w+\.wasm$/.test(f)), `no hashed wasm: ${emitted}`);
  assert.ok(readdirSync(join(app, 'dist')).length > 2);
});

test('the webpack-built app classifies in Chromium, asking nothing of other hosts', DEADLINE, async () => {
  env = await launch({ root: join(app, 'dist') });
  const page = await env.browser.newPage();
  const errors = [];
  const foreign = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.route('**/*', (route) => {
    if (new URL(route.request().url()).hostname === '127.0.0.1') return route.continue();
    foreign.push(route.request().url());
    return route.abort();
  });
  await page.goto(`${env.baseUrl}index.html`);
  await page
    .waitForFunction(() => document.querySelector('#query').placeholder.startsWith('Try'), null, { timeout: 60_000 })
    .catch((e) => assert.fail(`the model did not load: ${errors.join('; ') || e.message}`));
  await page.fill('#query', 'set a timer for ten minutes');
  await page.waitForFunction(() => document.querySelector('#intent').textContent !== '', null, { timeout: 30_000 });
  assert.match(await page.textContent('#intent'), /^timer \(\d+%\)$/);
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
});

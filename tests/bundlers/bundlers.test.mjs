// examples/web-app built with the bundlers people use, each with no configuration file:
// Vite 6, 7 and 8 (`vite build`) and webpack 5 (`webpack ./main.js`), from the packed package
// installed offline into one app. Each build's output is served on its own and classifies in
// headless Chromium, in a worker (the example's mode) and on the page (`?on-page`, which the
// test's copy of main.js reads), asking nothing of other hosts and fetching exactly one wasm
// build, a hashed asset. The bundlers' versions are pinned in tests/bundlers/package.json.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEADLINE, LIMIT, launch, ROOT } from '../browser/harness.mjs';

const EXAMPLE = join(ROOT, 'examples/web-app');
const MODULES = join(ROOT, 'tests/bundlers/node_modules');
const CHILD = { encoding: 'utf8', timeout: 180_000, killSignal: 'SIGKILL', stdio: 'pipe' };

// Vite names assets name-hash.ext under assets/; webpack with no config names them hash.ext.
const VITE_WASM = /^\/assets\/intent_(encoder_)?web_bg-[\w-]+\.wasm$/;
const BUNDLERS = [
  { name: 'vite 6', pkg: 'vite6', major: 6, cli: 'bin/vite.js', args: ['build'], wasm: VITE_WASM },
  { name: 'vite 7', pkg: 'vite7', major: 7, cli: 'bin/vite.js', args: ['build'], wasm: VITE_WASM },
  { name: 'vite 8', pkg: 'vite8', major: 8, cli: 'bin/vite.js', args: ['build'], wasm: VITE_WASM },
  {
    name: 'webpack 5',
    pkg: 'webpack',
    major: 5,
    cli: '../webpack-cli/bin/cli.js',
    args: ['./main.js', '--mode', 'production'],
    wasm: /^\/[0-9a-f]{16,}\.wasm$/,
    // webpack builds scripts, not pages: the example's page, with the bundle in place of the
    // import map and the module.
    page: (html) => {
      const page = html
        .replace(/<script type="importmap">[\s\S]*?<\/script>\s*/, '')
        .replace('<script type="module" src="main.js"></script>', '<script defer src="main.js"></script>');
      assert.ok(!page.includes('importmap') && page.includes('<script defer src="main.js">'), `examples/web-app/index.html changed shape:\n${page}`);
      return page;
    },
  },
];

// The wasm builds the package ships, by content, so that a hashed asset can be named.
const BUILDS = { simd128: 'pkg/intent_web_bg.wasm', relaxed: 'pkg-relaxed/intent_web_bg.wasm', encoder: 'pkg-encoder/intent_encoder_web_bg.wasm' };
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
let buildOfHash;

let app;
before(() => {
  for (const f of Object.values(BUILDS)) assert.ok(existsSync(join(ROOT, 'web', f)), `web/${f} is missing: run ./build.sh wasm first`);
  assert.ok(existsSync(join(ROOT, 'models/default/model.safetensors')), 'models/default is missing: train it first (./build.sh)');
  buildOfHash = new Map(Object.entries(BUILDS).map(([build, f]) => [sha256(readFileSync(join(ROOT, 'web', f))), build]));
  app = mkdtempSync(join(tmpdir(), 'intent-bundlers-app-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', app], { ...CHILD, cwd: join(ROOT, 'web') }),
  );
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(app, packed[0].filename)], { ...CHILD, cwd: app });
  for (const f of readdirSync(EXAMPLE)) cpSync(join(EXAMPLE, f), join(app, f), { recursive: true });
  // One app for both modes: the example runs in a worker, `?on-page` runs it on the page.
  const main = readFileSync(join(EXAMPLE, 'main.js'), 'utf8');
  const both = main.replace('{ worker: true }', "{ worker: !location.search.includes('on-page') }");
  assert.notEqual(both, main, 'examples/web-app/main.js no longer calls loadClassifier with { worker: true }');
  writeFileSync(join(app, 'main.js'), both);
  // Vite copies public/ into its output as it is; webpack's gets a copy below.
  cpSync(join(ROOT, 'models/default'), join(app, 'public/models/default'), { recursive: true });
});
after(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

for (const bundler of BUNDLERS) {
  describe(bundler.name, () => {
    let dist;
    let env;

    before(() => {
      const home = join(MODULES, bundler.pkg);
      assert.ok(existsSync(join(home, 'package.json')), `${home} is missing: npm ci --prefix tests/bundlers`);
      const { version } = JSON.parse(readFileSync(join(home, 'package.json'), 'utf8'));
      assert.equal(Number(version.split('.')[0]), bundler.major, `tests/bundlers/node_modules/${bundler.pkg} is ${version}`);
      const started = performance.now();
      try {
        execFileSync(process.execPath, [join(home, bundler.cli), ...bundler.args], { ...CHILD, cwd: app });
      } catch (e) {
        if (e.code === 'ETIMEDOUT') throw new Error(`${bundler.name} ${version}: the build took over ${CHILD.timeout / 1000} s`);
        throw new Error(`${bundler.name} ${version}: the build failed:\n${e.stdout}\n${e.stderr}`);
      }
      console.log(`${bundler.name} (${version}): built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      // Each bundler writes dist/; keep this one's apart.
      dist = join(app, `dist-${bundler.pkg}`);
      renameSync(join(app, 'dist'), dist);
      if (bundler.page) {
        writeFileSync(join(dist, 'index.html'), bundler.page(readFileSync(join(EXAMPLE, 'index.html'), 'utf8')));
        cpSync(join(ROOT, 'models/default'), join(dist, 'models/default'), { recursive: true });
      }
    });
    after(async () => {
      await env?.close();
    });

    test('emits every wasm build as a hashed asset, needing no node_modules', () => {
      const wasm = readdirSync(dist, { recursive: true }).map((f) => `/${f}`).filter((f) => f.endsWith('.wasm'));
      for (const f of wasm) assert.match(f, bundler.wasm, `an unhashed wasm in the output: ${wasm}`);
      const emitted = new Set(wasm.map((f) => buildOfHash.get(sha256(readFileSync(join(dist, f))))));
      assert.deepEqual([...emitted].sort(), Object.keys(BUILDS).sort(), `the wasm files emitted: ${wasm}`);
      assert.ok(!existsSync(join(dist, 'node_modules')), 'the output must not need node_modules');
    });

    for (const [mode, query] of [['in a worker', ''], ['on the page', '?on-page']]) {
      test(`classifies ${mode} in Chromium, fetching one wasm build and nothing from other hosts`, LIMIT, async () => {
        env ??= await launch({ root: dist });
        const page = await env.browser.newPage();
        const errors = [];
        const foreign = [];
        const requested = [];
        // The first error ends the waits below: the page will not get any further.
        const failed = new Promise((_, reject) => {
          const fail = (message) => {
            errors.push(message);
            reject(new Error(`${bundler.name} ${mode}: ${message}`));
          };
          page.on('pageerror', (e) => fail(String(e)));
          page.on('console', (m) => m.type() === 'error' && fail(m.text()));
        });
        failed.catch(() => {});
        const until = (fn) => Promise.race([page.waitForFunction(fn, null, { timeout: DEADLINE.action }), failed]);
        await page.route('**/*', (route) => {
          const url = new URL(route.request().url());
          if (url.hostname !== '127.0.0.1') {
            foreign.push(url.href);
            return route.abort();
          }
          requested.push(url.pathname);
          return route.continue();
        });
        await page.goto(`${env.baseUrl}index.html${query}`);
        await until(() => document.querySelector('#query').placeholder.startsWith('Try'));
        await page.fill('#query', 'set a timer for ten minutes');
        await until(() => document.querySelector('#intent').textContent !== '');
        assert.match(await page.textContent('#intent'), /^timer \(\d+%\)$/);
        await page.fill('#query', 'what is the meaning of life and love');
        await until(() => document.querySelector('#intent').textContent === 'unknown');
        await page.close();
        assert.deepEqual(errors, []);
        assert.deepEqual(foreign, []);
        const wasm = requested.filter((p) => p.endsWith('.wasm'));
        assert.equal(wasm.length, 1, `expected one wasm request, got: ${wasm}`);
        assert.match(wasm[0], bundler.wasm, `the wasm is not a hashed asset: ${wasm[0]}`);
        const build = buildOfHash.get(sha256(readFileSync(join(dist, wasm[0]))));
        assert.ok(build === 'relaxed' || build === 'simd128', `${wasm[0]} is the ${build} build`);
        console.log(`${bundler.name} ${mode}: ${requested.length} requests, the ${build} build`);
      });
    }

    test('a wasm asset that is not WebAssembly fails with a message naming its URL', LIMIT, async () => {
      // What a misconfigured server produces: a page where the wasm should be.
      const wasm = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.wasm'));
      for (const f of wasm) writeFileSync(join(dist, f), '<!doctype html><html><body>index</body></html>');
      env ??= await launch({ root: dist });
      const page = await env.browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${env.baseUrl}index.html`);
      // The page compiles the wasm for its worker; main.js's top-level await makes the
      // failure a page error.
      const deadline = Date.now() + DEADLINE.action;
      while (!errors.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await page.close();
      assert.equal(errors.length, 1, `page errors: ${errors}`);
      const path = bundler.wasm.source.replace(/^\^|\$$/g, '');
      assert.match(errors[0], new RegExp(`${path} is not WebAssembly \\(it starts with "<!doctype html>`));
    });
  });
}

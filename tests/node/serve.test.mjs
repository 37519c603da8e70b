// web/serve.mjs while `./build.sh serve` still builds wasm modules: a stand-in directory's
// file is sent for one that is not built yet, a module still being built answers 503 with a
// message, and neither lets a request out of the root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../web/serve.mjs';
import { DEADLINE } from './helpers.mjs';

let root;
let server;
let base;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'intent-serve-'));
  mkdirSync(join(root, 'web/pkg'), { recursive: true });
  writeFileSync(join(root, 'web/pkg/glue.js'), 'simd128 glue');
  writeFileSync(join(root, 'secret.txt'), 'outside the stand-in');
  server = await startServer({
    port: 0,
    root,
    standIns: [['web/pkg-relaxed', 'web/pkg']],
    building: ['web/pkg-train'],
  });
  base = `http://127.0.0.1:${server.address().port}/`;
});
after(() => {
  server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

const get = (path) => fetch(new URL(path, base), { signal: AbortSignal.timeout(10_000) });

test('a module not built yet is served from its stand-in, a built one from itself', DEADLINE, async () => {
  const standIn = await get('web/pkg-relaxed/glue.js');
  assert.equal(standIn.status, 200);
  assert.equal(await standIn.text(), 'simd128 glue');

  mkdirSync(join(root, 'web/pkg-relaxed'));
  writeFileSync(join(root, 'web/pkg-relaxed/glue.js'), 'relaxed glue');
  assert.equal(await (await get('web/pkg-relaxed/glue.js')).text(), 'relaxed glue');
});

test('a module still being built answers 503 saying so; once built, its file', DEADLINE, async () => {
  const pending = await get('web/pkg-train/train_bg.wasm');
  assert.equal(pending.status, 503);
  assert.match(await pending.text(), /web\/pkg-train\/train_bg\.wasm is still being built by \.\/build\.sh serve/);

  mkdirSync(join(root, 'web/pkg-train'));
  writeFileSync(join(root, 'web/pkg-train/train_bg.wasm'), 'wasm');
  assert.equal((await get('web/pkg-train/train_bg.wasm')).status, 200);
});

test('files missing elsewhere are still 404, and a stand-in never reaches outside the root', DEADLINE, async () => {
  assert.equal((await get('web/other/glue.js')).status, 404);
  // Normalized before the stand-in applies: this is /secret.txt under the root, not ../secret.txt.
  const dotted = await get('web/pkg-relaxed/%2e%2e/%2e%2e/%2e%2e/secret.txt');
  assert.notEqual(await dotted.text(), 'simd128 glue');
  assert.equal((await get('web/pkg-relaxed/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd')).status, 404);
});

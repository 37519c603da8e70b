// The package in Node: bundles read from disk by path or file: URL, the same numbers as
// the native forward pass, the worker_threads mode, and errors that name the file.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEADLINE, MODEL_DIR, ROOT, requireBuilt } from './helpers.mjs';

let loadClassifier;
before(async () => {
  requireBuilt();
  ({ loadClassifier } = await import('../../web/node.js'));
});

test('Node numbers equal the native forward pass within 1e-4', DEADLINE, async () => {
  const native = JSON.parse(readFileSync(join(ROOT, 'target/parity-native.json'), 'utf8'));
  assert.ok(native.length >= 50, `only ${native.length} parity inputs`);
  for (const kernel of ['simd128', 'relaxed']) {
    if (kernel === 'relaxed' && !WebAssembly.validate(RELAXED_PROBE)) {
      console.log('# this Node has no relaxed SIMD: only the simd128 build is compared');
      continue;
    }
    const clf = await loadClassifier(MODEL_DIR, { kernel });
    let worst = 0;
    for (const n of native) {
      assert.deepEqual(Array.from(clf.tokenIds(n.text)), n.ids, `token ids differ for ${JSON.stringify(n.text)}`);
      const logits = clf.logits(n.text);
      n.logits.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - logits[j]))));
      const r = clf.classify(n.text);
      assert.equal(r.intent, n.result.intent, `intent differs for ${JSON.stringify(n.text)}`);
      assert.ok(Math.abs(r.energy - n.result.energy) < 1e-4, `energy differs for ${JSON.stringify(n.text)}`);
    }
    assert.ok(worst < 1e-4, `${kernel}: largest logit difference ${worst}`);
    console.log(`# ${kernel}: largest logit difference ${worst.toExponential(2)} over ${native.length} texts`);
    clf.dispose();
  }
});

// The probe classifier.js uses (one f32x4.relaxed_madd).
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0,
  253, 17, 65, 0, 253, 17, 65, 0, 253, 17, 253, 133, 2, 11,
]);

test('a directory path, a relative path, a path without the slash and a file: URL all load', DEADLINE, async () => {
  const want = JSON.stringify((await loadClassifier(MODEL_DIR)).classify('set a timer for ten minutes'));
  for (const location of [
    `${MODEL_DIR}/`,
    relative(process.cwd(), MODEL_DIR) || '.',
    pathToFileURL(MODEL_DIR).href,
    pathToFileURL(`${MODEL_DIR}/`),
  ]) {
    const clf = await loadClassifier(location);
    assert.equal(JSON.stringify(clf.classify('set a timer for ten minutes')), want, `${location}`);
    assert.deepEqual(clf.info().cached, [], 'no Cache API in Node');
    clf.dispose();
  }
});

test('{ worker: true } runs in worker_threads with the same answers as Promises', DEADLINE, async () => {
  const direct = await loadClassifier(MODEL_DIR);
  const threaded = await loadClassifier(MODEL_DIR, { worker: true });
  try {
    const texts = ['set a timer for ten minutes', 'what is the meaning of life and love', ''];
    const pending = threaded.classify(texts[0]);
    assert.ok(pending instanceof Promise);
    assert.deepEqual(await pending, direct.classify(texts[0]));
    assert.deepEqual(await threaded.classifyBatch(texts), direct.classifyBatch(texts));
    assert.deepEqual(Array.from(await threaded.logits(texts[1])), Array.from(direct.logits(texts[1])));
    assert.deepEqual((await threaded.info()).labels, direct.info().labels);
  } finally {
    threaded.dispose();
    direct.dispose();
  }
  await assert.rejects(threaded.classify('x'), /disposed/);
});

test('a missing or corrupt file is an error naming its path, also from a worker', DEADLINE, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'intent-bundle-'));
  try {
    cpSync(join(MODEL_DIR, 'model.safetensors'), join(dir, 'model.safetensors'));
    cpSync(join(MODEL_DIR, 'tokenizer.json'), join(dir, 'tokenizer.json'));
    const missing = join(dir, 'table.safetensors');
    for (const worker of [false, true]) {
      await assert.rejects(loadClassifier(dir, { worker }), (e) => {
        assert.ok(e.message.includes(missing), e.message);
        assert.match(e.message, /table\.safetensors.*no such file/);
        return true;
      });
    }
    await assert.rejects(loadClassifier(join(dir, 'nowhere')), /model\.safetensors: cannot read .*nowhere/);
    writeFileSync(missing, 'not a safetensors file');
    await assert.rejects(loadClassifier(dir), /table\.safetensors/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Node rejects a location that is not a bundle place with a clear message', DEADLINE, async () => {
  await assert.rejects(loadClassifier('hf:not a repo'), /expected a Hub id like hf:user\/repo/);
  await assert.rejects(loadClassifier(MODEL_DIR, { kernel: 'avx' }), /kernel: expected 'relaxed' or 'simd128'/);
});

test('a wasm file that is not WebAssembly (a bundler or server swapped it) is named in the error', DEADLINE, async () => {
  const copy = mkdtempSync(join(tmpdir(), 'intent-package-'));
  try {
    cpSync(join(ROOT, 'web'), copy, { recursive: true, filter: (p) => !p.includes('node_modules') });
    const wasm = join(copy, 'pkg/intent_web_bg.wasm');
    writeFileSync(wasm, '<!doctype html><html><body>Not found</body></html>');
    const fresh = await import(pathToFileURL(join(copy, 'node.js')).href);
    await assert.rejects(fresh.loadClassifier(MODEL_DIR, { kernel: 'simd128' }), (e) => {
      assert.ok(e.message.includes(pathToFileURL(wasm).href), e.message);
      assert.match(e.message, /is not WebAssembly \(it starts with "<!doctype html>/);
      assert.match(e.message, /asset\/resource/);
      return true;
    });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

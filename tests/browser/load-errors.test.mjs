// Broken bundles in a real browser: loadClassifier rejects with an Error naming the file,
// and the wasm module keeps working afterwards (no panic, no trap).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openDemo, ROOT, LIMIT } from './harness.mjs';

const GOOD = join(ROOT, 'models/default');
const BAD = join(ROOT, 'target/bad-bundles');

function variant(name, change) {
  const dir = join(BAD, name);
  mkdirSync(dir, { recursive: true });
  cpSync(GOOD, dir, { recursive: true });
  change(dir);
  return `target/bad-bundles/${name}/`;
}

const CASES = [
  ['missing model', (d) => rmSync(join(d, 'model.safetensors')), /model\.safetensors: HTTP 404/],
  ['HTML page as tokenizer', (d) => writeFileSync(join(d, 'tokenizer.json'), '<!doctype html><h1>Oops</h1>'), /tokenizer\.json: .*sha256/],
  ['HTML page as model', (d) => writeFileSync(join(d, 'model.safetensors'), '<!doctype html><h1>Oops</h1>'), /model\.safetensors: not a safetensors file/],
  ['empty table', (d) => writeFileSync(join(d, 'table.safetensors'), ''), /table\.safetensors: sha256/],
  ['tampered table', (d) => {
    const bytes = readFileSync(join(d, 'table.safetensors'));
    bytes[bytes.length - 1] ^= 0x55;
    writeFileSync(join(d, 'table.safetensors'), bytes);
  }, /table\.safetensors: sha256/],
  ['truncated model', (d) => {
    const bytes = readFileSync(join(d, 'model.safetensors'));
    writeFileSync(join(d, 'model.safetensors'), bytes.subarray(0, bytes.length >> 1));
  }, /model\.safetensors: not a safetensors file/],
];

// The native fault table (crates/model/tests/bundle_faults.rs) writes each broken bundle and
// faults.json; here the same bundles go through fetch + wasm. One list, two places.
const FAULTS_DIR = join(ROOT, 'target/bundle-faults');
const FAULTS = JSON.parse(readFileSync(join(FAULTS_DIR, 'faults.json'), 'utf8'));

let env;
let demo;
before(async () => {
  rmSync(BAD, { recursive: true, force: true });
  env = await launch();
  demo = await openDemo(env, '?worker=1');
});
after(async () => {
  await env?.close();
  rmSync(BAD, { recursive: true, force: true });
});

async function tryLoad(url) {
  return demo.page.evaluate(async (u) => {
    const { loadClassifier } = await import('/web/classifier.js');
    try {
      const clf = await loadClassifier(u);
      clf.dispose();
      return { loaded: true };
    } catch (e) {
      return { isError: e instanceof Error, message: e.message };
    }
  }, url);
}

test('the native fault table has at least 12 faults', LIMIT, () => {
  assert.ok(FAULTS.length >= 12, `${FAULTS.length} faults`);
});

for (const fault of FAULTS) {
  test(`native fault "${fault.name}" is refused in the browser, naming ${fault.file}`, LIMIT, async () => {
    const outcome = await tryLoad(`target/bundle-faults/${fault.dir}/`);
    assert.equal(outcome.loaded, undefined, 'the broken bundle loaded');
    assert.ok(outcome.isError, 'rejects with an Error');
    assert.ok(outcome.message.startsWith(`${fault.file}: `), outcome.message);
    for (const w of fault.words) assert.ok(outcome.message.includes(w), `${outcome.message} lacks ${w}`);
    const r = await demo.page.evaluate(() => window.classify('set a timer for 5 minutes'));
    assert.equal(r.intent, 'timer');
  });
}

test('the valid tiny bundle of the fault table loads in the browser', LIMIT, async () => {
  // Guards against the faults failing for a reason of their own (e.g. a bad URL).
  assert.deepEqual(await tryLoad('target/bundle-faults/valid/'), { loaded: true });
});

for (const [name, change, pattern] of CASES) {
  test(`a bundle with ${name} is refused with a clear Error`, LIMIT, async () => {
    const url = variant(name.replace(/\W+/g, '-'), change);
    const outcome = await demo.page.evaluate(async (u) => {
      const { loadClassifier } = await import('/web/classifier.js');
      try {
        await loadClassifier(u);
        return { loaded: true };
      } catch (e) {
        return { isError: e instanceof Error, message: e.message };
      }
    }, url);
    assert.equal(outcome.loaded, undefined, 'the broken bundle loaded');
    assert.ok(outcome.isError, 'rejects with an Error');
    assert.match(outcome.message, pattern);
    // The page's own classifier still works.
    const r = await demo.page.evaluate(() => window.classify('set a timer for 5 minutes'));
    assert.equal(r.intent, 'timer');
  });
}

// Offline: table and tokenizer are kept in the Cache API under their sha256, so a second
// visit fetches neither and only revalidates model.safetensors (304); a new model version (new hashes) is picked up and never mixed
// with the old files. Requests are counted at the server (page and worker alike).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { launch, ROOT, LIMIT } from './harness.mjs';

const DIR = join(ROOT, 'target/cache-test');
const URL_DIR = 'target/cache-test/model/'; // from the site root
const MODEL_URL = `/${URL_DIR}`;
let env;
let requests = [];

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  cpSync(join(ROOT, 'models/default'), join(DIR, 'model'), { recursive: true });
  env = await launch();
  env.server.on('request', (req, res) => {
    const entry = { path: new URL(req.url, 'http://x').pathname };
    requests.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });
  });
});
after(async () => {
  await env?.close();
  rmSync(DIR, { recursive: true, force: true });
});

// A fresh page (same browser profile, so the same Cache Storage) loads the model.
async function visit(worker) {
  requests = [];
  const page = await env.browser.newPage();
  await page.goto(`${env.baseUrl}tests/browser/blank.html`);
  const out = await page.evaluate(async ([url, w]) => {
    const { loadClassifier } = await import('/web/classifier.js');
    const clf = await loadClassifier(url, { worker: w });
    const r = await clf.classify('set a timer for ten minutes');
    const info = await clf.info();
    clf.dispose();
    return { intent: r.intent, energy: r.energy, cached: info.cached, labels: info.labels };
  }, [MODEL_URL, worker]);
  await page.close();
  const of = (name) => requests.filter((r) => r.path === `/${URL_DIR}${name}`);
  const fetched = (name) => of(name).length;
  return {
    ...out,
    fetched: { model: fetched('model.safetensors'), table: fetched('table.safetensors'), tokenizer: fetched('tokenizer.json') },
    modelStatus: of('model.safetensors').map((r) => r.status),
  };
}

// Rewrites model.safetensors' metadata (the tensors stay as they are).
function editModelMetadata(change) {
  const path = join(DIR, 'model/model.safetensors');
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  change(header.__metadata__);
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([head, Buffer.from(json), bytes.subarray(8 + n)]));
}

test('the second visit fetches neither table nor tokenizer, on the page and in a worker', LIMIT, async () => {
  const first = await visit(false);
  assert.deepEqual(first.fetched, { model: 1, table: 1, tokenizer: 1 });
  assert.deepEqual(first.cached, []);
  assert.equal(first.intent, 'timer');
  for (const worker of [false, true]) {
    const again = await visit(worker);
    assert.deepEqual(again.fetched, { model: 1, table: 0, tokenizer: 0 }, `worker: ${worker}`);
    // model.safetensors is only revalidated: 304, no body.
    assert.deepEqual(again.modelStatus, [304], `worker: ${worker}`);
    assert.deepEqual(again.cached.sort(), ['table.safetensors', 'tokenizer.json']);
    assert.equal(again.energy, first.energy);
  }
});

test('a new model version is picked up, its changed file fetched, the old one dropped', LIMIT, async () => {
  // Version 2: a relabelled model with a reformatted tokenizer.json (new sha256).
  const tokPath = join(DIR, 'model/tokenizer.json');
  const tokenizer = JSON.stringify(JSON.parse(readFileSync(tokPath, 'utf8')), null, 1);
  writeFileSync(tokPath, tokenizer);
  editModelMetadata((m) => {
    m.labels = JSON.stringify(JSON.parse(m.labels).map((l) => (l === 'timer' ? 'countdown' : l)));
    m.tokenizer_sha256 = createHash('sha256').update(tokenizer).digest('hex');
  });
  const v2 = await visit(true);
  assert.equal(v2.intent, 'countdown', 'the new model is used');
  assert.deepEqual(v2.fetched, { model: 1, table: 0, tokenizer: 1 });
  assert.deepEqual(v2.modelStatus, [200], 'the changed model is downloaded');
  assert.deepEqual(v2.cached, ['table.safetensors']);
  const again = await visit(false);
  assert.deepEqual(again.fetched, { model: 1, table: 0, tokenizer: 0 });
  assert.equal(again.intent, 'countdown');
  // One tokenizer entry is left: the new one.
  const page = await env.browser.newPage();
  await page.goto(`${env.baseUrl}tests/browser/blank.html`);
  const keys = await page.evaluate(async () => (await (await caches.open('intent-classifier-v1')).keys()).map((r) => r.url));
  await page.close();
  const tokKeys = keys.filter((k) => k.includes('/cache-test/model/tokenizer.json'));
  assert.equal(tokKeys.length, 1, JSON.stringify(keys));
  assert.ok(tokKeys[0].endsWith(createHash('sha256').update(tokenizer).digest('hex')));
});

test('cache: false fetches every file', LIMIT, async () => {
  requests = [];
  const page = await env.browser.newPage();
  await page.goto(`${env.baseUrl}tests/browser/blank.html`);
  await page.evaluate(async (url) => {
    const { loadClassifier } = await import('/web/classifier.js');
    (await loadClassifier(url, { cache: false })).dispose();
  }, MODEL_URL);
  await page.close();
  for (const f of ['model.safetensors', 'table.safetensors', 'tokenizer.json']) {
    assert.ok(requests.some((r) => r.path === `/${URL_DIR}${f}`), `${f} not fetched`);
  }
});

// The sentence-encoder kind in Node: the same numbers as the native trainer on the same
// texts, page and worker modes alike, and errors that name the file. The bundle is a tiny
// generated BERT (build.sh's native_references), so no downloaded encoder is needed.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEADLINE, ROOT, requireBuilt } from './helpers.mjs';

const BUNDLE = join(ROOT, 'target/encoder-parity');
const NATIVE = join(ROOT, 'target/parity-native-encoder.json');

let loadClassifier;
before(async () => {
  requireBuilt();
  assert.ok(existsSync(join(ROOT, 'web/pkg-encoder/intent_encoder_web_bg.wasm')), 'run ./build.sh wasm first (web/pkg-encoder is missing)');
  assert.ok(existsSync(NATIVE), `${NATIVE} is missing: ./build.sh test makes it (native_references)`);
  ({ loadClassifier } = await import('../../web/node.js'));
});

test('sentence-encoder numbers in Node equal the native trainer within 1e-4', DEADLINE, async () => {
  const native = JSON.parse(readFileSync(NATIVE, 'utf8'));
  assert.ok(native.length >= 50, `only ${native.length} parity inputs`);
  const clf = await loadClassifier(BUNDLE);
  const info = clf.info();
  assert.equal(info.kind, 'sentence-encoder-intent');
  assert.ok(info.bytes.encoder > 0 && info.bytes.table === undefined, JSON.stringify(info.bytes));
  let worst = 0;
  for (const n of native) {
    assert.deepEqual(Array.from(clf.tokenIds(n.text)), n.ids, `token ids differ for ${JSON.stringify(n.text)}`);
    const logits = clf.logits(n.text);
    assert.equal(logits.length, info.labels.length);
    n.logits.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - logits[j]))));
    const r = clf.classify(n.text);
    assert.equal(r.intent, n.result.intent, `intent differs for ${JSON.stringify(n.text)}`);
    assert.ok(Math.abs(r.energy - n.result.energy) < 1e-4, `energy differs for ${JSON.stringify(n.text)}`);
  }
  assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
  console.log(`# largest logit difference ${worst.toExponential(2)} over ${native.length} texts`);

  // Odd input: results, never a trap.
  for (const text of ['', ' ', '🙂', 'x'.repeat(100_000), '\u0000\uFFFF']) {
    const r = clf.classify(text);
    assert.ok(Number.isFinite(r.energy) && Number.isFinite(r.confidence), JSON.stringify(text.slice(0, 9)));
  }
  assert.throws(() => clf.logitsForIds([1, 2]), /sentence-encoder model reads text/);
  assert.throws(() => clf.classify('timer', { evidence: true }), /`evidence` explains a TextCNN/);
  clf.dispose();
});

test('a sentence-encoder bundle in a worker gives the page results', DEADLINE, async () => {
  const texts = ['set a timer for five minutes', 'weather tomorrow', 'who painted the mona lisa', ''];
  const page = await loadClassifier(BUNDLE);
  const worker = await loadClassifier(BUNDLE, { worker: true });
  try {
    assert.deepEqual(await worker.classifyBatch(texts, { topK: 2 }), page.classifyBatch(texts, { topK: 2 }));
    assert.equal((await worker.info()).kind, 'sentence-encoder-intent');
  } finally {
    page.dispose();
    worker.dispose();
  }
});

test('a changed or missing encoder file is named in the error', DEADLINE, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'encoder-bundle-'));
  try {
    cpSync(BUNDLE, dir, { recursive: true });
    const encoder = readFileSync(join(dir, 'encoder.safetensors'));
    encoder[encoder.length - 1] ^= 1;
    writeFileSync(join(dir, 'encoder.safetensors'), encoder);
    await assert.rejects(loadClassifier(dir), /encoder\.safetensors: sha256 is/);
    rmSync(join(dir, 'encoder.safetensors'));
    await assert.rejects(loadClassifier(dir), /encoder\.safetensors/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

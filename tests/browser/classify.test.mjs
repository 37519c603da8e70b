// The demo page in headless Chromium: loads cleanly, classifies held-out queries, equals
// the native forward pass, and survives odd input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openDemo, ROOT, LIMIT } from './harness.mjs';

const expected = JSON.parse(readFileSync(join(ROOT, 'tests/browser/expected.json'), 'utf8'));
const nativePath = join(ROOT, 'target/parity-native.json');

let env;
// The page with the model on the main thread (synchronous calls; the worker mode is
// tested against it in features.test.mjs).
let demo; // relaxed-SIMD build where the browser has it
let plain; // the same page forced onto the SIMD128-only build
before(async () => {
  env = await launch();
  demo = await openDemo(env, '?worker=0');
  plain = await openDemo(env, '?kernel=simd128&worker=0');
});
after(async () => env?.close());

test('the demo page loads the model with no console error', LIMIT, async () => {
  const info = await demo.page.evaluate(async () => (await window.classifierReady).info());
  assert.ok(info.labels.length >= 8, `labels: ${info.labels}`);
  assert.equal(info.kernel, 'simd128+relaxed', 'Chromium runs relaxed SIMD');
  const plainInfo = await plain.page.evaluate(async () => (await window.classifierReady).info());
  assert.equal(plainInfo.kernel, 'simd128');
  assert.deepEqual(demo.errors, []);
  assert.deepEqual(plain.errors, []);
  // Typing shows a result.
  await demo.page.fill('#query', 'set a timer for ten minutes');
  await demo.page.waitForFunction(() => document.getElementById('intent').textContent !== '…');
  assert.equal(await demo.page.textContent('#intent'), 'timer');
});

test('held-out queries get their intent, off-topic ones come back unknown', LIMIT, async () => {
  const known = await demo.page.evaluate(
    (items) => Promise.all(items.map(([text]) => window.classify(text))),
    expected.known,
  );
  const correct = known.filter((r, i) => r.intent === expected.known[i][1]);
  const misses = known
    .map((r, i) => [expected.known[i][0], expected.known[i][1], r.intent])
    .filter(([, want, got]) => want !== got);
  assert.ok(expected.known.length >= 20);
  assert.ok(correct.length >= 20, `misses: ${JSON.stringify(misses)}`);

  const unknown = await demo.page.evaluate(
    (texts) => Promise.all(texts.map((t) => window.classify(t))),
    expected.unknown,
  );
  const rejected = unknown.filter((r) => r.intent === 'unknown' && r.known === false);
  const accepted = unknown.filter((r) => r.known).map((r, i) => `${expected.unknown[i]} -> ${r.intent}`);
  assert.ok(rejected.length >= 10, `accepted as known: ${accepted}`);
});

test('the result object is self-describing', LIMIT, async () => {
  const r = await demo.page.evaluate(() => window.classify('base64 encode hello', { topK: 4 }));
  assert.deepEqual(Object.keys(r).sort(), ['confidence', 'energy', 'intent', 'known', 'threshold', 'top']);
  assert.equal(r.top.length, 4);
  assert.equal(r.top[0].probability, r.confidence);
  assert.ok(r.top.every((t, i) => i === 0 || t.probability <= r.top[i - 1].probability));
  const flipped = await demo.page.evaluate((e) => window.classify('base64 encode hello', { threshold: e - 1 }), r.energy);
  assert.equal(flipped.known, false);
  assert.equal(flipped.intent, 'unknown');
  const batch = await demo.page.evaluate(async () => (await window.classifierReady).classifyBatch(['timer 5 min', 'hello there']));
  assert.equal(batch.length, 2);
});

const builds = [
  ['relaxed-SIMD', () => demo.page],
  ['SIMD128', () => plain.page],
];
for (const [name, page] of builds) {
  test(`browser numbers (${name} build) equal the native forward pass within 1e-4`, LIMIT, async () => {
    const native = JSON.parse(readFileSync(nativePath, 'utf8'));
    assert.ok(native.length >= 50, `only ${native.length} parity inputs`);
    const browser = await page().evaluate(async (texts) => {
      const clf = await window.classifierReady;
      return texts.map((t) => ({ ids: Array.from(clf.tokenIds(t)), logits: Array.from(clf.logits(t)), result: clf.classify(t) }));
    }, native.map((n) => n.text));
    let worst = 0;
    native.forEach((n, i) => {
      const b = browser[i];
      assert.deepEqual(b.ids, n.ids, `token ids differ for ${JSON.stringify(n.text)}`);
      n.logits.forEach((v, j) => {
        worst = Math.max(worst, Math.abs(v - b.logits[j]));
      });
      assert.equal(b.result.intent, n.result.intent, `intent differs for ${JSON.stringify(n.text)}`);
      assert.ok(Math.abs(b.result.energy - n.result.energy) < 1e-4, `energy differs for ${JSON.stringify(n.text)}`);
    });
    assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
  });
}

const ODD = JSON.parse(readFileSync(join(ROOT, 'tests/odd-queries.json'), 'utf8'));

test(`${ODD.length} odd queries (tests/odd-queries.json) return valid results without throwing`, LIMIT, async () => {
  assert.ok(ODD.length >= 20);
  const results = await demo.page.evaluate(async (list) => {
    const clf = await window.classifierReady;
    const labels = clf.info().labels;
    const out = [];
    for (const q of list) {
      let text = q.unit.repeat(q.repeat);
      if (q.lone_surrogate) text = text.slice(0, text.length >> 1) + '\uD800' + text.slice(text.length >> 1);
      try {
        const r = clf.classify(text);
        out.push([q.name, r, r.intent === 'unknown' || labels.includes(r.intent)]);
      } catch (e) {
        out.push([q.name, { thrown: String(e) }, false]);
      }
    }
    return out;
  }, ODD);
  for (const [name, r, validIntent] of results) {
    assert.ok(validIntent, `${name}: ${JSON.stringify(r)}`);
    assert.ok(Number.isFinite(r.energy) && Number.isFinite(r.confidence), `${name}: ${JSON.stringify(r)}`);
    assert.ok(r.confidence >= 0 && r.confidence <= 1, `${name}: ${JSON.stringify(r)}`);
  }
  // Texts that are not strings are refused: tests/odd-arguments.json in features.test.mjs.
  assert.deepEqual(demo.errors, []);
});

test('a typo is read as the training word it is one edit from, and the page says so', LIMIT, async () => {
  // Misspellings the everyday data does not contain (it has "wether" and "tomorow" itself).
  const typed = 'weathr forcast tomorrw';
  const r = await demo.page.evaluate((t) => window.classify(t), typed);
  assert.equal(r.repaired, 'weather forecast tomorrow');
  assert.equal(r.intent, 'weather');
  const spelt = await demo.page.evaluate(() => window.classify('weather forecast tomorrow'));
  assert.equal(spelt.repaired, undefined);
  assert.equal(r.energy, spelt.energy);
  await demo.page.fill('#query', typed);
  await demo.page.waitForFunction(() => document.getElementById('confidence').textContent.includes('read as'), null, {
    timeout: 10_000,
  });
  assert.match(await demo.page.textContent('#confidence'), /read as “weather forecast tomorrow”/);
});

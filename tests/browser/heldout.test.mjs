// The default model (examples/everyday) on queries written for this test and never trained
// on (examples/everyday/heldout.json): paraphrases and typos of the ten intents, and unknown
// queries from the same domains. Also the model card's honesty about its own figures, the
// calibrated confidence, and suggestion chips taken from the model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openDemo, ROOT } from './harness.mjs';

const heldout = JSON.parse(readFileSync(join(ROOT, 'examples/everyday/heldout.json'), 'utf8'));
const training = JSON.parse(readFileSync(join(ROOT, 'examples/everyday/data.json'), 'utf8'));

let env;
let demo;
before(async () => {
  env = await launch();
  demo = await openDemo(env, '?worker=0');
});
after(async () => env?.close());

// Measured with target/release/trainer logits on the default model trained from the committed
// data (default flags): 59 of 60 known queries right, 30 of 32 unknown ones rejected. The bars
// leave room for a retrain, not for a model that has stopped reading typos.
const HELD_OUT_KNOWN = 0.9;
const HELD_OUT_UNKNOWN = 0.8;

const classifyAll = (texts) => demo.page.evaluate((ts) => Promise.all(ts.map((t) => window.classify(t))), texts);

test('held-out queries, typos included, get their intent', async () => {
  const results = await classifyAll(heldout.known.map((k) => k.text));
  const misses = heldout.known
    .map(({ text, intent }, i) => [text, intent, results[i].intent])
    .filter(([, want, got]) => want !== got);
  assert.ok(heldout.known.length >= 50, `${heldout.known.length} held-out queries`);
  const right = heldout.known.length - misses.length;
  assert.ok(right >= HELD_OUT_KNOWN * heldout.known.length, `${right}/${heldout.known.length}, misses: ${JSON.stringify(misses)}`);
});

test('the two queries of the bug report land on their intents', async () => {
  const [weather, alarm] = await classifyAll(['wether tomorow', 'remind me to call mom at 5pm']);
  assert.equal(weather.intent, 'weather', JSON.stringify(weather));
  assert.equal(alarm.intent, 'alarm', JSON.stringify(alarm));
});

test('unknown held-out queries, near-misses included, come back unknown', async () => {
  const results = await classifyAll(heldout.unknown);
  const accepted = heldout.unknown.map((t, i) => [t, results[i]]).filter(([, r]) => r.known);
  assert.ok(heldout.unknown.length >= 30);
  const rejected = heldout.unknown.length - accepted.length;
  assert.ok(
    rejected >= HELD_OUT_UNKNOWN * heldout.unknown.length,
    `${rejected}/${heldout.unknown.length}, accepted: ${accepted.map(([t, r]) => `${t} -> ${r.intent}`)}`,
  );
});

test('confidence is softmax(logits / T) with the bundle temperature, and the page says so', async () => {
  const info = await demo.page.evaluate(async () => (await window.classifierReady).info());
  const t = info.metrics.calibration.temperature;
  assert.ok(Number.isFinite(t) && t > 0, `temperature ${t}`);
  assert.ok(info.metrics.calibration.test.after <= info.metrics.calibration.test.before, JSON.stringify(info.metrics.calibration));
  const texts = heldout.known.map((k) => k.text);
  const rows = await demo.page.evaluate(async (ts) => {
    const clf = await window.classifierReady;
    return ts.map((x) => ({ logits: Array.from(clf.logits(x)), result: clf.classify(x) }));
  }, texts);
  for (const { logits, result } of rows) {
    const max = Math.max(...logits);
    const exps = logits.map((z) => Math.exp((z - max) / t));
    const want = Math.max(...exps) / exps.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(result.confidence - want) < 1e-5, `${result.confidence} vs ${want}`);
    assert.equal(result.confidence, result.top[0].probability);
  }
  await demo.page.fill('#query', 'wether tomorow');
  await demo.page.waitForFunction(() => /calibrated/.test(document.getElementById('confidence').textContent));
});

test('the model card gives the size of the split and calls its figures optimistic', async () => {
  const info = await demo.page.evaluate(async () => (await window.classifierReady).info());
  const split = info.metrics.test.split;
  assert.equal(split.intents, 10);
  assert.ok(split.sentences >= 100 && split.negatives >= 40, JSON.stringify(split));
  assert.equal(split.from_training_file, true);
  assert.equal(split.optimistic, true);
  const card = await demo.page.textContent('#card');
  for (const s of [`${split.sentences} sentences of 10 intents`, 'cut from the training file', 'optimistic', 'temperature']) {
    assert.ok(card.includes(s), `card lacks "${s}": ${card}`);
  }
});

test("the suggestion chips are the model's own training sentences, and clicking one classifies it", async () => {
  const chips = await demo.page.$$eval('#examples .chip', (els) => els.map((e) => e.textContent));
  const intentOf = new Map(Object.entries(training).flatMap(([intent, texts]) => texts.map((t) => [t, intent])));
  const known = chips.filter((c) => intentOf.has(c));
  assert.ok(known.length >= 5, `chips: ${chips}`);
  await demo.page.click(`#examples .chip >> nth=0`);
  await demo.page.waitForFunction((want) => document.getElementById('intent').textContent === want, intentOf.get(chips[0]));
});

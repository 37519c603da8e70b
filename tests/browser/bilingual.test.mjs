// The bilingual default model (multilingual-e5-small table, vocabulary pruned to 20k pieces)
// in headless Chromium: the pruned Unigram tokenizer loads in the wasm crate, English,
// Chinese and mixed held-out queries get their intents, off-topic ones in both languages
// come back unknown, and the numbers equal the native trainer's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openDemo, ROOT, LIMIT } from './harness.mjs';

const heldout = JSON.parse(readFileSync(join(ROOT, 'examples/bilingual/heldout.json'), 'utf8'));
const nativePath = join(ROOT, 'target/parity-native-bilingual.json');

const hasCjk = (s) => /[\u3400-\u9fff]/.test(s);
const hasLatin = (s) => /[A-Za-z]/.test(s);
const language = (s) => (hasCjk(s) && hasLatin(s) ? 'mixed' : hasCjk(s) ? 'zh' : 'en');

let env;
let demo;
before(async () => {
  env = await launch();
  demo = await openDemo(env, '?model=models/bilingual/&worker=0');
});
after(async () => env?.close());

test('the bilingual model loads with its pruned tokenizer and no console error', LIMIT, async () => {
  const info = await demo.page.evaluate(async () => (await window.classifierReady).info());
  assert.equal(info.vocabSize, 20000, JSON.stringify(info));
  assert.ok(info.labels.includes('weather') && info.labels.includes('base64'), `labels: ${info.labels}`);
  const tokens = await demo.page.evaluate(async () => (await window.classifierReady).tokenIds('今天天气怎么样'));
  assert.ok(tokens.length > 3, 'Chinese splits into pieces');
  assert.deepEqual(demo.errors, []);
  // Typing Chinese into the page shows the intent.
  await demo.page.fill('#query', '今天天气怎么样');
  await demo.page.waitForFunction(() => document.getElementById('intent').textContent === 'weather');
});

test('English, Chinese and mixed held-out queries get their intent', LIMIT, async () => {
  const results = await demo.page.evaluate(
    (items) => Promise.all(items.map(({ text }) => window.classify(text))),
    heldout.known,
  );
  const byLanguage = {};
  heldout.known.forEach(({ text, intent }, i) => {
    const l = (byLanguage[language(text)] ??= { right: 0, total: 0, misses: [] });
    l.total += 1;
    if (results[i].intent === intent) l.right += 1;
    else l.misses.push(`${text} -> ${results[i].intent} (want ${intent})`);
  });
  // At least 18 of 20 English, 15 of 18 Chinese and 8 of 11 mixed queries.
  for (const [lang, atLeast] of [['en', 0.85], ['zh', 0.8], ['mixed', 0.7]]) {
    const l = byLanguage[lang];
    assert.ok(l && l.total >= 10, `${lang}: ${JSON.stringify(l)}`);
    assert.ok(l.right >= atLeast * l.total, `${lang}: ${l.right}/${l.total}, misses ${JSON.stringify(l.misses)}`);
  }
});

test('off-topic queries in both languages come back unknown', LIMIT, async () => {
  const results = await demo.page.evaluate(
    (texts) => Promise.all(texts.map((t) => window.classify(t))),
    heldout.unknown,
  );
  for (const lang of ['en', 'zh']) {
    const mine = heldout.unknown.map((t, i) => [t, results[i]]).filter(([t]) => language(t) === lang);
    const accepted = mine.filter(([, r]) => r.known).map(([t, r]) => `${t} -> ${r.intent}`);
    assert.ok(mine.length >= 10, `${lang}: ${mine.length} unknown queries`);
    assert.ok(accepted.length <= 2, `${lang} accepted as known: ${accepted}`);
  }
});

test('bilingual browser numbers equal the native forward pass within 1e-4', LIMIT, async () => {
  const native = JSON.parse(readFileSync(nativePath, 'utf8'));
  assert.ok(native.length >= 80, `only ${native.length} parity inputs`);
  const browser = await demo.page.evaluate(async (texts) => {
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
  });
  assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
  assert.deepEqual(demo.errors, []);
});

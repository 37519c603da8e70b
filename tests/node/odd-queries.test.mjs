// Odd queries on the English demo model (tests/data/odd-queries.json): keyboard mash, emoji,
// code, chit-chat and other languages are answered unknown (or with an intent the set
// allows) at least as often as measured, text called unreadable is mostly unknown word
// pieces, text called unfamiliar shows nothing the model knows, and short queries that do
// name an intent (examples/everyday/heldout.json `short`) keep it. Figures and the command
// that measures them: bench/results/odd-queries.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEADLINE, MODEL_DIR, ROOT, requireBuilt } from './helpers.mjs';

// `node bench/odd-queries.mjs models/default` measured 219 of the 253 queries right (seeds
// 1, 2 and 7 of the same data: 225, 228, 221; the rest is code and chit-chat, which the
// energy judges against a threshold chosen on 130 validation sentences). The
// model is trained by build.sh with a fixed seed, but float sums in another order (other
// CPUs, thread counts) can move a query near the threshold across it; 3 points is about 8
// of the 253 queries, more than such reruns have moved.
const MEASURED = 219 / 253;
const MARGIN = 0.03;

let clf;
let score;
let readSet;
before(async () => {
  requireBuilt();
  ({ score, readSet } = await import('../../bench/odd-queries.mjs'));
  const { loadClassifier } = await import('../../web/node.js');
  clf = await loadClassifier(MODEL_DIR);
});
after(() => clf?.dispose());

test('the English model answers odd queries unknown at least as often as measured', DEADLINE, () => {
  const categories = score(clf, readSet('tests/data/odd-queries.json'), 'default');
  const right = categories.flatMap((c) => c.right);
  assert.ok(right.length >= 200, `${right.length} queries`);
  const rate = right.filter(Boolean).length / right.length;
  const wrong = categories.flatMap((c) => c.queries.filter((_, j) => !c.right[j]).map((q) => q.text));
  assert.ok(rate >= MEASURED - MARGIN, `rate ${rate.toFixed(3)} < ${MEASURED} - ${MARGIN}; wrong: ${wrong.join(' | ')}`);
});

test('text called unreadable is mostly unknown word pieces, and readable text is not called so', DEADLINE, () => {
  const tokenizer = JSON.parse(readFileSync(join(MODEL_DIR, 'tokenizer.json'), 'utf8'));
  const unknownId = tokenizer.model.vocab[tokenizer.model.unk_token];
  assert.equal(typeof unknownId, 'number', 'the tokenizer names its unknown token');
  // [CLS], [SEP] and the like; [UNK] is listed among them too, but it is a word piece.
  const special = new Set(tokenizer.added_tokens.filter((t) => t.special && t.id !== unknownId).map((t) => t.id));
  const unknownShare = (text) => {
    const pieces = [...clf.tokenIds(text)].filter((id) => !special.has(id));
    return pieces.filter((id) => id === unknownId).length / Math.max(1, pieces.length);
  };
  const set = readSet('tests/data/odd-queries.json');
  let unreadable = 0;
  for (const { queries, results } of score(clf, set, 'default')) {
    queries.forEach((q, j) => {
      const share = unknownShare(q.text);
      if (results[j].reason === 'unreadable') {
        unreadable += 1;
        assert.equal(results[j].known, false, q.text);
        assert.equal(results[j].intent, 'unknown', q.text);
        assert.ok(share > 0.5, `${q.text}: unreadable with ${share.toFixed(2)} unknown pieces`);
      } else {
        assert.ok(share <= 0.5, `${q.text}: ${share.toFixed(2)} unknown pieces, but read (${results[j].intent})`);
      }
    });
  }
  // Chinese, Japanese, Hindi, Korean and emoji are beyond the English table.
  assert.ok(unreadable >= 20, `only ${unreadable} queries called unreadable`);
  const chinese = clf.classify('今天天气怎么样');
  assert.deepEqual([chinese.intent, chinese.known, chinese.reason], ['unknown', false, 'unreadable']);
  const weather = clf.classify("what's the weather in paris tomorrow");
  assert.deepEqual([weather.intent, weather.known, weather.reason], ['weather', true, undefined]);
});

test('keyboard mash, lone digits and symbols are unknown as unfamiliar, whatever their energy', DEADLINE, () => {
  // The first queries of the bug report, and the sums a calculator intent is asked.
  for (const text of ['asdf', 'lkjh', 'aaaaaaa', 'asdkj qwpoe zmxn', '12345', 'x', '???', ':)']) {
    const r = clf.classify(text);
    assert.deepEqual([r.intent, r.known, r.reason], ['unknown', false, 'unfamiliar'], `${text}: ${JSON.stringify(r)}`);
  }
  for (const [text, intent] of [['2+2', 'calculator'], ['8 x 7', 'calculator'], ['wether tomorow', 'weather']]) {
    const r = clf.classify(text);
    assert.deepEqual([r.intent, r.reason], [intent, undefined], `${text}: ${JSON.stringify(r)}`);
  }
});

// 49 of the 50 measured right; the miss is `sqrt 144`, whose `sqrt` is neither a training
// word nor one the tokenizer has whole, so it is unfamiliar. Two misses leave room for a
// retrain, never for a rule that rejects short queries.
const SHORT_RIGHT = 48;

test('one- to three-word queries that name an intent keep it', DEADLINE, () => {
  const { short } = JSON.parse(readFileSync(join(ROOT, 'examples/everyday/heldout.json'), 'utf8'));
  assert.equal(short.length, 50);
  const results = clf.classifyBatch(short.map((q) => q.text));
  const misses = short.map((q, i) => [q.text, q.intent, results[i].intent, results[i].reason]).filter(([, want, got]) => want !== got);
  assert.ok(short.length - misses.length >= SHORT_RIGHT, `misses: ${JSON.stringify(misses)}`);
  for (const text of ['weather', 'timer 5 min', 'b64 hello', 'convert 5 km to miles']) {
    assert.ok(clf.classify(text).known, text);
  }
});

// Odd queries on the English demo model (tests/data/odd-queries.json): keyboard mash, emoji,
// code, chit-chat and other languages are answered unknown (or with an intent the set
// allows) at least as often as measured, and text called unreadable is mostly unknown
// word pieces. Figures and the command that measures them: bench/results/odd-queries.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEADLINE, MODEL_DIR, ROOT, requireBuilt } from './helpers.mjs';

// `node bench/odd-queries.mjs models/default` measured 141 of the 253 queries right. The
// model is trained by build.sh with a fixed seed, but float sums in another order (other
// CPUs, thread counts) can move a query near the threshold across it; 3 points is about 8
// of the 253 queries, more than such reruns have moved.
const MEASURED = 141 / 253;
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

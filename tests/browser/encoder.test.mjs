// The sentence-encoder kind in headless Chromium: the demo page loads a bundle of that kind
// (?model=), on the page and in a worker, and its logits equal the native trainer's on the
// same texts. The bundle is a tiny generated BERT (build.sh's native_references).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openDemo, ROOT, LIMIT } from './harness.mjs';

const native = JSON.parse(readFileSync(join(ROOT, 'target/parity-native-encoder.json'), 'utf8'));

let env;
before(async () => {
  env = await launch();
});
after(async () => env?.close());

for (const worker of [0, 1]) {
  test(`the demo runs a sentence-encoder bundle ${worker ? 'in a worker' : 'on the page'}, with the native numbers`, LIMIT, async () => {
    const demo = await openDemo(env, `?model=target/encoder-parity/&worker=${worker}`);
    const got = await demo.page.evaluate(async (texts) => {
      const clf = await window.classifierReady;
      const out = [];
      for (const t of texts) out.push({ logits: Array.from(await clf.logits(t)), result: await clf.classify(t) });
      return { out, info: await clf.info() };
    }, native.map((n) => n.text));
    assert.equal(got.info.kind, 'sentence-encoder-intent');
    let worst = 0;
    native.forEach((n, i) => {
      n.logits.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - got.out[i].logits[j]))));
      assert.equal(got.out[i].result.intent, n.result.intent, `intent differs for ${JSON.stringify(n.text)}`);
    });
    assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
    console.log(`# Chromium (${worker ? 'worker' : 'page'}): largest logit difference ${worst.toExponential(2)} over ${native.length} texts`);
    // The page draws the answer and a card that says what the model is.
    await demo.page.fill('#query', 'set a timer for five minutes');
    await demo.page.waitForFunction(() => document.getElementById('latency').textContent.endsWith('ms'));
    const card = await demo.page.evaluate(() => document.getElementById('card').textContent);
    assert.match(card, /sentence encoder \(32-dim vectors\)/);
    assert.match(card, /encoder \d+ KB/);
    // The page downloads this kind's files and wasm, and neither the TextCNN's table nor its
    // wasm (a worker imports every build's small JS glue statically; see web/worker.js).
    assert.deepEqual(demo.errors, []);
    const textCnnFiles = demo.requested.filter((p) => /table\.safetensors$|\/intent_web_bg\.wasm$/.test(p));
    assert.deepEqual(textCnnFiles, [], `the encoder page fetched the TextCNN's ${textCnnFiles}`);
    assert.ok(demo.requested.some((p) => p.endsWith('/pkg-encoder/intent_encoder_web_bg.wasm')), demo.requested.join('\n'));
    await demo.page.close();
  });
}

test('a second visit takes the encoder and tokenizer from the Cache API, checked by hash', LIMIT, async () => {
  const cached = [];
  for (let visit = 0; visit < 2; visit++) {
    const demo = await openDemo(env, '?model=target/encoder-parity/&worker=0');
    cached.push(await demo.page.evaluate(async () => (await window.classifierReady).info().cached));
    await demo.page.close();
  }
  assert.deepEqual(cached[1].sort(), ['encoder.safetensors', 'tokenizer.json'], `second visit: ${cached[1]}`);
});

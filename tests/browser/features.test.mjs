// The API beyond classify(): worker mode equals the page mode, the page stays responsive
// while typing, threshold control, the model card, evidence, dispose, argument checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openDemo, ROOT, LIMIT, DEADLINE } from './harness.mjs';

const expected = JSON.parse(readFileSync(join(ROOT, 'tests/browser/expected.json'), 'utf8'));
const parityTexts = JSON.parse(readFileSync(join(ROOT, 'tests/browser/parity-texts.json'), 'utf8'));
// Non-string texts: JS only (the Rust API takes &str, so the compiler refuses them there).
const ODD_ARGUMENTS = JSON.parse(readFileSync(join(ROOT, 'tests/odd-arguments.json'), 'utf8'));

let env;
let worker; // the demo with ?worker=1: the model in a module worker
let direct; // the demo as a visitor gets it: the model on the page
before(async () => {
  env = await launch();
  worker = await openDemo(env, '?worker=1');
  direct = await openDemo(env, '?worker=0');
});
after(async () => env?.close());

const TEXTS = [...expected.known.map(([t]) => t), ...expected.unknown, ...parityTexts.slice(0, 30), '', '🌦️ timer'];

test('worker mode gives exactly the results of the page mode', LIMIT, async () => {
  const run = (page, withEvidence) => page.evaluate(async ([texts, evidence]) => {
    const clf = await window.classifierReady;
    const out = [];
    for (const t of texts) out.push(await clf.classify(t, { topK: 4, evidence }));
    out.push(await clf.classifyBatch(texts.slice(0, 5)));
    out.push(Array.from(await clf.logits(texts[0])));
    return out;
  }, [TEXTS, withEvidence]);
  const isPromise = await worker.page.evaluate(async () => (await window.classifierReady).classify('x') instanceof Promise);
  assert.ok(isPromise, 'worker mode returns Promises');
  assert.deepEqual(await run(worker.page, false), await run(direct.page, false));
  assert.deepEqual(await run(worker.page, true), await run(direct.page, true));
  const [wi, di] = await Promise.all([worker, direct].map((d) => d.page.evaluate(async () => (await window.classifierReady).info())));
  for (const i of [wi, di]) { delete i.loadMs; delete i.loadStages; delete i.cached; }
  assert.deepEqual(wi, di);
  assert.deepEqual(worker.errors, []);
});

test('typing with the model in a worker keeps the main thread free', LIMIT, async () => {
  const typing = async (d) => {
    await d.page.fill('#query', '');
    await d.page.evaluate(() => Object.assign(window.responsiveness, { longestMs: 0, longTasks: 0, longestLongTaskMs: 0 }));
    await d.page.type('#query', 'what will the weather be like in oslo tomorrow', { delay: 15 });
    await d.page.waitForFunction(() => document.getElementById('intent').textContent === 'weather');
    return d.page.evaluate(() => ({ ...window.responsiveness, shown: document.getElementById('responsiveness').textContent }));
  };
  const w = await typing(worker);
  const p = await typing(direct);
  console.log(`# longest main-thread task while typing: worker ${w.longestMs.toFixed(2)} ms, page ${p.longestMs.toFixed(2)} ms; long tasks ${w.longTasks} / ${p.longTasks}`);
  assert.match(w.shown, /longest task \d+\.\d ms/);
  // Our handlers only post a message and draw; the model runs elsewhere.
  assert.ok(w.longestMs < 50, `longest main-thread task ${w.longestMs} ms`);
});

test('setThreshold flips known/unknown, and the slider does too', LIMIT, async () => {
  for (const d of [direct, worker]) {
    const out = await d.page.evaluate(async () => {
      const clf = await window.classifierReady;
      const text = 'set a timer for ten minutes';
      const before = await clf.classify(text);
      await clf.setThreshold(before.energy - 0.01);
      const strict = await clf.classify(text);
      const perCall = await clf.classify(text, { threshold: before.energy + 1 });
      const info = await clf.info();
      await clf.setThreshold(undefined);
      const restored = await clf.classify(text);
      let error;
      try {
        await clf.setThreshold(Number.NaN);
      } catch (e) {
        error = e instanceof RangeError && e.message;
      }
      return { before, strict, perCall, info, restored, error };
    });
    assert.equal(out.before.known, true);
    assert.equal(out.strict.known, false);
    assert.equal(out.strict.intent, 'unknown');
    assert.equal(out.perCall.known, true, 'a per-call threshold wins over setThreshold');
    assert.equal(out.info.threshold, out.before.energy - 0.01);
    assert.equal(out.info.modelThreshold, out.before.threshold);
    assert.deepEqual(out.restored, out.before);
    assert.equal(out.error, 'setThreshold: threshold must be a finite number, got NaN');
  }
  const page = worker.page;
  await page.fill('#query', 'set a timer for ten minutes');
  await page.waitForFunction(() => document.getElementById('intent').textContent === 'timer');
  const energy = (await page.evaluate(() => window.classify('set a timer for ten minutes'))).energy;
  const slide = (v) => page.$eval('#threshold', (el, value) => {
    el.value = String(value);
    el.dispatchEvent(new Event('input'));
  }, v);
  await slide(Math.floor(energy - 1));
  await page.waitForFunction(() => document.getElementById('intent').textContent === 'unknown');
  await slide(Math.ceil(energy + 1));
  await page.waitForFunction(() => document.getElementById('intent').textContent === 'timer');
});

test('info() is a model card, and the page shows it', LIMIT, async () => {
  const info = await worker.page.evaluate(async () => (await window.classifierReady).info());
  assert.ok(info.labels.includes('timer'));
  assert.equal(info.license, 'Apache-2.0');
  assert.match(info.embedding.source, /all-MiniLM-L6-v2/);
  assert.match(info.trainedAt, /^20\d\d-\d\d-\d\dT/);
  assert.ok(info.architecture.max_len > 0 && info.architecture.embed_dim > 0 && info.architecture.channels > 0);
  assert.equal(typeof info.metrics.test.auroc, 'number');
  for (const [role, file] of [['model', 'model.safetensors'], ['table', 'table.safetensors'], ['tokenizer', 'tokenizer.json']]) {
    assert.equal(info.bytes[role], statSync(join(ROOT, 'models/default', file)).size, role);
  }
  const card = await worker.page.textContent('#card');
  for (const s of ['Apache-2.0', 'AUROC', info.labels[0], 'tokens', 'table']) assert.ok(card.includes(s), `card lacks ${s}: ${card}`);
  // The trainer's evaluation plots, shown under the card.
  await worker.page.waitForFunction(() => [...document.querySelectorAll('#plots img')].every((i) => i.complete));
  const plots = await worker.page.$$eval('#plots img', (imgs) => imgs.map((i) => [new URL(i.src).pathname, i.naturalWidth]));
  assert.deepEqual(plots, [['/models/default/energy-histogram.svg', 640], ['/models/default/threshold-curve.svg', 640]]);
});

test('evidence: channel contributions add up to the logit, tokens map to the text', LIMIT, async () => {
  const text = 'Please set a TIMER for ten minutes';
  const r = await direct.page.evaluate(async (t) => {
    const clf = await window.classifierReady;
    return { r: clf.classify(t, { evidence: true }), logits: Array.from(clf.logits(t)), labels: clf.info().labels };
  }, text);
  const e = r.r.evidence;
  assert.equal(e.intent, r.r.top[0].intent);
  assert.equal(e.intent, 'timer');
  const logit = r.logits[r.labels.indexOf(e.intent)];
  const sum = e.channels.reduce((s, c) => s + c.contribution, e.bias);
  assert.ok(Math.abs(sum - logit) < 1e-3, `bias + channels ${sum} vs logit ${logit}`);
  assert.ok(Math.abs(e.logit - logit) < 1e-4);
  const words = e.tokens.filter((t) => t.end > t.start);
  for (const t of words) assert.equal(text.slice(t.start, t.end).toLowerCase(), t.token.replace(/^##/, ''));
  const timer = words.find((t) => t.token === 'timer');
  const best = [...words].sort((a, b) => b.contribution - a.contribution)[0];
  assert.ok(timer.contribution > 0, JSON.stringify(words));
  assert.ok(['timer', 'ten', 'minutes'].includes(best.token), `strongest token ${best.token}`);
  assert.ok(words.filter((t) => ['please', 'a', 'for'].includes(t.token)).every((t) => t.contribution < timer.contribution));
  // The page highlights it.
  await worker.page.fill('#query', text);
  await worker.page.waitForFunction(() => document.querySelectorAll('#evidence mark').length > 0);
  const marks = await worker.page.$$eval('#evidence mark', (ms) => ms.map((m) => [m.textContent, Number(m.dataset.contribution)]));
  assert.ok(marks.some(([t, c]) => t === 'TIMER' && c > 0), JSON.stringify(marks));
  const plain = await direct.page.evaluate(async () => Object.keys((await window.classifierReady).classify('timer')));
  assert.ok(!plain.includes('evidence'), 'no evidence unless asked');
});

test('dispose: later calls fail with an Error, in both modes; worker load errors name the file', LIMIT, async () => {
  for (const mode of [false, true]) {
    const out = await direct.page.evaluate(async (w) => {
      const { loadClassifier } = await import('/web/classifier.js');
      const clf = await loadClassifier('models/default/', { worker: w });
      const ok = (await clf.classify('timer 5 min')).intent;
      clf.dispose();
      try {
        await clf.classify('timer 5 min');
        return { ok };
      } catch (e) {
        return { ok, error: e instanceof Error && e.message };
      }
    }, mode);
    assert.equal(out.ok, 'timer');
    assert.match(out.error, /disposed/);
  }
  const before = direct.errors.length;
  const failed = await direct.page.evaluate(async () => {
    const { loadClassifier } = await import('/web/classifier.js');
    try {
      await loadClassifier('target/no-such-model/', { worker: true });
      return 'loaded';
    } catch (e) {
      return e instanceof Error && e.message;
    }
  });
  assert.match(failed, /model\.safetensors: HTTP 404/);
  // The page fetches a worker's files, so the browser logs the 404s this test asked for:
  // the model and the tokenizer, which every kind reads (the kind's own file waits for the
  // model to name the kind), the second possibly after the load has already failed.
  const deadline = Date.now() + DEADLINE.action;
  while (direct.errors.length - before < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 200)); // room for a third, which must not come
  const logged = direct.errors.splice(before);
  assert.equal(logged.length, 2, `the two 404s, within ${DEADLINE.action} ms: ${logged}`);
  assert.ok(logged.every((e) => /status of 404/.test(e)), `unexpected errors: ${logged}`);
});

test('evidence never throws on odd input', LIMIT, async () => {
  const out = await direct.page.evaluate(async () => {
    const clf = await window.classifierReady;
    const odd = ['', '   ', 'weather '.repeat(1250), '🌦️☔️🌈 😀', '今天天气怎么样', 'abc\uD800def', 'timer\u0000 5', '\u202Eright'];
    return odd.map((t) => {
      try {
        const e = clf.classify(t, { evidence: true }).evidence;
        return { tokens: e.tokens.length, ok: e.tokens.every((k) => k.start <= k.end && k.end <= t.length) };
      } catch (err) {
        return { thrown: String(err) };
      }
    });
  });
  for (const r of out) assert.ok(r.ok, JSON.stringify(out));
});

// In the page: each call's outcome as 'returned', or [error type, message] and whether it was
// thrown synchronously (page mode) or came as a rejected Promise (worker mode).
const OUTCOME = `async (call) => {
  let result;
  try {
    result = call();
  } catch (e) {
    return { how: 'thrown', type: e.constructor.name, message: e.message };
  }
  if (!(result instanceof Promise)) return { how: 'returned' };
  try {
    await result;
    return { how: 'resolved' };
  } catch (e) {
    return { how: 'rejected', type: e.constructor.name, message: e.message };
  }
}`;

const modes = [
  ['page', () => direct, 'thrown', 'returned'],
  ['worker', () => worker, 'rejected', 'resolved'],
];
for (const [mode, demo, refused, accepted] of modes) {
  test(`${mode} mode: a text that is not a string is refused with a TypeError naming the argument (tests/odd-arguments.json)`, LIMIT, async () => {
    assert.ok(ODD_ARGUMENTS.length >= 5);
    await demo().page.evaluate(`window.outcome = ${OUTCOME}`);
    const rows = await demo().page.evaluate(async (odd) => {
      const { outcome } = window;
      const clf = await window.classifierReady;
      const rows = [];
      for (const q of odd) {
        const value = 'value' in q ? q.value : undefined;
        rows.push({
          q,
          classify: await outcome(() => clf.classify(value)),
          logits: await outcome(() => clf.logits(value)),
          tokenIds: await outcome(() => clf.tokenIds(value)),
          batchElement: await outcome(() => clf.classifyBatch(['timer 5 min', 'weather', value])),
          batch: await outcome(() => clf.classifyBatch(value)),
        });
      }
      return rows;
    }, ODD_ARGUMENTS);
    for (const { q, classify, logits, tokenIds, batchElement, batch } of rows) {
      for (const [method, got] of [['classify', classify], ['logits', logits], ['tokenIds', tokenIds]]) {
        assert.deepEqual(got, { how: refused, type: 'TypeError', message: `${method}: text must be a string, got ${q.shows}` }, `${method}(${q.name})`);
      }
      assert.deepEqual(batchElement, { how: refused, type: 'TypeError', message: `classifyBatch: texts[2] must be a string, got ${q.shows}` }, q.name);
      if (Array.isArray(q.value)) {
        assert.deepEqual(batch, { how: accepted }, `classifyBatch(${q.name}) is a list of strings`);
      } else {
        assert.deepEqual(batch, { how: refused, type: 'TypeError', message: `classifyBatch: texts must be an array (or iterable) of strings, got ${q.shows}` }, q.name);
      }
    }
    assert.deepEqual(demo().errors, []);
  });

  test(`${mode} mode: a threshold or topK that is not a finite number (positive integer) is refused`, LIMIT, async () => {
    await demo().page.evaluate(`window.outcome = ${OUTCOME}`);
    const out = await demo().page.evaluate(async () => {
      const { outcome } = window;
      const clf = await window.classifierReady;
      const cases = {};
      for (const [name, value] of [['NaN', Number.NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ["'5'", '5'], ['null', null]]) {
        cases[`classify threshold ${name}`] = await outcome(() => clf.classify('timer', { threshold: value }));
        cases[`classifyBatch threshold ${name}`] = await outcome(() => clf.classifyBatch(['timer'], { threshold: value }));
        cases[`setThreshold ${name}`] = await outcome(() => clf.setThreshold(value));
      }
      for (const [name, value] of [['0', 0], ['2.5', 2.5], ["'3'", '3'], ['NaN', Number.NaN]]) {
        cases[`topK ${name}`] = await outcome(() => clf.classify('timer', { topK: value }));
      }
      cases.options = await outcome(() => clf.classify('timer', 3));
      cases.fine = await outcome(() => clf.classify('timer', { threshold: 1.5, topK: 2 }));
      cases.restored = await outcome(() => clf.setThreshold(undefined));
      return cases;
    });
    const refusal = (type, message) => ({ how: refused, type, message });
    for (const [name, shown, type] of [['NaN', 'NaN', 'RangeError'], ['Infinity', 'Infinity', 'RangeError'], ['-Infinity', '-Infinity', 'RangeError'], ["'5'", 'string "5"', 'TypeError'], ['null', 'null', 'TypeError']]) {
      assert.deepEqual(out[`classify threshold ${name}`], refusal(type, `classify: options.threshold must be a finite number, got ${shown}`), name);
      assert.deepEqual(out[`classifyBatch threshold ${name}`], refusal(type, `classifyBatch: options.threshold must be a finite number, got ${shown}`), name);
      assert.deepEqual(out[`setThreshold ${name}`], refusal(type, `setThreshold: threshold must be a finite number, got ${shown}`), name);
    }
    for (const [name, shown, type] of [['0', '0', 'RangeError'], ['2.5', '2.5', 'RangeError'], ["'3'", 'string "3"', 'TypeError'], ['NaN', 'NaN', 'RangeError']]) {
      assert.deepEqual(out[`topK ${name}`], refusal(type, `classify: options.topK must be a positive integer, got ${shown}`), name);
    }
    assert.deepEqual(out.options, refusal('TypeError', 'classify: options must be an object, got number 3'));
    assert.deepEqual(out.fine, { how: accepted });
    assert.deepEqual(out.restored, { how: mode === 'page' ? 'returned' : 'resolved' });
  });
}

test('the worker itself checks what is posted to it, and names the error type', LIMIT, async () => {
  const replies = await direct.page.evaluate(async () => {
    const w = new Worker('/web/worker.js', { type: 'module' });
    const answers = new Map();
    const call = (id, method, args) => new Promise((resolve) => {
      answers.set(id, resolve);
      w.postMessage({ id, method, args });
    });
    w.onmessage = ({ data }) => answers.get(data.id)?.(data);
    const base = new URL('/models/default/', location.href).href;
    const out = [await call(0, 'load', [base, {}])];
    out.push(await call(1, 'classify', [null]));
    out.push(await call(2, 'classifyBatch', [['timer', 7]]));
    out.push(await call(3, 'classify', ['timer', { threshold: Number.NaN }]));
    out.push((await call(4, 'classify', ['timer 5 min'])).result.intent);
    w.terminate();
    return out;
  });
  assert.equal(replies[0].error, undefined, `load: ${JSON.stringify(replies[0])}`);
  assert.deepEqual(replies[1], { id: 1, error: 'classify: text must be a string, got null', errorType: 'TypeError' });
  assert.deepEqual(replies[2], { id: 2, error: 'classifyBatch: texts[1] must be a string, got number 7', errorType: 'TypeError' });
  assert.deepEqual(replies[3], { id: 3, error: 'classify: options.threshold must be a finite number, got NaN', errorType: 'RangeError' });
  assert.equal(replies[4], 'timer');
});

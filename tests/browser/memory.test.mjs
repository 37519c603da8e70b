// Leaks: 100,000 classify() calls and 100 load/dispose cycles in headless Chromium leave the
// wasm linear memory and the JS heap (after forced GC) flat. Bounds are generous; the
// figures go to MEMORY_REPORT (bench/results/memory.md) when set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { launch, openDemo, LIMIT } from './harness.mjs';

const CALLS = 100_000;
const LOADS = 100;
let env;
let demo;
let cdp;
const figures = [];

async function measure() {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const wasm = await demo.page.evaluate(async () => (await import('/web/classifier.js')).wasmMemoryBytes());
  return { wasm, js: heap.usedSize };
}

before(async () => {
  env = await launch();
  // In-page mode: the worker mode's calls return Promises and its memory is the worker's.
  demo = await openDemo(env, '?worker=0');
  cdp = await demo.page.context().newCDPSession(demo.page);
});
after(async () => {
  if (process.env.MEMORY_REPORT) {
    const mib = (b) => (b / 2 ** 20).toFixed(2);
    const rows = figures.map(
      ([what, a, b]) => `| ${what} | ${mib(a.wasm)} | ${mib(b.wasm)} | ${mib(a.js)} | ${mib(b.js)} |`);
    writeFileSync(process.env.MEMORY_REPORT, [
      '# Memory under load (headless Chromium)',
      '',
      `Machine: ${cpus()[0].model}, ${cpus().length} cores, ${mib(totalmem())} MiB RAM; ` +
        `Chromium ${await env.browser.browser()?.version?.() ?? ''}; ${new Date().toISOString()}.`,
      '',
      `Command: \`MEMORY_REPORT=bench/results/memory.md node --test tests/browser/memory.test.mjs\``,
      '',
      'JS heap: `Runtime.getHeapUsage` after `HeapProfiler.collectGarbage`. Wasm: the linear',
      'memory (`memory.buffer.byteLength`; it never shrinks, so growth would be a leak or a',
      'new high-water mark).',
      '',
      '| run | wasm before (MiB) | wasm after (MiB) | JS heap before (MiB) | JS heap after (MiB) |',
      '|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'));
  }
  await env?.close();
});

test(`${CALLS} classify() calls leave wasm memory and the JS heap flat`, LIMIT, async () => {
  // Warm-up: the first calls size the scratch buffers.
  await demo.page.evaluate(async () => {
    const clf = await window.classifierReady;
    for (let i = 0; i < 1000; i++) clf.classify(`warm up ${i} weather tomorrow`);
  });
  const before = await measure();
  const count = await demo.page.evaluate(async (n) => {
    const clf = await window.classifierReady;
    const texts = ['set a timer for 5 minutes', 'what is the weather in Oslo', 'bake a cake', ''];
    let known = 0;
    for (let i = 0; i < n; i++) known += clf.classify(texts[i & 3] + (i % 97)).known ? 1 : 0;
    return known;
  }, CALLS);
  assert.ok(count > 0);
  const afterRun = await measure();
  figures.push([`${CALLS} classify() calls`, before, afterRun]);
  assert.ok(afterRun.wasm <= before.wasm + 2 ** 20, `wasm ${before.wasm} -> ${afterRun.wasm}`);
  assert.ok(afterRun.js <= before.js + 4 * 2 ** 20, `JS heap ${before.js} -> ${afterRun.js}`);
});

test(`loading and disposing a classifier ${LOADS} times does not grow memory`, LIMIT, async () => {
  const load = (n) => demo.page.evaluate(async (count) => {
    const { loadClassifier } = await import('/web/classifier.js');
    for (let i = 0; i < count; i++) {
      const clf = await loadClassifier('models/default/');
      clf.classify('weather');
      clf.dispose();
    }
  }, n);
  await load(3); // warm-up: allocator high-water mark
  const before = await measure();
  await load(LOADS);
  const afterRun = await measure();
  figures.push([`${LOADS} load + dispose cycles`, before, afterRun]);
  // One bundle is a few MiB; a leak of 100 would be hundreds.
  assert.ok(afterRun.wasm <= before.wasm + 16 * 2 ** 20, `wasm ${before.wasm} -> ${afterRun.wasm}`);
  assert.ok(afterRun.js <= before.js + 8 * 2 ** 20, `JS heap ${before.js} -> ${afterRun.js}`);
});

// Browser benchmark, in one headless Chromium run: classify() latency at 8 and 64 tokens,
// forward-pass time of the SIMD128 kernels vs candle-core's conv1d built for wasm, download
// sizes (raw, gzip -9, brotli -q 11) of everything the page fetches before it can classify,
// and navigation to first result: the median of 10 cold loads (HTTP cache disabled, Cache
// API cleared) on localhost and under 10 Mbit/s with 40 ms RTT. Appends to
// bench/results/browser.md. For a sentence-encoder bundle (`trainer encoder`) it times
// classify() and the loads; the forward-pass rows are the TextCNN's.
//   node bench/browser.mjs   (after ./build.sh and ./build.sh candle-baseline)
//   MODEL=dir/ COLD_LOADS=3 node bench/browser.mjs
import { readFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { cpus, release } from 'node:os';
import { execSync } from 'node:child_process';
import { launch, ROOT } from '../tests/browser/harness.mjs';

const MODEL = process.env.MODEL ?? 'models/default/';
// BASELINE_PKG=dir: a wasm-bindgen package of another build (e.g. an earlier commit's
// web/pkg-relaxed), timed against this build's package of the same kernel in the same page.
const BASELINE_PKG = process.env.BASELINE_PKG ?? '';
const BASELINE_LABEL = process.env.BASELINE_LABEL ?? BASELINE_PKG;
const COLD_LOADS = Number(process.env.COLD_LOADS ?? 10);
// Chromium's emulation of an ordinary connection: 10 Mbit/s both ways, 40 ms round trip.
const SLOW_NETWORK = { offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 };

/**
 * Milliseconds from navigation to the demo's first answer on screen, for `loads` cold loads:
 * HTTP cache disabled and the origin's storage (the Cache API) cleared before each.
 */
async function coldLoads(env, query, loads, network) {
  const times = [];
  const stages = [];
  for (let i = 0; i < loads; i++) {
    const page = await env.browser.newPage();
    const cdp = await env.browser.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Storage.clearDataForOrigin', { origin: env.baseUrl.replace(/\/$/, ''), storageTypes: 'all' });
    if (network) await cdp.send('Network.emulateNetworkConditions', network);
    await page.goto(`${env.baseUrl}index.html${query}`);
    times.push(await page.waitForFunction(() => window.firstResultMs, null, { timeout: 60_000 }).then((h) => h.jsonValue()));
    stages.push(await page.evaluate(() => window.loadStages));
    await page.close();
  }
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const stage = (key) => median(stages.map((s) => s?.[key] ?? NaN));
  times.sort((a, b) => a - b);
  return {
    median: median(times), min: times[0], max: times.at(-1),
    stages: { wasm: stage('wasmMs'), files: stage('filesMs'), setup: stage('setupMs'), load: stage('loadMs') },
  };
}
const KERNEL = process.env.KERNEL ?? ''; // '' = the page's choice, or simd128 / relaxed
// Cross-origin isolation gives performance.now() microsecond resolution.
const env = await launch({
  headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
});
try {
  const query = `?model=${encodeURIComponent(MODEL)}${KERNEL ? `&kernel=${KERNEL}` : ''}`;
  const firstResult = {
    'localhost, model on the page (the demo)': await coldLoads(env, `${query}&worker=0`, COLD_LOADS),
    'localhost, model in a worker': await coldLoads(env, `${query}&worker=1`, COLD_LOADS),
    // On the page, not in a worker: CDP's network emulation throttles the page's own
    // fetches only, not a worker's scripts.
    '10 Mbit/s, 40 ms RTT, model on the page': await coldLoads(env, `${query}&worker=0`, COLD_LOADS, SLOW_NETWORK),
  };
  const page = await env.browser.newPage();
  await page.goto(`${env.baseUrl}index.html${query}&worker=0`);
  await page.evaluate(() => window.classify('weather today'));
  const version = await env.browser.browser()?.version?.() ?? 'chromium';

  const results = await page.evaluate(async ({ model, baselinePkg, currentPkg }) => {
    const clf = await window.classifierReady;
    // The candle-core baseline (./build.sh bench builds web/pkg-candle); skipped when absent.
    let candle = null;
    try {
      const { CandleTextCnn, default: initCandle } = await import('/web/pkg-candle/candle_baseline.js');
      await initCandle();
      const bytes = async (f) => new Uint8Array(await (await fetch(model + f)).arrayBuffer());
      candle = new CandleTextCnn(await bytes('model.safetensors'), await bytes('table.safetensors'));
    } catch {
      // not built
    }
    const words = 'please tell me what the weather will be like in the city of paris tomorrow morning and afternoon and also next week for my long trip abroad with family friends colleagues neighbours cousins and everyone else i know who is coming along on this very long journey across the whole country'.split(' ');
    // The shortest prefix of a long sentence that fills `tokens` tokens (specials included).
    const queryOf = (tokens) => {
      const all = words.concat(words);
      for (let n = 1; n <= all.length; n++) {
        const q = all.slice(0, n).join(' ');
        if (clf.tokenIds(q).length >= tokens) return q;
      }
      return all.join(' ');
    };
    const time = (fn, reps) => {
      for (let i = 0; i < 50; i++) fn();
      const out = [];
      for (let i = 0; i < reps; i++) {
        const s = performance.now();
        fn();
        out.push(performance.now() - s);
      }
      out.sort((a, b) => a - b);
      return { p50: out[Math.floor(reps * 0.5)], p95: out[Math.floor(reps * 0.95)] };
    };
    const info = clf.info();
    // A sentence encoder is ~100 times the TextCNN's work per query: fewer repetitions.
    const encoder = info.kind === 'sentence-encoder-intent';
    const rows = { kernel: info.kernel ?? 'sentence encoder (web/pkg-encoder, simd128)', encoder };
    const none = { p50: NaN, p95: NaN };
    for (const tokens of [8, 64]) {
      const q = queryOf(tokens);
      const ids = clf.tokenIds(q);
      const a = clf.logits(q);
      const b = encoder ? undefined : candle?.logitsForIds(ids);
      const diff = b ? Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]))) : NaN;
      rows[tokens] = {
        tokens: ids.length,
        classify: time(() => clf.classify(q), encoder ? 100 : 2000),
        forwardSimd: encoder ? none : time(() => clf.logitsForIds(ids), 2000),
        forwardCandle: candle && !encoder ? time(() => candle.logitsForIds(ids), 300) : none,
        maxDiff: diff,
      };
    }
    rows.sameRun = baselinePkg ? await sameRun(model, currentPkg, baselinePkg, queryOf(64), time) : null;
    return rows;

    // classify() p50 at 64 tokens of two builds on one bundle, in alternating blocks so the
    // machine's drift hits both alike. Raw module calls; JSON results are parsed (classifier.js
    // does that), object results are taken as they are.
    async function sameRun(model, currentDir, baselineDir, query, time) {
      const bytes = async (f) => new Uint8Array(await (await fetch(model + f)).arrayBuffer());
      const files = [await bytes('model.safetensors'), await bytes('table.safetensors'), await bytes('tokenizer.json')];
      const open = async (dir) => {
        const glue = await import(`/${dir}/intent_web.js`);
        await glue.default();
        return new glue.IntentClassifier(...files);
      };
      const builds = { current: await open(currentDir), baseline: await open(baselineDir) };
      const p50s = { current: [], baseline: [] };
      for (let round = 0; round < 10; round++) {
        for (const [name, c] of Object.entries(builds)) {
          p50s[name].push(time(() => {
            const r = c.classify(query, undefined);
            return typeof r === 'string' ? JSON.parse(r) : r;
          }, 200).p50);
        }
      }
      const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
      return { tokens: builds.current.tokenIds(query).length, current: median(p50s.current), baseline: median(p50s.baseline) };
    }
  }, { model: MODEL, baselinePkg: BASELINE_PKG, currentPkg: KERNEL === 'simd128' ? 'web/pkg' : 'web/pkg-relaxed' });

  const pkg = results.kernel.includes('relaxed') ? 'web/pkg-relaxed' : 'web/pkg';
  const files = {
    // A page fetches the wasm of the kind its model file names, and no other.
    ...(results.encoder ? {
      'wasm (web/pkg-encoder)': 'web/pkg-encoder/intent_encoder_web_bg.wasm',
      'JS glue (encoder)': 'web/pkg-encoder/intent_encoder_web.js',
    } : {
      [`wasm (${pkg})`]: `${pkg}/intent_web_bg.wasm`,
      'JS glue': `${pkg}/intent_web.js`,
    }),
    'classifier.js + core.js, checks.js, kinds.js, fetch-bundle.js, wasm.js': ['web/classifier.js', 'web/core.js', 'web/checks.js', 'web/kinds.js', 'web/fetch-bundle.js', 'web/wasm.js'],
    'sources.js + hub.js': ['web/sources.js', 'web/hub.js'],
    'model.safetensors': `${MODEL}model.safetensors`,
    [results.encoder ? 'encoder.safetensors' : 'table.safetensors']: `${MODEL}${results.encoder ? 'encoder' : 'table'}.safetensors`,
    'tokenizer.json': `${MODEL}tokenizer.json`,
  };
  const total = { raw: 0, gz: 0, br: 0 };
  const kb = (n) => `${(n / 1000).toFixed(0)} kB`;
  // Each file is its own response, so each is compressed on its own.
  const sizeRows = Object.entries(files).map(([name, paths]) => {
    const size = { raw: 0, gz: 0, br: 0 };
    for (const path of [paths].flat()) {
      const raw = readFileSync(`${ROOT}/${path}`);
      size.raw += raw.length;
      size.gz += gzipSync(raw, { level: 9 }).length;
      size.br += brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    }
    for (const k of Object.keys(total)) total[k] += size[k];
    return `| ${name} | ${kb(size.raw)} | ${kb(size.gz)} | ${kb(size.br)} |`;
  });
  const loadRows = Object.entries(firstResult).map(([how, t]) =>
    `| ${how} | ${t.median.toFixed(0)} ms | ${t.min.toFixed(0)}–${t.max.toFixed(0)} ms | ` +
    `${t.stages.wasm.toFixed(0)} / ${t.stages.files.toFixed(0)} / ${t.stages.setup.toFixed(0)} / ${t.stages.load.toFixed(0)} ms |`);
  const ms = (v) => (Number.isNaN(v) ? '—' : v.toFixed(3));
  const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  const report = [
    `\n## ${new Date().toISOString().slice(0, 10)} · commit ${commit} · ${MODEL}`,
    '',
    `Command: \`KERNEL=${KERNEL} node bench/browser.mjs\`  `,
    `Machine: ${cpus()[0].model}, ${cpus().length} cores, Linux ${release()}; headless Chromium ${version}`,
    '',
    `Kernel: ${results.kernel}`,
    '',
    '| tokens | classify() p50 | p95 | forward SIMD128 p50 | forward candle conv1d p50 | speed-up | max logit diff |',
    '|---|---|---|---|---|---|---|',
    ...[results[8], results[64]].map((r) =>
      `| ${r.tokens} | ${ms(r.classify.p50)} ms | ${ms(r.classify.p95)} ms | ${ms(r.forwardSimd.p50)} ms | ${ms(r.forwardCandle.p50)} ms | ${results.encoder ? '—' : `${(r.forwardCandle.p50 / r.forwardSimd.p50).toFixed(1)}x`} | ${results.encoder ? '—' : r.maxDiff.toExponential(1)} |`),
    '',
    ...(results.sameRun ? [
      `Same run, same bundle, classify() p50 at ${results.sameRun.tokens} tokens (median of 10 alternating blocks of 200 calls): ` +
        `this build ${ms(results.sameRun.current)} ms, ${BASELINE_LABEL} ${ms(results.sameRun.baseline)} ms, ` +
        `ratio ${(results.sameRun.current / results.sameRun.baseline).toFixed(2)}`,
      '',
    ] : []),
    `Navigation to the first answer on screen, ${COLD_LOADS} cold loads (HTTP cache disabled, storage cleared):`,
    '',
    '| how | median | range | loadClassifier stages, medians: wasm ready / files in hand / set-up / whole load |',
    '|---|---|---|---|',
    ...loadRows,
    '',
    'Everything the page fetches before it can classify (1 kB = 1000 bytes):',
    '',
    '| download | raw | gzip -9 | brotli -q 11 |',
    '|---|---|---|---|',
    ...sizeRows,
    `| total | ${kb(total.raw)} | ${kb(total.gz)} | ${kb(total.br)} |`,
    '',
  ].join('\n');
  mkdirSync(`${ROOT}/bench/results`, { recursive: true });
  appendFileSync(`${ROOT}/bench/results/browser.md`, report);
  console.log(report);
} finally {
  await env.close();
}

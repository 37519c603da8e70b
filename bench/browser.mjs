// Browser benchmark, in one headless Chromium run: classify() latency at 8 and 64 tokens,
// forward-pass time of the SIMD128 kernels vs candle-core's conv1d built for wasm, download
// sizes (raw and gzip) and time from navigation to first result. Appends to
// bench/results/browser.md.
//   node bench/browser.mjs   (after ./build.sh and ./build.sh candle-baseline)
import { readFileSync, statSync, appendFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { cpus, release } from 'node:os';
import { execSync } from 'node:child_process';
import { launch, ROOT } from '../tests/browser/harness.mjs';

const MODEL = process.env.MODEL ?? 'models/default/';
const KERNEL = process.env.KERNEL ?? ''; // '' = the page's choice, or simd128 / relaxed
// Cross-origin isolation gives performance.now() microsecond resolution.
const env = await launch({
  headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
});
try {
  const page = await env.browser.newPage();
  const t0 = Date.now();
  await page.goto(`${env.baseUrl}index.html?worker=0&model=${encodeURIComponent(MODEL)}${KERNEL ? `&kernel=${KERNEL}` : ''}`);
  await page.evaluate(() => window.classify('weather today'));
  const firstResultMs = Date.now() - t0;
  const version = await env.browser.browser()?.version?.() ?? 'chromium';

  const results = await page.evaluate(async (model) => {
    const clf = await window.classifierReady;
    const { CandleTextCnn, default: initCandle } = await import('/web/pkg-candle/candle_baseline.js');
    await initCandle();
    const bytes = async (f) => new Uint8Array(await (await fetch(model + f)).arrayBuffer());
    const candle = new CandleTextCnn(await bytes('model.safetensors'), await bytes('table.safetensors'));
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
    const rows = { kernel: clf.info().kernel };
    for (const tokens of [8, 64]) {
      const q = queryOf(tokens);
      const ids = clf.tokenIds(q);
      const a = clf.logits(q);
      const b = candle.logitsForIds(ids);
      const diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
      rows[tokens] = {
        tokens: ids.length,
        classify: time(() => clf.classify(q), 2000),
        forwardSimd: time(() => clf.logitsForIds(ids), 2000),
        forwardCandle: time(() => candle.logitsForIds(ids), 300),
        maxDiff: diff,
      };
    }
    return rows;
  }, MODEL);

  const files = {
    'wasm (classifier)': 'web/pkg/intent_web_bg.wasm',
    'JS glue': 'web/pkg/intent_web.js',
    'classifier.js': 'web/classifier.js',
    'model.safetensors': `${MODEL}model.safetensors`,
    'table.safetensors': `${MODEL}table.safetensors`,
    'tokenizer.json': `${MODEL}tokenizer.json`,
  };
  let total = 0, totalGz = 0;
  const sizeRows = Object.entries(files).map(([name, path]) => {
    const raw = readFileSync(`${ROOT}/${path}`);
    const gz = gzipSync(raw, { level: 9 }).length;
    total += raw.length; totalGz += gz;
    return `| ${name} | ${(raw.length / 1024).toFixed(0)} KB | ${(gz / 1024).toFixed(0)} KB |`;
  });
  const ms = (v) => v.toFixed(3);
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
    ...Object.values(results).filter((r) => typeof r === 'object').map((r) =>
      `| ${r.tokens} | ${ms(r.classify.p50)} ms | ${ms(r.classify.p95)} ms | ${ms(r.forwardSimd.p50)} ms | ${ms(r.forwardCandle.p50)} ms | ${(r.forwardCandle.p50 / r.forwardSimd.p50).toFixed(1)}x | ${r.maxDiff.toExponential(1)} |`),
    '',
    `Navigation to first result on localhost: ${firstResultMs} ms`,
    '',
    '| download | raw | gzip -9 |',
    '|---|---|---|',
    ...sizeRows,
    `| total | ${(total / 1024).toFixed(0)} KB | ${(totalGz / 1024).toFixed(0)} KB |`,
    '',
  ].join('\n');
  mkdirSync(`${ROOT}/bench/results`, { recursive: true });
  appendFileSync(`${ROOT}/bench/results/browser.md`, report);
  console.log(report);
} finally {
  await env.close();
}

// Training the everyday example (examples/everyday: 10 intents, ~65 sentences each, 252
// negatives) in headless Chromium (train.html's trainClassifier, one wasm thread in a worker)
// against the native trainer on the same machine in the same run, for each epoch count in
// EPOCHS; with the held-out figures (examples/everyday/heldout.json) of each model. Appends
// to bench/results/train-in-page.md.
//   node bench/train-in-page.mjs      (after ./build.sh wasm and cargo build --workspace)
//   EPOCHS=10,50 TRAINER=target/debug/trainer
//   ENCODER=DIR node bench/train-in-page.mjs   the sentence-encoder kind instead: DIR (inside the
//       repository, so the page can fetch it) holds encoder.safetensors and tokenizer.json, e.g.
//       bench/out/encoder-compression/emb-int4.mat-int8.ffn-int4.layers-all; the page's fit
//       (trainClassifier with kind 'encoder') against `trainer encoder --encoder DIR`
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { execFileSync, execSync } from 'node:child_process';
import { join } from 'node:path';
import { launch, ROOT } from '../tests/browser/harness.mjs';

const EPOCH_COUNTS = (process.env.EPOCHS ?? '10,50').split(',').map(Number);
const ENCODER = process.env.ENCODER?.replace(/\/$/, '');
const TRAINER = process.env.TRAINER ?? join(ROOT, 'target/debug/trainer');
const SEED = 42;
const heldout = JSON.parse(readFileSync(join(ROOT, 'examples/everyday/heldout.json'), 'utf8'));
const heldoutTexts = [...heldout.known.map((k) => k.text), ...heldout.unknown];
const scratch = mkdtempSync(join(tmpdir(), 'train-bench-'));
const heldoutFile = join(scratch, 'heldout-texts.json');

/** Known right and unknown rejected, of the held-out queries, from classify() results. */
function heldoutFigures(results) {
  const known = results.slice(0, heldout.known.length);
  return {
    known: known.filter((r, i) => r.intent === heldout.known[i].intent).length,
    unknown: results.slice(heldout.known.length).filter((r) => !r.known).length,
  };
}

function native(epochs) {
  const dir = mkdtempSync(join(tmpdir(), 'native-train-'));
  const data = ['--data', 'examples/everyday/data.json', '--noise', 'examples/everyday/noise.json', '--seed', String(SEED)];
  const args = ENCODER
    ? ['encoder', ...data, '--encoder', ENCODER]
    : ['train', ...data, '--table', 'assets/minilm-l6-v2', '--epochs', String(epochs)];
  try {
    const started = performance.now();
    execFileSync(TRAINER, [...args, '--out', join(dir, 'm'), '--quiet'], { cwd: ROOT, stdio: 'ignore', timeout: 30 * 60_000 });
    const seconds = (performance.now() - started) / 1000;
    execFileSync(TRAINER, ['logits', '--bundle', join(dir, 'm'), '--texts', heldoutFile, '--out', join(dir, 'l.json')], { cwd: ROOT, timeout: 60_000 });
    return { seconds, ...heldoutFigures(JSON.parse(readFileSync(join(dir, 'l.json'), 'utf8')).map((r) => r.result)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inPage(env, epochs) {
  const page = await env.browser.newPage();
  await page.goto(`${env.baseUrl}train.html`);
  await page.waitForFunction(() => !document.getElementById('train').disabled, null, { timeout: 60_000 });
  const run = await page.evaluate(async ({ epochs, seed, texts, encoder }) => {
    const { trainClassifier } = await import('./web/trainer.js');
    const started = performance.now();
    const data = { intents: document.getElementById('intents').value, negatives: document.getElementById('negatives').value };
    // The encoder's files are fetched inside the timed call, as a first training would.
    const clf = encoder
      ? await trainClassifier({ ...data, encoder: `${encoder}/encoder.safetensors`, tokenizer: `${encoder}/tokenizer.json` }, { kind: 'encoder', seed })
      : await trainClassifier(data, { epochs, seed });
    const seconds = (performance.now() - started) / 1000;
    return { seconds, results: texts.map((t) => clf.classify(t)) };
  }, { epochs, seed: SEED, texts: heldoutTexts, encoder: ENCODER });
  await page.close();
  return { seconds: run.seconds, ...heldoutFigures(run.results) };
}

writeFileSync(heldoutFile, JSON.stringify(heldoutTexts));
const env = await launch();
const rows = [];
try {
  for (const epochs of ENCODER ? ['-'] : EPOCH_COUNTS) {
    const n = native(epochs);
    const p = await inPage(env, epochs);
    rows.push(`| ${epochs} | ${p.seconds.toFixed(1)} s | ${n.seconds.toFixed(1)} s | ${(p.seconds / n.seconds).toFixed(2)} | `
      + `${p.known}/${heldout.known.length}, ${p.unknown}/${heldout.unknown.length} | ${n.known}/${heldout.known.length}, ${n.unknown}/${heldout.unknown.length} |`);
    console.log(rows.at(-1));
  }
} finally {
  await env.close();
  rmSync(scratch, { recursive: true, force: true });
}
const chromium = execSync('/usr/bin/chromium --version').toString().trim();
const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
appendFileSync(join(ROOT, 'bench/results/train-in-page.md'), `
## ${new Date().toISOString().slice(0, 10)}, commit ${commit}
Machine: ${cpus().length} × ${cpus()[0].model}, Linux ${release()}, ${chromium}; native: \`${TRAINER.replace(ROOT + '/', '')}\` (all cores), page: one wasm thread in a worker. Seed ${SEED}, default flags otherwise. \`${ENCODER ? `ENCODER=${ENCODER} ` : ''}node bench/train-in-page.mjs\`${ENCODER ? ': the sentence-encoder kind (no epochs), its files fetched from localhost inside the timed call' : ''}.

| epochs | page | native | page / native | page model on held-out (known right, unknown rejected) | native model |
|---|---|---|---|---|---|
${rows.join('\n')}
`);

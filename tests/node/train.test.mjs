// Training from the packed package in a fresh Node app: trainClassifier from
// 'intent-classifier/train' in a worker thread (progress, abort, the process exits), the
// README's "Train from Node" recipe verbatim, and `npx intent-classifier train`, whose bundle
// gives the native trainer's logits for the same data, seed and epochs (target/train-parity,
// build.sh's native_references), and `classify` on it; with --kind encoder, `trainer encoder`'s
// logits (target/encoder-parity); bad input names the file and flag.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEADLINE, ROOT, requireBuilt } from './helpers.mjs';

const EVERYDAY = join(ROOT, 'examples/everyday');
const CLI_BUNDLE = join(ROOT, 'target/train-parity');
// `trainer encoder` on the everyday example over a tiny generated BERT (native_references).
const ENCODER_BUNDLE = join(ROOT, 'target/encoder-parity');
const PARITY_TEXTS = join(ROOT, 'tests/browser/parity-texts.json');
const TRAINER = ['target/debug/trainer', 'target/release/trainer'].map((p) => join(ROOT, p)).find(existsSync);
const CHILD = { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' };
// Measured on two cores; the runs train the everyday example for one epoch, or a small set.
const LOGIT_TOLERANCE = 1e-3;
let app;

before(() => {
  requireBuilt();
  assert.ok(existsSync(join(ROOT, 'web/pkg-train/intent_train_web_bg.wasm')), 'run ./build.sh wasm first (web/pkg-train is missing)');
  assert.ok(existsSync(join(ROOT, 'web/pkg-train-encoder/intent_train_encoder_web_bg.wasm')), 'run ./build.sh wasm first (web/pkg-train-encoder is missing)');
  assert.ok(existsSync(join(ENCODER_BUNDLE, 'encoder.safetensors')), `${ENCODER_BUNDLE} is missing: ./build.sh test makes it (native_references)`);
  assert.ok(TRAINER, 'target/debug/trainer or target/release/trainer is missing: cargo build -p trainer');
  assert.ok(existsSync(join(CLI_BUNDLE, 'model.safetensors')), `${CLI_BUNDLE} is missing: ./build.sh test makes it (native_references)`);
  app = mkdtempSync(join(tmpdir(), 'intent-train-app-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', app], { ...CHILD, cwd: join(ROOT, 'web'), stdio: 'pipe' }),
  );
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-trainer', private: true, type: 'module' }));
  // --offline: everything comes from the tarball (it has no dependencies).
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(app, packed[0].filename)], { ...CHILD, cwd: app, stdio: 'pipe' });
  for (const file of ['data.json', 'noise.json']) cpSync(join(EVERYDAY, file), join(app, file));
});
after(() => app && rmSync(app, { recursive: true, force: true }));

/** `npx intent-classifier ARGS` in the app: { status, stdout, stderr }. */
function cli(args) {
  const run = spawnSync('npx', ['--no', 'intent-classifier', ...args], { ...CHILD, cwd: app });
  assert.equal(run.error, undefined, `npx intent-classifier ${args.join(' ')}: ${run.error?.message}`);
  return run;
}

/** `trainer logits` of `bundle` on the parity texts. */
function nativeLogits(bundle) {
  const out = join(app, `logits-${Date.now()}.json`);
  execFileSync(TRAINER, ['logits', '--bundle', bundle, '--texts', PARITY_TEXTS, '--out', out], CHILD);
  return JSON.parse(readFileSync(out, 'utf8'));
}

test('trainClassifier in Node: progress each epoch, a classifier, and an abort that ends the worker thread', DEADLINE, () => {
  const script = `
    import { readFileSync } from 'node:fs';
    import { trainClassifier, TrainedClassifier } from 'intent-classifier/train';
    const all = JSON.parse(readFileSync('data.json', 'utf8'));
    const intents = { timer: all.timer, weather: all.weather, play_music: all.play_music };
    const data = { intents, negatives: JSON.parse(readFileSync('noise.json', 'utf8')) };
    const progress = [];
    const clf = await trainClassifier(data, { epochs: 3, seed: 1, onProgress: (e) => progress.push(e.epoch) });
    const result = clf.classify('set a timer for ten minutes');
    const files = Object.keys(clf.bundleFiles()).sort();
    const controller = new AbortController();
    const afterAbort = [];
    let aborted;
    try {
      await trainClassifier(data, { epochs: 500, signal: controller.signal, onProgress: (e) => { afterAbort.push(e.epoch); controller.abort(); } });
    } catch (e) {
      aborted = e.name;
    }
    console.log(JSON.stringify({ trained: clf instanceof TrainedClassifier, progress, intent: result.intent, files, aborted, afterAbort }));
  `;
  // The child's exit (within CHILD.timeout) shows that no worker thread outlives the abort.
  const started = Date.now();
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { ...CHILD, cwd: app }));
  console.log(`# 3 epochs of 3 intents, then an aborted run: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(out.trained, true);
  assert.deepEqual(out.progress, [1, 2, 3]);
  assert.equal(out.intent, 'timer');
  assert.deepEqual(out.files, ['README.md', 'model.safetensors', 'table.safetensors', 'tokenizer.json']);
  assert.equal(out.aborted, 'AbortError');
  assert.deepEqual(out.afterAbort, [1], 'no epoch is reported after the abort');
});

test("the README's \"Train from Node\" recipe runs as written", DEADLINE, () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Train from Node'));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'no ```js block under "### Train from Node"');
  writeFileSync(join(app, 'recipe.mjs'), block);
  const lines = execFileSync(process.execPath, ['recipe.mjs'], { ...CHILD, cwd: app }).trim().split('\n');
  const epochs = Number(/^epoch 1\/(\d+):/.exec(lines[0])?.[1]);
  assert.ok(epochs > 0, lines[0]);
  assert.equal(lines.length, epochs + 1, 'a line per epoch, then the intent');
  assert.equal(lines.at(-1), 'timer', lines.join('\n'));
});

test('npx intent-classifier train gives the native trainer\'s model; classify reads it', DEADLINE, async () => {
  // The run to repeat, as the native bundle's metadata records it.
  const { loadClassifier } = await import('../../web/node.js');
  const native = await loadClassifier(CLI_BUNDLE);
  const { epochs, seed } = native.info().training.config;
  const nativeThreshold = native.info().modelThreshold;
  native.dispose();

  const started = Date.now();
  const run = cli(['train', 'data.json', '--noise', 'noise.json', '--epochs', String(epochs), '--seed', String(seed), '--out', 'my-model']);
  console.log(`# npx intent-classifier train, ${epochs} epoch(s): ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(run.status, 0, run.stderr);
  // Not a terminal here: one plain line per epoch, then the held-out report.
  assert.equal(run.stderr.match(/^epoch +\d+ +loss /gm)?.length, epochs, run.stderr);
  assert.match(run.stdout, /validation \(threshold chosen here\)[\s\S]*AUROC \(energy\) +0\.\d{4}/, run.stdout);
  assert.match(run.stdout, /wrote my-model\n$/);
  const bundle = join(app, 'my-model');
  assert.deepEqual(readdirSync(bundle).sort(), ['README.md', 'model.safetensors', 'table.safetensors', 'tokenizer.json']);
  assert.deepEqual(readdirSync(app).filter((f) => f.includes('.partial-') || f.includes('.previous-')), [], 'no staging left');
  for (const file of ['table.safetensors', 'tokenizer.json']) {
    assert.ok(readFileSync(join(bundle, file)).equals(readFileSync(join(CLI_BUNDLE, file))), `${file} differs from the native bundle's`);
  }

  const ours = nativeLogits(bundle);
  const theirs = nativeLogits(CLI_BUNDLE);
  assert.equal(ours.length, theirs.length);
  let worst = 0;
  ours.forEach((row, i) => row.logits.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - theirs[i].logits[j])))));
  console.log(`# npx train vs trainer train after ${epochs} epoch(s): max |Δlogit| ${worst.toExponential(2)} over ${ours.length} texts`);
  assert.ok(worst < LOGIT_TOLERANCE, `max |Δlogit| ${worst}`);
  const trained = await loadClassifier(bundle);
  assert.ok(Math.abs(trained.info().modelThreshold - nativeThreshold) < LOGIT_TOLERANCE, `${trained.info().modelThreshold} vs ${nativeThreshold}`);
  trained.dispose();

  const classified = cli(['classify', 'my-model', 'set a timer for ten minutes']);
  assert.equal(classified.status, 0, classified.stderr);
  assert.equal(JSON.parse(classified.stdout).intent, 'timer', classified.stdout);
});

test('npx intent-classifier train --kind encoder gives `trainer encoder`\'s model', DEADLINE, async () => {
  // The native bundle over the tiny generated BERT (build.sh's native_references): its
  // encoder.safetensors and tokenizer.json are what the page's fit reads.
  const { loadClassifier } = await import('../../web/node.js');
  const native = await loadClassifier(ENCODER_BUNDLE);
  const nativeThreshold = native.info().modelThreshold;
  native.dispose();
  const started = Date.now();
  const run = cli(['train', 'data.json', '--noise', 'noise.json', '--kind', 'encoder', '--encoder', ENCODER_BUNDLE, '--out', 'my-encoder-model']);
  console.log(`# npx intent-classifier train --kind encoder: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /^embedded \d+\/\d+ sentences$/m, run.stderr);
  assert.doesNotMatch(run.stderr, /^epoch /m, run.stderr);
  const bundle = join(app, 'my-encoder-model');
  assert.deepEqual(readdirSync(bundle).sort(), ['README.md', 'encoder.safetensors', 'model.safetensors', 'tokenizer.json']);
  assert.match(readFileSync(join(bundle, 'README.md'), 'utf8'), /encoder-parity sentence encoder/);

  const ours = nativeLogits(bundle);
  const theirs = nativeLogits(ENCODER_BUNDLE);
  let worst = 0;
  ours.forEach((row, i) => row.logits.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - theirs[i].logits[j])))));
  console.log(`# npx train --kind encoder vs trainer encoder: max |Δlogit| ${worst.toExponential(2)} over ${ours.length} texts`);
  assert.ok(worst < 1e-4, `max |Δlogit| ${worst}`);
  const trained = await loadClassifier(bundle);
  assert.equal(trained.info().kind, 'sentence-encoder-intent');
  assert.ok(Math.abs(trained.info().modelThreshold - nativeThreshold) < 1e-4, `${trained.info().modelThreshold} vs ${nativeThreshold}`);
  trained.dispose();

  // Options of the other kind, and a missing encoder, are refused before any work.
  const epochs = cli(['train', 'data.json', '--kind', 'encoder', '--encoder', ENCODER_BUNDLE, '--epochs', '3', '--out', 'x']);
  assert.equal(epochs.status, 1, epochs.stderr);
  assert.match(epochs.stderr, /option epochs applies to kind 'textcnn', not 'encoder'/);
  const missing = cli(['train', 'data.json', '--kind', 'encoder', '--out', 'x']);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /--kind encoder needs --encoder DIR/);
  assert.ok(!existsSync(join(app, 'x')), 'nothing written');
});

test('a cancelled train leaves no bundle and no staging directory', DEADLINE, async () => {
  // The installed bin itself: npx would stand between the signal and the command.
  const bin = join(app, 'node_modules/.bin/intent-classifier');
  const child = spawn(process.execPath, [bin, 'train', 'data.json', '--epochs', '500', '--out', 'cancelled'], {
    cwd: app,
    timeout: CHILD.timeout,
    killSignal: 'SIGKILL',
  });
  let stderr = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (/^epoch +1 /m.test(stderr)) resolve();
    });
    exited.then(resolve);
  });
  // SIGTERM, which the command handles as it does Ctrl-C (a shell may ignore SIGINT for us).
  process.kill(child.pid, 'SIGTERM');
  const { code } = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /cancelled; cancelled was not written/);
  assert.deepEqual(readdirSync(app).filter((f) => f.includes('cancelled')), []);
});

test('bad input: the message names the file, the JSON position or the flag', DEADLINE, () => {
  writeFileSync(join(app, 'broken.json'), '{\n  "a": ["x", "y"],\n  "b": ["z" "w"]\n}\n');
  writeFileSync(join(app, 'one-intent.json'), JSON.stringify({ a: ['x', 'y'] }));
  const cases = [
    [['train', 'missing.json', '--out', 'x'], /missing\.json: cannot read it \(no such file\)/],
    [['train', 'broken.json', '--out', 'x'], /broken\.json: not valid JSON: .*line 3/],
    [['train', 'one-intent.json', '--out', 'x'], /one-intent\.json: only one intent/],
    [['train', 'data.json', '--noise', 'missing-noise.json', '--out', 'x'], /missing-noise\.json: cannot read it/],
    [['train', 'data.json', '--epohcs', '3', '--out', 'x'], /unknown flag --epohcs \(known: .*--noise.*--epochs.*--batch-size/],
    [['train', 'data.json', '--epochs'], /--epochs needs a value/],
    [['train', 'data.json', '--lr-schedule', 'linear', '--out', 'x'], /--lr-schedule linear: unknown variant `linear`/],
    [['classify', 'no-such-bundle', 'hello'], /no-such-bundle/],
  ];
  for (const [args, expected] of cases) {
    const run = cli(args);
    assert.notEqual(run.status, 0, `${args.join(' ')} succeeded`);
    assert.match(run.stderr, expected, args.join(' '));
  }
  assert.equal(existsSync(join(app, 'x')), false, 'nothing is written on an error');
});

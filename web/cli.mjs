#!/usr/bin/env node
// The package's command line (`npx intent-classifier ...`):
//
//   intent-classifier train DATA.json [--noise NOISE.json] --out DIR [--table DIR] [--name NAME]
//                     [--epochs N --seed N --batch-size N ...]
//   intent-classifier train DATA.json --kind encoder --encoder DIR --out DIR [--seed N ...]
//   intent-classifier classify DIR TEXT...
//
// `train` runs trainClassifier (the training wasm the page runs, in a worker thread) and
// writes the bundle `trainer train` writes: model.safetensors, table.safetensors,
// tokenizer.json and README.md (with --kind encoder, `trainer encoder`'s: encoder.safetensors
// in place of the table). Its flags are trainClassifier's options in --kebab-case.
// `classify` loads a bundle and prints each text's result as a line of JSON.
import { fsyncSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE_FILES, loadClassifier } from './node.js';
import { ENCODER_TRAIN_OPTIONS, TRAIN_OPTIONS, trainClassifier } from './node-train.js';

const USAGE = `usage:
  intent-classifier train DATA.json [--noise NOISE.json] --out DIR [--table DIR] [--name NAME] [--epochs N --seed N ...]
  intent-classifier train DATA.json [--noise NOISE.json] --out DIR --kind encoder --encoder DIR [--seed N ...]
  intent-classifier classify DIR TEXT...`;

/** The command line's own flags of `train`, besides the training options. */
const TRAIN_FLAGS = {
  noise: 'negatives: a JSON list of off-topic sentences',
  out: 'the bundle directory to write',
  table: 'the directory of table.safetensors and tokenizer.json (default: the English table)',
  kind: "'textcnn' (the default) or 'encoder': a linear head on a frozen sentence encoder",
  encoder: 'with --kind encoder: the directory of encoder.safetensors and tokenizer.json (a sentence-encoder bundle)',
  name: "the model's name in its card (default: the directory's name)",
};
// Options whose value is a comma-separated list, as `trainer train` takes them.
const LIST_OPTIONS = new Set(['kernels', 'paddings']);

const kebabCase = (name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camelCase = (name) => name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());

/** An error in how the command was called: the message, then the usage. */
class UsageError extends Error {}

// ---- arguments ----

/** `train`'s arguments: { data, noise, out, table, name, options }. */
function parseTrainArgs(args) {
  const flags = {};
  const options = {};
  const positional = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [flag, inline] = splitFlag(arg);
    const name = camelCase(flag);
    const own = Object.hasOwn(TRAIN_FLAGS, name);
    if (!own && !TRAIN_OPTIONS.includes(name) && !ENCODER_TRAIN_OPTIONS.includes(name)) {
      throw new UsageError(`unknown flag --${flag} (known: ${knownFlags().join(', ')})`);
    }
    // The next argument is the value even when it starts with '-': --margin-in -8.
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(`--${flag} needs a value`);
    if (own) flags[name] = value;
    else options[name] = optionValue(name, value);
  }
  if (positional.length !== 1) {
    throw new UsageError(positional.length ? `one data file expected, got ${positional.join(' ')}` : 'no data file (DATA.json)');
  }
  if (flags.out === undefined) throw new UsageError('--out DIR is required');
  return { data: positional[0], ...flags, options };
}

/** `--flag=value` as ['flag', 'value'], `--flag` as ['flag', undefined]. */
function splitFlag(arg) {
  const eq = arg.indexOf('=');
  return eq < 0 ? [arg.slice(2), undefined] : [arg.slice(2, eq), arg.slice(eq + 1)];
}

function knownFlags() {
  return [...new Set([...Object.keys(TRAIN_FLAGS), ...TRAIN_OPTIONS, ...ENCODER_TRAIN_OPTIONS])].map((name) => `--${kebabCase(name)}`);
}

function helpText() {
  const own = Object.entries(TRAIN_FLAGS).map(([name, what]) => `  --${kebabCase(name).padEnd(8)} ${what}`);
  const options = TRAIN_OPTIONS.map((name) => `--${kebabCase(name)}`).join(' ');
  return `${USAGE}\n\ntrain's flags:\n${own.join('\n')}\nand trainer train's, with its defaults: ${options}\n`;
}

/** A flag's text as the option's value: a number where it reads as one, a list for LIST_OPTIONS. */
function optionValue(name, text) {
  const scalar = (t) => (t.trim() !== '' && Number.isFinite(Number(t)) ? Number(t) : t);
  return LIST_OPTIONS.has(name) ? text.split(',').map(scalar) : scalar(text);
}

// ---- files ----

/** The text of the JSON file `path`, checked to parse; errors name the file and where. */
function readJsonText(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory, not a file' : e.message;
    throw new Error(`${path}: cannot read it (${why})`);
  }
  try {
    JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON: ${e.message}${lineAndColumn(text, e.message)}`);
  }
  // The text itself goes to training, which also finds duplicate intent names in it.
  return text;
}

/** ' (line L, column C)' for a JSON.parse message that gives only a position. */
function lineAndColumn(text, message) {
  const position = /at position (\d+)/.exec(message);
  if (!position || /line \d+/.test(message)) return '';
  const before = text.slice(0, Number(position[1])).split('\n');
  return ` (line ${before.length}, column ${before.at(-1).length + 1})`;
}

/**
 * Writes `files` as the directory `out`, as `trainer train` does: into a temporary sibling,
 * synced, then renamed into place, so that `out` is the old bundle or the whole new one.
 */
function writeBundle(out, files) {
  const dir = resolve(out);
  const parent = dirname(dir);
  const staging = join(parent, `.${basename(dir)}.partial-${process.pid}`);
  const previous = join(parent, `.${basename(dir)}.previous-${process.pid}`);
  try {
    mkdirSync(parent, { recursive: true });
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging);
    for (const [name, bytes] of Object.entries(files)) writeSynced(join(staging, name), bytes);
    const hadPrevious = existsSync(dir);
    if (hadPrevious) renameSync(dir, previous);
    renameSync(staging, dir);
    if (hadPrevious) rmSync(previous, { recursive: true, force: true });
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`${out}: cannot write the bundle (${e.message})`);
  }
}

function writeSynced(path, bytes) {
  const fd = openSync(path, 'w');
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

// ---- progress and report ----

const BAR_WIDTH = 30;

// A figure with `digits` decimals; none (null: no unknown sentences to measure it on) is n/a.
const fixed = (v, digits) => (typeof v === 'number' ? v.toFixed(digits) : 'n/a');
const percent = (v, digits) => (typeof v === 'number' ? `${(v * 100).toFixed(digits)}%` : 'n/a');

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** One epoch's line, as `trainer train` prints it; or the sentences an encoder has embedded. */
function epochLine(e) {
  if (e.stage === 'embedding') return `embedded ${e.done}/${e.total} sentences`;
  return (
    `epoch ${String(e.epoch).padStart(3)}  loss ${fixed(e.loss, 4)}  ce ${fixed(e.crossEntropy, 4)}  ` +
    `energy ${fixed(e.energyLoss, 4)}  E(known) ${fixed(e.meanEnergyKnown, 2)}  E(unknown) ${fixed(e.meanEnergyUnknown, 2)}  ` +
    `val acc ${percent(e.valAccuracy, 2)}  val AUROC ${fixed(e.valAuroc, 4)}  ${fixed(e.seconds, 1)}s`
  );
}

/**
 * Progress on stderr: on a terminal a bar with the ETA, redrawn every second; otherwise a
 * line per epoch. `onProgress` is trainClassifier's callback; `end()` stops the redraws.
 */
function progressDisplay(stream = process.stderr) {
  const started = Date.now();
  let last;
  let lastAt;
  let trainingSeconds = 0;
  if (!stream.isTTY) return { onProgress: (e) => stream.write(`${epochLine(e)}\n`), end: () => {} };
  const draw = () => {
    const elapsed = (Date.now() - started) / 1000;
    if (!last) return stream.write(`\r\x1b[Ktraining… ${duration(elapsed)}`);
    if (last.stage === 'embedding') return stream.write(`\r\x1b[K${epochLine(last)}  elapsed ${duration(elapsed)}`);
    const done = last.epoch / last.epochs;
    const filled = Math.round(done * BAR_WIDTH);
    // The epochs' own time, without the start (reading the table, compiling the wasm).
    const perEpoch = trainingSeconds / last.epoch;
    const eta = perEpoch * (last.epochs - last.epoch) - (Date.now() - lastAt) / 1000;
    stream.write(
      `\r\x1b[Kepoch ${last.epoch}/${last.epochs} [${'='.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ` +
        `loss ${fixed(last.loss, 4)}  val acc ${percent(last.valAccuracy, 1)}  ` +
        `elapsed ${duration(elapsed)}  ETA ${duration(eta)}`,
    );
  };
  const timer = setInterval(draw, 1000).unref();
  draw();
  return {
    onProgress: (e) => {
      last = e;
      lastAt = Date.now();
      trainingSeconds += e.seconds ?? 0;
      draw();
    },
    end: () => {
      clearInterval(timer);
      stream.write(`\r\x1b[K${last ? `${epochLine(last)}\n` : ''}`);
    },
  };
}

/** The held-out report of a split in the training summary, as `trainer train` prints it. */
function renderReport(title, r) {
  const pct = (v) => percent(v, 2).padStart(7);
  const figure = (v, digits) => fixed(v, digits).padStart(7);
  return [
    title,
    ...(r.split?.note ? [`  NOTE                     ${r.split.note}`] : []),
    `  known sentences          ${String(r.known).padStart(7)} (${r.split?.intents} intents)`,
    `  unknown sentences        ${String(r.unknown).padStart(7)}`,
    `  energy threshold         ${figure(r.threshold, 3)}`,
    `  in-scope accuracy        ${pct(r.in_scope_accuracy)}`,
    `  closed-set accuracy      ${pct(r.closed_set_accuracy)}`,
    `  out-of-scope recall      ${pct(r.oos_recall)}`,
    `  AUROC (energy)           ${figure(r.auroc, 4)}`,
    `  FPR at 95% TPR           ${figure(r.fpr95, 4)}`,
    '',
  ].join('\n');
}

function printSummary(summary) {
  const { validation, test } = summary.metrics;
  let text = renderReport('validation (threshold chosen here)', validation);
  // Data without a test split (data.json) reports validation twice: print it once.
  if (test?.known > 0 && JSON.stringify(test) !== JSON.stringify(validation)) text += renderReport('test', test);
  process.stdout.write(`${text}calibration: temperature ${fixed(summary.temperature, 3)}\n`);
}

// ---- commands ----

async function train(args) {
  const { data, noise, out, table, name, kind, encoder, options } = parseTrainArgs(args);
  const inputs = { intents: readJsonText(data), negatives: noise === undefined ? undefined : readJsonText(noise) };
  if (encoder !== undefined) {
    if (kind !== 'encoder') throw new UsageError('--encoder DIR goes with --kind encoder');
    inputs.encoder = pathToFileURL(resolve(encoder, BUNDLE_FILES.encoder));
    inputs.tokenizer = pathToFileURL(resolve(encoder, BUNDLE_FILES.tokenizer));
    inputs.encoderName = `${basename(resolve(encoder))} sentence encoder`;
  } else if (kind === 'encoder') {
    throw new UsageError('--kind encoder needs --encoder DIR (encoder.safetensors and tokenizer.json)');
  }
  if (table !== undefined) {
    inputs.table = pathToFileURL(resolve(table, BUNDLE_FILES.table));
    inputs.tokenizer = pathToFileURL(resolve(table, BUNDLE_FILES.tokenizer));
  }
  // Ctrl-C stops the worker; the bundle is written only after training, in one go.
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = progressDisplay();
  let clf;
  try {
    clf = await trainClassifier(inputs, {
      ...options,
      ...(kind === undefined ? {} : { kind }),
      name: name ?? basename(resolve(out)),
      signal: controller.signal,
      onProgress: progress.onProgress,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw new Error(`cancelled; ${out} was not written`, { cause: e });
    throw new Error(nameTheInput(e.message, { intents: data, negatives: noise }, options), { cause: e });
  } finally {
    progress.end();
  }
  writeBundle(out, clf.bundleFiles());
  printSummary(clf.trainingSummary());
  clf.dispose();
  process.stdout.write(`wrote ${out}\n`);
}

/**
 * The training core names its inputs 'intents', 'negatives' and 'options'; here they are
 * files and flags (a bad option value is quoted in the message: "abc" or `abc`).
 */
function nameTheInput(message, files, options) {
  const [input, rest] = message.split(/: (.*)/s);
  if (files[input]) return `${files[input]}: ${rest}`;
  const quoted = (v) => rest?.includes(`"${v}"`) || rest?.includes(`\`${v}\``);
  const flag = input === 'options' && Object.keys(options).find((name) => quoted(options[name]));
  return flag ? `--${kebabCase(flag)} ${options[flag]}: ${rest}` : message;
}

async function classify(args) {
  const [dir, ...texts] = args;
  if (!dir || !texts.length) throw new UsageError('classify needs a bundle directory and at least one text');
  const clf = await loadClassifier(dir);
  for (const text of texts) process.stdout.write(`${JSON.stringify(clf.classify(text))}\n`);
  clf.dispose();
}

const COMMANDS = { train, classify };

async function main([command, ...args]) {
  if (command === undefined || command === '--help' || command === '-h') {
    (command === undefined ? process.stderr : process.stdout).write(helpText());
    process.exitCode = command === undefined ? 2 : 0;
    return;
  }
  try {
    if (!Object.hasOwn(COMMANDS, command)) throw new UsageError(`unknown command ${command} (known: ${Object.keys(COMMANDS).join(', ')})`);
    await COMMANDS[command](args);
  } catch (e) {
    process.stderr.write(`intent-classifier ${command}: ${e.message}\n${e instanceof UsageError ? `${USAGE}\n` : ''}`);
    process.exitCode = e.cause?.name === 'AbortError' ? 130 : e instanceof UsageError ? 2 : 1;
  }
}

await main(process.argv.slice(2));

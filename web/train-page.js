// The training page (train.html): edit intents and negatives (or start from the bundled
// example), choose the kind (a TextCNN, or a sentence encoder from a folder the user names),
// train in a worker with progress and cancel, try queries in the demo's
// result view, move the threshold, download the bundle. Errors in the data are shown and
// the page keeps working.
import { trainClassifier } from './trainer.js';
import { isCalibrated, render, renderCard, renderChips, setUpThreshold } from './result-view.js';

const $ = (id) => document.getElementById(id);
const EXAMPLE = new URL('../examples/everyday/', import.meta.url);

let clf;
let controller;

function status(text, error = false) {
  $('train-status').textContent = text;
  $('train-status').className = error ? 'status error' : 'status';
}

async function loadExample() {
  const get = async (file) => (await fetch(new URL(file, EXAMPLE))).text();
  const [intents, negatives] = await Promise.all([get('data.json'), get('noise.json')]);
  $('intents').value = intents;
  $('negatives').value = negatives;
}

/** One progress entry: an epoch (a TextCNN), or the sentences embedded so far (an encoder). */
function logProgress(e) {
  if (e.stage === 'embedding') {
    $('progress').value = e.done / e.total;
    status(`Embedding the sentences with the encoder: ${e.done}/${e.total}`);
    return;
  }
  const item = document.createElement('li');
  item.textContent = `epoch ${e.epoch}/${e.epochs}: loss ${e.loss.toFixed(3)}, validation accuracy ${
    (e.valAccuracy * 100).toFixed(1)}%, AUROC ${e.valAuroc.toFixed(3)}, ${e.seconds.toFixed(1)} s`;
  $('epochs-log').prepend(item);
  $('progress').value = e.epoch / e.epochs;
  window.trainingProgress.push(e); // for the browser tests
}

/** The training text's unknown-token share by script, and the trainer's warnings, in one line. */
function unreadableLine(u) {
  if (!u) return '';
  const share = u.unknown.reduce((sum, s) => sum + s.share, 0);
  const scripts = u.unknown.map((s) => `${s.script} ${(s.share * 100).toFixed(1)}%`).join(', ');
  const line = `${(share * 100).toFixed(1)}% of ${u.pieces} training word pieces are the unknown token${
    scripts ? ` (${scripts})` : ''}.`;
  return [line, ...u.warnings.map((w) => `Warning: ${w}.`)].join(' ');
}

/** The text to train on, and for a sentence encoder its files (from the folder named). */
function trainingData() {
  const data = { intents: $('intents').value, negatives: $('negatives').value || '[]' };
  if ($('kind').value !== 'encoder') return data;
  const folder = $('encoder').value.trim();
  if (!folder) throw new Error('name the encoder folder (encoder.safetensors and tokenizer.json)');
  const base = new URL(folder.endsWith('/') ? folder : `${folder}/`, document.baseURI);
  return { ...data, encoder: new URL('encoder.safetensors', base), tokenizer: new URL('tokenizer.json', base) };
}

/** The chosen kind's own options: a TextCNN's epochs; an encoder's fit has none here. */
function kindOptions() {
  return $('kind').value === 'encoder' ? { kind: 'encoder' } : { epochs: Number($('epochs').value) };
}

function showKindFields() {
  const encoder = $('kind').value === 'encoder';
  $('encoder-field').hidden = !encoder;
  $('epochs-field').hidden = encoder;
}

async function startTraining() {
  controller = new AbortController();
  $('train').disabled = true;
  $('cancel').disabled = false;
  $('epochs-log').replaceChildren();
  $('progress').value = 0;
  window.trainingProgress = [];
  status('Training…');
  const started = performance.now();
  try {
    clf?.dispose();
    clf = undefined;
    $('try').hidden = true;
    clf = await trainClassifier(trainingData(), {
      ...kindOptions(),
      seed: Number($('seed').value),
      signal: controller.signal,
      onProgress: logProgress,
    });
    const seconds = (performance.now() - started) / 1000;
    window.trainingSeconds = seconds;
    status(`Trained in ${seconds.toFixed(1)} s. ${unreadableLine(clf.trainingSummary().unreadable)}`);
    showModel();
  } catch (e) {
    status(e.name === 'AbortError' ? 'Training cancelled.' : `Could not train: ${e.message}`, e.name !== 'AbortError');
    window.trainingError = e.message;
  } finally {
    $('train').disabled = false;
    $('cancel').disabled = true;
  }
}

function showModel() {
  const info = clf.info();
  const calibrated = isCalibrated(info);
  const input = $('query');
  $('try').hidden = false;
  renderCard(info);
  renderChips(info, input);
  const update = () => {
    const started = performance.now();
    const r = clf.classify(input.value, { topK: 5, evidence: info.explains });
    $('latency').textContent = `${(performance.now() - started).toFixed(1)} ms`;
    render(r, input.value, { calibrated });
  };
  setUpThreshold(info, (threshold) => {
    clf.setThreshold(threshold);
    update();
  });
  input.oninput = update;
  input.focus();
  update();
}

// One file per bundle file: browsers download each (no archive format is built in).
function download() {
  for (const [name, bytes] of Object.entries(clf.bundleFiles())) {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([bytes]));
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }
}

window.trainingProgress = [];
window.trainedClassifier = () => clf; // for the browser tests
// Offline after the first visit (train-sw.js); the page works without it where service
// workers are unavailable (file: URLs, some private modes).
window.offlineReady = 'serviceWorker' in navigator
  ? navigator.serviceWorker.register(new URL('../train-sw.js', import.meta.url)).then(() => navigator.serviceWorker.ready).then(() => true, () => false)
  : Promise.resolve(false);

$('example').addEventListener('click', loadExample);
$('kind').addEventListener('change', showKindFields);
$('train').addEventListener('click', startTraining);
$('cancel').addEventListener('click', () => controller?.abort());
$('download').addEventListener('click', download);
loadExample().then(
  () => {
    $('train').disabled = false;
    status('Ready: edit the data or train on the example.');
  },
  (e) => status(`Could not load the example: ${e.message}`, true),
);

// The demo page: classify as you type, draw the energy against the threshold.
import { loadClassifier } from './classifier.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') ?? 'models/default/';

const EXAMPLES = [
  'weather in paris tomorrow',
  'set a timer for 10 minutes',
  'base64 encode hello world',
  'how many ounces in a liter',
  'translate thank you to spanish',
  'who won the world cup in 1998',
  'tell me a joke',
];

window.classifierReady = loadClassifier(modelUrl, { kernel: params.get('kernel') ?? undefined });
window.classify = async (text, options) => (await window.classifierReady).classify(text, options);

function pct(x) {
  return `${(x * 100).toFixed(1)}%`;
}

function render(clf, text) {
  const t0 = performance.now();
  const r = clf.classify(text, { topK: 5 });
  const ms = performance.now() - t0;
  $('intent').textContent = r.known ? r.intent : 'unknown';
  $('intent').className = r.known ? 'intent known' : 'intent unknown';
  $('confidence').textContent = `confidence ${pct(r.confidence)}`;
  $('latency').textContent = `${ms.toFixed(2)} ms`;
  // Energy gauge: lower is more familiar. Scale around the threshold.
  const lo = r.threshold - 12;
  const hi = r.threshold + 6;
  const pos = (e) => `${Math.min(100, Math.max(0, ((e - lo) / (hi - lo)) * 100))}%`;
  $('energy-marker').style.left = pos(r.energy);
  $('threshold-marker').style.left = pos(r.threshold);
  $('energy-value').textContent = `energy ${r.energy.toFixed(2)} (threshold ${r.threshold.toFixed(2)}: ${
    r.known ? 'at or below, so known' : 'above, so unknown'
  })`;
  const bars = $('top');
  bars.replaceChildren(
    ...r.top.map(({ intent, probability }) => {
      const row = document.createElement('div');
      row.className = 'bar-row';
      const label = document.createElement('span');
      label.className = 'bar-label';
      label.textContent = intent;
      const track = document.createElement('span');
      track.className = 'bar-track';
      const fill = document.createElement('span');
      fill.className = 'bar-fill';
      fill.style.width = pct(probability);
      track.append(fill);
      const value = document.createElement('span');
      value.className = 'bar-value';
      value.textContent = pct(probability);
      row.append(label, track, value);
      return row;
    }),
  );
}

async function main() {
  const input = $('query');
  for (const example of EXAMPLES) {
    const chip = document.createElement('button');
    chip.type = 'button';
    chip.className = 'chip';
    chip.textContent = example;
    chip.addEventListener('click', () => {
      input.value = example;
      input.dispatchEvent(new Event('input'));
    });
    $('examples').append(chip);
  }
  let clf;
  try {
    clf = await window.classifierReady;
  } catch (e) {
    $('status').textContent = `Could not load the model: ${e.message}`;
    $('status').className = 'status error';
    throw e;
  }
  const info = clf.info();
  const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
  $('status').textContent = `Model ready in ${info.loadMs.toFixed(0)} ms: ${info.labels.length} intents, ${
    info.kernel
  } kernel, files ${kb(info.bytes.model)} + ${kb(info.bytes.table)} + ${kb(info.bytes.tokenizer)}.`;
  $('labels').textContent = info.labels.join(' · ');
  input.disabled = false;
  input.addEventListener('input', () => render(clf, input.value));
  input.focus();
  render(clf, input.value);
}

main();

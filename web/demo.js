// The demo page: classify as you type in a module worker (the page's main thread stays
// free, and the page measures that), draw the energy against a threshold you can move,
// highlight the tokens that drove the decision, and show the model card.
//   ?model=DIR  another bundle   ?kernel=simd128|relaxed  a wasm build   ?worker=0  on the page
import { loadClassifier } from './classifier.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') ?? 'models/default/';
const inWorker = params.get('worker') !== '0';

// Suggestion chips come from the model: the trainer keeps a few training sentences per
// intent and a few negatives in the bundle (`training.examples`), so the chips fit whichever
// model is loaded. Bundles without them suggest their intent names.
const KNOWN_CHIPS = 8;
const UNKNOWN_CHIPS = 2;

function suggestions(info) {
  const known = info.training?.examples?.known ?? [];
  const unknown = info.training?.examples?.unknown ?? [];
  if (known.length === 0) return info.labels.slice(0, KNOWN_CHIPS);
  // One sentence each of intents spread evenly over the label list.
  const byIntent = new Map();
  for (const [text, intent] of known) if (!byIntent.has(intent)) byIntent.set(intent, text);
  const texts = [...byIntent.values()];
  const step = Math.max(1, texts.length / KNOWN_CHIPS);
  const picked = [];
  for (let i = 0; i < texts.length && picked.length < KNOWN_CHIPS; i += step) picked.push(texts[Math.floor(i)]);
  return [...picked, ...unknown.slice(0, UNKNOWN_CHIPS)];
}

window.classifierReady = loadClassifier(modelUrl, {
  kernel: params.get('kernel') ?? undefined,
  worker: inWorker,
});
window.classify = async (text, options) => (await window.classifierReady).classify(text, options);

// Main-thread responsiveness while typing: the longest stretch the page spent in our own
// input handling and rendering, and every long task (>= 50 ms) the browser reports.
const responsiveness = { longestMs: 0, longTasks: 0, longestLongTaskMs: 0 };
window.responsiveness = responsiveness;
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      responsiveness.longTasks += 1;
      responsiveness.longestLongTaskMs = Math.max(responsiveness.longestLongTaskMs, e.duration);
    }
    showResponsiveness();
  }).observe({ type: 'longtask', buffered: false });
} catch {
  // No Long Tasks API here: our own measurement remains.
}
function timed(fn) {
  const t0 = performance.now();
  try {
    return fn();
  } finally {
    responsiveness.longestMs = Math.max(responsiveness.longestMs, performance.now() - t0);
  }
}
function showResponsiveness() {
  const r = responsiveness;
  $('responsiveness').textContent = `Main thread while typing (${inWorker ? 'model in a worker' : 'model on the page'}): `
    + `longest task ${r.longestMs.toFixed(1)} ms, long tasks (≥ 50 ms) ${r.longTasks}`
    + (r.longTasks ? `, longest ${r.longestLongTaskMs.toFixed(0)} ms` : '');
}

const pct = (x) => `${(x * 100).toFixed(1)}%`;

function renderEvidence(text, evidence) {
  const box = $('evidence');
  if (!evidence || !text) {
    box.replaceChildren();
    return;
  }
  const spans = evidence.tokens.filter((t) => t.end > t.start);
  const scale = Math.max(1e-6, ...spans.map((t) => Math.abs(t.contribution)));
  const parts = [];
  let at = 0;
  for (const t of spans) {
    if (t.start < at) continue; // overlapping offsets: keep the first token
    if (t.start > at) parts.push(document.createTextNode(text.slice(at, t.start)));
    const span = document.createElement('mark');
    span.textContent = text.slice(t.start, t.end);
    const strength = Math.abs(t.contribution) / scale;
    span.style.background = t.contribution >= 0
      ? `rgba(26, 127, 82, ${(0.12 + 0.6 * strength).toFixed(2)})`
      : `rgba(180, 71, 47, ${(0.12 + 0.6 * strength).toFixed(2)})`;
    span.title = `${t.token}: ${t.contribution >= 0 ? '+' : ''}${t.contribution.toFixed(2)} toward ${evidence.intent}`;
    span.dataset.contribution = String(t.contribution);
    parts.push(span);
    at = t.end;
  }
  if (at < text.length) parts.push(document.createTextNode(text.slice(at)));
  const label = document.createElement('span');
  label.className = 'meta';
  label.textContent = `Tokens toward “${evidence.intent}”: `;
  box.replaceChildren(label, ...parts);
}

function render(r, text) {
  $('intent').textContent = r.known ? r.intent : 'unknown';
  $('intent').className = r.known ? 'intent known' : 'intent unknown';
  $('confidence').textContent = `confidence ${pct(r.confidence)}${calibrated ? ' (calibrated)' : ''}`;
  // Energy gauge: lower is more familiar. Scale around the threshold.
  const lo = r.threshold - 12;
  const hi = r.threshold + 6;
  const pos = (e) => `${Math.min(100, Math.max(0, ((e - lo) / (hi - lo)) * 100))}%`;
  $('energy-marker').style.left = pos(r.energy);
  $('threshold-marker').style.left = pos(r.threshold);
  $('energy-value').textContent = `energy ${r.energy.toFixed(2)} (threshold ${r.threshold.toFixed(2)}: ${
    r.known ? 'at or below, so known' : 'above, so unknown'
  })`;
  $('top').replaceChildren(
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
  renderEvidence(text, r.evidence);
}

// Whether the bundle's probabilities are temperature-scaled (set once the model is loaded).
let calibrated = false;

// What a figure was measured on, and the trainer's warning when it flatters the model.
function splitNote(split) {
  if (!split) return '';
  const size = `${split.sentences} sentences of ${split.intents} intents, ${split.negatives} negatives`;
  return ` (${size}${split.from_training_file ? ', cut from the training file' : ''})${
    split.optimistic ? `. ${split.note ?? 'optimistic'}: expect lower on real queries` : ''
  }`;
}

function calibrationText(c, num) {
  if (!c) return 'none (probabilities are the plain softmax)';
  return `temperature ${num(c.temperature, 2)}; expected calibration error on test ${num(c.test?.before)} → ${
    num(c.test?.after)
  } (${c.test?.sentences} sentences)${c.note ? `; ${c.note}` : ''}`;
}

function renderCard(info) {
  const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
  const m = info.metrics?.test ?? {};
  const num = (x, digits = 3) => (typeof x === 'number' ? x.toFixed(digits) : '—');
  const a = info.architecture;
  const rows = [
    ['Intents', info.labels.join(' · ')],
    ['Threshold', `${info.modelThreshold.toFixed(2)} (energy; above it is unknown)`],
    ['Max length', `${a.max_len} tokens (${info.maxChars} characters read)`],
    ['Network', `TextCNN: ${a.embed_dim}-dim token table, ${a.channels} channels × kernels ${a.branches.map((b) => b.kernel).join('/')}`],
    ['Embedding', info.embedding.source],
    ['License', info.license ?? '—'],
    ['Trained', info.trainedAt ? info.trainedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—'],
    ['Held-out test', `in-scope accuracy ${num(m.in_scope_accuracy)}, AUROC ${num(m.auroc)}, FPR95 ${num(m.fpr95)}${
      splitNote(m.split)}`],
    ['Confidence', calibrationText(info.metrics?.calibration, num)],
    ['Files', `model ${kb(info.bytes.model)}, table ${kb(info.bytes.table)}, tokenizer ${kb(info.bytes.tokenizer)}`
      + (info.cached.length ? ` (from cache: ${info.cached.join(', ')})` : '')],
  ];
  $('card').replaceChildren(
    ...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}

// The evaluation plots the trainer writes next to the bundle, when the bundle has them.
function showPlots() {
  for (const [file, alt] of [
    ['energy-histogram.svg', 'Energy histogram of known and unknown test queries, threshold marked'],
    ['threshold-curve.svg', 'In-scope accuracy and unknown precision and recall against the threshold'],
  ]) {
    const img = document.createElement('img');
    img.alt = alt;
    img.src = new URL(file, new URL(modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`, location.href)).href;
    img.addEventListener('error', () => img.remove());
    $('plots').append(img);
  }
}

function renderChips(info, input) {
  for (const example of suggestions(info)) {
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
}

async function main() {
  const input = $('query');
  let clf;
  try {
    clf = await window.classifierReady;
  } catch (e) {
    $('status').textContent = `Could not load the model: ${e.message}`;
    $('status').className = 'status error';
    throw e;
  }
  const info = await clf.info();
  window.loadStages = { ...info.loadStages, loadMs: info.loadMs }; // for bench/browser.mjs
  $('status').textContent = `Model ready in ${info.loadMs.toFixed(0)} ms: ${info.labels.length} intents, ${
    info.kernel
  } kernel, ${inWorker ? 'in a module worker' : 'on the page'}.`;
  calibrated = typeof info.metrics?.calibration?.temperature === 'number';
  renderCard(info);
  renderChips(info, input);
  showPlots();

  // Answers come back in order; only the newest request's answer is drawn.
  let asked = 0;
  let drawn = 0;
  const update = () => timed(() => {
    const id = ++asked;
    const text = input.value;
    const started = performance.now();
    const answer = clf.classify(text, { topK: 5, evidence: true });
    const show = (r) => timed(() => {
      if (id < drawn) return;
      drawn = id;
      // Navigation to the first answer on screen, for bench/browser.mjs.
      window.firstResultMs ??= performance.now();
      $('latency').textContent = `${(performance.now() - started).toFixed(1)} ms`;
      render(r, text);
      showResponsiveness();
    });
    if (answer instanceof Promise) answer.then(show);
    else show(answer);
  });

  const slider = $('threshold');
  // Wide enough to reach below the typical known query's energy, not just near the threshold.
  const knownEnergy = info.metrics?.validation?.mean_energy_known;
  slider.min = String(Math.floor(Math.min(info.modelThreshold, Number.isFinite(knownEnergy) ? knownEnergy : info.modelThreshold) - 10));
  slider.max = String(Math.ceil(info.modelThreshold + 10));
  slider.value = String(info.modelThreshold);
  slider.disabled = false;
  const showThreshold = () => {
    const t = Number(slider.value);
    $('threshold-value').textContent = `${t.toFixed(1)} (model: ${info.modelThreshold.toFixed(1)})`;
  };
  showThreshold();
  slider.addEventListener('input', async () => {
    showThreshold();
    await clf.setThreshold(Number(slider.value));
    update();
  });

  input.disabled = false;
  input.addEventListener('input', update);
  input.focus();
  update();
  showResponsiveness();
}

main();

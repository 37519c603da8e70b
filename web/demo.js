// The demo page: classify as you type (on the page: its first answer comes sooner than from
// a module worker, and a keystroke's work stays under 5 ms; the page measures that), draw
// the energy against a threshold you can move, highlight the tokens that drove the
// decision, and show the model card.
//   ?model=DIR  another bundle   ?kernel=simd128|relaxed  a wasm build   ?worker=1  in a worker
import { loadClassifier } from './classifier.js';
import { isCalibrated, render, renderCard, renderChips, setUpThreshold } from './result-view.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') ?? 'models/default/';
const inWorker = params.get('worker') === '1';

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
    info.kernel ? `${info.kernel} kernel` : 'sentence encoder'
  }, ${inWorker ? 'in a module worker' : 'on the page'}.`;
  // Token evidence explains a TextCNN; a sentence encoder reads the query whole.
  const evidence = info.explains;
  const calibrated = isCalibrated(info);
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
    const answer = clf.classify(text, { topK: 5, evidence });
    const show = (r) => timed(() => {
      if (id < drawn) return;
      drawn = id;
      // Navigation to the first answer on screen, for bench/browser.mjs.
      window.firstResultMs ??= performance.now();
      $('latency').textContent = `${(performance.now() - started).toFixed(1)} ms`;
      render(r, text, { calibrated });
      showResponsiveness();
    });
    if (answer instanceof Promise) answer.then(show);
    else show(answer);
  });

  setUpThreshold(info, async (threshold) => {
    await clf.setThreshold(threshold);
    update();
  });

  input.disabled = false;
  input.addEventListener('input', update);
  input.focus();
  update();
  showResponsiveness();
}

main();

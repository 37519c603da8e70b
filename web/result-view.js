// The result view shared by the demo (index.html) and the training page (train.html): the
// intent, calibrated confidence, energy gauge against the threshold, top intents, the tokens
// that drove the decision, the model card and suggestion chips. Each page holds the same
// element ids (see index.html).

const $ = (id) => document.getElementById(id);

// Suggestion chips come from the model: the trainer keeps a few training sentences per
// intent and a few negatives in the bundle (`training.examples`), so the chips fit whichever
// model is loaded. Bundles without them suggest their intent names.
const KNOWN_CHIPS = 8;
const UNKNOWN_CHIPS = 2;

export function suggestions(info) {
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

/** What the page adds to "unknown" for each reason decided before the energy. */
const UNKNOWN_BECAUSE = {
  unreadable: ' — the model cannot read this text',
  unfamiliar: ' — nothing here the model knows (no word of its intents, or another script)',
};

/** Draws one classify() result (with `evidence`) for `text`. */
export function render(r, text, { calibrated = false } = {}) {
  // Unreadable and unfamiliar text is unknown before the energy is looked at; the page says so.
  $('intent').textContent = r.known ? r.intent : `unknown${UNKNOWN_BECAUSE[r.reason] ?? ''}`;
  $('intent').className = r.known ? 'intent known' : 'intent unknown';
  // A repaired typo is shown, so a user sees what the model read.
  $('confidence').textContent = `confidence ${pct(r.confidence)}${calibrated ? ' (calibrated)' : ''}${
    r.repaired ? `, read as “${r.repaired}”` : ''
  }`;
  // Energy gauge: lower is more familiar. Scale around the threshold.
  const lo = r.threshold - 12;
  const hi = r.threshold + 6;
  const pos = (e) => `${Math.min(100, Math.max(0, ((e - lo) / (hi - lo)) * 100))}%`;
  $('energy-marker').style.left = pos(r.energy);
  $('threshold-marker').style.left = pos(r.threshold);
  $('energy-value').textContent = `energy ${r.energy.toFixed(2)} (threshold ${r.threshold.toFixed(2)}: ${
    r.known ? 'at or below, so known' : r.reason === 'energy' ? 'above, so unknown' : 'not used'
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

/** The model card of a classifier's info(). */
export function renderCard(info) {
  const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
  const m = info.metrics?.test ?? {};
  const num = (x, digits = 3) => (typeof x === 'number' ? x.toFixed(digits) : '—');
  const a = info.architecture;
  const network = a
    ? [
      ['Max length', `${a.max_len} tokens (${info.maxChars} characters read)`],
      ['Network', `TextCNN: ${a.embed_dim}-dim token table, ${a.channels} channels × kernels ${a.branches.map((b) => b.kernel).join('/')}`],
      ['Embedding', info.embedding.source],
    ]
    : [
      ['Network', `sentence encoder (${info.dim}-dim vectors), ${info.training?.head ?? 'linear head'}`],
      ['Encoder', info.training?.encoder ?? '—'],
    ];
  const files = Object.entries(info.bytes).map(([role, n]) => `${role} ${kb(n)}`).join(', ');
  const rows = [
    ['Intents', info.labels.join(' · ')],
    ['Threshold', `${info.modelThreshold.toFixed(2)} (energy; above it is unknown)`],
    ...network,
    ['License', info.license ?? '—'],
    ['Trained', info.trainedAt ? info.trainedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—'],
    ['Held-out test', `in-scope accuracy ${num(m.in_scope_accuracy)}, AUROC ${num(m.auroc)}, FPR95 ${num(m.fpr95)}${
      splitNote(m.split)}`],
    ['Confidence', calibrationText(info.metrics?.calibration, num)],
    ['Files', files + (info.cached.length ? ` (from cache: ${info.cached.join(', ')})` : '')],
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

/** Chips that fill `input` with suggestions that fit the model. */
export function renderChips(info, input) {
  $('examples').replaceChildren();
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


/** Whether the bundle's probabilities are temperature-scaled. */
export function isCalibrated(info) {
  return typeof info.metrics?.calibration?.temperature === 'number';
}

/**
 * The threshold slider for a classifier's info(), enabled; `onChange(threshold)` (which may
 * return a Promise) runs on each move. Called again for another model, it replaces the last.
 */
export function setUpThreshold(info, onChange) {
  const slider = $('threshold');
  // Wide enough to reach below the typical known query's energy, not just near the threshold.
  const knownEnergy = info.metrics?.validation?.mean_energy_known;
  const low = Number.isFinite(knownEnergy) ? Math.min(knownEnergy, info.modelThreshold) : info.modelThreshold;
  slider.min = String(Math.floor(low - 10));
  slider.max = String(Math.ceil(info.modelThreshold + 10));
  slider.value = String(info.modelThreshold);
  slider.disabled = false;
  const show = () => {
    $('threshold-value').textContent = `${Number(slider.value).toFixed(1)} (model: ${info.modelThreshold.toFixed(1)})`;
  };
  show();
  slider.oninput = async () => {
    show();
    await onChange(Number(slider.value));
  };
}

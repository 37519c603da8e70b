// Training in the page or in Node: trainClassifier() runs the training core (crates/web-train,
// its own wasm module, so pages that only classify never fetch it) in a module worker (in
// Node a worker_threads worker, web/node-train.js) and resolves to a classifier with the API
// of loadClassifier's, plus the bundle's files for a download.
//
//   import { trainClassifier } from 'intent-classifier/train';   // or './trainer.js'
//   const clf = await trainClassifier(
//     { intents: { weather: ['weather today', ...], ... }, negatives: ['tell me a joke', ...] },
//     { epochs: 30, onProgress: (e) => console.log(e.epoch, e.valAccuracy), signal },
//   );
//   clf.classify('will it rain');  clf.bundleFiles();  // { 'model.safetensors': Uint8Array, ... }
import { BUNDLE_FILES, Classifier, classifierFromFiles, describeValue } from './classifier.js';
import { ENCODER_TRAIN_OPTIONS, TRAIN_OPTIONS } from './facts.js';
import { fetchBytes, platform } from './sources.js';

/**
 * Where the token table and tokenizer come from when the call names none: the package's
 * copy (web/scripts/prepack.mjs puts it there).
 */
export const DEFAULT_TABLE = new URL('./assets/minilm-l6-v2/', import.meta.url);
// The original, read in the repository until `npm pack` has made the copy.
const REPO_TABLE = new URL('../assets/minilm-l6-v2/', import.meta.url);

/** Option names of a TextCNN run (TrainConfig in crates/training) and of a sentence-encoder
 * fit (EncoderConfig), camelCase here; generated from the crates into facts.js. */
export { ENCODER_TRAIN_OPTIONS, TRAIN_OPTIONS };
/** Options of the call itself, beside the kind's. */
const CALL_OPTIONS = ['onProgress', 'signal', 'kernel', 'name', 'kind'];
const snakeCase = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camelCase = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/** `intents` as JSON text: a string is passed as it is (the core finds duplicate keys in it). */
function intentsJson(intents) {
  if (typeof intents === 'string') return intents;
  if (intents === null || typeof intents !== 'object' || Array.isArray(intents)) {
    throw new TypeError(`trainClassifier: intents must be an object { intent: [sentences] } or its JSON text, got ${describeValue(intents)}`);
  }
  for (const [name, sentences] of Object.entries(intents)) {
    if (!Array.isArray(sentences)) {
      throw new TypeError(`trainClassifier: intents[${JSON.stringify(name)}] must be an array of strings, got ${describeValue(sentences)}`);
    }
    sentences.forEach((s, i) => {
      if (typeof s !== 'string') {
        throw new TypeError(`trainClassifier: intents[${JSON.stringify(name)}][${i}] must be a string, got ${describeValue(s)}`);
      }
    });
  }
  return JSON.stringify(intents);
}

/** `negatives` as JSON text (none: an empty list). */
function negativesJson(negatives) {
  if (negatives === undefined) return '[]';
  if (typeof negatives === 'string') return negatives;
  if (!Array.isArray(negatives)) {
    throw new TypeError(`trainClassifier: negatives must be an array of strings or its JSON text, got ${describeValue(negatives)}`);
  }
  negatives.forEach((s, i) => {
    if (typeof s !== 'string') throw new TypeError(`trainClassifier: negatives[${i}] must be a string, got ${describeValue(s)}`);
  });
  return JSON.stringify(negatives);
}

/** The run's options as the core reads them (snake_case JSON); names the kind does not take are refused. */
function configJson(options, kind) {
  const known = TRAINED_KINDS[kind].options;
  const config = {};
  for (const [name, value] of Object.entries(options)) {
    if (CALL_OPTIONS.includes(name)) continue;
    if (!known.includes(name)) {
      const other = Object.keys(TRAINED_KINDS).find((k) => TRAINED_KINDS[k].options.includes(name));
      if (other) throw new TypeError(`trainClassifier: option ${name} applies to kind '${other}', not '${kind}'`);
      throw new TypeError(`trainClassifier: unknown option ${name} (known: ${known.join(', ')}, ${CALL_OPTIONS.join(', ')})`);
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new RangeError(`trainClassifier: options.${name} must be a finite number, got ${value}`);
    }
    if (value !== undefined) config[snakeCase(name)] = value;
  }
  return JSON.stringify(config);
}

/** Bytes of `source`: a Uint8Array, an ArrayBuffer, or a URL to fetch. */
async function bytesOf(source, what) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof source === 'string' || source instanceof URL) return fetchBytes(new URL(source, platform.baseUrl()), what);
  throw new TypeError(`trainClassifier: ${what} must be bytes (Uint8Array, ArrayBuffer) or a URL, got ${describeValue(source)}`);
}

/** Bytes of `file` of the default table: the package's copy, else the repository's. */
async function defaultTableFile(file) {
  try {
    return await bytesOf(new URL(file, DEFAULT_TABLE), file);
  } catch (packaged) {
    try {
      return await bytesOf(new URL(file, REPO_TABLE), file);
    } catch {
      throw new Error(`${packaged.message}; nor is it at ${new URL(file, REPO_TABLE)}: pass data.table and data.tokenizer`);
    }
  }
}

/** A classifier trained in this page: loadClassifier's API, plus the bundle's files. */
export class TrainedClassifier extends Classifier {
  #files;
  #summary;

  constructor(inner, load, { files, summary }) {
    super(inner, load);
    this.#files = files;
    this.#summary = summary;
  }

  /** The bundle as files by name: model.safetensors, table.safetensors (or encoder.safetensors), tokenizer.json, README.md. */
  bundleFiles() {
    return { ...this.#files };
  }

  /** Threshold, temperature, validation figures and each epoch's figures. */
  trainingSummary() {
    return structuredClone(this.#summary);
  }
}

/** `options.kind`, checked: 'textcnn' (the default) or 'encoder'. */
function trainedKind(kind = 'textcnn') {
  if (!Object.hasOwn(TRAINED_KINDS, kind)) {
    throw new TypeError(`trainClassifier: options.kind must be one of ${Object.keys(TRAINED_KINDS).map((k) => `'${k}'`).join(', ')}, got ${describeValue(kind)}`);
  }
  return kind;
}

/** A TextCNN's files beside the text: the token table and its tokenizer (default: DEFAULT_TABLE). */
async function tableFiles(data) {
  const [table, tokenizer] = await Promise.all([
    data.table === undefined ? defaultTableFile(BUNDLE_FILES.table) : bytesOf(data.table, 'table'),
    data.tokenizer === undefined ? defaultTableFile(BUNDLE_FILES.tokenizer) : bytesOf(data.tokenizer, 'tokenizer'),
  ]);
  return { table, tokenizer };
}

/** A sentence encoder's files beside the text, which the call must name (none ships with the package). */
async function encoderFiles(data) {
  if (data.encoder === undefined || data.tokenizer === undefined) {
    throw new TypeError(`trainClassifier: kind 'encoder' needs data.encoder and data.tokenizer (the bytes or URLs of ${BUNDLE_FILES.encoder} and ${BUNDLE_FILES.tokenizer}, as a sentence-encoder bundle holds them)`);
  }
  const [encoder, tokenizer] = await Promise.all([bytesOf(data.encoder, 'encoder'), bytesOf(data.tokenizer, 'tokenizer')]);
  return { encoder, tokenizer };
}

/**
 * The model kinds trainClassifier makes, by `options.kind`: the options each takes and the
 * files its training reads beside the text, by role (web/train-worker.js has each kind's
 * training module).
 */
const TRAINED_KINDS = {
  textcnn: { options: TRAIN_OPTIONS, inputs: tableFiles },
  encoder: { options: ENCODER_TRAIN_OPTIONS, inputs: encoderFiles },
};

/**
 * Trains a classifier in a worker (a module Worker in pages, worker_threads in Node).
 * `data`: { intents, negatives?, table?, tokenizer?, encoder?, encoderName? }. intents is
 * { intent: [sentences] } (data.json) or its JSON text; negatives is [sentences]
 * (noise.json) or its JSON text. For the TextCNN (the default kind) table and tokenizer
 * are the bytes or URLs of table.safetensors and tokenizer.json (default: the English
 * table, DEFAULT_TABLE); for kind 'encoder', encoder and tokenizer are those of
 * encoder.safetensors and tokenizer.json (a sentence-encoder bundle's), and encoderName
 * names the encoder on the model card.
 * `options`: kind ('textcnn' or 'encoder'); the trainer's flags in camelCase
 * (TRAIN_OPTIONS for a TextCNN: epochs, seed, batchSize, ...; ENCODER_TRAIN_OPTIONS for
 * an encoder: seed, thresholdRule, threshold; both take valFraction); onProgress, called
 * after each epoch with { epoch, epochs, loss, valAccuracy, valAuroc, seconds, ... } (a
 * TextCNN) or as sentences are embedded with { stage: 'embedding', done, total } (an
 * encoder); signal (an AbortSignal: aborting stops the worker and rejects with an
 * AbortError); kernel (the classifier's wasm build); name (the model card's).
 */
export async function trainClassifier(data, options = {}) {
  if (data === null || typeof data !== 'object') {
    throw new TypeError(`trainClassifier: data must be { intents, negatives, table, tokenizer }, got ${describeValue(data)}`);
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`trainClassifier: options must be an object, got ${describeValue(options)}`);
  }
  const { signal, onProgress } = options;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError(`trainClassifier: options.onProgress must be a function, got ${describeValue(onProgress)}`);
  }
  const kind = trainedKind(options.kind);
  signal?.throwIfAborted();
  const request = {
    kind,
    intents: intentsJson(data.intents),
    negatives: negativesJson(data.negatives),
    config: configJson(options, kind),
    name: options.name ?? 'intent-classifier',
    encoderName: String(data.encoderName ?? 'sentence encoder'),
  };
  const inputs = await TRAINED_KINDS[kind].inputs(data);
  signal?.throwIfAborted();
  const result = await runWorker({ ...request, ...inputs }, signal, (entry) => {
    onProgress?.(Object.fromEntries(Object.entries(entry).map(([k, v]) => [camelCase(k), v])));
  });
  const loaded = { model: result.model, ...inputs };
  const files = Object.fromEntries(Object.entries(loaded).map(([role, bytes]) => [BUNDLE_FILES[role], bytes]));
  files['README.md'] = new TextEncoder().encode(result.modelCard);
  const make = (inner, load) => new TrainedClassifier(inner, load, { files, summary: result.summary });
  return classifierFromFiles(loaded, options, make);
}

/** Runs one training in a fresh worker; resolves to { model, summary, modelCard }. */
function runWorker(request, signal, onProgress) {
  const worker =
    platform.startWorker?.('train-worker.js') ?? new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    // Messages already queued when the run ends (an epoch after an abort) are dropped.
    let ended = false;
    const finish = () => {
      ended = true;
      worker.terminate();
      signal?.removeEventListener('abort', aborted);
    };
    const aborted = () => {
      finish();
      reject(signal.reason ?? new DOMException('training was cancelled', 'AbortError'));
    };
    signal?.addEventListener('abort', aborted, { once: true });
    worker.onerror = (e) => {
      if (ended) return;
      finish();
      reject(new Error(`training worker: ${e.message ?? 'failed to start'}`));
    };
    worker.onmessage = ({ data }) => {
      if (ended) return;
      if (data.type === 'progress') return onProgress(data.entry);
      finish();
      if (data.type === 'error') reject(new (data.errorType === 'TypeError' ? TypeError : Error)(data.error));
      else resolve(data);
    };
    worker.postMessage(request);
  });
}

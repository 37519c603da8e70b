// The classifier for web pages: fetches a bundle (model, token table, tokenizer) in
// parallel, checks it in wasm, and classifies text on the spot.
//
//   import { loadClassifier } from './web/classifier.js';
//   const clf = await loadClassifier('models/default/');
//   clf.classify('weather tomorrow');  // { intent, known, confidence, energy, threshold, top }


/** The bundle's files, by role. */
export const BUNDLE_FILES = Object.freeze({
  model: 'model.safetensors',
  table: 'table.safetensors',
  tokenizer: 'tokenizer.json',
});

// A minimal module using one relaxed-SIMD instruction (f32x4.relaxed_madd): browsers that
// validate it get the build with fused multiply-add kernels.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0,
  253, 17, 65, 0, 253, 17, 65, 0, 253, 17, 253, 133, 2, 11,
]);

/** 'relaxed' when this browser runs relaxed-SIMD wasm, else 'simd128'. */
export function detectKernel() {
  try {
    return WebAssembly.validate(RELAXED_SIMD_PROBE) ? 'relaxed' : 'simd128';
  } catch {
    return 'simd128';
  }
}

const builds = new Map();
/** Instantiates a wasm build once per page; resolves to its module exports. */
export function initWasm(kernel = detectKernel()) {
  if (!builds.has(kernel)) {
    const glue = kernel === 'relaxed' ? './pkg-relaxed/intent_web.js' : './pkg/intent_web.js';
    builds.set(kernel, import(glue).then(async (m) => (await m.default(), m)));
  }
  return builds.get(kernel);
}

/** Bytes of linear memory the wasm build holds (it only grows; for leak tests). */
export async function wasmMemoryBytes(kernel = detectKernel()) {
  await initWasm(kernel);
  const glue = kernel === 'relaxed' ? './pkg-relaxed/intent_web.js' : './pkg/intent_web.js';
  // Once initialized, the glue's init returns the instance exports, memory among them.
  const exports = await (await import(glue)).default();
  return exports.memory.buffer.byteLength;
}

async function fetchFile(base, name) {
  const url = new URL(name, base);
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`${name}: cannot fetch ${url} (${e.message})`);
  }
  if (!response.ok) {
    throw new Error(`${name}: HTTP ${response.status} ${response.statusText} for ${url}`);
  }
  if ((response.headers.get('content-type') ?? '').startsWith('text/html')) {
    throw new Error(`${name}: the server sent an HTML page instead of the file (${url})`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Loads a classifier from a bundle directory URL (relative URLs resolve against the page).
 * Rejects with an Error naming the file that is missing, corrupt or mismatched.
 * `options.kernel`: 'relaxed' or 'simd128' to choose the wasm build (default: detected).
 */
export async function loadClassifier(modelBaseUrl = 'models/default/', options = {}) {
  const started = performance.now();
  const dir = modelBaseUrl.endsWith('/') ? modelBaseUrl : `${modelBaseUrl}/`;
  const base = new URL(dir, globalThis.document?.baseURI ?? globalThis.location?.href);
  const [wasm, model, table, tokenizer] = await Promise.all([
    initWasm(options.kernel),
    fetchFile(base, BUNDLE_FILES.model),
    fetchFile(base, BUNDLE_FILES.table),
    fetchFile(base, BUNDLE_FILES.tokenizer),
  ]);
  const inner = new wasm.IntentClassifier(model, table, tokenizer);
  return new Classifier(inner, {
    loadMs: performance.now() - started,
    bytes: { model: model.length, table: table.length, tokenizer: tokenizer.length },
  });
}

export class Classifier {
  #inner;
  #load;

  constructor(inner, load) {
    this.#inner = inner;
    this.#load = load;
  }

  /** @param {string} text  @param {{topK?: number, threshold?: number}} [options] */
  classify(text, options) {
    return this.#live().classify(String(text ?? ''), options);
  }

  classifyBatch(texts, options) {
    return this.#live().classifyBatch(Array.from(texts, (t) => String(t ?? '')), options);
  }

  /** Raw logits in label order (Float32Array). */
  logits(text) {
    return this.#live().logits(String(text ?? ''));
  }

  /** Logits for token ids from `tokenIds` (table lookup and forward pass only). */
  logitsForIds(ids) {
    return this.#live().logitsForIds(Uint32Array.from(ids));
  }

  tokenIds(text) {
    return this.#live().tokenIds(String(text ?? ''));
  }

  /** Labels, threshold, shape, embedding source, training and metrics, load time and sizes. */
  info() {
    return { ...this.#live().info(), loadMs: this.#load.loadMs, bytes: this.#load.bytes };
  }

  /** Frees the wasm memory this classifier holds. */
  dispose() {
    this.#inner?.free();
    this.#inner = undefined;
  }

  #live() {
    if (!this.#inner) throw new Error('this classifier was disposed');
    return this.#inner;
  }
}

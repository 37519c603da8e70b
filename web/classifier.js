// The classifier for web pages and Node.js: fetches a bundle (model, token table,
// tokenizer) in parallel, checks it in wasm, and classifies text on the spot, on the page
// or in a worker. In browsers the large files are kept in the Cache API under their sha256.
// A bundle of the sentence-encoder kind (`trainer encoder`: encoder.safetensors in place of
// the table) loads the same way, into a wasm module of its own fetched only for it.
// Node (web/node.js, the package's `node` entry) reads paths and file: URLs from disk.
//
//   import { loadClassifier } from 'intent-classifier';
//   const clf = await loadClassifier('models/default/');   // or 'hf:user/repo', '/abs/dir/'
//   clf.classify('weather tomorrow');  // { intent, known, confidence, energy, threshold, top, repaired? }

// The rest lives in modules the worker (worker.js) shares: core.js (loading, the page
// Classifier), checks.js, kinds.js, fetch-bundle.js, wasm.js.
import { checkOptions, checkText, checkTexts, checkThreshold } from './checks.js';
import { loadHere, prefetch } from './core.js';
import { openSource, platform } from './sources.js';
import { useGlue } from './wasm.js';

export { env } from './hub.js';
export { describeValue } from './checks.js';
export { Classifier, classifierFromFiles } from './core.js';
export { CACHE_NAME } from './fetch-bundle.js';
export { BUNDLE_FILES, ENCODER_FORMAT, TEXTCNN_FORMAT, bundleLayout, safetensorsMetadata } from './kinds.js';
export { detectKernel, initWasm, wasmMemoryBytes } from './wasm.js';

// On the page each build's glue is imported when first needed, so a page fetches only the
// one it runs. Literal specifiers, so that bundlers see, copy and hash it.
useGlue({
  relaxed: () => import('./pkg-relaxed/intent_web.js'),
  simd128: () => import('./pkg/intent_web.js'),
  encoder: () => import('./pkg-encoder/intent_encoder_web.js'),
});

/**
 * Loads a classifier from a bundle directory: a URL (relative URLs resolve against the
 * page), an `hf:user/repo[@revision]` Hub id, or in Node a path or file: URL.
 * Rejects with an Error naming the file that is missing, corrupt or mismatched.
 * `options.kernel`: 'relaxed' or 'simd128' to choose the wasm build (default: detected).
 * `options.worker`: run in a worker (module Worker; worker_threads in Node); every method
 * then returns a Promise.
 * `options.cache`: keep table and tokenizer in the Cache API (default true; browsers only).
 * `options.hubUrl`: where `hf:` ids resolve (default `env.hubUrl`, https://huggingface.co).
 */
export async function loadClassifier(modelBaseUrl = 'models/default/', options = {}) {
  const source = openSource(modelBaseUrl, options);
  return options.worker ? WorkerClassifier.start(source, options) : loadHere(source, options);
}

// The error types a worker's answer can name; others arrive as Error.
const ERROR_TYPES = { TypeError, RangeError };

/** The same API in a module worker: every method returns a Promise. */
export class WorkerClassifier {
  #worker;
  #pending = new Map();
  #next = 0;

  static async start(source, options) {
    // In browsers the page fetches the files and compiles the wasm while the worker's own
    // scripts load, then hands both over: the downloads start a module waterfall earlier.
    // Node's worker reads from disk itself.
    const prefetched = platform.startWorker ? undefined : prefetch(source, options);
    prefetched?.catch(() => {}); // awaited below, after the worker starts
    // Written out in full: the form bundlers recognise and bundle as a worker entry.
    const worker = platform.startWorker?.() ?? new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    const clf = new WorkerClassifier(worker);
    const { kernel, cache } = options;
    try {
      if (prefetched) {
        // Posted as copies (a millisecond for 2 MB): the page keeps its bytes for the cache.
        const { files, module, fetched, bundle } = await prefetched;
        await clf.#call('loadFiles', [files, { kernel: fetched.kernel, module, fetched }]);
        await bundle.store();
      } else {
        await clf.#call('load', [source.location, { kernel, cache, hubUrl: source.hubUrl }]);
      }
    } catch (e) {
      clf.dispose();
      throw e;
    }
    return clf;
  }

  constructor(worker) {
    this.#worker = worker;
    worker.onmessage = ({ data }) => {
      const pending = this.#pending.get(data.id);
      if (!pending) return;
      this.#pending.delete(data.id);
      if ('error' in data) pending.reject(new (ERROR_TYPES[data.errorType] ?? Error)(data.error));
      else pending.resolve(data.result);
    };
    worker.onerror = (e) => this.#failAll(new Error(`classifier worker: ${e.message ?? 'failed to start'}`));
  }

  #failAll(error) {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }

  /** Posts `method` with the arguments `args()` returns; its checks' errors reject. */
  #call(method, args) {
    if (!this.#worker) return Promise.reject(new Error('this classifier was disposed'));
    try {
      args = typeof args === 'function' ? args() : args;
    } catch (e) {
      return Promise.reject(e);
    }
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, method, args });
    });
  }

  classify(text, options) {
    return this.#call('classify', () => [checkText(text, 'classify: text'), checkOptions(options, 'classify')]);
  }
  classifyBatch(texts, options) {
    return this.#call('classifyBatch', () => [checkTexts(texts, 'classifyBatch'), checkOptions(options, 'classifyBatch')]);
  }
  setThreshold(threshold) {
    return this.#call('setThreshold', () => [threshold === undefined ? undefined : checkThreshold(threshold, 'setThreshold: threshold')]);
  }
  logits(text) { return this.#call('logits', () => [checkText(text, 'logits: text')]); }
  logitsForIds(ids) { return this.#call('logitsForIds', [Array.from(ids)]); }
  tokenIds(text) { return this.#call('tokenIds', () => [checkText(text, 'tokenIds: text')]); }
  info() { return this.#call('info', []); }

  /** Ends the worker (and the wasm memory with it). */
  dispose() {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#failAll(new Error('this classifier was disposed'));
  }
}

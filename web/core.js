// What the page and the classifier's worker share: loading a bundle (fetch-bundle.js) into
// the wasm build of its kind (kinds.js, wasm.js), and the page Classifier, whose arguments
// checks.js checks. The package's entries are classifier.js (pages, and Node through
// node.js) and worker.js; each says in wasm.js how to get the wasm glue (useGlue).
import { checkOptions, checkText, checkTexts, checkThreshold } from './checks.js';
import { fetchBundle } from './fetch-bundle.js';
import { kindOf, safetensorsMetadata } from './kinds.js';
import { chosenKernel, compileWasm, detectKernel, initWasm } from './wasm.js';

/** The wasm object for a bundle's files, of the kind its model file names. */
async function wasmClassifier(files, kernel, compiled) {
  const kind = kindOf(safetensorsMetadata(files.model));
  const chosen = kernel ?? detectKernel();
  const build = kind.build(chosen);
  // `compiled` is the kernel's build, compiled on the page for a worker.
  return kind.create(await initWasm(build, build === chosen ? compiled : undefined), files);
}

/** Bytes per file, for info(). */
function sizes(files) {
  return Object.fromEntries(Object.entries(files).map(([role, bytes]) => [role, bytes.length]));
}

// Model card fields derived from the bundle's metadata.
function card(info) {
  const unix = info.training?.unix_time;
  // The source names its license in parentheses, e.g. `... (Apache-2.0), pruned to ...`.
  const source = info.embedding?.source ?? info.training?.encoder ?? '';
  const license = /\(([^()]+)\)/.exec(source)?.[1] ?? null;
  return {
    trainedAt: typeof unix === 'number' ? new Date(unix * 1000).toISOString() : null,
    license,
  };
}

/**
 * The wasm module and the bundle's files for a worker, fetched on the page; the timings are
 * durations since the call, as loadClassifier reports them.
 */
export async function prefetch(source, options) {
  const started = performance.now();
  const since = () => performance.now() - started;
  const kernel = chosenKernel(options.kernel);
  const stages = {};
  let build;
  let module;
  const bundle = await fetchBundle(source, options.cache ?? true, (kind) => {
    build = kind.build(kernel);
    module = compileWasm(build).then((m) => ((stages.wasmMs = since()), m));
    module.catch(() => {}); // awaited below, once the files are in
  });
  stages.filesMs = since();
  return {
    files: bundle.files,
    module: await module,
    // The worker's `kernel` is the build compiled here, so it uses `module`.
    fetched: { kernel: build, stages, cached: bundle.cached, elapsedMs: since() },
    bundle,
  };
}

/** loadClassifier without a worker: the classifier in this page (or worker), from `source` (openSource). */
export async function loadHere(source, options) {
  const started = performance.now();
  const since = () => performance.now() - started;
  const stages = {};
  // The kind's wasm downloads beside its files, from when the model file names the kind.
  const kernel = chosenKernel(options.kernel);
  let wasm;
  const bundle = await fetchBundle(source, options.cache ?? true, (kind) => {
    wasm = initWasm(kind.build(kernel)).then(() => (stages.wasmMs = since()));
    wasm.catch(() => {}); // awaited below, once the files are in
  });
  stages.filesMs = since();
  await wasm;
  const setupStarted = performance.now();
  const inner = await wasmClassifier(bundle.files, kernel);
  stages.setupMs = performance.now() - setupStarted;
  await bundle.store();
  return new Classifier(inner, {
    loadMs: since(),
    loadStages: stages,
    bytes: sizes(bundle.files),
    cached: bundle.cached,
  });
}

/**
 * A classifier from a bundle's three files already in memory ({ model, table, tokenizer }
 * as Uint8Array), on the page. `options.kernel` as for loadClassifier; `make(inner, load)`
 * builds the object (trainClassifier's TrainedClassifier, web/trainer.js).
 */
export async function classifierFromFiles(files, options = {}, make = (inner, load) => new Classifier(inner, load)) {
  const started = performance.now();
  const inner = await wasmClassifier(files, options.kernel, options.module);
  const setupMs = performance.now() - started;
  const { stages = {}, elapsedMs = 0, cached = [] } = options.fetched ?? {};
  return make(inner, {
    loadMs: elapsedMs + performance.now() - started,
    loadStages: options.fetched ? { ...stages, setupMs } : {},
    bytes: sizes(files),
    cached,
  });
}

export class Classifier {
  #inner;
  #load;
  #threshold;

  constructor(inner, load) {
    this.#inner = inner;
    this.#load = load;
  }

  // The module takes options and returns results as JSON text (crates/web).
  #options(options) {
    const merged = this.#threshold === undefined ? options : { threshold: this.#threshold, ...options };
    return merged === undefined ? undefined : JSON.stringify(merged);
  }

  /** @param {string} text  @param {{topK?: number, threshold?: number}} [options] */
  classify(text, options) {
    checkText(text, 'classify: text');
    return JSON.parse(this.#live().classify(text, this.#options(checkOptions(options, 'classify'))));
  }

  classifyBatch(texts, options) {
    const list = checkTexts(texts, 'classifyBatch');
    return JSON.parse(this.#live().classifyBatch(list, this.#options(checkOptions(options, 'classifyBatch'))));
  }

  /** Sets the energy threshold for later calls; undefined restores the model's own. */
  setThreshold(threshold) {
    if (threshold !== undefined) checkThreshold(threshold, 'setThreshold: threshold');
    this.#threshold = threshold;
  }

  /** Raw logits in label order (Float32Array). */
  logits(text) {
    return this.#live().logits(checkText(text, 'logits: text'));
  }

  /** Logits for token ids from `tokenIds` (table lookup and forward pass only; TextCNN bundles). */
  logitsForIds(ids) {
    const inner = this.#live();
    if (!inner.logitsForIds) throw new Error('logitsForIds: a sentence-encoder model reads text, not token ids; use logits(text)');
    return inner.logitsForIds(Uint32Array.from(ids));
  }

  tokenIds(text) {
    return this.#live().tokenIds(checkText(text, 'tokenIds: text'));
  }

  /** Labels, threshold, shape, embedding source and license, training date and metrics, sizes. */
  info() {
    const info = JSON.parse(this.#live().info());
    return {
      ...info,
      ...card(info),
      modelThreshold: info.threshold,
      threshold: this.#threshold ?? info.threshold,
      loadMs: this.#load.loadMs,
      loadStages: this.#load.loadStages,
      bytes: this.#load.bytes,
      cached: this.#load.cached,
    };
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

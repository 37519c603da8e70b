// What the page and the classifier's worker share: fetching a bundle (model, token table,
// tokenizer) in parallel, the wasm builds, and the page Classifier. In browsers the large files
// are kept in the Cache API under their sha256. A bundle of the sentence-encoder kind
// (`trainer encoder`: encoder.safetensors in place of the table) loads into a wasm module of
// its own, fetched only for it. The package's entries are classifier.js (pages, and Node
// through node.js) and worker.js; each says here how to get the wasm glue (useGlue).
import { fetchBytes, platform } from './sources.js';

/** The bundle's files, by role. */
export const BUNDLE_FILES = Object.freeze({
  model: 'model.safetensors',
  table: 'table.safetensors',
  encoder: 'encoder.safetensors',
  tokenizer: 'tokenizer.json',
});

/** The `format` of a TextCNN bundle's model.safetensors (crates/model/src/bundle.rs). */
export const TEXTCNN_FORMAT = 'textcnn-intent';
/** The `format` of a sentence-encoder bundle's model.safetensors (crates/sentence-encoder). */
export const ENCODER_FORMAT = 'sentence-encoder-intent';

// Every kind's model file keeps its metadata in flat keys; a version-2 sentence-encoder file
// kept it as one JSON value under `meta`.
function flatMeta(meta) {
  if (meta?.format_version !== undefined || meta?.meta === undefined) return meta ?? {};
  try {
    return JSON.parse(meta.meta) ?? {};
  } catch {
    return {}; // The wasm loader names the problem.
  }
}

/**
 * Each model kind, by the `format` its model.safetensors names: the files it loads beside
 * the model (roles of BUNDLE_FILES), the sha256 the model records for each, the wasm build
 * that runs it (for a TextCNN, the kernel's), and how that build's classifier is made. A new
 * kind is one entry here and its glue in useGlue (classifier.js, worker.js).
 */
const KINDS = {
  [TEXTCNN_FORMAT]: {
    roles: ['table', 'tokenizer'],
    hashes: (meta) => ({ table: meta?.table_sha256, tokenizer: meta?.tokenizer_sha256 }),
    build: (kernel) => kernel,
    create: (wasm, files) => new wasm.IntentClassifier(files.model, files.table, files.tokenizer),
  },
  [ENCODER_FORMAT]: {
    roles: ['encoder', 'tokenizer'],
    hashes: (meta) => {
      const recorded = flatMeta(meta);
      return { encoder: recorded.encoder_sha256, tokenizer: recorded.tokenizer_sha256 };
    },
    build: () => 'encoder',
    create: (wasm, files) => new wasm.EncoderIntentClassifier(files.model, files.encoder, files.tokenizer),
  },
};

/** The kind a model file's metadata names; the TextCNN's, whose loader names what is wrong, for any other. */
function kindOf(meta) {
  return KINDS[meta?.format] ?? KINDS[TEXTCNN_FORMAT];
}

/**
 * What the model file's metadata says of its bundle: the files besides the model ('table'
 * or 'encoder', and 'tokenizer') and the sha256 it records for each.
 */
export function bundleLayout(meta) {
  const kind = kindOf(meta);
  return { roles: kind.roles, hashes: kind.hashes(meta) };
}

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

// Each build's wasm. Literal specifiers, so that bundlers (Vite, webpack) see, copy and hash
// it; `new URL(…, import.meta.url)` is the form they rewrite for assets.
const WASM = {
  relaxed: () => new URL('./pkg-relaxed/intent_web_bg.wasm', import.meta.url),
  simd128: () => new URL('./pkg/intent_web_bg.wasm', import.meta.url),
  // The sentence-encoder kind's module (SIMD128); fetched only for bundles of that kind.
  encoder: () => new URL('./pkg-encoder/intent_encoder_web_bg.wasm', import.meta.url),
};

// Each build's wasm-bindgen glue, as a function resolving to the module, set by the entry that
// imports this one: classifier.js imports the glue on demand (a page fetches only the one it
// runs), worker.js statically (see there why).
const glues = {};

/** Sets where initWasm gets each build's glue: { relaxed, simd128, encoder }, each `() => Promise<module>`. */
export function useGlue(loaders) {
  Object.assign(glues, loaders);
}

const WASM_MAGIC = [0, 0x61, 0x73, 0x6d]; // \0asm

/** Why `bytes` from `url` are not a wasm module, or null when they start like one. */
function notWasm(bytes, url) {
  if (WASM_MAGIC.every((b, i) => bytes[i] === b)) return null;
  const head = new TextDecoder().decode(bytes.subarray(0, 40)).replace(/\s+/g, ' ').trim();
  return (
    `${url} is not WebAssembly (it starts with ${JSON.stringify(head)}). ` +
    'If a bundler built this app, have it emit the .wasm files of intent-classifier as separate ' +
    'assets (Vite does by default; in webpack 5 use `type: "asset/resource"` for /\\.wasm$/, and ' +
    'exclude intent-classifier from optimizeDeps/inlining); otherwise check that the server ' +
    'serves the file itself, not an HTML page'
  );
}

// Runs the glue's init (on `early`, the response already being fetched, when there is one);
// where it fails, looks at the bytes to say what is wrong.
async function instantiate(glue, url, early) {
  if (url.protocol === 'file:' && platform.readFile) {
    const bytes = await platform.readFile(url, 'the wasm build');
    const problem = notWasm(bytes, url);
    if (problem) throw new Error(problem);
    return glue.default({ module_or_path: bytes });
  }
  try {
    return await glue.default({ module_or_path: early ?? url });
  } catch (e) {
    const bytes = await fetchBytes(url, 'the wasm build').catch((f) => {
      throw new Error(`${f.message} (loading the classifier's wasm; was it copied with the app?)`);
    });
    throw new Error(notWasm(bytes, url) ?? `${url}: ${e.message}`);
  }
}

/** The `kernel` option, checked before anything is fetched; the detected one when not given. */
function chosenKernel(kernel) {
  if (kernel === undefined) return detectKernel();
  if (kernel !== 'relaxed' && kernel !== 'simd128') {
    throw new TypeError(`kernel: expected 'relaxed' or 'simd128', got ${kernel}`);
  }
  return kernel;
}

/** The wasm URL of `kernel`'s build, or a TypeError naming the value. */
function wasmUrl(kernel) {
  const url = WASM[kernel];
  if (!url) throw new TypeError(`kernel: expected 'relaxed' or 'simd128', got ${kernel}`);
  return url();
}

/**
 * The wasm build of `kernel`, fetched and compiled (while it streams in) into a
 * WebAssembly.Module: a page compiles it for its worker while the worker's scripts load.
 */
async function compileWasm(kernel = detectKernel()) {
  const url = wasmUrl(kernel);
  try {
    return await WebAssembly.compileStreaming(fetch(url));
  } catch {
    // Not served as application/wasm, or not wasm at all: look at the bytes.
    const bytes = await fetchBytes(url, 'the wasm build').catch((f) => {
      throw new Error(`${f.message} (loading the classifier's wasm; was it copied with the app?)`);
    });
    const problem = notWasm(bytes, url);
    if (problem) throw new Error(problem);
    return WebAssembly.compile(bytes);
  }
}

const builds = new Map();
/**
 * Instantiates a wasm build once per page (or worker); resolves to its module exports. The
 * .wasm download starts beside the glue's import, and compiles while it streams in; a
 * `compiled` WebAssembly.Module (from compileWasm) is instantiated instead.
 */
export function initWasm(kernel = detectKernel(), compiled = undefined) {
  if (!builds.has(kernel)) {
    const url = wasmUrl(kernel);
    const early = compiled ?? (url.protocol === 'file:' ? undefined : fetch(url));
    early?.catch?.(() => {}); // a failure is reported by instantiate()
    builds.set(
      kernel,
      Promise.resolve(glues[kernel]).then((glue) => {
        if (!glue) throw new Error('no entry set it (import the package from classifier.js or worker.js)');
        return glue();
      }).catch((e) => {
        throw new Error(`the classifier's wasm glue (${kernel} build) did not load: ${e.message}; build it with ./build.sh wasm, or reinstall intent-classifier`);
      }).then(async (m) => {
        await instantiate(m, url, early);
        return m;
      }),
    );
  }
  return builds.get(kernel);
}

/** The Cache API bucket that holds bundle files, keyed by content hash. */
export const CACHE_NAME = 'intent-classifier-v1';

/** Bytes of linear memory the wasm build holds (it only grows; for leak tests). */
export async function wasmMemoryBytes(kernel = detectKernel()) {
  const glue = await initWasm(kernel);
  // Once initialized, the glue's init returns the instance exports, memory among them.
  const exports = await glue.default();
  return exports.memory.buffer.byteLength;
}

// Argument checks: what classifier.d.ts declares, enforced at run time, for the page
// Classifier, the WorkerClassifier (before posting, so the error type survives) and the
// worker itself (which runs a page Classifier). The errors name the argument and show the value.

/** A short description of a value for error messages: `null`, `number 123`, `array`, `object`. */
export function describeValue(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'number': case 'bigint': case 'boolean': return `${typeof value} ${String(value)}`;
    case 'string': return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'object': {
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return name && name !== 'Object' ? `${name} object` : 'object';
    }
    default: return typeof value; // undefined, function, symbol
  }
}

/** `text` itself; a TypeError unless it is a string. `what`: 'classify: text'. */
export function checkText(text, what) {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string, got ${describeValue(text)}`);
  return text;
}

/** The texts as an array; a TypeError naming the first non-string's index. */
export function checkTexts(texts, method) {
  const iterable = texts != null && typeof texts !== 'string' && typeof texts[Symbol.iterator] === 'function';
  if (!iterable) {
    throw new TypeError(`${method}: texts must be an array (or iterable) of strings, got ${describeValue(texts)}`);
  }
  const list = Array.from(texts);
  list.forEach((t, i) => checkText(t, `${method}: texts[${i}]`));
  return list;
}

/** A TypeError for a non-number, a RangeError for NaN and ±Infinity. */
export function checkThreshold(threshold, what) {
  if (typeof threshold !== 'number') {
    throw new TypeError(`${what} must be a finite number, got ${describeValue(threshold)}`);
  }
  if (!Number.isFinite(threshold)) throw new RangeError(`${what} must be a finite number, got ${threshold}`);
  return threshold;
}

/** `options` (undefined or { topK?, threshold?, evidence? }), checked. */
export function checkOptions(options, method) {
  if (options === undefined) return options;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${method}: options must be an object, got ${describeValue(options)}`);
  }
  if (options.threshold !== undefined) checkThreshold(options.threshold, `${method}: options.threshold`);
  const { topK } = options;
  if (topK !== undefined) {
    if (typeof topK !== 'number') {
      throw new TypeError(`${method}: options.topK must be a positive integer, got ${describeValue(topK)}`);
    }
    if (!Number.isInteger(topK) || topK < 1) {
      throw new RangeError(`${method}: options.topK must be a positive integer, got ${topK}`);
    }
  }
  return options;
}

/**
 * The `__metadata__` of a safetensors file, or null when the bytes are not one (the wasm
 * loader then reports the real problem, naming the file).
 */
export function safetensorsMetadata(bytes) {
  try {
    if (bytes.length < 8) return null;
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    if (n > bytes.length - 8) return null;
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    return header.__metadata__ ?? null;
  } catch {
    return null;
  }
}

async function openCache(enabled) {
  // The Cache API exists only in secure contexts (https, localhost) and may be blocked.
  if (!enabled || !globalThis.caches) return null;
  try {
    return await caches.open(CACHE_NAME);
  } catch {
    return null;
  }
}

/** The cache to look files up in: null on a first visit (no cache yet), so nothing waits. */
async function existingCache(enabled) {
  try {
    return enabled && globalThis.caches && (await caches.has(CACHE_NAME)) ? openCache(true) : null;
  } catch {
    return null;
  }
}

// The key names the content, not the location: a new model version has new hashes, so
// its files can never be mixed with an older version's.
const cacheKey = (url, sha256) => `${url.origin}${url.pathname}?sha256=${sha256}`;

/** The newest cached copy of `fileUrl` as { key, sha256 }, or undefined. */
async function cachedCopy(cache, fileUrl) {
  const prefix = `${fileUrl.origin}${fileUrl.pathname}?sha256=`;
  const keys = (await cache.keys()).filter((k) => k.url.startsWith(prefix));
  const key = keys.at(-1);
  return key && { key: key.url, sha256: key.url.slice(prefix.length) };
}

// The files every kind loads besides the model: asked for before the model names the kind.
const SHARED_ROLES = Object.values(KINDS)
  .map((kind) => kind.roles)
  .reduce((shared, roles) => shared.filter((role) => roles.includes(role)));

/**
 * Fetches the bundle's files. model.safetensors is always asked of the server (revalidated:
 * it is the smallest, names the kind and the others' hashes); the tokenizer, which every kind
 * reads, is asked for at the same time, so on a first visit (no cache yet) not even a cache
 * lookup comes before it. The kind's own files (the table, or the encoder) are asked for once
 * the model names the kind, so that a page never downloads another kind's file; `onKind(kind)`
 * is called then, for the caller to start the kind's wasm. Cached copies are used only if
 * their hash is the one the model names (else the file is fetched after all). Returns
 * { files, cached, store } where store() saves the fetched ones once the wasm loader has
 * verified them.
 */
async function fetchBundle(source, useCache, onKind = () => {}) {
  const url = source.url;
  const modelBytes = source.read(BUNDLE_FILES.model, { cache: 'no-cache' });
  modelBytes.catch(() => {}); // awaited below
  const caching = useCache && source.cacheable;
  const cache = await existingCache(caching);
  const started = {};
  const start = (role) => {
    started[role] ??= (async () => {
      const name = BUNDLE_FILES[role];
      const copy = cache ? await cachedCopy(cache, url(name)) : undefined;
      return copy ? { copy } : { bytes: await source.read(name) };
    })();
    // Every download is under way; an early failure must not go unhandled while we wait.
    started[role].catch(() => {});
    return started[role];
  };
  SHARED_ROLES.forEach(start);
  const model = await modelBytes;
  const meta = safetensorsMetadata(model);
  onKind(kindOf(meta));
  const layout = bundleLayout(meta);
  const files = { model };
  const cached = [];
  const fresh = [];
  await Promise.all(
    layout.roles.map(async (role) => {
      const name = BUNDLE_FILES[role];
      const got = await start(role);
      const key = layout.hashes[role] && cacheKey(url(name), layout.hashes[role]);
      const hit = got.copy && got.copy.key === key ? await cache.match(key) : undefined;
      if (hit) {
        files[role] = new Uint8Array(await hit.arrayBuffer());
        cached.push(name);
        return;
      }
      files[role] = got.bytes ?? (await source.read(name));
      if (key) fresh.push([url(name), key, files[role]]);
    }),
  );
  async function store() {
    const target = cache ?? (fresh.length ? await openCache(caching) : null);
    if (!target) return;
    try {
      for (const [fileUrl, key, bytes] of fresh) {
        // Drop older versions of the same file, then keep this one.
        const prefix = `${fileUrl.origin}${fileUrl.pathname}?sha256=`;
        for (const old of await target.keys()) {
          if (old.url.startsWith(prefix) && old.url !== key) await target.delete(old);
        }
        await target.put(key, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } }));
      }
    } catch {
      // A full or unavailable cache only costs the next visit a download.
    }
  }
  return { files, cached, store };
}

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

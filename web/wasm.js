// The wasm builds: which kernel this browser runs (relaxed-SIMD or SIMD128), where each
// build's .wasm and glue come from, and instantiating each once per page or worker, with a
// message that says what is wrong when the bytes are not wasm.
import { fetchBytes, platform } from './sources.js';

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
export function chosenKernel(kernel) {
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
export async function compileWasm(kernel = detectKernel()) {
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

/** Bytes of linear memory the wasm build holds (it only grows; for leak tests). */
export async function wasmMemoryBytes(kernel = detectKernel()) {
  const glue = await initWasm(kernel);
  // Once initialized, the glue's init returns the instance exports, memory among them.
  const exports = await glue.default();
  return exports.memory.buffer.byteLength;
}

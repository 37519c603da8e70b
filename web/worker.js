// The worker behind loadClassifier(url, { worker: true }): one classifier, loaded from a
// location ('load') or from files and a wasm module the page fetched ('loadFiles'), driven by
// { id, method, args } messages, answering { id, result } or { id, error, errorType }. In
// browsers it is a module Worker; in Node, web/node-worker.js drives `answer` from
// worker_threads. The page Classifier it runs checks every argument (a message may be posted
// directly); errorType ('TypeError', 'RangeError', ...) lets the caller rethrow the same type.
import { classifierFromFiles, loadHere } from './core.js';
import { openSource } from './sources.js';
import { useGlue } from './wasm.js';
import * as relaxedGlue from './pkg-relaxed/intent_web.js';
import * as simd128Glue from './pkg/intent_web.js';
import * as encoderGlue from './pkg-encoder/intent_encoder_web.js';

// The glue is imported statically: a dynamic import would make bundlers split the worker into
// chunks, which the worker format of Vite 6 and 7 (iife) refuses. It is small, and a build's
// .wasm is fetched only when that build is initialised.
useGlue({
  relaxed: async () => relaxedGlue,
  simd128: async () => simd128Glue,
  encoder: async () => encoderGlue,
});

let clf;
const METHODS = new Set(['classify', 'classifyBatch', 'setThreshold', 'logits', 'logitsForIds', 'tokenIds', 'info']);

/** The reply to one message. */
export async function answer({ id, method, args }) {
  try {
    let result;
    if (method === 'load') {
      const options = { ...args[1] };
      clf = await loadHere(openSource(args[0], options), options);
    } else if (method === 'loadFiles') {
      // The page fetched the files and compiled the wasm (WorkerClassifier.start).
      clf = await classifierFromFiles(args[0], args[1]);
    } else if (!clf) {
      throw new Error('the classifier is not loaded');
    } else if (!METHODS.has(method)) {
      throw new Error(`unknown method ${method}`);
    } else {
      result = clf[method](...args);
    }
    return { id, result };
  } catch (e) {
    return { id, error: e instanceof Error ? e.message : String(e), errorType: e?.name };
  }
}

if (typeof self !== 'undefined' && typeof self.postMessage === 'function') {
  self.onmessage = async ({ data }) => self.postMessage(await answer(data));
}

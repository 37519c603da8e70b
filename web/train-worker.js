// The worker behind trainClassifier (web/trainer.js): one message { kind, intents,
// negatives, config, name, and the kind's files: table + tokenizer (a TextCNN) or encoder +
// tokenizer and encoderName (a sentence encoder) } in, { type: 'progress', entry } after
// each epoch or embedded batch, then { type: 'done', model, summary, modelCard } or
// { type: 'error', error }. Each kind's training module is its own wasm (crates/web-train,
// crates/web-train-encoder), imported only for a run of that kind. The core runs
// synchronously here, so the page stays responsive; cancelling ends the worker. In browsers
// it is a module Worker; in Node, web/node-train-worker.js drives `train` from
// worker_threads.
import { platform } from './sources.js';

/** Each kind's training module: its glue, its wasm, and the call that trains. */
const MODULES = {
  textcnn: {
    glue: () => import('./pkg-train/intent_train_web.js'),
    wasm: () => new URL('./pkg-train/intent_train_web_bg.wasm', import.meta.url),
    run: (glue, data, onProgress) => glue.train(data.intents, data.negatives, data.table, data.tokenizer, data.config, onProgress),
  },
  encoder: {
    glue: () => import('./pkg-train-encoder/intent_train_encoder_web.js'),
    wasm: () => new URL('./pkg-train-encoder/intent_train_encoder_web_bg.wasm', import.meta.url),
    run: (glue, data, onProgress) =>
      glue.trainEncoder(data.intents, data.negatives, data.encoder, data.tokenizer, data.config, data.encoderName, onProgress),
  },
};

/** Runs one training request, posting its messages through `post(message, transfer)`. */
export async function train(data, post) {
  try {
    const module = MODULES[data.kind ?? 'textcnn'];
    const glue = await module.glue();
    const url = module.wasm();
    // Node reads the module from disk: its fetch does not open file: URLs.
    const wasm = url.protocol === 'file:' && platform.readFile ? await platform.readFile(url, 'the training wasm') : url;
    await glue.default({ module_or_path: wasm });
    const onProgress = (json) => post({ type: 'progress', entry: JSON.parse(json) });
    const bundle = module.run(glue, data, onProgress);
    const model = bundle.model();
    post({ type: 'done', model, summary: JSON.parse(bundle.summary()), modelCard: bundle.modelCard(data.name) }, [model.buffer]);
    bundle.free();
  } catch (e) {
    post({ type: 'error', error: e instanceof Error ? e.message : String(e), errorType: e?.name });
  }
}

if (typeof self !== 'undefined' && typeof self.postMessage === 'function') {
  self.onmessage = ({ data }) => train(data, (message, transfer) => self.postMessage(message, transfer));
}

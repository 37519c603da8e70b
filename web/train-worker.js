// The worker behind trainClassifier (web/trainer.js): one message { intents, negatives,
// config, table, tokenizer, name } in, { type: 'epoch', entry } after each epoch, then
// { type: 'done', model, summary, modelCard } or { type: 'error', error }. The training
// core runs synchronously here, so the page stays responsive; cancelling ends the worker.
// In browsers it is a module Worker; in Node, web/node-train-worker.js drives `train`
// from worker_threads.
import init, { train as trainInWasm } from './pkg-train/intent_train_web.js';
import { platform } from './sources.js';

const WASM = new URL('./pkg-train/intent_train_web_bg.wasm', import.meta.url);

/** Runs one training request, posting its messages through `post(message, transfer)`. */
export async function train(data, post) {
  try {
    // Node reads the module from disk: its fetch does not open file: URLs.
    const wasm = WASM.protocol === 'file:' && platform.readFile ? await platform.readFile(WASM, 'the training wasm') : WASM;
    await init({ module_or_path: wasm });
    const onEpoch = (json) => post({ type: 'epoch', entry: JSON.parse(json) });
    const bundle = trainInWasm(data.intents, data.negatives, data.table, data.tokenizer, data.config, onEpoch);
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

// The worker behind trainClassifier (web/trainer.js): one message { intents, negatives,
// config, table, tokenizer, name } in, { type: 'epoch', entry } after each epoch, then
// { type: 'done', model, summary, modelCard } or { type: 'error', error }. The training
// core runs synchronously here, so the page stays responsive; cancelling ends the worker.
import init, { train } from './pkg-train/intent_train_web.js';

self.onmessage = async ({ data }) => {
  try {
    await init({ module_or_path: new URL('./pkg-train/intent_train_web_bg.wasm', import.meta.url) });
    const onEpoch = (json) => self.postMessage({ type: 'epoch', entry: JSON.parse(json) });
    const bundle = train(data.intents, data.negatives, data.table, data.tokenizer, data.config, onEpoch);
    const model = bundle.model();
    self.postMessage(
      { type: 'done', model, summary: JSON.parse(bundle.summary()), modelCard: bundle.modelCard(data.name) },
      [model.buffer],
    );
    bundle.free();
  } catch (e) {
    self.postMessage({ type: 'error', error: e instanceof Error ? e.message : String(e), errorType: e?.name });
  }
};

import { loadClassifier } from 'intent-classifier';

const input = /** @type {HTMLInputElement} */ (document.querySelector('#query'));
const output = /** @type {HTMLElement} */ (document.querySelector('#intent'));

// The model directory holds model.safetensors, table.safetensors and tokenizer.json.
// In a worker, classifying never blocks typing; every call returns a Promise.
// (No top-level await: Vite 6's default build target predates it.)
loadClassifier('models/default/', { worker: true }).then(async (clf) => {
  const info = await clf.info();
  input.placeholder = `Try one of: ${info.labels.join(', ')}`;
  input.addEventListener('input', async () => {
    const result = await clf.classify(input.value, { topK: 3 });
    output.textContent = result.known
      ? `${result.intent} (${(result.confidence * 100).toFixed(0)}%)`
      : 'unknown';
  });
});

// The training page's service worker (train.html registers it): after the first visit the
// page, its scripts, both wasm modules, the English token table and the example data are
// kept in the Cache API, so training works offline. Online, every request goes to the
// network first (so a rebuilt file is picked up) and refreshes the kept copy.
const CACHE = 'intent-classifier-train-v1';
const PAGE_FILES = [
  'train.html',
  'web/train-page.js', 'web/trainer.js', 'web/train-worker.js', 'web/result-view.js',
  'web/classifier.js', 'web/core.js', 'web/checks.js', 'web/kinds.js', 'web/facts.js', 'web/fetch-bundle.js', 'web/wasm.js', 'web/sources.js', 'web/hub.js', 'web/demo.css', 'web/favicon.svg',
  'web/pkg-train/intent_train_web.js', 'web/pkg-train/intent_train_web_bg.wasm',
  'web/pkg/intent_web.js', 'web/pkg/intent_web_bg.wasm',
  'web/pkg-relaxed/intent_web.js', 'web/pkg-relaxed/intent_web_bg.wasm',
  'assets/minilm-l6-v2/table.safetensors', 'assets/minilm-l6-v2/tokenizer.json',
  'examples/everyday/data.json', 'examples/everyday/noise.json',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PAGE_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then(async (response) => {
        if (response.ok) await (await caches.open(CACHE)).put(request, response.clone());
        return response;
      })
      .catch(async () => (await caches.match(request, { ignoreSearch: true })) ?? Response.error()),
  );
});

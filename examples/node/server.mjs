// POST /classify {"text": "..."} or {"texts": [...]}, optional "topK": the classify result(s)
// as JSON. node server.mjs [bundle dir | hf:user/repo]; PORT (default 3000, 0: any free
// port) and HOST (default 127.0.0.1) from the environment.
import { createServer } from 'node:http';
import { loadClassifier } from 'intent-classifier';

const MAX_BODY = 64 * 1024;
const clf = await loadClassifier(process.argv[2] ?? 'models/default/');

/** @param {unknown} v */
const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/** What is wrong with a request body, or null. @param {any} body */
function bodyError(body) {
  if (kind(body) !== 'object') return `the body must be a JSON object, got ${kind(body)}`;
  if (body.texts !== undefined) {
    if (!Array.isArray(body.texts)) return `texts must be an array of strings, got ${kind(body.texts)}`;
    const i = body.texts.findIndex((/** @type {unknown} */ t) => typeof t !== 'string');
    if (i >= 0) return `texts[${i}] must be a string, got ${kind(body.texts[i])}`;
  } else if (typeof body.text !== 'string') {
    return body.text === undefined ? 'text is missing' : `text must be a string, got ${kind(body.text)}`;
  }
  const { topK } = body;
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) return 'topK must be a positive integer';
  return null;
}

/** @param {import('node:http').ServerResponse} res @param {number} status @param {unknown} json */
function send(res, status, json, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(json));
}

const server = createServer((req, res) => {
  if (req.url !== '/classify') return send(res, 404, { error: `no route ${req.url}: POST /classify` });
  if (req.method !== 'POST') return send(res, 405, { error: `method ${req.method}: POST /classify` }, { allow: 'POST' });
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  req.on('data', (/** @type {Buffer} */ chunk) => {
    if ((size += chunk.length) <= MAX_BODY) return void chunks.push(chunk);
    req.pause(); // stop reading; the socket closes once the 413 is sent
    if (!res.headersSent) send(res, 413, { error: `body: over ${MAX_BODY} bytes` }, { connection: 'close' });
  });
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      return send(res, 400, { error: `body: not JSON (${/** @type {Error} */ (e).message})` });
    }
    const error = bodyError(body);
    if (error) return send(res, 400, { error });
    const options = { topK: body.topK };
    send(res, 200, body.texts ? clf.classifyBatch(body.texts, options) : clf.classify(body.text, options));
  });
});

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`listening on http://${address.includes(':') ? `[${address}]` : address}:${port}/classify`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => clf.dispose()));

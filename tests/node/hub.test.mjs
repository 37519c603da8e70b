// `hf:user/repo[@revision]` against a local server with the Hub's resolve layout
// (/{user}/{repo}/resolve/{revision}/{file}): files behind a redirect, a 404 for a missing
// file naming the repo and the file, the base URL taken from the option or `env`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEADLINE, MODEL_DIR, requireBuilt } from './helpers.mjs';

const FILES = ['model.safetensors', 'table.safetensors', 'tokenizer.json'];
let server;
let hubUrl;
const requests = [];
let pkg;

before(async () => {
  requireBuilt();
  pkg = await import('../../web/node.js');
  const bytes = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(MODEL_DIR, f))]));
  server = createServer((req, res) => {
    requests.push(req.url);
    // The Hub answers large files with a redirect to its file store.
    const store = /^\/store\/(.+)$/.exec(req.url);
    if (store && bytes[store[1]]) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(bytes[store[1]]);
      return;
    }
    const m = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/([^/]+)$/.exec(req.url);
    const repoFiles = { 'me/intents': FILES, 'me/partial': ['model.safetensors', 'tokenizer.json'] };
    const file = m && decodeURIComponent(m[4]);
    if (!m || !repoFiles[`${m[1]}/${m[2]}`]?.includes(file) || !['main', 'v1'].includes(m[3])) {
      res.writeHead(404, { 'Content-Type': 'text/plain', 'X-Error-Code': 'EntryNotFound' }).end('Entry not found');
    } else if (file === 'table.safetensors') {
      res.writeHead(302, { Location: `${hubUrl}/store/${file}` }).end();
    } else {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(bytes[file]);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  hubUrl = `http://127.0.0.1:${server.address().port}`;
});
after(() => server?.close());

test('hf:user/repo loads from the resolve URLs, following the redirect', DEADLINE, async () => {
  requests.length = 0;
  const clf = await pkg.loadClassifier('hf:me/intents', { hubUrl });
  const local = await pkg.loadClassifier(MODEL_DIR);
  assert.deepEqual(clf.classify('set a timer for ten minutes'), local.classify('set a timer for ten minutes'));
  assert.deepEqual(
    requests.sort(),
    ['/me/intents/resolve/main/model.safetensors', '/me/intents/resolve/main/table.safetensors',
      '/me/intents/resolve/main/tokenizer.json', '/store/table.safetensors'],
  );
  clf.dispose();
  local.dispose();
});

test('@revision picks the revision; env.hubUrl is the default base; the worker mode too', DEADLINE, async () => {
  const saved = pkg.env.hubUrl;
  pkg.env.hubUrl = `${hubUrl}/`;
  try {
    requests.length = 0;
    const clf = await pkg.loadClassifier('hf:me/intents@v1');
    assert.ok(requests.includes('/me/intents/resolve/v1/model.safetensors'), `${requests}`);
    clf.dispose();
    const threaded = await pkg.loadClassifier('hf:me/intents@v1', { worker: true });
    assert.equal((await threaded.classify('set a timer for ten minutes')).known, true);
    threaded.dispose();
  } finally {
    pkg.env.hubUrl = saved;
  }
  assert.equal(pkg.env.hubUrl, 'https://huggingface.co');
});

test('a file missing from the repo is an error naming the repo and the file', DEADLINE, async () => {
  for (const worker of [false, true]) {
    await assert.rejects(pkg.loadClassifier('hf:me/partial', { hubUrl, worker }), (e) => {
      assert.match(e.message, /me\/partial@main: table\.safetensors was not found \(HTTP 404/);
      assert.ok(e.message.includes(`${hubUrl}/me/partial/resolve/main/table.safetensors`), e.message);
      return true;
    });
  }
  await assert.rejects(pkg.loadClassifier('hf:me/nothing@v9', { hubUrl }), /me\/nothing@v9: model\.safetensors was not found/);
});

test('an unreachable hub is an error naming the URL', DEADLINE, async () => {
  // A port nothing listens on: the server's own, once closed, is not reusable in time, so port 9 (discard).
  await assert.rejects(pkg.loadClassifier('hf:me/intents', { hubUrl: 'http://127.0.0.1:9' }),
    /model\.safetensors: cannot fetch http:\/\/127\.0\.0\.1:9\/me\/intents\/resolve\/main\/model\.safetensors/);
  await assert.rejects(pkg.loadClassifier('hf:me/intents', { hubUrl: 'not a url' }), /hubUrl: expected an absolute/);
});

// The README's HTTP recipe (examples/node/server.mjs) in a fresh app with the packed
// package: results and errors over HTTP, 50 keep-alive clients for 20 s to 127.0.0.1 with
// no failed request and no memory growth, a clean exit on SIGTERM, and the README's code
// block is the file verbatim. The speed figures are bench/node-server.mjs's, not asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER, installApp, medianRssKiB, runLoad, sameAnswerCheck, startServer } from './http-load.mjs';
import { ROOT, requireBuilt } from './helpers.mjs';

const LIMIT = { timeout: 60_000 };
/** @type {string} */
let app;
/** @type {{ child: import('node:child_process').ChildProcess, url: string }} */
let server;

before(async () => {
  requireBuilt();
  app = installApp();
  server = await startServer(app);
});
after(() => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  if (app) rmSync(app, { recursive: true, force: true });
});

/** POSTs `body` (an object is sent as JSON) to `path`; resolves with the status and parsed JSON. */
async function call(body, { path = '/classify', method = 'POST' } = {}) {
  const res = await fetch(new URL(path, server.url), {
    method,
    headers: { 'content-type': 'application/json' },
    body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, json: await res.json() };
}

test('POST /classify returns the classify result for a text and for texts', LIMIT, async () => {
  const timer = await call({ text: 'set a timer for ten minutes' });
  assert.equal(timer.status, 200);
  assert.equal(timer.json.intent, 'timer');
  assert.equal(timer.json.known, true);
  assert.equal(timer.json.top.length, 3);

  const unknown = await call({ text: 'what is the meaning of life and love' });
  assert.equal(unknown.status, 200);
  assert.equal(unknown.json.known, false);
  assert.equal(unknown.json.intent, 'unknown');

  const batch = await call({ texts: ['set a timer for ten minutes', 'play some jazz'], topK: 1 });
  assert.equal(batch.status, 200);
  assert.deepEqual(batch.json.map((/** @type {any} */ r) => [r.intent, r.top.length]), [['timer', 1], ['play_music', 1]]);
});

test('bad requests get a 4xx with an error naming the field and the problem', LIMIT, async () => {
  const cases = [
    ['{"text": "unclosed', 400, /^body: not JSON \(/],
    [{}, 400, /^text is missing$/],
    [{ text: 5 }, 400, /^text must be a string, got number$/],
    [{ texts: 'one text' }, 400, /^texts must be an array of strings, got string$/],
    [{ texts: ['a', null] }, 400, /^texts\[1\] must be a string, got null$/],
    [{ text: 'a', topK: 0 }, 400, /^topK must be a positive integer$/],
    [[1, 2], 400, /^the body must be a JSON object, got an array$/],
    [{ text: 'a'.repeat(70_000) }, 413, /^body: over 65536 bytes$/],
  ];
  for (const [body, status, error] of cases) {
    const res = await call(body);
    assert.equal(res.status, status, JSON.stringify(body).slice(0, 80));
    assert.match(res.json.error, /** @type {RegExp} */ (error));
  }
  const wrongRoute = await call({ text: 'a' }, { path: '/predict' });
  assert.equal(wrongRoute.status, 404);
  assert.match(wrongRoute.json.error, /^no route \/predict: POST \/classify$/);
  const wrongMethod = await call(undefined, { method: 'GET' });
  assert.equal(wrongMethod.status, 405);
  assert.match(wrongMethod.json.error, /^method GET: POST \/classify$/);
});

test('50 keep-alive clients for 20 s: no failed request, the same results, no RSS growth', LIMIT, async () => {
  // Every response under load must be byte-identical to the query's first answer.
  const check = await sameAnswerCheck(server.url);

  const pid = /** @type {number} */ (server.child.pid);
  // A warm-up at the same concurrency first, so 'before' is measured after the JIT, the
  // sockets' buffers and V8's heap have grown to what this load needs.
  const warm = await runLoad({ url: server.url, clients: 50, seconds: 4, check });
  assert.equal(warm.failed, 0, warm.failures.join('\n'));
  const before = await medianRssKiB(pid);
  const load = await runLoad({ url: server.url, clients: 50, seconds: 20, check });
  const afterLoad = await medianRssKiB(pid);

  console.log(
    `# ${load.requests} requests in ${load.seconds.toFixed(1)} s (${load.perSecond.toFixed(0)}/s), ` +
      `p50 ${load.p50.toFixed(1)} ms, p99 ${load.p99.toFixed(1)} ms; ` +
      `server RSS ${(before / 1024).toFixed(1)} -> ${(afterLoad / 1024).toFixed(1)} MiB`,
  );
  assert.equal(load.failed, 0, `${load.failed} of ${load.requests} requests failed:\n${load.failures.join('\n')}`);
  assert.ok(load.requests >= 1000, `only ${load.requests} requests in ${load.seconds} s`);
  // Medians of 7 readings 100 ms apart, each side, smooth out a collection landing on one
  // reading. 5% (a few MiB) is well above the noise once the warm-up has sized the heap,
  // and well below what a per-request leak adds over tens of thousands of requests (any
  // leak of 100 bytes a request or more). A smaller RSS after is no leak, so only growth fails.
  assert.ok(afterLoad <= before * 1.05, `server RSS grew from ${before} KiB to ${afterLoad} KiB (over 5%)`);
});

test('the server closes and exits 0 on SIGTERM', LIMIT, async () => {
  const { child } = server;
  const exited = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not exit within 10 s of SIGTERM')), 10_000);
    child.on('exit', (code, signal) => (clearTimeout(timer), resolve({ code, signal })));
  });
  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
});

test("the README's HTTP recipe is examples/node/server.mjs verbatim", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Node.js'), readme.indexOf('\n### ', readme.indexOf('### Node.js') + 1));
  const block = /```js\n(\/\/ POST \/classify[\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'no ```js block starting "// POST /classify" under "### Node.js"');
  assert.equal(block, readFileSync(SERVER, 'utf8'));
});

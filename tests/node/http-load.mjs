// The HTTP recipe (examples/node/server.mjs) under load, shared by tests/node/server.test.mjs
// (correctness, zero failures, memory bound) and bench/node-server.mjs (the figures in
// bench/results/node.md): a fresh app with the packed package, the server as a child
// process, its RSS, and one load generator.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_DIR, ROOT } from './helpers.mjs';

export const SERVER = join(ROOT, 'examples/node/server.mjs');

/** The queries the load phase cycles through: in-scope, off-topic, typos, one long text. */
export const QUERIES = [
  'set a timer for ten minutes',
  "what's the weather like in paris tomorrow",
  'translate good morning to french',
  'base64 encode my password',
  'how many grams in a pound',
  'convert 20 euros to dollars',
  'what is 17 times 23',
  'wake me up at 6:30',
  'define the word ephemeral',
  'play some jazz',
  'wether tomorow',
  'what is the meaning of life and love',
  'how do hurricanes get their names',
  'who won the world cup in 1998',
  'tell me a story about a dragon',
  'set a timer '.repeat(40).trim(),
];

/**
 * A temporary Node app with the packed package installed (`npm install --offline` of the
 * `npm pack` tarball, as a user's app gets it), server.mjs and models/default.
 */
export function installApp() {
  const child = { encoding: /** @type {const} */ ('utf8'), timeout: 60_000, killSignal: /** @type {const} */ ('SIGKILL') };
  const app = mkdtempSync(join(tmpdir(), 'intent-node-server-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', app], { ...child, cwd: join(ROOT, 'web'), stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-server', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(app, packed[0].filename)], { ...child, cwd: app, stdio: 'pipe' });
  cpSync(SERVER, join(app, 'server.mjs'));
  cpSync(MODEL_DIR, join(app, 'models/default'), { recursive: true });
  return app;
}

/**
 * Starts `node server.mjs` in `app` on a free port (PORT=0) and resolves once it prints
 * the URL it listens on; rejects with its output when it exits first or takes over
 * `deadlineMs`. The caller stops it with `server.child.kill()`.
 */
export function startServer(app, deadlineMs = 30_000) {
  const child = spawn(process.execPath, ['server.mjs', 'models/default/'], {
    cwd: app,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server printed no URL within ${deadlineMs} ms; output:\n${output}`));
    }, deadlineMs);
    const onOutput = (/** @type {Buffer} */ data) => {
      output += data;
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+\/classify)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, output: () => output });
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (code ${code}, signal ${signal}) before listening; output:\n${output}`));
    });
  });
}

/** The resident set size of process `pid` in KiB (VmRSS in /proc/<pid>/status). */
export function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (!kib) throw new Error(`/proc/${pid}/status: no VmRSS line`);
  return Number(kib);
}

/** The median of `samples` RSS readings of `pid`, `gapMs` apart, in KiB. */
export async function medianRssKiB(pid, samples = 7, gapMs = 100) {
  const values = [];
  for (let i = 0; i < samples; i++) {
    if (i) await new Promise((r) => setTimeout(r, gapMs));
    values.push(rssKiB(pid));
  }
  return values.sort((a, b) => a - b)[samples >> 1];
}

/**
 * One POST of `body` (a string) to `url` through `agent`; resolves with the status and the
 * response text, rejects on a network error or after `timeoutMs`.
 * @returns {Promise<{ status: number, text: string }>}
 */
export function post(url, body, agent, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Asks for each query's result once and returns the check for runLoad: a response is right
 * when it is a 200 whose body is byte-identical to that first answer. Throws when a first
 * answer is not a classify result.
 */
export async function sameAnswerCheck(url, queries = QUERIES) {
  const agent = new Agent({ keepAlive: false });
  /** @type {Map<string, string>} */
  const expected = new Map();
  for (const query of queries) {
    const { status, text } = await post(url, JSON.stringify({ text: query }), agent);
    const r = status === 200 ? JSON.parse(text) : {};
    const valid = typeof r.intent === 'string' && typeof r.known === 'boolean' && typeof r.confidence === 'number' &&
      Array.isArray(r.top) && r.top.length === 3;
    if (!valid) throw new Error(`${JSON.stringify(query)}: HTTP ${status}, not a classify result: ${text}`);
    expected.set(query, text);
  }
  return (/** @type {string} */ query, /** @type {number} */ status, /** @type {string} */ text) =>
    status !== 200 ? `${JSON.stringify(query)}: HTTP ${status} ${text}` :
    text !== expected.get(query) ? `${JSON.stringify(query)}: ${text} differs from ${expected.get(query)}` : null;
}

/**
 * `clients` concurrent keep-alive clients POST {"text": query} for `seconds` (and at most
 * `maxRequests` requests in all), each query the next of `queries`. `check(query, status,
 * text)` returns what is wrong with a response, or null. Resolves with the count, the
 * failures (the first 10 messages kept), the rate and the latency percentiles in ms.
 */
export async function runLoad({ url, queries = QUERIES, clients = 50, seconds = 20, maxRequests = 1_000_000, check }) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const bodies = queries.map((text) => JSON.stringify({ text }));
  /** @type {number[]} */
  const latencies = [];
  /** @type {string[]} */
  const failures = [];
  let failed = 0;
  let issued = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  async function client() {
    while (performance.now() < end && issued < maxRequests) {
      const i = issued++ % queries.length;
      const t0 = performance.now();
      let problem;
      try {
        const { status, text } = await post(url, bodies[i], agent);
        problem = check(queries[i], status, text);
      } catch (e) {
        problem = `${JSON.stringify(queries[i])}: ${/** @type {Error} */ (e).message}`;
      }
      latencies.push(performance.now() - t0);
      if (problem) {
        failed++;
        if (failures.length < 10) failures.push(problem);
      }
    }
  }
  await Promise.all(Array.from({ length: clients }, client));
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (/** @type {number} */ p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return {
    requests: latencies.length,
    failed,
    failures,
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    p50: pct(50),
    p99: pct(99),
  };
}

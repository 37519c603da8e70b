// The demo under a strict Content-Security-Policy (no inline script or style, no eval; wasm
// allowed): it loads, classifies, and the browser reports no violation. The bundle's sha256
// check refuses a tampered file under the same policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, ROOT, LIMIT } from './harness.mjs';
import { STRICT_CSP } from '../../web/serve.mjs';

const TAMPERED = join(ROOT, 'target/csp-tampered');
let env;
let page;
let worker;

/** The demo under the policy (`query`: '' or '?worker=1'), with its violations and errors. */
async function openUnderCsp(query) {
  const p = await env.browser.newPage();
  // Init scripts run before the page's own and are not subject to its CSP.
  await p.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
  const errors = [];
  p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  p.on('pageerror', (e) => errors.push(String(e)));
  const response = await p.goto(`${env.baseUrl}index.html${query}`);
  assert.equal(response.headers()['content-security-policy'], STRICT_CSP);
  await p.evaluate(() => window.classifierReady);
  return { page: p, errors };
}

before(async () => {
  env = await launch({ headers: { 'Content-Security-Policy': STRICT_CSP } });
  page = await openUnderCsp('');
  worker = await openUnderCsp('?worker=1');
});
after(async () => {
  await env?.close();
  rmSync(TAMPERED, { recursive: true, force: true });
});

test('the demo classifies under the strict CSP with no violation, on the page and in a worker', LIMIT, async () => {
  for (const demo of [page, worker]) {
    await demo.page.fill('#query', 'set a timer for 5 minutes');
    await demo.page.waitForFunction(() => document.querySelector('#intent').textContent === 'timer');
    const r = await demo.page.evaluate(() => window.classify('set a timer for 5 minutes'));
    assert.equal(r.intent, 'timer');
    // Violation events are dispatched asynchronously: give them a moment.
    await demo.page.waitForTimeout(200);
    assert.deepEqual(await demo.page.evaluate(() => window.cspViolations), []);
    assert.deepEqual(demo.errors, []);
  }
});

test('a tokenizer file changed by one bit is refused by its sha256', LIMIT, async () => {
  mkdirSync(TAMPERED, { recursive: true });
  cpSync(join(ROOT, 'models/default'), TAMPERED, { recursive: true });
  const file = join(TAMPERED, 'tokenizer.json');
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0x01;
  writeFileSync(file, bytes);
  const message = await page.page.evaluate(async () => {
    const { loadClassifier } = await import('/web/classifier.js');
    try {
      await loadClassifier('target/csp-tampered/');
      return 'loaded';
    } catch (e) {
      return e.message;
    }
  });
  assert.match(message, /^tokenizer\.json: .*sha256/);
});

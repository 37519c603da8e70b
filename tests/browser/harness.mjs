// Shared set-up for the browser tests: a loopback server over the repo root and headless
// Debian Chromium driven by playwright-core. Every wait has a deadline: the server start,
// the browser launch, each navigation, page.evaluate and waitForFunction (and so each wait
// on a worker, which the page awaits). Past it the wait fails saying what it waited for, and
// close() stops what launch() started, killing Chromium if it does not close.
import { chromium } from 'playwright-core';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../web/serve.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Deadlines in milliseconds, generous for two shared cores. */
export const DEADLINE = Object.freeze({
  server: 10_000,
  launch: 60_000,
  navigation: 60_000,
  /** One page.evaluate, waitForFunction, fill, click, ... */
  action: 120_000,
  close: 20_000,
});
/** node:test's per-test backstop: `test(name, LIMIT, fn)`; the per-wait deadlines come first. */
export const LIMIT = Object.freeze({ timeout: 10 * 60_000 });

// Flags that keep Chromium off the (closed) network and quiet.
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * `promise`, or a rejection after `ms` with an Error saying what was awaited; `onTimeout`
 * runs first (to stop what was started).
 */
export async function withDeadline(promise, ms, what, onTimeout) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(async () => {
      try {
        await onTimeout?.();
      } finally {
        reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`));
      }
    }, ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

// page.evaluate has no timeout of its own: each one gets DEADLINE.action.
const guarded = new WeakSet();
function guardEvaluate(page) {
  if (guarded.has(page)) return;
  guarded.add(page);
  const evaluate = page.evaluate.bind(page);
  page.evaluate = (fn, arg) => {
    const source = String(fn).replace(/\s+/g, ' ').slice(0, 80);
    return withDeadline(evaluate(fn, arg), DEADLINE.action, `page.evaluate(${source}) on ${page.url()}`);
  };
}

/** Kills the Chromium processes that use `profile` (our own temporary directory). */
function killChromium(profile) {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--user-data-dir=${profile}`)) {
        process.kill(Number(pid), 'SIGKILL');
      }
    } catch {
      // Gone already, or not ours to read.
    }
  }
}

/** Starts a server and a browser; returns { server, browser, baseUrl, close }. */
export async function launch({ headers = {}, root = ROOT } = {}) {
  const server = await withDeadline(startServer({ port: 0, root, headers }), DEADLINE.server, 'the static server to listen');
  const baseUrl = `http://127.0.0.1:${server.address().port}/`;
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const stop = () => {
    killChromium(profile);
    server.close();
    server.closeAllConnections?.();
    rmSync(profile, { recursive: true, force: true });
  };
  let browser;
  try {
    browser = await withDeadline(
      chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: FLAGS,
        timeout: DEADLINE.launch,
      }),
      DEADLINE.launch + 5_000,
      `Chromium (${CHROMIUM}) to start`,
    );
  } catch (e) {
    stop();
    throw e;
  }
  browser.setDefaultTimeout(DEADLINE.action);
  browser.setDefaultNavigationTimeout(DEADLINE.navigation);
  browser.pages().forEach(guardEvaluate);
  browser.on('page', guardEvaluate);
  return {
    server,
    browser,
    baseUrl,
    async close() {
      try {
        await withDeadline(browser.close(), DEADLINE.close, 'Chromium to close');
      } finally {
        stop();
      }
    },
  };
}

/** Opens the demo page and waits for the model; collects console errors and page errors. */
export async function openDemo(env, query = '') {
  const page = await env.browser.newPage();
  guardEvaluate(page);
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  // Paths the page and its workers asked for, to check what a page downloads.
  const requested = [];
  page.context().on('request', (r) => requested.push(new URL(r.url()).pathname));
  await page.goto(`${env.baseUrl}index.html${query}`);
  await page.evaluate(() => window.classifierReady);
  return { page, errors, requested };
}

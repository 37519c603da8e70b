// Shared set-up for the browser tests: a loopback server over the repo root and headless
// Debian Chromium driven by playwright-core.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../web/serve.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

// Flags that keep Chromium off the (closed) network and quiet.
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Starts a server and a browser; returns { server, browser, baseUrl, close }. */
export async function launch({ headers = {}, root = ROOT } = {}) {
  const server = await startServer({ port: 0, root, headers });
  const baseUrl = `http://127.0.0.1:${server.address().port}/`;
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  return {
    server,
    browser,
    baseUrl,
    async close() {
      await browser.close();
      server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the demo page and waits for the model; collects console errors and page errors. */
export async function openDemo(env, query = '') {
  const page = await env.browser.newPage();
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${env.baseUrl}index.html${query}`);
  await page.evaluate(() => window.classifierReady);
  return { page, errors };
}

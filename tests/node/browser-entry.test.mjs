// web/classifier.js (the browser entry) imported straight into Node: a path cannot be read
// there, and the rejection says which import reads it instead of a bare "Invalid URL".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { MODEL_DIR, ROOT } from './helpers.mjs';

const BROWSER_ENTRY = pathToFileURL(join(ROOT, 'web/classifier.js')).href;
const CHILD = { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL', cwd: ROOT };

/** The message each location's loadClassifier rejects with, from a fresh Node process. */
function rejections(locations, prelude = '') {
  const script = `
    import { loadClassifier } from ${JSON.stringify(BROWSER_ENTRY)};
    ${prelude}
    const messages = [];
    for (const location of ${JSON.stringify(locations)}) {
      messages.push(await loadClassifier(location).then(() => 'loaded', (e) => e.message));
    }
    console.log(JSON.stringify(messages));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], CHILD));
}

test("in Node, the browser entry refuses paths naming the package's node entry", () => {
  const locations = [MODEL_DIR + '/', 'models/default', pathToFileURL(MODEL_DIR).href];
  const messages = rejections(locations);
  assert.equal(messages.length, locations.length);
  for (const [i, message] of messages.entries()) {
    assert.doesNotMatch(message, /Invalid URL/, locations[i]);
    assert.ok(message.includes(`loadClassifier('${locations[i]}')`), `names the location: ${message}`);
    assert.ok(message.includes("import { loadClassifier } from 'intent-classifier'"), `names the import: ${message}`);
    assert.ok(message.includes('web/node.js'), `names the node entry: ${message}`);
  }
});

test('with no page and no Node, a relative location is refused saying it needs a base URL', () => {
  // Hides `process` after the import, as a runtime without Node would have it.
  const [message] = rejections(['models/default'], 'globalThis.process = undefined;');
  assert.doesNotMatch(message, /Invalid URL/);
  assert.match(message, /^loadClassifier\('models\/default'\): a relative location needs a page to resolve against/);
});

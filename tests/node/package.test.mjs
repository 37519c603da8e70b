// The packed package in a fresh Node app: `import { loadClassifier } from 'intent-classifier'`
// resolves to the `node` entry, the README's Node recipe (examples/node/cli.mjs) classifies
// lines from stdin, and the README's code block is that file verbatim.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEADLINE, MODEL_DIR, ROOT, requireBuilt } from './helpers.mjs';

const CLI = join(ROOT, 'examples/node/cli.mjs');
const CHILD = { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' };
let app;

before(() => {
  requireBuilt();
  app = mkdtempSync(join(tmpdir(), 'intent-node-app-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', app], { ...CHILD, cwd: join(ROOT, 'web') }),
  );
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-cli', private: true, type: 'module' }));
  // --offline: everything comes from the tarball (it has no dependencies).
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(app, packed[0].filename)], { ...CHILD, cwd: app, stdio: 'pipe' });
  cpSync(CLI, join(app, 'cli.mjs'));
  cpSync(MODEL_DIR, join(app, 'models/default'), { recursive: true });
});
after(() => app && rmSync(app, { recursive: true, force: true }));

test('the installed package imports in Node with no flags and classifies', DEADLINE, () => {
  const script = `
    import { loadClassifier, Classifier } from 'intent-classifier';
    const clf = await loadClassifier('models/default');
    console.log(JSON.stringify({ isClassifier: clf instanceof Classifier, r: clf.classify('set a timer for ten minutes') }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { ...CHILD, cwd: app }));
  assert.equal(out.isClassifier, true);
  assert.equal(out.r.intent, 'timer');
});

test('the Node recipe (examples/node/cli.mjs) classifies two lines from stdin', DEADLINE, () => {
  const out = execFileSync(process.execPath, ['cli.mjs', 'models/default/'], {
    ...CHILD,
    cwd: app,
    input: 'set a timer for ten minutes\nwhat is the meaning of life and love\n',
  });
  const lines = out.trim().split('\n').map((l) => l.split('\t'));
  assert.equal(lines.length, 2, out);
  assert.equal(lines[0][0], 'timer', out);
  assert.equal(lines[1][0], 'unknown', out);
  assert.equal(lines[1][2], 'what is the meaning of life and love');
  assert.match(lines[0][1], /^(0|1)\.\d\d$/);
});

test("the README's Node recipe is examples/node/cli.mjs verbatim", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Node.js'));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'no ```js block under "### Node.js"');
  assert.equal(block, readFileSync(CLI, 'utf8'));
});

// The packed package in a fresh Node app: `import { loadClassifier } from 'intent-classifier'`
// resolves to the `node` entry, the README's Node recipe (examples/node/cli.mjs) classifies
// lines from stdin, and the README's code block is that file verbatim. The tarball carries
// the license texts and every packed model artifact's LICENSE and NOTICE.
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
let packedFiles;

before(() => {
  requireBuilt();
  app = mkdtempSync(join(tmpdir(), 'intent-node-app-'));
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', app], { ...CHILD, cwd: join(ROOT, 'web') }),
  );
  packedFiles = packed[0].files.map((f) => f.path);
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

test('the package is MIT OR Apache-2.0 like the crates, and packs both license texts', DEADLINE, () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'web/package.json'), 'utf8'));
  assert.equal(manifest.license, 'MIT OR Apache-2.0', 'web/package.json: license');
  assert.match(readFileSync(join(ROOT, 'Cargo.toml'), 'utf8'), /^license = "MIT OR Apache-2\.0"$/m, 'Cargo.toml: license');
  const mit = readFileSync(join(ROOT, 'LICENSE-MIT'), 'utf8');
  assert.match(mit, /^MIT License\n/, 'LICENSE-MIT: first line');
  assert.match(mit, /Permission is hereby granted, free of charge/, 'LICENSE-MIT: the MIT grant');
  const apache = readFileSync(join(ROOT, 'LICENSE-APACHE'), 'utf8');
  assert.match(apache, /Apache License\s+Version 2\.0, January 2004/, 'LICENSE-APACHE: title');
  assert.match(apache, /END OF TERMS AND CONDITIONS/, 'LICENSE-APACHE: the full terms');
  for (const name of ['LICENSE-MIT', 'LICENSE-APACHE']) {
    assert.ok(packedFiles.includes(name), `the tarball lacks ${name}: ${packedFiles.join(', ')}`);
    const installed = readFileSync(join(app, 'node_modules/intent-classifier', name), 'utf8');
    assert.equal(installed, readFileSync(join(ROOT, name), 'utf8'), `the installed ${name} differs from the repository's`);
  }
});

test("the tarball carries each packed model artifact's LICENSE and NOTICE", DEADLINE, () => {
  const artifacts = new Set(packedFiles.filter((f) => f.startsWith('assets/')).map((f) => f.split('/')[1]));
  assert.ok(artifacts.has('minilm-l6-v2'), `no assets/minilm-l6-v2 in the tarball: ${packedFiles.join(', ')}`);
  for (const artifact of artifacts) {
    for (const name of ['LICENSE', 'NOTICE']) {
      const path = `assets/${artifact}/${name}`;
      assert.ok(packedFiles.includes(path), `the tarball lacks ${path}`);
      const installed = readFileSync(join(app, 'node_modules/intent-classifier', path), 'utf8');
      assert.equal(installed, readFileSync(join(ROOT, path), 'utf8'), `the installed ${path} differs from the repository's`);
    }
  }
});

// How often each model answers odd queries (keyboard mash, emoji, code, chit-chat, other
// languages: tests/data/odd-queries*.json) unknown, or with an intent the set allows, per
// category; and what the same build does to in-scope held-out queries, so a rule that
// rejects odd text can be seen not to reject more real ones.
//
//   node bench/odd-queries.mjs [--write LABEL] [MODEL_DIR ...]
//
// MODEL_DIR defaults to models/default, models/bilingual and the CLINC150 model that exists
// (models/clinc150, else the 3-epoch target/clinc150-ci). --write appends the tables, the
// machine and the command to bench/results/odd-queries.md under LABEL.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { cpus, arch, platform } from 'node:os';
import { basename, join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { loadClassifier } from '../web/node.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SETS = ['tests/data/odd-queries.json', 'tests/data/odd-queries-report.json'];
const RESULTS = join(ROOT, 'bench/results/odd-queries.md');

/** The key a probe set's `intent` and `languages` use for the model in `dir`. */
export function modelKey(dir) {
  const name = basename(dir.replace(/\/+$/, ''));
  return name.includes('clinc150') ? 'clinc150' : name;
}

/** Whether `result` is right for probe `query` under the set's rule (see the set's `about`). */
export function isRight(query, result, key, languages) {
  const allowed = [query.intent?.[key] ?? []].flat();
  const reads = (languages[key] ?? ['en']).includes(query.lang ?? 'en');
  if (reads && allowed.length > 0) return allowed.includes(result.intent);
  return !result.known || allowed.includes(result.intent);
}

/** In-scope held-out queries of a model: [{ text, intent }] known and [text] unknown. */
function heldOut(dir, key) {
  if (key === 'clinc150') {
    const data = JSON.parse(readFileSync(join(ROOT, 'examples/clinc150/data_full.json'), 'utf8'));
    return {
      name: 'CLINC150 val + oos_val',
      known: data.val.map(([text, intent]) => ({ text, intent })),
      unknown: data.oos_val.map(([text]) => text),
    };
  }
  const example = { default: 'examples/everyday', bilingual: 'examples/bilingual' }[key];
  if (!example) return null;
  const data = JSON.parse(readFileSync(join(ROOT, example, 'heldout.json'), 'utf8'));
  return { name: `${example}/heldout.json`, known: data.known, unknown: data.unknown };
}

/** A probe set: `{ about, languages, categories: { name: [{ text, lang?, intent? }] } }`. */
export function readSet(path) {
  return { path, ...JSON.parse(readFileSync(join(ROOT, path), 'utf8')) };
}

/** Per category of `set`: the queries, `clf`'s results and which are right for model `key`. */
export function score(clf, set, key) {
  return Object.entries(set.categories).map(([category, queries]) => {
    const results = clf.classifyBatch(queries.map((q) => q.text));
    return { category, queries, results, right: results.map((r, j) => isRight(queries[j], r, key, set.languages)) };
  });
}

const pct = (a, n) => (n === 0 ? '-' : `${((100 * a) / n).toFixed(1)}%`);

async function main() {
  const args = process.argv.slice(2);
  let label = null;
  const writeAt = args.indexOf('--write');
  if (writeAt >= 0) {
    label = args[writeAt + 1];
    if (!label) throw new Error('--write needs a label, e.g. --write before');
    args.splice(writeAt, 2);
  }
  const clinc = ['models/clinc150', 'target/clinc150-ci'].find((d) => existsSync(join(ROOT, d, 'model.safetensors')));
  const dirs = args.length > 0 ? args : ['models/default', 'models/bilingual', ...(clinc ? [clinc] : [])];
  const sets = SETS.map(readSet);
  const lines = [];
  const out = (s = '') => {
    lines.push(s);
    console.log(s);
  };

  for (const dir of dirs) {
    const key = modelKey(dir);
    const clf = await loadClassifier(join(ROOT, dir));
    try {
      out(`### \`${dir}\` (threshold ${clf.info().modelThreshold.toFixed(3)})`);
      out();
      out(`| category | ${sets.map((s) => `${basename(s.path)}: right | of which unreadable | unfamiliar`).join(' | ')} |`);
      out(`|---|${sets.map(() => '---|---|---|').join('')}`);
      const rows = new Map();
      const totals = sets.map(() => ({ right: 0, unreadable: 0, unfamiliar: 0, n: 0 }));
      sets.forEach((set, i) => {
        for (const { category, queries, results, right } of score(clf, set, key)) {
          const cell = { right: 0, unreadable: 0, unfamiliar: 0, n: queries.length };
          queries.forEach((q, j) => {
            if (right[j]) cell.right += 1;
            if (results[j].reason === 'unreadable') cell.unreadable += 1;
            if (results[j].reason === 'unfamiliar') cell.unfamiliar += 1;
          });
          if (!rows.has(category)) rows.set(category, sets.map(() => null));
          rows.get(category)[i] = cell;
          totals[i].right += cell.right;
          totals[i].unreadable += cell.unreadable;
          totals[i].unfamiliar += cell.unfamiliar;
          totals[i].n += cell.n;
        }
      });
      const cells = (c) => (c ? `${pct(c.right, c.n)} (${c.right}/${c.n}) | ${c.unreadable} | ${c.unfamiliar}` : '- | - | -');
      for (const [category, row] of rows) out(`| ${category} | ${row.map(cells).join(' | ')} |`);
      out(`| **all** | ${totals.map(cells).join(' | ')} |`);
      out();
      const held = heldOut(dir, key);
      if (held) {
        const known = clf.classifyBatch(held.known.map((q) => q.text));
        const unknown = clf.classifyBatch(held.unknown);
        const accepted = known.filter((r) => r.known).length;
        const correct = known.filter((r, j) => r.intent === held.known[j].intent).length;
        const rejected = unknown.filter((r) => !r.known).length;
        const unreadable = known.filter((r) => r.reason === 'unreadable').length;
        const unfamiliar = known.filter((r) => r.reason === 'unfamiliar').length;
        out(
          `In scope, ${held.name}: ${pct(accepted, known.length)} of ${known.length} known queries accepted, ` +
            `${pct(correct, known.length)} accepted and correct, ${unreadable} called unreadable, ${unfamiliar} unfamiliar; ` +
            `${pct(rejected, unknown.length)} of ${unknown.length} out-of-scope queries unknown.`,
        );
        out();
      }
    } finally {
      clf.dispose();
    }
  }

  if (label) {
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
    const command = ['node bench/odd-queries.mjs', ...args].join(' ');
    const header = [
      `## ${label}: ${when} UTC, commit ${commit}`,
      '',
      `\`${command}\` on ${platform()} ${arch()}, ${cpus().length} cores (${cpu}), Node.js ${process.versions.node}.`,
      '"right": answered unknown, or with an intent the set allows for that model; "unreadable": answered unknown because most of the text is unknown tokens; "unfamiliar": because it shows nothing the model knows (crates/model/src/familiar.rs).',
      '',
    ];
    appendFileSync(RESULTS, [...header, ...lines, ''].join('\n'));
    console.error(`appended to ${RESULTS}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

// The HTTP recipe (examples/node/server.mjs) under load: CLIENTS keep-alive clients
// (default 50) POST the queries of tests/node/http-load.mjs to 127.0.0.1 for DURATION_S
// (default 20) after a 4 s warm-up; appends requests/s, p50/p99 latency and the server's
// RSS before and after to bench/results/node.md. Needs web/pkg and models/default.
//
//   node bench/node-server.mjs
import { execSync } from 'node:child_process';
import { appendFileSync, existsSync, rmSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { ROOT, requireBuilt } from '../tests/node/helpers.mjs';
import { QUERIES, installApp, medianRssKiB, runLoad, sameAnswerCheck, startServer } from '../tests/node/http-load.mjs';

const CLIENTS = Number(process.env.CLIENTS ?? 50);
const DURATION_S = Number(process.env.DURATION_S ?? 20);
for (const [name, value] of [['CLIENTS', CLIENTS], ['DURATION_S', DURATION_S]]) {
  if (!(Number.isInteger(value) && value >= 1)) throw new Error(`${name}: must be a positive integer, got ${process.env[name]}`);
}
const RESULTS = join(ROOT, 'bench/results/node.md');

requireBuilt();
const app = installApp();
let server;
try {
  server = await startServer(app);
  const check = await sameAnswerCheck(server.url);
  const load1 = loadavg()[0];
  await runLoad({ url: server.url, clients: CLIENTS, seconds: 4, check });
  const before = await medianRssKiB(server.child.pid);
  const r = await runLoad({ url: server.url, clients: CLIENTS, seconds: DURATION_S, check });
  const after = await medianRssKiB(server.child.pid);
  if (r.failed) throw new Error(`${r.failed} of ${r.requests} requests failed:\n${r.failures.join('\n')}`);

  const mib = (/** @type {number} */ kib) => (kib / 1024).toFixed(1);
  const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  const report = [
    ...(existsSync(RESULTS) ? [] : [
      '# The Node HTTP recipe under load',
      '',
      'examples/node/server.mjs (one classifier, `POST /classify`) in an app with the packed',
      'package; keep-alive clients in one Node process on the same machine POST `{"text": …}`',
      `to 127.0.0.1, each query the next of ${QUERIES.length} fixed ones (tests/node/http-load.mjs), every`,
      'response checked byte for byte against that query\'s first answer. Clients and server',
      'share the cores. RSS: the server process\'s VmRSS, median of 7 readings, after a 4 s',
      'warm-up and after the run. tests/node/server.test.mjs asserts no failed request and',
      'RSS growth under 5% on the same load; the figures here are not asserted.',
      '',
    ]),
    `## ${new Date().toISOString().slice(0, 10)} · commit ${commit} · models/default/`,
    '',
    `Command: \`CLIENTS=${CLIENTS} DURATION_S=${DURATION_S} node bench/node-server.mjs\`  `,
    `Machine: ${cpus()[0].model}, ${cpus().length} cores (nproc ${execSync('nproc').toString().trim()}), ` +
      `Linux ${release()}; Node.js ${process.version}; load average ${load1.toFixed(2)} at the start`,
    '',
    '| clients | seconds | requests | failed | requests/s | p50 | p99 | server RSS before | after |',
    '|---|---|---|---|---|---|---|---|---|',
    `| ${CLIENTS} | ${r.seconds.toFixed(1)} | ${r.requests} | ${r.failed} | ${r.perSecond.toFixed(0)} | ` +
      `${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${mib(before)} MiB | ${mib(after)} MiB |`,
    '',
  ].join('\n');
  appendFileSync(RESULTS, report);
  console.log(report);
} finally {
  server?.child.kill('SIGKILL');
  rmSync(app, { recursive: true, force: true });
}

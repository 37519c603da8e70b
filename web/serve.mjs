// A small static file server for the demo and the browser tests: correct MIME types for
// wasm and safetensors, loopback only, optional extra headers (e.g. a CSP) for tests.
// Precompressed siblings (FILE.br, FILE.gz from web/precompress.mjs) are sent with
// Content-Encoding when the client accepts them and they are not older than FILE.
//   node web/serve.mjs [--port 8080] [--root .] [--csp] [--header "Name: value"]...
//                      [--stand-in DIR=OTHER] [--building DIR,DIR]
// --csp sends the strict policy the demo is tested under (no inline script, no eval).
// While `./build.sh serve` still builds some wasm modules: --stand-in sends OTHER/FILE for a
// DIR/FILE that is not there yet (a build of the same module with other target features), and
// --building answers 503 for a file under DIR that is not there yet, saying so.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, relative, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** The strictest policy the demo works under: wasm compiles, nothing inline, no eval. */
export const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";

// Preferred first: brotli is smaller than gzip on every bundle file.
const ENCODINGS = [['br', '.br'], ['gzip', '.gz']];

/** The precompressed sibling of `file` to send, as { name, file }, or null. */
async function precompressed(file, info, acceptEncoding) {
  const accepted = new Set(acceptEncoding.split(',').map((e) => e.split(';')[0].trim()));
  for (const [name, suffix] of ENCODINGS) {
    if (!accepted.has(name)) continue;
    try {
      const sibling = await stat(file + suffix);
      if (sibling.mtimeMs >= info.mtimeMs) return { name, file: file + suffix };
    } catch {
      // no such sibling
    }
  }
  return null;
}

/** `path` (relative to the root, no leading slash) under `dir`: the rest of it, else null. */
function under(dir, path) {
  return path.startsWith(`${dir}/`) ? path.slice(dir.length + 1) : null;
}

/**
 * The file to send for `path` while modules are still being built: a stand-in's, or a
 * 503 error when the module is being built and has none.
 */
async function pendingFile(base, path, standIns, building) {
  for (const [dir, other] of standIns) {
    const rest = under(dir, path);
    if (rest !== null) return join(base, other, rest); // `path` is normalized: no `..` in `rest`
  }
  if (building.some((dir) => under(dir, path) !== null)) {
    throw Object.assign(new Error(`/${path} is still being built by ./build.sh serve: reload in a minute`), { status: 503 });
  }
  return null;
}

export function startServer({ port = 8080, root = '.', headers = {}, standIns = [], building = [] } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
      let file = normalize(join(base, path));
      if (!file.startsWith(base)) throw Object.assign(new Error('outside root'), { code: 'ENOENT' });
      let info = await stat(file).catch(async (e) => {
        const pending = e.code === 'ENOENT' && (await pendingFile(base, relative(base, file).split(sep).join('/'), standIns, building));
        if (!pending) throw e;
        file = pending;
        return stat(file);
      });
      if (info.isDirectory()) {
        file = join(file, 'index.html');
        info = await stat(file);
      }
      const encoding = await precompressed(file, info, req.headers['accept-encoding'] ?? '');
      // A validator, so a revalidating client (no-cache) gets 304 and no body.
      const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}${encoding ? `-${encoding.name}` : ''}"`;
      const common = { 'Cache-Control': 'no-cache', ETag: etag, Vary: 'Accept-Encoding', ...headers };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, common);
        res.end();
        return;
      }
      const body = await readFile(encoding ? encoding.file : file);
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        ...(encoding && { 'Content-Encoding': encoding.name }),
        ...common,
      });
      res.end(body);
    } catch (e) {
      if (e.status === 503) {
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '60', ...headers });
        res.end(e.message);
        return;
      }
      res.writeHead(e.code === 'ENOENT' ? 404 : 500, { 'Content-Type': 'text/html', ...headers });
      res.end(`<!doctype html><title>Not found</title><h1>${e.code === 'ENOENT' ? 404 : 500}</h1>`);
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const headers = {};
  args.forEach((a, i) => {
    if (a === '--header') {
      const [k, ...v] = args[i + 1].split(':');
      headers[k.trim()] = v.join(':').trim();
    }
  });
  if (args.includes('--csp')) headers['Content-Security-Policy'] = STRICT_CSP;
  const port = Number(opt('--port', 8080));
  const standIns = args.flatMap((a, i) => (a === '--stand-in' ? [args[i + 1].split('=')] : []));
  const building = (opt('--building', '') || '').split(',').filter(Boolean);
  await startServer({ port, root: opt('--root', '.'), headers, standIns, building });
  console.log(`serving http://127.0.0.1:${port}/`);
}

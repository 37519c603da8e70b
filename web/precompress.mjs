// Writes FILE.br (brotli, quality 11) and FILE.gz (gzip -9) beside each file given, or beside
// every bundle and wasm file under each directory given, so web/serve.mjs (or any static
// server configured for it) sends them with Content-Encoding. Skips up-to-date siblings.
//   node web/precompress.mjs web/pkg web/pkg-relaxed models/default
import { readdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const COMPRESSIBLE = /\.(wasm|js|json|safetensors|css|svg|html)$/;
const FORMATS = [
  ['.br', (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: b.length } })],
  ['.gz', (b) => gzipSync(b, { level: 9 })],
];

function filesOf(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).map((n) => join(path, n)).filter((p) => statSync(p).isFile() && COMPRESSIBLE.test(p));
}

for (const file of process.argv.slice(2).flatMap(filesOf)) {
  const mtime = statSync(file).mtimeMs;
  let body;
  for (const [suffix, compress] of FORMATS) {
    const out = file + suffix;
    try {
      if (statSync(out).mtimeMs >= mtime) continue;
    } catch {
      // not there yet
    }
    body ??= readFileSync(file);
    // Written aside and renamed, so a server never sends half a file.
    writeFileSync(`${out}.tmp`, compress(body));
    renameSync(`${out}.tmp`, out);
  }
}

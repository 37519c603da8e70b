// Runs before `npm pack` / `npm publish` (the `prepack` script): npm packs only files inside
// web/, so the repository's license texts and the model artifacts' LICENSE and NOTICE are
// copied in here first. Each destination must also be listed in package.json `files`.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// [source relative to the repository root, destination relative to web/]
const COPIES = [
  ['LICENSE-MIT', 'LICENSE-MIT'],
  ['LICENSE-APACHE', 'LICENSE-APACHE'],
  ['assets/minilm-l6-v2/LICENSE', 'assets/minilm-l6-v2/LICENSE'],
  ['assets/minilm-l6-v2/NOTICE', 'assets/minilm-l6-v2/NOTICE'],
  // trainClassifier's default table (DEFAULT_TABLE in trainer.js).
  ['assets/minilm-l6-v2/table.safetensors', 'assets/minilm-l6-v2/table.safetensors'],
  ['assets/minilm-l6-v2/tokenizer.json', 'assets/minilm-l6-v2/tokenizer.json'],
];

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = join(WEB, '..');

for (const [source, destination] of COPIES) {
  const from = join(ROOT, source);
  // A package without its license files must not be packed.
  if (!existsSync(from)) throw new Error(`web/scripts/prepack.mjs: ${source} is missing; it is copied into the package as ${destination}`);
  const to = join(WEB, destination);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

// Shared set-up for the Node tests: repo paths and what must be built first.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MODEL_DIR = join(ROOT, 'models/default');
/** Every test's deadline: a hung load, worker or server fails the test instead. */
export const DEADLINE = { timeout: 120_000 };

export function requireBuilt() {
  assert.ok(existsSync(join(ROOT, 'web/pkg/intent_web_bg.wasm')), 'run ./build.sh wasm first (web/pkg is missing)');
  assert.ok(existsSync(join(MODEL_DIR, 'model.safetensors')), 'train models/default first (./build.sh train)');
}

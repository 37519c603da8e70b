// The bundle's format as a page needs it before any wasm loads: its file names, the model
// kinds (by the `format` their model.safetensors names: their files, hashes, wasm build and
// constructor) and the safetensors header that names them. The names come from facts.js,
// which crates/trainer/tests/js_facts.rs generates from the Rust constants.

import { BUNDLE_FILES, ENCODER_FORMAT, TEXTCNN_FORMAT } from './facts.js';

export { BUNDLE_FILES, ENCODER_FORMAT, TEXTCNN_FORMAT };

// Every kind's model file keeps its metadata in flat keys; a version-2 sentence-encoder file
// kept it as one JSON value under `meta`.
function flatMeta(meta) {
  if (meta?.format_version !== undefined || meta?.meta === undefined) return meta ?? {};
  try {
    return JSON.parse(meta.meta) ?? {};
  } catch {
    return {}; // The wasm loader names the problem.
  }
}

/**
 * Each model kind, by the `format` its model.safetensors names: the files it loads beside
 * the model (roles of BUNDLE_FILES), the sha256 the model records for each, the wasm build
 * that runs it (for a TextCNN, the kernel's), and how that build's classifier is made. A new
 * kind is one entry here and its glue in useGlue (classifier.js, worker.js).
 */
const KINDS = {
  [TEXTCNN_FORMAT]: {
    roles: ['table', 'tokenizer'],
    hashes: (meta) => ({ table: meta?.table_sha256, tokenizer: meta?.tokenizer_sha256 }),
    build: (kernel) => kernel,
    create: (wasm, files) => new wasm.IntentClassifier(files.model, files.table, files.tokenizer),
  },
  [ENCODER_FORMAT]: {
    roles: ['encoder', 'tokenizer'],
    hashes: (meta) => {
      const recorded = flatMeta(meta);
      return { encoder: recorded.encoder_sha256, tokenizer: recorded.tokenizer_sha256 };
    },
    build: () => 'encoder',
    create: (wasm, files) => new wasm.EncoderIntentClassifier(files.model, files.encoder, files.tokenizer),
  },
};

/** The kind a model file's metadata names; the TextCNN's, whose loader names what is wrong, for any other. */
export function kindOf(meta) {
  return KINDS[meta?.format] ?? KINDS[TEXTCNN_FORMAT];
}

/**
 * What the model file's metadata says of its bundle: the files besides the model ('table'
 * or 'encoder', and 'tokenizer') and the sha256 it records for each.
 */
export function bundleLayout(meta) {
  const kind = kindOf(meta);
  return { roles: kind.roles, hashes: kind.hashes(meta) };
}

/**
 * The `__metadata__` of a safetensors file, or null when the bytes are not one (the wasm
 * loader then reports the real problem, naming the file).
 */
export function safetensorsMetadata(bytes) {
  try {
    if (bytes.length < 8) return null;
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    if (n > bytes.length - 8) return null;
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    return header.__metadata__ ?? null;
  } catch {
    return null;
  }
}

// The files every kind loads besides the model: asked for before the model names the kind.
export const SHARED_ROLES = Object.values(KINDS)
  .map((kind) => kind.roles)
  .reduce((shared, roles) => shared.filter((role) => roles.includes(role)));
